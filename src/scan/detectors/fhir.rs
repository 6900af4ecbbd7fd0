//! Patients in FHIR resources written as JSON (`{"resourceType": "Patient", …}`): a
//! `HumanName`'s parts and an `Address`'s lines are bare strings under keys no context
//! rule reads as a person's (`"family": "Chalmers"`, `"given": ["Peter", "James"]`,
//! `"line": ["534 Erewhon St"]`). Inside the object of a resource that describes a
//! person (`"resourceType"` `Patient`, `RelatedPerson`, `Person`, `Practitioner`; read
//! up to 256 KB, other resources and other JSON left alone):
//!
//! - every string of `"family"` and `"given"` → PERSON_NAME;
//! - every string of `"line"`, `"city"`, `"district"` and `"postalCode"` →
//!   STREET_ADDRESS (below a state, each narrows down where a person lives);
//! - the `"value"` of each `"identifier"` object (one, or each of a list): under a US
//!   SSN or NPI system, when it passes that check, US_SSN or US_NPI; otherwise, when it
//!   looks like an identifier (a digit, 3–64 characters without spaces or `:`),
//!   MEDICAL_RECORD_NUMBER.
//!
//! The same resources in XML (`<Patient xmlns="http://hl7.org/fhir">`, or inside a
//! `Bundle` that declares the namespace) are read from the `value` attributes of the
//! same elements (`<family value="Chalmers"/>`, `<identifier>`'s `<system>` and
//! `<value>`).
//!
//! Dates of birth (`"birthDate"`), telephone numbers and e-mail addresses of `telecom`
//! are found by their own rules. Text without `"resourceType"` costs a `memchr` over
//! its quotes.

use memchr::memmem;

use super::{Candidate, Detector, Input, class_info};
use crate::scan::validators::npi_valid;
use crate::scan::{ClassInfo, Severity};

/// Confidence of a value read by its key.
const CONFIDENCE: f32 = 0.85;

/// How far one identifier object is read for its system and value.
const IDENTIFIER_REACH: usize = 1024;

/// How far a person's resource is read: a larger one is read up to here.
const RESOURCE_REACH: usize = 256 * 1024;

/// The namespace of FHIR's XML, as its root element declares it.
const XML_NAMESPACE: &[u8] = b"\"http://hl7.org/fhir\"";

/// The key that names a resource's type.
const RESOURCE_TYPE: &[u8] = b"\"resourceType\"";

/// The resources that describe a person.
const PEOPLE: &[&[u8]] = &[b"Patient", b"RelatedPerson", b"Person", b"Practitioner"];

/// Reads FHIR JSON resources.
#[derive(Debug)]
pub(crate) struct FhirDetector {
    name: ClassInfo,
    address: ClassInfo,
    record: ClassInfo,
    ssn: ClassInfo,
    npi: ClassInfo,
}

impl FhirDetector {
    pub(crate) fn new() -> Self {
        FhirDetector {
            name: class_info("PII.PERSON_NAME", "PERSON_NAME", Severity::Medium),
            address: class_info("PII.STREET_ADDRESS", "STREET_ADDRESS", Severity::Medium),
            record: class_info("PHI.MRN", "MEDICAL_RECORD_NUMBER", Severity::High),
            ssn: class_info("GOVID.US.SSN", "US_SSN", Severity::High),
            npi: class_info("PHI.US.NPI", "US_NPI", Severity::Medium),
        }
    }
}

impl Detector for FhirDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![
            self.name.clone(),
            self.address.clone(),
            self.record.clone(),
            self.ssn.clone(),
            self.npi.clone(),
        ]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let bytes = input.bytes;
        // The end of the last resource read: one inside it was read with it.
        let mut covered = 0;
        // From each quote (a substring search's prefilter would stop at the common
        // letters of prose).
        for q in memchr::memchr_iter(b'"', bytes) {
            if q < covered {
                continue;
            }
            let rest = bytes.get(q..).unwrap_or_default();
            // FHIR in XML: the namespace of the document's root element.
            if rest.starts_with(XML_NAMESPACE) {
                covered = self.read_xml(input, q, out).max(covered);
                continue;
            }
            if !rest.starts_with(RESOURCE_TYPE) {
                continue;
            }
            let person = strings_of(bytes, q + RESOURCE_TYPE.len())
                .first()
                .and_then(|&(s, e)| bytes.get(s..e))
                .is_some_and(|t| PEOPLE.contains(&t));
            let Some(open) = person.then(|| object_open(bytes, q)).flatten() else {
                continue;
            };
            let close = object_end(bytes, open, RESOURCE_REACH)
                .unwrap_or_else(|| bytes.len().min(open + RESOURCE_REACH));
            self.read_resource(input, open, close, out);
            covered = close;
        }
    }
}

/// What an element of a person's resource holds.
#[derive(Debug, Clone, Copy)]
enum Holds {
    Name,
    Address,
}

/// The elements of a person's resource read, in JSON (`"family": "Chalmers"`) and in
/// XML (`<family value="Chalmers"/>`) alike.
const ELEMENTS: &[(&[u8], Holds)] = &[
    (b"family", Holds::Name),
    (b"given", Holds::Name),
    (b"line", Holds::Address),
    (b"city", Holds::Address),
    (b"district", Holds::Address),
    (b"postalCode", Holds::Address),
];

/// Where the value of each of [`ELEMENTS`] in `resource` starts to be read (after the
/// element's name and `close`), and what it holds: the name as the format writes it,
/// `open` before and `close` after (`"` and `"` in JSON; `<` and ` value="` in XML).
fn elements<'r>(
    resource: &'r [u8],
    open: &'r [u8],
    close: &'r [u8],
) -> impl Iterator<Item = (usize, Holds)> + 'r {
    ELEMENTS.iter().flat_map(move |&(name, holds)| {
        memmem::find_iter(resource, name).filter_map(move |at| {
            let after = at + name.len();
            (resource.get(..at)?.ends_with(open) && resource.get(after..)?.starts_with(close))
                .then_some((after + close.len(), holds))
        })
    })
}

impl FhirDetector {
    /// The class of what an element holds.
    fn holding(&self, holds: Holds) -> &ClassInfo {
        match holds {
            Holds::Name => &self.name,
            Holds::Address => &self.address,
        }
    }

    /// The findings of the person's resource at `open..close`.
    fn read_resource<'s>(
        &'s self,
        input: &Input<'_>,
        open: usize,
        close: usize,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let bytes = input.bytes;
        let Some(resource) = bytes.get(open..close) else {
            return;
        };
        for (after, holds) in elements(resource, b"\"", b"\"") {
            for (start, end) in strings_of(bytes, open + after) {
                if end <= close
                    && bytes
                        .get(start..end)
                        .is_some_and(|v| v.iter().any(u8::is_ascii_alphanumeric))
                {
                    out.extend(input.finding(self.holding(holds), start, end, CONFIDENCE));
                }
            }
        }
        const IDENTIFIER: &[u8] = b"\"identifier\"";
        for at in memmem::find_iter(resource, IDENTIFIER) {
            let Some(value) = after_colon(bytes, open + at + IDENTIFIER.len()) else {
                continue;
            };
            match bytes.get(value) {
                // One identifier (`"identifier": {"system": …, "value": …}`).
                Some(b'{') => {
                    if let Some(end) = object_end(bytes, value, IDENTIFIER_REACH) {
                        self.read_identifier(input, value, end.min(close), out);
                    }
                }
                // A list of them: each object read up to its end; an element that does
                // not end within reach ends the list.
                Some(b'[') => {
                    let mut at = value + 1;
                    loop {
                        while bytes
                            .get(at)
                            .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                        {
                            at += 1;
                        }
                        if bytes.get(at) != Some(&b'{') || at >= close {
                            break;
                        }
                        let Some(end) = object_end(bytes, at, IDENTIFIER_REACH) else {
                            break;
                        };
                        self.read_identifier(input, at, end.min(close), out);
                        at = end + 1;
                    }
                }
                _ => {}
            }
        }
    }

    /// The value of the identifier object at `open..close`, by its system: a US SSN
    /// or NPI that passes its check, any other a record number.
    fn read_identifier<'s>(
        &'s self,
        input: &Input<'_>,
        open: usize,
        close: usize,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let bytes = input.bytes;
        let Some(object) = bytes.get(open..close) else {
            return;
        };
        let string_of = |key: &[u8]| {
            memmem::find(object, key)
                .and_then(|k| strings_of(bytes, open + k + key.len()).first().copied())
                .filter(|&(_, e)| e <= close)
        };
        let Some((start, end)) = string_of(b"\"value\"") else {
            return;
        };
        let system = string_of(b"\"system\"")
            .and_then(|(s, e)| bytes.get(s..e))
            .unwrap_or_default();
        let value = bytes.get(start..end).unwrap_or_default();
        if let Some(info) = self.identifier_class(system, value) {
            out.extend(input.finding(info, start, end, CONFIDENCE));
        }
    }

    /// The class of an identifier's value under `system`: a US SSN or NPI that passes
    /// its check, or a record number that looks like an identifier.
    fn identifier_class(&self, system: &[u8], value: &[u8]) -> Option<&ClassInfo> {
        if memmem::find(system, b"us-ssn").is_some() {
            super::hl7::ssn(value).then_some(&self.ssn)
        } else if memmem::find(system, b"us-npi").is_some() {
            npi_valid(value).then_some(&self.npi)
        } else {
            identifier(value).then_some(&self.record)
        }
    }

    /// Reads the FHIR XML document whose root element declares the namespace at
    /// `namespace` (`<Patient xmlns="http://hl7.org/fhir">`, `<Bundle xmlns=…>`): the
    /// root when it is a person's resource, else each person's resource inside it.
    /// Returns where the document ends (at most [`RESOURCE_REACH`] on).
    fn read_xml<'s>(
        &'s self,
        input: &Input<'_>,
        namespace: usize,
        out: &mut Vec<Candidate<'s>>,
    ) -> usize {
        let bytes = input.bytes;
        let from = namespace.saturating_sub(512);
        let Some(open) = bytes
            .get(from..namespace)
            .and_then(|head| memchr::memrchr(b'<', head))
            .map(|o| from + o)
        else {
            return namespace;
        };
        let root = bytes
            .get(open + 1..namespace)
            .unwrap_or_default()
            .split(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
            .next()
            .unwrap_or_default();
        let close = xml_end(bytes, open, root, bytes.len().min(open + RESOURCE_REACH));
        if PEOPLE.contains(&root) {
            self.read_xml_resource(input, open, close, out);
            return close;
        }
        let document = bytes.get(open..close).unwrap_or_default();
        for person in PEOPLE {
            let tag = [b"<", *person].concat();
            // Resources do not nest: one that does not close ends the search.
            let mut read_to = 0;
            for at in memmem::find_iter(document, &tag) {
                let start = open + at;
                if start >= read_to
                    && matches!(
                        document.get(at + tag.len()),
                        Some(b'>' | b' ' | b'\n' | b'\r' | b'\t')
                    )
                {
                    let end = xml_end(bytes, start, person, close);
                    self.read_xml_resource(input, start, end, out);
                    read_to = end;
                }
            }
        }
        close
    }

    /// The findings of a person's resource in XML at `open..close`: the `value`
    /// attributes of its name, address and identifier elements.
    fn read_xml_resource<'s>(
        &'s self,
        input: &Input<'_>,
        open: usize,
        close: usize,
        out: &mut Vec<Candidate<'s>>,
    ) {
        let bytes = input.bytes;
        let Some(resource) = bytes.get(open..close) else {
            return;
        };
        for (after, holds) in elements(resource, b"<", b" value=\"") {
            if let Some((start, end)) = attribute_value(bytes, open + after)
                && bytes
                    .get(start..end)
                    .is_some_and(|v| v.iter().any(u8::is_ascii_alphanumeric))
            {
                out.extend(input.finding(self.holding(holds), start, end, CONFIDENCE));
            }
        }
        for at in memmem::find_iter(resource, b"<identifier>") {
            let element = bytes
                .get(open + at..(open + at + IDENTIFIER_REACH).min(close))
                .unwrap_or_default();
            let element = memmem::find(element, b"</identifier>")
                .and_then(|e| element.get(..e))
                .unwrap_or(element);
            let value_of = |tag: &[u8]| {
                memmem::find(element, tag)
                    .and_then(|t| attribute_value(bytes, open + at + t + tag.len()))
            };
            let Some((start, end)) = value_of(b"<value value=\"") else {
                continue;
            };
            let system = value_of(b"<system value=\"")
                .and_then(|(s, e)| bytes.get(s..e))
                .unwrap_or_default();
            if let Some(info) =
                self.identifier_class(system, bytes.get(start..end).unwrap_or_default())
            {
                out.extend(input.finding(info, start, end, CONFIDENCE));
            }
        }
    }
}

/// The end of the XML element `name` opening at `open` (past its closing tag), or
/// `limit` when it does not close before.
fn xml_end(bytes: &[u8], open: usize, name: &[u8], limit: usize) -> usize {
    let closing = [b"</", name, b">"].concat();
    bytes
        .get(open..limit)
        .and_then(|element| memmem::find(element, &closing))
        .map_or(limit, |c| open + c + closing.len())
}

/// The attribute value starting at `start` (after its opening quote), up to the
/// closing quote within 256 bytes of one line.
fn attribute_value(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let rest = bytes.get(start..(start + 256).min(bytes.len()))?;
    let len = rest.iter().position(|&b| b == b'"' || b == b'\n')?;
    (rest.get(len) == Some(&b'"')).then_some((start, start + len))
}

/// The `{` opening the object whose key `"resourceType"` starts at `key`: the nearest
/// `{` before it with as many `}` as `{` between (other members may come first), read
/// back at most 512 bytes.
fn object_open(bytes: &[u8], key: usize) -> Option<usize> {
    let from = key.saturating_sub(512);
    let mut depth = 0usize;
    for at in (from..key).rev() {
        match bytes.get(at)? {
            b'{' if depth == 0 => return Some(at),
            b'{' => depth -= 1,
            b'}' => depth += 1,
            _ => {}
        }
    }
    None
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
                // `null` among the strings (`["Peter", null, "James"]`).
                if bytes.get(at..at + 4) == Some(b"null") {
                    at += 4;
                    continue;
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

/// The end of the object or array opening at `open` (its `}` or `]`), read at most
/// `reach` bytes, strings skipped.
fn object_end(bytes: &[u8], open: usize, reach: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = open;
    let limit = open.saturating_add(reach).min(bytes.len());
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
    fn only_resources_of_people_are_read_and_identifiers_by_their_system() {
        // A cloud inventory's `resourceType`, and FHIR resources of no person.
        let text = r#"[{"resourceType": "AWS::EC2::Instance", "identifier": [{"value": "i-0abc123"}], "family": "IPv4"},
            {"resourceType": "Organization", "address": [{"line": ["1 Main St"]}]}]"#;
        assert_eq!(found(text), vec![]);
        let text = r#"{"resourceType": "Patient", "identifier": {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "219456789"},
            "generalPractitioner": [{"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}}],
            "name": [{"given": ["Peter", null, "James"]}]} {"given": ["Out"]}"#;
        let want: Vec<(String, String)> = [
            ("US_SSN", "219456789"),
            ("US_NPI", "1234567893"),
            ("PERSON_NAME", "Peter"),
            ("PERSON_NAME", "James"),
        ]
        .iter()
        .map(|(e, v)| ((*e).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(found(text), want);
        // An identifier list that does not close reads no values after it.
        let text = format!(
            r#"{{"resourceType": "Patient", "identifier": [{{"value": "A1234", {} "telecom": [{{"value": "555-0143"}}]}}"#,
            " ".repeat(2000)
        );
        assert_eq!(found(&text), vec![]);
    }

    #[test]
    fn resources_in_xml_are_read_by_element() {
        let text = r#"<Bundle xmlns="http://hl7.org/fhir"><entry><resource>
<Patient>
  <identifier><system value="urn:oid:1.2.36.146.595.217.0.1"/><value value="12345"/></identifier>
  <name><family value="Chalmers"/><given value="Peter"/></name>
  <address><line value="534 Erewhon St"/><postalCode value="3999"/></address>
</Patient></resource></entry>
<entry><resource><Organization><name value="Acme"/><address><line value="1 Main St"/></address></Organization></resource></entry></Bundle>"#;
        let want: Vec<(String, String)> = [
            ("MEDICAL_RECORD_NUMBER", "12345"),
            ("PERSON_NAME", "Chalmers"),
            ("PERSON_NAME", "Peter"),
            ("STREET_ADDRESS", "534 Erewhon St"),
            ("STREET_ADDRESS", "3999"),
        ]
        .iter()
        .map(|(e, v)| ((*e).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(found(text), want);
        let text = r#"<Practitioner xmlns="http://hl7.org/fhir"><name><family value="Okafor"/></name></Practitioner> <family value="Out"/>"#;
        assert_eq!(
            found(text),
            vec![("PERSON_NAME".to_owned(), "Okafor".to_owned())]
        );
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
