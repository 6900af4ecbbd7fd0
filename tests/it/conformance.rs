//! One conformance suite for every wire format Customs speaks: each check below runs
//! over the whole [`surfaces`] table, so a surface added to the table is held to the
//! same guarantees as the others.
//!
//! - PII in each kind of segment the surface has is redacted before it reaches the
//!   upstream, and the decision event names the surface.
//! - A denied request never reaches the upstream, and the error keeps the surface's
//!   shape; so do malformed bodies and missing credentials.
//! - Streams are passed on incrementally: the caller reads the first chunk while the
//!   upstream is still holding back the rest.
//! - The caller's own key never reaches the upstream.
//! - Placeholders the model echoes come back as the caller's own values, in answers read
//!   whole and in streams, including one cut between two stream events; the usage the
//!   provider reports reaches the decision event.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::support::*;

const EMAIL: &str = "jane.doe@example.com";
const SECRET: &str = "my key is AKIAIOSFODNN7EXAMPLE ok";

/// Where in a request a piece of text sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    System,
    Message,
    ToolArguments,
    ToolResult,
    ToolDefinition,
}

const ALL_PLACES: &[Place] = &[
    Place::System,
    Place::Message,
    Place::ToolArguments,
    Place::ToolResult,
    Place::ToolDefinition,
];

/// One wire format, as its SDK would speak it to Customs.
struct Surface {
    /// The `surface` the decision event records.
    name: &'static str,
    /// The model the caller names (routed to a deployment on the mock upstream).
    model: &'static str,
    /// The path on Customs, given the model and whether a stream is wanted.
    path: fn(&str, bool) -> String,
    /// The header the SDK sends its key in; `None` for `Authorization: Bearer`.
    key_header: Option<&'static str>,
    /// A request body with `text` in `place`.
    body: fn(&str, Place, &str, bool) -> Value,
    /// The places this surface has.
    places: &'static [Place],
    /// The path prefix the upstream must be called on.
    upstream_path: &'static str,
    /// Whether a JSON error body has the surface's own error shape.
    error_shape: fn(&Value) -> bool,
}

fn openai_error(v: &Value) -> bool {
    v["error"]["message"].is_string() && v["error"]["type"].is_string()
}

fn anthropic_error(v: &Value) -> bool {
    v["type"] == "error" && v["error"]["type"].is_string() && v["error"]["message"].is_string()
}

fn bedrock_error(v: &Value) -> bool {
    v["message"].is_string() && v["__type"].is_string()
}

fn google_error(v: &Value) -> bool {
    v["error"]["code"].is_u64()
        && v["error"]["message"].is_string()
        && v["error"]["status"].is_string()
}

/// Google's format in camelCase, as the `google-genai` SDK sends it.
fn gemini_body(_model: &str, place: Place, text: &str, _stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "systemInstruction": {"parts": [{"text": pick(Place::System)}]},
        "contents": [
            {"role": "user", "parts": [{"text": pick(Place::Message)}]},
            {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {"query": pick(Place::ToolArguments)}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {"result": pick(Place::ToolResult)}}}]}
        ],
        "tools": [{"functionDeclarations": [{"name": "lookup", "description": pick(Place::ToolDefinition), "parameters": {"type": "OBJECT"}}]}]
    })
}

/// The same in snake_case, which Google's REST endpoints read as well.
fn gemini_snake_body(_model: &str, place: Place, text: &str, _stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "system_instruction": {"parts": [{"text": pick(Place::System)}]},
        "contents": [
            {"role": "user", "parts": [{"text": pick(Place::Message)}]},
            {"role": "model", "parts": [{"function_call": {"name": "lookup", "args": {"query": pick(Place::ToolArguments)}}}]},
            {"role": "user", "parts": [{"function_response": {"name": "lookup", "response": {"result": pick(Place::ToolResult)}}}]}
        ],
        "tools": [{"function_declarations": [{"name": "lookup", "description": pick(Place::ToolDefinition), "parameters": {"type": "OBJECT"}}]}]
    })
}

fn converse_body(_model: &str, place: Place, text: &str, _stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "system": [{"text": pick(Place::System)}],
        "messages": [
            {"role": "user", "content": [{"text": pick(Place::Message)}]},
            {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"query": pick(Place::ToolArguments)}}}]},
            {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": pick(Place::ToolResult)}]}}]}
        ],
        "inferenceConfig": {"maxTokens": 256},
        "toolConfig": {"tools": [{"toolSpec": {"name": "lookup", "description": pick(Place::ToolDefinition), "inputSchema": {"json": {"type": "object"}}}}]}
    })
}

fn chat_body(model: &str, place: Place, text: &str, stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "model": model,
        "stream": stream,
        "messages": [
            {"role": "system", "content": pick(Place::System)},
            {"role": "user", "content": [{"type": "text", "text": pick(Place::Message)}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": json!({"query": pick(Place::ToolArguments)}).to_string()}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": pick(Place::ToolResult)}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "description": pick(Place::ToolDefinition), "parameters": {"type": "object"}}}]
    })
}

fn responses_body(model: &str, place: Place, text: &str, stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "model": model,
        "stream": stream,
        "instructions": pick(Place::System),
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": pick(Place::Message)}]},
            {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": json!({"query": pick(Place::ToolArguments)}).to_string()},
            {"type": "function_call_output", "call_id": "call_1", "output": pick(Place::ToolResult)}
        ],
        "tools": [{"type": "function", "name": "lookup", "description": pick(Place::ToolDefinition), "parameters": {"type": "object"}}]
    })
}

fn anthropic_body(model: &str, place: Place, text: &str, stream: bool) -> Value {
    let plain = "Summarise the thread.";
    let pick = |p: Place| if place == p { text } else { plain };
    json!({
        "model": model,
        "max_tokens": 256,
        "stream": stream,
        "system": [{"type": "text", "text": pick(Place::System)}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": pick(Place::Message)}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"query": pick(Place::ToolArguments)}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": pick(Place::ToolResult)}]}]}
        ],
        "tools": [{"name": "lookup", "description": pick(Place::ToolDefinition), "input_schema": {"type": "object"}}]
    })
}

fn surfaces() -> Vec<Surface> {
    vec![
        Surface {
            name: "openai.chat_completions",
            model: "gpt-4o-us",
            path: |_, _| "/v1/chat/completions".into(),
            key_header: None,
            body: chat_body,
            places: ALL_PLACES,
            upstream_path: "/v1/chat/completions",
            error_shape: openai_error,
        },
        Surface {
            name: "openai.responses",
            model: "gpt-4o-us",
            path: |_, _| "/v1/responses".into(),
            key_header: None,
            body: responses_body,
            places: ALL_PLACES,
            upstream_path: "/v1/responses",
            error_shape: openai_error,
        },
        Surface {
            name: "openai.chat_completions",
            model: "gpt-4o",
            path: |model, _| {
                format!("/openai/deployments/{model}/chat/completions?api-version=2024-10-21")
            },
            key_header: Some("api-key"),
            body: chat_body,
            places: ALL_PLACES,
            upstream_path: "/openai/deployments/gpt-4o/chat/completions",
            error_shape: openai_error,
        },
        Surface {
            name: "anthropic.messages",
            model: "claude-sonnet-4-anthropic-us",
            path: |_, _| "/v1/messages".into(),
            key_header: Some("x-api-key"),
            body: anthropic_body,
            places: ALL_PLACES,
            upstream_path: "/v1/messages",
            error_shape: anthropic_error,
        },
        // Claude on Bedrock through Anthropic's SDK: the alias prefers Bedrock, whose
        // InvokeModel takes the Messages body.
        Surface {
            name: "anthropic.messages",
            model: "claude-sonnet-4",
            path: |_, _| "/v1/messages".into(),
            key_header: Some("x-api-key"),
            body: anthropic_body,
            places: ALL_PLACES,
            upstream_path: "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke",
            error_shape: anthropic_error,
        },
        Surface {
            name: "bedrock.converse",
            model: "claude-sonnet-4",
            path: |model, stream| {
                format!(
                    "/model/{model}/{}",
                    if stream {
                        "converse-stream"
                    } else {
                        "converse"
                    }
                )
            },
            key_header: None,
            body: converse_body,
            places: ALL_PLACES,
            upstream_path: "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
            error_shape: bedrock_error,
        },
        // The Gemini API; streams as server-sent events (`alt=sse`).
        Surface {
            name: "gemini.generate_content",
            model: "gemini-2.5-flash",
            path: |model, stream| {
                if stream {
                    format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
                } else {
                    format!("/v1beta/models/{model}:generateContent")
                }
            },
            key_header: Some("x-goog-api-key"),
            body: gemini_body,
            places: ALL_PLACES,
            upstream_path: "/v1beta/models/gemini-2.5-flash:",
            error_shape: google_error,
        },
        // Vertex AI with a bearer token; streams as Google's JSON array.
        Surface {
            name: "gemini.generate_content",
            model: "gemini-2.5-pro",
            path: |model, stream| {
                format!(
                    "/v1/projects/my-project/locations/us-central1/publishers/google/models/{model}:{}",
                    if stream {
                        "streamGenerateContent"
                    } else {
                        "generateContent"
                    }
                )
            },
            key_header: None,
            body: gemini_snake_body,
            places: ALL_PLACES,
            upstream_path: "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-pro:",
            error_shape: google_error,
        },
    ]
}

fn token() -> String {
    dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    )
}

/// Sends `body` (JSON or raw) the way the surface's SDK would, with `key` if any.
async fn send(
    gateway: &TestGateway,
    surface: &Surface,
    path: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = client()
        .post(gateway.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(key) = key {
        request = match surface.key_header {
            Some(name) => request.header(name, key),
            None => request.bearer_auth(key),
        };
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn pii_in_every_segment_is_redacted_before_the_upstream() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    for surface in surfaces() {
        for &place in surface.places {
            let text = format!("Please reach {EMAIL} today.");
            let body = (surface.body)(surface.model, place, &text, false);
            let path = (surface.path)(surface.model, false);
            let response = send(
                &gateway,
                &surface,
                &path,
                Some(&token),
                body.to_string().into_bytes(),
            )
            .await;
            let status = response.status();
            let answer = response.text().await.unwrap();
            assert_eq!(status, 200, "{} {place:?}: {answer}", surface.name);
            let received = mock.received();
            let last = received.last().unwrap();
            assert!(
                last.path.starts_with(surface.upstream_path),
                "{} went to {}",
                surface.name,
                last.path
            );
            assert!(
                !last.body.contains(EMAIL),
                "{} {place:?}: the address reached the upstream",
                surface.name
            );
            assert!(
                last.body.contains("[EMAIL_1]"),
                "{} {place:?}: no placeholder upstream: {}",
                surface.name,
                last.body
            );
            let event = gateway.events().pop().unwrap();
            let recorded = serde_json::to_value(&event).unwrap();
            assert_eq!(recorded["surface"], surface.name);
            assert_eq!(event.outcome, customs::audit::Outcome::Modify);
            assert_eq!(event.redactions, 1, "{} {place:?}", surface.name);
        }
    }
}

#[tokio::test]
async fn denied_requests_never_reach_the_upstream_and_errors_keep_the_surface_shape() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    for surface in surfaces() {
        let path = (surface.path)(surface.model, false);
        // A secret: refused by policy.
        let body = (surface.body)(surface.model, Place::Message, SECRET, false);
        let before = mock.received().len();
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 403, "{}", surface.name);
        let error: Value = response.json().await.unwrap();
        assert!((surface.error_shape)(&error), "{}: {error}", surface.name);
        assert!(!error.to_string().contains("AKIA"), "{}", surface.name);
        assert_eq!(
            mock.received().len(),
            before,
            "{} reached upstream",
            surface.name
        );

        // Malformed JSON: 400 in the surface's shape.
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            b"{\"model\":".to_vec(),
        )
        .await;
        assert_eq!(response.status(), 400, "{}", surface.name);
        let error: Value = response.json().await.unwrap();
        assert!((surface.error_shape)(&error), "{}: {error}", surface.name);

        // No key: 401 in the surface's shape.
        let body = (surface.body)(surface.model, Place::Message, "hello", false);
        let response = send(
            &gateway,
            &surface,
            &path,
            None,
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 401, "{}", surface.name);
        let error: Value = response.json().await.unwrap();
        assert!((surface.error_shape)(&error), "{}: {error}", surface.name);
        assert_eq!(
            mock.received().len(),
            before,
            "{} reached upstream",
            surface.name
        );
    }
    // Every request was recorded, whatever became of it.
    assert_eq!(gateway.events().len(), 3 * surfaces().len());
}

#[tokio::test]
async fn streams_are_passed_on_as_they_arrive() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    for surface in surfaces() {
        let path = (surface.path)(surface.model, true);
        let body = (surface.body)(surface.model, Place::Message, "stream please", true);
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", surface.name);
        let mut stream = response.bytes_stream();
        let mut seen = Vec::new();
        // The upstream holds everything after its first chunk until released, so
        // reading "first" here proves nothing waits for the whole stream.
        while !String::from_utf8_lossy(&seen).contains("first") {
            let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .unwrap_or_else(|_| panic!("{}: first chunk was held back", surface.name))
                .unwrap()
                .unwrap();
            seen.extend_from_slice(&chunk);
        }
        assert!(!String::from_utf8_lossy(&seen).contains("second"));
        mock.release_stream();
        while let Some(chunk) = stream.next().await {
            seen.extend_from_slice(&chunk.unwrap());
        }
        assert!(
            String::from_utf8_lossy(&seen).contains("second"),
            "{}",
            surface.name
        );
    }
}

#[tokio::test]
async fn echoed_placeholders_come_back_restored_and_usage_is_recorded() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    for surface in surfaces() {
        let text = format!("Please reach {EMAIL} today.");
        // Whole: the mock answers "mock saw [EMAIL_1]".
        let path = (surface.path)(surface.model, false);
        let body = (surface.body)(surface.model, Place::Message, &text, false);
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", surface.name);
        let answer = response.text().await.unwrap();
        assert!(
            answer.contains(&format!("mock saw {EMAIL}")),
            "{}: not restored: {answer}",
            surface.name
        );
        assert!(!answer.contains("[EMAIL_1]"), "{}: {answer}", surface.name);
        assert!(
            !mock.received().last().unwrap().body.contains(EMAIL),
            "{}",
            surface.name
        );
        let event = gateway.events().pop().unwrap();
        let usage = event.usage.expect("usage recorded");
        assert!(usage.input_tokens.is_some(), "{}: {usage:?}", surface.name);

        // Streamed: the mock cuts the placeholder in two ("first [EMA", "IL_1] second").
        let path = (surface.path)(surface.model, true);
        let body = (surface.body)(surface.model, Place::Message, &text, true);
        mock.release_stream();
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", surface.name);
        let streamed = response.bytes().await.unwrap();
        let streamed = String::from_utf8_lossy(&streamed);
        assert!(
            streamed.contains(EMAIL),
            "{}: the split placeholder was not restored: {streamed}",
            surface.name
        );
        assert!(!streamed.contains("[EMA"), "{}: {streamed}", surface.name);
        assert!(streamed.contains("second"), "{}", surface.name);
    }
}

#[tokio::test]
async fn the_callers_key_never_reaches_the_upstream() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    for surface in surfaces() {
        let path = (surface.path)(surface.model, false);
        let body = (surface.body)(surface.model, Place::Message, "hello", false);
        let response = send(
            &gateway,
            &surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", surface.name);
        let received = mock.received();
        let last = received.last().unwrap();
        for (name, value) in &last.headers {
            assert!(
                !value.to_str().unwrap_or_default().contains(&token),
                "{}: the caller's token went upstream in {name}",
                surface.name
            );
        }
        assert!(
            last.headers
                .values()
                .any(|v| v.to_str().unwrap_or_default().contains(UPSTREAM_KEY)),
            "{}: the upstream got no key of Customs' own",
            surface.name
        );
    }
}

#[tokio::test]
async fn bedrock_requests_carry_customs_own_sigv4_signature_over_the_redacted_body() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let body = converse_body("", Place::Message, &format!("Mail {EMAIL} now."), false);
    let response = gateway
        .post("/model/claude-sonnet-4/converse", &token(), &body)
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    // The mock echoed the placeholder; the caller gets its own value back.
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        format!("mock saw {EMAIL}")
    );

    let received = mock.received();
    let last = received.last().unwrap();
    assert!(last.body.contains("[EMAIL_1]") && !last.body.contains(EMAIL));
    let headers: Vec<(String, String)> = last
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let authorization = last.headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/"))
    );
    assert!(authorization.contains("/eu-central-1/bedrock/aws4_request"));
    crate::sigv4_check::verify(
        "POST",
        &last.path,
        &headers,
        last.body.as_bytes(),
        AWS_SECRET_ACCESS_KEY,
    )
    .unwrap();
    // The signature covers the body as sent: the original (unredacted) body fails.
    let original = serde_json::to_vec(&body).unwrap();
    assert!(
        crate::sigv4_check::verify(
            "POST",
            &last.path,
            &headers,
            &original,
            AWS_SECRET_ACCESS_KEY
        )
        .is_err()
    );
}

#[tokio::test]
async fn bedrock_invoke_model_reads_anthropic_bodies_and_refuses_unreadable_ones() {
    let gateway = TestGateway::start(customs::config::Config::embedded().unwrap()).await;
    let token = token();
    let body = json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "system": format!("Escalate to {EMAIL}."),
        "messages": [{"role": "user", "content": "hello"}]
    });
    let response = gateway
        .post("/model/customs-echo/invoke", &token, &body)
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let text = answer["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("[EMAIL_1]") && !text.contains(EMAIL),
        "{text}"
    );

    // Streamed: event-stream `chunk` frames, each with a base64 Anthropic event.
    let response = gateway
        .post(
            "/model/customs-echo/invoke-with-response-stream",
            &token,
            &body,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let bytes = response.bytes().await.unwrap();
    let mut decoder = customs::providers::eventstream::Decoder::new();
    decoder.push(&bytes);
    let mut text = String::new();
    while let Some(message) = decoder.next_message().unwrap() {
        assert_eq!(message.header_str(":event-type"), Some("chunk"));
        let payload: Value = serde_json::from_slice(&message.payload).unwrap();
        use base64::Engine as _;
        let event: Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(payload["bytes"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        if event["type"] == "content_block_delta" {
            text.push_str(event["delta"]["text"].as_str().unwrap());
        }
    }
    assert!(
        text.contains("[EMAIL_1]") && !text.contains(EMAIL),
        "{text}"
    );

    // A body Customs cannot read is refused, in AWS's error shape.
    let response = gateway
        .post(
            "/model/customs-echo/invoke",
            &token,
            &json!({"prompt": "hello", "max_gen_len": 10}),
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "ValidationException"
    );
    let error: Value = response.json().await.unwrap();
    assert!(bedrock_error(&error), "{error}");
}

#[tokio::test]
async fn google_embeddings_are_redacted_per_request_and_keep_their_method() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    let surface = &gemini_api();
    let text = format!("Please reach {EMAIL} today.");
    for (method, body) in [
        (
            "embedContent",
            json!({"content": {"parts": [{"text": text}]}}),
        ),
        (
            "batchEmbedContents",
            json!({"requests": [
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "plain"}]}},
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": text}]}}
            ]}),
        ),
    ] {
        let path = format!("/v1beta/models/gemini-embedding-001:{method}");
        let response = send(
            &gateway,
            surface,
            &path,
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        let status = response.status();
        let answer = response.text().await.unwrap();
        assert_eq!(status, 200, "{method}: {answer}");
        let received = mock.received();
        let last = received.last().unwrap();
        assert!(
            last.path
                .ends_with(&format!("/models/gemini-embedding-001:{method}")),
            "{}",
            last.path
        );
        assert!(!last.body.contains(EMAIL) && last.body.contains("[EMAIL_1]"));
        let event = serde_json::to_value(gateway.events().pop().unwrap()).unwrap();
        assert_eq!(event["operation"], "embeddings", "{event}");
    }
}

#[tokio::test]
async fn vertex_predict_embeddings_are_redacted_and_other_predict_bodies_refused() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    let surface = &gemini_api();
    let path =
        "/v1/projects/p/locations/europe-west4/publishers/google/models/text-embedding-005:predict";
    let body = json!({
        "instances": [
            {"task_type": "RETRIEVAL_DOCUMENT", "title": format!("Notes for {EMAIL}"), "content": "plain"},
            {"content": format!("Please reach {EMAIL} today.")}
        ],
        "parameters": {"outputDimensionality": 256}
    });
    let response = send(
        &gateway,
        surface,
        path,
        Some(&token),
        body.to_string().into_bytes(),
    )
    .await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["predictions"][0]["embeddings"]["values"],
        json!([0.1, 0.2, 0.3])
    );
    let received = mock.received();
    let last = received.last().unwrap();
    assert!(
        last.path
            .ends_with("/publishers/google/models/text-embedding-005:predict"),
        "{}",
        last.path
    );
    let sent: Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(sent["instances"][0]["title"], "Notes for [EMAIL_1]");
    assert_eq!(
        sent["instances"][1]["content"],
        "Please reach [EMAIL_1] today."
    );
    assert_eq!(sent["parameters"], json!({"outputDimensionality": 256}));
    let event = serde_json::to_value(gateway.events().pop().unwrap()).unwrap();
    assert_eq!(event["operation"], "embeddings", "{event}");
    assert_eq!(event["surface"], "vertex.predict", "{event}");

    // An image model's prompt is text Customs does not read as an embedding: refused in
    // Google's error shape, and nothing is sent.
    let sent_before = mock.received().len();
    let imagen = json!({"instances": [{"prompt": format!("a poster for {EMAIL}")}]});
    let response = send(
        &gateway,
        surface,
        "/v1/projects/p/locations/europe-west4/publishers/google/models/text-embedding-005:predict",
        Some(&token),
        imagen.to_string().into_bytes(),
    )
    .await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(google_error(&error), "{error}");
    assert!(!error.to_string().contains(EMAIL), "{error}");
    assert_eq!(mock.received().len(), sent_before);
}

#[tokio::test]
async fn google_echo_streams_as_a_json_array_without_alt_sse() {
    let gateway = TestGateway::start(customs::config::Config::embedded().unwrap()).await;
    let token = token();
    let surface = &gemini_api();
    let body = gemini_body(
        "customs-echo",
        Place::Message,
        &format!("Please reach {EMAIL} today."),
        true,
    );
    let response = send(
        &gateway,
        surface,
        "/v1beta/models/customs-echo:streamGenerateContent",
        Some(&token),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let chunks: Vec<Value> = response.json().await.unwrap();
    assert!(chunks.len() > 1);
    let text: String = chunks
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    let echoed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        echoed["contents"][0]["parts"][0]["text"],
        "Please reach [EMAIL_1] today."
    );
    assert_eq!(
        chunks.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
}

#[tokio::test]
async fn unknown_google_methods_are_not_found_in_googles_shape() {
    let gateway = TestGateway::start(customs::config::Config::embedded().unwrap()).await;
    let surface = &gemini_api();
    for path in [
        "/v1beta/models/gemini-2.5-flash:computeTokens",
        "/v1/projects/p/locations/l/publishers/google/models/veo-3.0-generate-001:predictLongRunning",
        "/v1beta/models/gemini-2.5-flash",
    ] {
        let response = send(&gateway, surface, path, Some("x"), b"{}".to_vec()).await;
        assert_eq!(response.status(), 404, "{path}");
        let error: Value = response.json().await.unwrap();
        assert!(google_error(&error), "{path}: {error}");
        assert_eq!(error["error"]["status"], "NOT_FOUND");
    }
}

/// The Gemini API's `?key=` credential works like `x-goog-api-key`: the echo answers
/// with the prompt redacted, the model list answers, a wrong key is refused in Google's
/// shape, and a header wins over the query.
#[tokio::test]
async fn a_gemini_key_in_the_query_authenticates_like_the_header() {
    let gateway = TestGateway::start(customs::config::Config::embedded().unwrap()).await;
    let token = token();
    let body = gemini_body(
        "customs-echo",
        Place::Message,
        &format!("Mail {EMAIL}."),
        false,
    );
    let key = |k: &str| form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>();
    let url = gateway.url(&format!(
        "/v1beta/models/customs-echo:generateContent?key={}",
        key(&token)
    ));
    let response = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let text = answer["candidates"][0]["content"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("Mail [EMAIL_1]."), "{text}");
    let event = gateway.events().pop().unwrap();
    assert_eq!(event.principal.unwrap().id, "alice");

    let list = client()
        .get(gateway.url(&format!("/v1beta/models?key={}", key(&token))))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let list: Value = list.json().await.unwrap();
    assert!(
        list["models"].as_array().is_some_and(|m| !m.is_empty()),
        "{list}"
    );

    let wrong = client()
        .post(gateway.url("/v1beta/models/customs-echo:generateContent?key=not-a-token"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let error: Value = wrong.json().await.unwrap();
    assert!(google_error(&error), "{error}");
    assert!(!error.to_string().contains("not-a-token"), "{error}");

    // A credential header is the credential; the query is then ignored.
    let both = client()
        .post(&url)
        .header("x-goog-api-key", "not-a-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 401);
}

/// `countTokens` sends the prompt to the provider, so it is inspected, decided and
/// redacted like `generateContent`: the mock receives the email as a placeholder, in
/// both body forms; the caller gets the provider's count; a secret is refused; the
/// echo model answers with an estimate; a deployment of another provider cannot count.
#[tokio::test]
async fn count_tokens_is_inspected_and_redacted_like_a_generation() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    let surface = &gemini_api();
    let plain = gemini_body(
        "gemini-2.5-flash",
        Place::Message,
        &format!("Mail {EMAIL}."),
        false,
    );
    let wrapped = json!({"generateContentRequest": {
        "model": "models/gemini-2.5-flash",
        "contents": plain["contents"].clone(),
    }});
    for body in [plain, wrapped] {
        let response = send(
            &gateway,
            surface,
            "/v1beta/models/gemini-2.5-flash:countTokens",
            Some(&token),
            body.to_string().into_bytes(),
        )
        .await;
        assert_eq!(response.status(), 200);
        let count: Value = response.json().await.unwrap();
        assert_eq!(count["totalTokens"], 31, "{count}");
        let received = mock.received().pop().unwrap();
        assert!(received.path.ends_with(":countTokens"), "{}", received.path);
        assert!(!received.body.contains(EMAIL), "{}", received.body);
        assert!(received.body.contains("[EMAIL_1]"), "{}", received.body);
        let event = gateway.events().pop().unwrap();
        assert_eq!(
            event.surface,
            Some(customs::providers::Api::GeminiCountTokens)
        );
    }
    let sent = mock.received().len();

    let secret = gemini_body(
        "gemini-2.5-flash",
        Place::Message,
        "key AKIAIOSFODNN7EXAMPLE",
        false,
    );
    let refused = send(
        &gateway,
        surface,
        "/v1beta/models/gemini-2.5-flash:countTokens",
        Some(&token),
        secret.to_string().into_bytes(),
    )
    .await;
    assert_eq!(refused.status(), 403);
    assert!(google_error(&refused.json().await.unwrap()));
    assert_eq!(mock.received().len(), sent, "nothing leaves on a refusal");

    let echo = send(
        &gateway,
        surface,
        "/v1beta/models/customs-echo:countTokens",
        Some(&token),
        json!({"contents": [{"role": "user", "parts": [{"text": "twelve chars"}]}]})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(echo.status(), 200);
    assert_eq!(echo.json::<Value>().await.unwrap()["totalTokens"], 3);

    let other = send(
        &gateway,
        surface,
        "/v1beta/models/claude-sonnet-4:countTokens",
        Some(&token),
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert!(other.status().is_client_error(), "{}", other.status());
    assert!(google_error(&other.json().await.unwrap()));
    assert_eq!(mock.received().len(), sent);
}

/// The Gemini API row of [`surfaces`].
fn gemini_api() -> Surface {
    surfaces()
        .into_iter()
        .find(|s| s.key_header == Some("x-goog-api-key"))
        .unwrap()
}

/// The content of every `chat.completion.chunk` in an OpenAI stream, joined.
fn chunk_text(sse: &str) -> String {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/choices/0/delta/content")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn openai_chat_is_translated_to_each_providers_own_api_when_policy_routes_there() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = token();
    // (model, where the mock must be called, what the body must look like there, surface)
    let cases: [(&str, &str, &str, &str); 3] = [
        (
            "claude-sonnet-4",
            "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse",
            "/messages/0/content/0/text",
            "bedrock.converse",
        ),
        (
            "claude-sonnet-4-anthropic-us",
            "/v1/messages",
            "/messages/0/content/0/text",
            "anthropic.messages",
        ),
        (
            "gemini-2.5-pro",
            "/v1/projects/p/locations/europe-west4/publishers/google/models/gemini-2.5-pro:",
            "/contents/0/parts/0/text",
            "gemini.generate_content",
        ),
    ];
    for (model, upstream, pointer, surface) in cases {
        let body = json!({
            "model": model,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": format!("Please reach {EMAIL} today.")}
            ]
        });
        let response = gateway.post("/v1/chat/completions", &token, &body).await;
        assert_eq!(response.status(), 200, "{model}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["object"], "chat.completion", "{model}: {answer}");
        assert_eq!(
            answer["choices"][0]["message"]["content"],
            format!("mock saw {EMAIL}"),
            "{model}: {answer}"
        );
        assert_eq!(answer["choices"][0]["finish_reason"], "stop", "{model}");
        assert!(
            answer["usage"]["prompt_tokens"].as_u64().is_some(),
            "{model}"
        );
        let received = mock.received();
        let last = received.last().unwrap();
        assert!(
            last.path.starts_with(upstream),
            "{model} went to {}",
            last.path
        );
        let sent: Value = serde_json::from_str(&last.body).unwrap();
        let text = sent
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default();
        assert_eq!(text, "Please reach [EMAIL_1] today.", "{model}: {sent}");
        let event = serde_json::to_value(gateway.events().pop().unwrap()).unwrap();
        assert_eq!(event["surface"], "openai.chat_completions");
        assert_eq!(event["upstream_surface"], surface, "{model}");

        // Streamed: the provider's own stream comes back as OpenAI chunks, the
        // placeholder it cut in two restored.
        let mut body = body.clone();
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
        mock.release_stream();
        let response = gateway.post("/v1/chat/completions", &token, &body).await;
        assert_eq!(response.status(), 200, "{model}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let streamed = response.text().await.unwrap();
        assert_eq!(
            chunk_text(&streamed),
            format!("first {EMAIL} second"),
            "{model}: {streamed}"
        );
        assert!(streamed.trim_end().ends_with("data: [DONE]"), "{model}");
        assert!(streamed.contains("\"usage\""), "{model}: no usage chunk");
    }
}

#[tokio::test]
async fn a_request_that_cannot_be_translated_is_refused_not_sent() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let body = json!({
        "model": "claude-sonnet-4-anthropic-us",
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]
    });
    let response = gateway.post("/v1/chat/completions", &token(), &body).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "untranslatable_request");
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn bedrock_invoke_model_embeddings_are_inspected_and_decided_as_embeddings() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let body = json!({"inputText": format!("mail {EMAIL}"), "dimensions": 256});
    let response = gateway
        .post("/model/titan-embed-text-v2/invoke", &token(), &body)
        .await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["embedding"].as_array().unwrap().len(), 3);
    let received = mock.received();
    let sent: Value = serde_json::from_str(&received.last().unwrap().body).unwrap();
    assert_eq!(
        sent,
        json!({"inputText": "mail [EMAIL_1]", "dimensions": 256})
    );
    assert!(
        received
            .last()
            .unwrap()
            .path
            .starts_with("/model/amazon.titan-embed-text-v2%3A0/invoke")
    );
    let event = serde_json::to_value(gateway.events().pop().unwrap()).unwrap();
    assert_eq!(event["operation"], "embeddings");
    assert_eq!(event["surface"], "bedrock.invoke_model");
}

#[tokio::test]
async fn claude_through_anthropics_sdk_reaches_bedrock_in_bedrocks_own_body() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    // An EU resident: Anthropic's own (US) API is refused, Bedrock in Frankfurt is not.
    let eu = dev_token("eva", json!({"groups": ["engineering"], "residency": "EU"}));
    let body = anthropic_body("claude-sonnet-4", Place::Message, "hello", true);
    let response = client()
        .post(gateway.url("/v1/messages"))
        .header("x-api-key", &eu)
        .json(&body)
        .send()
        .await
        .unwrap();
    mock.release_stream();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let streamed = response.text().await.unwrap();
    assert!(streamed.starts_with("event: message_start\n"), "{streamed}");
    assert!(streamed.contains("event: message_stop"), "{streamed}");
    let received = mock.received();
    let last = received.last().unwrap();
    assert!(
        last.path.starts_with(
            "/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        ),
        "{}",
        last.path
    );
    let sent: Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(sent["anthropic_version"], "bedrock-2023-05-31");
    assert!(
        sent.get("model").is_none() && sent.get("stream").is_none(),
        "{sent}"
    );
    let event = serde_json::to_value(gateway.events().pop().unwrap()).unwrap();
    assert_eq!(event["surface"], "anthropic.messages");
    assert_eq!(event["upstream_surface"], "bedrock.invoke_model");
    assert_eq!(event["deployment"]["region"], "eu-central-1");
}
