//! accept: the HTTP front door, assembled in one function ([`router`]), and the
//! listener with graceful shutdown ([`serve`]), plain HTTP or HTTPS ([`tls`]).
//!
//! Routes, top to bottom:
//! - `POST /v1/chat/completions`, `/v1/responses`, `/v1/embeddings`: the request path
//!   ([`crate::pipeline::handle`]) in OpenAI's wire format.
//! - `POST /openai/deployments/{deployment}/chat/completions` and `/embeddings`,
//!   `/openai/v1/chat/completions`, `/openai/v1/embeddings`, `/openai/v1/responses` and
//!   `/openai/responses`: Azure OpenAI's shapes, so `AzureOpenAI` clients work with only
//!   their endpoint changed. The path's deployment name is the requested model.
//! - `POST /v1/messages`: Anthropic's Messages API.
//! - `POST /v1beta/models/{model}:{method}` and `/v1/models/{model}:{method}` (the Gemini
//!   API), `/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}`
//!   and its `v1beta1` twin (Vertex AI; also without the project and location, as
//!   Vertex's express mode calls it): Google's format, so `google-genai` clients work
//!   with only their base URL changed. Methods `generateContent`,
//!   `streamGenerateContent` (server-sent events with `alt=sse`, else a JSON array),
//!   `embedContent`, `batchEmbedContents` and `countTokens` (the provider reads the
//!   prompt to count it, so it is inspected and decided like a generation); any other
//!   is a 404 in Google's shape. The
//!   project and location in the path route nothing: the catalog does.
//! - `POST /model/{modelId}/converse`, `/converse-stream`, `/invoke`,
//!   `/invoke-with-response-stream`: the AWS Bedrock runtime (boto3's
//!   `bedrock-runtime` client with `endpoint_url` set to Customs).
//! - `GET /v1/models` and `/v1/models/{model}`: the catalog, each entry with its
//!   provider, region, jurisdiction and certifications (authenticated like the API), in
//!   the asking SDK's shape: Anthropic's when `anthropic-version` is sent, Google's when
//!   `x-goog-api-key` is, else OpenAI's; `GET /v1beta/models` and `/v1beta/models/{model}`
//!   in Google's.
//! - `GET /healthz` (the process is up), `/readyz` (a policy set is loaded), `/metrics`
//!   (Prometheus text).
//! - anything else: 404 in OpenAI's error shape.
//!
//! The body limit is enforced by the pipeline's accept phase (so that a 413 is also a
//! recorded decision), which is why axum's own default limit is switched off here.

pub mod tls;

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::serve::{Listener, ListenerExt as _};
use serde_json::{Value, json};

use crate::error::GatewayError;
use crate::pipeline::{Gateway, handle};
use crate::policy::Deployment;
use crate::providers::{Api, Door, Endpoint, gemini};

/// The whole HTTP surface over one gateway.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        // The request path, one route per API operation.
        .route("/v1/chat/completions", fixed(Door::OpenAi, Api::OpenAiChat))
        .route("/v1/responses", fixed(Door::OpenAi, Api::OpenAiResponses))
        .route("/v1/embeddings", fixed(Door::OpenAi, Api::OpenAiEmbeddings))
        // Azure OpenAI's shapes.
        .route(
            "/openai/deployments/{deployment}/chat/completions",
            model_in_path(Door::OpenAi, Api::OpenAiChat, false),
        )
        .route(
            "/openai/deployments/{deployment}/embeddings",
            model_in_path(Door::OpenAi, Api::OpenAiEmbeddings, false),
        )
        .route(
            "/openai/v1/chat/completions",
            fixed(Door::OpenAi, Api::OpenAiChat),
        )
        .route(
            "/openai/v1/embeddings",
            fixed(Door::OpenAi, Api::OpenAiEmbeddings),
        )
        .route(
            "/openai/v1/responses",
            fixed(Door::OpenAi, Api::OpenAiResponses),
        )
        .route("/openai/responses", fixed(Door::OpenAi, Api::OpenAiResponses))
        // Anthropic's Messages API.
        .route("/v1/messages", fixed(Door::Anthropic, Api::AnthropicMessages))
        // The AWS Bedrock runtime.
        .route(
            "/model/{model_id}/converse",
            model_in_path(Door::Bedrock, Api::BedrockConverse, false),
        )
        .route(
            "/model/{model_id}/converse-stream",
            model_in_path(Door::Bedrock, Api::BedrockConverse, true),
        )
        .route(
            "/model/{model_id}/invoke",
            model_in_path(Door::Bedrock, Api::BedrockInvoke, false),
        )
        .route(
            "/model/{model_id}/invoke-with-response-stream",
            model_in_path(Door::Bedrock, Api::BedrockInvoke, true),
        )
        // Google's Gemini API and Vertex AI: `models/{model}:{method}`.
        .route(
            "/v1beta/models/{model_and_method}",
            post(google_models).get(google_model),
        )
        .route("/v1/models/{model_and_method}", post(google_models).get(model))
        .route(
            "/v1/projects/{project}/locations/{location}/publishers/google/models/{model_and_method}",
            post(google_models),
        )
        .route(
            "/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model_and_method}",
            post(google_models),
        )
        .route(
            "/v1/publishers/google/models/{model_and_method}",
            post(google_models),
        )
        .route(
            "/v1beta1/publishers/google/models/{model_and_method}",
            post(google_models),
        )
        // The catalog, for callers choosing a model.
        .route("/v1/models", get(models))
        .route("/v1beta/models", get(google_model_list))
        // Operations.
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // Unknown paths answer in the API's error shape.
        .fallback(not_found)
        // The accept phase enforces the body limit itself.
        .layer(DefaultBodyLimit::disable())
        .with_state(gateway)
}

/// A route whose endpoint is fixed: the body names the model.
fn fixed(door: Door, api: Api) -> MethodRouter<Arc<Gateway>> {
    post(
        move |State(gateway): State<Arc<Gateway>>, request: Request<Body>| async move {
            handle(gateway, Endpoint::new(door, api), request).await
        },
    )
}

/// A route whose path names the model (Azure's deployment, Bedrock's model id), and
/// whose path says whether a stream is wanted.
fn model_in_path(door: Door, api: Api, stream: bool) -> MethodRouter<Arc<Gateway>> {
    post(
        move |State(gateway): State<Arc<Gateway>>,
              Path(model): Path<String>,
              request: Request<Body>| async move {
            let endpoint = Endpoint {
                path_model: Some(model),
                path_stream: stream,
                ..Endpoint::new(door, api)
            };
            handle(gateway, endpoint, request).await
        },
    )
}

/// Google's `models/{model}:{method}` paths; the method says what the body is.
async fn google_models(
    State(gateway): State<Arc<Gateway>>,
    Path(params): Path<HashMap<String, String>>,
    mut request: Request<Body>,
) -> Response {
    let uri = request.uri().clone();
    query_key_as_header(uri.query(), request.headers_mut());
    let target = params.get("model_and_method").map_or("", String::as_str);
    match gemini::endpoint(target, request.uri().query()) {
        Some(endpoint) => handle(gateway, endpoint, request).await,
        None => GatewayError::not_found(
            "method_not_found",
            "Customs serves generateContent, streamGenerateContent, embedContent, batchEmbedContents, countTokens and (on Vertex, for text embeddings) predict.",
        )
        .into_response_for(Door::Google, ""),
    }
}

/// Which SDK family asks for the catalog. The paths are shared (`GET /v1/models` is
/// OpenAI's, Anthropic's and the Gemini API's v1), so the headers tell: Anthropic's SDK
/// always sends `anthropic-version`, Google's its `x-goog-api-key`.
fn catalog_door(headers: &HeaderMap) -> Door {
    if headers.contains_key("anthropic-version") {
        Door::Anthropic
    } else if headers.contains_key("x-goog-api-key") {
        Door::Google
    } else {
        Door::OpenAi
    }
}

/// `GET /v1/models`: the catalog in the asking SDK's list shape.
async fn models(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let door = catalog_door(&headers);
    catalog(&gateway, &headers, door, None).await
}

/// `GET /v1/models/{model}`: one catalog entry in the asking SDK's shape.
async fn model(
    State(gateway): State<Arc<Gateway>>,
    Path(model): Path<String>,
    headers: HeaderMap,
) -> Response {
    let door = catalog_door(&headers);
    catalog(&gateway, &headers, door, Some(model)).await
}

/// `GET /v1beta/models`: the Gemini API's model list.
async fn google_model_list(
    State(gateway): State<Arc<Gateway>>,
    uri: Uri,
    mut headers: HeaderMap,
) -> Response {
    query_key_as_header(uri.query(), &mut headers);
    catalog(&gateway, &headers, Door::Google, None).await
}

/// `GET /v1beta/models/{model}`: one Gemini API model.
async fn google_model(
    State(gateway): State<Arc<Gateway>>,
    Path(model): Path<String>,
    uri: Uri,
    mut headers: HeaderMap,
) -> Response {
    query_key_as_header(uri.query(), &mut headers);
    catalog(&gateway, &headers, Door::Google, Some(model)).await
}

/// The Gemini API also takes its key as the query parameter `key` (`curl
/// '...:generateContent?key=$KEY'`, and clients built on Google's REST examples). When
/// the caller sent no credential header, that key becomes its `x-goog-api-key`, so it
/// is verified like any other. It is never forwarded: upstream URLs are built from the
/// deployment, with Customs' own credential.
fn query_key_as_header(query: Option<&str>, headers: &mut HeaderMap) {
    if crate::pipeline::caller_credential(headers).is_some() {
        return;
    }
    let Some(key) = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(name, _)| name == "key")
            .map(|(_, value)| value.into_owned())
    }) else {
        return;
    };
    if let Ok(value) = header::HeaderValue::from_str(key.trim()) {
        headers.insert("x-goog-api-key", value);
    }
}

/// The catalog (or the entry `only` names), authenticated like the API, in `door`'s
/// shape. Each entry is a deployment or an alias with the facts a caller chooses by:
/// provider, region, jurisdiction, certifications.
async fn catalog(
    gateway: &Gateway,
    headers: &HeaderMap,
    door: Door,
    only: Option<String>,
) -> Response {
    let authorization = crate::pipeline::caller_credential(headers);
    if let Err(err) = gateway
        .authenticator()
        .authenticate(authorization.as_deref())
        .await
    {
        return crate::pipeline::auth_error(&err).into_response_for(door, "");
    }
    let Some(bundle) = gateway.bundle() else {
        return GatewayError::unavailable("policy_unavailable", "No policy set is loaded.")
            .into_response_for(door, "");
    };
    let catalog = bundle.catalog();
    let mut entries: Vec<(&str, Vec<&Deployment>)> = catalog
        .deployments()
        .map(|d| (d.id.as_str(), vec![&**d]))
        .collect();
    for (name, deployments) in catalog.aliases() {
        if !deployments.is_empty() {
            entries.push((name, deployments.iter().map(|d| &**d).collect()));
        }
    }
    let wanted = only
        .as_deref()
        .map(|m| m.strip_prefix("models/").unwrap_or(m));
    if let Some(wanted) = wanted {
        entries.retain(|(name, _)| *name == wanted);
        if entries.is_empty() {
            return GatewayError::not_found(
                "model_not_found",
                "There is no such model in the catalog.",
            )
            .into_response_for(door, "");
        }
    }
    let mut list: Vec<Value> = entries
        .iter()
        .map(|(name, deployments)| catalog_entry(door, name, deployments))
        .collect();
    if wanted.is_some() {
        return axum::Json(list.swap_remove(0)).into_response();
    }
    let body = match door {
        Door::Anthropic => json!({
            "data": list,
            "has_more": false,
            "first_id": entries.first().map(|(name, _)| *name),
            "last_id": entries.last().map(|(name, _)| *name),
        }),
        Door::Google => json!({"models": list}),
        Door::OpenAi | Door::Bedrock => json!({"object": "list", "data": list}),
    };
    axum::Json(body).into_response()
}

/// One catalog entry: the SDK's own fields, then Customs' facts.
fn catalog_entry(door: Door, name: &str, deployments: &[&Deployment]) -> Value {
    let first = deployments[0];
    let mut entry = match door {
        Door::Anthropic => json!({
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": "1970-01-01T00:00:00Z",
        }),
        Door::Google => json!({
            "name": format!("models/{name}"),
            "baseModelId": name,
            "version": first.model,
            "displayName": name,
            "description": first.description.clone().unwrap_or_default(),
            "supportedGenerationMethods": [
                "generateContent", "streamGenerateContent", "embedContent", "batchEmbedContents",
                "countTokens"
            ],
        }),
        Door::OpenAi | Door::Bedrock => json!({
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": first.provider.as_str(),
        }),
    };
    entry["provider"] = json!(first.provider.as_str());
    entry["region"] = json!(first.region);
    entry["jurisdiction"] = json!(first.jurisdiction);
    entry["certifications"] = json!(first.certifications);
    entry["deployments"] = deployments.iter().map(|d| deployment_facts(d)).collect();
    entry
}

fn deployment_facts(d: &Deployment) -> Value {
    json!({
        "id": d.id,
        "provider": d.provider.as_str(),
        "model": d.model,
        "region": d.region,
        "jurisdiction": d.jurisdiction,
        "certifications": d.certifications,
        "retention_days": d.retention_days,
        "trains_on_data": d.trains_on_data,
    })
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(gateway): State<Arc<Gateway>>) -> Response {
    match gateway.bundle() {
        Some(bundle) => axum::Json(json!({
            "status": "ready",
            "policy_version": bundle.version(),
            "policy_commit": bundle.commit(),
            "policy_origin": bundle.origin(),
            "policies": bundle.policy_count(),
            "shadow_policy_version": gateway.shadow_bundle().map(|b| b.version().to_owned()),
            "last_policy_change": gateway.recorder().policy_changes().last(),
        }))
        .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "no policy set"})),
        )
            .into_response(),
    }
}

async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        gateway.metrics().encode(),
    )
        .into_response()
}

async fn not_found() -> Response {
    let mut err = GatewayError::bad_request("not_found", "There is no such endpoint on Customs.")
        .into_response_with("");
    *err.status_mut() = StatusCode::NOT_FOUND;
    err
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
/// `grace`. What is still in flight then is cut short ([`Gateway::cut_short`]): each
/// request answers 503 `server_shutdown` and each provider stream breaks off, recording its
/// event, and the connections get [`CUT_SHORT_WAIT`] to close. Either way it then waits
/// until every request and stream has written its records ([`Gateway::settled`]; after
/// a cut, within the same [`CUT_SHORT_WAIT`]) before it returns, so that the caller can
/// seal the durable audit log after the last record.
/// `listener` is a [`tokio::net::TcpListener`] for plain HTTP or a [`tls::TlsListener`]
/// for HTTPS; either way the pipeline gets the client's address.
pub async fn serve<L>(
    listener: L,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()>
where
    L: Listener<Addr = SocketAddr>,
{
    // axum provides `ConnectInfo<SocketAddr>` for its TCP listener and for any listener
    // wrapped in `tap_io`; the no-op tap gives the TLS listener the same path.
    let listener = listener.tap_io(|_| {});
    let app = router(Arc::clone(&gateway)).into_make_service_with_connect_info::<SocketAddr>();
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = signalled_tx.send(());
    });
    let deadline = async move {
        if signalled_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let mut server = std::pin::pin!(server.into_future());
    // One deadline for the connections and the records after a cut: a stop takes at
    // most the grace period plus CUT_SHORT_WAIT here.
    let mut settle_by = None;
    let served = tokio::select! {
        result = &mut server => result.map_err(anyhow::Error::from),
        () = deadline => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "shutdown grace period over; cutting the requests and streams still in flight short"
            );
            gateway.cut_short();
            let until = tokio::time::Instant::now() + CUT_SHORT_WAIT;
            settle_by = Some(until);
            match tokio::time::timeout_at(until, &mut server).await {
                Ok(result) => result.map_err(anyhow::Error::from),
                Err(_) => {
                    // A caller that stops reading keeps its stream from noticing the
                    // cut; the gateway records its end below.
                    tracing::warn!(
                        wait_secs = CUT_SHORT_WAIT.as_secs(),
                        "connections still open after being cut short (callers not reading); stopping without them"
                    );
                    Ok(())
                }
            }
        }
    };
    // Connections closed is not quite records written: an HTTP/2 request runs on a
    // task of its own, and a request's event is recorded on one. Wait for those too,
    // telling anything still running to stop.
    gateway.cut_short();
    let settle_by = settle_by.unwrap_or_else(|| tokio::time::Instant::now() + CUT_SHORT_WAIT);
    if tokio::time::timeout_at(settle_by, gateway.settled())
        .await
        .is_err()
    {
        // Streams whose callers stopped reading never saw the cut: their ends are
        // recorded here, while the durable log still takes them.
        let ended = gateway.end_open_streams();
        if ended > 0 {
            tracing::warn!(
                streams = ended,
                "streams still open recorded as ended by the shutdown"
            );
        }
        // A stream that recorded its own end just before has its write in progress.
        let _ = tokio::time::timeout(END_WRITES_WAIT, gateway.settled()).await;
        let unsettled = gateway.unsettled();
        if unsettled > 0 {
            tracing::warn!(
                unsettled,
                "requests still have records to write; stopping without them"
            );
        }
    }
    served
}

/// How long connections cut short at the end of a shutdown's grace period get to send
/// their 503 or broken stream and close.
pub const CUT_SHORT_WAIT: Duration = Duration::from_secs(5);

/// How long the writes of stream ends already under way get once the ends of the
/// streams still open are recorded.
const END_WRITES_WAIT: Duration = Duration::from_millis(200);
