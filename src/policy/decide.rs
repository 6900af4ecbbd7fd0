//! decide: two Cedar questions per candidate deployment, and the first deployment the
//! policies permit wins.
//!
//! 1. `disclose` for every data class found: permitted means the values may leave in
//!    clear to this deployment; not permitted (or an evaluation error) means redacted.
//! 2. `invoke` (as `chat`, `responses` or `embeddings`) on the deployment, with the
//!    found, outgoing and redacted classes in context.
//!
//! Candidates come from the catalog in preference order (an alias lists several), so
//! residency-aware routing is the same two questions asked again. An evaluation error on
//! `invoke` denies (fail closed): Cedar skips an erroring policy, and a skipped forbid
//! must not turn into an allow.

use std::collections::BTreeSet;
use std::sync::Arc;

use cedar_policy::{Authorizer, Context, Entities, EntityUid, Request, RestrictedExpression};

use super::cache::CallerMemo;
use super::entities::{principal_entities, principal_uid, uid};
use super::index::Question;
use super::{Bundle, Deployment};
use crate::identity::Principal;
use crate::scan::class_ancestors;

/// The API operation, which is the Cedar action (all grouped under `invoke`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/responses`.
    Responses,
    /// `POST /v1/embeddings`.
    Embeddings,
}

impl Operation {
    /// The Cedar action id.
    pub fn action(self) -> &'static str {
        match self {
            Operation::Chat => "chat",
            Operation::Responses => "responses",
            Operation::Embeddings => "embeddings",
        }
    }

    /// `gen_ai.operation.name` of the OpenTelemetry GenAI conventions.
    pub fn gen_ai_name(self) -> &'static str {
        match self {
            Operation::Chat | Operation::Responses => "chat",
            Operation::Embeddings => "embeddings",
        }
    }
}

/// What a decision is about. Carries classes, never values.
#[derive(Debug, Clone)]
pub struct DecideInput<'a> {
    /// The verified caller.
    pub principal: &'a Principal,
    /// The API operation.
    pub operation: Operation,
    /// The model name the caller sent.
    pub requested_model: &'a str,
    /// Every distinct class found in the request.
    pub detected: &'a BTreeSet<Arc<str>>,
    /// Whether the caller asked for a stream.
    pub stream: bool,
    /// Whether the request carries tool definitions or tool calls.
    pub tools_present: bool,
    /// Rough prompt size in tokens.
    pub token_estimate: i64,
}

/// A policy that determined an answer, with its annotations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyRef {
    /// `@id`.
    pub id: String,
    /// `@reason`.
    pub reason: String,
    /// `@severity`.
    pub severity: String,
}

/// One `disclose` answer: may values of `class` leave in clear to one deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Disclosure {
    /// The data class asked about.
    pub class: String,
    /// Permitted: the values leave in clear. Otherwise they are redacted.
    pub permitted: bool,
    /// The `@id`s of the determining policies (the permits on a permit, the forbids on
    /// a forbid; empty when no policy applied and redaction is the default).
    pub policy_ids: Vec<String>,
    /// Evaluation errors (an error redacts).
    pub errors: Vec<String>,
}

/// The permitted deployment and what leaves in clear.
#[derive(Debug, Clone)]
pub struct Route {
    /// The deployment the request goes to.
    pub deployment: Arc<Deployment>,
    /// Classes that may leave in clear.
    pub disclosed: BTreeSet<Arc<str>>,
    /// Classes that are redacted.
    pub redacted: BTreeSet<Arc<str>>,
    /// The permits that allowed `invoke`.
    pub permitted_by: Vec<PolicyRef>,
    /// The `disclose` answer per class found, for this deployment.
    pub disclosures: Vec<Arc<Disclosure>>,
}

/// Why one candidate deployment was refused.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    /// The candidate deployment.
    pub deployment_id: String,
    /// The forbids that refused it; empty when no permit applied.
    pub forbidden_by: Vec<PolicyRef>,
    /// Evaluation errors (policy ids and messages; never request content).
    pub errors: Vec<String>,
    /// The `disclose` answer per class found, for this deployment.
    #[serde(skip)]
    pub disclosures: Vec<Arc<Disclosure>>,
}

/// The outcome of the decide phase.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Forward to `route`; `refused` lists preferred candidates that were refused first.
    Allow {
        /// The chosen deployment.
        route: Route,
        /// Candidates refused before it.
        refused: Vec<Refusal>,
    },
    /// No candidate is permitted.
    Deny {
        /// One refusal per candidate, in preference order.
        refused: Vec<Refusal>,
    },
    /// The requested model is not in the catalog.
    UnknownModel,
}

impl Decision {
    /// Whether a deployment was permitted.
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }

    /// Every determining policy id of a deny, deduplicated in order.
    pub fn deny_policy_ids(refused: &[Refusal]) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for policy in refused.iter().flat_map(|r| &r.forbidden_by) {
            if !ids.contains(&policy.id) {
                ids.push(policy.id.clone());
            }
        }
        ids
    }
}

/// A failure to even ask Cedar; the pipeline refuses the request (fail closed).
#[derive(Debug, thiserror::Error)]
#[error("policy evaluation failed: {0}")]
pub struct DecideError(String);

impl Bundle {
    /// Decides one request: the first candidate deployment whose `invoke` is permitted.
    pub fn decide(&self, input: &DecideInput<'_>) -> Result<Decision, DecideError> {
        self.decide_where(input, |_| true)
    }

    /// Like [`Bundle::decide`], over only the candidates `eligible` accepts (those whose
    /// provider speaks the request's wire format). Others are skipped, not refused: they
    /// were never a place this request could go.
    pub fn decide_where(
        &self,
        input: &DecideInput<'_>,
        eligible: impl Fn(&Deployment) -> bool,
    ) -> Result<Decision, DecideError> {
        let Some(all) = self.catalog.resolve(input.requested_model) else {
            return Ok(Decision::UnknownModel);
        };
        // The entities (memoised per caller and model) always hold every candidate, so a
        // memo filled by one wire format serves the others.
        let candidates: Vec<Arc<Deployment>> =
            all.iter().filter(|d| eligible(d)).cloned().collect();
        let principal = principal_uid(input.principal).map_err(DecideError)?;
        // The principal and every entity it is in: the index's principal keys.
        let mut principal_scope = vec![principal.clone()];
        for group in &input.principal.groups {
            principal_scope.push(uid("Group", group).map_err(DecideError)?);
        }
        let memo = self.cache.caller(input.principal);
        // The found classes as the `invoke` context holds them, once per request.
        let detected = self.cache.class_set(input.detected);
        let classes: Vec<Arc<str>> = input.detected.iter().cloned().collect();
        let entities = memo
            .entities(input.requested_model, &classes, || {
                let (_, principal_entities) = principal_entities(input.principal)?;
                self.static_entities.for_request(
                    principal_entities,
                    all.iter().map(|d| d.as_ref()),
                    input.detected.iter().map(|c| c.as_ref()),
                )
            })
            .map_err(DecideError)?;
        let mut refused = Vec::new();
        for deployment in candidates {
            let (route, refusal) = self.decide_deployment(
                input,
                &principal,
                &principal_scope,
                &entities,
                &memo,
                &detected,
                deployment,
            )?;
            match route {
                Some(route) => return Ok(Decision::Allow { route, refused }),
                None => refused.extend(refusal),
            }
        }
        Ok(Decision::Deny { refused })
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_deployment(
        &self,
        input: &DecideInput<'_>,
        principal: &EntityUid,
        principal_scope: &[EntityUid],
        entities: &Entities,
        memo: &CallerMemo,
        detected: &ClassSet,
        deployment: Arc<Deployment>,
    ) -> Result<(Option<Route>, Option<Refusal>), DecideError> {
        let authorizer = Authorizer::new();
        let model = uid("Model", &deployment.id).map_err(DecideError)?;
        let mut errors = Vec::new();

        // 1. disclose, per class.
        let disclose = uid("Action", "disclose").map_err(DecideError)?;
        let mut disclosed = BTreeSet::new();
        let mut redacted = BTreeSet::new();
        let mut disclosures = Vec::with_capacity(input.detected.len());
        for class in input.detected {
            let answer = memo
                .disclose(class, &deployment.id, || {
                    let class_uid = uid("DataClass", class)?;
                    let mut resource_scope = vec![class_uid.clone()];
                    for ancestor in class_ancestors(class) {
                        resource_scope.push(uid("DataClass", ancestor)?);
                    }
                    let answer = self.index.is_authorized(
                        &authorizer,
                        &Question {
                            action: "disclose",
                            principal_scope,
                            resource_scope: &resource_scope,
                            attributes: &input.principal.attributes,
                            classes: None,
                        },
                        entities,
                        || {
                            let context = Context::from_pairs([(
                                "model".to_owned(),
                                RestrictedExpression::new_entity_uid(model.clone()),
                            )])
                            .map_err(|e| e.to_string())?;
                            Request::new(
                                principal.clone(),
                                disclose.clone(),
                                class_uid,
                                context,
                                Some(&self.schema),
                            )
                            .map_err(|e| e.to_string())
                        },
                    )?;
                    let errors: Vec<String> = answer
                        .errors
                        .iter()
                        .map(|err| format!("disclose {class}: {err}"))
                        .collect();
                    Ok(Disclosure {
                        class: class.to_string(),
                        permitted: errors.is_empty() && answer.allowed,
                        policy_ids: answer.reasons,
                        errors,
                    })
                })
                .map_err(DecideError)?;
            errors.extend(answer.errors.iter().cloned());
            if answer.permitted {
                disclosed.insert(Arc::clone(class));
            } else {
                redacted.insert(Arc::clone(class));
            }
            disclosures.push(answer);
        }

        // 2. invoke, with what remains. The class sets come from the bundle's memo (a
        // set of names is a pure function of the classes), and the request is built only
        // when some policy can apply.
        let outgoing = self.cache.class_set(&disclosed);
        let withheld = self.cache.class_set(&redacted);
        let action = uid("Action", input.operation.action()).map_err(DecideError)?;
        let resource_scope = [
            model.clone(),
            uid("Provider", deployment.provider.as_str()).map_err(DecideError)?,
        ];
        let answer = self
            .index
            .is_authorized(
                &authorizer,
                &Question {
                    action: input.operation.action(),
                    principal_scope,
                    resource_scope: &resource_scope,
                    attributes: &input.principal.attributes,
                    classes: Some([&detected.names, &outgoing.names, &withheld.names]),
                },
                entities,
                || {
                    let context = invoke_context(input, detected, &outgoing, &withheld)?;
                    // No schema check per request: the context's shape is fixed by
                    // `invoke_context`, whose output a unit test validates against the
                    // schema, and the policies were validated strictly at load. (The
                    // check was a tenth of a decision's time.)
                    Request::new(principal.clone(), action, model, context, None)
                        .map_err(|e| e.to_string())
                },
            )
            .map_err(DecideError)?;
        for err in &answer.errors {
            errors.push(format!("invoke: {err}"));
        }
        let determining: Vec<PolicyRef> = answer
            .reasons
            .iter()
            .map(|id| self.policy_ref(id))
            .collect();
        if answer.allowed && errors.is_empty() {
            return Ok((
                Some(Route {
                    deployment,
                    disclosed,
                    redacted,
                    permitted_by: determining,
                    disclosures,
                }),
                None,
            ));
        }
        let forbidden_by = if answer.allowed {
            Vec::new()
        } else {
            determining
        };
        Ok((
            None,
            Some(Refusal {
                deployment_id: deployment.id.clone(),
                forbidden_by,
                errors,
                disclosures,
            }),
        ))
    }

    /// The annotations of a policy by `@id`, for explanations.
    pub fn policy_ref(&self, id: &str) -> PolicyRef {
        match self.policy_meta(id) {
            Some(meta) => PolicyRef {
                id: meta.id.clone(),
                reason: meta.reason.clone(),
                severity: meta.severity.clone(),
            },
            None => PolicyRef {
                id: id.to_owned(),
                reason: String::new(),
                severity: String::new(),
            },
        }
    }
}

/// The `invoke` context: classes found, leaving in clear and redacted (each with its
/// ancestors), size, stream, tools and the requested name.
fn invoke_context(
    input: &DecideInput<'_>,
    detected: &ClassSet,
    outgoing: &ClassSet,
    redacted: &ClassSet,
) -> Result<Context, String> {
    Context::from_pairs([
        ("detected_classes".to_owned(), detected.expression.clone()),
        ("outgoing_classes".to_owned(), outgoing.expression.clone()),
        ("redacted_classes".to_owned(), redacted.expression.clone()),
        (
            "token_estimate".to_owned(),
            RestrictedExpression::new_long(input.token_estimate),
        ),
        (
            "stream".to_owned(),
            RestrictedExpression::new_bool(input.stream),
        ),
        (
            "tools_present".to_owned(),
            RestrictedExpression::new_bool(input.tools_present),
        ),
        (
            "requested_model".to_owned(),
            RestrictedExpression::new_string(input.requested_model.to_owned()),
        ),
    ])
    .map_err(|e| e.to_string())
}

/// A set of class names with every ancestor added (`PII.EMAIL` also counts as `PII`), as
/// the `invoke` context holds it: the names for the scope index's class guards, the
/// Cedar expression for the context. Both come from the same names, so the index reads
/// exactly what Cedar would.
#[derive(Debug)]
pub(crate) struct ClassSet {
    /// The classes and their ancestors.
    pub names: BTreeSet<String>,
    /// The same names as a Cedar set of strings.
    pub expression: RestrictedExpression,
}

impl ClassSet {
    /// The set of `classes` with their ancestors.
    pub fn new(classes: &BTreeSet<Arc<str>>) -> ClassSet {
        let mut names: BTreeSet<String> = BTreeSet::new();
        for class in classes {
            names.insert(class.to_string());
            names.extend(class_ancestors(class).map(str::to_owned));
        }
        let expression = RestrictedExpression::new_set(
            names.iter().cloned().map(RestrictedExpression::new_string),
        );
        ClassSet { names, expression }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::identity::PrincipalKind;
    use crate::policy::PolicySource;

    fn bundle() -> Bundle {
        Bundle::load(&PolicySource::bundled()).unwrap()
    }

    fn principal(groups: &[&str], residency: &str) -> Principal {
        Principal {
            kind: PrincipalKind::User,
            id: "alice".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            attributes: BTreeMap::from([
                ("residency".into(), residency.into()),
                ("department".into(), String::new()),
                ("tenant".into(), String::new()),
            ]),
        }
    }

    fn classes(names: &[&str]) -> BTreeSet<Arc<str>> {
        names.iter().map(|c| Arc::from(*c)).collect()
    }

    fn decide(bundle: &Bundle, who: &Principal, model: &str, found: &[&str]) -> Decision {
        let detected = classes(found);
        bundle
            .decide(&DecideInput {
                principal: who,
                operation: Operation::Chat,
                requested_model: model,
                detected: &detected,
                stream: false,
                tools_present: false,
                token_estimate: 10,
            })
            .unwrap()
    }

    #[test]
    fn echo_is_open_to_any_caller_and_redacts_pii() {
        let bundle = bundle();
        let who = principal(&[], "");
        let Decision::Allow { route, .. } = decide(
            &bundle,
            &who,
            "customs-echo",
            &["PII.EMAIL", "PCI.CARD_NUMBER"],
        ) else {
            panic!("echo must be allowed");
        };
        assert!(route.disclosed.is_empty());
        assert_eq!(route.redacted.len(), 2);
        assert_eq!(route.permitted_by[0].id, "echo.any-authenticated-caller");
    }

    #[test]
    fn eu_resident_is_routed_to_the_eu_deployment() {
        let bundle = bundle();
        let who = principal(&["engineering"], "EU");
        let Decision::Allow { route, .. } = decide(&bundle, &who, "gpt-4o", &[]) else {
            panic!("an EU deployment exists");
        };
        assert_eq!(route.deployment.id, "gpt-4o-azure-swedencentral");
    }

    #[test]
    fn eu_resident_is_refused_a_us_only_model_with_the_policy_id() {
        let bundle = bundle();
        let who = principal(&["engineering"], "EU");
        let Decision::Deny { refused } = decide(&bundle, &who, "gpt-4o-us", &[]) else {
            panic!("must deny");
        };
        assert_eq!(
            Decision::deny_policy_ids(&refused),
            vec!["residency.eu-stays-in-eu"]
        );
    }

    #[test]
    fn secrets_deny_even_to_echo() {
        let bundle = bundle();
        let who = principal(&["engineering"], "US");
        let Decision::Deny { refused } =
            decide(&bundle, &who, "customs-echo", &["SECRET.AWS_ACCESS_KEY_ID"])
        else {
            panic!("must deny");
        };
        assert_eq!(
            Decision::deny_policy_ids(&refused),
            vec!["secrets.never-leave"]
        );
    }

    #[test]
    fn no_permit_is_a_deny_without_policy_ids() {
        let bundle = bundle();
        let who = principal(&["marketing"], "US");
        let Decision::Deny { refused } = decide(&bundle, &who, "gpt-4o-us", &[]) else {
            panic!("must deny");
        };
        assert!(refused[0].forbidden_by.is_empty());
    }

    #[test]
    fn phi_is_disclosed_only_to_hipaa_for_clinical_staff() {
        let bundle = bundle();
        let clinical = principal(&["clinical"], "US");
        let Decision::Allow { route, .. } = decide(&bundle, &clinical, "gpt-4o", &["PHI.NPI"])
        else {
            panic!("clinical may use the HIPAA Azure deployment");
        };
        assert!(route.disclosed.contains("PHI.NPI"));
        let engineer = principal(&["engineering"], "US");
        let Decision::Allow { route, .. } = decide(&bundle, &engineer, "gpt-4o-us", &["PHI.NPI"])
        else {
            panic!("redacted PHI may go anywhere permitted");
        };
        assert!(route.redacted.contains("PHI.NPI"));
    }

    #[test]
    fn card_numbers_are_redacted_even_for_support() {
        let bundle = bundle();
        let support = principal(&["support"], "US");
        let Decision::Allow { route, .. } = decide(
            &bundle,
            &support,
            "customs-echo",
            &["PCI.CARD_NUMBER", "PII.EMAIL"],
        ) else {
            panic!("echo is open");
        };
        assert!(route.redacted.contains("PCI.CARD_NUMBER"));
        assert!(route.disclosed.contains("PII.EMAIL"));
    }

    /// The per-request schema check is skipped for `invoke`; this is where the shape of
    /// its context is held to the schema instead.
    #[test]
    fn the_invoke_context_conforms_to_the_schema() {
        let bundle = bundle();
        let who = principal(&["engineering"], "EU");
        let detected = classes(&["PII.EMAIL", "PCI.CARD_NUMBER"]);
        let input = DecideInput {
            principal: &who,
            operation: Operation::Chat,
            requested_model: "gpt-4o",
            detected: &detected,
            stream: true,
            tools_present: true,
            token_estimate: 42,
        };
        let context = invoke_context(
            &input,
            &ClassSet::new(&detected),
            &ClassSet::new(&classes(&["PII.EMAIL"])),
            &ClassSet::new(&classes(&["PCI.CARD_NUMBER"])),
        )
        .unwrap();
        for action in ["chat", "responses", "embeddings"] {
            Request::new(
                uid("User", "alice").unwrap(),
                uid("Action", action).unwrap(),
                uid("Model", "gpt-4o-openai-us").unwrap(),
                context.clone(),
                Some(&bundle.schema),
            )
            .unwrap();
        }
    }

    #[test]
    fn unknown_model_is_reported() {
        let bundle = bundle();
        let who = principal(&[], "");
        assert!(matches!(
            decide(&bundle, &who, "nope", &[]),
            Decision::UnknownModel
        ));
    }
}
