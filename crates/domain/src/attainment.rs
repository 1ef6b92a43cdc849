//! SLA attainment: the share of first responses and resolutions met within target, per
//! client, plan or severity and per period. These are the numbers reports use.
//!
//! Clocks are never stored: attainment is worked out from each clock's
//! [`ClockStatus`], as the ticket page shows it, evaluated at one instant ("now").
//!
//! # The rules
//!
//! 1. **Outcome.** A clock is *met* when it stopped at or before its due time, and
//!    *missed* when it stopped after its due time or is still open past it: a breach
//!    counts as a miss as soon as it happens, before the ticket is answered or
//!    resolved. A clock that is open (running or paused) and not yet due is *pending*
//!    and counts nowhere. A target without a due time (a next-window target) is not
//!    measured.
//! 2. **When.** A met or missed clock counts at the instant its outcome was decided: a
//!    met clock at its stop, a missed clock at its due time, when the target ran out.
//!    That is the earlier of the stop and the due time. So a late answer never moves a
//!    miss into a later period, and the numbers of a period that has ended stay as they
//!    are: a clock still pending at its end is decided after it. (A severity change
//!    re-derives due times, so it can still move an outcome.)
//! 3. **Where.** That instant is read as a date in the client's timezone; the date
//!    decides the period (calendar month, ISO week from Monday, calendar quarter) and
//!    whether the clock is inside the asked range. Both ends of a range are included.
//! 4. **Groups.** By client (its slug), by plan (the code of the plan the clocks
//!    measured: the client's contract that is still served), or by severity (of the
//!    target the clock measured; an untriaged ticket is timed as P2, so it counts as
//!    P2).
//! 5. **Share.** met ÷ (met + missed). With no clock decided there is no share
//!    (shown as "—"), never 0 % or 100 %.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize, Serializer};

use crate::plan::{text_enum, Severity, TargetKind};
use crate::sla_clock::{ClockState, ClockStatus};

/// What a clock counts for in attainment (rule 1), with the instant it was decided
/// (rule 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Met {
        at: Timestamp,
    },
    Missed {
        at: Timestamp,
    },
    /// Open and not yet due: decided later.
    Pending,
    /// No due time, so nothing to attain.
    Unmeasured,
}

impl Outcome {
    /// `(met, decided at)` for a met or missed clock.
    pub fn decided(self) -> Option<(bool, Timestamp)> {
        match self {
            Outcome::Met { at } => Some((true, at)),
            Outcome::Missed { at } => Some((false, at)),
            Outcome::Pending | Outcome::Unmeasured => None,
        }
    }
}

/// A clock's outcome from its status (see the module rules).
pub fn outcome(status: &ClockStatus) -> Outcome {
    match (&status.state, status.due, status.stopped_at) {
        (ClockState::MetInTime { .. }, _, Some(stop)) => Outcome::Met { at: stop },
        (ClockState::MetLate { .. } | ClockState::Breached, Some(due), _) => {
            Outcome::Missed { at: due }
        }
        (ClockState::Running | ClockState::Paused, _, _) => Outcome::Pending,
        // No target, or (never produced by the clock rules) a met or breached clock
        // without the instant it needs: it cannot be placed in a period.
        _ => Outcome::Unmeasured,
    }
}

text_enum!(
    /// How attainment is cut in time.
    Period, "period", { Week => "week", Month => "month", Quarter => "quarter" }
);
text_enum!(
    /// What attainment is grouped by.
    GroupBy, "grouping", { Client => "client", Plan => "plan", Severity => "severity" }
);

impl Period {
    /// The first day of the period that holds `date`.
    pub fn start_of(self, date: Date) -> Date {
        match self {
            // Monday is day 0, so this never leaves the supported range of dates
            // except for the first days of year -9999, which no clock reaches.
            Period::Week => date
                .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
                .unwrap_or(date),
            Period::Month => date.first_of_month(),
            Period::Quarter => {
                let first_month = (date.month() - 1) / 3 * 3 + 1;
                Date::new(date.year(), first_month, 1).unwrap_or(date.first_of_month())
            }
        }
    }

    /// The first day of the period after the one that starts on `start`.
    pub fn next(self, start: Date) -> Option<Date> {
        let step = match self {
            Period::Week => 1.week(),
            Period::Month => 1.month(),
            Period::Quarter => 3.months(),
        };
        start.checked_add(step).ok()
    }

    /// The first day of the period before the one that starts on `start`.
    pub fn previous(self, start: Date) -> Option<Date> {
        let step = match self {
            Period::Week => 1.week(),
            Period::Month => 1.month(),
            Period::Quarter => 3.months(),
        };
        start.checked_sub(step).ok()
    }

    /// "2026-03", "2026-W09" (ISO week) or "2026-Q1"; labels sort in time order.
    pub fn label(self, start: Date) -> String {
        match self {
            Period::Week => {
                let iso = start.iso_week_date();
                format!("{:04}-W{:02}", iso.year(), iso.week())
            }
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Period::Quarter => format!("{:04}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
        }
    }

    /// The period that holds `date`.
    pub fn key(self, date: Date) -> PeriodKey {
        let start = self.start_of(date);
        let end = self
            .next(start)
            .and_then(|n| n.yesterday().ok())
            .unwrap_or(Date::MAX);
        PeriodKey {
            label: self.label(start),
            start,
            end,
        }
    }

    /// Every period that overlaps the range, oldest first.
    pub fn covering(self, range: &DateRange) -> Vec<PeriodKey> {
        let mut out = Vec::new();
        let mut start = self.start_of(range.from);
        while start <= range.to {
            out.push(self.key(start));
            match self.next(start) {
                Some(n) => start = n,
                None => break,
            }
        }
        out
    }
}

/// One period: its label and its first and last day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PeriodKey {
    /// "2026-03", "2026-W09", "2026-Q1".
    pub label: String,
    pub start: Date,
    /// The last day (inclusive).
    pub end: Date,
}

impl PeriodKey {
    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }
}

/// Dates from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("the range starts ({from}) after it ends ({to})")]
    Backwards { from: Date, to: Date },
    #[error("the range is longer than {max} days; ask for at most three years at a time")]
    TooLong { max: i32 },
}

impl DateRange {
    /// The longest range asked at once: three years and a day or so.
    pub const MAX_DAYS: i32 = 3 * 366;

    pub fn new(from: Date, to: Date) -> Result<Self, RangeError> {
        if from > to {
            return Err(RangeError::Backwards { from, to });
        }
        let days = from.until(to).map(|s| s.get_days()).unwrap_or(i32::MAX);
        if days >= Self::MAX_DAYS {
            return Err(RangeError::TooLong {
                max: Self::MAX_DAYS,
            });
        }
        Ok(Self { from, to })
    }

    /// The period that holds `today` and the `count - 1` before it, up to `today`:
    /// "the last three months" is this month so far and the two before.
    pub fn last_periods(period: Period, count: u32, today: Date) -> Self {
        let mut from = period.start_of(today);
        for _ in 1..count.max(1) {
            match period.previous(from) {
                Some(p) => from = p,
                None => break,
            }
        }
        Self { from, to: today }
    }

    /// Reads the optional ends of a range; a missing `to` is `today`, a missing `from`
    /// the start of the period two before the one that holds `to` (three periods).
    pub fn from_parts(
        from: Option<Date>,
        to: Option<Date>,
        period: Period,
        today: Date,
    ) -> Result<Self, RangeError> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| Self::last_periods(period, 3, to).from);
        Self::new(from, to)
    }

    pub fn contains(&self, date: Date) -> bool {
        self.from <= date && date <= self.to
    }
}

/// Reads a date like 2026-03-01, for `from` and `to`.
pub fn parse_date(raw: &str) -> Result<Date, String> {
    raw.trim()
        .parse::<Date>()
        .map_err(|_| format!("\"{}\" is not a date like 2026-03-01", raw.trim()))
}

/// A clock whose outcome is decided, with what it is grouped by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedClock {
    pub kind: TargetKind,
    pub met: bool,
    /// The date the outcome was decided, in the client's timezone (rule 3).
    pub date: Date,
    /// The client's slug.
    pub client: String,
    /// The code of the plan whose target the clock measured.
    pub plan: String,
    /// The severity of the target the clock measured.
    pub severity: Severity,
}

impl DecidedClock {
    pub fn group(&self, by: GroupBy) -> &str {
        match by {
            GroupBy::Client => &self.client,
            GroupBy::Plan => &self.plan,
            GroupBy::Severity => self.severity.as_str(),
        }
    }
}

/// Met and missed clocks of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub met: u32,
    pub missed: u32,
}

impl Tally {
    pub fn total(self) -> u32 {
        self.met + self.missed
    }

    /// met ÷ total, from 0 to 1; `None` when nothing was decided.
    pub fn share(self) -> Option<f64> {
        (self.total() > 0).then(|| f64::from(self.met) / f64::from(self.total()))
    }

    /// Whole percent, rounded down so that one miss never shows as 100 %: "95 %", or
    /// "—" when nothing was decided.
    pub fn percent(self) -> String {
        match self.total() {
            0 => "—".to_string(),
            total => format!("{} %", u64::from(self.met) * 100 / u64::from(total)),
        }
    }

    /// "19 of 20 met".
    pub fn counts(self) -> String {
        format!("{} of {} met", self.met, self.total())
    }

    fn add(&mut self, met: bool) {
        if met {
            self.met += 1;
        } else {
            self.missed += 1;
        }
    }

    fn merge(&mut self, other: Tally) {
        self.met += other.met;
        self.missed += other.missed;
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.total() {
            0 => f.write_str("—"),
            total => write!(f, "{} ({}/{total})", self.percent(), self.met),
        }
    }
}

/// `{met, missed, total, share}`; `share` is null when nothing was decided.
impl Serialize for Tally {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            met: u32,
            missed: u32,
            total: u32,
            share: Option<f64>,
        }
        View {
            met: self.met,
            missed: self.missed,
            total: self.total(),
            share: self.share(),
        }
        .serialize(serializer)
    }
}

/// First responses and resolutions of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Attained {
    pub response: Tally,
    pub resolution: Tally,
}

impl Attained {
    fn add(&mut self, clock: &DecidedClock) {
        match clock.kind {
            TargetKind::Response => self.response.add(clock.met),
            TargetKind::Resolution => self.resolution.add(clock.met),
            // Attainment reports first responses and resolutions; update cadence is
            // watched by the SLA scan's warnings instead.
            TargetKind::NextUpdate => {}
        }
    }

    fn merge(&mut self, other: Attained) {
        self.response.merge(other.response);
        self.resolution.merge(other.resolution);
    }
}

/// One group in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttainmentRow {
    /// The client's slug, the plan's code or the severity.
    pub group: String,
    pub period: PeriodKey,
    #[serde(flatten)]
    pub attained: Attained,
}

/// One group over the whole range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupTotal {
    pub group: String,
    #[serde(flatten)]
    pub attained: Attained,
}

/// Attainment over a range: a row per group and period that has a decided clock
/// (by group, then oldest period first), each group's total, and the overall total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attainment {
    pub by: GroupBy,
    pub period: Period,
    pub range: DateRange,
    pub rows: Vec<AttainmentRow>,
    pub totals: Vec<GroupTotal>,
    pub overall: Attained,
}

/// Groups decided clocks by `by` and `period` within `range` (clocks outside it are
/// left out).
pub fn aggregate(
    clocks: &[DecidedClock],
    by: GroupBy,
    period: Period,
    range: DateRange,
) -> Attainment {
    let mut cells: BTreeMap<(&str, Date), Attained> = BTreeMap::new();
    for clock in clocks.iter().filter(|c| range.contains(c.date)) {
        cells
            .entry((clock.group(by), period.start_of(clock.date)))
            .or_default()
            .add(clock);
    }
    let mut totals: BTreeMap<&str, Attained> = BTreeMap::new();
    let mut overall = Attained::default();
    let rows = cells
        .into_iter()
        .map(|((group, start), attained)| {
            totals.entry(group).or_default().merge(attained);
            overall.merge(attained);
            AttainmentRow {
                group: group.to_string(),
                period: period.key(start),
                attained,
            }
        })
        .collect();
    Attainment {
        by,
        period,
        range,
        rows,
        totals: totals
            .into_iter()
            .map(|(group, attained)| GroupTotal {
                group: group.to_string(),
                attained,
            })
            .collect(),
        overall,
    }
}

impl Attainment {
    /// One group's rows for every period of the range, oldest first; a period without
    /// a decided clock shows as empty tallies.
    pub fn by_period(&self, group: &str) -> Vec<(PeriodKey, Attained)> {
        self.period
            .covering(&self.range)
            .into_iter()
            .map(|key| {
                let attained = self
                    .rows
                    .iter()
                    .find(|r| r.group == group && r.period.start == key.start)
                    .map(|r| r.attained)
                    .unwrap_or_default();
                (key, attained)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business_time::BusinessHours;
    use crate::calendar::{BusinessCalendar, WeeklyHours};
    use crate::plan::SlaTarget;
    use crate::sla_clock::{evaluate_clock, ClockContext, ClockHistory, WarnShare};
    use jiff::civil::date;
    use proptest::prelude::*;

    fn hours() -> BusinessHours {
        BusinessHours::new(
            &BusinessCalendar {
                hours: WeeklyHours::default(),
                holidays: vec![],
            },
            jiff::tz::TimeZone::get("America/Chicago").unwrap(),
        )
    }

    fn status(history: &ClockHistory, now: &str) -> ClockStatus {
        let hours = hours();
        let ctx = ClockContext {
            hours: &hours,
            warn: WarnShare::default(),
        };
        evaluate_clock(history, ctx, now.parse().unwrap()).unwrap()
    }

    /// A P1 response clock (8 business hours) opened Tuesday 2026-03-03 09:00 Chicago,
    /// so due at 17:00 the same day.
    fn p1(start: &str) -> ClockHistory {
        let target = SlaTarget::parse_spec(Severity::P1, TargetKind::Response, "8h").unwrap();
        ClockHistory::start(start.parse().unwrap(), target)
    }

    const OPENED: &str = "2026-03-03T15:00:00Z";
    const DUE: &str = "2026-03-03T23:00:00Z";

    #[test]
    fn a_clock_stopped_in_time_is_met_at_its_stop() {
        let mut h = p1(OPENED);
        h.stop("2026-03-03T16:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(
            outcome(&status(&h, "2026-03-10T00:00:00Z")),
            Outcome::Met {
                at: "2026-03-03T16:00:00Z".parse().unwrap()
            }
        );
    }

    #[test]
    fn a_clock_stopped_right_at_its_due_time_is_met() {
        let mut h = p1(OPENED);
        h.stop(DUE.parse().unwrap()).unwrap();
        assert!(matches!(
            outcome(&status(&h, "2026-03-10T00:00:00Z")),
            Outcome::Met { .. }
        ));
    }

    #[test]
    fn a_late_clock_is_missed_at_its_due_time_not_at_its_stop() {
        let mut h = p1(OPENED);
        h.stop("2026-04-02T15:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(
            outcome(&status(&h, "2026-04-10T00:00:00Z")),
            Outcome::Missed {
                at: DUE.parse().unwrap()
            }
        );
    }

    #[test]
    fn an_open_clock_is_pending_until_due_and_missed_after() {
        let h = p1(OPENED);
        assert_eq!(
            outcome(&status(&h, "2026-03-03T20:00:00Z")),
            Outcome::Pending
        );
        assert_eq!(
            outcome(&status(&h, "2026-03-04T20:00:00Z")),
            Outcome::Missed {
                at: DUE.parse().unwrap()
            }
        );
    }

    #[test]
    fn a_paused_clock_is_pending_however_long_it_waits() {
        let mut h = p1(OPENED);
        h.pause("2026-03-03T16:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(
            outcome(&status(&h, "2026-06-01T00:00:00Z")),
            Outcome::Pending
        );
    }

    #[test]
    fn a_next_window_target_is_not_measured() {
        let target =
            SlaTarget::parse_spec(Severity::P3, TargetKind::Resolution, "window:Next window")
                .unwrap();
        let h = ClockHistory::start(OPENED.parse().unwrap(), target);
        assert_eq!(
            outcome(&status(&h, "2026-06-01T00:00:00Z")),
            Outcome::Unmeasured
        );
    }

    #[test]
    fn periods_have_labels_that_sort_in_time_order() {
        let d = date(2026, 3, 4);
        assert_eq!(Period::Month.key(d).label, "2026-03");
        assert_eq!(Period::Quarter.key(d).label, "2026-Q1");
        assert_eq!(Period::Quarter.key(d).end, date(2026, 3, 31));
        let week = Period::Week.key(d);
        assert_eq!((week.start, week.end), (date(2026, 3, 2), date(2026, 3, 8)));
        assert_eq!(week.label, "2026-W10");
        // 2026-01-01 is a Thursday: its ISO week is 2026-W01, which starts in 2025.
        let first = Period::Week.key(date(2026, 1, 1));
        assert_eq!(
            (first.label.as_str(), first.start),
            ("2026-W01", date(2025, 12, 29))
        );
    }

    #[test]
    fn the_last_three_months_are_this_month_so_far_and_the_two_before() {
        let r = DateRange::last_periods(Period::Month, 3, date(2026, 3, 15));
        assert_eq!((r.from, r.to), (date(2026, 1, 1), date(2026, 3, 15)));
        let q = DateRange::from_parts(None, None, Period::Quarter, date(2026, 3, 15)).unwrap();
        assert_eq!(q.from, date(2025, 7, 1));
        assert_eq!(Period::Month.covering(&r).len(), 3);
    }

    #[test]
    fn a_backwards_or_too_long_range_is_refused() {
        assert!(matches!(
            DateRange::new(date(2026, 3, 2), date(2026, 3, 1)),
            Err(RangeError::Backwards { .. })
        ));
        assert!(matches!(
            DateRange::new(date(2020, 1, 1), date(2026, 1, 1)),
            Err(RangeError::TooLong { .. })
        ));
        assert!(DateRange::new(date(2026, 3, 1), date(2026, 3, 1)).is_ok());
        assert!(parse_date("2026-02-30").is_err());
    }

    fn clock(client: &str, kind: TargetKind, met: bool, d: Date) -> DecidedClock {
        DecidedClock {
            kind,
            met,
            date: d,
            client: client.into(),
            plan: "GROWTH".into(),
            severity: Severity::P2,
        }
    }

    #[test]
    fn attainment_is_grouped_by_client_and_month_with_shares() {
        use TargetKind::{Resolution, Response};
        let clocks = [
            clock("acme", Response, true, date(2026, 1, 5)),
            clock("acme", Response, false, date(2026, 1, 20)),
            clock("acme", Resolution, true, date(2026, 2, 1)),
            clock("zeta", Response, true, date(2026, 2, 3)),
            clock("zeta", Response, true, date(2025, 12, 31)),
        ];
        let range = DateRange::new(date(2026, 1, 1), date(2026, 2, 28)).unwrap();
        let a = aggregate(&clocks, GroupBy::Client, Period::Month, range);
        let rows: Vec<(&str, &str, String, String)> = a
            .rows
            .iter()
            .map(|r| {
                (
                    r.group.as_str(),
                    r.period.label.as_str(),
                    r.attained.response.to_string(),
                    r.attained.resolution.to_string(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("acme", "2026-01", "50 % (1/2)".into(), "—".into()),
                ("acme", "2026-02", "—".into(), "100 % (1/1)".into()),
                ("zeta", "2026-02", "100 % (1/1)".into(), "—".into()),
            ]
        );
        assert_eq!(
            a.overall.response.total(),
            3,
            "December is outside the range"
        );
        assert_eq!(a.totals[0].attained.response.share(), Some(0.5));
        let json = serde_json::to_value(&a.rows[0]).unwrap();
        assert_eq!(json["response"]["share"], 0.5);
        assert!(json["resolution"]["share"].is_null());
        assert_eq!(json["period"]["label"], "2026-01");
    }

    #[test]
    fn a_share_is_rounded_down_so_a_miss_never_reads_as_100() {
        let t = Tally {
            met: 199,
            missed: 1,
        };
        assert_eq!(t.percent(), "99 %");
        assert_eq!(Tally::default().percent(), "—");
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        (0i64..1200).prop_map(|d| date(2025, 1, 1).checked_add(d.days()).unwrap())
    }

    fn arb_clock() -> impl Strategy<Value = DecidedClock> {
        (
            prop_oneof![Just(TargetKind::Response), Just(TargetKind::Resolution)],
            any::<bool>(),
            arb_date(),
            prop_oneof![Just("acme"), Just("brightsmile"), Just("zeta")],
            prop_oneof![Just("STARTER"), Just("GROWTH")],
            prop_oneof![
                Just(Severity::P0),
                Just(Severity::P1),
                Just(Severity::P2),
                Just(Severity::P3)
            ],
        )
            .prop_map(|(kind, met, date, client, plan, severity)| DecidedClock {
                kind,
                met,
                date,
                client: client.into(),
                plan: plan.into(),
                severity,
            })
    }

    fn arb_by() -> impl Strategy<Value = GroupBy> {
        prop_oneof![
            Just(GroupBy::Client),
            Just(GroupBy::Plan),
            Just(GroupBy::Severity)
        ]
    }

    fn arb_period() -> impl Strategy<Value = Period> {
        prop_oneof![
            Just(Period::Week),
            Just(Period::Month),
            Just(Period::Quarter)
        ]
    }

    fn arb_range() -> impl Strategy<Value = DateRange> {
        (arb_date(), 0i64..500).prop_map(|(from, len)| {
            DateRange::new(from, from.checked_add(len.days()).unwrap()).unwrap()
        })
    }

    proptest! {
        #[test]
        fn shares_lie_between_zero_and_one(
            clocks in prop::collection::vec(arb_clock(), 0..60),
            by in arb_by(), period in arb_period(), range in arb_range(),
        ) {
            let a = aggregate(&clocks, by, period, range);
            let tallies = a.rows.iter().map(|r| r.attained)
                .chain(a.totals.iter().map(|t| t.attained))
                .chain(std::iter::once(a.overall))
                .flat_map(|x| [x.response, x.resolution]);
            for t in tallies {
                match t.share() {
                    Some(s) => prop_assert!((0.0..=1.0).contains(&s)),
                    None => prop_assert_eq!(t.total(), 0),
                }
            }
        }

        #[test]
        fn counts_add_up_across_rows_totals_and_overall(
            clocks in prop::collection::vec(arb_clock(), 0..60),
            by in arb_by(), period in arb_period(), range in arb_range(),
        ) {
            let a = aggregate(&clocks, by, period, range);
            let inside: Vec<&DecidedClock> = clocks.iter().filter(|c| range.contains(c.date)).collect();
            let count = |kind, met| inside.iter().filter(|c| c.kind == kind && c.met == met).count() as u32;
            prop_assert_eq!(a.overall.response.met, count(TargetKind::Response, true));
            prop_assert_eq!(a.overall.response.missed, count(TargetKind::Response, false));
            prop_assert_eq!(a.overall.resolution.met, count(TargetKind::Resolution, true));
            prop_assert_eq!(a.overall.resolution.missed, count(TargetKind::Resolution, false));
            for total in &a.totals {
                let mut sum = Attained::default();
                for r in a.rows.iter().filter(|r| r.group == total.group) {
                    sum.merge(r.attained);
                }
                prop_assert_eq!(sum, total.attained);
            }
            let mut sum = Attained::default();
            for t in &a.totals {
                sum.merge(t.attained);
            }
            prop_assert_eq!(sum, a.overall);
        }

        #[test]
        fn every_clock_in_the_range_falls_in_exactly_one_row(
            clocks in prop::collection::vec(arb_clock(), 0..60),
            by in arb_by(), period in arb_period(), range in arb_range(),
        ) {
            let a = aggregate(&clocks, by, period, range);
            for c in clocks.iter().filter(|c| range.contains(c.date)) {
                let holding = a.rows.iter()
                    .filter(|r| r.group == c.group(by) && r.period.contains(c.date))
                    .count();
                prop_assert_eq!(holding, 1);
            }
            for (i, r) in a.rows.iter().enumerate() {
                prop_assert!(r.attained.response.total() + r.attained.resolution.total() > 0);
                prop_assert!(r.period.start <= range.to && r.period.end >= range.from);
                for other in &a.rows[..i] {
                    prop_assert!(
                        (other.group.as_str(), other.period.start) < (r.group.as_str(), r.period.start),
                        "rows are unique and sorted"
                    );
                }
            }
        }

        #[test]
        fn a_period_holds_its_dates_and_periods_follow_each_other(
            d in arb_date(), period in arb_period(),
        ) {
            let key = period.key(d);
            prop_assert!(key.contains(d));
            let next = period.key(period.next(key.start).unwrap());
            prop_assert_eq!(next.start, key.end.tomorrow().unwrap());
            prop_assert!(next.label > key.label);
            prop_assert_eq!(period.previous(next.start), Some(key.start));
        }
    }
}
