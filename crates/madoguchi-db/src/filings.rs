//! Filings (a provider's one act of filing a procedure), their covered establishments,
//! their immutable submitted versions, and the idempotency keys of submissions.

use crate::{DbError, DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FilingRow {
    pub id: String,
    pub corporation_id: String,
    pub procedure_id: String,
    pub procedure_version: String,
    /// `draft`, `submitted` (at least one case exists) or `withdrawn`.
    pub status: String,
    /// The working copy of the answers (FilingData JSON).
    pub data: String,
    /// 到達番号 of the first submission.
    pub reference: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
    /// Incremented by every write; guards against lost updates.
    pub lock_version: i64,
    /// The form version this draft was moved from (its new fields are marked).
    pub migrated_from: Option<String>,
}

/// One immutable snapshot of what was submitted.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FilingVersionRow {
    pub id: String,
    pub filing_id: String,
    pub version_no: i64,
    pub data: String,
    /// JSON array of `{attachment_id, requirement_id}`.
    pub attachments: String,
    /// JSON array of establishment ids covered.
    pub establishments: String,
    pub created_by: String,
    pub created_at: i64,
}

pub async fn insert_filing(tx: &mut Tx, f: &FilingRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO filings (id, corporation_id, procedure_id, procedure_version, status, data, reference, created_by, created_at, updated_at, submitted_at, lock_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(&f.id).bind(&f.corporation_id).bind(&f.procedure_id).bind(&f.procedure_version)
        .bind(&f.status).bind(&f.data).bind(&f.reference).bind(&f.created_by)
        .bind(f.created_at).bind(f.updated_at).bind(f.submitted_at).bind(f.lock_version)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_filing(tx: &mut Tx, id: &str) -> DbResult<FilingRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FilingRow>(
        "SELECT id, corporation_id, procedure_id, procedure_version, status, data, reference, created_by, created_at, updated_at, submitted_at, lock_version, migrated_from
         FROM filings WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

/// Filings of one corporation, most recently changed first.
pub async fn list_filings_of(
    tx: &mut Tx,
    corporation_id: &str,
    limit: i64,
) -> DbResult<Vec<FilingRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FilingRow>(
        "SELECT id, corporation_id, procedure_id, procedure_version, status, data, reference, created_by, created_at, updated_at, submitted_at, lock_version, migrated_from
         FROM filings WHERE corporation_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2")
        .bind(corporation_id).bind(limit).fetch_all(c).await)?)
}

/// Writes the working copy if nobody else wrote since `expected_lock`; `Conflict` otherwise.
pub async fn update_filing_data(
    tx: &mut Tx,
    id: &str,
    data: &str,
    expected_lock: i64,
    now: i64,
) -> DbResult<()> {
    let res = with_conn!(tx, c => sqlx::query(
        "UPDATE filings SET data = $1, updated_at = $2, lock_version = lock_version + 1 WHERE id = $3 AND lock_version = $4")
        .bind(data).bind(now).bind(id).bind(expected_lock).execute(c).await.map(|r| r.rows_affected()))?;
    if res == 0 {
        return Err(DbError::Conflict {
            constraint: "filings.lock_version".into(),
        });
    }
    Ok(())
}

/// Moves a draft to another form version with its carried-over answers.
pub async fn migrate_version(
    tx: &mut Tx,
    id: &str,
    version: &str,
    data: &str,
    migrated_from: &str,
    expected_lock: i64,
    now: i64,
) -> DbResult<()> {
    let res = with_conn!(tx, c => sqlx::query(
        "UPDATE filings SET procedure_version = $1, data = $2, migrated_from = $3, updated_at = $4,
                lock_version = lock_version + 1
         WHERE id = $5 AND lock_version = $6 AND status = 'draft'")
        .bind(version).bind(data).bind(migrated_from).bind(now).bind(id).bind(expected_lock)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if res == 0 {
        return Err(DbError::Conflict {
            constraint: "filings.lock_version".into(),
        });
    }
    Ok(())
}

/// Changes the filing's status (and, on first submission, its reference and time).
pub async fn set_filing_status(
    tx: &mut Tx,
    id: &str,
    status: &str,
    reference: Option<&str>,
    submitted_at: Option<i64>,
    now: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE filings SET status = $1, reference = COALESCE(reference, $2), submitted_at = COALESCE(submitted_at, $3),
                updated_at = $4, lock_version = lock_version + 1 WHERE id = $5")
        .bind(status).bind(reference).bind(submitted_at).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_filing_establishments(
    tx: &mut Tx,
    filing_id: &str,
    establishment_ids: &[String],
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("DELETE FROM filing_establishments WHERE filing_id = $1")
        .bind(filing_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    for e in establishment_ids {
        with_conn!(tx, c => sqlx::query("INSERT INTO filing_establishments (filing_id, establishment_id) VALUES ($1, $2)")
            .bind(filing_id).bind(e).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn filing_establishments(tx: &mut Tx, filing_id: &str) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT fe.establishment_id FROM filing_establishments fe JOIN establishments e ON e.id = fe.establishment_id
         WHERE fe.filing_id = $1 ORDER BY e.office_number")
        .bind(filing_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn insert_version(tx: &mut Tx, v: &FilingVersionRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO filing_versions (id, filing_id, version_no, data, attachments, establishments, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&v.id).bind(&v.filing_id).bind(v.version_no).bind(&v.data).bind(&v.attachments)
        .bind(&v.establishments).bind(&v.created_by).bind(v.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_version(tx: &mut Tx, id: &str) -> DbResult<FilingVersionRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FilingVersionRow>(
        "SELECT id, filing_id, version_no, data, attachments, establishments, created_by, created_at FROM filing_versions WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

pub async fn list_versions(tx: &mut Tx, filing_id: &str) -> DbResult<Vec<FilingVersionRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FilingVersionRow>(
        "SELECT id, filing_id, version_no, data, attachments, establishments, created_by, created_at
         FROM filing_versions WHERE filing_id = $1 ORDER BY version_no")
        .bind(filing_id).fetch_all(c).await)?)
}

/// Number of the next version of a filing (1 for the first submission).
pub async fn next_version_no(tx: &mut Tx, filing_id: &str) -> DbResult<i64> {
    let r: (Option<i64>,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT MAX(version_no) FROM filing_versions WHERE filing_id = $1")
        .bind(filing_id).fetch_one(c).await)?;
    Ok(r.0.unwrap_or(0) + 1)
}

/// The filing an idempotency key was first used for, if it was used by this user.
pub async fn idempotency_lookup(tx: &mut Tx, user_id: &str, key: &str) -> DbResult<Option<String>> {
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT filing_id FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
        .bind(user_id).bind(key).fetch_optional(c).await)?;
    Ok(r.map(|r| r.0))
}

pub async fn idempotency_record(
    tx: &mut Tx,
    user_id: &str,
    key: &str,
    filing_id: &str,
    now: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO idempotency_keys (user_id, idem_key, filing_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(user_id).bind(key).bind(filing_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes the next value of a named counter (e.g. the day's 到達番号 sequence), inside the
/// caller's transaction so numbers are gap-free among committed submissions.
pub async fn next_counter(tx: &mut Tx, name: &str) -> DbResult<i64> {
    let r: (i64,) = with_conn!(tx, c => sqlx::query_as(
        "INSERT INTO counters (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value")
        .bind(name).fetch_one(c).await)?;
    Ok(r.0)
}

/// Serialises writers of one filing: PostgreSQL locks the row until commit; on SQLite the
/// write transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
pub async fn lock(tx: &mut Tx, id: &str) -> DbResult<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT id FROM filings WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut **t)
            .await?;
    }
    Ok(())
}

// ---- Tracking (provider portal, part B): the filing list by status, paginated ------------

/// Which filings the provider's list shows: `""` all; `draft`; `withdrawn` (the filing, or
/// one of its authorities); `submitted`, `returned`, `accepted` (at least one authority in
/// that status). A literal, so the query stays static text.
macro_rules! track_filter {
    () => {
        "f.corporation_id = $1 AND (
               $2 = ''
            OR ($2 = 'draft' AND f.status = 'draft')
            OR ($2 = 'withdrawn' AND (f.status = 'withdrawn'
                 OR EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = 'withdrawn')))
            OR ($2 IN ('submitted', 'returned', 'accepted')
                 AND EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = $2)))"
    };
}

/// One page of a corporation's filings under a status filter (see `track_filter!`), most
/// recently changed first.
pub async fn track_filings(
    tx: &mut Tx,
    corporation_id: &str,
    status: &str,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<FilingRow>> {
    let sql = concat!(
        "SELECT id, corporation_id, procedure_id, procedure_version, status, data, reference, created_by, created_at, updated_at, submitted_at, lock_version, migrated_from
         FROM filings f WHERE ",
        track_filter!(),
        " ORDER BY f.updated_at DESC, f.id DESC LIMIT $3 OFFSET $4"
    );
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FilingRow>(sql)
        .bind(corporation_id).bind(status).bind(limit).bind(offset).fetch_all(c).await)?)
}

/// How many of a corporation's filings each status filter holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackCounts {
    pub all: i64,
    pub draft: i64,
    pub submitted: i64,
    pub returned: i64,
    pub accepted: i64,
    pub withdrawn: i64,
}

pub async fn track_counts(tx: &mut Tx, corporation_id: &str) -> DbResult<TrackCounts> {
    let r: (i64, i64, i64, i64, i64, i64) = with_conn!(tx, c => sqlx::query_as(
        "SELECT COUNT(*),
                CAST(COALESCE(SUM(CASE WHEN f.status = 'draft' THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = 'submitted') THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = 'returned') THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = 'accepted') THEN 1 ELSE 0 END), 0) AS BIGINT),
                CAST(COALESCE(SUM(CASE WHEN f.status = 'withdrawn' OR EXISTS (SELECT 1 FROM cases c WHERE c.filing_id = f.id AND c.status = 'withdrawn') THEN 1 ELSE 0 END), 0) AS BIGINT)
         FROM filings f WHERE f.corporation_id = $1")
        .bind(corporation_id).fetch_one(c).await)?;
    Ok(TrackCounts {
        all: r.0,
        draft: r.1,
        submitted: r.2,
        returned: r.3,
        accepted: r.4,
        withdrawn: r.5,
    })
}
