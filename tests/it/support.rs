//! Test doubles and helpers: a mock upstream provider that records what arrived, a mock
//! OTLP collector, an in-process gateway on a loopback port, and token minting.
//!
//! Everything listens on 127.0.0.1 with an OS-assigned port and stops with the test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use customs::audit::{DecisionEvent, Fingerprinter, Recorder, otel::OtelExport};
use customs::config::Config;
use customs::identity::{Algorithm, mint_dev_token, sign_token};
use customs::metrics::Metrics;
use customs::pipeline::Gateway;
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};

/// The environment variable every test process has (cargo and nextest set it), used as
/// the upstream credential source so that tests need not change the environment.
pub const CREDENTIAL_ENV: &str = "CARGO_PKG_NAME";
/// The upstream key the mock expects: the value of [`CREDENTIAL_ENV`].
pub const UPSTREAM_KEY: &str = env!("CARGO_PKG_NAME");
/// The prefix of the test AWS credentials (set for test processes by `.cargo/config.toml`).
pub const AWS_CREDENTIAL_PREFIX: &str = "CUSTOMS_TEST_AWS";
/// The test AWS access key id and secret, as `.cargo/config.toml` sets them.
pub const AWS_ACCESS_KEY_ID: &str = env!("CUSTOMS_TEST_AWS_ACCESS_KEY_ID");
/// See [`AWS_ACCESS_KEY_ID`].
pub const AWS_SECRET_ACCESS_KEY: &str = env!("CUSTOMS_TEST_AWS_SECRET_ACCESS_KEY");

/// One request as the mock upstream received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

#[derive(Clone, Default)]
struct MockState {
    received: Arc<Mutex<Vec<Received>>>,
    release: Arc<Notify>,
    /// Bytes of endless streams handed to the server so far.
    flooded: Arc<AtomicUsize>,
}

/// A stand-in for an OpenAI-compatible provider.
pub struct MockUpstream {
    pub addr: SocketAddr,
    state: MockState,
    _stop: oneshot::Sender<()>,
}

impl MockUpstream {
    pub async fn start() -> MockUpstream {
        let state = MockState::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(mock_chat))
            .route("/v1/embeddings", post(mock_embeddings))
            .route("/v1/responses", post(mock_chat))
            .route(
                "/openai/deployments/{name}/chat/completions",
                post(mock_chat),
            )
            .route("/v1/messages", post(mock_anthropic))
            .route("/v1beta/models/{target}", post(mock_gemini))
            .route(
                "/v1/projects/{project}/locations/{location}/publishers/google/models/{target}",
                post(mock_gemini),
            )
            .route("/model/{id}/{operation}", post(mock_bedrock))
            .route("/slow/v1/chat/completions", post(mock_slow))
            .route("/hold/v1/chat/completions", post(mock_hold))
            .route("/flood/v1/chat/completions", post(mock_flood))
            .with_state(state.clone());
        let (addr, stop) = serve(app).await;
        MockUpstream {
            addr,
            state,
            _stop: stop,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Lets a held stream finish.
    pub fn release_stream(&self) {
        self.state.release.notify_one();
    }

    /// Bytes of `/flood` streams handed to the mock's server so far.
    pub fn flooded(&self) -> usize {
        self.state.flooded.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn serve(app: Router) -> (SocketAddr, oneshot::Sender<()>) {
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
    (addr, stop)
}

fn record(state: &MockState, uri: &Uri, headers: &HeaderMap, body: &Bytes) {
    state.received.lock().unwrap().push(Received {
        path: uri.to_string(),
        headers: headers.clone(),
        body: String::from_utf8_lossy(body).into_owned(),
    });
}

async fn mock_chat(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (whole, first, second) = says(&body);
    if request["stream"] == json!(true) {
        let release = Arc::clone(&state.release);
        let stream = async_stream(release, (first, second));
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(stream))
            .unwrap();
    }
    axum::Json(json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 1,
        "model": request["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": whole}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    }))
    .into_response()
}

/// An endless chat stream, sent as fast as the reader takes it: events of 32 KiB of
/// text (cheap for a reader to decode per byte), counted in [`MockUpstream::flooded`].
/// Ends when the reader goes away, or after 60 s so that a failing test still ends.
async fn mock_flood(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    let event = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": "flood ".repeat(32 * 1024 / 6)}, "finish_reason": null}]});
    let chunk = Bytes::from(format!("data: {event}\n\n"));
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    let stream = futures_util::stream::unfold((), move |()| {
        let chunk = chunk.clone();
        let flooded = Arc::clone(&state.flooded);
        async move {
            if tokio::time::Instant::now() > until {
                return None;
            }
            flooded.fetch_add(chunk.len(), Ordering::SeqCst);
            Some((Ok::<_, std::io::Error>(chunk), ()))
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// The first chunk at once; the rest only after [`MockUpstream::release_stream`] (or
/// after 10 s, so that a failing test still ends).
fn async_stream(
    release: Arc<Notify>,
    (first, second): (String, String),
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let chunk = |content: &str| {
        let event = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]});
        Bytes::from(format!("data: {event}\n\n"))
    };
    held_stream(
        release,
        chunk(&first),
        vec![chunk(&second), Bytes::from_static(b"data: [DONE]\n\n")],
    )
}

/// What the mock answers: whole, and as a stream's first and second piece. When the
/// request holds the placeholder `[EMAIL_1]` (or an email's hash token,
/// `[EMAIL#<12 hex>]`), the answer echoes it, in a stream cut in the middle of it, so
/// that tests can see Customs restore it.
pub fn says(request: &[u8]) -> (String, String, String) {
    match echoed_token(&String::from_utf8_lossy(request)) {
        Some(token) => {
            let (head, tail) = token.split_at(4);
            (
                format!("mock saw {token}"),
                format!("first {head}"),
                format!("{tail} second"),
            )
        }
        None => ("mock says hi".into(), "first".into(), "second".into()),
    }
}

/// `[EMAIL_1]`, else the first hash token of an email, in a request.
fn echoed_token(request: &str) -> Option<String> {
    if request.contains("[EMAIL_1]") {
        return Some("[EMAIL_1]".to_owned());
    }
    let start = request.find("[EMAIL#")?;
    let token = request.get(start..start + "[EMAIL#".len() + 13)?;
    token.ends_with(']').then(|| token.to_owned())
}

/// `first` at once; `rest` only after [`MockUpstream::release_stream`] (or after 10 s,
/// so that a failing test still ends).
pub fn held_stream(
    release: Arc<Notify>,
    first: Bytes,
    rest: Vec<Bytes>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(0usize, move |step| {
        let release = Arc::clone(&release);
        let first = first.clone();
        let rest = rest.clone();
        async move {
            match step {
                0 => Some((Ok(first), 1)),
                1 => {
                    let _ = tokio::time::timeout(Duration::from_secs(10), release.notified()).await;
                    rest.first().map(|b| (Ok(b.clone()), 2))
                }
                n => rest.get(n - 1).map(|b| (Ok(b.clone()), n + 1)),
            }
        }
    })
}

/// Anthropic's Messages API: a message, or its named events (the first at once, the
/// rest when released).
async fn mock_anthropic(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (whole, first_piece, second_piece) = says(&body);
    if request["stream"] == json!(true) {
        let event =
            |name: &str, data: Value| Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
        let delta = |text: &str| {
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            )
        };
        let first = [
            event("message_start", json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant", "model": request["model"], "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 7, "output_tokens": 0}}})),
            event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
            delta(&first_piece),
        ]
        .concat();
        let rest = vec![
            delta(&second_piece),
            event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
            event(
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 2}}),
            ),
            event("message_stop", json!({"type": "message_stop"})),
        ];
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(held_stream(
                Arc::clone(&state.release),
                Bytes::from(first),
                rest,
            )))
            .unwrap();
    }
    axum::Json(json!({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": request["model"],
        "content": [{"type": "text", "text": whole}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 7, "output_tokens": 3}
    }))
    .into_response()
}

/// The Bedrock runtime: `converse` answers JSON; `converse-stream` answers AWS
/// event-stream frames, the first (with "first") at once, the rest when released.
async fn mock_bedrock(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use customs::providers::eventstream::{Message, encode};
    record(&state, &uri, &headers, &body);
    let (whole, first_piece, second_piece) = says(&body);
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let claude = request.get("anthropic_version").is_some();
    if uri.path().ends_with("/invoke") && claude {
        return axum::Json(json!({
            "id": "msg_mock", "type": "message", "role": "assistant", "model": "claude",
            "content": [{"type": "text", "text": whole}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 7, "output_tokens": 3}
        }))
        .into_response();
    }
    if uri.path().ends_with("/invoke") {
        return axum::Json(json!({"embedding": [0.1, 0.2, 0.3], "inputTextTokenCount": 3}))
            .into_response();
    }
    if uri.path().ends_with("/invoke-with-response-stream") {
        use base64::Engine as _;
        let chunk = |event: Value| {
            let bytes = base64::engine::general_purpose::STANDARD.encode(event.to_string());
            encode(&Message::event(
                "chunk",
                json!({"bytes": bytes}).to_string(),
            ))
            .unwrap()
        };
        let delta = |text: &str| {
            chunk(
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
            )
        };
        let first = [
            chunk(json!({"type": "message_start", "message": {"id": "msg_mock", "type": "message", "role": "assistant", "model": "claude", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 7, "output_tokens": 0}}})),
            chunk(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
            delta(&first_piece),
        ]
        .concat();
        let rest = vec![
            delta(&second_piece),
            chunk(json!({"type": "content_block_stop", "index": 0})),
            chunk(
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 2}}),
            ),
            chunk(json!({"type": "message_stop"})),
        ];
        return Response::builder()
            .header("content-type", "application/vnd.amazon.eventstream")
            .body(Body::from_stream(held_stream(
                Arc::clone(&state.release),
                Bytes::from(first),
                rest,
            )))
            .unwrap();
    }
    if uri.path().ends_with("/converse-stream") {
        let frame = |name: &str, payload: Value| {
            encode(&Message::event(name, payload.to_string())).unwrap()
        };
        let delta = |text: &str| {
            frame(
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": text}}),
            )
        };
        let first = [
            frame("messageStart", json!({"role": "assistant"})),
            delta(&first_piece),
        ]
        .concat();
        let rest = vec![
            delta(&second_piece),
            frame("contentBlockStop", json!({"contentBlockIndex": 0})),
            frame("messageStop", json!({"stopReason": "end_turn"})),
            frame(
                "metadata",
                json!({"usage": {"inputTokens": 7, "outputTokens": 2, "totalTokens": 9}, "metrics": {"latencyMs": 1}}),
            ),
        ];
        return Response::builder()
            .header("content-type", "application/vnd.amazon.eventstream")
            .body(Body::from_stream(held_stream(
                Arc::clone(&state.release),
                Bytes::from(first),
                rest,
            )))
            .unwrap();
    }
    axum::Json(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": whole}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 7, "outputTokens": 3, "totalTokens": 10},
        "metrics": {"latencyMs": 1}
    }))
    .into_response()
}

/// Google's Gemini API and Vertex AI (`models/{model}:{method}`): a response, an
/// embedding, or a stream whose first chunk (with "first") comes at once and the rest
/// when released, as server-sent events for `alt=sse` and as a JSON array otherwise.
async fn mock_gemini(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    let (whole, first_piece, second_piece) = says(&body);
    let response = |text: &str| {
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}],
            "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 1, "totalTokenCount": 8},
            "modelVersion": "gemini-mock"})
    };
    let path = uri.path();
    if path.ends_with(":streamGenerateContent") {
        let (content_type, first, rest) = if uri.query() == Some("alt=sse") {
            let event = |text: &str| Bytes::from(format!("data: {}\r\n\r\n", response(text)));
            (
                "text/event-stream",
                event(&first_piece),
                vec![event(&second_piece)],
            )
        } else {
            (
                "application/json",
                Bytes::from(format!("[{}", response(&first_piece))),
                vec![
                    Bytes::from(format!(",\r\n{}", response(&second_piece))),
                    Bytes::from_static(b"]"),
                ],
            )
        };
        return Response::builder()
            .header("content-type", content_type)
            .body(Body::from_stream(held_stream(
                Arc::clone(&state.release),
                first,
                rest,
            )))
            .unwrap();
    }
    if path.ends_with(":embedContent") {
        return axum::Json(json!({"embedding": {"values": [0.1, 0.2, 0.3]}})).into_response();
    }
    if path.ends_with(":batchEmbedContents") {
        return axum::Json(json!({"embeddings": [{"values": [0.1, 0.2, 0.3]}]})).into_response();
    }
    if path.ends_with(":predict") {
        return axum::Json(json!({"predictions": [{"embeddings": {"values": [0.1, 0.2, 0.3], "statistics": {"token_count": 4, "truncated": false}}}]}))
            .into_response();
    }
    if path.ends_with(":countTokens") {
        return axum::Json(json!({"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 31}]}))
            .into_response();
    }
    axum::Json(response(&whole)).into_response()
}

async fn mock_embeddings(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    axum::Json(json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 2, "total_tokens": 2}
    }))
    .into_response()
}

async fn mock_slow(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&state, &uri, &headers, &body);
    tokio::time::sleep(Duration::from_secs(5)).await;
    axum::Json(json!({})).into_response()
}

/// Answers after 1.5 s: long enough to be in flight when the gateway is told to stop.
async fn mock_hold(
    State(state): State<MockState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    mock_chat(State(state), uri, headers, body).await
}

/// Request bodies by path, as a collector received them.
type Bodies = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A stand-in OTLP/HTTP collector that keeps every body it receives.
pub struct MockCollector {
    pub addr: SocketAddr,
    bodies: Bodies,
    _stop: oneshot::Sender<()>,
}

impl MockCollector {
    pub async fn start() -> MockCollector {
        let bodies: Bodies = Arc::default();
        let app = Router::new().fallback({
            let bodies = Arc::clone(&bodies);
            move |uri: Uri, body: Bytes| {
                let bodies = Arc::clone(&bodies);
                async move {
                    bodies
                        .lock()
                        .unwrap()
                        .push((uri.path().to_owned(), body.to_vec()));
                    ([("content-type", "application/x-protobuf")], Bytes::new())
                }
            }
        });
        let (addr, stop) = serve(app).await;
        MockCollector {
            addr,
            bodies,
            _stop: stop,
        }
    }

    pub fn bodies(&self, path: &str) -> Vec<Vec<u8>> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

/// Serves `gateway` on an OS-assigned loopback port until the returned sender is
/// dropped (or sent to); in-flight requests then get one second to finish.
pub async fn serve_gateway(gateway: Arc<Gateway>) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = customs::server::serve(
            listener,
            gateway,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(1),
        )
        .await;
    });
    (addr, stop)
}

/// A gateway serving on a loopback port, keeping its decision events in memory.
pub struct TestGateway {
    pub addr: SocketAddr,
    pub events: Arc<Mutex<Vec<DecisionEvent>>>,
    _stop: oneshot::Sender<()>,
}

impl TestGateway {
    pub async fn start(config: Config) -> TestGateway {
        TestGateway::start_with(config, None).await
    }

    pub async fn start_with(config: Config, otel: Option<Arc<OtelExport>>) -> TestGateway {
        let metrics = Arc::new(Metrics::new());
        let (recorder, events) = Recorder::new(Arc::clone(&metrics), otel).with_memory();
        let gateway = Gateway::build(
            config,
            recorder,
            metrics,
            Fingerprinter::with_key(b"test-key"),
        )
        .await
        .unwrap();
        let gateway = Arc::new(gateway);
        let (addr, stop) = serve_gateway(gateway).await;
        TestGateway {
            addr,
            events,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn events(&self) -> Vec<DecisionEvent> {
        self.events.lock().unwrap().clone()
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        client()
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// POSTs JSON with a bearer token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        client()
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// [`config_with_mock`], with `gpt-4o-openai-us` (the deployment of `gpt-4o-us`) at
/// the mock's path that answers after 5 s, and time enough to wait for it.
pub fn config_with_slow_gpt4o(mock: &MockUpstream) -> Config {
    let mut config = config_with_mock(mock);
    config.server.upstream_timeout_secs = 30;
    config
        .upstream
        .base_urls
        .insert("gpt-4o-openai-us".into(), mock.url("/slow/v1"));
    config
}

/// Sends a chat request for `gpt-4o-us` with `content` to `url` and hangs up after
/// 400 ms, before any answer from a slow upstream.
pub async fn chat_and_hang_up(url: &str, token: &str, content: &str) {
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .no_proxy()
        .build()
        .unwrap();
    let sent = impatient
        .post(url)
        .bearer_auth(token)
        .json(&json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": content}]}))
        .send()
        .await;
    assert!(sent.is_err_and(|e| e.is_timeout()));
}

/// The embedded default, with the catalog's remote deployments pointed at `mock`.
pub fn config_with_mock(mock: &MockUpstream) -> Config {
    let mut config = Config::embedded().unwrap();
    for (id, base) in [
        ("gpt-4o-openai-us", mock.url("/v1")),
        ("text-embedding-3-small-openai-us", mock.url("/v1")),
        ("gpt-4o-azure-swedencentral", mock.url("")),
        ("claude-sonnet-4-anthropic-us", mock.url("")),
        ("gemini-2.5-flash-gemini-api", mock.url("/v1beta")),
        (
            "gemini-2.5-pro-vertex-europe-west4",
            mock.url("/v1/projects/p/locations/europe-west4/publishers/google"),
        ),
        (
            "gemini-2.5-pro-vertex-us-central1",
            mock.url("/v1/projects/p/locations/us-central1/publishers/google"),
        ),
        (
            "gemini-embedding-vertex-europe-west4",
            mock.url("/v1/projects/p/locations/europe-west4/publishers/google"),
        ),
        (
            "text-embedding-005-vertex-europe-west4",
            mock.url("/v1/projects/p/locations/europe-west4/publishers/google"),
        ),
    ] {
        config.upstream.base_urls.insert(id.into(), base);
        config
            .upstream
            .credential_envs
            .insert(id.into(), CREDENTIAL_ENV.into());
    }
    for id in [
        "claude-sonnet-4-bedrock-eu-central-1",
        "claude-sonnet-4-bedrock-us-east-1",
        "gpt-oss-120b-bedrock-eu-central-1",
        "gpt-oss-120b-bedrock-us-east-1",
        "titan-embed-text-v2-bedrock-eu-central-1",
    ] {
        config.upstream.base_urls.insert(id.into(), mock.url(""));
        config
            .upstream
            .credential_envs
            .insert(id.into(), AWS_CREDENTIAL_PREFIX.into());
    }
    config
}

/// A development token (trusted by the embedded default only).
pub fn dev_token(sub: &str, claims: Value) -> String {
    let Value::Object(claims) = claims else {
        panic!("claims must be an object")
    };
    mint_dev_token(sub, claims, Duration::from_secs(600)).unwrap()
}

pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/keys")
}

pub const RSA_ISSUER: &str = "https://idp.example.test";
pub const RSA_AUDIENCE: &str = "customs-test";
pub const RSA_KID: &str = "test-rsa-1";

/// A configuration that trusts only the RSA test key from a JWKS file.
pub fn rsa_config() -> Config {
    let mut config = Config::embedded().unwrap();
    config.auth.trust_dev_key = false;
    config.auth.issuer = RSA_ISSUER.into();
    config.auth.audience = RSA_AUDIENCE.into();
    config.auth.jwks_file = Some(keys_dir().join("jwks.json"));
    config.auth.algorithms = vec!["RS256".into()];
    config
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs claims with the RSA test key.
pub fn rsa_token(claims: Value) -> String {
    let pem = std::fs::read(keys_dir().join("rsa_test.pem")).unwrap();
    sign_token(Algorithm::RS256, &pem, Some(RSA_KID), &claims).unwrap()
}

pub fn rsa_claims() -> Value {
    json!({"sub": "carol", "iss": RSA_ISSUER, "aud": RSA_AUDIENCE, "exp": now() + 600, "nbf": now() - 5, "iat": now(), "groups": ["engineering"]})
}

/// Sends `signal` (`"HUP"`, `"TERM"`, ...) to the process `server`.
pub fn send_signal(server: &tokio::process::Child, signal: &str) {
    let pid = server.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}").as_str(), &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// SIGTERM to `server`, then a clean exit within 20 s.
pub async fn terminate(server: &mut tokio::process::Child) {
    send_signal(server, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "customs serve exited with {status}");
}
