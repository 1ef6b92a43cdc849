//! `/clients`: the businesses the agency supports, with their current contract and
//! contacts; create (optionally with a first contract, atomically), change, delete
//! (guarded), restore and export.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use tend_domain::calendar::holidays_text;
use tend_domain::client::ClientDraft;
use tend_domain::contract::{ContractDraft, ContractState};
use tend_domain::email::Email;
use tend_domain::page::Page;
use tend_domain::FieldErrors;
use tend_store::clients::{Client, ClientFilter, ClientSummary};
use tend_store::contacts::Contact;
use tend_store::contracts::Contract;
use tend_store::export::ClientExport;
use tend_store::{Store, StoreError};

use super::body::{absorb, finish, Body};
use super::params::{Params, PathText};
use super::{created, deleted, plans, today_in, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// A client as the API shows it: the stored client, its current contract (the newest)
/// and its contacts.
#[derive(Debug, Serialize)]
pub struct ClientView {
    #[serde(flatten)]
    pub client: Client,
    pub contract: Option<Contract>,
    pub contacts: Vec<Contact>,
}

async fn view(store: &Store, client: Client) -> Result<ClientView, Problem> {
    let contract = store.client_contracts(client.id).await?.into_iter().next();
    let contacts = store.list_contacts(client.id).await?;
    Ok(ClientView {
        client,
        contract,
        contacts,
    })
}

/// The stored client as the draft that would store it again, the base of a PATCH.
fn draft_of(client: &Client) -> ClientDraft {
    ClientDraft {
        name: client.name.clone(),
        slug: client.slug.clone(),
        timezone: client.timezone.clone(),
        business_hours: client.hours.to_text(),
        holidays: holidays_text(&client.holidays),
        owner_email: client
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        notes: client.notes.clone(),
    }
}

/// List clients (not deleted), by name.
#[utoipa::path(get, path = "/clients", tag = "clients", operation_id = "listClients",
    params(
        ("q" = Option<String>, Query, description = "Part of the name or slug, any case"),
        ("plan" = Option<String>, Query, description = "Plan code of the current contract"),
        ("state" = Option<String>, Query, description = "State of the current contract: active, paused, offboarding, ended"),
        ("owner" = Option<String>, Query, description = "Email of the technical owner (a staff user)"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of client summaries", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<ClientSummary>>, Problem> {
    params.allow(&["q", "plan", "state", "owner", "page", "per_page"]);
    let search = params.text("q");
    let contract_state = params.parsed("state", ContractState::parse);
    let plan = plans::plan_filter(&state.store, &mut params).await?;
    let owner_id = match params.parsed("owner", Email::parse) {
        None => None,
        Some(email) => match state.store.user_by_email(&email).await? {
            Some(user) => Some(user.id),
            None => {
                params.reject("owner", format!("no staff user has the email {email}"));
                None
            }
        },
    };
    let page = params.page();
    params.finish()?;
    let filter = ClientFilter {
        search,
        plan,
        state: contract_state,
        owner_id,
    };
    Ok(Json(state.store.list_clients(&filter, page).await?))
}

/// Create a client, and its first contract in the same transaction when `contract` is
/// given: both are stored or neither is.
#[utoipa::path(post, path = "/clients", tag = "clients", operation_id = "createClient",
    request_body(content = super::openapi::NewClient),
    responses((status = 201, description = "Created; Location names the client", body = serde_json::Value),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let mut body = Body::object(value)?;
    let mut errors = FieldErrors::new();
    let contract_body = body.take_object("contract", &mut errors);
    let client_draft = body.onto(&ClientDraft::default(), "", &mut errors);
    let contract_draft =
        contract_body.and_then(|b| b.onto(&ContractDraft::default(), "contract", &mut errors));
    let input = client_draft.and_then(|d| d.parse().map_err(|e| absorb(&mut errors, "", &e)).ok());
    let today = today_in(input.as_ref().map_or("", |i| i.timezone.as_str()));
    let contract = contract_draft.and_then(|d| {
        d.parse(today)
            .map_err(|e| absorb(&mut errors, "contract", &e))
            .ok()
    });
    let input = finish(input, errors)?;

    let store = &state.store;
    let actor = caller.actor();
    // Dropping the transaction on an error rolls it back, so an unknown plan leaves
    // no client behind.
    let mut tx = store.begin().await?;
    let id = store.insert_client(&mut tx, &actor, &input).await?;
    if let Some(contract) = &contract {
        store
            .insert_contract(&mut tx, &actor, id, contract)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(e) => {
                    let mut errors = FieldErrors::new();
                    absorb(&mut errors, "contract", &e);
                    Problem::validation(&errors)
                }
                other => Problem::from(other),
            })?;
    }
    tx.commit().await?;
    let client = store.client_by_id(id).await?;
    let location = format!("{BASE}/clients/{}", client.slug);
    Ok(created(location, view(store, client).await?))
}

/// A client with its current contract and contacts.
#[utoipa::path(get, path = "/clients/{slug}", tag = "clients", operation_id = "getClient",
    params(("slug" = String, Path, description = "The client's slug")),
    responses((status = 200, description = "The client", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
) -> Result<Json<ClientView>, Problem> {
    let client = state.store.client_by_slug(&slug, false).await?;
    Ok(Json(view(&state.store, client).await?))
}

/// Replace a client: every field takes the body's value or its default (the slug
/// stays what it was unless the body gives one).
#[utoipa::path(put, path = "/clients/{slug}", tag = "clients", operation_id = "replaceClient",
    params(("slug" = String, Path, description = "The client's slug")),
    request_body(content = super::openapi::ClientFields),
    responses((status = 200, description = "The changed client", body = serde_json::Value),
        (status = 409, description = "The new slug is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<ClientView>, Problem> {
    caller.require_write()?;
    // Look the client up first so an unknown slug is a 404, not a list of field errors.
    let current = state.store.client_by_slug(&slug, false).await?;
    // Left out, the slug would be suggested anew from the name: the client's address
    // would move without being asked to.
    let base = ClientDraft {
        slug: current.slug.clone(),
        ..ClientDraft::default()
    };
    save(&state, &caller, &current, value, &base).await
}

/// Change some of a client's fields: those the body names (null restores a default).
#[utoipa::path(patch, path = "/clients/{slug}", tag = "clients", operation_id = "patchClient",
    params(("slug" = String, Path, description = "The client's slug")),
    request_body(content = super::openapi::ClientFields, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The changed client", body = serde_json::Value),
        (status = 409, description = "The new slug is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<ClientView>, Problem> {
    caller.require_write()?;
    let current = state.store.client_by_slug(&slug, false).await?;
    let base = draft_of(&current);
    save(&state, &caller, &current, value, &base).await
}

async fn save(
    state: &AppState,
    caller: &ApiCaller,
    current: &Client,
    value: Value,
    base: &ClientDraft,
) -> Result<Json<ClientView>, Problem> {
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(base, "", &mut errors);
    let input = finish(draft, errors)?.parse()?;
    let client = state
        .store
        .update_client(&caller.actor(), &current.slug, &input)
        .await?;
    Ok(Json(view(&state.store, client).await?))
}

/// Delete a client (soft: `restore` undoes it). Refused with 409 while a contract has
/// not ended.
#[utoipa::path(delete, path = "/clients/{slug}", tag = "clients", operation_id = "deleteClient",
    params(("slug" = String, Path, description = "The client's slug")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "A contract has not ended", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
) -> Result<Response, Problem> {
    caller.require_write()?;
    state.store.delete_client(&caller.actor(), &slug).await?;
    Ok(deleted())
}

/// Undo a delete.
#[utoipa::path(post, path = "/clients/{slug}/restore", tag = "clients", operation_id = "restoreClient",
    params(("slug" = String, Path, description = "The client's slug")),
    responses((status = 200, description = "The restored client", body = serde_json::Value)))]
pub async fn restore(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
) -> Result<Json<ClientView>, Problem> {
    caller.require_write()?;
    let client = state.store.restore_client(&caller.actor(), &slug).await?;
    Ok(Json(view(&state.store, client).await?))
}

/// Everything stored about a client (deleted ones too) as one document: client,
/// contacts, contracts with plan history, their plans and the audit log.
#[utoipa::path(get, path = "/clients/{slug}/export", tag = "clients", operation_id = "exportClient",
    params(("slug" = String, Path, description = "The client's slug")),
    responses((status = 200, description = "The export (format tend.client-export.v1)", body = serde_json::Value)))]
pub async fn export(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
) -> Result<Json<ClientExport>, Problem> {
    Ok(Json(state.store.export_client(&slug).await?))
}
