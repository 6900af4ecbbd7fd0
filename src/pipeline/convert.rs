//! Conversion between the caller's API and the deployment's, when they differ.
//!
//! - An OpenAI chat request routed to a deployment that speaks another chat API goes
//!   out translated by [`crate::providers::translate`], and its answer comes back as
//!   OpenAI's: a whole answer as a `chat.completion`, a stream event by event as
//!   `chat.completion.chunk`s, an upstream error in OpenAI's error shape.
//! - An Anthropic Messages request routed to Claude on Bedrock goes out through
//!   `InvokeModel`, whose body is Anthropic's without `model` and `stream` and with
//!   Bedrock's `anthropic_version`; its event-stream chunks come back as Anthropic's
//!   named server-sent events.
//!
//! The restore phase runs after this, on the answer in the caller's API.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use super::restore::{EventData, Framing, MAX_WHOLE_BODY, SseDecoder, decode_chunk, from_frame};
use crate::error::GatewayError;
use crate::providers::translate::{self, ChatStream, Target};
use crate::providers::{Api, Endpoint, eventstream};

/// How a request crosses from the caller's API to the deployment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    /// The deployment speaks the caller's API.
    None,
    /// OpenAI chat to another chat API.
    Translate(Target),
    /// Anthropic Messages to Claude through Bedrock's `InvokeModel`.
    ClaudeOnBedrock,
}

impl Conversion {
    /// The conversion from `caller` to `upstream`.
    pub(crate) fn between(caller: Api, upstream: Api) -> Conversion {
        if caller == upstream {
            return Conversion::None;
        }
        if caller == Api::AnthropicMessages && upstream == Api::BedrockInvoke {
            return Conversion::ClaudeOnBedrock;
        }
        match upstream.translation_target() {
            Some(target) if caller == Api::OpenAiChat => Conversion::Translate(target),
            _ => Conversion::None,
        }
    }
}

/// The request body as it leaves, for the upstream API, and the endpoint describing it;
/// `None` when nothing changes.
pub(crate) fn request(
    conversion: Conversion,
    caller: &Endpoint,
    upstream: Api,
    stream: bool,
    body: &mut Value,
    model: &str,
) -> Result<Option<(Endpoint, Vec<u8>)>, GatewayError> {
    let encode = |value: &Value| {
        serde_json::to_vec(value).map_err(|_| {
            GatewayError::internal("encode_error", "The request could not be re-encoded.")
        })
    };
    let (bytes, sse) = match conversion {
        Conversion::None => return Ok(None),
        Conversion::Translate(target) => (
            encode(&translate::chat_request(target, body, model)?)?,
            true,
        ),
        Conversion::ClaudeOnBedrock => {
            if let Some(object) = body.as_object_mut() {
                object.remove("model");
                object.remove("stream");
                object
                    .entry("anthropic_version")
                    .or_insert_with(|| Value::from("bedrock-2023-05-31"));
            }
            (encode(body)?, false)
        }
    };
    let endpoint = Endpoint {
        door: caller.door,
        api: upstream,
        path_model: None,
        path_stream: stream,
        sse,
    };
    Ok(Some((endpoint, bytes)))
}

/// The upstream's answer in the caller's API.
pub(crate) async fn response(
    conversion: Conversion,
    response: Response,
    stream: bool,
    id: &str,
    model: &str,
    include_usage: bool,
) -> Response {
    match conversion {
        Conversion::None => response,
        Conversion::Translate(target) => {
            translate_back(target, response, stream, id, model, include_usage).await
        }
        Conversion::ClaudeOnBedrock => bedrock_invoke_to_anthropic(response, stream).await,
    }
}

/// An answer in a translation target's API, turned into OpenAI chat's: a whole answer
/// into a `chat.completion`, a stream event by event into `chat.completion.chunk`s
/// (then `[DONE]`), an error into OpenAI's error shape with the upstream's status.
async fn translate_back(
    target: Target,
    response: Response,
    stream: bool,
    id: &str,
    model: &str,
    include_usage: bool,
) -> Response {
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = header::HeaderValue::from_static("application/json");
    if !parts.status.is_success() || !stream {
        let bytes = axum::body::to_bytes(body, MAX_WHOLE_BODY)
            .await
            .unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let out = if parts.status.is_success() {
            translate::chat_response(target, &value, id, model, created)
        } else {
            let message = translate::error_message(target, &value)
                .unwrap_or_else(|| "The upstream provider refused the request.".to_owned());
            serde_json::json!({"error": {
                "message": message,
                "type": "upstream_error",
                "param": null,
                "code": "upstream_error",
            }})
        };
        parts.headers.insert(header::CONTENT_TYPE, json);
        return Response::from_parts(parts, Body::from(out.to_string()));
    }
    let framing = match target {
        Target::BedrockConverse => Framing::EventStream(eventstream::Decoder::new()),
        Target::Anthropic | Target::Gemini => Framing::Sse(SseDecoder::default()),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    let state = TranslateState {
        inner: Box::pin(body.into_data_stream()),
        framing,
        chat: ChatStream::new(target, id, model, created, include_usage),
        done: false,
    };
    Response::from_parts(parts, Body::from_stream(translating_stream(state)))
}

/// Claude's answer through Bedrock's `InvokeModel`, as Anthropic's own API gives it: a
/// whole answer is already Anthropic's message; a stream's event-stream `chunk` frames
/// each carry one Anthropic event, re-sent as a named server-sent event; an error
/// becomes Anthropic's error shape with Bedrock's status.
async fn bedrock_invoke_to_anthropic(response: Response, stream: bool) -> Response {
    let (mut parts, body) = response.into_parts();
    if !parts.status.is_success() {
        let bytes = axum::body::to_bytes(body, MAX_WHOLE_BODY)
            .await
            .unwrap_or_default();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .map(|m| m.chars().take(500).collect::<String>())
            .unwrap_or_else(|| "The upstream provider refused the request.".to_owned());
        let out = serde_json::json!({"type": "error", "error": {"type": "api_error", "message": message}});
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        return Response::from_parts(parts, Body::from(out.to_string()));
    }
    if !stream {
        return Response::from_parts(parts, body);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    let mut decoder = eventstream::Decoder::new();
    let mut inner = body.into_data_stream();
    let stream = futures_util::stream::poll_fn(move |cx| {
        loop {
            match inner.poll_next_unpin(cx) {
                std::task::Poll::Ready(Some(Ok(chunk))) => {
                    decoder.push(&chunk);
                    let mut out = Vec::new();
                    loop {
                        match decoder.next_message() {
                            Ok(Some(message)) => {
                                if let Some(event) =
                                    serde_json::from_slice::<Value>(&message.payload)
                                        .ok()
                                        .as_ref()
                                        .and_then(decode_chunk)
                                {
                                    let name = event
                                        .get("type")
                                        .and_then(Value::as_str)
                                        .unwrap_or("message")
                                        .to_owned();
                                    out.extend_from_slice(
                                        format!("event: {name}\ndata: {event}\n\n").as_bytes(),
                                    );
                                }
                            }
                            Ok(None) => break,
                            Err(_) => {
                                return std::task::Poll::Ready(Some(Err(std::io::Error::other(
                                    "the upstream stream was malformed",
                                ))));
                            }
                        }
                    }
                    if !out.is_empty() {
                        return std::task::Poll::Ready(Some(Ok(Bytes::from(out))));
                    }
                }
                std::task::Poll::Ready(Some(Err(_))) => {
                    return std::task::Poll::Ready(Some(Err(std::io::Error::other(
                        "the upstream stream broke off",
                    ))));
                }
                std::task::Poll::Ready(None) => return std::task::Poll::Ready(None),
                std::task::Poll::Pending => return std::task::Poll::Pending,
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(stream))
}

struct TranslateState {
    inner: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>,
    framing: Framing,
    chat: ChatStream,
    done: bool,
}

impl TranslateState {
    fn feed(&mut self, chunk: &[u8]) -> Result<Vec<u8>, ()> {
        let mut events = Vec::new();
        match &mut self.framing {
            Framing::Sse(decoder) => {
                decoder.push(chunk);
                while let Some(event) = decoder.next_event() {
                    events.push(event);
                }
            }
            Framing::EventStream(decoder) => {
                decoder.push(chunk);
                loop {
                    match decoder.next_message() {
                        Ok(Some(message)) => events.push(from_frame(message)),
                        Ok(None) => break,
                        Err(_) => return Err(()),
                    }
                }
            }
            Framing::JsonArray(..) => return Err(()),
        }
        let mut out = Vec::new();
        for event in events {
            let data = match &event.data {
                EventData::Json(value) => value.clone(),
                // An exception frame: its payload, if JSON, is the error.
                EventData::Raw(_) => continue,
            };
            for chunk in self.chat.event(event.name.as_deref(), &data) {
                push_chunk(&mut out, &chunk);
            }
        }
        Ok(out)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Framing::Sse(decoder) = &mut self.framing
            && let Some(event) = decoder.finish()
            && let EventData::Json(data) = &event.data
        {
            for chunk in self.chat.event(event.name.as_deref(), data) {
                push_chunk(&mut out, &chunk);
            }
        }
        for chunk in self.chat.finish() {
            push_chunk(&mut out, &chunk);
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        out
    }
}

fn push_chunk(out: &mut Vec<u8>, chunk: &Value) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(chunk.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

fn translating_stream(state: TranslateState) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            match state.inner.next().await {
                Some(Ok(chunk)) => match state.feed(&chunk) {
                    Ok(out) if out.is_empty() => continue,
                    Ok(out) => return Some((Ok(Bytes::from(out)), state)),
                    Err(()) => {
                        state.done = true;
                        return Some((
                            Err(std::io::Error::other("the upstream stream was malformed")),
                            state,
                        ));
                    }
                },
                Some(Err(_)) => {
                    state.done = true;
                    return Some((
                        Err(std::io::Error::other("the upstream stream broke off")),
                        state,
                    ));
                }
                None => {
                    state.done = true;
                    return Some((Ok(Bytes::from(state.finish())), state));
                }
            }
        }
    })
}
