//! An event stream's page: its event URL, the learned shape, drift findings as a
//! side-by-side diff (expected | received), volume per hour beside its baseline, and
//! the recent events. Relearning the shape is a form post (audited).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use tend_domain::page::{Page, PageRequest};
use tend_domain::payload_shape::{DriftKind, LearnedField};
use tend_store::checks::{Check, Flip};
use tend_store::events::{Drift, Event, EventStream};
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{local_time, render, Nav};
use crate::ui::UiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/checks/{uuid}/relearn", post(relearn))
}

pub struct DriftRow {
    drift: Drift,
    label: &'static str,
    first: String,
    last: String,
}

pub struct HourRow {
    at: String,
    count: i64,
    baseline: String,
    /// Bar widths in percent of the busiest hour shown.
    count_pct: i64,
    baseline_pct: i64,
    flag: &'static str,
}

pub struct EventRow {
    event: Event,
    at: String,
}

pub struct FlipRow {
    flip: Flip,
    at: String,
}

#[derive(Template)]
#[template(path = "event_stream.html")]
struct StreamPage {
    nav: Nav,
    check: Check,
    stream: EventStream,
    fields: Vec<LearnedField>,
    event_path: String,
    learned_at: String,
    drifts: Vec<DriftRow>,
    hours: Vec<HourRow>,
    events: Page<EventRow>,
    flips: Vec<FlipRow>,
    prev_link: String,
    next_link: String,
}

fn label(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Missing => "missing",
        DriftKind::TypeChanged => "type changed",
        DriftKind::Renamed => "renamed",
    }
}

/// The page of an event-stream check (the checks page hands streams over to it).
pub async fn show(
    state: &AppState,
    staff: Staff,
    check: Check,
    page: Option<u32>,
) -> Result<Response, UiError> {
    let tz = staff.user.timezone.clone();
    let stream = state.store.event_stream(check.id).await?;
    let drifts = state.store.event_drifts(check.id).await?;
    let volume = state
        .store
        .event_volume(check.id, tend_store::now_ms(), 24)
        .await?;
    let events = state
        .store
        .check_events(check.id, PageRequest::new(page, Some(25)))
        .await?;
    let flips = state
        .store
        .check_flips(check.id, PageRequest::new(Some(1), Some(20)))
        .await?;
    let busiest = volume
        .iter()
        .map(|h| (h.count as f64).max(h.baseline.unwrap_or(0.0)))
        .fold(1.0_f64, f64::max);
    let pct = |n: f64| ((n / busiest) * 100.0).round() as i64;
    let hours = volume
        .iter()
        .rev()
        .map(|h| HourRow {
            at: local_time(h.hour, &tz),
            count: h.count,
            baseline: h
                .baseline
                .map(|b| format!("{:.1}", b))
                .unwrap_or_else(|| "-".into()),
            count_pct: pct(h.count as f64),
            baseline_pct: pct(h.baseline.unwrap_or(0.0)),
            flag: match h.baseline {
                Some(b) if b >= 5.0 && (h.count as f64) <= b * 0.2 => "low",
                Some(b) if h.count >= 50 && (h.count as f64) > b * 5.0 => "high",
                _ => "",
            },
        })
        .collect();
    let uuid = check.uuid.clone();
    render(&StreamPage {
        nav: Nav::new(&staff, "checks"),
        event_path: format!("/events/{}", check.uuid),
        learned_at: stream
            .learned_at
            .map(|t| local_time(t, &tz))
            .unwrap_or_default(),
        fields: stream.fields.clone(),
        drifts: drifts
            .into_iter()
            .map(|d| DriftRow {
                label: label(d.finding.kind),
                first: local_time(d.first_at, &tz),
                last: local_time(d.last_at, &tz),
                drift: d,
            })
            .collect(),
        hours,
        prev_link: format!(
            "/checks/{uuid}?page={}",
            events.page.saturating_sub(1).max(1)
        ),
        next_link: format!("/checks/{uuid}?page={}", events.page + 1),
        events: events.map(|e| EventRow {
            at: local_time(e.at, &tz),
            event: e,
        }),
        flips: flips
            .items
            .into_iter()
            .map(|f| FlipRow {
                at: local_time(f.at, &tz),
                flip: f,
            })
            .collect(),
        stream,
        check,
    })
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn relearn(
    State(state): State<AppState>,
    staff: Staff,
    Path(uuid): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    match state.store.relearn_event_shape(&staff.actor(), &uuid).await {
        Ok(_) => Ok(Redirect::to(&format!("/checks/{uuid}")).into_response()),
        Err(StoreError::NotFound(_)) => Err(UiError::NotFound(
            "There is no event stream at this address.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
