//! Connection pool and transactions for the two backends, chosen by URL scheme.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::audit::PendingAudit;
use crate::{DbError, DbResult};

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The application's database: a pool of one backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, WriteQueue),
    Postgres(PgPool),
}

/// SQLite takes one writer at a time. Writers of this process wait for their turn here, in
/// arrival order, instead of in SQLite's busy handler, which sleeps and retries (1, 2, 5, …
/// 100 ms): under concurrent submissions that handler left the lock idle between sleeps and
/// let late arrivals overtake early ones (a p99 of seconds at 8 clients). Other processes
/// (the CLI beside a server) still meet the busy timeout as before.
#[derive(Clone, Debug)]
pub struct WriteQueue(Arc<Semaphore>);

impl WriteQueue {
    pub fn new() -> WriteQueue {
        WriteQueue(Arc::new(Semaphore::new(1)))
    }

    /// Waits for this process's write turn, at most as long as SQLite's busy timeout.
    async fn turn(&self) -> DbResult<OwnedSemaphorePermit> {
        match tokio::time::timeout(BUSY_TIMEOUT, self.0.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(_)) => Err(DbError::Other("the database is closed".into())),
            Err(_) => Err(DbError::Other(
                "timed out waiting for the database write lock".into(),
            )),
        }
    }
}

impl Default for WriteQueue {
    fn default() -> Self {
        WriteQueue::new()
    }
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite transaction, holding this process's write turn (if it writes) until it ends.
/// Dereferences to the connection, like sqlx's `Transaction`.
pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: Option<OwnedSemaphorePermit>,
    audit: Vec<PendingAudit>,
}

/// A PostgreSQL transaction. Dereferences to the connection, like sqlx's `Transaction`.
pub struct PgTx {
    tx: Transaction<'static, Postgres>,
    audit: Vec<PendingAudit>,
}

impl std::ops::Deref for PgTx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for PgTx {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }
}

impl std::ops::Deref for SqliteTx {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &sqlx::SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }
}

/// An open transaction. Every query of this crate takes one, so reads and writes of a use
/// case share a consistent view and commit together.
///
/// Audit events appended in a transaction ([`crate::audit::append`]) are held in it and
/// written to the chain by [`Tx::commit`], just before the commit: the chain's head (one row,
/// a global lock on PostgreSQL) is taken for the last statements of the transaction only, and
/// all of its events cost three statements instead of three each.
pub enum Tx {
    Sqlite(SqliteTx),
    Postgres(PgTx),
}

impl Db {
    /// Connects by URL: `sqlite://path/to/file.db` (created if missing) or `postgres://…`.
    /// SQLite runs in WAL mode with `synchronous=FULL`, so an acknowledged commit survives
    /// power loss, and with foreign keys enforced.
    pub async fn connect(url: &str) -> DbResult<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| DbError::Other(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool, WriteQueue::new()))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| DbError::Other(format!("bad PostgreSQL URL: {e}")))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::Other(format!(
                "unsupported database URL (use sqlite:// or postgres://): {url}"
            )))
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> DbResult<()> {
        match self {
            Db::Sqlite(p, _) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction that will write. On SQLite this takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads then writes would fail with
    /// "database is locked" under concurrency.
    pub async fn begin(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(p, queue) => {
                let turn = queue.turn().await?;
                Tx::Sqlite(SqliteTx {
                    tx: p.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                    audit: Vec::new(),
                })
            }
            Db::Postgres(p) => Tx::Postgres(PgTx {
                tx: p.begin().await?,
                audit: Vec::new(),
            }),
        })
    }

    /// Starts a transaction that only reads (a consistent snapshot, no write lock).
    pub async fn begin_read(&self) -> DbResult<Tx> {
        Ok(match self {
            Db::Sqlite(p, _) => Tx::Sqlite(SqliteTx {
                tx: p.begin().await?,
                _turn: None,
                audit: Vec::new(),
            }),
            Db::Postgres(p) => Tx::Postgres(PgTx {
                tx: p.begin().await?,
                audit: Vec::new(),
            }),
        })
    }

    /// Closes every connection (used before a backup or at shutdown).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, _) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Writes the audit events appended in this transaction to the chain, then commits.
    pub async fn commit(mut self) -> DbResult<()> {
        let pending = std::mem::take(self.pending_audit());
        if !pending.is_empty() {
            crate::audit::write_pending(&mut self, pending).await?;
        }
        match self {
            Tx::Sqlite(t) => t.tx.commit().await?,
            Tx::Postgres(t) => t.tx.commit().await?,
        }
        Ok(())
    }

    /// Ends the transaction without writing anything (its audit events are dropped too).
    pub async fn rollback(self) -> DbResult<()> {
        match self {
            Tx::Sqlite(t) => t.tx.rollback().await?,
            Tx::Postgres(t) => t.tx.rollback().await?,
        }
        Ok(())
    }

    /// The audit events appended in this transaction and not yet written.
    pub(crate) fn pending_audit(&mut self) -> &mut Vec<PendingAudit> {
        match self {
            Tx::Sqlite(t) => &mut t.audit,
            Tx::Postgres(t) => &mut t.audit,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}
