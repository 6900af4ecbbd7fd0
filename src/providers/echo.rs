//! The built-in `customs-echo` model (provider `local`): answers in the caller's API
//! shape with exactly what it received after redaction, and sends nothing anywhere.
//!
//! Chat answers carry the received `messages` as JSON text in the assistant message;
//! Responses answers carry the received `instructions` and `input`; embeddings answers
//! carry a deterministic vector per input plus a `customs_echo` field with the inputs as
//! received. Anthropic Messages answers carry `system` and `messages`. Streams use each
//! API's own framing (server-sent events as OpenAI and Anthropic send them).
//! Gemini answers carry `systemInstruction` and `contents`, streamed as server-sent
//! events when the caller asked for `alt=sse` and as one JSON array otherwise, as
//! Google streams.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Api, Endpoint};

/// Dimensions of an echo embedding.
const EMBEDDING_DIMENSIONS: usize = 8;

/// Answers `body` (as it would have left) in the shape `endpoint` expects.
pub fn answer(endpoint: &Endpoint, body: &Value, response_id: &str, stream: bool) -> Response {
    let api = endpoint.api;
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match api {
        Api::AnthropicMessages => anthropic_answer(body, response_id, stream),
        Api::BedrockConverse => converse_answer(body, stream),
        Api::BedrockInvoke => invoke_answer(body, response_id, created, stream),
        Api::OpenAiChat => {
            let text = body
                .get("messages")
                .map(Value::to_string)
                .unwrap_or_default();
            if stream {
                chat_stream(&text, response_id, created)
            } else {
                json_response(&chat_completion(&text, response_id, created))
            }
        }
        Api::OpenAiResponses => {
            let text = json!({
                "instructions": body.get("instructions").cloned().unwrap_or(Value::Null),
                "input": body.get("input").cloned().unwrap_or(Value::Null),
            })
            .to_string();
            let response = responses_object(&text, response_id, created);
            if stream {
                responses_stream(&text, response)
            } else {
                json_response(&response)
            }
        }
        Api::OpenAiEmbeddings => json_response(&embeddings(body)),
        Api::GeminiGenerate => gemini_answer(body, response_id, stream, endpoint.sse),
        Api::GeminiEmbed | Api::GeminiBatchEmbed => json_response(&gemini_embeddings(api, body)),
        Api::GeminiCountTokens => json_response(&gemini_token_count(body)),
        Api::VertexPredict => json_response(&vertex_predictions(body)),
    }
}

/// `countTokens`: an estimate (a token per four characters of the parts' text, rounded
/// up), in Google's shape.
fn gemini_token_count(body: &Value) -> Value {
    fn chars(value: &Value) -> usize {
        match value {
            Value::Array(items) => items.iter().map(chars).sum(),
            Value::Object(fields) => fields
                .iter()
                .map(|(key, value)| match value {
                    Value::String(text) if key == "text" => text.chars().count(),
                    _ => chars(value),
                })
                .sum(),
            _ => 0,
        }
    }
    let request = body.get("generateContentRequest").unwrap_or(body);
    let text = ["contents", "systemInstruction", "system_instruction"]
        .iter()
        .filter_map(|k| request.get(k))
        .map(chars)
        .sum::<usize>();
    json!({ "totalTokens": text.div_ceil(4) })
}

/// The text the echo returns for an Anthropic Messages body.
fn anthropic_text(body: &Value) -> String {
    json!({
        "system": body.get("system").cloned().unwrap_or(Value::Null),
        "messages": body.get("messages").cloned().unwrap_or(Value::Null),
    })
    .to_string()
}

fn anthropic_message(id: &str, content: Value, stop: Value, usage: Value) -> Value {
    json!({
        "id": format!("msg_{id}"),
        "type": "message",
        "role": "assistant",
        "model": "customs-echo",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": null,
        "usage": usage,
    })
}

/// Anthropic's stream events for `text`, named.
fn anthropic_events(text: &str, id: &str) -> Vec<(&'static str, Value)> {
    let start = anthropic_message(
        id,
        json!([]),
        Value::Null,
        json!({"input_tokens": usage_tokens(text), "output_tokens": 0}),
    );
    let mut events = vec![
        (
            "message_start",
            json!({"type": "message_start", "message": start}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", json!({"type": "ping"})),
    ];
    for piece in split_chunks(text, 64) {
        events.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}),
        ));
    }
    events.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": usage_tokens(text)}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    events
}

/// Anthropic's Messages shape; streamed as its named server-sent events.
fn anthropic_answer(body: &Value, id: &str, stream: bool) -> Response {
    let text = anthropic_text(body);
    if !stream {
        return json_response(&anthropic_message(
            id,
            json!([{"type": "text", "text": text}]),
            json!("end_turn"),
            json!({"input_tokens": usage_tokens(&text), "output_tokens": usage_tokens(&text)}),
        ));
    }
    let mut out = String::new();
    for (name, event) in anthropic_events(&text, id) {
        out.push_str(&format!("event: {name}\ndata: {event}\n\n"));
    }
    sse_response(out)
}

/// The text the echo returns for a Bedrock `Converse` body.
fn converse_text(body: &Value) -> String {
    json!({
        "system": body.get("system").cloned().unwrap_or(Value::Null),
        "messages": body.get("messages").cloned().unwrap_or(Value::Null),
    })
    .to_string()
}

/// Bedrock `Converse`; `ConverseStream` as AWS event-stream frames.
fn converse_answer(body: &Value, stream: bool) -> Response {
    let text = converse_text(body);
    let usage = json!({"inputTokens": usage_tokens(&text), "outputTokens": usage_tokens(&text), "totalTokens": 2 * usage_tokens(&text)});
    if !stream {
        return json_response(&json!({
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": usage,
            "metrics": {"latencyMs": 0}
        }));
    }
    let mut events = vec![("messageStart", json!({"role": "assistant"}))];
    for piece in split_chunks(&text, 64) {
        events.push((
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": piece}}),
        ));
    }
    events.push(("contentBlockStop", json!({"contentBlockIndex": 0})));
    events.push(("messageStop", json!({"stopReason": "end_turn"})));
    events.push((
        "metadata",
        json!({"usage": usage, "metrics": {"latencyMs": 0}}),
    ));
    event_stream_response(&events)
}

/// Bedrock `InvokeModel`: the model family's own answer; streamed as event-stream
/// `chunk` events, each carrying one of the family's stream events base64-encoded.
fn invoke_answer(body: &Value, id: &str, created: u64, stream: bool) -> Response {
    match super::bedrock::invoke_family(body) {
        // Titan: one vector; the echo also shows the text as received.
        Some(super::bedrock::InvokeFamily::TitanEmbed) => {
            let text = body
                .get("inputText")
                .and_then(Value::as_str)
                .unwrap_or_default();
            json_response(&json!({
                "embedding": echo_vector(text),
                "inputTextTokenCount": usage_tokens(text),
                "customs_echo": {"inputText": text},
            }))
        }
        Some(super::bedrock::InvokeFamily::CohereEmbed) => {
            let texts: Vec<&str> = body
                .get("texts")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            json_response(&json!({
                "id": id,
                "embeddings": texts.iter().map(|t| echo_vector(t)).collect::<Vec<_>>(),
                "texts": texts,
                "response_type": "embeddings_floats",
            }))
        }
        Some(super::bedrock::InvokeFamily::OpenAiChat) => {
            let text = body
                .get("messages")
                .map(Value::to_string)
                .unwrap_or_default();
            if !stream {
                return json_response(&chat_completion(&text, id, created));
            }
            let chunk = |delta: Value, finish: Value| {
                json!({"id": format!("chatcmpl-{id}"), "object": "chat.completion.chunk", "created": created, "model": "customs-echo",
                    "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
            };
            let mut events = vec![chunk(
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            )];
            for piece in split_chunks(&text, 64) {
                events.push(chunk(json!({"content": piece}), Value::Null));
            }
            events.push(chunk(json!({}), json!("stop")));
            invoke_stream(events)
        }
        _ => {
            if !stream {
                return anthropic_answer(body, id, false);
            }
            let events = anthropic_events(&anthropic_text(body), id)
                .into_iter()
                .map(|(_, event)| event)
                .collect();
            invoke_stream(events)
        }
    }
}

fn invoke_stream(events: Vec<Value>) -> Response {
    let engine = base64::engine::general_purpose::STANDARD;
    let frames: Vec<(&str, Value)> = events
        .iter()
        .map(|event| ("chunk", json!({"bytes": engine.encode(event.to_string())})))
        .collect();
    event_stream_response(&frames)
}

/// AWS event-stream frames, one per `(event type, JSON payload)`.
fn event_stream_response(events: &[(&str, Value)]) -> Response {
    let mut out = Vec::new();
    for (name, payload) in events {
        let message = super::eventstream::Message::event(name, payload.to_string());
        match super::eventstream::encode(&message) {
            Ok(frame) => out.extend_from_slice(&frame),
            Err(_) => {
                let mut response = Response::new(Body::from("event too large to frame"));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return response;
            }
        }
    }
    let mut response = Response::new(Body::from(out));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    response
}

/// The text the echo returns for a Gemini `generateContent` body: the system
/// instruction and the contents as received.
fn gemini_text(body: &Value) -> String {
    let system = body
        .get("systemInstruction")
        .or_else(|| body.get("system_instruction"))
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "systemInstruction": system,
        "contents": body.get("contents").cloned().unwrap_or(Value::Null),
    })
    .to_string()
}

/// Google's `GenerateContentResponse`. A stream is several of them, each with a piece
/// of the text and the last with the finish reason: server-sent events for `alt=sse`,
/// otherwise the elements of one JSON array.
fn gemini_answer(body: &Value, id: &str, stream: bool, sse: bool) -> Response {
    let text = gemini_text(body);
    let tokens = usage_tokens(&text);
    let usage = json!({"promptTokenCount": tokens, "candidatesTokenCount": tokens, "totalTokenCount": 2 * tokens});
    let response = |piece: &str, last: bool| {
        let mut candidate =
            json!({"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0});
        if last {
            candidate["finishReason"] = json!("STOP");
        }
        json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": "customs-echo", "responseId": id})
    };
    if !stream {
        return json_response(&response(&text, true));
    }
    let pieces = split_chunks(&text, 64);
    let chunks: Vec<Value> = pieces
        .iter()
        .enumerate()
        .map(|(index, piece)| response(piece, index + 1 == pieces.len()))
        .collect();
    if sse {
        sse_response(
            chunks
                .iter()
                .map(|chunk| format!("data: {chunk}\r\n\r\n"))
                .collect(),
        )
    } else {
        json_response(&Value::Array(chunks))
    }
}

/// Google's embeddings, one deterministic vector per request from the text of its
/// parts: `{"embedding"}` for `embedContent`, `{"embeddings"}` for
/// `batchEmbedContents`; `customsEcho` carries the requests as received.
fn gemini_embeddings(api: Api, body: &Value) -> Value {
    let embedding = |request: &Value| {
        let text = request
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|part| part.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        json!({"values": echo_vector(&text)})
    };
    if api == Api::GeminiBatchEmbed {
        let requests = body
            .get("requests")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        json!({
            "embeddings": requests.iter().map(embedding).collect::<Vec<_>>(),
            "customsEcho": {"requests": requests},
        })
    } else {
        json!({
            "embedding": embedding(body),
            "customsEcho": {"content": body.get("content").cloned().unwrap_or(Value::Null)},
        })
    }
}

/// Vertex `predict` for text embeddings: one vector per instance from its `content`,
/// with the statistics Vertex reports; `customsEcho` carries the instances as received.
fn vertex_predictions(body: &Value) -> Value {
    let instances = body
        .get("instances")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut characters = 0;
    let predictions: Vec<Value> = instances
        .iter()
        .map(|instance| {
            let text = instance
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default();
            characters += text.chars().count();
            json!({"embeddings": {
                "values": echo_vector(text),
                "statistics": {"token_count": usage_tokens(text), "truncated": false},
            }})
        })
        .collect();
    json!({
        "predictions": predictions,
        "metadata": {"billableCharacterCount": characters},
        "customsEcho": {"instances": instances},
    })
}

/// A deterministic embedding of `text`: the first bytes of its SHA-256, scaled.
fn echo_vector(text: &str) -> Vec<f32> {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(EMBEDDING_DIMENSIONS)
        .map(|b| f32::from(*b) / 255.0 - 0.5)
        .collect()
}

fn usage_tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

fn chat_completion(text: &str, id: &str, created: u64) -> Value {
    json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": created,
        "model": "customs-echo",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": usage_tokens(text), "completion_tokens": usage_tokens(text), "total_tokens": 2 * usage_tokens(text)}
    })
}

fn chat_stream(text: &str, id: &str, created: u64) -> Response {
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": format!("chatcmpl-{id}"),
            "object": "chat.completion.chunk",
            "created": created,
            "model": "customs-echo",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        })
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in split_chunks(text, 64) {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    events.push(chunk(json!({}), json!("stop")));
    let mut out = String::new();
    for event in events {
        out.push_str("data: ");
        out.push_str(&event.to_string());
        out.push_str("\n\n");
    }
    out.push_str("data: [DONE]\n\n");
    sse_response(out)
}

fn responses_object(text: &str, id: &str, created: u64) -> Value {
    json!({
        "id": format!("resp_{id}"),
        "object": "response",
        "created_at": created,
        "status": "completed",
        "model": "customs-echo",
        "output": [{
            "type": "message",
            "id": format!("msg_{id}"),
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]
        }],
        "parallel_tool_calls": false,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": usage_tokens(text),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage_tokens(text),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 2 * usage_tokens(text)
        }
    })
}

fn responses_stream(text: &str, completed: Value) -> Response {
    let mut in_progress = completed.clone();
    in_progress["status"] = json!("in_progress");
    in_progress["output"] = json!([]);
    let item_id = completed
        .pointer("/output/0/id")
        .cloned()
        .unwrap_or(Value::Null);
    let mut events = vec![(
        "response.created",
        json!({"type": "response.created", "response": in_progress}),
    )];
    for piece in split_chunks(text, 64) {
        events.push((
            "response.output_text.delta",
            json!({"type": "response.output_text.delta", "item_id": item_id, "output_index": 0, "content_index": 0, "delta": piece}),
        ));
    }
    events.push((
        "response.output_text.done",
        json!({"type": "response.output_text.done", "item_id": item_id, "output_index": 0, "content_index": 0, "text": text}),
    ));
    events.push((
        "response.completed",
        json!({"type": "response.completed", "response": completed}),
    ));
    let mut out = String::new();
    for (sequence, (name, mut event)) in events.into_iter().enumerate() {
        event["sequence_number"] = json!(sequence);
        out.push_str(&format!("event: {name}\ndata: {event}\n\n"));
    }
    sse_response(out)
}

fn embeddings(body: &Value) -> Value {
    let inputs: Vec<Value> = match body.get("input") {
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    };
    let base64_wanted = body.get("encoding_format").and_then(Value::as_str) == Some("base64");
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = echo_vector(input.as_str().unwrap_or_default());
            // OpenAI's base64 form: the little-endian f32 array, base64-encoded.
            let embedding = if base64_wanted {
                let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = inputs
        .iter()
        .map(|i| usage_tokens(i.as_str().unwrap_or_default()))
        .sum();
    json!({
        "object": "list",
        "data": data,
        "model": "customs-echo",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "customs_echo": {"input": inputs}
    })
}

/// Splits text into pieces of about `size` bytes on char boundaries.
fn split_chunks(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

fn json_response(value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    *response.status_mut() = StatusCode::OK;
    response
}

fn sse_response(text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_respect_char_boundaries_and_rejoin() {
        let text = "héllo wörld ".repeat(20);
        let pieces = split_chunks(&text, 7);
        assert!(pieces.len() > 10);
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn gemini_streams_are_sse_or_a_json_array_of_responses() {
        let body =
            json!({"contents": [{"role": "user", "parts": [{"text": "hello ".repeat(40)}]}]});
        let read = |response: Response| async move {
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let sse = runtime.block_on(read(gemini_answer(&body, "id", true, true)));
        let events: Vec<Value> = sse
            .split("\r\n\r\n")
            .filter(|e| !e.is_empty())
            .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
            .collect();
        let array: Value =
            serde_json::from_str(&runtime.block_on(read(gemini_answer(&body, "id", true, false))))
                .unwrap();
        assert!(events.len() > 1);
        assert_eq!(Value::Array(events.clone()), array);
        let joined: String = events
            .iter()
            .map(|e| {
                e["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(joined, gemini_text(&body));
        assert_eq!(
            events.last().unwrap()["candidates"][0]["finishReason"],
            "STOP"
        );
        assert!(events[0]["candidates"][0].get("finishReason").is_none());
    }

    #[test]
    fn embeddings_are_deterministic_per_input() {
        let a = embeddings(&json!({"input": ["x", "y", "x"]}));
        assert_eq!(a["data"][0]["embedding"], a["data"][2]["embedding"]);
        assert_ne!(a["data"][0]["embedding"], a["data"][1]["embedding"]);
        assert_eq!(
            a["data"][0]["embedding"].as_array().unwrap().len(),
            EMBEDDING_DIMENSIONS
        );
    }
}
