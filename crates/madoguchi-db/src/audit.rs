//! The append-only audit chain. Each event's hash covers the previous event's hash and the
//! event's own content, so altering, removing or reordering any row breaks every later link.
//! Events appended in a transaction are chained and written when it commits, as its last
//! statements; writers serialize on the single `audit_head` row from then to the commit
//! (SQLite: the write transaction already holds the database lock; PostgreSQL: `FOR UPDATE`).

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

/// An audit event appended in a transaction, written to the chain when it commits.
#[derive(Clone, Debug)]
pub(crate) struct PendingAudit {
    at: i64,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    details: String,
}

/// Appends one event in the caller's transaction. It is chained and written when the
/// transaction commits (`Tx::commit`), after every other statement of the transaction, in the
/// order of the appends; a rolled-back transaction leaves no event.
pub async fn append(
    tx: &mut Tx,
    at: i64,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: &serde_json::Value,
) -> DbResult<()> {
    tx.pending_audit().push(PendingAudit {
        at,
        actor: actor.into(),
        action: action.into(),
        object_type: object_type.into(),
        object_id: object_id.into(),
        details: details.to_string(),
    });
    Ok(())
}

/// Rows per INSERT when writing pending events (9 values each, far below either backend's
/// limit on bound values).
const WRITE_CHUNK: usize = 100;

/// Chains `pending` onto the head and writes it: one read of the head (PostgreSQL: `FOR
/// UPDATE`, the chain's global lock, held from here to the commit), one multi-row INSERT per
/// [`WRITE_CHUNK`] events, one update of the head. Returns the last sequence number.
pub(crate) async fn write_pending(tx: &mut Tx, pending: Vec<PendingAudit>) -> DbResult<i64> {
    let head_sql = match tx.backend() {
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let (mut seq, mut hash): (i64, String) =
        with_conn!(tx, c => sqlx::query_as(head_sql).fetch_one(c).await)?;
    let mut rows = Vec::with_capacity(pending.len());
    for p in &pending {
        seq += 1;
        let next = chain_hash(
            &hash,
            &AuditRecord {
                seq,
                at: p.at,
                actor: &p.actor,
                action: &p.action,
                object_type: &p.object_type,
                object_id: &p.object_id,
                details: &p.details,
            },
        );
        rows.push((seq, p, std::mem::replace(&mut hash, next.clone()), next));
    }
    for chunk in rows.chunks(WRITE_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, details, prev_hash, hash) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        with_conn!(tx, c => {
            // Only placeholders are formatted into the text; every value is bound.
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (seq, p, prev, hash) in chunk {
                q = q.bind(*seq).bind(p.at).bind(&p.actor).bind(&p.action).bind(&p.object_type)
                    .bind(&p.object_id).bind(&p.details).bind(prev).bind(hash);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
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
