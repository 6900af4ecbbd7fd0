//! PERSON_NAME in the fields of records: API payloads, fixtures, logs and SQL name a
//! person's parts by key (`"firstName": "Peter"`, `last_name: Kowalczyk`,
//! `first_name=Grzegorz`, `surname = 'Okafor'`), and the value needs neither a known
//! given name before a capitalised surname nor a label written as words.
//!
//! A key is read before each `:` and `=` (lists shared with other rules): quoted or
//! not, in any identifier spelling (`first_name`, `firstName`, `FIRST-NAME`, `fname`,
//! the last part of a dotted path, the last parts of a longer key: `patient_first_name`,
//! `billingLastName`), or a part's key inside a name's object (`"name":
//! {"first": "Peter", "last": "Chalmers"}`). The value is a quoted string, or an unquoted word after `=`
//! or the rest of the line after `:`. It counts when it is written as a name (one to
//! four capitalised words, or in capitals; particles such as `van` and `de` inside)
//! and is no label of a form or translation file (`"lastName": "Nachname"`) and no
//! type (`firstName: String`, `"FirstName"`, `DataTypes.STRING`); then when the
//! gazetteer knows it, or when another part's field is near it in the same record (no
//! object closes and no blank line falls between: `{"firstName": "Wojciech",
//! "lastName": "Brzęk"}`). A
//! full name's key (`fullName`, `patient_name`, `legal_name`) needs a word the
//! gazetteer knows (`full_name: New Zealand` is a country's).

use std::collections::HashSet;
use std::sync::LazyLock;

use super::personal::{GIVEN_NAMES, NAME_LABELS, PARTICLES, SURNAMES};
use super::{Candidate, Detector, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// What part of a name a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Given,
    Family,
    Full,
}

/// Keys, folded (letters and digits, lowercase), and the part each holds.
const KEYS: &[(&str, Part)] = &[
    ("firstname", Part::Given),
    ("givenname", Part::Given),
    ("forename", Part::Given),
    ("middlename", Part::Given),
    ("lastname", Part::Family),
    ("familyname", Part::Family),
    ("surname", Part::Family),
    ("maidenname", Part::Family),
    ("fullname", Part::Full),
    ("patientname", Part::Full),
    ("legalname", Part::Full),
    ("employeename", Part::Full),
    ("vorname", Part::Given),
    ("nachname", Part::Family),
    ("prenom", Part::Given),
    ("apellido", Part::Family),
    ("cognome", Part::Family),
    ("fname", Part::Given),
    ("lname", Part::Family),
];

/// Keys that hold a name's part only inside a name's object (`"name": {"first":
/// "Peter", "last": "Chalmers"}`), folded.
const PARTS_OF_NAME: &[(&str, Part)] = &[
    ("first", Part::Given),
    ("given", Part::Given),
    ("middle", Part::Given),
    ("last", Part::Family),
    ("family", Part::Family),
];

/// How far back the opening of a name's object is looked for.
const OBJECT_REACH: usize = 160;

/// Words of labels of a name's parts, in small letters: a value holding one (or one of
/// [`NAME_LABELS`], the words of other languages) is a form's or a translation file's
/// text, not a person's name.
const LABELS: &[&str] = &[
    "name",
    "names",
    "first",
    "last",
    "given",
    "family",
    "middle",
    "maiden",
    "full",
    "surname",
    "surnames",
    "forename",
    "forenames",
];

/// Values that are types, states or placeholders of a field, not a name.
const NOT_NAMES: &[&str] = &[
    "string",
    "str",
    "text",
    "varchar",
    "char",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "required",
    "optional",
    "unknown",
    "pending",
    "redacted",
    "hidden",
    "anonymous",
    "test",
    "user",
    "example",
    "sample",
    "default",
    "value",
    "your",
    "enter",
    "todo",
    "tbd",
    "n/a",
    "ascending",
    "descending",
    "asc",
    "desc",
    "yes",
    "no",
    "mandatory",
    "visible",
    "shown",
    "show",
    "enabled",
    "disabled",
    "on",
    "off",
    "a-z",
    "z-a",
];

/// How near another name field must be for two to make a record.
const RECORD_REACH: usize = 256;

/// The most words of a label written as words (`Patient First Name:`).
const LABEL_WORDS: usize = 3;

/// The longest key read back from a separator.
const KEY_REACH: usize = 48;

/// The longest value read.
const VALUE_REACH: usize = 80;

static GAZETTEER: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| GIVEN_NAMES.iter().chain(SURNAMES).copied().collect());

/// Reads names from keyed fields.
#[derive(Debug)]
pub(crate) struct PersonFieldsDetector {
    name: ClassInfo,
}

impl PersonFieldsDetector {
    pub(crate) fn new() -> Self {
        PersonFieldsDetector {
            name: class_info("PII.PERSON_NAME", "PERSON_NAME", Severity::Medium),
        }
    }
}

/// A value under a name key: its span, the key's part, and whether the gazetteer
/// knows one of its words.
struct Field {
    start: usize,
    end: usize,
    part: Part,
    known: bool,
}

impl Detector for PersonFieldsDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.name.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        let bytes = input.bytes;
        let mut fields: Vec<Field> = Vec::new();
        let colons = input
            .colons_and_dashes()
            .iter()
            .copied()
            .filter(|&p| bytes.get(p) == Some(&b':'));
        for sep in colons.chain(input.equals().iter().copied()) {
            let Some(part) = key_before(bytes, sep) else {
                continue;
            };
            let Some((start, end)) = value_after(input.text, sep) else {
                continue;
            };
            let Some(value) = input.text.get(start..end) else {
                continue;
            };
            let Some(known) = name_value(value) else {
                continue;
            };
            fields.push(Field {
                start,
                end,
                part,
                known,
            });
        }
        // Colons first, then equals signs: in text order.
        fields.sort_unstable_by_key(|f| f.start);
        for (i, f) in fields.iter().enumerate() {
            // Near, and in one record: no object closes and no blank line falls between.
            let near = |g: &Field| {
                let (a, b) = if g.start < f.start {
                    (g.end, f.start)
                } else {
                    (f.end, g.start)
                };
                g.start.abs_diff(f.start) <= RECORD_REACH
                    && bytes.get(a..b).is_some_and(|gap| {
                        !gap.contains(&b'}') && memchr::memmem::find(gap, b"\n\n").is_none()
                    })
            };
            let record = fields
                .get(..i)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|g| near(g))
                .chain(
                    fields
                        .get(i + 1..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|g| near(g)),
                )
                // A full name's field joins a record only when it is a name itself.
                .any(|g| g.part != f.part && (g.part != Part::Full || g.known));
            let (confirmed, confidence) = match f.part {
                Part::Full => (f.known, 0.8),
                _ if f.known => (true, 0.8),
                _ => (record, 0.7),
            };
            if confirmed {
                out.extend(input.finding(&self.name, f.start, f.end, confidence));
            }
        }
    }
}

/// The part of a name the key ending just before the separator at `sep` holds, if it
/// is a name key: `"firstName":`, `last_name=`, `'surname' =>`…, `user.first_name:`.
fn key_before(bytes: &[u8], sep: usize) -> Option<Part> {
    // Every key ends in `e`, `m`, `o`, `t`, `n` or `y` (`first_name`, `prenom`,
    // `apellido`, `first`, `given`, `family`), before a closing quote or a space: most
    // separators are ruled out by their byte before.
    let last = bytes
        .get(..sep)?
        .iter()
        .rev()
        .take(3)
        .find(|b| !matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'`' | b'*'))?;
    if !matches!(
        last.to_ascii_lowercase(),
        b'e' | b'm' | b'o' | b't' | b'n' | b'y'
    ) {
        return None;
    }
    let head = bytes.get(sep.saturating_sub(KEY_REACH)..sep)?;
    let mut end = head.len();
    while end > 0 && matches!(head.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    if end > 0 && matches!(head.get(end - 1), Some(b'"' | b'\'' | b'`')) {
        end -= 1;
    }
    // Markdown's bold (`**First Name**:`).
    while bytes.get(sep) == Some(&b':') && end > 0 && head.get(end - 1) == Some(&b'*') {
        end -= 1;
    }
    let key_len = head
        .get(..end)?
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        .count();
    // A form's label written as words before a colon (`First Name:`, `Patient last
    // name:`): up to [`LABEL_WORDS`] words of letters, one space apart.
    let mut key_len = key_len;
    if bytes.get(sep) == Some(&b':') {
        for _ in 1..LABEL_WORDS {
            let before = head.get(..end - key_len).unwrap_or_default();
            let word = before
                .strip_suffix(b" ")
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            if word == 0 || before.len() < word + 1 {
                break;
            }
            key_len += word + 1;
        }
    }
    // A whole key: not cut by the reach, not the tail of a longer word.
    let start = end - key_len;
    if key_len == 0 || (start == 0 && sep >= KEY_REACH) {
        return None;
    }
    let key = head.get(start..end)?;
    let mut folded = [0u8; KEY_REACH];
    let mut n = 0;
    for &b in key.iter().filter(|b| b.is_ascii_alphanumeric()) {
        *folded.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    let folded = folded.get(..n)?;
    if let Some(&(_, part)) = KEYS.iter().find(|(k, _)| k.as_bytes() == folded) {
        return Some(part);
    }
    // A key's last parts (`patient_first_name`, `billingLastName`, `Contact-Surname`).
    let mut letters = 0;
    for pair in key.windows(2) {
        letters += usize::from(pair.first().is_some_and(u8::is_ascii_alphanumeric));
        let [a, b] = *pair else { continue };
        let boundary =
            matches!(a, b'_' | b'-' | b' ') || (a.is_ascii_lowercase() && b.is_ascii_uppercase());
        if boundary && b.is_ascii_alphabetic() {
            let tail = folded.get(letters..).unwrap_or_default();
            if let Some(&(_, part)) = KEYS.iter().find(|(k, _)| k.as_bytes() == tail) {
                return Some(part);
            }
        }
    }
    let &(_, part) = PARTS_OF_NAME.iter().find(|(k, _)| k.as_bytes() == folded)?;
    let key_start = sep - head.len() + start;
    in_name_object(bytes, key_start).then_some(part)
}

/// Whether the key starting at `key_start` (less its quote) is inside a JSON object
/// that is the value of a key ending in `name` (`"name": {`, `"patientName": {"first"`),
/// that object opened within [`OBJECT_REACH`] bytes before.
fn in_name_object(bytes: &[u8], key_start: usize) -> bool {
    let Some(window) = bytes.get(key_start.saturating_sub(OBJECT_REACH)..key_start) else {
        return false;
    };
    let Some(open) = window.iter().rposition(|&b| b == b'{') else {
        return false;
    };
    if window.get(open..).is_some_and(|w| w.contains(&b'}')) {
        return false;
    }
    let before = window.get(..open).unwrap_or_default();
    let mut end = before.len();
    while end > 0 && before.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
        end -= 1;
    }
    if end == 0 || before.get(end - 1) != Some(&b':') {
        return false;
    }
    end -= 1;
    while end > 0 && matches!(before.get(end - 1), Some(b' ' | b'\t' | b'"' | b'\'')) {
        end -= 1;
    }
    before.get(..end).is_some_and(|k| {
        k.len() >= 4
            && k.get(k.len() - 4..)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"name"))
    })
}

/// The value after the separator at `sep`: a quoted string, or one word after `=`, or
/// the rest of the line after `:` (YAML, a log's fields).
fn value_after(text: &str, sep: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut at = sep + 1;
    // `=>` of PHP and Ruby hashes, `==` of a comparison.
    if bytes.get(sep) == Some(&b'=') && bytes.get(at) == Some(&b'>') {
        at += 1;
    }
    if bytes.get(sep) == Some(&b'=') && bytes.get(at) == Some(&b'=') {
        return None;
    }
    // The close of a bold label (`**First Name:** Chidi`).
    if bytes.get(sep) == Some(&b':') {
        while bytes.get(at) == Some(&b'*') {
            at += 1;
        }
    }
    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    let rest = bytes.get(at..(at + VALUE_REACH).min(bytes.len()))?;
    match rest.first()? {
        &q @ (b'"' | b'\'') => {
            let len = rest.get(1..)?.iter().position(|&b| b == q)?;
            Some((at + 1, at + 1 + len))
        }
        _ if bytes.get(sep) == Some(&b'=') => {
            let len = rest
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',' | b';' | b'&'))
                .unwrap_or(rest.len());
            (len < rest.len() || at + len == bytes.len()).then_some((at, at + len))
        }
        _ => {
            // A quote ends it too: the end of the string that holds the record (`"note":
            // "First Name: Zoë\nLast Name: Okafor"`).
            let len = rest
                .iter()
                .position(|b| matches!(b, b'\n' | b'\r' | b',' | b';' | b'|' | b'\t' | b'"'))
                .unwrap_or(rest.len());
            // A YAML comment ends the value (`first_name: Grzegorz  # patient`), and so
            // do spaces before the next field of a form pasted on one line (`First Name:
            // John    Last Name: Smith`; not `De  La Cruz`).
            let len = memchr::memmem::find(rest.get(..len)?, b" #").unwrap_or(len);
            let len = match memchr::memmem::find(rest.get(..len)?, b"  ") {
                Some(gap) if rest.get(gap..len).is_some_and(|r| r.contains(&b':')) => gap,
                _ => len,
            };
            let value = rest.get(..len)?;
            let trimmed = value.len() - value.iter().rev().take_while(|&&b| b == b' ').count();
            (len < rest.len() || at + len == bytes.len()).then_some((at, at + trimmed))
        }
    }
}

/// Whether `value` is written as a person's name or a part of one, and if so whether
/// the gazetteer knows one of its words: one to four words, each capitalised or in
/// capitals (a particle in small letters inside), of letters and `'`, `’`, `-`, `.`;
/// no label, type or placeholder.
fn name_value(value: &str) -> Option<bool> {
    if !(2..=60).contains(&value.len()) {
        return None;
    }
    let words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    if words.len() > 4 {
        return None;
    }
    let mut known = false;
    let mut letters = 0;
    for (i, word) in words.iter().enumerate() {
        let lower = word.to_lowercase();
        let bare = lower.trim_end_matches('.');
        if LABELS.contains(&bare) || NAME_LABELS.contains(&bare) || NOT_NAMES.contains(&bare) {
            return None;
        }
        // A key's or a type's name as the value (`"FirstName"`, `"FIRSTNAME"`).
        let folded: String = bare.chars().filter(|c| c.is_alphanumeric()).collect();
        if KEYS.iter().any(|(k, _)| *k == folded) {
            return None;
        }
        if !word
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-' | '.'))
        {
            return None;
        }
        // A point ends an initial or an abbreviation (`J.`, `Jr.`), never splits a
        // word (`DataTypes.STRING`).
        if word.find('.').is_some_and(|p| p + 1 != word.len() || p > 3) {
            return None;
        }
        if compound(word) {
            return None;
        }
        let particle = i + 1 < words.len() && PARTICLES.contains(word);
        let capital = word.chars().next().is_some_and(char::is_uppercase);
        if !(capital || particle) {
            return None;
        }
        letters += word.chars().filter(|c| c.is_alphabetic()).count();
        known |= GAZETTEER.contains(bare);
    }
    (letters >= 2).then_some(known)
}

/// Whether `word` is two words run together in camel case (`GivenName`,
/// `GraphQLString`, `PersonName`): a capital after a small letter, except after a
/// surname's prefix (`McDonald`, `MacArthur`, `DeVito`, `LeBlanc`, `DiCaprio`,
/// `VanDyke`, `FitzGerald`) or a joining `'` or `-` (`O'Brien`, `Smith-Jones`).
fn compound(word: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "Mc", "Mac", "De", "Le", "La", "Di", "Du", "Da", "Van", "Von", "Fitz",
    ];
    let mut previous = ' ';
    for (i, c) in word.char_indices() {
        if c.is_uppercase()
            && previous.is_lowercase()
            && !PREFIXES.iter().any(|p| word.get(..i) == Some(p))
        {
            return true;
        }
        previous = c;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let detector = PersonFieldsDetector::new();
        let input = Input::new(text);
        let mut out = Vec::new();
        detector.detect(&input, &mut out);
        out.iter()
            .map(|c| text.get(c.start..c.end).unwrap_or_default())
            .collect()
    }

    #[test]
    fn names_are_read_from_keyed_fields() {
        assert_eq!(
            found(r#"{"firstName": "Peter", "lastName": "Chalmers", "age": 41}"#),
            ["Peter", "Chalmers"]
        );
        assert_eq!(
            found("first_name=Wojciech last_name=Brzęk status=active"),
            ["Wojciech", "Brzęk"]
        );
        assert_eq!(
            found("customer:\n  given_name: Grzegorz\n  family_name: Brzeczyszczykiewicz\n"),
            ["Grzegorz", "Brzeczyszczykiewicz"]
        );
        assert_eq!(
            found("UPDATE users SET surname = 'Smith' WHERE id = 7"),
            ["Smith"]
        );
        assert_eq!(
            found(r#"{"user.fullName": "Maria van der Berg"}"#),
            ["Maria van der Berg"]
        );
        assert_eq!(
            found(r#"{"id": 7, "name": {"first": "Wojciech", "last": "Brzek"}}"#),
            ["Wojciech", "Brzek"]
        );
        assert_eq!(found("fname=Grzegorz&lname=Okafor"), ["Grzegorz", "Okafor"]);
        assert_eq!(
            found(r#"{"patient_first_name": "Chidi", "PatientLastName": "Okafor"}"#),
            ["Chidi", "Okafor"]
        );
        assert_eq!(
            found("first_name: Grzegorz  # patient\nlast_name: Okafor\n"),
            ["Grzegorz", "Okafor"]
        );
        assert_eq!(
            found(r#"{"lastName": "de la Cruz", "firstName": "Ana"}"#),
            ["de la Cruz", "Ana"]
        );
        // A form's labels written as words, in bold, several fields on one line.
        assert_eq!(
            found("First Name: Wojciech\nPatient last name: Brzęk\n"),
            ["Wojciech", "Brzęk"]
        );
        assert_eq!(
            found("**First Name:** Zxqwv\n**Last Name**: O'Qwrty\n"),
            ["Zxqwv", "O'Qwrty"]
        );
        assert_eq!(
            found("First Name: Zxqwv    Last Name: Qwrty    Status: Active"),
            ["Zxqwv", "Qwrty"]
        );
        assert_eq!(
            found("First name: Ana\nPatient last name: De  La Cruz\n"),
            ["Ana", "De  La Cruz"]
        );
        // The end of the string that holds a record.
        assert_eq!(
            found(
                r#"{"note": "First Name: Zxqwv\nLast Name: Qwrty"}"#
                    .replace("\\n", "\n")
                    .as_str()
            ),
            ["Zxqwv", "Qwrty"]
        );
    }

    #[test]
    fn every_key_ends_as_the_quick_check_expects() {
        for (key, _) in KEYS.iter().chain(PARTS_OF_NAME) {
            assert!(key.ends_with(['e', 'm', 'o', 't', 'n', 'y']), "{key}");
        }
    }

    #[test]
    fn labels_types_and_lone_unknown_words_are_not_names() {
        // A translation file, a schema, a placeholder.
        assert!(found(r#"{"firstName": "Vorname", "lastName": "Nachname"}"#).is_empty());
        assert!(found(r#"{"first_name": "First name", "last_name": "Last Name"}"#).is_empty());
        assert!(found("firstName: String\nlastName: String\n").is_empty());
        assert!(found("first_name: ${FIRST_NAME}\nlast_name: {{ last }}\n").is_empty());
        // One field the gazetteer does not know, and a full name of no known word.
        assert!(found(r#"{"lastName": "Pending"}"#).is_empty());
        assert!(found(r#"{"surname": "Xylophone"}"#).is_empty());
        assert!(found(r#"{"full_name": "New Zealand", "capital": "Wellington"}"#).is_empty());
        // Keys and types as values, other languages' labels.
        assert!(found(r#"{ firstName: 'FirstName', lastName: 'LastName' }"#).is_empty());
        assert!(found(r#"{ firstName: "FIRSTNAME", lastName: "GivenName" }"#).is_empty());
        assert!(found("firstName: DataTypes.STRING, lastName: GraphQLString").is_empty());
        assert!(found(r#"{"firstName": "Ім'я", "lastName": "Прізвище"}"#).is_empty());
        assert!(found(r#"{"firstName": "Vardas", "lastName": "Pavardė"}"#).is_empty());
        // Two records, not one: a field of each.
        assert!(found("{\"firstName\": \"Zxqwv\"}\n{\"last_name\": \"Qwrty\"}").is_empty());
        assert!(found("first_name: Zxqwv\n\nlast_name: Qwrty\n").is_empty());
        // `first` and `last` outside a name's object: a page's, a list's.
        assert!(found(r#"{"page": {"first": "Alpha", "last": "Omega"}}"#).is_empty());
        assert!(found(r#"{"name": {"x": 1}, "first": "Alpha", "last": "Omega"}"#).is_empty());
        // A full name's field that is no name makes no record with another field.
        assert!(found("Full name: Not Provided\nNachname: Siehe Anlage\n").is_empty());
        // Sort orders, a form's settings.
        assert!(found("Sort by last name: Ascending, first name: Descending").is_empty());
        assert!(found("Order by First Name: A-Z, Last Name: Z-A").is_empty());
        assert!(found("Show First Name: Yes  Show Last Name: No  Show Email: Yes").is_empty());
        assert!(found("First Name: Mandatory\nLast Name: Mandatory\n").is_empty());
        // Spaces inside a name, a fixed-width layout's columns.
        assert!(found("first_name:     Alpha   30\nlast_name:      Alpha   30").is_empty());
        // Lowercase values are code (`this.firstName = firstName`).
        assert!(found("this.firstName = firstName; lastName == other").is_empty());
    }
}
