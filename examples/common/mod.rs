//! Shared by the scanner's examples and its bench: a seeded random source and the
//! made-up dictionary the speed figures use. Each includes what it needs.

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
