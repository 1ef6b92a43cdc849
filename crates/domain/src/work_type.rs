//! Work types as data: what a time entry was for, whether it is drawn from the client's
//! hour bank (*included*) or billed on top of the monthly fee (*billable*), and at which
//! of the plan's rates.
//!
//! An agency keeps its own list; [`default_work_types`] is the SOP's ("Support Request
//! Categories"). Nothing in the code treats a code specially: the one plan-dependent rule
//! is carried by the data, through the rate kind.
//!
//! # How a work type is charged on a plan
//!
//! | coverage | rate kind | on a plan |
//! | --- | --- | --- |
//! | included | none | drawn from the hour bank; past the bank it is overage at the plan's overage rate |
//! | billable | hourly | billed at the plan's overage rate (the SOP's "$150/hour") |
//! | billable | emergency | billed at the plan's emergency rate, **or included** on a plan whose terms say emergency work is included (the SOP's ENTERPRISE) |
//!
//! [`WorkType::charge_on`] applies the table.

use serde::{Deserialize, Serialize};

use crate::{
    minutes::Minutes,
    money::Cents,
    plan::{text_enum, PlanTerms},
    FieldErrors,
};

text_enum!(
    /// Whether work is part of the monthly hours or billed on top of them.
    Coverage, "coverage", { Included => "included", Billable => "billable" }
);
text_enum!(
    /// Which of the plan's rates bills the work: none (included work), the hourly
    /// (overage) rate, or the emergency rate.
    RateKind, "rate kind", { None => "none", Hourly => "hourly", Emergency => "emergency" }
);

/// A work type's code: lowercase letters, digits and single hyphens ("bug-fix"), at most
/// 40 characters. Spaces and underscores typed by people become hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkTypeCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkTypeCodeError {
    #[error("is required")]
    Empty,
    #[error("must be at most 40 characters")]
    TooLong,
    #[error("\"{0}\" is not a work type code: use lowercase letters, digits and single hyphens, like bug-fix")]
    BadCharacters(String),
}

impl WorkTypeCode {
    pub fn parse(raw: &str) -> Result<Self, WorkTypeCodeError> {
        let s = raw.trim().to_lowercase().replace(['_', ' '], "-");
        if s.is_empty() {
            return Err(WorkTypeCodeError::Empty);
        }
        if s.chars().count() > 40 {
            return Err(WorkTypeCodeError::TooLong);
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !allowed || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(WorkTypeCodeError::BadCharacters(raw.trim().to_string()));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WorkTypeCode {
    type Error = WorkTypeCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WorkTypeCode> for String {
    fn from(value: WorkTypeCode) -> Self {
        value.0
    }
}

impl std::fmt::Display for WorkTypeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One kind of work, as data. Build it with [`WorkType::new`] (or a [`WorkTypeDraft`]),
/// which refuses a coverage and rate kind that do not go together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkType {
    pub code: WorkTypeCode,
    pub label: String,
    pub coverage: Coverage,
    pub rate: RateKind,
}

/// Why a coverage and a rate kind do not go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WorkTypeError {
    #[error("included work is drawn from the hour bank, so its rate kind is none")]
    IncludedWithRate,
    #[error("billable work needs a rate kind: hourly or emergency")]
    BillableWithoutRate,
}

/// How a piece of work is charged on one plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "charge", rename_all = "kebab-case")]
pub enum Charge {
    /// Drawn from the hour bank (and past it, overage at the plan's overage rate).
    Included,
    /// Billed on top of the monthly fee at `rate` per hour.
    Billable { rate_kind: RateKind, rate: Cents },
}

impl Charge {
    pub fn is_included(self) -> bool {
        matches!(self, Charge::Included)
    }
}

impl WorkType {
    pub fn new(
        code: WorkTypeCode,
        label: impl Into<String>,
        coverage: Coverage,
        rate: RateKind,
    ) -> Result<Self, WorkTypeError> {
        match (coverage, rate) {
            (Coverage::Included, RateKind::None) => {}
            (Coverage::Included, _) => return Err(WorkTypeError::IncludedWithRate),
            (Coverage::Billable, RateKind::None) => return Err(WorkTypeError::BillableWithoutRate),
            (Coverage::Billable, _) => {}
        }
        Ok(Self {
            code,
            label: label.into(),
            coverage,
            rate,
        })
    }

    /// How this work is charged on a plan (the table in the module docs).
    pub fn charge_on(&self, terms: &PlanTerms) -> Charge {
        match (self.coverage, self.rate) {
            (Coverage::Billable, RateKind::Emergency) if terms.emergency_included => {
                Charge::Included
            }
            (Coverage::Billable, RateKind::Emergency) => Charge::Billable {
                rate_kind: RateKind::Emergency,
                rate: terms.emergency_rate,
            },
            (Coverage::Billable, _) => Charge::Billable {
                rate_kind: RateKind::Hourly,
                rate: terms.overage_rate,
            },
            (Coverage::Included, _) => Charge::Included,
        }
    }
}

/// The amount billed for `minutes` at an hourly `rate`, to the nearest cent (half a cent
/// rounds up). Whole quarter hours at whole-dollar rates are always exact.
pub fn amount_for(rate: Cents, minutes: Minutes) -> Cents {
    let cents = (i128::from(rate.0) * i128::from(minutes.0.max(0)) + 30) / 60;
    Cents(i64::try_from(cents).unwrap_or(i64::MAX))
}

/// The SOP's categories: five included, five billable. Emergency after-hours work is
/// billable at the emergency rate on plans without emergency support (STARTER, GROWTH)
/// and included on plans with it (ENTERPRISE).
pub fn default_work_types() -> Vec<WorkType> {
    use Coverage::{Billable, Included};
    [
        ("bug-fix", "Bug fix", Included, RateKind::None),
        (
            "performance",
            "Performance optimization",
            Included,
            RateKind::None,
        ),
        (
            "minor-config",
            "Minor configuration change",
            Included,
            RateKind::None,
        ),
        (
            "monitoring",
            "Monitoring and maintenance",
            Included,
            RateKind::None,
        ),
        ("consultation", "Consultation", Included, RateKind::None),
        (
            "new-feature",
            "New feature development",
            Billable,
            RateKind::Hourly,
        ),
        (
            "refactoring",
            "Major refactoring",
            Billable,
            RateKind::Hourly,
        ),
        ("training", "Training", Billable, RateKind::Hourly),
        ("data-work", "Data work", Billable, RateKind::Hourly),
        (
            "emergency-after-hours",
            "Emergency (after hours or weekend)",
            Billable,
            RateKind::Emergency,
        ),
    ]
    .into_iter()
    .map(|(code, label, coverage, rate)| WorkType {
        code: WorkTypeCode(code.to_string()),
        label: label.to_string(),
        coverage,
        rate,
    })
    .collect()
}

/// A code that names none of the agency's work types, with the codes that would work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindWorkTypeError {
    #[error(transparent)]
    Code(#[from] WorkTypeCodeError),
    #[error("\"{got}\" is not a work type (one of: {})", allowed.join(", "))]
    Unknown { got: String, allowed: Vec<String> },
}

/// The work type a typed code names ("bug fix", "Bug_Fix" and "bug-fix" are the same).
pub fn find_work_type<'a>(
    types: &'a [WorkType],
    raw: &str,
) -> Result<&'a WorkType, FindWorkTypeError> {
    let code = WorkTypeCode::parse(raw)?;
    types
        .iter()
        .find(|t| t.code == code)
        .ok_or_else(|| FindWorkTypeError::Unknown {
            got: raw.trim().to_string(),
            allowed: types.iter().map(|t| t.code.to_string()).collect(),
        })
}

/// A work type as typed into a form or a JSON body, before validation. A blank rate kind
/// means none for included work and hourly for billable work.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkTypeDraft {
    pub code: String,
    pub label: String,
    pub coverage: String,
    pub rate: String,
}

impl WorkTypeDraft {
    pub fn from_work_type(t: &WorkType) -> Self {
        Self {
            code: t.code.to_string(),
            label: t.label.clone(),
            coverage: t.coverage.as_str().into(),
            rate: t.rate.as_str().into(),
        }
    }

    pub fn parse(&self) -> Result<WorkType, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = e.check("code", WorkTypeCode::parse(&self.code));
        let label = self.label.trim();
        if label.is_empty() {
            e.add("label", "is required");
        } else if label.chars().count() > 80 {
            e.add("label", "must be at most 80 characters");
        }
        let coverage = e.check("coverage", Coverage::parse(&self.coverage));
        let rate = match (self.rate.trim(), coverage) {
            ("", Some(Coverage::Included)) => Some(RateKind::None),
            ("", Some(Coverage::Billable)) => Some(RateKind::Hourly),
            ("", None) => None,
            (raw, _) => e.check("rate", RateKind::parse(raw)),
        };
        match (code, coverage, rate) {
            (Some(code), Some(coverage), Some(rate)) if e.is_empty() => {
                WorkType::new(code, label, coverage, rate)
                    .map_err(|err| FieldErrors::single("rate", err.to_string()))
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::plan::{Cadence, PlanTerms};
    use proptest::prelude::*;

    /// The SOP's three plans as terms, without SLA targets (the hour bank does not read
    /// them). Shared by the hour-bank modules' tests.
    pub(crate) fn sop_plan(code: &str) -> PlanTerms {
        let (fee, hours, rollover, bank, emergency_included) = match code {
            "STARTER" => (500, 5, 0, 0, false),
            "GROWTH" => (1_200, 10, 5, 15, false),
            _ => (2_500, 20, 10, 30, true),
        };
        PlanTerms {
            code: code.to_string(),
            name: code.to_string(),
            monthly_fee: Cents(fee * 100),
            included: Minutes::hours(hours),
            rollover_max: Minutes::hours(rollover),
            bank_max: Minutes::hours(bank),
            overage_rate: Cents(15_000),
            emergency_rate: Cents(30_000),
            increment: Minutes(15),
            report_cadence: Cadence::Monthly,
            checkin_cadence: Cadence::Monthly,
            channels: vec![],
            emergency_included,
            sla: vec![],
        }
    }

    fn code(raw: &str) -> WorkTypeCode {
        WorkTypeCode::parse(raw).unwrap()
    }

    #[test]
    fn the_sop_lists_five_included_and_five_billable_work_types() {
        let types = default_work_types();
        let included: Vec<&str> = types
            .iter()
            .filter(|t| t.coverage == Coverage::Included)
            .map(|t| t.code.as_str())
            .collect();
        assert_eq!(
            included,
            [
                "bug-fix",
                "performance",
                "minor-config",
                "monitoring",
                "consultation"
            ]
        );
        assert_eq!(types.len(), 10);
        for t in &types {
            assert_eq!(
                WorkType::new(t.code.clone(), &t.label, t.coverage, t.rate).as_ref(),
                Ok(t),
                "{} is a valid pair of coverage and rate",
                t.code
            );
        }
    }

    #[test]
    fn emergency_work_is_billed_on_starter_and_growth_and_included_on_enterprise() {
        let types = default_work_types();
        let emergency = find_work_type(&types, "emergency-after-hours").unwrap();
        for plan in ["STARTER", "GROWTH"] {
            assert_eq!(
                emergency.charge_on(&sop_plan(plan)),
                Charge::Billable {
                    rate_kind: RateKind::Emergency,
                    rate: Cents(30_000)
                }
            );
        }
        assert_eq!(
            emergency.charge_on(&sop_plan("ENTERPRISE")),
            Charge::Included
        );
    }

    #[test]
    fn billable_work_is_billed_at_the_hourly_rate_on_every_plan() {
        let types = default_work_types();
        let feature = find_work_type(&types, "New Feature").unwrap();
        for plan in ["STARTER", "GROWTH", "ENTERPRISE"] {
            assert_eq!(
                feature.charge_on(&sop_plan(plan)),
                Charge::Billable {
                    rate_kind: RateKind::Hourly,
                    rate: Cents(15_000)
                }
            );
        }
        let bug = find_work_type(&types, "bug_fix").unwrap();
        assert!(bug.charge_on(&sop_plan("STARTER")).is_included());
    }

    #[test]
    fn an_unknown_code_is_refused_with_the_codes_that_exist() {
        let types = default_work_types();
        let err = find_work_type(&types, "gardening").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("\"gardening\" is not a work type (one of: bug-fix,"));
        assert!(matches!(
            find_work_type(&types, "bug--fix"),
            Err(FindWorkTypeError::Code(WorkTypeCodeError::BadCharacters(_)))
        ));
        assert!(matches!(
            find_work_type(&types, " "),
            Err(FindWorkTypeError::Code(WorkTypeCodeError::Empty))
        ));
    }

    #[test]
    fn coverage_and_rate_kind_must_agree() {
        assert_eq!(
            WorkType::new(code("x"), "X", Coverage::Included, RateKind::Hourly),
            Err(WorkTypeError::IncludedWithRate)
        );
        assert_eq!(
            WorkType::new(code("x"), "X", Coverage::Billable, RateKind::None),
            Err(WorkTypeError::BillableWithoutRate)
        );
    }

    #[test]
    fn a_draft_fills_the_rate_kind_and_names_each_bad_field() {
        let t = WorkTypeDraft {
            code: "Site Audit".into(),
            label: "Site audit".into(),
            coverage: "billable".into(),
            rate: "".into(),
        }
        .parse()
        .unwrap();
        assert_eq!(t.code.as_str(), "site-audit");
        assert_eq!(t.rate, RateKind::Hourly);
        assert_eq!(WorkTypeDraft::from_work_type(&t).parse().unwrap(), t);

        let e = WorkTypeDraft {
            code: "-x".into(),
            label: " ".into(),
            coverage: "free".into(),
            rate: "".into(),
        }
        .parse()
        .unwrap_err();
        assert!(e.get("code").is_some());
        assert_eq!(e.get("label"), Some("is required"));
        assert!(e.get("coverage").unwrap().contains("included, billable"));

        let e = WorkTypeDraft {
            code: "x".into(),
            label: "X".into(),
            coverage: "included".into(),
            rate: "emergency".into(),
        }
        .parse()
        .unwrap_err();
        assert!(e.get("rate").is_some());
    }

    #[test]
    fn billed_amounts_follow_the_hourly_rate() {
        assert_eq!(amount_for(Cents(15_000), Minutes(90)), Cents(22_500));
        assert_eq!(amount_for(Cents(30_000), Minutes(15)), Cents(7_500));
        assert_eq!(amount_for(Cents(100), Minutes(1)), Cents(2));
        assert_eq!(amount_for(Cents(15_000), Minutes(-5)), Cents(0));
    }

    proptest! {
        #[test]
        fn a_code_parses_back_to_itself(raw in "[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}") {
            let c = WorkTypeCode::parse(&raw).unwrap();
            prop_assert_eq!(WorkTypeCode::parse(c.as_str()), Ok(c.clone()));
            prop_assert_eq!(c.as_str(), raw.as_str());
        }
    }
}
