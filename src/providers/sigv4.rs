//! forward for Bedrock: signs the outgoing request with AWS Signature Version 4.
//!
//! Bedrock takes no API key; every request carries an `Authorization` header computed
//! from the method, path, query, chosen headers and a SHA-256 of the body, keyed by the
//! deployment's AWS credentials. The signing itself is the official `aws-sigv4` crate;
//! this module decides what goes into it so that what is signed is exactly what the HTTP
//! client sends:
//!
//! - the URL goes through [`reqwest::Url`] first, the same parser the client uses, so the
//!   path signed is the path on the wire (a Bedrock model id's `:` stays as it is, `%3A`
//!   stays `%3A`; the signer then encodes it once more, as AWS does for every service
//!   except S3);
//! - `host` is signed as the client will send it, host name plus any non-default port,
//!   derived from that same URL and not added to the headers (the client adds it, or
//!   sends `:authority` over HTTP/2);
//! - every header already in the map is signed except `user-agent`, `authorization`,
//!   `x-amzn-trace-id` and `transfer-encoding`, which proxies may rewrite.
//!
//! Credentials come from the environment like the other providers' keys. Their `Debug`
//! shows the access key id only, and the signer's own trace logging (whose canonical
//! request would include a session token) is switched off while it runs.

use std::fmt;
use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest as _, Sha256};

/// Credentials for one AWS principal.
///
/// `Debug` shows the access key id and whether there is a session token, never the
/// secret key or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl AwsCredentials {
    /// Credentials from their parts; `session_token` for temporary credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> AwsCredentials {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        }
    }

    /// Reads `{prefix}_ACCESS_KEY_ID`, `{prefix}_SECRET_ACCESS_KEY` and, if set,
    /// `{prefix}_SESSION_TOKEN`; `"AWS"` reads the standard variables. `None` when either
    /// key is unset or empty.
    pub fn from_env(prefix: &str) -> Option<AwsCredentials> {
        AwsCredentials::from_lookup(prefix, |name| std::env::var(name).ok())
    }

    fn from_lookup(
        prefix: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Option<AwsCredentials> {
        let read =
            |name: &str| lookup(&format!("{prefix}_{name}")).filter(|value| !value.is_empty());
        Some(AwsCredentials {
            access_key_id: read("ACCESS_KEY_ID")?,
            secret_access_key: read("SECRET_ACCESS_KEY")?,
            session_token: read("SESSION_TOKEN"),
        })
    }

    /// The access key id (not secret: it names the key and appears in every signature).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Whether these are temporary credentials with a session token.
    pub fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a request could not be signed. Messages name the part at fault, never header
/// values, the body or credentials.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The URL does not parse, is not `http`/`https` with a host, or carries a user name
    /// or password.
    #[error("cannot sign a request to this URL: {0}")]
    Url(&'static str),
    /// A header value is not visible ASCII text, so it has no canonical form.
    #[error("cannot sign header {name}: its value is not text")]
    HeaderNotText {
        /// The header's name.
        name: HeaderName,
    },
    /// The signer refused the request or produced a header that is not valid.
    #[error("SigV4 signing failed: {0}")]
    Signer(String),
}

/// Signs a request in place: adds `authorization`, `x-amz-date` and, for temporary
/// credentials, `x-amz-security-token`, replacing any already there.
///
/// `url` must be the URL the request will be sent to, and `headers` every header that
/// will be sent, apart from `host` (taken from the URL) and headers the client adds
/// later (those are simply not signed). `service` is the signing name: `bedrock` for the
/// Bedrock runtime.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    url: &str,
    headers: &mut HeaderMap,
    body: &[u8],
    creds: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), SignError> {
    let url = wire_url(url)?;

    // The headers this function sets are computed; stale ones must not be signed.
    for computed in ["authorization", "x-amz-date", "x-amz-security-token"] {
        headers.remove(computed);
    }
    let mut pairs = Vec::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let value = value
            .to_str()
            .map_err(|_| SignError::HeaderNotText { name: name.clone() })?;
        pairs.push((name.as_str(), value));
    }

    // The body's hash is given precomputed so the signer never holds the body itself
    // (its `Debug` can print it when an environment variable asks).
    let body_hash = hex(&Sha256::digest(body));
    let request = SignableRequest::new(
        method,
        url.as_str(),
        pairs.into_iter(),
        SignableBody::Precomputed(body_hash),
    )
    .map_err(|error| SignError::Signer(error.to_string()))?;

    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone(),
        None,
        "customs",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| SignError::Signer(error.to_string()))?
        .into();

    // The signer traces the canonical request, which holds the session token.
    let signed =
        tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
            aws_sigv4::http_request::sign(request, &params)
        })
        .map_err(|error| SignError::Signer(error.to_string()))?;

    let (instructions, _signature) = signed.into_parts();
    let (new_headers, _params) = instructions.into_parts();
    for header in new_headers {
        let mut value = HeaderValue::from_str(header.value())
            .map_err(|_| SignError::Signer(format!("{} is not a header value", header.name())))?;
        value.set_sensitive(header.sensitive() || header.name() == "authorization");
        headers.insert(header.name(), value);
    }
    Ok(())
}

/// The URL as the HTTP client will send it.
fn wire_url(url: &str) -> Result<reqwest::Url, SignError> {
    let mut url = reqwest::Url::parse(url).map_err(|_| SignError::Url("not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SignError::Url("the scheme is not http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(SignError::Url("there is no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SignError::Url("it carries a user name or password"));
    }
    // Never sent, so never signed.
    url.set_fragment(None);
    Ok(url)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const URL: &str = "https://bedrock-runtime.eu-central-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse";

    fn creds(token: Option<&str>) -> AwsCredentials {
        AwsCredentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
        )
    }

    /// 2015-08-30T12:36:00Z, the AWS test suite's time.
    fn time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn signed(token: Option<&str>, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        sign(
            "POST",
            URL,
            &mut headers,
            body,
            &creds(token),
            "eu-central-1",
            "bedrock",
            time(),
        )
        .unwrap();
        headers
    }

    #[test]
    fn adds_date_and_authorization_over_host_and_content_type() {
        let headers = signed(None, br#"{"messages":[]}"#);
        assert_eq!(headers["x-amz-date"], "20150830T123600Z");
        let authorization = headers["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-central-1/bedrock/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, Signature="
            ),
            "{authorization}"
        );
        assert!(headers["authorization"].is_sensitive());
        assert!(!headers.contains_key("host"));
        assert!(!headers.contains_key("x-amz-security-token"));
        assert!(!headers.contains_key("x-amz-content-sha256"));
    }

    /// A fixed request, time and key give a fixed signature. The value was checked by
    /// the independent verifier in `tests/it/sigv4_check.rs`, which pins it too.
    #[test]
    fn known_signature_of_a_bedrock_converse_request() {
        let body = br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#;
        let headers = signed(None, body);
        assert_eq!(
            headers["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-central-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=cbbb74af9dffcde765466d690e49118b64c9831a7fb2e473cc7d7bacf2c3871a"
        );
    }

    #[test]
    fn signature_is_deterministic_and_covers_the_body() {
        let first = signed(None, b"{}");
        assert_eq!(first["authorization"], signed(None, b"{}")["authorization"]);
        assert_ne!(
            first["authorization"],
            signed(None, b"{ }")["authorization"]
        );
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let headers = signed(Some("the-session-token"), b"{}");
        assert_eq!(headers["x-amz-security-token"], "the-session-token");
        assert!(headers["x-amz-security-token"].is_sensitive());
        assert!(
            headers["authorization"]
                .to_str()
                .unwrap()
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,")
        );
    }

    #[test]
    fn resigning_replaces_the_previous_signature() {
        let mut headers = signed(Some("token"), b"{}");
        sign(
            "POST",
            URL,
            &mut headers,
            b"{}",
            &creds(None),
            "eu-central-1",
            "bedrock",
            time(),
        )
        .unwrap();
        assert_eq!(
            headers["authorization"],
            signed(None, b"{}")["authorization"]
        );
        assert!(!headers.contains_key("x-amz-security-token"));
    }

    #[test]
    fn bad_urls_and_headers_are_errors_not_panics() {
        for url in [
            "not a url",
            "unix:/var/run/socket",
            "https://user:pass@example.com/",
            "file:///etc/passwd",
        ] {
            let mut headers = HeaderMap::new();
            let error = sign(
                "GET",
                url,
                &mut headers,
                b"",
                &creds(None),
                "us-east-1",
                "bedrock",
                time(),
            )
            .unwrap_err();
            assert!(matches!(error, SignError::Url(_)), "{url}: {error}");
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-opaque", HeaderValue::from_bytes(b"\xff").unwrap());
        let error = sign(
            "GET",
            URL,
            &mut headers,
            b"",
            &creds(None),
            "us-east-1",
            "bedrock",
            time(),
        )
        .unwrap_err();
        assert!(matches!(error, SignError::HeaderNotText { .. }), "{error}");
    }

    #[test]
    fn debug_hides_secret_and_token() {
        let shown = format!("{:?}", creds(Some("the-session-token")));
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("wJalr"), "{shown}");
        assert!(!shown.contains("the-session-token"), "{shown}");
    }

    #[test]
    fn from_env_reads_prefixed_variables() {
        let environment = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        let full = environment(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
            ("BEDROCK_ACCESS_KEY_ID", "AKID2"),
            ("BEDROCK_SECRET_ACCESS_KEY", "secret2"),
            ("BEDROCK_SESSION_TOKEN", ""),
        ]);
        assert_eq!(
            AwsCredentials::from_lookup("AWS", full),
            Some(AwsCredentials::new("AKID", "secret", Some("token".into())))
        );
        assert_eq!(
            AwsCredentials::from_lookup("BEDROCK", full),
            Some(AwsCredentials::new("AKID2", "secret2", None))
        );
        let no_secret =
            environment(&[("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "")]);
        assert_eq!(AwsCredentials::from_lookup("AWS", no_secret), None);
        assert_eq!(
            AwsCredentials::from_env("CUSTOMS_SIGV4_TEST_UNSET_PREFIX"),
            None
        );
    }
}
