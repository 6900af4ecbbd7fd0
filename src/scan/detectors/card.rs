//! PCI.*: payment card numbers (PANs), and the card data that only context reveals.
//!
//! - CARD_NUMBER (`PCI.CARD_NUMBER`): 12–19 digits, either contiguous or in groups of
//!   1–8 digits joined by one consistent separator (space, dash, dot or slash: the
//!   forms people write; confidence 0.95) or by up to three bytes of mixed separators
//!   (also `_`, tabs and line breaks: the forms evaders write; 0.85), that pass Luhn
//!   and carry a plausible issuer prefix for their length
//!   ([`validators::card_brand`](crate::scan::validators::card_brand)).
//! - CARD_TRACK_DATA (`PCI.TRACK_DATA`): magnetic-stripe track 1 (`%B<PAN>^NAME^YYMM...?`)
//!   and track 2 (`;<PAN>=YYMM...?`) with a Luhn-valid PAN.
//! - CARD_CVV (`PCI.CVV`) and CARD_EXPIRY (`PCI.CARD_EXPIRY`): three or four digits, or a
//!   `MM/YY` date, next to a CVV / expiry word; alone they are any small number or
//!   date.
//!
//! Every group-aligned window of a chain is tried, not only the whole chain: in
//! `2026 4111 1111 1111 1111` the 20-digit chain is too long and the window starting at
//! `2026` fails, but the window `4111 1111 1111 1111` is a card and must be reported.
//! Windows that fail validation are simply not emitted, so they can never hide a valid
//! overlapping one.

use super::{Candidate, Detector, Input, LooseLink, class_info};
use crate::scan::validators::{card_brand, luhn_valid};
use crate::scan::{ClassInfo, Severity};

const SEPARATORS: &[u8] = b" -./";
/// Card words: required around a 12-digit (Maestro) number.
pub(crate) static CARD_WORDS: &[&str] = &[
    "card",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "maestro",
    "amex",
    "rupay",
    "pan",
];
/// Whether a number of `brand` is a card only next to a card word: Maestro (12–19
/// digits, prefixes 50, 56–69), UATP (15 digits from 1) and RuPay's own 81 and 82 ranges
/// overlap too many other numbers (IBAN tails, NIRs, accounts, order numbers).
fn needs_card_word(brand: &str) -> bool {
    matches!(brand, "maestro" | "uatp" | "rupay")
}

/// Context words for a CVV.
pub(crate) static CVV_WORDS: &[&str] = &[
    "cvv",
    "cvc",
    "cvv2",
    "cvc2",
    "cid",
    "security code",
    "card verification",
];
/// Context words for a card expiry date.
pub(crate) static EXPIRY_WORDS: &[&str] = &[
    "exp",
    "card exp",
    "expiry",
    "expire",
    "expires",
    "expiration",
    "valid thru",
    "valid through",
    "good thru",
];

/// Detects payment card numbers.
#[derive(Debug)]
pub(crate) struct CardDetector {
    info: ClassInfo,
}

/// Whether the pairs of digits at `start..end`, joined by `sep`, sit in a byte dump: a
/// `hex`, `0x` or `\\x` just before them, or another two-character hex token joined the
/// same way right before or right after.
fn in_byte_dump(input: &Input<'_>, start: usize, end: usize, sep: u8) -> bool {
    let lead = input
        .bytes
        .get(start.saturating_sub(8)..start)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let marked =
        lead.windows(3).any(|w| w == b"hex") || lead.windows(2).any(|w| w == b"0x" || w == b"\\x");
    let pair_at = |i: usize| {
        input
            .bytes
            .get(i..i + 2)
            .is_some_and(|p| p.iter().all(u8::is_ascii_hexdigit))
    };
    let alnum = |i: Option<u8>| i.is_some_and(|b| b.is_ascii_alphanumeric());
    let before = start >= 3
        && input.byte_before(start) == Some(sep)
        && pair_at(start - 3)
        && !alnum(input.byte_before(start - 3));
    let after = input.byte(end) == Some(sep) && pair_at(end + 1) && !alnum(input.byte(end + 3));
    marked || before || after
}

impl CardDetector {
    pub(crate) fn new() -> Self {
        CardDetector {
            info: class_info("PCI.CARD_NUMBER", "CARD_NUMBER", Severity::Critical),
        }
    }
}

impl Detector for CardDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        self.loosely_joined(input, out);
        let windows = input.digit_windows();
        if !(12..=19).any(|len| windows.has_len(len)) {
            return;
        }
        let groups = input.digit_groups();
        // Per group: whether the chain of separator-joined groups it belongs to
        // starts right after an ASCII letter.
        let mut letters_before: Vec<bool> = Vec::with_capacity(groups.len());
        for (k, g) in groups.iter().enumerate() {
            let joined = k
                .checked_sub(1)
                .and_then(|p| groups.get(p))
                .is_some_and(|p| input.joiner(*p, *g, SEPARATORS).is_some());
            let glued = if joined {
                letters_before.last().copied().unwrap_or(false)
            } else {
                input
                    .byte_before(g.start)
                    .is_some_and(|b| b.is_ascii_alphabetic())
            };
            letters_before.push(glued);
        }
        for len in 12..=19 {
            for w in windows.of_len(len) {
                let multi = w.sep != 0;
                // In a grouped number every group has 1..=8 digits. A window may start
                // inside a chain (`2026 4111 1111 1111 1111`), but not inside one glued
                // to letters (`DE13 9625 5631 2663 9597 64` is an IBAN).
                if (multi && windows.has_wide_group(&w))
                    || letters_before.get(w.first).copied().unwrap_or(false)
                    || !edge_ok_before(input, w.start)
                    || !edge_ok_after(input, w.end)
                {
                    continue;
                }
                let digits = windows.digits(&w);
                if international_number(input, w.start, w.end, digits.len()) {
                    continue;
                }
                let Some(brand) = card_brand(digits) else {
                    continue;
                };
                // Some brands only next to a card word (see `needs_card_word`).
                // Nor is a number written in pairs inside a byte dump (`hex!("30 07 02 03
                // 01 00 01")`, or one pair of a longer run of hex pairs): pairs alone are
                // an evader's way of splitting a card, and stay one.
                let all_pairs = multi
                    && groups
                        .get(w.first..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|g| g.end <= w.end)
                        .all(|g| g.len() == 2);
                let dump = all_pairs && in_byte_dump(input, w.start, w.end, w.sep);
                let needs_word = needs_card_word(brand) || dump;
                if luhn_valid(digits)
                    && (!needs_word || input.context(w.start, w.end, CARD_WORDS).any())
                {
                    let confidence = if multi { 0.95 } else { 0.9 };
                    out.extend(input.finding(&self.info, w.start, w.end, confidence));
                }
            }
        }
    }
}

impl CardDetector {
    /// Card numbers whose groups are joined by mixed or repeated separators
    /// (`4111-1111 1111.1111`, `4111 - 1111 - 1111 - 1111`, a number broken over lines,
    /// `4111_1111_...`): an evader's forms, which the digit windows (one consistent
    /// separator byte) do not list. Same rules otherwise: Luhn, issuer prefix for the
    /// length, clean edges, a card word for Maestro and UATP; groups of 3..=8 digits,
    /// the first of 4..=6, or single digits; reported at a lower confidence. Only
    /// windows that are not uniform are tried here.
    fn loosely_joined<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        let bytes = input.bytes;
        let gap = |k: usize| input.loose_link(k);
        // A gap a digit window also crosses: one separator byte it allows, the same as
        // the window's first gap.
        let windowed = |g: Option<LooseLink>, first: Option<LooseLink>| match (g, first) {
            (Some(g), Some(first)) => g.windowed_like(first),
            _ => false,
        };
        let mut first = 0;
        while first < groups.len() {
            // The chain of loosely joined groups from `first` to `last`.
            let mut last = first;
            while gap(last).is_some() {
                last += 1;
            }
            let chain = first..=last;
            first = last + 1;
            let (Some(head), true) = (groups.get(*chain.start()), chain.start() < chain.end())
            else {
                continue;
            };
            // Glued to letters (an IBAN's tail), or no group boundary that a digit window
            // would not also cover: nothing to add.
            if input
                .byte_before(head.start)
                .is_some_and(|b| b.is_ascii_alphabetic())
                || (*chain.start()..*chain.end()).all(|k| windowed(gap(k), gap(*chain.start())))
            {
                continue;
            }
            for a in chain.clone() {
                let mut digits = [0u8; 19];
                let mut count = 0;
                let mut uniform = true;
                for b in a..=*chain.end() {
                    let Some(g) = groups.get(b) else { break };
                    if g.len() > 8 || count + g.len() > 19 {
                        break;
                    }
                    // A card is written in groups of three digits or more, the first of
                    // four to six, or digit by digit; groups of other sizes are a
                    // version's parts, a date's, an hour's (`2.2.40-1.1` then a line
                    // break, `2025-06-24 14`). Three digits after `_` are the
                    // thousands of a number in code (`3_000_000`).
                    let one_by_one = g.len() == 1 && count == b - a;
                    let grouped = g.len() >= 3
                        && groups.get(a).is_some_and(|h| (4..=6).contains(&h.len()))
                        && (b == a || groups.get(b - 1).is_some_and(|p| p.len() >= 3));
                    if !(one_by_one || grouped)
                        || (b > a && g.len() == 3 && gap(b - 1).is_some_and(|l| l.first == b'_'))
                    {
                        break;
                    }
                    if b > a && !windowed(gap(b - 1), gap(a)) {
                        uniform = false;
                    }
                    if let (Some(to), Some(from)) = (
                        digits.get_mut(count..count + g.len()),
                        bytes.get(g.start..g.end),
                    ) {
                        to.copy_from_slice(from);
                    }
                    count += g.len();
                    let (Some(start_group), Some(number)) = (groups.get(a), digits.get(..count))
                    else {
                        break;
                    };
                    if uniform || count < 12 {
                        continue;
                    }
                    let (start, end) = (start_group.start, g.end);
                    if !edge_ok_before(input, start) || !edge_ok_after(input, end) {
                        continue;
                    }
                    if international_number(input, start, end, number.len()) {
                        continue;
                    }
                    let Some(brand) = card_brand(number) else {
                        continue;
                    };
                    let needs_word = needs_card_word(brand);
                    if luhn_valid(number)
                        && (!needs_word || input.context(start, end, CARD_WORDS).any())
                    {
                        out.extend(input.finding(&self.info, start, end, 0.85));
                    }
                }
            }
        }
    }
}

/// Detects card security codes, expiry dates and magnetic-stripe track data.
#[derive(Debug)]
pub(crate) struct PciContextDetector {
    cvv: ClassInfo,
    expiry: ClassInfo,
    track: ClassInfo,
}

impl PciContextDetector {
    pub(crate) fn new() -> Self {
        PciContextDetector {
            cvv: class_info("PCI.CVV", "CARD_CVV", Severity::Critical),
            expiry: class_info("PCI.CARD_EXPIRY", "CARD_EXPIRY", Severity::Medium),
            track: class_info("PCI.TRACK_DATA", "CARD_TRACK_DATA", Severity::Critical),
        }
    }
}

impl Detector for PciContextDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.cvv.clone(), self.expiry.clone(), self.track.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        // A CVV needs a CVV word: none in the text, none to check.
        let short = || groups.iter().filter(|g| (3..=4).contains(&g.len())).count();
        let cvv_words = !input.words_absent(CVV_WORDS, short);
        for (i, g) in groups.iter().enumerate() {
            // Track data: %B<PAN>^...? or ;<PAN>=...?
            if (12..=19).contains(&g.len())
                && let Some(end) = track_data(input, g.start, g.end)
            {
                out.extend(input.finding(
                    &self.track,
                    g.start.saturating_sub(prefix_len(input, g.start)),
                    end,
                    0.95,
                ));
            }
            // A dump's record: `4111111111111111|09/27|123`, `…|09|2027|123`.
            if (12..=19).contains(&g.len())
                && let Some((expiry, cvv)) = dump_fields(input, g.start, g.end)
            {
                out.extend(input.finding(&self.expiry, expiry.0, expiry.1, 0.9));
                if let Some((a, b)) = cvv {
                    out.extend(input.finding(&self.cvv, a, b, 0.9));
                }
            }
            if cvv_words && (3..=4).contains(&g.len()) && input.standalone_number(g.start, g.end) {
                // The number nearest its word: no other number of three digits or more
                // between them (`CVV 123, call +44 20 7946 0958` has one CVV) but an
                // expiry, given with it under paired labels (`exp/cvv: 09/28 / 123`).
                let slash_date = |q: usize| {
                    let pair = |m: usize| {
                        let (Some(&month), Some(&year)) = (groups.get(m), groups.get(m + 1)) else {
                            return false;
                        };
                        month.len() <= 2
                            && matches!(year.len(), 2 | 4)
                            && input.joiner(month, year, b"/").is_some()
                    };
                    pair(q) || q.checked_sub(1).is_some_and(pair)
                };
                let mut from = g.start.saturating_sub(24);
                let mut q = i;
                while let Some(p) = q.checked_sub(1)
                    && let Some(prev) = groups.get(p)
                    && prev.end > from
                {
                    // Only a number that could be a CVV itself stands between: not a
                    // length's hint (`CVV (3 digits): 123`, `cvv 2: 123`).
                    if prev.len() >= 3 && !slash_date(p) {
                        from = prev.end;
                        break;
                    }
                    q = p;
                }
                let before = g.start - from;
                let after = groups
                    .get(i + 1)
                    .map_or(16, |n| n.start.saturating_sub(g.end).min(16));
                let context = input.context_within(g.start, g.end, before, after, CVV_WORDS);
                if context.any() {
                    out.extend(input.finding(&self.cvv, g.start, g.end, context.boost(0.75)));
                }
            }
            // MM/YY, MM/YYYY, MM-YY
            if g.len() <= 2
                && let Some(next) = groups.get(i + 1)
                && (next.len() == 2 || next.len() == 4)
                && input.joiner(*g, *next, b"/-").is_some()
            {
                let month = input
                    .bytes
                    .get(g.start..g.end)
                    .unwrap_or_default()
                    .iter()
                    .fold(0u32, |a, &b| {
                        a.saturating_mul(10).saturating_add(u32::from(b - b'0'))
                    });
                if (1..=12).contains(&month) && input.standalone_number(g.start, next.end) {
                    let context = input.context_within(g.start, next.end, 24, 16, EXPIRY_WORDS);
                    if context.any() {
                        out.extend(input.finding(
                            &self.expiry,
                            g.start,
                            next.end,
                            context.boost(0.75),
                        ));
                    }
                }
            }
        }
    }
}

/// A span of the text: start and end.
type Span = (usize, usize);

/// The expiry and the CVV of a card dump's record, the fields after its card number
/// `start..pan_end` (Luhn-valid, of a known brand): `|` or `:` between fields, the
/// expiry as `MM/YY`, `MM/YYYY` or (between `|`) a month and a year in fields of
/// their own, then the
/// CVV, if its field follows, three or four digits.
fn dump_fields(input: &Input<'_>, start: usize, pan_end: usize) -> Option<(Span, Option<Span>)> {
    let sep = input.byte(pan_end).filter(|b| matches!(b, b'|' | b':'))?;
    let pan = input.bytes.get(start..pan_end)?;
    if !input.word_boundary_before(start) || card_brand(pan).is_none() || !luhn_valid(pan) {
        return None;
    }
    let digits_at = |at: usize| {
        input
            .bytes
            .get(at..)
            .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let month_at = pan_end + 1;
    let month_len = digits_at(month_at);
    if !(1..=2).contains(&month_len) {
        return None;
    }
    let month = input.bytes.get(month_at..month_at + month_len)?;
    let month = month.iter().fold(0u32, |a, &b| {
        a.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    });
    if !(1..=12).contains(&month) {
        return None;
    }
    // After `:`, the expiry needs its `/`: `09:45` is a time.
    let joint = input.byte(month_at + month_len)?;
    if joint != b'/' && (joint != sep || sep == b':') {
        return None;
    }
    let year_at = month_at + month_len + 1;
    let year_len = digits_at(year_at);
    let century = input.bytes.get(year_at..year_at + 2);
    if year_len != 2 && !(year_len == 4 && matches!(century, Some(b"19" | b"20"))) {
        return None;
    }
    let expiry_end = year_at + year_len;
    let field_end = |end: usize| {
        input
            .byte(end)
            .is_none_or(|b| b == sep || b.is_ascii_whitespace())
    };
    if !field_end(expiry_end) {
        return None;
    }
    let cvv_at = expiry_end + 1;
    let cvv_len = digits_at(cvv_at);
    let cvv = (input.byte(expiry_end) == Some(sep)
        && (3..=4).contains(&cvv_len)
        && field_end(cvv_at + cvv_len))
    .then_some((cvv_at, cvv_at + cvv_len));
    Some(((month_at, expiry_end), cvv))
}

/// Length of the track sentinel (`%B` or `;`) before a PAN at `start`, or 0.
fn prefix_len(input: &Input<'_>, start: usize) -> usize {
    match (
        input.byte_before(start),
        start.checked_sub(1).and_then(|j| input.byte_before(j)),
    ) {
        (Some(b'B'), Some(b'%')) => 2,
        (Some(b';'), _) => 1,
        _ => 0,
    }
}

/// The end of the track whose PAN is `start..pan_end`, if it is one.
fn track_data(input: &Input<'_>, start: usize, pan_end: usize) -> Option<usize> {
    let kind = prefix_len(input, start);
    let pan = input.bytes.get(start..pan_end)?;
    if !luhn_valid(pan) {
        return None;
    }
    if kind == 0 {
        return bare_track2(input, start, pan_end);
    }
    let field = if kind == 2 { b'^' } else { b'=' };
    if input.byte(pan_end) != Some(field) {
        return None;
    }
    let rest = input.bytes.get(pan_end..)?;
    let limit = rest.len().min(if kind == 2 { 79 } else { 40 });
    let body = rest.get(..limit)?;
    let end = body.iter().position(|&b| b == b'?').map_or_else(
        || {
            body.iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(body.len())
        },
        |q| q + 1,
    );
    (end > 5).then_some(pan_end + end)
}

/// The fewest digits after a track 2's `=`: the expiry (YYMM) and the service code.
const TRACK2_MIN_TAIL: usize = 7;

/// The end of track 2 data pasted without its `;` sentinel (`4728354507551673=2712101…`,
/// as card readers' logs and dumps show it): a card number, `=`, then the expiry, the
/// service code and the discretionary data, digits only, up to the `?` that ends it or
/// the first other byte; 40 characters at most.
fn bare_track2(input: &Input<'_>, start: usize, pan_end: usize) -> Option<usize> {
    let pan = input.bytes.get(start..pan_end)?;
    if card_brand(pan).is_none()
        || input.byte(pan_end) != Some(b'=')
        || !input.word_boundary_before(start)
    {
        return None;
    }
    let tail = input
        .bytes
        .get(pan_end + 1..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if tail < TRACK2_MIN_TAIL {
        return None;
    }
    let end = pan_end + 1 + tail;
    // YYMM: the month is the tail's third and fourth digits.
    let month = input
        .bytes
        .get(pan_end + 3..pan_end + 5)?
        .iter()
        .fold(0u32, |m, &d| m * 10 + u32::from(d - b'0'));
    let closed = end + usize::from(input.byte(end) == Some(b'?'));
    (end - start < 40
        && (1..=12).contains(&month)
        && !input
            .byte(closed)
            .is_some_and(|b| b.is_ascii_alphanumeric()))
    .then_some(closed)
}

/// A card may not start inside a word, right after a dot-joined digit (`1.4111...`), or
/// as the tail of a joined identifier that holds letters (`INV-4111...`).
fn edge_ok_before(input: &Input<'_>, start: usize) -> bool {
    let dotted = input.byte_before(start) == Some(b'.')
        && start
            .checked_sub(1)
            .and_then(|j| input.byte_before(j))
            .is_some_and(|b| b.is_ascii_digit());
    let identifier = matches!(input.byte_before(start), Some(b'-' | b'_' | b'.' | b'/'))
        && input
            .bytes
            .get(..start - 1)
            .is_some_and(|head| lettered_run(head.iter().rev()));
    input.word_boundary_before(start) && !dotted && !identifier
}

/// Whether the number of `len` digits at `start..end` is a phone number written as one: after
/// `+`, with at most the 15 digits E.164 allows, next to a phone word and no card word
/// (`"phone": "+4915112345678"` is a German mobile). Otherwise it stays a card: a `+`
/// in front must not turn an Amex number into a lesser class.
fn international_number(input: &Input<'_>, start: usize, end: usize, len: usize) -> bool {
    len <= 15
        && input.byte_before(start) == Some(b'+')
        && input
            .context(start.saturating_sub(1), end, super::phone::PHONE_WORDS)
            .any()
        && !input.context(start, end, CARD_WORDS).any()
}

/// A card may not end inside a word, right before a dot-joined digit, or as the head of
/// a joined identifier that goes on with letters (a UUID such as
/// `39037256-4952-4547-a5e5-...`, whose first three groups can pass Luhn).
fn edge_ok_after(input: &Input<'_>, end: usize) -> bool {
    let dotted =
        input.byte(end) == Some(b'.') && input.byte(end + 1).is_some_and(|b| b.is_ascii_digit());
    let identifier = matches!(input.byte(end), Some(b'-' | b'_' | b'.' | b'/'))
        && input
            .bytes
            .get(end + 1..)
            .is_some_and(|tail| lettered_run(tail.iter()));
    input.word_boundary_after(end) && !dotted && !identifier
}

/// Whether the run of ASCII letters and digits the bytes start with is not empty and
/// holds a letter.
fn lettered_run<'b>(bytes: impl Iterator<Item = &'b u8>) -> bool {
    let mut run = bytes.take_while(|b| b.is_ascii_alphanumeric()).peekable();
    run.peek().is_some() && run.any(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = CardDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_grouped_and_contiguous() {
        assert_eq!(spans("card 4111 1111 1111 1111."), ["4111 1111 1111 1111"]);
        assert_eq!(spans("4111-1111-1111-1111"), ["4111-1111-1111-1111"]);
        assert_eq!(spans("amex 3782 822463 10005"), ["3782 822463 10005"]);
        assert_eq!(spans("5555555555554444"), ["5555555555554444"]);
    }

    #[test]
    fn a_failed_window_does_not_hide_a_valid_one() {
        assert_eq!(spans("2026 4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
    }

    #[test]
    fn mixed_repeated_and_line_break_separators_are_still_cards() {
        for text in [
            "4111 1111-1111 1111",
            "4111-1111 1111.1111",
            "4111 - 1111 - 1111 - 1111",
            "4111  1111  1111  1111",
            "4111\n1111\n1111\n1111",
            "4111_1111_1111_1111",
            "4 1 1 1-1 1 1 1 1 1 1 1 1 1 1 1",
        ] {
            assert_eq!(spans(&format!("card {text}.")), [text], "{text:?}");
        }
        // The window inside a longer chain still counts; a failed one hides nothing.
        assert_eq!(spans("2026 - 4111 1111-1111 1111"), ["4111 1111-1111 1111"]);
        // Same checks as any card: Luhn, groups of at most 8, clean edges, no letters.
        assert!(spans("4111 1111-1111 1112").is_empty());
        assert!(spans("411111111 - 1111111").is_empty());
        assert!(spans("DE4111 1111-1111 1111").is_empty());
        assert!(spans("4111 1111-1111 1111x").is_empty());
        // Gaps wider than three bytes, or of other bytes, do not join.
        assert!(spans("4111    1111-1111 1111").is_empty());
        assert!(spans("4111, 1111-1111 1111").is_empty());
    }

    #[test]
    fn numbers_inside_joined_identifiers_are_not_cards() {
        // The first three groups of this UUID pass Luhn as a Diners number.
        assert!(spans("request 39037256-4952-4547-a5e5-23b7dccbaa27 failed").is_empty());
        assert!(spans("ref INV-4111-1111-1111-1111 sent").is_empty());
        assert!(spans("order 4111 1111 1111 1111-b2 shipped").is_empty());
        // A sentence's full stop or a plain word after the number is not an identifier.
        assert_eq!(
            spans("card 4111-1111-1111-1111. Thanks"),
            ["4111-1111-1111-1111"]
        );
        assert_eq!(
            spans("card 4111-1111-1111-1111 - ok"),
            ["4111-1111-1111-1111"]
        );
    }

    #[test]
    fn rejects_bad_checksum_and_zeros() {
        assert!(spans("4111 1111 1111 1112").is_empty());
        assert!(spans("0000 0000 0000 0000").is_empty());
        assert!(spans("x4111111111111111").is_empty());
    }
}
