//! The one error type of the HTTP layer. Use-case errors map onto it; it renders as a JSON
//! problem (`{"error": {"code", "message", "fields"}}`) for the API and as a Japanese HTML
//! page for browsers. Internal errors are logged once, here, and never shown in detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use madoguchi_core::CoreError;
use madoguchi_core::filings::view::Problem;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum AppError {
    NotFound,
    Unauthorized,
    Forbidden(String),
    BadRequest { code: &'static str, message: String },
    Validation(Vec<Problem>),
    Conflict(String),
    PayloadTooLarge,
    Internal(String),
}

/// JSON body of every API error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine code: `not_found`, `unauthorized`, `forbidden`, `bad_request`, `invalid_json`,
    /// `validation_failed`, `conflict`, `payload_too_large`, `internal`.
    pub code: String,
    /// Japanese message for people.
    pub message: String,
    /// The offending fields, when the input was at fault.
    pub fields: Vec<Problem>,
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => AppError::NotFound,
            CoreError::Forbidden(m) => AppError::Forbidden(m),
            CoreError::Validation(errs) => {
                AppError::Validation(errs.into_iter().map(Into::into).collect())
            }
            CoreError::Conflict(m) => AppError::Conflict(m),
            CoreError::Internal(m) => AppError::Internal(m),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::BadRequest { code, .. } => code,
            AppError::Validation(_) => "validation_failed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Internal(_) => "internal",
        }
    }

    /// The Japanese message shown to people.
    pub fn message(&self) -> String {
        match self {
            AppError::NotFound => "お探しのページまたはデータは見つかりませんでした。".into(),
            AppError::Unauthorized => {
                "ログインが必要です。ログインしてからもう一度お試しください。".into()
            }
            AppError::Forbidden(m) | AppError::Conflict(m) => m.clone(),
            AppError::BadRequest { message, .. } => message.clone(),
            AppError::Validation(p) if p.len() == 1 => p[0].message.clone(),
            AppError::Validation(p) => format!(
                "入力内容に{}件の誤りがあります。各項目のメッセージをご確認ください。",
                p.len()
            ),
            AppError::PayloadTooLarge => {
                "送信されたデータが大きすぎます。ファイルを小さくするか分けて送信してください。"
                    .into()
            }
            AppError::Internal(_) => {
                "システムで問題が発生しました。時間をおいてもう一度お試しください。".into()
            }
        }
    }

    /// Logs server faults once (client faults are not errors of ours).
    pub fn log(&self) {
        match self {
            AppError::Internal(detail) => tracing::error!(error = %detail, "internal error"),
            // Refusals are security events: every one is logged, on the request's span (which
            // carries the request id, actor and tenant).
            AppError::Unauthorized | AppError::Forbidden(_) | AppError::NotFound => {
                tracing::warn!(
                    code = self.code(),
                    status = self.status().as_u16(),
                    "request refused"
                )
            }
            _ => {}
        }
    }

    pub fn body(&self) -> ErrorBody {
        let fields = match self {
            AppError::Validation(p) => p.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message: self.message(),
                fields,
            },
        }
    }
}

/// API rendering: a JSON problem.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut res = (self.status(), Json(self.body())).into_response();
        if matches!(self, AppError::Unauthorized) {
            res.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, AppError>;
