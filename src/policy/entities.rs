//! The Cedar entities of a decision: the static part (providers, models, the data-class
//! hierarchy) built once per bundle, and the principal built once per request.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::LazyLock;

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

/// The entity types of the schema, parsed once: parsing a type name runs Cedar's
/// parser, which was 8 % of a warm decision when every `uid()` did it.
static ENTITY_TYPES: LazyLock<Vec<(&'static str, EntityTypeName)>> = LazyLock::new(|| {
    [
        "User",
        "Service",
        "Group",
        "Provider",
        "Model",
        "DataClass",
        "Action",
    ]
    .into_iter()
    .filter_map(|kind| {
        EntityTypeName::from_str(&format!("Customs::{kind}"))
            .ok()
            .map(|name| (kind, name))
    })
    .collect()
});

/// `Customs::<kind>::"<id>"`.
pub fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let type_name = match ENTITY_TYPES.iter().find(|(known, _)| *known == kind) {
        Some((_, name)) => name.clone(),
        None => EntityTypeName::from_str(&format!("Customs::{kind}"))
            .map_err(|e| format!("entity type {kind}: {e}"))?,
    };
    Ok(EntityUid::from_type_name_and_id(
        type_name,
        EntityId::new(id),
    ))
}

/// The entities that do not change between requests, kept as parts so that each
/// request assembles only what its decision reads: its principal, the candidate models
/// with their providers, the classes found with their ancestors, and the actions.
/// (Cloning and re-closing one store of every entity per request cost more than the
/// evaluations themselves.)
#[derive(Debug, Clone)]
pub struct StaticEntities {
    actions: Vec<Entity>,
    models: HashMap<String, Entity>,
    providers: HashMap<String, Entity>,
    classes: HashMap<String, Entity>,
}

impl StaticEntities {
    /// Providers, models, data classes and actions, validated once against the schema.
    pub fn build(
        schema: &Schema,
        catalog: &ModelCatalog,
        scanner: &Scanner,
    ) -> Result<StaticEntities, String> {
        let mut models = HashMap::new();
        let mut providers = HashMap::new();
        for deployment in catalog.deployments() {
            let provider = deployment.provider.as_str();
            providers
                .entry(provider.to_owned())
                .or_insert(Entity::new_no_attrs(
                    uid("Provider", provider)?,
                    HashSet::new(),
                ));
            models.insert(deployment.id.clone(), model_entity(deployment)?);
        }
        let mut names: BTreeSet<String> = CLASS_FAMILIES.iter().map(|c| (*c).to_owned()).collect();
        for info in scanner.classes() {
            names.insert(info.class.to_string());
            names.extend(class_ancestors(&info.class).map(str::to_owned));
        }
        let mut classes = HashMap::new();
        for name in names {
            let entity = class_entity(&name)?;
            classes.insert(name, entity);
        }
        let actions: Vec<Entity> = schema
            .action_entities()
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect();
        // Validate everything together once, so a catalog value of the wrong type is a
        // load error rather than a per-request one.
        let all = actions
            .iter()
            .chain(models.values())
            .chain(providers.values())
            .chain(classes.values())
            .cloned();
        Entities::from_entities(all, Some(schema)).map_err(|e| e.to_string())?;
        Ok(StaticEntities {
            actions,
            models,
            providers,
            classes,
        })
    }

    /// The store for one request: the principal's entities, the candidate deployments
    /// and their providers, every class found with its ancestors, and the actions.
    pub fn for_request<'a>(
        &self,
        principal: Vec<Entity>,
        candidates: impl Iterator<Item = &'a Deployment>,
        detected: impl Iterator<Item = &'a str>,
    ) -> Result<Entities, String> {
        let mut entities = principal;
        entities.extend(self.actions.iter().cloned());
        let mut seen_providers = BTreeSet::new();
        for deployment in candidates {
            if let Some(model) = self.models.get(&deployment.id) {
                entities.push(model.clone());
            }
            let provider = deployment.provider.as_str();
            if seen_providers.insert(provider)
                && let Some(entity) = self.providers.get(provider)
            {
                entities.push(entity.clone());
            }
        }
        let mut seen_classes = BTreeSet::new();
        for class in detected {
            for name in std::iter::once(class).chain(class_ancestors(class)) {
                if !seen_classes.insert(name) {
                    break;
                }
                // A class the registry does not list (a newer scanner, a test) still
                // nests by its dotted name, so `in DataClass::"PHI"` holds for `PHI.NPI`.
                match self.classes.get(name) {
                    Some(entity) => entities.push(entity.clone()),
                    None => entities.push(class_entity(name)?),
                }
            }
        }
        Entities::from_entities(entities, None).map_err(|e| e.to_string())
    }
}

fn class_entity(name: &str) -> Result<Entity, String> {
    let parents = match class_ancestors(name).next() {
        Some(parent) => HashSet::from([uid("DataClass", parent)?]),
        None => HashSet::new(),
    };
    Ok(Entity::new_no_attrs(uid("DataClass", name)?, parents))
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

/// The principal's entity id: `Customs::User::"<id>"` or `Customs::Service::"<id>"`.
pub fn principal_uid(principal: &Principal) -> Result<EntityUid, String> {
    let kind = match principal.kind {
        PrincipalKind::User => "User",
        PrincipalKind::Service => "Service",
    };
    uid(kind, &principal.id)
}

/// The principal and its groups.
pub fn principal_entities(principal: &Principal) -> Result<(EntityUid, Vec<Entity>), String> {
    let principal_uid = principal_uid(principal)?;
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
