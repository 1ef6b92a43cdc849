//! Due-time computation on business calendars: how many (ticket, target) due times one
//! core works out per second. Run with `cargo bench -p tend-domain --bench sla`.
//!
//! The inputs are varied on purpose: three calendars (New York Mon–Fri 09:00–17:00 with
//! holidays, Berlin with a lunch break, Sydney Mon–Sat), starts spread over two years at
//! any second of the day (so in hours, after hours, weekends, holidays and both clock
//! changes), and every kind of target the SOP's plans use.
//!
//! Like a test, a bench stops on the impossible, so it uses `expect`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{measure, thousands};
use jiff::{tz::TimeZone, Timestamp};
use tend_domain::{
    business_time::{add_business_minutes, BusinessHours},
    calendar::{parse_holidays, BusinessCalendar, WeeklyHours},
    plan::{Severity, SlaTarget, TargetKind},
    sla_clock::{evaluate_clock, ClockContext, ClockHistory, WarnShare},
    sla_target::{due_time, DueTime},
};

const TARGETS: &[&str] = &[
    "1h",
    "2h",
    "4h",
    "8h",
    "12h",
    "24h",
    "1bd",
    "2bd",
    "3bd",
    "5bd",
    "1h/4h@24x7",
    "4h@24x7",
    "24h@24x7",
];

struct Client {
    calendar: BusinessCalendar,
    tz: TimeZone,
    hours: BusinessHours,
}

fn client(hours: &str, holidays: &str, tz: &str) -> Client {
    let calendar = BusinessCalendar {
        hours: WeeklyHours::parse(hours).expect("bench hours parse"),
        holidays: parse_holidays(holidays).expect("bench holidays parse"),
    };
    let tz = TimeZone::get(tz).expect("bench zone exists");
    let hours = BusinessHours::new(&calendar, tz.clone());
    Client {
        calendar,
        tz,
        hours,
    }
}

fn clients() -> Vec<Client> {
    vec![
        client(
            "mon-fri 09:00-17:00",
            "2026-01-01\n2026-01-19\n2026-02-16\n2026-05-25\n2026-07-03\n2026-09-07\n\
             2026-11-26\n2026-11-27\n2026-12-25\n2027-01-01\n2027-05-31\n2027-07-05\n\
             2027-09-06\n2027-11-25\n2027-12-24",
            "America/New_York",
        ),
        client(
            "mon 09:00-12:00 13:00-17:00\ntue-fri 08:30-12:30 13:30-16:30",
            "2026-04-03\n2026-04-06\n2026-05-01\n2026-05-14\n2026-10-03\n2026-12-25\n\
             2026-12-26\n2027-03-26\n2027-03-29\n2027-05-01",
            "Europe/Berlin",
        ),
        client(
            "mon-fri 08:00-18:00\nsat 09:00-13:00",
            "2026-01-26\n2026-04-03\n2026-12-25\n2027-01-26",
            "Australia/Sydney",
        ),
    ]
}

/// (client, start, target) triples from a fixed pseudo-random sequence.
fn cases(n: usize, clients: usize, targets: &[SlaTarget]) -> Vec<(usize, Timestamp, usize)> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let from = 1_767_225_600; // 2026-01-01T00:00Z
    let span = 2 * 365 * 86_400;
    (0..n)
        .map(|_| {
            let c = (next() % clients as u64) as usize;
            let s = from + (next() % span) as i64;
            let t = (next() % targets.len() as u64) as usize;
            (
                c,
                Timestamp::from_second(s).expect("2026–2027 is in range"),
                t,
            )
        })
        .collect()
}

fn main() {
    let clients = clients();
    let targets: Vec<SlaTarget> = TARGETS
        .iter()
        .map(|s| {
            SlaTarget::parse_spec(Severity::P1, TargetKind::Response, s)
                .expect("bench targets parse")
        })
        .collect();
    let cases = cases(4096, clients.len(), &targets);
    let min = Duration::from_secs(2);
    let mut rows = Vec::new();

    rows.push(measure(
        "due time of a (ticket, target), calendar prepared once per client",
        min,
        || {
            for &(c, start, t) in &cases {
                let due = due_time(&targets[t], &clients[c].hours, black_box(start))
                    .expect("bench calendars have hours");
                black_box(matches!(due, DueTime::At { .. }));
            }
            cases.len() as u64
        },
    ));

    let new_york = &clients[0].hours;
    for (what, minutes) in [
        ("add 8 business hours, Mon–Fri 09:00–17:00 New York", 480),
        ("add 3 business days (1,440 min), Mon–Fri New York", 1440),
        ("add 20 business days (9,600 min), Mon–Fri New York", 9600),
    ] {
        rows.push(measure(what, min, || {
            for &(_, start, _) in &cases {
                black_box(
                    new_york
                        .add_minutes(black_box(start), minutes)
                        .expect("bench calendars have hours"),
                );
            }
            cases.len() as u64
        }));
    }

    rows.push(measure(
        "add 8 business hours, calendar built on every call",
        min,
        || {
            let ny = &clients[0];
            for &(_, start, _) in &cases {
                black_box(
                    add_business_minutes(&ny.calendar, &ny.tz, black_box(start), 480)
                        .expect("bench calendars have hours"),
                );
            }
            cases.len() as u64
        },
    ));

    let dues: Vec<Timestamp> = cases
        .iter()
        .map(|&(c, start, _)| {
            clients[c]
                .hours
                .add_minutes(start, 1440)
                .expect("bench calendars have hours")
        })
        .collect();
    rows.push(measure(
        "business minutes between a start and its 3-day due time",
        min,
        || {
            for (&(c, start, _), &due) in cases.iter().zip(&dues) {
                black_box(clients[c].hours.minutes_between(black_box(start), due));
            }
            cases.len() as u64
        },
    ));

    let histories: Vec<(usize, ClockHistory, Timestamp)> = cases
        .iter()
        .map(|&(c, start, t)| {
            let mut h = ClockHistory::start(start, targets[t].clone());
            let hour = jiff::SignedDuration::from_hours(1);
            h.pause(start + hour * 2).expect("in order");
            h.resume(start + hour * 20).expect("in order");
            (c, h, start + hour * 30)
        })
        .collect();
    rows.push(measure(
        "full clock status with a pause and its timeline",
        min,
        || {
            for (c, h, now) in &histories {
                let ctx = ClockContext {
                    hours: &clients[*c].hours,
                    warn: WarnShare::DEFAULT,
                };
                let s = evaluate_clock(black_box(h), ctx, *now).expect("bench clocks evaluate");
                black_box(s.timeline.len());
            }
            histories.len() as u64
        },
    ));

    println!();
    println!("| computation (one core) | calls | ns per call | per second |");
    println!("| --- | ---: | ---: | ---: |");
    for r in &rows {
        let secs = r.elapsed.as_secs_f64();
        println!(
            "| {} | {} | {:.0} | {} |",
            r.what,
            r.calls,
            secs * 1e9 / r.calls as f64,
            thousands((r.calls as f64 / secs) as u64)
        );
    }
}
