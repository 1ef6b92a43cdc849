//! `/contracts` and `/clients/{slug}/contracts`: a client on a plan over time, with the
//! history of its plan changes.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use jiff::civil::Date;
use serde_json::Value;
use tend_domain::contract::{ContractDraft, ContractState};
use tend_domain::page::Page;
use tend_domain::FieldErrors;
use tend_store::contracts::{Contract, PlanChange};

use super::body::{finish, Body};
use super::params::{parse_id, Params, PathText};
use super::{created, deleted, page_of, plans, today_in, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// The stored contract as the draft that would store it again, the base of a PATCH.
fn draft_of(contract: &Contract) -> ContractDraft {
    ContractDraft {
        plan: contract.plan_code.clone(),
        support_model: contract.support_model.as_str().to_string(),
        stabilization_weeks: contract
            .stabilization_weeks
            .map(|w| w.to_string())
            .unwrap_or_default(),
        start_date: contract.start_date.to_string(),
        billing_period: contract.billing_period.as_str().to_string(),
        renewal_date: contract.renewal_date.to_string(),
        state: contract.state.as_str().to_string(),
    }
}

/// Every contract, newest first.
#[utoipa::path(get, path = "/contracts", tag = "contracts", operation_id = "listContracts",
    params(
        ("state" = Option<String>, Query, description = "active, paused, offboarding or ended"),
        ("plan" = Option<String>, Query, description = "A plan code"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of contracts", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<Contract>>, Problem> {
    params.allow(&["state", "plan", "page", "per_page"]);
    let contract_state = params.parsed("state", ContractState::parse);
    let plan = plans::plan_filter(&state.store, &mut params).await?;
    let page = params.page();
    params.finish()?;
    Ok(Json(
        state
            .store
            .list_contracts(contract_state, plan.as_deref(), page)
            .await?,
    ))
}

/// A client's contracts, newest (current) first.
#[utoipa::path(get, path = "/clients/{slug}/contracts", tag = "contracts", operation_id = "listClientContracts",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of contracts", body = super::openapi::PageOf)))]
pub async fn for_client(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Json<Page<Contract>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let contracts = state.store.client_contracts(client.id).await?;
    Ok(Json(page_of(contracts, page)))
}

/// Start a contract for a client (409 while another one has not ended). The start
/// date defaults to today in the client's timezone.
#[utoipa::path(post, path = "/clients/{slug}/contracts", tag = "contracts", operation_id = "createContract",
    params(("slug" = String, Path, description = "The client's slug")),
    request_body(content = super::openapi::ContractFields),
    responses((status = 201, description = "Created; Location names the contract", body = serde_json::Value),
        (status = 409, description = "The client has a contract that has not ended", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(&ContractDraft::default(), "", &mut errors);
    let input = finish(draft, errors)?.parse(today_in(&client.timezone))?;
    let contract = state
        .store
        .create_contract(&caller.actor(), client.id, &input)
        .await?;
    Ok(created(
        format!("{BASE}/contracts/{}", contract.id),
        contract,
    ))
}

/// A contract.
#[utoipa::path(get, path = "/contracts/{id}", tag = "contracts", operation_id = "getContract",
    params(("id" = i64, Path, description = "The contract's id")),
    responses((status = 200, description = "The contract", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Json<Contract>, Problem> {
    let id = parse_id(&id, "contract")?;
    Ok(Json(state.store.contract_by_id(id).await?))
}

/// Replace a contract's terms. A plan change is recorded in the plan history as of
/// `effective_date` (default: today in the client's timezone).
#[utoipa::path(put, path = "/contracts/{id}", tag = "contracts", operation_id = "replaceContract",
    params(("id" = i64, Path, description = "The contract's id")),
    request_body(content = super::openapi::ContractChange),
    responses((status = 200, description = "The changed contract", body = serde_json::Value)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Contract>, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contract")?;
    let current = state.store.contract_by_id(id).await?;
    save(&state, &caller, &current, value, &ContractDraft::default()).await
}

/// Change some of a contract's fields (`{"state": "ended"}` ends it).
#[utoipa::path(patch, path = "/contracts/{id}", tag = "contracts", operation_id = "patchContract",
    params(("id" = i64, Path, description = "The contract's id")),
    request_body(content = super::openapi::ContractChange, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The changed contract", body = serde_json::Value)))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Contract>, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contract")?;
    let current = state.store.contract_by_id(id).await?;
    let base = draft_of(&current);
    save(&state, &caller, &current, value, &base).await
}

async fn save(
    state: &AppState,
    caller: &ApiCaller,
    current: &Contract,
    value: Value,
    base: &ContractDraft,
) -> Result<Json<Contract>, Problem> {
    let client = state.store.client_by_id(current.client_id).await?;
    let today = today_in(&client.timezone);
    let mut body = Body::object(value)?;
    let mut errors = FieldErrors::new();
    let effective = match body.take("effective_date") {
        None => Some(today),
        Some(Value::String(raw)) => errors.check(
            "effective_date",
            raw.trim()
                .parse::<Date>()
                .map_err(|_| format!("\"{raw}\" is not a date like 2026-11-01")),
        ),
        Some(other) => {
            errors.add(
                "effective_date",
                format!("must be a date like 2026-11-01, not {other}"),
            );
            None
        }
    };
    let draft = body.onto(base, "", &mut errors);
    let (draft, effective) = finish(draft.zip(effective), errors)?;
    let input = draft.parse(today)?;
    let contract = state
        .store
        .update_contract(&caller.actor(), current.id, &input, effective)
        .await?;
    Ok(Json(contract))
}

/// Delete a contract that has ended (409 while it is live: end it instead).
#[utoipa::path(delete, path = "/contracts/{id}", tag = "contracts", operation_id = "deleteContract",
    params(("id" = i64, Path, description = "The contract's id")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "The contract has not ended", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(id): PathText,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let id = parse_id(&id, "contract")?;
    state.store.delete_contract(&caller.actor(), id).await?;
    Ok(deleted())
}

/// The plans a contract has been on, oldest first.
#[utoipa::path(get, path = "/contracts/{id}/plan-history", tag = "contracts", operation_id = "getPlanHistory",
    params(
        ("id" = i64, Path, description = "The contract's id"),
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of plan changes", body = super::openapi::PageOf)))]
pub async fn plan_history(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(id): PathText,
    mut params: Params,
) -> Result<Json<Page<PlanChange>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    let id = parse_id(&id, "contract")?;
    state.store.contract_by_id(id).await?;
    Ok(Json(page_of(state.store.plan_history(id).await?, page)))
}
