//! parse and forward: the API surfaces Customs accepts and the upstream providers it
//! forwards to.
//!
//! - [`openai_api`] knows OpenAI's request shapes (Chat Completions, Responses,
//!   Embeddings) and lists every text a model would read as a decoded string with its
//!   place in the JSON, so the scanner sees what the model sees and redaction rewrites
//!   exactly those strings.
//! - [`upstream`] builds the outgoing request for a deployment (OpenAI, Azure OpenAI,
//!   Anthropic, Bedrock, the Gemini API, Vertex AI):
//!   URL shape, credentials from the environment, never the caller's token.
//! - [`anthropic`] knows Anthropic's Messages API the same way.
//! - [`gemini`] knows Google's Gemini format (the Gemini API and Vertex AI) the same way.
//! - [`echo`] is the built-in `customs-echo` model: it answers in the caller's API shape
//!   with exactly what it received, so anyone can see what would have left.
//!
//! A request is described by an [`Endpoint`]: the [`Door`] it came in by (which SDK
//! family is calling, so which error shape it understands and which header carries its
//! key) and the [`Api`] its body speaks. Every API maps to one Cedar action
//! ([`Api::operation`]), so the same policies decide whatever the wire format, and lists
//! its segments through [`visit_segments`], so the same scanner and redactor run on it.
//! A deployment is a candidate for a request only when its provider speaks the request's
//! API, or when the request is OpenAI chat and [`translate`] can carry it to the
//! provider's own chat API ([`Api::upstream_api`]), so a policy can move a request from
//! one cloud to another whatever SDK the caller uses for OpenAI.

pub mod anthropic;
pub mod bedrock;
pub mod echo;
pub mod eventstream;
pub mod gemini;
pub mod openai_api;
pub mod sigv4;
pub mod translate;
pub mod upstream;

use serde_json::Value;

use crate::error::GatewayError;
use crate::policy::{Deployment, Operation, ProviderKind};

pub use openai_api::{RequestFacts, SegmentKind};

/// The wire format of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Api {
    /// OpenAI Chat Completions (also Azure OpenAI's).
    #[serde(rename = "openai.chat_completions")]
    OpenAiChat,
    /// OpenAI Responses.
    #[serde(rename = "openai.responses")]
    OpenAiResponses,
    /// OpenAI Embeddings.
    #[serde(rename = "openai.embeddings")]
    OpenAiEmbeddings,
    /// Anthropic Messages.
    #[serde(rename = "anthropic.messages")]
    AnthropicMessages,
    /// AWS Bedrock `Converse` / `ConverseStream`.
    #[serde(rename = "bedrock.converse")]
    BedrockConverse,
    /// AWS Bedrock `InvokeModel` / `InvokeModelWithResponseStream` (the model's own body).
    #[serde(rename = "bedrock.invoke_model")]
    BedrockInvoke,
    /// Google `generateContent` / `streamGenerateContent` (Gemini API and Vertex AI).
    #[serde(rename = "gemini.generate_content")]
    GeminiGenerate,
    /// Google `embedContent`.
    #[serde(rename = "gemini.embed_content")]
    GeminiEmbed,
    /// Google `batchEmbedContents`.
    #[serde(rename = "gemini.batch_embed_contents")]
    GeminiBatchEmbed,
    /// Google `countTokens`: the provider counts a prompt, so the prompt leaves like
    /// one sent to the model and is inspected and decided the same way.
    #[serde(rename = "gemini.count_tokens")]
    GeminiCountTokens,
    /// Vertex AI `predict` for text embeddings (`text-embedding-005`: instances of
    /// `content` and `title`).
    #[serde(rename = "vertex.predict")]
    VertexPredict,
}

impl Api {
    /// The Cedar action this API is decided as.
    pub fn operation(self) -> Operation {
        match self {
            Api::OpenAiChat
            | Api::AnthropicMessages
            | Api::BedrockConverse
            | Api::BedrockInvoke
            | Api::GeminiGenerate
            | Api::GeminiCountTokens => Operation::Chat,
            Api::OpenAiResponses => Operation::Responses,
            Api::OpenAiEmbeddings
            | Api::GeminiEmbed
            | Api::GeminiBatchEmbed
            | Api::VertexPredict => Operation::Embeddings,
        }
    }

    /// The name recorded in the decision event (`surface`).
    pub fn as_str(self) -> &'static str {
        match self {
            Api::OpenAiChat => "openai.chat_completions",
            Api::OpenAiResponses => "openai.responses",
            Api::OpenAiEmbeddings => "openai.embeddings",
            Api::AnthropicMessages => "anthropic.messages",
            Api::BedrockConverse => "bedrock.converse",
            Api::BedrockInvoke => "bedrock.invoke_model",
            Api::GeminiGenerate => "gemini.generate_content",
            Api::GeminiEmbed => "gemini.embed_content",
            Api::GeminiBatchEmbed => "gemini.batch_embed_contents",
            Api::GeminiCountTokens => "gemini.count_tokens",
            Api::VertexPredict => "vertex.predict",
        }
    }

    /// Whether a deployment of `provider` can take a request in this API, as it is or
    /// translated.
    pub fn served_by(self, provider: ProviderKind) -> bool {
        self.upstream_api(provider).is_some()
    }

    /// The API a request in this API is sent upstream in, for a deployment of
    /// `provider`: the same API when the provider speaks it; for OpenAI chat, the
    /// provider's own chat API (see [`translate`]); otherwise none.
    pub fn upstream_api(self, provider: ProviderKind) -> Option<Api> {
        let native = match provider {
            ProviderKind::Local => true,
            ProviderKind::OpenAi | ProviderKind::AzureOpenAi => matches!(
                self,
                Api::OpenAiChat | Api::OpenAiResponses | Api::OpenAiEmbeddings
            ),
            ProviderKind::Anthropic => self == Api::AnthropicMessages,
            ProviderKind::Bedrock => matches!(self, Api::BedrockConverse | Api::BedrockInvoke),
            ProviderKind::Gemini | ProviderKind::Vertex => {
                matches!(
                    self,
                    Api::GeminiGenerate
                        | Api::GeminiEmbed
                        | Api::GeminiBatchEmbed
                        | Api::GeminiCountTokens
                ) || (self == Api::VertexPredict && provider == ProviderKind::Vertex)
            }
        };
        if native {
            return Some(self);
        }
        // Anthropic's Messages body is what Bedrock's InvokeModel takes for Claude.
        if self == Api::AnthropicMessages && provider == ProviderKind::Bedrock {
            return Some(Api::BedrockInvoke);
        }
        if self != Api::OpenAiChat {
            return None;
        }
        match provider {
            ProviderKind::Anthropic => Some(Api::AnthropicMessages),
            ProviderKind::Bedrock => Some(Api::BedrockConverse),
            ProviderKind::Gemini | ProviderKind::Vertex => Some(Api::GeminiGenerate),
            ProviderKind::Local | ProviderKind::OpenAi | ProviderKind::AzureOpenAi => None,
        }
    }

    /// The translation target for an upstream API an OpenAI chat request is sent in.
    pub fn translation_target(self) -> Option<translate::Target> {
        match self {
            Api::AnthropicMessages => Some(translate::Target::Anthropic),
            Api::BedrockConverse => Some(translate::Target::BedrockConverse),
            Api::GeminiGenerate => Some(translate::Target::Gemini),
            _ => None,
        }
    }
}

/// The SDK family a request came from: which error shape it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// OpenAI's SDKs (`/v1/...`) and Azure OpenAI's (`/openai/...`).
    OpenAi,
    /// Anthropic's SDKs (`/v1/messages`).
    Anthropic,
    /// AWS SDKs' Bedrock runtime client (`/model/{modelId}/...`).
    Bedrock,
    /// Google's SDKs, for the Gemini API (`/v1beta/models/...`) and Vertex AI
    /// (`/v1/projects/.../publishers/google/models/...`).
    Google,
}

/// One request's route: how it came in and what the URL said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The SDK family.
    pub door: Door,
    /// The body's wire format.
    pub api: Api,
    /// The model (or Azure deployment) named in the path, when the API puts it there.
    pub path_model: Option<String>,
    /// The path itself asks for a stream (`converse-stream`, `streamGenerateContent`).
    pub path_stream: bool,
    /// The caller asked for a stream as server-sent events (Google's `alt=sse`) rather
    /// than in the API's own stream framing.
    pub sse: bool,
}

impl Endpoint {
    /// An endpoint whose body names its model.
    pub fn new(door: Door, api: Api) -> Endpoint {
        Endpoint {
            door,
            api,
            path_model: None,
            path_stream: false,
            sse: false,
        }
    }
}

/// Every string value (not keys) of `value`, in document order: the walk over tool
/// inputs, tool results and other free-form JSON a model reads, shared by every API.
pub(crate) fn visit_all_strings(value: &mut Value, visit: &mut dyn FnMut(&mut String)) {
    match value {
        Value::String(text) => visit(text),
        Value::Array(items) => {
            for item in items {
                visit_all_strings(item, visit);
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                visit_all_strings(item, visit);
            }
        }
        _ => {}
    }
}

/// The Cedar action a request is decided as: the API's, except for Bedrock
/// `InvokeModel`, whose body says whether it is chat or embeddings.
pub fn operation(api: Api, body: &Value) -> Operation {
    match api {
        Api::BedrockInvoke => {
            bedrock::invoke_family(body).map_or(Operation::Chat, bedrock::InvokeFamily::operation)
        }
        _ => api.operation(),
    }
}

/// Reads the fields every API needs and checks the body's basic shape.
pub fn request_facts(endpoint: &Endpoint, body: &Value) -> Result<RequestFacts, GatewayError> {
    match endpoint.api {
        Api::OpenAiChat | Api::OpenAiResponses | Api::OpenAiEmbeddings => {
            openai_api::request_facts(
                endpoint.api.operation(),
                body,
                endpoint.path_model.as_deref(),
            )
        }
        Api::AnthropicMessages => anthropic::request_facts(body),
        Api::BedrockConverse => {
            bedrock::converse_facts(body, endpoint.path_model.as_deref(), endpoint.path_stream)
        }
        Api::BedrockInvoke => {
            bedrock::invoke_facts(body, endpoint.path_model.as_deref(), endpoint.path_stream)
        }
        Api::GeminiGenerate
        | Api::GeminiEmbed
        | Api::GeminiBatchEmbed
        | Api::GeminiCountTokens
        | Api::VertexPredict => gemini::request_facts(
            endpoint.api,
            body,
            endpoint.path_model.as_deref(),
            endpoint.path_stream,
        ),
    }
}

/// Visits every segment a model reads, in a fixed order. The visitor returns whether it
/// changed the text.
pub fn visit_segments(
    api: Api,
    body: &mut Value,
    visit: &mut dyn FnMut(SegmentKind, &mut String) -> bool,
) {
    match api {
        Api::OpenAiChat | Api::OpenAiResponses | Api::OpenAiEmbeddings => {
            openai_api::visit_segments(api.operation(), body, visit);
        }
        Api::AnthropicMessages => anthropic::visit_segments(body, visit),
        Api::BedrockConverse => bedrock::visit_converse(body, visit),
        Api::BedrockInvoke => bedrock::visit_invoke(body, visit),
        Api::GeminiGenerate
        | Api::GeminiEmbed
        | Api::GeminiBatchEmbed
        | Api::GeminiCountTokens
        | Api::VertexPredict => {
            gemini::visit_segments(api, body, visit);
        }
    }
}

/// Rewrites what names the model in the body to the deployment's model (APIs that
/// carry the model in the URL instead are left as they are).
pub fn set_model(api: Api, body: &mut Value, deployment: &Deployment) {
    match api {
        Api::OpenAiChat | Api::OpenAiResponses | Api::OpenAiEmbeddings | Api::AnthropicMessages => {
            if let Some(object) = body.as_object_mut() {
                object.insert("model".to_owned(), Value::String(deployment.model.clone()));
            }
        }
        // The model is in the URL.
        Api::BedrockConverse
        | Api::BedrockInvoke
        | Api::GeminiGenerate
        | Api::GeminiEmbed
        | Api::VertexPredict => {}
        // Each request of a batch names the model again.
        Api::GeminiBatchEmbed => gemini::set_batch_model(body, &deployment.model),
        // A full `generateContentRequest` names the model again.
        Api::GeminiCountTokens => gemini::set_count_model(body, &deployment.model),
    }
}
