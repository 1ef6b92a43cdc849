//! The ping endpoints under `/ping/…`, shaped as healthchecks.io's Pinging API (see
//! `tend_domain::ping_url`): GET, HEAD and POST, no authentication, plain-text answers
//! ("OK", "Created", "not found", "invalid url format") with the same status codes.
//!
//! Every 2xx follows a commit: pings go to the store's [`PingWriter`], which stores them
//! in batches (group commit) and answers each once its batch is committed.
//!
//! Request bodies are kept up to the configured limit (100 KB unless configured); the
//! rest is read and dropped, never refused, and the limit is announced in the
//! `Ping-Body-Limit` header.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http_body_util::BodyExt;
use tend_domain::ping_url::{cut_body, parse_ping_path, success_reply, PingUrlError};
use tend_store::checks::{IncomingPing, PingOutcome};
use tend_store::ping_writer::PingWriter;

use crate::AppState;

/// How much of a body beyond the limit is read (and dropped) before the rest is left
/// unread; the connection is then closed by the server after the answer.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ping/{*rest}", any(ping))
        .route("/ping", any(unknown))
        .route("/ping/", any(unknown))
}

impl AppState {
    /// The ping writer, started on the first ping (inside the server's runtime).
    pub fn ping_writer(&self) -> &PingWriter {
        self.pings.get_or_init(|| {
            PingWriter::start(
                &self.store,
                self.config.pings_kept,
                Duration::from_millis(self.config.ping_batch_window_ms),
            )
        })
    }
}

/// Where the writer is kept in [`AppState`].
pub type PingWriterCell = OnceLock<PingWriter>;

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response()
}

async fn unknown() -> Response {
    refused(PingUrlError::NotFound)
}

fn refused(e: PingUrlError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    text(status, e.body())
}

/// The first address of `X-Forwarded-For` when a proxy set it, else the peer's.
fn remote_addr(headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match (forwarded, peer) {
        (Some(f), _) => f.chars().take(64).collect(),
        (None, Some(peer)) => peer.ip().to_string(),
        (None, None) => String::new(),
    }
}

/// Reads up to `limit` bytes of the body, then reads and drops the rest (up to
/// [`DRAIN_LIMIT`]) so the client is not cut off mid-send.
async fn read_cut(mut body: Body, limit: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if kept.len() < limit {
                let room = limit - kept.len();
                kept.extend_from_slice(&data[..data.len().min(room)]);
            }
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    }
    kept
}

async fn ping(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let rest = parts.uri.path().strip_prefix("/ping/").unwrap_or_default();
    let parsed = match parse_ping_path(rest, parts.uri.query()) {
        Ok(parsed) => parsed,
        Err(e) => return refused(e),
    };
    let limit = state.config.ping_body_limit;
    let raw = read_cut(body, limit).await;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect();
    let incoming = IncomingPing {
        target: parsed.target,
        signal: parsed.signal,
        rid: parsed.rid,
        create: parsed.create,
        at: tend_store::now_ms(),
        method: parts.method.as_str().chars().take(10).collect(),
        body: cut_body(&raw, limit),
        remote_addr: remote_addr(&parts.headers, peer),
        user_agent,
    };
    match state.ping_writer().submit(incoming).await {
        Some(PingOutcome::Stored { created }) => {
            let (code, body) = success_reply(created);
            let mut response = text(StatusCode::from_u16(code).unwrap_or(StatusCode::OK), body);
            if let Ok(value) = HeaderValue::from_str(&limit.to_string()) {
                response.headers_mut().insert("ping-body-limit", value);
            }
            response
        }
        Some(PingOutcome::NotFound) => refused(PingUrlError::NotFound),
        None => text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_address_prefers_the_proxy_header() {
        let mut headers = HeaderMap::new();
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(remote_addr(&headers, Some(peer)), "10.0.0.1");
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.1"),
        );
        assert_eq!(remote_addr(&headers, Some(peer)), "203.0.113.9");
        assert_eq!(remote_addr(&HeaderMap::new(), None), "");
    }
}
