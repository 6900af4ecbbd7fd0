//! PHI.*: US and UK health identifiers, medical record numbers, diagnosis and
//! medication terms.
//!
//! - US_NPI (`PHI.US.NPI`): 10 digits starting 1 or 2, Luhn over `80840` + number;
//!   context (the shape is any ten-digit number).
//! - US_DEA (`PHI.US.DEA`): two letters and seven digits with the DEA check digit;
//!   context.
//! - US_MBI (`PHI.US.MBI`): the Medicare Beneficiary Identifier, 11 characters in
//!   CMS's positional classes (`1EG4TE5MK73` or `1EG4-TE5-MK73`).
//! - UK_NHS (`PHI.UK.NHS`): 10 digits, mod-11; context, because `943 476 5919` is also
//!   a NANP phone shape.
//! - MEDICAL_RECORD_NUMBER (`PHI.MRN`): a 5–15 character token with four digits or
//!   more after an MRN word; facility formats are not standard, so context is
//!   everything (and a field's name such as `Track1` is no number).
//! - DIAGNOSIS / MEDICATION (`PHI.DIAGNOSIS`, `PHI.MEDICATION`): whole-word terms of
//!   a built-in dictionary. They are keywords like the context words, and come from the
//!   shared trigger hits (`triggers.rs`), which find them with one cheap pass over the
//!   text for every such term.

use super::{Candidate, Detector, Input, Need, NumberRule, TokenRule, class_info, shape};
use crate::scan::validators::{dea_valid, mbi_valid, nhs_valid, npi_valid};
use crate::scan::{ClassInfo, Severity};

/// Context words for an NPI.
pub(crate) static NPI_WORDS: &[&str] = &["npi", "national provider", "provider id", "prescriber"];
/// Context words for a medical record number.
pub(crate) static MRN_WORDS: &[&str] = &[
    "mrn",
    "medical record",
    "patient id",
    "patient number",
    "chart number",
    "hospital number",
    // Forms' short labels: `MR#`, `MR No.`, `Chart #`, `Hosp No.`.
    "mr#",
    "mr #",
    "mr no",
    "chart #",
    "chart no",
    "hosp no",
    "hospital no",
];
/// Words that label a health plan's number for its member (HIPAA's "health plan
/// beneficiary number"): on their own.
pub(crate) static HEALTH_PLAN_WORDS: &[&str] = &[
    "medicaid id",
    "medicaid number",
    "medicaid #",
    "medicaid no",
    "medi-cal id",
    "insurance id",
    "insurance number",
    "insured's id",
    "insured's i.d.",
    "insured id",
    "beneficiary id",
    "beneficiary number",
    "health plan id",
    "plan member id",
    "hicn",
    "medicare claim number",
];
/// Words that label a member's number of anything (a gym, a loyalty scheme): a health
/// plan's only with a word of health or insurance before them ([`PLAN_CONTEXT`]).
pub(crate) static MEMBER_WORDS: &[&str] = &[
    "member id",
    "member number",
    "member #",
    "member no",
    "subscriber id",
    "subscriber number",
    "subscriber #",
    "subscriber no",
];
/// The words of health or insurance that make a member's number a health plan's, in
/// [`PLAN_CONTEXT_BEFORE`] bytes before its label (lowercase).
const PLAN_CONTEXT: &[&[u8]] = &[
    b"health",
    b"insurance",
    b"insurer",
    b"insured",
    b"medical",
    b"dental",
    b"medicaid",
    b"medicare",
    b"payer",
    b"patient",
    b"copay",
    b"eob",
    b"hmo",
    b"ppo",
    b"pharmacy",
    b"claim number",
];
/// How far before a member's label [`PLAN_CONTEXT`] is looked for.
const PLAN_CONTEXT_BEFORE: usize = 160;
/// Context words for a UK NHS number.
pub(crate) static NHS_WORDS: &[&str] = &["nhs", "nhs number", "health service"];
/// Context words for a DEA number.
pub(crate) static DEA_WORDS: &[&str] = &["dea", "drug enforcement"];
/// Context words for an MBI.
pub(crate) static MBI_WORDS: &[&str] = &["mbi", "medicare beneficiary", "medicare"];
/// Diagnosis terms (lowercase), matched as whole words.
pub(crate) static DIAGNOSIS_TERMS: &[&str] = &[
    "hiv",
    "hepatitis b",
    "hepatitis c",
    "diabetes",
    "type 2 diabetes",
    "type 1 diabetes",
    "schizophrenia",
    "bipolar disorder",
    "major depressive disorder",
    "ptsd",
    "anorexia nervosa",
    "bulimia",
    "alzheimer's disease",
    "alzheimer's",
    "dementia",
    "parkinson's disease",
    "multiple sclerosis",
    "epilepsy",
    "breast cancer",
    "lung cancer",
    "prostate cancer",
    "leukemia",
    "lymphoma",
    "melanoma",
    "chemotherapy",
    "tuberculosis",
    "syphilis",
    "gonorrhea",
    "chlamydia",
    "herpes",
    "opioid use disorder",
    "alcohol use disorder",
    "substance abuse",
    "cirrhosis",
    "copd",
    "asthma",
    "hypertension",
    "heart failure",
    "myocardial infarction",
    "chronic kidney disease",
    "dialysis",
    "autism",
    "adhd",
    "obsessive-compulsive disorder",
    "anxiety disorder",
    "pregnancy",
    "miscarriage",
    "infertility",
    "sickle cell",
    "cystic fibrosis",
    "huntington's disease",
    "covid-19",
];
/// Medication terms (lowercase), matched as whole words.
pub(crate) static MEDICATION_TERMS: &[&str] = &[
    "metformin",
    "insulin",
    "lisinopril",
    "atorvastatin",
    "simvastatin",
    "amlodipine",
    "metoprolol",
    "omeprazole",
    "levothyroxine",
    "sertraline",
    "fluoxetine",
    "citalopram",
    "escitalopram",
    "bupropion",
    "venlafaxine",
    "duloxetine",
    "quetiapine",
    "olanzapine",
    "risperidone",
    "aripiprazole",
    "clozapine",
    "haloperidol",
    "lorazepam",
    "alprazolam",
    "diazepam",
    "clonazepam",
    "zolpidem",
    "oxycodone",
    "hydrocodone",
    "morphine",
    "fentanyl",
    "methadone",
    "buprenorphine",
    "naloxone",
    "tramadol",
    "gabapentin",
    "pregabalin",
    "prednisone",
    "methotrexate",
    "adalimumab",
    "warfarin",
    "apixaban",
    "rivaroxaban",
    "clopidogrel",
    "truvada",
    "biktarvy",
    "tenofovir",
    "emtricitabine",
    "efavirenz",
    "semaglutide",
    "ozempic",
    "wegovy",
    "adderall",
    "methylphenidate",
    "ritalin",
    "tamoxifen",
    "letrozole",
    "sildenafil",
    "finasteride",
];

/// Detects health identifiers and terms.
#[derive(Debug)]
pub(crate) struct HealthDetector {
    numbers: Vec<NumberRule>,
    tokens: Vec<TokenRule>,
    mbi: ClassInfo,
    mrn: ClassInfo,
    health_plan: ClassInfo,
    diagnosis: ClassInfo,
    medication: ClassInfo,
}

impl HealthDetector {
    pub(crate) fn new() -> Self {
        let mbi = class_info("PHI.US.MBI", "US_MBI", Severity::High);
        HealthDetector {
            numbers: vec![
                NumberRule {
                    info: class_info("PHI.US.NPI", "US_NPI", Severity::Medium),
                    lengths: 10..=10,
                    separators: b"",
                    groups: &[],
                    validate: npi_valid,
                    words: NPI_WORDS,
                    need: Need::Context,
                    base: 0.8,
                },
                NumberRule {
                    info: class_info("PHI.UK.NHS", "UK_NHS", Severity::High),
                    lengths: 10..=10,
                    separators: b" -",
                    groups: &[3, 3, 4],
                    validate: nhs_valid,
                    words: NHS_WORDS,
                    need: Need::Context,
                    base: 0.8,
                },
            ],
            tokens: vec![
                TokenRule {
                    info: class_info("PHI.US.DEA", "US_DEA", Severity::Medium),
                    lengths: 9..=9,
                    validate: dea_valid,
                    words: DEA_WORDS,
                    needs_context: true,
                    base: 0.8,
                },
                TokenRule {
                    info: mbi.clone(),
                    lengths: 11..=11,
                    validate: mbi_valid,
                    words: MBI_WORDS,
                    needs_context: false,
                    base: 0.85,
                },
            ],
            mbi,
            mrn: class_info("PHI.MRN", "MEDICAL_RECORD_NUMBER", Severity::High),
            health_plan: class_info("PHI.HEALTH_PLAN_ID", "HEALTH_PLAN_ID", Severity::High),
            diagnosis: class_info("PHI.DIAGNOSIS", "DIAGNOSIS", Severity::High),
            medication: class_info("PHI.MEDICATION", "MEDICATION", Severity::Medium),
        }
    }
}

impl Detector for HealthDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        let mut classes: Vec<ClassInfo> = self.numbers.iter().map(|r| r.info.clone()).collect();
        classes.extend(self.tokens.iter().map(|r| r.info.clone()));
        classes.extend([
            self.mrn.clone(),
            self.health_plan.clone(),
            self.diagnosis.clone(),
            self.medication.clone(),
        ]);
        classes
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for rule in &self.numbers {
            rule.detect(input, out);
        }
        for rule in &self.tokens {
            rule.detect(input, out);
        }
        // 1EG4-TE5-MK73
        for g in input.digit_groups() {
            // The group ends with the fourth character, before the first dash: that
            // character alone, or the third and fourth when the third is a digit too.
            if g.len() > 2 {
                continue;
            }
            let Some(start) = g.end.checked_sub(4) else {
                continue;
            };
            let end = start + 13;
            let Some(candidate) = input.bytes.get(start..end) else {
                continue;
            };
            if !shape(candidate, b"XXXX-XXX-XXXX")
                || !input.word_boundary_before(start)
                || !input.word_boundary_after(end)
            {
                continue;
            }
            let compact: Vec<u8> = candidate.iter().copied().filter(|&b| b != b'-').collect();
            if mbi_valid(&compact) {
                out.extend(input.finding(&self.mbi, start, end, 0.9));
            }
        }
        // Medical record numbers: the token right after an MRN word.
        let mut plan_lists: Option<(bool, bool)> = None;
        for t in (5..=15).flat_map(|len| input.tokens_of_len(len)) {
            if !input.word_boundary_before(t.start)
                || !input.word_boundary_after(t.end)
                || labels_a_field(input, t.start, t.end)
                || timestamp_joint(input, t.start, t.end)
                || input.bytes[t.start..t.end]
                    .iter()
                    .filter(|b| b.is_ascii_digit())
                    .count()
                    < 4
            {
                continue;
            }
            // The label's nearest number: none between them (`Member ID: W283746510,
            // group 0012345` labels no group number).
            let window = input
                .bytes
                .get(t.start.saturating_sub(24)..t.start)
                .unwrap_or_default();
            // (A length's hint is no number between: `MRN (7 digits): 1234567`.)
            let before = window
                .windows(3)
                .rposition(|w| w.iter().all(u8::is_ascii_digit))
                .map_or(window.len(), |p| window.len() - (p + 3));
            let context = input.context_within(t.start, t.end, before, 0, MRN_WORDS);
            // The plan's words are looked for near a token only when the text has them.
            let (plan, member) = *plan_lists.get_or_insert_with(|| {
                let tokens = || (5..=15).map(|len| input.tokens_of_len(len).count()).sum();
                (
                    !input.words_absent(HEALTH_PLAN_WORDS, tokens),
                    !input.words_absent(MEMBER_WORDS, tokens),
                )
            });
            if context.any() {
                out.extend(input.finding(&self.mrn, t.start, t.end, 0.8));
            } else if (plan
                && input
                    .context_within(t.start, t.end, before, 0, HEALTH_PLAN_WORDS)
                    .any())
                || (member
                    && input
                        .context_within(t.start, t.end, before, 0, MEMBER_WORDS)
                        .any()
                    && plan_context_before(input, t.start))
            {
                out.extend(input.finding(&self.health_plan, t.start, t.end, 0.8));
            }
        }
        for hit in input.trigger_hits() {
            let info = if hit.is_in(DIAGNOSIS_TERMS) {
                &self.diagnosis
            } else if hit.is_in(MEDICATION_TERMS) {
                &self.medication
            } else {
                continue;
            };
            if input.word_boundary_after(hit.end) {
                out.extend(input.finding(info, hit.start, hit.end, 0.7));
            }
        }
    }
}

/// Whether a word of health or insurance ([`PLAN_CONTEXT`]), whole, is in the
/// [`PLAN_CONTEXT_BEFORE`] bytes before `start`.
fn plan_context_before(input: &Input<'_>, start: usize) -> bool {
    let window = input
        .bytes
        .get(start.saturating_sub(PLAN_CONTEXT_BEFORE)..start)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let letter = |i: Option<&u8>| i.is_some_and(u8::is_ascii_alphabetic);
    PLAN_CONTEXT.iter().any(|w| {
        memchr::memmem::find_iter(&window, w).any(|at| {
            !letter(at.checked_sub(1).and_then(|b| window.get(b)))
                && !letter(window.get(at + w.len()))
        })
    })
}

/// Whether the token at `start..end` is the day and time of an ISO 8601 timestamp
/// (`16T16` in `2024-08-16T16:50:07Z`, `16t162011z`, `16T16Z`): one or two digits after
/// a date's `-`, `T`, digits, and an optional zone letter.
fn timestamp_joint(input: &Input<'_>, start: usize, end: usize) -> bool {
    let token = input.bytes.get(start..end).unwrap_or_default();
    let token = token
        .strip_suffix(b"Z")
        .or_else(|| token.strip_suffix(b"z"))
        .unwrap_or(token);
    let Some(t) = token.iter().position(|&b| b == b'T' || b == b't') else {
        return false;
    };
    let (day, time) = (&token[..t], &token[t + 1..]);
    let date_before = start >= 2
        && input.byte_before(start) == Some(b'-')
        && input
            .byte_before(start - 1)
            .is_some_and(|b| b.is_ascii_digit());
    date_before
        && (1..=2).contains(&day.len())
        && day.iter().all(u8::is_ascii_digit)
        && !time.is_empty()
        && time.iter().all(u8::is_ascii_digit)
}

/// Whether the token at `start..end` is a word-led label with a colon after it
/// (`Track1: ` after `MRN: 88286826`), the name of the next field rather than a value
/// (`AB12345:` stays a possible value). A `key=` key is no value for any rule: context
/// answers no for it (see `keywords::names_a_field`).
fn labels_a_field(input: &Input<'_>, start: usize, end: usize) -> bool {
    input.byte(end) == Some(b':')
        && input
            .bytes
            .get(start..start + 3)
            .is_some_and(|b| b.iter().all(u8::is_ascii_alphabetic))
}
