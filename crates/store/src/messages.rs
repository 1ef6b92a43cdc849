//! Messages to a client's contacts from the agency's templates: the templates
//! themselves (edited rows over Tend's defaults), the facts a template is rendered
//! with, and sending: one public reply on the ticket's thread plus one outbox email per
//! recipient, in one transaction.

use jiff::tz::TimeZone;
use serde::Serialize;
use tend_domain::business_time::BusinessHours;
use tend_domain::calendar::BusinessCalendar;
use tend_domain::message_template::{
    check, default_template, ready_to_send, AgentFacts, ClientFacts, ContactFacts, MessageContext,
    MessageTemplate, PostMortemFacts, RenderedMessage, TemplateKind, TicketFacts,
};
use tend_domain::plan::TargetKind;
use tend_domain::sla_target::{due_time, DueTime};
use tend_domain::ticket_clocks::clock_severity;
use tend_domain::FieldErrors;

use crate::audit::{self, Action, Change};
use crate::outbox::{enqueue, NewMessage, EMAIL};
use crate::tickets::{write_message, Message, Visibility};
use crate::{now_ms, with_pool, with_tx, Actor, Result, Store, StoreError};

/// A template as the agency has it, and whether it is still Tend's default.
#[derive(Debug, Clone, Serialize)]
pub struct StoredTemplate {
    pub kind: TemplateKind,
    #[serde(flatten)]
    pub template: MessageTemplate,
    pub is_default: bool,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub name: String,
    pub email: String,
}

fn template_errors(errors: Vec<tend_domain::message_template::TemplateError>) -> StoreError {
    let mut e = FieldErrors::default();
    for err in errors {
        e.add(err.field, err.message);
    }
    StoreError::Invalid(e)
}

/// The agency's template of `kind` (else Tend's default), read inside a transaction.
pub(crate) async fn template_in(tx: &mut crate::Tx, kind: TemplateKind) -> Result<MessageTemplate> {
    let row: Option<(String, String)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT subject, body FROM message_templates WHERE kind = $1")
        .bind(kind.as_str()).fetch_optional(&mut *c).await)?;
    Ok(match row {
        Some((subject, body)) => MessageTemplate { subject, body },
        None => default_template(kind),
    })
}

impl Store {
    pub async fn message_templates(&self) -> Result<Vec<StoredTemplate>> {
        let rows: Vec<(String, String, String, i64, String)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT kind, subject, body, updated_at, updated_by FROM message_templates")
            .fetch_all(p).await)?;
        Ok(TemplateKind::ALL
            .iter()
            .map(|kind| match rows.iter().find(|r| r.0 == kind.as_str()) {
                Some((_, subject, body, at, by)) => StoredTemplate {
                    kind: *kind,
                    template: MessageTemplate {
                        subject: subject.clone(),
                        body: body.clone(),
                    },
                    is_default: false,
                    updated_at: Some(*at),
                    updated_by: Some(by.clone()),
                },
                None => StoredTemplate {
                    kind: *kind,
                    template: default_template(*kind),
                    is_default: true,
                    updated_at: None,
                    updated_by: None,
                },
            })
            .collect())
    }

    pub async fn message_template(&self, kind: TemplateKind) -> Result<StoredTemplate> {
        self.message_templates()
            .await?
            .into_iter()
            .find(|t| t.kind == kind)
            .ok_or(StoreError::NotFound("template"))
    }

    /// Saves an edited template once it renders against a sample ticket (audited).
    pub async fn save_message_template(
        &self,
        actor: &Actor,
        kind: TemplateKind,
        template: &MessageTemplate,
    ) -> Result<StoredTemplate> {
        check(kind, template).map_err(template_errors)?;
        let before = self.message_template(kind).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO message_templates (kind, subject, body, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind) DO UPDATE SET subject = excluded.subject, body = excluded.body, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by")
            .bind(kind.as_str()).bind(&template.subject).bind(&template.body).bind(now).bind(&actor.label)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "message_template",
                entity_id: None,
                client_id: None,
                summary: format!("edited the {} template", kind.label().to_lowercase()),
                before: &[
                    ("subject", before.template.subject),
                    ("body", before.template.body),
                ],
                after: &[
                    ("subject", template.subject.clone()),
                    ("body", template.body.clone()),
                ],
            },
        )
        .await?;
        tx.commit().await?;
        self.message_template(kind).await
    }

    /// Goes back to Tend's default for a kind (audited; the edited text is in the audit).
    pub async fn reset_message_template(
        &self,
        actor: &Actor,
        kind: TemplateKind,
    ) -> Result<StoredTemplate> {
        let before = self.message_template(kind).await?;
        if before.is_default {
            return Ok(before);
        }
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM message_templates WHERE kind = $1")
            .bind(kind.as_str()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let default = default_template(kind);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "message_template",
                entity_id: None,
                client_id: None,
                summary: format!(
                    "reset the {} template to the default",
                    kind.label().to_lowercase()
                ),
                before: &[
                    ("subject", before.template.subject),
                    ("body", before.template.body),
                ],
                after: &[("subject", default.subject), ("body", default.body)],
            },
        )
        .await?;
        tx.commit().await?;
        self.message_template(kind).await
    }

    /// The client's contacts a ticket's messages can go to.
    pub async fn ticket_recipients(&self, number: i64) -> Result<Vec<Recipient>> {
        let ticket = self.ticket(number).await?;
        Ok(self
            .list_contacts(ticket.client_id)
            .await?
            .into_iter()
            .map(|c| Recipient {
                name: c.name,
                email: c.email,
            })
            .collect())
    }

    /// The contacts named by email (any case), or every contact when none is named; an
    /// email that is not one of the client's contacts is an error on `to`.
    pub async fn choose_recipients(
        &self,
        number: i64,
        emails: &[String],
    ) -> Result<Vec<Recipient>> {
        let contacts = self.ticket_recipients(number).await?;
        if emails.is_empty() {
            return Ok(contacts);
        }
        emails
            .iter()
            .map(|email| {
                contacts
                    .iter()
                    .find(|c| c.email.eq_ignore_ascii_case(email.trim()))
                    .cloned()
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "to",
                            format!("{email} is not a contact of this client"),
                        )
                    })
            })
            .collect()
    }

    /// The facts a template is rendered with for a ticket, its recipients and the
    /// person sending, as of `now` (the next update is due counted from now).
    pub async fn message_context(
        &self,
        number: i64,
        recipients: &[Recipient],
        agent_name: &str,
        now: jiff::Timestamp,
    ) -> Result<MessageContext> {
        let ticket = self.ticket(number).await?;
        let client = self.client_by_id(ticket.client_id).await?;
        let tz = TimeZone::get(&client.timezone).unwrap_or(TimeZone::UTC);
        let plan = match self
            .client_contracts(client.id)
            .await?
            .into_iter()
            .find(|c| c.state.is_live())
        {
            Some(contract) => Some(self.plan_by_code(&contract.plan_code).await?),
            None => None,
        };
        let severity = clock_severity(ticket.severity);
        let update = plan.as_ref().and_then(|p| {
            p.terms
                .sla
                .iter()
                .find(|t| t.severity == severity && t.kind == TargetKind::NextUpdate)
                .cloned()
        });
        let (update_by, update_every) = match &update {
            Some(target) => {
                let calendar = BusinessCalendar {
                    hours: client.hours.clone(),
                    holidays: client.holidays.clone(),
                };
                let hours = BusinessHours::new(&calendar, tz.clone());
                let by = match due_time(target, &hours, now) {
                    Ok(DueTime::At { due, .. }) => due
                        .to_zoned(tz.clone())
                        .strftime("%a %-d %b, %H:%M %Z")
                        .to_string(),
                    Ok(DueTime::Untimed { label }) => label,
                    Err(_) => String::new(),
                };
                (by, target.describe())
            }
            None => (String::new(), String::new()),
        };
        let names: Vec<&str> = recipients.iter().map(|r| r.name.as_str()).collect();
        let contact = match recipients {
            [one] => ContactFacts::new(&one.name, &one.email),
            _ => ContactFacts {
                name: names.join(", "),
                first_name: first_names(&names),
                email: recipients
                    .iter()
                    .map(|r| r.email.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        };
        let post_mortem = self.post_mortem(number).await?.map(|p| PostMortemFacts {
            root_cause: p.root_cause,
            fix: p.fix,
            prevention: p.prevention,
            monitoring_added: p.monitoring_added,
        });
        Ok(MessageContext {
            ticket: TicketFacts {
                number: ticket.number,
                title: ticket.title.clone(),
                severity: ticket
                    .severity
                    .map(|s| s.as_str().to_uppercase())
                    .unwrap_or_default(),
                status: ticket.status.label().to_string(),
                next_action: ticket.next_action.clone(),
                expected_outcome: ticket.expected_outcome.clone(),
                acceptance_test: ticket.acceptance_test.clone(),
            },
            client: ClientFacts {
                name: client.name.clone(),
            },
            contact,
            agent: AgentFacts {
                name: agent_name.to_string(),
            },
            update_by,
            update_every,
            post_mortem,
            hours: None,
        })
    }

    /// Sends a written message: a public reply on the thread (which is the first
    /// response and starts a new next-update cycle, as any public reply) and one outbox
    /// email per recipient, all in one transaction.
    pub async fn send_ticket_message(
        &self,
        actor: &Actor,
        author_user: Option<i64>,
        number: i64,
        message: &RenderedMessage,
        recipients: &[Recipient],
    ) -> Result<Message> {
        let mut e = FieldErrors::default();
        if recipients.is_empty() {
            e.add("recipients", "choose at least one contact");
        }
        for err in ready_to_send(message).iter() {
            e.add(&err.field, err.message.clone());
        }
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        let ticket = self.ticket(number).await?;
        let known = self.ticket_recipients(number).await?;
        if let Some(stranger) = recipients.iter().find(|r| !known.contains(r)) {
            return Err(StoreError::invalid(
                "recipients",
                format!("{} is not a contact of this client", stranger.email),
            ));
        }
        let to = recipients
            .iter()
            .map(|r| r.email.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let now = now_ms();
        let mut tx = self.begin().await?;
        let body = message.body.trim_end();
        let id = write_message(
            &mut tx,
            actor,
            author_user,
            (number, ticket.client_id),
            Visibility::Public,
            body,
            Some(&to),
            now,
        )
        .await?;
        for r in recipients {
            enqueue(
                &mut tx,
                &NewMessage {
                    event_key: format!("ticket-message:{id}:{}", r.email),
                    channel: EMAIL,
                    recipient: format!("{} <{}>", r.name.replace(['<', '>', '"'], ""), r.email),
                    subject: message.subject.clone(),
                    body: format!("{body}\n"),
                    client_id: Some(ticket.client_id),
                    ticket_id: Some(number),
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Message {
            id,
            visibility: Visibility::Public.as_str().into(),
            author: actor.label.clone(),
            body: body.into(),
            created_at: now,
            emailed_to: Some(to),
        })
    }
}

/// "Dana", "Dana and Bo", "Dana, Bo and Sam".
fn first_names(names: &[&str]) -> String {
    let firsts: Vec<&str> = names
        .iter()
        .map(|n| n.split_whitespace().next().unwrap_or("there"))
        .collect();
    match firsts.as_slice() {
        [] => "there".into(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
