//! record: OTLP export of decision events, and the operational endpoints.

use std::sync::Arc;
use std::time::Duration;

use customs::audit::otel::OtelExport;
use customs::config::Config;
use serde_json::{Value, json};

use crate::support::*;

const EMAIL: &str = "otel.leak.check@example.com";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test]
async fn decision_events_reach_an_otlp_collector_without_content() {
    let collector = MockCollector::start().await;
    let endpoint = format!("http://{}", collector.addr);
    // The HTTP exporter owns a blocking client: build and flush it off the runtime.
    let otel =
        std::thread::spawn(move || OtelExport::with_endpoint("customs-test", &endpoint).unwrap())
            .join()
            .unwrap();
    let otel = Arc::new(otel);
    let gateway =
        TestGateway::start_with(Config::embedded().unwrap(), Some(Arc::clone(&otel))).await;
    let token = dev_token("alice", json!({}));
    // The caller's W3C trace context is continued.
    let response = client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&json!({"model": "customs-echo", "messages": [{"role": "user", "content": format!("hi {EMAIL}")}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let decision_id = response.headers()["x-customs-decision-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let flushing = Arc::clone(&otel);
    tokio::task::spawn_blocking(move || flushing.flush())
        .await
        .unwrap();

    let mut logs = Vec::new();
    let mut traces = Vec::new();
    for _ in 0..50 {
        logs = collector.bodies("/v1/logs").concat();
        traces = collector.bodies("/v1/traces").concat();
        if !logs.is_empty() && !traces.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let contains = |haystack: &[u8], needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    assert!(
        contains(&logs, &decision_id),
        "the log record carries the decision id"
    );
    assert!(contains(&logs, "customs.decision"));
    assert!(contains(&traces, "apply_guardrail"));
    let trace_id_bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(
        traces.windows(16).any(|w| w == trace_id_bytes.as_slice()),
        "the request span continues the caller's trace"
    );
    assert_eq!(gateway.events()[0].trace_id.as_deref(), Some(TRACE_ID));
    assert!(contains(&traces, "gen_ai.security.decision.type"));
    assert!(contains(&traces, "gen_ai.security.finding"));
    assert!(contains(&traces, "PII.EMAIL"));
    for leak in [EMAIL, token.as_str()] {
        assert!(
            !contains(&logs, leak) && !contains(&traces, leak),
            "OTLP export carries content"
        );
    }
    tokio::task::spawn_blocking(move || otel.shutdown())
        .await
        .unwrap();
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let health = client().get(gateway.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = client()
        .get(gateway.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(
        ready["policy_version"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let token = dev_token("alice", json!({}));
    gateway
        .post("/v1/chat/completions", &token, &json!({"model": "customs-echo", "messages": [{"role": "user", "content": format!("hi {EMAIL}")}]}))
        .await;
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(
            "customs_decisions_total{outcome=\"modify\",provider=\"local\",operation=\"chat\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("customs_findings_total{class=\"PII.EMAIL\",action=\"redacted\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("customs_phase_seconds_count{phase=\"inspect\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains(EMAIL));
}
