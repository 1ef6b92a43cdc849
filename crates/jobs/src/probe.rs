//! The HTTP prober: calls each probe's URL at its slots and stores the verdict.
//!
//! The scheduler only claims due slots and spawns one task per run; it never awaits a
//! probe, so a slow or hanging target delays nothing else. Each run has its own
//! timeout, and a semaphore bounds how many run at once. State changes become flips,
//! which the heartbeat watcher turns into tickets and emails like any other check's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tend_domain::check::CheckState;
use tend_domain::probe::{evaluate, ProbeMethod, ProbeOutcome, ProbeSettings, MAX_BODY_SEARCHED};
use tend_store::checks::{FlipAlert, PendingFlip};
use tend_store::probes::{DueProbe, ProbeRun};
use tend_store::{Result, Store};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

/// Runs claimed per transaction.
const BATCH: i64 = 500;
/// Results stored per transaction.
const WRITE_BATCH: usize = 500;
/// The longest the scheduler sleeps, so new probes start within about a second.
const MAX_NAP: Duration = Duration::from_secs(1);

/// How probes run.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Runs in flight at once, across all probes.
    pub concurrency: usize,
    /// Results kept per probe.
    pub results_kept: i64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            results_kept: tend_store::checks::DEFAULT_PINGS_KEPT,
        }
    }
}

/// The one HTTP client every probe shares (its connection pool and TLS roots).
/// Redirects are followed (at most 5); each run sets its own timeout.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("Tend-probe/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
}

fn method(m: ProbeMethod) -> reqwest::Method {
    match m {
        ProbeMethod::Get => reqwest::Method::GET,
        ProbeMethod::Head => reqwest::Method::HEAD,
        ProbeMethod::Post => reqwest::Method::POST,
        ProbeMethod::Put => reqwest::Method::PUT,
        ProbeMethod::Patch => reqwest::Method::PATCH,
        ProbeMethod::Delete => reqwest::Method::DELETE,
        ProbeMethod::Options => reqwest::Method::OPTIONS,
    }
}

/// Whether a request failed because nothing listens at the address.
fn is_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        source = err.source();
    }
    false
}

/// The innermost message of an error chain ("dns error: failed to lookup address").
fn root_message(e: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = e;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    if e.is_connect() {
        format!("could not connect: {text}")
    } else {
        format!("request failed: {text}")
    }
}

/// Calls the probe's URL once and says what happened, within the probe's timeout.
/// Header values that name an environment variable are read now (never stored).
pub async fn call(client: &reqwest::Client, settings: &ProbeSettings) -> ProbeOutcome {
    let mut request = client.request(method(settings.method), settings.url.as_str());
    for h in &settings.headers {
        match h.value.resolve(|name| std::env::var(name).ok()) {
            Ok(value) => request = request.header(h.name.as_str(), value),
            Err(why) => {
                return ProbeOutcome::Failed {
                    error: format!("header {}: {why}", h.name),
                }
            }
        }
    }
    let want_body = settings.keyword.is_some();
    let start = Instant::now();
    let timeout = Duration::from_millis(settings.timeout_ms.max(1) as u64);
    let run = async {
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if is_refused(&e) => return ProbeOutcome::Refused,
            Err(e) if e.is_timeout() => return ProbeOutcome::TimedOut,
            Err(e) => {
                return ProbeOutcome::Failed {
                    error: root_message(&e),
                }
            }
        };
        let status = response.status().as_u16();
        let body = if want_body {
            let mut bytes = Vec::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_BODY_SEARCHED.saturating_sub(bytes.len());
                        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if bytes.len() >= MAX_BODY_SEARCHED {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        return ProbeOutcome::Failed {
                            error: format!("reading the body failed: {}", root_message(&e)),
                        }
                    }
                }
            }
            Some(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            None
        };
        ProbeOutcome::Answered {
            status,
            elapsed_ms: start.elapsed().as_millis() as i64,
            body,
        }
    };
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or(ProbeOutcome::TimedOut)
}

/// Runs one claimed slot: calls the URL and judges the answer.
pub async fn judge(client: &reqwest::Client, due: &DueProbe) -> ProbeRun {
    let started_at = tend_store::now_ms();
    let outcome = call(client, &due.settings).await;
    let verdict = evaluate(&due.settings, &outcome);
    let (status, latency_ms) = match &outcome {
        ProbeOutcome::Answered {
            status, elapsed_ms, ..
        } => (Some(*status), Some(*elapsed_ms)),
        _ => (None, None),
    };
    ProbeRun {
        slot_at: due.slot_at,
        started_at,
        latency_ms,
        status,
        verdict,
    }
}

/// Runs one claimed slot and stores its result right away.
pub async fn run_one(
    store: &Store,
    client: &reqwest::Client,
    due: &DueProbe,
    keep: i64,
) -> Result<()> {
    let run = judge(client, due).await;
    store.record_probe_result(due.check_id, &run, keep).await?;
    Ok(())
}

/// Results on their way to the database: (check id, run).
pub type ResultSender = mpsc::Sender<(i64, ProbeRun)>;

/// The result writer: stores what arrives in batches (up to 500 runs per
/// transaction), so the runs of thousands of probes cost a few commits a second and
/// never hold many database connections. Ends when every sender is gone.
pub fn spawn_writer(store: Store, keep: i64) -> (ResultSender, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<(i64, ProbeRun)>(10_000);
    let handle = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            if let Err(e) = store.record_probe_results(&batch, keep).await {
                tracing::error!(error = %e, runs = batch.len(), "could not store probe results");
            }
            batch.clear();
        }
    });
    (tx, handle)
}

/// Claims every slot due now and starts its run on `tasks`, the result going to
/// `results`; returns how many were started. Never waits for a run.
pub async fn start_due(
    store: &Store,
    client: &reqwest::Client,
    limit: &Arc<Semaphore>,
    results: &ResultSender,
    tasks: &mut JoinSet<()>,
) -> Result<usize> {
    let mut started = 0;
    loop {
        let due = store.claim_due_probes(tend_store::now_ms(), BATCH).await?;
        let n = due.len();
        for probe in due {
            let (client, limit, results) = (client.clone(), limit.clone(), results.clone());
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring can only wait.
                let Ok(_permit) = limit.acquire_owned().await else {
                    return;
                };
                let run = judge(&client, &probe).await;
                if results.send((probe.check_id, run)).await.is_err() {
                    tracing::warn!(check = probe.check_id, "probe result dropped at shutdown");
                }
            });
        }
        started += n;
        if (n as i64) < BATCH {
            return Ok(started);
        }
    }
}

/// The scheduler: wakes at the next slot (at most a second later), starts what is due,
/// reaps finished runs. On stop, runs in flight are abandoned (their slots are lost,
/// the next ones run as usual) and the results already in hand are stored.
pub async fn probe_loop(
    store: Store,
    client: reqwest::Client,
    config: ProbeConfig,
    mut stopped: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let (results, writer) = spawn_writer(store.clone(), config.results_kept);
    let mut tasks = JoinSet::new();
    loop {
        if let Err(e) = start_due(&store, &client, &limit, &results, &mut tasks).await {
            tracing::error!(error = %e, "could not claim due probes");
        }
        while tasks.try_join_next().is_some() {}
        let nap = match store.next_probe_slot().await {
            Ok(Some(next)) => {
                let wait = next - tend_store::now_ms();
                Duration::from_millis(wait.clamp(20, MAX_NAP.as_millis() as i64) as u64)
            }
            Ok(None) => MAX_NAP,
            Err(e) => {
                tracing::error!(error = %e, "could not read the next probe slot");
                MAX_NAP
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(nap) => if *stopped.borrow() { break },
            _ = stopped.changed() => break,
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    drop(results);
    let _ = writer.await;
}

/// What a probe's flip means for its ticket: down says what was expected and what the
/// run found; up after down adds a note; anything else is quiet.
pub fn alert_for(p: &PendingFlip, settings: &ProbeSettings) -> FlipAlert {
    let at = utc_text(p.flip.at);
    match (p.flip.old_state, p.flip.new_state) {
        (_, CheckState::Down) => {
            let (title, body) = tend_domain::probe::down_alert(
                &p.check.name,
                &p.check.client_name,
                &p.check.workflow,
                p.check.criticality.label(),
                settings,
                &p.flip.reason,
                &at,
            );
            FlipAlert::Down {
                title,
                body,
                severity: p.check.criticality.severity(),
            }
        }
        (CheckState::Down, CheckState::Up) => FlipAlert::Recovered {
            note: tend_domain::probe::recovery_note(&p.check.name, &at),
        },
        _ => FlipAlert::Quiet,
    }
}

fn utc_text(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| ms.to_string())
}
