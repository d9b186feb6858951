//! The limits the server workloads are measured against: the same durable writes done
//! directly against the storage, with no HTTP and no application logic. Same backend, same
//! pool and pragmas as the application (`madoguchi_db::Db::connect`: SQLite in WAL with
//! `synchronous=FULL`, `BEGIN IMMEDIATE` for writes), same disk (a directory next to the
//! server's data directory).

use std::io::Write;
use std::path::PathBuf;

use madoguchi_db::{Db, Tx};

/// A table and a directory to write into.
#[derive(Clone)]
pub struct Limits {
    db: Db,
    dir: PathBuf,
    /// 2 KB of row data (Japanese text, as the form's answers are).
    row: String,
    /// The 200 KB attachment; made unique per operation by its first bytes.
    file: Vec<u8>,
}

impl Limits {
    pub async fn open(
        database_url: &str,
        dir: PathBuf,
        row: String,
        file: Vec<u8>,
    ) -> anyhow::Result<Limits> {
        let db = Db::connect(database_url).await?;
        let ddl = "CREATE TABLE IF NOT EXISTS bench_limit (id TEXT PRIMARY KEY, file_name TEXT, data TEXT NOT NULL)";
        let mut tx = db.begin().await?;
        match &mut tx {
            Tx::Sqlite(t) => {
                sqlx::query(ddl).execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                sqlx::query(ddl).execute(&mut **t).await?;
            }
        }
        tx.commit().await?;
        std::fs::create_dir_all(&dir)?;
        Ok(Limits { db, dir, row, file })
    }

    /// One row of 2 KB inserted and committed in its own transaction.
    pub async fn insert_row(&self, key: &str) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        insert(&mut tx, key, None, &self.row).await?;
        tx.commit().await?;
        Ok(())
    }

    /// 200 KB written to a new file, the file and its directory fsynced, then the 2 KB row
    /// naming it inserted and committed in one transaction.
    pub async fn file_and_row(&self, key: &str) -> anyhow::Result<()> {
        let dir = self.dir.clone();
        let name = format!("{key}.bin");
        let mut bytes = self.file.clone();
        let stamp = key.as_bytes();
        let n = stamp.len().min(bytes.len());
        bytes[..n].copy_from_slice(&stamp[..n]);
        let file_name = name.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = std::fs::File::create(dir.join(&file_name))?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::File::open(&dir)?.sync_all()
        })
        .await??;
        let mut tx = self.db.begin().await?;
        insert(&mut tx, key, Some(&name), &self.row).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rows in the table (the smoke test checks every operation landed).
    pub async fn count(&self) -> anyhow::Result<i64> {
        let mut tx = self.db.begin_read().await?;
        let n: i64 = match &mut tx {
            Tx::Sqlite(t) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bench_limit")
                    .fetch_one(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM bench_limit")
                    .fetch_one(&mut **t)
                    .await?
            }
        };
        tx.rollback().await?;
        Ok(n)
    }

    pub async fn close(&self) {
        self.db.close().await;
    }
}

async fn insert(tx: &mut Tx, key: &str, file: Option<&str>, data: &str) -> anyhow::Result<()> {
    match tx {
        Tx::Sqlite(t) => {
            sqlx::query("INSERT INTO bench_limit (id, file_name, data) VALUES (?, ?, ?)")
                .bind(key)
                .bind(file)
                .bind(data)
                .execute(&mut **t)
                .await?;
        }
        Tx::Postgres(t) => {
            sqlx::query("INSERT INTO bench_limit (id, file_name, data) VALUES ($1, $2, $3)")
                .bind(key)
                .bind(file)
                .bind(data)
                .execute(&mut **t)
                .await?;
        }
    }
    Ok(())
}
