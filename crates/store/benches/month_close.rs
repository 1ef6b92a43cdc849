//! The month close of 10,000 contracts holding 1,000,000 time entries (target ≤ 2 s on
//! SQLite and on PostgreSQL). Seeds the hour bank with multi-row inserts (every contract
//! with an open October period, 100 time entries and their usage in the ledger), then
//! times `close_month` as the hourly job runs it, after a dry run. PostgreSQL runs too
//! when `TEND_TEST_POSTGRES_URL` is set. Run with
//! `cargo bench -p tend-store --bench month_close`.

use std::time::Instant;

use tend_store::{with_pool, with_tx, Db, Store, Tx};

const CONTRACTS: usize = 10_000;
const ENTRIES_PER_CONTRACT: usize = 100;
const CHUNK: usize = 500;

async fn exec(store: &Store, sql: &str) {
    with_pool!(&store.db, p => sqlx::query(sql).execute(p).await.map(|_| ())).expect("statement");
}

/// Inserts `rows` (each already a parenthesised list of SQL literals) in chunks.
async fn insert(tx: &mut Tx, head: &str, rows: impl Iterator<Item = String>) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(CHUNK) {
        // PostgreSQL's identity columns take the given ids only when told to.
        let overriding = matches!(tx, Tx::Pg(_)) && head.contains("(id,");
        let sql = format!(
            "{head} {}VALUES {}",
            if overriding {
                "OVERRIDING SYSTEM VALUE "
            } else {
                ""
            },
            chunk.join(", ")
        );
        with_tx!(tx, c => sqlx::query(&sql).execute(&mut *c).await.map(|_| ())).expect(head);
    }
}

async fn seed(store: &Store) {
    let now = 1_790_000_000_000i64;
    let plan_ids: Vec<i64> = with_pool!(&store.db, p => sqlx::query_scalar(
        "SELECT id FROM plans ORDER BY monthly_fee_cents").fetch_all(p).await)
    .expect("plans");
    let start = Instant::now();
    let mut tx = store.begin().await.expect("begin");
    let tx = &mut tx;
    insert(
        tx,
        "INSERT INTO clients (id, public_id, name, name_lower, slug, timezone, business_hours, holidays, notes, created_at, updated_at)",
        (1..=CONTRACTS).map(|i| {
            let tz = ["America/New_York", "Europe/Berlin", "America/Los_Angeles", "UTC"][i % 4];
            format!("({i}, 'p{i}', 'Client {i}', 'client {i}', 'client-{i}', '{tz}', 'mon-fri 09:00-17:00', '', '', {now}, {now})")
        }),
    )
    .await;
    insert(
        tx,
        "INSERT INTO contracts (id, client_id, plan_id, support_model, start_date, billing_period, renewal_date, state, created_at, updated_at)",
        (1..=CONTRACTS).map(|i| {
            let plan = plan_ids[i % plan_ids.len()];
            format!("({i}, {i}, {plan}, 'monthly-retainer', '2026-10-01', 'monthly', '2027-10-01', 'active', {now}, {now})")
        }),
    )
    .await;
    insert(
        tx,
        "INSERT INTO contract_plan_changes (contract_id, from_plan_id, to_plan_id, effective_date, changed_by, changed_at)",
        (1..=CONTRACTS).map(|i| {
            let plan = plan_ids[i % plan_ids.len()];
            format!("({i}, NULL, {plan}, '2026-10-01', 'bench', {now})")
        }),
    )
    .await;
    insert(
        tx,
        "INSERT INTO hour_periods (contract_id, period_start, period_end, plan_id, opened_at)",
        (1..=CONTRACTS).map(|i| {
            let plan = plan_ids[i % plan_ids.len()];
            format!("({i}, '2026-10-01', '2026-11-01', {plan}, {now})")
        }),
    )
    .await;
    let included: Vec<i64> = with_pool!(&store.db, p => sqlx::query_scalar(
        "SELECT included_minutes FROM plans ORDER BY monthly_fee_cents").fetch_all(p).await)
    .expect("included");
    insert(
        tx,
        "INSERT INTO ledger_entries (contract_id, period_start, kind, minutes, lot, actor_label, created_at)",
        (1..=CONTRACTS).map(|i| {
            let m = included[i % included.len()];
            format!("({i}, '2026-10-01', 'grant', {m}, '2026-10-01', 'bench', {now})")
        }),
    )
    .await;
    insert(
        tx,
        "INSERT INTO tickets (id, public_id, client_id, title, description, status, expected_outcome, next_action, acceptance_test, dependencies_stated, missing_facts, created_by, created_at, updated_at)",
        (1..=CONTRACTS).map(|i| {
            format!("({i}, 't{i}', {i}, 'Sync', '', 'in-progress', '', '', '', 0, 4, 'bench', {now}, {now})")
        }),
    )
    .await;
    // 100 entries of 3 minutes per contract: 300 billable minutes, drawn from the grant
    // (all of STARTER's 5 hours, half of GROWTH's 10).
    let mut id = 0i64;
    insert(
        tx,
        "INSERT INTO time_entries (id, ticket_id, client_id, contract_id, author_label, work_type, charge, rate_kind, rate_cents, actual_minutes, billable_minutes, work_date, period_start, bank_state, note, created_at)",
        (1..=CONTRACTS).flat_map(|i| {
            (0..ENTRIES_PER_CONTRACT).map(move |k| (i, k))
        })
        .map(|(i, k)| {
            id += 1;
            let day = 1 + k % 28;
            format!("({id}, {i}, {i}, {i}, 'bench', 'bug-fix', 'included', 'none', 0, 3, 3, '2026-10-{day:02}', '2026-10-01', 'drawn', 'check', {now})")
        }),
    )
    .await;
    let mut id = 0i64;
    insert(
        tx,
        "INSERT INTO ledger_entries (contract_id, period_start, kind, minutes, lot, time_entry_id, actor_label, created_at)",
        (1..=CONTRACTS).flat_map(|i| {
            (0..ENTRIES_PER_CONTRACT).map(move |_| i)
        })
        .map(|i| {
            id += 1;
            format!("({i}, '2026-10-01', 'usage', -3, '2026-10-01', {id}, 'bench', {now})")
        }),
    )
    .await;
    let tx = std::mem::replace(tx, store.begin().await.expect("begin"));
    tx.commit().await.expect("commit");
    if let Db::Pg(_) = store.db {
        exec(store, "ANALYZE").await;
    }
    eprintln!(
        "seeded {CONTRACTS} contracts, {} time entries in {:.1} s",
        CONTRACTS * ENTRIES_PER_CONTRACT,
        start.elapsed().as_secs_f64()
    );
}

async fn run(engine: &str, store: Store) -> (String, f64, f64, usize) {
    store.migrate().await.expect("migrate");
    seed(&store).await;
    let at: jiff::Timestamp = "2026-11-02T12:00:00Z".parse().expect("instant");
    let t = Instant::now();
    let preview = store.close_month(at, true).await.expect("dry run");
    let dry = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = store.close_month(at, false).await.expect("close");
    let close = t.elapsed().as_secs_f64();
    assert_eq!(preview.closed.len(), CONTRACTS);
    assert_eq!(report.closed.len(), CONTRACTS, "{report}");
    assert!(report.failed.is_empty());
    let again = store.close_month(at, false).await.expect("again");
    assert!(again.closed.is_empty(), "closing twice is closing once");
    eprintln!("{engine}: close {close:.2} s, dry run {dry:.2} s");
    (engine.to_string(), close, dry, report.closed.len())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut rows = Vec::new();
    let dir = std::env::temp_dir().join(format!("tend-bench-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sqlite = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
        .await
        .expect("open");
    rows.push(run("SQLite", sqlite).await);
    let _ = std::fs::remove_dir_all(&dir);
    if let Some(base) = std::env::var("TEND_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let admin = Store::connect(&base).await.expect("postgres");
        let name = format!("tend_bench_{}", tend_store::random_hex(4));
        exec(&admin, &format!("CREATE DATABASE {name}")).await;
        let url = match base.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEND_TEST_POSTGRES_URL must end with a database name"),
        };
        let pg = Store::connect(&url).await.expect("bench database");
        rows.push(run("PostgreSQL", pg.clone()).await);
        pg.close().await;
        exec(&admin, &format!("DROP DATABASE {name}")).await;
    }
    println!(
        "month close: {CONTRACTS} contracts, {} time entries (target ≤ 2 s)",
        CONTRACTS * ENTRIES_PER_CONTRACT
    );
    println!("| engine | periods closed | close | dry run |");
    println!("| --- | --- | --- | --- |");
    for (engine, close, dry, n) in rows {
        println!("| {engine} | {n} | {close:.2} s | {dry:.2} s |");
    }
}
