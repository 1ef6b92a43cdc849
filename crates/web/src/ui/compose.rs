//! Writing to a client's contacts from a template: the page shows the message as it
//! will go out (editable), and sending puts it on the thread and in the outbox.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use tend_domain::message_template::{render, RenderedMessage, TemplateKind};
use tend_domain::FieldErrors;
use tend_store::messages::Recipient;

use crate::auth::Staff;
use crate::ui::view::{field_errors, refused, render as render_page, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

pub struct ContactChoice {
    name: String,
    email: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "compose.html")]
struct ComposePage {
    nav: Nav,
    number: i64,
    title: String,
    client_slug: String,
    kind: &'static str,
    kind_label: &'static str,
    contacts: Vec<ContactChoice>,
    subject: String,
    body: String,
    render_error: Option<String>,
    errors: Errors,
}

fn template_kind(pairs: &[(String, String)]) -> Result<TemplateKind, UiError> {
    let raw = pairs
        .iter()
        .find(|(k, _)| k == "template")
        .map(|(_, v)| v.as_str())
        .unwrap_or("acknowledge");
    TemplateKind::parse_for_ticket(raw).map_err(UiError::NotFound)
}

fn chosen(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "to")
        .map(|(_, v)| v.clone())
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    staff: &Staff,
    number: i64,
    kind: TemplateKind,
    to: Option<Vec<String>>,
    written: Option<(String, String)>,
    errors: FieldErrors,
) -> Result<ComposePage, UiError> {
    let ticket = state.store.ticket(number).await?;
    let client = state.store.client_by_id(ticket.client_id).await?;
    let all = state.store.ticket_recipients(number).await?;
    // Everyone is ticked the first time; afterwards what the person ticked.
    let ticked: Vec<String> = to.unwrap_or_else(|| all.iter().map(|r| r.email.clone()).collect());
    let recipients: Vec<Recipient> = all
        .iter()
        .filter(|r| ticked.contains(&r.email))
        .cloned()
        .collect();
    let (subject, body, render_error) = match written {
        Some((subject, body)) => (subject, body, None),
        None => {
            let template = state.store.message_template(kind).await?;
            let context = state
                .store
                .message_context(
                    number,
                    &recipients,
                    &staff.user.name,
                    jiff::Timestamp::now(),
                )
                .await?;
            match render(&template.template, &context) {
                Ok(m) => (m.subject, m.body, None),
                Err(e) => (String::new(), String::new(), Some(e.to_string())),
            }
        }
    };
    Ok(ComposePage {
        nav: Nav::new(staff, "tickets"),
        number,
        title: ticket.title,
        client_slug: client.slug,
        kind: kind.as_str(),
        kind_label: kind.label(),
        contacts: all
            .into_iter()
            .map(|r| ContactChoice {
                checked: ticked.contains(&r.email),
                name: r.name,
                email: r.email,
            })
            .collect(),
        subject,
        body,
        render_error,
        errors: Errors(errors),
    })
}

pub async fn form(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let kind = template_kind(&query)?;
    let to = Some(chosen(&query)).filter(|t| !t.is_empty());
    render_page(
        &page(
            &state,
            &staff,
            number,
            kind,
            to,
            None,
            FieldErrors::default(),
        )
        .await?,
    )
}

pub async fn send(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    staff.check_csrf(field(&pairs, "csrf"))?;
    staff.require_write()?;
    let kind = template_kind(&pairs)?;
    let to = chosen(&pairs);
    let (subject, body) = (
        field(&pairs, "subject").to_string(),
        field(&pairs, "body").to_string(),
    );
    let recipients: Vec<Recipient> = state
        .store
        .ticket_recipients(number)
        .await?
        .into_iter()
        .filter(|r| to.contains(&r.email))
        .collect();
    let message = RenderedMessage {
        subject: subject.trim().to_string(),
        body: body.replace("\r\n", "\n"),
    };
    match state
        .store
        .send_ticket_message(
            &staff.actor(),
            Some(staff.user.id),
            number,
            &message,
            &recipients,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{number}#thread-h")).into_response()),
        Err(e) => {
            let errors = field_errors(e)?;
            refused(
                &page(
                    &state,
                    &staff,
                    number,
                    kind,
                    Some(to),
                    Some((subject, body)),
                    errors,
                )
                .await?,
            )
        }
    }
}
