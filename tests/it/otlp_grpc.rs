//! record, over OTLP/gRPC: both OTLP paths (the direct exporter and the durable log's
//! forwarder) against a real gRPC receiver, a tonic server implementing `TraceService`
//! and `LogsService` from the official protocol definitions (opentelemetry-proto's
//! generated server stubs). The receiver keeps what it decoded and, through a tap in
//! front of each service, every byte it was sent, so the tests can look for content in
//! the wire bytes themselves. Everything runs on loopback ports chosen by the OS.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use customs::audit::otel::OtelExport;
use customs::audit::otlp_transport::OtlpProtocol;
use customs::audit::{Fingerprinter, Recorder};
use customs::config::Config;
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio::sync::oneshot;
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::{Request, Response, Status};

use crate::support::*;

const EMAIL: &str = "grpc.leak.check@example.com";
const CARD: &str = "4111 1111 1111 1111";
const CARD_DIGITS: &str = "4111111111111111";
const AWS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const BIN: &str = env!("CARGO_BIN_EXE_customs");

/// What the receiver does with an export.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Store it and answer `OK`.
    Accept,
    /// Answer this error status and store nothing.
    Fail(tonic::Code),
}

/// The receiving side: decoded exports, every byte sent, and how it answers.
#[derive(Clone)]
struct Receiver {
    answer: Arc<Mutex<Answer>>,
    spans: Arc<Mutex<Vec<Span>>>,
    logs: Arc<Mutex<Vec<LogRecord>>>,
    refused: Arc<AtomicUsize>,
    wire: Arc<Mutex<Vec<u8>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        if let Answer::Fail(code) = *self.answer.lock().unwrap() {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Status::new(code, "receiver refuses for the test"));
        }
        let spans = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans);
        self.spans.lock().unwrap().extend(spans);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        if let Answer::Fail(code) = *self.answer.lock().unwrap() {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Status::new(code, "receiver refuses for the test"));
        }
        let logs = request
            .into_inner()
            .resource_logs
            .into_iter()
            .flat_map(|r| r.scope_logs)
            .flat_map(|s| s.log_records);
        self.logs.lock().unwrap().extend(logs);
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}

/// Keeps the raw request body (the gRPC frames as sent) before the service decodes it.
#[derive(Clone)]
struct Tap<S> {
    inner: S,
    wire: Arc<Mutex<Vec<u8>>>,
}

impl<S: NamedService> NamedService for Tap<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<tonic::body::Body>> for Tap<S>
where
    S: Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let mut inner = self.inner.clone();
        let wire = Arc::clone(&self.wire);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            wire.lock().unwrap().extend_from_slice(&bytes);
            let body = tonic::body::Body::new(http_body_util::Full::new(bytes));
            inner.call(http::Request::from_parts(parts, body)).await
        })
    }
}

impl Receiver {
    fn new(answer: Answer) -> Receiver {
        Receiver {
            answer: Arc::new(Mutex::new(answer)),
            spans: Arc::default(),
            logs: Arc::default(),
            refused: Arc::default(),
            wire: Arc::default(),
        }
    }

    /// A loopback port reserved for the receiver but not yet listening: connections to
    /// it are refused until [`Receiver::serve`] listens on it.
    fn reserve() -> (TcpSocket, SocketAddr) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        (socket, addr)
    }

    /// Serves OTLP/gRPC on `socket` until the returned sender is dropped.
    fn serve(&self, socket: TcpSocket) -> oneshot::Sender<()> {
        self.serve_with(socket, None)
    }

    /// Serves OTLP/gRPC on `socket`, over TLS when `tls` is given.
    fn serve_with(&self, socket: TcpSocket, tls: Option<ServerTlsConfig>) -> oneshot::Sender<()> {
        let listener = socket.listen(64).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let traces = Tap {
            inner: TraceServiceServer::new(self.clone()),
            wire: Arc::clone(&self.wire),
        };
        let logs = Tap {
            inner: LogsServiceServer::new(self.clone()),
            wire: Arc::clone(&self.wire),
        };
        tokio::spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let mut server = tonic::transport::Server::builder();
            if let Some(tls) = tls {
                server = server.tls_config(tls).unwrap();
            }
            let _ = server
                .add_service(traces)
                .add_service(logs)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stopped.await;
                })
                .await;
        });
        stop
    }

    async fn start(answer: Answer) -> (Receiver, SocketAddr, oneshot::Sender<()>) {
        let receiver = Receiver::new(answer);
        let (socket, addr) = Receiver::reserve();
        let stop = receiver.serve(socket);
        (receiver, addr, stop)
    }

    fn set_answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    fn logs(&self) -> Vec<LogRecord> {
        self.logs.lock().unwrap().clone()
    }

    /// Decision ids of the `customs.decision` log records, one per record received.
    fn decision_logs(&self) -> Vec<String> {
        self.logs()
            .iter()
            .filter(|l| l.event_name == "customs.decision")
            .map(|l| text(&l.attributes, "customs.decision_id"))
            .collect()
    }

    /// Decision ids of the request spans, one per span received.
    fn request_spans(&self) -> Vec<String> {
        self.spans()
            .iter()
            .filter(|s| s.name != "apply_guardrail")
            .map(|s| text(&s.attributes, "customs.decision_id"))
            .collect()
    }

    /// Waits until every id in `ids` has its log record and request span.
    async fn wait_for(&self, ids: &[String]) {
        let started = Instant::now();
        loop {
            let logs = self.decision_logs();
            let spans = self.request_spans();
            if ids.iter().all(|id| logs.contains(id) && spans.contains(id)) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the receiver got {} decision logs and {} request spans, expected {}",
                logs.len(),
                spans.len(),
                ids.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asserts that none of `leaks` is anywhere in the bytes the receiver was sent.
    fn assert_wire_holds_none_of(&self, leaks: &[&str]) {
        let wire = self.wire.lock().unwrap();
        assert!(!wire.is_empty(), "the receiver got bytes");
        for leak in leaks {
            assert!(
                !wire.windows(leak.len()).any(|w| w == leak.as_bytes()),
                "the OTLP/gRPC bytes carry {leak}"
            );
        }
    }
}

fn value(attributes: &[KeyValue], key: &str) -> Option<any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn text(attributes: &[KeyValue], key: &str) -> String {
    match value(attributes, key) {
        Some(any_value::Value::StringValue(s)) => s,
        _ => String::new(),
    }
}

fn echo(content: &str) -> Value {
    json!({"model": "customs-echo", "messages": [{"role": "user", "content": content}]})
}

fn decision_id(response: &reqwest::Response) -> String {
    response.headers()["x-customs-decision-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Sends the planted content: an email and a card number (served, redacted), then the
/// same with an API key (denied). Returns the decision ids, allowed one first.
async fn send_planted(url: &str, token: &str) -> Vec<String> {
    let prompt = format!("mail {EMAIL}, card {CARD}");
    let allowed = client()
        .post(url)
        .bearer_auth(token)
        .json(&echo(&prompt))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let denied = client()
        .post(url)
        .bearer_auth(token)
        .json(&echo(&format!("{prompt}, key {AWS_KEY_ID}")))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    vec![decision_id(&allowed), decision_id(&denied)]
}

/// Asserts the conventions on what the receiver got for `ids` (from [`send_planted`]):
/// per decision a request span, its `apply_guardrail` child with the
/// `gen_ai.security.*` attributes and one finding event per class, and the
/// `customs.decision` log record in the same trace.
fn assert_decisions_by_convention(receiver: &Receiver, ids: &[String]) {
    let spans = receiver.spans();
    let logs = receiver.logs();
    for (n, id) in ids.iter().enumerate() {
        let request = spans
            .iter()
            .find(|s| {
                s.name != "apply_guardrail" && text(&s.attributes, "customs.decision_id") == *id
            })
            .unwrap_or_else(|| panic!("no request span for {id}"));
        assert_eq!(request.name, "chat customs-echo");
        assert_eq!(text(&request.attributes, "gen_ai.operation.name"), "chat");
        assert_eq!(
            text(&request.attributes, "gen_ai.request.model"),
            "customs-echo"
        );
        if n == 0 {
            // Routed: the deployment's provider. (The denial leaves none chosen.)
            assert_eq!(text(&request.attributes, "gen_ai.provider.name"), "local");
        }
        let guardrail = spans
            .iter()
            .find(|s| {
                s.name == "apply_guardrail"
                    && s.trace_id == request.trace_id
                    && s.parent_span_id == request.span_id
            })
            .unwrap_or_else(|| panic!("no apply_guardrail child span for {id}"));
        let (decision, redacted) = if n == 0 {
            ("modify", true)
        } else {
            ("deny", false)
        };
        assert_eq!(
            text(&guardrail.attributes, "gen_ai.security.decision.type"),
            decision
        );
        assert_eq!(
            text(&guardrail.attributes, "gen_ai.security.target.type"),
            "llm_input"
        );
        assert!(
            !text(&guardrail.attributes, "gen_ai.security.policy.id").is_empty(),
            "the determining policies are named"
        );
        assert!(
            text(&guardrail.attributes, "gen_ai.security.policy.version").starts_with("sha256:")
        );
        assert_eq!(
            value(&guardrail.attributes, "gen_ai.security.content.redacted"),
            Some(any_value::Value::BoolValue(redacted))
        );
        let findings: HashMap<String, &[KeyValue]> = guardrail
            .events
            .iter()
            .filter(|e| e.name == "gen_ai.security.finding")
            .map(|e| {
                (
                    text(&e.attributes, "gen_ai.security.finding.class"),
                    e.attributes.as_slice(),
                )
            })
            .collect();
        for class in ["PII.EMAIL", "PCI.CARD_NUMBER"] {
            let event = findings
                .get(class)
                .unwrap_or_else(|| panic!("no finding event for {class} in {id}: {findings:?}"));
            assert_eq!(
                value(event, "gen_ai.security.finding.count"),
                Some(any_value::Value::IntValue(1))
            );
            assert!(!text(event, "gen_ai.security.finding.severity").is_empty());
        }
        if n == 1 {
            assert!(
                findings.keys().any(|c| c.starts_with("SECRET")),
                "the API key is a finding: {findings:?}"
            );
        }
        let log = logs
            .iter()
            .find(|l| {
                l.event_name == "customs.decision"
                    && text(&l.attributes, "customs.decision_id") == *id
            })
            .unwrap_or_else(|| panic!("no customs.decision log record for {id}"));
        assert_eq!(
            log.trace_id, request.trace_id,
            "the log record is in the span's trace"
        );
        let body = match log.body.as_ref().and_then(|b| b.value.clone()) {
            Some(any_value::Value::StringValue(body)) => body,
            other => panic!("the log record's body is the event as JSON, got {other:?}"),
        };
        let event: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(event["decision_id"], id.as_str());
        assert_eq!(event["outcome"], decision);
    }
}

#[tokio::test]
async fn the_direct_exporter_over_grpc_delivers_spans_findings_and_the_log_record_without_content()
{
    let (receiver, addr, _stop) = Receiver::start(Answer::Accept).await;
    let endpoint = format!("http://{addr}");
    let otel = Arc::new(
        OtelExport::with_protocol_endpoint("customs-test", OtlpProtocol::Grpc, &endpoint).unwrap(),
    );
    let gateway =
        TestGateway::start_with(Config::embedded().unwrap(), Some(Arc::clone(&otel))).await;
    let token = dev_token("alice", json!({}));
    let ids = send_planted(&gateway.url("/v1/chat/completions"), &token).await;
    let flushing = Arc::clone(&otel);
    tokio::task::spawn_blocking(move || flushing.flush())
        .await
        .unwrap();
    receiver.wait_for(&ids).await;

    assert_decisions_by_convention(&receiver, &ids);
    receiver.assert_wire_holds_none_of(&[EMAIL, CARD, CARD_DIGITS, AWS_KEY_ID, &token]);
    tokio::task::spawn_blocking(move || otel.shutdown())
        .await
        .unwrap();
}

/// A gateway whose durable log in `dir` is forwarded over gRPC to `receiver`.
async fn forwarding_gateway(
    dir: &Path,
    receiver: SocketAddr,
) -> (Arc<Gateway>, String, oneshot::Sender<()>) {
    let mut config = Config::embedded().unwrap();
    config.audit.dir = Some(dir.to_path_buf());
    config.audit.checkpoint_every = 4;
    config.audit.forward.enabled = true;
    config.audit.forward.protocol = Some(OtlpProtocol::Grpc);
    config.audit.forward.endpoint = Some(format!("http://{receiver}"));
    config.audit.forward.max_batch = 7;
    config.audit.forward.max_backoff_ms = 100;
    config.audit.forward.timeout_ms = 2_000;
    let metrics = Arc::new(Metrics::new());
    let recorder = Recorder::new(Arc::clone(&metrics), None);
    let gateway = Arc::new(
        Gateway::build(config, recorder, metrics, Fingerprinter::with_key(b"k"))
            .await
            .unwrap(),
    );
    let (addr, stop) = serve_gateway(Arc::clone(&gateway)).await;
    (gateway, format!("http://{addr}/v1/chat/completions"), stop)
}

fn assert_each_once(received: &[String], expected: &[String]) {
    let mut got = received.to_vec();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "each decision id exactly once");
}

#[tokio::test]
async fn the_forwarder_over_grpc_delivers_every_decision_once_after_the_receiver_was_down() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(Answer::Accept);
    let (socket, addr) = Receiver::reserve();
    let (gateway, url, _serving) = forwarding_gateway(dir.path(), addr).await;
    let token = dev_token("alice", json!({}));
    let mut ids = send_planted(&url, &token).await;

    // Down: nothing listens on the port.
    for n in 0..12 {
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .json(&echo(&format!("burst {n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "served while the receiver is down");
        ids.push(decision_id(&response));
    }
    // Listening, but every export answered with an error status: still not delivered.
    receiver.set_answer(Answer::Fail(tonic::Code::Internal));
    let _stop = receiver.serve(socket);
    for n in 0..12 {
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .json(&echo(&format!("refused {n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        ids.push(decision_id(&response));
    }
    let started = Instant::now();
    while receiver.refused.load(Ordering::SeqCst) < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the forwarder never reached the receiver"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(receiver.decision_logs().is_empty());
    assert!(receiver.request_spans().is_empty());

    // Up.
    receiver.set_answer(Answer::Accept);
    receiver.wait_for(&ids).await;
    for n in 0..5 {
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .json(&echo(&format!("after {n}")))
            .send()
            .await
            .unwrap();
        ids.push(decision_id(&response));
    }
    receiver.wait_for(&ids).await;
    if let Some(log) = gateway.recorder().durable_log() {
        log.shutdown(Duration::from_secs(2)).await;
    }

    // Exactly once as received; and keyed on the records' idempotent ids (decision id,
    // audit sequence number, span id) the receiving side holds each decision once too.
    assert_each_once(&receiver.decision_logs(), &ids);
    assert_each_once(&receiver.request_spans(), &ids);
    let mut by_seq: HashMap<i64, String> = HashMap::new();
    for log in receiver.logs() {
        if log.event_name == "customs.decision"
            && let Some(any_value::Value::IntValue(seq)) =
                value(&log.attributes, "customs.audit.seq")
        {
            by_seq.insert(seq, text(&log.attributes, "customs.decision_id"));
        }
    }
    assert_each_once(&by_seq.into_values().collect::<Vec<_>>(), &ids);
    let guardrails: std::collections::HashSet<Vec<u8>> = receiver
        .spans()
        .iter()
        .filter(|s| s.name == "apply_guardrail")
        .map(|s| s.span_id.clone())
        .collect();
    assert_eq!(
        guardrails.len(),
        ids.len(),
        "one apply_guardrail span per decision"
    );

    assert_decisions_by_convention(&receiver, &ids[..2]);
    assert!(
        receiver
            .logs()
            .iter()
            .any(|l| l.event_name == "customs.audit.checkpoint"),
        "signed checkpoints travel too"
    );
    receiver.assert_wire_holds_none_of(&[EMAIL, CARD, CARD_DIGITS, AWS_KEY_ID, &token]);
}

/// `customs serve` with `env` on a free loopback port, a config file in `dir` holding
/// `config` (embedded default when empty). Returns the child and its base URL.
async fn serve_with_env(
    dir: &Path,
    config: &str,
    env: &[(&str, String)],
) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = tokio::process::Command::new(BIN);
    command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
    if !config.is_empty() {
        let path = dir.join("customs.toml");
        std::fs::write(&path, config).unwrap();
        command.arg("--config").arg(path);
    }
    for name in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let server = command
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while client().get(format!("{base}/readyz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "customs serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, base)
}

#[tokio::test]
async fn the_standard_protocol_variables_select_grpc_for_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let token = dev_token("alice", json!({}));

    // The direct exporter: the per-signal variables win over the general one (which
    // names HTTP here; had it been followed, nothing would reach a gRPC port).
    let (receiver, addr, _stop) = Receiver::start(Answer::Accept).await;
    let (mut server, base) = serve_with_env(
        dir.path(),
        "",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc".to_owned()),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc".to_owned()),
        ],
    )
    .await;
    let ids = send_planted(&format!("{base}/v1/chat/completions"), &token).await;
    // A graceful stop flushes the exporters.
    terminate(&mut server).await;
    receiver.wait_for(&ids).await;
    assert_decisions_by_convention(&receiver, &ids);
    receiver.assert_wire_holds_none_of(&[EMAIL, CARD, CARD_DIGITS, AWS_KEY_ID, &token]);

    // The forwarder: `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` and the endpoint from the
    // environment, nothing about OTLP in the file.
    let (receiver, addr, _stop) = Receiver::start(Answer::Accept).await;
    let config = format!(
        "[auth]\nissuer = \"{RSA_ISSUER}\"\naudience = \"{RSA_AUDIENCE}\"\njwks_file = {jwks:?}\n\
         algorithms = [\"RS256\"]\n\n[audit]\ndir = \"log\"\n",
        jwks = keys_dir().join("jwks.json").display().to_string(),
    );
    let token = rsa_token(rsa_claims());
    let (mut server, base) = serve_with_env(
        dir.path(),
        &config,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ],
    )
    .await;
    let ids = send_planted(&format!("{base}/v1/chat/completions"), &token).await;
    receiver.wait_for(&ids).await;
    terminate(&mut server).await;
    assert_each_once(&receiver.decision_logs(), &ids);
    assert!(
        receiver
            .logs()
            .iter()
            .all(|l| value(&l.attributes, "customs.audit.seq").is_some()),
        "decisions travel from the durable log only"
    );

    // An unsupported protocol stops `serve` at start, naming the variable.
    let refused = tokio::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .env_remove("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), refused)
        .await
        .expect("serve with an unsupported protocol must exit")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{stderr}");
}

/// A private CA, a server certificate for `localhost` and a client certificate, as PEM
/// files in `dir`.
struct Pki {
    ca: String,
    server: (String, String),
}

impl Pki {
    fn write(dir: &Path) -> Pki {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "collector test CA");
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap())
                .unwrap();
        let leaf = |names: Vec<String>, usage| {
            let mut params = rcgen::CertificateParams::new(names).unwrap();
            params.extended_key_usages = vec![usage];
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = params.signed_by(&key, &ca).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let server = leaf(
            vec!["localhost".to_owned()],
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = leaf(
            vec!["customs.example".to_owned()],
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        );
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("client.pem"), &client.0).unwrap();
        std::fs::write(dir.join("client.key"), &client.1).unwrap();
        Pki {
            ca: ca.pem(),
            server,
        }
    }

    /// The collector's TLS: its certificate, and client certificates from the CA required.
    fn server_tls(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.server.0, &self.server.1))
            .client_ca_root(Certificate::from_pem(&self.ca))
    }
}

fn tls_env(dir: &Path, endpoint: &str, trust_ca: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            dir.join("client.pem").display().to_string(),
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            dir.join("client.key").display().to_string(),
        ),
    ];
    if trust_ca {
        env.push((
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            dir.join("ca.pem").display().to_string(),
        ));
    }
    env
}

#[tokio::test]
async fn over_grpc_with_tls_both_paths_deliver_to_a_collector_they_trust_and_only_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::write(dir.path());
    let receiver = Receiver::new(Answer::Accept);
    let (socket, addr) = Receiver::reserve();
    let _stop = receiver.serve_with(socket, Some(pki.server_tls()));
    let endpoint = format!("https://localhost:{}", addr.port());

    // The direct exporter, with the CA and a client certificate from the variables.
    let token = dev_token("alice", json!({}));
    let (mut server, base) =
        serve_with_env(dir.path(), "", &tls_env(dir.path(), &endpoint, true)).await;
    let direct = send_planted(&format!("{base}/v1/chat/completions"), &token).await;
    terminate(&mut server).await;
    receiver.wait_for(&direct).await;
    assert_decisions_by_convention(&receiver, &direct);

    // The forwarder, same variables.
    let config = format!(
        "[auth]\nissuer = \"{RSA_ISSUER}\"\naudience = \"{RSA_AUDIENCE}\"\njwks_file = {jwks:?}\n\
         algorithms = [\"RS256\"]\n\n[audit]\ndir = \"log\"\n\n[audit.forward]\nmax_backoff_ms = 200\n",
        jwks = keys_dir().join("jwks.json").display().to_string(),
    );
    let rsa = rsa_token(rsa_claims());
    let (mut server, base) =
        serve_with_env(dir.path(), &config, &tls_env(dir.path(), &endpoint, true)).await;
    let forwarded = send_planted(&format!("{base}/v1/chat/completions"), &rsa).await;
    receiver.wait_for(&forwarded).await;
    terminate(&mut server).await;
    let from_log: Vec<String> = receiver
        .logs()
        .iter()
        .filter(|l| value(&l.attributes, "customs.audit.seq").is_some())
        .map(|l| text(&l.attributes, "customs.decision_id"))
        .filter(|id| forwarded.contains(id))
        .collect();
    assert_each_once(&from_log, &forwarded);
    receiver.assert_wire_holds_none_of(&[EMAIL, CARD, CARD_DIGITS, AWS_KEY_ID, &token, &rsa]);

    // Without the CA the collector's certificate is not trusted (system roots only):
    // nothing is sent, and the records stay in the log for later.
    let before = receiver.logs().len() + receiver.spans().len();
    let (mut server, base) =
        serve_with_env(dir.path(), &config, &tls_env(dir.path(), &endpoint, false)).await;
    let refused = send_planted(&format!("{base}/v1/chat/completions"), &rsa).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Killed: a graceful stop would keep retrying for its whole grace period.
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    assert_eq!(
        receiver.logs().len() + receiver.spans().len(),
        before,
        "an untrusted collector receives nothing"
    );
    let recorded = std::fs::read_dir(dir.path().join("log"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "log").then(|| std::fs::read_to_string(path).unwrap())
        })
        .collect::<String>();
    assert!(refused.iter().all(|id| recorded.contains(id.as_str())));

    // An unreadable certificate file stops `serve` at start, naming the variable.
    let out = tokio::process::Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env(
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            dir.path().join("missing.pem"),
        )
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .expect("serve with a missing certificate must exit")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        "{stderr}"
    );
}
