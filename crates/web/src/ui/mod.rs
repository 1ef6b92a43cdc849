//! The staff UI: server-rendered pages that work without JavaScript; htmx only makes the
//! clients list filter as you type. Every form carries a CSRF token; every write is
//! done by a signed-in owner or staff member and audited by the store.

mod assets;
mod attainment;
mod checks;
mod client_page;
mod clients;
mod compose;
mod dashboard;
mod drafts;
mod error;
mod event_streams;
mod holidays;
mod hours;
mod login;
mod maintenance;
mod outbox;
mod plans;
mod releases;
mod templates;
mod ticket_page;
mod tickets;
mod view;

pub use error::UiError;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/dashboard") }))
        .route("/dashboard", get(dashboard::show))
        .route("/static/{file}", get(assets::serve))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/clients", get(clients::list).post(clients::create))
        .route("/clients/new", get(clients::new_form))
        .route("/clients/{slug}", get(client_page::show))
        .route(
            "/clients/{slug}/edit",
            get(clients::edit_form).post(clients::update),
        )
        .route(
            "/clients/{slug}/contract",
            post(client_page::update_contract),
        )
        .route("/clients/{slug}/contacts", post(client_page::add_contact))
        .route(
            "/clients/{slug}/contacts/{id}/delete",
            post(client_page::delete_contact),
        )
        .route(
            "/clients/{slug}/delete",
            get(client_page::confirm_delete).post(client_page::delete),
        )
        .route("/clients/{slug}/restore", post(client_page::restore))
        .route("/clients/{slug}/export", get(client_page::export))
        .route("/tickets", get(tickets::backlog).post(tickets::create))
        .route("/tickets/new", get(tickets::new_form))
        .route("/tickets/{number}", get(ticket_page::show))
        .route(
            "/tickets/{number}/edit",
            get(tickets::edit_form).post(tickets::update),
        )
        .route("/tickets/{number}/status", post(ticket_page::set_status))
        .route("/tickets/{number}/messages", post(ticket_page::reply))
        .route("/tickets/{number}/change", post(ticket_page::save_change))
        .route(
            "/tickets/{number}/post-mortem",
            post(ticket_page::save_post_mortem),
        )
        .route(
            "/tickets/{number}/compose",
            get(compose::form).post(compose::send),
        )
        .route("/templates", get(templates::list))
        .route(
            "/templates/{kind}",
            get(templates::edit).post(templates::save),
        )
        .route(
            "/templates/{kind}/reset",
            get(templates::confirm_reset).post(templates::reset),
        )
        .route("/tickets/{number}/time", post(hours::log_time))
        .route("/clients/{slug}/hours", get(hours::sheet))
        .route(
            "/clients/{slug}/hours/sheet.csv",
            get(hours::sheet_csv_file),
        )
        .route("/clients/{slug}/hours/adjustments", post(hours::adjust))
        .route(
            "/month-close",
            get(hours::month_close_preview).post(hours::month_close),
        )
        .route("/outbox", get(outbox::list))
        .route("/outbox/{id}/retry", post(outbox::retry))
        .route("/outbox/{id}", get(drafts::show))
        .route("/outbox/{id}/send", post(drafts::send))
        .route(
            "/outbox/{id}/discard",
            get(drafts::confirm_discard).post(drafts::discard),
        )
        .merge(releases::routes())
        .merge(checks::routes())
        .merge(maintenance::routes())
        .merge(event_streams::routes())
        .route("/plans", get(plans::list))
        .route("/sla", get(attainment::show))
        .route("/clients/{slug}/holidays/import", post(holidays::preview))
        .route("/clients/{slug}/holidays", post(holidays::add))
        .route(
            "/plans/{code}/edit",
            get(plans::edit_form).post(plans::update),
        )
}
