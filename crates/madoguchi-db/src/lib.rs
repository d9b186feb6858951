//! The only crate that speaks SQL. It owns the connection pool (embedded SQLite by default,
//! PostgreSQL when the URL says so), the embedded migrations of both backends, and one module
//! of queries per aggregate. Every query is written once: both backends accept `$N`
//! placeholders, and the [`with_conn!`] macro compiles the same body against each driver, so
//! there is no `sqlx::Any` and no second copy of the SQL. Times are `i64` milliseconds since
//! the Unix epoch (UTC), JSON documents are TEXT, identifiers are TEXT.

pub mod attachments;
pub mod audit;
// Authority admin (issue #4, workspace part B).
pub mod authority_admin;
pub mod backup;
// Provider portal part A: batches of drafts, prefill sources.
pub mod batches;
pub mod cases;
mod error;
pub mod filings;
pub mod inbox;
pub mod jobs;
pub mod ledger;
pub mod local_rules;
// Provider portal, part B (issue #4): notifications, answers to returns, satisfaction.
pub mod notifications;
pub mod oidc;
mod pool;
pub mod registry;
pub mod returns;
pub mod satisfaction;
pub mod staff;
pub mod statistics;
pub mod users;

pub use error::DbError;
pub use pool::{Backend, Db, PgTx, SqliteTx, Tx, WriteQueue};

/// Result type of every query in this crate.
pub type DbResult<T> = Result<T, DbError>;

/// Runs `$body` with `$c` bound to the backend-specific connection of the transaction `$tx`.
/// The body is compiled once per backend, so it must be valid for both drivers.
#[macro_export]
macro_rules! with_conn {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A fresh random identifier (UUIDv7: time-ordered, unguessable enough for URLs).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
