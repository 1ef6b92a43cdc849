//! The staff UI: server-rendered pages that work without JavaScript.

mod error;

pub use error::UiError;

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
