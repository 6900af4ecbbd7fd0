//! The Cedar entities of a decision: the static part (providers, models, the data-class
//! hierarchy) built once per bundle, and the principal built once per request.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression, Schema,
};

use super::catalog::{Deployment, ModelCatalog};
use crate::identity::{Principal, PrincipalKind};
use crate::scan::{Scanner, class_ancestors};

/// The data-class families that always exist, so policies may name them before the
/// scanner emits any class of the family.
pub const CLASS_FAMILIES: [&str; 7] = [
    "PII",
    "PHI",
    "PCI",
    "FIN",
    "GOVID",
    "SECRET",
    "CONFIDENTIAL",
];

/// `Customs::<kind>::"<id>"`.
pub fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let type_name = EntityTypeName::from_str(&format!("Customs::{kind}"))
        .map_err(|e| format!("entity type {kind}: {e}"))?;
    Ok(EntityUid::from_type_name_and_id(
        type_name,
        EntityId::new(id),
    ))
}

/// Providers, models and data classes, validated against the schema.
pub fn static_entities(
    schema: &Schema,
    catalog: &ModelCatalog,
    scanner: &Scanner,
) -> Result<Entities, String> {
    let mut entities = Vec::new();
    let mut providers = BTreeSet::new();
    for deployment in catalog.deployments() {
        providers.insert(deployment.provider.as_str());
        entities.push(model_entity(deployment)?);
    }
    for provider in providers {
        entities.push(Entity::new_no_attrs(
            uid("Provider", provider)?,
            HashSet::new(),
        ));
    }
    let mut classes: BTreeSet<String> = CLASS_FAMILIES.iter().map(|c| (*c).to_owned()).collect();
    for info in scanner.classes() {
        classes.insert(info.class.to_string());
        classes.extend(class_ancestors(&info.class).map(str::to_owned));
    }
    for class in &classes {
        let parents = match class_ancestors(class).next() {
            Some(parent) => HashSet::from([uid("DataClass", parent)?]),
            None => HashSet::new(),
        };
        entities.push(Entity::new_no_attrs(uid("DataClass", class)?, parents));
    }
    Entities::from_entities(entities, Some(schema)).map_err(|e| e.to_string())
}

fn model_entity(d: &Deployment) -> Result<Entity, String> {
    let attrs: HashMap<String, RestrictedExpression> = HashMap::from([
        (
            "provider".into(),
            RestrictedExpression::new_string(d.provider.as_str().into()),
        ),
        (
            "model".into(),
            RestrictedExpression::new_string(d.model.clone()),
        ),
        (
            "region".into(),
            RestrictedExpression::new_string(d.region.clone()),
        ),
        (
            "jurisdiction".into(),
            RestrictedExpression::new_string(d.jurisdiction.clone()),
        ),
        (
            "certifications".into(),
            RestrictedExpression::new_set(
                d.certifications
                    .iter()
                    .map(|c| RestrictedExpression::new_string(c.clone())),
            ),
        ),
        (
            "retention_days".into(),
            RestrictedExpression::new_long(d.retention_days),
        ),
        (
            "trains_on_data".into(),
            RestrictedExpression::new_bool(d.trains_on_data),
        ),
    ]);
    let parents = HashSet::from([uid("Provider", d.provider.as_str())?]);
    Entity::new(uid("Model", &d.id)?, attrs, parents).map_err(|e| e.to_string())
}

/// The entities a class needs that `known` lacks: the class and any missing ancestor,
/// each with its dotted parent.
pub fn class_entities(known: &Entities, class: &str) -> Result<Vec<Entity>, String> {
    let mut out = Vec::new();
    for name in std::iter::once(class).chain(class_ancestors(class)) {
        let class_uid = uid("DataClass", name)?;
        if known.get(&class_uid).is_some() {
            break;
        }
        let parents = match class_ancestors(name).next() {
            Some(parent) => HashSet::from([uid("DataClass", parent)?]),
            None => HashSet::new(),
        };
        out.push(Entity::new_no_attrs(class_uid, parents));
    }
    Ok(out)
}

/// The principal and its groups.
pub fn principal_entities(principal: &Principal) -> Result<(EntityUid, Vec<Entity>), String> {
    let kind = match principal.kind {
        PrincipalKind::User => "User",
        PrincipalKind::Service => "Service",
    };
    let principal_uid = uid(kind, &principal.id)?;
    let mut entities = Vec::with_capacity(principal.groups.len() + 1);
    let mut parents = HashSet::with_capacity(principal.groups.len());
    for group in &principal.groups {
        let group_uid = uid("Group", group)?;
        parents.insert(group_uid.clone());
        entities.push(Entity::new_no_attrs(group_uid, HashSet::new()));
    }
    let attribute = |name: &str| {
        RestrictedExpression::new_string(
            principal.attributes.get(name).cloned().unwrap_or_default(),
        )
    };
    let attrs = HashMap::from([
        ("residency".to_owned(), attribute("residency")),
        ("department".to_owned(), attribute("department")),
        ("tenant".to_owned(), attribute("tenant")),
    ]);
    entities.push(Entity::new(principal_uid.clone(), attrs, parents).map_err(|e| e.to_string())?);
    Ok((principal_uid, entities))
}
