//! authenticate: every failure is a 401 with a challenge, recorded, never forwarded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use customs::identity::{Algorithm, sign_token};
use serde_json::{Value, json};

use crate::support::*;

async fn gateway_with_mock() -> (MockUpstream, TestGateway) {
    let mock = MockUpstream::start().await;
    let mut config = rsa_config();
    let with_mock = config_with_mock(&mock);
    config.upstream = with_mock.upstream;
    let gateway = TestGateway::start(config).await;
    (mock, gateway)
}

fn chat() -> Value {
    json!({"model": "gpt-4o-us", "messages": [{"role": "user", "content": "hello"}]})
}

async fn assert_unauthenticated(gateway: &TestGateway, token: &str, expected_code: &str) {
    let response = gateway.post("/v1/chat/completions", token, &chat()).await;
    assert_eq!(response.status(), 401, "{expected_code}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["code"], expected_code, "{body}");
    assert!(
        !body.to_string().contains(token),
        "the error body echoes the token"
    );
}

#[tokio::test]
async fn a_valid_rs256_token_is_accepted() {
    let (mock, gateway) = gateway_with_mock().await;
    let response = gateway
        .post("/v1/chat/completions", &rsa_token(rsa_claims()), &chat())
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(mock.received().len(), 1);
    let events = gateway.events();
    assert_eq!(events[0].principal.as_ref().unwrap().id, "carol");
}

#[tokio::test]
async fn every_token_failure_is_401_and_nothing_is_forwarded() {
    let (mock, gateway) = gateway_with_mock().await;

    let mut expired = rsa_claims();
    expired["exp"] = json!(now() - 3600);
    assert_unauthenticated(&gateway, &rsa_token(expired), "token_expired").await;

    let mut wrong_audience = rsa_claims();
    wrong_audience["aud"] = json!("someone-else");
    assert_unauthenticated(&gateway, &rsa_token(wrong_audience), "wrong_audience").await;

    let mut wrong_issuer = rsa_claims();
    wrong_issuer["iss"] = json!("https://evil.example");
    assert_unauthenticated(&gateway, &rsa_token(wrong_issuer), "wrong_issuer").await;

    let pem = std::fs::read(keys_dir().join("rsa_test.pem")).unwrap();
    let unknown_kid = sign_token(
        Algorithm::RS256,
        &pem,
        Some("not-a-known-key"),
        &rsa_claims(),
    )
    .unwrap();
    assert_unauthenticated(&gateway, &unknown_kid, "unknown_key").await;

    // alg: none, hand-built.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"test-rsa-1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(rsa_claims().to_string());
    assert_unauthenticated(
        &gateway,
        &format!("{header}.{payload}."),
        "unsupported_algorithm",
    )
    .await;

    // The RSA public key used as an HMAC secret (algorithm confusion).
    let public_pem = std::fs::read(keys_dir().join("rsa_test.pub.pem")).unwrap();
    let confused = sign_token(Algorithm::HS256, &public_pem, Some(RSA_KID), &rsa_claims()).unwrap();
    assert_unauthenticated(&gateway, &confused, "unsupported_algorithm").await;

    // Another key under the trusted kid.
    let other = std::fs::read(keys_dir().join("ed25519_other.pem")).unwrap();
    let forged = sign_token(Algorithm::EdDSA, &other, Some(RSA_KID), &rsa_claims()).unwrap();
    let response = gateway.post("/v1/chat/completions", &forged, &chat()).await;
    assert_eq!(response.status(), 401);

    // No token at all, and a development token this configuration does not trust.
    let response = client()
        .post(gateway.url("/v1/chat/completions"))
        .json(&chat())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = gateway
        .post(
            "/v1/chat/completions",
            &dev_token("alice", json!({})),
            &chat(),
        )
        .await;
    assert_eq!(response.status(), 401);

    assert!(
        mock.received().is_empty(),
        "an unauthenticated request was forwarded"
    );
    let events = gateway.events();
    assert_eq!(events.len(), 9, "one decision event per request");
    assert!(
        events
            .iter()
            .all(|e| e.outcome == customs::audit::Outcome::Unauthenticated && e.status == 401)
    );
}
