//! A JSON body extractor whose refusals are our JSON problems (malformed JSON, wrong type,
//! missing content type, too large) instead of axum's plain-text rejections.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `Json<T>` with Japanese, structured errors.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(r) => Err(rejection(r)),
        }
    }
}

fn rejection(r: JsonRejection) -> AppError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge;
    }
    match r {
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
            code: "unsupported_media_type",
            message: "Content-Type: application/json で送信してください。".into(),
        },
        JsonRejection::JsonSyntaxError(e) => AppError::BadRequest {
            code: "invalid_json",
            message: format!(
                "JSON の形式が正しくありません（{}）。",
                short(&e.body_text())
            ),
        },
        JsonRejection::JsonDataError(e) => AppError::BadRequest {
            code: "invalid_json",
            message: format!(
                "JSON の項目または型が正しくありません（{}）。",
                short(&e.body_text())
            ),
        },
        other => AppError::BadRequest {
            code: "bad_request",
            message: format!(
                "リクエストを読み取れませんでした（{}）。",
                short(&other.body_text())
            ),
        },
    }
}

/// serde's explanation, without echoing a large body back.
fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

/// `Multipart` whose refusals (not multipart, no boundary, too large) are JSON problems.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S> FromRequest<S> for ApiMultipart
where
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(m) => Ok(ApiMultipart(m)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
            Err(_) => Err(AppError::BadRequest {
                code: "unsupported_media_type",
                message:
                    "Content-Type: multipart/form-data（ファイルは項目 file）で送信してください。"
                        .into(),
            }),
        }
    }
}

/// `Query<T>` whose refusals name the parameter in a JSON problem.
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(AppError::BadRequest {
                code: "invalid_query",
                message: format!(
                    "クエリ文字列が正しくありません（{}）。",
                    short(&e.body_text())
                ),
            }),
        }
    }
}
