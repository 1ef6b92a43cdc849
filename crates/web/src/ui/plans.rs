//! Plans: the agency's tiers as data. Everyone can read them; only owners edit them.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::plan::{target_key, Cadence, PlanDraft, Severity, TargetKind};
use tend_domain::FieldErrors;
use tend_store::plans::Plan;

use crate::auth::Staff;
use crate::ui::view::{field_errors, refused, render, rollover_text, sla_rows, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

pub struct PlanCard {
    plan: Plan,
    rollover: String,
    sla: Vec<(String, String, String, String)>,
    channels: String,
}

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    nav: Nav,
    cards: Vec<PlanCard>,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    let cards = state
        .store
        .list_plans()
        .await?
        .into_iter()
        .map(|plan| PlanCard {
            rollover: rollover_text(&plan.terms),
            sla: sla_rows(&plan.terms),
            channels: plan
                .terms
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            plan,
        })
        .collect();
    render(&PlansPage {
        nav: Nav::new(&staff, "plans"),
        cards,
    })
}

/// One input per severity and target kind, named like the draft's keys ("p0_response").
pub struct TargetInput {
    key: String,
    label: String,
    value: String,
}

#[derive(Template)]
#[template(path = "plan_form.html")]
struct PlanForm {
    nav: Nav,
    code: String,
    draft: PlanDraft,
    targets: Vec<TargetInput>,
    errors: Errors,
    cadences: Vec<&'static str>,
}

fn form(staff: &Staff, code: &str, draft: PlanDraft, errors: FieldErrors) -> PlanForm {
    let targets = Severity::ALL
        .iter()
        .flat_map(|s| TargetKind::ALL.iter().map(move |k| (*s, *k)))
        .map(|(s, k)| {
            let key = target_key(s, k);
            TargetInput {
                label: format!("{} {}", s.label(), k.as_str()),
                value: draft.targets.get(&key).cloned().unwrap_or_default(),
                key,
            }
        })
        .collect();
    PlanForm {
        nav: Nav::new(staff, "plans"),
        code: code.to_string(),
        draft,
        targets,
        errors: Errors(errors),
        cadences: Cadence::ALL.iter().map(|c| c.as_str()).collect(),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
) -> Result<Response, UiError> {
    staff.require_plan_editor()?;
    let plan = state.store.plan_by_code(&code).await?;
    render(&form(
        &staff,
        &plan.terms.code,
        PlanDraft::from_terms(&plan.terms),
        FieldErrors::new(),
    ))
}

/// The plan form as posted: plain fields plus one field per target.
#[derive(Deserialize)]
pub struct PlanFormData {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

impl PlanFormData {
    fn draft(&self) -> PlanDraft {
        let get = |k: &str| self.fields.get(k).cloned().unwrap_or_default();
        PlanDraft {
            code: get("code"),
            name: get("name"),
            monthly_fee: get("monthly_fee"),
            included_hours: get("included_hours"),
            rollover_max_hours: get("rollover_max_hours"),
            bank_max_hours: get("bank_max_hours"),
            overage_rate: get("overage_rate"),
            emergency_rate: get("emergency_rate"),
            increment_minutes: get("increment_minutes"),
            report_cadence: get("report_cadence"),
            checkin_cadence: get("checkin_cadence"),
            channels: get("channels"),
            emergency_included: self.fields.contains_key("emergency_included"),
            targets: Severity::ALL
                .iter()
                .flat_map(|s| TargetKind::ALL.iter().map(move |k| target_key(*s, *k)))
                .map(|key| (key.clone(), get(&key)))
                .collect(),
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Form(f): Form<PlanFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_plan_editor()?;
    let draft = f.draft();
    let errors = match draft.parse() {
        Ok(terms) => match state.store.update_plan(&staff.actor(), &code, &terms).await {
            Ok(_) => return Ok(Redirect::to("/plans").into_response()),
            Err(e) => field_errors(e)?,
        },
        Err(e) => e,
    };
    refused(&form(&staff, &code, draft, errors))
}
