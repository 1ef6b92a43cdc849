//! The daily digest: one morning email per active staff user, in their timezone, with
//! what needs a look today: failed runs in the last 24 hours, checks down or late,
//! tickets that will breach before the user's day ends, and hour banks past 75 %.
//!
//! When it is due ([`due_date`]) and what it says ([`render`]) are plain functions; a
//! digest with nothing in it is not sent.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The digest goes out from the configured hour until this many hours later; a Tend
/// that is down for that whole span skips that day's digest rather than send a stale
/// one in the afternoon.
pub const SEND_SPAN_HOURS: i8 = 3;

/// The user's local date when a digest is due at `now` (local time in
/// `[hour, hour + SEND_SPAN_HOURS)`), else `None`.
pub fn due_date(now: Timestamp, tz: &TimeZone, hour: i8) -> Option<Date> {
    let local = now.to_zoned(tz.clone());
    let h = local.hour();
    (h >= hour && h < hour.saturating_add(SEND_SPAN_HOURS)).then(|| local.date())
}

/// The end of the user's local day holding `now` (the next local midnight).
pub fn end_of_local_day(now: Timestamp, tz: &TimeZone) -> Timestamp {
    let local = now.to_zoned(tz.clone());
    local
        .date()
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(tz.clone()).ok())
        .map(|z| z.timestamp())
        .unwrap_or(now)
}

/// A check that failed in the last 24 hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRuns {
    pub client: String,
    pub check: String,
    pub failures: i64,
}

/// A check down or late now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Troubled {
    pub client: String,
    pub check: String,
    /// down or late.
    pub state: String,
    pub uuid: String,
}

/// A ticket whose clock breaches before the end of the user's day (or has breached).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaching {
    pub number: i64,
    pub title: String,
}

/// An hour bank past 75 % of its hours in the open period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankUse {
    pub client: String,
    pub percent: u32,
}

/// What one user's digest says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestFacts {
    pub failed_runs: Vec<FailedRuns>,
    pub troubled: Vec<Troubled>,
    pub breaching: Vec<Breaching>,
    pub banks: Vec<BankUse>,
}

impl DigestFacts {
    pub fn is_empty(&self) -> bool {
        self.failed_runs.is_empty()
            && self.troubled.is_empty()
            && self.breaching.is_empty()
            && self.banks.is_empty()
    }
}

/// The subject and text of a digest, or `None` when there is nothing to say.
pub fn render(
    user_name: &str,
    date: Date,
    facts: &DigestFacts,
    public_url: &str,
) -> Option<(String, String)> {
    if facts.is_empty() {
        return None;
    }
    let base = public_url.trim_end_matches('/');
    let mut counts = Vec::new();
    let mut body = format!("Good morning {user_name},\n\nWhat needs a look today:\n");
    if !facts.failed_runs.is_empty() {
        counts.push(plural(
            facts.failed_runs.len(),
            "check failed",
            "checks failed",
        ));
        body.push_str("\nFailed runs in the last 24 hours\n");
        for f in &facts.failed_runs {
            body.push_str(&format!(
                "  - {} ({}): {}\n",
                f.check,
                f.client,
                plural(f.failures as usize, "failure", "failures")
            ));
        }
    }
    if !facts.troubled.is_empty() {
        counts.push(plural(
            facts.troubled.len(),
            "check down or late",
            "checks down or late",
        ));
        body.push_str("\nChecks down or late\n");
        for t in &facts.troubled {
            body.push_str(&format!(
                "  - {} ({}): {}  {base}/checks/{}\n",
                t.check, t.client, t.state, t.uuid
            ));
        }
    }
    if !facts.breaching.is_empty() {
        counts.push(plural(
            facts.breaching.len(),
            "ticket breaching today",
            "tickets breaching today",
        ));
        body.push_str("\nTickets that will breach today\n");
        for b in &facts.breaching {
            body.push_str(&format!(
                "  - #{} {}  {base}/tickets/{}\n",
                b.number, b.title, b.number
            ));
        }
    }
    if !facts.banks.is_empty() {
        counts.push(plural(
            facts.banks.len(),
            "hour bank past 75 %",
            "hour banks past 75 %",
        ));
        body.push_str("\nHour banks past 75 %\n");
        for b in &facts.banks {
            body.push_str(&format!("  - {}: {} % used\n", b.client, b.percent));
        }
    }
    body.push_str(&format!("\nTend, {date}\n"));
    Some((format!("Tend digest {date}: {}", counts.join(", ")), body))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_digest_is_due_from_the_hour_for_three_hours_of_local_time() {
        let chicago = TimeZone::get("America/Chicago").unwrap();
        // 08:00 in Chicago in November is 14:00 UTC.
        assert_eq!(due_date(at("2026-11-20T13:59:00Z"), &chicago, 8), None);
        assert_eq!(
            due_date(at("2026-11-20T14:00:00Z"), &chicago, 8),
            Some(jiff::civil::date(2026, 11, 20))
        );
        assert!(due_date(at("2026-11-20T16:59:00Z"), &chicago, 8).is_some());
        assert_eq!(due_date(at("2026-11-20T17:00:00Z"), &chicago, 8), None);
        // Late in the UTC day is the next local morning in Tokyo.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(
            due_date(at("2026-11-20T23:30:00Z"), &tokyo, 8),
            Some(jiff::civil::date(2026, 11, 21))
        );
    }

    #[test]
    fn the_local_day_ends_at_local_midnight_even_on_a_dst_day() {
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 2026-03-29 is 23 hours long in Berlin.
        assert_eq!(
            end_of_local_day(at("2026-03-29T06:00:00Z"), &berlin),
            at("2026-03-29T22:00:00Z")
        );
    }

    #[test]
    fn an_empty_digest_is_not_sent_and_a_full_one_names_every_section() {
        let date = jiff::civil::date(2026, 11, 20);
        assert_eq!(
            render("Ann", date, &DigestFacts::default(), "https://d.test"),
            None
        );
        let facts = DigestFacts {
            failed_runs: vec![FailedRuns {
                client: "Acme".into(),
                check: "Lead sync".into(),
                failures: 3,
            }],
            troubled: vec![Troubled {
                client: "Acme".into(),
                check: "Backups".into(),
                state: "down".into(),
                uuid: "u-1".into(),
            }],
            breaching: vec![Breaching {
                number: 12,
                title: "Form broken".into(),
            }],
            banks: vec![BankUse {
                client: "Acme".into(),
                percent: 80,
            }],
        };
        let (subject, body) = render("Ann", date, &facts, "https://d.test/").unwrap();
        assert_eq!(
            subject,
            "Tend digest 2026-11-20: 1 check failed, 1 check down or late, 1 ticket breaching today, 1 hour bank past 75 %"
        );
        assert!(body.contains("Lead sync (Acme): 3 failures"));
        assert!(body.contains("Backups (Acme): down  https://d.test/checks/u-1"));
        assert!(body.contains("#12 Form broken  https://d.test/tickets/12"));
        assert!(body.contains("Acme: 80 % used"));
    }
}
