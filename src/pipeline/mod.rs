//! The request path: the phases of one request, in order, over one [`RequestContext`].
//!
//! ```text
//! accept → authenticate → parse → inspect → decide → redact → forward → record
//! ```
//!
//! Each phase is one function below, named after it. [`handle`] runs them and records
//! exactly one decision event whatever happens; [`Gateway`] is the state they share. The
//! policy bundle is taken once at the start, so a request finishes on the policy set it
//! started with.
//!
//! `authenticate` runs on the headers before the body is read: an unauthenticated caller
//! cannot make Customs buffer a body.

mod context;
mod convert;
mod restore;
mod scanning;

use anyhow::Context as _;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use serde_json::Value;

pub use context::RequestContext;
use convert::Conversion;

use crate::audit::log::{AuditLog, forward};
use crate::audit::{Fingerprinter, Recorder};
use crate::config::Config;
use crate::error::GatewayError;
use crate::identity::{Authenticator, Principal};
use crate::metrics::Metrics;
use crate::policy::catalog::check_base_url;
use crate::policy::reload::{ReloadOutcome, Reloader};
use crate::policy::{Bundle, DecideInput, Decision, PolicySource, ProviderKind, Route};
use crate::providers::openai_api::{self, RequestFacts};
use crate::providers::{self, Endpoint, echo, upstream::Upstreams};
use crate::scan::Finding;
use crate::scan::redact::Redactor;
use crate::scan::strategy::{RedactionRules, strategy_name};

/// Response header carrying the decision id.
pub const DECISION_ID_HEADER: &str = "x-customs-decision-id";
/// What the decision event records for a requested model that is not in the catalog.
pub const UNKNOWN_MODEL: &str = "(not in catalog)";

/// Response header naming the deployment a request was routed to.
pub const DEPLOYMENT_HEADER: &str = "x-customs-deployment";

/// The state every request shares.
#[derive(Debug)]
pub struct Gateway {
    config: Config,
    authenticator: Authenticator,
    bundle: RwLock<Arc<Bundle>>,
    /// Shadow mode: a candidate set decided beside the enforced one, never acted on.
    shadow: Option<RwLock<Arc<Bundle>>>,
    reloader: Option<Reloader>,
    shadow_reloader: Option<Reloader>,
    upstreams: Upstreams,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    fingerprinter: Fingerprinter,
    /// `[redaction]`: the strategy per class.
    redaction: RedactionRules,
    /// Slots for the parse and scan of large bodies, which run off the async workers.
    scan_slots: Arc<tokio::sync::Semaphore>,
    /// Set when a shutdown's grace period is over: requests and streams still in
    /// flight stop where they stand ([`Gateway::cut_short`]).
    cut: tokio::sync::watch::Sender<bool>,
    /// Requests and streams whose records are not all written yet.
    in_flight: Arc<InFlight>,
    /// The streams open, for recording the end of those a shutdown cannot break off.
    open_streams: Arc<restore::OpenStreams>,
    /// `[server] max_concurrent_requests` slots; none when unlimited.
    admission: Option<Arc<tokio::sync::Semaphore>>,
}

impl Gateway {
    /// Loads the policy bundle, prepares the verifier and the upstream client. Refuses
    /// to build on an invalid policy bundle or configuration, and on `[redaction]` rules
    /// that use `hash` or `fake` when the fingerprinter has no configured secret
    /// (`CUSTOMS_HMAC_KEY`): fail closed rather than tokens that change on restart.
    pub async fn build(
        config: Config,
        recorder: Recorder,
        metrics: Arc<Metrics>,
        fingerprinter: Fingerprinter,
    ) -> anyhow::Result<Gateway> {
        let source = match &config.policy.dir {
            Some(dir) => PolicySource::from_dir(dir)?,
            None => PolicySource::bundled(),
        };
        let bundle = Bundle::load(&source)?;
        let shadow = match &config.policy.shadow_dir {
            Some(dir) => Some(
                Bundle::load(&PolicySource::from_dir(dir)?)
                    .map_err(|e| anyhow::anyhow!("[policy] shadow_dir {}: {e}", dir.display()))?,
            ),
            None => None,
        };
        let redaction = redaction_rules(&config, &bundle, &fingerprinter)?;
        for (id, url) in &config.upstream.base_urls {
            check_base_url(url).map_err(|e| anyhow::anyhow!("[upstream.base_urls] {id}: {e}"))?;
        }
        let authenticator = Authenticator::new(&config.auth).await?;
        let upstreams = Upstreams::new(&config.server, &config.upstream)?;
        // record: the durable log, and its forwarder when an OTLP endpoint is known.
        let recorder = match AuditLog::open(&config.audit)? {
            Some(log) => {
                if let Some(target) = forward::Target::resolve(&config.audit.forward) {
                    log.start_forwarder(target, &config.telemetry.service_name)
                        .context("[audit.forward]")?;
                }
                recorder.with_durable_log(Arc::new(log))
            }
            None => recorder,
        };
        let slots = config.server.max_concurrent_requests;
        let admission = (slots > 0).then(|| {
            Arc::new(tokio::sync::Semaphore::new(
                slots.min(tokio::sync::Semaphore::MAX_PERMITS),
            ))
        });
        Ok(Gateway {
            reloader: config.policy.dir.as_deref().map(Reloader::new),
            shadow_reloader: config.policy.shadow_dir.as_deref().map(Reloader::new),
            shadow: shadow.map(|b| RwLock::new(Arc::new(b))),
            config,
            authenticator,
            bundle: RwLock::new(Arc::new(bundle)),
            upstreams,
            recorder,
            metrics,
            fingerprinter,
            redaction,
            scan_slots: scanning::scan_slots(),
            cut: tokio::sync::watch::channel(false).0,
            in_flight: Arc::default(),
            open_streams: Arc::default(),
            admission,
        })
    }

    /// Resolves once every request and stream has written its records (the decision
    /// event; a stream's end): for a shutdown, before the durable log is sealed. A
    /// request still running keeps it waiting; bound it with a timeout.
    pub async fn settled(&self) {
        self.in_flight.settled().await;
    }

    /// How many requests and streams have records still to write.
    pub fn unsettled(&self) -> usize {
        self.in_flight.count.load(Ordering::SeqCst)
    }

    /// Stops every request and stream still in flight, for the end of a shutdown's
    /// grace period: a request answers 503 `server_shutdown` in its API's format and a
    /// stream breaks off, and each records its event while the durable log still takes
    /// it. Requests that arrive afterwards are stopped the same way at once.
    pub fn cut_short(&self) {
        self.cut.send_replace(true);
    }

    /// Records the end of every stream still open as `server_shutdown`, with the
    /// usage read so far, for the end of a shutdown: a stream whose caller has stopped
    /// reading cannot notice [`Gateway::cut_short`], and would otherwise record its end
    /// only when the runtime drops it, after the durable log is sealed. A stream that
    /// starts afterwards ends at once. Returns how many ends were recorded.
    pub fn end_open_streams(&self) -> usize {
        self.open_streams.end_all()
    }

    /// A watch on [`Gateway::cut_short`], for [`cut_signal`].
    pub(crate) fn cut_watch(&self) -> tokio::sync::watch::Receiver<bool> {
        self.cut.subscribe()
    }

    /// The policy bundle in force.
    pub fn bundle(&self) -> Option<Arc<Bundle>> {
        self.bundle.read().ok().map(|b| Arc::clone(&b))
    }

    /// The shadow (candidate) bundle, when shadow mode is on.
    pub fn shadow_bundle(&self) -> Option<Arc<Bundle>> {
        let slot = self.shadow.as_ref()?;
        slot.read().ok().map(|b| Arc::clone(&b))
    }

    /// Reloads the policy directory (and the shadow directory): a changed set is
    /// validated in full and swapped in, an invalid one stays out and the last good one
    /// keeps serving. Every applied or newly rejected set is recorded as a policy change
    /// event. Blocking (reads files, compiles policies): call it off the async workers.
    pub fn reload_policies(&self, trigger: &str) -> Vec<ReloadOutcome> {
        let mut outcomes = Vec::new();
        let sets = [
            ("enforced", self.reloader.as_ref(), Some(&self.bundle)),
            (
                "shadow",
                self.shadow_reloader.as_ref(),
                self.shadow.as_ref(),
            ),
        ];
        for (set, reloader, slot) in sets {
            let (Some(reloader), Some(slot)) = (reloader, slot) else {
                continue;
            };
            // A set whose classifiers would meet the [redaction] rules ambiguously (a
            // new class named by one rule and its entity by another) stays out, as it
            // would have stopped `serve` at start.
            let outcome = reloader.reload_checked(slot, |bundle| {
                self.redaction
                    .check_classes(&bundle.scanner().classes())
                    .0
                    .into_iter()
                    .map(|e| format!("[redaction]: {e}"))
                    .collect()
            });
            let event = |outcome: &'static str| crate::audit::PolicyChangeEvent {
                event: "policy_change",
                timestamp: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                outcome,
                set,
                trigger: trigger.to_owned(),
                origin: reloader.dir().display().to_string(),
                previous_version: String::new(),
                version: String::new(),
                candidate_version: None,
                commit: None,
                errors: Vec::new(),
            };
            match &outcome {
                ReloadOutcome::Unchanged { .. } => {}
                ReloadOutcome::Applied {
                    previous,
                    version,
                    commit,
                    ..
                } => {
                    self.recorder
                        .record_policy_change(crate::audit::PolicyChangeEvent {
                            previous_version: previous.clone(),
                            version: version.clone(),
                            candidate_version: Some(version.clone()),
                            commit: commit.clone(),
                            ..event("applied")
                        });
                    // New classifiers may leave a [redaction] rule naming nothing.
                    if set == "enforced"
                        && let Ok(bundle) = slot.read()
                    {
                        let (_, warnings) =
                            self.redaction.check_classes(&bundle.scanner().classes());
                        for message in &warnings {
                            tracing::warn!(policy_version = %version, "[redaction] {message}");
                        }
                    }
                }
                ReloadOutcome::Rejected {
                    kept,
                    candidate,
                    commit,
                    errors,
                    repeated,
                } => {
                    if !repeated {
                        self.recorder
                            .record_policy_change(crate::audit::PolicyChangeEvent {
                                previous_version: kept.clone(),
                                version: kept.clone(),
                                candidate_version: candidate.clone(),
                                commit: commit.clone(),
                                errors: errors.clone(),
                                ..event("rejected")
                            });
                    }
                }
            }
            outcomes.push(outcome);
        }
        outcomes
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// The token verifier.
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }
}

/// Runs one request through every phase and records its decision event.
pub async fn handle(gateway: Arc<Gateway>, endpoint: Endpoint, request: Request<Body>) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string());
    let mut ctx = RequestContext::new(endpoint.api, client);
    ctx.trace_parent = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(context::parse_traceparent);
    // Until the event is recorded below, dropping this future (the caller closed the
    // connection: the server drops the request's future) records it as closed.
    let mut pending = PendingEvent {
        gateway: Arc::clone(&gateway),
        ctx: Some(ctx),
        held: Some(gateway.in_flight.hold()),
    };
    let Some(ctx) = pending.ctx.as_mut() else {
        return GatewayError::internal("no_context", "The request could not be handled.")
            .into_response_for(endpoint.door, "");
    };
    // A full durable log with `when_full = "refuse"` refuses before anything is read.
    // At the end of a shutdown's grace period the request stops where it stands.
    let mut cut = gateway.cut_watch();
    // A slot for the request until its answer's head is returned; none left: refused
    // before anything is read.
    let admitted = gateway
        .admission
        .as_ref()
        .map(|slots| Arc::clone(slots).try_acquire_owned());
    let _counted = match &admitted {
        Some(Err(_)) => {
            gateway.metrics.count_overloaded();
            None
        }
        _ => Some(gateway.metrics.request_started()),
    };
    let result = match (gateway.recorder.refusing(), &admitted) {
        (Some(_), _) => Err(audit_unavailable()),
        (None, Some(Err(_))) => Err(GatewayError::overloaded()),
        (None, _) => tokio::select! {
            result = run(&gateway, ctx, &endpoint, request) => result,
            () = cut_signal(&mut cut) => {
                // The phase it was stopped in ends here.
                ctx.phase_done("cut");
                Err(GatewayError::server_shutdown())
            }
        },
    };
    let decision_id = ctx.decision_id.clone();
    let (mut response, error) = match result {
        Ok(response) => (response, None),
        Err(err) => {
            let mut response = err.clone().into_response_for(endpoint.door, &decision_id);
            if err.is_overloaded() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            (response, Some(err))
        }
    };
    if let Ok(value) = HeaderValue::from_str(&decision_id) {
        response.headers_mut().insert(DECISION_ID_HEADER, value);
    }
    if error.is_none()
        && let Some(deployment) = &ctx.deployment
        && let Ok(value) = HeaderValue::from_str(&deployment.id)
    {
        response.headers_mut().insert(DEPLOYMENT_HEADER, value);
    }
    ctx.phase_done("record");
    let status = response.status().as_u16();
    let Some(ctx) = pending.ctx.take() else {
        return response;
    };
    // The event is durable before the response leaves; if it cannot be, fail closed.
    // Recorded on a task of its own: if the caller goes away while the log syncs, the
    // event is still logged, exported and counted.
    // The response goes along: a streamed answer whose caller leaves records how it
    // ended when its body is dropped, which must come after the decision event.
    let recorder = gateway.recorder.clone();
    let event = ctx.into_event(status, error.as_ref());
    let held = pending.held.take();
    let recorded = tokio::spawn(async move {
        let recorded = recorder.record(event).await;
        drop(held);
        (recorded, response)
    });
    match recorded.await {
        Ok((Ok(()), response)) => response,
        Ok((Err(_), _)) => audit_unavailable().into_response_for(endpoint.door, &decision_id),
        Err(err) => {
            tracing::error!(decision_id = %decision_id, error = %err, "recording the decision event failed");
            audit_unavailable().into_response_for(endpoint.door, &decision_id)
        }
    }
}

/// A request whose decision event is not recorded yet. Dropped so (the caller closed the
/// connection and the server dropped the request's future: while Customs scanned, or
/// waited on the provider), it records the event as it stands with status 499 and code
/// `client_closed_request`, without waiting since a drop cannot (the durable log takes it
/// at once or queues it): a request that was allowed, and may have left, is not missing
/// from the audit trail, even when the server drops it at the end of a shutdown's grace
/// period (then the sealed log refuses it, and the refusal is logged and counted, next
/// to the event's own log line). Dropped while a panic unwinds, it records a 500
/// `internal_panic` instead. (A caller that hangs up while still sending the body is
/// recorded by the normal path, with the same status and code, since the server hands
/// the body's error to the request first.)
struct PendingEvent {
    gateway: Arc<Gateway>,
    ctx: Option<RequestContext>,
    /// Counts the request as in flight until its event is recorded: dropped after
    /// [`Drop::drop`] has recorded it.
    held: Option<Held>,
}

impl Drop for PendingEvent {
    fn drop(&mut self) {
        let Some(mut ctx) = self.ctx.take() else {
            return;
        };
        // The phase it was dropped in ends here.
        ctx.phase_done("closed");
        // Dropped while unwinding: the request's own code panicked, and the caller got
        // a broken connection. That is Customs failing, not the caller leaving.
        let error = if std::thread::panicking() {
            GatewayError::internal("internal_panic", "The request could not be handled.")
        } else {
            GatewayError::client_closed()
        };
        let event = ctx.into_event(error.status().as_u16(), Some(&error));
        self.gateway.recorder.record_unawaited(event);
    }
}

/// A count of requests and streams with records still to write, and a wake-up for when
/// it reaches zero.
#[derive(Debug, Default)]
struct InFlight {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl InFlight {
    fn hold(self: &Arc<Self>) -> Held {
        self.count.fetch_add(1, Ordering::SeqCst);
        Held(Arc::clone(self))
    }

    async fn settled(&self) {
        loop {
            // Registered before the count is read, so a release in between still wakes
            // this.
            let idle = self.idle.notified();
            let mut idle = std::pin::pin!(idle);
            idle.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// One request or stream counted in [`InFlight`] until dropped.
pub(crate) struct Held(Arc<InFlight>);

impl Drop for Held {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Resolves once the gateway is cut short ([`Gateway::cut_short`]); never, if the
/// gateway is gone.
pub(crate) async fn cut_signal(watch: &mut tokio::sync::watch::Receiver<bool>) {
    if watch.wait_for(|cut| *cut).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// 503 when the durable audit log cannot take the request's event (`when_full = "refuse"`).
fn audit_unavailable() -> GatewayError {
    GatewayError::unavailable(
        "audit_log_unavailable",
        "The audit log cannot record this request, so it was refused.",
    )
}

async fn run(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    endpoint: &Endpoint,
    request: Request<Body>,
) -> Result<Response, GatewayError> {
    let (parts, body) = request.into_parts();
    let bundle = gateway.bundle().ok_or_else(|| {
        GatewayError::unavailable("policy_unavailable", "No policy set is loaded.")
    })?;
    ctx.policy_version = Some(bundle.version().to_owned());
    ctx.policy_commit = bundle.commit().map(str::to_owned);
    let shadow = gateway.shadow_bundle();

    let principal = authenticate(gateway, ctx, &parts.headers).await?;
    let bytes = accept(gateway, ctx, &parts.headers, body).await?;
    let (mut body, facts) = parse(gateway, ctx, endpoint, bytes).await?;
    let findings = inspect(gateway, ctx, &bundle, &mut body).await?;
    let route = decide(
        ctx,
        &bundle,
        shadow.as_deref(),
        &principal,
        &facts,
        &findings,
    )?;
    let (mut outgoing, redactor) = redact_segments(gateway, ctx, &route, &mut body, &findings)?;
    // A request the deployment's provider does not speak natively goes out converted
    // (OpenAI chat → the provider's chat API; Anthropic → Claude on Bedrock) and its
    // answer comes back in the caller's API.
    let upstream_api = ctx
        .api
        .upstream_api(route.deployment.provider)
        .unwrap_or(ctx.api);
    let conversion = Conversion::between(ctx.api, upstream_api);
    let mut upstream_endpoint = endpoint.clone();
    if let Some((converted, bytes)) = convert::request(
        conversion,
        endpoint,
        upstream_api,
        facts.stream,
        &mut body,
        &route.deployment.model,
    )? {
        upstream_endpoint = converted;
        outgoing = bytes;
        ctx.upstream_api = Some(upstream_api);
    }
    let response = forward(
        gateway,
        ctx,
        &route,
        &upstream_endpoint,
        &parts.headers,
        &body,
        outgoing,
    )
    .await?;
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let response = convert::response(
        conversion,
        response,
        facts.stream,
        &format!("chatcmpl-{}", ctx.decision_id),
        &route.deployment.model,
        include_usage,
    )
    .await;
    Ok(restore_phase(gateway, ctx, &route, redactor, response).await)
}

/// restore: vaulted values back into the answer (not for the echo model, whose answer
/// shows what left), and the usage the provider reported.
async fn restore_phase(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    route: &Route,
    redactor: Redactor,
    response: Response,
) -> Response {
    if route.deployment.provider == ProviderKind::Local {
        return response;
    }
    // Placeholders and hash tokens are in the vault, fakes beside it; masked and removed
    // values cannot come back.
    let restoring = !gateway.config.upstream.keep_placeholders
        && (redactor.placeholders() > 0 || redactor.has_fakes());
    let plan = restore::Plan {
        redactor: restoring.then_some(redactor),
        end: restore::StreamEnd {
            decision_id: ctx.decision_id.clone(),
            trace_id: ctx.trace_parent.as_ref().map(|(t, _)| t.clone()),
            recorder: Some(gateway.recorder.clone()),
            cut: Some(gateway.cut_watch()),
            held: Some(Arc::new(gateway.in_flight.hold())),
            open: Some(Arc::clone(&gateway.open_streams)),
        },
        stream: ctx.stream,
    };
    let mut usage = crate::audit::Usage::default();
    let response = restore::apply(plan, response, &mut usage).await;
    if usage != crate::audit::Usage::default() {
        ctx.usage = Some(usage);
    }
    ctx.phase_done("restore");
    response
}

/// authenticate: the caller's token → principal; 401 otherwise, never forwarded.
async fn authenticate(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    headers: &axum::http::HeaderMap,
) -> Result<Principal, GatewayError> {
    let authorization = caller_credential(headers);
    let result = gateway
        .authenticator
        .authenticate(authorization.as_deref())
        .await;
    ctx.phase_done("authenticate");
    match result {
        Ok(principal) => {
            ctx.set_principal(&principal);
            Ok(principal)
        }
        Err(err) => Err(auth_error(&err)),
    }
}

/// The caller's Customs token, as an `Authorization` value, from whichever header its
/// SDK sends its key in: `Authorization: Bearer` (OpenAI, Azure with Entra, Anthropic's
/// `auth_token`, boto3's Bedrock bearer token), `api-key` (Azure OpenAI), `x-api-key`
/// (Anthropic), `x-goog-api-key` (Gemini). The first present wins, in that order.
pub fn caller_credential(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return Some(value.to_owned());
    }
    ["api-key", "x-api-key", "x-goog-api-key"]
        .into_iter()
        .find_map(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .map(|key| format!("Bearer {}", key.trim()))
}

/// The response for a failed authentication: 401 with a challenge when the token is at
/// fault, 503 when Customs cannot reach its keys (the caller did nothing wrong).
pub fn auth_error(err: &crate::identity::AuthError) -> GatewayError {
    if err.blames_client() {
        GatewayError::unauthenticated(err.code(), &err.to_string(), err.www_authenticate())
    } else {
        GatewayError::unavailable(
            err.code(),
            "The token could not be verified: the identity provider's keys are unavailable.",
        )
    }
}

/// accept: the body, within the size limit and the time limit.
async fn accept(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    headers: &axum::http::HeaderMap,
    body: Body,
) -> Result<Bytes, GatewayError> {
    let limit = gateway.config.server.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(GatewayError::payload_too_large(limit));
    }
    let timeout = Duration::from_secs(gateway.config.server.body_timeout_secs);
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await;
    ctx.phase_done("accept");
    match read {
        Err(_) => Err(GatewayError::body_timeout()),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            if is_length_limit(&err) {
                Err(GatewayError::payload_too_large(limit))
            } else if is_hang_up(&err) {
                // Nobody is left to read an answer: recorded as the caller leaving.
                Err(GatewayError::client_closed())
            } else {
                Err(GatewayError::bad_request(
                    "body_unreadable",
                    "The request body could not be read.",
                ))
            }
        }
    }
}

/// Whether the body broke off because the caller closed the connection before sending
/// all of it: the connection ended inside the body (HTTP/1.1 reports an unexpected end
/// of file) or was reset, the caller canceled its HTTP/2 stream, or the request was
/// canceled.
fn is_hang_up(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(e) = e.downcast_ref::<hyper::Error>()
            && (e.is_incomplete_message() || e.is_canceled())
        {
            return true;
        }
        // HTTP/2's error ends the chain: it holds the reset's reason or the I/O error.
        if let Some(e) = e.downcast_ref::<h2::Error>() {
            return e.reason() == Some(h2::Reason::CANCEL) || e.get_io().is_some_and(is_gone);
        }
        if let Some(e) = e.downcast_ref::<std::io::Error>() {
            return is_gone(e);
        }
        source = e.source();
    }
    false
}

/// An I/O error of a connection the peer closed.
fn is_gone(err: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        err.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
    )
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// parse: JSON within the depth limit, and the fields the operation needs.
async fn parse(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    endpoint: &Endpoint,
    bytes: Bytes,
) -> Result<(Value, RequestFacts), GatewayError> {
    let max_depth = gateway.config.server.max_json_depth;
    let body = if bytes.len() <= scanning::INLINE_SCAN_BYTES {
        parse_json(&bytes, max_depth)?
    } else {
        // A large body is parsed where it is scanned, off the async workers: megabytes
        // of JSON take milliseconds. A panic there refuses the request.
        scanning::off_worker(&gateway.scan_slots, move || parse_json(&bytes, max_depth))
            .await
            .ok_or_else(|| {
                GatewayError::internal("parser_error", "The request body could not be parsed.")
            })??
    };
    let facts = providers::request_facts(endpoint, &body)?;
    ctx.operation = providers::operation(endpoint.api, &body);
    ctx.requested_model = Some(facts.model.chars().take(128).collect());
    ctx.stream = facts.stream;
    ctx.phase_done("parse");
    Ok((body, facts))
}

/// The body as JSON, within the depth limit.
fn parse_json(bytes: &[u8], max_depth: usize) -> Result<Value, GatewayError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|e| {
        // serde_json's message names a line and column, never the content.
        GatewayError::bad_request(
            "invalid_json",
            format!(
                "The request body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )
    })?;
    if openai_api::json_depth(&body) > max_depth {
        return Err(GatewayError::bad_request(
            "json_too_deep",
            format!("The request body nests deeper than {max_depth} levels."),
        ));
    }
    Ok(body)
}

/// inspect: every segment through the scanner (a large body off the async workers, see
/// [`scanning`]); any scanner error refuses the request.
async fn inspect(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    bundle: &Arc<Bundle>,
    body: &mut Value,
) -> Result<Vec<Vec<Finding>>, GatewayError> {
    let mut texts: Vec<String> = Vec::new();
    providers::visit_segments(ctx.api, body, &mut |_, text| {
        texts.push(text.clone());
        false
    });
    let scanned =
        scanning::scan_texts(bundle, &gateway.fingerprinter, texts, &gateway.scan_slots).await;
    let Some(scanned) = scanned else {
        ctx.phase_done("inspect");
        return Err(GatewayError::internal(
            "scanner_error",
            "The request could not be inspected and was refused.",
        ));
    };
    let findings = scanned.findings;
    ctx.segments = findings.len();
    ctx.prompt_bytes = scanned.bytes;
    ctx.prompt_fingerprint = Some(scanned.fingerprint);
    // A text dense with findings has thousands of one class: one key per class.
    for finding in findings.iter().flatten() {
        match ctx.found.get_mut(&*finding.class) {
            Some(entry) => entry.0 += 1,
            None => {
                ctx.found
                    .insert(finding.class.to_string(), (1, finding.severity));
            }
        }
    }
    ctx.phase_done("inspect");
    Ok(findings)
}

/// decide: Cedar over the classes found; the first permitted deployment.
fn decide(
    ctx: &mut RequestContext,
    bundle: &Bundle,
    shadow: Option<&Bundle>,
    principal: &Principal,
    facts: &RequestFacts,
    findings: &[Vec<Finding>],
) -> Result<Route, GatewayError> {
    // Inserted one by one: collecting thousands of findings of a few classes would sort
    // them all first.
    let mut detected: BTreeSet<Arc<str>> = BTreeSet::new();
    for finding in findings.iter().flatten() {
        if !detected.contains(&finding.class) {
            detected.insert(Arc::clone(&finding.class));
        }
    }
    let input = DecideInput {
        principal,
        operation: ctx.operation,
        requested_model: &facts.model,
        detected: &detected,
        stream: facts.stream,
        tools_present: facts.tools_present,
        token_estimate: i64::try_from(ctx.prompt_bytes.div_ceil(4)).unwrap_or(i64::MAX),
    };
    ctx.token_estimate = Some(input.token_estimate);
    ctx.tools_present = input.tools_present;
    let api = ctx.api;
    let eligible = |d: &crate::policy::Deployment| api.served_by(d.provider);
    if let Some(all) = bundle.catalog().resolve(&facts.model)
        && !all.iter().any(|d| eligible(d))
    {
        ctx.phase_done("decide");
        let shown: String = facts.model.chars().take(64).collect();
        return Err(GatewayError::bad_request(
            "model_not_served",
            format!(
                "The model `{shown}` has no deployment that speaks {}; call it through an API its deployments speak.",
                api.as_str()
            ),
        ));
    }
    let decision = bundle.decide_where(&input, eligible);
    if let Some(shadow) = shadow {
        ctx.shadow = Some(shadow_decision(shadow, &input, &decision, eligible));
    }
    ctx.phase_done("decide");
    let decision = decision.map_err(|_| {
        GatewayError::internal(
            "policy_error",
            "The policy decision failed and the request was refused.",
        )
    })?;
    match decision {
        Decision::UnknownModel => {
            // A name outside the catalog is arbitrary caller input: it goes back to the
            // caller in the error, but not into the audit trail.
            ctx.requested_model = Some(UNKNOWN_MODEL.to_owned());
            Err(GatewayError::model_not_found(&facts.model))
        }
        Decision::Deny { refused } => {
            ctx.denied = true;
            ctx.set_refused(&refused);
            let policy_ids = Decision::deny_policy_ids(&refused);
            ctx.policy_ids = policy_ids.clone();
            Err(deny_error(&refused, policy_ids))
        }
        Decision::Allow { route, refused } => {
            ctx.set_refused(&refused);
            ctx.set_deployment(&route.deployment);
            ctx.policy_ids = route.permitted_by.iter().map(|p| p.id.clone()).collect();
            ctx.disclosed = route.disclosed.iter().map(|c| c.to_string()).collect();
            Ok(route)
        }
    }
}

/// Shadow mode: what the candidate set decides for the same input, compared with the
/// enforced decision. Recorded, never acted on.
fn shadow_decision(
    shadow: &Bundle,
    input: &DecideInput<'_>,
    enforced: &Result<Decision, crate::policy::decide::DecideError>,
    eligible: impl Fn(&crate::policy::Deployment) -> bool,
) -> crate::audit::ShadowDecision {
    fn summary(
        decision: &Result<Decision, crate::policy::decide::DecideError>,
    ) -> (&'static str, Vec<String>, Option<String>, Vec<String>) {
        match decision {
            Err(_) => ("error", Vec::new(), None, Vec::new()),
            Ok(Decision::UnknownModel) => ("unknown_model", Vec::new(), None, Vec::new()),
            Ok(Decision::Deny { refused }) => {
                ("deny", Decision::deny_policy_ids(refused), None, Vec::new())
            }
            Ok(Decision::Allow { route, .. }) => (
                "allow",
                route.permitted_by.iter().map(|p| p.id.clone()).collect(),
                Some(route.deployment.id.clone()),
                route.redacted.iter().map(|c| c.to_string()).collect(),
            ),
        }
    }
    let candidate = shadow.decide_where(input, eligible);
    let (decision, policy_ids, deployment, redacted) = summary(&candidate);
    let differs = summary(enforced)
        != (
            decision,
            policy_ids.clone(),
            deployment.clone(),
            redacted.clone(),
        );
    crate::audit::ShadowDecision {
        policy_version: shadow.version().to_owned(),
        decision: decision.to_owned(),
        policy_ids,
        deployment,
        redacted,
        differs,
    }
}

fn deny_error(refused: &[crate::policy::Refusal], policy_ids: Vec<String>) -> GatewayError {
    let mut reasons: Vec<String> = Vec::new();
    for refusal in refused {
        if refusal.forbidden_by.is_empty() {
            reasons.push(format!(
                "no policy permits this request to deployment `{}`",
                refusal.deployment_id
            ));
        }
        for policy in &refusal.forbidden_by {
            let reason = format!("{} [{}]", policy.reason, policy.id);
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
    }
    let code = if policy_ids.is_empty() {
        "not_permitted"
    } else {
        "denied_by_policy"
    };
    GatewayError::policy_violation(
        code,
        format!("Refused by policy: {}.", reasons.join("; ")),
        policy_ids,
    )
}

/// The `[redaction]` rules, checked against the classes the scanner emits; refused when
/// they use `hash` or `fake` and no secret is configured to key them.
fn redaction_rules(
    config: &Config,
    bundle: &Bundle,
    fingerprinter: &Fingerprinter,
) -> anyhow::Result<RedactionRules> {
    let rules = RedactionRules::compile(&config.redaction)
        .map_err(|e| anyhow::anyhow!("[redaction]: {e}"))?;
    let (errors, warnings) = rules.check_classes(&bundle.scanner().classes());
    if !errors.is_empty() {
        anyhow::bail!("[redaction]: {}", errors.join("; "));
    }
    for warning in warnings {
        tracing::warn!("[redaction] {warning}");
    }
    if let Some((rule, strategy)) = rules.needs_key()
        && !fingerprinter.is_keyed()
    {
        anyhow::bail!(
            "[redaction]: {rule} uses strategy \"{}\", which needs a secret to derive each tenant's key from: set CUSTOMS_HMAC_KEY (without it, hashes and fakes would change on every restart and differ between replicas)",
            strategy.as_str()
        );
    }
    Ok(rules)
}

/// redact: rewrites the redacted classes in place, each with the strategy `[redaction]`
/// gives it (placeholders by default), and the `model` field with the deployment's.
/// Returns the body as it will leave.
fn redact_segments(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    route: &Route,
    body: &mut Value,
    findings: &[Vec<Finding>],
) -> Result<(Vec<u8>, Redactor), GatewayError> {
    let rules = &gateway.redaction;
    // `hash` and `fake` are keyed per tenant: stable across requests, replicas and
    // restarts for one tenant, unlinkable across tenants.
    let mut redactor = match (rules.needs_key(), &ctx.principal) {
        (Some(_), Some(principal)) => {
            Redactor::with_tenant_key(&gateway.fingerprinter.tenant_key(&principal.tenant))
        }
        _ => Redactor::new(),
    };
    let strategies = &mut ctx.strategies;
    let mut index = 0;
    providers::visit_segments(ctx.api, body, &mut |_, text| {
        let Some(found) = findings.get(index) else {
            return false;
        };
        index += 1;
        let to_redact: Vec<Finding> = found
            .iter()
            .filter(|f| route.redacted.contains(&f.class))
            .cloned()
            .collect();
        if to_redact.is_empty() {
            return false;
        }
        if rules.all_placeholders() {
            *text = redactor.redact(text, &to_redact);
        } else {
            *text = redactor.redact_with(text, &to_redact, |f| rules.for_finding(f));
        }
        for f in &to_redact {
            if !strategies.contains_key(&*f.class) {
                strategies.insert(f.class.to_string(), strategy_name(rules.for_finding(f)));
            }
        }
        true
    });
    ctx.redactions = redactor.replacements();
    providers::set_model(ctx.api, body, &route.deployment);
    let bytes = serde_json::to_vec(body).map_err(|_| {
        GatewayError::internal("encode_error", "The request could not be re-encoded.")
    })?;
    ctx.phase_done("redact");
    Ok((bytes, redactor))
}

/// forward: to the local echo model or the upstream, streamed back in the framing the
/// endpoint asked for.
async fn forward(
    gateway: &Gateway,
    ctx: &mut RequestContext,
    route: &Route,
    endpoint: &Endpoint,
    headers: &axum::http::HeaderMap,
    body: &Value,
    outgoing: Vec<u8>,
) -> Result<Response, GatewayError> {
    let stream = ctx.stream;
    let response = match route.deployment.provider {
        ProviderKind::Local => Ok(echo::answer(endpoint, body, &ctx.decision_id, stream)),
        _ => {
            gateway
                .upstreams
                .forward(&route.deployment, endpoint, stream, headers, outgoing)
                .await
        }
    };
    ctx.phase_done("forward");
    let response = response?;
    ctx.upstream_status = Some(response.status().as_u16());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Outcome;
    use std::sync::Mutex;

    async fn gateway()
    -> anyhow::Result<(Arc<Gateway>, Arc<Mutex<Vec<crate::audit::DecisionEvent>>>)> {
        let metrics = Arc::new(Metrics::new());
        let (recorder, events) = Recorder::new(Arc::clone(&metrics), None).with_memory();
        let config = Config::embedded()?;
        let gateway =
            Gateway::build(config, recorder, metrics, Fingerprinter::with_key(b"k")).await?;
        Ok((Arc::new(gateway), events))
    }

    /// A chat request that has just started, not yet recorded, and the events recorded.
    async fn pending()
    -> anyhow::Result<(PendingEvent, Arc<Mutex<Vec<crate::audit::DecisionEvent>>>)> {
        let (gateway, events) = gateway().await?;
        let pending = PendingEvent {
            held: Some(gateway.in_flight.hold()),
            gateway,
            ctx: Some(RequestContext::new(providers::Api::OpenAiChat, None)),
        };
        Ok((pending, events))
    }

    /// Asserts the one event a dropped [`PendingEvent`] has recorded (at once: a drop
    /// does not wait, and needs no task to run after it).
    fn assert_recorded(
        events: &Mutex<Vec<crate::audit::DecisionEvent>>,
        status: u16,
        code: &str,
        outcome: Outcome,
    ) -> anyhow::Result<()> {
        let events = events
            .lock()
            .map_err(|_| anyhow::anyhow!("events poisoned"))?
            .clone();
        assert_eq!(events.len(), 1, "{events:?}");
        let event = serde_json::to_value(&events[0])?;
        assert_eq!(event["status"], status, "{event}");
        assert_eq!(event["code"], code, "{event}");
        assert_eq!(event["outcome"], serde_json::to_value(outcome)?, "{event}");
        Ok(())
    }

    #[tokio::test]
    async fn a_request_dropped_by_the_server_is_recorded_as_closed_by_the_client()
    -> anyhow::Result<()> {
        let (pending, events) = pending().await?;
        drop(pending);
        assert_recorded(&events, 499, "client_closed_request", Outcome::Invalid)
    }

    #[tokio::test]
    async fn a_request_dropped_by_a_panic_is_recorded_as_an_internal_error() -> anyhow::Result<()> {
        let (pending, events) = pending().await?;
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _pending = pending;
            std::panic::resume_unwind(Box::new("a bug in a phase"));
        }));
        assert!(unwound.is_err());
        assert_recorded(&events, 500, "internal_panic", Outcome::Error)
    }

    fn chat_body(content: &str) -> Bytes {
        Bytes::from(
            serde_json::json!({"model": "customs-echo",
                "messages": [{"role": "user", "content": content}]})
            .to_string(),
        )
    }

    // With every large-scan slot taken, a large body's parse waits for one (it goes to
    // the blocking pool) and a short body's does not (it stays on the worker).
    #[tokio::test]
    async fn a_large_body_is_parsed_off_the_worker_and_a_short_one_on_it() -> anyhow::Result<()> {
        let (gateway, _) = gateway().await?;
        let endpoint = Endpoint::new(providers::Door::OpenAi, providers::Api::OpenAiChat);
        let mut ctx = RequestContext::new(providers::Api::OpenAiChat, None);
        let large = "x".repeat(scanning::INLINE_SCAN_BYTES * 4);

        let all = u32::try_from(gateway.scan_slots.available_permits())?;
        let taken = Arc::clone(&gateway.scan_slots)
            .acquire_many_owned(all)
            .await?;
        let waiting = tokio::spawn({
            let gateway = Arc::clone(&gateway);
            let endpoint = endpoint.clone();
            let body = chat_body(&large);
            async move {
                let mut ctx = RequestContext::new(providers::Api::OpenAiChat, None);
                parse(&gateway, &mut ctx, &endpoint, body)
                    .await
                    .map(|(body, facts)| (body, facts.model))
                    .map_err(|e| e.code())
            }
        });
        let (body, _) = parse(&gateway, &mut ctx, &endpoint, chat_body("hello"))
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
        assert_eq!(body["messages"][0]["content"], "hello");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "a large body was parsed without a slot"
        );
        drop(taken);
        let (body, model) = tokio::time::timeout(Duration::from_secs(10), waiting)
            .await??
            .map_err(|code| anyhow::anyhow!("{code}"))?;
        assert_eq!(body["messages"][0]["content"], large.as_str());
        assert_eq!(model, "customs-echo");

        // Off the worker, a large body's errors are the same as on it.
        let mut broken = chat_body(&large).to_vec();
        broken.truncate(broken.len() - 3);
        let err = parse(&gateway, &mut ctx, &endpoint, Bytes::from(broken))
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("truncated JSON was accepted"))?;
        assert_eq!(err.code(), "invalid_json");
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let deep =
            format!("{{\"model\": \"customs-echo\", \"pad\": \"{large}\", \"messages\": {deep}}}");
        let err = parse(&gateway, &mut ctx, &endpoint, Bytes::from(deep))
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("deep JSON was accepted"))?;
        assert_eq!(err.code(), "json_too_deep");
        Ok(())
    }

    /// `settled` waits until a dropped request has recorded its event, and not longer.
    #[tokio::test]
    async fn settled_waits_for_the_record_of_every_request_in_flight() -> anyhow::Result<()> {
        let (gateway, events) = gateway().await?;
        assert_eq!(gateway.unsettled(), 0);
        tokio::time::timeout(Duration::from_secs(1), gateway.settled()).await?;
        let pending = PendingEvent {
            held: Some(gateway.in_flight.hold()),
            gateway: Arc::clone(&gateway),
            ctx: Some(RequestContext::new(providers::Api::OpenAiChat, None)),
        };
        assert_eq!(gateway.unsettled(), 1);
        let waiting = tokio::spawn({
            let gateway = Arc::clone(&gateway);
            let events = Arc::clone(&events);
            async move {
                gateway.settled().await;
                events.lock().map(|e| e.len()).unwrap_or(0)
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "settled with a request in flight");
        drop(pending);
        let recorded = tokio::time::timeout(Duration::from_secs(5), waiting).await??;
        assert_eq!(recorded, 1, "settled before the event was recorded");
        assert_eq!(gateway.unsettled(), 0);
        Ok(())
    }

    /// An echo chat request through every phase.
    fn echo_request() -> anyhow::Result<Request<Body>> {
        let token = crate::identity::mint_dev_token(
            "alice",
            serde_json::Map::new(),
            Duration::from_secs(60),
        )?;
        let body = serde_json::json!({"model": "customs-echo",
            "messages": [{"role": "user", "content": "hello"}]});
        Ok(Request::builder()
            .method("POST")
            .uri("/v1/chat/completions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))?)
    }

    /// A request answered normally is no longer counted once `handle` returns: its
    /// event was recorded on the record task, which released it. (A provider's stream
    /// stays counted while open: the shutdown integration tests.)
    #[tokio::test]
    async fn a_request_is_settled_once_handled() -> anyhow::Result<()> {
        let (gateway, events) = gateway().await?;
        let endpoint = Endpoint::new(providers::Door::OpenAi, providers::Api::OpenAiChat);
        let response = handle(Arc::clone(&gateway), endpoint, echo_request()?).await;
        assert_eq!(response.status(), 200);
        assert_eq!(gateway.unsettled(), 0);
        assert_eq!(events.lock().map(|e| e.len()).unwrap_or(0), 1);
        tokio::time::timeout(Duration::from_secs(1), gateway.settled()).await?;
        Ok(())
    }
}
