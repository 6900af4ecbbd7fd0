//! The record format of the durable log: one line per record, each chained to the one
//! before it by SHA-256.
//!
//! ```text
//! {"seq":7,"kind":"event","prev":"<64 hex>","hash":"<64 hex>","body":{...}}\n
//! hash = SHA-256("customs-audit-v1\n" seq "\n" kind "\n" prev "\n" body)
//! ```
//!
//! `kind` is `event` (the body is a decision event), `policy_change` (a policy set
//! applied or rejected: [`crate::audit::PolicyChangeEvent`]), `stream_end` (how a
//! streamed answer ended: [`crate::audit::StreamEndEvent`]) or `checkpoint`. Every kind
//! is chained, hashed and covered by checkpoints alike; the kind is hashed too, so a
//! record cannot be passed off as another kind.
//!
//! `body` is the event JSON exactly as written (serde_json never writes a raw
//! newline), and it is the last field, so a reader takes its bytes as they are instead of
//! re-serialising them: the hash covers the bytes on disk. The first record of a log has
//! `prev` = 64 zeros. Lines keep the log readable with `jq` and `grep`.

use sha2::{Digest as _, Sha256};

/// `prev` of the first record.
pub const GENESIS: [u8; 32] = [0; 32];

const BODY_MARKER: &[u8] = b",\"body\":";

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A decision event.
    Event,
    /// A policy set change (applied or rejected).
    PolicyChange,
    /// How a streamed answer ended (usage, completion), after its decision event.
    StreamEnd,
    /// A signed checkpoint over the chain up to the record before it.
    Checkpoint,
}

impl Kind {
    /// The name on disk.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::PolicyChange => "policy_change",
            Kind::StreamEnd => "stream_end",
            Kind::Checkpoint => "checkpoint",
        }
    }

    /// Whether this kind carries an audit event (as opposed to a checkpoint): counted
    /// towards the next checkpoint, forwarded as a log record, printed by `tail`.
    pub fn is_event(self) -> bool {
        matches!(self, Kind::Event | Kind::PolicyChange | Kind::StreamEnd)
    }

    fn parse(name: &str) -> Option<Kind> {
        match name {
            "event" => Some(Kind::Event),
            "policy_change" => Some(Kind::PolicyChange),
            "stream_end" => Some(Kind::StreamEnd),
            "checkpoint" => Some(Kind::Checkpoint),
            _ => None,
        }
    }
}

/// One parsed record, borrowing its body from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Sequence number, from 1, without gaps across segments.
    pub seq: u64,
    /// Event, policy change or checkpoint.
    pub kind: Kind,
    /// Hash of the record before (or [`GENESIS`]).
    pub prev: [u8; 32],
    /// Hash as written.
    pub hash: [u8; 32],
    /// The body bytes as written.
    pub body: &'a [u8],
}

impl Record<'_> {
    /// Whether the written hash is the hash of the content.
    pub fn hash_matches(&self) -> bool {
        chain_hash(self.seq, self.kind, &self.prev, self.body) == self.hash
    }
}

/// The chain hash of one record.
pub fn chain_hash(seq: u64, kind: Kind, prev: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"customs-audit-v1\n");
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(kind.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(to_hex(prev).as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().into()
}

/// Appends one record line (with its newline) to `out` and returns its hash.
pub fn encode(seq: u64, kind: Kind, prev: &[u8; 32], body: &[u8], out: &mut Vec<u8>) -> [u8; 32] {
    let hash = chain_hash(seq, kind, prev, body);
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"prev\":\"");
    out.extend_from_slice(to_hex(prev).as_bytes());
    out.extend_from_slice(b"\",\"hash\":\"");
    out.extend_from_slice(to_hex(&hash).as_bytes());
    out.extend_from_slice(b"\"");
    out.extend_from_slice(BODY_MARKER);
    out.extend_from_slice(body);
    out.extend_from_slice(b"}\n");
    hash
}

/// Why a line is not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable record: {0}")]
pub struct ParseError(&'static str);

#[derive(serde::Deserialize)]
struct Header<'a> {
    seq: u64,
    kind: &'a str,
    prev: &'a str,
    hash: &'a str,
}

/// Parses one line (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Record<'_>, ParseError> {
    let at = find(line, BODY_MARKER).ok_or(ParseError("no body"))?;
    let body = line
        .get(at + BODY_MARKER.len()..line.len().saturating_sub(1))
        .ok_or(ParseError("too short"))?;
    if line.last() != Some(&b'}') || body.is_empty() {
        return Err(ParseError("not closed"));
    }
    let mut head = line[..at].to_vec();
    head.push(b'}');
    let header: Header<'_> = serde_json::from_slice(&head).map_err(|_| ParseError("bad header"))?;
    Ok(Record {
        seq: header.seq,
        kind: Kind::parse(header.kind).ok_or(ParseError("unknown kind"))?,
        prev: from_hex(header.prev).ok_or(ParseError("bad prev"))?,
        hash: from_hex(header.hash).ok_or(ParseError("bad hash"))?,
        body,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Parses hex of exactly `N` bytes.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        let value = digit(pair[0])? * 16 + digit(pair[1])?;
        out[i] = u8::try_from(value).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_its_hash_covers_every_part() {
        let mut line = Vec::new();
        let hash = encode(
            7,
            Kind::Event,
            &GENESIS,
            br#"{"a":"b,\"body\":x"}"#,
            &mut line,
        );
        assert_eq!(line.last(), Some(&b'\n'));
        let record = parse_line(&line[..line.len() - 1]).unwrap();
        assert_eq!(record.seq, 7);
        assert_eq!(record.kind, Kind::Event);
        assert_eq!(record.hash, hash);
        assert_eq!(record.body, br#"{"a":"b,\"body\":x"}"#);
        assert!(record.hash_matches());
        assert_ne!(chain_hash(8, Kind::Event, &GENESIS, record.body), hash);
        assert_ne!(chain_hash(7, Kind::Checkpoint, &GENESIS, record.body), hash);
        assert_ne!(
            chain_hash(7, Kind::PolicyChange, &GENESIS, record.body),
            hash
        );
        assert_ne!(chain_hash(7, Kind::Event, &[1; 32], record.body), hash);
        assert_ne!(chain_hash(7, Kind::Event, &GENESIS, b"{}"), hash);
    }

    #[test]
    fn a_torn_line_is_not_a_record() {
        let mut line = Vec::new();
        encode(1, Kind::Event, &GENESIS, br#"{"x":1}"#, &mut line);
        for cut in [1, 20, line.len() - 3] {
            assert!(parse_line(&line[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn hex_round_trips() {
        let bytes: [u8; 4] = [0, 0x0f, 0xa0, 0xff];
        assert_eq!(to_hex(&bytes), "000fa0ff");
        assert_eq!(from_hex::<4>("000fa0ff"), Some(bytes));
        assert_eq!(from_hex::<4>("000fa0f"), None);
        assert_eq!(from_hex::<4>("000fa0fg"), None);
    }
}
