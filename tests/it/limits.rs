//! Bad input and bad upstreams: a clear error in OpenAI's shape, and the service and
//! the audit record survive.

use std::time::Duration;

use futures_util::StreamExt as _;

use serde_json::{Value, json};

use crate::support::*;
use customs::config::Config;

async fn post_raw(
    gateway: &TestGateway,
    token: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_400_and_recorded() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let response = post_raw(
        &gateway,
        &token,
        "{\"model\": \"customs-echo\", \"messages\": [",
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "invalid_json");
    let events = gateway.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, customs::audit::Outcome::Invalid);
    // The service is still there.
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "customs-echo", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn deeply_nested_json_is_400() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let deep = format!(
        "{{\"model\":\"customs-echo\",\"messages\":[],\"x\":{}1{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let response = post_raw(&gateway, &token, deep).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let mut config = Config::embedded().unwrap();
    config.server.max_body_bytes = 1024;
    let gateway = TestGateway::start(config).await;
    let token = dev_token("alice", json!({}));
    let big = json!({"model": "customs-echo", "messages": [{"role": "user", "content": "x".repeat(4096)}]});
    let response = gateway.post("/v1/chat/completions", &token, &big).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // Without a Content-Length (chunked), the limit still holds.
    let chunks =
        futures_util::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![b' '; 512])));
    let response = post_raw(&gateway, &token, reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(response.status(), 413);
    assert_eq!(gateway.events().len(), 2);
}

#[tokio::test]
async fn an_unreachable_upstream_is_502() {
    let mut config = Config::embedded().unwrap();
    // A port nobody listens on: bind one, learn its number, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.upstream.base_urls.insert(
        "gpt-4o-openai-us".into(),
        format!("http://127.0.0.1:{port}/v1"),
    );
    config
        .upstream
        .credential_envs
        .insert("gpt-4o-openai-us".into(), CREDENTIAL_ENV.into());
    let gateway = TestGateway::start(config).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_unavailable");
    assert_eq!(gateway.events()[0].outcome, customs::audit::Outcome::Error);
}

#[tokio::test]
async fn a_slow_upstream_is_504() {
    let mock = MockUpstream::start().await;
    let mut config = config_with_mock(&mock);
    config.server.upstream_timeout_secs = 1;
    config
        .upstream
        .base_urls
        .insert("gpt-4o-openai-us".into(), mock.url("/slow/v1"));
    let gateway = TestGateway::start(config).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 504);
}

/// A caller that hangs up while its request is at the provider: the request left, so
/// its decision event must still be recorded (status 499, the outcome it was allowed
/// with, the deployment it went to).
#[tokio::test]
async fn a_caller_that_hangs_up_mid_request_still_leaves_its_decision_event() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_slow_gpt4o(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"], "residency": "US"}));
    let url = gateway.url("/v1/chat/completions");
    chat_and_hang_up(&url, &token, "mail jane.doe@example.com").await;
    // The server notices the closed connection and drops the request; its event is
    // recorded as it is dropped. Bounded wait: 5 s.
    let mut events = Vec::new();
    for _ in 0..100 {
        events = gateway.events();
        if !events.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(events.len(), 1, "{events:?}");
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(event["status"], 499, "{event}");
    assert_eq!(event["code"], "client_closed_request", "{event}");
    assert_eq!(event["outcome"], "modify", "{event}");
    assert_eq!(event["deployment"]["id"], "gpt-4o-openai-us", "{event}");
    assert_eq!(event["redactions"], 1, "{event}");
    // It did leave, redacted.
    let received = mock.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].body.contains("[EMAIL_1]") && !received[0].body.contains("jane.doe"));
}

#[tokio::test]
async fn a_missing_upstream_credential_is_502_without_leaking_the_variable_value() {
    let mock = MockUpstream::start().await;
    let mut config = config_with_mock(&mock);
    config.upstream.credential_envs.insert(
        "gpt-4o-openai-us".into(),
        "CUSTOMS_TEST_VARIABLE_THAT_IS_NOT_SET".into(),
    );
    let gateway = TestGateway::start(config).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upstream_credential_missing");
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn unknown_paths_are_404_in_openai_shape() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let response = client()
        .get(gateway.url("/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

/// The gateway's one decision event, once it is recorded (at most 10 s), after time
/// for a second one that must not come.
async fn the_one_event(gateway: &TestGateway) -> Value {
    let started = std::time::Instant::now();
    while gateway.events().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "no event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let events = gateway.events();
    assert_eq!(events.len(), 1, "{events:?}");
    serde_json::to_value(&events[0]).unwrap()
}

/// Over HTTP/2, a caller that cancels its request while still sending the body (the
/// client resets the stream) is recorded as having left, too.
#[tokio::test]
async fn an_http2_caller_that_cancels_while_sending_the_body_is_recorded_as_gone() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .build()
        .unwrap();
    // The first bytes of a body whose end never comes.
    let opening: Result<&'static [u8], std::io::Error> = Ok(b"{\"model\": \"customs-echo\", ");
    let chunks = futures_util::stream::iter([opening]).chain(futures_util::stream::pending());
    let sending = tokio::spawn(
        h2.post(gateway.url("/v1/chat/completions"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send(),
    );
    wait_for_one_in_flight(&gateway).await;
    assert!(!sending.is_finished(), "the request was answered");
    // Dropping the request resets its stream (CANCEL).
    sending.abort();
    let event = the_one_event(&gateway).await;
    assert_eq!(event["status"], 499, "{event}");
    assert_eq!(event["code"], "client_closed_request", "{event}");
    assert_read_to_the_body_error(&event);
}

/// Until a request is being handled (`customs_requests_in_flight 1`), at most 10 s.
async fn wait_for_one_in_flight(gateway: &TestGateway) {
    let started = std::time::Instant::now();
    loop {
        let metrics = gateway.metrics().await;
        if metrics.contains("\ncustoms_requests_in_flight 1\n") {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no request in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The event was recorded where the body's error was read (accept), not by the guard of
/// a dropped request (which would name the phase `closed`).
fn assert_read_to_the_body_error(event: &Value) {
    assert!(event["phase_timings_us"].get("accept").is_some(), "{event}");
    assert!(event["phase_timings_us"].get("closed").is_none(), "{event}");
}

/// A caller that closes the connection while still sending its body is recorded as
/// having left (499), not as a malformed request, and the gateway goes on serving.
#[tokio::test]
async fn a_caller_that_hangs_up_while_sending_the_body_is_recorded_as_gone() {
    use tokio::io::AsyncWriteExt;
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let mut raw = tokio::net::TcpStream::connect(gateway.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: customs\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"model\": \"customs-echo\", "
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    raw.flush().await.unwrap();
    wait_for_one_in_flight(&gateway).await;
    drop(raw);
    let event = the_one_event(&gateway).await;
    assert_read_to_the_body_error(&event);
    assert_eq!(event["status"], 499, "{event}");
    assert_eq!(event["code"], "client_closed_request", "{event}");
    assert_eq!(event["outcome"], "invalid", "{event}");
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "customs-echo", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
}

/// Past `max_concurrent_requests`, a request is refused at once with 503 `overloaded`
/// and `Retry-After`, in the caller's API format, and recorded; once a slot is free the
/// next one is served.
#[tokio::test]
async fn past_max_concurrent_requests_a_request_is_refused_at_once_and_recorded() {
    let mock = MockUpstream::start().await;
    let mut config = config_with_slow_gpt4o(&mock);
    config.server.max_concurrent_requests = 1;
    let gateway = TestGateway::start(config).await;
    let token = dev_token("bob", json!({"groups": ["engineering"], "residency": "US"}));
    // The one slot: a request waiting 5 s on the provider.
    let slow = tokio::spawn({
        let url = gateway.url("/v1/chat/completions");
        let token = token.clone();
        async move {
            client()
                .post(url)
                .bearer_auth(token)
                .json(
                    &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hi"}]}),
                )
                .send()
                .await
        }
    });
    let started = std::time::Instant::now();
    while mock.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never forwarded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let echo = json!({"model": "customs-echo", "messages": [{"role": "user", "content": "hi"}]});
    let refused = gateway.post("/v1/chat/completions", &token, &echo).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "overloaded", "{body}");
    let events = gateway.events();
    let overloaded: Vec<_> = events
        .iter()
        .filter(|e| e.code.as_deref() == Some("overloaded"))
        .collect();
    assert_eq!(overloaded.len(), 1, "{events:?}");
    assert_eq!(overloaded[0].status, 503);
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains("\ncustoms_overloaded_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\ncustoms_requests_in_flight 1\n"),
        "{metrics}"
    );

    // The slow caller gives up; its slot is free once its request is dropped.
    assert!(!slow.is_finished(), "the slow request ended early");
    slow.abort();
    let started = std::time::Instant::now();
    loop {
        let response = gateway.post("/v1/chat/completions", &token, &echo).await;
        if response.status() == 200 {
            break;
        }
        assert_eq!(response.status(), 503);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
