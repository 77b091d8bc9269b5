//! Rules as written: the shape of `rules/*.toml` and of a policy's `[[detector]]` entries.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::RulesError;
use crate::Category;

/// The built-in rule files, compiled into the binary: (file name, text).
pub fn builtin_rule_files() -> &'static [(&'static str, &'static str)] {
    use crate::embedded::embedded;
    static FILES: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    FILES.get_or_init(|| {
        vec![
            ("cloud.toml", embedded!("cloud.toml")),
            ("devtools.toml", embedded!("devtools.toml")),
            ("observability.toml", embedded!("observability.toml")),
            ("comms.toml", embedded!("comms.toml")),
            ("payments.toml", embedded!("payments.toml")),
            ("saas.toml", embedded!("saas.toml")),
            ("ai.toml", embedded!("ai.toml")),
            ("keys.toml", embedded!("keys.toml")),
            ("generic.toml", embedded!("generic.toml")),
            ("pii.toml", embedded!("pii.toml")),
            ("national_ids.toml", embedded!("national_ids.toml")),
            ("person.toml", embedded!("person.toml")),
            ("named.toml", embedded!("named.toml")),
        ]
    })
}

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
    /// A bounded pattern that every match has right after the prefilter literal it contains
    /// (matched anchored at the literal's end): literal hits without it are skipped before
    /// the rule's regex runs. A gate for common words (`key`, `name`) that the pattern only
    /// accepts before a separator.
    #[serde(default)]
    pub follows: Option<String>,
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
        builtin_rule_files()
            .iter()
            .flat_map(|(file, text)| {
                parse_rules(text).unwrap_or_else(|e| panic!("built-in rules file {file} does not parse: {e}"))
            })
            .collect()
    })
}
