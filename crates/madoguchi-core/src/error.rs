//! Errors of the use cases, in terms a caller can act on. Messages meant for people are
//! Japanese; the web layer maps each variant to one HTTP status.

use madoguchi_db::DbError;
use madoguchi_domain::procedure::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The object does not exist, or belongs to someone the actor may not see (never tell which).
    #[error("not found")]
    NotFound,
    /// Signed in, but this role may not do this (e.g. a reviewer submitting a filing).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The input is wrong; each error names its field.
    #[error("validation failed ({} errors)", .0.len())]
    Validation(Vec<FieldError>),
    /// The object changed state meanwhile (double accept, stale edit, reused key).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl From<DbError> for CoreError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => CoreError::NotFound,
            DbError::Conflict { constraint } => CoreError::Conflict(format!(
                "制約に反するため保存できませんでした（{constraint}）。"
            )),
            DbError::Other(m) => CoreError::Internal(m),
        }
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::Internal(format!("json: {e}"))
    }
}

impl CoreError {
    /// One validation error on one field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> CoreError {
        CoreError::Validation(vec![FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        }])
    }
}
