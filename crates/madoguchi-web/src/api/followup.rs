//! After submitting (provider portal, part B): the receipt, answering a return item by item,
//! the satisfaction rating, and the provider's notifications.

use axum::Json;
use axum::extract::{Path, State};
use madoguchi_core::filings::receipt::ReceiptView;
use madoguchi_core::filings::replies::{OpenReturn, ReplyInput};
use madoguchi_core::notifications::NotificationPage;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery};
use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

/// The receipt of the filing's latest submission: 到達番号, arrival (JST), the authorities
/// reached with their due dates.
#[utoipa::path(get, path = "/api/v1/filings/{id}/receipt", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ReceiptView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn get_receipt(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ReceiptView>> {
    Ok(Json(
        madoguchi_core::filings::receipt::receipt(&s.app, &a, &id).await?,
    ))
}

/// The open returns of the filing, each pinned field or file with whether the correction
/// changed it and the reply written so far. The resubmission is refused (422, each open item
/// named as a field with code `return_item_open`) until every item is changed or answered.
#[utoipa::path(get, path = "/api/v1/filings/{id}/return-replies", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = [OpenReturn]), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_return_replies(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<OpenReturn>>> {
    Ok(Json(
        madoguchi_core::filings::replies::open_returns(&s.app, &a, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// Replies (回答) to pinned items; an empty reply clears one.
    pub replies: Vec<ReplyInput>,
}

/// Saves replies to pinned items of the filing's open returns; answers with the open returns.
#[utoipa::path(put, path = "/api/v1/filings/{id}/return-replies", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = ReplyRequest,
    responses((status = 200, body = [OpenReturn]), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_return_replies(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> ApiResult<Json<Vec<OpenReturn>>> {
    madoguchi_core::filings::replies::save(&s.app, &a, &id, &body.replies).await?;
    Ok(Json(
        madoguchi_core::filings::replies::open_returns(&s.app, &a, &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RatingRequest {
    /// 1 (不満) to 5 (満足).
    pub score: i64,
    /// Optional comment, at most 1000 characters.
    #[serde(default)]
    pub comment: String,
}

/// Rates a submitted filing 1–5 (optional; rating again replaces the rating).
#[utoipa::path(post, path = "/api/v1/filings/{id}/satisfaction", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = RatingRequest,
    responses((status = 200, body = ReceiptView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rate_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RatingRequest>,
) -> ApiResult<Json<ReceiptView>> {
    madoguchi_core::filings::rate::rate(&s.app, &a, &id, body.score, &body.comment).await?;
    Ok(Json(
        madoguchi_core::filings::receipt::receipt(&s.app, &a, &id).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct NotificationQuery {
    /// `true`: only notifications not read yet.
    #[serde(default)]
    pub unread: bool,
    /// Page, from 1 (20 per page).
    pub page: Option<i64>,
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "filings", security(("bearer" = [])), params(NotificationQuery),
    responses((status = 200, body = NotificationPage)))]
pub async fn list_notifications(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<Json<NotificationPage>> {
    Ok(Json(
        madoguchi_core::notifications::list(&s.app, &a, q.unread, q.page.unwrap_or(1)).await?,
    ))
}
