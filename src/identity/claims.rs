//! Verified claims → [`Principal`]: the last step of the authenticate phase.
//!
//! Runs only on claims whose signature, issuer, audience and lifetime were already
//! checked. The mapping is configuration ([`ClaimsConfig`]) because identity providers
//! disagree on where they put groups (`groups`, `roles`, `realm_access.roles`,
//! `scp`...) and tenants (`tid`, `org_id`). The policy layer relies on the shape: the
//! standard attributes are always present (empty when the token has no such claim), so
//! a Cedar policy never fails on a missing attribute.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::config::{ClaimsConfig, STANDARD_ATTRIBUTES};
use super::error::AuthError;
use super::{Principal, PrincipalKind};

/// Most groups kept from one token; the rest are ignored (with a debug log) so an
/// oversized claim cannot blow up policy evaluation.
const MAX_GROUPS: usize = 256;

/// Claims → principal under `mapping`.
///
/// # Errors
/// [`AuthError::MissingClaim`] when the subject claim is absent, empty or not a string.
pub(crate) fn principal_from_claims(
    claims: &Map<String, Value>,
    mapping: &ClaimsConfig,
) -> Result<Principal, AuthError> {
    let id = match lookup(claims, &mapping.subject) {
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        _ => return Err(AuthError::MissingClaim(mapping.subject.clone())),
    };
    let kind = match mapping
        .kind
        .as_deref()
        .and_then(|claim| lookup(claims, claim))
    {
        Some(Value::String(kind)) if kind.trim().eq_ignore_ascii_case("service") => {
            PrincipalKind::Service
        }
        _ => PrincipalKind::User,
    };
    let groups = groups(lookup(claims, &mapping.groups));
    let mut attributes: BTreeMap<String, String> = mapping
        .effective_attributes()
        .into_iter()
        .map(|(attribute, claim)| {
            let value = lookup(claims, &claim)
                .map(attribute_text)
                .unwrap_or_default();
            (attribute, value)
        })
        .collect();
    for standard in STANDARD_ATTRIBUTES {
        attributes.entry(standard.to_owned()).or_default();
    }
    Ok(Principal {
        kind,
        id,
        groups,
        attributes,
    })
}

impl ClaimsConfig {
    /// The principal `claims` map to under this mapping: what the authenticate phase
    /// does once a token is verified. The offline tools (`customs check`, `customs
    /// policy test`) describe a caller by the claims its token would carry and map them
    /// here, so that they decide for the caller the gateway would see.
    ///
    /// # Errors
    /// [`AuthError::MissingClaim`] when the subject claim is absent, empty or not a string.
    pub fn principal(&self, claims: &Map<String, Value>) -> Result<Principal, AuthError> {
        principal_from_claims(claims, self)
    }

    /// Whether the top-level claim `name` is read by this mapping: it is the subject,
    /// groups, kind or an attribute's claim, or the first segment of one given as a
    /// dotted path.
    pub fn reads_claim(&self, name: &str) -> bool {
        let reads = |claim: &str| {
            claim == name
                || claim
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        reads(&self.subject)
            || reads(&self.groups)
            || self.kind.as_deref().is_some_and(reads)
            || self
                .effective_attributes()
                .values()
                .any(|claim| reads(claim))
    }
}

/// A claim by name: the literal key first (names such as `https://example.com/roles`
/// contain dots), then the dotted path through nested objects.
pub(crate) fn lookup<'c>(claims: &'c Map<String, Value>, name: &str) -> Option<&'c Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut segments = name.split('.');
    let mut current = claims.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

/// Groups from an array of strings or a space/comma-separated string; de-duplicated,
/// order kept, non-string entries ignored.
fn groups(value: Option<&Value>) -> Vec<String> {
    let names: Vec<&str> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(text)) => text.split([' ', ',']).collect(),
        _ => Vec::new(),
    };
    let mut groups: Vec<String> = Vec::new();
    for name in names
        .into_iter()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        if groups.len() == MAX_GROUPS {
            tracing::debug!(max = MAX_GROUPS, "groups claim truncated");
            break;
        }
        if !groups.iter().any(|known| known == name) {
            groups.push(name.to_owned());
        }
    }
    groups
}

/// A claim value as a Cedar string attribute.
fn attribute_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_map_sub_groups_and_standard_attributes() {
        let principal = principal_from_claims(
            &claims(json!({"sub": "alice", "groups": ["eng", "eng", 7, "ops"], "residency": "EU", "tenant": 42})),
            &ClaimsConfig::default(),
        )
        .unwrap();
        assert_eq!(principal.id, "alice");
        assert_eq!(principal.kind, PrincipalKind::User);
        assert_eq!(principal.groups, ["eng", "ops"]);
        assert_eq!(principal.attributes["residency"], "EU");
        assert_eq!(principal.attributes["department"], "");
        assert_eq!(principal.attributes["tenant"], "42");
    }

    #[test]
    fn groups_from_separated_string_and_nested_path() {
        let mapping = ClaimsConfig {
            groups: "realm_access.roles".to_owned(),
            kind: Some("principal_type".to_owned()),
            ..ClaimsConfig::default()
        };
        let principal = principal_from_claims(
            &claims(json!({"sub": "svc", "principal_type": "Service", "realm_access": {"roles": "a b,c"}})),
            &mapping,
        )
        .unwrap();
        assert_eq!(principal.groups, ["a", "b", "c"]);
        assert_eq!(principal.kind, PrincipalKind::Service);
    }

    #[test]
    fn literal_dotted_claim_name_wins() {
        let c = claims(
            json!({"https://example.com/roles": ["x"], "https://example": {"com/roles": ["y"]}}),
        );
        assert_eq!(lookup(&c, "https://example.com/roles"), Some(&json!(["x"])));
    }

    #[test]
    fn missing_or_non_string_subject_is_refused_without_its_value() {
        for bad in [json!({}), json!({"sub": ""}), json!({"sub": 12})] {
            let err = principal_from_claims(&claims(bad), &ClaimsConfig::default()).unwrap_err();
            assert_eq!(err, AuthError::MissingClaim("sub".to_owned()));
        }
    }

    #[test]
    fn reads_claim_knows_every_mapped_claim_and_the_head_of_a_path() {
        let mapping = ClaimsConfig {
            groups: "realm_access.roles".to_owned(),
            attributes: [("tenant".to_owned(), "tid".to_owned())]
                .into_iter()
                .collect(),
            ..ClaimsConfig::default()
        };
        for read in [
            "sub",
            "realm_access",
            "realm_access.roles",
            "tid",
            "residency",
        ] {
            assert!(mapping.reads_claim(read), "{read}");
        }
        for unread in ["groups", "tenant", "realm", "kind", "realm_access.other"] {
            assert!(!mapping.reads_claim(unread), "{unread}");
        }
    }

    #[test]
    fn custom_attribute_mapping_keeps_standard_keys() {
        let mapping = ClaimsConfig {
            attributes: [("clearance".to_owned(), "lvl".to_owned())]
                .into_iter()
                .collect(),
            ..ClaimsConfig::default()
        };
        let principal =
            principal_from_claims(&claims(json!({"sub": "a", "lvl": "secret"})), &mapping).unwrap();
        assert_eq!(principal.attributes["clearance"], "secret");
        for standard in STANDARD_ATTRIBUTES {
            assert!(principal.attributes.contains_key(standard));
        }
    }
}
