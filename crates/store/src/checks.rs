//! Heartbeat checks, their pings and their state changes (flips).
//!
//! Pings arrive in batches ([`Store::record_pings`]): the web layer's single writer
//! collects the pings of a few milliseconds and stores them in one transaction, so a
//! 2xx reply always follows a commit. Each check keeps its last pings and deadlines on
//! its row; the state is recomputed by `tend_domain::check::heartbeat_state` on every
//! ping and by the watcher ([`Store::advance_due_checks`]) when a deadline passes.
//!
//! A batch is read with one query and written with one statement per table (the rows
//! go in as one JSON array), so its cost grows with its pings, not its statements.
//!
//! Retention: the newest `keep` pings of a check (1,000 unless configured; pruned every
//! `keep / 10` pings, see `tend_domain::check::prune_due`) plus hourly counts in
//! `ping_hours` (dropped after 400 days by the jobs), so the tables stay bounded under
//! constant load.

use serde::Serialize;
use tend_domain::check::{
    standing, CheckInput, CheckKind, CheckState, CheckUuid, Criticality, CronExpr, Heartbeat,
    PingFacts, Schedule, AUTO_GRACE_MS, AUTO_PERIOD_MS,
};
use tend_domain::page::{Page, PageRequest};
use tend_domain::ping_url::{PingTarget, Signal};
use tend_domain::timezone::Timezone;

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::{bind_all, now_ms, with_pool, with_tx, Actor, Bind, Db, Result, Store, StoreError, Tx};

/// How many pings a check keeps unless configured otherwise.
pub const DEFAULT_PINGS_KEPT: i64 = 1_000;

/// A check as stored, with its client.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: i64,
    /// The UUID in the check's ping URL.
    pub uuid: String,
    pub client_id: i64,
    pub client_slug: String,
    pub client_name: String,
    pub name: String,
    pub slug: String,
    pub workflow: String,
    pub criticality: Criticality,
    pub kind: CheckKind,
    /// Milliseconds between pings, for a period schedule.
    pub period_ms: Option<i64>,
    /// A cron expression and its timezone, for a cron schedule.
    pub cron: Option<String>,
    pub timezone: Option<String>,
    pub grace_ms: i64,
    pub state: CheckState,
    pub paused: bool,
    pub last_ping_at: Option<i64>,
    pub last_failed: bool,
    pub started_at: Option<i64>,
    /// When the watcher looks at it next (its deadline while up, its down time while late).
    pub next_due_at: Option<i64>,
    pub down_at: Option<i64>,
    pub ping_count: i64,
    pub alert_ticket_id: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Check {
    /// The schedule as the domain reads it; `None` if the stored schedule no longer
    /// parses (it was validated when written, so only a hand-edited row gets here).
    pub fn heartbeat(&self) -> Option<Heartbeat> {
        heartbeat_of(
            self.period_ms,
            self.cron.as_deref(),
            self.timezone.as_deref(),
            self.grace_ms,
        )
    }

    /// "every 5m", "0 9 * * 1-5 (Europe/Berlin)".
    pub fn schedule_text(&self) -> String {
        if self.kind == CheckKind::EventStream {
            return "events (shape and volume)".into();
        }
        self.heartbeat()
            .map(|h| h.schedule.describe())
            .unwrap_or_else(|| "unreadable schedule".into())
    }

    pub(crate) fn facts(&self) -> PingFacts {
        PingFacts {
            last_ping_at: self.last_ping_at,
            last_failed: self.last_failed,
            started_at: self.started_at,
            paused: self.paused,
        }
    }
}

pub(crate) fn heartbeat_of(
    period_ms: Option<i64>,
    cron: Option<&str>,
    timezone: Option<&str>,
    grace_ms: i64,
) -> Option<Heartbeat> {
    let schedule = match (period_ms, cron) {
        (Some(period_ms), _) => Schedule::Period { period_ms },
        (None, Some(cron)) => Schedule::Cron {
            expr: CronExpr::parse(cron).ok()?,
            tz: Timezone::parse(timezone.unwrap_or("UTC")).ok()?,
        },
        (None, None) => return None,
    };
    Some(Heartbeat { schedule, grace_ms })
}

/// One stored ping, for the ping log.
#[derive(Debug, Clone, Serialize)]
pub struct Ping {
    pub n: i64,
    pub at: i64,
    pub kind: String,
    pub exit_status: Option<i64>,
    pub method: String,
    pub body: String,
    pub remote_addr: String,
    pub user_agent: String,
    pub rid: Option<String>,
    pub duration_ms: Option<i64>,
}

/// One state change of a check.
#[derive(Debug, Clone, Serialize)]
pub struct Flip {
    pub id: i64,
    pub check_id: i64,
    pub at: i64,
    pub old_state: CheckState,
    pub new_state: CheckState,
    pub reason: String,
    /// What an event-stream alert says (drift findings, volume against its baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A ping as the ping endpoint received it.
#[derive(Debug, Clone)]
pub struct IncomingPing {
    pub target: PingTarget,
    pub signal: Signal,
    pub rid: Option<String>,
    pub create: bool,
    pub at: i64,
    pub method: String,
    /// Already cut to the configured limit.
    pub body: String,
    pub remote_addr: String,
    pub user_agent: String,
}

/// What became of one ping of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingOutcome {
    /// Stored; `created` when the ping created its check (`?create=1`).
    Stored { created: bool },
    /// No check has that UUID, or that ping key and slug.
    NotFound,
}

#[derive(Debug, Clone, Default)]
pub struct CheckFilter {
    pub client_id: Option<i64>,
    pub state: Option<CheckState>,
}

const CHECK_SELECT: &str = "SELECT ch.id, ch.public_id, ch.client_id, c.slug AS client_slug, \
    c.name AS client_name, ch.name, ch.slug, ch.workflow, ch.criticality, ch.kind, ch.period_ms, \
    ch.cron, ch.timezone, ch.grace_ms, ch.state, ch.paused, ch.last_ping_at, ch.last_failed, \
    ch.started_at, ch.next_due_at, ch.down_at, ch.ping_count, ch.alert_ticket_id, ch.created_by, \
    ch.created_at, ch.updated_at FROM checks ch JOIN clients c ON c.id = ch.client_id";

fn check_from_row(r: &impl RowExt) -> Result<Check> {
    Ok(Check {
        id: r.int("id")?,
        uuid: r.text("public_id")?,
        client_id: r.int("client_id")?,
        client_slug: r.text("client_slug")?,
        client_name: r.text("client_name")?,
        name: r.text("name")?,
        slug: r.text("slug")?,
        workflow: r.text("workflow")?,
        criticality: parsed("criticality", Criticality::parse(&r.text("criticality")?))?,
        kind: parsed("kind", CheckKind::parse(&r.text("kind")?))?,
        period_ms: r.opt_int("period_ms")?,
        cron: r.opt_text("cron")?,
        timezone: r.opt_text("timezone")?,
        grace_ms: r.int("grace_ms")?,
        state: parsed("state", CheckState::parse(&r.text("state")?))?,
        paused: r.int("paused")? != 0,
        last_ping_at: r.opt_int("last_ping_at")?,
        last_failed: r.int("last_failed")? != 0,
        started_at: r.opt_int("started_at")?,
        next_due_at: r.opt_int("next_due_at")?,
        down_at: r.opt_int("down_at")?,
        ping_count: r.int("ping_count")?,
        alert_ticket_id: r.opt_int("alert_ticket_id")?,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn ping_from_row(r: &impl RowExt) -> Result<Ping> {
    Ok(Ping {
        n: r.int("n")?,
        at: r.int("at")?,
        kind: r.text("kind")?,
        exit_status: r.opt_int("exit_status")?,
        method: r.text("method")?,
        body: r.text("body")?,
        remote_addr: r.text("remote_addr")?,
        user_agent: r.text("user_agent")?,
        rid: r.opt_text("rid")?,
        duration_ms: r.opt_int("duration_ms")?,
    })
}

fn flip_from_row(r: &impl RowExt) -> Result<Flip> {
    Ok(Flip {
        id: r.int("id")?,
        check_id: r.int("check_id")?,
        at: r.int("at")?,
        old_state: parsed("old_state", CheckState::parse(&r.text("old_state")?))?,
        new_state: parsed("new_state", CheckState::parse(&r.text("new_state")?))?,
        reason: r.text("reason")?,
        detail: r.opt_text("detail")?,
    })
}

pub(crate) fn schedule_columns(beat: &Heartbeat) -> (Option<i64>, Option<String>, Option<String>) {
    match &beat.schedule {
        Schedule::Period { period_ms } => (Some(*period_ms), None, None),
        Schedule::Cron { expr, tz } => (
            None,
            Some(expr.as_str().to_string()),
            Some(tz.as_str().to_string()),
        ),
    }
}

pub(crate) fn check_fields(input: &CheckInput) -> Vec<(&'static str, String)> {
    vec![
        ("name", input.name.clone()),
        ("slug", input.slug.clone()),
        ("workflow", input.workflow.clone()),
        ("criticality", input.criticality.as_str().to_string()),
        ("schedule", input.heartbeat.schedule.describe()),
        (
            "grace",
            tend_domain::check::format_interval(input.heartbeat.grace_ms),
        ),
    ]
}

pub(crate) fn new_uuid() -> CheckUuid {
    let mut bytes = [0u8; 16];
    // See `random_hex`: without the OS generator Tend cannot make any secret.
    getrandom::fill(&mut bytes).expect("the operating system's random generator is unavailable");
    CheckUuid::from_random(bytes)
}

pub(crate) fn taken_slug(e: sqlx::Error, slug: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict {
            field: "slug",
            message: format!("this client already has a check with the slug \"{slug}\""),
        }
    } else {
        e.into()
    }
}

/// The columns of a check the ping writer needs.
pub(crate) type PingRow = (
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
);
pub(crate) const PING_ROW: &str =
    "ch.id, ch.period_ms, ch.cron, ch.timezone, ch.grace_ms, ch.state, ch.paused, \
    ch.last_ping_at, ch.last_failed, ch.started_at, ch.ping_count";

/// A check row about to be written.
pub(crate) struct NewCheck<'a> {
    pub(crate) client_id: i64,
    pub(crate) uuid: &'a CheckUuid,
    pub(crate) name: &'a str,
    pub(crate) slug: &'a str,
    pub(crate) workflow: &'a str,
    pub(crate) criticality: Criticality,
    pub(crate) beat: &'a Heartbeat,
    pub(crate) created_by: &'a str,
    pub(crate) now: i64,
}

/// Inserts a check row inside a transaction; returns its id.
pub(crate) async fn insert_check(tx: &mut Tx, new: NewCheck<'_>) -> Result<i64> {
    let (period_ms, cron, timezone) = schedule_columns(new.beat);
    let id = with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO checks (public_id, client_id, name, slug, workflow, criticality, kind, period_ms, cron, \
         timezone, grace_ms, state, paused, last_failed, ping_count, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'heartbeat', $7, $8, $9, $10, 'new', 0, 0, 0, $11, $12, $12) RETURNING id")
        .bind(new.uuid.as_str()).bind(new.client_id).bind(new.name).bind(new.slug).bind(new.workflow)
        .bind(new.criticality.as_str()).bind(period_ms).bind(cron).bind(timezone).bind(new.beat.grace_ms)
        .bind(new.created_by).bind(new.now)
        .fetch_one(&mut *c).await)
        .map_err(|e| taken_slug(e, new.slug))?;
    Ok(id)
}

pub(crate) async fn insert_flip(
    tx: &mut Tx,
    check_id: i64,
    at: i64,
    old: CheckState,
    new: CheckState,
    reason: &str,
) -> Result<i64> {
    Ok(with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO check_flips (check_id, at, old_state, new_state, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(check_id).bind(at).bind(old.as_str()).bind(new.as_str()).bind(reason)
        .fetch_one(&mut *c).await)?)
}

/// The start of the UTC hour holding `ms`.
pub(crate) fn hour_of(ms: i64) -> i64 {
    ms - ms.rem_euclid(3_600_000)
}

impl Store {
    /// A client's ping key for slug URLs, made on first use.
    pub async fn client_ping_key(&self, client_id: i64) -> Result<String> {
        let existing: Option<String> = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT ping_key FROM client_ping_keys WHERE client_id = $1")
            .bind(client_id).fetch_optional(p).await)?;
        if let Some(key) = existing {
            return Ok(key);
        }
        let mut bytes = [0u8; 16];
        // See `random_hex`.
        getrandom::fill(&mut bytes)
            .expect("the operating system's random generator is unavailable");
        let key = tend_domain::check::ping_key_from_random(bytes);
        with_pool!(&self.db, p => sqlx::query(
            "INSERT INTO client_ping_keys (client_id, ping_key, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id) DO NOTHING")
            .bind(client_id).bind(&key).bind(now_ms()).execute(p).await.map(|_| ()))?;
        // Another writer may have made one first; theirs is the one kept.
        Ok(with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT ping_key FROM client_ping_keys WHERE client_id = $1")
            .bind(client_id).fetch_one(p).await)?)
    }

    /// Adds a heartbeat check for a client (audited).
    pub async fn create_check(&self, actor: &Actor, input: &CheckInput) -> Result<Check> {
        let client = self
            .client_by_slug(input.client.as_str(), false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("client", format!("there is no client {}", input.client))
                }
                other => other,
            })?;
        let now = now_ms();
        let uuid = new_uuid();
        let mut tx = self.begin().await?;
        let id = insert_check(
            &mut tx,
            NewCheck {
                client_id: client.id,
                uuid: &uuid,
                name: &input.name,
                slug: &input.slug,
                workflow: &input.workflow,
                criticality: input.criticality,
                beat: &input.heartbeat,
                created_by: &actor.label,
                now,
            },
        )
        .await?;
        let mut after = check_fields(input);
        if let Some(probe) = &input.probe {
            crate::probes::insert_probe(&mut tx, id, probe, now).await?;
            after.push(("probe", probe.describe()));
        }
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "check",
                entity_id: Some(id),
                client_id: Some(client.id),
                summary: format!("added check \"{}\" for {}", input.name, client.name),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.check(uuid.as_str()).await
    }

    /// A check by the UUID of its ping URL.
    pub async fn check(&self, uuid: &str) -> Result<Check> {
        let uuid = CheckUuid::parse(uuid).map_err(|_| StoreError::NotFound("check"))?;
        let sql = format!("{CHECK_SELECT} WHERE ch.public_id = $1 AND ch.deleted_at IS NULL");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(uuid.as_str()).fetch_optional(p).await? {
            Some(r) => check_from_row(&r),
            None => Err(StoreError::NotFound("check")),
        })
    }

    /// Checks, by client name then check name, one page at a time.
    pub async fn checks(&self, filter: &CheckFilter, page: PageRequest) -> Result<Page<Check>> {
        let mut conditions = vec!["ch.deleted_at IS NULL".to_string()];
        let mut binds = Vec::new();
        if let Some(client_id) = filter.client_id {
            binds.push(Bind::Int(client_id));
            conditions.push(format!("ch.client_id = ${}", binds.len()));
        }
        if let Some(state) = filter.state {
            binds.push(Bind::Text(state.as_str().to_string()));
            conditions.push(format!("ch.state = ${}", binds.len()));
        }
        let filter_sql = conditions.join(" AND ");
        let sql = format!(
            "{CHECK_SELECT} WHERE {filter_sql} ORDER BY c.name_lower, c.id, ch.name, ch.id LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let count_sql = format!("SELECT COUNT(*) FROM checks ch WHERE {filter_sql}");
        let items = with_pool!(&self.db, p => {
            let q = bind_all!(sqlx::query(&sql), &binds).bind(page.limit()).bind(page.offset());
            let rows = q.fetch_all(p).await?;
            rows.iter().map(check_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&count_sql), &binds).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// How many checks are in each state, for the status overview.
    pub async fn check_state_counts(&self) -> Result<Vec<(CheckState, i64)>> {
        let rows: Vec<(String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT state, COUNT(*) FROM checks WHERE deleted_at IS NULL GROUP BY state")
            .fetch_all(p).await)?;
        rows.into_iter()
            .map(|(s, n)| Ok((parsed("state", CheckState::parse(&s))?, n)))
            .collect()
    }

    /// Pauses or resumes a check (audited). A paused check raises no alert until its
    /// next ping or until it is resumed; resuming waits for the next ping ("new" if it
    /// never had one).
    pub async fn set_check_paused(&self, actor: &Actor, uuid: &str, paused: bool) -> Result<Check> {
        let check = self.check(uuid).await?;
        if check.paused == paused {
            return Ok(check);
        }
        let now = now_ms();
        let mut facts = check.facts();
        facts.paused = paused;
        if !paused {
            // Resuming starts afresh: the next ping sets the schedule going again.
            facts.last_ping_at = None;
            facts.last_failed = false;
            facts.started_at = None;
        }
        let (state, wake, down_at) = match check.heartbeat() {
            Some(beat) => {
                let s = standing(&beat, &facts, now);
                (s.state, s.wake_at, s.down_at)
            }
            // No schedule (an event stream): paused, or new until its next event.
            None if paused => (CheckState::Paused, None, None),
            None => (CheckState::New, None, None),
        };
        let mut tx = self.begin().await?;
        let changed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE checks SET paused = $1, state = $2, next_due_at = $3, down_at = $4, last_ping_at = $5, \
             last_failed = $6, started_at = $7, updated_at = $8 WHERE id = $9 AND paused = $10")
            .bind(i64::from(paused)).bind(state.as_str()).bind(wake).bind(down_at)
            .bind(facts.last_ping_at).bind(i64::from(facts.last_failed)).bind(facts.started_at)
            .bind(now).bind(check.id).bind(i64::from(check.paused))
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if changed == 1 {
            if state != check.state {
                let reason = if paused { "paused" } else { "resumed" };
                insert_flip(&mut tx, check.id, now, check.state, state, reason).await?;
            }
            let before = [("paused", check.paused.to_string())];
            let after = [("paused", paused.to_string())];
            audit::record(
                &mut tx,
                actor,
                Change {
                    action: Action::Update,
                    entity: "check",
                    entity_id: Some(check.id),
                    client_id: Some(check.client_id),
                    summary: format!(
                        "{} check \"{}\"",
                        if paused { "paused" } else { "resumed" },
                        check.name
                    ),
                    before: &before,
                    after: &after,
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.check(uuid).await
    }

    /// Deletes a check (audited): its ping URL stops answering; its pings and flips
    /// stay for the record.
    pub async fn delete_check(&self, actor: &Actor, uuid: &str) -> Result<()> {
        let check = self.check(uuid).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let deleted = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE checks SET deleted_at = $1, next_due_at = NULL, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now).bind(check.id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if deleted == 0 {
            return Err(StoreError::NotFound("check"));
        }
        let before = [("name", check.name.clone()), ("slug", check.slug.clone())];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "check",
                entity_id: Some(check.id),
                client_id: Some(check.client_id),
                summary: format!("deleted check \"{}\"", check.name),
                before: &before,
                after: &[],
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A check's pings, newest first.
    pub async fn check_pings(&self, check_id: i64, page: PageRequest) -> Result<Page<Ping>> {
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(
                "SELECT n, at, kind, exit_status, method, body, remote_addr, user_agent, rid, duration_ms \
                 FROM pings WHERE check_id = $1 ORDER BY n DESC LIMIT $2 OFFSET $3")
                .bind(check_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(ping_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM pings WHERE check_id = $1").bind(check_id).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// A check's state changes, newest first.
    pub async fn check_flips(&self, check_id: i64, page: PageRequest) -> Result<Page<Flip>> {
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(
                "SELECT id, check_id, at, old_state, new_state, reason, detail FROM check_flips \
                 WHERE check_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3")
                .bind(check_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(flip_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM check_flips WHERE check_id = $1").bind(check_id).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// Ping counts per hour (hour start, total, failures) since `from`, oldest first.
    pub async fn check_ping_hours(&self, check_id: i64, from: i64) -> Result<Vec<(i64, i64, i64)>> {
        Ok(with_pool!(&self.db, p => sqlx::query_as(
            "SELECT hour, total, failures FROM ping_hours WHERE check_id = $1 AND hour >= $2 ORDER BY hour")
            .bind(check_id).bind(from).fetch_all(p).await)?)
    }

    /// Stores a batch of pings in one transaction and says, per ping, whether its check
    /// was found. Only after this returns `Ok` may the pings be answered with a 2xx.
    /// `keep` is how many pings each check keeps. (The server stores pings through a
    /// [`crate::ping_writer::PingWriter`]; this is for one-off pings and tests.)
    pub async fn record_pings(
        &self,
        pings: &[IncomingPing],
        keep: i64,
    ) -> Result<Vec<PingOutcome>> {
        match &self.db {
            Db::Sqlite(pool) => {
                let path = pool.connect_options().get_filename().to_path_buf();
                let store = self.clone();
                let pings = pings.to_vec();
                let runtime = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    let mut conn = crate::ping_sqlite::SqlitePings::open(&path, false)?;
                    conn.record(&pings, keep, &mut |ping| {
                        runtime.block_on(store.create_pinged_check(ping))
                    })
                })
                .await
                .map_err(|e| StoreError::invalid("ping", e.to_string()))?
            }
            Db::Pg(_) => {
                let mut tx = self.begin_write().await?;
                let outcomes = crate::ping_batch::record_batch_pg(&mut tx, pings, keep).await?;
                tx.commit().await?;
                Ok(outcomes)
            }
        }
    }

    /// Makes the check a slug ping with `?create=1` names, when its ping key is known and
    /// the slug free; says whether it made one.
    pub(crate) async fn create_pinged_check(&self, ping: &IncomingPing) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let created = matches!(resolve(&mut tx, ping).await?, Some((_, true)));
        tx.commit().await?;
        Ok(created)
    }

    /// Drops hourly ping counts of hours that started before `before` (UTC ms), at most
    /// `limit` rows per statement so no transaction grows large; returns how many went.
    pub async fn prune_ping_hours(&self, before: i64, limit: i64) -> Result<u64> {
        let mut dropped = 0;
        loop {
            let n = with_pool!(&self.db, p => sqlx::query(
                "DELETE FROM ping_hours WHERE (check_id, hour) IN \
                 (SELECT check_id, hour FROM ping_hours WHERE hour < $1 LIMIT $2)")
                .bind(before).bind(limit).execute(p).await.map(|r| r.rows_affected()))?;
            dropped += n;
            if n < limit.max(1) as u64 {
                return Ok(dropped);
            }
        }
    }

    /// Moves checks whose deadline has passed to late or down, `limit` at a time, and
    /// returns the flips it wrote. On PostgreSQL the rows are claimed with
    /// `FOR UPDATE SKIP LOCKED`, so two instances never flip one check twice; the
    /// update also requires the row to be unchanged since it was read.
    pub async fn advance_due_checks(&self, now: i64, limit: i64) -> Result<Vec<Flip>> {
        let lock = match self.db {
            Db::Pg(_) => " FOR UPDATE SKIP LOCKED",
            Db::Sqlite(_) => "",
        };
        let sql = format!(
            "SELECT {PING_ROW} FROM checks ch WHERE ch.next_due_at <= $1 \
             AND ch.deleted_at IS NULL ORDER BY ch.next_due_at LIMIT $2{lock}"
        );
        let mut tx = self.begin().await?;
        if let Tx::Sqlite(_) = tx {
            // Take SQLite's write lock first, so the rows read are the rows updated.
            with_tx!(&mut tx, c => sqlx::query("UPDATE checks SET id = id WHERE id = -1")
                .execute(&mut *c).await.map(|_| ()))?;
        }
        let rows: Vec<PingRow> = with_tx!(&mut tx, c => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(&mut *c).await)?;
        let mut flips = Vec::new();
        for (
            id,
            period_ms,
            cron,
            timezone,
            grace_ms,
            state,
            paused,
            last_ping_at,
            last_failed,
            started_at,
            _count,
        ) in rows
        {
            let old = parsed("state", CheckState::parse(&state))?;
            let facts = PingFacts {
                last_ping_at,
                last_failed: last_failed != 0,
                started_at,
                paused: paused != 0,
            };
            let (new, wake, down_at) =
                match heartbeat_of(period_ms, cron.as_deref(), timezone.as_deref(), grace_ms) {
                    Some(beat) => {
                        let s = standing(&beat, &facts, now);
                        (s.state, s.wake_at, s.down_at)
                    }
                    // An unreadable schedule cannot be watched; stop waking for it.
                    None => (old, None, None),
                };
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE checks SET state = $1, next_due_at = $2, down_at = $3, updated_at = $4 WHERE id = $5")
                .bind(new.as_str()).bind(wake).bind(down_at).bind(now).bind(id)
                .execute(&mut *c).await.map(|_| ()))?;
            if new != old {
                let reason = match new {
                    CheckState::Late => "deadline passed",
                    CheckState::Down => "grace time passed",
                    _ => "deadline reviewed",
                };
                let flip_id = insert_flip(&mut tx, id, now, old, new, reason).await?;
                flips.push(Flip {
                    id: flip_id,
                    check_id: id,
                    at: now,
                    old_state: old,
                    new_state: new,
                    reason: reason.to_string(),
                    detail: None,
                });
            }
        }
        tx.commit().await?;
        Ok(flips)
    }
}

/// Finds the check a ping names, creating it for `?create=1` on a known ping key.
pub(crate) async fn resolve(tx: &mut Tx, ping: &IncomingPing) -> Result<Option<(PingRow, bool)>> {
    match &ping.target {
        PingTarget::Uuid(uuid) => {
            // HTTP probes are judged by their own runs, not by pings.
            let sql = format!("SELECT {PING_ROW} FROM checks ch WHERE ch.public_id = $1 AND ch.deleted_at IS NULL \
                AND ch.kind <> 'http-probe'");
            let row: Option<PingRow> = with_tx!(tx, c => sqlx::query_as(&sql)
                .bind(uuid.as_str()).fetch_optional(&mut *c).await)?;
            Ok(row.map(|r| (r, false)))
        }
        PingTarget::Slug { ping_key, slug } => {
            let sql = format!(
                "SELECT {PING_ROW} FROM checks ch JOIN client_ping_keys k ON k.client_id = ch.client_id \
                 WHERE k.ping_key = $1 AND ch.slug = $2 AND ch.deleted_at IS NULL AND ch.kind <> 'http-probe'"
            );
            let row: Option<PingRow> = with_tx!(tx, c => sqlx::query_as(&sql)
                .bind(ping_key).bind(slug).fetch_optional(&mut *c).await)?;
            if let Some(row) = row {
                return Ok(Some((row, false)));
            }
            if !ping.create {
                return Ok(None);
            }
            let client_id: Option<i64> = with_tx!(tx, c => sqlx::query_scalar(
                "SELECT client_id FROM client_ping_keys WHERE ping_key = $1")
                .bind(ping_key).fetch_optional(&mut *c).await)?;
            let Some(client_id) = client_id else {
                return Ok(None);
            };
            // The slug may belong to an HTTP probe, which pings cannot reach or replace.
            let taken: Option<i64> = with_tx!(tx, c => sqlx::query_scalar(
                "SELECT id FROM checks WHERE client_id = $1 AND slug = $2 AND deleted_at IS NULL")
                .bind(client_id).bind(slug).fetch_optional(&mut *c).await)?;
            if taken.is_some() {
                return Ok(None);
            }
            let beat = Heartbeat {
                schedule: Schedule::Period {
                    period_ms: AUTO_PERIOD_MS,
                },
                grace_ms: AUTO_GRACE_MS,
            };
            let actor = Actor::system("ping with create=1");
            let id = insert_check(
                tx,
                NewCheck {
                    client_id,
                    uuid: &new_uuid(),
                    name: slug,
                    slug,
                    workflow: "",
                    criticality: Criticality::Internal,
                    beat: &beat,
                    created_by: &actor.label,
                    now: ping.at,
                },
            )
            .await?;
            let after = [("slug", slug.clone())];
            audit::record(
                tx,
                &actor,
                Change {
                    action: Action::Create,
                    entity: "check",
                    entity_id: Some(id),
                    client_id: Some(client_id),
                    summary: format!("created check \"{slug}\" on its first ping"),
                    before: &[],
                    after: &after,
                },
            )
            .await?;
            let row = (
                id,
                Some(AUTO_PERIOD_MS),
                None,
                None,
                AUTO_GRACE_MS,
                CheckState::New.as_str().to_string(),
                0,
                None,
                0,
                None,
                0,
            );
            Ok(Some((row, true)))
        }
    }
}

/// A flip and its client's owner: id, check, at, old, new, reason, owner, detail.
type FlipRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
);

/// A state change waiting for its alert, with the check it belongs to.
#[derive(Debug, Clone)]
pub struct PendingFlip {
    pub flip: Flip,
    pub check: Check,
    /// The client's technical owner, who hears about it first.
    pub client_owner_id: Option<i64>,
    /// The probe's settings, when the check is an HTTP probe.
    pub probe: Option<tend_domain::probe::ProbeSettings>,
}

/// What a flip does to the check's monitoring ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlipAlert {
    /// Open a ticket, or add to the one still open for this check.
    Down {
        title: String,
        body: String,
        severity: tend_domain::plan::Severity,
    },
    /// An event stream's payload drifted: open a ticket, or add to the open one.
    Drift {
        title: String,
        body: String,
        severity: tend_domain::plan::Severity,
    },
    /// Add a note to the open ticket, if any.
    Recovered { note: String },
    /// Nothing to record (late, paused, resumed, ...).
    Quiet,
}

impl Store {
    /// Flips not yet handled by the alert job, oldest first.
    pub async fn pending_flips(&self, limit: i64) -> Result<Vec<PendingFlip>> {
        let rows: Vec<FlipRow> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT f.id, f.check_id, f.at, f.old_state, f.new_state, f.reason, c.owner_id, f.detail FROM check_flips f \
             JOIN checks ch ON ch.id = f.check_id JOIN clients c ON c.id = ch.client_id \
             WHERE f.handled_at IS NULL ORDER BY f.id LIMIT $1")
            .bind(limit).fetch_all(p).await)?;
        let mut pending = Vec::with_capacity(rows.len());
        for (id, check_id, at, old, new, reason, client_owner_id, detail) in rows {
            let sql = format!("{CHECK_SELECT} WHERE ch.id = $1");
            let check = with_pool!(&self.db, p => match sqlx::query(&sql).bind(check_id).fetch_optional(p).await? {
                Some(r) => check_from_row(&r),
                None => Err(StoreError::NotFound("check")),
            })?;
            let probe = match check.kind {
                CheckKind::HttpProbe => self.probe_settings(check.id).await?,
                _ => None,
            };
            pending.push(PendingFlip {
                probe,
                flip: Flip {
                    id,
                    check_id,
                    at,
                    old_state: parsed("old_state", CheckState::parse(&old))?,
                    new_state: parsed("new_state", CheckState::parse(&new))?,
                    reason,
                    detail,
                },
                check,
                client_owner_id,
            });
        }
        Ok(pending)
    }

    /// Handles one flip in one transaction: marks it handled (only one instance gets
    /// to), opens or updates the check's monitoring ticket, and queues `messages` in the
    /// outbox, tied to that ticket. Returns `None` when another instance handled it
    /// first (nothing is written then), else the ticket touched, if any.
    pub async fn settle_flip(
        &self,
        pending: &PendingFlip,
        alert: &FlipAlert,
        messages: &[crate::outbox::NewMessage],
        now: i64,
    ) -> Result<Option<Option<i64>>> {
        let check = &pending.check;
        let actor = Actor::system("monitoring");
        let mut tx = self.begin().await?;
        let claimed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE check_flips SET handled_at = $1 WHERE id = $2 AND handled_at IS NULL")
            .bind(now).bind(pending.flip.id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if claimed == 0 {
            return Ok(None);
        }
        let current: Option<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT alert_ticket_id FROM checks WHERE id = $1")
            .bind(check.id).fetch_one(&mut *c).await)?;
        let open_ticket = match current {
            Some(number) => {
                let status: String = with_tx!(&mut tx, c => sqlx::query_scalar(
                    "SELECT status FROM tickets WHERE id = $1").bind(number).fetch_one(&mut *c).await)?;
                parsed("status", tend_domain::ticket::TicketStatus::parse(&status))?
                    .is_open()
                    .then_some(number)
            }
            None => None,
        };
        let note = |body: &str| body.chars().take(20_000).collect::<String>();
        let drift = matches!(alert, FlipAlert::Drift { .. });
        let ticket = match alert {
            FlipAlert::Down {
                title,
                body,
                severity,
            }
            | FlipAlert::Drift {
                title,
                body,
                severity,
            } => match open_ticket {
                Some(number) => {
                    let again = if drift { "New drift." } else { "Down again." };
                    let text = note(&format!("{again}\n{body}"));
                    crate::tickets::insert_message(
                        &mut tx,
                        &actor,
                        None,
                        (number, check.client_id),
                        crate::tickets::Visibility::Internal,
                        &text,
                        now,
                    )
                    .await?;
                    Some(number)
                }
                None => {
                    let input = tend_domain::ticket::TicketInput {
                        client: parsed(
                            "client_slug",
                            tend_domain::slug::Slug::parse(&check.client_slug),
                        )?,
                        title: title.chars().take(200).collect(),
                        description: note(body),
                        source: Some(tend_domain::ticket::TicketSource::MonitoringAlert),
                        severity: Some(*severity),
                        owner_email: None,
                        dependencies: Default::default(),
                        expected_outcome: if drift {
                            format!("{} receives events in the learned shape", check.name)
                        } else {
                            format!("{} is up and pinging on schedule", check.name)
                        },
                        next_action: if drift {
                            "Find the step that changed the event; fix it, or relearn the shape"
                                .into()
                        } else {
                            "Find out why the workflow stopped and fix it".into()
                        },
                        acceptance_test: String::new(),
                        business_risk: None,
                        revenue_impact: None,
                        customer_effect: None,
                        launch_deadline: None,
                    };
                    let number = self
                        .insert_ticket(
                            &mut tx,
                            &actor,
                            check.client_id,
                            pending.client_owner_id,
                            &[],
                            &input,
                            now,
                        )
                        .await?;
                    with_tx!(&mut tx, c => sqlx::query(
                        "UPDATE checks SET alert_ticket_id = $1 WHERE id = $2")
                        .bind(number).bind(check.id).execute(&mut *c).await.map(|_| ()))?;
                    Some(number)
                }
            },
            FlipAlert::Recovered { note: text } => match open_ticket {
                Some(number) => {
                    crate::tickets::insert_message(
                        &mut tx,
                        &actor,
                        None,
                        (number, check.client_id),
                        crate::tickets::Visibility::Internal,
                        &note(text),
                        now,
                    )
                    .await?;
                    let resolves: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
                        "SELECT resolve_on_recovery FROM checks WHERE id = $1")
                        .bind(check.id).fetch_one(&mut *c).await)?;
                    if resolves != 0 {
                        crate::tickets::resolve_in(&mut tx, &actor, (number, check.client_id), now)
                            .await?;
                    }
                    Some(number)
                }
                None => None,
            },
            FlipAlert::Quiet => None,
        };
        for message in messages {
            let message = crate::outbox::NewMessage {
                ticket_id: ticket.or(message.ticket_id),
                ..message.clone()
            };
            crate::outbox::enqueue(&mut tx, &message, now).await?;
        }
        tx.commit().await?;
        Ok(Some(ticket))
    }
}
