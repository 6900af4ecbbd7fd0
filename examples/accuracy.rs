//! Accuracy harness for the scanner: a seeded generator of prompt-like text with
//! every entity type embedded at known spans, plus hard negatives (order numbers,
//! timestamps, UUIDs, versions, hashes, phone-like numbers) in the surrounding prose;
//! then per-type precision, recall and F2 of `Scanner::scan` on it.
//!
//! ```sh
//! cargo run --release --example accuracy                          # 100 documents per type
//! cargo run --release --example accuracy -- --per-type 300 --seed 7
//! cargo run --release --example accuracy -- --corpus target/accuracy/corpus.jsonl
//! cargo run --release --example accuracy -- --seeds 1..300 --per-type 1000 --errors
//! ```
//!
//! `--evasion` rewrites every document's value with one evasion drawn at random (zero-width
//! and bidi characters, soft hyphens, tag characters, fullwidth forms, other scripts'
//! digits, confusable punctuation inside it; or its whole sentence, context words
//! included, in base64, percent-encoding, hex, `\u` escapes, or base64 of
//! percent-encoding), and also prints recall per evasion.
//!
//! `--records` puts every document's value into a record instead (JSON, CSV, a file
//! delimited by `;` or `|`, logfmt, YAML, a Markdown table, an SQL insert, XML) as a
//! field under a name people give it,
//! beside hard-negative fields and, in a third of the records, a second value; and
//! also prints recall per format.
//!
//! `--layouts` writes every document's value under a label in running text instead: a
//! `Label: value` line, a bulleted or numbered list, a label on the line above, a
//! signature that ends the text, parentheses, quotes, a sentence end, a tab, a dash;
//! and also prints recall per layout.
//!
//! `--crlf` ends every line with CR LF, and `--quoted` starts every line with `> ` as a
//! reply quotes a message; either applies to any of the corpora above, as the text a
//! Windows editor or a mail client would paste. `--wrapped` breaks every line longer
//! than 72 characters at its last space before the 73rd, as a mail client wraps text,
//! even when that space is inside a value.
//!
//! `--seeds A..B` scores the corpora of every seed from A to B (inclusive) as one, one
//! seed's corpus in memory at a time; `--errors` prints each false positive and miss
//! with its document.
//!
//! `--corpus FILE` also writes the corpus as JSON lines (`text`, and `spans` with
//! `type`, byte `start`/`end` and char `cstart`/`cend`) for `bench/presidio/compare.py`,
//! which scores Microsoft Presidio on exactly the same documents.
//!
//! The test suite scores every corpus of seeds 1 and 2, plain and pasted (wrapped,
//! quoted, CR LF), and fails on any false positive or miss (`cargo nextest run
//! --examples without_errors`, part of `scripts/test`). Wider seed ranges are run by
//! hand with `--seeds` and `--errors`.
//!
//! Scoring: a finding is a true positive when it overlaps a gold span of the same type
//! (each gold span counts once); every other finding is a false positive of its type,
//! wherever it is (in the prose, on a hard negative, or typed wrongly on a gold span);
//! a gold span without an overlapping finding of its type is a false negative.
//! F2 weighs recall twice as much as precision: a missed value leaves the building.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use customs::scan::validators as v;
use customs::scan::{Classifier, Scanner};
use sha2::{Digest, Sha256};

mod common;
use common::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Draws from `gen` until `ok` accepts (checksummed values: one in 10–100 passes).
fn until(rng: &mut Rng, draw: impl Fn(&mut Rng) -> String, ok: impl Fn(&str) -> bool) -> String {
    loop {
        let s = draw(rng);
        if ok(&s) {
            return s;
        }
    }
}

fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        out.push(&s[at..at + n]);
        at += n;
    }
    out.join(sep)
}

const FIRST: &[&str] = &[
    "James", "Mary", "Robert", "Jennifer", "Michael", "Linda", "Sarah", "David", "Emma", "Lukas",
    "Camille", "Priya", "Carlos", "Giulia", "Hiroshi", "Fatima",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Garcia",
    "Müller",
    "Dubois",
    "Rossi",
    "Sharma",
    "Tanaka",
    "Okafor",
    "Lindqvist",
    "Kowalski",
    "Brennan",
    "Haddad",
    "Moreau",
];
const CITIES: &[&str] = &["Springfield", "Portland", "Austin", "Denver", "Madison"];
const STREETS: &[&str] = &["Maple", "Oak", "Pine", "Cedar", "Elm", "Washington", "Lake"];
const SUFFIX: &[&str] = &["Street", "Avenue", "Road", "Lane", "Drive", "Blvd"];
const STATES: &[&str] = &["CA", "NY", "TX", "WA", "OR", "CO", "IL"];
const DIAG: &[&str] = &[
    "diabetes",
    "schizophrenia",
    "bipolar disorder",
    "hepatitis C",
    "HIV",
    "epilepsy",
    "breast cancer",
];
const MEDS: &[&str] = &[
    "metformin",
    "sertraline",
    "insulin",
    "quetiapine",
    "adalimumab",
    "warfarin",
    "fentanyl",
];

/// One entity type: its label, and a generator of (template with `{}`, value).
type Gen = fn(&mut Rng) -> (&'static str, String);

fn luhn_complete(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let p = prefix.to_owned();
    until(
        rng,
        |r| format!("{p}{}", r.digits(len - p.len())),
        |s| v::luhn_valid(s.as_bytes()),
    )
}

fn generators() -> Vec<(&'static str, Gen)> {
    vec![
        ("EMAIL", |r| {
            (
                "Please email {} about the renewal.",
                format!(
                    "{}.{}{}@{}",
                    r.pick(FIRST).to_lowercase(),
                    r.pick(&["smith", "lee", "ng", "patel"]),
                    r.below(100),
                    r.pick(&["example.com", "corp.example.org", "mail.example.co.uk"])
                ),
            )
        }),
        ("PHONE", |r| {
            let v = match r.below(6) {
                0 => format!(
                    "({}) 555-{}",
                    r.pick(&["415", "212", "646", "303"]),
                    r.digits(4)
                ),
                1 => format!("+1 415 555 {}", r.digits(4)),
                2 => format!("+44 20 7946 {}", r.digits(4)),
                3 => format!("030 {}", r.digits(8)),
                4 => format!(
                    "+33 1 {} {} {} {}",
                    r.digits(2),
                    r.digits(2),
                    r.digits(2),
                    r.digits(2)
                ),
                _ => format!("+91 98765 {}", r.digits(5)),
            };
            ("Call me back at {} tomorrow morning.", v)
        }),
        ("IP_ADDRESS", |r| {
            let v = if r.below(3) == 0 {
                format!(
                    "2001:db8:{:x}::{:x}:{:x}",
                    r.below(65535),
                    r.below(65535) + 1,
                    r.below(65535) + 1
                )
            } else {
                format!(
                    "{}.{}.{}.{}",
                    11 + r.below(200),
                    r.below(256),
                    r.below(256),
                    1 + r.below(254)
                )
            };
            ("The login came from {} last night.", v)
        }),
        ("MAC_ADDRESS", |r| {
            (
                "Device with MAC {} joined the guest network.",
                (0..6)
                    .map(|_| r.chars_of(HEX, 2).to_uppercase())
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }),
        ("URL_CREDENTIALS", |r| {
            (
                "Connect with postgres://{}@db.internal:5432/app please.",
                format!("admin{}:{}", r.below(99), r.chars_of(ALNUM, 12)),
            )
        }),
        ("DATE_OF_BIRTH", |r| {
            let (y, m, d) = (1940 + r.below(60), 1 + r.below(12), 1 + r.below(28));
            let v = match r.below(3) {
                0 => format!("{m:02}/{d:02}/{y}"),
                1 => format!("{y}-{m:02}-{d:02}"),
                _ => format!(
                    "{d} {} {y}",
                    ["January", "March", "May", "July", "October", "December"][r.below(6)]
                ),
            };
            (
                [
                    "Patient DOB: {}.",
                    "She was born on {} in Ohio.",
                    "Date of birth {} per the form.",
                ][r.below(3)],
                v,
            )
        }),
        ("PERSON_NAME", |r| {
            (
                "Please forward the contract to {} before Friday.",
                format!("{} {}", r.pick(FIRST), r.pick(LAST)),
            )
        }),
        ("STREET_ADDRESS", |r| {
            (
                "Ship the replacement to {} please.",
                format!(
                    "{} {} {}, {}, {} {}",
                    1 + r.below(9999),
                    r.pick(STREETS),
                    r.pick(SUFFIX),
                    r.pick(CITIES),
                    r.pick(STATES),
                    r.digits(5)
                ),
            )
        }),
        ("VIN", |r| {
            (
                "The car with VIN {} was recalled.",
                until(
                    r,
                    |r| r.chars_of(b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789", 17),
                    |s| v::vin_valid(s.as_bytes()),
                ),
            )
        }),
        ("IMEI", |r| {
            ("Phone IMEI {} reported stolen.", luhn_complete(r, "35", 15))
        }),
        ("BTC_ADDRESS", |r| {
            ("Send the refund to {} today.", btc_address(r))
        }),
        ("ETH_ADDRESS", |r| {
            // Half in EIP-55 mixed case (what wallets print), half all lowercase, by
            // the last digit (no extra draw, so a seed's other documents stay the same).
            let hex = r.chars_of(HEX, 40);
            let mixed = hex.ends_with(['0', '2', '4', '6', '8', 'a', 'c', 'e']);
            let hex = match v::eip55_encode(hex.as_bytes()) {
                Some(spelled) if mixed => String::from_utf8_lossy(&spelled).into_owned(),
                _ => hex,
            };
            ("My wallet is 0x{} for payouts.", hex).pipe_eth()
        }),
        ("CARD_NUMBER", |r| {
            let pan = match r.below(4) {
                0 => luhn_complete(r, "4", 16),
                1 => luhn_complete(r, "5", 16)
                    .replacen('5', "52", 1)
                    .chars()
                    .take(16)
                    .collect::<String>(),
                2 => luhn_complete(r, "37", 15),
                _ => luhn_complete(r, "6011", 16),
            };
            let pan = if v::luhn_valid(pan.as_bytes()) && v::card_brand(pan.as_bytes()).is_some() {
                pan
            } else {
                luhn_complete(r, "4", 16)
            };
            let v = match (pan.len(), r.below(3)) {
                (16, 0) => group(&pan, &[4, 4, 4, 4], " "),
                (16, 1) => group(&pan, &[4, 4, 4, 4], "-"),
                (15, 0) => group(&pan, &[4, 6, 5], " "),
                _ => pan,
            };
            ("My card number is {} if you need it.", v)
        }),
        ("CARD_CVV", |r| ("The CVV is {} on the back.", r.digits(3))),
        ("CARD_EXPIRY", |r| {
            (
                "Card expires {} so renew soon.",
                format!("{:02}/{}", 1 + r.below(12), 26 + r.below(8)),
            )
        }),
        ("CARD_TRACK_DATA", |r| {
            (
                "Swipe log: {} end.",
                format!(
                    "%B{}^DOE/JOHN^{}{}?",
                    luhn_complete(r, "4", 16),
                    26 + r.below(8),
                    r.digits(20)
                ),
            )
        }),
        ("IBAN", |r| {
            let bban = r.digits(18);
            let iban = until(
                r,
                |r| format!("DE{}{bban}", r.digits(2)),
                |s| v::iban_mod97_valid(s.as_bytes()),
            );
            (
                "Transfer to IBAN {} by Monday.",
                if r.below(2) == 0 {
                    group(&iban, &[4, 4, 4, 4, 4, 2], " ")
                } else {
                    iban
                },
            )
        }),
        ("SWIFT_BIC", |r| {
            (
                "Use SWIFT code {} for the wire.",
                format!(
                    "{}{}{}",
                    r.upper(4),
                    r.pick(&["DE", "GB", "FR", "US", "CH"]),
                    r.chars_of(b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 2)
                ),
            )
        }),
        ("ABA_ROUTING", |r| {
            (
                "Our routing number is {} for ACH.",
                until(
                    r,
                    |r| format!("0{}", r.digits(8)),
                    |s| v::aba_valid(s.as_bytes()),
                ),
            )
        }),
        ("BANK_ACCOUNT", |r| {
            ("Deposit into account number {} please.", {
                let n = 10 + r.below(3);
                r.digits(n)
            })
        }),
        ("US_SSN", |r| {
            (
                "Employee SSN is {} on file.",
                format!(
                    "{:03}-{:02}-{:04}",
                    1 + r.below(665),
                    1 + r.below(98),
                    1 + r.below(9998)
                ),
            )
        }),
        ("US_ITIN", |r| {
            (
                "My ITIN is {} for the return.",
                format!("9{}-{}-{}", r.digits(2), 70 + r.below(18), r.digits(4)),
            )
        }),
        ("US_PASSPORT", |r| {
            ("US passport number {} expires next year.", r.digits(9))
        }),
        ("PASSPORT_NUMBER", |r| {
            // Germany, France, India, Canada.
            let number = match r.below(4) {
                // A German number of a letter and eight digits has the shape of a US
                // one, and is read as one: these hold another letter.
                0 => loop {
                    let alphabet = b"CFGHJKLMNPRTVWXYZ0123456789";
                    let mut n = String::from("C");
                    for _ in 0..7 {
                        n.push(char::from(alphabet[r.below(alphabet.len())]));
                    }
                    n.push_str(&r.digits(1));
                    if n[1..].bytes().any(|b| b.is_ascii_uppercase()) {
                        break n;
                    }
                },
                1 => format!("{}{}{}", r.digits(2), r.upper(2), r.digits(5)),
                2 => format!("{}{}", r.upper(1), r.digits(7)),
                _ => format!("{}{}", r.upper(2), r.digits(6)),
            };
            ("Her passport number is {} and it is valid.", number)
        }),
        ("US_DRIVER_LICENSE", |r| {
            (
                "Driver's license number {} issued in CA.",
                format!("{}{}", r.upper(1), r.digits(7)),
            )
        }),
        ("UK_NINO", |r| {
            (
                "National Insurance number {} on the payslip.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}{}{}",
                            r.chars_of(b"ABCEGHJKLMNPRSTWXYZ", 2),
                            r.digits(6),
                            r.chars_of(b"ABCD", 1)
                        )
                    },
                    |s| v::uk_nino_valid(s.as_bytes()),
                ),
            )
        }),
        ("UK_UTR", |r| {
            (
                "My UTR is {} for self assessment.",
                until(r, |r| r.digits(10), |s| v::uk_utr_valid(s.as_bytes())),
            )
        }),
        ("DE_STEUER_ID", |r| {
            (
                "Meine Steuer-ID ist {} laut Bescheid.",
                until(
                    r,
                    |r| format!("{}{}", 1 + r.below(9), r.digits(10)),
                    |s| v::steuer_id_valid(s.as_bytes()),
                ),
            )
        }),
        ("FR_NIR", |r| {
            (
                "Numéro de sécurité sociale {} sur la carte.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}{:02}{:02}{}",
                            1 + r.below(2),
                            r.below(100),
                            1 + r.below(12),
                            r.digits(10)
                        )
                    },
                    |s| v::fr_nir_valid(s.as_bytes()),
                ),
            )
        }),
        ("ES_NIF", |r| {
            (
                "Mi DNI es {} gracias.",
                until(
                    r,
                    |r| format!("{}{}", r.digits(8), r.upper(1)),
                    |s| v::es_nif_valid(s.as_bytes()),
                ),
            )
        }),
        ("ES_NIE", |r| {
            (
                "NIE {} del titular.",
                until(
                    r,
                    |r| format!("{}{}{}", r.chars_of(b"XYZ", 1), r.digits(7), r.upper(1)),
                    |s| v::es_nie_valid(s.as_bytes()),
                ),
            )
        }),
        ("IT_FISCAL_CODE", |r| {
            (
                "Il codice fiscale è {} come da tessera.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}{}{}{}{}{}{}",
                            r.upper(6),
                            r.digits(2),
                            r.chars_of(b"ABCDEHLMPRST", 1),
                            r.digits(2),
                            r.upper(1),
                            r.digits(3),
                            r.upper(1)
                        )
                    },
                    |s| v::it_fiscal_code_valid(s.as_bytes()),
                ),
            )
        }),
        ("PL_PESEL", |r| {
            (
                "Numer PESEL {} w systemie.",
                until(
                    r,
                    |r| {
                        format!(
                            "{:02}{:02}{:02}{}",
                            r.below(100),
                            1 + r.below(12),
                            1 + r.below(28),
                            r.digits(5)
                        )
                    },
                    |s| v::pesel_valid(s.as_bytes()),
                ),
            )
        }),
        ("IN_AADHAAR", |r| {
            (
                "Aadhaar number {} is linked.",
                group(
                    &until(
                        r,
                        |r| format!("{}{}", 2 + r.below(8), r.digits(11)),
                        |s| v::aadhaar_valid(s.as_bytes()),
                    ),
                    &[4, 4, 4],
                    " ",
                ),
            )
        }),
        ("IN_PAN", |r| {
            (
                "PAN {} for TDS.",
                format!(
                    "{}{}{}{}{}",
                    r.upper(3),
                    r.chars_of(b"ABCFGHJLPTK", 1),
                    r.upper(1),
                    r.digits(4),
                    r.upper(1)
                ),
            )
        }),
        ("IN_GSTIN", |r| {
            (
                "GSTIN {} on the invoice.",
                until(
                    r,
                    |r| {
                        format!(
                            "{:02}{}{}{}{}{}{}Z",
                            1 + r.below(37),
                            r.upper(3),
                            r.chars_of(b"ABCFGHJLPTK", 1),
                            r.upper(1),
                            r.digits(4),
                            r.upper(1),
                            r.chars_of(b"123456789", 1)
                        ) + &r.chars_of(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1)
                    },
                    |s| v::in_gstin_valid(s.as_bytes()),
                )
                .pipe(),
            )
        }),
        ("SG_NRIC", |r| {
            (
                "NRIC {} at the counter.",
                until(
                    r,
                    |r| format!("{}{}{}", r.chars_of(b"STFG", 1), r.digits(7), r.upper(1)),
                    |s| v::sg_nric_valid(s.as_bytes()),
                ),
            )
        }),
        ("AU_TFN", |r| {
            (
                "My TFN is {} for payroll.",
                group(
                    &until(r, |r| r.digits(9), |s| v::au_tfn_valid(s.as_bytes())),
                    &[3, 3, 3],
                    " ",
                ),
            )
        }),
        ("AU_ABN", |r| {
            (
                "Supplier ABN {} on the quote.",
                group(
                    &until(
                        r,
                        |r| format!("{}{}", 1 + r.below(9), r.digits(10)),
                        |s| v::au_abn_valid(s.as_bytes()),
                    ),
                    &[2, 3, 3, 3],
                    " ",
                ),
            )
        }),
        ("AU_MEDICARE", |r| {
            (
                "Medicare number {} for the claim.",
                until(
                    r,
                    |r| format!("{}{}", 2 + r.below(5), r.digits(9)),
                    |s| v::au_medicare_valid(s.as_bytes()),
                ),
            )
        }),
        ("CA_SIN", |r| {
            (
                "SIN {} for the employer.",
                group(
                    &until(
                        r,
                        |r| format!("{}{}", 1 + r.below(7), r.digits(8)),
                        |s| v::ca_sin_valid(s.as_bytes()),
                    ),
                    &[3, 3, 3],
                    " ",
                ),
            )
        }),
        ("BR_CPF", |r| {
            let cpf = until(r, |r| r.digits(11), |s| v::br_cpf_valid(s.as_bytes()));
            (
                "CPF {} do cliente.",
                format!("{}.{}.{}-{}", &cpf[..3], &cpf[3..6], &cpf[6..9], &cpf[9..]),
            )
        }),
        ("MX_CURP", |r| {
            (
                "CURP {} del solicitante.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}{:02}{:02}{:02}{}{}{}{}",
                            r.upper(4),
                            r.below(100),
                            1 + r.below(12),
                            1 + r.below(28),
                            r.chars_of(b"HM", 1),
                            r.upper(2),
                            r.upper(3),
                            r.chars_of(b"0123456789", 1)
                        ) + &r.digits(1)
                    },
                    |s| v::mx_curp_valid(s.as_bytes()),
                ),
            )
        }),
        ("US_NPI", |r| {
            (
                "Prescriber NPI {} signed it.",
                until(
                    r,
                    |r| format!("1{}", r.digits(9)),
                    |s| v::npi_valid(s.as_bytes()),
                ),
            )
        }),
        ("US_DEA", |r| {
            (
                "DEA number {} on the script.",
                until(
                    r,
                    |r| format!("{}{}{}", r.chars_of(b"ABFGM", 1), r.upper(1), r.digits(7)),
                    |s| v::dea_valid(s.as_bytes()),
                ),
            )
        }),
        ("US_MBI", |r| {
            (
                "Medicare MBI {} on the card.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}{}{}{}{}{}{}{}{}",
                            1 + r.below(9),
                            r.chars_of(b"ACDEFGHJKMNPQRTUVWXY", 1),
                            r.chars_of(b"ACDEFGHJKMNPQRTUVWXY0123456789", 1),
                            r.digits(1),
                            r.chars_of(b"ACDEFGHJKMNPQRTUVWXY", 1),
                            r.chars_of(b"ACDEFGHJKMNPQRTUVWXY0123456789", 1),
                            r.digits(1),
                            r.chars_of(b"ACDEFGHJKMNPQRTUVWXY", 2),
                            r.digits(2)
                        )
                    },
                    |s| v::mbi_valid(s.as_bytes()),
                ),
            )
        }),
        ("UK_NHS", |r| {
            (
                "NHS number {} registered.",
                group(
                    &until(r, |r| r.digits(10), |s| v::nhs_valid(s.as_bytes())),
                    &[3, 3, 4],
                    " ",
                ),
            )
        }),
        ("MEDICAL_RECORD_NUMBER", |r| {
            ("MRN: {} admitted overnight.", r.digits(8))
        }),
        ("DIAGNOSIS", |r| {
            (
                "The patient was diagnosed with {} last year.",
                r.pick(DIAG).to_owned(),
            )
        }),
        ("MEDICATION", |r| {
            ("She takes {} twice a day.", r.pick(MEDS).to_owned())
        }),
        ("AWS_ACCESS_KEY_ID", |r| {
            (
                "Rotate key {} now.",
                format!(
                    "AKIA{}",
                    r.chars_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
                ),
            )
        }),
        ("AWS_SECRET_ACCESS_KEY", |r| {
            ("aws_secret_access_key = {}", r.chars_of(B64, 40))
        }),
        ("GITHUB_TOKEN", |r| {
            ("export GH={} in CI.", {
                // 30 random characters and their checksum, as GitHub issues them (36
                // drawn, as before checksums, so a seed's other documents stay the same).
                let mut random = r.chars_of(ALNUM, 36);
                random.truncate(30);
                let check = v::github_token_checksum(random.as_bytes());
                format!("ghp_{random}{}", String::from_utf8_lossy(&check))
            })
        }),
        ("GITLAB_TOKEN", |r| {
            (
                "token {} for the runner.",
                format!("glpat-{}", r.chars_of(ALNUM, 20)),
            )
        }),
        ("SLACK_TOKEN", |r| {
            (
                "Bot uses {} to post.",
                format!("xoxb-{}-{}", r.digits(11), r.chars_of(ALNUM, 24)),
            )
        }),
        ("STRIPE_KEY", |r| {
            (
                "Stripe {} in prod.",
                format!("sk_live_{}", r.chars_of(ALNUM, 24)),
            )
        }),
        ("GOOGLE_API_KEY", |r| {
            (
                "Maps key {} leaked.",
                format!("AIza{}", r.chars_of(ALNUM, 35)),
            )
        }),
        ("OPENAI_API_KEY", |r| {
            (
                "OPENAI_API_KEY={} in .env",
                format!("sk-proj-{}", r.chars_of(ALNUM, 48)),
            )
        }),
        ("ANTHROPIC_API_KEY", |r| {
            (
                "Use {} for Claude.",
                format!("sk-ant-api03-{}", r.chars_of(ALNUM, 40)),
            )
        }),
        ("AZURE_STORAGE_KEY", |r| {
            (
                "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net",
                format!("{}==", r.chars_of(B64, 86)),
            )
        }),
        ("JWT", |r| {
            (
                "Bearer {} expired.",
                format!(
                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
                    r.chars_of(ALNUM, 30),
                    r.chars_of(ALNUM, 43)
                ),
            )
        }),
        ("PRIVATE_KEY", |r| {
            (
                "Here is the key:\n{}\nthanks",
                format!(
                    "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----",
                    r.chars_of(B64, 64),
                    r.chars_of(B64, 40)
                ),
            )
        }),
        ("PASSWORD", |r| {
            (
                "Server=db;User Id=sa;Password={};",
                format!("{}{}!", r.chars_of(ALNUM, 10), r.digits(2)),
            )
        }),
        ("GENERIC_SECRET", |r| {
            (
                "client_secret: {}",
                format!("{}{}", r.chars_of(ALNUM, 22), r.digits(2)),
            )
        }),
    ]
}

/// Provider tokens recognised by prefix and body shape, ORCID iDs and command-line
/// passwords. Drawn from their own seeded
/// stream after every other document, so that adding them left the documents of the
/// other types (and so the side-by-side comparison with Presidio) exactly as they were.
fn token_generators() -> Vec<(&'static str, Gen)> {
    vec![
        ("GROQ_API_KEY", |r| {
            (
                "GROQ_API_KEY={} in the notebook.",
                format!("gsk_{}", r.chars_of(ALNUM, 52)),
            )
        }),
        ("XAI_API_KEY", |r| {
            ("Use {} for Grok.", format!("xai-{}", r.chars_of(ALNUM, 80)))
        }),
        ("PERPLEXITY_API_KEY", |r| {
            (
                "Search key {} expires soon.",
                format!("pplx-{}", r.chars_of(ALNUM, 48)),
            )
        }),
        ("HUGGINGFACE_TOKEN", |r| {
            (
                "Login with {} to pull the model.",
                format!("hf_{}Ab1", r.chars_of(ALNUM, 31)),
            )
        }),
        ("REPLICATE_API_TOKEN", |r| {
            (
                "export REPLICATE_API_TOKEN={}",
                format!("r8_{}Ab1", r.chars_of(ALNUM, 34)),
            )
        }),
        ("SENDGRID_API_KEY", |r| {
            (
                "Mail relay key {} on the server.",
                format!("SG.{}.{}", r.chars_of(ALNUM, 22), r.chars_of(ALNUM, 43)),
            )
        }),
        ("NPM_TOKEN", |r| {
            (
                "//registry.npmjs.org/:_authToken= {}",
                format!("npm_{}", r.chars_of(ALNUM, 36)),
            )
        }),
        ("PYPI_TOKEN", |r| {
            (
                "Upload with {} from CI.",
                format!("pypi-AgEIcHlwaS5vcmc{}", r.chars_of(ALNUM, 150)),
            )
        }),
        ("DIGITALOCEAN_TOKEN", |r| {
            (
                "doctl auth init -t {}",
                format!("dop_v1_{}", r.chars_of(HEX, 64)),
            )
        }),
        ("SHOPIFY_TOKEN", |r| {
            (
                "Admin API token {} for the store.",
                format!("shpat_{}", r.chars_of(HEX, 32)),
            )
        }),
        ("DATABRICKS_TOKEN", |r| {
            (
                "DATABRICKS_TOKEN={} in the job.",
                format!("dapi{}", r.chars_of(HEX, 32)),
            )
        }),
        ("VAULT_TOKEN", |r| {
            (
                "VAULT_TOKEN={} for the deploy.",
                format!("hvs.{}", r.chars_of(ALNUM, 90)),
            )
        }),
        ("GCP_OAUTH_CLIENT_SECRET", |r| {
            (
                "client secret {} for the app.",
                format!("GOCSPX-{}", r.chars_of(ALNUM, 28)),
            )
        }),
        ("POSTMAN_API_KEY", |r| {
            (
                "Postman key {} in the collection.",
                format!("PMAK-{}-{}", r.chars_of(HEX, 24), r.chars_of(HEX, 34)),
            )
        }),
        ("NEW_RELIC_API_KEY", |r| {
            (
                "NEW_RELIC_API_KEY={} in the agent.",
                format!(
                    "NRAK-{}",
                    r.chars_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27)
                ),
            )
        }),
        ("ATLASSIAN_API_TOKEN", |r| {
            (
                "Jira token {} for the bot.",
                format!("ATATT3{}", r.chars_of(ALNUM, 186)),
            )
        }),
        ("SENTRY_TOKEN", |r| {
            (
                "SENTRY_AUTH_TOKEN={} in CI.",
                format!("sntrys_{}", r.chars_of(ALNUM, 120)),
            )
        }),
        ("DOPPLER_TOKEN", |r| {
            (
                "Doppler service token {} for prod.",
                format!("dp.st.{}", r.chars_of(ALNUM, 43)),
            )
        }),
        ("LINEAR_API_KEY", |r| {
            (
                "Linear key {} for the sync.",
                format!("lin_api_{}", r.chars_of(ALNUM, 40)),
            )
        }),
        ("LANGSMITH_API_KEY", |r| {
            let kind = if r.below(2) == 0 { "pt" } else { "sk" };
            (
                "LANGSMITH_API_KEY={} for tracing.",
                format!(
                    "lsv2_{kind}_{}_{}",
                    r.chars_of(HEX, 32),
                    r.chars_of(HEX, 10)
                ),
            )
        }),
        ("PINECONE_API_KEY", |r| {
            (
                "pc = Pinecone(api_key=\"{}\")",
                format!("pcsk_{}_{}", r.chars_of(ALNUM, 5), r.chars_of(ALNUM, 63)),
            )
        }),
        ("GRAFANA_TOKEN", |r| {
            (
                "The dashboard sync uses {} as its service account.",
                format!("glsa_{}_{}", r.chars_of(ALNUM, 32), r.chars_of(HEX, 8)),
            )
        }),
        ("TAILSCALE_KEY", |r| {
            (
                "tailscale up --authkey={}",
                format!(
                    "tskey-auth-{}-{}",
                    r.chars_of(ALNUM, 12),
                    r.chars_of(ALNUM, 33)
                ),
            )
        }),
        ("SUPABASE_TOKEN", |r| {
            (
                "SUPABASE_ACCESS_TOKEN={} supabase link",
                format!("sbp_{}", r.chars_of(HEX, 40)),
            )
        }),
        ("SLACK_APP_TOKEN", |r| {
            (
                "SLACK_APP_TOKEN={} for socket mode.",
                format!(
                    "xapp-1-A0{}-{}-{}",
                    r.chars_of(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 9),
                    r.chars_of(b"0123456789", 13),
                    r.chars_of(HEX, 64)
                ),
            )
        }),
        ("DOCKER_HUB_TOKEN", |r| {
            (
                "echo {} | docker login -u ci --password-stdin",
                format!("dckr_pat_{}", r.chars_of(ALNUM, 27)),
            )
        }),
        ("GOOGLE_OAUTH_ACCESS_TOKEN", |r| {
            let len = 150 + r.below(60);
            (
                "curl -H 'Authorization: Bearer {}' https://www.googleapis.com/drive/v3/files",
                format!("ya29.a0{}", r.chars_of(ALNUM, len)),
            )
        }),
        ("WEBHOOK_SIGNING_SECRET", |r| {
            let body = if r.below(2) == 0 {
                r.chars_of(ALNUM, 32)
            } else {
                r.chars_of(HEX, 64)
            };
            (
                "Stripe endpoint secret {} for the listener.",
                format!("whsec_{body}"),
            )
        }),
        ("AGE_SECRET_KEY", |r| {
            ("# created: 2026-03-01\n{}\n", age_key(r))
        }),
        ("ORCID", |r| {
            (
                "The corresponding author's ORCID iD is {} on the preprint.",
                until(
                    r,
                    |r| {
                        format!(
                            "{}-000{}-{}-{}{}",
                            r.pick(&["0000", "0009"]),
                            r.digits(1),
                            r.digits(4),
                            r.digits(3),
                            r.chars_of(b"0123456789X", 1)
                        )
                    },
                    |s| v::orcid_valid(s.replace('-', "").as_bytes()),
                ),
            )
        }),
        // Passwords on the command lines engineers paste from runbooks.
        ("PASSWORD", |r| {
            (
                r.pick(&[
                    "Restore it with mysql -u root -p{} shop < dump.sql first.",
                    "The cron job runs curl -u svc-export:{} https://api.example.com/v1/export nightly.",
                    "Then sshpass -p '{}' ssh deploy@app-host restarts the service.",
                    "They ran sqlcmd -S db01 -U sa -P {} -Q \"select 1\" to check it.",
                    "The bind uses ldapsearch -x -D cn=admin,dc=corp -w {} -b dc=corp.",
                    "Keys were imported with keytool -importkeystore -srcstorepass {} -srckeystore a.p12.",
                    "Log in with docker login -u ci-bot -p {} registry.example.com before pushing.",
                    "Oracle: sqlplus app/{}@orcl @migrate.sql finished at noon.",
                ]),
                format!("{}{}{}", r.chars_of(ALNUM, 9), r.digits(2), r.pick(&["!", "#", "%", "*"])),
            )
        }),
    ]
}

trait Pipe {
    fn pipe(self) -> Self;
}
impl Pipe for String {
    fn pipe(self) -> Self {
        self
    }
}
trait PipeEth {
    fn pipe_eth(self) -> (&'static str, String);
}
impl PipeEth for (&'static str, String) {
    /// The template already holds `0x`; move it into the value.
    fn pipe_eth(self) -> (&'static str, String) {
        ("My wallet is {} for payouts.", format!("0x{}", self.1))
    }
}

fn btc_address(r: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut payload = vec![if r.below(2) == 0 { 0x00 } else { 0x05 }];
    payload.extend((0..20).map(|_| r.below(256) as u8));
    let check = Sha256::digest(Sha256::digest(&payload));
    payload.extend_from_slice(&check[..4]);
    let zeros = payload.iter().take_while(|&&b| b == 0).count();
    let mut num = payload.clone();
    let mut out = Vec::new();
    while num.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in num.iter_mut() {
            let acc = (rem << 8) | u32::from(*b);
            *b = (acc / 58) as u8;
            rem = acc % 58;
        }
        out.push(ALPHABET[rem as usize]);
    }
    out.extend(std::iter::repeat_n(b'1', zeros));
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// An age identity: 32 random bytes in Bech32 (`age-secret-key-`), with its checksum,
/// in capitals.
fn age_key(r: &mut Rng) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let bytes: Vec<u8> = (0..32).map(|_| r.below(256) as u8).collect();
    let (mut acc, mut bits, mut data) = (0u32, 0, Vec::new());
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            data.push(CHARSET[((acc >> bits) & 31) as usize]);
        }
    }
    data.push(CHARSET[((acc << (5 - bits)) & 31) as usize]);
    // The residue over the data and six zeros, xor 1, is the checksum to append.
    let mut text = [b"age-secret-key-1".as_slice(), &data, b"qqqqqq"].concat();
    let residue = v::bech32_checksum(&text, b"age-secret-key-").unwrap_or(1) ^ 1;
    text.truncate(text.len() - 6);
    text.extend((0..6).map(|i| CHARSET[((residue >> (5 * (5 - i))) & 31) as usize]));
    String::from_utf8(text).unwrap().to_ascii_uppercase()
}

/// Prose around the entity, with hard negatives in it.
fn filler(r: &mut Rng) -> String {
    let sentences: [&dyn Fn(&mut Rng) -> String; 10] = [
        &|_| "We are preparing the quarterly review for the operations team.".to_owned(),
        &|r| {
            format!(
                "Order #{} shipped on {}-0{}-1{}.",
                r.digits(9),
                2020 + r.below(6),
                1 + r.below(9),
                r.below(9)
            )
        },
        &|r| {
            format!(
                "Request id {}-{}-4{}-a{}-{} failed.",
                r.chars_of(HEX, 8),
                r.chars_of(HEX, 4),
                r.chars_of(HEX, 3),
                r.chars_of(HEX, 3),
                r.chars_of(HEX, 12)
            )
        },
        &|r| {
            format!(
                "Deployed version {}.{}.{} at 2024-03-15T14:{:02}:05Z.",
                r.below(20),
                r.below(40),
                r.below(100),
                r.below(60)
            )
        },
        &|r| format!("Commit {} fixed the build.", r.chars_of(HEX, 40)),
        &|r| {
            format!(
                "Ticket 555-01{} is about {} rows in the report.",
                r.digits(2),
                r.digits(5)
            )
        },
        &|r| {
            format!(
                "Invoice INV-{}-{} totals ${},{}.{}.",
                2020 + r.below(6),
                r.digits(6),
                1 + r.below(9),
                r.digits(3),
                r.digits(2)
            )
        },
        &|_| "Please keep the tone neutral and avoid speculation.".to_owned(),
        &|r| {
            format!(
                "The median response time dropped to {}.{} hours.",
                r.below(9),
                r.below(9)
            )
        },
        &|r| {
            format!(
                "Tracking number 1Z{}{} is in transit.",
                r.chars_of(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 6),
                r.digits(10)
            )
        },
    ];
    let n = 1 + r.below(3);
    (0..n)
        .map(|_| sentences[r.below(sentences.len())](r))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One gold span.
struct Gold {
    entity: &'static str,
    start: usize,
    end: usize,
}

struct Doc {
    text: String,
    gold: Vec<Gold>,
    /// The sentence that holds the value (the template with the value in it).
    sentence: (usize, usize),
    /// The evasion applied to the value or its sentence (`--evasion`), if any changed it.
    evasion: Option<&'static str>,
    /// The record format the values are in (`--records`), or their layout
    /// (`--layouts`).
    record: Option<&'static str>,
}

fn corpus(seed: u64, per_type: usize) -> Vec<Doc> {
    let mut docs = Vec::new();
    embed(&mut docs, &mut Rng(seed), &generators(), per_type);
    embed(
        &mut docs,
        &mut Rng(seed ^ 0x9E37_79B9_7F4A_7C15),
        &token_generators(),
        per_type,
    );
    docs
}

/// The evasions of `--evasion`, each rewriting the value (or, for the encodings, the
/// sentence holding it and its context words) the way someone hiding it from a
/// scanner would.
const EVASIONS: &[&str] = &[
    "zero-width space",
    "soft hyphen",
    "bidi controls",
    "tag characters",
    "fullwidth forms",
    "other-script digits",
    "confusable punctuation",
    "base64 sentence",
    "percent-encoded sentence",
    "hex sentence",
    "\\u-escaped sentence",
    "base64 of percent-encoded sentence",
];

/// The random stream that picks and applies evasions for the corpus of `seed`.
fn evasion_rng(seed: u64) -> Rng {
    Rng(seed ^ 0xE7A5_10E5_0000_0001)
}

/// Rewrites each document's value with one of [`EVASIONS`] (drawn from `r`), moving its
/// gold span onto the rewritten bytes. A document the drawn evasion leaves unchanged
/// (other-script digits in a name) keeps `evasion: None`.
fn evade(docs: &mut [Doc], r: &mut Rng) {
    for doc in docs {
        let kind = EVASIONS[r.below(EVASIONS.len())];
        let Some(gold) = doc.gold.first_mut() else {
            continue;
        };
        let (start, end) = match kind {
            k if k.ends_with("sentence") => doc.sentence,
            _ => (gold.start, gold.end),
        };
        let original = &doc.text[start..end];
        let rewritten = evaded(kind, original, r);
        if rewritten == original {
            continue;
        }
        doc.text = format!("{}{rewritten}{}", &doc.text[..start], &doc.text[end..]);
        gold.start = start;
        gold.end = start + rewritten.len();
        doc.evasion = Some(kind);
    }
}

/// `value` rewritten by evasion `kind`.
fn evaded(kind: &str, value: &str, r: &mut Rng) -> String {
    use base64::Engine as _;
    // Inserts one of `marks` after about one character in three (at least one, inside).
    let sprinkle = |r: &mut Rng, marks: &[char]| {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let forced = 1 + r.below(chars.len().saturating_sub(1).max(1));
        for (i, c) in chars.iter().enumerate() {
            if i > 0 && (i == forced || r.below(3) == 0) {
                out.push(marks[r.below(marks.len())]);
            }
            out.push(*c);
        }
        out
    };
    let percent = |text: &str| {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    match kind {
        "zero-width space" => sprinkle(
            r,
            &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'],
        ),
        "soft hyphen" => sprinkle(r, &['\u{00AD}']),
        "bidi controls" => sprinkle(
            r,
            &[
                '\u{200E}', '\u{200F}', '\u{202A}', '\u{202C}', '\u{202E}', '\u{2066}', '\u{2069}',
            ],
        ),
        "tag characters" => {
            let tags: Vec<char> = (0xE0020..=0xE007E).filter_map(char::from_u32).collect();
            sprinkle(r, &tags)
        }
        "fullwidth forms" => value
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect(),
        "other-script digits" => {
            // Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai, fullwidth.
            let zero = [0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10][r.below(6)];
            value
                .chars()
                .map(|c| match c.to_digit(10) {
                    Some(d) if c.is_ascii_digit() => char::from_u32(zero + d).unwrap_or(c),
                    _ => c,
                })
                .collect()
        }
        "confusable punctuation" => value
            .chars()
            .map(|c| match c {
                '@' => ['\u{FF20}', '\u{FE6B}'][r.below(2)],
                '.' => ['\u{3002}', '\u{FF0E}', '\u{2024}'][r.below(3)],
                '-' => ['\u{2010}', '\u{2212}', '\u{FF0D}'][r.below(3)],
                ' ' => ['\u{00A0}', '\u{2009}', '\u{3000}'][r.below(3)],
                _ => c,
            })
            .collect(),
        "base64 sentence" => base64::engine::general_purpose::STANDARD.encode(value),
        "percent-encoded sentence" => percent(value),
        "hex sentence" => value.bytes().map(|b| format!("{b:02x}")).collect(),
        "\\u-escaped sentence" => value
            .encode_utf16()
            .map(|u| format!("\\u{u:04x}"))
            .collect(),
        "base64 of percent-encoded sentence" => {
            base64::engine::general_purpose::STANDARD.encode(percent(value))
        }
        _ => value.to_owned(),
    }
}

/// The record formats of `--records`.
const RECORD_FORMATS: &[&str] = &[
    "JSON",
    "CSV",
    "semicolon CSV",
    "pipe-delimited",
    "logfmt",
    "YAML",
    "Markdown table",
    "SQL insert",
    "XML",
];

/// Names people give a field holding a value of `entity` (words, spelled in a case
/// drawn per record), and the structure the value sits in when it cannot stand alone.
fn field_names(entity: &str) -> (&'static [&'static str], &'static str) {
    let bare = |names: &'static [&'static str]| (names, "{}");
    match entity {
        "EMAIL" => bare(&["email", "email address", "contact email", "work email"]),
        "PHONE" => bare(&["phone", "phone number", "mobile", "tel", "contact number"]),
        "IP_ADDRESS" => bare(&["ip", "client ip", "remote addr", "source ip", "ip address"]),
        "MAC_ADDRESS" => bare(&["mac", "mac address", "hw addr", "device mac"]),
        "URL_CREDENTIALS" => (
            &["database url", "dsn", "db uri", "connection url"],
            "postgres://{}@db.internal:5432/app",
        ),
        "DATE_OF_BIRTH" => bare(&[
            "dob",
            "date of birth",
            "birth date",
            "birthdate",
            "patient dob",
        ]),
        "PERSON_NAME" => bare(&[
            "name",
            "full name",
            "customer name",
            "contact name",
            "patient name",
        ]),
        "STREET_ADDRESS" => bare(&[
            "address",
            "shipping address",
            "street address",
            "home address",
        ]),
        "VIN" => bare(&["vin", "vehicle vin"]),
        "IMEI" => bare(&["imei", "device imei"]),
        "BTC_ADDRESS" => bare(&["btc address", "wallet", "payout address", "bitcoin address"]),
        "ETH_ADDRESS" => bare(&["eth address", "wallet", "wallet address"]),
        "CARD_NUMBER" => bare(&["card number", "cc number", "credit card", "card"]),
        "CARD_CVV" => bare(&["cvv", "cvc", "cvv2", "security code", "card cvv"]),
        "CARD_EXPIRY" => bare(&["exp", "expiry", "card exp", "expiration date", "exp date"]),
        "CARD_TRACK_DATA" => bare(&["track data", "track1", "swipe data"]),
        "IBAN" => bare(&["iban", "payee iban", "bank iban"]),
        "SWIFT_BIC" => bare(&["swift", "bic", "swift code", "bank bic"]),
        "ABA_ROUTING" => bare(&["routing number", "aba", "routing", "aba routing"]),
        "BANK_ACCOUNT" => bare(&["account number", "bank account", "acct no", "account no"]),
        "US_SSN" => bare(&["ssn", "social security number", "employee ssn"]),
        "US_ITIN" => bare(&["itin", "itin number"]),
        "US_PASSPORT" | "PASSPORT_NUMBER" => bare(&["passport number", "passport no", "passport"]),
        "US_DRIVER_LICENSE" => bare(&[
            "driver license",
            "drivers license number",
            "dl number",
            "license number",
        ]),
        "UK_NINO" => bare(&["ni number", "nino", "national insurance number"]),
        "UK_UTR" => bare(&["utr", "unique taxpayer reference", "sa utr"]),
        "DE_STEUER_ID" => bare(&[
            "steuer id",
            "steuerid",
            "steuer idnr",
            "identifikationsnummer",
        ]),
        "FR_NIR" => bare(&["nir", "numero securite sociale", "insee"]),
        "ES_NIF" => bare(&["nif", "dni"]),
        "ES_NIE" => bare(&["nie", "nie number"]),
        "IT_FISCAL_CODE" => bare(&["codice fiscale", "fiscal code", "cf"]),
        "PL_PESEL" => bare(&["pesel", "nr pesel"]),
        "IN_AADHAAR" => bare(&["aadhaar", "aadhaar number", "aadhar no"]),
        "IN_PAN" => bare(&["pan", "pan number", "pan card"]),
        "IN_GSTIN" => bare(&["gstin", "gst number", "gst no"]),
        "SG_NRIC" => bare(&["nric", "nric fin", "nric no"]),
        "AU_TFN" => bare(&["tfn", "tax file number"]),
        "AU_ABN" => bare(&["abn", "supplier abn"]),
        "AU_MEDICARE" => bare(&["medicare number", "medicare no", "medicare card"]),
        "CA_SIN" => bare(&["sin", "social insurance number", "sin number"]),
        "BR_CPF" => bare(&["cpf", "cpf do cliente"]),
        "MX_CURP" => bare(&["curp", "clave curp"]),
        "US_NPI" => bare(&["npi", "prescriber npi", "provider npi", "npi number"]),
        "US_DEA" => bare(&["dea", "dea number", "prescriber dea", "dea no"]),
        "US_MBI" => bare(&["mbi", "medicare mbi", "medicare beneficiary id"]),
        "UK_NHS" => bare(&["nhs number", "nhs no", "nhs"]),
        "MEDICAL_RECORD_NUMBER" => bare(&["mrn", "medical record number", "patient mrn"]),
        "DIAGNOSIS" => bare(&["diagnosis", "dx", "primary diagnosis", "condition"]),
        "MEDICATION" => bare(&["medication", "meds", "current medications", "rx"]),
        "AWS_ACCESS_KEY_ID" => bare(&["aws access key id", "access key id", "access key"]),
        "AWS_SECRET_ACCESS_KEY" => bare(&[
            "aws secret access key",
            "secret access key",
            "aws secret key",
        ]),
        "AZURE_STORAGE_KEY" => (
            &[
                "storage connection string",
                "connection string",
                "azure storage",
            ],
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net",
        ),
        "JWT" => bare(&["access token", "id token", "jwt", "token"]),
        "PRIVATE_KEY" => bare(&["private key", "ssh key", "tls key"]),
        "PASSWORD" => bare(&["password", "db password", "pwd", "passwd", "admin password"]),
        "GENERIC_SECRET" => bare(&["client secret", "api secret", "secret", "webhook secret"]),
        "ORCID" => bare(&["orcid", "orcid id", "author orcid"]),
        _ => bare(&["api key", "token", "auth token", "secret key"]),
    }
}

/// `words` (space-separated) spelled in case `style`: 0 snake, 1 camel, 2 Pascal,
/// 3 upper snake, 4 kebab, 5 as written (a header or a label).
fn spell(words: &str, style: usize) -> String {
    let parts: Vec<String> = words
        .split(' ')
        .map(|w| w.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
        .collect();
    let capital = |w: &str| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    match style {
        0 => parts.join("_"),
        1 => parts
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { capital(w) })
            .collect(),
        2 => parts.iter().map(|w| capital(w)).collect(),
        3 => parts.join("_").to_uppercase(),
        4 => parts.join("-"),
        _ => capital(words),
    }
}

/// A field of a record: its name, its value, and the value's type when it is one.
struct Field {
    name: String,
    /// The text before the value, the value, the text after it (a wrapper's).
    value: (String, String, String),
    entity: Option<&'static str>,
}

/// Fields that hold no regulated data but look like numbers and ids that do.
fn negative_field(r: &mut Rng) -> Field {
    let (name, value) = match r.below(8) {
        0 => ("id", {
            let n = 4 + r.below(3);
            format!("{}{}", 1 + r.below(9), r.digits(n))
        }),
        1 => ("order id", format!("{}{}", 1 + r.below(9), r.digits(8))),
        2 => (
            "created at",
            format!(
                "2024-0{}-1{}T{:02}:{:02}:07Z",
                1 + r.below(9),
                r.below(9),
                r.below(24),
                r.below(60)
            ),
        ),
        3 => (
            "request id",
            format!(
                "{}-{}-4{}-a{}-{}",
                r.chars_of(HEX, 8),
                r.chars_of(HEX, 4),
                r.chars_of(HEX, 3),
                r.chars_of(HEX, 3),
                r.chars_of(HEX, 12)
            ),
        ),
        4 => ("amount", {
            let n = r.below(5);
            format!("{}{}.{}", 1 + r.below(9), r.digits(n), r.digits(2))
        }),
        5 => (
            "version",
            format!("{}.{}.{}", r.below(10), r.below(30), r.below(100)),
        ),
        6 => (
            "status",
            r.pick(&["active", "pending", "closed", "on hold"])
                .to_owned(),
        ),
        _ => (
            "updated by",
            r.pick(&["import-job", "system", "batch 7"]).to_owned(),
        ),
    };
    Field {
        name: name.to_owned(),
        value: (String::new(), value, String::new()),
        entity: None,
    }
}

/// The field for `entity`'s `value`, its name spelled in `style`.
fn entity_field(r: &mut Rng, entity: &'static str, value: &str, style: usize) -> Field {
    let (names, wrapper) = field_names(entity);
    let (head, tail) = wrapper.split_once("{}").unwrap();
    Field {
        name: spell(r.pick(names), style),
        value: (head.to_owned(), value.to_owned(), tail.to_owned()),
        entity: Some(entity),
    }
}

/// `s` escaped for a value of `format`; `quoted` when the format's quoting applies.
fn escape_for(format: &str, s: &str, quoted: bool) -> String {
    match format {
        "JSON" => {
            let q = serde_json::to_string(s).unwrap();
            q[1..q.len() - 1].to_owned()
        }
        "CSV" | "semicolon CSV" | "pipe-delimited" if quoted => s.replace('"', "\"\""),
        "logfmt" if quoted => s
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n"),
        "YAML" if s.contains('\n') || quoted => {
            // A literal block (`|`) for multi-line values, else a JSON-style string.
            if s.contains('\n') || !quoted {
                s.replace('\n', "\n    ")
            } else {
                escape_for("JSON", s, true)
            }
        }
        "Markdown table" => s.replace('|', "\\|"),
        "SQL insert" => s.replace('\'', "''"),
        "XML" => s
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        _ => s.to_owned(),
    }
}

/// Renders `fields` as a record in `format`, returning the text and, per field, where
/// its value (the value itself, not a wrapper's text) is in it.
fn render_record(format: &str, fields: &[Field]) -> (String, Vec<(usize, usize)>) {
    let mut out = String::new();
    let mut spans = Vec::new();
    // Appends a field's value escaped for `format`, quoted as the format needs it.
    let push_value = |out: &mut String, spans: &mut Vec<(usize, usize)>, f: &Field| {
        let (head, value, tail) = &f.value;
        let whole = format!("{head}{value}{tail}");
        let multi = whole.contains('\n');
        let quoted = match format {
            "JSON" | "SQL insert" => true,
            "CSV" => whole.contains([',', '"', '\n']),
            "semicolon CSV" => whole.contains([';', '"', '\n']),
            "pipe-delimited" => whole.contains(['|', '"', '\n']),
            "logfmt" => whole.contains([' ', '=', '"', '\n']),
            "YAML" => {
                !multi
                    && (whole.contains([':', '#'])
                        || !whole.starts_with(|c: char| c.is_ascii_alphanumeric()))
            }
            _ => false,
        };
        let (open, close) = match format {
            "JSON" | "CSV" | "semicolon CSV" | "pipe-delimited" | "logfmt" | "YAML" if quoted => {
                ("\"", "\"")
            }
            "SQL insert" => ("'", "'"),
            "YAML" if multi => ("|\n    ", ""),
            _ => ("", ""),
        };
        out.push_str(open);
        out.push_str(&escape_for(format, head, quoted));
        let start = out.len();
        out.push_str(&escape_for(format, value, quoted));
        spans.push((start, out.len()));
        out.push_str(&escape_for(format, tail, quoted));
        out.push_str(close);
    };
    match format {
        "JSON" => {
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&format!("\"{}\": ", f.name));
                push_value(&mut out, &mut spans, f);
            }
            out.push('}');
        }
        "CSV" | "semicolon CSV" | "pipe-delimited" => {
            let sep = match format {
                "semicolon CSV" => ";",
                "pipe-delimited" => "|",
                _ => ",",
            };
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            out.push_str(&names.join(sep));
            out.push('\n');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                push_value(&mut out, &mut spans, f);
            }
        }
        "logfmt" => {
            out.push_str("2024-03-15T14:05:07.114Z level=info msg=\"record updated\"");
            for f in fields {
                out.push_str(&format!(" {}=", f.name));
                push_value(&mut out, &mut spans, f);
            }
        }
        "YAML" => {
            out.push_str("record:");
            for f in fields {
                out.push_str(&format!("\n  {}: ", f.name));
                push_value(&mut out, &mut spans, f);
            }
        }
        "Markdown table" => {
            for f in fields {
                out.push_str(&format!("| {} ", f.name));
            }
            out.push_str("|\n");
            out.push_str(&"|---".repeat(fields.len()));
            out.push_str("|\n");
            for f in fields {
                out.push_str("| ");
                push_value(&mut out, &mut spans, f);
                out.push(' ');
            }
            out.push('|');
        }
        "SQL insert" => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            out.push_str(&format!(
                "INSERT INTO records ({}) VALUES (",
                names.join(", ")
            ));
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_value(&mut out, &mut spans, f);
            }
            out.push_str(");");
        }
        _ => {
            out.push_str("<record>");
            for f in fields {
                out.push_str(&format!("<{}>", f.name));
                push_value(&mut out, &mut spans, f);
                out.push_str(&format!("</{}>", f.name));
            }
            out.push_str("</record>");
        }
    }
    (out, spans)
}

/// Each document's first value and its type, for `--records` and `--layouts` to place
/// elsewhere.
fn gold_values(docs: &[Doc]) -> Vec<(&'static str, String)> {
    docs.iter()
        .filter_map(|d| {
            d.gold
                .first()
                .map(|g| (g.entity, d.text[g.start..g.end].to_owned()))
        })
        .collect()
}

/// Rewrites each document as a record pasted into a prompt (`--records`): its value
/// becomes a field of a record in one of [`RECORD_FORMATS`], under a name people give
/// such a field, with one to three fields of hard negatives (ids, order numbers,
/// timestamps, UUIDs, amounts, versions) and, in a third of the records, the value of
/// another document as a second field. The record sits between filler sentences.
fn recorded(docs: Vec<Doc>, r: &mut Rng) -> Vec<Doc> {
    let values = gold_values(&docs);
    let mut out = Vec::with_capacity(values.len());
    for (entity, value) in &values {
        // XML names and headers take no camel or kebab case oddities: any style is
        // drawn, as real schemas do, except that XML needs a name without spaces.
        let format = RECORD_FORMATS[r.below(RECORD_FORMATS.len())];
        let style = match format {
            "CSV" | "semicolon CSV" | "pipe-delimited" | "Markdown table" | "YAML" => r.below(6),
            _ => r.below(5),
        };
        let mut fields = vec![entity_field(r, entity, value, style)];
        if r.below(3) == 0 {
            let (other, other_value) = &values[r.below(values.len())];
            if other != entity {
                fields.push(entity_field(r, other, other_value, style));
            }
        }
        for _ in 0..1 + r.below(3) {
            let mut f = negative_field(r);
            f.name = spell(&f.name, style);
            fields.push(f);
        }
        // Shuffle (Fisher–Yates).
        for i in (1..fields.len()).rev() {
            fields.swap(i, r.below(i + 1));
        }
        let multi_line = fields.iter().any(|f| f.value.1.contains('\n'));
        let format = if multi_line
            && matches!(
                format,
                "CSV" | "semicolon CSV" | "pipe-delimited" | "Markdown table"
            ) {
            "JSON"
        } else {
            format
        };
        let (record, spans) = render_record(format, &fields);
        let intro = r.pick(&[
            "Can you check this record for errors?",
            "Summarise the entry below.",
            "Why does this row fail validation?",
            "Convert this to our new schema:",
        ]);
        let before = format!("{} {intro}\n", filler(r));
        let text = format!("{before}{record}\n{}", filler(r));
        let gold = fields
            .iter()
            .zip(&spans)
            .filter_map(|(f, &(s, e))| {
                f.entity.map(|entity| Gold {
                    entity,
                    start: before.len() + s,
                    end: before.len() + e,
                })
            })
            .collect();
        out.push(Doc {
            text,
            gold,
            sentence: (before.len(), before.len() + record.len()),
            evasion: None,
            record: Some(format),
        });
    }
    out
}

/// Rewrites every line of each document as pasted from elsewhere (`--crlf`,
/// `--quoted`): CR before every LF, `> ` at the start of every line. Gold spans and the
/// sentence move with the text; a value that spans lines takes the inserts inside it.
fn repasted(docs: &mut [Doc], crlf: bool, quoted: bool) {
    for d in docs.iter_mut() {
        // (position, bytes inserted there) in order.
        let mut inserts: Vec<(usize, &str)> = Vec::new();
        if quoted {
            inserts.push((0, "> "));
        }
        for (i, _) in d.text.match_indices('\n') {
            if crlf && !d.text[..i].ends_with('\r') {
                inserts.push((i, "\r"));
            }
            if quoted {
                inserts.push((i + 1, "> "));
            }
        }
        // A start moves with inserts at or before it; an end only with those before it.
        let moved = |p: usize, at_too: bool| {
            p + inserts
                .iter()
                .filter(|&&(at, _)| at < p || (at_too && at == p))
                .map(|(_, s)| s.len())
                .sum::<usize>()
        };
        for g in &mut d.gold {
            (g.start, g.end) = (moved(g.start, true), moved(g.end, false));
        }
        d.sentence = (moved(d.sentence.0, true), moved(d.sentence.1, false));
        let mut text = String::with_capacity(d.text.len() + inserts.len() * 2);
        let mut last = 0;
        for &(at, s) in &inserts {
            text.push_str(&d.text[last..at]);
            text.push_str(s);
            last = at;
        }
        text.push_str(&d.text[last..]);
        d.text = text;
    }
}

/// Wraps every line of each document at 72 characters (`--wrapped`): the last space
/// before the 73rd character of a longer line becomes a line break, as often as the
/// line needs. Offsets do not move: one byte replaces another.
fn wrapped(docs: &mut [Doc]) {
    const WIDTH: usize = 72;
    for d in docs.iter_mut() {
        let mut bytes = std::mem::take(&mut d.text).into_bytes();
        let mut line_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\n' {
                line_start = i + 1;
            } else if i - line_start >= WIDTH
                && let Some(space) = bytes[line_start..i].iter().rposition(|&b| b == b' ')
            {
                bytes[line_start + space] = b'\n';
                line_start += space + 1;
            }
            i += 1;
        }
        // Only an ASCII space became an ASCII line break.
        d.text = String::from_utf8(bytes).unwrap();
    }
}

/// The prose layouts of `--layouts`: where a labelled value sits in running text.
const LAYOUTS: &[&str] = &[
    "label line",
    "bulleted list",
    "numbered list",
    "label above value",
    "signature",
    "parenthesised",
    "sentence end",
    "quoted",
    "tab separated",
    "dashed label",
];

/// Rewrites each document as a value written under a label in running text
/// (`--layouts`): a `Label: value` line between paragraphs, a bulleted or numbered list
/// with hard-negative items, a label on the line above its value, a signature block
/// that ends the text, a value in parentheses or quotes inside a sentence, a value that
/// ends a sentence and its line, a tab or a dash between label and value. The labels
/// are the field names of `--records`; a fifth of the documents carry the value of
/// another document as a second labelled value.
fn laid_out(docs: Vec<Doc>, r: &mut Rng) -> Vec<Doc> {
    let values = gold_values(&docs);
    let mut out = Vec::with_capacity(values.len());
    for (entity, value) in &values {
        let layout = LAYOUTS[r.below(LAYOUTS.len())];
        let mut fields = vec![entity_field(r, entity, value, 5)];
        if r.below(5) == 0 {
            let (other, other_value) = &values[r.below(values.len())];
            if other != entity {
                fields.push(entity_field(r, other, other_value, 5));
            }
        }
        let lists = matches!(layout, "bulleted list" | "numbered list");
        if lists {
            for _ in 0..1 + r.below(3) {
                let mut f = negative_field(r);
                f.name = spell(&f.name, 5);
                fields.push(f);
            }
            for i in (1..fields.len()).rev() {
                fields.swap(i, r.below(i + 1));
            }
        }
        let mut text = format!("{}\n", filler(r));
        let mut gold = Vec::new();
        // Appends `before`, then the field's value (with its wrapper's text), then
        // `after`, recording where the value is.
        let mut put = |text: &mut String, before: &str, f: &Field, after: &str| {
            let (head, value, tail) = &f.value;
            text.push_str(before);
            text.push_str(head);
            let start = text.len();
            text.push_str(value);
            if let Some(entity) = f.entity {
                gold.push(Gold {
                    entity,
                    start,
                    end: text.len(),
                });
            }
            text.push_str(tail);
            text.push_str(after);
        };
        let lower = |name: &str| name.to_lowercase();
        for (i, f) in fields.iter().enumerate() {
            let name = f.name.as_str();
            match layout {
                "label line" => put(&mut text, &format!("{name}: "), f, "\n"),
                "bulleted list" => put(&mut text, &format!("- {name}: "), f, "\n"),
                "numbered list" => put(&mut text, &format!("{}. {name}: ", i + 1), f, "\n"),
                "label above value" => put(&mut text, &format!("{name}:\n"), f, "\n\n"),
                "signature" => {
                    if i == 0 {
                        text.push_str("Thanks,\nThe billing team\n");
                    }
                    // The signature ends the text: its last value has nothing after it.
                    let after = if i + 1 == fields.len() { "" } else { "\n" };
                    put(&mut text, &format!("{name}: "), f, after);
                }
                "parenthesised" => put(
                    &mut text,
                    &format!("The customer ({} ", lower(name)),
                    f,
                    ") asked us to call back.\n",
                ),
                "sentence end" => put(&mut text, &format!("Their {} is ", lower(name)), f, ".\n"),
                "quoted" => put(
                    &mut text,
                    &format!("The {} \"", lower(name)),
                    f,
                    "\" was rejected by the form.\n",
                ),
                "tab separated" => put(&mut text, &format!("{name}\t"), f, "\n"),
                _ => put(&mut text, &format!("{name} - "), f, "\n"),
            }
        }
        let sentence_end = text.len();
        if layout != "signature" {
            text.push_str(&filler(r));
        }
        out.push(Doc {
            text,
            gold,
            sentence: (0, sentence_end),
            evasion: None,
            record: Some(layout),
        });
    }
    out
}

/// `per_type` rounds of one document per generator, values between filler sentences.
fn embed(docs: &mut Vec<Doc>, r: &mut Rng, gens: &[(&'static str, Gen)], per_type: usize) {
    for _ in 0..per_type {
        for (entity, make) in gens {
            if std::env::var_os("ACCURACY_TRACE").is_some() {
                eprintln!("{entity}");
            }
            let (template, value) = make(r);
            let before = filler(r);
            let after = filler(r);
            let (head, tail) = template.split_once("{}").unwrap();
            let text = format!("{before} {head}{value}{tail} {after}");
            let start = before.len() + 1 + head.len();
            let sentence = (before.len() + 1, start + value.len() + tail.len());
            docs.push(Doc {
                gold: vec![Gold {
                    entity,
                    start,
                    end: start + value.len(),
                }],
                text,
                sentence,
                evasion: None,
                record: None,
            });
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let per_type: usize = arg("--per-type").map_or(100, |s| s.parse().unwrap());
    let seed: u64 = arg("--seed").map_or(42, |s| s.parse().unwrap());
    // `--seeds A..B`: every seed from A to B inclusive, scored as one corpus.
    let seeds: Vec<u64> = match arg("--seeds") {
        Some(range) => {
            let (from, to) = range.split_once("..").expect("--seeds A..B");
            (from.parse().unwrap()..=to.parse().unwrap()).collect()
        }
        None => vec![seed],
    };
    let show_errors = args.iter().any(|a| a == "--errors");
    let evasion = args.iter().any(|a| a == "--evasion");
    let records = args.iter().any(|a| a == "--records");
    let layouts = args.iter().any(|a| a == "--layouts");
    let crlf = args.iter().any(|a| a == "--crlf");
    let quoted = args.iter().any(|a| a == "--quoted");
    let wrap = args.iter().any(|a| a == "--wrapped");
    assert!(
        [evasion, records, layouts].iter().filter(|&&on| on).count() <= 1,
        "--evasion, --records and --layouts are separate runs"
    );
    let form = Form {
        evasion,
        records,
        layouts,
        wrap,
        crlf,
        quoted,
    };
    let make = |seed: u64| make_corpus(seed, per_type, form);

    if let Some(path) = arg("--corpus") {
        assert!(seeds.len() == 1, "--corpus writes one seed's corpus");
        let docs = make(seed);
        if let Some(dir) = std::path::Path::new(&path).parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for d in &docs {
            let spans: Vec<serde_json::Value> = d
                .gold
                .iter()
                .map(|g| {
                    serde_json::json!({
                        "type": g.entity, "start": g.start, "end": g.end,
                        "cstart": d.text[..g.start].chars().count(),
                        "cend": d.text[..g.end].chars().count(),
                    })
                })
                .collect();
            let mut line = serde_json::json!({"text": d.text, "spans": spans});
            if let Some(kind) = d.evasion {
                line["evasion"] = kind.into();
            }
            if let Some(format) = d.record {
                line["record"] = format.into();
            }
            writeln!(f, "{line}").unwrap();
        }
        println!("wrote {} documents to {path}", docs.len());
    }

    let classifiers =
        Classifier::load_dir(std::path::Path::new("policies/classifiers")).unwrap_or_default();
    let scanner = Scanner::new(classifiers).unwrap();
    let types: Vec<&str> = generators().iter().map(|(t, _)| *t).collect();
    let mut scores: BTreeMap<String, Score> = types
        .iter()
        .map(|t| ((*t).to_owned(), Score::default()))
        .collect();
    let (mut documents, mut bytes, mut elapsed) = (0, 0, std::time::Duration::ZERO);
    let mut by_evasion: BTreeMap<&'static str, Score> = BTreeMap::new();
    for &seed in &seeds {
        let docs = make(seed);
        documents += docs.len();
        bytes += docs.iter().map(|d| d.text.len()).sum::<usize>();
        elapsed += score(&scanner, &docs, &mut scores, &mut by_evasion, show_errors);
    }
    let seeds_text = match seeds.as_slice() {
        [one] => format!("seed {one}"),
        [first, .., last] => format!("seeds {first} to {last}"),
        [] => "no seed".to_owned(),
    };
    println!(
        "{documents} documents, {bytes} bytes, {seeds_text}; scan: {:.1} ms total, {:.1} MB/s, {:.2} µs/doc",
        elapsed.as_secs_f64() * 1e3,
        bytes as f64 / elapsed.as_secs_f64() / 1e6,
        elapsed.as_secs_f64() * 1e6 / documents as f64
    );
    println!("| type | TP | FP | FN | precision | recall | F2 |");
    println!("|---|---|---|---|---|---|---|");
    let mut total = Score::default();
    for (t, s) in &scores {
        let p = if s.tp + s.fp == 0 {
            1.0
        } else {
            s.tp as f64 / (s.tp + s.fp) as f64
        };
        let r = if s.tp + s.fn_ == 0 {
            1.0
        } else {
            s.tp as f64 / (s.tp + s.fn_) as f64
        };
        let f2 = if p + r == 0.0 {
            0.0
        } else {
            5.0 * p * r / (4.0 * p + r)
        };
        println!(
            "| {t} | {} | {} | {} | {p:.3} | {r:.3} | {f2:.3} |",
            s.tp, s.fp, s.fn_
        );
        total.tp += s.tp;
        total.fp += s.fp;
        total.fn_ += s.fn_;
    }
    let p = total.tp as f64 / (total.tp + total.fp).max(1) as f64;
    let r = total.tp as f64 / (total.tp + total.fn_).max(1) as f64;
    println!(
        "| **all** | {} | {} | {} | {p:.3} | {r:.3} | {:.3} |",
        total.tp,
        total.fp,
        total.fn_,
        5.0 * p * r / (4.0 * p + r)
    );
    if evasion || records || layouts {
        println!();
        println!(
            "| {} | values | found | missed | false positives | recall |",
            if evasion {
                "evasion"
            } else if records {
                "record format"
            } else {
                "layout"
            }
        );
        println!("|---|---|---|---|---|---|");
        for (kind, s) in &by_evasion {
            println!(
                "| {kind} | {} | {} | {} | {} | {:.4} |",
                s.tp + s.fn_,
                s.tp,
                s.fn_,
                s.fp,
                s.tp as f64 / (s.tp + s.fn_).max(1) as f64
            );
        }
    }
}

/// Which corpus is written, and how it is pasted (see the module documentation).
#[derive(Clone, Copy, Default)]
struct Form {
    evasion: bool,
    records: bool,
    layouts: bool,
    wrap: bool,
    crlf: bool,
    quoted: bool,
}

/// The documents of one seed in `form`.
fn make_corpus(seed: u64, per_type: usize, form: Form) -> Vec<Doc> {
    let mut docs = corpus(seed, per_type);
    if form.evasion {
        evade(&mut docs, &mut evasion_rng(seed));
    }
    if form.records {
        docs = recorded(docs, &mut Rng(seed ^ 0x5EC0_4D5E_0000_0001));
    }
    if form.layouts {
        docs = laid_out(docs, &mut Rng(seed ^ 0x1A70_0750_0000_0001));
    }
    if form.wrap {
        wrapped(&mut docs);
    }
    if form.crlf || form.quoted {
        repasted(&mut docs, form.crlf, form.quoted);
    }
    docs
}

/// Scans `docs` and adds their true positives, false positives and misses to `scores`
/// (printing each error when `show_errors`); returns the time spent scanning.
fn score(
    scanner: &Scanner,
    docs: &[Doc],
    scores: &mut BTreeMap<String, Score>,
    by_evasion: &mut BTreeMap<&'static str, Score>,
    show_errors: bool,
) -> std::time::Duration {
    let started = Instant::now();
    let all: Vec<_> = docs
        .iter()
        .map(|d| scanner.scan(&d.text).unwrap())
        .collect();
    let elapsed = started.elapsed();
    for (d, findings) in docs.iter().zip(&all) {
        let mut matched = vec![false; d.gold.len()];
        for f in findings {
            let hit = d
                .gold
                .iter()
                .position(|g| *g.entity == *f.entity && f.start < g.end && g.start < f.end);
            let s = scores.entry(f.entity.to_string()).or_default();
            match hit {
                Some(i) if !matched[i] => {
                    matched[i] = true;
                    s.tp += 1;
                }
                Some(_) => {}
                None => {
                    s.fp += 1;
                    if let Some(kind) = d.evasion.or(d.record) {
                        by_evasion.entry(kind).or_default().fp += 1;
                    }
                    if show_errors {
                        eprintln!(
                            "FP {}{}: {:?} in {:?}",
                            f.entity,
                            d.evasion
                                .or(d.record)
                                .map(|k| format!(" ({k})"))
                                .unwrap_or_default(),
                            &d.text[f.start..f.end],
                            d.text
                        );
                    }
                }
            }
        }
        for (g, m) in d.gold.iter().zip(matched) {
            if let Some(kind) = d.evasion.or(d.record) {
                let e = by_evasion.entry(kind).or_default();
                if m {
                    e.tp += 1;
                } else {
                    e.fn_ += 1;
                }
            }
            if !m {
                if show_errors {
                    eprintln!(
                        "FN {}{}: {:?} in {:?}",
                        g.entity,
                        d.evasion
                            .or(d.record)
                            .map(|k| format!(" ({k})"))
                            .unwrap_or_default(),
                        &d.text[g.start..g.end],
                        d.text
                    );
                }
                scores.entry(g.entity.to_owned()).or_default().fn_ += 1;
            }
        }
    }
    elapsed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every document of `seeds` in `form`, plain and pasted from a mail client (wrapped,
    /// quoted, CR LF), is scored without one false positive or miss. The errors go to
    /// the test's output.
    fn scores_without_errors(form: Form, seeds: std::ops::RangeInclusive<u64>) {
        let classifiers =
            Classifier::load_dir(std::path::Path::new("policies/classifiers")).unwrap_or_default();
        let scanner = Scanner::new(classifiers).unwrap();
        for pasted in [false, true] {
            let form = Form {
                wrap: pasted,
                crlf: pasted,
                quoted: pasted,
                ..form
            };
            let mut scores = BTreeMap::new();
            let mut by_kind = BTreeMap::new();
            let mut documents = 0;
            for seed in seeds.clone() {
                let docs = make_corpus(seed, 100, form);
                documents += docs.len();
                score(&scanner, &docs, &mut scores, &mut by_kind, true);
            }
            let (tp, errors) = scores.values().fold((0, 0), |(tp, errors), s: &Score| {
                (tp + s.tp, errors + s.fp + s.fn_)
            });
            assert!(
                documents > 8_000 && tp >= documents,
                "{documents} documents, {tp} found"
            );
            assert_eq!(errors, 0, "pasted: {pasted}; the errors are printed above");
        }
    }

    #[test]
    fn the_plain_corpus_scores_without_errors() {
        scores_without_errors(Form::default(), 1..=2);
    }

    #[test]
    fn the_evasions_score_without_errors() {
        let form = Form {
            evasion: true,
            ..Form::default()
        };
        scores_without_errors(form, 1..=2);
    }

    #[test]
    fn the_records_score_without_errors() {
        let form = Form {
            records: true,
            ..Form::default()
        };
        scores_without_errors(form, 1..=2);
    }

    #[test]
    fn the_layouts_score_without_errors() {
        let form = Form {
            layouts: true,
            ..Form::default()
        };
        scores_without_errors(form, 1..=2);
    }
}
