//! `[audit]`: the durable decision log and its forwarder. Every field has a default; the
//! log is off unless `dir` is set (see ARCHITECTURE.md, "Audit trail", for why the
//! embedded default leaves it off).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::audit::otlp_transport::OtlpProtocol;

/// When an append waits for the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Group commit: an append returns once an `fsync` covers its record. The writer
    /// fsyncs once per batch (what arrived while the previous fsync ran, at most
    /// `max_batch` records, after waiting at most `max_wait_us` for more). Every
    /// acknowledged record is on disk; each request waits for a share of one fsync.
    Group,
    /// The default. An append returns once its record is chained and written to the
    /// file (the page cache), on the request's own thread; a syncer thread fsyncs every
    /// `sync_interval_ms`. A killed process loses nothing; a power loss (or kernel crash)
    /// may lose the records of the last interval.
    #[default]
    Interval,
}

/// What happens when the log reaches `max_bytes` and nothing can be reclaimed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Fail closed: new requests are refused with 503 `audit_log_full` before anything is
    /// forwarded.
    #[default]
    Refuse,
    /// Keep serving without a durable record: an error line per unrecorded event and the
    /// counter `customs_audit_unrecorded_total`.
    StopRecording,
}

/// `[audit]`: the durable, hash-chained decision log.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Directory of the log (segments, checkpoints, the forwarder's cursor). Absent: no
    /// durable log (events still go to the structured log and OTLP, best effort).
    pub dir: Option<PathBuf>,
    /// `interval` (default) or `group`.
    pub sync: SyncMode,
    /// Group commit: longest wait for more records before an fsync, in microseconds.
    pub max_wait_us: u64,
    /// Interval mode: time between fsyncs, in milliseconds.
    pub sync_interval_ms: u64,
    /// Most records written under one fsync.
    pub max_batch: usize,
    /// A segment is closed and a new one started when it would grow beyond this size.
    pub segment_bytes: u64,
    /// Disk budget of the whole log. When reached, closed segments already delivered by
    /// the forwarder are deleted oldest first; if none is, `when_full` applies.
    pub max_bytes: u64,
    /// Closed segments whose last write is older than this are deleted (0: never).
    pub retention_days: u64,
    /// `refuse` (default) or `stop_recording`.
    pub when_full: WhenFull,
    /// A signed checkpoint after this many records...
    pub checkpoint_every: u64,
    /// ...or after this many seconds with unsigned records, whichever comes first.
    pub checkpoint_interval_secs: u64,
    /// Ed25519 private key for checkpoints: PKCS#8 PEM (`openssl genpkey -algorithm
    /// ed25519`) or a 64-hex-digit seed (`customs audit keygen`). Absent: the seed in
    /// `CUSTOMS_AUDIT_SIGNING_KEY`, else a per-process key (a warning says so).
    pub signing_key_file: Option<PathBuf>,
    /// The forwarder that ships the log over OTLP.
    pub forward: ForwardConfig,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            dir: None,
            sync: SyncMode::Interval,
            max_wait_us: 0,
            sync_interval_ms: 10,
            max_batch: 512,
            segment_bytes: 64 * 1024 * 1024,
            max_bytes: 4 * 1024 * 1024 * 1024,
            retention_days: 90,
            when_full: WhenFull::Refuse,
            checkpoint_every: 10_000,
            checkpoint_interval_secs: 60,
            signing_key_file: None,
            forward: ForwardConfig::default(),
        }
    }
}

/// `[audit.forward]`: shipping the log over OTLP (HTTP/protobuf or gRPC).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardConfig {
    /// Ship the log when an endpoint is known (here or in `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// or a signal's endpoint variable).
    pub enabled: bool,
    /// OTLP base URL: `http://collector:4318` for `http/protobuf`, `http://collector:4317`
    /// for `grpc`; absent: the `OTEL_*` environment.
    pub endpoint: Option<String>,
    /// `"http/protobuf"` or `"grpc"` for both signals; absent: `OTEL_EXPORTER_OTLP_*_PROTOCOL`,
    /// else `http/protobuf`.
    pub protocol: Option<OtlpProtocol>,
    /// Most records per export request.
    pub max_batch: usize,
    /// Longest pause between retries after a failed export, in milliseconds.
    pub max_backoff_ms: u64,
    /// Time allowed for one export request, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for ForwardConfig {
    fn default() -> Self {
        ForwardConfig {
            enabled: true,
            endpoint: None,
            protocol: None,
            max_batch: 256,
            max_backoff_ms: 5_000,
            timeout_ms: 10_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forward_protocol_takes_the_otlp_names_and_defaults_to_the_environment() {
        let grpc: ForwardConfig =
            toml::from_str("endpoint = \"http://collector:4317\"\nprotocol = \"grpc\"").unwrap();
        assert_eq!(grpc.protocol, Some(OtlpProtocol::Grpc));
        let http: ForwardConfig = toml::from_str("protocol = \"http/protobuf\"").unwrap();
        assert_eq!(http.protocol, Some(OtlpProtocol::HttpProtobuf));
        assert_eq!(ForwardConfig::default().protocol, None);
        assert!(toml::from_str::<ForwardConfig>("protocol = \"http/json\"").is_err());
    }
}
