//! Maintenance windows as stored: one row per window, plus the chosen checks (none:
//! the whole client). The rule that reads them is `tend_domain::maintenance`.

use serde::Serialize;
use tend_domain::check::CronExpr;
use tend_domain::maintenance::{days_text, parse_days, Recurrence, Window, WindowInput};
use tend_domain::timezone::Timezone;

use crate::audit::{self, Action, Change};
use crate::row::{parsed, RowExt};
use crate::{with_pool, with_tx, Actor, Result, Store, StoreError};

/// A window with its client and checks, for lists and the API.
#[derive(Debug, Clone, Serialize)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub client_id: i64,
    pub client_slug: String,
    pub client_name: String,
    /// UUIDs of the chosen checks; empty for every check of the client.
    pub checks: Vec<String>,
    /// once, weekly, cron.
    pub kind: String,
    /// "weekly sat,sun 22:00–23:00 (Europe/Berlin)".
    pub schedule: String,
    pub reason: String,
    pub ended_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    #[serde(skip)]
    pub window: Window,
}

const SELECT: &str = "SELECT w.id, w.client_id, c.slug AS client_slug, c.name AS client_name, \
    w.kind, w.starts_at, w.ends_at, w.days, w.from_time, w.until_time, w.cron, w.duration_ms, \
    w.timezone, w.reason, w.ended_at, w.created_by, w.created_at \
    FROM maintenance_windows w JOIN clients c ON c.id = w.client_id";

fn recurrence_from_row(r: &impl RowExt) -> Result<Recurrence> {
    let kind = r.text("kind")?;
    let tz = parsed("timezone", Timezone::parse(&r.text("timezone")?))?;
    let time = |col: &str| -> Result<jiff::civil::Time> {
        let text = r.opt_text(col)?.unwrap_or_default();
        Ok(parsed(
            "time",
            jiff::civil::Time::strptime("%H:%M", &text).map_err(|e| e.to_string()),
        )?)
    };
    Ok(match kind.as_str() {
        "once" => Recurrence::Once {
            starts_at: r.opt_int("starts_at")?.unwrap_or(0),
            ends_at: r.opt_int("ends_at")?.unwrap_or(0),
        },
        "weekly" => Recurrence::Weekly {
            days: parsed("days", parse_days(&r.opt_text("days")?.unwrap_or_default()))?,
            from: time("from_time")?,
            until: time("until_time")?,
            tz,
        },
        _ => Recurrence::Cron {
            expr: parsed(
                "cron",
                CronExpr::parse(&r.opt_text("cron")?.unwrap_or_default()),
            )?,
            tz,
            duration_ms: r.opt_int("duration_ms")?.unwrap_or(0),
        },
    })
}

impl Store {
    /// Adds a window (audited). The checks must belong to the client.
    pub async fn create_window(
        &self,
        actor: &Actor,
        input: &WindowInput,
    ) -> Result<MaintenanceWindow> {
        let client = self
            .client_by_slug(&input.client, false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("client", format!("there is no client {}", input.client))
                }
                other => other,
            })?;
        let mut check_ids = Vec::new();
        for uuid in &input.checks {
            let check = self.check(uuid).await.map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("checks", format!("there is no check {uuid}"))
                }
                other => other,
            })?;
            if check.client_id != client.id {
                return Err(StoreError::invalid(
                    "checks",
                    format!(
                        "check {uuid} belongs to {}, not {}",
                        check.client_name, client.name
                    ),
                ));
            }
            check_ids.push(check.id);
        }
        let (kind, starts_at, ends_at, days, from, until, cron, duration_ms, tz) =
            match &input.recurrence {
                Recurrence::Once { starts_at, ends_at } => (
                    "once",
                    Some(*starts_at),
                    Some(*ends_at),
                    None,
                    None,
                    None,
                    None,
                    None,
                    "UTC".to_string(),
                ),
                Recurrence::Weekly {
                    days,
                    from,
                    until,
                    tz,
                } => (
                    "weekly",
                    None,
                    None,
                    Some(days_text(days)),
                    Some(from.strftime("%H:%M").to_string()),
                    Some(until.strftime("%H:%M").to_string()),
                    None,
                    None,
                    tz.as_str().to_string(),
                ),
                Recurrence::Cron {
                    expr,
                    tz,
                    duration_ms,
                } => (
                    "cron",
                    None,
                    None,
                    None,
                    None,
                    None,
                    Some(expr.as_str().to_string()),
                    Some(*duration_ms),
                    tz.as_str().to_string(),
                ),
            };
        let now = crate::now_ms();
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO maintenance_windows (client_id, kind, starts_at, ends_at, days, from_time, until_time, \
             cron, duration_ms, timezone, reason, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
            .bind(client.id).bind(kind).bind(starts_at).bind(ends_at).bind(&days).bind(&from)
            .bind(&until).bind(&cron).bind(duration_ms).bind(&tz).bind(&input.reason)
            .bind(&actor.label).bind(now)
            .fetch_one(&mut *c).await)?;
        for check_id in &check_ids {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO maintenance_window_checks (window_id, check_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id).bind(check_id).execute(&mut *c).await.map(|_| ()))?;
        }
        let scope = if input.checks.is_empty() {
            "all checks".to_string()
        } else {
            input.checks.join(", ")
        };
        let after = [
            ("schedule", input.recurrence.describe()),
            ("checks", scope.clone()),
            ("reason", input.reason.clone()),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "maintenance_window",
                entity_id: Some(id),
                client_id: Some(client.id),
                summary: format!(
                    "added maintenance window for {} ({scope}): {}",
                    client.name,
                    input.recurrence.describe()
                ),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.window(id).await
    }

    pub async fn window(&self, id: i64) -> Result<MaintenanceWindow> {
        let sql = format!("{SELECT} WHERE w.id = $1");
        let mut found = self.windows_where(&sql, Some(id)).await?;
        found
            .pop()
            .ok_or(StoreError::NotFound("maintenance window"))
    }

    /// A client's windows (or everyone's), newest first; ended ones only if asked.
    pub async fn windows(
        &self,
        client_id: Option<i64>,
        include_ended: bool,
    ) -> Result<Vec<MaintenanceWindow>> {
        let mut sql = format!("{SELECT} WHERE ($1 IS NULL OR w.client_id = $1)");
        if !include_ended {
            sql.push_str(" AND w.ended_at IS NULL");
        }
        sql.push_str(" ORDER BY w.id DESC");
        self.windows_where(&sql, client_id).await
    }

    /// The windows that may silence an alert at `now` or later: not ended, and (for
    /// one-off windows) not over.
    pub async fn live_windows(&self, now: i64) -> Result<Vec<Window>> {
        let sql = format!(
            "{SELECT} WHERE (w.ended_at IS NULL OR w.ended_at > $1) AND (w.kind <> 'once' OR w.ends_at > $1)"
        );
        Ok(self
            .windows_where(&sql, Some(now))
            .await?
            .into_iter()
            .map(|w| w.window)
            .collect())
    }

    async fn windows_where(&self, sql: &str, bind: Option<i64>) -> Result<Vec<MaintenanceWindow>> {
        let mut out = with_pool!(&self.db, p => {
            let rows = sqlx::query(sql).bind(bind).fetch_all(p).await?;
            rows.iter().map(|r| -> Result<MaintenanceWindow> {
                let recurrence = recurrence_from_row(r)?;
                let id = r.int("id")?;
                let client_id = r.int("client_id")?;
                let ended_at = r.opt_int("ended_at")?;
                Ok(MaintenanceWindow {
                    id,
                    client_id,
                    client_slug: r.text("client_slug")?,
                    client_name: r.text("client_name")?,
                    checks: Vec::new(),
                    kind: r.text("kind")?,
                    schedule: recurrence.describe(),
                    reason: r.text("reason")?,
                    ended_at,
                    created_by: r.text("created_by")?,
                    created_at: r.int("created_at")?,
                    window: Window { id, client_id, check_ids: Vec::new(), recurrence, ended_at },
                })
            }).collect::<Result<Vec<_>>>()
        })?;
        if out.is_empty() {
            return Ok(out);
        }
        let rows: Vec<(i64, i64, String)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT wc.window_id, wc.check_id, ch.public_id FROM maintenance_window_checks wc \
             JOIN checks ch ON ch.id = wc.check_id ORDER BY wc.window_id, ch.name")
            .fetch_all(p).await)?;
        for (window_id, check_id, uuid) in rows {
            if let Some(w) = out.iter_mut().find(|w| w.id == window_id) {
                w.checks.push(uuid);
                w.window.check_ids.push(check_id);
            }
        }
        Ok(out)
    }

    /// Ends a window now (audited); it silences nothing from then on.
    pub async fn end_window(&self, actor: &Actor, id: i64, now: i64) -> Result<MaintenanceWindow> {
        let before = self.window(id).await?;
        if before.ended_at.is_some() {
            return Err(StoreError::Guarded(format!(
                "maintenance window {id} has already ended"
            )));
        }
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE maintenance_windows SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now).bind(id).execute(&mut *c).await.map(|_| ()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "maintenance_window",
                entity_id: Some(id),
                client_id: Some(before.client_id),
                summary: format!(
                    "ended maintenance window {id} for {} ({})",
                    before.client_name, before.schedule
                ),
                before: &[],
                after: &[("ended_at", now.to_string())],
            },
        )
        .await?;
        tx.commit().await?;
        self.window(id).await
    }
}

/// A check whose down alert a window held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldAlert {
    pub check_id: i64,
    pub client_id: i64,
    pub held_at: i64,
}

impl Store {
    /// Handles a flip whose alert a window silences: marks it handled (only one
    /// instance gets to) and records on the check that an alert is held back
    /// (`Some(true)`), or that nothing is held any more (`Some(false)`: a recovery inside
    /// the window); `None` leaves the hold as it is (a drift, which has no recovery).
    /// The flip stays in the check's history; no ticket, no message. False when another
    /// instance handled the flip first.
    pub async fn settle_silenced_flip(
        &self,
        flip_id: i64,
        check_id: i64,
        hold: Option<bool>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let claimed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE check_flips SET handled_at = $1 WHERE id = $2 AND handled_at IS NULL")
            .bind(now).bind(flip_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if claimed == 0 {
            return Ok(false);
        }
        if let Some(hold) = hold {
            let held = hold.then_some(now);
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE checks SET alert_held_at = CASE WHEN $1 IS NULL THEN NULL ELSE COALESCE(alert_held_at, $1) END WHERE id = $2")
                .bind(held).bind(check_id).execute(&mut *c).await.map(|_| ()))?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Checks with an alert held back by a window.
    pub async fn held_alerts(&self) -> Result<Vec<HeldAlert>> {
        let rows: Vec<(i64, i64, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT id, client_id, alert_held_at FROM checks WHERE alert_held_at IS NOT NULL AND deleted_at IS NULL")
            .fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(check_id, client_id, held_at)| HeldAlert {
                check_id,
                client_id,
                held_at,
            })
            .collect())
    }

    /// The window over a held alert has ended: clears the hold and, if the check is
    /// still down, records a down flip ("maintenance window ended while down") that the
    /// watcher turns into the alert the window held back. Only one instance releases a
    /// hold. Returns whether a flip was written.
    pub async fn release_held_alert(&self, check_id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let released = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE checks SET alert_held_at = NULL WHERE id = $1 AND alert_held_at IS NOT NULL")
            .bind(check_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if released == 0 {
            return Ok(false);
        }
        let state: String = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT state FROM checks WHERE id = $1").bind(check_id).fetch_one(&mut *c).await)?;
        let down = state == tend_domain::check::CheckState::Down.as_str();
        if down {
            crate::checks::insert_flip(
                &mut tx,
                check_id,
                now,
                tend_domain::check::CheckState::Down,
                tend_domain::check::CheckState::Down,
                "maintenance window ended while down",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(down)
    }

    /// Whether recovery resolves this check's monitoring ticket.
    pub async fn resolves_on_recovery(&self, uuid: &str) -> Result<bool> {
        let check = self.check(uuid).await?;
        let on: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT resolve_on_recovery FROM checks WHERE id = $1").bind(check.id).fetch_one(p).await)?;
        Ok(on != 0)
    }

    /// Sets whether recovery resolves the check's monitoring ticket (audited).
    pub async fn set_resolve_on_recovery(&self, actor: &Actor, uuid: &str, on: bool) -> Result<()> {
        let check = self.check(uuid).await?;
        let before = self.resolves_on_recovery(uuid).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE checks SET resolve_on_recovery = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(on)).bind(crate::now_ms()).bind(check.id)
            .execute(&mut *c).await.map(|_| ()))?;
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "check",
                entity_id: Some(check.id),
                client_id: Some(check.client_id),
                summary: format!(
                    "{} resolving on recovery for check \"{}\"",
                    if on { "turned on" } else { "turned off" },
                    check.name
                ),
                before: &[("resolve_on_recovery", before.to_string())],
                after: &[("resolve_on_recovery", on.to_string())],
            },
        )
        .await?;
        tx.commit().await
    }
}
