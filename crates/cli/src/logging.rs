//! Structured logs on standard error, as text or JSON lines, filtered by `log`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::failure::Failure;

pub fn init(config: &Config) -> Result<(), Failure> {
    let filter = EnvFilter::try_new(&config.settings.log).map_err(|e| {
        Failure::new(format!(
            "log: \"{}\" is not a log filter (for example info or tend=debug,sqlx=warn): {e}",
            config.settings.log
        ))
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.settings.log_format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
    installed.map_err(|e| Failure::new(format!("log: cannot start logging: {e}")))
}
