//! The heartbeat watcher: moves checks whose deadline passed to late or down, then
//! turns every state change into its alert: a down check opens a monitoring ticket
//! (severity from the check's criticality) or adds to the one still open, a recovery
//! adds a note, and both queue an email through the outbox in the same transaction.
//!
//! Two instances can watch one PostgreSQL: due checks are claimed with
//! `FOR UPDATE SKIP LOCKED`, and a flip is handled by whichever instance marks it first.

use tend_domain::check::{down_alert, recovery_note, AlertFacts, CheckState};
use tend_store::checks::{FlipAlert, PendingFlip};
use tend_store::outbox::{NewMessage, EMAIL};
use tend_store::users::{who_hears, User};
use tend_store::{Result, Store};

/// Checks moved per transaction.
const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WatchReport {
    /// Checks that turned late or down because a deadline passed.
    pub flipped: usize,
    /// Tickets opened or added to.
    pub tickets: usize,
    /// Emails queued.
    pub messages: usize,
}

impl std::fmt::Display for WatchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} checks flipped, {} tickets touched, {} emails queued",
            self.flipped, self.tickets, self.messages
        )
    }
}

/// One pass as of `now` (UTC ms). `public_url` starts the links in the messages.
pub async fn watch(store: &Store, now: i64, public_url: &str) -> Result<WatchReport> {
    let mut report = WatchReport::default();
    loop {
        let flips = store.advance_due_checks(now, BATCH).await?;
        report.flipped += flips.len();
        if (flips.len() as i64) < BATCH {
            break;
        }
    }
    let mut users: Option<Vec<User>> = None;
    loop {
        let pending = store.pending_flips(BATCH).await?;
        if pending.is_empty() {
            break;
        }
        if users.is_none() {
            users = Some(store.list_users().await?);
        }
        let staff = users.as_deref().unwrap_or_default();
        for p in &pending {
            let alert = alert_for(p);
            let messages = match &alert {
                FlipAlert::Quiet => Vec::new(),
                alert => who_hears(&[p.client_owner_id], staff)
                    .into_iter()
                    .map(|to| message(p, alert, to, public_url))
                    .collect(),
            };
            if let Some(ticket) = store.settle_flip(p, &alert, &messages, now).await? {
                report.tickets += usize::from(ticket.is_some());
                report.messages += messages.len();
            }
        }
        if (pending.len() as i64) < BATCH {
            break;
        }
    }
    Ok(report)
}

/// What a flip means for the check's ticket: down opens or updates it, up after down
/// adds a recovery note, anything else is quiet.
pub fn alert_for(p: &PendingFlip) -> FlipAlert {
    if let Some(probe) = &p.probe {
        return crate::probe::alert_for(p, probe);
    }
    let schedule = p.check.schedule_text();
    let f = AlertFacts {
        check_name: &p.check.name,
        client_name: &p.check.client_name,
        workflow: &p.check.workflow,
        criticality: p.check.criticality,
        schedule: &schedule,
        grace_ms: p.check.grace_ms,
        last_ping_at: p.check.last_ping_at,
        last_failed: p.check.last_failed,
        at: p.flip.at,
    };
    match (p.flip.old_state, p.flip.new_state) {
        (_, CheckState::Down) => {
            let (title, body) = down_alert(&f);
            FlipAlert::Down {
                title,
                body,
                severity: p.check.criticality.severity(),
            }
        }
        (CheckState::Down, CheckState::Up) => FlipAlert::Recovered {
            note: recovery_note(&f),
        },
        _ => FlipAlert::Quiet,
    }
}

fn message(p: &PendingFlip, alert: &FlipAlert, to: &User, public_url: &str) -> NewMessage {
    let (subject, text) = match alert {
        FlipAlert::Down { title, body, .. } => (title.clone(), body.clone()),
        FlipAlert::Recovered { note } => (
            format!("Check up: {} ({})", p.check.name, p.check.client_name),
            note.clone(),
        ),
        FlipAlert::Quiet => (String::new(), String::new()),
    };
    NewMessage {
        // One message per flip and person, however many instances or restarts.
        event_key: format!("check:{}:flip:{}:{}", p.check.id, p.flip.id, to.email),
        channel: EMAIL,
        recipient: to.email.clone(),
        subject,
        body: format!(
            "{text}\n\nOpen the check: {}/checks/{}\n",
            public_url.trim_end_matches('/'),
            p.check.uuid
        ),
        client_id: Some(p.check.client_id),
        ticket_id: None,
    }
}
