//! accept, before the first byte of HTTP: TLS termination, when `customs serve` is given
//! a certificate (`[server] tls_cert` / `tls_key`, or `--tls-cert` / `--tls-key`).
//!
//! [`load_server_config`] reads the PEM files once at startup; a file that cannot be used
//! is an error naming it, and no error ever carries the files' contents. [`TlsListener`]
//! is an axum listener: a background task accepts TCP connections and runs each TLS
//! handshake in a task of its own, bounded by a timeout ([`HANDSHAKE_TIMEOUT`] in
//! `serve`), and hands finished streams over a queue to [`crate::server::serve`]. This is
//! why a slow or broken client (a scanner, a plain-HTTP request on the HTTPS port, a
//! client that connects and says nothing) costs one task for at most the timeout, never
//! holds up other connections and never stops the server; its failure is logged at
//! debug with the peer address and rustls' reason, which holds no secret. After the
//! handshake everything is the plain listener's path: HTTP/2 or HTTP/1.1 (ALPN offers
//! both), graceful shutdown, and `ConnectInfo<SocketAddr>` for the pipeline.
//!
//! The crypto is rustls over aws-lc-rs, the stack already used for upstream calls and
//! token verification; the provider is passed explicitly, so no process-wide default is
//! installed or needed.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject as _};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// Time a client gets to complete the TLS handshake before its connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Application protocols offered in ALPN, preferred first.
const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Handshaken connections waiting for the HTTP server to take them.
const READY_QUEUE: usize = 64;

/// Which of the two files an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    /// The certificate chain (`tls_cert`).
    Certificate,
    /// The private key (`tls_key`).
    Key,
}

impl fmt::Display for TlsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsFile::Certificate => "TLS certificate file",
            TlsFile::Key => "TLS key file",
        })
    }
}

/// A certificate or key file that cannot be used. The message names the file and says
/// what is wrong with it; it never quotes the file's contents.
#[derive(Debug, thiserror::Error)]
#[error("{kind} {}: {problem}", path.display())]
pub struct TlsConfigError {
    kind: TlsFile,
    path: PathBuf,
    problem: String,
}

impl TlsConfigError {
    fn new(kind: TlsFile, path: &Path, problem: impl Into<String>) -> TlsConfigError {
        TlsConfigError {
            kind,
            path: path.to_owned(),
            problem: problem.into(),
        }
    }

    /// Which file is at fault.
    pub fn file(&self) -> TlsFile {
        self.kind
    }

    /// The path of the file at fault, as configured.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a PEM certificate chain (leaf first, then intermediates) and its PEM private key
/// (PKCS#8, PKCS#1 or SEC1, unencrypted) into a server configuration offering HTTP/2 and
/// HTTP/1.1 by ALPN, TLS 1.3 and 1.2.
pub fn load_server_config(
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let cert_pem = read(TlsFile::Certificate, cert_path)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsConfigError::new(TlsFile::Certificate, cert_path, pem_problem(&err)))?;
    if chain.is_empty() {
        return Err(TlsConfigError::new(
            TlsFile::Certificate,
            cert_path,
            "holds no PEM CERTIFICATE block",
        ));
    }

    let key_pem = read(TlsFile::Key, key_path)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|err| {
        let problem = match err {
            pem::Error::NoItemsFound => {
                "holds no unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
            }
            other => pem_problem(&other),
        };
        TlsConfigError::new(TlsFile::Key, key_path, problem)
    })?;

    let provider = Arc::new(aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsConfigError::new(TlsFile::Key, key_path, err.to_string()))?
        .with_no_client_auth()
        // Also checks that the key is the certificate's.
        .with_single_cert(chain, key)
        .map_err(|err| {
            TlsConfigError::new(
                TlsFile::Key,
                key_path,
                format!(
                    "cannot be used with the certificate in {}: {err}",
                    cert_path.display()
                ),
            )
        })?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

fn read(kind: TlsFile, path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path)
        .map_err(|err| TlsConfigError::new(kind, path, format!("cannot be read: {err}")))
}

/// What is wrong with a PEM file, in words that never quote it (a malformed line of a key
/// file could be key material).
fn pem_problem(err: &pem::Error) -> &'static str {
    match err {
        pem::Error::NoItemsFound => "holds no PEM block of the expected type",
        pem::Error::MissingSectionEnd { .. } => "is not valid PEM: a section has no END line",
        pem::Error::IllegalSectionStart { .. } => "is not valid PEM: a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "is not valid PEM: a section is not valid base64",
        pem::Error::SectionTooLarge => "is not valid PEM: a section is too large",
        _ => "is not valid PEM",
    }
}

/// A TLS listener for [`crate::server::serve`]: TCP connections are accepted and
/// handshaken in the background, concurrently, and only finished TLS streams come out of
/// [`Listener::accept`]. Dropping it (as the server does on shutdown) closes the port
/// and abandons handshakes still in progress.
#[derive(Debug)]
pub struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` with `config`; a client that has not finished its
    /// handshake after `handshake_timeout` is disconnected. Must be called within a Tokio
    /// runtime.
    pub fn new(
        listener: TcpListener,
        config: Arc<ServerConfig>,
        handshake_timeout: Duration,
    ) -> io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (ready_tx, ready) = mpsc::channel(READY_QUEUE);
        let acceptor = tokio::spawn(accept_loop(
            listener,
            TlsAcceptor::from(config),
            handshake_timeout,
            ready_tx,
        ));
        Ok(TlsListener {
            local_addr,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped; should its task die
            // anyway, accept nothing more rather than spin.
            None => {
                tracing::error!(listen = %self.local_addr, "the TLS accept loop stopped; no new connections are accepted");
                std::future::pending().await
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// Accepts TCP connections and starts one handshake task each, until the listener is
/// dropped. The handshakes live in a [`JoinSet`], so ending this task ends them too.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let mut handshakes = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    handshakes.spawn(handshake(
                        acceptor.clone(),
                        tcp,
                        peer,
                        handshake_timeout,
                        ready.clone(),
                    ));
                }
                Err(err) => accept_error(err).await,
            },
            // Reap finished handshakes so the set does not grow.
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => {}
            () = ready.closed() => return,
        }
    }
}

async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => {
            // A closed queue means the server is shutting down: the connection is dropped.
            let _ = ready.send((stream, peer)).await;
        }
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "TLS handshake failed; connection closed");
        }
        Err(_) => {
            tracing::debug!(
                %peer,
                timeout_secs = timeout.as_secs_f64(),
                "TLS handshake timed out; connection closed"
            );
        }
    }
}

/// As axum does for its own TCP listener: a failed connection is skipped, anything else
/// (out of file descriptors) is logged and waited out.
async fn accept_error(err: io::Error) {
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a TCP connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn self_signed() -> (String, String) {
        let rcgen::CertifiedKey { cert, signing_key } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        (cert.pem(), signing_key.serialize_pem())
    }

    #[test]
    fn a_certificate_and_its_key_load_with_h2_and_http1_offered() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed();
        let config = load_server_config(
            &write(dir.path(), "cert.pem", &cert),
            &write(dir.path(), "key.pem", &key),
        )
        .unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn errors_name_the_file_and_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_pem, key_pem) = self_signed();
        let cert = write(dir.path(), "cert.pem", &cert_pem);

        let missing = dir.path().join("missing.pem");
        let err = load_server_config(&cert, &missing).unwrap_err();
        assert_eq!((err.file(), err.path()), (TlsFile::Key, missing.as_path()));
        assert!(err.to_string().starts_with("TLS key file "), "{err}");
        assert!(
            err.to_string().contains("missing.pem: cannot be read"),
            "{err}"
        );

        let not_a_cert = write(dir.path(), "not-a-cert.pem", &key_pem);
        let err = load_server_config(&not_a_cert, &missing).unwrap_err();
        assert_eq!(err.file(), TlsFile::Certificate);
        assert!(err.to_string().contains("no PEM CERTIFICATE"), "{err}");

        // A key body that is not base64, and a malformed BEGIN line: named, not quoted.
        let secret = "c2VjcmV0LWtleS1tYXRlcmlhbA";
        for text in [
            format!("-----BEGIN PRIVATE KEY-----\n{secret}!!\n-----END PRIVATE KEY-----\n"),
            format!("-----BEGIN {secret}\n"),
        ] {
            let key = write(dir.path(), "bad-key.pem", &text);
            let err = load_server_config(&cert, &key).unwrap_err();
            assert_eq!(err.file(), TlsFile::Key);
            assert!(err.to_string().contains("bad-key.pem"), "{err}");
            assert!(!format!("{err} {err:?}").contains(secret), "{err:?}");
        }

        // The key of another certificate.
        let (_, other_key) = self_signed();
        let key = write(dir.path(), "other-key.pem", &other_key);
        let err = load_server_config(&cert, &key).unwrap_err();
        assert_eq!(err.file(), TlsFile::Key);
        assert!(
            err.to_string()
                .contains("cannot be used with the certificate"),
            "{err}"
        );
    }
}
