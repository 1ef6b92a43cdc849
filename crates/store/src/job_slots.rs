//! Slots for recurring jobs. A job that runs every N seconds (or once a day) names its
//! slot (the run's scheduled time divided by its interval); an instance runs a slot only
//! if it moves the job's row forward to it, so with several instances on one database
//! each slot runs once. The table keeps one row per job, however long Tend runs.

use crate::{with_pool, Result, Store};

impl Store {
    /// Tries to take `slot` of `job` for `holder`. True: run it. False: it (or a later
    /// slot) was already taken, by this or another instance.
    pub async fn claim_job_slot(
        &self,
        job: &str,
        slot: i64,
        holder: &str,
        now: i64,
    ) -> Result<bool> {
        let taken = with_pool!(&self.db, p => sqlx::query(
            "INSERT INTO job_slots (job, slot, holder, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job) DO UPDATE SET slot = excluded.slot, holder = excluded.holder, \
             started_at = excluded.started_at, finished_at = NULL, outcome = NULL \
             WHERE job_slots.slot < excluded.slot")
            .bind(job)
            .bind(slot)
            .bind(holder)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }

    /// Records how a slot's run ended ("12 warnings, 3 breaches", or an error).
    pub async fn finish_job_slot(
        &self,
        job: &str,
        slot: i64,
        outcome: &str,
        now: i64,
    ) -> Result<()> {
        with_pool!(&self.db, p => sqlx::query(
            "UPDATE job_slots SET finished_at = $1, outcome = $2 WHERE job = $3 AND slot = $4")
            .bind(now)
            .bind(outcome)
            .bind(job)
            .bind(slot)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The last run of every job: (job, slot, holder, started, finished, outcome).
    pub async fn job_runs(
        &self,
    ) -> Result<Vec<(String, i64, String, i64, Option<i64>, Option<String>)>> {
        Ok(with_pool!(&self.db, p => sqlx::query_as(
            "SELECT job, slot, holder, started_at, finished_at, outcome FROM job_slots ORDER BY job")
            .fetch_all(p)
            .await)?)
    }
}
