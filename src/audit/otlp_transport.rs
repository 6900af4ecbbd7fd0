//! Which OTLP transport carries each signal, and to which endpoint: the standard `OTEL_*`
//! environment variables, read one way for both OTLP paths, the direct exporter
//! ([`super::otel`]) and the durable log's forwarder ([`super::log::forward`]).
//!
//! - Protocol: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`,
//!   else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`. The other value is `grpc`;
//!   `http/json` is not built in and is refused with the variable named.
//! - Endpoint: the signal's own variable (`…_TRACES_ENDPOINT`, `…_LOGS_ENDPOINT`) is used
//!   as is; a base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`, or `[audit.forward] endpoint`) gets
//!   `/v1/traces` or `/v1/logs` appended for HTTP and is used as is for gRPC, whose
//!   request path comes from the service definition. Defaults: `http://localhost:4318`
//!   (HTTP) and `http://localhost:4317` (gRPC), the collector's standard ports.
//!
//! - TLS: an `https://` endpoint is verified against the system's trusted roots, or
//!   against only the PEM certificates in `OTEL_EXPORTER_OTLP_CERTIFICATE` when it is
//!   set (a private collector CA). `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE` and
//!   `OTEL_EXPORTER_OTLP_CLIENT_KEY` (PEM, both or neither) present a client certificate
//!   (mutual TLS). Both transports, both paths; an unreadable file is an error at start.
//!
//! Why Customs reads these itself rather than leaving them to `opentelemetry-otlp`: the
//! forwarder is not an SDK exporter (it sends the log's own messages, with ids derived
//! from each decision), and both paths must mean the same thing by one set of variables.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `OTEL_EXPORTER_OTLP_PROTOCOL`: the protocol of every signal without its own.
pub const PROTOCOL_VAR: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: the base URL of every signal without its own.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// An OTLP transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum OtlpProtocol {
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), port 4318. The default.
    #[default]
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
    /// OTLP/gRPC (`grpc`), port 4317: HTTP/2, over TLS for an `https://` endpoint.
    #[serde(rename = "grpc")]
    Grpc,
}

/// `OTEL_EXPORTER_OTLP_CERTIFICATE`: PEM roots that alone verify the collector.
pub const CERTIFICATE_VAR: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: PEM client certificate chain (mutual TLS).
pub const CLIENT_CERTIFICATE_VAR: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: PEM private key of the client certificate.
pub const CLIENT_KEY_VAR: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";

/// The TLS material for `https://` collectors, as files named by the standard variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// Roots that replace the system's (`OTEL_EXPORTER_OTLP_CERTIFICATE`).
    pub ca: Option<PathBuf>,
    /// Client certificate chain (`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`).
    pub client_certificate: Option<PathBuf>,
    /// Its private key (`OTEL_EXPORTER_OTLP_CLIENT_KEY`).
    pub client_key: Option<PathBuf>,
}

/// The PEM contents of [`TlsFiles`], read and checked.
#[derive(Clone, Default)]
pub struct TlsMaterial {
    ca: Option<Vec<u8>>,
    /// (certificate chain, key).
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca.is_some())
            .field("identity", &self.identity.is_some())
            .finish()
    }
}

impl TlsFiles {
    /// The files named in the process environment.
    pub fn from_env() -> TlsFiles {
        TlsFiles::from_lookup(env)
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> TlsFiles {
        TlsFiles {
            ca: lookup(CERTIFICATE_VAR).map(PathBuf::from),
            client_certificate: lookup(CLIENT_CERTIFICATE_VAR).map(PathBuf::from),
            client_key: lookup(CLIENT_KEY_VAR).map(PathBuf::from),
        }
    }

    /// Reads the files. Errors name the variable and the file, never their contents.
    pub fn load(&self) -> Result<TlsMaterial, String> {
        fn read(var: &str, path: &Path) -> Result<Vec<u8>, String> {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("{var}: cannot read {}: {e}", path.display()))?;
            if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
                return Err(format!("{var}: {} holds no PEM block", path.display()));
            }
            Ok(bytes)
        }
        let ca = self
            .ca
            .as_deref()
            .map(|p| read(CERTIFICATE_VAR, p))
            .transpose()?;
        let identity = match (&self.client_certificate, &self.client_key) {
            (Some(cert), Some(key)) => Some((
                read(CLIENT_CERTIFICATE_VAR, cert)?,
                read(CLIENT_KEY_VAR, key)?,
            )),
            (None, None) => None,
            _ => {
                return Err(format!(
                    "{CLIENT_CERTIFICATE_VAR} and {CLIENT_KEY_VAR} go together: set both or neither"
                ));
            }
        };
        Ok(TlsMaterial { ca, identity })
    }
}

impl TlsMaterial {
    /// The gRPC client's TLS settings: the given roots only, else the system's.
    pub fn grpc(&self) -> tonic::transport::ClientTlsConfig {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let config = match &self.ca {
            Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)),
            None => ClientTlsConfig::new().with_native_roots(),
        };
        match &self.identity {
            Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
            None => config,
        }
    }

    /// Whether any file was given (else the defaults: system roots, no client certificate).
    pub fn is_empty(&self) -> bool {
        self.ca.is_none() && self.identity.is_none()
    }

    fn roots(&self) -> Result<Option<Vec<reqwest::Certificate>>, String> {
        self.ca
            .as_deref()
            .map(|ca| {
                reqwest::Certificate::from_pem_bundle(ca)
                    .map_err(|e| format!("{CERTIFICATE_VAR}: {e}"))
            })
            .transpose()
    }

    fn identity(&self) -> Result<Option<reqwest::Identity>, String> {
        self.identity
            .as_ref()
            .map(|(cert, key)| {
                let pem = [cert.as_slice(), b"\n", key.as_slice()].concat();
                reqwest::Identity::from_pem(&pem)
                    .map_err(|e| format!("{CLIENT_CERTIFICATE_VAR}/{CLIENT_KEY_VAR}: {e}"))
            })
            .transpose()
    }

    /// An HTTP client builder with the same roots and client certificate.
    pub fn http(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, String> {
        let mut builder = builder;
        if let Some(roots) = self.roots()? {
            builder = builder.tls_certs_only(roots);
        }
        if let Some(identity) = self.identity()? {
            builder = builder.identity(identity);
        }
        Ok(builder)
    }

    /// The same for a blocking client (the direct exporter's HTTP transport).
    pub fn http_blocking(
        &self,
        builder: reqwest::blocking::ClientBuilder,
    ) -> Result<reqwest::blocking::ClientBuilder, String> {
        let mut builder = builder;
        if let Some(roots) = self.roots()? {
            builder = builder.tls_certs_only(roots);
        }
        if let Some(identity) = self.identity()? {
            builder = builder.identity(identity);
        }
        Ok(builder)
    }
}

/// An OTLP signal Customs sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Spans: the request span and its `apply_guardrail` child.
    Traces,
    /// Log records: `customs.decision` and the log's checkpoints.
    Logs,
}

/// A protocol variable holds a value this build does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not supported: use \"http/protobuf\" (the default) or \"grpc\"")]
pub struct UnsupportedProtocol {
    variable: String,
    value: String,
}

impl UnsupportedProtocol {
    /// The environment variable that holds the value.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

impl OtlpProtocol {
    /// `http/protobuf` or `grpc` (any case, surrounding blanks ignored).
    pub fn parse(value: &str) -> Option<OtlpProtocol> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("http/protobuf") {
            Some(OtlpProtocol::HttpProtobuf)
        } else if value.eq_ignore_ascii_case("grpc") {
            Some(OtlpProtocol::Grpc)
        } else {
            None
        }
    }

    /// The name the variables use.
    pub fn as_str(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::Grpc => "grpc",
        }
    }

    /// The collector's standard address for this protocol.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            OtlpProtocol::HttpProtobuf => "http://localhost:4318",
            OtlpProtocol::Grpc => "http://localhost:4317",
        }
    }

    /// The protocol for `signal` from the process environment.
    pub fn from_env(signal: Signal) -> Result<OtlpProtocol, UnsupportedProtocol> {
        OtlpProtocol::from_lookup(signal, env)
    }

    /// The protocol for `signal` from `lookup` (a variable's non-empty value).
    fn from_lookup(
        signal: Signal,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<OtlpProtocol, UnsupportedProtocol> {
        let own = signal.var("PROTOCOL");
        for variable in [own.as_str(), PROTOCOL_VAR] {
            if let Some(value) = lookup(variable) {
                return OtlpProtocol::parse(&value).ok_or_else(|| UnsupportedProtocol {
                    variable: variable.to_owned(),
                    value,
                });
            }
        }
        Ok(OtlpProtocol::default())
    }
}

impl Signal {
    /// The OTLP/HTTP path under a base URL.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
        }
    }

    /// `OTEL_EXPORTER_OTLP_{TRACES,LOGS}_{suffix}`.
    fn var(self, suffix: &str) -> String {
        let signal = match self {
            Signal::Traces => "TRACES",
            Signal::Logs => "LOGS",
        };
        format!("OTEL_EXPORTER_OTLP_{signal}_{suffix}")
    }
}

/// The URL `signal` is sent to under a base URL: `/v1/…` appended for HTTP, as is for
/// gRPC.
pub fn join(protocol: OtlpProtocol, base: &str, signal: Signal) -> String {
    let base = base.trim_end_matches('/');
    match protocol {
        OtlpProtocol::HttpProtobuf => format!("{base}{}", signal.http_path()),
        OtlpProtocol::Grpc => base.to_owned(),
    }
}

/// The URL `signal` is sent to: under `base` when given (a configured endpoint wins over
/// the environment), else the signal's endpoint variable, else under
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, else under the protocol's default.
pub fn endpoint(signal: Signal, protocol: OtlpProtocol, base: Option<&str>) -> String {
    endpoint_from_lookup(signal, protocol, base, env)
}

fn endpoint_from_lookup(
    signal: Signal,
    protocol: OtlpProtocol,
    base: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> String {
    if let Some(base) = base {
        return join(protocol, base, signal);
    }
    if let Some(url) = lookup(&signal.var("ENDPOINT")) {
        return url;
    }
    let base = lookup(ENDPOINT_VAR);
    join(
        protocol,
        base.as_deref().unwrap_or(protocol.default_endpoint()),
        signal,
    )
}

/// Whether the environment names an OTLP endpoint (general or for either signal): what
/// turns OTLP export on.
pub fn endpoint_in_env() -> bool {
    [
        ENDPOINT_VAR.to_owned(),
        Signal::Traces.var("ENDPOINT"),
        Signal::Logs.var("ENDPOINT"),
    ]
    .iter()
    .any(|name| env(name).is_some())
}

/// A variable's value, unset when empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_signal_protocol_wins_over_the_general_one_and_http_protobuf_is_the_default() {
        let none = vars(&[]);
        assert_eq!(
            OtlpProtocol::from_lookup(Signal::Traces, &none),
            Ok(OtlpProtocol::HttpProtobuf)
        );
        let general = vars(&[(PROTOCOL_VAR, "grpc")]);
        assert_eq!(
            OtlpProtocol::from_lookup(Signal::Logs, &general),
            Ok(OtlpProtocol::Grpc)
        );
        let mixed = vars(&[
            (PROTOCOL_VAR, "grpc"),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "HTTP/Protobuf"),
        ]);
        assert_eq!(
            OtlpProtocol::from_lookup(Signal::Logs, &mixed),
            Ok(OtlpProtocol::HttpProtobuf)
        );
        assert_eq!(
            OtlpProtocol::from_lookup(Signal::Traces, &mixed),
            Ok(OtlpProtocol::Grpc)
        );
    }

    #[test]
    fn an_unsupported_protocol_is_refused_with_its_variable() {
        let json = vars(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")]);
        let error = OtlpProtocol::from_lookup(Signal::Traces, &json).unwrap_err();
        assert_eq!(error.variable(), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        assert!(error.to_string().contains("http/json"), "{error}");
        assert_eq!(
            OtlpProtocol::from_lookup(Signal::Logs, &json),
            Ok(OtlpProtocol::HttpProtobuf),
            "the other signal is unaffected"
        );
    }

    #[test]
    fn endpoints_follow_the_protocol() {
        let none = vars(&[]);
        assert_eq!(
            endpoint_from_lookup(Signal::Traces, OtlpProtocol::Grpc, None, &none),
            "http://localhost:4317"
        );
        assert_eq!(
            endpoint_from_lookup(Signal::Logs, OtlpProtocol::HttpProtobuf, None, &none),
            "http://localhost:4318/v1/logs"
        );
        let base = vars(&[(ENDPOINT_VAR, "http://collector:4317/")]);
        assert_eq!(
            endpoint_from_lookup(Signal::Logs, OtlpProtocol::Grpc, None, &base),
            "http://collector:4317"
        );
        assert_eq!(
            endpoint_from_lookup(Signal::Logs, OtlpProtocol::HttpProtobuf, None, &base),
            "http://collector:4317/v1/logs"
        );
        let own = vars(&[
            (ENDPOINT_VAR, "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:9999/custom",
            ),
        ]);
        assert_eq!(
            endpoint_from_lookup(Signal::Traces, OtlpProtocol::HttpProtobuf, None, &own),
            "http://traces:9999/custom",
            "a signal endpoint is used as is"
        );
        assert_eq!(
            endpoint_from_lookup(
                Signal::Traces,
                OtlpProtocol::Grpc,
                Some("http://configured:4317"),
                &own
            ),
            "http://configured:4317",
            "a configured endpoint wins over the environment"
        );
    }

    #[test]
    fn tls_files_come_from_the_standard_variables_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("ca.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let junk = dir.path().join("junk.txt");
        std::fs::write(&junk, "not a certificate").unwrap();
        let pem_s = pem.display().to_string();
        let junk_s = junk.display().to_string();

        let none = TlsFiles::from_lookup(vars(&[]));
        assert_eq!(none, TlsFiles::default());
        assert!(none.load().unwrap().is_empty());

        let ca = TlsFiles::from_lookup(vars(&[(CERTIFICATE_VAR, pem_s.as_str())]));
        assert_eq!(ca.ca.as_deref(), Some(pem.as_path()));
        assert!(!ca.load().unwrap().is_empty());

        let half = TlsFiles::from_lookup(vars(&[(CLIENT_CERTIFICATE_VAR, pem_s.as_str())]));
        let error = half.load().unwrap_err();
        assert!(error.contains(CLIENT_KEY_VAR), "{error}");

        let missing = TlsFiles::from_lookup(vars(&[(CERTIFICATE_VAR, "/nonexistent/ca.pem")]));
        let error = missing.load().unwrap_err();
        assert!(error.contains(CERTIFICATE_VAR), "{error}");
        assert!(error.contains("/nonexistent/ca.pem"), "{error}");

        let not_pem = TlsFiles::from_lookup(vars(&[
            (CLIENT_CERTIFICATE_VAR, pem_s.as_str()),
            (CLIENT_KEY_VAR, junk_s.as_str()),
        ]));
        let error = not_pem.load().unwrap_err();
        assert!(
            error.contains(CLIENT_KEY_VAR) && error.contains("no PEM"),
            "{error}"
        );
        assert!(
            !error.contains("not a certificate"),
            "contents stay out: {error}"
        );
    }
}
