//! Errors on UI pages: an HTML page with a status and a plain explanation.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tend_store::StoreError;

#[derive(Debug)]
pub enum UiError {
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => UiError::NotFound(format!(
                "There is no such {what}. It may have been deleted or renamed."
            )),
            StoreError::Conflict { message, .. } | StoreError::Guarded(message) => {
                UiError::Conflict(message)
            }
            StoreError::Invalid(errors) => UiError::Conflict(errors.summary()),
            e @ (StoreError::Database(_) | StoreError::Sqlite(_)) => {
                tracing::error!(error = %e, "database error");
                UiError::Internal
            }
        }
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template error");
        UiError::Internal
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            UiError::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.as_str()),
            UiError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.as_str()),
            UiError::Conflict(m) => (StatusCode::CONFLICT, "That cannot be done yet", m.as_str()),
            UiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Tend could not finish this request. It has been logged; try again in a moment.",
            ),
        };
        let body = ErrorPage { title, message }
            .render()
            .unwrap_or_else(|_| format!("<h1>{title}</h1><p>{message}</p>"));
        (status, Html(body)).into_response()
    }
}
