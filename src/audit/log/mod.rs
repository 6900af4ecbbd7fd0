//! The durable decision log: the record phase's guarantee. Every decision event is
//! appended to a local, segmented, hash-chained log before `handle` returns the response,
//! and the forwarder ([`forward`]) ships the log over OTLP from there, so an event is
//! never lost to a full exporter queue or a collector outage. Policy set changes
//! (applied or rejected reloads) are records of their own kind in the same chain.
//!
//! ```text
//! handle ─ append(event) ──► writer thread: batch → chain (SHA-256) → write → fsync ─► ack
//!        (interval mode: chain → write on the caller's thread ─► ack; fsync every interval)
//!                                  │ rotate by size, signed checkpoint, retention, budget
//!                                  ▼
//!                          DIR/<seq>.log ──► forwarder ─ OTLP (HTTP or gRPC) ─► collector
//!                                                └ DIR/forward.cursor
//! ```
//!
//! Why this shape: one writer owns the files, so the chain has one order and no locks;
//! group commit makes one fsync serve every request that arrived while the previous one
//! ran, which keeps the per-request cost in microseconds while each acknowledged record
//! is on disk. Formats: [`record`]; recovery and reading: [`segment`]; checkpoints:
//! [`checkpoint`]; checking a directory: [`verify`].

pub mod checkpoint;
pub mod config;
pub mod forward;
pub mod otlp;
pub mod record;
pub mod segment;
pub mod verify;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{oneshot, watch};

pub use config::{AuditConfig, ForwardConfig, SyncMode, WhenFull};

use super::{DecisionEvent, PolicyChangeEvent, StreamEndEvent};
use checkpoint::Signer;
use record::Kind;
pub use writer::OnRefused;
use writer::{Msg, Reply, Writer};

/// The name of the lock file that keeps a second process from writing the same log.
pub const LOCK_FILE: &str = "LOCK";

/// The file that holds the log's own id ([`AuditLog::instance_id`]).
pub const INSTANCE_FILE: &str = "INSTANCE";

/// Why an event was not appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The disk budget is reached and nothing could be reclaimed.
    #[error("the audit log is full")]
    Full,
    /// Writing or syncing the segment failed.
    #[error("the audit log could not be written")]
    Io,
    /// The log is shut down.
    #[error("the audit log is closed")]
    Closed,
}

/// State the writer, the forwarder and the request path share.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The last append was refused for lack of room.
    full: AtomicBool,
    /// Highest sequence number known to be on disk (fsynced).
    durable: watch::Sender<u64>,
    /// A forwarder is running (segments it delivered may be reclaimed).
    forwarding: AtomicBool,
    /// Highest sequence number delivered by the forwarder on every signal.
    delivered: AtomicU64,
}

/// An open durable log. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    config: AuditConfig,
    inbox: RwLock<Option<mpsc::Sender<Msg>>>,
    /// The writer's state. Interval mode appends under this lock on the caller's thread;
    /// group mode leaves it to the writer thread.
    state: Arc<Mutex<Writer>>,
    shared: Arc<Shared>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    forwarder: Mutex<Option<forward::Running>>,
    lock: Mutex<Option<File>>,
    unrecorded: AtomicU64,
    instance_id: String,
}

impl AuditLog {
    /// Opens (or creates) the log in `config.dir`: takes the directory lock, cuts a torn
    /// last record, and starts the writer thread. `None` when no `dir` is configured.
    pub fn open(config: &AuditConfig) -> anyhow::Result<Option<AuditLog>> {
        let Some(dir) = config.dir.clone() else {
            return Ok(None);
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating audit log directory {}", dir.display()))?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        lock.try_lock().map_err(|_| {
            anyhow::anyhow!(
                "audit log {} is in use by another process (its {LOCK_FILE} is held)",
                dir.display()
            )
        })?;
        let instance_id = instance_id(&dir)?;
        let head = segment::recover(&dir)?;
        let signer = match Signer::configured(config.signing_key_file.as_deref())? {
            Some(signer) => signer,
            None => {
                let signer = Signer::generate()?;
                tracing::warn!(
                    public_key = signer.public_hex(),
                    "audit log: no signing key configured (signing_key_file or CUSTOMS_AUDIT_SIGNING_KEY); checkpoints are signed with a per-process key"
                );
                signer
            }
        };
        let (durable, _) = watch::channel(head.seq);
        let shared = Arc::new(Shared {
            full: AtomicBool::new(false),
            durable,
            forwarding: AtomicBool::new(false),
            delivered: AtomicU64::new(0),
        });
        let writer = Writer::open(&dir, config.clone(), signer, Arc::clone(&shared), head)?;
        let state = Arc::new(Mutex::new(writer));
        let (inbox, receiver) = mpsc::channel();
        let for_thread = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("customs-audit-writer".into())
            .spawn(move || Writer::run(for_thread, receiver))?;
        tracing::info!(dir = %dir.display(), sync = ?config.sync, "audit log open");
        Ok(Some(AuditLog {
            dir,
            config: config.clone(),
            inbox: RwLock::new(Some(inbox)),
            state,
            shared,
            writer: Mutex::new(Some(thread)),
            forwarder: Mutex::new(None),
            lock: Mutex::new(Some(lock)),
            unrecorded: AtomicU64::new(0),
            instance_id,
        }))
    }

    /// The log's own id: made when the directory first holds a log and kept in its
    /// [`INSTANCE_FILE`], so it stays across restarts and differs between the logs of
    /// several replicas. Forwarded records carry it as `service.instance.id`.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// Appends one event and waits until it is durable (group mode) or written
    /// (interval mode). Returns its sequence number.
    pub async fn append(&self, event: &DecisionEvent) -> Result<u64, AppendError> {
        let body = serde_json::to_vec(event).map_err(|_| AppendError::Io)?;
        self.append_body(body).await
    }

    /// Appends an already serialised event body (benchmarks, tests).
    pub async fn append_body(&self, body: Vec<u8>) -> Result<u64, AppendError> {
        if self.config.sync == SyncMode::Interval {
            return self.append_here(Kind::Event, &body);
        }
        let (reply, answer) = oneshot::channel();
        self.send(Msg::Append {
            kind: Kind::Event,
            body,
            reply: Reply::Task(reply),
        })?;
        answer.await.map_err(|_| AppendError::Closed)?
    }

    /// Appends a policy change record, chained and checkpointed like a decision, and
    /// blocks the calling thread until it is durable (group mode) or written (interval
    /// mode). Policy reloads run on the blocking pool; do not call it on an async worker.
    pub fn append_policy_change(&self, change: &PolicyChangeEvent) -> Result<u64, AppendError> {
        let body = serde_json::to_vec(change).map_err(|_| AppendError::Io)?;
        if self.config.sync == SyncMode::Interval {
            return self.append_here(Kind::PolicyChange, &body);
        }
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.send(Msg::Append {
            kind: Kind::PolicyChange,
            body,
            reply: Reply::Thread(reply),
        })?;
        answer.recv().map_err(|_| AppendError::Closed)?
    }

    /// Appends a stream-end record without waiting for it: interval mode writes it here
    /// (microseconds, no await), group mode queues it for the writer's next batch. For
    /// the end of a stream, which may be noticed where nothing can be awaited (a body
    /// dropped because the caller left). `on_refused` hears of a refusal, at once or
    /// from the writer.
    pub fn append_stream_end(&self, end: &StreamEndEvent, on_refused: OnRefused) {
        match serde_json::to_vec(end) {
            Ok(body) => self.append_unawaited(Kind::StreamEnd, body, on_refused),
            Err(_) => on_refused(AppendError::Io),
        }
    }

    /// Appends a decision event without waiting for it, as [`AuditLog::append_stream_end`]
    /// does: for the event of a request dropped before it was recorded (the caller
    /// left), where nothing can be awaited.
    pub fn append_event_unawaited(&self, event: &DecisionEvent, on_refused: OnRefused) {
        match serde_json::to_vec(event) {
            Ok(body) => self.append_unawaited(Kind::Event, body, on_refused),
            Err(_) => on_refused(AppendError::Io),
        }
    }

    fn append_unawaited(&self, kind: Kind, body: Vec<u8>, on_refused: OnRefused) {
        if self.config.sync == SyncMode::Interval {
            if let Err(err) = self.append_here(kind, &body) {
                on_refused(err);
            }
            return;
        }
        // A refusal at once (the writer is gone) or later (log full, a failed write)
        // reaches `on_refused` either way.
        if let Err(Msg::Append {
            reply: Reply::Unawaited(on_refused),
            ..
        }) = self.send_or_return(Msg::Append {
            kind,
            body,
            reply: Reply::Unawaited(on_refused),
        }) {
            on_refused(AppendError::Closed);
        }
    }

    /// Interval mode: chain and write the record on this thread, under the writer's
    /// lock. A write to the page cache takes microseconds, less than the two thread
    /// wake-ups a round trip through the writer thread costs; the fsync stays on the
    /// syncer thread. Rotating to a new segment (an fsync of the old one) happens here
    /// too, once per `segment_bytes`.
    fn append_here(&self, kind: Kind, body: &[u8]) -> Result<u64, AppendError> {
        if self.inbox.read().map_or(true, |inbox| inbox.is_none()) {
            return Err(AppendError::Closed);
        }
        let mut writer = self.state.lock().map_err(|_| AppendError::Io)?;
        writer
            .commit(std::iter::once((kind, body)), false)
            .pop()
            .unwrap_or(Err(AppendError::Io))
    }

    fn send(&self, msg: Msg) -> Result<(), AppendError> {
        self.send_or_return(msg).map_err(|_| AppendError::Closed)
    }

    /// Sends `msg` to the writer, or gives it back when the writer is gone.
    fn send_or_return(&self, msg: Msg) -> Result<(), Msg> {
        let Ok(inbox) = self.inbox.read() else {
            return Err(msg);
        };
        match inbox.as_ref() {
            Some(inbox) => inbox.send(msg).map_err(|returned| returned.0),
            None => Err(msg),
        }
    }

    /// Writes a checkpoint over everything appended so far and fsyncs.
    pub async fn seal(&self) {
        let (reply, done) = oneshot::channel();
        let sent = self
            .inbox
            .read()
            .ok()
            .and_then(|inbox| inbox.as_ref().map(|i| i.send(Msg::Seal(reply)).is_ok()));
        if sent == Some(true) {
            let _ = done.await;
        }
    }

    /// False when the log is full and `when_full = "refuse"`: new requests are refused.
    pub fn accepting(&self) -> bool {
        self.config.when_full == WhenFull::StopRecording
            || !self.shared.full.load(Ordering::Relaxed)
    }

    /// Counts an event that could not be recorded (for the error line and the metric).
    pub fn count_unrecorded(&self) -> u64 {
        self.unrecorded.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Highest durable sequence number, watched.
    pub fn durable(&self) -> watch::Receiver<u64> {
        self.shared.durable.subscribe()
    }

    /// Whether a forwarder ships this log.
    pub fn forwarding(&self) -> bool {
        self.shared.forwarding.load(Ordering::Relaxed)
    }

    /// Starts the forwarder towards `target`. Call inside a Tokio runtime. Fails when the
    /// TLS files the environment names cannot be read or used.
    pub fn start_forwarder(
        &self,
        target: forward::Target,
        service_name: &str,
    ) -> anyhow::Result<()> {
        let tls = target.tls.load().map_err(anyhow::Error::msg)?;
        forward::check_tls(&tls).map_err(anyhow::Error::msg)?;
        if let Ok(mut slot) = self.forwarder.lock() {
            self.shared.forwarding.store(true, Ordering::Relaxed);
            *slot = Some(forward::Running::start(
                self.dir.clone(),
                self.config.forward.clone(),
                target,
                tls,
                otlp::Origin {
                    service_name: service_name.to_owned(),
                    instance_id: self.instance_id.clone(),
                },
                Arc::clone(&self.shared),
            ));
        }
        Ok(())
    }

    /// Stops appends, seals the log (final checkpoint, fsync), lets the forwarder deliver
    /// what is on disk for at most `grace`, saves its cursor and releases the lock.
    pub async fn shutdown(&self, grace: Duration) {
        if let Ok(mut inbox) = self.inbox.write() {
            inbox.take();
        }
        let thread = self.writer.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        let forwarder = self.forwarder.lock().ok().and_then(|mut f| f.take());
        if let Some(forwarder) = forwarder {
            forwarder.stop(grace).await;
        }
        if let Ok(mut lock) = self.lock.lock() {
            lock.take();
        }
        tracing::info!(dir = %self.dir.display(), "audit log closed");
    }
}

/// The id in `dir`'s [`INSTANCE_FILE`], made (a random UUID, written to a temporary
/// file, synced and renamed into place) when there is none yet.
fn instance_id(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join(INSTANCE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            return match uuid::Uuid::parse_str(text.trim()) {
                Ok(id) if !id.is_nil() => Ok(id.hyphenated().to_string()),
                _ => Err(anyhow::anyhow!(
                    "{} does not hold this audit log's id (a UUID); delete it to give the log a new one (records already forwarded keep the old id)",
                    path.display()
                )),
            };
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(anyhow::Error::new(err).context(format!("reading {}", path.display())));
        }
    }
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    let temporary = dir.join(format!("{INSTANCE_FILE}.new"));
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut file = File::create(&temporary)?;
        writeln!(file, "{id}")?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    };
    write().with_context(|| format!("writing {}", path.display()))?;
    // As for segments: a file system that cannot sync a directory still gets the file.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval_config(dir: &Path) -> AuditConfig {
        AuditConfig {
            dir: Some(dir.to_path_buf()),
            sync: SyncMode::Interval,
            sync_interval_ms: 5,
            checkpoint_every: 7,
            // Small segments: appends rotate on the appending thread too.
            segment_bytes: 2_000,
            ..AuditConfig::default()
        }
    }

    /// A log keeps its id across reopening; another directory's log has another; a
    /// directory whose id file was damaged is refused rather than given a new id.
    #[test]
    fn a_log_keeps_its_own_id() {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let first = {
            let log = AuditLog::open(&interval_config(one.path()))
                .unwrap()
                .unwrap();
            log.instance_id().to_owned()
        };
        let again = AuditLog::open(&interval_config(one.path()))
            .unwrap()
            .unwrap();
        assert_eq!(again.instance_id(), first);
        drop(again);
        let other = AuditLog::open(&interval_config(two.path()))
            .unwrap()
            .unwrap();
        assert_ne!(other.instance_id(), first);
        drop(other);
        for damaged in ["not an id\n", "", "00000000-0000-0000-0000-000000000000\n"] {
            std::fs::write(two.path().join(INSTANCE_FILE), damaged).unwrap();
            let refused = AuditLog::open(&interval_config(two.path())).map(|_| ());
            let message = refused.unwrap_err().to_string();
            assert!(
                message.contains("delete it to give the log a new one"),
                "{message}"
            );
        }
        // Written in another form, the id is sent in the usual one.
        std::fs::write(
            two.path().join(INSTANCE_FILE),
            "{0B8E6C2A-5D1F-4F3E-9A7B-2C4D6E8F0A1B}",
        )
        .unwrap();
        let log = AuditLog::open(&interval_config(two.path()))
            .unwrap()
            .unwrap();
        assert_eq!(log.instance_id(), "0b8e6c2a-5d1f-4f3e-9a7b-2c4d6e8f0a1b");
    }

    /// An unawaited append's refusal reaches its callback in both modes: from the
    /// group writer's thread when the log is full, and at once when the log is closed.
    #[tokio::test]
    async fn refusals_of_unawaited_appends_are_heard() {
        for sync in [SyncMode::Group, SyncMode::Interval] {
            let dir = tempfile::tempdir().unwrap();
            let config = AuditConfig {
                sync,
                // Room for a few records and nothing to reclaim: the log fills.
                max_bytes: 3_000,
                segment_bytes: 3_000,
                retention_days: 0,
                ..interval_config(dir.path())
            };
            let log = AuditLog::open(&config).unwrap().unwrap();
            let (refused, heard) = mpsc::channel();
            let on_refused = |n: usize| -> OnRefused {
                let refused = refused.clone();
                Box::new(move |err| {
                    let _ = refused.send((n, err));
                })
            };
            for n in 0..20 {
                let body = format!("{{\"n\":{n},\"pad\":\"{}\"}}", "x".repeat(400));
                log.append_unawaited(Kind::Event, body.into_bytes(), on_refused(n));
            }
            let (_, err) = heard
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{sync:?}: no refusal heard"));
            assert_eq!(err, AppendError::Full, "{sync:?}");
            log.shutdown(Duration::ZERO).await;
            while heard.try_recv().is_ok() {}
            log.append_unawaited(Kind::Event, b"{}".to_vec(), on_refused(99));
            assert_eq!(heard.try_recv(), Ok((99, AppendError::Closed)), "{sync:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn interval_appends_from_many_tasks_form_one_verified_chain_and_become_durable() {
        let dir = tempfile::tempdir().unwrap();
        let log = Arc::new(
            AuditLog::open(&interval_config(dir.path()))
                .unwrap()
                .unwrap(),
        );
        let mut durable = log.durable();
        let tasks: Vec<_> = (0..16)
            .map(|t| {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let mut seqs = Vec::new();
                    for n in 0..25 {
                        let body = format!("{{\"task\":{t},\"n\":{n}}}").into_bytes();
                        seqs.push(log.append_body(body).await.unwrap());
                    }
                    seqs
                })
            })
            .collect();
        let mut seqs = Vec::new();
        for task in tasks {
            let mine = task.await.unwrap();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
            seqs.extend(mine);
        }
        let last = *seqs.iter().max().unwrap();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 400, "every append has its own sequence number");

        // The syncer reports the appended records durable without any further append.
        tokio::time::timeout(Duration::from_secs(10), durable.wait_for(|d| *d >= last))
            .await
            .expect("fsynced within the interval")
            .unwrap();

        log.shutdown(Duration::ZERO).await;
        assert_eq!(
            log.append_body(b"{}".to_vec()).await,
            Err(AppendError::Closed),
            "a closed log refuses rather than losing the record"
        );
        let report = verify::verify(dir.path(), None).unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!(report.events, 400);
        assert!(
            report.segments > 1,
            "rotation happened: {}",
            report.segments
        );
        assert_eq!(report.last_checkpoint_covers, Some(report.last_seq - 1));
    }
}
