//! Tend's HTTP surface: the staff UI, the REST API under `/api/v1`, the ping endpoints
//! under `/ping/`, `/healthz` and `/metrics`. Handlers are thin: parse, call the store
//! and the domain, render.

pub mod api;
pub mod auth;
pub mod events;
pub mod health;
pub mod metrics;
pub mod ping;
pub mod problem;
pub mod rate_limit;
pub mod release_notes;
pub mod request_id;
pub mod ui;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tend_store::Store;

/// Request bodies above this are refused with 413 (forms and JSON alike).
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when Tend is served over HTTPS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// Whether an SMTP server is set; the outbox page says so when it is not.
    pub mail_configured: bool,
    /// Bytes of a ping's body that are kept (the rest is dropped, not refused).
    pub ping_body_limit: usize,
    /// Pings each check keeps; older ones leave only their hourly counts.
    pub pings_kept: i64,
    /// How long the ping writer waits for more pings when few are waiting (ms).
    pub ping_batch_window_ms: u64,
}

/// healthchecks.io's body limit, which scripts written for it expect.
pub const DEFAULT_PING_BODY_LIMIT: usize = 100_000;
/// How long the ping writer gathers a batch when few pings are waiting: not at all, the
/// previous commit is the window (see `ping`).
pub const DEFAULT_PING_BATCH_WINDOW_MS: u64 = 0;

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            mail_configured: false,
            ping_body_limit: DEFAULT_PING_BODY_LIMIT,
            pings_kept: tend_store::checks::DEFAULT_PINGS_KEPT,
            ping_batch_window_ms: DEFAULT_PING_BATCH_WINDOW_MS,
        }
    }
}

/// Everything a handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub metrics: Arc<metrics::Metrics>,
    pub login_limiter: Arc<rate_limit::LoginLimiter>,
    pub pings: Arc<ping::PingWriterCell>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            metrics: Arc::new(metrics::Metrics::default()),
            login_limiter: Arc::new(rate_limit::LoginLimiter::default()),
            pings: Arc::new(ping::PingWriterCell::new()),
        }
    }
}

/// The whole application: UI, API, health and metrics, with request ids, metrics and
/// a body limit on every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ui::routes())
        .nest("/api/v1", api::routes())
        .merge(health::routes())
        .merge(ping::routes())
        .merge(events::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Paths nobody serves: a problem document under `/api/`, a page everywhere else.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        problem::Problem::not_found("route").into_response()
    } else {
        ui::UiError::NotFound("There is no page at this address.".into()).into_response()
    }
}
