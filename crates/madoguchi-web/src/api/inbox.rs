//! Inbox API for authority staff: the filtered, sorted, keyset-paged case list (cursors in
//! the `Link` header), bulk acceptance, colleagues to assign to, saved filters.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use madoguchi_core::cases::assign::Colleague;
use madoguchi_core::cases::bulk::{BulkAcceptRequest, BulkResult};
use madoguchi_core::cases::inbox::{InboxItem, InboxQuery};
use madoguchi_core::cases::saved_filters::{SaveFilterRequest, SavedFilter};
use madoguchi_core::cases::{self};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery};
use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

/// The caller's authority inbox: one page (50 by default) of cases, filtered and sorted. The
/// cursors of the pages around it are in the `Link` header (`rel="next"`, `rel="prev"`),
/// ready to follow, keeping the filters.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", security(("bearer" = [])), params(InboxQuery),
    responses((status = 200, body = [InboxItem], headers(("Link" = String, description = "RFC 8288 links to the next and previous pages"))), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<InboxItem>>)> {
    let page = cases::inbox(&s.app, &a, &q).await?;
    let mut base = q.canonical();
    if let Some(l) = q.limit {
        base = if base.is_empty() {
            format!("limit={l}")
        } else {
            format!("{base}&limit={l}")
        };
    }
    let link = |rel: &str, key: &str, cursor: &str| {
        let pair = serde_html_form::to_string([(key, cursor)]).unwrap_or_default();
        let sep = if base.is_empty() { "" } else { "&" };
        format!("</api/v1/cases?{base}{sep}{pair}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if let Some(n) = &page.next {
        links.push(link("next", "after", n));
    }
    if let Some(p) = &page.prev {
        links.push(link("prev", "before", p));
    }
    let mut headers = HeaderMap::new();
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        headers.insert(header::LINK, v);
    }
    Ok((headers, Json(page.items)))
}

#[derive(Serialize, ToSchema)]
pub struct BulkAcceptResponse {
    /// One result per case, in the order given.
    pub results: Vec<BulkResult>,
}

/// Accepts several cases, each in its own transaction by the same rules as a single accept:
/// one that cannot be accepted is reported in its result and the others still go through.
#[utoipa::path(post, path = "/api/v1/cases/bulk-accept", tag = "cases", security(("bearer" = [])), request_body = BulkAcceptRequest,
    responses((status = 200, body = BulkAcceptResponse), (status = 422, body = crate::error::ErrorBody)))]
pub async fn bulk_accept(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<BulkAcceptRequest>,
) -> ApiResult<Json<BulkAcceptResponse>> {
    Ok(Json(BulkAcceptResponse {
        results: cases::bulk_accept(&s.app, &a, &req.case_ids).await?,
    }))
}

/// The active staff of the caller's authority (whom a case can be assigned to).
#[utoipa::path(get, path = "/api/v1/colleagues", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [Colleague])))]
pub async fn list_colleagues(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<Colleague>>> {
    Ok(Json(cases::colleagues(&s.app, &a).await?))
}

/// The caller's saved inbox filters, by name.
#[utoipa::path(get, path = "/api/v1/saved-filters", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = [SavedFilter])))]
pub async fn list_saved_filters(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<SavedFilter>>> {
    Ok(Json(cases::saved_filters(&s.app, &a).await?))
}

/// Saves an inbox query (as `GET /api/v1/cases` takes it) under a name.
#[utoipa::path(post, path = "/api/v1/saved-filters", tag = "cases", security(("bearer" = [])), request_body = SaveFilterRequest,
    responses((status = 201, body = SavedFilter), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_saved_filter(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<SaveFilterRequest>,
) -> ApiResult<(StatusCode, Json<SavedFilter>)> {
    Ok((
        StatusCode::CREATED,
        Json(cases::save_filter(&s.app, &a, &req).await?),
    ))
}

/// Deletes one of the caller's saved filters.
#[utoipa::path(delete, path = "/api/v1/saved-filters/{id}", tag = "cases", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_saved_filter(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    cases::delete_filter(&s.app, &a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
