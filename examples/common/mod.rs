//! Shared by the scanner's examples and its bench: a seeded random source, the
//! made-up dictionary and the texts the speed figures use. Each includes what it needs.

#![allow(dead_code)]

/// SplitMix64: small, seeded, reproducible.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    pub fn upper(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'A' + self.below(26) as u8))
            .collect()
    }
    pub fn chars_of(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(set[self.below(set.len())]))
            .collect()
    }
}

/// `n` distinct made-up terms (two pseudo-words each), as a classifier file.
pub fn dictionary(n: usize) -> String {
    let syllables = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "xe", "zu", "bor", "dan",
    ];
    let mut terms = Vec::with_capacity(n);
    let mut state: u64 = 7;
    while terms.len() < n {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut word = String::new();
        for k in 0..(3 + (state >> 60) as usize % 3) {
            word.push_str(syllables[(state >> (k * 5)) as usize % syllables.len()]);
        }
        terms.push(format!("\"Project {word} {}\"", terms.len()));
    }
    format!(
        "id = \"dict\"\nclass = \"CONFIDENTIAL.DICT\"\nentity = \"DICT_TERM\"\nseverity = \"high\"\nterms = [{}]\n",
        terms.join(", ")
    )
}

/// A paragraph of prompt-like prose with numbers but no regulated data.
pub const PROSE: &str = "We are preparing the quarterly review for the operations team and would like \
your help turning the notes below into a short summary for the leadership meeting. The \
meeting is scheduled for the second week of the month, and the summary should cover the \
main themes: customer satisfaction, delivery times, the rollout of the new ticketing \
process, and the hiring plan for the support organisation. Please keep the tone neutral \
and avoid speculation. Where the notes disagree, say so and list both views. In 2023 the \
team handled roughly 41,000 tickets; this year the number grew by about 12 percent, while \
the median time to first response dropped from 5.5 hours to 3.2 hours. ";

/// A paragraph with an email, a phone, a card and an SSN.
pub const PII: &str = "One escalation came from a customer who wrote to \
jane.doe@example.com and asked to be called back at (415) 555-2671. They pasted their \
card number 4111 1111 1111 1111 into the ticket, together with their SSN 123-45-6789, \
which the agent should not have copied into the notes. ";

/// One line of dense regulated data: about ten findings in 205 bytes.
pub const DENSE: &str = "Jane Doe <jane.doe@example.com>, +1 415 555 2671, SSN 123-45-6789, card 4111 1111 1111 1111 exp 09/28, IBAN DE89 3704 0044 0532 0130 00, NHS number 943 476 5919, ip 203.0.113.42, key AKIAIOSFODNN7EXAMPLE.\n";

/// A ~4 KB prompt of [`PROSE`], with [`PII`] once when `with_pii`.
pub fn prompt(with_pii: bool) -> String {
    let mut text = String::with_capacity(4200);
    while text.len() < 4096 - PROSE.len() {
        text.push_str(PROSE);
        if with_pii && text.len() > 1500 && !text.contains('@') {
            text.push_str(PII);
        }
    }
    text
}

/// At least `size` bytes of lines shaped like [`DENSE`], each with its own values
/// (names, e-mail, phone, SSN, card, expiry, IBAN, NHS number, IP and key all differ
/// from line to line and all pass their checks), as in an export of customer records:
/// a text that repeats one line hides any cost that grows with the number of distinct
/// values found.
pub fn dense_distinct(size: usize) -> String {
    let given = [
        "Jane", "John", "Maria", "Ahmed", "Wei", "Olga", "Carlos", "Priya",
    ];
    let family = [
        "Doe", "Smith", "Garcia", "Khan", "Chen", "Ivanova", "Silva", "Patel",
    ];
    let mut rng = Rng(2026);
    let mut text = String::with_capacity(size + 256);
    let mut line = 0u64;
    while text.len() < size {
        line += 1;
        let (g, f) = (rng.pick(&given), rng.pick(&family));
        let phone = format!("+1 415 555 {:04}", rng.below(10_000));
        let ssn = format!(
            "{:03}-{:02}-{:04}",
            1 + rng.below(665),
            1 + rng.below(99),
            1 + rng.below(9_999)
        );
        let card = luhn_completed(&format!("4{}", rng.digits(14)));
        let iban = de_iban(&rng.digits(18));
        let nhs = loop {
            if let Some(n) = nhs_completed(&rng.digits(9)) {
                break n;
            }
        };
        let key: String = (0..16)
            .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rng.below(32)]))
            .collect();
        text.push_str(&format!(
            "{g} {f} <{}.{}{line}@example.com>, {phone}, SSN {ssn}, card {} {} {} {} exp {:02}/{}, \
             IBAN {}, NHS number {} {} {}, ip 10.{}.{}.{}, key AKIA{key}.\n",
            g.to_lowercase(),
            f.to_lowercase(),
            &card[0..4],
            &card[4..8],
            &card[8..12],
            &card[12..16],
            1 + rng.below(12),
            27 + rng.below(5),
            grouped(&iban, 4),
            &nhs[0..3],
            &nhs[3..6],
            &nhs[6..10],
            rng.below(256),
            rng.below(256),
            1 + rng.below(254),
        ));
    }
    text
}

/// `digits` with the Luhn check digit appended.
fn luhn_completed(digits: &str) -> String {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// A German IBAN for an 18-digit BBAN (check digits by ISO 7064 mod 97-10).
fn de_iban(bban: &str) -> String {
    // The BBAN, then the country as digits (D = 13, E = 14), then `00`.
    let rem = format!("{bban}131400")
        .bytes()
        .fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - rem)
}

/// `digits` (nine) with the NHS mod-11 check digit appended, when it has one.
fn nhs_completed(digits: &str) -> Option<String> {
    let sum: u32 = digits
        .bytes()
        .zip((2..=10).rev())
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(format!("{digits}0")),
        10 => None,
        check => Some(format!("{digits}{check}")),
    }
}

/// `s` in groups of `n` characters separated by spaces.
fn grouped(s: &str, n: usize) -> String {
    s.as_bytes()
        .chunks(n)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `unit` repeated to at least `size` bytes.
pub fn repeat_to(unit: &str, size: usize) -> String {
    let mut text = String::with_capacity(size + unit.len());
    while text.len() < size {
        text.push_str(unit);
    }
    text
}
