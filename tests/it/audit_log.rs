//! record, durably: the hash-chained decision log under `[audit] dir`, its forwarder, and
//! `customs audit verify` / `tail`. Each test owns a temporary directory and loopback
//! ports; the collector here decodes OTLP/HTTP protobuf so tests can count what arrived.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use customs::audit::log::{SyncMode, WhenFull};
use customs::audit::{Fingerprinter, Recorder};
use customs::config::Config;
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message as _;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_customs");
const EMAIL: &str = "durable.leak@example.com";
const CARD: &str = "4111 1111 1111 1111";
const AWS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

/// A gateway on a loopback port whose durable log can be shut down (a "restart").
struct AuditGateway {
    addr: SocketAddr,
    gateway: Arc<Gateway>,
    stop: Option<oneshot::Sender<()>>,
}

/// A gateway on `config`, recording with no direct OTLP exporter.
async fn build_gateway(config: Config) -> Arc<Gateway> {
    let metrics = Arc::new(Metrics::new());
    let recorder = Recorder::new(Arc::clone(&metrics), None);
    Arc::new(
        Gateway::build(config, recorder, metrics, Fingerprinter::with_key(b"k"))
            .await
            .unwrap(),
    )
}

impl AuditGateway {
    async fn start(config: Config) -> AuditGateway {
        let gateway = build_gateway(config).await;
        let (addr, stop) = serve_gateway(Arc::clone(&gateway)).await;
        AuditGateway {
            addr,
            gateway,
            stop: Some(stop),
        }
    }

    async fn post(&self, token: &str, body: &Value) -> reqwest::Response {
        client()
            .post(format!("http://{}/v1/chat/completions", self.addr))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Stops serving, seals the log, lets the forwarder deliver for `grace`.
    async fn shutdown(mut self, grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(log) = self.gateway.recorder().durable_log() {
            log.shutdown(grace).await;
        }
    }
}

fn audit_config(dir: &Path) -> Config {
    let mut config = Config::embedded().unwrap();
    config.audit.dir = Some(dir.to_path_buf());
    config.audit.forward.enabled = false;
    config.audit.forward.max_backoff_ms = 100;
    config.audit.checkpoint_every = 4;
    config
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

/// Every record in the log, parsed.
fn records(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn event_ids(dir: &Path) -> Vec<String> {
    records(dir)
        .iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| r["body"]["decision_id"].as_str().unwrap().to_owned())
        .collect()
}

fn verify(dir: &Path) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A log of 12 events (and 3 checkpoints) written through the gateway and sealed.
async fn sample_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let gateway = AuditGateway::start(audit_config(dir.path())).await;
    let token = dev_token("alice", json!({}));
    for n in 0..12 {
        let response = gateway.post(&token, &echo(&format!("hello {n}"))).await;
        assert_eq!(response.status(), 200);
    }
    gateway.shutdown(Duration::from_millis(100)).await;
    dir
}

const SEGMENT: &str = "00000000000000000001.log";

fn rewrite_lines(dir: &Path, edit: impl FnOnce(&mut Vec<String>)) {
    let path = dir.join(SEGMENT);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    edit(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[tokio::test]
async fn verify_passes_an_intact_log_and_names_each_kind_of_tampering() {
    let dir = sample_log().await;
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok:"), "{out}");
    // The report names the log by the id its forwarded records carry.
    let id = std::fs::read_to_string(dir.path().join("INSTANCE")).unwrap();
    assert!(out.contains(&format!("log {}", id.trim())), "{out}");

    // One changed byte inside an event (seq 3): its hash no longer matches.
    let changed = copy_dir(dir.path());
    rewrite_lines(changed.path(), |lines| {
        lines[2] = lines[2].replacen("\"status\":200", "\"status\":201", 1);
    });
    let (code, out) = verify(changed.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "{SEGMENT} line 3 seq 3: content does not match its hash"
        )),
        "{out}"
    );

    // A removed record (seq 2): a gap and a broken chain at seq 3.
    let removed = copy_dir(dir.path());
    rewrite_lines(removed.path(), |lines| {
        lines.remove(1);
    });
    let (code, out) = verify(removed.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("seq 3: follows seq 1: 1 record(s) missing"),
        "{out}"
    );

    // Two records swapped (seq 2 and 3).
    let swapped = copy_dir(dir.path());
    rewrite_lines(swapped.path(), |lines| lines.swap(1, 2));
    let (code, out) = verify(swapped.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("seq 2: out of order: seq 2 after seq 3"),
        "{out}"
    );

    // A removed record with the chain recomputed after it (a forger without the key):
    // the next checkpoint's signature no longer holds.
    let forged = copy_dir(dir.path());
    rewrite_lines(forged.path(), |lines| {
        lines.remove(1);
        let mut prev = [0u8; 32];
        for (i, line) in lines.iter_mut().enumerate() {
            let record = customs::audit::log::record::parse_line(line.as_bytes()).unwrap();
            let body = record.body.to_vec();
            let kind = record.kind;
            let mut out = Vec::new();
            prev = customs::audit::log::record::encode(i as u64 + 1, kind, &prev, &body, &mut out);
            *line = String::from_utf8(out).unwrap().trim_end().to_owned();
        }
    });
    let (code, out) = verify(forged.path());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("checkpoint"), "{out}");

    // A truncated tail: the last record cut in half.
    let truncated = copy_dir(dir.path());
    let path = truncated.path().join(SEGMENT);
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 40).unwrap();
    let (code, out) = verify(truncated.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{SEGMENT} line 15 seq 15: torn record at the end")),
        "{out}"
    );

    // Whole records cut from the end after the forwarder delivered them.
    let cut = copy_dir(dir.path());
    rewrite_lines(cut.path(), |lines| {
        lines.truncate(10);
    });
    std::fs::write(
        cut.path().join("forward.cursor"),
        r#"{"logs":15,"traces":15}"#,
    )
    .unwrap();
    let (code, out) = verify(cut.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("delivered up to seq 15 but the log ends at seq 10"),
        "{out}"
    );
}

fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

#[tokio::test]
async fn every_request_has_exactly_one_durable_record_and_the_log_holds_no_content() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = AuditGateway::start(audit_config(dir.path())).await;
    let token = dev_token("alice", json!({"groups": ["engineering"]}));
    let mut ids = Vec::new();
    let prompt = format!("mail {EMAIL}, card {CARD}");
    // Allowed (redacted), denied (a secret), unauthenticated, malformed, unknown model.
    let ok = gateway.post(&token, &echo(&prompt)).await;
    assert_eq!(ok.status(), 200);
    ids.push(decision_id(&ok));
    let denied = gateway
        .post(&token, &echo(&format!("{prompt}, key {AWS_KEY_ID}")))
        .await;
    assert_eq!(denied.status(), 403);
    ids.push(decision_id(&denied));
    let unauthenticated = gateway.post("not-a-token", &echo(&prompt)).await;
    assert_eq!(unauthenticated.status(), 401);
    ids.push(decision_id(&unauthenticated));
    let malformed = client()
        .post(format!("http://{}/v1/chat/completions", gateway.addr))
        .bearer_auth(&token)
        .body(format!("{{\"model\": \"{EMAIL}"))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    ids.push(decision_id(&malformed));
    let unknown = gateway
        .post(
            &token,
            &json!({"model": "no-such-model", "messages": [{"role": "user", "content": prompt}]}),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    ids.push(decision_id(&unknown));

    // Each record is on disk when its response arrives: read before shutting down.
    assert_eq!(event_ids(dir.path()), ids);
    gateway.shutdown(Duration::from_millis(100)).await;
    assert_eq!(event_ids(dir.path()), ids, "exactly one record per request");

    let mut raw = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        raw.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let raw = String::from_utf8_lossy(&raw);
    for leak in [EMAIL, CARD, "4111111111111111", AWS_KEY_ID, token.as_str()] {
        assert!(!raw.contains(leak), "the durable log holds {leak}");
    }
    assert!(raw.contains("PII.EMAIL"), "classes are recorded");
    assert_eq!(verify(dir.path()).0, 0);
}

/// An OTLP/HTTP collector that decodes what it accepts and can be "down" (503).
#[derive(Clone, Default)]
struct Collector {
    up: Arc<AtomicBool>,
    /// (event name, decision id or "", seq) per accepted log record.
    logs: Arc<Mutex<Vec<(String, String, i64)>>>,
    /// (span name, decision id) per accepted span.
    spans: Arc<Mutex<Vec<(String, String)>>>,
    /// Every `service.instance.id` of the accepted messages' resources.
    instances: Arc<Mutex<std::collections::BTreeSet<String>>>,
}

impl Collector {
    async fn start(up: bool) -> (Collector, SocketAddr, oneshot::Sender<()>) {
        let collector = Collector::default();
        collector.up.store(up, Ordering::SeqCst);
        let app = Router::new()
            .route("/v1/logs", post(collector_logs))
            .route("/v1/traces", post(collector_traces))
            .with_state(collector.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        (collector, addr, stop)
    }

    fn decision_logs(&self) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _, _)| name == "customs.decision")
            .map(|(_, id, _)| id.clone())
            .collect()
    }

    fn request_spans(&self) -> Vec<String> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _)| name != "apply_guardrail")
            .map(|(_, id)| id.clone())
            .collect()
    }

    async fn wait_for(&self, count: usize) {
        let started = Instant::now();
        while self.decision_logs().len() < count || self.request_spans().len() < count {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "collector got {} logs and {} spans, expected {count}",
                self.decision_logs().len(),
                self.request_spans().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Collector {
    fn note_instance(&self, resource: Option<&opentelemetry_proto::tonic::resource::v1::Resource>) {
        let instance = match resource.and_then(|r| attr(&r.attributes, "service.instance.id")) {
            Some(any_value::Value::StringValue(id)) => id,
            _ => "(none)".to_owned(),
        };
        self.instances.lock().unwrap().insert(instance);
    }
}

fn attr(
    attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

async fn collector_logs(State(c): State<Collector>, body: Bytes) -> StatusCode {
    if !c.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let request = ExportLogsServiceRequest::decode(body).unwrap();
    for rl in request.resource_logs {
        c.note_instance(rl.resource.as_ref());
        for sl in rl.scope_logs {
            for log in sl.log_records {
                let id = match attr(&log.attributes, "customs.decision_id") {
                    Some(any_value::Value::StringValue(id)) => id,
                    _ => String::new(),
                };
                let seq = match attr(&log.attributes, "customs.audit.seq") {
                    Some(any_value::Value::IntValue(seq)) => seq,
                    _ => -1,
                };
                c.logs.lock().unwrap().push((log.event_name, id, seq));
            }
        }
    }
    StatusCode::OK
}

async fn collector_traces(State(c): State<Collector>, body: Bytes) -> StatusCode {
    if !c.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let request = ExportTraceServiceRequest::decode(body).unwrap();
    for rs in request.resource_spans {
        c.note_instance(rs.resource.as_ref());
        for ss in rs.scope_spans {
            for span in ss.spans {
                let id = match attr(&span.attributes, "customs.decision_id") {
                    Some(any_value::Value::StringValue(id)) => id,
                    _ => String::new(),
                };
                c.spans.lock().unwrap().push((span.name, id));
            }
        }
    }
    StatusCode::OK
}

fn assert_each_once(received: &[String], expected: &[String]) {
    let mut got = received.to_vec();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "each decision id exactly once");
}

fn forwarding_config(dir: &Path, collector: SocketAddr) -> Config {
    let mut config = audit_config(dir);
    config.audit.forward.enabled = true;
    config.audit.forward.endpoint = Some(format!("http://{collector}"));
    config.audit.forward.max_batch = 7;
    config
}

#[tokio::test]
async fn after_a_collector_outage_every_decision_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let (collector, addr, _stop) = Collector::start(false).await;
    let gateway = AuditGateway::start(forwarding_config(dir.path(), addr)).await;
    let token = dev_token("alice", json!({}));
    let mut ids = Vec::new();
    for n in 0..30 {
        let response = gateway.post(&token, &echo(&format!("burst {n}"))).await;
        assert_eq!(response.status(), 200, "served while the collector is down");
        ids.push(decision_id(&response));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(collector.decision_logs().is_empty());
    collector.up.store(true, Ordering::SeqCst);
    collector.wait_for(30).await;
    // And traffic after the outage flows as usual.
    for n in 0..5 {
        let response = gateway.post(&token, &echo(&format!("after {n}"))).await;
        ids.push(decision_id(&response));
    }
    collector.wait_for(35).await;
    gateway.shutdown(Duration::from_secs(2)).await;
    assert_each_once(&collector.decision_logs(), &ids);
    assert_each_once(&collector.request_spans(), &ids);
    // Signed checkpoints travel too.
    assert!(
        collector
            .logs
            .lock()
            .unwrap()
            .iter()
            .any(|(name, _, _)| name == "customs.audit.checkpoint")
    );
}

#[tokio::test]
async fn events_written_before_a_restart_are_forwarded_after_it_none_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (collector, addr, _stop) = Collector::start(false).await;
    let token = dev_token("alice", json!({}));
    let mut ids = Vec::new();

    let first = AuditGateway::start(forwarding_config(dir.path(), addr)).await;
    for n in 0..10 {
        ids.push(decision_id(
            &first.post(&token, &echo(&format!("before {n}"))).await,
        ));
    }
    first.shutdown(Duration::from_millis(200)).await;
    assert!(collector.decision_logs().is_empty());

    // A second process on the same directory while the first holds it is refused.
    let holder = AuditGateway::start(forwarding_config(dir.path(), addr)).await;
    let mut second_config = forwarding_config(dir.path(), addr);
    second_config.audit.forward.enabled = false;
    let metrics = Arc::new(Metrics::new());
    let refused = Gateway::build(
        second_config,
        Recorder::new(Arc::clone(&metrics), None),
        metrics,
        Fingerprinter::with_key(b"k"),
    )
    .await;
    assert!(refused.unwrap_err().to_string().contains("in use"));
    holder.shutdown(Duration::from_millis(100)).await;

    collector.up.store(true, Ordering::SeqCst);
    let restarted = AuditGateway::start(forwarding_config(dir.path(), addr)).await;
    collector.wait_for(10).await;
    for n in 0..5 {
        ids.push(decision_id(
            &restarted.post(&token, &echo(&format!("after {n}"))).await,
        ));
    }
    collector.wait_for(15).await;
    restarted.shutdown(Duration::from_secs(2)).await;
    assert_each_once(&collector.decision_logs(), &ids);
    assert_each_once(&collector.request_spans(), &ids);
    // Sequence numbers arrive once each, in order.
    let seqs: Vec<i64> = collector
        .logs
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, s)| *s)
        .collect();
    let mut sorted = seqs.clone();
    sorted.dedup();
    assert_eq!(seqs, sorted);
    assert_eq!(verify(dir.path()).0, 0);
    // Every message names the log it came from, the same id before and after the
    // restart: the one its directory keeps.
    let kept = std::fs::read_to_string(dir.path().join("INSTANCE")).unwrap();
    assert!(uuid::Uuid::parse_str(kept.trim()).is_ok(), "{kept}");
    assert_eq!(
        *collector.instances.lock().unwrap(),
        std::collections::BTreeSet::from([kept.trim().to_owned()])
    );
}

#[tokio::test]
async fn a_full_log_refuses_new_requests_with_503_before_forwarding() {
    full_log_refuses(SyncMode::Group).await;
}

#[tokio::test]
async fn a_full_log_refuses_new_requests_with_503_before_forwarding_in_interval_mode() {
    full_log_refuses(SyncMode::Interval).await;
}

async fn full_log_refuses(sync: SyncMode) {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_mock(&mock);
    config.audit = audit_config(dir.path()).audit;
    config.audit.sync = sync;
    config.audit.max_bytes = 6_000;
    let gateway = AuditGateway::start(config).await;
    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let body = json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hi"}]});
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = gateway.post(&token, &body).await;
        statuses.push(response.status().as_u16());
        if response.status() == 503 {
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "audit_log_unavailable");
            assert_eq!(error["error"]["type"], "server_error");
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    assert!(
        statuses.iter().filter(|s| **s == 200).count() >= 2,
        "{statuses:?}"
    );
    let forwarded = mock.received().len();
    for _ in 0..3 {
        assert_eq!(gateway.post(&token, &body).await.status(), 503);
    }
    assert_eq!(
        mock.received().len(),
        forwarded,
        "refused requests never reach the upstream"
    );
    gateway.shutdown(Duration::from_millis(100)).await;
    assert!(
        dir_size(dir.path()) <= 6_000 + 1_024,
        "the budget holds (plus the final checkpoint)"
    );
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[tokio::test]
async fn a_full_log_with_stop_recording_serves_and_counts_what_it_could_not_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = audit_config(dir.path());
    config.audit.max_bytes = 4_000;
    config.audit.when_full = WhenFull::StopRecording;
    let gateway = AuditGateway::start(config).await;
    let token = dev_token("alice", json!({}));
    for n in 0..10 {
        let response = gateway.post(&token, &echo(&format!("n {n}"))).await;
        assert_eq!(response.status(), 200);
    }
    let metrics = client()
        .get(format!("http://{}/metrics", gateway.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let unrecorded: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("customs_audit_unrecorded_total "))
        .unwrap()
        .parse()
        .unwrap();
    let recorded = event_ids(dir.path()).len() as u64;
    assert!(unrecorded > 0, "{metrics}");
    assert_eq!(recorded + unrecorded, 10);
    gateway.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn stop_recording_logs_an_error_line_from_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _config) = spawn_serve(
        dir.path(),
        "max_bytes = 3000\nwhen_full = \"stop_recording\"\n",
        true,
    )
    .await;
    let token = rsa_token(rsa_claims());
    for n in 0..8 {
        let response = client()
            .post(format!("{base}/v1/chat/completions"))
            .bearer_auth(&token)
            .json(&echo(&format!("n {n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    terminate(&mut server).await;
    let mut stderr = String::new();
    tokio::io::AsyncReadExt::read_to_string(server.stderr.as_mut().unwrap(), &mut stderr)
        .await
        .unwrap();
    assert!(
        stderr.contains("NOT recorded in the durable audit log"),
        "{stderr}"
    );
    assert!(stderr.contains("\"level\":\"ERROR\""), "{stderr}");
}

/// `customs serve` on a free loopback port with `[audit] dir` = `dir`, trusting the RSA
/// test key. Returns the child, its base URL and the config path.
async fn spawn_serve(
    dir: &Path,
    audit_extra: &str,
    capture_stderr: bool,
) -> (tokio::process::Child, String, PathBuf) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("customs.toml");
    if !config.exists() {
        std::fs::write(
            &config,
            format!(
                r#"
[auth]
issuer = "{RSA_ISSUER}"
audience = "{RSA_AUDIENCE}"
jwks_file = {jwks:?}
algorithms = ["RS256"]

[audit]
dir = "log"
checkpoint_every = 50
{audit_extra}
[audit.forward]
enabled = false
"#,
                jwks = keys_dir().join("jwks.json").display().to_string(),
            ),
        )
        .unwrap();
    }
    let server = tokio::process::Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stderr(if capture_stderr {
            Stdio::piped()
        } else {
            Stdio::null()
        })
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
    (server, base, config)
}

/// The default, interval mode, answers once the record is in the page cache, written on
/// the request's own thread: a killed process loses none of them.
#[tokio::test]
async fn after_sigkill_under_load_every_completed_response_has_its_record() {
    sigkill_under_load("sync_interval_ms = 50\n").await;
}

#[tokio::test]
async fn after_sigkill_under_load_every_completed_response_has_its_record_in_group_mode() {
    sigkill_under_load("sync = \"group\"\n").await;
}

async fn sigkill_under_load(audit_extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, _config) = spawn_serve(dir.path(), audit_extra, false).await;
    let token = rsa_token(rsa_claims());
    let completed = Arc::new(Mutex::new(Vec::new()));
    // The kill comes once enough responses have completed, not at a fixed time: a
    // loaded machine syncs slower, and the test is about the responses that did
    // complete. Workers keep sending until the server is gone (or a hard bound).
    let hard_stop = Instant::now() + Duration::from_secs(40);
    let mut workers = Vec::new();
    for w in 0..8 {
        let (base, token, completed) = (base.clone(), token.clone(), Arc::clone(&completed));
        workers.push(tokio::spawn(async move {
            let client = client();
            let mut n = 0;
            while Instant::now() < hard_stop {
                n += 1;
                let sent = client
                    .post(format!("{base}/v1/chat/completions"))
                    .bearer_auth(&token)
                    .json(&echo(&format!("worker {w} request {n}")))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                let id = decision_id(&response);
                if response.bytes().await.is_ok() {
                    completed.lock().unwrap().push(id);
                }
            }
        }));
    }
    let started = Instant::now();
    while (completed.lock().unwrap().len() < 40 || started.elapsed() < Duration::from_millis(500))
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let completed = completed.lock().unwrap().clone();
    assert!(
        completed.len() >= 40,
        "only {} requests completed in {:?}",
        completed.len(),
        started.elapsed()
    );

    // Restart: a torn last record, if any, is cut off on open; the chain is whole.
    let (mut server, _base, _config) = spawn_serve(dir.path(), audit_extra, false).await;
    terminate(&mut server).await;
    let log = dir.path().join("log");
    let (code, out) = verify(&log);
    assert_eq!(code, 0, "{out}");
    let recorded: std::collections::HashSet<String> = event_ids(&log).into_iter().collect();
    let missing: Vec<&String> = completed
        .iter()
        .filter(|id| !recorded.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} completed responses have no record",
        missing.len()
    );

    // `tail` prints the latest events as JSON lines.
    let out = Command::new(BIN)
        .args(["audit", "tail", "-n", "3"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|e| e["decision_id"].is_string()));
}

/// A copy of the bundled policy directory.
fn bundled_policies(dir: &Path) {
    customs::policy::PolicySource::bundled()
        .write_to(dir)
        .unwrap();
}

async fn reload(gateway: &Arc<Gateway>) {
    let gateway = Arc::clone(gateway);
    tokio::task::spawn_blocking(move || gateway.reload_policies("test"))
        .await
        .unwrap();
}

/// A policy change is a durable audit record: a set applied and a set rejected each
/// become a `policy_change` record in the decisions' hash chain, in the order they
/// happened; `audit verify` counts them and names one that was altered; `audit tail`
/// prints them; the forwarder ships each once as the log record `customs.policy_change`
/// (and no span); `policy diff --replay` over the log replays the decisions and ignores
/// them.
#[tokio::test]
async fn a_policy_change_is_a_durable_record_verified_tailed_forwarded_and_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let policies = tempfile::tempdir().unwrap();
    bundled_policies(policies.path());
    let (collector, addr, _stop) = Collector::start(true).await;
    let mut config = forwarding_config(dir.path(), addr);
    config.policy.dir = Some(policies.path().to_path_buf());
    config.policy.watch_secs = 0;
    let gateway = AuditGateway::start(config).await;
    let token = dev_token("alice", json!({"groups": ["engineering"]}));
    let first = decision_id(&gateway.post(&token, &echo("before")).await);

    // Applied: one more policy. Rejected: an attribute the schema does not have.
    let extra = policies.path().join("zz-extra.cedar");
    std::fs::write(
        &extra,
        "@id(\"test.extra\")\n@reason(\"r\")\n@severity(\"info\")\npermit (principal in Customs::Group::\"qa\", action in Customs::Action::\"invoke\", resource);\n",
    )
    .unwrap();
    reload(&gateway.gateway).await;
    std::fs::write(
        &extra,
        "@id(\"test.broken\")\n@reason(\"r\")\npermit (principal, action, resource) when { principal.clearance > 3 };\n",
    )
    .unwrap();
    reload(&gateway.gateway).await;
    let second = decision_id(&gateway.post(&token, &echo("after")).await);

    // On disk when the reload returns, in order, in the chain.
    let kinds: Vec<(String, Value)> = records(dir.path())
        .into_iter()
        .filter(|r| r["kind"] != "checkpoint")
        .map(|r| (r["kind"].as_str().unwrap().to_owned(), r["body"].clone()))
        .collect();
    let order: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(order, ["event", "policy_change", "policy_change", "event"]);
    let (applied, rejected) = (&kinds[1].1, &kinds[2].1);
    assert_eq!(applied["outcome"], "applied");
    assert_eq!(applied["event"], "policy_change");
    assert_ne!(applied["version"], applied["previous_version"]);
    assert_eq!(rejected["outcome"], "rejected");
    assert_eq!(
        rejected["version"], applied["version"],
        "the last good set stays"
    );
    assert!(
        rejected["errors"][0]
            .as_str()
            .unwrap()
            .contains("zz-extra.cedar:"),
        "{rejected}"
    );
    assert_eq!(kinds[0].1["decision_id"], first.as_str());
    assert_eq!(kinds[3].1["decision_id"], second.as_str());

    // Forwarded: each policy change once, as a log record with its seq; no span.
    let started = Instant::now();
    let policy_logs = || {
        collector
            .logs
            .lock()
            .unwrap()
            .iter()
            .filter(|(name, _, _)| name == "customs.policy_change")
            .map(|(_, _, seq)| *seq)
            .collect::<Vec<i64>>()
    };
    collector.wait_for(2).await;
    while policy_logs().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "policy changes not forwarded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gateway.shutdown(Duration::from_secs(2)).await;
    let seqs: Vec<i64> = records(dir.path())
        .iter()
        .filter(|r| r["kind"] == "policy_change")
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(policy_logs(), seqs, "each policy change once, in order");
    assert_eq!(
        collector.request_spans().len(),
        2,
        "spans are for decisions only"
    );

    // verify counts them; tail prints them between the decisions.
    let (code, report) = verify(dir.path());
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("2 event(s), 2 policy change(s)"),
        "{report}"
    );
    let tail = Command::new(BIN)
        .args(["audit", "tail", "-n", "10"])
        .arg(dir.path())
        .output()
        .unwrap();
    let printed: Vec<Value> = String::from_utf8_lossy(&tail.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let labels: Vec<&str> = printed
        .iter()
        .map(|v| v["event"].as_str().unwrap_or("decision"))
        .collect();
    assert_eq!(
        labels,
        ["decision", "policy_change", "policy_change", "decision"]
    );

    // Replay reads the log directory: two decisions, the policy changes (and
    // checkpoints) ignored, nothing unreadable.
    let diff = Command::new(BIN)
        .args(["policy", "diff", "--format", "json", "--replay"])
        .arg(dir.path())
        .output()
        .unwrap();
    let replayed: Value = serde_json::from_slice(&diff.stdout).unwrap();
    assert_eq!(replayed["replayed"], 2, "{replayed}");
    assert_eq!(replayed["unreadable"], 0, "{replayed}");
    let checkpoints = records(dir.path())
        .iter()
        .filter(|r| r["kind"] == "checkpoint")
        .count();
    assert_eq!(replayed["ignored"], 2 + checkpoints, "{replayed}");

    // An altered policy change is named like any altered record.
    let tampered = copy_dir(dir.path());
    rewrite_lines(tampered.path(), |lines| {
        let at = lines
            .iter()
            .position(|l| l.contains("\"kind\":\"policy_change\""))
            .unwrap();
        lines[at] = lines[at].replace("\"outcome\":\"applied\"", "\"outcome\":\"rejected\"");
    });
    let (code, report) = verify(tampered.path());
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains(&format!("seq {}: content does not match its hash", seqs[0])),
        "{report}"
    );
}

/// `(decision_id, outcome, usage)` of every stream-end record in the log.
fn stream_ends(dir: &Path) -> Vec<(String, String, Value)> {
    records(dir)
        .iter()
        .filter(|r| r["kind"] == "stream_end")
        .map(|r| {
            let body = &r["body"];
            (
                body["decision_id"].as_str().unwrap().to_owned(),
                body["outcome"].as_str().unwrap().to_owned(),
                body["usage"].clone(),
            )
        })
        .collect()
}

/// The stream-end record of `id`, once it is in the log.
async fn wait_for_end(dir: &Path, id: &str) -> (String, String, Value) {
    let started = Instant::now();
    loop {
        if let Some(end) = stream_ends(dir).into_iter().find(|e| e.0 == id) {
            return end;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no stream end for {id}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_streams_end_is_a_durable_record_with_its_usage_or_the_callers_departure() {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_mock(&mock);
    config.audit = audit_config(dir.path()).audit;
    let gateway = AuditGateway::start(config).await;
    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let body = json!({"model": "claude-sonnet-4-anthropic-us", "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "Say hello."}]});
    let send = || {
        client()
            .post(format!("http://{}/v1/messages", gateway.addr))
            .header("x-api-key", &token)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
    };
    // Read to the end: completed, with the usage of the provider's events.
    let response = send().await.unwrap();
    assert_eq!(response.status(), 200);
    let completed = decision_id(&response);
    mock.release_stream();
    let text = response.text().await.unwrap();
    assert!(text.contains("message_stop"), "{text}");
    let (_, outcome, usage) = wait_for_end(dir.path(), &completed).await;
    assert_eq!(outcome, "completed");
    assert_eq!(usage, json!({"input_tokens": 7, "output_tokens": 2}));

    // The caller leaves after the first event: its departure is recorded.
    let response = send().await.unwrap();
    let gone = decision_id(&response);
    let mut stream = response.bytes_stream();
    let first = futures_util::StreamExt::next(&mut stream).await;
    assert!(first.is_some_and(|chunk| chunk.is_ok()));
    drop(stream);
    let (_, outcome, usage) = wait_for_end(dir.path(), &gone).await;
    assert_eq!(outcome, "client_gone");
    assert_eq!(
        usage["input_tokens"], 7,
        "what arrived before the caller left"
    );
    mock.release_stream();

    // Each after its own decision, once; the chain verifies and names the records.
    gateway.shutdown(Duration::from_millis(100)).await;
    let kinds: Vec<(String, String)> = records(dir.path())
        .iter()
        .filter(|r| r["kind"] != "checkpoint")
        .map(|r| {
            let id = r["body"]["decision_id"].as_str().unwrap_or_default();
            (r["kind"].as_str().unwrap().to_owned(), id.to_owned())
        })
        .collect();
    for id in [&completed, &gone] {
        let at = |kind: &str| kinds.iter().position(|(k, i)| k == kind && i == id);
        assert!(
            at("event").unwrap() < at("stream_end").unwrap(),
            "{kinds:?}"
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|(k, i)| k == "stream_end" && i == id)
                .count(),
            1
        );
    }
    let (code, out) = verify(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stream"), "verify reports stream ends: {out}");
}

/// A caller that hangs up while its request waits on the provider: the request left, so
/// its event goes into the durable log anyway, written or queued at the moment the
/// request is dropped (status 499, the deployment it went to).
#[tokio::test]
async fn a_request_whose_caller_hangs_up_is_a_durable_record() {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_with_slow_gpt4o(&mock);
    config.audit = audit_config(dir.path()).audit;
    let gateway = AuditGateway::start(config).await;
    let token = dev_token("bob", json!({"groups": ["engineering"], "residency": "US"}));
    let url = format!("http://{}/v1/chat/completions", gateway.addr);
    chat_and_hang_up(&url, &token, "hello").await;
    let started = Instant::now();
    let event = loop {
        let events: Vec<Value> = records(dir.path())
            .into_iter()
            .filter(|r| r["kind"] == "event")
            .map(|r| r["body"].clone())
            .collect();
        if let Some(event) = events.first() {
            assert_eq!(events.len(), 1, "{events:?}");
            break event.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no event in the log"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(event["status"], 499, "{event}");
    assert_eq!(event["code"], "client_closed_request", "{event}");
    assert_eq!(event["outcome"], "allow", "{event}");
    assert_eq!(event["deployment"]["id"], "gpt-4o-openai-us", "{event}");
    assert_eq!(mock.received().len(), 1);
}

/// A gateway served with a 300 ms shutdown grace period, with the durable log on in a
/// temporary directory and `gpt-4o-openai-us` sent to a mock provider.
struct ShortGrace {
    mock: MockUpstream,
    dir: tempfile::TempDir,
    gateway: Arc<Gateway>,
    addr: SocketAddr,
    /// Starts the shutdown.
    stop: Option<oneshot::Sender<()>>,
    /// The serving task, which returns once the connections are closed.
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// [`ShortGrace`], configured by `configure` from the mock; and a token for a US
/// engineer.
async fn serve_with_short_grace(configure: fn(&MockUpstream) -> Config) -> (ShortGrace, String) {
    let mock = MockUpstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = configure(&mock);
    config.audit = audit_config(dir.path()).audit;
    let gateway = build_gateway(config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(customs::server::serve(
        listener,
        Arc::clone(&gateway),
        async move {
            let _ = stopped.await;
        },
        Duration::from_millis(300),
    ));
    let token = dev_token("bob", json!({"groups": ["engineering"], "residency": "US"}));
    let served = ShortGrace {
        mock,
        dir,
        gateway,
        addr,
        stop: Some(stop),
        served: Some(served),
    };
    (served, token)
}

impl ShortGrace {
    /// Shuts down as `customs serve` does: the shutdown signal, the server's return,
    /// then the durable log sealed.
    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
        self.gateway
            .recorder()
            .durable_log()
            .unwrap()
            .shutdown(Duration::from_millis(100))
            .await;
    }
}

/// A request still waiting on the provider when a shutdown's grace period ends is cut
/// short: the caller gets a 503 `server_shutdown` in its API's format, and the event is
/// in the log, written before the log was sealed (outcome allow: it was forwarded).
#[tokio::test]
async fn a_request_in_flight_past_the_shutdown_grace_is_cut_short_and_recorded() {
    let (mut short, token) = serve_with_short_grace(config_with_slow_gpt4o).await;
    let addr = short.addr;
    let request = tokio::spawn(
        client()
            .post(format!("http://{addr}/v1/chat/completions"))
            .bearer_auth(token)
            .json(
                &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hello"}]}),
            )
            .send(),
    );
    let started = Instant::now();
    while short.mock.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never forwarded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    short.shut_down().await;

    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 503);
    let id = decision_id(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "server_shutdown", "{body}");
    let events: Vec<Value> = records(short.dir.path())
        .into_iter()
        .filter(|r| r["kind"] == "event")
        .map(|r| r["body"].clone())
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["decision_id"], id.as_str(), "{event}");
    assert_eq!(event["status"], 503, "{event}");
    assert_eq!(event["code"], "server_shutdown", "{event}");
    assert_eq!(event["outcome"], "allow", "{event}");
    assert_eq!(event["deployment"]["id"], "gpt-4o-openai-us", "{event}");
    let (code, out) = verify(short.dir.path());
    assert_eq!(code, 0, "{out}");
}

/// A stream still open when a shutdown's grace period ends breaks off: the caller gets
/// an error, never an answer that looks complete, and the stream's end is in the log
/// after its decision, as `server_shutdown`.
#[tokio::test]
async fn a_stream_open_past_the_shutdown_grace_breaks_off_and_its_end_is_recorded() {
    let (mut short, token) = serve_with_short_grace(config_with_mock).await;
    let addr = short.addr;
    let response = client()
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth(token)
        .json(&json!({"model": "gpt-4o-us", "stream": true,
            "messages": [{"role": "user", "content": "hello"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = decision_id(&response);
    let mut stream = response.bytes_stream();
    let first = futures_util::StreamExt::next(&mut stream).await;
    assert!(first.is_some_and(|chunk| chunk.is_ok()));
    assert_eq!(short.gateway.unsettled(), 1, "the open stream");
    // The provider holds the rest back (10 s) while Customs shuts down.
    short.shut_down().await;
    assert_eq!(short.gateway.unsettled(), 0);
    let mut rest = Vec::new();
    let broke = loop {
        match futures_util::StreamExt::next(&mut stream).await {
            Some(Ok(chunk)) => rest.extend_from_slice(&chunk),
            Some(Err(_)) => break true,
            None => break false,
        }
    };
    assert!(broke, "the stream ended as if complete");
    assert!(!String::from_utf8_lossy(&rest).contains("[DONE]"));

    assert_eq!(
        kinds_ids_outcomes(short.dir.path()),
        vec![
            ("event".to_owned(), id.clone(), "allow".to_owned()),
            ("stream_end".to_owned(), id, "server_shutdown".to_owned()),
        ]
    );
    short.mock.release_stream();
}

/// Kind, decision id and outcome of every record in the log in `dir` but checkpoints.
fn kinds_ids_outcomes(dir: &Path) -> Vec<(String, String, String)> {
    records(dir)
        .iter()
        .filter(|r| r["kind"] != "checkpoint")
        .map(|r| {
            let body = &r["body"];
            (
                r["kind"].as_str().unwrap().to_owned(),
                body["decision_id"].as_str().unwrap_or_default().to_owned(),
                body["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A stream whose caller has stopped reading cannot notice the cut at the end of a
/// shutdown's grace period (the server polls it only when it can write). Its end is
/// still in the log, as `server_shutdown`, written before the log was sealed.
#[tokio::test]
async fn a_stream_whose_caller_stopped_reading_has_its_end_recorded_at_shutdown() {
    let (mut short, token) = serve_with_short_grace(|mock| {
        let mut config = config_with_mock(mock);
        config
            .upstream
            .base_urls
            .insert("gpt-4o-openai-us".into(), mock.url("/flood/v1"));
        config
    })
    .await;
    // A caller with a small receive window that reads the answer's head and stops.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut caller = socket.connect(short.addr).await.unwrap();
    let body = json!({"model": "gpt-4o-us", "stream": true,
        "messages": [{"role": "user", "content": "hello"}]})
    .to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: customs\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    tokio::io::AsyncWriteExt::write_all(&mut caller, request.as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::io::AsyncReadExt::read(&mut caller, &mut byte)
            .await
            .unwrap();
        assert_eq!(n, 1, "closed before the answer's head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("x-customs-decision-id: "))
        .unwrap()
        .trim()
        .to_owned();
    // Until the provider's stream has stalled for a second: every buffer between it
    // and the caller is full, and nothing polls the stream any more.
    let started = Instant::now();
    let (mut last, mut still) = (0, 0);
    while still < 5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = short.mock.flooded();
        still = if now > 0 && now == last { still + 1 } else { 0 };
        last = now;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the stream never stalled"
        );
    }
    assert_eq!(short.gateway.unsettled(), 1, "the open stream");
    short.shut_down().await;
    assert_eq!(short.gateway.unsettled(), 0, "its end recorded");

    assert_eq!(
        kinds_ids_outcomes(short.dir.path()),
        vec![
            ("event".to_owned(), id.clone(), "allow".to_owned()),
            ("stream_end".to_owned(), id, "server_shutdown".to_owned()),
        ]
    );
    let (code, out) = verify(short.dir.path());
    assert_eq!(code, 0, "{out}");
    drop(caller);
}
