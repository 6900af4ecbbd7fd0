//! Patients in HL7 version 2 messages (ADT, ORM, ORU, …): the segments carry a
//! person's identity in fixed fields, written without any label a context rule could
//! read (`PID|1||4455667^^^HOSP^MR||JONES^MARY^ANN||19800312|F|||742 EVERGREEN
//! TER^^SPRINGFIELD^IL^62704`). The field's place says what a value is, so each one is
//! read by its place:
//!
//! - people's names (`XPN`: family^given^middle, or `XCN`: id^family^given^middle) →
//!   PERSON_NAME, and a provider's id that passes the NPI check → US_NPI;
//! - dates of birth (`YYYYMMDD[HHMM[SS]]`, a valid date) → DATE_OF_BIRTH;
//! - addresses (`XAD`: street^other^city^state^zip) → STREET_ADDRESS;
//! - telephone numbers (`XTN`: the number, or country^area^local) → PHONE;
//! - social security numbers (a valid SSN) → US_SSN;
//! - identifier lists (`CX`: id^check^scheme^authority^type): by the type code, `SS` →
//!   US_SSN, `DL` → US_DRIVER_LICENSE, `NPI` → US_NPI, any other (record, account,
//!   member and policy numbers) → MEDICAL_RECORD_NUMBER;
//! - a driver's licence (`DLN`) → US_DRIVER_LICENSE;
//! - a diagnosis or problem (`DG1-3`, `DG1-4`, `PRB-3`: code^text) → DIAGNOSIS, and a
//!   drug given or ordered (`RXA-5`, `RXE-2`, `RXO-1`) → MEDICATION.
//!
//! A segment is read when its three-letter id starts a line (or follows the MLLP start
//! byte) and is followed by the field separator `|`. After an `MSH` header the
//! separators of its encoding characters (`MSH|^~\&|`) apply; a segment pasted without
//! one must look like HL7 on its own: a set id that is empty or a number, and a
//! component separator `^` in the line (a pipe-separated table whose header starts
//! with `PID|PPID|USER` is none). The work is a `memchr` over `|`: text without pipes
//! costs nothing more.

use super::{Candidate, Detector, Input, class_info};
use crate::scan::validators::{npi_valid, ssn_valid};
use crate::scan::{ClassInfo, Severity};

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// `XPN`: family^given^middle^….
    Name,
    /// `XCN`: id^family^given^middle^….
    Provider,
    /// `TS`/`DTM`: a date of birth.
    Birth,
    /// `XAD`: street^other^city^state^zip^country^….
    Address,
    /// `XTN`: number^use^equipment^email^country^area^local^extension.
    Phone,
    /// A social security number.
    Ssn,
    /// `CX`: id^check digit^check scheme^assigning authority^type code^….
    Ids,
    /// `DLN`: licence number^issuing state^expiry.
    Licence,
    /// `CE`/`CWE` of a diagnosis: code^text^coding system.
    Diagnosis,
    /// `CE`/`CWE` of a drug: code^text^coding system.
    Medication,
}

/// The fields read, by segment and field number (as HL7 numbers them: `PID-5` is the
/// fifth field after the segment id).
/// A segment's id and the fields read in it.
type Segment = (&'static [u8; 3], &'static [(usize, Field)]);

const FIELDS: &[Segment] = &[
    (
        b"PID",
        &[
            (2, Field::Ids),
            (3, Field::Ids),
            (4, Field::Ids),
            (5, Field::Name),
            (6, Field::Name),
            (7, Field::Birth),
            (9, Field::Name),
            (11, Field::Address),
            (13, Field::Phone),
            (14, Field::Phone),
            (18, Field::Ids),
            (19, Field::Ssn),
            (20, Field::Licence),
            (21, Field::Ids),
        ],
    ),
    (b"PD1", &[(4, Field::Provider)]),
    (
        b"NK1",
        &[
            (2, Field::Name),
            (4, Field::Address),
            (5, Field::Phone),
            (6, Field::Phone),
            (16, Field::Birth),
            (30, Field::Name),
            (31, Field::Phone),
            (32, Field::Address),
            (33, Field::Ids),
            (37, Field::Ssn),
        ],
    ),
    (
        b"PV1",
        &[
            (7, Field::Provider),
            (8, Field::Provider),
            (9, Field::Provider),
            (17, Field::Provider),
            (19, Field::Ids),
        ],
    ),
    (
        b"MRG",
        &[
            (1, Field::Ids),
            (2, Field::Ids),
            (3, Field::Ids),
            (4, Field::Ids),
            (7, Field::Name),
        ],
    ),
    (
        b"GT1",
        &[
            (3, Field::Name),
            (4, Field::Name),
            (5, Field::Address),
            (6, Field::Phone),
            (7, Field::Phone),
            (8, Field::Birth),
            (12, Field::Ssn),
        ],
    ),
    (
        b"IN1",
        &[
            (16, Field::Name),
            (18, Field::Birth),
            (19, Field::Address),
            (36, Field::Ids),
            (49, Field::Ids),
        ],
    ),
    (b"DG1", &[(3, Field::Diagnosis), (4, Field::Diagnosis)]),
    (b"PRB", &[(3, Field::Diagnosis)]),
    (b"RXA", &[(5, Field::Medication)]),
    (b"RXE", &[(2, Field::Medication)]),
    (b"RXO", &[(1, Field::Medication)]),
    (b"ORC", &[(12, Field::Provider)]),
    (b"OBR", &[(16, Field::Provider), (28, Field::Provider)]),
    (b"OBX", &[(16, Field::Provider)]),
];

/// Confidence of a value read by its field's place.
const CONFIDENCE: f32 = 0.9;

/// The separators of a message: field, component, repetition, subcomponent.
#[derive(Debug, Clone, Copy)]
struct Separators {
    component: u8,
    repetition: u8,
}

const DEFAULT: Separators = Separators {
    component: b'^',
    repetition: b'~',
};

/// Reads HL7 v2 segments.
#[derive(Debug)]
pub(crate) struct Hl7Detector {
    name: ClassInfo,
    birth: ClassInfo,
    address: ClassInfo,
    phone: ClassInfo,
    ssn: ClassInfo,
    record: ClassInfo,
    npi: ClassInfo,
    licence: ClassInfo,
    diagnosis: ClassInfo,
    medication: ClassInfo,
}

impl Hl7Detector {
    pub(crate) fn new() -> Self {
        Hl7Detector {
            name: class_info("PII.PERSON_NAME", "PERSON_NAME", Severity::Medium),
            birth: class_info("PII.DATE_OF_BIRTH", "DATE_OF_BIRTH", Severity::Medium),
            address: class_info("PII.STREET_ADDRESS", "STREET_ADDRESS", Severity::Medium),
            phone: class_info("PII.PHONE", "PHONE", Severity::Medium),
            ssn: class_info("GOVID.US.SSN", "US_SSN", Severity::High),
            record: class_info("PHI.MRN", "MEDICAL_RECORD_NUMBER", Severity::High),
            npi: class_info("PHI.US.NPI", "US_NPI", Severity::Medium),
            licence: class_info(
                "GOVID.US.DRIVER_LICENSE",
                "US_DRIVER_LICENSE",
                Severity::High,
            ),
            diagnosis: class_info("PHI.DIAGNOSIS", "DIAGNOSIS", Severity::High),
            medication: class_info("PHI.MEDICATION", "MEDICATION", Severity::Medium),
        }
    }
}

impl Detector for Hl7Detector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.name.clone(),
            self.birth.clone(),
            self.address.clone(),
            self.phone.clone(),
            self.ssn.clone(),
            self.record.clone(),
            self.npi.clone(),
            self.licence.clone(),
            self.diagnosis.clone(),
            self.medication.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let bytes = input.bytes;
        // The separators of the last `MSH` header, while its message lasts.
        let mut message: Option<Separators> = None;
        let mut next_line = 0;
        // Where the last segment's line ended: a message is a run of segments, and
        // anything else between two of them ends it.
        let mut last_end = 0;
        for bar in memchr::memchr_iter(b'|', bytes) {
            if bar < next_line || bar < 3 {
                continue;
            }
            let id_at = bar - 3;
            let Some(id) = bytes.get(id_at..bar) else {
                continue;
            };
            if !segment_id(id) {
                continue;
            }
            let Some(start) = segment_start(bytes, id_at) else {
                continue;
            };
            let line_end = memchr::memchr2(b'\n', b'\r', bytes.get(bar..).unwrap_or_default())
                .map_or(bytes.len(), |n| bar + n);
            // A message written inside a string (a JSON field, a log line) ends its
            // segments with the escapes `\r` or `\n`, and its last one at the quote.
            let end = match start {
                Start::Line if message.is_some() || id == b"MSH" => {
                    wrapped_end(bytes, id_at, line_end)
                }
                Start::Line => line_end,
                Start::InString => {
                    let line = bytes.get(bar..line_end).unwrap_or_default();
                    let escape = memchr::memchr_iter(b'\\', line)
                        .find(|&i| matches!(line.get(i + 1), Some(b'r' | b'n')));
                    let quote = memchr::memchr(b'"', line);
                    bar + escape.into_iter().chain(quote).min().unwrap_or(line.len())
                }
            };
            next_line = end;
            if !separates_segments(bytes.get(last_end..id_at).unwrap_or_default()) {
                message = None;
            }
            last_end = end;
            let Some(segment) = bytes.get(bar..end) else {
                continue;
            };
            if id == b"MSH" {
                // `MSH|^~\&|`: component, repetition, escape, subcomponent.
                message = match segment.get(1..3) {
                    Some(&[component, repetition])
                        if component != b'|'
                            && repetition != b'|'
                            && component.is_ascii_punctuation()
                            && repetition.is_ascii_punctuation() =>
                    {
                        Some(Separators {
                            component,
                            repetition,
                        })
                    }
                    _ => None,
                };
                continue;
            }
            let Some(&(_, fields)) = FIELDS.iter().find(|(name, _)| *name == id) else {
                continue;
            };
            let separators = match message {
                Some(s) => s,
                None if lone_segment(segment) => DEFAULT,
                None => continue,
            };
            self.read_segment(input, bar, segment, fields, separators, out);
        }
    }
}

impl Hl7Detector {
    /// The findings of one segment whose first field separator is at `bar`.
    fn read_segment<'s>(
        &'s self,
        input: &Input<'_>,
        bar: usize,
        segment: &[u8],
        fields: &[(usize, Field)],
        separators: Separators,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let mut at = bar + 1;
        for (n, field) in segment.split(|&b| b == b'|').enumerate().skip(1) {
            if let Some(&(_, kind)) = fields.iter().find(|(number, _)| *number == n) {
                let mut from = at;
                for repetition in field.split(|&b| b == separators.repetition) {
                    let components = components(repetition, from, separators.component);
                    self.read_value(input, kind, &components, out);
                    from += repetition.len() + 1;
                }
            }
            at += field.len() + 1;
        }
    }

    fn read_value<'s>(
        &'s self,
        input: &Input<'_>,
        kind: Field,
        parts: &[(usize, usize)],
        out: &mut Vec<Candidate<'s>>,
    ) {
        let bytes = input.bytes;
        let part = |i: usize| -> Option<(usize, usize)> {
            parts
                .get(i)
                .map(|&(s, e)| trim(bytes, s, e))
                .filter(|&(s, e)| s < e && bytes.get(s..e) != Some(b"\"\""))
        };
        let text = |(s, e): (usize, usize)| bytes.get(s..e).unwrap_or_default();
        let mut emit = |info: &'s ClassInfo, (s, e): (usize, usize)| {
            out.extend(input.finding(info, s, e, CONFIDENCE));
        };
        match kind {
            Field::Name => {
                if let Some(span) = name_span(bytes, &part, 0) {
                    emit(&self.name, span);
                }
            }
            Field::Provider => {
                if let Some(id) = part(0)
                    && npi_valid(text(id))
                {
                    emit(&self.npi, id);
                }
                if let Some(span) = name_span(bytes, &part, 1) {
                    emit(&self.name, span);
                }
            }
            Field::Birth => {
                if let Some(span) = part(0)
                    && birth_time(text(span))
                {
                    emit(&self.birth, span);
                }
            }
            Field::Address => {
                // Street, other designation, city, state, ZIP: from the first filled to
                // the last filled, when more than a state is given.
                let filled: Vec<(usize, usize)> = (0..5).filter_map(&part).collect();
                if let (Some(&(s, _)), Some(&(_, e))) = (filled.first(), filled.last())
                    && (filled.len() > 1 || part(3).is_none())
                {
                    emit(&self.address, (s, e));
                }
            }
            Field::Phone => {
                let digits =
                    |span: (usize, usize)| text(span).iter().filter(|b| b.is_ascii_digit()).count();
                if let Some(number) = part(0).filter(|&n| digits(n) >= 7 && phone_like(text(n))) {
                    emit(&self.phone, number);
                } else if let Some(local) = part(6).filter(|&n| phone_like(text(n))) {
                    // Country code, area code, local number.
                    let start = part(4).or(part(5)).map_or(local.0, |(s, _)| s);
                    if digits((start, local.1)) >= 7 {
                        emit(&self.phone, (start, local.1));
                    }
                }
            }
            Field::Ssn => {
                if let Some(span) = part(0)
                    && ssn(text(span))
                {
                    emit(&self.ssn, span);
                }
            }
            Field::Diagnosis | Field::Medication => {
                // The code and its text, when either holds a letter.
                let filled: Vec<(usize, usize)> = (0..2).filter_map(&part).collect();
                if let (Some(&(s, _)), Some(&(_, e))) = (filled.first(), filled.last())
                    && text((s, e)).iter().any(u8::is_ascii_alphabetic)
                {
                    let info = if kind == Field::Diagnosis {
                        &self.diagnosis
                    } else {
                        &self.medication
                    };
                    emit(info, (s, e));
                }
            }
            Field::Licence => {
                if let Some(span) = part(0).filter(|&s| identifier(text(s))) {
                    emit(&self.licence, span);
                }
            }
            Field::Ids => {
                let Some(id) = part(0) else {
                    return;
                };
                let code = part(4).map(text).unwrap_or_default();
                let value = text(id);
                if code.eq_ignore_ascii_case(b"SS") {
                    if ssn(value) {
                        emit(&self.ssn, id);
                    }
                } else if code.eq_ignore_ascii_case(b"NPI") {
                    if npi_valid(value) {
                        emit(&self.npi, id);
                    }
                } else if identifier(value) {
                    let info = if code.eq_ignore_ascii_case(b"DL") {
                        &self.licence
                    } else {
                        &self.record
                    };
                    emit(info, id);
                }
            }
        }
    }
}

/// The components of one repetition starting at byte `from`, as spans.
fn components(repetition: &[u8], from: usize, separator: u8) -> Vec<(usize, usize)> {
    let mut at = from;
    repetition
        .split(|&b| b == separator)
        .map(|c| {
            let span = (at, at + c.len());
            at += c.len() + 1;
            span
        })
        .collect()
}

/// `start..end` without the spaces around it.
fn trim(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && bytes.get(start) == Some(&b' ') {
        start += 1;
    }
    while end > start && bytes.get(end - 1) == Some(&b' ') {
        end -= 1;
    }
    (start, end)
}

/// A person's name from component `first` (family) through the given name and middle
/// name, from the first filled to the last filled; the family name, or the given name
/// when there is none, must start with a capital (`JONES`, `Jones`; not `12` or
/// `retry`).
fn name_span(
    text: &[u8],
    part: &impl Fn(usize) -> Option<(usize, usize)>,
    first: usize,
) -> Option<(usize, usize)> {
    let filled: Vec<(usize, usize)> = (first..first + 3).filter_map(part).collect();
    let (&(start, _), &(_, end)) = (filled.first()?, filled.last()?);
    let lead = part(first).or_else(|| part(first + 1))?;
    text.get(lead.0..lead.1)
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.chars().next())
        .is_some_and(char::is_uppercase)
        .then_some((start, end))
}

/// Whether a segment read without an `MSH` header before it looks like HL7: a set id
/// that is empty or a number, seven fields or more, and a component separator in the
/// line.
fn lone_segment(segment: &[u8]) -> bool {
    let set_id = segment
        .get(1..)
        .unwrap_or_default()
        .split(|&b| b == b'|')
        .next()
        .unwrap_or_default();
    set_id.len() <= 4
        && set_id.iter().all(u8::is_ascii_digit)
        && memchr::memchr(b'^', segment).is_some()
        && segment.iter().filter(|&&b| b == b'|').count() >= 7
}

/// Where a segment starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// At a line's start.
    Line,
    /// Inside a string: after an escaped line break (`\rPID|`), or a header after a
    /// quote or a log line's words (`"payload": "MSH|^~\\&|…`, `inbound: MSH|^~\&|…`).
    InString,
}

/// How the segment whose id starts at `at` starts, if it starts one: at the start of
/// the text or of a line, after spaces or tabs that indent it, or after the MLLP start
/// byte; after an escaped line break; or, for a header with its encoding characters
/// (`MSH|^~\&|`, or `MSH|^~\\&|` in JSON), after a quote, a space, `:`, `=` or `>`.
fn segment_start(bytes: &[u8], at: usize) -> Option<Start> {
    let head = bytes.get(..at).unwrap_or_default();
    let indent = head
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    match head.len().checked_sub(indent + 1).and_then(|i| head.get(i)) {
        None | Some(b'\n' | b'\r' | 0x0b) => return Some(Start::Line),
        _ => {}
    }
    if matches!(head, [.., b'\\', b'r' | b'n']) {
        return Some(Start::InString);
    }
    // The encoding characters, the escape doubled in a JSON string (`^~\\&`).
    let header = bytes.get(at..at + 10).is_some_and(|h| {
        let encoding = h
            .get(4..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_punctuation() && **b != b'|')
            .count();
        h.starts_with(b"MSH|") && (4..=5).contains(&encoding) && h.get(4 + encoding) == Some(&b'|')
    });
    (header && matches!(head.last(), Some(b'"' | b'\'' | b' ' | b':' | b'=' | b'>')))
        .then_some(Start::InString)
}

/// The end of a segment of a message that starts at `at` and whose line ends at
/// `line_end`, over the lines a mail client or an editor wrapped it onto: while its
/// last line is [`WRAP_WIDTH`] bytes or more, a next line that is no segment's and holds
/// more field or component separators than spaces goes on with it (at most
/// [`WRAPPED_LINES`]).
fn wrapped_end(bytes: &[u8], at: usize, line_end: usize) -> usize {
    let (mut line_start, mut end) = (at, line_end);
    for _ in 0..WRAPPED_LINES {
        let next = match bytes.get(end..) {
            Some([b'\r', b'\n', ..]) => end + 2,
            Some([b'\n' | b'\r', ..]) => end + 1,
            _ => break,
        };
        let rest = bytes.get(next..).unwrap_or_default();
        let next_end = next + memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        let line = bytes.get(next..next_end).unwrap_or_default();
        let starts_segment = line
            .get(..4)
            .is_some_and(|h| segment_id(h.get(..3).unwrap_or_default()) && h.get(3) == Some(&b'|'));
        // A segment's rest has more separators than spaces; a line of prose or of a
        // table after the message (`see above | thanks`) has fewer.
        let separators = line.iter().filter(|b| matches!(b, b'|' | b'^')).count();
        let spaces = line.iter().filter(|&&b| b == b' ').count();
        // And it holds a component separator: a pipe-delimited log line or table
        // after the message (`2024-01-01|INFO|svc|…`, `id|name|dept`, `|---|`) has none.
        if end - line_start < WRAP_WIDTH
            || starts_segment
            || separators <= spaces
            || !line.contains(&b'^')
        {
            break;
        }
        (line_start, end) = (next, next_end);
    }
    end
}

/// The narrowest width a line of a wrapped segment is taken to have been wrapped at.
const WRAP_WIDTH: usize = 60;

/// The most lines one segment is read over.
const WRAPPED_LINES: usize = 8;

/// Whether the bytes between two segments keep them in one message: line breaks,
/// their escapes (`\r`), spaces and MLLP framing bytes only.
fn separates_segments(gap: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = gap.get(i) {
        i += match b {
            b'\n' | b'\r' | b' ' | b'\t' | 0x0b | 0x1c => 1,
            b'\\' if matches!(gap.get(i + 1), Some(b'r' | b'n')) => 2,
            _ => return false,
        };
    }
    true
}

/// The ids of the segments of HL7 v2 messages as they are exchanged (ADT, ORM, ORU,
/// RDE, VXU, DFT, MDM, SIU), sorted.
const SEGMENT_IDS: &[&[u8; 3]] = &[
    b"ACC", b"AIG", b"AIL", b"AIP", b"AIS", b"AL1", b"BHS", b"BTS", b"DB1", b"DG1", b"DRG", b"ERR",
    b"EVN", b"FHS", b"FT1", b"FTS", b"GT1", b"IN1", b"IN2", b"IN3", b"MFE", b"MFI", b"MRG", b"MSA",
    b"MSH", b"NK1", b"NTE", b"OBR", b"OBX", b"ORC", b"PD1", b"PID", b"PR1", b"PRB", b"PV1", b"PV2",
    b"QRD", b"ROL", b"RXA", b"RXC", b"RXE", b"RXO", b"RXR", b"SCH", b"SFT", b"SPM", b"TQ1", b"TXA",
    b"UB2",
];

/// Whether `line` starts with an HL7 segment's id and the field separator (`PID|`,
/// `OBX|`, or a site's own `Z` segment: `ZPI|`).
pub(super) fn segment_line(line: &[u8]) -> bool {
    match line.get(..4) {
        Some([a, b, c, b'|']) => {
            let id = [*a, *b, *c];
            (*a == b'Z' && segment_id(&id)) || SEGMENT_IDS.binary_search(&&id).is_ok()
        }
        _ => false,
    }
}

/// A segment id: a capital letter, then two capitals or digits.
fn segment_id(id: &[u8]) -> bool {
    matches!(id, [a, b, c] if a.is_ascii_uppercase()
        && (b.is_ascii_uppercase() || b.is_ascii_digit())
        && (c.is_ascii_uppercase() || c.is_ascii_digit()))
}

/// A time stamp whose date is a valid date of birth: `YYYYMMDD`, then at most a time
/// (`HHMM`, `HHMMSS`, fractions, an offset); or a birth known to the month only,
/// `YYYYMM` (a month and year of birth are a birth date's elements too; a year alone
/// is not read).
fn birth_time(value: &[u8]) -> bool {
    if let [y1, y2, y3, y4, m1, m2] = *value
        && [y1, y2, y3, y4, m1, m2].iter().all(u8::is_ascii_digit)
    {
        let number = |d: &[u8]| d.iter().fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
        return super::personal::year_ok(number(&[y1, y2, y3, y4]))
            && (1..=12).contains(&number(&[m1, m2]));
    }
    let Some(date) = value.get(..8) else {
        return false;
    };
    let number = |r: std::ops::Range<usize>| {
        date.get(r).and_then(|d| {
            d.iter().try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })
        })
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(4..6), number(6..8)) else {
        return false;
    };
    super::personal::year_ok(year)
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && value
            .get(8..)
            .unwrap_or_default()
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-'))
}

/// A social security number that passes the issuance rules: `123456789` or
/// `123-45-6789`.
pub(super) fn ssn(value: &[u8]) -> bool {
    match value {
        [a @ .., b'-', _, _, b'-', _, _, _, _] if a.len() == 3 => value
            .get(..3)
            .zip(value.get(4..6))
            .zip(value.get(7..))
            .is_some_and(|((a, g), s)| ssn_valid(a, g, s)),
        _ if value.len() == 9 => value
            .get(..3)
            .zip(value.get(3..5))
            .zip(value.get(5..))
            .is_some_and(|((a, g), s)| ssn_valid(a, g, s)),
        _ => false,
    }
}

/// Whether a telephone component is written as one: digits, spaces and `()+-./`, with
/// digits.
fn phone_like(value: &[u8]) -> bool {
    value.iter().any(u8::is_ascii_digit)
        && value.iter().all(|b| {
            b.is_ascii_digit() || matches!(b, b' ' | b'(' | b')' | b'+' | b'-' | b'.' | b'/')
        })
}

/// Whether a value can be an identifier: 3 to 32 letters, digits, `-` and `.`, with a
/// digit (not a name or a code word).
fn identifier(value: &[u8]) -> bool {
    (3..=32).contains(&value.len())
        && value.iter().any(u8::is_ascii_digit)
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&'static str, String)> {
        let detector = Hl7Detector::new();
        let input = Input::new(text);
        let mut out = Vec::new();
        detector.detect(&input, &mut out);
        out.iter()
            .map(|c| {
                let entity: &str = &c.info.entity;
                let entity = match entity {
                    "PERSON_NAME" => "name",
                    "DATE_OF_BIRTH" => "dob",
                    "STREET_ADDRESS" => "address",
                    "PHONE" => "phone",
                    "US_SSN" => "ssn",
                    "MEDICAL_RECORD_NUMBER" => "mrn",
                    "US_NPI" => "npi",
                    "DIAGNOSIS" => "diagnosis",
                    "MEDICATION" => "drug",
                    _ => "licence",
                };
                (
                    entity,
                    text.get(c.start..c.end).unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn fields_are_read_by_their_place() {
        let text = "MSH|^~\\&|EPIC|HOSP|LAB|HOSP|20240115083000||ADT^A01|1|P|2.5.1\r\
            PID|1||4455667^^^HOSP^MR~123456789^^^SSA^SS||JONES^MARY^ANN^^MRS||19800312|F|||\
            742 EVERGREEN TER^^SPRINGFIELD^IL^62704^USA||^PRN^PH^^1^217^5550143|(217)555-0199\
            ||M||40012345||S1234-5678-9012\r\
            PV1|1|I|4W^412^1||||1234567893^SMITH^JOHN^^^DR\r\
            DG1|1||E11.9^Type 2 diabetes mellitus^I10\r\
            RXA|0|1|20240115|20240115|08^Hepatitis B vaccine^CVX|0.5|mL\r";
        let got = found(text);
        let want: Vec<(&str, String)> = [
            ("mrn", "4455667"),
            ("ssn", "123456789"),
            ("name", "JONES^MARY^ANN"),
            ("dob", "19800312"),
            ("address", "742 EVERGREEN TER^^SPRINGFIELD^IL^62704"),
            ("phone", "1^217^5550143"),
            ("phone", "(217)555-0199"),
            ("mrn", "40012345"),
            ("licence", "S1234-5678-9012"),
            ("npi", "1234567893"),
            ("name", "SMITH^JOHN"),
            ("diagnosis", "E11.9^Type 2 diabetes mellitus"),
            ("drug", "08^Hepatitis B vaccine"),
        ]
        .iter()
        .map(|&(e, v)| (e, v.to_owned()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_wrapped_segment_is_read_over_its_lines() {
        let text = "MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\n\
            PID|1||4455667^^^HOSP^MR||JONES^MARY||198003|F|||742 EVERGREEN TER^^SPRINGFIELD\n\
            ^IL^62704||(217)555-0199\n\
            see above | thanks\n";
        let got = found(text);
        assert!(got.contains(&("dob", "198003".to_owned())), "{got:?}");
        assert!(
            got.contains(&(
                "address",
                "742 EVERGREEN TER^^SPRINGFIELD\n^IL^62704".to_owned()
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&("phone", "(217)555-0199".to_owned())),
            "{got:?}"
        );
        // Not wrapped: a pipe-delimited log line, a table's header and rule after the
        // message.
        let long = "MSH|^~\\&|A|B\nPID|1||||JONES^MARY||19800312|F|||742 EVERGREEN TER^^SPRINGFIELD^IL^62704";
        for after in [
            "2024-01-01|INFO|svc|||||||123456789|x",
            "id|name|dept|x",
            "|---|---|---|",
        ] {
            let got = found(&format!("{long}\n{after}\n"));
            assert!(got.iter().all(|(_, v)| !v.contains('\n')), "{got:?}");
            assert!(got.iter().all(|(kind, _)| *kind != "licence"), "{got:?}");
        }
        // Not wrapped: a line under the width, a line of prose after the message.
        let short = "MSH|^~\\&|A|B\nPID|1||||JONES^MARY||19800312\n^X^Y|Z\n";
        assert!(found(short).iter().all(|(_, v)| !v.contains('\n')));
        // A year alone is no birth date; a thirteenth month neither.
        let years = "MSH|^~\\&|A|B\nPID|1||||JONES^MARY||1980\nPID|1||||JONES^MARY||198013\n";
        assert!(found(years).iter().all(|(kind, _)| *kind != "dob"));
    }

    #[test]
    fn a_message_inside_a_string_is_read() {
        // The header's component separator `#` applies: it was read.
        let text = r#"{"level": "info", "payload": "MSH|#~\\&|A|B|C|D|2024||ADT#A01|1|P|2.5\rPID|1||4455667###H#MR||JONES#MARY||19800312|F\rPV1|1|I"}"#;
        assert_eq!(
            found(text),
            vec![
                ("mrn", "4455667".to_owned()),
                ("name", "JONES#MARY".to_owned()),
                ("dob", "19800312".to_owned())
            ]
        );
        let text =
            "2024-01-15 INFO inbound: MSH|^~\\&|A|B\\nPID|1||M-20931^^^LAB^MR||OKAFOR^CHIDI\n";
        assert_eq!(
            found(text),
            vec![
                ("mrn", "M-20931".to_owned()),
                ("name", "OKAFOR^CHIDI".to_owned())
            ]
        );
        // `MSH|` in a sentence, without its encoding characters, starts nothing.
        assert_eq!(
            found("see MSH|PID|1||4455667^^^H^MR||JONES^MARY||1|2|3|4\n"),
            vec![]
        );
    }

    #[test]
    fn segment_ids_are_sorted_and_read_at_a_lines_start() {
        assert!(SEGMENT_IDS.windows(2).all(|w| w.first() < w.last()));
        assert!(segment_line(b"PID|1||x"));
        assert!(segment_line(b"ZPI|1"));
        assert!(!segment_line(b"SSN|NAME|DOB"));
        assert!(!segment_line(b"PID,1"));
    }

    #[test]
    fn the_message_header_sets_the_separators() {
        // Component `#`, repetition `!`.
        let text = "MSH|#!\\&|A|B\nPID|1||77001####MR!88002####PI||ROE#ANN\n";
        assert_eq!(
            found(text),
            vec![
                ("mrn", "77001".to_owned()),
                ("mrn", "88002".to_owned()),
                ("name", "ROE#ANN".to_owned())
            ]
        );
        // The message ends where other text starts: a table after it is no segment.
        let after = format!("{text}\nThat was the message. And this a table:\nPID|NAME|X|Y|Z|W\n");
        assert_eq!(found(&after).len(), 3);
    }

    #[test]
    fn invalid_values_and_lookalike_tables_are_not_read() {
        // A date that is none, an SSN never issued, an NPI that fails its check, the
        // HL7 null `""`.
        let text = format!(
            "PID|1||\"\"^^^H^MR||\"\"||19801332{}000123456\nPV1|1|I|||||1234567890^^^\n",
            "|".repeat(12)
        );
        assert_eq!(found(&text), vec![]);
        // A pipe-separated table, not a segment: no set id, no components.
        assert_eq!(found("PID|PPID|USER|CMD|START|NAME\n"), vec![]);
        assert_eq!(found("x PID|1||^^|A^B|C\n"), vec![]);
        // A process table's line, with a `^` in a command.
        assert_eq!(
            found("PID|1|nginx|/usr/sbin/nginx -g daemon^off|S|12|00:00:01\n"),
            vec![]
        );
        // Names start with a capital: numbers and words of code are none.
        let text = format!(
            "MSH|^~\\&|A\nPID|1||A100^^^H^MR||12^34\nPV1|1|I{}max^retry^count\n",
            "|".repeat(5)
        );
        assert_eq!(found(&text), vec![("mrn", "A100".to_owned())]);
    }
}
