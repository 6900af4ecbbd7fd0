//! GOVID.CA / BR / MX: national identifiers of the Americas outside the US.
//!
//! - CA_SIN (`GOVID.CA.SIN`): 9 digits, Luhn; without context only as `046 454 286`
//!   (or with dashes), since one random nine-digit number in ten passes Luhn, and then
//!   not when each group is at most 255 (`255 250 250`: a colour, a byte triple).
//! - BR_CPF (`GOVID.BR.CPF`): 11 digits with two mod-11 check digits, bare or written
//!   `529.982.247-25` (dots, then a dash: the one mixed-separator shape read here).
//! - MX_CURP (`GOVID.MX.CURP`): 18 characters, check digit.

use super::{Candidate, Detector, Input, Need, NumberRule, TokenRule, class_info, shape};
use crate::scan::validators::{br_cpf_valid, ca_sin_valid, mx_curp_valid};
use crate::scan::{ClassInfo, Severity};

/// Context words for a CA SIN.
pub(crate) static SIN_WORDS: &[&str] = &["sin", "social insurance", "nas", "assurance sociale"];
/// Context words for a BR CPF.
pub(crate) static CPF_WORDS: &[&str] = &["cpf", "cadastro de pessoas"];
/// Context words for a MX CURP.
pub(crate) static CURP_WORDS: &[&str] = &["curp"];

/// Detects national identifiers of Canada, Brazil and Mexico.
#[derive(Debug)]
pub(crate) struct AmericasIdDetector {
    sin: NumberRule,
    cpf_bare: NumberRule,
    cpf: ClassInfo,
    curp: TokenRule,
}

/// Whether nine digits are not three groups of at most 255 each (the red, green and
/// blue of a colour table, three bytes), which a SIN needs its context words to be.
fn not_byte_triple(digits: &[u8]) -> bool {
    !digits.chunks(3).all(|group| {
        group
            .iter()
            .fold(0u32, |v, &d| v * 10 + u32::from(d.wrapping_sub(b'0')))
            <= 255
    })
}

impl AmericasIdDetector {
    pub(crate) fn new() -> Self {
        let cpf = class_info("GOVID.BR.CPF", "BR_CPF", Severity::High);
        AmericasIdDetector {
            sin: NumberRule {
                info: class_info("GOVID.CA.SIN", "CA_SIN", Severity::High),
                lengths: 9..=9,
                separators: b" -",
                groups: &[3, 3, 3],
                validate: ca_sin_valid,
                words: SIN_WORDS,
                need: Need::ContextUnlessFormattedAnd(not_byte_triple),
                base: 0.7,
            },
            cpf_bare: NumberRule {
                info: cpf.clone(),
                lengths: 11..=11,
                separators: b"",
                groups: &[],
                validate: br_cpf_valid,
                words: CPF_WORDS,
                need: Need::Context,
                base: 0.8,
            },
            cpf,
            curp: TokenRule {
                info: class_info("GOVID.MX.CURP", "MX_CURP", Severity::High),
                lengths: 18..=18,
                validate: mx_curp_valid,
                words: CURP_WORDS,
                needs_context: false,
                base: 0.9,
            },
        }
    }
}

impl Detector for AmericasIdDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.sin.info.clone(),
            self.cpf.clone(),
            self.curp.info.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.sin.detect(input, out);
        self.cpf_bare.detect(input, out);
        self.curp.detect(input, out);
        // 529.982.247-25
        for g in input.digit_groups() {
            if g.len() != 3 {
                continue;
            }
            let end = g.start + 14;
            let Some(candidate) = input.bytes.get(g.start..end) else {
                continue;
            };
            if !shape(candidate, b"999.999.999-99") || !input.standalone_number(g.start, end) {
                continue;
            }
            let digits: Vec<u8> = candidate
                .iter()
                .copied()
                .filter(u8::is_ascii_digit)
                .collect();
            if br_cpf_valid(&digits) {
                let context = input.context(g.start, end, CPF_WORDS);
                out.extend(input.finding(&self.cpf, g.start, end, context.boost(0.85)));
            }
        }
    }
}
