//! Sending Slack and webhook messages. The outbox row names the channel and holds the
//! JSON; the URL (and a webhook's signing secret) come from the configuration at send
//! time, so they never reach the database.
//!
//! A generic webhook is signed as Stripe signs its events: the header
//! `Tend-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. A receiver
//! recomputes the HMAC with the shared secret over the timestamp, a dot and the raw
//! body, compares in constant time, and refuses timestamps far from its clock
//! ([`verify_signature`] does exactly that). `Tend-Delivery` carries the outbox event
//! key: the same event always has the same one, so a receiver can drop a repeat.

use std::collections::BTreeMap;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tend_store::outbox::{OutboxMessage, SLACK, WEBHOOK};

use crate::mail::MailError;

pub const SIGNATURE_HEADER: &str = "Tend-Signature";
pub const DELIVERY_HEADER: &str = "Tend-Delivery";

/// A webhook's address and the secret its messages are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &"***")
            .field("secret", &"***")
            .finish()
    }
}

/// The secret half of the configured channels, by name.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChannelTargets {
    /// Slack incoming webhook URLs (the URL is the secret).
    pub slack: BTreeMap<String, String>,
    pub webhook: BTreeMap<String, WebhookTarget>,
}

impl std::fmt::Debug for ChannelTargets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelTargets")
            .field("slack", &self.slack.keys().collect::<Vec<_>>())
            .field("webhook", &self.webhook.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ChannelTargets {
    pub fn is_empty(&self) -> bool {
        self.slack.is_empty() && self.webhook.is_empty()
    }
}

/// Posts outbox messages to Slack and webhooks.
#[derive(Clone)]
pub struct Notifier {
    http: reqwest::Client,
    targets: ChannelTargets,
}

impl Notifier {
    pub fn new(targets: ChannelTargets) -> Result<Self, MailError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            // A redirect is a configuration mistake to show, not to follow with a
            // signed body.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Tend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| MailError::Config(format!("HTTP client: {e}")))?;
        Ok(Self { http, targets })
    }

    /// Sends one claimed message: 2xx is sent; 429, 5xx, timeouts and connection
    /// errors are worth a retry; any other answer (and an unknown channel name) is
    /// permanent, shown to the operator.
    pub async fn send(&self, message: &OutboxMessage) -> Result<(), MailError> {
        let name = &message.recipient;
        let mut request = match message.channel.as_str() {
            SLACK => {
                let url = self.targets.slack.get(name).ok_or_else(|| {
                    MailError::Message(format!(
                        "no Slack channel named {name:?} in the configuration"
                    ))
                })?;
                self.http.post(url)
            }
            WEBHOOK => {
                let target = self.targets.webhook.get(name).ok_or_else(|| {
                    MailError::Message(format!("no webhook named {name:?} in the configuration"))
                })?;
                let t = jiff::Timestamp::now().as_second();
                self.http.post(&target.url).header(
                    SIGNATURE_HEADER,
                    signature_header(&target.secret, t, message.body.as_bytes()),
                )
            }
            other => return Err(MailError::Message(format!("unknown channel {other:?}"))),
        };
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, &message.event_key)
            .body(message.body.clone());
        let what = format!("{} {name}", message.channel);
        let response = request.send().await.map_err(|e| {
            // The URL may hold a secret (Slack's does): say what failed, not where.
            MailError::Transport(format!("could not reach {what}: {}", e.without_url()))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let error = format!("{what} answered {status}: {}", body.trim());
        if status.as_u16() == 429 || status.is_server_error() {
            Err(MailError::Transport(error))
        } else {
            Err(MailError::Message(error))
        }
    }
}

fn hmac_hex(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `t=<timestamp>,v1=<hex>` for a body sent at `timestamp` (unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hmac_hex(secret, timestamp, body))
}

/// What a receiver does: true when `header` signs `body` with `secret` and its
/// timestamp is within `tolerance_seconds` of `now` (unix seconds).
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_seconds: i64,
) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let Some(t) = timestamp else {
        return false;
    };
    if (now - t).abs() > tolerance_seconds {
        return false;
    }
    let expected = hmac_hex(secret, t, body);
    signatures
        .iter()
        .any(|s| constant_time_eq(s.as_bytes(), expected.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_and_nothing_else() {
        let body = br#"{"event":"check.down"}"#;
        let header = signature_header("whsec_1", 1_800_000_000, body);
        assert!(header.starts_with("t=1800000000,v1="));
        assert!(verify_signature(
            "whsec_1",
            &header,
            body,
            1_800_000_100,
            300
        ));
        assert!(!verify_signature(
            "whsec_2",
            &header,
            body,
            1_800_000_100,
            300
        ));
        assert!(!verify_signature(
            "whsec_1",
            &header,
            b"{}",
            1_800_000_100,
            300
        ));
        // Too old: a replay.
        assert!(!verify_signature(
            "whsec_1",
            &header,
            body,
            1_800_001_000,
            300
        ));
        assert!(!verify_signature(
            "whsec_1",
            "v1=00",
            body,
            1_800_000_000,
            300
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // printf '1.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            hmac_hex("key", 1, b"{}"),
            "1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
