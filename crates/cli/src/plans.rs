//! `tend plan list`: the support tiers as stored.

use tend_domain::minutes::Minutes;
use tend_domain::plan::{PlanTerms, Severity, SlaTarget, TargetKind};
use tend_store::Store;

use crate::failure::Failure;
use crate::table::Table;

pub async fn list(store: &Store) -> Result<String, Failure> {
    let plans = store.list_plans().await?;
    if plans.is_empty() {
        return Ok("No plans. Run `tend migrate` on a new database to get the defaults.\n".into());
    }
    let mut table = Table::new(&[
        "CODE",
        "NAME",
        "FEE/MONTH",
        "HOURS",
        "ROLLOVER/BANK",
        "OVERAGE",
        "EMERGENCY",
        "P0",
        "P1",
        "P2",
        "P3",
        "LIVE CONTRACTS",
    ]);
    for plan in &plans {
        let t = &plan.terms;
        let mut row = vec![
            t.code.clone(),
            t.name.clone(),
            t.monthly_fee.to_string(),
            hours(t.included),
            rollover(t),
            format!("{}/h", t.overage_rate),
            if t.emergency_included {
                "included".to_string()
            } else {
                format!("{}/h", t.emergency_rate)
            },
        ];
        for severity in Severity::ALL {
            row.push(response(&t.sla, *severity));
        }
        row.push(plan.live_contracts.to_string());
        table.row(row);
    }
    Ok(format!(
        "{}Response targets (P0 critical … P3 low): h = hours, bd = business days, a/b = in / after business hours,\n@24x7 = counted around the clock, else in the client's business hours. `tend client show` lists a plan's resolution targets.\n",
        table.render()
    ))
}

pub fn hours(m: Minutes) -> String {
    format!("{} h", m.as_hours_text())
}

pub fn rollover(t: &PlanTerms) -> String {
    if t.rollover_max.0 == 0 {
        "none".into()
    } else {
        format!("{} / {}", hours(t.rollover_max), hours(t.bank_max))
    }
}

/// A severity's response target in the compact form (`4h`, `3bd`, `1h/4h@24x7`).
fn response(targets: &[SlaTarget], severity: Severity) -> String {
    target(targets, severity, TargetKind::Response)
        .map(SlaTarget::spec)
        .unwrap_or_else(|| "-".into())
}

pub fn target(targets: &[SlaTarget], severity: Severity, kind: TargetKind) -> Option<&SlaTarget> {
    targets
        .iter()
        .find(|t| t.severity == severity && t.kind == kind)
}
