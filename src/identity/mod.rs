//! authenticate: verifies the caller's bearer JWT and turns its claims into a principal.
//!
//! This is the first phase after accept; nothing is parsed, scanned or forwarded for a
//! caller it refuses (401, with [`AuthError::www_authenticate`] and the stable
//! [`AuthError::code`] in the decision event). One token walks these steps, each
//! refusing with its own error:
//!
//! 1. `Authorization: Bearer <token>` (scheme case-insensitive), size and shape checked;
//! 2. the JOSE header is read *before* any key is chosen: `alg` must be in the
//!    allowlist (`none` never is), `crit` extensions are refused, `jku`/`x5u`/`jwk`
//!    headers are ignored (keys come only from configuration);
//! 3. the key is chosen by `kid` (in `keys.rs`); an unknown `kid` refreshes the JWKS once,
//!    rate-limited and single-flight (in `jwks.rs`); the key's type must allow `alg`, so
//!    an RSA/EC/OKP key can never verify an `HS*` token;
//! 4. signature, then `exp`/`nbf` (with leeway), `iss` and `aud`, by `jsonwebtoken`;
//! 5. claims become a [`Principal`] (in `claims.rs`).
//!
//! Why this shape: algorithm confusion, `alg: none` and key-id games are the classic JWT
//! failures, and each one is closed by a check that runs before the library sees the
//! token, with the library's own checks kept as a second line. Errors never carry the
//! token or a claim value, because they end up in logs and in the SIEM.
//!
//! CONTRACT (kept stable for the rest of the crate; internals are free to change):
//! `AuthConfig` (the `[auth]` config table), `Authenticator::new(&AuthConfig)`,
//! `Authenticator::authenticate(Option<&str>) -> Result<Principal, AuthError>`,
//! `AuthError::code()`, `mint_dev_token(...)`.

mod claims;
mod config;
mod error;
mod jwks;
mod keys;
mod sign;
#[cfg(test)]
mod tests;
mod verified;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{AlgorithmFamily, DecodingKey, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

pub use config::{AuthConfig, ClaimsConfig, DEV_AUDIENCE, DEV_ISSUER, STANDARD_ATTRIBUTES};
pub use error::AuthError;
/// JOSE signature algorithms, as taken by [`sign_token`].
pub use jsonwebtoken::Algorithm;
pub use keys::DEV_KEY_ID;
pub use sign::{RESERVED_CLAIMS, mint_dev_token, sign_token};

use config::MIN_HMAC_SECRET_BYTES;
use jwks::{RefreshPolicy, RemoteJwks};
use keys::VerifyingKey;

/// The largest token accepted (identity providers with many groups reach a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Whether the caller is a person or a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PrincipalKind {
    /// A person.
    User,
    /// A workload identity.
    Service,
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Principal {
    /// Person or workload.
    pub kind: PrincipalKind,
    /// Stable id (the mapped subject claim).
    pub id: String,
    /// Group names (become Cedar `Group` parents).
    pub groups: Vec<String>,
    /// Mapped string attributes: `residency`, `department`, `tenant` (empty when absent).
    pub attributes: BTreeMap<String, String>,
}

/// Verifies bearer tokens against the configured keys.
///
/// Build it once at start-up and share it (it is `Send + Sync`); keys are prepared
/// once and the remote JWKS cache lives inside.
#[derive(Debug)]
pub struct Authenticator {
    /// Allowed algorithms, each with its prepared validation rules.
    validations: HashMap<Algorithm, Validation>,
    /// The required `iss`.
    issuer: String,
    /// Keys that never change while running: the JWKS file, or the development key.
    static_keys: Vec<VerifyingKey>,
    /// The JWKS URL and its cache, when configured.
    remote: Option<RemoteJwks>,
    /// The shared secret, only when an `HS*` algorithm is allowed.
    hmac: Option<DecodingKey>,
    /// How claims become the principal.
    claims: ClaimsConfig,
    /// Tokens verified recently, so a repeated token skips the signature check.
    verified: verified::VerifiedTokens,
    /// Leeway for `exp`/`nbf`, seconds.
    leeway_secs: u64,
}

impl Authenticator {
    /// Builds the verifier: validates `config`, reads the HMAC secret from its
    /// environment variable, loads the JWKS file or fetches the JWKS URL once.
    ///
    /// # Errors
    /// On an invalid configuration, an unreadable or empty key source, or a missing or
    /// short HMAC secret. The gateway should not start in any of these cases.
    pub async fn new(config: &AuthConfig) -> anyhow::Result<Self> {
        let hmac_secret = match &config.hmac_secret_env {
            Some(name) => Some(
                std::env::var(name)
                    .with_context(|| {
                        format!("auth.hmac_secret_env: environment variable {name} is not set")
                    })?
                    .into_bytes(),
            ),
            None => None,
        };
        Self::with_hmac_secret(config, hmac_secret).await
    }

    /// [`Authenticator::new`] with the HMAC secret given directly (tests cannot set
    /// environment variables without `unsafe`).
    async fn with_hmac_secret(
        config: &AuthConfig,
        hmac_secret: Option<Vec<u8>>,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let allowed = config.allowed_algorithms()?;
        let hmac = match hmac_secret {
            Some(secret) if secret.len() < MIN_HMAC_SECRET_BYTES => {
                bail!(
                    "auth.hmac_secret_env: the HMAC secret must be at least {MIN_HMAC_SECRET_BYTES} bytes"
                )
            }
            Some(secret) => Some(DecodingKey::from_secret(&secret)),
            None => None,
        };
        let mut static_keys = Vec::new();
        if config.trust_dev_key {
            if !allowed.contains(&Algorithm::EdDSA) {
                bail!("the development key signs with EdDSA, which auth.algorithms does not allow");
            }
            static_keys.push(keys::dev_key()?);
        }
        if let Some(path) = &config.jwks_file {
            let bytes = tokio::fs::read(path)
                .await
                .with_context(|| format!("reading auth.jwks_file {}", path.display()))?;
            static_keys.extend(
                keys::parse_jwks(&bytes, &allowed)
                    .with_context(|| format!("auth.jwks_file {}", path.display()))?,
            );
        }
        let remote = match &config.jwks_url {
            Some(url) => {
                let policy = RefreshPolicy {
                    min_interval: Duration::from_secs(config.jwks_refresh_min_interval_secs),
                    max_age: Duration::from_secs(config.jwks_max_age_secs),
                    max_stale: Duration::from_secs(config.jwks_max_stale_secs),
                };
                Some(RemoteJwks::connect(url, allowed.clone(), policy).await?)
            }
            None => None,
        };
        let validations = allowed
            .iter()
            .map(|alg| (*alg, validation_for(*alg, config)))
            .collect();
        Ok(Self {
            validations,
            issuer: config.issuer.clone(),
            static_keys,
            remote,
            hmac,
            claims: config.claims.clone(),
            verified: verified::VerifiedTokens::default(),
            leeway_secs: config.leeway_secs,
        })
    }

    /// Verifies the `Authorization` header value and maps the token to a principal.
    ///
    /// # Errors
    /// The [`AuthError`] naming the first check that failed.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let result = self.verify(authorization).await;
        if let Err(err) = &result {
            tracing::debug!(code = err.code(), "authentication refused");
        }
        result
    }

    /// How many times the JWKS URL was fetched since start (0 without a URL).
    pub fn jwks_fetches(&self) -> u64 {
        self.remote.as_ref().map_or(0, RemoteJwks::fetch_count)
    }

    async fn verify(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let token = bearer_token(authorization)?;
        let digest = verified::digest(token);
        if let Some(principal) = self.verified.get(&digest) {
            return Ok(principal);
        }
        let header = read_header(token)?;
        if !self.validations.contains_key(&header.alg) {
            return Err(AuthError::UnsupportedAlgorithm("algorithm not allowed"));
        }
        let claims = self.verify_signature_and_claims(token, &header).await?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            // jsonwebtoken also accepts an array containing the issuer; we do not.
            return Err(AuthError::WrongIssuer);
        }
        let principal = claims::principal_from_claims(&claims, &self.claims)?;
        if let Some(exp) = claims.get("exp").and_then(Value::as_u64) {
            let nbf = claims.get("nbf").and_then(Value::as_u64);
            self.verified
                .insert(digest, principal.clone(), exp, nbf, self.leeway_secs);
        }
        Ok(principal)
    }

    /// Chooses the key (refreshing the JWKS on an unknown `kid`) and decodes.
    async fn verify_signature_and_claims(
        &self,
        token: &str,
        header: &TokenHeader,
    ) -> Result<Map<String, Value>, AuthError> {
        let alg = header.alg;
        let kid = header.kid.as_deref();
        if alg.family() == AlgorithmFamily::Hmac {
            // Only the configured secret verifies HS*; no key from a key set ever does.
            let key = self
                .hmac
                .as_ref()
                .ok_or(AuthError::UnsupportedAlgorithm("algorithm not allowed"))?;
            return self.decode(token, alg, key);
        }
        let snapshot = match &self.remote {
            Some(remote) => Some(remote.keys().await.ok_or(AuthError::KeySourceUnavailable)?),
            None => None,
        };
        let cached = snapshot.iter().flat_map(|s| s.keys.iter());
        if let Some(key) = keys::select(self.static_keys.iter().chain(cached), kid, alg)? {
            return self.decode(token, alg, &key.key);
        }
        // `select` answers "not found" only for a token with a kid.
        let (Some(remote), Some(kid)) = (&self.remote, kid) else {
            return Err(AuthError::UnknownKey("no trusted key has the token's kid"));
        };
        let refreshed = remote.refresh_for_unknown_kid(kid).await;
        match keys::select(
            self.static_keys.iter().chain(refreshed.keys.iter()),
            Some(kid),
            alg,
        )? {
            Some(key) => self.decode(token, alg, &key.key),
            None => Err(AuthError::UnknownKey("no trusted key has the token's kid")),
        }
    }

    /// Signature, then `exp`/`nbf`/`iss`/`aud`, by jsonwebtoken.
    fn decode(
        &self,
        token: &str,
        alg: Algorithm,
        key: &DecodingKey,
    ) -> Result<Map<String, Value>, AuthError> {
        if key.family() != alg.family() {
            return Err(AuthError::UnsupportedAlgorithm(
                "algorithm does not match the signing key",
            ));
        }
        let validation = self
            .validations
            .get(&alg)
            .ok_or(AuthError::UnsupportedAlgorithm("algorithm not allowed"))?;
        jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
            .map(|data| data.claims)
            .map_err(|err| map_jwt_error(err.kind()))
    }
}

/// The validation rules for one algorithm: required `exp`, `iss`, `aud`; `nbf` checked
/// when present; the configured leeway.
fn validation_for(alg: Algorithm, config: &AuthConfig) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = config.leeway_secs;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_audience(&[config.audience.as_str()]);
    validation
}

/// jsonwebtoken's verdict → ours. Its messages are not passed on: some quote input.
fn map_jwt_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(name) => AuthError::MissingClaim(name.clone()),
        ErrorKind::InvalidClaimFormat(name) => AuthError::MissingClaim(name.clone()),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => {
            AuthError::UnsupportedAlgorithm("algorithm does not match the signing key")
        }
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => {
            tracing::warn!("a trusted key could not be used for verification");
            AuthError::BadSignature
        }
        _ => AuthError::Malformed("token does not decode"),
    }
}

/// The token from `Authorization: Bearer <token>`, with its shape checked.
fn bearer_token(authorization: Option<&str>) -> Result<&str, AuthError> {
    let value = authorization.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, rest) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed("authorization scheme is not Bearer"));
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::Malformed("empty bearer token"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::Malformed("token too large"));
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(AuthError::Malformed("token is not a compact JWS"));
    }
    match token.split('.').count() {
        3 => Ok(token),
        5 => Err(AuthError::Malformed(
            "encrypted tokens (JWE) are not supported",
        )),
        _ => Err(AuthError::Malformed("token is not a compact JWS")),
    }
}

/// The parts of the JOSE header that decide how the token is verified.
#[derive(Debug)]
struct TokenHeader {
    alg: Algorithm,
    kid: Option<String>,
}

/// Reads the JOSE header ourselves, so `alg: none` and unknown algorithms get a precise
/// error instead of a generic decode failure.
fn read_header(token: &str) -> Result<TokenHeader, AuthError> {
    let encoded = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| AuthError::Malformed("header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::Malformed("header is not a JSON object"))?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg,
        _ => return Err(AuthError::Malformed("header has no alg")),
    };
    if alg.trim().eq_ignore_ascii_case("none") {
        return Err(AuthError::UnsupportedAlgorithm(
            "unsigned tokens (alg none) are never accepted",
        ));
    }
    let alg = alg
        .parse::<Algorithm>()
        .map_err(|_| AuthError::UnsupportedAlgorithm("unknown algorithm"))?;
    if header.contains_key("crit") {
        return Err(AuthError::Malformed(
            "critical header extensions are not supported",
        ));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(AuthError::Malformed("kid is not a string")),
    };
    Ok(TokenHeader { alg, kid })
}
