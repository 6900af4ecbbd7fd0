//! OpenTelemetry export of decision events over OTLP, HTTP/protobuf or gRPC, configured
//! by the standard `OTEL_*` environment variables (protocol and endpoint per signal, see
//! [`super::otlp_transport`]; headers, timeout and compression are read by
//! `opentelemetry-otlp` itself).
//!
//! Each event becomes a span `{gen_ai.operation.name} {gen_ai.request.model}` with a
//! child `apply_guardrail` span carrying the `gen_ai.security.*` attributes and one
//! `gen_ai.security.finding` event per data class (class, count, severity), plus a log
//! record `customs.decision` whose body is the whole event as JSON.
//!
//! The exporters batch on their own threads and drop when their queue is full or the
//! collector is away: this path is best effort, the durable log ([`super::log`]) is the
//! guarantee. The SDK's batch threads drive an exporter's future outside any async
//! runtime: the HTTP exporter owns a blocking client, and the gRPC exporter's channel
//! lives on a one-thread Tokio runtime this module owns, so export works the same before,
//! during and after the gateway's runtime.

use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{
    LogExporter, Protocol, SpanExporter, WithExportConfig as _, WithHttpConfig as _,
    WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{SdkLogger, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::otlp_transport::{self, OtlpProtocol, Signal, TlsFiles, TlsMaterial};
use super::{DecisionEvent, Outcome, StreamEndEvent, StreamOutcome};

/// The OTLP exporters and their providers.
#[derive(Debug)]
pub struct OtelExport {
    tracer_provider: SdkTracerProvider,
    logger_provider: SdkLoggerProvider,
    tracer: SdkTracer,
    logger: SdkLogger,
    /// Drives the gRPC channels. Declared last: dropped after the providers, whose own
    /// drop still exports what is queued.
    _grpc_runtime: Option<GrpcRuntime>,
}

/// The Tokio runtime behind the gRPC exporters. Dropping it never blocks, so an
/// `OtelExport` may be dropped anywhere, an async context included.
#[derive(Debug)]
struct GrpcRuntime(Option<tokio::runtime::Runtime>);

impl Drop for GrpcRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where one signal goes: its protocol, and its URL (`None`: the `OTEL_*` environment).
#[derive(Debug, Clone)]
struct Route {
    protocol: OtlpProtocol,
    url: Option<String>,
}

/// Whether the environment asks for OTLP export (an endpoint, general or per signal).
pub fn configured_by_env() -> bool {
    otlp_transport::endpoint_in_env()
}

impl OtelExport {
    /// Builds the exporters from the `OTEL_*` environment. Fails on a protocol other
    /// than `http/protobuf` and `grpc`, or on an endpoint the protocol cannot use (an
    /// `https://` endpoint for gRPC).
    pub fn from_env(service_name: &str) -> anyhow::Result<OtelExport> {
        let route = |signal| -> anyhow::Result<Route> {
            Ok(Route {
                protocol: OtlpProtocol::from_env(signal)?,
                url: None,
            })
        };
        let service_name =
            std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| service_name.to_owned());
        OtelExport::build(&service_name, route(Signal::Traces)?, route(Signal::Logs)?)
    }

    /// Builds the exporters for an explicit OTLP/HTTP base URL (`http://host:4318`),
    /// other settings from the environment.
    pub fn with_endpoint(service_name: &str, base_url: &str) -> anyhow::Result<OtelExport> {
        OtelExport::with_protocol_endpoint(service_name, OtlpProtocol::HttpProtobuf, base_url)
    }

    /// Builds the exporters for an explicit protocol and base URL (`http://host:4317` for
    /// gRPC, `http://host:4318` for HTTP), other settings from the environment.
    pub fn with_protocol_endpoint(
        service_name: &str,
        protocol: OtlpProtocol,
        base_url: &str,
    ) -> anyhow::Result<OtelExport> {
        let route = |signal| Route {
            protocol,
            url: Some(otlp_transport::join(protocol, base_url, signal)),
        };
        OtelExport::build(service_name, route(Signal::Traces), route(Signal::Logs))
    }

    fn build(service_name: &str, traces: Route, logs: Route) -> anyhow::Result<OtelExport> {
        let tls = TlsFiles::from_env().load().map_err(anyhow::Error::msg)?;
        let grpc_runtime =
            if traces.protocol == OtlpProtocol::Grpc || logs.protocol == OtlpProtocol::Grpc {
                Some(GrpcRuntime(Some(
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(1)
                        .thread_name("customs-otlp-grpc")
                        .enable_all()
                        .build()?,
                )))
            } else {
                None
            };
        let (span_exporter, log_exporter) = {
            // A tonic channel starts its connection task on the runtime current at build.
            let _entered = grpc_runtime
                .as_ref()
                .and_then(|r| r.0.as_ref())
                .map(tokio::runtime::Runtime::enter);
            (span_exporter(traces, &tls)?, log_exporter(logs, &tls)?)
        };
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .build();
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(span_exporter)
            .with_resource(resource.clone())
            .build();
        let logger_provider = SdkLoggerProvider::builder()
            .with_batch_exporter(log_exporter)
            .with_resource(resource)
            .build();
        let tracer = tracer_provider.tracer("customs");
        let logger = logger_provider.logger("customs");
        Ok(OtelExport {
            tracer_provider,
            logger_provider,
            tracer,
            logger,
            _grpc_runtime: grpc_runtime,
        })
    }

    /// Exports one event as spans and a log record.
    pub fn export(&self, event: &DecisionEvent) {
        let now = SystemTime::now();
        let total_us: u64 = event.phase_timings_us.values().sum();
        let start = now
            .checked_sub(Duration::from_micros(total_us))
            .unwrap_or(now);
        let operation = event.operation.map_or("unknown", |o| o.gen_ai_name());
        let model = event.requested_model.as_deref().unwrap_or("unknown");
        let provider = event
            .deployment
            .as_ref()
            .map_or("", |d| d.provider.as_str());

        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", operation),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new("customs.decision_id", event.decision_id.clone()),
            KeyValue::new("customs.outcome", event.outcome.as_str()),
            KeyValue::new("http.response.status_code", i64::from(event.status)),
        ];
        if !provider.is_empty() {
            attributes.push(KeyValue::new("gen_ai.provider.name", provider.to_owned()));
        }
        if let Some(d) = &event.deployment {
            attributes.push(KeyValue::new("customs.deployment.id", d.id.clone()));
            attributes.push(KeyValue::new("customs.deployment.region", d.region.clone()));
            attributes.push(KeyValue::new(
                "customs.deployment.jurisdiction",
                d.jurisdiction.clone(),
            ));
        }
        if let Some(surface) = event.surface {
            attributes.push(KeyValue::new("customs.surface", surface.as_str()));
        }
        if let Some(usage) = &event.usage {
            if let Some(n) = usage.input_tokens.and_then(|n| i64::try_from(n).ok()) {
                attributes.push(KeyValue::new("gen_ai.usage.input_tokens", n));
            }
            if let Some(n) = usage.output_tokens.and_then(|n| i64::try_from(n).ok()) {
                attributes.push(KeyValue::new("gen_ai.usage.output_tokens", n));
            }
        }
        if let Some(p) = &event.principal {
            attributes.push(KeyValue::new("enduser.id", p.id.clone()));
            attributes.push(KeyValue::new("customs.tenant", p.tenant.clone()));
        }
        let request_span = self
            .tracer
            .span_builder(format!("{operation} {model}"))
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &caller_context(event));
        let parent = Context::current_with_span(request_span);

        let mut guardrail = self
            .tracer
            .span_builder("apply_guardrail")
            .with_kind(SpanKind::Internal)
            .with_start_time(start)
            .with_attributes(vec![
                KeyValue::new(
                    "gen_ai.security.decision.type",
                    event.outcome.security_decision_type(),
                ),
                KeyValue::new("gen_ai.security.target.type", "llm_input"),
                KeyValue::new("gen_ai.security.policy.id", event.policy_ids.join(",")),
                KeyValue::new(
                    "gen_ai.security.policy.version",
                    event.policy_version.clone().unwrap_or_default(),
                ),
                KeyValue::new("gen_ai.security.content.redacted", event.redactions > 0),
            ])
            .start_with_context(&self.tracer, &parent);
        for class in &event.classes {
            let mut attributes = vec![
                KeyValue::new("gen_ai.security.finding.class", class.class.clone()),
                KeyValue::new("gen_ai.security.finding.count", class.count as i64),
                KeyValue::new(
                    "gen_ai.security.finding.severity",
                    format!("{:?}", class.severity).to_lowercase(),
                ),
                KeyValue::new("customs.finding.action", class.action),
            ];
            if let Some(strategy) = class.strategy {
                attributes.push(KeyValue::new("customs.finding.strategy", strategy));
            }
            guardrail.add_event("gen_ai.security.finding", attributes);
        }
        guardrail.end_with_timestamp(now);
        parent.span().end_with_timestamp(now);

        let mut record = self.logger.create_log_record();
        record.set_event_name("customs.decision");
        record.set_timestamp(now);
        // In the request span's trace, as the forwarder's records are.
        let request = parent.span().span_context().clone();
        record.set_trace_context(
            request.trace_id(),
            request.span_id(),
            Some(request.trace_flags()),
        );
        let (severity, text) = match event.outcome {
            Outcome::Allow | Outcome::Modify => (Severity::Info, "INFO"),
            Outcome::Deny | Outcome::Unauthenticated | Outcome::Invalid => (Severity::Warn, "WARN"),
            Outcome::Error => (Severity::Error, "ERROR"),
        };
        record.set_severity_number(severity);
        record.set_severity_text(text);
        record.set_body(AnyValue::from(
            serde_json::to_string(event).unwrap_or_default(),
        ));
        record.add_attribute("customs.decision_id", event.decision_id.clone());
        record.add_attribute("customs.outcome", event.outcome.as_str());
        self.logger.emit(record);
    }

    /// Exports the `customs.stream_end` log record of a stream that ended.
    pub fn export_stream_end(&self, end: &StreamEndEvent) {
        let mut record = self.logger.create_log_record();
        record.set_event_name("customs.stream_end");
        record.set_timestamp(SystemTime::now());
        let (severity, text) = match end.outcome {
            StreamOutcome::Completed => (Severity::Info, "INFO"),
            StreamOutcome::UpstreamError
            | StreamOutcome::ClientGone
            | StreamOutcome::ServerShutdown => (Severity::Warn, "WARN"),
        };
        record.set_severity_number(severity);
        record.set_severity_text(text);
        record.set_body(AnyValue::from(
            serde_json::to_string(end).unwrap_or_default(),
        ));
        record.add_attribute("customs.decision_id", end.decision_id.clone());
        record.add_attribute("customs.stream.outcome", end.outcome.as_str());
        if let Some(n) = end.usage.input_tokens.and_then(|n| i64::try_from(n).ok()) {
            record.add_attribute("gen_ai.usage.input_tokens", n);
        }
        if let Some(n) = end.usage.output_tokens.and_then(|n| i64::try_from(n).ok()) {
            record.add_attribute("gen_ai.usage.output_tokens", n);
        }
        self.logger.emit(record);
    }

    /// Exports what is queued. Blocking: call from a blocking context.
    pub fn flush(&self) {
        let _ = self.tracer_provider.force_flush();
        let _ = self.logger_provider.force_flush();
    }

    /// Flushes and stops the exporters. Blocking: call from a blocking context.
    pub fn shutdown(&self) {
        let _ = self.tracer_provider.shutdown();
        let _ = self.logger_provider.shutdown();
    }
}

/// The span exporter for `route`. The protocol is set explicitly, so the transport chosen
/// here is the one used whatever the variables say for the other signal.
fn span_exporter(route: Route, tls: &TlsMaterial) -> anyhow::Result<SpanExporter> {
    let exporter = match route.protocol {
        OtlpProtocol::HttpProtobuf => {
            let mut builder = SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary);
            if let Some(client) = http_client(tls)? {
                builder = builder.with_http_client(client);
            }
            match route.url {
                Some(url) => builder.with_endpoint(url).build(),
                None => builder.build(),
            }
        }
        OtlpProtocol::Grpc => {
            // Used for an `https://` endpoint only.
            let builder = SpanExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc)
                .with_tls_config(tls.grpc());
            match route.url {
                Some(url) => builder.with_endpoint(url).build(),
                None => builder.build(),
            }
        }
    };
    Ok(exporter?)
}

/// A blocking HTTP client carrying the TLS material, when there is any (else the
/// exporter's own client). Built on a thread of its own: a blocking client may not be
/// created or dropped on an async worker. Its timeout is `OTEL_EXPORTER_OTLP_TIMEOUT`
/// (milliseconds), else the specification's 10 s.
fn http_client(tls: &TlsMaterial) -> anyhow::Result<Option<reqwest::blocking::Client>> {
    if tls.is_empty() {
        return Ok(None);
    }
    let timeout = std::env::var("OTEL_EXPORTER_OTLP_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis);
    let builder = tls
        .http_blocking(reqwest::blocking::Client::builder().timeout(timeout))
        .map_err(anyhow::Error::msg)?;
    let client = std::thread::spawn(move || builder.build())
        .join()
        .map_err(|_| anyhow::anyhow!("building the OTLP HTTP client panicked"))??;
    Ok(Some(client))
}

/// The log exporter for `route`; see [`span_exporter`].
fn log_exporter(route: Route, tls: &TlsMaterial) -> anyhow::Result<LogExporter> {
    let exporter = match route.protocol {
        OtlpProtocol::HttpProtobuf => {
            let mut builder = LogExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary);
            if let Some(client) = http_client(tls)? {
                builder = builder.with_http_client(client);
            }
            match route.url {
                Some(url) => builder.with_endpoint(url).build(),
                None => builder.build(),
            }
        }
        OtlpProtocol::Grpc => {
            // Used for an `https://` endpoint only.
            let builder = LogExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc)
                .with_tls_config(tls.grpc());
            match route.url {
                Some(url) => builder.with_endpoint(url).build(),
                None => builder.build(),
            }
        }
    };
    Ok(exporter?)
}

/// The caller's W3C trace context as a remote parent, or an empty context.
fn caller_context(event: &DecisionEvent) -> Context {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    let (Some(trace), Some(span)) = (&event.trace_id, &event.parent_span_id) else {
        return Context::new();
    };
    let (Ok(trace), Ok(span)) = (TraceId::from_hex(trace), SpanId::from_hex(span)) else {
        return Context::new();
    };
    let remote = SpanContext::new(
        trace,
        span,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Context::new().with_remote_span_context(remote)
}
