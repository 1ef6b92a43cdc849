//! `tend ticket …` and `tend backlog`: requests and the ranked queue.

use tend_domain::backlog::{client_queue, rank};
use tend_domain::page::PageRequest;
use tend_domain::plan::Severity;
use tend_domain::ticket::{TicketDraft, TicketNumber, TicketStatus};
use tend_domain::FieldErrors;
use tend_store::tickets::{TicketFilter, Visibility};
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::table::{or_dash, utc_minute, Table};

fn actor() -> Actor {
    Actor::system("cli")
}

fn number(raw: &str) -> Result<i64, Failure> {
    TicketNumber::parse(raw).map(|n| n.0).map_err(|_| {
        Failure::new(format!(
            "\"{raw}\" is not a ticket number (for example 42 or #42)"
        ))
    })
}

pub async fn new(store: &Store, draft: TicketDraft) -> Result<String, Failure> {
    let input = draft.parse()?;
    let ticket = store.create_ticket(&actor(), &input).await?;
    let missing = ticket.missing();
    let mut out = format!("#{}\n", ticket.number);
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|m| m.label()).collect();
        out.push_str(&format!("still missing: {}\n", names.join(", ")));
    }
    Ok(out)
}

pub struct ListArgs {
    pub client: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub all: bool,
    pub incomplete: bool,
    pub page: Option<u32>,
}

pub async fn list(store: &Store, args: ListArgs) -> Result<String, Failure> {
    let client_id = match args.client.as_deref() {
        Some(slug) => Some(
            store
                .client_by_slug(slug, false)
                .await
                .not_found_as(|| format!("there is no client {slug}"))?
                .id,
        ),
        None => None,
    };
    let status = match args.status.as_deref() {
        Some(raw) => Some(
            TicketStatus::from_word(raw)
                .map_err(|e| FieldErrors::single("status", e.to_string()))?,
        ),
        None => None,
    };
    let severity = match args.severity.as_deref() {
        Some(raw) => {
            Some(Severity::parse(raw).map_err(|e| FieldErrors::single("severity", e.to_string()))?)
        }
        None => None,
    };
    let filter = TicketFilter {
        client_id,
        owner_id: None,
        status,
        open_only: !args.all && status.is_none(),
        severity,
        incomplete: args.incomplete,
    };
    let page = store
        .list_tickets(&filter, PageRequest::new(args.page, None))
        .await?;
    if page.total == 0 {
        return Ok("No tickets match.\n".into());
    }
    let mut table = Table::new(&["#", "CLIENT", "SEV", "STATUS", "OWNER", "TITLE", "MISSING"]);
    for t in &page.items {
        let missing: Vec<&str> = t.missing().iter().map(|m| m.label()).collect();
        table.row(vec![
            t.number.to_string(),
            t.client_slug.clone(),
            or_dash(t.severity.map(|s| s.as_str().to_uppercase()).as_deref()),
            t.status.as_str().to_string(),
            or_dash(t.owner.as_ref().map(|o| o.name.as_str())),
            t.title.clone(),
            or_dash(
                Some(missing.join(", "))
                    .filter(|m| !m.is_empty())
                    .as_deref(),
            ),
        ]);
    }
    let mut out = table.render();
    out.push_str(&format!(
        "page {} of {}, {} ticket{}\n",
        page.page,
        page.pages(),
        page.total,
        if page.total == 1 { "" } else { "s" }
    ));
    Ok(out)
}

pub async fn show(store: &Store, raw: &str) -> Result<String, Failure> {
    let n = number(raw)?;
    let t = store
        .ticket(n)
        .await
        .not_found_as(|| format!("there is no ticket #{n}"))?;
    let mut out = format!("#{} {}\n", t.number, t.title);
    let line = |label: &str, value: String| format!("  {label:<17} {value}\n");
    out.push_str(&line(
        "client",
        format!("{} ({})", t.client_name, t.client_slug),
    ));
    out.push_str(&line("status", t.status.label().to_string()));
    out.push_str(&line(
        "severity",
        t.severity
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| "not set".into()),
    ));
    out.push_str(&line(
        "source",
        t.source
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| "not set".into()),
    ));
    out.push_str(&line(
        "owner",
        t.owner
            .as_ref()
            .map(|o| format!("{} <{}>", o.name, o.email))
            .unwrap_or_else(|| "unassigned".into()),
    ));
    out.push_str(&line(
        "blocked by",
        or_dash(
            Some(t.dependencies.to_string())
                .filter(|d| !d.is_empty())
                .as_deref(),
        ),
    ));
    out.push_str(&line(
        "expected outcome",
        or_dash(Some(t.expected_outcome.as_str()).filter(|s| !s.is_empty())),
    ));
    out.push_str(&line(
        "next action",
        or_dash(Some(t.next_action.as_str()).filter(|s| !s.is_empty())),
    ));
    out.push_str(&line(
        "opened",
        format!("{} by {}", utc_minute(t.created_at), t.created_by),
    ));
    let missing: Vec<&str> = t.missing().iter().map(|m| m.label()).collect();
    if !missing.is_empty() {
        out.push_str(&line("missing", missing.join(", ")));
    }
    if !t.description.is_empty() {
        out.push_str(&format!("\n{}\n", t.description));
    }
    if let Some(change) = store.ticket_change(n).await? {
        out.push_str(&crate::releases::describe(&change));
    }
    let events = store.ticket_events(n).await?;
    let clocks = store.clocks_of(&t, &events, jiff::Timestamp::now()).await?;
    if !clocks.is_empty() {
        out.push_str("\nClocks:\n");
        let tz = jiff::tz::TimeZone::get(&t.client_timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        for c in &clocks {
            let due = c
                .due_at
                .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map(|ts| {
                    format!(
                        "due {} ({})",
                        ts.to_zoned(tz.clone()).strftime("%a %Y-%m-%d %H:%M %Z"),
                        utc_minute(ts.as_millisecond())
                    )
                })
                .unwrap_or_else(|| "no due time".into());
            out.push_str(&format!(
                "  {:<15} {:<12} {}; {}; {}\n",
                c.name, c.state, c.target, due, c.time_left
            ));
        }
    }
    let messages = store.ticket_messages(n).await?;
    if !messages.is_empty() {
        out.push_str("\nThread:\n");
        for m in messages {
            out.push_str(&format!(
                "  [{}] {} {}: {}\n",
                m.visibility,
                utc_minute(m.created_at),
                m.author,
                m.body
            ));
        }
    }
    out.push_str("\nHistory:\n");
    for e in events {
        let change = match (e.from, e.to) {
            (Some(f), Some(t)) => format!("{f} → {t}"),
            (None, Some(t)) => t,
            _ => String::new(),
        };
        out.push_str(&format!(
            "  {} {} {} ({})\n",
            utc_minute(e.at),
            e.kind,
            change,
            e.actor
        ));
    }
    Ok(out)
}

/// Renders a template for a ticket's contacts; sends it with `send`.
pub async fn email(
    store: &Store,
    raw: &str,
    template: &str,
    to: &[String],
    send: bool,
) -> Result<String, Failure> {
    use tend_domain::message_template::{render, unfilled_blanks, TemplateKind};
    let n = number(raw)?;
    let kind = TemplateKind::parse_for_ticket(template)
        .map_err(|e| Failure::new(format!("--template: {e}")))?;
    let recipients = store
        .choose_recipients(n, to)
        .await
        .not_found_as(|| format!("there is no ticket #{n}"))?;
    if recipients.is_empty() {
        return Err(Failure::new(format!(
            "#{n}'s client has no contacts to email; add one first"
        )));
    }
    let stored = store.message_template(kind).await?;
    let context = store
        .message_context(n, &recipients, "Support team", jiff::Timestamp::now())
        .await?;
    let message = render(&stored.template, &context)
        .map_err(|e| Failure::new(format!("the {kind} template: {e}")))?;
    let to_line = recipients
        .iter()
        .map(|r| format!("{} <{}>", r.name, r.email))
        .collect::<Vec<_>>()
        .join(", ");
    if !send {
        let mut out = format!(
            "To: {to_line}\nSubject: {}\n\n{}",
            message.subject, message.body
        );
        let blanks = unfilled_blanks(&message.body);
        if !blanks.is_empty() {
            out.push_str(&format!(
                "\n(blanks to fill in before it can be sent: {}; edit it on the ticket page)\n",
                blanks.join(", ")
            ));
        } else {
            out.push_str("\n(not sent: add --send to send it)\n");
        }
        return Ok(out);
    }
    store
        .send_ticket_message(&actor(), None, n, &message, &recipients)
        .await?;
    Ok(format!(
        "Emailed {to_line} about #{n}; the message is on the thread.\n"
    ))
}

pub async fn reply(
    store: &Store,
    raw: &str,
    text: &str,
    internal: bool,
) -> Result<String, Failure> {
    let n = number(raw)?;
    let visibility = if internal {
        Visibility::Internal
    } else {
        Visibility::Public
    };
    store
        .add_message(&actor(), None, n, visibility, text)
        .await
        .not_found_as(|| format!("there is no ticket #{n}"))?;
    Ok(format!(
        "{} added to #{n}\n",
        if internal {
            "internal note"
        } else {
            "public reply"
        }
    ))
}

pub async fn status(store: &Store, raw: &str, to: &str) -> Result<String, Failure> {
    let n = number(raw)?;
    let to =
        TicketStatus::from_word(to).map_err(|e| FieldErrors::single("status", e.to_string()))?;
    let t = store
        .set_ticket_status(&actor(), n, to)
        .await
        .not_found_as(|| format!("there is no ticket #{n}"))?;
    Ok(format!("#{} is now {}\n", t.number, t.status.label()))
}

pub async fn backlog(
    store: &Store,
    client: Option<&str>,
    breaching_within: Option<u16>,
) -> Result<String, Failure> {
    let items = store.backlog_items().await?;
    let today = jiff::Zoned::now().date();
    let mut ranked = rank(&items, today);
    if let Some(slug) = client {
        let id = store
            .client_by_slug(slug, false)
            .await
            .not_found_as(|| format!("there is no client {slug}"))?
            .id;
        ranked = client_queue(&ranked, id);
    }
    if let Some(hours) = breaching_within {
        let breaching = store
            .tickets_breaching_within(
                jiff::Timestamp::now(),
                jiff::SignedDuration::from_hours(i64::from(hours)),
            )
            .await?;
        ranked.retain(|r| breaching.contains(&r.id));
        if ranked.is_empty() {
            return Ok(format!(
                "No open ticket has breached or will breach within {hours} h.\n"
            ));
        }
    }
    if ranked.is_empty() {
        return Ok("The backlog is empty: no open tickets.\n".into());
    }
    let labels = store.open_ticket_labels().await?;
    let mut table = Table::new(&["RANK", "#", "CLIENT", "TITLE", "WHY"]);
    for row in &ranked {
        let (slug, title) = labels.get(&row.id).cloned().unwrap_or_default();
        table.row(vec![
            row.position.to_string(),
            row.number.to_string(),
            slug,
            title,
            row.reason.to_string(),
        ]);
    }
    Ok(table.render())
}
