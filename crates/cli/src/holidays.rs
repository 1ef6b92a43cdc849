//! `tend client holidays`: a client's holidays, and adding those of an .ics file (read
//! by `tend_domain::ics`; a date already listed keeps its name).

use std::path::Path;

use tend_domain::calendar::{merge_holidays, Holiday};
use tend_domain::ics::{import_years, read_holidays};
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};

fn line(h: &Holiday) -> String {
    format!("  {} {}  {}\n", h.date, h.date.strftime("%a"), h.name)
        .trim_end()
        .to_string()
        + "\n"
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub async fn run(
    store: &Store,
    slug: &str,
    import: Option<&Path>,
    dry_run: bool,
) -> Result<String, Failure> {
    let client = store
        .client_by_slug(slug, false)
        .await
        .not_found_as(|| format!("no client has the slug \"{slug}\" (see tend client list)"))?;
    let Some(path) = import else {
        if client.holidays.is_empty() {
            return Ok(format!("{} has no holidays.\n", client.name));
        }
        let mut out = format!("Holidays of {} ({})\n", client.name, client.timezone);
        client.holidays.iter().for_each(|h| out.push_str(&line(h)));
        return Ok(out);
    };
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let tz = jiff::tz::TimeZone::get(&client.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let years = import_years(jiff::Timestamp::now().to_zoned(tz).date());
    let read = read_holidays(&bytes, years.clone())
        .map_err(|e| Failure::new(format!("{}: {e}; nothing was imported", path.display())))?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "an .ics file".into());
    let merge = if dry_run {
        merge_holidays(&client.holidays, &read.holidays)
    } else {
        store
            .add_holidays(&Actor::system("cli"), slug, &read.holidays, &file)
            .await?
            .1
    };
    let n = merge.added.len();
    let mut out = match (n, dry_run) {
        (0, _) => format!(
            "Nothing to add: every date {file} gives for {}–{} is already listed for {}.\n",
            years.start(),
            years.end(),
            client.name
        ),
        (_, true) => format!(
            "Would add {} to {} (dry run: nothing saved):\n",
            plural(n, "holiday", "holidays"),
            client.name
        ),
        (_, false) => format!(
            "Added {} to {}:\n",
            plural(n, "holiday", "holidays"),
            client.name
        ),
    };
    merge.added.iter().for_each(|h| out.push_str(&line(h)));
    if !merge.already_listed.is_empty() {
        out.push_str("Already listed (kept as they are):\n");
        for offered in &merge.already_listed {
            if let Some(kept) = client.holidays.iter().find(|h| h.date == offered.date) {
                out.push_str(&line(kept));
            }
        }
    }
    if !read.notes.is_empty() {
        out.push_str("Notes on the file:\n");
        read.notes
            .iter()
            .for_each(|note| out.push_str(&format!("  {note}\n")));
    }
    Ok(out)
}
