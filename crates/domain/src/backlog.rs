//! The backlog's order: "sort work by risk, revenue impact, launch timing, customer
//! effect, and dependency order" (the service page), with the SOP's severity first.
//!
//! The rules, in the order they apply:
//! 1. Only open tickets are ranked, and only open blockers count.
//! 2. Severity first: P0, P1, then tickets nobody has triaged yet (they may be urgent,
//!    so they are looked at before routine work, but never jump a known P0 or P1),
//!    then P2, P3.
//! 3. Within a severity, a higher score first. The score is 0–120: business risk,
//!    revenue impact and customer effect give 0/10/20/30 each for none (or not
//!    assessed)/low/medium/high, and launch deadline proximity gives 30 when the date
//!    is today or past, 25 within 2 days, 20 within a week, 10 within two weeks, 5
//!    within 30 days, else 0.
//! 4. A blocker always ranks before what it blocks. It is ranked with the most urgent
//!    severity and score among the open tickets it blocks, directly or through others,
//!    and its reason says so ("blocks #12 (P0)").
//! 5. Ties go to the older ticket, then the lower number.
//!
//! [`rank`] runs in O(n log n + links): a few milliseconds for 10,000 tickets.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, VecDeque};

use jiff::{civil::Date, Timestamp};
use serde::Serialize;

use crate::{
    plan::Severity,
    ticket::{Impact, TicketNumber, TicketStatus},
};

/// What the ranking needs to know about one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacklogItem {
    pub id: i64,
    pub number: TicketNumber,
    pub client_id: i64,
    pub status: TicketStatus,
    pub severity: Option<Severity>,
    pub business_risk: Option<Impact>,
    pub revenue_impact: Option<Impact>,
    pub customer_effect: Option<Impact>,
    pub launch_deadline: Option<Date>,
    pub created_at: Timestamp,
    /// Ids of the tickets this one waits for. Ids missing from the ranked list, and
    /// tickets that are resolved or closed, do not hold it back.
    pub blocked_by: Vec<i64>,
}

/// One line of the ranked backlog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedRow {
    /// 1-based place in the queue it is shown in.
    pub position: usize,
    pub id: i64,
    pub number: TicketNumber,
    pub client_id: i64,
    pub severity: Option<Severity>,
    /// The severity it is ranked with: its own, or that of a ticket it blocks.
    pub ranked_as: Option<Severity>,
    /// The score it is ranked with: its own, or that of a ticket it blocks.
    pub score: u32,
    pub own_score: u32,
    pub reason: RankReason,
}

/// Why a row sits where it does; `to_string()` gives "P1; blocks #12; launch in 2 days".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankReason {
    pub severity: Option<Severity>,
    /// Set when the row is ranked with the urgency of a ticket it blocks.
    pub inherited: Option<Inherited>,
    /// Open tickets this one blocks directly.
    pub blocks: Vec<TicketNumber>,
    /// Open tickets this one waits for directly.
    pub waits_on: Vec<TicketNumber>,
    /// Days until the launch deadline, when the deadline adds to the score.
    pub days_to_launch: Option<i64>,
    pub business_risk: Option<Impact>,
    pub revenue_impact: Option<Impact>,
    pub customer_effect: Option<Impact>,
}

/// The ticket whose urgency a blocker takes on, and the ticket it blocks on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Inherited {
    /// The most urgent ticket this one holds back.
    pub from: TicketNumber,
    /// The ticket this one blocks directly on the way to `from` (`from` itself when
    /// it blocks `from` directly).
    pub via: TicketNumber,
    pub severity: Option<Severity>,
    pub score: u32,
}

/// Rank by severity, then score (see the module's rules). Lower sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Urgency {
    tier: u8,
    score: u32,
}

impl Ord for Urgency {
    fn cmp(&self, other: &Self) -> Ordering {
        self.tier
            .cmp(&other.tier)
            .then(other.score.cmp(&self.score))
    }
}

impl PartialOrd for Urgency {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// P0, P1, not yet triaged, P2, P3.
fn severity_tier(severity: Option<Severity>) -> u8 {
    match severity {
        Some(Severity::P0) => 0,
        Some(Severity::P1) => 1,
        None => 2,
        Some(Severity::P2) => 3,
        Some(Severity::P3) => 4,
    }
}

/// Points for one impact axis: none or not assessed 0, low 10, medium 20, high 30.
pub fn impact_points(impact: Option<Impact>) -> u32 {
    match impact {
        None | Some(Impact::None) => 0,
        Some(Impact::Low) => 10,
        Some(Impact::Medium) => 20,
        Some(Impact::High) => 30,
    }
}

/// Points for how close the launch is: today or past 30, within 2 days 25, within a
/// week 20, within two weeks 10, within 30 days 5, later or no deadline 0.
pub fn deadline_points(days_to_launch: Option<i64>) -> u32 {
    match days_to_launch {
        None => 0,
        Some(d) if d <= 0 => 30,
        Some(1..=2) => 25,
        Some(3..=7) => 20,
        Some(8..=14) => 10,
        Some(15..=30) => 5,
        Some(_) => 0,
    }
}

/// Whole days from `today` to the deadline; negative once it has passed.
pub fn days_to_launch(item: &BacklogItem, today: Date) -> Option<i64> {
    let deadline = item.launch_deadline?;
    today
        .until(deadline)
        .ok()
        .map(|span| i64::from(span.get_days()))
}

/// A ticket's own score, 0–120, before anything it blocks is considered.
pub fn own_score(item: &BacklogItem, today: Date) -> u32 {
    impact_points(item.business_risk)
        + impact_points(item.revenue_impact)
        + impact_points(item.customer_effect)
        + deadline_points(days_to_launch(item, today))
}

/// The open tickets of `items`, most urgent first, each with its reason.
///
/// `today` is the date deadlines are counted from: the client's date for one client's
/// queue, the agency's for the queue across clients.
pub fn rank(items: &[BacklogItem], today: Date) -> Vec<RankedRow> {
    let open: Vec<&BacklogItem> = items.iter().filter(|i| i.status.is_open()).collect();
    let n = open.len();
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(n);
    for (i, item) in open.iter().enumerate() {
        index.entry(item.id).or_insert(i);
    }

    // Links among open tickets: blockers[i] holds i back, i holds dependents[i] back.
    let mut blockers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, item) in open.iter().enumerate() {
        let list = &mut blockers[i];
        list.extend(
            item.blocked_by
                .iter()
                .filter_map(|id| index.get(id).copied())
                .filter(|b| *b != i),
        );
        list.sort_unstable();
        list.dedup();
        for &b in list.iter() {
            dependents[b].push(i);
        }
    }

    let own: Vec<Urgency> = open
        .iter()
        .map(|item| Urgency {
            tier: severity_tier(item.severity),
            score: own_score(item, today),
        })
        .collect();

    // A blocker takes on the most urgent of what it holds back. Tickets are settled
    // from those that block nothing towards those that block most, so each one's
    // urgency is final before it is passed on.
    let mut effective = own.clone();
    // (ticket blocked directly, ticket the urgency comes from)
    let mut inherited: Vec<Option<(usize, usize)>> = vec![None; n];
    let mut unsettled: Vec<usize> = dependents.iter().map(Vec::len).collect();
    let mut settled: VecDeque<usize> = (0..n).filter(|&i| unsettled[i] == 0).collect();
    while let Some(d) = settled.pop_front() {
        let origin = inherited[d].map_or(d, |(_, origin)| origin);
        for &b in &blockers[d] {
            if effective[d] < effective[b] {
                effective[b] = effective[d];
                inherited[b] = Some((d, origin));
            }
            unsettled[b] -= 1;
            if unsettled[b] == 0 {
                settled.push_back(b);
            }
        }
    }

    // Most urgent first among the tickets whose blockers are all placed. Sorting once
    // by the full key lets the queue of ready tickets hold only each one's place in
    // that order.
    let mut keys: Vec<_> = (0..n)
        .map(|i| (effective[i], open[i].created_at, open[i].number, i))
        .collect();
    keys.sort_unstable();
    let by_key: Vec<usize> = keys.into_iter().map(|(_, _, _, i)| i).collect();
    let mut place_in_key = vec![0usize; n];
    for (place, &i) in by_key.iter().enumerate() {
        place_in_key[i] = place;
    }
    let mut waiting: Vec<usize> = blockers.iter().map(Vec::len).collect();
    let mut queued: Vec<bool> = waiting.iter().map(|w| *w == 0).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n)
        .filter(|&i| queued[i])
        .map(|i| Reverse(place_in_key[i]))
        .collect();
    let mut order: Vec<usize> = Vec::with_capacity(n);
    // Where to look for a ticket stuck on a cycle (see below); it only moves forward.
    let mut next_unqueued = 0;
    while order.len() < n {
        while let Some(Reverse(place)) = ready.pop() {
            let i = by_key[place];
            order.push(i);
            for &d in &dependents[i] {
                waiting[d] = waiting[d].saturating_sub(1);
                if waiting[d] == 0 && !queued[d] {
                    queued[d] = true;
                    ready.push(Reverse(place_in_key[d]));
                }
            }
        }
        // Links checked by `DependencyGraph` never form a cycle. Should stored data hold
        // one anyway, the most urgent ticket still held back is released so none is lost.
        while next_unqueued < n && queued[by_key[next_unqueued]] {
            next_unqueued += 1;
        }
        if next_unqueued < n {
            queued[by_key[next_unqueued]] = true;
            ready.push(Reverse(next_unqueued));
        }
    }

    order
        .into_iter()
        .enumerate()
        .map(|(place, i)| {
            let item = open[i];
            let numbers = |list: &[usize]| -> Vec<TicketNumber> {
                list.iter().map(|&j| open[j].number).collect()
            };
            let inherited = inherited[i].map(|(via, from)| Inherited {
                from: open[from].number,
                via: open[via].number,
                severity: open[from].severity,
                score: effective[i].score,
            });
            let days = days_to_launch(item, today).filter(|d| deadline_points(Some(*d)) > 0);
            RankedRow {
                position: place + 1,
                id: item.id,
                number: item.number,
                client_id: item.client_id,
                severity: item.severity,
                ranked_as: inherited.map_or(item.severity, |h| h.severity),
                score: effective[i].score,
                own_score: own[i].score,
                reason: RankReason {
                    severity: item.severity,
                    inherited,
                    blocks: numbers(&dependents[i]),
                    waits_on: numbers(&blockers[i]),
                    days_to_launch: days,
                    business_risk: item.business_risk,
                    revenue_impact: item.revenue_impact,
                    customer_effect: item.customer_effect,
                },
            }
        })
        .collect()
}

/// One client's queue: its rows in the order of the queue across clients (so links to
/// other clients' tickets still count), numbered from 1.
pub fn client_queue(ranked: &[RankedRow], client_id: i64) -> Vec<RankedRow> {
    ranked
        .iter()
        .filter(|row| row.client_id == client_id)
        .enumerate()
        .map(|(place, row)| RankedRow {
            position: place + 1,
            ..row.clone()
        })
        .collect()
}

fn severity_text(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::P0) => "P0",
        Some(Severity::P1) => "P1",
        Some(Severity::P2) => "P2",
        Some(Severity::P3) => "P3",
        None => "no severity yet",
    }
}

/// "#12, #15, #19 and 2 more".
fn list_text(items: &[String]) -> String {
    const SHOWN: usize = 3;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!(
            "{} and {} more",
            items[..SHOWN].join(", "),
            items.len() - SHOWN
        )
    }
}

impl std::fmt::Display for RankReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = vec![match self.severity {
            Some(_) => severity_text(self.severity).to_string(),
            None => "no severity yet (ranked after P1 until triaged)".to_string(),
        }];
        if !self.blocks.is_empty() {
            // The ticket the urgency comes through goes first, marked with that urgency.
            let mut blocks: Vec<String> = Vec::with_capacity(self.blocks.len());
            if let Some(h) = self.inherited {
                let urgency = if severity_tier(h.severity) == severity_tier(self.severity) {
                    format!("{}, score {}", severity_text(h.severity), h.score)
                } else {
                    severity_text(h.severity).to_string()
                };
                blocks.push(if h.via == h.from {
                    format!("{} ({urgency})", h.via)
                } else {
                    format!("{} (which leads to {}, {urgency})", h.via, h.from)
                });
            }
            let via = self.inherited.map(|h| h.via);
            blocks.extend(
                self.blocks
                    .iter()
                    .filter(|n| Some(**n) != via)
                    .map(ToString::to_string),
            );
            parts.push(format!("blocks {}", list_text(&blocks)));
        }
        if !self.waits_on.is_empty() {
            let waits: Vec<String> = self.waits_on.iter().map(ToString::to_string).collect();
            parts.push(format!("waits on {}", list_text(&waits)));
        }
        if let Some(days) = self.days_to_launch {
            parts.push(match days {
                d if d < -1 => format!("launch was {} days ago", -d),
                -1 => "launch was yesterday".to_string(),
                0 => "launch today".to_string(),
                1 => "launch tomorrow".to_string(),
                d => format!("launch in {d} days"),
            });
        }
        for (impact, what) in [
            (self.business_risk, "business risk"),
            (self.revenue_impact, "revenue impact"),
            (self.customer_effect, "customer effect"),
        ] {
            if let Some(level @ (Impact::Medium | Impact::High)) = impact {
                parts.push(format!("{} {what}", level.label()));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn today() -> Date {
        date(2026, 3, 10)
    }

    /// Ticket #n, created n hours after a fixed instant (so lower numbers are older).
    fn item(n: i64, severity: Option<Severity>) -> BacklogItem {
        BacklogItem {
            id: n * 10,
            number: TicketNumber(n),
            client_id: 1,
            status: TicketStatus::New,
            severity,
            business_risk: None,
            revenue_impact: None,
            customer_effect: None,
            launch_deadline: None,
            created_at: Timestamp::from_second(1_770_000_000 + n * 3_600).unwrap(),
            blocked_by: Vec::new(),
        }
    }

    fn numbers(rows: &[RankedRow]) -> Vec<i64> {
        rows.iter().map(|r| r.number.0).collect()
    }

    #[test]
    fn severity_comes_before_any_score() {
        let mut p2 = item(1, Some(Severity::P2));
        p2.business_risk = Some(Impact::High);
        p2.revenue_impact = Some(Impact::High);
        p2.launch_deadline = Some(today());
        let p1 = item(2, Some(Severity::P1));
        let rows = rank(&[p2, p1], today());
        assert_eq!(numbers(&rows), vec![2, 1]);
        assert_eq!(rows[1].score, 90);
    }

    #[test]
    fn within_a_severity_the_higher_score_ranks_first() {
        let low = item(1, Some(Severity::P2));
        let mut risky = item(2, Some(Severity::P2));
        risky.business_risk = Some(Impact::Medium);
        let mut soon = item(3, Some(Severity::P2));
        soon.launch_deadline = Some(date(2026, 3, 12));
        let rows = rank(&[low, risky, soon], today());
        assert_eq!(numbers(&rows), vec![3, 2, 1]);
        assert_eq!(rows[0].score, 25);
        assert_eq!(rows[1].score, 20);
    }

    #[test]
    fn ties_go_to_the_older_ticket() {
        let mut newer = item(1, Some(Severity::P3));
        newer.created_at = Timestamp::from_second(1_780_000_000).unwrap();
        let older = item(2, Some(Severity::P3));
        assert_eq!(numbers(&rank(&[newer, older], today())), vec![2, 1]);
    }

    #[test]
    fn an_untriaged_ticket_ranks_after_p1_and_before_p2() {
        let rows = rank(
            &[
                item(1, Some(Severity::P2)),
                item(2, None),
                item(3, Some(Severity::P1)),
                item(4, Some(Severity::P3)),
                item(5, Some(Severity::P0)),
            ],
            today(),
        );
        assert_eq!(numbers(&rows), vec![5, 3, 2, 1, 4]);
        assert_eq!(
            rows[2].reason.to_string(),
            "no severity yet (ranked after P1 until triaged)"
        );
    }

    #[test]
    fn a_blocker_ranks_before_what_it_blocks_and_takes_on_its_severity() {
        let mut p0 = item(12, Some(Severity::P0));
        p0.blocked_by = vec![30];
        let blocker = item(3, Some(Severity::P3));
        let other_p0 = item(20, Some(Severity::P0));
        let rows = rank(&[p0, blocker, other_p0], today());
        // #3 is older than #20, and ranks as a P0 because it holds #12 back.
        assert_eq!(numbers(&rows), vec![3, 12, 20]);
        assert_eq!(rows[0].ranked_as, Some(Severity::P0));
        assert_eq!(rows[0].severity, Some(Severity::P3));
        assert_eq!(rows[0].reason.to_string(), "P3; blocks #12 (P0)");
        assert_eq!(rows[1].reason.to_string(), "P0; waits on #3");
    }

    #[test]
    fn a_blocker_says_which_ticket_its_urgency_comes_through() {
        let mut p0 = item(12, Some(Severity::P0));
        p0.blocked_by = vec![70];
        let mut middle = item(7, Some(Severity::P2));
        middle.blocked_by = vec![30];
        let root = item(3, Some(Severity::P3));
        let rows = rank(&[p0, middle, root], today());
        assert_eq!(numbers(&rows), vec![3, 7, 12]);
        assert_eq!(
            rows[0].reason.to_string(),
            "P3; blocks #7 (which leads to #12, P0)"
        );
        assert_eq!(
            rows[1].reason.to_string(),
            "P2; blocks #12 (P0); waits on #3"
        );
    }

    #[test]
    fn a_blocker_of_the_same_severity_takes_on_the_higher_score() {
        let mut urgent = item(12, Some(Severity::P1));
        urgent.revenue_impact = Some(Impact::High);
        urgent.blocked_by = vec![50];
        let blocker = item(5, Some(Severity::P1));
        let rival = item(4, Some(Severity::P1));
        let rows = rank(&[urgent, blocker, rival], today());
        assert_eq!(numbers(&rows), vec![5, 12, 4]);
        assert_eq!(rows[0].score, 30);
        assert_eq!(rows[0].own_score, 0);
        assert_eq!(rows[0].reason.to_string(), "P1; blocks #12 (P1, score 30)");
    }

    #[test]
    fn a_row_explains_its_rank_in_one_line() {
        let mut blocker = item(5, Some(Severity::P1));
        blocker.launch_deadline = Some(date(2026, 3, 12));
        let mut blocked = item(12, Some(Severity::P2));
        blocked.blocked_by = vec![50];
        let rows = rank(&[blocker, blocked], today());
        assert_eq!(
            rows[0].reason.to_string(),
            "P1; blocks #12; launch in 2 days"
        );
    }

    #[test]
    fn the_reason_names_deadlines_and_notable_impacts() {
        let mut t = item(1, Some(Severity::P2));
        t.launch_deadline = Some(date(2026, 3, 7));
        t.business_risk = Some(Impact::High);
        t.revenue_impact = Some(Impact::Low);
        t.customer_effect = Some(Impact::Medium);
        let rows = rank(&[t], today());
        assert_eq!(
            rows[0].reason.to_string(),
            "P2; launch was 3 days ago; high business risk; medium customer effect"
        );
        assert_eq!(rows[0].score, 30 + 10 + 20 + 30);
    }

    #[test]
    fn a_far_deadline_adds_nothing_and_is_not_mentioned() {
        let mut t = item(1, Some(Severity::P3));
        t.launch_deadline = Some(date(2026, 6, 1));
        let rows = rank(&[t], today());
        assert_eq!(rows[0].score, 0);
        assert_eq!(rows[0].reason.to_string(), "P3");
    }

    #[test]
    fn deadline_points_grow_as_the_launch_nears() {
        let points: Vec<u32> = [
            None,
            Some(60),
            Some(30),
            Some(14),
            Some(7),
            Some(2),
            Some(0),
            Some(-5),
        ]
        .into_iter()
        .map(deadline_points)
        .collect();
        assert_eq!(points, vec![0, 0, 5, 10, 20, 25, 30, 30]);
    }

    #[test]
    fn resolved_and_closed_tickets_are_left_out_and_do_not_block() {
        let mut blocked = item(1, Some(Severity::P3));
        blocked.blocked_by = vec![20, 30];
        let mut resolved = item(2, Some(Severity::P0));
        resolved.status = TicketStatus::Resolved;
        let mut closed = item(3, Some(Severity::P0));
        closed.status = TicketStatus::Closed;
        let rows = rank(&[blocked, resolved, closed], today());
        assert_eq!(numbers(&rows), vec![1]);
        assert_eq!(rows[0].reason.to_string(), "P3");
    }

    #[test]
    fn a_blocker_missing_from_the_list_does_not_hold_a_ticket_back() {
        let mut t = item(1, Some(Severity::P1));
        t.blocked_by = vec![999];
        let rows = rank(&[t, item(2, Some(Severity::P2))], today());
        assert_eq!(numbers(&rows), vec![1, 2]);
        assert!(rows[0].reason.waits_on.is_empty());
    }

    #[test]
    fn a_cycle_in_stored_links_loses_no_ticket() {
        let mut a = item(1, Some(Severity::P2));
        a.blocked_by = vec![20];
        let mut b = item(2, Some(Severity::P0));
        b.blocked_by = vec![10];
        let rows = rank(&[a, b, item(3, Some(Severity::P1))], today());
        let mut ranked = numbers(&rows);
        ranked.sort();
        assert_eq!(ranked, vec![1, 2, 3]);
    }

    #[test]
    fn a_client_queue_keeps_the_cross_client_order_and_numbers_from_one() {
        let mut other = item(1, Some(Severity::P0));
        other.client_id = 2;
        let mut ours_blocked = item(2, Some(Severity::P3));
        ours_blocked.blocked_by = vec![40];
        let ours_p2 = item(3, Some(Severity::P2));
        let ours_blocker = item(4, Some(Severity::P3));
        let all = rank(&[other, ours_blocked, ours_p2, ours_blocker], today());
        let ours = client_queue(&all, 1);
        assert_eq!(numbers(&ours), vec![3, 4, 2]);
        let positions: Vec<usize> = ours.iter().map(|r| r.position).collect();
        assert_eq!(positions, vec![1, 2, 3]);
    }

    #[test]
    fn a_long_list_of_blocked_tickets_is_shortened() {
        let mut items = vec![item(1, Some(Severity::P3))];
        for n in 2..=6 {
            let mut t = item(n, Some(Severity::P3));
            t.blocked_by = vec![10];
            items.push(t);
        }
        let rows = rank(&items, today());
        assert_eq!(
            rows[0].reason.to_string(),
            "P3; blocks #2, #3, #4 and 2 more"
        );
    }

    fn severity() -> impl Strategy<Value = Option<Severity>> {
        prop::option::weighted(0.9, prop::sample::select(Severity::ALL.to_vec()))
    }

    fn impact() -> impl Strategy<Value = Option<Impact>> {
        prop::option::of(prop::sample::select(Impact::ALL.to_vec()))
    }

    /// Up to 40 tickets in random order whose links only point from a later ticket to an
    /// earlier one (so they form no cycle), with some tickets resolved or closed.
    fn backlog(with_links: bool) -> impl Strategy<Value = Vec<BacklogItem>> {
        let ticket = (
            severity(),
            impact(),
            impact(),
            impact(),
            prop::option::of(-10i64..60),
            0i64..5,
            prop::sample::select(TicketStatus::ALL.to_vec()),
            prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            1i64..4,
        );
        prop::collection::vec(ticket, 1..40)
            .prop_map(move |tickets| {
                tickets
                    .into_iter()
                    .enumerate()
                    .map(|(k, t)| {
                        let (sev, risk, revenue, effect, days, age, status, links, client) = t;
                        let n = k as i64 + 1;
                        let blocked_by = if with_links && k > 0 {
                            links
                                .iter()
                                .map(|ix| (ix.index(k) as i64 + 1) * 10)
                                .collect()
                        } else {
                            Vec::new()
                        };
                        BacklogItem {
                            id: n * 10,
                            number: TicketNumber(n),
                            client_id: client,
                            status,
                            severity: sev,
                            business_risk: risk,
                            revenue_impact: revenue,
                            customer_effect: effect,
                            launch_deadline: days
                                .and_then(|d| today().checked_add(jiff::Span::new().days(d)).ok()),
                            created_at: Timestamp::from_second(1_770_000_000 + age * 60).unwrap(),
                            blocked_by,
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .prop_shuffle()
    }

    proptest! {
        #[test]
        fn ranking_is_a_permutation_of_the_open_tickets(items in backlog(true)) {
            let rows = rank(&items, today());
            let mut ranked: Vec<i64> = rows.iter().map(|r| r.id).collect();
            ranked.sort_unstable();
            let mut open: Vec<i64> = items.iter().filter(|i| i.status.is_open()).map(|i| i.id).collect();
            open.sort_unstable();
            prop_assert_eq!(ranked, open);
            let positions: Vec<usize> = rows.iter().map(|r| r.position).collect();
            prop_assert_eq!(positions, (1..=rows.len()).collect::<Vec<_>>());
        }

        #[test]
        fn every_open_blocker_ranks_before_what_it_blocks(items in backlog(true)) {
            let rows = rank(&items, today());
            let place: HashMap<i64, usize> = rows.iter().map(|r| (r.id, r.position)).collect();
            for item in items.iter().filter(|i| i.status.is_open()) {
                for blocker in &item.blocked_by {
                    if let Some(before) = place.get(blocker) {
                        prop_assert!(before < &place[&item.id], "#{} must rank before #{}", blocker / 10, item.number.0);
                    }
                }
            }
        }

        #[test]
        fn a_blocker_is_ranked_at_least_as_urgent_as_what_it_blocks(items in backlog(true)) {
            let rows = rank(&items, today());
            let urgency: HashMap<i64, Urgency> = rows
                .iter()
                .map(|r| (r.id, Urgency { tier: severity_tier(r.ranked_as), score: r.score }))
                .collect();
            for item in items.iter().filter(|i| i.status.is_open()) {
                for blocker in &item.blocked_by {
                    if let Some(b) = urgency.get(blocker) {
                        prop_assert!(b <= &urgency[&item.id]);
                    }
                }
            }
        }

        #[test]
        fn without_links_higher_severity_always_ranks_first(items in backlog(false)) {
            let rows = rank(&items, today());
            let created: HashMap<i64, Timestamp> = items.iter().map(|i| (i.id, i.created_at)).collect();
            for pair in rows.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let (ta, tb) = (severity_tier(a.severity), severity_tier(b.severity));
                prop_assert!(ta <= tb, "#{} ({:?}) ranked above #{} ({:?})", a.number.0, a.severity, b.number.0, b.severity);
                if ta == tb {
                    prop_assert!(a.score >= b.score);
                    if a.score == b.score {
                        prop_assert!(created[&a.id] <= created[&b.id]);
                    }
                }
            }
        }
    }
}
