//! The three things a caller may need to tell apart when a query fails.

/// Database failure, reduced to what callers act on.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist (or is not visible to the caller's query).
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key constraint refused the write.
    #[error("constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// Anything else: connection, I/O, decoding, migration.
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                DbError::Conflict {
                    constraint: db.constraint().unwrap_or(db.message()).to_string(),
                }
            }
            _ => DbError::Other(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        DbError::Other(format!("migration failed: {e}"))
    }
}

impl From<serde_json::Error> for DbError {
    fn from(e: serde_json::Error) -> Self {
        DbError::Other(format!("stored JSON unreadable: {e}"))
    }
}
