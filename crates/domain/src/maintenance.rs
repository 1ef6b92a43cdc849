//! Maintenance windows: times when a check's alerts are silenced because the agency (or
//! the client) is working on the workflow on purpose.
//!
//! A window is one-off (from an instant to an instant), weekly (chosen weekdays, a
//! wall-clock time range in an IANA timezone; a range that ends before it starts runs
//! past midnight), or cron (each time a cron expression fires in a timezone, for a
//! duration). It covers chosen checks of one client, or all of that client's checks.
//!
//! Weekly windows follow the wall clock: "Sunday 01:00–03:00 in Europe/Berlin" is two
//! real hours on most Sundays and one on the Sunday the clocks spring forward.
//!
//! [`is_silenced`] is the one rule: state changes are still recorded while a window is
//! active, only the alert (ticket, notifications) waits. A check still down when its
//! window ends is alerted then.

use jiff::civil::{Time, Weekday};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::check::{parse_interval, CronExpr};
use crate::timezone::Timezone;
use crate::FieldErrors;

/// When a window is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    Once {
        starts_at: i64,
        ends_at: i64,
    },
    Weekly {
        /// Monday first.
        days: [bool; 7],
        from: Time,
        until: Time,
        tz: Timezone,
    },
    Cron {
        expr: CronExpr,
        tz: Timezone,
        duration_ms: i64,
    },
}

/// A window as the rule needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub id: i64,
    pub client_id: i64,
    /// Empty: every check of the client.
    pub check_ids: Vec<i64>,
    pub recurrence: Recurrence,
    /// Ended early by a person (`tend maintenance end`): inactive from then on.
    pub ended_at: Option<i64>,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(d: Weekday) -> usize {
    d.to_monday_zero_offset() as usize
}

impl Recurrence {
    /// Whether the window is open at `now` (UTC ms), ignoring an early end.
    pub fn is_open(&self, now: i64) -> bool {
        match self {
            Recurrence::Once { starts_at, ends_at } => *starts_at <= now && now < *ends_at,
            Recurrence::Weekly {
                days,
                from,
                until,
                tz,
            } => {
                let Ok(t) = Timestamp::from_millisecond(now) else {
                    return false;
                };
                let local = t.to_zoned(tz.zone());
                let time = local.time();
                let today = day_index(local.weekday());
                let yesterday = (today + 6) % 7;
                if from < until {
                    days[today] && *from <= time && time < *until
                } else {
                    // Runs past midnight (or all day when from == until): the part
                    // after `from` today, or the part before `until` that began yesterday.
                    (days[today] && time >= *from) || (days[yesterday] && time < *until)
                }
            }
            Recurrence::Cron {
                expr,
                tz,
                duration_ms,
            } => {
                // The last firing at or before `now` is the first one after
                // `now - duration` when that one is not past `now`.
                let Ok(since) = Timestamp::from_millisecond(now - duration_ms) else {
                    return false;
                };
                match expr.next_after(since, &tz.zone()) {
                    Some(fire) => fire.as_millisecond() <= now,
                    None => false,
                }
            }
        }
    }

    /// "once 2026-11-22 01:00 → 03:00 UTC", "weekly sun 01:00–03:00 (Europe/Berlin)",
    /// "cron 0 2 * * 6 for 2h (UTC)".
    pub fn describe(&self) -> String {
        match self {
            Recurrence::Once { starts_at, ends_at } => {
                let show = |ms: i64| {
                    Timestamp::from_millisecond(ms)
                        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_else(|_| ms.to_string())
                };
                format!("once {} → {}", show(*starts_at), show(*ends_at))
            }
            Recurrence::Weekly {
                days,
                from,
                until,
                tz,
            } => format!(
                "weekly {} {}–{} ({tz})",
                days_text(days),
                from.strftime("%H:%M"),
                until.strftime("%H:%M")
            ),
            Recurrence::Cron {
                expr,
                tz,
                duration_ms,
            } => format!(
                "cron {expr} for {} ({tz})",
                crate::check::format_interval(*duration_ms)
            ),
        }
    }
}

/// "mon,tue,fri".
pub fn days_text(days: &[bool; 7]) -> String {
    DAY_NAMES
        .iter()
        .zip(days)
        .filter(|(_, on)| **on)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

impl Window {
    pub fn covers(&self, check_id: i64, client_id: i64) -> bool {
        self.client_id == client_id
            && (self.check_ids.is_empty() || self.check_ids.contains(&check_id))
    }

    pub fn is_active(&self, now: i64) -> bool {
        self.ended_at.is_none_or(|end| now < end) && self.recurrence.is_open(now)
    }
}

/// The window that silences the check's alerts at `now`, if any.
pub fn is_silenced(windows: &[Window], check_id: i64, client_id: i64, now: i64) -> Option<&Window> {
    windows
        .iter()
        .find(|w| w.covers(check_id, client_id) && w.is_active(now))
}

/// A window as a form, the API or the CLI gives it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WindowDraft {
    /// The client's slug.
    pub client: String,
    /// UUIDs of chosen checks; empty for all the client's checks.
    pub checks: Vec<String>,
    /// once, weekly or cron.
    pub kind: String,
    /// For once: "2026-11-22T01:00" (wall clock in `timezone`) or an RFC 3339 instant.
    pub starts: String,
    pub ends: String,
    /// For weekly: "sat,sun" or "mon-fri".
    pub days: String,
    /// For weekly: "01:00" and "03:00".
    pub from: String,
    pub until: String,
    /// For cron: "0 2 * * 6" and a duration such as "2h".
    pub cron: String,
    pub duration: String,
    /// IANA timezone for the wall-clock fields; UTC when empty.
    pub timezone: String,
    pub reason: String,
}

/// A window ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInput {
    pub client: String,
    pub checks: Vec<String>,
    pub recurrence: Recurrence,
    pub reason: String,
}

fn parse_time(raw: &str) -> Result<Time, String> {
    let s = raw.trim();
    Time::strptime("%H:%M", s)
        .map_err(|_| format!("\"{s}\" is not a time of day (write 01:30 or 23:00)"))
}

fn parse_instant(raw: &str, tz: &Timezone) -> Result<i64, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let civil = s
        .replace(' ', "T")
        .parse::<jiff::civil::DateTime>()
        .map_err(|_| format!("\"{s}\" is not a date and time (write 2026-11-22T01:00)"))?;
    civil
        .to_zoned(tz.zone())
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| e.to_string())
}

/// "sat,sun", "mon-fri", "mon,wed-fri", "daily".
pub fn parse_days(raw: &str) -> Result<[bool; 7], String> {
    let s = raw.trim().to_lowercase();
    let mut days = [false; 7];
    if s == "daily" || s == "*" {
        return Ok([true; 7]);
    }
    let index = |name: &str| {
        let name = name.trim();
        DAY_NAMES
            .iter()
            .position(|d| name.len() >= 3 && (name.starts_with(d)))
            .ok_or_else(|| format!("\"{name}\" is not a weekday (mon, tue, … sun)"))
    };
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (index(a)?, index(b)?);
                let mut i = a;
                loop {
                    days[i] = true;
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => days[index(part)?] = true,
        }
    }
    if days.iter().any(|d| *d) {
        Ok(days)
    } else {
        Err("name at least one weekday (for example sat,sun or mon-fri)".into())
    }
}

impl WindowDraft {
    pub fn parse(&self) -> Result<WindowInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let client = self.client.trim().to_string();
        if client.is_empty() {
            errors.add("client", "is required");
        }
        let tz = if self.timezone.trim().is_empty() {
            Timezone::parse("UTC").ok()
        } else {
            errors.check("timezone", Timezone::parse(&self.timezone))
        };
        let mut checks = Vec::new();
        for c in &self.checks {
            match crate::check::CheckUuid::parse(c) {
                Ok(u) => checks.push(u.as_str().to_string()),
                Err(e) => errors.add("checks", e.to_string()),
            }
        }
        let recurrence = match (self.kind.trim().to_lowercase().as_str(), tz) {
            (_, None) => None,
            ("once" | "", Some(tz)) => {
                let starts = errors.check("starts", parse_instant(&self.starts, &tz));
                let ends = errors.check("ends", parse_instant(&self.ends, &tz));
                match (starts, ends) {
                    (Some(s), Some(e)) if e <= s => {
                        errors.add("ends", "must be after the start");
                        None
                    }
                    (Some(starts_at), Some(ends_at)) => {
                        Some(Recurrence::Once { starts_at, ends_at })
                    }
                    _ => None,
                }
            }
            ("weekly", Some(tz)) => {
                let days = errors.check("days", parse_days(&self.days));
                let from = errors.check("from", parse_time(&self.from));
                let until = errors.check("until", parse_time(&self.until));
                match (days, from, until) {
                    (Some(days), Some(from), Some(until)) => Some(Recurrence::Weekly {
                        days,
                        from,
                        until,
                        tz,
                    }),
                    _ => None,
                }
            }
            ("cron", Some(tz)) => {
                let expr = errors.check("cron", CronExpr::parse(&self.cron));
                let duration = errors.check("duration", parse_interval(&self.duration));
                match (expr, duration) {
                    (Some(expr), Some(duration_ms)) => Some(Recurrence::Cron {
                        expr,
                        tz,
                        duration_ms,
                    }),
                    _ => None,
                }
            }
            (other, Some(_)) => {
                errors.add(
                    "kind",
                    format!("\"{other}\" is not a window kind (once, weekly or cron)"),
                );
                None
            }
        };
        let reason: String = self.reason.trim().chars().take(500).collect();
        match recurrence {
            Some(recurrence) if errors.is_empty() => Ok(WindowInput {
                client,
                checks,
                recurrence,
                reason,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn weekly(days: &str, from: &str, until: &str, tz: &str) -> Recurrence {
        Recurrence::Weekly {
            days: parse_days(days).unwrap(),
            from: parse_time(from).unwrap(),
            until: parse_time(until).unwrap(),
            tz: Timezone::parse(tz).unwrap(),
        }
    }

    fn window(id: i64, client_id: i64, checks: &[i64], recurrence: Recurrence) -> Window {
        Window {
            id,
            client_id,
            check_ids: checks.to_vec(),
            recurrence,
            ended_at: None,
        }
    }

    #[test]
    fn a_one_off_window_covers_its_start_but_not_its_end() {
        let r = Recurrence::Once {
            starts_at: 1_000,
            ends_at: 2_000,
        };
        assert!(!r.is_open(999));
        assert!(r.is_open(1_000));
        assert!(r.is_open(1_999));
        assert!(!r.is_open(2_000));
    }

    #[test]
    fn a_weekly_window_follows_the_local_wall_clock() {
        // Saturdays 22:00–23:00 in New York = Sunday 03:00–04:00 UTC in November.
        let r = weekly("sat", "22:00", "23:00", "America/New_York");
        assert!(r.is_open(at("2026-11-22T03:30:00Z")));
        assert!(!r.is_open(at("2026-11-22T04:00:00Z")));
        assert!(!r.is_open(at("2026-11-21T22:30:00Z")));
    }

    #[test]
    fn a_weekly_window_that_ends_before_it_starts_runs_past_midnight() {
        let r = weekly("fri", "23:00", "02:00", "UTC");
        assert!(r.is_open(at("2026-11-20T23:30:00Z"))); // Friday night
        assert!(r.is_open(at("2026-11-21T01:59:00Z"))); // Saturday early, begun Friday
        assert!(!r.is_open(at("2026-11-21T02:00:00Z")));
        assert!(!r.is_open(at("2026-11-21T23:30:00Z"))); // Saturday night: not a Friday
        assert!(!r.is_open(at("2026-11-20T01:00:00Z"))); // Friday early: Thursday not chosen
    }

    #[test]
    fn on_the_spring_forward_night_a_weekly_window_is_an_hour_shorter() {
        // Europe/Berlin springs forward on 2026-03-29 at 02:00 local (01:00 UTC).
        let r = weekly("sun", "01:00", "04:00", "Europe/Berlin");
        let open_minutes = |day: &str| {
            let start = at(&format!("{day}T00:00:00Z")) - 3 * 3_600_000;
            (0..(12 * 60))
                .filter(|m| r.is_open(start + m * 60_000))
                .count()
        };
        assert_eq!(open_minutes("2026-03-22"), 180);
        assert_eq!(open_minutes("2026-03-29"), 120);
        // Falling back (2026-10-25) repeats 02:00–03:00: an hour longer.
        assert_eq!(open_minutes("2026-10-25"), 240);
    }

    #[test]
    fn a_cron_window_lasts_its_duration_after_each_firing() {
        let r = Recurrence::Cron {
            expr: CronExpr::parse("0 2 * * 6").unwrap(),
            tz: Timezone::parse("Europe/Berlin").unwrap(),
            duration_ms: 2 * 3_600_000,
        };
        // Saturday 2026-11-21 02:00 Berlin = 01:00 UTC.
        assert!(!r.is_open(at("2026-11-21T00:59:00Z")));
        assert!(r.is_open(at("2026-11-21T01:00:00Z")));
        assert!(r.is_open(at("2026-11-21T02:59:00Z")));
        assert!(!r.is_open(at("2026-11-21T03:00:00Z")));
        assert!(!r.is_open(at("2026-11-22T01:30:00Z")));
    }

    #[test]
    fn a_window_silences_only_its_checks_or_its_whole_client() {
        let open = Recurrence::Once {
            starts_at: 0,
            ends_at: 10_000,
        };
        let windows = vec![
            window(1, 10, &[100, 101], open.clone()),
            window(2, 20, &[], open.clone()),
        ];
        assert_eq!(is_silenced(&windows, 100, 10, 5).map(|w| w.id), Some(1));
        assert!(is_silenced(&windows, 102, 10, 5).is_none());
        assert_eq!(is_silenced(&windows, 555, 20, 5).map(|w| w.id), Some(2));
        assert!(is_silenced(&windows, 100, 10, 10_000).is_none());
        // A check id of another client is not covered by its number alone.
        assert!(is_silenced(&windows, 100, 30, 5).is_none());
    }

    #[test]
    fn a_window_ended_early_silences_nothing_afterwards() {
        let mut w = window(
            1,
            10,
            &[],
            Recurrence::Once {
                starts_at: 0,
                ends_at: 10_000,
            },
        );
        w.ended_at = Some(4_000);
        assert!(w.is_active(3_999));
        assert!(!w.is_active(4_000));
    }

    #[test]
    fn drafts_parse_each_kind_and_name_the_bad_fields() {
        let once = WindowDraft {
            client: "acme".into(),
            kind: "once".into(),
            starts: "2026-11-22T01:00".into(),
            ends: "2026-11-22 03:00".into(),
            timezone: "Europe/Berlin".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(
            once.recurrence,
            Recurrence::Once {
                starts_at: at("2026-11-22T00:00:00Z"),
                ends_at: at("2026-11-22T02:00:00Z")
            }
        );
        let w = WindowDraft {
            client: "acme".into(),
            kind: "weekly".into(),
            days: "mon-fri".into(),
            from: "22:00".into(),
            until: "23:30".into(),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(
            w.recurrence.describe(),
            "weekly mon,tue,wed,thu,fri 22:00–23:30 (UTC)"
        );
        let bad = WindowDraft {
            client: "acme".into(),
            kind: "weekly".into(),
            days: "funday".into(),
            from: "25:00".into(),
            until: "03:00".into(),
            timezone: "Mars/Olympus".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(bad.get("timezone").is_some(), "{bad:?}");
        let bad = WindowDraft {
            client: "acme".into(),
            kind: "weekly".into(),
            days: "funday".into(),
            from: "25:00".into(),
            until: "03:00".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(
            bad.get("days").is_some() && bad.get("from").is_some(),
            "{bad:?}"
        );
        let bad = WindowDraft {
            client: "acme".into(),
            kind: "once".into(),
            starts: "2026-11-22T03:00Z".into(),
            ends: "2026-11-22T01:00Z".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(bad.get("ends").is_some(), "{bad:?}");
        let bad = WindowDraft {
            client: "acme".into(),
            kind: "cron".into(),
            cron: "every tuesday".into(),
            duration: "2h".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        assert!(bad.get("cron").is_some(), "{bad:?}");
    }

    #[test]
    fn weekday_lists_wrap_around_the_week() {
        assert_eq!(
            days_text(&parse_days("fri-mon").unwrap()),
            "mon,fri,sat,sun"
        );
        assert_eq!(days_text(&parse_days("daily").unwrap()).len(), 27);
        assert!(parse_days("").is_err());
    }

    proptest! {
        #[test]
        fn a_weekly_window_on_every_day_and_hour_is_always_open(now in 0i64..4_000_000_000_000) {
            let r = weekly("daily", "00:00", "00:00", "America/Sao_Paulo");
            prop_assert!(r.is_open(now));
        }

        #[test]
        fn parsing_any_draft_never_panics(kind in "(once|weekly|cron|x)", a in ".{0,20}", b in ".{0,20}", tz in ".{0,20}") {
            let _ = WindowDraft {
                client: "acme".into(),
                kind,
                starts: a.clone(),
                ends: b.clone(),
                days: a.clone(),
                from: a.clone(),
                until: b.clone(),
                cron: a,
                duration: b,
                timezone: tz,
                ..Default::default()
            }
            .parse();
        }
    }
}
