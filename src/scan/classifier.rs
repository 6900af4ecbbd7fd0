//! Custom classifiers: organisation-specific data classes authored as TOML files in
//! `policies/classifiers/` (format documented in `policies/classifiers/README.md`).
//!
//! A classifier is a dictionary of terms (project codenames, customer names, internal
//! hostnames) with one `CONFIDENTIAL.*` class. Files are untrusted input written by
//! policy authors, so parsing is strict: unknown fields, empty or duplicate terms, bad
//! names and out-of-range values are errors that name the file, never silently ignored
//! (a typo such as `case_sensitve` would otherwise change what gets redacted). Checks
//! that need all files at once (duplicate ids, one entity per class) happen in
//! [`Scanner::new`](super::Scanner::new).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::{ClassInfo, ScanError, Severity};

/// The prefix every custom class must carry.
pub const CUSTOM_CLASS_PREFIX: &str = "CONFIDENTIAL.";
const MAX_ID_LEN: usize = 64;
const MAX_CLASS_LEN: usize = 128;
const MAX_ENTITY_LEN: usize = 48;
const MAX_TERM_LEN: usize = 256;
const MAX_TERMS: usize = 100_000;
const DEFAULT_CONFIDENCE: f32 = 0.9;

/// A custom classifier loaded from `policies/classifiers/`.
#[derive(Debug, Clone)]
pub struct Classifier {
    source_name: String,
    id: String,
    description: Option<String>,
    info: ClassInfo,
    case_sensitive: bool,
    whole_word: bool,
    confidence: f32,
    terms: Vec<String>,
}

/// The file format, field for field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifierFile {
    id: String,
    #[serde(default)]
    description: Option<String>,
    class: String,
    entity: String,
    severity: Severity,
    #[serde(default)]
    case_sensitive: bool,
    #[serde(default = "default_whole_word")]
    whole_word: bool,
    #[serde(default)]
    confidence: Option<f32>,
    terms: Vec<String>,
}

fn default_whole_word() -> bool {
    true
}

impl Classifier {
    /// Parses one classifier file. `source_name` (usually the file name) is only used
    /// in error messages.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Self, ScanError> {
        let fail = |message: String| ScanError::Classifier {
            source_name: source_name.to_owned(),
            message,
        };
        let file: ClassifierFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            match line {
                Some(line) => fail(format!("invalid TOML at line {line}: {}", e.message())),
                None => fail(format!("invalid TOML: {}", e.message())),
            }
        })?;

        if !valid_id(&file.id) {
            return Err(fail(format!(
                "id {:?} must be 1-{MAX_ID_LEN} characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
                file.id
            )));
        }
        if !valid_class(&file.class) {
            return Err(fail(format!(
                "class {:?} must start with {CUSTOM_CLASS_PREFIX:?} followed by dot-separated segments of A-Z, 0-9 and '_' (at most {MAX_CLASS_LEN} characters)",
                file.class
            )));
        }
        if !valid_entity(&file.entity) {
            return Err(fail(format!(
                "entity {:?} must be 1-{MAX_ENTITY_LEN} characters of A-Z, 0-9 and '_', starting with a letter",
                file.entity
            )));
        }
        let confidence = file.confidence.unwrap_or(DEFAULT_CONFIDENCE);
        if !(confidence > 0.0 && confidence <= 1.0) {
            return Err(fail(format!("confidence {confidence} must be in (0, 1]")));
        }
        if file.terms.is_empty() {
            return Err(fail("terms must not be empty".to_owned()));
        }
        if file.terms.len() > MAX_TERMS {
            return Err(fail(format!("at most {MAX_TERMS} terms are allowed")));
        }
        let mut seen = HashSet::with_capacity(file.terms.len());
        let mut terms = Vec::with_capacity(file.terms.len());
        for (n, raw) in file.terms.into_iter().enumerate() {
            let term = raw.trim();
            if term.is_empty() {
                return Err(fail(format!("term #{} is empty", n + 1)));
            }
            if term.len() > MAX_TERM_LEN {
                return Err(fail(format!(
                    "term #{} is longer than {MAX_TERM_LEN} bytes",
                    n + 1
                )));
            }
            if term.chars().any(char::is_control) {
                return Err(fail(format!(
                    "term #{} contains a control character (newline, tab, ...)",
                    n + 1
                )));
            }
            let key = if file.case_sensitive {
                term.to_owned()
            } else {
                term.to_lowercase()
            };
            if !seen.insert(key) {
                // Name the position, not the term: error messages end up in logs.
                return Err(fail(format!(
                    "term #{} duplicates an earlier term{}",
                    n + 1,
                    if file.case_sensitive {
                        ""
                    } else {
                        " (terms are compared case-insensitively)"
                    }
                )));
            }
            terms.push(term.to_owned());
        }

        Ok(Classifier {
            source_name: source_name.to_owned(),
            id: file.id,
            description: file.description,
            info: ClassInfo {
                class: Arc::from(file.class),
                entity: Arc::from(file.entity),
                severity: file.severity,
            },
            case_sensitive: file.case_sensitive,
            whole_word: file.whole_word,
            confidence,
            terms,
        })
    }

    /// Loads every `*.toml` file of `dir`, in file-name order (other files, such as a
    /// README, are ignored). Unreadable files are [`ScanError::Classifier`] errors too.
    pub fn load_dir(dir: &Path) -> Result<Vec<Classifier>, ScanError> {
        let dir_error = |e: std::io::Error| ScanError::Classifier {
            source_name: dir.display().to_string(),
            message: format!("cannot read directory: {e}"),
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(dir_error)? {
            let path = entry.map_err(dir_error)?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let text = std::fs::read_to_string(path).map_err(|e| ScanError::Classifier {
                    source_name: name.clone(),
                    message: format!("cannot read file: {e}"),
                })?;
                Classifier::from_toml(&name, &text)
            })
            .collect()
    }

    /// Where the classifier came from (file name).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The stable identifier, unique among loaded classifiers.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Free-text description for humans.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Class, entity label and severity of the findings it emits.
    pub fn class_info(&self) -> &ClassInfo {
        &self.info
    }

    /// Whether terms match only with the same case.
    pub fn case_sensitive(&self) -> bool {
        self.case_sensitive
    }

    /// Whether a match must stand as a whole word (the default).
    pub fn whole_word(&self) -> bool {
        self.whole_word
    }

    /// Confidence given to its findings.
    pub fn confidence(&self) -> f32 {
        self.confidence
    }

    /// The terms, trimmed, in file order.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }
}

fn valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    id.len() <= MAX_ID_LEN
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn valid_class(class: &str) -> bool {
    let Some(rest) = class.strip_prefix(CUSTOM_CLASS_PREFIX) else {
        return false;
    };
    class.len() <= MAX_CLASS_LEN
        && rest.split('.').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
}

fn valid_entity(entity: &str) -> bool {
    let mut bytes = entity.bytes();
    entity.len() <= MAX_ENTITY_LEN
        && bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "codenames"
class = "CONFIDENTIAL.PROJECT"
entity = "PROJECT_CODENAME"
severity = "high"
terms = ["Project Bluebird", " Nightjar "]
"#;

    fn error_of(text: &str) -> String {
        match Classifier::from_toml("bad.toml", text) {
            Ok(_) => String::from("<accepted>"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_with_defaults() -> Result<(), ScanError> {
        let c = Classifier::from_toml("codenames.toml", GOOD)?;
        assert_eq!(c.id(), "codenames");
        assert_eq!(&*c.class_info().class, "CONFIDENTIAL.PROJECT");
        assert_eq!(&*c.class_info().entity, "PROJECT_CODENAME");
        assert_eq!(c.class_info().severity, Severity::High);
        assert!(!c.case_sensitive());
        assert!(c.whole_word());
        assert_eq!(c.terms(), ["Project Bluebird", "Nightjar"]);
        Ok(())
    }

    #[test]
    fn the_shipped_example_is_valid() -> Result<(), ScanError> {
        let text = include_str!("../../policies/classifiers/project-codenames.toml");
        let c = Classifier::from_toml("project-codenames.toml", text)?;
        assert!(c.class_info().class.starts_with(CUSTOM_CLASS_PREFIX));
        Ok(())
    }

    #[test]
    fn rejects_with_file_name_and_reason() {
        let cases = [
            (
                GOOD.replace("terms =", "case_sensitve = true\nterms ="),
                "unknown field",
            ),
            (
                GOOD.replace("CONFIDENTIAL.PROJECT", "PII.PROJECT"),
                "must start with",
            ),
            (
                GOOD.replace("CONFIDENTIAL.PROJECT", "CONFIDENTIAL."),
                "must start with",
            ),
            (
                GOOD.replace("CONFIDENTIAL.PROJECT", "CONFIDENTIAL.project"),
                "must start with",
            ),
            (GOOD.replace("PROJECT_CODENAME", "project"), "entity"),
            (GOOD.replace("\"codenames\"", "\"Code Names\""), "id"),
            (GOOD.replace("\"high\"", "\"severe\""), "invalid TOML"),
            (
                GOOD.replace(r#"["Project Bluebird", " Nightjar "]"#, "[]"),
                "terms must not be empty",
            ),
            (
                GOOD.replace(r#"" Nightjar ""#, r#""  ""#),
                "term #2 is empty",
            ),
            (
                GOOD.replace(r#"" Nightjar ""#, r#""project BLUEBIRD""#),
                "term #2 duplicates",
            ),
            (GOOD.replace("severity = \"high\"\n", ""), "missing field"),
            (
                GOOD.replace("terms =", "confidence = 1.5\nterms ="),
                "confidence",
            ),
            ("not toml at all".to_owned(), "invalid TOML"),
        ];
        for (text, expected) in cases {
            let err = error_of(&text);
            assert!(err.starts_with("classifier bad.toml: "), "{err}");
            assert!(err.contains(expected), "expected {expected:?} in {err:?}");
        }
    }

    #[test]
    fn load_dir_reads_toml_files_in_order() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("b.toml"), GOOD.replace("codenames", "b"))?;
        std::fs::write(dir.path().join("a.toml"), GOOD.replace("codenames", "a"))?;
        std::fs::write(dir.path().join("README.md"), "not a classifier")?;
        let ids: Vec<String> = Classifier::load_dir(dir.path())?
            .iter()
            .map(|c| c.id().to_owned())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        std::fs::write(dir.path().join("c.toml"), "id = 1")?;
        let err = Classifier::load_dir(dir.path())
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.starts_with("classifier c.toml:")));
        Ok(())
    }
}
