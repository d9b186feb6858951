//! Authority staff pages: the inbox, a case laid out for review (answers beside the registry's
//! current values, files, designations, history with internal notes kept apart), and the
//! decisions: accept, return with pinned fields, comment or internal note.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use madoguchi_core::CoreError;
use madoguchi_core::cases::view::{CaseView, InboxItem};
use madoguchi_core::cases::{self, ReturnRequest};
use madoguchi_domain::procedure::FilingData;
use madoguchi_domain::registry::RegistrySnapshot;
use serde::Deserialize;

use super::form::review;
use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct InboxQuery {
    status: Option<String>,
    due: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/inbox.html")]
struct InboxPage {
    layout: Layout,
    items: Vec<InboxItem>,
    status: String,
    due: String,
    filters: Vec<(String, String)>,
}

/// `GET /inbox`: cases addressed to the user's authority.
pub async fn inbox(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let status = q.status.filter(|s| !s.is_empty());
    let due = q.due.filter(|d| d == "overdue" || d == "due_soon");
    let items = cases::view::inbox(
        &s.app,
        &session.actor,
        status.as_deref(),
        due.as_deref(),
        200,
        0,
    )
    .await?;
    let mut layout = layout_for(&session, "受付箱", "/inbox");
    layout.flash = flash_for(q.done.as_deref());
    let filters = [
        ("", "すべて"),
        ("submitted", "審査待ち"),
        ("returned", "差戻し中"),
        ("accepted", "受付完了"),
        ("withdrawn", "取下げ"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Ok(render(&InboxPage {
        layout,
        items,
        status: status.unwrap_or_default(),
        due: due.unwrap_or_default(),
        filters,
    }))
}

struct PinOption {
    path: String,
    label: String,
}

/// One answer of the version under review beside the registry's current value and, after a
/// resubmission, the previous version's answer.
struct CompareRow {
    label: String,
    value: String,
    current: Option<String>,
    /// Differs from the registry: the change being notified.
    changed: bool,
    /// The previous version's answer, when this version changed it.
    previous: Option<String>,
}

struct CompareSection {
    title: String,
    rows: Vec<CompareRow>,
    /// Some row has a registry value (otherwise the column is left out).
    has_current: bool,
    /// The items of a repeating group (then `rows` is empty).
    repeat: Option<CompareRepeat>,
}

/// A repeating group's items as a table: a row per item, a column per field.
struct CompareRepeat {
    item_label: String,
    columns: Vec<String>,
    items: Vec<CompareItem>,
    /// The previous version's number of items, when it differs.
    previous_count: Option<usize>,
}

struct CompareItem {
    title: String,
    cells: Vec<CompareCell>,
    /// Some cell differs from the previous version.
    changed: bool,
}

struct CompareCell {
    label: String,
    value: String,
    /// The previous version's value, when this version changed it.
    previous: Option<String>,
}

/// The previous version's answers as displayed, by path, and its number of items per
/// repeating group path.
struct Previous {
    values: std::collections::BTreeMap<String, String>,
    counts: std::collections::BTreeMap<String, usize>,
}

/// One entry of the history or of the internal notes.
struct HistoryEntry {
    label: &'static str,
    kind: String,
    at: String,
    actor_name: String,
    version_no: Option<i64>,
    message: String,
    fields: Vec<String>,
}

#[derive(Template)]
#[template(path = "pages/case_detail.html")]
struct CasePage {
    layout: Layout,
    case: CaseView,
    review: Vec<CompareSection>,
    requirement_labels: Vec<(String, String)>,
    pins: Vec<PinOption>,
    messages: Vec<HistoryEntry>,
    notes: Vec<HistoryEntry>,
    errors: Vec<ErrorSummaryItem>,
    open: bool,
    /// The newest version is shown (decisions apply to it).
    latest: bool,
    /// Rows changed since the previous version (after a resubmission).
    changed_since_previous: usize,
}

impl CasePage {
    /// The validation message for one control of the page, shown beside it.
    fn error_for(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field_id == id)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize)]
pub struct CaseQuery {
    version: Option<i64>,
    done: Option<String>,
}

async fn case_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    version: Option<i64>,
    errors: Vec<ErrorSummaryItem>,
    done: Option<&str>,
) -> Result<CasePage, PageError> {
    let case = cases::view::get(&s.app, &session.actor, id, version).await?;
    let def = s
        .app
        .catalog
        .get(&case.procedure_id, &case.procedure_version)
        .ok_or_else(|| PageError(AppError::Internal("procedure missing".into())))?;
    let data: FilingData =
        serde_json::from_value(case.data.clone()).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut registry = RegistrySnapshot {
        corporation: case
            .corporation_record
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    };
    for e in &case.establishments {
        if let Ok(v) = madoguchi_core::registry::view::get(&s.app, &session.actor, &e.id).await {
            registry.establishments.insert(
                e.id.clone(),
                v.record.as_object().cloned().unwrap_or_default(),
            );
        }
    }
    let review = review(def, &data, &case.establishments, &registry);
    // After a resubmission, what changed since the version before: every displayed answer
    // by path, and the number of items of each repeating group.
    let previous: Option<Previous> = if case.version_no > 1 {
        let prev = cases::view::get(&s.app, &session.actor, id, Some(case.version_no - 1))
            .await
            .ok();
        prev.and_then(|p| {
            let d: FilingData = serde_json::from_value(p.data).ok()?;
            let sections = super::form::review(def, &d, &p.establishments, &registry);
            Some(Previous {
                values: sections
                    .iter()
                    .flat_map(|sec| sec.values())
                    .map(|(path, v)| (path.to_owned(), v.to_owned()))
                    .collect(),
                counts: sections
                    .iter()
                    .filter_map(|sec| sec.repeat.as_ref())
                    .map(|r| (r.path.clone(), r.items.len()))
                    .collect(),
            })
        })
    } else {
        None
    };
    let pins = review
        .iter()
        .flat_map(|sec| {
            sec.rows.iter().map(|r| PinOption {
                path: r.path.clone(),
                label: format!("{}：{}", sec.title, r.label),
            })
        })
        .collect();
    let entry = |e: &madoguchi_core::filings::view::EventView| HistoryEntry {
        label: super::event_label(&e.kind),
        kind: e.kind.clone(),
        at: e.at.clone(),
        actor_name: e.actor_name.clone(),
        version_no: e.version_no,
        message: e.message.clone(),
        fields: e
            .fields
            .iter()
            .map(|p| madoguchi_core::cases::field_label(def, p).unwrap_or_else(|| p.clone()))
            .collect(),
    };
    let notes = case
        .events
        .iter()
        .filter(|e| e.internal)
        .map(entry)
        .collect();
    let messages = case
        .events
        .iter()
        .filter(|e| !e.internal)
        .map(entry)
        .collect();
    let mut changed_since_previous = 0;
    // The previous version's value where it differs from this one's.
    let mut previous_of = |path: &str, value: &str| {
        let p = previous.as_ref()?;
        let before = p.values.get(path).cloned().unwrap_or_default();
        (before != value).then(|| {
            changed_since_previous += 1;
            before
        })
    };
    let review = review
        .into_iter()
        .map(|sec| {
            let rows: Vec<CompareRow> = sec
                .rows
                .into_iter()
                .map(|r| CompareRow {
                    previous: previous_of(&r.path, &r.value),
                    label: r.label,
                    value: r.value,
                    current: r.current,
                    changed: r.changed,
                })
                .collect();
            let repeat = sec.repeat.map(|r| CompareRepeat {
                previous_count: previous.as_ref().and_then(|p| {
                    let before = p.counts.get(&r.path).copied().unwrap_or_default();
                    (before != r.items.len()).then_some(before)
                }),
                item_label: r.item_label,
                columns: r.columns,
                items: r
                    .items
                    .into_iter()
                    .map(|item| {
                        let cells: Vec<CompareCell> = item
                            .cells
                            .into_iter()
                            .map(|c| CompareCell {
                                previous: previous_of(&c.path, &c.value),
                                label: c.label,
                                value: c.value,
                            })
                            .collect();
                        CompareItem {
                            title: item.title,
                            changed: cells.iter().any(|c| c.previous.is_some()),
                            cells,
                        }
                    })
                    .collect(),
            });
            CompareSection {
                title: sec.title,
                has_current: rows.iter().any(|r| r.current.is_some()),
                rows,
                repeat,
            }
        })
        .collect();
    let requirement_labels = def
        .attachments
        .iter()
        .map(|a| (a.id.clone(), a.label.clone()))
        .collect();
    let mut layout = layout_for(
        session,
        &format!("{}（{}）", case.procedure_title, case.corporation_name),
        "/inbox",
    );
    layout.breadcrumbs = vec![
        NavItem {
            href: "/inbox".into(),
            label: "受付箱".into(),
            current: false,
        },
        NavItem {
            href: String::new(),
            label: case.reference.clone(),
            current: true,
        },
    ];
    layout.flash = flash_for(done);
    let latest = case
        .versions
        .iter()
        .map(|v| v.version_no)
        .max()
        .is_none_or(|n| n == case.version_no);
    let open = case.status == "submitted" && latest;
    Ok(CasePage {
        layout,
        case,
        review,
        requirement_labels,
        pins,
        messages,
        notes,
        errors,
        open,
        latest,
        changed_since_previous,
    })
}

/// `GET /cases/{id}`.
pub async fn detail(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> PageResult {
    Ok(render(
        &case_page(&s, &session, &id, q.version, Vec::new(), q.done.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
pub struct AcceptForm {
    csrf_token: String,
    confirm: Option<String>,
}

/// `POST /cases/{id}/accept`: asks for explicit confirmation (it cannot be undone).
pub async fn accept(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<AcceptForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    if f.confirm.as_deref() != Some("yes") {
        let e = vec![ErrorSummaryItem {
            field_id: "accept-confirm".into(),
            message: "受付を完了するには、確認のチェックを入れてください。".into(),
        }];
        return Ok(with_status(render(
            &case_page(&s, &session, &id, None, e, None).await?,
        )));
    }
    cases::accept(&s.app, &session.actor, &id).await?;
    Ok(Redirect::to(&format!("/cases/{id}?done=accepted")).into_response())
}

fn with_status(mut r: axum::response::Response) -> axum::response::Response {
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    r
}

#[derive(Deserialize)]
pub struct ReturnForm {
    csrf_token: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    fields: Vec<String>,
}

/// `POST /cases/{id}/return`.
pub async fn return_case(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<ReturnForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    match cases::return_case(
        &s.app,
        &session.actor,
        &id,
        ReturnRequest {
            message: f.message,
            fields: f.fields,
            attachment_ids: Vec::new(),
        },
    )
    .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=returned")).into_response()),
        Err(CoreError::Validation(errs)) => {
            let e = errs
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: "return-message".into(),
                    message: e.message,
                })
                .collect();
            Ok(with_status(render(
                &case_page(&s, &session, &id, None, e, None).await?,
            )))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CommentForm {
    csrf_token: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    internal: Option<String>,
}

/// `POST /cases/{id}/comments`: an internal note or a message to the provider.
pub async fn comment(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CommentForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let internal = f.internal.as_deref() == Some("true");
    match cases::comment(&s.app, &session.actor, &id, &f.message, internal).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}?done=commented")).into_response()),
        Err(CoreError::Validation(errs)) => {
            let field_id = if internal {
                "note-message"
            } else {
                "comment-message"
            };
            let e = errs
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: field_id.into(),
                    message: e.message,
                })
                .collect();
            Ok(with_status(render(
                &case_page(&s, &session, &id, None, e, None).await?,
            )))
        }
        Err(e) => Err(e.into()),
    }
}
