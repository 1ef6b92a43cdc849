//! Which SLA clocks a ticket has and what moves them, from the ticket's own history.
//!
//! The rules:
//! - a ticket has a first-response clock, a next-update clock and a resolution clock,
//!   each measuring its plan's target for the ticket's severity; a kind the plan has no
//!   target for has no clock;
//! - an untriaged ticket is timed as P2 (medium) until a severity is set; setting or
//!   changing the severity re-derives the clocks from the ticket's start and pauses
//!   (see `sla_clock`'s re-derivation rule);
//! - first response and resolution start when the ticket is created; next update starts
//!   at the first public reply and starts a new cycle at each later one (the "I'll keep
//!   you posted every …" promise); every clock pauses while the ticket waits on the
//!   client;
//! - the first public reply stops the first-response clock; resolving the ticket stops
//!   every clock still running (closing it does too, if it was never marked resolved);
//! - a stopped clock keeps its outcome: reopening a ticket does not restart it.
//!
//! Events that make no sense for a clock (a second pause, a resume while running) are
//! skipped rather than failing the ticket page.

use jiff::Timestamp;

use crate::plan::{Severity, SlaTarget, TargetKind};
use crate::sla_clock::ClockHistory;
use crate::ticket::TicketStatus;

/// The severity a ticket's clocks measure.
pub fn clock_severity(severity: Option<Severity>) -> Severity {
    severity.unwrap_or(Severity::P2)
}

/// One thing that happened to a ticket, as the clocks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketChange {
    Created {
        severity: Option<Severity>,
    },
    Severity(Option<Severity>),
    Status {
        from: TicketStatus,
        to: TicketStatus,
    },
    PublicReply,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketMoment {
    pub at: Timestamp,
    pub change: TicketChange,
}

/// The clocks of a ticket, built from its history (oldest first) and its plan's
/// targets. Returns (kind, history) for each kind the plan times.
pub fn ticket_clock_histories(
    moments: &[TicketMoment],
    targets: &[SlaTarget],
) -> Vec<(TargetKind, ClockHistory)> {
    let target_for = |severity: Option<Severity>, kind: TargetKind| {
        let severity = clock_severity(severity);
        targets
            .iter()
            .find(|t| t.severity == severity && t.kind == kind)
            .cloned()
    };
    let Some(created) = moments.iter().find_map(|m| match m.change {
        TicketChange::Created { severity } => Some((m.at, severity)),
        _ => None,
    }) else {
        return Vec::new();
    };
    let mut clocks: Vec<(TargetKind, ClockHistory)> =
        [TargetKind::Response, TargetKind::Resolution]
            .into_iter()
            .filter_map(|kind| {
                target_for(created.1, kind).map(|t| (kind, ClockHistory::start(created.0, t)))
            })
            .collect();
    // The next-update clock exists from the first public reply on; it needs to know
    // whether the ticket is waiting (start paused) or already done (never start).
    let mut severity = created.1;
    let mut waiting = false;
    let mut done = false;
    let mut next_update: Option<ClockHistory> = None;
    for m in moments.iter().filter(|m| m.at >= created.0) {
        match &m.change {
            TicketChange::Severity(s) => severity = *s,
            TicketChange::Status { to, .. } => {
                waiting = *to == TicketStatus::WaitingOnClient;
                done = !to.is_open();
            }
            TicketChange::PublicReply if next_update.is_none() && !done => {
                if let Some(t) = target_for(severity, TargetKind::NextUpdate) {
                    let mut clock = ClockHistory::start(m.at, t);
                    if waiting {
                        let _ = clock.pause(m.at);
                    }
                    next_update = Some(clock);
                }
                // The reply that starts the clock is not also its first cycle's end.
                apply(&mut clocks, m, &target_for);
                continue;
            }
            _ => {}
        }
        apply(&mut clocks, m, &target_for);
        if let Some(clock) = next_update.as_mut() {
            apply_one(TargetKind::NextUpdate, clock, m, &target_for);
        }
    }
    if let Some(clock) = next_update {
        let at = clocks
            .iter()
            .position(|(k, _)| *k == TargetKind::Resolution)
            .unwrap_or(clocks.len());
        clocks.insert(at, (TargetKind::NextUpdate, clock));
    }
    clocks
}

fn apply(
    clocks: &mut [(TargetKind, ClockHistory)],
    m: &TicketMoment,
    target_for: &impl Fn(Option<Severity>, TargetKind) -> Option<SlaTarget>,
) {
    for (kind, clock) in clocks.iter_mut() {
        apply_one(*kind, clock, m, target_for);
    }
}

/// Moves one clock by one moment. A refused event (see the module rules) leaves the
/// clock as it was; a stopped clock stays stopped.
fn apply_one(
    kind: TargetKind,
    clock: &mut ClockHistory,
    m: &TicketMoment,
    target_for: &impl Fn(Option<Severity>, TargetKind) -> Option<SlaTarget>,
) {
    if clock.stopped_at().is_some() {
        return;
    }
    let _ = match &m.change {
        TicketChange::Created { .. } => Ok(()),
        TicketChange::Severity(s) => match target_for(*s, kind) {
            Some(t) if &t != clock.target() => clock.retarget(m.at, t),
            _ => Ok(()),
        },
        TicketChange::Status {
            to: TicketStatus::WaitingOnClient,
            ..
        } => clock.pause(m.at),
        TicketChange::Status {
            from: TicketStatus::WaitingOnClient,
            to,
        } if to.is_open() => clock.resume(m.at),
        // Resolving or closing ends every clock: a ticket resolved without a public
        // reply was answered by the fix itself, and a clock left running on a done
        // ticket would count as a miss for ever.
        TicketChange::Status {
            to: TicketStatus::Resolved | TicketStatus::Closed,
            ..
        } => clock.stop(m.at),
        TicketChange::Status { .. } => Ok(()),
        TicketChange::PublicReply => match kind {
            TargetKind::Response => clock.stop(m.at),
            TargetKind::NextUpdate => clock.restart(m.at),
            TargetKind::Resolution => Ok(()),
        },
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TargetKind::{NextUpdate, Resolution, Response};

    fn targets() -> Vec<SlaTarget> {
        let mut out = Vec::new();
        for (sev, resp, res) in [(Severity::P1, "8h", "2bd"), (Severity::P2, "24h", "3bd")] {
            out.push(SlaTarget::parse_spec(sev, Response, resp).unwrap());
            out.push(SlaTarget::parse_spec(sev, Resolution, res).unwrap());
        }
        out
    }

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_second(1_790_000_000 + minute * 60).unwrap()
    }

    fn moment(minute: i64, change: TicketChange) -> TicketMoment {
        TicketMoment {
            at: at(minute),
            change,
        }
    }

    #[test]
    fn a_new_ticket_has_a_response_and_a_resolution_clock_on_its_severity() {
        let clocks = ticket_clock_histories(
            &[moment(
                0,
                TicketChange::Created {
                    severity: Some(Severity::P1),
                },
            )],
            &targets(),
        );
        assert_eq!(clocks.len(), 2);
        assert_eq!(clocks[0].1.target().spec(), "8h");
        assert_eq!(clocks[1].1.target().spec(), "2bd");
    }

    #[test]
    fn an_untriaged_ticket_is_timed_as_p2_until_its_severity_is_set() {
        let history = [
            moment(0, TicketChange::Created { severity: None }),
            moment(5, TicketChange::Severity(Some(Severity::P1))),
        ];
        let clocks = ticket_clock_histories(&history, &targets());
        assert_eq!(clocks[0].1.first_target().spec(), "24h");
        assert_eq!(clocks[0].1.target().spec(), "8h");
    }

    #[test]
    fn the_first_public_reply_stops_only_the_response_clock() {
        let history = [
            moment(
                0,
                TicketChange::Created {
                    severity: Some(Severity::P2),
                },
            ),
            moment(30, TicketChange::PublicReply),
        ];
        let clocks = ticket_clock_histories(&history, &targets());
        assert_eq!(clocks[0].1.stopped_at(), Some(at(30)));
        assert_eq!(clocks[1].1.stopped_at(), None);
    }

    #[test]
    fn waiting_on_the_client_pauses_both_clocks_and_resolving_stops_resolution() {
        let history = [
            moment(
                0,
                TicketChange::Created {
                    severity: Some(Severity::P2),
                },
            ),
            moment(
                10,
                TicketChange::Status {
                    from: TicketStatus::New,
                    to: TicketStatus::WaitingOnClient,
                },
            ),
        ];
        let clocks = ticket_clock_histories(&history, &targets());
        assert!(clocks.iter().all(|(_, c)| c.is_paused()));
        let mut more = history.to_vec();
        more.push(moment(
            20,
            TicketChange::Status {
                from: TicketStatus::WaitingOnClient,
                to: TicketStatus::InProgress,
            },
        ));
        more.push(moment(
            40,
            TicketChange::Status {
                from: TicketStatus::InProgress,
                to: TicketStatus::Resolved,
            },
        ));
        let clocks = ticket_clock_histories(&more, &targets());
        assert!(!clocks[0].1.is_paused());
        assert_eq!(clocks[1].1.stopped_at(), Some(at(40)));
    }

    #[test]
    fn a_reopened_ticket_keeps_the_outcome_of_its_stopped_clock() {
        let history = [
            moment(
                0,
                TicketChange::Created {
                    severity: Some(Severity::P2),
                },
            ),
            moment(
                40,
                TicketChange::Status {
                    from: TicketStatus::New,
                    to: TicketStatus::Resolved,
                },
            ),
            moment(
                50,
                TicketChange::Status {
                    from: TicketStatus::Resolved,
                    to: TicketStatus::InProgress,
                },
            ),
        ];
        let clocks = ticket_clock_histories(&history, &targets());
        assert_eq!(clocks[1].1.stopped_at(), Some(at(40)));
    }

    #[test]
    fn a_plan_without_targets_gives_no_clocks() {
        assert!(ticket_clock_histories(
            &[moment(0, TicketChange::Created { severity: None })],
            &[]
        )
        .is_empty());
    }

    fn with_updates() -> Vec<SlaTarget> {
        let mut out = targets();
        out.push(SlaTarget::parse_spec(Severity::P1, NextUpdate, "4h").unwrap());
        out.push(SlaTarget::parse_spec(Severity::P2, NextUpdate, "24h").unwrap());
        out
    }

    fn created(severity: Severity) -> TicketMoment {
        moment(
            0,
            TicketChange::Created {
                severity: Some(severity),
            },
        )
    }

    fn status(minute: i64, from: TicketStatus, to: TicketStatus) -> TicketMoment {
        moment(minute, TicketChange::Status { from, to })
    }

    #[test]
    fn next_update_starts_at_the_first_public_reply_and_restarts_at_each_later_one() {
        let none_yet = ticket_clock_histories(&[created(Severity::P1)], &with_updates());
        assert!(none_yet.iter().all(|(k, _)| *k != NextUpdate));

        let history = [
            created(Severity::P1),
            moment(30, TicketChange::PublicReply),
            moment(90, TicketChange::PublicReply),
        ];
        let clocks = ticket_clock_histories(&history, &with_updates());
        let kinds: Vec<_> = clocks.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, vec![Response, NextUpdate, Resolution]);
        let update = &clocks[1].1;
        assert_eq!(update.started_at(), at(30));
        assert_eq!(update.target().spec(), "4h");
        assert_eq!(update.stopped_at(), None);
        assert_eq!(
            update
                .events()
                .iter()
                .filter(|e| matches!(e.kind, crate::sla_clock::ClockEventKind::Restarted))
                .count(),
            1
        );
    }

    #[test]
    fn next_update_pauses_while_waiting_and_stops_when_resolved() {
        let history = [
            created(Severity::P2),
            status(5, TicketStatus::New, TicketStatus::WaitingOnClient),
            moment(10, TicketChange::PublicReply),
        ];
        let clocks = ticket_clock_histories(&history, &with_updates());
        let update = &clocks[1].1;
        assert!(
            update.is_paused(),
            "a reply while waiting starts the clock paused"
        );

        let mut more = history.to_vec();
        more.push(status(
            20,
            TicketStatus::WaitingOnClient,
            TicketStatus::Resolved,
        ));
        more.push(moment(25, TicketChange::PublicReply));
        let clocks = ticket_clock_histories(&more, &with_updates());
        assert_eq!(clocks[1].1.stopped_at(), Some(at(20)));
        assert_eq!(clocks[2].1.stopped_at(), Some(at(20)));
    }

    #[test]
    fn resolving_without_a_reply_stops_the_first_response_clock_too() {
        let history = [
            created(Severity::P2),
            status(5, TicketStatus::New, TicketStatus::Resolved),
        ];
        let clocks = ticket_clock_histories(&history, &with_updates());
        assert!(clocks.iter().all(|(_, c)| c.stopped_at() == Some(at(5))));
    }

    #[test]
    fn a_reply_on_a_resolved_ticket_starts_no_update_clock() {
        let history = [
            created(Severity::P2),
            status(5, TicketStatus::New, TicketStatus::Resolved),
            moment(10, TicketChange::PublicReply),
        ];
        let clocks = ticket_clock_histories(&history, &with_updates());
        assert!(clocks.iter().all(|(k, _)| *k != NextUpdate));
    }

    #[test]
    fn a_severity_change_retargets_the_update_clock() {
        let history = [
            created(Severity::P2),
            moment(10, TicketChange::PublicReply),
            moment(20, TicketChange::Severity(Some(Severity::P1))),
        ];
        let clocks = ticket_clock_histories(&history, &with_updates());
        assert_eq!(clocks[1].1.target().spec(), "4h");
    }
}
