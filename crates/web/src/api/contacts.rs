//! `/clients/{slug}/contacts` and `/contacts/{id}`: a client's people.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::Value;
use tend_domain::contact::ContactDraft;
use tend_domain::contact::ContactInput;
use tend_domain::page::Page;
use tend_domain::FieldErrors;
use tend_store::contacts::Contact;

use super::body::{finish, Body};
use super::params::{parse_id, Params, PathText};
use super::{created, deleted, page_of, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

fn draft_of(contact: &Contact) -> ContactDraft {
    ContactDraft {
        name: contact.name.clone(),
        email: contact.email.clone(),
        role: contact.role.as_str().to_string(),
        phone: contact.phone.clone().unwrap_or_default(),
    }
}

fn read(value: Value, base: &ContactDraft) -> Result<ContactInput, Problem> {
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(base, "", &mut errors);
    Ok(finish(draft, errors)?.parse()?)
}

/// A client's contacts, by name.
#[utoipa::path(get, path = "/clients/{slug}/contacts", tag = "contacts", operation_id = "listContacts",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of contacts", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Json<Page<Contact>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let contacts = state.store.list_contacts(client.id).await?;
    Ok(Json(page_of(contacts, page)))
}

/// Add a contact to a client.
#[utoipa::path(post, path = "/clients/{slug}/contacts", tag = "contacts", operation_id = "createContact",
    params(("slug" = String, Path, description = "The client's slug")),
    request_body(content = super::openapi::ContactFields),
    responses((status = 201, description = "Created; Location names the contact", body = serde_json::Value),
        (status = 409, description = "The email is already a contact of this client", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let input = read(value, &ContactDraft::default())?;
    let contact = state
        .store
        .create_contact(&caller.actor(), client.id, &input)
        .await?;
    Ok(created(format!("{BASE}/contacts/{}", contact.id), contact))
}

/// A contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", operation_id = "getContact",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 200, description = "The contact", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<Contact>, Problem> {
    let id = parse_id(&id, "contact")?;
    Ok(Json(state.store.contact_by_id(id).await?))
}

/// Replace a contact: every field takes the body's value or its default.
#[utoipa::path(put, path = "/contacts/{id}", tag = "contacts", operation_id = "replaceContact",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body(content = super::openapi::ContactFields),
    responses((status = 200, description = "The changed contact", body = serde_json::Value),
        (status = 409, description = "The email is already a contact of this client", body = Problem, content_type = "application/problem+json")))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Contact>, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contact")?;
    state.store.contact_by_id(id).await?;
    let input = read(value, &ContactDraft::default())?;
    Ok(Json(
        state
            .store
            .update_contact(&caller.actor(), id, &input)
            .await?,
    ))
}

/// Change some of a contact's fields: those the body names.
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", operation_id = "patchContact",
    params(("id" = i64, Path, description = "The contact's id")),
    request_body(content = super::openapi::ContactFields, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The changed contact", body = serde_json::Value),
        (status = 409, description = "The email is already a contact of this client", body = Problem, content_type = "application/problem+json")))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Contact>, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contact")?;
    let current = state.store.contact_by_id(id).await?;
    let input = read(value, &draft_of(&current))?;
    Ok(Json(
        state
            .store
            .update_contact(&caller.actor(), id, &input)
            .await?,
    ))
}

/// Remove a contact. Refused with 409 for a client's only contact while a contract is
/// live (someone must be told about that client's tickets).
#[utoipa::path(delete, path = "/contacts/{id}", tag = "contacts", operation_id = "deleteContact",
    params(("id" = i64, Path, description = "The contact's id")),
    responses((status = 204, description = "Removed"),
        (status = 409, description = "The client's only contact while a contract is live", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contact")?;
    state.store.delete_contact(&caller.actor(), id).await?;
    Ok(deleted())
}
