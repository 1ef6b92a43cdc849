//! `/plans`: support tiers as data (fee, hours, rollover, rates, SLA targets).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde_json::Value;
use tend_domain::page::Page;
use tend_domain::plan::{parse_plan_code, target_key, PlanDraft, Severity, TargetKind};
use tend_domain::FieldErrors;
use tend_store::plans::Plan;
use tend_store::{Store, StoreError};

use super::body::{finish, Body};
use super::params::{Params, PathText};
use super::{created, deleted, page_of, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// The `plan` query parameter of a list: a plan code that exists, or an error naming
/// the parameter (an unknown code would otherwise quietly match nothing).
pub async fn plan_filter(store: &Store, params: &mut Params) -> Result<Option<String>, Problem> {
    let Some(code) = params.parsed("plan", parse_plan_code) else {
        return Ok(None);
    };
    match store.plan_by_code(&code).await {
        Ok(plan) => Ok(Some(plan.terms.code)),
        Err(StoreError::NotFound(_)) => {
            params.reject("plan", format!("there is no plan with code {code}"));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Every plan, cheapest first.
#[utoipa::path(get, path = "/plans", tag = "plans", operation_id = "listPlans",
    params(
        ("page" = Option<u32>, Query, description = "Page number, from 1"),
        ("per_page" = Option<u32>, Query, description = "Items per page, 1 to 200 (default 25)"),
    ),
    responses((status = 200, description = "A page of plans", body = super::openapi::PageOf)))]
pub async fn list(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<Page<Plan>>, Problem> {
    params.allow(&["page", "per_page"]);
    let page = params.page();
    params.finish()?;
    Ok(Json(page_of(state.store.list_plans().await?, page)))
}

/// A plan with its SLA targets and how many live contracts use it.
#[utoipa::path(get, path = "/plans/{code}", tag = "plans", operation_id = "getPlan",
    params(("code" = String, Path, description = "The plan's code, any case")),
    responses((status = 200, description = "The plan", body = serde_json::Value)))]
pub async fn show(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(code): PathText,
) -> Result<Json<Plan>, Problem> {
    Ok(Json(state.store.plan_by_code(&code).await?))
}

/// Create a plan.
#[utoipa::path(post, path = "/plans", tag = "plans", operation_id = "createPlan",
    request_body(content = super::openapi::PlanFields),
    responses((status = 201, description = "Created; Location names the plan", body = serde_json::Value),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(value): ApiJson<Value>,
) -> Result<Response, Problem> {
    caller.require_owner()?;
    let terms = read(value, &PlanDraft::default())?;
    let plan = state.store.create_plan(&caller.actor(), &terms).await?;
    let location = format!("{BASE}/plans/{}", plan.terms.code);
    Ok(created(location, plan))
}

/// Replace a plan's terms; contracts on it follow the new terms from now on.
#[utoipa::path(put, path = "/plans/{code}", tag = "plans", operation_id = "replacePlan",
    params(("code" = String, Path, description = "The plan's code")),
    request_body(content = super::openapi::PlanFields),
    responses((status = 200, description = "The changed plan", body = serde_json::Value),
        (status = 409, description = "The new code is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(code): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Plan>, Problem> {
    caller.require_owner()?;
    let current = state.store.plan_by_code(&code).await?;
    // As with a client's slug, the code in the path stays unless the body changes it.
    let base = PlanDraft {
        code: current.terms.code.clone(),
        ..PlanDraft::default()
    };
    let terms = read(value, &base)?;
    let plan = state
        .store
        .update_plan(&caller.actor(), &current.terms.code, &terms)
        .await?;
    Ok(Json(plan))
}

/// Change some of a plan's terms; `targets` merge by key.
#[utoipa::path(patch, path = "/plans/{code}", tag = "plans", operation_id = "patchPlan",
    params(("code" = String, Path, description = "The plan's code")),
    request_body(content = super::openapi::PlanFields, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The changed plan", body = serde_json::Value),
        (status = 409, description = "The new code is taken", body = Problem, content_type = "application/problem+json")))]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(code): PathText,
    ApiJson(value): ApiJson<Value>,
) -> Result<Json<Plan>, Problem> {
    caller.require_owner()?;
    let current = state.store.plan_by_code(&code).await?;
    let terms = read(value, &PlanDraft::from_terms(&current.terms))?;
    let plan = state
        .store
        .update_plan(&caller.actor(), &current.terms.code, &terms)
        .await?;
    Ok(Json(plan))
}

/// Delete a plan no contract has ever used (409 otherwise: a used plan is history).
#[utoipa::path(delete, path = "/plans/{code}", tag = "plans", operation_id = "deletePlan",
    params(("code" = String, Path, description = "The plan's code")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "A contract uses the plan", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(code): PathText,
) -> Result<Response, Problem> {
    caller.require_owner()?;
    state.store.delete_plan(&caller.actor(), &code).await?;
    Ok(deleted())
}

/// A plan body merged onto `base` and parsed into terms. Target keys the plan does
/// not know are refused (the draft would drop them without a word).
fn read(value: Value, base: &PlanDraft) -> Result<tend_domain::plan::PlanTerms, Problem> {
    let mut errors = FieldErrors::new();
    let draft = Body::object(value)?.onto(base, "", &mut errors);
    let draft = finish(draft, errors)?;
    let known: Vec<String> = Severity::ALL
        .iter()
        .flat_map(|s| TargetKind::ALL.iter().map(|k| target_key(*s, *k)))
        .collect();
    let mut errors = FieldErrors::new();
    for key in draft.targets.keys().filter(|k| !known.contains(k)) {
        errors.add(
            &format!("targets.{key}"),
            format!("is not a target (known: {})", known.join(", ")),
        );
    }
    if !errors.is_empty() {
        return Err(Problem::validation(&errors));
    }
    Ok(draft.parse()?)
}
