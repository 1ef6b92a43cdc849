//! `/maintenance-windows`: times when a client's checks (or chosen ones) raise no
//! alerts, and `/checks/{uuid}/resolve-on-recovery`. The rule is
//! `tend_domain::maintenance::is_silenced`; the watcher applies it.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tend_domain::maintenance::WindowDraft;
use tend_domain::page::Page;
use tend_domain::FieldErrors;
use tend_store::maintenance::MaintenanceWindow;
use tend_store::StoreError;

use super::body::{finish, Body};
use super::params::{parse_id, Params, PathText};
use super::{created, page_of, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// The routes of this module, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/maintenance-windows", get(list).post(create))
        .route("/maintenance-windows/{id}", get(show))
        .route("/maintenance-windows/{id}/end", post(end))
        .route(
            "/checks/{uuid}/resolve-on-recovery",
            get(resolve_on_recovery).put(set_resolve_on_recovery),
        )
}

/// Windows, newest first; `client` keeps one client's, `ended=true` adds ended ones.
#[utoipa::path(get, path = "/maintenance-windows", tag = "maintenance", operation_id = "listMaintenanceWindows",
    params(
        ("client" = Option<String>, Query, description = "The client's slug"),
        ("ended" = Option<bool>, Query, description = "true: include windows already ended"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of windows", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<MaintenanceWindow>>, Problem> {
    params.allow(&["client", "ended", "page", "per_page"]);
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
    let ended = params.parsed("ended", |s: &str| match s {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("\"{other}\" is not true or false")),
    });
    let page = params.page();
    params.finish()?;
    let windows = state
        .store
        .windows(client_id, ended.unwrap_or(false))
        .await?;
    Ok(Json(page_of(windows, page)))
}

/// Add a window. `client` and `kind` are required, then by kind: once (`starts`,
/// `ends`), weekly (`days`, `from`, `until`) or cron (`cron`, `duration`); wall-clock
/// times are read in `timezone` (default UTC). `checks` (UUIDs) limits it to chosen
/// checks of the client; without it the window covers all of them.
#[utoipa::path(post, path = "/maintenance-windows", tag = "maintenance", operation_id = "createMaintenanceWindow",
    request_body(content = WindowFields),
    responses(
        (status = 201, description = "Added; Location names the window", body = serde_json::Value),
        (status = 422, description = "A field is missing or wrong", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&WindowDraft::default(), "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let window = state.store.create_window(&caller.actor(), &input).await?;
    Ok(created(
        format!("{BASE}/maintenance-windows/{}", window.id),
        window,
    ))
}

/// One window.
#[utoipa::path(get, path = "/maintenance-windows/{id}", tag = "maintenance", operation_id = "getMaintenanceWindow",
    params(("id" = i64, Path, description = "The window's id")),
    responses((status = 200, description = "The window", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<MaintenanceWindow>, Problem> {
    let id = parse_id(&id, "maintenance window")?;
    Ok(Json(state.store.window(id).await?))
}

/// End a window now: alerts it held back go out at the watcher's next pass for checks
/// still down.
#[utoipa::path(post, path = "/maintenance-windows/{id}/end", tag = "maintenance", operation_id = "endMaintenanceWindow",
    params(("id" = i64, Path, description = "The window's id")),
    responses(
        (status = 200, description = "The ended window", body = serde_json::Value),
        (status = 409, description = "It had already ended", body = Problem),
    ))]
pub async fn end(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<MaintenanceWindow>, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "maintenance window")?;
    state.store.window(id).await?;
    Ok(Json(
        state
            .store
            .end_window(&caller.actor(), id, tend_store::now_ms())
            .await?,
    ))
}

/// Whether recovery resolves the check's monitoring ticket.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveOnRecovery {
    pub on: bool,
}

/// Whether the check's recovery resolves its monitoring ticket (off by default).
#[utoipa::path(get, path = "/checks/{uuid}/resolve-on-recovery", tag = "maintenance", operation_id = "getResolveOnRecovery",
    params(("uuid" = String, Path, description = "The check's UUID")),
    responses((status = 200, description = "The setting", body = ResolveOnRecovery)))]
pub async fn resolve_on_recovery(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(uuid): PathText,
) -> Result<Json<ResolveOnRecovery>, Problem> {
    let on = state.store.resolves_on_recovery(&uuid).await?;
    Ok(Json(ResolveOnRecovery { on }))
}

/// Turn resolving on recovery on or off: `{"on": true}`.
#[utoipa::path(put, path = "/checks/{uuid}/resolve-on-recovery", tag = "maintenance", operation_id = "setResolveOnRecovery",
    params(("uuid" = String, Path, description = "The check's UUID")),
    request_body(content = ResolveOnRecovery),
    responses((status = 200, description = "The setting", body = ResolveOnRecovery)))]
pub async fn set_resolve_on_recovery(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(uuid): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<ResolveOnRecovery>, Problem> {
    caller.require_write()?;
    let setting: ResolveOnRecovery = serde_json::from_value(value).map_err(|e| {
        Problem::validation(&FieldErrors::single(
            "on",
            format!("send {{\"on\": true}} or {{\"on\": false}} ({e})"),
        ))
    })?;
    state
        .store
        .set_resolve_on_recovery(&caller.actor(), &uuid, setting.on)
        .await?;
    Ok(Json(setting))
}

/// A maintenance window as sent to POST `/maintenance-windows`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WindowFields {
    /// The client's slug (required).
    client: String,
    /// UUIDs of chosen checks; omit for every check of the client.
    checks: Option<Vec<String>>,
    /// once, weekly or cron (required).
    kind: String,
    /// once: start, "2026-11-22T01:00" in `timezone` or an RFC 3339 instant.
    starts: Option<String>,
    /// once: end, as `starts`.
    ends: Option<String>,
    /// weekly: "sat,sun", "mon-fri", "daily".
    days: Option<String>,
    /// weekly: "22:00"; a range that ends before it starts runs past midnight.
    from: Option<String>,
    /// weekly: "23:30".
    until: Option<String>,
    /// cron: a cron expression, "0 2 * * 6".
    cron: Option<String>,
    /// cron: how long each time lasts, "2h".
    duration: Option<String>,
    /// IANA timezone of the wall-clock fields; default UTC.
    timezone: Option<String>,
    /// Why (shown in lists and the audit log).
    reason: Option<String>,
}
