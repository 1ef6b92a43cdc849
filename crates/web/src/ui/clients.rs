//! The clients list (search, filters, pagination) and the create / edit forms.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::client::ClientDraft;
use tend_domain::contract::{BillingPeriod, ContractDraft, ContractState, SupportModel};
use tend_domain::page::{Page, PageRequest};
use tend_domain::FieldErrors;
use tend_store::clients::{ClientFilter, ClientSummary};
use tend_store::users::User;

use crate::auth::Staff;
use crate::ui::view::{
    field_errors, is_htmx, refused, render, timezone_names, today_in, Errors, Nav,
};
use crate::ui::UiError;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    page: Option<u32>,
}

impl ListQuery {
    /// The query string for another page of the same filtered list.
    fn page_link(&self, page: u32) -> String {
        let enc = crate::auth::urlencode;
        format!(
            "/clients?q={}&plan={}&state={}&owner={}&page={page}",
            enc(&self.q),
            enc(&self.plan),
            enc(&self.state),
            enc(&self.owner)
        )
    }
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    nav: Nav,
    table: ClientsTable,
    plans: Vec<String>,
    states: Vec<&'static str>,
    owners: Vec<User>,
}

#[derive(Template)]
#[template(path = "clients_table.html")]
struct ClientsTable {
    query: ListQuery,
    page: Page<ClientSummary>,
    notice: Option<String>,
    prev_link: String,
    next_link: String,
    filtered: bool,
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Response, UiError> {
    let mut notice = None;
    let contract_state = match query.state.trim() {
        "" => None,
        raw => match ContractState::parse(raw) {
            Ok(s) => Some(s),
            Err(e) => {
                notice = Some(format!("Filter ignored: {e}"));
                None
            }
        },
    };
    let owner_id = query.owner.trim().parse::<i64>().ok();
    let filter = ClientFilter {
        search: Some(query.q.clone()),
        plan: Some(query.plan.clone()),
        state: contract_state,
        owner_id,
    };
    let page = state
        .store
        .list_clients(&filter, PageRequest::new(query.page, None))
        .await?;
    let filtered = !(query.q.trim().is_empty()
        && query.plan.is_empty()
        && query.state.is_empty()
        && query.owner.is_empty());
    let table = ClientsTable {
        prev_link: query.page_link(page.page.saturating_sub(1).max(1)),
        next_link: query.page_link(page.page + 1),
        query,
        page,
        notice,
        filtered,
    };
    if is_htmx(&headers) {
        return render(&table);
    }
    let plans = state.store.plan_codes().await?;
    let owners = state.store.list_users().await?;
    render(&ClientsPage {
        nav: Nav::new(&staff, "clients"),
        table,
        plans,
        states: ContractState::ALL.iter().map(|s| s.as_str()).collect(),
        owners,
    })
}

/// The client form, also used for editing; `contract` is shown only when creating.
#[derive(Template)]
#[template(path = "client_form.html")]
struct ClientForm {
    nav: Nav,
    creating: bool,
    action: String,
    cancel: String,
    client: ClientDraft,
    contract: ContractDraft,
    errors: Errors,
    plans: Vec<String>,
    owners: Vec<User>,
    models: Vec<&'static str>,
    periods: Vec<&'static str>,
    zones: &'static [String],
    /// Where the .ics upload goes (editing only), and why the last one was refused.
    import_action: Option<String>,
    import_error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ClientFormData {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    owner_email: String,
    #[serde(default)]
    business_hours: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    support_model: String,
    #[serde(default)]
    stabilization_weeks: String,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    billing_period: String,
}

impl ClientFormData {
    fn client(&self) -> ClientDraft {
        ClientDraft {
            name: self.name.clone(),
            slug: self.slug.clone(),
            timezone: self.timezone.clone(),
            business_hours: self.business_hours.clone(),
            holidays: self.holidays.clone(),
            owner_email: self.owner_email.clone(),
            notes: self.notes.clone(),
        }
    }

    fn contract(&self) -> ContractDraft {
        ContractDraft {
            plan: self.plan.clone(),
            support_model: self.support_model.clone(),
            stabilization_weeks: self.stabilization_weeks.clone(),
            start_date: self.start_date.clone(),
            billing_period: self.billing_period.clone(),
            renewal_date: String::new(),
            state: String::new(),
        }
    }
}

/// Where the form posts and where Cancel goes.
struct FormLinks {
    action: String,
    cancel: String,
}

impl FormLinks {
    fn new_client() -> Self {
        Self {
            action: "/clients".into(),
            cancel: "/clients".into(),
        }
    }

    fn edit(slug: &str) -> Self {
        Self {
            action: format!("/clients/{slug}/edit"),
            cancel: format!("/clients/{slug}"),
        }
    }
}

async fn form_page(
    state: &AppState,
    staff: &Staff,
    creating: bool,
    links: FormLinks,
    client: ClientDraft,
    contract: ContractDraft,
    errors: FieldErrors,
) -> Result<ClientForm, UiError> {
    Ok(ClientForm {
        nav: Nav::new(staff, "clients"),
        creating,
        action: links.action,
        cancel: links.cancel,
        client,
        contract,
        errors: Errors(errors),
        plans: state.store.plan_codes().await?,
        owners: state.store.list_users().await?,
        models: SupportModel::ALL.iter().map(|m| m.as_str()).collect(),
        periods: BillingPeriod::ALL.iter().map(|p| p.as_str()).collect(),
        zones: timezone_names(),
        import_action: None,
        import_error: None,
    })
}

/// The stored client as its edit form shows it.
fn edit_draft(c: &tend_store::clients::Client) -> ClientDraft {
    ClientDraft {
        name: c.name.clone(),
        slug: c.slug.clone(),
        timezone: c.timezone.clone(),
        business_hours: c.hours.to_text(),
        holidays: tend_domain::calendar::holidays_text(&c.holidays),
        owner_email: c
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        notes: c.notes.clone(),
    }
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    slug: &str,
    draft: ClientDraft,
    errors: FieldErrors,
    import_error: Option<String>,
) -> Result<ClientForm, UiError> {
    let mut form = form_page(
        state,
        staff,
        false,
        FormLinks::edit(slug),
        draft,
        ContractDraft::default(),
        errors,
    )
    .await?;
    form.import_action = Some(format!("/clients/{slug}/holidays/import"));
    form.import_error = import_error;
    Ok(form)
}

/// The edit form again, with why an .ics upload was refused (422).
pub(super) async fn edit_with_import_error(
    state: &AppState,
    staff: &Staff,
    client: &tend_store::clients::Client,
    message: String,
) -> Result<Response, UiError> {
    refused(
        &edit_page(
            state,
            staff,
            &client.slug,
            edit_draft(client),
            FieldErrors::new(),
            Some(message),
        )
        .await?,
    )
}

pub async fn new_form(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    staff.require_write()?;
    let client = ClientDraft {
        timezone: staff.user.timezone.clone(),
        ..Default::default()
    };
    let contract = ContractDraft {
        plan: "GROWTH".into(),
        support_model: "monthly-retainer".into(),
        billing_period: "monthly".into(),
        ..Default::default()
    };
    render(
        &form_page(
            &state,
            &staff,
            true,
            FormLinks::new_client(),
            client,
            contract,
            FieldErrors::new(),
        )
        .await?,
    )
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<ClientFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let (client_draft, contract_draft) = (f.client(), f.contract());
    let mut errors = FieldErrors::new();
    let client = client_draft.parse().map_err(|e| errors.merge(e)).ok();
    let today = today_in(if f.timezone.trim().is_empty() {
        "UTC"
    } else {
        f.timezone.trim()
    });
    let contract = contract_draft
        .parse(today)
        .map_err(|e| errors.merge(e))
        .ok();
    if let (Some(client), Some(contract)) = (&client, &contract) {
        let actor = staff.actor();
        let created = async {
            let mut tx = state.store.begin().await?;
            let id = state.store.insert_client(&mut tx, &actor, client).await?;
            state
                .store
                .insert_contract(&mut tx, &actor, id, contract)
                .await?;
            tx.commit().await
        }
        .await;
        match created {
            Ok(()) => return Ok(Redirect::to(&format!("/clients/{}", client.slug)).into_response()),
            Err(e) => errors.merge(field_errors(e)?),
        }
    }
    refused(
        &form_page(
            &state,
            &staff,
            true,
            FormLinks::new_client(),
            client_draft,
            contract_draft,
            errors,
        )
        .await?,
    )
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let c = state.store.client_by_slug(&slug, false).await?;
    render(
        &edit_page(
            &state,
            &staff,
            &c.slug,
            edit_draft(&c),
            FieldErrors::new(),
            None,
        )
        .await?,
    )
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<ClientFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let draft = f.client();
    let errors = match draft.parse() {
        Ok(input) => match state
            .store
            .update_client(&staff.actor(), &slug, &input)
            .await
        {
            Ok(client) => {
                return Ok(Redirect::to(&format!("/clients/{}", client.slug)).into_response())
            }
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    refused(&edit_page(&state, &staff, &slug, draft, errors, None).await?)
}
