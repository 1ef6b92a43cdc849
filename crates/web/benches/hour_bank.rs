//! The hour bank panel of a client with five years of time entries (target: median
//! server time ≤ 20 ms). Seeds through the store as people would have logged the time
//! (30 entries a month for 61 months, each month closed by the next one's first entry),
//! then renders the client page (which holds the panel) and the hour tracking sheet
//! through the real router. Run with `cargo bench -p tend-web --bench hour_bank`.

mod common;

use common::percentile;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use jiff::ToSpan;
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::minutes::Minutes;
use tend_domain::ticket::TicketDraft;
use tend_store::hours::LogTime;
use tend_web::{router, AppState, WebConfig};
use tower::ServiceExt;

const MONTHS: i64 = 61;
const PER_MONTH: i64 = 30;
const RUNS: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (dir, store, actor, owner) = common::bench_store().await;
    let client = ClientDraft {
        name: "Acme Dental".into(),
        slug: "acme".into(),
        timezone: "America/Chicago".into(),
        ..Default::default()
    }
    .parse()
    .expect("client");
    let start = jiff::civil::date(2021, 11, 1);
    let contract = ContractDraft {
        plan: "GROWTH".into(),
        start_date: start.to_string(),
        ..Default::default()
    }
    .parse(start)
    .expect("contract");
    let mut tx = store.begin().await.expect("tx");
    let id = store
        .insert_client(&mut tx, &actor, &client)
        .await
        .expect("insert");
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await
        .expect("contract");
    tx.commit().await.expect("commit");
    let ticket = store
        .create_ticket(
            &actor,
            &TicketDraft {
                client: "acme".into(),
                title: "Monthly care".into(),
                ..Default::default()
            }
            .parse()
            .expect("ticket"),
        )
        .await
        .expect("ticket")
        .number;
    let seeded = Instant::now();
    for m in 0..MONTHS {
        let day = start.checked_add(m.months()).expect("month");
        for k in 0..PER_MONTH {
            let at = day
                .checked_add((k % 25).days())
                .expect("day")
                .to_zoned(jiff::tz::TimeZone::get("America/Chicago").expect("zone"))
                .expect("zoned")
                .timestamp()
                + 15.hours();
            let input = LogTime {
                ticket,
                actual: Minutes(10),
                work_type: if k % 5 == 0 {
                    "new-feature"
                } else {
                    "monitoring"
                }
                .into(),
                note: "health check".into(),
                work_date: None,
                after_limit: Some(tend_domain::hour_alerts::DepletedChoice::Overage),
                user_id: None,
            };
            store.log_time(&actor, &input, at).await.expect("log");
        }
    }
    eprintln!(
        "seeded {} entries over {MONTHS} months in {:.1} s",
        MONTHS * PER_MONTH,
        seeded.elapsed().as_secs_f64()
    );

    let session = store.create_session(owner.id).await.expect("session");
    let cookie = format!("tend_session={}", session.secret);
    let app = router(AppState::new(store.clone(), WebConfig::default()));
    println!(
        "| case (one client, {} time entries over {MONTHS} months, SQLite) | median ms | p95 ms | runs |",
        MONTHS * PER_MONTH
    );
    println!("|---|---:|---:|---:|");
    for (name, path) in [
        ("client page with the hour bank panel", "/clients/acme"),
        ("hour tracking sheet", "/clients/acme/hours"),
    ] {
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
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
