//! Tend's database. One code path for SQLite and PostgreSQL: every query is plain SQL
//! with `$1` placeholders that both engines accept, run through [`with_pool!`] or
//! [`with_tx!`] on whichever pool is live.

mod row;

pub mod attainment;
pub mod audit;
pub mod backup;
pub mod changes;
pub mod check_edit;
pub mod check_import;
pub mod check_uptime;
pub mod checks;
pub mod clients;
pub mod contacts;
pub mod contracts;
pub mod digest;
pub mod error;
pub mod events;
pub mod export;
pub mod hours;
pub mod job_slots;
pub mod maintenance;
pub mod messages;
pub mod migrate;
pub mod outbox;
mod ping_batch;
mod ping_sqlite;
pub mod ping_writer;
pub mod plans;
pub mod probes;
pub mod sessions;
pub mod sla_scan;
pub mod tickets;
pub mod tokens;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

pub use audit::Actor;
pub use error::StoreError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The live pool. Cloning is cheap (pools are reference counted).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// An open transaction on either engine.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to the live pool; the body is compiled once per engine.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($c) => $body,
            $crate::Db::Pg($c) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection (`&mut Connection`).
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

/// A value bound to a query built from optional filters: a filter adds its condition
/// and its value only when set, so each engine can use its indexes.
pub enum Bind {
    Text(String),
    Int(i64),
}

/// Binds every value of a `Bind` list, in order, to a query of either engine.
#[macro_export]
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                $crate::Bind::Text(t) => q.bind(t.clone()),
                $crate::Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pub db: Db,
    /// The share of an SLA target after which a clock warns (75 % unless configured).
    pub sla_warn: tend_domain::sla_clock::WarnShare,
}

/// Whether a database URL names PostgreSQL (anything else is a SQLite file).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database the URL names: `postgres://…` or `sqlite://path` (created if
    /// missing, WAL journal, 5 s busy timeout, foreign keys on every connection).
    pub async fn connect(url: &str) -> Result<Self> {
        if is_postgres_url(url) {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Self {
                db: Db::Pg(pool),
                sla_warn: Default::default(),
            });
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Sqlite(pool),
            sla_warn: Default::default(),
        })
    }

    /// The same store, warning at another share of each SLA target.
    pub fn with_sla_warn(mut self, warn: tend_domain::sla_clock::WarnShare) -> Self {
        self.sla_warn = warn;
        self
    }

    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Pg(_) => Engine::Postgres,
        }
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(match &self.db {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// A transaction that holds the write lock from its start (SQLite's `BEGIN
    /// IMMEDIATE`), so what it reads is what it updates; a plain transaction on
    /// PostgreSQL.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match &self.db {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// The same database on one connection of its own, for a task that writes all the
    /// time (the ping writer). On SQLite a connection keeps its page cache only while no
    /// other connection writes, so a writer that always uses the same connection finds
    /// its pages in memory instead of reading them again in every transaction; this
    /// connection's cache may grow to 32 MB, its WAL to 16 MB before a checkpoint. The
    /// connection opens on first use.
    pub fn dedicated(&self) -> Store {
        let db = match &self.db {
            Db::Sqlite(p) => {
                // Checkpoints every 16 MB of WAL instead of 4 MB: a page written by many
                // batches (a check's row, its hourly counts) is copied back once per
                // checkpoint, so fewer checkpoints copy and fsync far fewer pages.
                let options = (*p.connect_options())
                    .clone()
                    .pragma("cache_size", "-32768")
                    .pragma("wal_autocheckpoint", "4096");
                Db::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .connect_lazy_with(options),
                )
            }
            Db::Pg(p) => Db::Pg(
                PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with((*p.connect_options()).clone()),
            ),
        };
        Store {
            db,
            sla_warn: self.sla_warn,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(&self.db, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// (connections open, of which idle), for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        with_pool!(&self.db, p => (p.size(), p.num_idle()))
    }

    pub async fn close(&self) {
        with_pool!(&self.db, p => p.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Names of the enum values a domain predicate picks, as an SQL list (`'resolved', 'closed'`),
/// so a query filters by the domain's rule instead of a copy of it.
pub(crate) fn sql_names<T: Copy>(
    all: &[T],
    pick: impl Fn(T) -> bool,
    name: impl Fn(T) -> &'static str,
) -> String {
    all.iter()
        .copied()
        .filter(|v| pick(*v))
        .map(|v| format!("'{}'", name(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, …`: `n` bind placeholders from `$first`, for an `IN (…)` list.
pub(crate) fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ticket statuses that are done (`TicketStatus::is_open` is false).
pub(crate) fn done_ticket_statuses() -> String {
    use tend_domain::ticket::TicketStatus;
    sql_names(TicketStatus::ALL, |s| !s.is_open(), TicketStatus::as_str)
}

/// Contract states that no longer serve the client (`ContractState::is_live` is false).
pub(crate) fn ended_contract_states() -> String {
    use tend_domain::contract::ContractState;
    sql_names(ContractState::ALL, |s| !s.is_live(), ContractState::as_str)
}

/// Now, as stored: UTC milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Random bytes from the operating system as lowercase hex: session ids, API tokens,
/// public ids. Start-up already needs the OS generator, so failure here is fatal.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // getrandom fails only if the OS has no entropy source, which no supported
    // platform lacks; there is nothing sensible to continue with.
    getrandom::fill(&mut buf).expect("the operating system's random generator is unavailable");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a secret as hex: how session ids and API tokens are kept at rest.
pub fn sha256_hex(secret: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
