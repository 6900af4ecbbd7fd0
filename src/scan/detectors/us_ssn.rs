//! US_SSN (`GOVID.US.SSN`): US Social Security numbers.
//!
//! Two shapes: `AAA-GG-SSSS` (or with spaces, `AAA GG SSSS`) anywhere, and a bare run of
//! nine digits only when an SSN word (`ssn`, `social security`, ...) is next to it, since
//! nine digits alone are as likely an order or account number. With an SSN word, nine
//! digits written any other way also count: `AAA.GG.SSSS`, `AAA/GG/SSSS`, and groups
//! joined loosely (`123 - 45 - 6789`, `1-2-3-4-5-6-7-8-9`, one group per line). Both must pass the SSA
//! allocation rules in [`validators::ssn_valid`](crate::scan::validators::ssn_valid).
//! A formatted SSN may not be one piece of a longer dash- or dot-joined number
//! (`555-123-45-6789`), nor of a longer space-separated digit sequence when its own
//! separator is a space.

use super::{Candidate, Detector, DigitGroup, Input, class_info};
use crate::scan::validators::ssn_valid;
use crate::scan::{ClassInfo, Severity};

/// Words that make nine digits an SSN (and raise the confidence of a formatted one).
pub(crate) static SSN_WORDS: &[&str] =
    &["ssn", "social security", "ss#", "ss #", "ss no", "soc sec"];
/// How far before a candidate the SSN words are looked for, in bytes.
const CONTEXT_WINDOW: usize = 40;

/// Detects US Social Security numbers.
#[derive(Debug)]
pub(crate) struct UsSsnDetector {
    info: ClassInfo,
}

impl UsSsnDetector {
    pub(crate) fn new() -> Self {
        UsSsnDetector {
            info: class_info("GOVID.US.SSN", "US_SSN", Severity::High),
        }
    }
}

impl Detector for UsSsnDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let groups = input.digit_groups();
        // Every form is nine digits from groups at most MAX_LOOSE_GAP bytes apart.
        const _: () =
            assert!(9 >= super::LONG_CHAIN_DIGITS && super::MAX_LOOSE_GAP <= super::NEAR_GAP);
        for i in input.long_chain_groups() {
            let Some(area) = groups.get(i) else {
                continue;
            };
            let candidate = match area.len() {
                3 => formatted(input, groups, i),
                9 => bare(input, *area),
                _ => None,
            }
            .or_else(|| loose(input, groups, i));
            if let Some((end, confidence)) = candidate
                && let Some(f) = input.finding(&self.info, area.start, end, confidence)
            {
                out.push(f);
            }
        }
    }
}

/// `AAA-GG-SSSS` / `AAA GG SSSS` starting at `groups[i]`: its end and confidence.
fn formatted(input: &Input<'_>, groups: &[DigitGroup], i: usize) -> Option<(usize, f32)> {
    let area = *groups.get(i)?;
    let group = *groups.get(i + 1)?;
    let serial = *groups.get(i + 2)?;
    if group.len() != 2 || serial.len() != 4 {
        return None;
    }
    let sep = input.joiner(area, group, b"- ./")?;
    input.joiner(group, serial, &[sep])?;
    let joins_number = |b: Option<u8>, digit: Option<u8>| {
        let digit = digit.is_some_and(|d| d.is_ascii_digit());
        let b = b.unwrap_or(b'\n');
        digit && (b == sep || matches!(b, b'-' | b'.' | b'/'))
    };
    let before = input.byte_before(area.start);
    let before2 = area.start.checked_sub(1).and_then(|j| input.byte_before(j));
    if !input.word_boundary_before(area.start)
        || !input.word_boundary_after(serial.end)
        || joins_number(before, before2)
        || joins_number(input.byte(serial.end), input.byte(serial.end + 1))
    {
        return None;
    }
    let bytes = input.bytes;
    if !ssn_valid(
        bytes.get(area.start..area.end)?,
        bytes.get(group.start..group.end)?,
        bytes.get(serial.start..serial.end)?,
    ) {
        return None;
    }
    let context = input
        .context_within(area.start, serial.end, CONTEXT_WINDOW, 24, SSN_WORDS)
        .any();
    let confidence = match (sep, context) {
        (_, true) => 0.95,
        (b'-', false) => 0.85,
        (b' ', false) => 0.7,
        // `123.45.6789` alone is as likely a reference or a version.
        _ => return None,
    };
    Some((serial.end, confidence))
}

/// Nine digits in groups joined loosely (see [`Input::loose_link`]) in any other way
/// than `AAA-GG-SSSS` or `AAA GG SSSS` (`123 - 45 - 6789`, `1-2-3-4-5-6-7-8-9`, one
/// group per line), starting at group `i`, next to an SSN word: the evader's forms.
/// The whole loosely joined chain must be those nine digits.
fn loose(input: &Input<'_>, groups: &[DigitGroup], i: usize) -> Option<(usize, f32)> {
    // Most groups end a number: the offsets of the next group tell, without reading the
    // text (a cache miss per group in a long one).
    let (head, next) = (groups.get(i)?, groups.get(i + 1)?);
    if head.len() > 8 || next.start - head.end > super::MAX_LOOSE_GAP {
        return None;
    }
    let gap = |k: usize| input.loose_link(k);
    if gap(i).is_none() || i.checked_sub(1).is_some_and(|p| gap(p).is_some()) {
        return None;
    }
    // The chain's length first, from the offsets alone: most chains (`5.5 hours`) are
    // not nine digits long, and need no copy.
    let mut count = 0;
    let mut last = i;
    loop {
        count += groups.get(last)?.len();
        if count > 9 {
            return None;
        }
        if gap(last).is_none() {
            break;
        }
        last += 1;
    }
    if count != 9 {
        return None;
    }
    let mut digits = [0u8; 9];
    let mut filled = 0;
    for g in groups.get(i..=last)? {
        let to = digits.get_mut(filled..filled + g.len())?;
        to.copy_from_slice(input.bytes.get(g.start..g.end)?);
        filled += g.len();
    }
    let (first, end) = (groups.get(i)?.start, groups.get(last)?.end);
    let shape_3_2_4 = matches!(
        groups.get(i..=last),
        Some([a, b, c]) if (a.len(), b.len(), c.len()) == (3, 2, 4)
    );
    let uniform = (i..last).all(|k| match (gap(k), gap(i)) {
        (Some(g), Some(first)) => g.windowed_like(first),
        _ => false,
    });
    if last == i
        || (uniform && shape_3_2_4)
        || !input.word_boundary_before(first)
        || !input.word_boundary_after(end)
    {
        return None;
    }
    let (area, rest) = digits.split_at(3);
    let (group, serial) = rest.split_at(2);
    (ssn_valid(area, group, serial)
        && input
            .context_within(first, end, CONTEXT_WINDOW, 24, SSN_WORDS)
            .any())
    .then_some((end, 0.85))
}

/// Nine bare digits after an SSN word.
fn bare(input: &Input<'_>, run: DigitGroup) -> Option<(usize, f32)> {
    if !input.word_boundary_before(run.start) || !input.word_boundary_after(run.end) {
        return None;
    }
    let joined = |b: Option<u8>| matches!(b, Some(b'-' | b'.' | b'/' | b','));
    let digit = |b: Option<u8>| b.is_some_and(|d| d.is_ascii_digit());
    if ((joined(input.byte_before(run.start))
        && digit(run.start.checked_sub(1).and_then(|j| input.byte_before(j))))
        || (joined(input.byte(run.end)) && digit(input.byte(run.end + 1))))
        && !under_ssn_header(input, run)
    {
        return None;
    }
    let d = input.bytes.get(run.start..run.end)?;
    let (area, rest) = d.split_at_checked(3)?;
    let (group, serial) = rest.split_at_checked(2)?;
    if !ssn_valid(area, group, serial)
        || !input
            .context_within(run.start, run.end, CONTEXT_WINDOW, 24, SSN_WORDS)
            .any()
    {
        return None;
    }
    Some((run.end, 0.75))
}

/// Whether the digits of `run` fill a table cell under a header that is an SSN word
/// (`id,ssn` above `1,123456789`): there, the number beside them is another column's,
/// not part of theirs.
fn under_ssn_header(input: &Input<'_>, run: DigitGroup) -> bool {
    let cell_is = |a: usize, b: usize| {
        input.bytes.get(a..b).is_some_and(|c| {
            let c = c.trim_ascii();
            let c = c
                .strip_prefix(b"\"")
                .and_then(|c| c.strip_suffix(b"\""))
                .unwrap_or(c);
            SSN_WORDS.iter().any(|w| {
                c.len() == w.len()
                    && c.iter().zip(w.bytes()).all(|(&x, y)| {
                        x.to_ascii_lowercase() == y || (matches!(x, b'_' | b'-') && y == b' ')
                    })
            })
        })
    };
    // A cell is the digits alone, between separators.
    let sep = |b: Option<u8>| matches!(b, None | Some(b',' | b';' | b'|' | b'\t' | b'\n' | b'\r'));
    sep(input.byte_before(run.start))
        && sep(input.byte(run.end))
        && input
            .header_cell(run.start, run.end)
            .is_some_and(|(a, b)| cell_is(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = UsSsnDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_formatted_and_contextual() {
        assert_eq!(spans("id 123-45-6789."), ["123-45-6789"]);
        assert_eq!(spans("SSN: 123 45 6789"), ["123 45 6789"]);
        assert_eq!(
            spans("my social security number is 123456789"),
            ["123456789"]
        );
    }

    #[test]
    fn rejects_invalid_and_embedded() {
        assert!(spans("000-12-3456 666-12-3456 912-12-3456 123-00-4567 123-45-0000").is_empty());
        assert!(spans("order 123456789").is_empty());
        assert!(spans("555-123-45-6789 and 123-45-6789-0 and 1.123-45-6789").is_empty());
        assert!(spans("2 123 45 6789").is_empty());
        assert!(spans("ssn 123-45-6789x").is_empty());
    }

    #[test]
    fn dots_slashes_and_loose_separators_need_an_ssn_word() {
        for value in [
            "123.45.6789",
            "123/45/6789",
            "123 - 45 - 6789",
            "1-2-3-4-5-6-7-8-9",
            "123\n45\n6789",
            "123_45_6789",
            "12 3-45 67 89",
        ] {
            assert_eq!(spans(&format!("SSN: {value}.")), [value], "{value:?}");
            assert!(spans(&format!("ref {value}.")).is_empty(), "{value:?}");
        }
        // Nine digits inside a longer loosely joined number are not an SSN.
        assert!(spans("SSN 1-2-3-4-5-6-7-8-9-0").is_empty());
        assert!(spans("SSN 00 0-12-3456").is_empty());
    }
}
