//! `tend maintenance …` and `tend check resolve-on-recovery`: maintenance windows and
//! whether a recovery resolves a check's ticket, from the command line.

use tend_domain::maintenance::WindowDraft;
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::table::{or_dash, utc_minute, Table};

fn actor() -> Actor {
    Actor::system("cli")
}

/// Adds a window and prints its id and schedule.
pub async fn add(store: &Store, draft: WindowDraft) -> Result<String, Failure> {
    let input = draft.parse()?;
    let window = store.create_window(&actor(), &input).await?;
    let scope = match window.checks.len() {
        0 => "every check".to_string(),
        1 => "1 check".to_string(),
        n => format!("{n} checks"),
    };
    Ok(format!(
        "Window {} for {} ({scope}): {}\n",
        window.id, window.client_name, window.schedule
    ))
}

pub async fn list(store: &Store, client: Option<&str>, ended: bool) -> Result<String, Failure> {
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
    let windows = store.windows(client_id, ended).await?;
    if windows.is_empty() {
        return Ok("No maintenance windows.\n".into());
    }
    let mut table = Table::new(&["ID", "CLIENT", "CHECKS", "WHEN", "REASON", "ENDED"]);
    for w in &windows {
        table.row(vec![
            w.id.to_string(),
            w.client_slug.clone(),
            if w.checks.is_empty() {
                "all".into()
            } else {
                w.checks.join(" ")
            },
            w.schedule.clone(),
            or_dash(Some(&w.reason)),
            w.ended_at.map(utc_minute).unwrap_or_else(|| "-".into()),
        ]);
    }
    Ok(table.render())
}

pub async fn end(store: &Store, id: i64) -> Result<String, Failure> {
    let window = store
        .end_window(&actor(), id, tend_store::now_ms())
        .await
        .not_found_as(|| format!("there is no maintenance window {id}"))?;
    Ok(format!(
        "Window {} for {} has ended; alerts it held back go out at the next watch.\n",
        window.id, window.client_name
    ))
}

pub async fn resolve_on_recovery(store: &Store, uuid: &str, on: bool) -> Result<String, Failure> {
    store
        .set_resolve_on_recovery(&actor(), uuid, on)
        .await
        .not_found_as(|| format!("there is no check {uuid}"))?;
    Ok(if on {
        "Recovery will resolve this check's ticket.\n".into()
    } else {
        "Recovery will add a note and leave the ticket open.\n".into()
    })
}
