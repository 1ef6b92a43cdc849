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
        ("owner" = Option<String>, Query, description = "A staff user's email: only tickets they own"),
        ("severity" = Option<String>, Query, description = "p0, p1, p2 or p3"),
        ("incomplete" = Option<bool>, Query, description = "true: only tickets missing one of the six required facts"),
        ("breaching_within" = Option<u32>, Query, description = "Hours (0 to 720): only tickets with an SLA clock that has breached or will within them"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of ranked rows", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<BacklogRow>>, Problem> {
    params.allow(&[
        "client",
        "owner",
        "severity",
        "incomplete",
        "breaching_within",
        "page",
        "per_page",
    ]);
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
    let owner_id = match params.parsed("owner", tend_domain::email::Email::parse) {
        None => None,
        Some(email) => match state.store.user_by_email(&email).await? {
            Some(user) => Some(user.id),
            None => {
                params.reject("owner", format!("no staff user has the email {email}"));
                None
            }
        },
    };
    let severity = params.parsed("severity", Severity::parse);
    let incomplete = super::tickets::only_true(
        &mut params,
        "incomplete",
        "leave it out to see every open ticket",
    );
    let within = params.parsed("breaching_within", |raw| match raw.parse::<i64>() {
        Ok(h) if (0..=720).contains(&h) => Ok(h),
        _ => Err(format!("\"{raw}\" is not a number of hours from 0 to 720")),
    });
    let page = params.page();
    params.finish()?;
    let store = &state.store;
    let narrowed = owner_id.is_some() || severity.is_some() || incomplete;
    let matching: Option<std::collections::HashSet<i64>> = if narrowed {
        let filter = tend_store::tickets::TicketFilter {
            owner_id,
            severity,
            incomplete,
            open_only: true,
            ..Default::default()
        };
        Some(store.ticket_numbers(&filter).await?.into_iter().collect())
    } else {
        None
    };
    let breaching = match within {
        Some(hours) => Some(
            store
                .tickets_breaching_within(
                    jiff::Timestamp::now(),
                    jiff::SignedDuration::from_hours(hours),
                )
                .await?,
        ),
        None => None,
    };
    let items = store.backlog_items().await?;
    // Launch deadlines count in days; for one client's queue, days where the client is.
    let today = today_in(client.as_ref().map_or("", |c| c.timezone.as_str()));
    let mut ranked = rank(&items, today);
    if let Some(client) = &client {
        ranked = client_queue(&ranked, client.id);
    }
    // Filters narrow the queue; positions stay those of the whole queue.
    ranked.retain(|r| {
        matching.as_ref().is_none_or(|m| m.contains(&r.id))
            && breaching.as_ref().is_none_or(|b| b.contains(&r.id))
    });
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
