//! What the SLA scan needs, in bulk: every open ticket's clocks evaluated as of one
//! moment, the notices already recorded, and a way to record new ones together with
//! their messages. A handful of queries per pass, whatever the number of tickets.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use tend_domain::business_time::BusinessHours;
use tend_domain::calendar::{parse_holidays, BusinessCalendar, WeeklyHours};
use tend_domain::plan::{Severity, SlaTarget, TargetKind};
use tend_domain::sla_clock::{evaluate_clock, ClockContext, ClockStatus};
use tend_domain::sla_notice::NoticeKind;
use tend_domain::ticket_clocks::{clock_severity, ticket_clock_histories};

use crate::outbox::{enqueue, NewMessage};
use crate::row::parsed;
use crate::tickets::{moments, TicketEvent};
use crate::{done_ticket_statuses, ended_contract_states, with_pool, with_tx, Result, Store};

/// The client facts a notice needs.
#[derive(Debug, Clone)]
pub struct ScanClient {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub owner_id: Option<i64>,
}

/// One open ticket with its evaluated clocks.
#[derive(Debug, Clone)]
pub struct ScannedTicket {
    pub id: i64,
    pub client_id: i64,
    pub title: String,
    pub owner_id: Option<i64>,
    /// The severity the clocks measure (P2 while untriaged).
    pub severity: Severity,
    pub clocks: Vec<(TargetKind, ClockStatus)>,
}

#[derive(Debug, Default)]
pub struct ScanInput {
    pub clients: HashMap<i64, ScanClient>,
    pub tickets: Vec<ScannedTicket>,
    /// Clocks that could not be evaluated: (ticket, why). Reported, never fatal.
    pub skipped: Vec<(i64, String)>,
}

/// A notice to record, with the message that announces it (if it gets one).
#[derive(Debug, Clone)]
pub struct NewNotice {
    pub ticket_id: i64,
    pub clock: TargetKind,
    pub cycle: String,
    pub kind: NoticeKind,
    pub fell_at: i64,
    pub messages: Vec<NewMessage>,
}

/// The key a recorded notice is known by: `42 response p1@… warning`.
pub fn notice_key(ticket_id: i64, clock: TargetKind, cycle: &str, kind: NoticeKind) -> String {
    format!("{ticket_id} {} {cycle} {}", clock.as_str(), kind.as_str())
}

/// id, name, slug, timezone, business hours, holidays, owner.
type ClientRow = (i64, String, String, String, String, String, Option<i64>);
type TicketRow = (i64, i64, String, Option<String>, Option<i64>);
type EventRow = (i64, i64, String, Option<String>, Option<String>);

impl Store {
    /// Every open ticket of a client that is not deleted, with its clocks as of `now`.
    pub async fn sla_scan_input(&self, now: jiff::Timestamp) -> Result<ScanInput> {
        let done = done_ticket_statuses();
        let ended = ended_contract_states();
        let clients: Vec<ClientRow> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT id, name, slug, timezone, business_hours, holidays, owner_id FROM clients WHERE deleted_at IS NULL")
            .fetch_all(p).await)?;
        // The newest contract still served decides the plan, as on the ticket page.
        let plan_of: Vec<(i64, i64)> = with_pool!(&self.db, p => sqlx::query_as(&format!(
            "SELECT client_id, plan_id FROM contracts WHERE state NOT IN ({ended}) ORDER BY id DESC"))
            .fetch_all(p).await)?;
        let plans = self.list_plans().await?;
        let tickets: Vec<TicketRow> = with_pool!(&self.db, p => sqlx::query_as(&format!(
            "SELECT t.id, t.client_id, t.title, t.severity, t.owner_id FROM tickets t \
             JOIN clients c ON c.id = t.client_id \
             WHERE c.deleted_at IS NULL AND t.status NOT IN ({done}) ORDER BY t.id"))
            .fetch_all(p).await)?;
        let events: Vec<EventRow> = with_pool!(&self.db, p => sqlx::query_as(&format!(
            "SELECT e.ticket_id, e.at, e.kind, e.from_value, e.to_value FROM ticket_events e \
             JOIN tickets t ON t.id = e.ticket_id \
             WHERE t.status NOT IN ({done}) AND e.kind IN ('created', 'status', 'severity', 'public-reply') \
             ORDER BY e.ticket_id, e.id"))
            .fetch_all(p).await)?;

        let targets_by_plan: HashMap<i64, &[SlaTarget]> = plans
            .iter()
            .map(|p| (p.id, p.terms.sla.as_slice()))
            .collect();
        let mut targets_of_client: HashMap<i64, &[SlaTarget]> = HashMap::new();
        for (client_id, plan_id) in &plan_of {
            if let Some(t) = targets_by_plan.get(plan_id) {
                targets_of_client.entry(*client_id).or_insert(t);
            }
        }
        let mut input = ScanInput::default();
        let mut hours_of: HashMap<i64, BusinessHours> = HashMap::new();
        for (id, name, slug, timezone, hours, holidays, owner_id) in clients {
            let calendar = BusinessCalendar {
                hours: parsed("business_hours", WeeklyHours::parse(&hours))?,
                holidays: parsed("holidays", parse_holidays(&holidays))?,
            };
            let tz = TimeZone::get(&timezone).unwrap_or(TimeZone::UTC);
            hours_of.insert(id, BusinessHours::new(&calendar, tz));
            input.clients.insert(
                id,
                ScanClient {
                    id,
                    name,
                    slug,
                    timezone,
                    owner_id,
                },
            );
        }

        let mut events = events.into_iter().peekable();
        for (id, client_id, title, severity, owner_id) in tickets {
            let mut history = Vec::new();
            while let Some(e) = events.next_if(|e| e.0 <= id) {
                if e.0 == id {
                    history.push(TicketEvent {
                        at: e.1,
                        kind: e.2,
                        from: e.3,
                        to: e.4,
                        actor: String::new(),
                    });
                }
            }
            let (Some(targets), Some(hours)) =
                (targets_of_client.get(&client_id), hours_of.get(&client_id))
            else {
                continue;
            };
            let severity = severity.as_deref().and_then(|s| Severity::parse(s).ok());
            let ctx = ClockContext {
                hours,
                warn: self.sla_warn,
            };
            let mut clocks = Vec::new();
            for (kind, history) in ticket_clock_histories(&moments(&history), targets) {
                match evaluate_clock(&history, ctx, now) {
                    Ok(status) => clocks.push((kind, status)),
                    Err(e) => input.skipped.push((id, format!("{kind} clock: {e}"))),
                }
            }
            input.tickets.push(ScannedTicket {
                id,
                client_id,
                title,
                owner_id,
                severity: clock_severity(severity),
                clocks,
            });
        }
        Ok(input)
    }

    /// Keys ([`notice_key`]) of the notices recorded for open tickets.
    pub async fn recorded_notices(&self) -> Result<HashSet<String>> {
        let rows: Vec<(i64, String, String, String)> = with_pool!(&self.db, p => sqlx::query_as(&format!(
            "SELECT n.ticket_id, n.clock, n.cycle, n.kind FROM sla_notices n \
             JOIN tickets t ON t.id = n.ticket_id WHERE t.status NOT IN ({})",
            done_ticket_statuses()))
            .fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(t, clock, cycle, kind)| format!("{t} {clock} {cycle} {kind}"))
            .collect())
    }

    /// Records notices and queues their messages, each notice with its messages in one
    /// transaction. A notice already recorded (by an earlier pass or another instance)
    /// is skipped with its messages. Returns how many were new.
    pub async fn record_notices(&self, notices: &[NewNotice], now: i64) -> Result<usize> {
        let mut new = 0;
        // Batches keep each transaction short while a backlog of notices is written.
        for batch in notices.chunks(200) {
            let mut tx = self.begin().await?;
            for n in batch {
                let inserted = with_tx!(&mut tx, c => sqlx::query(
                    "INSERT INTO sla_notices (ticket_id, clock, cycle, kind, fell_at, noticed_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING")
                    .bind(n.ticket_id)
                    .bind(n.clock.as_str())
                    .bind(&n.cycle)
                    .bind(n.kind.as_str())
                    .bind(n.fell_at)
                    .bind(now)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected()))?;
                if inserted == 0 {
                    continue;
                }
                new += 1;
                for m in &n.messages {
                    enqueue(&mut tx, m, now).await?;
                }
            }
            tx.commit().await?;
        }
        Ok(new)
    }

    /// Open tickets with a clock that has breached or will within `within` of `now`
    /// (the backlog's SLA filter), by the same bulk evaluation the SLA scan uses.
    pub async fn tickets_breaching_within(
        &self,
        now: jiff::Timestamp,
        within: jiff::SignedDuration,
    ) -> Result<HashSet<i64>> {
        let input = self.sla_scan_input(now).await?;
        Ok(input
            .tickets
            .iter()
            .filter(|t| {
                t.clocks
                    .iter()
                    .any(|(_, s)| tend_domain::sla_notice::breaches_within(s, now, within))
            })
            .map(|t| t.id)
            .collect())
    }
}
