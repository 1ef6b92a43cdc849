//! Opening the configured database, and the commands that act on all of it.

use std::path::Path;

use tend_store::Store;

use crate::config::{redact_url, Config};
use crate::failure::Failure;

/// Opens the database (creating the SQLite directory and file if missing) and, when
/// `migrate` is set, brings the schema up to date first, so every command works on a
/// fresh data directory.
pub async fn open(config: &Config, migrate: bool) -> Result<Store, Failure> {
    config.prepare_storage()?;
    let url = config.database_url();
    let store = Store::connect(&url).await.map_err(|e| {
        Failure::new(format!(
            "cannot open the database {}: {e}",
            redact_url(&url)
        ))
    })?;
    if migrate {
        let report = store.migrate().await?;
        for name in &report.applied {
            tracing::info!(migration = %name, "applied migration");
        }
    }
    Ok(store.with_sla_warn(config.sla_warn()?))
}

pub async fn migrate(config: &Config) -> Result<String, Failure> {
    let store = open(config, false).await?;
    let report = store.migrate().await?;
    store.close().await;
    let target = redact_url(&config.database_url());
    if report.applied.is_empty() {
        return Ok(format!(
            "The schema of {target} is current; no migrations to apply.\n"
        ));
    }
    let mut out = format!("Migrated {target}:\n");
    for name in &report.applied {
        out.push_str(&format!("  applied {name}\n"));
    }
    if report.seeded_default_plans {
        out.push_str("  added the default plans STARTER, GROWTH and ENTERPRISE\n");
    }
    Ok(out)
}

/// A consistent copy of the SQLite database; the schema is left as it is.
pub async fn backup(config: &Config, file: &Path) -> Result<String, Failure> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|_| !config.is_postgres()) {
        if !dir.is_dir() {
            return Err(Failure::new(format!(
                "file: the directory {} does not exist; create it first",
                dir.display()
            )));
        }
    }
    let store = open(config, false).await?;
    let result = store.backup_to(file).await;
    store.close().await;
    result?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "Backed up {} to {} ({} KiB).\n",
        redact_url(&config.database_url()),
        file.display(),
        bytes.div_ceil(1024)
    ))
}
