//! Why a command failed, as the one line printed after `error: `.

use tend_domain::FieldErrors;
use tend_store::StoreError;

#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The message on one line: database drivers sometimes add details on new lines.
    pub fn line(&self) -> String {
        self.0.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(fields) => fields.into(),
            other => Failure(other.to_string()),
        }
    }
}

impl From<FieldErrors> for Failure {
    fn from(e: FieldErrors) -> Self {
        Failure(e.summary())
    }
}

/// Gives a "not found" from the store a message that names what was looked for.
pub trait NotFoundAs<T> {
    fn not_found_as(self, message: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn not_found_as(self, message: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| match e {
            StoreError::NotFound(_) => Failure::new(message()),
            other => other.into(),
        })
    }
}
