//! A client's maintenance windows (list, add, end), reached from its checks page, and
//! the resolve-on-recovery switch on a check's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use tend_domain::maintenance::WindowDraft;
use tend_domain::page::PageRequest;
use tend_domain::FieldErrors;
use tend_store::checks::{Check, CheckFilter};
use tend_store::clients::Client;
use tend_store::maintenance::MaintenanceWindow;
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{local_time, render, Nav};
use crate::ui::UiError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients/{slug}/maintenance", get(page).post(add))
        .route("/clients/{slug}/maintenance/{id}/end", post(end))
        .route(
            "/checks/{uuid}/resolve-on-recovery",
            post(set_resolve_on_recovery),
        )
}

pub struct WindowRow {
    window: MaintenanceWindow,
    checks: String,
    ended: String,
}

#[derive(Template)]
#[template(path = "maintenance.html")]
struct Page {
    nav: Nav,
    client: Client,
    windows: Vec<WindowRow>,
    checks: Vec<(Check, bool)>,
    draft: WindowDraft,
    errors: Vec<(String, String)>,
}

async fn client_of(state: &AppState, slug: &str) -> Result<Client, UiError> {
    match state.store.client_by_slug(slug, false).await {
        Ok(c) => Ok(c),
        Err(StoreError::NotFound(_)) => {
            Err(UiError::NotFound(format!("There is no client {slug}.")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn show(
    state: &AppState,
    staff: &Staff,
    client: Client,
    draft: WindowDraft,
    errors: &FieldErrors,
) -> Result<Response, UiError> {
    let tz = staff.user.timezone.clone();
    let checks = state
        .store
        .checks(
            &CheckFilter {
                client_id: Some(client.id),
                state: None,
            },
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items;
    let windows = state.store.windows(Some(client.id), true).await?;
    let name_of = |uuid: &str| {
        checks
            .iter()
            .find(|c| c.uuid == uuid)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| uuid.to_string())
    };
    let rows = windows
        .into_iter()
        .map(|w| WindowRow {
            checks: if w.checks.is_empty() {
                "All checks".into()
            } else {
                w.checks
                    .iter()
                    .map(|u| name_of(u))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            ended: w.ended_at.map(|t| local_time(t, &tz)).unwrap_or_default(),
            window: w,
        })
        .collect();
    let checks = checks
        .into_iter()
        .map(|c| {
            let chosen = draft.checks.contains(&c.uuid);
            (c, chosen)
        })
        .collect();
    render(&Page {
        nav: Nav::new(staff, "checks"),
        client,
        windows: rows,
        checks,
        draft,
        errors: errors
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect(),
    })
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, UiError> {
    let client = client_of(&state, &slug).await?;
    let draft = WindowDraft {
        kind: "once".into(),
        timezone: client.timezone.clone(),
        ..Default::default()
    };
    show(&state, &staff, client, draft, &FieldErrors::new()).await
}

/// The form as posted: repeated `check` fields are the chosen checks.
pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    staff.check_csrf(&field("csrf"))?;
    staff.require_write()?;
    let client = client_of(&state, &slug).await?;
    let draft = WindowDraft {
        client: client.slug.clone(),
        checks: fields
            .iter()
            .filter(|(k, _)| k == "check")
            .map(|(_, v)| v.clone())
            .collect(),
        kind: field("kind"),
        starts: field("starts"),
        ends: field("ends"),
        days: field("days"),
        from: field("from"),
        until: field("until"),
        cron: field("cron"),
        duration: field("duration"),
        timezone: field("timezone"),
        reason: field("reason"),
    };
    let input = match draft.parse() {
        Ok(input) => input,
        Err(errors) => return show(&state, &staff, client, draft, &errors).await,
    };
    match state.store.create_window(&staff.actor(), &input).await {
        Ok(_) => Ok(Redirect::to(&format!("/clients/{}/maintenance", client.slug)).into_response()),
        Err(StoreError::Invalid(errors)) => show(&state, &staff, client, draft, &errors).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn end(
    State(state): State<AppState>,
    staff: Staff,
    Path((slug, id)): Path<(String, i64)>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    let client = client_of(&state, &slug).await?;
    let window = state.store.window(id).await?;
    if window.client_id != client.id {
        return Err(UiError::NotFound(
            "There is no such window for this client.".into(),
        ));
    }
    if window.ended_at.is_none() {
        state
            .store
            .end_window(&staff.actor(), id, tend_store::now_ms())
            .await?;
    }
    Ok(Redirect::to(&format!("/clients/{}/maintenance", client.slug)).into_response())
}

#[derive(serde::Deserialize)]
pub struct ResolveForm {
    csrf: String,
    /// "on" or "off".
    on: String,
}

pub async fn set_resolve_on_recovery(
    State(state): State<AppState>,
    staff: Staff,
    Path(uuid): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&form.csrf)?;
    staff.require_write()?;
    match state
        .store
        .set_resolve_on_recovery(&staff.actor(), &uuid, form.on == "on")
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/checks/{uuid}")).into_response()),
        Err(StoreError::NotFound(_)) => Err(UiError::NotFound(
            "There is no check at this address.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
