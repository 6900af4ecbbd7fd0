//! record: one decision event per request, whatever became of it (allowed, redacted,
//! denied, unauthenticated, malformed, upstream failure).
//!
//! The event carries classes, counts, policy ids and keyed fingerprints, never prompt
//! text, finding values or tokens. It goes to every sink the recorder holds: the
//! structured log (tracing, JSON lines on stderr), OpenTelemetry over OTLP when
//! configured ([`otel`]), the Prometheus metrics, and an in-memory list in tests.
//! Recording never fails a request and never blocks it: the log write is a line, the
//! OTLP export is batched on its own thread.

mod event;
pub mod otel;

use std::sync::{Arc, Mutex};

pub use event::{ClassCount, DecisionEvent, DeploymentFacts, Outcome, PrincipalFacts, Refused};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::metrics::Metrics;

/// Keyed fingerprints for correlation without content.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter { key: <hidden> }")
    }
}

impl Fingerprinter {
    /// The key from `CUSTOMS_HMAC_KEY`, or a random per-process key (fingerprints then
    /// correlate within one process lifetime only).
    pub fn from_env() -> (Fingerprinter, bool) {
        match std::env::var("CUSTOMS_HMAC_KEY") {
            Ok(key) if !key.is_empty() => (
                Fingerprinter {
                    key: key.into_bytes(),
                },
                true,
            ),
            _ => {
                let key = [
                    uuid::Uuid::new_v4().into_bytes(),
                    uuid::Uuid::new_v4().into_bytes(),
                ]
                .concat();
                (Fingerprinter { key }, false)
            }
        }
    }

    /// A fingerprinter with a given key.
    pub fn with_key(key: &[u8]) -> Fingerprinter {
        Fingerprinter { key: key.to_vec() }
    }

    /// `hmac-sha256:<first 16 hex>` over the parts, each length-prefixed.
    pub fn fingerprint<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("hmac-sha256:{hex}")
    }
}

/// Sends each decision event to every sink.
#[derive(Debug, Clone)]
pub struct Recorder {
    metrics: Arc<Metrics>,
    otel: Option<Arc<otel::OtelExport>>,
    memory: Option<Arc<Mutex<Vec<DecisionEvent>>>>,
}

impl Recorder {
    /// A recorder over the structured log and metrics, plus OTLP when given.
    pub fn new(metrics: Arc<Metrics>, otel: Option<Arc<otel::OtelExport>>) -> Recorder {
        Recorder {
            metrics,
            otel,
            memory: None,
        }
    }

    /// Also keeps every event in memory (tests, `customs check`).
    pub fn with_memory(mut self) -> (Recorder, Arc<Mutex<Vec<DecisionEvent>>>) {
        let memory = Arc::new(Mutex::new(Vec::new()));
        self.memory = Some(Arc::clone(&memory));
        (self, memory)
    }

    /// Records one event in every sink.
    pub fn record(&self, event: DecisionEvent) {
        self.metrics.observe_decision(&event);
        log_event(&event);
        if let Some(otel) = &self.otel {
            otel.export(&event);
        }
        if let Some(memory) = &self.memory
            && let Ok(mut events) = memory.lock()
        {
            events.push(event);
        }
    }

    /// The OTLP exporter, if any (flushed and shut down at exit).
    pub fn otel(&self) -> Option<&Arc<otel::OtelExport>> {
        self.otel.as_ref()
    }
}

/// The `customs.decision` line of the structured log, flat fields for easy SIEM parsing.
fn log_event(event: &DecisionEvent) {
    let classes = event
        .classes
        .iter()
        .map(|c| format!("{}:{}:{}", c.class, c.count, c.action))
        .collect::<Vec<_>>()
        .join(",");
    let policy_ids = event.policy_ids.join(",");
    let (deployment, provider, region, jurisdiction) = match &event.deployment {
        Some(d) => (
            d.id.as_str(),
            d.provider.as_str(),
            d.region.as_str(),
            d.jurisdiction.as_str(),
        ),
        None => ("", "", "", ""),
    };
    let (principal, tenant) = match &event.principal {
        Some(p) => (p.id.as_str(), p.tenant.as_str()),
        None => ("", ""),
    };
    let timings = event
        .phase_timings_us
        .iter()
        .map(|(phase, us)| format!("{phase}:{us}"))
        .collect::<Vec<_>>()
        .join(",");
    tracing::info!(
        target: "customs::decision",
        event_name = "customs.decision",
        decision_id = %event.decision_id,
        outcome = event.outcome.as_str(),
        status = event.status,
        code = event.code.as_deref().unwrap_or(""),
        operation = event.operation.map_or("", |o| o.action()),
        requested_model = event.requested_model.as_deref().unwrap_or(""),
        deployment,
        provider,
        region,
        jurisdiction,
        principal,
        tenant,
        policy_ids = %policy_ids,
        policy_version = event.policy_version.as_deref().unwrap_or(""),
        classes = %classes,
        redactions = event.redactions,
        segments = event.segments,
        prompt_fingerprint = event.prompt_fingerprint.as_deref().unwrap_or(""),
        client_address = event.client_address.as_deref().unwrap_or(""),
        phase_timings_us = %timings,
        "decision"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_keyed_and_stable() {
        let a = Fingerprinter::with_key(b"k1");
        let b = Fingerprinter::with_key(b"k2");
        assert_eq!(a.fingerprint(["x", "y"]), a.fingerprint(["x", "y"]));
        assert_ne!(a.fingerprint(["x", "y"]), b.fingerprint(["x", "y"]));
        // Length prefixes keep part boundaries: ["xy"] is not ["x", "y"].
        assert_ne!(a.fingerprint(["xy"]), a.fingerprint(["x", "y"]));
        assert!(a.fingerprint(["x"]).starts_with("hmac-sha256:"));
    }
}
