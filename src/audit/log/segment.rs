//! Segments: the log directory holds files `<first seq, 20 digits>.log`, each a run of
//! record lines. This module lists them, recovers the tail after a crash, and reads
//! records forward from a sequence number (the forwarder, `customs audit tail`).
//!
//! Recovery on open: a process killed mid-write can leave a torn last line. An append is
//! acknowledged only once its whole line is written (and, in group mode, fsynced), so a
//! torn line belongs to a request whose response never completed; it is cut off, and the
//! cut is logged with the segment and byte count. Damage anywhere else is not a crash
//! artefact: opening refuses, and `customs audit verify` says where.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::record::{self, GENESIS, Kind, Record};

/// One segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Sequence number of its first record (from the file name).
    pub first_seq: u64,
    /// The file.
    pub path: PathBuf,
}

impl Segment {
    /// The file name of a segment starting at `first_seq`.
    pub fn file_name(first_seq: u64) -> String {
        format!("{first_seq:020}.log")
    }

    /// The file name, for messages.
    pub fn name(&self) -> String {
        Segment::file_name(self.first_seq)
    }
}

/// The segments of `dir`, oldest first.
pub fn list(dir: &Path) -> std::io::Result<Vec<Segment>> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(".log") else {
            continue;
        };
        if stem.len() == 20
            && let Ok(first_seq) = stem.parse::<u64>()
        {
            segments.push(Segment {
                first_seq,
                path: entry.path(),
            });
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// Where the chain stands after recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Last sequence number (0: empty log).
    pub seq: u64,
    /// Hash of the last record.
    pub hash: [u8; 32],
    /// Records since the last checkpoint in the active segment.
    pub unsigned: u64,
}

/// Finds the chain head, cutting off a torn last line of the newest segment. Removes a
/// newest segment left empty by a crash.
pub fn recover(dir: &Path) -> anyhow::Result<Head> {
    loop {
        let segments = list(dir)?;
        let Some(last) = segments.last() else {
            return Ok(Head {
                seq: 0,
                hash: GENESIS,
                unsigned: 0,
            });
        };
        let bytes = std::fs::read(&last.path)
            .with_context(|| format!("reading audit segment {}", last.path.display()))?;
        let scan = scan_valid(&bytes, last.first_seq);
        if scan.valid_len < bytes.len() {
            let rest = &bytes[scan.valid_len..];
            let newline_inside = rest
                .iter()
                .take(rest.len().saturating_sub(1))
                .any(|b| *b == b'\n');
            if newline_inside {
                anyhow::bail!(
                    "audit segment {} is damaged after seq {} (not a torn last record); run `customs audit verify {}`",
                    last.name(),
                    scan.last_seq,
                    dir.display()
                );
            }
            tracing::warn!(
                segment = %last.name(),
                after_seq = scan.last_seq,
                bytes = rest.len(),
                "audit log: cutting off a torn last record (its request never completed)"
            );
            let file = std::fs::OpenOptions::new().write(true).open(&last.path)?;
            file.set_len(scan.valid_len as u64)?;
            file.sync_all()?;
        }
        if scan.count == 0 {
            std::fs::remove_file(&last.path)?;
            if segments.len() == 1 {
                return Ok(Head {
                    seq: last.first_seq.saturating_sub(1),
                    hash: GENESIS,
                    unsigned: 0,
                });
            }
            continue;
        }
        return Ok(Head {
            seq: scan.last_seq,
            hash: scan.last_hash,
            unsigned: scan.unsigned,
        });
    }
}

struct Scan {
    valid_len: usize,
    count: u64,
    last_seq: u64,
    last_hash: [u8; 32],
    unsigned: u64,
}

/// The prefix of a segment made of whole records whose hashes match and whose sequence
/// numbers follow each other.
fn scan_valid(bytes: &[u8], first_seq: u64) -> Scan {
    let mut scan = Scan {
        valid_len: 0,
        count: 0,
        last_seq: first_seq.saturating_sub(1),
        last_hash: GENESIS,
        unsigned: 0,
    };
    let mut offset = 0;
    while let Some(end) = bytes[offset..].iter().position(|b| *b == b'\n') {
        let line = &bytes[offset..offset + end];
        let Ok(record) = record::parse_line(line) else {
            break;
        };
        let chained = scan.count == 0 || record.prev == scan.last_hash;
        if record.seq != scan.last_seq + 1 || !chained || !record.hash_matches() {
            break;
        }
        scan.count += 1;
        scan.last_seq = record.seq;
        scan.last_hash = record.hash;
        scan.unsigned = if record.kind.is_event() {
            scan.unsigned + 1
        } else {
            0
        };
        offset += end + 1;
        scan.valid_len = offset;
    }
    scan
}

/// An owned record, as the forwarder and `tail` read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    /// Sequence number.
    pub seq: u64,
    /// Event or checkpoint.
    pub kind: Kind,
    /// The body (event or checkpoint JSON).
    pub body: Vec<u8>,
}

/// Reads whole records forward from a sequence number, following new segments as they
/// appear. Not a verifier: it trusts the lines it reads (see [`super::verify`]).
#[derive(Debug)]
pub struct Reader {
    dir: PathBuf,
    next_seq: u64,
    segment: Option<(Segment, u64)>,
}

impl Reader {
    /// A reader whose first record will be `from_seq` (or the oldest one kept, if
    /// retention removed it).
    pub fn new(dir: &Path, from_seq: u64) -> Reader {
        Reader {
            dir: dir.to_path_buf(),
            next_seq: from_seq.max(1),
            segment: None,
        }
    }

    /// The sequence number of the next record to read.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Reads up to `max` records with `seq <= upto` that are complete on disk.
    pub fn read(&mut self, max: usize, upto: u64) -> anyhow::Result<Vec<OwnedRecord>> {
        let mut out = Vec::new();
        while out.len() < max && self.next_seq <= upto {
            if self.segment.is_none() && !self.open_segment()? {
                break;
            }
            let Some((segment, offset)) = self.segment.as_mut() else {
                break;
            };
            let mut file = match File::open(&segment.path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Removed by retention under our feet: find the next one.
                    self.segment = None;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            file.seek(SeekFrom::Start(*offset))?;
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            let mut consumed = 0usize;
            let mut progressed = false;
            while out.len() < max && self.next_seq <= upto {
                let Some(end) = bytes[consumed..].iter().position(|b| *b == b'\n') else {
                    break;
                };
                let line = &bytes[consumed..consumed + end];
                let record = record::parse_line(line).with_context(|| {
                    format!(
                        "audit segment {} near seq {}",
                        segment.name(),
                        self.next_seq
                    )
                })?;
                consumed += end + 1;
                progressed = true;
                if record.seq < self.next_seq {
                    continue;
                }
                self.next_seq = record.seq + 1;
                out.push(owned(&record));
            }
            *offset += consumed as u64;
            if !progressed && out.len() < max && self.next_seq <= upto {
                // Nothing more here: move on if a newer segment exists.
                let newer = list(&self.dir)?
                    .into_iter()
                    .find(|s| s.first_seq > segment.first_seq);
                match newer {
                    Some(next) if next.first_seq <= self.next_seq => {
                        self.segment = Some((next, 0));
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    fn open_segment(&mut self) -> anyhow::Result<bool> {
        let segments = list(&self.dir)?;
        let start = segments
            .iter()
            .rev()
            .find(|s| s.first_seq <= self.next_seq)
            .or_else(|| segments.first())
            .cloned();
        match start {
            Some(segment) => {
                self.next_seq = self.next_seq.max(segment.first_seq);
                self.segment = Some((segment, 0));
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn owned(record: &Record<'_>) -> OwnedRecord {
    OwnedRecord {
        seq: record.seq,
        kind: record.kind,
        body: record.body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_records(dir: &Path, first: u64, count: u64, prev: [u8; 32]) -> [u8; 32] {
        let mut out = Vec::new();
        let mut hash = prev;
        for seq in first..first + count {
            hash = record::encode(
                seq,
                Kind::Event,
                &hash,
                format!("{{\"n\":{seq}}}").as_bytes(),
                &mut out,
            );
        }
        std::fs::write(dir.join(Segment::file_name(first)), out).unwrap();
        hash
    }

    #[test]
    fn recover_cuts_a_torn_tail_only() {
        let dir = tempfile::tempdir().unwrap();
        let hash = write_records(dir.path(), 1, 3, GENESIS);
        let path = dir.path().join(Segment::file_name(1));
        let mut bytes = std::fs::read(&path).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(b"{\"seq\":4,\"kind\":\"ev");
        std::fs::write(&path, &bytes).unwrap();
        let head = recover(dir.path()).unwrap();
        assert_eq!((head.seq, head.hash), (3, hash));
        assert_eq!(std::fs::read(&path).unwrap().len(), whole);

        // A damaged record in the middle is not a crash artefact.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(recover(dir.path()).is_err());
    }

    #[test]
    fn the_reader_follows_segments() {
        let dir = tempfile::tempdir().unwrap();
        let hash = write_records(dir.path(), 1, 3, GENESIS);
        write_records(dir.path(), 4, 2, hash);
        let mut reader = Reader::new(dir.path(), 2);
        let seqs: Vec<u64> = reader
            .read(100, u64::MAX)
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(seqs, vec![2, 3, 4, 5]);
        assert!(reader.read(100, u64::MAX).unwrap().is_empty());
        let mut bounded = Reader::new(dir.path(), 1);
        assert_eq!(bounded.read(100, 2).unwrap().len(), 2);
        assert_eq!(bounded.read(1, u64::MAX).unwrap()[0].seq, 3);
    }
}
