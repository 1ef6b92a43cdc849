//! The hour bank: time logged on tickets, the append-only ledger of each contract's
//! hours, the month close, the 75 % / 100 % alerts, sheets and the billing export.
//!
//! Every rule is `tend_domain`'s (`work_type`, `rounding`, `ledger`, `month_close`,
//! `hour_alerts`, `forecast`); this module loads the data those rules need, and writes
//! what they decide in one transaction with its audit row and its messages.
//!
//! # Periods and locking
//!
//! A contract's bank opens (its first `hour_periods` row and grant) the first time it is
//! needed, with the period holding that day in the client's timezone; the close then
//! opens each next period. Every write to a period starts with an `UPDATE` of its
//! `hour_periods` row, which takes the row lock on PostgreSQL and the write lock on
//! SQLite: logging, adjusting and closing one contract are serialised, and the close
//! (`UPDATE ... SET closed_at WHERE closed_at IS NULL`) happens in exactly one
//! transaction however many instances try.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;
use tend_domain::forecast::{forecast, Forecast};
use tend_domain::hour_alerts::HoursThreshold;
use tend_domain::hour_alerts::{crossed_between, depleted_options, DepletedChoice, HourAlert};
use tend_domain::ledger::{self, Entry, EntryKind, Lot, PeriodSummary};
use tend_domain::message_template::{
    default_template, render, AgentFacts, ClientFacts, ContactFacts, HoursFacts, MessageContext,
    TemplateKind,
};
use tend_domain::minutes::Minutes;
use tend_domain::money::Cents;
use tend_domain::month_close::{
    close_period, opening_grant, plan_in_force, BankPeriod, CarryLimit, CloseOutcome,
    PeriodSchedule, PlanChange,
};
use tend_domain::plan::PlanTerms;
use tend_domain::rounding::{LoggedTime, RoundingMode, RoundingRule};
use tend_domain::work_type::{
    amount_for, default_work_types, find_work_type, Charge, RateKind, WorkType,
};
use tend_domain::work_type::{Coverage, WorkTypeCode};

use crate::audit::{self, Action, Change};
use crate::outbox::{enqueue, NewMessage, EMAIL};
use crate::row::parsed;
use crate::users::User;
use crate::{
    ended_contract_states, placeholders, with_pool, with_tx, Actor, Result, Store, StoreError, Tx,
};

/// A plan as the hour bank uses it: its terms, rounding and work types.
#[derive(Debug, Clone, Serialize)]
pub struct BankPlan {
    pub id: i64,
    pub terms: PlanTerms,
    pub rounding: RoundingRule,
    pub work_types: Vec<WorkType>,
}

/// Every plan by id, with its rounding and work types.
#[derive(Debug, Clone, Default)]
pub struct BankPlans {
    by_id: HashMap<i64, BankPlan>,
}

impl BankPlans {
    pub fn get(&self, id: i64) -> Result<&BankPlan> {
        self.by_id.get(&id).ok_or(StoreError::NotFound("plan"))
    }

    pub fn by_code(&self, code: &str) -> Result<&BankPlan> {
        self.by_id
            .values()
            .find(|p| p.terms.code == code)
            .ok_or(StoreError::NotFound("plan"))
    }

    /// The cheapest plan with more included hours than `terms`: the upgrade the 100 %
    /// alert offers.
    pub fn upgrade_from(&self, terms: &PlanTerms) -> Option<&BankPlan> {
        self.by_id
            .values()
            .filter(|p| p.terms.included > terms.included)
            .min_by_key(|p| (p.terms.monthly_fee, p.terms.code.clone()))
    }
}

/// A contract with what its bank needs to know about its client and plan history.
#[derive(Debug, Clone)]
pub struct BankContract {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub client_slug: String,
    pub client_owner: Option<i64>,
    pub timezone: String,
    pub tz: TimeZone,
    pub schedule: PeriodSchedule,
    pub initial_plan: String,
    pub changes: Vec<PlanChange>,
}

impl BankContract {
    /// The client's local date at `now`.
    pub fn today(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }

    /// The plan that governs `period` (a change takes effect at the next period).
    pub fn plan_for<'a>(&self, plans: &'a BankPlans, period: &BankPeriod) -> Result<&'a BankPlan> {
        plans.by_code(plan_in_force(
            &self.schedule,
            &self.initial_plan,
            &self.changes,
            period,
        ))
    }
}

/// One stored time entry.
#[derive(Debug, Clone, Serialize)]
pub struct TimeEntry {
    pub id: i64,
    pub ticket: i64,
    pub ticket_title: String,
    pub contract_id: i64,
    pub author: String,
    pub work_type: String,
    /// included or billable
    pub charge: String,
    /// none, hourly or emergency
    pub rate_kind: String,
    pub rate: Cents,
    pub actual: Minutes,
    /// What the entry added to the bill after rounding.
    pub billable: Minutes,
    pub work_date: Date,
    /// The period the entry draws from (the next one, for deferred work).
    pub period_start: Date,
    /// drawn, waiting (deferred) or none (billable work)
    pub bank_state: String,
    pub after_limit: Option<String>,
    pub note: String,
    pub created_at: i64,
}

/// Time to log, as a surface parsed it.
#[derive(Debug, Clone)]
pub struct LogTime {
    pub ticket: i64,
    pub actual: Minutes,
    /// A work type code as typed ("bug fix" and "bug-fix" are the same).
    pub work_type: String,
    pub note: String,
    /// The local date of the work; today in the client's zone when not given.
    pub work_date: Option<Date>,
    /// What to do with included work once the period's hours are used up.
    pub after_limit: Option<DepletedChoice>,
    /// The staff user who did the work (none when logged by a token or the system).
    pub user_id: Option<i64>,
}

/// What logging did.
#[derive(Debug, Clone, Serialize)]
pub struct Logged {
    pub entry: TimeEntry,
    /// Minutes from the bank and as overage (none for billable or deferred work).
    pub from_bank: Minutes,
    pub overage: Minutes,
    pub alerts: Vec<HourAlert>,
    pub period: BankPeriod,
    pub summary: PeriodSummary,
}

/// A ledger row as stored.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub id: i64,
    pub period_start: Date,
    pub kind: EntryKind,
    pub minutes: Minutes,
    pub lot: Option<Date>,
    pub reason: Option<String>,
    pub time_entry_id: Option<i64>,
    pub actor: String,
    pub created_at: i64,
}

/// One live contract's open period, for the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct BankGlance {
    pub client_slug: String,
    pub client_name: String,
    pub plan_code: String,
    pub period: BankPeriod,
    pub summary: PeriodSummary,
    pub share_used_percent: Option<u32>,
    pub forecast: Forecast,
}

/// A client's hour bank for one period, as the client page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HourBank {
    pub client_slug: String,
    pub client_name: String,
    pub contract_id: i64,
    pub plan_code: String,
    pub overage_rate: Cents,
    pub period: BankPeriod,
    pub closed: bool,
    pub summary: PeriodSummary,
    pub share_used_percent: Option<u32>,
    pub lots: Vec<Lot>,
    pub forecast: Forecast,
    pub alerts_fired: Vec<HoursThreshold>,
    pub today: Date,
}

/// One line of the SOP's hour tracking sheet.
#[derive(Debug, Clone, Serialize)]
pub struct SheetRow {
    pub date: Date,
    pub ticket: i64,
    pub task: String,
    pub work_type: String,
    pub actual: Minutes,
    pub time: Minutes,
    pub running_total: Minutes,
    pub note: String,
    /// included or billable
    pub charge: String,
    pub deferred: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub client_slug: String,
    pub client_name: String,
    pub period: BankPeriod,
    pub rows: Vec<SheetRow>,
    pub included: Minutes,
    pub billable: Minutes,
}

/// A period closed (or, in a dry run, that would close).
#[derive(Debug, Clone, Serialize)]
pub struct ClosedPeriod {
    pub contract_id: i64,
    pub client_slug: String,
    pub client_name: String,
    pub plan_code: String,
    pub next_plan_code: String,
    pub period: BankPeriod,
    pub unused: Minutes,
    pub carried: Minutes,
    pub carry_limit: CarryLimit,
    pub expired: Minutes,
    pub next: BankPeriod,
    pub next_grant: Minutes,
    /// Deferred included work drawn when the next period opened.
    pub deferred_drawn: Minutes,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CloseReport {
    pub dry_run: bool,
    /// Banks opened for contracts that had none.
    pub opened: usize,
    pub closed: Vec<ClosedPeriod>,
    /// Contracts whose close failed: (contract, why). Reported, never fatal to the rest.
    pub failed: Vec<(i64, String)>,
}

impl std::fmt::Display for CloseReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would close"
        } else {
            "closed"
        };
        write!(
            f,
            "{} {} period(s), opened {} bank(s)",
            verb,
            self.closed.len(),
            self.opened
        )?;
        if !self.failed.is_empty() {
            write!(f, ", {} failed", self.failed.len())?;
        }
        Ok(())
    }
}

/// One client's bill for a period, in cents.
#[derive(Debug, Clone, Serialize)]
pub struct BillingLine {
    pub client_slug: String,
    pub client_name: String,
    pub contract_id: i64,
    pub plan_code: String,
    pub period: BankPeriod,
    pub plan_fee: Cents,
    pub included_used: Minutes,
    pub overage: Minutes,
    pub overage_rate: Cents,
    pub overage_amount: Cents,
    pub emergency: Minutes,
    pub emergency_rate: Cents,
    pub emergency_amount: Cents,
    pub other_billable: Minutes,
    pub other_rate: Cents,
    pub other_amount: Cents,
    pub total: Cents,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Billing {
    /// The month asked for: each contract's period starting in it.
    pub month: String,
    pub lines: Vec<BillingLine>,
    pub total: Cents,
}

const SYSTEM_LABEL: &str = "month close";

/// Periods closed per transaction by the month close (small statements: binding
/// thousands of parameters to one statement costs more than it saves).
const CLOSE_BATCH: usize = 100;
/// Rows per multi-row INSERT.
const INSERT_BATCH: usize = 50;

/// `($first, …), (…)`: placeholders for `rows` rows of `width` columns, numbered from
/// `$first`.
fn values_sql(rows: usize, width: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols = (0..width)
                .map(|c| format!("${}", first + r * width + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({cols})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A period's ledger summed for one kind and lot: (kind, lot, positive sum, negative sum).
type KindSum = (EntryKind, Option<Date>, i64, i64);

/// Work deferred to the periods in `keys` (contract, period start) and not drawn yet:
/// (time entry, contract, billable minutes), oldest first.
async fn waiting_entries(tx: &mut Tx, keys: &[(i64, String)]) -> Result<Vec<(i64, i64, i64)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut starts: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    starts.sort_unstable();
    starts.dedup();
    let sql = format!(
        "SELECT id, contract_id, period_start, billable_minutes FROM time_entries \
         WHERE contract_id IN ({}) AND period_start IN ({}) AND bank_state = 'waiting' ORDER BY id",
        placeholders(keys.len(), 1),
        placeholders(starts.len(), keys.len() + 1)
    );
    let rows: Vec<(i64, i64, String, i64)> = with_tx!(tx, c => {
        let mut q = sqlx::query_as(&sql);
        for (id, _) in keys {
            q = q.bind(*id);
        }
        for start in &starts {
            q = q.bind(*start);
        }
        q.fetch_all(&mut *c).await
    })?;
    let wanted: std::collections::HashSet<(i64, &str)> =
        keys.iter().map(|(id, s)| (*id, s.as_str())).collect();
    Ok(rows
        .into_iter()
        .filter(|r| wanted.contains(&(r.1, r.2.as_str())))
        .map(|(id, contract, _, minutes)| (id, contract, minutes))
        .collect())
}

/// The ledger sums (see migration 0014) of each (contract, period) in `keys`, by
/// contract. Reads the few summed rows per period, never the entries themselves.
async fn ledger_sums_of(tx: &mut Tx, keys: &[(i64, String)]) -> Result<HashMap<i64, Vec<KindSum>>> {
    let mut out: HashMap<i64, Vec<KindSum>> = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let mut starts: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
    starts.sort_unstable();
    starts.dedup();
    let sql = format!(
        "SELECT contract_id, period_start, kind, lot, plus, minus FROM ledger_sums \
         WHERE contract_id IN ({}) AND period_start IN ({})",
        placeholders(keys.len(), 1),
        placeholders(starts.len(), keys.len() + 1)
    );
    let rows: Vec<(i64, String, String, String, i64, i64)> = with_tx!(tx, c => {
        let mut q = sqlx::query_as(&sql);
        for (id, _) in keys {
            q = q.bind(*id);
        }
        for start in &starts {
            q = q.bind(*start);
        }
        q.fetch_all(&mut *c).await
    })?;
    let wanted: std::collections::HashSet<(i64, &str)> =
        keys.iter().map(|(id, s)| (*id, s.as_str())).collect();
    for (id, start, kind, lot, plus, minus) in rows {
        if !wanted.contains(&(id, start.as_str())) {
            continue;
        }
        let kind = parsed("kind", EntryKind::parse(&kind))?;
        let lot = match lot.as_str() {
            "" => None,
            l => Some(date_col("lot", l)?),
        };
        out.entry(id).or_default().push((kind, lot, plus, minus));
    }
    Ok(out)
}

/// A period's entries rebuilt from sums by kind and lot (positive and negative apart),
/// in an order the ledger's checks accept: what fills each lot before what draws it,
/// overage before its corrections. Balances, lots and the summary are the same as the
/// entries' own; this is what the month close needs, without reading every entry.
fn summed_entries(period: Date, sums: Vec<KindSum>) -> Vec<Entry> {
    let entry = |kind, minutes, lot| Entry {
        period,
        kind,
        minutes: Minutes(minutes),
        lot,
        reason: matches!(kind, EntryKind::Adjustment | EntryKind::Correction)
            .then(|| "summed".to_string()),
    };
    let mut fills = Vec::new();
    let mut draws = Vec::new();
    let mut overage = Vec::new();
    let mut overage_back = Vec::new();
    for (kind, lot, pos, neg) in sums {
        let grant_first = usize::from(kind != EntryKind::Grant);
        match lot {
            Some(_) => {
                if pos != 0 || (neg == 0 && kind != EntryKind::Expiry) {
                    fills.push((grant_first, entry(kind, pos, lot)));
                }
                if neg != 0 || (pos == 0 && kind == EntryKind::Expiry) {
                    draws.push(entry(kind, neg, lot));
                }
            }
            None => {
                if neg != 0 {
                    overage.push(entry(kind, neg, None));
                }
                if pos != 0 {
                    overage_back.push(entry(kind, pos, None));
                }
            }
        }
    }
    fills.sort_by_key(|(order, e)| (*order, e.lot));
    let mut out: Vec<Entry> = fills.into_iter().map(|(_, e)| e).collect();
    out.extend(draws);
    out.extend(overage);
    out.extend(overage_back);
    out
}

fn date_col(column: &str, raw: &str) -> Result<Date, sqlx::Error> {
    parsed(column, raw.parse::<Date>())
}

/// `2026-11` or a date inside the period (`2026-11-15`), as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodPick {
    /// The period that starts in this month (year, month).
    Month(i16, i8),
    /// The period holding this date.
    Holding(Date),
}

impl PeriodPick {
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        let t = raw.trim();
        if let Ok(d) = t.parse::<Date>() {
            return Ok(PeriodPick::Holding(d));
        }
        let bad = || format!("\"{t}\" is not a period: use a month like 2026-11 or a date");
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        let (y, m): (i16, i8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(1..=12).contains(&m) || !(1900..=9999).contains(&y) || t.len() != 7 {
            return Err(bad());
        }
        Ok(PeriodPick::Month(y, m))
    }

    /// The contract's period this pick names.
    pub fn resolve(&self, schedule: &PeriodSchedule) -> Option<BankPeriod> {
        match *self {
            PeriodPick::Holding(d) => schedule.containing(d).or_else(|| schedule.first()),
            PeriodPick::Month(y, m) => {
                let first = Date::new(y, m, 1).ok()?;
                let p = schedule.containing(first).or_else(|| schedule.first())?;
                if p.start.year() == y && p.start.month() == m {
                    Some(p)
                } else {
                    schedule.after(&p)
                }
            }
        }
    }

    pub fn month_text(&self) -> String {
        match *self {
            PeriodPick::Month(y, m) => format!("{y:04}-{m:02}"),
            PeriodPick::Holding(d) => d.to_string(),
        }
    }
}

/// The default work types (the SOP's) for a new plan, inside the caller's transaction.
pub(crate) async fn seed_work_types(tx: &mut Tx, plan_id: i64) -> Result<()> {
    for (i, t) in default_work_types().iter().enumerate() {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO work_types (plan_id, code, label, coverage, rate_kind, position) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (plan_id, code) DO NOTHING")
            .bind(plan_id)
            .bind(t.code.as_str())
            .bind(&t.label)
            .bind(t.coverage.as_str())
            .bind(t.rate.as_str())
            .bind(i as i64 + 1)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

type LedgerTuple = (
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    String,
    i64,
);

/// id, client id, client name, slug, owner, timezone, start date, current plan code.
type ContractTuple = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    String,
    String,
    String,
);

fn ledger_row(t: LedgerTuple) -> Result<LedgerRow> {
    let (id, period, kind, minutes, lot, reason, time_entry_id, actor, created_at) = t;
    Ok(LedgerRow {
        id,
        period_start: date_col("period_start", &period)?,
        kind: parsed("kind", EntryKind::parse(&kind))?,
        minutes: Minutes(minutes),
        lot: lot.map(|l| date_col("lot", &l)).transpose()?,
        reason,
        time_entry_id,
        actor,
        created_at,
    })
}

fn as_entry(r: &LedgerRow) -> Entry {
    Entry {
        period: r.period_start,
        kind: r.kind,
        minutes: r.minutes,
        lot: r.lot,
        reason: r.reason.clone(),
    }
}

const LEDGER_COLUMNS: &str =
    "id, period_start, kind, minutes, lot, reason, time_entry_id, actor_label, created_at";

async fn period_entries_tx(tx: &mut Tx, contract: i64, period: Date) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT {LEDGER_COLUMNS} FROM ledger_entries WHERE contract_id = $1 AND period_start = $2 ORDER BY id"
    );
    let rows: Vec<LedgerTuple> = with_tx!(tx, c => sqlx::query_as(&sql)
        .bind(contract).bind(period.to_string()).fetch_all(&mut *c).await)?;
    rows.into_iter()
        .map(|t| ledger_row(t).map(|r| as_entry(&r)))
        .collect()
}

async fn write_entries(
    tx: &mut Tx,
    contract: i64,
    entries: &[Entry],
    time_entry: Option<i64>,
    actor: &str,
    now: i64,
) -> Result<()> {
    for e in entries {
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO ledger_entries (contract_id, period_start, kind, minutes, lot, reason, time_entry_id, actor_label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(contract)
            .bind(e.period.to_string())
            .bind(e.kind.as_str())
            .bind(e.minutes.0)
            .bind(e.lot.map(|l| l.to_string()))
            .bind(&e.reason)
            .bind(time_entry)
            .bind(actor)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The contract's open period, locked for this transaction (see the module docs).
async fn lock_open_period(tx: &mut Tx, contract: i64) -> Result<Option<(BankPeriod, i64)>> {
    let row: Option<(String, String, i64)> = with_tx!(tx, c => sqlx::query_as(
        "UPDATE hour_periods SET opened_at = opened_at WHERE contract_id = $1 AND closed_at IS NULL \
         RETURNING period_start, period_end, plan_id")
        .bind(contract)
        .fetch_optional(&mut *c)
        .await)?;
    row.map(|(s, e, plan)| {
        Ok((
            BankPeriod {
                start: date_col("period_start", &s)?,
                end: date_col("period_end", &e)?,
            },
            plan,
        ))
    })
    .transpose()
}

fn ledger_invalid(e: ledger::LedgerError, field: &str) -> StoreError {
    StoreError::invalid(field, e.to_string())
}

fn hours(m: Minutes) -> String {
    m.as_hours_text()
}

impl Store {
    /// Every plan with its rounding and work types.
    pub async fn bank_plans(&self) -> Result<BankPlans> {
        let plans = self.list_plans().await?;
        let rounding: Vec<(i64, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT id, rounding_mode, rounding_minimum_minutes FROM plans").fetch_all(p).await)?;
        let types: Vec<(i64, String, String, String, String)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT plan_id, code, label, coverage, rate_kind FROM work_types ORDER BY plan_id, position, id")
            .fetch_all(p).await)?;
        let mut by_id = HashMap::new();
        for plan in plans {
            let (mode, minimum) = rounding
                .iter()
                .find(|r| r.0 == plan.id)
                .map(|r| (r.1.clone(), r.2))
                .unwrap_or_else(|| ("each-entry".into(), 0));
            let mode = parsed("rounding_mode", RoundingMode::parse(&mode))?;
            let rule = RoundingRule::new(plan.terms.increment, mode, Minutes(minimum))
                .unwrap_or_else(|_| RoundingRule::for_plan(&plan.terms));
            let mut work_types = Vec::new();
            for (_, code, label, coverage, rate) in types.iter().filter(|t| t.0 == plan.id) {
                let code = parsed("code", WorkTypeCode::parse(code))?;
                let coverage = parsed("coverage", Coverage::parse(coverage))?;
                let rate = parsed("rate_kind", RateKind::parse(rate))?;
                work_types.push(parsed(
                    "work_types",
                    WorkType::new(code, label.clone(), coverage, rate),
                )?);
            }
            by_id.insert(
                plan.id,
                BankPlan {
                    id: plan.id,
                    terms: plan.terms,
                    rounding: rule,
                    work_types,
                },
            );
        }
        Ok(BankPlans { by_id })
    }

    /// Live contracts (all, or one) with their clients and plan histories.
    async fn bank_contracts(&self, only: Option<i64>) -> Result<Vec<BankContract>> {
        let ended = ended_contract_states();
        let only = only.unwrap_or(0);
        let rows: Vec<ContractTuple> = with_pool!(&self.db, p => sqlx::query_as(&format!(
            "SELECT ct.id, ct.client_id, cl.name, cl.slug, cl.owner_id, cl.timezone, ct.start_date, p.code \
             FROM contracts ct JOIN clients cl ON cl.id = ct.client_id JOIN plans p ON p.id = ct.plan_id \
             WHERE cl.deleted_at IS NULL AND ct.state NOT IN ({ended}) AND ($1 = 0 OR ct.id = $1) ORDER BY ct.id"))
            .bind(only).fetch_all(p).await)?;
        let history: Vec<(i64, String, String, Option<i64>)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT h.contract_id, p.code, h.effective_date, h.from_plan_id \
             FROM contract_plan_changes h JOIN plans p ON p.id = h.to_plan_id \
             WHERE ($1 = 0 OR h.contract_id = $1) ORDER BY h.contract_id, h.id")
            .bind(only).fetch_all(p).await)?;
        let mut by_contract: HashMap<i64, Vec<(String, String, bool)>> = HashMap::new();
        for (contract, code, effective, from) in history {
            by_contract
                .entry(contract)
                .or_default()
                .push((code, effective, from.is_none()));
        }
        let mut out = Vec::with_capacity(rows.len());
        for (id, client_id, name, slug, owner, timezone, start, current_plan) in rows {
            let start = date_col("start_date", &start)?;
            let tz = TimeZone::get(&timezone).unwrap_or(TimeZone::UTC);
            let hist = by_contract.remove(&id).unwrap_or_default();
            let initial = hist
                .iter()
                .find(|h| h.2)
                .map(|h| h.0.clone())
                .unwrap_or_else(|| current_plan.clone());
            let mut changes = Vec::new();
            for (code, effective, first) in hist {
                if first {
                    continue;
                }
                changes.push(PlanChange {
                    requested_on: date_col("effective_date", &effective)?,
                    plan_code: code,
                });
            }
            out.push(BankContract {
                id,
                client_id,
                client_name: name,
                client_slug: slug,
                client_owner: owner,
                timezone,
                tz,
                schedule: PeriodSchedule::new(start),
                initial_plan: initial,
                changes,
            });
        }
        Ok(out)
    }

    /// The live contract of a client, by slug.
    pub async fn bank_contract_of(&self, slug: &str) -> Result<BankContract> {
        let client = self.client_by_slug(slug, false).await?;
        self.bank_contract_of_client(client.id).await
    }

    async fn bank_contract_of_client(&self, client_id: i64) -> Result<BankContract> {
        let ended = ended_contract_states();
        let id: Option<i64> = with_pool!(&self.db, p => sqlx::query_scalar(&format!(
            "SELECT id FROM contracts WHERE client_id = $1 AND state NOT IN ({ended}) ORDER BY id DESC LIMIT 1"))
            .bind(client_id).fetch_optional(p).await)?;
        let id = id.ok_or_else(|| {
            StoreError::Guarded("this client has no live contract, so it has no hour bank".into())
        })?;
        self.bank_contracts(Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("contract"))
    }

    /// Opens the contract's bank (its first period and grant) if it has none yet: the
    /// period holding `today`, or the first one for a contract that has not started.
    async fn ensure_bank(
        &self,
        contract: &BankContract,
        plans: &BankPlans,
        today: Date,
        now: i64,
    ) -> Result<bool> {
        let period = contract
            .schedule
            .containing(today)
            .or_else(|| contract.schedule.first())
            .ok_or_else(|| {
                StoreError::invalid("start_date", "the contract's dates are out of range")
            })?;
        let plan = contract.plan_for(plans, &period)?;
        let mut tx = self.begin().await?;
        // One statement, so it takes the write lock at once; the primary key keeps two
        // openers of the same period to one row.
        let inserted = with_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO hour_periods (contract_id, period_start, period_end, plan_id, opened_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM hour_periods WHERE contract_id = $1) \
             ON CONFLICT (contract_id, period_start) DO NOTHING")
            .bind(contract.id)
            .bind(period.start.to_string())
            .bind(period.end.to_string())
            .bind(plan.id)
            .bind(now)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if inserted == 1 {
            let grant = opening_grant(&plan.terms, &period);
            write_entries(&mut tx, contract.id, &[grant], None, SYSTEM_LABEL, now).await?;
        }
        tx.commit().await?;
        Ok(inserted == 1)
    }

    /// Closes every period of the contract that has ended by `today` (oldest first), each
    /// in its own transaction. Returns what was closed here (not by another instance).
    async fn close_due_periods(
        &self,
        contract: &BankContract,
        plans: &BankPlans,
        today: Date,
        now: i64,
    ) -> Result<Vec<ClosedPeriod>> {
        let mut out = Vec::new();
        loop {
            let open: Option<(String, String)> = with_pool!(&self.db, p => sqlx::query_as(
                "SELECT period_start, period_end FROM hour_periods WHERE contract_id = $1 AND closed_at IS NULL \
                 ORDER BY period_start LIMIT 1")
                .bind(contract.id).fetch_optional(p).await)?;
            let Some((start, end)) = open else { break };
            if date_col("period_end", &end)? > today {
                break;
            }
            let mut tx = self.begin().await?;
            match self
                .close_one(&mut tx, contract, plans, &start, now)
                .await?
            {
                Some(closed) => {
                    tx.commit().await?;
                    out.push(closed);
                }
                // Another transaction closed it first; look again.
                None => drop(tx),
            }
        }
        Ok(out)
    }

    /// Closes the contract's open period starting `start` inside `tx`: marks it closed (once: the
    /// `WHERE closed_at IS NULL` makes a second closer change nothing), writes the
    /// close's entries, opens the next period and draws the work deferred to it.
    async fn close_one(
        &self,
        tx: &mut Tx,
        contract: &BankContract,
        plans: &BankPlans,
        start: &str,
        now: i64,
    ) -> Result<Option<ClosedPeriod>> {
        let row: Option<(String, String, i64)> = with_tx!(tx, c => sqlx::query_as(
            "UPDATE hour_periods SET closed_at = $2 WHERE contract_id = $1 AND period_start = $3 AND closed_at IS NULL \
             RETURNING period_start, period_end, plan_id")
            .bind(contract.id).bind(now).bind(start).fetch_optional(&mut *c).await)?;
        let Some((start, end, plan_id)) = row else {
            return Ok(None);
        };
        let period = BankPeriod {
            start: date_col("period_start", &start)?,
            end: date_col("period_end", &end)?,
        };
        let closing = plans.get(plan_id)?;
        let entries = period_entries_tx(tx, contract.id, period.start).await?;
        let next = contract
            .schedule
            .after(&period)
            .ok_or_else(|| StoreError::invalid("period", "the next period is out of range"))?;
        let next_plan = contract.plan_for(plans, &next)?;
        let outcome = close_period(
            &contract.schedule,
            &period,
            &closing.terms,
            &next_plan.terms,
            &entries,
        )
        .map_err(|e| StoreError::Guarded(format!("contract {}: {e}", contract.id)))?;
        let CloseOutcome::Closed(close) = outcome else {
            return Err(StoreError::Guarded(format!(
                "contract {}: the ledger of the period starting {} is closed but its period is not",
                contract.id, period.start
            )));
        };
        write_entries(tx, contract.id, &close.entries, None, SYSTEM_LABEL, now).await?;
        with_tx!(tx, c => sqlx::query(
            "INSERT INTO hour_periods (contract_id, period_start, period_end, plan_id, opened_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (contract_id, period_start) DO NOTHING")
            .bind(contract.id)
            .bind(next.start.to_string())
            .bind(next.end.to_string())
            .bind(next_plan.id)
            .bind(now)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        // Work deferred to the next period is drawn as soon as it opens, oldest first.
        let waiting: Vec<(i64, i64)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT id, billable_minutes FROM time_entries WHERE contract_id = $1 AND period_start = $2 AND bank_state = 'waiting' ORDER BY id")
            .bind(contract.id).bind(next.start.to_string()).fetch_all(&mut *c).await)?;
        let mut deferred_drawn = 0;
        if !waiting.is_empty() {
            let mut next_entries: Vec<Entry> = close
                .entries
                .iter()
                .filter(|e| e.period == next.start)
                .cloned()
                .collect();
            for (id, minutes) in waiting {
                let draw = ledger::draw(next.start, &next_entries, Minutes(minutes))
                    .map_err(|e| ledger_invalid(e, "minutes"))?;
                let rows = draw.entries();
                write_entries(tx, contract.id, &rows, Some(id), SYSTEM_LABEL, now).await?;
                next_entries.extend(rows);
                deferred_drawn += minutes;
                with_tx!(tx, c => sqlx::query("UPDATE time_entries SET bank_state = 'drawn' WHERE id = $1")
                    .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
            }
        }
        Ok(Some(ClosedPeriod {
            contract_id: contract.id,
            client_slug: contract.client_slug.clone(),
            client_name: contract.client_name.clone(),
            plan_code: closing.terms.code.clone(),
            next_plan_code: next_plan.terms.code.clone(),
            period,
            unused: close.unused,
            carried: close.carried,
            carry_limit: close.carry_limit,
            expired: close.expired,
            next,
            next_grant: close.grant,
            deferred_drawn: Minutes(deferred_drawn),
        }))
    }

    /// What closing the contract's due periods would do, writing nothing.
    async fn preview_closes(
        &self,
        contract: &BankContract,
        plans: &BankPlans,
        today: Date,
    ) -> Result<Vec<ClosedPeriod>> {
        let open: Option<(String, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT period_start, period_end, plan_id FROM hour_periods WHERE contract_id = $1 AND closed_at IS NULL \
             ORDER BY period_start LIMIT 1")
            .bind(contract.id).fetch_optional(p).await)?;
        let (mut period, mut plan, mut entries) = match open {
            Some((s, e, plan_id)) => {
                let period = BankPeriod {
                    start: date_col("period_start", &s)?,
                    end: date_col("period_end", &e)?,
                };
                let entries = self.period_entries(contract.id, period.start).await?;
                (period, plans.get(plan_id)?, entries)
            }
            // A bank not opened yet opens with the period holding today: nothing to close.
            None => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        while period.end <= today {
            let Some(next) = contract.schedule.after(&period) else {
                break;
            };
            let next_plan = contract.plan_for(plans, &next)?;
            let outcome = close_period(
                &contract.schedule,
                &period,
                &plan.terms,
                &next_plan.terms,
                &entries,
            )
            .map_err(|e| StoreError::Guarded(format!("contract {}: {e}", contract.id)))?;
            let CloseOutcome::Closed(close) = outcome else {
                break;
            };
            out.push(ClosedPeriod {
                contract_id: contract.id,
                client_slug: contract.client_slug.clone(),
                client_name: contract.client_name.clone(),
                plan_code: plan.terms.code.clone(),
                next_plan_code: next_plan.terms.code.clone(),
                period,
                unused: close.unused,
                carried: close.carried,
                carry_limit: close.carry_limit,
                expired: close.expired,
                next,
                next_grant: close.grant,
                deferred_drawn: Minutes(0),
            });
            entries = close
                .entries
                .into_iter()
                .filter(|e| e.period == next.start)
                .collect();
            period = next;
            plan = next_plan;
        }
        Ok(out)
    }

    /// Brings one contract's bank up to date as of `now`: opens it, closes what ended.
    async fn bring_up_to_date(
        &self,
        contract: &BankContract,
        plans: &BankPlans,
        now: Timestamp,
    ) -> Result<(bool, Vec<ClosedPeriod>)> {
        let today = contract.today(now);
        let ms = now.as_millisecond();
        let opened = self.ensure_bank(contract, plans, today, ms).await?;
        let closed = self.close_due_periods(contract, plans, today, ms).await?;
        Ok((opened, closed))
    }

    /// The month close for every live contract as of `now`: opens banks that have no
    /// period yet, then closes every period that has ended in its client's timezone,
    /// oldest first (backfilling after downtime). With `dry_run`, only reports what it
    /// would close and writes nothing. Safe to run twice, and from several instances.
    pub async fn close_month(&self, now: Timestamp, dry_run: bool) -> Result<CloseReport> {
        let plans = self.bank_plans().await?;
        let mut report = CloseReport {
            dry_run,
            ..Default::default()
        };
        // Only contracts with something to do: no bank yet, or an open period ending by
        // tomorrow in UTC (every zone's today is at most a day ahead of UTC's).
        let horizon = now
            .to_zoned(TimeZone::UTC)
            .date()
            .tomorrow()
            .map(|d| d.to_string())
            .unwrap_or_else(|_| "9999-12-31".into());
        let ended = ended_contract_states();
        // Two set queries rather than EXISTS per contract: SQLite answered the correlated
        // form through the open-periods index, one scan of every open period per
        // contract, which made the close quadratic in the number of contracts.
        let due: Vec<i64> = with_pool!(&self.db, p => sqlx::query_scalar(&format!(
            "SELECT ct.id FROM contracts ct WHERE ct.state NOT IN ({ended}) \
               AND ct.id NOT IN (SELECT contract_id FROM hour_periods) \
             UNION \
             SELECT ct.id FROM contracts ct JOIN hour_periods h ON h.contract_id = ct.id \
             WHERE ct.state NOT IN ({ended}) AND h.closed_at IS NULL AND h.period_end <= $1"))
            .bind(&horizon).fetch_all(p).await)?;
        if due.is_empty() {
            return Ok(report);
        }
        let due: std::collections::HashSet<i64> = due.into_iter().collect();
        let contracts = self.bank_contracts(None).await?;
        if dry_run {
            for contract in contracts.iter().filter(|c| due.contains(&c.id)) {
                match self
                    .preview_closes(contract, &plans, contract.today(now))
                    .await
                {
                    Ok(closed) => report.closed.extend(closed),
                    Err(e) => report.failed.push((contract.id, e.to_string())),
                }
            }
            return Ok(report);
        }
        let ms = now.as_millisecond();
        let by_id: HashMap<i64, &BankContract> = contracts
            .iter()
            .filter(|c| due.contains(&c.id))
            .map(|c| (c.id, c))
            .collect();
        // Banks that were never opened: the first period holding today (few, and each
        // once in a contract's life).
        let opened: Vec<i64> = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT DISTINCT contract_id FROM hour_periods").fetch_all(p).await)?;
        let opened: std::collections::HashSet<i64> = opened.into_iter().collect();
        for contract in by_id.values().filter(|c| !opened.contains(&c.id)) {
            match self
                .ensure_bank(contract, &plans, contract.today(now), ms)
                .await
            {
                Ok(o) => report.opened += usize::from(o),
                Err(e) => report.failed.push((contract.id, e.to_string())),
            }
        }
        self.close_due_batched(&by_id, &plans, now, &horizon, &mut report)
            .await?;
        Ok(report)
    }

    /// Closes every due period of `contracts` in batches: each batch claims its periods
    /// with one `UPDATE ... WHERE closed_at IS NULL RETURNING` (so a period another
    /// closer took is skipped), reads their ledgers summed by kind and lot, lets the
    /// domain close each, and writes all the entries and next periods with multi-row
    /// inserts, in one transaction. Passes repeat until nothing is due, so missed months
    /// close oldest first.
    async fn close_due_batched(
        &self,
        contracts: &HashMap<i64, &BankContract>,
        plans: &BankPlans,
        now: Timestamp,
        horizon: &str,
        report: &mut CloseReport,
    ) -> Result<()> {
        let ms = now.as_millisecond();
        let mut failed: std::collections::HashSet<i64> =
            report.failed.iter().map(|f| f.0).collect();
        loop {
            let open: Vec<(i64, String, String)> = with_pool!(&self.db, p => sqlx::query_as(
                "SELECT contract_id, period_start, period_end FROM hour_periods WHERE closed_at IS NULL AND period_end <= $1 ORDER BY contract_id")
                .bind(horizon).fetch_all(p).await)?;
            let mut due = Vec::new();
            for (id, start, end) in open {
                let Some(c) = contracts.get(&id) else {
                    continue;
                };
                if failed.contains(&id) || date_col("period_end", &end)? > c.today(now) {
                    continue;
                }
                due.push((id, start));
            }
            if due.is_empty() {
                return Ok(());
            }
            for batch in due.chunks(CLOSE_BATCH) {
                let closed = self
                    .close_batch(batch, contracts, plans, ms, &mut failed, report)
                    .await?;
                report.closed.extend(closed);
            }
        }
    }

    async fn close_batch(
        &self,
        batch: &[(i64, String)],
        contracts: &HashMap<i64, &BankContract>,
        plans: &BankPlans,
        ms: i64,
        failed: &mut std::collections::HashSet<i64>,
        report: &mut CloseReport,
    ) -> Result<Vec<ClosedPeriod>> {
        let mut tx = self.begin().await?;
        let pairs = values_sql(batch.len(), 2, 2);
        // The contract list lets both engines reach the rows through the primary key;
        // the pairs then pick each contract's period exactly.
        let ids = placeholders(batch.len(), 2 + 2 * batch.len());
        // On PostgreSQL the rows are locked in one order and those another transaction
        // holds are skipped (the next pass takes them if still open), so two closers
        // never wait on each other in a cycle. SQLite has one writer at a time.
        let sql = match self.db {
            crate::Db::Pg(_) => format!(
                "UPDATE hour_periods SET closed_at = $1 WHERE (contract_id, period_start) IN ( \
                   SELECT contract_id, period_start FROM hour_periods WHERE closed_at IS NULL \
                   AND contract_id IN ({ids}) AND (contract_id, period_start) IN (VALUES {pairs}) \
                   ORDER BY contract_id, period_start FOR UPDATE SKIP LOCKED) \
                 RETURNING contract_id, period_start, period_end, plan_id"
            ),
            crate::Db::Sqlite(_) => format!(
                // `+closed_at` keeps SQLite off the open-periods index (which would scan
                // every open period per batch) and on the primary key.
                "UPDATE hour_periods SET closed_at = $1 WHERE +closed_at IS NULL AND contract_id IN ({ids}) \
                 AND (contract_id, period_start) IN (VALUES {pairs}) \
                 RETURNING contract_id, period_start, period_end, plan_id"
            ),
        };
        let claimed: Vec<(i64, String, String, i64)> = with_tx!(&mut tx, c => {
            let mut q = sqlx::query_as(&sql).bind(ms);
            for (id, start) in batch {
                q = q.bind(*id).bind(start.as_str());
            }
            for (id, _) in batch {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await
        })?;
        if claimed.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let keys: Vec<(i64, String)> = claimed.iter().map(|c| (c.0, c.1.clone())).collect();
        let mut sums_of = ledger_sums_of(&mut tx, &keys).await?;

        let mut closes = Vec::new();
        let mut reopen = Vec::new();
        for (id, start, end, plan_id) in &claimed {
            let outcome = (|| -> Result<(ClosedPeriod, Vec<Entry>, BankPeriod, i64)> {
                let contract = contracts.get(id).ok_or(StoreError::NotFound("contract"))?;
                let period = BankPeriod {
                    start: date_col("period_start", start)?,
                    end: date_col("period_end", end)?,
                };
                let closing = plans.get(*plan_id)?;
                let next = contract.schedule.after(&period).ok_or_else(|| {
                    StoreError::invalid("period", "the next period is out of range")
                })?;
                let next_plan = contract.plan_for(plans, &next)?;
                let entries = summed_entries(period.start, sums_of.remove(id).unwrap_or_default());
                let outcome = close_period(
                    &contract.schedule,
                    &period,
                    &closing.terms,
                    &next_plan.terms,
                    &entries,
                )
                .map_err(|e| StoreError::Guarded(e.to_string()))?;
                let CloseOutcome::Closed(close) = outcome else {
                    return Err(StoreError::Guarded(format!(
                        "the ledger of the period starting {} is closed but its period is not",
                        period.start
                    )));
                };
                Ok((
                    ClosedPeriod {
                        contract_id: contract.id,
                        client_slug: contract.client_slug.clone(),
                        client_name: contract.client_name.clone(),
                        plan_code: closing.terms.code.clone(),
                        next_plan_code: next_plan.terms.code.clone(),
                        period,
                        unused: close.unused,
                        carried: close.carried,
                        carry_limit: close.carry_limit,
                        expired: close.expired,
                        next,
                        next_grant: close.grant,
                        deferred_drawn: Minutes(0),
                    },
                    close.entries,
                    next,
                    next_plan.id,
                ))
            })();
            match outcome {
                Ok(c) => closes.push(c),
                Err(e) => {
                    failed.insert(*id);
                    report.failed.push((*id, e.to_string()));
                    reopen.push((*id, start.clone()));
                }
            }
        }
        // A period the domain refused to close stays open, for a person to look at.
        for (id, start) in &reopen {
            with_tx!(&mut tx, c => sqlx::query(
                "UPDATE hour_periods SET closed_at = NULL WHERE contract_id = $1 AND period_start = $2")
                .bind(*id).bind(start.as_str()).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        if closes.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }

        // Work deferred to the next periods, drawn as they open.
        let next_keys: Vec<(i64, String)> = closes
            .iter()
            .map(|c| (c.0.contract_id, c.2.start.to_string()))
            .collect();
        let waiting = waiting_entries(&mut tx, &next_keys).await?;
        let mut rows: Vec<(i64, Entry, Option<i64>)> = Vec::new();
        let mut drawn_ids = Vec::new();
        let mut out = Vec::with_capacity(closes.len());
        for (mut closed, entries, next, _) in closes.iter().cloned() {
            let mut next_entries: Vec<Entry> = entries
                .iter()
                .filter(|e| e.period == next.start)
                .cloned()
                .collect();
            rows.extend(entries.into_iter().map(|e| (closed.contract_id, e, None)));
            for (te, _, minutes) in waiting.iter().filter(|w| w.1 == closed.contract_id) {
                let draw = ledger::draw(next.start, &next_entries, Minutes(*minutes))
                    .map_err(|e| ledger_invalid(e, "minutes"))?;
                let drawn = draw.entries();
                next_entries.extend(drawn.iter().cloned());
                rows.extend(
                    drawn
                        .into_iter()
                        .map(|e| (closed.contract_id, e, Some(*te))),
                );
                closed.deferred_drawn.0 += minutes;
                drawn_ids.push(*te);
            }
            out.push(closed);
        }
        for chunk in rows.chunks(INSERT_BATCH) {
            let sql = format!(
                "INSERT INTO ledger_entries (contract_id, period_start, kind, minutes, lot, reason, time_entry_id, actor_label, created_at) VALUES {}",
                values_sql(chunk.len(), 9, 1)
            );
            with_tx!(&mut tx, c => {
                let mut q = sqlx::query(&sql);
                for (id, e, te) in chunk {
                    q = q
                        .bind(*id)
                        .bind(e.period.to_string())
                        .bind(e.kind.as_str())
                        .bind(e.minutes.0)
                        .bind(e.lot.map(|l| l.to_string()))
                        .bind(e.reason.clone())
                        .bind(*te)
                        .bind(SYSTEM_LABEL)
                        .bind(ms);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
        }
        for chunk in closes.chunks(INSERT_BATCH) {
            let sql = format!(
                "INSERT INTO hour_periods (contract_id, period_start, period_end, plan_id, opened_at) VALUES {} \
                 ON CONFLICT (contract_id, period_start) DO NOTHING",
                values_sql(chunk.len(), 5, 1)
            );
            with_tx!(&mut tx, c => {
                let mut q = sqlx::query(&sql);
                for (closed, _, next, plan_id) in chunk {
                    q = q
                        .bind(closed.contract_id)
                        .bind(next.start.to_string())
                        .bind(next.end.to_string())
                        .bind(*plan_id)
                        .bind(ms);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
        }
        for chunk in drawn_ids.chunks(INSERT_BATCH) {
            let list = placeholders(chunk.len(), 2);
            let sql = format!("UPDATE time_entries SET bank_state = $1 WHERE id IN ({list})");
            with_tx!(&mut tx, c => {
                let mut q = sqlx::query(&sql).bind("drawn");
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// A period's ledger entries, oldest first.
    pub async fn period_entries(&self, contract: i64, period: Date) -> Result<Vec<Entry>> {
        Ok(self
            .ledger_rows(contract, period)
            .await?
            .iter()
            .map(as_entry)
            .collect())
    }

    /// A period's ledger rows as stored, oldest first.
    pub async fn ledger_rows(&self, contract: i64, period: Date) -> Result<Vec<LedgerRow>> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM ledger_entries WHERE contract_id = $1 AND period_start = $2 ORDER BY id"
        );
        let rows: Vec<LedgerTuple> = with_pool!(&self.db, p => sqlx::query_as(&sql)
            .bind(contract).bind(period.to_string()).fetch_all(p).await)?;
        rows.into_iter().map(ledger_row).collect()
    }

    /// Every ledger entry of a contract, oldest first.
    pub async fn contract_ledger(&self, contract: i64) -> Result<Vec<LedgerRow>> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM ledger_entries WHERE contract_id = $1 ORDER BY id"
        );
        let rows: Vec<LedgerTuple> = with_pool!(&self.db, p => sqlx::query_as(&sql)
            .bind(contract).fetch_all(p).await)?;
        rows.into_iter().map(ledger_row).collect()
    }

    /// Logs time on a ticket (see the module docs): rounds it by the plan of the period,
    /// draws included work from the bank (oldest lots first, overage beyond), fires the
    /// 75 % and 100 % alerts once per period, all in one transaction with the audit row.
    /// Once the period's hours are used up, included work needs `after_limit`.
    pub async fn log_time(&self, actor: &Actor, input: &LogTime, now: Timestamp) -> Result<Logged> {
        let ticket = self.ticket(input.ticket).await?;
        if input.actual.0 <= 0 {
            return Err(StoreError::invalid(
                "minutes",
                "the minutes must be more than zero",
            ));
        }
        if input.actual > tend_domain::rounding::LONGEST_ENTRY {
            return Err(StoreError::invalid(
                "minutes",
                "more than 24h; log longer work as one entry per day",
            ));
        }
        let note = input.note.trim();
        if note.chars().count() > 2000 {
            return Err(StoreError::invalid(
                "note",
                "must be at most 2000 characters",
            ));
        }
        let contract = self.bank_contract_of_client(ticket.client_id).await?;
        let plans = self.bank_plans().await?;
        self.bring_up_to_date(&contract, &plans, now).await?;
        let today = contract.today(now);
        let work_date = input.work_date.unwrap_or(today);
        let ms = now.as_millisecond();

        let mut tx = self.begin().await?;
        let (period, plan_id) = lock_open_period(&mut tx, contract.id)
            .await?
            .ok_or(StoreError::NotFound("open hour-bank period"))?;
        let plan = plans.get(plan_id)?;
        let work_type = find_work_type(&plan.work_types, &input.work_type)
            .map_err(|e| StoreError::invalid("work_type", e.to_string()))?;
        let charge = work_type.charge_on(&plan.terms);
        let (charge_name, rate_kind, rate) = match charge {
            Charge::Included => ("included", RateKind::None, Cents(0)),
            Charge::Billable { rate_kind, rate } => ("billable", rate_kind, rate),
        };

        // Rounding: the ticket's entries that day with the same charge are one group.
        let same_day: Vec<i64> = with_tx!(&mut tx, c => sqlx::query_scalar(
            "SELECT actual_minutes FROM time_entries WHERE ticket_id = $1 AND work_date = $2 AND charge = $3 AND rate_kind = $4 ORDER BY id")
            .bind(ticket.number).bind(work_date.to_string()).bind(charge_name).bind(rate_kind.as_str())
            .fetch_all(&mut *c).await)?;
        let existing: Vec<LoggedTime> = same_day
            .iter()
            .map(|m| LoggedTime {
                actual: Minutes(*m),
                ticket: ticket.number,
                date: work_date,
            })
            .collect();
        let new = LoggedTime {
            actual: input.actual,
            ticket: ticket.number,
            date: work_date,
        };
        let billable = plan.rounding.added_by(&existing, &new);

        let entries = period_entries_tx(&mut tx, contract.id, period.start).await?;
        let before = ledger::summarize(&entries);
        let mut draw_rows = Vec::new();
        let mut bank_state = "none";
        let mut draws_from = period.start;
        let mut after_limit = None;
        if charge.is_included() {
            let depleted = HoursThreshold::Depleted.reached(before.consumed(), before.available);
            if depleted && billable.0 > 0 {
                let choice = input.after_limit.ok_or_else(|| {
                    StoreError::invalid(
                        "after_limit",
                        format!(
                            "the {} hours of this period are used up; choose overage (bill at {}/hour), defer (wait for the refresh on {}) or upgrade",
                            hours(before.available),
                            plan.terms.overage_rate,
                            period.end
                        ),
                    )
                })?;
                after_limit = Some(choice);
                if choice.waits_for_next_period() {
                    bank_state = "waiting";
                    draws_from = period.end;
                }
            }
            if bank_state != "waiting" {
                bank_state = "drawn";
                let draw = ledger::draw(period.start, &entries, billable)
                    .map_err(|e| ledger_invalid(e, "minutes"))?;
                draw_rows = draw.entries();
            }
        }

        let id: i64 = with_tx!(&mut tx, c => sqlx::query_scalar(
            "INSERT INTO time_entries (ticket_id, client_id, contract_id, user_id, author_label, work_type, charge, rate_kind, rate_cents, \
             actual_minutes, billable_minutes, work_date, period_start, bank_state, after_limit, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id")
            .bind(ticket.number)
            .bind(ticket.client_id)
            .bind(contract.id)
            .bind(input.user_id)
            .bind(&actor.label)
            .bind(work_type.code.as_str())
            .bind(charge_name)
            .bind(rate_kind.as_str())
            .bind(rate.0)
            .bind(input.actual.0)
            .bind(billable.0)
            .bind(work_date.to_string())
            .bind(draws_from.to_string())
            .bind(bank_state)
            .bind(after_limit.map(|c: DepletedChoice| c.as_str()))
            .bind(note)
            .bind(ms)
            .fetch_one(&mut *c).await)?;
        write_entries(&mut tx, contract.id, &draw_rows, Some(id), &actor.label, ms).await?;
        let mut all = entries;
        all.extend(draw_rows.iter().cloned());
        let after = ledger::summarize(&all);

        let fired = fired_tx(&mut tx, contract.id, period.start).await?;
        let alerts = crossed_between(&before, &after, &fired);
        for alert in &alerts {
            let inserted = with_tx!(&mut tx, c => sqlx::query(
                "INSERT INTO hour_alerts (contract_id, period_start, threshold, used_minutes, available_minutes, fired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING")
                .bind(contract.id).bind(period.start.to_string()).bind(alert.threshold.as_str())
                .bind(alert.used.0).bind(alert.available.0).bind(ms)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
            if inserted == 1 {
                let next_start = period.end;
                self.announce(
                    &mut tx, &contract, plan, &plans, &period, alert, next_start, ms,
                )
                .await?;
            }
        }

        let from_bank = Minutes(
            draw_rows
                .iter()
                .filter(|e| e.kind == EntryKind::Usage)
                .map(|e| -e.minutes.0)
                .sum(),
        );
        let overage = Minutes(
            draw_rows
                .iter()
                .filter(|e| e.kind == EntryKind::Overage)
                .map(|e| -e.minutes.0)
                .sum(),
        );
        let audit_fields = vec![
            ("ticket", ticket.number.to_string()),
            ("work_type", work_type.code.to_string()),
            ("actual_minutes", input.actual.0.to_string()),
            ("billable_minutes", billable.0.to_string()),
            ("work_date", work_date.to_string()),
            ("charge", charge_name.to_string()),
            (
                "after_limit",
                after_limit
                    .map(|c| c.as_str().to_string())
                    .unwrap_or_default(),
            ),
        ];
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "time_entry",
                entity_id: Some(id),
                client_id: Some(ticket.client_id),
                summary: format!(
                    "logged {} ({} billed, {charge_name}) of {} on #{}",
                    input.actual, billable, work_type.code, ticket.number
                ),
                before: &[],
                after: &audit_fields,
            },
        )
        .await?;
        tx.commit().await?;
        let entry = self.time_entry(id).await?;
        Ok(Logged {
            entry,
            from_bank,
            overage,
            alerts,
            period,
            summary: after,
        })
    }

    /// Queues the alert: a notice to the client's technical owner (else the agency's
    /// owners) and a drafted email to the client's billing contacts (else its approval
    /// owners), which waits in the outbox as a draft for a person to review and send.
    #[allow(clippy::too_many_arguments)]
    async fn announce(
        &self,
        tx: &mut Tx,
        contract: &BankContract,
        plan: &BankPlan,
        plans: &BankPlans,
        period: &BankPeriod,
        alert: &HourAlert,
        next_start: Date,
        now: i64,
    ) -> Result<()> {
        let users: Vec<User> = with_tx!(tx, c => {
            let rows = sqlx::query(
                "SELECT id, email, name, role, timezone, disabled_at FROM users ORDER BY id")
                .fetch_all(&mut *c).await?;
            rows.iter().map(crate::users::user_from_row).collect::<Result<Vec<_>>>()
        })?;
        let recipients = crate::users::who_hears(&[contract.client_owner], &users);
        // The drafted email is signed by whoever hears about the alert first: the
        // client's technical owner, else the agency's first active owner.
        let agent = recipients
            .first()
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let text = AlertText::new(contract, plan, plans, period, alert, next_start);
        for to in recipients {
            let message = NewMessage {
                event_key: format!(
                    "hours:{}:{}:{}:{}",
                    contract.id,
                    period.start,
                    alert.threshold.as_str(),
                    to.email
                ),
                channel: EMAIL,
                recipient: to.email.clone(),
                subject: text.notice_subject(),
                body: text.notice_body(&contract.client_slug),
                client_id: Some(contract.client_id),
                ticket_id: None,
            };
            enqueue(tx, &message, now).await?;
        }
        let contacts: Vec<(String, String, String)> = with_tx!(tx, c => sqlx::query_as(
            "SELECT name, email, role FROM contacts WHERE client_id = $1 AND role IN ('billing', 'approval-owner') ORDER BY id")
            .bind(contract.client_id).fetch_all(&mut *c).await)?;
        let billing: Vec<&(String, String, String)> = {
            let b: Vec<_> = contacts.iter().filter(|c| c.2 == "billing").collect();
            if b.is_empty() {
                contacts.iter().collect()
            } else {
                b
            }
        };
        if billing.is_empty() {
            return Ok(());
        }
        // The drafted email is written from the agency's template for this threshold; a
        // template that no longer renders (it was checked when saved) falls back to
        // Tend's own words rather than losing the draft.
        let kind = match alert.threshold {
            HoursThreshold::ThreeQuarters => TemplateKind::HoursThreeQuarters,
            HoursThreshold::Depleted => TemplateKind::HoursDepleted,
        };
        let template = crate::messages::template_in(tx, kind).await?;
        for (name, email, _) in billing {
            let context = MessageContext {
                client: ClientFacts {
                    name: contract.client_name.clone(),
                },
                contact: ContactFacts::new(name, email),
                agent: AgentFacts {
                    name: agent.clone(),
                },
                hours: Some(text.facts(next_start)),
                ..MessageContext::default()
            };
            let written = render(&template, &context).or_else(|e| {
                tracing::warn!(error = %e, kind = kind.as_str(), "the hour-bank template did not render; using the default");
                render(&default_template(kind), &context)
            });
            let written = written.map_err(|e| StoreError::Guarded(e.to_string()))?;
            with_tx!(tx, c => sqlx::query(
                "INSERT INTO outbox (event_key, channel, recipient, subject, body, client_id, ticket_id, state, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, NULL, 'draft', 0, $7, $7) ON CONFLICT (event_key) DO NOTHING")
                .bind(format!("hours:{}:{}:{}:draft:{}", contract.id, period.start, alert.threshold.as_str(), email))
                .bind(EMAIL)
                .bind(email)
                .bind(written.subject)
                .bind(written.body)
                .bind(contract.client_id)
                .bind(now)
                .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn time_entry(&self, id: i64) -> Result<TimeEntry> {
        let sql = format!("{TIME_SELECT} WHERE te.id = $1");
        with_pool!(&self.db, p => match sqlx::query(&sql).bind(id).fetch_optional(p).await? {
            Some(r) => time_entry(&r),
            None => Err(StoreError::NotFound("time entry")),
        })
    }

    /// A ticket's time entries, oldest first.
    pub async fn ticket_time(&self, ticket: i64) -> Result<Vec<TimeEntry>> {
        let sql = format!("{TIME_SELECT} WHERE te.ticket_id = $1 ORDER BY te.id");
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(ticket).fetch_all(p).await?;
            rows.iter().map(time_entry).collect()
        })
    }

    async fn period_time(&self, contract: i64, period: Date) -> Result<Vec<TimeEntry>> {
        let sql = format!(
            "{TIME_SELECT} WHERE te.contract_id = $1 AND te.period_start = $2 ORDER BY te.work_date, te.id"
        );
        with_pool!(&self.db, p => {
            let rows = sqlx::query(&sql).bind(contract).bind(period.to_string()).fetch_all(p).await?;
            rows.iter().map(time_entry).collect()
        })
    }

    /// An owner's adjustment of a client's open period, with the reason (audited).
    pub async fn adjust_hours(
        &self,
        actor: &Actor,
        slug: &str,
        minutes: Minutes,
        reason: &str,
        now: Timestamp,
    ) -> Result<HourBank> {
        let contract = self.bank_contract_of(slug).await?;
        let plans = self.bank_plans().await?;
        self.bring_up_to_date(&contract, &plans, now).await?;
        let ms = now.as_millisecond();
        let mut tx = self.begin().await?;
        let (period, _) = lock_open_period(&mut tx, contract.id)
            .await?
            .ok_or(StoreError::NotFound("open hour-bank period"))?;
        let entries = period_entries_tx(&mut tx, contract.id, period.start).await?;
        let rows = ledger::adjust(period.start, &entries, minutes, reason).map_err(|e| {
            let field = if matches!(e, ledger::LedgerError::ReasonRequired) {
                "reason"
            } else {
                "minutes"
            };
            ledger_invalid(e, field)
        })?;
        write_entries(&mut tx, contract.id, &rows, None, &actor.label, ms).await?;
        let signed = if minutes.0 < 0 {
            format!("-{}", Minutes(-minutes.0))
        } else {
            format!("+{minutes}")
        };
        audit::record(
            &mut tx,
            actor,
            Change {
                action: Action::Create,
                entity: "hour_adjustment",
                entity_id: Some(contract.id),
                client_id: Some(contract.client_id),
                summary: format!("adjusted the hour bank by {signed}: {}", reason.trim()),
                before: &[],
                after: &[
                    ("period", period.start.to_string()),
                    ("minutes", minutes.0.to_string()),
                    ("reason", reason.trim().to_string()),
                ],
            },
        )
        .await?;
        tx.commit().await?;
        self.hour_bank(slug, None, now).await
    }

    /// Every live contract's open period at a glance (the dashboard): used share,
    /// remaining and forecast, the fullest banks first. The ledger is read summed by
    /// kind and lot, as the month close reads it, so this costs one pass over the open
    /// periods' entries whatever their number.
    pub async fn bank_overview(&self, now: Timestamp) -> Result<Vec<BankGlance>> {
        let plans = self.bank_plans().await?;
        let contracts = self.bank_contracts(None).await?;
        let open: Vec<(i64, String, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT contract_id, period_start, period_end, plan_id FROM hour_periods WHERE closed_at IS NULL")
            .fetch_all(p).await)?;
        let mut sums_of = {
            let mut tx = self.begin().await?;
            let keys: Vec<(i64, String)> = open.iter().map(|o| (o.0, o.1.clone())).collect();
            let mut all = HashMap::new();
            for chunk in keys.chunks(CLOSE_BATCH) {
                all.extend(ledger_sums_of(&mut tx, chunk).await?);
            }
            tx.commit().await?;
            all
        };
        let by_id: HashMap<i64, &BankContract> = contracts.iter().map(|c| (c.id, c)).collect();
        let mut out = Vec::new();
        for (id, start, end, plan_id) in open {
            let Some(contract) = by_id.get(&id) else {
                continue;
            };
            let period = BankPeriod {
                start: date_col("period_start", &start)?,
                end: date_col("period_end", &end)?,
            };
            let plan = plans.get(plan_id)?;
            let summary = ledger::summarize(&summed_entries(
                period.start,
                sums_of.remove(&id).unwrap_or_default(),
            ));
            let today = contract.today(now);
            out.push(BankGlance {
                client_slug: contract.client_slug.clone(),
                client_name: contract.client_name.clone(),
                plan_code: plan.terms.code.clone(),
                period,
                share_used_percent: summary.share_used_percent(),
                forecast: forecast(&period, today, &summary),
                summary,
            });
        }
        out.sort_by(|a, b| {
            b.share_used_percent
                .cmp(&a.share_used_percent)
                .then_with(|| a.client_name.cmp(&b.client_name))
        });
        Ok(out)
    }

    /// A client's hour bank for a period (the open one when `pick` is none), brought up
    /// to date first as the close job would.
    pub async fn hour_bank(
        &self,
        slug: &str,
        pick: Option<PeriodPick>,
        now: Timestamp,
    ) -> Result<HourBank> {
        let contract = self.bank_contract_of(slug).await?;
        let plans = self.bank_plans().await?;
        self.bring_up_to_date(&contract, &plans, now).await?;
        let today = contract.today(now);
        let period = self.pick_period(&contract, pick, today).await?;
        let row: Option<(i64, Option<i64>)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT plan_id, closed_at FROM hour_periods WHERE contract_id = $1 AND period_start = $2")
            .bind(contract.id).bind(period.start.to_string()).fetch_optional(p).await)?;
        let plan = match row {
            Some((plan_id, _)) => plans.get(plan_id)?,
            None => contract.plan_for(&plans, &period)?,
        };
        let entries = self.period_entries(contract.id, period.start).await?;
        let summary = ledger::summarize(&entries);
        let fired: Vec<(String,)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT threshold FROM hour_alerts WHERE contract_id = $1 AND period_start = $2 ORDER BY threshold DESC")
            .bind(contract.id).bind(period.start.to_string()).fetch_all(p).await)?;
        let alerts_fired = fired
            .into_iter()
            .map(|(t,)| parsed("threshold", HoursThreshold::parse(&t)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HourBank {
            client_slug: contract.client_slug.clone(),
            client_name: contract.client_name.clone(),
            contract_id: contract.id,
            plan_code: plan.terms.code.clone(),
            overage_rate: plan.terms.overage_rate,
            period,
            closed: row.is_some_and(|r| r.1.is_some()),
            share_used_percent: summary.share_used_percent(),
            lots: ledger::lots(&entries)
                .into_iter()
                .filter(|l| l.minutes.0 != 0)
                .collect(),
            forecast: forecast(&period, today, &summary),
            summary,
            alerts_fired,
            today,
        })
    }

    async fn pick_period(
        &self,
        contract: &BankContract,
        pick: Option<PeriodPick>,
        today: Date,
    ) -> Result<BankPeriod> {
        match pick {
            Some(p) => p
                .resolve(&contract.schedule)
                .ok_or_else(|| StoreError::invalid("period", "the contract has no such period")),
            None => {
                let open: Option<(String, String)> = with_pool!(&self.db, p => sqlx::query_as(
                    "SELECT period_start, period_end FROM hour_periods WHERE contract_id = $1 AND closed_at IS NULL ORDER BY period_start LIMIT 1")
                    .bind(contract.id).fetch_optional(p).await)?;
                match open {
                    Some((s, e)) => Ok(BankPeriod {
                        start: date_col("period_start", &s)?,
                        end: date_col("period_end", &e)?,
                    }),
                    None => contract
                        .schedule
                        .containing(today)
                        .or_else(|| contract.schedule.first())
                        .ok_or_else(|| StoreError::invalid("period", "no period")),
                }
            }
        }
    }

    /// The SOP's hour tracking sheet for a client and period: every entry that draws
    /// from (or is billed in) the period, with a running total of billed time.
    pub async fn hour_sheet(
        &self,
        slug: &str,
        pick: Option<PeriodPick>,
        now: Timestamp,
    ) -> Result<Sheet> {
        let contract = self.bank_contract_of(slug).await?;
        let today = contract.today(now);
        let period = self.pick_period(&contract, pick, today).await?;
        let entries = self.period_time(contract.id, period.start).await?;
        let mut total = 0;
        let (mut included, mut billable) = (0, 0);
        let rows = entries
            .into_iter()
            .map(|e| {
                total += e.billable.0;
                if e.charge == "included" {
                    included += e.billable.0;
                } else {
                    billable += e.billable.0;
                }
                SheetRow {
                    date: e.work_date,
                    ticket: e.ticket,
                    task: e.ticket_title,
                    work_type: e.work_type,
                    actual: e.actual,
                    time: e.billable,
                    running_total: Minutes(total),
                    note: e.note,
                    charge: e.charge,
                    deferred: e.after_limit.as_deref().is_some_and(|a| a != "overage"),
                }
            })
            .collect();
        Ok(Sheet {
            client_slug: contract.client_slug,
            client_name: contract.client_name,
            period,
            rows,
            included: Minutes(included),
            billable: Minutes(billable),
        })
    }

    /// The billing export for a month: for each live contract, its period starting in
    /// that month. Included use and overage come from the ledger; billable work from the
    /// time entries billed in the period.
    pub async fn billing(&self, month: PeriodPick) -> Result<Billing> {
        let plans = self.bank_plans().await?;
        let contracts = self.bank_contracts(None).await?;
        let mut out = Billing {
            month: month.month_text(),
            ..Default::default()
        };
        let billable: Vec<(i64, String, String, i64, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT contract_id, period_start, rate_kind, rate_cents, CAST(SUM(billable_minutes) AS BIGINT) FROM time_entries \
             WHERE charge = 'billable' GROUP BY contract_id, period_start, rate_kind, rate_cents")
            .fetch_all(p).await)?;
        for contract in &contracts {
            let Some(period) = month.resolve(&contract.schedule) else {
                continue;
            };
            let row: Option<(i64,)> = with_pool!(&self.db, p => sqlx::query_as(
                "SELECT plan_id FROM hour_periods WHERE contract_id = $1 AND period_start = $2")
                .bind(contract.id).bind(period.start.to_string()).fetch_optional(p).await)?;
            let Some((plan_id,)) = row else {
                // The bank had not opened then: nothing was billed through Tend.
                continue;
            };
            let terms = &plans.get(plan_id)?.terms;
            let summary = ledger::summarize(&self.period_entries(contract.id, period.start).await?);
            let p = period.start.to_string();
            let (mut emergency, mut other, mut emergency_amount, mut other_amount) =
                (0, 0, Cents(0), Cents(0));
            let mut other_rate = terms.overage_rate;
            for (_, _, kind, rate, minutes) in
                billable.iter().filter(|b| b.0 == contract.id && b.1 == p)
            {
                let amount = amount_for(Cents(*rate), Minutes(*minutes));
                if kind == "emergency" {
                    emergency += minutes;
                    emergency_amount.0 += amount.0;
                } else {
                    other += minutes;
                    other_amount.0 += amount.0;
                    other_rate = Cents(*rate);
                }
            }
            let overage_amount = amount_for(terms.overage_rate, summary.overage);
            let total =
                Cents(terms.monthly_fee.0 + overage_amount.0 + emergency_amount.0 + other_amount.0);
            out.total.0 += total.0;
            out.lines.push(BillingLine {
                client_slug: contract.client_slug.clone(),
                client_name: contract.client_name.clone(),
                contract_id: contract.id,
                plan_code: terms.code.clone(),
                period,
                plan_fee: terms.monthly_fee,
                included_used: summary.used,
                overage: summary.overage,
                overage_rate: terms.overage_rate,
                overage_amount,
                emergency: Minutes(emergency),
                emergency_rate: terms.emergency_rate,
                emergency_amount,
                other_billable: Minutes(other),
                other_rate,
                other_amount,
                total,
            });
        }
        Ok(out)
    }

    /// The work types of the plan governing a client's open period (for forms).
    pub async fn work_types_for_ticket(
        &self,
        ticket: i64,
        now: Timestamp,
    ) -> Result<Vec<WorkType>> {
        let t = self.ticket(ticket).await?;
        let contract = self.bank_contract_of_client(t.client_id).await?;
        let plans = self.bank_plans().await?;
        let today = contract.today(now);
        let period = contract
            .schedule
            .containing(today)
            .or_else(|| contract.schedule.first())
            .ok_or(StoreError::NotFound("period"))?;
        Ok(contract.plan_for(&plans, &period)?.work_types.clone())
    }
}

async fn fired_tx(tx: &mut Tx, contract: i64, period: Date) -> Result<Vec<HoursThreshold>> {
    let rows: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(
        "SELECT threshold FROM hour_alerts WHERE contract_id = $1 AND period_start = $2")
        .bind(contract).bind(period.to_string()).fetch_all(&mut *c).await)?;
    rows.into_iter()
        .map(|(t,)| Ok(parsed("threshold", HoursThreshold::parse(&t))?))
        .collect()
}

/// The words of an hour alert (the SOP's "When Hours Are Depleted" messages).
struct AlertText {
    client: String,
    threshold: HoursThreshold,
    used: Minutes,
    available: Minutes,
    remaining: Minutes,
    rate: Cents,
    period: BankPeriod,
    options: Vec<String>,
}

impl AlertText {
    fn new(
        contract: &BankContract,
        plan: &BankPlan,
        plans: &BankPlans,
        period: &BankPeriod,
        alert: &HourAlert,
        next_start: Date,
    ) -> Self {
        let upgrade = plans.upgrade_from(&plan.terms).map(|p| &p.terms);
        Self {
            client: contract.client_name.clone(),
            threshold: alert.threshold,
            used: alert.used,
            available: alert.available,
            remaining: alert.remaining,
            rate: plan.terms.overage_rate,
            period: *period,
            options: depleted_options(&plan.terms, next_start, upgrade)
                .iter()
                .map(|o| o.describe())
                .collect(),
        }
    }

    fn notice_subject(&self) -> String {
        match self.threshold {
            HoursThreshold::ThreeQuarters => {
                format!("{} - 75 % of support hours used", self.client)
            }
            HoursThreshold::Depleted => format!("{} - support hours used up", self.client),
        }
    }

    fn notice_body(&self, slug: &str) -> String {
        format!(
            "{} has used {} of {} hours this period ({}).\n\nRemaining: {} hours\nOverage rate: {}/hour\n\n\
             A drafted email to the client's billing contact waits in the outbox.\nHour bank: /clients/{slug}\n",
            self.client,
            hours(self.used),
            hours(self.available),
            self.period,
            hours(self.remaining),
            self.rate
        )
    }

    /// What the hour-bank email templates quote.
    fn facts(&self, next_start: Date) -> HoursFacts {
        HoursFacts {
            used: hours(self.used),
            available: hours(self.available),
            remaining: hours(self.remaining),
            overage_rate: self.rate.to_string(),
            period: self.period.to_string(),
            refresh_on: next_start.to_string(),
            options: self.options.clone(),
        }
    }
}

const TIME_SELECT: &str = "SELECT te.id, te.ticket_id, t.title, te.contract_id, te.author_label, te.work_type, te.charge, te.rate_kind, \
    te.rate_cents, te.actual_minutes, te.billable_minutes, te.work_date, te.period_start, te.bank_state, te.after_limit, te.note, te.created_at \
    FROM time_entries te JOIN tickets t ON t.id = te.ticket_id";

fn time_entry(r: &impl crate::row::RowExt) -> Result<TimeEntry> {
    Ok(TimeEntry {
        id: r.int("id")?,
        ticket: r.int("ticket_id")?,
        ticket_title: r.text("title")?,
        contract_id: r.int("contract_id")?,
        author: r.text("author_label")?,
        work_type: r.text("work_type")?,
        charge: r.text("charge")?,
        rate_kind: r.text("rate_kind")?,
        rate: Cents(r.int("rate_cents")?),
        actual: Minutes(r.int("actual_minutes")?),
        billable: Minutes(r.int("billable_minutes")?),
        work_date: date_col("work_date", &r.text("work_date")?)?,
        period_start: date_col("period_start", &r.text("period_start")?)?,
        bank_state: r.text("bank_state")?,
        after_limit: r.opt_text("after_limit")?,
        note: r.text("note")?,
        created_at: r.int("created_at")?,
    })
}

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(raw: &str) -> String {
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The hour tracking sheet as CSV: one row per time entry, hours with up to two decimals.
pub fn sheet_csv(sheet: &Sheet) -> String {
    let mut out = csv_line(
        &[
            "date",
            "ticket",
            "task",
            "work_type",
            "actual_hours",
            "time_hours",
            "running_total_hours",
            "notes",
            "charge",
        ]
        .map(String::from),
    );
    for r in &sheet.rows {
        out.push_str(&csv_line(&[
            r.date.to_string(),
            r.ticket.to_string(),
            r.task.clone(),
            r.work_type.clone(),
            hours(r.actual),
            hours(r.time),
            hours(r.running_total),
            r.note.clone(),
            if r.deferred {
                format!("{} (deferred)", r.charge)
            } else {
                r.charge.clone()
            },
        ]));
    }
    out
}

/// The billing export as CSV: one row per line item (plan fee, included hours used,
/// overage, emergency work, other billable work) per client, amounts in cents.
pub fn billing_csv(billing: &Billing) -> String {
    let mut out = csv_line(
        &[
            "period_start",
            "client",
            "plan",
            "item",
            "hours",
            "rate_cents",
            "amount_cents",
        ]
        .map(String::from),
    );
    for l in &billing.lines {
        let items: [(&str, String, i64, i64); 5] = [
            ("plan-fee", String::new(), l.plan_fee.0, l.plan_fee.0),
            ("included-hours", hours(l.included_used), 0, 0),
            (
                "overage",
                hours(l.overage),
                l.overage_rate.0,
                l.overage_amount.0,
            ),
            (
                "emergency",
                hours(l.emergency),
                l.emergency_rate.0,
                l.emergency_amount.0,
            ),
            (
                "other-billable",
                hours(l.other_billable),
                l.other_rate.0,
                l.other_amount.0,
            ),
        ];
        for (item, h, rate, amount) in items {
            out.push_str(&csv_line(&[
                l.period.start.to_string(),
                l.client_slug.clone(),
                l.plan_code.clone(),
                item.to_string(),
                h,
                rate.to_string(),
                amount.to_string(),
            ]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_quotes_or_newlines_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn a_month_or_a_date_picks_a_period() {
        let schedule = PeriodSchedule::new(Date::constant(2026, 1, 15));
        let nov = PeriodPick::parse("2026-11").unwrap().resolve(&schedule);
        assert_eq!(nov.map(|p| p.start), Some(Date::constant(2026, 11, 15)));
        let held = PeriodPick::parse("2026-11-03").unwrap().resolve(&schedule);
        assert_eq!(held.map(|p| p.start), Some(Date::constant(2026, 10, 15)));
        assert!(PeriodPick::parse("2026-13").is_err());
        assert!(PeriodPick::parse("November").is_err());
    }
}
