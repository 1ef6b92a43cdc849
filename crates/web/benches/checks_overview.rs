//! Checks overview with 2,000 checks: median server time (target ≤ 50 ms).
//!
//! Builds a SQLite database with 2,000 heartbeat checks over 40 clients, pinged so
//! that their states differ (up, down, new, paused), then renders the overview's first
//! page, a deep page, a state tab and one client's checks through the real router
//! many times and prints the median and p95 per case.
//! Run with `cargo bench -p tend-web --bench checks_overview`.

mod common;

use common::percentile;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tend_domain::check::{CheckDraft, CheckUuid};
use tend_domain::client::ClientDraft;
use tend_domain::ping_url::{PingTarget, Signal};
use tend_store::checks::IncomingPing;
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

const CLIENTS: usize = 40;
const CHECKS: usize = 2_000;
const RUNS: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (dir, store, actor, owner) = common::bench_store().await;
    let started = Instant::now();
    let mut tx = store.begin().await.expect("tx");
    for c in 0..CLIENTS {
        let client = ClientDraft {
            name: format!("Client {c:02} Automations"),
            slug: format!("client-{c:02}"),
            timezone: "Europe/Berlin".into(),
            ..Default::default()
        }
        .parse()
        .expect("client");
        store
            .insert_client(&mut tx, &actor, &client)
            .await
            .expect("insert");
    }
    tx.commit().await.expect("commit");
    let now = tend_store::now_ms();
    let mut pings = Vec::new();
    for i in 0..CHECKS {
        let input = CheckDraft {
            client: format!("client-{:02}", i % CLIENTS),
            name: format!("workflow {i:04}"),
            workflow: "Typeform to HubSpot".into(),
            criticality: ["revenue-critical", "customer-facing", "internal"][i % 3].into(),
            period: ["5m", "1h", "1d"][i % 3].into(),
            grace: "10m".into(),
            ..Default::default()
        }
        .parse()
        .expect("check");
        let check = store.create_check(&actor, &input).await.expect("create");
        // Most pinged (up), every seventh failed (down), every eleventh never (new).
        if i % 11 != 0 {
            let signal = if i % 7 == 0 {
                Signal::Fail
            } else {
                Signal::Success
            };
            pings.push(IncomingPing {
                target: PingTarget::Uuid(CheckUuid::parse(&check.uuid).expect("uuid")),
                signal,
                rid: None,
                create: false,
                at: now,
                method: "GET".into(),
                body: String::new(),
                remote_addr: "127.0.0.1".into(),
                user_agent: "curl/8".into(),
            });
        }
        if i % 13 == 0 {
            store
                .set_check_paused(&actor, &check.uuid, true)
                .await
                .expect("pause");
        }
    }
    for batch in pings.chunks(500) {
        store.record_pings(batch, 1_000).await.expect("pings");
    }
    eprintln!(
        "seeded {CHECKS} checks in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let session = store.create_session(owner.id).await.expect("session");
    let cookie = format!("tend_session={}", session.secret);
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    let cases = [
        ("first page", "/checks"),
        ("page 30", "/checks?page=30"),
        ("state down", "/checks?state=down"),
        ("one client", "/checks?client=client-07"),
    ];
    println!("| case (2,000 checks, SQLite) | median ms | p95 ms | runs |");
    println!("|---|---:|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + 10 {
            let req = Request::builder()
                .uri(path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("request");
            let t = Instant::now();
            let res = app.clone().oneshot(req).await.expect("response");
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            if run >= 10 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {name} | {:.2} | {:.2} | {RUNS} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
