//! Plans and their SLA targets. The SOP's three tiers are inserted as default rows when
//! the database is created; after that they are ordinary, editable data.

use serde::Serialize;
use tend_domain::minutes::Minutes;
use tend_domain::money::Cents;
use tend_domain::plan::{
    target_key, Cadence, Channel, ClockKind, PlanDraft, PlanTerms, Severity, SlaTarget, TargetKind,
    TargetUnit,
};

use crate::audit::{self, Action, Change};
use crate::error::is_unique_violation;
use crate::row::{parsed, RowExt};
use crate::{now_ms, with_pool, with_tx, Actor, Result, Store, StoreError, Tx};

const DEFAULT_PLANS: &str = include_str!("../seeds/default_plans.json");

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub id: i64,
    #[serde(flatten)]
    pub terms: PlanTerms,
    /// How many contracts that are not ended use this plan.
    pub live_contracts: i64,
}

/// The default plans as shipped; a broken file is a build defect caught by tests.
pub fn default_plan_terms() -> Result<Vec<PlanTerms>> {
    let drafts: Vec<PlanDraft> = serde_json::from_str(DEFAULT_PLANS)
        .map_err(|e| StoreError::invalid("default_plans", e.to_string()))?;
    drafts
        .iter()
        .map(|d| d.parse().map_err(StoreError::Invalid))
        .collect()
}

pub(crate) async fn seed_defaults(tx: &mut Tx) -> Result<()> {
    for terms in default_plan_terms()? {
        insert_plan(tx, &terms).await?;
    }
    Ok(())
}

/// A plan's terms as audit fields. Target keys are built (`p0_next_update`), so the
/// names are owned; [`borrowed`] lends them to [`audit::Change`].
fn terms_fields(t: &PlanTerms) -> Vec<(String, String)> {
    let fixed: Vec<(&str, String)> = vec![
        ("code", t.code.clone()),
        ("name", t.name.clone()),
        ("monthly_fee", t.monthly_fee.plain()),
        ("included_hours", t.included.as_hours_text()),
        ("rollover_max_hours", t.rollover_max.as_hours_text()),
        ("bank_max_hours", t.bank_max.as_hours_text()),
        ("overage_rate", t.overage_rate.plain()),
        ("emergency_rate", t.emergency_rate.plain()),
        ("increment_minutes", t.increment.0.to_string()),
        ("report_cadence", t.report_cadence.to_string()),
        ("checkin_cadence", t.checkin_cadence.to_string()),
        ("channels", channels_text(&t.channels)),
        ("emergency_included", t.emergency_included.to_string()),
    ];
    let mut fields: Vec<(String, String)> =
        fixed.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for s in &t.sla {
        fields.push((target_key(s.severity, s.kind), s.spec()));
    }
    fields
}

fn borrowed(fields: &[(String, String)]) -> Vec<(&str, String)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect()
}

fn channels_text(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

async fn insert_plan(tx: &mut Tx, t: &PlanTerms) -> Result<i64> {
    let now = now_ms();
    let id: i64 = with_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO plans (code, name, monthly_fee_cents, included_minutes, rollover_max_minutes, bank_max_minutes, \
         overage_rate_cents, emergency_rate_cents, increment_minutes, report_cadence, checkin_cadence, channels, \
         emergency_included, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
    )
    .bind(&t.code)
    .bind(&t.name)
    .bind(t.monthly_fee.0)
    .bind(t.included.0)
    .bind(t.rollover_max.0)
    .bind(t.bank_max.0)
    .bind(t.overage_rate.0)
    .bind(t.emergency_rate.0)
    .bind(t.increment.0)
    .bind(t.report_cadence.as_str())
    .bind(t.checkin_cadence.as_str())
    .bind(channels_text(&t.channels))
    .bind(i64::from(t.emergency_included))
    .bind(now)
    .fetch_one(&mut *c)
    .await)
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict { field: "code", message: format!("a plan with code {} already exists", t.code) }
        } else {
            e.into()
        }
    })?;
    write_targets(tx, id, &t.sla).await?;
    Ok(id)
}

async fn write_targets(tx: &mut Tx, plan_id: i64, targets: &[SlaTarget]) -> Result<()> {
    with_tx!(tx, c => sqlx::query("DELETE FROM sla_targets WHERE plan_id = $1").bind(plan_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    for s in targets {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO sla_targets (plan_id, severity, kind, amount, unit, clock, after_hours_amount, label) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(plan_id)
        .bind(s.severity.as_str())
        .bind(s.kind.as_str())
        .bind(s.amount)
        .bind(s.unit.as_str())
        .bind(s.clock.as_str())
        .bind(s.after_hours_amount)
        .bind(&s.label)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

fn plan_from_row(r: &impl RowExt) -> Result<Plan> {
    let channels = r.text("channels")?;
    Ok(Plan {
        id: r.int("id")?,
        live_contracts: r.int("live_contracts")?,
        terms: PlanTerms {
            code: r.text("code")?,
            name: r.text("name")?,
            monthly_fee: Cents(r.int("monthly_fee_cents")?),
            included: Minutes(r.int("included_minutes")?),
            rollover_max: Minutes(r.int("rollover_max_minutes")?),
            bank_max: Minutes(r.int("bank_max_minutes")?),
            overage_rate: Cents(r.int("overage_rate_cents")?),
            emergency_rate: Cents(r.int("emergency_rate_cents")?),
            increment: Minutes(r.int("increment_minutes")?),
            report_cadence: parsed("report_cadence", Cadence::parse(&r.text("report_cadence")?))?,
            checkin_cadence: parsed(
                "checkin_cadence",
                Cadence::parse(&r.text("checkin_cadence")?),
            )?,
            channels: channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| parsed("channels", Channel::parse(c)))
                .collect::<Result<Vec<_>, _>>()?,
            emergency_included: r.int("emergency_included")? != 0,
            sla: Vec::new(),
        },
    })
}

fn target_from_row(r: &impl RowExt) -> Result<(i64, SlaTarget)> {
    Ok((
        r.int("plan_id")?,
        SlaTarget {
            severity: parsed("severity", Severity::parse(&r.text("severity")?))?,
            kind: parsed("kind", TargetKind::parse(&r.text("kind")?))?,
            amount: r.opt_int("amount")?,
            unit: parsed("unit", TargetUnit::parse(&r.text("unit")?))?,
            clock: parsed("clock", ClockKind::parse(&r.text("clock")?))?,
            after_hours_amount: r.opt_int("after_hours_amount")?,
            label: r.opt_text("label")?,
        },
    ))
}

/// Every plan column, with how many contracts that still serve a client use it.
fn plan_select() -> String {
    format!(
        "SELECT p.id, p.code, p.name, p.monthly_fee_cents, p.included_minutes, p.rollover_max_minutes, \
         p.bank_max_minutes, p.overage_rate_cents, p.emergency_rate_cents, p.increment_minutes, p.report_cadence, \
         p.checkin_cadence, p.channels, p.emergency_included, \
         (SELECT COUNT(*) FROM contracts ct WHERE ct.plan_id = p.id AND ct.state NOT IN ({})) AS live_contracts \
         FROM plans p",
        crate::ended_contract_states()
    )
}

fn severity_order(s: &SlaTarget) -> (usize, usize) {
    let sev = Severity::ALL
        .iter()
        .position(|x| *x == s.severity)
        .unwrap_or(0);
    let kind = TargetKind::ALL
        .iter()
        .position(|x| *x == s.kind)
        .unwrap_or(0);
    (sev, kind)
}

impl Store {
    /// Every plan, cheapest first, with its SLA targets.
    pub async fn list_plans(&self) -> Result<Vec<Plan>> {
        let sql = format!("{} ORDER BY p.monthly_fee_cents, p.code", plan_select());
        let mut plans = with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).fetch_all(p).await?;
            rows.iter().map(plan_from_row).collect::<Result<Vec<_>>>()
        })?;
        let targets = with_pool!(&self.db, p => {
            let rows = sqlx::query("SELECT plan_id, severity, kind, amount, unit, clock, after_hours_amount, label FROM sla_targets").fetch_all(p).await?;
            rows.iter().map(target_from_row).collect::<Result<Vec<_>>>()
        })?;
        for (plan_id, target) in targets {
            if let Some(plan) = plans.iter_mut().find(|p| p.id == plan_id) {
                plan.terms.sla.push(target);
            }
        }
        for plan in &mut plans {
            plan.terms.sla.sort_by_key(severity_order);
        }
        Ok(plans)
    }

    /// Plan codes, cheapest first: what a plan picker or filter needs.
    pub async fn plan_codes(&self) -> Result<Vec<String>> {
        Ok(
            with_pool!(&self.db, p => sqlx::query_scalar("SELECT code FROM plans ORDER BY monthly_fee_cents, code").fetch_all(p).await)?,
        )
    }

    pub async fn plan_by_code(&self, code: &str) -> Result<Plan> {
        let code = code.trim().to_uppercase();
        let sql = format!("{} WHERE p.code = $1", plan_select());
        let plan = with_pool!(&self.db, p => {
            match sqlx::query(&sql).bind(&code).fetch_optional(p).await? {
                Some(row) => Some(plan_from_row(&row)?),
                None => None,
            }
        });
        let mut plan = plan.ok_or(StoreError::NotFound("plan"))?;
        let targets = with_pool!(&self.db, p => {
            let rows = sqlx::query("SELECT plan_id, severity, kind, amount, unit, clock, after_hours_amount, label FROM sla_targets WHERE plan_id = $1").bind(plan.id).fetch_all(p).await?;
            rows.iter().map(target_from_row).collect::<Result<Vec<_>>>()
        })?;
        plan.terms.sla = targets.into_iter().map(|(_, t)| t).collect();
        plan.terms.sla.sort_by_key(severity_order);
        Ok(plan)
    }

    pub async fn create_plan(&self, actor: &Actor, terms: &PlanTerms) -> Result<Plan> {
        let mut tx = self.begin().await?;
        let id = insert_plan(&mut tx, terms).await?;
        crate::hours::seed_work_types(&mut tx, id).await?;
        let after = terms_fields(terms);
        let after = borrowed(&after);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "plan",
                entity_id: Some(id),
                client_id: None,
                summary: format!("created plan {}", terms.code),
                before: &[],
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.plan_by_code(&terms.code).await
    }

    /// Replaces a plan's terms; contracts on it follow the new terms from now on.
    pub async fn update_plan(&self, actor: &Actor, code: &str, terms: &PlanTerms) -> Result<Plan> {
        let current = self.plan_by_code(code).await?;
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => sqlx::query(
            "UPDATE plans SET code = $1, name = $2, monthly_fee_cents = $3, included_minutes = $4, rollover_max_minutes = $5, \
             bank_max_minutes = $6, overage_rate_cents = $7, emergency_rate_cents = $8, increment_minutes = $9, \
             report_cadence = $10, checkin_cadence = $11, channels = $12, emergency_included = $13, updated_at = $14 WHERE id = $15",
        )
        .bind(&terms.code)
        .bind(&terms.name)
        .bind(terms.monthly_fee.0)
        .bind(terms.included.0)
        .bind(terms.rollover_max.0)
        .bind(terms.bank_max.0)
        .bind(terms.overage_rate.0)
        .bind(terms.emergency_rate.0)
        .bind(terms.increment.0)
        .bind(terms.report_cadence.as_str())
        .bind(terms.checkin_cadence.as_str())
        .bind(channels_text(&terms.channels))
        .bind(i64::from(terms.emergency_included))
        .bind(now_ms())
        .bind(current.id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict { field: "code", message: format!("a plan with code {} already exists", terms.code) }
            } else {
                e.into()
            }
        })?;
        write_targets(&mut tx, current.id, &terms.sla).await?;
        let (before, after) = (terms_fields(&current.terms), terms_fields(terms));
        let (before, after) = (borrowed(&before), borrowed(&after));
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Update,
                entity: "plan",
                entity_id: Some(current.id),
                client_id: None,
                summary: format!("updated plan {}", terms.code),
                before: &before,
                after: &after,
            },
        )
        .await?;
        tx.commit().await?;
        self.plan_by_code(&terms.code).await
    }

    /// Deletes a plan that no contract has ever used; a used plan stays for history.
    pub async fn delete_plan(&self, actor: &Actor, code: &str) -> Result<()> {
        let plan = self.plan_by_code(code).await?;
        let used: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM contracts WHERE plan_id = $1").bind(plan.id).fetch_one(p).await)?;
        if used > 0 {
            return Err(StoreError::Guarded(format!(
                "plan {} is used by {used} contract(s); move them to another plan first",
                plan.terms.code
            )));
        }
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, c => {
            sqlx::query("DELETE FROM sla_targets WHERE plan_id = $1").bind(plan.id).execute(&mut *c).await.map(|r| r.rows_affected())?;
            sqlx::query("DELETE FROM plans WHERE id = $1").bind(plan.id).execute(&mut *c).await.map(|r| r.rows_affected())?;
        });
        let before = terms_fields(&plan.terms);
        let before = borrowed(&before);
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Delete,
                entity: "plan",
                entity_id: Some(plan.id),
                client_id: None,
                summary: format!("deleted plan {}", plan.terms.code),
                before: &before,
                after: &[],
            },
        )
        .await?;
        tx.commit().await
    }
}
