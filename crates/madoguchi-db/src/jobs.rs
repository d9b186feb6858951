//! The durable job queue. Jobs are enqueued in the same transaction as the state change that
//! causes them; a worker claims one with a single `UPDATE … RETURNING` (PostgreSQL adds
//! `FOR UPDATE SKIP LOCKED`; SQLite's write transaction is already exclusive), leases it for
//! a while, and records every attempt. A job whose lease ran out (worker died) is claimable again.

use crate::{Backend, DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub dedup_key: Option<String>,
    /// `queued`, `running`, `done`, `dead`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobAttemptRow {
    pub id: String,
    pub job_id: String,
    pub attempt_no: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub outcome: String,
    pub error: Option<String>,
}

/// Enqueues a job; with a `dedup_key` already present, does nothing (idempotent enqueue).
pub async fn enqueue(
    tx: &mut Tx,
    kind: &str,
    payload: &str,
    dedup_key: Option<&str>,
    run_at: i64,
    max_attempts: i64,
    now: i64,
) -> DbResult<()> {
    let id = crate::new_id();
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO jobs (id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7) ON CONFLICT (dedup_key) DO NOTHING")
        .bind(&id).bind(kind).bind(payload).bind(dedup_key).bind(max_attempts).bind(run_at).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Claims the next due job (or one whose lease expired) until `lease_until`.
pub async fn claim(tx: &mut Tx, now: i64, lease_until: i64) -> DbResult<Option<JobRow>> {
    let sql = match tx.backend() {
        Backend::Sqlite => "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
             WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
                         ORDER BY run_at, id LIMIT 1)
             RETURNING id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at",
        Backend::Postgres => "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $1, updated_at = $2
             WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_until < $2)
                         ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at",
    };
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, JobRow>(sql).bind(lease_until).bind(now).fetch_optional(c).await)?,
    )
}

/// Records an attempt and moves the job on: `done`, back to `queued` at `retry_at`, or `dead`.
pub async fn finish(
    tx: &mut Tx,
    job: &JobRow,
    started_at: i64,
    now: i64,
    error: Option<&str>,
    retry_at: Option<i64>,
) -> DbResult<()> {
    let outcome = match (error, retry_at) {
        (None, _) => "ok",
        (Some(_), Some(_)) => "retry",
        (Some(_), None) => "failed",
    };
    let status = match outcome {
        "ok" => "done",
        "retry" => "queued",
        _ => "dead",
    };
    let id = crate::new_id();
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO job_attempts (id, job_id, attempt_no, started_at, finished_at, outcome, error) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id).bind(&job.id).bind(job.attempts).bind(started_at).bind(now).bind(outcome).bind(error)
        .execute(c).await.map(|r| r.rows_affected()))?;
    with_conn!(tx, c => sqlx::query(
        "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $5")
        .bind(status).bind(retry_at).bind(error).bind(now).bind(&job.id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn list_jobs(tx: &mut Tx, limit: i64) -> DbResult<Vec<JobRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, JobRow>(
        "SELECT id, kind, payload, dedup_key, status, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at
         FROM jobs ORDER BY created_at DESC, id DESC LIMIT $1")
        .bind(limit).fetch_all(c).await)?)
}

pub async fn attempts_of(tx: &mut Tx, job_id: &str) -> DbResult<Vec<JobAttemptRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, JobAttemptRow>(
        "SELECT id, job_id, attempt_no, started_at, finished_at, outcome, error FROM job_attempts WHERE job_id = $1 ORDER BY attempt_no")
        .bind(job_id).fetch_all(c).await)?)
}

/// Earliest `run_at` of a queued job, so an idle worker knows how long it may sleep.
pub async fn next_run_at(tx: &mut Tx) -> DbResult<Option<i64>> {
    let r: (Option<i64>,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT MIN(run_at) FROM jobs WHERE status = 'queued'").fetch_one(c).await)?;
    Ok(r.0)
}

/// Whether a job with this dedup key was ever enqueued (whatever became of it).
pub async fn exists_with_dedup_key(tx: &mut Tx, dedup_key: &str) -> DbResult<bool> {
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT id FROM jobs WHERE dedup_key = $1")
        .bind(dedup_key).fetch_optional(c).await)?;
    Ok(r.is_some())
}
