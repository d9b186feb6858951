//! In-app notifications of provider users and their e-mail preference (immediate, daily
//! digest or none), plus the look-ups of the periodic sweep (drafts, returned cases and
//! designations that may need a reminder). A notification is unique per (user, dedupe_key),
//! so writing it again is a no-op: the sweep and the deciding use cases are idempotent.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    /// `case_returned`, `case_accepted`, `deadline`, `designation_expiry`.
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Where the notification leads (a path inside the site, e.g. `/filings/<id>`).
    pub href: String,
    pub dedupe_key: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
    pub mailed_at: Option<i64>,
}

/// The columns of a [`NotificationRow`], in order (a literal, so queries stay static text).
macro_rules! columns {
    () => {
        "id, user_id, kind, title, body, href, dedupe_key, created_at, read_at, mailed_at"
    };
}

/// Inserts the notification unless the user already has one with its `dedupe_key`; returns
/// whether it was new.
pub async fn insert(tx: &mut Tx, n: &NotificationRow) -> DbResult<bool> {
    let rows = with_conn!(tx, c => sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, body, href, dedupe_key, created_at, read_at, mailed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (user_id, dedupe_key) DO NOTHING")
        .bind(&n.id).bind(&n.user_id).bind(&n.kind).bind(&n.title).bind(&n.body).bind(&n.href)
        .bind(&n.dedupe_key).bind(n.created_at).bind(n.read_at).bind(n.mailed_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(rows == 1)
}

/// A user's notifications, newest first; `unread_only` leaves out those already read.
pub async fn list_of_user(
    tx: &mut Tx,
    user_id: &str,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<NotificationRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, NotificationRow>(sql)
        .bind(user_id).bind(i64::from(unread_only)).bind(limit).bind(offset)
        .fetch_all(c).await)?,
    )
}

/// How many notifications a user has (`unread_only`: not yet read).
pub async fn count_of_user(tx: &mut Tx, user_id: &str, unread_only: bool) -> DbResult<i64> {
    let r: (i64,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)")
        .bind(user_id).bind(i64::from(unread_only)).fetch_one(c).await)?;
    Ok(r.0)
}

/// One notification of one user (another user's is `NotFound`).
pub async fn get_of_user(tx: &mut Tx, user_id: &str, id: &str) -> DbResult<NotificationRow> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM notifications WHERE id = $1 AND user_id = $2"
    );
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, NotificationRow>(sql)
        .bind(id).bind(user_id).fetch_one(c).await)?,
    )
}

/// Marks one of the user's notifications read (no-op when already read); returns rows changed.
pub async fn mark_read(tx: &mut Tx, user_id: &str, id: &str, now: i64) -> DbResult<u64> {
    Ok(with_conn!(tx, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL")
        .bind(now).bind(id).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?)
}

/// Marks every unread notification of the user read; returns how many.
pub async fn mark_all_read(tx: &mut Tx, user_id: &str, now: i64) -> DbResult<u64> {
    Ok(with_conn!(tx, c => sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
        .bind(now).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?)
}

/// The user's notifications not yet sent by e-mail, oldest first.
pub async fn unmailed_of_user(tx: &mut Tx, user_id: &str) -> DbResult<Vec<NotificationRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM notifications WHERE user_id = $1 AND mailed_at IS NULL ORDER BY created_at, id"
    );
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, NotificationRow>(sql)
        .bind(user_id).fetch_all(c).await)?,
    )
}

/// Records that a notification went out by e-mail (only the first time counts).
pub async fn set_mailed(tx: &mut Tx, id: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "UPDATE notifications SET mailed_at = $1 WHERE id = $2 AND mailed_at IS NULL")
        .bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A provider user who may be notified, with their e-mail preference (`None`: never set,
/// which means immediate).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Recipient {
    pub user_id: String,
    pub display_name: String,
    pub email: String,
    pub email_mode: Option<String>,
}

/// The active provider users of a corporation.
pub async fn corporation_users(tx: &mut Tx, corporation_id: &str) -> DbResult<Vec<Recipient>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, Recipient>(
        "SELECT DISTINCT u.id AS user_id, u.display_name, u.email, p.email_mode
         FROM users u JOIN memberships m ON m.user_id = u.id
         LEFT JOIN notification_preferences p ON p.user_id = u.id
         WHERE m.corporation_id = $1 AND m.role = 'provider' AND u.disabled_at IS NULL
         ORDER BY u.id")
        .bind(corporation_id).fetch_all(c).await)?)
}

/// Active users who chose the daily digest and have notifications not yet mailed.
pub async fn digest_recipients(tx: &mut Tx) -> DbResult<Vec<Recipient>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, Recipient>(
        "SELECT u.id AS user_id, u.display_name, u.email, p.email_mode
         FROM users u JOIN notification_preferences p ON p.user_id = u.id
         WHERE p.email_mode = 'daily' AND u.disabled_at IS NULL
           AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.mailed_at IS NULL)
         ORDER BY u.id")
        .fetch_all(c).await)?)
}

/// A user's e-mail preference, if set.
pub async fn get_preference(tx: &mut Tx, user_id: &str) -> DbResult<Option<String>> {
    let r: Option<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT email_mode FROM notification_preferences WHERE user_id = $1")
        .bind(user_id).fetch_optional(c).await)?;
    Ok(r.map(|r| r.0))
}

/// Sets a user's e-mail preference.
pub async fn set_preference(tx: &mut Tx, user_id: &str, mode: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO notification_preferences (user_id, email_mode, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET email_mode = excluded.email_mode, updated_at = excluded.updated_at")
        .bind(user_id).bind(mode).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---- What the sweep looks at --------------------------------------------------------------

/// Every draft (the caller computes each one's due date from its procedure and answers).
pub async fn drafts(tx: &mut Tx) -> DbResult<Vec<crate::filings::FilingRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, crate::filings::FilingRow>(
        "SELECT id, corporation_id, procedure_id, procedure_version, status, data, reference, created_by, created_at, updated_at, submitted_at, lock_version, migrated_from
         FROM filings WHERE status = 'draft' ORDER BY id")
        .fetch_all(c).await)?,
    )
}

/// A returned case waiting for the provider, with its due date.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueCaseRow {
    pub id: String,
    pub filing_id: String,
    pub corporation_id: String,
    pub procedure_id: String,
    pub reference: String,
    pub authority_name: String,
    pub due_on: String,
}

/// Returned cases due between `from` and `to` (`YYYY-MM-DD`, inclusive).
pub async fn returned_cases_due(tx: &mut Tx, from: &str, to: &str) -> DbResult<Vec<DueCaseRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DueCaseRow>(
        "SELECT c.id, c.filing_id, c.corporation_id, c.procedure_id, c.reference, a.name AS authority_name, c.due_on
         FROM cases c JOIN authorities a ON a.code = c.authority_code
         WHERE c.status = 'returned' AND c.due_on IS NOT NULL AND c.due_on >= $1 AND c.due_on <= $2
         ORDER BY c.id")
        .bind(from).bind(to).fetch_all(c).await)?)
}

/// A designation ending soon, with what its notice names.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExpiringRow {
    pub id: String,
    pub corporation_id: String,
    pub establishment_name: String,
    pub office_number: String,
    pub service_code: String,
    pub authority_name: String,
    pub valid_until: String,
}

/// Designations whose last valid day is between `from` and `to` (inclusive).
pub async fn designations_ending(tx: &mut Tx, from: &str, to: &str) -> DbResult<Vec<ExpiringRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, ExpiringRow>(
        "SELECT d.id, e.corporation_id, e.name AS establishment_name, e.office_number, d.service_code,
                a.name AS authority_name, d.valid_until
         FROM designations d JOIN establishments e ON e.id = d.establishment_id
         JOIN authorities a ON a.code = d.authority_code
         WHERE d.valid_until >= $1 AND d.valid_until <= $2
         ORDER BY d.valid_until, d.id")
        .bind(from).bind(to).fetch_all(c).await)?)
}
