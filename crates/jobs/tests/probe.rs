//! HTTP probes against a real HTTP server started by the test (a tokio listener that
//! answers by path): each verdict, the claim of due slots by two instances, and the
//! alert path (a probe that goes down opens a ticket; a recovery adds a note), on
//! SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tend_domain::check::{CheckDraft, CheckKind, CheckState};
use tend_domain::page::PageRequest;
use tend_domain::plan::Severity;
use tend_domain::probe::{evaluate, ProbeDraft, ProbeOutcome, ProbeSettings, ProbeVerdict};
use tend_domain::ticket::TicketSource;
use tend_jobs::probe::{call, http_client, run_one, spawn_writer, start_due};
use tend_jobs::watch;
use tend_store::checks::Check;
use tend_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Semaphore};

const URL: &str = "https://desk.agency.test";

/// A local HTTP/1.1 server: `/ok` welcomes, `/error` answers 503, `/slow` welcomes
/// after 1.5 s, `/hang` never answers, `/switch` answers with whatever status the test
/// set last.
struct Target {
    base: String,
    switch: Arc<Mutex<u16>>,
}

impl Target {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let switch = Arc::new(Mutex::new(200u16));
        let status = switch.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let status = status.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&got).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (code, body) = match path.as_str() {
                        "/ok" => (200, "<h1>Welcome to Acme</h1>"),
                        "/error" => (503, "Service Unavailable"),
                        "/slow" => {
                            tokio::time::sleep(Duration::from_millis(1_500)).await;
                            (200, "<h1>Welcome to Acme</h1>")
                        }
                        "/hang" => {
                            tokio::time::sleep(Duration::from_secs(3_600)).await;
                            return;
                        }
                        "/switch" => (*status.lock().await, "Welcome"),
                        _ => (404, "not found"),
                    };
                    let reply = format!(
                        "HTTP/1.1 {code} X\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { base, switch }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn probe(url: &str, extra: impl FnOnce(&mut ProbeDraft)) -> ProbeSettings {
    let mut draft = ProbeDraft {
        url: url.into(),
        every: "30s".into(),
        timeout: "800ms".into(),
        ..Default::default()
    };
    extra(&mut draft);
    draft.parse().unwrap()
}

async fn verdict(settings: &ProbeSettings) -> ProbeVerdict {
    let client = http_client().unwrap();
    evaluate(settings, &call(&client, settings).await)
}

#[tokio::test]
async fn each_kind_of_answer_gets_its_verdict() {
    let t = Target::start().await;
    let up = probe(&t.url("/ok"), |d| d.keyword = "Welcome".into());
    assert_eq!(verdict(&up).await, ProbeVerdict::Up);

    let status = probe(&t.url("/error"), |d| d.expect = "200".into());
    assert_eq!(verdict(&status).await.reason(), "expected 200, got 503");
    let class = probe(&t.url("/error"), |_| {});
    assert_eq!(verdict(&class).await.reason(), "expected 2xx, got 503");

    let missing = probe(&t.url("/ok"), |d| d.keyword = "Goodbye".into());
    assert_eq!(
        verdict(&missing).await.reason(),
        "keyword 'Goodbye' missing"
    );
    let present = probe(&t.url("/ok"), |d| d.no_keyword = "Welcome".into());
    assert_eq!(
        verdict(&present).await.reason(),
        "keyword 'Welcome' present"
    );
    let absent = probe(&t.url("/ok"), |d| d.no_keyword = "Error".into());
    assert_eq!(verdict(&absent).await, ProbeVerdict::Up);

    // The server waits 1.5 s; the limit is 200 ms and the timeout 5 s.
    let slow = probe(&t.url("/slow"), |d| {
        d.max_latency = "200ms".into();
        d.timeout = "5s".into();
    });
    let reason = verdict(&slow).await.reason();
    assert!(
        reason.starts_with("took ") && reason.ends_with(", limit 200 ms"),
        "{reason}"
    );

    let hang = probe(&t.url("/hang"), |_| {});
    assert_eq!(verdict(&hang).await.reason(), "timed out after 800 ms");

    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = probe(&format!("http://127.0.0.1:{closed}/"), |_| {});
    assert_eq!(verdict(&refused).await.reason(), "connection refused");
}

#[tokio::test]
async fn a_header_names_an_environment_variable_read_at_run_time() {
    let t = Target::start().await;
    let unset = probe(&t.url("/ok"), |d| {
        d.headers = "Authorization: Bearer ${env:TEND_PROBE_TEST_UNSET_TOKEN}".into()
    });
    assert_eq!(
        call(&http_client().unwrap(), &unset).await,
        ProbeOutcome::Failed {
            error:
                "header Authorization: environment variable TEND_PROBE_TEST_UNSET_TOKEN is not set"
                    .into()
        }
    );
}

async fn probe_check(store: &Store, url: &str) -> Check {
    growth_client_with_p1_ticket(store).await;
    let input = CheckDraft {
        client: "acme".into(),
        name: "Booking page".into(),
        workflow: "Calendly embed on acme.example".into(),
        criticality: "customer-facing".into(),
        probe: ProbeDraft {
            url: url.into(),
            every: "30s".into(),
            timeout: "2s".into(),
            expect: "200".into(),
            keyword: "Welcome".into(),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_check(&actor(), &input).await.unwrap()
}

/// Claims the probe's `k`-th slot (as if the clock stood there) and runs it now.
async fn run_next(store: &Store, check: &Check, k: i64) {
    let due = store
        .claim_due_probes(tend_store::now_ms() + 60_000 + k * 30_000, 10)
        .await
        .unwrap();
    let mine = due.iter().find(|d| d.check_id == check.id).expect("due");
    run_one(store, &http_client().unwrap(), mine, 1_000)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_probe_that_goes_down_opens_a_ticket_and_its_recovery_adds_a_note() {
    let t = Target::start().await;
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = probe_check(&store, &t.url("/switch")).await;
        assert_eq!(check.kind, CheckKind::HttpProbe);
        assert_eq!(check.schedule_text(), "every 30s");

        *t.switch.lock().await = 200;
        run_next(&store, &check, 0).await;
        assert_eq!(
            store.check(&check.uuid).await.unwrap().state,
            CheckState::Up
        );
        let quiet = watch(&store, tend_store::now_ms(), URL).await.unwrap();
        assert_eq!(quiet.tickets, 0, "{engine}: {quiet}");

        *t.switch.lock().await = 503;
        run_next(&store, &check, 1).await;
        let down = watch(&store, tend_store::now_ms(), URL).await.unwrap();
        assert_eq!((down.tickets, down.messages), (1, 1), "{engine}: {down}");
        let stored = store.check(&check.uuid).await.unwrap();
        assert_eq!(stored.state, CheckState::Down);
        let number = stored.alert_ticket_id.expect("a ticket was opened");
        let ticket = store.ticket(number).await.unwrap();
        assert_eq!(ticket.severity, Some(Severity::P2), "customer-facing is P2");
        assert_eq!(ticket.source, Some(TicketSource::MonitoringAlert));
        assert_eq!(ticket.title, "Check down: Booking page (Acme Dental)");
        assert!(
            ticket.description.contains("expects 200 with \"Welcome\"")
                && ticket
                    .description
                    .contains("What happened: expected 200, got 503"),
            "{engine}: {}",
            ticket.description
        );

        // Still down: no new ticket, no new flip.
        run_next(&store, &check, 2).await;
        let again = watch(&store, tend_store::now_ms(), URL).await.unwrap();
        assert_eq!(again.tickets, 0, "{engine}: {again}");

        *t.switch.lock().await = 200;
        run_next(&store, &check, 3).await;
        let up = watch(&store, tend_store::now_ms(), URL).await.unwrap();
        assert_eq!((up.tickets, up.messages), (1, 1), "{engine}: {up}");
        let notes = store.ticket_messages(number).await.unwrap();
        assert!(
            notes[0]
                .body
                .starts_with("Recovered: Booking page is up again"),
            "{}",
            notes[0].body
        );

        let results = store
            .probe_results(check.id, PageRequest::default())
            .await
            .unwrap();
        let reasons: Vec<&str> = results.items.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["OK", "expected 200, got 503", "expected 200, got 503", "OK"],
            "{engine}"
        );
        assert_eq!(results.items[1].status, Some(503));
        store.close().await;
    }
}

#[tokio::test]
async fn pings_cannot_reach_a_probe() {
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = probe_check(&store, "http://127.0.0.1:9/").await;
        let ping = tend_store::checks::IncomingPing {
            target: tend_domain::ping_url::PingTarget::Uuid(
                tend_domain::check::CheckUuid::parse(&check.uuid).unwrap(),
            ),
            signal: tend_domain::ping_url::Signal::Success,
            rid: None,
            create: false,
            at: tend_store::now_ms(),
            method: "GET".into(),
            body: String::new(),
            remote_addr: String::new(),
            user_agent: String::new(),
        };
        let outcome = store.record_pings(&[ping], 1_000).await.unwrap();
        assert_eq!(
            outcome,
            [tend_store::checks::PingOutcome::NotFound],
            "{engine}"
        );
        store.close().await;
    }
}

#[tokio::test]
async fn two_instances_never_run_the_same_slot() {
    let t = Target::start().await;
    for (engine, db) in databases().await {
        let store = db.open().await;
        let check = probe_check(&store, &t.url("/ok")).await;
        let other = db.open().await;
        let later = tend_store::now_ms() + 60_000;
        let (a, b) = tokio::join!(
            store.claim_due_probes(later, 10),
            other.claim_due_probes(later, 10)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len() + b.len(), 1, "{engine}: {a:?} / {b:?}");
        let slot = a.iter().chain(&b).next().unwrap().slot_at;
        // The next claim gets the following slot, one interval later.
        let next = store.claim_due_probes(later + 30_000, 10).await.unwrap();
        assert_eq!(next.len(), 1, "{engine}");
        assert_eq!(next[0].slot_at - slot, 30_000, "{engine}");
        assert_eq!(next[0].check_id, check.id);
        store.close().await;
        other.close().await;
    }
}

#[tokio::test]
async fn a_hanging_target_does_not_hold_up_the_scheduler() {
    let t = Target::start().await;
    for (engine, db) in databases().await {
        let store = db.open().await;
        let hanging = probe_check(&store, &t.url("/hang")).await;
        let client = http_client().unwrap();
        let limit = Arc::new(Semaphore::new(4));
        let (results, writer) = spawn_writer(store.clone(), 10);
        let mut tasks = tokio::task::JoinSet::new();
        // Claim the hanging probe's slot: start_due returns without waiting for it.
        let later = tend_store::now_ms() + 60_000;
        let due = store.claim_due_probes(later, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        let started = {
            let store2 = store.clone();
            let client2 = client.clone();
            let d = due[0].clone();
            tasks.spawn(async move {
                let _ = run_one(&store2, &client2, &d, 10).await;
            });
            start_due(&store, &client, &limit, &results, &mut tasks)
                .await
                .unwrap()
        };
        // Nothing else is due now; the call came back while the hanging run is in flight.
        assert_eq!(started, 0, "{engine}");
        assert!(!tasks.is_empty());
        while tasks.join_next().await.is_some() {}
        drop(results);
        writer.await.unwrap();
        let results = store
            .probe_results(hanging.id, PageRequest::default())
            .await
            .unwrap();
        assert_eq!(results.items[0].reason, "timed out after 2 s", "{engine}");
        store.close().await;
    }
}
