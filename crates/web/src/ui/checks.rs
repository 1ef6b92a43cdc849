//! The checks pages: a status overview of every check (server-side pagination, so it
//! stays fast with thousands), filtered by state or client, and a check's page with
//! its ping URL, its ping log with bodies and its state changes.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use std::collections::HashMap;
use tend_domain::check::{format_interval, CheckState};
use tend_domain::check::{CheckDraft, Criticality};
use tend_domain::page::{Page, PageRequest};

use tend_domain::probe::{format_duration, headers_text, ProbeSettings};
use tend_domain::FieldErrors;
use tend_store::check_uptime::CheckUptime;
use tend_store::checks::{Check, CheckFilter, Flip, Ping};
use tend_store::probes::ProbeResult;
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{field_errors, local_time, refused, render, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checks", get(overview))
        .route("/checks/probes/new", get(new_probe))
        .route("/checks/probes", post(create_probe))
        .route("/checks/{uuid}", get(show))
        .route("/checks/{uuid}/pause", post(pause))
        .route("/checks/{uuid}/resume", post(resume))
}

pub struct Row {
    check: Check,
    schedule: String,
    last_ping: String,
    next_due: String,
    /// Uptime over 24 h, 7 d and 30 d ("99.95 %", or "—" with nothing to count).
    uptime: [String; 3],
}

fn row(check: Check, tz: &str, uptime: &HashMap<i64, CheckUptime>) -> Row {
    Row {
        uptime: uptime.get(&check.id).copied().unwrap_or_default().texts(),
        schedule: check.schedule_text(),
        last_ping: check
            .last_ping_at
            .map(|t| local_time(t, tz))
            .unwrap_or_else(|| "never".into()),
        next_due: check
            .next_due_at
            .map(|t| local_time(t, tz))
            .unwrap_or_else(|| "-".into()),
        check,
    }
}

pub struct Tab {
    label: String,
    link: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "checks.html")]
struct Overview {
    nav: Nav,
    page: Page<Row>,
    tabs: Vec<Tab>,
    client: Option<String>,
    prev_link: String,
    next_link: String,
}

#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    state: Option<String>,
    client: Option<String>,
    page: Option<u32>,
}

pub async fn overview(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, UiError> {
    let wanted = q.state.as_deref().and_then(|s| CheckState::parse(s).ok());
    let client = q.client.filter(|c| !c.trim().is_empty());
    let client_id = match &client {
        Some(slug) => match state.store.client_by_slug(slug, false).await {
            Ok(c) => Some(c.id),
            Err(StoreError::NotFound(_)) => {
                return Err(UiError::NotFound(format!("There is no client {slug}.")))
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let filter = CheckFilter {
        client_id,
        state: wanted,
    };
    let page = state
        .store
        .checks(&filter, PageRequest::new(q.page, Some(50)))
        .await?;
    let counts = state.store.check_state_counts().await?;
    let link = |s: Option<CheckState>, n: u32| {
        let mut parts = Vec::new();
        if let Some(s) = s {
            parts.push(format!("state={s}"));
        }
        if let Some(c) = &client {
            parts.push(format!("client={c}"));
        }
        if n > 1 {
            parts.push(format!("page={n}"));
        }
        if parts.is_empty() {
            "/checks".to_string()
        } else {
            format!("/checks?{}", parts.join("&"))
        }
    };
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![Tab {
        label: format!("All ({total})"),
        link: link(None, 1),
        current: wanted.is_none(),
    }];
    for s in [
        CheckState::Down,
        CheckState::Late,
        CheckState::Up,
        CheckState::New,
        CheckState::Paused,
    ] {
        let n = counts
            .iter()
            .find(|(c, _)| *c == s)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        tabs.push(Tab {
            label: format!("{} ({n})", s.as_str()),
            link: link(Some(s), 1),
            current: wanted == Some(s),
        });
    }
    let prev_link = link(wanted, page.page.saturating_sub(1).max(1));
    let next_link = link(wanted, page.page + 1);
    let tz = staff.user.timezone.clone();
    let uptime = state
        .store
        .checks_uptime(&page.items.iter().collect::<Vec<_>>(), tend_store::now_ms())
        .await?;
    render(&Overview {
        nav: Nav::new(&staff, "checks"),
        page: page.map(|c| row(c, &tz, &uptime)),
        tabs,
        client,
        prev_link,
        next_link,
    })
}

pub struct PingRow {
    ping: Ping,
    at: String,
    duration: Option<String>,
}

pub struct FlipRow {
    flip: Flip,
    at: String,
}

/// An HTTP probe's settings, written for the check page.
pub struct ProbeFacts {
    method: String,
    url: String,
    every: String,
    timeout: String,
    expect: String,
    headers: String,
}

impl From<&ProbeSettings> for ProbeFacts {
    fn from(s: &ProbeSettings) -> Self {
        let mut expect = format!("status {}", s.expect);
        if let Some(k) = &s.keyword {
            let verb = if k.absent { "without" } else { "with" };
            expect.push_str(&format!(", {verb} \"{}\" in the body", k.text));
        }
        if let Some(l) = s.max_latency_ms {
            expect.push_str(&format!(", within {}", format_duration(l)));
        }
        Self {
            method: s.method.to_string(),
            url: s.url.to_string(),
            every: format_duration(s.interval_ms),
            timeout: format_duration(s.timeout_ms),
            expect,
            headers: headers_text(&s.headers),
        }
    }
}

pub struct ResultRow {
    result: ProbeResult,
    at: String,
    latency: String,
    late: String,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    nav: Nav,
    probe: Option<ProbeFacts>,
    results: Page<ResultRow>,
    row: Row,
    grace: String,
    ping_path: String,
    slug_ping_path: String,
    pings: Page<PingRow>,
    flips: Vec<FlipRow>,
    prev_link: String,
    next_link: String,
    resolves_on_recovery: bool,
}

#[derive(Deserialize, Default)]
pub struct CheckQuery {
    page: Option<u32>,
}

async fn load(state: &AppState, uuid: &str) -> Result<Check, UiError> {
    match state.store.check(uuid).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound(_)) => Err(UiError::NotFound(
            "There is no check at this address.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(uuid): Path<String>,
    Query(q): Query<CheckQuery>,
) -> Result<Response, UiError> {
    let check = load(&state, &uuid).await?;
    if check.kind == tend_domain::check::CheckKind::EventStream {
        return crate::ui::event_streams::show(&state, staff, check, q.page).await;
    }
    let key = state.store.client_ping_key(check.client_id).await?;
    let tz = staff.user.timezone.clone();
    let pings = state
        .store
        .check_pings(check.id, PageRequest::new(q.page, Some(50)))
        .await?;
    let flips = state
        .store
        .check_flips(check.id, PageRequest::new(Some(1), Some(20)))
        .await?;
    let probe = state.store.probe_settings(check.id).await?;
    let results = match &probe {
        Some(_) => {
            state
                .store
                .probe_results(check.id, PageRequest::new(q.page, Some(50)))
                .await?
        }
        None => Page::new(Vec::new(), PageRequest::new(Some(1), Some(50)), 0),
    };
    let page = if probe.is_some() {
        results.page
    } else {
        pings.page
    };
    let prev_link = format!("/checks/{uuid}?page={}", page.saturating_sub(1).max(1));
    let next_link = format!("/checks/{uuid}?page={}", page + 1);
    let uptime = state
        .store
        .checks_uptime(&[&check], tend_store::now_ms())
        .await?;
    let resolves_on_recovery = state.store.resolves_on_recovery(&check.uuid).await?;
    render(&CheckPage {
        resolves_on_recovery,
        nav: Nav::new(&staff, "checks"),
        probe: probe.as_ref().map(ProbeFacts::from),
        results: results.map(|r| ResultRow {
            at: local_time(r.started_at, &tz),
            latency: r
                .latency_ms
                .map(format_duration)
                .unwrap_or_else(|| "-".into()),
            late: format_duration(r.started_at - r.slot_at),
            result: r,
        }),
        grace: format_interval(check.grace_ms),
        ping_path: format!("/ping/{}", check.uuid),
        slug_ping_path: format!("/ping/{key}/{}", check.slug),
        pings: pings.map(|p| PingRow {
            at: local_time(p.at, &tz),
            duration: p.duration_ms.map(|d| format_interval(d.max(1_000))),
            ping: p,
        }),
        flips: flips
            .items
            .into_iter()
            .map(|f| FlipRow {
                at: local_time(f.at, &tz),
                flip: f,
            })
            .collect(),
        row: row(check, &tz, &uptime),
        prev_link,
        next_link,
    })
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

async fn set_paused(
    state: AppState,
    staff: Staff,
    uuid: String,
    csrf: &str,
    paused: bool,
) -> Result<Response, UiError> {
    staff.check_csrf(csrf)?;
    staff.require_write()?;
    load(&state, &uuid).await?;
    state
        .store
        .set_check_paused(&staff.actor(), &uuid, paused)
        .await?;
    Ok(Redirect::to(&format!("/checks/{uuid}")).into_response())
}

pub async fn pause(
    State(state): State<AppState>,
    staff: Staff,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    set_paused(state, staff, uuid, &form.csrf, true).await
}

pub async fn resume(
    State(state): State<AppState>,
    staff: Staff,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    set_paused(state, staff, uuid, &form.csrf, false).await
}

#[derive(Template)]
#[template(path = "probe_form.html")]
struct ProbeForm {
    nav: Nav,
    draft: CheckDraft,
    errors: Errors,
    criticalities: Vec<&'static str>,
}

fn probe_form(staff: &Staff, draft: CheckDraft, errors: FieldErrors) -> ProbeForm {
    ProbeForm {
        nav: Nav::new(staff, "checks"),
        draft,
        errors: Errors(errors),
        criticalities: Criticality::ALL.iter().map(|c| c.as_str()).collect(),
    }
}

#[derive(Deserialize, Default)]
pub struct ClientQuery {
    client: Option<String>,
}

/// The form that adds an HTTP probe (`?client=` fills in the client).
pub async fn new_probe(staff: Staff, Query(q): Query<ClientQuery>) -> Result<Response, UiError> {
    staff.require_write()?;
    let draft = CheckDraft {
        client: q.client.unwrap_or_default(),
        criticality: Criticality::Internal.as_str().into(),
        ..Default::default()
    };
    render(&probe_form(&staff, draft, FieldErrors::new()))
}

#[derive(Deserialize)]
pub struct ProbeFormData {
    csrf: String,
    #[serde(flatten)]
    draft: CheckDraft,
}

/// Adds the probe and shows its page, or the form again with what to fix.
pub async fn create_probe(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<ProbeFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let mut draft = f.draft;
    let errors = if draft.probe.url.trim().is_empty() {
        FieldErrors::single("url", "is required")
    } else {
        // The form makes probes only: heartbeat fields are not on it.
        draft.period.clear();
        draft.cron.clear();
        draft.grace.clear();
        match draft.parse() {
            Ok(input) => match state.store.create_check(&staff.actor(), &input).await {
                Ok(check) => {
                    return Ok(Redirect::to(&format!("/checks/{}", check.uuid)).into_response())
                }
                Err(e) => field_errors(e)?,
            },
            Err(errors) => errors,
        }
    };
    refused(&probe_form(&staff, draft, errors))
}
