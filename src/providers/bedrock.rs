//! parse: the AWS Bedrock runtime's request shapes, as read by a model.
//!
//! - `Converse` and `ConverseStream` (`POST /model/{modelId}/converse`,
//!   `/converse-stream`): `system` blocks, then each message's content blocks — `text`,
//!   `toolUse` inputs (every string inside), `toolResult` content (`text`, and strings
//!   inside `json`), `document`s in a text format (their base64 bytes are decoded,
//!   scanned and re-encoded), `reasoningContent` text and `guardContent` text — then
//!   each tool spec's `description`.
//! - `InvokeModel` and `InvokeModelWithResponseStream` (`/invoke`,
//!   `/invoke-with-response-stream`): the body is the model's own format. Anthropic's
//!   (`anthropic_version` present) and OpenAI's chat format (`messages`, as Bedrock
//!   serves OpenAI's open-weight models) are read with their own visitors; any other
//!   body cannot be inspected and is refused (fail closed).
//!
//! The model is named in the path, the stream by the operation. Responses stream in AWS
//! event-stream framing ([`super::eventstream`]).

use base64::Engine as _;
use serde_json::Value;

use super::{RequestFacts, SegmentKind, anthropic, openai_api, visit_all_strings};
use crate::error::GatewayError;
use crate::policy::Operation;

/// Document formats whose bytes are text the scanner can read.
const TEXT_DOCUMENT_FORMATS: [&str; 4] = ["txt", "md", "csv", "html"];

/// The body family of an `InvokeModel` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeFamily {
    /// Anthropic Messages on Bedrock (`anthropic_version: bedrock-2023-05-31`).
    Anthropic,
    /// OpenAI Chat Completions (OpenAI's open-weight models on Bedrock).
    OpenAiChat,
    /// Amazon Titan text embeddings (`inputText`).
    TitanEmbed,
    /// Cohere embeddings on Bedrock (`texts`).
    CohereEmbed,
}

impl InvokeFamily {
    /// The Cedar action a body of this family is decided as.
    pub fn operation(self) -> Operation {
        match self {
            InvokeFamily::Anthropic | InvokeFamily::OpenAiChat => Operation::Chat,
            InvokeFamily::TitanEmbed | InvokeFamily::CohereEmbed => Operation::Embeddings,
        }
    }
}

/// Which body family an `InvokeModel` body is, if Customs can read it.
pub fn invoke_family(body: &Value) -> Option<InvokeFamily> {
    let object = body.as_object()?;
    if object.contains_key("anthropic_version") {
        Some(InvokeFamily::Anthropic)
    } else if object.get("messages").is_some_and(Value::is_array) {
        Some(InvokeFamily::OpenAiChat)
    } else if object.get("inputText").is_some_and(Value::is_string)
        && !object.contains_key("textGenerationConfig")
    {
        Some(InvokeFamily::TitanEmbed)
    } else if object
        .get("texts")
        .and_then(Value::as_array)
        .is_some_and(|texts| !texts.is_empty() && texts.iter().all(Value::is_string))
    {
        Some(InvokeFamily::CohereEmbed)
    } else {
        None
    }
}

fn path_model(path_model: Option<&str>) -> Result<String, GatewayError> {
    match path_model {
        Some(model) if !model.is_empty() => Ok(model.to_owned()),
        _ => Err(GatewayError::bad_request(
            "missing_model",
            "The request path must name a model id.",
        )),
    }
}

/// `Converse` / `ConverseStream`: the model from the path, the stream from the operation.
pub fn converse_facts(
    body: &Value,
    path_model_id: Option<&str>,
    path_stream: bool,
) -> Result<RequestFacts, GatewayError> {
    let Some(object) = body.as_object() else {
        return Err(GatewayError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    };
    let model = path_model(path_model_id)?;
    match object.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => {}
        _ => {
            return Err(GatewayError::bad_request(
                "invalid_messages",
                "`messages` must be a non-empty array.",
            ));
        }
    }
    let tools_present = object
        .get("toolConfig")
        .and_then(|t| t.get("tools"))
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
        || object
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|messages| {
                messages.iter().any(|m| {
                    m.get("content").and_then(Value::as_array).is_some_and(|c| {
                        c.iter()
                            .any(|b| b.get("toolUse").is_some() || b.get("toolResult").is_some())
                    })
                })
            });
    Ok(RequestFacts {
        model,
        stream: path_stream,
        tools_present,
    })
}

/// `InvokeModel` / `InvokeModelWithResponseStream`: readable bodies only.
pub fn invoke_facts(
    body: &Value,
    path_model_id: Option<&str>,
    path_stream: bool,
) -> Result<RequestFacts, GatewayError> {
    let model = path_model(path_model_id)?;
    let facts = match invoke_family(body) {
        Some(InvokeFamily::Anthropic) => {
            let mut with_model = body.clone();
            if let Some(object) = with_model.as_object_mut() {
                object.insert("model".to_owned(), Value::String(model.clone()));
                object.remove("stream");
            }
            anthropic::request_facts(&with_model)?
        }
        Some(InvokeFamily::OpenAiChat) => {
            openai_api::request_facts(Operation::Chat, body, Some(&model))?
        }
        Some(InvokeFamily::TitanEmbed | InvokeFamily::CohereEmbed) => RequestFacts {
            model: model.clone(),
            stream: false,
            tools_present: false,
        },
        None => {
            return Err(GatewayError::bad_request(
                "unsupported_body",
                "This InvokeModel body is not one Customs can inspect (Anthropic messages, OpenAI chat, Titan or Cohere embeddings), so it is refused; use Converse.",
            ));
        }
    };
    Ok(RequestFacts {
        model,
        stream: path_stream,
        tools_present: facts.tools_present,
    })
}

/// Visits every segment of a `Converse` body.
pub fn visit_converse(body: &mut Value, visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(system)) = object.get_mut("system") {
        for block in system {
            visit_block(SegmentKind::System, block, visit);
        }
    }
    if let Some(Value::Array(messages)) = object.get_mut("messages") {
        for message in messages {
            if let Some(Value::Array(content)) = message.get_mut("content") {
                for block in content {
                    visit_block(SegmentKind::Message, block, visit);
                }
            }
        }
    }
    if let Some(Value::Array(tools)) = object
        .get_mut("toolConfig")
        .and_then(|t| t.get_mut("tools"))
    {
        for tool in tools {
            if let Some(Value::String(description)) = tool.pointer_mut("/toolSpec/description") {
                visit(SegmentKind::ToolDefinition, description);
            }
        }
    }
}

/// Visits every segment of an `InvokeModel` body of a readable family.
pub fn visit_invoke(body: &mut Value, visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool) {
    match invoke_family(body) {
        Some(InvokeFamily::Anthropic) => anthropic::visit_segments(body, visit),
        Some(InvokeFamily::OpenAiChat) => {
            openai_api::visit_segments(Operation::Chat, body, visit);
        }
        Some(InvokeFamily::TitanEmbed) => {
            if let Some(Value::String(text)) = body.get_mut("inputText") {
                visit(SegmentKind::EmbeddingInput, text);
            }
        }
        Some(InvokeFamily::CohereEmbed) => {
            if let Some(Value::Array(texts)) = body.get_mut("texts") {
                for text in texts {
                    if let Value::String(text) = text {
                        visit(SegmentKind::EmbeddingInput, text);
                    }
                }
            }
        }
        None => {}
    }
}

fn visit_block(
    kind: SegmentKind,
    block: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let Some(block) = block.as_object_mut() else {
        return;
    };
    if let Some(Value::String(text)) = block.get_mut("text") {
        visit(kind, text);
    }
    if let Some(input) = block.get_mut("toolUse").and_then(|t| t.get_mut("input")) {
        visit_all_strings(input, &mut |text| {
            visit(SegmentKind::ToolArguments, text);
        });
    }
    if let Some(Value::Array(content)) = block
        .get_mut("toolResult")
        .and_then(|t| t.get_mut("content"))
    {
        for part in content {
            if let Some(Value::String(text)) = part.get_mut("text") {
                visit(SegmentKind::ToolResult, text);
            }
            if let Some(json) = part.get_mut("json") {
                visit_all_strings(json, &mut |text| {
                    visit(SegmentKind::ToolResult, text);
                });
            }
            if let Some(document) = part.get_mut("document") {
                visit_document(SegmentKind::ToolResult, document, visit);
            }
        }
    }
    if let Some(document) = block.get_mut("document") {
        visit_document(kind, document, visit);
    }
    if let Some(Value::String(text)) = block
        .get_mut("reasoningContent")
        .and_then(|r| r.pointer_mut("/reasoningText/text"))
    {
        visit(kind, text);
    }
    if let Some(Value::String(text)) = block
        .get_mut("guardContent")
        .and_then(|g| g.pointer_mut("/text/text"))
    {
        visit(kind, text);
    }
}

/// A document in a text format: its base64 bytes decoded, visited, re-encoded when
/// changed. Binary formats (PDF, Word) carry no text Customs can read.
fn visit_document(
    kind: SegmentKind,
    document: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let format = document
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(Value::String(name)) = document.get_mut("name") {
        visit(kind, name);
    }
    if !TEXT_DOCUMENT_FORMATS.contains(&format.as_str()) {
        return;
    }
    if let Some(Value::String(encoded)) = document.pointer_mut("/source/bytes") {
        let engine = base64::engine::general_purpose::STANDARD;
        let Ok(bytes) = engine.decode(encoded.as_bytes()) else {
            return;
        };
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if visit(kind, &mut text) {
            *encoded = engine.encode(text.as_bytes());
        }
    }
    if let Some(Value::String(text)) = document.pointer_mut("/source/text") {
        visit(kind, text);
    }
}

/// The path suffix of an operation: `converse`, `converse-stream`, `invoke`,
/// `invoke-with-response-stream`.
pub fn operation_path(invoke: bool, stream: bool) -> &'static str {
    match (invoke, stream) {
        (false, false) => "converse",
        (false, true) => "converse-stream",
        (true, false) => "invoke",
        (true, true) => "invoke-with-response-stream",
    }
}

/// A model id as one URL path segment (Bedrock ids hold `:`).
pub fn encode_model_id(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for byte in model.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn segments(mut body: Value, invoke: bool) -> Vec<(SegmentKind, String)> {
        let mut out = Vec::new();
        let mut visit = |kind: SegmentKind, text: &mut String| {
            out.push((kind, text.clone()));
            false
        };
        if invoke {
            visit_invoke(&mut body, &mut visit);
        } else {
            visit_converse(&mut body, &mut visit);
        }
        out
    }

    #[test]
    fn converse_reads_every_block_a_model_reads() {
        let doc = base64::engine::general_purpose::STANDARD.encode("doc text");
        let body = json!({
            "system": [{"text": "sys"}, {"cachePoint": {"type": "default"}}],
            "messages": [
                {"role": "user", "content": [{"text": "hello"}, {"document": {"format": "txt", "name": "notes", "source": {"bytes": doc}}}, {"image": {"format": "png", "source": {"bytes": "iVBOR"}}}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "f", "input": {"q": "arg", "n": 1}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "res"}, {"json": {"k": "jv"}}]}}]}
            ],
            "toolConfig": {"tools": [{"toolSpec": {"name": "f", "description": "desc", "inputSchema": {"json": {}}}}]}
        });
        let got = segments(body, false);
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "sys", "hello", "notes", "doc text", "arg", "res", "jv", "desc"
            ]
        );
        assert_eq!(got[0].0, SegmentKind::System);
        assert_eq!(got[4].0, SegmentKind::ToolArguments);
        assert_eq!(got[5].0, SegmentKind::ToolResult);
        assert_eq!(got[7].0, SegmentKind::ToolDefinition);
    }

    #[test]
    fn a_text_document_is_rewritten_in_base64() {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut body = json!({"messages": [{"role": "user", "content": [{"document": {"format": "txt", "name": "n", "source": {"bytes": engine.encode("secret")}}}]}]});
        visit_converse(&mut body, &mut |_, text| {
            if text == "secret" {
                *text = "[X_1]".into();
                true
            } else {
                false
            }
        });
        let encoded = body
            .pointer("/messages/0/content/0/document/source/bytes")
            .and_then(Value::as_str)
            .unwrap();
        assert_eq!(engine.decode(encoded).unwrap(), b"[X_1]");
    }

    #[test]
    fn invoke_reads_anthropic_and_openai_bodies_and_refuses_others() {
        let anthropic = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 9, "system": "s", "messages": [{"role": "user", "content": "u"}]});
        let texts: Vec<String> = segments(anthropic.clone(), true)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(texts, ["s", "u"]);
        let facts = invoke_facts(&anthropic, Some("anthropic.claude"), true).unwrap();
        assert_eq!(facts.model, "anthropic.claude");
        assert!(facts.stream);
        let openai = json!({"messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(segments(openai.clone(), true)[0].1, "hi");
        assert!(invoke_facts(&openai, Some("openai.gpt-oss-120b-1:0"), false).is_ok());
        let titan = json!({"inputText": "hello", "dimensions": 256});
        assert_eq!(invoke_family(&titan), Some(InvokeFamily::TitanEmbed));
        assert_eq!(
            segments(titan, true)[0],
            (SegmentKind::EmbeddingInput, "hello".to_owned())
        );
        let cohere = json!({"texts": ["a", "b"], "input_type": "search_document"});
        assert_eq!(invoke_family(&cohere), Some(InvokeFamily::CohereEmbed));
        assert_eq!(segments(cohere, true).len(), 2);
        let titan_text = json!({"inputText": "hello", "textGenerationConfig": {}});
        assert_eq!(
            invoke_facts(&titan_text, Some("amazon.titan"), false)
                .unwrap_err()
                .code(),
            "unsupported_body"
        );
    }

    #[test]
    fn converse_facts_need_a_path_model_and_messages() {
        let body = json!({"messages": [{"role": "user", "content": [{"text": "x"}]}]});
        assert_eq!(
            converse_facts(&body, None, false).unwrap_err().code(),
            "missing_model"
        );
        assert_eq!(
            converse_facts(&json!({"messages": []}), Some("m"), false)
                .unwrap_err()
                .code(),
            "invalid_messages"
        );
        let facts = converse_facts(&body, Some("m"), true).unwrap();
        assert!(facts.stream && !facts.tools_present);
    }

    #[test]
    fn model_ids_are_one_path_segment() {
        assert_eq!(
            encode_model_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
        );
        assert_eq!(encode_model_id("a/b"), "a%2Fb");
    }
}
