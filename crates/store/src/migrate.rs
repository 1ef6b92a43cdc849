//! Forward-only, versioned migrations embedded in the binary: one folder per engine
//! with the same version numbers (a test keeps the two schemas in step).

use crate::{now_ms, with_pool, Db, Engine, Result, Store};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "tickets",
        sqlite: include_str!("../migrations/sqlite/0002_tickets.sql"),
        postgres: include_str!("../migrations/postgres/0002_tickets.sql"),
    },
    Migration {
        version: 3,
        name: "outbox_and_notices",
        sqlite: include_str!("../migrations/sqlite/0003_outbox_and_notices.sql"),
        postgres: include_str!("../migrations/postgres/0003_outbox_and_notices.sql"),
    },
    Migration {
        version: 4,
        name: "changes",
        sqlite: include_str!("../migrations/sqlite/0004_changes.sql"),
        postgres: include_str!("../migrations/postgres/0004_changes.sql"),
    },
    Migration {
        version: 6,
        name: "hour_bank",
        sqlite: include_str!("../migrations/sqlite/0006_hour_bank.sql"),
        postgres: include_str!("../migrations/postgres/0006_hour_bank.sql"),
    },
    Migration {
        version: 7,
        name: "checks",
        sqlite: include_str!("../migrations/sqlite/0007_checks.sql"),
        postgres: include_str!("../migrations/postgres/0007_checks.sql"),
    },
    Migration {
        version: 8,
        name: "message_templates",
        sqlite: include_str!("../migrations/sqlite/0008_message_templates.sql"),
        postgres: include_str!("../migrations/postgres/0008_message_templates.sql"),
    },
    Migration {
        version: 9,
        name: "ticket_events_clock_index",
        sqlite: include_str!("../migrations/sqlite/0009_ticket_events_clock_index.sql"),
        postgres: include_str!("../migrations/postgres/0009_ticket_events_clock_index.sql"),
    },
    Migration {
        version: 10,
        name: "probes",
        sqlite: include_str!("../migrations/sqlite/0010_probes.sql"),
        postgres: include_str!("../migrations/postgres/0010_probes.sql"),
    },
    Migration {
        version: 11,
        name: "event_streams",
        sqlite: include_str!("../migrations/sqlite/0011_event_streams.sql"),
        postgres: include_str!("../migrations/postgres/0011_event_streams.sql"),
    },
    Migration {
        version: 12,
        name: "maintenance_and_recovery",
        sqlite: include_str!("../migrations/sqlite/0012_maintenance_and_recovery.sql"),
        postgres: include_str!("../migrations/postgres/0012_maintenance_and_recovery.sql"),
    },
    Migration {
        version: 13,
        name: "ping_write_indexes",
        sqlite: include_str!("../migrations/sqlite/0013_ping_write_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0013_ping_write_indexes.sql"),
    },
    Migration {
        version: 14,
        name: "ledger_sums",
        sqlite: include_str!("../migrations/sqlite/0014_ledger_sums.sql"),
        postgres: include_str!("../migrations/postgres/0014_ledger_sums.sql"),
    },
    Migration {
        version: 15,
        name: "ping_deadline_scan",
        sqlite: include_str!("../migrations/sqlite/0015_ping_deadline_scan.sql"),
        postgres: include_str!("../migrations/postgres/0015_ping_deadline_scan.sql"),
    },
];

/// What a migration run did, for the CLI and the start-up log.
#[derive(Debug, Default, Clone)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub seeded_default_plans: bool,
}

impl Store {
    /// Applies every migration not yet applied, each in its own transaction. On a new
    /// database it also writes the default plans (data, editable afterwards).
    pub async fn migrate(&self) -> Result<MigrationReport> {
        // Two instances starting at once on one PostgreSQL must not both migrate (even
        // CREATE TABLE IF NOT EXISTS races there). The advisory lock belongs to a session,
        // so it is taken and released on one connection held for the whole run. SQLite
        // serialises writers with its own database lock.
        if let Db::Pg(p) = &self.db {
            let mut lock = p.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock(7263001)")
                .execute(&mut *lock)
                .await?;
            let result = self.apply_pending().await;
            sqlx::query("SELECT pg_advisory_unlock(7263001)")
                .execute(&mut *lock)
                .await?;
            return result;
        }
        self.apply_pending().await
    }

    async fn apply_pending(&self) -> Result<MigrationReport> {
        with_pool!(&self.db, p => sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        ).execute(p).await.map(|r| r.rows_affected()))?;
        let done: Vec<i64> = with_pool!(&self.db, p => sqlx::query_scalar("SELECT version FROM schema_migrations").fetch_all(p).await)?;
        let mut report = MigrationReport::default();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            let sql = match self.engine() {
                Engine::Sqlite => m.sqlite,
                Engine::Postgres => m.postgres,
            };
            let mut tx = self.begin().await?;
            crate::with_tx!(&mut tx, c => {
                sqlx::raw_sql(sql).execute(&mut *c).await.map(|r| r.rows_affected())?;
                sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(m.version)
                    .bind(m.name)
                    .bind(now_ms())
                    .execute(&mut *c)
                    .await.map(|r| r.rows_affected())?;
            });
            if m.version == 1 {
                crate::plans::seed_defaults(&mut tx).await?;
                report.seeded_default_plans = true;
            }
            tx.commit().await?;
            report.applied.push(format!("{:04}_{}", m.version, m.name));
        }
        Ok(report)
    }

    /// Table name -> sorted column names, to compare the two engines' schemas.
    pub async fn schema_columns(&self) -> Result<Vec<(String, Vec<String>)>> {
        use std::collections::BTreeMap;
        let rows: Vec<(String, String)> =
            match &self.db {
                Db::Sqlite(p) => sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                )
                .fetch_all(p)
                .await?,
                Db::Pg(p) => sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema()",
                )
                .fetch_all(p)
                .await?,
            };
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (table, column) in rows {
            map.entry(table).or_default().push(column);
        }
        Ok(map
            .into_iter()
            .map(|(t, mut cols)| {
                cols.sort();
                (t, cols)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// Pending migrations are applied in list order, so the list must be in version
    /// order: a version added out of place would run before one it may depend on.
    #[test]
    fn migrations_are_listed_in_version_order() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "versions out of order: {versions:?}"
        );
        for m in MIGRATIONS {
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
        }
    }
}
