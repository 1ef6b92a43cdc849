//! `/outbox`: the messages Tend has sent or will send, "retry now" for a failed one, and
//! sending or discarding a drafted one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_domain::page::Page;
use tend_store::outbox::{OutboxMessage, OutboxView};

use super::params::{parse_id, Params, PathText};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// Newest first; `state=trouble` keeps the failed ones and those waiting for a retry,
/// `state=drafts` the drafted emails waiting for a person.
#[utoipa::path(get, path = "/outbox", tag = "outbox", operation_id = "listOutbox",
    params(
        ("state" = Option<String>, Query, description = "all (default), trouble or drafts"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of messages", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<OutboxMessage>>, Problem> {
    params.allow(&["state", "page", "per_page"]);
    let view = params
        .parsed("state", |raw| match raw {
            "all" => Ok(OutboxView::All),
            "trouble" => Ok(OutboxView::Trouble),
            "drafts" => Ok(OutboxView::Drafts),
            other => Err(format!(
                "\"{other}\" is not a view (all, trouble or drafts)"
            )),
        })
        .unwrap_or(OutboxView::All);
    let page = params.page();
    params.finish()?;
    Ok(Json(state.store.list_outbox(view, page).await?))
}

/// Puts a failed (or waiting) message back in the queue, to be sent at the next delivery.
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "outbox", operation_id = "retryOutboxMessage",
    params(("id" = i64, Path, description = "The message's id")),
    responses((status = 202, description = "Queued to be sent now")))]
pub async fn retry(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<StatusCode, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "message")?;
    state
        .store
        .retry_outbox(&caller.actor(), id, tend_store::now_ms())
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// A reviewed draft: its subject and body as they should go (each defaults to the draft's).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendDraft {
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Sends a drafted email (the hour bank drafts one to the billing contact at 75 % and
/// 100 %), with the subject and body given or as drafted. Text left in `[brackets]` is
/// refused.
#[utoipa::path(post, path = "/outbox/{id}/send", tag = "outbox", operation_id = "sendOutboxDraft",
    params(("id" = i64, Path, description = "The draft's id")),
    request_body(content = SendDraft),
    responses(
        (status = 202, description = "Queued to be sent; the message", body = serde_json::Value),
        (status = 409, description = "Not a draft (already sent or discarded)"),
        (status = 422, description = "Empty, or blanks in [brackets] left")))]
pub async fn send(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<OutboxMessage>), Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "message")?;
    // No body: send the draft as it stands.
    let input: SendDraft = if body.iter().all(u8::is_ascii_whitespace) {
        SendDraft::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Problem::bad_request(format!("the request body is not valid: {e}")))?
    };
    let draft = state.store.outbox_message(id).await?;
    let sent = state
        .store
        .send_draft(
            &caller.actor(),
            id,
            input.subject.as_deref().unwrap_or(&draft.subject),
            input.body.as_deref().unwrap_or(&draft.body),
            tend_store::now_ms(),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Discards a drafted email unsent; it stays listed as `discarded`.
#[utoipa::path(post, path = "/outbox/{id}/discard", tag = "outbox", operation_id = "discardOutboxDraft",
    params(("id" = i64, Path, description = "The draft's id")),
    responses(
        (status = 204, description = "Discarded"),
        (status = 409, description = "Not a draft")))]
pub async fn discard(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<StatusCode, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "message")?;
    state.store.discard_draft(&caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
