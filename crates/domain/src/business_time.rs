//! Business time: counting and adding the minutes that fall inside a client's business
//! hours, or every minute on the built-in 24/7 calendar.
//!
//! # The rule
//!
//! An instant is *business time* when its local wall-clock time in the calendar's zone
//! falls inside one of the weekly ranges of that local date's weekday (the start is
//! inside, the end is not) and that date is not a holiday. A holiday is a whole local
//! date with no business hours.
//!
//! Business minutes are *real elapsed minutes* spent in business time. The local time of
//! an instant is read with the UTC offset in force at that instant, so on a night when
//! the clocks change a range that spans the change holds fewer or more real minutes than
//! its face value:
//!
//! - spring forward (America/New_York, 2026-03-08, 02:00 becomes 03:00): a Sunday range
//!   `01:00-04:00` holds 2 h, because 02:00–03:00 never happens;
//! - fall back (America/New_York, 2026-11-01, 02:00 becomes 01:00 again): a Sunday range
//!   `00:00-03:00` holds 4 h, because 01:00–02:00 happens twice and both count.
//!
//! Ranges away from the change keep their length; only the real time between them
//! changes (Friday 16:00 to Monday 16:00 across the spring change is 71 real hours and
//! still 8 business hours on a 09:00–17:00 week).
//!
//! Adding N business minutes to a start gives the *earliest* instant by which N business
//! minutes have passed since the start. A due time on a business clock is therefore
//! always inside business hours or exactly at the end of a range (17:00 on Friday, not
//! 09:00 on Monday). Adding zero gives the start itself.
//!
//! Instants are counted to the millisecond, the precision Tend stores. Whole minutes are
//! reported rounded toward zero.
//!
//! # Speed
//!
//! Between two changes of UTC offset, local time is the instant plus a constant, so the
//! walk is integer arithmetic over each day's ranges, and whole weeks are taken at once
//! (their business time is the weekly total less the holidays in them). The zone is asked
//! for its offset and next transition once per walk and once per transition crossed,
//! and a prepared calendar remembers the last few stretches of one offset it was told
//! about, so most walks ask the zone nothing (a zone's rules for a future year are
//! worked out on each question, which costs more than the walk). Build a
//! [`BusinessHours`] once per calendar and reuse it; the free functions
//! ([`add_business_minutes`] and friends) build one on each call.

use std::sync::{Mutex, PoisonError};

use jiff::{civil::Date, tz::TimeZone, Timestamp};

use crate::calendar::BusinessCalendar;

pub(crate) const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Why business time could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BusinessTimeError {
    #[error("the calendar has no business hours, so business time never passes")]
    NoBusinessHours,
    #[error("cannot add a negative amount of business time ({0} minutes)")]
    NegativeMinutes(i64),
    #[error("the result falls outside the supported range of dates")]
    OutOfRange,
}

/// A calendar ready for arithmetic: a client's weekly hours and holidays in its zone, or
/// the built-in 24/7 calendar where every minute counts.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    AllHours,
    Weekly(Box<Weekly>),
}

#[derive(Debug)]
struct Weekly {
    tz: TimeZone,
    /// Ranges as milliseconds after local midnight, Monday first: weekday `d` owns
    /// `ranges[first[d]..first[d + 1]]`, sorted, with overlapping or touching ranges merged.
    ranges: Vec<(i64, i64)>,
    first: [usize; 8],
    day_ms: [i64; 7],
    week_ms: i64,
    open_days: i64,
    /// Holidays on weekdays that have hours, as days since 1970-01-01, sorted, no repeats.
    holidays: Vec<i64>,
    /// Stretches of one offset the zone gave lately, each known to hold from the first
    /// instant it was asked about (see [`Weekly::segment`]).
    seen: Mutex<Vec<(i64, Segment)>>,
}

/// How many stretches a calendar remembers: the current one, the one before the last
/// change, and a little more.
const SEEN: usize = 4;

impl Clone for Weekly {
    fn clone(&self) -> Self {
        Self {
            tz: self.tz.clone(),
            ranges: self.ranges.clone(),
            first: self.first,
            day_ms: self.day_ms,
            week_ms: self.week_ms,
            open_days: self.open_days,
            holidays: self.holidays.clone(),
            seen: Mutex::new(Vec::new()),
        }
    }
}

/// The built-in 24/7 calendar, for targets whose clock counts every hour.
pub static ALL_HOURS: BusinessHours = BusinessHours::all_hours();

impl BusinessHours {
    /// Every minute of every day is business time.
    pub const fn all_hours() -> Self {
        Self {
            kind: Kind::AllHours,
        }
    }

    /// A client's calendar in its zone. Ranges given out of order, overlapping or past
    /// 24:00 are put in order, merged and cut at midnight; a calendar with no hours at
    /// all is allowed (business time never passes in it; adding to it is an error).
    pub fn new(calendar: &BusinessCalendar, tz: TimeZone) -> Self {
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        let mut first = [0usize; 8];
        let mut day_ms = [0i64; 7];
        for (d, day) in calendar.hours.days.iter().enumerate() {
            first[d] = ranges.len();
            let mut spans: Vec<(i64, i64)> = day
                .iter()
                .map(|r| (i64::from(r.start.min(1440)), i64::from(r.end.min(1440))))
                .filter(|(s, e)| s < e)
                .map(|(s, e)| (s * MINUTE_MS, e * MINUTE_MS))
                .collect();
            spans.sort_unstable();
            for (s, e) in spans {
                if ranges.len() > first[d] {
                    if let Some(last) = ranges.last_mut() {
                        if s <= last.1 {
                            last.1 = last.1.max(e);
                            continue;
                        }
                    }
                }
                ranges.push((s, e));
            }
            day_ms[d] = ranges[first[d]..].iter().map(|(s, e)| e - s).sum();
        }
        first[7] = ranges.len();
        let mut holidays: Vec<i64> = calendar
            .holidays
            .iter()
            .map(|h| epoch_day(h.date))
            .filter(|&day| day_ms[weekday(day)] > 0)
            .collect();
        holidays.sort_unstable();
        holidays.dedup();
        Self {
            kind: Kind::Weekly(Box::new(Weekly {
                tz,
                ranges,
                first,
                day_ms,
                week_ms: day_ms.iter().sum(),
                open_days: day_ms.iter().filter(|&&ms| ms > 0).count() as i64,
                holidays,
                seen: Mutex::new(Vec::new()),
            })),
        }
    }

    pub fn is_all_hours(&self) -> bool {
        matches!(self.kind, Kind::AllHours)
    }

    /// Business minutes in a week without holidays (10,080 on the 24/7 calendar).
    pub fn minutes_per_week(&self) -> i64 {
        match &self.kind {
            Kind::AllHours => WEEK_MS / MINUTE_MS,
            Kind::Weekly(w) => w.week_ms / MINUTE_MS,
        }
    }

    /// The length of an average open day in whole minutes: the weekly minutes over the
    /// number of weekdays with hours (1,440 on the 24/7 calendar). `None` when the
    /// calendar has no hours.
    pub fn business_day_minutes(&self) -> Option<i64> {
        match &self.kind {
            Kind::AllHours => Some(DAY_MS / MINUTE_MS),
            Kind::Weekly(w) if w.open_days == 0 => None,
            Kind::Weekly(w) => Some(w.week_ms / MINUTE_MS / w.open_days),
        }
    }

    /// Whether `at` is business time.
    pub fn is_open(&self, at: Timestamp) -> bool {
        match &self.kind {
            Kind::AllHours => true,
            Kind::Weekly(w) => w.is_open(at.as_millisecond()),
        }
    }

    /// The first business instant at or after `at`; `None` when the calendar has no hours.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        match &self.kind {
            Kind::AllHours => Some(at),
            Kind::Weekly(w) if w.week_ms == 0 => None,
            Kind::Weekly(w) => {
                let mut first = FirstSpan(None);
                w.walk(at.as_millisecond(), max_ms(), &mut first);
                first.0.map(timestamp)
            }
        }
    }

    /// The earliest instant by which `minutes` business minutes have passed since `start`.
    pub fn add_minutes(
        &self,
        start: Timestamp,
        minutes: i64,
    ) -> Result<Timestamp, BusinessTimeError> {
        if minutes < 0 {
            return Err(BusinessTimeError::NegativeMinutes(minutes));
        }
        let ms = minutes
            .checked_mul(MINUTE_MS)
            .ok_or(BusinessTimeError::OutOfRange)?;
        self.add_ms(start.as_millisecond(), ms).map(timestamp)
    }

    /// Business minutes from `from` to `to`, rounded toward zero; negative when `to` is
    /// before `from`.
    pub fn minutes_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        let (a, b) = (from.as_millisecond(), to.as_millisecond());
        if a <= b {
            self.ms_between(a, b) / MINUTE_MS
        } else {
            -(self.ms_between(b, a) / MINUTE_MS)
        }
    }

    /// [`Self::add_minutes`] on milliseconds since the epoch; `ms` must not be negative.
    pub(crate) fn add_ms(&self, start: i64, ms: i64) -> Result<i64, BusinessTimeError> {
        if ms < 0 {
            return Err(BusinessTimeError::NegativeMinutes(ms / MINUTE_MS));
        }
        match &self.kind {
            Kind::AllHours => start
                .checked_add(ms)
                .filter(|&t| t <= max_ms())
                .ok_or(BusinessTimeError::OutOfRange),
            Kind::Weekly(_) if ms == 0 => Ok(start),
            Kind::Weekly(w) if w.week_ms == 0 => Err(BusinessTimeError::NoBusinessHours),
            Kind::Weekly(w) => {
                let mut take = Consume { left: ms, at: None };
                w.walk(start, max_ms(), &mut take);
                take.at.ok_or(BusinessTimeError::OutOfRange)
            }
        }
    }

    /// Business milliseconds in `[from, to)`; zero when `to <= from`.
    pub(crate) fn ms_between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        match &self.kind {
            Kind::AllHours => to - from,
            Kind::Weekly(w) => {
                let mut sum = Sum(0);
                w.walk(from, to, &mut sum);
                sum.0
            }
        }
    }
}

/// Adds `minutes` business minutes to `start` on `calendar` in `tz` (see the module
/// rules). Builds a [`BusinessHours`] each call; keep one for repeated use.
pub fn add_business_minutes(
    calendar: &BusinessCalendar,
    tz: &TimeZone,
    start: Timestamp,
    minutes: i64,
) -> Result<Timestamp, BusinessTimeError> {
    BusinessHours::new(calendar, tz.clone()).add_minutes(start, minutes)
}

/// Business minutes from `from` to `to` on `calendar` in `tz`, rounded toward zero;
/// negative when `to` is before `from`.
pub fn business_minutes_between(
    calendar: &BusinessCalendar,
    tz: &TimeZone,
    from: Timestamp,
    to: Timestamp,
) -> i64 {
    BusinessHours::new(calendar, tz.clone()).minutes_between(from, to)
}

/// Whether `at` is inside business hours of `calendar` in `tz`.
pub fn is_business_time(calendar: &BusinessCalendar, tz: &TimeZone, at: Timestamp) -> bool {
    BusinessHours::new(calendar, tz.clone()).is_open(at)
}

/// What a walk over business time does with what it finds.
trait Visit {
    /// `[start, end)` is business time; return `false` to stop the walk.
    fn span(&mut self, start: i64, end: i64) -> bool;
    /// The next seven local days hold `business` ms of business time and no change of
    /// offset; return `true` to take them whole.
    fn week(&mut self, business: i64) -> bool;
}

/// Spends a budget; `at` is where it ran out.
struct Consume {
    left: i64,
    at: Option<i64>,
}

impl Visit for Consume {
    fn span(&mut self, start: i64, end: i64) -> bool {
        if end - start >= self.left {
            self.at = Some(start + self.left);
            return false;
        }
        self.left -= end - start;
        true
    }

    fn week(&mut self, business: i64) -> bool {
        // Strictly less: when the week's time is exactly the budget, the due time is the
        // end of its last range, which only the day-by-day walk finds.
        let take = business < self.left;
        if take {
            self.left -= business;
        }
        take
    }
}

struct Sum(i64);

impl Visit for Sum {
    fn span(&mut self, start: i64, end: i64) -> bool {
        self.0 += end - start;
        true
    }

    fn week(&mut self, business: i64) -> bool {
        self.0 += business;
        true
    }
}

struct FirstSpan(Option<i64>);

impl Visit for FirstSpan {
    fn span(&mut self, start: i64, _end: i64) -> bool {
        self.0 = Some(start);
        false
    }

    fn week(&mut self, business: i64) -> bool {
        business == 0
    }
}

/// A stretch of time with one UTC offset: from some instant until `until` (the next
/// transition, or `i64::MAX` when the zone has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    offset: i64,
    until: i64,
}

fn segment(tz: &TimeZone, at: i64) -> Segment {
    let ts = timestamp(at);
    Segment {
        offset: i64::from(tz.to_offset(ts).seconds()) * 1000,
        until: tz
            .following(ts)
            .next()
            .map_or(i64::MAX, |t| t.timestamp().as_millisecond()),
    }
}

impl Weekly {
    fn ranges_on(&self, weekday: usize) -> &[(i64, i64)] {
        &self.ranges[self.first[weekday]..self.first[weekday + 1]]
    }

    fn is_holiday(&self, day: i64) -> bool {
        self.holidays.binary_search(&day).is_ok()
    }

    /// Business ms that holidays remove from the local days `[from, to)`.
    fn holiday_ms(&self, from: i64, to: i64) -> i64 {
        let i = self.holidays.partition_point(|&h| h < from);
        self.holidays[i..]
            .iter()
            .take_while(|&&h| h < to)
            .map(|&h| self.day_ms[weekday(h)])
            .sum()
    }

    /// The zone's offset at `at` and its next transition, remembered: two instants with
    /// the same next transition and offset have no change between them, so a stretch
    /// holds from the earliest instant it was found for.
    fn segment(&self, at: i64) -> Segment {
        // A poisoned lock only means another thread panicked while holding it; the
        // list is valid after every push and update, so it is used as it is.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, seg)) = seen
            .iter()
            .find(|(from, seg)| *from <= at && at < seg.until)
        {
            return *seg;
        }
        let seg = segment(&self.tz, at);
        match seen.iter_mut().find(|(_, s)| *s == seg) {
            Some(known) => known.0 = known.0.min(at),
            None => {
                if seen.len() == SEEN {
                    seen.remove(0);
                }
                seen.push((at, seg));
            }
        }
        seg
    }

    fn is_open(&self, at: i64) -> bool {
        let offset = self.segment(at).offset;
        let local = at + offset;
        let day = local.div_euclid(DAY_MS);
        let time = local - day * DAY_MS;
        !self.is_holiday(day)
            && self
                .ranges_on(weekday(day))
                .iter()
                .any(|&(s, e)| s <= time && time < e)
    }

    /// Walks business time forward from `from` to `limit` (not included), handing each
    /// stretch of it to `visit` in order; returns `true` when `visit` stopped the walk.
    fn walk(&self, from: i64, limit: i64, visit: &mut impl Visit) -> bool {
        let mut t = from;
        let mut seg = self.segment(t);
        while t < limit {
            let local = t + seg.offset;
            let day = local.div_euclid(DAY_MS);
            let time = local - day * DAY_MS;
            // The instant at which this local day began, read with the current offset.
            let midnight = t - time;
            if time == 0 {
                let week_end = t.saturating_add(WEEK_MS);
                if week_end <= seg.until && week_end <= limit {
                    let business = self.week_ms - self.holiday_ms(day, day + 7);
                    if visit.week(business) {
                        t = week_end;
                        continue;
                    }
                }
            }
            if !self.is_holiday(day) {
                for &(start, end) in self.ranges_on(weekday(day)) {
                    if end <= time {
                        continue;
                    }
                    let s = midnight + start.max(time);
                    if s >= seg.until || s >= limit {
                        break;
                    }
                    let e = midnight + end;
                    if !visit.span(s, e.min(seg.until).min(limit)) {
                        return true;
                    }
                    if e > seg.until {
                        break;
                    }
                }
            }
            let next_midnight = midnight + DAY_MS;
            if next_midnight > seg.until {
                // The offset changes before this local day ends: carry on from the change
                // with the new offset (local time jumps ahead or goes back).
                t = seg.until;
                seg = self.segment(t);
            } else {
                t = next_midnight;
            }
        }
        false
    }
}

/// Monday = 0 for a count of days since 1970-01-01 (a Thursday).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's `days_from_civil`).
fn epoch_day(date: Date) -> i64 {
    let (m, d) = (i64::from(date.month()), i64::from(date.day()));
    let y = i64::from(date.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn max_ms() -> i64 {
    Timestamp::MAX.as_millisecond()
}

/// Milliseconds since the epoch back to an instant. Every value the walks produce lies
/// within jiff's range (they stop at `Timestamp::MAX`); the clamp is never taken.
pub(crate) fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Holiday, WeeklyHours};
    use jiff::civil::DateTime;
    use proptest::prelude::*;

    const NEW_YORK: &str = "America/New_York";

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn at(tz: &str, local: &str) -> Timestamp {
        let dt: DateTime = local.parse().unwrap();
        dt.to_zoned(zone(tz)).unwrap().timestamp()
    }

    fn local(tz: &str, ts: Timestamp) -> String {
        ts.to_zoned(zone(tz))
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    }

    fn calendar(hours: &str, holidays: &[&str]) -> BusinessCalendar {
        BusinessCalendar {
            hours: WeeklyHours::parse(hours).unwrap(),
            holidays: holidays
                .iter()
                .map(|d| Holiday {
                    date: d.parse().unwrap(),
                    name: String::new(),
                })
                .collect(),
        }
    }

    fn nine_to_five(tz: &str) -> BusinessHours {
        BusinessHours::new(&calendar("mon-fri 09:00-17:00", &[]), zone(tz))
    }

    #[test]
    fn eight_business_hours_from_friday_at_four_end_on_monday_at_four() {
        let hours = nine_to_five(NEW_YORK);
        let friday = at(NEW_YORK, "2026-01-16T16:00");
        let due = hours.add_minutes(friday, 8 * 60).unwrap();
        assert_eq!(local(NEW_YORK, due), "Mon 2026-01-19 16:00 EST");
        assert_eq!(hours.minutes_between(friday, due), 480);
    }

    #[test]
    fn the_free_functions_agree_with_a_prepared_calendar() {
        let cal = calendar("mon-fri 09:00-17:00", &["2026-01-19"]);
        let tz = zone(NEW_YORK);
        let friday = at(NEW_YORK, "2026-01-16T16:00");
        let due = add_business_minutes(&cal, &tz, friday, 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Tue 2026-01-20 16:00 EST");
        assert_eq!(business_minutes_between(&cal, &tz, friday, due), 480);
        assert_eq!(business_minutes_between(&cal, &tz, due, friday), -480);
        assert!(!is_business_time(
            &cal,
            &tz,
            at(NEW_YORK, "2026-01-19T10:00")
        ));
        assert!(is_business_time(
            &cal,
            &tz,
            at(NEW_YORK, "2026-01-20T10:00")
        ));
    }

    #[test]
    fn a_holiday_is_a_whole_local_date_without_business_hours() {
        let hours = BusinessHours::new(
            &calendar("mon-fri 09:00-17:00", &["2026-12-25"]),
            zone(NEW_YORK),
        );
        assert!(!hours.is_open(at(NEW_YORK, "2026-12-25T10:00")));
        let thursday = at(NEW_YORK, "2026-12-24T16:00");
        let due = hours.add_minutes(thursday, 120).unwrap();
        assert_eq!(local(NEW_YORK, due), "Mon 2026-12-28 10:00 EST");
        assert_eq!(hours.minutes_between(thursday, due), 120);
    }

    #[test]
    fn a_range_starts_inside_business_hours_and_ends_outside() {
        let hours = nine_to_five(NEW_YORK);
        assert!(hours.is_open(at(NEW_YORK, "2026-01-14T09:00")));
        assert!(hours.is_open(at(NEW_YORK, "2026-01-14T16:59:59")));
        assert!(!hours.is_open(at(NEW_YORK, "2026-01-14T17:00")));
        assert!(!hours.is_open(at(NEW_YORK, "2026-01-17T12:00")));
    }

    #[test]
    fn a_due_time_at_the_end_of_the_day_stays_at_the_end_of_the_day() {
        let hours = nine_to_five(NEW_YORK);
        let morning = at(NEW_YORK, "2026-01-16T09:00");
        let due = hours.add_minutes(morning, 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Fri 2026-01-16 17:00 EST");
        // A week's worth ends on the Friday evening too, not on Monday morning.
        let monday = at(NEW_YORK, "2026-01-12T00:00");
        let due = hours.add_minutes(monday, 5 * 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Fri 2026-01-16 17:00 EST");
    }

    #[test]
    fn a_start_outside_business_hours_counts_from_the_next_opening() {
        let hours = nine_to_five(NEW_YORK);
        let saturday = at(NEW_YORK, "2026-01-17T11:00");
        let due = hours.add_minutes(saturday, 30).unwrap();
        assert_eq!(local(NEW_YORK, due), "Mon 2026-01-19 09:30 EST");
        assert_eq!(
            hours.next_open(saturday).map(|t| local(NEW_YORK, t)),
            Some("Mon 2026-01-19 09:00 EST".to_string())
        );
    }

    #[test]
    fn several_ranges_a_day_leave_the_gaps_out() {
        let hours = BusinessHours::new(
            &calendar("mon-fri 09:00-12:00 13:00-17:00", &[]),
            zone("Europe/Berlin"),
        );
        let start = at("Europe/Berlin", "2026-02-02T11:00");
        let due = hours.add_minutes(start, 120).unwrap();
        assert_eq!(local("Europe/Berlin", due), "Mon 2026-02-02 14:00 CET");
        assert_eq!(hours.business_day_minutes(), Some(420));
    }

    #[test]
    fn ranges_that_meet_at_midnight_count_as_one_stretch() {
        let hours = BusinessHours::new(
            &calendar("sat 20:00-24:00\nsun 00:00-02:00", &[]),
            zone("UTC"),
        );
        let start = at("UTC", "2026-01-17T23:00");
        let due = hours.add_minutes(start, 120).unwrap();
        assert_eq!(local("UTC", due), "Sun 2026-01-18 01:00 UTC");
        assert_eq!(hours.minutes_per_week(), 360);
    }

    #[test]
    fn a_calendar_with_no_business_hours_is_an_error_not_a_loop() {
        let hours = BusinessHours::new(&calendar("", &[]), zone(NEW_YORK));
        let start = at(NEW_YORK, "2026-01-16T16:00");
        assert_eq!(
            hours.add_minutes(start, 60),
            Err(BusinessTimeError::NoBusinessHours)
        );
        assert_eq!(hours.next_open(start), None);
        assert_eq!(hours.business_day_minutes(), None);
        let later = at(NEW_YORK, "2027-01-16T16:00");
        assert_eq!(hours.minutes_between(start, later), 0);
        assert!(!hours.is_open(start));
    }

    #[test]
    fn negative_amounts_and_dates_past_the_end_of_time_are_errors() {
        let hours = nine_to_five(NEW_YORK);
        let start = at(NEW_YORK, "2026-01-16T16:00");
        assert_eq!(
            hours.add_minutes(start, -5),
            Err(BusinessTimeError::NegativeMinutes(-5))
        );
        assert_eq!(
            hours.add_minutes(start, i64::MAX),
            Err(BusinessTimeError::OutOfRange)
        );
        assert_eq!(
            hours.add_minutes(start, 4_000_000_000),
            Err(BusinessTimeError::OutOfRange)
        );
        assert_eq!(
            ALL_HOURS.add_minutes(start, 10_000_000_000),
            Err(BusinessTimeError::OutOfRange)
        );
    }

    #[test]
    fn the_all_hours_calendar_counts_every_wall_clock_minute() {
        let start = at(NEW_YORK, "2026-03-07T22:00");
        let due = ALL_HOURS.add_minutes(start, 240).unwrap();
        // Across the spring change: four real hours, which the wall clock shows as five.
        assert_eq!(local(NEW_YORK, due), "Sun 2026-03-08 03:00 EDT");
        assert_eq!(ALL_HOURS.minutes_between(start, due), 240);
        assert!(ALL_HOURS.is_open(start));
        assert_eq!(ALL_HOURS.business_day_minutes(), Some(1440));
    }

    #[test]
    fn spring_forward_shortens_a_range_that_spans_the_change() {
        let hours = BusinessHours::new(&calendar("sun 01:00-04:00", &[]), zone(NEW_YORK));
        let sunday = at(NEW_YORK, "2026-03-08T00:00");
        let evening = at(NEW_YORK, "2026-03-08T23:00");
        assert_eq!(hours.minutes_between(sunday, evening), 120);
        let due = hours.add_minutes(sunday, 90).unwrap();
        assert_eq!(local(NEW_YORK, due), "Sun 2026-03-08 03:30 EDT");
        // A week earlier the same range holds its three hours.
        let before = at(NEW_YORK, "2026-03-01T00:00");
        assert_eq!(
            hours.minutes_between(before, at(NEW_YORK, "2026-03-01T23:00")),
            180
        );
    }

    #[test]
    fn spring_forward_skips_the_part_of_a_range_that_never_happens() {
        let hours = BusinessHours::new(&calendar("sun 02:30-04:00", &[]), zone(NEW_YORK));
        let sunday = at(NEW_YORK, "2026-03-08T00:00");
        assert_eq!(
            hours.minutes_between(sunday, at(NEW_YORK, "2026-03-08T12:00")),
            60
        );
        let due = hours.add_minutes(sunday, 1).unwrap();
        assert_eq!(local(NEW_YORK, due), "Sun 2026-03-08 03:01 EDT");
    }

    #[test]
    fn fall_back_lengthens_a_range_that_spans_the_change() {
        let hours = BusinessHours::new(&calendar("sun 00:00-03:00", &[]), zone(NEW_YORK));
        let sunday = at(NEW_YORK, "2026-11-01T00:00");
        let noon = at(NEW_YORK, "2026-11-01T12:00");
        assert_eq!(hours.minutes_between(sunday, noon), 240);
        // Two hours in is the moment the clocks go back: 01:00 again, now EST.
        let due = hours.add_minutes(sunday, 120).unwrap();
        assert_eq!(local(NEW_YORK, due), "Sun 2026-11-01 01:00 EST");
        let due = hours.add_minutes(sunday, 240).unwrap();
        assert_eq!(local(NEW_YORK, due), "Sun 2026-11-01 03:00 EST");
    }

    #[test]
    fn business_hours_away_from_the_change_keep_their_length_across_both_changes() {
        let hours = nine_to_five(NEW_YORK);
        let spring = at(NEW_YORK, "2026-03-06T16:00");
        let due = hours.add_minutes(spring, 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Mon 2026-03-09 16:00 EDT");
        assert_eq!(due.duration_since(spring).as_hours(), 71);
        let fall = at(NEW_YORK, "2026-10-30T16:00");
        let due = hours.add_minutes(fall, 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Mon 2026-11-02 16:00 EST");
        assert_eq!(due.duration_since(fall).as_hours(), 73);
        assert_eq!(hours.minutes_between(fall, due), 480);
    }

    #[test]
    fn long_amounts_skip_whole_weeks_and_still_honour_holidays() {
        let hours = BusinessHours::new(
            &calendar(
                "mon-fri 09:00-17:00",
                &["2026-05-25", "2026-07-03", "2026-09-07", "2026-11-26"],
            ),
            zone(NEW_YORK),
        );
        let start = at(NEW_YORK, "2026-05-01T10:00");
        // 150 open days after 2026-05-01 10:00, less four holidays, across the fall change.
        let due = hours.add_minutes(start, 150 * 480).unwrap();
        assert_eq!(local(NEW_YORK, due), "Thu 2026-12-03 10:00 EST");
        assert_eq!(hours.minutes_between(start, due), 150 * 480);
    }

    #[test]
    fn epoch_days_match_jiff() {
        for d in [
            "1970-01-01",
            "1969-12-31",
            "2000-02-29",
            "2026-03-08",
            "2400-12-31",
        ] {
            let date: Date = d.parse().unwrap();
            let jiff_days = (date - Date::constant(1970, 1, 1)).get_days();
            assert_eq!(epoch_day(date), i64::from(jiff_days), "{d}");
        }
        assert_eq!(weekday(0), 3);
    }

    // ---- properties ------------------------------------------------------------------

    const ZONES: &[&str] = &[
        "America/New_York",
        "Europe/Berlin",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/Sao_Paulo",
        "UTC",
    ];

    /// A week of 0–3 ranges a day on a 15-minute grid, with some closed days.
    fn arb_week() -> impl Strategy<Value = WeeklyHours> {
        let day = prop::collection::btree_set(0u16..=96, 0..=6).prop_map(|points| {
            let points: Vec<u16> = points.into_iter().map(|p| p * 15).collect();
            points
                .chunks_exact(2)
                .map(|c| crate::calendar::HourRange {
                    start: c[0],
                    end: c[1],
                })
                .collect::<Vec<_>>()
        });
        prop::array::uniform7(day).prop_map(|days| WeeklyHours { days })
    }

    fn arb_hours() -> impl Strategy<Value = (BusinessHours, BusinessCalendar, &'static str)> {
        (
            arb_week(),
            prop::collection::vec(0i64..1200, 0..30),
            prop::sample::select(ZONES),
        )
            .prop_filter_map("a week with hours", |(week, offsets, tz)| {
                (week.minutes_per_week() > 0).then(|| {
                    let base = Date::constant(2025, 1, 1);
                    let holidays = offsets
                        .into_iter()
                        .map(|d| Holiday {
                            date: base.checked_add(jiff::Span::new().days(d)).unwrap(),
                            name: String::new(),
                        })
                        .collect();
                    let cal = BusinessCalendar {
                        hours: week,
                        holidays,
                    };
                    (BusinessHours::new(&cal, zone(tz)), cal, tz)
                })
            })
    }

    /// A whole minute between 2025 and 2028.
    fn arb_instant() -> impl Strategy<Value = Timestamp> {
        (0i64..4 * 366 * 1440).prop_map(|m| {
            Timestamp::from_second(1_735_689_600 + m * 60).unwrap() // 2025-01-01T00:00Z
        })
    }

    /// The rule read straight from the definition, minute by minute, with jiff doing the
    /// zone conversion.
    fn open_by_definition(cal: &BusinessCalendar, tz: &str, t: Timestamp) -> bool {
        let z = t.to_zoned(zone(tz));
        let date = z.date();
        let minute = u16::from(z.hour() as u8) * 60 + u16::from(z.minute() as u8);
        !cal.holidays.iter().any(|h| h.date == date)
            && cal
                .hours
                .for_weekday(date.weekday())
                .iter()
                .any(|r| r.start <= minute && minute < r.end)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn adding_n_business_minutes_and_measuring_back_gives_n(
            (hours, _cal, _tz) in arb_hours(), start in arb_instant(), n in 0i64..20_000,
        ) {
            let due = hours.add_minutes(start, n).unwrap();
            prop_assert_eq!(hours.minutes_between(start, due), n);
        }

        #[test]
        fn measuring_is_additive_over_a_split_point(
            (hours, _cal, _tz) in arb_hours(), a in arb_instant(), b in arb_instant(), c in arb_instant(),
        ) {
            let mut v = [a, b, c];
            v.sort();
            let [a, b, c] = v;
            prop_assert_eq!(
                hours.minutes_between(a, c),
                hours.minutes_between(a, b) + hours.minutes_between(b, c)
            );
        }

        #[test]
        fn a_calendar_asked_many_things_in_any_order_answers_as_a_fresh_one(
            (hours, cal, tz) in arb_hours(),
            asks in prop::collection::vec((arb_instant(), 0i64..40_000), 1..40),
        ) {
            // The remembered stretches of one offset never change an answer.
            for (at, n) in asks {
                let fresh = BusinessHours::new(&cal, zone(tz));
                prop_assert_eq!(hours.add_minutes(at, n), fresh.add_minutes(at, n));
                let later = at + jiff::SignedDuration::from_mins(n);
                prop_assert_eq!(hours.minutes_between(at, later), fresh.minutes_between(at, later));
                prop_assert_eq!(hours.is_open(at), fresh.is_open(at));
            }
        }

        #[test]
        fn a_due_time_never_falls_outside_business_hours(
            (hours, _cal, _tz) in arb_hours(), start in arb_instant(), n in 1i64..20_000,
        ) {
            let due = hours.add_minutes(start, n).unwrap();
            // The last millisecond before the due time is business time: the due time is
            // inside business hours or exactly at the end of a range.
            let just_before = due - jiff::SignedDuration::from_millis(1);
            prop_assert!(hours.is_open(just_before));
        }

        #[test]
        fn due_times_only_move_later_as_the_amount_grows(
            (hours, _cal, _tz) in arb_hours(), start in arb_instant(), n in 0i64..20_000, more in 0i64..5_000,
        ) {
            let a = hours.add_minutes(start, n).unwrap();
            let b = hours.add_minutes(start, n + more).unwrap();
            prop_assert!(a <= b);
            prop_assert_eq!(a == b, more == 0);
        }

        #[test]
        fn business_minutes_are_the_minutes_the_definition_calls_business_time(
            (hours, cal, tz) in arb_hours(), from in arb_instant(), span in 0i64..(3 * 1440),
        ) {
            let to = from + jiff::SignedDuration::from_mins(span);
            let by_definition = (0..span)
                .filter(|m| open_by_definition(&cal, tz, from + jiff::SignedDuration::from_mins(*m)))
                .count() as i64;
            prop_assert_eq!(hours.minutes_between(from, to), by_definition);
            prop_assert_eq!(hours.is_open(from), open_by_definition(&cal, tz, from));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn business_minutes_match_the_definition_across_every_clock_change(
            (hours, cal, tz) in arb_hours(), day in 0usize..6,
        ) {
            // Three days around one of the zone's transitions in 2025–2027.
            let z = zone(tz);
            let transitions: Vec<Timestamp> = z
                .following(Timestamp::from_second(1_735_689_600).unwrap())
                .take(6)
                .map(|t| t.timestamp())
                .collect();
            prop_assume!(!transitions.is_empty());
            let center = transitions[day % transitions.len()];
            let from = center - jiff::SignedDuration::from_hours(36);
            let span = 3 * 1440;
            let by_definition = (0..span)
                .filter(|m| open_by_definition(&cal, tz, from + jiff::SignedDuration::from_mins(*m)))
                .count() as i64;
            prop_assert_eq!(
                hours.minutes_between(from, from + jiff::SignedDuration::from_mins(span)),
                by_definition
            );
        }
    }
}
