//! GOVID.IN / SG / AU: Asia-Pacific national identifiers.
//!
//! - IN_AADHAAR (`GOVID.IN.AADHAAR`): 12 digits (`2341 2341 2346`), first 2–9, Verhoeff;
//!   context unless grouped 4-4-4.
//! - IN_PAN (`GOVID.IN.PAN`): `ABCPE1234F`, the fourth letter a holder type.
//! - IN_GSTIN (`GOVID.IN.GSTIN`): state code + PAN + entity + `Z` + mod-36 check.
//! - SG_NRIC (`GOVID.SG.NRIC`): `S1234567D`, check letter (S/T citizens, F/G foreigners).
//! - AU_TFN (`GOVID.AU.TFN`): 8–9 digits, mod-11 weights; context (one random number in
//!   eleven passes).
//! - AU_ABN (`GOVID.AU.ABN`): 11 digits, mod-89; context unless grouped 2-3-3-3.
//! - AU_MEDICARE (`GOVID.AU.MEDICARE`): 10–11 digits, check digit; context unless
//!   grouped 4-5-1.

use super::{Candidate, Detector, Input, Need, NumberRule, TokenRule, class_info};
use crate::scan::validators::{
    aadhaar_valid, au_abn_valid, au_medicare_valid, au_tfn_valid, in_gstin_valid, in_pan_valid,
    sg_nric_valid,
};
use crate::scan::{ClassInfo, Severity};

/// Context words for an AU TFN.
pub(crate) static TFN_WORDS: &[&str] = &["tfn", "tax file"];
/// Context words for an AU ABN.
pub(crate) static ABN_WORDS: &[&str] = &["abn", "australian business number"];
/// Context words for an AU Medicare number.
pub(crate) static MEDICARE_AU_WORDS: &[&str] = &["medicare"];
/// Context words for an Aadhaar number.
pub(crate) static AADHAAR_WORDS: &[&str] = &["aadhaar", "aadhar", "uidai", "uid"];
/// Context words for an IN PAN (`pan` is also a card word: the primary account number).
pub(crate) static PAN_WORDS: &[&str] = &["pan", "permanent account"];
/// Context words for an IN GSTIN.
pub(crate) static GSTIN_WORDS: &[&str] = &["gstin", "gst"];
/// Context words for a SG NRIC / FIN.
pub(crate) static NRIC_WORDS: &[&str] = &["nric", "fin", "ic number"];

/// Detects Asia-Pacific national identifiers.
#[derive(Debug)]
pub(crate) struct ApacIdDetector {
    numbers: Vec<NumberRule>,
    tokens: Vec<TokenRule>,
}

impl ApacIdDetector {
    pub(crate) fn new() -> Self {
        let numbers = vec![
            NumberRule {
                info: class_info("GOVID.IN.AADHAAR", "IN_AADHAAR", Severity::High),
                lengths: 12..=12,
                separators: b" -",
                groups: &[4, 4, 4],
                validate: aadhaar_valid,
                words: AADHAAR_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.8,
            },
            NumberRule {
                info: class_info("GOVID.AU.TFN", "AU_TFN", Severity::High),
                lengths: 8..=9,
                separators: b" ",
                groups: &[3, 3, 3],
                validate: au_tfn_valid,
                words: TFN_WORDS,
                need: Need::Context,
                base: 0.8,
            },
            NumberRule {
                info: class_info("GOVID.AU.ABN", "AU_ABN", Severity::Medium),
                lengths: 11..=11,
                separators: b" ",
                groups: &[2, 3, 3, 3],
                validate: au_abn_valid,
                words: ABN_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.8,
            },
            NumberRule {
                info: class_info("GOVID.AU.MEDICARE", "AU_MEDICARE", Severity::High),
                lengths: 10..=11,
                separators: b" ",
                groups: &[],
                validate: au_medicare_valid,
                words: MEDICARE_AU_WORDS,
                need: Need::Context,
                base: 0.8,
            },
        ];
        let tokens = vec![
            TokenRule {
                info: class_info("GOVID.IN.PAN", "IN_PAN", Severity::High),
                lengths: 10..=10,
                validate: in_pan_valid,
                words: PAN_WORDS,
                needs_context: false,
                base: 0.8,
            },
            TokenRule {
                info: class_info("GOVID.IN.GSTIN", "IN_GSTIN", Severity::Medium),
                lengths: 15..=15,
                validate: in_gstin_valid,
                words: GSTIN_WORDS,
                needs_context: false,
                base: 0.9,
            },
            TokenRule {
                info: class_info("GOVID.SG.NRIC", "SG_NRIC", Severity::High),
                lengths: 9..=9,
                validate: sg_nric_valid,
                words: NRIC_WORDS,
                needs_context: false,
                base: 0.85,
            },
        ];
        ApacIdDetector { numbers, tokens }
    }
}

impl Detector for ApacIdDetector {
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
    }
}
