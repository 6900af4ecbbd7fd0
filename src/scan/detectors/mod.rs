//! The detector families behind one small trait, and the registry of built-in ones.
//!
//! Each family (email, phone, US government ids, payment cards, bank accounts, secrets,
//! custom dictionaries) lives in its own file and implements [`Detector`]: it lists the
//! classes it can emit and appends *candidate* findings for one text. Candidates may
//! overlap, even within one detector (`2026 4111 1111 1111 1111` yields both a failed
//! and a valid card window); the scanner resolves overlaps once, for all detectors.
//!
//! Speed comes from cheap prefilters rather than one big regex: every detector first
//! looks for the one byte or literal its entity cannot do without (`@` for email,
//! ASCII digit groups for numbers, `AKIA`/`-----BEGIN` for secrets) and only then runs
//! the precise shape check and validator. The digit groups are computed once per text
//! and shared through [`Input`], because four families (phone, SSN, card, IBAN) start
//! from them.

mod card;
pub(crate) mod dictionary;
mod email;
mod iban;
mod phone;
mod secrets;
mod us_ssn;

use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;

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
    ]
}

/// A text under scan plus the facts several detectors share, computed lazily once.
pub(crate) struct Input<'a> {
    /// The text.
    pub text: &'a str,
    /// The same text as bytes.
    pub bytes: &'a [u8],
    digit_groups: OnceCell<Vec<DigitGroup>>,
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
