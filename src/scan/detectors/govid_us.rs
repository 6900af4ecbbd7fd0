//! GOVID.US (besides the SSN, which has its own file): ITIN, passport, driver licence;
//! and the passports of other countries, whose numbers the same tokens hold.
//!
//! - US_ITIN (`GOVID.US.ITIN`): `9AA-GG-SSSS` with the IRS group ranges; the bare nine
//!   digits only with context.
//! - US_PASSPORT (`GOVID.US.PASSPORT`): nine digits, or a letter and eight digits (the
//!   next-generation book), only next to a passport word: the shape alone is any
//!   order number.
//! - PASSPORT_NUMBER (`GOVID.PASSPORT`): another country's passport number (ICAO 9303
//!   document numbers: Germany `C01X00T47`, France `12AB34567`, India `J8369854`,
//!   Canada `AB123456`): six to nine capitals and digits ending with a digit, with a
//!   letter and four digits or more (nine characters opening with a letter: any
//!   digits), only next to a passport word. No check digit is printed with the number
//!   alone, so none is validated.
//! - US_DRIVER_LICENSE (`GOVID.US.DRIVER_LICENSE`): state formats differ too much to
//!   validate (one letter + 4–14 digits, 7–13 digits, ...); a token of 5–15 letters
//!   and digits with at least four digits, next to a licence word.

use super::{Candidate, Detector, Input, Need, NumberRule, class_info};
use crate::scan::validators::itin_valid;
use crate::scan::{ClassInfo, Severity};

/// Context words for an ITIN.
pub(crate) static ITIN_WORDS: &[&str] = &["itin", "taxpayer identification", "tax id"];
/// Context words for a passport number.
pub(crate) static PASSPORT_WORDS: &[&str] = &["passport", "passeport", "reisepass", "pasaporte"];
/// Context words for a driver licence.
pub(crate) static LICENSE_WORDS: &[&str] = &[
    "driver's license",
    "drivers license",
    "driver license",
    "driving licence",
    "driver's licence",
    "dl#",
    "dl no",
    "dl number",
    "license number",
    "licence number",
    "führerschein",
];

/// Detects US ITINs, passports and driver licences.
#[derive(Debug)]
pub(crate) struct UsIdDetector {
    itin: NumberRule,
    passport: ClassInfo,
    other_passport: ClassInfo,
    license: ClassInfo,
}

impl UsIdDetector {
    pub(crate) fn new() -> Self {
        UsIdDetector {
            itin: NumberRule {
                info: class_info("GOVID.US.ITIN", "US_ITIN", Severity::High),
                lengths: 9..=9,
                separators: b"- ",
                groups: &[3, 2, 4],
                validate: itin_valid,
                words: ITIN_WORDS,
                need: Need::ContextUnlessFormatted,
                base: 0.85,
            },
            passport: class_info("GOVID.US.PASSPORT", "US_PASSPORT", Severity::High),
            other_passport: class_info("GOVID.PASSPORT", "PASSPORT_NUMBER", Severity::High),
            license: class_info(
                "GOVID.US.DRIVER_LICENSE",
                "US_DRIVER_LICENSE",
                Severity::High,
            ),
        }
    }
}

impl Detector for UsIdDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.itin.info.clone(),
            self.passport.clone(),
            self.other_passport.clone(),
            self.license.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.itin.detect(input, out);
        // Passports have 9 characters, licences 5 to 15.
        for t in (5..=15).flat_map(|len| input.tokens_of_len(len)) {
            let Some(token) = input.bytes.get(t.start..t.end) else {
                continue;
            };
            if !input.word_boundary_before(t.start) || !input.word_boundary_after(t.end) {
                continue;
            }
            let digits = token.iter().filter(|b| b.is_ascii_digit()).count();
            let upper_or_digit = token
                .iter()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
            let passport_shape = (t.len() == 9 && digits == 9)
                || (t.len() == 9
                    && digits == 8
                    && token.first().is_some_and(u8::is_ascii_uppercase));
            let letters = t.len() - digits;
            let other_shape = (6..=9).contains(&t.len())
                && upper_or_digit
                && letters >= 1
                // Germany's nine characters may be mostly letters (`CF37JMZR0`).
                && (digits >= 4 || (t.len() == 9 && token.first().is_some_and(u8::is_ascii_uppercase)))
                // Its last character is a digit: `35X45MM` is a photo's size.
                && token.last().is_some_and(u8::is_ascii_digit)
                && !passport_shape;
            if passport_shape || other_shape {
                let context = input.context(t.start, t.end, PASSPORT_WORDS);
                if context.any() {
                    let info = if passport_shape {
                        &self.passport
                    } else {
                        &self.other_passport
                    };
                    out.extend(input.finding(info, t.start, t.end, context.boost(0.75)));
                    continue;
                }
            }
            // A piece of a longer joined value is no licence: `15T08` of
            // `2024-09-15T08:28:07Z`, `20T1` of a version or path.
            // (`-` and `/` join letters too; `:` and `.` only digits, so that
            // `license number:D1234567` keeps its licence.)
            let joined = |sep: Option<u8>, next: Option<u8>| match sep {
                Some(b'-' | b'/') => next.is_some_and(|b| b.is_ascii_alphanumeric()),
                Some(b':' | b'.') => next.is_some_and(|b| b.is_ascii_digit()),
                _ => false,
            };
            let piece = joined(
                input.byte_before(t.start),
                t.start.checked_sub(1).and_then(|j| input.byte_before(j)),
            ) || joined(input.byte(t.end), input.byte(t.end + 1));
            if (5..=15).contains(&t.len()) && digits >= 4 && upper_or_digit && !piece {
                let context = input.context_within(t.start, t.end, 32, 16, LICENSE_WORDS);
                if context.any() {
                    out.extend(input.finding(&self.license, t.start, t.end, context.boost(0.7)));
                }
            }
        }
    }
}
