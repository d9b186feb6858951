//! Filings API: create, read, save answers, attach files, submit (idempotent), withdraw.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use madoguchi_core::filings::view::{FilingListItem, FilingView};
use madoguchi_core::filings::{self, NewFiling};
use madoguchi_domain::procedure::FilingData;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiMultipart};
use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

/// The caller's filings (providers), newest first.
#[utoipa::path(get, path = "/api/v1/filings", tag = "filings", security(("bearer" = [])),
    responses((status = 200, body = [FilingListItem]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_filings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> ApiResult<Json<Vec<FilingListItem>>> {
    Ok(Json(filings::view::list(&s.app, &a).await?))
}

/// Starts a draft filing; answers are prefilled from the registry.
#[utoipa::path(post, path = "/api/v1/filings", tag = "filings", security(("bearer" = [])), request_body = NewFiling,
    responses((status = 201, body = FilingView), (status = 400, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(new): ApiJson<NewFiling>,
) -> ApiResult<(StatusCode, Json<FilingView>)> {
    let id = filings::create(&s.app, &a, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(filings::view::get(&s.app, &a, &id).await?),
    ))
}

/// A filing with per-authority case status and what still blocks submission.
#[utoipa::path(get, path = "/api/v1/filings/{id}", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = FilingView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<FilingView>> {
    Ok(Json(filings::view::get(&s.app, &a, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateFiling {
    /// The answers (FilingData: `{ "fields": {…}, "establishments": {id: {…}} }`).
    #[schema(value_type = FilingAnswers)]
    pub data: FilingData,
    /// The `lock_version` you read; the save is refused (409) if someone saved since.
    pub lock_version: Option<i64>,
}

/// Saves the answers of a draft (or of a filing being corrected after a return).
#[utoipa::path(put, path = "/api/v1/filings/{id}", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = UpdateFiling,
    responses((status = 200, body = FilingView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateFiling>,
) -> ApiResult<Json<FilingView>> {
    filings::update(&s.app, &a, &id, body.data, body.lock_version).await?;
    Ok(Json(filings::view::get(&s.app, &a, &id).await?))
}

/// The shape of a filing's answers (`FilingData`) as the API accepts it: answers by field
/// id, and per-establishment answers by establishment id. Values: text → string, integer →
/// number, yes/no → boolean, multi-select → array of strings, date → `"YYYY-MM-DD"`.
/// Written by hand: both members may be left out, but neither may be `null`.
pub struct FilingAnswers;

impl utoipa::PartialSchema for FilingAnswers {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema};
        let answers = || {
            ObjectBuilder::new()
                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
        };
        ObjectBuilder::new()
            .description(Some(
                "A filing's answers: `fields` by field id, `establishments` by establishment id, then field id.",
            ))
            .property(
                "fields",
                answers().description(Some("Answers to the form's top-level fields, by field id.")),
            )
            .property(
                "establishments",
                ObjectBuilder::new()
                    .description(Some(
                        "Answers to per-establishment fields: establishment id → field id → value.",
                    ))
                    .additional_properties(Some(AdditionalProperties::RefOr(
                        utoipa::openapi::RefOr::T(Schema::Object(answers().build())),
                    ))),
            )
            .into()
    }
}

impl ToSchema for FilingAnswers {}

/// The upload form: one file in the field `file`.
#[allow(dead_code)] // documentation only: the handler reads the multipart stream
#[derive(ToSchema)]
pub struct UploadForm {
    /// The file (PDF, Office documents, images, ZIP; checked by content).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmitResponse {
    pub filing: FilingView,
    /// Cases created (first submission) or resubmitted by this call.
    pub case_ids: Vec<String>,
    pub version_no: i64,
    /// True when this Idempotency-Key was already used: nothing new was submitted.
    pub replayed: bool,
}

/// Submits: the first time, one case per authority concerned; after a return, resubmits the
/// returned cases. Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/api/v1/filings/{id}/submit", tag = "filings", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe key, 1-200 characters")),
    responses((status = 200, body = SubmitResponse), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn submit_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<SubmitResponse>> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| AppError::BadRequest {
                    code: "bad_request",
                    message: "Idempotency-Key は ASCII 文字で指定してください。".into(),
                })?
                .to_string(),
        ),
        None => None,
    };
    let out = filings::submit(&s.app, &a, &id, key.as_deref()).await?;
    let filing = filings::view::get(&s.app, &a, &id).await?;
    Ok(Json(SubmitResponse {
        filing,
        case_ids: out.case_ids,
        version_no: out.version_no,
        replayed: out.replayed,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct WithdrawRequest {
    /// Why the filing is withdrawn (told to each authority).
    pub reason: String,
}

/// Withdraws every case not yet decided.
#[utoipa::path(post, path = "/api/v1/filings/{id}/withdraw", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = WithdrawRequest,
    responses((status = 200, body = FilingView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn withdraw_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WithdrawRequest>,
) -> ApiResult<Json<FilingView>> {
    filings::withdraw(&s.app, &a, &id, &body.reason).await?;
    Ok(Json(filings::view::get(&s.app, &a, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MigrateRequest {
    /// The `lock_version` of the draft as last read (guards against a concurrent edit).
    pub lock_version: i64,
}

/// Moves a draft to the newest form version of its procedure, carrying every unchanged
/// answer across; the reply lists what was carried, what could not be, and the new fields.
#[utoipa::path(post, path = "/api/v1/filings/{id}/migrate", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = MigrateRequest,
    responses((status = 200, body = filings::MigrationOutcome), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn migrate_filing(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MigrateRequest>,
) -> ApiResult<Json<filings::MigrationOutcome>> {
    Ok(Json(
        filings::migrate(&s.app, &a, &id, body.lock_version).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkAttachment {
    /// Id of an uploaded file (from `POST /api/v1/attachments`).
    pub attachment_id: String,
    /// Which requirement of the procedure it answers, e.g. `registry_certificate`.
    pub requirement_id: String,
}

/// Links an uploaded file to a requirement of the filing (one file may serve many filings).
#[utoipa::path(post, path = "/api/v1/filings/{id}/attachments", tag = "filings", security(("bearer" = [])), params(("id" = String, Path)), request_body = LinkAttachment,
    responses((status = 200, body = FilingView), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn link_attachment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LinkAttachment>,
) -> ApiResult<Json<FilingView>> {
    filings::link_attachment(&s.app, &a, &id, &body.attachment_id, &body.requirement_id).await?;
    Ok(Json(filings::view::get(&s.app, &a, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct UploadResponse {
    pub attachment_id: String,
    pub sha256: String,
    pub size_bytes: i64,
}

/// Uploads one file (multipart form, field `file`); returns its id for linking.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", security(("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = UploadForm, description = "field `file`"),
    responses((status = 201, body = UploadResponse), (status = 400, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_attachment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<(StatusCode, Json<UploadResponse>)> {
    let (filename, content_type, bytes) = read_file_field(multipart, "file").await?;
    let id = filings::upload(&s.app, &a, &filename, &content_type, bytes).await?;
    let (row, _) = filings::download(&s.app, &a, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadResponse {
            attachment_id: row.id,
            sha256: row.sha256,
            size_bytes: row.size_bytes,
        }),
    ))
}

/// Downloads a file the caller may see (always as an attachment, never rendered inline).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_attachment(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (row, bytes) = filings::download(&s.app, &a, &id).await?;
    Ok(file_response(&row.filename, bytes))
}

/// `Content-Disposition` with the file's name (RFC 6266/5987: an ASCII stand-in, then the
/// UTF-8 name percent-encoded); `kind` is `attachment` or `inline`.
pub fn content_disposition(kind: &str, filename: &str) -> String {
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"download\"; filename*=UTF-8''{encoded}")
}

/// A file as a download: generic type, attachment disposition (RFC 6266/5987 name), sandboxed.
pub fn file_response(filename: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition("attachment", filename),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Reads the named file field of a multipart body (other fields are ignored).
pub async fn read_file_field(
    mut multipart: Multipart,
    name: &str,
) -> ApiResult<(String, String, Vec<u8>)> {
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some(name) {
            let filename = field.file_name().unwrap_or("file").to_string();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = field.bytes().await.map_err(multipart_error)?;
            return Ok((filename, content_type, bytes.to_vec()));
        }
    }
    Err(AppError::Validation(vec![
        madoguchi_core::filings::view::Problem {
            field: name.into(),
            code: "required".into(),
            message: "ファイルを選んでください。".into(),
        },
    ]))
}

pub fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::BadRequest {
            code: "bad_request",
            message: "ファイルの送信内容を読み取れませんでした。もう一度お試しください。".into(),
        }
    }
}
