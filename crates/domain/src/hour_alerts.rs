//! Hour-bank alerts (the SOP's "When Hours Are Depleted"): a heads-up at 75 % of the
//! period's available hours, and a stop at 100 % before more included work is done,
//! with the choices the client has then.
//!
//! "Used" here is all included work this period, from the bank and beyond it
//! ([`PeriodSummary::consumed`]); "available" is the period's granted, carried and
//! adjusted hours ([`PeriodSummary::available`]). Each threshold fires **once per
//! period**: the caller keeps the thresholds already fired for the period and passes
//! them in. A threshold fires when usage grows to reach it; a correction that brings
//! usage down fires nothing, and does not re-arm a threshold that already fired.
//! A period with no available hours at all is depleted by its first included minute.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{
    ledger::PeriodSummary, minutes::Minutes, money::Cents, plan::text_enum, plan::PlanTerms,
};

text_enum!(
    /// A share of the period's available hours that triggers an alert.
    HoursThreshold, "hours threshold", { ThreeQuarters => "75-percent", Depleted => "100-percent" }
);

impl HoursThreshold {
    pub fn percent(self) -> i64 {
        match self {
            HoursThreshold::ThreeQuarters => 75,
            HoursThreshold::Depleted => 100,
        }
    }

    /// Whether `used` of `available` minutes reaches this threshold.
    pub fn reached(self, used: Minutes, available: Minutes) -> bool {
        used.0 > 0
            && i128::from(used.0) * 100 >= i128::from(available.0) * i128::from(self.percent())
    }
}

/// An alert to send: the threshold and the numbers the message quotes ("we've used 7.5
/// of your 10 monthly support hours ... Remaining: 2.5 hours").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourAlert {
    pub threshold: HoursThreshold,
    pub used: Minutes,
    pub available: Minutes,
    /// Never below zero.
    pub remaining: Minutes,
}

/// The thresholds that usage growing from `previous_used` to `new_used` reaches and that
/// have not fired yet this period (`fired`), lowest first.
pub fn crossed(
    available: Minutes,
    previous_used: Minutes,
    new_used: Minutes,
    fired: &[HoursThreshold],
) -> Vec<HourAlert> {
    if new_used <= previous_used {
        return Vec::new();
    }
    HoursThreshold::ALL
        .iter()
        .filter(|t| !fired.contains(t) && t.reached(new_used, available))
        .map(|&threshold| HourAlert {
            threshold,
            used: new_used,
            available,
            remaining: Minutes((available.0 - new_used.0).max(0)),
        })
        .collect()
}

/// [`crossed`] between a period's summary before and after a piece of work.
pub fn crossed_between(
    before: &PeriodSummary,
    after: &PeriodSummary,
    fired: &[HoursThreshold],
) -> Vec<HourAlert> {
    crossed(after.available, before.consumed(), after.consumed(), fired)
}

text_enum!(
    /// What happens to further included work once the period's hours are used up: bill
    /// it as overage, defer it until the hours refresh, or do it under an approved
    /// upgrade.
    DepletedChoice, "choice", { Overage => "overage", Defer => "defer", Upgrade => "upgrade" }
);

impl DepletedChoice {
    /// Whether the work waits for the next period. A plan change takes effect at the next
    /// period (see [`month_close`](crate::month_close)), so work approved under an
    /// upgrade is done on the new plan's hours, from its first day.
    pub fn waits_for_next_period(self) -> bool {
        !matches!(self, DepletedChoice::Overage)
    }
}

/// One choice offered to the client, with what the message quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "kebab-case")]
pub enum DepletedOption {
    /// Bill the work hourly now, at the plan's overage rate.
    Overage { rate: Cents },
    /// Do it when the hours refresh.
    Defer { refresh_on: Date },
    /// Move to a plan with more hours, from the next period.
    Upgrade {
        plan_code: String,
        plan_name: String,
        monthly_fee: Cents,
        included: Minutes,
        from: Date,
    },
}

impl DepletedOption {
    pub fn choice(&self) -> DepletedChoice {
        match self {
            DepletedOption::Overage { .. } => DepletedChoice::Overage,
            DepletedOption::Defer { .. } => DepletedChoice::Defer,
            DepletedOption::Upgrade { .. } => DepletedChoice::Upgrade,
        }
    }

    /// One line for a message or a form: "Bill hourly at $150/hour".
    pub fn describe(&self) -> String {
        match self {
            DepletedOption::Overage { rate } => format!("Bill hourly at {rate}/hour"),
            DepletedOption::Defer { refresh_on } => {
                format!("Add to next period: hours refresh on {refresh_on}")
            }
            DepletedOption::Upgrade {
                plan_code,
                monthly_fee,
                included,
                from,
                ..
            } => format!(
                "Upgrade to {plan_code} for {monthly_fee}/month ({} hours included) from {from}",
                included.as_hours_text()
            ),
        }
    }
}

/// The choices once `terms`' hours are used up: overage at its rate, deferring to
/// `next_period_start`, and an upgrade to `upgrade` when one is offered and includes
/// more hours.
pub fn depleted_options(
    terms: &PlanTerms,
    next_period_start: Date,
    upgrade: Option<&PlanTerms>,
) -> Vec<DepletedOption> {
    let mut out = vec![
        DepletedOption::Overage {
            rate: terms.overage_rate,
        },
        DepletedOption::Defer {
            refresh_on: next_period_start,
        },
    ];
    if let Some(u) = upgrade.filter(|u| u.included > terms.included) {
        out.push(DepletedOption::Upgrade {
            plan_code: u.code.clone(),
            plan_name: u.name.clone(),
            monthly_fee: u.monthly_fee,
            included: u.included,
            from: next_period_start,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ledger::{draw, summarize, Entry},
        work_type::tests::sop_plan,
    };
    use jiff::civil::date;
    use proptest::prelude::*;

    const JAN: Date = date(2026, 1, 1);

    #[test]
    fn a_growth_client_at_seven_and_a_half_of_ten_hours_gets_the_75_percent_alert() {
        let mut entries = vec![Entry::grant(JAN, Minutes::hours(10))];
        entries.extend(draw(JAN, &entries, Minutes(420)).unwrap().entries());
        let before = summarize(&entries);
        entries.extend(draw(JAN, &entries, Minutes(30)).unwrap().entries());
        let after = summarize(&entries);
        let alerts = crossed_between(&before, &after, &[]);
        assert_eq!(
            alerts,
            [HourAlert {
                threshold: HoursThreshold::ThreeQuarters,
                used: Minutes(450),
                available: Minutes(600),
                remaining: Minutes(150),
            }]
        );
        assert_eq!(alerts[0].used.as_hours_text(), "7.5");
        assert_eq!(alerts[0].remaining.as_hours_text(), "2.5");
        assert_eq!(after.share_used_percent(), Some(75));

        let fired = [HoursThreshold::ThreeQuarters];
        let before = after;
        entries.extend(draw(JAN, &entries, Minutes(150)).unwrap().entries());
        let after = summarize(&entries);
        let alerts = crossed_between(&before, &after, &fired);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].threshold, HoursThreshold::Depleted);
        assert_eq!(
            (alerts[0].used, alerts[0].remaining),
            (Minutes(600), Minutes(0))
        );
    }

    #[test]
    fn a_jump_past_both_thresholds_fires_both_and_each_fires_once() {
        let ten = Minutes::hours(10);
        let both = crossed(ten, Minutes(0), Minutes(700), &[]);
        let fired: Vec<HoursThreshold> = both.iter().map(|a| a.threshold).collect();
        assert_eq!(fired, HoursThreshold::ALL);
        assert_eq!(both[1].remaining, Minutes(0));
        assert!(crossed(ten, Minutes(700), Minutes(800), &fired).is_empty());
        assert!(crossed(ten, Minutes(0), Minutes(449), &[]).is_empty());
    }

    #[test]
    fn a_correction_fires_nothing() {
        let ten = Minutes::hours(10);
        assert!(crossed(ten, Minutes(600), Minutes(500), &[]).is_empty());
    }

    #[test]
    fn a_period_without_hours_is_depleted_by_its_first_minute() {
        let alerts = crossed(Minutes(0), Minutes(0), Minutes(15), &[]);
        assert_eq!(alerts.len(), 2);
        assert!(crossed(Minutes(0), Minutes(0), Minutes(0), &[]).is_empty());
    }

    #[test]
    fn once_the_hours_are_used_the_client_chooses_overage_deferral_or_an_upgrade() {
        let growth = sop_plan("GROWTH");
        let enterprise = sop_plan("ENTERPRISE");
        let options = depleted_options(&growth, date(2026, 2, 1), Some(&enterprise));
        let lines: Vec<String> = options.iter().map(DepletedOption::describe).collect();
        assert_eq!(
            lines,
            [
                "Bill hourly at $150/hour",
                "Add to next period: hours refresh on 2026-02-01",
                "Upgrade to ENTERPRISE for $2,500/month (20 hours included) from 2026-02-01",
            ]
        );
        let choices: Vec<DepletedChoice> = options.iter().map(DepletedOption::choice).collect();
        assert_eq!(choices, DepletedChoice::ALL);
        assert!(!DepletedChoice::Overage.waits_for_next_period());
        assert!(DepletedChoice::Upgrade.waits_for_next_period());
        // A "bigger" plan with no more hours is not offered as an upgrade.
        assert_eq!(
            depleted_options(&enterprise, date(2026, 2, 1), Some(&growth)).len(),
            2
        );
        assert_eq!(DepletedChoice::parse("Defer"), Ok(DepletedChoice::Defer));
    }

    proptest! {
        #[test]
        fn each_threshold_fires_once_per_period_in_order(
            available in 0i64..2_000,
            steps in prop::collection::vec(0i64..200, 0..40),
        ) {
            let available = Minutes(available);
            let mut used = Minutes(0);
            let mut fired: Vec<HoursThreshold> = Vec::new();
            for step in steps {
                let next = Minutes(used.0 + step);
                for alert in crossed(available, used, next, &fired) {
                    prop_assert!(!fired.contains(&alert.threshold));
                    prop_assert!(alert.threshold.reached(next, available));
                    fired.push(alert.threshold);
                }
                used = next;
                for t in HoursThreshold::ALL {
                    prop_assert_eq!(fired.contains(t), t.reached(used, available));
                }
            }
            prop_assert!(fired.windows(2).all(|w| w[0].percent() < w[1].percent()));
        }
    }
}
