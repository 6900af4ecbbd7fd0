//! Token minting: the development token behind `customs token`, and a general signer
//! that tests (unit and integration) use to forge exactly the token they need.
//!
//! Not on the request path: Customs only verifies. Minting lives here, next to the
//! verifier, so the development key pair and its `kid` are defined in one place and
//! the tests exercise the same code that `customs token` ships.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header};
use serde_json::{Map, Value};

use super::config::{DEV_AUDIENCE, DEV_ISSUER};
use super::keys::DEV_KEY_ID;

/// Private half of the development key (Ed25519, PKCS#8 PEM). Public on purpose: it
/// signs tokens for local trials, and only the embedded default config trusts it.
const DEV_PRIVATE_KEY_PEM: &str = include_str!("dev_signing_key.pem");

/// Claims that [`mint_dev_token`] sets itself and callers may not override.
pub const RESERVED_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "sub"];

/// Signs `claims` as a JWS compact token.
///
/// `key` is a PKCS#8/PKCS#1/SEC1 PEM private key for RSA, EC and EdDSA algorithms, and
/// the raw secret bytes for `HS*` (handy for proving that a public key used as an HMAC
/// secret is refused). `kid`, when given, goes in the header.
///
/// # Errors
/// When the key does not parse for the algorithm's family, or signing fails.
pub fn sign_token(
    alg: Algorithm,
    key: &[u8],
    kid: Option<&str>,
    claims: &Value,
) -> anyhow::Result<String> {
    let encoding_key = match alg.family() {
        AlgorithmFamily::Hmac => EncodingKey::from_secret(key),
        AlgorithmFamily::Rsa => {
            EncodingKey::from_rsa_pem(key).context("not an RSA private key PEM")?
        }
        AlgorithmFamily::Ec => {
            EncodingKey::from_ec_pem(key).context("not an EC private key PEM")?
        }
        AlgorithmFamily::Ed => {
            EncodingKey::from_ed_pem(key).context("not an Ed25519 private key PEM")?
        }
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding_key).context("signing the token")
}

/// Mints a token signed by the development key: `sub`, `iss = "customs-dev"`,
/// `aud = "customs"`, `iat`/`nbf` now, `exp` after `ttl`, plus `extra_claims` (e.g.
/// `groups`, `residency`, `department`, `tenant`, `principal_type`).
///
/// Only an authenticator built with `trust_dev_key` (the embedded default
/// configuration) accepts these tokens.
///
/// # Errors
/// When `extra_claims` tries to set one of [`RESERVED_CLAIMS`], `sub` is empty, or the
/// ttl is zero or absurd.
pub fn mint_dev_token(
    sub: &str,
    extra_claims: Map<String, Value>,
    ttl: Duration,
) -> anyhow::Result<String> {
    if sub.trim().is_empty() {
        bail!("the subject must not be empty");
    }
    let reserved: Vec<&str> = RESERVED_CLAIMS
        .iter()
        .copied()
        .filter(|name| extra_claims.contains_key(*name))
        .collect();
    if !reserved.is_empty() {
        bail!(
            "claims {} are set by Customs and cannot be overridden",
            reserved.join(", ")
        );
    }
    if ttl.is_zero() {
        bail!("the token lifetime must be positive");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock is before 1970")?
        .as_secs();
    let exp = now
        .checked_add(ttl.as_secs().max(1))
        .context("token lifetime is too large")?;
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), Value::from(DEV_ISSUER));
    claims.insert("aud".to_owned(), Value::from(DEV_AUDIENCE));
    claims.insert("sub".to_owned(), Value::from(sub));
    claims.insert("iat".to_owned(), Value::from(now));
    claims.insert("nbf".to_owned(), Value::from(now));
    claims.insert("exp".to_owned(), Value::from(exp));
    claims.extend(extra_claims);
    sign_token(
        Algorithm::EdDSA,
        DEV_PRIVATE_KEY_PEM.as_bytes(),
        Some(DEV_KEY_ID),
        &Value::Object(claims),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reserved_claims_cannot_be_overridden() {
        let mut extra = Map::new();
        extra.insert("aud".to_owned(), Value::from("elsewhere"));
        extra.insert("exp".to_owned(), Value::from(1));
        let err = mint_dev_token("alice", extra, Duration::from_secs(60)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "claims aud, exp are set by Customs and cannot be overridden"
        );
    }

    #[test]
    fn dev_token_has_kid_and_dev_issuer() {
        let token = mint_dev_token("alice", Map::new(), Duration::from_secs(60)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(DEV_KEY_ID));
        assert_eq!(header.alg, Algorithm::EdDSA);
    }
}
