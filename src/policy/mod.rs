//! decide: the Cedar model, the policy bundle and the decision for one request.
//!
//! A [`Bundle`] is everything a decision depends on, loaded and checked together and
//! swapped as one: the schema, the policies (re-keyed by their `@id`), the model catalog,
//! the custom classifiers and the scanner built from them, and the static Cedar entities
//! (providers, models, the data-class hierarchy). A request takes one `Arc<Bundle>` at
//! its start and finishes on it.
//!
//! Loading refuses a bundle that does not validate strictly against the schema, and
//! every error names the file, line and column, so that a policy author sees the same
//! message in CI and at start-up.

mod bundled;
mod cache;
pub mod cases;
pub mod catalog;
pub mod decide;
mod entities;
pub mod format;
mod git;
mod index;
pub mod reload;
pub mod replay;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{PolicyId, PolicySet, Schema, ValidationMode, Validator};
use sha2::{Digest, Sha256};

use crate::scan::{Classifier, Scanner};
pub use catalog::{Deployment, ModelCatalog, ProviderKind};
pub use decide::{DecideInput, Decision, Disclosure, Operation, PolicyRef, Refusal, Route};

/// The Cedar schema of Customs, compiled in: it is the product's model, not user data.
pub const SCHEMA_TEXT: &str = include_str!("../../schemas/customs.cedarschema");
const SCHEMA_NAME: &str = "schemas/customs.cedarschema";

/// One file of a policy source, with the name errors should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the policy directory (`residency.cedar`, `classifiers/x.toml`).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// Where policies come from: a directory, or the bundle compiled into the binary.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// Display name (`bundled` or the directory).
    pub origin: String,
    /// `*.cedar` files.
    pub policies: Vec<SourceFile>,
    /// `catalog.toml`.
    pub catalog: SourceFile,
    /// `classifiers/*.toml`.
    pub classifiers: Vec<SourceFile>,
    /// `tests/*.toml`: decision test cases. Not part of the version: they decide nothing.
    pub tests: Vec<SourceFile>,
    /// The Git commit checked out, when the directory is inside a Git work tree.
    pub commit: Option<String>,
}

impl PolicySource {
    /// The policies, catalog and classifiers compiled into the binary.
    pub fn bundled() -> PolicySource {
        bundled::source()
    }

    /// Writes every file (policies, catalog, classifiers, test cases) under `dir`, by its
    /// relative name: a policy directory `from_dir` reads back as this source.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for file in self
            .policies
            .iter()
            .chain(std::iter::once(&self.catalog))
            .chain(self.classifiers.iter())
            .chain(self.tests.iter())
        {
            let path = dir.join(&file.name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, &file.text)?;
        }
        Ok(())
    }

    /// How many policies the bundled set holds (benches and tests).
    pub fn bundled_policy_count() -> usize {
        Bundle::load(&PolicySource::bundled()).map_or(0, |b| b.policy_count())
    }

    /// Reads a policy directory: `*.cedar`, `catalog.toml`, `classifiers/*.toml`.
    pub fn from_dir(dir: &Path) -> Result<PolicySource, LoadError> {
        let read = |path: &Path| -> Result<SourceFile, LoadError> {
            let text = std::fs::read_to_string(path).map_err(|e| {
                LoadError::at(
                    path.display().to_string(),
                    None,
                    format!("cannot read: {e}"),
                )
            })?;
            let name = path
                .strip_prefix(dir)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned();
            Ok(SourceFile { name, text })
        };
        let list = |sub: &Path, ext: &str| -> Result<Vec<std::path::PathBuf>, LoadError> {
            let mut out = Vec::new();
            let entries = match std::fs::read_dir(sub) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && sub != dir => {
                    return Ok(out);
                }
                Err(e) => {
                    return Err(LoadError::at(
                        sub.display().to_string(),
                        None,
                        format!("cannot list: {e}"),
                    ));
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) == Some(ext) && path.is_file() {
                    out.push(path);
                }
            }
            out.sort();
            Ok(out)
        };
        let policies = list(dir, "cedar")?
            .iter()
            .map(|p| read(p))
            .collect::<Result<Vec<_>, _>>()?;
        let catalog = read(&dir.join("catalog.toml"))?;
        let classifiers = list(&dir.join("classifiers"), "toml")?
            .iter()
            .map(|p| read(p))
            .collect::<Result<Vec<_>, _>>()?;
        let tests = list(&dir.join("tests"), "toml")?
            .iter()
            .map(|p| read(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicySource {
            origin: dir.display().to_string(),
            policies,
            catalog,
            classifiers,
            tests,
            commit: git::head_commit(dir),
        })
    }

    /// The same source with the policy `@id(id)` cut out of its file (for tests that
    /// prove a suite notices a deleted rule). `None` when no policy has that id.
    pub fn without_policy(&self, id: &str) -> Option<PolicySource> {
        let mut out = self.clone();
        for file in &mut out.policies {
            let Ok(parsed) = PolicySet::from_str(&file.text) else {
                continue;
            };
            let spans = statement_spans(&file.text);
            for policy in parsed.policies() {
                if policy.annotation("id") != Some(id) {
                    continue;
                }
                let index = policy
                    .id()
                    .to_string()
                    .strip_prefix("policy")
                    .and_then(|n| n.parse::<usize>().ok())?;
                let (start, end) = *spans.get(index)?;
                file.text.replace_range(start..end, "");
                return Some(out);
            }
        }
        None
    }

    /// Content hash of every file, names included: the policy version on every decision.
    pub fn content_hash(&self) -> String {
        let mut files: Vec<&SourceFile> = self
            .policies
            .iter()
            .chain(std::iter::once(&self.catalog))
            .chain(self.classifiers.iter())
            .collect();
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let mut hasher = Sha256::new();
        hasher.update(SCHEMA_TEXT.as_bytes());
        for file in files {
            hasher.update((file.name.len() as u64).to_le_bytes());
            hasher.update(file.name.as_bytes());
            hasher.update((file.text.len() as u64).to_le_bytes());
            hasher.update(file.text.as_bytes());
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{}", &hex[..16])
    }
}

/// A policy bundle that failed to load, with the place to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    file: String,
    position: Option<(usize, usize)>,
    message: String,
}

impl LoadError {
    fn at(file: String, position: Option<(usize, usize)>, message: String) -> LoadError {
        LoadError {
            file,
            position,
            message,
        }
    }

    /// The file at fault.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Line and column (1-based), when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Every error of a load, in file order.
#[derive(Debug, Clone)]
pub struct LoadErrors(pub Vec<LoadError>);

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "policy bundle is invalid ({n} error{})",
            if n == 1 { "" } else { "s" }
        )?;
        for err in &self.0 {
            write!(f, "\n  {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// The `@severity` values policies may carry (a missing one means `medium`).
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// The annotations of one policy, as shown to callers and the SIEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMeta {
    /// `@id`: stable and unique across the bundle.
    pub id: String,
    /// `@reason`: shown to the caller on a deny.
    pub reason: String,
    /// `@severity`.
    pub severity: String,
    /// The file it came from.
    pub file: String,
    /// `permit` or `forbid`.
    pub effect: &'static str,
    /// 1-based line and column where it starts in its file.
    pub position: Option<(usize, usize)>,
}

/// Everything one decision depends on, loaded and checked together.
pub struct Bundle {
    schema: Schema,
    index: index::ScopeIndex,
    meta: HashMap<PolicyId, PolicyMeta>,
    catalog: ModelCatalog,
    scanner: Scanner,
    static_entities: entities::StaticEntities,
    cache: cache::DecisionCache,
    version: String,
    commit: Option<String>,
    origin: String,
    warnings: Vec<LoadError>,
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("origin", &self.origin)
            .field("version", &self.version)
            .field("policies", &self.meta.len())
            .finish_non_exhaustive()
    }
}

impl Bundle {
    /// Loads and strictly validates a policy source. All errors are collected.
    pub fn load(source: &PolicySource) -> Result<Bundle, LoadErrors> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();

        let schema = match Schema::from_cedarschema_str(SCHEMA_TEXT) {
            Ok((schema, _warnings)) => Some(schema),
            Err(e) => {
                errors.push(diagnostic_error(SCHEMA_NAME, SCHEMA_TEXT, &e));
                None
            }
        };

        let catalog = match ModelCatalog::parse(&source.catalog.text) {
            Ok(catalog) => Some(catalog),
            Err(message) => {
                errors.push(LoadError::at(source.catalog.name.clone(), None, message));
                None
            }
        };

        let mut classifiers = Vec::new();
        for file in &source.classifiers {
            match Classifier::from_toml(&file.name, &file.text) {
                Ok(classifier) => classifiers.push(classifier),
                Err(e) => errors.push(LoadError::at(file.name.clone(), None, e.to_string())),
            }
        }
        let scanner = match Scanner::new(classifiers) {
            Ok(scanner) => Some(scanner),
            Err(e) => {
                errors.push(LoadError::at("classifiers".into(), None, e.to_string()));
                None
            }
        };

        let (policies, meta) = load_policies(&source.policies, &mut errors);

        if let Some(schema) = &schema {
            let validator = Validator::new(schema.clone());
            let result = validator.validate(&policies, ValidationMode::Strict);
            for err in result.validation_errors() {
                let file = meta
                    .get(err.policy_id())
                    .map(|m| m.file.as_str())
                    .unwrap_or("policies");
                let text = source
                    .policies
                    .iter()
                    .find(|f| f.name == file)
                    .map(|f| f.text.as_str())
                    .unwrap_or_default();
                errors.push(diagnostic_error(file, text, err));
            }
            for warning in result.validation_warnings() {
                let file = meta
                    .get(warning.policy_id())
                    .map(|m| m.file.as_str())
                    .unwrap_or("policies");
                let text = source
                    .policies
                    .iter()
                    .find(|f| f.name == file)
                    .map(|f| f.text.as_str())
                    .unwrap_or_default();
                warnings.push(diagnostic_error(file, text, warning));
            }
        }
        for policy in meta.values() {
            if !SEVERITIES.contains(&policy.severity.as_str()) {
                warnings.push(LoadError::at(
                    policy.file.clone(),
                    policy.position,
                    format!(
                        "policy `{}`: @severity(\"{}\") is not one of {}",
                        policy.id,
                        policy.severity,
                        SEVERITIES.join(", ")
                    ),
                ));
            }
        }
        warnings.sort_by(|a, b| (&a.file, a.position).cmp(&(&b.file, b.position)));

        let (Some(schema), Some(catalog), Some(scanner)) = (schema, catalog, scanner) else {
            return Err(LoadErrors(errors));
        };
        if !errors.is_empty() {
            return Err(LoadErrors(errors));
        }
        let static_entities = entities::StaticEntities::build(&schema, &catalog, &scanner)
            .map_err(|message| LoadErrors(vec![LoadError::at("entities".into(), None, message)]))?;
        let index = index::ScopeIndex::build(&schema, &policies)
            .map_err(|message| LoadErrors(vec![LoadError::at("policies".into(), None, message)]))?;
        Ok(Bundle {
            schema,
            index,
            meta,
            catalog,
            scanner,
            static_entities,
            cache: cache::DecisionCache::default(),
            version: source.content_hash(),
            commit: source.commit.clone(),
            origin: source.origin.clone(),
            warnings,
        })
    }

    /// The content hash of the source (`sha256:…`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What loaded but deserves a look: Cedar validator warnings (e.g. impossible
    /// conditions), unknown `@severity` values. `policy validate --warnings-as-errors`
    /// fails on them.
    pub fn warnings(&self) -> &[LoadError] {
        &self.warnings
    }

    /// The Git commit of the policy directory, when it is a checkout.
    pub fn commit(&self) -> Option<&str> {
        self.commit.as_deref()
    }

    /// Every policy `@id`, sorted.
    pub fn policy_ids(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = self.meta.values().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    /// The `@id`s of every forbid, sorted.
    pub fn forbid_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .meta
            .values()
            .filter(|m| m.effect == "forbid")
            .map(|m| m.id.clone())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Every policy's annotations, sorted by `@id`.
    pub fn policies_meta(&self) -> Vec<&PolicyMeta> {
        let mut all: Vec<&PolicyMeta> = self.meta.values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// The data classes the scanner emits, their ancestors and the class families.
    pub fn known_classes(&self) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> = entities::CLASS_FAMILIES
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
        for info in self.scanner.classes() {
            names.insert(info.class.to_string());
            names.extend(crate::scan::class_ancestors(&info.class).map(str::to_owned));
        }
        names
    }

    /// Where it was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The model catalog.
    pub fn catalog(&self) -> &ModelCatalog {
        &self.catalog
    }

    /// The scanner built with this bundle's classifiers.
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// How many policies it holds.
    pub fn policy_count(&self) -> usize {
        self.meta.len()
    }

    /// The annotations of a policy by its (re-keyed) id.
    pub fn policy_meta(&self, id: &str) -> Option<&PolicyMeta> {
        self.meta.get(&PolicyId::new(id))
    }
}

fn load_policies(
    files: &[SourceFile],
    errors: &mut Vec<LoadError>,
) -> (PolicySet, HashMap<PolicyId, PolicyMeta>) {
    let mut set = PolicySet::new();
    let mut meta: HashMap<PolicyId, PolicyMeta> = HashMap::new();
    let mut first_seen: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        let parsed = match PolicySet::from_str(&file.text) {
            Ok(parsed) => parsed,
            Err(e) => {
                for err in e.iter() {
                    errors.push(diagnostic_error(&file.name, &file.text, err));
                }
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            errors.push(LoadError::at(
                file.name.clone(),
                None,
                "templates are not supported; write static policies".into(),
            ));
        }
        let starts = statement_offsets(&file.text);
        let lines = LineIndex::new(&file.text);
        for policy in parsed.policies() {
            // Cedar names the policies of a parsed file policy0, policy1, ... in text order.
            let position = policy
                .id()
                .to_string()
                .strip_prefix("policy")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| starts.get(n))
                .map(|&offset| lines.line_col(&file.text, offset));
            let Some(id) = annotation(policy, "id").map(str::to_owned) else {
                errors.push(LoadError::at(
                    file.name.clone(),
                    position,
                    "policy has no @id annotation".into(),
                ));
                continue;
            };
            let reason = annotation(policy, "reason").unwrap_or_default().to_owned();
            if reason.is_empty() {
                errors.push(LoadError::at(
                    file.name.clone(),
                    position,
                    format!("policy `{id}` has no @reason annotation"),
                ));
            }
            let severity = annotation(policy, "severity")
                .unwrap_or("medium")
                .to_owned();
            if let Some(other) = first_seen.insert(id.clone(), file.name.clone()) {
                errors.push(LoadError::at(
                    file.name.clone(),
                    position,
                    format!("@id(\"{id}\") is already used in {other}"),
                ));
                continue;
            }
            let policy_id = PolicyId::new(&id);
            let renamed = policy.new_id(policy_id.clone());
            if let Err(e) = set.add(renamed) {
                errors.push(LoadError::at(file.name.clone(), position, e.to_string()));
                continue;
            }
            meta.insert(
                policy_id,
                PolicyMeta {
                    id,
                    reason,
                    severity,
                    file: file.name.clone(),
                    effect: match policy.effect() {
                        cedar_policy::Effect::Permit => "permit",
                        cedar_policy::Effect::Forbid => "forbid",
                    },
                    position,
                },
            );
        }
    }
    (set, meta)
}

/// The value of annotation `key`. (Cedar's own `Policy::annotation` runs its parser on
/// the key on every call, which was a sixth of loading 1,000 policies.)
fn annotation<'a>(policy: &'a cedar_policy::Policy, key: &str) -> Option<&'a str> {
    policy
        .annotations()
        .find_map(|(name, value)| (name == key).then_some(value))
}

/// Turns a Cedar diagnostic into a load error at the first labelled position.
fn diagnostic_error(file: &str, text: &str, err: &dyn miette::Diagnostic) -> LoadError {
    let offset = err
        .labels()
        .and_then(|mut labels| labels.next())
        .map(|label| label.offset());
    let mut message = err.to_string();
    if let Some(help) = err.help() {
        message.push_str(&format!(" (help: {help})"));
    }
    LoadError::at(file.to_owned(), offset.map(|o| line_col(text, o)), message)
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Line starts of one file, so that placing every policy of a large file costs a binary
/// search each rather than a scan from the top (a 1,000-policy file made reload
/// quadratic).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line and column of a byte offset, as [`line_col`] computes them.
    fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let col = text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// Byte offsets where each top-level statement of a Cedar file starts (its first
/// annotation or effect), skipping comments and string literals.
fn statement_offsets(text: &str) -> Vec<usize> {
    statement_spans(text)
        .into_iter()
        .map(|(start, _)| start)
        .collect()
}

/// Byte ranges of each top-level statement of a Cedar file, from its first annotation
/// or effect to its closing `;` (inclusive), skipping comments and string literals.
fn statement_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut start = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                if start.is_none() {
                    start = Some(i);
                }
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b';' => {
                if let Some(begin) = start.take() {
                    spans.push((begin, i + 1));
                }
            }
            c if c.is_ascii_whitespace() => {}
            _ => {
                if start.is_none() {
                    start = Some(i);
                }
            }
        }
        i += 1;
    }
    if let Some(begin) = start {
        spans.push((begin, bytes.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled_with(extra: &str) -> PolicySource {
        let mut source = PolicySource::bundled();
        source.policies.push(SourceFile {
            name: "extra.cedar".into(),
            text: extra.into(),
        });
        source
    }

    #[test]
    fn bundled_policies_load() {
        let bundle = Bundle::load(&PolicySource::bundled()).unwrap();
        assert!(bundle.policy_count() >= 8);
        assert!(bundle.version().starts_with("sha256:"));
        assert!(bundle.policy_meta("residency.eu-stays-in-eu").is_some());
    }

    #[test]
    fn parse_error_names_file_line_and_column() {
        let errs = Bundle::load(&bundled_with(
            "\n\n@id(\"x\")\npermit (principal, action, resource) when { ;",
        ))
        .unwrap_err();
        let err = &errs.0[0];
        assert_eq!(err.file(), "extra.cedar");
        let (line, _col) = err.position().unwrap();
        assert_eq!(line, 4, "{err}");
    }

    #[test]
    fn validation_error_names_the_file() {
        let errs = Bundle::load(&bundled_with(
            "@id(\"typo\")\n@reason(\"r\")\npermit (principal, action == Customs::Action::\"invoke\", resource)\nwhen { principal.residence == \"EU\" };",
        ))
        .unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("extra.cedar:4:"), "{text}");
        assert!(text.contains("residence"), "{text}");
    }

    #[test]
    fn duplicate_and_missing_ids_are_refused() {
        let errs = Bundle::load(&bundled_with(
            "@id(\"echo.any-authenticated-caller\")\n@reason(\"r\")\nforbid (principal, action, resource);\npermit (principal, action, resource);",
        ))
        .unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("already used in echo.cedar"), "{text}");
        assert!(text.contains("no @id"), "{text}");
    }

    #[test]
    fn statements_start_after_comments_and_skip_strings() {
        let text = "// a; b\n@id(\"x;y\")\npermit (principal, action, resource);\n\n  forbid (principal, action, resource);";
        let starts = statement_offsets(text);
        assert_eq!(starts.len(), 2);
        assert_eq!(line_col(text, starts[0]), (2, 1));
        assert_eq!(line_col(text, starts[1]), (5, 3));
    }

    #[test]
    fn the_line_index_agrees_with_line_col() {
        let text = "ab\ncdé\n\nfg";
        let index = LineIndex::new(text);
        for offset in [0, 1, 2, 3, 5, 7, 8, 9, 10, text.len()] {
            assert_eq!(
                index.line_col(text, offset),
                line_col(text, offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
