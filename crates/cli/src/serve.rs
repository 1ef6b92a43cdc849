//! `tend serve`: the web server, up quickly and down gracefully.

use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use tend_web::{AppState, WebConfig};

use crate::config::{redact_url, Config};
use crate::database;
use crate::demo;
use crate::failure::Failure;

/// How long requests in flight may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(10);

pub async fn run(config: &Config, with_demo: bool, with_jobs: bool) -> Result<(), Failure> {
    // Bind first: a taken port is reported before the database is touched.
    let listen = &config.settings.listen;
    let listener = tokio::net::TcpListener::bind(listen.as_str())
        .await
        .map_err(|e| Failure::new(format!("listen: cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::new(format!("listen: {e}")))?;

    let store = database::open(config, true).await?;
    let sign_in = if with_demo {
        demo::prepare_for_serve(&store).await?
    } else {
        None
    };

    let state = AppState::new(
        store.clone(),
        WebConfig {
            secure_cookies: config.settings.secure_cookies,
            mail_configured: !config.settings.smtp_url.trim().is_empty(),
            ping_body_limit: config.settings.ping_body_limit,
            pings_kept: config.settings.pings_kept.max(1),
            ..WebConfig::default()
        },
    );
    state.metrics.mark_started();
    let jobs = if with_jobs {
        Some(
            tend_jobs::Jobs::start(store.clone(), crate::outbox::jobs_config(config)?)
                .map_err(|e| Failure::new(e.to_string()))?,
        )
    } else {
        None
    };
    let app = tend_web::router(state).into_make_service_with_connect_info::<SocketAddr>();

    tracing::info!(
        address = %addr,
        database = %redact_url(&config.database_url()),
        version = env!("CARGO_PKG_VERSION"),
        "listening"
    );
    let url = browse_url(addr);
    let line = match &sign_in {
        Some(hint) => format!("Tend is running on {url}: {hint}"),
        None => format!("Tend is running on {url}"),
    };
    // Nobody reading standard output is no reason to stop serving.
    let _ = writeln!(std::io::stdout(), "{line}");
    if with_demo && !addr.ip().is_loopback() {
        tracing::warn!(
            address = %addr,
            "demo accounts use a published password; do not expose a demo server beyond this machine"
        );
    }

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            let _ = signalled_tx.send(());
        })
        .into_future();
    let deadline = async {
        if signalled_rx.await.is_ok() {
            tokio::time::sleep(GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = server => served.map_err(|e| Failure::new(format!("server: {e}")))?,
        () = deadline => tracing::warn!("requests still running after {} s; stopping anyway", GRACE.as_secs()),
    }
    if let Some(jobs) = jobs {
        jobs.stop().await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The address to open in a browser: a wildcard bind is reachable as localhost.
fn browse_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!(
            "http://localhost:{} (listening on all interfaces, {addr})",
            addr.port()
        )
    } else {
        format!("http://{addr}")
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what service managers and containers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_address_is_shown_as_localhost() {
        let url = browse_url("0.0.0.0:8080".parse().unwrap());
        assert!(url.starts_with("http://localhost:8080"));
        assert_eq!(
            browse_url("127.0.0.1:9000".parse().unwrap()),
            "http://127.0.0.1:9000"
        );
    }
}
