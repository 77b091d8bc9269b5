//! Rules as written: the shape of `rules/*.toml` and of a policy's `[[detector]]` entries.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::RulesError;
use crate::Category;

/// The built-in rule files, compiled into the binary: (file name, text).
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    ("cloud.toml", include_str!("../../../../rules/cloud.toml")),
    ("devtools.toml", include_str!("../../../../rules/devtools.toml")),
    ("observability.toml", include_str!("../../../../rules/observability.toml")),
    ("comms.toml", include_str!("../../../../rules/comms.toml")),
    ("payments.toml", include_str!("../../../../rules/payments.toml")),
    ("saas.toml", include_str!("../../../../rules/saas.toml")),
    ("ai.toml", include_str!("../../../../rules/ai.toml")),
    ("keys.toml", include_str!("../../../../rules/keys.toml")),
    ("generic.toml", include_str!("../../../../rules/generic.toml")),
    ("pii.toml", include_str!("../../../../rules/pii.toml")),
    ("national_ids.toml", include_str!("../../../../rules/national_ids.toml")),
    ("person.toml", include_str!("../../../../rules/person.toml")),
    ("named.toml", include_str!("../../../../rules/named.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

/// One rule as written in a rules file (see `rules/README.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    /// The family it is listed and evaluated under (`cloud`, `devtools`, ..., `custom`).
    #[serde(default = "custom_family")]
    pub family: String,
    pub category: Category,
    pub label: String,
    pub pattern: String,
    #[serde(default)]
    pub validators: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Literals (ASCII), one of which every match contains.
    #[serde(default)]
    pub prefilter: Vec<String>,
    /// The fewest digits a match has in one run of digits and ` -.()/+`.
    #[serde(default)]
    pub min_digits: Option<usize>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// Where the format is documented.
    #[serde(default)]
    pub source: Option<String>,
    /// Validators and keywords also see the name the value is stored under, as if it were
    /// written before the value (`"version": "10.2.0.1"` reads like `version 10.2.0.1`).
    #[serde(default)]
    pub name_context: bool,
    /// For a pattern with unbounded repetitions: the longest match looked for. A match that
    /// reaches the end of its window fails closed (the value is redacted whole).
    #[serde(default)]
    pub window: Option<usize>,
}

fn custom_family() -> String {
    "custom".into()
}

impl RuleSpec {
    /// Literals are matched ignoring ASCII case for `(?i)` patterns (or with a `(?i:...)`
    /// group) and for rules with context keywords.
    pub fn case_insensitive(&self) -> bool {
        self.pattern.starts_with("(?i)") || self.pattern.contains("(?i:") || !self.keywords.is_empty()
    }
}

/// Parses one rules file.
pub fn parse_rules(text: &str) -> Result<Vec<RuleSpec>, RulesError> {
    let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::Parse(e.message().to_string()))?;
    let mut rules = file.rule;
    rules.iter_mut().for_each(expand_names);
    Ok(rules)
}

/// `{names:secret}` (and `pii`, `person`, `address`) in a pattern becomes an alternation of
/// the attribute-name dictionary's anchor words for that kind, and in a prefilter the words
/// themselves: text rules find the names attribute rules drop, from one list.
fn expand_names(spec: &mut RuleSpec) {
    if !spec.pattern.contains("{names:") && !spec.prefilter.iter().any(|p| p.starts_with("{names:")) {
        return;
    }
    let names = crate::names::NameRules::builtin();
    for kind in crate::names::NameKind::ALL {
        let tag = format!("{{names:{}}}", kind.tag());
        let words = names.anchor_words(kind);
        if spec.pattern.contains(&tag) {
            spec.pattern = spec.pattern.replace(&tag, &format!("(?:{})", words.join("|")));
        }
        if let Some(i) = spec.prefilter.iter().position(|p| *p == tag) {
            spec.prefilter.splice(i..=i, words);
        }
    }
}

/// Every built-in rule, parsed once per process.
pub fn builtin_specs() -> &'static [RuleSpec] {
    static SPECS: OnceLock<Vec<RuleSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        BUILTIN_RULE_FILES
            .iter()
            .flat_map(|(file, text)| {
                parse_rules(text).unwrap_or_else(|e| panic!("built-in rules file {file} does not parse: {e}"))
            })
            .collect()
    })
}
