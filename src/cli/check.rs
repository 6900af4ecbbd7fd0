//! `customs check`: explains offline what Customs would decide for one prompt, one
//! caller and one model: the classes found, each `disclose` answer, the `invoke` answer
//! per candidate deployment with the determining policies and their annotations, any
//! evaluation errors, and the deployment chosen. JSON (default) or text. Nothing is
//! sent anywhere; the prompt text is never printed.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::policy::GatewayView;
use crate::identity::{ClaimsConfig, Principal};
use crate::policy::{Bundle, DecideInput, Decision, Operation};

/// Arguments of `customs check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The model (alias or deployment id) the caller asks for.
    #[arg(long)]
    pub model: String,
    /// The caller's claims as JSON, as its token would carry them:
    /// `{"sub":"alice","groups":["eng"],"residency":"EU"}` under the default mapping.
    #[arg(long, default_value = "{}")]
    pub claims: String,
    /// The gateway's configuration: its `[auth.claims]` mapping turns `--claims` into
    /// the caller, and its `[policy] dir` is used when `--policies` is absent.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The operation: chat, responses or embeddings.
    #[arg(long, default_value = "chat")]
    pub operation: String,
    /// Policy directory (default: the configuration's, else the bundled policies).
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// Data classes found, comma-separated, instead of scanning a prompt.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Output format: json or text.
    #[arg(long, default_value = "json")]
    pub format: String,
    /// File holding the prompt text; standard input when absent.
    pub file: Option<PathBuf>,
}

/// Runs `customs check`. Exit 0 when allowed, 1 when denied.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let view = GatewayView::load(args.policies.as_deref(), args.config.as_deref())?;
    let bundle = Bundle::load(&view.source)?;
    let text = match (&args.file, &args.classes) {
        (None, Some(_)) => String::new(),
        (Some(path), _) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };
    if !matches!(args.format.as_str(), "json" | "text") {
        anyhow::bail!("unknown format `{}` (json, text)", args.format);
    }
    let claims: Value =
        serde_json::from_str(&args.claims).context("--claims must be a JSON object")?;
    let principal = principal_from_claims(&claims, &view.claims)?;
    let operation = match args.operation.as_str() {
        "chat" => Operation::Chat,
        "responses" => Operation::Responses,
        "embeddings" => Operation::Embeddings,
        other => anyhow::bail!("unknown operation `{other}` (chat, responses, embeddings)"),
    };
    let findings = bundle.scanner().scan(&text)?;
    let mut detected: BTreeSet<Arc<str>> = findings.iter().map(|f| Arc::clone(&f.class)).collect();
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for finding in &findings {
        *counts.entry(finding.class.to_string()).or_default() += 1;
    }
    for class in args.classes.iter().flatten() {
        detected.insert(Arc::from(class.as_str()));
        *counts.entry(class.clone()).or_default() += 1;
    }
    let decision = bundle.decide(&DecideInput {
        principal: &principal,
        operation,
        requested_model: &args.model,
        detected: &detected,
        stream: false,
        tools_present: false,
        token_estimate: i64::try_from(text.len().div_ceil(4)).unwrap_or(i64::MAX),
    })?;
    let (verdict, report) = match &decision {
        Decision::UnknownModel => ("unknown_model", json!({})),
        Decision::Deny { refused } => (
            "deny",
            json!({"refused": refused, "policy_ids": Decision::deny_policy_ids(refused)}),
        ),
        Decision::Allow { route, refused } => (
            "allow",
            json!({
                "deployment": route.deployment.id,
                "provider": route.deployment.provider.as_str(),
                "jurisdiction": route.deployment.jurisdiction,
                "disclosed": route.disclosed.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "redacted": route.redacted.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "strategies": strategies(&bundle, &view.redaction, &route.redacted),
                "permitted_by": route.permitted_by,
                "refused_first": refused,
            }),
        ),
    };
    let out = json!({
        "decision": verdict,
        "model": args.model,
        "policy_version": bundle.version(),
        "policy_commit": bundle.commit(),
        "caller": {"id": principal.id, "groups": principal.groups, "attributes": principal.attributes},
        "operation": operation.action(),
        "classes": counts,
        "candidates": explain_candidates(&bundle, &args.model, &decision),
        "detail": report,
    });
    let mut stdout = std::io::stdout().lock();
    if args.format == "text" {
        std::io::Write::write_all(&mut stdout, explain_text(&out).as_bytes())?;
    } else {
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        std::io::Write::write_all(&mut stdout, b"\n")?;
    }
    Ok(if verdict == "allow" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The `[redaction]` strategy of each redacted class (`--config`; placeholders without).
fn strategies(
    bundle: &Bundle,
    rules: &crate::scan::strategy::RedactionRules,
    redacted: &BTreeSet<Arc<str>>,
) -> serde_json::Map<String, Value> {
    let known = bundle.scanner().classes();
    redacted
        .iter()
        .map(|class| {
            let entity = known
                .iter()
                .find(|k| k.class == *class)
                .map(|k| Arc::clone(&k.entity))
                .unwrap_or_else(|| Arc::from(""));
            let strategy = crate::scan::strategy::strategy_name(rules.for_class(class, &entity));
            (class.to_string(), Value::from(strategy))
        })
        .collect()
}

/// One entry per candidate deployment in preference order: each `disclose` answer and
/// the `invoke` answer with the determining policies' annotations, and its fate.
fn explain_candidates(bundle: &Bundle, model: &str, decision: &Decision) -> Value {
    let Some(candidates) = bundle.catalog().resolve(model) else {
        return json!([]);
    };
    let annotated = |ids: &[String]| -> Vec<Value> {
        ids.iter()
            .map(|id| {
                let policy = bundle.policy_ref(id);
                let meta = bundle.policy_meta(id);
                json!({
                    "id": policy.id,
                    "effect": meta.map(|m| m.effect),
                    "reason": policy.reason,
                    "severity": policy.severity,
                    "file": meta.map(|m| m.file.clone()),
                    "line": meta.and_then(|m| m.position).map(|p| p.0),
                })
            })
            .collect()
    };
    let disclosures = |answers: &[Arc<crate::policy::Disclosure>]| -> Vec<Value> {
        answers
            .iter()
            .map(|d| {
                json!({
                    "class": d.class,
                    "answer": if d.permitted { "disclose" } else { "redact" },
                    "policies": annotated(&d.policy_ids),
                    "errors": d.errors,
                })
            })
            .collect()
    };
    let (refused, route) = match decision {
        Decision::Allow { route, refused } => (refused.as_slice(), Some(route)),
        Decision::Deny { refused } => (refused.as_slice(), None),
        Decision::UnknownModel => (&[][..], None),
    };
    let mut out = Vec::new();
    for deployment in candidates {
        let base = json!({
            "deployment": deployment.id,
            "provider": deployment.provider.as_str(),
            "region": deployment.region,
            "jurisdiction": deployment.jurisdiction,
            "certifications": deployment.certifications,
            "trains_on_data": deployment.trains_on_data,
            "retention_days": deployment.retention_days,
        });
        let mut entry = base;
        if let Some(refusal) = refused.iter().find(|r| r.deployment_id == deployment.id) {
            let ids: Vec<String> = refusal.forbidden_by.iter().map(|p| p.id.clone()).collect();
            let invoke_errors: Vec<&String> = refusal
                .errors
                .iter()
                .filter(|e| e.starts_with("invoke"))
                .collect();
            let answer = if !invoke_errors.is_empty() {
                "error (refused: fail closed)"
            } else if ids.is_empty() {
                "deny (no permit applies)"
            } else {
                "deny (forbidden)"
            };
            entry["outcome"] = json!("refused");
            entry["disclose"] = json!(disclosures(&refusal.disclosures));
            entry["invoke"] = json!({
                "answer": answer,
                "policies": annotated(&ids),
                "errors": invoke_errors,
            });
        } else if let Some(route) = route.filter(|r| r.deployment.id == deployment.id) {
            let ids: Vec<String> = route.permitted_by.iter().map(|p| p.id.clone()).collect();
            entry["outcome"] = json!("chosen");
            entry["disclose"] = json!(disclosures(&route.disclosures));
            entry["invoke"] = json!({"answer": "allow", "policies": annotated(&ids), "errors": []});
        } else {
            entry["outcome"] = json!("not evaluated (an earlier candidate was chosen)");
        }
        out.push(entry);
    }
    Value::Array(out)
}

/// The JSON explanation as text for a terminal.
fn explain_text(out: &Value) -> String {
    use std::fmt::Write as _;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "decision: {}  (model {}, operation {}, policies {}{})",
        s(&out["decision"]).to_uppercase(),
        s(&out["model"]),
        s(&out["operation"]),
        s(&out["policy_version"]),
        out["policy_commit"]
            .as_str()
            .map(|c| format!(" at {c}"))
            .unwrap_or_default()
    );
    let _ = writeln!(text, "caller: {}", out["caller"]);
    let classes = out["classes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k} x{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "classes found: {}",
        if classes.is_empty() {
            "none".into()
        } else {
            classes
        }
    );
    let policies = |v: &Value| -> String {
        v.as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        format!(
                            "{} {} [{}]: {}",
                            s(&p["effect"]),
                            s(&p["id"]),
                            s(&p["severity"]),
                            s(&p["reason"])
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .join("\n        ")
    };
    for (i, c) in out["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let _ = writeln!(
            text,
            "\ncandidate {}: {} ({}, {}, {}) — {}",
            i + 1,
            s(&c["deployment"]),
            s(&c["provider"]),
            s(&c["region"]),
            s(&c["jurisdiction"]),
            s(&c["outcome"])
        );
        for d in c["disclose"].as_array().into_iter().flatten() {
            let p = policies(&d["policies"]);
            let _ = writeln!(
                text,
                "  disclose {} → {}{}",
                s(&d["class"]),
                s(&d["answer"]),
                if p.is_empty() {
                    " (no policy applies: redaction is the default)".to_owned()
                } else {
                    format!("\n        {p}")
                }
            );
            for e in d["errors"].as_array().into_iter().flatten() {
                let _ = writeln!(text, "    error: {}", s(e));
            }
        }
        if c["invoke"].is_object() {
            let p = policies(&c["invoke"]["policies"]);
            let _ = writeln!(
                text,
                "  invoke → {}{}",
                s(&c["invoke"]["answer"]),
                if p.is_empty() {
                    String::new()
                } else {
                    format!("\n        {p}")
                }
            );
            for e in c["invoke"]["errors"].as_array().into_iter().flatten() {
                let _ = writeln!(text, "    error: {}", s(e));
            }
        }
    }
    if let Some(deployment) = out["detail"]["deployment"].as_str() {
        let _ = writeln!(text, "\nchosen deployment: {deployment}");
    }
    if let Some(strategies) = out["detail"]["strategies"].as_object()
        && !strategies.is_empty()
    {
        let list = strategies
            .iter()
            .map(|(class, strategy)| format!("{class} → {}", s(strategy)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(text, "redacted as: {list}");
    }
    text
}

/// The caller the gateway would see for a token carrying `claims`, under `mapping`. A
/// missing subject claim stands for the caller `check`.
fn principal_from_claims(claims: &Value, mapping: &ClaimsConfig) -> anyhow::Result<Principal> {
    let mut claims = claims
        .as_object()
        .context("--claims must be a JSON object")?
        .clone();
    // Names only: a claim's value may be personal data.
    let unread: Vec<&str> = claims
        .keys()
        .map(String::as_str)
        .filter(|claim| !mapping.reads_claim(claim))
        .collect();
    if !unread.is_empty() {
        eprintln!(
            "note: the claim mapping does not read {} (pass the gateway's configuration with --config)",
            unread.join(", ")
        );
    }
    if !claims.contains_key(&mapping.subject) {
        claims.insert(mapping.subject.clone(), "check".into());
    }
    mapping
        .principal(&claims)
        .map_err(|e| anyhow::anyhow!("--claims: {e}"))
}
