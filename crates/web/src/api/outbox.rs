//! `/outbox`: the messages Tend has sent or will send, and "retry now" for a failed one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tend_domain::page::Page;
use tend_store::outbox::{OutboxMessage, OutboxView};

use super::params::{parse_id, Params, PathText};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// Newest first; `state=trouble` keeps the failed ones and those waiting for a retry.
#[utoipa::path(get, path = "/outbox", tag = "outbox", operation_id = "listOutbox",
    params(
        ("state" = Option<String>, Query, description = "all (default) or trouble"),
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
            other => Err(format!("\"{other}\" is not a view (all or trouble)")),
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
