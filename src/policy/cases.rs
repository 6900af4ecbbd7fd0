//! Decision test cases: data files beside the policies (`tests/*.toml`) that say, for
//! one request, what the policies must decide, and per-policy coverage over them.
//!
//! `customs policy test` runs them and `customs policy validate` checks them against
//! the bundle (models, deployments, policy ids). A case names a caller (the claims its
//! token would carry, mapped to a principal by the `[auth.claims]` mapping in effect —
//! the default one, or the one of the configuration given with `--config` — exactly as
//! the gateway maps a verified token; a claim the mapping does not read is an error, so
//! a case written for another mapping cannot pass by accident), a model, an operation and either prompt text (scanned with the bundle's own scanner,
//! classifiers included) or data classes, and expects a decision, the determining
//! `@id`s, the redacted and disclosed classes, the deployment chosen and, per class,
//! the policies that determined the `disclose` answer. Every expectation is optional;
//! the ones given are compared exactly, so a case pins *why* as well as *what*: a
//! forbid that is deleted changes a determining set even where another rule happens
//! to give the same verdict.
//!
//! A policy is covered when it is determining in at least one case (in a `disclose` or
//! an `invoke` answer, for any candidate deployment evaluated).
//!
//! ```toml
//! [[case]]
//! name = "EU resident is refused a US-only deployment"
//! caller = { sub = "eva", groups = ["engineering"], residency = "EU" }
//! model = "gpt-4o-us"
//! classes = ["PII.EMAIL"]
//! expect = { decision = "deny", policies = ["residency.eu-stays-in-eu"] }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::decide::{DecideInput, Decision, Operation};
use super::{Bundle, LoadError, SourceFile, line_col};
use crate::identity::{ClaimsConfig, Principal};

/// The caller of a case: the claims its token would carry (`sub`, `groups`,
/// `residency`, … under the default mapping; whatever `[auth.claims]` names otherwise).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Caller(pub serde_json::Map<String, serde_json::Value>);

impl Caller {
    /// The principal these claims map to under `mapping`, as the gateway would map a
    /// verified token. A case need not name a subject: it defaults to `test`.
    ///
    /// # Errors
    /// The subject claim is present but not a non-empty string.
    pub fn principal(&self, mapping: &ClaimsConfig) -> Result<Principal, String> {
        let mut claims = self.0.clone();
        if !claims.contains_key(&mapping.subject) {
            claims.insert(mapping.subject.clone(), "test".into());
        }
        mapping.principal(&claims).map_err(|e| e.to_string())
    }

    /// The claims `mapping` does not read (a typo, or a case written for another
    /// mapping), sorted.
    pub fn unread_claims<'a>(&'a self, mapping: &ClaimsConfig) -> Vec<&'a str> {
        let mut unread: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|claim| !mapping.reads_claim(claim))
            .collect();
        unread.sort_unstable();
        unread
    }
}

/// What a case expects. Absent fields are not checked; given ones are compared exactly.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `allow`, `deny` or `unknown_model`.
    pub decision: String,
    /// The determining `@id`s of the `invoke` answer: the permits of the chosen
    /// deployment on allow, the forbids of every refused candidate on deny.
    #[serde(default)]
    pub policies: Option<Vec<String>>,
    /// The deployment chosen (allow only).
    #[serde(default)]
    pub deployment: Option<String>,
    /// Classes redacted (allow only).
    #[serde(default)]
    pub redacted: Option<Vec<String>>,
    /// Classes disclosed in clear (allow only).
    #[serde(default)]
    pub disclosed: Option<Vec<String>>,
    /// Per class, the determining `@id`s of its `disclose` answer for the chosen
    /// deployment (allow) or the first candidate (deny).
    #[serde(default)]
    pub disclose_policies: Option<BTreeMap<String, Vec<String>>>,
}

/// One decision test case.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// A sentence saying what it checks.
    pub name: String,
    /// The caller.
    #[serde(default)]
    pub caller: Caller,
    /// The model (alias or deployment id) asked for.
    pub model: String,
    /// `chat` (default), `responses` or `embeddings`.
    #[serde(default)]
    pub operation: Option<String>,
    /// Prompt text, scanned with the bundle's scanner.
    #[serde(default)]
    pub prompt: Option<String>,
    /// Data classes found (instead of a prompt).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Whether a stream is requested.
    #[serde(default)]
    pub stream: bool,
    /// Whether tools are present.
    #[serde(default)]
    pub tools_present: bool,
    /// Token estimate (default: prompt bytes / 4, or 16).
    #[serde(default)]
    pub token_estimate: Option<i64>,
    /// What must be decided.
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<toml::Spanned<CaseSpec>>,
}

/// A case with where it was written.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file (relative to the policy directory).
    pub file: String,
    /// 1-based line of the case.
    pub line: usize,
    /// The case.
    pub spec: CaseSpec,
}

/// Parses every test file; errors name file, line and column.
pub fn parse_cases(files: &[SourceFile]) -> Result<Vec<Case>, Vec<LoadError>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        match toml::from_str::<CaseFile>(&file.text) {
            Ok(parsed) => {
                for spanned in parsed.case {
                    let (line, col) = line_col(&file.text, spanned.span().start);
                    let spec = spanned.into_inner();
                    let at = |message: String| {
                        LoadError::at(file.name.clone(), Some((line, col)), message)
                    };
                    if spec.prompt.is_some() == spec.classes.is_some() {
                        errors.push(at(format!(
                            "case `{}`: give exactly one of `prompt` and `classes`",
                            spec.name
                        )));
                    }
                    if operation(spec.operation.as_deref()).is_none() {
                        errors.push(at(format!(
                            "case `{}`: unknown operation (chat, responses, embeddings)",
                            spec.name
                        )));
                    }
                    if !matches!(
                        spec.expect.decision.as_str(),
                        "allow" | "deny" | "unknown_model"
                    ) {
                        errors.push(at(format!(
                            "case `{}`: expect.decision must be allow, deny or unknown_model",
                            spec.name
                        )));
                    }
                    if let Some(other) =
                        names.insert(spec.name.clone(), format!("{}:{line}", file.name))
                    {
                        errors.push(at(format!(
                            "case name `{}` is already used at {other}",
                            spec.name
                        )));
                    }
                    cases.push(Case {
                        file: file.name.clone(),
                        line,
                        spec,
                    });
                }
            }
            Err(e) => {
                let position = e.span().map(|span| line_col(&file.text, span.start));
                errors.push(LoadError::at(
                    file.name.clone(),
                    position,
                    e.message().to_owned(),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

fn operation(name: Option<&str>) -> Option<Operation> {
    match name.unwrap_or("chat") {
        "chat" => Some(Operation::Chat),
        "responses" => Some(Operation::Responses),
        "embeddings" => Some(Operation::Embeddings),
        _ => None,
    }
}

/// Checks cases against a bundle and a claim mapping without running them: the ids,
/// models and deployments they name must exist, and every caller claim must be one the
/// mapping reads. Returns errors and warnings.
pub fn check_cases(
    bundle: &Bundle,
    cases: &[Case],
    mapping: &ClaimsConfig,
) -> (Vec<LoadError>, Vec<LoadError>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let known_classes: BTreeSet<String> = bundle.known_classes();
    for case in cases {
        let at = |message: String| LoadError::at(case.file.clone(), Some((case.line, 1)), message);
        let spec = &case.spec;
        let expect = &spec.expect;
        let unread = spec.caller.unread_claims(mapping);
        if !unread.is_empty() {
            errors.push(at(format!(
                "case `{}`: caller claim(s) {} not read by the claim mapping (it reads {}); \
                 pass the gateway's configuration with --config",
                spec.name,
                unread
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                mapped_claims(mapping)
            )));
        }
        if let Err(e) = spec.caller.principal(mapping) {
            errors.push(at(format!("case `{}`: caller: {e}", spec.name)));
        }
        if bundle.catalog().resolve(&spec.model).is_none() && expect.decision != "unknown_model" {
            errors.push(at(format!(
                "case `{}`: model `{}` is not in the catalog",
                spec.name, spec.model
            )));
        }
        if let Some(deployment) = &expect.deployment
            && bundle.catalog().deployment(deployment).is_none()
        {
            errors.push(at(format!(
                "case `{}`: expected deployment `{deployment}` is not in the catalog",
                spec.name
            )));
        }
        let ids = expect.policies.iter().flatten().chain(
            expect
                .disclose_policies
                .iter()
                .flat_map(|m| m.values().flatten()),
        );
        for id in ids {
            if bundle.policy_meta(id).is_none() {
                errors.push(at(format!(
                    "case `{}`: policy `{id}` is not in the bundle",
                    spec.name
                )));
            }
        }
        let classes: BTreeSet<&String> = spec
            .classes
            .iter()
            .flatten()
            .chain(expect.redacted.iter().flatten())
            .chain(expect.disclosed.iter().flatten())
            .chain(expect.disclose_policies.iter().flat_map(|m| m.keys()))
            .collect();
        for class in classes {
            // A class the scanner does not emit yet still nests by name (`PHI.NPI` in
            // `PHI`); one outside every family is most likely a typo.
            let family = class.split('.').next().unwrap_or_default();
            if !known_classes.contains(class) && !known_classes.contains(family) {
                warnings.push(at(format!(
                    "case `{}`: class `{class}` is in no known family ({})",
                    spec.name,
                    super::entities::CLASS_FAMILIES.join(", ")
                )));
            }
        }
    }
    (errors, warnings)
}

/// The claims a mapping reads, for messages.
fn mapped_claims(mapping: &ClaimsConfig) -> String {
    let mut claims: BTreeSet<&str> = [mapping.subject.as_str(), mapping.groups.as_str()]
        .into_iter()
        .chain(mapping.kind.as_deref())
        .collect();
    let attributes = mapping.effective_attributes();
    claims.extend(attributes.values().map(String::as_str));
    claims
        .into_iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// File and line.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Whether every expectation held.
    pub passed: bool,
    /// What did not hold.
    pub failures: Vec<String>,
    /// What was decided, in the words of `expect`.
    pub decision: String,
    /// Every policy determining an answer in this case.
    pub determining: BTreeSet<String>,
}

/// The result of a suite.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    /// Bundle version.
    pub policy_version: String,
    /// One result per case, in file order.
    pub cases: Vec<CaseResult>,
    /// Per policy id, the cases in which it was determining (empty: not covered).
    pub coverage: BTreeMap<String, Vec<String>>,
}

impl SuiteReport {
    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed).count()
    }

    /// Percentage of policies covered (100 with no policies).
    pub fn coverage_percent(&self) -> f64 {
        if self.coverage.is_empty() {
            return 100.0;
        }
        let covered = self.coverage.values().filter(|c| !c.is_empty()).count();
        100.0 * covered as f64 / self.coverage.len() as f64
    }

    /// Policies no case covers.
    pub fn uncovered(&self) -> Vec<&str> {
        self.coverage
            .iter()
            .filter(|(_, c)| c.is_empty())
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Human-readable text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for case in &self.cases {
            let mark = if case.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "{mark} {}:{} {}", case.file, case.line, case.name);
            for failure in &case.failures {
                let _ = writeln!(out, "       {failure}");
            }
        }
        let _ = writeln!(
            out,
            "\n{} cases, {} passed, {} failed; coverage {:.1}% ({} of {} policies), version {}",
            self.cases.len(),
            self.cases.len() - self.failed(),
            self.failed(),
            self.coverage_percent(),
            self.coverage.values().filter(|c| !c.is_empty()).count(),
            self.coverage.len(),
            self.policy_version
        );
        for id in self.uncovered() {
            let _ = writeln!(out, "  not covered: {id}");
        }
        out
    }

    /// JUnit XML: one test suite, one test case per case; uncovered policies are a
    /// failing `coverage` test case when a threshold is given and not met.
    pub fn to_junit(&self, threshold: Option<f64>) -> String {
        let coverage_failed = threshold.is_some_and(|t| self.coverage_percent() < t);
        let tests = self.cases.len() + usize::from(threshold.is_some());
        let failures = self.failed() + usize::from(coverage_failed);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"customs policy test\" tests=\"{tests}\" failures=\"{failures}\">"
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"policies {}\" tests=\"{tests}\" failures=\"{failures}\">",
            xml_escape(&self.policy_version)
        );
        for case in &self.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
                xml_escape(&case.file),
                xml_escape(&case.name),
                xml_escape(&case.file),
                case.line
            );
            if case.passed {
                out.push_str("/>\n");
            } else {
                out.push_str(">\n");
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml_escape(case.failures.first().map_or("", String::as_str)),
                    xml_escape(&case.failures.join("\n"))
                );
                out.push_str("    </testcase>\n");
            }
        }
        if let Some(threshold) = threshold {
            let _ = write!(
                out,
                "    <testcase classname=\"coverage\" name=\"policy coverage >= {threshold}%\""
            );
            if coverage_failed {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"coverage {:.1}% is under {threshold}%\">not covered: {}</failure>\n    </testcase>",
                    self.coverage_percent(),
                    xml_escape(&self.uncovered().join(", "))
                );
            } else {
                out.push_str("/>\n");
            }
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Runs every case against the bundle, callers mapped by `mapping`.
pub fn run_cases(bundle: &Bundle, cases: &[Case], mapping: &ClaimsConfig) -> SuiteReport {
    let mut coverage: BTreeMap<String, Vec<String>> = bundle
        .policy_ids()
        .map(|id| (id.to_owned(), Vec::new()))
        .collect();
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let result = run_case(bundle, case, mapping);
        for id in &result.determining {
            if let Some(cases) = coverage.get_mut(id) {
                cases.push(result.name.clone());
            }
        }
        results.push(result);
    }
    SuiteReport {
        policy_version: bundle.version().to_owned(),
        cases: results,
        coverage,
    }
}

fn run_case(bundle: &Bundle, case: &Case, mapping: &ClaimsConfig) -> CaseResult {
    let spec = &case.spec;
    let mut result = CaseResult {
        name: spec.name.clone(),
        file: case.file.clone(),
        line: case.line,
        passed: false,
        failures: Vec::new(),
        decision: String::new(),
        determining: BTreeSet::new(),
    };
    let detected: BTreeSet<Arc<str>> = match (&spec.prompt, &spec.classes) {
        (Some(prompt), _) => match bundle.scanner().scan(prompt) {
            Ok(findings) => findings.iter().map(|f| Arc::clone(&f.class)).collect(),
            Err(e) => {
                result.failures.push(format!("scanner error: {e}"));
                return result;
            }
        },
        (None, Some(classes)) => classes.iter().map(|c| Arc::from(c.as_str())).collect(),
        (None, None) => BTreeSet::new(),
    };
    let Some(operation) = operation(spec.operation.as_deref()) else {
        result.failures.push("unknown operation".to_owned());
        return result;
    };
    let principal = match spec.caller.principal(mapping) {
        Ok(principal) => principal,
        Err(e) => {
            result.failures.push(format!("caller: {e}"));
            return result;
        }
    };
    let token_estimate = spec.token_estimate.unwrap_or_else(|| {
        spec.prompt.as_ref().map_or(16, |p| {
            i64::try_from(p.len().div_ceil(4)).unwrap_or(i64::MAX)
        })
    });
    let decision = bundle.decide(&DecideInput {
        principal: &principal,
        operation,
        requested_model: &spec.model,
        detected: &detected,
        stream: spec.stream,
        tools_present: spec.tools_present,
        token_estimate,
    });
    let decision = match decision {
        Ok(decision) => decision,
        Err(e) => {
            result.decision = "error".to_owned();
            result.failures.push(format!("decision failed: {e}"));
            return result;
        }
    };
    let expect = &spec.expect;
    let mut failures = Vec::new();
    let mut check_set = |what: &str, expected: &Option<Vec<String>>, actual: BTreeSet<String>| {
        if let Some(expected) = expected {
            let expected: BTreeSet<String> = expected.iter().cloned().collect();
            if expected != actual {
                failures.push(format!("{what}: expected {:?}, got {:?}", expected, actual));
            }
        }
    };
    let (verdict, disclosures) = match &decision {
        Decision::UnknownModel => ("unknown_model", Vec::new()),
        Decision::Deny { refused } => {
            for refusal in refused {
                result
                    .determining
                    .extend(refusal.forbidden_by.iter().map(|p| p.id.clone()));
                for d in &refusal.disclosures {
                    result.determining.extend(d.policy_ids.iter().cloned());
                }
            }
            check_set(
                "policies",
                &expect.policies,
                Decision::deny_policy_ids(refused).into_iter().collect(),
            );
            (
                "deny",
                refused
                    .first()
                    .map(|r| r.disclosures.clone())
                    .unwrap_or_default(),
            )
        }
        Decision::Allow { route, refused } => {
            for refusal in refused {
                result
                    .determining
                    .extend(refusal.forbidden_by.iter().map(|p| p.id.clone()));
                for d in &refusal.disclosures {
                    result.determining.extend(d.policy_ids.iter().cloned());
                }
            }
            result
                .determining
                .extend(route.permitted_by.iter().map(|p| p.id.clone()));
            for d in &route.disclosures {
                result.determining.extend(d.policy_ids.iter().cloned());
            }
            check_set(
                "policies",
                &expect.policies,
                route.permitted_by.iter().map(|p| p.id.clone()).collect(),
            );
            check_set(
                "redacted",
                &expect.redacted,
                route.redacted.iter().map(|c| c.to_string()).collect(),
            );
            check_set(
                "disclosed",
                &expect.disclosed,
                route.disclosed.iter().map(|c| c.to_string()).collect(),
            );
            if let Some(deployment) = &expect.deployment
                && *deployment != route.deployment.id
            {
                failures.push(format!(
                    "deployment: expected {deployment}, got {}",
                    route.deployment.id
                ));
            }
            ("allow", route.disclosures.clone())
        }
    };
    if let Some(expected) = &expect.disclose_policies {
        for (class, ids) in expected {
            let actual: BTreeSet<String> = disclosures
                .iter()
                .find(|d| &d.class == class)
                .map(|d| d.policy_ids.iter().cloned().collect())
                .unwrap_or_default();
            let ids: BTreeSet<String> = ids.iter().cloned().collect();
            if ids != actual {
                failures.push(format!(
                    "disclose_policies.{class}: expected {ids:?}, got {actual:?}"
                ));
            }
        }
    }
    if verdict != expect.decision {
        failures.insert(
            0,
            format!("decision: expected {}, got {verdict}", expect.decision),
        );
    }
    if verdict != "allow"
        && (expect.deployment.is_some() || expect.redacted.is_some() || expect.disclosed.is_some())
        && expect.decision != "allow"
    {
        failures.push("deployment/redacted/disclosed are only checked on allow".to_owned());
    }
    result.decision = verdict.to_owned();
    result.passed = failures.is_empty();
    result.failures = failures;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySource;

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let files = vec![SourceFile {
            name: "tests/x.toml".into(),
            text: "[[case]]\nname = \"a\"\nmodel = \"m\"\nclases = []\n".into(),
        }];
        let errors = parse_cases(&files).unwrap_err();
        assert_eq!(errors[0].file(), "tests/x.toml");
        assert_eq!(errors[0].position().map(|p| p.0), Some(4), "{}", errors[0]);
    }

    #[test]
    fn the_bundled_suite_passes_with_full_coverage() {
        let source = PolicySource::bundled();
        let bundle = Bundle::load(&source).unwrap();
        let cases = parse_cases(&source.tests).unwrap();
        let mapping = ClaimsConfig::default();
        let (errors, _) = check_cases(&bundle, &cases, &mapping);
        assert!(errors.is_empty(), "{errors:?}");
        let report = run_cases(&bundle, &cases, &mapping);
        assert_eq!(report.failed(), 0, "{}", report.to_text());
        assert!(
            report.uncovered().is_empty(),
            "not covered: {:?}",
            report.uncovered()
        );
    }

    /// A suite that still passes after a forbid is deleted tests nothing: for every
    /// bundled forbid, load the bundle without it and expect a failing case.
    #[test]
    fn deleting_any_bundled_forbid_fails_the_suite() {
        let source = PolicySource::bundled();
        let bundle = Bundle::load(&source).unwrap();
        let cases = parse_cases(&source.tests).unwrap();
        let forbids = bundle.forbid_ids();
        assert!(forbids.len() >= 5, "{forbids:?}");
        for forbid in forbids {
            let without = source.without_policy(&forbid).unwrap();
            let reduced = Bundle::load(&without).unwrap();
            assert_eq!(reduced.policy_count(), bundle.policy_count() - 1);
            let report = run_cases(&reduced, &cases, &ClaimsConfig::default());
            assert!(
                report.failed() > 0,
                "deleting forbid `{forbid}` fails no case"
            );
        }
    }

    /// A caller is the claims of its token, mapped as the gateway maps them: under a
    /// mapping that reads groups from `roles` and residency from `country`, those
    /// claims decide; under the default mapping the same case is refused by
    /// `validate` and, run anyway, decides otherwise.
    #[test]
    fn a_configured_claim_mapping_decides_who_the_caller_is() {
        let source = PolicySource::bundled();
        let bundle = Bundle::load(&source).unwrap();
        let files = vec![SourceFile {
            name: "tests/mapped.toml".into(),
            text: r#"
[[case]]
name = "an EU engineer by the identity provider's own claim names"
caller = { oid = "eva", roles = ["engineering"], country = "EU" }
model = "gpt-4o"
classes = []
expect = { decision = "allow", deployment = "gpt-4o-azure-swedencentral" }

[[case]]
name = "an EU engineer is refused a US-only model"
caller = { oid = "eva", roles = ["engineering"], country = "EU" }
model = "gpt-4o-us"
classes = []
expect = { decision = "deny", policies = ["residency.eu-stays-in-eu"] }
"#
            .into(),
        }];
        let cases = parse_cases(&files).unwrap();
        let mapping: ClaimsConfig = toml::from_str(
            "subject = \"oid\"\ngroups = \"roles\"\n[attributes]\nresidency = \"country\"\n",
        )
        .unwrap();
        let (errors, _) = check_cases(&bundle, &cases, &mapping);
        assert!(errors.is_empty(), "{errors:?}");
        let report = run_cases(&bundle, &cases, &mapping);
        assert_eq!(report.failed(), 0, "{}", report.to_text());
        let principal = cases[0].spec.caller.principal(&mapping).unwrap();
        assert_eq!(principal.id, "eva");
        assert_eq!(principal.groups, ["engineering"]);
        assert_eq!(principal.attributes["residency"], "EU");

        let default = ClaimsConfig::default();
        let (errors, _) = check_cases(&bundle, &cases, &default);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0]
                .to_string()
                .contains("`country`, `oid`, `roles` not read by the claim mapping"),
            "{}",
            errors[0]
        );
        let report = run_cases(&bundle, &cases, &default);
        assert_eq!(report.failed(), 2, "{}", report.to_text());
        assert!(report.cases.iter().all(|c| c.decision == "deny"));
    }

    #[test]
    fn junit_escapes_and_counts() {
        let report = SuiteReport {
            policy_version: "v".into(),
            cases: vec![CaseResult {
                name: "a <b>".into(),
                file: "t.toml".into(),
                line: 1,
                passed: false,
                failures: vec!["x & y".into()],
                decision: "deny".into(),
                determining: BTreeSet::new(),
            }],
            coverage: BTreeMap::from([("p".to_owned(), Vec::new())]),
        };
        let xml = report.to_junit(Some(50.0));
        assert!(xml.contains("a &lt;b&gt;"));
        assert!(xml.contains("x &amp; y"));
        assert!(xml.contains("tests=\"2\" failures=\"2\""));
    }
}
