//! Change records (one per ticket) and release batches (one client each), with the
//! release notes built from them.
//!
//! The rules (a change joins only a planned batch of its own client, a released change
//! is frozen, a batch is released only when every change passed QA before and after
//! release) are tend-domain functions; this module loads the facts they need inside the
//! transaction that writes, so that a change saved while its batch is being released
//! cannot slip past the check: every write here starts by updating the batch row it
//! depends on, which holds that row (PostgreSQL) or the database (SQLite) until commit.

use jiff::civil::Date;
use serde::Serialize;
use tend_domain::change::{
    check_change_write, check_release, release_notes, BatchFacts, ChangeInput, NotesBatch,
    NotesChange, QaResult, ReleaseInput, ReleaseNotes, ReleaseState,
};
use tend_domain::page::{Page, PageRequest};
use tend_domain::ticket::{TicketNumber, TicketStatus};

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::{bind_all, now_ms, with_pool, with_tx, Actor, Bind, Result, Store, StoreError, Tx};

/// A release batch as stored, with its client and how many changes it holds.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub id: i64,
    pub client_id: i64,
    pub client_slug: String,
    pub client_name: String,
    pub client_timezone: String,
    pub name: String,
    pub planned_for: Option<Date>,
    pub state: ReleaseState,
    /// UTC milliseconds, once released.
    pub released_at: Option<i64>,
    pub released_by: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub change_count: i64,
}

impl Release {
    /// The day it was released, in the client's timezone.
    pub fn released_on(&self) -> Option<Date> {
        let tz = jiff::tz::TimeZone::get(&self.client_timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        self.released_at
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map(|t| t.to_zoned(tz).date())
    }

    /// This batch's release notes, from its changes (as [`Store::release_changes`]
    /// returns them).
    pub fn notes(&self, changes: &[ChangeRecord]) -> ReleaseNotes {
        let entries: Vec<NotesChange<'_>> = changes
            .iter()
            .map(|c| NotesChange {
                ticket: TicketNumber(c.ticket),
                title: &c.ticket_title,
                change: &c.change,
            })
            .collect();
        release_notes(
            &NotesBatch {
                client_name: &self.client_name,
                name: &self.name,
                planned_for: self.planned_for,
                released_on: self.released_on(),
            },
            &entries,
        )
    }
}

/// The batch a change ships in, as a change shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReleaseRef {
    pub id: i64,
    pub name: String,
    pub state: ReleaseState,
}

/// A ticket's change record as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRecord {
    /// The ticket's number.
    pub ticket: i64,
    pub ticket_title: String,
    pub ticket_status: TicketStatus,
    pub client_id: i64,
    #[serde(flatten)]
    pub change: ChangeInput,
    pub release: Option<ReleaseRef>,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    pub client_id: Option<i64>,
    pub state: Option<ReleaseState>,
}

const RELEASE_SELECT: &str =
    "SELECT r.id, r.client_id, c.slug AS client_slug, c.name AS client_name, \
    c.timezone AS client_timezone, r.name, r.planned_for, r.state, r.released_at, r.released_by, \
    r.created_by, r.created_at, r.updated_at, \
    (SELECT COUNT(*) FROM ticket_changes tc WHERE tc.release_id = r.id) AS change_count \
    FROM release_batches r JOIN clients c ON c.id = r.client_id";

/// Planned batches first (soonest first, undated last), then released ones (newest
/// first); per client when several are listed. The same on both engines (NULLs sort
/// differently there, so they are replaced).
const RELEASE_ORDER: &str = "c.name_lower, c.id, CASE WHEN r.state = 'planned' THEN 0 ELSE 1 END, \
    COALESCE(r.planned_for, '9999-12-31'), -COALESCE(r.released_at, 0), r.id";

const CHANGE_SELECT: &str = "SELECT tc.ticket_id, t.title AS ticket_title, t.status AS ticket_status, t.client_id, \
    tc.what_changed, tc.systems_touched, tc.qa_before_path, tc.qa_before_result, tc.qa_after_path, \
    tc.qa_after_result, tc.release_id, r.name AS release_name, r.state AS release_state, tc.client_notes, \
    tc.updated_by, tc.created_at, tc.updated_at \
    FROM ticket_changes tc JOIN tickets t ON t.id = tc.ticket_id LEFT JOIN release_batches r ON r.id = tc.release_id";

fn release_from_row(r: &impl RowExt) -> Result<Release> {
    Ok(Release {
        id: r.int("id")?,
        client_id: r.int("client_id")?,
        client_slug: r.text("client_slug")?,
        client_name: r.text("client_name")?,
        client_timezone: r.text("client_timezone")?,
        name: r.text("name")?,
        planned_for: r
            .opt_text("planned_for")?
            .map(|s| parsed("planned_for", s.parse::<Date>()))
            .transpose()?,
        state: parsed("state", ReleaseState::parse(&r.text("state")?))?,
        released_at: r.opt_int("released_at")?,
        released_by: r.opt_text("released_by")?,
        created_by: r.text("created_by")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
        change_count: r.int("change_count")?,
    })
}

fn change_from_row(r: &impl RowExt) -> Result<ChangeRecord> {
    let release_id = r.opt_int("release_id")?;
    let release = match release_id {
        Some(id) => Some(ReleaseRef {
            id,
            name: r.text("release_name")?,
            state: parsed(
                "release_state",
                ReleaseState::parse(&r.text("release_state")?),
            )?,
        }),
        None => None,
    };
    Ok(ChangeRecord {
        ticket: r.int("ticket_id")?,
        ticket_title: r.text("ticket_title")?,
        ticket_status: parsed(
            "ticket_status",
            TicketStatus::parse(&r.text("ticket_status")?),
        )?,
        client_id: r.int("client_id")?,
        change: ChangeInput {
            what_changed: r.text("what_changed")?,
            systems_touched: r
                .text("systems_touched")?
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            qa_before_path: r.text("qa_before_path")?,
            qa_before_result: parsed(
                "qa_before_result",
                QaResult::parse(&r.text("qa_before_result")?),
            )?,
            qa_after_path: r.text("qa_after_path")?,
            qa_after_result: parsed(
                "qa_after_result",
                QaResult::parse(&r.text("qa_after_result")?),
            )?,
            release_id,
            client_notes: r.text("client_notes")?,
        },
        release,
        updated_by: r.text("updated_by")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn change_fields(c: &ChangeInput) -> Vec<(&'static str, String)> {
    vec![
        ("what_changed", c.what_changed.clone()),
        ("systems_touched", c.systems_touched.join(", ")),
        ("qa_before_path", c.qa_before_path.clone()),
        ("qa_before_result", c.qa_before_result.as_str().to_string()),
        ("qa_after_path", c.qa_after_path.clone()),
        ("qa_after_result", c.qa_after_result.as_str().to_string()),
        (
            "release_id",
            c.release_id.map(|id| id.to_string()).unwrap_or_default(),
        ),
        ("client_notes", c.client_notes.clone()),
    ]
}

fn release_fields(name: &str, planned_for: Option<Date>) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_string()),
        (
            "planned_for",
            planned_for.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ]
}

fn taken_name(e: sqlx::Error, name: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict {
            field: "name",
            message: format!("this client already has a release named \"{name}\""),
        }
    } else {
        e.into()
    }
}

/// Holds a batch row until the transaction ends (see the module's note); returns
/// whether the batch exists.
async fn hold_release(tx: &mut Tx, id: i64) -> Result<bool> {
    let touched = with_tx!(tx, c => sqlx::query("UPDATE release_batches SET updated_at = updated_at WHERE id = $1")
        .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(touched > 0)
}

/// A batch's rule facts as the transaction sees them.
async fn facts_in(tx: &mut Tx, id: i64) -> Result<Option<BatchFacts>> {
    let row: Option<(i64, String, String)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT client_id, name, state FROM release_batches WHERE id = $1")
        .bind(id).fetch_optional(&mut *c).await)?;
    row.map(|(client_id, name, state)| {
        Ok(BatchFacts {
            id,
            client_id,
            name,
            state: parsed("state", ReleaseState::parse(&state))?,
        })
    })
    .transpose()
}

impl Store {
    /// A ticket's change record, if it has one.
    pub async fn ticket_change(&self, number: i64) -> Result<Option<ChangeRecord>> {
        let sql = format!("{CHANGE_SELECT} WHERE tc.ticket_id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(number).fetch_optional(p).await? {
            Some(r) => change_from_row(&r).map(Some),
            None => Ok(None),
        })
    }

    /// Records or replaces a ticket's change record; `true` when it was new. A change
    /// in a released batch is refused (409), as is naming a batch that is released or
    /// belongs to another client (422 on `release_id`).
    pub async fn save_change(
        &self,
        actor: &Actor,
        number: i64,
        input: &ChangeInput,
    ) -> Result<(ChangeRecord, bool)> {
        let ticket = self.ticket(number).await?;
        let mut tx = self.begin().await?;
        let now = now_ms();
        // The change is part of the ticket, so it is updated too. Writing first holds the
        // ticket (and on SQLite the database) so the record read next is the one this
        // save replaces.
        with_tx!(&mut tx, c => sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2")
            .bind(now).bind(number).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let sql = format!("{CHANGE_SELECT} WHERE tc.ticket_id = $1");
        let current = with_tx!(&mut tx, c => match sqlx::query(&sql).bind(number).fetch_optional(&mut *c).await? {
            Some(r) => change_from_row(&r).map(Some),
            None => Ok(None),
        })?;
        let current_release = current.as_ref().and_then(|c| c.change.release_id);
        // Hold both batches (in id order, so two saves never wait on each other), then
        // read them: a release of either waits for this transaction, or this one sees
        // it released.
        let mut held: Vec<i64> = [current_release, input.release_id]
            .into_iter()
            .flatten()
            .collect();
        held.sort_unstable();
        held.dedup();
        for id in held {
            if !hold_release(&mut tx, id).await? {
                return Err(StoreError::invalid(
                    "release_id",
                    format!("there is no release {id}"),
                ));
            }
        }
        let current_batch = match current_release {
            Some(id) => facts_in(&mut tx, id).await?,
            None => None,
        };
        let target = match input.release_id {
            Some(id) => facts_in(&mut tx, id).await?,
            None => None,
        };
        check_change_write(ticket.client_id, current_batch.as_ref(), target.as_ref()).map_err(
            |refusal| {
                if refusal.is_frozen() {
                    StoreError::Guarded(refusal.to_string())
                } else {
                    StoreError::invalid("release_id", refusal.to_string())
                }
            },
        )?;
        let systems = input.systems_touched.join("\n");
        if current.is_some() {
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE ticket_changes SET what_changed = $1, systems_touched = $2, qa_before_path = $3, \
                 qa_before_result = $4, qa_after_path = $5, qa_after_result = $6, release_id = $7, \
                 client_notes = $8, updated_by = $9, updated_at = $10 WHERE ticket_id = $11")
                .bind(&input.what_changed).bind(&systems).bind(&input.qa_before_path)
                .bind(input.qa_before_result.as_str()).bind(&input.qa_after_path)
                .bind(input.qa_after_result.as_str()).bind(input.release_id).bind(&input.client_notes)
                .bind(&actor.label).bind(now).bind(number)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        } else {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO ticket_changes (ticket_id, what_changed, systems_touched, qa_before_path, qa_before_result, \
                 qa_after_path, qa_after_result, release_id, client_notes, updated_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)")
                .bind(number).bind(&input.what_changed).bind(&systems).bind(&input.qa_before_path)
                .bind(input.qa_before_result.as_str()).bind(&input.qa_after_path)
                .bind(input.qa_after_result.as_str()).bind(input.release_id).bind(&input.client_notes)
                .bind(&actor.label).bind(now)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        let before = current
            .as_ref()
            .map(|b| change_fields(&b.change))
            .unwrap_or_default();
        let after = change_fields(input);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: if current.is_some() {
                    Action::Update
                } else {
                    Action::Create
                },
                entity: "change",
                entity_id: Some(number),
                client_id: Some(ticket.client_id),
                summary: format!("recorded the change of ticket #{number}"),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        let saved = self
            .ticket_change(number)
            .await?
            .ok_or(StoreError::NotFound("change"))?;
        Ok((saved, current.is_none()))
    }

    /// Plans a release batch for a client.
    pub async fn create_release(&self, actor: &Actor, input: &ReleaseInput) -> Result<Release> {
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
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO release_batches (client_id, name, planned_for, state, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 'planned', $4, $5, $5) RETURNING id")
            .bind(client.id).bind(&input.name).bind(input.planned_for.map(|d| d.to_string()))
            .bind(&actor.label).bind(now)
            .fetch_one(&mut *c).await)
            .map_err(|e| taken_name(e, &input.name))?;
        let after = release_fields(&input.name, input.planned_for);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "release",
                entity_id: Some(id),
                client_id: Some(client.id),
                summary: format!("planned release \"{}\" for {}", input.name, client.name),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.release(id).await
    }

    pub async fn release(&self, id: i64) -> Result<Release> {
        let sql = format!("{RELEASE_SELECT} WHERE r.id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(r) => release_from_row(&r),
            None => Err(StoreError::NotFound("release")),
        })
    }

    /// Release batches of clients that are not deleted: per client, planned ones first.
    pub async fn list_releases(
        &self,
        filter: &ReleaseFilter,
        page: PageRequest,
    ) -> Result<Page<Release>> {
        let mut conds = vec!["c.deleted_at IS NULL".to_string()];
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(id) = filter.client_id {
            binds.push(Bind::Int(id));
            conds.push(format!("r.client_id = ${}", binds.len()));
        }
        if let Some(state) = filter.state {
            binds.push(Bind::Text(state.as_str().into()));
            conds.push(format!("r.state = ${}", binds.len()));
        }
        let where_sql = conds.join(" AND ");
        let n = binds.len();
        let sql = format!(
            "{RELEASE_SELECT} WHERE {where_sql} ORDER BY {RELEASE_ORDER} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM release_batches r JOIN clients c ON c.id = r.client_id WHERE {where_sql}"
        );
        let items = with_pool!(&self.db, p => {
            bind_all!(sqlx::query(&sql), &binds)
                .bind(page.limit()).bind(page.offset())
                .fetch_all(p).await?
                .iter()
                .map(release_from_row)
                .collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&count_sql), &binds).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// The change records in a batch, in ticket order.
    pub async fn release_changes(&self, id: i64) -> Result<Vec<ChangeRecord>> {
        let sql = format!("{CHANGE_SELECT} WHERE tc.release_id = $1 ORDER BY tc.ticket_id");
        with_pool!(&self.db, p => sqlx::query(&sql).bind(id).fetch_all(p).await?
            .iter()
            .map(change_from_row)
            .collect::<Result<Vec<_>>>())
    }

    /// Renames or re-dates a planned batch. A batch stays with its client; a released
    /// one is kept as it went out.
    pub async fn update_release(
        &self,
        actor: &Actor,
        id: i64,
        input: &ReleaseInput,
    ) -> Result<Release> {
        let current = self.release(id).await?;
        if input.client.as_str() != current.client_slug {
            return Err(StoreError::invalid(
                "client",
                "a release stays with its client; plan a new release for another client",
            ));
        }
        let mut tx = self.begin().await?;
        let changed = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE release_batches SET name = $1, planned_for = $2, updated_at = $3 WHERE id = $4 AND state = 'planned'")
            .bind(&input.name).bind(input.planned_for.map(|d| d.to_string())).bind(now_ms()).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))
            .map_err(|e| taken_name(e, &input.name))?;
        if changed == 0 {
            return Err(StoreError::Guarded(format!(
                "release \"{}\" is released; a released release is kept as it went out",
                current.name
            )));
        }
        let before = release_fields(&current.name, current.planned_for);
        let after = release_fields(&input.name, input.planned_for);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "release",
                entity_id: Some(id),
                client_id: Some(current.client_id),
                summary: format!("updated release \"{}\"", input.name),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.release(id).await
    }

    /// Deletes a planned batch; its changes stay on their tickets, without a batch.
    pub async fn delete_release(&self, actor: &Actor, id: i64) -> Result<()> {
        let current = self.release(id).await?;
        let mut tx = self.begin().await?;
        let held = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE release_batches SET updated_at = $1 WHERE id = $2 AND state = 'planned'")
            .bind(now_ms()).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if held == 0 {
            return Err(StoreError::Guarded(format!(
                "release \"{}\" is released and is kept as the record of what went out",
                current.name
            )));
        }
        let detached = with_tx!(&mut tx, c => sqlx::query("UPDATE ticket_changes SET release_id = NULL WHERE release_id = $1")
            .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM release_batches WHERE id = $1")
            .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let before = release_fields(&current.name, current.planned_for);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "release",
                entity_id: Some(id),
                client_id: Some(current.client_id),
                summary: format!(
                    "deleted release \"{}\"; {detached} change{} left without a release",
                    current.name,
                    if detached == 1 { "" } else { "s" }
                ),
                before: &before,
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }

    /// Marks a batch released if the domain's rule allows it (every change passed QA
    /// before and after release); a refusal is a 409 that lists what is missing.
    pub async fn mark_released(&self, actor: &Actor, id: i64) -> Result<Release> {
        let current = self.release(id).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        // Marking first holds the row; the checks below then see every change that
        // committed before, and none can be saved into the batch until this ends.
        let marked = with_tx!(&mut tx, c => sqlx::query(
            "UPDATE release_batches SET state = 'released', released_at = $1, released_by = $2, updated_at = $1 \
             WHERE id = $3 AND state = 'planned'")
            .bind(now).bind(&actor.label).bind(id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let state = if marked == 0 {
            ReleaseState::Released
        } else {
            ReleaseState::Planned
        };
        let sql = format!("{CHANGE_SELECT} WHERE tc.release_id = $1 ORDER BY tc.ticket_id");
        let changes = with_tx!(&mut tx, c => sqlx::query(&sql).bind(id).fetch_all(&mut *c).await?
            .iter()
            .map(change_from_row)
            .collect::<Result<Vec<_>>>())?;
        let pairs: Vec<(TicketNumber, &ChangeInput)> = changes
            .iter()
            .map(|c| (TicketNumber(c.ticket), &c.change))
            .collect();
        // A refusal drops the transaction, which undoes the mark.
        check_release(state, &pairs).map_err(|refusal| StoreError::Guarded(refusal.to_string()))?;
        let before = [("state", ReleaseState::Planned.as_str().to_string())];
        let after = [("state", ReleaseState::Released.as_str().to_string())];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "release",
                entity_id: Some(id),
                client_id: Some(current.client_id),
                summary: format!(
                    "released \"{}\" with {} change{}",
                    current.name,
                    changes.len(),
                    if changes.len() == 1 { "" } else { "s" }
                ),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.release(id).await
    }

    /// Whether a batch could be marked released now, and why not.
    pub async fn release_verdict(&self, release: &Release) -> Result<Result<(), String>> {
        let changes = self.release_changes(release.id).await?;
        let pairs: Vec<(TicketNumber, &ChangeInput)> = changes
            .iter()
            .map(|c| (TicketNumber(c.ticket), &c.change))
            .collect();
        Ok(check_release(release.state, &pairs).map_err(|r| r.to_string()))
    }

    /// A client's planned batches: the ones its tickets' changes may join.
    pub async fn planned_releases(&self, client_id: i64) -> Result<Vec<Release>> {
        let filter = ReleaseFilter {
            client_id: Some(client_id),
            state: Some(ReleaseState::Planned),
        };
        Ok(self
            .list_releases(&filter, PageRequest::new(Some(1), Some(200)))
            .await?
            .items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_day_is_the_clients_day() {
        let r = Release {
            id: 3,
            client_id: 7,
            client_slug: "acme".into(),
            client_name: "Acme".into(),
            client_timezone: "America/Chicago".into(),
            name: "Window".into(),
            planned_for: None,
            state: ReleaseState::Planned,
            // 2026-11-21 03:00 UTC is still the 20th in Chicago.
            released_at: Some(1_795_230_000_000),
            released_by: None,
            created_by: "x".into(),
            created_at: 0,
            updated_at: 0,
            change_count: 0,
        };
        assert_eq!(r.released_on(), Some(jiff::civil::date(2026, 11, 20)));
    }
}
