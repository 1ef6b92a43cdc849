//! Event-stream checks in the API: their learned shape, drift findings, recent events
//! and volume per hour, and relearning the shape. Streams are created with POST
//! `/checks` and `"kind": "event-stream"` (see `checks::create`); events arrive on
//! `/events/<uuid>` (see `crate::events`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tend_domain::check::CheckKind;
use tend_domain::page::Page;
use tend_store::checks::Check;
use tend_store::events::{Drift, Event, EventStream, VolumeHour};
use tend_store::StoreError;

use super::params::{Params, PathText};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checks/{uuid}/shape", get(shape))
        .route("/checks/{uuid}/drifts", get(drifts))
        .route("/checks/{uuid}/events", get(events))
        .route("/checks/{uuid}/volume", get(volume))
        .route("/checks/{uuid}/relearn", post(relearn))
}

async fn stream_check(state: &AppState, uuid: &str) -> Result<Check, Problem> {
    let check = match state.store.check(uuid).await {
        Ok(check) => check,
        Err(StoreError::NotFound(_)) => {
            return Err(Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("there is no check {uuid}"),
            ))
        }
        Err(other) => return Err(other.into()),
    };
    if check.kind != CheckKind::EventStream {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not-an-event-stream",
            format!("check {uuid} is a {}, not an event stream", check.kind),
        ));
    }
    Ok(check)
}

/// The learned shape: each field path with its types and whether it is known (seen in
/// at least 80 % of the learning events) or optional; `learned_at` is null while
/// learning.
#[utoipa::path(get, path = "/checks/{uuid}/shape", tag = "checks", operation_id = "getEventShape",
    params(("uuid" = String, Path, description = "The event stream's UUID")),
    responses(
        (status = 200, description = "The learned shape", body = serde_json::Value),
        (status = 409, description = "The check is not an event stream", body = Problem),
    ))]
pub async fn shape(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<EventStream>, Problem> {
    let check = stream_check(&state, &uuid).await?;
    Ok(Json(state.store.event_stream(check.id).await?))
}

/// The distinct drifts of the current shape, newest first, each with `expected` (the
/// learned side) and `actual` (what the events had).
#[utoipa::path(get, path = "/checks/{uuid}/drifts", tag = "checks", operation_id = "listEventDrifts",
    params(("uuid" = String, Path, description = "The event stream's UUID")),
    responses((status = 200, description = "Drift findings", body = super::openapi::PageOf)))]
pub async fn drifts(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Page<Drift>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let check = stream_check(&state, &uuid).await?;
    let all = state.store.event_drifts(check.id).await?;
    Ok(Json(super::page_of(all, page)))
}

/// The stream's events, newest first, with their bodies and verdicts (learning, ok,
/// drift).
#[utoipa::path(get, path = "/checks/{uuid}/events", tag = "checks", operation_id = "listEvents",
    params(
        ("uuid" = String, Path, description = "The event stream's UUID"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of events", body = super::openapi::PageOf)))]
pub async fn events(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Page<Event>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let check = stream_check(&state, &uuid).await?;
    Ok(Json(state.store.check_events(check.id, page).await?))
}

/// Events per hour over the last `hours` completed hours (default 24, at most 24 × 28),
/// each beside its baseline (median of the same hour in the 4 weeks before).
#[utoipa::path(get, path = "/checks/{uuid}/volume", tag = "checks", operation_id = "getEventVolume",
    params(
        ("uuid" = String, Path, description = "The event stream's UUID"),
        ("hours" = Option<u32>, Query, description = "Hours to show, 1 to 672 (default 24)"),
    ),
    responses((status = 200, description = "Hourly counts and baselines, oldest first", body = serde_json::Value)))]
pub async fn volume(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Vec<VolumeHour>>, Problem> {
    params.allow(&["hours"]);
    let hours = match params.text("hours") {
        None => Some(24),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(h) if (1..=672).contains(&h) => Some(h),
            _ => {
                params.reject("hours", "must be a whole number from 1 to 672");
                None
            }
        },
    };
    params.finish()?;
    let check = stream_check(&state, &uuid).await?;
    let hours = hours.unwrap_or(24);
    Ok(Json(
        state
            .store
            .event_volume(check.id, tend_store::now_ms(), hours)
            .await?,
    ))
}

/// Forget the learned shape: the next events are learned from and drift findings start
/// afresh (audited). For an intended change of the workflow's events.
#[utoipa::path(post, path = "/checks/{uuid}/relearn", tag = "checks", operation_id = "relearnEventShape",
    params(("uuid" = String, Path, description = "The event stream's UUID")),
    responses((status = 200, description = "The emptied shape, learning again", body = serde_json::Value)))]
pub async fn relearn(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<EventStream>, Problem> {
    caller.require_write()?;
    stream_check(&state, &uuid).await?;
    Ok(Json(
        state
            .store
            .relearn_event_shape(&caller.actor(), &uuid)
            .await?,
    ))
}
