//! The authority inbox: one page of an authority's cases, filtered and sorted, with each
//! reviewer's read markers; the read markers themselves; and each reviewer's saved queries.
//!
//! The page query is built from the active filters only: one plain condition per filter, all
//! values bound, so each filter can use an index and an absent filter costs nothing (no
//! `($x IS NULL OR col = $x)`). Pages are keyset pages: `(sort key, id)` after or before a
//! cursor, in the order of the `cases_inbox_*` indexes (migration 0010), so a page of 50 never
//! needs a sort step, however deep.

use crate::{DbResult, Tx, with_conn};

/// The value a case without a due date sorts as (after every real date): the expression of
/// the `cases_inbox_due` indexes, repeated verbatim so the planner can use them.
const DUE_KEY: &str = "COALESCE(c.due_on, '9999-12-31')";

/// What a page is ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Received (`submitted_at`).
    Received,
    /// Latest change (`updated_at`).
    Updated,
    /// Due date (cases without one last in ascending order).
    Due,
}

impl SortKey {
    fn expr(self) -> &'static str {
        match self {
            SortKey::Received => "c.submitted_at",
            SortKey::Updated => "c.updated_at",
            SortKey::Due => DUE_KEY,
        }
    }
}

/// A position in an order: the sort key's value at a row, and the row's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorKey {
    /// Milliseconds (received, updated).
    Time(i64),
    /// `YYYY-MM-DD`, or `9999-12-31` for no due date.
    Date(String),
}

/// Whose cases: nobody's, or one user's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    Unassigned,
    User(String),
}

/// One inbox page request. Every `Option` that is `None` adds no condition.
#[derive(Clone, Debug)]
pub struct InboxFilter {
    pub authority_code: String,
    /// The reviewer looking (for the read markers).
    pub viewer_id: String,
    pub status: Option<String>,
    pub procedure_id: Option<String>,
    /// A service type code; matches cases whose `service_codes` list it.
    pub service_code: Option<String>,
    pub assignee: Option<AssigneeFilter>,
    /// Open cases (submitted / returned) due within `[from, to]` (`YYYY-MM-DD`).
    pub due_from: Option<String>,
    pub due_to: Option<String>,
    /// Only cases the viewer has never opened.
    pub unread_only: bool,
    /// LIKE patterns over `search_text` (already escaped with `\`, wrapped in `%`), all of
    /// which must match.
    pub text_patterns: Vec<String>,
    pub sort: SortKey,
    pub descending: bool,
    /// Rows strictly after this position in the order (before it when `backwards`).
    pub cursor: Option<(CursorKey, String)>,
    /// Walk backwards from the cursor (a "previous page"); rows come back in page order.
    pub backwards: bool,
    pub limit: i64,
}

/// One case of a page, with the names and markers the list shows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboxRow {
    pub id: String,
    pub filing_id: String,
    pub procedure_id: String,
    pub status: String,
    pub reference: String,
    pub submitted_at: i64,
    pub updated_at: i64,
    pub due_on: Option<String>,
    pub due_key: String,
    pub service_codes: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub corporation_name: String,
    /// The filing's first establishment by name, and how many it covers.
    pub establishment_name: Option<String>,
    pub establishment_count: i64,
    /// The latest event of the case (submission, decision, message, note, assignment) by
    /// someone other than the viewer.
    pub activity_at: Option<i64>,
    /// When the viewer last opened the case (`None`: never).
    pub seen_at: Option<i64>,
}

enum Param {
    Text(String),
    Int(i64),
}

/// The page query for a filter: SQL text with `$n` placeholders and the values to bind.
fn build(f: &InboxFilter) -> (String, Vec<Param>) {
    let mut params: Vec<Param> = Vec::new();
    let mut bind = |p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    let viewer = bind(Param::Text(f.viewer_id.clone()));
    let mut conditions = vec![format!(
        "c.authority_code = {}",
        bind(Param::Text(f.authority_code.clone()))
    )];
    if let Some(s) = &f.status {
        conditions.push(format!("c.status = {}", bind(Param::Text(s.clone()))));
    }
    if let Some(p) = &f.procedure_id {
        conditions.push(format!("c.procedure_id = {}", bind(Param::Text(p.clone()))));
    }
    if let Some(s) = &f.service_code {
        conditions.push(format!(
            "c.service_codes LIKE {}",
            bind(Param::Text(format!("%,{s},%")))
        ));
    }
    match &f.assignee {
        Some(AssigneeFilter::Unassigned) => conditions.push("c.assignee_id IS NULL".into()),
        Some(AssigneeFilter::User(u)) => {
            conditions.push(format!("c.assignee_id = {}", bind(Param::Text(u.clone()))))
        }
        None => {}
    }
    if f.due_from.is_some() || f.due_to.is_some() {
        // Also spelled on the due order's expression, so the range is one of the partial
        // index `cases_inbox_open_due` (open cases in due order, migration 0012); the plain
        // `due_on` conditions keep cases without a due date out.
        conditions.push("c.status IN ('submitted', 'returned')".into());
        if let Some(from) = &f.due_from {
            let v = bind(Param::Text(from.clone()));
            conditions.push(format!("c.due_on >= {v} AND {DUE_KEY} >= {v}"));
        }
        if let Some(to) = &f.due_to {
            let v = bind(Param::Text(to.clone()));
            conditions.push(format!("c.due_on <= {v} AND {DUE_KEY} <= {v}"));
        }
    }
    if f.unread_only {
        conditions.push("r.seen_at IS NULL".into());
    }
    for p in &f.text_patterns {
        conditions.push(format!(
            "c.search_text LIKE {} ESCAPE '\\'",
            bind(Param::Text(p.clone()))
        ));
    }
    // Going backwards walks the order reversed from the cursor; the page is flipped after.
    let descending = f.descending != f.backwards;
    let key = f.sort.expr();
    if let Some((value, id)) = &f.cursor {
        let v = bind(match value {
            CursorKey::Time(t) => Param::Int(*t),
            CursorKey::Date(d) => Param::Text(d.clone()),
        });
        let i = bind(Param::Text(id.clone()));
        // Spelled out rather than as a row value, so both planners start the index range at
        // the cursor's key (also for the due date's expression).
        let (op, op_eq) = if descending { ("<", "<=") } else { (">", ">=") };
        conditions.push(format!(
            "{key} {op_eq} {v} AND ({key} {op} {v} OR c.id {op} {i})"
        ));
    }
    let dir = if descending { "DESC" } else { "ASC" };
    let limit = bind(Param::Int(f.limit));
    let sql = format!(
        "SELECT c.id, c.filing_id, c.procedure_id, c.status, c.reference, c.submitted_at, c.updated_at,
                c.due_on, {DUE_KEY} AS due_key, c.service_codes, c.assignee_id, u.display_name AS assignee_name,
                co.name AS corporation_name,
                (SELECT MIN(e.name) FROM filing_establishments fe JOIN establishments e ON e.id = fe.establishment_id
                  WHERE fe.filing_id = c.filing_id) AS establishment_name,
                (SELECT COUNT(*) FROM filing_establishments fe WHERE fe.filing_id = c.filing_id) AS establishment_count,
                (SELECT MAX(ev.at) FROM case_events ev WHERE ev.case_id = c.id AND ev.actor_id <> {viewer}) AS activity_at,
                r.seen_at
         FROM cases c
         JOIN corporations co ON co.id = c.corporation_id
         LEFT JOIN users u ON u.id = c.assignee_id
         LEFT JOIN case_reads r ON r.case_id = c.id AND r.user_id = {viewer}
         WHERE {}
         ORDER BY {key} {dir}, c.id {dir}
         LIMIT {limit}",
        conditions.join(" AND ")
    );
    (sql, params)
}

/// One page of the inbox (up to `limit` rows, in page order).
pub async fn page(tx: &mut Tx, f: &InboxFilter) -> DbResult<Vec<InboxRow>> {
    let (sql, params) = build(f);
    let mut rows = with_conn!(tx, c => {
        let mut q = sqlx::query_as::<_, InboxRow>(sqlx::AssertSqlSafe(sql.as_str()));
        for p in &params {
            q = match p {
                Param::Text(s) => q.bind(s),
                Param::Int(i) => q.bind(*i),
            };
        }
        q.fetch_all(c).await
    })?;
    if f.backwards {
        rows.reverse();
    }
    Ok(rows)
}

/// The plan the database chooses for a page query, one line per step (SQLite's `EXPLAIN
/// QUERY PLAN` details, PostgreSQL's `EXPLAIN` text), for checking that the inbox's orders
/// come from an index and never from a sort step. With `no_sort_if_avoidable`, PostgreSQL is
/// told sorting is expensive (`enable_sort = off` for this transaction), so the plan shows
/// whether some index gives the order at all, whatever the table's size.
pub async fn explain(
    tx: &mut Tx,
    f: &InboxFilter,
    no_sort_if_avoidable: bool,
) -> DbResult<Vec<String>> {
    let (sql, params) = build(f);
    macro_rules! bind_all {
        ($q:expr) => {{
            let mut q = $q;
            for p in &params {
                q = match p {
                    Param::Text(s) => q.bind(s),
                    Param::Int(i) => q.bind(*i),
                };
            }
            q
        }};
    }
    Ok(match tx {
        Tx::Sqlite(t) => {
            let text = format!("EXPLAIN QUERY PLAN {sql}");
            let rows: Vec<(i64, i64, i64, String)> =
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(text.as_str())))
                    .fetch_all(&mut **t)
                    .await?;
            rows.into_iter().map(|r| r.3).collect()
        }
        Tx::Postgres(t) => {
            if no_sort_if_avoidable {
                sqlx::query("SET LOCAL enable_sort = off")
                    .execute(&mut **t)
                    .await?;
            }
            let text = format!("EXPLAIN {sql}");
            let rows: Vec<(String,)> =
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(text.as_str())))
                    .fetch_all(&mut **t)
                    .await?;
            rows.into_iter().map(|r| r.0).collect()
        }
    })
}

/// Records that `user_id` opened the case now (the latest opening wins).
pub async fn mark_seen(tx: &mut Tx, case_id: &str, user_id: &str, now: i64) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO case_reads (case_id, user_id, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (case_id, user_id) DO UPDATE SET seen_at = excluded.seen_at")
        .bind(case_id).bind(user_id).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Fills what the inbox filters on, at submission: the search text and the service codes.
pub async fn set_listing(
    tx: &mut Tx,
    case_id: &str,
    search_text: &str,
    service_codes: &str,
) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query("UPDATE cases SET search_text = $1, service_codes = $2 WHERE id = $3")
        .bind(search_text).bind(service_codes).bind(case_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A saved inbox query.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SavedFilterRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The inbox query string (`status=submitted&assignee=me`), without paging.
    pub query: String,
    pub created_at: i64,
}

pub async fn insert_saved_filter(tx: &mut Tx, r: &SavedFilterRow) -> DbResult<()> {
    with_conn!(tx, c => sqlx::query(
        "INSERT INTO saved_filters (id, user_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&r.id).bind(&r.user_id).bind(&r.name).bind(&r.query).bind(r.created_at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A user's saved queries, by name.
pub async fn saved_filters_of(tx: &mut Tx, user_id: &str) -> DbResult<Vec<SavedFilterRow>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, SavedFilterRow>(
        "SELECT id, user_id, name, query, created_at FROM saved_filters WHERE user_id = $1 ORDER BY name, id")
        .bind(user_id).fetch_all(c).await)?)
}

/// Deletes one of the user's saved queries; false when the user has none with this id.
pub async fn delete_saved_filter(tx: &mut Tx, user_id: &str, id: &str) -> DbResult<bool> {
    let n = with_conn!(tx, c => sqlx::query("DELETE FROM saved_filters WHERE id = $1 AND user_id = $2")
        .bind(id).bind(user_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The active staff (reviewers and admins) of an authority, by name: who a case can be
/// assigned to.
pub async fn authority_staff(tx: &mut Tx, authority_code: &str) -> DbResult<Vec<(String, String)>> {
    Ok(with_conn!(tx, c => sqlx::query_as::<_, (String, String)>(
        "SELECT DISTINCT u.id, u.display_name FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE m.authority_code = $1 AND m.role IN ('reviewer', 'authority_admin') AND u.disabled_at IS NULL
         ORDER BY u.display_name, u.id")
        .bind(authority_code).fetch_all(c).await)?)
}
