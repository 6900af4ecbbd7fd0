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

/// A text with a digit group per this many bytes or more has every group's digits
/// copied up front (see [`DigitWindows::fill`]).
const COPY_ALL_BYTES_PER_GROUP: usize = 16;

/// Whether `b` is a separator some number rule accepts between digit groups (` `,
/// `-`, `.`, `/`), tested with no loop.
fn is_window_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/')
}

/// Windows of more groups than this get a packed shape no rule can have.
const MAX_PACKED_GROUPS: usize = 12;

/// Group lengths (each 1 to [`MAX_WINDOW_DIGITS`]) packed five bits each, first group
/// highest; `u64::MAX` for more than [`MAX_PACKED_GROUPS`] groups. Two windows have the
/// same packed value exactly when they have the same group lengths (no length is 0,
/// so no shorter list packs like a longer one).
pub(crate) fn pack_groups(lens: &[usize]) -> u64 {
    if lens.len() > MAX_PACKED_GROUPS {
        return u64::MAX;
    }
    lens.iter()
        .fold(0, |packed, &len| packed << 5 | (len as u64 & 31))
}

/// Appends the digits of `g` in `bytes` to `digits`, eight bytes at a time (a
/// fixed-size copy is a single load and store, where a copy of a group's few bytes would
/// be a `memcpy` call), then cuts the excess.
fn copy_digits(bytes: &[u8], g: &DigitGroup, digits: &mut Vec<u8>) {
    digits.reserve(g.len() + 8);
    let mut from = g.start;
    while from < g.end {
        let to = (from + 8).min(g.end);
        let kept = digits.len() + (to - from);
        match bytes.get(from..).and_then(<[u8]>::first_chunk::<8>) {
            Some(chunk) => digits.extend_from_slice(chunk),
            None => digits.extend_from_slice(bytes.get(from..to).unwrap_or_default()),
        }
        digits.truncate(kept);
        from = to;
    }
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
    /// The separator joining the groups, or 0 for a single group.
    pub sep: u8,
    /// The longest group in the window.
    pub widest: usize,
    /// The lengths of its groups, packed (see [`pack_groups`]).
    pub groups: u64,
    /// Where the window's digits start in [`DigitWindows::digits`].
    digits_at: usize,
    /// Number of digits.
    len: usize,
}

/// A [`DigitWindow`] as stored: a dense text has hundreds of thousands of windows.
#[derive(Debug, Clone, Copy)]
struct StoredWindow {
    start: u32,
    end: u32,
    groups: u64,
    first: u32,
    digits_at: u32,
    sep: u8,
    widest: u8,
    len: u8,
}

/// Every digit window of a text, by digit count.
#[derive(Debug, Default)]
pub(crate) struct DigitWindows {
    /// The windows of each digit count, each list in order of start (stored apart, so
    /// that a rule reading the lengths it accepts reads consecutive memory).
    by_len: [Vec<StoredWindow>; MAX_WINDOW_DIGITS + 1],
    /// The digits of the groups in windows, one group after the other, so that a
    /// window's digits are one slice.
    digits: Vec<u8>,
}

impl DigitWindows {
    /// Lists the windows over `groups` of `bytes`.
    #[cfg(test)]
    pub fn new(bytes: &[u8], groups: &[DigitGroup]) -> Self {
        let mut windows = DigitWindows::default();
        windows.fill(bytes, groups);
        windows
    }

    /// Replaces the windows listed with those over `groups` of `bytes`, keeping the
    /// allocations.
    pub fn fill(&mut self, bytes: &[u8], groups: &[DigitGroup]) {
        let DigitWindows { by_len, digits } = self;
        for list in by_len.iter_mut() {
            list.clear();
        }
        digits.clear();
        // Groups are copied into `digits` once each, in order, when a window first
        // needs them (most groups of prose never reach MIN_WINDOW_DIGITS): the groups
        // before `copied` are either copied, one after the other since the last group
        // that started a new run of copies, or in no window at all. A text dense with
        // digit groups has nearly all of them in windows: all are copied up front.
        let mut copied = 0;
        if groups.len().saturating_mul(COPY_ALL_BYTES_PER_GROUP) >= bytes.len() {
            for g in groups {
                copy_digits(bytes, g, digits);
            }
            copied = groups.len();
        }
        // Where the digits of the next group go if it continues the current run.
        let mut next_at = 0;
        for (i, first) in groups.iter().enumerate() {
            let first_at = if i < copied {
                next_at
            } else {
                copied = i;
                digits.len()
            };
            next_at = first_at + first.len();
            // Too long, or too short with no group a byte after it (most groups of
            // prose): no window starts here.
            if first.len() > MAX_WINDOW_DIGITS
                || (first.len() < MIN_WINDOW_DIGITS
                    && groups.get(i + 1).is_none_or(|g| g.start != first.end + 1))
            {
                continue;
            }
            // Indices, offsets and digit offsets beyond u32 (a text of gigabytes) end
            // the list.
            let (Ok(first_index), Ok(digits_at), Ok(start), Ok(_)) = (
                u32::try_from(i),
                u32::try_from(first_at),
                u32::try_from(first.start),
                u32::try_from(first.end + MAX_WINDOW_DIGITS * 2),
            ) else {
                break;
            };
            let mut sep = 0u8;
            let mut widest = 0u8;
            let mut packed = 0u64;
            let mut count = 0;
            let mut len = 0;
            let mut prev = *first;
            for (n, g) in groups.get(i..).unwrap_or_default().iter().enumerate() {
                if g.start != first.start {
                    // One separator byte, the same one all along the window.
                    let joined = match bytes.get(prev.end) {
                        Some(&b) if g.start == prev.end + 1 => b,
                        _ => break,
                    };
                    let same = if sep == 0 {
                        is_window_separator(joined)
                    } else {
                        joined == sep
                    };
                    if !same {
                        break;
                    }
                    sep = joined;
                }
                len += g.len();
                if len > MAX_WINDOW_DIGITS {
                    break;
                }
                // Both at most MAX_WINDOW_DIGITS here.
                widest = widest.max(g.len() as u8);
                count += 1;
                packed = if count > MAX_PACKED_GROUPS {
                    u64::MAX
                } else {
                    packed << 5 | g.len() as u64
                };
                prev = *g;
                if len < MIN_WINDOW_DIGITS {
                    continue;
                }
                while copied <= i + n {
                    if let Some(h) = groups.get(copied) {
                        copy_digits(bytes, h, digits);
                    }
                    copied += 1;
                }
                // `g.end` is within MAX_WINDOW_DIGITS * 2 bytes of `first.end` (at most
                // that many digits and separators), checked above to fit.
                let window = StoredWindow {
                    start,
                    end: u32::try_from(g.end).unwrap_or(u32::MAX),
                    groups: packed,
                    first: first_index,
                    digits_at,
                    sep,
                    widest,
                    len: len as u8,
                };
                if let Some(list) = by_len.get_mut(len) {
                    list.push(window);
                }
            }
        }
    }

    /// Bytes held by the allocations.
    pub fn capacity_bytes(&self) -> usize {
        let windows: usize = self.by_len.iter().map(Vec::capacity).sum();
        windows * std::mem::size_of::<StoredWindow>() + self.digits.capacity()
    }

    /// The windows of exactly `len` digits, in order of start (none below
    /// [`MIN_WINDOW_DIGITS`]).
    pub fn of_len(&self, len: usize) -> impl Iterator<Item = DigitWindow> + '_ {
        self.by_len
            .get(len)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|w| DigitWindow {
                start: w.start as usize,
                end: w.end as usize,
                first: w.first as usize,
                sep: w.sep,
                widest: usize::from(w.widest),
                groups: w.groups,
                digits_at: w.digits_at as usize,
                len: usize::from(w.len),
            })
    }

    /// How many windows have `len` digits.
    pub fn count_of_len(&self, len: usize) -> usize {
        self.by_len.get(len).map_or(0, Vec::len)
    }

    /// Whether there is any window of `len` digits.
    pub fn has_len(&self, len: usize) -> bool {
        self.by_len.get(len).is_some_and(|list| !list.is_empty())
    }

    /// The digits of `window`, without separators.
    pub fn digits(&self, window: &DigitWindow) -> &[u8] {
        self.digits
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
        /// A window's digits are those of its text, whether the groups' digits are
        /// copied up front (a text dense with groups) or as windows need them (the
        /// same text padded with letters).
        #[test]
        fn window_digits_are_the_text_digits(text in "[0-9 ./,a-]{0,60}") {
            for text in [text.clone(), format!("{text}{}", "x".repeat(2000))] {
                let bytes = text.as_bytes();
                let groups = digit_groups(bytes);
                let windows = DigitWindows::new(bytes, &groups);
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
        fn packed_groups_equal_the_text_split(text in "[0-9 ./,a-]{0,60}") {
            let groups = digit_groups(text.as_bytes());
            let windows = DigitWindows::new(text.as_bytes(), &groups);
            for len in MIN_WINDOW_DIGITS..=MAX_WINDOW_DIGITS {
                for w in windows.of_len(len) {
                    let lens: Vec<usize> = text.as_bytes()[w.start..w.end]
                        .split(|b| !b.is_ascii_digit())
                        .map(<[u8]>::len)
                        .collect();
                    proptest::prop_assert_eq!(w.groups, pack_groups(&lens));
                    proptest::prop_assert_eq!(w.sep != 0, w.end - w.start > len);
                }
            }
        }

        #[test]
        fn packing_tells_group_lists_apart(
            a in proptest::collection::vec(1usize..=19, 0..14),
            b in proptest::collection::vec(1usize..=19, 0..14),
        ) {
            let short = |v: &Vec<usize>| v.len() <= MAX_PACKED_GROUPS;
            if short(&a) || short(&b) {
                proptest::prop_assert_eq!(pack_groups(&a) == pack_groups(&b), a == b);
            }
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
        let groups = digit_groups(text);
        let windows = DigitWindows::new(text, &groups);
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
