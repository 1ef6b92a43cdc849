//! Which SLA warnings and breaches a clock has to announce, once each.
//!
//! A clock announces its warning (at the warn share of its target) and its breach (at
//! the due time) to the ticket's owner. Each is announced once per *cycle*: a clock's
//! cycle is its start (a next-update clock starts a new cycle at each public reply)
//! under one severity, so a severity change that moves the target may warn again under
//! the new target. A clock that has stopped announces nothing more; a clock found
//! already breached (the scan was not running when it warned) announces the breach only,
//! and its warning is recorded as passed without a message of its own.

use jiff::Timestamp;

use serde::{Deserialize, Serialize};

use crate::plan::{text_enum, Severity};
use crate::sla_clock::{ClockState, ClockStatus};

text_enum!(NoticeKind, "notice kind", { Warning => "warning", Breach => "breach" });

/// A warning or breach that has fallen on a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueNotice {
    pub kind: NoticeKind,
    pub fell_at: Timestamp,
    /// Whether it gets a message of its own (a warning overtaken by its breach does not).
    pub announce: bool,
}

/// The cycle a notice belongs to: severity and cycle start, `p1@1790000000000`.
pub fn cycle_key(severity: Severity, status: &ClockStatus) -> String {
    format!(
        "{}@{}",
        severity.as_str(),
        status.cycle_started_at.as_millisecond()
    )
}

/// The notices that have fallen on a clock as evaluated now, oldest first.
pub fn due_notices(status: &ClockStatus) -> Vec<DueNotice> {
    if status.stopped_at.is_some()
        || !matches!(
            status.state,
            ClockState::Running | ClockState::Paused | ClockState::Breached
        )
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let (true, Some(warn_at)) = (status.warned, status.warn_at) {
        out.push(DueNotice {
            kind: NoticeKind::Warning,
            fell_at: warn_at,
            announce: !status.breached,
        });
    }
    if let (true, Some(due)) = (status.breached, status.due) {
        out.push(DueNotice {
            kind: NoticeKind::Breach,
            fell_at: due,
            announce: true,
        });
    }
    out
}

/// Whether a clock has breached, or will within `within` of `now` if it keeps running:
/// the backlog's "breaching within N hours" filter. A paused clock cannot breach while
/// the client has the ball, so it counts only once it has breached; a stopped clock
/// never counts.
pub fn breaches_within(status: &ClockStatus, now: Timestamp, within: jiff::SignedDuration) -> bool {
    if status.stopped_at.is_some() {
        return false;
    }
    match status.state {
        ClockState::Breached => true,
        ClockState::Running => status.due.is_some_and(|due| due <= now + within),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business_time::BusinessHours;
    use crate::plan::{SlaTarget, TargetKind};
    use crate::sla_clock::{evaluate_clock, ClockContext, ClockHistory, WarnShare};

    fn status_at(minutes_after_start: i64, stop_after: Option<i64>) -> ClockStatus {
        let start = Timestamp::from_second(1_790_000_000).unwrap();
        let target = SlaTarget::parse_spec(Severity::P1, TargetKind::Response, "4h@24x7").unwrap();
        let mut history = ClockHistory::start(start, target);
        if let Some(m) = stop_after {
            history
                .stop(start + jiff::SignedDuration::from_mins(m))
                .unwrap();
        }
        let hours = BusinessHours::all_hours();
        let ctx = ClockContext {
            hours: &hours,
            warn: WarnShare::DEFAULT,
        };
        evaluate_clock(
            &history,
            ctx,
            start + jiff::SignedDuration::from_mins(minutes_after_start),
        )
        .unwrap()
    }

    #[test]
    fn nothing_before_the_warning_then_a_warning_then_a_breach() {
        assert!(due_notices(&status_at(179, None)).is_empty());
        let warned = due_notices(&status_at(180, None));
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].kind, NoticeKind::Warning);
        assert!(warned[0].announce);
        let breached = due_notices(&status_at(241, None));
        assert_eq!(
            breached
                .iter()
                .map(|n| (n.kind, n.announce))
                .collect::<Vec<_>>(),
            vec![(NoticeKind::Warning, false), (NoticeKind::Breach, true)]
        );
    }

    #[test]
    fn a_stopped_clock_announces_nothing() {
        assert!(due_notices(&status_at(300, Some(250))).is_empty());
        assert!(due_notices(&status_at(300, Some(200))).is_empty());
    }

    #[test]
    fn breaching_within_counts_running_clocks_due_by_then_and_breached_ones() {
        let start = Timestamp::from_second(1_790_000_000).unwrap();
        let at = |m: i64| start + jiff::SignedDuration::from_mins(m);
        let hour = jiff::SignedDuration::from_hours(1);
        // A 4 h clock, 60 minutes in: due in 3 h.
        let s = status_at(60, None);
        assert!(!breaches_within(&s, at(60), hour * 2));
        assert!(breaches_within(&s, at(60), hour * 3));
        assert!(breaches_within(
            &status_at(300, None),
            at(300),
            jiff::SignedDuration::ZERO
        ));
        assert!(!breaches_within(
            &status_at(300, Some(100)),
            at(300),
            hour * 10
        ));
    }

    #[test]
    fn the_cycle_names_severity_and_start() {
        let s = status_at(10, None);
        assert_eq!(cycle_key(Severity::P1, &s), "p1@1790000000000");
    }
}
