//! `tend sla scan` and `tend outbox …`: the background jobs, run by hand.

use tend_jobs::{JobsConfig, MailConfig, Mailer};
use tend_store::outbox::OutboxView;
use tend_store::{Actor, Store};

use crate::config::Config;
use crate::failure::Failure;
use crate::table::Table;

/// The jobs' settings from the configuration.
pub fn jobs_config(config: &Config) -> JobsConfig {
    let s = &config.settings;
    JobsConfig {
        mail: mail_config(config),
        public_url: config.public_url(),
        sla_scan_every: std::time::Duration::from_secs(s.sla_scan_seconds.max(1)),
        deliver_every: std::time::Duration::from_secs(2),
        watch_every: std::time::Duration::from_secs(1),
        month_close_every: std::time::Duration::from_secs(3600),
        holder: format!(
            "{}:{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "tend".into()),
            std::process::id()
        ),
        probes: tend_jobs::ProbeConfig {
            results_kept: s.pings_kept.max(1),
            ..Default::default()
        },
    }
}

fn mail_config(config: &Config) -> Option<MailConfig> {
    let url = config.settings.smtp_url.trim();
    (!url.is_empty()).then(|| MailConfig {
        smtp_url: url.to_string(),
        from: config.settings.mail_from.clone(),
    })
}

pub async fn scan(config: &Config, store: &Store) -> Result<String, Failure> {
    let report = tend_jobs::scan(store, jiff::Timestamp::now(), &config.public_url()).await?;
    Ok(format!("SLA scan: {report}.\n"))
}

pub async fn deliver(config: &Config, store: &Store) -> Result<String, Failure> {
    let Some(mail) = mail_config(config) else {
        return Err(Failure::new(
            "smtp_url: no mail server configured (set TEND_SMTP_URL or smtp_url in tend.toml)",
        ));
    };
    let mailer = Mailer::new(&mail).map_err(|e| Failure::new(e.to_string()))?;
    let r = tend_jobs::deliver_due(store, Some(&mailer)).await?;
    Ok(format!(
        "Sent {}, {} waiting to be retried, {} failed.\n",
        r.sent, r.retrying, r.failed
    ))
}

pub async fn list(store: &Store, trouble: bool, limit: i64) -> Result<String, Failure> {
    let view = if trouble {
        OutboxView::Trouble
    } else {
        OutboxView::All
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
