//! Event-stream alerts against SQLite and PostgreSQL: a drift opens one monitoring
//! ticket with an email, a second distinct drift adds to it, a repeated drift stays
//! quiet; a volume drop found by the slot-run scan alerts once and recovers.

mod common;

use common::*;
use serde_json::{json, Value};
use tend_domain::check::{CheckState, CheckUuid};
use tend_domain::event_stream::EventStreamDraft;
use tend_domain::page::PageRequest;
use tend_domain::plan::Severity;
use tend_domain::ticket::TicketSource;
use tend_domain::volume::{HOUR_MS, WEEK_MS};
use tend_jobs::{scan_volumes, watch};
use tend_store::checks::Check;
use tend_store::events::IncomingEvent;
use tend_store::outbox::OutboxView;
use tend_store::Store;

const URL: &str = "https://desk.agency.test";
const T0: i64 = 1_800_000_000_000;

async fn new_leads(store: &Store) -> Check {
    owner_and_growth_client(store).await;
    let input = EventStreamDraft {
        client: "acme".into(),
        name: "New leads".into(),
        workflow: "Typeform to HubSpot".into(),
        criticality: "customer-facing".into(),
        learn_events: "2".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_event_stream(&actor(), &input).await.unwrap()
}

async fn post(store: &Store, check: &Check, value: Value, at: i64) {
    store
        .record_event(&IncomingEvent {
            uuid: CheckUuid::parse(&check.uuid).unwrap(),
            at,
            body: value.to_string(),
            value,
            remote_addr: "127.0.0.1".into(),
            user_agent: "zapier".into(),
        })
        .await
        .unwrap();
}

async fn outbox_subjects(store: &Store) -> Vec<String> {
    let page = store
        .list_outbox(OutboxView::All, PageRequest::default())
        .await
        .unwrap();
    page.items.into_iter().map(|m| m.subject).collect()
}

#[tokio::test]
async fn a_drift_opens_one_ticket_and_each_new_drift_adds_to_it() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = new_leads(&store).await;
        let good = json!({"email": "a@b.c", "phone": "+1555", "amount": 12.5});
        post(&store, &check, good.clone(), T0).await;
        post(&store, &check, good.clone(), T0 + 1).await;
        post(&store, &check, good, T0 + 2).await;
        let quiet = watch(&store, T0 + 3, URL).await.unwrap();
        assert_eq!((quiet.tickets, quiet.messages), (0, 0), "{engine}: {quiet}");

        // `amount` arrives as text: a drift, one ticket, one email.
        let drifted = json!({"email": "a@b.c", "phone": "+1555", "amount": "12.50"});
        post(&store, &check, drifted.clone(), T0 + 10).await;
        let alerted = watch(&store, T0 + 11, URL).await.unwrap();
        assert_eq!(
            (alerted.tickets, alerted.messages),
            (1, 1),
            "{engine}: {alerted}"
        );
        let stored = store.check(&check.uuid).await.unwrap();
        let number = stored.alert_ticket_id.expect("a ticket was opened");
        let ticket = store.ticket(number).await.unwrap();
        assert_eq!(ticket.title, "Payload drift: New leads (Acme Dental)");
        assert_eq!(ticket.severity, Some(Severity::P2), "customer-facing is P2");
        assert_eq!(ticket.source, Some(TicketSource::MonitoringAlert));
        assert!(
            ticket
                .description
                .contains("amount: number changed type: now amount: string"),
            "{}",
            ticket.description
        );
        assert!(ticket
            .description
            .contains("Expected: events shaped like the first 2"));
        assert_eq!(
            outbox_subjects(&store).await,
            ["Payload drift: New leads (Acme Dental)"]
        );

        // The same drift again: nothing new.
        post(&store, &check, drifted, T0 + 20).await;
        let again = watch(&store, T0 + 21, URL).await.unwrap();
        assert_eq!((again.tickets, again.messages), (0, 0), "{engine}: {again}");

        // A new drift (`phone` gone) adds to the open ticket.
        post(
            &store,
            &check,
            json!({"email": "a@b.c", "amount": 3}),
            T0 + 30,
        )
        .await;
        let second = watch(&store, T0 + 31, URL).await.unwrap();
        assert_eq!(second.tickets, 1, "{engine}: {second}");
        let notes = store.ticket_messages(number).await.unwrap();
        assert_eq!(notes.len(), 1, "{engine}");
        assert!(notes[0].body.starts_with("New drift."), "{}", notes[0].body);
        assert!(
            notes[0].body.contains("phone: string is missing"),
            "{}",
            notes[0].body
        );
        assert_eq!(
            store.check(&check.uuid).await.unwrap().alert_ticket_id,
            Some(number)
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_volume_drop_alerts_once_and_recovers() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = new_leads(&store).await;
        let l = T0 - T0.rem_euclid(HOUR_MS);
        let lead = json!({"email": "a@b.c"});
        for week in (1..=4).rev() {
            for i in 0..12 {
                post(&store, &check, lead.clone(), l - week * WEEK_MS + i).await;
            }
        }
        let now = l + HOUR_MS + 5;
        let other = db.open().await;
        let (a, b) = tokio::join!(
            scan_volumes(&store, now, URL),
            scan_volumes(&other, now, URL)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.flipped + b.flipped, 1, "{engine}: {a} / {b}");
        assert_eq!(a.tickets + b.tickets, 1, "{engine}: {a} / {b}");
        let stored = store.check(&check.uuid).await.unwrap();
        assert_eq!(stored.state, CheckState::Down);
        let ticket = store.ticket(stored.alert_ticket_id.unwrap()).await.unwrap();
        assert_eq!(ticket.title, "Volume anomaly: New leads (Acme Dental)");
        assert!(
            ticket
                .description
                .contains("Expected: about 12 events in the hour"),
            "{}",
            ticket.description
        );
        assert!(ticket
            .description
            .contains("What happened: 0 events arrived"));
        assert_eq!(outbox_subjects(&store).await.len(), 1, "{engine}");

        for i in 0..10 {
            post(&store, &check, lead.clone(), l + HOUR_MS + i).await;
        }
        let up = scan_volumes(&store, l + 2 * HOUR_MS + 5, URL)
            .await
            .unwrap();
        assert_eq!(
            (up.flipped, up.tickets, up.messages),
            (1, 1, 1),
            "{engine}: {up}"
        );
        let notes = store.ticket_messages(ticket.number).await.unwrap();
        assert!(notes[0]
            .body
            .starts_with("Recovered: volume is back to normal"));
        store.close().await;
        other.close().await;
    }
}
