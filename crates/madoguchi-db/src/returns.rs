//! The provider's answers to a return (差戻し), one row per pinned item of the return event:
//! replies being written (`sent_version_id` NULL), then at resubmission the record of how each
//! pinned item was answered (changed, and/or a reply) with the version that answered it.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReplyRow {
    /// The `returned` case event the item was pinned by.
    pub event_id: String,
    pub case_id: String,
    /// The pinned path (`fields.x`, `attachments.y`, …).
    pub item: String,
    pub reply: String,
    /// 1 when the resubmitted version changed the item.
    pub changed: i64,
    pub user_id: String,
    pub updated_at: i64,
    /// The version that answered the item (set at resubmission).
    pub sent_version_id: Option<String>,
}

/// The columns of a [`ReplyRow`], in order (a literal, so queries stay static text).
macro_rules! columns {
    () => {
        "event_id, case_id, item, reply, changed, user_id, updated_at, sent_version_id"
    };
}

/// Writes (or rewrites) the reply being prepared to one pinned item.
pub async fn save_draft(tx: &mut Tx, r: &ReplyRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO return_replies (event_id, case_id, item, reply, changed, user_id, updated_at, sent_version_id)
         VALUES ($1, $2, $3, $4, 0, $5, $6, NULL)
         ON CONFLICT (event_id, item) DO UPDATE SET reply = excluded.reply, user_id = excluded.user_id,
             updated_at = excluded.updated_at
         WHERE return_replies.sent_version_id IS NULL")
        .bind(&r.event_id).bind(&r.case_id).bind(&r.item).bind(&r.reply).bind(&r.user_id).bind(r.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records how a pinned item was answered by the resubmitted version.
pub async fn record_sent(tx: &mut Tx, r: &ReplyRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO return_replies (event_id, case_id, item, reply, changed, user_id, updated_at, sent_version_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (event_id, item) DO UPDATE SET reply = excluded.reply, changed = excluded.changed,
             user_id = excluded.user_id, updated_at = excluded.updated_at, sent_version_id = excluded.sent_version_id")
        .bind(&r.event_id).bind(&r.case_id).bind(&r.item).bind(&r.reply).bind(r.changed)
        .bind(&r.user_id).bind(r.updated_at).bind(&r.sent_version_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every reply to the pins of one return event, in pin-path order.
pub async fn of_event(tx: &mut Tx, event_id: &str) -> DbResult<Vec<ReplyRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM return_replies WHERE event_id = $1 ORDER BY item"
    );
    Ok(with_conn!(tx, c => sqlx::query_as::<_, ReplyRow>(sql)
        .bind(event_id).fetch_all(c).await)?)
}

/// Every reply of a case (all its returns).
pub async fn of_case(tx: &mut Tx, case_id: &str) -> DbResult<Vec<ReplyRow>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM return_replies WHERE case_id = $1 ORDER BY event_id, item"
    );
    Ok(with_conn!(tx, c => sqlx::query_as::<_, ReplyRow>(sql)
        .bind(case_id).fetch_all(c).await)?)
}
