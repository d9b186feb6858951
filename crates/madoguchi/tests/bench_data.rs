//! Smoke test of the data benchmarks (`madoguchi bench inbox|export|import`) at tiny sizes on
//! SQLite, so the bench code cannot rot: the generated data satisfies the schema, the
//! application's inbox and the raw indexed query return the same rows for every combination,
//! and the export → import round trip keeps every row (also on PostgreSQL when
//! MADOGUCHI_TEST_DATABASE_URL is set). No timing is asserted.

use std::path::Path;

use madoguchi::bench::datagen::{self, Sizes};
use madoguchi::bench::{Backends, export, import, inbox};
use madoguchi_db::Backend;

fn backends(dir: &Path) -> Backends {
    Backends::parse(
        "sqlite",
        None,
        Some(dir.to_path_buf()),
        "madoguchi_bench_test",
    )
    .expect("options")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_app_and_raw_queries_agree() {
    let dir = tempfile::tempdir().unwrap();
    let b = backends(dir.path());
    let inst = b.create(Backend::Sqlite, "inbox").await.unwrap();
    let app = inst.open().await.unwrap();
    let g = datagen::generate(
        &app,
        Sizes {
            cases: 6_000,
            establishments: 500,
        },
    )
    .await
    .unwrap();
    let viewer = inbox::viewer(&g);
    let combos = inbox::combinations(&app, &viewer).await.unwrap();
    assert_eq!(
        combos.len(),
        5,
        "every combination, including the later page"
    );
    let counts = inbox::check_same(&app, &viewer, &combos).await.unwrap();
    // Every combination finds rows among 3,000 prefecture cases; the unfiltered ones a full page.
    for (c, n) in combos.iter().zip(&counts) {
        assert!((1..=50).contains(n), "{}: {n} rows", c.name);
    }
    assert_eq!(counts[0], 50);
    assert_eq!(counts[4], 50);
    app.db.close().await;
    inst.destroy().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_import_round_trip_keep_every_row() {
    let exe = Path::new(env!("CARGO_BIN_EXE_madoguchi"));
    let dir = tempfile::tempdir().unwrap();
    let b = backends(dir.path());
    let n = 700;
    // Ours and the limit write the same number of rows (the measure checks it).
    let inst = b.create(Backend::Sqlite, "export").await.unwrap();
    let app = inst.open().await.unwrap();
    let g = datagen::generate(
        &app,
        Sizes {
            cases: 0,
            establishments: n,
        },
    )
    .await
    .unwrap();
    app.db.close().await;
    let row = export::measure(exe, &inst, &g.prefecture, n, 1).unwrap();
    assert_eq!(row[2], "700 rows");
    inst.destroy().await.unwrap();
    // The export's file imports into an empty instance with every row, as does the raw load.
    let file = dir.path().join("ledger.csv");
    assert_eq!(
        import::make_file(exe, &b, Backend::Sqlite, n, &file)
            .await
            .unwrap(),
        n
    );
    let bytes = std::fs::read(&file).unwrap();
    let (_, imported) = import::ours(&b, Backend::Sqlite, &bytes).await.unwrap();
    assert_eq!(imported, n);
    let (_, loaded) = import::limit(&b, Backend::Sqlite, &file).await.unwrap();
    assert_eq!(loaded, n);
}

/// The same round trip on PostgreSQL (databases created and dropped on the test server), when
/// MADOGUCHI_TEST_DATABASE_URL names one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_import_round_trip_keeps_every_row() {
    let Ok(url) = std::env::var("MADOGUCHI_TEST_DATABASE_URL") else {
        eprintln!("MADOGUCHI_TEST_DATABASE_URL not set: PostgreSQL part skipped");
        return;
    };
    let exe = Path::new(env!("CARGO_BIN_EXE_madoguchi"));
    let dir = tempfile::tempdir().unwrap();
    let b = Backends::parse(
        "postgres",
        Some(url),
        Some(dir.path().to_path_buf()),
        "madoguchi_bench_test",
    )
    .unwrap();
    let n = 300;
    let file = dir.path().join("ledger.csv");
    assert_eq!(
        import::make_file(exe, &b, Backend::Postgres, n, &file)
            .await
            .unwrap(),
        n
    );
    let bytes = std::fs::read(&file).unwrap();
    let (_, imported) = import::ours(&b, Backend::Postgres, &bytes).await.unwrap();
    assert_eq!(imported, n);
    let (_, loaded) = import::limit(&b, Backend::Postgres, &file).await.unwrap();
    assert_eq!(loaded, n);
}
