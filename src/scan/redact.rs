//! redact: replaces findings with typed, numbered placeholders (or another
//! [`Strategy`] per class), and keeps the vault that the `restore` phase uses to put
//! the values back.
//!
//! Strategies ([`Redactor::redact_with`] takes a function from finding to strategy,
//! so config or policy decide per class; [`Redactor::redact`] is all placeholders):
//!
//! - [`Strategy::Placeholder`]: `[EMAIL_1]` (the default; restorable).
//! - [`Strategy::MaskLast`]: letters and digits become `*` except the last N, and
//!   never more than half of them (`**** **** **** 1111`); separators stay. Not restorable (the mask is ambiguous).
//! - [`Strategy::Hash`]: `[EMAIL#1f3a9c0d2b7e]`, the first 48 bits of
//!   HMAC-SHA-256(tenant key, entity ‖ value): stable across requests of one tenant
//!   (so a model or a log can correlate "the same customer"), unlinkable across
//!   tenants; restorable within the request.
//! - [`Strategy::Fake`]: a format-preserving stand-in derived from the same HMAC: a
//!   Luhn-valid test card (Visa test BIN `400000`) in the original's grouping, an IBAN
//!   of the same country with valid check digits, `user-1f3a9c@example.com`, and for
//!   other types every digit and letter replaced in place (case kept). Restorable.
//! - [`Strategy::Remove`]: the value disappears. Not restorable.
//!
//! One [`Redactor`] lives for one request. Placeholders are `[<ENTITY>_<n>]`, numbered
//! per entity type in order of first appearance, and the same value always gets the
//! same placeholder within the request (an address repeated in two messages is
//! `[EMAIL_1]` both times), so the model can still tell "the same person" from "another
//! person". The vault maps placeholders back to values; it is private, never
//! serialised, and its `Debug` output shows only counts, so a stray `{:?}` in a log
//! line cannot leak what was redacted.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Finding;
use super::normalize::{decimal_digit_value, is_ignorable};
use super::validators::{iban_mod97_valid, luhn_valid};

/// How one finding is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "strategy")]
pub enum Strategy {
    /// `[ENTITY_n]`, numbered per entity type, same value → same placeholder.
    Placeholder,
    /// Keep the last `keep` letters/digits, mask the others with `*`.
    MaskLast {
        /// How many trailing letters/digits stay in clear.
        keep: usize,
    },
    /// `[ENTITY#<12 hex>]`, keyed HMAC of the value: stable within a tenant.
    Hash,
    /// A format-preserving fake value (Luhn-valid test card, valid IBAN, ...).
    Fake,
    /// Nothing: the value is removed.
    Remove,
}

/// The longest placeholder `restore` looks for, brackets included.
pub const MAX_PLACEHOLDER_LEN: usize = 80;

/// Per-request redaction state: the same value gets the same placeholder everywhere in
/// one request (`[EMAIL_1]` twice for the same address).
#[derive(Default)]
pub struct Redactor {
    vault: Vault,
    replacements: usize,
    /// HMAC key for `Hash` and `Fake` (the tenant's key; empty: a per-redactor key).
    key: Vec<u8>,
    /// fake → original, for restore.
    fakes: HashMap<String, String>,
    /// The fakes as `restore` and `fake_hold_from` search for them, made on first use
    /// after the last fake was handed out (a request can have hundreds of thousands:
    /// neither may cost a pass per fake).
    fake_index: std::sync::OnceLock<FakeIndex>,
}

/// The fakes of a request, for finding them in text.
struct FakeIndex {
    /// Every fake, sorted.
    sorted: Vec<String>,
    /// The originals, in the order of `sorted`.
    originals: Vec<String>,
    /// One leftmost-longest search for all of them (`None` if it could not be built;
    /// then nothing is restored, which leaves fakes in place, never values).
    search: Option<aho_corasick::AhoCorasick>,
    /// The longest fake, in bytes.
    longest: usize,
}

impl FakeIndex {
    fn new(fakes: &HashMap<String, String>) -> Self {
        let mut pairs: Vec<(&String, &String)> = fakes.iter().collect();
        pairs.sort_unstable();
        let sorted: Vec<String> = pairs.iter().map(|(f, _)| (*f).clone()).collect();
        let originals = pairs.iter().map(|(_, v)| (*v).clone()).collect();
        let search = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&sorted)
            .ok();
        let longest = sorted.iter().map(String::len).max().unwrap_or(0);
        FakeIndex {
            sorted,
            originals,
            search,
            longest,
        }
    }

    /// Whether some fake starts with `piece` and is longer.
    fn extends(&self, piece: &[u8]) -> bool {
        // Fakes that start with `piece` follow one another from the first not below
        // it; `piece` itself, if a fake, comes first.
        let at = self.sorted.partition_point(|f| f.as_bytes() < piece);
        self.sorted
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take(2)
            .any(|f| f.len() > piece.len() && f.as_bytes().starts_with(piece))
    }
}

/// Placeholder ↔ value, and the next number per entity type.
#[derive(Default)]
struct Vault {
    /// (entity, value) → placeholder.
    by_value: HashMap<(Arc<str>, String), Arc<str>>,
    /// placeholder → value.
    by_placeholder: HashMap<Arc<str>, String>,
    /// entity → last number handed out.
    counters: HashMap<Arc<str>, usize>,
}

impl Vault {
    fn placeholder_for(&mut self, entity: &Arc<str>, value: &str) -> Arc<str> {
        let key = (Arc::clone(entity), value.to_owned());
        if let Some(p) = self.by_value.get(&key) {
            return Arc::clone(p);
        }
        let n = self.counters.entry(Arc::clone(entity)).or_insert(0);
        *n += 1;
        let placeholder: Arc<str> = Arc::from(format!("[{entity}_{n}]"));
        self.by_placeholder
            .insert(Arc::clone(&placeholder), value.to_owned());
        self.by_value.insert(key, Arc::clone(&placeholder));
        placeholder
    }
}

impl Redactor {
    /// A fresh per-request redactor. `Hash` and `Fake` use a random key, so they are
    /// stable only within this request; use [`Redactor::with_tenant_key`] for
    /// stability across requests of one tenant.
    pub fn new() -> Self {
        Redactor {
            key: uuid::Uuid::new_v4().as_bytes().to_vec(),
            ..Redactor::default()
        }
    }

    /// A per-request redactor whose `Hash` and `Fake` outputs are derived from
    /// `tenant_key` (at least 16 bytes recommended; e.g. HMAC(`CUSTOMS_HMAC_KEY`,
    /// tenant id)), so they are the same for the same value in every request of the
    /// tenant and differ between tenants.
    pub fn with_tenant_key(tenant_key: &[u8]) -> Self {
        Redactor {
            key: tenant_key.to_vec(),
            ..Redactor::default()
        }
    }

    /// Like [`Redactor::redact`], with the strategy of each finding chosen by
    /// `choose` (typically a lookup by `finding.class` in the configuration, with
    /// [`Strategy::Placeholder`] as the default).
    pub fn redact_with(
        &mut self,
        text: &str,
        findings: &[Finding],
        choose: impl Fn(&Finding) -> Strategy,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for f in findings {
            if f.start < cursor {
                continue;
            }
            let (Some(before), Some(value)) = (text.get(cursor..f.start), text.get(f.start..f.end))
            else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            out.push_str(before);
            match choose(f) {
                Strategy::Placeholder => {
                    out.push_str(&self.vault.placeholder_for(&f.entity, value))
                }
                Strategy::MaskLast { keep } => out.push_str(&mask_last(value, keep)),
                Strategy::Hash => {
                    let tag: Arc<str> = Arc::from(format!(
                        "[{}#{}]",
                        f.entity,
                        hex12(&self.mac(&f.entity, value))
                    ));
                    self.vault
                        .by_placeholder
                        .insert(Arc::clone(&tag), value.to_owned());
                    out.push_str(&tag);
                }
                Strategy::Fake => {
                    let fake = self.fake(&f.entity, value);
                    out.push_str(&fake);
                    if let std::collections::hash_map::Entry::Vacant(slot) = self.fakes.entry(fake)
                    {
                        slot.insert(value.to_owned());
                        self.fake_index = std::sync::OnceLock::new();
                    }
                }
                Strategy::Remove => {}
            }
            self.replacements += 1;
            cursor = f.end;
        }
        out.push_str(text.get(cursor..).unwrap_or_default());
        out
    }

    fn mac(&self, entity: &str, value: &str) -> [u8; 32] {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(m) => m,
            // HMAC accepts keys of any length; unreachable, but never panic.
            Err(_) => return [0; 32],
        };
        mac.update(entity.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A format-preserving fake for `value`, derived from the keyed MAC.
    fn fake(&self, entity: &str, value: &str) -> String {
        let digest = self.mac(entity, value);
        let mut stream = digest.iter().cycle().copied();
        let mut next = move || stream.next().unwrap_or(0);
        match entity {
            "EMAIL" => format!("user-{}@example.com", &hex12(&digest)[..6]),
            "CARD_NUMBER" => {
                let n = value.chars().filter(|&c| is_digit(c)).count().max(13);
                let mut digits: Vec<u8> = b"400000".to_vec();
                while digits.len() < n - 1 {
                    digits.push(b'0' + next() % 10);
                }
                digits.push(b'0');
                for d in b'0'..=b'9' {
                    if let Some(last) = digits.last_mut() {
                        *last = d;
                    }
                    if luhn_valid(&digits) {
                        break;
                    }
                }
                refill_digits(value, &digits)
            }
            "IBAN" => {
                let compact: Vec<u8> = value.bytes().filter(u8::is_ascii_alphanumeric).collect();
                let mut fake: Vec<u8> =
                    compact.iter().take(2).map(u8::to_ascii_uppercase).collect();
                fake.extend_from_slice(b"00");
                for &b in compact.iter().skip(4) {
                    fake.push(if b.is_ascii_digit() {
                        b'0' + next() % 10
                    } else {
                        b'A' + next() % 26
                    });
                }
                for check in 0..100u8 {
                    if let Some(c1) = fake.get_mut(2) {
                        *c1 = b'0' + check / 10;
                    }
                    if let Some(c2) = fake.get_mut(3) {
                        *c2 = b'0' + check % 10;
                    }
                    if iban_mod97_valid(&fake) {
                        break;
                    }
                }
                refill_alnum(value, &fake)
            }
            // Digits of any script become ASCII digits and other letters ASCII
            // letters, so nothing of the original (in any form) survives.
            _ => value
                .chars()
                .filter(|&c| !is_ignorable(c))
                .map(|c| match c {
                    _ if is_digit(c) => char::from(b'0' + next() % 10),
                    'a'..='z' => char::from(b'a' + next() % 26),
                    _ if c.is_alphanumeric() => char::from(b'A' + next() % 26),
                    _ => c,
                })
                .collect(),
        }
    }

    /// Returns `text` with every finding in `findings` replaced by its placeholder.
    /// `findings` must be sorted by start and non-overlapping (as `Scanner::scan` returns
    /// them); a finding that overlaps an earlier one or does not fit `text` is skipped
    /// rather than trusted.
    pub fn redact(&mut self, text: &str, findings: &[Finding]) -> String {
        let mut out = String::with_capacity(text.len());
        let mut cursor = 0;
        for f in findings {
            if f.start < cursor {
                continue;
            }
            let (Some(before), Some(value)) = (text.get(cursor..f.start), text.get(f.start..f.end))
            else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            out.push_str(before);
            out.push_str(&self.vault.placeholder_for(&f.entity, value));
            self.replacements += 1;
            cursor = f.end;
        }
        out.push_str(text.get(cursor..).unwrap_or_default());
        out
    }

    /// How many values were replaced so far.
    pub fn replacements(&self) -> usize {
        self.replacements
    }

    /// Whether any `Fake` stand-ins were handed out (they have no brackets to look for).
    pub fn has_fakes(&self) -> bool {
        !self.fakes.is_empty()
    }

    /// Where a trailing piece of `text` begins that is the start of one of this
    /// request's fakes but not the whole of it (`text.len()` when there is none): a
    /// stream holds that piece back until the next event, so that a fake cut between
    /// two events is still restored. The longest such piece wins.
    pub fn fake_hold_from(&self, text: &str) -> usize {
        if self.fakes.is_empty() {
            return text.len();
        }
        let index = self.fake_index.get_or_init(|| FakeIndex::new(&self.fakes));
        let longest = index.longest.saturating_sub(1).min(text.len());
        (1..=longest)
            .rev()
            .map(|len| text.len() - len)
            .find(|&start| {
                text.is_char_boundary(start)
                    && index.extends(text.as_bytes().get(start..).unwrap_or_default())
            })
            .unwrap_or(text.len())
    }

    /// How many distinct values the vault holds (one per placeholder).
    pub fn placeholders(&self) -> usize {
        self.vault.by_placeholder.len()
    }

    /// Returns `text` with every placeholder this redactor handed out replaced by its
    /// original value (for the `restore` phase, when a model echoes a placeholder).
    /// Bracketed text that is not one of this request's placeholders is left as is.
    pub fn restore(&self, text: &str) -> String {
        let restored = self.restore_placeholders(text);
        if self.fakes.is_empty() {
            return restored;
        }
        let index = self.fake_index.get_or_init(|| FakeIndex::new(&self.fakes));
        match &index.search {
            Some(search) => search.replace_all(&restored, &index.originals),
            None => restored,
        }
    }

    fn restore_placeholders(&self, text: &str) -> String {
        if self.vault.by_placeholder.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            let (before, from_open) = rest.split_at(open);
            out.push_str(before);
            let candidate = from_open
                .get(1..)
                .and_then(|s| s.find(']'))
                .and_then(|close| from_open.get(..close + 2))
                .filter(|c| c.len() <= MAX_PLACEHOLDER_LEN);
            match candidate.and_then(|c| self.vault.by_placeholder.get(c).map(|v| (c, v))) {
                Some((placeholder, value)) => {
                    out.push_str(value);
                    rest = from_open.get(placeholder.len()..).unwrap_or_default();
                }
                None => {
                    out.push('[');
                    rest = from_open.get(1..).unwrap_or_default();
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Letters and digits become `*` except the last `keep` of them (at most half).
fn mask_last(value: &str, keep: usize) -> String {
    let total = value.chars().filter(|c| c.is_alphanumeric()).count();
    // Never keep more than half: a short value must not stay in clear.
    let keep = keep.min(total / 2);
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen + keep > total { c } else { '*' }
        })
        .collect()
}

/// A decimal digit of any script.
fn is_digit(c: char) -> bool {
    decimal_digit_value(c).is_some()
}

/// The first 12 hex digits of a digest.
fn hex12(digest: &[u8]) -> String {
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// `template` with its ASCII digits replaced, in order, by `digits` (other
/// characters, such as group separators, kept). Digits in excess are dropped.
fn refill_digits(template: &str, digits: &[u8]) -> String {
    let mut it = digits.iter();
    template
        .chars()
        .filter(|&c| !is_ignorable(c))
        .map(|c| {
            if is_digit(c) {
                it.next().map_or(c, |&d| char::from(d))
            } else {
                c
            }
        })
        .collect()
}

/// `template` with its ASCII letters and digits replaced, in order, by `chars`.
fn refill_alnum(template: &str, chars: &[u8]) -> String {
    let mut it = chars.iter();
    template
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                it.next().map_or(c, |&d| char::from(d))
            } else {
                c
            }
        })
        .collect()
}

impl fmt::Debug for Redactor {
    /// Counts only: the vault's values are exactly what must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("placeholders", &self.vault.by_placeholder.len())
            .field("replacements", &self.replacements)
            .field("fakes", &self.fakes.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    fn finding(entity: &str, text: &str, value: &str, nth: usize) -> Finding {
        let start = text.match_indices(value).nth(nth).map_or(0, |(i, _)| i);
        Finding {
            entity: Arc::from(entity),
            class: Arc::from("TEST"),
            start,
            end: start + value.len(),
            confidence: 1.0,
            severity: Severity::Medium,
        }
    }

    #[test]
    fn same_value_same_placeholder_across_calls() {
        let mut r = Redactor::new();
        let a = "mail a@x.io or b@x.io";
        let out_a = r.redact(
            a,
            &[
                finding("EMAIL", a, "a@x.io", 0),
                finding("EMAIL", a, "b@x.io", 0),
            ],
        );
        assert_eq!(out_a, "mail [EMAIL_1] or [EMAIL_2]");
        let b = "again b@x.io, card 4111111111111111";
        let out_b = r.redact(
            b,
            &[
                finding("EMAIL", b, "b@x.io", 0),
                finding("CARD_NUMBER", b, "4111111111111111", 0),
            ],
        );
        assert_eq!(out_b, "again [EMAIL_2], card [CARD_NUMBER_1]");
        assert_eq!(r.replacements(), 4);
        assert_eq!(r.placeholders(), 3);
    }

    #[test]
    fn restore_puts_values_back() {
        let mut r = Redactor::new();
        let text = "to a@x.io [note] [EMAIL_9] [";
        let redacted = r.redact(text, &[finding("EMAIL", text, "a@x.io", 0)]);
        assert_eq!(redacted, "to [EMAIL_1] [note] [EMAIL_9] [");
        assert_eq!(r.restore(&redacted), text);
        assert_eq!(r.restore("echo [EMAIL_1][EMAIL_1]"), "echo a@x.ioa@x.io");
    }

    #[test]
    fn bad_findings_are_skipped_not_trusted() {
        let mut r = Redactor::new();
        let text = "héllo";
        let mut bad = finding("X", text, "h", 0);
        bad.end = 2; // inside 'é'
        let mut out_of_range = finding("X", text, "h", 0);
        out_of_range.end = 99;
        assert_eq!(r.redact(text, &[bad, out_of_range]), text);
        assert_eq!(r.replacements(), 0);
    }

    fn card_finding(text: &str, value: &str) -> Finding {
        finding("CARD_NUMBER", text, value, 0)
    }

    #[test]
    fn strategies_rewrite_as_documented() {
        let text = "card 4111 1111 1111 1111 mail a@x.io";
        let findings = [
            card_finding(text, "4111 1111 1111 1111"),
            finding("EMAIL", text, "a@x.io", 0),
        ];
        let mut r = Redactor::with_tenant_key(b"tenant-a-key-0123456789");
        let masked = r.redact_with(text, &findings, |_| Strategy::MaskLast { keep: 4 });
        assert_eq!(masked, "card **** **** **** 1111 mail *@*.io");
        let removed = r.redact_with(text, &findings, |_| Strategy::Remove);
        assert_eq!(removed, "card  mail ");

        let hashed = r.redact_with(text, &findings, |_| Strategy::Hash);
        let again = Redactor::with_tenant_key(b"tenant-a-key-0123456789").redact_with(
            text,
            &findings,
            |_| Strategy::Hash,
        );
        let other = Redactor::with_tenant_key(b"tenant-b-key-0123456789").redact_with(
            text,
            &findings,
            |_| Strategy::Hash,
        );
        assert_eq!(hashed, again, "stable within a tenant");
        assert_ne!(hashed, other, "different across tenants");
        assert!(hashed.starts_with("card [CARD_NUMBER#"), "{hashed}");
        assert_eq!(r.restore(&hashed), text);

        let mut r = Redactor::with_tenant_key(b"tenant-a-key-0123456789");
        let faked = r.redact_with(text, &findings, |_| Strategy::Fake);
        let card = faked.get(5..24).unwrap_or_default();
        assert!(card.starts_with("4000 00"), "{faked}");
        let digits: Vec<u8> = card.bytes().filter(u8::is_ascii_digit).collect();
        assert!(luhn_valid(&digits), "{faked}");
        assert!(faked.contains("@example.com"), "{faked}");
        assert_eq!(r.restore(&faked), text);
    }

    #[test]
    fn a_fake_cut_short_is_held_from_where_it_starts() {
        let text = "mail a@x.io";
        let mut r = Redactor::with_tenant_key(b"tenant-a-key-0123456789");
        assert_eq!(r.fake_hold_from("nothing to hold"), 15);
        let faked = r.redact_with(text, &[finding("EMAIL", text, "a@x.io", 0)], |_| {
            Strategy::Fake
        });
        let fake = faked.strip_prefix("mail ").unwrap_or_default().to_owned();
        assert!(
            fake.starts_with("user-") && fake.ends_with("@example.com"),
            "{fake}"
        );
        let cut_at = format!("to {}", &fake[..9]);
        assert_eq!(r.fake_hold_from(&cut_at), 3);
        // A whole fake is restored where it is, not held.
        let whole = format!("to {fake}");
        assert_eq!(r.fake_hold_from(&whole), whole.len());
        assert_eq!(r.restore(&whole), "to a@x.io");
        assert_eq!(r.fake_hold_from("menu"), 3);
        assert_eq!(r.fake_hold_from(""), 0);
    }

    /// The definition of `fake_hold_from`: over every fake, the earliest start of a
    /// trailing piece of `text` that begins it without being all of it.
    fn hold_from_by_definition(r: &Redactor, text: &str) -> usize {
        let mut cut = text.len();
        for fake in r.fakes.keys() {
            for len in 1..fake.len().min(text.len() + 1) {
                let start = text.len() - len;
                if fake
                    .get(..len)
                    .is_some_and(|head| text.get(start..) == Some(head))
                {
                    cut = cut.min(start);
                }
            }
        }
        cut
    }

    #[test]
    fn many_fakes_are_restored_and_held_as_defined() {
        let mut r = Redactor::with_tenant_key(b"tenant-a-key-0123456789");
        let mut text = String::new();
        let mut findings = Vec::new();
        for i in 0..300 {
            let value = format!("person{i}@corp.example");
            let start = text.len() + 5;
            text.push_str(&format!("mail {value}, "));
            findings.push(Finding {
                entity: Arc::from("EMAIL"),
                class: Arc::from("TEST"),
                start,
                end: start + value.len(),
                confidence: 1.0,
                severity: Severity::Medium,
            });
        }
        let faked = r.redact_with(&text, &findings, |_| Strategy::Fake);
        assert_eq!(r.fakes.len(), 300);
        assert!(!faked.contains("person"), "{faked}");
        assert_eq!(r.restore(&faked), text);
        // Every cut of the faked text holds back what the definition says.
        for cut in (0..faked.len()).step_by(7) {
            let piece = faked.get(..cut).unwrap_or_default();
            assert_eq!(
                r.fake_hold_from(piece),
                hold_from_by_definition(&r, piece),
                "{piece:?}"
            );
        }
        // A fake handed out after the fakes were searched for is searched for too.
        let later = "mail late@corp.example";
        let faked_later = r.redact_with(
            later,
            &[finding("EMAIL", later, "late@corp.example", 0)],
            |_| Strategy::Fake,
        );
        assert_eq!(r.restore(&faked_later), later);
        let cut = faked_later.get(..faked_later.len() - 3).unwrap_or_default();
        assert_eq!(r.fake_hold_from(cut), hold_from_by_definition(&r, cut));
        assert_eq!(r.fake_hold_from(cut), 5);
    }

    #[test]
    fn fake_iban_is_valid() {
        let text = "DE89 3704 0044 0532 0130 00";
        let mut r = Redactor::with_tenant_key(b"k");
        let fake = r.redact_with(text, &[finding("IBAN", text, text, 0)], |_| Strategy::Fake);
        let compact: Vec<u8> = fake.bytes().filter(u8::is_ascii_alphanumeric).collect();
        assert!(fake.starts_with("DE"), "{fake}");
        assert_ne!(fake, text);
        assert!(iban_mod97_valid(&compact), "{fake}");
    }

    #[test]
    fn debug_shows_counts_not_values() {
        let mut r = Redactor::new();
        let text = "secret s3cr3t@example.com";
        r.redact(text, &[finding("EMAIL", text, "s3cr3t@example.com", 0)]);
        let debug = format!("{r:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("placeholders: 1"), "{debug}");
    }
}
