//! Patients in FHIR resources written as JSON (`{"resourceType": "Patient", …}`): a
//! `HumanName`'s parts and an `Address`'s lines are bare strings under keys no context
//! rule reads as a person's (`"family": "Chalmers"`, `"given": ["Peter", "James"]`,
//! `"line": ["534 Erewhon St"]`). In a text that holds a `"resourceType"` key:
//!
//! - every string of `"family"` and `"given"` → PERSON_NAME;
//! - every string of `"line"`, `"city"`, `"district"` and `"postalCode"` →
//!   STREET_ADDRESS (below a state, each narrows down where a person lives);
//! - every `"value"` string in an `"identifier"` array that looks like an identifier
//!   (a digit, 3–64 characters without spaces) → MEDICAL_RECORD_NUMBER.
//!
//! Dates of birth (`"birthDate"`), telephone numbers and e-mail addresses of `telecom`
//! are found by their own rules. Text without `"resourceType"` costs a `memchr` over
//! its quotes.

use memchr::memmem;

use super::{Candidate, Detector, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// Confidence of a value read by its key.
const CONFIDENCE: f32 = 0.85;

/// How far an `identifier` array is read for its values.
const IDENTIFIER_REACH: usize = 4096;

/// Reads FHIR JSON resources.
#[derive(Debug)]
pub(crate) struct FhirDetector {
    name: ClassInfo,
    address: ClassInfo,
    record: ClassInfo,
}

impl FhirDetector {
    pub(crate) fn new() -> Self {
        FhirDetector {
            name: class_info("PII.PERSON_NAME", "PERSON_NAME", Severity::Medium),
            address: class_info("PII.STREET_ADDRESS", "STREET_ADDRESS", Severity::Medium),
            record: class_info("PHI.MRN", "MEDICAL_RECORD_NUMBER", Severity::High),
        }
    }
}

impl Detector for FhirDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.name.clone(), self.address.clone(), self.record.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let bytes = input.bytes;
        // From each quote (a substring search's prefilter would stop at the common
        // letters of prose).
        let resource = memchr::memchr_iter(b'"', bytes).any(|q| {
            bytes
                .get(q..)
                .is_some_and(|rest| rest.starts_with(b"\"resourceType\""))
        });
        if !resource {
            return;
        }
        let keyed: [(&[u8], &'s ClassInfo); 6] = [
            (b"\"family\"", &self.name),
            (b"\"given\"", &self.name),
            (b"\"line\"", &self.address),
            (b"\"city\"", &self.address),
            (b"\"district\"", &self.address),
            (b"\"postalCode\"", &self.address),
        ];
        for (key, info) in keyed {
            for at in memmem::find_iter(bytes, key) {
                for (start, end) in strings_of(bytes, at + key.len()) {
                    if bytes
                        .get(start..end)
                        .is_some_and(|v| v.iter().any(u8::is_ascii_alphanumeric))
                    {
                        out.extend(input.finding(info, start, end, CONFIDENCE));
                    }
                }
            }
        }
        for at in memmem::find_iter(bytes, b"\"identifier\"") {
            let from = at + b"\"identifier\"".len();
            let Some(open) = after_colon(bytes, from).filter(|&o| bytes.get(o) == Some(&b'['))
            else {
                continue;
            };
            let close = array_end(bytes, open).unwrap_or(bytes.len());
            let array = bytes.get(open..close).unwrap_or_default();
            for v in memmem::find_iter(array, b"\"value\"") {
                let Some(&(start, end)) = strings_of(bytes, open + v + b"\"value\"".len()).first()
                else {
                    continue;
                };
                if bytes.get(start..end).is_some_and(identifier) {
                    out.extend(input.finding(&self.record, start, end, CONFIDENCE));
                }
            }
        }
    }
}

/// Where the value after a key ending at `from` starts: past spaces, a `:` and spaces.
fn after_colon(bytes: &[u8], from: usize) -> Option<usize> {
    let skip = |mut at: usize| {
        while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
            at += 1;
        }
        at
    };
    let colon = skip(from);
    (bytes.get(colon) == Some(&b':')).then(|| skip(colon + 1))
}

/// The contents of the string value, or of each string of the array value, of the key
/// ending at `from`. Escaped quotes stay inside a string.
fn strings_of(bytes: &[u8], from: usize) -> Vec<(usize, usize)> {
    let Some(at) = after_colon(bytes, from) else {
        return Vec::new();
    };
    match bytes.get(at) {
        Some(b'"') => string_at(bytes, at).into_iter().collect(),
        Some(b'[') => {
            let mut found = Vec::new();
            let mut at = at + 1;
            loop {
                while bytes
                    .get(at)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    at += 1;
                }
                if bytes.get(at) != Some(&b'"') {
                    break;
                }
                let Some((start, end)) = string_at(bytes, at) else {
                    break;
                };
                found.push((start, end));
                at = end + 1;
            }
            found
        }
        _ => Vec::new(),
    }
}

/// The contents of the JSON string whose opening quote is at `quote`.
fn string_at(bytes: &[u8], quote: usize) -> Option<(usize, usize)> {
    let start = quote + 1;
    let mut at = start;
    loop {
        match bytes.get(at)? {
            b'"' => return Some((start, at)),
            b'\\' => at += 2,
            b'\n' => return None,
            _ => at += 1,
        }
    }
}

/// The end of the array opening at `open` (its `]`), read at most
/// [`IDENTIFIER_REACH`] bytes, strings skipped.
fn array_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = open;
    let limit = open.saturating_add(IDENTIFIER_REACH).min(bytes.len());
    while at < limit {
        match bytes.get(at)? {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            b'"' => at = string_at(bytes, at)?.1,
            _ => {}
        }
        at += 1;
    }
    None
}

/// Whether a value can be an identifier: 3 to 64 characters without spaces or quotes,
/// with a digit; not a URL or an OID (`urn:oid:…`, `http://…`), which name a system.
fn identifier(value: &[u8]) -> bool {
    (3..=64).contains(&value.len())
        && value.iter().any(u8::is_ascii_digit)
        && !value.iter().any(|b| b.is_ascii_whitespace() || *b == b'\\')
        && !value.contains(&b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        let detector = FhirDetector::new();
        let input = Input::new(text);
        let mut out = Vec::new();
        detector.detect(&input, &mut out);
        let mut got: Vec<(usize, String, String)> = out
            .iter()
            .map(|c| {
                (
                    c.start,
                    c.info.entity.to_string(),
                    text.get(c.start..c.end).unwrap_or_default().to_owned(),
                )
            })
            .collect();
        got.sort();
        got.into_iter().map(|(_, e, v)| (e, v)).collect()
    }

    #[test]
    fn a_patients_name_address_and_identifiers_are_read_by_key() {
        let text = r#"{"resourceType": "Patient",
 "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"},
                {"system": "http://example.org/ids", "value": "urn:uuid:1"}],
 "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
 "telecom": [{"system": "phone", "value": "(03) 5555 6473"}],
 "address": [{"line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999"}]}"#;
        let want = [
            ("MEDICAL_RECORD_NUMBER", "12345"),
            ("PERSON_NAME", "Chalmers"),
            ("PERSON_NAME", "Peter"),
            ("PERSON_NAME", "James"),
            ("STREET_ADDRESS", "534 Erewhon St"),
            ("STREET_ADDRESS", "PleasantVille"),
            ("STREET_ADDRESS", "3999"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(e, v)| ((*e).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(found(text), want);
    }

    #[test]
    fn without_a_resource_type_nothing_is_read() {
        assert_eq!(found(r#"{"family": "Sans", "given": ["Noto"]}"#), vec![]);
        // An empty or escaped string is read as JSON reads it.
        let text = r#"{"resourceType": "Patient", "name": [{"family": "", "given": ["O\"Neil"]}]}"#;
        assert_eq!(
            found(text),
            vec![("PERSON_NAME".to_owned(), r#"O\"Neil"#.to_owned())]
        );
    }
}
