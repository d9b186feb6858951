//! Cases API for authority staff: case view, version comparison, accept, return, assign,
//! comment. (The inbox list, bulk acceptance and saved filters are `inbox`.)

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::cases::assign::AssignRequest;
use madoguchi_core::cases::diff::CaseDiffView;
use madoguchi_core::cases::view::CaseView;
use madoguchi_core::cases::{self, ReturnRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiQuery};
use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Show an earlier submitted version (1, 2, …) instead of the current one.
    pub version: Option<i64>,
}

/// One case addressed to the caller's authority, with its history (internal notes included).
/// Reading it marks it read for the caller (the inbox's `unread` / `changed_since_seen`).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])), params(("id" = String, Path), CaseQuery),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<CaseView>> {
    let view = cases::view::get(&s.app, &a, &id, q.version).await?;
    cases::mark_seen(&s.app, &a, &id).await?;
    Ok(Json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The earlier version's number (default: the version before `to`).
    pub from: Option<i64>,
    /// The later version's number (default: the case's latest version).
    pub to: Option<i64>,
}

/// What changed between two versions of a case: answers (before/after), items of repeating
/// groups added or removed, attachments added or removed.
#[utoipa::path(get, path = "/api/v1/cases/{id}/diff", tag = "cases", security(("bearer" = [])), params(("id" = String, Path), DiffQuery),
    responses((status = 200, body = CaseDiffView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn diff_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<CaseDiffView>> {
    Ok(Json(
        cases::diff::diff(&s.app, &a, &id, q.from, q.to).await?,
    ))
}

/// Assigns a case to a colleague of the same authority, or (`assignee_id: null`) to nobody.
#[utoipa::path(post, path = "/api/v1/cases/{id}/assign", tag = "cases", security(("bearer" = [])), params(("id" = String, Path)), request_body = AssignRequest,
    responses((status = 200, body = CaseView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<CaseView>> {
    cases::assign(&s.app, &a, &id, req.assignee_id.as_deref()).await?;
    Ok(Json(cases::view::get(&s.app, &a, &id, None).await?))
}

/// Accepts (受付完了) a submitted case; a second accept gets 409.
#[utoipa::path(post, path = "/api/v1/cases/{id}/accept", tag = "cases", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn accept_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    cases::accept(&s.app, &a, &id).await?;
    Ok(Json(cases::view::get(&s.app, &a, &id, None).await?))
}

/// Returns (差戻し) a submitted case to the provider with a message, optionally naming fields.
#[utoipa::path(post, path = "/api/v1/cases/{id}/return", tag = "cases", security(("bearer" = [])), params(("id" = String, Path)), request_body = ReturnRequest,
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn return_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReturnRequest>,
) -> ApiResult<Json<CaseView>> {
    cases::return_case(&s.app, &a, &id, req).await?;
    Ok(Json(cases::view::get(&s.app, &a, &id, None).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentRequest {
    pub message: String,
    /// An internal hand-over note for authority staff only (never shown to the provider).
    #[serde(default)]
    pub internal: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CommentResponse {
    pub event_id: String,
}

/// Adds a comment: staff may write internal notes; providers write to the authority.
#[utoipa::path(post, path = "/api/v1/cases/{id}/comments", tag = "cases", security(("bearer" = [])), params(("id" = String, Path)), request_body = CommentRequest,
    responses((status = 201, body = CommentResponse), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn comment_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CommentRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<CommentResponse>)> {
    let event_id = cases::comment(&s.app, &a, &id, &req.message, req.internal).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(CommentResponse { event_id }),
    ))
}
