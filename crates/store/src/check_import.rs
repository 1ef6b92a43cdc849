//! Importing checks for a client from a healthchecks.io project or a CSV file (rows read
//! by `tend_domain::check_import`): all or nothing, and safe to run again.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tend_domain::check::{CheckInput, CheckUuid};
use tend_domain::check_import::ImportRow;
use tend_domain::FieldErrors;

use crate::audit::{self, Action, Change};
use crate::checks::{check_fields, insert_check, new_uuid, NewCheck};
use crate::{now_ms, with_pool, Actor, Result, Store, StoreError};

/// What an import did, or would do (`dry_run`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: Vec<ImportedCheck>,
    /// Rows whose slug the client already has: imported before, left as they are.
    pub skipped: Vec<SkippedRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedCheck {
    pub row: usize,
    pub name: String,
    pub slug: String,
    /// The ping UUID: the source's when it had one, else a new one (empty in a dry run).
    pub uuid: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedRow {
    pub row: usize,
    pub name: String,
    pub reason: String,
}

impl Store {
    /// Adds the checks in `rows` to the client `slug`. Every row is checked first; any
    /// bad row (named `row N: field`) means nothing is written. A row whose slug the
    /// client already has is skipped, so an import can be run again after a fix. A
    /// source UUID another check already uses is refused. Each check added is audited.
    pub async fn import_checks(
        &self,
        actor: &Actor,
        client_slug: &str,
        rows: &[ImportRow],
        dry_run: bool,
    ) -> Result<ImportReport> {
        let client = self.client_by_slug(client_slug, false).await?;
        let existing: Vec<String> = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT slug FROM checks WHERE client_id = $1 AND deleted_at IS NULL")
            .bind(client.id).fetch_all(p).await)?;
        let existing: HashSet<String> = existing.into_iter().collect();
        let uuids: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.uuid.as_ref())
            .map(CheckUuid::as_str)
            .collect();
        let taken = self.taken_uuids(&uuids).await?;

        let mut errors = FieldErrors::new();
        let mut report = ImportReport {
            dry_run,
            ..Default::default()
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut wanted: Vec<(usize, CheckInput, Option<&CheckUuid>)> = Vec::new();
        for row in rows {
            let mut draft = row.draft.clone();
            draft.client = client.slug.clone();
            let input = match draft.parse() {
                Ok(input) => input,
                Err(e) => {
                    for err in e.iter() {
                        errors.add(
                            &format!("row {} {}", row.row, err.field),
                            err.message.clone(),
                        );
                    }
                    continue;
                }
            };
            if existing.contains(&input.slug) {
                report.skipped.push(SkippedRow {
                    row: row.row,
                    name: input.name.clone(),
                    reason: format!("the client already has a check \"{}\"", input.slug),
                });
                continue;
            }
            if let Some(first) = seen.insert(input.slug.clone(), row.row) {
                errors.add(
                    &format!("row {} slug", row.row),
                    format!("\"{}\" is also the slug of row {first}", input.slug),
                );
                continue;
            }
            if let Some(uuid) = &row.uuid {
                if taken.contains(uuid.as_str()) {
                    errors.add(
                        &format!("row {} uuid", row.row),
                        format!("{uuid} is already the ping URL of another check"),
                    );
                    continue;
                }
            }
            wanted.push((row.row, input, row.uuid.as_ref()));
        }
        if !errors.is_empty() {
            return Err(StoreError::Invalid(errors));
        }
        if dry_run {
            report.created = wanted
                .iter()
                .map(|(row, input, uuid)| ImportedCheck {
                    row: *row,
                    name: input.name.clone(),
                    slug: input.slug.clone(),
                    uuid: uuid.map(|u| u.to_string()).unwrap_or_default(),
                })
                .collect();
            return Ok(report);
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        for (row, input, uuid) in &wanted {
            let uuid = uuid.cloned().unwrap_or_else(new_uuid);
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
            audit::record(
                &mut tx,
                actor,
                Change {
                    action: Action::Create,
                    entity: "check",
                    entity_id: Some(id),
                    client_id: Some(client.id),
                    summary: format!("imported check \"{}\" for {}", input.name, client.name),
                    before: &[],
                    after: &check_fields(input),
                },
            )
            .await?;
            report.created.push(ImportedCheck {
                row: *row,
                name: input.name.clone(),
                slug: input.slug.clone(),
                uuid: uuid.to_string(),
            });
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Which of `uuids` already name a check (deleted ones too: a ping URL is never
    /// reused).
    async fn taken_uuids(&self, uuids: &[&str]) -> Result<HashSet<String>> {
        let mut taken = HashSet::new();
        for chunk in uuids.chunks(500) {
            let list = crate::placeholders(chunk.len(), 1);
            let sql = format!("SELECT public_id FROM checks WHERE public_id IN ({list})");
            let found: Vec<String> = with_pool!(&self.db, p => {
                let mut q = sqlx::query_scalar(&sql);
                for u in chunk {
                    q = q.bind(*u);
                }
                q.fetch_all(p).await
            })?;
            taken.extend(found);
        }
        Ok(taken)
    }
}
