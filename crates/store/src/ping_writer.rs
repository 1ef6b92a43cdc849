//! Group commit for pings: every ping waits for the commit of the batch it joined, so a
//! 2xx always follows a commit, and under load a batch grows to what arrived during the
//! previous commit (a few large transactions instead of many small ones). An idle
//! server stores a lone ping at once. (A batch window can be configured to wait for
//! more pings, but waiting only adds latency: the previous commit already is the
//! window.)
//!
//! - SQLite has one writer: an OS thread of its own that takes every ping waiting and
//!   stores them on its own connection ([`crate::ping_sqlite`]), so a batch never waits
//!   for the async runtime between statements. A second thread checkpoints the WAL
//!   ([`checkpoint_sqlite`]), so commits do not wait for checkpoints.
//! - PostgreSQL has [`PG_WRITERS`] writer tasks, each on a connection of its own, so one
//!   batch's commit overlaps the next one's statements. A check's pings always go to the
//!   same writer (chosen by a hash of the UUID or slug), so they are stored in the order
//!   they arrived, and the writers lock checks in id order, so they never deadlock.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::checks::{IncomingPing, PingOutcome};
use crate::ping_sqlite::{Checkpoint, SqlitePings};
use crate::{Db, Store};

/// The largest batch one transaction stores.
const MAX_BATCH: usize = 1_024;
/// Pings waiting for a writer before new ones wait for room.
const QUEUE: usize = 16_384;
/// How many writers share the pings on PostgreSQL. Measured with bench/ping_load.sh
/// on two cores: 1 writer 10,000 pings/s, 2 writers 12,500, 3 or 4 writers 9,700 (the
/// batches get smaller, and each costs its round trips whatever its size).
pub const PG_WRITERS: usize = 2;
/// How often the SQLite checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// How long the WAL may grow (in frames, 4 KB pages: 64 MB) before it is started again.
/// Measured with bench/ping_load.sh: shorter WALs restart more often, and each restart
/// holds the writer back for 5 to 25 ms; longer ones did not lower the p99 further.
const WAL_RESTART_FRAMES: i64 = 16_384;

type Job = (IncomingPing, oneshot::Sender<Option<PingOutcome>>);

/// The writers that store pings in batches.
#[derive(Debug)]
pub struct PingWriter {
    queues: Vec<mpsc::Sender<Job>>,
}

impl PingWriter {
    /// Starts the writers (inside a Tokio runtime); they run until the writer is
    /// dropped. `keep` is how many pings a check keeps; `window` how long a batch waits
    /// for more pings after its first (zero: not at all).
    pub fn start(store: &Store, keep: i64, window: Duration) -> Self {
        match &store.db {
            Db::Sqlite(pool) => {
                let path = pool.connect_options().get_filename().to_path_buf();
                let (queue, rx) = mpsc::channel(QUEUE);
                start_sqlite(path, store.clone(), keep, window, rx);
                Self {
                    queues: vec![queue],
                }
            }
            Db::Pg(_) => {
                let queues = (0..PG_WRITERS)
                    .map(|_| {
                        let (queue, rx) = mpsc::channel(QUEUE);
                        tokio::spawn(write_pg(store.dedicated(), keep, window, rx));
                        queue
                    })
                    .collect();
                Self { queues }
            }
        }
    }

    /// Queues a ping and waits until its batch is committed. `None`: it could not be
    /// stored (the database failed or the writer stopped).
    pub async fn submit(&self, ping: IncomingPing) -> Option<PingOutcome> {
        let queue = &self.queues[lane(&ping, self.queues.len())];
        let (done, outcome) = oneshot::channel();
        queue.send((ping, done)).await.ok()?;
        outcome.await.ok().flatten()
    }
}

/// Which writer a ping goes to: always the same one for the same check.
fn lane(ping: &IncomingPing, lanes: usize) -> usize {
    if lanes <= 1 {
        return 0;
    }
    let mut h = DefaultHasher::new();
    ping.target.hash(&mut h);
    (h.finish() % lanes as u64) as usize
}

/// Replies to a batch's pings: each its outcome, or `None` for all if it failed.
fn reply(replies: Vec<oneshot::Sender<Option<PingOutcome>>>, outcomes: Option<Vec<PingOutcome>>) {
    match outcomes {
        Some(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // The caller may have gone away; its ping is stored all the same.
                let _ = reply.send(Some(outcome));
            }
        }
        None => {
            for reply in replies {
                let _ = reply.send(None);
            }
        }
    }
}

fn start_sqlite(path: PathBuf, store: Store, keep: i64, window: Duration, rx: mpsc::Receiver<Job>) {
    let runtime = tokio::runtime::Handle::current();
    let alive = Arc::new(());
    let watched = Arc::downgrade(&alive);
    let checkpoint_path = path.clone();
    let spawned = std::thread::Builder::new()
        .name("tend-ping-writer".into())
        .spawn(move || write_sqlite(path, store, runtime, keep, window, rx, alive));
    if let Err(error) = spawned {
        tracing::error!(%error, "the ping writer thread could not start");
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("tend-checkpoint".into())
        .spawn(move || checkpoint_sqlite(checkpoint_path, watched));
    if let Err(error) = spawned {
        tracing::error!(%error, "the checkpoint thread could not start");
    }
}

/// The SQLite writer thread: takes every ping waiting (up to [`MAX_BATCH`]) and stores
/// them in one transaction, until every sender is dropped.
fn write_sqlite(
    path: PathBuf,
    store: Store,
    runtime: tokio::runtime::Handle,
    keep: i64,
    window: Duration,
    mut rx: mpsc::Receiver<Job>,
    _alive: Arc<()>,
) {
    let mut conn: Option<SqlitePings> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        if !window.is_zero() {
            std::thread::sleep(window);
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (pings, replies): (Vec<IncomingPing>, Vec<_>) = batch.drain(..).unzip();
        if conn.is_none() {
            match SqlitePings::open(&path, true) {
                Ok(c) => conn = Some(c),
                Err(error) => tracing::error!(%error, "opening the database for pings failed"),
            }
        }
        let Some(c) = conn.as_mut() else {
            reply(replies, None);
            continue;
        };
        let mut create = |ping: &IncomingPing| runtime.block_on(store.create_pinged_check(ping));
        match c.record(&pings, keep, &mut create) {
            Ok(outcomes) => reply(replies, Some(outcomes)),
            Err(error) => {
                tracing::error!(%error, pings = pings.len(), "storing a batch of pings failed");
                reply(replies, None);
                // A fresh connection next time, in case this one is what broke.
                conn = None;
            }
        }
    }
}

/// Checkpoints the WAL while the writer runs, so the writer never does.
///
/// Passive checkpoints copy the WAL into the database (and sync both) while the writer
/// goes on writing. But the WAL only starts again from its beginning once a checkpoint
/// has copied every frame, which a passive one never quite does under load; so when the
/// WAL passes [`WAL_RESTART_FRAMES`], two passive passes leave only the last few
/// milliseconds of frames, and a restart checkpoint copies those while holding the
/// writer back. The writer then waits a few milliseconds, not for a whole checkpoint.
fn checkpoint_sqlite(path: PathBuf, writer: Weak<()>) {
    let mut conn: Option<SqlitePings> = None;
    while writer.upgrade().is_some() {
        std::thread::sleep(CHECKPOINT_EVERY);
        if conn.is_none() {
            conn = SqlitePings::open(&path, false).ok();
        }
        let Some(c) = &conn else { continue };
        let pass = || -> crate::Result<()> {
            if c.checkpoint(Checkpoint::Passive)? > WAL_RESTART_FRAMES {
                c.checkpoint(Checkpoint::Passive)?;
                c.checkpoint(Checkpoint::Restart)?;
            }
            Ok(())
        };
        if let Err(error) = pass() {
            tracing::warn!(%error, "checkpointing the database failed");
            conn = None;
        }
    }
}

/// A PostgreSQL writer task: takes every ping waiting in its lane and stores them in
/// one transaction, until every sender is dropped.
async fn write_pg(store: Store, keep: i64, window: Duration, mut rx: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        if window.is_zero() {
            // Let handlers already running on this thread queue their pings first: a
            // yield costs microseconds where a timer would cost a millisecond per batch.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(window).await;
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (pings, replies): (Vec<IncomingPing>, Vec<_>) = batch.drain(..).unzip();
        match store.record_pings(&pings, keep).await {
            Ok(outcomes) => reply(replies, Some(outcomes)),
            Err(error) => {
                tracing::error!(%error, pings = pings.len(), "storing a batch of pings failed");
                reply(replies, None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_domain::check::CheckUuid;
    use tend_domain::ping_url::{PingTarget, Signal};

    fn ping(target: PingTarget) -> IncomingPing {
        IncomingPing {
            target,
            signal: Signal::Success,
            rid: None,
            create: false,
            at: 0,
            method: "GET".into(),
            body: String::new(),
            remote_addr: String::new(),
            user_agent: String::new(),
        }
    }

    #[test]
    fn a_checks_pings_always_take_the_same_lane_and_checks_spread_over_lanes() {
        let uuids: Vec<String> = (0..64)
            .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
            .collect();
        let mut used = std::collections::HashSet::new();
        for u in &uuids {
            let target = PingTarget::Uuid(CheckUuid::parse(u).unwrap());
            let first = lane(&ping(target.clone()), PG_WRITERS);
            assert_eq!(lane(&ping(target), PG_WRITERS), first);
            used.insert(first);
        }
        assert_eq!(used.len(), PG_WRITERS, "64 checks should reach every lane");
        let slug = PingTarget::Slug {
            ping_key: "key".into(),
            slug: "backups".into(),
        };
        assert_eq!(lane(&ping(slug), 1), 0);
    }
}
