//! `/tickets/{number}/change` and `/releases`: a ticket's change record (what changed,
//! systems touched, QA before and after release, release batch, notes for the client),
//! release batches per client, and their release notes as Markdown or HTML. The rules
//! (a batch is released only when every change passed QA before and after release; a
//! released batch is kept as it went out) are the domain's; a refusal is a 409 or 422
//! problem that says why.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use tend_domain::change::{ChangeDraft, ReleaseDraft, ReleaseState};
use tend_domain::page::Page;
use tend_domain::FieldErrors;
use tend_store::changes::{ChangeRecord, Release, ReleaseFilter};
use tend_store::{Store, StoreError};

use super::body::{finish, Body};
use super::params::{parse_id, Params, PathText};
use super::tickets::load as load_ticket;
use super::{created, deleted, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::release_notes::{file_name, html_document};
use crate::AppState;

/// The routes of this module, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tickets/{number}/change", get(show_change).put(put_change))
        .route("/releases", get(list).post(create))
        .route("/releases/{id}", get(show).patch(patch).delete(delete))
        .route("/releases/{id}/release", post(release))
        .route("/releases/{id}/notes", get(notes))
}

/// Whether a batch may be marked released now.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub allowed: bool,
    /// Why not, when refused: every change still short of a passing QA run is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One batch with its changes and whether it can be released.
#[derive(Debug, Serialize)]
pub struct ReleaseDetail {
    #[serde(flatten)]
    pub release: Release,
    /// The change records in the batch, in ticket order.
    pub changes: Vec<ChangeRecord>,
    pub can_release: Verdict,
}

async fn detail(store: &Store, release: Release) -> Result<ReleaseDetail, Problem> {
    let changes = store.release_changes(release.id).await?;
    let verdict = store.release_verdict(&release).await?;
    Ok(ReleaseDetail {
        release,
        changes,
        can_release: Verdict {
            allowed: verdict.is_ok(),
            reason: verdict.err(),
        },
    })
}

/// The batch a path names; anything else, or no such batch, is 404.
async fn load(store: &Store, raw: &str) -> Result<Release, Problem> {
    let id = parse_id(raw, "release")?;
    match store.release(id).await {
        Ok(release) => Ok(release),
        Err(StoreError::NotFound(_)) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("there is no release {id}"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// A ticket's change record.
#[utoipa::path(get, path = "/tickets/{number}/change", tag = "changes", operation_id = "getTicketChange",
    params(("number" = i64, Path, description = "The ticket's number")),
    responses((status = 200, description = "The change record", body = serde_json::Value)))]
pub async fn show_change(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(number): PathText,
) -> Result<Json<ChangeRecord>, Problem> {
    let ticket = load_ticket(&state.store, &number).await?;
    match state.store.ticket_change(ticket.number).await? {
        Some(change) => Ok(Json(change)),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "ticket #{} has no change record yet; PUT one to record it",
                ticket.number
            ),
        )),
    }
}

/// `systems_touched` may be sent as a list of strings; the draft keeps them one per line.
fn systems_as_text(mut value: Value, errors: &mut FieldErrors) -> Value {
    let joined = match value.get("systems_touched") {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(Value::as_str)
                .collect::<Option<Vec<&str>>>()
                .map(|names| names.join("\n")),
        ),
        _ => None,
    };
    if let (Some(joined), Some(field)) = (joined, value.get_mut("systems_touched")) {
        *field = match joined {
            Some(text) => Value::String(text),
            None => {
                errors.add("systems_touched", "must be a string or a list of strings");
                Value::Null
            }
        };
    }
    value
}

/// Record or replace a ticket's change record. Every field takes the body's value or
/// its default; `what_changed` is required. Naming a release that is released or
/// belongs to another client is a 422 on `release_id`; changing a record whose release
/// is released is a 409.
#[utoipa::path(put, path = "/tickets/{number}/change", tag = "changes", operation_id = "putTicketChange",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::ChangeFields),
    responses(
        (status = 200, description = "Replaced; the change record", body = serde_json::Value),
        (status = 201, description = "Recorded; the change record", body = serde_json::Value),
        (status = 409, description = "The change went out in a released release and is kept as it was", body = Problem),
    ))]
pub async fn put_change(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let ticket = load_ticket(&state.store, &number).await?;
    let mut errors = FieldErrors::new();
    let value = systems_as_text(value, &mut errors);
    let draft = Body::object(value)?.onto(&ChangeDraft::default(), "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let (change, is_new) = state
        .store
        .save_change(&caller.actor(), ticket.number, &input)
        .await?;
    if is_new {
        let location = format!("{BASE}/tickets/{}/change", ticket.number);
        Ok(created(location, change))
    } else {
        Ok(Json(change).into_response())
    }
}

/// Release batches, per client: planned ones first (soonest first), then released ones
/// (newest first).
#[utoipa::path(get, path = "/releases", tag = "releases", operation_id = "listReleases",
    params(
        ("client" = Option<String>, Query, description = "The client's slug"),
        ("state" = Option<String>, Query, description = "planned or released"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of releases, each with its `change_count`", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<Release>>, Problem> {
    params.allow(&["client", "state", "page", "per_page"]);
    let client_id = match params.text("client") {
        None => None,
        Some(slug) => match state.store.client_by_slug(&slug, false).await {
            Ok(client) => Some(client.id),
            Err(StoreError::NotFound(_)) => {
                params.reject("client", format!("there is no client {slug}"));
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let release_state = params.parsed("state", ReleaseState::parse);
    let page = params.page();
    params.finish()?;
    let filter = ReleaseFilter {
        client_id,
        state: release_state,
    };
    Ok(Json(state.store.list_releases(&filter, page).await?))
}

/// Plan a release batch for a client. `client` and `name` are required; a name is used
/// once per client.
#[utoipa::path(post, path = "/releases", tag = "releases", operation_id = "createRelease",
    request_body(content = super::openapi::ReleaseFields),
    responses(
        (status = 201, description = "Planned; Location names the release", body = serde_json::Value),
        (status = 409, description = "The client already has a release with this name", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&ReleaseDraft::default(), "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let release = state.store.create_release(&caller.actor(), &input).await?;
    let location = format!("{BASE}/releases/{}", release.id);
    Ok(created(location, detail(&state.store, release).await?))
}

/// A release with its changes and whether it can be marked released now.
#[utoipa::path(get, path = "/releases/{id}", tag = "releases", operation_id = "getRelease",
    params(("id" = i64, Path, description = "The release's id")),
    responses((status = 200, description = "The release", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<ReleaseDetail>, Problem> {
    let release = load(&state.store, &id).await?;
    Ok(Json(detail(&state.store, release).await?))
}

/// Rename or re-date a planned release: the fields the body names (null clears
/// `planned_for`). A release stays with its client; a released one is kept as it went
/// out (409).
#[utoipa::path(patch, path = "/releases/{id}", tag = "releases", operation_id = "patchRelease",
    params(("id" = i64, Path, description = "The release's id")),
    request_body(content = super::openapi::ReleaseFields, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed release", body = serde_json::Value),
        (status = 409, description = "The release is released, or the name is taken", body = Problem),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<ReleaseDetail>, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &id).await?;
    let base = ReleaseDraft {
        client: current.client_slug.clone(),
        name: current.name.clone(),
        planned_for: current
            .planned_for
            .map(|d| d.to_string())
            .unwrap_or_default(),
    };
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&base, "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let release = state
        .store
        .update_release(&caller.actor(), current.id, &input)
        .await?;
    Ok(Json(detail(&state.store, release).await?))
}

/// Delete a planned release; its changes stay on their tickets without a release. A
/// released release is the record of what went out and cannot be deleted (409).
#[utoipa::path(delete, path = "/releases/{id}", tag = "releases", operation_id = "deleteRelease",
    params(("id" = i64, Path, description = "The release's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "The release is released", body = Problem),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &id).await?;
    state
        .store
        .delete_release(&caller.actor(), current.id)
        .await?;
    Ok(deleted())
}

/// Mark a release released: it is live and verified. Refused (409) unless it holds at
/// least one change and every change passed QA before and after release; the problem's
/// detail names each change still short.
#[utoipa::path(post, path = "/releases/{id}/release", tag = "releases", operation_id = "markReleaseReleased",
    params(("id" = i64, Path, description = "The release's id")),
    responses(
        (status = 200, description = "The release, now released", body = serde_json::Value),
        (status = 409, description = "Already released, empty, or a change has not passed QA before and after release", body = Problem),
    ))]
pub async fn release(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<ReleaseDetail>, Problem> {
    caller.require_write()?;
    let current = load(&state.store, &id).await?;
    let release = state
        .store
        .mark_released(&caller.actor(), current.id)
        .await?;
    Ok(Json(detail(&state.store, release).await?))
}

/// The text formats release notes are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotesFormat {
    Markdown,
    Html,
}

fn notes_format(raw: &str) -> Result<NotesFormat, String> {
    match raw.to_ascii_lowercase().as_str() {
        "md" | "markdown" => Ok(NotesFormat::Markdown),
        "html" => Ok(NotesFormat::Html),
        _ => Err(format!("\"{raw}\" is not a notes format (md or html)")),
    }
}

/// A release's notes for its client: Markdown (the default) or a standalone HTML
/// document. Typed text is escaped in both.
#[utoipa::path(get, path = "/releases/{id}/notes", tag = "releases", operation_id = "getReleaseNotes",
    params(
        ("id" = i64, Path, description = "The release's id"),
        ("format" = Option<String>, Query, description = "md (default) or html"),
        ("download" = Option<bool>, Query, description = "true: sent as an attachment with a file name"),
    ),
    responses((status = 200, description = "The notes", content(
        (String = "text/markdown"),
        (String = "text/html"),
    ))))]
pub async fn notes(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
    mut params: Params,
) -> Result<Response, Problem> {
    params.allow(&["format", "download"]);
    let format = params
        .parsed("format", notes_format)
        .unwrap_or(NotesFormat::Markdown);
    let download = params
        .parsed("download", |raw| match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("\"{raw}\" is not true or false")),
        })
        .unwrap_or(false);
    params.finish()?;
    let release = load(&state.store, &id).await?;
    let changes = state.store.release_changes(release.id).await?;
    let notes = release.notes(&changes);
    let (body, content_type, extension) = match format {
        NotesFormat::Markdown => (notes.markdown(), "text/markdown; charset=utf-8", "md"),
        NotesFormat::Html => (
            html_document(&notes).map_err(|e| {
                tracing::error!(error = %e, "release notes template");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the notes could not be rendered; it has been logged",
                )
            })?,
            "text/html; charset=utf-8",
            "html",
        ),
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if download {
        let disposition = format!(
            "attachment; filename=\"{}\"",
            file_name(release.id, &release.name, extension)
        );
        if let Ok(value) = header::HeaderValue::try_from(disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn systems_may_be_sent_as_a_list_or_as_text() {
        let mut errors = FieldErrors::new();
        let v = systems_as_text(json!({"systems_touched": ["GHL", "Stripe"]}), &mut errors);
        assert_eq!(v["systems_touched"], "GHL\nStripe");
        let v = systems_as_text(json!({"systems_touched": "GHL, Stripe"}), &mut errors);
        assert_eq!(v["systems_touched"], "GHL, Stripe");
        assert!(errors.is_empty());
        systems_as_text(json!({"systems_touched": ["GHL", 3]}), &mut errors);
        assert!(errors.get("systems_touched").is_some());
    }

    #[test]
    fn notes_come_as_markdown_or_html() {
        assert_eq!(notes_format("MD"), Ok(NotesFormat::Markdown));
        assert_eq!(notes_format("html"), Ok(NotesFormat::Html));
        assert!(notes_format("pdf").is_err());
    }
}
