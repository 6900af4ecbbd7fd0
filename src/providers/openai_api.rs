//! parse: OpenAI's request shapes, as read by a model.
//!
//! [`visit_segments`] walks a parsed body and hands every string a model would read to a
//! visitor that may rewrite it in place. The walk order is fixed, so a first read-only
//! walk (inspect) and a second rewriting walk (redact) meet the same segments in the same
//! order. Tool-call arguments are JSON inside a string: their inner strings are segments
//! of their own and the arguments are re-encoded only when one of them changed.
//!
//! Inputs the scanner cannot read are refused rather than passed through (fail closed):
//! embeddings given as token arrays.

use serde_json::Value;

use super::visit_all_strings;
use crate::error::GatewayError;
use crate::policy::Operation;

/// Where in the request a segment sits; recorded in the decision event (never the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// A system or developer message, or Responses `instructions`.
    System,
    /// A user, assistant or tool message's text.
    Message,
    /// A string inside tool-call arguments.
    ToolArguments,
    /// A tool result returned to the model.
    ToolResult,
    /// A tool definition's description.
    ToolDefinition,
    /// Embeddings input.
    EmbeddingInput,
}

/// What the request says about itself, beyond its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// The `model` field.
    pub model: String,
    /// `stream: true`.
    pub stream: bool,
    /// Tool definitions or tool calls are present.
    pub tools_present: bool,
}

/// Reads the fields every operation needs and checks the body's basic shape. Azure
/// OpenAI's deployment routes name the model in the path (`path_model`), which then
/// takes the place of the body's `model`.
pub fn request_facts(
    operation: Operation,
    body: &Value,
    path_model: Option<&str>,
) -> Result<RequestFacts, GatewayError> {
    let Some(object) = body.as_object() else {
        return Err(GatewayError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    };
    let model = match (path_model, object.get("model")) {
        (Some(model), _) if !model.is_empty() => model.to_owned(),
        (_, Some(Value::String(model))) if !model.is_empty() => model.clone(),
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
    match operation {
        Operation::Chat => {
            if !matches!(object.get("messages"), Some(Value::Array(m)) if !m.is_empty()) {
                return Err(GatewayError::bad_request(
                    "invalid_messages",
                    "`messages` must be a non-empty array.",
                ));
            }
        }
        Operation::Responses => {
            if !matches!(
                object.get("input"),
                Some(Value::String(_) | Value::Array(_))
            ) {
                return Err(GatewayError::bad_request(
                    "invalid_input",
                    "`input` must be a string or an array of items.",
                ));
            }
        }
        Operation::Embeddings => match object.get("input") {
            Some(Value::String(_)) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
            Some(Value::Array(_)) => {
                return Err(GatewayError::bad_request(
                    "unsupported_input",
                    "Embeddings `input` must be a string or an array of strings; token arrays cannot be inspected and are refused.",
                ));
            }
            _ => {
                return Err(GatewayError::bad_request(
                    "invalid_input",
                    "`input` must be a string or an array of strings.",
                ));
            }
        },
    }
    let tools_present = object.get("tools").is_some_and(|t| !t.is_null())
        || object
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|messages| {
                messages.iter().any(|m| {
                    m.get("tool_calls").is_some() || m.get("role") == Some(&Value::from("tool"))
                })
            })
        || object
            .get("input")
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items.iter().any(|i| {
                    matches!(
                        i.get("type").and_then(Value::as_str),
                        Some("function_call" | "function_call_output")
                    )
                })
            });
    Ok(RequestFacts {
        model,
        stream,
        tools_present,
    })
}

/// Deepest nesting of a JSON value (a scalar is depth 1).
pub fn json_depth(value: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        max = max.max(depth);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, depth + 1))),
            _ => {}
        }
    }
    max
}

/// Visits every segment a model reads. The visitor returns whether it changed the text.
pub fn visit_segments(
    operation: Operation,
    body: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    match operation {
        Operation::Chat => {
            if let Some(Value::Array(messages)) = object.get_mut("messages") {
                for message in messages {
                    visit_chat_message(message, visit);
                }
            }
            visit_tool_definitions(object.get_mut("tools"), visit);
        }
        Operation::Responses => {
            if let Some(Value::String(instructions)) = object.get_mut("instructions") {
                visit(SegmentKind::System, instructions);
            }
            match object.get_mut("input") {
                Some(Value::String(input)) => {
                    visit(SegmentKind::Message, input);
                }
                Some(Value::Array(items)) => {
                    for item in items {
                        visit_response_item(item, visit);
                    }
                }
                _ => {}
            }
            visit_tool_definitions(object.get_mut("tools"), visit);
        }
        Operation::Embeddings => match object.get_mut("input") {
            Some(Value::String(input)) => {
                visit(SegmentKind::EmbeddingInput, input);
            }
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::String(input) = item {
                        visit(SegmentKind::EmbeddingInput, input);
                    }
                }
            }
            _ => {}
        },
    }
}

fn visit_chat_message(
    message: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let Some(message) = message.as_object_mut() else {
        return;
    };
    let kind = match message.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => SegmentKind::System,
        Some("tool" | "function") => SegmentKind::ToolResult,
        _ => SegmentKind::Message,
    };
    if let Some(content) = message.get_mut("content") {
        visit_content(kind, content, visit);
    }
    if let Some(Value::String(refusal)) = message.get_mut("refusal") {
        visit(SegmentKind::Message, refusal);
    }
    if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
        for call in calls {
            if let Some(Value::String(arguments)) = call.pointer_mut("/function/arguments") {
                visit_arguments(arguments, visit);
            }
        }
    }
    if let Some(Value::String(arguments)) = message
        .get_mut("function_call")
        .and_then(|f| f.get_mut("arguments"))
    {
        visit_arguments(arguments, visit);
    }
}

/// Message content: a string, or an array of parts whose text parts are read.
fn visit_content(
    kind: SegmentKind,
    content: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    match content {
        Value::String(text) => {
            visit(kind, text);
        }
        Value::Array(parts) => {
            for part in parts {
                match part {
                    Value::String(text) => {
                        visit(kind, text);
                    }
                    Value::Object(part) => {
                        if let Some(Value::String(text)) = part.get_mut("text") {
                            visit(kind, text);
                        }
                        if let Some(Value::String(refusal)) = part.get_mut("refusal") {
                            visit(kind, refusal);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn visit_response_item(item: &mut Value, visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool) {
    let item_type = item
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message")
        .to_owned();
    match item_type.as_str() {
        "function_call" | "custom_tool_call" => {
            if let Some(Value::String(arguments)) = item.get_mut("arguments") {
                visit_arguments(arguments, visit);
            }
            if let Some(Value::String(input)) = item.get_mut("input") {
                visit(SegmentKind::ToolArguments, input);
            }
        }
        "function_call_output" | "custom_tool_call_output" => {
            if let Some(output) = item.get_mut("output") {
                visit_content(SegmentKind::ToolResult, output, visit);
            }
        }
        _ => {
            let kind = match item.get("role").and_then(Value::as_str) {
                Some("system" | "developer") => SegmentKind::System,
                _ => SegmentKind::Message,
            };
            if let Some(content) = item.get_mut("content") {
                visit_content(kind, content, visit);
            }
        }
    }
}

fn visit_tool_definitions(
    tools: Option<&mut Value>,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let Some(Value::Array(tools)) = tools else {
        return;
    };
    for tool in tools {
        for pointer in ["/function/description", "/description"] {
            if let Some(Value::String(description)) = tool.pointer_mut(pointer) {
                visit(SegmentKind::ToolDefinition, description);
            }
        }
    }
}

/// Tool-call arguments: JSON in a string. Each inner string is a segment; the string is
/// re-encoded only when an inner string changed. Arguments that are not JSON are one
/// segment as they stand.
fn visit_arguments(
    arguments: &mut String,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    match serde_json::from_str::<Value>(arguments) {
        Ok(mut inner) => {
            let mut changed = false;
            visit_all_strings(&mut inner, &mut |text| {
                changed |= visit(SegmentKind::ToolArguments, text);
            });
            if changed && let Ok(encoded) = serde_json::to_string(&inner) {
                *arguments = encoded;
            }
        }
        Err(_) => {
            visit(SegmentKind::ToolArguments, arguments);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn segments(operation: Operation, mut body: Value) -> Vec<(SegmentKind, String)> {
        let mut out = Vec::new();
        visit_segments(operation, &mut body, &mut |kind, text| {
            out.push((kind, text.clone()));
            false
        });
        out
    }

    #[test]
    fn chat_reads_every_text_a_model_reads() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "part"}, {"type": "image_url", "image_url": {"url": "http://x"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "1", "type": "function", "function": {"name": "f", "arguments": "{\"to\":\"a@b.co\",\"n\":[\"x\"]}"}}]},
                {"role": "tool", "tool_call_id": "1", "content": "result"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "description": "desc"}}]
        });
        let got = segments(Operation::Chat, body);
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["sys", "part", "a@b.co", "x", "result", "desc"]);
        assert_eq!(got[0].0, SegmentKind::System);
        assert_eq!(got[2].0, SegmentKind::ToolArguments);
        assert_eq!(got[4].0, SegmentKind::ToolResult);
    }

    #[test]
    fn json_escapes_are_decoded_before_scanning() {
        let body: Value = serde_json::from_str(
            r#"{"model":"m","messages":[{"role":"user","content":"bob\u0040example.com"}]}"#,
        )
        .unwrap();
        assert_eq!(segments(Operation::Chat, body)[0].1, "bob@example.com");
    }

    #[test]
    fn responses_reads_instructions_input_and_tool_outputs() {
        let body = json!({
            "model": "m",
            "instructions": "ins",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "hello"}]},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{\"q\":\"arg\"}"},
                {"type": "function_call_output", "call_id": "c", "output": "out"}
            ]
        });
        let texts: Vec<String> = segments(Operation::Responses, body)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(texts, ["ins", "hello", "arg", "out"]);
    }

    #[test]
    fn rewriting_arguments_keeps_them_json() {
        let mut body = json!({"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"to\":\"secret\"}"}}]}]});
        visit_segments(Operation::Chat, &mut body, &mut |_, text| {
            *text = "[X_1]".into();
            true
        });
        let args = body
            .pointer("/messages/0/tool_calls/0/function/arguments")
            .unwrap()
            .as_str()
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(args).unwrap(),
            json!({"to": "[X_1]"})
        );
    }

    #[test]
    fn embeddings_token_arrays_are_refused() {
        let err = request_facts(
            Operation::Embeddings,
            &json!({"model": "m", "input": [[1, 2, 3]]}),
            None,
        )
        .unwrap_err();
        assert_eq!(err.code(), "unsupported_input");
        let facts = request_facts(
            Operation::Embeddings,
            &json!({"model": "m", "input": ["a", "b"]}),
            None,
        )
        .unwrap();
        assert_eq!(facts.model, "m");
    }

    #[test]
    fn an_azure_path_deployment_names_the_model() {
        let body = json!({"messages": [{"role": "user", "content": "hi"}]});
        let facts = request_facts(Operation::Chat, &body, Some("gpt-4o")).unwrap();
        assert_eq!(facts.model, "gpt-4o");
        let body = json!({"model": "other", "messages": [{"role": "user", "content": "hi"}]});
        let facts = request_facts(Operation::Chat, &body, Some("gpt-4o")).unwrap();
        assert_eq!(facts.model, "gpt-4o");
    }

    #[test]
    fn missing_model_and_messages_are_client_errors() {
        assert_eq!(
            request_facts(Operation::Chat, &json!({"messages": []}), None)
                .unwrap_err()
                .code(),
            "missing_model"
        );
        assert_eq!(
            request_facts(
                Operation::Chat,
                &json!({"model": "m", "messages": []}),
                None
            )
            .unwrap_err()
            .code(),
            "invalid_messages"
        );
        assert_eq!(
            request_facts(Operation::Chat, &json!([1]), None)
                .unwrap_err()
                .code(),
            "invalid_body"
        );
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(json_depth(&json!(1)), 1);
        assert_eq!(json_depth(&json!({"a": [1]})), 3);
    }
}
