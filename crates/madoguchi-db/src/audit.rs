//! The append-only audit chain. Each event's hash covers the previous event's hash and the
//! event's own content, so altering, removing or reordering any row breaks every later link.
//! Appends serialize on the single `audit_head` row (SQLite: the write transaction already
//! holds the database lock; PostgreSQL: `FOR UPDATE`).

use madoguchi_domain::audit::{AuditRecord, chain_hash};

use crate::{Backend, DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn record(&self) -> AuditRecord<'_> {
        AuditRecord {
            seq: self.seq,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            details: &self.details,
        }
    }
}

/// Appends one event in the caller's transaction; returns its sequence number.
pub async fn append(
    tx: &mut Tx,
    at: i64,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: &serde_json::Value,
) -> DbResult<i64> {
    let head_sql = match tx.backend() {
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let (prev_seq, prev_hash): (i64, String) =
        with_conn!(tx, c => sqlx::query_as(head_sql).fetch_one(c).await)?;
    let details = details.to_string();
    let seq = prev_seq + 1;
    let rec = AuditRecord {
        seq,
        at,
        actor,
        action,
        object_type,
        object_id,
        details: &details,
    };
    let hash = chain_hash(&prev_hash, &rec);
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(seq).bind(at).bind(actor).bind(action).bind(object_type).bind(object_id)
        .bind(&details).bind(&prev_hash).bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
    with_conn!(tx, c => sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq).bind(&hash).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(seq)
}

/// A page of events after `after_seq`, in order (verification streams the chain in pages).
pub async fn page(tx: &mut Tx, after_seq: i64, limit: i64) -> DbResult<Vec<AuditRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AuditRow>(
        "SELECT seq, at, actor, action, object_type, object_id, details, prev_hash, hash
         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after_seq).bind(limit).fetch_all(c).await)?)
}

/// The head: last sequence number and hash.
pub async fn head(tx: &mut Tx) -> DbResult<(i64, String)> {
    Ok(
        with_conn!(tx, c => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(c).await)?,
    )
}

/// Events about one object (for a case's history view and tests).
pub async fn of_object(tx: &mut Tx, object_type: &str, object_id: &str) -> DbResult<Vec<AuditRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, AuditRow>(
        "SELECT seq, at, actor, action, object_type, object_id, details, prev_hash, hash
         FROM audit_events WHERE object_type = $1 AND object_id = $2 ORDER BY seq")
        .bind(object_type).bind(object_id).fetch_all(c).await)?)
}
