//! `tend release …` and `tend ticket change`: release batches, their notes, and the
//! change record a ticket carries into one.

use tend_domain::change::{parse_release_id, ChangeDraft, ReleaseDraft, ReleaseState};
use tend_domain::page::PageRequest;
use tend_domain::ticket::TicketNumber;
use tend_domain::FieldErrors;
use tend_store::changes::{ChangeRecord, Release, ReleaseFilter};
use tend_store::{Actor, Store};

use crate::cli::ChangeArgs;
use crate::failure::{Failure, NotFoundAs};
use crate::table::{or_dash, utc_minute, Table};

fn actor() -> Actor {
    Actor::system("cli")
}

fn release_id(raw: &str) -> Result<i64, Failure> {
    match parse_release_id(raw) {
        Ok(Some(id)) => Ok(id),
        _ => Err(Failure::new(format!(
            "\"{raw}\" is not a release id (for example 3)"
        ))),
    }
}

async fn load(store: &Store, raw: &str) -> Result<Release, Failure> {
    let id = release_id(raw)?;
    store
        .release(id)
        .await
        .not_found_as(|| format!("there is no release {id}"))
}

pub async fn list(
    store: &Store,
    client: Option<&str>,
    state: Option<&str>,
) -> Result<String, Failure> {
    let client_id = match client {
        Some(slug) => Some(
            store
                .client_by_slug(slug, false)
                .await
                .not_found_as(|| format!("there is no client {slug}"))?
                .id,
        ),
        None => None,
    };
    let state = match state {
        Some(raw) => Some(
            ReleaseState::parse(raw).map_err(|e| FieldErrors::single("state", e.to_string()))?,
        ),
        None => None,
    };
    let page = store
        .list_releases(
            &ReleaseFilter { client_id, state },
            PageRequest::new(Some(1), Some(tend_domain::page::MAX_PAGE_SIZE)),
        )
        .await?;
    if page.total == 0 {
        return Ok("No releases match.\n".into());
    }
    let mut table = Table::new(&[
        "ID", "CLIENT", "NAME", "PLANNED", "STATE", "CHANGES", "RELEASED",
    ]);
    for r in &page.items {
        table.row(vec![
            r.id.to_string(),
            r.client_slug.clone(),
            r.name.clone(),
            or_dash(r.planned_for.map(|d| d.to_string()).as_deref()),
            r.state.as_str().to_string(),
            r.change_count.to_string(),
            or_dash(r.released_at.map(utc_minute).as_deref()),
        ]);
    }
    let mut out = table.render();
    if page.has_next() {
        out.push_str(&format!(
            "showing {} of {} releases; narrow with --client or --state\n",
            page.items.len(),
            page.total
        ));
    }
    Ok(out)
}

pub async fn new(store: &Store, draft: ReleaseDraft) -> Result<String, Failure> {
    let input = draft.parse()?;
    let release = store.create_release(&actor(), &input).await?;
    Ok(format!("{}\n", release.id))
}

fn qa_text(path: &str, result: &str) -> String {
    if path.is_empty() {
        result.to_string()
    } else {
        format!("{result}: {path}")
    }
}

pub async fn show(store: &Store, raw: &str) -> Result<String, Failure> {
    let r = load(store, raw).await?;
    let changes = store.release_changes(r.id).await?;
    let mut out = format!("release {} {}\n", r.id, r.name);
    let line = |label: &str, value: String| format!("  {label:<13} {value}\n");
    out.push_str(&line(
        "client",
        format!("{} ({})", r.client_name, r.client_slug),
    ));
    out.push_str(&line("state", r.state.as_str().to_string()));
    out.push_str(&line(
        "planned for",
        or_dash(r.planned_for.map(|d| d.to_string()).as_deref()),
    ));
    if let Some(at) = r.released_at {
        out.push_str(&line(
            "released",
            format!(
                "{} by {}",
                utc_minute(at),
                r.released_by.clone().unwrap_or_default()
            ),
        ));
    }
    if changes.is_empty() {
        out.push_str("\nNo changes yet: `tend ticket change NUMBER --release ID` adds one.\n");
    } else {
        out.push_str("\nChanges:\n");
        for c in &changes {
            out.push_str(&format!("  #{} {}\n", c.ticket, c.ticket_title));
            out.push_str(&format!(
                "    what changed   {}\n",
                one_line(&c.change.what_changed)
            ));
            out.push_str(&format!(
                "    QA before      {}\n",
                qa_text(&c.change.qa_before_path, c.change.qa_before_result.label())
            ));
            out.push_str(&format!(
                "    QA after       {}\n",
                qa_text(&c.change.qa_after_path, c.change.qa_after_result.label())
            ));
        }
    }
    if r.state == ReleaseState::Planned {
        match store.release_verdict(&r).await? {
            Ok(()) => out.push_str(&format!(
                "\nReady: `tend release mark-released {}` records it as live.\n",
                r.id
            )),
            Err(why) => out.push_str(&format!("\nNot ready: {why}\n")),
        }
    }
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub async fn notes(store: &Store, raw: &str) -> Result<String, Failure> {
    let r = load(store, raw).await?;
    let changes = store.release_changes(r.id).await?;
    Ok(r.notes(&changes).markdown())
}

pub async fn mark_released(store: &Store, raw: &str) -> Result<String, Failure> {
    let r = load(store, raw).await?;
    let released = store.mark_released(&actor(), r.id).await?;
    Ok(format!(
        "release {} \"{}\" is released with {} change{}\n",
        released.id,
        released.name,
        released.change_count,
        if released.change_count == 1 { "" } else { "s" }
    ))
}

/// The change record as a few lines, for `tend ticket show`.
pub fn describe(c: &ChangeRecord) -> String {
    let line = |label: &str, value: String| format!("  {label:<17} {value}\n");
    let mut out = String::from("\nChange:\n");
    out.push_str(&line("what changed", one_line(&c.change.what_changed)));
    out.push_str(&line(
        "systems touched",
        or_dash(Some(c.change.systems_touched.join(", ").as_str())),
    ));
    out.push_str(&line(
        "QA before",
        qa_text(&c.change.qa_before_path, c.change.qa_before_result.label()),
    ));
    out.push_str(&line(
        "QA after",
        qa_text(&c.change.qa_after_path, c.change.qa_after_result.label()),
    ));
    out.push_str(&line(
        "release",
        c.release
            .as_ref()
            .map(|r| format!("{} {} ({})", r.id, r.name, r.state))
            .unwrap_or_else(|| "-".into()),
    ));
    if !c.change.client_notes.is_empty() {
        out.push_str(&line("client notes", one_line(&c.change.client_notes)));
    }
    out
}

/// `tend ticket change`: the flags given replace those fields of the stored record.
pub async fn change(store: &Store, args: ChangeArgs) -> Result<String, Failure> {
    let n = TicketNumber::parse(&args.number)
        .map_err(|_| {
            Failure::new(format!(
                "\"{}\" is not a ticket number (for example 42 or #42)",
                args.number
            ))
        })?
        .0;
    let stored = store
        .ticket_change(n)
        .await?
        .map(|c| ChangeDraft::from_input(&c.change))
        .unwrap_or_default();
    let draft = ChangeDraft {
        what_changed: args.what.unwrap_or(stored.what_changed),
        systems_touched: args.systems.unwrap_or(stored.systems_touched),
        qa_before_path: args.qa_before.unwrap_or(stored.qa_before_path),
        qa_before_result: args.qa_before_result.unwrap_or(stored.qa_before_result),
        qa_after_path: args.qa_after.unwrap_or(stored.qa_after_path),
        qa_after_result: args.qa_after_result.unwrap_or(stored.qa_after_result),
        release_id: args.release.unwrap_or(stored.release_id),
        client_notes: args.notes.unwrap_or(stored.client_notes),
    };
    let input = draft.parse()?;
    let (saved, created) = store
        .save_change(&actor(), n, &input)
        .await
        .not_found_as(|| format!("there is no ticket #{n}"))?;
    let mut out = format!(
        "{} the change of #{n}\n",
        if created { "recorded" } else { "updated" }
    );
    out.push_str(&describe(&saved));
    Ok(out)
}
