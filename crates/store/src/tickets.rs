//! Tickets: requests and backlog items, their dependencies, threads, history and
//! post-mortems. A ticket's row id is its number (#42).
//!
//! Rules (status moves, completeness, dependency cycles) are tend-domain functions; this
//! module loads the facts they need, asks them, and writes the outcome with its history
//! event and audit row in one transaction.

use jiff::civil::Date;
use serde::Serialize;
use tend_domain::backlog::BacklogItem;
use tend_domain::business_time::BusinessHours;
use tend_domain::calendar::BusinessCalendar;
use tend_domain::completeness::{missing, MissingField, RequiredFacts};
use tend_domain::dependency::{DependencyGraph, TicketRef};
use tend_domain::email::Email;
use tend_domain::page::{Page, PageRequest};
use tend_domain::plan::Severity;
use tend_domain::plan::TargetKind;
use tend_domain::sla_clock::{evaluate_clock, time_left, ClockContext, ClockState};
use tend_domain::ticket::{
    check_transition, Dependencies, Impact, PostMortem, TicketInput, TicketNumber, TicketSource,
    TicketStatus,
};
use tend_domain::ticket_clocks::{
    clock_severity, ticket_clock_histories, TicketChange, TicketMoment,
};

use crate::audit::{self, Action, Change};
use crate::clients::OwnerRef;
use crate::row::{parsed, RowExt};
use crate::{
    bind_all, done_ticket_statuses, now_ms, random_hex, with_pool, with_tx, Actor, Bind, Engine,
    Result, Store, StoreError, Tx,
};

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub number: i64,
    pub public_id: String,
    pub client_id: i64,
    pub client_slug: String,
    pub client_name: String,
    pub client_timezone: String,
    pub title: String,
    pub description: String,
    pub source: Option<TicketSource>,
    pub severity: Option<Severity>,
    pub status: TicketStatus,
    pub owner: Option<OwnerRef>,
    pub expected_outcome: String,
    pub next_action: String,
    pub acceptance_test: String,
    pub business_risk: Option<Impact>,
    pub revenue_impact: Option<Impact>,
    pub customer_effect: Option<Impact>,
    pub launch_deadline: Option<Date>,
    pub dependencies: Dependencies,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
}

impl Ticket {
    /// Which of the six facts every request needs are still missing.
    pub fn missing(&self) -> Vec<MissingField> {
        let owner = self
            .owner
            .as_ref()
            .and_then(|o| Email::parse(&o.email).ok());
        missing(&RequiredFacts {
            source: self.source,
            severity: self.severity,
            owner: owner.as_ref(),
            dependencies: &self.dependencies,
            expected_outcome: &self.expected_outcome,
            next_action: &self.next_action,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    /// "public" (sent to the client) or "internal" (staff only).
    pub visibility: String,
    pub author: String,
    pub body: String,
    pub created_at: i64,
    /// Who got it by email ("dana@acme.example, bo@acme.example"), when it was sent
    /// from a template.
    pub emailed_to: Option<String>,
}

/// One moment in a ticket's history: what the SLA clocks are derived from.
#[derive(Debug, Clone, Serialize)]
pub struct TicketEvent {
    pub at: i64,
    /// created, status, severity, public-reply
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub actor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Public,
    Internal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub client_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub status: Option<TicketStatus>,
    /// Only tickets that are not resolved or closed.
    pub open_only: bool,
    pub severity: Option<Severity>,
    /// Only tickets missing one of the six required facts.
    pub incomplete: bool,
}

fn opt<T, E: std::fmt::Display>(
    column: &str,
    raw: Option<String>,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, sqlx::Error> {
    raw.filter(|s| !s.is_empty())
        .map(|s| parsed(column, parse(&s)))
        .transpose()
}

fn ticket_from_row(r: &impl RowExt, blocked_by: Vec<i64>) -> Result<Ticket> {
    let stated = r.int("dependencies_stated")? != 0;
    let dependencies = match (stated, blocked_by.is_empty()) {
        (false, _) => Dependencies::Unstated,
        (true, true) => Dependencies::NoBlockers,
        (true, false) => {
            Dependencies::BlockedBy(blocked_by.into_iter().map(TicketNumber).collect())
        }
    };
    let owner = match r.opt_int("owner_id")? {
        Some(id) => Some(OwnerRef {
            id,
            email: r.opt_text("owner_email")?.unwrap_or_default(),
            name: r.opt_text("owner_name")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Ticket {
        number: r.int("id")?,
        public_id: r.text("public_id")?,
        client_id: r.int("client_id")?,
        client_slug: r.text("client_slug")?,
        client_name: r.text("client_name")?,
        client_timezone: r.text("client_timezone")?,
        title: r.text("title")?,
        description: r.text("description")?,
        source: opt("source", r.opt_text("source")?, TicketSource::parse)?,
        severity: opt("severity", r.opt_text("severity")?, Severity::parse)?,
        status: parsed("status", TicketStatus::parse(&r.text("status")?))?,
        owner,
        expected_outcome: r.text("expected_outcome")?,
        next_action: r.text("next_action")?,
        acceptance_test: r.text("acceptance_test")?,
        business_risk: opt("business_risk", r.opt_text("business_risk")?, Impact::parse)?,
        revenue_impact: opt(
            "revenue_impact",
            r.opt_text("revenue_impact")?,
            Impact::parse,
        )?,
        customer_effect: opt(
            "customer_effect",
            r.opt_text("customer_effect")?,
            Impact::parse,
        )?,
        launch_deadline: opt("launch_deadline", r.opt_text("launch_deadline")?, |s| {
            s.parse::<Date>()
        })?,
        dependencies,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
        first_response_at: r.opt_int("first_response_at")?,
        resolved_at: r.opt_int("resolved_at")?,
        closed_at: r.opt_int("closed_at")?,
    })
}

const SELECT: &str = "SELECT t.id, t.public_id, t.client_id, c.slug AS client_slug, c.name AS client_name, c.timezone AS client_timezone, \
    t.title, t.description, t.source, t.severity, t.status, t.owner_id, u.email AS owner_email, u.name AS owner_name, \
    t.expected_outcome, t.next_action, t.acceptance_test, t.business_risk, t.revenue_impact, t.customer_effect, \
    t.launch_deadline, t.dependencies_stated, t.created_by, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, t.closed_at \
    FROM tickets t JOIN clients c ON c.id = t.client_id LEFT JOIN users u ON u.id = t.owner_id";

/// The same six facts as `tend_domain::completeness::missing`, as SQL, so the backlog can
/// filter incomplete tickets without loading them all; a store test keeps the two in step.
const INCOMPLETE_SQL: &str =
    "(t.source IS NULL OR t.severity IS NULL OR t.owner_id IS NULL OR t.dependencies_stated = 0 \
    OR t.expected_outcome = '' OR t.next_action = '')";

fn fields(t: &TicketInput) -> Vec<(&'static str, String)> {
    let show = |v: Option<&str>| v.unwrap_or("").to_string();
    vec![
        ("title", t.title.clone()),
        ("description", t.description.clone()),
        ("source", show(t.source.map(|s| s.as_str()))),
        ("severity", show(t.severity.map(|s| s.as_str()))),
        (
            "owner_email",
            t.owner_email
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        ("blocked_by", t.dependencies.to_string()),
        ("expected_outcome", t.expected_outcome.clone()),
        ("next_action", t.next_action.clone()),
        ("acceptance_test", t.acceptance_test.clone()),
        ("business_risk", show(t.business_risk.map(|s| s.as_str()))),
        ("revenue_impact", show(t.revenue_impact.map(|s| s.as_str()))),
        (
            "customer_effect",
            show(t.customer_effect.map(|s| s.as_str())),
        ),
        (
            "launch_deadline",
            t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ]
}

fn stored_fields(t: &Ticket) -> Vec<(&'static str, String)> {
    let show = |v: Option<&str>| v.unwrap_or("").to_string();
    vec![
        ("title", t.title.clone()),
        ("description", t.description.clone()),
        ("source", show(t.source.map(|s| s.as_str()))),
        ("severity", show(t.severity.map(|s| s.as_str()))),
        (
            "owner_email",
            t.owner
                .as_ref()
                .map(|o| o.email.clone())
                .unwrap_or_default(),
        ),
        ("blocked_by", t.dependencies.to_string()),
        ("expected_outcome", t.expected_outcome.clone()),
        ("next_action", t.next_action.clone()),
        ("acceptance_test", t.acceptance_test.clone()),
        ("business_risk", show(t.business_risk.map(|s| s.as_str()))),
        ("revenue_impact", show(t.revenue_impact.map(|s| s.as_str()))),
        (
            "customer_effect",
            show(t.customer_effect.map(|s| s.as_str())),
        ),
        (
            "launch_deadline",
            t.launch_deadline.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ]
}

async fn record_event(
    tx: &mut Tx,
    ticket: i64,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    record_event_at(tx, ticket, now_ms(), kind, from, to, actor).await
}

/// An event at a given instant: a ticket's creation and its starting severity share one,
/// so its clocks start on that severity.
async fn record_event_at(
    tx: &mut Tx,
    ticket: i64,
    at: i64,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: &Actor,
) -> Result<()> {
    with_tx!(tx, c => sqlx::query("INSERT INTO ticket_events (ticket_id, at, kind, from_value, to_value, actor_label) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(ticket).bind(at).bind(kind).bind(from).bind(to).bind(&actor.label)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Store {
    async fn owner_id_for(&self, email: Option<&Email>) -> Result<Option<i64>> {
        match email {
            None => Ok(None),
            Some(email) => match self.user_by_email(email).await? {
                Some(u) => Ok(Some(u.id)),
                None => Err(StoreError::invalid(
                    "owner_email",
                    format!("no staff user has the email {email}"),
                )),
            },
        }
    }

    /// Checks that every blocker exists and that none closes a cycle; returns their numbers.
    async fn checked_blockers(&self, ticket: Option<i64>, deps: &Dependencies) -> Result<Vec<i64>> {
        let Dependencies::BlockedBy(numbers) = deps else {
            return Ok(Vec::new());
        };
        let links: Vec<(i64, i64)> = with_pool!(&self.db, p => sqlx::query_as("SELECT ticket_id, blocked_by_id FROM ticket_dependencies").fetch_all(p).await)?;
        let r = |id: i64| TicketRef {
            id,
            number: TicketNumber(id),
        };
        let mut graph = DependencyGraph::from_links(
            links
                .into_iter()
                .filter(|(t, _)| Some(*t) != ticket)
                .map(|(t, b)| (r(t), r(b))),
        );
        let mut out = Vec::new();
        for n in numbers {
            let exists: i64 = with_pool!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE id = $1").bind(n.0).fetch_one(p).await)?;
            if exists == 0 {
                return Err(StoreError::invalid(
                    "blocked_by",
                    format!("there is no ticket {n}"),
                ));
            }
            if let Some(t) = ticket {
                graph
                    .add(r(t), r(n.0))
                    .map_err(|e| StoreError::invalid("blocked_by", e.to_string()))?;
            }
            out.push(n.0);
        }
        Ok(out)
    }

    async fn write_dependencies(&self, tx: &mut Tx, ticket: i64, blockers: &[i64]) -> Result<()> {
        with_tx!(tx, c => sqlx::query("DELETE FROM ticket_dependencies WHERE ticket_id = $1").bind(ticket).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        for b in blockers {
            with_tx!(tx, c => sqlx::query("INSERT INTO ticket_dependencies (ticket_id, blocked_by_id) VALUES ($1, $2)")
                .bind(ticket).bind(*b).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Opens a ticket (status new) for the client its input names; the creation is the
    /// first event of its history, from which its SLA clocks start.
    pub async fn create_ticket(&self, actor: &Actor, input: &TicketInput) -> Result<Ticket> {
        let client = self
            .client_by_slug(input.client.as_str(), false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("client", format!("there is no client {}", input.client))
                }
                other => other,
            })?;
        let owner = self.owner_id_for(input.owner_email.as_ref()).await?;
        let blockers = self.checked_blockers(None, &input.dependencies).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let number = self
            .insert_ticket(&mut tx, actor, client.id, owner, &blockers, input, now)
            .await?;
        tx.commit().await?;
        self.ticket(number).await
    }

    /// Writes a new ticket inside the caller's transaction (with its history and audit
    /// entry); the client, owner and blockers are already checked. Returns its number.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_ticket(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        client_id: i64,
        owner: Option<i64>,
        blockers: &[i64],
        input: &TicketInput,
        now: i64,
    ) -> Result<i64> {
        let number: i64 = with_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO tickets (public_id, client_id, title, description, source, severity, status, owner_id, expected_outcome, \
             next_action, acceptance_test, business_risk, revenue_impact, customer_effect, launch_deadline, dependencies_stated, \
             missing_facts, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'new', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id")
            .bind(random_hex(16))
            .bind(client_id)
            .bind(&input.title)
            .bind(&input.description)
            .bind(input.source.map(|s| s.as_str()))
            .bind(input.severity.map(|s| s.as_str()))
            .bind(owner)
            .bind(&input.expected_outcome)
            .bind(&input.next_action)
            .bind(&input.acceptance_test)
            .bind(input.business_risk.map(|s| s.as_str()))
            .bind(input.revenue_impact.map(|s| s.as_str()))
            .bind(input.customer_effect.map(|s| s.as_str()))
            .bind(input.launch_deadline.map(|d| d.to_string()))
            .bind(i64::from(input.dependencies.is_stated()))
            .bind(input.missing().len() as i64)
            .bind(&actor.label)
            .bind(now)
            .fetch_one(&mut *c)
            .await)?;
        self.write_dependencies(tx, number, blockers).await?;
        record_event_at(tx, number, now, "created", None, Some("new"), actor).await?;
        if let Some(s) = input.severity {
            record_event_at(tx, number, now, "severity", None, Some(s.as_str()), actor).await?;
        }
        let after = fields(input);
        audit::record(
            tx,
            actor,
            Change {
                action: Action::Create,
                entity: "ticket",
                entity_id: Some(number),
                client_id: Some(client_id),
                summary: format!("opened ticket #{number}: {}", input.title),
                before: &[],
                after: &after,
            },
        )
        .await?;
        Ok(number)
    }

    pub async fn ticket(&self, number: i64) -> Result<Ticket> {
        let sql = format!("{SELECT} WHERE t.id = $1");
        let blocked_by: Vec<i64> = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT blocked_by_id FROM ticket_dependencies WHERE ticket_id = $1 ORDER BY blocked_by_id").bind(number).fetch_all(p).await)?;
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(number).fetch_optional(p).await? {
            Some(r) => ticket_from_row(&r, blocked_by),
            None => Err(StoreError::NotFound("ticket")),
        })
    }

    /// Changes a ticket's content (not its status); a severity change is a history event
    /// because it re-derives the SLA clocks.
    pub async fn update_ticket(
        &self,
        actor: &Actor,
        number: i64,
        input: &TicketInput,
    ) -> Result<Ticket> {
        let current = self.ticket(number).await?;
        if input.client.as_str() != current.client_slug {
            return Err(StoreError::invalid(
                "client",
                "a ticket stays with its client; open a new ticket for another client",
            ));
        }
        let owner = self.owner_id_for(input.owner_email.as_ref()).await?;
        let blockers = self
            .checked_blockers(Some(number), &input.dependencies)
            .await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE tickets SET title = $1, description = $2, source = $3, severity = $4, owner_id = $5, expected_outcome = $6, \
             next_action = $7, acceptance_test = $8, business_risk = $9, revenue_impact = $10, customer_effect = $11, \
             launch_deadline = $12, dependencies_stated = $13, missing_facts = $14, updated_at = $15 WHERE id = $16")
            .bind(&input.title)
            .bind(&input.description)
            .bind(input.source.map(|s| s.as_str()))
            .bind(input.severity.map(|s| s.as_str()))
            .bind(owner)
            .bind(&input.expected_outcome)
            .bind(&input.next_action)
            .bind(&input.acceptance_test)
            .bind(input.business_risk.map(|s| s.as_str()))
            .bind(input.revenue_impact.map(|s| s.as_str()))
            .bind(input.customer_effect.map(|s| s.as_str()))
            .bind(input.launch_deadline.map(|d| d.to_string()))
            .bind(i64::from(input.dependencies.is_stated()))
            .bind(input.missing().len() as i64)
            .bind(now_ms())
            .bind(number)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        self.write_dependencies(&mut tx, number, &blockers).await?;
        if current.severity != input.severity {
            record_event(
                &mut tx,
                number,
                "severity",
                current.severity.map(|s| s.as_str()),
                input.severity.map(|s| s.as_str()),
                actor,
            )
            .await?;
        }
        let (before, after) = (stored_fields(&current), fields(input));
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "ticket",
                entity_id: Some(number),
                client_id: Some(current.client_id),
                summary: format!("updated ticket #{number}"),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.ticket(number).await
    }

    /// Moves a ticket to another status if the domain's rules allow it.
    pub async fn set_ticket_status(
        &self,
        actor: &Actor,
        number: i64,
        to: TicketStatus,
    ) -> Result<Ticket> {
        let current = self.ticket(number).await?;
        let post_mortem = self.post_mortem(number).await?;
        check_transition(current.status, to, current.severity, post_mortem.as_ref())
            .map_err(|refusal| StoreError::invalid("status", refusal.to_string()))?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE tickets SET status = $1, updated_at = $2, \
             resolved_at = CASE WHEN $1 = 'resolved' THEN $2 WHEN $1 = 'closed' THEN resolved_at ELSE NULL END, \
             closed_at = CASE WHEN $1 = 'closed' THEN $2 ELSE NULL END WHERE id = $3")
            .bind(to.as_str()).bind(now).bind(number)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        record_event(
            &mut tx,
            number,
            "status",
            Some(current.status.as_str()),
            Some(to.as_str()),
            actor,
        )
        .await?;
        let before = [("status", current.status.as_str().to_string())];
        let after = [("status", to.as_str().to_string())];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "ticket",
                entity_id: Some(number),
                client_id: Some(current.client_id),
                summary: format!("moved ticket #{number} to {}", to.label()),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.ticket(number).await
    }

    /// Adds to a ticket's thread. The first public reply is the ticket's first response.
    pub async fn add_message(
        &self,
        actor: &Actor,
        author_user: Option<i64>,
        number: i64,
        visibility: Visibility,
        body: &str,
    ) -> Result<Message> {
        let body = body.trim();
        if body.is_empty() {
            return Err(StoreError::invalid("body", "is required"));
        }
        if body.chars().count() > 20_000 {
            return Err(StoreError::invalid(
                "body",
                "must be at most 20,000 characters",
            ));
        }
        let ticket = self.ticket(number).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let id = write_message(
            &mut tx,
            actor,
            author_user,
            (number, ticket.client_id),
            visibility,
            body,
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(Message {
            id,
            visibility: visibility.as_str().into(),
            author: actor.label.clone(),
            body: body.into(),
            created_at: now,
            emailed_to: None,
        })
    }

    pub async fn ticket_messages(&self, number: i64) -> Result<Vec<Message>> {
        type Row = (i64, String, String, String, i64, Option<String>);
        let rows: Vec<Row> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT id, visibility, author_label, body, created_at, emailed_to FROM ticket_messages WHERE ticket_id = $1 ORDER BY id")
            .bind(number).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, visibility, author, body, created_at, emailed_to)| Message {
                    id,
                    visibility,
                    author,
                    body,
                    created_at,
                    emailed_to,
                },
            )
            .collect())
    }

    pub async fn ticket_events(&self, number: i64) -> Result<Vec<TicketEvent>> {
        type EventRow = (i64, String, Option<String>, Option<String>, String);
        let rows: Vec<EventRow> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT at, kind, from_value, to_value, actor_label FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
            .bind(number).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(at, kind, from, to, actor)| TicketEvent {
                at,
                kind,
                from,
                to,
                actor,
            })
            .collect())
    }

    pub async fn post_mortem(&self, number: i64) -> Result<Option<PostMortem>> {
        let row: Option<(String, String, String, String)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT root_cause, fix, prevention, monitoring_added FROM post_mortems WHERE ticket_id = $1")
            .bind(number).fetch_optional(p).await)?;
        Ok(row.map(
            |(root_cause, fix, prevention, monitoring_added)| PostMortem {
                root_cause,
                fix,
                prevention,
                monitoring_added,
            },
        ))
    }

    /// Records (or replaces) a ticket's post-mortem.
    pub async fn save_post_mortem(
        &self,
        actor: &Actor,
        number: i64,
        pm: &PostMortem,
    ) -> Result<()> {
        let ticket = self.ticket(number).await?;
        let before = self.post_mortem(number).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM post_mortems WHERE ticket_id = $1").bind(number).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO post_mortems (ticket_id, root_cause, fix, prevention, monitoring_added, author_label, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(number).bind(&pm.root_cause).bind(&pm.fix).bind(&pm.prevention).bind(&pm.monitoring_added).bind(&actor.label).bind(now_ms())
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let pm_fields = |p: &PostMortem| {
            vec![
                ("root_cause", p.root_cause.clone()),
                ("fix", p.fix.clone()),
                ("prevention", p.prevention.clone()),
                ("monitoring_added", p.monitoring_added.clone()),
            ]
        };
        let before = before.as_ref().map(pm_fields).unwrap_or_default();
        let after = pm_fields(pm);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: if before.is_empty() {
                    Action::Create
                } else {
                    Action::Update
                },
                entity: "post_mortem",
                entity_id: Some(number),
                client_id: Some(ticket.client_id),
                summary: format!("wrote the post-mortem of ticket #{number}"),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Tickets matching a filter, newest first.
    pub async fn list_tickets(
        &self,
        filter: &TicketFilter,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        let (where_sql, binds) = ticket_filter_sql(filter);
        let n = binds.len();
        let sql = format!(
            "{SELECT} WHERE {where_sql} ORDER BY t.id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM tickets t JOIN clients c ON c.id = t.client_id WHERE {where_sql}"
        );
        let rows = with_pool!(&self.db, p => {
            let q = bind_all!(sqlx::query(&sql), &binds);
            q.bind(page.limit()).bind(page.offset()).fetch_all(p).await?
                .iter()
                .map(|r| ticket_from_row(r, Vec::new()))
                .collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&count_sql), &binds).fetch_one(p).await)?;
        let mut items = rows;
        self.fill_dependencies(&mut items).await?;
        Ok(Page::new(items, page, total))
    }

    async fn fill_dependencies(&self, tickets: &mut [Ticket]) -> Result<()> {
        if tickets.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = tickets.iter().map(|t| t.number.to_string()).collect();
        // The ids are integers from our own rows, so inlining them is safe.
        let sql = format!("SELECT ticket_id, blocked_by_id FROM ticket_dependencies WHERE ticket_id IN ({}) ORDER BY blocked_by_id", ids.join(","));
        let links: Vec<(i64, i64)> =
            with_pool!(&self.db, p => sqlx::query_as(&sql).fetch_all(p).await)?;
        for t in tickets.iter_mut() {
            let blockers: Vec<TicketNumber> = links
                .iter()
                .filter(|(id, _)| *id == t.number)
                .map(|(_, b)| TicketNumber(*b))
                .collect();
            if !blockers.is_empty() {
                t.dependencies = Dependencies::BlockedBy(blockers);
            }
        }
        Ok(())
    }
}

impl Store {
    /// `group_concat` on SQLite, `string_agg` on PostgreSQL: lists that a page needs in
    /// full (every open ticket for the ranking) come back as one row, because the SQLite
    /// driver hands rows over one at a time and 10,000 rows cost more than the query.
    /// With `order`, PostgreSQL aggregates in that order; SQLite aggregates in the order
    /// its (ordered) subquery yields rows.
    pub(crate) fn concat(&self, expr: &str, sep: &str, order: Option<&str>) -> String {
        match (self.engine(), order) {
            (Engine::Sqlite, _) => format!("group_concat({expr}, '{sep}')"),
            (Engine::Postgres, Some(order)) => {
                format!("string_agg({expr}, '{sep}' ORDER BY {order})")
            }
            (Engine::Postgres, None) => format!("string_agg({expr}, '{sep}')"),
        }
    }

    /// Every open ticket as the backlog ranking needs it (with its open blockers), for
    /// `tend_domain::backlog::rank`. One aggregated list per column, in id order: the
    /// lists are built in one pass over the same rows, so their positions line up.
    pub async fn backlog_items(&self) -> Result<Vec<BacklogItem>> {
        let columns = [
            "CAST(id AS TEXT)",
            "CAST(client_id AS TEXT)",
            "status",
            "COALESCE(severity, '')",
            "COALESCE(business_risk, '')",
            "COALESCE(revenue_impact, '')",
            "COALESCE(customer_effect, '')",
            "COALESCE(launch_deadline, '')",
            "CAST(created_at AS TEXT)",
        ];
        let lists: Vec<String> = columns
            .iter()
            .map(|c| self.concat(c, ",", Some("id")))
            .collect();
        let done = done_ticket_statuses();
        let sql = format!(
            "SELECT {} FROM (SELECT t.* FROM tickets t JOIN clients c ON c.id = t.client_id \
             WHERE c.deleted_at IS NULL AND t.status NOT IN ({done}) ORDER BY t.id) open_tickets",
            lists.join(", ")
        );
        type Lists = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Lists = with_pool!(&self.db, p => sqlx::query_as(&sql).fetch_one(p).await)?;
        let links_sql = format!(
            "SELECT {} FROM ticket_dependencies d JOIN tickets b ON b.id = d.blocked_by_id \
             WHERE b.status NOT IN ({done})",
            self.concat(
                "CAST(d.ticket_id AS TEXT) || ',' || CAST(d.blocked_by_id AS TEXT)",
                ";",
                None
            )
        );
        let links: Option<String> =
            with_pool!(&self.db, p => sqlx::query_scalar(&links_sql).fetch_one(p).await)?;
        let mut by_ticket: std::collections::HashMap<i64, Vec<i64>> =
            std::collections::HashMap::new();
        for pair in links
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter(|p| !p.is_empty())
        {
            if let Some((t, b)) = pair
                .split_once(',')
                .and_then(|(t, b)| Some((t.parse().ok()?, b.parse().ok()?)))
            {
                by_ticket.entry(t).or_default().push(b);
            }
        }
        let split = |list: &Option<String>| -> Vec<String> {
            list.as_deref()
                .map(|l| l.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        };
        let (ids, clients, statuses, severities, risks, revenues, customers, deadlines, created) = (
            split(&rows.0),
            split(&rows.1),
            split(&rows.2),
            split(&rows.3),
            split(&rows.4),
            split(&rows.5),
            split(&rows.6),
            split(&rows.7),
            split(&rows.8),
        );
        let bad = || {
            StoreError::Database(sqlx::Error::Decode(
                "the backlog lists do not line up".into(),
            ))
        };
        if [
            &clients,
            &statuses,
            &severities,
            &risks,
            &revenues,
            &customers,
            &deadlines,
            &created,
        ]
        .iter()
        .any(|l| l.len() != ids.len())
        {
            return Err(bad());
        }
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        (0..ids.len())
            .map(|i| {
                let id: i64 = ids[i].parse().map_err(|_| bad())?;
                let created_ms: i64 = created[i].parse().map_err(|_| bad())?;
                Ok(BacklogItem {
                    id,
                    number: TicketNumber(id),
                    client_id: clients[i].parse().map_err(|_| bad())?,
                    status: parsed("status", TicketStatus::parse(&statuses[i]))?,
                    severity: opt("severity", some(&severities[i]), Severity::parse)?,
                    business_risk: opt("business_risk", some(&risks[i]), Impact::parse)?,
                    revenue_impact: opt("revenue_impact", some(&revenues[i]), Impact::parse)?,
                    customer_effect: opt("customer_effect", some(&customers[i]), Impact::parse)?,
                    launch_deadline: opt("launch_deadline", some(&deadlines[i]), |s| {
                        s.parse::<Date>()
                    })?,
                    created_at: parsed(
                        "created_at",
                        jiff::Timestamp::from_millisecond(created_ms),
                    )?,
                    blocked_by: by_ticket.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }
}

impl Store {
    /// Client slug and title of every open ticket, to label backlog rows.
    pub async fn open_ticket_labels(
        &self,
    ) -> Result<std::collections::HashMap<i64, (String, String)>> {
        let sql = format!(
            "SELECT t.id, c.slug, t.title FROM tickets t JOIN clients c ON c.id = t.client_id WHERE t.status NOT IN ({})",
            done_ticket_statuses()
        );
        let rows: Vec<(i64, String, String)> = with_pool!(&self.db, p => sqlx::query_as(&sql)
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, slug, title)| (id, (slug, title)))
            .collect())
    }
}

/// Writes a message in the caller's transaction: the row, and for a public reply the
/// first-response time and the `public-reply` event the SLA clocks read, and the audit
/// row. `emailed_to` lists who got it by email, when it was sent from a template.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_message(
    tx: &mut Tx,
    actor: &Actor,
    author_user: Option<i64>,
    (number, client_id): (i64, i64),
    visibility: Visibility,
    body: &str,
    emailed_to: Option<&str>,
    now: i64,
) -> Result<i64> {
    let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO ticket_messages (ticket_id, visibility, author_label, author_user_id, body, created_at, emailed_to) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(number).bind(visibility.as_str()).bind(&actor.label).bind(author_user).bind(body).bind(now).bind(emailed_to)
        .fetch_one(&mut *c).await)?;
    if visibility == Visibility::Public {
        with_tx!(tx, c => sqlx::query("UPDATE tickets SET first_response_at = COALESCE(first_response_at, $1), updated_at = $1 WHERE id = $2")
            .bind(now).bind(number).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        record_event(tx, number, "public-reply", None, None, actor).await?;
    }
    let summary = match (visibility, emailed_to) {
        (Visibility::Public, Some(to)) => format!("emailed {to} about ticket #{number}"),
        (Visibility::Public, None) => format!("added a public reply to ticket #{number}"),
        (Visibility::Internal, _) => format!("added an internal note to ticket #{number}"),
    };
    audit::record(
        tx,
        actor,
        Change {
            action: Action::Create,
            entity: "ticket_message",
            entity_id: Some(id),
            client_id: Some(client_id),
            summary,
            before: &[],
            after: &[],
        },
    )
    .await?;
    Ok(id)
}

/// One SLA clock of a ticket as of a moment, in plain values for pages, the CLI and the
/// API. Times are UTC milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct TicketClock {
    /// "response" or "resolution".
    pub kind: String,
    /// "First response" or "Resolution".
    pub name: &'static str,
    /// running, paused, met-in-time, met-late, breached, no-target
    pub state: &'static str,
    /// What the target allows, in words ("8 h of business time (P1)").
    pub target: String,
    pub due_at: Option<i64>,
    pub warn_at: Option<i64>,
    pub remaining_minutes: Option<i64>,
    pub paused: bool,
    pub warned: bool,
    pub breached: bool,
    /// "3 h 20 m of business time left", "breached 2 h ago", …
    pub time_left: String,
    pub timeline: Vec<ClockLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClockLine {
    pub at: i64,
    pub text: String,
}

/// A history row as the clocks read it, borrowed from wherever it was decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventView<'a> {
    pub at: i64,
    pub kind: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
}

pub(crate) fn moments(events: &[TicketEvent]) -> Vec<TicketMoment> {
    let views: Vec<EventView<'_>> = events
        .iter()
        .map(|e| EventView {
            at: e.at,
            kind: &e.kind,
            from: e.from.as_deref(),
            to: e.to.as_deref(),
        })
        .collect();
    moments_of(&views)
}

pub(crate) fn moments_of(events: &[EventView<'_>]) -> Vec<TicketMoment> {
    let ts = |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let sev = |v: &Option<&str>| v.and_then(|s| Severity::parse(s).ok());
    let status = |v: &Option<&str>| v.and_then(|s| TicketStatus::parse(s).ok());
    let created_at = events.iter().find(|e| e.kind == "created").map(|e| e.at);
    let mut out: Vec<TicketMoment> = Vec::with_capacity(events.len());
    for e in events {
        let change = match e.kind {
            "created" => TicketChange::Created { severity: None },
            // A severity given when the ticket was opened is its starting severity.
            "severity" if Some(e.at) == created_at => {
                if let Some(TicketMoment {
                    change: TicketChange::Created { severity },
                    ..
                }) = out.first_mut()
                {
                    *severity = sev(&e.to);
                }
                continue;
            }
            "severity" => TicketChange::Severity(sev(&e.to)),
            "status" => match (status(&e.from), status(&e.to)) {
                (Some(from), Some(to)) => TicketChange::Status { from, to },
                _ => continue,
            },
            "public-reply" => TicketChange::PublicReply,
            _ => continue,
        };
        out.push(TicketMoment {
            at: ts(e.at),
            change,
        });
    }
    out
}

/// A clock's name as people read it.
pub fn clock_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Response => "First response",
        TargetKind::NextUpdate => "Next update",
        TargetKind::Resolution => "Resolution",
    }
}

fn state_name(state: &ClockState) -> &'static str {
    match state {
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::MetInTime { .. } => "met-in-time",
        ClockState::MetLate { .. } => "met-late",
        ClockState::Breached => "breached",
        ClockState::NoTarget { .. } => "no-target",
    }
}

impl Store {
    /// A ticket's SLA clocks as of `now`, derived from its history, its client's
    /// calendar and its plan's targets (no contract that is still served, no clocks).
    pub async fn ticket_clocks(
        &self,
        number: i64,
        now: jiff::Timestamp,
    ) -> Result<Vec<TicketClock>> {
        let ticket = self.ticket(number).await?;
        let events = self.ticket_events(number).await?;
        self.clocks_of(&ticket, &events, now).await
    }

    /// The clocks of a ticket whose row and history the caller already has.
    pub async fn clocks_of(
        &self,
        ticket: &Ticket,
        events: &[TicketEvent],
        now: jiff::Timestamp,
    ) -> Result<Vec<TicketClock>> {
        let client = self.client_by_id(ticket.client_id).await?;
        // Only a contract that is still served promises response times.
        let Some(contract) = self
            .client_contracts(client.id)
            .await?
            .into_iter()
            .find(|c| c.state.is_live())
        else {
            return Ok(Vec::new());
        };
        let plan = self.plan_by_code(&contract.plan_code).await?;
        let tz = jiff::tz::TimeZone::get(&client.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let calendar = BusinessCalendar {
            hours: client.hours.clone(),
            holidays: client.holidays.clone(),
        };
        let hours = BusinessHours::new(&calendar, tz);
        let ctx = ClockContext {
            hours: &hours,
            warn: self.sla_warn,
        };
        let severity = clock_severity(ticket.severity);
        let mut out = Vec::new();
        for (kind, history) in ticket_clock_histories(&moments(events), &plan.terms.sla) {
            let status = evaluate_clock(&history, ctx, now)
                .map_err(|e| StoreError::invalid("clock", e.to_string()))?;
            out.push(TicketClock {
                kind: kind.as_str().to_string(),
                name: clock_name(kind),
                state: state_name(&status.state),
                target: format!(
                    "{} ({})",
                    history.target().describe(),
                    severity.as_str().to_uppercase()
                ),
                due_at: status.due.map(|t| t.as_millisecond()),
                warn_at: status.warn_at.map(|t| t.as_millisecond()),
                remaining_minutes: status.remaining_minutes,
                paused: status.paused,
                warned: status.warned,
                breached: status.breached,
                time_left: time_left(&status, now).to_string(),
                timeline: status
                    .timeline
                    .iter()
                    .map(|e| ClockLine {
                        at: e.at.as_millisecond(),
                        text: e.explain(),
                    })
                    .collect(),
            });
        }
        Ok(out)
    }
}

impl Store {
    /// Numbers of every ticket matching a filter (no paging): the backlog orders them by
    /// rank itself and then loads only the page it shows.
    pub async fn ticket_numbers(&self, filter: &TicketFilter) -> Result<Vec<i64>> {
        let (where_sql, binds) = ticket_filter_sql(filter);
        let sql = format!(
            "SELECT {} FROM tickets t JOIN clients c ON c.id = t.client_id WHERE {where_sql}",
            self.concat("CAST(t.id AS TEXT)", ",", None)
        );
        let ids: Option<String> = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&sql), &binds).fetch_one(p).await)?;
        let mut numbers: Vec<i64> = ids
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter_map(|n| n.parse().ok())
            .collect();
        numbers.sort_unstable_by(|a, b| b.cmp(a));
        Ok(numbers)
    }

    /// Tickets by number, in the order given (numbers that do not exist are skipped).
    pub async fn tickets_by_numbers(&self, numbers: &[i64]) -> Result<Vec<Ticket>> {
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = numbers.iter().map(i64::to_string).collect();
        // Integers from our own rows, so inlining them is safe.
        let sql = format!("{SELECT} WHERE t.id IN ({})", list.join(","));
        let mut found = with_pool!(&self.db, p => {
            sqlx::query(&sql).fetch_all(p).await?
                .iter()
                .map(|r| ticket_from_row(r, Vec::new()))
                .collect::<Result<Vec<_>>>()
        })?;
        self.fill_dependencies(&mut found).await?;
        let mut by_number: std::collections::HashMap<i64, Ticket> =
            found.into_iter().map(|t| (t.number, t)).collect();
        Ok(numbers.iter().filter_map(|n| by_number.remove(n)).collect())
    }
}

/// The WHERE clause and bound values of a ticket filter.
fn ticket_filter_sql(filter: &TicketFilter) -> (String, Vec<Bind>) {
    let mut conds = vec!["c.deleted_at IS NULL".to_string()];
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |cond: &str, value: Bind| {
        binds.push(value);
        conds.push(cond.replace("$?", &format!("${}", binds.len())));
    };
    if let Some(id) = filter.client_id {
        push("t.client_id = $?", Bind::Int(id));
    }
    if let Some(id) = filter.owner_id {
        push("t.owner_id = $?", Bind::Int(id));
    }
    if let Some(s) = filter.status {
        push("t.status = $?", Bind::Text(s.as_str().into()));
    }
    if let Some(s) = filter.severity {
        push("t.severity = $?", Bind::Text(s.as_str().into()));
    }
    if filter.open_only {
        conds.push(format!("t.status NOT IN ({})", done_ticket_statuses()));
    }
    if filter.incomplete {
        conds.push(INCOMPLETE_SQL.into());
    }
    (conds.join(" AND "), binds)
}

/// [`write_message`] for a caller that has only the ticket's number and client, and
/// wants the message back (monitoring notes on alert tickets).
pub(crate) async fn insert_message(
    tx: &mut Tx,
    actor: &Actor,
    author_user: Option<i64>,
    (number, client_id): (i64, i64),
    visibility: Visibility,
    body: &str,
    now: i64,
) -> Result<Message> {
    let id = write_message(
        tx,
        actor,
        author_user,
        (number, client_id),
        visibility,
        body,
        None,
        now,
    )
    .await?;
    Ok(Message {
        id,
        visibility: visibility.as_str().into(),
        author: actor.label.clone(),
        body: body.into(),
        created_at: now,
        emailed_to: None,
    })
}

/// Resolves an open ticket inside the caller's transaction, as a person's "resolve"
/// does (status event, so its clocks stop; audited): monitoring resolves its alert
/// ticket when the check recovers, if the check says so. Returns false when the ticket
/// was no longer open.
pub(crate) async fn resolve_in(
    tx: &mut Tx,
    actor: &Actor,
    (number, client_id): (i64, i64),
    now: i64,
) -> Result<bool> {
    let status: String = with_tx!(tx, c => sqlx::query_scalar(
        "SELECT status FROM tickets WHERE id = $1").bind(number).fetch_one(&mut *c).await)?;
    let from = crate::row::parsed("status", TicketStatus::parse(&status))?;
    if !from.is_open() {
        return Ok(false);
    }
    let to = TicketStatus::Resolved;
    with_tx!(tx, c => sqlx::query(
        "UPDATE tickets SET status = $1, updated_at = $2, resolved_at = $2, closed_at = NULL WHERE id = $3")
        .bind(to.as_str()).bind(now).bind(number)
        .execute(&mut *c).await.map(|_| ()))?;
    record_event_at(
        tx,
        number,
        now,
        "status",
        Some(from.as_str()),
        Some(to.as_str()),
        actor,
    )
    .await?;
    audit::record(
        tx,
        actor,
        Change {
            action: Action::Update,
            entity: "ticket",
            entity_id: Some(number),
            client_id: Some(client_id),
            summary: format!("moved ticket #{number} to {} (check recovered)", to.label()),
            before: &[("status", from.as_str().to_string())],
            after: &[("status", to.as_str().to_string())],
        },
    )
    .await?;
    Ok(true)
}
