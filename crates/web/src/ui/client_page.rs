//! One client's page: contract and plan, contacts, calendar, notes and audit trail,
//! with the forms that change them. Deleting asks first and can be undone.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::attainment::{Attained, DateRange, GroupBy, Period};
use tend_domain::contact::{ContactDraft, ContactRole};
use tend_domain::contract::{BillingPeriod, ContractDraft, ContractState, SupportModel};
use tend_domain::page::PageRequest;
use tend_domain::FieldErrors;
use tend_store::attainment::AttainmentQuery;
use tend_store::clients::Client;
use tend_store::contacts::Contact;
use tend_store::contracts::{Contract, PlanChange};
use tend_store::plans::Plan;
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{
    field_errors, local_time, refused, render, rollover_text, sla_rows, today_in, Errors, Nav,
};
use crate::ui::UiError;
use crate::AppState;

pub struct AuditRow {
    when: String,
    who: String,
    summary: String,
    changes: Vec<String>,
}

pub struct HistoryRow {
    when: String,
    text: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    nav: Nav,
    client: Client,
    contract: Option<Contract>,
    plan: Option<Plan>,
    sla: Vec<(String, String, String, String)>,
    rollover: String,
    history: Vec<HistoryRow>,
    contacts: Vec<Contact>,
    hours: Vec<(String, String)>,
    audit: Vec<AuditRow>,
    audit_total: i64,
    contact_draft: ContactDraft,
    contact_errors: Errors,
    contract_draft: ContractDraft,
    contract_errors: Errors,
    effective_date: String,
    plans: Vec<String>,
    states: Vec<&'static str>,
    models: Vec<&'static str>,
    periods: Vec<&'static str>,
    roles: Vec<&'static str>,
    /// SLA attainment in the last three months, by month (oldest first).
    attainment: Vec<(String, Attained)>,
    /// The hour-bank panel, or why there is none.
    bank: Option<crate::ui::hours::HourPanel>,
    bank_note: String,
}

fn contract_draft(c: &Contract) -> ContractDraft {
    ContractDraft {
        plan: c.plan_code.clone(),
        support_model: c.support_model.as_str().into(),
        stabilization_weeks: c
            .stabilization_weeks
            .map(|w| w.to_string())
            .unwrap_or_default(),
        start_date: c.start_date.to_string(),
        billing_period: c.billing_period.as_str().into(),
        renewal_date: c.renewal_date.to_string(),
        state: c.state.as_str().into(),
    }
}

fn history_text(h: &PlanChange) -> String {
    match &h.from_plan {
        Some(from) => format!(
            "{from} → {} from {} (by {})",
            h.to_plan, h.effective_date, h.changed_by
        ),
        None => format!(
            "started on {} from {} (by {})",
            h.to_plan, h.effective_date, h.changed_by
        ),
    }
}

/// Builds the page; the drafts and errors are those of a form being re-shown.
async fn page(
    state: &AppState,
    staff: &Staff,
    slug: &str,
    contact: Option<(ContactDraft, FieldErrors)>,
    contract_form: Option<(ContractDraft, String, FieldErrors)>,
) -> Result<ClientPage, UiError> {
    let client = state.store.client_by_slug(slug, true).await?;
    let contract = state
        .store
        .client_contracts(client.id)
        .await?
        .into_iter()
        .next();
    let plan = match &contract {
        Some(c) => Some(state.store.plan_by_code(&c.plan_code).await?),
        None => None,
    };
    let tz = staff.user.timezone.clone();
    let history = match &contract {
        Some(c) => state
            .store
            .plan_history(c.id)
            .await?
            .iter()
            .map(|h| HistoryRow {
                when: local_time(h.changed_at, &tz),
                text: history_text(h),
            })
            .collect(),
        None => Vec::new(),
    };
    let contacts = state.store.list_contacts(client.id).await?;
    let audit_page = state
        .store
        .client_audit(client.id, PageRequest::new(Some(1), Some(20)))
        .await?;
    let audit = audit_page
        .items
        .iter()
        .map(|a| AuditRow {
            when: local_time(a.at, &tz),
            who: a.actor_label.clone(),
            summary: a.summary.clone(),
            changes: a
                .changes
                .iter()
                .filter(|c| c.from.is_some())
                .map(|c| {
                    format!(
                        "{}: {} → {}",
                        c.field,
                        c.from.as_deref().unwrap_or(""),
                        c.to.as_deref().unwrap_or("")
                    )
                })
                .collect(),
        })
        .collect();
    let range = DateRange::last_periods(Period::Month, 3, today_in(&client.timezone));
    let attainment = state
        .store
        .attainment(
            &AttainmentQuery {
                by: GroupBy::Client,
                period: Period::Month,
                range,
                client_id: Some(client.id),
            },
            jiff::Timestamp::now(),
        )
        .await?
        .attainment
        .by_period(&client.slug)
        .into_iter()
        .map(|(key, attained)| (key.label, attained))
        .collect();
    let (contact_draft, contact_errors) = contact.unwrap_or_default();
    let (contract_draft, effective_date, contract_errors) = match contract_form {
        Some(f) => f,
        None => (
            contract.as_ref().map(contract_draft).unwrap_or_default(),
            today_in(&client.timezone).to_string(),
            FieldErrors::new(),
        ),
    };
    let (bank, bank_note) = if client.deleted {
        (None, "A deleted client has no hour bank.".to_string())
    } else {
        match crate::ui::hours::hour_panel(state, &client.slug).await? {
            Ok(panel) => (Some(panel), String::new()),
            Err(why) => (None, why),
        }
    };
    Ok(ClientPage {
        bank,
        bank_note,
        nav: Nav::new(staff, "clients"),
        hours: client.hours.rows(),
        sla: plan
            .as_ref()
            .map(|p| sla_rows(&p.terms))
            .unwrap_or_default(),
        rollover: plan
            .as_ref()
            .map(|p| rollover_text(&p.terms))
            .unwrap_or_default(),
        client,
        contract,
        plan,
        history,
        contacts,
        audit,
        audit_total: audit_page.total,
        contact_draft,
        contact_errors: Errors(contact_errors),
        contract_draft,
        contract_errors: Errors(contract_errors),
        effective_date,
        plans: state.store.plan_codes().await?,
        states: ContractState::ALL.iter().map(|s| s.as_str()).collect(),
        models: SupportModel::ALL.iter().map(|m| m.as_str()).collect(),
        periods: BillingPeriod::ALL.iter().map(|p| p.as_str()).collect(),
        roles: ContactRole::ALL.iter().map(|r| r.as_str()).collect(),
        attainment,
    })
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, UiError> {
    render(&page(&state, &staff, &slug, None, None).await?)
}

fn back(slug: &str) -> Response {
    Redirect::to(&format!("/clients/{slug}")).into_response()
}

fn as_field_errors(e: StoreError) -> Result<FieldErrors, UiError> {
    match e {
        StoreError::Guarded(message) => Ok(FieldErrors::single("form", message)),
        other => field_errors(other),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    draft: ContactDraft,
}

pub async fn add_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<ContactForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let errors = match f.draft.parse() {
        Ok(input) => match state
            .store
            .create_contact(&staff.actor(), client.id, &input)
            .await
        {
            Ok(_) => return Ok(back(&slug)),
            Err(e) => as_field_errors(e)?,
        },
        Err(errors) => errors,
    };
    refused(&page(&state, &staff, &slug, Some((f.draft, errors)), None).await?)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub async fn delete_contact(
    State(state): State<AppState>,
    staff: Staff,
    Path((slug, id)): Path<(String, i64)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let contact = state.store.contact_by_id(id).await?;
    // The id comes from the URL: it must belong to the client the URL names.
    if contact.client_id != client.id {
        return Err(UiError::NotFound(
            "There is no such contact for this client.".into(),
        ));
    }
    state.store.delete_contact(&staff.actor(), id).await?;
    Ok(back(&slug))
}

#[derive(Deserialize)]
pub struct ContractForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    effective_date: String,
    #[serde(flatten)]
    draft: ContractDraft,
}

pub async fn update_contract(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<ContractForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let today = today_in(&client.timezone);
    let mut errors = FieldErrors::new();
    let effective = match f.effective_date.trim() {
        "" => Some(today),
        raw => errors.check(
            "effective_date",
            raw.parse::<jiff::civil::Date>()
                .map_err(|_| format!("\"{raw}\" is not a date like 2026-11-01")),
        ),
    };
    let input = f.draft.parse(today).map_err(|e| errors.merge(e)).ok();
    if let (Some(input), Some(effective)) = (input, effective) {
        let current = state
            .store
            .client_contracts(client.id)
            .await?
            .into_iter()
            .next();
        let result = match current {
            Some(c) => state
                .store
                .update_contract(&staff.actor(), c.id, &input, effective)
                .await
                .map(|_| ()),
            None => state
                .store
                .create_contract(&staff.actor(), client.id, &input)
                .await
                .map(|_| ()),
        };
        match result {
            Ok(()) => return Ok(back(&slug)),
            Err(e) => errors.merge(as_field_errors(e)?),
        }
    }
    refused(
        &page(
            &state,
            &staff,
            &slug,
            None,
            Some((f.draft, f.effective_date, errors)),
        )
        .await?,
    )
}

#[derive(Template)]
#[template(path = "confirm_delete.html")]
struct ConfirmDelete {
    nav: Nav,
    client: Client,
    live_contract: bool,
}

pub async fn confirm_delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let client = state.store.client_by_slug(&slug, false).await?;
    let live_contract = state
        .store
        .client_contracts(client.id)
        .await?
        .iter()
        .any(|c| c.state.is_live());
    render(&ConfirmDelete {
        nav: Nav::new(&staff, "clients"),
        client,
        live_contract,
    })
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    state.store.delete_client(&staff.actor(), &slug).await?;
    Ok(back(&slug))
}

pub async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    state.store.restore_client(&staff.actor(), &slug).await?;
    Ok(back(&slug))
}

/// Everything stored about the client as one JSON file.
pub async fn export(
    State(state): State<AppState>,
    _staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, UiError> {
    let export = state.store.export_client(&slug).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(|_| UiError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"tend-{slug}.json\""),
            ),
        ],
        body,
    )
        .into_response())
}
