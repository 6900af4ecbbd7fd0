//! End-to-end checks of the authenticate phase: real tokens signed with the test keys in
//! `tests/support/keys/`, verified by a real [`Authenticator`], including a loopback
//! JWKS server for refresh and rate-limit behaviour. Each security rule of the module
//! doc has at least one test named after the attack it stops.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::*;

const RSA_PRIVATE: &[u8] = include_bytes!("../../tests/support/keys/rsa_test.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("../../tests/support/keys/rsa_test.pub.pem");
const RSA_JWKS: &str = include_str!("../../tests/support/keys/jwks.json");
const ED_OTHER_PRIVATE: &[u8] = include_bytes!("../../tests/support/keys/ed25519_other.pem");
/// The JWK `x` of `ed25519_other.pem`'s public key.
const ED_OTHER_X: &str = "4jZ37z1VO3o4pZ6y6nbT6e7_zFqJLRNOgwpBuKABzRk";
const ISSUER: &str = "https://idp.test/";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/keys")
}

fn file_config() -> AuthConfig {
    AuthConfig {
        issuer: ISSUER.to_owned(),
        audience: "customs".to_owned(),
        jwks_file: Some(keys_dir().join("jwks.json")),
        claims: ClaimsConfig {
            kind: Some("principal_type".to_owned()),
            ..ClaimsConfig::default()
        },
        ..AuthConfig::default()
    }
}

fn good_claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": "customs",
        "sub": "alice",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 300,
        "groups": ["eng", "compliance"],
        "residency": "EU",
        "department": "research",
        "tenant": "acme",
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

fn rs256(claims: &Value) -> String {
    sign_token(Algorithm::RS256, RSA_PRIVATE, Some("test-rsa-1"), claims).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Verifies `token` and checks that a refusal leaks neither the token nor claim values.
async fn check(auth: &Authenticator, token: &str) -> Result<Principal, AuthError> {
    let result = auth.authenticate(Some(&bearer(token))).await;
    if let Err(err) = &result {
        for text in [err.to_string(), err.www_authenticate(), format!("{err:?}")] {
            assert!(!text.contains(token), "error leaks the token: {text}");
            for value in ["alice", "acme", "research", "intruder"] {
                assert!(!text.contains(value), "error leaks a claim value: {text}");
            }
        }
    }
    result
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// --- the happy path and claim mapping ---------------------------------------------

#[tokio::test]
async fn valid_rs256_token_maps_groups_and_attributes() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let principal = check(&auth, &rs256(&good_claims())).await.unwrap();
    assert_eq!(principal.kind, PrincipalKind::User);
    assert_eq!(principal.id, "alice");
    assert_eq!(principal.groups, ["eng", "compliance"]);
    assert_eq!(principal.attributes["residency"], "EU");
    assert_eq!(principal.attributes["department"], "research");
    assert_eq!(principal.attributes["tenant"], "acme");
}

#[tokio::test]
async fn service_kind_audience_array_and_lowercase_scheme() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let claims = with(good_claims(), "principal_type", json!("service"));
    let claims = with(claims, "aud", json!(["other", "customs"]));
    let claims = without(claims, "residency");
    let token = rs256(&claims);
    let principal = auth
        .authenticate(Some(&format!("bearer  {token}")))
        .await
        .unwrap();
    assert_eq!(principal.kind, PrincipalKind::Service);
    assert_eq!(principal.attributes["residency"], "");
}

#[tokio::test]
async fn token_without_kid_uses_the_single_fitting_key() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = sign_token(Algorithm::RS256, RSA_PRIVATE, None, &good_claims()).unwrap();
    assert_eq!(check(&auth, &token).await.unwrap().id, "alice");
}

// --- lifetime, issuer, audience, required claims ----------------------------------

#[tokio::test]
async fn expired_token_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&with(good_claims(), "exp", json!(now() - 120)));
    assert_eq!(check(&auth, &token).await.unwrap_err(), AuthError::Expired);
}

#[tokio::test]
async fn expiry_within_leeway_is_accepted() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&with(good_claims(), "exp", json!(now() - 5)));
    check(&auth, &token).await.unwrap();
}

#[tokio::test]
async fn token_not_yet_valid_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&with(good_claims(), "nbf", json!(now() + 120)));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::NotYetValid
    );
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&with(good_claims(), "aud", json!("intruder")));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::WrongAudience
    );
    let token = rs256(&without(good_claims(), "aud"));
    assert_eq!(
        check(&auth, &token).await.unwrap_err().code(),
        "missing_claim"
    );
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&with(good_claims(), "iss", json!("https://intruder/")));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::WrongIssuer
    );
    let token = rs256(&with(
        good_claims(),
        "iss",
        json!([ISSUER, "https://intruder/"]),
    ));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::WrongIssuer
    );
}

#[tokio::test]
async fn missing_exp_or_subject_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&without(good_claims(), "exp"));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::MissingClaim("exp".to_owned())
    );
    let token = rs256(&without(good_claims(), "sub"));
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::MissingClaim("sub".to_owned())
    );
}

// --- keys and algorithms: the attacks ----------------------------------------------

#[tokio::test]
async fn unknown_kid_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = sign_token(
        Algorithm::RS256,
        RSA_PRIVATE,
        Some("rotated-away"),
        &good_claims(),
    )
    .unwrap();
    assert_eq!(
        check(&auth, &token).await.unwrap_err().code(),
        "unknown_key"
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let payload = b64(good_claims().to_string().as_bytes());
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None","kid":"test-rsa-1"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        let token = format!("{}.{payload}.", b64(header.as_bytes()));
        let err = check(&auth, &token).await.unwrap_err();
        assert_eq!(err.code(), "unsupported_algorithm", "{header}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm-confusion attack: the verifier's public key, which anyone
    // can read, used as an HMAC secret.
    let forged = sign_token(
        Algorithm::HS256,
        RSA_PUBLIC,
        Some("test-rsa-1"),
        &good_claims(),
    )
    .unwrap();
    let no_kid = sign_token(Algorithm::HS256, RSA_PUBLIC, None, &good_claims()).unwrap();

    // Default allowlist: HS256 is not allowed at all.
    let auth = Authenticator::new(&file_config()).await.unwrap();
    for token in [&forged, &no_kid] {
        assert_eq!(
            check(&auth, token).await.unwrap_err().code(),
            "unsupported_algorithm"
        );
    }

    // Even with HS256 allowed, only the configured secret verifies it, never a JWKS key.
    let config = AuthConfig {
        algorithms: vec!["RS256".to_owned(), "HS256".to_owned()],
        hmac_secret_env: Some("CUSTOMS_TEST_UNUSED".to_owned()),
        ..file_config()
    };
    let secret = b"an-hmac-secret-of-at-least-32-bytes!".to_vec();
    let auth = Authenticator::with_hmac_secret(&config, Some(secret.clone()))
        .await
        .unwrap();
    for token in [&forged, &no_kid] {
        assert_eq!(
            check(&auth, token).await.unwrap_err(),
            AuthError::BadSignature
        );
    }
    // ...and the real secret does verify, so the refusal above is about the key.
    let genuine = sign_token(Algorithm::HS256, &secret, None, &good_claims()).unwrap();
    assert_eq!(check(&auth, &genuine).await.unwrap().id, "alice");
}

#[tokio::test]
async fn short_hmac_secret_is_refused_at_start() {
    let config = AuthConfig {
        algorithms: vec!["HS256".to_owned()],
        hmac_secret_env: Some("CUSTOMS_TEST_UNUSED".to_owned()),
        ..file_config()
    };
    assert!(
        Authenticator::with_hmac_secret(&config, Some(b"short".to_vec()))
            .await
            .is_err()
    );
    assert!(
        Authenticator::new(&config).await.is_err(),
        "unset variable must fail"
    );
}

#[tokio::test]
async fn token_signed_by_another_key_with_the_dev_kid_is_refused() {
    let auth = Authenticator::new(&AuthConfig::development())
        .await
        .unwrap();
    let claims =
        json!({"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "intruder", "exp": now() + 60});
    let token = sign_token(
        Algorithm::EdDSA,
        ED_OTHER_PRIVATE,
        Some(DEV_KEY_ID),
        &claims,
    )
    .unwrap();
    assert_eq!(
        check(&auth, &token).await.unwrap_err(),
        AuthError::BadSignature
    );
}

#[tokio::test]
async fn rs256_token_with_the_dev_kid_is_refused_by_key_type() {
    let auth = Authenticator::new(&AuthConfig::development())
        .await
        .unwrap();
    let claims =
        json!({"iss": DEV_ISSUER, "aud": DEV_AUDIENCE, "sub": "intruder", "exp": now() + 60});
    let token = sign_token(Algorithm::RS256, RSA_PRIVATE, Some(DEV_KEY_ID), &claims).unwrap();
    assert_eq!(
        check(&auth, &token).await.unwrap_err().code(),
        "unsupported_algorithm"
    );
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    let token = rs256(&good_claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let promoted = b64(with(good_claims(), "groups", json!(["admin"]))
        .to_string()
        .as_bytes());
    parts[1] = &promoted;
    let forged = parts.join(".");
    assert_eq!(
        check(&auth, &forged).await.unwrap_err(),
        AuthError::BadSignature
    );
}

#[tokio::test]
async fn dev_token_is_accepted_only_when_the_dev_key_is_trusted() {
    let mut extra = Map::new();
    extra.insert("groups".to_owned(), json!(["eng"]));
    extra.insert("residency".to_owned(), json!("EU"));
    let token = mint_dev_token("dev-user", extra, Duration::from_secs(600)).unwrap();

    let dev = Authenticator::new(&AuthConfig::development())
        .await
        .unwrap();
    let principal = check(&dev, &token).await.unwrap();
    assert_eq!(principal.id, "dev-user");
    assert_eq!(principal.groups, ["eng"]);
    assert_eq!(principal.attributes["residency"], "EU");

    // Same issuer and audience, but a JWKS instead of the dev key: refused.
    let config = AuthConfig {
        issuer: DEV_ISSUER.to_owned(),
        audience: DEV_AUDIENCE.to_owned(),
        algorithms: vec!["RS256".to_owned(), "EdDSA".to_owned()],
        ..file_config()
    };
    let production = Authenticator::new(&config).await.unwrap();
    assert_eq!(
        check(&production, &token).await.unwrap_err().code(),
        "unknown_key"
    );
}

// --- header parsing ----------------------------------------------------------------

#[tokio::test]
async fn missing_and_malformed_headers() {
    let auth = Authenticator::new(&file_config()).await.unwrap();
    assert_eq!(
        auth.authenticate(None).await.unwrap_err(),
        AuthError::Missing
    );
    assert_eq!(
        auth.authenticate(Some("  ")).await.unwrap_err(),
        AuthError::Missing
    );
    let token = rs256(&good_claims());
    for header in [
        format!("Basic {token}"),
        "Bearer".to_owned(),
        "Bearer not-a-jwt".to_owned(),
        "Bearer a.b.c.d.e".to_owned(),
        "Bearer e30.e30.sig".to_owned(),
        format!("Bearer {token}=="),
        format!("Bearer {}", "a".repeat(20_000)),
    ] {
        let err = auth.authenticate(Some(&header)).await.unwrap_err();
        assert_eq!(err.code(), "malformed_token", "{header:.40}");
        assert!(!err.www_authenticate().contains(&token));
    }
    let crit = format!(
        "{}.{}.sig",
        b64(br#"{"alg":"RS256","crit":["exp"],"exp":1}"#),
        b64(good_claims().to_string().as_bytes())
    );
    assert_eq!(
        check(&auth, &crit).await.unwrap_err().code(),
        "malformed_token"
    );
}

// --- the remote JWKS ---------------------------------------------------------------

/// A loopback JWKS endpoint whose answer the test can change, counting its hits.
struct JwksServer {
    url: String,
    answer: Arc<std::sync::Mutex<(u16, String)>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(body: String, delay: Duration) -> Self {
        let answer = Arc::new(std::sync::Mutex::new((200, body)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (state_answer, state_hits) = (Arc::clone(&answer), Arc::clone(&hits));
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let (answer, hits) = (Arc::clone(&state_answer), Arc::clone(&state_hits));
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    let (status, body) = answer.lock().unwrap().clone();
                    (http::StatusCode::from_u16(status).unwrap(), body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, answer, hits }
    }

    fn answer(&self, status: u16, body: String) {
        *self.answer.lock().unwrap() = (status, body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn ed_other_jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": "other-ed-1", "x": ED_OTHER_X})
}

fn jwks_with(extra: &[Value]) -> String {
    let mut keys = vec![ed_other_jwk()];
    keys.extend_from_slice(extra);
    json!({ "keys": keys }).to_string()
}

fn rsa_jwk() -> Value {
    let jwks: Value = serde_json::from_str(RSA_JWKS).unwrap();
    jwks["keys"][0].clone()
}

fn url_config(url: &str) -> AuthConfig {
    AuthConfig {
        jwks_file: None,
        jwks_url: Some(url.to_owned()),
        ..file_config()
    }
}

fn ed_other_token() -> String {
    sign_token(
        Algorithm::EdDSA,
        ED_OTHER_PRIVATE,
        Some("other-ed-1"),
        &good_claims(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jwks_url_refreshes_on_unknown_kid_once_per_interval() {
    let server = JwksServer::start(jwks_with(&[]), Duration::from_millis(100)).await;
    let config = AuthConfig {
        jwks_refresh_min_interval_secs: 2,
        ..url_config(&server.url)
    };
    let auth = Arc::new(Authenticator::new(&config).await.unwrap());
    assert_eq!(
        (server.hits(), auth.jwks_fetches()),
        (1, 1),
        "one fetch at start"
    );
    check(&auth, &ed_other_token()).await.unwrap();

    // The issuer rotates in a new key, but the start-up fetch was moments ago: the
    // rate limit holds and the new kid stays unknown.
    server.answer(200, jwks_with(&[rsa_jwk()]));
    let rotated = rs256(&good_claims());
    assert_eq!(
        check(&auth, &rotated).await.unwrap_err().code(),
        "unknown_key"
    );
    assert_eq!(server.hits(), 1);

    // Once the interval has passed, a burst of tokens with the new kid triggers exactly
    // one fetch (no stampede), and all of them verify.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let burst = (0..20).map(|_| {
        let (auth, token) = (Arc::clone(&auth), rotated.clone());
        tokio::spawn(async move { auth.authenticate(Some(&bearer(&token))).await })
    });
    for result in futures_util::future::join_all(burst).await {
        assert_eq!(result.unwrap().unwrap().id, "alice");
    }
    assert_eq!(server.hits(), 2);

    // Forged kids right after: no further fetch, every one refused.
    let forged = sign_token(
        Algorithm::RS256,
        RSA_PRIVATE,
        Some("made-up"),
        &good_claims(),
    )
    .unwrap();
    let burst = (0..20).map(|_| {
        let (auth, token) = (Arc::clone(&auth), forged.clone());
        tokio::spawn(async move { auth.authenticate(Some(&bearer(&token))).await })
    });
    for result in futures_util::future::join_all(burst).await {
        assert_eq!(result.unwrap().unwrap_err().code(), "unknown_key");
    }
    assert_eq!((server.hits(), auth.jwks_fetches()), (2, 2));
}

#[tokio::test]
async fn stale_keys_serve_until_max_stale_then_fail_closed() {
    let server = JwksServer::start(jwks_with(&[]), Duration::ZERO).await;
    let config = AuthConfig {
        jwks_refresh_min_interval_secs: 0,
        jwks_max_age_secs: 1,
        jwks_max_stale_secs: 2,
        ..url_config(&server.url)
    };
    let auth = Authenticator::new(&config).await.unwrap();
    server.answer(500, "down".to_owned());

    tokio::time::sleep(Duration::from_millis(1200)).await;
    check(&auth, &ed_other_token()).await.unwrap();
    assert_eq!(server.hits(), 2, "a refresh was attempted");

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let err = check(&auth, &ed_other_token()).await.unwrap_err();
    assert_eq!(err, AuthError::KeySourceUnavailable);
    assert!(!err.blames_client());

    server.answer(200, jwks_with(&[]));
    check(&auth, &ed_other_token()).await.unwrap();
}

#[tokio::test]
async fn jwks_url_unreachable_at_start_fails_start() {
    let server = JwksServer::start("{\"keys\":[]}".to_owned(), Duration::ZERO).await;
    assert!(
        Authenticator::new(&url_config(&server.url)).await.is_err(),
        "empty key set"
    );
    server.answer(404, String::new());
    assert!(
        Authenticator::new(&url_config(&server.url)).await.is_err(),
        "HTTP 404"
    );
}
