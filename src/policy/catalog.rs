//! The model catalog: every deployment Customs may route to and the facts policies reason
//! about (provider, region, jurisdiction, certifications, retention, training on data),
//! plus aliases that list deployments in preference order.
//!
//! It is data in the policy directory (`catalog.toml`) because it is policy: which
//! deployment is HIPAA-certified or in the EU is reviewed in the same pull request as
//! the rule that depends on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Which upstream API a deployment speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
pub enum ProviderKind {
    /// Built into Customs; nothing leaves the machine.
    #[serde(rename = "local")]
    Local,
    /// OpenAI's API (or any server speaking it).
    #[serde(rename = "openai")]
    OpenAi,
    /// Azure OpenAI: deployment in the URL path, `api-key` header, `api-version` query.
    #[serde(rename = "azure-openai")]
    AzureOpenAi,
    /// Anthropic's Messages API: `x-api-key` and `anthropic-version` headers.
    #[serde(rename = "anthropic")]
    Anthropic,
    /// AWS Bedrock runtime: model id in the URL path, requests signed with SigV4.
    #[serde(rename = "bedrock")]
    Bedrock,
    /// Google's Gemini API (`generativelanguage.googleapis.com`): `x-goog-api-key`.
    #[serde(rename = "gemini")]
    Gemini,
    /// Google Vertex AI's Gemini models: an OAuth bearer token, project and region in the URL.
    #[serde(rename = "vertex")]
    Vertex,
}

impl ProviderKind {
    /// The provider name used in Cedar (`Provider::"openai"`) and telemetry.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Local => "local",
            ProviderKind::OpenAi => "openai",
            ProviderKind::AzureOpenAi => "azure-openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Vertex => "vertex",
        }
    }
}

/// One model in one provider and region.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Stable id; the Cedar entity `Customs::Model::"<id>"`.
    pub id: String,
    /// The API it speaks.
    pub provider: ProviderKind,
    /// The model name sent upstream.
    pub model: String,
    /// Base URL of the API (`https://api.openai.com/v1`, `https://NAME.openai.azure.com`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Environment variable holding the upstream key.
    #[serde(default)]
    pub credential_env: Option<String>,
    /// Azure OpenAI deployment name (the URL path segment).
    #[serde(default)]
    pub azure_deployment: Option<String>,
    /// Azure OpenAI `api-version`.
    #[serde(default)]
    pub azure_api_version: Option<String>,
    /// Cloud region.
    pub region: String,
    /// Legal jurisdiction of the region (`EU`, `US`, `UK`, `LOCAL`).
    pub jurisdiction: String,
    /// Certifications the deployment holds (`HIPAA`, `SOC2`, `FedRAMP-High`).
    #[serde(default)]
    pub certifications: Vec<String>,
    /// Days the provider retains prompts.
    #[serde(default)]
    pub retention_days: i64,
    /// Whether the provider trains on submitted data.
    #[serde(default)]
    pub trains_on_data: bool,
    /// Free text for humans.
    #[serde(default)]
    pub description: Option<String>,
}

/// A name callers use, mapped to deployments in preference order.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// The name callers send as `model`.
    pub name: String,
    /// Deployment ids, the preferred first.
    pub deployments: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    deployment: Vec<Deployment>,
    #[serde(default)]
    alias: Vec<Alias>,
}

/// The parsed and checked catalog.
#[derive(Debug, Clone, Default)]
pub struct ModelCatalog {
    deployments: BTreeMap<String, Arc<Deployment>>,
    aliases: BTreeMap<String, Vec<Arc<Deployment>>>,
}

impl ModelCatalog {
    /// Parses and checks `catalog.toml`. Errors are plain messages; the caller adds the file.
    pub fn parse(text: &str) -> Result<ModelCatalog, String> {
        let file: CatalogFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut catalog = ModelCatalog::default();
        for deployment in file.deployment {
            check_deployment(&deployment)?;
            let id = deployment.id.clone();
            if catalog
                .deployments
                .insert(id.clone(), Arc::new(deployment))
                .is_some()
            {
                return Err(format!("deployment `{id}` is defined twice"));
            }
        }
        for alias in file.alias {
            if catalog.deployments.contains_key(&alias.name) {
                return Err(format!(
                    "alias `{}` has the name of a deployment; choose another name",
                    alias.name
                ));
            }
            if alias.deployments.is_empty() {
                return Err(format!("alias `{}` lists no deployments", alias.name));
            }
            let mut targets = Vec::with_capacity(alias.deployments.len());
            for target in &alias.deployments {
                let Some(deployment) = catalog.deployments.get(target) else {
                    return Err(format!(
                        "alias `{}` lists `{target}`, which is not a deployment",
                        alias.name
                    ));
                };
                targets.push(Arc::clone(deployment));
            }
            if catalog
                .aliases
                .insert(alias.name.clone(), targets)
                .is_some()
            {
                return Err(format!("alias `{}` is defined twice", alias.name));
            }
        }
        Ok(catalog)
    }

    /// The deployments a requested model name may go to, in preference order: an alias's
    /// list, or the one deployment with that id.
    pub fn resolve(&self, requested: &str) -> Option<Vec<Arc<Deployment>>> {
        if let Some(targets) = self.aliases.get(requested) {
            return Some(targets.clone());
        }
        self.deployments
            .get(requested)
            .map(|deployment| vec![Arc::clone(deployment)])
    }

    /// Every deployment, by id.
    pub fn deployments(&self) -> impl Iterator<Item = &Arc<Deployment>> {
        self.deployments.values()
    }

    /// Every alias with its deployments.
    pub fn aliases(&self) -> impl Iterator<Item = (&String, &Vec<Arc<Deployment>>)> {
        self.aliases.iter()
    }

    /// One deployment by id.
    pub fn deployment(&self, id: &str) -> Option<&Arc<Deployment>> {
        self.deployments.get(id)
    }
}

fn check_deployment(d: &Deployment) -> Result<(), String> {
    let id = &d.id;
    if id.is_empty() || id.contains('"') || id.contains('\\') {
        return Err(format!("deployment id `{id}` is empty or holds a quote"));
    }
    match d.provider {
        ProviderKind::Local => {
            if d.model != "customs-echo" {
                return Err(format!(
                    "deployment `{id}`: provider `local` only serves model `customs-echo`"
                ));
            }
        }
        ProviderKind::OpenAi
        | ProviderKind::AzureOpenAi
        | ProviderKind::Anthropic
        | ProviderKind::Bedrock
        | ProviderKind::Gemini
        | ProviderKind::Vertex => {
            let Some(url) = &d.base_url else {
                return Err(format!("deployment `{id}` needs a base_url"));
            };
            check_base_url(url).map_err(|e| format!("deployment `{id}`: {e}"))?;
            if d.credential_env.is_none() {
                return Err(format!("deployment `{id}` needs a credential_env"));
            }
        }
    }
    if d.provider == ProviderKind::AzureOpenAi
        && (d.azure_deployment.is_none() || d.azure_api_version.is_none())
    {
        return Err(format!(
            "deployment `{id}`: azure-openai needs azure_deployment and azure_api_version"
        ));
    }
    Ok(())
}

/// Upstream URLs are HTTPS, except plain HTTP to this machine's loopback (for a local
/// model server or a test double).
pub fn check_base_url(url: &str) -> Result<(), String> {
    let parsed = url
        .parse::<http::Uri>()
        .map_err(|_| format!("base_url `{url}` is not a URL"))?;
    let host = parsed.host().unwrap_or_default();
    match parsed.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") => Ok(()),
        _ => Err(format!(
            "base_url `{url}` must be https (plain http only to loopback)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLED: &str = include_str!("../../policies/catalog.toml");

    #[test]
    fn bundled_catalog_resolves_aliases_in_order() {
        let catalog = ModelCatalog::parse(BUNDLED).unwrap();
        let targets = catalog.resolve("gpt-4o").unwrap();
        assert_eq!(targets[0].id, "gpt-4o-azure-swedencentral");
        assert_eq!(targets[1].id, "gpt-4o-openai-us");
        assert_eq!(
            catalog.resolve("customs-echo").unwrap()[0].provider,
            ProviderKind::Local
        );
        assert!(catalog.resolve("gpt-5-unknown").is_none());
    }

    #[test]
    fn alias_to_missing_deployment_is_refused() {
        let err =
            ModelCatalog::parse("[[alias]]\nname = \"x\"\ndeployments = [\"nope\"]\n").unwrap_err();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_base_url("http://127.0.0.1:9000/v1").is_ok());
        assert!(check_base_url("https://api.openai.com/v1").is_ok());
        assert!(check_base_url("http://api.openai.com/v1").is_err());
        assert!(check_base_url("http://10.0.0.1/v1").is_err());
    }
}
