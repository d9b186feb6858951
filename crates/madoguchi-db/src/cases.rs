//! Cases: one per authority concerned by a submitted filing, each with its own status track,
//! the designations it concerns, and its event history (messages to the provider and internal
//! hand-over notes, which are kept apart by `visibility`).

use crate::{DbError, DbResult, Tx, with_conn};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub filing_id: String,
    pub corporation_id: String,
    pub authority_code: String,
    pub procedure_id: String,
    /// `submitted`, `returned`, `accepted`, `withdrawn`.
    pub status: String,
    pub current_version_id: String,
    /// 到達番号 of this case.
    pub reference: String,
    pub assignee_id: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub decided_at: Option<i64>,
    /// Due date (`YYYY-MM-DD`) from the procedure's deadline or the authority's own.
    pub due_on: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseEventRow {
    pub id: String,
    pub case_id: String,
    /// `submitted`, `resubmitted`, `returned`, `accepted`, `withdrawn`, `comment`, `internal_note`.
    pub kind: String,
    /// `provider` (the provider sees it) or `internal` (authority staff only).
    pub visibility: String,
    pub actor_id: String,
    pub at: i64,
    pub version_id: Option<String>,
    pub message: String,
    /// JSON array of field paths the event points at (pinned fields of a return).
    pub fields: String,
    /// JSON array of attachment ids sent with the event.
    pub attachments: String,
}

/// A case with the names a list needs, joined in one query.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CaseListRow {
    pub id: String,
    pub filing_id: String,
    pub authority_code: String,
    pub authority_name: String,
    pub corporation_name: String,
    pub procedure_id: String,
    pub status: String,
    pub reference: String,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub due_on: Option<String>,
}

pub async fn insert_case(tx: &mut Tx, r: &CaseRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO cases (id, filing_id, corporation_id, authority_code, procedure_id, status, current_version_id, reference, assignee_id, submitted_at, updated_at, decided_at, due_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
        .bind(&r.id).bind(&r.filing_id).bind(&r.corporation_id).bind(&r.authority_code).bind(&r.procedure_id)
        .bind(&r.status).bind(&r.current_version_id).bind(&r.reference).bind(&r.assignee_id)
        .bind(r.submitted_at).bind(r.updated_at).bind(r.decided_at).bind(&r.due_on)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get_case(tx: &mut Tx, id: &str) -> DbResult<CaseRow> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CaseRow>(
        "SELECT id, filing_id, corporation_id, authority_code, procedure_id, status, current_version_id, reference, assignee_id, submitted_at, updated_at, decided_at, due_on
         FROM cases WHERE id = $1")
        .bind(id).fetch_one(c).await)?)
}

pub async fn cases_of_filing(tx: &mut Tx, filing_id: &str) -> DbResult<Vec<CaseRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CaseRow>(
        "SELECT id, filing_id, corporation_id, authority_code, procedure_id, status, current_version_id, reference, assignee_id, submitted_at, updated_at, decided_at, due_on
         FROM cases WHERE filing_id = $1 ORDER BY authority_code")
        .bind(filing_id).fetch_all(c).await)?)
}

/// Moves a case from one of `from` statuses to `to`, atomically: the row changes only if its
/// status is still one of `from` (so two reviewers accepting at once yield one success and
/// one `Conflict`).
pub async fn transition(
    tx: &mut Tx,
    id: &str,
    from: &[&str],
    to: &str,
    version_id: Option<&str>,
    decided_at: Option<i64>,
    now: i64,
) -> DbResult<()> {
    // `from` holds at most a few fixed statuses; bind up to three.
    let f = |i: usize| from.get(i).copied().unwrap_or(from[0]);
    let res = with_conn!(tx, c => sqlx::query(
        "UPDATE cases SET status = $1, current_version_id = COALESCE($2, current_version_id),
                decided_at = COALESCE($3, decided_at), updated_at = $4
         WHERE id = $5 AND status IN ($6, $7, $8)")
        .bind(to).bind(version_id).bind(decided_at).bind(now).bind(id)
        .bind(f(0)).bind(f(1)).bind(f(2))
        .execute(c).await.map(|r| r.rows_affected()))?;
    if res == 0 {
        return Err(DbError::Conflict {
            constraint: "cases.status".into(),
        });
    }
    Ok(())
}

pub async fn set_assignee(
    tx: &mut Tx,
    id: &str,
    assignee_id: Option<&str>,
    now: i64,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE cases SET assignee_id = $1, updated_at = $2 WHERE id = $3")
        .bind(assignee_id).bind(now).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_case_designation(
    tx: &mut Tx,
    case_id: &str,
    designation_id: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("INSERT INTO case_designations (case_id, designation_id) VALUES ($1, $2)")
        .bind(case_id).bind(designation_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The designations a case concerns.
pub async fn case_designations(
    tx: &mut Tx,
    case_id: &str,
) -> DbResult<Vec<crate::registry::DesignationRow>> {
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, crate::registry::DesignationRow>(
        "SELECT d.id, d.establishment_id, d.service_code, d.authority_code, d.valid_from, d.valid_until
         FROM case_designations cd JOIN designations d ON d.id = cd.designation_id
         WHERE cd.case_id = $1 ORDER BY d.establishment_id, d.service_code")
        .bind(case_id).fetch_all(c).await)?,
    )
}

pub async fn insert_event(tx: &mut Tx, e: &CaseEventRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO case_events (id, case_id, kind, visibility, actor_id, at, version_id, message, fields, attachments)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(&e.id).bind(&e.case_id).bind(&e.kind).bind(&e.visibility).bind(&e.actor_id).bind(e.at)
        .bind(&e.version_id).bind(&e.message).bind(&e.fields).bind(&e.attachments)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Events of a case in time order. `include_internal = false` is the provider's view: the
/// filter is in SQL so internal notes never leave the database for a provider request.
pub async fn events_of_case(
    tx: &mut Tx,
    case_id: &str,
    include_internal: bool,
) -> DbResult<Vec<CaseEventRow>> {
    let sql = if include_internal {
        "SELECT id, case_id, kind, visibility, actor_id, at, version_id, message, fields, attachments
         FROM case_events WHERE case_id = $1 ORDER BY at, id"
    } else {
        "SELECT id, case_id, kind, visibility, actor_id, at, version_id, message, fields, attachments
         FROM case_events WHERE case_id = $1 AND visibility = 'provider' ORDER BY at, id"
    };
    Ok(
        with_conn!(tx, c => sqlx::query_as::<_, CaseEventRow>(sql).bind(case_id).fetch_all(c).await)?,
    )
}

/// Which open cases by due date: `due_on` within `[from, to]` (either bound optional) and
/// the case still awaiting the authority or the provider (submitted / returned).
#[derive(Clone, Debug, Default)]
pub struct DueFilter {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// An authority's inbox, newest activity first, optionally limited to one status and to open
/// cases due within a range.
pub async fn inbox(
    tx: &mut Tx,
    authority_code: &str,
    status: Option<&str>,
    due: Option<&DueFilter>,
    limit: i64,
    offset: i64,
) -> DbResult<Vec<CaseListRow>> {
    let (from, to) = match due {
        Some(d) => (
            Some(d.from.clone().unwrap_or_else(|| "0000-01-01".into())),
            Some(d.to.clone().unwrap_or_else(|| "9999-12-31".into())),
        ),
        None => (None, None),
    };
    Ok(with_conn!(tx, c => sqlx::query_as::<_, CaseListRow>(
        "SELECT c.id, c.filing_id, c.authority_code, a.name AS authority_name, co.name AS corporation_name,
                c.procedure_id, c.status, c.reference, c.submitted_at, c.updated_at, c.due_on
         FROM cases c JOIN authorities a ON a.code = c.authority_code JOIN corporations co ON co.id = c.corporation_id
         WHERE c.authority_code = $1 AND (CAST($2 AS TEXT) IS NULL OR c.status = $2)
           AND (CAST($5 AS TEXT) IS NULL
                OR (c.due_on >= $5 AND c.due_on <= $6 AND c.status IN ('submitted', 'returned')))
         ORDER BY c.updated_at DESC, c.id DESC LIMIT $3 OFFSET $4")
        .bind(authority_code).bind(status).bind(limit).bind(offset).bind(from).bind(to)
        .fetch_all(c).await)?)
}
