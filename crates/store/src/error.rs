//! What can go wrong in the store, in terms the surfaces can map once to HTTP statuses,
//! form errors and CLI messages.

use tend_domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Nothing with that identifier (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken (409), with the field to show the message on.
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// The change is refused because of what depends on it (409).
    #[error("{0}")]
    Guarded(String),
    /// Input that parsed but does not fit what is stored (422), by field.
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// An error of the SQLite connection that stores pings (see `ping_sqlite`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid(FieldErrors::single(field, message))
    }
}

/// Whether a database error is a unique-constraint violation on either engine.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
