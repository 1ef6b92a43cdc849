//! The delivery job: claims due outbox messages, sends them, and records each outcome.

use tend_domain::delivery::AfterFailure;
use tend_store::outbox::EMAIL;
use tend_store::{Result, Store};

use crate::mail::{MailError, Mailer};

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
    let mut report = DeliveryReport::default();
    // Without a mail server nothing is claimed: messages wait, pending, until one is set.
    let Some(mailer) = mailer else {
        return Ok(report);
    };
    loop {
        let now = tend_store::now_ms();
        let lease_until = now + LEASE_MS;
        let batch = store.claim_outbox(now, lease_until, BATCH).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        let before = report;
        // Once the server cannot be reached, the rest of the batch fails the same way
        // without trying (and waiting for) it again.
        let mut unreachable: Option<String> = None;
        for message in &batch {
            let outcome = match (&unreachable, message.channel.as_str()) {
                (Some(e), _) => Err(MailError::Transport(e.clone())),
                (None, EMAIL) => mailer.send(message).await,
                (None, other) => Err(MailError::Message(format!("unknown channel {other:?}"))),
            };
            if let Err(MailError::Transport(e)) = &outcome {
                unreachable = Some(e.clone());
            }
            let now = tend_store::now_ms();
            match outcome {
                Ok(()) => {
                    store.outbox_delivered(message.id, lease_until, now).await?;
                    report.sent += 1;
                }
                Err(e) => {
                    tracing::warn!(message = message.id, recipient = %message.recipient, error = %e, "delivery failed");
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
