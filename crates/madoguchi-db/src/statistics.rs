//! The figures behind an authority's per-procedure statistics: its cases received in a
//! period, each with how often it was returned, and the satisfaction ratings of the filings
//! behind them. Aggregation (medians included) is done by the caller, identically on both
//! backends.

use crate::{DbResult, Tx, with_conn};

/// One case received by the authority in the period.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseFigureRow {
    pub procedure_id: String,
    pub status: String,
    pub submitted_at: i64,
    pub decided_at: Option<i64>,
    /// Times the case was returned to the provider.
    pub returns: i64,
}

/// The authority's cases that arrived in `[from, to)` (milliseconds).
pub async fn cases_received(
    tx: &mut Tx,
    authority_code: &str,
    from: i64,
    to: i64,
) -> DbResult<Vec<CaseFigureRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CaseFigureRow>(
        "SELECT c.procedure_id, c.status, c.submitted_at, c.decided_at,
                (SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'returned') AS returns
         FROM cases c
         WHERE c.authority_code = $1 AND c.submitted_at >= $2 AND c.submitted_at < $3
         ORDER BY c.submitted_at, c.id")
        .bind(authority_code).bind(from).bind(to).fetch_all(c).await)?)
}

/// (procedure, score) of every satisfaction rating of a filing that reached the authority
/// as a case received in `[from, to)`.
pub async fn ratings_received(
    tx: &mut Tx,
    authority_code: &str,
    from: i64,
    to: i64,
) -> DbResult<Vec<(String, i64)>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, (String, i64)>(
        "SELECT c.procedure_id, r.score
         FROM satisfaction_ratings r JOIN cases c ON c.filing_id = r.filing_id
         WHERE c.authority_code = $1 AND c.submitted_at >= $2 AND c.submitted_at < $3
         ORDER BY c.procedure_id, r.id")
        .bind(authority_code).bind(from).bind(to).fetch_all(c).await)?)
}
