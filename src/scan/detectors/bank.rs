//! FIN.* (besides the IBAN, which has its own file): SWIFT/BIC, ABA routing numbers
//! and bank account numbers.
//!
//! - SWIFT_BIC (`FIN.SWIFT_BIC`): `AAAA CC LL [BBB]`, bank code of letters, a real ISO
//!   3166 country, location and branch of letters and digits. Eight capital letters
//!   are also most acronyms and shouted words, so only a token next to a SWIFT/BIC
//!   word counts.
//! - ABA_ROUTING (`FIN.US.ABA_ROUTING`): 9 digits, 3-7-1 weights and a Federal Reserve
//!   prefix; context (one random number in ten passes the weights).
//! - BANK_ACCOUNT (`FIN.BANK_ACCOUNT`): 6–17 digits (spaces or dashes allowed) right
//!   after an account word. There is no general check digit, so context is everything.

use super::{Candidate, Detector, Input, Need, NumberRule, class_info};
use crate::scan::validators::aba_valid;
use crate::scan::{ClassInfo, Severity};

/// Context words for a SWIFT/BIC code.
pub(crate) static SWIFT_WORDS: &[&str] = &["swift", "bic", "swift code", "bic code", "swift/bic"];
/// Context words for an ABA routing number.
pub(crate) static ABA_WORDS: &[&str] = &["routing", "aba", "rtn", "transit number"];
/// Context words for a bank account number.
pub(crate) static ACCOUNT_WORDS: &[&str] = &[
    "account number",
    "account no",
    "acct",
    "a/c",
    "bank account",
    "checking account",
    "savings account",
    "kontonummer",
    "konto",
    "numéro de compte",
];

/// ISO 3166-1 alpha-2 codes, two bytes each.
const COUNTRIES: &[u8] = b"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/// Whether `cc` is an assigned ISO 3166-1 alpha-2 country code.
pub(crate) fn is_country(cc: &[u8]) -> bool {
    cc.len() == 2 && COUNTRIES.chunks_exact(2).any(|c| c == cc)
}

/// Whether `token` is shaped like a BIC (8 or 11 characters).
pub(crate) fn bic_shape(token: &[u8]) -> bool {
    (token.len() == 8 || token.len() == 11)
        && token
            .get(..4)
            .is_some_and(|b| b.iter().all(u8::is_ascii_uppercase))
        && token.get(4..6).is_some_and(is_country)
        && token.get(6..).is_some_and(|b| {
            b.iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
}

/// Detects SWIFT/BIC codes, ABA routing numbers and bank account numbers.
#[derive(Debug)]
pub(crate) struct BankDetector {
    swift: ClassInfo,
    aba: NumberRule,
    account: ClassInfo,
}

impl BankDetector {
    pub(crate) fn new() -> Self {
        BankDetector {
            swift: class_info("FIN.SWIFT_BIC", "SWIFT_BIC", Severity::Medium),
            aba: NumberRule {
                info: class_info("FIN.US.ABA_ROUTING", "ABA_ROUTING", Severity::Medium),
                lengths: 9..=9,
                separators: b"",
                groups: &[],
                validate: aba_valid,
                words: ABA_WORDS,
                need: Need::Context,
                base: 0.8,
            },
            account: class_info("FIN.BANK_ACCOUNT", "BANK_ACCOUNT", Severity::High),
        }
    }
}

impl Detector for BankDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.swift.clone(),
            self.aba.info.clone(),
            self.account.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.aba.detect(input, out);
        let windows = input.digit_windows();
        // An account number needs an account word: none in the text, none to check.
        let candidates = || (6..=17).map(|len| windows.count_of_len(len)).sum();
        let lens = if input.words_absent(ACCOUNT_WORDS, candidates) {
            0..=0
        } else {
            6..=17
        };
        for len in lens {
            for w in windows.of_len(len) {
                if (w.sep != 0 && !b" -".contains(&w.sep))
                    || !input.standalone_number(w.start, w.end)
                {
                    continue;
                }
                let context = input.context_within(w.start, w.end, 32, 0, ACCOUNT_WORDS);
                if context.any() {
                    out.extend(input.finding(&self.account, w.start, w.end, 0.75));
                }
            }
        }
        // SWIFT/BIC: tokens that start with a capital at a word boundary, next to a
        // SWIFT word (before or after).
        let bytes = input.bytes;
        for &i in input.capitals() {
            // A BIC starts with four capitals: the second byte settles most capitals.
            if !bytes.get(i).is_some_and(u8::is_ascii_uppercase)
                || !bytes.get(i + 1).is_some_and(u8::is_ascii_uppercase)
                || !input.word_boundary_before(i)
            {
                continue;
            }
            let mut end = i;
            while bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                end += 1;
            }
            let token = bytes.get(i..end).unwrap_or_default();
            if bic_shape(token) && input.word_boundary_after(end) {
                let context = input.context_within(i, end, 32, 32, SWIFT_WORDS);
                if context.any() {
                    out.extend(input.finding(&self.swift, i, end, context.boost(0.75)));
                }
            }
        }
    }
}
