//! Message templates: the list, the editor with a live preview, and reset to default.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::message_template::{
    check, render, sample_for, MessageTemplate, RenderedMessage, TemplateKind,
};
use tend_domain::FieldErrors;
use tend_store::messages::StoredTemplate;

use crate::auth::Staff;
use crate::ui::view::{field_errors, refused, render as render_page, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

#[derive(Template)]
#[template(path = "templates.html")]
struct TemplatesPage {
    nav: Nav,
    templates: Vec<StoredTemplate>,
}

#[derive(Template)]
#[template(path = "template_form.html")]
struct TemplateForm {
    nav: Nav,
    kind: &'static str,
    label: &'static str,
    purpose: &'static str,
    about_ticket: bool,
    subject: String,
    body: String,
    is_default: bool,
    preview: Option<RenderedMessage>,
    notice: Option<String>,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "confirm_reset.html")]
struct ConfirmReset {
    nav: Nav,
    kind: &'static str,
    label: &'static str,
}

fn kind_of(raw: &str) -> Result<TemplateKind, UiError> {
    TemplateKind::parse(raw).map_err(|e| UiError::NotFound(e.to_string()))
}

fn form_page(
    staff: &Staff,
    kind: TemplateKind,
    template: MessageTemplate,
    is_default: bool,
    notice: Option<String>,
    errors: FieldErrors,
) -> TemplateForm {
    let preview = if errors.is_empty() {
        render(&template, &sample_for(kind)).ok()
    } else {
        None
    };
    TemplateForm {
        nav: Nav::new(staff, "templates"),
        kind: kind.as_str(),
        label: kind.label(),
        purpose: kind.purpose(),
        about_ticket: kind.is_about_a_ticket(),
        subject: template.subject,
        body: template.body,
        is_default,
        preview,
        notice,
        errors: Errors(errors),
    }
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    render_page(&TemplatesPage {
        nav: Nav::new(&staff, "templates"),
        templates: state.store.message_templates().await?,
    })
}

pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
) -> Result<Response, UiError> {
    let kind = kind_of(&kind)?;
    let stored = state.store.message_template(kind).await?;
    render_page(&form_page(
        &staff,
        kind,
        stored.template,
        stored.is_default,
        None,
        FieldErrors::default(),
    ))
}

#[derive(Deserialize)]
pub struct TemplateInput {
    csrf: String,
    subject: String,
    body: String,
    /// "save" or "preview".
    action: Option<String>,
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
    Form(input): Form<TemplateInput>,
) -> Result<Response, UiError> {
    staff.check_csrf(&input.csrf)?;
    staff.require_write()?;
    let kind = kind_of(&kind)?;
    let template = MessageTemplate {
        subject: input.subject,
        body: input.body.replace("\r\n", "\n"),
    };
    let is_default = state.store.message_template(kind).await?.is_default;
    if input.action.as_deref() == Some("preview") {
        let errors = match check(kind, &template) {
            Ok(()) => FieldErrors::default(),
            Err(list) => {
                let mut e = FieldErrors::default();
                for err in list {
                    e.add(err.field, err.message);
                }
                e
            }
        };
        let page = form_page(&staff, kind, template, is_default, None, errors);
        return if page.errors.any() {
            refused(&page)
        } else {
            render_page(&page)
        };
    }
    match state
        .store
        .save_message_template(&staff.actor(), kind, &template)
        .await
    {
        Ok(_) => Ok(Redirect::to("/templates").into_response()),
        Err(e) => refused(&form_page(
            &staff,
            kind,
            template,
            is_default,
            None,
            field_errors(e)?,
        )),
    }
}

pub async fn confirm_reset(staff: Staff, Path(kind): Path<String>) -> Result<Response, UiError> {
    staff.require_write()?;
    let kind = kind_of(&kind)?;
    render_page(&ConfirmReset {
        nav: Nav::new(&staff, "templates"),
        kind: kind.as_str(),
        label: kind.label(),
    })
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn reset(
    State(state): State<AppState>,
    staff: Staff,
    Path(kind): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    let kind = kind_of(&kind)?;
    state
        .store
        .reset_message_template(&staff.actor(), kind)
        .await?;
    Ok(Redirect::to(&format!("/templates/{}", kind.as_str())).into_response())
}
