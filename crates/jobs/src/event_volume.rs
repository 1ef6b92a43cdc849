//! The event-volume scan: judges the last completed hour of every event stream against
//! the same hour of the last 4 weeks (`tend_domain::volume`), flips a stream down on a
//! drop or a spike and up again when its volume is normal, then alerts through the same
//! path as the heartbeat watcher (ticket + outbox).
//!
//! It runs every few minutes in slots claimed through `job_slots`, so two instances on
//! one PostgreSQL never both run a slot; a state changes only if unchanged since it was
//! read, so even a concurrent run by hand flips a stream once.

use std::time::Duration;

use tend_store::{Result, Store};
use tokio::sync::watch;

use crate::alerting::Alerting;
use crate::monitor::{alert_pending, WatchReport};

/// The job's name in `job_slots`.
pub const VOLUME_SCAN_JOB: &str = "event-volume-scan";

/// One scan as of `now` (UTC ms): streams flipped, tickets touched, emails queued.
pub async fn scan_volumes(store: &Store, now: i64, public_url: &str) -> Result<WatchReport> {
    scan_volumes_with(store, now, &Alerting::email_only(public_url)).await
}

/// [`scan_volumes`], also telling the Slack and webhook channels that hear each alert.
pub async fn scan_volumes_with(
    store: &Store,
    now: i64,
    alerting: &Alerting,
) -> Result<WatchReport> {
    let flips = store.scan_event_volumes(now).await?;
    let mut report = WatchReport {
        flipped: flips.len(),
        ..WatchReport::default()
    };
    alert_pending(store, now, alerting, &mut report).await?;
    Ok(report)
}

pub(crate) async fn volume_loop(
    store: Store,
    alerting: Alerting,
    every: Duration,
    holder: String,
    mut stopped: watch::Receiver<bool>,
) {
    let every_ms = every.as_millis().max(1) as i64;
    loop {
        let now = tend_store::now_ms();
        let slot = now / every_ms;
        match store
            .claim_job_slot(VOLUME_SCAN_JOB, slot, &holder, now)
            .await
        {
            Ok(true) => {
                let outcome = match scan_volumes_with(&store, now, &alerting).await {
                    Ok(report) => {
                        if report != WatchReport::default() {
                            tracing::info!(%report, "event volume scan");
                        }
                        report.to_string()
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "event volume scan failed");
                        format!("failed: {e}")
                    }
                };
                if let Err(e) = store
                    .finish_job_slot(VOLUME_SCAN_JOB, slot, &outcome, tend_store::now_ms())
                    .await
                {
                    tracing::error!(error = %e, "could not record the event volume scan's outcome");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "could not claim the event volume scan"),
        }
        let next = (slot + 1) * every_ms - tend_store::now_ms();
        if crate::pause(Duration::from_millis(next.max(10) as u64), &mut stopped).await {
            return;
        }
    }
}
