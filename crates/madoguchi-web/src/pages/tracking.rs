//! `GET /filings`: the provider's filings a page at a time, filtered by status, each with
//! every authority's status and due date and what is expected next, from whom.

use askama::Template;
use axum::extract::{Query, State};
use madoguchi_core::filings::track::{self, NextStep, TrackCase};
use serde::Deserialize;

use super::form::display;
use super::layout::{Layout, Pager};
use super::{PageResult, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TrackQuery {
    #[serde(default)]
    status: String,
    page: Option<String>,
    done: Option<String>,
}

/// One filing in the list.
struct Row {
    id: String,
    procedure_title: String,
    status: String,
    reference: Option<String>,
    updated_at: String,
    targets: String,
    /// The answer to the form's first question, for telling filings apart.
    summary: String,
    cases: Vec<TrackCase>,
    draft_due_on: Option<String>,
    next: Vec<NextStep>,
    returned: bool,
}

struct Filter {
    key: String,
    label: String,
    count: i64,
    href: String,
}

#[derive(Template)]
#[template(path = "pages/tracking.html")]
struct TrackingPage {
    layout: Layout,
    rows: Vec<Row>,
    filters: Vec<Filter>,
    status: String,
    status_label: String,
    total: i64,
    pager: Option<Pager>,
    first_shown: i64,
    last_shown: i64,
}

/// `GET /filings`.
pub async fn list(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<TrackQuery>,
) -> PageResult {
    // A page number that is not a number is page 1 (links are made by us; typing is harmless).
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 100_000);
    let status = q.status.trim();
    let result = track::track(&s.app, &session.actor, Some(status), page).await?;
    let rows = result
        .items
        .into_iter()
        .map(|f| {
            let summary = s
                .app
                .catalog
                .get(&f.procedure_id, &f.procedure_version)
                .and_then(|def| {
                    let field = def.groups.first()?.fields.first()?;
                    Some(display(field, f.first_answer.as_ref()))
                })
                .unwrap_or_default();
            Row {
                returned: f.cases.iter().any(|c| c.status == "returned"),
                id: f.id,
                procedure_title: f.procedure_title,
                status: f.status,
                reference: f.reference,
                updated_at: f.updated_at,
                targets: f.establishments.join("、"),
                summary,
                cases: f.cases,
                draft_due_on: f.draft_due_on,
                next: f.next,
            }
        })
        .collect::<Vec<_>>();
    let filters = track::FILTERS
        .iter()
        .map(|(key, label)| Filter {
            key: key.to_string(),
            label: label.to_string(),
            count: result
                .counts
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, n)| *n)
                .unwrap_or(0),
            href: if key.is_empty() {
                "/filings".into()
            } else {
                format!("/filings?status={key}")
            },
        })
        .collect();
    let pages = ((result.total + result.per_page - 1) / result.per_page).max(1);
    let first_shown = (result.page - 1) * result.per_page + 1;
    let status_label = track::FILTERS
        .iter()
        .find(|(k, _)| *k == result.status)
        .map(|(_, l)| l.to_string())
        .unwrap_or_default();
    let mut layout = layout_for(&session, "届出・申請の一覧", "/filings");
    layout.flash = flash_for(q.done.as_deref());
    let filter = [("status", result.status.as_str())];
    let params: &[(&str, &str)] = if result.status.is_empty() {
        &[]
    } else {
        &filter
    };
    let pager = Pager::new("/filings", params, result.page, pages);
    Ok(render(&TrackingPage {
        layout,
        last_shown: first_shown + rows.len() as i64 - 1,
        rows,
        filters,
        pager,
        status: result.status,
        status_label,
        total: result.total,
        first_shown,
    }))
}
