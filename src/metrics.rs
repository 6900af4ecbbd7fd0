//! Prometheus metrics for `GET /metrics`: decisions by outcome, provider and operation;
//! findings by data class; phase latencies; requests in flight and those refused for
//! want of a slot (`[server] max_concurrent_requests`). Labels are names from code and the catalog,
//! never request content.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::audit::DecisionEvent;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    outcome: &'static str,
    provider: String,
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: String,
    action: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: &'static str,
}

/// The registry and its metric families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    findings: Family<ClassLabels, Counter>,
    phase_seconds: Family<PhaseLabels, Histogram>,
    audit_unrecorded: Counter,
    requests_in_flight: Gauge,
    overloaded: Counter,
}

/// One request counted in `customs_requests_in_flight` until dropped.
#[derive(Debug)]
pub struct InFlightRequest(Gauge);

impl Drop for InFlightRequest {
    fn drop(&mut self) {
        self.0.dec();
    }
}

fn phase_histogram() -> Histogram {
    // 10 µs .. ~5 s.
    Histogram::new(exponential_buckets(0.000_01, 2.0, 20))
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("customs");
        let decisions = Family::<DecisionLabels, Counter>::default();
        let findings = Family::<ClassLabels, Counter>::default();
        let phase_seconds = Family::<PhaseLabels, Histogram>::new_with_constructor(
            phase_histogram as fn() -> Histogram,
        );
        registry.register(
            "decisions",
            "Decisions by outcome, provider and operation",
            decisions.clone(),
        );
        registry.register(
            "findings",
            "Values found, by data class and what was done",
            findings.clone(),
        );
        registry.register(
            "phase_seconds",
            "Time spent in each request phase",
            phase_seconds.clone(),
        );
        let audit_unrecorded = Counter::default();
        registry.register(
            "audit_unrecorded",
            "Decision events the durable audit log could not take",
            audit_unrecorded.clone(),
        );
        let requests_in_flight = Gauge::default();
        registry.register(
            "requests_in_flight",
            "Requests being handled (arrival to the answer's head), as counted against [server] max_concurrent_requests",
            requests_in_flight.clone(),
        );
        let overloaded = Counter::default();
        registry.register(
            "overloaded",
            "Requests refused unread because [server] max_concurrent_requests were in flight",
            overloaded.clone(),
        );
        Metrics {
            registry,
            decisions,
            findings,
            phase_seconds,
            audit_unrecorded,
            requests_in_flight,
            overloaded,
        }
    }

    /// Counts one decision event.
    pub fn observe_decision(&self, event: &DecisionEvent) {
        self.decisions
            .get_or_create(&DecisionLabels {
                outcome: event.outcome.as_str(),
                provider: event
                    .deployment
                    .as_ref()
                    .map(|d| d.provider.clone())
                    .unwrap_or_default(),
                operation: event.operation.map_or("", |o| o.action()),
            })
            .inc();
        for class in &event.classes {
            self.findings
                .get_or_create(&ClassLabels {
                    class: class.class.clone(),
                    action: class.action,
                })
                .inc_by(class.count as u64);
        }
        for (phase, micros) in &event.phase_timings_us {
            self.phase_seconds
                .get_or_create(&PhaseLabels { phase })
                .observe(*micros as f64 / 1_000_000.0);
        }
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn request_started(&self) -> InFlightRequest {
        self.requests_in_flight.inc();
        InFlightRequest(self.requests_in_flight.clone())
    }

    /// Counts one request refused for want of a slot.
    pub fn count_overloaded(&self) {
        self.overloaded.inc();
    }

    /// Counts one decision event the durable audit log could not take.
    pub fn count_audit_unrecorded(&self) {
        self.audit_unrecorded.inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
