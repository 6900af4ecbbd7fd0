//! A scope index over the policy set, so that one decision evaluates only the policies
//! that could possibly apply to it.
//!
//! Cedar evaluates every policy it is handed, about a microsecond each; a thousand
//! policies make a thousand evaluations per question. Most policies name their scope —
//! an action, `principal in Group::"x"`, `resource in Provider::"y"` — and many open
//! their conditions with a guard on the caller or the classes found
//! (`when { principal.tenant == "t" && ... }`, `when { ["a", "b"].contains(principal.tenant) }`,
//! `when { context.detected_classes.contains("SECRET") }`). Each policy is filed in
//! buckets keyed by those necessary conditions; a question looks up only the buckets its
//! principal, resource, attributes and classes can satisfy, asks Cedar once per
//! non-empty bucket and combines the answers with Cedar's own rule (any satisfied forbid
//! denies; otherwise any satisfied permit allows; otherwise deny).
//!
//! The index is only a prefilter: Cedar still evaluates every policy it is given in
//! full, so a policy filed too broadly costs time, never correctness. A policy is left
//! out of a question only when Cedar would have found it not satisfied *without an
//! error*: a scope constraint is checked before any condition and cannot fail, and a
//! guard is taken only from the very first conjunct of the first `when` clause — the
//! first thing Cedar evaluates — and only on values that are always present (the
//! standard principal attributes, the `invoke` context's class sets). A guard further
//! in could sit behind an expression that errors, and an error on `invoke` denies.
//!
//! Keys are Cedar entity ids and `&str`s looked up level by level, so a question builds
//! no key strings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cedar_policy::{
    ActionConstraint, Authorizer, Decision as CedarDecision, Entities, EntityUid, Policy,
    PolicySet, PrincipalConstraint, Request, ResourceConstraint, Schema,
};
use serde_json::Value;

use crate::identity::STANDARD_ATTRIBUTES;

/// The `invoke` context's class sets, in the order a [`Question`] carries them.
pub(crate) const CLASS_SETS: [&str; 3] =
    ["detected_classes", "outgoing_classes", "redacted_classes"];

/// What a guard reads: a standard principal attribute, or one of the `invoke`
/// context's class sets (both always present, so reading them cannot fail).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Subject {
    /// `principal.<attribute>`; the index of the name in [`STANDARD_ATTRIBUTES`].
    Principal(usize),
    /// `context.<set>`; the index of the name in [`CLASS_SETS`].
    Context(usize),
}

/// A necessary condition: the subject's value (for a class set, one of its members)
/// is one of `values`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Guard {
    subject: Subject,
    values: Vec<String>,
}

/// Policies under one (action, principal, resource) key.
#[derive(Debug, Default)]
struct Guarded {
    /// Policies with no guard: met whenever the scope matches.
    unguarded: Option<PolicySet>,
    /// Guarded policies: subject → value → policies.
    by_guard: HashMap<Subject, HashMap<String, PolicySet>>,
}

/// One scope level (principal or resource): policies for any entity, and by entity.
#[derive(Debug)]
struct ByEntity<T> {
    any: Option<T>,
    entity: HashMap<EntityUid, T>,
}

impl<T> Default for ByEntity<T> {
    fn default() -> Self {
        ByEntity {
            any: None,
            entity: HashMap::new(),
        }
    }
}

impl<T: Default> ByEntity<T> {
    fn slot(&mut self, key: Option<&EntityUid>) -> &mut T {
        match key {
            None => self.any.get_or_insert_with(T::default),
            Some(uid) => self.entity.entry(uid.clone()).or_default(),
        }
    }
}

impl<T> ByEntity<T> {
    /// The entries a scope (an entity and everything it is in) can satisfy.
    fn matching<'a>(&'a self, scope: &[EntityUid]) -> impl Iterator<Item = &'a T> {
        self.any
            .iter()
            .chain(scope.iter().filter_map(|uid| self.entity.get(uid)))
    }
}

/// action → principal entity → resource entity → guard.
type Buckets = HashMap<String, ByEntity<ByEntity<Guarded>>>;

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
    /// The principal's string attributes (a standard one that is absent is `""`, as in
    /// the principal's entity).
    pub attributes: &'a BTreeMap<String, String>,
    /// The context's class sets in [`CLASS_SETS`] order, exactly as the request's
    /// context holds them (with ancestors). `None` for a question whose context has no
    /// class sets (`disclose`): it then meets every class-guarded policy, as Cedar would.
    pub classes: Option<[&'a BTreeSet<String>; 3]>,
}

/// Policies filed by necessary conditions.
#[derive(Debug, Default)]
pub(crate) struct ScopeIndex {
    buckets: Buckets,
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
                | PrincipalConstraint::IsIn(_, uid) => Some(uid),
                PrincipalConstraint::Any | PrincipalConstraint::Is(_) => None,
            };
            let resource = match policy.resource_constraint() {
                ResourceConstraint::In(uid)
                | ResourceConstraint::Eq(uid)
                | ResourceConstraint::IsIn(_, uid) => Some(uid),
                ResourceConstraint::Any | ResourceConstraint::Is(_) => None,
            };
            // Reading the conditions means converting the policy to its JSON form, which
            // costs more than everything else here; a policy already filed under a
            // principal entity gains little from a guard, so only unscoped ones are read.
            let guard = if principal.is_none() {
                first_guard(policy)
            } else {
                None
            };
            for (action, scope) in &actions {
                let applies = match policy.action_constraint() {
                    ActionConstraint::Any => true,
                    ActionConstraint::Eq(uid) => scope.contains(&uid),
                    ActionConstraint::In(uids) => uids.iter().any(|uid| scope.contains(uid)),
                };
                if !applies {
                    continue;
                }
                let guarded = index
                    .buckets
                    .entry(action.clone())
                    .or_default()
                    .slot(principal.as_ref())
                    .slot(resource.as_ref());
                match &guard {
                    None => add(guarded.unguarded.get_or_insert_with(PolicySet::new), policy)?,
                    // A policy listed under several values of one subject is met at most
                    // once: a question has one value per attribute.
                    Some(guard) => {
                        let by_value = guarded.by_guard.entry(guard.subject.clone()).or_default();
                        for value in &guard.values {
                            add(by_value.entry(value.clone()).or_default(), policy)?;
                        }
                    }
                }
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
        for by_resource in by_principal.matching(question.principal_scope) {
            for guarded in by_resource.matching(question.resource_scope) {
                found.extend(guarded.unguarded.as_ref());
                for (subject, by_value) in &guarded.by_guard {
                    match subject {
                        Subject::Principal(i) => {
                            let value = STANDARD_ATTRIBUTES
                                .get(*i)
                                .and_then(|name| question.attributes.get(*name))
                                .map_or("", String::as_str);
                            found.extend(by_value.get(value));
                        }
                        Subject::Context(i) => match question.classes {
                            Some(classes) => {
                                let Some(set) = classes.get(*i) else { continue };
                                found.extend(
                                    by_value
                                        .iter()
                                        .filter(|(class, _)| set.contains(class.as_str()))
                                        .map(|(_, policies)| policies),
                                );
                            }
                            None => found.extend(by_value.values()),
                        },
                    }
                }
            }
        }
        found
    }

    /// Asks Cedar once per applicable bucket and combines the answers. The request is
    /// built only when some policy applies.
    pub fn is_authorized(
        &self,
        authorizer: &Authorizer,
        question: &Question<'_>,
        entities: &Entities,
        request: impl FnOnce() -> Result<Request, String>,
    ) -> Result<Answer, String> {
        let buckets = self.buckets_for(question);
        if buckets.is_empty() {
            return Ok(Answer::default());
        }
        let request = request()?;
        let mut forbids = Vec::new();
        let mut permits = Vec::new();
        let mut errors = Vec::new();
        for set in buckets {
            let response = authorizer.is_authorized(&request, set, entities);
            errors.extend(response.diagnostics().errors().map(|e| e.to_string()));
            let reasons = response.diagnostics().reason().map(|id| id.to_string());
            match response.decision() {
                CedarDecision::Deny => forbids.extend(reasons),
                CedarDecision::Allow => permits.extend(reasons),
            }
        }
        forbids.sort();
        forbids.dedup();
        permits.sort();
        permits.dedup();
        Ok(if !forbids.is_empty() {
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
        })
    }
}

fn add(set: &mut PolicySet, policy: &Policy) -> Result<(), String> {
    set.add(policy.clone()).map_err(|e| e.to_string())
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

/// The guard of a policy: its first condition's first conjunct, when that clause is a
/// `when` and the conjunct is a guard. Cedar evaluates the conditions in order after the
/// scope, and `a && b` evaluates `a` first, so when this conjunct is false the policy is
/// not satisfied and nothing else of it is evaluated (no error can be missed).
fn first_guard(policy: &Policy) -> Option<Guard> {
    let json = policy.to_json().ok()?;
    let first = json.get("conditions")?.as_array()?.first()?;
    if first.get("kind").and_then(Value::as_str) != Some("when") {
        return None;
    }
    let mut conjunct = first.get("body")?;
    while let Some(left) = conjunct.get("&&").and_then(|and| and.get("left")) {
        conjunct = left;
    }
    guard(conjunct)
}

/// `principal.<a> == "v"` (either way round), `["v", ...].contains(principal.<a>)` for a
/// standard attribute `a`, or `context.<set>.contains("C")` for a class set.
fn guard(expr: &Value) -> Option<Guard> {
    if let Some(eq) = expr.get("==") {
        let (left, right) = (eq.get("left")?, eq.get("right")?);
        let (subject, value) = principal_attribute(left)
            .zip(string_literal(right))
            .or_else(|| principal_attribute(right).zip(string_literal(left)))?;
        return Some(Guard {
            subject,
            values: vec![value],
        });
    }
    let contains = expr.get("contains")?;
    let (left, right) = (contains.get("left")?, contains.get("right")?);
    if let Some(subject) = principal_attribute(right) {
        let values = left
            .get("Set")?
            .as_array()?
            .iter()
            .map(string_literal)
            .collect::<Option<Vec<String>>>()?;
        return Some(Guard { subject, values });
    }
    Some(Guard {
        subject: context_class_set(left)?,
        values: vec![string_literal(right)?],
    })
}

/// `principal.<a>` for a standard attribute (always present on the principal entity).
fn principal_attribute(expr: &Value) -> Option<Subject> {
    let name = attribute_of(expr, "principal")?;
    STANDARD_ATTRIBUTES
        .iter()
        .position(|a| *a == name)
        .map(Subject::Principal)
}

/// `context.<set>` for one of the `invoke` context's class sets.
fn context_class_set(expr: &Value) -> Option<Subject> {
    let name = attribute_of(expr, "context")?;
    CLASS_SETS
        .iter()
        .position(|s| *s == name)
        .map(Subject::Context)
}

fn attribute_of<'a>(expr: &'a Value, var: &str) -> Option<&'a str> {
    let dot = expr.get(".")?;
    (dot.get("left")?.get("Var")?.as_str()? == var)
        .then(|| dot.get("attr")?.as_str())
        .flatten()
}

fn string_literal(expr: &Value) -> Option<String> {
    expr.get("Value")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use cedar_policy::{Context, RestrictedExpression};

    use super::*;
    use crate::identity::{Principal, PrincipalKind};
    use crate::policy::entities::{principal_entities, uid};
    use crate::policy::{Bundle, PolicySource, SCHEMA_TEXT, SourceFile, load_policies};
    use crate::scan::class_ancestors;

    fn policy(text: &str) -> Policy {
        Policy::from_str(text).unwrap()
    }

    fn schema() -> Schema {
        Schema::from_cedarschema_str(SCHEMA_TEXT).unwrap().0
    }

    fn names(classes: &[&str]) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for class in classes {
            names.insert((*class).to_owned());
            names.extend(class_ancestors(class).map(str::to_owned));
        }
        names
    }

    fn bucket_count(
        text: &str,
        action: &str,
        groups: &[&str],
        tenant: &str,
        detected: Option<&[&str]>,
    ) -> usize {
        let set = PolicySet::from_str(text).unwrap();
        let index = ScopeIndex::build(&schema(), &set).unwrap();
        let uid = |t: &str, id: &str| uid(t, id).unwrap();
        let mut principal_scope = vec![uid("User", "u")];
        principal_scope.extend(groups.iter().map(|g| uid("Group", g)));
        let resource_scope = [uid("Model", "m"), uid("Provider", "openai")];
        let attributes = BTreeMap::from([("tenant".to_owned(), tenant.to_owned())]);
        let detected = detected.map(names);
        let empty = BTreeSet::new();
        index
            .buckets_for(&Question {
                action,
                principal_scope: &principal_scope,
                resource_scope: &resource_scope,
                attributes: &attributes,
                classes: detected.as_ref().map(|d| [d, &empty, &empty]),
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
            forbid (principal, action in Customs::Action::"invoke", resource) when { ["t2", "t3"].contains(principal.tenant) };
            forbid (principal, action in Customs::Action::"invoke", resource) when { context.detected_classes.contains("SECRET") };
            forbid (principal, action == Customs::Action::"disclose", resource);
            forbid (principal, action, resource) unless { principal.tenant == "t1" };
        "#;
        let none: &[&str] = &[];
        // Group a, tenant t1: the group-a permit, the t1 forbid, the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &["a"], "t1", Some(none)), 3);
        // Group b, tenant t2: the group-b permit, both t2 forbids, the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &["b"], "t2", Some(none)), 4);
        // No group, tenant t3: the listed-tenants forbid and the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &[], "t3", Some(none)), 2);
        // No group, another tenant: only the unguarded forbid.
        assert_eq!(bucket_count(text, "chat", &[], "t9", Some(none)), 1);
        // A secret found (a child class counts): the secrets forbid too.
        let secret: &[&str] = &["SECRET.PRIVATE_KEY"];
        assert_eq!(bucket_count(text, "chat", &[], "t9", Some(secret)), 2);
        // disclose meets the disclose forbid and the any-action forbid.
        assert_eq!(bucket_count(text, "disclose", &["a"], "t1", None), 2);
    }

    #[test]
    fn a_question_without_class_sets_meets_every_class_guarded_policy() {
        let text = r#"
            forbid (principal, action, resource) when { context.detected_classes.contains("SECRET") };
        "#;
        assert_eq!(bucket_count(text, "disclose", &[], "t1", None), 1);
        assert_eq!(bucket_count(text, "chat", &[], "t1", Some(&[])), 0);
    }

    #[test]
    fn the_first_conjunct_of_the_first_when_clause_is_a_guard() {
        let tenant = |values: &[&str]| Guard {
            subject: Subject::Principal(2),
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        let p = policy(
            r#"forbid (principal, action, resource) when { principal.tenant == "t1" && resource.jurisdiction != "EU" };"#,
        );
        assert_eq!(first_guard(&p), Some(tenant(&["t1"])));
        let reversed =
            policy(r#"forbid (principal, action, resource) when { "EU" == principal.residency };"#);
        assert_eq!(
            first_guard(&reversed),
            Some(Guard {
                subject: Subject::Principal(0),
                values: vec!["EU".into()]
            })
        );
        let listed = policy(
            r#"forbid (principal, action, resource) when { ["a", "b"].contains(principal.tenant) } unless { resource.jurisdiction == "EU" };"#,
        );
        assert_eq!(first_guard(&listed), Some(tenant(&["a", "b"])));
        let nested = policy(
            r#"forbid (principal, action, resource) when { (principal.tenant == "t1" && context.stream) && context.tools_present };"#,
        );
        assert_eq!(first_guard(&nested), Some(tenant(&["t1"])));
        let class = policy(
            r#"forbid (principal, action in Customs::Action::"invoke", resource) when { context.outgoing_classes.contains("CONFIDENTIAL") && resource.trains_on_data };"#,
        );
        assert_eq!(
            first_guard(&class),
            Some(Guard {
                subject: Subject::Context(1),
                values: vec!["CONFIDENTIAL".into()]
            })
        );
    }

    #[test]
    fn a_condition_that_is_not_evaluated_first_or_not_necessary_is_not_a_guard() {
        for text in [
            r#"forbid (principal, action, resource) when { principal.tenant == "t1" || true };"#,
            r#"forbid (principal, action, resource) unless { principal.tenant == "t1" };"#,
            r#"forbid (principal, action, resource) when { !(principal.tenant == "t1") };"#,
            // Behind another conjunct, which Cedar evaluates first and which may fail.
            r#"forbid (principal, action, resource) when { context.token_estimate * 1000 > 5 && principal.tenant == "t1" };"#,
            // In a second clause.
            r#"forbid (principal, action, resource) unless { context.stream } when { principal.tenant == "t1" };"#,
            // Not an attribute every principal entity carries.
            r#"forbid (principal, action, resource) when { principal.clearance == "t1" };"#,
            // Not a class set.
            r#"forbid (principal, action, resource) when { context.model.certifications.contains("HIPAA") };"#,
            // A set that is not all string literals.
            r#"forbid (principal, action, resource) when { [principal.department].contains(principal.tenant) };"#,
        ] {
            assert_eq!(first_guard(&policy(text)), None, "{text}");
        }
    }

    fn who(groups: &[&str], residency: &str, tenant: &str) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: "alice".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            attributes: BTreeMap::from([
                ("residency".into(), residency.into()),
                ("department".into(), String::new()),
                ("tenant".into(), tenant.into()),
            ]),
        }
    }

    fn class_set(names: &BTreeSet<String>) -> RestrictedExpression {
        RestrictedExpression::new_set(names.iter().cloned().map(RestrictedExpression::new_string))
    }

    /// The index is a prefilter and must never change an answer: over a grid of callers,
    /// deployments, classes and sizes, asking it gives what Cedar gives over the whole
    /// set — the decision, the determining policies and the errors (an overflow in a
    /// condition is one, and on `invoke` it refuses).
    #[test]
    fn the_index_answers_what_cedar_answers_over_the_whole_set() {
        let mut source = PolicySource::bundled();
        source.policies.push(SourceFile {
            name: "extra.cedar".into(),
            text: r#"
@id("x.tenant-guard") @reason("r") @severity("high")
forbid (principal, action in Customs::Action::"invoke", resource)
when { principal.tenant == "t1" && context.token_estimate > 100 };

@id("x.listed-tenants") @reason("r") @severity("high")
forbid (principal, action in Customs::Action::"invoke", resource)
when { ["t2", "t3"].contains(principal.tenant) }
unless { resource.jurisdiction == "EU" };

@id("x.overflow-first") @reason("r") @severity("high")
forbid (principal, action in Customs::Action::"invoke", resource)
when { context.token_estimate * 10000000000000000 > 0 && principal.tenant == "t9" };

@id("x.pii-outgoing") @reason("r") @severity("high")
forbid (principal, action in Customs::Action::"invoke", resource)
when { context.outgoing_classes.contains("PII") && resource.retention_days > 0 };

@id("x.redacted-fin") @reason("r") @severity("info")
permit (principal, action in Customs::Action::"invoke", resource)
when { context.redacted_classes.contains("FIN") };
"#
            .into(),
        });
        let bundle = Bundle::load(&source).unwrap_or_else(|e| panic!("{e}"));
        let mut errors = Vec::new();
        let (whole, _) = load_policies(&source.policies, &mut errors);
        assert!(errors.is_empty());
        let authorizer = Authorizer::new();
        let mut asked = 0;
        let mut refused_by_error = 0;
        for caller in [
            who(&["engineering"], "US", "t1"),
            who(&["engineering", "support"], "EU", "t2"),
            who(&["clinical"], "UK", "t3"),
            who(&[], "", ""),
            who(&["support"], "US", "t9"),
        ] {
            let (principal, principal_entities) = principal_entities(&caller).unwrap();
            let mut principal_scope = vec![principal.clone()];
            principal_scope.extend(caller.groups.iter().map(|g| uid("Group", g).unwrap()));
            for found in [
                &[][..],
                &["SECRET.AWS_ACCESS_KEY_ID"][..],
                &["PII.EMAIL", "FIN.IBAN"][..],
                &["CONFIDENTIAL.PROJECT", "PHI.NPI", "GOVID.US.SSN"][..],
            ] {
                let detected: Vec<&str> = found.to_vec();
                let deployments: Vec<&crate::policy::Deployment> =
                    bundle.catalog.deployments().map(|d| d.as_ref()).collect();
                let entities = bundle
                    .static_entities
                    .for_request(
                        principal_entities.clone(),
                        deployments.iter().copied(),
                        detected.iter().copied(),
                    )
                    .unwrap();
                for deployment in &deployments {
                    let model = uid("Model", &deployment.id).unwrap();
                    let provider = uid("Provider", deployment.provider.as_str()).unwrap();
                    // Half the classes leave in clear, half are redacted.
                    let outgoing = names(&detected[..detected.len() / 2]);
                    let redacted = names(&detected[detected.len() / 2..]);
                    let all = names(&detected);
                    for (action, tokens) in [("chat", 10), ("embeddings", 5_000)] {
                        let context = Context::from_pairs([
                            ("detected_classes".to_owned(), class_set(&all)),
                            ("outgoing_classes".to_owned(), class_set(&outgoing)),
                            ("redacted_classes".to_owned(), class_set(&redacted)),
                            (
                                "token_estimate".to_owned(),
                                RestrictedExpression::new_long(tokens),
                            ),
                            ("stream".to_owned(), RestrictedExpression::new_bool(false)),
                            (
                                "tools_present".to_owned(),
                                RestrictedExpression::new_bool(false),
                            ),
                            (
                                "requested_model".to_owned(),
                                RestrictedExpression::new_string(deployment.model.clone()),
                            ),
                        ])
                        .unwrap();
                        let request = Request::new(
                            principal.clone(),
                            uid("Action", action).unwrap(),
                            model.clone(),
                            context,
                            Some(&bundle.schema),
                        )
                        .unwrap();
                        let expected = authorizer.is_authorized(&request, &whole, &entities);
                        let answer = bundle
                            .index
                            .is_authorized(
                                &authorizer,
                                &Question {
                                    action,
                                    principal_scope: &principal_scope,
                                    resource_scope: &[model.clone(), provider.clone()],
                                    attributes: &caller.attributes,
                                    classes: Some([&all, &outgoing, &redacted]),
                                },
                                &entities,
                                || Ok(request.clone()),
                            )
                            .unwrap();
                        let mut reasons: Vec<String> = expected
                            .diagnostics()
                            .reason()
                            .map(ToString::to_string)
                            .collect();
                        reasons.sort();
                        let errors = expected.diagnostics().errors().count();
                        let case = format!("{caller:?} {action} {} {detected:?}", deployment.id);
                        assert_eq!(
                            answer.allowed,
                            expected.decision() == CedarDecision::Allow,
                            "{case}"
                        );
                        assert_eq!(answer.reasons, reasons, "{case}");
                        assert_eq!(answer.errors.len(), errors, "{case}");
                        asked += 1;
                        refused_by_error += usize::from(errors > 0);
                    }
                    for class in &detected {
                        let context = Context::from_pairs([(
                            "model".to_owned(),
                            RestrictedExpression::new_entity_uid(model.clone()),
                        )])
                        .unwrap();
                        let class_uid = uid("DataClass", class).unwrap();
                        let request = Request::new(
                            principal.clone(),
                            uid("Action", "disclose").unwrap(),
                            class_uid.clone(),
                            context,
                            Some(&bundle.schema),
                        )
                        .unwrap();
                        let mut resource_scope = vec![class_uid];
                        resource_scope
                            .extend(class_ancestors(class).map(|a| uid("DataClass", a).unwrap()));
                        let expected = authorizer.is_authorized(&request, &whole, &entities);
                        let answer = bundle
                            .index
                            .is_authorized(
                                &authorizer,
                                &Question {
                                    action: "disclose",
                                    principal_scope: &principal_scope,
                                    resource_scope: &resource_scope,
                                    attributes: &caller.attributes,
                                    classes: None,
                                },
                                &entities,
                                || Ok(request.clone()),
                            )
                            .unwrap();
                        let mut reasons: Vec<String> = expected
                            .diagnostics()
                            .reason()
                            .map(ToString::to_string)
                            .collect();
                        reasons.sort();
                        assert_eq!(
                            answer.allowed,
                            expected.decision() == CedarDecision::Allow,
                            "{caller:?} disclose {class} to {}",
                            deployment.id
                        );
                        assert_eq!(answer.reasons, reasons);
                        asked += 1;
                    }
                }
            }
        }
        // The grid exercised the cases that matter: many questions, some refused by an
        // evaluation error.
        assert!(asked > 500, "{asked}");
        assert!(refused_by_error > 0);
    }
}
