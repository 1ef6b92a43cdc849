//! The dashboard: what needs the agency today (SLA clocks, checks, messages) and every
//! client's hour bank with its forecast, fullest first.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};
use tend_domain::check::CheckState;
use tend_domain::page::PageRequest;
use tend_store::outbox::OutboxView;

use crate::auth::Staff;
use crate::ui::hours::{bank_level, forecast_text, h};
use crate::ui::view::{render, Nav};
use crate::ui::UiError;
use crate::AppState;

/// How many hour banks the dashboard lists; the rest are counted.
const BANKS_SHOWN: usize = 12;

pub struct BankRow {
    slug: String,
    name: String,
    plan: String,
    bar: u32,
    percent: String,
    level: &'static str,
    remaining: String,
    forecast: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    nav: Nav,
    breached: usize,
    breaching_today: usize,
    down: i64,
    late: i64,
    trouble: i64,
    drafts: i64,
    banks: Vec<BankRow>,
    banks_past_75: usize,
    banks_more: usize,
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    let now = Timestamp::now();
    let store = &state.store;
    let breaching = store
        .tickets_breaching_each(now, &[SignedDuration::ZERO, SignedDuration::from_hours(24)])
        .await?;
    let (breached, within_day) = (breaching[0].len(), breaching[1].len());
    let counts = store.check_state_counts().await?;
    let count = |s: CheckState| counts.iter().find(|c| c.0 == s).map_or(0, |c| c.1);
    let one = PageRequest::new(Some(1), Some(1));
    let trouble = store.list_outbox(OutboxView::Trouble, one).await?.total;
    let drafts = store.list_outbox(OutboxView::Drafts, one).await?.total;
    let glance = store.bank_overview(now).await?;
    let banks_past_75 = glance
        .iter()
        .filter(|b| bank_level(&b.summary) != "ok")
        .count();
    let banks_more = glance.len().saturating_sub(BANKS_SHOWN);
    let banks = glance
        .into_iter()
        .take(BANKS_SHOWN)
        .map(|b| BankRow {
            level: bank_level(&b.summary),
            bar: b.share_used_percent.unwrap_or(0).min(100),
            percent: b
                .share_used_percent
                .map(|p| format!("{p} %"))
                .unwrap_or_else(|| "no hours".into()),
            remaining: h(b.summary.remaining),
            forecast: forecast_text(&b.forecast),
            slug: b.client_slug,
            name: b.client_name,
            plan: b.plan_code,
        })
        .collect();
    render(&DashboardPage {
        nav: Nav::new(&staff, "dashboard"),
        breached,
        breaching_today: within_day.saturating_sub(breached),
        down: count(CheckState::Down),
        late: count(CheckState::Late),
        trouble,
        drafts,
        banks,
        banks_past_75,
        banks_more,
    })
}
