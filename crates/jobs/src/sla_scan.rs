//! The SLA scan: evaluates every open ticket's clocks, and for each warning or breach
//! not yet noticed records it and queues an email to the ticket's owner (or, without
//! one, the client's technical owner, or else the agency's owners).

use jiff::tz::TimeZone;
use jiff::Timestamp;
use tend_domain::plan::TargetKind;
use tend_domain::sla_clock::ClockStatus;
use tend_domain::sla_notice::{cycle_key, due_notices, DueNotice, NoticeKind};
use tend_store::outbox::{NewMessage, EMAIL};
use tend_store::sla_scan::{NewNotice, NoticeKey, ScanClient, ScannedTicket};
use tend_store::tickets::clock_name;
use tend_store::users::{who_hears, User};
use tend_store::{Result, Store};

use crate::alerting::Alerting;
use tend_domain::notify::{Notice, SLA_BREACH};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanReport {
    pub tickets: usize,
    pub clocks: usize,
    pub warnings: usize,
    pub breaches: usize,
    /// Clocks that could not be evaluated (logged).
    pub skipped: usize,
}

impl std::fmt::Display for ScanReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}, {}: {}, {}",
            plural(self.tickets, "open ticket", "open tickets"),
            plural(self.clocks, "clock", "clocks"),
            plural(self.warnings, "new warning", "new warnings"),
            plural(self.breaches, "new breach", "new breaches")
        )?;
        if self.skipped > 0 {
            write!(f, ", {} clocks skipped", self.skipped)?;
        }
        Ok(())
    }
}

/// One pass as of `now`. `public_url` starts the ticket links in the messages.
pub async fn scan(store: &Store, now: Timestamp, public_url: &str) -> Result<ScanReport> {
    scan_with(store, now, &Alerting::email_only(public_url)).await
}

/// [`scan`], also telling the Slack and webhook channels that hear SLA breaches.
pub async fn scan_with(store: &Store, now: Timestamp, alerting: &Alerting) -> Result<ScanReport> {
    let public_url = alerting.public_url.as_str();
    let input = store.sla_scan_input(now).await?;
    let users = store.list_users().await?;
    let mut report = ScanReport {
        tickets: input.tickets.len(),
        clocks: input.settled,
        skipped: input.skipped.len(),
        ..ScanReport::default()
    };
    for (ticket, why) in &input.skipped {
        tracing::warn!(ticket, why, "SLA clock skipped");
    }
    // The notices not recorded yet; in a steady state, a handful of the many that fell.
    let mut found = Vec::new();
    for ticket in &input.tickets {
        report.clocks += ticket.clocks.len();
        let Some(client) = input.clients.get(&ticket.client_id) else {
            continue;
        };
        for (kind, status) in &ticket.clocks {
            for due in due_notices(status) {
                let key = NoticeKey {
                    ticket_id: ticket.id,
                    clock: *kind,
                    severity: ticket.severity,
                    cycle_started_at: status.cycle_started_at.as_millisecond(),
                    kind: due.kind,
                };
                if !ticket.recorded.contains(&key) {
                    found.push(Found {
                        ticket,
                        client,
                        clock: *kind,
                        status,
                        due,
                    });
                }
            }
        }
    }
    let announced: Vec<i64> = found
        .iter()
        .filter(|f| f.due.announce)
        .map(|f| f.ticket.id)
        .collect();
    let titles = store.ticket_titles(&announced).await?;
    let mut notices = Vec::with_capacity(found.len());
    for f in &found {
        let Found {
            ticket,
            client,
            clock: kind,
            status,
            ref due,
        } = *f;
        let cycle = cycle_key(ticket.severity, status);
        let mut messages: Vec<NewMessage> = if due.announce {
            let title = titles.get(&ticket.id).map_or("", String::as_str);
            who_hears(&[ticket.owner_id, client.owner_id], &users)
                .into_iter()
                .map(|to| NewMessage {
                    event_key: format!(
                        "sla:{}:{}:{cycle}:{}:{}",
                        ticket.id,
                        kind.as_str(),
                        due.kind.as_str(),
                        to.email
                    ),
                    channel: EMAIL,
                    recipient: to.email.clone(),
                    subject: subject(ticket, client, kind, due.kind),
                    body: body(f, title, to, public_url),
                    client_id: Some(client.id),
                    ticket_id: Some(ticket.id),
                })
                .collect()
        } else {
            Vec::new()
        };
        if due.announce && due.kind == NoticeKind::Breach {
            let title = titles.get(&ticket.id).map_or("", String::as_str);
            let notice = breach_notice(f, title, &cycle, alerting);
            messages.extend(alerting.channel_messages(&notice, Some(client.id), Some(ticket.id)));
        }
        notices.push(NewNotice {
            ticket_id: ticket.id,
            clock: kind,
            cycle,
            kind: due.kind,
            fell_at: due.fell_at.as_millisecond(),
            messages,
        });
    }
    // Written at the wall-clock time, whatever instant the clocks were evaluated at.
    store.record_notices(&notices, tend_store::now_ms()).await?;
    // Counted from what this pass found new; another instance may have recorded some
    // of them first, in which case its messages are the ones that go out.
    for n in &notices {
        match n.kind {
            NoticeKind::Warning => report.warnings += 1,
            NoticeKind::Breach => report.breaches += 1,
        }
    }
    Ok(report)
}

/// A warning or breach that fell on a clock and is not recorded yet.
struct Found<'a> {
    ticket: &'a ScannedTicket,
    client: &'a ScanClient,
    clock: TargetKind,
    status: &'a ClockStatus,
    due: DueNotice,
}

fn subject(
    ticket: &ScannedTicket,
    client: &ScanClient,
    kind: TargetKind,
    notice: NoticeKind,
) -> String {
    let what = match notice {
        NoticeKind::Warning => "SLA warning",
        NoticeKind::Breach => "SLA breached",
    };
    format!(
        "{what}: #{} {} ({}) - {}",
        ticket.id,
        clock_name(kind).to_lowercase(),
        ticket.severity.as_str().to_uppercase(),
        client.name
    )
}

fn body(found: &Found<'_>, title: &str, to: &User, public_url: &str) -> String {
    let Found {
        ticket,
        client,
        clock: kind,
        status,
        ..
    } = *found;
    let notice = found.due.kind;
    let due = status
        .due
        .map(|d| {
            let client_tz = TimeZone::get(&client.timezone).unwrap_or(TimeZone::UTC);
            let own_tz = TimeZone::get(&to.timezone).unwrap_or(TimeZone::UTC);
            let there = d
                .to_zoned(client_tz)
                .strftime("%a %-d %b %H:%M %Z")
                .to_string();
            let here = d
                .to_zoned(own_tz)
                .strftime("%a %-d %b %H:%M %Z")
                .to_string();
            if there == here {
                there
            } else {
                format!("{there} ({here} your time)")
            }
        })
        .unwrap_or_else(|| "-".into());
    let headline = match notice {
        NoticeKind::Warning => format!(
            "The {} clock of #{} has used {} of its target.",
            clock_name(kind).to_lowercase(),
            ticket.id,
            percent_used(status)
        ),
        NoticeKind::Breach => format!(
            "The {} clock of #{} has breached its target.",
            clock_name(kind).to_lowercase(),
            ticket.id
        ),
    };
    let paused = if status.paused {
        "\nThe clock is paused: the ticket is waiting on the client."
    } else {
        ""
    };
    format!(
        "{headline}\n\n\
         Ticket:  #{} {}\n\
         Client:  {} ({})\n\
         Target:  {}\n\
         Due:     {due}{paused}\n\n\
         Open the ticket: {}/tickets/{}\n",
        ticket.id,
        title,
        client.name,
        client.slug,
        status.terms.explain(),
        public_url.trim_end_matches('/'),
        ticket.id
    )
}

/// What a breach tells the Slack and webhook channels.
fn breach_notice(found: &Found<'_>, title: &str, cycle: &str, alerting: &Alerting) -> Notice {
    let Found {
        ticket,
        client,
        clock: kind,
        status,
        ..
    } = *found;
    let due = status
        .due
        .map(|d| d.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into());
    Notice {
        event: SLA_BREACH.into(),
        id: format!("sla:{}:{}:{cycle}:breach", ticket.id, kind.as_str()),
        title: subject(ticket, client, kind, NoticeKind::Breach),
        text: format!(
            "The {} clock of #{} {} has breached its target.",
            clock_name(kind).to_lowercase(),
            ticket.id,
            title
        ),
        client_slug: Some(client.slug.clone()),
        client_name: Some(client.name.clone()),
        fields: vec![
            ("Ticket".into(), format!("#{} {title}", ticket.id)),
            ("Severity".into(), ticket.severity.as_str().to_uppercase()),
            ("Target".into(), status.terms.explain()),
            ("Due".into(), due),
        ],
        link: alerting.ticket_link(ticket.id),
        link_label: format!("Open ticket #{}", ticket.id),
        at: found.due.fell_at.as_millisecond(),
    }
}

fn percent_used(status: &ClockStatus) -> String {
    match (status.remaining_minutes, status.elapsed_minutes) {
        (Some(left), used) if used + left > 0 => format!("{} %", used * 100 / (used + left)),
        _ => "most".into(),
    }
}
