//! Releases: batches per client with a form to plan one, and a page per batch with its
//! changes, the rendered release notes, a Markdown download and "Mark released" (after
//! a confirmation page, and only when every change passed QA before and after release).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use tend_domain::change::{ReleaseDraft, ReleaseNotes, ReleaseState};
use tend_domain::page::{Page, PageRequest};
use tend_domain::FieldErrors;
use tend_store::changes::{ChangeRecord, Release, ReleaseFilter};
use tend_store::clients::ClientSummary;

use crate::auth::Staff;
use crate::release_notes::{file_name, NotesFragment};
use crate::ui::tickets::client_choices;
use crate::ui::view::{field_errors, local_time, refused, render, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

/// The pages of this module, merged into the UI's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/releases", get(list).post(create))
        .route("/releases/{id}", get(show).post(update))
        .route("/releases/{id}/release", get(confirm).post(release))
        .route("/releases/{id}/notes.md", get(markdown))
}

const PER_PAGE: u32 = 50;

/// One client's batches on the list page.
pub struct ClientGroup {
    name: String,
    slug: String,
    releases: Vec<Row>,
}

pub struct Row {
    id: i64,
    name: String,
    planned_for: String,
    state: ReleaseState,
    released: String,
    changes: i64,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    nav: Nav,
    groups: Vec<ClientGroup>,
    page: Page<Release>,
    prev_link: String,
    next_link: String,
    clients: Vec<ClientSummary>,
    draft: ReleaseDraft,
    errors: Errors,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    page: Option<u32>,
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    page_number: Option<u32>,
    draft: ReleaseDraft,
    errors: FieldErrors,
) -> Result<ReleasesPage, UiError> {
    let tz = staff.user.timezone.as_str();
    let page = state
        .store
        .list_releases(
            &ReleaseFilter::default(),
            PageRequest::new(page_number, Some(PER_PAGE)),
        )
        .await?;
    let mut groups: Vec<ClientGroup> = Vec::new();
    for r in &page.items {
        let row = Row {
            id: r.id,
            name: r.name.clone(),
            planned_for: r.planned_for.map(|d| d.to_string()).unwrap_or_default(),
            state: r.state,
            released: r
                .released_at
                .map(|ms| local_time(ms, tz))
                .unwrap_or_default(),
            changes: r.change_count,
        };
        match groups.last_mut() {
            Some(g) if g.slug == r.client_slug => g.releases.push(row),
            _ => groups.push(ClientGroup {
                name: r.client_name.clone(),
                slug: r.client_slug.clone(),
                releases: vec![row],
            }),
        }
    }
    let link = |n: u32| format!("/releases?page={n}");
    Ok(ReleasesPage {
        nav: Nav::new(staff, "releases"),
        prev_link: link(page.page.saturating_sub(1).max(1)),
        next_link: link(page.page + 1),
        groups,
        page,
        clients: client_choices(state).await?,
        draft,
        errors: Errors(errors),
    })
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    render(
        &list_page(
            &state,
            &staff,
            q.page,
            ReleaseDraft::default(),
            FieldErrors::new(),
        )
        .await?,
    )
}

#[derive(Deserialize, Default)]
pub struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    draft: ReleaseDraft,
}

fn to_release(id: i64) -> Response {
    Redirect::to(&format!("/releases/{id}")).into_response()
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let errors = match f.draft.parse() {
        Ok(input) => match state.store.create_release(&staff.actor(), &input).await {
            Ok(release) => return Ok(to_release(release.id)),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    refused(&list_page(&state, &staff, None, f.draft, errors).await?)
}

/// One change as the batch page lists it.
pub struct ChangeRow {
    ticket: i64,
    title: String,
    what_changed: String,
    systems: String,
    qa_before: (String, &'static str, &'static str),
    qa_after: (String, &'static str, &'static str),
}

fn change_row(c: &ChangeRecord) -> ChangeRow {
    let qa = |path: &str, result: tend_domain::change::QaResult| {
        (path.to_string(), result.as_str(), result.label())
    };
    ChangeRow {
        ticket: c.ticket,
        title: c.ticket_title.clone(),
        what_changed: c.change.what_changed.clone(),
        systems: c.change.systems_touched.join(", "),
        qa_before: qa(&c.change.qa_before_path, c.change.qa_before_result),
        qa_after: qa(&c.change.qa_after_path, c.change.qa_after_result),
    }
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    nav: Nav,
    r: Release,
    planned: bool,
    released: String,
    changes: Vec<ChangeRow>,
    /// Why it cannot be released now, when it cannot.
    blocked: Option<String>,
    /// A refusal from the last "Mark released".
    release_error: Option<String>,
    notes_html: String,
    draft: ReleaseDraft,
    errors: Errors,
}

/// What the page shows in its forms after a refused submission.
#[derive(Default)]
struct Feedback {
    draft: Option<ReleaseDraft>,
    errors: FieldErrors,
    release_error: Option<String>,
}

fn notes_fragment(notes: &ReleaseNotes) -> Result<String, UiError> {
    Ok(NotesFragment { notes, top: 3 }.render()?)
}

async fn release_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    feedback: Feedback,
) -> Result<ReleasePage, UiError> {
    let r = state.store.release(id).await?;
    let changes = state.store.release_changes(id).await?;
    let blocked = state.store.release_verdict(&r).await?.err();
    let notes_html = notes_fragment(&r.notes(&changes))?;
    let draft = feedback.draft.unwrap_or_else(|| ReleaseDraft {
        client: r.client_slug.clone(),
        name: r.name.clone(),
        planned_for: r.planned_for.map(|d| d.to_string()).unwrap_or_default(),
    });
    Ok(ReleasePage {
        nav: Nav::new(staff, "releases"),
        planned: r.state == ReleaseState::Planned,
        released: r
            .released_at
            .map(|ms| local_time(ms, &staff.user.timezone))
            .unwrap_or_default(),
        changes: changes.iter().map(change_row).collect(),
        blocked,
        release_error: feedback.release_error,
        notes_html,
        draft,
        errors: Errors(feedback.errors),
        r,
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    render(&release_page(&state, &staff, id, Feedback::default()).await?)
}

/// Renames or re-dates the batch (its client stays).
pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let current = state.store.release(id).await?;
    let draft = ReleaseDraft {
        client: current.client_slug,
        ..f.draft
    };
    let errors = match draft.parse() {
        Ok(input) => match state.store.update_release(&staff.actor(), id, &input).await {
            Ok(_) => return Ok(to_release(id)),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    let feedback = Feedback {
        draft: Some(draft),
        errors,
        ..Default::default()
    };
    refused(&release_page(&state, &staff, id, feedback).await?)
}

#[derive(Template)]
#[template(path = "confirm_release.html")]
struct ConfirmPage {
    nav: Nav,
    r: Release,
    blocked: Option<String>,
}

/// "Mark released?" with what it means; the button is there only when the rule allows.
pub async fn confirm(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let r = state.store.release(id).await?;
    let blocked = state.store.release_verdict(&r).await?.err();
    render(&ConfirmPage {
        nav: Nav::new(&staff, "releases"),
        r,
        blocked,
    })
}

#[derive(Deserialize, Default)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn release(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let refusal = match state.store.mark_released(&staff.actor(), id).await {
        Ok(_) => return Ok(to_release(id)),
        Err(tend_store::StoreError::Guarded(message)) => message,
        Err(e) => field_errors(e)?.summary(),
    };
    let feedback = Feedback {
        release_error: Some(refusal),
        ..Default::default()
    };
    refused(&release_page(&state, &staff, id, feedback).await?)
}

/// The notes as a Markdown file, to paste into an email or a client's docs.
pub async fn markdown(
    State(state): State<AppState>,
    _staff: Staff,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let r = state.store.release(id).await?;
    let changes = state.store.release_changes(id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    file_name(r.id, &r.name, "md")
                ),
            ),
        ],
        r.notes(&changes).markdown(),
    )
        .into_response())
}
