//! Provider portal API, part A: マイページ (the corporation's registry record), change once
//! file everywhere (`POST /api/v1/changes`), 一括申請 (`POST /api/v1/bulk-filings`), the
//! batches they make (review, submit all), and copying a 付表 from another filing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use madoguchi_core::filings::batch::{self, BatchView, DraftOutcome};
use madoguchi_core::filings::bulk::{self, BulkRequest};
use madoguchi_core::filings::change_once::{self, ChangeRequest};
use madoguchi_core::filings::view::FilingView;
use madoguchi_core::filings::{self, AnnexSource, CopyAnnex};
use madoguchi_core::registry::organisation::{self, OrganisationView};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiJson;
use crate::auth::ApiActor;
use crate::error::ApiResult;
use crate::state::AppState;

/// The caller's corporation and establishments with their designations (validity in 和暦 and
/// 西暦, expiry within 3 months marked) and registry values, each with the 変更届 item
/// through which it changes (providers).
#[utoipa::path(get, path = "/api/v1/organisation", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = OrganisationView)))]
pub async fn get_organisation(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<OrganisationView>> {
    Ok(Json(organisation::organisation(&s.app, &a).await?))
}

/// Change once, file everywhere: give the new registry values (and the 変更年月日); the
/// registry is not changed (acceptance does that), but every 変更届 the change calls for is
/// prepared as a draft, prefilled, with the 変更事項 ticked — one covering every establishment
/// for the corporation's values (代表者, 主たる事務所), one per establishment for its own —
/// each addressed to the authorities concerned. Errors name the request's paths
/// (`change_date`, `corporation.<key>`, `establishments.<id>.<key>`, `details.…`).
#[utoipa::path(post, path = "/api/v1/changes", tag = "filings", security(("bearer" = [])), request_body = ChangeRequest,
    responses((status = 201, body = BatchView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_change(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> ApiResult<(StatusCode, Json<BatchView>)> {
    let id = change_once::prepare(&s.app, &a, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(batch::get(&s.app, &a, &id).await?),
    ))
}

/// 一括申請: starts one draft of the procedure per establishment (at least two), each
/// starting from the shared answers given and prefilled from the registry and earlier filings.
#[utoipa::path(post, path = "/api/v1/bulk-filings", tag = "filings", security(("bearer" = [])), request_body = BulkRequest,
    responses((status = 201, body = BatchView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_bulk(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<BulkRequest>,
) -> ApiResult<(StatusCode, Json<BatchView>)> {
    let id = bulk::start(&s.app, &a, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(batch::get(&s.app, &a, &id).await?),
    ))
}

/// A batch of drafts: each draft with its authorities (form number, due date, local
/// additions), the documents it needs and what still stops its submission.
#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = BatchView)))]
pub async fn get_batch(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<BatchView>> {
    Ok(Json(batch::get(&s.app, &a, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct SubmitAllResponse {
    /// One result per draft, in the batch's order.
    pub outcomes: Vec<DraftOutcome>,
    pub batch: BatchView,
}

/// Submits every draft of the batch still to be submitted, each on its own: a draft with
/// problems stays a draft and its problems are reported, the others are submitted. Safe to
/// retry.
#[utoipa::path(post, path = "/api/v1/batches/{id}/submit", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SubmitAllResponse)))]
pub async fn submit_batch(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SubmitAllResponse>> {
    let outcomes = batch::submit_all(&s.app, &a, &id).await?;
    Ok(Json(SubmitAllResponse {
        outcomes,
        batch: batch::get(&s.app, &a, &id).await?,
    }))
}

/// The 付表 of the corporation's other filings of the same procedure that this filing could
/// copy (per establishment and service).
#[utoipa::path(get, path = "/api/v1/filings/{id}/annex-sources", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = [AnnexSource])))]
pub async fn list_annex_sources(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AnnexSource>>> {
    Ok(Json(filings::annex_sources(&s.app, &a, &id).await?))
}

/// Copies the 付表 of a service from another establishment's filing into this one (values the
/// registry holds for this establishment are kept); the copied answers are labelled with
/// their source.
#[utoipa::path(post, path = "/api/v1/filings/{id}/copy-annex", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = CopyAnnex,
    responses((status = 200, body = FilingView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn copy_annex(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CopyAnnex>,
) -> ApiResult<Json<FilingView>> {
    filings::copy_annex(&s.app, &a, &id, req).await?;
    Ok(Json(filings::view::get(&s.app, &a, &id).await?))
}
