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
    /// The model name the caller asked for (cut to 128 characters).
    pub requested_model: Option<String>,
    /// The deployment chosen.
    pub deployment: Option<DeploymentFacts>,
    /// The caller, once authenticated.
    pub principal: Option<PrincipalFacts>,
    /// Version of the policy bundle that decided.
    pub policy_version: Option<String>,
    /// Determining policy ids (permits on allow, forbids on deny).
    pub policy_ids: Vec<String>,
    /// Candidate deployments refused, in preference order.
    pub refused: Vec<Refused>,
    /// Data classes found, with counts.
    pub classes: Vec<ClassCount>,
    /// Values replaced by placeholders.
    pub redactions: usize,
    /// Text segments inspected.
    pub segments: usize,
    /// Whether a stream was requested.
    pub stream: bool,
    /// Keyed HMAC of the prompt segments as received.
    pub prompt_fingerprint: Option<String>,
    /// Caller's socket address.
    pub client_address: Option<String>,
    /// Upstream status, when forwarded.
    pub upstream_status: Option<u16>,
    /// Microseconds spent in each phase.
    pub phase_timings_us: BTreeMap<&'static str, u64>,
}
