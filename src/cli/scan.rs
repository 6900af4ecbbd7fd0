//! `customs scan [FILE] [--format json|text] [--redact] [--strategy S] [--classifiers DIR] [--show-values]`.
//!
//! The scanner on the command line, for policy authors and for CI pipelines that want
//! to check a file before it goes anywhere. Exit codes follow grep: 0 when nothing was
//! found, 1 when something was, 2 on error (returned as `Err`, mapped in `cli::main`).
//! Output carries offsets and labels only; values appear solely with the explicit
//! `--show-values` flag, meant for a person at a local terminal.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::audit::Fingerprinter;
use crate::scan::redact::{Redactor, Strategy};
use crate::scan::{Classifier, Finding, Scanner};

/// Output format of `customs scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// `{"findings":[{"type","class","start","end","confidence","severity"}]}`.
    Json,
    /// One line per finding: `start..end TYPE class severity confidence`.
    Text,
}

/// Redaction strategy of `customs scan --redact`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RedactStrategy {
    /// `[EMAIL_1]`.
    Placeholder,
    /// `**** **** **** 1111`.
    Mask,
    /// `[EMAIL#1f3a9c0d2b7e]`.
    Hash,
    /// A format-preserving fake value.
    Fake,
    /// Nothing.
    Remove,
}

impl RedactStrategy {
    fn strategy(self) -> Strategy {
        match self {
            RedactStrategy::Placeholder => Strategy::Placeholder,
            RedactStrategy::Mask => Strategy::MaskLast { keep: 4 },
            RedactStrategy::Hash => Strategy::Hash,
            RedactStrategy::Fake => Strategy::Fake,
            RedactStrategy::Remove => Strategy::Remove,
        }
    }
}

/// Arguments of `customs scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// File to scan; standard input when absent.
    pub file: Option<PathBuf>,

    /// Output format. Defaults to `json`; with `--redact`, defaults to the redacted
    /// text alone (`--format json` then prints `{"text": ..., "findings": [...]}`).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,

    /// Print the input with every finding replaced by a numbered placeholder.
    #[arg(long)]
    pub redact: bool,

    /// How `--redact` rewrites each finding: numbered placeholders (default), masks
    /// keeping the last four characters, keyed hashes (`CUSTOMS_HMAC_KEY`, or a random
    /// key), format-preserving fakes, or removal.
    #[arg(long, value_enum, default_value = "placeholder")]
    pub strategy: RedactStrategy,

    /// For `hash` and `fake`: the tenant whose key to use, derived from
    /// `CUSTOMS_HMAC_KEY` exactly as the gateway derives it, so the output shows what
    /// that tenant's requests send upstream (an analyst can find the token of a known
    /// value). Absent: the key of callers without a tenant.
    #[arg(long, value_name = "TENANT", default_value = "")]
    pub tenant: String,

    /// Directory of custom classifier files (`*.toml`, see policies/classifiers/README.md).
    #[arg(long, value_name = "DIR")]
    pub classifiers: Option<PathBuf>,

    /// Also print the matched values. For local use only: never in logs or CI output.
    #[arg(long)]
    pub show_values: bool,
}

/// Runs `customs scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let classifiers = match &args.classifiers {
        Some(dir) => Classifier::load_dir(dir)?,
        None => Vec::new(),
    };
    let scanner = Scanner::new(classifiers)?;
    let text = read_input(args.file.as_ref())?;
    let findings = scanner.scan(&text)?;

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let redact = |text: &str| {
        let mut redactor = match Fingerprinter::from_env() {
            (keys, true) => Redactor::with_tenant_key(&keys.tenant_key(&args.tenant)),
            _ => Redactor::new(),
        };
        let strategy = args.strategy.strategy();
        redactor.redact_with(text, &findings, |_| strategy)
    };
    match (args.redact, args.format) {
        (true, None | Some(OutputFormat::Text)) => {
            let redacted = redact(&text);
            out.write_all(redacted.as_bytes())?;
        }
        (true, Some(OutputFormat::Json)) => {
            let redacted = redact(&text);
            let doc = ScanOutput {
                text: Some(&redacted),
                findings: findings_out(&text, &findings, args.show_values),
            };
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
        (false, None | Some(OutputFormat::Json)) => {
            let doc = ScanOutput {
                text: None,
                findings: findings_out(&text, &findings, args.show_values),
            };
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
        (false, Some(OutputFormat::Text)) => {
            for f in &findings {
                write!(
                    out,
                    "{}..{}\t{}\t{}\t{}\t{:.2}",
                    f.start,
                    f.end,
                    f.entity,
                    f.class,
                    severity_name(f),
                    f.confidence
                )?;
                if args.show_values {
                    write!(out, "\t{:?}", text.get(f.start..f.end).unwrap_or_default())?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads the whole input as UTF-8; offsets in the output are byte offsets into it, so
/// invalid UTF-8 is an error rather than silently replaced (which would shift offsets).
fn read_input(file: Option<&PathBuf>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    match file {
        Some(path) => {
            bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        }
        None => {
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
        }
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "input is not valid UTF-8 (first invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The JSON document of `customs scan`, written as it is serialised (a text with
/// hundreds of thousands of findings is not first built as a tree of values).
#[derive(Serialize)]
struct ScanOutput<'a> {
    /// The redacted text, with `--redact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    findings: Vec<FindingOutput<'a>>,
}

/// One finding, with its value when `--show-values` asks for it.
#[derive(Serialize)]
struct FindingOutput<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

fn findings_out<'a>(
    text: &'a str,
    findings: &'a [Finding],
    show_values: bool,
) -> Vec<FindingOutput<'a>> {
    findings
        .iter()
        .map(|finding| FindingOutput {
            finding,
            value: show_values.then(|| text.get(finding.start..finding.end).unwrap_or_default()),
        })
        .collect()
}

fn severity_name(f: &Finding) -> String {
    serde_json::to_value(f.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
