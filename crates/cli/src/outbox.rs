//! `tend sla scan` and `tend outbox …`: the background jobs, run by hand.

use tend_jobs::{JobsConfig, MailConfig, Mailer, Notifier};
use tend_store::outbox::OutboxView;
use tend_store::{Actor, Store};

use crate::config::Config;
use crate::failure::{Failure, NotFoundAs};
use crate::table::Table;

/// The jobs' settings from the configuration.
pub fn jobs_config(config: &Config) -> Result<JobsConfig, Failure> {
    let s = &config.settings;
    Ok(JobsConfig {
        mail: mail_config(config),
        public_url: config.public_url(),
        sla_scan_every: std::time::Duration::from_secs(s.sla_scan_seconds.max(1)),
        deliver_every: std::time::Duration::from_secs(2),
        watch_every: std::time::Duration::from_secs(1),
        month_close_every: std::time::Duration::from_secs(3600),
        volume_scan_every: std::time::Duration::from_secs(300),
        holder: format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "tend".into()),
            std::process::id()
        ),
        notify: config.notify()?,
        digest_hour: config.digest_hour()?,
        probes: tend_jobs::ProbeConfig {
            results_kept: s.pings_kept.max(1),
            ..Default::default()
        },
    })
}

fn mail_config(config: &Config) -> Option<MailConfig> {
    let url = config.settings.smtp_url.trim();
    (!url.is_empty()).then(|| MailConfig {
        smtp_url: url.to_string(),
        from: config.settings.mail_from.clone(),
    })
}

pub async fn scan(config: &Config, store: &Store) -> Result<String, Failure> {
    let alerting = tend_jobs::Alerting {
        public_url: config.public_url(),
        routes: config.notify()?.routes,
    };
    let report = tend_jobs::scan_with(store, jiff::Timestamp::now(), &alerting).await?;
    Ok(format!("SLA scan: {report}.\n"))
}

pub async fn deliver(config: &Config, store: &Store) -> Result<String, Failure> {
    let notify = config.notify()?;
    let mail = mail_config(config);
    if mail.is_none() && notify.targets.is_empty() {
        return Err(Failure::new(
            "smtp_url: no mail server configured (set TEND_SMTP_URL or smtp_url in tend.toml)",
        ));
    }
    let mailer = mail
        .as_ref()
        .map(Mailer::new)
        .transpose()
        .map_err(|e| Failure::new(e.to_string()))?;
    let notifier = if notify.targets.is_empty() {
        None
    } else {
        Some(Notifier::new(notify.targets).map_err(|e| Failure::new(e.to_string()))?)
    };
    let r = tend_jobs::deliver_due_by(store, mailer.as_ref(), notifier.as_ref()).await?;
    Ok(format!(
        "Sent {}, {} waiting to be retried, {} failed.\n",
        r.sent, r.retrying, r.failed
    ))
}

pub async fn list(
    store: &Store,
    trouble: bool,
    drafts: bool,
    limit: i64,
) -> Result<String, Failure> {
    let view = match (trouble, drafts) {
        (true, _) => OutboxView::Trouble,
        (_, true) => OutboxView::Drafts,
        _ => OutboxView::All,
    };
    let per_page = limit.clamp(1, 200) as u32;
    let page = store
        .list_outbox(
            view,
            tend_domain::page::PageRequest::new(Some(1), Some(per_page)),
        )
        .await?;
    let (messages, total) = (page.items, page.total);
    if messages.is_empty() {
        return Ok("No messages.\n".into());
    }
    let mut table = Table::new(&["ID", "STATE", "TRIES", "TO", "SUBJECT", "LAST ERROR"]);
    for m in &messages {
        table.row(vec![
            m.id.to_string(),
            m.state.clone(),
            m.attempts.to_string(),
            m.recipient.clone(),
            m.subject.clone(),
            m.last_error.clone().unwrap_or_default(),
        ]);
    }
    let mut out = table.render();
    if total > messages.len() as i64 {
        out.push_str(&format!("({} of {total} shown)\n", messages.len()));
    }
    Ok(out)
}

pub async fn retry(store: &Store, id: i64) -> Result<String, Failure> {
    store
        .retry_outbox(&Actor::system("cli"), id, tend_store::now_ms())
        .await?;
    Ok(format!("Message {id} will be sent at the next delivery.\n"))
}

pub async fn show(store: &Store, id: i64) -> Result<String, Failure> {
    let m = store
        .outbox_message(id)
        .await
        .not_found_as(|| format!("there is no message {id} (see `tend outbox list`)"))?;
    Ok(format!(
        "Message {id} ({}) to {}\nSubject: {}\n\n{}",
        m.state, m.recipient, m.subject, m.body
    ))
}

pub async fn send(
    store: &Store,
    id: i64,
    subject: Option<String>,
    body_file: Option<std::path::PathBuf>,
) -> Result<String, Failure> {
    let draft = store
        .outbox_message(id)
        .await
        .not_found_as(|| format!("there is no message {id} (see `tend outbox list --drafts`)"))?;
    let body = match body_file {
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
                Failure::new(format!("--body-file: cannot read standard input: {e}"))
            })?;
            text
        }
        Some(path) => std::fs::read_to_string(&path).map_err(|e| {
            Failure::new(format!("--body-file: cannot read {}: {e}", path.display()))
        })?,
        None => draft.body.clone(),
    };
    let subject = subject.unwrap_or_else(|| draft.subject.clone());
    let sent = store
        .send_draft(
            &Actor::system("cli"),
            id,
            &subject,
            &body,
            tend_store::now_ms(),
        )
        .await?;
    Ok(format!(
        "Message {id} to {} is queued and goes out at the next delivery.\n",
        sent.recipient
    ))
}

pub async fn discard(store: &Store, id: i64, yes: bool) -> Result<String, Failure> {
    let draft = store
        .outbox_message(id)
        .await
        .not_found_as(|| format!("there is no message {id} (see `tend outbox list --drafts`)"))?;
    if !yes {
        return Err(Failure::new(format!(
            "this discards \"{}\" to {} unsent; run again with --yes to confirm",
            draft.subject, draft.recipient
        )));
    }
    store.discard_draft(&Actor::system("cli"), id).await?;
    Ok(format!(
        "Discarded the draft {id} to {}.\n",
        draft.recipient
    ))
}
