//! Event-stream checks on SQLite, and on PostgreSQL when `TEND_TEST_POSTGRES_URL` is set:
//! learning a shape, drift found once per distinct drift, retention, relearning, and
//! the volume scan against a synthetic 4-week history.

use jiff::civil::date;
use serde_json::{json, Value};
use tend_domain::check::{CheckState, CheckUuid};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::event_stream::{EventStreamDraft, REASON_DRIFT, REASON_VOLUME_DROP};
use tend_domain::page::PageRequest;
use tend_domain::payload_shape::DriftKind;
use tend_domain::volume::{HOUR_MS, WEEK_MS};
use tend_store::checks::Check;
use tend_store::events::{EventOutcome, IncomingEvent};
use tend_store::{Actor, Store};

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// SQLite always, PostgreSQL when a URL is given; each a fresh, migrated database.
async fn stores() -> Vec<(&'static str, Store, Option<TempDir>)> {
    let path = std::env::temp_dir().join(format!("tend-events-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&path).unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}/tend.db", path.display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let mut out = vec![("sqlite", sqlite, Some(TempDir(path)))];
    if let Some(base) = std::env::var("TEND_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let admin = Store::connect(&base).await.unwrap();
        let name = format!("tend_t_{}", tend_store::random_hex(6));
        if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(p)
                .await
                .unwrap();
        }
        admin.close().await;
        let (server, _) = base.rsplit_once('/').unwrap();
        let store = Store::connect(&format!("{server}/{name}")).await.unwrap();
        store.migrate().await.unwrap();
        out.push(("postgres", store, None));
    }
    out
}

fn actor() -> Actor {
    Actor::system("test")
}

async fn stream(store: &Store, learn: &str, kept: &str) -> Check {
    let client = ClientDraft {
        name: "Acme Dental".into(),
        slug: "acme".into(),
        timezone: "America/Chicago".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let contract = ContractDraft {
        plan: "GROWTH".into(),
        ..Default::default()
    }
    .parse(date(2026, 11, 1))
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let id = store
        .insert_client(&mut tx, &actor(), &client)
        .await
        .unwrap();
    store
        .insert_contract(&mut tx, &actor(), id, &contract)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let input = EventStreamDraft {
        client: "acme".into(),
        name: "New leads".into(),
        criticality: "revenue-critical".into(),
        learn_events: learn.into(),
        events_kept: kept.into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_event_stream(&actor(), &input).await.unwrap()
}

fn lead(email_key: &str) -> Value {
    json!({"lead": {email_key: "ann@example.com", "name": "Ann"}, "source": "typeform"})
}

async fn post(store: &Store, check: &Check, value: Value, at: i64) -> EventOutcome {
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
        .unwrap()
}

const T0: i64 = 1_800_000_000_000;

#[tokio::test]
async fn a_stream_learns_its_shape_then_reports_each_drift_once() {
    for (engine, store, _dir) in stores().await {
        let check = stream(&store, "3", "4").await;
        assert_eq!(check.state, CheckState::New, "{engine}");
        for i in 0..3 {
            let outcome = post(&store, &check, lead("email"), T0 + i).await;
            assert!(
                matches!(
                    outcome,
                    EventOutcome::Stored {
                        learning: true,
                        findings: 0,
                        ..
                    }
                ),
                "{engine}: {outcome:?}"
            );
        }
        let learned = store.event_stream(check.id).await.unwrap();
        assert!(!learned.is_learning(), "{engine}");
        assert_eq!(learned.first_event_at, Some(T0));
        let paths: Vec<&str> = learned.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["lead", "lead.email", "lead.name", "source"],
            "{engine}"
        );
        assert_eq!(
            store.check(&check.uuid).await.unwrap().state,
            CheckState::Up,
            "{engine}: the first event brings a stream up"
        );

        assert_eq!(
            post(&store, &check, lead("email"), T0 + 10).await,
            EventOutcome::Stored {
                n: 4,
                learning: false,
                findings: 0,
                new_drifts: 0
            },
            "{engine}"
        );
        // A renamed field: one drift, alerted once however many events show it.
        for (i, new_drifts) in [(0, 1), (1, 0), (2, 0)] {
            let outcome = post(&store, &check, lead("e_mail"), T0 + 20 + i).await;
            assert_eq!(
                outcome,
                EventOutcome::Stored {
                    n: 5 + i,
                    learning: false,
                    findings: 1,
                    new_drifts
                },
                "{engine}"
            );
        }
        let drifts = store.event_drifts(check.id).await.unwrap();
        assert_eq!(drifts.len(), 1, "{engine}");
        assert_eq!(drifts[0].finding.kind, DriftKind::Renamed);
        assert_eq!(drifts[0].finding.expected, "lead.email: string");
        assert_eq!(drifts[0].finding.actual, "lead.e_mail: string");
        assert_eq!((drifts[0].seen, drifts[0].first_event_n), (3, 5));
        let pending = store.pending_flips(100).await.unwrap();
        let drift_flips: Vec<_> = pending
            .iter()
            .filter(|p| p.flip.reason == REASON_DRIFT)
            .collect();
        assert_eq!(drift_flips.len(), 1, "{engine}");
        let detail = drift_flips[0].flip.detail.as_deref().unwrap();
        assert!(detail.contains("event #5"), "{detail}");
        assert!(
            detail.contains("lead.email: string looks renamed to lead.e_mail: string"),
            "{detail}"
        );

        // Retention keeps the newest 4 events.
        let events = store
            .check_events(check.id, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(events.total, 4, "{engine}");
        assert_eq!(events.items[0].n, 7);
        assert_eq!(events.items[0].verdict, "drift");

        // Relearning forgets the shape and its drifts (audited).
        let relearned = store
            .relearn_event_shape(&actor(), &check.uuid)
            .await
            .unwrap();
        assert!(
            relearned.is_learning() && relearned.fields.is_empty(),
            "{engine}"
        );
        assert!(store.event_drifts(check.id).await.unwrap().is_empty());
        let outcome = post(&store, &check, lead("e_mail"), T0 + 30).await;
        assert!(matches!(
            outcome,
            EventOutcome::Stored { learning: true, .. }
        ));
        let audit = store
            .client_audit(check.client_id, PageRequest::default())
            .await
            .unwrap();
        assert!(
            audit
                .items
                .iter()
                .any(|a| a.summary.contains("relearned the event shape")),
            "{engine}"
        );

        // Unknown UUIDs and heartbeat checks take no events.
        let unknown = IncomingEvent {
            uuid: CheckUuid::parse("5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278").unwrap(),
            at: T0,
            body: "{}".into(),
            value: json!({}),
            remote_addr: String::new(),
            user_agent: String::new(),
        };
        assert_eq!(
            store.record_event(&unknown).await.unwrap(),
            EventOutcome::NotFound
        );
        store.close().await;
    }
}

#[tokio::test]
async fn the_volume_scan_flags_a_drop_and_a_spike_against_four_weeks_of_history() {
    for (engine, store, _dir) in stores().await {
        let check = stream(&store, "1", "1000").await;
        // The last completed hour L (and the two before it) had 10 events in each of
        // the last 4 weeks.
        let l = T0 - T0.rem_euclid(HOUR_MS);
        for week in (1..=4).rev() {
            for back in (0..3).rev() {
                for i in 0..10 {
                    post(
                        &store,
                        &check,
                        lead("email"),
                        l - week * WEEK_MS - back * HOUR_MS + i,
                    )
                    .await;
                }
            }
        }
        // This week: nothing during L. The scan an hour later sees a drop.
        let now = l + HOUR_MS + 60_000;
        let flips = store.scan_event_volumes(now).await.unwrap();
        assert_eq!(flips.len(), 1, "{engine}");
        assert_eq!(flips[0].reason, REASON_VOLUME_DROP);
        assert_eq!(flips[0].new_state, CheckState::Down);
        let detail = flips[0].detail.as_deref().unwrap();
        assert!(
            detail.starts_with("Expected: about 10 events in the hour"),
            "{detail}"
        );
        assert!(
            detail.contains("What happened: 0 events arrived"),
            "{detail}"
        );
        assert!(
            store.scan_event_volumes(now).await.unwrap().is_empty(),
            "{engine}: once"
        );
        assert_eq!(
            store.check(&check.uuid).await.unwrap().state,
            CheckState::Down
        );

        // The next hour is normal: up again, with a note.
        for i in 0..8 {
            post(&store, &check, lead("email"), l + HOUR_MS + i).await;
        }
        let flips = store.scan_event_volumes(l + 2 * HOUR_MS + 1).await.unwrap();
        assert_eq!(flips.len(), 1, "{engine}");
        assert_eq!(flips[0].new_state, CheckState::Up);
        assert!(flips[0].detail.as_deref().unwrap().starts_with("Recovered"));

        // A loop: 60 events in an hour whose baseline is 10.
        let spike_hour = l + WEEK_MS;
        for i in 0..60 {
            post(&store, &check, lead("email"), spike_hour + i).await;
        }
        let flips = store
            .scan_event_volumes(spike_hour + HOUR_MS + 1)
            .await
            .unwrap();
        assert_eq!(flips.len(), 1, "{engine}");
        assert!(flips[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("a loop may be resending"));
        store.close().await;
    }
}
