//! SigV4 verified the way AWS verifies it, by a second implementation written from the
//! specification (HMAC-SHA256 from `hmac` + `sha2`, nothing from `aws-sigv4`), so that
//! `customs::providers::sigv4::sign` is checked against something it does not share code
//! with.
//!
//! The verifier is proven first on vectors from AWS's published SigV4 test suite, then
//! used on Customs's own signatures: on a Bedrock request as built in memory, and on the
//! request as reqwest actually puts it on the wire to a loopback listener.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use customs::providers::sigv4::{self, AwsCredentials};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Checks a request's `Authorization` header the way an AWS (non-S3) service does.
///
/// `path_and_query` is the request target exactly as sent; `headers` every header as
/// received (names in any case, repeated names allowed). Returns what did not match.
pub fn verify(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    secret_access_key: &str,
) -> Result<(), String> {
    let authorization = single_header(headers, "authorization")?;
    let parts = Authorization::parse(&authorization)?;
    let amz_date = single_header(headers, "x-amz-date")?;
    if amz_date.len() != 16 || !amz_date.ends_with('Z') || amz_date.as_bytes()[8] != b'T' {
        return Err(format!("x-amz-date {amz_date:?} is not YYYYMMDDTHHMMSSZ"));
    }
    if parts.date != amz_date[..8] {
        return Err(format!(
            "credential date {} is not the date of x-amz-date {amz_date}",
            parts.date
        ));
    }

    // Signed headers: lowercase, sorted, unique, present; host and every x-amz-* header
    // (other than the signature itself) among them.
    let signed: Vec<&str> = parts.signed_headers.split(';').collect();
    let mut sorted = signed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted != signed || signed.iter().any(|name| name.to_lowercase() != *name) {
        return Err(format!(
            "SignedHeaders {} is not sorted, unique and lowercase",
            parts.signed_headers
        ));
    }
    if !signed.contains(&"host") {
        return Err("host is not signed".into());
    }
    for (name, _) in headers {
        let name = name.to_lowercase();
        if name.starts_with("x-amz-") && !signed.contains(&name.as_str()) {
            return Err(format!("{name} is sent but not signed"));
        }
    }

    let payload_hash = hex(&Sha256::digest(body));
    if let Some(declared) = header_values(headers, "x-amz-content-sha256")
        && declared != payload_hash
    {
        return Err("x-amz-content-sha256 is not the body's hash".into());
    }

    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, query),
        None => (path_and_query, ""),
    };
    let mut canonical_headers = String::new();
    for name in &signed {
        let value = header_values(headers, name)
            .ok_or_else(|| format!("signed header {name} is not in the request"))?;
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let canonical_request = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_uri(path),
        canonical_query(query),
        parts.signed_headers,
    );

    let scope = format!(
        "{}/{}/{}/aws4_request",
        parts.date, parts.region, parts.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = hmac(format!("AWS4{secret_access_key}").as_bytes(), &parts.date);
    let key = hmac(&key, &parts.region);
    let key = hmac(&key, &parts.service);
    let key = hmac(&key, "aws4_request");
    let expected = hex(&hmac(&key, &string_to_sign));
    if expected != parts.signature {
        return Err(format!(
            "signature mismatch: request has {}, expected {expected}\n\
             canonical request:\n{canonical_request}\nstring to sign:\n{string_to_sign}",
            parts.signature
        ));
    }
    Ok(())
}

/// The fields of an `Authorization: AWS4-HMAC-SHA256 …` header.
struct Authorization {
    date: String,
    region: String,
    service: String,
    signed_headers: String,
    signature: String,
}

impl Authorization {
    fn parse(header: &str) -> Result<Authorization, String> {
        let (algorithm, rest) = header
            .split_once(' ')
            .ok_or("Authorization has no algorithm")?;
        if algorithm != ALGORITHM {
            return Err(format!("algorithm {algorithm} is not {ALGORITHM}"));
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in rest.split(',') {
            let (key, value) = field
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("Authorization field {field:?} has no '='"))?;
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                other => return Err(format!("unknown Authorization field {other}")),
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(format!("Authorization field {key} repeated"));
            }
        }
        let credential = credential.ok_or("Authorization has no Credential")?;
        let scope: Vec<&str> = credential.split('/').collect();
        let [_access_key_id, date, region, service, terminator] = scope[..] else {
            return Err(format!(
                "Credential {credential} is not AKID/date/region/service/aws4_request"
            ));
        };
        if terminator != "aws4_request" || date.len() != 8 {
            return Err(format!("Credential {credential} has a malformed scope"));
        }
        let signature = signature.ok_or("Authorization has no Signature")?;
        if signature.len() != 64
            || !signature
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("Signature is not 64 lowercase hex digits".into());
        }
        Ok(Authorization {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers: signed_headers.ok_or("Authorization has no SignedHeaders")?,
            signature,
        })
    }
}

/// All values of a header (case-insensitive name) in order, each trimmed with inner runs
/// of spaces collapsed, joined by commas; `None` if absent.
fn header_values(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| {
            value
                .split(' ')
                .filter(|word| !word.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn single_header(headers: &[(String, String)], name: &str) -> Result<String, String> {
    let count = headers
        .iter()
        .filter(|(key, _)| key.eq_ignore_ascii_case(name))
        .count();
    match count {
        1 => Ok(header_values(headers, name).unwrap_or_default()),
        0 => Err(format!("no {name} header")),
        _ => Err(format!("{name} header repeated")),
    }
}

/// The path as received, dot segments and empty segments removed (RFC 3986, as AWS
/// does for every service but S3), then URI-encoded. The received path is already
/// percent-encoded, so this is the second encoding: `%3A` becomes `%253A`.
fn canonical_uri(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut path = String::from("/");
    path.push_str(&segments.join("/"));
    let trailing = ["/", "/.", "/.."].iter().any(|end| raw_path.ends_with(end));
    if trailing && !path.ends_with('/') {
        path.push('/');
    }
    uri_encode(&path, false)
}

/// Query parameters decoded, re-encoded, and sorted by name then value.
fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&percent_decode(key), true),
                uri_encode(&percent_decode(value), true),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// SigV4's UriEncode: every byte but `A-Za-z0-9-._~` as `%XX` (upper case); `/` kept
/// unless `encode_slash`.
fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || b"-._~".contains(&byte);
        if unreserved || (byte == b'/' && !encode_slash) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Form decoding of a query component: `%XX` to its byte, `+` to a space.
fn percent_decode(text: &str) -> String {
    fn hex_digit(byte: u8) -> Option<u8> {
        char::from(byte).to_digit(16).map(|digit| digit as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes[index..] {
            [b'%', high, low, ..] => hex_digit(high).zip(hex_digit(low)),
            _ => None,
        };
        match (escaped, bytes[index]) {
            (Some((high, low)), _) => {
                out.push(high << 4 | low);
                index += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                index += 1;
            }
            (None, other) => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

// ---------------------------------------------------------------------------------------
// The verifier against AWS's published vectors.

const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// One vector of the SigV4 test suite: the signed request as given there.
struct Vector {
    name: &'static str,
    method: &'static str,
    target: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
}

const VECTORS: &[Vector] = &[
    Vector {
        name: "get-vanilla",
        method: "GET",
        target: "/",
        headers: &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
        ],
        body: b"",
    },
    Vector {
        name: "get-vanilla-query-order-encoded",
        method: "GET",
        target: "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
        headers: &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
            ),
        ],
        body: b"",
    },
    Vector {
        name: "get-utf8",
        method: "GET",
        target: "/\u{1234}",
        headers: &[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
        ],
        body: b"",
    },
    Vector {
        name: "get-vanilla-with-session-token",
        method: "GET",
        target: "/",
        headers: &[
            ("Host", "example.amazonaws.com"),
            (
                "X-Amz-Security-Token",
                "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
            ),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-security-token, \
                 Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
            ),
        ],
        body: b"",
    },
    Vector {
        name: "post-x-www-form-urlencoded",
        method: "POST",
        target: "/",
        headers: &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Host", "example.amazonaws.com"),
            ("Content-Length", "13"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "x-amz-content-sha256",
                "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            ),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, \
                 Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
            ),
        ],
        body: b"Param1=value1",
    },
    // A path already percent-encoded once (an ARN's ':' as %3A) is encoded again in the
    // canonical request: the case Bedrock model ids hit.
    Vector {
        name: "double-url-encode",
        method: "POST",
        target: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations",
        headers: &[
            ("Host", "lambda.us-east-2.amazonaws.com"),
            ("X-Amz-Date", "20210511T154045Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210511/us-east-2/lambda/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804",
            ),
        ],
        body: b"",
    },
];

#[test]
fn verifier_accepts_the_aws_test_suite_vectors() {
    for vector in VECTORS {
        verify(
            vector.method,
            vector.target,
            &owned(vector.headers),
            vector.body,
            EXAMPLE_SECRET,
        )
        .unwrap_or_else(|error| panic!("{}: {error}", vector.name));
    }
}

#[test]
fn verifier_rejects_altered_vectors() {
    let vanilla = &VECTORS[0];
    let headers = owned(vanilla.headers);
    assert!(verify("GET", "/", &headers, b"", "wrong-secret").is_err());
    assert!(verify("POST", "/", &headers, b"", EXAMPLE_SECRET).is_err());
    assert!(verify("GET", "/other", &headers, b"", EXAMPLE_SECRET).is_err());
    assert!(verify("GET", "/?a=b", &headers, b"", EXAMPLE_SECRET).is_err());
    assert!(verify("GET", "/", &headers, b"x", EXAMPLE_SECRET).is_err());
    let mut other_host = headers.clone();
    other_host[0].1 = "evil.example.com".into();
    assert!(verify("GET", "/", &other_host, b"", EXAMPLE_SECRET).is_err());
    let mut unsigned_amz = headers.clone();
    unsigned_amz.push(("X-Amz-Target".into(), "Something".into()));
    assert!(verify("GET", "/", &unsigned_amz, b"", EXAMPLE_SECRET).is_err());
    // Encoded once instead of twice: the double-url-encode vector with its path decoded.
    let double = &VECTORS[5];
    let decoded = double.target.replace("%3A", ":");
    assert!(
        verify(
            "POST",
            &decoded,
            &owned(double.headers),
            b"",
            EXAMPLE_SECRET
        )
        .is_err()
    );
}

// ---------------------------------------------------------------------------------------
// Customs's signatures.

const BEDROCK_URL: &str = "https://bedrock-runtime.eu-central-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse";
const BEDROCK_HOST: &str = "bedrock-runtime.eu-central-1.amazonaws.com";
const BEDROCK_PATH: &str = "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse";
const BODY: &[u8] = br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#;

/// 2015-08-30T12:36:00Z.
fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn example_creds(token: Option<&str>) -> AwsCredentials {
    AwsCredentials::new("AKIDEXAMPLE", EXAMPLE_SECRET, token.map(str::to_owned))
}

fn sign_bedrock(url: &str, body: &[u8], creds: &AwsCredentials) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    sigv4::sign(
        "POST",
        url,
        &mut headers,
        body,
        creds,
        "eu-central-1",
        "bedrock",
        fixed_time(),
    )
    .unwrap();
    headers
}

/// The headers a server sees: the signed map plus the `host` the client derives.
fn as_received(headers: &HeaderMap, host: &str) -> Vec<(String, String)> {
    let mut received = vec![("host".to_owned(), host.to_owned())];
    for (name, value) in headers {
        received.push((name.to_string(), value.to_str().unwrap().to_owned()));
    }
    received
}

#[test]
fn customs_bedrock_signature_verifies_and_covers_the_body() {
    let headers = sign_bedrock(BEDROCK_URL, BODY, &example_creds(None));
    let received = as_received(&headers, BEDROCK_HOST);
    verify("POST", BEDROCK_PATH, &received, BODY, EXAMPLE_SECRET).unwrap();

    // The value pinned in the signer's unit test is this independently checked one.
    assert!(
        headers["authorization"].to_str().unwrap().ends_with(
            "Signature=cbbb74af9dffcde765466d690e49118b64c9831a7fb2e473cc7d7bacf2c3871a"
        ),
        "{}",
        headers["authorization"].to_str().unwrap()
    );

    let mut changed = BODY.to_vec();
    changed[BODY.len() / 2] ^= 0x01;
    let error = verify("POST", BEDROCK_PATH, &received, &changed, EXAMPLE_SECRET).unwrap_err();
    assert!(error.contains("signature mismatch"), "{error}");
}

#[test]
fn customs_signature_with_session_token_and_encoded_model_id_verifies() {
    let creds = example_creds(Some("FwoGZXIvYXdzEXAMPLETOKEN"));
    let encoded_url = BEDROCK_URL.replace("v1:0", "v1%3A0");
    let headers = sign_bedrock(&encoded_url, BODY, &creds);
    assert_eq!(headers["x-amz-security-token"], "FwoGZXIvYXdzEXAMPLETOKEN");
    let received = as_received(&headers, BEDROCK_HOST);
    let encoded_path = BEDROCK_PATH.replace("v1:0", "v1%3A0");
    verify("POST", &encoded_path, &received, BODY, EXAMPLE_SECRET).unwrap();
    // `:` and `%3A` are different requests to a signature.
    assert!(verify("POST", BEDROCK_PATH, &received, BODY, EXAMPLE_SECRET).is_err());
}

/// One HTTP/1.1 request as it arrived on a socket.
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Accepts one connection on a loopback listener, reads one request, answers 200.
async fn capture_one(listener: tokio::net::TcpListener) -> RawRequest {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = socket.read(&mut chunk).await.unwrap();
        assert!(read > 0, "connection closed before the request head ended");
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut chunk).await.unwrap();
        assert!(read > 0, "connection closed inside the body");
        body.extend_from_slice(&chunk[..read]);
    }
    socket
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    RawRequest {
        method: request_line[0].to_owned(),
        target: request_line[1].to_owned(),
        headers,
        body,
    }
}

/// What is signed is what reqwest sends: the request is captured off the socket and
/// verified from its raw bytes, `host` (with its non-default port) and path included.
#[tokio::test]
async fn signature_matches_what_reqwest_puts_on_the_wire() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(capture_one(listener));

    let url = format!("http://{addr}{BEDROCK_PATH}");
    let creds = example_creds(Some("session-token-value"));
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    sigv4::sign(
        "POST",
        &url,
        &mut headers,
        BODY,
        &creds,
        "eu-central-1",
        "bedrock",
        SystemTime::now(),
    )
    .unwrap();
    let response = reqwest::Client::new()
        .post(&url)
        .headers(headers)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let raw = server.await.unwrap();
    assert_eq!(raw.target, BEDROCK_PATH, "reqwest rewrote the path");
    assert_eq!(raw.body, BODY);
    verify(
        &raw.method,
        &raw.target,
        &raw.headers,
        &raw.body,
        EXAMPLE_SECRET,
    )
    .unwrap();
}
