//! forward: translation between OpenAI's Chat Completions and the other chat wire
//! formats, so that a caller speaking OpenAI's API can be routed by policy to a
//! deployment that speaks Anthropic Messages, AWS Bedrock `Converse` or Google's
//! `generateContent`.
//!
//! The translation runs at forward, on the body as it will leave (already inspected,
//! decided and redacted), and on the way back: [`chat_request`] turns the OpenAI body
//! into the [`Target`]'s; [`chat_response`], [`ChatStream`] and [`error_message`] turn
//! the target's answer, stream events and errors into what an OpenAI SDK reads. Every
//! function is pure (JSON in, JSON out), so the whole mapping is tested here without a
//! network and the pipeline keeps one place that knows all the shapes.
//!
//! A request is read once into a neutral conversation (system texts, then turns of
//! user or assistant blocks: text, image, tool call, tool result) and written out per
//! target. Consecutive turns of the same role are merged, as Anthropic and Bedrock
//! require alternation and Gemini wants every function response of a step in one
//! content. Tool results are matched to the tool call they answer by id, which also
//! gives Gemini the function name it needs.
//!
//! Fail closed: content a target cannot carry is refused (`untranslatable_request`)
//! rather than dropped — image links (only base64 data URLs travel), audio and file
//! parts, tool-call arguments that are not a JSON object, the legacy `functions` /
//! `function_call`, tools that are not functions, `n` above 1, a `json_schema`
//! response format where the target has no equivalent, and a temperature above 1 for
//! Anthropic (whose range ends there). Fields that change no text the
//! model reads and have no equivalent (`seed` outside Gemini, `logit_bias`,
//! `logprobs`, `user`, `reasoning_effort`, ...) are left out.
//!
//! Where the formats differ in what they can say, and what is done: system and
//! developer messages anywhere in the conversation join the target's one system
//! prompt; Bedrock has no `tool_choice: "none"`, so the choice is left to the model;
//! thinking and reasoning in answers have no place in a chat completion and are not
//! passed on.
//!
//! Two of Gemini's demands are met here rather than left to fail upstream: JSON
//! Schemas outside the OpenAPI subset its `parameters` field reads (strict-mode
//! schemas carry `additionalProperties`) travel as `parametersJsonSchema`, and the
//! first function call of each model turn carries Google's documented placeholder
//! thought signature, since a history written elsewhere has none and Gemini 3 refuses
//! function calls without one.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::error::GatewayError;

/// The wire formats an OpenAI chat request can be translated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Anthropic Messages (`POST /v1/messages`).
    Anthropic,
    /// AWS Bedrock `Converse` / `ConverseStream`.
    BedrockConverse,
    /// Google `generateContent` / `streamGenerateContent` (Gemini API and Vertex AI).
    Gemini,
}

/// The error code of every refusal to translate.
const UNTRANSLATABLE: &str = "untranslatable_request";

/// Anthropic requires `max_tokens`; this is sent when the caller named none.
const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 4096;

/// The longest upstream error message passed on, in characters.
const MAX_ERROR_MESSAGE_CHARS: usize = 500;

/// Google's documented placeholder for a function call whose thought signature is
/// unknown (a history not produced by Gemini).
const GEMINI_PLACEHOLDER_THOUGHT_SIGNATURE: &str = "skip_thought_signature_validator";

/// The keywords of the OpenAPI schema subset Gemini's `parameters` and
/// `responseSchema` read. A schema using anything else goes as JSON Schema.
const GEMINI_SCHEMA_KEYWORDS: [&str; 22] = [
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// Image media types Anthropic and Bedrock accept.
const COMMON_IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

fn untranslatable(message: &str) -> GatewayError {
    GatewayError::bad_request(UNTRANSLATABLE, message)
}

fn invalid_messages(message: &str) -> GatewayError {
    GatewayError::bad_request("invalid_messages", message)
}

// ---------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------

/// An OpenAI chat.completions body (already redacted) → the target's request body.
/// `model` is the deployment's model (Anthropic puts it in the body; Bedrock and Gemini
/// in the URL, so it is ignored there).
pub fn chat_request(target: Target, body: &Value, model: &str) -> Result<Value, GatewayError> {
    let Some(body) = body.as_object() else {
        return Err(GatewayError::bad_request(
            "invalid_body",
            "The request body must be a JSON object.",
        ));
    };
    refuse_unmappable_fields(body)?;
    let conversation = read_conversation(body)?;
    let tools = read_tools(body)?;
    let tool_choice = read_tool_choice(body);
    let settings = read_settings(body)?;
    match target {
        Target::Anthropic => {
            anthropic_request(&conversation, &tools, tool_choice, &settings, model)
        }
        Target::BedrockConverse => bedrock_request(&conversation, &tools, tool_choice, &settings),
        Target::Gemini => gemini_request(&conversation, &tools, tool_choice, &settings),
    }
}

/// Fields whose loss would change what the caller gets back without their noticing.
fn refuse_unmappable_fields(body: &Map<String, Value>) -> Result<(), GatewayError> {
    let present = |key: &str| body.get(key).is_some_and(|v| !v.is_null());
    if present("functions") || present("function_call") {
        return Err(untranslatable(
            "The legacy `functions` and `function_call` fields cannot be translated for this deployment's API; use `tools` and `tool_choice`.",
        ));
    }
    match body.get("n") {
        None | Some(Value::Null) => {}
        Some(n) if n.as_u64() == Some(1) => {}
        Some(_) => {
            return Err(untranslatable(
                "Only one choice (`n` = 1) can be asked of this deployment's API.",
            ));
        }
    }
    Ok(())
}

/// A speaker in the neutral conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    User,
    Assistant,
}

/// One piece of a turn.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    Text(String),
    /// A base64 image from a data URL.
    Image {
        media_type: String,
        data: String,
    },
    /// An assistant's call; `input` is a JSON object.
    ToolCall {
        id: String,
        name: String,
        input: Value,
    },
    /// A tool's answer; `name` is the answered call's, when an earlier message made it.
    ToolResult {
        id: String,
        name: Option<String>,
        texts: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Turn {
    role: Role,
    blocks: Vec<Block>,
}

/// The conversation, independent of wire format.
#[derive(Debug, Clone, Default, PartialEq)]
struct Conversation {
    system: Vec<String>,
    turns: Vec<Turn>,
}

impl Conversation {
    /// Appends blocks, merging them into the last turn when it has the same role.
    fn push(&mut self, role: Role, blocks: Vec<Block>) {
        if blocks.is_empty() {
            return;
        }
        match self.turns.last_mut() {
            Some(last) if last.role == role => last.blocks.extend(blocks),
            _ => self.turns.push(Turn { role, blocks }),
        }
    }
}

fn read_conversation(body: &Map<String, Value>) -> Result<Conversation, GatewayError> {
    let Some(Value::Array(messages)) = body.get("messages") else {
        return Err(invalid_messages("`messages` must be a non-empty array."));
    };
    let mut conversation = Conversation::default();
    // Tool-call id → function name, the latest call winning (ids may repeat across
    // turns, e.g. Gemini's synthetic `call_<n>`).
    let mut call_names: HashMap<String, String> = HashMap::new();
    for message in messages {
        let Some(message) = message.as_object() else {
            return Err(invalid_messages("Each message must be a JSON object."));
        };
        match message.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => {
                conversation
                    .system
                    .extend(read_texts(message.get("content"))?);
            }
            Some("user") => {
                let blocks = read_content(message.get("content"), true)?;
                conversation.push(Role::User, blocks);
            }
            Some("assistant") => {
                let mut blocks = read_content(message.get("content"), false)?;
                if let Some(Value::String(refusal)) = message.get("refusal")
                    && !refusal.is_empty()
                {
                    blocks.push(Block::Text(refusal.clone()));
                }
                match message.get("tool_calls") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(calls)) => {
                        for call in calls {
                            let block = read_tool_call(call)?;
                            if let Block::ToolCall { id, name, .. } = &block {
                                call_names.insert(id.clone(), name.clone());
                            }
                            blocks.push(block);
                        }
                    }
                    Some(_) => return Err(invalid_messages("`tool_calls` must be an array.")),
                }
                conversation.push(Role::Assistant, blocks);
            }
            Some("tool") => {
                let Some(Value::String(id)) = message.get("tool_call_id") else {
                    return Err(invalid_messages(
                        "A `tool` message must name the `tool_call_id` it answers.",
                    ));
                };
                let block = Block::ToolResult {
                    id: id.clone(),
                    name: call_names.get(id).cloned(),
                    texts: read_texts(message.get("content"))?,
                };
                conversation.push(Role::User, vec![block]);
            }
            Some("function") => {
                return Err(untranslatable(
                    "Legacy `function` messages cannot be translated for this deployment's API; use `tool` messages.",
                ));
            }
            _ => {
                return Err(invalid_messages(
                    "Each message needs a `role`: system, developer, user, assistant or tool.",
                ));
            }
        }
    }
    Ok(conversation)
}

/// Text-only content (system, developer and tool messages): a string or text parts.
fn read_texts(content: Option<&Value>) -> Result<Vec<String>, GatewayError> {
    let mut texts = Vec::new();
    for block in read_content(content, false)? {
        match block {
            Block::Text(text) => texts.push(text),
            _ => {
                return Err(untranslatable(
                    "System, developer and tool messages can carry only text for this deployment's API.",
                ));
            }
        }
    }
    Ok(texts)
}

/// Message content: a string, or an array of parts. Empty texts are left out (the
/// targets refuse empty text blocks and they carry nothing).
fn read_content(content: Option<&Value>, images: bool) -> Result<Vec<Block>, GatewayError> {
    let text = |text: &str| (!text.is_empty()).then(|| Block::Text(text.to_owned()));
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(text(s).into_iter().collect()),
        Some(Value::Array(parts)) => {
            let mut blocks = Vec::new();
            for part in parts {
                let block = match part {
                    Value::String(s) => text(s),
                    Value::Object(part) => match part.get("type").and_then(Value::as_str) {
                        Some("text") => match part.get("text") {
                            Some(Value::String(s)) => text(s),
                            _ => {
                                return Err(invalid_messages(
                                    "A `text` content part must carry a string `text`.",
                                ));
                            }
                        },
                        Some("refusal") => {
                            part.get("refusal").and_then(Value::as_str).and_then(text)
                        }
                        Some("image_url") if images => Some(read_image(part)?),
                        _ => {
                            return Err(untranslatable(
                                "This message holds a content part this deployment's API cannot carry (only text, and images given as base64 data URLs in user messages, are translated).",
                            ));
                        }
                    },
                    _ => return Err(invalid_messages("Content parts must be JSON objects.")),
                };
                blocks.extend(block);
            }
            Ok(blocks)
        }
        Some(_) => Err(invalid_messages(
            "Message `content` must be a string or an array of parts.",
        )),
    }
}

/// An `image_url` part given as a base64 data URL; anything else is refused, since a
/// link would be fetched by the provider from wherever it points.
fn read_image(part: &Map<String, Value>) -> Result<Block, GatewayError> {
    let url = match part.get("image_url") {
        Some(Value::String(url)) => Some(url.as_str()),
        Some(Value::Object(image)) => image.get("url").and_then(Value::as_str),
        _ => None,
    };
    let refused = || {
        untranslatable(
            "Images must be given as base64 data URLs (`data:image/...;base64,...`) to be translated for this deployment's API; image links are refused.",
        )
    };
    let rest = url
        .and_then(|url| url.strip_prefix("data:"))
        .ok_or_else(refused)?;
    let (header, data) = rest.split_once(',').ok_or_else(refused)?;
    let mut params = header.split(';');
    let media_type = params
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let base64 = params.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    if !media_type.starts_with("image/") || !base64 || data.is_empty() {
        return Err(refused());
    }
    let media_type = if media_type == "image/jpg" {
        "image/jpeg".to_owned()
    } else {
        media_type
    };
    Ok(Block::Image {
        media_type,
        data: data.to_owned(),
    })
}

fn read_tool_call(call: &Value) -> Result<Block, GatewayError> {
    if !matches!(
        call.get("type").and_then(Value::as_str),
        None | Some("function")
    ) {
        return Err(untranslatable(
            "Only `function` tool calls can be translated for this deployment's API.",
        ));
    }
    let id = match call.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(invalid_messages("Each tool call must carry an `id`.")),
    };
    let name = match call.pointer("/function/name") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => {
            return Err(invalid_messages(
                "Each tool call must name its `function.name`.",
            ));
        }
    };
    let input = match call.pointer("/function/arguments") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(arguments)) => parse_arguments(arguments)?,
        Some(object @ Value::Object(_)) => object.clone(),
        Some(_) => return Err(arguments_refused()),
    };
    Ok(Block::ToolCall { id, name, input })
}

fn arguments_refused() -> GatewayError {
    untranslatable(
        "Tool-call `arguments` must be a JSON object to be translated for this deployment's API.",
    )
}

/// Tool-call arguments: JSON text of an object (empty text is no arguments).
fn parse_arguments(arguments: &str) -> Result<Value, GatewayError> {
    if arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => Ok(object),
        _ => Err(arguments_refused()),
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
struct Tool {
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
}

fn read_tools(body: &Map<String, Value>) -> Result<Vec<Tool>, GatewayError> {
    let tools = match body.get("tools") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(_) => {
            return Err(GatewayError::bad_request(
                "invalid_tools",
                "`tools` must be an array.",
            ));
        }
    };
    tools
        .iter()
        .map(|tool| {
            if tool.get("type").and_then(Value::as_str) != Some("function") {
                return Err(untranslatable(
                    "Only `function` tools can be translated for this deployment's API.",
                ));
            }
            let name = match tool.pointer("/function/name") {
                Some(Value::String(name)) if !name.is_empty() => name.clone(),
                _ => {
                    return Err(GatewayError::bad_request(
                        "invalid_tools",
                        "Each function tool must have a `function.name`.",
                    ));
                }
            };
            Ok(Tool {
                name,
                description: tool
                    .pointer("/function/description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                parameters: tool
                    .pointer("/function/parameters")
                    .filter(|p| p.is_object())
                    .cloned(),
            })
        })
        .collect()
}

/// `tool_choice`, where it maps simply.
#[derive(Debug, Clone, PartialEq)]
enum ToolChoice {
    Auto,
    None,
    Required,
    Function(String),
}

/// `tool_choice`; forms with no simple equivalent (`allowed_tools`, custom tools) are
/// left out, which leaves the choice to the model.
fn read_tool_choice(body: &Map<String, Value>) -> Option<ToolChoice> {
    match body.get("tool_choice")? {
        Value::String(choice) => match choice.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Required),
            _ => None,
        },
        choice @ Value::Object(_)
            if choice.get("type").and_then(Value::as_str) == Some("function") =>
        {
            choice
                .pointer("/function/name")
                .and_then(Value::as_str)
                .map(|name| ToolChoice::Function(name.to_owned()))
        }
        _ => None,
    }
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq)]
enum ResponseFormat {
    Text,
    JsonObject,
    /// The schema, when one was given.
    JsonSchema(Option<Value>),
}

/// Generation settings, read once.
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    max_tokens: Option<u64>,
    temperature: Option<Value>,
    top_p: Option<Value>,
    presence_penalty: Option<Value>,
    frequency_penalty: Option<Value>,
    seed: Option<Value>,
    stop: Vec<String>,
    stream: bool,
    parallel_tool_calls: Option<bool>,
    response_format: ResponseFormat,
}

fn read_settings(body: &Map<String, Value>) -> Result<Settings, GatewayError> {
    let number = |key: &str| -> Result<Option<Value>, GatewayError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value @ Value::Number(_)) => Ok(Some(value.clone())),
            Some(_) => Err(GatewayError::bad_request(
                "invalid_parameter",
                format!("`{key}` must be a number."),
            )),
        }
    };
    let max_tokens = match number("max_completion_tokens")?.or(number("max_tokens")?) {
        None => None,
        Some(value) => Some(value.as_u64().ok_or_else(|| {
            GatewayError::bad_request(
                "invalid_parameter",
                "`max_tokens` and `max_completion_tokens` must be whole numbers.",
            )
        })?),
    };
    let stop = match body.get("stop") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(stop)) => vec![stop.clone()],
        Some(Value::Array(stops)) => stops
            .iter()
            .map(|s| {
                s.as_str().map(str::to_owned).ok_or_else(|| {
                    GatewayError::bad_request(
                        "invalid_parameter",
                        "`stop` must be a string or an array of strings.",
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => {
            return Err(GatewayError::bad_request(
                "invalid_parameter",
                "`stop` must be a string or an array of strings.",
            ));
        }
    };
    let response_format = match body
        .get("response_format")
        .and_then(|f| f.get("type"))
        .and_then(Value::as_str)
    {
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => ResponseFormat::JsonSchema(
            body.get("response_format")
                .and_then(|f| f.pointer("/json_schema/schema"))
                .filter(|s| s.is_object())
                .cloned(),
        ),
        _ => ResponseFormat::Text,
    };
    Ok(Settings {
        max_tokens,
        temperature: number("temperature")?,
        top_p: number("top_p")?,
        presence_penalty: number("presence_penalty")?,
        frequency_penalty: number("frequency_penalty")?,
        seed: number("seed")?,
        stop: stop.into_iter().filter(|s| !s.is_empty()).collect(),
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        parallel_tool_calls: body.get("parallel_tool_calls").and_then(Value::as_bool),
        response_format,
    })
}

/// Anthropic and Bedrock have no JSON-schema response format; a JSON object is
/// already asked for in the prompt (OpenAI requires it), so only a schema is refused.
fn refuse_json_schema(settings: &Settings) -> Result<(), GatewayError> {
    if matches!(settings.response_format, ResponseFormat::JsonSchema(_)) {
        return Err(untranslatable(
            "A `json_schema` response format has no equivalent in this deployment's API.",
        ));
    }
    Ok(())
}

fn check_common_image_type(media_type: &str) -> Result<(), GatewayError> {
    if COMMON_IMAGE_TYPES.contains(&media_type) {
        Ok(())
    } else {
        Err(untranslatable(
            "Only JPEG, PNG, GIF and WebP images can be translated for this deployment's API.",
        ))
    }
}

fn tool_result_text(texts: &[String]) -> String {
    texts.join("\n")
}

/// Anthropic Messages.
fn anthropic_request(
    conversation: &Conversation,
    tools: &[Tool],
    tool_choice: Option<ToolChoice>,
    settings: &Settings,
    model: &str,
) -> Result<Value, GatewayError> {
    refuse_json_schema(settings)?;
    // OpenAI's temperature runs to 2, Anthropic's to 1: clamping would change the
    // request's meaning silently, and passing it on earns a provider error.
    if settings
        .temperature
        .as_ref()
        .and_then(Value::as_f64)
        .is_some_and(|t| t > 1.0)
    {
        return Err(untranslatable(
            "A temperature above 1 has no equivalent in this deployment's API, whose range is 0 to 1.",
        ));
    }
    let mut messages = Vec::with_capacity(conversation.turns.len());
    for turn in &conversation.turns {
        let mut content = Vec::with_capacity(turn.blocks.len());
        for block in &turn.blocks {
            content.push(match block {
                Block::Text(text) => json!({"type": "text", "text": text}),
                Block::Image { media_type, data } => {
                    check_common_image_type(media_type)?;
                    json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
                }
                Block::ToolCall { id, name, input } => {
                    json!({"type": "tool_use", "id": id, "name": name, "input": input})
                }
                Block::ToolResult { id, texts, .. } => {
                    json!({"type": "tool_result", "tool_use_id": id, "content": tool_result_text(texts)})
                }
            });
        }
        let role = match turn.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": content}));
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(model));
    out.insert(
        "max_tokens".into(),
        json!(settings.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS)),
    );
    if !conversation.system.is_empty() {
        let system: Vec<Value> = conversation
            .system
            .iter()
            .map(|text| json!({"type": "text", "text": text}))
            .collect();
        out.insert("system".into(), Value::Array(system));
    }
    out.insert("messages".into(), Value::Array(messages));
    if !tools.is_empty() {
        let tools: Vec<Value> = tools
            .iter()
            .map(|tool| {
                let mut spec = Map::new();
                spec.insert("name".into(), json!(tool.name));
                if let Some(description) = &tool.description {
                    spec.insert("description".into(), json!(description));
                }
                spec.insert(
                    "input_schema".into(),
                    object_schema(tool.parameters.as_ref()),
                );
                Value::Object(spec)
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
        let mut choice = match tool_choice {
            Some(ToolChoice::Auto) => Some(json!({"type": "auto"})),
            Some(ToolChoice::None) => Some(json!({"type": "none"})),
            Some(ToolChoice::Required) => Some(json!({"type": "any"})),
            Some(ToolChoice::Function(name)) => Some(json!({"type": "tool", "name": name})),
            None => None,
        };
        if settings.parallel_tool_calls == Some(false) {
            let choice = choice.get_or_insert_with(|| json!({"type": "auto"}));
            if choice["type"] != "none" {
                choice["disable_parallel_tool_use"] = json!(true);
            }
        }
        if let Some(choice) = choice {
            out.insert("tool_choice".into(), choice);
        }
    }
    if let Some(temperature) = &settings.temperature {
        out.insert("temperature".into(), temperature.clone());
    }
    if let Some(top_p) = &settings.top_p {
        out.insert("top_p".into(), top_p.clone());
    }
    if !settings.stop.is_empty() {
        out.insert("stop_sequences".into(), json!(settings.stop));
    }
    if settings.stream {
        out.insert("stream".into(), json!(true));
    }
    Ok(Value::Object(out))
}

/// A tool's input schema where one is required (Anthropic, Bedrock): the given one, or
/// an object without properties.
fn object_schema(parameters: Option<&Value>) -> Value {
    parameters
        .cloned()
        .unwrap_or_else(|| json!({"type": "object", "properties": {}}))
}

/// Bedrock `Converse`.
fn bedrock_request(
    conversation: &Conversation,
    tools: &[Tool],
    tool_choice: Option<ToolChoice>,
    settings: &Settings,
) -> Result<Value, GatewayError> {
    refuse_json_schema(settings)?;
    let mut messages = Vec::with_capacity(conversation.turns.len());
    for turn in &conversation.turns {
        let mut content = Vec::with_capacity(turn.blocks.len());
        for block in &turn.blocks {
            content.push(match block {
                Block::Text(text) => json!({"text": text}),
                Block::Image { media_type, data } => {
                    check_common_image_type(media_type)?;
                    let format = media_type.trim_start_matches("image/");
                    json!({"image": {"format": format, "source": {"bytes": data}}})
                }
                Block::ToolCall { id, name, input } => {
                    json!({"toolUse": {"toolUseId": id, "name": name, "input": input}})
                }
                Block::ToolResult { id, texts, .. } => {
                    json!({"toolResult": {"toolUseId": id, "content": [{"text": tool_result_text(texts)}]}})
                }
            });
        }
        let role = match turn.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": content}));
    }
    let mut out = Map::new();
    if !conversation.system.is_empty() {
        let system: Vec<Value> = conversation
            .system
            .iter()
            .map(|text| json!({"text": text}))
            .collect();
        out.insert("system".into(), Value::Array(system));
    }
    out.insert("messages".into(), Value::Array(messages));
    let mut inference = Map::new();
    if let Some(max_tokens) = settings.max_tokens {
        inference.insert("maxTokens".into(), json!(max_tokens));
    }
    if let Some(temperature) = &settings.temperature {
        inference.insert("temperature".into(), temperature.clone());
    }
    if let Some(top_p) = &settings.top_p {
        inference.insert("topP".into(), top_p.clone());
    }
    if !settings.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(settings.stop));
    }
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !tools.is_empty() {
        let specs: Vec<Value> = tools
            .iter()
            .map(|tool| {
                let mut spec = Map::new();
                spec.insert("name".into(), json!(tool.name));
                if let Some(description) = &tool.description {
                    spec.insert("description".into(), json!(description));
                }
                spec.insert(
                    "inputSchema".into(),
                    json!({"json": object_schema(tool.parameters.as_ref())}),
                );
                json!({"toolSpec": spec})
            })
            .collect();
        let mut config = Map::new();
        config.insert("tools".into(), Value::Array(specs));
        // Converse has no "none": the choice is left to the model.
        let choice = match tool_choice {
            Some(ToolChoice::Auto) => Some(json!({"auto": {}})),
            Some(ToolChoice::Required) => Some(json!({"any": {}})),
            Some(ToolChoice::Function(name)) => Some(json!({"tool": {"name": name}})),
            Some(ToolChoice::None) | None => None,
        };
        if let Some(choice) = choice {
            config.insert("toolChoice".into(), choice);
        }
        out.insert("toolConfig".into(), Value::Object(config));
    }
    Ok(Value::Object(out))
}

/// Gemini `generateContent`.
fn gemini_request(
    conversation: &Conversation,
    tools: &[Tool],
    tool_choice: Option<ToolChoice>,
    settings: &Settings,
) -> Result<Value, GatewayError> {
    let mut contents = Vec::with_capacity(conversation.turns.len());
    for turn in &conversation.turns {
        let mut parts = Vec::with_capacity(turn.blocks.len());
        let mut signed = false;
        for block in &turn.blocks {
            parts.push(match block {
                Block::Text(text) => json!({"text": text}),
                Block::Image { media_type, data } => {
                    json!({"inlineData": {"mimeType": media_type, "data": data}})
                }
                Block::ToolCall { name, input, .. } => {
                    let mut part = json!({"functionCall": {"name": name, "args": input}});
                    if !signed {
                        part["thoughtSignature"] = json!(GEMINI_PLACEHOLDER_THOUGHT_SIGNATURE);
                        signed = true;
                    }
                    part
                }
                Block::ToolResult { name, texts, .. } => {
                    let Some(name) = name else {
                        return Err(untranslatable(
                            "A `tool` message answers a `tool_call_id` that no earlier assistant message made; Gemini needs the function's name.",
                        ));
                    };
                    json!({"functionResponse": {"name": name, "response": {"content": tool_result_text(texts)}}})
                }
            });
        }
        let role = match turn.role {
            Role::User => "user",
            Role::Assistant => "model",
        };
        contents.push(json!({"role": role, "parts": parts}));
    }
    let mut out = Map::new();
    if !conversation.system.is_empty() {
        let parts: Vec<Value> = conversation
            .system
            .iter()
            .map(|text| json!({"text": text}))
            .collect();
        out.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    out.insert("contents".into(), Value::Array(contents));
    if !tools.is_empty() {
        let declarations: Vec<Value> = tools
            .iter()
            .map(|tool| {
                let mut declaration = Map::new();
                declaration.insert("name".into(), json!(tool.name));
                if let Some(description) = &tool.description {
                    declaration.insert("description".into(), json!(description));
                }
                if let Some(parameters) = &tool.parameters
                    && !is_empty_object_schema(parameters)
                {
                    let key = if fits_gemini_schema(parameters) {
                        "parameters"
                    } else {
                        "parametersJsonSchema"
                    };
                    declaration.insert(key.into(), parameters.clone());
                }
                Value::Object(declaration)
            })
            .collect();
        out.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
        let config = match tool_choice {
            Some(ToolChoice::Auto) => Some(json!({"mode": "AUTO"})),
            Some(ToolChoice::None) => Some(json!({"mode": "NONE"})),
            Some(ToolChoice::Required) => Some(json!({"mode": "ANY"})),
            Some(ToolChoice::Function(name)) => {
                Some(json!({"mode": "ANY", "allowedFunctionNames": [name]}))
            }
            None => None,
        };
        if let Some(config) = config {
            out.insert(
                "toolConfig".into(),
                json!({"functionCallingConfig": config}),
            );
        }
    }
    let mut generation = Map::new();
    if let Some(max_tokens) = settings.max_tokens {
        generation.insert("maxOutputTokens".into(), json!(max_tokens));
    }
    let numbers = [
        ("temperature", &settings.temperature),
        ("topP", &settings.top_p),
        ("presencePenalty", &settings.presence_penalty),
        ("frequencyPenalty", &settings.frequency_penalty),
        ("seed", &settings.seed),
    ];
    for (key, value) in numbers {
        if let Some(value) = value {
            generation.insert(key.into(), value.clone());
        }
    }
    if !settings.stop.is_empty() {
        generation.insert("stopSequences".into(), json!(settings.stop));
    }
    match &settings.response_format {
        ResponseFormat::Text => {}
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema(None) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
        }
        ResponseFormat::JsonSchema(Some(schema)) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
            let key = if fits_gemini_schema(schema) {
                "responseSchema"
            } else {
                "responseJsonSchema"
            };
            generation.insert(key.into(), schema.clone());
        }
    }
    if !generation.is_empty() {
        out.insert("generationConfig".into(), Value::Object(generation));
    }
    Ok(Value::Object(out))
}

/// An object schema without properties: a function without parameters, which Gemini
/// wants declared without `parameters` (it refuses an object with no properties).
fn is_empty_object_schema(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    let no_properties = object
        .get("properties")
        .is_none_or(|p| p.as_object().is_some_and(Map::is_empty));
    no_properties
        && object.keys().all(|key| {
            matches!(
                key.as_str(),
                "type" | "properties" | "required" | "additionalProperties" | "$schema"
            )
        })
}

/// Whether a JSON Schema uses only what Gemini's OpenAPI subset reads (with a single
/// `type`, and no object without properties).
fn fits_gemini_schema(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    if object.get("type").and_then(Value::as_str) == Some("object")
        && object
            .get("properties")
            .is_none_or(|p| p.as_object().is_none_or(Map::is_empty))
    {
        return false;
    }
    object.iter().all(|(key, value)| match key.as_str() {
        "type" => value.is_string(),
        "properties" => value
            .as_object()
            .is_some_and(|properties| properties.values().all(fits_gemini_schema)),
        "items" => fits_gemini_schema(value),
        "anyOf" => value
            .as_array()
            .is_some_and(|schemas| schemas.iter().all(fits_gemini_schema)),
        other => GEMINI_SCHEMA_KEYWORDS.contains(&other),
    })
}

// ---------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------

/// Token counts, as OpenAI reports them: the prompt includes cached tokens, the
/// completion includes reasoning tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    prompt: u64,
    completion: u64,
    cached: u64,
    reasoning: u64,
}

impl Usage {
    fn to_openai(self) -> Value {
        let mut usage = json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion,
        });
        if self.cached > 0 {
            usage["prompt_tokens_details"] = json!({"cached_tokens": self.cached});
        }
        if self.reasoning > 0 {
            usage["completion_tokens_details"] = json!({"reasoning_tokens": self.reasoning});
        }
        usage
    }
}

fn count(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Anthropic's `usage` (cache reads and writes are counted apart from `input_tokens`).
fn anthropic_usage(usage: &Value) -> Option<Usage> {
    usage.as_object()?;
    let cached = count(usage, "cache_read_input_tokens");
    Some(Usage {
        prompt: count(usage, "input_tokens") + count(usage, "cache_creation_input_tokens") + cached,
        completion: count(usage, "output_tokens"),
        cached,
        reasoning: 0,
    })
}

/// Bedrock's `usage` (cache reads and writes are counted apart from `inputTokens`).
fn bedrock_usage(usage: &Value) -> Option<Usage> {
    usage.as_object()?;
    let cached = count(usage, "cacheReadInputTokens");
    Some(Usage {
        prompt: count(usage, "inputTokens") + count(usage, "cacheWriteInputTokens") + cached,
        completion: count(usage, "outputTokens"),
        cached,
        reasoning: 0,
    })
}

/// Gemini's `usageMetadata` (the prompt count includes cached content; thinking is
/// counted apart from the candidates).
fn gemini_usage(usage: &Value) -> Option<Usage> {
    usage.as_object()?;
    let reasoning = count(usage, "thoughtsTokenCount");
    Some(Usage {
        prompt: count(usage, "promptTokenCount"),
        completion: count(usage, "candidatesTokenCount") + reasoning,
        cached: count(usage, "cachedContentTokenCount"),
        reasoning,
    })
}

fn anthropic_finish(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence, pause_turn
        _ => "stop",
    }
}

fn bedrock_finish(reason: Option<&str>) -> &'static str {
    match reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("guardrail_intervened" | "content_filtered") => "content_filter",
        // end_turn, stop_sequence
        _ => "stop",
    }
}

fn gemini_finish(reason: Option<&str>, called: bool) -> &'static str {
    match reason {
        Some("MAX_TOKENS") => "length",
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION",
        ) => "content_filter",
        _ if called => "tool_calls",
        // STOP, FINISH_REASON_UNSPECIFIED, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL
        _ => "stop",
    }
}

/// Gemini reports why a prompt was blocked (no candidates) in `promptFeedback`.
fn gemini_prompt_blocked(response: &Value) -> bool {
    response.pointer("/promptFeedback/blockReason").is_some()
        && response
            .get("candidates")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
}

/// An OpenAI tool call.
fn tool_call(id: &str, name: &str, arguments: String) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// Gemini's function calls have ids only on some surfaces; the others get `call_<n>`.
fn gemini_call_id(call: &Value, n: usize) -> String {
    match call.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("call_{n}"),
    }
}

/// The target's non-streamed response → an OpenAI `chat.completion` object.
pub fn chat_response(
    target: Target,
    response: &Value,
    id: &str,
    model: &str,
    created: u64,
) -> Value {
    let mut text = String::new();
    let mut calls = Vec::new();
    let (finish, usage) = match target {
        Target::Anthropic => {
            let blocks = response.get("content").and_then(Value::as_array);
            for block in blocks.into_iter().flatten() {
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => text.push_str(
                        block
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    ),
                    Some("tool_use") => calls.push(tool_call(
                        block.get("id").and_then(Value::as_str).unwrap_or_default(),
                        block
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                        block
                            .get("input")
                            .map_or_else(|| "{}".to_owned(), Value::to_string),
                    )),
                    _ => {}
                }
            }
            (
                anthropic_finish(response.get("stop_reason").and_then(Value::as_str)),
                response.get("usage").and_then(anthropic_usage),
            )
        }
        Target::BedrockConverse => {
            let blocks = response
                .pointer("/output/message/content")
                .and_then(Value::as_array);
            for block in blocks.into_iter().flatten() {
                if let Some(piece) = block.get("text").and_then(Value::as_str) {
                    text.push_str(piece);
                }
                if let Some(tool) = block.get("toolUse") {
                    calls.push(tool_call(
                        tool.get("toolUseId")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                        tool.get("name").and_then(Value::as_str).unwrap_or_default(),
                        tool.get("input")
                            .map_or_else(|| "{}".to_owned(), Value::to_string),
                    ));
                }
            }
            (
                bedrock_finish(response.get("stopReason").and_then(Value::as_str)),
                response.get("usage").and_then(bedrock_usage),
            )
        }
        Target::Gemini => {
            let candidate = response.pointer("/candidates/0");
            let parts = candidate
                .and_then(|c| c.pointer("/content/parts"))
                .and_then(Value::as_array);
            for part in parts.into_iter().flatten() {
                if part.get("thought").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                if let Some(piece) = part.get("text").and_then(Value::as_str) {
                    text.push_str(piece);
                }
                if let Some(call) = part.get("functionCall") {
                    calls.push(tool_call(
                        &gemini_call_id(call, calls.len()),
                        call.get("name").and_then(Value::as_str).unwrap_or_default(),
                        call.get("args")
                            .map_or_else(|| "{}".to_owned(), Value::to_string),
                    ));
                }
            }
            let finish = if gemini_prompt_blocked(response) {
                "content_filter"
            } else {
                gemini_finish(
                    candidate
                        .and_then(|c| c.get("finishReason"))
                        .and_then(Value::as_str),
                    !calls.is_empty(),
                )
            };
            (finish, response.get("usageMetadata").and_then(gemini_usage))
        }
    };
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::String(text) },
        "refusal": null,
    });
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let mut completion = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
    });
    if let Some(usage) = usage {
        completion["usage"] = usage.to_openai();
    }
    completion
}

/// The target's error body → a short message for an OpenAI-shaped error (never more
/// than 500 characters; `None` if the body has no message). Gemini's stream errors
/// come wrapped in an array; the first element is read.
pub fn error_message(target: Target, body: &Value) -> Option<String> {
    let body = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let places: &[&str] = match target {
        Target::Anthropic | Target::Gemini => &["/error/message", "/message", "/error"],
        Target::BedrockConverse => &["/message", "/Message", "/error/message", "/error"],
    };
    let message = places
        .iter()
        .filter_map(|place| body.pointer(place).and_then(Value::as_str))
        .map(str::trim)
        .find(|message| !message.is_empty())?;
    if message.chars().count() <= MAX_ERROR_MESSAGE_CHARS {
        return Some(message.to_owned());
    }
    let mut short: String = message.chars().take(MAX_ERROR_MESSAGE_CHARS - 1).collect();
    short.push('…');
    Some(short)
}

// ---------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------

/// A tool call being streamed, by the upstream's content-block index.
#[derive(Debug, Clone, Copy)]
struct OpenToolCall {
    /// Its index in OpenAI's `tool_calls`.
    index: usize,
    /// Whether any piece of its arguments was sent.
    arguments_sent: bool,
}

/// Streaming: the target's stream events in, OpenAI `chat.completion.chunk` objects out.
///
/// The first chunk carries the assistant role; text and tool-call pieces follow as they
/// arrive; the stop reason becomes a chunk with `finish_reason`; and, when the caller
/// asked for `stream_options.include_usage`, [`ChatStream::finish`] adds the usage chunk
/// (`choices: []`). An upstream error event becomes OpenAI's mid-stream
/// `{"error": {...}}` and ends the translation.
#[derive(Debug, Clone)]
pub struct ChatStream {
    target: Target,
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    /// The role chunk was sent.
    started: bool,
    /// The chunk with `finish_reason` was sent.
    finish_sent: bool,
    /// Nothing more is sent (after an error, or once finished).
    closed: bool,
    usage: Option<Usage>,
    open_calls: HashMap<u64, OpenToolCall>,
    calls: usize,
}

impl ChatStream {
    /// A translation for one response: `id`, `model` and `created` are stamped on every
    /// chunk; `include_usage` is the caller's `stream_options.include_usage`.
    pub fn new(
        target: Target,
        id: &str,
        model: &str,
        created: u64,
        include_usage: bool,
    ) -> ChatStream {
        ChatStream {
            target,
            id: id.to_owned(),
            model: model.to_owned(),
            created,
            include_usage,
            started: false,
            finish_sent: false,
            closed: false,
            usage: None,
            open_calls: HashMap::new(),
            calls: 0,
        }
    }

    /// One event of the target's stream: `name` is the SSE event name or the
    /// event-stream `:event-type` (Anthropic: `message_start`, `content_block_start`,
    /// `content_block_delta`, `content_block_stop`, `message_delta`, `message_stop`,
    /// `ping`, `error`; Bedrock: `messageStart`, `contentBlockStart`,
    /// `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`, or an
    /// exception's name; Gemini: `None`, each data is a `GenerateContentResponse`).
    /// Without a name, Anthropic's is read from `type` and Bedrock's from the payload's
    /// shape. Returns zero or more chunks to send.
    pub fn event(&mut self, name: Option<&str>, data: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        match self.target {
            Target::Anthropic => self.anthropic_event(name, data, &mut out),
            Target::BedrockConverse => self.bedrock_event(name, data, &mut out),
            Target::Gemini => self.gemini_event(data, &mut out),
        }
        out
    }

    /// At the end of the upstream stream: any final chunk still owed (the usage chunk
    /// when `stream_options.include_usage` was asked and the upstream reported usage).
    pub fn finish(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        if self.closed {
            return out;
        }
        self.closed = true;
        if self.include_usage
            && let Some(usage) = self.usage
        {
            out.push(json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": usage.to_openai(),
            }));
        }
        out
    }

    /// Usage seen so far: (input tokens, output tokens), counted as OpenAI counts
    /// them (input includes cached tokens, output includes reasoning tokens).
    pub fn usage(&self) -> Option<(u64, u64)> {
        self.usage.map(|usage| (usage.prompt, usage.completion))
    }

    fn anthropic_event(&mut self, name: Option<&str>, data: &Value, out: &mut Vec<Value>) {
        let name = name.or_else(|| data.get("type").and_then(Value::as_str));
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        match name {
            Some("message_start") => {
                if let Some(usage) = data.pointer("/message/usage").and_then(anthropic_usage) {
                    self.usage = Some(usage);
                }
                self.start(out);
            }
            Some("content_block_start") => {
                let Some(block) = data.get("content_block") else {
                    return;
                };
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        self.text(
                            block
                                .get("text")
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                            out,
                        );
                    }
                    Some("tool_use") => {
                        let id = block.get("id").and_then(Value::as_str).unwrap_or_default();
                        let name = block
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        self.open_call(index, id, name, out);
                        // The input is normally streamed; a start that already carries
                        // one sends it whole.
                        if let Some(input) = block.get("input").and_then(Value::as_object)
                            && !input.is_empty()
                        {
                            self.arguments(index, &Value::Object(input.clone()).to_string(), out);
                        }
                    }
                    _ => {}
                }
            }
            Some("content_block_delta") => {
                let Some(delta) = data.get("delta") else {
                    return;
                };
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        self.text(
                            delta
                                .get("text")
                                .and_then(Value::as_str)
                                .unwrap_or_default(),
                            out,
                        );
                    }
                    Some("input_json_delta") => {
                        let piece = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        self.arguments(index, piece, out);
                    }
                    // thinking, signatures and citations have no place in a chat chunk
                    _ => {}
                }
            }
            Some("content_block_stop") => self.close_call(index, out),
            Some("message_delta") => {
                if let Some(usage) = data.get("usage") {
                    self.update_anthropic_usage(usage);
                }
                if let Some(reason) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.finish_reason(anthropic_finish(Some(reason)), out);
                }
            }
            Some("error") => self.error(data, out),
            // message_stop, ping, and events added later
            _ => {}
        }
    }

    /// `message_delta` carries the cumulative output count, and on newer API versions
    /// the input counts again.
    fn update_anthropic_usage(&mut self, usage: &Value) {
        let mut current = self.usage.unwrap_or_default();
        if usage.get("input_tokens").is_some()
            && let Some(input) = anthropic_usage(usage)
        {
            current.prompt = input.prompt;
            current.cached = input.cached;
        }
        if let Some(output) = usage.get("output_tokens").and_then(Value::as_u64) {
            current.completion = output;
        }
        self.usage = Some(current);
    }

    fn bedrock_event(&mut self, name: Option<&str>, data: &Value, out: &mut Vec<Value>) {
        let name = name.unwrap_or_else(|| bedrock_event_name(data));
        let index = data
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match name {
            "messageStart" => self.start(out),
            "contentBlockStart" => {
                if let Some(tool) = data.pointer("/start/toolUse") {
                    let id = tool
                        .get("toolUseId")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
                    self.open_call(index, id, name, out);
                }
            }
            "contentBlockDelta" => {
                let Some(delta) = data.get("delta") else {
                    return;
                };
                if let Some(text) = delta.get("text").and_then(Value::as_str) {
                    self.text(text, out);
                }
                if let Some(piece) = delta.pointer("/toolUse/input").and_then(Value::as_str) {
                    self.arguments(index, piece, out);
                }
            }
            "contentBlockStop" => self.close_call(index, out),
            "messageStop" => {
                let reason = data.get("stopReason").and_then(Value::as_str);
                self.finish_reason(bedrock_finish(reason), out);
            }
            "metadata" => {
                if let Some(usage) = data.get("usage").and_then(bedrock_usage) {
                    self.usage = Some(usage);
                }
            }
            exception if exception.ends_with("Exception") => self.error(data, out),
            _ => {}
        }
    }

    fn gemini_event(&mut self, data: &Value, out: &mut Vec<Value>) {
        if data.get("error").is_some() {
            self.error(data, out);
            return;
        }
        self.start(out);
        if let Some(usage) = data.get("usageMetadata").and_then(gemini_usage) {
            self.usage = Some(usage);
        }
        let candidate = data.pointer("/candidates/0");
        let parts = candidate
            .and_then(|c| c.pointer("/content/parts"))
            .and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if part.get("thought").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(text) = part.get("text").and_then(Value::as_str) {
                self.text(text, out);
            }
            if let Some(call) = part.get("functionCall") {
                // Gemini sends each call whole: one delta with all its arguments.
                let index = self.calls;
                self.calls += 1;
                let arguments = call
                    .get("args")
                    .map_or_else(|| "{}".to_owned(), Value::to_string);
                let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
                let delta = json!({"tool_calls": [{
                    "index": index,
                    "id": gemini_call_id(call, index),
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }]});
                out.push(self.chunk(delta, None));
            }
        }
        if gemini_prompt_blocked(data) {
            self.finish_reason("content_filter", out);
        } else if let Some(reason) = candidate
            .and_then(|c| c.get("finishReason"))
            .and_then(Value::as_str)
        {
            self.finish_reason(gemini_finish(Some(reason), self.calls > 0), out);
        }
    }

    /// A chunk with one choice.
    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        // OpenAI sends `usage: null` on every chunk but the last when usage was asked.
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    fn start(&mut self, out: &mut Vec<Value>) {
        if !self.started {
            self.started = true;
            out.push(self.chunk(json!({"role": "assistant", "content": ""}), None));
        }
    }

    fn text(&mut self, text: &str, out: &mut Vec<Value>) {
        if text.is_empty() {
            return;
        }
        self.start(out);
        out.push(self.chunk(json!({"content": text}), None));
    }

    /// A tool call begins at upstream block `block`.
    fn open_call(&mut self, block: u64, id: &str, name: &str, out: &mut Vec<Value>) {
        self.start(out);
        let index = self.calls;
        self.calls += 1;
        self.open_calls.insert(
            block,
            OpenToolCall {
                index,
                arguments_sent: false,
            },
        );
        let delta = json!({"tool_calls": [{
            "index": index,
            "id": id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }]});
        out.push(self.chunk(delta, None));
    }

    /// A piece of the arguments of the call at upstream block `block`.
    fn arguments(&mut self, block: u64, piece: &str, out: &mut Vec<Value>) {
        if piece.is_empty() {
            return;
        }
        let Some(call) = self.open_calls.get_mut(&block) else {
            return;
        };
        call.arguments_sent = true;
        let index = call.index;
        let delta = json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
        out.push(self.chunk(delta, None));
    }

    /// The block ends; a call whose arguments never came gets `{}`, so the caller
    /// always reads a JSON object.
    fn close_call(&mut self, block: u64, out: &mut Vec<Value>) {
        if let Some(call) = self.open_calls.remove(&block)
            && !call.arguments_sent
        {
            let delta =
                json!({"tool_calls": [{"index": call.index, "function": {"arguments": "{}"}}]});
            out.push(self.chunk(delta, None));
        }
    }

    fn finish_reason(&mut self, reason: &str, out: &mut Vec<Value>) {
        if self.finish_sent {
            return;
        }
        self.start(out);
        self.finish_sent = true;
        out.push(self.chunk(json!({}), Some(reason)));
    }

    /// OpenAI's mid-stream error object; nothing follows it.
    fn error(&mut self, data: &Value, out: &mut Vec<Value>) {
        self.closed = true;
        let message = error_message(self.target, data)
            .unwrap_or_else(|| "The upstream provider ended the stream with an error.".to_owned());
        out.push(json!({"error": {
            "message": message,
            "type": "upstream_error",
            "param": null,
            "code": "upstream_stream_error",
        }}));
    }
}

/// A Bedrock stream event's type from its payload, for callers that lost the header.
fn bedrock_event_name(data: &Value) -> &'static str {
    if data.get("role").is_some() {
        "messageStart"
    } else if data.get("start").is_some() {
        "contentBlockStart"
    } else if data.get("delta").is_some() {
        "contentBlockDelta"
    } else if data.get("stopReason").is_some() {
        "messageStop"
    } else if data.get("usage").is_some() || data.get("metrics").is_some() {
        "metadata"
    } else if data.get("contentBlockIndex").is_some() {
        "contentBlockStop"
    } else if data.get("message").is_some() {
        "unknownException"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversation every target is tested with: system, user, an assistant tool
    /// call, its result, and the tool's definition.
    fn openai_request() -> Value {
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C, cloudy"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "get_weather",
                "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
            }}],
            "tool_choice": "auto",
            "max_tokens": 256,
            "temperature": 0.2,
            "stop": "END",
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    }

    fn weather_schema() -> Value {
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    }

    fn refused(target: Target, body: Value) -> String {
        chat_request(target, &body, "m")
            .unwrap_err()
            .code()
            .to_owned()
    }

    const TARGETS: [Target; 3] = [Target::Anthropic, Target::BedrockConverse, Target::Gemini];

    // --- requests ---

    #[test]
    fn anthropic_request_carries_system_tools_calls_and_results() {
        let got = chat_request(Target::Anthropic, &openai_request(), "claude-sonnet-4-5").unwrap();
        assert_eq!(
            got,
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 256,
                "system": [{"type": "text", "text": "You are terse."}],
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "call_1", "content": "18C, cloudy"}
                    ]}
                ],
                "tools": [{"name": "get_weather", "description": "Current weather", "input_schema": weather_schema()}],
                "tool_choice": {"type": "auto"},
                "temperature": 0.2,
                "stop_sequences": ["END"],
                "stream": true
            })
        );
    }

    #[test]
    fn bedrock_request_carries_system_tools_calls_and_results() {
        let got = chat_request(Target::BedrockConverse, &openai_request(), "ignored").unwrap();
        assert_eq!(
            got,
            json!({
                "system": [{"text": "You are terse."}],
                "messages": [
                    {"role": "user", "content": [{"text": "Weather in Paris?"}]},
                    {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}
                    ]},
                    {"role": "user", "content": [
                        {"toolResult": {"toolUseId": "call_1", "content": [{"text": "18C, cloudy"}]}}
                    ]}
                ],
                "inferenceConfig": {"maxTokens": 256, "temperature": 0.2, "stopSequences": ["END"]},
                "toolConfig": {
                    "tools": [{"toolSpec": {
                        "name": "get_weather",
                        "description": "Current weather",
                        "inputSchema": {"json": weather_schema()}
                    }}],
                    "toolChoice": {"auto": {}}
                }
            })
        );
    }

    #[test]
    fn gemini_request_carries_system_tools_calls_and_results() {
        let got = chat_request(Target::Gemini, &openai_request(), "ignored").unwrap();
        assert_eq!(
            got,
            json!({
                "systemInstruction": {"parts": [{"text": "You are terse."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
                    {"role": "model", "parts": [{
                        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                        "thoughtSignature": GEMINI_PLACEHOLDER_THOUGHT_SIGNATURE
                    }]},
                    {"role": "user", "parts": [
                        {"functionResponse": {"name": "get_weather", "response": {"content": "18C, cloudy"}}}
                    ]}
                ],
                "tools": [{"functionDeclarations": [{
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": weather_schema()
                }]}],
                "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
                "generationConfig": {"maxOutputTokens": 256, "temperature": 0.2, "stopSequences": ["END"]}
            })
        );
    }

    #[test]
    fn parallel_results_and_same_role_messages_merge_into_one_turn() {
        let body = json!({"messages": [
            {"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"role": "user", "content": "first"},
            {"role": "user", "content": [{"type": "text", "text": "second"}]},
            {"role": "assistant", "content": "Checking both.", "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "t2", "type": "function", "function": {"name": "g", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "t1", "content": "one"},
            {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "two"}]},
            {"role": "user", "content": "thanks"}
        ]});
        let anthropic = chat_request(Target::Anthropic, &body, "m").unwrap();
        assert_eq!(
            anthropic["max_tokens"], 4096,
            "Anthropic requires max_tokens"
        );
        assert_eq!(
            anthropic["system"],
            json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])
        );
        assert_eq!(
            anthropic["messages"],
            json!([
                {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Checking both."},
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
                    {"type": "tool_use", "id": "t2", "name": "g", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "one"},
                    {"type": "tool_result", "tool_use_id": "t2", "content": "two"},
                    {"type": "text", "text": "thanks"}
                ]}
            ])
        );
        let bedrock = chat_request(Target::BedrockConverse, &body, "m").unwrap();
        let roles: Vec<&str> = bedrock["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["user", "assistant", "user"]);
        assert!(bedrock.get("inferenceConfig").is_none());
        let gemini = chat_request(Target::Gemini, &body, "m").unwrap();
        let parts = &gemini["contents"][1]["parts"];
        assert_eq!(
            parts[1]["thoughtSignature"],
            GEMINI_PLACEHOLDER_THOUGHT_SIGNATURE
        );
        assert!(
            parts[2].get("thoughtSignature").is_none(),
            "only the first call of a step"
        );
        assert_eq!(
            gemini["contents"][2]["parts"][1]["functionResponse"]["name"],
            "g"
        );
    }

    #[test]
    fn tool_choice_and_parallel_calls_map_where_they_can() {
        let mut body = openai_request();
        body["tool_choice"] = json!({"type": "function", "function": {"name": "get_weather"}});
        body["parallel_tool_calls"] = json!(false);
        let anthropic = chat_request(Target::Anthropic, &body, "m").unwrap();
        assert_eq!(
            anthropic["tool_choice"],
            json!({"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true})
        );
        let bedrock = chat_request(Target::BedrockConverse, &body, "m").unwrap();
        assert_eq!(
            bedrock["toolConfig"]["toolChoice"],
            json!({"tool": {"name": "get_weather"}})
        );
        let gemini = chat_request(Target::Gemini, &body, "m").unwrap();
        assert_eq!(
            gemini["toolConfig"]["functionCallingConfig"],
            json!({"mode": "ANY", "allowedFunctionNames": ["get_weather"]})
        );
        body["tool_choice"] = json!("required");
        assert_eq!(
            chat_request(Target::Anthropic, &body, "m").unwrap()["tool_choice"]["type"],
            "any"
        );
        assert_eq!(
            chat_request(Target::BedrockConverse, &body, "m").unwrap()["toolConfig"]["toolChoice"],
            json!({"any": {}})
        );
        body["tool_choice"] = json!("none");
        assert_eq!(
            chat_request(Target::Anthropic, &body, "m").unwrap()["tool_choice"],
            json!({"type": "none"})
        );
        assert!(
            chat_request(Target::BedrockConverse, &body, "m").unwrap()["toolConfig"]
                .get("toolChoice")
                .is_none()
        );
        assert_eq!(
            chat_request(Target::Gemini, &body, "m").unwrap()["toolConfig"]["functionCallingConfig"]
                ["mode"],
            "NONE"
        );
        body["tool_choice"] = json!({"type": "allowed_tools", "allowed_tools": {}});
        assert!(
            chat_request(Target::Gemini, &body, "m")
                .unwrap()
                .get("toolConfig")
                .is_none()
        );
    }

    #[test]
    fn max_completion_tokens_wins_and_bedrock_and_gemini_drop_stream() {
        let mut body = openai_request();
        body["max_completion_tokens"] = json!(99);
        assert_eq!(
            chat_request(Target::Anthropic, &body, "m").unwrap()["max_tokens"],
            99
        );
        let bedrock = chat_request(Target::BedrockConverse, &body, "m").unwrap();
        assert_eq!(bedrock["inferenceConfig"]["maxTokens"], 99);
        assert!(bedrock.get("stream").is_none());
        let gemini = chat_request(Target::Gemini, &body, "m").unwrap();
        assert_eq!(gemini["generationConfig"]["maxOutputTokens"], 99);
        assert!(gemini.get("stream").is_none());
    }

    #[test]
    fn data_url_images_become_each_formats_inline_image() {
        let body = json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K", "detail": "low"}}
        ]}]});
        let anthropic = chat_request(Target::Anthropic, &body, "m").unwrap();
        assert_eq!(
            anthropic["messages"][0]["content"][1],
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}})
        );
        let bedrock = chat_request(Target::BedrockConverse, &body, "m").unwrap();
        assert_eq!(
            bedrock["messages"][0]["content"][1],
            json!({"image": {"format": "png", "source": {"bytes": "iVBORw0K"}}})
        );
        let gemini = chat_request(Target::Gemini, &body, "m").unwrap();
        assert_eq!(
            gemini["contents"][0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}})
        );
    }

    #[test]
    fn strict_schemas_go_to_gemini_as_json_schema_and_empty_ones_not_at_all() {
        let strict = json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"], "additionalProperties": false});
        let body = json!({
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"type": "function", "function": {"name": "search", "parameters": strict, "strict": true}},
                {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
                {"type": "function", "function": {"name": "bare"}}
            ],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object", "properties": {"a": {"type": ["string", "null"]}}}}}
        });
        let gemini = chat_request(Target::Gemini, &body, "m").unwrap();
        assert_eq!(
            gemini["tools"][0]["functionDeclarations"],
            json!([
                {"name": "search", "parametersJsonSchema": strict},
                {"name": "now"},
                {"name": "bare"}
            ])
        );
        assert_eq!(
            gemini["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert!(
            gemini["generationConfig"]
                .get("responseJsonSchema")
                .is_some()
        );
        let mut without_format = body.clone();
        without_format
            .as_object_mut()
            .unwrap()
            .remove("response_format");
        let anthropic = chat_request(Target::Anthropic, &without_format, "m").unwrap();
        assert_eq!(
            anthropic["tools"][2]["input_schema"],
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn a_temperature_anthropic_cannot_take_is_refused_and_one_it_can_is_carried() {
        let mut hot = openai_request();
        hot["temperature"] = json!(1.5);
        assert_eq!(refused(Target::Anthropic, hot.clone()), UNTRANSLATABLE);
        // Other targets take the OpenAI range.
        let got = chat_request(Target::Gemini, &hot, "m").unwrap();
        assert_eq!(got["generationConfig"]["temperature"], json!(1.5));
        let mut warm = openai_request();
        warm["temperature"] = json!(1);
        let got = chat_request(Target::Anthropic, &warm, "m").unwrap();
        assert_eq!(got["temperature"], json!(1));
    }

    #[test]
    fn untranslatable_inputs_are_refused() {
        let user = |content: Value| json!({"messages": [{"role": "user", "content": content}]});
        let link = user(
            json!([{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]),
        );
        let audio = user(
            json!([{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]),
        );
        let file = user(json!([{"type": "file", "file": {"file_id": "file-1"}}]));
        let not_base64 =
            user(json!([{"type": "image_url", "image_url": {"url": "data:image/svg+xml,<svg/>"}}]));
        let mut bad_arguments = openai_request();
        bad_arguments["messages"][2]["tool_calls"][0]["function"]["arguments"] =
            json!("{city: Paris");
        let mut array_arguments = openai_request();
        array_arguments["messages"][2]["tool_calls"][0]["function"]["arguments"] = json!("[1, 2]");
        let mut two_choices = openai_request();
        two_choices["n"] = json!(2);
        let mut legacy = openai_request();
        legacy["functions"] = json!([{"name": "f"}]);
        let mut custom_tool = openai_request();
        custom_tool["tools"] = json!([{"type": "custom", "custom": {"name": "grammar"}}]);
        for target in TARGETS {
            for body in [
                &link,
                &audio,
                &file,
                &not_base64,
                &bad_arguments,
                &array_arguments,
                &two_choices,
                &legacy,
                &custom_tool,
            ] {
                assert_eq!(
                    refused(target, body.clone()),
                    UNTRANSLATABLE,
                    "{target:?} {body}"
                );
            }
        }
        let tiff = user(
            json!([{"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}}]),
        );
        assert_eq!(refused(Target::Anthropic, tiff.clone()), UNTRANSLATABLE);
        assert_eq!(
            refused(Target::BedrockConverse, tiff.clone()),
            UNTRANSLATABLE
        );
        assert!(chat_request(Target::Gemini, &tiff, "m").is_ok());
        let schema = json!({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}}});
        assert_eq!(refused(Target::Anthropic, schema.clone()), UNTRANSLATABLE);
        assert_eq!(refused(Target::BedrockConverse, schema), UNTRANSLATABLE);
        let orphan =
            json!({"messages": [{"role": "tool", "tool_call_id": "nowhere", "content": "x"}]});
        assert_eq!(refused(Target::Gemini, orphan.clone()), UNTRANSLATABLE);
        assert!(chat_request(Target::Anthropic, &orphan, "m").is_ok());
    }

    #[test]
    fn refusals_never_carry_prompt_text() {
        let mut body = openai_request();
        body["messages"][2]["tool_calls"][0]["function"]["arguments"] = json!("SECRET-ARGUMENT");
        body["messages"][1]["content"] =
            json!([{"type": "image_url", "image_url": {"url": "https://SECRET-HOST/x.png"}}]);
        for target in TARGETS {
            let error = chat_request(target, &body, "m").unwrap_err();
            assert!(!error.message().contains("SECRET"), "{}", error.message());
        }
    }

    // --- responses ---

    #[test]
    fn anthropic_response_with_text_and_a_tool_call() {
        let response = json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 30, "cache_read_input_tokens": 5}
        });
        assert_eq!(
            chat_response(
                Target::Anthropic,
                &response,
                "chatcmpl-1",
                "gpt-4o",
                1700000000
            ),
            json!({
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1700000000,
                "model": "gpt-4o",
                "choices": [{
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Let me check.",
                        "refusal": null,
                        "tool_calls": [{"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
                    },
                    "logprobs": null,
                    "finish_reason": "tool_calls"
                }],
                "usage": {"prompt_tokens": 25, "completion_tokens": 30, "total_tokens": 55, "prompt_tokens_details": {"cached_tokens": 5}}
            })
        );
    }

    #[test]
    fn bedrock_response_with_text_and_a_tool_call() {
        let response = json!({
            "output": {"message": {"role": "assistant", "content": [
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}}
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 20, "outputTokens": 30, "totalTokens": 50},
            "metrics": {"latencyMs": 300}
        });
        let got = chat_response(
            Target::BedrockConverse,
            &response,
            "chatcmpl-2",
            "gpt-4o",
            7,
        );
        assert_eq!(
            got["choices"][0],
            json!({
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me check.",
                    "refusal": null,
                    "tool_calls": [{"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
                },
                "logprobs": null,
                "finish_reason": "tool_calls"
            })
        );
        assert_eq!(
            got["usage"],
            json!({"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50})
        );
        assert_eq!(
            (
                got["id"].as_str(),
                got["object"].as_str(),
                got["created"].as_u64()
            ),
            (Some("chatcmpl-2"), Some("chat.completion"), Some(7))
        );
    }

    #[test]
    fn gemini_response_with_text_and_a_tool_call() {
        let response = json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "thinking...", "thought": true},
                    {"text": "Let me check."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}}
                ]},
                "finishReason": "STOP",
                "index": 0
            }],
            "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 30, "totalTokenCount": 50},
            "modelVersion": "gemini-2.5-flash"
        });
        let got = chat_response(Target::Gemini, &response, "chatcmpl-3", "gpt-4o", 7);
        assert_eq!(
            got["choices"][0]["message"],
            json!({
                "role": "assistant",
                "content": "Let me check.",
                "refusal": null,
                "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"}}
                ]
            })
        );
        assert_eq!(got["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            got["usage"],
            json!({"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50})
        );
    }

    #[test]
    fn stop_reasons_map_to_finish_reasons() {
        let anthropic = |reason: &str| {
            chat_response(
                Target::Anthropic,
                &json!({"content": [{"type": "text", "text": "x"}], "stop_reason": reason}),
                "i",
                "m",
                0,
            )["choices"][0]["finish_reason"]
                .clone()
        };
        assert_eq!(anthropic("end_turn"), "stop");
        assert_eq!(anthropic("stop_sequence"), "stop");
        assert_eq!(anthropic("max_tokens"), "length");
        assert_eq!(anthropic("refusal"), "content_filter");
        let bedrock = |reason: &str| {
            chat_response(
                Target::BedrockConverse,
                &json!({"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": reason}),
                "i",
                "m",
                0,
            )["choices"][0]["finish_reason"]
                .clone()
        };
        assert_eq!(bedrock("end_turn"), "stop");
        assert_eq!(bedrock("max_tokens"), "length");
        assert_eq!(bedrock("content_filtered"), "content_filter");
        assert_eq!(bedrock("guardrail_intervened"), "content_filter");
        let gemini = |reason: &str| {
            chat_response(Target::Gemini, &json!({"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}), "i", "m", 0)["choices"][0]["finish_reason"].clone()
        };
        assert_eq!(gemini("STOP"), "stop");
        assert_eq!(gemini("MAX_TOKENS"), "length");
        assert_eq!(gemini("SAFETY"), "content_filter");
        let blocked = chat_response(
            Target::Gemini,
            &json!({"promptFeedback": {"blockReason": "SAFETY"}}),
            "i",
            "m",
            0,
        );
        assert_eq!(blocked["choices"][0]["finish_reason"], "content_filter");
        assert_eq!(blocked["choices"][0]["message"]["content"], "");
        assert!(blocked.get("usage").is_none());
    }

    #[test]
    fn error_messages_are_read_from_each_shape_and_cut_short() {
        assert_eq!(
            error_message(Target::Anthropic, &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})).as_deref(),
            Some("Overloaded")
        );
        assert_eq!(
            error_message(
                Target::BedrockConverse,
                &json!({"message": "The security token included in the request is invalid."})
            )
            .as_deref(),
            Some("The security token included in the request is invalid.")
        );
        assert_eq!(
            error_message(Target::BedrockConverse, &json!({"Message": "Throttled"})).as_deref(),
            Some("Throttled")
        );
        let gemini = json!({"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}});
        assert_eq!(
            error_message(Target::Gemini, &gemini).as_deref(),
            Some("API key not valid.")
        );
        assert_eq!(
            error_message(Target::Gemini, &json!([gemini])).as_deref(),
            Some("API key not valid.")
        );
        assert_eq!(
            error_message(Target::Anthropic, &json!({"error": {}})),
            None
        );
        assert_eq!(error_message(Target::Gemini, &json!("plain")), None);
        let long = "é".repeat(2000);
        let cut = error_message(Target::Anthropic, &json!({"error": {"message": long}})).unwrap();
        assert_eq!(cut.chars().count(), MAX_ERROR_MESSAGE_CHARS);
    }

    // --- streams ---

    /// What a caller reassembles from a stream of chunks.
    #[derive(Debug, Default)]
    struct Assembled {
        content: String,
        calls: Vec<(String, String, String)>,
        finish: Option<String>,
        usage: Option<Value>,
    }

    fn assemble(chunks: &[Value], id: &str, created: u64) -> Assembled {
        let mut out = Assembled::default();
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        for chunk in chunks {
            assert_eq!(chunk["id"], id);
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["created"], created);
            assert_eq!(chunk["model"], "gpt-4o");
            if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
                assert_eq!(chunk["choices"], json!([]));
                out.usage = Some(usage.clone());
                continue;
            }
            let choice = &chunk["choices"][0];
            if let Some(text) = choice["delta"]["content"].as_str() {
                out.content.push_str(text);
            }
            for call in choice["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let index = call["index"].as_u64().unwrap() as usize;
                if index == out.calls.len() {
                    assert_eq!(call["type"], "function");
                    out.calls.push((
                        call["id"].as_str().unwrap().to_owned(),
                        call["function"]["name"].as_str().unwrap().to_owned(),
                        String::new(),
                    ));
                }
                out.calls[index]
                    .2
                    .push_str(call["function"]["arguments"].as_str().unwrap());
            }
            if let Some(finish) = choice["finish_reason"].as_str() {
                assert!(out.finish.is_none(), "one finish reason");
                out.finish = Some(finish.to_owned());
            }
        }
        out
    }

    fn run(stream: &mut ChatStream, events: &[(Option<&str>, Value)]) -> Vec<Value> {
        let mut chunks: Vec<Value> = events
            .iter()
            .flat_map(|(name, data)| stream.event(*name, data))
            .collect();
        chunks.extend(stream.finish());
        chunks
    }

    #[test]
    fn anthropic_stream_of_text_and_a_tool_call() {
        let events = [
            (
                Some("message_start"),
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
            ),
            (
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            ),
            (Some("ping"), json!({"type": "ping"})),
            (
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "check."}}),
            ),
            (
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 0}),
            ),
            (
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"city\": "}}),
            ),
            (
                Some("content_block_delta"),
                json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
            ),
            (
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 1}),
            ),
            (
                Some("message_delta"),
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 42}}),
            ),
            (Some("message_stop"), json!({"type": "message_stop"})),
        ];
        let mut stream =
            ChatStream::new(Target::Anthropic, "chatcmpl-9", "gpt-4o", 1700000000, true);
        let chunks = run(&mut stream, &events);
        let got = assemble(&chunks, "chatcmpl-9", 1700000000);
        assert_eq!(got.content, "Let me check.");
        assert_eq!(
            got.calls,
            [(
                "toolu_01".to_owned(),
                "get_weather".to_owned(),
                "{\"city\": \"Paris\"}".to_owned()
            )]
        );
        assert_eq!(got.finish.as_deref(), Some("tool_calls"));
        assert_eq!(
            got.usage,
            Some(json!({"prompt_tokens": 25, "completion_tokens": 42, "total_tokens": 67}))
        );
        assert_eq!(stream.usage(), Some((25, 42)));
        assert_eq!(chunks.last().unwrap()["choices"], json!([]));
        // Without names (Bedrock InvokeModel streams carry Anthropic's events bare).
        let mut bare = ChatStream::new(Target::Anthropic, "chatcmpl-9", "gpt-4o", 1700000000, true);
        let unnamed: Vec<(Option<&str>, Value)> = events
            .iter()
            .map(|(_, data)| (None, data.clone()))
            .collect();
        assert_eq!(run(&mut bare, &unnamed), chunks);
    }

    #[test]
    fn bedrock_stream_of_text_and_a_tool_call() {
        let events = [
            (Some("messageStart"), json!({"role": "assistant"})),
            (
                Some("contentBlockDelta"),
                json!({"contentBlockIndex": 0, "delta": {"text": "Let me "}, "p": "abc"}),
            ),
            (
                Some("contentBlockDelta"),
                json!({"contentBlockIndex": 0, "delta": {"text": "check."}}),
            ),
            (Some("contentBlockStop"), json!({"contentBlockIndex": 0})),
            (
                Some("contentBlockStart"),
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}}}),
            ),
            (
                Some("contentBlockDelta"),
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\""}}}),
            ),
            (
                Some("contentBlockDelta"),
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": ": \"Paris\"}"}}}),
            ),
            (Some("contentBlockStop"), json!({"contentBlockIndex": 1})),
            (Some("messageStop"), json!({"stopReason": "tool_use"})),
            (
                Some("metadata"),
                json!({"usage": {"inputTokens": 25, "outputTokens": 42, "totalTokens": 67}, "metrics": {"latencyMs": 512}}),
            ),
        ];
        let mut stream = ChatStream::new(Target::BedrockConverse, "chatcmpl-b", "gpt-4o", 5, true);
        let chunks = run(&mut stream, &events);
        let got = assemble(&chunks, "chatcmpl-b", 5);
        assert_eq!(got.content, "Let me check.");
        assert_eq!(
            got.calls,
            [(
                "tooluse_1".to_owned(),
                "get_weather".to_owned(),
                "{\"city\": \"Paris\"}".to_owned()
            )]
        );
        assert_eq!(got.finish.as_deref(), Some("tool_calls"));
        assert_eq!(
            got.usage,
            Some(json!({"prompt_tokens": 25, "completion_tokens": 42, "total_tokens": 67}))
        );
        assert_eq!(stream.usage(), Some((25, 42)));
        let mut bare = ChatStream::new(Target::BedrockConverse, "chatcmpl-b", "gpt-4o", 5, true);
        let unnamed: Vec<(Option<&str>, Value)> = events
            .iter()
            .map(|(_, data)| (None, data.clone()))
            .collect();
        assert_eq!(run(&mut bare, &unnamed), chunks);
    }

    #[test]
    fn gemini_stream_of_text_and_a_tool_call() {
        let usage = |out: u64| json!({"promptTokenCount": 25, "candidatesTokenCount": out, "totalTokenCount": 25 + out});
        let events = [
            (
                None,
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Let me "}]}, "index": 0}], "usageMetadata": usage(2), "modelVersion": "gemini-2.5-flash"}),
            ),
            (
                None,
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "check."}]}, "index": 0}], "usageMetadata": usage(4)}),
            ),
            (
                None,
                json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2ln"}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage(42)}),
            ),
        ];
        let mut stream = ChatStream::new(Target::Gemini, "chatcmpl-g", "gpt-4o", 5, true);
        let chunks = run(&mut stream, &events);
        let got = assemble(&chunks, "chatcmpl-g", 5);
        assert_eq!(got.content, "Let me check.");
        assert_eq!(
            got.calls,
            [(
                "call_0".to_owned(),
                "get_weather".to_owned(),
                "{\"city\":\"Paris\"}".to_owned()
            )]
        );
        assert_eq!(got.finish.as_deref(), Some("tool_calls"));
        assert_eq!(
            got.usage,
            Some(json!({"prompt_tokens": 25, "completion_tokens": 42, "total_tokens": 67}))
        );
        assert_eq!(stream.usage(), Some((25, 42)));
    }

    #[test]
    fn without_include_usage_no_usage_chunk_is_sent() {
        let mut stream = ChatStream::new(Target::Gemini, "c", "gpt-4o", 5, false);
        let chunks = run(
            &mut stream,
            &[(
                None,
                json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1}}),
            )],
        );
        assert_eq!(chunks.len(), 3, "role, text, finish");
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
        assert_eq!(stream.usage(), Some((1, 1)));
    }

    #[test]
    fn a_tool_call_without_arguments_streams_an_empty_object() {
        let mut stream = ChatStream::new(Target::Anthropic, "c", "gpt-4o", 5, false);
        let chunks = run(
            &mut stream,
            &[
                (
                    Some("message_start"),
                    json!({"message": {"usage": {"input_tokens": 3, "output_tokens": 0}}}),
                ),
                (
                    Some("content_block_start"),
                    json!({"index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "now", "input": {}}}),
                ),
                (Some("content_block_stop"), json!({"index": 0})),
                (
                    Some("message_delta"),
                    json!({"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}}),
                ),
            ],
        );
        let got = assemble(&chunks, "c", 5);
        assert_eq!(got.calls[0].2, "{}");
    }

    #[test]
    fn upstream_stream_errors_become_openai_error_objects_and_end_the_stream() {
        let mut anthropic = ChatStream::new(Target::Anthropic, "c", "gpt-4o", 5, true);
        anthropic.event(
            Some("message_start"),
            &json!({"message": {"usage": {"input_tokens": 3}}}),
        );
        let out = anthropic.event(Some("error"), &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}));
        assert_eq!(
            out,
            [
                json!({"error": {"message": "Overloaded", "type": "upstream_error", "param": null, "code": "upstream_stream_error"}})
            ]
        );
        assert!(anthropic.event(Some("message_stop"), &json!({})).is_empty());
        assert!(anthropic.finish().is_empty());
        let mut bedrock = ChatStream::new(Target::BedrockConverse, "c", "gpt-4o", 5, false);
        let out = bedrock.event(
            Some("throttlingException"),
            &json!({"message": "Too many requests"}),
        );
        assert_eq!(out[0]["error"]["message"], "Too many requests");
        let mut gemini = ChatStream::new(Target::Gemini, "c", "gpt-4o", 5, false);
        let out = gemini.event(
            None,
            &json!({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}),
        );
        assert_eq!(out[0]["error"]["message"], "Internal error");
    }

    #[test]
    fn a_blocked_gemini_prompt_streams_a_content_filter_finish() {
        let mut stream = ChatStream::new(Target::Gemini, "c", "gpt-4o", 5, false);
        let chunks = run(
            &mut stream,
            &[(
                None,
                json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 9}}),
            )],
        );
        assert_eq!(
            assemble(&chunks, "c", 5).finish.as_deref(),
            Some("content_filter")
        );
    }
}
