//! Ledger linkage: the per-authority changes feed (`feed`), webhook endpoints, deliveries and
//! their attempts (`webhooks`), the streamed rows of the ledger exports (`export`) and the
//! look-ups and upserts of the ledger import (`import`).

pub mod export;
pub mod feed;
pub mod import;
pub mod webhooks;

use crate::{Backend, Db, DbResult, Tx, with_conn};

/// A read-only transaction whose statements all see one snapshot (an export reads twice: a
/// check pass, then the rows). SQLite's read transaction already is one in WAL mode;
/// PostgreSQL needs `REPEATABLE READ` (its default, READ COMMITTED, re-snapshots per statement).
pub async fn begin_snapshot(db: &Db) -> DbResult<Tx> {
    let mut tx = db.begin_read().await?;
    if tx.backend() == Backend::Postgres {
        with_conn!(&mut tx, c => sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(tx)
}
