//! Shapes several detectors start from, computed once per text: digit groups, the
//! windows of consecutive digit groups that number rules read, and capital letters.
//!
//! Prose is mostly letters and spaces, so the one pass that finds digits and capitals
//! (and the blocks the base64 search starts from) turns each block of 64 bytes into bit
//! masks (SIMD compares and `movemask`, see `scan::masks`) and visits only the set
//! bits, a run of digits at a time. One pass rather than one per use: on a long text,
//! reading the text again costs more than the compares.
//!
//! Digit windows replace a walk per number rule: every window of one to several digit
//! groups joined by one consistent single-byte separator (` `, `-`, `.`, `/`) and
//! holding at most [`MAX_WINDOW_DIGITS`] digits is listed once, by digit count, with its
//! digits; a rule reads the lengths it accepts and keeps the separators it allows.

use super::{LooseLink, MAX_LOOSE_GAP};
use crate::scan::masks::masks64;

/// A maximal run of ASCII digits: `bytes[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DigitGroup {
    /// First digit.
    pub start: usize,
    /// One past the last digit.
    pub end: usize,
}

impl DigitGroup {
    /// Number of digits.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Whether `b` is an ASCII capital or the first byte of a non-ASCII character.
#[cfg(test)]
fn is_capital(b: u8) -> bool {
    b.is_ascii_uppercase() || b >= 0xC0
}

/// What the one full-text pass of [`digits_and_capitals`] finds.
/// Digit groups, capitals, unbroken blocks, and the loose link of each digit group to
/// the next (see `Input::loose_link`).
pub(crate) type TextShapes = (Vec<DigitGroup>, Vec<usize>, Vec<usize>, Vec<LooseLink>);

/// The digit groups and the capitals of `bytes` (see [`digit_groups`] and
/// [`capitals`]), and the unbroken blocks of the base64 search (see [`unbroken_blocks`]),
/// in one pass over the text: each block of 64 bytes becomes three bit masks (SIMD
/// compares and a `movemask` per 16 bytes, see `scan::masks`), and only set bits are
/// visited, a run of digits at a time.
#[cfg(test)]
pub(crate) fn digits_and_capitals(bytes: &[u8]) -> TextShapes {
    digits_and_capitals_in(bytes, Vec::with_capacity(64), Vec::with_capacity(64))
}

/// [`digits_and_capitals`] into the (cleared) allocations of `groups` and `capitals`.
pub(crate) fn digits_and_capitals_in(
    bytes: &[u8],
    mut groups: Vec<DigitGroup>,
    mut capitals: Vec<usize>,
) -> TextShapes {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    groups.clear();
    capitals.clear();
    let mut unbroken_blocks = Vec::new();
    // Computed as each group starts, while the bytes since the previous one are still
    // in cache (the rules that read them run long after this pass).
    let mut links: Vec<LooseLink> = Vec::new();
    let (blocks, rest) = bytes.as_chunks::<64>();
    // The last partial block, padded with zeros: neither digits nor capitals, and below
    // `+` (an 8-byte block that reaches into the padding is broken).
    let mut tail = [0u8; 64];
    if let Some(t) = tail.get_mut(..rest.len()) {
        t.copy_from_slice(rest);
    }
    let all = blocks.iter().chain((!rest.is_empty()).then_some(&tail));
    for (k, block) in all.enumerate() {
        let [mut digits, mut upper, below] = masks64(block, |b| {
            [
                b.range(b'0', b'9').bits(),
                b.range(b'A', b'Z').or(b.range(0xC0, 0xFF)).bits(),
                b.range(0, b'+' - 1).bits(),
            ]
        });
        let base = k * 64;
        while digits != 0 {
            // A whole run of digits at once: from the lowest set bit to the next clear one.
            let from = digits.trailing_zeros() as usize;
            let len = (digits >> from).trailing_ones() as usize;
            let (start, end) = (base + from, base + from + len);
            match groups.last_mut() {
                Some(g) if g.end == start => g.end = end,
                Some(g) => {
                    links.push(loose_link(bytes, g.end, start));
                    groups.push(DigitGroup { start, end });
                }
                None => groups.push(DigitGroup { start, end }),
            }
            digits &= u64::MAX.checked_shl((from + len) as u32).unwrap_or(0);
        }
        while upper != 0 {
            capitals.push(base + upper.trailing_zeros() as usize);
            upper &= upper - 1;
        }
        // The high bit of each byte of `below` (the bits of one 8-byte block) that is
        // zero (exact: no carry crosses a byte, each sum is at most 0xFE).
        let mut unbroken = !(((below & LOW7) + LOW7) | below) & !LOW7;
        while unbroken != 0 {
            let at = unbroken.trailing_zeros() / 8 * 8;
            unbroken &= unbroken - 1;
            // The breaks before and after the block, when both are in this 64 bytes.
            let before = below & ((1u64 << at) - 1);
            let after = below.checked_shr(at + 8).unwrap_or(0);
            if before != 0 && after != 0 {
                let free_before = at - (63 - before.leading_zeros()) - 1;
                let free_after = after.trailing_zeros();
                if free_before + 8 + free_after < 16 {
                    continue;
                }
            }
            unbroken_blocks.push(base + at as usize);
        }
    }
    (groups, capitals, unbroken_blocks, links)
}

/// How the digit groups ending at `end` and starting at `start` are joined: loosely
/// when one to [`MAX_LOOSE_GAP`] bytes of spaces, dashes, dots, slashes, underscores,
/// tabs or line breaks lie between them (`len` 0 otherwise).
fn loose_link(bytes: &[u8], end: usize, start: usize) -> LooseLink {
    let none = LooseLink { len: 0, first: 0 };
    if start - end > MAX_LOOSE_GAP {
        return none;
    }
    match bytes.get(end..start) {
        Some(gap)
            if gap
                .iter()
                .all(|b| matches!(b, b' ' | b'-' | b'.' | b'/' | b'_' | b'\t' | b'\r' | b'\n')) =>
        {
            LooseLink {
                len: gap.len() as u8,
                first: gap.first().copied().unwrap_or(0),
            }
        }
        _ => none,
    }
}

/// All maximal runs of ASCII digits in `bytes`, in order.
#[cfg(test)]
pub(crate) fn digit_groups(bytes: &[u8]) -> Vec<DigitGroup> {
    digits_and_capitals(bytes).0
}

/// Positions of ASCII capitals and of the first bytes of non-ASCII characters (which
/// may be capitals too), in order.
#[cfg(test)]
pub(crate) fn capitals(bytes: &[u8]) -> Vec<usize> {
    digits_and_capitals(bytes).1
}

/// In order, every multiple of 8 `i` such that `bytes[i..i + 8]` holds no byte below
/// `+` and could lie in a run of 16 bytes without one: every block inside a base64
/// token of 16 bytes or more (base64 characters are all `+` or above), and some others.
/// A block whose nearest breaks on both sides lie in the same 64 bytes and leave fewer
/// than 16 bytes between them (a long word of prose) is left out.
#[cfg(test)]
pub(crate) fn unbroken_blocks(bytes: &[u8]) -> Vec<usize> {
    digits_and_capitals(bytes).2
}

/// Items grouped by length (a counting sort of their indices), each group in the order
/// of the items.
#[derive(Debug)]
pub(crate) struct LengthIndex {
    /// Item indices, by length (lengths of [`LengthIndex::LONGEST`] and more together).
    sorted: Vec<usize>,
    /// `sorted[offsets[n]..offsets[n + 1]]` are the items of length `n`.
    offsets: [usize; LengthIndex::LONGEST + 2],
}

impl LengthIndex {
    /// Lengths from this one up share a group.
    const LONGEST: usize = 32;

    /// Indexes items of the given lengths, on the allocation of `sorted` (its items
    /// are dropped).
    pub fn new_in(lengths: impl Iterator<Item = usize> + Clone, mut sorted: Vec<usize>) -> Self {
        let bucket = |len: usize| len.min(Self::LONGEST);
        let mut offsets = [0; Self::LONGEST + 2];
        for len in lengths.clone() {
            if let Some(count) = offsets.get_mut(bucket(len) + 1) {
                *count += 1;
            }
        }
        for n in 1..offsets.len() {
            let before = offsets.get(n - 1).copied().unwrap_or(0);
            if let Some(at) = offsets.get_mut(n) {
                *at += before;
            }
        }
        let mut next = offsets;
        sorted.clear();
        sorted.resize(offsets.last().copied().unwrap_or(0), 0);
        for (i, len) in lengths.enumerate() {
            if let Some(at) = next.get_mut(bucket(len))
                && let Some(slot) = sorted.get_mut(*at)
            {
                *slot = i;
                *at += 1;
            }
        }
        LengthIndex { sorted, offsets }
    }

    /// The allocation of the index, for [`LengthIndex::new_in`].
    pub fn into_buffer(self) -> Vec<usize> {
        self.sorted
    }

    /// Indices of the items of length `len` (for `len` of [`LengthIndex::LONGEST`] or
    /// more: of every such length), in order.
    pub fn of_len(&self, len: usize) -> impl Iterator<Item = usize> + '_ {
        let len = len.min(Self::LONGEST);
        let from = self.offsets.get(len).copied().unwrap_or(0);
        let to = self.offsets.get(len + 1).copied().unwrap_or(from);
        self.sorted
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .copied()
    }
}

/// The most digits in a window (a payment card has at most 19).
pub(crate) const MAX_WINDOW_DIGITS: usize = 19;
/// The fewest digits in a listed window: no rule reads shorter ones (a bank account
/// has 6 digits or more), though shorter groups start longer windows.
pub(crate) const MIN_WINDOW_DIGITS: usize = 6;
/// Every separator any number rule accepts between digit groups.
#[cfg(test)]
const WINDOW_SEPARATORS: &[u8] = b" -./";

/// Whether `b` is a separator some number rule accepts between digit groups (` `,
/// `-`, `.`, `/`), tested with no loop.
fn is_window_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/')
}

/// One window of digit groups.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DigitWindow {
    /// First digit.
    pub start: usize,
    /// One past the last digit.
    pub end: usize,
    /// Index of the first group in [`digit_groups`]' list.
    pub first: usize,
    /// How many groups the window holds.
    pub count: usize,
    /// The separator joining the groups, or 0 for a single group.
    pub sep: u8,
    /// Where the window's digits start in [`DigitWindows::digits`].
    digits_at: usize,
    /// Number of digits.
    len: usize,
}

/// A group of more digits than this is wide: no grouped card number has one.
pub(crate) const WIDE_GROUP: usize = 8;

/// How many window lengths there are (one bit set per start and length).
const WINDOW_LENGTHS: usize = MAX_WINDOW_DIGITS - MIN_WINDOW_DIGITS + 1;

/// The digit windows of a text, read a length at a time.
///
/// No window is stored: a text of one-digit groups (`1 1 1 …`) has fourteen windows
/// per group, and a stored window takes tens of bytes. What is kept is a few numbers
/// per group (where its digits are, the separator after it) and, per length, a bit
/// per group that tells whether a window of that length starts there.
/// [`Windows::of_len`] visits the set bits and finds where each window ends.
#[derive(Debug, Default)]
pub(crate) struct DigitWindows {
    /// Per group, where its digits start in `digits`, and one more entry: the number
    /// of digits of all groups (so group `i` has `at[i + 1] - at[i]` digits).
    at: Vec<usize>,
    /// Per group, the separator joining it to the next (one byte from ` -./` right
    /// after it, with the next group right after that), or 0.
    joins: Vec<u8>,
    /// Per group, how many groups before it are wide (see [`WIDE_GROUP`]), and one
    /// more entry for all of them.
    wide_before: Vec<usize>,
    /// Per window length from [`MIN_WINDOW_DIGITS`], a bit per group: set when a
    /// window of that length starts at the group.
    starts: [Vec<u64>; WINDOW_LENGTHS],
    /// Per window length from [`MIN_WINDOW_DIGITS`], how many windows have it.
    counts: [usize; WINDOW_LENGTHS],
    /// The digits of every group, one group after the other, so that a window's
    /// digits are one slice.
    digits: Vec<u8>,
}

impl DigitWindows {
    /// The windows of `bytes`, and its digit groups (see [`DigitWindows::view`]).
    #[cfg(test)]
    pub fn new(bytes: &[u8]) -> (Self, Vec<DigitGroup>) {
        let (groups, _, _, links) = digits_and_capitals(bytes);
        let mut windows = DigitWindows::default();
        windows.fill(bytes, &groups, &links);
        (windows, groups)
    }

    /// Replaces the windows with those over `groups` of `bytes`, keeping the
    /// allocations. `links` holds the loose link of each group to the next (see
    /// [`digits_and_capitals`]).
    pub fn fill(&mut self, bytes: &[u8], groups: &[DigitGroup], links: &[LooseLink]) {
        let DigitWindows {
            at,
            joins,
            wide_before,
            starts,
            counts,
            digits,
        } = self;
        *counts = [0; WINDOW_LENGTHS];
        // A window's join is a loose link of one separator byte.
        joins.clear();
        joins.extend(links.iter().map(|link| {
            if link.len == 1 && is_window_separator(link.first) {
                link.first
            } else {
                0
            }
        }));
        joins.resize(groups.len(), 0);
        let mut total = 0;
        at.clear();
        at.extend(groups.iter().map(|g| {
            let here = total;
            total += g.len();
            here
        }));
        at.push(total);
        let mut wide = 0;
        wide_before.clear();
        wide_before.extend(groups.iter().map(|g| {
            let here = wide;
            wide += usize::from(g.len() > WIDE_GROUP);
            here
        }));
        wide_before.push(wide);
        let words = groups.len().div_ceil(64);
        for list in starts.iter_mut() {
            list.clear();
            list.resize(words, 0);
        }
        // Each group in a window (most groups of prose are in none) has its digits
        // put at their place in `digits`, eight bytes at a time, the next group
        // overwriting the excess, and has the windows it starts marked: groups are
        // added while each join is the first one's and the digits number at most
        // MAX_WINDOW_DIGITS.
        digits.clear();
        digits.resize(total + 8, 0);
        let mut joined_before = false;
        for (i, ((g, &join), &to)) in groups.iter().zip(joins.iter()).zip(at.iter()).enumerate() {
            let listed = joined_before || join != 0 || g.len() >= MIN_WINDOW_DIGITS;
            joined_before = join != 0;
            if !listed || g.len() > MAX_WINDOW_DIGITS {
                continue;
            }
            let (mut from, mut to) = (g.start, to);
            while from < g.end {
                let Some(chunk) = bytes.get(from..).and_then(<[u8]>::first_chunk::<8>) else {
                    let rest = bytes.get(from..g.end).unwrap_or_default();
                    if let Some(place) = digits.get_mut(to..to + rest.len()) {
                        place.copy_from_slice(rest);
                    }
                    break;
                };
                if let Some(place) = digits.get_mut(to..).and_then(<[u8]>::first_chunk_mut::<8>) {
                    *place = *chunk;
                }
                from += 8;
                to += 8;
            }
            let mut len = g.len();
            let mut j = i;
            while len <= MAX_WINDOW_DIGITS {
                if let Some(k) = len.checked_sub(MIN_WINDOW_DIGITS)
                    && let (Some(word), Some(count)) = (
                        starts.get_mut(k).and_then(|list| list.get_mut(i / 64)),
                        counts.get_mut(k),
                    )
                {
                    *word |= 1 << (i % 64);
                    *count += 1;
                }
                if join == 0 || joins.get(j) != Some(&join) {
                    break;
                }
                j += 1;
                len += groups.get(j).map_or(usize::MAX, DigitGroup::len);
            }
        }
    }

    /// Bytes held by the allocations.
    pub fn capacity_bytes(&self) -> usize {
        let starts: usize = self.starts.iter().map(Vec::capacity).sum();
        (self.at.capacity() + self.wide_before.capacity()) * std::mem::size_of::<usize>()
            + starts * std::mem::size_of::<u64>()
            + self.joins.capacity()
            + self.digits.capacity()
    }

    /// The windows over `groups`, the groups these were filled from.
    pub fn view<'t>(&'t self, groups: &'t [DigitGroup]) -> Windows<'t> {
        Windows {
            store: self,
            groups,
        }
    }
}

/// The windows of one length, in order of start (see [`Windows::of_len`]).
pub(crate) struct OfLen<'t> {
    windows: Windows<'t>,
    /// The start bits, a word per 64 groups.
    words: &'t [u64],
    /// The next word to read.
    next: usize,
    /// The group of bit 0 of `bits`.
    base: usize,
    /// The start bits of the word being read, those not returned yet.
    bits: u64,
    /// The last group of the window returned before (windows of one length end in
    /// order as they start in order).
    last: usize,
    len: usize,
}

impl Iterator for OfLen<'_> {
    type Item = DigitWindow;

    #[inline]
    fn next(&mut self) -> Option<DigitWindow> {
        loop {
            while self.bits == 0 {
                self.bits = *self.words.get(self.next)?;
                self.base = self.next * 64;
                self.next += 1;
            }
            let i = self.base + self.bits.trailing_zeros() as usize;
            self.bits &= self.bits - 1;
            let store = self.windows.store;
            // The window's last group: the one whose end is `len` digits from the
            // start of group `i`, at or after the last one before.
            let (Some(&from), Some(first)) = (store.at.get(i), self.windows.groups.get(i)) else {
                continue;
            };
            let target = from + self.len;
            let mut last = self.last.max(i);
            while store.at.get(last + 1).is_some_and(|&end| end < target) {
                last += 1;
            }
            self.last = last;
            let (Some(end), Some(&sep)) = (self.windows.groups.get(last), store.joins.get(i))
            else {
                continue;
            };
            return Some(DigitWindow {
                start: first.start,
                end: end.end,
                first: i,
                count: last - i + 1,
                sep: if last > i { sep } else { 0 },
                digits_at: from,
                len: self.len,
            });
        }
    }
}

/// The digit windows of a text, with its digit groups: what number rules read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Windows<'t> {
    store: &'t DigitWindows,
    groups: &'t [DigitGroup],
}

impl<'t> Windows<'t> {
    /// The start bits of windows of `len` digits (none outside the listed lengths).
    fn starts_of(&self, len: usize) -> &'t [u64] {
        if self.count_of_len(len) == 0 {
            return &[];
        }
        len.checked_sub(MIN_WINDOW_DIGITS)
            .and_then(|k| self.store.starts.get(k))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The windows of exactly `len` digits, in order of start (none below
    /// [`MIN_WINDOW_DIGITS`] or above [`MAX_WINDOW_DIGITS`]): every run of consecutive
    /// groups joined by one separator throughout (or a single group) whose digits
    /// number `len`.
    pub fn of_len(&self, len: usize) -> OfLen<'t> {
        OfLen {
            windows: *self,
            words: self.starts_of(len),
            next: 0,
            base: 0,
            bits: 0,
            last: 0,
            len,
        }
    }

    /// How many windows have `len` digits.
    pub fn count_of_len(&self, len: usize) -> usize {
        len.checked_sub(MIN_WINDOW_DIGITS)
            .and_then(|k| self.store.counts.get(k))
            .copied()
            .unwrap_or(0)
    }

    /// Whether there is any window of `len` digits.
    pub fn has_len(&self, len: usize) -> bool {
        self.count_of_len(len) > 0
    }

    /// Whether `window` holds a group of more than [`WIDE_GROUP`] digits.
    pub fn has_wide_group(&self, window: &DigitWindow) -> bool {
        let before = |i: usize| self.store.wide_before.get(i).copied().unwrap_or(0);
        before(window.first + window.count) > before(window.first)
    }

    /// Whether the groups of `window` have the digit counts `lens`, in order.
    pub fn group_lens_are(&self, window: &DigitWindow, lens: &[usize]) -> bool {
        window.count == lens.len()
            && self
                .groups
                .get(window.first..window.first + window.count)
                .is_some_and(|groups| groups.iter().zip(lens).all(|(g, &len)| g.len() == len))
    }

    /// The digits of `window`, without separators.
    pub fn digits(&self, window: &DigitWindow) -> &'t [u8] {
        self.store
            .digits
            .get(window.digits_at..window.digits_at + window.len)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_digit_groups(b: &[u8]) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b.get(i).is_some_and(u8::is_ascii_digit) {
                let s = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                v.push((s, i));
            } else {
                i += 1;
            }
        }
        v
    }

    fn fast_digit_groups(b: &[u8]) -> Vec<(usize, usize)> {
        digit_groups(b).iter().map(|g| (g.start, g.end)).collect()
    }

    #[test]
    fn digit_groups_match_a_naive_scan() {
        let long = format!("{}12{}3", "x".repeat(31), "y".repeat(40));
        let texts = [
            "",
            "1",
            "a12 345-6789x0",
            "no digits in this sentence at all, none!",
            "abcdefgh12345678ijklmnop9",
            "0123456789012345678901234567890123456789",
            "é9/:0 \u{7f}\u{ff}8",
            long.as_str(),
        ];
        for text in texts {
            let b = text.as_bytes();
            assert_eq!(fast_digit_groups(b), naive_digit_groups(b), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn digit_groups_blockwise_equals_naive(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            proptest::prop_assert_eq!(fast_digit_groups(&b), naive_digit_groups(&b));
        }
    }

    proptest::proptest! {
        #[test]
        fn unbroken_blocks_hold_every_long_run_and_no_low_byte(
            bytes in proptest::collection::vec(
                proptest::sample::select(b" !*+,-/09AZaz_=\x00\x7f\x80\xff".to_vec()), 0..300),
        ) {
            let found = unbroken_blocks(&bytes);
            let unbroken = |i: usize| bytes[i..i + 8].iter().all(|&b| b >= b'+');
            // The length of the run of bytes not below `+` around `i`.
            let run = |i: usize| {
                let start = bytes[..i].iter().rposition(|&b| b < b'+').map_or(0, |p| p + 1);
                let end = bytes[i..].iter().position(|&b| b < b'+').map_or(bytes.len(), |p| i + p);
                end - start
            };
            let blocks: Vec<usize> = (0..bytes.len() / 8).map(|k| k * 8).collect();
            let long: Vec<usize> = blocks.iter().copied().filter(|&i| unbroken(i) && run(i) >= 16).collect();
            proptest::prop_assert!(found.windows(2).all(|w| w[0] < w[1]), "{:?}", found);
            proptest::prop_assert!(found.iter().all(|&i| i % 8 == 0 && i + 8 <= bytes.len() && unbroken(i)), "{:?}", found);
            proptest::prop_assert!(long.iter().all(|i| found.contains(i)), "{:?} {:?}", long, found);
        }

        #[test]
        fn capitals_match_a_naive_scan(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let naive: Vec<usize> = (0..b.len()).filter(|&i| is_capital(b[i])).collect();
            proptest::prop_assert_eq!(capitals(&b), naive);
        }
    }

    proptest::proptest! {
        /// A window's digits are those of its text, in a text dense with groups and
        /// in the same text padded with letters.
        #[test]
        fn window_digits_are_the_text_digits(text in "[0-9 ./,a-]{0,60}") {
            for text in [text.clone(), format!("{text}{}", "x".repeat(2000))] {
                let bytes = text.as_bytes();
                let (store, groups) = DigitWindows::new(bytes);
                let windows = store.view(&groups);
                for len in MIN_WINDOW_DIGITS..=MAX_WINDOW_DIGITS {
                    for w in windows.of_len(len) {
                        let expected: Vec<u8> =
                            bytes[w.start..w.end].iter().copied().filter(u8::is_ascii_digit).collect();
                        proptest::prop_assert_eq!(windows.digits(&w), expected.as_slice());
                    }
                }
            }
        }

        #[test]
        fn group_lengths_are_the_text_split(text in "[0-9 ./,a-]{0,60}") {
            let (store, groups) = DigitWindows::new(text.as_bytes());
                let windows = store.view(&groups);
            for len in MIN_WINDOW_DIGITS..=MAX_WINDOW_DIGITS {
                for w in windows.of_len(len) {
                    let lens: Vec<usize> = text.as_bytes()[w.start..w.end]
                        .split(|b| !b.is_ascii_digit())
                        .map(<[u8]>::len)
                        .collect();
                    proptest::prop_assert!(windows.group_lens_are(&w, &lens));
                    let mut other = lens.clone();
                    other.push(1);
                    proptest::prop_assert!(!windows.group_lens_are(&w, &other));
                    other.pop();
                    other[0] += 1;
                    proptest::prop_assert!(!windows.group_lens_are(&w, &other));
                    proptest::prop_assert_eq!(w.count, lens.len());
                    proptest::prop_assert_eq!(
                        windows.has_wide_group(&w),
                        lens.iter().any(|&l| l > WIDE_GROUP)
                    );
                    proptest::prop_assert_eq!(w.sep != 0, w.end - w.start > len);
                }
            }
        }

        /// The windows read a length at a time are those of a walk from every group:
        /// each run of groups joined by one separator throughout (or one group), of
        /// 6 to 19 digits.
        #[test]
        fn windows_are_every_run_of_groups_with_one_separator(
            text in "[0-9 ./,a-]{0,80}|([0-9]{1,3}[ -]){0,30}|([0-9]{1,2}[ -]){60,200}",
        ) {
            let bytes = text.as_bytes();
            let (store, groups) = DigitWindows::new(bytes);
                let windows = store.view(&groups);
            let mut expected: Vec<(usize, usize, usize, u8)> = Vec::new();
            for i in 0..groups.len() {
                let mut len = 0;
                let mut sep = 0;
                for j in i..groups.len() {
                    if j > i {
                        let (prev, g) = (groups[j - 1], groups[j]);
                        let b = bytes[prev.end];
                        if g.start != prev.end + 1 || !b" -./".contains(&b) || (sep != 0 && b != sep) {
                            break;
                        }
                        sep = b;
                    }
                    len += groups[j].len();
                    if len > MAX_WINDOW_DIGITS {
                        break;
                    }
                    if len >= MIN_WINDOW_DIGITS {
                        expected.push((len, groups[i].start, groups[j].end, sep));
                    }
                }
            }
            expected.sort();
            let mut listed: Vec<(usize, usize, usize, u8)> = Vec::new();
            for len in 0..=MAX_WINDOW_DIGITS + 2 {
                proptest::prop_assert_eq!(
                    windows.count_of_len(len),
                    expected.iter().filter(|e| e.0 == len).count()
                );
                listed.extend(windows.of_len(len).map(|w| (len, w.start, w.end, w.sep)));
            }
            proptest::prop_assert_eq!(listed, expected);
        }
    }

    #[test]
    fn the_separator_test_is_the_separator_list() {
        for b in 0..=u8::MAX {
            assert_eq!(
                is_window_separator(b),
                WINDOW_SEPARATORS.contains(&b),
                "{b}"
            );
        }
    }

    #[test]
    fn windows_keep_one_separator_and_the_digits() {
        let text = b"4111 1111-1111, 22.33.44";
        let (store, groups) = DigitWindows::new(text);
        let windows = store.view(&groups);
        let spans = |len| -> Vec<(&[u8], &[u8])> {
            windows
                .of_len(len)
                .map(|w| (&text[w.start..w.end], windows.digits(&w)))
                .collect()
        };
        assert_eq!(
            spans(8),
            [
                (&b"4111 1111"[..], &b"41111111"[..]),
                (&b"1111-1111"[..], &b"11111111"[..])
            ]
        );
        assert!(spans(12).is_empty(), "space then dash is two separators");
        assert_eq!(spans(6), [(&b"22.33.44"[..], &b"223344"[..])]);
        assert!(spans(4).is_empty(), "below MIN_WINDOW_DIGITS");
        assert!(windows.has_len(8) && !windows.has_len(12));
    }

    proptest::proptest! {
        #[test]
        fn loose_links_are_the_bytes_between_groups(text in "[0-9 ._/\\-\t\na]{0,60}") {
            let bytes = text.as_bytes();
            let (groups, _, _, links) = digits_and_capitals(bytes);
            proptest::prop_assert_eq!(links.len(), groups.len().saturating_sub(1));
            for (pair, link) in groups.windows(2).zip(&links) {
                let gap = &bytes[pair[0].end..pair[1].start];
                let loose = (1..=MAX_LOOSE_GAP).contains(&gap.len())
                    && gap.iter().all(|b| b" -./_\t\r\n".contains(b));
                proptest::prop_assert_eq!(link.len > 0, loose, "{:?}", gap);
                if loose {
                    proptest::prop_assert_eq!(usize::from(link.len), gap.len());
                    proptest::prop_assert_eq!(link.first, gap[0]);
                }
            }
        }
    }
}
