//! The outbox: every message Tend sends is first a row here, written in the same
//! transaction as its cause, then delivered by the delivery job.
//!
//! Delivery claims a batch under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
//! serialises writers), commits, sends, then marks each row sent or schedules a retry.
//! A row claimed by an instance that died is claimed again once its lease runs out.
//! Each row has an event key: writing the same event twice adds nothing, which is what
//! makes "one message per event" hold across restarts and instances.

use serde::Serialize;
use tend_domain::delivery::{after_failure, AfterFailure};
use tend_domain::page::{Page, PageRequest};

use crate::audit::{self, Action, Change};
use crate::row::RowExt;
use crate::{with_pool, with_tx, Actor, Db, Result, Store, StoreError, Tx};

/// How messages leave Tend: email, Slack incoming webhooks, signed webhooks (the
/// recipient of the last two is a channel name from the configuration).
pub const EMAIL: &str = "email";
pub const SLACK: &str = "slack";
pub const WEBHOOK: &str = "webhook";

/// A message to send, as its cause writes it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Names the event and the recipient: `sla:42:response:p1@…:breach:ann@agency.test`.
    pub event_key: String,
    pub channel: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub event_key: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub client_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// pending, sending, sent, failed; draft (waits for a person), discarded
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "id, event_key, channel, recipient, subject, body, client_id, ticket_id, \
     state, attempts, next_attempt_at, last_error, created_at, sent_at";

fn message_from_row<R: RowExt>(r: &R) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: r.int("id")?,
        event_key: r.text("event_key")?,
        channel: r.text("channel")?,
        recipient: r.text("recipient")?,
        subject: r.text("subject")?,
        body: r.text("body")?,
        client_id: r.opt_int("client_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        state: r.text("state")?,
        attempts: r.int("attempts")?,
        next_attempt_at: r.int("next_attempt_at")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.int("created_at")?,
        sent_at: r.opt_int("sent_at")?,
    })
}

/// Writes a message inside the caller's transaction. Returns false when a message for
/// the same event key is already there (nothing is written then).
pub async fn enqueue(tx: &mut Tx, message: &NewMessage, now: i64) -> Result<bool> {
    let sql = "INSERT INTO outbox (event_key, channel, recipient, subject, body, client_id, ticket_id, \
         state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) ON CONFLICT (event_key) DO NOTHING";
    let written = with_tx!(tx, c => sqlx::query(sql)
        .bind(&message.event_key)
        .bind(message.channel)
        .bind(&message.recipient)
        .bind(&message.subject)
        .bind(&message.body)
        .bind(message.client_id)
        .bind(message.ticket_id)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(written == 1)
}

/// Writes many messages inside the caller's transaction, a hundred per statement; those
/// whose event key is already there are left out, as [`enqueue`] does. Returns how many
/// were written.
pub async fn enqueue_all(tx: &mut Tx, messages: &[&NewMessage], now: i64) -> Result<u64> {
    let mut written = 0;
    for chunk in messages.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO outbox (event_key, channel, recipient, subject, body, client_id, ticket_id, \
             state, attempts, next_attempt_at, created_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let p = i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 'pending', 0, $1, $1)",
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7,
                p + 8
            ));
        }
        sql.push_str(" ON CONFLICT (event_key) DO NOTHING");
        written += with_tx!(tx, c => {
            let mut q = sqlx::query(&sql).bind(now);
            for m in chunk {
                q = q
                    .bind(&m.event_key)
                    .bind(m.channel)
                    .bind(&m.recipient)
                    .bind(&m.subject)
                    .bind(&m.body)
                    .bind(m.client_id)
                    .bind(m.ticket_id);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(written)
}

/// Which messages an operator lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxView {
    All,
    /// Failed (given up) and still retrying: what needs a look.
    Trouble,
    /// Drafted for a person to review and send (the hour bank's emails to clients).
    Drafts,
}

impl Store {
    /// Writes one message in its own transaction (see [`enqueue`]).
    pub async fn enqueue_message(&self, message: &NewMessage, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let written = enqueue(&mut tx, message, now).await?;
        tx.commit().await?;
        Ok(written)
    }

    /// Claims up to `limit` messages that are due (or whose earlier claim's lease ran
    /// out) until `lease_until`, counting the attempt. The claim is committed before
    /// the caller sends anything.
    pub async fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>> {
        self.claim_outbox_on(now, lease_until, limit, &[EMAIL, SLACK, WEBHOOK])
            .await
    }

    /// [`Store::claim_outbox`] for the given channels only: an instance without a mail
    /// server still delivers Slack and webhook messages, and leaves email waiting.
    pub async fn claim_outbox_on(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
        channels: &[&str],
    ) -> Result<Vec<OutboxMessage>> {
        if channels.is_empty() {
            return Ok(Vec::new());
        }
        let list = (0..channels.len())
            .map(|i| format!("${}", i + 4))
            .collect::<Vec<_>>()
            .join(", ");
        let due = format!(
            "((state = 'pending' AND next_attempt_at <= $2) OR (state = 'sending' AND lease_until < $2)) \
             AND channel IN ({list})"
        );
        let sql = match self.db {
            Db::Pg(_) => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING {COLUMNS}"
            ),
            Db::Sqlite(_) => format!(
                "UPDATE outbox SET state = 'sending', lease_until = $1, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $3) \
                 RETURNING {COLUMNS}"
            ),
        };
        let mut claimed = with_pool!(&self.db, p => {
            let mut q = sqlx::query(&sql).bind(lease_until).bind(now).bind(limit);
            for channel in channels {
                q = q.bind(*channel);
            }
            q.fetch_all(p)
                .await?
                .iter()
                .map(message_from_row)
                .collect::<Result<Vec<_>>>()
        })?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    /// Marks a claimed message delivered. Only the holder of the lease may: a claim that
    /// outlived its lease (and was claimed again elsewhere) changes nothing.
    pub async fn outbox_delivered(&self, id: i64, lease_until: i64, now: i64) -> Result<bool> {
        let done = with_pool!(&self.db, p => sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
             WHERE id = $2 AND state = 'sending' AND lease_until = $3")
            .bind(now)
            .bind(id)
            .bind(lease_until)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Records a failed attempt: schedules the next one with backoff, or gives up (at
    /// once when the failure is `permanent`: a retry cannot help a refused address).
    pub async fn outbox_failed(
        &self,
        message: &OutboxMessage,
        lease_until: i64,
        error: &str,
        permanent: bool,
        now: i64,
    ) -> Result<AfterFailure> {
        let next = if permanent {
            AfterFailure::GiveUp
        } else {
            after_failure(message.attempts)
        };
        let (state, next_at) = match next {
            AfterFailure::RetryIn(seconds) => ("pending", now + seconds * 1000),
            AfterFailure::GiveUp => ("failed", now),
        };
        // Errors from mail servers can be long; the operator needs the gist.
        let error: String = error.chars().take(500).collect();
        with_pool!(&self.db, p => sqlx::query(
            "UPDATE outbox SET state = $1, next_attempt_at = $2, last_error = $3, lease_until = NULL \
             WHERE id = $4 AND state = 'sending' AND lease_until = $5")
            .bind(state)
            .bind(next_at)
            .bind(&error)
            .bind(message.id)
            .bind(lease_until)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(next)
    }

    /// An operator's "retry now" on a failed or waiting message (audited).
    pub async fn retry_outbox(&self, actor: &Actor, id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let changed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE outbox SET state = 'pending', next_attempt_at = $1, attempts = 0 \
             WHERE id = $2 AND state IN ('failed', 'pending')")
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(match self.outbox_message(id).await {
                Ok(m) => StoreError::Guarded(format!(
                    "message {id} is {} and cannot be retried",
                    m.state
                )),
                Err(e) => e,
            });
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "outbox",
                entity_id: Some(id),
                client_id: None,
                summary: format!("asked to retry message {id} now"),
                before: &[],
                after: &[("state", "pending".to_string())],
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn outbox_message(&self, id: i64) -> Result<OutboxMessage> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        with_pool!(&self.db, p => {
            match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
                Some(r) => message_from_row(&r),
                None => Err(StoreError::NotFound("message")),
            }
        })
    }

    /// Newest first, a page at a time.
    pub async fn list_outbox(
        &self,
        view: OutboxView,
        page: PageRequest,
    ) -> Result<Page<OutboxMessage>> {
        let filter = match view {
            OutboxView::All => "1 = 1",
            OutboxView::Trouble => "state = 'failed' OR (state = 'pending' AND attempts > 0)",
            OutboxView::Drafts => "state = 'draft'",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE {filter} ORDER BY id DESC LIMIT $1 OFFSET $2"
        );
        let count_sql = format!("SELECT COUNT(*) FROM outbox WHERE {filter}");
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            let total: i64 = sqlx::query_scalar(&count_sql).fetch_one(p).await?;
            let items = rows.iter().map(message_from_row).collect::<Result<Vec<_>>>()?;
            Ok(Page::new(items, page, total))
        })
    }

    /// A client's drafts waiting for review, oldest first.
    pub async fn client_drafts(&self, client_id: i64) -> Result<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE client_id = $1 AND state = 'draft' ORDER BY id"
        );
        with_pool!(&self.db, p => {
            sqlx::query(&sql).bind(client_id).fetch_all(p).await?
                .iter()
                .map(message_from_row)
                .collect()
        })
    }

    /// Sends a reviewed draft: its subject and body as the person left them (blanks in
    /// `[brackets]` must be filled in), queued for delivery now (audited).
    pub async fn send_draft(
        &self,
        actor: &Actor,
        id: i64,
        subject: &str,
        body: &str,
        now: i64,
    ) -> Result<OutboxMessage> {
        let draft = self.outbox_message(id).await?;
        if draft.state != "draft" {
            return Err(StoreError::Guarded(format!(
                "message {id} is {}, not a draft: only drafts are sent this way",
                draft.state
            )));
        }
        let written = tend_domain::message_template::RenderedMessage {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            body: body.replace("\r\n", "\n"),
        };
        let e = tend_domain::message_template::ready_to_send(&written);
        if !e.is_empty() {
            return Err(StoreError::Invalid(e));
        }
        let mut tx = self.begin().await?;
        let changed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE outbox SET state = 'pending', subject = $1, body = $2, next_attempt_at = $3 \
             WHERE id = $4 AND state = 'draft'")
            .bind(&written.subject)
            .bind(&written.body)
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Guarded(format!(
                "message {id} was sent or discarded meanwhile"
            )));
        }
        let edited = written.subject != draft.subject || written.body != draft.body;
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "outbox",
                entity_id: Some(id),
                client_id: draft.client_id,
                summary: format!(
                    "sent the drafted email {id} to {}{}",
                    draft.recipient,
                    if edited { ", edited" } else { "" }
                ),
                before: &[("state", "draft".to_string())],
                after: &[
                    ("state", "pending".to_string()),
                    ("subject", written.subject.clone()),
                ],
            },
        )
        .await?;
        tx.commit().await?;
        self.outbox_message(id).await
    }

    /// Drops a draft unsent; the row stays, marked discarded, so the history shows it
    /// (audited).
    pub async fn discard_draft(&self, actor: &Actor, id: i64) -> Result<()> {
        let draft = self.outbox_message(id).await?;
        let mut tx = self.begin().await?;
        let changed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE outbox SET state = 'discarded' WHERE id = $1 AND state = 'draft'")
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Guarded(format!(
                "message {id} is {}, not a draft: only drafts can be discarded",
                draft.state
            )));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "outbox",
                entity_id: Some(id),
                client_id: draft.client_id,
                summary: format!("discarded the drafted email {id} to {}", draft.recipient),
                before: &[("state", "draft".to_string())],
                after: &[("state", "discarded".to_string())],
            },
        )
        .await?;
        tx.commit().await
    }

    /// Every message about one ticket, oldest first (for its page).
    pub async fn ticket_outbox(&self, ticket_id: i64) -> Result<Vec<OutboxMessage>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE ticket_id = $1 ORDER BY id");
        with_pool!(&self.db, p => {
            sqlx::query(&sql).bind(ticket_id).fetch_all(p).await?
                .iter()
                .map(message_from_row)
                .collect()
        })
    }
}
