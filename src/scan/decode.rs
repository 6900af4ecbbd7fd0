//! decode: finds regulated data hidden inside encoded tokens (base64, percent-encoding,
//! hex, `\uXXXX` escapes), so that encoding a value is not a way around the scanner.
//!
//! [`encoded_tokens`] lists the candidate tokens of a text with their decoded content;
//! the scanner scans each decoded content again (with one less level of depth, so a
//! base64 of a percent-encoded value is still seen at depth 2), and a finding inside
//! decoded content becomes a finding over the *whole encoded token* in the original
//! text: there is no meaningful sub-span of a base64 string to redact.
//!
//! What counts as a candidate, and why it stays cheap:
//!
//! - base64 (standard or URL-safe, padded or not): a run of at least 16 characters of
//!   the base64 alphabet (found by testing only 8-byte aligned blocks, see
//!   [`encoded_tokens`]);
//! - hex: a run of at least 16 hex digits of even length;
//! - percent-encoding: a run of non-space characters holding a `%XX`;
//! - `\uXXXX`: a run of non-space characters holding at least two `\u` escapes.
//!
//! Decoded content is kept only when it is valid UTF-8 and mostly printable, which
//! rejects hashes, UUIDs and random ids (they decode to binary).

use base64::Engine;

use super::detectors::Input;

/// The most decoded bytes looked at per token.
const MAX_DECODED: usize = 64 * 1024;

/// One encoded token: `start..end` of the text, and what it decodes to.
#[derive(Debug)]
pub(crate) struct EncodedToken {
    /// First byte of the token.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// The decoded text.
    pub decoded: String,
}

/// Every encoded token of `input` whose content decodes to printable text.
pub(crate) fn encoded_tokens(input: &Input<'_>) -> Vec<EncodedToken> {
    let mut out = Vec::new();
    let bytes = input.bytes;
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    // Any run of 16 or more base64 characters contains a whole 8-byte block at an
    // offset that is a multiple of 8; prose breaks nearly every block with a space (or
    // other byte below `+`), so only the blocks the shared pass over the text found
    // unbroken are tested byte by byte (see `Input::unbroken_blocks`). No seed (digit,
    // padding) is needed.
    //
    // Blocks before `next` lie inside a token already looked at.
    let mut next = 0;
    for &i in input.unbroken_blocks() {
        let Some(block) = bytes.get(i..i + 8) else {
            continue;
        };
        if i < next || !block.iter().all(|&b| is_b64(b)) {
            continue;
        }
        let mut start = i;
        while start > 0 && bytes.get(start - 1).copied().is_some_and(is_b64) {
            start -= 1;
        }
        let mut end = i + 8;
        while bytes.get(end).copied().is_some_and(is_b64) {
            end += 1;
        }
        let body_end = end;
        while bytes.get(end) == Some(&b'=') && end - body_end < 2 {
            end += 1;
        }
        next = end.div_ceil(8) * 8;
        if end - start < 16 {
            continue;
        }
        let Some(token) = bytes.get(start..body_end) else {
            continue;
        };
        let decoded = if token.len() % 2 == 0 && token.iter().all(u8::is_ascii_hexdigit) {
            decode_hex(token)
        } else {
            decode_base64(token)
        };
        if let Some(decoded) = decoded.and_then(printable) {
            out.push(EncodedToken {
                start,
                end,
                decoded,
            });
        }
    }
    escaped_runs(input, b'%', &mut out);
    escaped_runs(input, b'\\', &mut out);
    out
}

/// Percent-encoded (`%`) or `\u`-escaped (`\\`) runs of non-space characters.
fn escaped_runs(input: &Input<'_>, marker: u8, out: &mut Vec<EncodedToken>) {
    let bytes = input.bytes;
    let mut from = 0;
    while let Some(pos) = memchr::memchr(marker, bytes.get(from..).unwrap_or_default()) {
        let at = from + pos;
        let is_run = |b: &u8| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'<' | b'>');
        let mut start = at;
        while start > 0 && bytes.get(start - 1).is_some_and(is_run) {
            start -= 1;
        }
        let mut end = at;
        while bytes.get(end).is_some_and(is_run) {
            end += 1;
        }
        from = end.max(at + 1);
        let (Some(run), Some(text)) = (bytes.get(start..end), input.text.get(start..end)) else {
            continue;
        };
        let decoded = if marker == b'%' {
            (count_escapes(run, b"%") >= 1)
                .then(|| percent_decode(run))
                .flatten()
        } else {
            (count_escapes(run, b"\\u") >= 2)
                .then(|| unicode_unescape(text))
                .flatten()
        };
        if let Some(decoded) = decoded.and_then(printable)
            && decoded != text
        {
            out.push(EncodedToken {
                start,
                end,
                decoded,
            });
        }
    }
}

fn count_escapes(run: &[u8], marker: &[u8]) -> usize {
    run.windows(marker.len()).filter(|w| *w == marker).count()
}

/// Base64 in any of its four common alphabets/paddings.
fn decode_base64(token: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let url_safe = token.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url_safe {
        URL_SAFE_NO_PAD
    } else {
        STANDARD_NO_PAD
    };
    let take = token.len().min(MAX_DECODED / 3 * 4);
    let token = token.get(..take)?;
    engine.decode(token).ok()
}

fn decode_hex(token: &[u8]) -> Option<Vec<u8>> {
    let take = token.len().min(MAX_DECODED * 2);
    token
        .get(..take)?
        .chunks_exact(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn percent_decode(run: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while let Some(&b) = run.get(i) {
        if b == b'%'
            && let Some(hex) = run.get(i + 1..i + 3)
            && let Some(v) = std::str::from_utf8(hex)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(if b == b'+' { b' ' } else { b });
            i += 1;
        }
        if out.len() > MAX_DECODED {
            break;
        }
    }
    Some(out)
}

/// JSON-style `\uXXXX` escapes (with surrogate pairs); other text is kept.
fn unicode_unescape(text: &str) -> Option<Vec<u8>> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut pending_high: Option<u32> = None;
    while let Some(pos) = rest.find("\\u") {
        out.push_str(rest.get(..pos)?);
        let hex = rest.get(pos + 2..pos + 6);
        match hex.and_then(|h| u32::from_str_radix(h, 16).ok()) {
            Some(v) => {
                if (0xD800..0xDC00).contains(&v) {
                    pending_high = Some(v);
                } else if let (Some(high), true) =
                    (pending_high.take(), (0xDC00..0xE000).contains(&v))
                {
                    let c = 0x10000 + ((high - 0xD800) << 10) + (v - 0xDC00);
                    out.extend(char::from_u32(c));
                } else {
                    out.extend(char::from_u32(v));
                }
                rest = rest.get(pos + 6..)?;
            }
            None => {
                out.push_str("\\u");
                rest = rest.get(pos + 2..)?;
            }
        }
        if out.len() > MAX_DECODED {
            break;
        }
    }
    out.push_str(rest);
    Some(out.into_bytes())
}

/// Valid UTF-8 where at least 90 % of the characters are printable or whitespace.
fn printable(bytes: Vec<u8>) -> Option<String> {
    let text = String::from_utf8(bytes).ok()?;
    let total = text.chars().count();
    if total < 4 {
        return None;
    }
    let good = text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (good * 10 >= total * 9).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Vec<(&str, String)> {
        let input = Input::new(text);
        encoded_tokens(&input)
            .into_iter()
            .filter_map(|t| Some((text.get(t.start..t.end)?, t.decoded)))
            .collect()
    }

    #[test]
    fn decodes_each_encoding() {
        // "jane@example.com"
        assert_eq!(
            decoded("x amFuZUBleGFtcGxlLmNvbQ== y"),
            [("amFuZUBleGFtcGxlLmNvbQ==", "jane@example.com".to_owned())]
        );
        assert_eq!(
            decoded("6a616e65406578616d706c652e636f6d"),
            [(
                "6a616e65406578616d706c652e636f6d",
                "jane@example.com".to_owned()
            )]
        );
        assert_eq!(
            decoded("q=jane%40example%2Ecom&x"),
            [(
                "q=jane%40example%2Ecom&x",
                "q=jane@example.com&x".to_owned()
            )]
        );
        assert_eq!(
            decoded(r"\u006a\u0061ne@example.com"),
            [(r"\u006a\u0061ne@example.com", "jane@example.com".to_owned())]
        );
    }

    #[test]
    fn binary_content_is_not_text() {
        // A SHA-256 hex digest and a UUID decode to binary.
        assert!(
            decoded("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").is_empty()
        );
        assert!(decoded("123e4567-e89b-12d3-a456-426614174000").is_empty());
    }
}
