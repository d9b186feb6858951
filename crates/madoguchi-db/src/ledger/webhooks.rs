//! Webhook endpoints of an authority, the deliveries of feed entries to them, and every HTTP
//! attempt. A delivery is carried by a job (`jobs.dedup_key = job_key`); the job queue does the
//! scheduling, these rows keep what the authority's admin is shown.

use crate::{DbError, DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub authority_code: String,
    pub url: String,
    pub secret: String,
    pub description: String,
    /// 1 active, 0 paused.
    pub active: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub authority_code: String,
    pub seq: i64,
    /// `pending`, `delivered`, `failed`.
    pub status: String,
    pub attempts: i64,
    pub job_key: String,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempt_no: i64,
    pub started_at: i64,
    pub finished_at: i64,
    /// `ok`, `http_error`, `network_error`, `timeout`.
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

pub async fn insert_endpoint(tx: &mut Tx, e: &EndpointRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO webhook_endpoints (id, authority_code, url, secret, description, active, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&e.id).bind(&e.authority_code).bind(&e.url).bind(&e.secret).bind(&e.description)
        .bind(e.active).bind(&e.created_by).bind(e.created_at).bind(e.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_endpoint(tx: &mut Tx, id: &str) -> DbResult<EndpointRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EndpointRow>(
        "SELECT id, authority_code, url, secret, description, active, created_by, created_at, updated_at
         FROM webhook_endpoints WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// An authority's endpoints, oldest first; `only_active` for the ones to deliver to.
pub async fn endpoints_of(
    tx: &mut Tx,
    authority_code: &str,
    only_active: bool,
) -> DbResult<Vec<EndpointRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, EndpointRow>(
        "SELECT id, authority_code, url, secret, description, active, created_by, created_at, updated_at
         FROM webhook_endpoints WHERE authority_code = $1 AND (active = 1 OR $2 = 0) ORDER BY created_at, id")
        .bind(authority_code).bind(i64::from(only_active)).fetch_all(c).await)?)
}

pub async fn set_endpoint_active(tx: &mut Tx, id: &str, active: bool, now: i64) -> DbResult<()> {
    let n = with_conn!(tx, c => sqlx::query(
        "UPDATE webhook_endpoints SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(active)).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

pub async fn insert_delivery(tx: &mut Tx, d: &DeliveryRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, authority_code, seq, status, attempts, job_key, last_status_code, last_error, created_at, updated_at, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(&d.id).bind(&d.endpoint_id).bind(&d.authority_code).bind(d.seq).bind(&d.status)
        .bind(d.attempts).bind(&d.job_key).bind(d.last_status_code).bind(&d.last_error)
        .bind(d.created_at).bind(d.updated_at).bind(d.delivered_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_delivery(tx: &mut Tx, id: &str) -> DbResult<DeliveryRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DeliveryRow>(
        "SELECT id, endpoint_id, authority_code, seq, status, attempts, job_key, last_status_code, last_error, created_at, updated_at, delivered_at
         FROM webhook_deliveries WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// An endpoint's deliveries, newest entry first, optionally only one status.
pub async fn deliveries_of(
    tx: &mut Tx,
    endpoint_id: &str,
    status: Option<&str>,
    limit: i64,
) -> DbResult<Vec<DeliveryRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DeliveryRow>(
        "SELECT id, endpoint_id, authority_code, seq, status, attempts, job_key, last_status_code, last_error, created_at, updated_at, delivered_at
         FROM webhook_deliveries WHERE endpoint_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2)
         ORDER BY seq DESC LIMIT $3")
        .bind(endpoint_id).bind(status).bind(limit).fetch_all(c).await)?)
}

/// Attempts of one delivery, in order.
pub async fn attempts_of(tx: &mut Tx, delivery_id: &str) -> DbResult<Vec<AttemptRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AttemptRow>(
        "SELECT id, delivery_id, attempt_no, started_at, finished_at, outcome, status_code, error
         FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt_no")
        .bind(delivery_id).fetch_all(c).await)?)
}

/// Records one HTTP attempt and its effect on the delivery (`status`: `delivered`, `pending`
/// for a retry, `failed` when no retry is left). Returns the attempt's number.
pub async fn record_attempt(tx: &mut Tx, a: &AttemptRow, status: &str) -> DbResult<i64> {
    let (n,): (i64,) = with_conn!(tx, c => sqlx::query_as(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $1, last_status_code = $2, last_error = $3,
                updated_at = $4, delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END
         WHERE id = $5 RETURNING attempts")
        .bind(status).bind(a.status_code).bind(&a.error).bind(a.finished_at).bind(&a.delivery_id)
        .fetch_one(c).await)?;
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, attempt_no, started_at, finished_at, outcome, status_code, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&a.id).bind(&a.delivery_id).bind(n).bind(a.started_at).bind(a.finished_at)
        .bind(&a.outcome).bind(a.status_code).bind(&a.error)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Starts a new round of a delivery (manual redelivery): pending again, carried by `job_key`.
pub async fn restart_delivery(tx: &mut Tx, id: &str, job_key: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', job_key = $1, updated_at = $2 WHERE id = $3")
        .bind(job_key).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Postpones the queued jobs of an endpoint's other pending deliveries to `until` (after a
/// connection failure or timeout, so a dead endpoint costs one timeout per back-off period
/// instead of one per delivery). Returns how many jobs moved.
pub async fn postpone_endpoint(
    tx: &mut Tx,
    endpoint_id: &str,
    until: i64,
    now: i64,
) -> DbResult<u64> {
    Ok(with_conn!(tx, c => sqlx::query(
        "UPDATE jobs SET run_at = $1, updated_at = $2
         WHERE status = 'queued' AND run_at < $1
           AND dedup_key IN (SELECT job_key FROM webhook_deliveries WHERE endpoint_id = $3 AND status = 'pending')")
        .bind(until).bind(now).bind(endpoint_id).execute(c).await.map(|r| r.rows_affected()))?)
}
