//! `customs policy diff --replay LOG`: recorded decisions re-evaluated under a candidate
//! policy set, and every decision the candidate would change.
//!
//! The input is decision events (the JSON that the gateway records for every request,
//! which is also the body of the durable audit log's records): one JSON object a
//! line, in one file or in every `*.jsonl`/`*.json`/`*.log` file of a directory (the
//! durable log's own directory included). A line may be the event itself, a durable log
//! record (`{"seq", "kind", …, "body"}`), or a record wrapping it in `payload` (object or
//! JSON text) or `event`. Policy changes and checkpoints (as log records, or as the
//! policy change events `customs audit tail` prints) decide nothing and are ignored. The event carries the inputs of the decision and never prompt text: the
//! caller (id, kind, groups, attributes), the operation, the model asked for, the data
//! classes found, `stream`, `tools_present` and `token_estimate`. Events recorded before
//! those inputs existed (no principal attributes) are counted as not replayable rather
//! than guessed at.
//!
//! A change is one of: allow → deny, deny → allow (the dangerous direction: a reviewer
//! must accept it explicitly), or the same verdict for a different reason (determining
//! policies, deployment, or which classes are redacted).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Bundle;
use super::decide::{DecideInput, Decision, Operation};
use crate::identity::{Principal, PrincipalKind};

/// How many sample decision ids each kind of change keeps.
pub const SAMPLES: usize = 10;

#[derive(Debug, Clone, Deserialize)]
struct RecordedPrincipal {
    id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    attributes: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedDeployment {
    id: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordedClass {
    class: String,
    #[serde(default)]
    action: String,
}

/// The parts of a decision event that replay reads.
#[derive(Debug, Clone, Deserialize)]
struct RecordedDecision {
    decision_id: String,
    outcome: String,
    #[serde(default)]
    operation: Option<Operation>,
    #[serde(default)]
    requested_model: Option<String>,
    #[serde(default)]
    principal: Option<RecordedPrincipal>,
    #[serde(default)]
    policy_ids: Vec<String>,
    #[serde(default)]
    deployment: Option<RecordedDeployment>,
    #[serde(default)]
    classes: Vec<RecordedClass>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    tools_present: Option<bool>,
    #[serde(default)]
    token_estimate: Option<i64>,
}

/// One verdict, recorded or replayed, in comparable terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// `allow`, `deny` or `unknown_model`.
    pub decision: String,
    /// Determining policy ids.
    pub policy_ids: BTreeSet<String>,
    /// Deployment chosen.
    pub deployment: Option<String>,
    /// Classes redacted.
    pub redacted: BTreeSet<String>,
}

impl Verdict {
    fn describe(&self) -> String {
        let mut out = self.decision.clone();
        if let Some(d) = &self.deployment {
            let _ = write!(out, " to {d}");
        }
        if !self.policy_ids.is_empty() {
            let ids: Vec<&str> = self.policy_ids.iter().map(String::as_str).collect();
            let _ = write!(out, " by [{}]", ids.join(", "));
        }
        if !self.redacted.is_empty() {
            let classes: Vec<&str> = self.redacted.iter().map(String::as_str).collect();
            let _ = write!(out, " redacting [{}]", classes.join(", "));
        }
        out
    }
}

/// One changed decision.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The recorded decision id.
    pub decision_id: String,
    /// What was recorded.
    pub recorded: Verdict,
    /// What the candidate decides.
    pub candidate: Verdict,
}

/// Changes of one kind: a count and the first [`SAMPLES`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangeGroup {
    /// How many decisions.
    pub count: usize,
    /// The first few, with their decision ids.
    pub samples: Vec<Change>,
}

impl ChangeGroup {
    fn push(&mut self, change: Change) {
        self.count += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(change);
        }
    }
}

/// The result of a replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Candidate version.
    pub candidate_version: String,
    /// Lines read.
    pub lines: usize,
    /// Decisions re-evaluated.
    pub replayed: usize,
    /// Decisions the candidate decides the same way for the same reasons.
    pub unchanged: usize,
    /// Events without a policy decision (unauthenticated, malformed, errors).
    pub skipped_no_decision: usize,
    /// Decisions whose event lacks the inputs replay needs.
    pub skipped_no_inputs: usize,
    /// Audit records that are not decisions (policy changes, checkpoints): ignored.
    pub ignored: usize,
    /// Lines that are not decision events.
    pub unreadable: usize,
    /// Recorded allow, candidate deny.
    pub allow_to_deny: ChangeGroup,
    /// Recorded deny, candidate allow.
    pub deny_to_allow: ChangeGroup,
    /// Same verdict, different policies, deployment or redactions.
    pub reason_changed: ChangeGroup,
    /// Decisions the candidate could not evaluate (it would refuse them: fail closed).
    pub evaluation_errors: ChangeGroup,
}

impl ReplayReport {
    /// Human-readable text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "replayed {} decisions from {} lines under {}: {} unchanged, {} allow→deny, {} deny→allow, {} reason changed, {} evaluation errors",
            self.replayed,
            self.lines,
            self.candidate_version,
            self.unchanged,
            self.allow_to_deny.count,
            self.deny_to_allow.count,
            self.reason_changed.count,
            self.evaluation_errors.count,
        );
        let _ = writeln!(
            out,
            "skipped: {} without a policy decision, {} without recorded inputs, {} policy changes and checkpoints, {} unreadable lines",
            self.skipped_no_decision, self.skipped_no_inputs, self.ignored, self.unreadable
        );
        for (title, group) in [
            ("deny → allow", &self.deny_to_allow),
            ("allow → deny", &self.allow_to_deny),
            ("reason changed", &self.reason_changed),
            ("evaluation errors", &self.evaluation_errors),
        ] {
            if group.count == 0 {
                continue;
            }
            let _ = writeln!(out, "\n{title}: {}", group.count);
            for change in &group.samples {
                let _ = writeln!(
                    out,
                    "  {}: {}  →  {}",
                    change.decision_id,
                    change.recorded.describe(),
                    change.candidate.describe()
                );
            }
        }
        out
    }
}

/// Reads decision events from a file or a directory of files.
pub fn read_log(path: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let p = entry?.path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if p.is_file() && matches!(ext, "jsonl" | "json" | "log") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned),
        );
    }
    Ok(lines)
}

/// What one input line holds.
enum Line {
    /// A decision event.
    Decision(Box<RecordedDecision>),
    /// An audit record that decides nothing: a policy change or a checkpoint.
    NotADecision,
    /// Neither.
    Unreadable,
}

fn parse_line(line: &str) -> Line {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return Line::Unreadable;
    };
    // A durable log record: its kind says what the body is.
    let value = match (value.get("kind"), value.get("body")) {
        (Some(kind), Some(body)) if value.get("seq").is_some() => {
            if kind != "event" {
                return Line::NotADecision;
            }
            body.clone()
        }
        _ => value,
    };
    if value.get("event").and_then(serde_json::Value::as_str) == Some("policy_change") {
        return Line::NotADecision;
    }
    let event = if value.get("decision_id").is_some() {
        value
    } else {
        let wrapped = match value.get("payload").or_else(|| value.get("event")) {
            Some(serde_json::Value::String(text)) => serde_json::from_str(text).ok(),
            Some(other) => Some(other.clone()),
            None => None,
        };
        match wrapped {
            Some(event) => event,
            None => return Line::Unreadable,
        }
    };
    match serde_json::from_value(event) {
        Ok(decision) => Line::Decision(Box::new(decision)),
        Err(_) => Line::Unreadable,
    }
}

/// Re-evaluates every recorded decision under `candidate`.
pub fn replay(candidate: &Bundle, lines: &[String]) -> ReplayReport {
    let mut report = ReplayReport {
        candidate_version: candidate.version().to_owned(),
        lines: lines.len(),
        ..ReplayReport::default()
    };
    for line in lines {
        let recorded = match parse_line(line) {
            Line::Decision(recorded) => recorded,
            Line::NotADecision => {
                report.ignored += 1;
                continue;
            }
            Line::Unreadable => {
                report.unreadable += 1;
                continue;
            }
        };
        let recorded_decision = match recorded.outcome.as_str() {
            "allow" | "modify" => "allow",
            "deny" => "deny",
            _ => {
                report.skipped_no_decision += 1;
                continue;
            }
        };
        let (Some(principal), Some(operation), Some(model)) = (
            recorded.principal.as_ref(),
            recorded.operation,
            recorded.requested_model.as_deref(),
        ) else {
            report.skipped_no_inputs += 1;
            continue;
        };
        let Some(attributes) = principal.attributes.clone() else {
            report.skipped_no_inputs += 1;
            continue;
        };
        let who = Principal {
            kind: if principal.kind.eq_ignore_ascii_case("service") {
                PrincipalKind::Service
            } else {
                PrincipalKind::User
            },
            id: principal.id.clone(),
            groups: principal.groups.clone(),
            attributes,
        };
        let detected: BTreeSet<Arc<str>> = recorded
            .classes
            .iter()
            .map(|c| Arc::from(c.class.as_str()))
            .collect();
        let before = Verdict {
            decision: recorded_decision.to_owned(),
            policy_ids: recorded.policy_ids.iter().cloned().collect(),
            deployment: recorded.deployment.as_ref().map(|d| d.id.clone()),
            redacted: if recorded_decision == "allow" {
                recorded
                    .classes
                    .iter()
                    .filter(|c| c.action == "redacted")
                    .map(|c| c.class.clone())
                    .collect()
            } else {
                BTreeSet::new()
            },
        };
        report.replayed += 1;
        let decision = candidate.decide(&DecideInput {
            principal: &who,
            operation,
            requested_model: model,
            detected: &detected,
            stream: recorded.stream,
            tools_present: recorded.tools_present.unwrap_or(false),
            token_estimate: recorded.token_estimate.unwrap_or(0),
        });
        let after = match decision {
            Err(e) => {
                report.evaluation_errors.push(Change {
                    decision_id: recorded.decision_id.clone(),
                    recorded: before,
                    candidate: Verdict {
                        decision: format!("error: {e}"),
                        policy_ids: BTreeSet::new(),
                        deployment: None,
                        redacted: BTreeSet::new(),
                    },
                });
                continue;
            }
            Ok(Decision::UnknownModel) => Verdict {
                decision: "unknown_model".to_owned(),
                policy_ids: BTreeSet::new(),
                deployment: None,
                redacted: BTreeSet::new(),
            },
            Ok(Decision::Deny { refused }) => Verdict {
                decision: "deny".to_owned(),
                policy_ids: Decision::deny_policy_ids(&refused).into_iter().collect(),
                deployment: None,
                redacted: BTreeSet::new(),
            },
            Ok(Decision::Allow { route, .. }) => Verdict {
                decision: "allow".to_owned(),
                policy_ids: route.permitted_by.iter().map(|p| p.id.clone()).collect(),
                deployment: Some(route.deployment.id.clone()),
                redacted: route.redacted.iter().map(|c| c.to_string()).collect(),
            },
        };
        let change = Change {
            decision_id: recorded.decision_id.clone(),
            recorded: before.clone(),
            candidate: after.clone(),
        };
        match (before.decision.as_str(), after.decision.as_str()) {
            ("allow", "allow") | ("deny", "deny") => {
                if before == after {
                    report.unchanged += 1;
                } else {
                    report.reason_changed.push(change);
                }
            }
            ("deny", "allow") => report.deny_to_allow.push(change),
            _ => report.allow_to_deny.push(change),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::PolicySource;

    fn event(id: &str, outcome: &str, residency: &str, model: &str, ids: &[&str]) -> String {
        json!({
            "decision_id": id,
            "outcome": outcome,
            "operation": "chat",
            "requested_model": model,
            "principal": {"id": "eva", "kind": "User", "tenant": "", "groups": ["engineering"],
                          "attributes": {"residency": residency, "department": "", "tenant": ""}},
            "policy_ids": ids,
            "deployment": if outcome == "deny" { json!(null) } else { json!({"id": "gpt-4o-openai-us"}) },
            "classes": [],
            "stream": false,
            "tools_present": false,
            "token_estimate": 3,
        })
        .to_string()
    }

    #[test]
    fn reports_flips_in_both_directions_and_skips_what_it_cannot_replay() {
        let source = PolicySource::bundled();
        let without = source.without_policy("residency.eu-stays-in-eu").unwrap();
        let candidate = Bundle::load(&without).unwrap();
        let lines = vec![
            event("d1", "deny", "EU", "gpt-4o-us", &["residency.eu-stays-in-eu"]),
            event("d2", "allow", "US", "gpt-4o-us", &["providers.engineering-openai"]),
            event("d3", "allow", "US", "gpt-4o-us", &["some.other-permit"]),
            json!({"payload": json!({"decision_id": "d4", "outcome": "unauthenticated"}).to_string()})
                .to_string(),
            "not json".to_owned(),
            // Not decisions: a policy change as `audit tail` prints it, and a policy
            // change and a checkpoint as durable log records.
            json!({"event": "policy_change", "outcome": "applied", "version": "sha256:x"}).to_string(),
            json!({"seq": 7, "kind": "policy_change", "prev": "0", "hash": "0",
                   "body": {"event": "policy_change", "outcome": "rejected"}})
            .to_string(),
            json!({"seq": 8, "kind": "checkpoint", "prev": "0", "hash": "0",
                   "body": {"covers_seq": 7}})
            .to_string(),
            // A decision as a durable log record.
            json!({"seq": 9, "kind": "event", "prev": "0", "hash": "0",
                   "body": serde_json::from_str::<serde_json::Value>(
                       &event("d6", "deny", "EU", "gpt-4o-us", &["residency.eu-stays-in-eu"])).unwrap()})
            .to_string(),
            json!({"decision_id": "d5", "outcome": "allow", "operation": "chat", "requested_model": "gpt-4o-us",
                   "principal": {"id": "x", "groups": []}})
            .to_string(),
        ];
        let report = replay(&candidate, &lines);
        assert_eq!(report.replayed, 4);
        assert_eq!(report.deny_to_allow.count, 2);
        assert_eq!(report.deny_to_allow.samples[0].decision_id, "d1");
        assert_eq!(report.deny_to_allow.samples[1].decision_id, "d6");
        assert_eq!(report.ignored, 3);
        assert_eq!(report.unchanged, 1);
        assert_eq!(report.reason_changed.count, 1);
        assert_eq!(report.skipped_no_decision, 1);
        assert_eq!(report.skipped_no_inputs, 1);
        assert_eq!(report.unreadable, 1);
        assert!(report.to_text().contains("d1"));
    }
}
