//! `/backlog`: every open ticket in the order work should happen, with why (the rules
//! are `tend_domain::backlog::rank`'s).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tend_domain::backlog::{client_queue, rank};
use tend_domain::page::Page;
use tend_domain::plan::Severity;
use tend_domain::ticket::TicketNumber;

use super::params::Params;
use super::{page_of, today_in};
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// One row of the ranked backlog.
#[derive(Debug, Serialize)]
pub struct BacklogRow {
    /// 1-based place in the queue asked for (across clients, or the client's own).
    pub position: usize,
    pub number: TicketNumber,
    /// The client's slug.
    pub client: String,
    pub title: String,
    pub severity: Option<Severity>,
    /// The severity it is ranked with: its own, or that of a ticket it holds back.
    pub ranked_as: Option<Severity>,
    /// The score it is ranked with (0–120): its own, or that of a ticket it holds back.
    pub score: u32,
    pub own_score: u32,
    /// Why it sits there: "P2; blocks #12 (P0); launch in 2 days".
    pub reason: String,
    /// Open tickets it blocks directly.
    pub blocks: Vec<TicketNumber>,
    /// Open tickets it waits for directly.
    pub waits_on: Vec<TicketNumber>,
}

/// The ranked backlog of open tickets, most urgent first. Blockers rank before what they
/// block; with `client`, that client's queue in the same order, numbered from 1.
#[utoipa::path(get, path = "/backlog", tag = "backlog", operation_id = "getBacklog",
    params(
        ("client" = Option<String>, Query, description = "The client's slug: only its queue"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of ranked rows", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<BacklogRow>>, Problem> {
    params.allow(&["client", "page", "per_page"]);
    let client = match params.text("client") {
        None => None,
        Some(slug) => match state.store.client_by_slug(&slug, false).await {
            Ok(client) => Some(client),
            Err(tend_store::StoreError::NotFound(_)) => {
                params.reject("client", format!("there is no client {slug}"));
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let page = params.page();
    params.finish()?;
    let store = &state.store;
    let items = store.backlog_items().await?;
    // Launch deadlines count in days; for one client's queue, days where the client is.
    let today = today_in(client.as_ref().map_or("", |c| c.timezone.as_str()));
    let mut ranked = rank(&items, today);
    if let Some(client) = &client {
        ranked = client_queue(&ranked, client.id);
    }
    let mut labels = store.open_ticket_labels().await?;
    let rows = ranked
        .into_iter()
        .map(|row| {
            let (client, title) = labels.remove(&row.id).unwrap_or_default();
            BacklogRow {
                position: row.position,
                number: row.number,
                client,
                title,
                severity: row.severity,
                ranked_as: row.ranked_as,
                score: row.score,
                own_score: row.own_score,
                reason: row.reason.to_string(),
                blocks: row.reason.blocks,
                waits_on: row.reason.waits_on,
            }
        })
        .collect();
    Ok(Json(page_of(rows, page)))
}
