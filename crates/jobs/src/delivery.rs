//! The delivery job: claims due outbox messages, sends them, and records each outcome.

use std::collections::HashMap;
use tend_domain::delivery::AfterFailure;

use tend_store::outbox::{EMAIL, SLACK, WEBHOOK};
use tend_store::{Result, Store};

use crate::mail::{MailError, Mailer};
use crate::webhook::Notifier;

/// How long a claim lasts: far longer than a send may take (30 s timeout), so a message
/// is only claimed again if its instance died.
pub const LEASE_MS: i64 = 5 * 60 * 1000;
const BATCH: i64 = 50;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// Delivers what is due now, batch after batch, until nothing is due.
pub async fn deliver_due(store: &Store, mailer: Option<&Mailer>) -> Result<DeliveryReport> {
    deliver_due_by(store, mailer, None).await
}

/// Delivers what is due now by email (with a mail server) and by Slack and webhooks
/// (with a notifier). Messages for a channel that has no sender here wait, pending.
pub async fn deliver_due_by(
    store: &Store,
    mailer: Option<&Mailer>,
    notifier: Option<&Notifier>,
) -> Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    let mut channels = Vec::new();
    if mailer.is_some() {
        channels.push(EMAIL);
    }
    if notifier.is_some() {
        channels.extend([SLACK, WEBHOOK]);
    }
    loop {
        let now = tend_store::now_ms();
        let lease_until = now + LEASE_MS;
        let batch = store
            .claim_outbox_on(now, lease_until, BATCH, &channels)
            .await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let before = report;
        // Once a server cannot be reached, the rest of the batch for it fails the same
        // way without trying (and waiting for) it again: the mail server, or one
        // Slack or webhook channel.
        let mut unreachable: HashMap<(String, String), String> = HashMap::new();
        for message in &batch {
            let route = if message.channel == EMAIL {
                (EMAIL.to_string(), String::new())
            } else {
                (message.channel.clone(), message.recipient.clone())
            };
            let outcome = match (
                unreachable.get(&route),
                message.channel.as_str(),
                mailer,
                notifier,
            ) {
                (Some(e), ..) => Err(MailError::Transport(e.clone())),
                (None, EMAIL, Some(mailer), _) => mailer.send(message).await,
                (None, SLACK | WEBHOOK, _, Some(notifier)) => notifier.send(message).await,
                (None, other, ..) => Err(MailError::Message(format!("unknown channel {other:?}"))),
            };
            if let Err(MailError::Transport(e)) = &outcome {
                unreachable.insert(route, e.clone());
            }
            let now = tend_store::now_ms();
            match outcome {
                Ok(()) => {
                    store.outbox_delivered(message.id, lease_until, now).await?;
                    report.sent += 1;
                }
                Err(e) => {
                    tracing::warn!(message = message.id, channel = %message.channel, recipient = %message.recipient, error = %e, "delivery failed");
                    let permanent = !matches!(e, MailError::Transport(_));
                    match store
                        .outbox_failed(message, lease_until, &e.to_string(), permanent, now)
                        .await?
                    {
                        AfterFailure::RetryIn(_) => report.retrying += 1,
                        AfterFailure::GiveUp => report.failed += 1,
                    }
                }
            }
        }
        // Nothing went out: stop here rather than claim the messages just put back.
        if report.sent == before.sent {
            return Ok(report);
        }
    }
}
