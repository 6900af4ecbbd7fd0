//! IBAN (`FIN.IBAN`): International Bank Account Numbers.
//!
//! An IBAN opens with a country code and two check digits, so candidates come from the
//! shared digit groups: a group preceded by two letters at a word start. From there the
//! detector reads exactly the registered length for that country
//! ([`validators::iban_length`](crate::scan::validators::iban_length)), letters and
//! digits, allowing one space only between groups of four as IBANs are printed
//! (`DE89 3704 0044 0532 0130 00`), then requires a word boundary and the ISO 7064
//! mod-97 check (confidence 0.99). Letters are accepted in either case, but not both in
//! the account part (a random token mixes them). Failing that, the same characters are
//! read again allowing any short run of separators between any two of them
//! (`DE89-3704-...`, `DE89 . 3704 ...`, one group per line: an evader's forms), with
//! the same length and mod-97 checks (0.9), upper-case letters only, and
//! no joined continuation after it (so that one in 97 hex identifiers such as
//! `ee122dbc-42f8-4333-a517-...` is not an IBAN).

use super::{Candidate, Detector, Input, class_info};
use crate::scan::validators::{iban_length, iban_mod97_valid};
use crate::scan::{ClassInfo, Severity};

/// Detects IBANs.
#[derive(Debug)]
pub(crate) struct IbanDetector {
    info: ClassInfo,
}

impl IbanDetector {
    pub(crate) fn new() -> Self {
        IbanDetector {
            info: class_info("FIN.IBAN", "IBAN", Severity::High),
        }
    }
}

impl Detector for IbanDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let mut compact: Vec<u8> = Vec::with_capacity(34);
        for g in input.digit_groups() {
            if g.len() < 2 {
                continue;
            }
            let Some(start) = g.start.checked_sub(2) else {
                continue;
            };
            let (Some(c0), Some(c1)) = (input.byte(start), input.byte(start + 1)) else {
                continue;
            };
            if !c0.is_ascii_alphabetic()
                || !c1.is_ascii_alphabetic()
                || !input.word_boundary_before(start)
            {
                continue;
            }
            let Some(len) = iban_length([c0, c1]) else {
                continue;
            };
            if let Some(end) = read_iban(input.bytes, start, len, &mut compact)
                && input.word_boundary_after(end)
                && !mixes_case(compact.get(4..).unwrap_or_default())
                && iban_mod97_valid(&compact)
                && let Some(f) = input.finding(&self.info, start, end, 0.99)
            {
                out.push(f);
            } else if c0.is_ascii_uppercase()
                && c1.is_ascii_uppercase()
                && let Some(end) = read_iban_loosely(input.bytes, start, len, &mut compact)
                && input.word_boundary_after(end)
                && !(matches!(input.byte(end), Some(b'-' | b'.' | b'/' | b'_'))
                    && input
                        .byte(end + 1)
                        .is_some_and(|b| b.is_ascii_alphanumeric()))
                && iban_mod97_valid(&compact)
                && let Some(f) = input.finding(&self.info, start, end, 0.9)
            {
                out.push(f);
            }
        }
    }
}

/// Whether `bban` holds letters in both cases. An IBAN is written in capitals, or all in
/// small letters by someone typing fast; a token that mixes them is random
/// (`client_secret: RO72FFzvIWwM5HoigU8BTJ13` passes mod-97 once in 97 tries).
fn mixes_case(bban: &[u8]) -> bool {
    bban.iter().any(u8::is_ascii_uppercase) && bban.iter().any(u8::is_ascii_lowercase)
}

/// Reads `len` alphanumeric characters from `start` into `compact`, allowing a single
/// space after every fourth one; returns the end offset.
fn read_iban(bytes: &[u8], start: usize, len: usize, compact: &mut Vec<u8>) -> Option<usize> {
    compact.clear();
    let mut i = start;
    while compact.len() < len {
        match bytes.get(i).copied() {
            Some(b) if b.is_ascii_alphanumeric() => compact.push(b),
            Some(b' ')
                if compact.len().is_multiple_of(4)
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) => {}
            _ => return None,
        }
        i += 1;
    }
    Some(i)
}

/// Reads `len` digits and upper-case letters from `start` into `compact` the way an evader
/// writes them: any run of one to three separator bytes (spaces, dashes, dots, slashes,
/// underscores, tabs, line breaks) between any two characters. The exact length for the
/// country and mod-97 still decide. Returns the end offset.
fn read_iban_loosely(
    bytes: &[u8],
    start: usize,
    len: usize,
    compact: &mut Vec<u8>,
) -> Option<usize> {
    compact.clear();
    let mut i = start;
    let mut gap = 0;
    while compact.len() < len {
        match bytes.get(i).copied() {
            // Letters in upper case only, as the country code must be: read loosely,
            // lower-case letters are the words after a shorter identifier
            // (`DEA number MC5784360 on the script`), which pass mod-97 one time in 97.
            Some(b) if b.is_ascii_digit() || b.is_ascii_uppercase() => {
                compact.push(b);
                gap = 0;
            }
            Some(b' ' | b'-' | b'.' | b'/' | b'_' | b'\t' | b'\r' | b'\n')
                if !compact.is_empty() && gap < super::MAX_LOOSE_GAP =>
            {
                gap += 1;
            }
            _ => return None,
        }
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = IbanDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_printed_and_compact() {
        assert_eq!(
            spans("IBAN DE89 3704 0044 0532 0130 00, thanks"),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(spans("GB82WEST12345698765432"), ["GB82WEST12345698765432"]);
        assert_eq!(
            spans("to FR14 2004 1010 0505 0001 3M02 606."),
            ["FR14 2004 1010 0505 0001 3M02 606"]
        );
    }

    #[test]
    fn finds_ibans_split_any_way() {
        for iban in [
            "DE89-3704-0044-0532-0130-00",
            "DE89.3704.0044.0532.0130.00",
            "DE89 370 40044 0532 0130 00",
            "DE89 - 3704 - 0044 - 0532 - 0130 - 00",
            "GB82\nWEST\n1234\n5698\n7654\n32",
        ] {
            assert_eq!(spans(&format!("pay to {iban}.")), [iban], "{iban:?}");
        }
    }

    #[test]
    fn rejects_wrong_check_length_or_spacing() {
        assert!(spans("DE88 3704 0044 0532 0130 00").is_empty());
        assert!(spans("DE89 3704 0044 0532 0130 001").is_empty());
        assert!(spans("DE88-3704-0044-0532-0130-00").is_empty());
        assert!(spans("DE89    3704 0044 0532 0130 00").is_empty());
        // Read loosely, a hex identifier can pass mod-97 by chance: lower-case country
        // codes and joined continuations rule that out.
        assert!(spans("de89-3704-0044-0532-0130-00").is_empty());
        assert!(spans("DE89-3704-0044-0532-0130-00-a12b").is_empty());
        assert!(spans("XDE89370400440532013000").is_empty());
        // Nor, read loosely, do lower-case words after a shorter identifier (this one
        // passes mod-97 read as 27 characters).
        assert!(spans("DEA number MC5784360 on the script. Invoice").is_empty());
        assert!(spans("VIN LU49P60C5G17JFP8Z was recalled").is_empty());
        assert!(spans("US89370400440532013000").is_empty());
    }
}
