//! Clients: the businesses the agency supports. Deleting one is a soft delete that can
//! be undone; the row and its history stay.

use serde::Serialize;
use tend_domain::calendar::{
    holidays_text, merge_holidays, parse_holidays, Holiday, HolidayMerge, WeeklyHours,
};
use tend_domain::client::ClientInput;
use tend_domain::contract::ContractState;
use tend_domain::page::{Page, PageRequest};

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::users::User;
use crate::{
    bind_all, now_ms, random_hex, with_pool, with_tx, Actor, Bind, Result, Store, StoreError, Tx,
};

#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub id: i64,
    /// Random and unguessable: the identifier that may travel to client-facing links.
    pub public_id: String,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub hours: WeeklyHours,
    pub holidays: Vec<Holiday>,
    pub owner: Option<OwnerRef>,
    pub notes: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OwnerRef {
    pub id: i64,
    pub email: String,
    pub name: String,
}

/// One row of the clients list.
#[derive(Debug, Clone, Serialize)]
pub struct ClientSummary {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub timezone: String,
    pub owner_name: Option<String>,
    pub plan_code: Option<String>,
    pub contract_state: Option<String>,
    pub renewal_date: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    /// Matches the name or the slug, case-insensitively.
    pub search: Option<String>,
    pub plan: Option<String>,
    pub state: Option<ContractState>,
    pub owner_id: Option<i64>,
}

fn client_from_row(r: &impl RowExt) -> Result<Client> {
    let owner = match r.opt_int("owner_id")? {
        Some(id) => Some(OwnerRef {
            id,
            email: r.opt_text("owner_email")?.unwrap_or_default(),
            name: r.opt_text("owner_name")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Client {
        id: r.int("id")?,
        public_id: r.text("public_id")?,
        name: r.text("name")?,
        slug: r.text("slug")?,
        timezone: r.text("timezone")?,
        hours: parsed(
            "business_hours",
            WeeklyHours::parse(&r.text("business_hours")?),
        )?,
        holidays: parsed("holidays", parse_holidays(&r.text("holidays")?))?,
        owner,
        notes: r.text("notes")?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
        deleted: r.opt_int("deleted_at")?.is_some(),
    })
}

fn summary_from_row(r: &impl RowExt) -> Result<ClientSummary> {
    Ok(ClientSummary {
        id: r.int("id")?,
        name: r.text("name")?,
        slug: r.text("slug")?,
        timezone: r.text("timezone")?,
        owner_name: r.opt_text("owner_name")?,
        plan_code: r.opt_text("plan_code")?,
        contract_state: r.opt_text("state")?,
        renewal_date: r.opt_text("renewal_date")?,
    })
}

pub(crate) fn client_fields(c: &ClientInput) -> Vec<(&'static str, String)> {
    vec![
        ("name", c.name.clone()),
        ("slug", c.slug.to_string()),
        ("timezone", c.timezone.to_string()),
        ("business_hours", c.hours.to_text()),
        ("holidays", holidays_text(&c.holidays)),
        (
            "owner_email",
            c.owner_email
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        ("notes", c.notes.clone()),
    ]
}

fn stored_fields(c: &Client) -> Vec<(&'static str, String)> {
    vec![
        ("name", c.name.clone()),
        ("slug", c.slug.clone()),
        ("timezone", c.timezone.clone()),
        ("business_hours", c.hours.to_text()),
        ("holidays", holidays_text(&c.holidays)),
        (
            "owner_email",
            c.owner
                .as_ref()
                .map(|o| o.email.clone())
                .unwrap_or_default(),
        ),
        ("notes", c.notes.clone()),
    ]
}

const CLIENT_SELECT: &str = "SELECT c.id, c.public_id, c.name, c.slug, c.timezone, c.business_hours, c.holidays, c.owner_id, \
    u.email AS owner_email, u.name AS owner_name, c.notes, c.created_at, c.updated_at, c.deleted_at \
    FROM clients c LEFT JOIN users u ON u.id = c.owner_id";

/// The columns of one list row; the newest contract is joined through the pointer the
/// store keeps on each client.
const LIST_ROW: &str = "SELECT c.id, c.name, c.slug, c.timezone, u.name AS owner_name, p.code AS plan_code, ct.state, ct.renewal_date \
    FROM clients c \
    LEFT JOIN users u ON u.id = c.owner_id \
    LEFT JOIN contracts ct ON ct.id = c.current_contract_id \
    LEFT JOIN plans p ON p.id = ct.plan_id";

/// The FROM and WHERE of the clients list for a filter, with its bound values.
fn list_filter(filter: &ClientFilter) -> (String, Vec<Bind>) {
    let mut conds = vec!["c.deleted_at IS NULL".to_string()];
    let mut binds = Vec::new();
    let mut needs_contract = false;
    let search = filter.search.as_deref().map(str::trim).unwrap_or("");
    if !search.is_empty() {
        binds.push(Bind::Text(format!(
            "%{}%",
            search.to_lowercase().replace(['%', '_'], "")
        )));
        conds.push(format!(
            "(c.name_lower LIKE ${n} OR c.slug LIKE ${n})",
            n = binds.len()
        ));
    }
    let plan = filter.plan.as_deref().unwrap_or("").trim().to_uppercase();
    if !plan.is_empty() {
        needs_contract = true;
        binds.push(Bind::Text(plan));
        conds.push(format!("p.code = ${}", binds.len()));
    }
    if let Some(state) = filter.state {
        needs_contract = true;
        binds.push(Bind::Text(state.as_str().to_string()));
        conds.push(format!("ct.state = ${}", binds.len()));
    }
    if let Some(owner) = filter.owner_id {
        binds.push(Bind::Int(owner));
        conds.push(format!("c.owner_id = ${}", binds.len()));
    }
    let from = if needs_contract {
        "FROM clients c JOIN contracts ct ON ct.id = c.current_contract_id JOIN plans p ON p.id = ct.plan_id"
    } else {
        "FROM clients c"
    };
    (format!("{from} WHERE {}", conds.join(" AND ")), binds)
}

fn unique_slug(e: sqlx::Error, slug: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict {
            field: "slug",
            message: format!("the slug \"{slug}\" is taken by another client"),
        }
    } else {
        e.into()
    }
}

/// Resolves an owner email to a staff user id; an unknown email is a field error.
async fn owner_id(store: &Store, input: &ClientInput) -> Result<Option<i64>> {
    match &input.owner_email {
        None => Ok(None),
        Some(email) => match store.user_by_email(email).await? {
            Some(User { id, .. }) => Ok(Some(id)),
            None => Err(StoreError::invalid(
                "owner_email",
                format!("no staff user has the email {email}"),
            )),
        },
    }
}

impl Store {
    /// One page of clients, by name. The page's ids are chosen first and only those rows
    /// are joined for display, so a deep page costs no more than the first.
    pub async fn list_clients(
        &self,
        filter: &ClientFilter,
        page: PageRequest,
    ) -> Result<Page<ClientSummary>> {
        let (from_where, binds) = list_filter(filter);
        let n = binds.len();
        let sql = format!(
            "{LIST_ROW} WHERE c.id IN (SELECT c.id {from_where} ORDER BY c.name_lower, c.id LIMIT ${} OFFSET ${}) \
             ORDER BY c.name_lower, c.id",
            n + 1,
            n + 2
        );
        let items = with_pool!(&self.db, p => {
            let q = bind_all!(sqlx::query(&sql), &binds);
            let rows = q.bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()
        })?;
        let count_sql = format!("SELECT COUNT(*) {from_where}");
        let total: i64 = with_pool!(&self.db, p => bind_all!(sqlx::query_scalar(&count_sql), &binds).fetch_one(p).await)?;
        Ok(Page::new(items, page, total))
    }

    /// A client by slug; deleted clients are found too only when `include_deleted`.
    pub async fn client_by_slug(&self, slug: &str, include_deleted: bool) -> Result<Client> {
        let sql = format!("{CLIENT_SELECT} WHERE c.slug = $1");
        let client = with_pool!(&self.db, p => match sqlx::query(&sql).bind(slug.trim()).fetch_optional(p).await? {
            Some(row) => Some(client_from_row(&row)?),
            None => None,
        });
        client
            .filter(|c| include_deleted || !c.deleted)
            .ok_or(StoreError::NotFound("client"))
    }

    pub async fn client_by_id(&self, id: i64) -> Result<Client> {
        let sql = format!("{CLIENT_SELECT} WHERE c.id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(row) => client_from_row(&row),
            None => Err(StoreError::NotFound("client")),
        })
    }

    /// Creates a client, inside the caller's transaction so a contract can join it.
    pub async fn insert_client(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        input: &ClientInput,
    ) -> Result<i64> {
        let owner = owner_id(self, input).await?;
        let now = now_ms();
        let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO clients (public_id, name, name_lower, slug, timezone, business_hours, holidays, owner_id, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id")
            .bind(random_hex(16))
            .bind(&input.name)
            .bind(input.name.to_lowercase())
            .bind(input.slug.as_str())
            .bind(input.timezone.as_str())
            .bind(input.hours.to_text())
            .bind(holidays_text(&input.holidays))
            .bind(owner)
            .bind(&input.notes)
            .bind(now)
            .fetch_one(&mut *c)
            .await)
            .map_err(|e| unique_slug(e, input.slug.as_str()))?;
        let after = client_fields(input);
        audit::record(
            tx,
            actor,
            Change {
                action: Action::Create,
                entity: "client",
                entity_id: Some(id),
                client_id: Some(id),
                summary: format!("created client {}", input.name),
                before: &[],
                after: &after,
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn create_client(&self, actor: &Actor, input: &ClientInput) -> Result<Client> {
        let mut tx = self.begin().await?;
        let id = self.insert_client(&mut tx, actor, input).await?;
        tx.commit().await?;
        self.client_by_id(id).await
    }

    pub async fn update_client(
        &self,
        actor: &Actor,
        slug: &str,
        input: &ClientInput,
    ) -> Result<Client> {
        let current = self.client_by_slug(slug, false).await?;
        let owner = owner_id(self, input).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE clients SET name = $1, name_lower = $2, slug = $3, timezone = $4, business_hours = $5, holidays = $6, \
             owner_id = $7, notes = $8, updated_at = $9 WHERE id = $10")
            .bind(&input.name)
            .bind(input.name.to_lowercase())
            .bind(input.slug.as_str())
            .bind(input.timezone.as_str())
            .bind(input.hours.to_text())
            .bind(holidays_text(&input.holidays))
            .bind(owner)
            .bind(&input.notes)
            .bind(now_ms())
            .bind(current.id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))
            .map_err(|e| unique_slug(e, input.slug.as_str()))?;
        let (before, after) = (stored_fields(&current), client_fields(input));
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "client",
                entity_id: Some(current.id),
                client_id: Some(current.id),
                summary: format!("updated client {}", input.name),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.client_by_id(current.id).await
    }

    /// Adds holidays to a client's calendar (an .ics import): a date already listed keeps
    /// its name. One audited change of the client's holidays, saying where they came
    /// from; nothing is written when no date is new.
    pub async fn add_holidays(
        &self,
        actor: &Actor,
        slug: &str,
        offered: &[Holiday],
        source: &str,
    ) -> Result<(Client, HolidayMerge)> {
        let current = self.client_by_slug(slug, false).await?;
        let merge = merge_holidays(&current.holidays, offered);
        if merge.added.is_empty() {
            return Ok((current, merge));
        }
        let (before, after) = (
            holidays_text(&current.holidays),
            holidays_text(&merge.merged),
        );
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE clients SET holidays = $1, updated_at = $2 WHERE id = $3")
            .bind(&after).bind(now_ms()).bind(current.id)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let n = merge.added.len();
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "client",
                entity_id: Some(current.id),
                client_id: Some(current.id),
                summary: format!(
                    "added {n} holiday{} to {} from {source}",
                    if n == 1 { "" } else { "s" },
                    current.name
                ),
                before: &[("holidays", before)],
                after: &[("holidays", after)],
            },
        )
        .await?;
        tx.commit().await?;
        Ok((self.client_by_id(current.id).await?, merge))
    }

    /// Soft-deletes a client whose contracts have all ended; `restore_client` undoes it.
    pub async fn delete_client(&self, actor: &Actor, slug: &str) -> Result<()> {
        let client = self.client_by_slug(slug, false).await?;
        let sql = format!(
            "SELECT COUNT(*) FROM contracts WHERE client_id = $1 AND state NOT IN ({})",
            crate::ended_contract_states()
        );
        let live: i64 =
            with_pool!(&self.db, p => sqlx::query_scalar(&sql).bind(client.id).fetch_one(p).await)?;
        if live > 0 {
            return Err(StoreError::Guarded(format!(
                "{} still has a contract that has not ended; end it (or offboard the client) before deleting",
                client.name
            )));
        }
        self.set_deleted(actor, &client, Some(now_ms())).await
    }

    pub async fn restore_client(&self, actor: &Actor, slug: &str) -> Result<Client> {
        let client = self.client_by_slug(slug, true).await?;
        if !client.deleted {
            return Ok(client);
        }
        self.set_deleted(actor, &client, None).await?;
        self.client_by_id(client.id).await
    }

    async fn set_deleted(&self, actor: &Actor, client: &Client, at: Option<i64>) -> Result<()> {
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query("UPDATE clients SET deleted_at = $1, updated_at = $2 WHERE id = $3")
            .bind(at).bind(now_ms()).bind(client.id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let (action, verb) = if at.is_some() {
            (Action::Delete, "deleted")
        } else {
            (Action::Update, "restored")
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                action,
                entity: "client",
                entity_id: Some(client.id),
                client_id: Some(client.id),
                summary: format!("{verb} client {}", client.name),
                before: &[],
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn count_clients(&self) -> Result<i64> {
        Ok(
            with_pool!(&self.db, p => sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE deleted_at IS NULL").fetch_one(p).await)?,
        )
    }
}
