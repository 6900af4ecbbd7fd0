//! The decision event: what the SIEM reads. Documented field by field in
//! `schemas/decision-event.schema.json`; keep both in step.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::policy::Operation;
use crate::scan::Severity;

/// What became of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Forwarded unchanged.
    Allow,
    /// Forwarded with values redacted.
    Modify,
    /// Refused by policy.
    Deny,
    /// Refused before a decision: unauthenticated.
    Unauthenticated,
    /// Refused before a decision: malformed, too large, unknown model.
    Invalid,
    /// Failed after or instead of a decision: upstream failure, internal error.
    Error,
}

impl Outcome {
    /// The name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Modify => "modify",
            Outcome::Deny => "deny",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
        }
    }

    /// `gen_ai.security.decision.type`: allow | deny | modify.
    pub fn security_decision_type(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Modify => "modify",
            Outcome::Deny | Outcome::Unauthenticated | Outcome::Invalid | Outcome::Error => "deny",
        }
    }
}

/// The verified caller, as far as the SIEM needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalFacts {
    /// Subject id.
    pub id: String,
    /// `User` or `Service`.
    pub kind: String,
    /// Tenant attribute ("" when absent).
    pub tenant: String,
    /// Groups.
    pub groups: Vec<String>,
    /// The mapped attributes the policies read (`residency`, `department`, `tenant`):
    /// a decision input, so `customs policy diff --replay` can re-evaluate it.
    pub attributes: BTreeMap<String, String>,
}

/// The deployment a request was routed to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentFacts {
    /// Catalog id.
    pub id: String,
    /// Provider name.
    pub provider: String,
    /// Upstream model name.
    pub model: String,
    /// Region.
    pub region: String,
    /// Jurisdiction.
    pub jurisdiction: String,
}

/// One data class found in the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassCount {
    /// Dotted class.
    pub class: String,
    /// How many values were found.
    pub count: usize,
    /// Severity of the class.
    pub severity: Severity,
    /// `redacted` or `disclosed` (or `refused` when the request was denied).
    pub action: &'static str,
    /// How a `redacted` class was rewritten (`[redaction]` in the configuration):
    /// `placeholder`, `mask`, `hash`, `fake` or `remove`; `None` otherwise.
    pub strategy: Option<&'static str>,
}

/// A candidate deployment that was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refused {
    /// Deployment id.
    pub deployment_id: String,
    /// Determining forbid ids (empty: no permit applied).
    pub policy_ids: Vec<String>,
    /// Count of evaluation errors.
    pub evaluation_errors: usize,
}

/// What the shadow (candidate) policy set would have decided for the same request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowDecision {
    /// Version of the shadow set.
    pub policy_version: String,
    /// `allow`, `deny`, `unknown_model` or `error`.
    pub decision: String,
    /// Determining policy ids (permits on allow, forbids on deny).
    pub policy_ids: Vec<String>,
    /// Deployment the shadow set would route to.
    pub deployment: Option<String>,
    /// Classes the shadow set would redact.
    pub redacted: Vec<String>,
    /// Whether it differs from the enforced decision (verdict, policies, deployment
    /// or redactions).
    pub differs: bool,
}

/// A policy set change: applied, or rejected with the last good set kept. The audit
/// trail of who-changed-what for the rules themselves (ASIM Audit Event). Documented in
/// `schemas/policy-change-event.schema.json`; keep both in step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyChangeEvent {
    /// Always `policy_change`.
    pub event: &'static str,
    /// RFC 3339 time of the attempt.
    pub timestamp: String,
    /// `applied` or `rejected`.
    pub outcome: &'static str,
    /// `enforced` or `shadow`.
    pub set: &'static str,
    /// What triggered it: `sighup`, `watch`, `startup`.
    pub trigger: String,
    /// The policy directory.
    pub origin: String,
    /// The version in force before.
    pub previous_version: String,
    /// The version in force after (the previous one on a rejection).
    pub version: String,
    /// The content hash of the candidate set (absent when unreadable).
    pub candidate_version: Option<String>,
    /// Git commit of the candidate set, when the directory is a checkout.
    pub commit: Option<String>,
    /// Errors of a rejected set, `file:line:column: message`.
    pub errors: Vec<String>,
}

/// How a streamed answer ended, recorded after its last byte: the decision event is
/// durable before the first byte leaves, so what only the end of a stream knows (the
/// usage the provider reported, whether the caller got all of it) is a record of its
/// own, joined to its decision by `decision_id`. Documented in
/// `schemas/stream-end-event.schema.json`; keep both in step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEndEvent {
    /// Always `stream_end`.
    pub event: &'static str,
    /// RFC 3339 time the stream ended.
    pub timestamp: String,
    /// The decision this stream answered.
    pub decision_id: String,
    /// The caller's W3C trace id, as in the decision event (absent when none was sent).
    pub trace_id: Option<String>,
    /// How it ended.
    pub outcome: StreamOutcome,
    /// Tokens the provider reported in the stream (absent when it reported none).
    pub usage: Usage,
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamOutcome {
    /// The provider finished it and the caller received all of it.
    Completed,
    /// The provider's stream broke off or could not be decoded; the caller got an error.
    UpstreamError,
    /// The caller went away before the end.
    ClientGone,
    /// Customs shut down and broke the stream off before the end (the grace period for
    /// requests in flight was over); the caller got an error.
    ServerShutdown,
}

impl StreamOutcome {
    /// The name in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamOutcome::Completed => "completed",
            StreamOutcome::UpstreamError => "upstream_error",
            StreamOutcome::ClientGone => "client_gone",
            StreamOutcome::ServerShutdown => "server_shutdown",
        }
    }
}

/// Tokens as the provider reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt (input) tokens.
    pub input_tokens: Option<u64>,
    /// Completion (output) tokens.
    pub output_tokens: Option<u64>,
}

/// One request's decision. No prompt text, no finding value, no token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionEvent {
    /// Unique id, also returned to the caller in `x-customs-decision-id`.
    pub decision_id: String,
    /// RFC 3339 time the request was accepted.
    pub timestamp: String,
    /// What became of the request.
    pub outcome: Outcome,
    /// HTTP status returned to the caller (for streams: the status of the head).
    pub status: u16,
    /// Error or deny code, when there is one.
    pub code: Option<String>,
    /// API operation, once the route is known.
    pub operation: Option<Operation>,
    /// The wire format the caller spoke (`openai.chat_completions`,
    /// `anthropic.messages`, ...), once the route is known.
    pub surface: Option<crate::providers::Api>,
    /// The wire format the request left in, when Customs translated it (an OpenAI chat
    /// request routed to Anthropic, Bedrock or Gemini).
    pub upstream_surface: Option<crate::providers::Api>,
    /// The model name the caller asked for (cut to 128 characters).
    pub requested_model: Option<String>,
    /// The deployment chosen.
    pub deployment: Option<DeploymentFacts>,
    /// The caller, once authenticated.
    pub principal: Option<PrincipalFacts>,
    /// Version of the policy bundle that decided.
    pub policy_version: Option<String>,
    /// Git commit of the policy directory that decided, when it is a checkout.
    pub policy_commit: Option<String>,
    /// The candidate policy set's decision, when shadow mode is on (never acted on).
    pub shadow: Option<ShadowDecision>,
    /// Rough prompt size in tokens as given to the policies (a decision input).
    pub token_estimate: Option<i64>,
    /// Whether the request carried tools (a decision input).
    pub tools_present: bool,
    /// Determining policy ids (permits on allow, forbids on deny).
    pub policy_ids: Vec<String>,
    /// Candidate deployments refused, in preference order.
    pub refused: Vec<Refused>,
    /// Data classes found, with counts.
    pub classes: Vec<ClassCount>,
    /// Values redacted (replaced by a placeholder, a mask, a hash or a fake, or removed).
    pub redactions: usize,
    /// Text segments inspected.
    pub segments: usize,
    /// Whether a stream was requested.
    pub stream: bool,
    /// Keyed HMAC of the prompt segments as received.
    pub prompt_fingerprint: Option<String>,
    /// Caller's socket address.
    pub client_address: Option<String>,
    /// W3C trace id of the caller's `traceparent` (32 hex digits), when it sent one.
    pub trace_id: Option<String>,
    /// The caller's span id from `traceparent` (16 hex digits): the parent of the
    /// request span.
    pub parent_span_id: Option<String>,
    /// Upstream status, when forwarded.
    pub upstream_status: Option<u16>,
    /// Tokens the provider reported, for answers read whole (a stream's usage is in its
    /// `customs.stream_end` record).
    pub usage: Option<Usage>,
    /// Microseconds spent in each phase.
    pub phase_timings_us: BTreeMap<&'static str, u64>,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The documented schema and the emitted event must name the same fields.
    #[test]
    fn schema_documents_every_field() {
        let schema: Value =
            serde_json::from_str(include_str!("../../schemas/decision-event.schema.json")).unwrap();
        let mut documented: Vec<&String> =
            schema["properties"].as_object().unwrap().keys().collect();
        let event = DecisionEvent {
            decision_id: "d".into(),
            timestamp: "t".into(),
            outcome: Outcome::Allow,
            status: 200,
            code: None,
            operation: None,
            surface: None,
            upstream_surface: None,
            requested_model: None,
            deployment: None,
            principal: None,
            policy_version: None,
            policy_commit: None,
            shadow: None,
            token_estimate: None,
            tools_present: false,
            policy_ids: Vec::new(),
            refused: Vec::new(),
            classes: Vec::new(),
            redactions: 0,
            segments: 0,
            stream: false,
            prompt_fingerprint: None,
            client_address: None,
            trace_id: None,
            parent_span_id: None,
            upstream_status: None,
            usage: None,
            phase_timings_us: BTreeMap::new(),
        };
        let emitted = serde_json::to_value(&event).unwrap();
        let mut emitted: Vec<&String> = emitted.as_object().unwrap().keys().collect();
        documented.sort();
        emitted.sort();
        assert_eq!(documented, emitted);
        for required in schema["required"].as_array().unwrap() {
            assert!(emitted.iter().any(|k| *k == required.as_str().unwrap()));
        }
        // And each class entry, with its strategy among the documented names.
        let item = &schema["properties"]["classes"]["items"]["properties"];
        let mut documented: Vec<&String> = item.as_object().unwrap().keys().collect();
        let class = serde_json::to_value(ClassCount {
            class: "PCI.CARD_NUMBER".into(),
            count: 1,
            severity: Severity::High,
            action: "redacted",
            strategy: Some("mask"),
        })
        .unwrap();
        let mut emitted: Vec<&String> = class.as_object().unwrap().keys().collect();
        documented.sort();
        emitted.sort();
        assert_eq!(documented, emitted);
        let strategies = item["strategy"]["enum"].as_array().unwrap();
        for name in ["placeholder", "mask", "hash", "fake", "remove"] {
            assert!(strategies.contains(&Value::from(name)), "{name}");
        }
    }

    /// The same for the policy change event, which shares the durable log.
    #[test]
    fn policy_change_schema_documents_every_field() {
        let schema: Value = serde_json::from_str(include_str!(
            "../../schemas/policy-change-event.schema.json"
        ))
        .unwrap();
        let mut documented: Vec<&String> =
            schema["properties"].as_object().unwrap().keys().collect();
        let change = PolicyChangeEvent {
            event: "policy_change",
            timestamp: "t".into(),
            outcome: "applied",
            set: "enforced",
            trigger: "sighup".into(),
            origin: "policies".into(),
            previous_version: "a".into(),
            version: "b".into(),
            candidate_version: None,
            commit: None,
            errors: Vec::new(),
        };
        let emitted = serde_json::to_value(&change).unwrap();
        let mut emitted: Vec<&String> = emitted.as_object().unwrap().keys().collect();
        documented.sort();
        emitted.sort();
        assert_eq!(documented, emitted);
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(
            required.len(),
            emitted.len(),
            "every field is always written"
        );
    }

    /// The same for the stream end event.
    #[test]
    fn stream_end_schema_documents_every_field() {
        let schema: Value =
            serde_json::from_str(include_str!("../../schemas/stream-end-event.schema.json"))
                .unwrap();
        let end = StreamEndEvent {
            event: "stream_end",
            timestamp: "t".into(),
            decision_id: "d".into(),
            trace_id: None,
            outcome: StreamOutcome::ClientGone,
            usage: Usage::default(),
        };
        let emitted = serde_json::to_value(&end).unwrap();
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&schema["properties"]), keys(&emitted));
        assert_eq!(
            keys(&schema["properties"]["usage"]["properties"]),
            keys(&emitted["usage"])
        );
        assert_eq!(
            schema["required"].as_array().unwrap().len(),
            keys(&emitted).len()
        );
        let outcomes = schema["properties"]["outcome"]["enum"].as_array().unwrap();
        let all = [
            StreamOutcome::Completed,
            StreamOutcome::UpstreamError,
            StreamOutcome::ClientGone,
            StreamOutcome::ServerShutdown,
        ];
        // A new outcome stops this match compiling: the reminder to add it to `all`.
        for outcome in all {
            match outcome {
                StreamOutcome::Completed
                | StreamOutcome::UpstreamError
                | StreamOutcome::ClientGone
                | StreamOutcome::ServerShutdown => {}
            }
        }
        assert_eq!(outcomes.len(), all.len());
        for outcome in all {
            assert!(outcomes.contains(&Value::from(outcome.as_str())));
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
    }
}
