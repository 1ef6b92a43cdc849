//! `/checks`: heartbeat checks per client, their pings and their state changes
//! (flips). A check is named by the UUID of its ping URL; the pings themselves arrive
//! on `/ping/…` (see `crate::ping`), not here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tend_domain::check::{CheckDraft, CheckKind, CheckState};
use tend_domain::event_stream::EventStreamDraft;
use tend_domain::page::Page;
use tend_domain::probe::{headers_text, ProbeSettings};
use tend_domain::FieldErrors;
use tend_store::checks::{Check, CheckFilter, Flip, Ping};
use tend_store::probes::ProbeResult;
use tend_store::{Store, StoreError};

use super::body::{finish, Body};
use super::params::{Params, PathText};
use super::{created, deleted, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// The routes of this module, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checks", get(list).post(create))
        .route("/checks/{uuid}", get(show).patch(patch).delete(delete))
        .route("/checks/{uuid}/pause", post(pause))
        .route("/checks/{uuid}/resume", post(resume))
        .route("/checks/{uuid}/pings", get(pings))
        .route("/checks/{uuid}/flips", get(flips))
        .route("/checks/{uuid}/results", get(probe_results))
}

/// A check as the API shows it: the stored check, its schedule in words and the path
/// its workflow pings.
#[derive(Debug, Serialize)]
pub struct CheckView {
    #[serde(flatten)]
    pub check: Check,
    /// "every 5m", "0 9 * * 1-5 (Europe/Berlin)".
    pub schedule: String,
    /// `/ping/<uuid>`, to append to this Tend's address.
    pub ping_path: String,
    /// `/ping/<ping-key>/<slug>` (the client's ping key); given by GET `/checks/{uuid}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug_ping_path: Option<String>,
    /// Uptime in percent over the last 24 hours, 7 days and 30 days (`null` when there
    /// was nothing to count); given by GET `/checks/{uuid}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<UptimeView>,
    /// `/events/<uuid>`, where an event stream's workflow POSTs its events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_path: Option<String>,
    /// An HTTP probe's settings (kind `http-probe`); given by GET `/checks/{uuid}` and
    /// on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<ProbeView>,
}

#[derive(Debug, Serialize)]
pub struct UptimeView {
    pub day: Option<f64>,
    pub week: Option<f64>,
    pub month: Option<f64>,
}

impl From<tend_store::check_uptime::CheckUptime> for UptimeView {
    fn from(u: tend_store::check_uptime::CheckUptime) -> Self {
        // Three decimals: enough to tell 99.999 % from 100 %.
        let round = |p: Option<f64>| p.map(|p| (p * 1000.0).floor() / 1000.0);
        Self {
            day: round(u.day.percent()),
            week: round(u.week.percent()),
            month: round(u.month.percent()),
        }
    }
}

/// An HTTP probe's settings as the API shows them. Header values are shown as
/// written: a credential is only ever an `${env:…}` reference.
#[derive(Debug, Serialize)]
pub struct ProbeView {
    pub url: String,
    pub method: String,
    pub headers: String,
    pub every_ms: i64,
    pub timeout_ms: i64,
    pub expect: String,
    pub keyword: Option<String>,
    pub no_keyword: Option<String>,
    pub max_latency_ms: Option<i64>,
    /// "GET https://acme.example/health every 1m, expects 2xx".
    pub description: String,
}

impl From<&ProbeSettings> for ProbeView {
    fn from(s: &ProbeSettings) -> Self {
        let keyword = |absent: bool| {
            s.keyword
                .as_ref()
                .filter(|k| k.absent == absent)
                .map(|k| k.text.clone())
        };
        Self {
            url: s.url.to_string(),
            method: s.method.to_string(),
            headers: headers_text(&s.headers),
            every_ms: s.interval_ms,
            timeout_ms: s.timeout_ms,
            expect: s.expect.to_string(),
            keyword: keyword(false),
            no_keyword: keyword(true),
            max_latency_ms: s.max_latency_ms,
            description: s.describe(),
        }
    }
}

impl From<Check> for CheckView {
    fn from(check: Check) -> Self {
        Self {
            schedule: check.schedule_text(),
            ping_path: format!("/ping/{}", check.uuid),
            slug_ping_path: None,
            uptime: None,
            event_path: (check.kind == CheckKind::EventStream)
                .then(|| format!("/events/{}", check.uuid)),
            probe: None,
            check,
        }
    }
}

async fn load(store: &Store, uuid: &str) -> Result<Check, Problem> {
    match store.check(uuid).await {
        Ok(check) => Ok(check),
        Err(StoreError::NotFound(_)) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("there is no check {uuid}"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Checks by client name then check name, a page at a time.
#[utoipa::path(get, path = "/checks", tag = "checks", operation_id = "listChecks",
    params(
        ("client" = Option<String>, Query, description = "The client's slug"),
        ("state" = Option<String>, Query, description = "new, up, late, down or paused"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of checks", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<CheckView>>, Problem> {
    params.allow(&["client", "state", "page", "per_page"]);
    let client_id = match params.text("client") {
        None => None,
        Some(slug) => match state.store.client_by_slug(&slug, false).await {
            Ok(client) => Some(client.id),
            Err(StoreError::NotFound(_)) => {
                params.reject("client", format!("there is no client {slug}"));
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let check_state = params.parsed("state", CheckState::parse);
    let page = params.page();
    params.finish()?;
    let filter = CheckFilter {
        client_id,
        state: check_state,
    };
    let found = state.store.checks(&filter, page).await?;
    Ok(Json(Page {
        items: found.items.into_iter().map(CheckView::from).collect(),
        page: found.page,
        per_page: found.per_page,
        total: found.total,
    }))
}

/// Add a check. A heartbeat needs `client`, `name` and a `period` (or a `cron` with its
/// `timezone`); `grace` defaults to 1h, `criticality` to internal, `slug` to one made
/// from the name. With a `url` it is an HTTP probe instead: `every` (default 1m, at
/// least 30s), `method`, `headers`, `timeout`, `expect`, `keyword` or `no_keyword`,
/// `max_latency`. With `"kind": "event-stream"` it is an event stream (no schedule;
/// `learn_events` and `events_kept` optional) and `event_path` says where its workflow
/// POSTs events.
#[utoipa::path(post, path = "/checks", tag = "checks", operation_id = "createCheck",
    request_body(content = super::openapi::CheckFields, description = "A heartbeat (CheckFields) or, with kind event-stream, an event stream (EventStreamFields)"),
    responses(
        (status = 201, description = "Added; Location names the check, `ping_path` is where it is pinged", body = serde_json::Value),
        (status = 409, description = "The client already has a check with this slug", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let mut errors = FieldErrors::new();
    let mut body = Body::object(value)?;
    let kind = match body.take("kind") {
        None => Some(CheckKind::Heartbeat),
        Some(Value::String(k)) => errors.check("kind", CheckKind::parse(&k)),
        Some(_) => {
            errors.add("kind", "must be a string");
            None
        }
    };
    let (check, probe) = if kind == Some(CheckKind::EventStream) {
        let draft = body.onto(&EventStreamDraft::default(), "", &mut errors);
        let input = finish(draft, errors)?.parse()?;
        let check = state
            .store
            .create_event_stream(&caller.actor(), &input)
            .await?;
        (check, None)
    } else {
        // A heartbeat, or an HTTP probe when a `url` is given.
        let draft = body.onto(&CheckDraft::default(), "", &mut errors);
        let input = finish(draft, errors)?.parse()?;
        if kind == Some(CheckKind::HttpProbe) && input.probe.is_none() {
            return Err(FieldErrors::single("url", "an http-probe needs the URL to call").into());
        }
        let check = state.store.create_check(&caller.actor(), &input).await?;
        (check, input.probe.as_ref().map(ProbeView::from))
    };
    let location = format!("{BASE}/checks/{}", check.uuid);
    let mut view = CheckView::from(check);
    view.probe = probe;
    Ok(created(location, view))
}

/// One check with its state, last ping, next deadline, both ping paths and its uptime.
#[utoipa::path(get, path = "/checks/{uuid}", tag = "checks", operation_id = "getCheck",
    params(("uuid" = String, Path, description = "The check's UUID")),
    responses((status = 200, description = "The check", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<CheckView>, Problem> {
    let check = load(&state.store, &uuid).await?;
    let key = state.store.client_ping_key(check.client_id).await?;
    let slug_path = format!("/ping/{key}/{}", check.slug);
    let uptime = state
        .store
        .checks_uptime(&[&check], tend_store::now_ms())
        .await?
        .remove(&check.id)
        .unwrap_or_default();
    let probe = state.store.probe_settings(check.id).await?;
    let mut view = CheckView::from(check);
    view.slug_ping_path = Some(slug_path);
    view.uptime = Some(uptime.into());
    view.probe = probe.as_ref().map(ProbeView::from);
    Ok(Json(view))
}

/// Edit a heartbeat check: any of `name`, `slug`, `workflow`, `criticality`, `period`,
/// `cron`, `timezone`, `grace` (JSON Merge Patch: fields not sent keep their value,
/// `null` empties one). To move from a period to a cron schedule, send the `cron` with
/// `"period": null`. A new schedule takes effect at once. HTTP probes and event streams
/// cannot be edited (409).
#[utoipa::path(patch, path = "/checks/{uuid}", tag = "checks", operation_id = "patchCheck",
    params(("uuid" = String, Path, description = "The check's UUID")),
    request_body(content = super::openapi::CheckFields, description = "The fields to change"),
    responses(
        (status = 200, description = "The edited check", body = serde_json::Value),
        (status = 409, description = "Not a heartbeat, or the slug is taken", body = Problem),
        (status = 422, description = "A field is not valid; `errors` names it", body = Problem),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<CheckView>, Problem> {
    caller.require_write()?;
    let check = load(&state.store, &uuid).await?;
    let mut errors = FieldErrors::new();
    let body = Body::object(value)?;
    tend_store::check_edit::editable(&check)?;
    let draft = body.onto(&tend_store::check_edit::draft_of(&check), "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let check = state
        .store
        .update_check(&caller.actor(), &uuid, &input)
        .await?;
    Ok(Json(check.into()))
}

/// Delete a check: its ping URL answers 404 from now on.
#[utoipa::path(delete, path = "/checks/{uuid}", tag = "checks", operation_id = "deleteCheck",
    params(("uuid" = String, Path, description = "The check's UUID")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Response, Problem> {
    caller.require_write()?;
    load(&state.store, &uuid).await?;
    state.store.delete_check(&caller.actor(), &uuid).await?;
    Ok(deleted())
}

/// Pause a check: no alerts until its next ping or until it is resumed.
#[utoipa::path(post, path = "/checks/{uuid}/pause", tag = "checks", operation_id = "pauseCheck",
    params(("uuid" = String, Path, description = "The check's UUID")),
    responses((status = 200, description = "The paused check", body = serde_json::Value)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<CheckView>, Problem> {
    set_paused(state, caller, uuid, true).await
}

/// Resume a paused check; it waits for its next ping.
#[utoipa::path(post, path = "/checks/{uuid}/resume", tag = "checks", operation_id = "resumeCheck",
    params(("uuid" = String, Path, description = "The check's UUID")),
    responses((status = 200, description = "The resumed check", body = serde_json::Value)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<CheckView>, Problem> {
    set_paused(state, caller, uuid, false).await
}

async fn set_paused(
    state: AppState,
    caller: ApiCaller,
    uuid: String,
    paused: bool,
) -> Result<Json<CheckView>, Problem> {
    caller.require_write()?;
    load(&state.store, &uuid).await?;
    let check = state
        .store
        .set_check_paused(&caller.actor(), &uuid, paused)
        .await?;
    Ok(Json(check.into()))
}

/// A check's pings, newest first, with their bodies (the newest 1,000 are kept unless
/// configured otherwise).
#[utoipa::path(get, path = "/checks/{uuid}/pings", tag = "checks", operation_id = "listCheckPings",
    params(
        ("uuid" = String, Path, description = "The check's UUID"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of pings", body = super::openapi::PageOf)))]
pub async fn pings(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Page<Ping>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let check = load(&state.store, &uuid).await?;
    Ok(Json(state.store.check_pings(check.id, page).await?))
}

/// A check's state changes, newest first.
#[utoipa::path(get, path = "/checks/{uuid}/flips", tag = "checks", operation_id = "listCheckFlips",
    params(
        ("uuid" = String, Path, description = "The check's UUID"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of flips", body = super::openapi::PageOf)))]
pub async fn flips(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Page<Flip>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let check = load(&state.store, &uuid).await?;
    Ok(Json(state.store.check_flips(check.id, page).await?))
}

/// An HTTP probe's results, newest first: when each run was due and started, the
/// status and latency, and the verdict in words.
#[utoipa::path(get, path = "/checks/{uuid}/results", tag = "checks", operation_id = "listProbeResults",
    params(
        ("uuid" = String, Path, description = "The check's UUID"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of probe results", body = super::openapi::PageOf)))]
pub async fn probe_results(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
    mut params: Params,
) -> Result<Json<Page<ProbeResult>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let check = load(&state.store, &uuid).await?;
    Ok(Json(state.store.probe_results(check.id, page).await?))
}
