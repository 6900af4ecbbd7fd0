//! Keyword hits: the context words and gazetteer terms of every family, found exactly, but
//! only where a detector asks for them.
//!
//! What a *hit* is has not changed since the first scanner, and everything here exists to
//! compute the same hits for less: one leftmost-longest, ASCII-case-insensitive
//! Aho-Corasick search over every word of [`keyword_lists`](super::keyword_lists), as if run over
//! the whole text, keeping the matches that start a word (and, for a keyword of three
//! bytes or fewer, also end one and be written in one case or capitalised: `exp` is not
//! a cue inside `expected`, nor `mR` at the end of a key; see [`is_short_word`]).
//! Overlapping words hide each
//! other the way that search decides (`card verification` is one hit, not `card` plus a
//! CVV word), and detectors depend on it.
//!
//! Why not simply run that search over the whole text, as before: a DFA costs one
//! dependent table lookup per byte (4–5 cycles), which caps it near 200 MB/s on any text,
//! and most bytes of a prompt are nowhere near a candidate. So:
//!
//! - **Runs.** A position is a *safe point* when no occurrence of any keyword can cross
//!   it. That is decided from the bytes around it alone: no keyword contains the byte
//!   pair (or one of the two byte triples) that straddles it ([`KeywordIndex::is_safe`]).
//!   In prose most word boundaries are safe. The search restarted at a safe point finds
//!   exactly the matches the whole-text search finds from there on, so the hits of a
//!   text are the hits of its runs (the spans between safe points), each searched
//!   alone. [`HitCache`] computes runs on demand and remembers them.
//! - **Where each list's words are.** In a long text, the first question about one list
//!   ("is an SSN word within 40 bytes?") finds every occurrence of that list's words,
//!   once, with a SIMD literal search (Teddy, through `aho_corasick`) over the text
//!   lowercased; each question then resolves only the runs of the occurrences near its
//!   window, and when there are none (the common case) it is answered without any DFA
//!   work. In a short text (a prompt of a few kilobytes) that search would cost more than
//!   the few windows asked about, so the same search runs over each window instead. Runs
//!   are remembered either way, so many questions around one number cost one pass over
//!   its neighbourhood.
//! - **Triggers.** The detectors that iterate hits over the whole text (birth words,
//!   given names, titles and name cues, diagnosis and medication terms, secret words) get
//!   [`Input::trigger_hits`](super::Input::trigger_hits): runs resolved around every place
//!   such a hit could produce a finding (see `triggers.rs`).
//!
//! If a text makes the cache work harder than one whole-text pass would (dense PII,
//! queries out of order), it falls back to that one pass.

use std::cell::{Cell, OnceCell, RefCell};

use aho_corasick::automaton::Automaton;
use aho_corasick::{AhoCorasick, Anchored, MatchKind, StartKind, dfa, packed};

use super::keyword_lists;

/// The longest keyword, in bytes (bounds the searches around a window).
pub(crate) const MAX_KEYWORD_LEN: usize = 64;

/// From this text length on, a list's words are found by one literal search over the
/// whole text rather than by resolving each window asked about.
pub(crate) const WHOLE_TEXT_SEARCH_FROM: usize = 16 * 1024;

/// See [`Keywords::count_question`].
const BATCH_AFTER_QUESTIONS: u32 = 16;

/// A long text asked to resolve at least one range per this many bytes at once gets
/// one pass over all of it instead (see [`HitCache::ensure_all`]).
const DENSE_RANGE_BYTES: usize = 64;

/// Keywords this long or shorter (`exp`, `dob`, `sin`, `ip`) count only where their word
/// ends: as the start of a longer word (`expected`, `dobermann`, `since`, `ipsum`)
/// they are another word. Longer keywords also count at the start of a word
/// (`passports`, `Führerscheinnummer`).
const SHORT_KEYWORD_LEN: usize = 3;

/// Short keywords that also count at the end of a snake_case or camelCase name (`patient_mrn`,
/// `patientMrn`): those that name a field on their own.
const SHORT_FIELD_WORDS: &[&str] = &[
    "ssn", "dob", "mrn", "cvv", "cvc", "npi", "dea", "utr", "nhs", "bic", "tfn", "abn", "nie",
    "nif", "pwd",
];

/// Bits in the table of keyword byte triples.
const TRIGRAM_BITS: usize = 1 << 16;

/// One keyword occurrence: `text[start..end]` is `word`, ignoring ASCII case.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeywordHit {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The keyword (lowercase).
    pub word: &'static str,
    /// The registered lists it belongs to (bit per list, see [`KeywordIndex::list`]).
    pub(crate) groups: u64,
}

impl KeywordHit {
    /// Whether the keyword is one of `words` (a registered list: one AND; any other
    /// list: string compares).
    pub fn is_in(&self, words: &[&str]) -> bool {
        let list = KEYWORD_INDEX.list(words);
        debug_assert!(list.is_some(), "unregistered keyword list {words:?}");
        match list {
            Some(list) => self.groups & list.bit != 0,
            None => words.contains(&self.word),
        }
    }
}

/// What the index knows about one word list passed to [`Input::context`](super::Input::context)
/// or [`KeywordHit::is_in`].
#[derive(Debug)]
pub(crate) struct ListInfo {
    /// The list itself (identified by address).
    words: &'static [&'static str],
    /// Its position among the registered lists.
    pub id: usize,
    /// Its bit in [`KeywordHit::groups`].
    pub bit: u64,
    /// The list's words, lowercased, as a leftmost literal search (case-sensitive, run
    /// over lowercased text). Every occurrence of a word overlaps one of its matches,
    /// inside the same run. Each word is also a keyword (all registered lists feed the
    /// automaton), so each occurrence that starts a word and is not hidden by an
    /// overlapping longer keyword is a hit.
    finder: Option<Finder>,
    /// The longest of the list's words, in bytes.
    pub longest: usize,
}

/// A leftmost search for a few literals: Teddy (SIMD, from `aho_corasick::packed`)
/// where the CPU has it, an automaton elsewhere. (`AhoCorasick` picks its own prefilter,
/// and for words that start with common letters it picks one that stops at every `c`.)
#[derive(Debug)]
enum Finder {
    Teddy(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Finder {
    fn new(words: &[String]) -> Option<Self> {
        if words.is_empty() {
            return None;
        }
        let teddy = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(words)
            .build();
        match teddy {
            Some(teddy) => Some(Finder::Teddy(teddy)),
            None => AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(words)
                .ok()
                .map(Finder::Automaton),
        }
    }

    /// Calls `each(start, end)` for every match in `hay[lo..hi]`, in order.
    fn for_each_in(&self, hay: &[u8], lo: usize, hi: usize, mut each: impl FnMut(usize, usize)) {
        let hi = hi.min(hay.len());
        if lo >= hi {
            return;
        }
        match self {
            Finder::Teddy(teddy) => {
                let mut at = lo;
                while let Some(m) = teddy.find_in(hay, aho_corasick::Span::from(at..hi)) {
                    each(m.start(), m.end());
                    at = m.end();
                }
            }
            Finder::Automaton(automaton) => {
                for m in automaton.find_iter(aho_corasick::Input::new(hay).range(lo..hi)) {
                    each(m.start(), m.end());
                }
            }
        }
    }

    /// The start and end of every match in `hay`, in order.
    fn find_all(&self, hay: &[u8]) -> Spans {
        match self {
            Finder::Teddy(teddy) => teddy.find_iter(hay).map(|m| (m.start(), m.end())).collect(),
            Finder::Automaton(automaton) => automaton
                .find_iter(hay)
                .map(|m| (m.start(), m.end()))
                .collect(),
        }
    }
}

/// The keyword automaton, the safe-point tables and the registered lists.
#[derive(Debug)]
pub(crate) struct KeywordIndex {
    dfa: Option<dfa::DFA>,
    /// Per pattern: whether it is a keyword of several words run together.
    joined: Vec<bool>,
    /// Per pattern: whether it may also start at a camel-case part that ends its
    /// identifier (`patientMrn`, `WebhookSecret`; see [`camel_field_start`]).
    camel: Vec<bool>,
    words: Vec<&'static str>,
    groups: Vec<u64>,
    /// Registered lists, sorted by address.
    lists: Vec<ListInfo>,
    /// `lists` by address: an open-addressing table of indices plus one (0: empty),
    /// filled in `lists` order, so a lookup is a hash and a load or two rather than a
    /// binary search (it runs for every context question and list test).
    list_slots: Vec<u16>,
    /// Bytes (lowercased) that occur in some keyword.
    alphabet: [bool; 256],
    /// Two-byte keywords (lowercased).
    pairs: Vec<[u8; 2]>,
    /// Hashed set of every byte triple (lowercased) inside a keyword.
    trigrams: Vec<u64>,
}

/// Built once, on first use.
pub(crate) static KEYWORD_INDEX: std::sync::LazyLock<KeywordIndex> =
    std::sync::LazyLock::new(KeywordIndex::build);

/// The home slot of a list at address `addr` in a table of `len` slots (a power of two).
fn list_slot(addr: usize, len: usize) -> usize {
    ((addr as u64 >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & (len - 1)
}

fn trigram_slot(a: u8, b: u8, c: u8) -> usize {
    let key = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
    (key.wrapping_mul(0x9E37_79B1) >> 16) as usize % TRIGRAM_BITS
}

impl KeywordIndex {
    fn build() -> Self {
        let keyword_lists = keyword_lists();
        let mut words: Vec<&'static str> = keyword_lists
            .iter()
            .flat_map(|w| w.iter().copied())
            .collect();
        words.sort_unstable();
        words.dedup();
        // Each pattern of the automaton, and the word it is a spelling of: the words
        // themselves, then the identifier spellings of the words of several words
        // (`date_of_birth`, `date-of-birth`, `dateOfBirth`) that are no word of their own.
        let mut patterns: Vec<(String, &'static str)> =
            words.iter().map(|w| ((*w).to_owned(), *w)).collect();
        for w in &words {
            for spelled in identifier_spellings(w) {
                if !words.iter().any(|o| o.eq_ignore_ascii_case(&spelled))
                    && !patterns.iter().any(|(p, _)| *p == spelled)
                {
                    patterns.push((spelled, w));
                }
            }
        }
        // Building from a few hundred short literals cannot fail; if it ever did, context
        // would never be seen and the case tests would say so.
        let dfa = dfa::DFA::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .start_kind(StartKind::Unanchored)
            .build(patterns.iter().map(|(p, _)| p))
            .ok();
        let joined = patterns
            .iter()
            .map(|(p, w)| !p.contains(['_', '-', ' ']) && w.contains(' '))
            .collect();
        let camel = patterns
            .iter()
            .map(|(_, w)| !NO_CAMEL_LISTS.iter().any(|l| l.contains(w)))
            .collect();
        let groups = patterns
            .iter()
            .map(|(_, w)| {
                keyword_lists
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.contains(w))
                    .fold(0u64, |m, (i, _)| m | 1u64 << (i % 64))
            })
            .collect();
        let mut lists: Vec<ListInfo> = keyword_lists
            .iter()
            .enumerate()
            .map(|(i, &list)| {
                let lowered: Vec<String> = list
                    .iter()
                    .map(|w| w.to_ascii_lowercase())
                    .flat_map(|w| {
                        let spelled = identifier_spellings(&w);
                        std::iter::once(w).chain(spelled)
                    })
                    .collect();
                ListInfo {
                    words: list,
                    id: i,
                    bit: 1u64 << (i % 64),
                    finder: Finder::new(&lowered),
                    longest: lowered.iter().map(String::len).max().unwrap_or(0),
                }
            })
            .collect();
        lists.sort_by_key(|l| l.words.as_ptr() as usize);
        let mut list_slots = vec![0u16; (lists.len() * 4).next_power_of_two()];
        for (i, l) in lists.iter().enumerate() {
            let mut at = list_slot(l.words.as_ptr() as usize, list_slots.len());
            while list_slots.get(at).is_some_and(|&v| v != 0) {
                at = (at + 1) % list_slots.len();
            }
            if let (Some(slot), Ok(v)) = (list_slots.get_mut(at), u16::try_from(i + 1)) {
                *slot = v;
            }
        }

        let mut alphabet = [false; 256];
        let mut pairs = Vec::new();
        let mut trigrams = vec![0u64; TRIGRAM_BITS / 64];
        let words: Vec<&'static str> = patterns.iter().map(|(_, w)| *w).collect();
        for (w, _) in &patterns {
            let folded = w.as_bytes().to_ascii_lowercase();
            for &b in &folded {
                alphabet[usize::from(b)] = true;
            }
            if let [a, b] = folded[..] {
                pairs.push([a, b]);
            }
            for t in folded.windows(3) {
                if let [a, b, c] = *t {
                    let slot = trigram_slot(a, b, c);
                    if let Some(word) = trigrams.get_mut(slot / 64) {
                        *word |= 1 << (slot % 64);
                    }
                }
            }
        }
        KeywordIndex {
            dfa,
            joined,
            camel,
            words,
            groups,
            lists,
            list_slots,
            alphabet,
            pairs,
            trigrams,
        }
    }

    /// The registered list `words` (by address), if it is one.
    pub fn list(&self, words: &[&str]) -> Option<&ListInfo> {
        // The first list (in address order) at this address, as a binary search for it
        // would find; then the same identity test.
        let addr = words.as_ptr() as usize;
        let len = self.list_slots.len();
        let mut at = list_slot(addr, len);
        while let Some(&v) = self.list_slots.get(at) {
            let l = self.lists.get(usize::from(v).checked_sub(1)?)?;
            if l.words.as_ptr() as usize == addr {
                return Some(l).filter(|l| std::ptr::eq(l.words, words));
            }
            at = (at + 1) & (len - 1);
        }
        None
    }

    fn has_trigram(&self, a: u8, b: u8, c: u8) -> bool {
        let slot = trigram_slot(a, b, c);
        self.trigrams
            .get(slot / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// Whether no keyword occurrence can cross position `p` of `bytes`: an occurrence
    /// `[a, b)` with `a < p < b` contains the pair `bytes[p-1..=p]`, and either is that
    /// pair or contains one of the triples `bytes[p-2..=p]`, `bytes[p-1..=p+1]`.
    pub fn is_safe(&self, bytes: &[u8], p: usize) -> bool {
        if p == 0 || p >= bytes.len() {
            return true;
        }
        let at = |i: usize| bytes.get(i).map(u8::to_ascii_lowercase);
        let (Some(x), Some(y)) = (at(p - 1), at(p)) else {
            return true;
        };
        if !self.alphabet[usize::from(x)] || !self.alphabet[usize::from(y)] {
            return true;
        }
        if self.pairs.contains(&[x, y]) {
            return false;
        }
        let before = p
            .checked_sub(2)
            .and_then(at)
            .is_some_and(|w| self.has_trigram(w, x, y));
        let after = at(p + 1).is_some_and(|z| self.has_trigram(x, y, z));
        !(before || after)
    }

    /// The nearest safe point at or before `p`, not before `floor` (itself safe).
    fn safe_at_or_before(&self, bytes: &[u8], mut p: usize, floor: usize) -> usize {
        while p > floor && !self.is_safe(bytes, p) {
            p -= 1;
        }
        p
    }

    /// The nearest safe point at or after `p`, not after `ceil` (itself safe).
    fn safe_at_or_after(&self, bytes: &[u8], mut p: usize, ceil: usize) -> usize {
        while p < ceil && !self.is_safe(bytes, p) {
            p += 1;
        }
        p
    }

    /// Appends the hits in `text[start..end]`, a span between two safe points, to `out`:
    /// the leftmost-longest search restarted after every match, keeping matches that
    /// start a word (the loop `aho_corasick` runs, without its per-call setup).
    pub(crate) fn scan_span(
        &self,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Vec<KeywordHit>,
    ) {
        let Some(dfa) = &self.dfa else {
            return;
        };
        let Ok(initial) = dfa.start_state(Anchored::No) else {
            return;
        };
        let bytes = text.as_bytes();
        let mut at = start;
        while at < end {
            let mut sid = initial;
            let mut found = None;
            for (i, &b) in bytes.get(at..end).unwrap_or_default().iter().enumerate() {
                sid = dfa.next_state(Anchored::No, sid, b);
                if dfa.is_special(sid) {
                    if dfa.is_dead(sid) {
                        break;
                    }
                    if dfa.is_match(sid) {
                        found = Some((dfa.match_pattern(sid, 0), at + i + 1));
                    }
                }
            }
            let Some((pattern, match_end)) = found else {
                break;
            };
            let match_start = match_end - dfa.pattern_len(pattern);
            let id = pattern.as_usize();
            // A keyword longer than SHORT_KEYWORD_LEN also starts a word after `_`: the
            // words of a snake_case name (`db_password`, `customer_email`); a short one
            // only if it names a field on its own (`patient_mrn`, `card_cvv`), not
            // `conn_cid`, `math_sin` or `owner_uid`.
            let after_underscore = |word: &str| {
                (word.len() > SHORT_KEYWORD_LEN || SHORT_FIELD_WORDS.contains(&word))
                    && match_start
                        .checked_sub(1)
                        .and_then(|i| text.as_bytes().get(i))
                        == Some(&b'_')
            };
            // A keyword run together from several words (`dateofbirth`) ends its word,
            // or the camel-case part of one: `DateOfBirth`, not `taxidermy`.
            let joined_ends = || {
                !self.joined.get(id).copied().unwrap_or(false)
                    || !text
                        .as_bytes()
                        .get(match_end)
                        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            };
            let camel = |word: &str| {
                self.camel.get(id).copied().unwrap_or(false)
                    && (word.len() > SHORT_KEYWORD_LEN || SHORT_FIELD_WORDS.contains(&word))
                    && camel_field_start(text.as_bytes(), match_start, match_end)
            };
            if let (Some(word), Some(groups)) = (self.words.get(id), self.groups.get(id))
                && (super::word_boundary_before(text, match_start)
                    || after_underscore(word)
                    || camel(word))
                && (word.len() > SHORT_KEYWORD_LEN || is_short_word(text, match_start, match_end))
                && joined_ends()
            {
                out.push(KeywordHit {
                    start: match_start,
                    end: match_end,
                    word,
                    groups: *groups,
                });
                at = match_end;
            } else {
                // A match that is no word hides none that starts inside it: `soc sec`
                // read across `…4SoC Secret=` must leave `Secret` to be found.
                at = match_start + 1;
            }
        }
    }
}

/// How long the head of a camel-case name may be (`patientEmergencyContact` before
/// `Phone`): a longer run of letters and digits is a token, not a name.
const CAMEL_HEAD_REACH: usize = 40;

/// Whether `start..end` is the last camel-case part of an identifier: a capital after a
/// lowercase letter, and nothing of the identifier after it (`patientMrn`,
/// `DeviceImei`, `clientSecret`, `WebhookSecret=`). A keyword there names the field as
/// it would after `_` (`patient_mrn`); inside the identifier (`passwordHash`,
/// `accessTokenExpiry`) it names something else.
pub(crate) fn camel_field_start(bytes: &[u8], start: usize, end: usize) -> bool {
    // The identifier's head is a name: letters, not a random token's run of letters
    // and digits (`…QCHvpSsn` in a key).
    let head = bytes[..start.min(bytes.len())]
        .iter()
        .rev()
        .take(CAMEL_HEAD_REACH + 1)
        .take_while(|b| b.is_ascii_alphanumeric())
        .copied();
    let (mut len, mut digits) = (0, 0);
    for b in head {
        len += 1;
        digits += usize::from(b.is_ascii_digit());
    }
    len <= CAMEL_HEAD_REACH
        && digits == 0
        && bytes.get(start).is_some_and(u8::is_ascii_uppercase)
        && start
            .checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(u8::is_ascii_lowercase)
        && !bytes
            .get(end)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The lists whose words never start at a camel-case part: names and the words around
/// them (`McDonald` holds no given name), terms read in prose, and words that are no
/// field's name.
const NO_CAMEL_LISTS: &[&[&str]] = &[
    super::personal::GIVEN_NAMES,
    super::personal::NAME_WORDS,
    super::personal::TITLES,
    super::personal::ADDRESS_WORDS,
    super::health::DIAGNOSIS_TERMS,
    super::health::MEDICATION_TERMS,
    super::network::VERSION_WORDS,
];

/// The spellings a keyword of several words gets as an identifier, lowercase: joined by
/// `_` and by `-`, and run together (`date_of_birth`, `date-of-birth`, `dateofbirth`,
/// which the case-insensitive search also finds as `dateOfBirth`, `DateOfBirth` and
/// `DATE_OF_BIRTH`'s sibling `DATEOFBIRTH`). Only for words of ASCII letters and single
/// spaces; none for a single word.
pub(crate) fn identifier_spellings(word: &str) -> Vec<String> {
    let parts: Vec<&str> = word.split(' ').collect();
    if parts.len() < 2
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Vec::new();
    }
    let lower = word.to_ascii_lowercase();
    vec![
        lower.replace(' ', "_"),
        lower.replace(' ', "-"),
        lower.replace(' ', ""),
    ]
}

/// The identifier spellings run together of the words of `list` (see
/// [`identifier_spellings`]).
pub(crate) fn identifier_spellings_of(list: &[&str]) -> Vec<String> {
    list.iter()
        .filter_map(|w| identifier_spellings(w).pop())
        .collect()
}

/// Whether a short keyword at `start..end` is a word of its own, not letters inside a
/// longer token:
///
/// - it ends its word: what follows is not a letter or digit, or is a plural `s`
///   (`SSNs`, `cvvs`), a capital after a lowercase letter (camel case: `dobValue`,
///   `ssnLast4`) or digits (`cvv123`, `dob19850314`);
/// - when letters or digits follow it, it is written in one case or capitalised, and
///   what follows is not random: `CIdNFxfa8cd4` and `Cvc9jv3oDPL5` open passwords, and
///   `mRnHbVys…` holds no MRN word (see [`looks_random`]);
/// - it does not follow a `+`, `/` or `=` inside a long random token: `+Mr` and `/Dr`
///   end base64 keys, while `DOB/SSN`, `exp/cvv` and `PatientName/DOB` are words.
///
/// A keyword standing alone is a word in any case (`DoB`, `sSn`). A keyword that does
/// not end in a letter (`dl#`, `mr `) always ends its word.
fn is_short_word(text: &str, start: usize, end: usize) -> bool {
    let (Some(word), Some(head), Some(tail)) =
        (text.get(start..end), text.get(..end), text.get(end..))
    else {
        return true;
    };
    if after_symbol_in_random_token(text.as_bytes(), start)
        || in_hex_group(text.as_bytes(), start, end)
    {
        return false;
    }
    let Some(last) = head.chars().next_back() else {
        return true;
    };
    if !last.is_alphabetic() {
        return true;
    }
    let mut rest = tail.chars();
    let glued = match rest.next() {
        None => return true,
        Some('s') if !rest.next().is_some_and(char::is_alphanumeric) => return true,
        Some(next) if next.is_ascii_digit() => true,
        Some(next) if next.is_uppercase() && last.is_lowercase() => true,
        Some(next) => return !next.is_alphanumeric(),
    };
    let mut letters = word.bytes().filter(u8::is_ascii_alphabetic);
    let first_upper = letters.next().is_some_and(|b| b.is_ascii_uppercase());
    let rest: Vec<bool> = letters.map(|b| b.is_ascii_uppercase()).collect();
    let one_case = rest.iter().all(|&u| u == first_upper) || rest.iter().all(|&u| !u);
    glued && one_case && !looks_random(tail.as_bytes())
}

/// Whether `start..end` lies in a group of hex digits, with a digit in it, that a dash
/// joins to the next or previous group, or a colon to the previous one (`::` to the
/// next): a UUID's, a MAC's or an IPv6 address's group, `aba4` in
/// `de8ed541-989b-4023-aba4-9b6d34caca24` or `aba6` in `2001:db8:dd30::aba6:de05`, not
/// the word `ABA` (nor a numbered label, `ABA1:021000021`).
fn in_hex_group(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = bytes.get(..start).unwrap_or_default();
    let from = start
        - before
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
    let to = end
        + bytes
            .get(end..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
    let group = bytes.get(from..to).unwrap_or_default();
    group.iter().all(u8::is_ascii_hexdigit)
        && group.iter().any(u8::is_ascii_digit)
        && (from
            .checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(|b| matches!(b, b'-' | b':'))
            || bytes.get(to) == Some(&b'-')
            || bytes.get(to..to + 2) == Some(b"::"))
}

/// Whether the letters and digits that open `tail` change between lower case, upper
/// case and digits three times or more (a capital followed by lower case is one word,
/// not a change): `Last4`, `ISO8601` and `MMYY` read as words, `9jv3oDPL5` and
/// `XleJx77i7` as random characters.
fn looks_random(tail: &[u8]) -> bool {
    let class = |b: u8| match b {
        b'a'..=b'z' => 0u8,
        b'A'..=b'Z' => 1,
        _ => 2,
    };
    let mut changes = 0;
    let mut previous: Option<u8> = None;
    for &b in tail.iter().take_while(|b| b.is_ascii_alphanumeric()) {
        let c = class(b);
        if let Some(p) = previous
            && p != c
            && !(p == 1 && c == 0)
        {
            changes += 1;
        }
        previous = Some(c);
    }
    changes >= 3
}

/// Whether the byte before `start` is a `+`, `/` or `=` inside a run of base64 bytes
/// (letters, digits, `+ / =`) of 16 or more that holds a digit and both cases: the
/// end of a key (`…D07zJx+mR`), not a list of words (`Expiration/CVV`, `12/27/CVV`).
fn after_symbol_in_random_token(bytes: &[u8], start: usize) -> bool {
    let base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    if !start
        .checked_sub(1)
        .and_then(|i| bytes.get(i))
        .is_some_and(|b| matches!(b, b'+' | b'/' | b'='))
    {
        return false;
    }
    let before = bytes.get(..start).unwrap_or_default();
    let from = start - before.iter().rev().take_while(|b| base64(b)).count();
    let to = start
        + bytes
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| base64(b))
            .count();
    let token = bytes.get(from..to).unwrap_or_default();
    token.len() >= 16
        && token.iter().any(u8::is_ascii_digit)
        && token.iter().any(u8::is_ascii_uppercase)
        && token.iter().any(u8::is_ascii_lowercase)
}

/// The hits of one text computed so far: every hit inside `spans`, in order.
#[derive(Debug, Default)]
pub(crate) struct HitCache {
    /// Disjoint spans, sorted, each from one safe point to another.
    spans: Vec<(usize, usize)>,
    /// Every hit inside `spans`, sorted by start (hence by end).
    hits: Vec<KeywordHit>,
    /// Hits moved by out-of-order inserts so far (see [`HitCache::ensure`]).
    moved: usize,
    /// The span index found by the last search (a hint for the next one).
    cursor: usize,
}

impl HitCache {
    /// The hits computed so far.
    pub fn hits(&self) -> &[KeywordHit] {
        &self.hits
    }

    /// Forgets every hit, keeping the allocations.
    fn clear(&mut self) {
        self.spans.clear();
        self.hits.clear();
        self.moved = 0;
        self.cursor = 0;
    }

    /// `self.spans.partition_point(|s| s.1 <= pos)`: searched forward from the previous
    /// answer when every span before it ends at or before `pos` (spans are sorted and
    /// disjoint), as when ranges come in text order; over all spans otherwise.
    fn span_index(&mut self, pos: usize) -> usize {
        let cursor = self.cursor.min(self.spans.len());
        let k = if cursor
            .checked_sub(1)
            .and_then(|p| self.spans.get(p))
            .is_none_or(|s| s.1 <= pos)
        {
            crate::scan::gallop(&self.spans, cursor, |s| s.1 <= pos)
        } else {
            self.spans.partition_point(|s| s.1 <= pos)
        };
        self.cursor = k;
        k
    }

    /// Makes sure every hit that overlaps `lo..hi` of `text` is known.
    pub fn ensure(&mut self, text: &str, lo: usize, hi: usize) {
        let index = &*KEYWORD_INDEX;
        let bytes = text.as_bytes();
        let n = bytes.len();
        let hi = hi.min(n);
        let mut pos = lo;
        while pos < hi {
            let k = self.span_index(pos);
            let next = self.spans.get(k).copied();
            if let Some((s, e)) = next
                && s <= pos
            {
                pos = e;
                continue;
            }
            let floor = k
                .checked_sub(1)
                .and_then(|j| self.spans.get(j))
                .map_or(0, |s| s.1);
            let ceil = next.map_or(n, |s| s.0);
            let start = index.safe_at_or_before(bytes, pos, floor);
            let end = if hi >= ceil {
                ceil
            } else {
                index.safe_at_or_after(bytes, hi, ceil)
            };
            let at = self.hits.partition_point(|h| h.start < start);
            self.moved += self.hits.len() - at;
            let mut found = Vec::new();
            index.scan_span(text, start, end, &mut found);
            self.hits.splice(at..at, found);
            self.insert_span(k, start, end);
            pos = end;
        }
        // Many inserts in the middle cost more than one pass over the text: do that pass.
        if self.moved > n / 16 + 1024 && !self.is_whole(n) {
            self.resolve_whole(text);
        }
    }

    /// Whether every hit of a text of `n` bytes is known.
    fn is_whole(&self, n: usize) -> bool {
        self.spans == [(0, n)]
    }

    /// Makes every hit of `text` known, in one pass.
    fn resolve_whole(&mut self, text: &str) {
        self.hits.clear();
        KEYWORD_INDEX.scan_span(text, 0, text.len(), &mut self.hits);
        self.spans.clear();
        self.spans.push((0, text.len()));
    }

    /// [`HitCache::ensure`] for many ranges at once, with one merge at the end instead
    /// of one insert per range (which moves every later hit when ranges come back to
    /// the start of the text, as each kind of trigger anchor does).
    pub fn ensure_all(&mut self, text: &str, ranges: &mut [(usize, usize)]) {
        let index = &*KEYWORD_INDEX;
        let bytes = text.as_bytes();
        let n = bytes.len();
        if self.is_whole(n) {
            return;
        }
        // So many ranges that resolving each costs more than one pass: a long text dense
        // with candidates (about one range per line of a records export).
        if n > WHOLE_TEXT_SEARCH_FROM && ranges.len().saturating_mul(DENSE_RANGE_BYTES) >= n {
            self.resolve_whole(text);
            return;
        }
        ranges.sort_unstable();
        let mut fresh_spans: Vec<(usize, usize)> = Vec::new();
        let mut fresh_hits: Vec<KeywordHit> = Vec::new();
        // Everything before `done` that needed computing has been computed.
        let mut done = 0;
        for &(lo, hi) in ranges.iter() {
            let hi = hi.min(n);
            let mut pos = lo.max(done);
            while pos < hi {
                let k = self.span_index(pos);
                let next = self.spans.get(k).copied();
                if let Some((s, e)) = next
                    && s <= pos
                {
                    pos = e;
                    continue;
                }
                let floor = k
                    .checked_sub(1)
                    .and_then(|j| self.spans.get(j))
                    .map_or(0, |s| s.1)
                    .max(done);
                let ceil = next.map_or(n, |s| s.0);
                let start = index.safe_at_or_before(bytes, pos, floor);
                let end = if hi >= ceil {
                    ceil
                } else {
                    index.safe_at_or_after(bytes, hi, ceil)
                };
                index.scan_span(text, start, end, &mut fresh_hits);
                match fresh_spans.last_mut() {
                    Some(last) if last.1 == start => last.1 = end,
                    _ => fresh_spans.push((start, end)),
                }
                pos = end;
                done = end;
            }
            done = done.max(pos);
        }
        if fresh_spans.is_empty() {
            return;
        }
        // Both lists are sorted and their spans disjoint: one merge of each.
        let old_hits = std::mem::take(&mut self.hits);
        self.hits = merge_by(old_hits, fresh_hits, |h| h.start);
        let old_spans = std::mem::take(&mut self.spans);
        for span in merge_by(old_spans, fresh_spans, |s| s.0) {
            match self.spans.last_mut() {
                Some(last) if last.1 == span.0 => last.1 = span.1,
                _ => self.spans.push(span),
            }
        }
    }

    /// Inserts `start..end` before `spans[k]`, merging it with touching neighbours.
    fn insert_span(&mut self, k: usize, start: usize, end: usize) {
        let joins_before = k
            .checked_sub(1)
            .and_then(|j| self.spans.get(j))
            .is_some_and(|s| s.1 == start);
        let joins_after = self.spans.get(k).is_some_and(|s| s.0 == end);
        match (joins_before, joins_after) {
            (true, true) => {
                let after = self.spans.remove(k);
                if let Some(s) = self.spans.get_mut(k - 1) {
                    s.1 = after.1;
                }
            }
            (true, false) => {
                if let Some(s) = self.spans.get_mut(k - 1) {
                    s.1 = end;
                }
            }
            (false, true) => {
                if let Some(s) = self.spans.get_mut(k) {
                    s.0 = start;
                }
            }
            (false, false) => self.spans.insert(k, (start, end)),
        }
    }
}

/// The items of two lists sorted by `key`, in one sorted list.
fn merge_by<T>(mut a: Vec<T>, b: Vec<T>, key: impl Fn(&T) -> usize) -> Vec<T> {
    // The usual case, `b` after all of `a`: no merge needed.
    if a.last()
        .is_none_or(|x| b.first().is_none_or(|y| key(x) <= key(y)))
    {
        a.extend(b);
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x) <= key(y),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
    out
}

/// Where context words were seen around a candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Context {
    /// A word ends within the window before the candidate.
    pub before: bool,
    /// A word starts within the window after the candidate.
    pub after: bool,
}

impl Context {
    /// Any side.
    pub fn any(self) -> bool {
        self.before || self.after
    }

    /// `base` raised for context: +0.1 before, +0.05 after, at most 0.99.
    pub fn boost(self, base: f32) -> f32 {
        let mut c = base;
        if self.before {
            c += 0.1;
        }
        if self.after {
            c += 0.05;
        }
        c.min(0.99)
    }
}

/// Start and end of each match of a finder.
type Spans = Vec<(usize, usize)>;

/// Lazily computed keyword hits of one text (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Keywords {
    cache: RefCell<HitCache>,
    /// The text with ASCII letters lowercased, once asked for.
    lowercase: OnceCell<Vec<u8>>,
    /// An allocation for `lowercase`, left by a previous text.
    spare_lowercase: RefCell<Vec<u8>>,
    /// Per registered list, once asked: the matches of its finder, in order.
    occurrences: RefCell<Vec<Option<Spans>>>,
    /// Per registered list: where its last search of `occurrences` started (a hint).
    occurrence_cursors: RefCell<Vec<usize>>,
    /// Per registered list: context questions asked about it in a long text.
    questions: RefCell<Vec<u32>>,
    /// Registered lists (by bit) whose every match's runs are resolved.
    resolved: Cell<u64>,
    /// Where the last context question's hits started (a hint for the next one).
    hit_cursor: Cell<usize>,
    /// Once every hit is known: the bits of the lists with a word in the text.
    present: Cell<Option<u64>>,
    /// The last table row a header was found for (see [`header_cell`]).
    table_row: Cell<Option<TableRow>>,
    /// The cells of the last table row looked at.
    row_cells: RefCell<RowCells>,
}

impl Keywords {
    /// Forgets the text, keeping the larger allocations for the next one.
    pub fn clear(&mut self) {
        self.cache.get_mut().clear();
        if let Some(lowercase) = self.lowercase.take() {
            self.spare_lowercase.replace(lowercase);
        }
        self.occurrences.get_mut().clear();
        self.occurrence_cursors.get_mut().clear();
        self.questions.get_mut().clear();
        self.resolved.set(0);
        self.hit_cursor.set(0);
        self.present.set(None);
        self.table_row.set(None);
        *self.row_cells.get_mut() = RowCells::default();
    }

    /// The header cell of the table column whose cell `start..end` fills (see
    /// [`header_cell`]).
    pub fn header_cell(&self, text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
        header_cell(
            text.as_bytes(),
            start,
            end,
            &self.table_row,
            &self.row_cells,
        )
    }

    /// Bytes held by the allocations kept by [`Keywords::clear`].
    pub fn capacity_bytes(&mut self) -> usize {
        let cache = self.cache.get_mut();
        cache.hits.capacity() * std::mem::size_of::<KeywordHit>()
            + cache.spans.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.spare_lowercase.get_mut().capacity()
            + self.lowercase.get().map_or(0, Vec::capacity)
    }

    /// Makes sure every hit overlapping `lo..hi` is known.
    pub fn ensure(&self, text: &str, lo: usize, hi: usize) {
        self.cache.borrow_mut().ensure(text, lo, hi);
    }

    /// Makes sure every hit overlapping any of `ranges` is known (reorders `ranges`).
    pub fn ensure_all(&self, text: &str, ranges: &mut [(usize, usize)]) {
        self.cache.borrow_mut().ensure_all(text, ranges);
    }

    /// Every hit known so far, in order, copied into the (cleared) allocation of `into`.
    pub fn known_hits_in(&self, mut into: Vec<KeywordHit>) -> Vec<KeywordHit> {
        into.clear();
        into.extend_from_slice(self.cache.borrow().hits());
        into
    }

    /// `text` with ASCII letters lowercased (same length, same offsets), computed once.
    pub fn lowercase(&self, text: &str) -> &[u8] {
        self.lowercase.get_or_init(|| {
            let mut lowercase = self.spare_lowercase.take();
            lowercase.clear();
            // One pass that copies and lowercases (branch-free, so it vectorises).
            lowercase.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
            lowercase
        })
    }

    /// Calls `each(start, end)` for the matches of `list`'s finder in `text` that
    /// overlap `lo..hi`, in order. Every occurrence of one of the list's words inside
    /// `lo..hi` overlaps one of them.
    fn list_matches(
        &self,
        text: &str,
        list: &ListInfo,
        lo: usize,
        hi: usize,
        mut each: impl FnMut(usize, usize),
    ) {
        let Some(finder) = &list.finder else {
            return;
        };
        let mut occurrences = self.occurrences.borrow_mut();
        if occurrences.len() <= list.id {
            occurrences.resize(list.id + 1, None);
        }
        let Some(slot) = occurrences.get_mut(list.id) else {
            return;
        };
        let found = slot.get_or_insert_with(|| finder.find_all(self.lowercase(text)));
        // Matches are in order and do not overlap, so in order of end too: search
        // forward from this list's previous answer when every match before it ends at or
        // before `lo` (questions mostly come in text order), else over all of them.
        let mut cursors = self.occurrence_cursors.borrow_mut();
        if cursors.len() <= list.id {
            cursors.resize(list.id + 1, 0);
        }
        let cursor = cursors.get(list.id).copied().unwrap_or(0).min(found.len());
        let first = if cursor
            .checked_sub(1)
            .and_then(|p| found.get(p))
            .is_none_or(|o| o.1 <= lo)
        {
            crate::scan::gallop(found, cursor, |o| o.1 <= lo)
        } else {
            found.partition_point(|o| o.1 <= lo)
        };
        if let Some(c) = cursors.get_mut(list.id) {
            *c = first;
        }
        drop(cursors);
        for &(s, e) in found.get(first..).unwrap_or_default() {
            if s >= hi {
                break;
            }
            each(s, e);
        }
    }

    /// Whether none of `words` occurs anywhere in `text`, so that every context question
    /// about them is answered "no". Known only for a registered list in a long text,
    /// where the first question searches the whole text for the list's words (the
    /// answer is that search's, kept for the other questions); when no question has
    /// yet, the search runs now if `search`, else the answer is `false`.
    pub fn absent(&self, text: &str, words: &[&str], search: bool) -> bool {
        if text.len() <= WHOLE_TEXT_SEARCH_FROM {
            return false;
        }
        let Some(list) = KEYWORD_INDEX.list(words) else {
            return false;
        };
        let Some(finder) = &list.finder else {
            return true;
        };
        if let Some(present) = self.present_when_whole(text) {
            return present & list.bit == 0;
        }
        let mut occurrences = self.occurrences.borrow_mut();
        if occurrences.len() <= list.id {
            occurrences.resize(list.id + 1, None);
        }
        let Some(slot) = occurrences.get_mut(list.id) else {
            return false;
        };
        if slot.is_none() && !search {
            return false;
        }
        slot.get_or_insert_with(|| finder.find_all(self.lowercase(text)))
            .is_empty()
    }

    /// When every hit of `text` is known: the bits of the lists with a word in it.
    fn present_when_whole(&self, text: &str) -> Option<u64> {
        if let Some(present) = self.present.get() {
            return Some(present);
        }
        let cache = self.cache.borrow();
        if !cache.is_whole(text.len()) {
            return None;
        }
        let present = cache.hits().iter().fold(0, |bits, h| bits | h.groups);
        self.present.set(Some(present));
        Some(present)
    }

    /// Counts a context question about `list` in a long text. From the
    /// [`BATCH_AFTER_QUESTIONS`]th on, the runs around every match of the list's words
    /// are resolved at once, in one merge: a text asked that often about one list is
    /// dense with its candidates, and resolving each run as a question reaches it would
    /// insert it amid the runs other lists' questions resolved (moving every later hit,
    /// until the cache gives up and runs the automaton over the whole text).
    fn count_question(&self, text: &str, list: &ListInfo) {
        if self.resolved.get() & list.bit != 0 {
            return;
        }
        let due = {
            let mut questions = self.questions.borrow_mut();
            if questions.len() <= list.id {
                questions.resize(list.id + 1, 0);
            }
            questions.get_mut(list.id).is_some_and(|n| {
                *n += 1;
                *n >= BATCH_AFTER_QUESTIONS
            })
        };
        if !due {
            return;
        }
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        self.list_matches(text, list, 0, text.len(), |s, e| ranges.push((s, e)));
        self.ensure_all(text, &mut ranges);
        self.resolved.set(self.resolved.get() | list.bit);
    }

    /// Whether one of `words` ends in the `before` bytes before `start` or starts in the
    /// `after` bytes after `end`, in the same sentence.
    pub fn context_within(
        &self,
        text: &str,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        words: &[&str],
    ) -> Context {
        let bytes = text.as_bytes();
        // A quoted key names a value and is none (`"track1": …` after an `mrn` field).
        let quote = bytes.get(end).filter(|q| matches!(q, b'"' | b'\''));
        if quote.is_some()
            && bytes.get(end + 1) == Some(&b':')
            && start.checked_sub(1).and_then(|i| bytes.get(i)) == quote
        {
            return Context::default();
        }
        let context = self.context_near(text, start, end, before, after, words);
        if context.any() {
            // A field's name is no value: a log line's key (`STEUERID=…` after `BIC=…`),
            // an XML tag's (`<track1>` after `<mrn>…</mrn>`), a name in an SQL insert's
            // column list (`(STEUERID, AMOUNT, SWIFT)`).
            if names_a_field(bytes, start, end) {
                return Context::default();
            }
            // A cell of a table's header is the name of a column, not a value
            // (`PATIENT_MRN,ORDER_ID,TRACK1`).
            if let Some(TableCell::Row {
                from,
                to,
                sep,
                cells: n,
                ..
            }) = table_cell(bytes, start, end, &self.row_cells)
                && heads_table(bytes, from, to, sep, n)
            {
                return Context::default();
            }
            return context;
        }
        // A value that fills a cell of a table (CSV, a Markdown table, an SQL insert)
        // is labelled by its column's header, wherever that is.
        match self.header_cell(text, start, end) {
            Some((lo, hi)) => Context {
                before: self.context_near(text, hi, hi, hi - lo, 0, words).before,
                after: false,
            },
            None => context,
        }
    }

    /// [`Keywords::context_within`] from the words around the value alone.
    fn context_near(
        &self,
        text: &str,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        words: &[&str],
    ) -> Context {
        let from = start.saturating_sub(before);
        let to = end.saturating_add(after);
        let list = KEYWORD_INDEX.list(words);
        // Only the words of registered lists are keywords: an unregistered list's other
        // words would silently never be seen.
        debug_assert!(list.is_some(), "unregistered context list {words:?}");
        // A hit that counts is a word of the list ending at or after `from` and starting
        // before `to`: it lies within the window widened by the list's longest word, in
        // the run of a finder match near the window. No match, no context.
        let reach = list.map_or(MAX_KEYWORD_LEN, |l| l.longest);
        let whole = self.cache.borrow().is_whole(text.len());
        match list {
            // Every hit is known: they answer.
            _ if whole => {}
            // In a short text, searching the window costs less than searching the whole
            // text once.
            Some(list) if text.len() <= WHOLE_TEXT_SEARCH_FROM => {
                let Some(finder) = &list.finder else {
                    return Context::default();
                };
                let (lo, hi) = (from.saturating_sub(reach), to.saturating_add(reach));
                let mut seen = false;
                finder.for_each_in(self.lowercase(text), lo, hi, |s, e| {
                    self.ensure(text, s, e);
                    seen = true;
                });
                if !seen {
                    return Context::default();
                }
            }
            // Every occurrence of the list's words is resolved (a text dense with its
            // candidates): the known hits answer.
            Some(list) if self.resolved.get() & list.bit != 0 => {}
            Some(list) => {
                self.count_question(text, list);
                let (lo, hi) = (from.saturating_sub(list.longest), to + list.longest);
                let mut seen = false;
                self.list_matches(text, list, lo, hi, |s, e| {
                    self.ensure(text, s, e);
                    seen = true;
                });
                if !seen {
                    return Context::default();
                }
            }
            None => self.ensure(
                text,
                from.saturating_sub(MAX_KEYWORD_LEN),
                to.saturating_add(MAX_KEYWORD_LEN),
            ),
        }
        let is_in = |hit: &KeywordHit| match list {
            Some(list) => hit.groups & list.bit != 0,
            None => words.contains(&hit.word),
        };
        let mut context = Context::default();
        let cache = self.cache.borrow();
        let hits = cache.hits();
        // Hits are in order of end; a word of the list is at most `reach` bytes long, so
        // one that ends at `to + reach` or later starts at `to` or later.
        // Questions mostly come in text order: search forward from the previous answer
        // when every hit before it ends before `from` (hits are in order of end), else
        // over all hits.
        let cursor = self.hit_cursor.get().min(hits.len());
        let first = if cursor
            .checked_sub(1)
            .and_then(|p| hits.get(p))
            .is_none_or(|h| h.end < from)
        {
            crate::scan::gallop(hits, cursor, |h| h.end < from)
        } else {
            hits.partition_point(|h| h.end < from)
        };
        self.hit_cursor.set(first);
        for hit in hits.get(first..).unwrap_or_default() {
            if hit.end >= to.saturating_add(reach) {
                break;
            }
            if !is_in(hit) {
                continue;
            }
            if hit.end <= start
                && hit.end >= from
                && !crosses_sentence(text, hit.end, start)
                && !crosses_field(
                    text.as_bytes(),
                    hit.end,
                    start,
                    in_tag_name(text.as_bytes(), hit.start),
                )
            {
                context.before = true;
            }
            if hit.start >= end
                && hit.start < to
                && !crosses_sentence(text, end, hit.start)
                && !crosses_field(
                    text.as_bytes(),
                    end,
                    key_end(text.as_bytes(), hit.start, hit.end),
                    in_tag_name(text.as_bytes(), hit.start),
                )
            {
                context.after = true;
            }
        }
        context
    }
}

/// Abbreviations of `number` written with a point (`No.`, `Nr.`, `IdNr.`), compared
/// ignoring ASCII case.
const NUMBER_ABBREVIATIONS: &[&str] = &["no", "nr", "nro", "num", "nbr", "idnr", "stnr"];

/// Whether a sentence ends between `from` and `to` (`. `, `! `, `? `, a newline):
/// context words belong to their own sentence. A label that ends its line with a colon
/// names what starts the next line (`Date of birth:` above `12/03/1980`, as forms and
/// e-mails are laid out): that one line break ends no sentence.
pub(crate) fn crosses_sentence(text: &str, from: usize, to: usize) -> bool {
    let bytes = text.as_bytes();
    let Some(gap) = bytes.get(from..to) else {
        return true;
    };
    // `No.` and `Nr.` (`NHS No. 943 476 5919`, `PESEL nr. 44051401359`) abbreviate
    // `number`, and `D.O.B.` is initials: their point ends no sentence.
    // Only right after the label (`NHS No.`, `IdNr.`): in `… answer was no. 943 …` the
    // point ends a sentence.
    let abbreviation = |dot: usize| {
        // At most one letter more than the longest abbreviation is read back.
        let word = bytes[..dot]
            .iter()
            .rev()
            .take(5)
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        if word > 4 {
            return false;
        }
        let after_label = bytes
            .get(from..dot - word)
            .is_none_or(|between| between.iter().all(|&b| b == b' '));
        if !after_label {
            return false;
        }
        // Or the last letter of initials (`D.O.B.`, `S.S.N.`).
        let initials = word == 1 && dot >= 2 && bytes.get(dot - 2) == Some(&b'.');
        initials
            || bytes.get(dot - word..dot).is_some_and(|w| {
                NUMBER_ABBREVIATIONS
                    .iter()
                    .any(|a| a.as_bytes().eq_ignore_ascii_case(w))
            })
    };
    let ends_sentence = |gap: &[u8]| {
        gap.windows(2).enumerate().any(|(i, w)| match w {
            [b'.', b' '] => !abbreviation(from + i),
            [b'!' | b'?', b' '] => true,
            _ => false,
        })
    };
    match gap.iter().position(|&b| b == b'\n') {
        None => ends_sentence(gap),
        Some(nl) => {
            let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
            let label = gap[..nl].trim_ascii_end();
            !(label.ends_with(b":") && !ends_sentence(label) && gap[nl + 1..].iter().all(blank))
        }
    }
}

/// How far back a table's header or a cell's line is looked for.
const TABLE_REACH: usize = 2048;

/// How many rows above a cell its table's header is looked for.
const TABLE_ROWS: usize = 64;

/// The longest cell, in bytes, of a row above a cell that is still taken for a row of
/// its table (a header or data row, not a sentence with as many commas); nor may such
/// a cell hold more than four spaces.
const TABLE_CELL: usize = 64;

/// The cells of one line of a table: the line `bytes[from..to]` split at `sep` outside
/// double quotes, each cell trimmed of spaces and quotes.
fn cells(bytes: &[u8], from: usize, to: usize, sep: u8) -> Vec<(usize, usize)> {
    split_quoted(bytes, from, to, sep, b"\"")
}

/// The quotes of SQL: strings and quoted names.
const SQL_QUOTES: &[u8] = b"'\"";

/// `bytes[from..to]` split at `sep` outside the quotes of `quotes` (a quote is closed
/// by the same byte), each cell trimmed of spaces and quotes.
fn split_quoted(
    bytes: &[u8],
    from: usize,
    to: usize,
    sep: u8,
    quotes: &[u8],
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut cell = from;
    let mut open: Option<u8> = None;
    for at in from..=to {
        let b = bytes.get(at).copied();
        if let Some(b) = b.filter(|b| quotes.contains(b)) {
            open = match open {
                None => Some(b),
                Some(q) if q == b => None,
                other => other,
            };
        }
        if at == to || (b == Some(sep) && open.is_none()) {
            let (mut lo, mut hi) = (cell, at);
            while lo < hi && matches!(bytes.get(lo), Some(b' ' | b'"' | b'\'')) {
                lo += 1;
            }
            while hi > lo && matches!(bytes.get(hi - 1), Some(b' ' | b'"' | b'\'' | b'\r')) {
                hi -= 1;
            }
            out.push((lo, hi));
            cell = at + 1;
        }
    }
    out
}

/// The tuples of an SQL insert's `VALUES` in `bytes[from..to]`: the span inside each
/// top-level pair of brackets, brackets and commas inside quoted strings ignored
/// (`('6646 Cedar Road, Springfield', '(303) 555-9967')`).
fn sql_tuples(bytes: &[u8], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut quote: Option<u8> = None;
    let mut open = None;
    let mut depth = 0usize;
    for at in from..to {
        let Some(&b) = bytes.get(at) else {
            break;
        };
        match quote {
            Some(q) => {
                if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' => {
                    if depth == 0 {
                        open = Some(at);
                    }
                    depth += 1;
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0
                        && let Some(o) = open.take()
                    {
                        out.push((o + 1, at));
                    }
                }
                _ => {}
            },
        }
    }
    out
}

/// The column list of the SQL insert whose `VALUES` starts at `values`, on the line
/// from `from`: the names between the last brackets before it.
fn sql_columns(bytes: &[u8], from: usize, values: usize) -> Option<Vec<(usize, usize)>> {
    let close = from + bytes.get(from..values)?.iter().rposition(|&b| b == b')')?;
    let open = from + bytes.get(from..close)?.iter().rposition(|&b| b == b'(')?;
    Some(split_quoted(bytes, open + 1, close, b',', SQL_QUOTES))
}

/// How far past its `VALUES` an SQL insert's tuples are read: a statement of many rows,
/// or with a multi-line value (a PEM key), spans lines.
const SQL_REACH: usize = 4 * TABLE_REACH;

/// The end of the tuples of the SQL insert whose `VALUES` keyword ends at `from`: its
/// `;` outside quotes, or the line break outside quotes and brackets that is not
/// followed by another tuple (`(…),` on the next line), within [`SQL_REACH`] bytes. A
/// quoted value may hold line breaks.
fn sql_statement_end(bytes: &[u8], from: usize) -> usize {
    let hi = (from + SQL_REACH).min(bytes.len());
    let mut quote: Option<u8> = None;
    let mut depth = 0usize;
    for at in from..hi {
        let Some(&b) = bytes.get(at) else {
            break;
        };
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b';' if depth == 0 => return at,
                b'\n' if depth == 0 => {
                    let next = bytes
                        .get(at + 1..hi)
                        .unwrap_or_default()
                        .iter()
                        .find(|b| !b.is_ascii_whitespace());
                    let tuple_follows = matches!(next, Some(b'(' | b','));
                    // `VALUES` then the tuples from the next line on.
                    let before = bytes.get(from..at).unwrap_or_default();
                    if !tuple_follows && before.iter().any(|b| !b.is_ascii_whitespace()) {
                        return at;
                    }
                }
                _ => {}
            },
        }
    }
    hi
}

/// The SQL insert whose tuples hold the value `start..end` on a line of its own
/// (`from..to`) that does not hold the insert's `VALUES`: a line that continues a
/// tuple or starts one (`  ('Jane', '123-45-6789'),`, `-----END RSA PRIVATE KEY-----',
/// '576817397');`). The line holding `VALUES` and where that keyword starts, if an
/// insert above reaches the value.
fn sql_insert_above(
    bytes: &[u8],
    start: usize,
    end: usize,
    from: usize,
    to: usize,
) -> Option<(usize, usize)> {
    let line = bytes.get(from..to)?.trim_ascii();
    let tuple_line = line.starts_with(b"(")
        || line.ends_with(b")")
        || line.ends_with(b");")
        || line.ends_with(b"),");
    if !tuple_line {
        return None;
    }
    let lo = from.saturating_sub(SQL_REACH);
    let mut line_to = from.checked_sub(1)?;
    for _ in 0..TABLE_ROWS {
        let line_from = bytes
            .get(lo..line_to)?
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let above = bytes.get(line_from..line_to)?;
        if let Some(v) = above
            .windows(6)
            .position(|w| w.eq_ignore_ascii_case(b"VALUES"))
        {
            let values = line_from + v;
            let holds_value = end <= sql_statement_end(bytes, values + 6)
                && sql_tuples(bytes, values + 6, to)
                    .iter()
                    .any(|&(o, c)| o <= start && end <= c);
            // The column list may be on the line above `VALUES` (`INSERT INTO t (a, b)`
            // then `VALUES` on its own line).
            let columns_from = if above.contains(&b')') {
                line_from
            } else {
                line_start(bytes, line_from.checked_sub(1)?)?
            };
            return holds_value.then_some((columns_from, values));
        }
        if line_from == lo {
            return None;
        }
        line_to = line_from - 1;
    }
    None
}

/// Whether the cells of a line read as prose, so that the line is no row of a table:
/// an unquoted cell of five words or more (`We are preparing the quarterly review`),
/// or, in a line whose last cell ends a sentence with `.`, of one word or more:
/// `Invoice INV-2022-812973 totals $4` and `853.85.` are the halves of a sentence with
/// a comma, not two cells. Words are runs of two letters or more between spaces;
/// numbers, codes and tokens (`+33 1 41 49 44 05`, `| sk-ant-api03-… |`) are data.
fn prose_row(bytes: &[u8], cells: &[(usize, usize)]) -> bool {
    let unquoted = |&(a, b): &(usize, usize)| {
        let quoted = a.checked_sub(1).and_then(|i| bytes.get(i)) == Some(&b'"');
        bytes.get(a..b).filter(|_| !quoted).unwrap_or_default()
    };
    let words = |cell: &[u8]| {
        cell.split(|&c| c == b' ')
            .map(|w| {
                let end = w
                    .iter()
                    .rposition(|c| !matches!(c, b'.' | b',' | b';' | b':' | b'!' | b'?'))
                    .map_or(0, |i| i + 1);
                w.get(..end).unwrap_or_default()
            })
            .filter(|w| w.len() >= 2 && w.iter().all(u8::is_ascii_alphabetic))
            .count()
    };
    let sentence_end = cells
        .last()
        .map(unquoted)
        .is_some_and(|c| c.last() == Some(&b'.'));
    let least = if sentence_end { 1 } else { 5 };
    cells.iter().map(unquoted).any(|cell| words(cell) >= least)
}

/// The start of the line holding `at`, if it is within [`TABLE_REACH`].
fn line_start(bytes: &[u8], at: usize) -> Option<usize> {
    let lo = at.saturating_sub(TABLE_REACH);
    match bytes.get(lo..at)?.iter().rposition(|&b| b == b'\n') {
        Some(i) => Some(lo + i + 1),
        None => (lo == 0).then_some(0),
    }
}

/// The end of the line holding `at`.
fn line_end(bytes: &[u8], at: usize) -> usize {
    let hi = (at + TABLE_REACH).min(bytes.len());
    bytes
        .get(at..hi)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        .map_or(hi, |i| at + i)
}

/// Where a value that fills a table cell is: an SQL insert's value, whose column's
/// name is found at once, or a row of a CSV, tab-separated or Markdown table.
enum TableCell {
    Header((usize, usize)),
    Row {
        /// The row's line.
        from: usize,
        to: usize,
        sep: u8,
        /// The cell's place in the row, and the row's number of cells.
        index: usize,
        cells: usize,
    },
}

/// The table a header was last found for: its header, and how far down its rows are
/// known. A later row walks up only to the last known row (rows asked about in text
/// order cost one walk over the table in all), and a row within it not at all.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableRow {
    sep: u8,
    cells: usize,
    /// The end of the last row known to be in the table.
    to: usize,
    /// The header's line.
    header: (usize, usize),
}

/// The header cell of the column whose cell `start..end` fills, when it fills one: a
/// CSV or tab-separated row under a header row with as many cells (the first line of
/// the block of such rows), a Markdown table row (the header above the `|---|` line),
/// or a value of an SQL insert (`INSERT INTO t (a, b) VALUES ('1', '2'), ('3', '4')`,
/// the column at its place). `None` for anything else, at the cost of a look at the
/// bytes around the value: a value in prose is never alone between separators.
/// `last` is the row this was last asked about in the text, and becomes this one.
pub(crate) fn header_cell(
    bytes: &[u8],
    start: usize,
    end: usize,
    last: &Cell<Option<TableRow>>,
    row_cells: &RefCell<RowCells>,
) -> Option<(usize, usize)> {
    let (from, to, sep, index, cells_in_row) = match table_cell(bytes, start, end, row_cells)? {
        TableCell::Header(cell) => return Some(cell),
        TableCell::Row {
            from,
            to,
            sep,
            index,
            cells,
        } => (from, to, sep, index, cells),
    };
    let known = last
        .get()
        .filter(|row| row.sep == sep && row.cells == cells_in_row && row.header.1 < from);
    let header = if sep == b'\n' && known.is_none_or(|row| from > row.to + 1) {
        column_header(bytes, from, row_cells)?
    } else {
        header_line(bytes, from, sep, cells_in_row, known)?
    };
    // The rows from the header to this one are all the table's now.
    let to = match known {
        Some(row) if row.header == header => row.to.max(to),
        _ => to,
    };
    last.set(Some(TableRow {
        sep,
        cells: cells_in_row,
        to,
        header,
    }));
    cells(bytes, header.0, header.1, sep).get(index).copied()
}

/// The cells of the last row split (see [`cells`]): its line's start, the separator,
/// and the cells, so that the other values of a row do not split it again.
#[derive(Debug, Default)]
pub(crate) struct RowCells {
    from: usize,
    to: usize,
    sep: u8,
    cells: Vec<(usize, usize)>,
    /// Whether the cells read as prose (see [`prose_row`]): the line is no row.
    prose: bool,
    /// The end of the last line found to be a row of one column with no header above
    /// it (see [`column_header`]): the row under it has none either, without walking up
    /// again.
    headless_to: Option<usize>,
}

impl RowCells {
    /// The cell of this row that holds `start..end`, as a [`TableCell::Row`]; none if
    /// the row reads as prose or no cell holds the span.
    fn cell(&self, start: usize, end: usize) -> Option<TableCell> {
        if self.prose {
            return None;
        }
        let at = self.cells.partition_point(|&(_, b)| b < end);
        let index = self
            .cells
            .get(at)
            .filter(|&&(a, b)| a <= start && end <= b)
            .map(|_| at)?;
        Some(TableCell::Row {
            from: self.from,
            to: self.to,
            sep: self.sep,
            index,
            cells: self.cells.len(),
        })
    }
}

/// Where the value `start..end` sits in a table, if it fills a cell of one.
fn table_cell(
    bytes: &[u8],
    start: usize,
    end: usize,
    row_cells: &RefCell<RowCells>,
) -> Option<TableCell> {
    // A value that crosses a line break fills no cell: the row it would split would be
    // two lines, and the cells of that split, kept for the row's other values, would
    // then give those the wrong columns.
    if bytes.get(start..end).is_some_and(|v| v.contains(&b'\n')) {
        return None;
    }
    // The value must fill its cell: separators (or the line's ends) around it, with
    // only spaces and quotes between.
    let mut lo = start;
    while lo > 0 && matches!(bytes.get(lo - 1), Some(b' ' | b'"' | b'\'')) {
        lo -= 1;
    }
    let mut hi = end;
    while matches!(bytes.get(hi), Some(b' ' | b'"' | b'\'' | b'\r')) {
        hi += 1;
    }
    let before = lo.checked_sub(1).and_then(|i| bytes.get(i)).copied();
    let after = bytes.get(hi).copied();
    let sep = match (before, after) {
        (Some(b @ (b',' | b'\t' | b'|' | b';')), _)
        | (None | Some(b'\n' | b'('), Some(b @ (b',' | b'\t' | b'|' | b';'))) => b,
        // A value alone on its line: the cell of a table of one column (the line
        // break is its separator; see `column_header`).
        (None | Some(b'\n'), None | Some(b'\n')) => b'\n',
        _ => return None,
    };
    if !matches!(after, None | Some(b'\n' | b')' | b';')) && after != Some(sep) {
        return None;
    }
    // A file delimited by `;` puts no space after it; a sentence's `;` has one.
    if sep == b';'
        && (bytes.get(lo..start).is_some_and(|g| g.contains(&b' '))
            || bytes.get(end..hi).is_some_and(|g| g.contains(&b' ')))
    {
        return None;
    }
    // A value of the row split last: its line is known, and is no SQL insert.
    {
        let row = row_cells.borrow();
        if row.sep == sep && row.from <= start && end <= row.to && !row.cells.is_empty() {
            return row.cell(start, end);
        }
    }
    let from = line_start(bytes, start)?;
    // An HL7 segment is no row of a table: its fields mean what their place says (see
    // `hl7.rs`), and a message's segments share no header.
    if sep == b'|' && super::hl7::segment_line(bytes.get(from..)?) {
        return None;
    }
    let to = line_end(bytes, end);
    let line = bytes.get(from..to)?;
    // An SQL insert: the column list before `VALUES`, the value's place in its tuple;
    // on the value's line, or on a line above when the tuples span lines.
    let insert = match line
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"VALUES"))
    {
        Some(v) if line.contains(&b'(') => Some((from, from + v)),
        Some(_) => None,
        None if sep == b',' => sql_insert_above(bytes, start, end, from, to),
        None => None,
    };
    if sep == b','
        && let Some((from, values)) = insert
    {
        if values >= start {
            return None;
        }
        // The value's tuple may close on a later line (a PEM key after the value).
        let statement_end = sql_statement_end(bytes, values + 6).max(to);
        let (open, close) = sql_tuples(bytes, values + 6, statement_end)
            .into_iter()
            .find(|&(o, c)| o <= start && end <= c)?;
        let index = split_quoted(bytes, open, close, b',', SQL_QUOTES)
            .iter()
            .position(|&(a, b)| a <= start && end <= b)?;
        return sql_columns(bytes, from, values)?
            .get(index)
            .copied()
            .map(TableCell::Header);
    }

    let mut row = row_cells.borrow_mut();
    if row.from != from || row.sep != sep || row.cells.is_empty() {
        let split = cells(bytes, from, to, sep);
        let prose = prose_row(bytes, &split);
        *row = RowCells {
            from,
            to,
            sep,
            cells: split,
            prose,
            headless_to: row.headless_to,
        };
    }
    row.cell(start, end)
}

/// Whether every cell of a line that may head a table holds a letter: a header names
/// its columns, and a line with a number in a cell is a row of values.
fn names_columns(bytes: &[u8], cells: &[(usize, usize)]) -> bool {
    cells.iter().all(|&(a, b)| {
        a == b
            || bytes
                .get(a..b)
                .is_some_and(|c| c.iter().any(u8::is_ascii_alphabetic))
    })
}

/// Whether the line `from..to`, split at `sep` into `n` cells, heads a table: a
/// Markdown line above its `|---|` line, or the first line, of three cells or more, of
/// a block of lines of `n` cells each (the line above has another count, or is prose).
fn heads_table(bytes: &[u8], from: usize, to: usize, sep: u8, n: usize) -> bool {
    let named = names_columns(bytes, &cells(bytes, from, to, sep));
    let below_from = to + 1;
    let Some(below) = bytes
        .get(below_from..line_end(bytes, below_from))
        .filter(|_| named)
    else {
        return false;
    };
    if markdown_row(bytes, from, to, sep) {
        let below = below.trim_ascii();
        return below.starts_with(b"|")
            && below.contains(&b'-')
            && below.iter().all(|b| matches!(b, b'|' | b'-' | b':' | b' '));
    }
    // Two cells may be a label and its value (`Bic<TAB>IKUQUSL2` above
    // `Track data<TAB>%B…`), as like a header and its row as can be: a header of two
    // cells is not told from them.
    if n < 3 {
        return false;
    }
    let row = |lo: usize, hi: usize| {
        let split = cells(bytes, lo, hi, sep);
        split.len() == n && !prose_row(bytes, &split)
    };
    let above = from
        .checked_sub(1)
        .and_then(|above_to| Some((line_start(bytes, above_to)?, above_to)));
    row(below_from, below_from + below.len()) && !above.is_some_and(|(lo, hi)| row(lo, hi))
}

/// Whether the line `from..to` of a table split at `sep` is a Markdown table's: split
/// at `|` and opening with one. A line of fields joined by `|` alone (`name|dob`, as
/// `psql -A` prints them) is a row of a delimited file, read as a CSV's.
fn markdown_row(bytes: &[u8], from: usize, to: usize, sep: u8) -> bool {
    sep == b'|'
        && bytes
            .get(from..to)
            .is_some_and(|l| l.trim_ascii_start().starts_with(b"|"))
}

/// The header line of the table whose row starts at `from`: walking up the rows of the
/// block (as many cells; Markdown: rows that start with `|`), its first line (Markdown:
/// the one above `|---|`).
fn header_line(
    bytes: &[u8],
    from: usize,
    sep: u8,
    cells_in_row: usize,
    known: Option<TableRow>,
) -> Option<(usize, usize)> {
    if let Some(row) = known
        && from <= row.to + 1
    {
        return Some(row.header);
    }
    let markdown = markdown_row(bytes, from, line_end(bytes, from), sep);
    let mut header = None;
    let mut line_from = from;
    // More than TABLE_ROWS rows up from the last known row, the header is not looked
    // for: each value would walk the whole table.
    for _ in 0..TABLE_ROWS {
        if line_from == 0 {
            return header;
        }
        let above_to = line_from - 1;
        if let Some(row) = known
            && above_to == row.to
        {
            return Some(row.header);
        }
        let above_from = line_start(bytes, above_to)?;
        let above = bytes.get(above_from..above_to)?;
        if markdown {
            let trimmed = above.trim_ascii();
            // A rule under the header: Markdown's `|---|`, a database client's
            // `+----+`.
            if rule_line(trimmed) {
                let header_to = above_from.checked_sub(1)?;
                let header_from = line_start(bytes, header_to)?;
                header = Some((header_from, header_to));
                return header;
            }
            if !trimmed.starts_with(b"|") {
                return header;
            }
        } else if rule_line(above.trim_ascii()) {
            // A rule under the header, as `psql` draws it (`----+-----`): the line
            // above it is the header when it names as many columns.
            let header_to = above_from.checked_sub(1)?;
            let header_from = line_start(bytes, header_to)?;
            let names = cells(bytes, header_from, header_to, sep);
            return (names.len() == cells_in_row && names_columns(bytes, &names))
                .then_some((header_from, header_to))
                .or(header);
        } else {
            // Excel's `sep=;` line above a header names the separator, not columns.
            if above.starts_with(b"sep=") {
                return header;
            }
            // A line of prose with as many commas is no row.
            let above = cells(bytes, above_from, above_to, sep);
            if above.len() != cells_in_row || prose_row(bytes, &above) {
                return header;
            }
            // A header names its columns: a line with a number in a cell
            // (`Medical record number<TAB>31152983` above `Track1<TAB>…`) is a row of
            // values, and heads nothing.
            header = names_columns(bytes, &above).then_some((above_from, above_to));
        }
        line_from = above_from;
    }
    None
}

/// The header of a table of one column whose row starts at `from` (a column of SSNs
/// exported alone, `psql`'s output of one column): up over rows of one value each (at
/// most [`TABLE_ROWS`]), the first line that names a column, right above the rows or
/// above a rule under it (`ssn` / `---------`). A line of anything else (prose, a
/// label with its value) ends the search with none.
fn column_header(
    bytes: &[u8],
    from: usize,
    row_cells: &RefCell<RowCells>,
) -> Option<(usize, usize)> {
    let to = line_end(bytes, from);
    let headless_to = row_cells.borrow().headless_to;
    if headless_to == Some(to) {
        return None;
    }
    let header = column_header_above(bytes, from, headless_to);
    if header.is_none() {
        row_cells.borrow_mut().headless_to = Some(to);
    }
    header
}

/// [`column_header`]'s walk up from the row at `from`; none as soon as it reaches the
/// line ending at `headless_to`.
fn column_header_above(
    bytes: &[u8],
    from: usize,
    headless_to: Option<usize>,
) -> Option<(usize, usize)> {
    let name = |line: &[u8]| {
        let line = line.trim_ascii();
        (2..=TABLE_CELL).contains(&line.len())
            && line.first().is_some_and(u8::is_ascii_alphabetic)
            && line.iter().all(|&b| is_key_byte(b) || b == b' ')
            && line.iter().filter(|&&b| b == b' ').count() <= 3
            && !line.iter().any(u8::is_ascii_digit)
    };
    let value = |line: &[u8]| {
        let line = line.trim_ascii();
        !line.is_empty()
            && line.len() <= TABLE_CELL
            && !line.contains(&b' ')
            && line.iter().any(u8::is_ascii_digit)
    };
    let line_above = |line_from: usize| -> Option<(usize, usize)> {
        let to = line_from.checked_sub(1)?;
        let to = if to > 0 && bytes.get(to - 1) == Some(&b'\r') {
            to - 1
        } else {
            to
        };
        Some((line_start(bytes, to)?, to))
    };
    let mut line_from = from;
    for _ in 0..TABLE_ROWS {
        if line_from.checked_sub(1) == headless_to {
            return None;
        }
        let (above_from, above_to) = line_above(line_from)?;
        let above = bytes.get(above_from..above_to)?;
        if rule_line(above.trim_ascii()) {
            let (header_from, header_to) = line_above(above_from)?;
            return name(bytes.get(header_from..header_to)?).then_some((header_from, header_to));
        }
        if name(above) {
            return Some((above_from, above_to));
        }
        if !value(above) {
            return None;
        }
        line_from = above_from;
    }
    None
}

/// Whether `line` (trimmed) is a table's rule: dashes or equals signs, with the bars,
/// pluses, colons and spaces of column bounds (`|---|:--|`, `+----+----+`, `----+---`,
/// `=== ===`).
fn rule_line(line: &[u8]) -> bool {
    line.len() >= 3
        && line
            .iter()
            .all(|b| matches!(b, b'-' | b'=' | b'+' | b'|' | b':' | b' '))
        && line.iter().filter(|&&b| b == b'-' || b == b'=').count() >= 3
}

/// Whether `start..end` is a field's name rather than its value: a `key=value` key
/// (`STEUERID=43920168597`; not a value's base64 padding, `…Q=` then a space), an XML
/// tag's name (`<track1>`, `</TRACK1>`), or a name in the column list of an SQL
/// insert on the same line (`INSERT INTO records (STEUERID, AMOUNT, SWIFT)`).
fn names_a_field(bytes: &[u8], start: usize, end: usize) -> bool {
    let value_starts = |b: Option<&u8>| {
        b.is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'"' | b'\'' | b'%' | b'-'))
    };
    if bytes.get(end) == Some(&b'=') && value_starts(bytes.get(end + 1)) {
        return true;
    }
    let before = &bytes[..start];
    if (before.ends_with(b"<") || before.ends_with(b"</"))
        && matches!(bytes.get(end), Some(b'>' | b' ' | b'/'))
    {
        return true;
    }
    // An SQL column list: the last bracket before the name on its line (within
    // [`COLUMN_LIST_REACH`] bytes) opens one that follows `INSERT INTO name`.
    let window = &before[start.saturating_sub(COLUMN_LIST_REACH)..];
    let Some(open) = memchr::memrchr3(b'(', b')', b'\n', window) else {
        return false;
    };
    if window[open] != b'(' || window[open + 1..].contains(&b'\'') {
        return false;
    }
    let head = &before[..start - (window.len() - open)];
    let head = head[head.len().saturating_sub(COLUMN_LIST_REACH)..].trim_ascii_end();
    let table = head
        .iter()
        .rposition(|&b| b == b' ')
        .map_or(head, |p| &head[..p])
        .trim_ascii_end();
    table.len() >= 11 && table[table.len() - 11..].eq_ignore_ascii_case(b"insert into")
}

/// How far back from a name [`names_a_field`] looks for the bracket of an SQL column
/// list.
const COLUMN_LIST_REACH: usize = 256;

/// Whether the word at `start..end` may be (part of) a table's header cell: within a
/// short name of key bytes and spaces (`db_password`, `Admin password`, `"PASSWD"`)
/// that a cell separator, bracket or line end bounds on both sides. A cheap test that
/// keeps prose's words from [`column_cells`].
pub(crate) fn may_head_a_column(bytes: &[u8], start: usize, end: usize) -> bool {
    let name = |b: u8| is_key_byte(b) || matches!(b, b' ' | b'"' | b'\'' | b'`');
    let mut lo = start;
    while lo > 0 && start - lo < TABLE_CELL && bytes.get(lo - 1).is_some_and(|&b| name(b)) {
        lo -= 1;
    }
    let mut hi = end;
    while hi - end < TABLE_CELL && bytes.get(hi).is_some_and(|&b| name(b)) {
        hi += 1;
    }
    let before = lo.checked_sub(1).and_then(|i| bytes.get(i)).copied();
    let after = bytes.get(hi).copied();
    matches!(
        before,
        None | Some(b',' | b'\t' | b'|' | b';' | b'(' | b'\n')
    ) && matches!(
        after,
        None | Some(b',' | b'\t' | b'|' | b';' | b')' | b'\n' | b'\r')
    ) && (before.is_some_and(|b| b != b'\n') || after.is_some_and(|b| b != b'\n' && b != b'\r'))
}

/// The cells under the header cells that end with the words `words` (spans in order,
/// all on the header line `from..to`): `(word, cell)` for each row of the table below
/// the header and each word that ends a cell of it: the rows of a CSV or tab-separated
/// block with as many cells, of a Markdown table past its `|---|` line, or the tuples
/// of an SQL insert whose column list holds the words. Each row is split once. Whether
/// each cell's header is the word's is for [`header_cell`] to confirm: this only
/// proposes.
pub(crate) fn column_cells(
    bytes: &[u8],
    from: usize,
    to: usize,
    words: &[(usize, usize)],
) -> Vec<(usize, (usize, usize))> {
    let mut out = Vec::new();
    let Some(line) = bytes.get(from..to) else {
        return out;
    };
    // A header names its columns: every cell a short name (`db_password`, `Created
    // at`, `Straße`), not code (`Some((username`) or prose.
    let names = |cells: &[(usize, usize)]| {
        cells.iter().all(|&(a, b)| {
            b - a <= TABLE_CELL
                && bytes.get(a..b).is_some_and(|c| {
                    c.iter()
                        .all(|&x| is_key_byte(x) || x == b' ' || !x.is_ascii())
                        && (c.is_empty() || c.iter().any(u8::is_ascii_alphabetic))
                })
        })
    };
    let place = |cells: &[(usize, usize)]| -> Vec<(usize, usize)> {
        words
            .iter()
            .enumerate()
            .filter_map(|(w, &(s, e))| {
                // The word ends its header's name: `db_password`, not `password_policy`.
                let i = cells.iter().position(|&(a, b)| a <= s && e == b)?;
                Some((w, i))
            })
            .collect()
    };
    // An SQL insert: the words in the column list, the values in the tuples after it.
    if let Some(v) = line
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"VALUES"))
    {
        let values = from + v;
        let Some(columns) = sql_columns(bytes, from, values) else {
            return out;
        };
        if !names(&columns) {
            return out;
        }
        let placed = place(&columns);
        let statement_end = sql_statement_end(bytes, values + 6).max(to);
        for (open, close) in sql_tuples(bytes, values + 6, statement_end) {
            let tuple = split_quoted(bytes, open, close, b',', SQL_QUOTES);
            for &(w, i) in &placed {
                if let Some(&cell) = tuple.get(i) {
                    out.push((w, cell));
                }
            }
        }
        return out;
    }
    let Some(sep) = [b'|', b'\t', b';', b',']
        .into_iter()
        .find(|s| line.contains(s))
    else {
        return out;
    };
    let markdown = markdown_row(bytes, from, to, sep);
    // A file delimited by `;` puts no space after it; a sentence's `;` has one.
    if sep == b';' && memchr::memmem::find(line, b"; ").is_some() {
        return out;
    }
    let header = cells(bytes, from, to, sep);
    let placed = place(&header);
    // Two names at least: `passphrase,` alone on its line starts a list of arguments.
    if header.iter().filter(|&&(a, b)| a < b).count() < 2 || placed.is_empty() || !names(&header) {
        return out;
    }
    let mut row_from = to + 1;
    if markdown {
        // A Markdown table: its `|---|` line, then rows.
        let rule_to = line_end(bytes, row_from);
        let rule = bytes
            .get(row_from..rule_to)
            .unwrap_or_default()
            .trim_ascii();
        if !rule.starts_with(b"|") || !rule.iter().all(|b| matches!(b, b'|' | b'-' | b':' | b' ')) {
            return out;
        }
        row_from = rule_to + 1;
    }
    while row_from < bytes.len() {
        let row_to = line_end(bytes, row_from);
        // A line longer than TABLE_REACH is no row.
        if bytes.get(row_to).is_some_and(|&b| b != b'\n') {
            break;
        }
        let row = cells(bytes, row_from, row_to, sep);
        if row.len() != header.len()
            || prose_row(bytes, &row)
            || (markdown
                && !bytes
                    .get(row_from..row_to)
                    .unwrap_or_default()
                    .trim_ascii()
                    .starts_with(b"|"))
        {
            break;
        }
        for &(w, i) in &placed {
            if let Some(&cell) = row.get(i) {
                out.push((w, cell));
            }
        }
        row_from = row_to + 1;
    }
    out
}

/// The line around `start..end` when it is no longer than [`TABLE_REACH`] on either side.
pub(crate) fn short_line(bytes: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let from = line_start(bytes, start)?;
    let to = line_end(bytes, end);
    (to == bytes.len() || bytes.get(to) == Some(&b'\n')).then_some((from, to))
}

/// Bytes of a record's key: `customer_email`, `card-cvv`, `patient.dob`.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Where the key a word at `word_start..word_end` may be part of ends, with its
/// separator: past the rest of its key bytes (in a quoted key, its spaces too:
/// `"Passport no":`) and up to three bytes more (`": `, `=`, `>`), so that
/// [`crosses_field`] sees the separator of a key holding the word.
fn key_end(bytes: &[u8], word_start: usize, word_end: usize) -> usize {
    let mut at = word_end;
    while bytes.get(at).is_some_and(|&b| is_key_byte(b)) {
        at += 1;
    }
    let in_key = |b: &u8| is_key_byte(*b) || *b == b' ';
    let opening = bytes[..word_start.min(bytes.len())]
        .iter()
        .rev()
        .take(KEY_SPACES_REACH)
        .find(|b| !in_key(b))
        .filter(|q| matches!(q, b'"' | b'\''));
    if let Some(&quote) = opening {
        let rest = bytes.get(at..).unwrap_or_default();
        if let Some(close) = rest
            .iter()
            .take(KEY_SPACES_REACH)
            .position(|b| !in_key(b))
            .filter(|&p| rest[p] == quote)
        {
            at += close;
        }
    }
    (at + 3).min(bytes.len())
}

/// How far around a word [`key_end`] looks for the quotes of a key with spaces.
const KEY_SPACES_REACH: usize = 32;

/// Whether the word starting at `start` is (part of) the name of an XML tag: `<MRN>`,
/// `</patient_mrn>`. Only then do other tags separate it from a value: in markup whose
/// tags are formatting (`<td>Account number</td><td>…`, `SSN is <b>…</b>`) they do not.
fn in_tag_name(bytes: &[u8], start: usize) -> bool {
    let mut s = start;
    while s > 0 && bytes.get(s - 1).is_some_and(|&b| is_key_byte(b)) {
        s -= 1;
    }
    match s.checked_sub(1).and_then(|p| bytes.get(p)) {
        Some(b'<') => true,
        Some(b'/') => s >= 2 && bytes.get(s - 2) == Some(&b'<'),
        _ => false,
    }
}

/// Whether a key of a record starts in `from..to` and ends before `to` with its
/// separator: `"id":` (JSON, quoted YAML), `id=` (logfmt, `.env`, query strings),
/// `<id>` (XML, when the context word is a tag name too: `tags`). A key named `value`
/// (`{"name": "acct", "value": "…"}`, `<input name="acct" value="…">`) holds the
/// value of the name before it, and separates nothing. A context word and a value it is not the key of belong to different
/// fields then (`{"mrn": "…", "id": "1532582"}`), as words across a sentence end do.
/// A word inside the key that holds it (`"patient_mrn": "…"`) starts before `from`,
/// so its own key never counts. Plain `word:` is no key here: prose writes labels so.
pub(crate) fn crosses_field(bytes: &[u8], from: usize, to: usize, tags: bool) -> bool {
    let Some(gap) = bytes.get(from..to) else {
        return false;
    };
    // The start of the key that ends right before `at` (a text position), if it starts
    // at or after `from` and is not a `value`.
    let key_from = |at: usize| {
        let mut s = at;
        while s > from && bytes.get(s - 1).is_some_and(|&b| is_key_byte(b)) {
            s -= 1;
        }
        let before = s.checked_sub(1).and_then(|p| bytes.get(p));
        let name = bytes.get(s..at).unwrap_or_default();
        let value = name.eq_ignore_ascii_case(b"value") || name.eq_ignore_ascii_case(b"val");
        (s < at && !value && !before.is_some_and(|&b| is_key_byte(b))).then_some(s)
    };
    for (i, &b) in gap.iter().enumerate() {
        let at = from + i;
        let found = match b {
            // `"key":` or `'key':`, spaces allowed before the colon.
            b':' => {
                let mut q = at;
                while q > from && bytes.get(q - 1) == Some(&b' ') {
                    q -= 1;
                }
                match q.checked_sub(1).and_then(|p| bytes.get(p)) {
                    // A quoted key may hold spaces (`"Employee ssn":`).
                    Some(&quote @ (b'"' | b'\'')) => {
                        let mut s = q - 1;
                        while s > from
                            && bytes
                                .get(s - 1)
                                .is_some_and(|&b| is_key_byte(b) || b == b' ')
                        {
                            s -= 1;
                        }
                        let name = bytes.get(s..q - 1).unwrap_or_default();
                        let value = name.eq_ignore_ascii_case(b"value")
                            || name.eq_ignore_ascii_case(b"val");
                        s > from
                            && s < q - 1
                            && !value
                            && bytes.get(s - 1) == Some(&quote)
                            && name.iter().any(|&b| b != b' ')
                    }
                    _ => false,
                }
            }
            // `key=` after a space, `&`, `?`, `;`, `,` or a quote; not `==`.
            b'=' => {
                bytes.get(at + 1) != Some(&b'=')
                    && key_from(at).is_some_and(|s| {
                        s == 0
                            || bytes.get(s - 1).is_some_and(|&c| {
                                matches!(c, b' ' | b'\t' | b'&' | b'?' | b';' | b',' | b'"')
                            })
                    })
            }
            // `<key>`: an opening tag.
            b'>' => tags && key_from(at).is_some_and(|s| s > 0 && bytes.get(s - 1) == Some(&b'<')),
            // `VALUES (`: an SQL insert's column list names the values by place, not by
            // nearness (see [`header_cell`]).
            b'(' => {
                let mut v = at;
                while v > from && bytes.get(v - 1) == Some(&b' ') {
                    v -= 1;
                }
                v >= from + 6
                    && bytes
                        .get(v - 6..v)
                        .is_some_and(|w| w.eq_ignore_ascii_case(b"values"))
            }
            _ => false,
        };
        if found {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_between_a_word_and_a_value_is_another_field() {
        let crosses = |text: &str, word: &str, value: &str| {
            let at = text.find(word).unwrap();
            let v = text.find(value).unwrap();
            crosses_field(
                text.as_bytes(),
                at + word.len(),
                v,
                in_tag_name(text.as_bytes(), at),
            )
        };
        // Another field's key between them.
        assert!(crosses(
            r#"{"mrn": "51131910", "id": "1532582"}"#,
            "mrn",
            "1532582"
        ));
        assert!(crosses(
            "account-no=1398895626 id=4919333",
            "account-no",
            "4919333"
        ));
        assert!(crosses(
            "<MRN>92328375</MRN><ORDER_ID>584289558</ORDER_ID>",
            "MRN",
            "584289558"
        ));
        assert!(crosses("?ssn=1&id=123456789", "ssn", "123456789"));
        // The word's own key.
        assert!(!crosses(
            r#"{"patient_mrn": "88148379"}"#,
            "mrn",
            "88148379"
        ));
        assert!(!crosses(r#"{'ssn' : '123-45-6789'}"#, "ssn", "123"));
        assert!(!crosses("account_no=1398895626", "account", "1398895626"));
        assert!(!crosses("<mrn>91053917</mrn>", "mrn", "91053917"));
        // Prose labels, comparisons and padding are no keys.
        assert!(!crosses("MRN 1, then ID: 1532582", "MRN", "1532582"));
        assert!(!crosses("SSN x = 5 then 123456789", "SSN", "123456789"));
        assert!(!crosses("key abc== then 123456789", "key", "123456789"));
        assert!(!crosses("cvv a > b 123", "cvv", "123"));
        // An SQL insert's column list.
        assert!(crosses(
            "(id, license_number) VALUES ('6731455', 'M7113352')",
            "license_number",
            "6731455"
        ));
        assert!(!crosses("license (values) 6731455", "license", "6731455"));
        // Formatting tags and `value` keys separate nothing.
        assert!(!crosses(
            "<td>Account number</td><td>2087047516</td>",
            "Account number",
            "2087047516"
        ));
        assert!(!crosses("My SSN is <b>123456789</b>", "SSN", "123456789"));
        assert!(!crosses(
            r#"<input name="acct" value="2087047516">"#,
            "acct",
            "2087047516"
        ));
        assert!(!crosses(
            r#"{"name":"acct","value":"2087047516"}"#,
            "acct",
            "2087047516"
        ));
    }

    #[test]
    fn a_fields_name_is_no_value_and_a_tokens_letters_name_nothing() {
        let names = |text: &str, token: &str| {
            let at = text.find(token).unwrap();
            names_a_field(text.as_bytes(), at, at + token.len())
        };
        assert!(names("BIC=VYXGCH4P STEUERID=43920168597", "STEUERID"));
        assert!(names("<mrn>10213881</mrn><track1>%B49", "track1"));
        assert!(names("</TRACK1>", "TRACK1"));
        assert!(names(
            "INSERT INTO records (STEUERID, AMOUNT, SWIFT) VALUES ('1')",
            "STEUERID"
        ));
        // Values: after their key, padded, in a tuple, in prose.
        assert!(!names("BIC=VYXGCH4P STEUERID=1", "VYXGCH4P"));
        assert!(!names("secret abcdEFGH= then", "abcdEFGH"));
        assert!(!names(
            "INSERT INTO records (swift) VALUES ('ITXMUSJJ', 'x')",
            "ITXMUSJJ"
        ));
        assert!(!names("the SWIFT code (ITXMUSJJ) of the bank", "ITXMUSJJ"));

        // A camel-case part names a field after a name's letters, not inside a token.
        let camel = |text: &str, word: &str| {
            let at = text.rfind(word).unwrap();
            camel_field_start(text.as_bytes(), at, at + word.len())
        };
        assert!(camel("patientSsn: 1", "Ssn"));
        assert!(!camel(
            "sk-ant-api03-bJlv6TZfIirJcl3jihyPtB6eXN2WB8mrQCHvpSsn,1",
            "Ssn"
        ));
        assert!(!camel(
            &format!("{}Ssn", "a".repeat(CAMEL_HEAD_REACH + 1)),
            "Ssn"
        ));

        // A quoted key with spaces ends at its closing quote.
        let text = r#""383187849", "Passport no": "080712806""#;
        let at = text.find("Passport").unwrap();
        let end = key_end(text.as_bytes(), at, at + "Passport".len());
        assert_eq!(&text[end - 3..end], "\": ");
        let text = "383187849 is the passport no: 1";
        let at = text.find("passport").unwrap();
        assert_eq!(key_end(text.as_bytes(), at, at + 8), at + 11);
    }

    #[test]
    fn a_value_filling_a_table_cell_has_its_columns_header() {
        let header = |text: &str, value: &str| {
            let v = text.find(value).unwrap();
            header_cell(
                text.as_bytes(),
                v,
                v + value.len(),
                &Cell::new(None),
                &RefCell::default(),
            )
            .map(|(a, b)| text.get(a..b).unwrap().to_owned())
        };
        let csv = "id,bank_account,status\n1,2087047516,ok\n2,\"3598309172\",\"a, b\"\n";
        assert_eq!(header(csv, "2087047516").as_deref(), Some("bank_account"));
        assert_eq!(header(csv, "3598309172").as_deref(), Some("bank_account"));
        let md = "| nhs | version |\n|---|---|\n| 306 721 9929 | 8.16.43 |";
        assert_eq!(header(md, "306 721 9929").as_deref(), Some("nhs"));
        let sql =
            "INSERT INTO t (amount, id, license_number) VALUES ('797.05', '6731455', 'M7113352');";
        assert_eq!(header(sql, "M7113352").as_deref(), Some("license_number"));
        assert_eq!(header(sql, "6731455").as_deref(), Some("id"));
        // Not alone in its cell, no header row, prose.
        assert_eq!(header("id,note\n1,acct 2087047516\n", "2087047516"), None);
        assert_eq!(header("1,2087047516,ok", "2087047516"), None);
        assert_eq!(
            header("Call me, 12345678, later.\nOr, then, not.", "12345678"),
            None
        );
        // Several rows in one insert.
        let rows = "INSERT INTO t (id, acct) VALUES (1, '111'), (2, '2087047516');";
        assert_eq!(header(rows, "2087047516").as_deref(), Some("acct"));
        // A long table, asked about row by row: every row has the header.
        let mut long = String::from("id,acct\n");
        for i in 0..200 {
            long.push_str(&format!("{i},{}\n", 2_087_047_516_u64 + i));
        }
        let last = Cell::new(None);
        for i in 0..200 {
            let value = format!("{}", 2_087_047_516_u64 + i);
            let v = long.find(&format!(",{value}\n")).unwrap() + 1;
            let cell = header_cell(
                long.as_bytes(),
                v,
                v + value.len(),
                &last,
                &RefCell::default(),
            );
            assert_eq!(
                cell.and_then(|(a, b)| long.get(a..b)),
                Some("acct"),
                "row {i}"
            );
        }
        // Asked first about a row more than TABLE_ROWS below the header: not looked for.
        let v = long.find(",2087047715\n").unwrap() + 1;
        assert_eq!(
            header_cell(
                long.as_bytes(),
                v,
                v + 10,
                &Cell::new(None),
                &RefCell::default()
            ),
            None
        );
        // A sentence with as many commas above the header is not taken for it.
        let after_prose = "It totals $3,341.71 and was checked twice by the team lead.\nAMOUNT,NHS_NO\n43.67,273 569 3783\n";
        assert_eq!(
            header(after_prose, "273 569 3783").as_deref(),
            Some("NHS_NO")
        );
        // Rules under a header, as database clients draw them.
        let psql = " id |    ssn\n----+-----------\n  1 | 123456789\n";
        assert_eq!(header(psql, "123456789").as_deref(), Some("ssn"));
        let mysql =
            "+----+-----------+\n| id | ssn       |\n+----+-----------+\n| 1  | 123456789 |\n";
        assert_eq!(header(mysql, "123456789").as_deref(), Some("ssn"));
        // One column: the name above its values, or above a rule under it.
        let one = "ssn\r\n123456789\r\n219099998\r\n";
        assert_eq!(header(one, "219099998").as_deref(), Some("ssn"));
        let one_ruled = "   ssn\n---------\n 219099998\n";
        assert_eq!(header(one_ruled, "219099998").as_deref(), Some("ssn"));
        // Not a column: prose or a label's line above, a value with a space.
        assert_eq!(
            header("Totals for the ticket:\n219099998\n", "219099998"),
            None
        );
        assert_eq!(header("ssn: none\n219099998\n", "219099998"), None);
        assert_eq!(header("ssn\n12 34\n219099998\n", "219099998"), None);
        assert!(rule_line(b"|---|:--:|") && rule_line(b"+--+--+") && rule_line(b"=== ==="));
        assert!(!rule_line(b"--") && !rule_line(b"- a -") && !rule_line(b"+ | +"));
    }

    #[test]
    fn a_span_across_rows_fills_no_cell_and_leaves_the_rows_cells_right() {
        // `5.62` ending one row and `2` starting the next read as one date-like span: the
        // question about it must not leave a two-line split for the next row's values.
        let csv = "id,bank_account,nhs_number,amount\n1,2087047516,304 438 0197,5.62\n2,\"3598309172\",943 476 5919,17.00\n";
        let bytes = csv.as_bytes();
        let (last, rows) = (Cell::new(None), RefCell::default());
        let across = csv.find("5.62").unwrap();
        assert_eq!(header_cell(bytes, across, across + 6, &last, &rows), None);
        for (value, column) in [
            ("3598309172", "bank_account"),
            ("943 476 5919", "nhs_number"),
        ] {
            let v = csv.find(value).unwrap();
            let cell = header_cell(bytes, v, v + value.len(), &last, &rows);
            assert_eq!(cell.and_then(|(a, b)| csv.get(a..b)), Some(column));
        }
    }

    /// The hits of the first scanner: one leftmost-longest search over the whole text.
    fn whole_text_hits(text: &str) -> Vec<(usize, usize, &'static str)> {
        let mut out = Vec::new();
        KEYWORD_INDEX.scan_span(text, 0, text.len(), &mut out);
        out.iter().map(|h| (h.start, h.end, h.word)).collect()
    }

    fn hits_by_runs(text: &str, windows: &[(usize, usize)]) -> Vec<(usize, usize, &'static str)> {
        let mut cache = HitCache::default();
        for &(lo, hi) in windows {
            cache.ensure(text, lo, hi);
        }
        cache.ensure(text, 0, text.len());
        let one_by_one: Vec<_> = cache
            .hits()
            .iter()
            .map(|h| (h.start, h.end, h.word))
            .collect();
        // The same ranges in batches, then the rest.
        let mut cache = HitCache::default();
        let (first, second) = windows.split_at(windows.len() / 2);
        cache.ensure_all(text, &mut first.to_vec());
        cache.ensure(text, text.len() / 3, text.len() / 3 + 2);
        cache.ensure_all(text, &mut second.to_vec());
        let partial: Vec<_> = cache
            .hits()
            .iter()
            .map(|h| (h.start, h.end, h.word))
            .collect();
        cache.ensure_all(text, &mut [(0, text.len())]);
        let batched: Vec<_> = cache
            .hits()
            .iter()
            .map(|h| (h.start, h.end, h.word))
            .collect();
        assert_eq!(batched, one_by_one, "{text:?} {windows:?}");
        // What a partial cache holds is exact where it holds anything.
        assert!(
            partial.iter().all(|h| one_by_one.contains(h)),
            "{text:?} {windows:?}"
        );
        one_by_one
    }

    #[test]
    fn every_registered_list_is_found_by_address_and_nothing_else() {
        let index = &*KEYWORD_INDEX;
        for words in keyword_lists() {
            let found = index.list(words);
            assert!(
                found.is_some_and(|l| std::ptr::eq(l.words, words)),
                "{words:?}"
            );
            // The binary search this table replaced.
            let addr = words.as_ptr() as usize;
            let at = index
                .lists
                .partition_point(|l| (l.words.as_ptr() as usize) < addr);
            let searched = index.lists.get(at).filter(|l| std::ptr::eq(l.words, words));
            assert!(std::ptr::eq(
                found.map_or(std::ptr::null(), |l| l),
                searched.map_or(std::ptr::null(), |l| l)
            ));
        }
        let unregistered: &[&str] = &["ssn", "card"];
        assert!(index.list(unregistered).is_none());
        assert!(index.list(&[]).is_none());
    }

    #[test]
    fn a_match_inside_a_word_hides_no_keyword_starting_within_it() {
        // `soc sec` (a social-security phrase) read across the end of a token and the
        // next word, leftmost and longest, must not hide `secret`.
        let hits = whole_text_hits("x ATATT3UaWYyOfeB5SoC Secret=R1xYlXidLeAvJj5");
        assert_eq!(hits, vec![(22, 28, "secret")]);
    }

    #[test]
    fn runs_give_the_whole_text_hits_in_any_order() {
        let texts = [
            "context medicare 1EG4TE5MK73 and card verification code 123",
            "My SSN is 123-45-6789; social security number, dob 1985-03-12.",
            "Mr. John Smith, patient id 12345, hepatitis b and type 2 diabetes",
            "tokens secretary api_key=abc password: hunter2 Dr Jane Doe born 12 March 1985",
            "ssn ssn ssn ssnssn #ss # ss no. a/c d.o.b né le numéro de compte",
        ];
        for text in texts {
            let expected = whole_text_hits(text);
            let n = text.len();
            for windows in [
                vec![],
                vec![(n / 2, n / 2 + 1)],
                vec![(n - 1, n), (0, 1), (n / 3, n / 3 + 5)],
                vec![(5, 40), (10, 12), (30, 70), (69, 71)],
                (0..n).rev().map(|i| (i, i + 1)).collect(),
            ] {
                assert_eq!(
                    hits_by_runs(text, &windows),
                    expected,
                    "{text:?} {windows:?}"
                );
            }
        }
    }

    /// Context answers in a long text (whole-text searches per list, runs resolved one
    /// by one and then in batches, questions in and out of text order) are those of the
    /// whole-text hits, by the definition of a context word.
    #[test]
    fn long_text_context_is_that_of_the_whole_text_hits() {
        use super::super::{bank, card, health, network, us_ssn};
        let unit = "ssn 123-45-6789 and card 4111 1111 1111 1111 exp 09/28. NHS number \
                    943 476 5919; ip 10.0.0.1 social security number 078-05-1120\n";
        let text = unit.repeat(WHOLE_TEXT_SEARCH_FROM / unit.len() + 20);
        let hits = whole_text_hits(&text);
        let lists = [
            us_ssn::SSN_WORDS,
            card::EXPIRY_WORDS,
            card::CARD_WORDS,
            health::NHS_WORDS,
            network::IP_WORDS,
            bank::ACCOUNT_WORDS,
        ];
        let expected = |start: usize, end: usize, words: &[&str]| {
            let (from, to) = (start.saturating_sub(48), end + 32);
            let mut context = Context::default();
            for &(s, e, word) in &hits {
                if !words.contains(&word) {
                    continue;
                }
                if e <= start && e >= from && !crosses_sentence(&text, e, start) {
                    context.before = true;
                }
                if s >= end && s < to && !crosses_sentence(&text, end, s) {
                    context.after = true;
                }
            }
            context
        };
        let keywords = Keywords::default();
        let forward: Vec<usize> = (0..text.len() - 8).step_by(13).collect();
        let mut seen = 0;
        for order in [forward.clone(), forward.into_iter().rev().collect()] {
            for &start in &order {
                for words in lists {
                    let got = keywords.context_within(&text, start, start + 5, 48, 32, words);
                    assert_eq!(got, expected(start, start + 5, words), "{start} {words:?}");
                    seen += usize::from(got.any());
                }
            }
        }
        assert!(seen > 1000);
        assert!(keywords.absent(&text, bank::ACCOUNT_WORDS, false));
        assert!(!keywords.absent(&text, us_ssn::SSN_WORDS, false));
    }

    #[test]
    fn no_keyword_occurrence_crosses_a_safe_point() {
        let index = &*KEYWORD_INDEX;
        let text = "xx card verification / social security number; ss # né le a/c d.o.b covid-19";
        let bytes = text.as_bytes();
        let finder = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&index.words)
            .ok();
        let Some(finder) = finder else {
            return;
        };
        for m in finder.find_overlapping_iter(text) {
            for p in m.start() + 1..m.end() {
                assert!(
                    !index.is_safe(bytes, p),
                    "{p} inside {:?}",
                    &text[m.range()]
                );
            }
        }
    }

    #[test]
    fn every_context_list_is_registered() {
        let index = &*KEYWORD_INDEX;
        for list in keyword_lists() {
            assert!(index.list(list).is_some(), "{list:?}");
            // Every word of a list is a keyword: a word that is not can never be a hit.
            for word in list {
                assert!(index.words.contains(word), "{word:?}");
            }
        }
        // Read where detectors read them, lists are found by address.
        use super::super::{personal, us_ssn};
        for list in [personal::DOB_WORDS, personal::TITLES, us_ssn::SSN_WORDS] {
            assert!(index.list(list).is_some(), "{list:?}");
        }
        assert!(keyword_lists().len() <= 64, "one bit per list");
    }
}
