//! forward: sends the redacted request to the chosen deployment and streams the answer
//! back as it arrives.
//!
//! Where a request goes comes only from the catalog (and the platform's overrides in
//! `[upstream]`): no header or body field can point Customs at another host. The key is
//! read from the environment variable the deployment names, at each request so that a
//! rotated key needs no restart; the caller's own `Authorization` is never sent on.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;

use std::time::SystemTime;

use super::sigv4::{self, AwsCredentials};
use super::{Api, Endpoint, bedrock};
use crate::config::{ServerConfig, UpstreamConfig};
use crate::error::GatewayError;
use crate::policy::{Deployment, ProviderKind};

/// The Anthropic API version sent when the caller named none.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Request headers of the caller passed on to the upstream (they select API
/// behaviour, never identity); everything else, credentials above all, is dropped.
const PASSED_REQUEST_HEADERS: [&str; 2] = ["anthropic-version", "anthropic-beta"];

/// Response headers passed back from the upstream; everything else is dropped.
const PASSED_RESPONSE_HEADERS: [&str; 9] = [
    "content-type",
    "cache-control",
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "apim-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amzn-errortype",
];

/// The HTTP client and the platform's upstream overrides.
#[derive(Debug, Clone)]
pub struct Upstreams {
    client: reqwest::Client,
    overrides: UpstreamConfig,
    header_timeout: Duration,
}

impl Upstreams {
    /// Builds the shared client (connection pool, timeouts).
    pub fn new(server: &ServerConfig, overrides: &UpstreamConfig) -> anyhow::Result<Upstreams> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(server.upstream_connect_timeout_secs))
            .read_timeout(Duration::from_secs(server.upstream_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Upstreams {
            client,
            overrides: overrides.clone(),
            header_timeout: Duration::from_secs(server.upstream_timeout_secs),
        })
    }

    /// The URL a request that came in by `endpoint` goes to on this deployment.
    pub fn url(
        &self,
        deployment: &Deployment,
        endpoint: &Endpoint,
        stream: bool,
    ) -> Result<String, GatewayError> {
        let api = endpoint.api;
        let base = self
            .overrides
            .base_urls
            .get(&deployment.id)
            .or(deployment.base_url.as_ref())
            .ok_or_else(|| {
                GatewayError::bad_gateway(
                    "upstream_not_configured",
                    "The deployment has no base URL.",
                )
            })?;
        let base = base.trim_end_matches('/');
        let path = match api {
            Api::OpenAiChat => "chat/completions",
            Api::OpenAiResponses => "responses",
            Api::OpenAiEmbeddings => "embeddings",
            Api::AnthropicMessages => "v1/messages",
            Api::BedrockConverse | Api::BedrockInvoke => "",
            // Google's methods, after the model: `models/{model}:{method}`.
            Api::GeminiGenerate if stream => "streamGenerateContent",
            Api::GeminiGenerate => "generateContent",
            Api::GeminiEmbed => "embedContent",
            Api::GeminiBatchEmbed => "batchEmbedContents",
            Api::GeminiCountTokens => "countTokens",
            Api::VertexPredict => "predict",
        };
        Ok(match deployment.provider {
            ProviderKind::AzureOpenAi => {
                let name = deployment
                    .azure_deployment
                    .as_deref()
                    .unwrap_or(&deployment.model);
                let version = deployment
                    .azure_api_version
                    .as_deref()
                    .unwrap_or("2024-10-21");
                match api {
                    Api::OpenAiResponses => {
                        format!("{base}/openai/responses?api-version={version}")
                    }
                    _ => format!("{base}/openai/deployments/{name}/{path}?api-version={version}"),
                }
            }
            ProviderKind::OpenAi | ProviderKind::Anthropic | ProviderKind::Local => {
                format!("{base}/{path}")
            }
            ProviderKind::Bedrock => format!(
                "{base}/model/{}/{}",
                bedrock::encode_model_id(&deployment.model),
                bedrock::operation_path(api == Api::BedrockInvoke, stream)
            ),
            // The base names the API version (and, for Vertex, the project and region).
            ProviderKind::Gemini | ProviderKind::Vertex => {
                let sse = if stream && endpoint.sse {
                    "?alt=sse"
                } else {
                    ""
                };
                format!("{base}/models/{}:{path}{sse}", deployment.model)
            }
        })
    }

    /// Sends `body` (already redacted, `model` already rewritten) and returns the
    /// upstream's answer with its body streamed through unbuffered.
    pub async fn forward(
        &self,
        deployment: &Deployment,
        endpoint: &Endpoint,
        stream: bool,
        caller_headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Response, GatewayError> {
        let url = self.url(deployment, endpoint, stream)?;
        let env = self
            .overrides
            .credential_envs
            .get(&deployment.id)
            .or(deployment.credential_env.as_ref())
            .ok_or_else(|| {
                GatewayError::bad_gateway(
                    "upstream_not_configured",
                    "The deployment names no credential.",
                )
            })?;
        let missing = || {
            GatewayError::bad_gateway(
                "upstream_credential_missing",
                format!(
                    "The upstream credential for deployment `{}` is not configured.",
                    deployment.id
                ),
            )
        };
        if deployment.provider == ProviderKind::Bedrock {
            // The body changed (redaction), so Customs signs it with its own AWS
            // credentials; `credential_env` is their prefix (`AWS` → AWS_ACCESS_KEY_ID...).
            let credentials = AwsCredentials::from_env(env).ok_or_else(missing)?;
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
            sigv4::sign(
                "POST",
                &url,
                &mut headers,
                &body,
                &credentials,
                &deployment.region,
                "bedrock",
                SystemTime::now(),
            )
            .map_err(|_| {
                GatewayError::internal(
                    "upstream_signing_failed",
                    "The request to the upstream provider could not be signed.",
                )
            })?;
            let request = self.client.post(url).headers(headers).body(body);
            return self.send(request).await;
        }
        let key = std::env::var(env)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(missing)?;
        let mut request = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        for name in PASSED_REQUEST_HEADERS {
            if let Some(value) = caller_headers.get(name) {
                request = request.header(name, value.clone());
            }
        }
        request = match deployment.provider {
            ProviderKind::AzureOpenAi => request.header("api-key", key),
            ProviderKind::Anthropic => {
                let request = request.header("x-api-key", key);
                if caller_headers.contains_key("anthropic-version") {
                    request
                } else {
                    request.header("anthropic-version", ANTHROPIC_VERSION)
                }
            }
            ProviderKind::Gemini => request.header("x-goog-api-key", key),
            ProviderKind::OpenAi
            | ProviderKind::Vertex
            | ProviderKind::Bedrock
            | ProviderKind::Local => request.bearer_auth(key),
        };
        self.send(request).await
    }

    /// Sends, within the header timeout, and streams the answer back.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Response, GatewayError> {
        let response = match tokio::time::timeout(self.header_timeout, request.send()).await {
            Err(_) => return Err(GatewayError::gateway_timeout()),
            Ok(Err(e)) if e.is_timeout() => return Err(GatewayError::gateway_timeout()),
            Ok(Err(e)) if e.is_connect() => {
                return Err(GatewayError::bad_gateway(
                    "upstream_unavailable",
                    "The upstream provider could not be reached.",
                ));
            }
            Ok(Err(_)) => {
                return Err(GatewayError::bad_gateway(
                    "upstream_error",
                    "The upstream provider failed to answer.",
                ));
            }
            Ok(Ok(response)) => response,
        };
        Ok(stream_back(response))
    }
}

/// The upstream's status, its safe headers, and its body as a stream.
fn stream_back(upstream: reqwest::Response) -> Response {
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in PASSED_RESPONSE_HEADERS {
        if let Some(value) = upstream.headers().get(name)
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            )
        {
            headers.insert(name, value);
        }
    }
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ModelCatalog;
    use crate::providers::Door;

    fn upstreams() -> Upstreams {
        Upstreams::new(&ServerConfig::default(), &UpstreamConfig::default()).unwrap()
    }

    fn endpoint(api: Api) -> Endpoint {
        Endpoint::new(Door::OpenAi, api)
    }

    #[test]
    fn google_urls_name_model_and_method_and_keep_the_stream_framing() {
        let catalog = ModelCatalog::parse(include_str!("../../policies/catalog.toml")).unwrap();
        let gemini = catalog.deployment("gemini-2.5-flash-gemini-api").unwrap();
        let vertex = catalog
            .deployment("gemini-2.5-pro-vertex-europe-west4")
            .unwrap();
        let generate = Endpoint::new(Door::Google, Api::GeminiGenerate);
        let sse = Endpoint {
            sse: true,
            ..generate.clone()
        };
        let embed = Endpoint::new(Door::Google, Api::GeminiBatchEmbed);
        for (deployment, endpoint, stream, url) in [
            (
                gemini,
                &generate,
                false,
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
            ),
            (
                gemini,
                &sse,
                true,
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            ),
            (
                vertex,
                &generate,
                true,
                "https://europe-west4-aiplatform.googleapis.com/v1/projects/contoso-ai/locations/europe-west4/publishers/google/models/gemini-2.5-pro:streamGenerateContent",
            ),
            (
                gemini,
                &embed,
                false,
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchEmbedContents",
            ),
        ] {
            assert_eq!(upstreams().url(deployment, endpoint, stream).unwrap(), url);
        }
    }

    #[test]
    fn azure_urls_carry_deployment_and_api_version() {
        let catalog = ModelCatalog::parse(include_str!("../../policies/catalog.toml")).unwrap();
        let azure = catalog.deployment("gpt-4o-azure-swedencentral").unwrap();
        assert_eq!(
            upstreams()
                .url(azure, &endpoint(Api::OpenAiChat), false)
                .unwrap(),
            "https://contoso-se.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
        );
        let openai = catalog.deployment("gpt-4o-openai-us").unwrap();
        assert_eq!(
            upstreams()
                .url(openai, &endpoint(Api::OpenAiEmbeddings), false)
                .unwrap(),
            "https://api.openai.com/v1/embeddings"
        );
    }

    #[test]
    fn platform_overrides_replace_the_catalog_url() {
        let catalog = ModelCatalog::parse(include_str!("../../policies/catalog.toml")).unwrap();
        let openai = catalog.deployment("gpt-4o-openai-us").unwrap();
        let mut overrides = UpstreamConfig::default();
        overrides
            .base_urls
            .insert(openai.id.clone(), "http://127.0.0.1:9/v1/".into());
        let upstreams = Upstreams::new(&ServerConfig::default(), &overrides).unwrap();
        assert_eq!(
            upstreams
                .url(openai, &endpoint(Api::OpenAiChat), false)
                .unwrap(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
    }
}
