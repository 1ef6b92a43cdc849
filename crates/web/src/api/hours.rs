//! The hour bank: time logged on tickets, a client's bank and hour tracking sheet,
//! owners' adjustments, the billing export and the month close.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use tend_domain::hour_alerts::DepletedChoice;
use tend_domain::minutes::Minutes;
use tend_domain::rounding::parse_logged;
use tend_domain::FieldErrors;
use tend_store::hours::{
    billing_csv, sheet_csv, Billing, CloseReport, HourBank, LogTime, Logged, PeriodPick, Sheet,
    TimeEntry,
};

use super::params::{Params, PathText};
use super::{created, BASE};
use crate::auth::ApiCaller;
use crate::problem::{ApiJson, Problem};
use crate::AppState;

/// A time entry as sent to `POST /tickets/{number}/time`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeBody {
    /// "1h30m", "90m", "1.5h", or a number of minutes.
    pub duration: Value,
    pub work_type: String,
    #[serde(default)]
    pub note: String,
    /// YYYY-MM-DD in the client's timezone; default today.
    #[serde(default)]
    pub date: Option<String>,
    /// overage, defer or upgrade: required for included work once the hours are used up.
    #[serde(default)]
    pub after_limit: Option<String>,
}

/// An adjustment as sent to `POST /clients/{slug}/hours/adjustments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentBody {
    /// Signed: "+2h", "-90m", or a number of minutes (negative takes hours away).
    pub minutes: Value,
    pub reason: String,
}

fn duration(value: &Value, errors: &mut FieldErrors) -> Option<Minutes> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(m) => errors.check("duration", parse_logged(&m.to_string())),
            None => {
                errors.add(
                    "duration",
                    "must be a whole number of minutes or text like 1h30m",
                );
                None
            }
        },
        Value::String(s) => errors.check("duration", parse_logged(s)),
        _ => {
            errors.add(
                "duration",
                "is required: text like 1h30m or a number of minutes",
            );
            None
        }
    }
}

fn signed_minutes(value: &Value) -> Result<Minutes, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .map(Minutes)
            .ok_or_else(|| "must be a whole number of minutes".to_string()),
        Value::String(s) => {
            let t = s.trim();
            let (sign, rest) = match t.strip_prefix('-') {
                Some(rest) => (-1, rest),
                None => (1, t.strip_prefix('+').unwrap_or(t)),
            };
            Minutes::parse(rest)
                .map(|m| Minutes(sign * m.0))
                .map_err(|e| e.to_string())
        }
        _ => Err("is required: text like +2h or -90m, or a number of minutes".into()),
    }
}

fn period_param(params: &mut Params) -> Option<PeriodPick> {
    params.parsed("period", PeriodPick::parse)
}

/// Log time on a ticket. Included work draws from the client's hour bank; once the
/// period's hours are used up it needs `after_limit` (422 naming the field otherwise).
#[utoipa::path(post, path = "/tickets/{number}/time", tag = "hours", operation_id = "logTime",
    params(("number" = i64, Path, description = "The ticket's number")),
    request_body(content = super::openapi::TimeFields),
    responses((status = 201, description = "Logged: the entry, what it drew from the bank and as overage, the alerts it fired and the period's summary", body = serde_json::Value)))]
pub async fn log_time(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(number): PathText,
    ApiJson(body): ApiJson<TimeBody>,
) -> Result<Response, Problem> {
    caller.require_write()?;
    let ticket = super::tickets::load(&state.store, &number).await?;
    let mut errors = FieldErrors::new();
    let actual = duration(&body.duration, &mut errors);
    let work_date = body.date.as_deref().and_then(|d| {
        errors.check(
            "date",
            d.trim()
                .parse::<jiff::civil::Date>()
                .map_err(|_| format!("\"{d}\" is not a date like 2026-11-05")),
        )
    });
    let after_limit = body
        .after_limit
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .and_then(|c| errors.check("after_limit", DepletedChoice::parse(c)));
    let Some(actual) = actual.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let input = LogTime {
        ticket: ticket.number,
        actual,
        work_type: body.work_type,
        note: body.note,
        work_date,
        after_limit,
        user_id: None,
    };
    let logged: Logged = state
        .store
        .log_time(&caller.actor(), &input, jiff::Timestamp::now())
        .await?;
    Ok(created(
        format!("{BASE}/tickets/{}/time", ticket.number),
        logged,
    ))
}

/// A ticket's time entries, oldest first.
#[utoipa::path(get, path = "/tickets/{number}/time", tag = "hours", operation_id = "listTime",
    params(("number" = i64, Path, description = "The ticket's number")),
    responses((status = 200, description = "The entries", body = serde_json::Value)))]
pub async fn ticket_time(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(number): PathText,
) -> Result<Json<Vec<TimeEntry>>, Problem> {
    let ticket = super::tickets::load(&state.store, &number).await?;
    Ok(Json(state.store.ticket_time(ticket.number).await?))
}

/// A client's hour bank for a period: summary, lots, forecast and the alerts sent.
#[utoipa::path(get, path = "/clients/{slug}/hours", tag = "hours", operation_id = "getHourBank",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("period" = Option<String>, Query, description = "A month (2026-11: the period starting in it) or a date inside the period; default the open period"),
    ),
    responses((status = 200, description = "The hour bank", body = serde_json::Value)))]
pub async fn bank(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Json<HourBank>, Problem> {
    params.allow(&["period"]);
    let pick = period_param(&mut params);
    params.finish()?;
    Ok(Json(
        state
            .store
            .hour_bank(&slug, pick, jiff::Timestamp::now())
            .await?,
    ))
}

/// The SOP's hour tracking sheet for a client and period, as JSON.
#[utoipa::path(get, path = "/clients/{slug}/hours/sheet", tag = "hours", operation_id = "getHourSheet",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("period" = Option<String>, Query, description = "A month (2026-11) or a date inside the period; default the open period"),
    ),
    responses((status = 200, description = "The sheet: date, task, time, running total, notes, included/billable", body = serde_json::Value)))]
pub async fn sheet(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Json<Sheet>, Problem> {
    params.allow(&["period"]);
    let pick = period_param(&mut params);
    params.finish()?;
    Ok(Json(
        state
            .store
            .hour_sheet(&slug, pick, jiff::Timestamp::now())
            .await?,
    ))
}

fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The hour tracking sheet as CSV, one row per time entry.
#[utoipa::path(get, path = "/clients/{slug}/hours/sheet.csv", tag = "hours", operation_id = "getHourSheetCsv",
    params(
        ("slug" = String, Path, description = "The client's slug"),
        ("period" = Option<String>, Query, description = "A month (2026-11) or a date inside the period; default the open period"),
    ),
    responses((status = 200, description = "text/csv", content_type = "text/csv", body = String)))]
pub async fn sheet_csv_file(
    State(state): State<AppState>,
    _caller: ApiCaller,
    PathText(slug): PathText,
    mut params: Params,
) -> Result<Response, Problem> {
    params.allow(&["period"]);
    let pick = period_param(&mut params);
    params.finish()?;
    let sheet = state
        .store
        .hour_sheet(&slug, pick, jiff::Timestamp::now())
        .await?;
    Ok(csv_response(
        &format!("hours-{}-{}.csv", sheet.client_slug, sheet.period.start),
        sheet_csv(&sheet),
    ))
}

/// Add hours to (or take them from) the client's open period, with a reason.
#[utoipa::path(post, path = "/clients/{slug}/hours/adjustments", tag = "hours", operation_id = "adjustHours",
    params(("slug" = String, Path, description = "The client's slug")),
    request_body(content = super::openapi::AdjustmentFields),
    responses((status = 201, description = "Adjusted: the hour bank after the adjustment", body = serde_json::Value)))]
pub async fn adjust(
    State(state): State<AppState>,
    caller: ApiCaller,
    PathText(slug): PathText,
    ApiJson(body): ApiJson<AdjustmentBody>,
) -> Result<Response, Problem> {
    caller.require_owner()?;
    let minutes = signed_minutes(&body.minutes)
        .map_err(|e| Problem::from(FieldErrors::single("minutes", e)))?;
    let bank = state
        .store
        .adjust_hours(
            &caller.actor(),
            &slug,
            minutes,
            &body.reason,
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(created(format!("{BASE}/clients/{slug}/hours"), bank))
}

/// The billing export for a month: per client the plan fee, included hours used,
/// overage, emergency and other billable work, in cents. `format=csv` gives one row per
/// line item.
#[utoipa::path(get, path = "/billing", tag = "hours", operation_id = "getBilling",
    params(
        ("period" = String, Query, description = "The month, 2026-11 (each contract's period starting in it)"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses((status = 200, description = "The export", body = serde_json::Value)))]
pub async fn billing(
    State(state): State<AppState>,
    _caller: ApiCaller,
    mut params: Params,
) -> Result<Response, Problem> {
    params.allow(&["period", "format"]);
    let pick = period_param(&mut params);
    let csv = params
        .parsed("format", |raw| match raw {
            "json" => Ok(false),
            "csv" => Ok(true),
            other => Err(format!("\"{other}\" is not a format (json or csv)")),
        })
        .unwrap_or(false);
    if params.text("period").is_none() {
        params.reject("period", "is required: a month like 2026-11");
    }
    params.finish()?;
    let pick = pick.ok_or_else(|| Problem::bad_request("period is required"))?;
    let billing: Billing = state.store.billing(pick).await?;
    if csv {
        return Ok(csv_response(
            &format!("billing-{}.csv", billing.month),
            billing_csv(&billing),
        ));
    }
    Ok(Json(billing).into_response())
}

/// Close every hour-bank period that has ended (what the hourly job does), or with
/// `dry_run=true` report what would close and write nothing.
#[utoipa::path(post, path = "/month-close", tag = "hours", operation_id = "closeMonth",
    params(("dry_run" = Option<bool>, Query, description = "true: preview only")),
    responses(
        (status = 200, description = "What was closed (or would be)", body = serde_json::Value),
    ))]
pub async fn month_close(
    State(state): State<AppState>,
    caller: ApiCaller,
    mut params: Params,
) -> Result<(StatusCode, Json<CloseReport>), Problem> {
    params.allow(&["dry_run"]);
    let dry_run = params
        .parsed("dry_run", |raw| match raw.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("\"{other}\" is not true or false")),
        })
        .unwrap_or(false);
    params.finish()?;
    if !dry_run {
        caller.require_write()?;
    }
    let report = state
        .store
        .close_month(jiff::Timestamp::now(), dry_run)
        .await?;
    Ok((StatusCode::OK, Json(report)))
}
