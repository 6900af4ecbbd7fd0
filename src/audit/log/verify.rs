//! `customs audit verify DIR`: reads every segment and checks that the log is whole and
//! unaltered. It names the segment, the line and the sequence number of each problem:
//! a changed byte (the hash no longer matches, or the line no longer parses), a removed
//! record (a gap in the sequence and a broken chain), records out of order, a segment
//! missing between two others, a torn last record, a bad checkpoint signature or a
//! checkpoint signed by a key other than the pinned one, and a log that ends before the
//! point the forwarder already delivered (records removed from its end).
//!
//! What it cannot see on its own: whole records cut from the end after the last
//! checkpoint and before anything was forwarded, and the oldest segments removed (that is
//! what retention does; the report says where the log starts). Checkpoints and records
//! already in the SIEM are the witnesses for those.

use std::path::Path;

use serde::Serialize;

use super::checkpoint::Checkpoint;
use super::forward::Cursor;
use super::record::{self, GENESIS, Kind, to_hex};
use super::segment;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Segment file name.
    pub segment: String,
    /// 1-based line in the segment (0: the segment as a whole).
    pub line: usize,
    /// Sequence number concerned, when known.
    pub seq: Option<u64>,
    /// What is wrong.
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.segment)?;
        if self.line > 0 {
            write!(f, " line {}", self.line)?;
        }
        if let Some(seq) = self.seq {
            write!(f, " seq {seq}")?;
        }
        write!(f, ": {}", self.what)
    }
}

/// The result of a verification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The log's own id (its directory's `INSTANCE` file): what its forwarded records
    /// carry as `service.instance.id`, and the first half of their SIEM event ids.
    /// `None` when the directory holds no id (yet), or one that is not a UUID (a note
    /// says which).
    pub instance_id: Option<String>,
    /// Segments read.
    pub segments: usize,
    /// Records read (events, policy changes and checkpoints).
    pub records: u64,
    /// Decision events.
    pub events: u64,
    /// Policy changes (policy sets applied or rejected).
    pub policy_changes: u64,
    /// Stream-end records.
    pub stream_ends: u64,
    /// First sequence number in the log.
    pub first_seq: Option<u64>,
    /// Last sequence number in the log.
    pub last_seq: u64,
    /// Checkpoints whose signature verified.
    pub checkpoints: u64,
    /// Sequence number covered by the last valid checkpoint.
    pub last_checkpoint_covers: Option<u64>,
    /// Problems: the log is not intact when there is any.
    pub problems: Vec<Problem>,
    /// Facts worth knowing that are not problems.
    pub notes: Vec<String>,
}

impl Report {
    /// No problem found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

struct State {
    last_seq: Option<u64>,
    last_hash: Option<[u8; 32]>,
}

/// Verifies the log in `dir`. `pinned_key` (hex) is the only key checkpoints may be
/// signed with; without it, each checkpoint is checked against the key it names.
pub fn verify(dir: &Path, pinned_key: Option<&str>) -> anyhow::Result<Report> {
    let segments = segment::list(dir)?;
    let mut report = Report {
        segments: segments.len(),
        ..Report::default()
    };
    match std::fs::read_to_string(dir.join(super::INSTANCE_FILE)) {
        Ok(text) => match uuid::Uuid::parse_str(text.trim()) {
            Ok(id) if !id.is_nil() => report.instance_id = Some(id.hyphenated().to_string()),
            _ => report.notes.push(format!(
                "{} does not hold a UUID: the gateway will not open this log until it is deleted",
                super::INSTANCE_FILE
            )),
        },
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => report.notes.push(format!(
            "no {} file: the log has no id yet",
            super::INSTANCE_FILE
        )),
        Err(err) => report
            .notes
            .push(format!("{} could not be read: {err}", super::INSTANCE_FILE)),
    }
    if segments.is_empty() {
        report.notes.push("no segments: the log is empty".into());
    }
    let mut state = State {
        last_seq: None,
        last_hash: None,
    };
    let mut keys_seen: Vec<String> = Vec::new();
    for seg in &segments {
        let name = seg.name();
        let bytes = std::fs::read(&seg.path)?;
        if let Some(last) = state.last_seq
            && seg.first_seq != last + 1
        {
            report.problems.push(Problem {
                segment: name.clone(),
                line: 0,
                seq: Some(seg.first_seq),
                what: if seg.first_seq > last + 1 {
                    format!(
                        "segment starts at seq {} but the one before ends at seq {last}: {} record(s) missing",
                        seg.first_seq,
                        seg.first_seq - last - 1
                    )
                } else {
                    format!(
                        "segment starts at seq {} but the one before already reached seq {last}",
                        seg.first_seq
                    )
                },
            });
        }
        let mut offset = 0;
        let mut line_no = 0;
        let mut first_in_segment = true;
        while offset < bytes.len() {
            line_no += 1;
            let rest = &bytes[offset..];
            let Some(end) = rest.iter().position(|b| *b == b'\n') else {
                report.problems.push(Problem {
                    segment: name.clone(),
                    line: line_no,
                    seq: state.last_seq.map(|s| s + 1),
                    what: format!(
                        "torn record at the end ({} bytes without a newline) after seq {}",
                        rest.len(),
                        state.last_seq.unwrap_or(0)
                    ),
                });
                break;
            };
            let line = &rest[..end];
            offset += end + 1;
            let record = match record::parse_line(line) {
                Ok(record) => record,
                Err(e) => {
                    report.problems.push(Problem {
                        segment: name.clone(),
                        line: line_no,
                        seq: state.last_seq.map(|s| s + 1),
                        what: format!(
                            "{e} after seq {} (changed or damaged)",
                            state.last_seq.unwrap_or(0)
                        ),
                    });
                    // Unknown from here: take the next readable record as it comes.
                    state.last_seq = state.last_seq.map(|s| s + 1);
                    state.last_hash = None;
                    continue;
                }
            };
            report.records += 1;
            let problem = |what: String| Problem {
                segment: name.clone(),
                line: line_no,
                seq: Some(record.seq),
                what,
            };
            if first_in_segment && record.seq != seg.first_seq {
                report.problems.push(problem(format!(
                    "first record has seq {} but the segment is named for seq {}",
                    record.seq, seg.first_seq
                )));
            }
            first_in_segment = false;
            if !record.hash_matches() {
                report.problems.push(problem(
                    "content does not match its hash: the record was changed".into(),
                ));
            }
            match state.last_seq {
                None => {
                    report.first_seq = Some(record.seq);
                    if record.seq == 1 && record.prev != GENESIS {
                        report
                            .problems
                            .push(problem("the first record does not start the chain".into()));
                    } else if record.seq > 1 {
                        report.notes.push(format!(
                            "the log starts at seq {} (older segments removed by retention, or missing); the chain before it cannot be checked",
                            record.seq
                        ));
                    }
                }
                Some(last) if record.seq == last + 1 => {
                    if let Some(hash) = state.last_hash
                        && record.prev != hash
                    {
                        report.problems.push(problem(format!(
                            "chain broken: prev does not match the hash of seq {last}"
                        )));
                    }
                }
                Some(last) if record.seq > last + 1 => {
                    report.problems.push(problem(format!(
                        "follows seq {last}: {} record(s) missing",
                        record.seq - last - 1
                    )));
                }
                Some(last) => {
                    report.problems.push(problem(format!(
                        "out of order: seq {} after seq {last}",
                        record.seq
                    )));
                }
            }
            match record.kind {
                Kind::Event => {
                    report.events += 1;
                    if serde_json::from_slice::<serde_json::Value>(record.body).is_err() {
                        report
                            .problems
                            .push(problem("event body is not JSON".into()));
                    }
                }
                Kind::PolicyChange => {
                    report.policy_changes += 1;
                    let body = serde_json::from_slice::<serde_json::Value>(record.body);
                    if body.map_or(true, |b| b["event"] != "policy_change") {
                        report
                            .problems
                            .push(problem("policy change body is not a policy change".into()));
                    }
                }
                Kind::StreamEnd => {
                    report.stream_ends += 1;
                    let body = serde_json::from_slice::<serde_json::Value>(record.body);
                    if body.map_or(true, |b| b["event"] != "stream_end") {
                        report
                            .problems
                            .push(problem("stream end body is not a stream end".into()));
                    }
                }
                Kind::Checkpoint => match serde_json::from_slice::<Checkpoint>(record.body) {
                    Err(_) => report
                        .problems
                        .push(problem("unreadable checkpoint".into())),
                    Ok(cp) => {
                        let covers_prev = cp.covers_seq + 1 == record.seq
                            && cp.covers_hash == to_hex(&record.prev);
                        if !covers_prev {
                            report.problems.push(problem(format!(
                                "checkpoint covers seq {} but is not the record right after it",
                                cp.covers_seq
                            )));
                        } else if !cp.signature_valid() {
                            report.problems.push(problem(format!(
                                "checkpoint over seq {}: bad signature",
                                cp.covers_seq
                            )));
                        } else if pinned_key
                            .is_some_and(|k| !k.trim().eq_ignore_ascii_case(&cp.key))
                        {
                            report.problems.push(problem(format!(
                                "checkpoint over seq {} is signed by key {}, not the pinned key",
                                cp.covers_seq, cp.key
                            )));
                        } else {
                            report.checkpoints += 1;
                            report.last_checkpoint_covers = Some(cp.covers_seq);
                            if !keys_seen.contains(&cp.key) {
                                keys_seen.push(cp.key.clone());
                            }
                        }
                    }
                },
            }
            state.last_seq = Some(record.seq.max(state.last_seq.unwrap_or(0)));
            state.last_hash = Some(record.hash);
        }
    }
    report.last_seq = state.last_seq.unwrap_or(0);
    let cursor = Cursor::load(dir);
    let forwarded = cursor.logs.max(cursor.traces);
    if forwarded > report.last_seq {
        report.problems.push(Problem {
            segment: segments.last().map(|s| s.name()).unwrap_or_default(),
            line: 0,
            seq: Some(report.last_seq),
            what: format!(
                "the forwarder already delivered up to seq {forwarded} but the log ends at seq {}: records removed from its end",
                report.last_seq
            ),
        });
    }
    if report.records > 0 && report.last_checkpoint_covers.map(|c| c + 1) != Some(report.last_seq) {
        report.notes.push(format!(
            "the log does not end with a checkpoint: records after seq {} are protected by the hash chain only (the writer did not stop cleanly, or is still running)",
            report.last_checkpoint_covers.unwrap_or(0)
        ));
    }
    if pinned_key.is_none() && !keys_seen.is_empty() {
        report.notes.push(format!(
            "checkpoint signatures checked against the keys they name ({}); pass --public-key to pin the expected key",
            keys_seen.join(", ")
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::log::checkpoint::Signer;
    use crate::audit::log::segment::Segment;

    /// Seven events, a checkpoint, two events: one segment.
    fn sample(dir: &Path) -> (Vec<u8>, Signer) {
        let signer = Signer::generate().unwrap();
        let mut out = Vec::new();
        let mut hash = GENESIS;
        let mut seq = 0;
        for n in 0..9 {
            seq += 1;
            if n == 7 {
                let cp = signer.checkpoint(seq - 1, &hash, "t".into());
                hash = record::encode(
                    seq,
                    Kind::Checkpoint,
                    &hash,
                    &serde_json::to_vec(&cp).unwrap(),
                    &mut out,
                );
                seq += 1;
            }
            hash = record::encode(
                seq,
                Kind::Event,
                &hash,
                format!("{{\"n\":{n}}}").as_bytes(),
                &mut out,
            );
        }
        std::fs::write(dir.join(Segment::file_name(1)), &out).unwrap();
        (out, signer)
    }

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect()
    }

    #[test]
    fn an_intact_log_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (_, signer) = sample(dir.path());
        let report = verify(dir.path(), Some(signer.public_hex())).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(
            (report.records, report.events, report.checkpoints),
            (10, 9, 1)
        );
        let other = Signer::generate().unwrap();
        let report = verify(dir.path(), Some(other.public_hex())).unwrap();
        assert!(report.problems[0].what.contains("not the pinned key"));
    }

    #[test]
    fn the_report_names_the_log_by_its_id() {
        let dir = tempfile::tempdir().unwrap();
        sample(dir.path());
        let report = verify(dir.path(), None).unwrap();
        assert_eq!(report.instance_id, None);
        assert!(report.notes.iter().any(|n| n.contains("no INSTANCE file")));
        let id = "0b8e6c2a-5d1f-4f3e-9a7b-2c4d6e8f0a1b";
        std::fs::write(
            dir.path().join(crate::audit::log::INSTANCE_FILE),
            format!("{id}\n"),
        )
        .unwrap();
        let report = verify(dir.path(), None).unwrap();
        assert_eq!(report.instance_id.as_deref(), Some(id));
        assert!(
            !report.notes.iter().any(|n| n.contains("INSTANCE")),
            "{:?}",
            report.notes
        );
        assert!(report.ok());
        std::fs::write(
            dir.path().join(crate::audit::log::INSTANCE_FILE),
            "not-an-id\n",
        )
        .unwrap();
        let report = verify(dir.path(), None).unwrap();
        assert_eq!(report.instance_id, None);
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("does not hold a UUID"))
        );
        // The id is a fact about the log, not a problem with its records.
        assert!(report.ok());
    }

    #[test]
    fn a_forged_checkpoint_signature_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = sample(dir.path());
        let text = String::from_utf8(bytes).unwrap();
        let at = text.find("\"signature\":\"").unwrap() + 13;
        let mut forged = text.into_bytes();
        forged[at] = if forged[at] == b'0' { b'1' } else { b'0' };
        // Re-chain from the checkpoint on, as a forger with the hash function would.
        let mut out = Vec::new();
        let mut hash = GENESIS;
        for line in lines(&forged) {
            let r = record::parse_line(&line[..line.len() - 1]).unwrap();
            hash = record::encode(r.seq, r.kind, &hash, r.body, &mut out);
        }
        std::fs::write(dir.path().join(Segment::file_name(1)), &out).unwrap();
        let report = verify(dir.path(), None).unwrap();
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].what.contains("bad signature"));
        assert_eq!(report.problems[0].seq, Some(8));
    }
}
