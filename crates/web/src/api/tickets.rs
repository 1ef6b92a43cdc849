//! `/tickets`: requests and backlog items with the facts each still lacks, their thread,
//! history and post-mortem; status moves go through the domain's rules, so a refused
//! move is a 422 that says why.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tend_domain::completeness::MissingField;
use tend_domain::email::Email;
use tend_domain::page::Page;
use tend_domain::plan::Severity;
use tend_domain::ticket::{
    status_moves, PostMortem, PostMortemDraft, TicketDraft, TicketSource, TicketStatus,
};
use tend_domain::FieldErrors;
use tend_store::tickets::{Message, Ticket, TicketClock, TicketEvent, TicketFilter, Visibility};
use tend_store::{Store, StoreError};

use super::body::{finish, Body};
use super::params::{Params, PathText};
use super::{created, page_of, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// One of the six required facts a ticket still lacks, with the body field that
/// supplies it.
#[derive(Debug, Serialize)]
pub struct Missing {
    /// source, priority, owner, dependency, expected-outcome or next-action.
    pub fact: MissingField,
    /// The field of a ticket body that supplies it (`severity`, `owner_email`, …).
    pub field: &'static str,
    /// How it reads in a sentence: "priority (severity)".
    pub label: &'static str,
}

fn missing_of(ticket: &Ticket) -> Vec<Missing> {
    ticket
        .missing()
        .into_iter()
        .map(|fact| Missing {
            fact,
            field: fact.form_field(),
            label: fact.label(),
        })
        .collect()
}

/// A ticket as the API shows it in a list: the stored ticket, its blockers as the body
/// writes them, and what it still lacks.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// "#3, #7", "none", or "" when not yet stated: the same text a body sends.
    pub blocked_by: String,
    pub missing: Vec<Missing>,
}

impl From<Ticket> for TicketView {
    fn from(ticket: Ticket) -> Self {
        TicketView {
            blocked_by: ticket.dependencies.to_string(),
            missing: missing_of(&ticket),
            ticket,
        }
    }
}

/// Another status and whether the ticket may move there now.
#[derive(Debug, Serialize)]
pub struct Move {
    pub status: TicketStatus,
    pub allowed: bool,
    /// Why not, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One ticket with everything about it.
#[derive(Debug, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub view: TicketView,
    /// The thread, oldest first: public replies and internal notes.
    pub messages: Vec<Message>,
    /// Created, status and severity changes, public replies: what SLA clocks derive from.
    pub history: Vec<TicketEvent>,
    pub post_mortem: Option<PostMortem>,
    /// The SLA clocks as of now (first response, resolution) with their timelines;
    /// empty when the client has no contract, so no plan sets targets.
    pub clocks: Vec<TicketClock>,
    /// Every other status, allowed or refused with the reason.
    pub moves: Vec<Move>,
}

async fn detail(store: &Store, ticket: Ticket) -> Result<TicketDetail, Problem> {
    let number = ticket.number;
    let messages = store.ticket_messages(number).await?;
    let history = store.ticket_events(number).await?;
    let post_mortem = store.post_mortem(number).await?;
    let clocks = store
        .clocks_of(&ticket, &history, jiff::Timestamp::now())
        .await?;
    let moves = status_moves(ticket.status, ticket.severity, post_mortem.as_ref())
        .into_iter()
        .map(|(status, outcome)| Move {
            status,
            allowed: outcome.is_ok(),
            reason: outcome.err().map(|refusal| refusal.to_string()),
        })
        .collect();
    Ok(TicketDetail {
        view: TicketView::from(ticket),
        messages,
        history,
        post_mortem,
        clocks,
        moves,
    })
}

/// The ticket a path names: a number ("42"); anything else, or no such ticket, is 404.
pub(super) async fn load(store: &Store, raw: &str) -> Result<Ticket, Problem> {
    let not_found = |detail: String| Problem::new(StatusCode::NOT_FOUND, "not-found", detail);
    let number = raw
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            not_found(format!(
                "ticket not found: \"{raw}\" is not a ticket number (numbers are positive whole numbers)"
            ))
        })?;
    match store.ticket(number).await {
        Ok(ticket) => Ok(ticket),
        Err(StoreError::NotFound(_)) => Err(not_found(format!("there is no ticket #{number}"))),
        Err(other) => Err(other.into()),
    }
}

/// The stored ticket as the draft that would store it again, the base of a PATCH.
fn draft_of(t: &Ticket) -> TicketDraft {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    TicketDraft {
        client: t.client_slug.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        source: text(t.source.map(TicketSource::as_str)),
        severity: text(t.severity.map(Severity::as_str)),
        owner_email: t
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        blocked_by: t.dependencies.to_string(),
        expected_outcome: t.expected_outcome.clone(),
        next_action: t.next_action.clone(),
        acceptance_test: t.acceptance_test.clone(),
        business_risk: text(t.business_risk.map(|i| i.as_str())),
        revenue_impact: text(t.revenue_impact.map(|i| i.as_str())),
        customer_effect: text(t.customer_effect.map(|i| i.as_str())),
        launch_deadline: t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
    }
}

/// `true` restricts a list; `false` is refused, because the store can filter only one
/// way and "open=false" would otherwise silently mean "everything".
pub(super) fn only_true(params: &mut Params, name: &str, instead: &str) -> bool {
    params
        .parsed(name, |raw| match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Err(format!("only {name}=true is a filter; {instead}")),
            _ => Err(format!("\"{raw}\" is not true")),
        })
        .unwrap_or(false)
}

/// List tickets, newest first, each with the required facts it still lacks.
#[utoipa::path(get, path = "/tickets", tag = "tickets", operation_id = "listTickets",
    params(
        ("client" = Option<String>, Query, description = "The client's slug"),
        ("owner" = Option<String>, Query, description = "Email of the owner (a staff user)"),
        ("status" = Option<String>, Query, description = "new, acknowledged, in-progress, waiting-on-client, resolved or closed (or a short word: ack, progress, waiting, done)"),
        ("severity" = Option<String>, Query, description = "p0, p1, p2 or p3"),
        ("open" = Option<bool>, Query, description = "true: only tickets not resolved or closed"),
        ("incomplete" = Option<bool>, Query, description = "true: only tickets missing one of the six required facts"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of tickets, each with `missing` and `blocked_by`", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<TicketView>>, Problem> {
    params.allow(&[
        "client",
        "owner",
        "status",
        "severity",
        "open",
        "incomplete",
        "page",
        "per_page",
    ]);
    let client_id = client_filter(&state.store, &mut params).await?;
    let owner_id = match params.parsed("owner", Email::parse) {
        None => None,
        Some(email) => match state.store.user_by_email(&email).await? {
            Some(user) => Some(user.id),
            None => {
                params.reject("owner", format!("no staff user has the email {email}"));
                None
            }
        },
    };
    let status = params.parsed("status", TicketStatus::from_word);
    let severity = params.parsed("severity", Severity::parse);
    let open_only = only_true(
        &mut params,
        "open",
        "ask for status=resolved or status=closed to see finished tickets",
    );
    let incomplete = only_true(
        &mut params,
        "incomplete",
        "leave it out to see every ticket",
    );
    let page = params.page();
    params.finish()?;
    let filter = TicketFilter {
        client_id,
        owner_id,
        status,
        open_only,
        severity,
        incomplete,
    };
    let tickets = state.store.list_tickets(&filter, page).await?;
    Ok(Json(tickets.map(TicketView::from)))
}

/// The `client` query parameter as a client id; an unknown slug is recorded on the
/// parameter (a 400), never an unfiltered list.
async fn client_filter(store: &Store, params: &mut Params) -> Result<Option<i64>, Problem> {
    let Some(slug) = params.text("client") else {
        return Ok(None);
    };
    match store.client_by_slug(&slug, false).await {
        Ok(client) => Ok(Some(client.id)),
        Err(StoreError::NotFound(_)) => {
            params.reject("client", format!("there is no client {slug}"));
            Ok(None)
        }
        Err(other) => Err(other.into()),
    }
}

/// Open a ticket (status new). `client` and `title` are required; `source` is `api`
/// unless the body says otherwise.
#[utoipa::path(post, path = "/tickets", tag = "tickets", operation_id = "createTicket",
    request_body(content = super::openapi::TicketFields),
    responses((status = 201, description = "Created; Location names the ticket", body = serde_json::Value)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let base = TicketDraft {
        source: TicketSource::Api.as_str().to_string(),
        ..TicketDraft::default()
    };
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&base, "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let ticket = state.store.create_ticket(&caller.actor(), &input).await?;
    let location = format!("{BASE}/tickets/{}", ticket.number);
    Ok(created(location, TicketView::from(ticket)))
}

/// A ticket with what it lacks, its thread, history, post-mortem, SLA clocks and the
/// status moves open to it.
#[utoipa::path(get, path = "/tickets/{number}", tag = "tickets", operation_id = "getTicket",
    params(("number" = i64, Path, description = "The ticket's number")),
    responses((status = 200, description = "The ticket", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(number): PathText,
) -> Result<Json<TicketDetail>, Problem> {
    let ticket = load(&state.store, &number).await?;
    Ok(Json(detail(&state.store, ticket).await?))
}

/// Replace a ticket's content: every field takes the body's value or its default (the
/// client stays the ticket's own). Status moves through `/status`.
#[utoipa::path(put, path = "/tickets/{number}", tag = "tickets", operation_id = "replaceTicket",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::TicketFields),
    responses((status = 200, description = "The changed ticket", body = serde_json::Value)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<TicketDetail>, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &number).await?;
    let base = TicketDraft {
        client: current.client_slug.clone(),
        ..TicketDraft::default()
    };
    save(&state, &caller, &current, value, &base).await
}

/// Change some of a ticket's fields: those the body names (null clears one).
#[utoipa::path(patch, path = "/tickets/{number}", tag = "tickets", operation_id = "patchTicket",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::TicketFields, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The changed ticket", body = serde_json::Value)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<TicketDetail>, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &number).await?;
    let base = draft_of(&current);
    save(&state, &caller, &current, value, &base).await
}

async fn save(
    state: &AppState,
    caller: &ApiCaller,
    current: &Ticket,
    value: Value,
    base: &TicketDraft,
) -> Result<Json<TicketDetail>, Problem> {
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(base, "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let ticket = state
        .store
        .update_ticket(&caller.actor(), current.number, &input)
        .await?;
    Ok(Json(detail(&state.store, ticket).await?))
}

/// The body of a status move.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct StatusDraft {
    status: String,
}

/// Move a ticket to another status. A move the rules refuse (closing a P0 or P1
/// without its post-mortem, closing before resolving, …) is a 422 whose `status`
/// error says why.
#[utoipa::path(post, path = "/tickets/{number}/status", tag = "tickets", operation_id = "setTicketStatus",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::StatusChange),
    responses((status = 200, description = "The ticket in its new status", body = serde_json::Value)))]
pub async fn set_status(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<TicketDetail>, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &number).await?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&StatusDraft::default(), "", &mut errors);
    let to = draft.and_then(|d| {
        if d.status.trim().is_empty() {
            errors.add("status", "is required");
            None
        } else {
            errors.check("status", TicketStatus::from_word(&d.status))
        }
    });
    let to = finish(to, errors)?;
    let ticket = state
        .store
        .set_ticket_status(&caller.actor(), current.number, to)
        .await?;
    Ok(Json(detail(&state.store, ticket).await?))
}

/// The body of a new message.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct MessageDraft {
    body: String,
    visibility: String,
}

/// A ticket's thread, oldest first.
#[utoipa::path(get, path = "/tickets/{number}/messages", tag = "tickets", operation_id = "listTicketMessages",
    params(
        ("number" = i64, Path, description = "The ticket's number"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of messages", body = super::openapi::PageOf)))]
pub async fn messages(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(number): PathText,
    mut params: Params,
) -> Result<Json<Page<Message>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let ticket = load(&state.store, &number).await?;
    let messages = state.store.ticket_messages(ticket.number).await?;
    Ok(Json(page_of(messages, page)))
}

/// Add to a ticket's thread: a public reply (the client sees it; the first one is the
/// ticket's first response) or an internal note. `visibility` is required, so nothing
/// reaches a client by default.
#[utoipa::path(post, path = "/tickets/{number}/messages", tag = "tickets", operation_id = "addTicketMessage",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::MessageFields),
    responses((status = 201, description = "Added; the message", body = serde_json::Value)))]
pub async fn add_message(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let ticket = load(&state.store, &number).await?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&MessageDraft::default(), "", &mut errors);
    let read = draft.and_then(|d| {
        if d.body.trim().is_empty() {
            errors.add("body", "is required");
        }
        let visibility = match d.visibility.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Visibility::Public),
            "internal" => Some(Visibility::Internal),
            "" => {
                errors.add(
                    "visibility",
                    "is required: public (the client sees it) or internal (staff only)",
                );
                None
            }
            other => {
                errors.add(
                    "visibility",
                    format!("\"{other}\" is not public or internal"),
                );
                None
            }
        };
        visibility.map(|v| (v, d.body))
    });
    let (visibility, body) = finish(read, errors)?;
    let message = state
        .store
        .add_message(&caller.actor(), None, ticket.number, visibility, &body)
        .await?;
    // A message has no address of its own; it is read in the ticket's thread.
    Ok((StatusCode::CREATED, Json(message)).into_response())
}

/// Record (or replace) a ticket's post-mortem: root cause, fix, prevention and the
/// monitoring added, all required. A P0 or P1 ticket closes only with one.
#[utoipa::path(put, path = "/tickets/{number}/post-mortem", tag = "tickets", operation_id = "putTicketPostMortem",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::PostMortemFields),
    responses((status = 200, description = "The stored post-mortem", body = serde_json::Value)))]
pub async fn put_post_mortem(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<PostMortem>, Problem> {
    caller.require_write()?;
    let ticket = load(&state.store, &number).await?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&PostMortemDraft::default(), "", &mut errors);
    let post_mortem = finish(draft, errors)?.parse()?;
    state
        .store
        .save_post_mortem(&caller.actor(), ticket.number, &post_mortem)
        .await?;
    Ok(Json(post_mortem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_message_bodies_serialise_to_their_fields() {
        let fields = |v: Value| -> Vec<String> {
            v.as_object().unwrap().keys().cloned().collect::<Vec<_>>()
        };
        assert_eq!(
            fields(serde_json::to_value(StatusDraft::default()).unwrap()),
            ["status"]
        );
        let mut message = fields(serde_json::to_value(MessageDraft::default()).unwrap());
        message.sort();
        assert_eq!(message, ["body", "visibility"]);
    }
}
