//! What the job tests share: fresh databases (SQLite always, PostgreSQL when
//! `TEND_TEST_POSTGRES_URL` is set), a real SMTP server (aiosmtpd) writing a Maildir,
//! and a client with a ticket.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::civil::date;
use tend_domain::check::{CheckDraft, CheckUuid};
use tend_domain::client::ClientDraft;
use tend_domain::contract::ContractDraft;
use tend_domain::email::Email;
use tend_domain::ping_url::{PingTarget, Signal};
use tend_domain::role::Role;
use tend_domain::ticket::TicketDraft;
use tend_store::checks::{Check, IncomingPing};
use tend_store::{Actor, Store};

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("tend-jobs-{}", tend_store::random_hex(6)));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database both "instances" of a test can open: its URL, and the directory that
/// keeps a SQLite file alive.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDb {
    pub async fn open(&self) -> Store {
        Store::connect(&self.url).await.unwrap()
    }
}

pub async fn sqlite_db() -> TestDb {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/tend.db", dir.0.display());
    Store::connect(&url).await.unwrap().migrate().await.unwrap();
    TestDb {
        url,
        _dir: Some(dir),
    }
}

pub async fn postgres_db() -> Option<TestDb> {
    let base = std::env::var("TEND_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let admin = Store::connect(&base).await.unwrap();
    let name = format!("tend_t_{}", tend_store::random_hex(6));
    if let tend_store::Db::Pg(p) = &admin.db {
        sqlx_create(p, &name).await;
    }
    admin.close().await;
    let (server, _) = base
        .rsplit_once('/')
        .expect("URL ends with a database name");
    let url = format!("{server}/{name}");
    Store::connect(&url).await.unwrap().migrate().await.unwrap();
    Some(TestDb { url, _dir: None })
}

async fn sqlx_create(pool: &sqlx::PgPool, name: &str) {
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(pool)
        .await
        .unwrap();
}

/// Every engine the run has: SQLite, and PostgreSQL when configured.
pub async fn databases() -> Vec<(&'static str, TestDb)> {
    let mut out = vec![("sqlite", sqlite_db().await)];
    if let Some(pg) = postgres_db().await {
        out.push(("postgres", pg));
    }
    out
}

pub fn actor() -> Actor {
    Actor::system("test")
}

/// An agency owner (who hears about alerts nobody else owns) and a GROWTH client,
/// `acme`, in America/Chicago.
pub async fn owner_and_growth_client(store: &Store) {
    store
        .create_user(
            &actor(),
            &Email::parse("owner@agency.test").unwrap(),
            "Olivia Owner",
            Role::Owner,
            "a long enough password",
        )
        .await
        .unwrap();
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
}

/// [`owner_and_growth_client`] and a P1 ticket opened now. Returns the ticket's number.
pub async fn growth_client_with_p1_ticket(store: &Store) -> i64 {
    owner_and_growth_client(store).await;
    let ticket = TicketDraft {
        client: "acme".into(),
        title: "Leads stopped landing in the CRM".into(),
        severity: "p1".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_ticket(&actor(), &ticket).await.unwrap().number
}

/// [`owner_and_growth_client`] with a revenue-critical heartbeat, "Lead sync", expected
/// every 5 minutes with 1 minute of grace.
pub async fn lead_sync(store: &Store) -> Check {
    owner_and_growth_client(store).await;
    let input = CheckDraft {
        client: "acme".into(),
        name: "Lead sync".into(),
        workflow: "Typeform to HubSpot".into(),
        criticality: "revenue-critical".into(),
        period: "5m".into(),
        grace: "1m".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    store.create_check(&actor(), &input).await.unwrap()
}

/// Stores one ping for `check`, as its ping URL would.
pub async fn ping(store: &Store, check: &Check, signal: Signal, at: i64) {
    let ping = IncomingPing {
        target: PingTarget::Uuid(CheckUuid::parse(&check.uuid).unwrap()),
        signal,
        rid: None,
        create: false,
        at,
        method: "GET".into(),
        body: String::new(),
        remote_addr: "127.0.0.1".into(),
        user_agent: "curl".into(),
    };
    store.record_pings(&[ping], 1_000).await.unwrap();
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A Python that has aiosmtpd (Debian's python3-aiosmtpd, which `scripts/test`
/// installs, lives with the system interpreter).
fn python() -> &'static str {
    for py in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return py;
        }
    }
    panic!("no python3 with aiosmtpd: run scripts/test, or apt-get install python3-aiosmtpd")
}

/// A real SMTP server (aiosmtpd) on a port, delivering into a Maildir.
pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    child: Child,
    _dir: TempDir,
}

impl SmtpServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        let dir = TempDir::new();
        let maildir = dir.0.join("Maildir");
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            maildir,
            child,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, as raw text.
    pub fn messages(&self) -> Vec<String> {
        let new = self.maildir.join("new");
        read_dir_sorted(&new)
            .into_iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The Subject header of a raw message.
pub fn subject(raw: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}
