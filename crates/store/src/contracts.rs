//! Contracts: a client on a plan over time, with the history of plan changes.

use jiff::civil::Date;
use serde::Serialize;
use tend_domain::contract::{BillingPeriod, ContractInput, ContractState, SupportModel};

use crate::audit::{self, Action, Change};
use crate::row::{parsed, RowExt};
use crate::{now_ms, with_pool, with_tx, Actor, Result, Store, StoreError, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: i64,
    pub client_id: i64,
    pub client_slug: String,
    pub plan_code: String,
    pub plan_name: String,
    pub support_model: SupportModel,
    pub stabilization_weeks: Option<i64>,
    pub start_date: Date,
    pub billing_period: BillingPeriod,
    pub renewal_date: Date,
    pub state: ContractState,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanChange {
    pub from_plan: Option<String>,
    pub to_plan: String,
    pub effective_date: String,
    pub changed_by: String,
    pub changed_at: i64,
}

fn date(column: &str, raw: String) -> Result<Date, sqlx::Error> {
    parsed(column, raw.parse::<Date>())
}

fn contract_from_row(r: &impl RowExt) -> Result<Contract> {
    Ok(Contract {
        id: r.int("id")?,
        client_id: r.int("client_id")?,
        client_slug: r.text("client_slug")?,
        plan_code: r.text("plan_code")?,
        plan_name: r.text("plan_name")?,
        support_model: parsed(
            "support_model",
            SupportModel::parse(&r.text("support_model")?),
        )?,
        stabilization_weeks: r.opt_int("stabilization_weeks")?,
        start_date: date("start_date", r.text("start_date")?)?,
        billing_period: parsed(
            "billing_period",
            BillingPeriod::parse(&r.text("billing_period")?),
        )?,
        renewal_date: date("renewal_date", r.text("renewal_date")?)?,
        state: parsed("state", ContractState::parse(&r.text("state")?))?,
        created_at: r.int("created_at")?,
        updated_at: r.int("updated_at")?,
    })
}

fn fields(c: &ContractInput) -> Vec<(&'static str, String)> {
    vec![
        ("plan", c.plan_code.clone()),
        ("support_model", c.support_model.to_string()),
        (
            "stabilization_weeks",
            c.stabilization_weeks
                .map(|w| w.to_string())
                .unwrap_or_default(),
        ),
        ("start_date", c.start_date.to_string()),
        ("billing_period", c.billing_period.to_string()),
        ("renewal_date", c.renewal_date.to_string()),
        ("state", c.state.to_string()),
    ]
}

fn stored_fields(c: &Contract) -> Vec<(&'static str, String)> {
    vec![
        ("plan", c.plan_code.clone()),
        ("support_model", c.support_model.to_string()),
        (
            "stabilization_weeks",
            c.stabilization_weeks
                .map(|w| w.to_string())
                .unwrap_or_default(),
        ),
        ("start_date", c.start_date.to_string()),
        ("billing_period", c.billing_period.to_string()),
        ("renewal_date", c.renewal_date.to_string()),
        ("state", c.state.to_string()),
    ]
}

const SELECT: &str = "SELECT ct.id, ct.client_id, cl.slug AS client_slug, p.code AS plan_code, p.name AS plan_name, ct.support_model, ct.stabilization_weeks, \
    ct.start_date, ct.billing_period, ct.renewal_date, ct.state, ct.created_at, ct.updated_at \
    FROM contracts ct JOIN plans p ON p.id = ct.plan_id JOIN clients cl ON cl.id = ct.client_id";

impl Store {
    async fn plan_id(&self, code: &str) -> Result<i64> {
        self.plan_by_code(code)
            .await
            .map(|p| p.id)
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("plan", format!("there is no plan with code {code}"))
                }
                other => other,
            })
    }

    /// Adds a contract inside the caller's transaction (used when a client is created
    /// with its first contract, so both or neither are stored).
    pub async fn insert_contract(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        client_id: i64,
        input: &ContractInput,
    ) -> Result<i64> {
        let plan_id = self.plan_id(&input.plan_code).await?;
        let sql = format!(
            "SELECT COUNT(*) FROM contracts WHERE client_id = $1 AND state NOT IN ({})",
            crate::ended_contract_states()
        );
        let live: i64 =
            with_tx!(tx, c => sqlx::query_scalar(&sql).bind(client_id).fetch_one(&mut *c).await)?;
        if live > 0 && input.state.is_live() {
            return Err(StoreError::Guarded("this client already has a contract that has not ended; change that one or end it first".into()));
        }
        let now = now_ms();
        let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
            "INSERT INTO contracts (client_id, plan_id, support_model, stabilization_weeks, start_date, billing_period, renewal_date, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id")
            .bind(client_id)
            .bind(plan_id)
            .bind(input.support_model.as_str())
            .bind(input.stabilization_weeks)
            .bind(input.start_date.to_string())
            .bind(input.billing_period.as_str())
            .bind(input.renewal_date.to_string())
            .bind(input.state.as_str())
            .bind(now)
            .fetch_one(&mut *c)
            .await)?;
        with_tx!(tx, c => sqlx::query("UPDATE clients SET current_contract_id = $1 WHERE id = $2")
            .bind(id).bind(client_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO contract_plan_changes (contract_id, from_plan_id, to_plan_id, effective_date, changed_by, changed_at) VALUES ($1, NULL, $2, $3, $4, $5)")
            .bind(id).bind(plan_id).bind(input.start_date.to_string()).bind(&actor.label).bind(now)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let after = fields(input);
        audit::record(
            tx,
            actor,
            Change {
                action: Action::Create,
                entity: "contract",
                entity_id: Some(id),
                client_id: Some(client_id),
                summary: format!(
                    "started a {} contract on {}",
                    input.support_model, input.plan_code
                ),
                before: &[],
                after: &after,
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn create_contract(
        &self,
        actor: &Actor,
        client_id: i64,
        input: &ContractInput,
    ) -> Result<Contract> {
        self.client_by_id(client_id).await?;
        let mut tx = self.begin().await?;
        let id = self
            .insert_contract(&mut tx, actor, client_id, input)
            .await?;
        tx.commit().await?;
        self.contract_by_id(id).await
    }

    pub async fn contract_by_id(&self, id: i64) -> Result<Contract> {
        let sql = format!("{SELECT} WHERE ct.id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(r) => contract_from_row(&r),
            None => Err(StoreError::NotFound("contract")),
        })
    }

    /// A client's contracts, newest first; the first is the current one.
    pub async fn client_contracts(&self, client_id: i64) -> Result<Vec<Contract>> {
        let sql = format!("{SELECT} WHERE ct.client_id = $1 ORDER BY ct.id DESC");
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(client_id).fetch_all(p).await?;
            rows.iter().map(contract_from_row).collect()
        })
    }

    pub async fn list_contracts(
        &self,
        state: Option<ContractState>,
        plan: Option<&str>,
        page: tend_domain::page::PageRequest,
    ) -> Result<tend_domain::page::Page<Contract>> {
        let state = state.map(|s| s.as_str()).unwrap_or("");
        let plan = plan.unwrap_or("").trim().to_uppercase();
        let filter = "WHERE ($1 = '' OR ct.state = $1) AND ($2 = '' OR p.code = $2)";
        let sql = format!("{SELECT} {filter} ORDER BY ct.id DESC LIMIT $3 OFFSET $4");
        let items = with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(state).bind(&plan).bind(page.limit()).bind(page.offset()).fetch_all(p).await?;
            rows.iter().map(contract_from_row).collect::<Result<Vec<_>>>()
        })?;
        let count =
            format!("SELECT COUNT(*) FROM contracts ct JOIN plans p ON p.id = ct.plan_id {filter}");
        let total: i64 = with_pool!(&self.db, p => sqlx::query_scalar(&count).bind(state).bind(&plan).fetch_one(p).await)?;
        Ok(tend_domain::page::Page::new(items, page, total))
    }

    /// Changes a contract. A plan change is recorded in the plan history, effective today
    /// unless `effective` says otherwise.
    pub async fn update_contract(
        &self,
        actor: &Actor,
        id: i64,
        input: &ContractInput,
        effective: Date,
    ) -> Result<Contract> {
        let current = self.contract_by_id(id).await?;
        current
            .state
            .can_become(input.state)
            .map_err(|m| StoreError::invalid("state", m))?;
        let plan_id = self.plan_id(&input.plan_code).await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE contracts SET plan_id = $1, support_model = $2, stabilization_weeks = $3, start_date = $4, billing_period = $5, \
             renewal_date = $6, state = $7, updated_at = $8 WHERE id = $9")
            .bind(plan_id)
            .bind(input.support_model.as_str())
            .bind(input.stabilization_weeks)
            .bind(input.start_date.to_string())
            .bind(input.billing_period.as_str())
            .bind(input.renewal_date.to_string())
            .bind(input.state.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected()))?;
        if current.plan_code != input.plan_code {
            with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO contract_plan_changes (contract_id, from_plan_id, to_plan_id, effective_date, changed_by, changed_at) \
                 VALUES ($1, (SELECT id FROM plans WHERE code = $2), $3, $4, $5, $6)")
                .bind(id).bind(&current.plan_code).bind(plan_id).bind(effective.to_string()).bind(&actor.label).bind(now)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        let (before, after) = (stored_fields(&current), fields(input));
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "contract",
                entity_id: Some(id),
                client_id: Some(current.client_id),
                summary: if current.plan_code != input.plan_code {
                    format!(
                        "moved the contract from {} to {}",
                        current.plan_code, input.plan_code
                    )
                } else {
                    "updated the contract".to_string()
                },
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.contract_by_id(id).await
    }

    /// Deletes a contract only while it is the client's mistake of the day: a contract
    /// that has ended is history and is kept; a live one must be ended first.
    pub async fn delete_contract(&self, actor: &Actor, id: i64) -> Result<()> {
        let contract = self.contract_by_id(id).await?;
        if contract.state.is_live() {
            return Err(StoreError::Guarded(
                "a contract that has not ended cannot be deleted; set its state to ended instead"
                    .into(),
            ));
        }
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM contract_plan_changes WHERE contract_id = $1").bind(id).execute(&mut *c).await.map(|r| r.rows_affected())?;
            sqlx::query("DELETE FROM contracts WHERE id = $1").bind(id).execute(&mut *c).await.map(|r| r.rows_affected())?;
            sqlx::query("UPDATE clients SET current_contract_id = (SELECT MAX(id) FROM contracts WHERE client_id = $1) WHERE id = $1")
                .bind(contract.client_id).execute(&mut *c).await.map(|r| r.rows_affected())?;
        });
        let before = stored_fields(&contract);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "contract",
                entity_id: Some(id),
                client_id: Some(contract.client_id),
                summary: format!("deleted an ended {} contract", contract.plan_code),
                before: &before,
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn plan_history(&self, contract_id: i64) -> Result<Vec<PlanChange>> {
        let rows: Vec<(Option<String>, String, String, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT f.code, t.code, h.effective_date, h.changed_by, h.changed_at FROM contract_plan_changes h \
             LEFT JOIN plans f ON f.id = h.from_plan_id JOIN plans t ON t.id = h.to_plan_id \
             WHERE h.contract_id = $1 ORDER BY h.id")
            .bind(contract_id).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(
                |(from_plan, to_plan, effective_date, changed_by, changed_at)| PlanChange {
                    from_plan,
                    to_plan,
                    effective_date,
                    changed_by,
                    changed_at,
                },
            )
            .collect())
    }
}
