//! Verifying the audit chain end to end (`madoguchi audit verify`), streamed in pages so a
//! long chain needs constant memory.

use madoguchi_db::audit;
use madoguchi_domain::audit::ChainVerifier;

use crate::{App, CoreError, CoreResult};

/// Checks every link of the chain and the head; returns the number of events verified.
pub async fn verify(app: &App) -> CoreResult<i64> {
    let mut tx = app.db.begin_read().await?;
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = audit::page(&mut tx, after, 1000).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            v.push(&row.record(), &row.prev_hash, &row.hash)
                .map_err(|e| CoreError::Conflict(format!("audit chain broken: {e}")))?;
            after = row.seq;
        }
    }
    let (head_seq, head_hash) = audit::head(&mut tx).await?;
    tx.commit().await?;
    v.finish(head_seq, &head_hash)
        .map_err(|e| CoreError::Conflict(format!("audit chain broken: {e}")))
}
