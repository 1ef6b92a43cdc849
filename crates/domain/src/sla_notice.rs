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
use crate::sla_clock::{ClockHistory, ClockState, ClockStatus};

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
    cycle_key_at(severity, status.cycle_started_at.as_millisecond())
}

/// The cycle key of a cycle that started at `started_at` (UTC milliseconds).
pub fn cycle_key_at(severity: Severity, started_at: i64) -> String {
    format!("{}@{started_at}", severity.as_str())
}

/// Whether a clock may have a notice to give as of `now` that is not on record yet, told
/// from its history alone, without evaluating it: a clock stopped by `now` gives none
/// (see [`due_notices`]), and neither does one whose current cycle has its warning and
/// its breach on record already. `recorded(kind, cycle_started_at)` says whether the
/// clock has a notice of that kind on record for the cycle that started then (under the
/// severity its cycle keys name). `true` says nothing more than "evaluate it".
pub fn may_have_news(
    history: &ClockHistory,
    now: Timestamp,
    recorded: impl Fn(NoticeKind, Timestamp) -> bool,
) -> bool {
    if history
        .stopped_at()
        .is_some_and(|stopped| stopped <= now.max(history.started_at()))
    {
        return false;
    }
    let cycle = history.cycle_started_at(now);
    // The breach first: most clocks have not breached, and then one question does.
    !(recorded(NoticeKind::Breach, cycle) && recorded(NoticeKind::Warning, cycle))
}

/// Reads a [`cycle_key`] back: the severity and the cycle's start in milliseconds.
pub fn parse_cycle_key(key: &str) -> Option<(Severity, i64)> {
    let (severity, start) = key.split_once('@')?;
    // Only the exact spelling `cycle_key` writes, so that a key reads back to itself:
    // a lower-case severity, and digits without a sign or leading zeros (but "-").
    let severity = Severity::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == severity)?;
    let digits = start.strip_prefix('-').unwrap_or(start);
    let plain = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && start != "-0";
    plain
        .then(|| start.parse().ok())
        .flatten()
        .map(|start| (severity, start))
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
        assert_eq!(
            parse_cycle_key("p1@1790000000000"),
            Some((Severity::P1, 1_790_000_000_000))
        );
    }

    #[test]
    fn only_keys_as_written_read_back() {
        for bad in [
            "",
            "p1",
            "p1@",
            "P1@1",
            "p1@+1",
            "p1@01",
            "p9@1",
            "p1@1x",
            "@1",
            "p1@-0",
            "p1@-",
            "p1@ 1",
            "p1@99999999999999999999",
        ] {
            assert_eq!(parse_cycle_key(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn a_clock_without_news_has_no_notice_that_is_not_on_record(
            steps in proptest::collection::vec((0u8..5, 0i64..600), 0..8),
            recorded_cycles in proptest::collection::vec((0usize..9, proptest::bool::ANY), 0..12),
            now_after in 0i64..3000,
        ) {
            use proptest::prop_assert;
            let start = Timestamp::from_second(1_790_000_000).unwrap();
            let minute = |m: i64| start + jiff::SignedDuration::from_mins(m);
            let target = SlaTarget::parse_spec(Severity::P1, TargetKind::NextUpdate, "4h@24x7").unwrap();
            let mut history = ClockHistory::start(start, target);
            let mut at = 0;
            let mut starts = vec![start];
            for (step, gap) in &steps {
                at += gap;
                let ok = match step {
                    0 => history.pause(minute(at)),
                    1 => history.resume(minute(at)),
                    2 => history.restart(minute(at)),
                    3 => history.stop(minute(at)),
                    _ => Ok(()),
                };
                if *step == 2 && ok.is_ok() {
                    starts.push(minute(at));
                }
            }
            // Some notices on record, for some of the cycles.
            let on_record: Vec<(NoticeKind, Timestamp)> = recorded_cycles
                .iter()
                .filter_map(|(i, breach)| {
                    let kind = if *breach { NoticeKind::Breach } else { NoticeKind::Warning };
                    starts.get(*i).map(|s| (kind, *s))
                })
                .collect();
            let recorded = |kind: NoticeKind, cycle: Timestamp| on_record.contains(&(kind, cycle));
            let now = minute(now_after);
            let hours = BusinessHours::all_hours();
            let ctx = ClockContext { hours: &hours, warn: WarnShare::DEFAULT };
            let status = evaluate_clock(&history, ctx, now).unwrap();
            proptest::prop_assert_eq!(history.cycle_started_at(now), status.cycle_started_at);
            if !may_have_news(&history, now, recorded) {
                for due in due_notices(&status) {
                    prop_assert!(recorded(due.kind, status.cycle_started_at), "{due:?} is news");
                }
            }
        }

        #[test]
        fn a_cycle_key_reads_back_to_its_severity_and_start(
            sev in 0usize..4,
            start in -10_000_000_000_000i64..10_000_000_000_000,
        ) {
            let severity = Severity::ALL[sev];
            let key = cycle_key_at(severity, start);
            proptest::prop_assert_eq!(parse_cycle_key(&key), Some((severity, start)));
        }
    }
}
