//! The request path end to end: redaction, denial, routing, streaming, the echo model.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::support::*;
use customs::config::Config;

const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "123-45-6789";

fn pii_prompt() -> String {
    format!("Customer {EMAIL} paid with {CARD}; SSN {SSN}. Reply to {EMAIL}.")
}

#[tokio::test]
async fn echo_shows_placeholders_and_none_of_the_values() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token(
        "alice",
        json!({"groups": ["engineering"], "residency": "US"}),
    );
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "customs-echo", "messages": [{"role": "user", "content": pii_prompt()}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let decision_id = response.headers()["x-customs-decision-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["x-customs-deployment"], "customs-echo");
    let body: Value = response.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    for value in [EMAIL, CARD, SSN] {
        assert!(
            !content.contains(value),
            "{value} left the building: {content}"
        );
    }
    assert!(content.contains("[EMAIL_1]"), "{content}");
    assert!(content.contains("[CARD_NUMBER_1]"), "{content}");
    assert!(content.contains("[US_SSN_1]"), "{content}");
    // The same address twice gets the same placeholder, and no second number.
    assert_eq!(content.matches("[EMAIL_1]").count(), 2, "{content}");
    assert!(!content.contains("[EMAIL_2]"), "{content}");

    let events = gateway.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.decision_id, decision_id);
    assert_eq!(event.outcome, customs::audit::Outcome::Modify);
    assert_eq!(event.redactions, 4);
    let classes: Vec<&str> = event.classes.iter().map(|c| c.class.as_str()).collect();
    assert_eq!(classes, ["GOVID.US.SSN", "PCI.CARD_NUMBER", "PII.EMAIL"]);
    let text = serde_json::to_string(event).unwrap();
    for value in [EMAIL, CARD, SSN, "4111111111111111", token.as_str()] {
        assert!(!text.contains(value), "the decision event carries {value}");
    }
}

#[tokio::test]
async fn pii_never_reaches_the_upstream_and_placeholders_do() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"], "residency": "US"}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [
                {"role": "system", "content": "You help support."},
                {"role": "user", "content": pii_prompt()}
            ]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-customs-deployment"],
        "gpt-4o-openai-us"
    );
    let received = mock.received();
    assert_eq!(received.len(), 1);
    let arrived = &received[0];
    assert_eq!(arrived.path, "/v1/chat/completions");
    for value in [EMAIL, CARD, SSN] {
        assert!(
            !arrived.body.contains(value),
            "{value} reached the upstream"
        );
    }
    let body: Value = serde_json::from_str(&arrived.body).unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["messages"][0]["content"], "You help support.");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("[EMAIL_1]")
    );
    // The upstream key comes from the environment; the caller's token never leaves.
    assert_eq!(
        arrived.headers["authorization"],
        format!("Bearer {UPSTREAM_KEY}")
    );
    assert!(!format!("{:?}", arrived.headers).contains(&token));
}

#[tokio::test]
async fn escaped_json_is_decoded_before_inspection() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let raw = r#"{"model":"customs-echo","messages":[{"role":"user","content":"mail jane\u002edoe\u0040example.com"}]}"#;
    let response = client()
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("[EMAIL_1]"), "{content}");
    assert!(!content.contains("example.com"), "{content}");
}

#[tokio::test]
async fn tool_call_arguments_and_results_are_redacted_and_stay_json() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let arguments = json!({"to": EMAIL, "note": "hi"}).to_string();
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [
                {"role": "user", "content": "send it"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "send", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": "t1", "content": format!("sent to {EMAIL}")}
            ], "tools": [{"type": "function", "function": {"name": "send", "description": "Send mail", "parameters": {"type": "object"}}}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let arrived: Value = serde_json::from_str(&mock.received()[0].body).unwrap();
    let args = arrived["messages"][1]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(args).unwrap(),
        json!({"to": "[EMAIL_1]", "note": "hi"})
    );
    assert_eq!(arrived["messages"][2]["content"], "sent to [EMAIL_1]");
    // The rewritten body keeps the shape of the original.
    assert_eq!(
        arrived["tools"][0]["function"]["parameters"],
        json!({"type": "object"})
    );
}

#[tokio::test]
async fn eu_resident_asking_for_a_us_only_deployment_is_refused_with_the_policy_id() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("eva", json!({"groups": ["engineering"], "residency": "EU"}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(response.status(), 403);
    let decision_id = response.headers()["x-customs-decision-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "policy_violation");
    assert_eq!(body["error"]["code"], "denied_by_policy");
    assert_eq!(body["error"]["decision_id"], decision_id);
    assert_eq!(
        body["error"]["policy_ids"],
        json!(["residency.eu-stays-in-eu"])
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("EU jurisdiction")
    );
    assert!(
        mock.received().is_empty(),
        "a denied request reached the upstream"
    );
    let events = gateway.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, customs::audit::Outcome::Deny);
    assert_eq!(events[0].policy_ids, ["residency.eu-stays-in-eu"]);
}

#[tokio::test]
async fn eu_resident_asking_for_an_alias_is_routed_to_the_eu_deployment() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("eva", json!({"groups": ["engineering"], "residency": "EU"}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-customs-deployment"],
        "gpt-4o-azure-swedencentral"
    );
    let received = mock.received();
    assert_eq!(
        received[0].path,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(received[0].headers["api-key"], UPSTREAM_KEY);
    assert!(received[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn secrets_are_refused_and_never_forwarded() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "my key is AKIAIOSFODNN7EXAMPLE ok"}]}),
        )
        .await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["policy_ids"], json!(["secrets.never-leave"]));
    assert!(!body.to_string().contains("AKIA"));
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn a_caller_without_a_permitting_group_is_refused() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("mallory", json!({"groups": ["marketing"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_permitted");
    assert!(mock.received().is_empty());
}

#[tokio::test]
async fn streaming_is_passed_through_chunk_by_chunk() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-4o-us", "stream": true, "messages": [{"role": "user", "content": format!("hi {EMAIL}")}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.bytes_stream();
    // The upstream holds everything after its first chunk until released: reading the
    // first chunk now proves nothing is buffered in between.
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the first chunk must arrive before the upstream finishes")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("first"));
    mock.release_stream();
    let mut rest = Vec::new();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.contains("second") && rest.ends_with("data: [DONE]\n\n"),
        "{rest}"
    );
    assert!(!mock.received()[0].body.contains(EMAIL));
    assert_eq!(gateway.events().len(), 1);
}

#[tokio::test]
async fn responses_and_embeddings_are_inspected_too() {
    let mock = MockUpstream::start().await;
    let gateway = TestGateway::start(config_with_mock(&mock)).await;
    let token = dev_token("bob", json!({"groups": ["engineering"]}));
    let response = gateway
        .post(
            "/v1/responses",
            &token,
            &json!({"model": "customs-echo", "instructions": format!("cc {EMAIL}"), "input": [{"role": "user", "content": [{"type": "input_text", "text": format!("card {CARD}")}]}]}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let text = body["output"][0]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("[EMAIL_1]") && text.contains("[CARD_NUMBER_1]"),
        "{text}"
    );
    assert!(!text.contains(EMAIL));

    let response = gateway
        .post("/v1/embeddings", &token, &json!({"model": "text-embedding-3-small", "input": ["plain", format!("mail {EMAIL}")]}))
        .await;
    assert_eq!(response.status(), 200);
    let arrived: Value = serde_json::from_str(&mock.received()[0].body).unwrap();
    assert_eq!(arrived["input"], json!(["plain", "mail [EMAIL_1]"]));
    assert_eq!(gateway.events().len(), 2);
}

#[tokio::test]
async fn unknown_model_is_404_in_openai_shape() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let response = gateway
        .post(
            "/v1/chat/completions",
            &token,
            &json!({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    let events = gateway.events();
    assert_eq!(events.len(), 1);
    // The caller's arbitrary model name is not written to the audit trail.
    assert_eq!(
        events[0].requested_model.as_deref(),
        Some(customs::pipeline::UNKNOWN_MODEL)
    );
}

#[tokio::test]
async fn models_lists_the_catalog_with_residency_facts() {
    let gateway = TestGateway::start(Config::embedded().unwrap()).await;
    let token = dev_token("alice", json!({}));
    let response = client()
        .get(gateway.url("/v1/models"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["object"], "list");
    let models = body["data"].as_array().unwrap();
    let azure = models
        .iter()
        .find(|m| m["id"] == "gpt-4o-azure-swedencentral")
        .unwrap();
    assert_eq!(azure["provider"], "azure-openai");
    assert_eq!(azure["jurisdiction"], "EU");
    assert_eq!(azure["region"], "swedencentral");
    assert!(
        azure["certifications"]
            .as_array()
            .unwrap()
            .contains(&json!("HIPAA"))
    );
    let alias = models.iter().find(|m| m["id"] == "gpt-4o").unwrap();
    assert_eq!(alias["deployments"].as_array().unwrap().len(), 2);
    let unauthenticated = client()
        .get(gateway.url("/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
