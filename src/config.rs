//! Typed configuration: one TOML file, every table and field documented, unknown fields
//! refused, and an embedded default so that `customs serve` runs with no file at all.
//!
//! Secrets never live in the file: upstream keys are read from the environment variables
//! the catalog names (`credential_env`), the fingerprint key from `CUSTOMS_HMAC_KEY`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::audit::log::AuditConfig;
use crate::identity::AuthConfig;
use crate::scan::strategy::{RedactionConfig, RedactionRules};

/// The embedded default configuration text.
pub const EMBEDDED_DEFAULT: &str = include_str!("../config/default.toml");

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listener, limits and timeouts.
    #[serde(default)]
    pub server: ServerConfig,
    /// Token verification and claim mapping.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Where the policies, catalog and classifiers come from.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Upstream overrides that belong to the platform, not the policy repository.
    #[serde(default)]
    pub upstream: UpstreamConfig,
    /// Logs and OpenTelemetry.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The durable, hash-chained decision log and its forwarder.
    #[serde(default)]
    pub audit: AuditConfig,
    /// The redaction strategy per data class (placeholder, mask, hash, fake, remove).
    #[serde(default)]
    pub redaction: RedactionConfig,
}

/// `[server]`: the accept phase.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Largest request body accepted; larger is 413.
    pub max_body_bytes: usize,
    /// Deepest JSON nesting accepted; deeper is 400.
    pub max_json_depth: usize,
    /// Time allowed to receive the request body; slower is 408.
    pub body_timeout_secs: u64,
    /// Time allowed to connect to an upstream.
    pub upstream_connect_timeout_secs: u64,
    /// Time allowed for an upstream to answer with headers; slower is 504.
    pub upstream_timeout_secs: u64,
    /// On SIGTERM/SIGINT, time given to in-flight requests to finish; what is still in
    /// flight then is cut short (503 `server_shutdown`, a provider stream broken off) and
    /// recorded.
    pub shutdown_grace_secs: u64,
    /// Requests handled at once, from arrival to the answer's head (a non-streamed
    /// request holds its slot while the provider generates; a stream's body does not
    /// hold one); one more is refused without being read, with 503 `overloaded` and
    /// `Retry-After`, and recorded. Limits how many request bodies are read and
    /// answers restored at once. 0: no limit.
    pub max_concurrent_requests: usize,
    /// TLS certificate chain (PEM, leaf first). With `tls_key`, the listener speaks HTTPS
    /// only (HTTP/2 and HTTP/1.1 by ALPN); both or neither.
    pub tls_cert: Option<PathBuf>,
    /// Private key of `tls_cert` (PEM: PKCS#8, PKCS#1 or SEC1, unencrypted).
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 4 * 1024 * 1024,
            max_json_depth: 64,
            body_timeout_secs: 30,
            upstream_connect_timeout_secs: 10,
            upstream_timeout_secs: 300,
            shutdown_grace_secs: 30,
            max_concurrent_requests: 1024,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `[policy]`: the decide phase's inputs.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// A policy directory (`*.cedar`, `catalog.toml`, `classifiers/*.toml`). Absent: the
    /// bundle compiled into the binary.
    pub dir: Option<PathBuf>,
    /// Seconds between polls of `dir` (and `shadow_dir`) for changes, which are then
    /// validated and swapped in; 0 turns the watch off (SIGHUP still reloads).
    pub watch_secs: u64,
    /// A candidate policy directory evaluated beside the enforced one (shadow mode):
    /// its decision is recorded in each event's `shadow` field and never acted on.
    pub shadow_dir: Option<PathBuf>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            dir: None,
            watch_secs: 5,
            shadow_dir: None,
        }
    }
}

/// `[upstream]`: platform-side overrides of the catalog.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// Deployment id → base URL, replacing the catalog's (private endpoints, staging).
    pub base_urls: BTreeMap<String, String>,
    /// Deployment id → environment variable holding its key, replacing the catalog's.
    pub credential_envs: BTreeMap<String, String>,
    /// Return answers with the placeholders the model echoed as they are, instead of
    /// restoring the caller's own values in them (the default restores).
    pub keep_placeholders: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (for collectors).
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// `[telemetry]`: the record phase's outputs. OTLP export is configured by the standard
/// `OTEL_*` environment variables and is on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or a
/// signal-specific endpoint) is set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Log format on stderr.
    pub log_format: LogFormat,
    /// `service.name` of the OpenTelemetry resource (`OTEL_SERVICE_NAME` wins).
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            log_format: LogFormat::Json,
            service_name: "customs".to_owned(),
        }
    }
}

impl Config {
    /// The embedded default: bundled policies, loopback listener, development key trusted.
    pub fn embedded() -> anyhow::Result<Config> {
        let mut config = Config::parse(EMBEDDED_DEFAULT).context("embedded default config")?;
        config.auth.trust_dev_key = true;
        Ok(config)
    }

    /// Parses a configuration text. The development key is never trusted from a file.
    /// Sections that can be checked on their own are (`[redaction]`: strategies, names,
    /// ties between rules), so a bad file fails here with the rule named.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        RedactionRules::compile(&config.redaction)
            .map_err(|e| anyhow::anyhow!("[redaction]: {e}"))?;
        Ok(config)
    }

    /// Reads and parses a configuration file; the error names the file.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config =
            Config::parse(&text).with_context(|| format!("config {}", path.display()))?;
        // Relative paths in a file are relative to the file, not to the working directory.
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for relative in [
            &mut config.policy.dir,
            &mut config.policy.shadow_dir,
            &mut config.auth.jwks_file,
            &mut config.audit.dir,
            &mut config.audit.signing_key_file,
            &mut config.server.tls_cert,
            &mut config.server.tls_key,
        ] {
            if let Some(p) = relative.as_ref()
                && p.is_relative()
            {
                *relative = Some(base.join(p));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_trusts_dev_key() {
        let config = Config::embedded().unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert!(config.auth.trust_dev_key);
        assert!(config.policy.dir.is_none());
    }

    #[test]
    fn a_file_can_never_trust_the_dev_key() {
        let config = Config::parse(EMBEDDED_DEFAULT).unwrap();
        assert!(!config.auth.trust_dev_key);
        assert!(Config::parse("[auth]\ntrust_dev_key = true\n").is_err());
    }

    #[test]
    fn relative_paths_are_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("customs.toml");
        std::fs::write(
            &path,
            "[server]\ntls_cert = \"tls/cert.pem\"\n[policy]\ndir = \"policies\"\n[auth]\njwks_file = \"keys/jwks.json\"\n",
        )
        .unwrap();
        let config = Config::from_file(&path).unwrap();
        assert_eq!(config.policy.dir.unwrap(), dir.path().join("policies"));
        assert_eq!(
            config.auth.jwks_file.unwrap(),
            dir.path().join("keys/jwks.json")
        );
        assert_eq!(
            config.server.tls_cert.unwrap(),
            dir.path().join("tls/cert.pem")
        );
    }

    #[test]
    fn redaction_rules_are_checked_when_the_config_is_read() {
        let config = Config::parse(
            "[redaction]\ndefault = \"placeholder\"\n[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"mask\"\nkeep = 4\n[[redaction.rules]]\nclasses = [\"SECRET.*\"]\nstrategy = \"remove\"\n",
        )
        .unwrap();
        assert_eq!(config.redaction.rules.len(), 2);
        assert!(Config::embedded().unwrap().redaction.rules.is_empty());
        let err = Config::parse(
            "[[redaction.rules]]\nclasses = [\"SECRET.*\"]\nstrategy = \"remove\"\nkeep = 1\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("[redaction]: [[redaction.rules]] #1 (SECRET.*): `keep = 1`"),
            "{err}"
        );
        let err = Config::parse("[redaction]\nstrategy = \"mask\"\n").unwrap_err();
        assert!(err.to_string().contains("strategy"), "{err}");
        let err =
            Config::parse("[[redaction.rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"obfuscate\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("obfuscate"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = Config::parse("[server]\nlisten_addr = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(err.to_string().contains("listen_addr"), "{err}");
    }
}
