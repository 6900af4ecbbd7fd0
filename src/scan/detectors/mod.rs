//! The detector families behind one small trait, and the registry of built-in ones.
//!
//! Each family (email, phone, network, personal, US / European / Asia-Pacific /
//! American government ids, payment cards, banking, health, crypto wallets, secrets,
//! custom dictionaries) lives in its own file and implements [`Detector`]: it lists the
//! classes it can emit and appends *candidate* findings for one text. Candidates may
//! overlap, even within one detector (`2026 4111 1111 1111 1111` yields both a failed
//! and a valid card window); the scanner resolves overlaps once, for all detectors.
//!
//! Speed comes from cheap prefilters rather than one big regex: every detector first
//! looks for the one byte or literal its entity cannot do without (`@` for email,
//! ASCII digit groups for numbers, `AKIA`/`-----BEGIN` for secrets) and only then runs
//! the precise shape check and validator. The digit groups are computed once per text
//! and shared through [`Input`], because most families start from them.
//!
//! Three more shared facts are computed lazily, at most once per text, and only when a
//! detector asks: the *alphanumeric tokens* that contain a digit (the candidates of
//! every letter-and-digit identifier: NINO, PAN, codice fiscale, VIN, ...), the
//! *keyword hits* of one Aho-Corasick pass (an ASCII-case-insensitive DFA) over every
//! context word and gazetteer term of every family. Context words count before AND after a candidate
//! ([`Input::context`]): `123456789 is my SSN` is as much an SSN as `SSN 123456789`.
//!
//! Shapes are checked by hand (see [`shape`]) rather than by regex: a shape check on a
//! candidate token costs a few nanoseconds and cannot blow up on hostile input.

mod bank;
mod card;
mod crypto;
pub(crate) mod dictionary;
mod email;
mod govid_americas;
mod govid_apac;
mod govid_europe;
mod govid_us;
mod health;
mod iban;
mod network;
mod personal;
mod phone;
mod secrets;
mod us_ssn;

use std::cell::OnceCell;
use std::fmt;
use std::sync::{Arc, LazyLock};

use aho_corasick::AhoCorasick;

use super::{ClassInfo, Finding, Severity};

/// One detector family.
pub(crate) trait Detector: Send + Sync + fmt::Debug {
    /// Every class this detector can emit.
    fn classes(&self) -> Vec<ClassInfo>;

    /// Appends candidate findings for `input` to `out`. Candidates may overlap; offsets
    /// must lie on char boundaries of `input.text`.
    fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>);
}

/// The built-in detectors, in no particular order (overlaps are resolved by score).
pub(crate) fn builtin() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(email::EmailDetector::new()),
        Box::new(phone::PhoneDetector::new()),
        Box::new(us_ssn::UsSsnDetector::new()),
        Box::new(card::CardDetector::new()),
        Box::new(iban::IbanDetector::new()),
        Box::new(secrets::SecretsDetector::new()),
        Box::new(network::NetworkDetector::new()),
        Box::new(personal::PersonalDetector::new()),
        Box::new(crypto::CryptoDetector::new()),
        Box::new(bank::BankDetector::new()),
        Box::new(card::PciContextDetector::new()),
        Box::new(govid_us::UsIdDetector::new()),
        Box::new(govid_europe::EuropeIdDetector::new()),
        Box::new(govid_apac::ApacIdDetector::new()),
        Box::new(govid_americas::AmericasIdDetector::new()),
        Box::new(health::HealthDetector::new()),
    ]
}

/// Every context word of every family, lowercase ASCII. One automaton over all of them
/// finds every keyword of a text in one pass ([`Input::keyword_hits`]).
const KEYWORDS: &[&[&str]] = &[
    phone::PHONE_WORDS,
    us_ssn::SSN_WORDS,
    bank::SWIFT_WORDS,
    bank::ABA_WORDS,
    bank::ACCOUNT_WORDS,
    card::CARD_WORDS,
    card::CVV_WORDS,
    card::EXPIRY_WORDS,
    govid_us::ITIN_WORDS,
    govid_us::PASSPORT_WORDS,
    govid_us::LICENSE_WORDS,
    govid_europe::UTR_WORDS,
    govid_europe::STEUER_WORDS,
    govid_europe::NIR_WORDS,
    govid_europe::PESEL_WORDS,
    govid_europe::NINO_WORDS,
    govid_apac::TFN_WORDS,
    govid_apac::ABN_WORDS,
    govid_apac::MEDICARE_AU_WORDS,
    govid_apac::AADHAAR_WORDS,
    govid_americas::SIN_WORDS,
    govid_americas::CPF_WORDS,
    health::NPI_WORDS,
    health::MRN_WORDS,
    health::NHS_WORDS,
    health::DEA_WORDS,
    health::MBI_WORDS,
    health::DIAGNOSIS_TERMS,
    health::MEDICATION_TERMS,
    personal::DOB_WORDS,
    personal::NAME_WORDS,
    personal::GIVEN_NAMES,
    personal::IMEI_WORDS,
    personal::VIN_WORDS,
    network::IP_WORDS,
    network::VERSION_WORDS,
    secrets::SECRET_WORDS,
];

/// The keyword automaton and, per pattern, its keyword and the [`KEYWORDS`] lists it
/// belongs to (bit `i` for list `i`), so membership is one AND, not string compares.
struct KeywordIndex {
    automaton: Option<AhoCorasick>,
    words: Vec<&'static str>,
    groups: Vec<u64>,
}

/// The bit of a [`KEYWORDS`] list (by identity), or `None` for another list.
fn group_bit(list: &[&str]) -> Option<u64> {
    KEYWORDS
        .iter()
        .position(|l| std::ptr::eq(*l, list))
        .map(|i| 1u64 << (i % 64))
}

static KEYWORD_INDEX: LazyLock<KeywordIndex> = LazyLock::new(|| {
    let mut words: Vec<&'static str> = KEYWORDS.iter().flat_map(|w| w.iter().copied()).collect();
    words.sort_unstable();
    words.dedup();
    // Building from a few hundred short literals cannot fail; if it ever did, context
    // would never be seen and the case tests would say so.
    // A DFA matching ASCII case-insensitively: one table lookup per byte, no
    // lowercased copy of the text (with hundreds of patterns starting with every
    // letter, no prefilter would help anyway).
    let automaton = AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&words)
        .ok();
    let groups = words
        .iter()
        .map(|w| {
            KEYWORDS
                .iter()
                .enumerate()
                .filter(|(_, l)| l.contains(w))
                .fold(0u64, |m, (i, _)| m | 1u64 << (i % 64))
        })
        .collect();
    KeywordIndex {
        automaton,
        words,
        groups,
    }
});

/// One keyword occurrence: `text[start..end]` is `word`, ignoring ASCII case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeywordHit {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The keyword (lowercase).
    pub word: &'static str,
    /// The [`KEYWORDS`] lists it belongs to.
    groups: u64,
}

impl KeywordHit {
    /// Whether the keyword is one of `words` (a [`KEYWORDS`] list: one AND; any other
    /// list: string compares).
    pub fn is_in(&self, words: &[&str]) -> bool {
        match group_bit(words) {
            Some(bit) => self.groups & bit != 0,
            None => words.contains(&self.word),
        }
    }
}

/// Where context words were seen around a candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Context {
    /// A word ends within the window before the candidate.
    pub before: bool,
    /// A word starts within the window after the candidate.
    pub after: bool,
}

impl Context {
    /// Any side.
    pub fn any(self) -> bool {
        self.before || self.after
    }

    /// `base` raised for context: +0.1 before, +0.05 after, at most 0.99.
    pub fn boost(self, base: f32) -> f32 {
        let mut c = base;
        if self.before {
            c += 0.1;
        }
        if self.after {
            c += 0.05;
        }
        c.min(0.99)
    }
}

/// The longest keyword, in bytes (bounds the search in [`Input::context_within`]).
const MAX_KEYWORD_LEN: usize = 64;

/// How far before a candidate context words count, in bytes.
pub(crate) const CONTEXT_BEFORE: usize = 48;
/// How far after a candidate context words count, in bytes.
pub(crate) const CONTEXT_AFTER: usize = 32;

/// Whether `s` has the shape `pattern`: `A` an ASCII uppercase letter, `a` any ASCII
/// letter, `9` an ASCII digit, `X` an uppercase letter or digit, `?` any byte; any
/// other pattern byte must match itself.
pub(crate) fn shape(s: &[u8], pattern: &[u8]) -> bool {
    s.len() == pattern.len()
        && s.iter().zip(pattern).all(|(&b, &p)| match p {
            b'A' => b.is_ascii_uppercase(),
            b'a' => b.is_ascii_alphabetic(),
            b'9' => b.is_ascii_digit(),
            b'X' => b.is_ascii_uppercase() || b.is_ascii_digit(),
            b'?' => true,
            _ => b == p,
        })
}

/// A text under scan plus the facts several detectors share, computed lazily once.
pub(crate) struct Input<'a> {
    /// The text.
    pub text: &'a str,
    /// The same text as bytes.
    pub bytes: &'a [u8],
    digit_groups: OnceCell<Vec<DigitGroup>>,
    tokens: OnceCell<Vec<DigitGroup>>,
    keywords: OnceCell<Vec<KeywordHit>>,
}

/// A maximal run of ASCII digits: `bytes[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigitGroup {
    /// First digit.
    pub start: usize,
    /// One past the last digit.
    pub end: usize,
}

impl DigitGroup {
    /// Number of digits.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
}

impl<'a> Input<'a> {
    /// Wraps one text.
    pub fn new(text: &'a str) -> Self {
        Input {
            text,
            bytes: text.as_bytes(),
            digit_groups: OnceCell::new(),
            tokens: OnceCell::new(),
            keywords: OnceCell::new(),
        }
    }

    /// Maximal runs of ASCII letters and digits that contain at least one digit, in
    /// order: the candidates of letter-and-digit identifiers.
    pub fn alnum_tokens(&self) -> &[DigitGroup] {
        self.tokens.get_or_init(|| {
            let mut tokens: Vec<DigitGroup> = Vec::new();
            for g in self.digit_groups() {
                if tokens.last().is_some_and(|t| t.end >= g.end) {
                    continue;
                }
                let mut start = g.start;
                while start > 0
                    && self
                        .bytes
                        .get(start - 1)
                        .is_some_and(u8::is_ascii_alphanumeric)
                {
                    start -= 1;
                }
                let mut end = g.end;
                while self.bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                    end += 1;
                }
                tokens.push(DigitGroup { start, end });
            }
            tokens
        })
    }

    /// Every keyword of every family in the text, in order; one leftmost-longest pass
    /// of one ASCII-case-insensitive DFA over the text, run on first use only. A hit must
    /// start a word (`tel` in `hotel` is not a phone word).
    pub fn keyword_hits(&self) -> &[KeywordHit] {
        self.keywords.get_or_init(|| {
            let index = &*KEYWORD_INDEX;
            let Some(automaton) = &index.automaton else {
                return Vec::new();
            };
            automaton
                .find_iter(self.bytes)
                .filter(|m| self.word_boundary_before(m.start()))
                .filter_map(|m| {
                    let id = m.pattern().as_usize();
                    Some(KeywordHit {
                        start: m.start(),
                        end: m.end(),
                        word: index.words.get(id)?,
                        groups: *index.groups.get(id)?,
                    })
                })
                .collect()
        })
    }

    /// Whether one of `words` ends in the [`CONTEXT_BEFORE`] bytes before `start`, or
    /// starts in the [`CONTEXT_AFTER`] bytes after `end`.
    pub fn context(&self, start: usize, end: usize, words: &[&str]) -> Context {
        self.context_within(start, end, CONTEXT_BEFORE, CONTEXT_AFTER, words)
    }

    /// [`Input::context`] with explicit windows.
    pub fn context_within(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        words: &[&str],
    ) -> Context {
        let from = start.saturating_sub(before);
        let to = end.saturating_add(after);
        let mut context = Context::default();
        let hits = self.keyword_hits();
        // Hits are in order of end; a keyword is at most MAX_KEYWORD_LEN bytes long.
        let first = hits.partition_point(|h| h.end < from);
        for hit in hits.get(first..).unwrap_or_default() {
            if hit.end >= to.saturating_add(MAX_KEYWORD_LEN) {
                break;
            }
            if !hit.is_in(words) {
                continue;
            }
            if hit.end <= start && hit.end >= from && !self.crosses_sentence(hit.end, start) {
                context.before = true;
            }
            if hit.start >= end && hit.start < to && !self.crosses_sentence(end, hit.start) {
                context.after = true;
            }
        }
        context
    }

    /// Whether a sentence ends between `from` and `to` (`. `, `! `, `? `, a newline):
    /// context words belong to their own sentence.
    pub fn crosses_sentence(&self, from: usize, to: usize) -> bool {
        let Some(gap) = self.bytes.get(from..to) else {
            return true;
        };
        gap.contains(&b'\n')
            || gap
                .windows(2)
                .any(|w| matches!(w, [b'.' | b'!' | b'?', b' ']))
    }

    /// Whether `start..end` stands alone as a number: word boundaries on both sides and
    /// no digit joined to it by `-`, `.`, `/` or `,` (`1.4111...`, `...1111-22`).
    pub fn standalone_number(&self, start: usize, end: usize) -> bool {
        let joiner = |b: Option<u8>| matches!(b, Some(b'-' | b'.' | b'/' | b','));
        let digit = |b: Option<u8>| b.is_some_and(|d| d.is_ascii_digit());
        self.word_boundary_before(start)
            && self.word_boundary_after(end)
            && !(joiner(self.byte_before(start))
                && digit(start.checked_sub(1).and_then(|j| self.byte_before(j))))
            && !(joiner(self.byte(end)) && digit(self.byte(end + 1)))
    }

    /// Whether the digits at `start..end` continue, on either side, into another digit
    /// group across a single separator (space, dash, dot, slash).
    pub fn continues_chain(&self, start: usize, end: usize) -> bool {
        let sep = |b: Option<u8>| matches!(b, Some(b' ' | b'-' | b'.' | b'/'));
        let digit = |b: Option<u8>| b.is_some_and(|d| d.is_ascii_digit());
        (sep(self.byte_before(start))
            && digit(start.checked_sub(1).and_then(|j| self.byte_before(j))))
            || (sep(self.byte(end)) && digit(self.byte(end + 1)))
    }

    /// Calls `each(start, end, digits)` for every window of consecutive digit groups
    /// joined by one consistent separator from `separators` (or a single group), whose
    /// digit count is in `lengths`. `digits` are the window's digits without
    /// separators. Every group-aligned window is offered, so a failed window never
    /// hides a valid one that overlaps it.
    pub fn digit_windows(
        &self,
        separators: &[u8],
        lengths: std::ops::RangeInclusive<usize>,
        mut each: impl FnMut(usize, usize, &[u8]),
    ) {
        let groups = self.digit_groups();
        let mut digits: Vec<u8> = Vec::with_capacity(*lengths.end());
        for (i, first) in groups.iter().enumerate() {
            if first.len() > *lengths.end() {
                continue;
            }
            digits.clear();
            let mut sep: Option<u8> = None;
            let mut prev = *first;
            for (k, g) in groups.iter().enumerate().skip(i) {
                if k > i {
                    let allowed = sep.as_ref().map_or(separators, std::slice::from_ref);
                    let Some(joined) = self.joiner(prev, *g, allowed) else {
                        break;
                    };
                    sep = Some(joined);
                }
                let Some(chunk) = self.bytes.get(g.start..g.end) else {
                    break;
                };
                digits.extend_from_slice(chunk);
                if digits.len() > *lengths.end() {
                    break;
                }
                prev = *g;
                if lengths.contains(&digits.len()) {
                    each(first.start, g.end, &digits);
                }
            }
        }
    }

    /// All maximal ASCII digit runs, in order.
    pub fn digit_groups(&self) -> &[DigitGroup] {
        self.digit_groups
            .get_or_init(|| find_digit_groups(self.bytes))
    }

    /// The byte at `i`, if any.
    pub fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The byte just before `i`, if any.
    pub fn byte_before(&self, i: usize) -> Option<u8> {
        i.checked_sub(1).and_then(|j| self.byte(j))
    }

    /// The single separator byte joining two digit groups, when exactly one byte from
    /// `allowed` sits between them.
    pub fn joiner(&self, left: DigitGroup, right: DigitGroup, allowed: &[u8]) -> Option<u8> {
        if right.start != left.end + 1 {
            return None;
        }
        self.byte(left.end).filter(|b| allowed.contains(b))
    }

    /// Whether the text before `start` does not continue a word: no ASCII letter, digit
    /// or underscore, and no non-ASCII letter or digit.
    pub fn word_boundary_before(&self, start: usize) -> bool {
        match self.text.get(..start).and_then(|s| s.chars().next_back()) {
            Some(c) => !is_word_char(c),
            None => true,
        }
    }

    /// Whether the text from `end` does not continue a word.
    pub fn word_boundary_after(&self, end: usize) -> bool {
        match self.text.get(end..).and_then(|s| s.chars().next()) {
            Some(c) => !is_word_char(c),
            None => true,
        }
    }

    /// Whether one of `keywords` (lowercase ASCII) appears, ignoring ASCII case, in the
    /// `window` bytes that precede `start`. Used for context-dependent entities such as
    /// a bare nine-digit SSN.
    pub fn context_before(&self, start: usize, window: usize, keywords: &[&str]) -> bool {
        let from = start.saturating_sub(window);
        let Some(hay) = self.bytes.get(from..start) else {
            return false;
        };
        keywords
            .iter()
            .any(|k| contains_ascii_ci(hay, k.as_bytes()))
    }

    /// Builds a finding for `start..end` of class `info`, or `None` when the span is
    /// empty, out of range or not on char boundaries (it never is for a correct
    /// detector; this keeps a buggy one from producing a panicking span downstream).
    pub fn finding(
        &self,
        info: &ClassInfo,
        start: usize,
        end: usize,
        confidence: f32,
    ) -> Option<Finding> {
        if start >= end || self.text.get(start..end).is_none() {
            return None;
        }
        Some(Finding {
            entity: Arc::clone(&info.entity),
            class: Arc::clone(&info.class),
            start,
            end,
            confidence,
            severity: info.severity,
        })
    }
}

/// When a candidate needs context words around it to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Only in its bare (unseparated) form; a value written with its usual separators
    /// counts without context.
    ContextUnlessFormatted,
    /// Always.
    Context,
}

/// A numeric identifier: digits, optionally grouped by one consistent separator, with
/// a validator and context words. Most national ids are one of these.
#[derive(Debug)]
pub(crate) struct NumberRule {
    /// What a match becomes.
    pub info: ClassInfo,
    /// Digit counts accepted.
    pub lengths: std::ops::RangeInclusive<usize>,
    /// Separators accepted between digit groups (one kind per value).
    pub separators: &'static [u8],
    /// Group lengths of the formatted form (`[3, 2, 4]` for an SSN); empty: any.
    pub groups: &'static [usize],
    /// Checksum / range rules over the digits.
    pub validate: fn(&[u8]) -> bool,
    /// Context words.
    pub words: &'static [&'static str],
    /// When context is required.
    pub need: Need,
    /// Confidence without context.
    pub base: f32,
}

impl NumberRule {
    /// Appends this rule's candidates in `input` to `out`.
    pub fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        input.digit_windows(
            self.separators,
            self.lengths.clone(),
            |start, end, digits| {
                let formatted = end - start > digits.len();
                if formatted && !self.groups.is_empty() {
                    let lens = input
                        .bytes
                        .get(start..end)
                        .unwrap_or_default()
                        .split(|b| !b.is_ascii_digit())
                        .map(<[u8]>::len);
                    if !lens.eq(self.groups.iter().copied()) {
                        return;
                    }
                }
                if !input.standalone_number(start, end) || !(self.validate)(digits) {
                    return;
                }
                // A formatted window must not be a piece of a longer grouped number
                // (`584 832 653` inside the ABN `98 584 832 653`).
                if formatted && input.continues_chain(start, end) {
                    return;
                }
                let context = input.context(start, end, self.words);
                let ok = match self.need {
                    Need::ContextUnlessFormatted => formatted || context.any(),
                    Need::Context => context.any(),
                };
                if ok {
                    out.extend(input.finding(&self.info, start, end, context.boost(self.base)));
                }
            },
        );
    }
}

/// A letter-and-digit identifier: one alphanumeric token with a validator.
#[derive(Debug)]
pub(crate) struct TokenRule {
    /// What a match becomes.
    pub info: ClassInfo,
    /// Token lengths accepted.
    pub lengths: std::ops::RangeInclusive<usize>,
    /// Shape and checksum over the token bytes (as written; most ids are uppercase).
    pub validate: fn(&[u8]) -> bool,
    /// Context words.
    pub words: &'static [&'static str],
    /// Whether context is required.
    pub needs_context: bool,
    /// Confidence without context.
    pub base: f32,
}

impl TokenRule {
    /// Appends this rule's candidates in `input` to `out`.
    pub fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        for t in input.alnum_tokens() {
            if !self.lengths.contains(&t.len()) {
                continue;
            }
            let Some(token) = input.bytes.get(t.start..t.end) else {
                continue;
            };
            if !input.word_boundary_before(t.start)
                || !input.word_boundary_after(t.end)
                || !(self.validate)(token)
            {
                continue;
            }
            let context = input.context(t.start, t.end, self.words);
            if self.needs_context && !context.any() {
                continue;
            }
            out.extend(input.finding(&self.info, t.start, t.end, context.boost(self.base)));
        }
    }
}

/// All maximal runs of ASCII digits in `bytes`.
///
/// Prose is mostly free of digits, so eight bytes at a time are tested for "any byte in
/// `0..=9`" (SWAR: `b ^ b'0' < 10` per byte) and skipped whole when there is none.
fn find_digit_groups(bytes: &[u8]) -> Vec<DigitGroup> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_digit = |chunk: u64| {
        let t = chunk ^ (ONES * u64::from(b'0'));
        (t.wrapping_sub(ONES * 10) & !t & HIGHS) != 0
    };
    let mut groups = Vec::new();
    let mut open: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        if open.is_none()
            && let Some(chunk) = bytes.get(i..i + 8)
        {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !has_digit(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let is_digit = bytes.get(i).is_some_and(u8::is_ascii_digit);
        match (is_digit, open) {
            (true, None) => open = Some(i),
            (false, Some(start)) => {
                groups.push(DigitGroup { start, end: i });
                open = None;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(start) = open {
        groups.push(DigitGroup {
            start,
            end: bytes.len(),
        });
    }
    groups
}

/// Letters, digits and underscore, in any script: what "whole word" means here.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `needle` (lowercase ASCII) occurs in `hay`, ignoring ASCII case.
pub(crate) fn contains_ascii_ci(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A built-in class description.
pub(crate) fn class_info(class: &str, entity: &str, severity: Severity) -> ClassInfo {
    ClassInfo {
        class: Arc::from(class),
        entity: Arc::from(entity),
        severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_groups_are_maximal_runs() {
        let input = Input::new("a12 345-6789x0");
        let groups: Vec<(usize, usize)> = input
            .digit_groups()
            .iter()
            .map(|g| (g.start, g.end))
            .collect();
        assert_eq!(groups, vec![(1, 3), (4, 7), (8, 12), (13, 14)]);
    }

    fn naive_digit_groups(b: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b.get(i).is_some_and(u8::is_ascii_digit) {
                let s = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                v.push((s, i));
            } else {
                i += 1;
            }
        }
        v
    }

    fn fast_digit_groups(b: &[u8]) -> Vec<(usize, usize)> {
        find_digit_groups(b)
            .iter()
            .map(|g| (g.start, g.end))
            .collect()
    }

    #[test]
    fn digit_groups_match_a_naive_scan() {
        let texts = [
            "",
            "1",
            "no digits in this sentence at all, none!",
            "abcdefgh12345678ijklmnop9",
            "0123456789012345678901234",
            "é9/:0 \u{7f}\u{ff}8",
        ];
        for text in texts {
            let b = text.as_bytes();
            assert_eq!(fast_digit_groups(b), naive_digit_groups(b), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn digit_groups_swar_equals_naive(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            proptest::prop_assert_eq!(fast_digit_groups(&b), naive_digit_groups(&b));
        }
    }

    #[test]
    fn word_boundaries_see_unicode_letters() {
        let input = Input::new("é1 2");
        assert!(!input.word_boundary_before(2));
        assert!(input.word_boundary_before(4));
        assert!(input.word_boundary_after(3));
        assert!(input.word_boundary_after(5));
    }

    #[test]
    fn context_is_case_insensitive_and_bounded() {
        let input = Input::new("My SSN is 123456789");
        assert!(input.context_before(10, 32, &["ssn"]));
        assert!(!input.context_before(10, 5, &["ssn"]));
        assert!(!input.context_before(100, 5, &["ssn"]));
    }
}
