//! EMAIL (`PII.EMAIL`): addresses found by expanding outwards from each `@`.
//!
//! Instead of running an email regex over the whole text, the detector jumps from one
//! `@` to the next (a memchr search) and grows the local part to the left and the
//! domain to the right over their character sets, then checks the RFC 5321 limits
//! that matter in practice: local part 1–64 characters without leading, trailing or
//! doubled dots; a domain of at least two labels of 1–63 characters that do not start
//! or end with `-`; an alphabetic top-level label of at least two letters.
//! Letters and digits of any script are accepted in both parts, so that an
//! internationalised address is redacted whole rather than cut at its first non-ASCII
//! letter.

use super::{Candidate, Detector, Input, class_info};
use crate::scan::{ClassInfo, Severity};

/// Detects email addresses.
#[derive(Debug)]
pub(crate) struct EmailDetector {
    info: ClassInfo,
}

impl EmailDetector {
    pub(crate) fn new() -> Self {
        EmailDetector {
            info: class_info("PII.EMAIL", "EMAIL", Severity::Medium),
        }
    }
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

impl Detector for EmailDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.info.clone()]
    }

    fn detect<'s>(&'s self, input: &Input<'_>, out: &mut Vec<Candidate<'s>>) {
        for at in memchr::memchr_iter(b'@', input.bytes) {
            if let Some((start, end)) = address_around(input.text, at)
                && input.word_boundary_before(start)
                && input.word_boundary_after(end)
                && let Some(f) = input.finding(&self.info, start, end, 0.95)
            {
                out.push(f);
            }
        }
    }
}

/// The span of the address whose `@` is at byte `at` of `text`, if it is one.
fn address_around(text: &str, at: usize) -> Option<(usize, usize)> {
    let before = text.get(..at)?;
    let after = text.get(at + 1..)?;

    // Local part: grow left, then drop leading dots and quotes.
    let mut start = at;
    for (i, c) in before.char_indices().rev() {
        if !is_local_char(c) {
            break;
        }
        start = i;
    }
    let local = before.get(start..)?.trim_start_matches(['.', '\'']);
    let start = at - local.len();
    if local.is_empty() || local.len() > 64 || local.ends_with('.') || local.contains("..") {
        return None;
    }

    // Domain: grow right, then drop trailing dots and hyphens (sentence punctuation).
    let domain_len = after
        .char_indices()
        .find(|&(_, c)| !is_domain_char(c))
        .map_or(after.len(), |(i, _)| i);
    let domain = after.get(..domain_len)?.trim_end_matches(['.', '-']);
    if domain.len() > 253 {
        return None;
    }
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        if label.is_empty()
            || label.chars().count() > 63
            || label.starts_with('-')
            || label.ends_with('-')
        {
            return None;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 || last.chars().count() < 2 || !last.chars().all(char::is_alphabetic) {
        return None;
    }
    Some((start, at + 1 + domain.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let detector = EmailDetector::new();
        detector.detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn finds_addresses_and_trims_punctuation() {
        assert_eq!(
            spans("mail jane.doe+x@example.co.uk."),
            ["jane.doe+x@example.co.uk"]
        );
        assert_eq!(spans("<a@b.io>, c_d@e-f.com"), ["a@b.io", "c_d@e-f.com"]);
        assert_eq!(spans("mailto:ops@corp.example"), ["ops@corp.example"]);
    }

    #[test]
    fn rejects_non_addresses() {
        assert!(spans("@handle and a@b and x@localhost and @").is_empty());
        assert!(spans("a..b@example.com").is_empty());
        assert!(spans("user@-bad.com user@bad-.com user@exa..mple.com").is_empty());
        assert!(spans("user@example.c0m").is_empty());
        assert_eq!(spans("josé@example.com"), ["josé@example.com"]);
    }
}
