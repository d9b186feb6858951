//! Integration tests of the db crate against real databases: the migrations of both
//! backends, the job queue (ordering, leases, retries, dedup, concurrent claimers) and the
//! audit chain under concurrent appends. Each test runs on SQLite and, when
//! `MADOGUCHI_TEST_DATABASE_URL` is set, on PostgreSQL, each time on a fresh database.

mod audit;
mod jobs;
mod migrations;
mod writers;

use madoguchi_db::Db;
use madoguchi_testing::{TestBackend, TestDb};

/// A fresh database of `backend`, connected and migrated. Keep the [`TestDb`] alive for as
/// long as the [`Db`] is used: dropping it removes the database.
pub async fn migrated(backend: TestBackend) -> (TestDb, Db) {
    let tdb = TestDb::new(backend).await;
    let db = Db::connect(&tdb.url)
        .await
        .unwrap_or_else(|e| panic!("[{backend}] connect: {e}"));
    db.migrate()
        .await
        .unwrap_or_else(|e| panic!("[{backend}] migrate: {e}"));
    (tdb, db)
}
