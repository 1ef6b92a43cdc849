//! The SLA scan over 100,000 open tickets across 2,000 clients: wall time of one pass
//! (target ≤ 1 s). Run with `cargo bench -p tend-jobs --bench sla_scan`; with
//! `TEND_BENCH_POSTGRES_URL=postgres://user@host/db` set it also runs on PostgreSQL (in
//! a fresh database it creates next to `db` and drops afterwards).
//!
//! The database is seeded the way a busy desk looks: clients and contracts through the
//! store (the three default plans, four timezones, three calendars), then the tickets
//! and their histories with bulk multi-row INSERTs in one transaction (the per-ticket
//! API would take far longer than the scan). Besides the open tickets there are 20,000
//! resolved and closed ones with histories of their own, which every query must skip.
//! Open tickets are up to 120 days old; their histories hold the creation, a severity
//! (set at creation, set later at triage, or never), acknowledgements, public replies
//! (first response, then next-update cycles) and waits on the client with and without
//! a resume, all before the scan's instant.
//!
//! The first pass finds the backlog of warnings and breaches and writes them (notices
//! and outbox messages); the steady passes, a minute apart, find the few that fell in
//! between. Like a test, a bench stops on the impossible, so it uses `expect`.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::email::Email;
use tend_domain::role::Role;
use tend_jobs::scan;
use tend_store::{with_tx, Actor, Store, Tx};

const CLIENTS: usize = 2_000;
const OPEN: usize = 100_000;
const DONE: usize = 20_000;
const STEADY_PASSES: usize = 7;
const TARGET_MS: f64 = 1000.0;
const URL: &str = "https://desk.agency.test";

/// The instant the first pass evaluates the clocks at: a Wednesday afternoon in New
/// York, so some calendars are open and some closed.
fn scan_instant() -> Timestamp {
    "2026-11-18T19:00:00Z".parse().expect("a valid instant")
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A value for a bulk INSERT.
enum V {
    I(i64),
    OI(Option<i64>),
    T(String),
    OT(Option<String>),
}

/// Inserts `rows` into `table (columns)` with multi-row VALUES. A few hundred values
/// per statement: SQLite looks each `$n` up by a linear search when binding, so binding
/// cost grows with the square of the values in one statement.
async fn insert_rows(tx: &mut Tx, table: &str, columns: &[&str], rows: &[Vec<V>]) {
    let per = (300 / columns.len()).max(1);
    for chunk in rows.chunks(per) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (r, row) in chunk.iter().enumerate() {
            assert_eq!(row.len(), columns.len());
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..row.len() {
                n += 1;
                sql.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
            }
            sql.push(')');
        }
        with_tx!(tx, c => {
            let mut q = sqlx::query(&sql);
            for v in chunk.iter().flatten() {
                q = match v {
                    V::I(i) => q.bind(*i),
                    V::OI(i) => q.bind(*i),
                    V::T(t) => q.bind(t.as_str()),
                    V::OT(t) => q.bind(t.as_deref()),
                };
            }
            q.execute(&mut *c).await.expect("bulk insert");
        });
    }
}

/// One ticket's history: (at, kind, from, to), oldest first.
type History = Vec<(
    i64,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
)>;

const SEVERITIES: [&str; 4] = ["p0", "p1", "p2", "p3"];

fn severity(rng: &mut Rng) -> &'static str {
    match rng.below(100) {
        0..=2 => SEVERITIES[0],
        3..=19 => SEVERITIES[1],
        20..=64 => SEVERITIES[2],
        _ => SEVERITIES[3],
    }
}

/// What happens to a ticket after it is opened, in order; a ticket gets a prefix.
#[derive(Clone, Copy)]
enum Step {
    Status(&'static str),
    Reply,
}

const PATHS: [&[Step]; 4] = [
    &[
        Step::Status("acknowledged"),
        Step::Reply,
        Step::Status("in-progress"),
        Step::Reply,
        Step::Reply,
        Step::Reply,
    ],
    &[
        Step::Reply,
        Step::Status("waiting-on-client"),
        Step::Status("in-progress"),
        Step::Reply,
        Step::Reply,
    ],
    &[
        Step::Status("in-progress"),
        Step::Reply,
        Step::Status("waiting-on-client"),
        Step::Reply,
        Step::Status("in-progress"),
        Step::Reply,
    ],
    &[
        Step::Status("acknowledged"),
        Step::Status("in-progress"),
        Step::Status("waiting-on-client"),
        Step::Reply,
    ],
];

/// A ticket opened `age_ms` before `now`: its history, current status, severity and
/// first response. Done tickets end resolved (some then closed).
fn history(
    rng: &mut Rng,
    now: i64,
    age_ms: i64,
    done: bool,
) -> (History, &'static str, Option<&'static str>, Option<i64>) {
    let created = now - age_ms;
    let mut h: History = vec![(created, "created", None, Some("new"))];
    let mut sev = None;
    if rng.chance(85) {
        let s = severity(rng);
        sev = Some(s);
        h.push((created, "severity", None, Some(s)));
    }
    let mut status = "new";
    let mut first_response = None;
    let steps = match rng.below(100) {
        0..=19 => 0,
        20..=49 => 1,
        50..=74 => 2,
        75..=89 => 3,
        _ => 4 + rng.below(3) as usize,
    };
    let path = PATHS[rng.below(PATHS.len() as u64) as usize];
    let mut at = created;
    // Gaps shrink with the number of steps so that the history fits in the ticket's age.
    let gap = |rng: &mut Rng| 60_000 + (rng.next() % (age_ms as u64 / 8 + 1)) as i64;
    if sev.is_none() && rng.chance(50) {
        at += gap(rng);
        if at < now - 60_000 {
            let s = severity(rng);
            sev = Some(s);
            h.push((at, "severity", None, Some(s)));
        }
    }
    for step in path.iter().take(steps) {
        at += gap(rng);
        if at >= now - 60_000 {
            break;
        }
        match *step {
            Step::Status(to) if to != status => {
                h.push((at, "status", Some(status), Some(to)));
                status = to;
            }
            Step::Status(_) => {}
            Step::Reply => {
                h.push((at, "public-reply", None, None));
                first_response.get_or_insert(at);
            }
        }
    }
    if done {
        at += gap(rng);
        let end = at.min(now - 60_000);
        h.push((end, "status", Some(status), Some("resolved")));
        status = "resolved";
        if rng.chance(50) {
            h.push((end, "status", Some("resolved"), Some("closed")));
            status = "closed";
        }
    }
    (h, status, sev, first_response)
}

/// How old an open ticket is: most are days old, some weeks, a few months.
fn age_ms(rng: &mut Rng) -> i64 {
    let minute = 60_000;
    let day = 1440 * minute;
    match rng.below(100) {
        0..=39 => minute * 10 + rng.below(3 * day as u64) as i64,
        40..=69 => 3 * day + rng.below(27 * day as u64) as i64,
        _ => 30 * day + rng.below(90 * day as u64) as i64,
    }
}

async fn seed(store: &Store) {
    let started = Instant::now();
    let actor = Actor::system("bench");
    let mut staff = Vec::new();
    for (i, role) in [
        Role::Owner,
        Role::Staff,
        Role::Staff,
        Role::Staff,
        Role::Staff,
    ]
    .into_iter()
    .enumerate()
    {
        let user = store
            .create_user(
                &actor,
                &Email::parse(&format!("staff{i}@agency.test")).expect("email"),
                &format!("Staff {i}"),
                role,
                "bench password 123",
            )
            .await
            .expect("user");
        staff.push(user.id);
    }
    let plans = ["STARTER", "GROWTH", "ENTERPRISE"];
    let zones = [
        "America/New_York",
        "Europe/Berlin",
        "Australia/Sydney",
        "America/Los_Angeles",
    ];
    let hours = [
        "mon-fri 09:00-17:00",
        "mon-fri 08:00-18:00",
        "mon 09:00-12:00 13:00-17:00\ntue-fri 08:30-12:30 13:30-16:30",
    ];
    let mut tx = store.begin().await.expect("tx");
    let mut client_ids = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let client = ClientDraft {
            name: format!("Client {i:04}"),
            slug: format!("client-{i:04}"),
            timezone: zones[i % zones.len()].into(),
            business_hours: hours[i % hours.len()].into(),
            holidays: if i % 2 == 0 {
                "2026-11-26\n2026-11-27\n2026-12-25".into()
            } else {
                String::new()
            },
            owner_email: if i % 4 == 0 {
                format!("staff{}@agency.test", 1 + i % 4)
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
        .parse(jiff::civil::date(2026, 1, 1))
        .expect("contract");
        let id = store
            .insert_client(&mut tx, &actor, &client)
            .await
            .expect("insert");
        store
            .insert_contract(&mut tx, &actor, id, &contract)
            .await
            .expect("contract");
        client_ids.push(id);
    }
    tx.commit().await.expect("commit");
    eprintln!("clients {:.1}", started.elapsed().as_secs_f64());

    let now = scan_instant().as_millisecond();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tickets = Vec::with_capacity(OPEN + DONE);
    let mut histories = Vec::with_capacity(OPEN + DONE);
    for i in 0..OPEN + DONE {
        // The done tickets are mixed in among the open ones, as they would be.
        let done = i % ((OPEN + DONE) / DONE) == 0;
        let age = age_ms(&mut rng);
        let (h, status, sev, first_response) = history(&mut rng, now, age, done);
        let created = h[0].0;
        let updated = h.last().map_or(created, |e| e.0);
        let resolved = done.then_some(updated);
        tickets.push(vec![
            V::T(format!("bench{i:011}")),
            V::I(client_ids[i % CLIENTS]),
            V::T(format!("Request {i}: leads not syncing to the CRM")),
            V::T("The form submits but no contact appears.".into()),
            V::T("email".into()),
            V::OT(sev.map(str::to_string)),
            V::T(status.into()),
            V::OI((i % 3 == 0).then(|| staff[i % staff.len()])),
            V::T("Leads land in the CRM".into()),
            V::T("Check the webhook".into()),
            V::T(String::new()),
            V::I(1),
            V::I(1),
            V::T("bench".into()),
            V::I(created),
            V::I(updated),
            V::OI(first_response),
            V::OI(resolved),
            V::OI((status == "closed").then_some(updated)),
        ]);
        histories.push(h);
    }
    let mut tx = store.begin().await.expect("tx");
    insert_rows(
        &mut tx,
        "tickets",
        &[
            "public_id",
            "client_id",
            "title",
            "description",
            "source",
            "severity",
            "status",
            "owner_id",
            "expected_outcome",
            "next_action",
            "acceptance_test",
            "dependencies_stated",
            "missing_facts",
            "created_by",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
        ],
        &tickets,
    )
    .await;
    eprintln!("tickets {:.1}", started.elapsed().as_secs_f64());
    // The identity/rowid the database gave each ticket, by its place in the seed.
    let ids: Vec<(i64, String)> = with_tx!(&mut tx, c => sqlx::query_as(
        "SELECT id, public_id FROM tickets").fetch_all(&mut *c).await.expect("ids"));
    let mut id_of = vec![0i64; OPEN + DONE];
    for (id, public_id) in ids {
        let i: usize = public_id["bench".len()..].parse().expect("seeded id");
        id_of[i] = id;
    }
    // In the order they happened across all tickets, as a desk writes them, so that one
    // ticket's history is spread over the table (a stable sort keeps each history's
    // own order for events at one instant).
    let mut happened: Vec<(i64, usize, usize)> = histories
        .iter()
        .enumerate()
        .flat_map(|(i, h)| h.iter().enumerate().map(move |(k, e)| (e.0, i, k)))
        .collect();
    happened.sort_by_key(|&(at, _, _)| at);
    let events: Vec<Vec<V>> = happened
        .into_iter()
        .map(|(_, i, k)| {
            let (at, kind, from, to) = histories[i][k];
            vec![
                V::I(id_of[i]),
                V::I(at),
                V::T(kind.into()),
                V::OT(from.map(str::to_string)),
                V::OT(to.map(str::to_string)),
                V::T("bench".into()),
            ]
        })
        .collect();
    insert_rows(
        &mut tx,
        "ticket_events",
        &[
            "ticket_id",
            "at",
            "kind",
            "from_value",
            "to_value",
            "actor_label",
        ],
        &events,
    )
    .await;
    eprintln!("events {:.1}", started.elapsed().as_secs_f64());
    tx.commit().await.expect("commit");
    if store.engine() == tend_store::Engine::Postgres {
        // What autovacuum does soon after a bulk load; the scan's plans depend on it.
        if let tend_store::Db::Pg(p) = &store.db {
            sqlx::query("ANALYZE").execute(p).await.expect("analyze");
        }
    }
    eprintln!(
        "seeded {CLIENTS} clients, {OPEN} open and {DONE} done tickets, {} events in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
}

/// CPU time this process has used so far (all its threads, the SQLite driver's too), in
/// ms: on a shared machine it says how much of a pass's wall time was the pass's own.
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // utime and stime, the 14th and 15th fields, in clock ticks (100 a second on Linux);
    // the command name (2nd) is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: Vec<f64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() * 10.0
}

fn median(sorted: &[f64]) -> f64 {
    sorted[sorted.len() / 2]
}

struct Line {
    engine: &'static str,
    pass: String,
    runs: usize,
    median_ms: f64,
    max_ms: f64,
    cpu_ms: f64,
    notices: usize,
}

async fn run(engine: &'static str, store: &Store, lines: &mut Vec<Line>) {
    seed(store).await;
    let at = scan_instant();
    let (t, cpu) = (Instant::now(), cpu_ms());
    let first = scan(store, at, URL).await.expect("first pass");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let cpu = cpu_ms() - cpu;
    eprintln!("{engine}: first pass: {first}");
    lines.push(Line {
        engine,
        pass: "first (writes the backlog of notices)".into(),
        runs: 1,
        median_ms: ms,
        max_ms: ms,
        cpu_ms: cpu,
        notices: first.warnings + first.breaches,
    });
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut notices = 0;
    for k in 1..=STEADY_PASSES {
        let (t, c) = (Instant::now(), cpu_ms());
        let r = scan(store, at + SignedDuration::from_mins(k as i64), URL)
            .await
            .expect("steady pass");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        cpu.push(cpu_ms() - c);
        notices += r.warnings + r.breaches;
    }
    times.sort_by(|a, b| a.total_cmp(b));
    cpu.sort_by(|a, b| a.total_cmp(b));
    lines.push(Line {
        engine,
        pass: "steady (a minute apart)".into(),
        runs: STEADY_PASSES,
        median_ms: median(&times),
        max_ms: times[times.len() - 1],
        cpu_ms: median(&cpu),
        notices,
    });

    // Where a steady pass spends its time.
    let later = at + SignedDuration::from_mins(STEADY_PASSES as i64 + 1);
    let mut parts: Vec<(&str, Vec<f64>)> = vec![
        (
            "store: all queries at once, clocks that may have news evaluated",
            vec![],
        ),
        ("store: notices on record (alone)", vec![]),
    ];
    for _ in 0..STEADY_PASSES {
        let t = Instant::now();
        let input = store.sla_scan_input(later).await.expect("input");
        parts[0].1.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(input.tickets.len(), OPEN);
        let t = Instant::now();
        let _ = store.recorded_notices().await.expect("recorded");
        parts[1].1.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for (name, mut times) in parts {
        times.sort_by(|a, b| a.total_cmp(b));
        lines.push(Line {
            engine,
            pass: format!("part: {name}"),
            runs: times.len(),
            median_ms: median(&times),
            max_ms: times[times.len() - 1],
            cpu_ms: f64::NAN,
            notices: 0,
        });
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut lines = Vec::new();

    let dir = std::env::temp_dir().join(format!("tend-bench-{}", tend_store::random_hex(6)));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::connect(&format!("sqlite://{}/tend.db", dir.display()))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    run("SQLite", &store, &mut lines).await;
    store.close().await;
    if std::env::var_os("TEND_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("kept {}", dir.display());
    }

    if let Some(base) = std::env::var("TEND_BENCH_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let name = format!("tend_bench_{}", tend_store::random_hex(6));
        let admin = Store::connect(&base).await.expect("connect");
        let create = format!("CREATE DATABASE {name}");
        if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&create).execute(p).await.expect("create");
        }
        let (server, _) = base.rsplit_once('/').expect("URL ends with a database");
        let store = Store::connect(&format!("{server}/{name}"))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");
        run("PostgreSQL", &store, &mut lines).await;
        store.close().await;
        if std::env::var_os("TEND_BENCH_KEEP").is_some() {
            eprintln!("kept {server}/{name}");
        } else if let tend_store::Db::Pg(p) = &admin.db {
            sqlx::query(&format!("DROP DATABASE {name}"))
                .execute(p)
                .await
                .expect("drop");
        }
        admin.close().await;
    }

    println!();
    println!(
        "| engine | pass ({OPEN} open tickets, {CLIENTS} clients) | runs | median ms | max ms | CPU ms (median) | notices written | ≤ {TARGET_MS:.0} ms |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for l in &lines {
        let meets = if l.pass.starts_with("part") {
            ""
        } else if l.max_ms <= TARGET_MS {
            "yes"
        } else {
            "no"
        };
        let cpu = if l.cpu_ms.is_nan() {
            String::new()
        } else {
            format!("{:.0}", l.cpu_ms)
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {cpu} | {} | {meets} |",
            l.engine, l.pass, l.runs, l.median_ms, l.max_ms, l.notices
        );
    }
}
