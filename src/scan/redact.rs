//! redact: replaces findings with typed, numbered placeholders, and keeps the vault
//! that the `restore` phase uses to put the values back.
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

use super::Finding;

/// The longest placeholder `restore` looks for, brackets included.
const MAX_PLACEHOLDER_LEN: usize = 80;

/// Per-request redaction state: the same value gets the same placeholder everywhere in
/// one request (`[EMAIL_1]` twice for the same address).
#[derive(Default)]
pub struct Redactor {
    vault: Vault,
    replacements: usize,
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
    /// A fresh per-request redactor.
    pub fn new() -> Self {
        Redactor::default()
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

    /// How many distinct values the vault holds (one per placeholder).
    pub fn placeholders(&self) -> usize {
        self.vault.by_placeholder.len()
    }

    /// Returns `text` with every placeholder this redactor handed out replaced by its
    /// original value (for the `restore` phase, when a model echoes a placeholder).
    /// Bracketed text that is not one of this request's placeholders is left as is.
    pub fn restore(&self, text: &str) -> String {
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

impl fmt::Debug for Redactor {
    /// Counts only: the vault's values are exactly what must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("placeholders", &self.vault.by_placeholder.len())
            .field("replacements", &self.replacements)
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
