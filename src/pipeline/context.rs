//! The per-request context: what the phases learn, gathered into the decision event.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::audit::{
    ClassCount, DecisionEvent, DeploymentFacts, Outcome, PrincipalFacts, Refused, ShadowDecision,
};
use crate::error::{Cause, GatewayError};
use crate::identity::Principal;
use crate::policy::{Deployment, Operation, Refusal};
use crate::providers::Api;
use crate::scan::Severity;

/// Everything known about one request so far. Holds no prompt text.
#[derive(Debug)]
pub struct RequestContext {
    pub(crate) decision_id: String,
    timestamp: String,
    phase_started: Instant,
    pub(crate) operation: Operation,
    pub(crate) api: Api,
    /// The API the request left in, when it was translated.
    pub(crate) upstream_api: Option<Api>,
    pub(crate) client_address: Option<String>,
    /// The caller's W3C trace context: (trace id, parent span id), hex.
    pub(crate) trace_parent: Option<(String, String)>,
    pub(crate) timings: BTreeMap<&'static str, u64>,
    pub(crate) principal: Option<PrincipalFacts>,
    pub(crate) requested_model: Option<String>,
    pub(crate) stream: bool,
    pub(crate) deployment: Option<DeploymentFacts>,
    pub(crate) policy_version: Option<String>,
    pub(crate) policy_commit: Option<String>,
    pub(crate) shadow: Option<ShadowDecision>,
    pub(crate) token_estimate: Option<i64>,
    pub(crate) tools_present: bool,
    pub(crate) policy_ids: Vec<String>,
    pub(crate) refused: Vec<Refused>,
    /// class → (count, severity)
    pub(crate) found: BTreeMap<String, (usize, Severity)>,
    pub(crate) disclosed: BTreeSet<String>,
    /// class → the strategy its values were redacted with.
    pub(crate) strategies: BTreeMap<String, &'static str>,
    pub(crate) denied: bool,
    pub(crate) redactions: usize,
    pub(crate) segments: usize,
    pub(crate) prompt_bytes: usize,
    pub(crate) prompt_fingerprint: Option<String>,
    pub(crate) upstream_status: Option<u16>,
    pub(crate) usage: Option<crate::audit::Usage>,
}

impl RequestContext {
    /// A new request: decision id (UUIDv7, time-ordered) and accept time.
    pub fn new(api: Api, client_address: Option<String>) -> RequestContext {
        let timestamp = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        RequestContext {
            decision_id: uuid::Uuid::now_v7().to_string(),
            timestamp,
            phase_started: Instant::now(),
            operation: api.operation(),
            api,
            upstream_api: None,
            client_address,
            trace_parent: None,
            timings: BTreeMap::new(),
            principal: None,
            requested_model: None,
            stream: false,
            deployment: None,
            policy_version: None,
            policy_commit: None,
            shadow: None,
            token_estimate: None,
            tools_present: false,
            policy_ids: Vec::new(),
            refused: Vec::new(),
            found: BTreeMap::new(),
            disclosed: BTreeSet::new(),
            strategies: BTreeMap::new(),
            denied: false,
            redactions: 0,
            segments: 0,
            prompt_bytes: 0,
            prompt_fingerprint: None,
            upstream_status: None,
            usage: None,
        }
    }

    /// The decision id.
    pub fn decision_id(&self) -> &str {
        &self.decision_id
    }

    /// Closes the current phase under `name` and starts the next.
    pub(crate) fn phase_done(&mut self, name: &'static str) {
        let now = Instant::now();
        let micros = now.duration_since(self.phase_started).as_micros();
        *self.timings.entry(name).or_insert(0) += u64::try_from(micros).unwrap_or(u64::MAX);
        self.phase_started = now;
    }

    pub(crate) fn set_principal(&mut self, principal: &Principal) {
        self.principal = Some(PrincipalFacts {
            id: principal.id.clone(),
            kind: format!("{:?}", principal.kind),
            tenant: principal
                .attributes
                .get("tenant")
                .cloned()
                .unwrap_or_default(),
            groups: principal.groups.clone(),
            attributes: principal.attributes.clone(),
        });
    }

    pub(crate) fn set_deployment(&mut self, deployment: &Deployment) {
        self.deployment = Some(DeploymentFacts {
            id: deployment.id.clone(),
            provider: deployment.provider.as_str().to_owned(),
            model: deployment.model.clone(),
            region: deployment.region.clone(),
            jurisdiction: deployment.jurisdiction.clone(),
        });
    }

    pub(crate) fn set_refused(&mut self, refused: &[Refusal]) {
        self.refused = refused
            .iter()
            .map(|r| Refused {
                deployment_id: r.deployment_id.clone(),
                policy_ids: r.forbidden_by.iter().map(|p| p.id.clone()).collect(),
                evaluation_errors: r.errors.len(),
            })
            .collect();
    }

    /// The event for this request, given how it ended.
    pub fn into_event(self, status: u16, error: Option<&GatewayError>) -> DecisionEvent {
        // A request cut short after it was allowed (the caller went away, or Customs
        // shut down): it was, or was being, forwarded, and the outcome says so.
        let left = self.deployment.is_some() && !self.denied;
        let outcome = match error.map(|e| (e.cause(), e.is_cut_short())) {
            None | Some((_, true)) if left && self.redactions > 0 => Outcome::Modify,
            None | Some((_, true)) if left => Outcome::Allow,
            None if self.redactions > 0 => Outcome::Modify,
            None => Outcome::Allow,
            Some((cause, _)) => match cause {
                Cause::Policy => Outcome::Deny,
                Cause::Authentication => Outcome::Unauthenticated,
                Cause::Client => Outcome::Invalid,
                Cause::Upstream | Cause::Internal => Outcome::Error,
            },
        };
        let denied = self.denied;
        let classes = self
            .found
            .iter()
            .map(|(class, (count, severity))| {
                let action = if denied {
                    "refused"
                } else if self.disclosed.contains(class) {
                    "disclosed"
                } else {
                    "redacted"
                };
                ClassCount {
                    class: class.clone(),
                    count: *count,
                    severity: *severity,
                    action,
                    strategy: (action == "redacted")
                        .then(|| self.strategies.get(class).copied())
                        .flatten(),
                }
            })
            .collect();
        DecisionEvent {
            decision_id: self.decision_id,
            timestamp: self.timestamp,
            outcome,
            status,
            code: error.map(|e| e.code().to_owned()),
            operation: Some(self.operation),
            surface: Some(self.api),
            upstream_surface: self.upstream_api,
            requested_model: self.requested_model,
            deployment: self.deployment,
            principal: self.principal,
            policy_version: self.policy_version,
            policy_commit: self.policy_commit,
            shadow: self.shadow,
            token_estimate: self.token_estimate,
            tools_present: self.tools_present,
            policy_ids: self.policy_ids,
            refused: self.refused,
            classes,
            redactions: self.redactions,
            segments: self.segments,
            stream: self.stream,
            prompt_fingerprint: self.prompt_fingerprint,
            client_address: self.client_address,
            trace_id: self.trace_parent.as_ref().map(|(t, _)| t.clone()),
            parent_span_id: self.trace_parent.map(|(_, s)| s),
            upstream_status: self.upstream_status,
            usage: self.usage,
            phase_timings_us: self.timings,
        }
    }
}

/// Reads a W3C `traceparent` header (`00-<trace id>-<parent id>-<flags>`): the trace
/// id and parent span id, lower-case hex, or nothing when the header is malformed or
/// carries the all-zero ids the specification forbids.
pub fn parse_traceparent(value: &str) -> Option<(String, String)> {
    let mut parts = value.trim().split('-');
    let (version, trace, span, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(version, 2) || version.eq_ignore_ascii_case("ff") || !hex(flags, 2) {
        return None;
    }
    if version == "00" && parts.next().is_some() {
        return None;
    }
    if !hex(trace, 32) || !hex(span, 16) {
        return None;
    }
    if trace.bytes().all(|b| b == b'0') || span.bytes().all(|b| b == b'0') {
        return None;
    }
    Some((trace.to_ascii_lowercase(), span.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_strictly() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                "00f067aa0ba902b7".into()
            ))
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad}");
        }
    }
}
