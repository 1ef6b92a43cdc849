//! 10,000 HTTP probes at a 60 s interval against a local HTTP server: how late does
//! each run start after its slot (target: every run within 5 s)? Run with
//! `cargo bench -p tend-jobs --bench probes`; `TEND_BENCH_PROBE_SECONDS` sets how long
//! the prober runs (default 150, two and a half cycles); `TEND_BENCH_POSTGRES_URL`
//! runs it on PostgreSQL instead (a fresh database next to the one named, dropped
//! afterwards).
//!
//! The probes are created through the store as a person would add them (each is
//! anchored somewhere in its minute, so runs spread out), the target is a tokio
//! listener on 127.0.0.1:18200 answering `200 Welcome`, and the prober is the one
//! `tend serve` runs (`tend_jobs::probe::probe_loop`, default concurrency). Lateness is
//! a run's recorded start minus its slot, for every slot that fell after the prober
//! started (earlier slots, missed while the probes were being created, are skipped by
//! design and not counted). Like a test, a bench stops on the impossible, so it uses
//! `expect`.

use std::time::{Duration, Instant};

use jiff::civil::date;
use tend_domain::check::CheckDraft;
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::probe::ProbeDraft;
use tend_jobs::probe::{http_client, probe_loop};
use tend_jobs::ProbeConfig;
use tend_store::{Actor, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const PROBES: usize = 10_000;
const INTERVAL_MS: i64 = 60_000;
const PORT: u16 = 18_200;
const TARGET_MS: i64 = 5_000;

/// A minimal HTTP/1.1 server: every request gets `200 Welcome` (keep-alive).
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            let mut got: Vec<u8> = Vec::new();
            loop {
                while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    got.drain(..end + 4);
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 7\r\n\r\nWelcome";
                    if sock.write_all(reply).await.is_err() {
                        return;
                    }
                }
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        });
    }
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn seed(store: &Store) {
    let actor = Actor::system("bench");
    let client = ClientDraft {
        name: "Bench Client".into(),
        slug: "bench".into(),
        timezone: "UTC".into(),
        ..Default::default()
    }
    .parse()
    .expect("client");
    let contract = ContractDraft {
        plan: "GROWTH".into(),
        ..Default::default()
    }
    .parse(date(2026, 11, 1))
    .expect("contract");
    let mut tx = store.begin().await.expect("begin");
    let id = store
        .insert_client(&mut tx, &actor, &client)
        .await
        .expect("client");
    store
        .insert_contract(&mut tx, &actor, id, &contract)
        .await
        .expect("contract");
    tx.commit().await.expect("commit");
    for i in 0..PROBES {
        let input = CheckDraft {
            client: "bench".into(),
            name: format!("probe {i}"),
            probe: ProbeDraft {
                url: format!("http://127.0.0.1:{PORT}/health/{i}"),
                every: "60s".into(),
                timeout: "10s".into(),
                expect: "200".into(),
                keyword: "Welcome".into(),
                ..Default::default()
            },
            ..Default::default()
        }
        .parse()
        .expect("a valid probe");
        store.create_check(&actor, &input).await.expect("create");
    }
}

async fn run(engine: &str, store: &Store, seconds: u64) -> String {
    let started = Instant::now();
    seed(store).await;
    eprintln!(
        "{engine}: created {PROBES} probes in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let t0 = tend_store::now_ms();
    let prober = tokio::spawn(probe_loop(
        store.clone(),
        http_client().expect("client"),
        ProbeConfig::default(),
        stopped,
    ));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let t_end = tend_store::now_ms();
    // Let runs started just before the end store their result.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.send(true).expect("stop");
    prober.await.expect("prober");

    let mut lateness = store.probe_lateness(t0, t_end).await.expect("lateness");
    // Slots in [t0, t_end) that should have run: one per probe per interval.
    let anchors: Vec<i64> = match &store.db {
        tend_store::Db::Sqlite(p) => sqlx::query_scalar("SELECT anchor_at FROM probe_settings")
            .fetch_all(p)
            .await
            .expect("anchors"),
        tend_store::Db::Pg(p) => sqlx::query_scalar("SELECT anchor_at FROM probe_settings")
            .fetch_all(p)
            .await
            .expect("anchors"),
    };
    let expected: i64 = anchors
        .iter()
        .map(|a| {
            let first = tend_domain::probe::first_slot(*a, INTERVAL_MS, t0);
            if first >= t_end {
                0
            } else {
                (t_end - 1 - first) / INTERVAL_MS + 1
            }
        })
        .sum();
    lateness.sort_unstable();
    let ran_in_window = lateness.len() as i64;
    let max = lateness.last().copied().unwrap_or(0);
    let within = lateness.iter().filter(|l| **l <= TARGET_MS).count();
    format!(
        "| {engine} | {PROBES} | {seconds} s | {expected} | {ran_in_window} | {} | {} | {} | {} | {max} | {} |",
        percentile(&lateness, 0.5),
        percentile(&lateness, 0.99),
        percentile(&lateness, 0.999),
        within,
        if max <= TARGET_MS && ran_in_window >= expected { "yes" } else { "no" },
    )
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("TEND_BENCH_PROBE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let listener = TcpListener::bind(("127.0.0.1", PORT))
        .await
        .expect("port 18200 is free for the bench's HTTP server");
    tokio::spawn(serve(listener));

    let line = if let Some(base) = std::env::var("TEND_BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let name = format!("tend_bench_{}", tend_store::random_hex(6));
        let admin = Store::connect(&base).await.expect("connect");
        if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(p)
                .await
                .expect("create");
        }
        let (server, _) = base.rsplit_once('/').expect("URL ends with a database");
        let store = Store::connect(&format!("{server}/{name}"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let line = run("PostgreSQL", &store, seconds).await;
        store.close().await;
        if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&format!("DROP DATABASE {name}"))
                .execute(p)
                .await
                .expect("drop");
        }
        admin.close().await;
        line
    } else {
        let dir =
            std::env::temp_dir().join(format!("tend-probe-bench-{}", tend_store::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        let line = run("SQLite", &store, seconds).await;
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        line
    };
    println!();
    println!("| engine | probes (every 60 s) | ran for | slots due | runs started | lateness p50 ms | p99 ms | p99.9 ms | runs ≤ {TARGET_MS} ms late | max ms | all within {TARGET_MS} ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!("{line}");
}
