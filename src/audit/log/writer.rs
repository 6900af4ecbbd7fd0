//! The writer thread: the only code that writes the log. Appends arrive on a channel;
//! the thread writes what has queued as one batch, fsyncs once (group commit), and only
//! then answers each append. It also rotates segments, writes signed checkpoints, applies
//! retention and the disk budget.
//!
//! A plain thread rather than a task: `write` and `fsync` block, and a dedicated thread
//! keeps them off the runtime's workers without `spawn_blocking` per batch.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::oneshot;

use super::checkpoint::Signer;
use super::config::{AuditConfig, SyncMode};
use super::record::{self, Kind};
use super::segment::{self, Head, Segment};
use super::{AppendError, Shared};

/// A message to the writer.
pub(super) enum Msg {
    /// Append one record body of `kind` (a decision event or a policy change).
    Append {
        kind: Kind,
        body: Vec<u8>,
        reply: Reply,
    },
    /// Write a checkpoint, fsync, and answer (shutdown, tests).
    Seal(oneshot::Sender<()>),
}

/// What to do when an append that nobody awaits is refused.
pub type OnRefused = Box<dyn FnOnce(AppendError) + Send>;

/// Where the writer answers an append: a task awaiting it (requests), a thread
/// blocked on it (policy reloads, which run on the blocking pool), or nobody (records
/// queued where nothing can wait: a stream's end, a dropped request's event), which
/// only hears of a refusal.
pub(super) enum Reply {
    Task(oneshot::Sender<Result<u64, AppendError>>),
    Thread(std::sync::mpsc::SyncSender<Result<u64, AppendError>>),
    Unawaited(OnRefused),
}

impl Reply {
    fn send(self, answer: Result<u64, AppendError>) {
        // The asker may have gone (a cancelled request); the record stands either way.
        match self {
            Reply::Task(sender) => {
                let _ = sender.send(answer);
            }
            Reply::Thread(sender) => {
                let _ = sender.send(answer);
            }
            Reply::Unawaited(on_refused) => {
                if let Err(err) = answer {
                    on_refused(err);
                }
            }
        }
    }
}

struct SegmentInfo {
    first_seq: u64,
    bytes: u64,
}

pub(super) struct Writer {
    dir: PathBuf,
    config: AuditConfig,
    signer: Signer,
    shared: Arc<Shared>,
    file: Option<File>,
    segments: VecDeque<SegmentInfo>,
    total_bytes: u64,
    seq: u64,
    hash: [u8; 32],
    unsigned: u64,
    /// `(seq, hash, unsigned)` as of the last successful write to a file.
    flushed: (u64, [u8; 32], u64),
    last_checkpoint: Instant,
    dirty: bool,
    last_sync: Instant,
    buf: Vec<u8>,
    /// Interval mode: the active segment and last written seq, for the syncer thread.
    syncer: Arc<SyncTarget>,
    /// Sealed for shutdown: appends answer `Closed`.
    closed: bool,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("dir", &self.dir)
            .field("seq", &self.seq)
            .field("segments", &self.segments.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// What the interval-mode syncer thread fsyncs.
#[derive(Default)]
struct SyncTarget {
    file: std::sync::Mutex<Option<File>>,
    written: std::sync::atomic::AtomicU64,
    stop: std::sync::atomic::AtomicBool,
}

impl Writer {
    pub(super) fn open(
        dir: &Path,
        config: AuditConfig,
        signer: Signer,
        shared: Arc<Shared>,
        head: Head,
    ) -> anyhow::Result<Writer> {
        let mut segments = VecDeque::new();
        let mut total_bytes = 0;
        for s in segment::list(dir)? {
            let bytes = std::fs::metadata(&s.path)?.len();
            total_bytes += bytes;
            segments.push_back(SegmentInfo {
                first_seq: s.first_seq,
                bytes,
            });
        }
        let file = match segments.back() {
            Some(last) => Some(
                OpenOptions::new()
                    .append(true)
                    .open(dir.join(Segment::file_name(last.first_seq)))?,
            ),
            None => None,
        };
        Ok(Writer {
            dir: dir.to_path_buf(),
            config,
            signer,
            shared,
            file,
            segments,
            total_bytes,
            seq: head.seq,
            hash: head.hash,
            unsigned: head.unsigned,
            flushed: (head.seq, head.hash, head.unsigned),
            last_checkpoint: Instant::now(),
            dirty: false,
            last_sync: Instant::now(),
            buf: Vec::with_capacity(64 * 1024),
            syncer: Arc::new(SyncTarget::default()),
            closed: false,
        })
    }

    /// Runs until every sender is gone; then seals the log. The writer sits behind a
    /// mutex because interval-mode appends write on the appending thread; this thread
    /// then only ticks (timed checkpoints, retention, reclaiming) and answers seals.
    pub(super) fn run(writer: Arc<Mutex<Writer>>, inbox: Receiver<Msg>) {
        let (tick, syncer) = {
            let Ok(mut w) = writer.lock() else { return };
            w.maintain();
            let tick = Duration::from_millis(match w.config.sync {
                SyncMode::Group => 1000,
                SyncMode::Interval => w.config.sync_interval_ms.clamp(1, 1000),
            });
            let syncer = (w.config.sync == SyncMode::Interval).then(|| w.spawn_syncer());
            (tick, syncer)
        };
        loop {
            let first = match inbox.recv_timeout(tick) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok(mut w) = writer.lock() {
                        w.on_idle();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let Ok(mut w) = writer.lock() else { break };
            let mut batch = vec![first];
            w.gather(&inbox, &mut batch);
            w.write_batch(batch);
        }
        let Ok(mut w) = writer.lock() else { return };
        w.syncer.stop.store(true, Ordering::Relaxed);
        if let Some(Ok(thread)) = syncer {
            let _ = thread.join();
        }
        w.seal();
    }

    /// Interval mode: fsync on another thread every `sync_interval_ms`, so that an
    /// fsync never holds up the appends behind it.
    fn spawn_syncer(&mut self) -> std::io::Result<std::thread::JoinHandle<()>> {
        self.share_active_file();
        let target = Arc::clone(&self.syncer);
        let shared = Arc::clone(&self.shared);
        let interval = Duration::from_millis(self.config.sync_interval_ms.max(1));
        std::thread::Builder::new()
            .name("customs-audit-sync".into())
            .spawn(move || {
                let mut synced = 0;
                while !target.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(interval);
                    let written = target.written.load(Ordering::Acquire);
                    if written == synced {
                        continue;
                    }
                    let ok = match target.file.lock() {
                        Ok(file) => file.as_ref().is_none_or(|f| f.sync_data().is_ok()),
                        Err(_) => false,
                    };
                    if ok {
                        synced = written;
                        let _ = shared.durable.send(written);
                    } else {
                        tracing::error!("audit log fsync failed");
                    }
                }
            })
    }

    fn share_active_file(&self) {
        if let Ok(mut slot) = self.syncer.file.lock() {
            *slot = self.file.as_ref().and_then(|f| f.try_clone().ok());
        }
    }

    fn gather(&self, inbox: &Receiver<Msg>, batch: &mut Vec<Msg>) {
        let max = self.config.max_batch.max(1);
        while batch.len() < max {
            match inbox.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }
        if self.config.sync == SyncMode::Group && self.config.max_wait_us > 0 {
            let deadline = Instant::now() + Duration::from_micros(self.config.max_wait_us);
            while batch.len() < max {
                let left = deadline.saturating_duration_since(Instant::now());
                match inbox.recv_timeout(left) {
                    Ok(msg) => batch.push(msg),
                    Err(_) => break,
                }
            }
        }
    }

    fn on_idle(&mut self) {
        let group = self.config.sync == SyncMode::Group;
        // Interval mode: the syncer thread fsyncs, outside this lock.
        if self.dirty && group {
            let _ = self.sync();
        }
        let interval = Duration::from_secs(self.config.checkpoint_interval_secs.max(1));
        if !self.closed && self.unsigned > 0 && self.last_checkpoint.elapsed() >= interval {
            self.buf.clear();
            if self.push_checkpoint().is_ok() && self.flush_buf().is_ok() {
                if group {
                    let _ = self.sync();
                } else {
                    self.syncer.written.store(self.seq, Ordering::Release);
                }
            } else {
                self.rollback();
            }
        }
        if self.shared.full.load(Ordering::Relaxed) {
            self.reclaim(self.config.segment_bytes.min(self.config.max_bytes));
        }
        self.maintain();
    }

    /// Answers a batch from the channel: one [`Writer::commit`], then each reply.
    fn write_batch(&mut self, batch: Vec<Msg>) {
        let mut records = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut seals = Vec::new();
        for msg in batch {
            match msg {
                Msg::Seal(reply) => seals.push(reply),
                Msg::Append { kind, body, reply } => {
                    records.push((kind, body));
                    replies.push(reply);
                }
            }
        }
        let answers = self.commit(
            records.iter().map(|(kind, body)| (*kind, body.as_slice())),
            !seals.is_empty(),
        );
        for (reply, answer) in replies.into_iter().zip(answers) {
            reply.send(answer);
        }
        for reply in seals {
            let _ = reply.send(());
        }
    }

    /// Chains and writes `records` (plus a checkpoint when `seal`), fsyncs in group mode
    /// or when sealing, and returns each record's answer in order. Interval mode calls it
    /// on the appending thread, one record at a time (see [`super::AuditLog::append`]).
    pub(super) fn commit<'a>(
        &mut self,
        records: impl Iterator<Item = (Kind, &'a [u8])>,
        seal: bool,
    ) -> Vec<Result<u64, AppendError>> {
        self.buf.clear();
        // `Ok(seq)` for a record in the buffer, `Err` for one refused before writing.
        let mut answers: Vec<Result<u64, AppendError>> = Vec::new();
        let mut failed: Option<std::io::Error> = None;
        let mut refused_any = false;
        for (kind, body) in records {
            if self.closed {
                answers.push(Err(AppendError::Closed));
                continue;
            }
            if failed.is_some() {
                answers.push(Err(AppendError::Io));
                continue;
            }
            let line_len = body.len() as u64 + 200;
            if !self.room_for(line_len) {
                refused_any = true;
                answers.push(Err(AppendError::Full));
                continue;
            }
            match self.push_record(kind, body) {
                Ok(seq) => answers.push(Ok(seq)),
                Err(e) => {
                    failed = Some(e);
                    answers.push(Err(AppendError::Io));
                }
            }
            if failed.is_none()
                && self.unsigned >= self.config.checkpoint_every.max(1)
                && let Err(e) = self.push_checkpoint()
            {
                failed = Some(e);
            }
        }
        if seal
            && failed.is_none()
            && self.unsigned > 0
            && let Err(e) = self.push_checkpoint()
        {
            failed = Some(e);
        }
        let mut outcome = failed.map_or_else(|| self.flush_buf(), Err);
        let group = self.config.sync == SyncMode::Group;
        if outcome.is_ok() && (group || seal) {
            outcome = self.sync();
        }
        match outcome {
            Ok(()) => {
                // Full stays set until space is actually freed (reclaim, retention):
                // a smaller event slipping into the last bytes does not reopen the gate.
                if refused_any {
                    self.shared.full.store(true, Ordering::Relaxed);
                }
                // Interval mode: appends are answered once written; the fsync comes after.
                if !group {
                    self.syncer.written.store(self.seq, Ordering::Release);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %self.dir.display(), "audit log write failed");
                self.rollback();
                if e.raw_os_error() == Some(28) {
                    self.shared.full.store(true, Ordering::Relaxed);
                }
                for answer in &mut answers {
                    if !matches!(answer, Err(AppendError::Closed)) {
                        *answer = Err(AppendError::Io);
                    }
                }
            }
        }
        answers
    }

    /// Whether a line of about `len` bytes fits the budget, reclaiming forwarded
    /// segments if needed.
    fn room_for(&mut self, len: u64) -> bool {
        let pending = self.buf.len() as u64;
        if self.total_bytes + pending + len <= self.config.max_bytes {
            return true;
        }
        self.reclaim(self.total_bytes + pending + len - self.config.max_bytes);
        self.total_bytes + pending + len <= self.config.max_bytes
    }

    /// Adds one record to the pending buffer, rotating first if the segment is full.
    fn push_record(&mut self, kind: Kind, body: &[u8]) -> std::io::Result<u64> {
        let line_len = body.len() as u64 + 200;
        let active = self.segments.back().map_or(0, |s| s.bytes) + self.buf.len() as u64;
        if self.file.is_none() || (active > 0 && active + line_len > self.config.segment_bytes) {
            self.rotate()?;
        }
        let seq = self.seq + 1;
        self.hash = record::encode(seq, kind, &self.hash, body, &mut self.buf);
        self.seq = seq;
        self.unsigned = if kind.is_event() {
            self.unsigned + 1
        } else {
            0
        };
        Ok(seq)
    }

    fn push_checkpoint(&mut self) -> std::io::Result<()> {
        let time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let checkpoint = self.signer.checkpoint(self.seq, &self.hash, time);
        let body = serde_json::to_vec(&checkpoint).map_err(std::io::Error::other)?;
        self.push_record(Kind::Checkpoint, &body)?;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Writes the pending buffer to the active segment.
    fn flush_buf(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("no active segment"));
        };
        file.write_all(&self.buf)?;
        let written = self.buf.len() as u64;
        if let Some(active) = self.segments.back_mut() {
            active.bytes += written;
        }
        self.total_bytes += written;
        self.buf.clear();
        self.dirty = true;
        self.flushed = (self.seq, self.hash, self.unsigned);
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        if let Some(file) = self.file.as_ref() {
            file.sync_data()?;
        }
        self.dirty = false;
        self.last_sync = Instant::now();
        let _ = self.shared.durable.send(self.seq);
        Ok(())
    }

    /// Closes the active segment (written and fsynced) and starts the next.
    fn rotate(&mut self) -> std::io::Result<()> {
        self.flush_buf()?;
        if self.file.is_some() {
            self.sync()?;
        }
        let first_seq = self.seq + 1;
        let path = self.dir.join(Segment::file_name(first_seq));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        sync_dir(&self.dir);
        self.file = Some(file);
        if self.config.sync == SyncMode::Interval {
            self.share_active_file();
        }
        self.segments.push_back(SegmentInfo {
            first_seq,
            bytes: 0,
        });
        Ok(())
    }

    /// Back to the last record that reached a file whole.
    fn rollback(&mut self) {
        self.buf.clear();
        (self.seq, self.hash, self.unsigned) = self.flushed;
        // Cut whatever part of the batch reached the file, so the chain stays whole.
        if let (Some(file), Some(active)) = (self.file.as_ref(), self.segments.back_mut())
            && let Ok(meta) = file.metadata()
            && meta.len() > active.bytes
        {
            let _ = file.set_len(active.bytes);
        }
        self.total_bytes = self.segments.iter().map(|s| s.bytes).sum();
    }

    /// Deletes closed segments that are delivered (forwarding on) until `need` bytes are
    /// free. Without a forwarder nothing is reclaimed: the local log is the only copy.
    fn reclaim(&mut self, need: u64) {
        if !self.shared.forwarding.load(Ordering::Relaxed) {
            return;
        }
        let delivered = self.shared.delivered.load(Ordering::Relaxed);
        let mut freed = 0;
        while freed < need && self.segments.len() > 1 {
            let Some(next_first) = self.segments.get(1).map(|s| s.first_seq) else {
                break;
            };
            if next_first.saturating_sub(1) > delivered {
                break;
            }
            let Some(oldest) = self.segments.pop_front() else {
                break;
            };
            let path = self.dir.join(Segment::file_name(oldest.first_seq));
            if std::fs::remove_file(&path).is_err() {
                self.segments.push_front(oldest);
                break;
            }
            tracing::info!(segment = %Segment::file_name(oldest.first_seq), "audit log: delivered segment reclaimed for space");
            freed += oldest.bytes;
            self.total_bytes -= oldest.bytes;
            self.shared.full.store(false, Ordering::Relaxed);
        }
    }

    /// Retention by age: closed segments last written more than `retention_days` ago.
    fn maintain(&mut self) {
        if self.config.retention_days == 0 {
            return;
        }
        let max_age = Duration::from_secs(self.config.retention_days * 86_400);
        while self.segments.len() > 1 {
            let Some(oldest) = self.segments.front() else {
                break;
            };
            let path = self.dir.join(Segment::file_name(oldest.first_seq));
            let old = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age > max_age);
            if !old || std::fs::remove_file(&path).is_err() {
                break;
            }
            tracing::info!(segment = %Segment::file_name(oldest.first_seq), "audit log: segment removed by retention");
            self.total_bytes -= oldest.bytes;
            self.segments.pop_front();
            self.shared.full.store(false, Ordering::Relaxed);
        }
    }

    /// Final checkpoint and fsync; later appends answer `Closed`.
    fn seal(&mut self) {
        self.closed = true;
        self.buf.clear();
        if self.unsigned > 0 && self.push_checkpoint().is_ok() {
            let _ = self.flush_buf();
        }
        if self.dirty {
            let _ = self.sync();
        }
    }
}

/// Makes a new file name durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
