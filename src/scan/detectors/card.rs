//! CARD_NUMBER (`PCI.CARD_NUMBER`): payment card numbers (PANs).
//!
//! A candidate is 13–19 digits, either contiguous or in groups of 2–8 digits joined by
//! one consistent separator (space or dash), that passes Luhn and carries a plausible
//! issuer prefix for its length ([`validators::card_brand`](crate::scan::validators::card_brand)).
//!
//! Every group-aligned window of a chain is tried, not only the whole chain: in
//! `2026 4111 1111 1111 1111` the 20-digit chain is too long and the window starting at
//! `2026` fails, but the window `4111 1111 1111 1111` is a card and must be reported.
//! Windows that fail validation are simply not emitted, so they can never hide a valid
//! overlapping one.

use super::{Detector, Input, class_info};
use crate::scan::validators::{card_brand, luhn_valid};
use crate::scan::{ClassInfo, Finding, Severity};

const SEPARATORS: &[u8] = b" -";

/// Detects payment card numbers.
#[derive(Debug)]
pub(crate) struct CardDetector {
    info: ClassInfo,
}

impl CardDetector {
    pub(crate) fn new() -> Self {
        CardDetector {
            info: class_info("PCI.CARD_NUMBER", "CARD_NUMBER", Severity::Critical),
        }
    }
}

impl Detector for CardDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        let groups = input.digit_groups();
        let mut digits: Vec<u8> = Vec::with_capacity(19);
        for (i, first) in groups.iter().enumerate() {
            if first.len() > 19 || !edge_ok_before(input, first.start) {
                continue;
            }
            digits.clear();
            let mut sep: Option<u8> = None;
            let mut prev = *first;
            for (k, g) in groups.iter().enumerate().skip(i) {
                if k > i {
                    let Some(joined) = input.joiner(
                        prev,
                        *g,
                        sep.as_ref().map_or(SEPARATORS, std::slice::from_ref),
                    ) else {
                        break;
                    };
                    sep = Some(joined);
                }
                let multi = k > i;
                // In a grouped number every group has 2..=8 digits.
                if multi && (!(2..=8).contains(&g.len()) || !(2..=8).contains(&first.len())) {
                    break;
                }
                let Some(chunk) = input.bytes.get(g.start..g.end) else {
                    break;
                };
                digits.extend_from_slice(chunk);
                if digits.len() > 19 {
                    break;
                }
                prev = *g;
                if digits.len() >= 13
                    && edge_ok_after(input, g.end)
                    && luhn_valid(&digits)
                    && card_brand(&digits).is_some()
                {
                    let confidence = if multi { 0.95 } else { 0.9 };
                    if let Some(f) = input.finding(&self.info, first.start, g.end, confidence) {
                        out.push(f);
                    }
                }
            }
        }
    }
}

/// A card may not start inside a word or right after a dot-joined digit (`1.4111...`).
fn edge_ok_before(input: &Input<'_>, start: usize) -> bool {
    let dotted = input.byte_before(start) == Some(b'.')
        && start
            .checked_sub(1)
            .and_then(|j| input.byte_before(j))
            .is_some_and(|b| b.is_ascii_digit());
    input.word_boundary_before(start) && !dotted
}

/// A card may not end inside a word or right before a dot-joined digit.
fn edge_ok_after(input: &Input<'_>, end: usize) -> bool {
    let dotted =
        input.byte(end) == Some(b'.') && input.byte(end + 1).is_some_and(|b| b.is_ascii_digit());
    input.word_boundary_after(end) && !dotted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        CardDetector::new().detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_grouped_and_contiguous() {
        assert_eq!(spans("card 4111 1111 1111 1111."), ["4111 1111 1111 1111"]);
        assert_eq!(spans("4111-1111-1111-1111"), ["4111-1111-1111-1111"]);
        assert_eq!(spans("amex 3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(spans("5555555555554444"), ["5555555555554444"]);
    }

    #[test]
    fn a_failed_window_does_not_hide_a_valid_one() {
        assert_eq!(spans("2026 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
    }

    #[test]
    fn rejects_bad_checksum_mixed_separators_and_zeros() {
        assert!(spans("4111 1111 1111 1112").is_empty());
        assert!(spans("4111 1111-1111 1111").is_empty());
        assert!(spans("0000 0000 0000 0000").is_empty());
        assert!(spans("x4111111111111111").is_empty());
    }
}
