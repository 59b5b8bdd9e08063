//! The Prometheus metrics, served on the metrics port at `/metrics`.
//!
//! The request metrics carry controller-runtime's names and labels so that dashboards and alerts
//! written for controller-runtime webhooks work unchanged; the `bgppeer_webhook_*` ones add what
//! only this webhook knows (decisions, the serving certificate).
//!
//! The labels of the per-request series are static strings, numbers and booleans, so that
//! counting a request allocates nothing.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use bgppeer_core::admission::{Summary, Webhook};

/// Latency buckets (seconds): Prometheus' default buckets, which controller-runtime uses.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Labels of `controller_runtime_webhook_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    /// The webhook path (`/validate`).
    pub(crate) webhook: &'static str,
    /// The HTTP status code of the answer (`200`).
    pub(crate) code: u16,
}

/// Labels of the per-webhook series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct WebhookLabels {
    /// The webhook path (`/validate`).
    pub(crate) webhook: &'static str,
}

/// Labels of `bgppeer_webhook_admission_decisions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DecisionLabels {
    /// The webhook path (`/validate`).
    pub(crate) webhook: &'static str,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub(crate) operation: &'static str,
    /// `true` or `false`.
    pub(crate) allowed: bool,
    /// `true` or `false`.
    pub(crate) dry_run: bool,
}

/// Labels of `bgppeer_webhook_tls_reloads_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReloadLabels {
    /// `success` or `failure`.
    pub(crate) result: String,
}

/// Labels of `bgppeer_webhook_cluster_checks_skipped_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct SkipLabels {
    /// Why the cluster checks were skipped (`not_synced`, `unreachable`, `api_error`,
    /// `timeout`).
    pub(crate) reason: String,
}

/// Labels of `bgppeer_webhook_reviews_rejected_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RejectLabels {
    /// The limit that was reached: `max_concurrent_reviews` or `max_body_bytes_in_flight`.
    pub(crate) limit: String,
}

/// The `limit` label of a review refused at `--max-concurrent-reviews`.
pub(crate) const LIMIT_CONCURRENT_REVIEWS: &str = "max_concurrent_reviews";
/// The `limit` label of a review refused at `--max-body-bytes-in-flight`.
pub(crate) const LIMIT_BODY_BYTES: &str = "max_body_bytes_in_flight";

/// Every metric of the server, registered in one registry.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<WebhookLabels, Histogram>,
    in_flight: Family<WebhookLabels, Gauge>,
    decisions: Family<DecisionLabels, Counter>,
    cert_not_after: Gauge,
    reloads: Family<ReloadLabels, Counter>,
    cluster_checks_skipped: Family<SkipLabels, Counter>,
    connections: ConnectionMetrics,
    review_slots: Gauge,
    reviews_waiting: Gauge,
    reviews_running: Gauge,
    reviews_rejected: Family<RejectLabels, Counter>,
    panics: Counter,
    audit: AuditMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered; the in-flight gauges and the reload counters
    /// start at 0 so that they exist before the first event.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<WebhookLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(LATENCY_BUCKETS)) as fn() -> Histogram,
        );
        let in_flight = Family::<WebhookLabels, Gauge>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let cert_not_after = Gauge::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        let cluster_checks_skipped = Family::<SkipLabels, Counter>::default();
        let review_slots = Gauge::default();
        let reviews_waiting = Gauge::default();
        let reviews_running = Gauge::default();
        let reviews_rejected = Family::<RejectLabels, Counter>::default();
        let panics = Counter::default();
        registry.register(
            "controller_runtime_webhook_requests",
            "Total number of admission requests by HTTP status code",
            requests.clone(),
        );
        registry.register(
            "controller_runtime_webhook_latency_seconds",
            "Histogram of the latency of processing admission requests",
            latency.clone(),
        );
        registry.register(
            "controller_runtime_webhook_requests_in_flight",
            "Current number of admission requests being served",
            in_flight.clone(),
        );
        registry.register(
            "bgppeer_webhook_admission_decisions",
            "Admission decisions by webhook, operation, outcome and dry run",
            decisions.clone(),
        );
        registry.register(
            "bgppeer_webhook_tls_cert_not_after_seconds",
            "Expiry of the serving certificate in use, as a Unix timestamp",
            cert_not_after.clone(),
        );
        registry.register(
            "bgppeer_webhook_tls_reloads",
            "Attempts to load a changed serving certificate, by result",
            reloads.clone(),
        );
        registry.register(
            "bgppeer_webhook_cluster_checks_skipped",
            "Requests decided without the cluster checks (caches not synced, API server \
             unreachable), by reason",
            cluster_checks_skipped.clone(),
        );
        let connections = ConnectionMetrics::register(&mut registry);
        let audit = AuditMetrics::register(&mut registry);
        registry.register(
            "bgppeer_webhook_max_concurrent_reviews",
            "How many admission decisions may run at once (--max-concurrent-reviews)",
            review_slots.clone(),
        );
        registry.register(
            "bgppeer_webhook_reviews_waiting",
            "Admission requests waiting for a free decision slot",
            reviews_waiting.clone(),
        );
        registry.register(
            "bgppeer_webhook_reviews_running",
            "Decision slots in use: decoding or deciding work running now, including work whose \
             request has already been answered",
            reviews_running.clone(),
        );
        registry.register(
            "bgppeer_webhook_reviews_rejected",
            "Admission requests answered 503 because the webhook stayed at one of its limits \
             (max_concurrent_reviews: no decision slot freed up; max_body_bytes_in_flight: no room \
             for the body) for their whole time budget",
            reviews_rejected.clone(),
        );
        registry.register(
            "bgppeer_webhook_panics",
            "Panics caught while handling a request (each answered with HTTP 500); any is a bug",
            panics.clone(),
        );
        for webhook in Webhook::ALL {
            in_flight.get_or_create(&webhook_labels(webhook)).set(0);
        }
        for limit in [LIMIT_CONCURRENT_REVIEWS, LIMIT_BODY_BYTES] {
            reviews_rejected.get_or_create_owned(&RejectLabels {
                limit: limit.to_owned(),
            });
        }
        for result in ["success", "failure"] {
            reloads.get_or_create_owned(&ReloadLabels {
                result: result.to_owned(),
            });
        }
        Self {
            registry,
            requests,
            latency,
            in_flight,
            decisions,
            cert_not_after,
            reloads,
            cluster_checks_skipped,
            connections,
            review_slots,
            reviews_waiting,
            reviews_running,
            reviews_rejected,
            panics,
            audit,
        }
    }

    /// Records the outcome of a completed periodic audit (`serve --audit-interval`).
    pub(crate) fn observe_audit(&self, invalid_peers: usize, warnings: usize, unix_seconds: i64) {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.audit.invalid_peers.set(count(invalid_peers));
        self.audit.warnings.set(count(warnings));
        self.audit.last_success.set(unix_seconds);
    }

    /// The connection series of one port (`webhook` or `operations`).
    pub(crate) fn port(&self, port: &'static str) -> PortMetrics {
        self.connections.port(port)
    }

    /// Counts a request that started; the returned guard counts it finished when dropped, so an
    /// aborted request (client gone, timeout) never leaves the gauge up.
    pub(crate) fn start_request(&self, webhook: Webhook) -> InFlight {
        let gauge = self.in_flight.get_or_create_owned(&webhook_labels(webhook));
        gauge.inc();
        InFlight { gauge }
    }

    /// Records an answered request: its status code and latency.
    pub(crate) fn observe_request(&self, webhook: Webhook, code: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                webhook: webhook.path(),
                code,
            })
            .inc();
        self.latency
            .get_or_create(&webhook_labels(webhook))
            .observe(seconds);
    }

    /// Records an admission decision.
    pub(crate) fn observe_decision(&self, webhook: Webhook, summary: &Summary) {
        self.decisions
            .get_or_create(&DecisionLabels {
                webhook: webhook.path(),
                operation: summary.operation,
                allowed: summary.allowed,
                dry_run: summary.dry_run,
            })
            .inc();
    }

    /// Records the expiry of the serving certificate now in use.
    pub(crate) fn set_cert_not_after(&self, unix_seconds: i64) {
        self.cert_not_after.set(unix_seconds);
    }

    /// Counts a certificate reload attempt.
    pub(crate) fn observe_reload(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.reloads
            .get_or_create(&ReloadLabels {
                result: result.to_owned(),
            })
            .inc();
    }

    /// Counts a request decided without the cluster checks, by the reason's label.
    pub(crate) fn observe_cluster_checks_skipped(&self, reason: &str) {
        self.cluster_checks_skipped
            .get_or_create(&SkipLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Records how many decisions may run at once.
    pub(crate) fn set_review_slots(&self, limit: usize) {
        self.review_slots
            .set(i64::try_from(limit).unwrap_or(i64::MAX));
    }

    /// Counts a request waiting for a decision slot until the guard is dropped.
    pub(crate) fn review_waiting(&self) -> InFlight {
        self.reviews_waiting.inc();
        InFlight {
            gauge: self.reviews_waiting.clone(),
        }
    }

    /// Counts a decision slot in use until the guard is dropped.
    pub(crate) fn review_running(&self) -> InFlight {
        self.reviews_running.inc();
        InFlight {
            gauge: self.reviews_running.clone(),
        }
    }

    /// Counts a request refused because `limit` ([`LIMIT_CONCURRENT_REVIEWS`] or
    /// [`LIMIT_BODY_BYTES`]) stayed reached for its whole budget.
    pub(crate) fn observe_review_rejected(&self, limit: &str) {
        self.reviews_rejected
            .get_or_create(&RejectLabels {
                limit: limit.to_owned(),
            })
            .inc();
    }

    /// Counts a panic caught while handling a request.
    pub(crate) fn observe_panic(&self) {
        self.panics.inc();
    }

    /// The metrics in the OpenMetrics text format.
    pub(crate) fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

// ---- The periodic audit of the stored BGPPeers (`serve --audit-interval`) ----

/// The gauges of the periodic audit; they stay 0 until an audit completes.
#[derive(Debug, Clone, Default)]
struct AuditMetrics {
    invalid_peers: Gauge,
    warnings: Gauge,
    last_success: Gauge,
}

impl AuditMetrics {
    fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "bgppeer_webhook_audit_invalid_peers",
            "Stored BGPPeers that break a rule, as of the last completed audit \
             (--audit-interval)",
            metrics.invalid_peers.clone(),
        );
        registry.register(
            "bgppeer_webhook_audit_warnings",
            "Warnings about the stored BGPPeers, as of the last completed audit",
            metrics.warnings.clone(),
        );
        registry.register(
            "bgppeer_webhook_audit_last_success_timestamp_seconds",
            "When the last audit of the stored BGPPeers completed, as a Unix timestamp (0: none \
             yet; audits wait for the cluster caches to sync)",
            metrics.last_success.clone(),
        );
        metrics
    }
}

// ---- Connections of both ports (the accept loop in `listener`) ----

/// Labels of `bgppeer_webhook_open_connections`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PortLabels {
    /// `webhook` (the HTTPS port) or `operations` (the metrics port).
    pub(crate) port: String,
}

/// Labels of `bgppeer_webhook_connections_over_limit_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OverLimitLabels {
    /// `webhook` or `operations`.
    pub(crate) port: String,
    /// `evicted` (a silent connection closed to make room) or `refused` (a new connection
    /// closed because every open one had served requests).
    pub(crate) action: String,
}

/// The connection series of both ports.
#[derive(Debug, Clone)]
struct ConnectionMetrics {
    open: Family<PortLabels, Gauge>,
    over_limit: Family<OverLimitLabels, Counter>,
}

impl ConnectionMetrics {
    fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            open: Family::default(),
            over_limit: Family::default(),
        };
        registry.register(
            "bgppeer_webhook_open_connections",
            "Connections open on each port",
            metrics.open.clone(),
        );
        registry.register(
            "bgppeer_webhook_connections_over_limit",
            "Connections closed because a port was at its connection limit, by action",
            metrics.over_limit.clone(),
        );
        for port in ["webhook", "operations"] {
            metrics.port(port);
        }
        metrics
    }

    fn port(&self, port: &'static str) -> PortMetrics {
        let over_limit = |action: &str| {
            self.over_limit.get_or_create_owned(&OverLimitLabels {
                port: port.to_owned(),
                action: action.to_owned(),
            })
        };
        PortMetrics {
            open: self.open.get_or_create_owned(&PortLabels {
                port: port.to_owned(),
            }),
            evicted: over_limit("evicted"),
            refused: over_limit("refused"),
        }
    }
}

/// The connection series of one port, already labelled.
#[derive(Debug, Clone, Default)]
pub(crate) struct PortMetrics {
    /// Connections open now.
    pub(crate) open: Gauge,
    /// Silent connections closed to make room for a new one.
    pub(crate) evicted: Counter,
    /// New connections closed because every open one had served requests.
    pub(crate) refused: Counter,
}

/// Decrements a gauge (requests in flight, reviews waiting or running) when dropped.
#[derive(Debug)]
pub(crate) struct InFlight {
    gauge: Gauge,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

fn webhook_labels(webhook: Webhook) -> WebhookLabels {
    WebhookLabels {
        webhook: webhook.path(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_the_documented_names() {
        let metrics = Metrics::new();
        metrics.observe_request(Webhook::Validate, 200, 0.003);
        metrics.set_cert_not_after(1_800_000_000);
        metrics.observe_cluster_checks_skipped("unreachable");
        let before = metrics.encode().unwrap();
        metrics.observe_audit(2, 5, 1_800_000_001);
        let after = metrics.encode().unwrap();
        for line in [
            "bgppeer_webhook_audit_invalid_peers 2",
            "bgppeer_webhook_audit_warnings 5",
            "bgppeer_webhook_audit_last_success_timestamp_seconds 1800000001",
            "# HELP bgppeer_webhook_audit_invalid_peers Stored BGPPeers that break a rule",
        ] {
            assert!(after.contains(line), "missing {line} in\n{after}");
        }
        metrics.observe_audit(0, 0, 0);
        assert_eq!(metrics.encode().unwrap(), before);
        {
            let _guard = metrics.start_request(Webhook::Mutate);
            let text = metrics.encode().unwrap();
            assert!(
                text.contains(
                    "controller_runtime_webhook_requests_in_flight{webhook=\"/mutate\"} 1"
                ),
                "{text}"
            );
        }
        let text = metrics.encode().unwrap();
        for expected in [
            "controller_runtime_webhook_requests_total{webhook=\"/validate\",code=\"200\"} 1",
            "controller_runtime_webhook_latency_seconds_bucket{le=\"0.005\",webhook=\"/validate\"} 1",
            "controller_runtime_webhook_latency_seconds_count{webhook=\"/validate\"} 1",
            "controller_runtime_webhook_requests_in_flight{webhook=\"/mutate\"} 0",
            "bgppeer_webhook_tls_cert_not_after_seconds 1800000000",
            "bgppeer_webhook_tls_reloads_total{result=\"failure\"} 0",
            "bgppeer_webhook_cluster_checks_skipped_total{reason=\"unreachable\"} 1",
            "bgppeer_webhook_open_connections{port=\"webhook\"} 0",
            "bgppeer_webhook_connections_over_limit_total{port=\"operations\",action=\"evicted\"} 0",
            "bgppeer_webhook_reviews_waiting 0",
            "bgppeer_webhook_reviews_running 0",
            "bgppeer_webhook_reviews_rejected_total{limit=\"max_concurrent_reviews\"} 0",
            "bgppeer_webhook_reviews_rejected_total{limit=\"max_body_bytes_in_flight\"} 0",
            "bgppeer_webhook_panics_total 0",
            "bgppeer_webhook_audit_invalid_peers 0",
            "bgppeer_webhook_audit_last_success_timestamp_seconds 0",
        ] {
            assert!(text.contains(expected), "missing {expected} in\n{text}");
        }
    }
}
