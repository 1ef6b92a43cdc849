//! The audit log: who changed what, when, written in the same transaction as the change.

use serde::Serialize;
use tend_domain::audit::{changed_fields, FieldChange};
use tend_domain::page::{Page, PageRequest};

use crate::row::RowExt;
use crate::{now_ms, with_pool, with_tx, Result, Store, Tx};

/// Who is making a change: a signed-in person, an API token, or Tend itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<i64>,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    User,
    Token,
    System,
}

impl ActorKind {
    fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Token => "token",
            ActorKind::System => "system",
        }
    }
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Self {
        Self {
            kind: ActorKind::User,
            id: Some(id),
            label: email.to_string(),
        }
    }

    pub fn token(id: i64, name: &str) -> Self {
        Self {
            kind: ActorKind::Token,
            id: Some(id),
            label: format!("token {name}"),
        }
    }

    /// Changes made by a command run on the server itself (`tend client add`, demo data).
    pub fn system(label: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            label: label.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One change about to be recorded.
pub struct Change<'a> {
    pub action: Action,
    pub entity: &'static str,
    pub entity_id: Option<i64>,
    pub client_id: Option<i64>,
    pub summary: String,
    pub before: &'a [(&'a str, String)],
    pub after: &'a [(&'a str, String)],
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// UTC milliseconds.
    pub at: i64,
    pub actor_kind: String,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub summary: String,
    pub changes: Vec<FieldChange>,
}

fn entry_from_row(r: &impl RowExt) -> Result<AuditEntry> {
    let changes: String = r.text("changes")?;
    Ok(AuditEntry {
        id: r.int("id")?,
        at: r.int("at")?,
        actor_kind: r.text("actor_kind")?,
        actor_label: r.text("actor_label")?,
        action: r.text("action")?,
        entity: r.text("entity")?,
        entity_id: r.opt_int("entity_id")?,
        summary: r.text("summary")?,
        changes: serde_json::from_str(&changes).unwrap_or_default(),
    })
}

/// Writes one audit row inside the caller's transaction.
pub async fn record(tx: &mut Tx, actor: &Actor, change: Change<'_>) -> Result<()> {
    let changes = changed_fields(change.before, change.after);
    // A Vec of plain strings always serialises.
    let changes_json = serde_json::to_string(&changes).unwrap_or_else(|_| "[]".into());
    with_tx!(tx, c => sqlx::query(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_label, action, entity, entity_id, client_id, summary, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(now_ms())
    .bind(actor.kind.as_str())
    .bind(actor.id)
    .bind(&actor.label)
    .bind(change.action.as_str())
    .bind(change.entity)
    .bind(change.entity_id)
    .bind(change.client_id)
    .bind(&change.summary)
    .bind(&changes_json)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

const COLUMNS: &str =
    "id, at, actor_kind, actor_label, action, entity, entity_id, summary, changes";

impl Store {
    /// A client's audit trail, newest first.
    pub async fn client_audit(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE client_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3");
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(client_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE client_id = $1").bind(client_id).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// Every audit entry, newest first, optionally of one entity type.
    pub async fn audit_log(
        &self,
        entity: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let filter = entity.unwrap_or("");
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log WHERE ($1 = '' OR entity = $1) ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(filter).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()
        })?;
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE ($1 = '' OR entity = $1)").bind(filter).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }
}
