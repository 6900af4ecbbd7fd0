//! The forwarder: ships the durable log over OTLP/HTTP (protobuf) and remembers, per
//! signal, the last sequence number the collector acknowledged, in `DIR/forward.cursor`.
//!
//! It reads the segment files, not memory, so a collector outage and a restart are the
//! same case: it resumes after the cursor and sends everything since. It sends only
//! records already fsynced, retries a failed batch (the same records, the same ids) with
//! capped exponential backoff for as long as it takes, and never skips one.
//!
//! Guarantees. Every record reaches the collector at least once. A record is sent twice
//! only if Customs stops between the collector's acknowledgement of a batch and the
//! cursor's fsync (one batch, at most `max_batch` records), or if an export timed out
//! after the collector had stored it. Duplicates carry the same `customs.decision_id`,
//! `customs.audit.seq` and span ids, so the receiving side keeps each decision exactly
//! once by deduplicating on them (the KQL in `deploy/` does); in the tested cases
//! (outage, graceful restart) nothing is sent twice at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::Shared;
use super::config::ForwardConfig;
use super::otlp;
use super::segment::{OwnedRecord, Reader};

/// The cursor file's name in the log directory.
pub const CURSOR_FILE: &str = "forward.cursor";

/// Where the forwarder sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Full URL for logs (`…/v1/logs`).
    pub logs_url: String,
    /// Full URL for traces (`…/v1/traces`).
    pub traces_url: String,
    /// Extra headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. an API key for the collector.
    pub headers: Vec<(String, String)>,
}

impl Target {
    /// A target under an OTLP/HTTP base URL (`http://collector:4318`).
    pub fn base(url: &str) -> Target {
        let base = url.trim_end_matches('/');
        Target {
            logs_url: format!("{base}/v1/logs"),
            traces_url: format!("{base}/v1/traces"),
            headers: Vec::new(),
        }
    }

    /// The configured endpoint, else the standard `OTEL_EXPORTER_OTLP_*` environment;
    /// `None` when forwarding is off or no endpoint is known.
    pub fn resolve(config: &ForwardConfig) -> Option<Target> {
        if !config.enabled {
            return None;
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut target = match (&config.endpoint, env("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(url), _) => Target::base(url),
            (None, Some(url)) => Target::base(&url),
            (None, None) => {
                let logs = env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")?;
                let traces = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?;
                Target {
                    logs_url: logs,
                    traces_url: traces,
                    headers: Vec::new(),
                }
            }
        };
        if config.endpoint.is_none() {
            if let Some(url) = env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
                target.logs_url = url;
            }
            if let Some(url) = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
                target.traces_url = url;
            }
        }
        if let Some(headers) = env("OTEL_EXPORTER_OTLP_HEADERS") {
            target.headers = headers
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect();
        }
        Some(target)
    }
}

/// Last sequence number acknowledged, per signal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Log records (`/v1/logs`).
    pub logs: u64,
    /// Spans (`/v1/traces`).
    pub traces: u64,
}

impl Cursor {
    /// The cursor in `dir`, or zeros.
    pub fn load(dir: &Path) -> Cursor {
        std::fs::read(dir.join(CURSOR_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the cursor atomically (temporary file, fsync, rename, fsync directory).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let tmp = dir.join(format!("{CURSOR_FILE}.tmp"));
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        {
            let mut file = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(CURSOR_FILE))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Delivered on every signal.
    pub fn delivered(&self) -> u64 {
        self.logs.min(self.traces)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Logs,
    Traces,
}

struct Lane {
    signal: Signal,
    reader: Reader,
    pending: Vec<OwnedRecord>,
}

/// A running forwarder.
#[derive(Debug)]
pub(crate) struct Running {
    stop: watch::Sender<Option<Instant>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) fn start(
        dir: PathBuf,
        config: ForwardConfig,
        target: Target,
        service_name: String,
        shared: Arc<Shared>,
    ) -> Running {
        let (stop, stopping) = watch::channel(None);
        let task = tokio::spawn(async move {
            let forwarder = Forwarder {
                client: reqwest::Client::builder()
                    .timeout(Duration::from_millis(config.timeout_ms.max(1)))
                    .build()
                    .unwrap_or_default(),
                dir,
                config,
                target,
                service_name,
                shared,
            };
            forwarder.run(stopping).await;
        });
        Running { stop, task }
    }

    /// Delivers what is durable for at most `grace`, then stops.
    pub(crate) async fn stop(self, grace: Duration) {
        let _ = self.stop.send(Some(Instant::now() + grace));
        let _ = tokio::time::timeout(grace + Duration::from_secs(1), self.task).await;
    }
}

struct Forwarder {
    client: reqwest::Client,
    dir: PathBuf,
    config: ForwardConfig,
    target: Target,
    service_name: String,
    shared: Arc<Shared>,
}

impl Forwarder {
    async fn run(self, mut stopping: watch::Receiver<Option<Instant>>) {
        let mut cursor = Cursor::load(&self.dir);
        self.shared
            .delivered
            .store(cursor.delivered(), Ordering::Relaxed);
        let mut lanes = [
            Lane {
                signal: Signal::Logs,
                reader: Reader::new(&self.dir, cursor.logs + 1),
                pending: Vec::new(),
            },
            Lane {
                signal: Signal::Traces,
                reader: Reader::new(&self.dir, cursor.traces + 1),
                pending: Vec::new(),
            },
        ];
        let mut durable = self.shared.durable.subscribe();
        let mut failures: u32 = 0;
        loop {
            let upto = *durable.borrow_and_update();
            let mut idle = true;
            let mut failed = false;
            for lane in &mut lanes {
                if lane.pending.is_empty() {
                    match lane.reader.read(self.config.max_batch.max(1), upto) {
                        Ok(records) => lane.pending = records,
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "audit forwarder: cannot read the log");
                            failed = true;
                            continue;
                        }
                    }
                }
                let Some(last) = lane.pending.last().map(|r| r.seq) else {
                    continue;
                };
                idle = false;
                match self.export(lane.signal, &lane.pending).await {
                    Ok(()) => {
                        lane.pending.clear();
                        match lane.signal {
                            Signal::Logs => cursor.logs = last,
                            Signal::Traces => cursor.traces = last,
                        }
                        if let Err(e) = cursor.save(&self.dir) {
                            tracing::error!(error = %e, "audit forwarder: cannot save its cursor");
                        }
                        self.shared
                            .delivered
                            .store(cursor.delivered(), Ordering::Relaxed);
                        if failures > 0 {
                            tracing::info!(
                                after_failures = failures,
                                "audit forwarder: collector reachable again"
                            );
                            failures = 0;
                        }
                    }
                    Err(e) => {
                        failed = true;
                        failures = failures.saturating_add(1);
                        if failures == 1 || failures.is_power_of_two() {
                            tracing::warn!(error = %e, failures, "audit forwarder: export failed; retrying the same records");
                        }
                    }
                }
            }
            let deadline = *stopping.borrow();
            if let Some(deadline) = deadline {
                let caught_up = lanes
                    .iter()
                    .all(|l| l.pending.is_empty() && l.reader.next_seq() > upto);
                if (idle && caught_up) || Instant::now() >= deadline {
                    break;
                }
            }
            if failed {
                let backoff = Duration::from_millis(
                    (50u64 << failures.min(10)).min(self.config.max_backoff_ms.max(1)),
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopping.changed() => {}
                }
            } else if idle {
                tokio::select! {
                    _ = durable.changed() => {}
                    _ = stopping.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        if let Err(e) = cursor.save(&self.dir) {
            tracing::error!(error = %e, "audit forwarder: cannot save its cursor");
        }
    }

    async fn export(&self, signal: Signal, records: &[OwnedRecord]) -> Result<(), String> {
        let (url, body) = match signal {
            Signal::Logs => (
                &self.target.logs_url,
                otlp::logs_request(records, &self.service_name).encode_to_vec(),
            ),
            Signal::Traces => (
                &self.target.traces_url,
                otlp::traces_request(records, &self.service_name).encode_to_vec(),
            ),
        };
        let mut request = self
            .client
            .post(url)
            .header("content-type", "application/x-protobuf")
            .body(body);
        for (name, value) in &self.target.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            // reqwest's message names the URL, never the body.
            format!("{}", e.without_url())
        })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("collector answered {status}"))
        }
    }
}
