//! Backlog page with 10,000 open tickets across 500 clients: median server time
//! (target ≤ 50 ms). Seeds a SQLite database through the store, then renders the ranked
//! backlog (whole queue, a later page, one client's queue, the incomplete filter)
//! through the real router. Run with `cargo bench -p tend-web --bench backlog`.

mod common;

use common::percentile;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::ticket::TicketDraft;
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

const CLIENTS: usize = 500;
const TICKETS: usize = 10_000;
const RUNS: usize = 50;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (dir, store, actor, owner) = common::bench_store().await;
    let started = Instant::now();
    let plans = ["STARTER", "GROWTH", "ENTERPRISE"];
    let mut tx = store.begin().await.expect("tx");
    for i in 0..CLIENTS {
        let client = ClientDraft {
            name: format!("Client {i:03}"),
            slug: format!("client-{i:03}"),
            timezone: "America/New_York".into(),
            ..Default::default()
        }
        .parse()
        .expect("client");
        let contract = ContractDraft {
            plan: plans[i % 3].into(),
            ..Default::default()
        }
        .parse(jiff::civil::date(2026, 11, 1))
        .expect("contract");
        let id = store
            .insert_client(&mut tx, &actor, &client)
            .await
            .expect("insert");
        store
            .insert_contract(&mut tx, &actor, id, &contract)
            .await
            .expect("contract");
    }
    tx.commit().await.expect("commit");
    let severities = ["p0", "p1", "p2", "p2", "p3", "p3", ""];
    let impacts = ["", "low", "medium", "high"];
    for i in 0..TICKETS {
        let draft = TicketDraft {
            client: format!("client-{:03}", i % CLIENTS),
            title: format!("Request {i}: leads not syncing"),
            severity: severities[i % severities.len()].into(),
            source: "email".into(),
            business_risk: impacts[i % 4].into(),
            revenue_impact: impacts[(i / 4) % 4].into(),
            customer_effect: impacts[(i / 16) % 4].into(),
            owner_email: if i % 3 == 0 {
                "owner@bench.test".into()
            } else {
                String::new()
            },
            // Every tenth ticket waits for the one before it.
            blocked_by: if i % 10 == 9 {
                format!("#{i}")
            } else {
                "none".into()
            },
            launch_deadline: if i % 7 == 0 {
                "2026-12-01".into()
            } else {
                String::new()
            },
            expected_outcome: "Leads land in the CRM".into(),
            next_action: if i % 5 == 0 {
                String::new()
            } else {
                "Check the webhook".into()
            },
            ..Default::default()
        };
        store
            .create_ticket(&actor, &draft.parse().expect("ticket"))
            .await
            .expect("create");
    }
    eprintln!(
        "seeded {CLIENTS} clients and {TICKETS} tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let session = store.create_session(owner.id).await.expect("session");
    let cookie = format!("tend_session={}", session.secret);
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    let cases = [
        ("whole backlog, first page", "/tickets"),
        ("whole backlog, page 100", "/tickets?page=100"),
        ("one client's queue", "/tickets?client=client-042"),
        ("incomplete only", "/tickets?incomplete=on"),
    ];
    println!(
        "| case ({TICKETS} open tickets, {CLIENTS} clients, SQLite) | median ms | p95 ms | runs |"
    );
    println!("|---|---:|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + 5 {
            let req = Request::builder()
                .uri(path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .expect("request");
            let t = Instant::now();
            let res = app.clone().oneshot(req).await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            if run >= 5 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {name} | {:.1} | {:.1} | {RUNS} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    // Where the page's time goes.
    let mut parts: Vec<(&str, Vec<f64>)> = vec![
        ("store: open tickets for ranking", vec![]),
        ("domain: rank", vec![]),
        ("store: ticket numbers for the filter", vec![]),
    ];
    for _ in 0..RUNS {
        let t = Instant::now();
        let items = store.backlog_items().await.expect("items");
        parts[0].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let ranked = tend_domain::backlog::rank(&items, jiff::civil::date(2026, 11, 21));
        parts[1].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(ranked.len(), TICKETS);
        let t = Instant::now();
        let _ = store
            .ticket_numbers(&tend_store::tickets::TicketFilter {
                open_only: true,
                ..Default::default()
            })
            .await
            .expect("numbers");
        parts[2].1.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for (name, mut times) in parts {
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| part: {name} | {:.1} | {:.1} | {RUNS} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
