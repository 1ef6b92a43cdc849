//! Month close throughput: 10,000 contracts with 100 ledger entries each in the closing
//! period, closed on one core. Run with `cargo bench -p tend-domain --bench ledger`.
//!
//! Each contract is on one of the SOP's three plans, starts on a day from 1 to 31, and
//! its period holds hours carried from two earlier periods, its grant, and 97 entries of
//! usage, overage, adjustments and corrections written through the ledger's own
//! functions, so every period is consistent and the close does all of its work
//! (checking the entries, summing the lots, carrying the newest, expiring the rest).
//!
//! Like a test, a bench stops on the impossible, so it uses `expect`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{measure, thousands};
use jiff::civil::date;
use tend_domain::{
    ledger::{adjust, correct, draw, summarize, Entry, EntryKind},
    minutes::Minutes,
    money::Cents,
    month_close::{close_period, BankPeriod, PeriodSchedule},
    plan::{Cadence, PlanTerms},
};

const CONTRACTS: usize = 10_000;
const ENTRIES: usize = 100;

fn plan(code: &str, hours: i64, rollover: i64, bank: i64) -> PlanTerms {
    PlanTerms {
        code: code.into(),
        name: code.into(),
        monthly_fee: Cents(100_000),
        included: Minutes::hours(hours),
        rollover_max: Minutes::hours(rollover),
        bank_max: Minutes::hours(bank),
        overage_rate: Cents(15_000),
        emergency_rate: Cents(30_000),
        increment: Minutes(15),
        report_cadence: Cadence::Monthly,
        checkin_cadence: Cadence::Monthly,
        channels: vec![],
        emergency_included: false,
        sla: vec![],
    }
}

struct Contract {
    schedule: PeriodSchedule,
    period: BankPeriod,
    plan: usize,
    entries: Vec<Entry>,
}

/// One contract's closing period, from a fixed pseudo-random sequence.
fn contract(i: usize, plans: &[PlanTerms], next: &mut impl FnMut() -> u64) -> Contract {
    let day = (i % 31) as i8 + 1;
    let schedule = PeriodSchedule::new(date(2025, 12, day));
    let period = schedule.nth(2).expect("2026 is in range");
    let plan = i % plans.len();
    let p = period.start;
    let mut entries = vec![
        Entry {
            period: p,
            kind: EntryKind::Rollover,
            minutes: Minutes(60 + (next() % 120) as i64),
            lot: schedule.nth(0).map(|q| q.start),
            reason: None,
        },
        Entry {
            period: p,
            kind: EntryKind::Rollover,
            minutes: Minutes(60 + (next() % 120) as i64),
            lot: schedule.nth(1).map(|q| q.start),
            reason: None,
        },
        Entry::grant(p, plans[plan].included),
    ];
    while entries.len() < ENTRIES {
        let more = match next() % 10 {
            0 => adjust(
                p,
                &entries,
                Minutes(15 * (next() % 8) as i64 + 15),
                "goodwill",
            ),
            1 => correct(p, &entries, Minutes(15), "logged twice"),
            _ => draw(p, &entries, Minutes(15 * (next() % 6) as i64 + 15)).map(|d| d.entries()),
        };
        if let Ok(more) = more {
            entries.extend(more);
        }
    }
    entries.truncate(ENTRIES);
    Contract {
        schedule,
        period,
        plan,
        entries,
    }
}

fn main() {
    let plans = [
        plan("STARTER", 5, 0, 0),
        plan("GROWTH", 10, 5, 15),
        plan("ENTERPRISE", 20, 10, 30),
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let contracts: Vec<Contract> = (0..CONTRACTS)
        .map(|i| contract(i, &plans, &mut next))
        .collect();
    let min = Duration::from_secs(3);
    let mut rows = Vec::new();

    rows.push(measure(
        "month close of one contract (100 entries: check, carry, expire, next grant)",
        min,
        || {
            for c in &contracts {
                let terms = &plans[c.plan];
                let outcome = close_period(&c.schedule, &c.period, terms, terms, &c.entries)
                    .expect("bench periods are consistent");
                black_box(outcome.entries().len());
            }
            contracts.len() as u64
        },
    ));
    rows.push(measure("period summary (100 entries)", min, || {
        for c in &contracts {
            black_box(summarize(black_box(&c.entries)));
        }
        contracts.len() as u64
    }));
    rows.push(measure(
        "draw 1 h from a 100-entry period (lots, oldest first)",
        min,
        || {
            for c in &contracts {
                let d = draw(c.period.start, &c.entries, Minutes(60)).expect("periods are open");
                black_box(d.entries().len());
            }
            contracts.len() as u64
        },
    ));

    println!();
    println!(
        "{} contracts x {} entries in the closing period",
        thousands(CONTRACTS as u64),
        ENTRIES
    );
    println!();
    println!(
        "| computation (one core) | calls | µs per call | per second | all 10,000 contracts |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let secs = r.elapsed.as_secs_f64();
        let per_call = secs / r.calls as f64;
        println!(
            "| {} | {} | {:.2} | {} | {:.1} ms |",
            r.what,
            r.calls,
            per_call * 1e6,
            thousands((r.calls as f64 / secs) as u64),
            per_call * CONTRACTS as f64 * 1e3
        );
    }
}
