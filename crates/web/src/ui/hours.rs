//! The hour bank in the staff UI: the panel on the client page (usage bar, remaining,
//! forecast), the hour tracking sheet with its CSV, the log-time form on the ticket page
//! (with the choice the SOP asks for once the hours are used up), owners' adjustments
//! and the month-close preview.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;
use tend_domain::forecast::Forecast;
use tend_domain::hour_alerts::{DepletedChoice, HoursThreshold};
use tend_domain::ledger::PeriodSummary;
use tend_domain::minutes::Minutes;
use tend_domain::rounding::parse_logged;
use tend_domain::FieldErrors;
use tend_store::hours::{sheet_csv, ClosedPeriod, HourBank, LogTime, PeriodPick, Sheet};
use tend_store::tickets::Ticket;
use tend_store::StoreError;

use crate::auth::Staff;
use crate::ui::view::{field_errors, local_time, render, Errors, Nav};
use crate::ui::UiError;
use crate::AppState;

pub fn h(m: Minutes) -> String {
    format!("{} h", m.as_hours_text())
}

/// The forecast in a sentence.
pub fn forecast_text(f: &Forecast) -> String {
    match f {
        Forecast::NoUsage => "No included work yet this period.".into(),
        Forecast::AlreadyOut => "The hours are used up.".into(),
        Forecast::RunsOut { on, per_day } => {
            format!("At {} a day the hours run out on {on}.", h(*per_day))
        }
        Forecast::Lasts { projected, per_day } => format!(
            "At {} a day the hours last the period (about {} used by its end).",
            h(*per_day),
            h(*projected)
        ),
    }
}

/// The client page's hour-bank panel.
pub struct HourPanel {
    pub slug: String,
    pub plan: String,
    pub period: String,
    pub available: String,
    pub used: String,
    pub overage: String,
    pub remaining: String,
    pub carried_in: String,
    /// Share used, 0 to 100, for the bar's width.
    pub bar: u32,
    pub percent: String,
    /// ok, warn (75 % or more) or out (100 %).
    pub level: &'static str,
    pub forecast: String,
    pub runs_out: Option<String>,
    /// Drafted emails to the billing contact waiting for review: id, to, subject.
    pub drafts: Vec<(i64, String, String)>,
}

/// How full a bank is, for its colour: ok, warn (75 % or more) or out (100 %).
pub fn bank_level(s: &PeriodSummary) -> &'static str {
    if HoursThreshold::Depleted.reached(s.consumed(), s.available) {
        "out"
    } else if HoursThreshold::ThreeQuarters.reached(s.consumed(), s.available) {
        "warn"
    } else {
        "ok"
    }
}

impl HourPanel {
    pub fn new(bank: &HourBank) -> Self {
        let s = &bank.summary;
        let percent = s.share_used_percent();
        let level = bank_level(s);
        Self {
            slug: bank.client_slug.clone(),
            plan: bank.plan_code.clone(),
            period: bank.period.to_string(),
            available: h(s.available),
            used: h(s.used),
            overage: h(s.overage),
            remaining: h(s.remaining),
            carried_in: h(s.carried_in),
            bar: percent.unwrap_or(0).min(100),
            percent: percent
                .map(|p| format!("{p} %"))
                .unwrap_or_else(|| "no hours".into()),
            level,
            forecast: forecast_text(&bank.forecast),
            runs_out: bank.forecast.runs_out_on().map(|d| d.to_string()),
            drafts: Vec::new(),
        }
    }
}

/// The panel for a client, or why there is none (no live contract).
pub async fn hour_panel(
    state: &AppState,
    slug: &str,
) -> Result<Result<HourPanel, String>, UiError> {
    match state.store.hour_bank(slug, None, Timestamp::now()).await {
        Ok(bank) => {
            let mut panel = HourPanel::new(&bank);
            let client = state.store.client_by_slug(slug, false).await?;
            panel.drafts = state
                .store
                .client_drafts(client.id)
                .await?
                .into_iter()
                .map(|m| (m.id, m.recipient, m.subject))
                .collect();
            Ok(Ok(panel))
        }
        Err(StoreError::Guarded(why)) => Ok(Err(why)),
        Err(e) => Err(e.into()),
    }
}

/// One time entry on the ticket page.
pub struct TimeRow {
    pub date: String,
    pub who: String,
    pub work_type: String,
    pub actual: String,
    pub billable: String,
    pub charge: String,
    pub note: String,
    pub state: &'static str,
}

/// The log-time form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TimeDraft {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub work_type: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub after_limit: String,
}

/// The ticket page's time section.
pub struct TimePanel {
    pub entries: Vec<TimeRow>,
    pub total_actual: String,
    pub total_billable: String,
    /// (code, label with coverage)
    pub work_types: Vec<(String, String)>,
    pub draft: TimeDraft,
    pub errors: Errors,
    /// Set once the period's hours are used up: what the staff member must choose.
    pub depleted: Option<String>,
    /// (value, label) of the choices after 100 %.
    pub choices: Vec<(&'static str, String)>,
    /// Why time cannot be logged (no live contract).
    pub unavailable: Option<String>,
}

/// What the ticket page shows after a refused log-time form.
#[derive(Default)]
pub struct TimeFeedback {
    pub draft: TimeDraft,
    pub errors: FieldErrors,
}

pub async fn time_panel(
    state: &AppState,
    t: &Ticket,
    feedback: Option<TimeFeedback>,
) -> Result<TimePanel, UiError> {
    let now = Timestamp::now();
    let entries = state.store.ticket_time(t.number).await?;
    let total_actual = Minutes(entries.iter().map(|e| e.actual.0).sum());
    let total_billable = Minutes(entries.iter().map(|e| e.billable.0).sum());
    let rows = entries
        .into_iter()
        .map(|e| TimeRow {
            date: e.work_date.to_string(),
            who: e.author,
            work_type: e.work_type,
            actual: e.actual.to_string(),
            billable: e.billable.to_string(),
            charge: e.charge,
            note: e.note,
            state: match e.bank_state.as_str() {
                "waiting" => "deferred",
                "drawn" => "from the bank",
                _ => "billed",
            },
        })
        .collect();
    let feedback = feedback.unwrap_or_default();
    let (work_types, depleted, choices, unavailable) = match state
        .store
        .work_types_for_ticket(t.number, now)
        .await
    {
        Ok(types) => {
            let bank = state.store.hour_bank(&t.client_slug, None, now).await?;
            let s = &bank.summary;
            let depleted = HoursThreshold::Depleted
                    .reached(s.consumed(), s.available)
                    .then(|| {
                        format!(
                            "The {} of this period are used up. Included work now needs a choice the client agreed to.",
                            h(s.available)
                        )
                    });
            let choices = vec![
                (
                    DepletedChoice::Overage.as_str(),
                    format!("Overage: bill it now at {}/hour", bank.overage_rate),
                ),
                (
                    DepletedChoice::Defer.as_str(),
                    format!(
                        "Defer: draw it from the hours that refresh on {}",
                        bank.period.end
                    ),
                ),
                (
                    DepletedChoice::Upgrade.as_str(),
                    "Approved upgrade: draw it from the next period, on the new plan".into(),
                ),
            ];
            let types = types
                .iter()
                .map(|w| {
                    (
                        w.code.to_string(),
                        format!("{} ({})", w.label, w.coverage.as_str()),
                    )
                })
                .collect();
            (types, depleted, choices, None)
        }
        Err(StoreError::Guarded(why)) => (Vec::new(), None, Vec::new(), Some(why)),
        Err(e) => return Err(e.into()),
    };
    let depleted = depleted.or_else(|| {
        feedback
            .errors
            .get("after_limit")
            .map(|_| "The hours of this period are used up.".to_string())
    });
    Ok(TimePanel {
        entries: rows,
        total_actual: total_actual.to_string(),
        total_billable: total_billable.to_string(),
        work_types,
        draft: feedback.draft,
        errors: Errors(feedback.errors),
        depleted,
        choices,
        unavailable,
    })
}

/// Reads the log-time form; what cannot be read is reported by field.
fn parse_time(number: i64, d: &TimeDraft, user_id: i64) -> Result<LogTime, FieldErrors> {
    let mut e = FieldErrors::new();
    let actual = e.check("duration", parse_logged(&d.duration));
    let work_date = match d.date.trim() {
        "" => None,
        raw => e.check(
            "date",
            raw.parse::<jiff::civil::Date>()
                .map_err(|_| format!("\"{raw}\" is not a date like 2026-11-05")),
        ),
    };
    if d.work_type.trim().is_empty() {
        e.add("work_type", "choose the kind of work");
    }
    let after_limit = match d.after_limit.trim() {
        "" => None,
        raw => e.check("after_limit", DepletedChoice::parse(raw)),
    };
    match actual {
        Some(actual) if e.is_empty() => Ok(LogTime {
            ticket: number,
            actual,
            work_type: d.work_type.clone(),
            note: d.note.clone(),
            work_date,
            after_limit,
            user_id: Some(user_id),
        }),
        _ => Err(e),
    }
}

/// POST /tickets/{number}/time: logs the time, or shows the form again with what to fix.
pub async fn log_time(
    State(state): State<AppState>,
    staff: Staff,
    Path(number): Path<i64>,
    Form(d): Form<TimeDraft>,
) -> Result<Response, UiError> {
    staff.check_csrf(&d.csrf)?;
    staff.require_write()?;
    let errors = match parse_time(number, &d, staff.user.id) {
        Err(e) => e,
        Ok(input) => match state
            .store
            .log_time(&staff.actor(), &input, Timestamp::now())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/tickets/{number}#time")).into_response()),
            Err(e) => field_errors(e)?,
        },
    };
    crate::ui::ticket_page::refused_time(&state, &staff, number, TimeFeedback { draft: d, errors })
        .await
}

#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    pub period: String,
}

fn pick(q: &PeriodQuery) -> Result<Option<PeriodPick>, UiError> {
    match q.period.trim() {
        "" => Ok(None),
        raw => PeriodPick::parse(raw).map(Some).map_err(UiError::Conflict),
    }
}

pub struct SheetRowView {
    pub date: String,
    pub ticket: i64,
    pub task: String,
    pub time: String,
    pub actual: String,
    pub running_total: String,
    pub notes: String,
    pub charge: String,
}

#[derive(Template)]
#[template(path = "hours_sheet.html")]
struct SheetPage {
    nav: Nav,
    panel: HourPanel,
    sheet: Sheet,
    rows: Vec<SheetRowView>,
    closed: Option<(String, String)>,
    period_param: String,
    previous: String,
    next: String,
    adjust_minutes: String,
    adjust_reason: String,
    adjust_errors: Errors,
}

async fn sheet_page(
    state: &AppState,
    staff: &Staff,
    slug: &str,
    pick: Option<PeriodPick>,
    adjust: Option<(AdjustForm, FieldErrors)>,
) -> Result<SheetPage, UiError> {
    let now = Timestamp::now();
    let bank = state.store.hour_bank(slug, pick, now).await?;
    let sheet = state.store.hour_sheet(slug, pick, now).await?;
    let rows = sheet
        .rows
        .iter()
        .map(|r| SheetRowView {
            date: r.date.to_string(),
            ticket: r.ticket,
            task: r.task.clone(),
            time: h(r.time),
            actual: h(r.actual),
            running_total: h(r.running_total),
            notes: if r.note.is_empty() {
                r.work_type.clone()
            } else {
                format!("{} - {}", r.work_type, r.note)
            },
            charge: if r.deferred {
                format!("{} (deferred)", r.charge)
            } else {
                r.charge.clone()
            },
        })
        .collect();
    let closed = bank
        .closed
        .then(|| (h(bank.summary.carried_out), h(bank.summary.expired)));
    let previous = bank
        .period
        .start
        .yesterday()
        .map(|d| d.to_string())
        .unwrap_or_default();
    let (adjust_form, adjust_errors) = adjust.unwrap_or_default();
    Ok(SheetPage {
        nav: Nav::new(staff, "clients"),
        panel: HourPanel::new(&bank),
        period_param: bank.period.start.to_string(),
        previous,
        next: bank.period.end.to_string(),
        closed,
        rows,
        sheet,
        adjust_minutes: adjust_form.minutes,
        adjust_reason: adjust_form.reason,
        adjust_errors: Errors(adjust_errors),
    })
}

/// GET /clients/{slug}/hours: the hour tracking sheet of a period.
pub async fn sheet(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, UiError> {
    let pick = pick(&q)?;
    render(&sheet_page(&state, &staff, &slug, pick, None).await?)
}

/// GET /clients/{slug}/hours/sheet.csv
pub async fn sheet_csv_file(
    State(state): State<AppState>,
    _staff: Staff,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, UiError> {
    let pick = pick(&q)?;
    let sheet = state
        .store
        .hour_sheet(&slug, pick, Timestamp::now())
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"hours-{}-{}.csv\"",
                    sheet.client_slug, sheet.period.start
                ),
            ),
        ],
        sheet_csv(&sheet),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

fn signed(raw: &str) -> Result<Minutes, String> {
    let t = raw.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    Minutes::parse(rest)
        .map(|m| Minutes(sign * m.0))
        .map_err(|e| e.to_string())
}

/// POST /clients/{slug}/hours/adjustments (owners only).
pub async fn adjust(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
    Form(f): Form<AdjustForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    if !staff.user.role.can_edit_plans() {
        return Err(UiError::Forbidden(
            "Only an owner can adjust a client's hours.".into(),
        ));
    }
    let errors = match signed(&f.minutes) {
        Err(e) => FieldErrors::single("minutes", e),
        Ok(minutes) => match state
            .store
            .adjust_hours(&staff.actor(), &slug, minutes, &f.reason, Timestamp::now())
            .await
        {
            Ok(_) => return Ok(Redirect::to(&format!("/clients/{slug}/hours")).into_response()),
            Err(e) => field_errors(e)?,
        },
    };
    crate::ui::view::refused(&sheet_page(&state, &staff, &slug, None, Some((f, errors))).await?)
}

pub struct CloseRow {
    pub client: String,
    pub slug: String,
    pub period: String,
    pub plan: String,
    pub unused: String,
    pub carried: String,
    pub expired: String,
    pub opens_with: String,
}

fn close_rows(closed: &[ClosedPeriod]) -> Vec<CloseRow> {
    closed
        .iter()
        .map(|c| CloseRow {
            client: c.client_name.clone(),
            slug: c.client_slug.clone(),
            period: c.period.to_string(),
            plan: if c.plan_code == c.next_plan_code {
                c.plan_code.clone()
            } else {
                format!("{} → {}", c.plan_code, c.next_plan_code)
            },
            unused: h(c.unused),
            carried: h(c.carried),
            expired: h(c.expired),
            opens_with: h(Minutes(c.carried.0 + c.next_grant.0)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "month_close.html")]
struct MonthClosePage {
    nav: Nav,
    rows: Vec<CloseRow>,
    failed: Vec<(i64, String)>,
    done: bool,
    last_run: Option<String>,
}

fn require_owner(staff: &Staff) -> Result<(), UiError> {
    if staff.user.role.can_edit_plans() {
        Ok(())
    } else {
        Err(UiError::Forbidden(
            "Only an owner can see and run the month close.".into(),
        ))
    }
}

async fn last_run(state: &AppState, tz: &str) -> Result<Option<String>, UiError> {
    Ok(state
        .store
        .job_runs()
        .await?
        .into_iter()
        .find(|r| r.0 == "month-close")
        .map(|r| {
            format!(
                "{} by {}: {}",
                local_time(r.3, tz),
                r.2,
                r.5.unwrap_or_else(|| "running".into())
            )
        }))
}

/// GET /month-close: what the close would do now (owners only; writes nothing).
pub async fn month_close_preview(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, UiError> {
    require_owner(&staff)?;
    let report = state.store.close_month(Timestamp::now(), true).await?;
    render(&MonthClosePage {
        nav: Nav::new(&staff, "clients"),
        rows: close_rows(&report.closed),
        failed: report.failed,
        done: false,
        last_run: last_run(&state, &staff.user.timezone).await?,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// POST /month-close: closes now what has ended (what the hourly job does).
pub async fn month_close(
    State(state): State<AppState>,
    staff: Staff,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    staff.check_csrf(&f.csrf)?;
    require_owner(&staff)?;
    let report = state.store.close_month(Timestamp::now(), false).await?;
    render(&MonthClosePage {
        nav: Nav::new(&staff, "clients"),
        rows: close_rows(&report.closed),
        failed: report.failed,
        done: true,
        last_run: last_run(&state, &staff.user.timezone).await?,
    })
}
