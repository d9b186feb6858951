//! Cases API for authority staff: inbox, case view, accept, return, comment.

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::cases::view::{CaseView, InboxItem};
use madoguchi_core::cases::{self, ReturnRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiQuery};
use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// `submitted`, `returned`, `accepted` or `withdrawn`.
    pub status: Option<String>,
    /// `overdue` (open cases past their due date) or `due_soon` (due within 7 days).
    pub due: Option<String>,
    /// Page size (1-200, default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The caller's authority inbox, newest activity first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), params(InboxQuery),
    responses((status = 200, body = [InboxItem]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Vec<InboxItem>>> {
    Ok(Json(
        cases::view::inbox(
            &s.app,
            &a,
            q.status.as_deref(),
            q.due.as_deref(),
            q.limit.unwrap_or(50),
            q.offset.unwrap_or(0),
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Show an earlier submitted version (1, 2, …) instead of the current one.
    pub version: Option<i64>,
}

/// One case addressed to the caller's authority, with its history (internal notes included).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", security(("bearer" = [])), params(("id" = String, Path), CaseQuery),
    responses((status = 200, body = CaseView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_case(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(cases::view::get(&s.app, &a, &id, q.version).await?))
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
