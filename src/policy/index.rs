//! A scope index over the policy set, so that one decision evaluates only the policies
//! that could possibly apply to it.
//!
//! Cedar evaluates every policy it is handed, about a microsecond each; a thousand
//! policies make a thousand evaluations per question. Most policies name their scope —
//! an action, `principal in Group::"x"`, `resource in Provider::"y"` — and many guard on
//! a principal attribute (`when { principal.tenant == "t" && ... }`). Each policy is
//! filed in one bucket keyed by those necessary conditions; a question looks up only
//! the buckets its principal, resource and attributes can satisfy, asks Cedar once per
//! non-empty bucket and combines the answers with Cedar's own rule (any satisfied forbid
//! denies; otherwise any satisfied permit allows; otherwise deny).
//!
//! The index is only a prefilter: Cedar still evaluates every policy it is given in
//! full, so a policy filed too broadly costs time, never correctness. A policy is filed
//! under a key only when the key is implied by the policy (a scope constraint, or a
//! conjunct of a `when` clause); anything else files it under "any".

use std::collections::{BTreeMap, HashMap};

use cedar_policy::{
    ActionConstraint, Authorizer, Decision as CedarDecision, Entities, EntityUid, Policy,
    PolicySet, PrincipalConstraint, Request, ResourceConstraint, Schema,
};
use serde_json::Value;

/// Buckets nested by action, principal entity, resource entity and guard; `""` stands
/// for "any" at each level. Nesting lets a question look keys up by `&str` level by
/// level, visiting only levels that exist.
type Buckets = HashMap<String, HashMap<String, HashMap<String, HashMap<String, PolicySet>>>>;

/// The guard key of `principal.<attribute> == "<value>"`.
fn guard_key(attribute: &str, value: &str) -> String {
    format!("{attribute}\u{1f}{value}")
}

/// One question's combined answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer {
    /// Allowed by Cedar's rule over all applicable policies.
    pub allowed: bool,
    /// Determining policy ids: satisfied forbids on a deny, satisfied permits on an allow.
    pub reasons: Vec<String>,
    /// Evaluation errors, formatted.
    pub errors: Vec<String>,
}

/// What a question is about, as far as the index needs it.
#[derive(Debug)]
pub(crate) struct Question<'a> {
    /// The action id (`disclose`, `chat`, ...).
    pub action: &'a str,
    /// The principal and every entity it is in.
    pub principal_scope: &'a [EntityUid],
    /// The resource and every entity it is in.
    pub resource_scope: &'a [EntityUid],
    /// The principal's string attributes.
    pub attributes: &'a BTreeMap<String, String>,
}

/// Policies filed by necessary conditions.
#[derive(Debug, Default)]
pub(crate) struct ScopeIndex {
    buckets: Buckets,
    /// Attribute names some policy is guarded on, so a question builds only those keys.
    guarded_attributes: Vec<String>,
}

impl ScopeIndex {
    /// Files every policy under each action it can apply to.
    pub fn build(schema: &Schema, policies: &PolicySet) -> Result<ScopeIndex, String> {
        let actions = action_scopes(schema)?;
        let mut index = ScopeIndex::default();
        for policy in policies.policies() {
            let principal = match policy.principal_constraint() {
                PrincipalConstraint::In(uid)
                | PrincipalConstraint::Eq(uid)
                | PrincipalConstraint::IsIn(_, uid) => Some(uid.to_string()),
                PrincipalConstraint::Any | PrincipalConstraint::Is(_) => None,
            };
            let resource = match policy.resource_constraint() {
                ResourceConstraint::In(uid)
                | ResourceConstraint::Eq(uid)
                | ResourceConstraint::IsIn(_, uid) => Some(uid.to_string()),
                ResourceConstraint::Any | ResourceConstraint::Is(_) => None,
            };
            // Reading the conditions means converting the policy to its JSON form, which
            // costs more than everything else here; a policy already filed under a
            // principal entity gains little from a guard, so only unscoped ones are read.
            let guard = if principal.is_none() {
                attribute_guard(policy)
            } else {
                None
            };
            if let Some((attribute, _)) = &guard
                && !index.guarded_attributes.contains(attribute)
            {
                index.guarded_attributes.push(attribute.clone());
            }
            for (action, scope) in &actions {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(uid) => scope.contains(&uid),
                    ActionConstraint::In(uids) => uids.iter().any(|uid| scope.contains(uid)),
                };
                if !applies {
                    continue;
                }
                index
                    .buckets
                    .entry(action.clone())
                    .or_default()
                    .entry(principal.clone().unwrap_or_default())
                    .or_default()
                    .entry(resource.clone().unwrap_or_default())
                    .or_default()
                    .entry(
                        guard
                            .as_ref()
                            .map(|(a, v)| guard_key(a, v))
                            .unwrap_or_default(),
                    )
                    .or_default()
                    .add(policy.clone())
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(index)
    }

    /// The policies a question could meet, bucket by bucket.
    fn buckets_for<'a>(&'a self, question: &Question<'_>) -> Vec<&'a PolicySet> {
        let mut found = Vec::new();
        let Some(by_principal) = self.buckets.get(question.action) else {
            return found;
        };
        let principals: Vec<String> = std::iter::once(String::new())
            .chain(question.principal_scope.iter().map(ToString::to_string))
            .collect();
        let resources: Vec<String> = std::iter::once(String::new())
            .chain(question.resource_scope.iter().map(ToString::to_string))
            .collect();
        let guards: Vec<String> = std::iter::once(String::new())
            .chain(self.guarded_attributes.iter().filter_map(|name| {
                question
                    .attributes
                    .get(name)
                    .map(|value| guard_key(name, value))
            }))
            .collect();
        for principal in &principals {
            let Some(by_resource) = by_principal.get(principal) else {
                continue;
            };
            for resource in &resources {
                let Some(by_guard) = by_resource.get(resource) else {
                    continue;
                };
                for guard in &guards {
                    if let Some(set) = by_guard.get(guard) {
                        found.push(set);
                    }
                }
            }
        }
        found
    }

    /// Asks Cedar once per applicable bucket and combines the answers.
    pub fn is_authorized(
        &self,
        authorizer: &Authorizer,
        request: &Request,
        question: &Question<'_>,
        entities: &Entities,
    ) -> Answer {
        let mut forbids = Vec::new();
        let mut permits = Vec::new();
        let mut errors = Vec::new();
        for set in self.buckets_for(question) {
            let response = authorizer.is_authorized(request, set, entities);
            errors.extend(response.diagnostics().errors().map(|e| e.to_string()));
            let reasons = response.diagnostics().reason().map(|id| id.to_string());
            match response.decision() {
                CedarDecision::Deny => forbids.extend(reasons),
                CedarDecision::Allow => permits.extend(reasons),
            }
        }
        forbids.sort();
        permits.sort();
        if !forbids.is_empty() {
            Answer {
                allowed: false,
                reasons: forbids,
                errors,
            }
        } else {
            Answer {
                allowed: !permits.is_empty(),
                reasons: permits,
                errors,
            }
        }
    }
}

/// Each action with itself and every action group it is in, transitively.
fn action_scopes(schema: &Schema) -> Result<Vec<(String, Vec<EntityUid>)>, String> {
    let parents: HashMap<EntityUid, Vec<EntityUid>> = schema
        .action_entities()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|entity| {
            let (uid, _, parents) = entity.into_inner();
            (uid, parents.into_iter().collect())
        })
        .collect();
    let mut scopes = Vec::new();
    for action in parents.keys() {
        let mut scope = vec![action.clone()];
        let mut i = 0;
        while let Some(current) = scope.get(i).cloned() {
            for parent in parents.get(&current).into_iter().flatten() {
                if !scope.contains(parent) {
                    scope.push(parent.clone());
                }
            }
            i += 1;
        }
        scopes.push((action.id().unescaped().to_owned(), scope));
    }
    Ok(scopes)
}

/// `principal.<attr> == "<value>"` when it is a necessary conjunct of a `when` clause.
fn attribute_guard(policy: &Policy) -> Option<(String, String)> {
    let json = policy.to_json().ok()?;
    let conditions = json.get("conditions")?.as_array()?;
    conditions
        .iter()
        .filter(|c| c.get("kind").and_then(Value::as_str) == Some("when"))
        .find_map(|c| c.get("body").and_then(necessary_guard))
}

fn necessary_guard(expr: &Value) -> Option<(String, String)> {
    if let Some(and) = expr.get("&&") {
        return and
            .get("left")
            .and_then(necessary_guard)
            .or_else(|| and.get("right").and_then(necessary_guard));
    }
    let eq = expr.get("==")?;
    let (left, right) = (eq.get("left")?, eq.get("right")?);
    principal_attribute(left)
        .zip(string_literal(right))
        .or_else(|| principal_attribute(right).zip(string_literal(left)))
}

fn principal_attribute(expr: &Value) -> Option<String> {
    let dot = expr.get(".")?;
    (dot.get("left")?.get("Var")?.as_str()? == "principal")
        .then(|| dot.get("attr")?.as_str().map(str::to_owned))
        .flatten()
}

fn string_literal(expr: &Value) -> Option<String> {
    expr.get("Value")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::from_str(text).unwrap()
    }

    fn bucket_count(text: &str, action: &str, groups: &[&str], tenant: &str) -> usize {
        let schema = Schema::from_cedarschema_str(crate::policy::SCHEMA_TEXT)
            .unwrap()
            .0;
        let set = PolicySet::from_str(text).unwrap();
        let index = ScopeIndex::build(&schema, &set).unwrap();
        let uid = |t: &str, id: &str| crate::policy::entities::uid(t, id).unwrap();
        let mut principal_scope = vec![uid("User", "u")];
        principal_scope.extend(groups.iter().map(|g| uid("Group", g)));
        let resource_scope = [uid("Model", "m"), uid("Provider", "openai")];
        let attributes = BTreeMap::from([("tenant".to_owned(), tenant.to_owned())]);
        index
            .buckets_for(&Question {
                action,
                principal_scope: &principal_scope,
                resource_scope: &resource_scope,
                attributes: &attributes,
            })
            .iter()
            .map(|set| set.policies().count())
            .sum()
    }

    #[test]
    fn a_question_meets_only_the_policies_its_scope_can_satisfy() {
        let text = r#"
            permit (principal in Customs::Group::"a", action in Customs::Action::"invoke", resource in Customs::Provider::"openai");
            permit (principal in Customs::Group::"b", action in Customs::Action::"invoke", resource);
            forbid (principal, action in Customs::Action::"invoke", resource) when { principal.tenant == "t1" };
            forbid (principal, action in Customs::Action::"invoke", resource) when { principal.tenant == "t2" };
            forbid (principal, action == Customs::Action::"disclose", resource);
            forbid (principal, action, resource) unless { principal.tenant == "t1" };
        "#;
        // Group a, tenant t1: the group-a permit, the t1 forbid, the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &["a"], "t1"), 3);
        // Group b, tenant t2: the group-b permit, the t2 forbid, the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &["b"], "t2"), 3);
        // No group, another tenant: only the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &[], "t9"), 1);
        // disclose meets the disclose forbid and the any-action forbid.
        assert_eq!(bucket_count(text, "disclose", &["a"], "t1"), 2);
    }

    #[test]
    fn a_necessary_attribute_equality_is_a_guard() {
        let p = policy(
            r#"forbid (principal, action, resource) when { principal.tenant == "t1" && resource.jurisdiction != "EU" };"#,
        );
        assert_eq!(attribute_guard(&p), Some(("tenant".into(), "t1".into())));
        let reversed =
            policy(r#"forbid (principal, action, resource) when { "EU" == principal.residency };"#);
        assert_eq!(
            attribute_guard(&reversed),
            Some(("residency".into(), "EU".into()))
        );
    }

    #[test]
    fn an_optional_equality_is_not_a_guard() {
        for text in [
            r#"forbid (principal, action, resource) when { principal.tenant == "t1" || true };"#,
            r#"forbid (principal, action, resource) unless { principal.tenant == "t1" };"#,
            r#"forbid (principal, action, resource) when { !(principal.tenant == "t1") };"#,
        ] {
            assert_eq!(attribute_guard(&policy(text)), None, "{text}");
        }
    }
}
