//! Event-stream checks: their events, learned shape, hourly counts and drifts.
//!
//! A stream is a row of `checks` (kind `event-stream`, no schedule) plus its
//! `event_streams` row. Each event is stored in one short transaction
//! ([`Store::record_event`]) before the workflow gets its 2xx: the event, its hour's
//! count, the shape it teaches (while learning) or the drift it shows (after), and, for
//! a drift not seen before, a flip carrying the alert text. The alert job turns that
//! flip into a ticket and email exactly as it does for a heartbeat that went down.
//!
//! Volume is judged by [`Store::scan_event_volumes`] on the last completed hour
//! (`tend_domain::volume`): an anomaly flips the stream down, a normal hour afterwards
//! flips it up again.
//!
//! Retention: the newest `events_kept` events per stream (1,000 unless configured) plus
//! hourly counts, so the tables stay bounded under constant load.

use std::collections::HashMap;

use serde::Serialize;
use tend_domain::check::{CheckState, CheckUuid};
use tend_domain::event_stream::{
    EventStreamInput, REASON_DRIFT, REASON_FIRST_EVENT, REASON_VOLUME_DROP, REASON_VOLUME_NORMAL,
    REASON_VOLUME_SPIKE,
};
use tend_domain::page::{Page, PageRequest};
use tend_domain::payload_shape::{
    drift, drift_alert, shape_of, DriftKind, Finding, LearnedField, LearnedShape,
};
use tend_domain::volume::{
    hour_of, hours_read, last_completed_hour, verdict, volume_alert, volume_recovery_note,
    VolumeVerdict,
};

use crate::audit::{self, Action, Change};
use crate::checks::{new_uuid, taken_slug, Check, Flip};
use crate::row::{parsed, RowExt};
use crate::{with_pool, with_tx, Actor, Result, Store, StoreError, Tx};

/// What a stream has learned and how it is set up.
#[derive(Debug, Clone, Serialize)]
pub struct EventStream {
    pub check_id: i64,
    pub learn_events: u32,
    pub events_kept: i64,
    /// Learning events read so far (at most `learn_events`).
    pub learned_events: u32,
    pub learned_at: Option<i64>,
    pub generation: i64,
    pub first_event_at: Option<i64>,
    /// The learned fields with their types and presence.
    pub fields: Vec<LearnedField>,
    #[serde(skip)]
    pub shape: LearnedShape,
}

impl EventStream {
    pub fn is_learning(&self) -> bool {
        self.learned_at.is_none()
    }
}

/// One stored event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub n: i64,
    pub at: i64,
    pub body: String,
    pub remote_addr: String,
    pub user_agent: String,
    /// learning, ok or drift.
    pub verdict: String,
    pub findings: i64,
}

/// One distinct drift of a stream's current shape.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub id: i64,
    #[serde(flatten)]
    pub finding: Finding,
    pub first_event_n: i64,
    pub first_at: i64,
    pub last_at: i64,
    /// Events that showed it.
    pub seen: i64,
}

/// An event as the endpoint received it, its body already read as JSON.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub uuid: CheckUuid,
    pub at: i64,
    /// The body as received (within the configured limit).
    pub body: String,
    pub value: serde_json::Value,
    pub remote_addr: String,
    pub user_agent: String,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum EventOutcome {
    /// Stored as event number `n`; `learning` while the shape is being learned;
    /// `findings` drifts it showed, `new_drifts` of them never seen before.
    Stored {
        n: i64,
        learning: bool,
        findings: usize,
        new_drifts: usize,
    },
    /// No event-stream check has that UUID.
    NotFound,
}

const EMPTY_SHAPE: &str = r#"{"events":0,"fields":{}}"#;

fn utc_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

fn stream_from_row(r: &impl RowExt) -> Result<EventStream> {
    let shape: LearnedShape = parsed("shape", serde_json::from_str(&r.text("shape")?))?;
    Ok(EventStream {
        check_id: r.int("check_id")?,
        learn_events: r.int("learn_events")?.clamp(1, i64::from(u32::MAX)) as u32,
        events_kept: r.int("events_kept")?,
        learned_events: shape.events,
        learned_at: r.opt_int("learned_at")?,
        generation: r.int("generation")?,
        first_event_at: r.opt_int("first_event_at")?,
        fields: shape.table(),
        shape,
    })
}

fn drift_from_row(r: &impl RowExt) -> Result<Drift> {
    let kind = r.text("kind")?;
    Ok(Drift {
        id: r.int("id")?,
        finding: Finding {
            kind: parsed(
                "kind",
                DriftKind::parse(&kind).ok_or(format!("\"{kind}\" is not a drift kind")),
            )?,
            path: r.text("path")?,
            new_path: r.opt_text("new_path")?,
            expected: r.text("expected")?,
            actual: r.text("actual")?,
        },
        first_event_n: r.int("first_event_n")?,
        first_at: r.int("first_at")?,
        last_at: r.int("last_at")?,
        seen: r.int("seen")?,
    })
}

const STREAM_SELECT: &str = "SELECT check_id, learn_events, events_kept, shape, learned_at, \
    generation, first_event_at FROM event_streams";

async fn insert_flip(
    tx: &mut Tx,
    check_id: i64,
    at: i64,
    (old, new): (CheckState, CheckState),
    reason: &str,
    detail: Option<&str>,
) -> Result<i64> {
    Ok(with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO check_flips (check_id, at, old_state, new_state, reason, detail) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(check_id).bind(at).bind(old.as_str()).bind(new.as_str()).bind(reason).bind(detail)
        .fetch_one(&mut *c).await)?)
}

impl Store {
    /// Adds an event-stream check for a client (audited).
    pub async fn create_event_stream(
        &self,
        actor: &Actor,
        input: &EventStreamInput,
    ) -> Result<Check> {
        let client = self
            .client_by_slug(input.client.as_str(), false)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("client", format!("there is no client {}", input.client))
                }
                other => other,
            })?;
        let now = crate::now_ms();
        let uuid = new_uuid();
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO checks (public_id, client_id, name, slug, workflow, criticality, kind, grace_ms, \
             state, paused, last_failed, ping_count, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'event-stream', 0, 'new', 0, 0, 0, $7, $8, $8) RETURNING id")
            .bind(uuid.as_str()).bind(client.id).bind(&input.name).bind(&input.slug)
            .bind(&input.workflow).bind(input.criticality.as_str()).bind(&actor.label).bind(now)
            .fetch_one(&mut *c).await)
            .map_err(|e| taken_slug(e, &input.slug))?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO event_streams (check_id, learn_events, events_kept, shape, generation) \
             VALUES ($1, $2, $3, $4, 1)")
            .bind(id).bind(i64::from(input.learn_events)).bind(input.events_kept).bind(EMPTY_SHAPE)
            .execute(&mut *c).await.map(|_| ()))?;
        let after = [
            ("name", input.name.clone()),
            ("slug", input.slug.clone()),
            ("workflow", input.workflow.clone()),
            ("criticality", input.criticality.as_str().to_string()),
            ("kind", "event-stream".to_string()),
            ("learn_events", input.learn_events.to_string()),
            ("events_kept", input.events_kept.to_string()),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "check",
                entity_id: Some(id),
                client_id: Some(client.id),
                summary: format!("added event stream \"{}\" for {}", input.name, client.name),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.check(uuid.as_str()).await
    }

    /// The stream settings and learned shape of an event-stream check.
    pub async fn event_stream(&self, check_id: i64) -> Result<EventStream> {
        let sql = format!("{STREAM_SELECT} WHERE check_id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(check_id).fetch_optional(p).await? {
            Some(r) => stream_from_row(&r),
            None => Err(StoreError::NotFound("event stream")),
        })
    }

    /// Stores one event in one transaction: the event, its hour's count, what it
    /// teaches or the drift it shows, and a flip for a drift not seen before. Only after
    /// this returns `Ok` may the event be answered with a 2xx.
    pub async fn record_event(&self, event: &IncomingEvent) -> Result<EventOutcome> {
        let mut tx = self.begin().await?;
        // The update comes first: it takes the row's lock (and SQLite's write lock), so
        // concurrent events of one stream are numbered and learned one after another.
        let row: Option<(i64, i64, String, i64)> = with_tx!(&mut tx, c => sqlx::query_as(
            "UPDATE checks SET ping_count = ping_count + 1, last_ping_at = $1, updated_at = $1 \
             WHERE public_id = $2 AND kind = 'event-stream' AND deleted_at IS NULL \
             RETURNING id, ping_count, state, paused")
            .bind(event.at).bind(event.uuid.as_str()).fetch_optional(&mut *c).await)?;
        let Some((id, n, state, paused)) = row else {
            return Ok(EventOutcome::NotFound);
        };
        let paused = paused != 0;
        let old = parsed("state", CheckState::parse(&state))?;
        let sql = format!("{STREAM_SELECT} WHERE check_id = $1");
        let stream = with_tx!(&mut tx, c => match sqlx::query(&sql).bind(id).fetch_optional(&mut *c).await? {
            Some(r) => stream_from_row(&r),
            None => Err(StoreError::NotFound("event stream")),
        })?;
        let shape = shape_of(&event.value);
        let mut learned = stream.shape.clone();
        let (learning, findings) = if stream.learned_at.is_none() {
            learned.learn(&shape);
            let done = learned.is_learned(stream.learn_events);
            let text = parsed("shape", serde_json::to_string(&learned))?;
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE event_streams SET shape = $1, learned_at = $2, \
                 first_event_at = COALESCE(first_event_at, $3) WHERE check_id = $4")
                .bind(text).bind(done.then_some(event.at)).bind(event.at).bind(id)
                .execute(&mut *c).await.map(|_| ()))?;
            (true, Vec::new())
        } else {
            (false, drift(&learned, &shape))
        };
        let mut new_findings = Vec::new();
        for f in &findings {
            let inserted = with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO event_drifts (check_id, generation, signature, kind, path, new_path, expected, \
                 actual, first_event_n, first_at, last_at, seen) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1) \
                 ON CONFLICT (check_id, generation, signature) DO NOTHING")
                .bind(id).bind(stream.generation).bind(f.signature()).bind(f.kind.as_str())
                .bind(&f.path).bind(&f.new_path).bind(&f.expected).bind(&f.actual).bind(n).bind(event.at)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
            if inserted == 1 {
                new_findings.push(f.clone());
            } else {
                with_tx!(&mut tx, c => sqlx::query(
                    "UPDATE event_drifts SET last_at = $1, seen = seen + 1 \
                     WHERE check_id = $2 AND generation = $3 AND signature = $4")
                    .bind(event.at).bind(id).bind(stream.generation).bind(f.signature())
                    .execute(&mut *c).await.map(|_| ()))?;
            }
        }
        let verdict = if learning {
            "learning"
        } else if findings.is_empty() {
            "ok"
        } else {
            "drift"
        };
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO events (check_id, n, at, body, remote_addr, user_agent, verdict, findings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(id).bind(n).bind(event.at).bind(&event.body).bind(&event.remote_addr)
            .bind(&event.user_agent).bind(verdict).bind(findings.len() as i64)
            .execute(&mut *c).await.map(|_| ()))?;
        with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO event_hours (check_id, hour, total) VALUES ($1, $2, 1) \
             ON CONFLICT (check_id, hour) DO UPDATE SET total = event_hours.total + 1")
            .bind(id).bind(hour_of(event.at))
            .execute(&mut *c).await.map(|_| ()))?;
        if n > stream.events_kept {
            with_tx!(&mut tx, c => sqlx::query("DELETE FROM events WHERE check_id = $1 AND n <= $2")
                .bind(id).bind(n - stream.events_kept)
                .execute(&mut *c).await.map(|_| ()))?;
        }
        if old == CheckState::New && !paused {
            with_tx!(&mut tx, c => sqlx::query("UPDATE checks SET state = 'up' WHERE id = $1")
                .bind(id).execute(&mut *c).await.map(|_| ()))?;
            insert_flip(
                &mut tx,
                id,
                event.at,
                (old, CheckState::Up),
                REASON_FIRST_EVENT,
                None,
            )
            .await?;
        }
        if !new_findings.is_empty() && !paused {
            let state = if old == CheckState::New {
                CheckState::Up
            } else {
                old
            };
            let detail = drift_alert(&new_findings, stream.learn_events, n, &utc_text(event.at));
            insert_flip(
                &mut tx,
                id,
                event.at,
                (state, state),
                REASON_DRIFT,
                Some(&detail),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(EventOutcome::Stored {
            n,
            learning,
            findings: findings.len(),
            new_drifts: new_findings.len(),
        })
    }

    /// A stream's events, newest first.
    pub async fn check_events(&self, check_id: i64, page: PageRequest) -> Result<Page<Event>> {
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(
                "SELECT n, at, body, remote_addr, user_agent, verdict, findings FROM events \
                 WHERE check_id = $1 ORDER BY n DESC LIMIT $2 OFFSET $3")
                .bind(check_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(|r| Ok(Event {
                n: r.int("n")?,
                at: r.int("at")?,
                body: r.text("body")?,
                remote_addr: r.text("remote_addr")?,
                user_agent: r.text("user_agent")?,
                verdict: r.text("verdict")?,
                findings: r.int("findings")?,
            })).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE check_id = $1").bind(check_id).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// The distinct drifts of a stream's current shape, newest first.
    pub async fn event_drifts(&self, check_id: i64) -> Result<Vec<Drift>> {
        with_pool!(&self.db, p => {
            let rows = sqlx::query(
                "SELECT d.id, d.kind, d.path, d.new_path, d.expected, d.actual, d.first_event_n, d.first_at, \
                 d.last_at, d.seen FROM event_drifts d JOIN event_streams s ON s.check_id = d.check_id \
                 AND s.generation = d.generation WHERE d.check_id = $1 ORDER BY d.id DESC LIMIT 200")
                .bind(check_id).fetch_all(p).await?;
            rows.iter().map(drift_from_row).collect::<Result<Vec<_>>>()
        })
    }

    /// Event counts per hour (hour start, total) since `from`, oldest first.
    pub async fn event_hours(&self, check_id: i64, from: i64) -> Result<Vec<(i64, i64)>> {
        Ok(with_pool!(&self.db, p => sqlx::query_as(
            "SELECT hour, total FROM event_hours WHERE check_id = $1 AND hour >= $2 ORDER BY hour")
            .bind(check_id).bind(from).fetch_all(p).await)?)
    }

    /// Forgets a stream's learned shape (audited): the next events are learned from,
    /// and drifts start afresh.
    pub async fn relearn_event_shape(&self, actor: &Actor, uuid: &str) -> Result<EventStream> {
        let check = self.check(uuid).await?;
        let stream = self.event_stream(check.id).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE event_streams SET shape = $1, learned_at = NULL, generation = generation + 1 \
             WHERE check_id = $2")
            .bind(EMPTY_SHAPE).bind(check.id).execute(&mut *c).await.map(|_| ()))?;
        let before = [
            ("learned_events", stream.learned_events.to_string()),
            ("learned_fields", stream.fields.len().to_string()),
        ];
        let after = [
            ("learned_events", "0".to_string()),
            ("learned_fields", "0".to_string()),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "check",
                entity_id: Some(check.id),
                client_id: Some(check.client_id),
                summary: format!("relearned the event shape of \"{}\"", check.name),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.event_stream(check.id).await
    }

    /// Judges the last completed hour of every active stream against its baseline and
    /// writes a flip where the verdict changes the state: an anomaly turns the stream
    /// down, a normal hour after one turns it up. Returns the flips written; a state is
    /// only changed if unchanged since it was read, so two instances flip once.
    pub async fn scan_event_volumes(&self, now: i64) -> Result<Vec<Flip>> {
        let streams: Vec<(i64, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT ch.id, ch.state, s.first_event_at FROM checks ch \
             JOIN event_streams s ON s.check_id = ch.id \
             WHERE ch.kind = 'event-stream' AND ch.deleted_at IS NULL AND ch.paused = 0 \
             AND s.first_event_at IS NOT NULL ORDER BY ch.id")
            .fetch_all(p).await)?;
        if streams.is_empty() {
            return Ok(Vec::new());
        }
        let last_hour = last_completed_hour(now);
        let hours = hours_read(last_hour);
        let sql = format!(
            "SELECT check_id, hour, total FROM event_hours WHERE hour IN ({})",
            crate::placeholders(hours.len(), 1)
        );
        let counts: Vec<(i64, i64, i64)> = with_pool!(&self.db, p => {
            let mut q = sqlx::query_as(&sql);
            for h in &hours {
                q = q.bind(*h);
            }
            q.fetch_all(p).await
        })?;
        let counts: HashMap<(i64, i64), i64> =
            counts.into_iter().map(|(c, h, t)| ((c, h), t)).collect();
        let mut flips = Vec::new();
        for (id, state, first_event_at) in streams {
            let old = parsed("state", CheckState::parse(&state))?;
            let v = verdict(last_hour, first_event_at, |h| {
                counts.get(&(id, h)).copied().unwrap_or(0)
            });
            let (new, reason, detail) = match (&v, old) {
                (VolumeVerdict::Drop { .. }, s) if s != CheckState::Down => {
                    (CheckState::Down, REASON_VOLUME_DROP, volume_alert(&v))
                }
                (VolumeVerdict::Spike { .. }, s) if s != CheckState::Down => {
                    (CheckState::Down, REASON_VOLUME_SPIKE, volume_alert(&v))
                }
                (v, CheckState::Down) if !v.is_anomaly() => (
                    CheckState::Up,
                    REASON_VOLUME_NORMAL,
                    Some(volume_recovery_note(v)),
                ),
                _ => continue,
            };
            let mut tx = self.begin().await?;
            let changed = with_tx!(&mut tx, c => sqlx::query(
                "UPDATE checks SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND paused = 0")
                .bind(new.as_str()).bind(now).bind(id).bind(old.as_str())
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
            if changed == 1 {
                let flip_id =
                    insert_flip(&mut tx, id, now, (old, new), reason, detail.as_deref()).await?;
                flips.push(Flip {
                    id: flip_id,
                    check_id: id,
                    at: now,
                    old_state: old,
                    new_state: new,
                    reason: reason.to_string(),
                    detail,
                });
            }
            tx.commit().await?;
        }
        Ok(flips)
    }
}

/// One hour of a stream's volume beside its baseline, for the volume chart.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeHour {
    /// UTC milliseconds at the start of the hour.
    pub hour: i64,
    pub count: i64,
    /// The median of the same hour in the 4 weeks before; `None` with under 2 weeks.
    pub baseline: Option<f64>,
}

impl Store {
    /// The last `hours` completed hours of a stream (oldest first) with their baselines.
    pub async fn event_volume(
        &self,
        check_id: i64,
        now: i64,
        hours: i64,
    ) -> Result<Vec<VolumeHour>> {
        let stream = self.event_stream(check_id).await?;
        let last = last_completed_hour(now);
        let first = last - (hours.max(1) - 1) * tend_domain::volume::HOUR_MS;
        let from = first - tend_domain::volume::BASELINE_WEEKS * tend_domain::volume::WEEK_MS;
        let counts: HashMap<i64, i64> = self
            .event_hours(check_id, from)
            .await?
            .into_iter()
            .collect();
        let count = |h: i64| counts.get(&h).copied().unwrap_or(0);
        Ok((0..hours.max(1))
            .map(|i| {
                let hour = first + i * tend_domain::volume::HOUR_MS;
                VolumeHour {
                    hour,
                    count: count(hour),
                    baseline: stream.first_event_at.and_then(|f| {
                        tend_domain::volume::baseline(hour, f, &count).map(|(b, _)| b)
                    }),
                }
            })
            .collect())
    }
}
