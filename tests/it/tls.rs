//! HTTPS: the gateway serving TLS itself, with a self-signed certificate made for
//! 127.0.0.1 at test time. Both HTTP versions by ALPN, the client address still reaching
//! the decision event, broken and silent clients not disturbing anyone else, graceful
//! shutdown, bad files named at startup, and the `--tls-cert` / `--tls-key` flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use customs::audit::{DecisionEvent, Fingerprinter, Recorder};
use customs::config::Config;
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use customs::server::tls::{HANDSHAKE_TIMEOUT, TlsFile, TlsListener, load_server_config};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_customs");

/// A self-signed certificate for 127.0.0.1 and localhost, written as `cert.pem` and
/// `key.pem` into `dir`; returns the certificate's PEM.
fn write_self_signed(dir: &Path) -> String {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), signing_key.serialize_pem()).unwrap();
    cert.pem()
}

/// A client that trusts only `cert_pem`.
fn https_client(cert_pem: &str) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(20))
}

/// The gateway in-process behind a [`TlsListener`], decision events kept in memory.
struct TlsGateway {
    addr: SocketAddr,
    cert_pem: String,
    events: Arc<Mutex<Vec<DecisionEvent>>>,
    stop: Option<oneshot::Sender<()>>,
    served: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TlsGateway {
    async fn start(config: Config, handshake_timeout: Duration) -> TlsGateway {
        let dir = tempfile::tempdir().unwrap();
        let cert_pem = write_self_signed(dir.path());
        let tls =
            load_server_config(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).unwrap();
        let metrics = Arc::new(Metrics::new());
        let (recorder, events) = Recorder::new(Arc::clone(&metrics), None).with_memory();
        let gateway = Gateway::build(
            config,
            recorder,
            metrics,
            Fingerprinter::with_key(b"test-key"),
        )
        .await
        .unwrap();
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let listener = TlsListener::new(tcp, tls, handshake_timeout).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(customs::server::serve(
            listener,
            Arc::new(gateway),
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(10),
        ));
        TlsGateway {
            addr,
            cert_pem,
            events,
            stop: Some(stop),
            served,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn client(&self) -> reqwest::Client {
        https_client(&self.cert_pem).build().unwrap()
    }

    async fn healthz(&self, client: &reqwest::Client) -> reqwest::Response {
        client.get(self.url("/healthz")).send().await.unwrap()
    }
}

fn echo_request(content: &str) -> Value {
    json!({"model": "customs-echo", "messages": [{"role": "user", "content": content}]})
}

#[tokio::test]
async fn https_serves_both_http_versions_and_the_request_path() {
    let gateway = TlsGateway::start(Config::embedded().unwrap(), HANDSHAKE_TIMEOUT).await;

    // ALPN: HTTP/2 when the client offers it, HTTP/1.1 when that is all it speaks.
    let h2 = gateway.healthz(&gateway.client()).await;
    assert_eq!(h2.status(), 200);
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
    let http1 = https_client(&gateway.cert_pem)
        .http1_only()
        .build()
        .unwrap();
    let h1 = gateway.healthz(&http1).await;
    assert_eq!(h1.status(), 200);
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);

    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let response = gateway
        .client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&echo_request("hello over TLS, mail jane.doe@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("hello over TLS"), "{content}");
    assert!(content.contains("[EMAIL_1]"), "{content}");
    assert!(!content.contains("jane.doe@example.com"), "{content}");

    // The pipeline still learns the caller's address through the TLS listener.
    let events = gateway.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let client_address = events[0].client_address.as_deref().unwrap_or_default();
    assert!(
        client_address.starts_with("127.0.0.1:"),
        "{client_address:?}"
    );
}

#[tokio::test]
async fn plain_http_and_silent_clients_do_not_disturb_https() {
    let gateway = TlsGateway::start(Config::embedded().unwrap(), HANDSHAKE_TIMEOUT).await;

    // A client that connects and says nothing holds one handshake, not the listener.
    let _silent = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    let started = Instant::now();
    assert_eq!(gateway.healthz(&gateway.client()).await.status(), 200);
    assert!(
        started.elapsed() < HANDSHAKE_TIMEOUT / 2,
        "HTTPS waited behind a silent client"
    );

    // Plain HTTP on the TLS port fails, with reqwest and with raw bytes...
    let plain = client()
        .get(format!("http://{}/healthz", gateway.addr))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");
    let mut raw = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    raw.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut answer))
        .await
        .expect("the server kept a plain-HTTP connection open");
    assert!(
        !String::from_utf8_lossy(&answer).contains("200"),
        "{answer:?}"
    );

    // ...and the server keeps serving HTTPS, on new connections too.
    assert_eq!(gateway.healthz(&gateway.client()).await.status(), 200);
    assert!(!gateway.served.is_finished());
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_disconnected() {
    let gateway = TlsGateway::start(Config::embedded().unwrap(), Duration::from_millis(300)).await;
    let mut silent = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("the server held a silent connection past its handshake timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(gateway.healthz(&gateway.client()).await.status(), 200);
}

#[tokio::test]
async fn shutdown_over_tls_stops_accepting_and_lets_in_flight_requests_finish() {
    let mock = MockUpstream::start().await;
    let mut config = config_with_mock(&mock);
    // The mock answers after 1.5 s.
    config
        .upstream
        .base_urls
        .insert("gpt-4o-openai-us".into(), mock.url("/hold/v1"));
    let mut gateway = TlsGateway::start(config, HANDSHAKE_TIMEOUT).await;
    let in_flight = tokio::spawn({
        let request = gateway
            .client()
            .post(gateway.url("/v1/chat/completions"))
            .bearer_auth(dev_token(
                "bob",
                json!({"groups": ["engineering"], "residency": "US"}),
            ))
            .json(&json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hi"}]}));
        async move { request.send().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway.stop.take().unwrap().send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // No new connections once shutdown has begun...
    assert!(
        gateway
            .client()
            .get(gateway.url("/healthz"))
            .send()
            .await
            .is_err(),
        "a new connection was accepted after shutdown"
    );
    // ...but the request in flight completes, and then the server returns.
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200, "the in-flight request was cut off");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "mock says hi");
    tokio::time::timeout(Duration::from_secs(5), &mut gateway.served)
        .await
        .expect("serve did not return after its requests finished")
        .unwrap()
        .unwrap();
}

#[test]
fn unusable_files_are_named_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    write_self_signed(dir.path());
    let cert = dir.path().join("cert.pem");
    let missing = dir.path().join("no-such-key.pem");
    let err = load_server_config(&cert, &missing).unwrap_err();
    assert_eq!(err.file(), TlsFile::Key);
    assert!(err.to_string().contains("no-such-key.pem"), "{err}");

    // The binary: relative paths in a config file are relative to that file.
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::rename(&cert, dir.path().join("tls/cert.pem")).unwrap();
    let config = dir.path().join("customs.toml");
    std::fs::write(
        &config,
        "[server]\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/no-such-key.pem\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let named = dir.path().join("tls/no-such-key.pem");
    assert!(
        stderr.contains(&format!("TLS key file {}", named.display())),
        "{stderr}"
    );
    let key = std::fs::read_to_string(dir.path().join("key.pem")).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!stderr.contains(key_body), "{stderr}");

    // A certificate without a key is refused, not served as plain HTTP.
    let out = std::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(dir.path().join("tls/cert.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn serve_with_tls_flags_answers_https() {
    let dir = tempfile::tempdir().unwrap();
    let cert_pem = write_self_signed(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let flag = |name: &str| -> PathBuf { dir.path().join(name) };
    let mut server = tokio::process::Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(flag("cert.pem"))
        .arg("--tls-key")
        .arg(flag("key.pem"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = https_client(&cert_pem).build().unwrap();
    let base = format!("https://127.0.0.1:{port}");
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "customs serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let response = client
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(&token)
        .json(&echo_request("hello from the command line"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("hello from the command line"), "{content}");

    let pid = server.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(15), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "customs serve exited with {status}");
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(stderr.contains("customs is serving HTTPS"), "{stderr}");
    let key = std::fs::read_to_string(flag("key.pem")).unwrap();
    assert!(!stderr.contains(key.lines().nth(1).unwrap()), "{stderr}");
}
