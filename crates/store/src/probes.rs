//! HTTP probes: the settings of checks of kind `http-probe`, the claiming of due runs,
//! and their results.
//!
//! A run is claimed by moving the probe's `next_slot_at` to the following slot in the
//! same short transaction that reads it (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so
//! two instances on one database never run the same slot; the HTTP call happens after
//! the commit. A result is stored with [`Store::record_probe_result`], which sets the
//! check's state (up or down) and writes a flip when it changes, so the heartbeat
//! watcher's alert path (pending flips → ticket + outbox) handles probes unchanged.
//!
//! Retention: the newest `keep` results per probe, plus hourly counts in `ping_hours`.

use serde::Serialize;
use tend_domain::check::CheckState;
use tend_domain::page::{Page, PageRequest};
use tend_domain::probe::{
    first_slot, headers_text, next_slot, parse_headers, ExpectedStatus, KeywordRule, ProbeMethod,
    ProbeSettings, ProbeUrl, ProbeVerdict,
};

use crate::checks::Flip;
use crate::row::{parsed, RowExt};
use crate::{now_ms, with_pool, with_tx, Db, Result, Store, StoreError, Tx};

/// A probe run claimed for one slot.
#[derive(Debug, Clone)]
pub struct DueProbe {
    pub check_id: i64,
    /// The slot's instant; the run should start as close to it as possible.
    pub slot_at: i64,
    pub settings: ProbeSettings,
}

/// What one run found, ready to store.
#[derive(Debug, Clone)]
pub struct ProbeRun {
    pub slot_at: i64,
    pub started_at: i64,
    pub latency_ms: Option<i64>,
    pub status: Option<u16>,
    pub verdict: ProbeVerdict,
}

/// One stored result, for the check's page and the API.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub n: i64,
    pub slot_at: i64,
    pub started_at: i64,
    pub latency_ms: Option<i64>,
    pub status: Option<i64>,
    pub up: bool,
    pub reason: String,
}

const SETTINGS_COLUMNS: &str = "ps.check_id, ps.url, ps.method, ps.headers, ps.interval_ms, \
    ps.timeout_ms, ps.expect, ps.keyword, ps.keyword_absent, ps.max_latency_ms, ps.anchor_at, \
    ps.next_slot_at";

fn settings_from_row(r: &impl RowExt) -> Result<ProbeSettings> {
    let keyword = match r.opt_text("keyword")? {
        Some(text) => Some(KeywordRule {
            text,
            absent: r.int("keyword_absent")? != 0,
        }),
        None => None,
    };
    Ok(ProbeSettings {
        url: parsed("url", ProbeUrl::parse(&r.text("url")?))?,
        method: parsed("method", ProbeMethod::parse(&r.text("method")?))?,
        headers: parsed("headers", parse_headers(&r.text("headers")?))?,
        interval_ms: r.int("interval_ms")?,
        timeout_ms: r.int("timeout_ms")?,
        expect: parsed("expect", ExpectedStatus::parse(&r.text("expect")?))?,
        keyword,
        max_latency_ms: r.opt_int("max_latency_ms")?,
    })
}

fn result_from_row(r: &impl RowExt) -> Result<ProbeResult> {
    Ok(ProbeResult {
        n: r.int("n")?,
        slot_at: r.int("slot_at")?,
        started_at: r.int("started_at")?,
        latency_ms: r.opt_int("latency_ms")?,
        status: r.opt_int("status")?,
        up: r.int("up")? != 0,
        reason: r.text("reason")?,
    })
}

/// Writes a new probe's settings inside the transaction that creates its check, and
/// marks the check as an HTTP probe. The first slot is spread over the interval by the
/// check's id, so probes created together do not all run at the same instant.
pub(crate) async fn insert_probe(
    tx: &mut Tx,
    check_id: i64,
    settings: &ProbeSettings,
    now: i64,
) -> Result<()> {
    let anchor = now + (check_id.wrapping_mul(7_919)).rem_euclid(settings.interval_ms);
    let first = first_slot(anchor, settings.interval_ms, now);
    let keyword = settings.keyword.as_ref();
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO probe_settings (check_id, url, method, headers, interval_ms, timeout_ms, expect, \
         keyword, keyword_absent, max_latency_ms, anchor_at, next_slot_at, result_count) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)")
        .bind(check_id).bind(settings.url.as_str()).bind(settings.method.as_str())
        .bind(headers_text(&settings.headers)).bind(settings.interval_ms).bind(settings.timeout_ms)
        .bind(settings.expect.to_string()).bind(keyword.map(|k| k.text.clone()))
        .bind(i64::from(keyword.is_some_and(|k| k.absent))).bind(settings.max_latency_ms)
        .bind(anchor).bind(first)
        .execute(&mut *c).await.map(|_| ()))?;
    with_tx!(tx, c => sqlx::query("UPDATE checks SET kind = 'http-probe' WHERE id = $1")
        .bind(check_id).execute(&mut *c).await.map(|_| ()))?;
    Ok(())
}

/// The start of the UTC hour holding `ms`.
fn hour_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(3_600_000)
}

impl Store {
    /// A probe's settings; `None` for a check that is not an HTTP probe.
    pub async fn probe_settings(&self, check_id: i64) -> Result<Option<ProbeSettings>> {
        let sql =
            format!("SELECT {SETTINGS_COLUMNS} FROM probe_settings ps WHERE ps.check_id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(check_id).fetch_optional(p).await? {
            Some(r) => settings_from_row(&r).map(Some),
            None => Ok(None),
        })
    }

    /// When the earliest probe is due, if any probe is live.
    pub async fn next_probe_slot(&self) -> Result<Option<i64>> {
        Ok(with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT MIN(ps.next_slot_at) FROM probe_settings ps JOIN checks ch ON ch.id = ps.check_id \
             WHERE ch.paused = 0 AND ch.deleted_at IS NULL")
            .fetch_one(p).await)?)
    }

    /// Claims up to `limit` probe runs due at `now`: each claimed probe's next slot
    /// moves on by its interval (skipping slots missed while no instance ran) before
    /// the transaction commits, so another instance never claims the same slot.
    /// Paused and deleted checks are not run.
    pub async fn claim_due_probes(&self, now: i64, limit: i64) -> Result<Vec<DueProbe>> {
        let lock = match self.db {
            Db::Pg(_) => " FOR UPDATE OF ps SKIP LOCKED",
            Db::Sqlite(_) => "",
        };
        let sql = format!(
            "SELECT {SETTINGS_COLUMNS} FROM probe_settings ps JOIN checks ch ON ch.id = ps.check_id \
             WHERE ps.next_slot_at <= $1 AND ch.paused = 0 AND ch.deleted_at IS NULL \
             ORDER BY ps.next_slot_at LIMIT $2{lock}"
        );
        let mut tx = self.begin().await?;
        if let Tx::Sqlite(_) = tx {
            // Take SQLite's write lock first, so the rows read are the rows moved on.
            with_tx!(&mut tx, c => sqlx::query("UPDATE probe_settings SET check_id = check_id WHERE check_id = -1")
                .execute(&mut *c).await.map(|_| ()))?;
        }
        let due = with_tx!(&mut tx, c => {
            let rows = sqlx::query(&sql).bind(now).bind(limit).fetch_all(&mut *c).await?;
            rows.iter()
                .map(|r| -> Result<(DueProbe, i64, i64)> {
                    Ok((
                        DueProbe {
                            check_id: r.int("check_id")?,
                            slot_at: r.int("next_slot_at")?,
                            settings: settings_from_row(r)?,
                        },
                        r.int("anchor_at")?,
                        r.int("next_slot_at")?,
                    ))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let mut claimed = Vec::with_capacity(due.len());
        for (mut probe, anchor, stored) in due {
            let interval = probe.settings.interval_ms;
            // The latest slot not after now: a slot missed entirely is not run late.
            probe.slot_at = next_slot(anchor, interval, now) - interval;
            probe.slot_at = probe.slot_at.max(stored);
            let following = next_slot(anchor, interval, probe.slot_at);
            let moved = with_tx!(&mut tx, c => sqlx::query(
                "UPDATE probe_settings SET next_slot_at = $1 WHERE check_id = $2 AND next_slot_at = $3")
                .bind(following).bind(probe.check_id).bind(stored)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
            if moved == 1 {
                claimed.push(probe);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Stores one run's result, keeps the newest `keep`, and sets the check's state
    /// from it (unless the check is paused, deleted, or a newer slot already set it).
    /// Returns the flip written when the state changed; its reason is the verdict in
    /// words ("expected 200, got 503"), which the alert repeats.
    pub async fn record_probe_result(
        &self,
        check_id: i64,
        run: &ProbeRun,
        keep: i64,
    ) -> Result<Option<Flip>> {
        let mut tx = self.begin().await?;
        let flip = record_in(&mut tx, check_id, run, keep, now_ms()).await?;
        tx.commit().await?;
        Ok(flip)
    }

    /// Stores a batch of results in one transaction (one commit for many runs, which
    /// keeps thousands of probes cheap on PostgreSQL). A result for a probe that no
    /// longer exists is skipped. Returns the flips written.
    pub async fn record_probe_results(
        &self,
        runs: &[(i64, ProbeRun)],
        keep: i64,
    ) -> Result<Vec<Flip>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let mut flips = Vec::new();
        for (check_id, run) in runs {
            match record_in(&mut tx, *check_id, run, keep, now).await {
                Ok(Some(flip)) => flips.push(flip),
                Ok(None) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        tx.commit().await?;
        Ok(flips)
    }

    /// A probe's results, newest first.
    pub async fn probe_results(
        &self,
        check_id: i64,
        page: PageRequest,
    ) -> Result<Page<ProbeResult>> {
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(
                "SELECT n, slot_at, started_at, latency_ms, status, up, reason FROM probe_results \
                 WHERE check_id = $1 ORDER BY n DESC LIMIT $2 OFFSET $3")
                .bind(check_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(result_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM probe_results WHERE check_id = $1").bind(check_id).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// Lateness (start − slot, in ms) of every stored result whose slot fell in
    /// `[from, to)`: how far behind schedule probes ran.
    pub async fn probe_lateness(&self, from: i64, to: i64) -> Result<Vec<i64>> {
        Ok(with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT started_at - slot_at FROM probe_results WHERE slot_at >= $1 AND slot_at < $2 ORDER BY id")
            .bind(from).bind(to).fetch_all(p).await)?)
    }
}

/// One result inside a transaction: see [`Store::record_probe_result`].
async fn record_in(
    tx: &mut Tx,
    check_id: i64,
    run: &ProbeRun,
    keep: i64,
    now: i64,
) -> Result<Option<Flip>> {
    // Counting first takes the row lock, so concurrent results of one probe queue.
    let counted: Option<(i64, Option<i64>)> = with_tx!(tx, c => sqlx::query_as(
        "UPDATE probe_settings SET result_count = result_count + 1 WHERE check_id = $1 \
         RETURNING result_count, last_slot_at")
        .bind(check_id).fetch_optional(&mut *c).await)?;
    let Some((n, last_slot)) = counted else {
        return Err(StoreError::NotFound("probe"));
    };
    let up = run.verdict.is_up();
    let reason = run.verdict.reason();
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO probe_results (check_id, n, slot_at, started_at, latency_ms, status, up, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(check_id).bind(n).bind(run.slot_at).bind(run.started_at).bind(run.latency_ms)
        .bind(run.status.map(i64::from)).bind(i64::from(up)).bind(&reason)
        .execute(&mut *c).await.map(|_| ()))?;
    if keep > 0 && n > keep {
        with_tx!(tx, c => sqlx::query("DELETE FROM probe_results WHERE check_id = $1 AND n <= $2")
            .bind(check_id).bind(n - keep).execute(&mut *c).await.map(|_| ()))?;
    }
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO ping_hours (check_id, hour, total, failures) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (check_id, hour) DO UPDATE SET total = ping_hours.total + 1, \
         failures = ping_hours.failures + excluded.failures")
        .bind(check_id).bind(hour_of(run.started_at)).bind(i64::from(!up))
        .execute(&mut *c).await.map(|_| ()))?;
    let mut flip = None;
    if last_slot.is_none_or(|last| run.slot_at >= last) {
        let current: Option<(String, i64)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT state, paused FROM checks WHERE id = $1 AND deleted_at IS NULL")
            .bind(check_id).fetch_optional(&mut *c).await)?;
        if let Some((state, 0)) = current {
            let old = parsed("state", CheckState::parse(&state))?;
            let new = if up { CheckState::Up } else { CheckState::Down };
            with_tx!(tx, c => sqlx::query(
                "UPDATE checks SET state = $1, last_ping_at = $2, last_failed = $3, updated_at = $4 WHERE id = $5")
                .bind(new.as_str()).bind(run.started_at).bind(i64::from(!up)).bind(now).bind(check_id)
                .execute(&mut *c).await.map(|_| ()))?;
            with_tx!(tx, c => sqlx::query(
                "UPDATE probe_settings SET last_slot_at = $1 WHERE check_id = $2")
                .bind(run.slot_at).bind(check_id).execute(&mut *c).await.map(|_| ()))?;
            if new != old {
                let reason = if up { "probe OK".to_string() } else { reason };
                let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
                    "INSERT INTO check_flips (check_id, at, old_state, new_state, reason) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(check_id).bind(run.started_at).bind(old.as_str()).bind(new.as_str())
                    .bind(&reason).fetch_one(&mut *c).await)?;
                flip = Some(Flip {
                    id,
                    check_id,
                    at: run.started_at,
                    old_state: old,
                    new_state: new,
                    reason,
                    detail: None,
                });
            }
        }
    }
    Ok(flip)
}
