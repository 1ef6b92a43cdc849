//! Tend's background work, run inside `tend serve`: outbox delivery, the SLA scan, the
//! heartbeat watcher and the hourly month close of the hour bank.
//! Jobs meet the web side only in the database (outbox rows, job slots), so any number
//! of instances can run them against one PostgreSQL: recurring runs are claimed per
//! slot, outbox rows per lease.

pub mod alerting;
pub mod delivery;
pub mod digest;
pub mod event_volume;
pub mod mail;
pub mod monitor;
pub mod month_close;
pub mod probe;
pub mod sla_scan;
pub mod webhook;

use std::time::Duration;

use tend_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use alerting::Alerting;
pub use delivery::{deliver_due, deliver_due_by, DeliveryReport};
pub use digest::{run_digest, DigestReport, DIGEST_JOB};
pub use event_volume::{scan_volumes, VOLUME_SCAN_JOB};
pub use mail::{MailConfig, MailError, Mailer};
pub use monitor::{prune_ping_hours, watch, watch_with, WatchReport, PING_HOURS_KEPT_DAYS};
pub use month_close::{run_month_close, MONTH_CLOSE_JOB};
pub use probe::ProbeConfig;
pub use sla_scan::{scan, scan_with, ScanReport};
pub use webhook::{ChannelTargets, Notifier, WebhookTarget};

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// No mail server: messages wait in the outbox until one is configured.
    pub mail: Option<MailConfig>,
    /// Where people reach this Tend (`https://desk.agency.example`), for links in mail.
    pub public_url: String,
    /// How often the SLA scan runs (across all instances together).
    pub sla_scan_every: Duration,
    /// How often the outbox is checked for messages due.
    pub deliver_every: Duration,
    /// How often the heartbeat watcher looks for missed deadlines and new flips.
    pub watch_every: Duration,
    /// How often the hour bank's month close runs (across all instances together).
    pub month_close_every: Duration,
    /// How often event streams' volume is judged (across all instances together).
    pub volume_scan_every: Duration,
    /// This instance's name in job slots (host and process id).
    pub holder: String,
    /// Slack and webhook channels: which events each hears (routes, names only) and
    /// their URLs and secrets (targets), from the configuration.
    pub notify: NotifyConfig,
    /// The local hour (0–23, each user's timezone) the daily digest goes out.
    pub digest_hour: i8,
    /// How HTTP probes run (concurrency bound, results kept).
    pub probes: ProbeConfig,
}

/// The configured Slack and webhook channels.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    pub routes: Vec<tend_domain::notify::Route>,
    pub targets: ChannelTargets,
}

/// The running jobs; [`Jobs::stop`] ends them after the work in hand.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts the jobs. Fails only on a mail setting that cannot work.
    pub fn start(store: Store, config: JobsConfig) -> Result<Self, MailError> {
        let mailer = config.mail.as_ref().map(Mailer::new).transpose()?;
        if mailer.is_none() {
            tracing::warn!(
                "no smtp_url set: email stays in the outbox until a mail server is configured"
            );
        }
        let notifier = if config.notify.targets.is_empty() {
            None
        } else {
            Some(Notifier::new(config.notify.targets.clone())?)
        };
        let alerting = Alerting {
            public_url: config.public_url.clone(),
            routes: config.notify.routes.clone(),
        };
        let (stop, stopped) = watch::channel(false);
        // Building the client fails only when its TLS backend cannot start; rustls with
        // bundled roots has nothing to load, so this is a broken build, found at start-up.
        let probe_client = probe::http_client().expect("the HTTP client for probes");
        let tasks = vec![
            tokio::spawn(probe::probe_loop(
                store.clone(),
                probe_client,
                config.probes.clone(),
                stopped.clone(),
            )),
            tokio::spawn(delivery_loop(
                store.clone(),
                (mailer, notifier),
                config.deliver_every,
                stopped.clone(),
            )),
            tokio::spawn(watch_loop(
                store.clone(),
                alerting,
                config.watch_every,
                stopped.clone(),
            )),
            tokio::spawn(event_volume::volume_loop(
                store.clone(),
                Alerting {
                    public_url: config.public_url.clone(),
                    routes: config.notify.routes.clone(),
                },
                config.volume_scan_every,
                config.holder.clone(),
                stopped.clone(),
            )),
            tokio::spawn(ping_hours_loop(store.clone(), stopped.clone())),
            tokio::spawn(month_close_loop(
                store.clone(),
                config.month_close_every,
                config.holder.clone(),
                stopped.clone(),
            )),
            tokio::spawn(digest_loop(
                store.clone(),
                config.public_url.clone(),
                config.digest_hour,
                config.holder.clone(),
                stopped.clone(),
            )),
            tokio::spawn(sla_loop(store, config, stopped)),
        ];
        Ok(Self { stop, tasks })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Waits `every`, or less if told to stop; true when it is time to stop.
pub(crate) async fn pause(every: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(every) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

async fn delivery_loop(
    store: Store,
    (mailer, notifier): (Option<Mailer>, Option<Notifier>),
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        match deliver_due_by(&store, mailer.as_ref(), notifier.as_ref()).await {
            Ok(r) if r != DeliveryReport::default() => {
                tracing::info!(
                    sent = r.sent,
                    retrying = r.retrying,
                    failed = r.failed,
                    "outbox delivery"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
        }
        if pause(every, &mut stopped).await {
            return;
        }
    }
}

/// Every instance watches; due checks and flips are claimed row by row, so two
/// instances share the work instead of doing it twice.
async fn watch_loop(
    store: Store,
    alerting: Alerting,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        match watch_with(&store, tend_store::now_ms(), &alerting).await {
            Ok(r) if r != WatchReport::default() => tracing::info!(%r, "heartbeat watch"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "heartbeat watch failed"),
        }
        if pause(every, &mut stopped).await {
            return;
        }
    }
}

/// Hourly ping counts past their keeping time are dropped once an hour (by every
/// instance: a second one finds nothing left to drop).
async fn ping_hours_loop(store: Store, mut stopped: watch::Receiver<bool>) {
    loop {
        match prune_ping_hours(&store, tend_store::now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "dropped old hourly ping counts"),
            Err(e) => tracing::error!(error = %e, "dropping old hourly ping counts failed"),
        }
        if pause(Duration::from_secs(3_600), &mut stopped).await {
            return;
        }
    }
}

/// How often the digest job looks for users whose morning it is (one slot each).
const DIGEST_EVERY_MS: i64 = 5 * 60 * 1000;

async fn digest_loop(
    store: Store,
    public_url: String,
    hour: i8,
    holder: String,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let now = jiff::Timestamp::now();
        let slot = now.as_millisecond() / DIGEST_EVERY_MS;
        match store
            .claim_job_slot(DIGEST_JOB, slot, &holder, now.as_millisecond())
            .await
        {
            Ok(true) => {
                let outcome = match run_digest(&store, now, hour, &public_url).await {
                    Ok(report) => {
                        if report.queued > 0 {
                            tracing::info!(%report, "daily digest");
                        }
                        report.to_string()
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "daily digest failed");
                        format!("failed: {e}")
                    }
                };
                if let Err(e) = store
                    .finish_job_slot(DIGEST_JOB, slot, &outcome, tend_store::now_ms())
                    .await
                {
                    tracing::error!(error = %e, "could not record the digest's outcome");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not claim the daily digest"),
        }
        let next = (slot + 1) * DIGEST_EVERY_MS - jiff::Timestamp::now().as_millisecond();
        if pause(Duration::from_millis(next.max(10) as u64), &mut stopped).await {
            return;
        }
    }
}

const SLA_JOB: &str = "sla-scan";

async fn sla_loop(store: Store, config: JobsConfig, mut stopped: watch::Receiver<bool>) {
    let every_ms = config.sla_scan_every.as_millis().max(1) as i64;
    loop {
        let now = jiff::Timestamp::now();
        let slot = now.as_millisecond() / every_ms;
        match store
            .claim_job_slot(SLA_JOB, slot, &config.holder, now.as_millisecond())
            .await
        {
            Ok(true) => {
                let alerting = Alerting {
                    public_url: config.public_url.clone(),
                    routes: config.notify.routes.clone(),
                };
                let outcome = match scan_with(&store, now, &alerting).await {
                    Ok(report) => {
                        if report.warnings + report.breaches > 0 {
                            tracing::info!(%report, "SLA scan");
                        }
                        report.to_string()
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "SLA scan failed");
                        format!("failed: {e}")
                    }
                };
                if let Err(e) = store
                    .finish_job_slot(SLA_JOB, slot, &outcome, tend_store::now_ms())
                    .await
                {
                    tracing::error!(error = %e, "could not record the SLA scan's outcome");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not claim the SLA scan"),
        }
        // Sleep to the start of the next slot, so instances line up on the same slots.
        let next = (slot + 1) * every_ms - jiff::Timestamp::now().as_millisecond();
        if pause(Duration::from_millis(next.max(10) as u64), &mut stopped).await {
            return;
        }
    }
}

async fn month_close_loop(
    store: Store,
    every: Duration,
    holder: String,
    mut stopped: watch::Receiver<bool>,
) {
    let every_ms = every.as_millis().max(1) as i64;
    loop {
        let now = jiff::Timestamp::now();
        match run_month_close(&store, now, every_ms, &holder).await {
            Ok(Some(report)) => {
                for (contract, why) in &report.failed {
                    tracing::error!(contract, why, "month close failed for a contract");
                }
                if !report.closed.is_empty() || report.opened > 0 {
                    tracing::info!(%report, "month close");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "month close failed"),
        }
        let slot = now.as_millisecond() / every_ms;
        let next = (slot + 1) * every_ms - jiff::Timestamp::now().as_millisecond();
        if pause(Duration::from_millis(next.max(10) as u64), &mut stopped).await {
            return;
        }
    }
}
