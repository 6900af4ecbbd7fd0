//! accept: the HTTP front door, assembled in one function ([`router`]), and the
//! listener with graceful shutdown ([`serve`]).
//!
//! Routes, top to bottom:
//! - `POST /v1/chat/completions`, `/v1/responses`, `/v1/embeddings`: the request path
//!   ([`crate::pipeline::handle`]).
//! - `GET /v1/models`: the catalog in OpenAI's list shape, each entry with its provider,
//!   region, jurisdiction and certifications (authenticated like the API).
//! - `GET /healthz` (the process is up), `/readyz` (a policy set is loaded), `/metrics`
//!   (Prometheus text).
//! - anything else: 404 in OpenAI's error shape.
//!
//! The body limit is enforced by the pipeline's accept phase (so that a 413 is also a
//! recorded decision), which is why axum's own default limit is switched off here.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::error::GatewayError;
use crate::pipeline::{Gateway, handle};
use crate::policy::{Deployment, Operation};

/// The whole HTTP surface over one gateway.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        // The request path, one route per API operation.
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses))
        .route("/v1/embeddings", post(embeddings))
        // The catalog, for callers choosing a model.
        .route("/v1/models", get(models))
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

async fn chat_completions(State(gateway): State<Arc<Gateway>>, request: Request<Body>) -> Response {
    handle(gateway, Operation::Chat, request).await
}

async fn responses(State(gateway): State<Arc<Gateway>>, request: Request<Body>) -> Response {
    handle(gateway, Operation::Responses, request).await
}

async fn embeddings(State(gateway): State<Arc<Gateway>>, request: Request<Body>) -> Response {
    handle(gateway, Operation::Embeddings, request).await
}

async fn models(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(err) = gateway.authenticator().authenticate(authorization).await {
        return crate::pipeline::auth_error(&err).into_response_with("");
    }
    let Some(bundle) = gateway.bundle() else {
        return GatewayError::unavailable("policy_unavailable", "No policy set is loaded.")
            .into_response_with("");
    };
    let catalog = bundle.catalog();
    let mut data: Vec<Value> = Vec::new();
    for deployment in catalog.deployments() {
        let mut entry = model_entry(&deployment.id, deployment);
        entry["deployments"] = json!([deployment_facts(deployment)]);
        data.push(entry);
    }
    for (name, deployments) in catalog.aliases() {
        if let Some(first) = deployments.first() {
            let mut entry = model_entry(name, first);
            entry["deployments"] = deployments.iter().map(|d| deployment_facts(d)).collect();
            data.push(entry);
        }
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

fn model_entry(id: &str, d: &Deployment) -> Value {
    json!({
        "id": id,
        "object": "model",
        "created": 0,
        "owned_by": d.provider.as_str(),
        "provider": d.provider.as_str(),
        "region": d.region,
        "jurisdiction": d.jurisdiction,
        "certifications": d.certifications,
    })
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
/// `grace` before returning.
pub async fn serve(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> anyhow::Result<()> {
    let app = router(gateway).into_make_service_with_connect_info::<SocketAddr>();
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
    tokio::select! {
        result = server => result.map_err(anyhow::Error::from),
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "shutdown grace period over; closing remaining connections");
            Ok(())
        }
    }
}
