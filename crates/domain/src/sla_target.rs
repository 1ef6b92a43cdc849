//! How a plan's SLA target becomes an amount of time on a clock, and a due time.
//!
//! # The rules
//!
//! - **Hours.** `N h` on a business clock is N × 60 business minutes of the client's
//!   calendar; on a 24x7 clock it is N × 60 wall-clock minutes.
//! - **Business days.** `N bd` is N × the calendar's *average open day*: its weekly
//!   business minutes divided by the number of weekdays that have hours (480 minutes on a
//!   Monday–Friday 09:00–17:00 week), rounded down to a whole minute. On a calendar
//!   whose open days all have the same hours this is the same business moment N open
//!   days later (Tuesday 10:00 + 3 bd = Friday 10:00, holidays skipped); on an uneven
//!   week it is N average days. A plain number of business minutes is what lets a paused
//!   clock carry on where it stopped. On a 24x7 clock a business day is 24 hours.
//! - **After hours.** When a target has an after-hours amount, the clock's start decides
//!   which amount applies, once: a start inside the client's business hours uses
//!   `amount`, a start outside them uses `after_hours_amount`. Both are counted on the
//!   target's own clock (ENTERPRISE P0 response `1h/4h@24x7`: a ticket opened Tuesday
//!   10:00 is due 11:00; one opened Saturday 10:00 is due Saturday 14:00).
//! - **Next window.** A `next-window` target ("next monthly maintenance window") has no
//!   due time; its label is what the ticket page shows. A target without an amount is
//!   treated the same way, labelled "no target".

use jiff::Timestamp;

use crate::{
    business_time::{BusinessHours, BusinessTimeError, ALL_HOURS},
    plan::{ClockKind, SlaTarget, TargetUnit},
};

/// Why a due time could not be worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlaError {
    #[error(transparent)]
    BusinessTime(#[from] BusinessTimeError),
    #[error("a target's amount must be positive (this one is {0})")]
    NonPositiveAmount(i64),
}

/// How much time a target allows, on which clock, and why that much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub minutes: i64,
    pub clock: ClockKind,
    pub basis: BudgetBasis,
}

/// Where a budget's minutes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetBasis {
    /// A plain number of hours.
    Hours { hours: i64 },
    /// The clock started inside business hours, so the in-hours amount applies.
    InHours { hours: i64, after_hours: i64 },
    /// The clock started outside business hours, so the after-hours amount applies.
    AfterHours { hours: i64, in_hours: i64 },
    /// Business days of `day_minutes` each (the average open day, or 24 h on 24x7).
    BusinessDays { days: i64, day_minutes: i64 },
}

/// What a target asks of a clock that starts at a given instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetTerms {
    Timed(Budget),
    /// No due time; the label says what the client can expect instead.
    Untimed {
        label: String,
    },
}

/// A target's due time for a clock that starts at a given instant and never pauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueTime {
    At { due: Timestamp, budget: Budget },
    Untimed { label: String },
}

/// The calendar a clock counts on: the client's business hours or the built-in 24/7.
pub fn counting_hours(clock: ClockKind, client: &BusinessHours) -> &BusinessHours {
    match clock {
        ClockKind::Business => client,
        ClockKind::AllHours => &ALL_HOURS,
    }
}

/// "of business time" or "" (24x7): the words that follow an amount on this clock.
pub fn time_words(clock: ClockKind) -> &'static str {
    match clock {
        ClockKind::Business => " of business time",
        ClockKind::AllHours => "",
    }
}

/// "3 h 20 m", "45 m", "8 h".
pub fn hours_and_minutes(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} m"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} m"),
    }
}

impl Budget {
    /// "8 h of business time", "4 h around the clock (opened after hours; 1 h in
    /// business hours)", "3 business days of 8 h = 24 h of business time".
    pub fn explain(&self) -> String {
        let clock = match self.clock {
            ClockKind::Business => "of business time",
            ClockKind::AllHours => "around the clock",
        };
        let total = hours_and_minutes(self.minutes);
        match self.basis {
            BudgetBasis::Hours { .. } => format!("{total} {clock}"),
            BudgetBasis::InHours { after_hours, .. } => {
                format!("{total} {clock} (opened in business hours; {after_hours} h after hours)")
            }
            BudgetBasis::AfterHours { in_hours, .. } => {
                format!("{total} {clock} (opened after hours; {in_hours} h in business hours)")
            }
            BudgetBasis::BusinessDays { days, day_minutes } => {
                let unit = match (self.clock, days) {
                    (ClockKind::Business, 1) => "business day",
                    (ClockKind::Business, _) => "business days",
                    (ClockKind::AllHours, 1) => "day",
                    (ClockKind::AllHours, _) => "days",
                };
                format!(
                    "{days} {unit} of {} = {total} {clock}",
                    hours_and_minutes(day_minutes)
                )
            }
        }
    }
}

impl TargetTerms {
    pub fn budget(&self) -> Option<&Budget> {
        match self {
            TargetTerms::Timed(b) => Some(b),
            TargetTerms::Untimed { .. } => None,
        }
    }

    pub fn explain(&self) -> String {
        match self {
            TargetTerms::Timed(b) => b.explain(),
            TargetTerms::Untimed { label } => label.clone(),
        }
    }
}

/// What `target` allows a clock that starts at `start`, on the client's `hours` (which
/// decide both business-hours counting and whether the start is after hours).
pub fn target_terms(
    target: &SlaTarget,
    hours: &BusinessHours,
    start: Timestamp,
) -> Result<TargetTerms, SlaError> {
    let untimed = |fallback: &str| TargetTerms::Untimed {
        label: target.label.clone().unwrap_or_else(|| fallback.to_string()),
    };
    let Some(amount) = target.amount else {
        return Ok(match target.unit {
            TargetUnit::NextWindow => untimed("next scheduled window"),
            _ => untimed("no target"),
        });
    };
    if target.unit == TargetUnit::NextWindow {
        return Ok(untimed("next scheduled window"));
    }
    let (amount, basis_of) = match target.after_hours_amount {
        Some(after) if hours.is_open(start) => (amount, Some((amount, after, true))),
        Some(after) => (after, Some((amount, after, false))),
        None => (amount, None),
    };
    if amount <= 0 {
        return Err(SlaError::NonPositiveAmount(amount));
    }
    let (minutes, basis) = match target.unit {
        TargetUnit::BusinessDays => {
            let day_minutes = counting_hours(target.clock, hours)
                .business_day_minutes()
                .ok_or(BusinessTimeError::NoBusinessHours)?;
            let basis = BudgetBasis::BusinessDays {
                days: amount,
                day_minutes,
            };
            (amount.checked_mul(day_minutes), basis)
        }
        _ => {
            let basis = match basis_of {
                Some((in_hours, after_hours, true)) => BudgetBasis::InHours {
                    hours: in_hours,
                    after_hours,
                },
                Some((in_hours, after_hours, false)) => BudgetBasis::AfterHours {
                    hours: after_hours,
                    in_hours,
                },
                None => BudgetBasis::Hours { hours: amount },
            };
            (amount.checked_mul(60), basis)
        }
    };
    let minutes = minutes.ok_or(BusinessTimeError::OutOfRange)?;
    Ok(TargetTerms::Timed(Budget {
        minutes,
        clock: target.clock,
        basis,
    }))
}

/// When `target` falls due for a clock that starts at `start` and never pauses.
pub fn due_time(
    target: &SlaTarget,
    hours: &BusinessHours,
    start: Timestamp,
) -> Result<DueTime, SlaError> {
    match target_terms(target, hours, start)? {
        TargetTerms::Untimed { label } => Ok(DueTime::Untimed { label }),
        TargetTerms::Timed(budget) => {
            let due = counting_hours(budget.clock, hours).add_minutes(start, budget.minutes)?;
            Ok(DueTime::At { due, budget })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{BusinessCalendar, Holiday, WeeklyHours};
    use crate::plan::{Severity, TargetKind};
    use jiff::{civil::DateTime, tz::TimeZone};

    const NEW_YORK: &str = "America/New_York";

    fn at(local: &str) -> Timestamp {
        let dt: DateTime = local.parse().unwrap();
        dt.to_zoned(TimeZone::get(NEW_YORK).unwrap())
            .unwrap()
            .timestamp()
    }

    fn local(ts: Timestamp) -> String {
        ts.to_zoned(TimeZone::get(NEW_YORK).unwrap())
            .strftime("%a %Y-%m-%d %H:%M")
            .to_string()
    }

    fn hours(holidays: &[&str]) -> BusinessHours {
        let cal = BusinessCalendar {
            hours: WeeklyHours::default(),
            holidays: holidays
                .iter()
                .map(|d| Holiday {
                    date: d.parse().unwrap(),
                    name: String::new(),
                })
                .collect(),
        };
        BusinessHours::new(&cal, TimeZone::get(NEW_YORK).unwrap())
    }

    fn target(spec: &str) -> SlaTarget {
        SlaTarget::parse_spec(Severity::P1, TargetKind::Response, spec).unwrap()
    }

    fn due(spec: &str, start: &str) -> String {
        match due_time(&target(spec), &hours(&[]), at(start)).unwrap() {
            DueTime::At { due, .. } => local(due),
            DueTime::Untimed { label } => label,
        }
    }

    #[test]
    fn growth_p1_response_opened_friday_at_four_is_due_monday_at_four() {
        // 8 business hours: Friday 16:00–17:00 is one, Monday 09:00–16:00 the other seven.
        assert_eq!(due("8h", "2026-01-16T16:00"), "Mon 2026-01-19 16:00");
    }

    #[test]
    fn enterprise_p0_response_is_one_hour_when_opened_in_business_hours() {
        assert_eq!(
            due("1h/4h@24x7", "2026-01-13T10:00"),
            "Tue 2026-01-13 11:00"
        );
        // Still in hours at 16:30, and the 24x7 clock runs past closing.
        assert_eq!(
            due("1h/4h@24x7", "2026-01-13T16:30"),
            "Tue 2026-01-13 17:30"
        );
        let terms = target_terms(&target("1h/4h@24x7"), &hours(&[]), at("2026-01-13T10:00"));
        assert_eq!(
            terms.unwrap().explain(),
            "1 h around the clock (opened in business hours; 4 h after hours)"
        );
    }

    #[test]
    fn enterprise_p0_response_is_four_hours_when_opened_after_hours() {
        assert_eq!(
            due("1h/4h@24x7", "2026-01-17T10:00"),
            "Sat 2026-01-17 14:00"
        );
        assert_eq!(
            due("1h/4h@24x7", "2026-01-13T21:00"),
            "Wed 2026-01-14 01:00"
        );
        // A holiday is after hours all day.
        let start = at("2026-12-25T11:00");
        let DueTime::At { due, budget } =
            due_time(&target("1h/4h@24x7"), &hours(&["2026-12-25"]), start).unwrap()
        else {
            panic!("a timed target");
        };
        assert_eq!(local(due), "Fri 2026-12-25 15:00");
        assert_eq!(
            budget.basis,
            BudgetBasis::AfterHours {
                hours: 4,
                in_hours: 1
            }
        );
    }

    #[test]
    fn an_after_hours_amount_on_a_business_clock_counts_business_hours() {
        // 1h/4h without @24x7: opened Saturday, four business hours from Monday 09:00.
        assert_eq!(due("1h/4h", "2026-01-17T10:00"), "Mon 2026-01-19 13:00");
    }

    #[test]
    fn business_days_are_the_same_business_moment_on_an_even_week() {
        assert_eq!(due("3bd", "2026-01-13T10:00"), "Fri 2026-01-16 10:00");
        assert_eq!(due("2bd", "2026-01-16T16:00"), "Tue 2026-01-20 16:00");
        // Opened on a Saturday: counted from Monday's opening, due at Tuesday's close.
        assert_eq!(due("2bd", "2026-01-17T10:00"), "Tue 2026-01-20 17:00");
        let DueTime::At { due, budget } = due_time(
            &target("2bd"),
            &hours(&["2026-01-19"]),
            at("2026-01-16T16:00"),
        )
        .unwrap() else {
            panic!("a timed target");
        };
        assert_eq!(local(due), "Wed 2026-01-21 16:00");
        assert_eq!(
            budget.explain(),
            "2 business days of 8 h = 16 h of business time"
        );
    }

    #[test]
    fn business_days_on_an_uneven_week_are_average_open_days() {
        let cal = BusinessCalendar {
            hours: WeeklyHours::parse("mon-thu 09:00-17:00\nfri 09:00-13:00").unwrap(),
            holidays: vec![],
        };
        let hours = BusinessHours::new(&cal, TimeZone::get(NEW_YORK).unwrap());
        // 36 h over 5 open days: a business day is 7 h 12 m.
        let DueTime::At { due, budget } =
            due_time(&target("1bd"), &hours, at("2026-01-13T09:00")).unwrap()
        else {
            panic!("a timed target");
        };
        assert_eq!(budget.minutes, 432);
        assert_eq!(local(due), "Tue 2026-01-13 16:12");
    }

    #[test]
    fn business_days_on_a_24x7_clock_are_whole_days() {
        assert_eq!(due("2bd@24x7", "2026-01-16T16:00"), "Sun 2026-01-18 16:00");
    }

    #[test]
    fn a_next_window_target_has_no_due_time_only_its_label() {
        assert_eq!(
            due("window:Next monthly maintenance window", "2026-01-16T16:00"),
            "Next monthly maintenance window"
        );
        let mut no_amount = target("4h");
        no_amount.amount = None;
        assert_eq!(
            due_time(&no_amount, &hours(&[]), at("2026-01-16T16:00")).unwrap(),
            DueTime::Untimed {
                label: "no target".into()
            }
        );
    }

    #[test]
    fn a_business_clock_on_a_calendar_without_hours_is_an_error() {
        let closed = BusinessHours::new(
            &BusinessCalendar {
                hours: WeeklyHours::parse("").unwrap(),
                holidays: vec![],
            },
            TimeZone::UTC,
        );
        let start = at("2026-01-16T16:00");
        for spec in ["4h", "2bd"] {
            assert_eq!(
                due_time(&target(spec), &closed, start),
                Err(SlaError::BusinessTime(BusinessTimeError::NoBusinessHours))
            );
        }
        // A 24x7 target still has a due time: it never needed the business hours.
        assert!(matches!(
            due_time(&target("4h@24x7"), &closed, start),
            Ok(DueTime::At { .. })
        ));
    }

    #[test]
    fn a_hand_built_target_with_no_positive_amount_is_refused() {
        let mut zero = target("4h");
        zero.amount = Some(0);
        assert_eq!(
            due_time(&zero, &hours(&[]), at("2026-01-16T16:00")),
            Err(SlaError::NonPositiveAmount(0))
        );
    }
}
