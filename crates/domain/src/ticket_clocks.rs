//! Which SLA clocks a ticket has and what moves them, from the ticket's own history.
//!
//! The rules:
//! - a ticket has a first-response clock and a resolution clock, each measuring its
//!   plan's target for the ticket's severity; a kind the plan has no target for has no
//!   clock;
//! - an untriaged ticket is timed as P2 (medium) until a severity is set; setting or
//!   changing the severity re-derives the clocks from the ticket's start and pauses
//!   (see `sla_clock`'s re-derivation rule);
//! - both clocks start when the ticket is created and pause while it waits on the
//!   client;
//! - the first public reply stops the first-response clock; resolving the ticket stops
//!   the resolution clock (closing it does too, if it was never marked resolved);
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
    for m in moments.iter().filter(|m| m.at >= created.0) {
        for (kind, clock) in clocks.iter_mut() {
            if clock.stopped_at().is_some() {
                continue;
            }
            // A refused event (see the module rules) leaves the clock as it was.
            let _ = match &m.change {
                TicketChange::Created { .. } => Ok(()),
                TicketChange::Severity(s) => match target_for(*s, *kind) {
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
                TicketChange::Status {
                    to: TicketStatus::Resolved | TicketStatus::Closed,
                    ..
                } if *kind == TargetKind::Resolution => clock.stop(m.at),
                TicketChange::Status { .. } => Ok(()),
                TicketChange::PublicReply if *kind == TargetKind::Response => clock.stop(m.at),
                TicketChange::PublicReply => Ok(()),
            };
        }
    }
    clocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::TargetKind::{Resolution, Response};

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
}
