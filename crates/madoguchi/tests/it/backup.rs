//! Backup and restore drill with the real binary: a filing with attachments is submitted, the
//! data is backed up while the server keeps running (and writing), restored into a fresh data
//! directory, and the restored copy must pass `audit verify` and show the filing. Damage to
//! the backup (one blob, the database file) makes `restore` fail with a clear message and
//! leaves the target untouched. On PostgreSQL, the blobs-only backup is drilled the same way.

use std::path::Path;
use std::process::Output;

use madoguchi_testing::{TestBackend, TestServer, backends};
use serde_json::{Value, json};

use crate::common::{establishment_id, representative_change};

/// Runs the real binary against a data directory (and database URL, if given).
async fn madoguchi(data_dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"));
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.args(args)
        .env("MADOGUCHI_LOG_LEVEL", "warn")
        .output()
        .await
        .expect("run madoguchi")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn manifest(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap()).unwrap()
}

/// Paths of every blob file under a `blobs/` directory.
fn blob_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for d in std::fs::read_dir(root).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

/// Submits a complete 代表者 change with two attachments; returns the filing id.
async fn submitted_filing(srv: &TestServer) -> String {
    let p1 = srv.api("provider1").await;
    let (fid, _) = representative_change(srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
    let r = p1
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/filings/{fid}/submit"),
            None,
            &[("Idempotency-Key", "backup-drill-1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    fid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restore_drill() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        match backend {
            TestBackend::Sqlite => sqlite_drill(srv).await,
            TestBackend::Postgres => postgres_blobs_only_drill(srv).await,
        }
    }
}

async fn sqlite_drill(srv: TestServer) {
    let fid = submitted_filing(&srv).await;
    let data = srv.db.dir.path().to_path_buf();
    let scratch = tempfile::tempdir().unwrap();
    let bk = scratch.path().join("backup");

    // Back up while the server runs and a provider keeps creating drafts (new audit events).
    let p1 = srv.api("provider1").await;
    let est = establishment_id(&p1, "1370400010").await;
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let writer = tokio::spawn(async move {
        let mut n = 0;
        while !*stop_rx.borrow_and_update() {
            let r = p1
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [est] }),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            n += 1;
        }
        n
    });
    let out = madoguchi(&data, None, &["backup", bk.to_str().unwrap()]).await;
    let _ = stop_tx.send(true);
    let drafts = writer.await.unwrap();
    assert!(out.status.success(), "backup failed: {}", text(&out));
    assert!(drafts > 0, "the server kept writing during the backup");

    let m = manifest(&bk);
    assert_eq!(m["format"], "madoguchi-backup/1");
    assert_eq!(m["backend"], "sqlite");
    assert_eq!(m["includes"], json!({ "database": true, "blobs": true }));
    assert_eq!(m["madoguchi_version"], env!("CARGO_PKG_VERSION"));
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(m["audit_head"]["seq"].as_i64().unwrap() > 0);
    let db_bytes = std::fs::read(bk.join("madoguchi.db")).unwrap();
    assert_eq!(
        m["database"]["sha256"],
        madoguchi_core::blobs::sha256_hex(&db_bytes)
    );
    let blobs = blob_files(&bk.join("blobs"));
    assert!(
        blobs.len() >= 2,
        "the filing's two attachments are in the backup"
    );
    assert_eq!(m["blobs"]["count"], blobs.len() as u64);
    // The backup target must be empty.
    let again = madoguchi(&data, None, &["backup", bk.to_str().unwrap()]).await;
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));

    // Restore into a fresh data directory, then check it as an operator would.
    let restored = scratch.path().join("restored");
    let out = madoguchi(&restored, None, &["restore", bk.to_str().unwrap()]).await;
    assert!(out.status.success(), "restore failed: {}", text(&out));
    assert!(text(&out).contains("restore OK"), "{}", text(&out));
    let out = madoguchi(&restored, None, &["audit", "verify"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit chain OK"), "{}", text(&out));
    let url = format!("sqlite://{}", restored.join("madoguchi.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let (status,): (String,) = sqlx::query_as("SELECT status FROM filings WHERE id = $1")
        .bind(&fid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "submitted");
    let (cases,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM cases WHERE filing_id = $1")
        .bind(&fid)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(cases, 5, "the restored filing fans out to five authorities");
    pool.close().await;

    // An existing data directory is not overwritten without --force; with it, moved aside.
    let out = madoguchi(&restored, None, &["restore", bk.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("refusing to overwrite") && text(&out).contains("--force"),
        "{}",
        text(&out)
    );
    let out = madoguchi(
        &restored,
        None,
        &["restore", "--force", bk.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let aside: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("restored.before-restore-"))
        .collect();
    assert_eq!(aside.len(), 1, "old data moved aside: {aside:?}");

    // One damaged blob in the backup: restore fails, names the blob, touches nothing.
    let victim = &blobs[0];
    let original = std::fs::read(victim).unwrap();
    std::fs::write(victim, b"%PDF-1.4\nforged\n%%EOF").unwrap();
    let fresh = scratch.path().join("fresh");
    let out = madoguchi(&fresh, None, &["restore", bk.to_str().unwrap()]).await;
    assert!(!out.status.success());
    let hash = format!(
        "{}{}",
        victim
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        victim.file_name().unwrap().to_string_lossy()
    );
    assert!(
        text(&out).contains("corrupted") && text(&out).contains(&hash),
        "{}",
        text(&out)
    );
    assert!(!fresh.exists(), "nothing restored from a damaged backup");
    std::fs::write(victim, original).unwrap();

    // A changed database file in the backup: restore fails on the manifest hash.
    let mut forged = db_bytes.clone();
    let mid = forged.len() / 2;
    forged[mid] ^= 0xff;
    std::fs::write(bk.join("madoguchi.db"), &forged).unwrap();
    let out = madoguchi(&fresh, None, &["restore", bk.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("does not match MANIFEST.json"),
        "{}",
        text(&out)
    );
    assert!(!fresh.exists());
    std::fs::write(bk.join("madoguchi.db"), &db_bytes).unwrap();

    // Repaired, the same backup restores again.
    let out = madoguchi(&fresh, None, &["restore", bk.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out));
    srv.stop().await;
}

async fn postgres_blobs_only_drill(srv: TestServer) {
    submitted_filing(&srv).await;
    let data = srv.db.dir.path().to_path_buf();
    let url = srv.db.url.clone();
    let scratch = tempfile::tempdir().unwrap();
    let bk = scratch.path().join("files");

    // A full backup is PostgreSQL's job: the command prints the procedure and does nothing.
    let out = madoguchi(&data, Some(&url), &["backup", bk.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("pg_basebackup") && text(&out).contains("--blobs-only"),
        "{}",
        text(&out)
    );
    assert!(!bk.exists());

    let out = madoguchi(
        &data,
        Some(&url),
        &["backup", "--blobs-only", bk.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let m = manifest(&bk);
    assert_eq!(m["backend"], "postgres");
    assert_eq!(m["includes"], json!({ "database": false, "blobs": true }));
    assert_eq!(m["database"], Value::Null);
    assert!(m["audit_head"]["seq"].as_i64().unwrap() > 0);
    assert!(m["blobs"]["count"].as_u64().unwrap() >= 2);
    assert!(!bk.join("madoguchi.db").exists());

    // Restore the blobs for the (here: still present) database: verified end to end.
    let restored = scratch.path().join("restored");
    let out = madoguchi(&restored, Some(&url), &["restore", bk.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("blobs only") && text(&out).contains("restore OK"),
        "{}",
        text(&out)
    );
    assert_eq!(
        blob_files(&restored.join("blobs")).len() as u64,
        m["blobs"]["count"].as_u64().unwrap()
    );

    // A file uploaded after the blob backup is missing from it: the post-restore check of
    // the restored installation catches it.
    let p1 = srv.api("provider1").await;
    let up = p1
        .upload(
            "late.pdf",
            b"%PDF-1.4\nuploaded after the backup\n%%EOF".to_vec(),
        )
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    let late = up.body["sha256"].as_str().unwrap().to_string();
    let again = scratch.path().join("again");
    let out = madoguchi(&again, Some(&url), &["restore", bk.to_str().unwrap()]).await;
    assert!(!out.status.success());
    assert!(
        text(&out).contains("RESTORE FAILED VERIFICATION")
            && text(&out).contains(&format!("blob {late}: missing")),
        "{}",
        text(&out)
    );
    srv.stop().await;
}
