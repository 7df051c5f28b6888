//! `/readyz` and `/metrics`: [`Probes`] answers both from the same checks.
//!
//! Ready means all of:
//! - not draining (the replica is not stopping);
//! - the store answered a cheap read (the outbox backlog) within the last
//!   [`STORE_FRESH`], in at most [`STORE_TIMEOUT`] — the answer is kept that
//!   long, so probes every second and scrapes every 15 s cost one read per
//!   few seconds, not one each (DynamoDB bills reads);
//! - in Socket Mode, at least one connection to Slack is up. Over HTTP the
//!   listener answering the probe is the readiness.
//!
//! A 503 says, in words, every check that failed. `/metrics` is the
//! counters of [`Metrics`] plus gauges read at scrape time: readiness, the
//! outbox backlog (from the same cached read), Socket Mode connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use opsbot_commands::ports::Clock;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Gauges, Metrics};
use crate::slack::socket::Connections;
use crate::store::{Backlog, Storage};

/// How long one answer of the store stands for its reachability.
pub const STORE_FRESH: Duration = Duration::from_secs(5);
/// A store slower than this to answer the cheap read counts as unreachable.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Prometheus' text exposition format, version 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the probes and the scrape read.
pub struct Probes {
    metrics: Arc<Metrics>,
    /// Cancelled when the bot begins to stop.
    draining: CancellationToken,
    store: Arc<dyn Storage>,
    /// Socket Mode connections up; `None` in the HTTP transport.
    socket: Option<Connections>,
    /// The outbox's oldest write's age is judged by it.
    clock: Clock,
    /// The store's last answer and when it came.
    last: Mutex<Option<(Instant, Result<Backlog, String>)>>,
}

impl Probes {
    pub fn new(
        metrics: Arc<Metrics>,
        draining: CancellationToken,
        store: Arc<dyn Storage>,
        socket: Option<Connections>,
        clock: Clock,
    ) -> Arc<Self> {
        Arc::new(Probes { metrics, draining, store, socket, clock, last: Mutex::new(None) })
    }

    /// The outbox backlog, read at most once per [`STORE_FRESH`]; `Err` says
    /// why the store did not answer. Concurrent probes wait for one read.
    async fn backlog(&self) -> Result<Backlog, String> {
        let mut last = self.last.lock().await;
        if let Some((at, answer)) = &*last
            && at.elapsed() < STORE_FRESH
        {
            return answer.clone();
        }
        let answer = match tokio::time::timeout(STORE_TIMEOUT, self.store.outbox_backlog()).await {
            Ok(Ok(backlog)) => Ok(backlog),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {} s", STORE_TIMEOUT.as_secs())),
        };
        *last = Some((Instant::now(), answer.clone()));
        answer
    }

    /// Every check that fails, in words; empty when ready.
    fn not_ready(&self, store: &Result<Backlog, String>) -> Vec<String> {
        let mut failed = Vec::new();
        if self.draining.is_cancelled() {
            failed.push("draining: this replica is stopping".to_owned());
        }
        if let Err(why) = store {
            failed.push(format!("store unreachable: {why}"));
        }
        if self.socket.as_ref().is_some_and(|up| up.count() == 0) {
            failed.push("Slack: no Socket Mode connection is up".to_owned());
        }
        failed
    }

    fn gauges(&self, ready: bool, store: &Result<Backlog, String>) -> Gauges {
        let now = (self.clock)();
        let outbox = store.as_ref().ok().map(|b| {
            let age = b.oldest.map_or(Duration::ZERO, |oldest| (now - oldest).to_std().unwrap_or_default());
            (b.waiting, age)
        });
        Gauges { ready, outbox, socket_connections: self.socket.as_ref().map(Connections::count) }
    }
}

/// `GET /readyz`.
pub fn ready_routes(probes: Arc<Probes>) -> Router {
    Router::new().route("/readyz", get(readyz)).with_state(probes)
}

/// `GET /metrics`, on the main listener or on `server.metrics_listen`.
pub fn metrics_routes(probes: Arc<Probes>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(probes)
}

async fn readyz(State(probes): State<Arc<Probes>>) -> (StatusCode, String) {
    let failed = probes.not_ready(&probes.backlog().await);
    match failed.is_empty() {
        true => (StatusCode::OK, "ready".to_owned()),
        false => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}", failed.join("; "))),
    }
}

async fn metrics(State(probes): State<Arc<Probes>>) -> impl IntoResponse {
    let store = probes.backlog().await;
    let ready = probes.not_ready(&store).is_empty();
    let text = probes.metrics.render(&probes.gauges(ready, &store));
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], text)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn probes(socket: Option<Connections>) -> Arc<Probes> {
        let store = crate::store::open(None).expect("an in-memory store");
        let clock = opsbot_commands::ports::system_clock();
        Probes::new(Arc::default(), CancellationToken::new(), store, socket, clock)
    }

    async fn get(probes: &Arc<Probes>, path: &str) -> (StatusCode, String, String) {
        let router = ready_routes(probes.clone()).merge(metrics_routes(probes.clone()));
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let kind = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        (status, kind.unwrap_or_default(), String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn readyz_answers_ready_while_serving_and_503_saying_so_once_the_bot_is_stopping() {
        let probes = probes(None);
        assert_eq!(get(&probes, "/readyz").await.0, StatusCode::OK);
        probes.draining.cancel();
        let (status, _, body) = get(&probes, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "not ready: draining: this replica is stopping");
    }

    #[tokio::test]
    async fn in_socket_mode_readyz_waits_for_a_connection_and_the_scrape_counts_them() {
        let up = Connections::default();
        let probes = probes(Some(up.clone()));
        let (status, _, body) = get(&probes, "/readyz").await;
        assert_eq!(
            (status, body.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "not ready: Slack: no Socket Mode connection is up")
        );
        let first = up.up();
        assert_eq!(get(&probes, "/readyz").await.0, StatusCode::OK);
        let _second = up.up();
        assert!(get(&probes, "/metrics").await.2.contains("\nopsbot_slack_socket_connections 2\n"));
        drop(first);
        assert!(get(&probes, "/metrics").await.2.contains("\nopsbot_slack_socket_connections 1\n"));
    }

    #[tokio::test]
    async fn metrics_are_served_in_the_prometheus_text_format_with_the_outbox_backlog() {
        let (status, kind, body) = get(&probes(None), "/metrics").await;
        assert_eq!((status, kind.as_str()), (StatusCode::OK, TEXT_FORMAT));
        assert!(body.contains("\nopsbot_ready 1\n") && body.contains("\nopsbot_outbox_depth 0\n"), "{body}");
        assert!(body.contains("\nopsbot_outbox_oldest_age_seconds 0\n"), "{body}");
    }
}
