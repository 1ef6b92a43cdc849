//! When a period's hours run out at the pace they are being used.
//!
//! The burn rate is the period's included work so far ([`PeriodSummary::consumed`])
//! divided by the days elapsed, counting today as a whole day (on the period's first day,
//! one day has elapsed). At that rate, the hours run out on the first day by whose end
//! the period's available hours are used. The forecast says which of four things holds:
//! nothing used yet (no rate to project), already out, out on a date before the period
//! ends, or the hours last the period (with what the period will have used by its end).

use jiff::{civil::Date, Span};
use serde::{Deserialize, Serialize};

use crate::{ledger::PeriodSummary, minutes::Minutes, month_close::BankPeriod};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "forecast", rename_all = "kebab-case")]
pub enum Forecast {
    /// No included work yet this period, so no burn rate.
    NoUsage,
    /// The available hours are already used.
    AlreadyOut,
    /// At this pace the hours run out on `on`, before the period ends.
    RunsOut { on: Date, per_day: Minutes },
    /// At this pace the hours last the period, which will have used about `projected`.
    Lasts {
        projected: Minutes,
        per_day: Minutes,
    },
}

impl Forecast {
    /// The day the hours run out, when that is before the period ends.
    pub fn runs_out_on(&self) -> Option<Date> {
        match self {
            Forecast::RunsOut { on, .. } => Some(*on),
            _ => None,
        }
    }
}

fn days_between(from: Date, to: Date) -> i64 {
    to.since(from)
        .map(|span| i64::from(span.get_days()))
        .unwrap_or(0)
}

/// The forecast for `period` on the client's local date `today` (a date after the period
/// counts as its last day; a date before it as no time elapsed).
pub fn forecast(period: &BankPeriod, today: Date, summary: &PeriodSummary) -> Forecast {
    let used = i128::from(summary.consumed().0);
    let available = i128::from(summary.available.0);
    if used <= 0 || today < period.start {
        return Forecast::NoUsage;
    }
    if used >= available {
        return Forecast::AlreadyOut;
    }
    let length = i128::from(period.days().max(1));
    let elapsed = i128::from(days_between(period.start, today) + 1).clamp(1, length);
    let per_day = Minutes(i64::try_from((used + elapsed / 2) / elapsed).unwrap_or(i64::MAX));
    // The first day d with used / elapsed * d >= available.
    let day = (available * elapsed + used - 1) / used;
    if day > length {
        let projected = (used * length + elapsed / 2) / elapsed;
        return Forecast::Lasts {
            projected: Minutes(i64::try_from(projected).unwrap_or(i64::MAX)),
            per_day,
        };
    }
    let offset = i64::try_from(day - 1).unwrap_or(0);
    match period.start.checked_add(Span::new().days(offset)) {
        Ok(on) => Forecast::RunsOut { on, per_day },
        Err(_) => Forecast::Lasts {
            projected: summary.consumed(),
            per_day,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::month_close::PeriodSchedule;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn january() -> BankPeriod {
        PeriodSchedule::new(date(2026, 1, 1)).first().unwrap()
    }

    fn used(used: i64, available: i64) -> PeriodSummary {
        PeriodSummary {
            available: Minutes(available),
            used: Minutes(used.min(available)),
            overage: Minutes((used - available).max(0)),
            ..PeriodSummary::default()
        }
    }

    #[test]
    fn five_hours_in_the_first_ten_days_of_a_ten_hour_month_runs_out_on_the_twentieth() {
        let f = forecast(&january(), date(2026, 1, 10), &used(300, 600));
        assert_eq!(
            f,
            Forecast::RunsOut {
                on: date(2026, 1, 20),
                per_day: Minutes(30)
            }
        );
        assert_eq!(f.runs_out_on(), Some(date(2026, 1, 20)));
    }

    #[test]
    fn a_slow_month_lasts_and_says_how_much_it_will_use() {
        let f = forecast(&january(), date(2026, 1, 10), &used(100, 600));
        assert_eq!(
            f,
            Forecast::Lasts {
                projected: Minutes(310),
                per_day: Minutes(10)
            }
        );
        assert_eq!(f.runs_out_on(), None);
    }

    #[test]
    fn no_usage_or_no_hours_left_is_said_as_such() {
        assert_eq!(
            forecast(&january(), date(2026, 1, 10), &used(0, 600)),
            Forecast::NoUsage
        );
        assert_eq!(
            forecast(&january(), date(2026, 1, 10), &used(600, 600)),
            Forecast::AlreadyOut
        );
        assert_eq!(
            forecast(&january(), date(2026, 1, 10), &used(15, 0)),
            Forecast::AlreadyOut
        );
        assert_eq!(
            forecast(&january(), date(2025, 12, 31), &used(15, 600)),
            Forecast::NoUsage
        );
    }

    #[test]
    fn heavy_use_on_the_first_day_runs_out_within_days() {
        let f = forecast(&january(), date(2026, 1, 1), &used(240, 600));
        assert_eq!(f.runs_out_on(), Some(date(2026, 1, 3)));
    }

    proptest! {
        #[test]
        fn the_run_out_date_is_after_today_and_inside_the_period(
            day in 0i64..31,
            used_so_far in 1i64..1_200,
            available in 1i64..1_800,
        ) {
            let p = january();
            let today = p.start.checked_add(Span::new().days(day)).unwrap();
            match forecast(&p, today, &used(used_so_far, available)) {
                Forecast::RunsOut { on, .. } => {
                    prop_assert!(on > today && p.contains(on));
                    // By the end of that day, the pace has used the hours; the day before, not.
                    let elapsed = day + 1;
                    let d = days_between(p.start, on) + 1;
                    prop_assert!(used_so_far * d >= available * elapsed);
                    prop_assert!(used_so_far * (d - 1) < available * elapsed);
                }
                Forecast::Lasts { projected, .. } => {
                    prop_assert!(used_so_far < available);
                    prop_assert!(projected.0 <= available);
                }
                Forecast::AlreadyOut => prop_assert!(used_so_far >= available),
                Forecast::NoUsage => prop_assert!(false, "usage was logged"),
            }
        }
    }
}
