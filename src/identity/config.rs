//! The `[auth]` configuration table: who may sign tokens, which algorithms count, and
//! how claims become a Cedar principal.
//!
//! It sits in front of the authenticate phase: [`AuthConfig::validate`] runs when the
//! configuration is loaded and again in [`super::Authenticator::new`], so a dangerous
//! setting (`alg: none`, an HMAC algorithm without a named secret, a JWKS URL over plain
//! HTTP to a remote host, two key sources at once) stops the gateway before it serves a
//! single request instead of surfacing as a confusing 401 later.
//!
//! Every field is documented here because this file is the reference for operators;
//! unknown fields are rejected so a typo never silently weakens verification.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::{Deserialize, Serialize};

/// Issuer of the tokens minted by `customs token` and of the embedded default config.
pub const DEV_ISSUER: &str = "customs-dev";
/// Audience of the tokens minted by `customs token` and of the embedded default config.
pub const DEV_AUDIENCE: &str = "customs";

/// The largest clock-skew allowance accepted, so a typo cannot make tokens immortal.
const MAX_LEEWAY_SECS: u64 = 600;
/// The shortest HMAC secret accepted (RFC 7518 §3.2: at least the hash size).
pub(crate) const MIN_HMAC_SECRET_BYTES: usize = 32;

/// The `[auth]` table.
///
/// ```toml
/// [auth]
/// issuer = "https://login.example.com/"
/// audience = "customs"
/// jwks_url = "https://login.example.com/.well-known/jwks.json"
/// algorithms = ["RS256", "ES256", "EdDSA"]
/// leeway_secs = 30
///
/// [auth.claims]
/// subject = "sub"
/// groups = "realm_access.roles"
/// kind = "principal_type"
///
/// [auth.claims.attributes]
/// residency = "residency"
/// department = "department"
/// tenant = "tid"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Required value of the token's `iss` claim (exact string match).
    pub issuer: String,
    /// Required member of the token's `aud` claim (the claim may be a string or an array).
    pub audience: String,
    /// A local JWKS file (`{"keys": [...]}`) read once at start. Mutually exclusive with
    /// `jwks_url`. A relative path is resolved against the working directory.
    pub jwks_file: Option<PathBuf>,
    /// An HTTPS URL serving the issuer's JWKS. Fetched once at start (the gateway does not
    /// start without it), refreshed after `jwks_max_age_secs`, and on a token whose `kid`
    /// is unknown (at most once per `jwks_refresh_min_interval_secs`). Plain `http` is
    /// accepted only for loopback hosts (`127.0.0.1`, `::1`, `localhost`). Redirects are
    /// not followed.
    pub jwks_url: Option<String>,
    /// Accepted signature algorithms (JOSE names, case-sensitive). `none` is always
    /// rejected; `HS256`/`HS384`/`HS512` are accepted only together with
    /// `hmac_secret_env`. An asymmetric key never verifies an HMAC token.
    pub algorithms: Vec<String>,
    /// Name of the environment variable holding the shared HMAC secret (at least 32
    /// bytes). Required when, and only allowed when, `algorithms` contains an `HS*` name.
    /// The secret itself never appears in the configuration file.
    pub hmac_secret_env: Option<String>,
    /// Clock-skew allowance, in seconds, applied to `exp` and `nbf` (at most 600).
    /// `exp` is always required.
    pub leeway_secs: u64,
    /// A token with an unknown `kid` triggers at most one JWKS refetch per this many
    /// seconds, however many such tokens arrive (protects the identity provider).
    pub jwks_refresh_min_interval_secs: u64,
    /// Keys fetched from `jwks_url` are refreshed once they are older than this.
    pub jwks_max_age_secs: u64,
    /// When refreshing fails, keys older than `jwks_max_age_secs` keep being used until
    /// they are this old; after that every token fails with `key_source_unavailable`
    /// (fail closed). Must be at least `jwks_max_age_secs`.
    pub jwks_max_stale_secs: u64,
    /// How claims become the principal.
    pub claims: ClaimsConfig,
    /// Trust the development signing key (`customs token`). Never read from a file: only
    /// the embedded default configuration sets it.
    #[serde(skip)]
    pub trust_dev_key: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: DEV_ISSUER.to_owned(),
            audience: DEV_AUDIENCE.to_owned(),
            jwks_file: None,
            jwks_url: None,
            algorithms: ["RS256", "ES256", "EdDSA"].map(str::to_owned).to_vec(),
            hmac_secret_env: None,
            leeway_secs: 30,
            jwks_refresh_min_interval_secs: 30,
            jwks_max_age_secs: 3600,
            jwks_max_stale_secs: 86_400,
            claims: ClaimsConfig::default(),
            trust_dev_key: false,
        }
    }
}

/// The `[auth.claims]` table: which claims name the caller, its groups and attributes.
///
/// A claim name may be a dotted path into nested objects (`realm_access.roles`); a claim
/// whose literal name contains dots (`https://example.com/groups`) is found first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClaimsConfig {
    /// Claim holding the principal id (a non-empty string; required in every token).
    pub subject: String,
    /// Claim holding the groups: an array of strings, or one string separated by spaces
    /// or commas. A missing claim means no groups.
    pub groups: String,
    /// Optional claim telling a workload from a person: the value `service` (any case)
    /// makes the principal a `Service`, anything else (or no claim) a `User`.
    pub kind: Option<String>,
    /// Cedar attribute name → claim name. Entries are merged over the defaults
    /// (`residency`, `department`, `tenant`, each read from the claim of the same name).
    /// String claims are taken as is, numbers and booleans as their JSON text; a missing
    /// or structured claim becomes the empty string.
    pub attributes: BTreeMap<String, String>,
}

/// Attributes every principal carries, each read by default from the claim of its name.
pub const STANDARD_ATTRIBUTES: [&str; 3] = ["residency", "department", "tenant"];

impl Default for ClaimsConfig {
    fn default() -> Self {
        Self {
            subject: "sub".to_owned(),
            groups: "groups".to_owned(),
            kind: None,
            attributes: STANDARD_ATTRIBUTES
                .iter()
                .map(|name| ((*name).to_owned(), (*name).to_owned()))
                .collect(),
        }
    }
}

impl ClaimsConfig {
    /// Checks that every mapping names a claim.
    ///
    /// # Errors
    /// Names the offending field.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.subject.trim().is_empty() {
            bail!("auth.claims.subject must name a claim");
        }
        if self.groups.trim().is_empty() {
            bail!("auth.claims.groups must name a claim");
        }
        if self.kind.as_deref().is_some_and(|k| k.trim().is_empty()) {
            bail!("auth.claims.kind, when set, must name a claim");
        }
        for (attribute, claim) in &self.attributes {
            if attribute.trim().is_empty() || claim.trim().is_empty() {
                bail!(
                    "auth.claims.attributes entries must map a non-empty name to a non-empty claim"
                );
            }
        }
        Ok(())
    }

    /// The attribute mapping in effect: the standard attributes, overridden and extended
    /// by the configured entries.
    pub fn effective_attributes(&self) -> BTreeMap<String, String> {
        let mut merged = Self::default().attributes;
        merged.extend(
            self.attributes
                .iter()
                .map(|(attribute, claim)| (attribute.clone(), claim.clone())),
        );
        merged
    }
}

impl AuthConfig {
    /// The embedded development configuration: issuer `customs-dev`, audience `customs`,
    /// trusting only the development key that `customs token` signs with.
    pub fn development() -> Self {
        Self {
            trust_dev_key: true,
            ..Self::default()
        }
    }

    /// Checks the table for settings that would weaken or break verification.
    ///
    /// # Errors
    /// Names the offending field and why it is refused.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.issuer.trim().is_empty() {
            bail!("auth.issuer must not be empty");
        }
        if self.audience.trim().is_empty() {
            bail!("auth.audience must not be empty");
        }
        let algorithms = self.allowed_algorithms()?;
        let wants_hmac = algorithms
            .iter()
            .any(|alg| alg.family() == AlgorithmFamily::Hmac);
        match (&self.hmac_secret_env, wants_hmac) {
            (None, true) => bail!(
                "auth.algorithms lists an HMAC algorithm (HS256/HS384/HS512) but auth.hmac_secret_env \
                 does not name the environment variable holding the shared secret"
            ),
            (Some(_), false) => bail!(
                "auth.hmac_secret_env is set but auth.algorithms lists no HMAC algorithm; \
                 add HS256 (or HS384/HS512) explicitly or remove hmac_secret_env"
            ),
            (Some(name), true) if name.trim().is_empty() => {
                bail!("auth.hmac_secret_env must name an environment variable")
            }
            _ => {}
        }
        if self.jwks_file.is_some() && self.jwks_url.is_some() {
            bail!(
                "auth.jwks_file and auth.jwks_url are mutually exclusive; configure one key source"
            );
        }
        let has_jwks = self.jwks_file.is_some() || self.jwks_url.is_some();
        if self.trust_dev_key && has_jwks {
            bail!("the development key cannot be combined with auth.jwks_file or auth.jwks_url");
        }
        if !has_jwks && !self.trust_dev_key && !wants_hmac {
            bail!("auth needs a key source: set auth.jwks_url or auth.jwks_file");
        }
        if let Some(url) = &self.jwks_url {
            check_jwks_url(url)?;
        }
        if self.leeway_secs > MAX_LEEWAY_SECS {
            bail!("auth.leeway_secs must be at most {MAX_LEEWAY_SECS}");
        }
        if self.jwks_max_stale_secs < self.jwks_max_age_secs {
            bail!("auth.jwks_max_stale_secs must be at least auth.jwks_max_age_secs");
        }
        self.claims.validate()
    }

    /// The `algorithms` list parsed into JOSE algorithms.
    ///
    /// # Errors
    /// On an empty list, `none`, or a name jsonwebtoken does not implement.
    pub fn allowed_algorithms(&self) -> anyhow::Result<Vec<Algorithm>> {
        if self.algorithms.is_empty() {
            bail!("auth.algorithms must list at least one algorithm");
        }
        let mut parsed = Vec::with_capacity(self.algorithms.len());
        for name in &self.algorithms {
            if name.trim().eq_ignore_ascii_case("none") {
                bail!(
                    "auth.algorithms must not contain \"none\": unsigned tokens are never accepted"
                );
            }
            let alg = Algorithm::from_str(name).map_err(|_| {
                anyhow::anyhow!(
                    "auth.algorithms: unsupported algorithm {name:?} (expected one of RS256, RS384, \
                     RS512, PS256, PS384, PS512, ES256, ES384, EdDSA, HS256, HS384, HS512)"
                )
            })?;
            if !parsed.contains(&alg) {
                parsed.push(alg);
            }
        }
        Ok(parsed)
    }
}

/// `https` anywhere; plain `http` only to a loopback host (local tests and sidecars).
fn check_jwks_url(raw: &str) -> anyhow::Result<()> {
    let url = reqwest::Url::parse(raw).with_context(|| "auth.jwks_url is not a valid URL")?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(&url) => Ok(()),
        "http" => bail!(
            "auth.jwks_url must use https (plain http is allowed only for 127.0.0.1, ::1 or localhost)"
        ),
        other => bail!("auth.jwks_url: unsupported scheme {other:?}; use https"),
    }
}

/// Whether the URL's host is the local machine.
pub(crate) fn is_loopback_url(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> anyhow::Result<AuthConfig> {
        let config: AuthConfig = toml::from_str(toml_text)?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn embedded_default_is_issuer_audience_and_dev_key() {
        let config = AuthConfig::development();
        assert_eq!(config.issuer, "customs-dev");
        assert_eq!(config.audience, "customs");
        assert!(config.trust_dev_key);
        config.validate().unwrap();
        // Without the dev key, the bare default has no key source and is refused.
        assert!(AuthConfig::default().validate().is_err());
    }

    #[test]
    fn full_table_parses() {
        let config = parse(
            r#"
            issuer = "https://idp.example.com/"
            audience = "customs"
            jwks_url = "https://idp.example.com/jwks.json"
            algorithms = ["RS256"]
            leeway_secs = 10
            [claims]
            subject = "oid"
            groups = "realm_access.roles"
            kind = "principal_type"
            [claims.attributes]
            tenant = "tid"
            clearance = "clearance"
            "#,
        )
        .unwrap();
        let attributes = config.claims.effective_attributes();
        assert_eq!(attributes["tenant"], "tid");
        assert_eq!(attributes["residency"], "residency");
        assert_eq!(attributes["clearance"], "clearance");
    }

    #[test]
    fn trust_dev_key_cannot_come_from_a_file() {
        let err = toml::from_str::<AuthConfig>("trust_dev_key = true").unwrap_err();
        assert!(err.to_string().contains("trust_dev_key"), "{err}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(toml::from_str::<AuthConfig>("isuer = \"x\"").is_err());
        assert!(toml::from_str::<AuthConfig>("[claims]\nsubjct = \"x\"").is_err());
    }

    #[test]
    fn none_algorithm_is_refused_at_config_time() {
        let err = parse("jwks_file = \"k.json\"\nalgorithms = [\"RS256\", \"none\"]").unwrap_err();
        assert!(err.to_string().contains("none"), "{err}");
    }

    #[test]
    fn hmac_needs_a_named_secret() {
        assert!(parse("jwks_file = \"k.json\"\nalgorithms = [\"HS256\"]").is_err());
        assert!(parse("jwks_file = \"k.json\"\nhmac_secret_env = \"S\"").is_err());
        parse("algorithms = [\"HS256\"]\nhmac_secret_env = \"CUSTOMS_JWT_SECRET\"").unwrap();
    }

    #[test]
    fn key_sources_are_exclusive_and_required() {
        assert!(parse("jwks_file = \"a\"\njwks_url = \"https://idp/jwks\"").is_err());
        assert!(parse("issuer = \"x\"").is_err());
        let mut config = parse("jwks_file = \"a\"").unwrap();
        config.trust_dev_key = true;
        assert!(config.validate().is_err());
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(parse("jwks_url = \"http://idp.example.com/jwks\"").is_err());
        assert!(parse("jwks_url = \"ftp://idp.example.com/jwks\"").is_err());
        parse("jwks_url = \"http://127.0.0.1:9/jwks\"").unwrap();
        parse("jwks_url = \"http://[::1]:9/jwks\"").unwrap();
        parse("jwks_url = \"http://localhost:9/jwks\"").unwrap();
    }

    #[test]
    fn unknown_algorithm_and_huge_leeway_are_refused() {
        assert!(parse("jwks_file = \"a\"\nalgorithms = [\"RS1\"]").is_err());
        assert!(parse("jwks_file = \"a\"\nalgorithms = []").is_err());
        assert!(parse("jwks_file = \"a\"\nleeway_secs = 100000").is_err());
    }
}
