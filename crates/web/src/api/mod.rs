//! The REST API under `/api/v1`: clients (and holiday imports), contacts, contracts,
//! plans, tickets, change records and releases, message templates, the hour bank,
//! heartbeat checks, the backlog, SLA attainment, the outbox, the audit log and the
//! OpenAPI document. Every handler is thin (read the request into a draft, call the store, render JSON) and
//! every error is an RFC 9457 problem document.

mod attainment;
mod audit;
mod backlog;
mod body;
mod changes;
mod check_import;
mod checks;
mod clients;
mod contacts;
mod contracts;
mod event_streams;
mod holidays;
mod hours;
mod maintenance;
mod messages;
pub mod openapi;
mod outbox;
mod params;
mod plans;
mod tickets;

use axum::extract::OriginalUri;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use tend_domain::page::{Page, PageRequest};

use crate::problem::Problem;
use crate::AppState;

/// Where the API is mounted; `Location` headers and the OpenAPI server use it.
pub const BASE: &str = "/api/v1";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients", get(clients::list).post(clients::create))
        .route(
            "/clients/{slug}",
            get(clients::show)
                .put(clients::replace)
                .patch(clients::patch)
                .delete(clients::delete),
        )
        .route(
            "/clients/{slug}/restore",
            axum::routing::post(clients::restore),
        )
        .route("/clients/{slug}/export", get(clients::export))
        .route("/clients/{slug}/audit", get(audit::for_client))
        .route(
            "/clients/{slug}/contacts",
            get(contacts::list).post(contacts::create),
        )
        .route(
            "/contacts/{id}",
            get(contacts::show)
                .put(contacts::replace)
                .patch(contacts::patch)
                .delete(contacts::delete),
        )
        .route(
            "/clients/{slug}/contracts",
            get(contracts::for_client).post(contracts::create),
        )
        .route("/contracts", get(contracts::list))
        .route(
            "/contracts/{id}",
            get(contracts::show)
                .put(contracts::replace)
                .patch(contracts::patch)
                .delete(contracts::delete),
        )
        .route("/contracts/{id}/plan-history", get(contracts::plan_history))
        .route("/plans", get(plans::list).post(plans::create))
        .route(
            "/plans/{code}",
            get(plans::show)
                .put(plans::replace)
                .patch(plans::patch)
                .delete(plans::delete),
        )
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route(
            "/tickets/{number}",
            get(tickets::show)
                .put(tickets::replace)
                .patch(tickets::patch),
        )
        .route(
            "/tickets/{number}/status",
            axum::routing::post(tickets::set_status),
        )
        .route(
            "/tickets/{number}/messages",
            get(tickets::messages).post(tickets::add_message),
        )
        .route(
            "/tickets/{number}/post-mortem",
            axum::routing::put(tickets::put_post_mortem),
        )
        .route(
            "/tickets/{number}/time",
            get(hours::ticket_time).post(hours::log_time),
        )
        .route("/clients/{slug}/hours", get(hours::bank))
        .route("/clients/{slug}/hours/sheet", get(hours::sheet))
        .route(
            "/clients/{slug}/hours/sheet.csv",
            get(hours::sheet_csv_file),
        )
        .route("/clients/{slug}/hours/adjustments", post(hours::adjust))
        .route("/billing", get(hours::billing))
        .route("/month-close", post(hours::month_close))
        .merge(changes::routes())
        .merge(checks::routes())
        .merge(event_streams::routes())
        .merge(maintenance::routes())
        .route("/backlog", get(backlog::list))
        .route("/attainment", get(attainment::get))
        .route(
            "/clients/{slug}/holidays/import",
            axum::routing::post(holidays::import),
        )
        .route(
            "/clients/{slug}/checks/import",
            axum::routing::post(check_import::import),
        )
        .route("/audit", get(audit::list))
        .route("/templates", get(messages::list))
        .route(
            "/templates/{kind}",
            get(messages::show)
                .put(messages::replace)
                .delete(messages::reset),
        )
        .route("/tickets/{number}/emails", post(messages::email))
        .route("/outbox", get(outbox::list))
        .route("/outbox/{id}/retry", post(outbox::retry))
        .route("/outbox/{id}/send", post(outbox::send))
        .route("/outbox/{id}/discard", post(outbox::discard))
        .route("/openapi.json", get(openapi::document))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

/// Any path under `/api/v1` that names no resource.
async fn not_found(OriginalUri(uri): OriginalUri) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!(
            "{} is not an API path; {BASE}/openapi.json lists them all",
            uri.path()
        ),
    )
}

/// A known path asked with a method it does not answer (axum adds the `Allow` header).
async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// 201 Created with the new resource's address and its JSON.
fn created(location: String, body: impl Serialize) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    match header::HeaderValue::try_from(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
        }
        // Locations are built from slugs, plan codes and ids, which are all plain
        // ASCII; a value that is not would be a bug, so say so instead of hiding it.
        Err(e) => tracing::error!(error = %e, "a Location header could not be built"),
    }
    response
}

/// 204 No Content, the answer to a delete.
fn deleted() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// One page of a list the store returns whole (a client's contacts, the plans), so that
/// every list in the API has the same `{items, page, per_page, total}` shape.
fn page_of<T>(items: Vec<T>, request: PageRequest) -> Page<T> {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(request.offset()).unwrap_or(usize::MAX);
    let take = usize::try_from(request.limit()).unwrap_or(usize::MAX);
    let items = items.into_iter().skip(skip).take(take).collect();
    Page::new(items, request, total)
}

/// Today's date where the client is, so "starts today" means the client's today.
fn today_in(timezone: &str) -> jiff::civil::Date {
    let zone = tend_domain::timezone::Timezone::parse(timezone)
        .map(|tz| tz.zone())
        .unwrap_or_else(|_| jiff::tz::TimeZone::system());
    jiff::Timestamp::now().to_zoned(zone).date()
}
