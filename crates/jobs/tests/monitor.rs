//! The heartbeat watcher against SQLite and PostgreSQL: deadlines flip checks, a down
//! check opens one monitoring ticket with an email, a repeat failure updates it, and
//! a recovery adds a note.

mod common;

use common::*;
use tend_domain::check::{CheckState, MINUTE_MS};
use tend_domain::page::PageRequest;
use tend_domain::ping_url::Signal;
use tend_domain::plan::Severity;
use tend_domain::ticket::TicketSource;
use tend_jobs::watch;
use tend_store::outbox::OutboxView;
use tend_store::Store;

const URL: &str = "https://desk.agency.test";
const T0: i64 = 1_800_000_000_000;

async fn outbox_subjects(store: &Store) -> Vec<String> {
    let page = store
        .list_outbox(OutboxView::All, PageRequest::default())
        .await
        .unwrap();
    let mut subjects: Vec<String> = page.items.into_iter().map(|m| m.subject).collect();
    subjects.sort();
    subjects
}

#[tokio::test]
async fn a_missed_deadline_opens_one_ticket_and_a_recovery_adds_a_note() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = lead_sync(&store).await;
        ping(&store, &check, Signal::Success, T0).await;

        let late = watch(&store, T0 + 5 * MINUTE_MS + 1, URL).await.unwrap();
        assert_eq!((late.flipped, late.tickets), (1, 0), "{engine}: {late}");
        assert_eq!(
            store.check(&check.uuid).await.unwrap().state,
            CheckState::Late
        );
        let down = watch(&store, T0 + 6 * MINUTE_MS + 1, URL).await.unwrap();
        assert_eq!(
            (down.flipped, down.tickets, down.messages),
            (1, 1, 1),
            "{engine}: {down}"
        );
        let stored = store.check(&check.uuid).await.unwrap();
        let number = stored.alert_ticket_id.expect("a ticket was opened");
        let ticket = store.ticket(number).await.unwrap();
        assert_eq!(
            ticket.severity,
            Some(Severity::P1),
            "revenue-critical is P1"
        );
        assert_eq!(ticket.source, Some(TicketSource::MonitoringAlert));
        assert_eq!(ticket.title, "Check down: Lead sync (Acme Dental)");
        assert!(ticket.description.contains("Expected: a ping every 5m"));
        assert_eq!(
            outbox_subjects(&store).await,
            ["Check down: Lead sync (Acme Dental)"]
        );
        let quiet = watch(&store, T0 + 60 * MINUTE_MS, URL).await.unwrap();
        assert_eq!(quiet, tend_jobs::WatchReport::default(), "{engine}");

        // Recovery: a note on the same ticket and an email.
        ping(&store, &check, Signal::Success, T0 + 61 * MINUTE_MS).await;
        let up = watch(&store, T0 + 61 * MINUTE_MS + 1, URL).await.unwrap();
        assert_eq!((up.tickets, up.messages), (1, 1), "{engine}: {up}");
        let notes = store.ticket_messages(number).await.unwrap();
        assert!(notes[0]
            .body
            .starts_with("Recovered: Lead sync is up again"));

        // A repeat failure while the ticket is open updates it instead of opening another.
        ping(&store, &check, Signal::Fail, T0 + 62 * MINUTE_MS).await;
        let again = watch(&store, T0 + 62 * MINUTE_MS + 1, URL).await.unwrap();
        assert_eq!(again.tickets, 1, "{engine}: {again}");
        assert_eq!(
            store.check(&check.uuid).await.unwrap().alert_ticket_id,
            Some(number)
        );
        let notes = store.ticket_messages(number).await.unwrap();
        assert_eq!(notes.len(), 2);
        assert!(
            notes[1].body.contains("reported a failure"),
            "{}",
            notes[1].body
        );
        assert_eq!(outbox_subjects(&store).await.len(), 3);
        store.close().await;
    }
}

#[tokio::test]
async fn two_watchers_together_flip_and_alert_once() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = lead_sync(&store).await;
        ping(&store, &check, Signal::Success, T0).await;
        let other = db.open().await;
        let at = T0 + 7 * MINUTE_MS;
        let (a, b) = tokio::join!(watch(&store, at, URL), watch(&other, at, URL));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.flipped + b.flipped, 1, "{engine}: {a} / {b}");
        assert_eq!(a.tickets + b.tickets, 1, "{engine}: {a} / {b}");
        assert_eq!(outbox_subjects(&store).await.len(), 1, "{engine}");
        store.close().await;
        other.close().await;
    }
}

#[tokio::test]
async fn hourly_ping_counts_older_than_400_days_are_dropped_and_newer_ones_kept() {
    const DAY: i64 = 24 * 60 * MINUTE_MS;
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = lead_sync(&store).await;
        let kept_days = tend_jobs::PING_HOURS_KEPT_DAYS;
        ping(&store, &check, Signal::Success, T0 - (kept_days + 1) * DAY).await;
        ping(&store, &check, Signal::Fail, T0 - (kept_days + 1) * DAY + 1).await;
        ping(&store, &check, Signal::Success, T0 - (kept_days - 1) * DAY).await;
        ping(&store, &check, Signal::Success, T0).await;
        assert_eq!(store.check_ping_hours(check.id, 0).await.unwrap().len(), 3);

        let dropped = tend_jobs::prune_ping_hours(&store, T0).await.unwrap();
        assert_eq!(dropped, 1, "{engine}: the one hour past 400 days");
        let hours = store.check_ping_hours(check.id, 0).await.unwrap();
        let starts: Vec<i64> = hours.iter().map(|(hour, _, _)| *hour).collect();
        assert!(
            starts
                .iter()
                .all(|h| *h >= T0 - kept_days * DAY - 3_600_000),
            "{engine}: {starts:?}"
        );
        assert_eq!(hours.len(), 2, "{engine}");
        assert_eq!(
            tend_jobs::prune_ping_hours(&store, T0).await.unwrap(),
            0,
            "{engine}: nothing left to drop"
        );
        // The pings themselves are a separate matter (kept per check, not per age).
        let pings = store
            .check_pings(check.id, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(pings.total, 4, "{engine}");
        store.close().await;
    }
}
