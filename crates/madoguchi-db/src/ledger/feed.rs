//! The changes feed: per authority, entries numbered 1, 2, 3 … without gaps. The number is
//! taken from the counter row `ledger_feed:<authority>` in the transaction that makes the
//! change: on PostgreSQL the counter row's lock orders concurrent writers (a later number
//! cannot commit before an earlier one), on SQLite the write transaction is exclusive anyway.
//! Nothing here depends on autoincrement or clocks, which can commit out of order.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeedRow {
    pub authority_code: String,
    pub seq: i64,
    /// `case.accepted`, `case.returned`, `registry.changed`, `registry.imported`.
    pub kind: String,
    pub case_id: Option<String>,
    pub at: i64,
    /// The entry as published (JSON text).
    pub payload: String,
}

/// A registry change recorded by an acceptance (`registry_changes`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RegistryChangeRow {
    pub id: String,
    pub target_kind: String,
    pub target_id: String,
    pub field_key: String,
    /// JSON text.
    pub old_value: String,
    /// JSON text.
    pub new_value: String,
}

/// Takes the next sequence number of an authority's feed (1 for the first entry). Call in
/// the transaction that inserts the entry; call for several authorities in a fixed order
/// (sorted codes) so two transactions never wait on each other's counters.
pub async fn next_seq(tx: &mut Tx, authority_code: &str) -> DbResult<i64> {
    let name = format!("ledger_feed:{authority_code}");
    let (v,): (i64,) = with_conn!(tx, c => sqlx::query_as(
        "INSERT INTO counters (name, value) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value")
        .bind(&name).fetch_one(c).await)?;
    Ok(v)
}

pub async fn insert_entry(tx: &mut Tx, e: &FeedRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO ledger_feed (authority_code, seq, kind, case_id, at, payload) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&e.authority_code).bind(e.seq).bind(&e.kind).bind(&e.case_id).bind(e.at).bind(&e.payload)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Entries after `after_seq`, oldest first, at most `limit`.
pub async fn entries_after(
    tx: &mut Tx,
    authority_code: &str,
    after_seq: i64,
    limit: i64,
) -> DbResult<Vec<FeedRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FeedRow>(
        "SELECT authority_code, seq, kind, case_id, at, payload FROM ledger_feed
         WHERE authority_code = $1 AND seq > $2 ORDER BY seq LIMIT $3")
        .bind(authority_code).bind(after_seq).bind(limit).fetch_all(c).await)?)
}

pub async fn get_entry(tx: &mut Tx, authority_code: &str, seq: i64) -> DbResult<FeedRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, FeedRow>(
        "SELECT authority_code, seq, kind, case_id, at, payload FROM ledger_feed
         WHERE authority_code = $1 AND seq = $2")
        .bind(authority_code).bind(seq).fetch_one(c).await)?)
}

/// The newest sequence number of an authority's feed (0 when empty).
pub async fn latest_seq(tx: &mut Tx, authority_code: &str) -> DbResult<i64> {
    let (v,): (Option<i64>,) = with_conn!(tx, c => sqlx::query_as(
        "SELECT MAX(seq) FROM ledger_feed WHERE authority_code = $1")
        .bind(authority_code).fetch_one(c).await)?;
    Ok(v.unwrap_or(0))
}

/// The registry changes a case's acceptance recorded, in the order they were made.
pub async fn registry_changes_of_case(
    tx: &mut Tx,
    case_id: &str,
) -> DbResult<Vec<RegistryChangeRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, RegistryChangeRow>(
        "SELECT id, target_kind, target_id, field_key, old_value, new_value FROM registry_changes
         WHERE case_id = $1 ORDER BY id")
        .bind(case_id).fetch_all(c).await)?)
}

/// Authorities that designate at least one establishment of the corporation (their ledgers
/// hold the corporation's record), sorted.
pub async fn authorities_covering_corporation(
    tx: &mut Tx,
    corporation_id: &str,
) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT DISTINCT d.authority_code FROM designations d JOIN establishments e ON e.id = d.establishment_id
         WHERE e.corporation_id = $1 ORDER BY d.authority_code")
        .bind(corporation_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Authorities that designate the establishment, sorted.
pub async fn authorities_covering_establishment(
    tx: &mut Tx,
    establishment_id: &str,
) -> DbResult<Vec<String>> {
    let rows: Vec<(String,)> = with_conn!(tx, c => sqlx::query_as(
        "SELECT DISTINCT authority_code FROM designations WHERE establishment_id = $1 ORDER BY authority_code")
        .bind(establishment_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
