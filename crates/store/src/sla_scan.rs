//! What the SLA scan needs, in bulk: every open ticket's clocks evaluated as of one
//! moment, the notices already recorded, and a way to record new ones together with
//! their messages. A handful of queries per pass, whatever the number of tickets.
//!
//! A pass reads about a hundred thousand tickets, a few hundred thousand history rows
//! and as many recorded notices on a busy desk, so:
//! - the big lists come back as one row of aggregated columns each (see
//!   `Store::concat` in `tickets.rs`) and are read in place, without a row or a string
//!   per event (the SQLite driver hands rows over one at a time);
//! - the queries run at once, each on its own connection;
//! - a clock that can have nothing new to announce (stopped, or its current cycle's
//!   warning and breach both on record: `tend_domain::sla_notice::may_have_news`) is
//!   not evaluated, and the rest are evaluated without their timelines
//!   (`evaluate_clock_brief`).

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use jiff::Timestamp;
use sqlx::Row;
use tend_domain::business_time::BusinessHours;
use tend_domain::calendar::{parse_holidays, BusinessCalendar, WeeklyHours};
use tend_domain::plan::{Severity, SlaTarget, TargetKind};
use tend_domain::sla_clock::{evaluate_clock_brief, ClockContext, ClockStatus};
use tend_domain::sla_notice::{may_have_news, parse_cycle_key, NoticeKind};
use tend_domain::ticket_clocks::{clock_severity, ticket_clock_histories};

use crate::outbox::{enqueue_all, NewMessage};
use crate::row::parsed;
use crate::tickets::{moments_of, EventView};
use crate::{
    done_ticket_statuses, ended_contract_states, with_pool, with_tx, Result, Store, StoreError,
};

/// The client facts a notice needs.
#[derive(Debug, Clone)]
pub struct ScanClient {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub owner_id: Option<i64>,
}

/// One open ticket with its evaluated clocks. The title is left for the few tickets
/// that get a message (`Store::ticket_titles`).
#[derive(Debug, Clone)]
pub struct ScannedTicket {
    pub id: i64,
    pub client_id: i64,
    pub owner_id: Option<i64>,
    /// The severity the clocks measure (P2 while untriaged).
    pub severity: Severity,
    /// The clocks that may have something new to announce, each with its status (no
    /// timeline, no earlier cycles).
    pub clocks: Vec<(TargetKind, ClockStatus)>,
    /// The ticket's notices on record.
    pub recorded: Vec<NoticeKey>,
}

#[derive(Debug, Default)]
pub struct ScanInput {
    pub clients: HashMap<i64, ScanClient>,
    pub tickets: Vec<ScannedTicket>,
    /// Clocks passed over unevaluated: stopped, or with nothing left to announce.
    pub settled: usize,
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

/// What a recorded notice is known by (its primary key), in plain values so that a
/// pass compares hundreds of thousands of them without building a string for each.
/// The cycle is its severity and start (`tend_domain::sla_notice::cycle_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoticeKey {
    pub ticket_id: i64,
    pub clock: TargetKind,
    pub severity: Severity,
    pub cycle_started_at: i64,
    pub kind: NoticeKind,
}

impl NoticeKey {
    /// The key of a stored row; `None` for a cycle this version does not write (no
    /// notice it looks for can have it).
    fn from_stored(ticket_id: i64, clock: &str, cycle: &str, kind: &str) -> Option<Self> {
        let (severity, cycle_started_at) = parse_cycle_key(cycle)?;
        Some(Self {
            ticket_id,
            clock: TargetKind::parse(clock).ok()?,
            severity,
            cycle_started_at,
            kind: NoticeKind::parse(kind).ok()?,
        })
    }
}

/// id, name, slug, timezone, business hours, holidays, owner.
type ClientRow = (i64, String, String, String, String, String, Option<i64>);

fn garbled(what: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("the SLA scan's {what} lists do not line up").into(),
    ))
}

fn int(field: &str, what: &str) -> Result<i64> {
    field.parse().map_err(|_| garbled(what))
}

/// One aggregated field: empty for NULL.
fn opt(field: &str) -> Option<&str> {
    Some(field).filter(|f| !f.is_empty())
}

/// Reads `N` aggregated columns row by row. Their values hold no commas; the first
/// column is never empty, so an empty first list means no rows.
struct Rows<'a, const N: usize> {
    what: &'static str,
    fields: [std::str::Split<'a, char>; N],
    done: bool,
}

impl<'a, const N: usize> Rows<'a, N> {
    fn new(what: &'static str, lists: &'a [String]) -> Result<Self> {
        if lists.len() != N {
            return Err(garbled(what));
        }
        Ok(Self {
            what,
            fields: std::array::from_fn(|i| lists[i].split(',')),
            done: lists[0].is_empty(),
        })
    }

    fn next(&mut self) -> Result<Option<[&'a str; N]>> {
        if self.done {
            return Ok(None);
        }
        let row: [Option<&'a str>; N] = std::array::from_fn(|i| self.fields[i].next());
        match row {
            _ if row.iter().all(Option::is_none) => {
                self.done = true;
                Ok(None)
            }
            _ if row.iter().all(Option::is_some) => Ok(Some(row.map(|f| f.unwrap_or("")))),
            _ => Err(garbled(self.what)),
        }
    }
}

const EVENT_KINDS: &str = "'created', 'status', 'severity', 'public-reply'";

impl Store {
    /// One row of aggregated columns over the rows `from` yields, in the order it yields
    /// them (each aggregate sees the same rows in the same order, so the lists line up;
    /// the order is checked by the reader). NULL lists (no rows) read as empty.
    async fn lists(&self, columns: &[&str], from: &str) -> Result<Vec<String>> {
        let select: Vec<String> = columns.iter().map(|c| self.concat(c, ",", None)).collect();
        let sql = format!("SELECT {} FROM {from}", select.join(", "));
        let lists: Vec<Option<String>> = with_pool!(&self.db, p => {
            let row = sqlx::query(&sql).fetch_one(p).await?;
            (0..columns.len())
                .map(|i| row.try_get::<Option<String>, _>(i))
                .collect::<std::result::Result<_, _>>()
        })?;
        Ok(lists.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Every open ticket of a client that is not deleted, with the clocks that may have
    /// news as of `now`, and the notices on record.
    pub async fn sla_scan_input(&self, now: Timestamp) -> Result<ScanInput> {
        self.scan_input(now, true).await
    }

    /// The scan's input; with `skip_settled` false every clock is evaluated, including
    /// those whose warning and breach are already on record (the backlog's SLA filter
    /// needs those too).
    async fn scan_input(&self, now: Timestamp, skip_settled: bool) -> Result<ScanInput> {
        let done = done_ticket_statuses();
        let ended = ended_contract_states();
        let clients = async {
            let rows: Vec<ClientRow> = with_pool!(&self.db, p => sqlx::query_as(
                "SELECT id, name, slug, timezone, business_hours, holidays, owner_id FROM clients WHERE deleted_at IS NULL")
                .fetch_all(p).await)?;
            Ok::<_, StoreError>(rows)
        };
        // The newest contract still served decides the plan, as on the ticket page.
        let plan_sql = format!(
            "SELECT client_id, plan_id FROM contracts WHERE state NOT IN ({ended}) ORDER BY id DESC"
        );
        let plan_of = async {
            let rows: Vec<(i64, i64)> =
                with_pool!(&self.db, p => sqlx::query_as(&plan_sql).fetch_all(p).await)?;
            Ok::<_, StoreError>(rows)
        };
        let tickets_from = format!(
            "(SELECT t.id, t.client_id, t.severity, t.owner_id FROM tickets t \
             JOIN clients c ON c.id = t.client_id \
             WHERE c.deleted_at IS NULL AND t.status NOT IN ({done}) ORDER BY t.id) open_tickets"
        );
        let tickets = self.lists(
            &[
                "CAST(id AS TEXT)",
                "CAST(client_id AS TEXT)",
                "COALESCE(severity, '')",
                "COALESCE(CAST(owner_id AS TEXT), '')",
            ],
            &tickets_from,
        );
        // SQLite reads the `ticket_events_clock` index alone, open ticket after open
        // ticket, in (ticket, id) order; PostgreSQL hashes the open tickets and reads the
        // events in the order they were written, or the index when few tickets are open.
        // The ids come along so that the order can be put right here.
        let events_from = format!(
            "(SELECT e.id, e.ticket_id, e.at, e.kind, e.from_value, e.to_value FROM ticket_events e \
             WHERE e.ticket_id IN (SELECT id FROM tickets WHERE status NOT IN ({done})) \
             AND e.kind IN ({EVENT_KINDS})) open_events"
        );
        let events = self.lists(
            &[
                "CAST(ticket_id AS TEXT)",
                "CAST(id AS TEXT)",
                "CAST(at AS TEXT)",
                "kind",
                "COALESCE(from_value, '')",
                "COALESCE(to_value, '')",
            ],
            &events_from,
        );
        let (clients, plan_of, plans, tickets, events, recorded) = tokio::try_join!(
            clients,
            plan_of,
            self.list_plans(),
            tickets,
            events,
            self.recorded_notices()
        )?;

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

        // (ticket, event id, view), read in place from the lists.
        let mut history: Vec<(i64, i64, EventView<'_>)> = Vec::new();
        let mut rows = Rows::<6>::new("event", &events)?;
        while let Some([ticket, id, at, kind, from, to]) = rows.next()? {
            history.push((
                int(ticket, "event")?,
                int(id, "event")?,
                EventView {
                    at: int(at, "event")?,
                    kind,
                    from: opt(from),
                    to: opt(to),
                },
            ));
        }
        if !history.is_sorted_by_key(|e| (e.0, e.1)) {
            history.sort_by_key(|e| (e.0, e.1));
        }

        let mut open = Vec::new();
        let mut rows = Rows::<4>::new("ticket", &tickets)?;
        while let Some([id, client_id, severity, owner]) = rows.next()? {
            open.push((
                int(id, "ticket")?,
                int(client_id, "ticket")?,
                clock_severity(Severity::parse(severity).ok()),
                opt(owner).map(|o| int(o, "ticket")).transpose()?,
            ));
        }
        // In id order from the subquery on both engines as they are built today; checked,
        // as the merge below depends on it.
        if !open.is_sorted_by_key(|t| t.0) {
            open.sort_by_key(|t| t.0);
        }

        let (mut next_event, mut next_notice) = (0, 0);
        let mut views: Vec<EventView<'_>> = Vec::new();
        for (id, client_id, severity, owner_id) in open {
            // Both lists are in ticket order: events of tickets that are not listed (a
            // deleted client's) are passed over.
            while history.get(next_event).is_some_and(|e| e.0 < id) {
                next_event += 1;
            }
            views.clear();
            while let Some(e) = history.get(next_event).filter(|e| e.0 == id) {
                views.push(e.2);
                next_event += 1;
            }
            // The notices on record are in ticket order too.
            while recorded.get(next_notice).is_some_and(|n| n.ticket_id < id) {
                next_notice += 1;
            }
            let first_notice = next_notice;
            while recorded.get(next_notice).is_some_and(|n| n.ticket_id == id) {
                next_notice += 1;
            }
            let on_record = &recorded[first_notice..next_notice];
            let (Some(targets), Some(hours)) =
                (targets_of_client.get(&client_id), hours_of.get(&client_id))
            else {
                continue;
            };
            let ctx = ClockContext {
                hours,
                warn: self.sla_warn,
            };
            let mut clocks = Vec::new();
            for (kind, history) in ticket_clock_histories(&moments_of(&views), targets) {
                let is_recorded = |notice: NoticeKind, cycle: Timestamp| {
                    on_record.contains(&NoticeKey {
                        ticket_id: id,
                        clock: kind,
                        severity,
                        cycle_started_at: cycle.as_millisecond(),
                        kind: notice,
                    })
                };
                if skip_settled && !may_have_news(&history, now, is_recorded) {
                    input.settled += 1;
                    continue;
                }
                match evaluate_clock_brief(&history, ctx, now) {
                    Ok(status) => clocks.push((kind, status)),
                    Err(e) => input.skipped.push((id, format!("{kind} clock: {e}"))),
                }
            }
            input.tickets.push(ScannedTicket {
                id,
                client_id,
                owner_id,
                severity,
                clocks,
                recorded: on_record.to_vec(),
            });
        }
        Ok(input)
    }

    /// Keys of the notices recorded for open tickets, in ticket order.
    pub async fn recorded_notices(&self) -> Result<Vec<NoticeKey>> {
        let from = format!(
            "sla_notices n JOIN tickets t ON t.id = n.ticket_id WHERE t.status NOT IN ({})",
            done_ticket_statuses()
        );
        let lists = self
            .lists(
                &["CAST(n.ticket_id AS TEXT)", "n.clock", "n.cycle", "n.kind"],
                &from,
            )
            .await?;
        let mut out = Vec::new();
        let mut rows = Rows::<4>::new("notice", &lists)?;
        while let Some([ticket, clock, cycle, kind]) = rows.next()? {
            out.extend(NoticeKey::from_stored(
                int(ticket, "notice")?,
                clock,
                cycle,
                kind,
            ));
        }
        // In primary-key order where the plan reads the key (SQLite), else as written.
        if !out.is_sorted_by_key(|n| n.ticket_id) {
            out.sort_by_key(|n| n.ticket_id);
        }
        Ok(out)
    }

    /// The titles of some tickets, for the messages of a pass.
    pub async fn ticket_titles(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT id, title FROM tickets WHERE id IN ({})",
                list.join(", ")
            );
            let rows: Vec<(i64, String)> =
                with_pool!(&self.db, p => sqlx::query_as(&sql).fetch_all(p).await)?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Records notices and queues their messages, each notice with its messages in one
    /// transaction. A notice already recorded (by an earlier pass or another instance)
    /// is skipped with its messages. Returns how many were new.
    pub async fn record_notices(&self, notices: &[NewNotice], now: i64) -> Result<usize> {
        let mut new = 0;
        // Batches keep each transaction short while a backlog of notices is written;
        // one statement per batch, whose RETURNING names the notices that were new.
        for batch in notices.chunks(200) {
            let mut sql = String::from(
                "INSERT INTO sla_notices (ticket_id, clock, cycle, kind, fell_at, noticed_at) VALUES ",
            );
            for i in 0..batch.len() {
                let p = i * 5;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, $1)",
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6
                ));
            }
            sql.push_str(" ON CONFLICT DO NOTHING RETURNING ticket_id, clock, cycle, kind");
            let mut tx = self.begin().await?;
            let inserted: Vec<(i64, String, String, String)> = with_tx!(&mut tx, c => {
                let mut q = sqlx::query_as(&sql).bind(now);
                for n in batch {
                    q = q
                        .bind(n.ticket_id)
                        .bind(n.clock.as_str())
                        .bind(&n.cycle)
                        .bind(n.kind.as_str())
                        .bind(n.fell_at);
                }
                q.fetch_all(&mut *c).await
            })?;
            let inserted: HashSet<(i64, &str, &str, &str)> = inserted
                .iter()
                .map(|(t, clock, cycle, kind)| (*t, clock.as_str(), cycle.as_str(), kind.as_str()))
                .collect();
            new += inserted.len();
            let messages: Vec<&NewMessage> = batch
                .iter()
                .filter(|n| {
                    inserted.contains(&(
                        n.ticket_id,
                        n.clock.as_str(),
                        n.cycle.as_str(),
                        n.kind.as_str(),
                    ))
                })
                .flat_map(|n| &n.messages)
                .collect();
            enqueue_all(&mut tx, &messages, now).await?;
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
        let mut sets = self.tickets_breaching_each(now, &[within]).await?;
        Ok(sets.pop().unwrap_or_default())
    }

    /// [`tickets_breaching_within`](Self::tickets_breaching_within) for several horizons
    /// at once (the dashboard's "breached" and "within 24 h"), evaluating the clocks once.
    pub async fn tickets_breaching_each(
        &self,
        now: jiff::Timestamp,
        horizons: &[jiff::SignedDuration],
    ) -> Result<Vec<HashSet<i64>>> {
        let input = self.scan_input(now, false).await?;
        Ok(horizons
            .iter()
            .map(|&within| {
                input
                    .tickets
                    .iter()
                    .filter(|t| {
                        t.clocks
                            .iter()
                            .any(|(_, s)| tend_domain::sla_notice::breaches_within(s, now, within))
                    })
                    .map(|t| t.id)
                    .collect()
            })
            .collect())
    }
}
