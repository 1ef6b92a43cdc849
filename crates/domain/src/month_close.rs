//! Hour-bank periods and the month close: what carries, what expires, the next grant.
//!
//! # Periods
//!
//! A contract's hour bank runs in monthly periods from the contract's start date, in
//! the client's IANA timezone: period *n* starts at local midnight on the start date
//! plus *n* months and ends (exclusive) where period *n + 1* starts. Every start is
//! counted from the contract's start date, so a start day the month lacks falls on the
//! month's last day and the next period returns to the real day: a contract started on
//! January 31 has periods starting January 31, February 28 (29 in a leap year),
//! March 31, April 30, May 31. Contracts billed annually still bank hours monthly (the
//! SOP's hours are monthly).
//!
//! [`PeriodSchedule`] finds the period of a date or an instant, the next period, and the
//! periods that ended since the last close ([`PeriodSchedule::to_close`], for backfill
//! when the close did not run for a while).
//!
//! # The close
//!
//! When a period ends, its unused hours (the balance: every lot still holding minutes)
//! are settled by [`close_period`]:
//!
//! - **carried** = the least of: the unused hours; the closing plan's rollover maximum
//!   (the SOP: STARTER 0, GROWTH 5 h, ENTERPRISE 10 h); and the room the next plan's
//!   bank maximum leaves above its grant (`bank max - included`, never below zero: GROWTH
//!   15 - 10 = 5 h, ENTERPRISE 30 - 20 = 10 h, and 0 for a plan whose bank maximum is
//!   0, like STARTER). So **the bank maximum caps carried hours plus the new grant**:
//!   the next period opens with at most the bank maximum, or with exactly its grant when
//!   the grant alone reaches it. A full 15-hour GROWTH bank does not grow.
//! - the carried hours are taken from the **newest** lots first (this period's grant,
//!   then hours carried in, newest first), each keeping the period it was first granted
//!   in; usage draws the oldest first, so old hours are the first to go either way.
//! - everything else **expires**.
//!
//! The close writes, in the closing period, the carried hours leaving as negative
//! rollover entries and the expired hours as expiry entries (always one for the
//! period's own lot, of zero minutes when none of it expires: that entry marks the
//! period closed, see [`is_closed`]); and in the next period, the carried hours arriving
//! as positive rollover entries and the next plan's grant. A closed period holds
//! nothing, so a contract's balance is the sum of all its entries.
//!
//! Closing is idempotent: a period whose entries already carry the closing mark closes
//! to [`CloseOutcome::AlreadyClosed`] and writes nothing, so running the close twice is
//! running it once.
//!
//! # Plan changes
//!
//! A plan change **takes effect at the start of the next period**, with no proration:
//! the period in which it is made runs to its end on the plan it started with (its
//! grant, rates and rollover maximum), and the next period opens on the new plan (its
//! grant and bank maximum). At that close the carry is limited by both: the old plan's
//! rollover maximum and the new plan's bank room. Moving from GROWTH to STARTER carries
//! nothing (STARTER's bank has no room); moving from STARTER to GROWTH carries nothing
//! either (STARTER rolls nothing over). [`plan_in_force`] says which plan governs a
//! period.

use jiff::{civil::Date, tz::TimeZone, Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{
    ledger::{check_period, is_open, lots, Entry, LedgerError, Lot},
    minutes::Minutes,
    plan::PlanTerms,
};

/// One hour-bank period: local dates in the client's timezone, `start` included, `end`
/// excluded. Get it from a [`PeriodSchedule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BankPeriod {
    pub start: Date,
    pub end: Date,
}

/// A date beyond the calendar jiff supports (after the year 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the period falls outside the supported range of dates")]
pub struct OutOfRange;

impl BankPeriod {
    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date < self.end
    }

    /// The number of days in the period (28 to 31).
    pub fn days(&self) -> i64 {
        self.end
            .since(self.start)
            .map(|span| i64::from(span.get_days()))
            .unwrap_or(0)
    }

    /// The instant the period starts: local midnight on `start` in the client's zone
    /// (the first instant of the day where the clocks skip midnight).
    pub fn starts_at(&self, tz: &TimeZone) -> Result<Timestamp, OutOfRange> {
        midnight(self.start, tz)
    }

    /// The instant the period ends: the next period's start.
    pub fn ends_at(&self, tz: &TimeZone) -> Result<Timestamp, OutOfRange> {
        midnight(self.end, tz)
    }
}

fn midnight(date: Date, tz: &TimeZone) -> Result<Timestamp, OutOfRange> {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| OutOfRange)
}

impl std::fmt::Display for BankPeriod {
    /// "2026-01-31 to 2026-02-27" (the last day included).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.end.yesterday() {
            Ok(last) => write!(f, "{} to {}", self.start, last),
            Err(_) => write!(f, "from {}", self.start),
        }
    }
}

/// A contract's monthly periods, counted from its start date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSchedule {
    contract_start: Date,
}

impl PeriodSchedule {
    pub fn new(contract_start: Date) -> Self {
        Self { contract_start }
    }

    pub fn contract_start(&self) -> Date {
        self.contract_start
    }

    fn month(&self, n: i64) -> Option<Date> {
        let span = Span::new().try_months(n).ok()?;
        self.contract_start.checked_add(span).ok()
    }

    /// Period `n` (0 is the first), or `None` for a negative `n` or past the year 9999.
    pub fn nth(&self, n: i64) -> Option<BankPeriod> {
        if n < 0 {
            return None;
        }
        Some(BankPeriod {
            start: self.month(n)?,
            end: self.month(n + 1)?,
        })
    }

    pub fn first(&self) -> Option<BankPeriod> {
        self.nth(0)
    }

    /// The period holding a local date; `None` before the contract starts.
    pub fn containing(&self, date: Date) -> Option<BankPeriod> {
        if date < self.contract_start {
            return None;
        }
        let a = self.contract_start;
        let months = (i64::from(date.year()) - i64::from(a.year())) * 12
            + (i64::from(date.month()) - i64::from(a.month()));
        // The guess is right or one too many (when the day of the month is earlier than
        // the start's); the loop settles it in a step or two.
        let mut n = months.max(0);
        loop {
            let p = self.nth(n)?;
            if p.start > date {
                n -= 1;
            } else if p.end <= date {
                n += 1;
            } else {
                return Some(p);
            }
        }
    }

    /// The period holding an instant, read in the client's zone.
    pub fn containing_instant(&self, at: Timestamp, tz: &TimeZone) -> Option<BankPeriod> {
        self.containing(at.to_zoned(tz.clone()).date())
    }

    /// The period after `period`.
    pub fn after(&self, period: &BankPeriod) -> Option<BankPeriod> {
        self.containing(period.end)
    }

    /// The periods that have ended by `today` (the client's local date) and are not
    /// closed yet: those after `last_closed` (or from the first, when none was closed),
    /// oldest first. Close them in this order.
    pub fn to_close(&self, last_closed: Option<&BankPeriod>, today: Date) -> Vec<BankPeriod> {
        let mut next = match last_closed {
            Some(p) => self.after(p),
            None => self.first(),
        };
        let mut out = Vec::new();
        while let Some(p) = next {
            if p.end > today {
                break;
            }
            out.push(p);
            next = self.after(&p);
        }
        out
    }

    /// The date a plan change made on `requested_on` takes effect: the start of the next
    /// period (or the contract's start, for a change made before it).
    pub fn plan_change_takes_effect(&self, requested_on: Date) -> Option<Date> {
        if requested_on < self.contract_start {
            return Some(self.contract_start);
        }
        self.containing(requested_on).map(|p| p.end)
    }
}

/// A contract's move to another plan, as made (the store keeps who and why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    /// The client's local date the change was made.
    pub requested_on: Date,
    pub plan_code: String,
}

/// The plan that governs `period`: the latest change that has taken effect by the
/// period's start, else the plan the contract started on. `changes` are in the order
/// they were made.
pub fn plan_in_force<'a>(
    schedule: &PeriodSchedule,
    initial: &'a str,
    changes: &'a [PlanChange],
    period: &BankPeriod,
) -> &'a str {
    changes
        .iter()
        .rev()
        .find(|c| {
            schedule
                .plan_change_takes_effect(c.requested_on)
                .is_some_and(|from| from <= period.start)
        })
        .map_or(initial, |c| c.plan_code.as_str())
}

/// The grant that opens a contract's first period. Later periods are opened by the
/// close of the period before.
pub fn opening_grant(terms: &PlanTerms, period: &BankPeriod) -> Entry {
    Entry::grant(period.start, terms.included)
}

/// Whether the period's entries carry its closing mark (see the module docs).
pub fn is_closed(entries: &[Entry]) -> bool {
    entries.iter().any(Entry::is_closing_mark)
}

/// What limited the hours carried at a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CarryLimit {
    /// Every unused minute carried.
    AllUnused,
    /// The closing plan's rollover maximum.
    RolloverCap,
    /// The next plan's bank maximum, less its grant.
    BankCap,
}

/// How much of `unused` carries from a period on `closing` into one on `next`, and why
/// not more (see the module docs).
pub fn carry(unused: Minutes, closing: &PlanTerms, next: &PlanTerms) -> (Minutes, CarryLimit) {
    let unused = unused.0.max(0);
    let rollover = closing.rollover_max.0.max(0);
    let room = (next.bank_max.0 - next.included.0).max(0);
    if unused <= rollover && unused <= room {
        (Minutes(unused), CarryLimit::AllUnused)
    } else if rollover <= room {
        (Minutes(rollover), CarryLimit::RolloverCap)
    } else {
        (Minutes(room), CarryLimit::BankCap)
    }
}

/// A period's close: the numbers, why the carry stopped where it did, and the entries
/// to write (all in one transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Close {
    pub period: BankPeriod,
    pub next: BankPeriod,
    /// The balance at the close.
    pub unused: Minutes,
    pub carried: Minutes,
    pub carry_limit: CarryLimit,
    /// The carried hours by the period they were first granted in, oldest first.
    pub carried_lots: Vec<Lot>,
    pub expired: Minutes,
    /// The next period's grant (the next plan's included hours).
    pub grant: Minutes,
    /// The closing period's entries, then the next period's.
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum CloseOutcome {
    /// The period was closed before; nothing to write.
    AlreadyClosed,
    Closed(Close),
}

impl CloseOutcome {
    /// The entries to write: none when the period was already closed.
    pub fn entries(&self) -> &[Entry] {
        match self {
            CloseOutcome::AlreadyClosed => &[],
            CloseOutcome::Closed(close) => &close.entries,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    OutOfRange(#[from] OutOfRange),
}

/// Closes `period` (see the module docs): `closing` is the plan that governed it,
/// `next_terms` the plan in force for the next period (the same plan unless a change
/// takes effect there), `entries` the period's entries in the order they were written.
/// Refuses a period that was never opened or whose entries are inconsistent.
pub fn close_period(
    schedule: &PeriodSchedule,
    period: &BankPeriod,
    closing: &PlanTerms,
    next_terms: &PlanTerms,
    entries: &[Entry],
) -> Result<CloseOutcome, CloseError> {
    check_period(period.start, entries)?;
    if is_closed(entries) {
        return Ok(CloseOutcome::AlreadyClosed);
    }
    if !is_open(entries) {
        return Err(LedgerError::NotOpen(period.start).into());
    }
    let next = schedule.after(period).ok_or(OutOfRange)?;
    let held = lots(entries);
    let unused = Minutes(held.iter().map(|l| l.minutes.0).sum());
    let (carried, carry_limit) = carry(unused, closing, next_terms);

    let mut left = carried.0;
    let mut carried_lots = Vec::new();
    let mut expired_lots = Vec::new();
    for lot in held.iter().rev().filter(|l| l.minutes.0 > 0) {
        let keep = left.min(lot.minutes.0);
        left -= keep;
        if keep > 0 {
            carried_lots.push(Lot {
                origin: lot.origin,
                minutes: Minutes(keep),
            });
        }
        if lot.minutes.0 > keep {
            expired_lots.push(Lot {
                origin: lot.origin,
                minutes: Minutes(lot.minutes.0 - keep),
            });
        }
    }
    carried_lots.reverse();
    expired_lots.reverse();

    let p = period.start;
    let mut out: Vec<Entry> = carried_lots
        .iter()
        .map(|l| Entry::rollover(p, -l.minutes.0, l.origin))
        .collect();
    out.extend(
        expired_lots
            .iter()
            .map(|l| Entry::expiry(p, -l.minutes.0, l.origin)),
    );
    if !expired_lots.iter().any(|l| l.origin == p) {
        out.push(Entry::expiry(p, 0, p));
    }
    out.extend(
        carried_lots
            .iter()
            .map(|l| Entry::rollover(next.start, l.minutes.0, l.origin)),
    );
    out.push(Entry::grant(next.start, next_terms.included));

    Ok(CloseOutcome::Closed(Close {
        period: *period,
        next,
        unused,
        carried,
        carry_limit,
        carried_lots,
        expired: Minutes(unused.0 - carried.0),
        grant: next_terms.included,
        entries: out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ledger::{adjust, balance, correct, draw, summarize, EntryKind},
        rounding::RoundingRule,
        work_type::{default_work_types, tests::sop_plan},
    };
    use jiff::civil::date;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn h(hours: i64) -> Minutes {
        Minutes::hours(hours)
    }

    fn closed(outcome: CloseOutcome) -> Close {
        match outcome {
            CloseOutcome::Closed(c) => c,
            CloseOutcome::AlreadyClosed => panic!("the period was already closed"),
        }
    }

    fn split(close: &Close) -> (Vec<Entry>, Vec<Entry>) {
        close
            .entries
            .iter()
            .cloned()
            .partition(|e| e.period == close.period.start)
    }

    /// A GROWTH contract started on 2026-01-01, its January opened and `used` drawn.
    fn growth_january(used: Minutes) -> (PeriodSchedule, BankPeriod, Vec<Entry>) {
        let schedule = PeriodSchedule::new(date(2026, 1, 1));
        let jan = schedule.first().unwrap();
        let mut entries = vec![opening_grant(&sop_plan("GROWTH"), &jan)];
        entries.extend(draw(jan.start, &entries, used).unwrap().entries());
        (schedule, jan, entries)
    }

    #[test]
    fn eight_unused_growth_hours_carry_as_five() {
        let growth = sop_plan("GROWTH");
        let (schedule, jan, entries) = growth_january(h(2));
        let c = closed(close_period(&schedule, &jan, &growth, &growth, &entries).unwrap());
        assert_eq!(c.unused, h(8));
        assert_eq!(c.carried, h(5));
        assert_eq!(c.expired, h(3));
        assert_eq!(c.carry_limit, CarryLimit::RolloverCap);
        assert_eq!(c.grant, h(10));
        let (closing, next) = split(&c);
        let mut january = entries.clone();
        january.extend(closing);
        assert_eq!(balance(&january), Minutes(0));
        assert!(is_closed(&january));
        check_period(jan.start, &january).unwrap();
        let s = summarize(&next);
        assert_eq!((s.carried_in, s.granted, s.available), (h(5), h(10), h(15)));
        check_period(c.next.start, &next).unwrap();
    }

    #[test]
    fn a_full_fifteen_hour_growth_bank_does_not_grow() {
        let growth = sop_plan("GROWTH");
        let schedule = PeriodSchedule::new(date(2026, 1, 1));
        let mut period = schedule.first().unwrap();
        let mut entries = vec![opening_grant(&growth, &period)];
        for month in 0..6 {
            let c = closed(close_period(&schedule, &period, &growth, &growth, &entries).unwrap());
            let (_, next) = split(&c);
            let s = summarize(&next);
            assert_eq!(s.available, h(15), "month {month}");
            assert!(s.available <= growth.bank_max);
            period = c.next;
            entries = next;
        }
        // The hours carried are the newest: the closing month's own grant.
        assert!(entries
            .iter()
            .filter(|e| e.kind == EntryKind::Rollover)
            .all(|e| e.lot == Some(date(2026, 6, 1))));
    }

    #[test]
    fn starter_carries_nothing_and_enterprise_carries_up_to_ten_hours_in_a_thirty_hour_bank() {
        let starter = sop_plan("STARTER");
        let schedule = PeriodSchedule::new(date(2026, 1, 1));
        let jan = schedule.first().unwrap();
        let entries = vec![opening_grant(&starter, &jan)];
        let c = closed(close_period(&schedule, &jan, &starter, &starter, &entries).unwrap());
        assert_eq!((c.carried, c.expired, c.grant), (Minutes(0), h(5), h(5)));
        assert_eq!(c.carry_limit, CarryLimit::RolloverCap);

        let enterprise = sop_plan("ENTERPRISE");
        let entries = vec![opening_grant(&enterprise, &jan)];
        let c = closed(close_period(&schedule, &jan, &enterprise, &enterprise, &entries).unwrap());
        assert_eq!((c.carried, c.expired, c.grant), (h(10), h(10), h(20)));
        let (_, next) = split(&c);
        assert_eq!(summarize(&next).available, h(30));

        let mut entries = vec![opening_grant(&enterprise, &jan)];
        entries.extend(draw(jan.start, &entries, h(16)).unwrap().entries());
        let c = closed(close_period(&schedule, &jan, &enterprise, &enterprise, &entries).unwrap());
        assert_eq!((c.carried, c.carry_limit), (h(4), CarryLimit::AllUnused));
    }

    #[test]
    fn a_period_with_nothing_left_still_gets_its_closing_mark() {
        let growth = sop_plan("GROWTH");
        let (schedule, jan, entries) = growth_january(h(12));
        let c = closed(close_period(&schedule, &jan, &growth, &growth, &entries).unwrap());
        let (closing, _) = split(&c);
        assert_eq!(closing, [Entry::expiry(jan.start, 0, jan.start)]);
        assert_eq!(
            (c.unused, c.carried, c.expired),
            (Minutes(0), Minutes(0), Minutes(0))
        );
    }

    #[test]
    fn closing_twice_is_closing_once() {
        let growth = sop_plan("GROWTH");
        let (schedule, jan, mut entries) = growth_january(h(2));
        let c = closed(close_period(&schedule, &jan, &growth, &growth, &entries).unwrap());
        let (closing, _) = split(&c);
        assert!(!is_closed(&entries));
        entries.extend(closing);
        assert!(is_closed(&entries));
        let again = close_period(&schedule, &jan, &growth, &growth, &entries).unwrap();
        assert_eq!(again, CloseOutcome::AlreadyClosed);
        assert!(again.entries().is_empty());
    }

    #[test]
    fn a_period_never_opened_is_not_closed() {
        let growth = sop_plan("GROWTH");
        let schedule = PeriodSchedule::new(date(2026, 1, 1));
        let jan = schedule.first().unwrap();
        assert_eq!(
            close_period(&schedule, &jan, &growth, &growth, &[]),
            Err(CloseError::Ledger(LedgerError::NotOpen(jan.start)))
        );
    }

    #[test]
    fn carried_hours_keep_the_period_they_were_granted_in() {
        let growth = sop_plan("GROWTH");
        // Rollover 8 h, bank 30 h: up to 8 h carry, taken from the newest lots.
        let generous = PlanTerms {
            rollover_max: h(8),
            bank_max: h(30),
            ..growth.clone()
        };
        let schedule = PeriodSchedule::new(date(2026, 1, 1));
        let feb = schedule.nth(1).unwrap();
        let entries = vec![
            Entry::rollover(feb.start, 180, date(2025, 12, 1)),
            Entry::rollover(feb.start, 120, date(2026, 1, 1)),
            Entry::grant(feb.start, h(10)),
        ];
        let mut entries_after = entries.clone();
        entries_after.extend(draw(feb.start, &entries, h(8)).unwrap().entries());
        // December's 3 h and January's 2 h went first, then 3 h of February's: 7 h left.
        let c =
            closed(close_period(&schedule, &feb, &generous, &generous, &entries_after).unwrap());
        assert_eq!(
            c.carried_lots,
            [Lot {
                origin: feb.start,
                minutes: h(7)
            }]
        );
        let untouched =
            closed(close_period(&schedule, &feb, &generous, &generous, &entries).unwrap());
        assert_eq!(
            untouched.carried_lots,
            [Lot {
                origin: feb.start,
                minutes: h(8)
            }]
        );
        assert_eq!(untouched.expired, h(7));
        let (closing, _) = split(&untouched);
        let expired: BTreeMap<Date, i64> = closing
            .iter()
            .filter(|e| e.kind == EntryKind::Expiry)
            .map(|e| (e.lot.unwrap(), e.minutes.0))
            .collect();
        assert_eq!(
            expired,
            BTreeMap::from([
                (date(2025, 12, 1), -180),
                (date(2026, 1, 1), -120),
                (feb.start, -120)
            ])
        );
    }

    #[test]
    fn a_plan_change_takes_effect_at_the_next_period() {
        let schedule = PeriodSchedule::new(date(2026, 1, 15));
        let changes = vec![PlanChange {
            requested_on: date(2026, 3, 2),
            plan_code: "STARTER".into(),
        }];
        let feb = schedule.containing(date(2026, 3, 2)).unwrap();
        assert_eq!(feb.start, date(2026, 2, 15));
        assert_eq!(
            schedule.plan_change_takes_effect(date(2026, 3, 2)),
            Some(date(2026, 3, 15))
        );
        assert_eq!(plan_in_force(&schedule, "GROWTH", &changes, &feb), "GROWTH");
        let mar = schedule.after(&feb).unwrap();
        assert_eq!(
            plan_in_force(&schedule, "GROWTH", &changes, &mar),
            "STARTER"
        );

        // GROWTH to STARTER: the old plan would carry 5 h, the new bank has no room.
        let (growth, starter) = (sop_plan("GROWTH"), sop_plan("STARTER"));
        let entries = vec![Entry::grant(feb.start, h(10))];
        let c = closed(close_period(&schedule, &feb, &growth, &starter, &entries).unwrap());
        assert_eq!(
            (c.carried, c.carry_limit, c.grant),
            (Minutes(0), CarryLimit::BankCap, h(5))
        );
        // STARTER to GROWTH: STARTER rolls nothing over; GROWTH's grant arrives in full.
        let entries = vec![Entry::grant(feb.start, h(5))];
        let c = closed(close_period(&schedule, &feb, &starter, &growth, &entries).unwrap());
        assert_eq!(
            (c.carried, c.carry_limit, c.grant),
            (Minutes(0), CarryLimit::RolloverCap, h(10))
        );
    }

    #[test]
    fn periods_run_monthly_from_the_start_day_and_short_months_end_on_their_last_day() {
        let s = PeriodSchedule::new(date(2026, 1, 31));
        let starts: Vec<Date> = (0..5).map(|n| s.nth(n).unwrap().start).collect();
        assert_eq!(
            starts,
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31)
            ]
        );
        let leap = PeriodSchedule::new(date(2028, 1, 30));
        assert_eq!(leap.nth(1).unwrap().start, date(2028, 2, 29));
        assert_eq!(leap.nth(2).unwrap().start, date(2028, 3, 30));
        let feb = s.containing(date(2026, 3, 30)).unwrap();
        assert_eq!((feb.start, feb.end), (date(2026, 2, 28), date(2026, 3, 31)));
        assert_eq!(feb.days(), 31);
        assert_eq!(feb.to_string(), "2026-02-28 to 2026-03-30");
        assert_eq!(s.containing(date(2026, 1, 30)), None);
        assert_eq!(s.containing(date(2026, 1, 31)), s.first());
    }

    #[test]
    fn a_period_starts_at_local_midnight_in_the_clients_zone() {
        let s = PeriodSchedule::new(date(2026, 3, 1));
        let mar = s.first().unwrap();
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            mar.starts_at(&ny).unwrap().to_string(),
            "2026-03-01T05:00:00Z"
        );
        // The clocks have moved forward by the period's end.
        assert_eq!(
            mar.ends_at(&ny).unwrap().to_string(),
            "2026-04-01T04:00:00Z"
        );
        // 23:30 on March 31 in New York is already April in UTC, still March locally.
        let late: Timestamp = "2026-04-01T03:30:00Z".parse().unwrap();
        assert_eq!(s.containing_instant(late, &ny), Some(mar));
        let auckland = TimeZone::get("Pacific/Auckland").unwrap();
        assert_eq!(s.containing_instant(late, &auckland), s.nth(1));
        // Where the clocks skip midnight, the period starts at the first instant of the day.
        let santiago = TimeZone::get("America/Santiago").unwrap();
        let sep = PeriodSchedule::new(date(2026, 9, 6)).first().unwrap();
        assert_eq!(
            sep.starts_at(&santiago).unwrap().to_zoned(santiago).time(),
            jiff::civil::time(1, 0, 0, 0)
        );
    }

    #[test]
    fn missed_periods_are_listed_oldest_first_for_backfill() {
        let s = PeriodSchedule::new(date(2026, 1, 10));
        let jan = s.first().unwrap();
        let starts = |ps: Vec<BankPeriod>| ps.iter().map(|p| p.start).collect::<Vec<_>>();
        assert_eq!(
            starts(s.to_close(Some(&jan), date(2026, 5, 10))),
            [date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10)]
        );
        assert_eq!(
            starts(s.to_close(None, date(2026, 2, 10))),
            [date(2026, 1, 10)]
        );
        assert!(s.to_close(None, date(2026, 2, 9)).is_empty());
        assert!(s.to_close(None, date(2025, 12, 1)).is_empty());
    }

    #[derive(Debug, Clone)]
    enum Step {
        /// Work of `minutes` of the default work type at this index.
        Log {
            minutes: i64,
            work: usize,
        },
        Adjust(i64),
        Correct(i64),
        ChangePlan(usize),
        Close,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (1i64..300, 0usize..10).prop_map(|(minutes, work)| Step::Log { minutes, work }),
            1 => (-300i64..300).prop_map(Step::Adjust),
            1 => (1i64..300).prop_map(Step::Correct),
            1 => (0usize..3).prop_map(Step::ChangePlan),
            2 => Just(Step::Close),
        ]
    }

    const PLANS: [&str; 3] = ["STARTER", "GROWTH", "ENTERPRISE"];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn the_bank_keeps_its_rules_through_any_work_closes_and_plan_changes(
            start_day in 1i8..=31,
            initial in 0usize..3,
            steps in prop::collection::vec(step(), 0..80),
        ) {
            let plans: BTreeMap<&str, PlanTerms> =
                PLANS.iter().map(|c| (*c, sop_plan(c))).collect();
            let types = default_work_types();
            let schedule = PeriodSchedule::new(date(2026, 1, start_day));
            let mut period = schedule.first().unwrap();
            let mut changes: Vec<PlanChange> = Vec::new();
            let mut ledger: BTreeMap<Date, Vec<Entry>> = BTreeMap::new();
            let terms = |changes: &[PlanChange], p: &BankPeriod| {
                plans[plan_in_force(&schedule, PLANS[initial], changes, p)].clone()
            };
            ledger.insert(period.start, vec![opening_grant(&terms(&changes, &period), &period)]);
            // Included minutes logged (after rounding), less corrections.
            let mut included = 0i64;

            for step in steps {
                let plan = terms(&changes, &period);
                let entries = ledger.get_mut(&period.start).unwrap();
                match step {
                    Step::Log { minutes, work } => {
                        let billable = RoundingRule::for_plan(&plan).round(Minutes(minutes));
                        prop_assert!(billable.0 >= minutes);
                        if types[work].charge_on(&plan).is_included() {
                            let d = draw(period.start, entries, billable).unwrap();
                            entries.extend(d.entries());
                            included += billable.0;
                        }
                    }
                    Step::Adjust(m) => {
                        if let Ok(more) = adjust(period.start, entries, Minutes(m), "adjusted") {
                            entries.extend(more);
                        }
                    }
                    Step::Correct(m) => {
                        if let Ok(more) = correct(period.start, entries, Minutes(m), "corrected") {
                            entries.extend(more);
                            included -= m;
                        }
                    }
                    Step::ChangePlan(i) => changes.push(PlanChange {
                        requested_on: period.start,
                        plan_code: PLANS[i].to_string(),
                    }),
                    Step::Close => {
                        let next_period = schedule.after(&period).unwrap();
                        let next_plan = terms(&changes, &next_period);
                        let c = closed(close_period(&schedule, &period, &plan, &next_plan, entries).unwrap());
                        prop_assert_eq!(c.next, next_period);
                        prop_assert!(c.carried <= plan.rollover_max);
                        prop_assert_eq!(c.carried.0 + c.expired.0, c.unused.0);
                        prop_assert!(c.carried.0 + c.grant.0 <= next_plan.bank_max.0.max(c.grant.0));
                        let (closing, next) = split(&c);
                        entries.extend(closing);
                        prop_assert_eq!(
                            close_period(&schedule, &period, &plan, &next_plan, entries).unwrap(),
                            CloseOutcome::AlreadyClosed
                        );
                        prop_assert_eq!(balance(entries), Minutes(0));
                        ledger.insert(next_period.start, next);
                        period = next_period;
                    }
                }

                // The period's grant is its own plan's: a change waits for the next period.
                let current = &ledger[&period.start];
                prop_assert_eq!(summarize(current).granted, terms(&changes, &period).included);
                prop_assert!(!is_closed(current));
                let mut consumed = 0;
                let mut all = 0;
                for (start, entries) in &ledger {
                    prop_assert_eq!(check_period(*start, entries), Ok(()));
                    let s = summarize(entries);
                    prop_assert_eq!(s.remaining, balance(entries));
                    prop_assert_eq!(
                        s.remaining.0,
                        s.available.0 - s.used.0 - s.carried_out.0 - s.expired.0
                    );
                    consumed += s.consumed().0;
                    all += entries.iter().map(Entry::bank_minutes).sum::<i64>();
                }
                prop_assert_eq!(consumed, included);
                // A closed period holds nothing: the contract's balance is the open one's.
                prop_assert_eq!(all, balance(current).0);
            }
        }

        #[test]
        fn every_date_from_the_start_on_is_in_exactly_one_period(
            start in 0i64..1500,
            offset in 0i64..2000,
        ) {
            let origin = date(2025, 1, 1);
            let s = PeriodSchedule::new(origin.checked_add(Span::new().days(start)).unwrap());
            let d = s.contract_start().checked_add(Span::new().days(offset)).unwrap();
            let p = s.containing(d).unwrap();
            prop_assert!(p.contains(d));
            prop_assert!((28..=31).contains(&p.days()));
            let next = s.after(&p).unwrap();
            prop_assert_eq!(next.start, p.end);
            prop_assert!(p.end.day() == s.contract_start().day() || p.end == p.end.last_of_month());
        }
    }
}
