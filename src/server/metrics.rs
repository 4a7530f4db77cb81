//! What operators watch: Prometheus metrics at `/metrics` (prometheus-client, the Prometheus
//! project's own Rust library), `/healthz` (the process answers) and `/readyz` (its storage
//! and, with several nodes, Redis answer).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::BoxFuture;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::store::StoreError;

/// The server's counters; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Registry,
    connected: Gauge,
    messages: Counter,
    broadcast_errors: Counter,
    dropped_packets: Counter,
    resyncs: Counter,
    refusals: Counter,
    storage_write_failures: Counter,
    storage_seconds: Histogram,
    redis_seconds: Histogram,
}

/// Latency buckets from 100 µs to ~3 s.
fn latency_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 15,
    ))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut inner = Inner {
            registry: Registry::with_prefix("chat"),
            connected: Gauge::default(),
            messages: Counter::default(),
            broadcast_errors: Counter::default(),
            dropped_packets: Counter::default(),
            resyncs: Counter::default(),
            refusals: Counter::default(),
            storage_write_failures: Counter::default(),
            storage_seconds: latency_histogram(),
            redis_seconds: latency_histogram(),
        };
        inner.register();
        Metrics(Arc::new(inner))
    }
}

impl Inner {
    /// Names every metric in the exposition (each name gets the `chat_` prefix).
    fn register(&mut self) {
        let counters = [
            (
                "messages",
                "Messages accepted and stored by this node",
                &self.messages,
            ),
            (
                "broadcast_errors",
                "Broadcasts that did not reach every recipient",
                &self.broadcast_errors,
            ),
            (
                "dropped_packets",
                "Packets not queued for a client because its queue was full",
                &self.dropped_packets,
            ),
            (
                "resyncs",
                "Catch-up requests served (a client asking for missed messages)",
                &self.resyncs,
            ),
            (
                "refusals",
                "Client events refused (invalid, not allowed, rate-limited)",
                &self.refusals,
            ),
            (
                "storage_write_failures",
                "Messages that could not be stored (disk full, storage or Redis down)",
                &self.storage_write_failures,
            ),
        ];
        let registry = &mut self.registry;
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "connected_clients",
            "Socket.IO connections open on this node",
            self.connected.clone(),
        );
        registry.register(
            "storage_seconds",
            "Time to store one message (until committed)",
            self.storage_seconds.clone(),
        );
        registry.register(
            "redis_seconds",
            "Round trip of Redis commands (heartbeat pings and presence updates)",
            self.redis_seconds.clone(),
        );
    }
}

impl Metrics {
    pub fn connected(&self) {
        self.0.connected.inc();
    }
    pub fn disconnected(&self) {
        self.0.connected.dec();
    }
    pub fn message_stored(&self, took: Duration) {
        self.0.messages.inc();
        self.0.storage_seconds.observe(took.as_secs_f64());
    }
    /// A broadcast that did not reach everyone: one error, and a dropped packet per socket
    /// that could not take it.
    pub fn broadcast_failed(&self, error: &socketioxide::BroadcastError) {
        self.0.broadcast_errors.inc();
        if let socketioxide::BroadcastError::Socket(sockets) = error {
            self.dropped(sockets.len() as u64);
        }
    }
    pub fn dropped(&self, packets: u64) {
        self.0.dropped_packets.inc_by(packets);
    }
    pub fn storage_write_failed(&self) {
        self.0.storage_write_failures.inc();
    }

    pub fn resync(&self) {
        self.0.resyncs.inc();
    }
    pub fn refused(&self) {
        self.0.refusals.inc();
    }
    pub fn redis_round_trip(&self, took: Duration) {
        self.0.redis_seconds.observe(took.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.0.registry) {
            tracing::error!(error = %e, "metrics not encoded");
        }
        out
    }
}

/// Something `/readyz` must reach before the node takes traffic.
pub trait Probe: Send + Sync + 'static {
    /// What it is, as shown in `/readyz`'s answer.
    fn name(&self) -> &'static str;
    fn check(&self) -> BoxFuture<'_, Result<(), StoreError>>;
}

#[derive(Clone)]
struct Ops {
    metrics: Metrics,
    probes: Arc<Vec<Arc<dyn Probe>>>,
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(metrics: Metrics, probes: Vec<Arc<dyn Probe>>) -> axum::Router {
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render))
        .with_state(Ops {
            metrics,
            probes: Arc::new(probes),
        })
}

async fn render(State(ops): State<Ops>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        ops.metrics.render(),
    )
        .into_response()
}

/// 200 with each dependency's round trip when all answer within a second, else 503 naming
/// what failed.
async fn ready(State(ops): State<Ops>) -> Response {
    let mut ready = true;
    let mut report = serde_json::Map::new();
    for probe in ops.probes.iter() {
        let started = Instant::now();
        let outcome = match tokio::time::timeout(Duration::from_secs(1), probe.check()).await {
            Ok(Ok(())) => serde_json::json!({
                "ok": true,
                "ms": started.elapsed().as_secs_f64() * 1e3,
            }),
            Ok(Err(e)) => serde_json::json!({ "ok": false, "error": e.to_string() }),
            Err(_) => serde_json::json!({ "ok": false, "error": "no answer within 1 s" }),
        };
        ready &= outcome["ok"] == true;
        report.insert(probe.name().to_owned(), outcome);
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({ "ready": ready, "checks": report })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.connected();
        metrics.connected();
        metrics.disconnected();
        metrics.message_stored(Duration::from_millis(2));
        let text = metrics.render();
        assert!(text.contains("chat_connected_clients 1"), "{text}");
        assert!(text.contains("chat_messages_total 1"), "{text}");
        assert!(text.contains("chat_storage_seconds_count 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
