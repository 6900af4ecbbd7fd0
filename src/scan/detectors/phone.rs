//! PHONE (`PII.PHONE`): telephone numbers by digit-group shape, not by "any long number".
//!
//! A text is full of numbers that are not phones (order ids, amounts, dates, versions,
//! IP addresses), so a candidate must have at least nine digits *and* one of the shapes
//! people write phones in:
//!
//! - international: `+<cc> ...` or `00<cc> ...`, 9–15 digits (E.164), `+1` is NANP
//!   and must have 11 digits;
//! - NANP: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `1-800-555-0199` (the
//!   area code starts with 2–9);
//! - national with a trunk `0` (UK, DE, FR, ...): `020 7946 0958`, `030/12345678`,
//!   `06 12 34 56 78`: 10–12 digits in 2–5 groups of at least two digits;
//! - IN mobile: `98765 43210` (two groups of five, the first digit 6–9);
//! - a bare run of 10–11 digits only after a phone word (`phone`, `tel`, `call`, ...).
//!
//! Groups may be joined by one or two of ` -./()`. They may also be joined loosely, the
//! way an evader or a careless typist spaces them out: one of `-./` between two spaces
//! (`415 - 555 - 2671`, `(415) 555 . 2671`) or three spaces. A number with a loose gap
//! is read with the same shape rules, at a lower confidence, and must stand alone (no
//! digit group joined to it before or after, tightly or loosely). The shapes other
//! numbers take too (a trunk `0` national number, `00` international, IN mobile) and
//! any number with a gap of three spaces (table columns) count loosely joined only
//! after a phone word; an E.164 number written loosely must set its country code apart
//! (`+1 415 - 555 - 2671`).
//!
//! The detector starts from the shared digit groups, chains the groups that follow, and
//! keeps the longest chain prefix that has a phone shape and ends on a boundary.

use super::{Candidate, Detector, DigitGroup, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// Bytes that may join the digit groups of one phone number.
#[cfg(test)]
const SEPARATORS: &[u8] = b" -./()";

/// Whether `b` may join the digit groups of one phone number (` -./()`), tested with
/// no loop.
fn is_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'/' | b'(' | b')')
}

/// Bytes that, between two digit groups, make them one number (so a phone cannot start
/// or end next to them).
const NUMBER_JOINERS: &[u8] = b"-./";
/// Words that make a bare digit run a phone.
pub(crate) static PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "call",
    "mobile",
    "cell",
    "fax",
    "whatsapp",
    "sms",
    "text me",
];
const MAX_DIGITS: usize = 17;
/// The fewest digits of any phone shape [`classify`] accepts.
const MIN_DIGITS: usize = 9;
const _: () = assert!(MIN_DIGITS >= super::LONG_CHAIN_DIGITS && MAX_GAP <= super::NEAR_GAP);
const MAX_GROUPS: usize = 7;
/// How much lower a loosely joined number is reported than the same number written
/// tightly.
const LOOSE_PENALTY: f32 = 0.1;
/// The longest gap between two groups of one phone number, in bytes (a loose one).
const MAX_GAP: usize = 3;
/// How far before a loosely joined number a phone word is looked for, in bytes.
const LOOSE_CONTEXT: usize = 32;

/// How two groups of a chain are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// One or two of ` -./()`.
    Tight,
    /// One of `-./` between two spaces.
    Separated,
    /// Three spaces.
    Spaces,
}

/// How the bytes `gap` between two digit groups join them, if they do.
fn gap_kind(gap: &[u8]) -> Option<Gap> {
    match gap {
        [a] if is_separator(*a) => Some(Gap::Tight),
        // `..` is a range in code (`63337..64020`), never inside a number.
        [b'.', b'.'] => None,
        [a, b] if is_separator(*a) && is_separator(*b) => Some(Gap::Tight),
        [b' ', b'-' | b'.' | b'/', b' '] => Some(Gap::Separated),
        [b' ', b' ', b' '] => Some(Gap::Spaces),
        _ => None,
    }
}

/// Detects phone numbers.
#[derive(Debug)]
pub(crate) struct PhoneDetector {
    info: ClassInfo,
}

impl PhoneDetector {
    pub(crate) fn new() -> Self {
        PhoneDetector {
            info: class_info("PII.PHONE", "PHONE", Severity::Medium),
        }
    }
}

/// How the candidate opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opening {
    Plus,
    Paren,
    Digit,
}

impl Detector for PhoneDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        let mut chain: Vec<DigitGroup> = Vec::with_capacity(MAX_GROUPS);
        let mut gaps: Vec<Gap> = Vec::with_capacity(MAX_GROUPS);
        // Every phone shape holds MIN_DIGITS digits or more, from groups at most
        // MAX_GAP bytes apart: only the groups that start such a chain are looked at.
        for i in input.long_chain_groups() {
            let Some(first) = groups.get(i) else {
                continue;
            };
            // A short group that no separator joins to the next one is no phone. A gap
            // of MAX_GAP bytes joins loosely only from a space (known from the pass
            // that found the groups, without reading the text here).
            let joins_next = groups.get(i + 1).is_some_and(|next| {
                let gap = next.start - first.end;
                gap < MAX_GAP
                    || (gap == MAX_GAP && input.loose_link(i).is_some_and(|l| l.first == b' '))
            });
            if first.len() < MIN_DIGITS && !joins_next {
                continue;
            }
            // "+" and "(" are boundaries themselves; only a phone's first digit needs
            // a check of what precedes it.
            let (opening, start) = match input.byte_before(first.start) {
                Some(b'+') if plus_ok(input, first.start - 1) => (Opening::Plus, first.start - 1),
                Some(b'(') => (Opening::Paren, first.start - 1),
                _ => (Opening::Digit, first.start),
            };
            if opening == Opening::Digit && !left_boundary(input, start) {
                continue;
            }
            chain_from(input, groups, i, &mut chain, &mut gaps);
            // Longest prefix of the chain that is phone-shaped and ends on a boundary.
            // Every phone shape has at least MIN_DIGITS digits: shorter prefixes are not
            // even looked at.
            let mut digits: usize = chain.iter().map(DigitGroup::len).sum();
            for n in (1..=chain.len()).rev() {
                if digits < MIN_DIGITS {
                    break;
                }
                digits -= chain.get(n - 1).map_or(0, DigitGroup::len);
                let Some(shape) = chain.get(..n) else {
                    continue;
                };
                let Some(last) = shape.last() else {
                    continue;
                };
                // `555-123-4567x204`: an extension glued on is its own boundary (and
                // one digit after the `x`, too few for an extension, leaves the number).
                let glued = || {
                    let digits = input
                        .bytes
                        .get(last.end + 1..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    matches!(input.byte(last.end), Some(b'x' | b'X'))
                        && (1..=6).contains(&digits)
                        && input
                            .byte(last.end + 1 + digits)
                            .is_none_or(|b| !b.is_ascii_alphanumeric() && b != b'_')
                };
                if !right_boundary(input, last.end) && !glued() {
                    continue;
                }
                let loose = gaps.get(..n - 1).unwrap_or_default();
                let confidence = classify(input, shape, opening, start).and_then(|confidence| {
                    if loose.iter().all(|&g| g == Gap::Tight) {
                        return Some(confidence);
                    }
                    loose_ok(input, groups, i..=i + n - 1, loose, opening, start)
                        .then_some(confidence - LOOSE_PENALTY)
                });
                if let Some(confidence) = confidence
                    && let Some(f) = input.finding(
                        &self.info,
                        start,
                        extension_end(input.bytes, last.end),
                        confidence,
                    )
                {
                    out.push(f);
                    break;
                }
            }
        }
    }
}

/// Where a phone number ending at `end` ends with its extension, when one follows:
/// `ext. 204`, `ext 204`, `Extension: 204`, `extn 204`, `x204`, `;ext=204` (RFC 3966),
/// after at most one space or comma and a space; one to six digits (two or more after
/// a bare `x`), then no letter, digit or `_`. `end` when none does.
fn extension_end(bytes: &[u8], end: usize) -> usize {
    let rest = bytes
        .get(end..bytes.len().min(end + 24))
        .unwrap_or_default();
    let mut i = match rest {
        [b',', b' ', ..] => 2,
        [b' ', ..] => 1,
        _ => 0,
    };
    let after = rest.get(i..).unwrap_or_default();
    let label = [
        &b";ext="[..],
        b"extension:",
        b"extension",
        b"extn.",
        b"extn",
        b"ext.",
        b"ext:",
        b"ext",
        b"x",
    ]
    .into_iter()
    .find(|l| {
        after
            .get(..l.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(l))
    });
    let Some(label) = label else {
        return end;
    };
    i += label.len();
    // `x204` only: `x 2 units` is a multiplication.
    if label != b"x" && rest.get(i) == Some(&b' ') {
        i += 1;
    }
    let digits = rest
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let boundary = rest
        .get(i + digits)
        .is_none_or(|&b| !b.is_ascii_alphanumeric() && b != b'_');
    // `x86_64`, `x2 monitors`: after a bare `x`, two digits or more and a word's end.
    let fewest = if label == b"x" { 2 } else { 1 };
    if (fewest..=6).contains(&digits) && boundary {
        end + i + digits
    } else {
        end
    }
}

/// Fills `chain` with the groups from `groups[i]` on that are joined tightly or loosely
/// (see [`gap_kind`]), and `gaps` with how each is joined to the next, bounded by the
/// digit and group limits.
fn chain_from(
    input: &Input<'_>,
    groups: &[DigitGroup],
    i: usize,
    chain: &mut Vec<DigitGroup>,
    gaps: &mut Vec<Gap>,
) {
    chain.clear();
    gaps.clear();
    let mut digits = 0;
    for g in groups.iter().skip(i) {
        let mut kind = None;
        if let Some(prev) = chain.last() {
            let gap = input.bytes.get(prev.end..g.start).unwrap_or_default();
            match gap_kind(gap) {
                Some(k) => kind = Some(k),
                None => break,
            }
        }
        digits += g.len();
        if digits > MAX_DIGITS || chain.len() == MAX_GROUPS {
            break;
        }
        if let Some(kind) = kind {
            gaps.push(kind);
        }
        chain.push(*g);
    }
}

/// Whether the phone-shaped chain `groups[chain]` with a loose gap (`gaps`, one per
/// pair of its groups) counts: it stands alone, and its shape is one that other numbers
/// seldom take, or a phone word comes before it.
fn loose_ok(
    input: &Input<'_>,
    groups: &[DigitGroup],
    chain: std::ops::RangeInclusive<usize>,
    gaps: &[Gap],
    opening: Opening,
    start: usize,
) -> bool {
    let (first, last) = (*chain.start(), *chain.end());
    let shape = groups.get(chain).unwrap_or_default();
    // Not one piece of a longer number (`10 - 415 - 555 - 2671`): no group joined to it
    // the way its own groups are.
    let joined = |left: Option<&DigitGroup>, right: Option<&DigitGroup>| match (left, right) {
        (Some(l), Some(r)) => input
            .bytes
            .get(l.end..r.start)
            .is_some_and(|gap| gap_kind(gap).is_some()),
        _ => false,
    };
    let before = first.checked_sub(1).and_then(|p| groups.get(p));
    if (opening == Opening::Digit && joined(before, groups.get(first)))
        || joined(groups.get(last), groups.get(last + 1))
    {
        return false;
    }
    let word = || input.context_before(start, LOOSE_CONTEXT, PHONE_WORDS);
    if gaps.contains(&Gap::Spaces) {
        return word();
    }
    let distinctive = match opening {
        // The country code set apart, as E.164 numbers are written.
        Opening::Plus => shape.first().is_some_and(|cc| cc.len() <= 3),
        Opening::Paren | Opening::Digit => is_nanp(input, shape),
    };
    distinctive || word()
}

/// A phone may not start inside a word or in the middle of a longer number: not after
/// a digit joined by `-./+`, nor after a digit and a single space (the tail of a
/// space-grouped number such as an IBAN or a card is not a phone).
fn left_boundary(input: &Input<'_>, start: usize) -> bool {
    if !input.word_boundary_before(start) {
        return false;
    }
    let joined = input
        .byte_before(start)
        .is_some_and(|b| NUMBER_JOINERS.contains(&b) || b == b'+' || b == b' ');
    let digit_before = start
        .checked_sub(1)
        .and_then(|j| input.byte_before(j))
        .is_some_and(|b| b.is_ascii_digit());
    !(joined && digit_before)
}

/// A `+` opens a phone unless it continues a word or an arithmetic expression (`2+3`).
fn plus_ok(input: &Input<'_>, plus: usize) -> bool {
    !input
        .byte_before(plus)
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A phone may not end inside a word or in the middle of a longer number.
fn right_boundary(input: &Input<'_>, end: usize) -> bool {
    if !input.word_boundary_after(end) {
        return false;
    }
    // `12:50`: an hour, not a number's last group.
    let joined = input
        .byte(end)
        .is_some_and(|b| NUMBER_JOINERS.contains(&b) || b == b':');
    let digit_after = input.byte(end + 1).is_some_and(|b| b.is_ascii_digit());
    !(joined && digit_after)
}

/// The bytes between each two consecutive groups of `shape`.
fn gaps_of<'t>(input: &Input<'t>, shape: &[DigitGroup]) -> impl Iterator<Item = &'t [u8]> {
    shape
        .windows(2)
        .filter_map(|w| input.bytes.get(w.first()?.end..w.get(1)?.start))
}

/// Whether `shape` opens with a written date: `dd/mm/yyyy`, `dd.mm.yyyy`, `yyyy-mm-dd`
/// (one separator, twice; a plausible month and day; a year from 1900 to 2099).
fn opens_with_date(input: &Input<'_>, shape: &[DigitGroup]) -> bool {
    let [a, b, c, ..] = shape else {
        return false;
    };
    let value = |g: &DigitGroup| {
        input
            .bytes
            .get(g.start..g.end)
            .unwrap_or_default()
            .iter()
            .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'))
    };
    let same_separator = match (
        input.bytes.get(a.end..b.start),
        input.bytes.get(b.end..c.start),
    ) {
        (Some([x]), Some([y])) => x == y && matches!(x, b'/' | b'.' | b'-'),
        _ => false,
    };
    let year = |g: &DigitGroup| g.len() == 4 && (1900..=2099).contains(&value(g));
    let day_month = |d: &DigitGroup, m: &DigitGroup| {
        d.len() <= 2 && m.len() <= 2 && (1..=31).contains(&value(d)) && (1..=31).contains(&value(m))
    };
    same_separator && ((day_month(a, b) && year(c)) || (year(a) && day_month(c, b)))
}

/// Whether the two-digit groups of `shape` (from `start` to `end`) sit in a run of
/// byte pairs (`48 8B 05 00 00 00 00`, a dump, not a number): a two-character token
/// holding a digit, all hex, right before or right after, one space away.
fn inside_byte_dump(input: &Input<'_>, start: usize, end: usize) -> bool {
    let pair = |a: Option<u8>, b: Option<u8>, edge: Option<u8>| match (a, b) {
        (Some(a), Some(b)) => {
            a.is_ascii_hexdigit()
                && b.is_ascii_hexdigit()
                && (a.is_ascii_digit() || b.is_ascii_digit())
                && !edge.is_some_and(|e| e.is_ascii_alphanumeric())
        }
        _ => false,
    };
    let before = start >= 3
        && input.byte_before(start) == Some(b' ')
        && pair(
            input.byte(start - 3),
            input.byte(start - 2),
            start.checked_sub(3).and_then(|i| input.byte_before(i)),
        );
    let after = input.byte(end) == Some(b' ')
        && pair(
            input.byte(end + 1),
            input.byte(end + 2),
            input.byte(end + 3),
        );
    before || after
}

/// The confidence of `shape` as a phone number, or `None` if it is not phone-shaped.
fn classify(
    input: &Input<'_>,
    shape: &[DigitGroup],
    opening: Opening,
    start: usize,
) -> Option<f32> {
    let digits: usize = shape.iter().map(DigitGroup::len).sum();
    let first = shape.first()?;
    let last = shape.last()?;
    let d0 = input.byte(first.start)?;
    let d1 = input.byte(first.start + 1)?;
    let short_groups_ok = shape.iter().skip(2).all(|g| g.len() >= 2) && last.len() >= 2;

    // After "(": the group must be closed right away, as in "(555) 123-4567".
    if opening == Opening::Paren && input.byte(first.end) != Some(b')') {
        return None;
    }
    // `02/04/2017 12`: a date and an hour. `00100001 00000000`: bits.
    let bits = shape.iter().all(|g| {
        input
            .bytes
            .get(g.start..g.end)
            .is_some_and(|d| d.iter().all(|&b| b == b'0' || b == b'1'))
    });
    if bits || opens_with_date(input, shape) || input.in_uuid(first.start, last.end) {
        return None;
    }

    match opening {
        Opening::Plus => {
            let nanp_ok = d0 != b'1' || digits == 11;
            ((9..=15).contains(&digits) && d0 != b'0' && nanp_ok && short_groups_ok).then_some(0.85)
        }
        Opening::Paren | Opening::Digit => {
            if d0 == b'0' && d1 == b'0' {
                // "00" international call prefix, then a country code (never 0).
                let cc_ok = input
                    .byte(first.start + 2)
                    .is_some_and(|b| (b'1'..=b'9').contains(&b));
                return ((11..=17).contains(&digits)
                    && first.len() >= 3
                    && cc_ok
                    && shape.len() >= 2
                    && short_groups_ok)
                    .then_some(0.75);
            }
            if let Some(assignable) = nanp_shape(input, shape) {
                // `252.227-7013` (a clause number): a NANP number mixes no dots and
                // dashes.
                let (dots, dashes) = gaps_of(input, shape).fold((false, false), |(d, h), g| {
                    (d || g.contains(&b'.'), h || g.contains(&b'-'))
                });
                if !(dots && dashes) {
                    // An area code out of use (`200 - 300 - 4000`, `911-...`) is a
                    // number only after a phone word.
                    if assignable {
                        return Some(0.8);
                    }
                    if input.context_before(start, 32, PHONE_WORDS) {
                        return Some(0.6);
                    }
                }
                return None;
            }
            if d0 == b'0'
                && (10..=12).contains(&digits)
                && (2..=5).contains(&shape.len())
                && (2..=5).contains(&first.len())
                && shape.iter().all(|g| g.len() >= 2)
            {
                let pairs = shape.iter().all(|g| g.len() == 2);
                return (!(pairs && inside_byte_dump(input, start, last.end))).then_some(0.7);
            }
            // IN mobile: `98765 43210`; with a dash (`60000-64999`, a range as often),
            // after a phone word.
            if shape.len() == 2
                && first.len() == 5
                && last.len() == 5
                && (b'6'..=b'9').contains(&d0)
            {
                let dashed = input.byte(first.end) == Some(b'-');
                return (!dashed || input.context_before(start, 32, PHONE_WORDS)).then_some(0.65);
            }
            if opening == Opening::Digit
                && shape.len() == 1
                && (10..=11).contains(&digits)
                && input.context_before(start, 32, PHONE_WORDS)
            {
                return Some(0.6);
            }
            None
        }
    }
}

/// NANP shapes: `[1] AAA EEE LLLL` where the area code is one the plan can assign (the
/// exchange rule is not enforced: fictional `555-123-4567` numbers are what people
/// paste).
fn is_nanp(input: &Input<'_>, shape: &[DigitGroup]) -> bool {
    nanp_shape(input, shape) == Some(true)
}

/// For the shape `[1] AAA EEE LLLL` with an area code starting with 2–9, whether the
/// plan can assign that area code; `None` for any other shape.
fn nanp_shape(input: &Input<'_>, shape: &[DigitGroup]) -> Option<bool> {
    let lens_are = |shape: &[DigitGroup], lens: &[usize]| {
        shape.len() == lens.len() && shape.iter().zip(lens).all(|(g, &l)| g.len() == l)
    };
    let area = match shape {
        [a, _, _] if lens_are(shape, &[3, 3, 4]) => a,
        [one, a, _, _] if lens_are(shape, &[1, 3, 3, 4]) && input.byte(one.start) == Some(b'1') => {
            a
        }
        _ => return None,
    };
    match input.bytes.get(area.start..area.start + 3) {
        Some(&[a, b, c]) if (b'2'..=b'9').contains(&a) => Some(nanp_area_code(a, b, c)),
        _ => None,
    }
}

/// Whether `abc` can be a NANP area code: it starts with 2–9, and is none of the codes
/// the plan keeps out of use: N11 (service codes: 411, 911), N9X (kept for expanding the
/// plan), 37X and 96X (reserved), and 200, 300, 400 (unassigned easily recognisable
/// codes; 500 to 900 are in use: toll-free 800, premium 900).
fn nanp_area_code(a: u8, b: u8, c: u8) -> bool {
    (b'2'..=b'9').contains(&a)
        && !(b == b'1' && c == b'1')
        && b != b'9'
        && !matches!((a, b), (b'3', b'7') | (b'9', b'6'))
        && !(b == b'0' && c == b'0' && a <= b'4')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = PhoneDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_common_shapes() {
        // The inner "(415) 555-2671" is a weaker candidate; the scanner keeps the longer.
        assert_eq!(
            spans("call +1 (415) 555-2671 now"),
            ["+1 (415) 555-2671", "(415) 555-2671"]
        );
        assert_eq!(spans("(415) 555-2671"), ["(415) 555-2671"]);
        assert_eq!(spans("+447700900123"), ["+447700900123"]);
        assert_eq!(spans("office 020 7946 0958."), ["020 7946 0958"]);
        assert_eq!(spans("Tel. 030/12345678"), ["030/12345678"]);
        assert_eq!(spans("06.12.34.56.78"), ["06.12.34.56.78"]);
        assert_eq!(spans("phone: 4155552671"), ["4155552671"]);
    }

    #[test]
    fn no_shape_has_fewer_than_min_digits() {
        // `classify` on every chain of up to MIN_DIGITS - 1 digits, in every opening.
        for text in [
            "+12 3456 78",
            "(123) 45-678",
            "0012 345 67",
            "012 345 678",
            "98765 432",
            "12345678",
            "call 1234567",
            "1 234 567 8",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn ignores_other_numbers() {
        assert!(spans("order 4155552671").is_empty());
        assert!(spans("2024-01-15 and 192.168.100.200 and v1.2.3").is_empty());
        assert!(spans("+1 555 0100").is_empty());
        assert!(spans("123-45-6789").is_empty());
        assert!(spans("0.1234567891").is_empty());
        assert!(spans("555-123-4567-89").is_empty());
        assert!(spans("0000 0000 0000 0000").is_empty());
        assert!(spans("DE88 3704 0044 0532 0130 00").is_empty());
    }

    fn confidences(text: &str) -> Vec<(&str, f32)> {
        let mut out = Vec::new();
        let detector = PhoneDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| Some((text.get(f.start..f.end)?, f.confidence)))
            .collect()
    }

    #[test]
    fn the_separator_test_is_the_separator_list() {
        for b in 0..=u8::MAX {
            assert_eq!(is_separator(b), SEPARATORS.contains(&b), "{b}");
        }
    }

    #[test]
    fn loosely_joined_groups_are_read_at_a_lower_confidence() {
        for (value, tight) in [
            ("415 - 555 - 2671", "415-555-2671"),
            ("415 . 555 . 2671", "415.555.2671"),
            ("415 / 555 / 2671", "415/555/2671"),
            ("1 - 800 - 555 - 0199", "1-800-555-0199"),
            ("(415) 555 - 2671", "(415) 555-2671"),
            ("+1 415 - 555 - 2671", "+1 415-555-2671"),
            ("+44 20 7946 - 0958", "+44 20 7946-0958"),
        ] {
            let loose = confidences(value);
            let printed = confidences(tight);
            assert_eq!(loose.first().map(|f| f.0), Some(value), "{value:?}");
            let (Some(l), Some(t)) = (loose.first(), printed.first()) else {
                panic!("{value:?} {tight:?}");
            };
            assert!((t.1 - l.1 - LOOSE_PENALTY).abs() < 1e-6, "{value:?}");
        }
        // Two spaces were always a tight gap.
        assert_eq!(spans("+44 20 7946  0958"), ["+44 20 7946  0958"]);
    }

    #[test]
    fn loose_forms_other_numbers_take_need_a_phone_word() {
        for value in [
            "020 - 7946 - 0958",
            "06 . 12 . 34 . 56 . 78",
            "98765 - 43210",
            "0044 - 20 - 7946 - 0958",
            "415   555   2671",
            "020   7946   0958",
        ] {
            assert_eq!(spans(&format!("call me on {value}.")), [value], "{value:?}");
            assert!(spans(&format!("ref {value}.")).is_empty(), "{value:?}");
        }
        // An E.164 number written loosely sets its country code apart.
        assert!(spans("+4420 - 7946 - 0958").is_empty());
        assert_eq!(spans("tel +4420 - 7946 - 0958"), ["+4420 - 7946 - 0958"]);
    }

    #[test]
    fn loose_joins_do_not_make_other_numbers_phones() {
        for text in [
            "10 - 20 - 30 minutes",
            "from 2019 - 2024 and 2019 - 2024 - 2025",
            "scores 3 - 2, 21 - 18 - 21 - 19",
            "v1.2.3 . 4.5.6",
            "at 12:30:45 - 13:45:10",
            "1000 - 2000 - 3000",
            "75000 - 80000 a year",
            "01 - 02 - 03 - 04 - 05",
            "2024 . 01 . 15 . 0930",
            "415   555   2671",
            "row 1   415   555   2671",
        ] {
            assert!(spans(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn a_loose_number_stands_alone() {
        // Part of a longer loosely written number, before or after.
        assert!(spans("10 - 415 - 555 - 2671").is_empty());
        assert!(spans("415 - 555 - 2671 - 20").is_empty());
        assert!(spans("415 - 555 - 2671 20").is_empty());
        assert!(spans("(415) 555 - 2671 - 20").is_empty());
        // Next to other numbers that are not joined to it.
        assert_eq!(spans("415 - 555 - 2671, 20 units"), ["415 - 555 - 2671"]);
        assert_eq!(spans("415 - 555 - 2671\n2024"), ["415 - 555 - 2671"]);
    }
}
