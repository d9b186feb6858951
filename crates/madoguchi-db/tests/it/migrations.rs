//! The two migration folders stay in step (same file names, well-formed and ordered), and a
//! fresh database of each backend migrates, idempotently.

use std::collections::BTreeSet;
use std::path::Path;

use madoguchi_db::Db;
use madoguchi_testing::{TestDb, backends};

/// The `.sql` file names of one backend's migration folder, sorted.
fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("directory entry");
            assert!(
                entry.file_type().expect("file type").is_file(),
                "{}: only migration files belong in {}",
                entry.file_name().to_string_lossy(),
                dir.display()
            );
            entry.file_name().into_string().expect("UTF-8 file name")
        })
        .collect();
    names.sort();
    names
}

/// The number of a `NNNN_snake_case.sql` name, or why the name is malformed.
fn migration_number(name: &str) -> Result<u32, String> {
    let stem = name
        .strip_suffix(".sql")
        .ok_or_else(|| format!("{name}: must end in .sql"))?;
    let (number, words) = stem
        .split_once('_')
        .ok_or_else(|| format!("{name}: must be NNNN_snake_case.sql"))?;
    if number.len() != 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name}: must start with four digits"));
    }
    let snake = words.split('_').all(|w| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) && words.starts_with(|c: char| c.is_ascii_lowercase());
    if !snake {
        return Err(format!(
            "{name}: the description must be snake_case (a-z, 0-9, single underscores)"
        ));
    }
    number.parse().map_err(|e| format!("{name}: {e}"))
}

#[test]
fn migration_name_parser_accepts_only_numbered_snake_case() {
    assert_eq!(migration_number("0001_initial.sql"), Ok(1));
    assert_eq!(migration_number("0012_add_jobs_index2.sql"), Ok(12));
    for bad in [
        "1_initial.sql",
        "0001-initial.sql",
        "0001_Initial.sql",
        "0001_initial.SQL",
        "0001__double.sql",
        "0001_trailing_.sql",
        "0001_.sql",
        "0001_9lives.sql",
        "00a1_initial.sql",
        "0001_initial.sql.bak",
    ] {
        assert!(migration_number(bad).is_err(), "{bad} must be refused");
    }
}

#[test]
fn both_backends_have_the_same_well_formed_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty(), "no SQLite migrations found");
    let (s, p): (BTreeSet<_>, BTreeSet<_>) = (sqlite.iter().collect(), postgres.iter().collect());
    assert_eq!(
        sqlite,
        postgres,
        "migration folders differ; only in sqlite: {:?}, only in postgres: {:?}",
        s.difference(&p).collect::<Vec<_>>(),
        p.difference(&s).collect::<Vec<_>>()
    );
    let mut previous: Option<u32> = None;
    for name in &sqlite {
        let n = migration_number(name).unwrap_or_else(|e| panic!("{e}"));
        if let Some(prev) = previous {
            assert!(
                n > prev,
                "{name}: numbers must strictly increase (follows {prev:04})"
            );
        }
        previous = Some(n);
    }
}

/// Rows of sqlx's migration ledger (each applied migration once, successfully).
async fn applied(db: &Db) -> Vec<(i64, bool)> {
    let sql = "SELECT version, success FROM _sqlx_migrations ORDER BY version";
    match db {
        Db::Sqlite(p, _) => sqlx::query_as(sql).fetch_all(p).await,
        Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
    }
    .expect("read _sqlx_migrations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_database_migrates_and_migrating_again_is_a_no_op() {
    let expected: Vec<(i64, bool)> = migration_names("sqlite")
        .iter()
        .map(|n| (i64::from(migration_number(n).expect("well-formed")), true))
        .collect();
    for backend in backends() {
        let tdb = TestDb::new(backend).await;
        let db = Db::connect(&tdb.url)
            .await
            .unwrap_or_else(|e| panic!("[{backend}] connect: {e}"));
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] first migrate: {e}"));
        assert_eq!(
            applied(&db).await,
            expected,
            "[{backend}] every migration applied once"
        );
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("[{backend}] second migrate: {e}"));
        assert_eq!(
            applied(&db).await,
            expected,
            "[{backend}] migrating again changes nothing"
        );
        // The schema is usable: the audit head exists exactly once.
        let mut tx = db.begin_read().await.expect("begin");
        let (seq, _) = madoguchi_db::audit::head(&mut tx)
            .await
            .unwrap_or_else(|e| panic!("[{backend}] audit head: {e}"));
        assert_eq!(seq, 0, "[{backend}] a fresh chain is empty");
        tx.commit().await.expect("commit");
        db.close().await;
    }
}
