//! The outbox page: what Tend has sent and will send, and "retry now" for what failed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::page::{Page, PageRequest};
use tend_store::outbox::{OutboxMessage, OutboxView};

use crate::auth::Staff;
use crate::ui::view::{local_time, render, Nav};
use crate::ui::UiError;
use crate::AppState;

pub struct Row {
    message: OutboxMessage,
    queued: String,
    sent: Option<String>,
    next_try: Option<String>,
    state_label: &'static str,
    can_retry: bool,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    nav: Nav,
    page: Page<Row>,
    /// "all", "trouble" or "drafts".
    view: &'static str,
    trouble: bool,
    mail_configured: bool,
    prev_link: String,
    next_link: String,
}

#[derive(Deserialize, Default)]
pub struct OutboxQuery {
    state: Option<String>,
    page: Option<u32>,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<OutboxQuery>,
) -> Result<Response, UiError> {
    let (view, name) = match q.state.as_deref() {
        Some("trouble") => (OutboxView::Trouble, "trouble"),
        Some("drafts") => (OutboxView::Drafts, "drafts"),
        _ => (OutboxView::All, "all"),
    };
    let trouble = view == OutboxView::Trouble;
    let page = state
        .store
        .list_outbox(view, PageRequest::new(q.page, None))
        .await?;
    let tz = staff.user.timezone.clone();
    let link = |n: u32| {
        let n = n.max(1);
        match view {
            OutboxView::All => format!("/outbox?page={n}"),
            _ => format!("/outbox?state={name}&page={n}"),
        }
    };
    let (prev_link, next_link) = (link(page.page.saturating_sub(1)), link(page.page + 1));
    let page = page.map(|m| Row {
        queued: local_time(m.created_at, &tz),
        sent: m.sent_at.map(|t| local_time(t, &tz)),
        next_try: (m.state == "pending" && m.attempts > 0)
            .then(|| local_time(m.next_attempt_at, &tz)),
        state_label: match m.state.as_str() {
            "sent" => "sent",
            "failed" => "failed",
            "sending" => "sending",
            "draft" => "draft: review and send",
            "discarded" => "discarded",
            _ if m.attempts > 0 => "retrying",
            _ => "queued",
        },
        can_retry: m.state == "failed" || (m.state == "pending" && m.attempts > 0),
        message: m,
    });
    render(&OutboxPage {
        nav: Nav::new(&staff, "outbox"),
        page,
        view: name,
        trouble,
        mail_configured: state.config.mail_configured,
        prev_link,
        next_link,
    })
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn retry(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    state
        .store
        .retry_outbox(&staff.actor(), id, tend_store::now_ms())
        .await?;
    Ok(Redirect::to("/outbox?state=trouble").into_response())
}
