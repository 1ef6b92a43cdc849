//! The hour bank as an append-only ledger: entries per contract and period, lots, the
//! draw-down of usage, and the period's summary.
//!
//! # Entries
//!
//! Every change to a client's hours is an [`Entry`] of signed minutes in one period (a
//! [`BankPeriod`](crate::month_close::BankPeriod), named by its start date). Nothing is
//! ever edited or deleted: a mistake is put right by a further entry.
//!
//! | kind | minutes | lot | what it records |
//! | --- | --- | --- | --- |
//! | grant | ≥ 0 | the period itself | the plan's included hours, written when the period opens (0 for a plan without hours: the entry still marks the period open) |
//! | rollover | > 0 or < 0 | the period the hours were first granted in | positive in the period the carried hours arrive in; the period they leave records the same hours negative, so a closed period holds nothing |
//! | expiry | ≤ 0 | any | unused hours that do not carry, at the close; the close always writes one for the period's own lot (0 minutes when none of it expires), which marks the period closed |
//! | usage | < 0 | the lot drawn | included work drawn from the bank |
//! | overage | < 0 | none | included work beyond the bank, billed at the overage rate; it never takes the bank below zero |
//! | adjustment | ≠ 0, with a reason | any | hours given or taken by a person (goodwill hours, a mistaken grant) |
//! | correction | > 0, with a reason | the lot given back, or none for overage | time logged by mistake, given back: overage first, then the lots most recently drawn |
//!
//! # Lots and balance
//!
//! A *lot* is a parcel of hours with the period it was first granted in: the period's
//! own grant, and each parcel carried in from an earlier period (which keeps its
//! origin as it carries). Every entry that names a lot moves hours in or out of it; the
//! **balance** is the sum of those entries, and a lot's balance never goes below zero.
//! Overage, and corrections of overage, name no lot and are outside the balance.
//!
//! # Draw-down
//!
//! Usage is taken from the **oldest lot first**: hours carried from the earliest period,
//! then later carried hours, then this period's grant. What the lots cannot cover is
//! overage. [`draw`] says how N minutes split; [`Draw::entries`] writes it down.
//!
//! A period takes usage, adjustments and corrections only while it is open: after its
//! grant (see [`month_close`](crate::month_close)) and before its close.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{minutes::Minutes, month_close::is_closed, plan::text_enum};

text_enum!(
    /// What a ledger entry records (see the table in the module docs).
    EntryKind, "ledger entry kind", {
        Grant => "grant",
        Rollover => "rollover",
        Expiry => "expiry",
        Usage => "usage",
        Overage => "overage",
        Adjustment => "adjustment",
        Correction => "correction",
    }
);

/// One line of a contract's hour bank. The store adds who wrote it, when, and what it is
/// for (a time entry, a close); the rules need only this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The start date of the period the entry belongs to.
    pub period: Date,
    pub kind: EntryKind,
    /// Signed: positive adds hours, negative takes them (see the module docs).
    pub minutes: Minutes,
    /// The start date of the period the hours were first granted in; `None` only for
    /// overage and corrections of overage.
    pub lot: Option<Date>,
    /// Why a person made the entry: required on adjustments and corrections.
    pub reason: Option<String>,
}

/// A parcel of hours and the period it was first granted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// The start date of the period the hours were granted in.
    pub origin: Date,
    pub minutes: Minutes,
}

/// Why one entry breaks the rules of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("a {kind} entry of {minutes} minutes is not allowed: it must be {rule}")]
    Sign {
        kind: EntryKind,
        minutes: i64,
        rule: &'static str,
    },
    #[error("a {0} entry must name the lot its hours belong to")]
    LotRequired(EntryKind),
    #[error("an overage entry is outside the bank and names no lot")]
    LotOnOverage,
    #[error("hours granted in the period starting {lot} cannot be in the earlier period starting {period}")]
    LotAfterPeriod { lot: Date, period: Date },
    #[error("a grant belongs to its own period's lot")]
    GrantLot,
    #[error("hours carried in come from an earlier period")]
    RolloverLot,
    #[error("an expiry of zero minutes marks the close and names the period's own lot")]
    ZeroExpiryLot,
    #[error("a {0} entry needs a reason")]
    ReasonRequired(EntryKind),
}

/// Why a period's entries are inconsistent, or why an operation on them is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("entry {index}: {error}")]
    Entry { index: usize, error: EntryError },
    #[error("entry {index} belongs to the period starting {found}, not {period}")]
    OtherPeriod {
        index: usize,
        found: Date,
        period: Date,
    },
    #[error("the period starting {0} has more than one grant")]
    TwoGrants(Date),
    #[error("the period starting {0} has more than one closing entry")]
    TwoCloses(Date),
    #[error("entry {index} takes the hours granted in {lot} below zero")]
    LotOverdrawn { index: usize, lot: Date },
    #[error("entry {index} gives back more overage than was recorded")]
    OverageOverCorrected { index: usize },
    #[error("the period starting {period} is closed but still holds {minutes} minutes")]
    ClosedWithHours { period: Date, minutes: i64 },
    #[error("the period starting {0} is closed; record this in the open period")]
    Closed(Date),
    #[error("the period starting {0} has no grant yet; close the period before it first")]
    NotOpen(Date),
    #[error("the minutes must be more than zero")]
    NotPositive,
    #[error("an adjustment of zero minutes changes nothing")]
    ZeroAdjustment,
    #[error("a reason is required")]
    ReasonRequired,
    #[error("only {available} can be taken back, not {asked}")]
    MoreThanAvailable { asked: Minutes, available: Minutes },
}

impl Entry {
    fn new(period: Date, kind: EntryKind, minutes: i64, lot: Option<Date>) -> Self {
        Self {
            period,
            kind,
            minutes: Minutes(minutes),
            lot,
            reason: None,
        }
    }

    /// The period's included hours, in its own lot.
    pub fn grant(period: Date, minutes: Minutes) -> Self {
        Self::new(period, EntryKind::Grant, minutes.0, Some(period))
    }

    pub(crate) fn rollover(period: Date, minutes: i64, lot: Date) -> Self {
        Self::new(period, EntryKind::Rollover, minutes, Some(lot))
    }

    pub(crate) fn expiry(period: Date, minutes: i64, lot: Date) -> Self {
        Self::new(period, EntryKind::Expiry, minutes, Some(lot))
    }

    fn with_reason(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_string());
        self
    }

    /// What the entry adds to (or takes from) the bank: its minutes when it names a lot,
    /// else nothing.
    pub fn bank_minutes(&self) -> i64 {
        if self.lot.is_some() {
            self.minutes.0
        } else {
            0
        }
    }

    /// Whether this is the entry that marks its period closed.
    pub fn is_closing_mark(&self) -> bool {
        self.kind == EntryKind::Expiry && self.lot == Some(self.period)
    }

    /// Checks the entry against the rules of its kind (the table in the module docs).
    pub fn check(&self) -> Result<(), EntryError> {
        let m = self.minutes.0;
        let (sign_ok, rule) = match self.kind {
            EntryKind::Grant => (m >= 0, "zero or more"),
            EntryKind::Rollover | EntryKind::Adjustment => (m != 0, "other than zero"),
            EntryKind::Expiry => (m <= 0, "zero or less"),
            EntryKind::Usage | EntryKind::Overage => (m < 0, "less than zero"),
            EntryKind::Correction => (m > 0, "more than zero"),
        };
        if !sign_ok {
            return Err(EntryError::Sign {
                kind: self.kind,
                minutes: m,
                rule,
            });
        }
        match (self.kind, self.lot) {
            (EntryKind::Overage, Some(_)) => return Err(EntryError::LotOnOverage),
            (EntryKind::Overage | EntryKind::Correction, None) => {}
            (kind, None) => return Err(EntryError::LotRequired(kind)),
            (_, Some(lot)) if lot > self.period => {
                return Err(EntryError::LotAfterPeriod {
                    lot,
                    period: self.period,
                })
            }
            (EntryKind::Grant, Some(lot)) if lot != self.period => {
                return Err(EntryError::GrantLot)
            }
            (EntryKind::Rollover, Some(lot)) if m > 0 && lot >= self.period => {
                return Err(EntryError::RolloverLot)
            }
            (EntryKind::Expiry, Some(lot)) if m == 0 && lot != self.period => {
                return Err(EntryError::ZeroExpiryLot)
            }
            _ => {}
        }
        let needs_reason = matches!(self.kind, EntryKind::Adjustment | EntryKind::Correction);
        let has_reason = self.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
        if needs_reason && !has_reason {
            return Err(EntryError::ReasonRequired(self.kind));
        }
        Ok(())
    }
}

/// Checks a period's entries, in the order they were written: each keeps the rules of
/// its kind and belongs to `period`; one grant and one closing mark at most; no lot
/// ever below zero; no more overage given back than was recorded; and a closed period
/// holds nothing.
pub fn check_period(period: Date, entries: &[Entry]) -> Result<(), LedgerError> {
    let mut lots: BTreeMap<Date, i64> = BTreeMap::new();
    let mut overage = 0i64;
    let (mut grants, mut closes) = (0, 0);
    for (index, e) in entries.iter().enumerate() {
        if e.period != period {
            return Err(LedgerError::OtherPeriod {
                index,
                found: e.period,
                period,
            });
        }
        e.check()
            .map_err(|error| LedgerError::Entry { index, error })?;
        grants += usize::from(e.kind == EntryKind::Grant);
        closes += usize::from(e.is_closing_mark());
        match e.lot {
            Some(lot) => {
                let held = lots.entry(lot).or_insert(0);
                *held += e.minutes.0;
                if *held < 0 {
                    return Err(LedgerError::LotOverdrawn { index, lot });
                }
            }
            None => {
                overage -= e.minutes.0;
                if overage < 0 {
                    return Err(LedgerError::OverageOverCorrected { index });
                }
            }
        }
    }
    if grants > 1 {
        return Err(LedgerError::TwoGrants(period));
    }
    if closes > 1 {
        return Err(LedgerError::TwoCloses(period));
    }
    let held: i64 = lots.values().sum();
    if closes == 1 && held != 0 {
        return Err(LedgerError::ClosedWithHours {
            period,
            minutes: held,
        });
    }
    Ok(())
}

/// The bank's balance: the sum of every entry that names a lot.
pub fn balance(entries: &[Entry]) -> Minutes {
    Minutes(entries.iter().map(Entry::bank_minutes).sum())
}

/// Each lot's balance, oldest first (lots that are empty now are listed too).
pub fn lots(entries: &[Entry]) -> Vec<Lot> {
    let mut held: BTreeMap<Date, i64> = BTreeMap::new();
    for e in entries {
        if let Some(lot) = e.lot {
            *held.entry(lot).or_insert(0) += e.minutes.0;
        }
    }
    held.into_iter()
        .map(|(origin, minutes)| Lot {
            origin,
            minutes: Minutes(minutes),
        })
        .collect()
}

/// Whether the period has its grant, and so takes usage.
pub fn is_open(entries: &[Entry]) -> bool {
    entries.iter().any(|e| e.kind == EntryKind::Grant)
}

fn guard(period: Date, entries: &[Entry]) -> Result<(), LedgerError> {
    if is_closed(entries) {
        return Err(LedgerError::Closed(period));
    }
    if !is_open(entries) {
        return Err(LedgerError::NotOpen(period));
    }
    Ok(())
}

fn reason(raw: &str) -> Result<&str, LedgerError> {
    match raw.trim() {
        "" => Err(LedgerError::ReasonRequired),
        r => Ok(r),
    }
}

/// Takes `minutes` from the lots, oldest first; returns what each lot gave and what was
/// left over.
fn take_oldest_first(entries: &[Entry], minutes: i64) -> (Vec<Lot>, i64) {
    let mut left = minutes;
    let mut taken = Vec::new();
    for lot in lots(entries) {
        if left == 0 {
            break;
        }
        let take = left.min(lot.minutes.0);
        if take > 0 {
            taken.push(Lot {
                origin: lot.origin,
                minutes: Minutes(take),
            });
            left -= take;
        }
    }
    (taken, left)
}

/// How one piece of included work is paid for: minutes from each lot, oldest first, and
/// the overage beyond them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    pub period: Date,
    pub from_lots: Vec<Lot>,
    pub overage: Minutes,
}

impl Draw {
    /// The minutes drawn from the bank (not counting overage).
    pub fn from_bank(&self) -> Minutes {
        Minutes(self.from_lots.iter().map(|l| l.minutes.0).sum())
    }

    /// Everything drawn: from the bank plus overage.
    pub fn total(&self) -> Minutes {
        Minutes(self.from_bank().0 + self.overage.0)
    }

    /// The entries that record the draw: one usage entry per lot, then overage.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .from_lots
            .iter()
            .map(|l| Entry::new(self.period, EntryKind::Usage, -l.minutes.0, Some(l.origin)))
            .collect();
        if self.overage.0 > 0 {
            out.push(Entry::new(
                self.period,
                EntryKind::Overage,
                -self.overage.0,
                None,
            ));
        }
        out
    }
}

/// Splits `minutes` of included work (already rounded: see
/// [`rounding`](crate::rounding)) over the period's lots, oldest first, and the overage
/// beyond them. Zero minutes draw nothing.
pub fn draw(period: Date, entries: &[Entry], minutes: Minutes) -> Result<Draw, LedgerError> {
    guard(period, entries)?;
    if minutes.0 < 0 {
        return Err(LedgerError::NotPositive);
    }
    let (from_lots, left) = take_oldest_first(entries, minutes.0);
    Ok(Draw {
        period,
        from_lots,
        overage: Minutes(left),
    })
}

/// A person's adjustment of the bank, with the reason. Hours given go to the period's own
/// lot; hours taken come from the lots oldest first, and never more than the balance.
pub fn adjust(
    period: Date,
    entries: &[Entry],
    minutes: Minutes,
    why: &str,
) -> Result<Vec<Entry>, LedgerError> {
    guard(period, entries)?;
    let why = reason(why)?;
    match minutes.0 {
        0 => Err(LedgerError::ZeroAdjustment),
        m if m > 0 => Ok(vec![Entry::new(
            period,
            EntryKind::Adjustment,
            m,
            Some(period),
        )
        .with_reason(why)]),
        m => {
            let available = balance(entries);
            if -m > available.0 {
                return Err(LedgerError::MoreThanAvailable {
                    asked: Minutes(-m),
                    available,
                });
            }
            let (taken, _) = take_oldest_first(entries, -m);
            Ok(taken
                .into_iter()
                .map(|l| {
                    Entry::new(period, EntryKind::Adjustment, -l.minutes.0, Some(l.origin))
                        .with_reason(why)
                })
                .collect())
        }
    }
}

/// Gives back `minutes` of included work logged by mistake, undoing the most recent
/// draws first: the period's overage, then each lot's usage, newest lot first. Never
/// more than the period's usage and overage together.
pub fn correct(
    period: Date,
    entries: &[Entry],
    minutes: Minutes,
    why: &str,
) -> Result<Vec<Entry>, LedgerError> {
    guard(period, entries)?;
    let why = reason(why)?;
    if minutes.0 <= 0 {
        return Err(LedgerError::NotPositive);
    }
    let mut used: BTreeMap<Date, i64> = BTreeMap::new();
    let mut overage = 0i64;
    for e in entries {
        let consumption = matches!(
            e.kind,
            EntryKind::Usage | EntryKind::Overage | EntryKind::Correction
        );
        match (consumption, e.lot) {
            (true, Some(lot)) => *used.entry(lot).or_insert(0) -= e.minutes.0,
            (true, None) => overage -= e.minutes.0,
            (false, _) => {}
        }
    }
    let available = overage + used.values().sum::<i64>();
    if minutes.0 > available {
        return Err(LedgerError::MoreThanAvailable {
            asked: minutes,
            available: Minutes(available),
        });
    }
    let mut left = minutes.0;
    let mut out = Vec::new();
    let sources = std::iter::once((None, overage))
        .chain(used.into_iter().rev().map(|(lot, m)| (Some(lot), m)));
    for (lot, held) in sources {
        let give = left.min(held);
        if give > 0 {
            out.push(Entry::new(period, EntryKind::Correction, give, lot).with_reason(why));
            left -= give;
        }
    }
    Ok(out)
}

/// A period in numbers. `available = granted + carried_in + adjusted`, and
/// `remaining = available - used - carried_out - expired` is the balance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    pub granted: Minutes,
    pub carried_in: Minutes,
    /// Net adjustments by people (negative when hours were taken).
    pub adjusted: Minutes,
    pub available: Minutes,
    /// Included work drawn from the bank, less corrections.
    pub used: Minutes,
    /// Included work beyond the bank, less corrections.
    pub overage: Minutes,
    /// Hours carried to the next period at the close.
    pub carried_out: Minutes,
    /// Hours that expired at the close.
    pub expired: Minutes,
    pub remaining: Minutes,
}

impl PeriodSummary {
    /// All included work this period: from the bank and beyond it.
    pub fn consumed(&self) -> Minutes {
        Minutes(self.used.0 + self.overage.0)
    }

    /// Included work as a whole percentage of the available hours (rounded down; above
    /// 100 once there is overage), or `None` when nothing was available.
    pub fn share_used_percent(&self) -> Option<u32> {
        if self.available.0 <= 0 {
            return None;
        }
        let percent = i128::from(self.consumed().0) * 100 / i128::from(self.available.0);
        Some(u32::try_from(percent.max(0)).unwrap_or(u32::MAX))
    }
}

/// The period's summary from its entries.
pub fn summarize(entries: &[Entry]) -> PeriodSummary {
    let mut s = PeriodSummary::default();
    for e in entries {
        let m = e.minutes.0;
        match (e.kind, e.lot) {
            (EntryKind::Grant, _) => s.granted.0 += m,
            (EntryKind::Rollover, _) if m > 0 => s.carried_in.0 += m,
            (EntryKind::Rollover, _) => s.carried_out.0 -= m,
            (EntryKind::Expiry, _) => s.expired.0 -= m,
            (EntryKind::Usage, _) => s.used.0 -= m,
            (EntryKind::Overage, _) => s.overage.0 -= m,
            (EntryKind::Adjustment, _) => s.adjusted.0 += m,
            (EntryKind::Correction, Some(_)) => s.used.0 -= m,
            (EntryKind::Correction, None) => s.overage.0 -= m,
        }
    }
    s.available = Minutes(s.granted.0 + s.carried_in.0 + s.adjusted.0);
    s.remaining = balance(entries);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    const FEB: Date = date(2026, 2, 1);
    const JAN: Date = date(2026, 1, 1);
    const DEC: Date = date(2025, 12, 1);

    fn h(hours: f64) -> Minutes {
        Minutes((hours * 60.0) as i64)
    }

    /// February of a GROWTH client: 2 h carried from December, 3 h from January, 10 h
    /// granted.
    fn february() -> Vec<Entry> {
        vec![
            Entry::rollover(FEB, 120, DEC),
            Entry::rollover(FEB, 180, JAN),
            Entry::grant(FEB, h(10.0)),
        ]
    }

    fn apply(entries: &mut Vec<Entry>, more: Vec<Entry>) {
        entries.extend(more);
        check_period(FEB, entries).unwrap();
    }

    #[test]
    fn usage_is_drawn_from_the_oldest_carried_hours_first_then_the_grant() {
        let mut entries = february();
        let d = draw(FEB, &entries, h(4.0)).unwrap();
        assert_eq!(
            d.from_lots,
            [
                Lot {
                    origin: DEC,
                    minutes: Minutes(120)
                },
                Lot {
                    origin: JAN,
                    minutes: Minutes(120)
                }
            ]
        );
        assert_eq!(d.overage, Minutes(0));
        apply(&mut entries, d.entries());
        let d = draw(FEB, &entries, h(2.0)).unwrap();
        assert_eq!(
            d.from_lots,
            [
                Lot {
                    origin: JAN,
                    minutes: Minutes(60)
                },
                Lot {
                    origin: FEB,
                    minutes: Minutes(60)
                }
            ]
        );
        apply(&mut entries, d.entries());
        assert_eq!(balance(&entries), h(9.0));
    }

    #[test]
    fn work_beyond_the_bank_is_overage_and_the_bank_stops_at_zero() {
        let mut entries = vec![Entry::grant(FEB, h(5.0))];
        let d = draw(FEB, &entries, h(6.5)).unwrap();
        assert_eq!(d.from_bank(), h(5.0));
        assert_eq!(d.overage, h(1.5));
        assert_eq!(d.total(), h(6.5));
        apply(&mut entries, d.entries());
        assert_eq!(balance(&entries), Minutes(0));
        let d = draw(FEB, &entries, h(1.0)).unwrap();
        assert!(d.from_lots.is_empty());
        apply(&mut entries, d.entries());
        let s = summarize(&entries);
        assert_eq!(
            (s.used, s.overage, s.remaining),
            (h(5.0), h(2.5), Minutes(0))
        );
        assert_eq!(s.share_used_percent(), Some(150));
    }

    #[test]
    fn a_correction_gives_back_overage_first_then_the_newest_lot() {
        let mut entries = february();
        let d = draw(FEB, &entries, h(16.0)).unwrap();
        apply(&mut entries, d.entries());
        let back = correct(FEB, &entries, h(12.0), "logged on the wrong client").unwrap();
        let given: Vec<(Option<Date>, i64)> = back.iter().map(|e| (e.lot, e.minutes.0)).collect();
        assert_eq!(given, [(None, 60), (Some(FEB), 600), (Some(JAN), 60)]);
        apply(&mut entries, back);
        let s = summarize(&entries);
        assert_eq!(
            (s.used, s.overage, s.remaining),
            (h(4.0), Minutes(0), h(11.0))
        );
        assert!(matches!(
            correct(FEB, &entries, h(4.5), "again"),
            Err(LedgerError::MoreThanAvailable { .. })
        ));
        assert_eq!(
            correct(FEB, &entries, h(1.0), " "),
            Err(LedgerError::ReasonRequired)
        );
    }

    #[test]
    fn an_adjustment_needs_a_reason_and_cannot_take_more_than_the_balance() {
        let mut entries = february();
        let given = adjust(FEB, &entries, h(2.0), "goodwill after the outage").unwrap();
        assert_eq!(given[0].lot, Some(FEB));
        apply(&mut entries, given);
        let taken = adjust(FEB, &entries, h(-3.0), "December hours granted twice").unwrap();
        let lots: Vec<(Option<Date>, i64)> = taken.iter().map(|e| (e.lot, e.minutes.0)).collect();
        assert_eq!(lots, [(Some(DEC), -120), (Some(JAN), -60)]);
        apply(&mut entries, taken);
        assert_eq!(
            adjust(FEB, &entries, h(-15.0), "too much"),
            Err(LedgerError::MoreThanAvailable {
                asked: h(15.0),
                available: h(14.0)
            })
        );
        assert_eq!(
            adjust(FEB, &entries, Minutes(0), "nothing"),
            Err(LedgerError::ZeroAdjustment)
        );
        assert_eq!(
            adjust(FEB, &entries, h(1.0), ""),
            Err(LedgerError::ReasonRequired)
        );
        let s = summarize(&entries);
        assert_eq!((s.adjusted, s.available), (h(-1.0), h(14.0)));
    }

    #[test]
    fn a_period_takes_usage_only_between_its_grant_and_its_close() {
        assert_eq!(draw(FEB, &[], h(1.0)), Err(LedgerError::NotOpen(FEB)));
        let closed = vec![Entry::grant(FEB, Minutes(0)), Entry::expiry(FEB, 0, FEB)];
        check_period(FEB, &closed).unwrap();
        assert_eq!(draw(FEB, &closed, h(1.0)), Err(LedgerError::Closed(FEB)));
        assert_eq!(
            adjust(FEB, &closed, h(1.0), "late"),
            Err(LedgerError::Closed(FEB))
        );
    }

    #[test]
    fn each_kind_keeps_its_sign_and_lot() {
        let bad = |kind, minutes, lot: Option<Date>| {
            Entry {
                period: FEB,
                kind,
                minutes: Minutes(minutes),
                lot,
                reason: Some("because".into()),
            }
            .check()
            .unwrap_err()
        };
        assert!(matches!(
            bad(EntryKind::Usage, 15, Some(FEB)),
            EntryError::Sign { .. }
        ));
        assert!(matches!(
            bad(EntryKind::Grant, -15, Some(FEB)),
            EntryError::Sign { .. }
        ));
        assert!(matches!(
            bad(EntryKind::Expiry, 15, Some(FEB)),
            EntryError::Sign { .. }
        ));
        assert!(matches!(
            bad(EntryKind::Correction, -15, None),
            EntryError::Sign { .. }
        ));
        assert_eq!(
            bad(EntryKind::Overage, -15, Some(FEB)),
            EntryError::LotOnOverage
        );
        assert_eq!(
            bad(EntryKind::Usage, -15, None),
            EntryError::LotRequired(EntryKind::Usage)
        );
        assert_eq!(bad(EntryKind::Grant, 15, Some(JAN)), EntryError::GrantLot);
        assert_eq!(
            bad(EntryKind::Rollover, 15, Some(FEB)),
            EntryError::RolloverLot
        );
        assert_eq!(
            bad(EntryKind::Expiry, 0, Some(JAN)),
            EntryError::ZeroExpiryLot
        );
        assert!(matches!(
            bad(EntryKind::Usage, -15, Some(date(2026, 3, 1))),
            EntryError::LotAfterPeriod { .. }
        ));
        let no_reason = Entry::new(FEB, EntryKind::Adjustment, 15, Some(FEB));
        assert_eq!(
            no_reason.check(),
            Err(EntryError::ReasonRequired(EntryKind::Adjustment))
        );
    }

    #[test]
    fn a_period_with_a_lot_below_zero_or_two_grants_is_inconsistent() {
        let overdrawn = vec![
            Entry::grant(FEB, h(1.0)),
            Entry::new(FEB, EntryKind::Usage, -120, Some(FEB)),
        ];
        assert_eq!(
            check_period(FEB, &overdrawn),
            Err(LedgerError::LotOverdrawn { index: 1, lot: FEB })
        );
        let twice = vec![Entry::grant(FEB, h(1.0)), Entry::grant(FEB, h(1.0))];
        assert_eq!(check_period(FEB, &twice), Err(LedgerError::TwoGrants(FEB)));
        assert!(matches!(
            check_period(JAN, &twice),
            Err(LedgerError::OtherPeriod { index: 0, .. })
        ));
        let closed_with_hours = vec![Entry::grant(FEB, h(1.0)), Entry::expiry(FEB, 0, FEB)];
        assert!(matches!(
            check_period(FEB, &closed_with_hours),
            Err(LedgerError::ClosedWithHours { minutes: 60, .. })
        ));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Log(i64),
        Adjust(i64),
        Correct(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0i64..400).prop_map(Op::Log),
            1 => (-300i64..300).prop_map(Op::Adjust),
            1 => (1i64..300).prop_map(Op::Correct),
        ]
    }

    proptest! {
        #[test]
        fn every_minute_of_included_work_is_counted_once_as_usage_or_overage(
            carried in prop::collection::vec(0i64..600, 0..3),
            grant in 0i64..1_200,
            ops in prop::collection::vec(op(), 0..40),
        ) {
            let mut entries: Vec<Entry> = carried
                .iter()
                .enumerate()
                .filter(|(_, m)| **m > 0)
                .map(|(i, m)| Entry::rollover(FEB, *m, date(2025, 10 + i as i8, 1)))
                .collect();
            entries.push(Entry::grant(FEB, Minutes(grant)));
            let mut logged = 0i64;
            for op in ops {
                let before = summarize(&entries);
                match op {
                    Op::Log(m) => {
                        let d = draw(FEB, &entries, Minutes(m)).unwrap();
                        prop_assert_eq!(d.total(), Minutes(m));
                        prop_assert!(d.from_bank() <= before.remaining);
                        prop_assert!(d.overage.0 == 0 || d.from_bank() == before.remaining);
                        entries.extend(d.entries());
                        logged += m;
                    }
                    Op::Adjust(m) => match adjust(FEB, &entries, Minutes(m), "fix") {
                        Ok(more) => entries.extend(more),
                        Err(_) => prop_assert!(m == 0 || -m > before.remaining.0),
                    },
                    Op::Correct(m) => match correct(FEB, &entries, Minutes(m), "fix") {
                        Ok(more) => {
                            entries.extend(more);
                            logged -= m;
                        }
                        Err(_) => prop_assert!(m > before.consumed().0),
                    },
                }
                prop_assert_eq!(check_period(FEB, &entries), Ok(()));
                let s = summarize(&entries);
                prop_assert_eq!(s.consumed(), Minutes(logged));
                prop_assert_eq!(
                    s.remaining.0,
                    s.available.0 - s.used.0 - s.carried_out.0 - s.expired.0
                );
                let sum_of_lots: i64 = lots(&entries).iter().map(|l| l.minutes.0).sum();
                let sum_of_entries: i64 = entries.iter().map(Entry::bank_minutes).sum();
                prop_assert_eq!(s.remaining.0, sum_of_lots);
                prop_assert_eq!(s.remaining.0, sum_of_entries);
                prop_assert!(lots(&entries).iter().all(|l| l.minutes.0 >= 0));
            }
        }
    }
}
