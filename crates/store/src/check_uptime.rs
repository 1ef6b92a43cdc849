//! Uptime of checks over the last 24 hours, 7 days and 30 days, from their state
//! changes (`check_flips`); the rule is `tend_domain::uptime`.

use std::collections::HashMap;

use serde::Serialize;
use tend_domain::check::CheckState;
use tend_domain::uptime::{uptime, StateSince, Uptime};

use crate::checks::Check;
use crate::row::parsed;
use crate::{with_pool, Result, Store};

const DAY_MS: i64 = 24 * 3_600_000;

/// A check's uptime over the three windows the overview shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CheckUptime {
    pub day: Uptime,
    pub week: Uptime,
    pub month: Uptime,
}

impl CheckUptime {
    /// "99.95 %" per window (24 h, 7 d, 30 d).
    pub fn texts(&self) -> [String; 3] {
        [self.day.text(), self.week.text(), self.month.text()]
    }
}

impl Store {
    /// Uptime of each check in `checks` as of `now`, by check id: one query for all
    /// their state changes of the last 30 days.
    pub async fn checks_uptime(
        &self,
        checks: &[&Check],
        now: i64,
    ) -> Result<HashMap<i64, CheckUptime>> {
        let mut out = HashMap::new();
        if checks.is_empty() {
            return Ok(out);
        }
        let from = now - 30 * DAY_MS;
        let ids = crate::placeholders(checks.len(), 2);
        let sql = format!(
            "SELECT check_id, at, old_state, new_state FROM check_flips \
             WHERE at >= $1 AND check_id IN ({ids}) ORDER BY check_id, at, id"
        );
        let rows: Vec<(i64, i64, String, String)> = with_pool!(&self.db, p => {
            let mut q = sqlx::query_as(&sql).bind(from);
            for c in checks {
                q = q.bind(c.id);
            }
            q.fetch_all(p).await
        })?;
        let mut changes: HashMap<i64, Vec<(i64, CheckState, CheckState)>> = HashMap::new();
        for (id, at, old, new) in rows {
            let old = parsed("old_state", CheckState::parse(&old))?;
            let new = parsed("new_state", CheckState::parse(&new))?;
            changes.entry(id).or_default().push((at, old, new));
        }
        for check in checks {
            let list = changes.remove(&check.id).unwrap_or_default();
            // The state before the first change in the window is that change's old
            // state; with no change, the check has been in its current state throughout.
            let before = list.first().map_or(check.state, |c| c.1);
            let since: Vec<StateSince> = list
                .iter()
                .map(|&(at, _, state)| StateSince { at, state })
                .collect();
            let window = |days: i64| {
                let start = (now - days * DAY_MS).max(check.created_at);
                uptime(Some(before_at(before, &since, start)), &since, start, now)
            };
            out.insert(
                check.id,
                CheckUptime {
                    day: window(1),
                    week: window(7),
                    month: window(30),
                },
            );
        }
        Ok(out)
    }
}

/// The state at `start`: the last change before it, else the state before them all.
fn before_at(before: CheckState, since: &[StateSince], start: i64) -> CheckState {
    since
        .iter()
        .take_while(|c| c.at < start)
        .last()
        .map_or(before, |c| c.state)
}
