//! The ledger import at scale: `import_establishments` (the core function behind `madoguchi
//! import establishments` and the admin upload page: decoding, header mapping, every check
//! digit and date, the designating-authority rule, find-or-create of corporations,
//! establishments and designations, the audit event and the changes feed, in one transaction)
//! of a Shift_JIS file written by the application's own export, into an empty instance
//! (authorities and staff only); against the database's raw bulk load of the same file into a
//! table of the file's shape (PostgreSQL `COPY … FROM STDIN (FORMAT csv, ENCODING 'SJIS')`
//! through psql; SQLite the CLI's `.import` after iconv), in the same run, alternating.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use madoguchi_core::ledger::import::{
    ImportBy, ImportOptions, InputEncoding, import_establishments,
};
use madoguchi_db::{Backend, Db};
use madoguchi_domain::ledger::ESTABLISHMENT_COLUMNS;

use super::datagen::{self, Sizes};
use super::export::{ours_command, stream};
use super::{Backends, backend_name, median_f, per_second, ratio, thousands};

/// Writes the Shift_JIS export of a freshly generated instance of `n` establishments to
/// `file`; returns the row count.
pub async fn make_file(
    exe: &Path,
    backends: &Backends,
    backend: Backend,
    n: u64,
    file: &Path,
) -> anyhow::Result<u64> {
    let inst = backends.create(backend, "import-source").await?;
    let app = inst.open().await?;
    let g = datagen::generate(
        &app,
        Sizes {
            cases: 0,
            establishments: n,
        },
    )
    .await?;
    app.db.close().await;
    let mut bytes = Vec::new();
    let s = stream(ours_command(exe, &inst, &g.prefecture), Some(&mut bytes))?;
    std::fs::write(file, &bytes)?;
    inst.destroy().await?;
    anyhow::ensure!(
        s.rows == n,
        "export for the import wrote {} rows, not {n}",
        s.rows
    );
    Ok(s.rows)
}

/// Ours: the application's import into a fresh instance. (time, designations in the registry).
pub async fn ours(
    backends: &Backends,
    backend: Backend,
    bytes: &[u8],
) -> anyhow::Result<(Duration, u64)> {
    let inst = backends.create(backend, "import-ours").await?;
    let app = inst.open().await?;
    let (authority, _) = datagen::base(&app).await?;
    let start = Instant::now();
    let report = import_establishments(
        &app,
        ImportBy::Cli,
        &authority,
        bytes,
        ImportOptions {
            encoding: InputEncoding::ShiftJis,
            dry_run: false,
        },
        &|_, _| {},
    )
    .await?;
    let took = start.elapsed();
    anyhow::ensure!(
        report.applied && report.errors.is_empty(),
        "import refused: {:?}",
        report
            .errors
            .iter()
            .take(3)
            .map(|e| &e.message)
            .collect::<Vec<_>>()
    );
    let count = count(&app.db, "designations").await?;
    app.db.close().await;
    inst.destroy().await?;
    Ok((took, count))
}

async fn count(db: &Db, table: &str) -> anyhow::Result<u64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let n: i64 = match db {
        Db::Sqlite(p, _) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await?
        }
    };
    Ok(n as u64)
}

/// The limit: the database's own bulk load of the file into a table of its shape, in an
/// instance as fresh as ours. (time, rows loaded).
pub async fn limit(
    backends: &Backends,
    backend: Backend,
    file: &Path,
) -> anyhow::Result<(Duration, u64)> {
    let inst = backends.create(backend, "import-limit").await?;
    let app = inst.open().await?;
    let columns: Vec<String> = (1..=ESTABLISHMENT_COLUMNS.len())
        .map(|i| format!("c{i} TEXT"))
        .collect();
    let create = format!("CREATE TABLE bench_ledger ({})", columns.join(", "));
    match &app.db {
        Db::Sqlite(p, _) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(p)
                .await?;
        }
        Db::Postgres(p) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(p)
                .await?;
        }
    }
    let script = match backend {
        Backend::Sqlite => format!(
            "iconv -f CP932 -t UTF-8 '{}' | sqlite3 '{}' '.import --csv --skip 1 /dev/stdin bench_ledger'",
            file.display(),
            inst.sqlite_file().display()
        ),
        Backend::Postgres => format!(
            "psql -X -q -v ON_ERROR_STOP=1 '{}' -c \"COPY bench_ledger FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'SJIS')\" < '{}'",
            inst.url,
            file.display()
        ),
    };
    let start = Instant::now();
    let out = Command::new("bash")
        .args(["-c", &format!("set -o pipefail; {script}")])
        .output()?;
    let took = start.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "raw bulk load failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let n = count(&app.db, "bench_ledger").await?;
    app.db.close().await;
    inst.destroy().await?;
    Ok((took, n))
}

/// Options of `madoguchi bench import`.
#[derive(Clone, Debug)]
pub struct Options {
    pub establishments: u64,
    pub rounds: usize,
}

/// `madoguchi bench import`.
pub async fn run(exe: &Path, backends: &Backends, o: &Options) -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for backend in backends.list() {
        let file: PathBuf = backends
            .work_dir
            .join(format!("ledger-{}.csv", backend_name(backend)));
        let start = Instant::now();
        let n = make_file(exe, backends, backend, o.establishments, &file).await?;
        let bytes = std::fs::read(&file)?;
        println!(
            "import/{}: wrote the Shift_JIS export of {} establishments ({:.1} MB) in {:.1} s",
            backend_name(backend),
            thousands(n),
            bytes.len() as f64 / 1e6,
            start.elapsed().as_secs_f64()
        );
        rows.push(measure(backends, backend, &file, &bytes, n, o.rounds).await?);
        let _ = std::fs::remove_file(&file);
    }
    Ok(rows)
}

/// Alternates the limit and ours for `rounds`; one table row.
pub async fn measure(
    backends: &Backends,
    backend: Backend,
    file: &Path,
    bytes: &[u8],
    n: u64,
    rounds: usize,
) -> anyhow::Result<Vec<String>> {
    let (mut ours_rate, mut limit_rate, mut ratios, mut ours_s) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let (o, l) = if round % 2 == 0 {
            let l = limit(backends, backend, file).await?;
            (ours(backends, backend, bytes).await?, l)
        } else {
            let o = ours(backends, backend, bytes).await?;
            (o, limit(backends, backend, file).await?)
        };
        anyhow::ensure!(
            o.1 == n && l.1 == n,
            "import: row counts differ (ours {}, limit {}, file {n})",
            o.1,
            l.1
        );
        let r_o = n as f64 / o.0.as_secs_f64();
        let r_l = n as f64 / l.0.as_secs_f64();
        ours_rate.push(r_o);
        limit_rate.push(r_l);
        ratios.push(r_o / r_l);
        ours_s.push(o.0.as_secs_f64());
    }
    let med = median_f(&ratios);
    Ok(vec![
        "import establishments, Shift_JIS CSV, with validation".into(),
        backend_name(backend).into(),
        format!("{} rows", thousands(n)),
        format!(
            "{} ({:.1} s)",
            per_second(median_f(&ours_rate)),
            median_f(&ours_s)
        ),
        per_second(median_f(&limit_rate)),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        ratio(med, 1.0),
        "—".into(),
        "≥ 0.40 of the raw bulk load".into(),
        if med >= 0.4 { "PASS" } else { "MISS" }.into(),
    ])
}
