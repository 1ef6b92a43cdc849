//! SLA attainment over 10,000 tickets across 500 clients: median server time of the
//! API and the SLA page for three months by client, a year by plan per quarter, and one
//! client's page. Seeds a SQLite database through the store (open, answer, resolve),
//! then spreads the histories over the last 90 days so clocks are met, missed and still
//! pending. Run with `cargo bench -p tend-web --bench attainment`.
//!
//! Like a test, a bench stops on the impossible, so it uses `expect`.

mod common;

use common::percentile;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tend_domain::attainment::{DateRange, GroupBy, Period};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::role::Scope;
use tend_domain::ticket::{TicketDraft, TicketStatus};
use tend_store::attainment::AttainmentQuery;
use tend_store::tickets::Visibility;
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

const CLIENTS: usize = 500;
const TICKETS: usize = 10_000;
const RUNS: usize = 20;

fn median_and_p95(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(|a, b| a.total_cmp(b));
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (dir, store, actor, owner) = common::bench_store().await;
    let started = Instant::now();
    let plans = ["STARTER", "GROWTH", "ENTERPRISE"];
    let zones = [
        "America/New_York",
        "America/Chicago",
        "Europe/London",
        "Australia/Sydney",
    ];
    let mut tx = store.begin().await.expect("tx");
    for i in 0..CLIENTS {
        let client = ClientDraft {
            name: format!("Client {i:03}"),
            slug: format!("client-{i:03}"),
            timezone: zones[i % zones.len()].into(),
            holidays: "2026-01-01 New Year\n2026-12-25 Christmas".into(),
            ..Default::default()
        }
        .parse()
        .expect("client");
        let contract = ContractDraft {
            plan: plans[i % 3].into(),
            ..Default::default()
        }
        .parse(jiff::civil::date(2025, 1, 1))
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
    let severities = ["p0", "p1", "p2", "p2", "p3", ""];
    for i in 0..TICKETS {
        let draft = TicketDraft {
            client: format!("client-{:03}", i % CLIENTS),
            title: format!("Request {i}"),
            severity: severities[i % severities.len()].into(),
            ..Default::default()
        };
        let t = store
            .create_ticket(&actor, &draft.parse().expect("ticket"))
            .await
            .expect("create");
        if i % 10 != 0 {
            store
                .add_message(&actor, None, t.number, Visibility::Public, "On it")
                .await
                .expect("reply");
        }
        if i % 4 != 0 {
            store
                .set_ticket_status(&actor, t.number, TicketStatus::Resolved)
                .await
                .expect("resolve");
        }
    }
    // Spread every history over the last 90 days; answers come 0–12 hours after the
    // start, resolutions 0–5 days after: some in time, some late, some still open.
    let tend_store::Db::Sqlite(pool) = &store.db else {
        unreachable!("the bench runs on SQLite")
    };
    for sql in [
        "UPDATE tickets SET created_at = created_at - (id % 90) * 86400000 - (id % 8) * 3600000",
        "UPDATE ticket_events SET at = at - (ticket_id % 90) * 86400000 - (ticket_id % 8) * 3600000",
        "UPDATE ticket_events SET at = at + (ticket_id % 13) * 3600000 WHERE kind = 'public-reply'",
        "UPDATE ticket_events SET at = at + (ticket_id % 6) * 86400000 WHERE kind = 'status'",
        "UPDATE tickets SET first_response_at = first_response_at - (id % 90) * 86400000 - (id % 8) * 3600000 + (id % 13) * 3600000 \
         WHERE first_response_at IS NOT NULL",
    ] {
        sqlx::query(sql).execute(pool).await.expect("spread");
    }
    eprintln!(
        "seeded {CLIENTS} clients and {TICKETS} tickets in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let session = store.create_session(owner.id).await.expect("session");
    let cookie = format!("tend_session={}", session.secret);
    let (_, token) = store
        .create_token(&actor, "bench", Scope::Read, None)
        .await
        .expect("token");
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    let cases = [
        (
            "API: 3 months by client",
            "/api/v1/attainment?by=client&period=month",
        ),
        (
            "API: a year by plan per quarter",
            "/api/v1/attainment?by=plan&period=quarter&from=2025-12-01&to=2026-11-30",
        ),
        (
            "API: one client by week",
            "/api/v1/attainment?period=week&client=client-042",
        ),
        ("SLA page: 3 months by client", "/sla"),
        ("client page (3-month summary)", "/clients/client-042"),
    ];
    println!("| case ({TICKETS} tickets, {CLIENTS} clients, SQLite) | median ms | p95 ms | runs |");
    println!("|---|---:|---:|---:|");
    for (name, path) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for run in 0..RUNS + 3 {
            let mut req = Request::builder().uri(path);
            req = if path.starts_with("/api/") {
                req.header(header::AUTHORIZATION, format!("Bearer {token}"))
            } else {
                req.header(header::COOKIE, &cookie)
            };
            let t = Instant::now();
            let res = app
                .clone()
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("response");
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .expect("body");
            if run >= 3 {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        let (median, p95) = median_and_p95(times);
        println!("| {name} | {median:.1} | {p95:.1} | {RUNS} |");
    }
    // Where the time goes: loading and evaluating, then grouping.
    let today = jiff::Zoned::now().date();
    let range = DateRange::last_periods(Period::Month, 3, today);
    let mut load = Vec::new();
    let mut group = Vec::new();
    let mut decided = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let (clocks, _) = store
            .decided_clocks(range, None, jiff::Timestamp::now())
            .await
            .expect("clocks");
        load.push(t.elapsed().as_secs_f64() * 1000.0);
        decided = clocks.len();
        let t = Instant::now();
        let a = tend_domain::attainment::aggregate(&clocks, GroupBy::Client, Period::Month, range);
        group.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!a.rows.is_empty());
    }
    for (name, times) in [
        ("part: store, load and evaluate the clocks", load),
        ("part: domain, group", group),
    ] {
        let (median, p95) = median_and_p95(times);
        println!("| {name} | {median:.1} | {p95:.1} | {RUNS} |");
    }
    let report = store
        .attainment(
            &AttainmentQuery {
                by: GroupBy::Client,
                period: Period::Month,
                range,
                client_id: None,
            },
            jiff::Timestamp::now(),
        )
        .await
        .expect("report");
    eprintln!(
        "{decided} clocks decided in {} to {}: first response {}, resolution {}",
        range.from,
        range.to,
        report.attainment.overall.response,
        report.attainment.overall.resolution
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
