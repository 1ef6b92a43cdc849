//! "Blocked by" links between tickets. The links form a graph without cycles: a new
//! link that would close a cycle is refused with the cycle spelled out, because two
//! tickets that wait on each other can never start.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::ticket::TicketNumber;

/// A ticket as the graph knows it: its row id for identity, its number for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: i64,
    pub number: TicketNumber,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    #[error("{0} cannot be blocked by itself")]
    SelfDependency(TicketNumber),
    /// `cycle` starts and ends at `ticket`; each step reads "is blocked by".
    #[error("{ticket} cannot be blocked by {blocker}: that would make a cycle {} (read → as \"is blocked by\")", cycle_text(.cycle))]
    Cycle {
        ticket: TicketNumber,
        blocker: TicketNumber,
        cycle: Vec<TicketNumber>,
    },
}

/// "#3 → #7 → #3".
pub fn cycle_text(cycle: &[TicketNumber]) -> String {
    let steps: Vec<String> = cycle.iter().map(ToString::to_string).collect();
    steps.join(" → ")
}

/// Every "blocked by" link, indexed by the blocked ticket's id.
#[derive(Debug, Clone, Default)]
pub struct DependencyGraph {
    blocked_by: HashMap<i64, Vec<TicketRef>>,
}

impl DependencyGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// The graph from stored links `(ticket, blocked_by)`. The links are taken as they
    /// are: they were checked when they were added.
    pub fn from_links(links: impl IntoIterator<Item = (TicketRef, TicketRef)>) -> Self {
        let mut graph = Self::new();
        for (ticket, blocker) in links {
            graph.insert(ticket, blocker);
        }
        graph
    }

    fn insert(&mut self, ticket: TicketRef, blocker: TicketRef) {
        let list = self.blocked_by.entry(ticket.id).or_default();
        if !list.iter().any(|b| b.id == blocker.id) {
            list.push(blocker);
        }
    }

    /// The tickets `ticket_id` waits for directly.
    pub fn blockers_of(&self, ticket_id: i64) -> &[TicketRef] {
        self.blocked_by
            .get(&ticket_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Whether "`ticket` is blocked by `blocker`" may be added. A link that is already
    /// there is accepted (adding it again changes nothing).
    ///
    /// It is refused when `blocker` already waits, directly or through other tickets, on
    /// `ticket`; the error names the shortest such cycle.
    pub fn check(&self, ticket: TicketRef, blocker: TicketRef) -> Result<(), DependencyError> {
        if ticket.id == blocker.id {
            return Err(DependencyError::SelfDependency(ticket.number));
        }
        // Breadth-first from the blocker along "is blocked by" links, remembering how
        // each ticket was reached, until the ticket itself turns up.
        let mut reached_from: HashMap<i64, TicketRef> = HashMap::new();
        let mut seen: HashSet<i64> = HashSet::from([blocker.id]);
        let mut queue = VecDeque::from([blocker]);
        while let Some(current) = queue.pop_front() {
            for next in self.blockers_of(current.id) {
                if !seen.insert(next.id) {
                    continue;
                }
                reached_from.insert(next.id, current);
                if next.id == ticket.id {
                    return Err(DependencyError::Cycle {
                        ticket: ticket.number,
                        blocker: blocker.number,
                        cycle: path_back(ticket, blocker, &reached_from),
                    });
                }
                queue.push_back(*next);
            }
        }
        Ok(())
    }

    /// Checks the link and adds it when allowed.
    pub fn add(&mut self, ticket: TicketRef, blocker: TicketRef) -> Result<(), DependencyError> {
        self.check(ticket, blocker)?;
        self.insert(ticket, blocker);
        Ok(())
    }

    /// Removes a link; says whether it was there.
    pub fn remove(&mut self, ticket_id: i64, blocker_id: i64) -> bool {
        let Some(list) = self.blocked_by.get_mut(&ticket_id) else {
            return false;
        };
        let before = list.len();
        list.retain(|b| b.id != blocker_id);
        before != list.len()
    }
}

/// The cycle `ticket → blocker → … → ticket`, rebuilt from the search's back links
/// (which lead from `ticket` back to `blocker`).
fn path_back(
    ticket: TicketRef,
    blocker: TicketRef,
    reached_from: &HashMap<i64, TicketRef>,
) -> Vec<TicketNumber> {
    let mut backwards = vec![ticket.number];
    let mut at = ticket.id;
    while at != blocker.id {
        match reached_from.get(&at) {
            Some(previous) => {
                backwards.push(previous.number);
                at = previous.id;
            }
            // Every ticket the search reached has a back link, ending at the blocker.
            None => break,
        }
    }
    backwards.push(ticket.number);
    backwards.reverse();
    backwards
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(n: i64) -> TicketRef {
        TicketRef {
            id: n * 100,
            number: TicketNumber(n),
        }
    }

    #[test]
    fn a_ticket_cannot_be_blocked_by_itself() {
        let graph = DependencyGraph::new();
        let refused = graph.check(t(3), t(3)).unwrap_err();
        assert_eq!(refused, DependencyError::SelfDependency(TicketNumber(3)));
        assert_eq!(refused.to_string(), "#3 cannot be blocked by itself");
    }

    #[test]
    fn a_link_that_closes_a_two_ticket_cycle_is_refused_with_the_path() {
        let mut graph = DependencyGraph::new();
        graph.add(t(7), t(3)).unwrap();
        let refused = graph.add(t(3), t(7)).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "#3 cannot be blocked by #7: that would make a cycle #3 → #7 → #3 (read → as \"is blocked by\")"
        );
        assert_eq!(graph.blockers_of(t(3).id), &[]);
    }

    #[test]
    fn a_longer_cycle_is_named_ticket_by_ticket_in_blocking_order() {
        let mut graph = DependencyGraph::new();
        graph.add(t(7), t(9)).unwrap();
        graph.add(t(9), t(3)).unwrap();
        graph.add(t(9), t(4)).unwrap();
        let Err(DependencyError::Cycle { cycle, .. }) = graph.check(t(3), t(7)) else {
            panic!("the cycle should be refused");
        };
        let numbers: Vec<i64> = cycle.iter().map(|n| n.0).collect();
        assert_eq!(numbers, vec![3, 7, 9, 3]);
    }

    #[test]
    fn shared_blockers_without_a_cycle_are_allowed() {
        let mut graph = DependencyGraph::new();
        graph.add(t(2), t(1)).unwrap();
        graph.add(t(3), t(1)).unwrap();
        graph.add(t(4), t(2)).unwrap();
        graph.add(t(4), t(3)).unwrap();
        graph.add(t(4), t(3)).unwrap();
        assert_eq!(graph.blockers_of(t(4).id), &[t(2), t(3)]);
    }

    #[test]
    fn a_removed_link_no_longer_counts_towards_a_cycle() {
        let mut graph = DependencyGraph::from_links([(t(2), t(1))]);
        assert!(graph.check(t(1), t(2)).is_err());
        assert!(graph.remove(t(2).id, t(1).id));
        assert!(!graph.remove(t(2).id, t(1).id));
        assert_eq!(graph.check(t(1), t(2)), Ok(()));
    }

    /// An independent oracle: is `to` reachable from `from` along "blocked by" links?
    fn reachable(links: &[(i64, i64)], from: i64, to: i64) -> bool {
        let mut stack = vec![from];
        let mut seen = HashSet::new();
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if seen.insert(at) {
                stack.extend(links.iter().filter(|(a, _)| *a == at).map(|(_, b)| *b));
            }
        }
        false
    }

    proptest! {
        #[test]
        fn cycle_detection_never_accepts_a_link_that_closes_a_cycle(
            attempts in prop::collection::vec((1i64..12, 1i64..12), 0..60)
        ) {
            let mut graph = DependencyGraph::new();
            let mut accepted: Vec<(i64, i64)> = Vec::new();
            for (a, b) in attempts {
                let closes_cycle = a == b || reachable(&accepted, b, a);
                match graph.add(t(a), t(b)) {
                    Ok(()) => {
                        prop_assert!(!closes_cycle, "#{a} blocked by #{b} closes a cycle");
                        if !accepted.contains(&(a, b)) {
                            accepted.push((a, b));
                        }
                    }
                    Err(DependencyError::SelfDependency(n)) => {
                        prop_assert_eq!(a, b);
                        prop_assert_eq!(n.0, a);
                    }
                    Err(DependencyError::Cycle { cycle, .. }) => {
                        prop_assert!(closes_cycle);
                        // The named cycle is real: it starts and ends at the ticket, its
                        // first step is the new link, and every other step is a link.
                        prop_assert_eq!(cycle.first().map(|n| n.0), Some(a));
                        prop_assert_eq!(cycle.last().map(|n| n.0), Some(a));
                        prop_assert_eq!(cycle.get(1).map(|n| n.0), Some(b));
                        for step in cycle[1..].windows(2) {
                            prop_assert!(accepted.contains(&(step[0].0, step[1].0)));
                        }
                    }
                }
            }
        }
    }
}
