//! What the daily digest reads: failed runs and troubled checks, hour banks whose 75 %
//! alert fired in the open period, and whether a digest was already queued.

use tend_domain::digest::{FailedRuns, Troubled};

use crate::{with_pool, Result, Store};

impl Store {
    /// Checks with failure pings since `since` (UTC ms, from the hourly counts, so
    /// pings past retention still count), most failures first.
    pub async fn failed_runs_since(&self, since: i64) -> Result<Vec<FailedRuns>> {
        let rows: Vec<(String, String, i64)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT c.name, ch.name, CAST(SUM(h.failures) AS BIGINT) AS n FROM ping_hours h \
             JOIN checks ch ON ch.id = h.check_id JOIN clients c ON c.id = ch.client_id \
             WHERE h.hour >= $1 AND ch.deleted_at IS NULL \
             GROUP BY c.name, ch.name HAVING SUM(h.failures) > 0 ORDER BY n DESC, c.name, ch.name")
            .bind(since - since.rem_euclid(3_600_000)).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(client, check, failures)| FailedRuns {
                client,
                check,
                failures,
            })
            .collect())
    }

    /// Checks down or late now, down first.
    pub async fn troubled_checks(&self) -> Result<Vec<Troubled>> {
        let rows: Vec<(String, String, String, String)> = with_pool!(&self.db, p => sqlx::query_as(
            "SELECT c.name, ch.name, ch.state, ch.public_id FROM checks ch JOIN clients c ON c.id = ch.client_id \
             WHERE ch.state IN ('down', 'late') AND ch.deleted_at IS NULL \
             ORDER BY ch.state, c.name, ch.name")
            .fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(client, check, state, uuid)| Troubled {
                client,
                check,
                state,
                uuid,
            })
            .collect())
    }

    /// Slugs of clients whose hour bank passed 75 % in its open period (its alert fired).
    pub async fn banks_past_three_quarters(&self) -> Result<Vec<String>> {
        Ok(with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT DISTINCT c.slug FROM hour_alerts a \
             JOIN hour_periods hp ON hp.contract_id = a.contract_id AND hp.period_start = a.period_start \
             JOIN contracts k ON k.id = a.contract_id JOIN clients c ON c.id = k.client_id \
             WHERE hp.closed_at IS NULL ORDER BY c.slug")
            .fetch_all(p).await)?)
    }

    /// Whether a message with this event key is in the outbox (in any state).
    pub async fn outbox_has(&self, event_key: &str) -> Result<bool> {
        let n: i64 = with_pool!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE event_key = $1")
            .bind(event_key).fetch_one(p).await)?;
        Ok(n > 0)
    }
}
