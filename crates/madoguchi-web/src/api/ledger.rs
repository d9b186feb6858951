//! Ledger linkage API for an authority's staff (`/api/v1/authorities/{code}/…`): the changes
//! feed, CSV/.xlsx exports, webhook endpoints and deliveries, and the ledger import. Another
//! authority's code is 404, like every other tenant's object.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_core::ledger::export::{self, ExportKind, ExportOptions, ExportStream};
use madoguchi_core::ledger::feed::{self, FeedPage};
use madoguchi_core::ledger::import::{self, ImportBy, ImportOptions, ImportReport, InputEncoding};
use madoguchi_core::ledger::webhooks::{self, CreatedEndpoint, DeliveryView, EndpointView};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiMultipart, ApiQuery};
use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next_cursor` of the previous page; absent for the beginning.
    pub since: Option<String>,
    /// Page size (1-500, default 100).
    pub limit: Option<i64>,
}

/// The authority's changes feed: accepted registry changes and decided cases, numbered
/// 1, 2, 3 … without gaps. Poll with `since=<next_cursor>`; apply entries in `seq` order.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/changes", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ChangesQuery),
    responses((status = 200, body = FeedPage), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_changes(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ChangesQuery>,
) -> ApiResult<Json<FeedPage>> {
    Ok(Json(
        feed::page(&s.app, &a, &code, q.since.as_deref(), q.limit).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    /// CSV only: `utf-8` (default), `utf-8-bom` or `shift_jis` (Windows-31J).
    pub encoding: Option<String>,
    /// Shift_JIS only: `refuse` (default: 422 listing every row with a character Shift_JIS
    /// cannot hold) or `skip` (leave those rows out; their count is in `Madoguchi-Skipped-Rows`).
    pub unmappable: Option<String>,
}

/// Every designation of the authority, one row each, with its establishment and corporation
/// (columns: docs/ledger.md). Streamed; audited with row count and SHA-256.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/exports/establishments", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ExportQuery),
    responses(
        (status = 200, description = "the file (CSV or .xlsx)", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = crate::error::ErrorBody, description = "bad options, or (Shift_JIS) rows with characters it cannot hold, one problem per cell")))]
pub async fn export_establishments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    export(&s, &a, &code, ExportKind::Establishments, &q).await
}

/// Every accepted case of the authority (到達番号, 手続, 法人, 事業所番号, dates, number of
/// registry changes). Streamed; audited.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/exports/cases", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ExportQuery),
    responses(
        (status = 200, description = "the file (CSV or .xlsx)", content(
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn export_cases(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    export(&s, &a, &code, ExportKind::Cases, &q).await
}

async fn export(
    s: &AppState,
    a: &madoguchi_core::Actor,
    code: &str,
    kind: ExportKind,
    q: &ExportQuery,
) -> ApiResult<Response> {
    let options = ExportOptions::parse(
        q.format.as_deref(),
        q.encoding.as_deref(),
        q.unmappable.as_deref(),
    )?;
    let stream = export::start(&s.app, export::ExportBy::Staff(a), code, kind, options).await?;
    Ok(export_response(stream))
}

/// A started export as a streamed download (attachment, sandboxed, never cached).
pub fn export_response(e: ExportStream) -> Response {
    let ExportStream {
        filename,
        content_type,
        skipped_rows,
        vendor_specific_cells,
        body,
    } = e;
    let chunks = futures::stream::unfold(body, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let mut res = Body::from_stream(chunks).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert("madoguchi-skipped-rows", HeaderValue::from(skipped_rows));
    h.insert(
        "madoguchi-vendor-specific-cells",
        HeaderValue::from(vendor_specific_cells),
    );
    res
}

/// The authority's webhook endpoints.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/webhooks", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")),
    responses((status = 200, body = [EndpointView])))]
pub async fn list_webhooks(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
) -> ApiResult<Json<Vec<EndpointView>>> {
    Ok(Json(webhooks::list_endpoints(&s.app, &a, &code).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// `https://…` (or `http://` inside a closed network) that accepts `POST` of feed entries.
    pub url: String,
    #[serde(default)]
    pub description: String,
}

/// Adds an endpoint: every later feed entry is POSTed to it, signed with the secret returned
/// here once (`Madoguchi-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`).
#[utoipa::path(post, path = "/api/v1/authorities/{code}/webhooks", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード")), request_body = CreateWebhookRequest,
    responses((status = 201, body = CreatedEndpoint), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<CreatedEndpoint>)> {
    let created = webhooks::create_endpoint(&s.app, &a, &code, &req.url, &req.description).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    /// `false` pauses the endpoint (no new deliveries; queued ones fail unsent).
    pub active: bool,
}

/// Pauses or resumes an endpoint.
#[utoipa::path(put, path = "/api/v1/authorities/{code}/webhooks/{id}", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("id" = String, Path)), request_body = UpdateWebhookRequest,
    responses((status = 200, body = EndpointView)))]
pub async fn update_webhook(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<Json<EndpointView>> {
    Ok(Json(
        webhooks::set_active(&s.app, &a, &code, &id, req.active).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// Page size (1-500, default 50).
    pub limit: Option<i64>,
}

/// An endpoint's deliveries, newest first, each with every attempt.
#[utoipa::path(get, path = "/api/v1/authorities/{code}/webhooks/{id}/deliveries", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = [DeliveryView]), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_deliveries(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    Ok(Json(
        webhooks::list_deliveries(
            &s.app,
            &a,
            &code,
            &id,
            q.status.as_deref().filter(|s| !s.is_empty()),
            q.limit.unwrap_or(50),
        )
        .await?,
    ))
}

/// Sends a delivery again (same `Madoguchi-Delivery` id); 409 while it is still being retried.
#[utoipa::path(post, path = "/api/v1/authorities/{code}/webhook-deliveries/{id}/redeliver", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ("id" = String, Path)),
    responses((status = 202, body = DeliveryView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn redeliver(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path((code, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(webhooks::redeliver(&s.app, &a, &code, &id).await?),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `auto` (default), `utf-8` or `shift_jis`.
    pub encoding: Option<String>,
    /// `true`: check and report only.
    pub dry_run: Option<bool>,
}

/// Imports the authority's existing ledger (CSV, multipart field `file`; columns:
/// docs/ledger.md). All or nothing: any bad row (422, one problem per cell, `rows.<line>`)
/// and nothing is written. Idempotent.
#[utoipa::path(post, path = "/api/v1/authorities/{code}/imports/establishments", tag = "ledger", security(("bearer" = [])),
    params(("code" = String, Path, description = "全国地方公共団体コード"), ImportQuery),
    request_body(content_type = "multipart/form-data", description = "field `file`: the CSV"),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_establishments(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<Json<ImportReport>> {
    let encoding = InputEncoding::parse(q.encoding.as_deref().unwrap_or("auto"))?;
    // The object rule first: another authority's code is 404 before the upload is read.
    madoguchi_core::policy::may_use_ledger(&a, &code)?;
    let (_, _, bytes) = super::filings::read_file_field(multipart, "file").await?;
    let report = import::import_establishments(
        &s.app,
        ImportBy::Staff(&a),
        &code,
        &bytes,
        ImportOptions {
            encoding,
            dry_run: q.dry_run.unwrap_or(false),
        },
        &|_, _| {},
    )
    .await?;
    if report.errors.is_empty() {
        Ok(Json(report))
    } else {
        Err(AppError::Validation(report_problems(&report)))
    }
}

/// An import's errors as field problems: `rows.<line>` (or `rows.<line>.<column>`).
pub fn report_problems(report: &ImportReport) -> Vec<madoguchi_core::filings::view::Problem> {
    report
        .errors
        .iter()
        .map(|e| madoguchi_core::filings::view::Problem {
            field: match &e.column {
                Some(c) => format!("rows.{}.{c}", e.line),
                None => format!("rows.{}", e.line),
            },
            code: "invalid_row".into(),
            message: e.message.clone(),
        })
        .collect()
}
