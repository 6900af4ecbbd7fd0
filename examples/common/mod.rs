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

/// `unit` repeated to at least `size` bytes.
pub fn repeat_to(unit: &str, size: usize) -> String {
    let mut text = String::with_capacity(size + unit.len());
    while text.len() < size {
        text.push_str(unit);
    }
    text
}
