//! One batch of pings, in three steps: read the checks it names, decide in memory what
//! its pings do to them (with the domain's rules, in arrival order), then write the
//! result. The middle step, [`plan_batch`], is shared by both engines; PostgreSQL reads
//! and writes here with one statement (the rows go in as JSON arrays), and
//! SQLite in [`crate::ping_sqlite`] with prepared statements on a connection of its own.

use std::collections::HashMap;

use serde::Serialize;
use tend_domain::check::{prune_due, run_duration_ms, standing, CheckState, Heartbeat, PingFacts};
use tend_domain::ping_url::{PingTarget, Signal};

use crate::checks::{heartbeat_of, hour_of, insert_flip, resolve, IncomingPing, PingOutcome};
use crate::checks::{PingRow, PING_ROW};
use crate::row::parsed;
use crate::{with_tx, Result, StoreError, Tx};

/// What the database said about a batch before it is applied.
#[derive(Default)]
pub(crate) struct BatchFound<'a> {
    /// Per ping: its check's id and whether this ping created the check; `None` when
    /// no check answers to its UUID or slug.
    pub targets: Vec<Option<(i64, bool)>>,
    /// The checks the batch names, as stored before it.
    pub rows: HashMap<i64, PingRow>,
    /// The latest start of each (check, run id) that a ping of the batch ends.
    pub run_starts: HashMap<(i64, &'a str), i64>,
}

/// The (check, run id) pairs whose start the batch needs from the database: pings that
/// end a run named by `?rid=`.
pub(crate) fn run_ids_ended<'a>(
    pings: &'a [IncomingPing],
    targets: &[Option<(i64, bool)>],
) -> Vec<(i64, &'a str)> {
    let mut wanted: Vec<(i64, &str)> = pings
        .iter()
        .zip(targets)
        .filter(|(p, _)| !matches!(p.signal, Signal::Start | Signal::Log))
        .filter_map(|(p, t)| Some((t.as_ref()?.0, p.rid.as_deref()?)))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// The distinct UUIDs a batch names, sorted.
pub(crate) fn uuids_named(pings: &[IncomingPing]) -> Vec<&str> {
    let mut uuids: Vec<&str> = pings
        .iter()
        .filter_map(|p| match &p.target {
            PingTarget::Uuid(u) => Some(u.as_str()),
            PingTarget::Slug { .. } => None,
        })
        .collect();
    uuids.sort_unstable();
    uuids.dedup();
    uuids
}

/// A check the batch touches, as its pings move it.
struct Run {
    beat: Option<Heartbeat>,
    state: CheckState,
    state_before: CheckState,
    facts: PingFacts,
    /// Pings numbered so far (the check's `ping_count`), and before this batch.
    count: i64,
    count_before: i64,
    wake: Option<i64>,
    down_at: Option<i64>,
    at: i64,
}

impl Run {
    fn from_row(row: &PingRow) -> Result<Self> {
        let (
            _id,
            period_ms,
            cron,
            timezone,
            grace_ms,
            state,
            paused,
            last_ping_at,
            last_failed,
            started_at,
            count,
        ) = row;
        let state = parsed("state", CheckState::parse(state))?;
        Ok(Self {
            beat: heartbeat_of(*period_ms, cron.as_deref(), timezone.as_deref(), *grace_ms),
            state,
            state_before: state,
            facts: PingFacts {
                last_ping_at: *last_ping_at,
                last_failed: *last_failed != 0,
                started_at: *started_at,
                paused: *paused != 0,
            },
            count: *count,
            count_before: *count,
            wake: None,
            down_at: None,
            at: 0,
        })
    }
}

/// One ping row to insert.
#[derive(Serialize)]
pub(crate) struct PingRowOut<'a> {
    pub check_id: i64,
    pub n: i64,
    pub at: i64,
    pub kind: &'static str,
    pub exit_status: Option<i64>,
    pub method: &'a str,
    pub body: &'a str,
    pub remote_addr: &'a str,
    pub user_agent: &'a str,
    pub rid: Option<&'a str>,
    pub duration_ms: Option<i64>,
}

/// A check's new columns after the batch.
#[derive(Serialize)]
pub(crate) struct CheckRowOut {
    pub id: i64,
    pub state: &'static str,
    pub paused: i64,
    pub last_ping_at: Option<i64>,
    pub last_failed: i64,
    pub started_at: Option<i64>,
    pub next_due_at: Option<i64>,
    pub down_at: Option<i64>,
    pub ping_count: i64,
    pub updated_at: i64,
}

/// Pings to add to one check's hourly counts.
#[derive(Serialize)]
pub(crate) struct HourRowOut {
    pub check_id: i64,
    pub hour: i64,
    pub total: i64,
    pub failures: i64,
}

/// A state change a ping caused.
pub(crate) struct FlipOut {
    pub check_id: i64,
    pub at: i64,
    pub old: CheckState,
    pub new: CheckState,
    pub reason: String,
}

/// Everything a batch writes, and the answer to each of its pings.
pub(crate) struct BatchPlan<'a> {
    pub outcomes: Vec<PingOutcome>,
    pub pings: Vec<PingRowOut<'a>>,
    /// Checks whose state changed (only those: writing the state rewrites its index
    /// entry).
    pub moved: Vec<(i64, &'static str)>,
    pub checks: Vec<CheckRowOut>,
    pub hours: Vec<HourRowOut>,
    /// Checks due for pruning, with the last ping number to drop.
    pub prunes: Vec<(i64, i64)>,
    pub flips: Vec<FlipOut>,
}

/// Applies a batch's pings to their checks in arrival order, as the domain's rules say,
/// and returns what to write. `keep` is how many pings each check keeps.
pub(crate) fn plan_batch<'a>(
    pings: &'a [IncomingPing],
    found: &BatchFound<'a>,
    keep: i64,
) -> Result<BatchPlan<'a>> {
    let mut runs: HashMap<i64, Run> = HashMap::new();
    let mut outcomes = Vec::with_capacity(pings.len());
    let mut rows_out = Vec::with_capacity(pings.len());
    let mut flips = Vec::new();
    let mut hours: HashMap<(i64, i64), (i64, i64)> = HashMap::new();
    // Starts seen in this batch, by check and run id, for the duration of their end.
    let mut starts: HashMap<(i64, &str), i64> = HashMap::new();
    for (ping, target) in pings.iter().zip(&found.targets) {
        let Some((id, created)) = *target else {
            outcomes.push(PingOutcome::NotFound);
            continue;
        };
        let run = match runs.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let row = found
                    .rows
                    .get(&id)
                    .ok_or_else(|| StoreError::invalid("ping", "a found check has no row"))?;
                e.insert(Run::from_row(row)?)
            }
        };
        let old = run.state;
        // A run's length: from its start named by `?rid=` (this batch's or the stored
        // one), else from the check's last start.
        let start = match &ping.rid {
            Some(rid) => starts
                .get(&(id, rid.as_str()))
                .or_else(|| found.run_starts.get(&(id, rid.as_str())))
                .copied(),
            None => run.facts.started_at,
        };
        let duration_ms = match ping.signal {
            Signal::Start | Signal::Log => None,
            _ => start.and_then(|s| run_duration_ms(s, ping.at)),
        };
        if let (Signal::Start, Some(rid)) = (ping.signal, &ping.rid) {
            starts.insert((id, rid.as_str()), ping.at);
        }
        run.facts = run.facts.with_ping(ping.signal, ping.at);
        run.count += 1;
        run.at = ping.at;
        let (new, wake, down_at) = match &run.beat {
            Some(beat) => {
                let s = standing(beat, &run.facts, ping.at);
                (s.state, s.wake_at, s.down_at)
            }
            None => (old, None, None),
        };
        run.state = new;
        run.wake = wake;
        run.down_at = down_at;
        if new != old {
            flips.push(FlipOut {
                check_id: id,
                at: ping.at,
                old,
                new,
                reason: format!("{} ping", ping.signal.kind()),
            });
        }
        let hour = hours.entry((id, hour_of(ping.at))).or_default();
        hour.0 += 1;
        hour.1 += i64::from(ping.signal.is_failure());
        rows_out.push(PingRowOut {
            check_id: id,
            n: run.count,
            at: ping.at,
            kind: ping.signal.kind(),
            exit_status: ping.signal.exit_status().map(i64::from),
            method: &ping.method,
            body: &ping.body,
            remote_addr: &ping.remote_addr,
            user_agent: &ping.user_agent,
            rid: ping.rid.as_deref(),
            duration_ms,
        });
        outcomes.push(PingOutcome::Stored { created });
    }

    let mut moved = Vec::new();
    let mut checks = Vec::with_capacity(runs.len());
    let mut prunes = Vec::new();
    // In id order, so that two writers lock and update rows in the same order.
    let mut runs: Vec<(i64, Run)> = runs.into_iter().collect();
    runs.sort_unstable_by_key(|(id, _)| *id);
    for (id, r) in runs {
        if r.state != r.state_before {
            moved.push((id, r.state.as_str()));
        }
        checks.push(CheckRowOut {
            id,
            state: r.state.as_str(),
            paused: i64::from(r.facts.paused),
            last_ping_at: r.facts.last_ping_at,
            last_failed: i64::from(r.facts.last_failed),
            started_at: r.facts.started_at,
            next_due_at: r.wake,
            down_at: r.down_at,
            ping_count: r.count,
            updated_at: r.at,
        });
        if prune_due(keep, r.count_before, r.count) {
            prunes.push((id, r.count - keep));
        }
    }
    let mut hours: Vec<HourRowOut> = hours
        .into_iter()
        .map(|((check_id, hour), (total, failures))| HourRowOut {
            check_id,
            hour,
            total,
            failures,
        })
        .collect();
    hours.sort_unstable_by_key(|h| (h.check_id, h.hour));
    Ok(BatchPlan {
        outcomes,
        pings: rows_out,
        moved,
        checks,
        hours,
        prunes,
        flips,
    })
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    // Plain structs of numbers and strings always serialize.
    serde_json::to_string(value).map_err(|e| StoreError::invalid("ping", e.to_string()))
}

/// Columns of a JSON array parameter (`$n`) read as rows named `v`: each column's name
/// and type. One statement, whatever the batch size, so the statement cache holds it
/// and no batch is limited by the number of parameters.
fn json_rows(n: usize, columns: &[(&str, &str)]) -> String {
    let types = columns
        .iter()
        .map(|(name, ty)| format!("{name} {ty}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("json_to_recordset(${n}::json) AS v({types})")
}

fn column_list(columns: &[(&str, &str)]) -> String {
    columns
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

const PING_COLUMNS: [(&str, &str); 11] = [
    ("check_id", "bigint"),
    ("n", "bigint"),
    ("at", "bigint"),
    ("kind", "text"),
    ("exit_status", "bigint"),
    ("method", "text"),
    ("body", "text"),
    ("remote_addr", "text"),
    ("user_agent", "text"),
    ("rid", "text"),
    ("duration_ms", "bigint"),
];

const CHECK_UPDATE_COLUMNS: [(&str, &str); 10] = [
    ("id", "bigint"),
    ("state", "text"),
    ("paused", "bigint"),
    ("last_ping_at", "bigint"),
    ("last_failed", "bigint"),
    ("started_at", "bigint"),
    ("next_due_at", "bigint"),
    ("down_at", "bigint"),
    ("ping_count", "bigint"),
    ("updated_at", "bigint"),
];

const HOUR_COLUMNS: [(&str, &str); 4] = [
    ("check_id", "bigint"),
    ("hour", "bigint"),
    ("total", "bigint"),
    ("failures", "bigint"),
];

/// Stores a batch on PostgreSQL inside `tx`: reads every check it names with one query
/// (locked, in id order, so a second instance's batch waits instead of numbering the
/// same pings), plans it, then writes it with one statement.
pub(crate) async fn record_batch_pg(
    tx: &mut Tx,
    pings: &[IncomingPing],
    keep: i64,
) -> Result<Vec<PingOutcome>> {
    let not_pg = || StoreError::invalid("ping", "not a PostgreSQL transaction");
    if !matches!(tx, Tx::Pg(_)) {
        return Err(not_pg());
    }
    let uuids = uuids_named(pings);
    let mut found = BatchFound::default();
    let mut by_uuid: HashMap<String, i64> = HashMap::new();
    if !uuids.is_empty() {
        // `= ANY($1)` on the UUID alone keeps the plan on the UUID index, however stale
        // the statistics: an `IN (SELECT … json …)` was planned as a scan of every check,
        // and `deleted_at IS NULL` in the WHERE clause drew in the partial slug index
        // (a bitmap of every live check). Deleted checks and probes are skipped below.
        let sql = format!(
            "SELECT {PING_ROW}, ch.public_id, ch.deleted_at IS NULL AND ch.kind <> 'http-probe' \
             FROM checks ch WHERE ch.public_id = ANY($1) ORDER BY ch.id FOR UPDATE OF ch"
        );
        let Tx::Pg(pg) = &mut *tx else {
            return Err(not_pg());
        };
        let rows: Vec<FoundRow> = sqlx::query_as(&sql)
            .bind(&uuids)
            .fetch_all(&mut **pg)
            .await?;
        // HTTP probes are judged by their own runs, not by pings: their UUIDs are not found.
        for r in rows.into_iter().filter(|r| r.12) {
            by_uuid.insert(r.11, r.0);
            found.rows.insert(
                r.0,
                (r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10),
            );
        }
    }
    for ping in pings {
        let target = match &ping.target {
            PingTarget::Uuid(uuid) => by_uuid.get(uuid.as_str()).map(|&id| (id, false)),
            PingTarget::Slug { .. } => match resolve(tx, ping).await? {
                None => None,
                Some((row, created)) => {
                    let id = row.0;
                    found.rows.entry(id).or_insert(row);
                    Some((id, created))
                }
            },
        };
        found.targets.push(target);
    }
    for (check_id, rid) in run_ids_ended(pings, &found.targets) {
        let start: Option<i64> = with_tx!(&mut *tx, c => sqlx::query_scalar(
            "SELECT at FROM pings WHERE check_id = $1 AND rid = $2 AND kind = 'start' ORDER BY n DESC LIMIT 1")
            .bind(check_id).bind(rid).fetch_optional(&mut *c).await)?;
        if let Some(at) = start {
            found.run_starts.insert((check_id, rid), at);
        }
    }

    let plan = plan_batch(pings, &found, keep)?;
    if plan.pings.is_empty() {
        return Ok(plan.outcomes);
    }
    // One statement writes the pings, the checks and the hourly counts, so a batch
    // costs one round trip more than its reads. Writing a check's state when it did not
    // change costs nothing here: the update stays on its page (HOT) all the same.
    let sets = CHECK_UPDATE_COLUMNS[1..]
        .iter()
        .map(|(name, _)| format!("{name} = v.{name}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH p AS (INSERT INTO pings ({ping_cols}) SELECT {ping_cols} FROM {ping_src}), \
         c AS (UPDATE checks SET {sets} FROM {check_src} \
               WHERE checks.id = v.id AND checks.id = ANY($4)), \
         h AS (INSERT INTO ping_hours ({hour_cols}) SELECT {hour_cols} FROM {hour_src} \
               ON CONFLICT (check_id, hour) DO UPDATE SET total = ping_hours.total + excluded.total, \
               failures = ping_hours.failures + excluded.failures) \
         SELECT 1",
        ping_cols = column_list(&PING_COLUMNS),
        ping_src = json_rows(1, &PING_COLUMNS),
        check_src = json_rows(2, &CHECK_UPDATE_COLUMNS),
        hour_cols = column_list(&HOUR_COLUMNS),
        hour_src = json_rows(3, &HOUR_COLUMNS),
    );
    // Each update names its rows in `$4` too, so PostgreSQL finds them by primary key
    // (the JSON rows alone were joined with a scan of every check).
    let ids: Vec<i64> = plan.checks.iter().map(|c| c.id).collect();
    let Tx::Pg(pg) = &mut *tx else {
        return Err(not_pg());
    };
    sqlx::query(&sql)
        .bind(to_json(&plan.pings)?)
        .bind(to_json(&plan.checks)?)
        .bind(to_json(&plan.hours)?)
        .bind(&ids)
        .execute(&mut **pg)
        .await?;
    for (check_id, last) in &plan.prunes {
        with_tx!(&mut *tx, c => sqlx::query("DELETE FROM pings WHERE check_id = $1 AND n <= $2")
            .bind(check_id).bind(last)
            .execute(&mut *c).await.map(|_| ()))?;
    }
    for f in &plan.flips {
        insert_flip(tx, f.check_id, f.at, f.old, f.new, &f.reason).await?;
    }
    Ok(plan.outcomes)
}

/// [`PING_ROW`], the check's UUID, and whether pings reach it (not deleted, not a probe).
type FoundRow = (
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    String,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    i64,
    String,
    bool,
);
