//! One ticket's page: its facts and what is missing, dependencies both ways, status
//! buttons (refused moves shown with their reason), its change record (what changed,
//! QA before and after release, release, notes for the client), the thread with a
//! reply form, the post-mortem for P0 and P1, and the history.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::backlog::rank;
use tend_domain::change::{ChangeDraft, QaResult, ReleaseState};
use tend_domain::ticket::{
    needs_post_mortem, severity_guide, status_moves, Dependencies, PostMortem, PostMortemDraft,
    SeverityGuide, StatusRefusal, TicketStatus,
};
use tend_domain::FieldErrors;
use tend_store::changes::ChangeRecord;
use tend_store::tickets::{Message, Ticket, TicketClock, Visibility};
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{field_errors, refused};
use crate::ui::view::{local_time, render, today_in, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

/// A status the ticket could move to: a button, or a disabled one with the reason.
pub struct MoveButton {
    to: &'static str,
    label: &'static str,
    refusal: Option<String>,
}

/// Another ticket named on this one, with where it stands.
pub struct Linked {
    number: i64,
    title: String,
    status: &'static str,
    open: bool,
}

pub struct ThreadRow {
    internal: bool,
    author: String,
    when: String,
    body: String,
    emailed_to: Option<String>,
}

pub struct HistoryRow {
    when: String,
    who: String,
    text: String,
}

/// One SLA clock as the page shows it: due time where the client is and where the
/// viewer is, time left, and how it got there.
pub struct ClockView {
    name: &'static str,
    state: &'static str,
    target: String,
    due_client: String,
    due_viewer: String,
    warn_viewer: String,
    time_left: String,
    timeline: Vec<(String, String)>,
}

fn clock_views(clocks: Vec<TicketClock>, client_tz: &str, viewer_tz: &str) -> Vec<ClockView> {
    clocks
        .into_iter()
        .map(|c| ClockView {
            name: c.name,
            state: c.state,
            target: c.target,
            due_client: c
                .due_at
                .map(|ms| local_time(ms, client_tz))
                .unwrap_or_default(),
            due_viewer: c
                .due_at
                .map(|ms| local_time(ms, viewer_tz))
                .unwrap_or_default(),
            warn_viewer: c
                .warn_at
                .map(|ms| local_time(ms, viewer_tz))
                .unwrap_or_default(),
            time_left: c.time_left,
            timeline: c
                .timeline
                .into_iter()
                .map(|l| (local_time(l.at, viewer_tz), l.text))
                .collect(),
        })
        .collect()
}

#[derive(Default)]
pub struct ReplyDraft {
    body: String,
    visibility: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    nav: Nav,
    t: Ticket,
    created: String,
    deadline: String,
    guide: Option<SeverityGuide>,
    missing: Vec<&'static str>,
    rank: Option<(usize, String)>,
    blocked_by: Vec<Linked>,
    dependencies_stated: bool,
    blocks: Vec<Linked>,
    moves: Vec<MoveButton>,
    status_error: Option<String>,
    thread: Vec<ThreadRow>,
    reply: ReplyDraft,
    reply_errors: Errors,
    post_mortem: Option<PostMortem>,
    wants_post_mortem: bool,
    pm_draft: PostMortemDraft,
    pm_errors: Errors,
    history: Vec<HistoryRow>,
    change: Option<ChangeRecord>,
    change_updated: String,
    /// The release the change went out in, when it is released (the change is frozen).
    change_frozen: Option<String>,
    change_draft: ChangeDraft,
    change_errors: Errors,
    /// The client's planned releases: (id, label).
    release_choices: Vec<(String, String)>,
    qa_results: Vec<(&'static str, &'static str)>,
    clocks: Vec<ClockView>,
    /// Why the clocks could not be shown, when they could not.
    clocks_error: Option<String>,
    viewer_tz: String,
    /// Time logged on the ticket and the log-time form.
    time: crate::ui::hours::TimePanel,
}

/// What the page shows in its forms after a refused submission.
#[derive(Default)]
struct Feedback {
    status_error: Option<String>,
    reply: ReplyDraft,
    reply_errors: FieldErrors,
    pm_draft: Option<PostMortemDraft>,
    pm_errors: FieldErrors,
    change_draft: Option<ChangeDraft>,
    change_errors: FieldErrors,
    time: Option<crate::ui::hours::TimeFeedback>,
}

async fn linked(state: &AppState, number: i64) -> Result<Linked, UiError> {
    let t = state.store.ticket(number).await?;
    Ok(Linked {
        number,
        title: t.title,
        status: t.status.label(),
        open: t.status.is_open(),
    })
}

fn history_text(kind: &str, from: Option<&str>, to: Option<&str>) -> String {
    let word = |s: Option<&str>| {
        s.map(|v| {
            TicketStatus::parse(v)
                .map(|st| st.label().to_string())
                .unwrap_or_else(|_| v.to_uppercase())
        })
        .unwrap_or_else(|| "none".into())
    };
    match kind {
        "created" => "opened the ticket".into(),
        "status" => format!("moved it from {} to {}", word(from), word(to)),
        "severity" => format!(
            "set severity from {} to {}",
            from.map(str::to_uppercase).unwrap_or_else(|| "none".into()),
            to.map(str::to_uppercase).unwrap_or_else(|| "none".into())
        ),
        "public-reply" => "replied to the client".into(),
        other => other.replace('-', " "),
    }
}

async fn page(
    state: &AppState,
    staff: &Staff,
    number: i64,
    feedback: Feedback,
) -> Result<TicketPage, UiError> {
    let t = state.store.ticket(number).await?;
    let tz = staff.user.timezone.as_str();
    let post_mortem = state.store.post_mortem(number).await?;
    let ranked = rank(&state.store.backlog_items().await?, today_in(tz));
    let row = ranked.iter().find(|r| r.id == number);
    let mut blocks = Vec::new();
    for n in row.map(|r| r.reason.blocks.clone()).unwrap_or_default() {
        blocks.push(linked(state, n.0).await?);
    }
    let mut blocked_by = Vec::new();
    if let Dependencies::BlockedBy(numbers) = &t.dependencies {
        for n in numbers {
            blocked_by.push(linked(state, n.0).await?);
        }
    }
    let moves = status_moves(t.status, t.severity, post_mortem.as_ref())
        .into_iter()
        .filter(|(_, r)| !matches!(r, Err(StatusRefusal::BackToNew)))
        .map(|(to, r)| MoveButton {
            to: to.as_str(),
            label: to.label(),
            refusal: r.err().map(|e| e.to_string()),
        })
        .collect();
    let thread = state
        .store
        .ticket_messages(number)
        .await?
        .into_iter()
        .map(|m: Message| ThreadRow {
            internal: m.visibility == "internal",
            author: m.author,
            when: local_time(m.created_at, tz),
            body: m.body,
            emailed_to: m.emailed_to,
        })
        .collect();
    let events = state.store.ticket_events(number).await?;
    let history = events
        .iter()
        .cloned()
        .map(|e| HistoryRow {
            when: local_time(e.at, tz),
            who: e.actor,
            text: history_text(&e.kind, e.from.as_deref(), e.to.as_deref()),
        })
        .collect();
    let pm_draft = feedback.pm_draft.unwrap_or_else(|| {
        post_mortem
            .as_ref()
            .map(|p| PostMortemDraft {
                root_cause: p.root_cause.clone(),
                fix: p.fix.clone(),
                prevention: p.prevention.clone(),
                monitoring_added: p.monitoring_added.clone(),
            })
            .unwrap_or_default()
    });
    let change = state.store.ticket_change(number).await?;
    let change_frozen = change
        .as_ref()
        .and_then(|c| c.release.as_ref())
        .filter(|r| r.state == ReleaseState::Released)
        .map(|r| r.name.clone());
    let mut change_draft = feedback.change_draft.unwrap_or_else(|| {
        change
            .as_ref()
            .map(|c| ChangeDraft::from_input(&c.change))
            .unwrap_or_default()
    });
    for result in [
        &mut change_draft.qa_before_result,
        &mut change_draft.qa_after_result,
    ] {
        if result.trim().is_empty() {
            *result = QaResult::NotRun.as_str().to_string();
        }
    }
    let release_choices = state
        .store
        .planned_releases(t.client_id)
        .await?
        .into_iter()
        .map(|r| {
            let label = match r.planned_for {
                Some(day) => format!("{} (planned for {day})", r.name),
                None => r.name,
            };
            (r.id.to_string(), label)
        })
        .collect();
    // A clock that cannot be evaluated should not hide the rest of the ticket.
    let (clocks, clocks_error) = match state
        .store
        .clocks_of(&t, &events, jiff::Timestamp::now())
        .await
    {
        Ok(c) => (clock_views(c, &t.client_timezone, tz), None),
        Err(StoreError::Invalid(e)) => (Vec::new(), Some(e.summary())),
        Err(e) => return Err(e.into()),
    };
    let time = crate::ui::hours::time_panel(state, &t, feedback.time).await?;
    Ok(TicketPage {
        nav: Nav::new(staff, "tickets"),
        time,
        clocks,
        clocks_error,
        viewer_tz: tz.to_string(),
        created: local_time(t.created_at, tz),
        deadline: t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
        guide: t.severity.map(severity_guide),
        missing: t.missing().iter().map(|m| m.label()).collect(),
        rank: row.map(|r| (r.position, r.reason.to_string())),
        dependencies_stated: t.dependencies.is_stated(),
        blocked_by,
        blocks,
        moves,
        status_error: feedback.status_error,
        thread,
        reply: feedback.reply,
        reply_errors: Errors(feedback.reply_errors),
        wants_post_mortem: t.severity.is_some_and(needs_post_mortem) || post_mortem.is_some(),
        post_mortem,
        pm_draft,
        pm_errors: Errors(feedback.pm_errors),
        history,
        change_updated: change
            .as_ref()
            .map(|c| local_time(c.updated_at, tz))
            .unwrap_or_default(),
        change,
        change_frozen,
        change_draft,
        change_errors: Errors(feedback.change_errors),
        release_choices,
        qa_results: QaResult::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        t,
    })
}

/// The ticket page again after a refused log-time form, with what to fix (422).
pub async fn refused_time(
    state: &AppState,
    staff: &Staff,
    number: i64,
    time: crate::ui::hours::TimeFeedback,
) -> Result<Response, UiError> {
    let feedback = Feedback {
        time: Some(time),
        ..Default::default()
    };
    refused(&page(state, staff, number, feedback).await?)
}

fn to_ticket(number: i64) -> Response {
    Redirect::to(&format!("/tickets/{number}")).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
) -> Result<Response, UiError> {
    render(&page(&state, &staff, number, Feedback::default()).await?)
}

#[derive(Deserialize, Default)]
pub struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(f): Form<StatusForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let refusal = match TicketStatus::parse(&f.status) {
        Err(e) => e.to_string(),
        Ok(to) => match state
            .store
            .set_ticket_status(&staff.actor(), number, to)
            .await
        {
            Ok(_) => return Ok(to_ticket(number)),
            Err(e) => field_errors(e)?
                .get("status")
                .map(str::to_string)
                .unwrap_or_else(|| "this move is not allowed".into()),
        },
    };
    let feedback = Feedback {
        status_error: Some(refusal),
        ..Default::default()
    };
    refused(&page(&state, &staff, number, feedback).await?)
}

#[derive(Deserialize, Default)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    body: String,
}

pub async fn reply(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let visibility = match f.visibility.as_str() {
        "public" => Some(Visibility::Public),
        "internal" => Some(Visibility::Internal),
        _ => None,
    };
    let errors = match visibility {
        None => FieldErrors::single("visibility", "choose a public reply or an internal note"),
        Some(v) => match state
            .store
            .add_message(&staff.actor(), Some(staff.user.id), number, v, &f.body)
            .await
        {
            Ok(_) => return Ok(to_ticket(number)),
            Err(e) => field_errors(e)?,
        },
    };
    let feedback = Feedback {
        reply: ReplyDraft {
            body: f.body,
            visibility: f.visibility,
        },
        reply_errors: errors,
        ..Default::default()
    };
    refused(&page(&state, &staff, number, feedback).await?)
}

#[derive(Deserialize, Default)]
pub struct PostMortemForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    draft: PostMortemDraft,
}

pub async fn save_post_mortem(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(f): Form<PostMortemForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let errors = match f.draft.parse() {
        Ok(pm) => match state
            .store
            .save_post_mortem(&staff.actor(), number, &pm)
            .await
        {
            Ok(()) => return Ok(to_ticket(number)),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    let feedback = Feedback {
        pm_draft: Some(f.draft),
        pm_errors: errors,
        ..Default::default()
    };
    refused(&page(&state, &staff, number, feedback).await?)
}

#[derive(Deserialize, Default)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    draft: ChangeDraft,
}

/// Records or replaces the ticket's change record.
pub async fn save_change(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(f): Form<ChangeForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let errors = match f.draft.parse() {
        Ok(change) => match state
            .store
            .save_change(&staff.actor(), number, &change)
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/tickets/{number}#change")).into_response()),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    let feedback = Feedback {
        change_draft: Some(f.draft),
        change_errors: errors,
        ..Default::default()
    };
    refused(&page(&state, &staff, number, feedback).await?)
}
