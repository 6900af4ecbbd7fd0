//! inspect: finds regulated data in the text segments of a request.
//!
//! The scanner sits in the `inspect` phase, between `parse` (which hands it every text
//! segment a model would read) and `decide` (which turns its findings' data classes
//! into Cedar requests); `redact` then rewrites the segments from the same findings.
//!
//! CONTRACT (kept stable for the rest of the crate; internals are free to change):
//! `Scanner::new(classifiers)`, `Scanner::scan(text) -> Result<Vec<Finding>, ScanError>`,
//! `Scanner::classes()`, `Classifier::from_toml(source, text)`, `class_ancestors(class)`,
//! `redact::Redactor`.
//!
//! How a text is scanned, in order:
//!
//! 1. [`normalize`]: undo Unicode evasions (zero-width and bidi controls, tag
//!    characters, soft hyphens, digits of any script, fullwidth and other NFKC
//!    compatibility forms, confusable `@` `.` `-`), keeping an offset map so findings
//!    point at the original bytes. All-ASCII text skips this step entirely.
//! 2. `detectors/`: one file per family behind one small trait, each starting from
//!    shared, lazily computed candidates (ASCII digit groups, alphanumeric tokens,
//!    one Aho-Corasick pass over every context word and gazetteer term, one over
//!    every secret's literal opening) before its shape check; [`validators`] holds
//!    the checksums (Luhn, mod-97, Verhoeff, mod-11, mod-23, Base58Check, Bech32, ...)
//!    that turn a shape into a finding; `classifier.rs` parses the custom
//!    dictionaries of `policies/classifiers/`.
//! 3. `decode`: base64, hex, percent-encoded and `\uXXXX`-escaped tokens are decoded
//!    and scanned again (nested to depth 2); a finding inside makes the whole encoded
//!    token a finding.
//!
//! Detectors emit overlapping *candidates*; [`Scanner::scan`]
//! resolves overlaps once, for all of them, keeping the best finding (severity, then
//! confidence, then length), so a detector never has to know about the others. Then
//! every other occurrence of a found value is marked too, so a copy in a worse context
//! cannot stay in clear next to its redacted twin.
//! Findings carry only offsets and labels, never the matched value, so they can be
//! logged and counted without leaking what they point at.

mod classifier;
mod decode;
mod detectors;
pub mod fuzz;
pub mod normalize;
pub mod redact;
pub mod validators;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

pub use classifier::{CUSTOM_CLASS_PREFIX, Classifier};
use detectors::Detector;

use serde::Serialize;

/// How bad it is when a value of this class leaves the building.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// One piece of regulated data found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Entity type in upper snake case (`EMAIL`, `CARD_NUMBER`); also the placeholder label.
    #[serde(rename = "type", serialize_with = "serialize_arc_str")]
    pub entity: Arc<str>,
    /// Dotted data class (`PII.EMAIL`, `GOVID.US.SSN`).
    #[serde(serialize_with = "serialize_arc_str")]
    pub class: Arc<str>,
    /// Byte offset of the first byte in the scanned text.
    pub start: usize,
    /// Byte offset one past the last byte in the scanned text.
    pub end: usize,
    /// Confidence in 0..=1.
    #[serde(serialize_with = "serialize_confidence")]
    pub confidence: f32,
    /// Severity of the class.
    pub severity: Severity,
}

/// A data class the scanner can emit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassInfo {
    /// Dotted data class.
    #[serde(serialize_with = "serialize_arc_str")]
    pub class: Arc<str>,
    /// Entity type label.
    #[serde(serialize_with = "serialize_arc_str")]
    pub entity: Arc<str>,
    /// Severity.
    pub severity: Severity,
}

/// `Arc<str>` as a plain string, without depending on serde's `rc` feature.
fn serialize_arc_str<S: serde::Serializer>(
    value: &Arc<str>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

/// An `f32` as the `f64` of its shortest decimal form: `0.95`, not `0.949999988079071`.
fn serialize_confidence<S: serde::Serializer>(
    value: &f32,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let wide = value
        .to_string()
        .parse::<f64>()
        .unwrap_or(f64::from(*value));
    serializer.serialize_f64(wide)
}

/// Scanner failures. Any of them denies the request (fail closed).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A classifier file is not valid.
    #[error("classifier {source_name}: {message}")]
    Classifier {
        /// File name.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// The compiled detectors: built-in families plus the custom classifiers. Cheap to
/// share across requests (`Send + Sync`, no interior mutability).
#[derive(Debug)]
pub struct Scanner {
    detectors: Vec<Box<dyn Detector>>,
    classes: Vec<ClassInfo>,
}

impl Scanner {
    /// Builds the scanner from the built-in detectors plus custom classifiers.
    ///
    /// Fails with [`ScanError::Classifier`] when two classifiers share an id, when a
    /// classifier reuses a built-in entity label, or when one class or entity label is
    /// declared with different entity, class or severity in two files.
    pub fn new(classifiers: Vec<Classifier>) -> Result<Self, ScanError> {
        let mut detectors = detectors::builtin();
        let mut classes: Vec<ClassInfo> = detectors.iter().flat_map(|d| d.classes()).collect();

        let mut ids: HashMap<&str, &str> = HashMap::new();
        for c in &classifiers {
            let fail = |message: String| ScanError::Classifier {
                source_name: c.source_name().to_owned(),
                message,
            };
            if let Some(first) = ids.insert(c.id(), c.source_name()) {
                return Err(fail(format!(
                    "duplicate classifier id {:?} (already defined in {first})",
                    c.id()
                )));
            }
            let info = c.class_info();
            for known in &classes {
                let same_class = known.class == info.class;
                let same_entity = known.entity == info.entity;
                if same_class && same_entity && known.severity == info.severity {
                    continue;
                }
                if same_entity && !known.class.starts_with(CUSTOM_CLASS_PREFIX) {
                    return Err(fail(format!(
                        "entity {:?} is a built-in entity label; choose another",
                        &*info.entity
                    )));
                }
                if same_class || same_entity {
                    return Err(fail(format!(
                        "class {:?} / entity {:?} / severity {:?} conflicts with class {:?} / entity {:?} / severity {:?} declared by another classifier; one class has one entity label and one severity",
                        &*info.class,
                        &*info.entity,
                        info.severity,
                        &*known.class,
                        &*known.entity,
                        known.severity
                    )));
                }
            }
            if !classes.contains(info) {
                classes.push(info.clone());
            }
        }

        if !classifiers.is_empty() {
            detectors.push(Box::new(detectors::dictionary::DictionaryDetector::new(
                &classifiers,
            )?));
        }
        Ok(Scanner { detectors, classes })
    }

    /// Scans one decoded text segment. Findings are sorted by start and do not overlap;
    /// where candidates overlap, the one with the highest severity, then confidence,
    /// then length wins. Every other exact occurrence of a found value that overlaps no
    /// finding is reported as well. Offsets are byte offsets on char boundaries of `text`.
    pub fn scan(&self, text: &str) -> Result<Vec<Finding>, ScanError> {
        let candidates = self.candidates(text, DECODE_DEPTH);
        let findings = resolve_overlaps(text, candidates);
        Ok(propagate_values(text, findings))
    }

    /// Every candidate of `text` (normalised first when it needs it), with offsets
    /// into `text`, plus those of decoded tokens while `depth` allows.
    fn candidates(&self, text: &str, depth: usize) -> Vec<Finding> {
        match normalize::normalize(text) {
            None => self.candidates_of(text, depth),
            Some(normalized) => self
                .candidates_of(&normalized.text, depth)
                .into_iter()
                .filter_map(|f| {
                    let (start, end) = normalized.original_span(f.start, f.end)?;
                    Some(Finding { start, end, ..f })
                })
                .collect(),
        }
    }

    /// The candidates of a text that needs no normalisation.
    fn candidates_of(&self, text: &str, depth: usize) -> Vec<Finding> {
        let input = detectors::Input::new(text);
        let mut candidates = Vec::new();
        for detector in &self.detectors {
            detector.detect(&input, &mut candidates);
        }
        if depth > 0 {
            for token in decode::encoded_tokens(&input) {
                let inner = self.candidates(&token.decoded, depth - 1);
                let best = inner.iter().max_by(|a, b| {
                    a.severity
                        .cmp(&b.severity)
                        .then(a.confidence.total_cmp(&b.confidence))
                });
                if let Some(best) = best
                    && text.get(token.start..token.end).is_some()
                {
                    candidates.push(Finding {
                        start: token.start,
                        end: token.end,
                        confidence: best.confidence * 0.95,
                        ..best.clone()
                    });
                }
            }
        }
        candidates
    }

    /// Every class this scanner can emit (built-in and custom), each once.
    pub fn classes(&self) -> Vec<ClassInfo> {
        self.classes.clone()
    }
}

/// How many layers of encoding are looked through (base64 of percent-encoding: 2).
const DECODE_DEPTH: usize = 2;

/// Marks every other occurrence of a found value too, where it overlaps no finding.
///
/// A value found once must not stay in clear elsewhere in the same text just because
/// that occurrence sits in a worse context (`(415) 555-2671(415) 555-2671`: the second
/// copy is glued to a digit and fails the phone's boundary check). Without this, the
/// redacted text could still contain a value the scanner had found, and a re-scan
/// after redaction would find it, since its neighbour became a placeholder.
fn propagate_values(text: &str, findings: Vec<Finding>) -> Vec<Finding> {
    let mut occurrences: Vec<Finding> = Vec::new();
    let mut seen: std::collections::HashSet<&str> =
        std::collections::HashSet::with_capacity(findings.len());
    for f in &findings {
        let Some(value) = text.get(f.start..f.end) else {
            continue;
        };
        if !seen.insert(value) {
            continue;
        }
        // Short values (a CVV, a name) are only propagated as whole words: `539` must
        // not be marked inside the order number `539561951`.
        let short = value.chars().count() < 8;
        let glued = |start: usize, end: usize| {
            let before = text.get(..start).and_then(|s| s.chars().next_back());
            let after = text.get(end..).and_then(|s| s.chars().next());
            before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric)
        };
        for (start, _) in text.match_indices(value) {
            let end = start + value.len();
            if short && glued(start, end) {
                continue;
            }
            occurrences.push(Finding {
                start,
                end,
                ..f.clone()
            });
        }
    }
    // One sweep in start order: an occurrence is new when it overlaps no finding
    // (binary search) and no occurrence already taken (the last one taken).
    occurrences.sort_by_key(|f| f.start);
    let mut extra: Vec<Finding> = Vec::new();
    for o in occurrences {
        let at = findings.partition_point(|k| k.end <= o.start);
        let free_of_findings = findings.get(at).is_none_or(|k| o.end <= k.start);
        let free_of_extra = extra.last().is_none_or(|k| k.end <= o.start);
        if free_of_findings && free_of_extra {
            extra.push(o);
        }
    }
    if extra.is_empty() {
        return findings;
    }
    let mut all = findings;
    all.extend(extra);
    all.sort_by_key(|f| f.start);
    all
}

/// Keeps the best of overlapping candidates and returns the survivors sorted by start.
///
/// Greedy by rank: candidates are visited best first and kept when they overlap no
/// finding already kept. Candidates with spans that are not valid for `text` are
/// dropped (defence against a buggy detector; never a panic downstream).
fn resolve_overlaps(text: &str, mut candidates: Vec<Finding>) -> Vec<Finding> {
    candidates.retain(|f| f.start < f.end && text.get(f.start..f.end).is_some());
    if candidates.len() <= 1 {
        return candidates;
    }
    candidates.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.confidence.total_cmp(&a.confidence))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    // Kept spans by start (a B-tree, so dense texts with thousands of findings stay
    // O(n log n)); each candidate is compared with its two neighbours only.
    let mut kept: std::collections::BTreeMap<usize, Finding> = std::collections::BTreeMap::new();
    for candidate in candidates {
        let clear_before = kept
            .range(..=candidate.start)
            .next_back()
            .is_none_or(|(_, k)| k.end <= candidate.start);
        let clear_after = kept
            .range(candidate.start..)
            .next()
            .is_none_or(|(_, k)| candidate.end <= k.start);
        if clear_before && clear_after {
            kept.insert(candidate.start, candidate);
        }
    }
    kept.into_values().collect()
}

/// The ancestors of a dotted class, nearest first: `GOVID.US.SSN` → `GOVID.US`, `GOVID`.
pub fn class_ancestors(class: &str) -> impl Iterator<Item = &str> {
    class.rmatch_indices('.').map(move |(i, _)| &class[..i])
}
