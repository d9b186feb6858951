//! One-request submission (system-to-system): the filing's answers and its files in one
//! multipart body, created, attached and submitted in one commit. The step-by-step API
//! (`/api/v1/filings`, `/api/v1/attachments`, …/submit) stays for clients that build a
//! filing over time; this one is for systems that hold the whole filing already.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use madoguchi_core::filings::{self, NewFiling, SubmittedFile};
use utoipa::ToSchema;

use super::ApiMultipart;
use super::filings::{SubmitResponse, multipart_error};
use crate::auth::ApiActor;
use crate::error::{ApiResult, AppError};
use crate::state::AppState;

/// Most files one submission may carry.
const MAX_FILES: usize = 50;

/// The multipart body: a part `filing` (JSON) and one part per file, named by the
/// requirement the file answers.
#[allow(dead_code)] // documentation only: the handler reads the multipart stream
#[derive(ToSchema)]
pub struct SubmissionForm {
    /// The filing as JSON: `procedure_id`, `establishment_ids`, `data` (answers, laid over
    /// what the registry prefills) and optionally `procedure_version`.
    filing: NewFiling,
    /// A file for the requirement of that name (here `registry_certificate`; any
    /// requirement id of the procedure may name a part). Each file part needs a file name.
    #[schema(value_type = Option<String>, format = Binary)]
    registry_certificate: Option<Vec<u8>>,
}

/// Creates, attaches the files to and submits a filing in one request; nothing is stored
/// unless all of it is accepted, and the files and rows are durable before the answer.
/// Send an `Idempotency-Key` header to make retries safe (a replay answers 200 with the
/// first submission's filing).
#[utoipa::path(post, path = "/api/v1/submissions", tag = "filings", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key, 1-200 characters")),
    request_body(content_type = "multipart/form-data", content = SubmissionForm, description = "part `filing` (JSON) and file parts named by requirement id"),
    responses((status = 201, body = SubmitResponse), (status = 200, body = SubmitResponse, description = "replay of an Idempotency-Key already used"), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_submission(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    ApiMultipart(mut multipart): ApiMultipart,
) -> ApiResult<(StatusCode, Json<SubmitResponse>)> {
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
    let mut new: Option<NewFiling> = None;
    let mut files = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "filing" {
            let bytes = field.bytes().await.map_err(multipart_error)?;
            let parsed =
                serde_json::from_slice::<NewFiling>(&bytes).map_err(|e| AppError::BadRequest {
                    code: "bad_request",
                    message: format!("項目 filing の JSON を読み取れません: {e}"),
                })?;
            new = Some(parsed);
            continue;
        }
        let Some(filename) = field.file_name().map(str::to_string) else {
            return Err(AppError::BadRequest {
                code: "bad_request",
                message: format!(
                    "項目「{}」はファイルとして送ってください（filing 以外の項目は添付ファイルです）。",
                    name.chars().take(100).collect::<String>()
                ),
            });
        };
        if name.is_empty() {
            return Err(AppError::BadRequest {
                code: "bad_request",
                message: "添付ファイルの項目名に添付書類の種類（例: registry_certificate）を指定してください。".into(),
            });
        }
        if files.len() == MAX_FILES {
            return Err(AppError::BadRequest {
                code: "too_many_files",
                message: format!("一度に添付できるファイルは{MAX_FILES}件までです。"),
            });
        }
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        files.push(SubmittedFile {
            requirement_id: name,
            filename,
            content_type,
            bytes: bytes.to_vec(),
        });
    }
    let new = new.ok_or_else(|| AppError::BadRequest {
        code: "bad_request",
        message: "項目 filing（届出の内容の JSON）がありません。".into(),
    })?;
    let out = filings::submit_complete(&s.app, &a, new, files, key.as_deref()).await?;
    let filing = filings::view::get(&s.app, &a, &out.filing_id).await?;
    let status = if out.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(SubmitResponse {
            filing,
            case_ids: out.case_ids,
            version_no: out.version_no,
            replayed: out.replayed,
        }),
    ))
}
