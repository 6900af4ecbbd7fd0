//! Trusted verification keys: parsing a JWKS into keys that know which algorithms they
//! may verify, and choosing the key for one token.
//!
//! Part of the authenticate phase. The rule this file exists to enforce: **the key
//! decides the algorithm family, never the token.** Every [`VerifyingKey`] carries the
//! exact algorithms its type allows (an RSA key: RS*/PS*; P-256: ES256; P-384: ES384;
//! Ed25519: EdDSA; further narrowed by the JWK's own `alg`). A JWKS never yields an HMAC
//! key (`kty: oct` entries are skipped), so the classic "RSA public key used as an HMAC
//! secret" token cannot find a key that accepts `HS256`. Keys are turned into
//! [`DecodingKey`]s once, when the set is loaded, not per request.

use anyhow::{Context, bail};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde::Deserialize;

use super::error::AuthError;

/// Key id of the development key embedded in the binary.
pub const DEV_KEY_ID: &str = "customs-dev-1";
/// Public half of the development key (Ed25519, SPKI PEM).
const DEV_PUBLIC_KEY_PEM: &str = include_str!("dev_signing_key.pub.pem");

/// More keys than any real issuer publishes; a bigger set is refused as suspicious.
const MAX_KEYS: usize = 64;

/// One trusted public key, ready to verify.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    /// The JWK `kid`, if the issuer gave one.
    pub(crate) kid: Option<String>,
    /// Exactly the algorithms this key may verify (never empty).
    pub(crate) algorithms: Vec<Algorithm>,
    /// The prepared key.
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Whether this key may verify a token signed with `alg`.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }
}

/// The development key, trusted only when `trust_dev_key` is set.
pub(crate) fn dev_key() -> anyhow::Result<VerifyingKey> {
    let key = DecodingKey::from_ed_pem(DEV_PUBLIC_KEY_PEM.as_bytes())
        .context("embedded development public key is not a valid Ed25519 PEM")?;
    Ok(VerifyingKey {
        kid: Some(DEV_KEY_ID.to_owned()),
        algorithms: vec![Algorithm::EdDSA],
        key,
    })
}

/// A JWKS document, with each key kept raw so one odd key cannot reject the whole set.
#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

/// Parses a JWKS document into the keys usable for signature verification under
/// `allowed` (keys that could only verify disallowed algorithms are dropped).
///
/// # Errors
/// When the document is not a JWKS, is too big, or yields no usable key.
pub(crate) fn parse_jwks(bytes: &[u8], allowed: &[Algorithm]) -> anyhow::Result<Vec<VerifyingKey>> {
    let raw: RawKeySet =
        serde_json::from_slice(bytes).context("not a JWKS document ({\"keys\": [...]})")?;
    if raw.keys.len() > MAX_KEYS {
        bail!(
            "JWKS holds {} keys; at most {MAX_KEYS} are accepted",
            raw.keys.len()
        );
    }
    let mut keys = Vec::with_capacity(raw.keys.len());
    for (index, value) in raw.keys.into_iter().enumerate() {
        match verifying_key_from_jwk(value, allowed) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => {}
            Err(err) => tracing::warn!(index, error = %err, "skipping unusable JWKS key"),
        }
    }
    if keys.is_empty() {
        bail!("JWKS holds no signature key usable with the configured algorithms");
    }
    Ok(keys)
}

/// One JWK → a verifying key; `Ok(None)` for keys that are legitimately not ours to use
/// (encryption keys, symmetric keys, algorithms outside the allowlist).
fn verifying_key_from_jwk(
    value: serde_json::Value,
    allowed: &[Algorithm],
) -> anyhow::Result<Option<VerifyingKey>> {
    let jwk: Jwk = serde_json::from_value(value).context("not a JWK")?;
    let kid = jwk.common.key_id.clone();
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Ok(None);
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Ok(None);
    }
    let (family_algorithms, key): (&[Algorithm], DecodingKey) = match &jwk.algorithm {
        AlgorithmParameters::RSA(params) => (
            AlgorithmFamily::Rsa.algorithms(),
            DecodingKey::from_rsa_components(&params.n, &params.e).context("bad RSA n/e")?,
        ),
        AlgorithmParameters::EllipticCurve(params) => {
            let (alg, coordinate_len) = match params.curve {
                EllipticCurve::P256 => (&[Algorithm::ES256][..], 32),
                EllipticCurve::P384 => (&[Algorithm::ES384][..], 48),
                _ => return Ok(None),
            };
            if decoded_len(&params.x)? != coordinate_len
                || decoded_len(&params.y)? != coordinate_len
            {
                bail!("EC coordinates do not match the curve");
            }
            (
                alg,
                DecodingKey::from_ec_components(&params.x, &params.y).context("bad EC x/y")?,
            )
        }
        AlgorithmParameters::OctetKeyPair(params) => {
            if params.curve != EllipticCurve::Ed25519 {
                return Ok(None);
            }
            if decoded_len(&params.x)? != 32 {
                bail!("Ed25519 public key must be 32 bytes");
            }
            (
                &[Algorithm::EdDSA][..],
                DecodingKey::from_ed_components(&params.x).context("bad OKP x")?,
            )
        }
        // Symmetric keys are never taken from a key set: HMAC secrets come only from
        // `hmac_secret_env`, so a public key set can never make HS* tokens verifiable.
        AlgorithmParameters::OctetKey(_) | AlgorithmParameters::Other(_) => return Ok(None),
        _ => return Ok(None),
    };
    let declared = match jwk.common.key_algorithm {
        // A declared `alg` we cannot map (e.g. RSA-OAEP) means the key is not for us.
        Some(declared) => match declared.to_string().parse::<Algorithm>() {
            Ok(alg) => Some(alg),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    let algorithms: Vec<Algorithm> = family_algorithms
        .iter()
        .copied()
        .filter(|alg| declared.is_none_or(|d| d == *alg) && allowed.contains(alg))
        .collect();
    if algorithms.is_empty() {
        return Ok(None);
    }
    Ok(Some(VerifyingKey {
        kid,
        algorithms,
        key,
    }))
}

/// Length of a base64url (unpadded) value once decoded.
fn decoded_len(value: &str) -> anyhow::Result<usize> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .context("key coordinate is not base64url")?;
    Ok(bytes.len())
}

/// Chooses the key for a token from `keys`.
///
/// With a `kid`: the key with that id (`Ok(None)` when there is none, so the caller may
/// refresh the JWKS and ask again). Without a `kid`: the single key that fits `alg`;
/// none or several is [`AuthError::UnknownKey`]. A found key whose type does not allow
/// `alg` is [`AuthError::UnsupportedAlgorithm`].
pub(crate) fn select<'k>(
    keys: impl Iterator<Item = &'k VerifyingKey>,
    kid: Option<&str>,
    alg: Algorithm,
) -> Result<Option<&'k VerifyingKey>, AuthError> {
    match kid {
        Some(kid) => {
            let mut with_kid = keys
                .filter(|key| key.kid.as_deref() == Some(kid))
                .peekable();
            if with_kid.peek().is_none() {
                return Ok(None);
            }
            // Issuers may publish one kid for several algorithms; take the one that fits.
            with_kid
                .find(|key| key.fits(alg))
                .map(Some)
                .ok_or(AuthError::UnsupportedAlgorithm(
                    "algorithm does not match the signing key",
                ))
        }
        None => {
            let mut fitting = keys.filter(|key| key.fits(alg));
            match (fitting.next(), fitting.next()) {
                (Some(only), None) => Ok(Some(only)),
                (None, _) => Err(AuthError::UnknownKey("no trusted key fits the token")),
                (Some(_), Some(_)) => Err(AuthError::UnknownKey(
                    "token has no kid and several trusted keys fit",
                )),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const RSA_JWKS: &str = include_str!("../../tests/support/keys/jwks.json");
    const ALL: [Algorithm; 4] = [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::HS256,
    ];

    #[test]
    fn rsa_jwk_with_alg_verifies_only_that_alg() {
        let keys = parse_jwks(RSA_JWKS.as_bytes(), &ALL).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("test-rsa-1"));
        assert_eq!(keys[0].algorithms, vec![Algorithm::RS256]);
    }

    #[test]
    fn symmetric_and_encryption_keys_are_skipped() {
        let jwks = r#"{"keys":[
            {"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0","kid":"h"},
            {"kty":"OKP","crv":"Ed25519","use":"enc","kid":"e","x":"Oy8qpGV9D5mSDgO6mDnwEz--F3iRPhoRPLMrjU0N4fo"},
            {"kty":"OKP","crv":"Ed25519","kid":"ok","x":"Oy8qpGV9D5mSDgO6mDnwEz--F3iRPhoRPLMrjU0N4fo"}
        ]}"#;
        let keys = parse_jwks(jwks.as_bytes(), &ALL).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("ok"));
        assert_eq!(keys[0].algorithms, vec![Algorithm::EdDSA]);
        assert!(parse_jwks(br#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#, &ALL).is_err());
    }

    #[test]
    fn keys_for_disallowed_algorithms_are_dropped() {
        assert!(parse_jwks(RSA_JWKS.as_bytes(), &[Algorithm::EdDSA]).is_err());
    }

    #[test]
    fn selection_by_kid_and_without_kid() {
        let keys = parse_jwks(RSA_JWKS.as_bytes(), &ALL).unwrap();
        let dev = dev_key().unwrap();
        let all = [keys[0].clone(), dev];
        assert!(
            select(all.iter(), Some("test-rsa-1"), Algorithm::RS256)
                .unwrap()
                .is_some()
        );
        assert!(
            select(all.iter(), Some("nope"), Algorithm::RS256)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            select(all.iter(), Some("test-rsa-1"), Algorithm::HS256)
                .unwrap_err()
                .code(),
            "unsupported_algorithm"
        );
        let only = select(all.iter(), None, Algorithm::EdDSA).unwrap().unwrap();
        assert_eq!(only.kid.as_deref(), Some(DEV_KEY_ID));
        assert_eq!(
            select(all.iter(), None, Algorithm::ES256)
                .unwrap_err()
                .code(),
            "unknown_key"
        );
    }
}
