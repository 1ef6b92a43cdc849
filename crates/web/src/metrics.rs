//! Prometheus text metrics: requests by route and status, a latency histogram per
//! route, and the database pool. Kept in process; `/metrics` renders them.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    started: std::sync::OnceLock<Instant>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = inner.latency.entry(route.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub fn mark_started(&self) {
        let _ = self.started.set(Instant::now());
    }

    pub fn render(&self, pool_size: u32, pool_idle: usize) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP tend_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE tend_http_requests_total counter");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(out, "tend_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP tend_http_request_duration_seconds Time to serve a request, by route."
        );
        let _ = writeln!(out, "# TYPE tend_http_request_duration_seconds histogram");
        for (route, h) in &inner.latency {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "tend_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(
                out,
                "tend_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tend_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tend_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP tend_db_pool_connections Database connections open."
        );
        let _ = writeln!(out, "# TYPE tend_db_pool_connections gauge");
        let _ = writeln!(out, "tend_db_pool_connections {pool_size}");
        let _ = writeln!(
            out,
            "# HELP tend_db_pool_idle_connections Database connections open and idle."
        );
        let _ = writeln!(out, "# TYPE tend_db_pool_idle_connections gauge");
        let _ = writeln!(out, "tend_db_pool_idle_connections {pool_idle}");
        if let Some(started) = self.started.get() {
            let _ = writeln!(
                out,
                "# HELP tend_uptime_seconds Seconds since the server started."
            );
            let _ = writeln!(out, "# TYPE tend_uptime_seconds gauge");
            let _ = writeln!(out, "tend_uptime_seconds {}", started.elapsed().as_secs());
        }
        out
    }
}

/// Middleware: times each request and counts it under its route pattern (not its raw
/// path, so `/clients/{slug}` is one series however many clients there are).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status_with_a_latency_histogram() {
        let m = Metrics::default();
        m.observe("GET", "/clients", 200, 0.002);
        m.observe("GET", "/clients", 200, 0.2);
        m.observe("GET", "/clients", 404, 0.001);
        let text = m.render(3, 1);
        assert!(text.contains(
            "tend_http_requests_total{method=\"GET\",route=\"/clients\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "tend_http_request_duration_seconds_bucket{route=\"/clients\",le=\"0.0025\"} 2"
        ));
        assert!(text.contains("tend_http_request_duration_seconds_count{route=\"/clients\"} 3"));
        assert!(text.contains("tend_db_pool_connections 3"));
    }
}
