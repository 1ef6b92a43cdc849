//! Slack and signed webhooks, maintenance windows and resolve-on-recovery, against
//! SQLite and PostgreSQL and a real HTTP receiver (axum on a loopback port).

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::*;
use tend_domain::check::MINUTE_MS;
use tend_domain::maintenance::WindowDraft;
use tend_domain::notify::{ChannelKind, Route};
use tend_domain::page::PageRequest;
use tend_domain::ping_url::Signal;
use tend_domain::ticket::TicketStatus;
use tend_jobs::webhook::verify_signature;
use tend_jobs::{deliver_due_by, watch_with, Alerting, ChannelTargets, Notifier, WebhookTarget};
use tend_store::outbox::{OutboxMessage, OutboxView};
use tend_store::Store;

const URL: &str = "https://desk.agency.test";
/// A day ago: instants the tests play with are in the past, so the messages they
/// queue are due for delivery now.
fn day_ago() -> i64 {
    tend_store::now_ms() - 24 * 60 * MINUTE_MS
}
const SECRET: &str = "whsec_0123456789abcdef";

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// The status it answers with.
    status: Arc<AtomicU16>,
}

/// A free port in the range this suite may use (18400–18499).
fn receiver_port() -> u16 {
    (18400..18500)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port in 18400-18499")
}

impl Receiver {
    async fn start_on(port: u16) -> (Self, tokio::task::JoinHandle<()>) {
        let r = Receiver {
            got: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
        };
        async fn take(
            State(r): State<Receiver>,
            uri: axum::http::Uri,
            headers: HeaderMap,
            body: String,
        ) -> StatusCode {
            r.got.lock().unwrap().push(Received {
                path: uri.path().to_string(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect(),
                body,
            });
            StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
        }
        let app = axum::Router::new()
            .route("/{*path}", post(take))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (r, task)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn targets(port: u16) -> ChannelTargets {
    let mut t = ChannelTargets::default();
    t.slack.insert(
        "ops".into(),
        format!("http://127.0.0.1:{port}/services/T000/B000/XXXX"),
    );
    t.webhook.insert(
        "erp".into(),
        WebhookTarget {
            url: format!("http://127.0.0.1:{port}/hooks/tend"),
            secret: SECRET.into(),
        },
    );
    t
}

fn alerting(webhook_events: &[&str]) -> Alerting {
    Alerting {
        public_url: URL.into(),
        routes: vec![
            Route {
                kind: ChannelKind::Slack,
                name: "ops".into(),
                events: vec![],
                clients: vec!["acme".into()],
            },
            Route {
                kind: ChannelKind::Webhook,
                name: "erp".into(),
                events: webhook_events.iter().map(|s| s.to_string()).collect(),
                clients: vec![],
            },
        ],
    }
}

async fn outbox(store: &Store) -> Vec<OutboxMessage> {
    let mut items = store
        .list_outbox(OutboxView::All, PageRequest::new(Some(1), Some(200)))
        .await
        .unwrap()
        .items;
    items.sort_by_key(|m| m.id);
    items
}

#[tokio::test]
async fn a_down_check_reaches_slack_as_block_kit_and_the_webhook_signed() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        ping(&store, &check, Signal::Success, t0).await;
        let a = alerting(&["check.down"]);
        watch_with(&store, t0 + 7 * MINUTE_MS, &a).await.unwrap();

        let queued = outbox(&store).await;
        let channels: Vec<(&str, &str)> = queued
            .iter()
            .map(|m| (m.channel.as_str(), m.recipient.as_str()))
            .collect();
        assert_eq!(
            channels,
            [
                ("email", "owner@agency.test"),
                ("slack", "ops"),
                ("webhook", "erp")
            ],
            "{engine}"
        );
        // The row names the channel; its URL and secret are nowhere in the database.
        for m in &queued {
            assert!(!m.body.contains("T000/B000") && !m.body.contains(SECRET));
        }

        let port = receiver_port();
        let (receiver, task) = Receiver::start_on(port).await;
        let notifier = Notifier::new(targets(port)).unwrap();
        let sent = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!(
            (sent.sent, sent.retrying, sent.failed),
            (2, 0, 0),
            "{engine}"
        );
        // Without a mail server the email waits, untouched.
        let email = &outbox(&store).await[0];
        assert_eq!((email.state.as_str(), email.attempts), ("pending", 0));

        let got = receiver.got();
        let slack = got
            .iter()
            .find(|r| r.path.starts_with("/services"))
            .unwrap();
        let blocks: serde_json::Value = serde_json::from_str(&slack.body).unwrap();
        assert_eq!(blocks["text"], "Check down: Lead sync (Acme Dental)");
        assert_eq!(blocks["blocks"][0]["type"], "header");
        assert_eq!(blocks["blocks"][1]["type"], "section");
        let fields: Vec<&str> = blocks["blocks"][1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&"*Client*\nAcme Dental"), "{fields:?}");
        assert!(
            fields.contains(&"*Criticality*\nRevenue-critical"),
            "{fields:?}"
        );
        let button = &blocks["blocks"][2]["elements"][0];
        assert_eq!(button["url"], format!("{URL}/checks/{}", check.uuid));
        assert_eq!(slack.headers["content-type"], "application/json");

        let hook = got.iter().find(|r| r.path == "/hooks/tend").unwrap();
        let signature = &hook.headers["tend-signature"];
        let now = jiff::Timestamp::now().as_second();
        assert!(
            verify_signature(SECRET, signature, hook.body.as_bytes(), now, 300),
            "{engine}: {signature}"
        );
        assert!(!verify_signature(
            "another secret!!",
            signature,
            hook.body.as_bytes(),
            now,
            300
        ));
        let event: serde_json::Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(event["event"], "check.down");
        assert_eq!(event["client"]["slug"], "acme");
        assert_eq!(hook.headers["tend-delivery"], queued[2].event_key);

        // The recovery is not a "check.down": only Slack (which hears all) gets it.
        ping(&store, &check, Signal::Success, t0 + 8 * MINUTE_MS).await;
        watch_with(&store, t0 + 8 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        let up = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!(up.sent, 1, "{engine}");
        let last = receiver.got().pop().unwrap();
        assert!(last.body.contains("Check up: Lead sync"), "{}", last.body);
        task.abort();
        store.close().await;
    }
}

#[tokio::test]
async fn with_the_receiver_down_for_a_while_every_notification_arrives_once() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        let a = alerting(&[]);
        // Down, up, down again: three flips, each to Slack and the webhook.
        ping(&store, &check, Signal::Fail, t0).await;
        watch_with(&store, t0 + 1, &a).await.unwrap();
        ping(&store, &check, Signal::Success, t0 + MINUTE_MS).await;
        watch_with(&store, t0 + MINUTE_MS + 1, &a).await.unwrap();
        ping(&store, &check, Signal::Fail, t0 + 2 * MINUTE_MS).await;
        watch_with(&store, t0 + 2 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        let hooks: Vec<OutboxMessage> = outbox(&store)
            .await
            .into_iter()
            .filter(|m| m.channel != "email")
            .collect();
        assert_eq!(hooks.len(), 6, "{engine}");

        // Nobody listening: every message waits for a retry.
        let port = receiver_port();
        let notifier = Notifier::new(targets(port)).unwrap();
        let refused = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!(
            (refused.sent, refused.retrying),
            (0, 6),
            "{engine}: {refused:?}"
        );
        let early = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!(early.sent + early.retrying, 0, "the backoff is respected");

        // Back, but overloaded: 503 is worth a retry too.
        let (receiver, task) = Receiver::start_on(port).await;
        receiver.status.store(503, Ordering::SeqCst);
        for m in &hooks {
            store
                .retry_outbox(&actor(), m.id, tend_store::now_ms())
                .await
                .unwrap();
        }
        let busy = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!((busy.sent, busy.failed), (0, 0), "{engine}: {busy:?}");
        assert!(busy.retrying > 0);
        let waiting = outbox(&store).await;
        assert!(
            waiting
                .iter()
                .filter(|m| m.channel != "email")
                .all(|m| m.state == "pending"),
            "{engine}: {waiting:?}"
        );
        assert!(waiting
            .iter()
            .any(|m| m.last_error.as_deref().unwrap_or("").contains("503")));

        // Healthy again: two instances deliver together; each message arrives once.
        receiver.status.store(200, Ordering::SeqCst);
        let before = receiver.got().len();
        for m in &hooks {
            store
                .retry_outbox(&actor(), m.id, tend_store::now_ms())
                .await
                .unwrap();
        }
        let other = db.open().await;
        let other_notifier = Notifier::new(targets(port)).unwrap();
        let (x, y) = tokio::join!(
            deliver_due_by(&store, None, Some(&notifier)),
            deliver_due_by(&other, None, Some(&other_notifier))
        );
        assert_eq!(x.unwrap().sent + y.unwrap().sent, 6, "{engine}");
        deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        let delivered: Vec<String> = receiver.got()[before..]
            .iter()
            .map(|r| r.headers["tend-delivery"].clone())
            .collect();
        let mut unique = delivered.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(delivered.len(), 6, "{engine}: {delivered:?}");
        assert_eq!(unique.len(), 6, "{engine}: each once");
        task.abort();
        other.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn a_refusal_other_than_429_is_permanent_and_waits_for_the_operator() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        ping(&store, &check, Signal::Fail, t0).await;
        watch_with(&store, t0 + 1, &alerting(&[])).await.unwrap();
        let port = receiver_port();
        let (receiver, task) = Receiver::start_on(port).await;
        receiver.status.store(404, Ordering::SeqCst);
        let notifier = Notifier::new(targets(port)).unwrap();
        let r = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!((r.sent, r.failed), (0, 2), "{engine}: {r:?}");
        let failed = store
            .list_outbox(OutboxView::Trouble, PageRequest::default())
            .await
            .unwrap()
            .items;
        assert_eq!(failed.len(), 2);
        assert!(failed
            .iter()
            .all(|m| m.state == "failed" && m.last_error.as_deref().unwrap().contains("404")));
        // The operator fixes the receiver and presses retry.
        receiver.status.store(204, Ordering::SeqCst);
        for m in &failed {
            store
                .retry_outbox(&actor(), m.id, tend_store::now_ms())
                .await
                .unwrap();
        }
        let r = deliver_due_by(&store, None, Some(&notifier)).await.unwrap();
        assert_eq!(r.sent, 2, "{engine}");

        // A channel missing from the configuration is named in the error.
        let mut fewer = targets(port);
        fewer.slack.clear();
        ping(&store, &check, Signal::Success, t0 + MINUTE_MS).await;
        watch_with(&store, t0 + MINUTE_MS + 1, &alerting(&[]))
            .await
            .unwrap();
        let r = deliver_due_by(&store, None, Some(&Notifier::new(fewer).unwrap()))
            .await
            .unwrap();
        assert_eq!((r.sent, r.failed), (1, 1), "{engine}: {r:?}");
        let trouble = store
            .list_outbox(OutboxView::Trouble, PageRequest::default())
            .await
            .unwrap()
            .items;
        assert!(trouble[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no Slack channel named \"ops\""));
        task.abort();
        store.close().await;
    }
}

#[tokio::test]
async fn inside_a_window_a_down_check_is_recorded_but_alerted_only_when_the_window_ends() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        let hour = 60 * MINUTE_MS;
        let window = store
            .create_window(
                &actor(),
                &WindowDraft {
                    client: "acme".into(),
                    checks: vec![check.uuid.clone()],
                    kind: "once".into(),
                    starts: jiff::Timestamp::from_millisecond(t0).unwrap().to_string(),
                    ends: jiff::Timestamp::from_millisecond(t0 + hour)
                        .unwrap()
                        .to_string(),
                    reason: "HubSpot migration".into(),
                    ..Default::default()
                }
                .parse()
                .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(window.checks, vec![check.uuid.clone()]);
        let a = alerting(&[]);
        ping(&store, &check, Signal::Fail, t0 + MINUTE_MS).await;
        let r = watch_with(&store, t0 + MINUTE_MS + 1, &a).await.unwrap();
        assert_eq!(
            (r.tickets, r.messages, r.silenced),
            (0, 0, 1),
            "{engine}: {r}"
        );
        let flips = store
            .check_flips(check.id, PageRequest::default())
            .await
            .unwrap()
            .items;
        assert!(flips.iter().any(|f| f.new_state.as_str() == "down"));
        assert!(outbox(&store).await.is_empty());
        // Still inside: nothing more.
        let r = watch_with(&store, t0 + 30 * MINUTE_MS, &a).await.unwrap();
        assert_eq!(r.tickets + r.messages, 0, "{engine}: {r}");

        // The window ends with the check still down: the alert goes out then.
        let r = watch_with(&store, t0 + hour, &a).await.unwrap();
        assert_eq!(r.tickets, 1, "{engine}: {r}");
        let stored = store.check(&check.uuid).await.unwrap();
        let ticket = store.ticket(stored.alert_ticket_id.unwrap()).await.unwrap();
        assert_eq!(ticket.title, "Check down: Lead sync (Acme Dental)");
        assert_eq!(outbox(&store).await.len(), 3, "email, Slack, webhook");
        let r = watch_with(&store, t0 + hour + 1, &a).await.unwrap();
        assert_eq!(r.tickets, 0, "{engine}: released once");
        store.close().await;
    }
}

#[tokio::test]
async fn a_check_that_recovers_inside_its_window_never_alerts() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        // Every day, all day, for the whole client.
        store
            .create_window(
                &actor(),
                &WindowDraft {
                    client: "acme".into(),
                    kind: "weekly".into(),
                    days: "daily".into(),
                    from: "00:00".into(),
                    until: "00:00".into(),
                    ..Default::default()
                }
                .parse()
                .unwrap(),
            )
            .await
            .unwrap();
        let a = alerting(&[]);
        ping(&store, &check, Signal::Fail, t0).await;
        watch_with(&store, t0 + 1, &a).await.unwrap();
        ping(&store, &check, Signal::Success, t0 + MINUTE_MS).await;
        let r = watch_with(&store, t0 + MINUTE_MS + 1, &a).await.unwrap();
        assert_eq!((r.silenced, r.messages), (1, 0), "{engine}: {r}");
        let windows = store.windows(None, false).await.unwrap();
        let ended = store
            .end_window(&actor(), windows[0].id, t0 + 2 * MINUTE_MS)
            .await
            .unwrap();
        assert!(ended.ended_at.is_some());
        let r = watch_with(&store, t0 + 3 * MINUTE_MS, &a).await.unwrap();
        assert_eq!(
            (r.tickets, r.messages),
            (0, 0),
            "{engine}: up, nothing held"
        );
        assert!(outbox(&store).await.is_empty());
        // After the window a failure alerts at once.
        ping(&store, &check, Signal::Fail, t0 + 4 * MINUTE_MS).await;
        let r = watch_with(&store, t0 + 4 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        assert_eq!(r.tickets, 1, "{engine}: {r}");
        store.close().await;
    }
}

#[tokio::test]
async fn recovery_resolves_the_ticket_only_when_the_check_says_so() {
    for (engine, db) in databases().await {
        let t0 = day_ago();
        let store = db.open().await;
        let check = lead_sync(&store).await;
        let a = alerting(&[]);
        assert!(!store.resolves_on_recovery(&check.uuid).await.unwrap());
        // Off (the default): the ticket stays open with a note.
        ping(&store, &check, Signal::Fail, t0).await;
        watch_with(&store, t0 + 1, &a).await.unwrap();
        ping(&store, &check, Signal::Success, t0 + MINUTE_MS).await;
        watch_with(&store, t0 + MINUTE_MS + 1, &a).await.unwrap();
        let number = store
            .check(&check.uuid)
            .await
            .unwrap()
            .alert_ticket_id
            .unwrap();
        assert!(store.ticket(number).await.unwrap().status.is_open());

        store
            .set_resolve_on_recovery(&actor(), &check.uuid, true)
            .await
            .unwrap();
        assert!(store.resolves_on_recovery(&check.uuid).await.unwrap());
        ping(&store, &check, Signal::Fail, t0 + 2 * MINUTE_MS).await;
        watch_with(&store, t0 + 2 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        ping(&store, &check, Signal::Success, t0 + 3 * MINUTE_MS).await;
        watch_with(&store, t0 + 3 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        let ticket = store.ticket(number).await.unwrap();
        assert_eq!(ticket.status, TicketStatus::Resolved, "{engine}");
        assert!(ticket.resolved_at.is_some());
        let events = store.ticket_events(number).await.unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.kind == "status" && e.to.as_deref() == Some("resolved")),
            "{engine}: the resolution is a status event, so clocks stop"
        );
        // The next failure opens a new ticket.
        ping(&store, &check, Signal::Fail, t0 + 4 * MINUTE_MS).await;
        watch_with(&store, t0 + 4 * MINUTE_MS + 1, &a)
            .await
            .unwrap();
        let next = store
            .check(&check.uuid)
            .await
            .unwrap()
            .alert_ticket_id
            .unwrap();
        assert_ne!(next, number, "{engine}");
        store.close().await;
    }
}

#[tokio::test]
async fn an_sla_breach_reaches_the_channels_that_hear_it_once_per_breach() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let number = growth_client_with_p1_ticket(&store).await;
        let late = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30);
        let a = alerting(&["sla.breach"]);
        let report = tend_jobs::scan_with(&store, late, &a).await.unwrap();
        assert!(report.breaches >= 1, "{engine}: {report}");
        let messages = store.ticket_outbox(number).await.unwrap();
        let hooks: Vec<&OutboxMessage> =
            messages.iter().filter(|m| m.channel == "webhook").collect();
        let slack = messages.iter().filter(|m| m.channel == "slack").count();
        // Warnings go by email only; each breach once to each channel.
        assert_eq!(hooks.len(), report.breaches, "{engine}");
        assert_eq!(slack, report.breaches, "{engine}");
        let event: serde_json::Value = serde_json::from_str(&hooks[0].body).unwrap();
        assert_eq!(event["event"], "sla.breach");
        assert_eq!(event["url"], format!("{URL}/tickets/{number}"));
        // A second scan finds nothing new.
        tend_jobs::scan_with(&store, late, &a).await.unwrap();
        assert_eq!(
            store.ticket_outbox(number).await.unwrap().len(),
            messages.len()
        );
        store.close().await;
    }
}
