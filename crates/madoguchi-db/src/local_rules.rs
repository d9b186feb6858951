//! Local rules (独自ルール) kept in the database by authority admins: every publication (never
//! updated, so the rule in force at a given time can be read back) and the admin's working
//! copy (draft) of each rule.

use crate::{DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PublishedRuleRow {
    pub id: String,
    pub authority_code: String,
    pub procedure_id: String,
    /// The TOML document.
    pub source: String,
    pub sha256: String,
    pub published_by: String,
    pub published_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DraftRuleRow {
    pub authority_code: String,
    pub procedure_id: String,
    pub source: String,
    pub updated_by: String,
    pub updated_at: i64,
}

/// The columns of a publication (macros so each query stays one literal string).
macro_rules! published_columns {
    () => {
        "SELECT r.id, r.authority_code, r.procedure_id, r.source, r.sha256, r.published_by, r.published_at
         FROM authority_local_rules r "
    };
}

/// "No later publication of the same rule exists" (ties on the time broken by the
/// time-ordered id).
macro_rules! newest {
    () => {
        " NOT EXISTS (SELECT 1 FROM authority_local_rules n
          WHERE n.authority_code = r.authority_code AND n.procedure_id = r.procedure_id
            AND (n.published_at > r.published_at OR (n.published_at = r.published_at AND n.id > r.id))) "
    };
}

pub async fn insert_published(tx: &mut Tx, r: &PublishedRuleRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO authority_local_rules (id, authority_code, procedure_id, source, sha256, published_by, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&r.id).bind(&r.authority_code).bind(&r.procedure_id).bind(&r.source)
        .bind(&r.sha256).bind(&r.published_by).bind(r.published_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The newest publication of every rule (what applies now).
pub async fn current_published(tx: &mut Tx) -> DbResult<Vec<PublishedRuleRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, PublishedRuleRow>(concat!(
        published_columns!(), "WHERE", newest!(), "ORDER BY r.authority_code, r.procedure_id"))
        .fetch_all(c).await)?,
    )
}

/// The newest publication of one rule.
pub async fn latest_published(
    tx: &mut Tx,
    authority_code: &str,
    procedure_id: &str,
) -> DbResult<Option<PublishedRuleRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, PublishedRuleRow>(concat!(
        published_columns!(), "WHERE r.authority_code = $1 AND r.procedure_id = $2 AND", newest!()))
        .bind(authority_code).bind(procedure_id).fetch_optional(c).await)?,
    )
}

/// Every publication of one rule, newest first.
pub async fn history(
    tx: &mut Tx,
    authority_code: &str,
    procedure_id: &str,
) -> DbResult<Vec<PublishedRuleRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, PublishedRuleRow>(concat!(
        published_columns!(), "WHERE r.authority_code = $1 AND r.procedure_id = $2
         ORDER BY r.published_at DESC, r.id DESC"))
        .bind(authority_code).bind(procedure_id).fetch_all(c).await)?,
    )
}

pub async fn get_draft(
    tx: &mut Tx,
    authority_code: &str,
    procedure_id: &str,
) -> DbResult<Option<DraftRuleRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DraftRuleRow>(
        "SELECT authority_code, procedure_id, source, updated_by, updated_at FROM authority_local_rule_drafts
         WHERE authority_code = $1 AND procedure_id = $2")
        .bind(authority_code).bind(procedure_id).fetch_optional(c).await)?)
}

/// The drafts of an authority, by procedure.
pub async fn drafts_of(tx: &mut Tx, authority_code: &str) -> DbResult<Vec<DraftRuleRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, DraftRuleRow>(
        "SELECT authority_code, procedure_id, source, updated_by, updated_at FROM authority_local_rule_drafts
         WHERE authority_code = $1 ORDER BY procedure_id")
        .bind(authority_code).fetch_all(c).await)?)
}

pub async fn upsert_draft(tx: &mut Tx, d: &DraftRuleRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO authority_local_rule_drafts (authority_code, procedure_id, source, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (authority_code, procedure_id) DO UPDATE SET source = excluded.source,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at")
        .bind(&d.authority_code).bind(&d.procedure_id).bind(&d.source).bind(&d.updated_by).bind(d.updated_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a draft; whether there was one.
pub async fn delete_draft(tx: &mut Tx, authority_code: &str, procedure_id: &str) -> DbResult<bool> {
    let n = with_conn!(tx, c => sqlx::query(
        "DELETE FROM authority_local_rule_drafts WHERE authority_code = $1 AND procedure_id = $2")
        .bind(authority_code).bind(procedure_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
