//! A client's people: requesters, approval owners and billing contacts.

use serde::Serialize;
use tend_domain::contact::{ContactInput, ContactRole};

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::{now_ms, with_pool, with_tx, Actor, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub email: String,
    pub role: ContactRole,
    pub phone: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn contact_from_row(r: &impl RowExt) -> Result<Contact> {
    Ok(Contact {
        id: r.int("id")?,
        client_id: r.int("client_id")?,
        name: r.text("name")?,
        email: r.text("email")?,
        role: parsed("role", ContactRole::parse(&r.text("role")?))?,
        phone: r.opt_text("phone")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn fields(c: &ContactInput) -> Vec<(&'static str, String)> {
    vec![
        ("name", c.name.clone()),
        ("email", c.email.to_string()),
        ("role", c.role.to_string()),
        ("phone", c.phone.clone().unwrap_or_default()),
    ]
}

fn stored_fields(c: &Contact) -> Vec<(&'static str, String)> {
    vec![
        ("name", c.name.clone()),
        ("email", c.email.clone()),
        ("role", c.role.to_string()),
        ("phone", c.phone.clone().unwrap_or_default()),
    ]
}

fn duplicate_email(e: sqlx::Error, email: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict {
            field: "email",
            message: format!("{email} is already a contact of this client"),
        }
    } else {
        e.into()
    }
}

const COLUMNS: &str = "id, client_id, name, email, role, phone, created_at, updated_at";

impl Store {
    pub async fn list_contacts(&self, client_id: i64) -> Result<Vec<Contact>> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE client_id = $1 ORDER BY name, id");
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(client_id).fetch_all(p).await?;
            rows.iter().map(contact_from_row).collect()
        })
    }

    pub async fn contact_by_id(&self, id: i64) -> Result<Contact> {
        let sql = format!("SELECT {COLUMNS} FROM contacts WHERE id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(r) => contact_from_row(&r),
            None => Err(StoreError::NotFound("contact")),
        })
    }

    pub async fn create_contact(
        &self,
        actor: &Actor,
        client_id: i64,
        input: &ContactInput,
    ) -> Result<Contact> {
        let client = self.client_by_id(client_id).await?;
        if client.deleted {
            return Err(StoreError::NotFound("client"));
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO contacts (client_id, name, email, role, phone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id")
            .bind(client.id)
            .bind(&input.name)
            .bind(input.email.as_str())
            .bind(input.role.as_str())
            .bind(&input.phone)
            .bind(now)
            .fetch_one(&mut *c)
            .await)
            .map_err(|e| duplicate_email(e, input.email.as_str()))?;
        let after = fields(input);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "contact",
                entity_id: Some(id),
                client_id: Some(client.id),
                summary: format!("added contact {} ({})", input.name, input.role),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.contact_by_id(id).await
    }

    pub async fn update_contact(
        &self,
        actor: &Actor,
        id: i64,
        input: &ContactInput,
    ) -> Result<Contact> {
        let current = self.contact_by_id(id).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE contacts SET name = $1, email = $2, role = $3, phone = $4, updated_at = $5 WHERE id = $6")
            .bind(&input.name)
            .bind(input.email.as_str())
            .bind(input.role.as_str())
            .bind(&input.phone)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
            .map_err(|e| duplicate_email(e, input.email.as_str()))?;
        let (before, after) = (stored_fields(&current), fields(input));
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "contact",
                entity_id: Some(id),
                client_id: Some(current.client_id),
                summary: format!("updated contact {}", input.name),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.contact_by_id(id).await
    }

    /// Removes a contact. A client keeps at least one contact while a contract is live,
    /// so there is always someone to tell.
    pub async fn delete_contact(&self, actor: &Actor, id: i64) -> Result<()> {
        let contact = self.contact_by_id(id).await?;
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM contacts WHERE client_id = $1 AND id <> $2), \
                    (SELECT COUNT(*) FROM contracts WHERE client_id = $1 AND state NOT IN ({}))",
            crate::ended_contract_states()
        );
        let (others, live): (i64, i64) = with_pool!(&self.db, p => sqlx::query_as(&sql)
            .bind(contact.client_id).bind(id).fetch_one(p).await)?;
        if others == 0 && live > 0 {
            return Err(StoreError::Guarded(format!(
                "{} is this client's only contact and the contract is live; add another contact first",
                contact.name
            )));
        }
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("DELETE FROM contacts WHERE id = $1").bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let before = stored_fields(&contact);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "contact",
                entity_id: Some(id),
                client_id: Some(contact.client_id),
                summary: format!("removed contact {}", contact.name),
                before: &before,
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }
}
