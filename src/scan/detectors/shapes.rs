//! Shapes several detectors start from, computed once per text: digit groups, the
//! windows of consecutive digit groups that number rules read, and capital letters.
//!
//! Prose is mostly letters and spaces, so the one pass that finds digits and capitals
//! first tests 32 bytes at a time for either (a fold the compiler turns into a handful
//! of SIMD instructions) and only reads blocks that hold one, eight bytes at a time.
//!
//! Digit windows replace a walk per number rule: every window of one to several digit
//! groups joined by one consistent single-byte separator (` `, `-`, `.`, `/`) and
//! holding at most [`MAX_WINDOW_DIGITS`] digits is listed once, by digit count, with its
//! digits; a rule reads the lengths it accepts and keeps the separators it allows.

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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = ONES * 0x80;

/// The high bit of every byte of `word` that lies in `lo..=hi` (both ASCII): two
/// subtractions that cannot borrow across bytes, since every byte is first raised
/// to 0x80 or more.
fn in_range(word: u64, lo: u8, hi: u8) -> u64 {
    let raised = word | HIGH;
    let at_least_lo = raised.wrapping_sub(ONES * u64::from(lo));
    let above_hi = raised.wrapping_sub(ONES * (u64::from(hi) + 1));
    at_least_lo & !above_hi & !word & HIGH
}

/// Whether `b` is an ASCII digit.
fn is_digit(b: u8) -> bool {
    b.wrapping_sub(b'0') < 10
}

/// Whether `b` is an ASCII capital or the first byte of a non-ASCII character.
fn is_capital(b: u8) -> bool {
    // `|`, not `||`: no branch, so that folds over blocks vectorise.
    (b.wrapping_sub(b'A') < 26) | (b >= 0xC0)
}

/// The digit groups and the capitals of `bytes` (see [`digit_groups`] and
/// [`capitals`]), in one pass: blocks of 32 bytes without either are skipped with one
/// vectorised test, the others are read eight bytes at a time.
pub(crate) fn digits_and_capitals(bytes: &[u8]) -> (Vec<DigitGroup>, Vec<usize>) {
    let mut groups: Vec<DigitGroup> = Vec::with_capacity(64);
    let mut capitals = Vec::with_capacity(64);
    let (blocks, rest) = bytes.as_chunks::<32>();
    let mut tail = [0u8; 32];
    if let Some(t) = tail.get_mut(..rest.len()) {
        t.copy_from_slice(rest);
    }
    let all = blocks.iter().chain((!rest.is_empty()).then_some(&tail));
    for (k, block) in all.enumerate() {
        // A plain fold over a fixed-size block vectorises; most blocks stop here.
        let has_digit = block.iter().fold(false, |any, &b| any | is_digit(b));
        let has_capital = block.iter().fold(false, |any, &b| any | is_capital(b));
        if !has_digit && !has_capital {
            continue;
        }
        let (words, _) = block.as_chunks::<8>();
        for (w, word) in words.iter().enumerate() {
            let word = u64::from_le_bytes(*word);
            let base = k * 32 + w * 8;
            let mut digits = if has_digit {
                in_range(word, b'0', b'9')
            } else {
                0
            };
            while digits != 0 {
                let i = base + digits.trailing_zeros() as usize / 8;
                match groups.last_mut() {
                    Some(g) if g.end == i => g.end = i + 1,
                    _ => groups.push(DigitGroup {
                        start: i,
                        end: i + 1,
                    }),
                }
                digits &= digits - 1;
            }
            let mut upper = if has_capital {
                in_range(word, b'A', b'Z') | (word & (word << 1) & HIGH)
            } else {
                0
            };
            while upper != 0 {
                capitals.push(base + upper.trailing_zeros() as usize / 8);
                upper &= upper - 1;
            }
        }
    }
    (groups, capitals)
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
    const LONGEST: usize = 64;

    /// Indexes items of the given lengths.
    pub fn new(lengths: impl Iterator<Item = usize> + Clone) -> Self {
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
        let mut sorted = vec![0; offsets.last().copied().unwrap_or(0)];
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
const WINDOW_SEPARATORS: &[u8] = b" -./";

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
    /// Where the window's digits start in [`DigitWindows::digits`].
    digits_at: usize,
    /// Number of digits.
    len: usize,
}

/// A [`DigitWindow`] as stored: a dense text has hundreds of thousands of windows.
#[derive(Debug, Clone, Copy)]
struct StoredWindow {
    start: usize,
    end: usize,
    first: u32,
    digits_at: u32,
    sep: u8,
    widest: u8,
    len: u8,
}

/// Every digit window of a text, by digit count.
#[derive(Debug)]
pub(crate) struct DigitWindows {
    /// All windows, in order of start.
    windows: Vec<StoredWindow>,
    /// The windows by digit count.
    by_len: LengthIndex,
    /// For each group, the digits of the longest chain starting there.
    digits: Vec<u8>,
}

impl DigitWindows {
    /// Lists the windows over `groups` of `bytes`.
    pub fn new(bytes: &[u8], groups: &[DigitGroup]) -> Self {
        let mut windows: Vec<StoredWindow> = Vec::with_capacity(groups.len() * 2);
        let mut digits = Vec::with_capacity(groups.len() * 8);
        for (i, first) in groups.iter().enumerate() {
            if first.len() > MAX_WINDOW_DIGITS {
                continue;
            }
            // Indices and digit offsets beyond u32 (a text of gigabytes) end the list.
            let (Ok(first_index), Ok(digits_at)) = (u32::try_from(i), u32::try_from(digits.len()))
            else {
                break;
            };
            let mut sep = 0u8;
            let mut widest = 0u8;
            let mut prev = *first;
            for g in groups.get(i..).unwrap_or_default() {
                if g.start != first.start {
                    // One separator byte, the same one all along the window.
                    let joined = (g.start == prev.end + 1)
                        .then(|| bytes.get(prev.end).copied())
                        .flatten()
                        .filter(|b| {
                            if sep == 0 {
                                WINDOW_SEPARATORS.contains(b)
                            } else {
                                *b == sep
                            }
                        });
                    let Some(joined) = joined else {
                        break;
                    };
                    sep = joined;
                }
                let Some(chunk) = bytes.get(g.start..g.end) else {
                    break;
                };
                let len = digits.len() - digits_at as usize + chunk.len();
                if len > MAX_WINDOW_DIGITS {
                    break;
                }
                digits.extend_from_slice(chunk);
                // Both at most MAX_WINDOW_DIGITS here.
                widest = widest.max(g.len() as u8);
                prev = *g;
                if len < MIN_WINDOW_DIGITS {
                    continue;
                }
                windows.push(StoredWindow {
                    start: first.start,
                    end: g.end,
                    first: first_index,
                    digits_at,
                    sep,
                    widest,
                    len: len as u8,
                });
            }
        }
        let by_len = LengthIndex::new(windows.iter().map(|w| usize::from(w.len)));
        DigitWindows {
            windows,
            by_len,
            digits,
        }
    }

    /// The windows of exactly `len` digits, in order of start (none below
    /// [`MIN_WINDOW_DIGITS`]).
    pub fn of_len(&self, len: usize) -> impl Iterator<Item = DigitWindow> + '_ {
        self.by_len
            .of_len(len)
            .filter_map(|i| self.windows.get(i))
            .map(|w| DigitWindow {
                start: w.start,
                end: w.end,
                first: w.first as usize,
                sep: w.sep,
                widest: usize::from(w.widest),
                digits_at: w.digits_at as usize,
                len: usize::from(w.len),
            })
    }

    /// Whether there is any window of `len` digits.
    pub fn has_len(&self, len: usize) -> bool {
        self.of_len(len).next().is_some()
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
        fn word_masks_equal_byte_tests(word in proptest::array::uniform8(proptest::num::u8::ANY)) {
            let expected = |contains: fn(u8) -> bool| {
                word.iter()
                    .enumerate()
                    .fold(0u64, |m, (j, &b)| m | (u64::from(contains(b)) << (8 * j + 7)))
            };
            let w = u64::from_le_bytes(word);
            proptest::prop_assert_eq!(in_range(w, b'0', b'9'), expected(is_digit));
            proptest::prop_assert_eq!(
                in_range(w, b'A', b'Z') | (w & (w << 1) & HIGH),
                expected(is_capital)
            );
        }

        #[test]
        fn capitals_match_a_naive_scan(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..100),
        ) {
            let naive: Vec<usize> = (0..b.len()).filter(|&i| is_capital(b[i])).collect();
            proptest::prop_assert_eq!(capitals(&b), naive);
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
}
