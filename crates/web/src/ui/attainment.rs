//! The SLA page: the share of first responses and resolutions met within target, one
//! table per client, plan or severity with a row per period, filtered by a GET form.
//! The numbers are `tend_domain::attainment`'s, the same the API and the CLI give.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use tend_domain::attainment::{parse_date, Attained, DateRange, GroupBy, Period};
use tend_domain::page::{PageRequest, MAX_PAGE_SIZE};
use tend_domain::FieldErrors;
use tend_store::attainment::{AttainmentQuery, Unmeasured};
use tend_store::clients::{ClientFilter, ClientSummary};

use crate::auth::Staff;
use crate::ui::view::{refused, render, today_in, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct SlaQuery {
    #[serde(default)]
    by: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    client: String,
}

/// One period of a group's table.
pub struct PeriodRow {
    label: String,
    dates: String,
    attained: Attained,
}

/// One group's table.
pub struct GroupTable {
    name: String,
    /// The client's page, when grouped by client.
    link: Option<String>,
    rows: Vec<PeriodRow>,
    total: Attained,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    nav: Nav,
    query: SlaQuery,
    errors: Errors,
    groupings: Vec<&'static str>,
    periods: Vec<&'static str>,
    clients: Vec<ClientSummary>,
    /// What the tables show, in words: "by client, per month, 2026-01-01 to 2026-03-15".
    heading: String,
    groups: Vec<GroupTable>,
    overall: Attained,
    unmeasured: Vec<Unmeasured>,
}

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Query(mut query): Query<SlaQuery>,
) -> Result<Response, UiError> {
    let mut errors = FieldErrors::new();
    let by = match query.by.trim() {
        "" => Some(GroupBy::Client),
        raw => errors.check("by", GroupBy::parse(raw)),
    };
    let period = match query.period.trim() {
        "" => Some(Period::Month),
        raw => errors.check("period", Period::parse(raw)),
    };
    let date = |errors: &mut FieldErrors, field: &str, raw: &str| match raw.trim() {
        "" => None,
        raw => errors.check(field, parse_date(raw)),
    };
    let from = date(&mut errors, "from", &query.from);
    let to = date(&mut errors, "to", &query.to);
    let client = match query.client.trim() {
        "" => None,
        slug => match state.store.client_by_slug(slug, false).await {
            Ok(c) => Some(c),
            Err(tend_store::StoreError::NotFound(_)) => {
                errors.add("client", format!("there is no client {slug}"));
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let today = today_in(
        client
            .as_ref()
            .map_or(staff.user.timezone.as_str(), |c| c.timezone.as_str()),
    );
    let range = match DateRange::from_parts(from, to, period.unwrap_or(Period::Month), today) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.add(if from.is_some() { "from" } else { "to" }, e.to_string());
            None
        }
    };
    let clients = state
        .store
        .list_clients(
            &ClientFilter::default(),
            PageRequest::new(None, Some(MAX_PAGE_SIZE)),
        )
        .await?
        .items;
    let mut page = SlaPage {
        nav: Nav::new(&staff, "sla"),
        query: SlaQuery::default(),
        errors: Errors::default(),
        groupings: GroupBy::ALL.iter().map(|g| g.as_str()).collect(),
        periods: Period::ALL.iter().map(|p| p.as_str()).collect(),
        clients,
        heading: String::new(),
        groups: Vec::new(),
        overall: Attained::default(),
        unmeasured: Vec::new(),
    };
    let (Some(by), Some(period), Some(range)) = (by, period, range) else {
        page.query = query;
        page.errors = Errors(errors);
        return refused(&page);
    };
    // Show the form as it was understood: the defaults filled in.
    query.by = by.as_str().into();
    query.period = period.as_str().into();
    query.from = range.from.to_string();
    query.to = range.to.to_string();
    let report = state
        .store
        .attainment(
            &AttainmentQuery {
                by,
                period,
                range,
                client_id: client.as_ref().map(|c| c.id),
            },
            jiff::Timestamp::now(),
        )
        .await?;
    let a = &report.attainment;
    page.groups = a
        .totals
        .iter()
        .map(|t| GroupTable {
            name: t.group.clone(),
            link: (by == GroupBy::Client).then(|| format!("/clients/{}", t.group)),
            rows: a
                .by_period(&t.group)
                .into_iter()
                .map(|(key, attained)| PeriodRow {
                    dates: format!("{} – {}", key.start.max(range.from), key.end.min(range.to)),
                    label: key.label,
                    attained,
                })
                .collect(),
            total: t.attained,
        })
        .collect();
    page.heading = format!(
        "By {}, per {}, {} to {}{}",
        by,
        period,
        range.from,
        range.to,
        client
            .as_ref()
            .map(|c| format!(", {} only", c.name))
            .unwrap_or_default()
    );
    page.overall = a.overall;
    page.unmeasured = report.unmeasured;
    page.query = query;
    render(&page)
}
