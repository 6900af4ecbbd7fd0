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

use crate::config::{ServerConfig, UpstreamConfig};
use crate::error::GatewayError;
use crate::policy::{Deployment, Operation, ProviderKind};

/// Response headers passed back from the upstream; everything else is dropped.
const PASSED_RESPONSE_HEADERS: [&str; 6] = [
    "content-type",
    "cache-control",
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "apim-request-id",
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

    /// The URL a request for this deployment and operation goes to.
    pub fn url(
        &self,
        deployment: &Deployment,
        operation: Operation,
    ) -> Result<String, GatewayError> {
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
        let path = match operation {
            Operation::Chat => "chat/completions",
            Operation::Responses => "responses",
            Operation::Embeddings => "embeddings",
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
                match operation {
                    Operation::Responses => {
                        format!("{base}/openai/responses?api-version={version}")
                    }
                    _ => format!("{base}/openai/deployments/{name}/{path}?api-version={version}"),
                }
            }
            ProviderKind::OpenAi | ProviderKind::Local => format!("{base}/{path}"),
        })
    }

    /// Sends `body` (already redacted, `model` already rewritten) and returns the
    /// upstream's answer with its body streamed through unbuffered.
    pub async fn forward(
        &self,
        deployment: &Deployment,
        operation: Operation,
        body: Vec<u8>,
    ) -> Result<Response, GatewayError> {
        let url = self.url(deployment, operation)?;
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
        let key = std::env::var(env)
            .ok()
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                GatewayError::bad_gateway(
                    "upstream_credential_missing",
                    format!(
                        "The upstream credential for deployment `{}` is not configured.",
                        deployment.id
                    ),
                )
            })?;
        let mut request = self
            .client
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        request = match deployment.provider {
            ProviderKind::AzureOpenAi => request.header("api-key", key),
            ProviderKind::OpenAi | ProviderKind::Local => request.bearer_auth(key),
        };
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

    fn upstreams() -> Upstreams {
        Upstreams::new(&ServerConfig::default(), &UpstreamConfig::default()).unwrap()
    }

    #[test]
    fn azure_urls_carry_deployment_and_api_version() {
        let catalog = ModelCatalog::parse(include_str!("../../policies/catalog.toml")).unwrap();
        let azure = catalog.deployment("gpt-4o-azure-swedencentral").unwrap();
        assert_eq!(
            upstreams().url(azure, Operation::Chat).unwrap(),
            "https://contoso-se.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
        );
        let openai = catalog.deployment("gpt-4o-openai-us").unwrap();
        assert_eq!(
            upstreams().url(openai, Operation::Embeddings).unwrap(),
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
            upstreams.url(openai, Operation::Chat).unwrap(),
            "http://127.0.0.1:9/v1/chat/completions"
        );
    }
}
