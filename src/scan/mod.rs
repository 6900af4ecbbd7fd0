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
//!    shared, lazily computed candidates (ASCII digit groups and the windows number
//!    rules read, alphanumeric tokens, capitals, the keyword hits of every context word
//!    and gazetteer term, exact but computed only near candidates, one search for every
//!    secret's literal opening) before its shape check; [`validators`] holds the
//!    checksums (Luhn, mod-97, Verhoeff, mod-11, mod-23, Base58Check, Bech32, ...) that
//!    turn a shape into a finding; `classifier.rs` parses the custom dictionaries of
//!    `policies/classifiers/`. Most text is far from any candidate, so most of it is
//!    only ever touched by a few SIMD searches (`memchr`, Teddy), one pass that turns
//!    each 64 bytes into byte-class masks (`masks.rs`) and the trigger block probes;
//!    see `detectors/mod.rs` and BENCHMARKS.md "Detection".
//! 3. `decode`: base64, hex, percent-encoded and `\uXXXX`-escaped tokens are decoded
//!    and scanned again (nested to depth 2); a finding inside makes the whole encoded
//!    token a finding.
//!
//! Detectors emit overlapping *candidates*; [`Scanner::scan`]
//! resolves overlaps once, for all of them, keeping the best finding (severity, then
//! confidence, then length), so a detector never has to know about the others (and
//! only candidates that overlap are ever compared). Readings of the very same span as
//! different classes (eleven digits that are both a valid ABN and a valid Steuer-ID)
//! are named by the most confident one, the one whose context words were there. Then
//! every other occurrence of a found value is marked too, so a copy in a worse context
//! cannot stay in clear next to its redacted twin.
//! Findings carry only offsets and labels, never the matched value, so they can be
//! logged and counted without leaking what they point at.

mod classifier;
mod decode;
mod detectors;
pub mod fuzz;
mod masks;
pub mod normalize;
pub mod redact;
pub mod strategy;
pub mod validators;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

pub use classifier::{CUSTOM_CLASS_PREFIX, Classifier};
use detectors::{Candidate, Detector};

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
        // Several detectors may emit one class (the HL7 reader emits names, dates of
        // birth, …): each is listed once.
        let mut classes: Vec<ClassInfo> = Vec::new();
        for info in detectors.iter().flat_map(|d| d.classes()) {
            if !classes.contains(&info) {
                classes.push(info);
            }
        }

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
        let kept = resolve_overlaps(text, candidates);
        let found = propagate_values(text, kept, None);
        let findings = found
            .iter()
            .map(|c| Finding {
                entity: Arc::clone(&c.info.entity),
                class: Arc::clone(&c.info.class),
                start: c.start,
                end: c.end,
                confidence: c.confidence,
                severity: c.info.severity,
            })
            .collect();
        give_candidates(found);
        Ok(findings)
    }

    /// Every candidate of `text` (normalised first when it needs it), with offsets
    /// into `text`, plus those of decoded tokens while `depth` allows.
    fn candidates(&self, text: &str, depth: usize) -> Vec<Candidate<'_>> {
        match normalize::normalize(text) {
            None => self.candidates_of(text, depth),
            Some(normalized) => self
                .candidates_of(&normalized.text, depth)
                .into_iter()
                .filter_map(|c| {
                    let (start, end) = normalized.original_span(c.start, c.end)?;
                    Some(Candidate { start, end, ..c })
                })
                .collect(),
        }
    }

    /// The candidates of a text that needs no normalisation.
    fn candidates_of(&self, text: &str, depth: usize) -> Vec<Candidate<'_>> {
        let input = detectors::Input::new(text);
        let mut candidates = take_candidates();
        for detector in &self.detectors {
            detector.detect(&input, &mut candidates);
        }
        if depth > 0 {
            for token in decode::encoded_tokens(&input) {
                // The decoded content's findings, overlaps resolved as in any text (an
                // ABN that is also a valid Steuer-ID, next to the word ABN, is an ABN),
                // and the most severe of them names the whole token.
                let inner =
                    resolve_overlaps(&token.decoded, self.candidates(&token.decoded, depth - 1));
                let best = inner.iter().max_by(|a, b| {
                    a.severity()
                        .cmp(&b.severity())
                        .then(a.confidence.total_cmp(&b.confidence))
                });
                if let Some(best) = best
                    && text.get(token.start..token.end).is_some()
                {
                    candidates.push(Candidate {
                        start: token.start,
                        end: token.end,
                        confidence: best.confidence * 0.95,
                        ..*best
                    });
                }
                give_candidates(inner);
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

/// The most bytes one kept candidate list may hold (see [`give_candidates`]).
const KEPT_LIST_BYTES: usize = 8 << 20;

/// How many candidate lists a thread keeps: a scan uses four at once (candidates,
/// survivors, other occurrences of found values, and those taken).
const KEPT_LISTS: usize = 4;

thread_local! {
    /// Empty candidate lists with their allocations, kept per thread between scans
    /// (a dense text has tens of thousands of candidates: getting that memory from the
    /// system anew for each text, growing it by copies and giving it back costs more
    /// than filling it).
    static CANDIDATE_LISTS: RefCell<Vec<Vec<Candidate<'static>>>> =
        const { RefCell::new(Vec::new()) };
    /// The same for the list of candidates in start order of [`resolve_overlaps`].
    static ORDER_LIST: RefCell<Vec<(usize, usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// An empty candidate list, on an allocation kept by [`give_candidates`] when there is
/// one.
fn take_candidates<'s>() -> Vec<Candidate<'s>> {
    CANDIDATE_LISTS
        .try_with(|lists| lists.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps the allocation of `list` for [`take_candidates`], unless it is larger than
/// [`KEPT_LIST_BYTES`] or [`KEPT_LISTS`] are kept already.
fn give_candidates(list: Vec<Candidate<'_>>) {
    if list.capacity() == 0 || list.capacity() * size_of::<Candidate<'_>>() > KEPT_LIST_BYTES {
        return;
    }
    let list = recycle(list);
    let _ = CANDIDATE_LISTS.try_with(|lists| {
        let mut lists = lists.borrow_mut();
        if lists.len() < KEPT_LISTS {
            lists.push(list);
        }
    });
}

/// An empty vector on the allocation of `v`: its items are dropped, and collecting
/// what is left into a type of the same size and alignment reuses the allocation (the
/// standard library's in-place collection). This is how a list of candidates that
/// borrow one scanner becomes a list that can be kept between scans.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Marks every other occurrence of a found value too, where it overlaps no finding.
///
/// A value found once must not stay in clear elsewhere in the same text just because
/// that occurrence sits in a worse context (`(415) 555-2671(415) 555-2671`: the second
/// copy is glued to a digit and fails the phone's boundary check). Without this, the
/// redacted text could still contain a value the scanner had found, and a re-scan
/// after redaction would find it, since its neighbour became a placeholder.
///
/// `probe` picks how occurrences are searched for (see below; `None`: by their cost).
fn propagate_values<'s>(
    text: &str,
    findings: Vec<Candidate<'s>>,
    probe: Option<bool>,
) -> Vec<Candidate<'s>> {
    if findings.is_empty() {
        return findings;
    }
    type ValueIds<'t> = HashMap<Value<'t>, u32, std::hash::BuildHasherDefault<WordHasher>>;
    // Each distinct value once, with the first finding that has it.
    let mut ids: ValueIds<'_> =
        HashMap::with_capacity_and_hasher(findings.len(), Default::default());
    let mut firsts: Vec<&Candidate<'s>> = Vec::new();
    for f in &findings {
        let Some(value) = text.get(f.start..f.end) else {
            continue;
        };
        if !worth_propagating(value) {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = ids.entry(Value(value.as_bytes()))
            && let Ok(id) = u32::try_from(firsts.len())
        {
            slot.insert(id);
            firsts.push(f);
        }
    }
    let mut occurrences: Vec<Candidate<'s>> = take_candidates();
    let gaps = gaps_between(text.len(), &findings);
    let gap_bytes: usize = gaps.iter().map(|g| g.1 - g.0).sum();
    // Two ways to find the occurrences, chosen by their cost. Searching the text for
    // each value costs a pass over the text per value: cheap for the few values of a
    // prompt, quadratic for a text full of distinct ones (a 1 MB export of customer
    // records has some 50,000). Probing every position between findings against all
    // values at once costs a few instructions per byte there, whatever their number.
    let probe = probe.unwrap_or_else(|| {
        firsts.len().saturating_mul(text.len()) > PROBE_FROM_COST_RATIO.saturating_mul(gap_bytes)
    });
    let mut per_value: Vec<(u32, &Candidate<'s>)> = Vec::new();
    // Occurrences that overlap no finding and are not glued: start, value, end.
    let mut found: Vec<(usize, u32, usize)> = Vec::new();
    if probe {
        let probe = ValueProbe::new(ids.keys().map(|v| v.0));
        for (&Value(value), &id) in &ids {
            if value.len() < PROBE_KEY_LEN {
                per_value.extend(firsts.get(id as usize).map(|&f| (id, f)));
            }
        }
        // Per value, occurrences that do not overlap each other, left to right.
        let mut next_free = vec![0usize; firsts.len()];
        probe.for_each_in_gaps(text.as_bytes(), &gaps, |start, value| {
            let (Some(&id), end) = (ids.get(&Value(value)), start + value.len()) else {
                return;
            };
            let (Some(free), Some(&f)) = (next_free.get_mut(id as usize), firsts.get(id as usize))
            else {
                return;
            };
            if start < *free {
                return;
            }
            *free = end;
            if !glued(text, f.start, f.end, start, end) {
                found.push((start, id, end));
            }
        });
    } else {
        per_value.extend(firsts.iter().enumerate().map(|(id, &f)| (id as u32, f)));
    }
    for (id, f) in per_value {
        let Some(value) = text.get(f.start..f.end) else {
            continue;
        };
        // Occurrences that overlap a finding are never new; of the others, those that
        // do not overlap each other, left to right (as the probe finds them).
        // Occurrences come in start order, so the first finding ending after each is
        // found by galloping forward from the previous one rather than by a binary
        // search over all of them.
        let mut at = 0;
        for_each_occurrence(text.as_bytes(), value.as_bytes(), |start| {
            let end = start + value.len();
            at = gallop(&findings, at, |k| k.end <= start);
            if findings.get(at).is_some_and(|k| k.start < end) {
                return false;
            }
            if !glued(text, f.start, f.end, start, end) {
                found.push((start, id, end));
            }
            true
        });
    }
    // In order of start, then of the value's first finding.
    found.sort_unstable();
    occurrences.extend(found.into_iter().filter_map(|(start, id, end)| {
        let f = firsts.get(id as usize)?;
        Some(Candidate { start, end, ..**f })
    }));
    // One sweep in start order: an occurrence is new when it overlaps no occurrence
    // already taken (the last one taken).
    let mut extra: Vec<Candidate<'s>> = take_candidates();
    for &o in &occurrences {
        if extra.last().is_none_or(|k| k.end <= o.start) {
            extra.push(o);
        }
    }
    give_candidates(occurrences);
    if extra.is_empty() {
        give_candidates(extra);
        return findings;
    }
    let mut all = findings;
    all.extend_from_slice(&extra);
    give_candidates(extra);
    all.sort_by_key(|f| f.start);
    all
}

/// Whether a found value is marked at its other occurrences too: only one with at least
/// [`MIN_PROPAGATED_ALNUM`] letters or digits, or six symbols of four kinds or more. A
/// value of one or two kinds of punctuation, or of one letter among them, is no datum
/// of its own; were a rule ever to take one wrongly (a
/// password of backslashes), marking it everywhere would spread one bad finding over
/// every backslash of the text.
fn worth_propagating(value: &str) -> bool {
    if value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .nth(MIN_PROPAGATED_ALNUM - 1)
        .is_some()
    {
        return true;
    }
    // A password of symbols (`~!@#$%^&*()_+`) is one still: several kinds of them.
    let mut kinds: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    let long = kinds.len() >= 6;
    kinds.sort_unstable();
    kinds.dedup();
    long && kinds.len() >= 4
}

/// See [`worth_propagating`].
const MIN_PROPAGATED_ALNUM: usize = 2;

/// Propagation probes every position between findings once the values times the text
/// length exceed this many times the bytes between findings (a pass of `memchr` or
/// `memmem` over a byte costs a small fraction of a probe).
const PROBE_FROM_COST_RATIO: usize = 24;

/// The spans of a text of `len` bytes that no finding covers (findings sorted by start).
fn gaps_between(len: usize, findings: &[Candidate<'_>]) -> Vec<(usize, usize)> {
    let mut gaps = Vec::with_capacity(findings.len() + 1);
    let mut from = 0;
    for f in findings {
        if f.start > from {
            gaps.push((from, f.start));
        }
        from = from.max(f.end);
    }
    if len > from {
        gaps.push((from, len));
    }
    gaps
}

/// Whether an occurrence `start..end` of the value found at `found_start..found_end`
/// is glued to what surrounds it, so that it is not the same value there.
///
/// Short values (a CVV, a name) are only propagated as whole words: `539` must not be
/// marked inside the order number `539561951`, and a short number not inside a longer
/// one written with dashes, dots or slashes either (`555` in the ticket `555-0169`).
/// Longer ones may be glued to a letter or digit (`(415) 555-2671(415) 555-2671`,
/// `x4111111111111111`), but not continue into one of their own kind: `10.0.0.1` is not
/// inside `10.0.0.128`, nor `jane@example.com` inside `jane@example.community`.
fn glued(text: &str, found_start: usize, found_end: usize, start: usize, end: usize) -> bool {
    let Some(value) = text.get(found_start..found_end) else {
        return true;
    };
    let short = value.chars().count() < 8;
    if short && value.bytes().all(|b| b.is_ascii_digit()) {
        let joiner = |b: &u8| matches!(b, b'-' | b'.' | b'/');
        let bytes = text.as_bytes();
        let joined_after = bytes
            .get(end..end + 2)
            .is_some_and(|p| joiner(&p[0]) && p[1].is_ascii_digit());
        let joined_before = start
            .checked_sub(2)
            .and_then(|s| bytes.get(s..start))
            .is_some_and(|p| p[0].is_ascii_digit() && joiner(&p[1]));
        if joined_after || joined_before {
            return true;
        }
    }
    let (first, last) = (value.chars().next(), value.chars().next_back());
    let continues = |edge: Option<char>, next: Option<char>| match (edge, next) {
        (_, Some(n)) if short => n.is_alphanumeric(),
        (Some(e), Some(n)) => {
            (e.is_numeric() && n.is_numeric()) || (e.is_alphabetic() && n.is_alphabetic())
        }
        _ => false,
    };
    let before = text.get(..start).and_then(|s| s.chars().next_back());
    let after = text.get(end..).and_then(|s| s.chars().next());
    continues(first, before) || continues(last, after)
}

/// Every found value of [`PROBE_KEY_LEN`] bytes or more, by its first bytes (its key):
/// the probe of one text position is a bit test, and where that passes, for each
/// length of value with that key, one lookup of the key, length and last bytes there;
/// only a value whose key, length and last bytes all match is compared whole. A key
/// with values of more than [`MAX_LENGTHS_PER_KEY`] lengths (`abc...` a hundred times,
/// each longer) would make each probe at it cost that many lookups: those values are
/// searched for by one automaton instead.
struct ValueProbe {
    /// Bit `probe_slot(key)` set for every key.
    filter: Vec<u64>,
    /// The lengths of the values with each key.
    lengths: HashMap<u32, Vec<usize>, std::hash::BuildHasherDefault<WordHasher>>,
    /// Key, length and last bytes (see [`tail_of`]) of every value.
    ends: std::collections::HashSet<(u32, usize, u64), std::hash::BuildHasherDefault<WordHasher>>,
    /// The values of crowded keys, all found at once (overlapping).
    crowded: Option<aho_corasick::AhoCorasick>,
}

/// The bytes of a [`ValueProbe`] key.
const PROBE_KEY_LEN: usize = 3;

/// Bits in a [`ValueProbe`] filter.
const PROBE_FILTER_BITS: usize = 1 << 16;

/// See [`ValueProbe`]; in tests, one, so that both ways are tested.
const MAX_LENGTHS_PER_KEY: usize = if cfg!(test) { 1 } else { 16 };

fn probe_key(bytes: &[u8]) -> Option<u32> {
    let &[a, b, c, ..] = bytes else {
        return None;
    };
    Some(u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16)
}

fn probe_slot(key: u32) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize % PROBE_FILTER_BITS
}

/// The last eight bytes of `value` (all of it when shorter), as a number.
fn tail_of(value: &[u8]) -> u64 {
    let tail = value
        .get(value.len().saturating_sub(8)..)
        .unwrap_or_default();
    tail.iter().fold(0, |t, &b| t << 8 | u64::from(b))
}

impl ValueProbe {
    /// The probe for `values`; those shorter than a key are left out, for the caller.
    fn new<'v>(values: impl ExactSizeIterator<Item = &'v [u8]>) -> Self {
        let count = values.len();
        let mut by_key: HashMap<u32, Vec<&[u8]>, std::hash::BuildHasherDefault<WordHasher>> =
            HashMap::with_capacity_and_hasher(count, Default::default());
        for value in values {
            if let Some(key) = probe_key(value) {
                by_key.entry(key).or_default().push(value);
            }
        }
        let mut filter = vec![0u64; PROBE_FILTER_BITS / 64];
        let mut crowded: Vec<&[u8]> = Vec::new();
        let mut lengths = HashMap::with_capacity_and_hasher(by_key.len(), Default::default());
        let mut ends =
            std::collections::HashSet::with_capacity_and_hasher(count, Default::default());
        for (key, list) in by_key {
            let mut lens: Vec<usize> = list.iter().map(|v| v.len()).collect();
            lens.sort_unstable();
            lens.dedup();
            if lens.len() > MAX_LENGTHS_PER_KEY {
                crowded.extend(list);
                continue;
            }
            let slot = probe_slot(key);
            if let Some(word) = filter.get_mut(slot / 64) {
                *word |= 1 << (slot % 64);
            }
            ends.extend(list.iter().map(|v| (key, v.len(), tail_of(v))));
            lengths.insert(key, lens);
        }
        // Building from found values cannot fail; if it did, their other occurrences
        // would go unmarked (the findings themselves stand).
        let crowded = (!crowded.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::Standard)
                    .build(&crowded)
                    .ok()
            })
            .flatten();
        ValueProbe {
            filter,
            lengths,
            ends,
            crowded,
        }
    }

    /// Calls `each(start, candidate)` for every position `start` inside a gap and every
    /// value that may start there: `candidate` is as long as the value, fits in the gap,
    /// and begins and ends as one does (or is an occurrence of a crowded key's value).
    /// For each value, in order of `start`.
    fn for_each_in_gaps(
        &self,
        bytes: &[u8],
        gaps: &[(usize, usize)],
        mut each: impl FnMut(usize, &[u8]),
    ) {
        for &(from, to) in gaps {
            let Some(gap) = bytes.get(from..to) else {
                continue;
            };
            if !self.lengths.is_empty() {
                for (i, window) in gap.windows(PROBE_KEY_LEN).enumerate() {
                    let Some(key) = probe_key(window) else {
                        continue;
                    };
                    let slot = probe_slot(key);
                    if self
                        .filter
                        .get(slot / 64)
                        .is_none_or(|w| w & (1 << (slot % 64)) == 0)
                    {
                        continue;
                    }
                    for &len in self.lengths.get(&key).map_or(&[][..], Vec::as_slice) {
                        if let Some(candidate) = gap.get(i..i + len)
                            && self.ends.contains(&(key, len, tail_of(candidate)))
                        {
                            each(from + i, candidate);
                        }
                    }
                }
            }
            if let Some(crowded) = &self.crowded {
                for m in crowded.find_overlapping_iter(gap) {
                    if let Some(candidate) = gap.get(m.start()..m.end()) {
                        each(from + m.start(), candidate);
                    }
                }
            }
        }
    }
}

/// `from + items[from..].partition_point(pred)` for a `pred` true on a prefix of
/// `items`, found by probing `from`, `from + 1`, `from + 3`, `from + 7`, ... and then
/// searching the last gap: cheap when the answer is near `from`.
fn gallop<T>(items: &[T], from: usize, pred: impl Fn(&T) -> bool) -> usize {
    let mut lo = from;
    let mut step = 1;
    // Every item before `lo` satisfies `pred`; the one at `lo + step - 1`, if any, is
    // the next probe.
    while let Some(item) = items.get(lo + step - 1) {
        if !pred(item) {
            break;
        }
        lo += step;
        step *= 2;
    }
    let hi = (lo + step - 1).min(items.len());
    lo + items.get(lo..hi).unwrap_or_default().partition_point(pred)
}

/// A found value as a key of the set of found values: a dense text finds the same
/// values again and again, so most insertions compare two equal values, which for the
/// usual lengths (8 to 32 bytes) is two fixed-size compares rather than a `memcmp` call.
#[derive(Clone, Copy)]
struct Value<'t>(&'t [u8]);

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        if a.len() != b.len() {
            return false;
        }
        // Equal lengths: the first and last chunks cover every byte.
        match a.len() {
            8..=16 => {
                a.first_chunk::<8>() == b.first_chunk::<8>()
                    && a.last_chunk::<8>() == b.last_chunk::<8>()
            }
            17..=32 => {
                a.first_chunk::<16>() == b.first_chunk::<16>()
                    && a.last_chunk::<16>() == b.last_chunk::<16>()
            }
            _ => a == b,
        }
    }
}

impl Eq for Value<'_> {}

impl std::hash::Hash for Value<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write(self.0);
    }
}

/// A fast, non-cryptographic hasher for the set of found values (short strings from
/// the scanned text; a collision only costs a comparison): eight bytes at a time,
/// multiply and rotate.
#[derive(Default)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let (words, tail) = bytes.as_chunks::<8>();
        for word in words {
            self.0 = (self.0 ^ u64::from_le_bytes(*word))
                .wrapping_mul(K)
                .rotate_left(29);
        }
        let mut last = [0u8; 8];
        if let Some(t) = last.get_mut(..tail.len()) {
            t.copy_from_slice(tail);
        }
        self.0 = (self.0 ^ u64::from_le_bytes(last) ^ (bytes.len() as u64) << 59)
            .wrapping_mul(K)
            .rotate_left(29);
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

/// From this text length on, found values are searched for with `memchr::memmem`
/// (preparing its searcher costs less than stopping at every occurrence of one byte
/// of a long text).
const SUBSTRING_SEARCH_FROM: usize = 64 * 1024;

/// Calls `take(start)` for the occurrences of `needle` in `hay`, left to right: every
/// occurrence that does not overlap one taken before (`take` returned `true`). With
/// `take` always `true`, these are the occurrences `str::match_indices` finds; always
/// `false`, all of them. Found values are short and mostly once in a text, so rather
/// than preparing a substring searcher per value, the search jumps (`memchr`) between
/// the occurrences of the value's rarest byte (symbols before capitals before digits
/// before `.` and `,` before lowercase letters and spaces) and compares there. Long
/// values (a key block) and long texts get `memchr::memmem`.
fn for_each_occurrence(hay: &[u8], needle: &[u8], mut take: impl FnMut(usize) -> bool) {
    if needle.is_empty() {
        return;
    }
    if needle.len() > 32 || hay.len() > SUBSTRING_SEARCH_FROM {
        let finder = memchr::memmem::Finder::new(needle);
        let mut from = 0;
        while let Some(at) = hay.get(from..).and_then(|rest| finder.find(rest)) {
            let start = from + at;
            from = if take(start) {
                start + needle.len()
            } else {
                start + 1
            };
        }
        return;
    }
    let rarity = |b: u8| match b {
        b' ' => 5,
        b'a'..=b'z' => 4,
        b'.' | b',' => 3,
        b'0'..=b'9' => 2,
        b'A'..=b'Z' => 1,
        _ => 0,
    };
    let Some((offset, &byte)) = needle.iter().enumerate().min_by_key(|&(_, &b)| rarity(b)) else {
        return;
    };
    let mut next_free = 0;
    for at in memchr::memchr_iter(byte, hay) {
        let Some(start) = at.checked_sub(offset) else {
            continue;
        };
        let end = start + needle.len();
        if start < next_free || hay.get(start..end) != Some(needle) {
            continue;
        }
        if take(start) {
            next_free = end;
        }
    }
}

/// Clusters of more candidates than this keep their spans in a tree (see
/// [`resolve_overlaps`]); in tests, few, so that both ways are tested against one
/// global greedy.
const LARGE_CLUSTER: usize = if cfg!(test) { 4 } else { 64 };

/// Keeps the best of overlapping candidates and returns the survivors sorted by start.
///
/// Greedy by rank: candidates are visited best first (severity, then confidence, then
/// length, then start; the order they were proposed in breaks remaining ties) and kept
/// when they overlap no candidate already kept. Candidates with spans that are not
/// valid for `text` are dropped (defence against a buggy detector; never a panic
/// downstream).
///
/// Only candidates that overlap can interfere, so the greedy runs separately on each
/// *cluster* (a maximal group of candidates chained by overlaps, found by one sweep in
/// start order), with the same result as one greedy over all of them. Clusters are
/// small (a few candidates around one value), which keeps a dense text with tens of
/// thousands of candidates linear in practice.
fn resolve_overlaps<'s>(text: &str, mut candidates: Vec<Candidate<'s>>) -> Vec<Candidate<'s>> {
    candidates.retain(|f| f.start < f.end && text.get(f.start..f.end).is_some());
    if candidates.len() <= 1 {
        return candidates;
    }
    // Start order; equal starts keep proposal order: (start, end, index) triples,
    // sorted as plain integers (each detector proposes in start order, and merging
    // those runs is cheap). Equal spans end up next to each other.
    let mut order: Vec<(usize, usize, usize)> =
        ORDER_LIST.try_with(|list| list.take()).unwrap_or_default();
    order.clear();
    order.extend(
        candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.start, c.end, i)),
    );
    // A stable sort: the candidates come as a few runs already in order, which it merges.
    order.sort();
    // Candidates with the very same span are one value read as different classes (an
    // ABN whose digits also pass the Steuer-ID checksum). The best-supported reading
    // (confidence: its context words were there) names it; it ranks with the highest
    // severity among the readings, so which bytes are kept is decided as before.
    // Made only when two candidates share a span (rare): every candidate's severity,
    // raised for the reading that stands for others.
    let mut rank_severity: Option<Vec<Severity>> = None;
    order.dedup_by(|later, kept| {
        if (later.0, later.1) != (kept.0, kept.1) {
            return false;
        }
        let (Some(l), Some(k)) = (candidates.get(later.2), candidates.get(kept.2)) else {
            return false;
        };
        let ranks = rank_severity
            .get_or_insert_with(|| candidates.iter().map(Candidate::severity).collect());
        let severity = l.severity().max(rank_of(Some(ranks), &candidates, kept.2));
        let better = l
            .confidence
            .total_cmp(&k.confidence)
            .then(l.severity().cmp(&k.severity()));
        if better.is_gt() {
            std::mem::swap(later, kept);
        }
        if let Some(s) = ranks.get_mut(kept.2) {
            *s = severity;
        }
        true
    });
    let rank_severity = rank_severity.as_deref();
    let by_start = |k: usize| {
        let &(_, _, i) = order.get(k)?;
        Some((i, candidates.get(i)?))
    };
    let rank = |a: &(usize, &Candidate<'s>), b: &(usize, &Candidate<'s>)| {
        rank_of(rank_severity, &candidates, b.0)
            .cmp(&rank_of(rank_severity, &candidates, a.0))
            .then(b.1.confidence.total_cmp(&a.1.confidence))
            .then((b.1.end - b.1.start).cmp(&(a.1.end - a.1.start)))
            .then(a.1.start.cmp(&b.1.start))
            .then(a.0.cmp(&b.0))
    };
    let mut kept: Vec<Candidate<'s>> = take_candidates();
    kept.reserve(candidates.len());
    let mut cluster: Vec<(usize, &Candidate<'s>)> = Vec::new();
    let mut cluster_kept: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some((_, first)) = by_start(i) {
        let mut reach = first.end;
        let mut j = i + 1;
        while let Some((_, c)) = by_start(j)
            && c.start < reach
        {
            reach = reach.max(c.end);
            j += 1;
        }
        if j == i + 1 {
            // A candidate that overlaps no other (the usual case) is kept.
            kept.push(*first);
            i = j;
            continue;
        }
        cluster.clear();
        cluster.extend((i..j).filter_map(by_start));
        cluster.sort_by(rank);
        if cluster.len() > LARGE_CLUSTER {
            // A text of chained candidates (names after names, no line breaks) can be
            // one cluster: kept spans in a tree, so that each insert is not a move of
            // all later ones.
            let mut tree: std::collections::BTreeMap<usize, usize> = Default::default();
            for &(_, c) in &cluster {
                let clear_before = tree
                    .range(..c.start)
                    .next_back()
                    .is_none_or(|(_, &end)| end <= c.start);
                let clear_after = tree
                    .range(c.start..)
                    .next()
                    .is_none_or(|(&start, _)| c.end <= start);
                if clear_before && clear_after {
                    tree.insert(c.start, c.end);
                    kept.push(*c);
                }
            }
            i = j;
            continue;
        }
        cluster_kept.clear();
        for &(_, c) in &cluster {
            // Kept spans of this cluster, by start; compare with the two neighbours.
            let at = cluster_kept.partition_point(|k| k.0 < c.start);
            let clear_before = at
                .checked_sub(1)
                .and_then(|p| cluster_kept.get(p))
                .is_none_or(|k| k.1 <= c.start);
            let clear_after = cluster_kept.get(at).is_none_or(|k| c.end <= k.0);
            if clear_before && clear_after {
                cluster_kept.insert(at, (c.start, c.end));
                kept.push(*c);
            }
        }
        i = j;
    }
    drop(cluster);
    if order.capacity() * size_of::<(usize, usize, usize)>() <= KEPT_LIST_BYTES {
        let _ = ORDER_LIST.try_with(|list| list.replace(order));
    }
    give_candidates(candidates);
    // Clusters come in start order and a cluster's kept spans do not overlap: only
    // within a cluster can the order be off.
    kept.sort_by_key(|c| c.start);
    kept
}

/// The severity candidate `i` ranks with (see [`resolve_overlaps`]): its own, unless it
/// stands for other readings of its span.
fn rank_of(rank_severity: Option<&[Severity]>, candidates: &[Candidate<'_>], i: usize) -> Severity {
    match rank_severity {
        Some(ranks) => ranks.get(i).copied(),
        None => candidates.get(i).map(Candidate::severity),
    }
    .unwrap_or(Severity::Low)
}

/// The ancestors of a dotted class, nearest first: `GOVID.US.SSN` → `GOVID.US`, `GOVID`.
pub fn class_ancestors(class: &str) -> impl Iterator<Item = &str> {
    class.rmatch_indices('.').map(move |(i, _)| &class[..i])
}
