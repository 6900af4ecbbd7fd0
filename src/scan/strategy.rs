//! strategy: which redaction [`Strategy`] each data class gets, as the `[redaction]`
//! section of the configuration says.
//!
//! ```toml
//! [redaction]
//! default = "placeholder"
//! [[redaction.rules]]
//! classes = ["PCI.*"]
//! strategy = "mask"
//! keep = 4
//! [[redaction.rules]]
//! classes = ["SECRET.*"]
//! strategy = "remove"
//! ```
//!
//! A rule names data classes in one of three ways: a class (`PII.EMAIL`), an entity
//! label (`EMAIL`: the finding's type, one per class, no dot), or a class prefix
//! (`PCI.*`, `GOVID.US.*`: every class strictly under it). For a finding the most
//! specific name wins: its class, then its entity, then the longest prefix, then
//! `default`. Two rules can never be equally specific for one class: the same name in
//! two rules is refused when the configuration is read, and a class named by one rule
//! and its entity by another is refused when the gateway starts (or `customs policy
//! validate --config` runs), once the scanner's classes are known. Nothing about the
//! order of the rules matters.
//!
//! Every strategy takes the value out of the request; they differ in what the model
//! sees and in what the restore phase can give back (see [`Strategy`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::redact::Strategy;
use super::{ClassInfo, Finding, class_ancestors};

/// How many trailing characters `mask` keeps when the rule does not say.
pub const DEFAULT_MASK_KEEP: usize = 4;

/// A strategy as the configuration names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyName {
    /// `[EMAIL_1]`: numbered per request; restored.
    #[default]
    Placeholder,
    /// `**** **** **** 1111`: all but the last `keep` letters and digits; not restored.
    Mask,
    /// `[EMAIL#1f3a9c0d2b7e]`: keyed by the tenant, stable across requests; restored.
    Hash,
    /// A format-preserving stand-in keyed by the tenant; restored where echoed verbatim.
    Fake,
    /// Nothing; not restored.
    Remove,
}

impl StrategyName {
    /// The name in the configuration and in decision events.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyName::Placeholder => "placeholder",
            StrategyName::Mask => "mask",
            StrategyName::Hash => "hash",
            StrategyName::Fake => "fake",
            StrategyName::Remove => "remove",
        }
    }

    /// Whether it needs the tenant key (`hash`, `fake`).
    pub fn needs_key(self) -> bool {
        matches!(self, StrategyName::Hash | StrategyName::Fake)
    }
}

/// `[redaction]`: the strategy per data class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedactionConfig {
    /// The strategy of every class no rule names (`mask` keeps
    /// [`DEFAULT_MASK_KEEP`] characters).
    pub default: StrategyName,
    /// Strategies for named classes, entities or class prefixes.
    pub rules: Vec<RedactionRule>,
}

/// `[[redaction.rules]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionRule {
    /// Classes (`PII.EMAIL`), entities (`EMAIL`) or class prefixes (`PCI.*`).
    pub classes: Vec<String>,
    /// What their values become.
    pub strategy: StrategyName,
    /// `mask` only: how many trailing letters and digits stay in clear (at most half of
    /// them, whatever this says). Default [`DEFAULT_MASK_KEEP`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<usize>,
}

/// One way of naming classes in a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pattern {
    /// `PII.EMAIL`.
    Class(String),
    /// `EMAIL`.
    Entity(String),
    /// `PCI.*`, kept without the `.*`.
    Prefix(String),
}

impl Pattern {
    fn parse(name: &str) -> Result<Pattern, String> {
        const SHAPE: &str = "a class (`PII.EMAIL`), a class prefix (`PCI.*`) or an entity (`EMAIL`): upper-case A-Z, 0-9 and `_`, dot-separated, with `.*` only at the end";
        if name == "*" || name == ".*" {
            return Err(format!(
                "`{name}` would match every class: set `[redaction] default` instead"
            ));
        }
        let (body, prefix) = match name.strip_suffix(".*") {
            Some(body) => (body, true),
            None => (name, false),
        };
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        };
        if body.is_empty() || !body.split('.').all(segment_ok) {
            let hint = if name.bytes().any(|b| b.is_ascii_lowercase()) {
                " (class and entity names are upper-case)"
            } else {
                ""
            };
            return Err(format!("`{name}` is not {SHAPE}{hint}"));
        }
        Ok(if prefix {
            Pattern::Prefix(body.to_owned())
        } else if body.contains('.') {
            Pattern::Class(body.to_owned())
        } else {
            Pattern::Entity(body.to_owned())
        })
    }
}

/// Where a strategy came from: a rule (its index) or the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Rule(usize),
    Default,
}

/// The `[redaction]` section, checked and indexed for lookups per finding.
#[derive(Debug, Clone)]
pub struct RedactionRules {
    default: Strategy,
    default_name: StrategyName,
    classes: HashMap<String, (Strategy, usize)>,
    entities: HashMap<String, (Strategy, usize)>,
    prefixes: HashMap<String, (Strategy, usize)>,
    /// How each rule is named in messages.
    labels: Vec<String>,
    /// The first rule (or the default) whose strategy needs the tenant key.
    needs_key: Option<(String, StrategyName)>,
}

impl Default for RedactionRules {
    /// Placeholders for every class.
    fn default() -> Self {
        RedactionRules {
            default: Strategy::Placeholder,
            default_name: StrategyName::Placeholder,
            classes: HashMap::new(),
            entities: HashMap::new(),
            prefixes: HashMap::new(),
            labels: Vec::new(),
            needs_key: None,
        }
    }
}

fn to_strategy(name: StrategyName, keep: Option<usize>) -> Strategy {
    match name {
        StrategyName::Placeholder => Strategy::Placeholder,
        StrategyName::Mask => Strategy::MaskLast {
            keep: keep.unwrap_or(DEFAULT_MASK_KEEP),
        },
        StrategyName::Hash => Strategy::Hash,
        StrategyName::Fake => Strategy::Fake,
        StrategyName::Remove => Strategy::Remove,
    }
}

/// The name of a strategy in decision events.
pub fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Placeholder => StrategyName::Placeholder.as_str(),
        Strategy::MaskLast { .. } => StrategyName::Mask.as_str(),
        Strategy::Hash => StrategyName::Hash.as_str(),
        Strategy::Fake => StrategyName::Fake.as_str(),
        Strategy::Remove => StrategyName::Remove.as_str(),
    }
}

impl RedactionRules {
    /// Checks the section and indexes it. Errors name the rule
    /// (`[[redaction.rules]] #2 (PCI.*)`) and say what is wrong.
    pub fn compile(config: &RedactionConfig) -> Result<RedactionRules, String> {
        let mut rules = RedactionRules {
            default: to_strategy(config.default, None),
            default_name: config.default,
            needs_key: config
                .default
                .needs_key()
                .then(|| ("`[redaction] default`".to_owned(), config.default)),
            ..RedactionRules::default()
        };
        let mut seen: HashMap<Pattern, usize> = HashMap::new();
        let mut errors: Vec<String> = Vec::new();
        for (index, rule) in config.rules.iter().enumerate() {
            let label = match rule.classes.first() {
                Some(first) if rule.classes.len() > 1 => {
                    format!("[[redaction.rules]] #{} ({first}, ...)", index + 1)
                }
                Some(first) => format!("[[redaction.rules]] #{} ({first})", index + 1),
                None => format!("[[redaction.rules]] #{}", index + 1),
            };
            rules.labels.push(label.clone());
            if rule.classes.is_empty() {
                errors.push(format!(
                    "{label}: `classes` is empty: name at least one class (`PII.EMAIL`), class prefix (`PCI.*`) or entity (`EMAIL`)"
                ));
            }
            if let Some(keep) = rule.keep
                && rule.strategy != StrategyName::Mask
            {
                errors.push(format!(
                    "{label}: `keep = {keep}` applies to strategy \"mask\" only, not \"{}\"",
                    rule.strategy.as_str()
                ));
            }
            if rule.strategy.needs_key() && rules.needs_key.is_none() {
                rules.needs_key = Some((label.clone(), rule.strategy));
            }
            let strategy = to_strategy(rule.strategy, rule.keep);
            for name in &rule.classes {
                let pattern = match Pattern::parse(name) {
                    Ok(p) => p,
                    Err(e) => {
                        errors.push(format!("{label}: {e}"));
                        continue;
                    }
                };
                if let Some(&other) = seen.get(&pattern) {
                    errors.push(if other == index {
                        format!("{label}: `{name}` is listed twice")
                    } else {
                        format!(
                            "{label}: `{name}` is already named by {}: a class it matches would have two strategies; name each class, entity or prefix in one rule only",
                            rules.labels.get(other).map_or("another rule", String::as_str)
                        )
                    });
                    continue;
                }
                seen.insert(pattern.clone(), index);
                let slot = (strategy, index);
                match pattern {
                    Pattern::Class(c) => rules.classes.insert(c, slot),
                    Pattern::Entity(e) => rules.entities.insert(e, slot),
                    Pattern::Prefix(p) => rules.prefixes.insert(p, slot),
                };
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors.join("; "))
        }
    }

    fn resolve(&self, class: &str, entity: &str) -> (Strategy, Source) {
        if let Some(&(s, i)) = self.classes.get(class) {
            return (s, Source::Rule(i));
        }
        if let Some(&(s, i)) = self.entities.get(entity) {
            return (s, Source::Rule(i));
        }
        if !self.prefixes.is_empty() {
            for ancestor in class_ancestors(class) {
                if let Some(&(s, i)) = self.prefixes.get(ancestor) {
                    return (s, Source::Rule(i));
                }
            }
        }
        (self.default, Source::Default)
    }

    /// The strategy for a class and its entity label.
    pub fn for_class(&self, class: &str, entity: &str) -> Strategy {
        self.resolve(class, entity).0
    }

    /// The strategy for one finding.
    pub fn for_finding(&self, finding: &Finding) -> Strategy {
        self.for_class(&finding.class, &finding.entity)
    }

    /// The first rule (or the default) that needs the tenant key, and its strategy.
    pub fn needs_key(&self) -> Option<(&str, StrategyName)> {
        self.needs_key
            .as_ref()
            .map(|(label, s)| (label.as_str(), *s))
    }

    /// Whether every class gets placeholders (nothing configured).
    pub fn all_placeholders(&self) -> bool {
        self.default_name == StrategyName::Placeholder
            && self.classes.is_empty()
            && self.entities.is_empty()
            && self.prefixes.is_empty()
    }

    /// Checks the rules against the classes the scanner emits. Errors: a class named by
    /// one rule and its entity by another (two equally specific rules). Warnings: a name
    /// that matches no class (the rule never applies, as with a typo).
    pub fn check_classes(&self, known: &[ClassInfo]) -> (Vec<String>, Vec<String>) {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let label = |i: usize| self.labels.get(i).map_or("a rule", String::as_str);
        for info in known {
            if let (Some(&(_, by_class)), Some(&(_, by_entity))) = (
                self.classes.get(info.class.as_ref()),
                self.entities.get(info.entity.as_ref()),
            ) && by_class != by_entity
            {
                errors.push(format!(
                    "{} names the class `{}` and {} its entity `{}`: one class, two equally specific rules; name it in one rule only",
                    label(by_class),
                    info.class,
                    label(by_entity),
                    info.entity
                ));
            }
        }
        let mut unknown: Vec<(usize, String)> = Vec::new();
        for (class, &(_, i)) in &self.classes {
            if !known.iter().any(|k| k.class.as_ref() == class) {
                unknown.push((i, format!("the class `{class}`")));
            }
        }
        for (entity, &(_, i)) in &self.entities {
            if !known.iter().any(|k| k.entity.as_ref() == entity) {
                unknown.push((i, format!("the entity `{entity}`")));
            }
        }
        for (prefix, &(_, i)) in &self.prefixes {
            if !known
                .iter()
                .any(|k| class_ancestors(&k.class).any(|a| a == prefix))
            {
                unknown.push((i, format!("the prefix `{prefix}.*`")));
            }
        }
        unknown.sort();
        for (i, what) in unknown {
            warnings.push(format!(
                "{} names {what}, which the scanner never emits: that part of the rule never applies",
                label(i)
            ));
        }
        (errors, warnings)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scan::Severity;

    fn parse(text: &str) -> Result<RedactionRules, String> {
        let config: RedactionConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        RedactionRules::compile(&config)
    }

    fn info(class: &str, entity: &str) -> ClassInfo {
        ClassInfo {
            class: Arc::from(class),
            entity: Arc::from(entity),
            severity: Severity::High,
        }
    }

    const EXAMPLE: &str = r#"
        default = "placeholder"
        [[rules]]
        classes = ["PCI.*"]
        strategy = "mask"
        keep = 4
        [[rules]]
        classes = ["SECRET.*", "PCI.CVV"]
        strategy = "remove"
        [[rules]]
        classes = ["EMAIL"]
        strategy = "hash"
        [[rules]]
        classes = ["GOVID.*"]
        strategy = "remove"
        [[rules]]
        classes = ["GOVID.US.*"]
        strategy = "fake"
    "#;

    #[test]
    fn the_most_specific_name_wins_whatever_the_order() {
        let rules = parse(EXAMPLE).unwrap();
        assert_eq!(
            rules.for_class("PCI.CARD_NUMBER", "CARD_NUMBER"),
            Strategy::MaskLast { keep: 4 }
        );
        // The exact class beats the prefix.
        assert_eq!(rules.for_class("PCI.CVV", "CARD_CVV"), Strategy::Remove);
        assert_eq!(
            rules.for_class("SECRET.GITHUB_TOKEN", "GITHUB_TOKEN"),
            Strategy::Remove
        );
        // An entity name.
        assert_eq!(rules.for_class("PII.EMAIL", "EMAIL"), Strategy::Hash);
        // The longer prefix beats the shorter one, declared before or after it.
        assert_eq!(rules.for_class("GOVID.US.SSN", "US_SSN"), Strategy::Fake);
        assert_eq!(
            rules.for_class("GOVID.UK.NINO", "UK_NINO"),
            Strategy::Remove
        );
        // A prefix is strictly below: `PCI.*` does not name a class `PCI`.
        assert_eq!(rules.for_class("PCI", "X"), Strategy::Placeholder);
        assert_eq!(rules.for_class("PII.PHONE", "PHONE"), Strategy::Placeholder);
        assert_eq!(rules.needs_key().map(|(_, s)| s), Some(StrategyName::Hash));
        assert!(
            rules
                .needs_key()
                .is_some_and(|(l, _)| l.contains("#3 (EMAIL)"))
        );
        assert!(!rules.all_placeholders());
        assert!(parse("").unwrap().all_placeholders());
        assert!(parse("").unwrap().needs_key().is_none());
    }

    #[test]
    fn mask_keeps_four_unless_told_and_default_may_need_the_key() {
        let rules = parse(
            "default = \"fake\"\n[[rules]]\nclasses = [\"PCI.CARD_NUMBER\"]\nstrategy = \"mask\"\n",
        )
        .unwrap();
        assert_eq!(
            rules.for_class("PCI.CARD_NUMBER", "CARD_NUMBER"),
            Strategy::MaskLast { keep: 4 }
        );
        assert_eq!(rules.for_class("PII.EMAIL", "EMAIL"), Strategy::Fake);
        assert_eq!(
            rules.needs_key(),
            Some(("`[redaction] default`", StrategyName::Fake))
        );
    }

    #[test]
    fn unknown_strategy_and_fields_are_refused_by_name() {
        let err = parse("[[rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"maks\"\n").unwrap_err();
        assert!(err.contains("maks") && err.contains("mask"), "{err}");
        let err = parse("default = \"scramble\"\n").unwrap_err();
        assert!(err.contains("scramble"), "{err}");
        let err = parse("[[rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"mask\"\nkeeps = 4\n")
            .unwrap_err();
        assert!(err.contains("keeps"), "{err}");
        let err = parse("[[rules]]\nstrategy = \"mask\"\n").unwrap_err();
        assert!(err.contains("classes"), "{err}");
    }

    #[test]
    fn keep_on_another_strategy_is_refused() {
        let err = parse("[[rules]]\nclasses = [\"SECRET.*\"]\nstrategy = \"remove\"\nkeep = 2\n")
            .unwrap_err();
        assert!(err.contains("[[redaction.rules]] #1 (SECRET.*)"), "{err}");
        assert!(
            err.contains("`keep = 2`") && err.contains("\"remove\""),
            "{err}"
        );
    }

    #[test]
    fn malformed_names_are_refused_with_the_shape_expected() {
        for (name, expect) in [
            ("*", "default"),
            ("pii.email", "upper-case"),
            ("PCI*", "not a class"),
            ("*.EMAIL", "not a class"),
            ("PCI..CVV", "not a class"),
            ("PCI.*.X", "not a class"),
            ("", "not a class"),
        ] {
            let text = format!("[[rules]]\nclasses = [{name:?}]\nstrategy = \"remove\"\n");
            let err = parse(&text).unwrap_err();
            assert!(err.contains("#1") && err.contains(expect), "{name}: {err}");
        }
        let err = parse("[[rules]]\nclasses = []\nstrategy = \"remove\"\n").unwrap_err();
        assert!(err.contains("`classes` is empty"), "{err}");
    }

    #[test]
    fn the_same_name_in_two_rules_is_a_tie_and_refused() {
        let err = parse(
            "[[rules]]\nclasses = [\"PCI.*\"]\nstrategy = \"mask\"\n[[rules]]\nclasses = [\"SECRET.*\", \"PCI.*\"]\nstrategy = \"remove\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("[[redaction.rules]] #2 (SECRET.*, ...): `PCI.*` is already named by [[redaction.rules]] #1 (PCI.*)"),
            "{err}"
        );
        let err = parse("[[rules]]\nclasses = [\"EMAIL\", \"EMAIL\"]\nstrategy = \"hash\"\n")
            .unwrap_err();
        assert!(err.contains("listed twice"), "{err}");
    }

    #[test]
    fn a_class_and_its_entity_in_two_rules_is_a_tie_once_classes_are_known() {
        let rules = parse(
            "[[rules]]\nclasses = [\"PII.EMAIL\"]\nstrategy = \"hash\"\n[[rules]]\nclasses = [\"EMAIL\", \"PII.PHONE\"]\nstrategy = \"remove\"\n",
        )
        .unwrap();
        let known = [info("PII.EMAIL", "EMAIL"), info("PII.PHONE", "PHONE")];
        let (errors, warnings) = rules.check_classes(&known);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("#1 (PII.EMAIL) names the class `PII.EMAIL`")
                && errors[0].contains("#2 (EMAIL, ...) its entity `EMAIL`"),
            "{errors:?}"
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        // Unresolved at run time all the same: the class is checked first.
        assert_eq!(rules.for_class("PII.EMAIL", "EMAIL"), Strategy::Hash);
        // One rule naming both is no tie.
        let rules = parse("[[rules]]\nclasses = [\"PII.EMAIL\", \"EMAIL\"]\nstrategy = \"hash\"\n")
            .unwrap();
        assert!(rules.check_classes(&known).0.is_empty());
    }

    #[test]
    fn names_no_class_matches_are_warned_about() {
        let rules = parse(
            "[[rules]]\nclasses = [\"PCI.CARDNUMBER\", \"CARDNUMBER\", \"PCX.*\", \"PII.*\"]\nstrategy = \"remove\"\n",
        )
        .unwrap();
        let (errors, warnings) = rules.check_classes(&[info("PII.EMAIL", "EMAIL")]);
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("the class `PCI.CARDNUMBER`")),
            "{warnings:?}"
        );
        assert!(warnings.iter().any(|w| w.contains("the prefix `PCX.*`")));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("the entity `CARDNUMBER`"))
        );
    }

    #[test]
    fn strategy_names_round_trip() {
        for name in [
            StrategyName::Placeholder,
            StrategyName::Mask,
            StrategyName::Hash,
            StrategyName::Fake,
            StrategyName::Remove,
        ] {
            assert_eq!(strategy_name(to_strategy(name, None)), name.as_str());
        }
    }
}
