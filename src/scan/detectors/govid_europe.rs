//! GOVID.UK / DE / FR / ES / IT / PL: European national identifiers.
//!
//! - UK_NINO (`GOVID.UK.NINO`): `AB123456C` or `AB 12 34 56 C`, HMRC prefix rules.
//! - UK_UTR (`GOVID.UK.UTR`): 10 digits with the mod-11 check digit first; context.
//! - DE_STEUER_ID (`GOVID.DE.STEUER_ID`): 11 digits, mod 11,10 and the repetition rule;
//!   context unless written `86 095 742 719`.
//! - FR_NIR (`GOVID.FR.NIR`): 15 digits (`2 55 08 14 168 025 38`), mod-97 key;
//!   context unless grouped (a bare 15-digit IMEI passes the key one time in 97).
//! - ES_NIF / ES_NIE (`GOVID.ES.NIF`, `GOVID.ES.NIE`): mod-23 control letter.
//! - IT_FISCAL_CODE (`GOVID.IT.FISCAL_CODE`): 16 characters, check character.
//! - PL_PESEL (`GOVID.PL.PESEL`): 11 digits, weights 1-3-7-9 and a valid birth month;
//!   context.
//!
//! Each identifier is a [`NumberRule`] or [`TokenRule`]: the shared digit-window and
//! token scanners produce candidates, the validators in
//! [`validators`](crate::scan::validators) confirm them.

use super::{Candidate, Detector, Input, Need, NumberRule, TokenRule, class_info, shape};
use crate::scan::validators::{
    es_nie_valid, es_nif_valid, fr_nir_valid, it_fiscal_code_valid, pesel_valid, steuer_id_valid,
    uk_nino_valid, uk_utr_valid,
};
use crate::scan::{ClassInfo, Severity};

/// Context words for a UK UTR.
pub(crate) static UTR_WORDS: &[&str] =
    &["utr", "unique taxpayer", "self assessment", "tax reference"];
/// Context words for a DE Steuer-ID.
pub(crate) static STEUER_WORDS: &[&str] = &[
    "steuer-id",
    "steuerid",
    "steuer id",
    "steueridentifikationsnummer",
    "identifikationsnummer",
    "tax id",
    "idnr",
];
/// Context words for a FR NIR.
pub(crate) static NIR_WORDS: &[&str] = &[
    "nir",
    "sécurité sociale",
    "securite sociale",
    "numéro de sécu",
    "insee",
    "social security",
];
/// Context words for a PL PESEL.
pub(crate) static PESEL_WORDS: &[&str] = &["pesel"];
/// Context words for a UK NINO.
pub(crate) static NINO_WORDS: &[&str] = &["national insurance", "nino", "ni number"];
/// Context words for an ES NIF / NIE.
pub(crate) static NIF_WORDS: &[&str] = &["nif", "nie", "dni", "documento"];
/// Context words for an IT codice fiscale.
pub(crate) static CF_WORDS: &[&str] = &["codice fiscale", "fiscal code", "cf"];

/// Detects European national identifiers.
#[derive(Debug)]
pub(crate) struct EuropeIdDetector {
    numbers: Vec<NumberRule>,
    tokens: Vec<TokenRule>,
    nino: ClassInfo,
}

impl EuropeIdDetector {
    pub(crate) fn new() -> Self {
        let numbers = vec![
            NumberRule {
                info: class_info("GOVID.UK.UTR", "UK_UTR", Severity::High),
                lengths: 10..=10,
                separators: b" ",
                groups: &[5, 5],
                validate: uk_utr_valid,
                words: UTR_WORDS,
                need: Need::Context,
                base: 0.75,
            },
            NumberRule {
                info: class_info("GOVID.DE.STEUER_ID", "DE_STEUER_ID", Severity::High),
                lengths: 11..=11,
                separators: b" ",
                groups: &[2, 3, 3, 3],
                validate: steuer_id_valid,
                words: STEUER_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.75,
            },
            NumberRule {
                info: class_info("GOVID.FR.NIR", "FR_NIR", Severity::High),
                lengths: 15..=15,
                separators: b" ",
                groups: &[1, 2, 2, 2, 3, 3, 2],
                validate: fr_nir_valid,
                words: NIR_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.85,
            },
            NumberRule {
                info: class_info("GOVID.PL.PESEL", "PL_PESEL", Severity::High),
                lengths: 11..=11,
                separators: b"",
                groups: &[],
                validate: pesel_valid,
                words: PESEL_WORDS,
                need: Need::Context,
                base: 0.8,
            },
        ];
        let tokens = vec![
            TokenRule {
                info: class_info("GOVID.UK.NINO", "UK_NINO", Severity::High),
                lengths: 9..=9,
                validate: uk_nino_valid,
                words: NINO_WORDS,
                needs_context: false,
                base: 0.85,
            },
            TokenRule {
                info: class_info("GOVID.ES.NIF", "ES_NIF", Severity::High),
                lengths: 9..=9,
                validate: es_nif_valid,
                words: NIF_WORDS,
                needs_context: false,
                base: 0.85,
            },
            TokenRule {
                info: class_info("GOVID.ES.NIE", "ES_NIE", Severity::High),
                lengths: 9..=9,
                validate: es_nie_valid,
                words: NIF_WORDS,
                needs_context: false,
                base: 0.85,
            },
            TokenRule {
                info: class_info("GOVID.IT.FISCAL_CODE", "IT_FISCAL_CODE", Severity::High),
                lengths: 16..=16,
                validate: it_fiscal_code_valid,
                words: CF_WORDS,
                needs_context: false,
                base: 0.9,
            },
        ];
        EuropeIdDetector {
            nino: class_info("GOVID.UK.NINO", "UK_NINO", Severity::High),
            numbers,
            tokens,
        }
    }
}

impl Detector for EuropeIdDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        let mut classes: Vec<ClassInfo> = self.numbers.iter().map(|r| r.info.clone()).collect();
        classes.extend(self.tokens.iter().map(|r| r.info.clone()));
        classes
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for rule in &self.numbers {
            rule.detect(input, out);
        }
        for rule in &self.tokens {
            rule.detect(input, out);
        }
        spaced_nino(input, &self.nino, out);
    }
}

/// `AB 12 34 56 C`: the NINO as printed on letters.
fn spaced_nino<'s>(input: &Input<'_>, info: &'s ClassInfo, out: &mut Vec<Candidate<'s>>) {
    for g in input.digit_groups() {
        // The group is the first pair of digits, followed by a space.
        if g.len() != 2 {
            continue;
        }
        let Some(start) = g.start.checked_sub(3) else {
            continue;
        };
        let end = start + 13;
        let Some(candidate) = input.bytes.get(start..end) else {
            continue;
        };
        if !shape(candidate, b"AA 99 99 99 A")
            || !input.word_boundary_before(start)
            || !input.word_boundary_after(end)
        {
            continue;
        }
        let compact: Vec<u8> = candidate.iter().copied().filter(|&b| b != b' ').collect();
        if uk_nino_valid(&compact) {
            let context = input.context(start, end, NINO_WORDS);
            out.extend(input.finding(info, start, end, context.boost(0.85)));
        }
    }
}
