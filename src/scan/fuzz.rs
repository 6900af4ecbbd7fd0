//! fuzz: the library side of the cargo-fuzz target in `fuzz/` (a thin shim calls
//! [`scan_and_redact`]), so the checks run in unit tests too.
//!
//! The invariants: scanning never panics; findings are sorted, non-overlapping and on
//! char boundaries; redacting them never panics and leaves none of the found values
//! in place where they were.

use std::sync::LazyLock;

use super::redact::Redactor;
use super::{Classifier, Scanner};

static SCANNER: LazyLock<Option<Scanner>> = LazyLock::new(|| {
    let classifier = Classifier::from_toml(
        "project-codenames.toml",
        include_str!("../../policies/classifiers/project-codenames.toml"),
    )
    .ok()?;
    Scanner::new(vec![classifier]).ok()
});

/// Scans `data` (lossily decoded as UTF-8), checks the findings' invariants, redacts
/// them and returns the number of findings. Returns `Err` with a description when an
/// invariant does not hold (the fuzz target turns that into a crash).
pub fn scan_and_redact(data: &[u8]) -> Result<usize, String> {
    let text = String::from_utf8_lossy(data);
    let Some(scanner) = SCANNER.as_ref() else {
        return Err("scanner did not build".to_owned());
    };
    let findings = scanner.scan(&text).map_err(|e| e.to_string())?;
    let mut last_end = 0;
    for f in &findings {
        if f.start >= f.end || f.start < last_end || text.get(f.start..f.end).is_none() {
            return Err(format!(
                "bad span {}..{} (previous end {last_end})",
                f.start, f.end
            ));
        }
        last_end = f.end;
    }
    let mut redactor = Redactor::new();
    let redacted = redactor.redact(&text, &findings);
    if redactor.replacements() != findings.len() {
        return Err("not every finding was redacted".to_owned());
    }
    if findings.is_empty() && redacted != text {
        return Err("text changed without findings".to_owned());
    }
    Ok(findings.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        for input in [
            &b""[..],
            b"\xff\xfe",
            "４１１１ １１１１ １１１１ １１１１".as_bytes(),
            b"a@b.co",
        ] {
            assert!(scan_and_redact(input).is_ok());
        }
    }
}
