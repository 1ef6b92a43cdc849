//! SLA attainment over a range of dates: loads the history of every ticket whose
//! clocks may have been decided in it, evaluates the clocks with tend-domain's rules (the
//! same ones the ticket page uses) and groups the outcomes with its attainment rules.
//!
//! Three queries whatever the number of tickets: the clients that are served (with their
//! calendar and the plan of their live contract), the plans' targets, and the history of
//! the candidate tickets in one ordered list.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use tend_domain::attainment::{
    aggregate, outcome, Attainment, DateRange, DecidedClock, GroupBy, Period,
};
use tend_domain::business_time::BusinessHours;
use tend_domain::calendar::{parse_holidays, BusinessCalendar, WeeklyHours};
use tend_domain::plan::SlaTarget;
use tend_domain::sla_clock::{evaluate_clock, ClockContext, WarnShare};
use tend_domain::ticket_clocks::ticket_clock_histories;

use crate::row::parsed;
use crate::tickets::{moments, TicketEvent};
use crate::{
    bind_all, done_ticket_statuses, ended_contract_states, with_pool, Bind, Result, Store,
    StoreError,
};

/// What to measure: grouping, period, range and optionally one client.
#[derive(Debug, Clone, Copy)]
pub struct AttainmentQuery {
    pub by: GroupBy,
    pub period: Period,
    pub range: DateRange,
    pub client_id: Option<i64>,
}

/// A ticket whose clocks could not be evaluated, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Unmeasured {
    pub number: i64,
    pub reason: String,
}

/// Attainment with the tickets left out of it.
#[derive(Debug, Clone, Serialize)]
pub struct AttainmentReport {
    #[serde(flatten)]
    pub attainment: Attainment,
    /// Tickets whose clocks could not be evaluated (a client calendar with no business
    /// hours, say); they are in no count.
    pub unmeasured: Vec<Unmeasured>,
}

/// One event of a candidate ticket: ticket, client, at, kind, from, to.
type EventRow = (i64, i64, i64, String, Option<String>, Option<String>);

/// A client whose contract is still served: what its clocks are measured with.
struct Served {
    slug: String,
    plan: String,
    tz: TimeZone,
    hours: BusinessHours,
}

/// Midnight UTC of a date, in milliseconds.
fn utc_ms(date: Date) -> i64 {
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

impl Store {
    /// Attainment as of `now` (see `tend_domain::attainment` for the rules).
    pub async fn attainment(
        &self,
        query: &AttainmentQuery,
        now: Timestamp,
    ) -> Result<AttainmentReport> {
        let (clocks, unmeasured) = self
            .decided_clocks(query.range, query.client_id, now)
            .await?;
        Ok(AttainmentReport {
            attainment: aggregate(&clocks, query.by, query.period, query.range),
            unmeasured,
        })
    }

    /// Every clock decided within `range` (by the date in its client's timezone), as of
    /// `now`, with the tickets whose clocks could not be evaluated.
    pub async fn decided_clocks(
        &self,
        range: DateRange,
        client_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(Vec<DecidedClock>, Vec<Unmeasured>)> {
        let served = self.served_clients(client_id).await?;
        if served.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let targets: HashMap<String, Vec<SlaTarget>> = self
            .list_plans()
            .await?
            .into_iter()
            .map(|p| (p.terms.code, p.terms.sla))
            .collect();
        // The range in every timezone lies within a day of its UTC dates.
        let from_ms = utc_ms(range.from) - 86_400_000;
        let to_ms = utc_ms(range.to) + 2 * 86_400_000;
        let rows = self.candidate_events(from_ms, to_ms, client_id).await?;

        let mut clocks = Vec::new();
        let mut unmeasured = Vec::new();
        let mut start = 0;
        while start < rows.len() {
            let (ticket, client) = (rows[start].0, rows[start].1);
            let end = rows[start..]
                .iter()
                .position(|r| r.0 != ticket)
                .map_or(rows.len(), |n| start + n);
            let events: Vec<TicketEvent> = rows[start..end]
                .iter()
                .map(|(_, _, at, kind, from, to)| TicketEvent {
                    at: *at,
                    kind: kind.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    actor: String::new(),
                })
                .collect();
            start = end;
            let Some(c) = served.get(&client) else {
                continue;
            };
            let Some(sla) = targets.get(&c.plan) else {
                continue;
            };
            let ctx = ClockContext {
                hours: &c.hours,
                warn: WarnShare::default(),
            };
            for (kind, history) in ticket_clock_histories(&moments(&events), sla) {
                let status = match evaluate_clock(&history, ctx, now) {
                    Ok(s) => s,
                    Err(e) => {
                        unmeasured.push(Unmeasured {
                            number: ticket,
                            reason: e.to_string(),
                        });
                        break;
                    }
                };
                let Some((met, at)) = outcome(&status).decided() else {
                    continue;
                };
                let date = at.to_zoned(c.tz.clone()).date();
                if range.contains(date) {
                    clocks.push(DecidedClock {
                        kind,
                        met,
                        date,
                        client: c.slug.clone(),
                        plan: c.plan.clone(),
                        severity: history.target().severity,
                    });
                }
            }
        }
        Ok((clocks, unmeasured))
    }

    /// Clients that are not deleted and have a contract still served, by id, with the
    /// plan of their newest such contract (the one `clocks_of` measures with).
    async fn served_clients(&self, client_id: Option<i64>) -> Result<HashMap<i64, Served>> {
        let mut binds = Vec::new();
        let mut only = String::new();
        if let Some(id) = client_id {
            binds.push(Bind::Int(id));
            only = " AND c.id = $1".into();
        }
        let sql = format!(
            "SELECT c.id, c.slug, c.timezone, c.business_hours, c.holidays, p.code \
             FROM clients c JOIN contracts ct ON ct.client_id = c.id JOIN plans p ON p.id = ct.plan_id \
             WHERE c.deleted_at IS NULL AND ct.state NOT IN ({}){only} ORDER BY c.id, ct.id DESC",
            ended_contract_states()
        );
        type Row = (i64, String, String, String, String, String);
        let rows: Vec<Row> =
            with_pool!(&self.db, p => bind_all!(sqlx::query_as(&sql), &binds).fetch_all(p).await)?;
        let mut out = HashMap::new();
        for (id, slug, timezone, hours, holidays, plan) in rows {
            if out.contains_key(&id) {
                continue;
            }
            let calendar = BusinessCalendar {
                hours: parsed("business_hours", WeeklyHours::parse(&hours))?,
                holidays: parsed("holidays", parse_holidays(&holidays))?,
            };
            let tz = TimeZone::get(&timezone).unwrap_or(TimeZone::UTC);
            out.insert(
                id,
                Served {
                    slug,
                    plan,
                    hours: BusinessHours::new(&calendar, tz.clone()),
                    tz,
                },
            );
        }
        Ok(out)
    }

    /// The history of every ticket whose clocks may be decided between `from_ms` and
    /// `to_ms`, ordered by ticket: created before `to_ms` (a clock is decided after its
    /// start), and not both answered and resolved before `from_ms` (a stopped clock is
    /// decided at or before its stop). Tickets of deleted clients are left out.
    ///
    /// The events come back as one aggregated text (`;` between events, `,` between
    /// fields, which hold only numbers and the store's own names), because the SQLite
    /// driver hands rows over one at a time and 40,000 rows cost more than the query.
    async fn candidate_events(
        &self,
        from_ms: i64,
        to_ms: i64,
        client_id: Option<i64>,
    ) -> Result<Vec<EventRow>> {
        let done = done_ticket_statuses();
        let mut binds = vec![Bind::Int(from_ms), Bind::Int(to_ms)];
        let mut only = String::new();
        if let Some(id) = client_id {
            binds.push(Bind::Int(id));
            only = " AND t.client_id = $3".into();
        }
        let line = "CAST(e.ticket_id AS TEXT) || ',' || CAST(t.client_id AS TEXT) || ',' || CAST(e.at AS TEXT) \
             || ',' || e.kind || ',' || COALESCE(e.from_value, '') || ',' || COALESCE(e.to_value, '')";
        let sql = format!(
            "SELECT {} FROM (SELECT e.ticket_id, e.id, {line} AS line \
             FROM tickets t JOIN clients c ON c.id = t.client_id JOIN ticket_events e ON e.ticket_id = t.id \
             WHERE c.deleted_at IS NULL AND t.created_at < $2{only} \
             AND NOT (t.first_response_at IS NOT NULL AND t.first_response_at < $1 AND EXISTS ( \
               SELECT 1 FROM ticket_events d WHERE d.ticket_id = t.id AND d.kind = 'status' \
               AND d.to_value IN ({done}) AND d.at < $1)) \
             ORDER BY e.ticket_id, e.id) history",
            self.concat("line", ";", Some("ticket_id, id"))
        );
        let text: Option<String> = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&sql), &binds).fetch_one(p).await)?;
        let bad = || {
            StoreError::Database(sqlx::Error::Decode(
                "a ticket event does not read back as ticket,client,at,kind,from,to".into(),
            ))
        };
        let text = text.unwrap_or_default();
        let mut rows = Vec::new();
        for event in text.split(';').filter(|e| !e.is_empty()) {
            let mut f = event.split(',');
            let mut next = || f.next().ok_or_else(bad);
            let number = |s: &str| s.parse::<i64>().map_err(|_| bad());
            let value = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
            let (ticket, client, at) = (number(next()?)?, number(next()?)?, number(next()?)?);
            let kind = next()?.to_string();
            let (from, to) = (value(next()?), value(next()?));
            rows.push((ticket, client, at, kind, from, to));
        }
        Ok(rows)
    }
}
