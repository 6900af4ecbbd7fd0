//! The detector families behind one small trait, and the registry of built-in ones.
//!
//! Each family (email, phone, network, personal, US / European / Asia-Pacific /
//! American government ids, payment cards, banking, health, crypto wallets, secrets,
//! custom dictionaries) lives in its own file and implements [`Detector`]: it lists the
//! classes it can emit and appends *candidates* for one text. Candidates may overlap,
//! even within one detector (`2026 4111 1111 1111 1111` yields both a failed and a valid
//! card window); the scanner resolves overlaps once, for all detectors. A candidate
//! borrows its class from the detector, so producing one costs no allocation and no
//! reference count; only the candidates that survive become
//! [`Finding`](crate::scan::Finding)s.
//!
//! Speed comes from cheap prefilters rather than one big regex: every detector first
//! looks for the one byte or literal its entity cannot do without (`@` for email,
//! ASCII digit groups for numbers, `AKIA`/`-----BEGIN` for secrets) and only then runs
//! the precise shape check and validator. What several families start from is computed
//! at most once per text, on first use, and shared through [`Input`]:
//!
//! - `shapes.rs`: the ASCII digit groups; every window of digit groups joined by one
//!   separator, listed once by digit count with its digits (the number rules read the
//!   lengths they accept instead of each walking the groups again); capital letters;
//!   the 8-byte blocks the base64 search starts from (found in the same pass over the
//!   text as the digits and capitals).
//! - the *alphanumeric tokens* that contain a digit (the candidates of every
//!   letter-and-digit identifier: NINO, PAN, codice fiscale, VIN, ...);
//! - `keywords.rs`: the *keyword hits* of every context word and gazetteer term, exact
//!   but computed only around the candidates that ask ([`Input::context`]: words count
//!   before AND after a candidate, `123456789 is my SSN` is as much an SSN as
//!   `SSN 123456789`), and `triggers.rs`: the hits that start findings on their own.
//!
//! Shapes are checked by hand (see [`shape`]) rather than by regex: a shape check on a
//! candidate token costs a few nanoseconds and cannot blow up on hostile input.

mod bank;
mod card;
mod crypto;
pub(crate) mod dictionary;
mod email;
mod fhir;
mod govid_americas;
mod govid_apac;
mod govid_europe;
mod govid_us;
mod health;
mod hl7;
mod iban;
mod keywords;
mod network;
mod orcid;
mod person_fields;
mod personal;
mod phone;
mod secrets;
pub(crate) use secrets::jwt_cut;
mod shapes;
mod triggers;
mod us_ssn;

use std::cell::{OnceCell, RefCell};
use std::fmt;

pub(crate) use keywords::{Context, KeywordHit};
pub(crate) use shapes::{DigitGroup, DigitWindow, DigitWindows, Windows};

use super::{ClassInfo, Severity};

/// One detector family.
pub(crate) trait Detector: Send + Sync + fmt::Debug {
    /// Every class this detector can emit.
    fn classes(&self) -> Vec<ClassInfo>;

    /// Appends candidates for `input` to `out`. Candidates may overlap; offsets must lie
    /// on char boundaries of `input.text`.
    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>);
}

/// A possible finding: a span of the scanned text and the class it would be, borrowed
/// from the detector that proposed it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'s> {
    /// What it is.
    pub info: &'s ClassInfo,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Confidence in 0..=1.
    pub confidence: f32,
}

impl Candidate<'_> {
    /// The severity of its class.
    pub fn severity(&self) -> Severity {
        self.info.severity
    }
}

/// The built-in detectors, in no particular order (overlaps are resolved by score).
pub(crate) fn builtin() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(email::EmailDetector::new()),
        Box::new(phone::PhoneDetector::new()),
        Box::new(us_ssn::UsSsnDetector::new()),
        Box::new(card::CardDetector::new()),
        Box::new(iban::IbanDetector::new()),
        Box::new(secrets::SecretsDetector::new()),
        Box::new(network::NetworkDetector::new()),
        Box::new(personal::PersonalDetector::new()),
        Box::new(crypto::CryptoDetector::new()),
        Box::new(bank::BankDetector::new()),
        Box::new(card::PciContextDetector::new()),
        Box::new(govid_us::UsIdDetector::new()),
        Box::new(govid_europe::EuropeIdDetector::new()),
        Box::new(govid_apac::ApacIdDetector::new()),
        Box::new(govid_americas::AmericasIdDetector::new()),
        Box::new(health::HealthDetector::new()),
        Box::new(orcid::OrcidDetector::new()),
        Box::new(hl7::Hl7Detector::new()),
        Box::new(fhir::FhirDetector::new()),
        Box::new(person_fields::PersonFieldsDetector::new()),
    ]
}

/// Every word list a detector reads context or trigger words from, lowercase. One
/// automaton over all their words defines the keyword hits of a text (see
/// `keywords.rs`), so a word is seen as context only if its list is here: every list
/// passed to [`Input::context`] or [`KeywordHit::is_in`] must be (a test checks each
/// word of each list is found, before and after a value).
///
/// Lists are told apart by address (a hit's list membership is one AND), so they are
/// `static`s read here at run time: a `static` array of them would be evaluated at
/// compile time, where reading a `static` may copy what it points to.
fn keyword_lists() -> [&'static [&'static str]; 51] {
    [
        phone::PHONE_WORDS,
        us_ssn::SSN_WORDS,
        bank::SWIFT_WORDS,
        bank::ABA_WORDS,
        bank::ACCOUNT_WORDS,
        card::CARD_WORDS,
        card::CVV_WORDS,
        card::EXPIRY_WORDS,
        govid_us::ITIN_WORDS,
        govid_us::PASSPORT_WORDS,
        govid_us::LICENSE_WORDS,
        govid_europe::UTR_WORDS,
        govid_europe::STEUER_WORDS,
        govid_europe::NIR_WORDS,
        govid_europe::PESEL_WORDS,
        govid_europe::NINO_WORDS,
        govid_europe::NIF_WORDS,
        govid_europe::CF_WORDS,
        govid_apac::TFN_WORDS,
        govid_apac::ABN_WORDS,
        govid_apac::MEDICARE_AU_WORDS,
        govid_apac::AADHAAR_WORDS,
        govid_apac::PAN_WORDS,
        govid_apac::GSTIN_WORDS,
        govid_apac::NRIC_WORDS,
        govid_americas::SIN_WORDS,
        govid_americas::CPF_WORDS,
        govid_americas::CURP_WORDS,
        health::NPI_WORDS,
        health::MRN_WORDS,
        health::HEALTH_PLAN_WORDS,
        health::MEMBER_WORDS,
        health::NHS_WORDS,
        health::DEA_WORDS,
        health::MBI_WORDS,
        health::DIAGNOSIS_TERMS,
        health::MEDICATION_TERMS,
        personal::DOB_WORDS,
        personal::NAME_HEADERS,
        personal::NAME_WORDS,
        personal::TITLES,
        personal::GIVEN_NAMES,
        personal::ADDRESS_WORDS,
        personal::IMEI_WORDS,
        personal::VIN_WORDS,
        network::IP_WORDS,
        network::VERSION_WORDS,
        orcid::ORCID_WORDS,
        secrets::SECRET_WORDS,
        secrets::AWS_SECRET_WORDS,
        secrets::PASSWORD_WORDS,
    ]
}

/// The longest gap between two digit groups of a loosely written number, in bytes
/// (see [`Input::loose_link`]).
pub(crate) const MAX_LOOSE_GAP: usize = 3;

/// The fewest bytes of an [`Input::alnum_tokens`] token: the shortest identifier any
/// rule asks for (ZIP-like and licence numbers of five characters).
pub(crate) const MIN_TOKEN_LEN: usize = 5;

/// The widest gap between two digit groups of one chain in
/// [`Input::long_chain_groups`], in bytes: at least the widest gap any rule using it
/// joins groups across.
pub(crate) const NEAR_GAP: usize = 3;

/// The fewest digits of a chain in [`Input::long_chain_groups`]: at most the fewest
/// digits of any finding of a rule using it.
pub(crate) const LONG_CHAIN_DIGITS: usize = 9;
/// See [`Input::words_absent`].
const ABSENCE_SEARCH_BYTES: usize = 64;

/// How far before a candidate context words count, in bytes.
pub(crate) const CONTEXT_BEFORE: usize = 48;
/// How far after a candidate context words count, in bytes.
pub(crate) const CONTEXT_AFTER: usize = 32;

/// Whether `head`, a space and `tail` hold a keyword of the context lists that starts
/// in `head` and ends in `tail` (`Secret access` and `key`, `Drivers` and `license
/// number`): the two were one name broken at that space.
pub(crate) fn keyword_across(head: &[u8], tail: &[u8]) -> bool {
    let mut joined = Vec::with_capacity(head.len() + 1 + tail.len());
    joined.extend(head.iter().map(u8::to_ascii_lowercase));
    joined.push(b' ');
    joined.extend(tail.iter().map(u8::to_ascii_lowercase));
    let Ok(joined) = std::str::from_utf8(&joined) else {
        return false;
    };
    let mut hits = Vec::new();
    keywords::KEYWORD_INDEX.scan_span(joined, 0, joined.len(), &mut hits);
    hits.iter()
        .any(|h| h.start < head.len() && h.end > head.len() + 1)
}

/// Whether `s` has the shape `pattern`: `A` an ASCII uppercase letter, `a` any ASCII
/// letter, `9` an ASCII digit, `X` an uppercase letter or digit, `?` any byte; any
/// other pattern byte must match itself. Always inlined: every pattern is a literal, so
/// each call site compiles to a handful of byte tests.
#[inline(always)]
pub(crate) fn shape(s: &[u8], pattern: &[u8]) -> bool {
    s.len() == pattern.len()
        && s.iter().zip(pattern).all(|(&b, &p)| match p {
            b'A' => b.is_ascii_uppercase(),
            b'a' => b.is_ascii_alphabetic(),
            b'9' => b.is_ascii_digit(),
            b'X' => b.is_ascii_uppercase() || b.is_ascii_digit(),
            b'?' => true,
            _ => b == p,
        })
}

/// A text under scan plus the facts several detectors share, computed lazily once.
pub(crate) struct Input<'a> {
    /// The text.
    pub text: &'a str,
    /// The same text as bytes.
    pub bytes: &'a [u8],
    digits_and_capitals: OnceCell<shapes::TextShapes>,
    digit_windows: OnceCell<DigitWindows>,
    tokens: OnceCell<Vec<DigitGroup>>,
    tokens_by_len: OnceCell<shapes::LengthIndex>,
    long_chains: OnceCell<Vec<u32>>,
    colons_and_dashes: OnceCell<Vec<usize>>,
    equals: OnceCell<Vec<usize>>,
    keywords: keywords::Keywords,
    triggers: OnceCell<triggers::TriggerPass>,
    /// Allocations left by an earlier text of this thread, used by the facts above as
    /// they are computed, and handed back when this input is dropped.
    spare: RefCell<Option<Box<Scratch>>>,
}

/// How a digit group is joined to the next one loosely: the gap's length (0: not
/// loosely joined) and its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LooseLink {
    /// Bytes between the two groups (0: they are not loosely joined).
    pub len: u8,
    /// The first of them.
    pub first: u8,
}

impl LooseLink {
    /// Whether a digit window crosses this gap the same way as `other`: one of the
    /// separator bytes windows allow, the same one.
    pub fn windowed_like(self, other: LooseLink) -> bool {
        self.len == 1 && matches!(self.first, b' ' | b'-' | b'.' | b'/') && self == other
    }
}

/// The allocations of the facts an [`Input`] computes, kept per thread between texts
/// (cleared, not freed): a text of a megabyte of dense data fills tens of megabytes of
/// lists, and getting them from the system anew for every text (page faults, growth by
/// copying, and giving them back) costs about as much as filling them.
#[derive(Default)]
struct Scratch {
    groups: Vec<DigitGroup>,
    capitals: Vec<usize>,
    windows: DigitWindows,
    tokens: Vec<DigitGroup>,
    tokens_by_len: Vec<usize>,
    long_chains: Vec<u32>,
    keywords: keywords::Keywords,
    triggers: Vec<KeywordHit>,
    folded: Vec<u8>,
    fold_words: Vec<u64>,
}

/// The most bytes of [`Scratch`] kept per thread: a text that needed more gives its
/// allocations back to the system, so one huge text does not pin memory for good.
const SCRATCH_KEPT_BYTES: usize = 32 << 20;

/// How many [`Scratch`]es a thread keeps: one per input alive at once (a text and the
/// decoded tokens scanned inside it).
const SCRATCH_KEPT: usize = 2;

thread_local! {
    static SCRATCH: RefCell<[Option<Box<Scratch>>; SCRATCH_KEPT]> =
        const { RefCell::new([const { None }; SCRATCH_KEPT]) };
}

impl Scratch {
    /// A scratch of this thread's pool, or a new one.
    fn take() -> Box<Self> {
        SCRATCH
            .try_with(|pool| pool.borrow_mut().iter_mut().find_map(Option::take))
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Clears `self` and returns it to this thread's pool, unless it holds more than
    /// [`SCRATCH_KEPT_BYTES`] or the pool is full.
    fn give_back(mut self: Box<Self>) {
        self.keywords.clear();
        let bytes = self.groups.capacity() * size_of::<DigitGroup>()
            + self.capitals.capacity() * size_of::<usize>()
            + self.windows.capacity_bytes()
            + self.tokens.capacity() * size_of::<DigitGroup>()
            + self.tokens_by_len.capacity() * size_of::<usize>()
            + self.long_chains.capacity() * size_of::<u32>()
            + self.keywords.capacity_bytes()
            + self.triggers.capacity() * size_of::<KeywordHit>()
            + self.folded.capacity()
            + self.fold_words.capacity() * size_of::<u64>();
        if bytes > SCRATCH_KEPT_BYTES {
            return;
        }
        // Nothing else is cleared here: every list is cleared when it is filled again.
        let _ = SCRATCH.try_with(|pool| {
            if let Some(slot) = pool.borrow_mut().iter_mut().find(|slot| slot.is_none()) {
                *slot = Some(self);
            }
        });
    }
}

impl Drop for Input<'_> {
    fn drop(&mut self) {
        let Some(mut spare) = self.spare.get_mut().take() else {
            return;
        };
        if let Some((groups, capitals, _, _)) = self.digits_and_capitals.take() {
            spare.groups = groups;
            spare.capitals = capitals;
        }
        if let Some(windows) = self.digit_windows.take() {
            spare.windows = windows;
        }
        if let Some(tokens) = self.tokens.take() {
            spare.tokens = tokens;
        }
        if let Some(index) = self.tokens_by_len.take() {
            spare.tokens_by_len = index.into_buffer();
        }
        if let Some(long_chains) = self.long_chains.take() {
            spare.long_chains = long_chains;
        }
        if let Some(pass) = self.triggers.take() {
            spare.triggers = pass.hits;
            spare.folded = pass.folded;
            spare.fold_words = pass.words;
        }
        spare.keywords = std::mem::take(&mut self.keywords);
        spare.give_back();
    }
}

impl<'a> Input<'a> {
    /// Wraps one text.
    pub fn new(text: &'a str) -> Self {
        let mut spare = Scratch::take();
        let keywords = std::mem::take(&mut spare.keywords);
        Input {
            text,
            bytes: text.as_bytes(),
            digits_and_capitals: OnceCell::new(),
            digit_windows: OnceCell::new(),
            tokens: OnceCell::new(),
            tokens_by_len: OnceCell::new(),
            long_chains: OnceCell::new(),
            colons_and_dashes: OnceCell::new(),
            equals: OnceCell::new(),
            keywords,
            triggers: OnceCell::new(),
            spare: RefCell::new(Some(spare)),
        }
    }

    /// How digit group `k` is joined to group `k + 1` *loosely*, the way an evader
    /// splits a number (one to [`MAX_LOOSE_GAP`] bytes of spaces, dashes, dots, slashes,
    /// underscores, tabs and line breaks, mixed as they like), or `None` when it is not.
    /// Found in the pass that finds the groups, while the bytes between them are in
    /// cache, so the rules that read it (cards, SSNs) never read the text around every
    /// group again.
    pub fn loose_link(&self, k: usize) -> Option<LooseLink> {
        self.digits_and_capitals()
            .3
            .get(k)
            .copied()
            .filter(|l| l.len > 0)
    }

    /// All maximal ASCII digit runs, in order.
    pub fn digit_groups(&self) -> &[DigitGroup] {
        &self.digits_and_capitals().0
    }

    /// The indices of the digit groups from which the groups that follow, each at most
    /// [`NEAR_GAP`] bytes after the previous one, hold [`LONG_CHAIN_DIGITS`] digits or
    /// more, in order. A rule whose every finding is made of that many digits from
    /// groups so joined (phone numbers, SSNs) starts only at these: in prose, where
    /// numbers stand alone (`2023`, `41,000`, `5.5`), there are next to none.
    pub fn long_chain_groups(&self) -> impl Iterator<Item = usize> + '_ {
        let starts = self.long_chains.get_or_init(|| {
            let groups = self.digit_groups();
            let mut starts = self.spare(|s| &mut s.long_chains);
            starts.clear();
            // From the last group back: the digits of the chain from each group on.
            let mut digits = 0usize;
            let mut next_start = usize::MAX;
            for (i, g) in groups.iter().enumerate().rev() {
                if next_start - g.end > NEAR_GAP {
                    digits = 0;
                }
                digits += g.len();
                next_start = g.start;
                if digits >= LONG_CHAIN_DIGITS
                    && let Ok(i) = u32::try_from(i)
                {
                    starts.push(i);
                }
            }
            starts.reverse();
            starts
        });
        starts.iter().map(|&i| i as usize)
    }

    /// Digit groups, capitals and unbroken blocks: found together, in one pass.
    fn digits_and_capitals(&self) -> &shapes::TextShapes {
        self.digits_and_capitals.get_or_init(|| {
            shapes::digits_and_capitals_in(
                self.bytes,
                self.spare(|s| &mut s.groups),
                self.spare(|s| &mut s.capitals),
            )
        })
    }

    /// Every window of digit groups joined by one consistent separator (` `, `-`, `.`,
    /// `/`), or of one group, with 6 to 19 digits, by digit count. Every group-aligned
    /// window is listed, so a failed window never hides a valid one that overlaps it.
    pub fn digit_windows(&self) -> Windows<'_> {
        let (groups, _, _, links) = self.digits_and_capitals();
        self.digit_windows
            .get_or_init(|| {
                let mut windows = self.spare(|s| &mut s.windows);
                windows.fill(self.bytes, groups, links);
                windows
            })
            .view(groups)
    }

    /// Positions of ASCII capitals and of the first bytes of non-ASCII characters.
    pub fn capitals(&self) -> &[usize] {
        &self.digits_and_capitals().1
    }

    /// The 8-byte blocks (offsets, multiples of 8, in order) that hold no byte below `+`
    /// and may lie in a run of 16 such bytes: every block inside a base64 token of 16
    /// characters or more is one (see `shapes::digits_and_capitals`).
    pub fn unbroken_blocks(&self) -> &[usize] {
        &self.digits_and_capitals().2
    }

    /// Maximal runs of ASCII letters and digits that contain at least one digit and are
    /// [`MIN_TOKEN_LEN`] bytes long or more, in order: the candidates of
    /// letter-and-digit identifiers. (The lone short numbers of prose, `2023`, `12`,
    /// are none.)
    pub fn alnum_tokens(&self) -> &[DigitGroup] {
        self.tokens.get_or_init(|| {
            let groups = self.digit_groups();
            let mut tokens = self.spare(|s| &mut s.tokens);
            tokens.clear();
            tokens.reserve(groups.len());
            for g in groups {
                if tokens.last().is_some_and(|t| t.end >= g.end) {
                    continue;
                }
                let mut start = g.start;
                while start > 0
                    && self
                        .bytes
                        .get(start - 1)
                        .is_some_and(u8::is_ascii_alphanumeric)
                {
                    start -= 1;
                }
                let mut end = g.end;
                while self.bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
                    end += 1;
                }
                if end - start >= MIN_TOKEN_LEN {
                    tokens.push(DigitGroup { start, end });
                }
            }
            tokens
        })
    }

    /// The [`Input::alnum_tokens`] of exactly `len` bytes, in order (`len` at least
    /// [`MIN_TOKEN_LEN`]).
    pub fn tokens_of_len(&self, len: usize) -> impl Iterator<Item = &DigitGroup> {
        debug_assert!(len >= MIN_TOKEN_LEN, "tokens of {len} bytes are not listed");
        let tokens = self.alnum_tokens();
        let by_len = self.tokens_by_len.get_or_init(|| {
            let buffer = self.spare(|s| &mut s.tokens_by_len);
            shapes::LengthIndex::new_in(tokens.iter().map(DigitGroup::len), buffer)
        });
        by_len.of_len(len).filter_map(|i| tokens.get(i))
    }

    /// The keyword hits that can start a finding on their own (birth words, given
    /// names, titles and name cues, diagnosis and medication terms, secret words), and
    /// possibly others, in order. Computed on first use (see `triggers.rs`).
    pub fn trigger_hits(&self) -> &[KeywordHit] {
        &self.trigger_pass().hits
    }

    /// Where the words of `secrets::ANCHORS` start, with their indices there, in order
    /// (computed with [`Input::trigger_hits`]).
    pub(crate) fn trigger_anchors(&self) -> &[(usize, u8)] {
        &self.trigger_pass().anchors
    }

    fn trigger_pass(&self) -> &triggers::TriggerPass {
        self.triggers.get_or_init(|| {
            triggers::trigger_hits(
                self,
                self.spare(|s| &mut s.folded),
                self.spare(|s| &mut s.fold_words),
            )
        })
    }

    /// Where every `:` and `-` is, in order (one `memchr` pass, shared by the rules that
    /// start from either).
    pub(crate) fn colons_and_dashes(&self) -> &[usize] {
        self.colons_and_dashes
            .get_or_init(|| memchr::memchr2_iter(b':', b'-', self.bytes).collect())
    }

    /// Where every `=` is, in order (one `memchr` pass, shared by the rules that read a
    /// key before one).
    pub(crate) fn equals(&self) -> &[usize] {
        self.equals
            .get_or_init(|| memchr::memchr_iter(b'=', self.bytes).collect())
    }

    /// Where every word `at` starts, in order (computed with [`Input::trigger_hits`]).
    pub(crate) fn at_words(&self) -> &[usize] {
        &self.trigger_pass().at_words
    }

    /// The text folded byte for byte (same length, same offsets): ASCII letters in
    /// lowercase, ASCII digits, and a space for every other byte (see
    /// `triggers::fold_byte`). Made by the trigger pass.
    pub fn folded(&self) -> &[u8] {
        self.trigger_pass()
            .folded
            .get(1..1 + self.bytes.len())
            .unwrap_or_default()
    }

    /// Makes sure every keyword hit overlapping any of `ranges` is known.
    pub(crate) fn ensure_keywords_all(&self, ranges: &mut [(usize, usize)]) {
        self.keywords.ensure_all(self.text, ranges);
    }

    /// Every keyword hit known so far, in order.
    pub(crate) fn known_keyword_hits(&self) -> Vec<KeywordHit> {
        let buffer = self.spare(|s| &mut s.triggers);
        self.keywords.known_hits_in(buffer)
    }

    /// The values in the table columns that words of `words` head, for each such hit
    /// of `hits` (in order): a CSV, tab-separated or Markdown table's header cell
    /// (`db_password`, `| Patient DOB |`) or an SQL insert's column (`INSERT INTO users
    /// (name, passwd) VALUES (…)`). `(hit, start, end)` for each non-empty cell under
    /// it whose header [`Input::header_cell`] confirms. Each header line's columns are
    /// walked together, each row split once.
    pub fn column_values(
        &self,
        hits: &[KeywordHit],
        words: &[&str],
    ) -> Vec<(KeywordHit, usize, usize)> {
        let bytes = self.bytes;
        let mut out = Vec::new();
        let heads_column =
            |h: &KeywordHit| h.is_in(words) && keywords::may_head_a_column(bytes, h.start, h.end);
        let mut i = 0;
        while let Some(hit) = hits.get(i) {
            i += 1;
            if !heads_column(hit) {
                continue;
            }
            let Some((from, to)) = keywords::short_line(bytes, hit.start, hit.end) else {
                continue;
            };
            let mut heads = vec![*hit];
            while let Some(next) = hits.get(i).filter(|h| h.start < to) {
                i += 1;
                if heads_column(next) {
                    heads.push(*next);
                }
            }
            let spans: Vec<(usize, usize)> = heads.iter().map(|h| (h.start, h.end)).collect();
            for (w, (a, b)) in keywords::column_cells(bytes, from, to, &spans) {
                if let Some(head) = heads.get(w)
                    && a < b
                    && self
                        .header_cell(a, b)
                        .is_some_and(|(lo, hi)| lo <= head.start && head.end <= hi)
                {
                    out.push((*head, a, b));
                }
            }
        }
        out
    }

    /// The header cell of the table column whose cell `start..end` fills, if it fills
    /// one (see `keywords::header_cell`).
    pub fn header_cell(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        self.keywords.header_cell(self.text, start, end)
    }

    /// Whether one of `words` ends in the [`CONTEXT_BEFORE`] bytes before `start`, or
    /// starts in the [`CONTEXT_AFTER`] bytes after `end`.
    pub fn context(&self, start: usize, end: usize, words: &[&str]) -> Context {
        self.context_within(start, end, CONTEXT_BEFORE, CONTEXT_AFTER, words)
    }

    /// Whether no context question about `words` can be answered yes in this text,
    /// because none of them occurs in it; `false` when that is not known. Rules that
    /// need context skip their `candidates` then. Known in a text of any length for the
    /// lists the trigger pass tracks (`triggers::PRESENCE_LISTS`). Known in a long text once a question
    /// about `words` searched it for them; if none has, searched now when there is at
    /// least one candidate per [`ABSENCE_SEARCH_BYTES`] of text (one search of the
    /// text then costs less than checking the candidates; in prose, with few, it
    /// would cost more).
    pub fn words_absent(&self, words: &[&str], candidates: impl FnOnce() -> usize) -> bool {
        // A list the trigger pass tracks is known at once, in texts of any length.
        if let Some(bit) = triggers::presence_bit(words) {
            return self.trigger_pass().present & bit == 0;
        }
        if self.text.len() <= keywords::WHOLE_TEXT_SEARCH_FROM {
            return false;
        }
        let search = candidates().saturating_mul(ABSENCE_SEARCH_BYTES) >= self.text.len();
        self.keywords.absent(self.text, words, search)
    }

    /// The allocation `pick` selects in the scratch left by an earlier text (an empty
    /// one when there is none).
    fn spare<T: Default>(&self, pick: impl FnOnce(&mut Scratch) -> &mut T) -> T {
        self.spare
            .borrow_mut()
            .as_mut()
            .map(|spare| std::mem::take(pick(spare)))
            .unwrap_or_default()
    }

    /// [`Input::context`] with explicit windows.
    pub fn context_within(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
        words: &[&str],
    ) -> Context {
        self.keywords
            .context_within(self.text, start, end, before, after, words)
    }

    /// Whether `start..end` stands alone as a number: word boundaries on both sides and
    /// no digit joined to it by `-`, `.`, `/` or `,` (`1.4111...`, `...1111-22`).
    pub fn standalone_number(&self, start: usize, end: usize) -> bool {
        let joiner = |b: Option<u8>| matches!(b, Some(b'-' | b'.' | b'/' | b','));
        let digit = |b: Option<u8>| b.is_some_and(|d| d.is_ascii_digit());
        let joined = (joiner(self.byte_before(start))
            && digit(start.checked_sub(1).and_then(|j| self.byte_before(j))))
            || (joiner(self.byte(end)) && digit(self.byte(end + 1)));
        // A number filling a cell of a table stands alone, numbers in the cells beside
        // it included (`1,2087047516,5.62` of a CSV row).
        self.word_boundary_before(start)
            && self.word_boundary_after(end)
            && (!joined
                || (self.byte_before(start) != Some(b'.')
                    && self.byte(end) != Some(b'.')
                    && self.keywords.header_cell(self.text, start, end).is_some()))
    }

    /// Whether the digits at `start..end` continue, on either side, into another digit
    /// group across a single separator (space, dash, dot, slash).
    pub fn continues_chain(&self, start: usize, end: usize) -> bool {
        let sep = |b: Option<u8>| matches!(b, Some(b' ' | b'-' | b'.' | b'/'));
        let digit = |b: Option<u8>| b.is_some_and(|d| d.is_ascii_digit());
        (sep(self.byte_before(start))
            && digit(start.checked_sub(1).and_then(|j| self.byte_before(j))))
            || (sep(self.byte(end)) && digit(self.byte(end + 1)))
    }

    /// Whether `start..end` lies inside a UUID (`8-4-4-4-12` hex digits, joined by
    /// dashes, standing alone): `00193497-7446-4351-a600-2bc70d2eb957` holds a number
    /// shaped like an international phone number, and any other digit run.
    pub fn in_uuid(&self, start: usize, end: usize) -> bool {
        let hexish = |b: &u8| b.is_ascii_hexdigit() || *b == b'-';
        let Some(head) = self.bytes.get(..start) else {
            return false;
        };
        let from = start - head.iter().rev().take_while(|b| hexish(b)).count();
        let to = end
            + self
                .bytes
                .get(end..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| hexish(b))
                .count();
        to - from == 36
            && self.bytes.get(from..to).is_some_and(|run| {
                run.iter().enumerate().all(|(i, &b)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        b == b'-'
                    } else {
                        b.is_ascii_hexdigit()
                    }
                })
            })
            && self.word_boundary_before(from)
            && self.word_boundary_after(to)
    }

    /// The byte at `i`, if any.
    pub fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// The byte just before `i`, if any.
    pub fn byte_before(&self, i: usize) -> Option<u8> {
        i.checked_sub(1).and_then(|j| self.byte(j))
    }

    /// The single separator byte joining two digit groups, when exactly one byte from
    /// `allowed` sits between them.
    pub fn joiner(&self, left: DigitGroup, right: DigitGroup, allowed: &[u8]) -> Option<u8> {
        if right.start != left.end + 1 {
            return None;
        }
        self.byte(left.end).filter(|b| allowed.contains(b))
    }

    /// Whether the text before `start` does not continue a word: no ASCII letter, digit
    /// or underscore, and no non-ASCII letter or digit.
    #[inline]
    pub fn word_boundary_before(&self, start: usize) -> bool {
        word_boundary_before(self.text, start)
    }

    /// Whether the text from `end` does not continue a word.
    #[inline]
    pub fn word_boundary_after(&self, end: usize) -> bool {
        word_boundary_after(self.text, end)
    }

    /// Whether one of `keywords` (lowercase ASCII) starts a word, ignoring ASCII case,
    /// in the `window` bytes that precede `start`: `call` in `call me` or `callback`,
    /// not in `SYSCALL`, `VRING_CALL` or `recall`.
    pub fn context_before(&self, start: usize, window: usize, keywords: &[&str]) -> bool {
        self.keyword_before(start, window, keywords, false)
    }

    /// [`Input::context_before`], where a name's last part also counts when it is the
    /// keyword (`device_mac`, `DeviceMac`, not `DeviceMacro`): for words that name a
    /// field on their own. (Not for all of them: `VHOST_SET_VRING_CALL` is no phone's
    /// label.)
    pub fn context_before_or_name(&self, start: usize, window: usize, keywords: &[&str]) -> bool {
        self.keyword_before(start, window, keywords, true)
    }

    fn keyword_before(&self, start: usize, window: usize, keywords: &[&str], names: bool) -> bool {
        let from = start.saturating_sub(window);
        let Some(hay) = self.bytes.get(from..start) else {
            return false;
        };
        // At a word's start, a word that starts with the keyword (`callback`); at the
        // last part of a name, the keyword ending the name.
        let counts = |i: usize, len: usize| {
            let before = if i == 0 {
                self.byte_before(from)
            } else {
                hay.get(i - 1).copied()
            };
            let Some(before) = before.filter(|&b| b.is_ascii_alphanumeric() || b == b'_') else {
                return true;
            };
            let part = before == b'_'
                || (before.is_ascii_lowercase() && hay.get(i).is_some_and(u8::is_ascii_uppercase));
            names
                && part
                && !self
                    .byte(from + i + len)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        keywords.iter().any(|k| {
            hay.windows(k.len())
                .enumerate()
                .any(|(i, w)| w.eq_ignore_ascii_case(k.as_bytes()) && counts(i, k.len()))
        })
    }

    /// A candidate for `start..end` of class `info`, or `None` when the span is empty,
    /// out of range or not on char boundaries (it never is for a correct detector; this
    /// keeps a buggy one from producing a panicking span downstream).
    pub fn finding<'s>(
        &self,
        info: &'s ClassInfo,
        start: usize,
        end: usize,
        confidence: f32,
    ) -> Option<Candidate<'s>> {
        if start >= end || self.text.get(start..end).is_none() {
            return None;
        }
        Some(Candidate {
            info,
            start,
            end,
            confidence,
        })
    }
}

/// Whether the text before `start` does not continue a word (see
/// [`Input::word_boundary_before`]).
///
/// Inlined: detectors ask this of nearly every candidate, and an ASCII byte answers it
/// without decoding (the rest is out of line).
#[inline]
pub(crate) fn word_boundary_before(text: &str, start: usize) -> bool {
    // An ASCII byte before `start` is the whole previous character: no decoding needed.
    match start.checked_sub(1).and_then(|i| text.as_bytes().get(i)) {
        None => true,
        Some(&b) if b.is_ascii() => !(b.is_ascii_alphanumeric() || b == b'_'),
        Some(_) => non_ascii_boundary_before(text, start),
    }
}

/// [`word_boundary_before`] when a non-ASCII byte precedes `start`.
#[cold]
fn non_ascii_boundary_before(text: &str, start: usize) -> bool {
    match text.get(..start).and_then(|s| s.chars().next_back()) {
        Some(c) => !is_word_char(c),
        None => true,
    }
}

/// Whether the text from `end` does not continue a word (inlined as
/// [`word_boundary_before`]).
#[inline]
pub(crate) fn word_boundary_after(text: &str, end: usize) -> bool {
    match text.as_bytes().get(end) {
        None => true,
        Some(&b) if b.is_ascii() => !(b.is_ascii_alphanumeric() || b == b'_'),
        Some(_) => non_ascii_boundary_after(text, end),
    }
}

/// [`word_boundary_after`] when a non-ASCII byte starts at `end`.
#[cold]
fn non_ascii_boundary_after(text: &str, end: usize) -> bool {
    match text.get(end..).and_then(|s| s.chars().next()) {
        Some(c) => !is_word_char(c),
        None => true,
    }
}

/// When a candidate needs context words around it to count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Need {
    /// Only in its bare (unseparated) form; a value written with its usual separators
    /// counts without context.
    ContextUnlessFormatted,
    /// As [`Need::ContextUnlessFormatted`], but a formatted value counts without
    /// context only when its digits pass this test too.
    ContextUnlessFormattedAnd(fn(&[u8]) -> bool),
    /// Always.
    Context,
}

/// A numeric identifier: digits, optionally grouped by one consistent separator, with
/// a validator and context words. Most national ids are one of these.
#[derive(Debug)]
pub(crate) struct NumberRule {
    /// What a match becomes.
    pub info: ClassInfo,
    /// Digit counts accepted.
    pub lengths: std::ops::RangeInclusive<usize>,
    /// Separators accepted between digit groups (one kind per value).
    pub separators: &'static [u8],
    /// Group lengths of the formatted form (`[3, 2, 4]` for an SSN); empty: any.
    pub groups: &'static [usize],
    /// Checksum / range rules over the digits.
    pub validate: fn(&[u8]) -> bool,
    /// Context words.
    pub words: &'static [&'static str],
    /// When context is required.
    pub need: Need,
    /// Confidence without context.
    pub base: f32,
}

impl NumberRule {
    /// Appends this rule's candidates in `input` to `out`.
    pub fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let windows = input.digit_windows();
        if matches!(self.need, Need::Context) {
            let candidates = || {
                self.lengths
                    .clone()
                    .map(|len| windows.count_of_len(len))
                    .sum()
            };
            if input.words_absent(self.words, candidates) {
                return;
            }
        }
        for len in self.lengths.clone() {
            for w in windows.of_len(len) {
                if w.sep != 0 && !self.separators.contains(&w.sep) {
                    continue;
                }
                self.check(input, &windows, &w, out);
            }
        }
    }

    /// The rule's checks on one window with digits `digits`.
    fn check<'s>(
        &'s self,
        input: &Input<'_>,
        windows: &Windows<'_>,
        w: &DigitWindow,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let (start, end) = (w.start, w.end);
        let digits = windows.digits(w);
        // Groups joined by separators: the formatted form.
        let formatted = w.sep != 0;
        if formatted && !self.groups.is_empty() && !windows.group_lens_are(w, self.groups) {
            return;
        }
        if !input.standalone_number(start, end) || !(self.validate)(digits) {
            return;
        }
        // A formatted window must not be a piece of a longer grouped number
        // (`584 832 653` inside the ABN `98 584 832 653`).
        if formatted && input.continues_chain(start, end) {
            return;
        }
        let context = input.context(start, end, self.words);
        let ok = match self.need {
            Need::ContextUnlessFormatted => formatted || context.any(),
            Need::ContextUnlessFormattedAnd(alone) => (formatted && alone(digits)) || context.any(),
            Need::Context => context.any(),
        };
        // Without its words, a grouped number is an amount when a currency stands next
        // to it (`130 714 934 EUR`, `Kwota: 612 345 678 zł`), and an order's or a
        // parcel's number when a reference's label comes just before it.
        let ok = ok
            && (context.any()
                || !(amount_at(input.bytes, start, end) || reference_before(input.bytes, start)));
        if ok {
            out.extend(input.finding(&self.info, start, end, context.boost(self.base)));
        }
    }
}

/// Whether a currency's code or sign stands right before or after `start..end` (one
/// space between at most): the number is an amount.
fn amount_at(bytes: &[u8], start: usize, end: usize) -> bool {
    const CODES: &[&[u8]] = &[
        b"EUR",
        b"USD",
        b"GBP",
        b"CHF",
        b"PLN",
        b"INR",
        b"BRL",
        b"MXN",
        b"CAD",
        b"AUD",
        b"SGD",
        b"JPY",
        b"CNY",
        b"SEK",
        b"NOK",
        b"DKK",
        b"CZK",
        b"HUF",
        b"RUB",
        b"zl",
        b"z\xc5\x82",
        b"kr",
        b"Kc",
        b"K\xc4\x8d",
        b"Ft",
        b"\xe2\x82\xac",
        b"$",
        b"\xc2\xa3",
        b"\xe2\x82\xb9",
        b"\xc2\xa5",
        b"R$",
        b"Rs",
    ];
    let after = bytes.get(end..).unwrap_or_default();
    let after = after.strip_prefix(b" ").unwrap_or(after);
    let ends_word = |rest: &[u8]| rest.first().is_none_or(|b| !b.is_ascii_alphanumeric());
    let before = bytes.get(..start).unwrap_or_default();
    let before = before.strip_suffix(b" ").unwrap_or(before);
    CODES.iter().any(|c| {
        after.strip_prefix(*c).is_some_and(ends_word)
            || before
                .strip_suffix(*c)
                .is_some_and(|head| head.last().is_none_or(|b| !b.is_ascii_alphanumeric()))
    })
}

/// Whether the label of an order's, an invoice's, a parcel's or a booking's number ends
/// in the 24 bytes before `start`, on its line.
fn reference_before(bytes: &[u8], start: usize) -> bool {
    const LABELS: &[&[u8]] = &[
        b"order",
        b"invoice",
        b"tracking",
        b"reference",
        b"ref",
        b"ticket",
        b"booking",
        b"transaction",
        b"confirmation",
        b"shipment",
        b"parcel",
        b"receipt",
        b"facture",
        b"commande",
        b"rechnung",
        b"bestellung",
        b"pedido",
        b"factura",
        b"zam\xc3\xb3wienie",
        b"faktura",
    ];
    let window = bytes
        .get(start.saturating_sub(24)..start)
        .unwrap_or_default();
    let line = window
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(window, |n| window.get(n + 1..).unwrap_or_default());
    let mut buffer = [0u8; 24];
    let lower = buffer.get_mut(..line.len()).unwrap_or_default();
    lower.copy_from_slice(line);
    lower.make_ascii_lowercase();
    let lower = &*lower;
    LABELS.iter().any(|l| {
        memchr::memmem::find_iter(lower, l).any(|at| {
            at.checked_sub(1)
                .and_then(|b| lower.get(b))
                .is_none_or(|b| !b.is_ascii_alphabetic())
        })
    })
}

/// A letter-and-digit identifier: one alphanumeric token with a validator.
#[derive(Debug)]
pub(crate) struct TokenRule {
    /// What a match becomes.
    pub info: ClassInfo,
    /// Token lengths accepted.
    pub lengths: std::ops::RangeInclusive<usize>,
    /// Shape and checksum over the token bytes (as written; most ids are uppercase).
    pub validate: fn(&[u8]) -> bool,
    /// Context words.
    pub words: &'static [&'static str],
    /// Whether context is required.
    pub needs_context: bool,
    /// Confidence without context.
    pub base: f32,
}

impl TokenRule {
    /// Appends this rule's candidates in `input` to `out`.
    pub fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        if self.needs_context {
            let candidates = || {
                self.lengths
                    .clone()
                    .map(|len| input.tokens_of_len(len).count())
                    .sum()
            };
            if input.words_absent(self.words, candidates) {
                return;
            }
        }
        for t in self
            .lengths
            .clone()
            .flat_map(|len| input.tokens_of_len(len))
        {
            let Some(token) = input.bytes.get(t.start..t.end) else {
                continue;
            };
            // After `1.`, a token is the fraction of a number (`1.7800590868057611E-307`).
            let fraction = input.byte_before(t.start) == Some(b'.')
                && t.start
                    .checked_sub(1)
                    .and_then(|dot| input.byte_before(dot))
                    .is_some_and(|b| b.is_ascii_digit());
            if !input.word_boundary_before(t.start)
                || !input.word_boundary_after(t.end)
                || fraction
                || !(self.validate)(token)
            {
                continue;
            }
            let context = input.context(t.start, t.end, self.words);
            if self.needs_context && !context.any() {
                continue;
            }
            out.extend(input.finding(&self.info, t.start, t.end, context.boost(self.base)));
        }
    }
}

/// Letters, digits and underscore, in any script: what "whole word" means here.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A built-in class description.
pub(crate) fn class_info(class: &str, entity: &str, severity: Severity) -> ClassInfo {
    ClassInfo {
        class: std::sync::Arc::from(class),
        entity: std::sync::Arc::from(entity),
        severity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn long_chain_groups_are_the_groups_starting_long_near_chains(
            text in "[0-9 a.(+-]{0,60}",
        ) {
            let input = Input::new(&text);
            let groups = input.digit_groups();
            let naive: Vec<usize> = (0..groups.len())
                .filter(|&i| {
                    let mut digits = 0;
                    for (n, g) in groups.iter().enumerate().skip(i) {
                        if n > i && g.start - groups[n - 1].end > NEAR_GAP {
                            break;
                        }
                        digits += g.len();
                    }
                    digits >= LONG_CHAIN_DIGITS
                })
                .collect();
            let got: Vec<usize> = input.long_chain_groups().collect();
            proptest::prop_assert_eq!(got, naive);
        }
    }

    #[test]
    fn long_chains_skip_the_numbers_of_prose() {
        let input = Input::new("In 2023 we had 41,000 tickets; call 415 555 2671 or 5.5 h");
        let starts: Vec<usize> = input.long_chain_groups().collect();
        // `415`, `555` and `2671` are one chain of ten digits; only `415` starts nine.
        assert_eq!(starts, vec![3]);
    }

    #[test]
    fn digit_groups_are_maximal_runs() {
        let input = Input::new("a12 345-6789x0");
        let groups: Vec<(usize, usize)> = input
            .digit_groups()
            .iter()
            .map(|g| (g.start, g.end))
            .collect();
        assert_eq!(groups, vec![(1, 3), (4, 7), (8, 12), (13, 14)]);
    }

    #[test]
    fn word_boundaries_see_unicode_letters() {
        let input = Input::new("é1 2");
        assert!(!input.word_boundary_before(2));
        assert!(input.word_boundary_before(4));
        assert!(input.word_boundary_after(3));
        assert!(input.word_boundary_after(5));
    }

    /// The boundary checks of the first scanner, char by char.
    fn slow_boundaries(text: &str, i: usize) -> (bool, bool) {
        let before = match text.get(..i).and_then(|s| s.chars().next_back()) {
            Some(c) => !is_word_char(c),
            None => true,
        };
        let after = match text.get(i..).and_then(|s| s.chars().next()) {
            Some(c) => !is_word_char(c),
            None => true,
        };
        (before, after)
    }

    proptest::proptest! {
        #[test]
        fn word_boundaries_equal_the_char_by_char_rule(text in "[a-zé_ 1.\u{2014}\u{300}]{0,12}") {
            for i in 0..=text.len() + 1 {
                proptest::prop_assert_eq!(
                    (word_boundary_before(&text, i), word_boundary_after(&text, i)),
                    slow_boundaries(&text, i),
                    "{:?} at {}", text, i
                );
            }
        }
    }

    /// Every word of every registered list is seen as context, before and after a value, in any ASCII case.
    #[test]
    fn every_declared_context_word_is_found() {
        let mut missing = Vec::new();
        for list in keyword_lists() {
            for word in list.iter() {
                for cased in [word.to_string(), word.to_ascii_uppercase()] {
                    let before = format!("{cased} 4242 x");
                    let at = before.len() - 6;
                    let after = format!("x 4242 {cased}");
                    let seen_before = Input::new(&before).context(at, at + 4, list).before;
                    let seen_after = Input::new(&after).context(2, 6, list).after;
                    if !seen_before || !seen_after {
                        missing.push(format!("{cased:?} ({seen_before}, {seen_after})"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "context words never seen: {missing:?}");
    }

    #[test]
    fn context_is_case_insensitive_and_bounded() {
        let input = Input::new("My SSN is 123456789");
        assert!(input.context_before(10, 32, &["ssn"]));
        assert!(!input.context_before(10, 5, &["ssn"]));
        assert!(!input.context_before(100, 5, &["ssn"]));
        // A keyword inside a longer word is not one.
        let input = Input::new("__X32_SYSCALL_BIT = 1073741824, recall 4155552671");
        assert!(!input.context_before(20, 32, &["call"]));
        assert!(!input.context_before(39, 12, &["call"]));
        assert!(Input::new("callback 4155552671").context_before(9, 32, &["call"]));
        // The last part of a name counts when asked for; a part inside it never does.
        let mac = |text: &str, at: usize| Input::new(text).context_before_or_name(at, 24, &["mac"]);
        assert!(mac("DeviceMac: FD:DE:CF:BA:C5:ED", 11));
        assert!(mac("device_mac=FD:DE:CF:BA:C5:ED", 11));
        assert!(!mac("device_macro FD:DE:CF", 13));
        assert!(!mac("DeviceMacro FD:DE:CF", 12));
        assert!(!mac("hmac FD:DE:CF", 5));
        // Only where asked for: a constant's last part is no phone's label.
        assert!(!Input::new("VHOST_SET_VRING_CALL = 1074310945").context_before(23, 32, &["call"]));
    }
}

#[cfg(test)]
mod keyword_across_tests {
    #[test]
    fn a_keyword_broken_at_a_space_is_found_across_it() {
        assert!(super::keyword_across(b"Secret access", b"key"));
        assert!(super::keyword_across(b"Drivers", b"license number"));
        assert!(!super::keyword_across(b"Diagnosis", b"breast"));
        assert!(!super::keyword_across(b"Created", b"at"));
    }
}
