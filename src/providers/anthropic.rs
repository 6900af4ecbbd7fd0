//! parse: Anthropic's Messages API (`POST /v1/messages`), as read by a model.
//!
//! The segments, in order: `system` (a string or text blocks), then each message's
//! content blocks — `text`, `tool_use` inputs (every string inside the input object),
//! `tool_result` content (a string or blocks, recursively), `document` sources given as
//! text or as content blocks (with their `title` and `context`), `search_result`
//! blocks, and `thinking` text — then each tool definition's `description`. Images and
//! PDF documents given as base64 carry no text Customs can read; they pass as they are,
//! like image parts in OpenAI's API.

use serde_json::Value;

use super::{RequestFacts, SegmentKind, visit_all_strings};
use crate::error::GatewayError;

/// Reads `model`, `stream` and whether tools are present; checks the body's shape.
pub fn request_facts(body: &Value) -> Result<RequestFacts, GatewayError> {
    let Some(object) = body.as_object() else {
        return Err(GatewayError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    };
    let model = match object.get("model") {
        Some(Value::String(model)) if !model.is_empty() => model.clone(),
        _ => {
            return Err(GatewayError::bad_request(
                "missing_model",
                "The request must name a `model` (a string).",
            ));
        }
    };
    let stream = match object.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(GatewayError::bad_request(
                "invalid_stream",
                "`stream` must be a boolean.",
            ));
        }
    };
    let Some(Value::Array(messages)) = object.get("messages") else {
        return Err(GatewayError::bad_request(
            "invalid_messages",
            "`messages` must be a non-empty array.",
        ));
    };
    if messages.is_empty() {
        return Err(GatewayError::bad_request(
            "invalid_messages",
            "`messages` must be a non-empty array.",
        ));
    }
    if !matches!(
        object.get("system"),
        None | Some(Value::Null | Value::String(_) | Value::Array(_))
    ) {
        return Err(GatewayError::bad_request(
            "invalid_system",
            "`system` must be a string or an array of text blocks.",
        ));
    }
    let tools_present = object
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
        || messages.iter().any(|m| {
            m.get("content")
                .and_then(Value::as_array)
                .is_some_and(|blocks| {
                    blocks.iter().any(|b| {
                        matches!(
                            b.get("type").and_then(Value::as_str),
                            Some("tool_use" | "tool_result" | "server_tool_use")
                        )
                    })
                })
        });
    Ok(RequestFacts {
        model,
        stream,
        tools_present,
    })
}

/// Visits every segment a model reads. The visitor returns whether it changed the text.
pub fn visit_segments(body: &mut Value, visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    if let Some(system) = object.get_mut("system") {
        visit_content(SegmentKind::System, system, visit);
    }
    if let Some(Value::Array(messages)) = object.get_mut("messages") {
        for message in messages {
            if let Some(content) = message.get_mut("content") {
                visit_content(SegmentKind::Message, content, visit);
            }
        }
    }
    if let Some(Value::Array(tools)) = object.get_mut("tools") {
        for tool in tools {
            if let Some(Value::String(description)) = tool.get_mut("description") {
                visit(SegmentKind::ToolDefinition, description);
            }
        }
    }
}

/// Content: a string, or an array of blocks.
fn visit_content(
    kind: SegmentKind,
    content: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    match content {
        Value::String(text) => {
            visit(kind, text);
        }
        Value::Array(blocks) => {
            for block in blocks {
                visit_block(kind, block, visit);
            }
        }
        _ => {}
    }
}

fn visit_block(
    kind: SegmentKind,
    block: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let block_type = block
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("text")
        .to_owned();
    let Some(block) = block.as_object_mut() else {
        if let Value::String(text) = block {
            visit(kind, text);
        }
        return;
    };
    match block_type.as_str() {
        "tool_use" | "server_tool_use" => {
            if let Some(input) = block.get_mut("input") {
                visit_all_strings(input, &mut |text| {
                    visit(SegmentKind::ToolArguments, text);
                });
            }
        }
        "tool_result" | "web_search_tool_result" => {
            if let Some(content) = block.get_mut("content") {
                visit_content(SegmentKind::ToolResult, content, visit);
            }
        }
        "document" => {
            for field in ["title", "context"] {
                if let Some(Value::String(text)) = block.get_mut(field) {
                    visit(kind, text);
                }
            }
            if let Some(source) = block.get_mut("source").and_then(Value::as_object_mut) {
                match source.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(Value::String(data)) = source.get_mut("data") {
                            visit(kind, data);
                        }
                    }
                    Some("content") => {
                        if let Some(content) = source.get_mut("content") {
                            visit_content(kind, content, visit);
                        }
                    }
                    _ => {}
                }
            }
        }
        "search_result" => {
            for field in ["title", "source"] {
                if let Some(Value::String(text)) = block.get_mut(field) {
                    visit(kind, text);
                }
            }
            if let Some(content) = block.get_mut("content") {
                visit_content(kind, content, visit);
            }
        }
        "thinking" => {
            if let Some(Value::String(text)) = block.get_mut("thinking") {
                visit(kind, text);
            }
        }
        _ => {
            if let Some(Value::String(text)) = block.get_mut("text") {
                visit(kind, text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn segments(mut body: Value) -> Vec<(SegmentKind, String)> {
        let mut out = Vec::new();
        visit_segments(&mut body, &mut |kind, text| {
            out.push((kind, text.clone()));
            false
        });
        out
    }

    #[test]
    fn every_block_a_model_reads_is_a_segment() {
        let body = json!({
            "model": "claude",
            "max_tokens": 10,
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "hello"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
                    {"type": "document", "title": "t", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {"type": "tool_use", "id": "tu1", "name": "lookup", "input": {"email": "a@b.co", "n": 3, "tags": ["x"]}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "tu1", "content": [{"type": "text", "text": "found"}]}
                ]}
            ],
            "tools": [{"name": "lookup", "description": "desc", "input_schema": {"type": "object"}}]
        });
        let got = segments(body);
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "sys", "hello", "t", "doc", "hmm", "a@b.co", "x", "found", "desc"
            ]
        );
        assert_eq!(got[0].0, SegmentKind::System);
        assert_eq!(got[5].0, SegmentKind::ToolArguments);
        assert_eq!(got[7].0, SegmentKind::ToolResult);
        assert_eq!(got[8].0, SegmentKind::ToolDefinition);
    }

    #[test]
    fn a_string_system_and_string_content_are_segments() {
        let body =
            json!({"model": "m", "system": "s", "messages": [{"role": "user", "content": "u"}]});
        let texts: Vec<String> = segments(body).into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts, ["s", "u"]);
    }

    #[test]
    fn rewriting_a_tool_input_keeps_it_an_object() {
        let mut body = json!({"model": "m", "messages": [{"role": "assistant", "content": [{"type": "tool_use", "id": "1", "name": "f", "input": {"to": "secret", "n": 1}}]}]});
        visit_segments(&mut body, &mut |_, text| {
            *text = "[X_1]".into();
            true
        });
        assert_eq!(
            body.pointer("/messages/0/content/0/input").unwrap(),
            &json!({"to": "[X_1]", "n": 1})
        );
    }

    #[test]
    fn facts_and_shape_errors() {
        let facts = request_facts(&json!({"model": "m", "stream": true, "messages": [{"role": "user", "content": "x"}], "tools": [{"name": "f"}]})).unwrap();
        assert_eq!(facts.model, "m");
        assert!(facts.stream && facts.tools_present);
        for (body, code) in [
            (
                json!({"messages": [{"role": "user", "content": "x"}]}),
                "missing_model",
            ),
            (json!({"model": "m", "messages": []}), "invalid_messages"),
            (
                json!({"model": "m", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}),
                "invalid_stream",
            ),
            (
                json!({"model": "m", "system": 3, "messages": [{"role": "user", "content": "x"}]}),
                "invalid_system",
            ),
        ] {
            assert_eq!(request_facts(&body).unwrap_err().code(), code);
        }
    }
}
