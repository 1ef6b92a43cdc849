//! `tend check …` and `tend ping`: heartbeat checks from the command line.

use tend_domain::check::{format_interval, CheckDraft, CheckState};
use tend_domain::page::PageRequest;
use tend_domain::ping_url::{parse_ping_path, PingUrlError};
use tend_domain::FieldErrors;
use tend_store::checks::{CheckFilter, IncomingPing, PingOutcome};
use tend_store::{Actor, Store};

use crate::failure::{Failure, NotFoundAs};
use crate::table::{or_dash, utc_minute, Table};

fn actor() -> Actor {
    Actor::system("cli")
}

/// The URL a workflow pings.
pub fn ping_url(public_url: &str, uuid: &str) -> String {
    format!("{}/ping/{uuid}", public_url.trim_end_matches('/'))
}

/// The options of `tend check add` that make an HTTP probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProbeArgs {
    /// HTTP probe: the URL Tend calls (http or https); makes the check a probe
    #[arg(long, conflicts_with_all = ["period", "cron", "grace"])]
    pub url: Option<String>,
    /// HTTP probe: how often, 30s or more (default 1m)
    #[arg(long, requires = "url")]
    pub every: Option<String>,
    /// HTTP probe: GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS
    #[arg(long, requires = "url")]
    pub method: Option<String>,
    /// HTTP probe: a header as 'Name: value' (repeatable); credentials as ${env:TEND_PROBE_…}
    #[arg(long = "header", requires = "url", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// HTTP probe: the status expected, a code (200) or a class (2xx, the default)
    #[arg(long, requires = "url")]
    pub expect: Option<String>,
    /// HTTP probe: a word the body must contain
    #[arg(long, requires = "url", conflicts_with = "no_keyword")]
    pub keyword: Option<String>,
    /// HTTP probe: a word the body must not contain
    #[arg(long, requires = "url")]
    pub no_keyword: Option<String>,
    /// HTTP probe: how long to wait for the answer (default 10s, less than --every)
    #[arg(long, requires = "url")]
    pub timeout: Option<String>,
    /// HTTP probe: the longest an answer may take, for example 2s
    #[arg(long, requires = "url")]
    pub max_latency: Option<String>,
}

impl ProbeArgs {
    pub fn into_draft(self: Box<Self>) -> tend_domain::probe::ProbeDraft {
        tend_domain::probe::ProbeDraft {
            url: self.url.unwrap_or_default(),
            method: self.method.unwrap_or_default(),
            headers: self.headers.join("\n"),
            every: self.every.unwrap_or_default(),
            timeout: self.timeout.unwrap_or_default(),
            expect: self.expect.unwrap_or_default(),
            keyword: self.keyword.unwrap_or_default(),
            no_keyword: self.no_keyword.unwrap_or_default(),
            max_latency: self.max_latency.unwrap_or_default(),
        }
    }
}

/// Adds a check and prints its ping URL (a heartbeat) or what it calls (a probe).
pub async fn add(store: &Store, draft: CheckDraft, public_url: &str) -> Result<String, Failure> {
    let input = draft.parse()?;
    let check = store.create_check(&actor(), &input).await?;
    match &input.probe {
        Some(probe) => Ok(format!("{}: {}\n", check.uuid, probe.describe())),
        None => Ok(format!("{}\n", ping_url(public_url, &check.uuid))),
    }
}

/// Adds an event-stream check and prints the URL its workflow POSTs events to.
pub async fn add_events(
    store: &Store,
    draft: tend_domain::event_stream::EventStreamDraft,
    public_url: &str,
) -> Result<String, Failure> {
    let input = draft.parse()?;
    let check = store.create_event_stream(&actor(), &input).await?;
    Ok(format!(
        "{}/events/{}\n",
        public_url.trim_end_matches('/'),
        check.uuid
    ))
}

/// Forgets an event stream's learned shape.
pub async fn relearn(store: &Store, uuid: &str) -> Result<String, Failure> {
    let check = store
        .check(uuid)
        .await
        .not_found_as(|| format!("there is no check {uuid}"))?;
    if check.kind != tend_domain::check::CheckKind::EventStream {
        return Err(Failure::new(format!(
            "{} is a {} check, not an event stream",
            check.name, check.kind
        )));
    }
    let stream = store.relearn_event_shape(&actor(), uuid).await?;
    Ok(format!(
        "{} learns its shape again from the next {} events\n",
        check.name, stream.learn_events
    ))
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
        Some(raw) => {
            Some(CheckState::parse(raw).map_err(|e| FieldErrors::single("state", e.to_string()))?)
        }
        None => None,
    };
    let page = store
        .checks(
            &CheckFilter { client_id, state },
            PageRequest::new(Some(1), Some(tend_domain::page::MAX_PAGE_SIZE)),
        )
        .await?;
    if page.total == 0 {
        return Ok("No checks match.\n".into());
    }
    let mut table = Table::new(&[
        "UUID",
        "CLIENT",
        "NAME",
        "SCHEDULE",
        "GRACE",
        "STATE",
        "LAST PING",
    ]);
    for c in &page.items {
        table.row(vec![
            c.uuid.clone(),
            c.client_slug.clone(),
            c.name.clone(),
            c.schedule_text(),
            format_interval(c.grace_ms),
            c.state.as_str().to_string(),
            or_dash(c.last_ping_at.map(utc_minute).as_deref()),
        ]);
    }
    let mut out = table.render();
    if page.has_next() {
        out.push_str(&format!(
            "showing {} of {} checks; narrow with --client or --state\n",
            page.items.len(),
            page.total
        ));
    }
    Ok(out)
}

/// Prints a client's ping key (made on first use).
pub async fn key(store: &Store, client: &str) -> Result<String, Failure> {
    let found = store
        .client_by_slug(client, false)
        .await
        .not_found_as(|| format!("there is no client {client}"))?;
    Ok(format!("{}\n", store.client_ping_key(found.id).await?))
}

pub async fn set_paused(store: &Store, uuid: &str, paused: bool) -> Result<String, Failure> {
    let check = store
        .set_check_paused(&actor(), uuid, paused)
        .await
        .not_found_as(|| format!("there is no check {uuid}"))?;
    Ok(format!("{} is {}\n", check.name, check.state))
}

/// Records a ping for a check as its ping URL would (`signal`: start, fail, log or an
/// exit status; none is a success) and prints the check's state afterwards.
pub async fn ping(
    store: &Store,
    uuid: &str,
    signal: Option<&str>,
    keep: i64,
) -> Result<String, Failure> {
    let path = match signal {
        Some(s) => format!("{}/{s}", uuid.trim()),
        None => uuid.trim().to_string(),
    };
    let parsed = parse_ping_path(&path, None).map_err(|e| match e {
        PingUrlError::NotFound if signal.is_some() => Failure::new(format!(
            "\"{}\" is not a signal (start, fail, log or an exit status 0-255)",
            signal.unwrap_or_default()
        )),
        PingUrlError::InvalidUrl => Failure::new("an exit status is 0-255"),
        _ => Failure::new(format!("\"{uuid}\" is not a check UUID")),
    })?;
    let incoming = IncomingPing {
        target: parsed.target,
        signal: parsed.signal,
        rid: None,
        create: false,
        at: tend_store::now_ms(),
        method: "CLI".into(),
        body: String::new(),
        remote_addr: String::new(),
        user_agent: "tend ping".into(),
    };
    match store.record_pings(&[incoming], keep).await?.first() {
        Some(PingOutcome::Stored { .. }) => {
            let check = store.check(uuid.trim()).await?;
            Ok(format!("OK: {} is {}\n", check.name, check.state))
        }
        _ => Err(Failure::new(format!("there is no check {}", uuid.trim()))),
    }
}

/// Reads a healthchecks.io check list or a CSV file and imports its checks.
pub async fn import(
    store: &Store,
    client: &str,
    file: &std::path::Path,
    format: Option<&str>,
    dry_run: bool,
    public_url: &str,
) -> Result<String, Failure> {
    use tend_domain::check_import::{from_csv, from_healthchecks_json};
    let text = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Failure::new(format!("cannot read standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?
    };
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let json = match format.map(str::to_ascii_lowercase).as_deref() {
        Some("json") => true,
        Some("csv") => false,
        Some(other) => {
            return Err(Failure::new(format!(
                "--format: \"{other}\" is not json or csv"
            )))
        }
        None => match extension {
            "json" => true,
            "csv" => false,
            _ => text.trim_start().starts_with(['{', '[']),
        },
    };
    let rows = if json {
        from_healthchecks_json(&text, client)
    } else {
        from_csv(&text, client)
    }
    .map_err(|e| Failure::new(e.to_string()))?;
    let report = store
        .import_checks(&actor(), client, &rows, dry_run)
        .await
        .not_found_as(|| format!("there is no client {client}"))?;
    let mut table = Table::new(&["ROW", "NAME", "SLUG", "PING URL"]);
    for c in &report.created {
        table.row(vec![
            c.row.to_string(),
            c.name.clone(),
            c.slug.clone(),
            if c.uuid.is_empty() {
                "(new)".into()
            } else {
                ping_url(public_url, &c.uuid)
            },
        ]);
    }
    let mut out = if report.created.is_empty() {
        String::new()
    } else {
        table.render()
    };
    for s in &report.skipped {
        out.push_str(&format!(
            "Skipped row {} ({}): {}.\n",
            s.row, s.name, s.reason
        ));
    }
    out.push_str(&format!(
        "{} {} check{}, skipped {}{}.\n",
        if dry_run { "Would import" } else { "Imported" },
        report.created.len(),
        if report.created.len() == 1 { "" } else { "s" },
        report.skipped.len(),
        if dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    ));
    Ok(out)
}
