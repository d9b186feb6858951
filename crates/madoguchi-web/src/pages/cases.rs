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
use madoguchi_core::filings::view::EventView;
use madoguchi_domain::procedure::FilingData;
use madoguchi_domain::registry::RegistrySnapshot;
use serde::Deserialize;

use super::form::{ReviewSection, review};
use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, flash_for, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct InboxQuery {
    status: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/inbox.html")]
struct InboxPage {
    layout: Layout,
    items: Vec<InboxItem>,
    status: String,
    filters: Vec<(String, String)>,
}

/// `GET /inbox`: cases addressed to the user's authority.
pub async fn inbox(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<InboxQuery>,
) -> PageResult {
    let status = q.status.filter(|s| !s.is_empty());
    let items = cases::view::inbox(&s.app, &session.actor, status.as_deref(), 200, 0).await?;
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
        filters,
    }))
}

struct PinOption {
    path: String,
    label: String,
}

#[derive(Template)]
#[template(path = "pages/case_detail.html")]
struct CasePage {
    layout: Layout,
    case: CaseView,
    review: Vec<ReviewSection>,
    requirement_labels: Vec<(String, String)>,
    pins: Vec<PinOption>,
    messages: Vec<EventView>,
    notes: Vec<EventView>,
    errors: Vec<ErrorSummaryItem>,
    open: bool,
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
    let pins = review
        .iter()
        .flat_map(|sec| {
            sec.rows.iter().map(|r| PinOption {
                path: r.path.clone(),
                label: format!("{}：{}", sec.title, r.label),
            })
        })
        .collect();
    let (notes, messages): (Vec<_>, Vec<_>) = case.events.iter().cloned().partition(|e| e.internal);
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
    let open = case.status == "submitted";
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
