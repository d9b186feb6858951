//! Helpers of the draft form: background saving for browsers with JavaScript (the save button
//! works as before without it), copying a 付表 from another establishment's filing, and
//! taking a file off a requirement.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use chrono::Timelike;
use madoguchi_core::CoreError;
use madoguchi_core::filings::{self, AnnexSource, CopyAnnex};
use madoguchi_domain::procedure::FilingData;
use serde::Deserialize;
use serde_json::json;

use super::form::parse_pairs;
use super::form_view::ErrorSummaryItem;
use super::layout::{Layout, NavItem};
use super::{PageError, PageResult, check_csrf, layout_for, render};
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::state::AppState;

/// `POST /filings/{id}/autosave`: saves the posted form like the save button, answering JSON
/// for the page's script: `{"saved_at": "HH:MM", "lock_version": n}`, or `{"error": …}` with
/// 409 (saved elsewhere meanwhile) or 422.
pub async fn autosave(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if let Err(e) = check_csrf(&session, token) {
        return e.into_response();
    }
    let fail = |status: StatusCode, message: String| {
        (status, Json(json!({ "error": message }))).into_response()
    };
    let filing = match filings::view::get(&s.app, &session.actor, &id).await {
        Ok(f) => f,
        Err(e) => return AppError::from(e).into_response(),
    };
    let def = match super::filings::definition(&s, &filing) {
        Ok(d) => d,
        Err(e) => return e.0.into_response(),
    };
    let current: FilingData = match serde_json::from_value(filing.data.clone()) {
        Ok(d) => d,
        Err(e) => return AppError::Internal(e.to_string()).into_response(),
    };
    let ids: Vec<String> = filing.establishments.iter().map(|e| e.id.clone()).collect();
    let data = parse_pairs(&def, &pairs, &current, &ids);
    let Some(lock) = pairs
        .iter()
        .find(|(k, _)| k == "lock_version")
        .and_then(|(_, v)| v.parse::<i64>().ok())
    else {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "画面を開き直してください。".into(),
        );
    };
    match filings::update(&s.app, &session.actor, &id, data, Some(lock)).await {
        Ok(()) => {
            let now = chrono::DateTime::from_timestamp_millis(s.app.now_ms())
                .unwrap_or_default()
                .with_timezone(&madoguchi_core::clock::jst());
            Json(json!({
                "saved_at": format!("{:02}:{:02}", now.hour(), now.minute()),
                "lock_version": lock + 1,
            }))
            .into_response()
        }
        Err(CoreError::Conflict(message)) => fail(StatusCode::CONFLICT, message),
        Err(CoreError::Validation(errs)) => fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// One 付表 that can be copied, as a choice.
struct SourceChoice {
    /// `<filing id>|<establishment id>|<service code>`.
    value: String,
    establishment_name: String,
    service_name: String,
    /// 「到達番号 …」 or 「下書き」.
    state: String,
}

#[derive(Template)]
#[template(path = "pages/copy_annex.html")]
struct CopyPage {
    layout: Layout,
    filing_id: String,
    lock_version: i64,
    target: String,
    choices: Vec<SourceChoice>,
    errors: Vec<ErrorSummaryItem>,
}

async fn copy_page(
    s: &AppState,
    session: &madoguchi_core::auth::Session,
    id: &str,
    errors: Vec<ErrorSummaryItem>,
) -> Result<CopyPage, PageError> {
    let filing = filings::view::get(&s.app, &session.actor, id).await?;
    let sources: Vec<AnnexSource> = filings::annex_sources(&s.app, &session.actor, id).await?;
    let choices = sources
        .into_iter()
        .flat_map(|src| {
            src.services
                .iter()
                .map(|svc| SourceChoice {
                    value: format!("{}|{}|{}", src.filing_id, src.establishment_id, svc.code),
                    establishment_name: src.establishment_name.clone(),
                    service_name: svc.name.clone(),
                    state: match &src.reference {
                        Some(r) => format!("到達番号 {r}"),
                        None => "下書き".into(),
                    },
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut layout = layout_for(session, "ほかの事業所の付表を写す", "/filings");
    layout.breadcrumbs = vec![
        NavItem::new("/filings", "届出・申請の一覧"),
        NavItem::new(
            format!("/filings/{id}/edit"),
            filing.procedure_title.clone(),
        ),
        NavItem::new("", "付表を写す").current(true),
    ];
    Ok(CopyPage {
        layout,
        filing_id: filing.id,
        lock_version: filing.lock_version,
        target: filing
            .establishments
            .iter()
            .map(|e| e.name.clone())
            .collect::<Vec<_>>()
            .join("、"),
        choices,
        errors,
    })
}

/// `GET /filings/{id}/copy-annex`.
pub async fn copy_annex_form(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    Ok(render(&copy_page(&s, &session, &id, Vec::new()).await?))
}

#[derive(Deserialize)]
pub struct CopyForm {
    csrf_token: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    lock_version: Option<i64>,
}

/// `POST /filings/{id}/copy-annex`.
pub async fn copy_annex(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<CopyForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    let mut parts = f.source.splitn(3, '|');
    let (Some(filing), Some(est), Some(service)) = (parts.next(), parts.next(), parts.next())
    else {
        let e = ErrorSummaryItem {
            field_id: "source".into(),
            message: "写す付表を選んでください。".into(),
        };
        let mut r = render(&copy_page(&s, &session, &id, vec![e]).await?);
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(r);
    };
    let req = CopyAnnex {
        source_filing_id: filing.into(),
        source_establishment_id: est.into(),
        service_type: service.into(),
        lock_version: f.lock_version,
    };
    match filings::copy_annex(&s.app, &session.actor, &id, req).await {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}/edit?done=annex_copied")).into_response()),
        Err(CoreError::Validation(errs)) => {
            let items = errs
                .into_iter()
                .map(|e| ErrorSummaryItem {
                    field_id: "source".into(),
                    message: e.message,
                })
                .collect();
            let mut r = render(&copy_page(&s, &session, &id, items).await?);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    csrf_token: String,
    #[serde(default)]
    attachment_id: String,
    #[serde(default)]
    requirement_id: String,
}

/// `POST /filings/{id}/attachments/remove`: takes a file off a requirement of the filing (the
/// upload stays available for reuse).
pub async fn remove_file(
    State(s): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(f): Form<RemoveForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf_token)?;
    filings::detach(
        &s.app,
        &session.actor,
        &id,
        &f.attachment_id,
        &f.requirement_id,
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/filings/{id}/edit?done=file_removed#req-{}",
        f.requirement_id
    ))
    .into_response())
}
