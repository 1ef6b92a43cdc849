//! `/attainment`: the share of first responses and resolutions met within target, per
//! client, plan or severity and per month, ISO week or quarter (the rules are
//! `tend_domain::attainment`'s).

use axum::extract::State;
use axum::Json;
use tend_domain::attainment::{parse_date, DateRange, GroupBy, Period};
use tend_store::attainment::{AttainmentQuery, AttainmentReport};

use super::params::Params;
use super::today_in;
use crate::auth::ApiCaller;
use crate::problem::Problem;
use crate::AppState;

/// SLA attainment as of now: for each group and period, how many first responses and
/// resolutions were met or missed, and the share met. A clock counts on the date (in
/// its client's timezone) its outcome was decided: when it was met, or when its target
/// ran out; clocks still open and not yet due are not counted. Without `from`, the range
/// is the period holding `to` and the two before it; without `to`, it ends today.
#[utoipa::path(get, path = "/attainment", tag = "attainment", operation_id = "getAttainment",
    params(
        ("by" = Option<String>, Query, description = "client (default), plan or severity"),
        ("period" = Option<String>, Query, description = "month (default), week (ISO, from Monday) or quarter"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (included)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (included); at most three years after `from`"),
        ("client" = Option<String>, Query, description = "Only this client (by slug)"),
    ),
    responses((status = 200, description = "Rows per group and period (`response` and `resolution` each with met, missed, total and share, null when nothing was decided), each group's totals, the overall total, and tickets that could not be measured", body = serde_json::Value)))]
pub async fn get(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Json<AttainmentReport>, Problem> {
    params.allow(&["by", "period", "from", "to", "client"]);
    let by = params
        .parsed("by", GroupBy::parse)
        .unwrap_or(GroupBy::Client);
    let period = params
        .parsed("period", Period::parse)
        .unwrap_or(Period::Month);
    let from = params.parsed("from", parse_date);
    let to = params.parsed("to", parse_date);
    let client = match params.text("client") {
        None => None,
        Some(slug) => match state.store.client_by_slug(&slug, false).await {
            Ok(client) => Some(client),
            Err(tend_store::StoreError::NotFound(_)) => {
                params.reject("client", format!("there is no client {slug}"));
                None
            }
            Err(other) => return Err(other.into()),
        },
    };
    let today = today_in(client.as_ref().map_or("", |c| c.timezone.as_str()));
    let range = DateRange::from_parts(from, to, period, today);
    let range = match range {
        Ok(range) => Some(range),
        Err(e) => {
            params.reject(if from.is_some() { "from" } else { "to" }, e.to_string());
            None
        }
    };
    params.finish()?;
    let Some(range) = range else {
        return Err(Problem::bad_request("the range is not understood"));
    };
    let query = AttainmentQuery {
        by,
        period,
        range,
        client_id: client.map(|c| c.id),
    };
    let report = state
        .store
        .attainment(&query, jiff::Timestamp::now())
        .await?;
    Ok(Json(report))
}
