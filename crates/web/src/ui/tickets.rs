//! The ranked backlog (filters, pagination, one client's queue) and the ticket form,
//! used both to open a ticket and to edit one.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tend_domain::backlog::{client_queue, rank, RankedRow};
use tend_domain::page::{Page, PageRequest, MAX_PAGE_SIZE};
use tend_domain::plan::Severity;
use tend_domain::ticket::{
    severity_guides, Impact, SeverityGuide, TicketDraft, TicketSource, TicketStatus,
};
use tend_domain::FieldErrors;
use tend_store::clients::{ClientFilter, ClientSummary};
use tend_store::tickets::{Ticket, TicketFilter};
use tend_store::users::User;
use tend_store::StoreError;

use crate::auth::{urlencode, Staff};
use crate::ui::view::{field_errors, is_htmx, refused, render, today_in, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct BacklogQuery {
    #[serde(default)]
    client: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    incomplete: String,
    /// Hours: only tickets whose SLA clock has breached ("0") or will within them.
    #[serde(default)]
    sla: String,
    #[serde(default)]
    page: Option<u32>,
}

/// The SLA filter's choices: (hours, label).
const SLA_CHOICES: &[(&str, &str)] = &[
    ("0", "Breached"),
    ("1", "Breaching within 1 h"),
    ("4", "Breaching within 4 h"),
    ("8", "Breaching within 8 h"),
    ("24", "Breaching within 24 h"),
];

impl BacklogQuery {
    fn page_link(&self, page: u32) -> String {
        format!(
            "/tickets?client={}&owner={}&status={}&severity={}&incomplete={}&sla={}&page={page}",
            urlencode(&self.client),
            urlencode(&self.owner),
            urlencode(&self.status),
            urlencode(&self.severity),
            urlencode(&self.incomplete),
            urlencode(&self.sla)
        )
    }

    fn incomplete_only(&self) -> bool {
        !self.incomplete.trim().is_empty()
    }

    fn filtered(&self) -> bool {
        !(self.client.is_empty()
            && self.owner.is_empty()
            && self.status.is_empty()
            && self.severity.is_empty()
            && self.sla.is_empty()
            && !self.incomplete_only())
    }
}

/// One line of the backlog: a ticket, its place in the queue (open tickets only) and why.
pub struct BacklogRow {
    rank: Option<usize>,
    reason: String,
    ticket: Ticket,
    missing: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct BacklogPage {
    nav: Nav,
    table: BacklogTable,
    clients: Vec<ClientSummary>,
    owners: Vec<User>,
    statuses: Vec<(&'static str, &'static str)>,
    severities: Vec<(&'static str, &'static str)>,
    sla_choices: &'static [(&'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "tickets_table.html")]
struct BacklogTable {
    query: BacklogQuery,
    page: Page<BacklogRow>,
    notices: Vec<String>,
    /// The client whose queue this is, when `?client=` names one.
    client_name: Option<String>,
    prev_link: String,
    next_link: String,
    filtered: bool,
    can_write: bool,
}

/// A filter value that does not parse is ignored with a notice, not an error page.
fn filter_value<T, E: std::fmt::Display>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, E>,
    notices: &mut Vec<String>,
) -> Option<T> {
    match raw.trim() {
        "" => None,
        s => match parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                notices.push(format!("Filter ignored: {e}"));
                None
            }
        },
    }
}

pub(super) async fn client_choices(state: &AppState) -> Result<Vec<ClientSummary>, UiError> {
    let page = state
        .store
        .list_clients(
            &ClientFilter::default(),
            PageRequest::new(None, Some(MAX_PAGE_SIZE)),
        )
        .await?;
    Ok(page.items)
}

pub async fn backlog(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(query): Query<BacklogQuery>,
) -> Result<Response, UiError> {
    let mut notices = Vec::new();
    let status = filter_value(&query.status, TicketStatus::parse, &mut notices);
    let severity = filter_value(&query.severity, Severity::parse, &mut notices);
    let owner_id = filter_value(&query.owner, |s| s.parse::<i64>(), &mut notices);
    let sla_hours = filter_value(
        &query.sla,
        |s| match s.parse::<i64>() {
            Ok(h) if (0..=720).contains(&h) => Ok(h),
            _ => Err(format!("\"{s}\" is not a number of hours from 0 to 720")),
        },
        &mut notices,
    );
    let client = match query.client.trim() {
        "" => None,
        slug => match state.store.client_by_slug(slug, false).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound(_)) => {
                notices.push(format!("Filter ignored: there is no client {slug}"));
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let filter = TicketFilter {
        client_id: client.as_ref().map(|c| c.id),
        owner_id,
        status,
        // Without a status filter the backlog is the open work.
        open_only: status.is_none(),
        severity,
        incomplete: query.incomplete_only(),
    };
    let mut matching: std::collections::HashSet<i64> = state
        .store
        .ticket_numbers(&filter)
        .await?
        .into_iter()
        .collect();
    if let Some(hours) = sla_hours {
        let breaching = state
            .store
            .tickets_breaching_within(
                jiff::Timestamp::now(),
                jiff::SignedDuration::from_hours(hours),
            )
            .await?;
        matching.retain(|n| breaching.contains(n));
    }
    let today = today_in(
        client
            .as_ref()
            .map(|c| c.timezone.as_str())
            .unwrap_or(staff.user.timezone.as_str()),
    );
    let mut ranked = rank(&state.store.backlog_items().await?, today);
    if let Some(c) = &client {
        ranked = client_queue(&ranked, c.id);
    }
    // Ranked (open) tickets in queue order, then done ones newest first; only the page
    // shown is loaded in full.
    let mut order: Vec<(i64, Option<&RankedRow>)> = ranked
        .iter()
        .filter(|r| matching.contains(&r.id))
        .map(|r| (r.id, Some(r)))
        .collect();
    let ranked_ids: std::collections::HashSet<i64> = order.iter().map(|(id, _)| *id).collect();
    let mut done: Vec<i64> = matching
        .iter()
        .copied()
        .filter(|id| !ranked_ids.contains(id))
        .collect();
    done.sort_unstable_by(|a, b| b.cmp(a));
    order.extend(done.into_iter().map(|id| (id, None)));
    let request = PageRequest::new(query.page, None);
    let total = order.len() as i64;
    let shown: Vec<(i64, Option<&RankedRow>)> = order
        .into_iter()
        .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
        .take(request.per_page as usize)
        .collect();
    let numbers: Vec<i64> = shown.iter().map(|(id, _)| *id).collect();
    let tickets = state.store.tickets_by_numbers(&numbers).await?;
    let items: Vec<BacklogRow> = tickets
        .into_iter()
        .map(|ticket| {
            let place = shown
                .iter()
                .find(|(id, _)| *id == ticket.number)
                .and_then(|(_, r)| *r);
            BacklogRow {
                rank: place.map(|r| r.position),
                reason: place.map(|r| r.reason.to_string()).unwrap_or_default(),
                missing: ticket.missing().iter().map(|m| m.label()).collect(),
                ticket,
            }
        })
        .collect();
    let page = Page::new(items, request, total);
    let table = BacklogTable {
        prev_link: query.page_link(page.page.saturating_sub(1).max(1)),
        next_link: query.page_link(page.page + 1),
        filtered: query.filtered(),
        client_name: client.map(|c| c.name),
        query,
        page,
        notices,
        can_write: staff.user.role.can_write(),
    };
    if is_htmx(&headers) {
        return render(&table);
    }
    render(&BacklogPage {
        nav: Nav::new(&staff, "tickets"),
        table,
        clients: client_choices(&state).await?,
        owners: state.store.list_users().await?,
        statuses: TicketStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        sla_choices: SLA_CHOICES,
        severities: Severity::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    })
}

/// The ticket form, for a new ticket and for editing one (the client is then fixed).
#[derive(Template)]
#[template(path = "ticket_form.html")]
struct TicketForm {
    nav: Nav,
    creating: bool,
    action: String,
    cancel: String,
    /// On edit: the ticket's number and its client's name.
    heading: String,
    ticket: TicketDraft,
    errors: Errors,
    clients: Vec<ClientSummary>,
    owners: Vec<User>,
    sources: Vec<(&'static str, &'static str)>,
    guides: Vec<SeverityGuide>,
    impacts: Vec<&'static str>,
}

impl TicketForm {
    /// The impact chosen on one axis, for the shared select macro.
    fn selected_impact(&self, field: &str) -> &str {
        match field {
            "business_risk" => &self.ticket.business_risk,
            "revenue_impact" => &self.ticket.revenue_impact,
            "customer_effect" => &self.ticket.customer_effect,
            _ => "",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct TicketFormData {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    draft: TicketDraft,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    staff: &Staff,
    creating: bool,
    action: String,
    cancel: String,
    heading: String,
    ticket: TicketDraft,
    errors: FieldErrors,
) -> Result<TicketForm, UiError> {
    Ok(TicketForm {
        nav: Nav::new(staff, "tickets"),
        creating,
        action,
        cancel,
        heading,
        ticket,
        errors: Errors(errors),
        clients: client_choices(state).await?,
        owners: state.store.list_users().await?,
        sources: TicketSource::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        guides: severity_guides(),
        impacts: Impact::ALL.iter().map(|i| i.as_str()).collect(),
    })
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    client: String,
}

pub async fn new_form(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let draft = TicketDraft {
        client: q.client,
        source: TicketSource::Phone.as_str().into(),
        owner_email: staff.user.email.clone(),
        ..Default::default()
    };
    render(
        &form_page(
            &state,
            &staff,
            true,
            "/tickets".into(),
            "/tickets".into(),
            "New ticket".into(),
            draft,
            FieldErrors::new(),
        )
        .await?,
    )
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<TicketFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let errors = match f.draft.parse() {
        Ok(input) => match state.store.create_ticket(&staff.actor(), &input).await {
            Ok(t) => return Ok(Redirect::to(&format!("/tickets/{}", t.number)).into_response()),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    refused(
        &form_page(
            &state,
            &staff,
            true,
            "/tickets".into(),
            "/tickets".into(),
            "New ticket".into(),
            f.draft,
            errors,
        )
        .await?,
    )
}

/// The form filled with a stored ticket's values.
pub fn draft_of(t: &Ticket) -> TicketDraft {
    let text = |v: Option<&str>| v.unwrap_or_default().to_string();
    TicketDraft {
        client: t.client_slug.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        source: text(t.source.map(TicketSource::as_str)),
        severity: text(t.severity.map(Severity::as_str)),
        owner_email: t
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        blocked_by: t.dependencies.to_string(),
        expected_outcome: t.expected_outcome.clone(),
        next_action: t.next_action.clone(),
        acceptance_test: t.acceptance_test.clone(),
        business_risk: text(t.business_risk.map(Impact::as_str)),
        revenue_impact: text(t.revenue_impact.map(Impact::as_str)),
        customer_effect: text(t.customer_effect.map(Impact::as_str)),
        launch_deadline: t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
    }
}

fn edit_heading(t: &Ticket) -> String {
    format!("Edit #{} · {}", t.number, t.client_name)
}

pub async fn edit_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
) -> Result<Response, UiError> {
    staff.require_write()?;
    let t = state.store.ticket(number).await?;
    render(
        &form_page(
            &state,
            &staff,
            false,
            format!("/tickets/{number}/edit"),
            format!("/tickets/{number}"),
            edit_heading(&t),
            draft_of(&t),
            FieldErrors::new(),
        )
        .await?,
    )
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(f): Form<TicketFormData>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    staff.require_write()?;
    let current = state.store.ticket(number).await?;
    // A ticket stays with its client whatever the form says.
    let draft = TicketDraft {
        client: current.client_slug.clone(),
        ..f.draft
    };
    let errors = match draft.parse() {
        Ok(input) => match state
            .store
            .update_ticket(&staff.actor(), number, &input)
            .await
        {
            Ok(t) => return Ok(Redirect::to(&format!("/tickets/{}", t.number)).into_response()),
            Err(e) => field_errors(e)?,
        },
        Err(errors) => errors,
    };
    refused(
        &form_page(
            &state,
            &staff,
            false,
            format!("/tickets/{number}/edit"),
            format!("/tickets/{number}"),
            edit_heading(&current),
            draft,
            errors,
        )
        .await?,
    )
}
