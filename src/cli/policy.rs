//! `customs policy …`: the policy author's toolchain, the same code `customs serve` runs.
//!
//! - `validate [DIR] [--config FILE] [--warnings-as-errors]`: loads a policy directory
//!   exactly as the gateway would (schema, strict validation, catalog, classifiers) plus
//!   its decision test cases, and reports every error with its file, line and column.
//! - `fmt [DIR] [--check]`: the Cedar formatter over every `*.cedar` file.
//! - `test [DIR] [--config FILE] [--threshold PCT] [--format text|json|junit]`: runs the
//!   decision test cases of `tests/*.toml` and reports per-policy coverage.
//!
//! `--config` is the gateway's configuration file: its `[auth.claims]` mapping turns the
//! callers of test cases (the claims their tokens would carry) into principals, as the
//! gateway does, and its `[policy] dir` is the directory when none is given.
//! - `diff --replay LOG [--candidate DIR] [--accept-deny-to-allow]`: recorded decisions
//!   re-evaluated under a candidate set; deny→allow fails unless accepted.
//!
//! Exit codes: 0 success, 1 the policies (or cases) are at fault, 2 the command could
//! not run (unreadable files, bad arguments).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Subcommand, ValueEnum};

use crate::config::Config;
use crate::identity::ClaimsConfig;
use crate::policy::cases::{check_cases, parse_cases, run_cases};
use crate::policy::format::format_cedar;
use crate::policy::replay::{read_log, replay};
use crate::policy::{Bundle, LoadError, PolicySource};
use crate::scan::strategy::RedactionRules;

/// `customs policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy directory (default: the bundled policies): policies, catalog,
    /// classifiers and decision test cases.
    Validate {
        /// Policy directory (`*.cedar`, `catalog.toml`, `classifiers/`, `tests/`).
        dir: Option<PathBuf>,
        /// The gateway's configuration: its claim mapping for the test cases' callers,
        /// its policy directory when DIR is absent.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Fail on warnings too (Cedar validator warnings, unknown severities, test
        /// cases naming classes the scanner never emits).
        #[arg(long)]
        warnings_as_errors: bool,
    },
    /// Format the `*.cedar` files of a policy directory with the Cedar formatter.
    Fmt {
        /// Policy directory.
        #[arg(default_value = "policies")]
        dir: PathBuf,
        /// Change nothing; list the files that are not formatted and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Run the decision test cases (`tests/*.toml`) and report per-policy coverage.
    ///
    /// A case: `[[case]]` with `name`, `caller` (the claims the caller's token would
    /// carry, e.g. `{ sub, groups, residency, department, tenant }` under the default
    /// mapping), `model`, `operation` (chat | responses | embeddings),
    /// `prompt` (scanned) or `classes`, optional `stream`, `tools_present`,
    /// `token_estimate`, and `expect = { decision = "allow" | "deny" | "unknown_model",
    /// policies, deployment, redacted, disclosed, disclose_policies = { CLASS = [ids] } }`.
    Test {
        /// Policy directory (default: the configuration's, else the bundled policies).
        dir: Option<PathBuf>,
        /// The gateway's configuration: its claim mapping for the test cases' callers,
        /// its policy directory when DIR is absent.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Fail when fewer than this percentage of policies are covered (determining
        /// in at least one case).
        #[arg(long, value_name = "PCT")]
        threshold: Option<f64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Replay recorded decisions under a candidate policy set and report what changes.
    Diff {
        /// Decision events: a JSON-lines file or a directory of them.
        #[arg(long, value_name = "LOG")]
        replay: PathBuf,
        /// The candidate policy directory (default: the bundled policies).
        #[arg(long)]
        candidate: Option<PathBuf>,
        /// Exit 0 even when recorded denies would now be allowed.
        #[arg(long)]
        accept_deny_to_allow: bool,
        /// Output format (`junit` is not offered here).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable text.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML (for CI test reports).
    Junit,
}

/// Runs `customs policy …`.
pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Validate {
            dir,
            config,
            warnings_as_errors,
        } => validate(
            &GatewayView::load(dir.as_deref(), config.as_deref())?,
            warnings_as_errors,
        ),
        PolicyCommand::Fmt { dir, check } => fmt(&dir, check),
        PolicyCommand::Test {
            dir,
            config,
            threshold,
            format,
            output,
        } => test(
            &GatewayView::load(dir.as_deref(), config.as_deref())?,
            threshold,
            format,
            output.as_deref(),
        ),
        PolicyCommand::Diff {
            replay,
            candidate,
            accept_deny_to_allow,
            format,
        } => diff(&replay, candidate.as_deref(), accept_deny_to_allow, format),
    }
}

fn source(dir: Option<&Path>) -> anyhow::Result<PolicySource> {
    Ok(match dir {
        Some(dir) => PolicySource::from_dir(dir)?,
        None => PolicySource::bundled(),
    })
}

/// What the offline tools need to see a request as a gateway would: the policy source,
/// the claim mapping and the redaction strategies. From `--config FILE` when given (the
/// directory argument still wins over its `[policy] dir`), else the defaults: the
/// bundled policies, the default mapping, placeholders for every class.
pub(super) struct GatewayView {
    /// The policies, catalog, classifiers and test cases.
    pub source: PolicySource,
    /// `[auth.claims]`.
    pub claims: ClaimsConfig,
    /// `[redaction]`, checked on its own (a bad rule fails [`GatewayView::load`]).
    pub redaction: RedactionRules,
}

impl GatewayView {
    /// Reads `config` (if any) and the policy directory.
    pub fn load(dir: Option<&Path>, config: Option<&Path>) -> anyhow::Result<GatewayView> {
        let config = config.map(Config::from_file).transpose()?;
        let claims = config
            .as_ref()
            .map(|c| c.auth.claims.clone())
            .unwrap_or_default();
        claims.validate()?;
        let redaction = match &config {
            Some(c) => RedactionRules::compile(&c.redaction)
                .map_err(|e| anyhow::anyhow!("[redaction]: {e}"))?,
            None => RedactionRules::default(),
        };
        let dir = dir.or_else(|| config.as_ref().and_then(|c| c.policy.dir.as_deref()));
        Ok(GatewayView {
            source: source(dir)?,
            claims,
            redaction,
        })
    }
}

fn print_errors(kind: &str, errors: &[LoadError]) {
    for error in errors {
        eprintln!("{kind}: {error}");
    }
}

fn validate(view: &GatewayView, warnings_as_errors: bool) -> anyhow::Result<ExitCode> {
    let source = &view.source;
    let bundle = match Bundle::load(source) {
        Ok(bundle) => bundle,
        Err(errors) => {
            print_errors("error", &errors.0);
            eprintln!("{} error(s) in {}", errors.0.len(), source.origin);
            return Ok(ExitCode::from(1));
        }
    };
    let mut warnings: Vec<LoadError> = bundle.warnings().to_vec();
    let cases = match parse_cases(&source.tests) {
        Ok(cases) => cases,
        Err(errors) => {
            print_errors("error", &errors);
            eprintln!("{} error(s) in {}", errors.len(), source.origin);
            return Ok(ExitCode::from(1));
        }
    };
    let (errors, case_warnings) = check_cases(&bundle, &cases, &view.claims);
    warnings.extend(case_warnings);
    let kind = if warnings_as_errors {
        "error"
    } else {
        "warning"
    };
    print_errors("error", &errors);
    print_errors(kind, &warnings);
    // The configuration's [redaction] rules against the classes this scanner emits.
    let (redaction_errors, redaction_warnings) =
        view.redaction.check_classes(&bundle.scanner().classes());
    for message in &redaction_errors {
        eprintln!("error: [redaction]: {message}");
    }
    for message in &redaction_warnings {
        eprintln!("{kind}: [redaction]: {message}");
    }
    let failures = redaction_errors.len()
        + if warnings_as_errors {
            redaction_warnings.len()
        } else {
            0
        };
    let warnings_count = warnings.len() + redaction_warnings.len();
    let failures = failures
        + errors.len()
        + if warnings_as_errors {
            warnings.len()
        } else {
            0
        };
    if failures > 0 {
        eprintln!("{failures} error(s) in {}", source.origin);
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "ok: {} policies, {} deployments, {} test cases, {} warning(s), version {}{} ({})",
        bundle.policy_count(),
        bundle.catalog().deployments().count(),
        cases.len(),
        warnings_count,
        bundle.version(),
        bundle
            .commit()
            .map(|c| format!(" at commit {c}"))
            .unwrap_or_default(),
        bundle.origin()
    );
    Ok(ExitCode::SUCCESS)
}

fn fmt(dir: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let source = PolicySource::from_dir(dir)?;
    let mut unformatted = 0;
    let mut failed = 0;
    for file in &source.policies {
        let formatted = match format_cedar(&file.text) {
            Ok(formatted) => formatted,
            Err(e) => {
                eprintln!("error: {}: cannot format: {e}", file.name);
                failed += 1;
                continue;
            }
        };
        if formatted == file.text {
            continue;
        }
        unformatted += 1;
        if check {
            eprintln!("not formatted: {}", file.name);
        } else {
            let path = dir.join(&file.name);
            std::fs::write(&path, formatted)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("formatted: {}", file.name);
        }
    }
    if failed > 0 || (check && unformatted > 0) {
        if check && unformatted > 0 {
            eprintln!(
                "{unformatted} file(s) not formatted; run `customs policy fmt {}`",
                dir.display()
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn write_out(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            Ok(())
        }
    }
}

fn test(
    view: &GatewayView,
    threshold: Option<f64>,
    format: ReportFormat,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let source = &view.source;
    let bundle = match Bundle::load(source) {
        Ok(bundle) => bundle,
        Err(errors) => {
            print_errors("error", &errors.0);
            return Ok(ExitCode::from(1));
        }
    };
    let cases = match parse_cases(&source.tests) {
        Ok(cases) => cases,
        Err(errors) => {
            print_errors("error", &errors);
            return Ok(ExitCode::from(1));
        }
    };
    let (errors, _) = check_cases(&bundle, &cases, &view.claims);
    if !errors.is_empty() {
        print_errors("error", &errors);
        return Ok(ExitCode::from(1));
    }
    let report = run_cases(&bundle, &cases, &view.claims);
    let text = match format {
        ReportFormat::Text => report.to_text(),
        ReportFormat::Json => {
            let mut value = serde_json::to_value(&report)?;
            if let Some(object) = value.as_object_mut() {
                object.insert(
                    "coverage_percent".into(),
                    serde_json::json!(report.coverage_percent()),
                );
                object.insert("failed".into(), serde_json::json!(report.failed()));
            }
            let mut text = serde_json::to_string_pretty(&value)?;
            text.push('\n');
            text
        }
        ReportFormat::Junit => report.to_junit(threshold),
    };
    write_out(output, &text)?;
    let mut ok = report.failed() == 0;
    if cases.is_empty() {
        eprintln!("error: no test cases in {}/tests", source.origin);
        ok = false;
    }
    if let Some(threshold) = threshold
        && report.coverage_percent() < threshold
    {
        eprintln!(
            "coverage {:.1}% is under the threshold {threshold}%; not covered: {}",
            report.coverage_percent(),
            report.uncovered().join(", ")
        );
        ok = false;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn diff(
    log: &Path,
    candidate: Option<&Path>,
    accept_deny_to_allow: bool,
    format: ReportFormat,
) -> anyhow::Result<ExitCode> {
    let source = source(candidate)?;
    let bundle = match Bundle::load(&source) {
        Ok(bundle) => bundle,
        Err(errors) => {
            print_errors("error", &errors.0);
            return Ok(ExitCode::from(1));
        }
    };
    let lines = read_log(log).with_context(|| format!("reading {}", log.display()))?;
    let report = replay(&bundle, &lines);
    let text = match format {
        ReportFormat::Json | ReportFormat::Junit => {
            let mut text = serde_json::to_string_pretty(&report)?;
            text.push('\n');
            text
        }
        ReportFormat::Text => report.to_text(),
    };
    write_out(None, &text)?;
    if report.lines > 0 && report.unreadable == report.lines {
        eprintln!("error: no line of {} is a decision event", log.display());
        return Ok(ExitCode::from(2));
    }
    if report.evaluation_errors.count > 0 {
        eprintln!(
            "error: the candidate fails to evaluate {} recorded decision(s)",
            report.evaluation_errors.count
        );
        return Ok(ExitCode::from(1));
    }
    if report.deny_to_allow.count > 0 && !accept_deny_to_allow {
        eprintln!(
            "error: {} recorded denial(s) would now be allowed; review them and pass --accept-deny-to-allow to accept",
            report.deny_to_allow.count
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
