//! Tend's background work, run inside `tend serve`: outbox delivery, the SLA scan, the
//! heartbeat watcher and the hourly month close of the hour bank.
//! Jobs meet the web side only in the database (outbox rows, job slots), so any number
//! of instances can run them against one PostgreSQL: recurring runs are claimed per
//! slot, outbox rows per lease.

pub mod delivery;
pub mod mail;
pub mod monitor;
pub mod month_close;
pub mod probe;
pub mod sla_scan;

use std::time::Duration;

use tend_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use delivery::{deliver_due, DeliveryReport};
pub use mail::{MailConfig, MailError, Mailer};
pub use monitor::{watch, WatchReport};
pub use month_close::{run_month_close, MONTH_CLOSE_JOB};
pub use probe::ProbeConfig;
pub use sla_scan::{scan, ScanReport};

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
    /// This instance's name in job slots (host and process id).
    pub holder: String,
    /// How HTTP probes run (concurrency bound, results kept).
    pub probes: ProbeConfig,
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
                mailer,
                config.deliver_every,
                stopped.clone(),
            )),
            tokio::spawn(watch_loop(
                store.clone(),
                config.public_url.clone(),
                config.watch_every,
                stopped.clone(),
            )),
            tokio::spawn(month_close_loop(
                store.clone(),
                config.month_close_every,
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
async fn pause(every: Duration, stopped: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(every) => *stopped.borrow(),
        _ = stopped.changed() => true,
    }
}

async fn delivery_loop(
    store: Store,
    mailer: Option<Mailer>,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        match deliver_due(&store, mailer.as_ref()).await {
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
    public_url: String,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        match watch(&store, tend_store::now_ms(), &public_url).await {
            Ok(r) if r != WatchReport::default() => tracing::info!(%r, "heartbeat watch"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "heartbeat watch failed"),
        }
        if pause(every, &mut stopped).await {
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
                let outcome = match scan(&store, now, &config.public_url).await {
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
