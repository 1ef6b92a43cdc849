//! `POST /events/<uuid>`: a workflow sends one JSON event to its event-stream check.
//!
//! The path cannot collide with healthchecks.io's ping shapes (everything of theirs is
//! under `/ping/`). No authentication: the UUID is the secret, as for pings. Each event
//! is stored in one short transaction before the reply (events are far rarer than
//! pings, so there is no batching writer; see the README's performance table).
//!
//! Answers: 200 with `{"status": "stored", "n", "learning", "findings", "new_drifts"}`;
//! 400 when the body is not JSON; 404 for an unknown UUID; 405 for any method but POST;
//! 413 when the body exceeds the ping body limit (a cut JSON document would not parse,
//! so an event is refused rather than cut). Errors are problem JSON.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use http_body_util::BodyExt;
use tend_domain::check::CheckUuid;
use tend_store::events::{EventOutcome, IncomingEvent};

use crate::problem::Problem;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/events/{uuid}", any(event))
}

fn unknown(uuid: &str) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!(
            "there is no event stream {}",
            uuid.chars().take(64).collect::<String>()
        ),
    )
    .into_response()
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

/// Reads the body up to `limit` bytes; `None` when it is longer.
async fn read_limited(mut body: Body, limit: usize) -> Option<Vec<u8>> {
    let mut kept = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Some(kept);
        };
        if let Ok(data) = frame.into_data() {
            if kept.len() + data.len() > limit {
                return None;
            }
            kept.extend_from_slice(&data);
        }
    }
    Some(kept)
}

async fn event(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method != Method::POST {
        let mut response = Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "send events with POST and a JSON body",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let Ok(uuid_parsed) = CheckUuid::parse(&uuid) else {
        return unknown(&uuid);
    };
    let limit = state.config.ping_body_limit;
    let Some(raw) = read_limited(body, limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("an event may be at most {limit} bytes"),
        )
        .into_response();
    };
    let value: serde_json::Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(e) => {
            return Problem::bad_request(format!("the body is not valid JSON: {e}")).into_response()
        }
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a);
    let incoming = IncomingEvent {
        uuid: uuid_parsed,
        at: tend_store::now_ms(),
        // It parsed as JSON, so it is UTF-8.
        body: String::from_utf8_lossy(&raw).into_owned(),
        value,
        remote_addr: remote_addr(&parts.headers, peer),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect(),
    };
    match state.store.record_event(&incoming).await {
        Ok(outcome @ EventOutcome::Stored { .. }) => {
            (StatusCode::OK, Json(outcome)).into_response()
        }
        Ok(EventOutcome::NotFound) => unknown(&uuid),
        Err(error) => {
            tracing::error!(%error, "storing an event failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the event could not be stored; send it again",
            )
            .into_response()
        }
    }
}
