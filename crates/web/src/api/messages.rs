//! `/templates` (the agency's message templates) and `/tickets/{number}/emails`
//! (writing to a client's contacts from one: preview, then send).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tend_domain::message_template::{
    render, unfilled_blanks, MessageTemplate, RenderedMessage, TemplateKind,
};
use tend_domain::FieldErrors;
use tend_store::messages::{Recipient, StoredTemplate};

use super::params::PathText;
use super::tickets::load;
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

fn kind_of(raw: &str) -> Result<TemplateKind, Problem> {
    TemplateKind::parse(raw).map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "template not found: \"{raw}\" is not one of {}",
                TemplateKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Every template (four ticket messages, two hour-bank emails), edited or Tend's default.
#[utoipa::path(get, path = "/templates", tag = "templates", operation_id = "listTemplates",
    responses((status = 200, description = "Every template", body = serde_json::Value)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<Vec<StoredTemplate>>, Problem> {
    Ok(Json(state.store.message_templates().await?))
}

#[utoipa::path(get, path = "/templates/{kind}", tag = "templates", operation_id = "showTemplate",
    params(("kind" = String, Path, description = "acknowledge, status-update, resolved or post-mortem")),
    responses((status = 200, description = "The template", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(kind): PathText,
) -> Result<Json<StoredTemplate>, Problem> {
    Ok(Json(state.store.message_template(kind_of(&kind)?).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    subject: String,
    body: String,
}

/// Replaces a template; it must render against a sample ticket (unknown variables and
/// syntax errors are 422s naming the field and line).
#[utoipa::path(put, path = "/templates/{kind}", tag = "templates", operation_id = "replaceTemplate",
    params(("kind" = String, Path, description = "acknowledge, status-update, resolved or post-mortem")),
    request_body(content = super::openapi::TemplateFields),
    responses((status = 200, description = "Saved", body = serde_json::Value)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(kind): PathText,
    ApiJson(input): ApiJson<TemplateBody>,
) -> Result<Json<StoredTemplate>, Problem> {
    caller.require_write()?;
    let template = MessageTemplate {
        subject: input.subject,
        body: input.body,
    };
    Ok(Json(
        state
            .store
            .save_message_template(&caller.actor(), kind_of(&kind)?, &template)
            .await?,
    ))
}

/// Goes back to Tend's default (the edited text stays in the audit log).
#[utoipa::path(delete, path = "/templates/{kind}", tag = "templates", operation_id = "resetTemplate",
    params(("kind" = String, Path, description = "acknowledge, status-update, resolved or post-mortem")),
    responses((status = 200, description = "The default, now in use", body = serde_json::Value)))]
pub async fn reset(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(kind): PathText,
) -> Result<Json<StoredTemplate>, Problem> {
    caller.require_write()?;
    Ok(Json(
        state
            .store
            .reset_message_template(&caller.actor(), kind_of(&kind)?)
            .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// acknowledge (default), status-update, resolved or post-mortem.
    template: Option<String>,
    /// Contacts' emails; default: every contact of the client.
    to: Option<Vec<String>>,
    /// The text to send; when absent, the template's.
    subject: Option<String>,
    body: Option<String>,
    /// Only show what would be sent.
    preview: Option<bool>,
}

#[derive(Serialize)]
pub struct EmailPreview {
    to: Vec<Recipient>,
    subject: String,
    body: String,
    /// [Blanks] to fill in before it can be sent.
    blanks: Vec<String>,
}

/// Writes to the client's contacts. With `preview: true`, answers what would be sent
/// (the template filled in with the ticket's facts). Otherwise sends it: a public reply
/// on the thread and one email per recipient through the outbox.
#[utoipa::path(post, path = "/tickets/{number}/emails", tag = "templates", operation_id = "emailTicketContacts",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::EmailFields),
    responses(
        (status = 200, description = "Preview: recipients, subject, body and blanks left", body = serde_json::Value),
        (status = 201, description = "Sent; the thread message", body = serde_json::Value)))]
pub async fn email(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(input): ApiJson<EmailRequest>,
) -> Result<Response, Problem> {
    let ticket = load(&state.store, &number).await?;
    let kind = match input.template.as_deref() {
        Some(raw) => TemplateKind::parse_for_ticket(raw)
            .map_err(|e| Problem::validation(&FieldErrors::single("template", e)))?,
        None => TemplateKind::Acknowledge,
    };
    let recipients = state
        .store
        .choose_recipients(ticket.number, input.to.as_deref().unwrap_or_default())
        .await?;
    let written = match (&input.subject, &input.body) {
        (Some(subject), Some(body)) => RenderedMessage {
            subject: subject.clone(),
            body: body.clone(),
        },
        _ => {
            let template = state.store.message_template(kind).await?;
            let agent = caller.actor().label;
            let context = state
                .store
                .message_context(ticket.number, &recipients, &agent, jiff::Timestamp::now())
                .await?;
            let rendered = render(&template.template, &context).map_err(|e| {
                Problem::validation(&FieldErrors::single("template", e.to_string()))
            })?;
            RenderedMessage {
                subject: input.subject.clone().unwrap_or(rendered.subject),
                body: input.body.clone().unwrap_or(rendered.body),
            }
        }
    };
    if input.preview.unwrap_or(false) {
        return Ok(Json(EmailPreview {
            blanks: unfilled_blanks(&written.body),
            to: recipients,
            subject: written.subject,
            body: written.body,
        })
        .into_response());
    }
    caller.require_write()?;
    let message = state
        .store
        .send_ticket_message(&caller.actor(), None, ticket.number, &written, &recipients)
        .await?;
    Ok((StatusCode::CREATED, Json(message)).into_response())
}
