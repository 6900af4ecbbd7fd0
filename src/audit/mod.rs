//! record: one decision event per request, whatever became of it (allowed, redacted,
//! denied, unauthenticated, malformed, upstream failure).
//!
//! The event carries classes, counts, policy ids and keyed fingerprints, never prompt
//! text, finding values or tokens. It goes to every sink the recorder holds: the
//! structured log (tracing, JSON lines on stderr), OpenTelemetry over OTLP when
//! configured ([`otel`]), the Prometheus metrics, and an in-memory list in tests.
//! With the durable log on ([`log`], `[audit] dir`), the event is first appended there
//! and [`Recorder::record`] returns once it is on disk; OTLP then travels from the log
//! through its forwarder instead of the fire-and-forget exporter. If the append fails,
//! `[audit] when_full` decides: `refuse` makes the request fail closed (503), and new
//! requests are refused before they are forwarded; `stop_recording` serves on, with an
//! error line and a metric per unrecorded event. Without the durable log, recording never
//! fails a request: the log write is a line, the OTLP export is batched on its own thread.

mod event;
pub mod log;
pub mod otel;
pub mod otlp_transport;

use std::sync::{Arc, Mutex};

pub use event::{
    ClassCount, DecisionEvent, DeploymentFacts, Outcome, PolicyChangeEvent, PrincipalFacts,
    Refused, ShadowDecision, StreamEndEvent, StreamOutcome, Usage,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::metrics::Metrics;

/// Keyed fingerprints for correlation without content, and the per-tenant keys of the
/// `hash` and `fake` redaction strategies: both from the one secret `CUSTOMS_HMAC_KEY`.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
    /// Whether the key is a configured secret (not a random per-process key).
    keyed: bool,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter { key: <hidden> }")
    }
}

/// The label that separates tenant redaction keys from fingerprints under one secret.
const TENANT_KEY_LABEL: &[u8] = b"customs.redaction.tenant-key.v1";

impl Fingerprinter {
    /// The key from `CUSTOMS_HMAC_KEY`, or a random per-process key (fingerprints then
    /// correlate within one process lifetime only). The flag: whether it was set.
    pub fn from_env() -> (Fingerprinter, bool) {
        match std::env::var("CUSTOMS_HMAC_KEY") {
            Ok(key) if !key.is_empty() => (Fingerprinter::with_key(key.as_bytes()), true),
            _ => (Fingerprinter::random(), false),
        }
    }

    /// A random per-process key: not [`Fingerprinter::is_keyed`].
    pub fn random() -> Fingerprinter {
        let key = [
            uuid::Uuid::new_v4().into_bytes(),
            uuid::Uuid::new_v4().into_bytes(),
        ]
        .concat();
        Fingerprinter { key, keyed: false }
    }

    /// A fingerprinter with a given key (a configured secret).
    pub fn with_key(key: &[u8]) -> Fingerprinter {
        Fingerprinter {
            key: key.to_vec(),
            keyed: true,
        }
    }

    /// Whether the key is a configured secret, stable across restarts and replicas.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// The redaction key of one tenant: HMAC-SHA-256(secret, label ‖ 0 ‖ tenant). The
    /// same in every request, process and replica sharing the secret; different per
    /// tenant; unrelated to fingerprints. Never log it.
    pub fn tenant_key(&self, tenant: &str) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return [0; 32];
        };
        mac.update(TENANT_KEY_LABEL);
        mac.update(&[0]);
        mac.update(tenant.as_bytes());
        mac.finalize().into_bytes().into()
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
    durable: Option<Arc<log::AuditLog>>,
    policy_changes: Arc<Mutex<Vec<PolicyChangeEvent>>>,
}

/// The event could not be made durable and `[audit] when_full = "refuse"`: the request
/// must fail closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("decision event not recorded: {0}")]
pub struct Unrecorded(pub log::AppendError);

impl Recorder {
    /// A recorder over the structured log and metrics, plus OTLP when given.
    pub fn new(metrics: Arc<Metrics>, otel: Option<Arc<otel::OtelExport>>) -> Recorder {
        Recorder {
            metrics,
            otel,
            memory: None,
            durable: None,
            policy_changes: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Also appends every event to the durable log (first, awaiting durability).
    pub fn with_durable_log(mut self, log: Arc<log::AuditLog>) -> Recorder {
        self.durable = Some(log);
        self
    }

    /// The durable log, if on.
    pub fn durable_log(&self) -> Option<&Arc<log::AuditLog>> {
        self.durable.as_ref()
    }

    /// `Some(reason)` when new requests must be refused because the durable log cannot
    /// take their events (`when_full = "refuse"`).
    pub fn refusing(&self) -> Option<log::AppendError> {
        match &self.durable {
            Some(log) if !log.accepting() => Some(log::AppendError::Full),
            _ => None,
        }
    }

    /// Also keeps every event in memory (tests, `customs check`).
    pub fn with_memory(mut self) -> (Recorder, Arc<Mutex<Vec<DecisionEvent>>>) {
        let memory = Arc::new(Mutex::new(Vec::new()));
        self.memory = Some(Arc::clone(&memory));
        (self, memory)
    }

    /// Records one event in every sink: the durable log first (returning once the event
    /// is on disk), then the structured log, metrics, OTLP and memory. `Err` only when
    /// the durable append failed and `when_full = "refuse"`.
    pub async fn record(&self, event: DecisionEvent) -> Result<(), Unrecorded> {
        let mut outcome = Ok(());
        if let Some(durable) = &self.durable
            && let Err(err) = durable.append(&event).await
        {
            self.unrecorded(durable, &event, err);
            if durable.config().when_full == log::WhenFull::Refuse {
                outcome = Err(Unrecorded(err));
            }
        }
        self.publish(event);
        outcome
    }

    /// [`Recorder::record`] without waiting: the durable log is given the event (written
    /// at once in interval mode, queued for the next batch in group mode) and everything
    /// else happens here. For a request dropped before its event was recorded, where
    /// nothing can be awaited, even while the runtime shuts down. Nobody is left to
    /// refuse, so an event the log cannot take is only logged and counted.
    pub fn record_unawaited(&self, event: DecisionEvent) {
        if let Some(durable) = &self.durable {
            durable.append_event_unawaited(
                &event,
                self.on_refused(durable, &event.decision_id, "decision event"),
            );
        }
        self.publish(event);
    }

    /// An event the durable log could not take: counted and logged.
    fn unrecorded(&self, durable: &log::AuditLog, event: &DecisionEvent, err: log::AppendError) {
        unrecorded(
            &self.metrics,
            durable,
            &event.decision_id,
            "decision event",
            err,
        );
    }

    /// [`Recorder::unrecorded`] for a record nobody awaits: called at once or later, from
    /// the log's writer thread, if the log refuses it.
    fn on_refused(
        &self,
        durable: &Arc<log::AuditLog>,
        decision_id: &str,
        what: &'static str,
    ) -> log::OnRefused {
        let (metrics, durable) = (Arc::clone(&self.metrics), Arc::clone(durable));
        let decision_id = decision_id.to_owned();
        Box::new(move |err| unrecorded(&metrics, &durable, &decision_id, what, err))
    }

    /// Everything but the durable log: metrics, the log line, OTLP (unless the log's
    /// forwarder sends it), the in-memory list.
    fn publish(&self, event: DecisionEvent) {
        self.metrics.observe_decision(&event);
        log_event(&event);
        let forwarded = self.durable.as_ref().is_some_and(|d| d.forwarding());
        if let Some(otel) = &self.otel
            && !forwarded
        {
            otel.export(&event);
        }
        if let Some(memory) = &self.memory
            && let Ok(mut events) = memory.lock()
        {
            events.push(event);
        }
    }

    /// Records how a streamed answer ended: with the durable log on, a `stream_end`
    /// record in its hash chain (forwarded as `customs.stream_end`), else the same log
    /// record through the direct OTLP exporter; always the `customs.stream_end` log
    /// line. Never waits: the end of a stream can be noticed where nothing can be
    /// awaited. A record the durable log refuses is logged and counted as unrecorded.
    pub fn record_stream_end(&self, event: StreamEndEvent) {
        if let Some(durable) = &self.durable {
            durable.append_stream_end(
                &event,
                self.on_refused(durable, &event.decision_id, "stream end"),
            );
        }
        tracing::info!(
            target: "customs.stream",
            event_name = "customs.stream_end",
            decision_id = %event.decision_id,
            outcome = event.outcome.as_str(),
            input_tokens = event.usage.input_tokens,
            output_tokens = event.usage.output_tokens,
            "stream ended"
        );
        let forwarded = self.durable.as_ref().is_some_and(|d| d.forwarding());
        if let Some(otel) = &self.otel
            && !forwarded
        {
            otel.export_stream_end(&event);
        }
    }

    /// Records a policy set change (applied or rejected) as an audit event: with the
    /// durable log on, a `policy_change` record in its hash chain (verified, tailed and
    /// forwarded over OTLP as `customs.policy_change` like any record), waiting until it
    /// is durable; the `customs.policy_change` log line (warn on a rejection); and the
    /// most recent ones in memory for `/readyz` and tests.
    ///
    /// Blocks the calling thread while the durable log writes (policy reloads run on the
    /// blocking pool). A change the durable log cannot take is logged as an error and
    /// counted as unrecorded; the change itself stands (it was already applied, or the
    /// set was already refused).
    pub fn record_policy_change(&self, event: PolicyChangeEvent) {
        if let Some(durable) = &self.durable
            && let Err(err) = durable.append_policy_change(&event)
        {
            let unrecorded = durable.count_unrecorded();
            self.metrics.count_audit_unrecorded();
            tracing::error!(
                target: "customs::policy_change",
                outcome = event.outcome,
                set = event.set,
                version = %event.version,
                error = %err,
                unrecorded_total = unrecorded,
                "policy change NOT recorded in the durable audit log"
            );
        }
        let errors = event.errors.join(" | ");
        if event.outcome == "rejected" {
            tracing::warn!(
                target: "customs::policy_change",
                outcome = event.outcome,
                set = event.set,
                trigger = %event.trigger,
                origin = %event.origin,
                previous_version = %event.previous_version,
                version = %event.version,
                candidate_version = event.candidate_version.as_deref().unwrap_or(""),
                commit = event.commit.as_deref().unwrap_or(""),
                errors = %errors,
                "policy set rejected; the last good set keeps serving"
            );
        } else {
            tracing::info!(
                target: "customs::policy_change",
                outcome = event.outcome,
                set = event.set,
                trigger = %event.trigger,
                origin = %event.origin,
                previous_version = %event.previous_version,
                version = %event.version,
                commit = event.commit.as_deref().unwrap_or(""),
                "policy set applied"
            );
        }
        if let Ok(mut changes) = self.policy_changes.lock() {
            if changes.len() >= 64 {
                changes.remove(0);
            }
            changes.push(event);
        }
    }

    /// The most recent policy changes (at most 64), oldest first.
    pub fn policy_changes(&self) -> Vec<PolicyChangeEvent> {
        self.policy_changes
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The OTLP exporter, if any (flushed and shut down at exit).
    pub fn otel(&self) -> Option<&Arc<otel::OtelExport>> {
        self.otel.as_ref()
    }
}

/// A record the durable log refused: counted (its own count and the metric) and logged
/// with its decision id.
fn unrecorded(
    metrics: &Metrics,
    durable: &log::AuditLog,
    decision_id: &str,
    what: &'static str,
    err: log::AppendError,
) {
    let unrecorded = durable.count_unrecorded();
    metrics.count_audit_unrecorded();
    tracing::error!(
        decision_id = %decision_id,
        error = %err,
        unrecorded_total = unrecorded,
        when_full = ?durable.config().when_full,
        "{what} NOT recorded in the durable audit log"
    );
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
        surface = event.surface.map_or("", |s| s.as_str()),
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

    #[test]
    fn tenant_keys_are_stable_per_tenant_and_secret() {
        let a = Fingerprinter::with_key(b"k1");
        assert!(a.is_keyed());
        assert!(!Fingerprinter::random().is_keyed());
        assert_eq!(
            a.tenant_key("acme"),
            Fingerprinter::with_key(b"k1").tenant_key("acme")
        );
        assert_ne!(a.tenant_key("acme"), a.tenant_key("globex"));
        assert_ne!(
            a.tenant_key("acme"),
            Fingerprinter::with_key(b"k2").tenant_key("acme")
        );
        assert!(!format!("{a:?}").contains("k1"));
    }
}
