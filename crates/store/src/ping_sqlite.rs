//! Pings on SQLite: a batch is read, planned ([`plan_batch`]) and written on one
//! rusqlite connection with prepared statements, in one `BEGIN IMMEDIATE` transaction.
//!
//! Why not sqlx here, as everywhere else: the ping target is 20,000 pings/s on two
//! cores. Through sqlx every statement of a batch crossed to sqlx's SQLite thread and
//! back (and every row read came back as a message of its own), and the rows went in as
//! JSON to be parsed again by SQLite; that was most of the CPU a ping cost. The writer
//! thread ([`crate::ping_writer`]) runs a whole batch here without leaving its thread.
//! Both libraries link the same SQLite (libsqlite3-sys), so the file, its WAL and its
//! locks are shared as between any two connections.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use tend_domain::ping_url::PingTarget;

use crate::checks::{IncomingPing, PingOutcome, PingRow, PING_ROW};
use crate::ping_batch::{plan_batch, run_ids_ended, uuids_named, BatchFound};
use crate::{Result, StoreError};

/// How a checkpoint treats the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Checkpoint {
    /// Copies what it can of the WAL into the database without waiting for, or
    /// blocking, the writer.
    Passive,
    /// Also waits for the writer's transaction to end and holds the next one back until
    /// every frame is copied, so that the next write starts the WAL again from its
    /// beginning.
    Restart,
}

/// A connection that stores pings.
pub(crate) struct SqlitePings {
    conn: Connection,
}

/// Makes the check a slug ping with `?create=1` names (outside the batch's transaction,
/// through the store's own code and audit); says whether it made one.
pub(crate) type CreateCheck<'a> = dyn FnMut(&IncomingPing) -> Result<bool> + 'a;

fn ping_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PingRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

/// The check a slug URL names, if any (HTTP probes are not reached by pings).
fn find_slug(conn: &Connection, ping_key: &str, slug: &str) -> rusqlite::Result<Option<PingRow>> {
    conn.prepare_cached(&format!(
        "SELECT {PING_ROW} FROM checks ch JOIN client_ping_keys k ON k.client_id = ch.client_id \
         WHERE k.ping_key = ?1 AND ch.slug = ?2 AND ch.deleted_at IS NULL AND ch.kind <> 'http-probe'"
    ))?
    .query_row(params![ping_key, slug], ping_row)
    .optional()
}

impl SqlitePings {
    /// Opens the database file. `busy` is for a connection that writes all the time:
    /// a 32 MB page cache, and checkpoints left to another connection
    /// ([`SqlitePings::checkpoint`]), so a commit does not wait for one. (Should that
    /// connection stop, the writer checkpoints itself once the WAL holds 256 MB.)
    pub(crate) fn open(path: &Path, busy: bool) -> Result<Self> {
        if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
            return Err(StoreError::invalid(
                "database_url",
                "pings need a database file, not an in-memory database",
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Waits up to 5 s for a lock, as the pool's connections do, but retries every
        // 100 µs: SQLite's own handler sleeps 10 to 100 ms between tries, which turned
        // each few-millisecond wait for the checkpointer into a stall of tens of them.
        conn.busy_handler(Some(|tries: i32| {
            std::thread::sleep(Duration::from_micros(100));
            tries < 50_000
        }))?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = memory;",
        )?;
        if busy {
            conn.execute_batch("PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 65536;")?;
        }
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Self { conn })
    }

    /// Runs a checkpoint of the given mode (`PASSIVE`, `RESTART`) and returns how many
    /// frames the WAL holds (-1 if it could not tell).
    pub(crate) fn checkpoint(&self, mode: Checkpoint) -> Result<i64> {
        let sql = match mode {
            Checkpoint::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            Checkpoint::Restart => "PRAGMA wal_checkpoint(RESTART)",
        };
        Ok(self.conn.query_row(sql, [], |r| r.get(1))?)
    }

    /// Stores a batch in one transaction and says, per ping, whether its check was
    /// found. `keep` is how many pings each check keeps.
    pub(crate) fn record(
        &mut self,
        pings: &[IncomingPing],
        keep: i64,
        create: &mut CreateCheck<'_>,
    ) -> Result<Vec<PingOutcome>> {
        // Checks a ping creates are made first, before this connection takes the lock;
        // each is remembered with the ping that made it, so pings before that one in
        // the batch still find nothing, as they would have one by one.
        let mut created: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, ping) in pings.iter().enumerate().filter(|(_, p)| p.create) {
            if let PingTarget::Slug { ping_key, slug } = &ping.target {
                let key = (ping_key.as_str(), slug.as_str());
                if !created.contains_key(&key)
                    && find_slug(&self.conn, ping_key, slug)?.is_none()
                    && create(ping)?
                {
                    created.insert(key, i);
                }
            }
        }

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut found = BatchFound::default();
        let mut by_uuid: HashMap<&str, i64> = HashMap::new();
        {
            let mut find = tx.prepare_cached(&format!(
                "SELECT {PING_ROW} FROM checks ch WHERE ch.public_id = ?1 \
                 AND ch.deleted_at IS NULL AND ch.kind <> 'http-probe'"
            ))?;
            for uuid in uuids_named(pings) {
                if let Some(row) = find.query_row([uuid], ping_row).optional()? {
                    by_uuid.insert(uuid, row.0);
                    found.rows.insert(row.0, row);
                }
            }
        }
        for (i, ping) in pings.iter().enumerate() {
            let target = match &ping.target {
                PingTarget::Uuid(uuid) => by_uuid.get(uuid.as_str()).map(|&id| (id, false)),
                PingTarget::Slug { ping_key, slug } => {
                    let maker = created.get(&(ping_key.as_str(), slug.as_str())).copied();
                    match maker {
                        Some(m) if i < m => None,
                        _ => find_slug(&tx, ping_key, slug)?.map(|row| {
                            let id = row.0;
                            found.rows.entry(id).or_insert(row);
                            (id, maker == Some(i))
                        }),
                    }
                }
            };
            found.targets.push(target);
        }
        {
            let mut start = tx.prepare_cached(
                "SELECT at FROM pings WHERE check_id = ?1 AND rid = ?2 AND kind = 'start' \
                 ORDER BY n DESC LIMIT 1",
            )?;
            for (check_id, rid) in run_ids_ended(pings, &found.targets) {
                if let Some(at) = start
                    .query_row(params![check_id, rid], |r| r.get::<_, i64>(0))
                    .optional()?
                {
                    found.run_starts.insert((check_id, rid), at);
                }
            }
        }

        let plan = plan_batch(pings, &found, keep)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO pings (check_id, n, at, kind, exit_status, method, body, remote_addr, \
                 user_agent, rid, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for p in &plan.pings {
                insert.execute(params![
                    p.check_id,
                    p.n,
                    p.at,
                    p.kind,
                    p.exit_status,
                    p.method,
                    p.body,
                    p.remote_addr,
                    p.user_agent,
                    p.rid,
                    p.duration_ms
                ])?;
            }
            let mut state = tx.prepare_cached("UPDATE checks SET state = ?1 WHERE id = ?2")?;
            for (id, new) in &plan.moved {
                state.execute(params![new, id])?;
            }
            let mut check = tx.prepare_cached(
                "UPDATE checks SET paused = ?1, last_ping_at = ?2, last_failed = ?3, started_at = ?4, \
                 next_due_at = ?5, down_at = ?6, ping_count = ?7, updated_at = ?8 WHERE id = ?9",
            )?;
            for c in &plan.checks {
                check.execute(params![
                    c.paused,
                    c.last_ping_at,
                    c.last_failed,
                    c.started_at,
                    c.next_due_at,
                    c.down_at,
                    c.ping_count,
                    c.updated_at,
                    c.id
                ])?;
            }
            let mut hour = tx.prepare_cached(
                "INSERT INTO ping_hours (check_id, hour, total, failures) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (check_id, hour) DO UPDATE SET total = total + excluded.total, \
                 failures = failures + excluded.failures",
            )?;
            for h in &plan.hours {
                hour.execute(params![h.check_id, h.hour, h.total, h.failures])?;
            }
            let mut prune =
                tx.prepare_cached("DELETE FROM pings WHERE check_id = ?1 AND n <= ?2")?;
            for (check_id, last) in &plan.prunes {
                prune.execute(params![check_id, last])?;
            }
            let mut flip = tx.prepare_cached(
                "INSERT INTO check_flips (check_id, at, old_state, new_state, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for f in &plan.flips {
                flip.execute(params![
                    f.check_id,
                    f.at,
                    f.old.as_str(),
                    f.new.as_str(),
                    f.reason
                ])?;
            }
        }
        tx.commit()?;
        Ok(plan.outcomes)
    }
}
