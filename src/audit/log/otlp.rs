//! The durable log's records as OTLP messages, for the forwarder. The same shape as the
//! direct export in [`crate::audit::otel`] (span `{operation} {model}`, child
//! `apply_guardrail` with the `gen_ai.security.*` attributes and one
//! `gen_ai.security.finding` event per class, log record `customs.decision` whose body is
//! the whole event), built from the event JSON as stored, so that a record read back
//! after a restart exports exactly as it would have live. A policy change record
//! becomes the log record `customs.policy_change` (body: the change event) and no span;
//! a stream's end, `customs.stream_end` in its decision's request span; a checkpoint,
//! `customs.audit.checkpoint`.
//!
//! Ids are derived from the decision id, not drawn at random: the trace id is the
//! decision's UUID (or the caller's trace id when the event carries one), the span ids a
//! hash of it. A retried export therefore sends the same ids, and a receiver that keys on
//! them (or on `customs.decision_id` / `customs.audit.seq`) stores each decision once.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::record::{Kind, from_hex};
use super::segment::OwnedRecord;

/// Event name of a decision log record.
pub const DECISION_EVENT_NAME: &str = "customs.decision";
/// Event name of a checkpoint log record.
pub const CHECKPOINT_EVENT_NAME: &str = "customs.audit.checkpoint";
/// Event name of a policy change log record.
pub const POLICY_CHANGE_EVENT_NAME: &str = "customs.policy_change";
/// The log record of a stream's end.
pub const STREAM_END_EVENT_NAME: &str = "customs.stream_end";

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn s(key: &str, value: &str) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.to_owned()))
}

fn i(key: &str, value: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(value))
}

fn b(key: &str, value: bool) -> KeyValue {
    kv(key, any_value::Value::BoolValue(value))
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut at = v;
    for key in path {
        at = &at[*key];
    }
    at.as_str().unwrap_or("")
}

/// Where forwarded records come from: the OTLP resource of every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `service.name`.
    pub service_name: String,
    /// `service.instance.id`: the log's own id ([`super::AuditLog::instance_id`]). Each
    /// log numbers its records from 1, so with several replicas a receiver tells their
    /// records apart, and checks each hash chain, by this id with `customs.audit.seq`.
    pub instance_id: String,
}

fn resource(origin: &Origin) -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            s("service.name", &origin.service_name),
            s("service.instance.id", &origin.instance_id),
        ],
        ..Default::default()
    })
}

fn scope() -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "customs".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    })
}

/// Unix nanoseconds of the decision: the time in its UUIDv7, else now.
fn decision_time_ns(decision_id: &str) -> u64 {
    uuid::Uuid::parse_str(decision_id)
        .ok()
        .and_then(|u| u.get_timestamp())
        .map(|t| {
            let (secs, nanos) = t.to_unix();
            secs * 1_000_000_000 + u64::from(nanos)
        })
        .unwrap_or_else(now_ns)
}

/// Unix nanoseconds of an RFC 3339 time, else now.
fn rfc3339_ns(text: &str) -> u64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos()).ok())
        .unwrap_or_else(now_ns)
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn derived_id(label: &str, decision_id: &str, len: usize) -> Vec<u8> {
    let digest = Sha256::new()
        .chain_update(label.as_bytes())
        .chain_update(decision_id.as_bytes())
        .finalize();
    digest[..len].to_vec()
}

/// The trace id of a decision: the caller's (W3C `traceparent`) when recorded, else the
/// decision UUID's bytes.
fn trace_id(event: &Value, decision_id: &str) -> Vec<u8> {
    if let Some(id) = from_hex::<16>(text(event, &["trace_id"])) {
        return id.to_vec();
    }
    uuid::Uuid::parse_str(decision_id)
        .map(|u| u.as_bytes().to_vec())
        .unwrap_or_else(|_| derived_id("trace:", decision_id, 16))
}

/// The log records of a batch: one per record (decision, policy change, checkpoint).
pub fn logs_request(records: &[OwnedRecord], origin: &Origin) -> ExportLogsServiceRequest {
    let log_records = records.iter().filter_map(log_record).collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(origin),
            scope_logs: vec![ScopeLogs {
                scope: scope(),
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn log_record(record: &OwnedRecord) -> Option<LogRecord> {
    let body = String::from_utf8(record.body.clone()).ok()?;
    let value: Value = serde_json::from_str(&body).ok()?;
    let seq = i64::try_from(record.seq).unwrap_or(i64::MAX);
    let mut log = LogRecord {
        observed_time_unix_nano: now_ns(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body)),
        }),
        ..Default::default()
    };
    match record.kind {
        Kind::Checkpoint => {
            log.event_name = CHECKPOINT_EVENT_NAME.to_owned();
            log.time_unix_nano = now_ns();
            log.severity_number = SeverityNumber::Info as i32;
            log.severity_text = "INFO".to_owned();
            log.attributes = vec![
                i("customs.audit.seq", seq),
                i(
                    "customs.audit.covers_seq",
                    value["covers_seq"].as_i64().unwrap_or(0),
                ),
            ];
        }
        Kind::PolicyChange => {
            let outcome = text(&value, &["outcome"]);
            let (severity, severity_text) = match outcome {
                "applied" => (SeverityNumber::Info, "INFO"),
                _ => (SeverityNumber::Warn, "WARN"),
            };
            log.event_name = POLICY_CHANGE_EVENT_NAME.to_owned();
            log.time_unix_nano = rfc3339_ns(text(&value, &["timestamp"]));
            log.severity_number = severity as i32;
            log.severity_text = severity_text.to_owned();
            log.attributes = vec![
                i("customs.audit.seq", seq),
                s("customs.policy.outcome", outcome),
                s("customs.policy.set", text(&value, &["set"])),
                s("customs.policy.trigger", text(&value, &["trigger"])),
                s(
                    "customs.policy.previous_version",
                    text(&value, &["previous_version"]),
                ),
                s("customs.policy.version", text(&value, &["version"])),
            ];
            for (field, key) in [
                ("candidate_version", "customs.policy.candidate_version"),
                ("commit", "customs.policy.commit"),
            ] {
                let value = text(&value, &[field]);
                if !value.is_empty() {
                    log.attributes.push(s(key, value));
                }
            }
        }
        Kind::StreamEnd => {
            let decision_id = text(&value, &["decision_id"]);
            let outcome = text(&value, &["outcome"]);
            let (severity, severity_text) = match outcome {
                "completed" => (SeverityNumber::Info, "INFO"),
                _ => (SeverityNumber::Warn, "WARN"),
            };
            log.event_name = STREAM_END_EVENT_NAME.to_owned();
            log.time_unix_nano = rfc3339_ns(text(&value, &["timestamp"]));
            log.severity_number = severity as i32;
            log.severity_text = severity_text.to_owned();
            // In the decision's request span, so a trace view shows both.
            log.trace_id = trace_id(&value, decision_id);
            log.span_id = derived_id("span:", decision_id, 8);
            log.attributes = vec![
                i("customs.audit.seq", seq),
                s("customs.decision_id", decision_id),
                s("customs.stream.outcome", outcome),
            ];
            for (field, key) in [
                ("input_tokens", "gen_ai.usage.input_tokens"),
                ("output_tokens", "gen_ai.usage.output_tokens"),
            ] {
                if let Some(n) = value["usage"][field].as_i64() {
                    log.attributes.push(i(key, n));
                }
            }
        }
        Kind::Event => {
            let decision_id = text(&value, &["decision_id"]);
            let outcome = text(&value, &["outcome"]);
            let (severity, severity_text) = match outcome {
                "allow" | "modify" => (SeverityNumber::Info, "INFO"),
                "error" => (SeverityNumber::Error, "ERROR"),
                _ => (SeverityNumber::Warn, "WARN"),
            };
            log.event_name = DECISION_EVENT_NAME.to_owned();
            log.time_unix_nano = decision_time_ns(decision_id);
            log.severity_number = severity as i32;
            log.severity_text = severity_text.to_owned();
            log.trace_id = trace_id(&value, decision_id);
            log.span_id = derived_id("span:", decision_id, 8);
            log.attributes = vec![
                s("customs.decision_id", decision_id),
                s("customs.outcome", outcome),
                i("customs.audit.seq", seq),
            ];
        }
    }
    Some(log)
}

/// The spans of a batch: two per event (request and `apply_guardrail`).
pub fn traces_request(records: &[OwnedRecord], origin: &Origin) -> ExportTraceServiceRequest {
    let spans = records
        .iter()
        .filter(|r| r.kind == Kind::Event)
        .filter_map(|r| {
            serde_json::from_slice::<Value>(&r.body)
                .ok()
                .map(|v| (r.seq, v))
        })
        .flat_map(|(seq, event)| decision_spans(seq, &event))
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(origin),
            scope_spans: vec![ScopeSpans {
                scope: scope(),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn decision_spans(seq: u64, event: &Value) -> [Span; 2] {
    let decision_id = text(event, &["decision_id"]);
    let operation = match text(event, &["operation"]) {
        "chat" => "chat",
        "responses" => "chat",
        "embeddings" => "embeddings",
        _ => "unknown",
    };
    let model = match text(event, &["requested_model"]) {
        "" => "unknown",
        m => m,
    };
    let start = decision_time_ns(decision_id);
    let total_us: u64 = event["phase_timings_us"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let end = start + total_us * 1_000;
    let trace_id = trace_id(event, decision_id);
    let request_span_id = derived_id("span:", decision_id, 8);
    let parent_span_id = from_hex::<8>(text(event, &["parent_span_id"]))
        .map(|id| id.to_vec())
        .unwrap_or_default();

    let mut attributes = vec![
        s("gen_ai.operation.name", operation),
        s("gen_ai.request.model", model),
        s("customs.decision_id", decision_id),
        s("customs.outcome", text(event, &["outcome"])),
        i("customs.audit.seq", i64::try_from(seq).unwrap_or(i64::MAX)),
        i(
            "http.response.status_code",
            event["status"].as_i64().unwrap_or(0),
        ),
    ];
    let surface = text(event, &["surface"]);
    if !surface.is_empty() {
        attributes.push(s("customs.surface", surface));
    }
    for (key, name) in [
        ("input_tokens", "gen_ai.usage.input_tokens"),
        ("output_tokens", "gen_ai.usage.output_tokens"),
    ] {
        if let Some(n) = event["usage"][key].as_i64() {
            attributes.push(i(name, n));
        }
    }
    let provider = text(event, &["deployment", "provider"]);
    if !provider.is_empty() {
        attributes.push(s("gen_ai.provider.name", provider));
        attributes.push(s(
            "customs.deployment.id",
            text(event, &["deployment", "id"]),
        ));
        attributes.push(s(
            "customs.deployment.region",
            text(event, &["deployment", "region"]),
        ));
        attributes.push(s(
            "customs.deployment.jurisdiction",
            text(event, &["deployment", "jurisdiction"]),
        ));
    }
    if event["principal"].is_object() {
        attributes.push(s("enduser.id", text(event, &["principal", "id"])));
        attributes.push(s("customs.tenant", text(event, &["principal", "tenant"])));
    }
    let request = Span {
        trace_id: trace_id.clone(),
        span_id: request_span_id.clone(),
        parent_span_id,
        name: format!("{operation} {model}"),
        kind: span::SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        ..Default::default()
    };

    let outcome = text(event, &["outcome"]);
    let decision_type = match outcome {
        "allow" => "allow",
        "modify" => "modify",
        _ => "deny",
    };
    let policy_ids = event["policy_ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let redactions = event["redactions"].as_u64().unwrap_or(0);
    let findings = event["classes"]
        .as_array()
        .map(|classes| {
            classes
                .iter()
                .map(|c| {
                    let mut attributes = vec![
                        s("gen_ai.security.finding.class", text(c, &["class"])),
                        i(
                            "gen_ai.security.finding.count",
                            c["count"].as_i64().unwrap_or(0),
                        ),
                        s("gen_ai.security.finding.severity", text(c, &["severity"])),
                        s("customs.finding.action", text(c, &["action"])),
                    ];
                    if let Some(strategy) = c["strategy"].as_str() {
                        attributes.push(s("customs.finding.strategy", strategy));
                    }
                    span::Event {
                        time_unix_nano: start,
                        name: "gen_ai.security.finding".to_owned(),
                        attributes,
                        ..Default::default()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let guardrail = Span {
        trace_id,
        span_id: derived_id("guardrail:", decision_id, 8),
        parent_span_id: request_span_id,
        name: "apply_guardrail".to_owned(),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: vec![
            s("gen_ai.security.decision.type", decision_type),
            s("gen_ai.security.target.type", "llm_input"),
            s("gen_ai.security.policy.id", &policy_ids),
            s(
                "gen_ai.security.policy.version",
                text(event, &["policy_version"]),
            ),
            b("gen_ai.security.content.redacted", redactions > 0),
        ],
        events: findings,
        ..Default::default()
    };
    [request, guardrail]
}

#[cfg(test)]
mod tests {
    fn origin() -> Origin {
        Origin {
            service_name: "svc".to_owned(),
            instance_id: "0b8e6c2a-5d1f-4f3e-9a7b-2c4d6e8f0a1b".to_owned(),
        }
    }

    #[test]
    fn every_message_names_the_service_and_the_log() {
        let records = [OwnedRecord {
            seq: 1,
            kind: Kind::Checkpoint,
            body: br#"{"covers_seq":0}"#.to_vec(),
        }];
        let logs = logs_request(&records, &origin());
        let traces = traces_request(&records, &origin());
        for resource in [
            &logs.resource_logs[0].resource,
            &traces.resource_spans[0].resource,
        ] {
            let attributes = &resource.as_ref().unwrap().attributes;
            let value = |key: &str| {
                attributes
                    .iter()
                    .find(|kv| kv.key == key)
                    .and_then(|kv| kv.value.clone())
                    .and_then(|v| v.value)
            };
            assert_eq!(
                value("service.name"),
                Some(any_value::Value::StringValue("svc".into()))
            );
            assert_eq!(
                value("service.instance.id"),
                Some(any_value::Value::StringValue(origin().instance_id))
            );
        }
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn a_policy_change_becomes_one_log_record_and_no_span() {
        let change = json!({"event": "policy_change", "timestamp": "2026-11-26T08:00:00Z",
            "outcome": "rejected", "set": "enforced", "trigger": "sighup", "origin": "/p",
            "previous_version": "sha256:a", "version": "sha256:a", "candidate_version": "sha256:b",
            "commit": null, "errors": ["x.cedar:1:1: bad"]});
        let records = [OwnedRecord {
            seq: 9,
            kind: Kind::PolicyChange,
            body: serde_json::to_vec(&change).unwrap(),
        }];
        let logs = logs_request(&records, &origin());
        let log = &logs.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(log.event_name, POLICY_CHANGE_EVENT_NAME);
        assert_eq!(log.severity_text, "WARN");
        assert_eq!(log.time_unix_nano, 1_795_680_000_000_000_000);
        let attribute = |key: &str| {
            log.attributes
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.clone())
                .and_then(|v| v.value)
        };
        assert_eq!(
            attribute("customs.audit.seq"),
            Some(any_value::Value::IntValue(9))
        );
        assert_eq!(
            attribute("customs.policy.candidate_version"),
            Some(any_value::Value::StringValue("sha256:b".into()))
        );
        assert_eq!(attribute("customs.policy.commit"), None);
        let traces = traces_request(&records, &origin());
        assert!(traces.resource_spans[0].scope_spans[0].spans.is_empty());
    }

    #[test]
    fn a_stream_end_is_a_log_record_in_its_decisions_request_span() {
        let decision_id = "01936f6e-8a40-7cc1-9d3e-5f2b0a1c4d5e";
        let decision = json!({"decision_id": decision_id, "timestamp": "2026-11-26T08:00:00Z",
            "outcome": "allow", "requested_model": "m", "classes": [], "phase_timings_us": {}});
        let end = json!({"event": "stream_end", "timestamp": "2026-11-26T08:00:01Z",
            "decision_id": decision_id, "trace_id": null, "outcome": "client_gone",
            "usage": {"input_tokens": 7, "output_tokens": null}});
        let records = [
            OwnedRecord {
                seq: 1,
                kind: Kind::Event,
                body: serde_json::to_vec(&decision).unwrap(),
            },
            OwnedRecord {
                seq: 2,
                kind: Kind::StreamEnd,
                body: serde_json::to_vec(&end).unwrap(),
            },
        ];
        let logs = logs_request(&records, &origin());
        let logs = &logs.resource_logs[0].scope_logs[0].log_records;
        let log = logs
            .iter()
            .find(|l| l.event_name == STREAM_END_EVENT_NAME)
            .expect("a customs.stream_end record");
        assert_eq!(log.severity_text, "WARN", "a stream cut short is a warning");
        let attribute = |key: &str| {
            log.attributes
                .iter()
                .find(|kv| kv.key == key)
                .and_then(|kv| kv.value.clone())
                .and_then(|v| v.value)
        };
        assert_eq!(
            attribute("customs.stream.outcome"),
            Some(any_value::Value::StringValue("client_gone".into()))
        );
        assert_eq!(
            attribute("gen_ai.usage.input_tokens"),
            Some(any_value::Value::IntValue(7))
        );
        assert_eq!(attribute("gen_ai.usage.output_tokens"), None);
        let traces = traces_request(&records, &origin());
        let spans = &traces.resource_spans[0].scope_spans[0].spans;
        let request = spans
            .iter()
            .find(|s| s.parent_span_id.is_empty())
            .expect("the decision's request span");
        assert_eq!(spans.len(), 2, "the stream end adds no span");
        assert_eq!(log.trace_id, request.trace_id);
        assert_eq!(log.span_id, request.span_id);
    }

    fn record(seq: u64, event: &Value) -> OwnedRecord {
        OwnedRecord {
            seq,
            kind: Kind::Event,
            body: serde_json::to_vec(event).unwrap(),
        }
    }

    #[test]
    fn an_event_becomes_two_spans_and_a_log_record_with_stable_ids() {
        let id = uuid::Uuid::now_v7().to_string();
        let event = json!({"decision_id": id, "outcome": "modify", "status": 200,
            "operation": "chat", "requested_model": "gpt-4o", "policy_ids": ["a", "b"],
            "redactions": 1, "classes": [{"class": "PII.EMAIL", "count": 1, "severity": "medium", "action": "redacted"}],
            "phase_timings_us": {"inspect": 5}});
        let records = [record(3, &event)];
        let logs = logs_request(&records, &origin());
        let log = &logs.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(log.event_name, DECISION_EVENT_NAME);
        let traces = traces_request(&records, &origin());
        let spans = &traces.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans[0].name, "chat gpt-4o");
        assert_eq!(spans[1].name, "apply_guardrail");
        assert_eq!(spans[1].parent_span_id, spans[0].span_id);
        assert_eq!(spans[1].events[0].name, "gen_ai.security.finding");
        assert_eq!(log.span_id, spans[0].span_id);
        assert_eq!(log.trace_id, uuid::Uuid::parse_str(&id).unwrap().as_bytes());
        // Exported again (a retry): the same ids.
        let again = traces_request(&records, &origin());
        assert_eq!(
            again.resource_spans[0].scope_spans[0].spans[0].span_id,
            spans[0].span_id
        );
    }

    /// The event name of the log record each kind of record becomes.
    fn event_names() -> Vec<String> {
        // A kind added later has no body here until it is given one.
        let body = |kind: Kind| match kind {
            Kind::Event => json!({"decision_id": "01936f6e-8a40-7cc1-9d3e-5f2b0a1c4d5e",
                "timestamp": "2026-11-26T08:00:00Z", "outcome": "allow"}),
            Kind::PolicyChange => json!({"event": "policy_change",
                "timestamp": "2026-11-26T08:00:00Z", "outcome": "applied"}),
            Kind::StreamEnd => json!({"event": "stream_end",
                "timestamp": "2026-11-26T08:00:01Z",
                "decision_id": "01936f6e-8a40-7cc1-9d3e-5f2b0a1c4d5e", "outcome": "completed"}),
            Kind::Checkpoint => json!({"covers_seq": 3}),
        };
        [
            Kind::Event,
            Kind::PolicyChange,
            Kind::StreamEnd,
            Kind::Checkpoint,
        ]
        .into_iter()
        .zip(1..)
        .map(|(kind, seq)| {
            let records = [OwnedRecord {
                seq,
                kind,
                body: serde_json::to_vec(&body(kind)).unwrap(),
            }];
            let logs = logs_request(&records, &origin());
            logs.resource_logs[0].scope_logs[0].log_records[0]
                .event_name
                .clone()
        })
        .collect()
    }

    /// The quoted strings of `text`.
    fn quoted(text: &str) -> Vec<&str> {
        text.split('"').skip(1).step_by(2).collect()
    }

    #[test]
    fn the_reference_collector_passes_every_record_the_forwarder_sends_on_to_the_siems() {
        let config = include_str!("../../../deploy/otel-collector/config.yaml");
        // The filter drops a record when its condition holds: a chain of
        // `event_name != "…"` joined by `and` keeps exactly the names it lists.
        let lines: Vec<&str> = config.lines().collect();
        let filter = lines
            .iter()
            .position(|l| l.trim_start().starts_with("filter/") && l.trim_end().ends_with(':'))
            .expect("a filter processor");
        let name = lines[filter].trim().trim_end_matches(':');
        let condition = lines[filter..]
            .iter()
            .find_map(|l| l.trim().strip_prefix("- '"))
            .and_then(|c| c.strip_suffix('\''))
            .expect("the filter's condition");
        let clauses: Vec<&str> = condition.split(" and ").collect();
        assert!(
            clauses.iter().all(|c| c.starts_with("event_name != \"")),
            "{condition}"
        );
        let kept: Vec<&str> = quoted(condition);
        assert_eq!(kept.len(), clauses.len());
        let pipeline = lines
            .iter()
            .find(|l| l.trim_start().starts_with("processors: ["))
            .expect("the pipeline's processors");
        assert!(pipeline.contains(name), "{pipeline} lacks {name}");
        // The Sentinel transformation keeps them too.
        let transform = include_str!("../../../deploy/sentinel/dcr/transform.kql");
        let where_in = transform
            .lines()
            .find(|l| l.starts_with("| where EventName in ("))
            .expect("the transformation's filter");
        let transformed = quoted(where_in);
        for event_name in event_names() {
            assert!(
                kept.contains(&event_name.as_str()),
                "the collector drops {event_name}"
            );
            assert!(
                transformed.contains(&event_name.as_str()),
                "the DCR transformation drops {event_name}"
            );
        }
    }
}
