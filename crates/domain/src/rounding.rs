//! Rounding logged time into billable time, and reading the durations people type.
//!
//! # The rule
//!
//! A plan's [`RoundingRule`] has an **increment** (the SOP's 15 minutes), a **minimum**
//! (0 by default) and a **mode**:
//!
//! - `each-entry`: every time entry is billed on its own: its minutes, raised to the
//!   minimum, rounded up to the increment. 20 minutes bill as 30; 5 minutes as 15.
//! - `daily-per-ticket`: a ticket's entries on one local date (the client's timezone) are
//!   summed, the sum is raised to the minimum and rounded up once. Three 5-minute checks
//!   on one ticket in a day bill as 15, not 45.
//!
//! The minimum applies to each billed unit: an entry in `each-entry` mode, a ticket's day
//! in `daily-per-ticket` mode. An entry of zero minutes bills nothing.
//!
//! Billable time is never less than the time worked, entry by entry.
//!
//! # Spreading a day's rounding over its entries
//!
//! In `daily-per-ticket` mode each entry bills its own minutes, and **the last entry of
//! the ticket's day (in the order they were logged) carries the rounding**. So the day's
//! entries add up to the rounded day, and each entry still bills at least what it took.
//! Logging another entry that day moves the rounding onto the new entry; the day's total
//! grows only by what the new entry adds to the rounded sum, which is what
//! [`RoundingRule::added_by`] returns and what the hour bank draws.
//!
//! Entries charged differently (included work and billable work, or billable work at two
//! rates) are rounded separately: pass each charge's entries on their own.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{
    minutes::{Minutes, MinutesError},
    plan::{text_enum, PlanTerms},
};

text_enum!(
    /// How logged minutes are grouped before rounding up (see the module docs).
    RoundingMode, "rounding mode", { EachEntry => "each-entry", DailyPerTicket => "daily-per-ticket" }
);

/// A plan's rounding: increment, mode and minimum. Build it with [`RoundingRule::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundingRule {
    increment: Minutes,
    mode: RoundingMode,
    minimum: Minutes,
}

/// One time entry, as far as rounding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedTime {
    /// The minutes actually worked (a negative value counts as zero).
    pub actual: Minutes,
    pub ticket: i64,
    /// The local date of the work, in the client's timezone.
    pub date: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoundingError {
    #[error("the increment must be a whole number of minutes from 1 to 240")]
    Increment,
    #[error("the minimum must be from 0 to 480 minutes")]
    Minimum,
}

impl Default for RoundingRule {
    /// The SOP's: each entry rounded up to 15 minutes, no minimum beyond that.
    fn default() -> Self {
        Self {
            increment: Minutes(15),
            mode: RoundingMode::EachEntry,
            minimum: Minutes(0),
        }
    }
}

fn round_up(minutes: i64, increment: i64) -> i64 {
    let whole = minutes / increment + i64::from(minutes % increment != 0);
    whole.saturating_mul(increment)
}

impl RoundingRule {
    pub fn new(
        increment: Minutes,
        mode: RoundingMode,
        minimum: Minutes,
    ) -> Result<Self, RoundingError> {
        if !(1..=240).contains(&increment.0) {
            return Err(RoundingError::Increment);
        }
        if !(0..=480).contains(&minimum.0) {
            return Err(RoundingError::Minimum);
        }
        Ok(Self {
            increment,
            mode,
            minimum,
        })
    }

    /// The plan's increment, each entry rounded on its own, no minimum beyond that.
    pub fn for_plan(terms: &PlanTerms) -> Self {
        Self::new(terms.increment, RoundingMode::EachEntry, Minutes(0)).unwrap_or_default()
    }

    pub fn increment(&self) -> Minutes {
        self.increment
    }

    pub fn mode(&self) -> RoundingMode {
        self.mode
    }

    pub fn minimum(&self) -> Minutes {
        self.minimum
    }

    /// One billed unit: zero stays zero; anything else is raised to the minimum and
    /// rounded up to the increment.
    pub fn round(&self, actual: Minutes) -> Minutes {
        if actual.0 <= 0 {
            return Minutes(0);
        }
        Minutes(round_up(actual.0.max(self.minimum.0), self.increment.0))
    }

    /// Billable minutes for each entry, in the same order (see the module docs for how a
    /// day's rounding is spread over its entries).
    pub fn billable(&self, entries: &[LoggedTime]) -> Vec<Minutes> {
        match self.mode {
            RoundingMode::EachEntry => entries.iter().map(|e| self.round(e.actual)).collect(),
            RoundingMode::DailyPerTicket => {
                let mut out: Vec<Minutes> =
                    entries.iter().map(|e| Minutes(e.actual.0.max(0))).collect();
                // (ticket, date) -> (sum of the day's minutes, index of its last entry)
                let mut days: std::collections::HashMap<(i64, Date), (i64, usize)> =
                    std::collections::HashMap::new();
                for (i, e) in entries.iter().enumerate() {
                    let day = days.entry((e.ticket, e.date)).or_insert((0, i));
                    day.0 = day.0.saturating_add(e.actual.0.max(0));
                    day.1 = i;
                }
                for (sum, last) in days.into_values() {
                    let carry = self.round(Minutes(sum)).0 - sum;
                    out[last].0 = out[last].0.saturating_add(carry);
                }
                out
            }
        }
    }

    /// The billable total of the entries.
    pub fn total(&self, entries: &[LoggedTime]) -> Minutes {
        Minutes(
            self.billable(entries)
                .iter()
                .fold(0i64, |sum, m| sum.saturating_add(m.0)),
        )
    }

    /// How many billable minutes logging `new` adds to what `existing` already bills:
    /// the minutes to draw from the hour bank for the new entry. In `each-entry` mode
    /// that is the new entry rounded; in `daily-per-ticket` mode the growth of its
    /// ticket's rounded day (often zero when a short entry fits in the day's rounding).
    pub fn added_by(&self, existing: &[LoggedTime], new: &LoggedTime) -> Minutes {
        match self.mode {
            RoundingMode::EachEntry => self.round(new.actual),
            RoundingMode::DailyPerTicket => {
                let before = existing
                    .iter()
                    .filter(|e| e.ticket == new.ticket && e.date == new.date)
                    .fold(0i64, |sum, e| sum.saturating_add(e.actual.0.max(0)));
                let after = before.saturating_add(new.actual.0.max(0));
                Minutes(self.round(Minutes(after)).0 - self.round(Minutes(before)).0)
            }
        }
    }
}

/// The longest single time entry [`parse_logged`] accepts.
pub const LONGEST_ENTRY: Minutes = Minutes(24 * 60);

/// Why a typed duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoggedDurationError {
    #[error("a duration is required (for example 1h30m, 90m, 1.5h or 45)")]
    Empty,
    #[error("\"{0}\" is not a duration (for example 1h30m, 90m, 1.5h or 45)")]
    Malformed(String),
    #[error("\"{0}\" is zero; log the time worked")]
    Zero(String),
    #[error("\"{0}\" is more than 24h; log longer work as one entry per day")]
    TooLong(String),
}

/// Reads the time worked as people type it on the command line (`tend log 1h30m`):
/// `1h30m`, `1h 30m`, `90m`, `1.5h`, `.25h`, or a bare number of minutes (`45`).
/// Hours come before minutes and each unit appears once; the result is rounded to the
/// nearest whole minute, and must be more than zero and at most 24 hours.
pub fn parse_logged(raw: &str) -> Result<Minutes, LoggedDurationError> {
    let text = raw.trim();
    let malformed = || LoggedDurationError::Malformed(text.to_string());
    let compact = text.to_lowercase().replace(' ', "");
    let hs = compact.matches('h').count();
    let ms = compact.matches('m').count();
    let misordered = matches!((compact.find('h'), compact.find('m')), (Some(h), Some(m)) if m < h);
    if hs > 1 || ms > 1 || misordered {
        return Err(malformed());
    }
    let minutes = Minutes::parse(text).map_err(|e| match e {
        MinutesError::Empty => LoggedDurationError::Empty,
        MinutesError::Malformed(_) => malformed(),
    })?;
    if minutes.0 == 0 {
        return Err(LoggedDurationError::Zero(text.to_string()));
    }
    if minutes > LONGEST_ENTRY {
        return Err(LoggedDurationError::TooLong(text.to_string()));
    }
    Ok(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn rule(increment: i64, mode: RoundingMode, minimum: i64) -> RoundingRule {
        RoundingRule::new(Minutes(increment), mode, Minutes(minimum)).unwrap()
    }

    fn logged(actual: i64, ticket: i64, day: i8) -> LoggedTime {
        LoggedTime {
            actual: Minutes(actual),
            ticket,
            date: date(2026, 1, day),
        }
    }

    fn minutes(list: &[i64]) -> Vec<Minutes> {
        list.iter().copied().map(Minutes).collect()
    }

    #[test]
    fn each_entry_is_rounded_up_to_the_increment() {
        let r = RoundingRule::default();
        let entries = [logged(20, 1, 15), logged(5, 1, 15), logged(90, 2, 18)];
        assert_eq!(r.billable(&entries), minutes(&[30, 15, 90]));
        assert_eq!(r.total(&entries), Minutes(135));
        assert_eq!(r.round(Minutes(0)), Minutes(0));
    }

    #[test]
    fn the_sop_sheet_logs_quarter_hours() {
        // 1/15 1.5h, 1/18 0.5h, 1/22 1h: a running total of 3h.
        let r = RoundingRule::default();
        let entries = [logged(84, 1, 15), logged(30, 2, 18), logged(47, 3, 22)];
        assert_eq!(r.billable(&entries), minutes(&[90, 30, 60]));
        assert_eq!(r.total(&entries).as_hours_text(), "3");
    }

    #[test]
    fn a_tickets_day_is_summed_then_rounded_once_and_its_last_entry_carries_the_rounding() {
        let r = rule(15, RoundingMode::DailyPerTicket, 0);
        let entries = [
            logged(5, 1, 15),
            logged(20, 2, 15),
            logged(5, 1, 15),
            logged(5, 1, 15),
            logged(5, 1, 16),
        ];
        // Ticket 1 on the 15th: 15 worked, 15 billed, nothing to carry. Ticket 2: 20 -> 30.
        // Ticket 1 on the 16th: 5 -> 15.
        assert_eq!(r.billable(&entries), minutes(&[5, 30, 5, 5, 15]));
        let more = [logged(5, 1, 15), logged(7, 1, 15)];
        assert_eq!(r.billable(&more), minutes(&[5, 10]));
    }

    #[test]
    fn the_minimum_applies_to_each_billed_unit() {
        let each = rule(15, RoundingMode::EachEntry, 30);
        assert_eq!(
            each.billable(&[logged(5, 1, 15), logged(5, 1, 15)]),
            minutes(&[30, 30])
        );
        let daily = rule(15, RoundingMode::DailyPerTicket, 30);
        assert_eq!(
            daily.billable(&[logged(5, 1, 15), logged(5, 1, 15)]),
            minutes(&[5, 25])
        );
        // A minimum that is not a multiple of the increment is rounded up too.
        assert_eq!(
            rule(15, RoundingMode::EachEntry, 20).round(Minutes(1)),
            Minutes(30)
        );
    }

    #[test]
    fn a_short_entry_that_fits_in_the_days_rounding_adds_nothing_to_draw() {
        let r = rule(15, RoundingMode::DailyPerTicket, 0);
        let day = [logged(20, 1, 15)];
        assert_eq!(r.added_by(&[], &day[0]), Minutes(30));
        assert_eq!(r.added_by(&day, &logged(5, 1, 15)), Minutes(0));
        assert_eq!(r.added_by(&day, &logged(15, 1, 15)), Minutes(15));
        assert_eq!(r.added_by(&day, &logged(5, 2, 15)), Minutes(15));
        assert_eq!(
            RoundingRule::default().added_by(&day, &logged(5, 1, 15)),
            Minutes(15)
        );
    }

    #[test]
    fn a_rule_out_of_range_is_refused() {
        assert_eq!(
            RoundingRule::new(Minutes(0), RoundingMode::EachEntry, Minutes(0)),
            Err(RoundingError::Increment)
        );
        assert_eq!(
            RoundingRule::new(Minutes(15), RoundingMode::EachEntry, Minutes(-1)),
            Err(RoundingError::Minimum)
        );
        assert_eq!(
            RoundingMode::parse("daily per ticket"),
            Ok(RoundingMode::DailyPerTicket)
        );
        assert!(RoundingMode::parse("weekly").is_err());
    }

    #[test]
    fn durations_are_read_the_way_people_type_them_on_the_command_line() {
        assert_eq!(parse_logged("1h30m"), Ok(Minutes(90)));
        assert_eq!(parse_logged("1h 30m"), Ok(Minutes(90)));
        assert_eq!(parse_logged("90m"), Ok(Minutes(90)));
        assert_eq!(parse_logged("1.5h"), Ok(Minutes(90)));
        assert_eq!(parse_logged(".25h"), Ok(Minutes(15)));
        assert_eq!(parse_logged("45"), Ok(Minutes(45)));
        assert_eq!(parse_logged("2H"), Ok(Minutes(120)));
        assert_eq!(parse_logged("24h"), Ok(Minutes(1440)));
    }

    #[test]
    fn a_bad_duration_gets_an_error_that_says_what_to_type() {
        assert_eq!(parse_logged(" "), Err(LoggedDurationError::Empty));
        for bad in ["soon", "-5", "1h1h", "30m1h", "1.5.5h", "h", "5x", "1:30"] {
            let err = parse_logged(bad).unwrap_err();
            assert_eq!(err, LoggedDurationError::Malformed(bad.to_string()));
            assert!(err.to_string().contains("for example 1h30m"), "{err}");
        }
        assert_eq!(
            parse_logged("0h"),
            Err(LoggedDurationError::Zero("0h".into()))
        );
        assert_eq!(
            parse_logged("25h"),
            Err(LoggedDurationError::TooLong("25h".into()))
        );
    }

    fn any_rule() -> impl Strategy<Value = RoundingRule> {
        (
            1i64..=60,
            prop_oneof![
                Just(RoundingMode::EachEntry),
                Just(RoundingMode::DailyPerTicket)
            ],
            0i64..=60,
        )
            .prop_map(|(i, m, min)| rule(i, m, min))
    }

    fn any_entries() -> impl Strategy<Value = Vec<LoggedTime>> {
        prop::collection::vec((0i64..300, 1i64..4, 1i8..4), 0..30).prop_map(|v| {
            v.into_iter()
                .map(|(a, t, d)| logged(a, t, d))
                .collect::<Vec<_>>()
        })
    }

    proptest! {
        #[test]
        fn billable_minutes_are_never_below_the_minutes_worked(r in any_rule(), entries in any_entries()) {
            let billable = r.billable(&entries);
            prop_assert_eq!(billable.len(), entries.len());
            for (b, e) in billable.iter().zip(&entries) {
                prop_assert!(b.0 >= e.actual.0);
            }
        }

        #[test]
        fn every_billed_unit_is_a_whole_number_of_increments(r in any_rule(), entries in any_entries()) {
            let inc = r.increment().0;
            match r.mode() {
                RoundingMode::EachEntry => {
                    for b in r.billable(&entries) {
                        prop_assert_eq!(b.0 % inc, 0);
                    }
                }
                RoundingMode::DailyPerTicket => {
                    let billable = r.billable(&entries);
                    let mut days = std::collections::HashMap::new();
                    for (b, e) in billable.iter().zip(&entries) {
                        *days.entry((e.ticket, e.date)).or_insert(0) += b.0;
                    }
                    for sum in days.values() {
                        prop_assert_eq!(sum % inc, 0);
                    }
                }
            }
        }

        #[test]
        fn logging_entries_one_by_one_adds_up_to_the_total(r in any_rule(), entries in any_entries()) {
            let mut drawn = 0;
            for i in 0..entries.len() {
                let added = r.added_by(&entries[..i], &entries[i]);
                prop_assert!(added.0 >= 0);
                drawn += added.0;
            }
            prop_assert_eq!(Minutes(drawn), r.total(&entries));
        }

        #[test]
        fn summing_a_day_never_bills_more_than_rounding_each_entry(
            (i, min) in (1i64..=60, 0i64..=60),
            entries in any_entries(),
        ) {
            let daily = rule(i, RoundingMode::DailyPerTicket, min).total(&entries);
            let each = rule(i, RoundingMode::EachEntry, min).total(&entries);
            prop_assert!(daily <= each);
        }

        #[test]
        fn a_typed_duration_reads_back_as_the_same_minutes(m in 1i64..=1440) {
            prop_assert_eq!(parse_logged(&m.to_string()), Ok(Minutes(m)));
            prop_assert_eq!(parse_logged(&Minutes(m).to_string()), Ok(Minutes(m)));
            prop_assert_eq!(parse_logged(&format!("{}m", m)), Ok(Minutes(m)));
        }
    }
}
