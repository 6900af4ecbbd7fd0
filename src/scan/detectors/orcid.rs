//! PII.ORCID: ORCID iDs, the persistent identifiers of researchers (`0000-0002-1825-0097`,
//! also inside `https://orcid.org/…`). An iD names one person and links to their
//! publications, employers and often their e-mail address.
//!
//! Sixteen characters in four dashed groups of four; the last is the ISO 7064 11,2
//! check character over the fifteen digits before it (`X` for 10, [`orcid_valid`]).
//! Issued iDs start with `0000` or `0009` (the blocks ORCID has allocated), which keeps
//! four dashed groups of other numbers (a card number, a part number) out even when
//! their last digit happens to check (one in eleven does). Without an `orcid` word
//! around it, an iD is reported at 0.85; with one, higher.

use super::{Candidate, Detector, Input, class_info, shape};
use crate::scan::validators::orcid_valid;
use crate::scan::{ClassInfo, Severity};

/// Context words for an ORCID iD.
pub(crate) static ORCID_WORDS: &[&str] = &["orcid", "orcid.org", "researcher id"];

/// Detects ORCID iDs.
#[derive(Debug)]
pub(crate) struct OrcidDetector {
    info: ClassInfo,
}

impl OrcidDetector {
    pub(crate) fn new() -> Self {
        OrcidDetector {
            info: class_info("PII.ORCID", "ORCID", Severity::Medium),
        }
    }
}

impl Detector for OrcidDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for g in input.digit_groups() {
            // The first group: four digits, `0000` or `0009`, then a dash (checked from
            // the offsets and four bytes before the rest of the shape).
            if g.len() != 4 || input.byte(g.end) != Some(b'-') {
                continue;
            }
            let end = g.start + 19;
            let Some(candidate) = input.bytes.get(g.start..end) else {
                continue;
            };
            let block = candidate.get(..4).unwrap_or_default();
            // The check character `X`, also written in lowercase.
            let x = candidate.last() == Some(&b'x');
            if !(block == b"0000" || block == b"0009")
                || !(shape(candidate, b"9999-9999-9999-9999")
                    || shape(candidate, b"9999-9999-9999-999X")
                    || (x && shape(candidate, b"9999-9999-9999-999?")))
                || !input.word_boundary_before(g.start)
                || !input.word_boundary_after(end)
                // Part of a longer dashed number (`1-0000-0002-1825-0097-3`).
                || (input.byte_before(g.start) == Some(b'-')
                    && g.start
                        .checked_sub(1)
                        .and_then(|j| input.byte_before(j))
                        .is_some_and(|b| b.is_ascii_digit()))
                || (input.byte(end) == Some(b'-')
                    && input.byte(end + 1).is_some_and(|b| b.is_ascii_digit()))
            {
                continue;
            }
            let compact: Vec<u8> = candidate
                .iter()
                .filter(|&&b| b != b'-')
                .map(u8::to_ascii_uppercase)
                .collect();
            if !orcid_valid(&compact) {
                continue;
            }
            let context = input.context(g.start, end, ORCID_WORDS);
            out.extend(input.finding(&self.info, g.start, end, context.boost(0.85)));
        }
    }
}
