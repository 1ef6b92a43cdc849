//! Drafted emails (the hour bank's 75 % and 100 % emails to a client's billing
//! contact): a person reads one, edits it if need be, and sends or discards it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::FieldErrors;
use tend_store::outbox::OutboxMessage;

use crate::auth::Staff;
use crate::ui::view::{field_errors, local_time, refused, render, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "draft.html")]
struct DraftPage {
    nav: Nav,
    message: OutboxMessage,
    client: Option<(String, String)>,
    queued: String,
    subject: String,
    body: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "confirm_discard.html")]
struct ConfirmDiscard {
    nav: Nav,
    message: OutboxMessage,
}

/// The client's name and slug, for the way back.
async fn client_of(
    state: &AppState,
    m: &OutboxMessage,
) -> Result<Option<(String, String)>, UiError> {
    Ok(match m.client_id {
        Some(id) => {
            let c = state.store.client_by_id(id).await?;
            Some((c.name, c.slug))
        }
        None => None,
    })
}

async fn page(
    state: &AppState,
    staff: &Staff,
    message: OutboxMessage,
    subject: String,
    body: String,
    errors: FieldErrors,
) -> Result<DraftPage, UiError> {
    Ok(DraftPage {
        nav: Nav::new(staff, "outbox"),
        client: client_of(state, &message).await?,
        queued: local_time(message.created_at, &staff.user.timezone),
        subject,
        body,
        message,
        errors: Errors(errors),
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let message = state.store.outbox_message(id).await?;
    let (subject, body) = (message.subject.clone(), message.body.clone());
    render(
        &page(
            &state,
            &staff,
            message,
            subject,
            body,
            FieldErrors::default(),
        )
        .await?,
    )
}

#[derive(Deserialize)]
pub struct DraftInput {
    csrf: String,
    subject: String,
    body: String,
}

pub async fn send(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(input): Form<DraftInput>,
) -> Result<Response, UiError> {
    staff.check_csrf(&input.csrf)?;
    staff.require_write()?;
    let sent = state
        .store
        .send_draft(
            &staff.actor(),
            id,
            &input.subject,
            &input.body,
            tend_store::now_ms(),
        )
        .await;
    match sent {
        Ok(m) => Ok(Redirect::to(&format!("/outbox/{}", m.id)).into_response()),
        Err(e) => {
            let errors = field_errors(e)?;
            let message = state.store.outbox_message(id).await?;
            refused(&page(&state, &staff, message, input.subject, input.body, errors).await?)
        }
    }
}

pub async fn confirm_discard(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let message = state.store.outbox_message(id).await?;
    render(&ConfirmDiscard {
        nav: Nav::new(&staff, "outbox"),
        message,
    })
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn discard(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    state.store.discard_draft(&staff.actor(), id).await?;
    Ok(Redirect::to(&format!("/outbox/{id}")).into_response())
}
