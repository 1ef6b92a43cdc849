//! Clients list page with 10,000 clients: median server time (target ≤ 20 ms).
//!
//! Builds a SQLite database with 10,000 clients (each with a contract), then renders
//! the first page, a search and a filtered page through the real router many times and
//! prints the median and p95 per case. Run with `cargo bench -p tend-web --bench clients_list`.

mod common;

use common::percentile;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

const CLIENTS: usize = 10_000;
const RUNS: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (dir, store, actor, owner) = common::bench_store().await;
    let plans = ["STARTER", "GROWTH", "ENTERPRISE"];
    let zones = [
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "America/Los_Angeles",
    ];
    let started = Instant::now();
    let mut tx = store.begin().await.expect("tx");
    for i in 0..CLIENTS {
        let client = ClientDraft {
            name: format!("Client {i:05} Automations"),
            slug: format!("client-{i:05}"),
            timezone: zones[i % zones.len()].into(),
            owner_email: if i % 2 == 0 {
                "owner@bench.test".into()
            } else {
                String::new()
            },
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
    eprintln!(
        "seeded {CLIENTS} clients in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let session = store.create_session(owner.id).await.expect("session");
    let cookie = format!("tend_session={}", session.secret);
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    let cases = [
        ("first page", "/clients"),
        ("page 200", "/clients?page=200"),
        ("search \"0421\"", "/clients?q=0421"),
        ("plan GROWTH, page 50", "/clients?plan=GROWTH&page=50"),
        ("htmx table, search", "/clients?q=automations&page=3"),
    ];
    println!("| case (10,000 clients, SQLite) | median ms | p95 ms | runs |");
    println!("|---|---:|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + 10 {
            let mut req = Request::builder().uri(path).header(header::COOKIE, &cookie);
            if name.starts_with("htmx") {
                req = req.header("hx-request", "true");
            }
            let t = Instant::now();
            let res = app
                .clone()
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("response");
            assert_eq!(res.status(), StatusCode::OK);
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
