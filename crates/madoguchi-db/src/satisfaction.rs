//! Satisfaction ratings (1–5 with an optional comment) a provider user gives after a
//! submission, one per filing and user (a second rating replaces the first), and the figures
//! an authority's statistics show: the average and count per procedure over the filings that
//! reached that authority.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RatingRow {
    pub id: String,
    pub filing_id: String,
    pub user_id: String,
    pub score: i64,
    pub comment: String,
    pub created_at: i64,
}

/// Records a user's rating of a filing, replacing an earlier one (the id and first time stay).
pub async fn upsert(tx: &mut Tx, r: &RatingRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO satisfaction_ratings (id, filing_id, user_id, score, comment, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (filing_id, user_id) DO UPDATE SET score = excluded.score, comment = excluded.comment")
        .bind(&r.id).bind(&r.filing_id).bind(&r.user_id).bind(r.score).bind(&r.comment).bind(r.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's rating of a filing, if given.
pub async fn get(tx: &mut Tx, filing_id: &str, user_id: &str) -> DbResult<Option<RatingRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, RatingRow>(
        "SELECT id, filing_id, user_id, score, comment, created_at FROM satisfaction_ratings
         WHERE filing_id = $1 AND user_id = $2")
        .bind(filing_id).bind(user_id).fetch_optional(c).await)?)
}

/// Satisfaction with one procedure at one authority.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcedureSatisfaction {
    pub procedure_id: String,
    /// Number of ratings.
    pub count: i64,
    /// Sum of the scores (the average is `sum / count`).
    pub sum: i64,
}

impl ProcedureSatisfaction {
    /// Average score (1.0–5.0).
    pub fn average(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
}

/// Per procedure, the ratings of filings with a case at `authority_code` (a filing that went
/// to several authorities counts once at each), optionally only ratings given in
/// `[from_ms, to_ms)`. Ordered by procedure id.
pub async fn by_procedure_for_authority(
    tx: &mut Tx,
    authority_code: &str,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> DbResult<Vec<ProcedureSatisfaction>> {
    let rows: Vec<(String, i64, i64)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT f.procedure_id, COUNT(*) AS n, CAST(SUM(r.score) AS BIGINT) AS total
         FROM satisfaction_ratings r JOIN filings f ON f.id = r.filing_id
         WHERE EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.authority_code = $1)
           AND r.created_at >= $2 AND r.created_at < $3
         GROUP BY f.procedure_id ORDER BY f.procedure_id")
        .bind(authority_code).bind(from_ms.unwrap_or(i64::MIN)).bind(to_ms.unwrap_or(i64::MAX))
        .fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(procedure_id, count, sum)| ProcedureSatisfaction {
            procedure_id,
            count,
            sum,
        })
        .collect())
}
