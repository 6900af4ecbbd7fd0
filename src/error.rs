//! Errors that end a request, each carrying who caused it and mapping to exactly one
//! HTTP status and one body in the caller's API format, here OpenAI's
//! `{"error":{"message","type","param","code", ...}}`.
//!
//! A message is written for the caller and never carries prompt text, finding values,
//! tokens or claim values: the pipeline builds messages from codes and names only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::providers::Door;

/// Who caused a failure. Decides the status family and whether a retry may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The request is malformed, too large, too slow, or names nothing we know.
    Client,
    /// The caller is not authenticated.
    Authentication,
    /// A policy refused the request.
    Policy,
    /// The upstream provider failed or timed out.
    Upstream,
    /// Customs itself failed (scanner error, policy evaluation error): fail closed.
    Internal,
}

/// A request-ending error.
#[derive(Debug, Clone)]
pub struct GatewayError {
    cause: Cause,
    status: StatusCode,
    code: &'static str,
    message: String,
    policy_ids: Vec<String>,
    www_authenticate: Option<String>,
}

/// The code of [`GatewayError::client_closed`].
const CLIENT_CLOSED: &str = "client_closed_request";
/// The code of [`GatewayError::server_shutdown`].
const SERVER_SHUTDOWN: &str = "server_shutdown";
/// The code of [`GatewayError::overloaded`].
const OVERLOADED: &str = "overloaded";

impl GatewayError {
    fn new(
        cause: Cause,
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        GatewayError {
            cause,
            status,
            code,
            message: message.into(),
            policy_ids: Vec::new(),
            www_authenticate: None,
        }
    }

    /// 400: the body is not what the API expects.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Cause::Client, StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: the requested model is not in the catalog.
    pub fn model_not_found(model: &str) -> Self {
        // The model name is the caller's own input and carries no prompt text; it is
        // still cut short so an error body cannot be used to echo large strings.
        let shown: String = model.chars().take(64).collect();
        Self::new(
            Cause::Client,
            StatusCode::NOT_FOUND,
            "model_not_found",
            format!("The model `{shown}` does not exist in the Customs catalog."),
        )
    }

    /// 404: there is no such endpoint or method.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Cause::Client, StatusCode::NOT_FOUND, code, message)
    }

    /// 413: the body exceeds the configured limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            Cause::Client,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    /// 408: the body did not arrive in time.
    pub fn body_timeout() -> Self {
        Self::new(
            Cause::Client,
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "The request body did not arrive in time.",
        )
    }

    /// 401 with a `WWW-Authenticate` challenge.
    pub fn unauthenticated(code: &'static str, description: &str, challenge: String) -> Self {
        let mut err = Self::new(
            Cause::Authentication,
            StatusCode::UNAUTHORIZED,
            code,
            format!("Authentication failed: {description}."),
        );
        err.www_authenticate = Some(challenge);
        err
    }

    /// 403: refused by policy, naming the determining policies.
    pub fn policy_violation(code: &'static str, message: String, policy_ids: Vec<String>) -> Self {
        let mut err = Self::new(Cause::Policy, StatusCode::FORBIDDEN, code, message);
        err.policy_ids = policy_ids;
        err
    }

    /// 502: the upstream could not be reached or answered badly.
    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Cause::Upstream, StatusCode::BAD_GATEWAY, code, message)
    }

    /// 504: the upstream did not answer in time.
    pub fn gateway_timeout() -> Self {
        Self::new(
            Cause::Upstream,
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            "The upstream provider did not answer in time.",
        )
    }

    /// 499 (nginx's "client closed request"): the caller closed the connection before
    /// the answer. Never sent, since nobody is there to read it; recorded.
    pub fn client_closed() -> Self {
        Self::new(
            Cause::Client,
            StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            CLIENT_CLOSED,
            "The client closed the connection before the answer.",
        )
    }

    /// 503: Customs is shutting down, its grace period for requests in flight is over,
    /// and it stopped this one before the answer (the request may have reached the
    /// provider). Another instance can take a retry.
    pub fn server_shutdown() -> Self {
        Self::new(
            Cause::Internal,
            StatusCode::SERVICE_UNAVAILABLE,
            SERVER_SHUTDOWN,
            "Customs is shutting down and stopped this request before its answer. Retry it.",
        )
    }

    /// 503: Customs is handling `[server] max_concurrent_requests` requests already and
    /// refused this one without reading it. Retrying later is safe.
    pub fn overloaded() -> Self {
        Self::new(
            Cause::Internal,
            StatusCode::SERVICE_UNAVAILABLE,
            OVERLOADED,
            "Customs is handling as many requests as it is configured to; retry shortly.",
        )
    }

    /// Whether the request was refused because too many were in flight.
    pub fn is_overloaded(&self) -> bool {
        self.code == OVERLOADED
    }

    /// Whether the request was stopped before its answer without a fault of its own:
    /// the caller closed the connection, or Customs shut down.
    pub fn is_cut_short(&self) -> bool {
        self.code == CLIENT_CLOSED || self.code == SERVER_SHUTDOWN
    }

    /// 500: Customs failed and refused the request rather than let it through.
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Cause::Internal,
            StatusCode::INTERNAL_SERVER_ERROR,
            code,
            message,
        )
    }

    /// 503: Customs is not ready (no policy set loaded).
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(
            Cause::Internal,
            StatusCode::SERVICE_UNAVAILABLE,
            code,
            message,
        )
    }

    /// Who caused it.
    pub fn cause(&self) -> Cause {
        self.cause
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The caller-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The determining policy ids (403 only).
    pub fn policy_ids(&self) -> &[String] {
        &self.policy_ids
    }

    /// OpenAI's error `type` for this failure.
    pub fn openai_type(&self) -> &'static str {
        match self.cause {
            Cause::Client => "invalid_request_error",
            Cause::Authentication => "authentication_error",
            Cause::Policy => "policy_violation",
            Cause::Upstream => "upstream_error",
            Cause::Internal => "server_error",
        }
    }

    /// The response in the error shape of the SDK family that called (`door`),
    /// carrying the decision id and, for a deny, the determining policies.
    pub fn into_response_for(self, door: Door, decision_id: &str) -> Response {
        match door {
            Door::OpenAi => self.into_response_with(decision_id),
            Door::Anthropic => self.anthropic_response(decision_id),
            Door::Bedrock => self.bedrock_response(decision_id),
            Door::Google => self.google_response(decision_id),
        }
    }

    /// Google's `{"error":{"code","message","status","details"}}` (a `google.rpc.Status`),
    /// the Customs code as the reason of a `google.rpc.ErrorInfo`.
    fn google_response(self, decision_id: &str) -> Response {
        let status = match self.status.as_u16() {
            400 | 413 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            408 | 504 => "DEADLINE_EXCEEDED",
            429 => "RESOURCE_EXHAUSTED",
            502 | 503 => "UNAVAILABLE",
            _ => "INTERNAL",
        };
        let mut body = json!({
            "error": {
                "code": self.status.as_u16(),
                "message": self.message,
                "status": status,
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.code,
                    "domain": "customs",
                    "metadata": {"decision_id": decision_id},
                }],
                "decision_id": decision_id,
            }
        });
        if self.cause == Cause::Policy {
            body["error"]["policy_ids"] = json!(self.policy_ids);
        }
        self.finish(body)
    }

    /// AWS's JSON protocol error: the exception name in `x-amzn-ErrorType` (and
    /// `__type`), the text in `message`.
    fn bedrock_response(self, decision_id: &str) -> Response {
        let error_type = match self.status.as_u16() {
            400 | 413 => "ValidationException",
            401 => "UnrecognizedClientException",
            403 => "AccessDeniedException",
            404 => "ResourceNotFoundException",
            408 | 504 => "ModelTimeoutException",
            429 => "ThrottlingException",
            502 => "ModelErrorException",
            503 => "ServiceUnavailableException",
            _ => "InternalServerException",
        };
        let mut body = json!({
            "__type": error_type,
            "message": self.message,
            "code": self.code,
            "decision_id": decision_id,
        });
        if self.cause == Cause::Policy {
            body["policy_ids"] = json!(self.policy_ids);
        }
        let mut response = self.finish(body);
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
        response
    }

    /// Anthropic's `{"type":"error","error":{"type","message"}}`.
    fn anthropic_response(self, decision_id: &str) -> Response {
        let error_type = match self.status.as_u16() {
            400 | 408 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 => "overloaded_error",
            _ => "api_error",
        };
        let mut body = json!({
            "type": "error",
            "error": {
                "type": error_type,
                "message": self.message,
                "code": self.code,
                "decision_id": decision_id,
            }
        });
        if self.cause == Cause::Policy {
            body["error"]["policy_ids"] = json!(self.policy_ids);
        }
        self.finish(body)
    }

    /// The status, the JSON body and the authentication challenge.
    fn finish(self, body: serde_json::Value) -> Response {
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(challenge) = self.www_authenticate
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    /// The response in OpenAI's error shape, carrying the decision id.
    pub fn into_response_with(self, decision_id: &str) -> Response {
        let mut body = json!({
            "error": {
                "message": self.message,
                "type": self.openai_type(),
                "param": null,
                "code": self.code,
                "decision_id": decision_id,
            }
        });
        if self.cause == Cause::Policy {
            body["error"]["policy_ids"] = json!(self.policy_ids);
        }
        self.finish(body)
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for GatewayError {}
