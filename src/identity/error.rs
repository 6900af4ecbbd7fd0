//! Why the authenticate phase refused a caller.
//!
//! Each variant has a stable [`AuthError::code`] for the decision event and a
//! [`AuthError::www_authenticate`] challenge for the 401 response. Variants carry only
//! static text chosen by Customs (and claim *names* from the configuration), never the
//! token, a header value or a claim value: the error text reaches logs, the SIEM and
//! the caller, and a bearer token in any of them would be a leaked credential.

/// Why a caller was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header (or an empty one).
    #[error("missing bearer token")]
    Missing,
    /// The header or token is not a well-formed `Bearer` JWS compact token.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header `alg` is `none`, unknown, not in the allowlist, or does not fit the key.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(&'static str),
    /// No trusted key matches the token's `kid` (even after a JWKS refresh).
    #[error("unknown signing key: {0}")]
    UnknownKey(&'static str),
    /// The signature does not verify with the selected key.
    #[error("invalid signature")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not contain the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim is absent or has the wrong type. Holds the claim's configured
    /// *name*, never its value.
    #[error("missing or invalid required claim {0:?}")]
    MissingClaim(String),
    /// The keys cannot be obtained (JWKS unreachable past `jwks_max_stale_secs`).
    #[error("signing keys unavailable")]
    KeySourceUnavailable,
}

impl AuthError {
    /// Stable machine code for the audit event and the `WWW-Authenticate` header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_token",
            Self::Malformed(_) => "malformed_token",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::KeySourceUnavailable => "key_source_unavailable",
        }
    }

    /// Whether the caller's token is at fault (`true`) or Customs could not verify any
    /// token because its key source is down (`false`: an internal / upstream failure,
    /// still fail-closed, but worth a different alert and possibly a 503).
    pub fn blames_client(&self) -> bool {
        !matches!(self, Self::KeySourceUnavailable)
    }

    /// The `WWW-Authenticate` challenge for the 401 response (RFC 6750 §3).
    ///
    /// Without a token, the bare `Bearer` challenge (no error code, as RFC 6750 asks);
    /// otherwise `Bearer error="invalid_token", error_description="<code>: <reason>"`.
    /// The description is built only from static text and configured claim names.
    pub fn www_authenticate(&self) -> String {
        match self {
            Self::Missing => "Bearer".to_owned(),
            other => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}: {}\"",
                other.code(),
                quoted_string_safe(&other.to_string())
            ),
        }
    }
}

/// Keeps a description inside an RFC 7230 quoted-string: printable ASCII without `"`
/// or `\` (RFC 6750 restricts `error_description` to exactly that range).
fn quoted_string_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_has_code_and_no_quotes_inside() {
        let header = AuthError::MissingClaim("we\"ird".to_owned()).www_authenticate();
        assert!(
            header
                .starts_with("Bearer error=\"invalid_token\", error_description=\"missing_claim: ")
        );
        assert_eq!(header.matches('"').count(), 4, "{header}");
        assert_eq!(AuthError::Missing.www_authenticate(), "Bearer");
        assert_eq!(
            AuthError::Expired.www_authenticate(),
            "Bearer error=\"invalid_token\", error_description=\"token_expired: token expired\""
        );
    }

    #[test]
    fn only_key_source_failure_is_not_the_clients_fault() {
        assert!(!AuthError::KeySourceUnavailable.blames_client());
        assert!(AuthError::BadSignature.blames_client());
    }
}
