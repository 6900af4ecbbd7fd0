//! SECRET.* : credentials with a literal opening, found with one Aho-Corasick pass.
//!
//! - AWS_ACCESS_KEY_ID (`SECRET.AWS_ACCESS_KEY_ID`): `AKIA`, `ASIA`, `ABIA` or `ACCA`
//!   followed by 16 characters of `[A-Z2-7]`, as a whole word.
//! - PRIVATE_KEY (`SECRET.PRIVATE_KEY`): a PEM block from `-----BEGIN <label>PRIVATE
//!   KEY-----` (also `PGP PRIVATE KEY BLOCK`) to its matching `-----END ...-----` line; the whole block is the finding.
//!   A block whose END line is missing (a truncated paste still leaks the key) extends
//!   over the key body: the following lines of base64, PEM headers and blank lines.
//!
//! Every family here starts with a fixed literal, so one automaton over all the
//! literals finds every candidate in a single pass; the shape checks run only there.
//! More literal-prefixed secrets (provider API keys, tokens) belong in this file.

use aho_corasick::{AhoCorasick, MatchKind};

use super::{Detector, Input, class_info};
use crate::scan::{ClassInfo, Finding, Severity};

/// The literals, in the order of [`Literal`].
const LITERALS: &[&str] = &["AKIA", "ASIA", "ABIA", "ACCA", "-----BEGIN "];
const AWS_KEY_LEN: usize = 20;
const PEM_LABEL_MAX: usize = 64;

/// Detects secrets with a literal opening.
#[derive(Debug)]
pub(crate) struct SecretsDetector {
    literals: Option<AhoCorasick>,
    aws: ClassInfo,
    private_key: ClassInfo,
}

impl SecretsDetector {
    pub(crate) fn new() -> Self {
        // Building from a handful of short literals cannot fail; if it ever did, the
        // detector would find nothing and the unit tests would say so.
        let literals = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(LITERALS)
            .ok();
        SecretsDetector {
            literals,
            aws: class_info(
                "SECRET.AWS_ACCESS_KEY_ID",
                "AWS_ACCESS_KEY_ID",
                Severity::Critical,
            ),
            private_key: class_info("SECRET.PRIVATE_KEY", "PRIVATE_KEY", Severity::Critical),
        }
    }
}

impl Detector for SecretsDetector {
    fn classes(&self) -> Vec<ClassInfo> {
        vec![self.aws.clone(), self.private_key.clone()]
    }

    fn detect(&self, input: &Input<'_>, out: &mut Vec<Finding>) {
        let Some(literals) = &self.literals else {
            return;
        };
        for m in literals.find_iter(input.bytes) {
            let found = if m.pattern().as_usize() == LITERALS.len() - 1 {
                pem_block(input, m.start())
                    .and_then(|(end, conf)| input.finding(&self.private_key, m.start(), end, conf))
            } else {
                aws_key(input, m.start())
                    .and_then(|end| input.finding(&self.aws, m.start(), end, 0.95))
            };
            out.extend(found);
        }
    }
}

/// An AWS access key id starting at `start`: its end.
fn aws_key(input: &Input<'_>, start: usize) -> Option<usize> {
    let end = start + AWS_KEY_LEN;
    let body = input.bytes.get(start + 4..end)?;
    let ok = body
        .iter()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b));
    (ok && input.word_boundary_before(start) && input.word_boundary_after(end)).then_some(end)
}

/// A PEM private-key block starting at `start` (at `-----BEGIN `): its end and confidence.
fn pem_block(input: &Input<'_>, start: usize) -> Option<(usize, f32)> {
    let rest = input.text.get(start..)?;
    let after_begin = rest.get("-----BEGIN ".len()..)?;
    let label_end = after_begin.find("-----")?;
    let label = after_begin.get(..label_end)?;
    if label_end > PEM_LABEL_MAX
        || !(label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK"))
        || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ')
    {
        return None;
    }
    let header_len = "-----BEGIN ".len() + label_end + "-----".len();
    let body = rest.get(header_len..)?;
    let end_line = format!("-----END {label}-----");
    if let Some(pos) = body.find(&end_line) {
        return Some((start + header_len + pos + end_line.len(), 0.99));
    }
    // Truncated block: extend over the lines that look like key material.
    let mut end = start + header_len;
    let mut offset = start + header_len;
    for line in body.split_inclusive('\n') {
        let content = line.trim();
        let keyish = content
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            || content.starts_with("Proc-Type:")
            || content.starts_with("DEK-Info:");
        if !keyish {
            break;
        }
        offset += line.len();
        if !content.is_empty() {
            end = offset - (line.len() - line.trim_end().len());
        }
    }
    Some((end, 0.8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        SecretsDetector::new().detect(&Input::new(text), &mut out);
        out.iter()
            .filter_map(|f| text.get(f.start..f.end))
            .collect()
    }

    #[test]
    fn aws_access_key_ids() {
        assert_eq!(spans("key=AKIAIOSFODNN7EXAMPLE;"), ["AKIAIOSFODNN7EXAMPLE"]);
        assert_eq!(spans("ASIAY34FZKBOKMUTVV7A"), ["ASIAY34FZKBOKMUTVV7A"]);
        assert!(spans("AKIAIOSFODNN7EXAMPL").is_empty());
        assert!(spans("AKIAIOSFODNN7EXAMPLEX").is_empty());
        assert!(spans("AKIAIOSFODNN1EXAMPLE").is_empty(), "1 is not base32");
        assert!(spans("XAKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(spans("ASIAN food").is_empty());
    }

    #[test]
    fn pem_blocks() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAbC+/=\n-----END RSA PRIVATE KEY-----";
        let text = format!("here:\n{pem}\nthanks");
        assert_eq!(spans(&text), [pem]);
        let truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\nAbCd==\n";
        assert_eq!(
            spans(&format!("{truncated}\nCan you fix it?")),
            ["-----BEGIN PRIVATE KEY-----\nMIIEvQ\nAbCd=="]
        );
        assert!(spans("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").is_empty());
        assert!(spans("-----BEGIN PRIVATE KEY").is_empty());
    }
}
