//! The daily digest job: for each active staff user whose local morning it is, queue
//! one email (event key `digest:<user>:<local date>`, so once per user and day across
//! restarts and instances) with what needs a look today. Runs are claimed through job
//! slots, so instances do not compute it twice.

use jiff::{SignedDuration, Timestamp};
use tend_domain::digest::{due_date, end_of_local_day, render, BankUse, Breaching, DigestFacts};
use tend_domain::role::Role;
use tend_store::outbox::{NewMessage, EMAIL};
use tend_store::{Result, Store};

pub const DIGEST_JOB: &str = "daily-digest";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DigestReport {
    /// Digests queued.
    pub queued: usize,
    /// Users whose digest was due but had nothing in it.
    pub empty: usize,
}

impl std::fmt::Display for DigestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} digests queued, {} with nothing to say",
            self.queued, self.empty
        )
    }
}

/// One pass as of `now`: queues the digest of every active owner or staff member whose
/// local time is in the send span after `hour`, unless queued already today.
pub async fn run_digest(
    store: &Store,
    now: Timestamp,
    hour: i8,
    public_url: &str,
) -> Result<DigestReport> {
    let mut report = DigestReport::default();
    let users = store.list_users().await?;
    // Shared by every user, read once and only if someone is due.
    let mut shared: Option<DigestFacts> = None;
    for user in users
        .iter()
        .filter(|u| !u.disabled && matches!(u.role, Role::Owner | Role::Staff))
    {
        let tz = jiff::tz::TimeZone::get(&user.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let Some(date) = due_date(now, &tz, hour) else {
            continue;
        };
        let event_key = format!("digest:{}:{date}", user.id);
        if store.outbox_has(&event_key).await? {
            continue;
        }
        if shared.is_none() {
            shared = Some(shared_facts(store, now).await?);
        }
        let mut facts = shared.clone().unwrap_or_default();
        let until = end_of_local_day(now, &tz);
        let within = SignedDuration::from_millis(until.as_millisecond() - now.as_millisecond());
        let mut numbers: Vec<i64> = store
            .tickets_breaching_within(now, within)
            .await?
            .into_iter()
            .collect();
        numbers.sort_unstable();
        let titles = store.ticket_titles(&numbers).await?;
        facts.breaching = numbers
            .into_iter()
            .map(|number| Breaching {
                number,
                title: titles.get(&number).cloned().unwrap_or_default(),
            })
            .collect();
        let Some((subject, body)) = render(&user.name, date, &facts, public_url) else {
            report.empty += 1;
            continue;
        };
        let message = NewMessage {
            event_key,
            channel: EMAIL,
            recipient: user.email.clone(),
            subject,
            body,
            client_id: None,
            ticket_id: None,
        };
        if store
            .enqueue_message(&message, now.as_millisecond())
            .await?
        {
            report.queued += 1;
        }
    }
    Ok(report)
}

/// The sections that are the same for everyone: failed runs, troubled checks, banks.
async fn shared_facts(store: &Store, now: Timestamp) -> Result<DigestFacts> {
    let since = now.as_millisecond() - 24 * 3_600_000;
    let mut banks = Vec::new();
    for slug in store.banks_past_three_quarters().await? {
        let bank = store.hour_bank(&slug, None, now).await?;
        match bank.share_used_percent {
            Some(percent) if percent >= 75 => banks.push(BankUse {
                client: bank.client_name,
                percent,
            }),
            _ => {}
        }
    }
    Ok(DigestFacts {
        failed_runs: store.failed_runs_since(since).await?,
        troubled: store.troubled_checks().await?,
        breaching: Vec::new(),
        banks,
    })
}
