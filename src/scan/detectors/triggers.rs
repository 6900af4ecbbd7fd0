//! Trigger hits: the keyword hits that can start a finding on their own, found without a
//! DFA pass over the whole text.
//!
//! Three detectors walk keyword hits over the whole text instead of asking about one
//! window: personal (birth words before a written date, capitalised given names, titles
//! and name cues before capitalised words), health (diagnosis and medication terms) and
//! secrets (secret words before a value). [`trigger_hits`] resolves, with the exact
//! machinery of `keywords.rs`, the runs around every place where such a hit could lead
//! to a finding, and returns every hit known at that point, in order. Each of those
//! detectors ignores hits that cannot produce its findings, so a superset is harmless;
//! what matters is that no hit that *can* produce one is left out. Each anchor below
//! states the condition of the detector that makes it complete:
//!
//! - **Terms** (diagnosis, medication, secret words) and **birth words**: a hit starts
//!   after a word boundary; a term leads to a finding only when, after it, comes a
//!   non-word byte (health: a word boundary; secrets: a non-alphanumeric byte, or `is `).
//!   On the text mapped byte for byte to "lowercase letter or digit, else space" (the
//!   *folded* text), such a hit is ` term ` (or ` termis `), a birth word ` word`, so
//!   every one is found by one search for those strings ([`TermFilter`]).
//! - **Given names** must be capitalised and end at a word boundary: the folded text at
//!   an uppercase letter then starts with the name's first four folded bytes (a name of
//!   three letters: the name and a space); a table of those keys picks the capitals
//!   worth resolving.
//! - **Titles and name cues** are followed, after spaces, by a capitalised word: the four
//!   folded bytes that end where the spaces before a capital begin (or one byte later,
//!   for cues that end with a space) are checked against the cues' last four bytes.
//!
//! - **Terms at camel-case parts** (`clientSecret`, `patientDateOfBirth`): a keyword may
//!   also start at a capital after a lowercase letter (see
//!   `keywords::camel_field_start`), which the folded text shows inside a word. Every
//!   such capital is among the text's capitals; the terms are compared there directly.
//!
//! The same term search also records which of the [`PRESENCE_LISTS`] occur at all. A
//! keyword hit starts after a byte that is not an ASCII letter or digit (or at the
//! text's start), and equals its word up to ASCII case; on the folded text that is
//! ` word` with the word folded, so the search for those strings misses no hit (it may
//! report a list present that has no hit, which only costs the list's own search).

use std::sync::LazyLock;

use crate::scan::masks;
#[cfg(test)]
use crate::scan::masks::masks64;

use super::keywords::{self, KeywordHit};
use super::{Input, card, health, personal, secrets};

/// Context lists whose presence in a text the trigger pass also records, so that a
/// rule needing one of them skips its candidates when none of its words occurs, at no
/// search of its own (see [`Input::words_absent`]). For lists whose words are rare in
/// prose while their candidates are not: every four-digit year is a CVV candidate.
pub(crate) static PRESENCE_LISTS: &[&[&str]] = &[card::CVV_WORDS];

/// The bit of `words` in [`trigger_hits`]' presence mask, when the trigger pass tracks
/// that list.
pub(crate) fn presence_bit(words: &[&str]) -> Option<u64> {
    PRESENCE_LISTS
        .iter()
        .position(|list| *list == words)
        .map(|i| 1 << i)
}

/// A set of 32-bit keys: a hashed bit table answers "no" for most keys in one test, a
/// sorted list settles the rest.
#[derive(Debug)]
struct KeySet {
    bits: Vec<u64>,
    keys: Vec<u32>,
}

impl KeySet {
    const BITS: usize = 1 << 12;

    fn new(keys: impl IntoIterator<Item = u32>) -> Self {
        let mut keys: Vec<u32> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        let mut bits = vec![0u64; Self::BITS / 64];
        for &key in &keys {
            let slot = Self::slot(key);
            if let Some(w) = bits.get_mut(slot / 64) {
                *w |= 1 << (slot % 64);
            }
        }
        KeySet { bits, keys }
    }

    fn slot(key: u32) -> usize {
        (key.wrapping_mul(0x9E37_79B1) >> 20) as usize % Self::BITS
    }

    fn contains(&self, key: u32) -> bool {
        let slot = Self::slot(key);
        self.bits
            .get(slot / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
            && self.keys.binary_search(&key).is_ok()
    }
}

/// Every occurrence of a set of patterns in a folded text, overlapping ones included,
/// without a pass of an automaton over every byte.
///
/// Every pattern the trigger pass searches for is a space followed by a letter or digit
/// (` term `, ` word`): on the folded text, an occurrence starts one byte before a *word
/// start* (a byte that is not a space, after one that is). Prose has a word start
/// every five or six bytes, fewer than the positions any other probe would visit. So
/// the filter finds the word starts with SIMD masks of 64 bytes at a time, and tests
/// the four folded bytes at each against a hashed set holding, for every pattern, its
/// four bytes after the space. A pattern with only three bytes after the space (` dob`)
/// is entered once for each byte the folded text can hold after them. Only a start
/// whose four bytes pass the set is compared with the patterns entered under them.
///
/// Patterns of another form (none today: shorter ones, or ones that do not start with
/// a space then a letter or digit) get a `memchr::memmem` search each.
#[derive(Debug)]
struct TermFilter {
    patterns: Vec<Vec<u8>>,
    /// The hashed set of `keyed`'s keys (a fixed size, so that probes need no bounds
    /// check).
    key_set: Box<[u64; TermFilter::SET_BITS / 64]>,
    /// (key, pattern) for each pattern found from word starts and each key it is
    /// entered under, sorted.
    keyed: Vec<(u32, usize)>,
    /// Where each distinct key's entries are in `keyed`: (key, first, end) in an
    /// open-addressing table (a power of two long, at most a quarter full; `end == 0`
    /// is an empty slot). A probe that passes `key_set` costs one or two loads here
    /// instead of a binary search over `keyed`.
    key_index: Vec<(u32, u32, u32)>,
    /// A search for each pattern of another form, with the pattern's index.
    other: Vec<(memchr::memmem::Finder<'static>, usize)>,
}

impl TermFilter {
    const SET_BITS: usize = 1 << 16;

    /// Every byte the folded text holds.
    const FOLDED_BYTES: &[u8] = b" abcdefghijklmnopqrstuvwxyz0123456789";

    fn new(patterns: Vec<Vec<u8>>) -> Self {
        let mut keyed = Vec::new();
        let mut other = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            match p.as_slice() {
                [b' ', second, after @ ..] if *second != b' ' && after.len() >= 2 => {
                    let body = p.get(1..).unwrap_or_default();
                    if let Some(k) = key(body) {
                        keyed.push((k, id));
                    } else {
                        for &next in Self::FOLDED_BYTES {
                            if let Some(k) = key(&[body, &[next]].concat()) {
                                keyed.push((k, id));
                            }
                        }
                    }
                }
                _ => other.push((memchr::memmem::Finder::new(p).into_owned(), id)),
            }
        }
        keyed.sort_unstable();
        keyed.dedup();
        let mut key_index = vec![(0u32, 0u32, 0u32); (keyed.len() * 4).next_power_of_two()];
        let mut first = 0;
        while let Some(&(k, _)) = keyed.get(first) {
            let end = first
                + keyed
                    .get(first..)
                    .map_or(0, |rest| rest.iter().take_while(|e| e.0 == k).count());
            let mut at = Self::index_slot(k, key_index.len());
            while key_index.get(at).is_some_and(|e| e.2 != 0) {
                at = (at + 1) % key_index.len();
            }
            if let (Some(entry), Ok(from), Ok(to)) = (
                key_index.get_mut(at),
                u32::try_from(first),
                u32::try_from(end),
            ) {
                *entry = (k, from, to);
            }
            first = end;
        }
        let mut key_set = Box::new([0u64; Self::SET_BITS / 64]);
        for &(k, _) in &keyed {
            let slot = Self::slot(k);
            if let Some(w) = key_set.get_mut(slot / 64) {
                *w |= 1 << (slot % 64);
            }
        }
        TermFilter {
            patterns,
            key_set,
            keyed,
            key_index,
            other,
        }
    }

    fn slot(key: u32) -> usize {
        // The top 16 bits: always below SET_BITS.
        (key.wrapping_mul(0x9E37_79B1) >> 16) as usize % Self::SET_BITS
    }

    /// The home slot of `key` in a `key_index` of `len` slots (a power of two).
    fn index_slot(key: u32, len: usize) -> usize {
        (key.wrapping_mul(0x85EB_CA6B) >> 16) as usize & (len - 1)
    }

    /// The patterns entered under `key`.
    fn entries(&self, key: u32) -> &[(u32, usize)] {
        let len = self.key_index.len();
        let mut at = Self::index_slot(key, len);
        while let Some(&(k, first, end)) = self.key_index.get(at) {
            if end == 0 {
                break;
            }
            if k == key {
                return self
                    .keyed
                    .get(first as usize..end as usize)
                    .unwrap_or_default();
            }
            at = (at + 1) & (len - 1);
        }
        &[]
    }

    /// Calls `each` for every pattern entered under `four` that occurs in `hay` one byte
    /// before the word start `start`.
    #[cold]
    #[inline(never)]
    fn compare_at(&self, hay: &[u8], start: usize, four: u32, each: &mut impl FnMut(usize, usize)) {
        // A start at 0 has no space before it in `hay`: no occurrence.
        let Some(at) = start.checked_sub(1) else {
            return;
        };
        for &(_, id) in self.entries(four) {
            if let Some(pattern) = self.patterns.get(id)
                && hay.get(at..at + pattern.len()) == Some(&pattern[..])
            {
                each(id, at);
            }
        }
    }

    /// Calls `each` for every pattern (of a space then a word) whose word occurs at `start`
    /// in `hay`, a place that is no word start: a camel-case part (`Secret` in
    /// `clientSecret`), whose byte before is a letter on the folded text. Reported as an
    /// occurrence at `start - 1`, as if a space were there.
    fn for_each_at_part(&self, hay: &[u8], start: usize, mut each: impl FnMut(usize, usize)) {
        let Some(four) = hay.get(start..).and_then(key) else {
            return;
        };
        let slot = Self::slot(four);
        if self
            .key_set
            .get(slot / 64)
            .is_none_or(|w| w & (1 << (slot % 64)) == 0)
        {
            return;
        }
        for &(_, id) in self.entries(four) {
            if let Some(word) = self.patterns.get(id).and_then(|p| p.get(1..))
                && hay.get(start..start + word.len()) == Some(word)
            {
                each(id, start - 1);
            }
        }
    }

    /// Calls `each(pattern, start)` for every occurrence in `hay` (a folded text: only
    /// spaces, ASCII lowercase letters and digits), in no particular order.
    #[cfg(test)]
    fn for_each(&self, hay: &[u8], each: impl FnMut(usize, usize)) {
        self.for_each_in(
            hay,
            |_, block| {
                let [word] = masks64(block, |b| [b.range(b'0', b'z').bits()]);
                word
            },
            each,
        );
    }

    /// [`TermFilter::for_each`] on a folded text as [`folded_into`] makes it, given the
    /// masks of the letters and digits of the text it folds (one per 64 bytes, as
    /// `masks::fold` returns them): the masks of `hay`'s blocks are those shifted by
    /// the one byte `hay` starts with.
    fn for_each_folded(&self, hay: &[u8], text_words: &[u64], each: impl FnMut(usize, usize)) {
        self.for_each_in(
            hay,
            |k, _| {
                let this = text_words.get(k).copied().unwrap_or(0);
                let before = k
                    .checked_sub(1)
                    .and_then(|j| text_words.get(j))
                    .copied()
                    .unwrap_or(0);
                (this << 1) | (before >> 63)
            },
            each,
        );
    }

    /// [`TermFilter::for_each`], with `word_of(k, block)` the mask of the bytes of `hay`'s
    /// block `k` that are not spaces.
    #[inline(always)]
    fn for_each_in(
        &self,
        hay: &[u8],
        word_of: impl Fn(usize, &[u8; 64]) -> u64,
        mut each: impl FnMut(usize, usize),
    ) {
        let set: &[u64; Self::SET_BITS / 64] = &self.key_set;
        let (blocks, rest) = hay.as_chunks::<64>();
        // The last partial block, padded with spaces (no word starts there).
        let mut tail = [b' '; 64];
        if let Some(t) = tail.get_mut(..rest.len()) {
            t.copy_from_slice(rest);
        }
        let all = blocks.iter().chain((!rest.is_empty()).then_some(&tail));
        // Whether the byte before the block is not a space (the first byte of a folded
        // text is one).
        let mut carry = 0u64;
        // The block and the three bytes after it: the four bytes at every word start of
        // the block are read from here without a bounds check.
        let mut ext = [b' '; 67];
        for (k, block) in all.enumerate() {
            let word = word_of(k, block);
            let mut starts = word & !((word << 1) | carry);
            carry = word >> 63;
            if starts == 0 {
                continue;
            }
            if let Some(head) = ext.first_chunk_mut::<64>() {
                *head = *block;
            }
            if let Some(after) = ext.last_chunk_mut::<3>() {
                *after = match hay.get(64 * k + 64..).and_then(<[u8]>::first_chunk::<3>) {
                    Some(next) => *next,
                    // Near the end: what is left, then spaces.
                    None => {
                        let mut next = [b' '; 3];
                        let left = hay.get(64 * k + 64..).unwrap_or_default();
                        for (n, &b) in next.iter_mut().zip(left) {
                            *n = b;
                        }
                        next
                    }
                };
            }
            while starts != 0 {
                let i = starts.trailing_zeros() as usize & 63;
                starts &= starts - 1;
                let Some(four) = ext.get(i..i + 4).and_then(key) else {
                    continue;
                };
                let slot = Self::slot(four);
                if set
                    .get(slot / 64)
                    .is_some_and(|w| w & (1 << (slot % 64)) != 0)
                {
                    self.compare_at(hay, 64 * k + i, four, &mut each);
                }
            }
        }
        for (finder, id) in &self.other {
            // Restarting one byte after each match also finds overlapping ones.
            let mut at = 0;
            while let Some(found) = hay.get(at..).and_then(|rest| finder.find(rest)) {
                each(*id, at + found);
                at += found + 1;
            }
        }
    }
}

/// A byte of the folded text: ASCII letters and digits in lowercase, anything else a space.
fn fold(b: u8) -> u8 {
    // Branch-free (`b | 0x20` is a lowercase letter exactly when `b` is a letter), so
    // that folding a text vectorises.
    let lower = b | 0x20;
    if lower.wrapping_sub(b'a') < 26 {
        lower
    } else if b.wrapping_sub(b'0') < 10 {
        b
    } else {
        b' '
    }
}

/// The folded text of `bytes` with one space before and four after, so that folded
/// position `i + 1` is text position `i` and every key read below stays in range.
#[cfg(test)]
fn folded(bytes: &[u8]) -> Vec<u8> {
    folded_into(bytes, Vec::new(), &mut Vec::new())
}

/// [`folded`], on the allocation of `out` (its bytes are dropped), and the masks of the
/// letters and digits of `bytes` (see `masks::fold`) in `words`.
fn folded_into(bytes: &[u8], mut out: Vec<u8>, words: &mut Vec<u64>) -> Vec<u8> {
    // Every byte is written below: only the bytes beyond the allocation's previous
    // length need a value first (filling all of them would be one more pass).
    out.resize(bytes.len() + 5, b' ');
    if let Some(first) = out.first_mut() {
        *first = b' ';
    }
    if let Some(middle) = out.get_mut(1..1 + bytes.len()) {
        masks::fold(bytes, middle, words);
    }
    if let Some(last) = out.last_chunk_mut::<4>() {
        *last = [b' '; 4];
    }
    out
}

/// Four bytes as a key.
fn key(bytes: &[u8]) -> Option<u32> {
    let four: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    Some(u32::from_le_bytes(four))
}

/// The search tables of the anchors.
#[derive(Debug)]
struct Triggers {
    /// ` term ` (and ` termis ` for secret words, ` word` for birth words) on the folded
    /// text.
    terms: TermFilter,
    /// The length of the term inside each pattern of `terms`; `None` for a pattern that
    /// only marks a presence list.
    term_len: Vec<Option<usize>>,
    /// The [`PRESENCE_LISTS`] bits of each pattern of `terms`.
    presence: Vec<u64>,
    /// The index in [`secrets::ANCHORS`] of each pattern of `terms` that is one.
    anchor: Vec<Option<u8>>,
    /// First four folded bytes of every given name (plus a space for three letters).
    given: KeySet,
    /// Last four folded bytes of every name cue and title, after a space.
    cues: KeySet,
    /// The pattern ` at `: the word of the `[at]`, `(at)`, `{at}` markers of spelled-out
    /// e-mail addresses.
    at_word: Option<usize>,
}

static TRIGGERS: LazyLock<Triggers> = LazyLock::new(|| {
    let fold_str = |w: &str| -> Vec<u8> { w.bytes().map(fold).collect() };
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let mut term_len: Vec<Option<usize>> = Vec::new();
    let mut presence: Vec<u64> = Vec::new();
    let mut anchor: Vec<Option<u8>> = Vec::new();
    let mut add_anchored =
        |pattern: Vec<u8>, len: Option<usize>, bits: u64, id: Option<u8>| match patterns
            .iter()
            .position(|p| *p == pattern)
        {
            Some(i) => {
                if let Some(l) = term_len.get_mut(i) {
                    *l = l.or(len);
                }
                if let Some(b) = presence.get_mut(i) {
                    *b |= bits;
                }
                if let Some(a) = anchor.get_mut(i) {
                    *a = a.or(id);
                }
            }
            None => {
                patterns.push(pattern);
                term_len.push(len);
                presence.push(bits);
                anchor.push(id);
            }
        };
    for (i, (word, _, _)) in secrets::ANCHORS.iter().enumerate() {
        add_anchored(
            [b" ", word.as_bytes()].concat(),
            None,
            0,
            u8::try_from(i).ok(),
        );
    }
    let mut add = |pattern: Vec<u8>, len: Option<usize>, bits: u64| {
        add_anchored(pattern, len, bits, None);
    };
    // Each word, and its identifier spelling run together (`dateofbirth`, for
    // `dateOfBirth`): those joined by `_` or `-` fold to the word itself.
    let spelled = |words: &'static [&'static str]| {
        words.iter().flat_map(|w| {
            let joined = keywords::identifier_spellings(w).pop();
            std::iter::once((*w).to_owned()).chain(joined)
        })
    };
    for w in spelled(health::DIAGNOSIS_TERMS).chain(spelled(health::MEDICATION_TERMS)) {
        add([b" ", &fold_str(&w)[..], b" "].concat(), Some(w.len()), 0);
    }
    for w in spelled(secrets::SECRET_WORDS) {
        add([b" ", &fold_str(&w)[..], b" "].concat(), Some(w.len()), 0);
        add([b" ", &fold_str(&w)[..], b"is "].concat(), Some(w.len()), 0);
    }
    for w in spelled(personal::DOB_WORDS).chain(spelled(personal::NAME_HEADERS)) {
        add([b" ", &fold_str(&w)[..]].concat(), Some(w.len()), 0);
    }
    for (i, list) in PRESENCE_LISTS.iter().enumerate() {
        for w in keywords::identifier_spellings_of(list) {
            add([b" ", &fold_str(&w)[..]].concat(), None, 1 << i);
        }
        for w in *list {
            // A word that another word of the list begins (`cvv2` after `cvv`) is found
            // with it.
            let folded = fold_str(w);
            if list
                .iter()
                .any(|o| o.len() < w.len() && folded.starts_with(&fold_str(o)))
            {
                continue;
            }
            add([b" ", &folded[..]].concat(), None, 1 << i);
        }
    }
    // Not a term: every ` at ` is reported (see `TriggerPass::at_words`).
    let at_word = patterns.len();
    patterns.push(b" at ".to_vec());
    term_len.push(None);
    presence.push(0);
    anchor.push(None);
    let terms = TermFilter::new(patterns);
    let given = KeySet::new(personal::GIVEN_NAMES.iter().filter_map(|w| {
        let mut f = fold_str(w);
        f.push(b' ');
        key(&f)
    }));
    let cues = KeySet::new(personal::NAME_WORDS.iter().filter_map(|w| {
        let f = [b" ", &fold_str(w)[..]].concat();
        key(f.get(f.len().checked_sub(4)?..)?)
    }));
    Triggers {
        terms,
        term_len,
        presence,
        anchor,
        given,
        cues,
        at_word: Some(at_word),
    }
});

/// What the trigger pass found in a text (see [`trigger_hits`]).
#[derive(Debug, Default)]
pub(crate) struct TriggerPass {
    /// The hits every trigger-walking detector needs (and possibly more), in order.
    pub hits: Vec<KeywordHit>,
    /// The bits of the [`PRESENCE_LISTS`] of which some word may occur in the text (a
    /// list whose bit is clear has no hit in it).
    pub present: u64,
    /// Where each occurrence of a [`secrets::ANCHORS`] word starts (a text position),
    /// with the word's index there, in order.
    pub anchors: Vec<(usize, u8)>,
    /// The folded text (see [`folded`]): one space, the text's bytes folded, four
    /// spaces.
    pub folded: Vec<u8>,
    /// The masks of the text's letters and digits, one per 64 bytes (see
    /// `masks::fold`).
    pub words: Vec<u64>,
    /// Where every word `at` starts (a text position, in order): between brackets, it
    /// marks a spelled-out e-mail address (`jane[at]example.com`).
    pub at_words: Vec<usize>,
}

/// ASCII letters lowercased, ASCII digits kept, every other byte a space: how the
/// trigger pass reads a text, and how terms are matched against [`Input::folded`].
pub(crate) fn fold_byte(b: u8) -> u8 {
    fold(b)
}

/// The trigger pass over `input` (see the module documentation).
pub(crate) fn trigger_hits(
    input: &Input<'_>,
    folded_buffer: Vec<u8>,
    mut words: Vec<u64>,
) -> TriggerPass {
    let triggers = &*TRIGGERS;
    let bytes = input.bytes;
    let folded = folded_into(bytes, folded_buffer, &mut words);
    // Ranges whose runs must be resolved; resolved together at the end.
    let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(32);
    let mut present = 0u64;
    let mut anchors: Vec<(usize, u8)> = Vec::new();
    let mut at_words: Vec<usize> = Vec::new();

    // Capitals: given names at them, titles and name cues before them, and terms that
    // start at a camel-case part (`Secret` of `clientSecret`), which the folded text
    // does not show as words. (Command anchors and the word `at` are words only.)
    let mut part_terms: Vec<(usize, usize)> = Vec::new();
    for &u in input.capitals() {
        if u > 0
            && bytes.get(u - 1).is_some_and(u8::is_ascii_lowercase)
            && bytes.get(u).is_some_and(u8::is_ascii_uppercase)
        {
            // Text position `u` is folded position `u + 1`.
            triggers
                .terms
                .for_each_at_part(&folded, u + 1, |id, start| {
                    if triggers.at_word != Some(id)
                        && triggers.anchor.get(id).copied().flatten().is_none()
                    {
                        part_terms.push((id, start));
                    }
                });
        }
        if bytes.get(u).is_some_and(u8::is_ascii_uppercase)
            && folded.get(u) == Some(&b' ')
            && folded
                .get(u + 1..)
                .and_then(key)
                .is_some_and(|k| triggers.given.contains(k))
        {
            ranges.push((u, u + 1));
        }
        let mut spaces = u;
        while spaces > 0 && bytes.get(spaces - 1) == Some(&b' ') {
            spaces -= 1;
        }
        for end in [spaces, spaces + 1] {
            if end > u || end < 3 {
                continue;
            }
            // Text bytes end-4..end are folded bytes end-3..end+1.
            if folded
                .get(end - 3..)
                .and_then(key)
                .is_some_and(|k| triggers.cues.contains(k))
            {
                ranges.push((end - 1, end));
            }
        }
    }

    // Terms: every occurrence, overlapping ones included.
    let mut on_term = |id: usize, start: usize| {
        if triggers.at_word == Some(id) {
            // Folded `start` is the byte before the word, text position `start - 1`.
            at_words.push(start);
            return;
        }
        present |= triggers.presence.get(id).copied().unwrap_or(0);
        if let Some(anchor) = triggers.anchor.get(id).copied().flatten() {
            anchors.push((start, anchor));
        }
        // Folded position `start` is the space before the term, text position
        // `start - 1`; the term starts one byte later.
        if let Some(len) = triggers.term_len.get(id).copied().flatten() {
            ranges.push((start, start + len));
        }
    };
    triggers
        .terms
        .for_each_folded(&folded, &words, &mut on_term);
    for (id, start) in part_terms {
        on_term(id, start);
    }

    input.ensure_keywords_all(&mut ranges);
    anchors.sort_unstable();
    at_words.sort_unstable();
    TriggerPass {
        hits: input.known_keyword_hits(),
        present,
        anchors,
        folded,
        words,
        at_words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_assume_what_the_lists_hold() {
        // Given-name keys need three bytes at least; cue keys need no cue to end with
        // two spaces (then only the two end positions checked can be a cue's end).
        for w in personal::GIVEN_NAMES {
            assert!(w.len() >= 3, "{w}");
        }
        for w in personal::NAME_WORDS {
            assert!(w.len() >= 3 && !w.ends_with("  "), "{w}");
        }
    }

    fn naive_occurrences(patterns: &[Vec<u8>], hay: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for (id, p) in patterns.iter().enumerate() {
            for start in 0..hay.len() {
                if hay.get(start..start + p.len()) == Some(&p[..]) {
                    out.push((id, start));
                }
            }
        }
        out.sort_unstable();
        out
    }

    proptest::proptest! {
        #[test]
        fn the_term_filter_finds_every_occurrence(text in "[ abcdehiortvs1_.BD]{0,200}") {
            let patterns: Vec<Vec<u8>> = [
                " hiv ", " abc ", " tokenis ", " token ", " diabetes ", " sts ", " a b c d ",
                " dob", " aaa", " born", " d o b", " d1", " ab", "tv", "s  t", "  b", "1 ",
            ]
                .iter()
                .map(|p| p.as_bytes().to_vec())
                .collect();
            let filter = TermFilter::new(patterns.clone());
            // The folded text as the trigger pass makes it, and without its padding.
            let padded = folded(text.as_bytes());
            for hay in [&padded[..], padded.get(..padded.len() - 4).unwrap_or_default()] {
                let mut got = Vec::new();
                filter.for_each(hay, |id, start| got.push((id, start)));
                got.sort_unstable();
                proptest::prop_assert_eq!(got, naive_occurrences(&patterns, hay));
            }
            // From the masks the fold returns, as the trigger pass runs it.
            let mut words = Vec::new();
            let hay = folded_into(text.as_bytes(), Vec::new(), &mut words);
            let mut got = Vec::new();
            filter.for_each_folded(&hay, &words, |id, start| got.push((id, start)));
            got.sort_unstable();
            proptest::prop_assert_eq!(got, naive_occurrences(&patterns, &hay));
        }
    }

    #[test]
    fn a_word_read_across_the_last_block_is_found() {
        // The word starts three bytes before the end of the first block and ends one or
        // two bytes after it, where the text ends (no padding).
        let filter = TermFilter::new(vec![b" born".to_vec(), b" dob".to_vec()]);
        for (hay, expected) in [
            ([&[b' '; 61][..], b"born"].concat(), vec![(0, 60)]),
            ([&[b' '; 62][..], b"born"].concat(), vec![(0, 61)]),
            ([&[b' '; 62][..], b"dob"].concat(), vec![(1, 61)]),
        ] {
            let mut got = Vec::new();
            filter.for_each(&hay, |id, start| got.push((id, start)));
            assert_eq!(got, expected, "{}", hay.len());
        }
    }

    proptest::proptest! {
        #[test]
        fn a_list_reported_absent_has_no_hit(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "cvv", "CVC2", "cid", "Cid", "security code", "SECURITY  code", "card",
                    "verification", "Card Verification", "decide", "x", "_", " ", "-", "é", "2",
                    "s", "Value", "\n", ":", "Cvv", "SecurityCode", "CardVerification",
                ]),
                0..12,
            )
        ) {
            let text = parts.concat();
            let input = Input::new(&text);
            let present = trigger_hits(&input, Vec::new(), Vec::new()).present;
            let mut hits = Vec::new();
            super::super::keywords::KEYWORD_INDEX.scan_span(&text, 0, text.len(), &mut hits);
            for (i, list) in PRESENCE_LISTS.iter().enumerate() {
                if present & (1 << i) == 0 {
                    proptest::prop_assert!(
                        !hits.iter().any(|h| list.contains(&h.word)),
                        "{text:?}: a hit of list {i}, reported absent"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// Every hit of a whole-text search that can start a finding of a detector
        /// walking the trigger hits is among them: secret words followed by a byte that
        /// is no letter or digit, birth words anywhere, at word starts, after `_` and at
        /// camel-case parts.
        #[test]
        fn the_trigger_hits_hold_every_hit_that_can_start_a_finding(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "password", "Password", "PASSWD", "secret", "Secret", "token", "Token",
                    "apiKey", "ApiKey", "SecretKey", "dob", "Dob", "DateOfBirth", "birthdate",
                    "user", "db", "client", "Hash", "x", "_", "-", " ", "=", ":", "\"", "<",
                    ">", "is ", "2", "é", "\n",
                ]),
                0..12,
            )
        ) {
            let text = parts.concat();
            let input = Input::new(&text);
            let triggered: Vec<(usize, usize)> = trigger_hits(&input, Vec::new(), Vec::new())
                .hits
                .iter()
                .map(|h| (h.start, h.end))
                .collect();
            let mut hits = Vec::new();
            keywords::KEYWORD_INDEX.scan_span(&text, 0, text.len(), &mut hits);
            for h in hits {
                let secret = h.is_in(secrets::SECRET_WORDS)
                    && !text.as_bytes().get(h.end).is_some_and(u8::is_ascii_alphanumeric);
                if secret || h.is_in(personal::DOB_WORDS) {
                    proptest::prop_assert!(
                        triggered.contains(&(h.start, h.end)),
                        "{text:?}: {:?} at {} missing", h.word, h.start
                    );
                }
            }
        }
    }

    #[test]
    fn presence_tracks_the_cvv_words_and_nothing_else() {
        let bit = presence_bit(card::CVV_WORDS);
        assert_eq!(bit, Some(1));
        assert_eq!(presence_bit(card::EXPIRY_WORDS), None);
        let present =
            |text: &str| trigger_hits(&Input::new(text), Vec::new(), Vec::new()).present & 1 != 0;
        assert!(present("CVV: 123"));
        assert!(present("the card_verification value"));
        assert!(present("Security Code 123"));
        assert!(!present("In 2023 we decided on 120 incidents."));
    }

    #[test]
    fn fold_is_lowercase_alphanumeric_or_space_for_every_byte() {
        for b in 0..=u8::MAX {
            let expected = if b.is_ascii_alphanumeric() {
                b.to_ascii_lowercase()
            } else {
                b' '
            };
            assert_eq!(fold(b), expected, "{b:#04x}");
        }
    }

    #[test]
    fn a_reused_buffer_holds_only_the_new_fold() {
        let mut words = Vec::new();
        let longer = folded_into(b"A much longer text, 123", Vec::new(), &mut words);
        let again = folded_into(b"Hi_2!", longer, &mut words);
        assert_eq!(again, b" hi 2     ");
        assert_eq!(words, vec![0b01011]);
    }

    #[test]
    fn folding_maps_every_non_alphanumeric_byte_to_a_space() {
        assert_eq!(folded("Hi_é-2!".as_bytes()), b" hi    2     ");
    }
}
