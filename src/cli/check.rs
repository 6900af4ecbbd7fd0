//! `customs check`: explains offline what Customs would decide for one prompt, one
//! caller and one model: the classes found, each `disclose` answer, the `invoke` answer
//! per candidate deployment with the determining policies, and the deployment chosen.
//! Nothing is sent anywhere; the prompt text is never printed.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::identity::{Principal, PrincipalKind};
use crate::policy::{Bundle, DecideInput, Decision, Operation, PolicySource};

/// Arguments of `customs check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The model (alias or deployment id) the caller asks for.
    #[arg(long)]
    pub model: String,
    /// The caller's claims as JSON: `{"sub":"alice","groups":["eng"],"residency":"EU"}`.
    #[arg(long, default_value = "{}")]
    pub claims: String,
    /// The operation: chat, responses or embeddings.
    #[arg(long, default_value = "chat")]
    pub operation: String,
    /// Policy directory (default: the bundled policies).
    #[arg(long)]
    pub policies: Option<PathBuf>,
    /// File holding the prompt text; standard input when absent.
    pub file: Option<PathBuf>,
}

/// Runs `customs check`. Exit 0 when allowed, 1 when denied.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let source = match &args.policies {
        Some(dir) => PolicySource::from_dir(dir)?,
        None => PolicySource::bundled(),
    };
    let bundle = Bundle::load(&source)?;
    let text = match &args.file {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
    };
    let claims: Value =
        serde_json::from_str(&args.claims).context("--claims must be a JSON object")?;
    let principal = principal_from_claims(&claims);
    let operation = match args.operation.as_str() {
        "chat" => Operation::Chat,
        "responses" => Operation::Responses,
        "embeddings" => Operation::Embeddings,
        other => anyhow::bail!("unknown operation `{other}` (chat, responses, embeddings)"),
    };
    let findings = bundle.scanner().scan(&text)?;
    let detected: BTreeSet<Arc<str>> = findings.iter().map(|f| Arc::clone(&f.class)).collect();
    let decision = bundle.decide(&DecideInput {
        principal: &principal,
        operation,
        requested_model: &args.model,
        detected: &detected,
        stream: false,
        tools_present: false,
        token_estimate: i64::try_from(text.len().div_ceil(4)).unwrap_or(i64::MAX),
    })?;
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for finding in &findings {
        *counts.entry(&finding.class).or_default() += 1;
    }
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
                "permitted_by": route.permitted_by,
                "refused_first": refused,
            }),
        ),
    };
    let out = json!({
        "decision": verdict,
        "model": args.model,
        "policy_version": bundle.version(),
        "classes": counts,
        "detail": report,
    });
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out)?;
    std::io::Write::write_all(&mut stdout, b"\n")?;
    Ok(if verdict == "allow" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn principal_from_claims(claims: &Value) -> Principal {
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let groups = claims
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Principal {
        kind: PrincipalKind::User,
        id: claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or("check")
            .to_owned(),
        groups,
        attributes: ["residency", "department", "tenant"]
            .iter()
            .map(|name| ((*name).to_owned(), text(name)))
            .collect(),
    }
}
