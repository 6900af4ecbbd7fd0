//! parse: Google's Gemini wire format, as read by a model. The Gemini API
//! (`POST /v1beta/models/{model}:generateContent`) and Vertex AI
//! (`POST /v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`)
//! take the same bodies, so one parser serves both.
//!
//! The URL, not the body, names the model and says whether a stream is wanted
//! (`streamGenerateContent`); the router hands both over as `path_model` and
//! `path_stream`.
//!
//! The segments of `generateContent` and `streamGenerateContent`, in order:
//! `systemInstruction`'s parts, then each content's parts — `text`, every string inside
//! a `functionCall`'s `args`, every string inside a `functionResponse`'s `response`,
//! `executableCode` and `codeExecutionResult` — then each function declaration's
//! `description`. `inlineData` and `fileData` (bytes and URIs) carry no text Customs can
//! read; they pass as they are, like images in the other APIs. `embedContent`: the
//! parts of `content`, and the `title`; `batchEmbedContents`: the same for each of
//! `requests`. Vertex's `predict`, for its text-embedding models
//! (`text-embedding-005`), reads each of `instances`: its `content` and its `title`.
//! An instance of any other shape (an image model's `prompt`, a multimodal model's
//! `text` or `image`) is refused rather than passed unread, and so is a parameter
//! other than `autoTruncate` and `outputDimensionality`.
//!
//! Google's REST endpoints read every field in camelCase or in snake_case
//! (`systemInstruction` or `system_instruction`). Where a body holds both spellings of a
//! field, both are visited, so whichever the upstream reads has been scanned.

use serde_json::{Map, Value};

use super::{Api, Door, Endpoint, RequestFacts, SegmentKind, visit_all_strings};
use crate::error::GatewayError;

/// The endpoint a Google path names. `target` is the path's last segment,
/// `{model}:{method}` (split at the last `:`); `query` is the URL's query, where
/// `alt=sse` asks for the stream as server-sent events. `None` for a method Customs does
/// not serve.
pub fn endpoint(target: &str, query: Option<&str>) -> Option<Endpoint> {
    let (model, method) = target.rsplit_once(':')?;
    let (api, stream) = match method {
        "generateContent" => (Api::GeminiGenerate, false),
        "streamGenerateContent" => (Api::GeminiGenerate, true),
        "embedContent" => (Api::GeminiEmbed, false),
        "batchEmbedContents" => (Api::GeminiBatchEmbed, false),
        "countTokens" => (Api::GeminiCountTokens, false),
        "predict" => (Api::VertexPredict, false),
        _ => return None,
    };
    let sse = stream
        && query.is_some_and(|query| {
            query
                .split('&')
                .any(|pair| pair.eq_ignore_ascii_case("alt=sse"))
        });
    Some(Endpoint {
        path_model: Some(model.to_owned()),
        path_stream: stream,
        sse,
        ..Endpoint::new(Door::Google, api)
    })
}

/// Checks the body's shape for `api` and returns what the URL said: the model and
/// whether a stream was asked for; tools are present when the body declares functions
/// or carries function calls or responses.
pub fn request_facts(
    api: Api,
    body: &Value,
    path_model: Option<&str>,
    path_stream: bool,
) -> Result<RequestFacts, GatewayError> {
    let Some(object) = body.as_object() else {
        return Err(GatewayError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    };
    let model = match path_model {
        Some(model) if !model.is_empty() => model.to_owned(),
        _ => {
            return Err(GatewayError::bad_request(
                "missing_model",
                "The URL must name a model (`models/{model}:{method}`).",
            ));
        }
    };
    let tools_present = match api {
        Api::GeminiEmbed => {
            check_embed_request(object)?;
            false
        }
        Api::VertexPredict => {
            check_predict_request(object)?;
            false
        }
        Api::GeminiBatchEmbed => {
            let requests = match object.get("requests") {
                Some(Value::Array(requests)) if !requests.is_empty() => requests,
                _ => {
                    return Err(GatewayError::bad_request(
                        "invalid_requests",
                        "`requests` must be a non-empty array of embedding requests.",
                    ));
                }
            };
            for request in requests {
                let Some(request) = request.as_object() else {
                    return Err(GatewayError::bad_request(
                        "invalid_requests",
                        "Each of `requests` must be an object.",
                    ));
                };
                check_embed_request(request)?;
            }
            false
        }
        // `{"contents": [...]}` or `{"generateContentRequest": {...}}`.
        Api::GeminiCountTokens => match object.get("generateContentRequest") {
            Some(Value::Object(request)) => check_generate_request(request)?,
            Some(_) => {
                return Err(GatewayError::bad_request(
                    "invalid_body",
                    "`generateContentRequest` must be an object.",
                ));
            }
            None => check_generate_request(object)?,
        },
        _ => check_generate_request(object)?,
    };
    Ok(RequestFacts {
        model,
        stream: path_stream && api == Api::GeminiGenerate,
        tools_present,
    })
}

/// `generateContent`: `contents` and `systemInstruction` hold parts, `tools` is an
/// array. Returns whether tools are present.
fn check_generate_request(object: &Map<String, Value>) -> Result<bool, GatewayError> {
    let contents = match object.get("contents") {
        Some(Value::Array(contents)) if !contents.is_empty() => contents,
        _ => {
            return Err(GatewayError::bad_request(
                "invalid_contents",
                "`contents` must be a non-empty array.",
            ));
        }
    };
    let mut tools_present = false;
    for content in contents {
        let parts = parts_of(content).ok_or_else(|| {
            GatewayError::bad_request(
                "invalid_contents",
                "Each of `contents` must be an object whose `parts` is an array of objects.",
            )
        })?;
        tools_present |= parts.iter().any(|part| {
            [
                "functionCall",
                "function_call",
                "functionResponse",
                "function_response",
            ]
            .iter()
            .any(|field| part.get(*field).is_some_and(|v| !v.is_null()))
        });
    }
    for system in spelled(object, "systemInstruction", "system_instruction") {
        if !(system.is_null() || system.is_string() || parts_of(system).is_some()) {
            return Err(GatewayError::bad_request(
                "invalid_system_instruction",
                "`systemInstruction` must be a content whose `parts` is an array of objects.",
            ));
        }
    }
    match object.get("tools") {
        None | Some(Value::Null) => {}
        Some(Value::Array(tools)) => {
            if tools.iter().any(|tool| !tool.is_object()) {
                return Err(GatewayError::bad_request(
                    "invalid_tools",
                    "Each of `tools` must be an object.",
                ));
            }
            tools_present |= !tools.is_empty();
        }
        Some(_) => {
            return Err(GatewayError::bad_request(
                "invalid_tools",
                "`tools` must be an array.",
            ));
        }
    }
    Ok(tools_present)
}

/// One embedding request: a `content` with parts.
fn check_embed_request(object: &Map<String, Value>) -> Result<(), GatewayError> {
    match object.get("content") {
        Some(content) if parts_of(content).is_some() => Ok(()),
        _ => Err(GatewayError::bad_request(
            "invalid_content",
            "`content` must be an object whose `parts` is an array of objects.",
        )),
    }
}

/// Whether `value` is what the field `name` of a text-embedding instance of `predict`
/// holds: `content` and `title` are text (and segments); `task_type` names a task
/// (`RETRIEVAL_DOCUMENT`, letters and `_`) and `mimeType` a media type (`text/plain`),
/// short tokens that carry no sentence. Any other field is not one.
fn predict_instance_field(name: &str, value: &Value) -> bool {
    let token = |allowed: fn(u8) -> bool| {
        value
            .as_str()
            .is_some_and(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(allowed))
    };
    match name {
        "content" => value.is_string(),
        "title" => value.is_string() || value.is_null(),
        "task_type" | "taskType" => token(|b| b.is_ascii_alphabetic() || b == b'_'),
        "mimeType" | "mime_type" => {
            token(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'+' | b'.'))
        }
        _ => false,
    }
}

/// Whether `value` is what the parameter `name` of a text-embedding `predict` holds: a
/// boolean `autoTruncate`, a whole `outputDimensionality`.
fn predict_parameter(name: &str, value: &Value) -> bool {
    match name {
        "autoTruncate" | "auto_truncate" => value.is_boolean(),
        "outputDimensionality" | "output_dimensionality" => value.is_u64(),
        _ => false,
    }
}

/// `predict` for text embeddings: `instances`, a non-empty array of objects with a
/// string `content` and only the fields of a text-embedding instance, each holding what
/// that field holds; `parameters`, if any, only those of a text-embedding model; no other
/// field. Anything else may be text that leaves unscanned (a model may not read it, but
/// the provider receives it and may echo it in an error), so it is refused.
fn check_predict_request(object: &Map<String, Value>) -> Result<(), GatewayError> {
    let unsupported = || {
        GatewayError::bad_request(
            "unsupported_instance",
            "Customs serves `predict` for text embeddings only: each of `instances` is an \
             object with a string `content` and optionally `title`, `task_type` and `mimeType`.",
        )
    };
    if let Some(field) = object
        .keys()
        .find(|field| !matches!(field.as_str(), "instances" | "parameters"))
    {
        let shown: String = field.chars().take(64).collect();
        return Err(GatewayError::bad_request(
            "unsupported_field",
            format!(
                "Customs serves `predict` for text embeddings only: `{shown}` is not a field of it."
            ),
        ));
    }
    let instances = match object.get("instances") {
        Some(Value::Array(instances)) if !instances.is_empty() => instances,
        _ => {
            return Err(GatewayError::bad_request(
                "invalid_instances",
                "`instances` must be a non-empty array.",
            ));
        }
    };
    for instance in instances {
        let instance = instance.as_object().ok_or_else(unsupported)?;
        let fields_ok = instance
            .iter()
            .all(|(name, value)| predict_instance_field(name, value));
        if !(fields_ok && instance.contains_key("content")) {
            return Err(unsupported());
        }
    }
    match object.get("parameters") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(parameters))
            if parameters
                .iter()
                .all(|(name, value)| predict_parameter(name, value)) =>
        {
            Ok(())
        }
        Some(_) => Err(GatewayError::bad_request(
            "unsupported_parameters",
            "Customs serves `predict` for text embeddings only: `parameters` may hold \
             `autoTruncate` (a boolean) and `outputDimensionality` (a whole number).",
        )),
    }
}

/// A content's parts, when it is an object whose `parts` (if any) is an array of
/// objects; `None` for any other shape.
fn parts_of(content: &Value) -> Option<Vec<&Map<String, Value>>> {
    let content = content.as_object()?;
    match content.get("parts") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(parts)) => parts.iter().map(Value::as_object).collect(),
        Some(_) => None,
    }
}

/// Every value of `object` under either spelling of a field, in the object's order.
fn spelled<'a>(
    object: &'a Map<String, Value>,
    camel: &'static str,
    snake: &'static str,
) -> impl Iterator<Item = &'a Value> {
    object
        .iter()
        .filter(move |(name, _)| name.as_str() == camel || name.as_str() == snake)
        .map(|(_, value)| value)
}

/// [`spelled`], for rewriting.
fn spelled_mut<'a>(
    object: &'a mut Map<String, Value>,
    camel: &'static str,
    snake: &'static str,
) -> impl Iterator<Item = &'a mut Value> {
    object
        .iter_mut()
        .filter(move |(name, _)| name.as_str() == camel || name.as_str() == snake)
        .map(|(_, value)| value)
}

/// Visits every segment a model reads. The visitor returns whether it changed the text.
pub fn visit_segments(
    api: Api,
    body: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    match api {
        Api::GeminiEmbed => visit_embed_request(object, visit),
        Api::VertexPredict => {
            if let Some(Value::Array(instances)) = object.get_mut("instances") {
                for instance in instances.iter_mut().filter_map(Value::as_object_mut) {
                    for field in ["content", "title"] {
                        if let Some(Value::String(text)) = instance.get_mut(field) {
                            visit(SegmentKind::EmbeddingInput, text);
                        }
                    }
                }
            }
        }
        Api::GeminiBatchEmbed => {
            if let Some(Value::Array(requests)) = object.get_mut("requests") {
                for request in requests {
                    if let Some(request) = request.as_object_mut() {
                        visit_embed_request(request, visit);
                    }
                }
            }
        }
        Api::GeminiCountTokens => match object.get_mut("generateContentRequest") {
            Some(Value::Object(request)) => visit_generate_request(request, visit),
            _ => visit_generate_request(object, visit),
        },
        _ => visit_generate_request(object, visit),
    }
}

fn visit_generate_request(
    object: &mut Map<String, Value>,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    for system in spelled_mut(object, "systemInstruction", "system_instruction") {
        visit_content(SegmentKind::System, system, visit);
    }
    if let Some(Value::Array(contents)) = object.get_mut("contents") {
        for content in contents {
            visit_content(SegmentKind::Message, content, visit);
        }
    }
    if let Some(Value::Array(tools)) = object.get_mut("tools") {
        for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
            for declarations in spelled_mut(tool, "functionDeclarations", "function_declarations") {
                let Value::Array(declarations) = declarations else {
                    continue;
                };
                for declaration in declarations {
                    if let Some(Value::String(description)) = declaration.get_mut("description") {
                        visit(SegmentKind::ToolDefinition, description);
                    }
                }
            }
        }
    }
}

/// One embedding request: `content`'s parts and the document's `title` (also inside
/// Vertex's `embedContentConfig`).
fn visit_embed_request(
    object: &mut Map<String, Value>,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    if let Some(content) = object.get_mut("content") {
        visit_content(SegmentKind::EmbeddingInput, content, visit);
    }
    if let Some(Value::String(title)) = object.get_mut("title") {
        visit(SegmentKind::EmbeddingInput, title);
    }
    for config in spelled_mut(object, "embedContentConfig", "embed_content_config") {
        if let Some(Value::String(title)) = config.get_mut("title") {
            visit(SegmentKind::EmbeddingInput, title);
        }
    }
}

/// A content: an object with `parts` (or, for a system instruction, a bare string).
fn visit_content(
    kind: SegmentKind,
    content: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    match content {
        Value::String(text) => {
            visit(kind, text);
        }
        Value::Object(content) => {
            if let Some(Value::Array(parts)) = content.get_mut("parts") {
                for part in parts.iter_mut().filter_map(Value::as_object_mut) {
                    visit_part(kind, part, visit);
                }
            }
        }
        _ => {}
    }
}

fn visit_part(
    kind: SegmentKind,
    part: &mut Map<String, Value>,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    if let Some(Value::String(text)) = part.get_mut("text") {
        visit(kind, text);
    }
    for call in spelled_mut(part, "functionCall", "function_call") {
        if let Some(args) = call.get_mut("args") {
            visit_all_strings(args, &mut |text| {
                visit(SegmentKind::ToolArguments, text);
            });
        }
    }
    for response in spelled_mut(part, "functionResponse", "function_response") {
        if let Some(response) = response.get_mut("response") {
            visit_all_strings(response, &mut |text| {
                visit(SegmentKind::ToolResult, text);
            });
        }
    }
    for code in spelled_mut(part, "executableCode", "executable_code") {
        if let Some(Value::String(code)) = code.get_mut("code") {
            visit(kind, code);
        }
    }
    for result in spelled_mut(part, "codeExecutionResult", "code_execution_result") {
        if let Some(Value::String(output)) = result.get_mut("output") {
            visit(SegmentKind::ToolResult, output);
        }
    }
}

/// `batchEmbedContents` names the model again in each request (`models/{model}`, which
/// Points the `model` of a `countTokens` body's `generateContentRequest`, when it has
/// one, at the deployment's model.
pub fn set_count_model(body: &mut Value, model: &str) {
    if let Some(Value::Object(request)) = body.get_mut("generateContentRequest")
        && request.contains_key("model")
    {
        request.insert("model".to_owned(), Value::String(format!("models/{model}")));
    }
}

/// must match the URL's): points those that do at the deployment's model.
pub fn set_batch_model(body: &mut Value, model: &str) {
    if let Some(Value::Array(requests)) = body.get_mut("requests") {
        for request in requests.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(named) = request.get_mut("model") {
                *named = Value::String(format!("models/{model}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::policy::{Operation, ProviderKind};

    fn segments(api: Api, mut body: Value) -> Vec<(SegmentKind, String)> {
        let mut out = Vec::new();
        visit_segments(api, &mut body, &mut |kind, text| {
            out.push((kind, text.clone()));
            false
        });
        out
    }

    #[test]
    fn the_path_names_model_method_and_stream_framing() {
        let sse = endpoint("gemini-2.5-flash:streamGenerateContent", Some("alt=sse")).unwrap();
        assert_eq!(sse.door, Door::Google);
        assert_eq!(sse.api, Api::GeminiGenerate);
        assert_eq!(sse.path_model.as_deref(), Some("gemini-2.5-flash"));
        assert!(sse.path_stream && sse.sse);
        let array = endpoint("m:streamGenerateContent", None).unwrap();
        assert!(array.path_stream && !array.sse);
        let plain = endpoint("m:generateContent", Some("alt=sse")).unwrap();
        assert!(!plain.path_stream && !plain.sse);
        assert_eq!(
            endpoint("m:embedContent", None).unwrap().api,
            Api::GeminiEmbed
        );
        assert_eq!(
            endpoint("m:batchEmbedContents", None).unwrap().api,
            Api::GeminiBatchEmbed
        );
        // The model itself may hold a colon; the method follows the last one.
        assert_eq!(
            endpoint("a:b:generateContent", None)
                .unwrap()
                .path_model
                .as_deref(),
            Some("a:b")
        );
        assert_eq!(
            endpoint("m:countTokens", None).unwrap().api,
            Api::GeminiCountTokens
        );
        assert_eq!(
            endpoint("text-embedding-005:predict", None).unwrap().api,
            Api::VertexPredict
        );
        for unknown in ["m:computeTokens", "m", "m:predictLongRunning"] {
            assert!(endpoint(unknown, None).is_none(), "{unknown}");
        }
    }

    #[test]
    fn every_part_a_model_reads_is_a_segment() {
        let body = json!({
            "systemInstruction": {"parts": [{"text": "sys"}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "hello"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                    {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/f.pdf"}}
                ]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "lookup", "args": {"email": "a@b.co", "n": 3, "tags": ["x"]}}},
                    {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
                    {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1"}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "lookup", "response": {"result": "found"}}}
                ]}
            ],
            "tools": [{"functionDeclarations": [{"name": "lookup", "description": "desc", "parameters": {"type": "OBJECT"}}]}]
        });
        let got = segments(Api::GeminiGenerate, body);
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "sys", "hello", "a@b.co", "x", "print(1)", "1", "found", "desc"
            ]
        );
        let kinds: Vec<SegmentKind> = got.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                SegmentKind::System,
                SegmentKind::Message,
                SegmentKind::ToolArguments,
                SegmentKind::ToolArguments,
                SegmentKind::Message,
                SegmentKind::ToolResult,
                SegmentKind::ToolResult,
                SegmentKind::ToolDefinition,
            ]
        );
    }

    #[test]
    fn snake_case_fields_are_read_like_camel_case_ones() {
        let body = json!({
            "system_instruction": {"parts": [{"text": "sys"}]},
            "contents": [{"role": "user", "parts": [
                {"function_call": {"name": "f", "args": {"q": "args"}}},
                {"function_response": {"name": "f", "response": {"r": "result"}}}
            ]}],
            "tools": [{"function_declarations": [{"name": "f", "description": "desc"}]}]
        });
        let texts: Vec<String> = segments(Api::GeminiGenerate, body)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(texts, ["sys", "args", "result", "desc"]);
    }

    #[test]
    fn both_spellings_of_a_field_are_visited() {
        let body = json!({
            "systemInstruction": {"parts": [{"text": "camel"}]},
            "system_instruction": {"parts": [{"text": "snake"}]},
            "contents": [{"parts": [{"text": "u"}]}]
        });
        let mut texts: Vec<String> = segments(Api::GeminiGenerate, body)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        texts.sort();
        assert_eq!(texts, ["camel", "snake", "u"]);
    }

    #[test]
    fn embedding_requests_are_segments_one_by_one() {
        let single =
            json!({"content": {"parts": [{"text": "one"}, {"text": "two"}]}, "title": "t"});
        let got = segments(Api::GeminiEmbed, single);
        assert!(got.iter().all(|(k, _)| *k == SegmentKind::EmbeddingInput));
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["one", "two", "t"]);

        let batch = json!({"requests": [
            {"model": "models/m", "content": {"parts": [{"text": "a"}]}},
            {"model": "models/m", "content": {"parts": [{"text": "b"}]}, "embedContentConfig": {"title": "c"}}
        ]});
        let texts: Vec<String> = segments(Api::GeminiBatchEmbed, batch)
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(texts, ["a", "b", "c"]);
    }

    #[test]
    fn predict_instances_are_segments_content_then_title() {
        let body = json!({
            "instances": [
                {"task_type": "RETRIEVAL_DOCUMENT", "title": "t1", "content": "c1"},
                {"content": "c2", "mimeType": "text/plain"}
            ],
            "parameters": {"autoTruncate": false, "outputDimensionality": 256}
        });
        let facts =
            request_facts(Api::VertexPredict, &body, Some("text-embedding-005"), false).unwrap();
        assert_eq!(facts.model, "text-embedding-005");
        assert!(!facts.stream && !facts.tools_present);
        let got = segments(Api::VertexPredict, body);
        assert!(got.iter().all(|(k, _)| *k == SegmentKind::EmbeddingInput));
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["c1", "t1", "c2"]);
        assert_eq!(Api::VertexPredict.operation(), Operation::Embeddings);
        // Only Vertex serves it.
        assert_eq!(
            Api::VertexPredict.upstream_api(ProviderKind::Vertex),
            Some(Api::VertexPredict)
        );
        for provider in [
            ProviderKind::Gemini,
            ProviderKind::OpenAi,
            ProviderKind::Bedrock,
        ] {
            assert!(!Api::VertexPredict.served_by(provider), "{provider:?}");
        }
    }

    #[test]
    fn rewriting_function_args_keeps_them_an_object() {
        let mut body = json!({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"to": "secret", "n": 1}}}]}]});
        visit_segments(Api::GeminiGenerate, &mut body, &mut |_, text| {
            *text = "[X_1]".into();
            true
        });
        assert_eq!(
            body.pointer("/contents/0/parts/0/functionCall/args")
                .unwrap(),
            &json!({"to": "[X_1]", "n": 1})
        );
    }

    #[test]
    fn facts_come_from_the_url_and_the_body() {
        let body = json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "tools": [{"functionDeclarations": []}]});
        let facts =
            request_facts(Api::GeminiGenerate, &body, Some("gemini-2.5-flash"), true).unwrap();
        assert_eq!(facts.model, "gemini-2.5-flash");
        assert!(facts.stream && facts.tools_present);

        let body =
            json!({"contents": [{"role": "model", "parts": [{"function_call": {"name": "f"}}]}]});
        let facts = request_facts(Api::GeminiGenerate, &body, Some("m"), false).unwrap();
        assert!(!facts.stream && facts.tools_present);

        let body = json!({"content": {"parts": [{"text": "x"}]}});
        let facts = request_facts(Api::GeminiEmbed, &body, Some("e"), false).unwrap();
        assert!(!facts.stream && !facts.tools_present);
    }

    #[test]
    fn shape_errors() {
        let ok = json!({"contents": [{"parts": [{"text": "x"}]}]});
        for (api, body, model, code) in [
            (Api::GeminiGenerate, ok.clone(), None, "missing_model"),
            (Api::GeminiGenerate, json!([1]), Some("m"), "invalid_body"),
            (
                Api::GeminiGenerate,
                json!({"contents": []}),
                Some("m"),
                "invalid_contents",
            ),
            (
                Api::GeminiGenerate,
                json!({"contents": [{"parts": "x"}]}),
                Some("m"),
                "invalid_contents",
            ),
            (
                Api::GeminiGenerate,
                json!({"contents": [{"parts": ["x"]}]}),
                Some("m"),
                "invalid_contents",
            ),
            (
                Api::GeminiGenerate,
                json!({"contents": [{"parts": []}], "systemInstruction": 3}),
                Some("m"),
                "invalid_system_instruction",
            ),
            (
                Api::GeminiGenerate,
                json!({"contents": [{"parts": []}], "tools": {}}),
                Some("m"),
                "invalid_tools",
            ),
            (
                Api::GeminiEmbed,
                json!({"content": "x"}),
                Some("m"),
                "invalid_content",
            ),
            (
                Api::GeminiBatchEmbed,
                json!({"requests": []}),
                Some("m"),
                "invalid_requests",
            ),
            (
                Api::GeminiBatchEmbed,
                json!({"requests": [{"content": {"parts": 1}}]}),
                Some("m"),
                "invalid_content",
            ),
            (
                Api::VertexPredict,
                json!({"instances": []}),
                Some("m"),
                "invalid_instances",
            ),
            (
                Api::VertexPredict,
                json!({"instances": "x"}),
                Some("m"),
                "invalid_instances",
            ),
            (
                Api::VertexPredict,
                json!({}),
                Some("m"),
                "invalid_instances",
            ),
            // Other models' instances carry text Customs does not read: refused.
            (
                Api::VertexPredict,
                json!({"instances": [{"prompt": "a cat"}]}),
                Some("imagen-4.0-generate-001"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "text": "y"}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": {"parts": []}}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "title": ["t"]}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": ["x"]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x"}], "parameters": {"negativePrompt": "y"}}),
                Some("m"),
                "unsupported_parameters",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x"}], "parameters": {"autoTruncate": "yes"}}),
                Some("m"),
                "unsupported_parameters",
            ),
            // Fields that hold no text must hold what they are for, not text.
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "task_type": "SSN 078-05-1120"}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "taskType": {"note": "y"}}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "mimeType": ["text/plain"]}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x", "mimeType": "text/plain; note=jane@example.com"}]}),
                Some("m"),
                "unsupported_instance",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x"}], "parameters": {"outputDimensionality": ["y"]}}),
                Some("m"),
                "unsupported_parameters",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x"}], "parameters": {"autoTruncate": {"a": "y"}}}),
                Some("m"),
                "unsupported_parameters",
            ),
            (
                Api::VertexPredict,
                json!({"instances": [{"content": "x"}], "labels": {"note": "y"}}),
                Some("m"),
                "unsupported_field",
            ),
        ] {
            assert_eq!(
                request_facts(api, &body, model, false).unwrap_err().code(),
                code,
                "{body}"
            );
        }
    }
}
