//! `madoguchi backup` and `madoguchi restore` (procedures: `docs/operations.md`).
//!
//! A backup is a directory:
//!
//! ```text
//! <dir>/madoguchi.db     SQLite only: a consistent snapshot taken with VACUUM INTO
//! <dir>/blobs/ab/cdef…   every attachment blob the database refers to, hash-checked
//! <dir>/MANIFEST.json    written last: a backup without it is incomplete
//! ```
//!
//! On SQLite the database snapshot is taken first and the blob list is read *from the
//! snapshot*; blobs are written (and fsynced) before the transaction that refers to them
//! commits and are never deleted, so every blob the snapshot refers to exists when it is
//! copied, even while the server keeps running. On PostgreSQL the database is backed up with
//! its own tools first (`pg_basebackup` or `pg_dump`), then `--blobs-only` copies the blobs,
//! which by the same argument covers everything the dump refers to.
//!
//! A restore checks the whole backup before it touches anything, moves a non-empty data
//! directory aside only with `--force`, copies, then opens the restored database, verifies
//! the audit chain and checks that every referenced blob is present and intact.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail, ensure};
use madoguchi_core::App;
use madoguchi_core::blobs::BlobStore;
use madoguchi_core::clock::SystemClock;
use madoguchi_db::{Backend, Db};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// Version tag of the backup layout and manifest.
pub const FORMAT: &str = "madoguchi-backup/1";
pub const MANIFEST_FILE: &str = "MANIFEST.json";
pub const DATABASE_FILE: &str = "madoguchi.db";
pub const BLOBS_DIR: &str = "blobs";

/// At most this many individual problems are listed in an error message.
const MAX_LISTED: usize = 20;

/// Printed by `madoguchi backup` on a PostgreSQL install (and documented in
/// `docs/operations.md`).
pub const POSTGRES_PROCEDURE: &str = "\
This installation uses PostgreSQL. Madoguchi does not copy a PostgreSQL database itself;
back it up with PostgreSQL's own tools, then copy the attachment blobs with madoguchi:

  1. The database, either
       physical (whole cluster, point-in-time capable):
         pg_basebackup -h HOST -U REPLICATION_USER -D /backups/2026-05-01/pg -Ft -z -X stream -P
     or logical (this database only):
         pg_dump -h HOST -U USER -d madoguchi -Fc -f /backups/2026-05-01/madoguchi.dump
  2. AFTER step 1 has finished, the attachment blobs and a manifest:
         madoguchi --database-url postgres://… --data-dir DATA_DIR backup --blobs-only /backups/2026-05-01/files

Order matters: blobs are never deleted and are stored before the rows that refer to them
commit, so a blob copy taken after the database backup holds every file that backup refers
to. See docs/operations.md for restoring (pg_restore / base backup, then madoguchi restore).";

/// `MANIFEST.json`: what a backup holds and the hashes to check it against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// Version of the madoguchi binary that wrote the backup.
    pub madoguchi_version: String,
    /// When the backup was taken, RFC 3339, UTC.
    pub created_at: String,
    /// Backend of the installation that was backed up: `sqlite` or `postgres`.
    pub backend: String,
    /// Which parts this directory holds.
    pub includes: Includes,
    /// The database file (None when `includes.database` is false).
    pub database: Option<DatabasePart>,
    /// The audit chain's head in the backed-up state (SQLite: in the snapshot; blobs-only:
    /// when the blob list was read).
    pub audit_head: AuditHead,
    pub blobs: BlobsPart,
    /// Remarks for the operator (e.g. where the database of a blobs-only backup comes from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Includes {
    pub database: bool,
    pub blobs: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabasePart {
    /// File name inside the backup directory ([`DATABASE_FILE`]).
    pub file: String,
    /// How it was taken (`sqlite-vacuum-into`).
    pub method: String,
    pub bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobsPart {
    /// Directory inside the backup ([`BLOBS_DIR`]), laid out like the data directory's.
    pub dir: String,
    pub count: u64,
    pub bytes: u64,
    /// SHA-256 over the sorted blob hashes, each followed by `\n`: pins the exact set.
    pub list_sha256: String,
}

// ---------------------------------------------------------------------------------------
// backup

/// `madoguchi backup <out> [--blobs-only]`.
pub async fn backup(config: &Config, out: &Path, blobs_only: bool) -> anyhow::Result<ExitCode> {
    let url = config.database_url();
    let backend = backend_of(&url)?;
    if backend == Backend::Postgres && !blobs_only {
        eprintln!("{POSTGRES_PROCEDURE}");
        return Ok(ExitCode::from(2));
    }
    if backend == Backend::Sqlite {
        let file = madoguchi_db::backup::sqlite_file(&url)?;
        ensure!(
            file.is_file(),
            "no SQLite database at {}: nothing to back up (check --data-dir / --database-url)",
            file.display()
        );
    }
    prepare_empty_dir(out)?;

    let (database, head, hashes) = if blobs_only {
        let db = Db::connect(&url).await?;
        let state = read_state(&db).await;
        db.close().await;
        let (head, hashes) = state?;
        (None, head, hashes)
    } else {
        let target = out.join(DATABASE_FILE);
        let db = Db::connect(&url).await?;
        let r = madoguchi_db::backup::sqlite_vacuum_into(&db, &target).await;
        db.close().await;
        r.context("SQLite online backup (VACUUM INTO) failed")?;
        blocking({
            let target = target.clone();
            move || File::open(&target).and_then(|f| f.sync_all())
        })
        .await?
        .context("syncing the database copy")?;
        // The blob list and audit head come from the snapshot itself, so they match it.
        let snap = madoguchi_db::backup::open_sqlite_snapshot(&target).await?;
        let state = read_state(&snap).await;
        snap.close().await;
        let (head, hashes) = state?;
        let (sha256, bytes) = blocking({
            let target = target.clone();
            move || hash_file(&target)
        })
        .await?
        .context("hashing the database copy")?;
        let part = DatabasePart {
            file: DATABASE_FILE.into(),
            method: "sqlite-vacuum-into".into(),
            bytes,
            sha256,
        };
        (Some(part), head, hashes)
    };

    let src = BlobStore::new(config.data_dir.join(BLOBS_DIR));
    let dest = BlobStore::new(out.join(BLOBS_DIR));
    let n = hashes.len();
    let blobs = blocking(move || copy_blobs(&src, &dest, &hashes))
        .await?
        .map_err(|problems| {
            anyhow!(
                "{} of {n} attachment blobs referenced by the database could not be backed up; \
                 the backup in {} is INCOMPLETE (no {MANIFEST_FILE} was written):\n{}",
                problems.len(),
                out.display(),
                list(&problems)
            )
        })?;

    let mut notes = Vec::new();
    if database.is_none() {
        notes.push(match backend {
            Backend::Postgres => "database not included: it is backed up with pg_basebackup or \
                                  pg_dump, taken before this blob copy (docs/operations.md)"
                .to_string(),
            Backend::Sqlite => "database not included (--blobs-only)".to_string(),
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        madoguchi_version: env!("CARGO_PKG_VERSION").into(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        backend: backend_name(backend).into(),
        includes: Includes {
            database: database.is_some(),
            blobs: true,
        },
        database,
        audit_head: head,
        blobs,
        notes,
    };
    write_manifest(out, &manifest)?;

    println!("backup written to {}", out.display());
    match &manifest.database {
        Some(d) => println!(
            "  database   {} ({} bytes, sha256 {}), consistent snapshot (VACUUM INTO)",
            d.file, d.bytes, d.sha256
        ),
        None => println!("  database   NOT included ({})", manifest.notes.join("; ")),
    }
    println!(
        "  audit head seq {} (hash {})",
        manifest.audit_head.seq, manifest.audit_head.hash
    );
    println!(
        "  blobs      {} files, {} bytes, every SHA-256 verified",
        manifest.blobs.count, manifest.blobs.bytes
    );
    println!("  manifest   {MANIFEST_FILE}");
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------
// restore

/// `madoguchi restore <from> [--force]`.
pub async fn restore(config: &Config, from: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let manifest = read_manifest(from)?;
    let url = config.database_url();
    let backend = backend_of(&url)?;
    let db_target = match backend {
        Backend::Sqlite => {
            ensure!(
                manifest.database.is_some(),
                "this backup holds no database (includes.database = false, taken from {}); a \
                 SQLite installation cannot be restored from it",
                manifest.backend
            );
            Some(madoguchi_db::backup::sqlite_file(&url)?)
        }
        Backend::Postgres => {
            if manifest.database.is_some() {
                println!(
                    "note: this backup holds a SQLite database; with a PostgreSQL URL only the \
                     attachment blobs are restored"
                );
            }
            println!(
                "note: PostgreSQL: restoring attachment blobs only; the database itself must \
                 already be restored (pg_restore or the base backup, docs/operations.md)"
            );
            None
        }
    };
    println!(
        "checking backup {} (taken {} by madoguchi {}, {})",
        from.display(),
        manifest.created_at,
        manifest.madoguchi_version,
        manifest.backend
    );

    // 1. Check the whole backup before touching the installation.
    let mut referenced = Vec::new();
    if let (Some(part), Some(_)) = (&manifest.database, &db_target) {
        let file = from.join(DATABASE_FILE);
        let (sha256, bytes) = blocking({
            let file = file.clone();
            move || hash_file(&file)
        })
        .await?
        .with_context(|| format!("reading the backup's database file {}", file.display()))?;
        ensure!(
            sha256 == part.sha256 && bytes == part.bytes,
            "the backup's database file {} does not match {MANIFEST_FILE}: sha256 {sha256} \
             ({bytes} bytes), expected {} ({} bytes). The backup is damaged or was altered; \
             nothing was restored",
            file.display(),
            part.sha256,
            part.bytes
        );
        let snap = madoguchi_db::backup::open_sqlite_snapshot(&file).await?;
        let state = read_state(&snap).await;
        snap.close().await;
        let (head, hashes) = state.context("reading the backup's database")?;
        ensure!(
            head == manifest.audit_head,
            "the backup's database has audit head seq {} ({}), {MANIFEST_FILE} says seq {} ({}); \
             nothing was restored",
            head.seq,
            head.hash,
            manifest.audit_head.seq,
            manifest.audit_head.hash
        );
        referenced = hashes;
    }
    let backup_blobs = from.join(BLOBS_DIR);
    let expected = manifest.blobs.clone();
    let found = blocking({
        let root = backup_blobs.clone();
        move || check_backup_blobs(&root, &expected)
    })
    .await?
    .map_err(|problems| {
        anyhow!(
            "the backup's blobs in {} are damaged; nothing was restored:\n{}",
            backup_blobs.display(),
            list(&problems)
        )
    })?;
    let absent: Vec<String> = referenced
        .iter()
        .filter(|h| !found.contains(*h))
        .map(|h| format!("blob {h}: referenced by the backup's database but not in the backup"))
        .collect();
    ensure!(
        absent.is_empty(),
        "the backup is incomplete; nothing was restored:\n{}",
        list(&absent)
    );
    println!(
        "  backup OK: {}{} blobs verified",
        if db_target.is_some() {
            "database hash, "
        } else {
            ""
        },
        found.len()
    );

    // 2. Make room: refuse, or with --force move the old data aside.
    let moved = make_room(&config.data_dir, db_target.as_deref(), from, force)?;
    for (old, aside) in &moved {
        println!("  moved {} aside to {}", old.display(), aside.display());
    }

    // 3. Copy into place, checking every hash again on the way.
    fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let src = BlobStore::new(backup_blobs);
    let dest = BlobStore::new(config.data_dir.join(BLOBS_DIR));
    let all: Vec<String> = found.iter().cloned().collect();
    blocking(move || copy_blobs(&src, &dest, &all))
        .await?
        .map_err(|problems| {
            anyhow!(
                "copying the blobs failed; the restore is INCOMPLETE:\n{}",
                list(&problems)
            )
        })?;
    if let (Some(part), Some(target)) = (&manifest.database, &db_target) {
        let from_file = from.join(DATABASE_FILE);
        let target = target.clone();
        let sha = part.sha256.clone();
        blocking(move || {
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            copy_verified(&from_file, &target, &sha).map(|_| ())
        })
        .await?
        .map_err(|e| anyhow!("copying the database failed; the restore is INCOMPLETE: {e}"))?;
    }
    println!(
        "  copied {}{} blobs into {}",
        if db_target.is_some() {
            "the database and "
        } else {
            ""
        },
        found.len(),
        config.data_dir.display()
    );

    // 4. Open what was restored and check it as the server would serve it.
    match verify_installed(config, &url, &manifest, db_target.is_some()).await {
        Ok(summary) => {
            println!(
                "restore OK: audit chain verified ({} events, head seq {}), {} referenced \
                 attachment blobs present and intact",
                summary.events, summary.head.seq, summary.blobs
            );
            for w in summary.warnings {
                println!("  warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let kept = moved
                .iter()
                .map(|(_, a)| a.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let kept = if kept.is_empty() {
                String::new()
            } else {
                format!(" The previous data is kept at {kept}.")
            };
            Err(e.context(format!(
                "RESTORE FAILED VERIFICATION: the restored data in {} must not be served.{kept}",
                config.data_dir.display()
            )))
        }
    }
}

struct Verified {
    events: i64,
    head: AuditHead,
    blobs: usize,
    warnings: Vec<String>,
}

/// Opens the restored installation, verifies the audit chain and every referenced blob.
async fn verify_installed(
    config: &Config,
    url: &str,
    manifest: &Manifest,
    database_restored: bool,
) -> anyhow::Result<Verified> {
    let db = Db::connect(url).await?;
    let r = verify_open(config, &db, manifest, database_restored).await;
    db.close().await;
    r
}

async fn verify_open(
    config: &Config,
    db: &Db,
    manifest: &Manifest,
    database_restored: bool,
) -> anyhow::Result<Verified> {
    let app = App::new(db.clone(), config.core(), Arc::new(SystemClock))?;
    let events = madoguchi_core::audit::verify(&app)
        .await
        .map_err(|e| anyhow!("AUDIT CHAIN BROKEN in the restored database: {e}"))?;
    let (head, hashes) = read_state(db).await?;
    let mut warnings = Vec::new();
    let m = &manifest.audit_head;
    if database_restored {
        ensure!(
            head == *m,
            "the restored database's audit head is seq {} ({}), the backup's was seq {} ({})",
            head.seq,
            head.hash,
            m.seq,
            m.hash
        );
    } else if head.seq >= m.seq && m.seq > 0 {
        // The database (restored by PostgreSQL's tools) must share the blob backup's history.
        let mut tx = db.begin_read().await?;
        let row = madoguchi_db::audit::page(&mut tx, m.seq - 1, 1).await?;
        tx.commit().await?;
        let at = row.first().map(|r| r.hash.as_str()).unwrap_or("(missing)");
        ensure!(
            at == m.hash,
            "the database and the blob backup come from different histories: audit event {} is \
             {at} in the database, {} in {MANIFEST_FILE}",
            m.seq,
            m.hash
        );
        if head.seq > m.seq {
            warnings.push(format!(
                "the database is {} audit events newer than the blob backup (expected the \
                 database backup to be taken first)",
                head.seq - m.seq
            ));
        }
    } else if head.seq < m.seq {
        warnings.push(format!(
            "the database (audit head seq {}) is older than the blob backup (seq {}), as \
             expected when the database backup was taken first",
            head.seq, m.seq
        ));
    }
    let store = app.blobs.clone();
    let n = hashes.len();
    let problems = blocking(move || {
        let mut problems = Vec::new();
        for h in &hashes {
            if let Err(p) = check_blob(&store, h) {
                problems.push(p);
            }
        }
        problems
    })
    .await?;
    ensure!(
        problems.is_empty(),
        "{} of {n} attachment blobs referenced by the restored database are missing or \
         corrupted:\n{}",
        problems.len(),
        list(&problems)
    );
    Ok(Verified {
        events,
        head,
        blobs: n,
        warnings,
    })
}

/// Moves what a restore would overwrite aside (`--force`) or refuses. Everything is checked
/// before anything is moved. Returns (old path, new path) pairs.
fn make_room(
    data_dir: &Path,
    db_file: Option<&Path>,
    from: &Path,
    force: bool,
) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let from_abs =
        fs::canonicalize(from).with_context(|| format!("backup directory {}", from.display()))?;
    let data_abs = fs::canonicalize(data_dir).ok();
    if let Some(d) = &data_abs {
        ensure!(
            !from_abs.starts_with(d),
            "the backup {} lies inside the data directory {}; copy it elsewhere first",
            from.display(),
            data_dir.display()
        );
    }
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut to_move = Vec::new();
    if data_abs.is_some() && !dir_is_empty(data_dir)? {
        to_move.push(data_dir.to_path_buf());
    }
    if let Some(db) = db_file {
        let inside = match (
            &data_abs,
            db.parent().and_then(|p| fs::canonicalize(p).ok()),
        ) {
            (Some(d), Some(p)) => p.starts_with(d),
            _ => false,
        };
        if !inside {
            for suffix in ["", "-wal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", db.display()));
                if p.exists() {
                    to_move.push(p);
                }
            }
        }
    }
    if to_move.is_empty() {
        return Ok(Vec::new());
    }
    let mut plan = Vec::new();
    for old in to_move {
        let name = old
            .file_name()
            .ok_or_else(|| anyhow!("cannot move {} aside: no file name", old.display()))?;
        let aside = old.with_file_name(format!("{}.before-restore-{ts}", name.to_string_lossy()));
        ensure!(
            !aside.exists(),
            "cannot move {} aside: {} already exists",
            old.display(),
            aside.display()
        );
        plan.push((old, aside));
    }
    if !force {
        bail!(
            "refusing to overwrite existing data: {} not empty. Nothing was changed. Pass \
             --force to move the old data aside ({}) and restore",
            plan.iter()
                .map(|(old, _)| old.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
                + if plan.len() == 1 { " is" } else { " are" },
            plan.iter()
                .map(|(old, aside)| format!("{} → {}", old.display(), aside.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for (old, aside) in &plan {
        fs::rename(old, aside)
            .with_context(|| format!("moving {} aside to {}", old.display(), aside.display()))?;
    }
    Ok(plan)
}

// ---------------------------------------------------------------------------------------
// shared steps

fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        bail!("unsupported database URL (use sqlite:// or postgres://)")
    }
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// The audit head and every referenced blob hash, read in one consistent transaction.
async fn read_state(db: &Db) -> anyhow::Result<(AuditHead, Vec<String>)> {
    let mut tx = db.begin_read().await?;
    let (seq, hash) = madoguchi_db::audit::head(&mut tx).await?;
    let hashes = madoguchi_db::attachments::all_hashes(&mut tx).await?;
    tx.commit().await?;
    Ok((AuditHead { seq, hash }, hashes))
}

/// Runs blocking file work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow!("file worker failed: {e}"))
}

fn prepare_empty_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        ensure!(
            dir.is_dir(),
            "{} exists and is not a directory",
            dir.display()
        );
        ensure!(
            dir_is_empty(dir)?,
            "backup target {} is not empty; back up into a new or empty directory",
            dir.display()
        );
    } else {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

fn dir_is_empty(dir: &Path) -> anyhow::Result<bool> {
    Ok(fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .next()
        .is_none())
}

fn write_manifest(dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{MANIFEST_FILE}.partial"));
    let mut f = File::create(&tmp)?;
    f.write_all(serde_json::to_string_pretty(m)?.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(MANIFEST_FILE))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Reads and checks `MANIFEST.json`.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST_FILE);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "{} has no readable {MANIFEST_FILE}: not a madoguchi backup, or an incomplete one",
            dir.display()
        )
    })?;
    let m: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid backup manifest", path.display()))?;
    ensure!(
        m.format == FORMAT,
        "unknown backup format {:?} (this madoguchi reads {FORMAT})",
        m.format
    );
    ensure!(
        m.includes.blobs && m.blobs.dir == BLOBS_DIR,
        "the manifest does not describe the blobs as {BLOBS_DIR}/"
    );
    ensure!(
        m.includes.database == m.database.is_some(),
        "the manifest's includes.database disagrees with its database entry"
    );
    if let Some(d) = &m.database {
        ensure!(
            d.file == DATABASE_FILE,
            "unexpected database file name {:?} in the manifest",
            d.file
        );
    }
    Ok(m)
}

/// SHA-256 (hex) and length of a file, streamed.
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let r = f.read(&mut buf)?;
        if r == 0 {
            break;
        }
        h.update(&buf[..r]);
        n += r as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Copies `from` to `to` through a temporary file in `to`'s directory, hashing on the way;
/// the file appears under its name (fsynced) only if its SHA-256 is `expected`.
fn copy_verified(from: &Path, to: &Path, expected: &str) -> Result<u64, String> {
    let mut src = File::open(from).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("missing ({})", from.display())
        } else {
            format!("unreadable ({}): {e}", from.display())
        }
    })?;
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = to.with_file_name(format!(".{name}.partial"));
    let io = |e: std::io::Error| format!("cannot write {}: {e}", to.display());
    let result = (|| {
        let mut dst = File::create(&tmp).map_err(io)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0u64;
        loop {
            let r = src
                .read(&mut buf)
                .map_err(|e| format!("unreadable ({}): {e}", from.display()))?;
            if r == 0 {
                break;
            }
            h.update(&buf[..r]);
            dst.write_all(&buf[..r]).map_err(io)?;
            n += r as u64;
        }
        let actual = hex::encode(h.finalize());
        if actual != expected {
            return Err(format!(
                "corrupted: the content of {} hashes to {actual}",
                from.display()
            ));
        }
        dst.sync_all().map_err(io)?;
        fs::rename(&tmp, to).map_err(io)?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Copies blobs between two stores, verifying each; fsyncs the directories. Returns the
/// manifest entry, or one message per failed blob.
fn copy_blobs(
    src: &BlobStore,
    dest: &BlobStore,
    hashes: &[String],
) -> Result<BlobsPart, Vec<String>> {
    let mut problems = Vec::new();
    let mut dirs = BTreeSet::new();
    let mut bytes = 0u64;
    let mut copied = Vec::with_capacity(hashes.len());
    if let Err(e) = fs::create_dir_all(dest.root()) {
        return Err(vec![format!(
            "cannot create {}: {e}",
            dest.root().display()
        )]);
    }
    for h in hashes {
        let (from, to) = match (src.path_of(h), dest.path_of(h)) {
            (Ok(f), Ok(t)) => (f, t),
            _ => {
                problems.push(format!("blob {h:?}: not a SHA-256 hash"));
                continue;
            }
        };
        let dir = to.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Err(e) = fs::create_dir_all(&dir) {
            problems.push(format!("blob {h}: cannot create {}: {e}", dir.display()));
            continue;
        }
        match copy_verified(&from, &to, h) {
            Ok(n) => {
                bytes += n;
                dirs.insert(dir);
                copied.push(h.clone());
            }
            Err(e) => problems.push(format!("blob {h}: {e}")),
        }
    }
    dirs.insert(dest.root().to_path_buf());
    for d in &dirs {
        if let Err(e) = File::open(d).and_then(|f| f.sync_all()) {
            problems.push(format!("cannot sync {}: {e}", d.display()));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    copied.sort();
    copied.dedup();
    Ok(BlobsPart {
        dir: BLOBS_DIR.into(),
        count: copied.len() as u64,
        bytes,
        list_sha256: list_digest(&copied),
    })
}

fn list_digest(sorted_hashes: &[String]) -> String {
    let mut h = Sha256::new();
    for x in sorted_hashes {
        h.update(x.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Checks every file under a backup's `blobs/`: a well-formed name, content matching the
/// name, and the exact set the manifest pins. Returns the hashes found.
fn check_backup_blobs(root: &Path, expected: &BlobsPart) -> Result<BTreeSet<String>, Vec<String>> {
    let mut problems = Vec::new();
    let mut found = BTreeSet::new();
    let mut bytes = 0u64;
    let entries = match fs::read_dir(root) {
        Ok(e) => e.collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && expected.count == 0 => Vec::new(),
        Err(e) => return Err(vec![format!("cannot read {}: {e}", root.display())]),
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("cannot read {}: {e}", root.display()));
                continue;
            }
        };
        let prefix = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !is_hex(&prefix, 2) || !path.is_dir() {
            problems.push(format!("unexpected entry {}", path.display()));
            continue;
        }
        let files = match fs::read_dir(&path) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("cannot read {}: {e}", path.display()));
                continue;
            }
        };
        for f in files {
            let f = match f {
                Ok(f) => f,
                Err(e) => {
                    problems.push(format!("cannot read {}: {e}", path.display()));
                    continue;
                }
            };
            let rest = f.file_name().to_string_lossy().into_owned();
            let file = f.path();
            if !is_hex(&rest, 62) || !file.is_file() {
                problems.push(format!("unexpected entry {}", file.display()));
                continue;
            }
            let hash = format!("{prefix}{rest}");
            match hash_file(&file) {
                Ok((actual, n)) if actual == hash => {
                    bytes += n;
                    found.insert(hash);
                }
                Ok((actual, _)) => problems.push(format!(
                    "blob {hash}: corrupted: the content of {} hashes to {actual}",
                    file.display()
                )),
                Err(e) => {
                    problems.push(format!("blob {hash}: unreadable ({}): {e}", file.display()))
                }
            }
        }
    }
    if problems.is_empty() {
        let list: Vec<String> = found.iter().cloned().collect();
        if found.len() as u64 != expected.count
            || bytes != expected.bytes
            || list_digest(&list) != expected.list_sha256
        {
            problems.push(format!(
                "the backup holds {} blobs ({bytes} bytes) but {MANIFEST_FILE} lists {} ({} \
                 bytes) with a different set: blobs were removed or added",
                found.len(),
                expected.count,
                expected.bytes
            ));
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// One referenced blob of an installation: present and intact.
fn check_blob(store: &BlobStore, hash: &str) -> Result<(), String> {
    let path = store
        .path_of(hash)
        .map_err(|_| format!("blob {hash:?}: not a SHA-256 hash"))?;
    match hash_file(&path) {
        Ok((actual, _)) if actual == hash => Ok(()),
        Ok((actual, _)) => Err(format!(
            "blob {hash}: corrupted: the content of {} hashes to {actual}",
            path.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(format!("blob {hash}: missing ({})", path.display()))
        }
        Err(e) => Err(format!("blob {hash}: unreadable ({}): {e}", path.display())),
    }
}

/// Formats problems one per line, the first [`MAX_LISTED`] of them.
fn list(problems: &[String]) -> String {
    let mut s: String = problems
        .iter()
        .take(MAX_LISTED)
        .map(|p| format!("  - {p}\n"))
        .collect();
    if problems.len() > MAX_LISTED {
        s.push_str(&format!("  … and {} more\n", problems.len() - MAX_LISTED));
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_verified_refuses_wrong_content_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("a");
        fs::write(&from, b"hello").unwrap();
        let to = dir.path().join("b");
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        assert_eq!(copy_verified(&from, &to, good).unwrap(), 5);
        assert_eq!(fs::read(&to).unwrap(), b"hello");
        let to2 = dir.path().join("c");
        let bad = "0".repeat(64);
        let e = copy_verified(&from, &to2, &bad).unwrap_err();
        assert!(e.contains("corrupted"), "{e}");
        assert!(!to2.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        let e = copy_verified(&dir.path().join("nope"), &to2, good).unwrap_err();
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn manifest_round_trips_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            format: FORMAT.into(),
            madoguchi_version: "0.1.0".into(),
            created_at: "2026-05-01T00:00:00Z".into(),
            backend: "sqlite".into(),
            includes: Includes {
                database: true,
                blobs: true,
            },
            database: Some(DatabasePart {
                file: DATABASE_FILE.into(),
                method: "sqlite-vacuum-into".into(),
                bytes: 1,
                sha256: "a".repeat(64),
            }),
            audit_head: AuditHead {
                seq: 3,
                hash: "b".repeat(64),
            },
            blobs: BlobsPart {
                dir: BLOBS_DIR.into(),
                count: 0,
                bytes: 0,
                list_sha256: list_digest(&[]),
            },
            notes: vec![],
        };
        write_manifest(dir.path(), &m).unwrap();
        assert_eq!(read_manifest(dir.path()).unwrap(), m);
        let mut evil = m.clone();
        evil.database.as_mut().unwrap().file = "../../etc/passwd".into();
        write_manifest(dir.path(), &evil).unwrap();
        assert!(read_manifest(dir.path()).is_err());
    }
}
