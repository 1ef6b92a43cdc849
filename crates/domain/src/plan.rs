//! A support tier as data: fee, hours, rollover, rates, SLA targets and cadences.
//!
//! The SOP's STARTER / GROWTH / ENTERPRISE are shipped as default rows by the store;
//! nothing in the code treats any plan specially.

use serde::{Deserialize, Serialize};

use crate::{minutes::Minutes, money::Cents, FieldErrors};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, crate::plan::UnknownValue> {
                // Stored values are already exact: no need to normalise them.
                $(if raw == $text { return Ok($name::$variant); })+
                let wanted = raw.trim().to_lowercase().replace(['_', ' '], "-");
                $(if wanted == $text { return Ok($name::$variant); })+
                Err(crate::plan::UnknownValue {
                    what: $what,
                    got: raw.trim().to_string(),
                    allowed: vec![$($text),+],
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

/// A value outside a fixed list, with the list, so the message tells what would work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{got}\" is not a {what} (one of: {})", allowed.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub got: String,
    pub allowed: Vec<&'static str>,
}

text_enum!(
    /// The SOP's severities, P0 (system down) to P3 (enhancement).
    Severity, "severity", { P0 => "p0", P1 => "p1", P2 => "p2", P3 => "p3" }
);
text_enum!(
    /// What a target times: the first public reply, the cadence of updates while a ticket
    /// is open ("I'll keep you posted every …"), or the resolution.
    TargetKind, "target kind", { Response => "response", NextUpdate => "next-update", Resolution => "resolution" }
);
text_enum!(
    /// Which hours a target counts: the client's business hours, or every hour.
    ClockKind, "clock", { Business => "business", AllHours => "24x7" }
);
text_enum!(
    /// How a target's amount is counted; `next-window` targets have no amount, only a label
    /// ("next monthly maintenance window").
    TargetUnit, "target unit", { Hours => "hours", BusinessDays => "business-days", NextWindow => "next-window" }
);
text_enum!(Cadence, "cadence", {
    Weekly => "weekly", Biweekly => "biweekly", Monthly => "monthly", Quarterly => "quarterly", OnDemand => "on-demand"
});
text_enum!(Channel, "channel", {
    Email => "email", Slack => "slack", Phone => "phone", Video => "video", ScheduledCalls => "scheduled-calls"
});

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::P0 => "P0 critical",
            Severity::P1 => "P1 high",
            Severity::P2 => "P2 medium",
            Severity::P3 => "P3 low",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTarget {
    pub severity: Severity,
    pub kind: TargetKind,
    pub amount: Option<i64>,
    pub unit: TargetUnit,
    pub clock: ClockKind,
    /// A separate value outside business hours (ENTERPRISE P0: 1 h in hours, 4 h after).
    pub after_hours_amount: Option<i64>,
    pub label: Option<String>,
}

impl SlaTarget {
    /// "2 business days", "4 h (24x7)", "1 h in business hours, 4 h after hours".
    pub fn describe(&self) -> String {
        let amount = |a: i64| match self.unit {
            TargetUnit::Hours => format!("{a} h"),
            TargetUnit::BusinessDays if a == 1 => "1 business day".to_string(),
            TargetUnit::BusinessDays => format!("{a} business days"),
            TargetUnit::NextWindow => String::new(),
        };
        let main = match (self.unit, self.amount, &self.label) {
            (TargetUnit::NextWindow, _, Some(label)) => label.clone(),
            (TargetUnit::NextWindow, _, None) => "next scheduled window".to_string(),
            (_, Some(a), _) => amount(a),
            (_, None, _) => "no target".to_string(),
        };
        match (self.after_hours_amount, self.unit) {
            (Some(after), TargetUnit::Hours) => {
                format!("{main} in business hours, {after} h after hours")
            }
            (_, TargetUnit::Hours) if self.clock == ClockKind::AllHours => format!("{main} (24x7)"),
            _ => main,
        }
    }

    /// Reads the compact form used in plan forms and the CLI: "4h", "3bd", "24h@24x7",
    /// "1h/4h" (business / after hours), or "window:Next monthly maintenance window".
    pub fn parse_spec(severity: Severity, kind: TargetKind, raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if let Some(label) = s.strip_prefix("window:") {
            let label = label.trim();
            if label.is_empty() {
                return Err("a window target needs a label after \"window:\"".into());
            }
            return Ok(Self {
                severity,
                kind,
                amount: None,
                unit: TargetUnit::NextWindow,
                clock: ClockKind::Business,
                after_hours_amount: None,
                label: Some(label.to_string()),
            });
        }
        let (body, clock) = match s.split_once('@') {
            Some((b, c)) => (b, ClockKind::parse(c).map_err(|e| e.to_string())?),
            None => (s, ClockKind::Business),
        };
        let bad = || {
            format!("\"{s}\" is not a target (for example 4h, 3bd, 24h@24x7, 1h/4h or window:Next check-in)")
        };
        let (main, after) = match body.split_once('/') {
            Some((m, a)) => (m, Some(a)),
            None => (body, None),
        };
        let number = |t: &str, suffix: &str| -> Option<i64> {
            t.trim()
                .strip_suffix(suffix)?
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
        };
        let (amount, unit) = if let Some(n) = number(main, "bd") {
            (n, TargetUnit::BusinessDays)
        } else if let Some(n) = number(main, "h") {
            (n, TargetUnit::Hours)
        } else {
            return Err(bad());
        };
        let after_hours_amount = match after {
            Some(a) if unit == TargetUnit::Hours => Some(number(a, "h").ok_or_else(bad)?),
            Some(_) => return Err("an after-hours value is only allowed on an hours target".into()),
            None => None,
        };
        Ok(Self {
            severity,
            kind,
            amount: Some(amount),
            unit,
            clock,
            after_hours_amount,
            label: None,
        })
    }

    /// The compact form `parse_spec` reads; the two round-trip.
    pub fn spec(&self) -> String {
        if self.unit == TargetUnit::NextWindow {
            return format!("window:{}", self.label.clone().unwrap_or_default());
        }
        let amount = self.amount.unwrap_or(0);
        let mut out = match self.unit {
            TargetUnit::BusinessDays => format!("{amount}bd"),
            _ => format!("{amount}h"),
        };
        if let Some(after) = self.after_hours_amount {
            out.push_str(&format!("/{after}h"));
        }
        if self.clock == ClockKind::AllHours {
            out.push_str("@24x7");
        }
        out
    }
}

/// Everything a plan says, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTerms {
    pub code: String,
    pub name: String,
    pub monthly_fee: Cents,
    pub included: Minutes,
    pub rollover_max: Minutes,
    pub bank_max: Minutes,
    pub overage_rate: Cents,
    pub emergency_rate: Cents,
    /// Time entries are rounded up to this increment (the SOP: 15 minutes).
    pub increment: Minutes,
    pub report_cadence: Cadence,
    pub checkin_cadence: Cadence,
    pub channels: Vec<Channel>,
    /// Whether after-hours emergency work is part of the plan rather than billed.
    pub emergency_included: bool,
    pub sla: Vec<SlaTarget>,
}

/// A plan as typed into a form or a JSON body, before validation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanDraft {
    pub code: String,
    pub name: String,
    pub monthly_fee: String,
    pub included_hours: String,
    pub rollover_max_hours: String,
    pub bank_max_hours: String,
    pub overage_rate: String,
    pub emergency_rate: String,
    pub increment_minutes: String,
    pub report_cadence: String,
    pub checkin_cadence: String,
    /// Comma-separated channel names.
    pub channels: String,
    pub emergency_included: bool,
    /// Targets in the compact form, keyed "p0_response", "p2_resolution", ...
    pub targets: std::collections::BTreeMap<String, String>,
}

/// The field name of a target in forms, the API and the plan seed: `p1_response`,
/// `p0_next_update` (underscores only, so it is a plain identifier everywhere).
pub fn target_key(severity: Severity, kind: TargetKind) -> String {
    format!("{}_{}", severity.as_str(), kind.as_str().replace('-', "_"))
}

/// A plan code: "GROWTH", "ENTERPRISE-PLUS".
pub fn parse_plan_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_uppercase();
    if code.is_empty() {
        return Err("is required".into());
    }
    if code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("may contain only letters, digits, - and _ (at most 32)".into());
    }
    Ok(code)
}

impl PlanDraft {
    pub fn from_terms(t: &PlanTerms) -> Self {
        Self {
            code: t.code.clone(),
            name: t.name.clone(),
            monthly_fee: t.monthly_fee.plain(),
            included_hours: t.included.as_hours_text(),
            rollover_max_hours: t.rollover_max.as_hours_text(),
            bank_max_hours: t.bank_max.as_hours_text(),
            overage_rate: t.overage_rate.plain(),
            emergency_rate: t.emergency_rate.plain(),
            increment_minutes: t.increment.0.to_string(),
            report_cadence: t.report_cadence.as_str().into(),
            checkin_cadence: t.checkin_cadence.as_str().into(),
            channels: t
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            emergency_included: t.emergency_included,
            targets: t
                .sla
                .iter()
                .map(|s| (target_key(s.severity, s.kind), s.spec()))
                .collect(),
        }
    }

    pub fn parse(&self) -> Result<PlanTerms, FieldErrors> {
        let mut e = FieldErrors::new();
        let code = e.check("code", parse_plan_code(&self.code));
        let name = self.name.trim().to_string();
        if name.is_empty() {
            e.add("name", "is required");
        }
        let fee = e.check("monthly_fee", Cents::parse(&self.monthly_fee));
        let hours = |raw: &str| -> Result<Minutes, String> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(Minutes(0));
            }
            let h: f64 = raw
                .trim_end_matches('h')
                .parse()
                .map_err(|_| format!("\"{raw}\" is not a number of hours"))?;
            if !(0.0..=10_000.0).contains(&h) {
                return Err("must be between 0 and 10000 hours".into());
            }
            Ok(Minutes((h * 60.0).round() as i64))
        };
        let included = e.check("included_hours", hours(&self.included_hours));
        let rollover = e.check("rollover_max_hours", hours(&self.rollover_max_hours));
        let bank = e.check("bank_max_hours", hours(&self.bank_max_hours));
        let overage = e.check("overage_rate", Cents::parse(&self.overage_rate));
        let emergency = e.check("emergency_rate", Cents::parse(&self.emergency_rate));
        let increment = e.check(
            "increment_minutes",
            match self.increment_minutes.trim() {
                "" => Ok(Minutes(15)),
                raw => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|m| (1..=240).contains(m))
                    .map(Minutes)
                    .ok_or("must be a whole number of minutes from 1 to 240"),
            },
        );
        let report = e.check("report_cadence", Cadence::parse(&self.report_cadence));
        let checkin = e.check("checkin_cadence", Cadence::parse(&self.checkin_cadence));
        let channels: Option<Vec<Channel>> = e.check(
            "channels",
            self.channels
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(Channel::parse)
                .collect::<Result<Vec<_>, _>>(),
        );
        if let (Some(i), Some(r), Some(b)) = (included, rollover, bank) {
            if r.0 > 0 && b < i {
                e.add(
                    "bank_max_hours",
                    "must be at least the included hours when hours roll over",
                );
            }
            if r.0 > 0 && b.0 > 0 && r > b {
                e.add("rollover_max_hours", "cannot exceed the bank maximum");
            }
        }
        let mut sla = Vec::new();
        for severity in Severity::ALL {
            for kind in TargetKind::ALL {
                let key = target_key(*severity, *kind);
                let raw = self
                    .targets
                    .get(&key)
                    .map(String::as_str)
                    .unwrap_or("")
                    .trim();
                if raw.is_empty() {
                    e.add(&key, "is required");
                    continue;
                }
                if let Some(t) = e.check(&key, SlaTarget::parse_spec(*severity, *kind, raw)) {
                    sla.push(t);
                }
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        // Every Option above is Some when no error was recorded.
        match (
            code, fee, included, rollover, bank, overage, emergency, increment, report, checkin,
            channels,
        ) {
            (
                Some(code),
                Some(monthly_fee),
                Some(included),
                Some(rollover_max),
                Some(bank_max),
                Some(overage_rate),
                Some(emergency_rate),
                Some(increment),
                Some(report_cadence),
                Some(checkin_cadence),
                Some(channels),
            ) => Ok(PlanTerms {
                code,
                name,
                monthly_fee,
                included,
                rollover_max,
                bank_max,
                overage_rate,
                emergency_rate,
                increment,
                report_cadence,
                checkin_cadence,
                channels,
                emergency_included: self.emergency_included,
                sla,
            }),
            _ => Err(FieldErrors::single("plan", "could not be read")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn growth_draft() -> PlanDraft {
        let mut targets = std::collections::BTreeMap::new();
        for (k, v) in [
            ("p0_response", "2h"),
            ("p0_resolution", "12h"),
            ("p0_next_update", "2h"),
            ("p1_next_update", "8h"),
            ("p2_next_update", "24h"),
            ("p3_next_update", "3bd"),
            ("p1_response", "8h"),
            ("p1_resolution", "2bd"),
            ("p2_response", "24h"),
            ("p2_resolution", "3bd"),
            ("p3_response", "3bd"),
            ("p3_resolution", "window:Next bi-weekly optimization call"),
        ] {
            targets.insert(k.to_string(), v.to_string());
        }
        PlanDraft {
            code: "growth".into(),
            name: "Growth".into(),
            monthly_fee: "$1,200".into(),
            included_hours: "10".into(),
            rollover_max_hours: "5".into(),
            bank_max_hours: "15".into(),
            overage_rate: "150".into(),
            emergency_rate: "300".into(),
            increment_minutes: "15".into(),
            report_cadence: "monthly".into(),
            checkin_cadence: "biweekly".into(),
            channels: "email, slack, scheduled-calls".into(),
            emergency_included: false,
            targets,
        }
    }

    #[test]
    fn a_plan_draft_parses_into_terms() {
        let t = growth_draft().parse().unwrap();
        assert_eq!(t.code, "GROWTH");
        assert_eq!(t.monthly_fee, Cents(120_000));
        assert_eq!(t.included, Minutes(600));
        assert_eq!(t.bank_max, Minutes(900));
        assert_eq!(t.sla.len(), 12);
        assert_eq!(PlanDraft::from_terms(&t).parse().unwrap(), t);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut d = growth_draft();
        d.monthly_fee = "lots".into();
        d.bank_max_hours = "4".into();
        d.targets.insert("p1_response".into(), "soon".into());
        d.targets.remove("p2_response");
        let e = d.parse().unwrap_err();
        assert!(e.get("monthly_fee").is_some());
        assert!(e.get("bank_max_hours").is_some());
        assert!(e.get("p1_response").is_some());
        assert_eq!(e.get("p2_response"), Some("is required"));
    }

    #[test]
    fn target_specs_round_trip_and_describe_themselves() {
        let t = SlaTarget::parse_spec(Severity::P0, TargetKind::Response, "1h/4h@24x7").unwrap();
        assert_eq!(t.after_hours_amount, Some(4));
        assert_eq!(t.spec(), "1h/4h@24x7");
        assert_eq!(t.describe(), "1 h in business hours, 4 h after hours");
        let d = SlaTarget::parse_spec(Severity::P1, TargetKind::Resolution, "2bd").unwrap();
        assert_eq!(d.describe(), "2 business days");
        assert!(SlaTarget::parse_spec(Severity::P1, TargetKind::Resolution, "2bd/1h").is_err());
        assert!(SlaTarget::parse_spec(Severity::P1, TargetKind::Resolution, "0h").is_err());
    }
}
