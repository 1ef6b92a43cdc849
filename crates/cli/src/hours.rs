//! `tend log`, `tend hours`, `tend close-month` and `tend billing`: the hour bank from
//! the command line.

use jiff::civil::Date;
use jiff::Timestamp;
use tend_domain::forecast::Forecast;
use tend_domain::hour_alerts::DepletedChoice;
use tend_domain::minutes::Minutes;
use tend_domain::rounding::parse_logged;
use tend_domain::ticket::TicketNumber;
use tend_store::hours::{billing_csv, sheet_csv, LogTime, PeriodPick};
use tend_store::{Actor, Store, StoreError};

use crate::failure::{Failure, NotFoundAs};
use crate::table::Table;

fn actor() -> Actor {
    Actor::system("cli")
}

fn h(m: Minutes) -> String {
    format!("{}h", m.as_hours_text())
}

fn period(raw: Option<&str>) -> Result<Option<PeriodPick>, Failure> {
    raw.map(|r| PeriodPick::parse(r).map_err(|e| Failure::new(format!("period: {e}"))))
        .transpose()
}

pub struct LogArgs {
    pub duration: String,
    pub ticket: String,
    pub work_type: String,
    pub note: Vec<String>,
    pub date: Option<String>,
    pub after_limit: Option<String>,
}

pub async fn log(store: &Store, args: LogArgs) -> Result<String, Failure> {
    let actual = parse_logged(&args.duration).map_err(|e| Failure::new(e.to_string()))?;
    let ticket = TicketNumber::parse(&args.ticket)
        .map_err(|_| {
            Failure::new(format!(
                "\"{}\" is not a ticket number (for example 42 or #42)",
                args.ticket
            ))
        })?
        .0;
    let work_date = args
        .date
        .as_deref()
        .map(|d| {
            d.trim()
                .parse::<Date>()
                .map_err(|_| Failure::new(format!("date: \"{d}\" is not a date like 2026-11-05")))
        })
        .transpose()?;
    let after_limit = args
        .after_limit
        .as_deref()
        .map(|c| DepletedChoice::parse(c).map_err(|e| Failure::new(format!("after-limit: {e}"))))
        .transpose()?;
    let input = LogTime {
        ticket,
        actual,
        work_type: args.work_type,
        note: args.note.join(" "),
        work_date,
        after_limit,
        user_id: None,
    };
    let logged = match store.log_time(&actor(), &input, Timestamp::now()).await {
        Err(StoreError::Invalid(f)) if f.get("after_limit").is_some() => {
            return Err(Failure::new(format!(
                "{}; log it again with --after-limit overage|defer|upgrade",
                f.get("after_limit").unwrap_or_default()
            )))
        }
        other => other.not_found_as(|| format!("there is no ticket #{ticket}"))?,
    };
    let e = &logged.entry;
    let mut out = format!(
        "Logged {} on #{} as {} ({}): bills {}.\n",
        Minutes(e.actual.0),
        e.ticket,
        e.work_type,
        e.charge,
        Minutes(e.billable.0)
    );
    match e.bank_state.as_str() {
        "waiting" => out.push_str(&format!(
            "Deferred: it draws from the hours that refresh on {}.\n",
            e.period_start
        )),
        "drawn" => {
            out.push_str(&format!(
                "From the bank {}, overage {}. Used {} of {}, remaining {}.\n",
                h(logged.from_bank),
                h(logged.overage),
                h(logged.summary.consumed()),
                h(logged.summary.available),
                h(logged.summary.remaining)
            ));
        }
        _ => out.push_str(&format!("Billed at {}/hour.\n", e.rate)),
    }
    for a in &logged.alerts {
        out.push_str(&format!(
            "Alert: {} % of the period's hours used; the owner is told and a draft to the billing contact waits in the outbox.\n",
            a.threshold.percent()
        ));
    }
    Ok(out)
}

pub async fn hours(
    store: &Store,
    slug: &str,
    raw_period: Option<&str>,
    csv: bool,
) -> Result<String, Failure> {
    let pick = period(raw_period)?;
    let now = Timestamp::now();
    let missing = || format!("there is no client {slug}");
    let sheet = store
        .hour_sheet(slug, pick, now)
        .await
        .not_found_as(missing)?;
    if csv {
        return Ok(sheet_csv(&sheet));
    }
    let bank = store
        .hour_bank(slug, pick, now)
        .await
        .not_found_as(missing)?;
    let s = &bank.summary;
    let mut out = format!(
        "{} ({}) — {} hour bank, {}{}\n\
         Available {} (granted {}, carried in {}, adjusted {}); used {}, overage {}; remaining {}{}\n",
        bank.client_name,
        bank.client_slug,
        bank.plan_code,
        bank.period,
        if bank.closed { " (closed)" } else { "" },
        h(s.available),
        h(s.granted),
        h(s.carried_in),
        h(s.adjusted),
        h(s.used),
        h(s.overage),
        h(s.remaining),
        bank.share_used_percent
            .map(|p| format!(" ({p} % used)"))
            .unwrap_or_default(),
    );
    if bank.closed {
        out.push_str(&format!(
            "Closed: carried out {}, expired {}\n",
            h(s.carried_out),
            h(s.expired)
        ));
    } else {
        out.push_str(&format!("Forecast: {}\n", forecast_text(&bank.forecast)));
    }
    out.push('\n');
    let mut t = Table::new(&["DATE", "TASK", "TIME", "RUNNING TOTAL", "NOTES", "CHARGE"]);
    for r in &sheet.rows {
        let time = if r.actual == r.time {
            h(r.time)
        } else {
            format!("{} ({} worked)", h(r.time), h(r.actual))
        };
        let notes = if r.note.is_empty() {
            r.work_type.clone()
        } else {
            format!("{} - {}", r.work_type, r.note)
        };
        t.row(vec![
            r.date.to_string(),
            format!("#{} {}", r.ticket, r.task),
            time,
            h(r.running_total),
            notes,
            if r.deferred {
                format!("{} (deferred)", r.charge)
            } else {
                r.charge.clone()
            },
        ]);
    }
    if sheet.rows.is_empty() {
        out.push_str("No time logged in this period.\n");
    } else {
        out.push_str(&t.render());
    }
    Ok(out)
}

pub fn forecast_text(f: &Forecast) -> String {
    match f {
        Forecast::NoUsage => "no usage yet".into(),
        Forecast::AlreadyOut => "the hours are used up".into(),
        Forecast::RunsOut { on, per_day } => {
            format!("at {} a day the hours run out on {on}", h(*per_day))
        }
        Forecast::Lasts { projected, per_day } => format!(
            "at {} a day the hours last the period ({} used by its end)",
            h(*per_day),
            h(*projected)
        ),
    }
}

pub async fn close_month(
    store: &Store,
    dry_run: bool,
    as_of: Option<&str>,
) -> Result<String, Failure> {
    let now = match as_of {
        Some(raw) => {
            let date: Date = raw.trim().parse().map_err(|_| {
                Failure::new(format!("as-of: \"{raw}\" is not a date like 2027-01-05"))
            })?;
            date.to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|e| Failure::new(format!("as-of: {e}")))?
                .timestamp()
        }
        None => Timestamp::now(),
    };
    let report = store.close_month(now, dry_run).await?;
    let mut out = String::new();
    if !report.closed.is_empty() {
        let mut t = Table::new(&[
            "CLIENT",
            "PERIOD",
            "PLAN",
            "UNUSED",
            "CARRIED",
            "EXPIRED",
            "NEXT OPENS WITH",
        ]);
        for c in &report.closed {
            t.row(vec![
                c.client_slug.clone(),
                c.period.to_string(),
                if c.plan_code == c.next_plan_code {
                    c.plan_code.clone()
                } else {
                    format!("{} → {}", c.plan_code, c.next_plan_code)
                },
                h(c.unused),
                h(c.carried),
                h(c.expired),
                h(Minutes(c.carried.0 + c.next_grant.0)),
            ]);
        }
        out.push_str(&t.render());
    }
    if let Some((contract, why)) = report.failed.first() {
        return Err(Failure::new(format!(
            "{report}; contract {contract} could not be closed: {why}"
        )));
    }
    out.push_str(&format!(
        "{report}{}\n",
        if dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    ));
    Ok(out)
}

pub async fn billing(store: &Store, raw_period: &str, csv: bool) -> Result<String, Failure> {
    let pick = PeriodPick::parse(raw_period).map_err(|e| Failure::new(format!("period: {e}")))?;
    let billing = store.billing(pick).await?;
    if csv {
        return Ok(billing_csv(&billing));
    }
    let mut t = Table::new(&[
        "CLIENT",
        "PERIOD",
        "PLAN",
        "FEE",
        "INCLUDED",
        "OVERAGE",
        "EMERGENCY",
        "OTHER",
        "TOTAL",
    ]);
    for l in &billing.lines {
        t.row(vec![
            l.client_slug.clone(),
            l.period.to_string(),
            l.plan_code.clone(),
            l.plan_fee.to_string(),
            h(l.included_used),
            format!("{} = {}", h(l.overage), l.overage_amount),
            format!("{} = {}", h(l.emergency), l.emergency_amount),
            format!("{} = {}", h(l.other_billable), l.other_amount),
            l.total.to_string(),
        ]);
    }
    let mut out = t.render();
    out.push_str(&format!("Total for {}: {}\n", billing.month, billing.total));
    Ok(out)
}
