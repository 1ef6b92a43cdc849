//! A client on a plan over time: support model, dates, billing period and state.

use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

use crate::{plan::parse_plan_code, plan::text_enum, FieldErrors};

text_enum!(
    /// The article's support models: none, a 2–6 week stabilization window after launch,
    /// a monthly retainer, or help as needed.
    SupportModel, "support model", {
        None => "none", Stabilization => "stabilization", MonthlyRetainer => "monthly-retainer", AsNeeded => "as-needed"
    }
);
text_enum!(BillingPeriod, "billing period", { Monthly => "monthly", Annual => "annual" });
text_enum!(ContractState, "contract state", {
    Active => "active", Paused => "paused", Offboarding => "offboarding", Ended => "ended"
});

impl ContractState {
    /// An ended contract stays ended: a returning client gets a new contract, so the
    /// history of the old one is never rewritten.
    pub fn can_become(self, next: ContractState) -> Result<(), String> {
        if self == ContractState::Ended && next != ContractState::Ended {
            return Err("an ended contract cannot be reopened; start a new contract".into());
        }
        Ok(())
    }

    /// States in which the client is still served (and so cannot be deleted).
    pub fn is_live(self) -> bool {
        !matches!(self, ContractState::Ended)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInput {
    pub plan_code: String,
    pub support_model: SupportModel,
    /// Only for a stabilization window: 2 to 6 weeks.
    pub stabilization_weeks: Option<i64>,
    pub start_date: Date,
    pub billing_period: BillingPeriod,
    pub renewal_date: Date,
    pub state: ContractState,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContractDraft {
    pub plan: String,
    pub support_model: String,
    pub stabilization_weeks: String,
    pub start_date: String,
    pub billing_period: String,
    pub renewal_date: String,
    pub state: String,
}

/// When a contract renews if nobody says otherwise: the end of a stabilization window,
/// else one billing period after the start.
pub fn default_renewal(
    start: Date,
    model: SupportModel,
    period: BillingPeriod,
    weeks: Option<i64>,
) -> Date {
    let next = match (model, weeks) {
        (SupportModel::Stabilization, Some(w)) => start.checked_add(w.weeks()),
        _ => match period {
            BillingPeriod::Monthly => start.checked_add(1.month()),
            BillingPeriod::Annual => start.checked_add(1.year()),
        },
    };
    next.unwrap_or(start)
}

impl ContractDraft {
    /// Parses the draft; `today` fills a missing start date.
    pub fn parse(&self, today: Date) -> Result<ContractInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let plan_code = e.check("plan", parse_plan_code(&self.plan));
        let or_default = |raw: &str, default: &str| {
            if raw.trim().is_empty() {
                default.to_string()
            } else {
                raw.to_string()
            }
        };
        let model = e.check(
            "support_model",
            SupportModel::parse(&or_default(&self.support_model, "monthly-retainer")),
        );
        let period = e.check(
            "billing_period",
            BillingPeriod::parse(&or_default(&self.billing_period, "monthly")),
        );
        let state = e.check(
            "state",
            ContractState::parse(&or_default(&self.state, "active")),
        );
        let weeks = match (model, self.stabilization_weeks.trim()) {
            (Some(SupportModel::Stabilization), raw) => e.check(
                "stabilization_weeks",
                raw.parse::<i64>()
                    .ok()
                    .filter(|w| (2..=6).contains(w))
                    .map(Some)
                    .ok_or("a stabilization window lasts 2 to 6 weeks"),
            ),
            (_, "") => Some(None),
            (_, _) => {
                e.add(
                    "stabilization_weeks",
                    "only applies to a stabilization window",
                );
                None
            }
        };
        let date = |field: &str, raw: &str, e: &mut FieldErrors| -> Option<Option<Date>> {
            match raw.trim() {
                "" => Some(None),
                s => e.check(
                    field,
                    s.parse::<Date>()
                        .map(Some)
                        .map_err(|_| format!("\"{s}\" is not a date like 2026-11-01")),
                ),
            }
        };
        let start = date("start_date", &self.start_date, &mut e).map(|d| d.unwrap_or(today));
        let renewal = date("renewal_date", &self.renewal_date, &mut e);
        match (plan_code, model, period, state, weeks, start, renewal) {
            (
                Some(plan_code),
                Some(model),
                Some(period),
                Some(state),
                Some(weeks),
                Some(start),
                Some(renewal),
            ) if e.is_empty() => {
                let renewal_date =
                    renewal.unwrap_or_else(|| default_renewal(start, model, period, weeks));
                if renewal_date <= start {
                    return Err(FieldErrors::single(
                        "renewal_date",
                        "must be after the start date",
                    ));
                }
                Ok(ContractInput {
                    plan_code,
                    support_model: model,
                    stabilization_weeks: weeks,
                    start_date: start,
                    billing_period: period,
                    renewal_date,
                    state,
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_monthly_retainer_starting_today_is_the_default() {
        let c = ContractDraft {
            plan: "growth".into(),
            ..Default::default()
        }
        .parse(date(2026, 11, 21))
        .unwrap();
        assert_eq!(c.plan_code, "GROWTH");
        assert_eq!(c.support_model, SupportModel::MonthlyRetainer);
        assert_eq!(c.state, ContractState::Active);
        assert_eq!(c.renewal_date, date(2026, 12, 21));
    }

    #[test]
    fn a_stabilization_window_lasts_two_to_six_weeks() {
        let mut d = ContractDraft {
            plan: "STARTER".into(),
            support_model: "stabilization".into(),
            stabilization_weeks: "4".into(),
            start_date: "2026-11-02".into(),
            ..Default::default()
        };
        assert_eq!(
            d.parse(date(2026, 1, 1)).unwrap().renewal_date,
            date(2026, 11, 30)
        );
        d.stabilization_weeks = "8".into();
        assert!(d
            .parse(date(2026, 1, 1))
            .unwrap_err()
            .get("stabilization_weeks")
            .is_some());
    }

    #[test]
    fn an_annual_contract_renews_a_year_later_unless_told() {
        let d = ContractDraft {
            plan: "GROWTH".into(),
            billing_period: "annual".into(),
            start_date: "2026-02-01".into(),
            ..Default::default()
        };
        assert_eq!(
            d.parse(date(2026, 1, 1)).unwrap().renewal_date,
            date(2027, 2, 1)
        );
        let bad = ContractDraft {
            renewal_date: "2025-01-01".into(),
            ..d
        };
        assert!(bad
            .parse(date(2026, 1, 1))
            .unwrap_err()
            .get("renewal_date")
            .is_some());
    }

    #[test]
    fn an_ended_contract_is_never_reopened() {
        assert!(ContractState::Ended
            .can_become(ContractState::Active)
            .is_err());
        assert!(ContractState::Paused
            .can_become(ContractState::Active)
            .is_ok());
    }
}
