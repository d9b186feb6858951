//! A fresh, empty database per test. SQLite: a file in a temporary directory. PostgreSQL
//! (when `MADOGUCHI_TEST_DATABASE_URL` is set): a new schema in that database, selected
//! through the connection's `search_path`, dropped when the test ends.

use std::fmt;

/// The backends a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl fmt::Display for TestBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "postgres",
        })
    }
}

/// SQLite always; PostgreSQL when `MADOGUCHI_TEST_DATABASE_URL` is set. Under CI (`CI` set)
/// a missing PostgreSQL is an error, so the suite can never silently test one backend.
pub fn backends() -> Vec<TestBackend> {
    let mut out = vec![TestBackend::Sqlite];
    match std::env::var("MADOGUCHI_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => out.push(TestBackend::Postgres),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI must run the suite on PostgreSQL too: set MADOGUCHI_TEST_DATABASE_URL (scripts/test.sh does)"
        ),
        _ => eprintln!("note: MADOGUCHI_TEST_DATABASE_URL not set; PostgreSQL tests skipped"),
    }
    out
}

/// A database of its own for one test.
pub struct TestDb {
    pub backend: TestBackend,
    /// The URL to give `Db::connect` / `--database-url`.
    pub url: String,
    /// Data directory for attachments (and the SQLite file).
    pub dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: TestBackend) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            TestBackend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("madoguchi.db").display());
                TestDb {
                    backend,
                    url,
                    dir,
                    schema: None,
                }
            }
            TestBackend::Postgres => {
                let base = std::env::var("MADOGUCHI_TEST_DATABASE_URL")
                    .expect("MADOGUCHI_TEST_DATABASE_URL");
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut conn: sqlx::PgConnection =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&base)
                        .await
                        .expect("connect to PostgreSQL");
                sqlx::Executor::execute(
                    &mut conn,
                    sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")),
                )
                .await
                .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                TestDb {
                    backend,
                    url,
                    dir,
                    schema: Some((base, schema)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.schema.take() {
            // Drop the schema on a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn: sqlx::PgConnection =
                        <sqlx::PgConnection as sqlx::Connection>::connect(&base)
                            .await
                            .ok()?;
                    sqlx::Executor::execute(
                        &mut conn,
                        sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {schema} CASCADE")),
                    )
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

impl TestDb {
    /// Runs one SQL statement directly against the test database (to simulate tampering or
    /// inspect state from outside the product). Returns the rows affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            TestBackend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("connect");
                let n = sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .expect("execute")
                    .rows_affected();
                pool.close().await;
                n
            }
            TestBackend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("connect");
                let n = sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .expect("execute")
                    .rows_affected();
                pool.close().await;
                n
            }
        }
    }
}
