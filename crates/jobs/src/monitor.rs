//! The heartbeat watcher: moves checks whose deadline passed to late or down, then
//! turns every state change into its alert: a down check opens a monitoring ticket
//! (severity from the check's criticality) or adds to the one still open, a recovery
//! adds a note, and both queue an email through the outbox in the same transaction.
//!
//! Two instances can watch one PostgreSQL: due checks are claimed with
//! `FOR UPDATE SKIP LOCKED`, and a flip is handled by whichever instance marks it first.

use std::collections::HashSet;

use tend_domain::check::{down_alert, recovery_note, AlertFacts, CheckState};
use tend_domain::event_stream::REASON_DRIFT;
use tend_domain::maintenance::is_silenced;
use tend_store::checks::{FlipAlert, PendingFlip};
use tend_store::outbox::{NewMessage, EMAIL};
use tend_store::users::{who_hears, User};
use tend_store::{Result, Store};

use crate::alerting::Alerting;

/// Checks moved per transaction.
const BATCH: i64 = 500;

/// How long hourly ping counts are kept for reports: a year and a month, so a
/// year-on-year report still finds last year's month. Older hours are dropped by
/// [`prune_ping_hours`], which `tend serve` runs every hour.
pub const PING_HOURS_KEPT_DAYS: i64 = 400;
/// Hourly counts dropped per statement.
const PRUNE_BATCH: i64 = 10_000;

/// Drops the hourly ping counts older than [`PING_HOURS_KEPT_DAYS`] before `now`
/// (UTC ms), so the table stays bounded however long checks keep pinging. Returns how
/// many rows went.
pub async fn prune_ping_hours(store: &Store, now: i64) -> Result<u64> {
    let before = now - PING_HOURS_KEPT_DAYS * 24 * 3_600_000;
    store.prune_ping_hours(before, PRUNE_BATCH).await
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WatchReport {
    /// Checks that turned late or down because a deadline passed.
    pub flipped: usize,
    /// Tickets opened or added to.
    pub tickets: usize,
    /// Emails queued.
    pub messages: usize,
    /// Alerts held back by a maintenance window.
    pub silenced: usize,
}

impl std::fmt::Display for WatchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} checks flipped, {} tickets touched, {} messages queued",
            self.flipped, self.tickets, self.messages
        )?;
        if self.silenced > 0 {
            write!(f, ", {} alerts held by maintenance windows", self.silenced)?;
        }
        Ok(())
    }
}

/// One pass as of `now` (UTC ms). `public_url` starts the links in the messages.
pub async fn watch(store: &Store, now: i64, public_url: &str) -> Result<WatchReport> {
    watch_with(store, now, &Alerting::email_only(public_url)).await
}

/// [`watch`], also telling the Slack and webhook channels that hear each alert, and
/// holding back the alerts of checks inside a maintenance window.
pub async fn watch_with(store: &Store, now: i64, alerting: &Alerting) -> Result<WatchReport> {
    let mut report = WatchReport::default();
    loop {
        let flips = store.advance_due_checks(now, BATCH).await?;
        report.flipped += flips.len();
        if (flips.len() as i64) < BATCH {
            break;
        }
    }
    alert_pending(store, now, alerting, &mut report).await?;
    Ok(report)
}

/// Turns every flip not yet handled into its alert (ticket and outbox messages), holding
/// back the alerts of checks inside a maintenance window; the heartbeat watcher and the
/// event-volume scan both end with it.
pub async fn alert_pending(
    store: &Store,
    now: i64,
    alerting: &Alerting,
    report: &mut WatchReport,
) -> Result<()> {
    let public_url = alerting.public_url.as_str();
    // A window that ended over a check still down: its alert, held back until now.
    let windows = store.live_windows(now).await?;
    let mut held = HashSet::new();
    for h in store.held_alerts().await? {
        if is_silenced(&windows, h.check_id, h.client_id, now).is_some() {
            held.insert(h.check_id);
        } else {
            store.release_held_alert(h.check_id, now).await?;
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
            let (check_id, client_id) = (p.check.id, p.check.client_id);
            // Inside a window a down alert waits (the flip is kept); a recovery of a
            // check whose alert waited has nothing left to say; a drift inside a window
            // (the client changing its forms, say) is recorded and not alerted.
            let hold = match &alert {
                FlipAlert::Down { .. } | FlipAlert::Drift { .. } => {
                    is_silenced(&windows, check_id, client_id, now).is_some()
                }
                FlipAlert::Recovered { .. } => held.contains(&check_id),
                FlipAlert::Quiet => false,
            };
            if hold {
                let mark = match alert {
                    FlipAlert::Down { .. } => Some(true),
                    FlipAlert::Drift { .. } => None,
                    _ => Some(false),
                };
                if store
                    .settle_silenced_flip(p.flip.id, check_id, mark, now)
                    .await?
                {
                    report.silenced += 1;
                }
                match mark {
                    Some(true) => held.insert(check_id),
                    Some(false) => held.remove(&check_id),
                    None => false,
                };
                continue;
            }
            let mut messages: Vec<NewMessage> = match &alert {
                FlipAlert::Quiet => Vec::new(),
                alert => who_hears(&[p.client_owner_id], staff)
                    .into_iter()
                    .map(|to| message(p, alert, to, public_url))
                    .collect(),
            };
            if let Some(notice) = alerting.flip_notice(p, &alert) {
                messages.extend(alerting.channel_messages(&notice, Some(client_id), None));
            }
            if let Some(ticket) = store.settle_flip(p, &alert, &messages, now).await? {
                report.tickets += usize::from(ticket.is_some());
                report.messages += messages.len();
            }
        }
        if (pending.len() as i64) < BATCH {
            break;
        }
    }
    Ok(())
}

/// What a flip means for the check's ticket: down opens or updates it, up after down
/// adds a recovery note, anything else is quiet.
pub fn alert_for(p: &PendingFlip) -> FlipAlert {
    if let Some(probe) = &p.probe {
        return crate::probe::alert_for(p, probe);
    }
    if let Some(detail) = &p.flip.detail {
        return stream_alert(p, detail);
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

/// An event stream's flip: its detail already says what was expected and what happened
/// (drift findings, or volume against its baseline).
fn stream_alert(p: &PendingFlip, detail: &str) -> FlipAlert {
    let c = &p.check;
    let workflow = if c.workflow.is_empty() {
        String::new()
    } else {
        format!("Workflow: {}\n", c.workflow)
    };
    let body = format!("{workflow}Criticality: {}\n{detail}", c.criticality.label());
    match (p.flip.old_state, p.flip.new_state) {
        _ if p.flip.reason == REASON_DRIFT => FlipAlert::Drift {
            title: format!("Payload drift: {} ({})", c.name, c.client_name),
            body,
            severity: c.criticality.severity(),
        },
        (_, CheckState::Down) => FlipAlert::Down {
            title: format!("Volume anomaly: {} ({})", c.name, c.client_name),
            body,
            severity: c.criticality.severity(),
        },
        (CheckState::Down, CheckState::Up) => FlipAlert::Recovered {
            note: detail.to_string(),
        },
        _ => FlipAlert::Quiet,
    }
}

fn message(p: &PendingFlip, alert: &FlipAlert, to: &User, public_url: &str) -> NewMessage {
    let (subject, text) = match alert {
        FlipAlert::Down { title, body, .. } | FlipAlert::Drift { title, body, .. } => {
            (title.clone(), body.clone())
        }
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
