//! The month close, run hourly inside `tend serve`: every period that has ended in its
//! client's timezone is closed (carry, expire, grant the next), oldest first, so months
//! missed while Tend was down are backfilled. One instance runs each hourly slot
//! (`job_slots`), and the store closes each period once even if two runs overlap.

use jiff::Timestamp;
use tend_store::hours::CloseReport;
use tend_store::{Result, Store};

/// The job's name in `job_slots`.
pub const MONTH_CLOSE_JOB: &str = "month-close";

/// Runs the close for the slot holding `now` (`now / every`), unless another run (here
/// or on another instance) has taken that slot or a later one. `None`: not ours to run.
pub async fn run_month_close(
    store: &Store,
    now: Timestamp,
    every_ms: i64,
    holder: &str,
) -> Result<Option<CloseReport>> {
    let slot = now.as_millisecond() / every_ms.max(1);
    if !store
        .claim_job_slot(MONTH_CLOSE_JOB, slot, holder, now.as_millisecond())
        .await?
    {
        return Ok(None);
    }
    let result = store.close_month(now, false).await;
    let outcome = match &result {
        Ok(report) => report.to_string(),
        Err(e) => format!("failed: {e}"),
    };
    store
        .finish_job_slot(MONTH_CLOSE_JOB, slot, &outcome, tend_store::now_ms())
        .await?;
    result.map(Some)
}
