//! The forwarder: ships the durable log over OTLP, HTTP/protobuf or gRPC (per signal, by
//! `[audit.forward] protocol` or the standard `OTEL_*` variables, see
//! [`crate::audit::otlp_transport`]), and remembers, per signal, the last sequence number
//! the collector acknowledged, in `DIR/forward.cursor`.
//!
//! It reads the segment files, not memory, so a collector outage and a restart are the
//! same case: it resumes after the cursor and sends everything since. It sends only
//! records already fsynced, retries a failed batch (the same records, the same ids) with
//! capped exponential backoff for as long as it takes, and never skips one. Both
//! transports carry the same `ExportLogsServiceRequest` / `ExportTraceServiceRequest`
//! ([`super::otlp`]); an HTTP answer other than 2xx and a gRPC status other than `OK`
//! alike mean "not delivered".
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

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};

use super::Shared;
use super::config::ForwardConfig;
use super::otlp;
use super::segment::{OwnedRecord, Reader};
use crate::audit::otlp_transport::{self, OtlpProtocol, Signal, TlsFiles, TlsMaterial};

/// The cursor file's name in the log directory.
pub const CURSOR_FILE: &str = "forward.cursor";

/// Where one signal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The transport.
    pub protocol: OtlpProtocol,
    /// Full URL: `…/v1/logs` or `…/v1/traces` for HTTP, the collector's address for gRPC.
    pub url: String,
}

/// Where the forwarder sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Log records.
    pub logs: Destination,
    /// Spans.
    pub traces: Destination,
    /// Extra headers (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. an API key for the collector;
    /// gRPC metadata on the gRPC transport.
    pub headers: Vec<(String, String)>,
    /// TLS material for `https://` endpoints (`OTEL_EXPORTER_OTLP_CERTIFICATE`, ...).
    pub tls: TlsFiles,
}

impl Target {
    /// A target under one base URL (`http://collector:4318` for HTTP,
    /// `http://collector:4317` for gRPC).
    pub fn base(protocol: OtlpProtocol, url: &str) -> Target {
        let destination = |signal| Destination {
            protocol,
            url: otlp_transport::join(protocol, url, signal),
        };
        Target {
            logs: destination(Signal::Logs),
            traces: destination(Signal::Traces),
            headers: Vec::new(),
            tls: TlsFiles::default(),
        }
    }

    /// The configured endpoint and protocol, else the standard `OTEL_EXPORTER_OTLP_*`
    /// environment; `None` when forwarding is off or no endpoint is configured or named
    /// in the environment. A protocol variable with an unsupported value is reported and
    /// `http/protobuf` used (`customs serve` has already refused it at start when an
    /// endpoint variable is set).
    pub fn resolve(config: &ForwardConfig) -> Option<Target> {
        if !config.enabled || (config.endpoint.is_none() && !otlp_transport::endpoint_in_env()) {
            return None;
        }
        let destination = |signal| {
            let protocol = config.protocol.unwrap_or_else(|| {
                OtlpProtocol::from_env(signal).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "audit forwarder: using http/protobuf");
                    OtlpProtocol::HttpProtobuf
                })
            });
            Destination {
                protocol,
                url: otlp_transport::endpoint(signal, protocol, config.endpoint.as_deref()),
            }
        };
        let headers = std::env::var("OTEL_EXPORTER_OTLP_HEADERS")
            .map(|headers| {
                headers
                    .split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Some(Target {
            logs: destination(Signal::Logs),
            traces: destination(Signal::Traces),
            headers,
            tls: TlsFiles::from_env(),
        })
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
        tls: TlsMaterial,
        origin: otlp::Origin,
        shared: Arc<Shared>,
    ) -> Running {
        let (stop, stopping) = watch::channel(None);
        let task = tokio::spawn(async move {
            // Inside the runtime: a gRPC channel starts its connection task here.
            let timeout = Duration::from_millis(config.timeout_ms.max(1));
            let forwarder = Forwarder {
                client: http_client(&tls, timeout),
                logs: Route::new(&target.logs, timeout, &tls),
                traces: Route::new(&target.traces, timeout, &tls),
                metadata: grpc_metadata(&target.headers),
                dir,
                config,
                target,
                origin,
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

/// How one signal's batches travel.
enum Route {
    /// POSTed to this URL by the shared HTTP client.
    Http(String),
    /// Sent over this gRPC channel; `Err`: the endpoint cannot be used (every export then
    /// fails with this reason, and the records wait on disk).
    Grpc(Result<Channel, String>),
}

impl Route {
    fn new(destination: &Destination, timeout: Duration, tls: &TlsMaterial) -> Route {
        match destination.protocol {
            OtlpProtocol::HttpProtobuf => Route::Http(destination.url.clone()),
            OtlpProtocol::Grpc => {
                let channel = grpc_channel(&destination.url, timeout, tls);
                if let Err(e) = &channel {
                    tracing::error!(error = %e, "audit forwarder: cannot use the gRPC endpoint");
                }
                Route::Grpc(channel)
            }
        }
    }
}

/// The HTTP client with the TLS material. It was checked when the forwarder was asked
/// to start ([`check_tls`]); should building fail anyway, the client verifies against
/// the system's roots, which can only refuse more.
fn http_client(tls: &TlsMaterial, timeout: Duration) -> reqwest::Client {
    tls.http(reqwest::Client::builder().timeout(timeout))
        .and_then(|b| b.build().map_err(|e| e.to_string()))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "audit forwarder: TLS settings unusable");
            reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .unwrap_or_default()
        })
}

/// Checks that the TLS material makes a usable HTTP client and gRPC setting, so that a
/// bad certificate is an error at start rather than a forwarder that never delivers.
pub(crate) fn check_tls(tls: &TlsMaterial) -> Result<(), String> {
    tls.http(reqwest::Client::builder())?
        .build()
        .map_err(|e| format!("TLS settings: {e}"))?;
    Endpoint::from_static("https://localhost:4317")
        .tls_config(tls.grpc())
        .map_err(|e| format!("TLS settings for gRPC: {e}"))?;
    Ok(())
}

/// A lazily connecting channel to `url` (`http://host:4317`, or `https://` for TLS): it
/// connects on first use and reconnects after a failure, so an outage needs nothing
/// from the forwarder but its retries.
fn grpc_channel(url: &str, timeout: Duration, tls: &TlsMaterial) -> Result<Channel, String> {
    // The URL stays out of the message: it may carry credentials.
    // TLS settings apply to an `https://` URL only; `http://` stays plain HTTP/2.
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| format!("the gRPC endpoint is not a valid URI: {e}"))?
        .tls_config(tls.grpc())
        .map_err(|e| format!("TLS settings for gRPC: {e}"))?;
    Ok(endpoint
        .connect_timeout(timeout)
        .timeout(timeout)
        .connect_lazy())
}

/// `OTEL_EXPORTER_OTLP_HEADERS` as gRPC metadata; a header that cannot be metadata is
/// reported by name and left out.
fn grpc_metadata(headers: &[(String, String)]) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    for (name, value) in headers {
        match (
            MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) {
            (Ok(key), Ok(value)) => {
                metadata.insert(key, value);
            }
            _ => tracing::warn!(
                header = %name,
                "audit forwarder: header not usable as gRPC metadata; left out"
            ),
        }
    }
    metadata
}

struct Forwarder {
    client: reqwest::Client,
    logs: Route,
    traces: Route,
    metadata: MetadataMap,
    dir: PathBuf,
    config: ForwardConfig,
    target: Target,
    origin: otlp::Origin,
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
        let route = match signal {
            Signal::Logs => &self.logs,
            Signal::Traces => &self.traces,
        };
        match (route, signal) {
            (Route::Http(url), Signal::Logs) => {
                let body = otlp::logs_request(records, &self.origin).encode_to_vec();
                self.post(url, body).await
            }
            (Route::Http(url), Signal::Traces) => {
                let body = otlp::traces_request(records, &self.origin).encode_to_vec();
                self.post(url, body).await
            }
            (Route::Grpc(channel), Signal::Logs) => {
                let mut client = LogsServiceClient::new(channel.clone()?);
                let request = otlp::logs_request(records, &self.origin);
                let answer = client.export(self.grpc_request(request)).await;
                grpc_outcome(answer.map(|r| {
                    r.into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_log_records)
                }))
            }
            (Route::Grpc(channel), Signal::Traces) => {
                let mut client = TraceServiceClient::new(channel.clone()?);
                let request = otlp::traces_request(records, &self.origin);
                let answer = client.export(self.grpc_request(request)).await;
                grpc_outcome(answer.map(|r| {
                    r.into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_spans)
                }))
            }
        }
    }

    /// POSTs an encoded export request; a 2xx answer is delivery.
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<(), String> {
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

    fn grpc_request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = self.metadata.clone();
        request
    }
}

/// A gRPC answer as delivery: status `OK` is delivered (items the collector rejected in
/// a partial success are its decision, as over HTTP, and only counted in a warning); any
/// other status is not.
fn grpc_outcome(answer: Result<i64, tonic::Status>) -> Result<(), String> {
    match answer {
        Ok(0) => Ok(()),
        Ok(rejected) => {
            tracing::warn!(
                rejected,
                "audit forwarder: the collector accepted the batch but rejected some items"
            );
            Ok(())
        }
        // Transport failures and the collector's own status; the message is the
        // collector's or the transport's, never a record (records hold no content).
        Err(status) => Err(format!(
            "collector answered gRPC status {:?}: {}",
            status.code(),
            status.message().chars().take(200).collect::<String>()
        )),
    }
}
