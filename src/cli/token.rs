//! `customs token --sub ID [--claims JSON] [--ttl SECS]`: mints a development JWT.
//!
//! The token is signed with the development key embedded in the binary, which only the
//! embedded default configuration trusts (see [`crate::identity::mint_dev_token`]), so
//! anyone can try the gateway locally with `curl -H "Authorization: Bearer $(customs
//! token --sub me)"` while a deployed gateway, configured with a real issuer, refuses
//! these tokens. The token goes to stdout alone, so it can be captured by a shell.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use crate::identity::{RESERVED_CLAIMS, mint_dev_token};

/// Arguments of `customs token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Subject (`sub` claim): the principal id policies will see.
    #[arg(long)]
    pub sub: String,
    /// Extra claims as a JSON object, merged into the token, e.g.
    /// '{"groups":["eng"],"residency":"EU","department":"research","tenant":"acme"}'.
    /// `iss`, `aud`, `exp`, `nbf`, `iat` and `sub` are set by Customs and cannot be given.
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,
    /// Lifetime of the token in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub ttl: u64,
}

/// Runs `customs token`: prints the token and a newline on stdout.
///
/// # Errors
/// When `--claims` is not a JSON object or sets a reserved claim, or `--ttl` is zero.
pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let extra = parse_claims(args.claims.as_deref())?;
    let token = mint_dev_token(&args.sub, extra, Duration::from_secs(args.ttl))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{token}").context("writing the token to stdout")?;
    stdout.flush().context("writing the token to stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// `--claims` → the extra claims, refusing anything but a JSON object without
/// reserved claims.
fn parse_claims(raw: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let Some(raw) = raw else {
        return Ok(Map::new());
    };
    let value: Value = serde_json::from_str(raw).context("--claims is not valid JSON")?;
    let Value::Object(claims) = value else {
        bail!(
            "--claims must be a JSON object, e.g. '{{\"groups\":[\"eng\"],\"residency\":\"EU\"}}'"
        );
    };
    let reserved: Vec<&str> = RESERVED_CLAIMS
        .iter()
        .copied()
        .filter(|name| claims.contains_key(*name))
        .collect();
    if !reserved.is_empty() {
        bail!(
            "--claims cannot set {}: Customs sets these itself (use --sub for the subject, --ttl for the lifetime)",
            reserved.join(", ")
        );
    }
    Ok(claims)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn claims_must_be_an_object_without_reserved_names() {
        assert!(parse_claims(None).unwrap().is_empty());
        let claims = parse_claims(Some(r#"{"groups":["eng"],"residency":"EU"}"#)).unwrap();
        assert_eq!(claims["residency"], "EU");
        assert!(parse_claims(Some("[1]")).is_err());
        assert!(parse_claims(Some("{not json")).is_err());
        let err = parse_claims(Some(r#"{"exp":1,"iss":"x"}"#)).unwrap_err();
        assert!(err.to_string().contains("iss, exp"), "{err}");
    }
}
