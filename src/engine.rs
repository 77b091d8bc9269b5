//! The sanitizer: one pure recursive walk over an item's `AttributeValue` tree.
//!
//! Everything is decided at build time ([`Sanitizer::new`] compiles the policy and rules);
//! at run time the walk either returns a complete sanitized item or an error. It never
//! returns a half-sanitized item: the Lambda writes what this returns or nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::detect::{is_card_number, Category, Detectors, RulesError};
use crate::item::{validate_item, validate_number, AttributeValue, Item, ItemError, MAX_DEPTH};
use crate::names::{self, NameRules};
use crate::policy::{BinaryMode, Policy};

/// Attribute names starting with this are the shadow table's own metadata.
pub const RESERVED_PREFIX: &str = "_shadow_";

/// What happened to one attribute path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Drop,
    Redact,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Drop => "drop",
            Action::Redact => "redact",
        }
    }
}

/// One decision: path, rule id, action. Never a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub path: String,
    pub rule: String,
    pub action: Action,
}

/// Counts of what one sanitize call changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Per rule id (detector ids like `pii.email`, name rules like `name:api_key`).
    pub by_rule: BTreeMap<String, u64>,
    pub by_category: BTreeMap<&'static str, u64>,
    pub decisions: Vec<Decision>,
}

impl Report {
    pub fn total(&self) -> u64 {
        self.by_rule.values().sum()
    }

    /// Adds another report's counts (decisions are not carried over).
    pub fn absorb_counts(&mut self, other: &Report) {
        for (k, v) in &other.by_rule {
            *self.by_rule.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_category {
            *self.by_category.entry(k).or_default() += v;
        }
    }
}

/// Why an item could not be sanitized with certainty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SanitizeError {
    /// The input or output breaks a DynamoDB rule (depth, size, number syntax).
    Item(ItemError),
    /// A key attribute named by the stream record is missing from the image.
    MissingKey(String),
    /// A key attribute is not a scalar S, N or B.
    BadKeyType { name: String, found: &'static str },
}

impl fmt::Display for SanitizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SanitizeError::Item(e) => write!(f, "{e}"),
            SanitizeError::MissingKey(k) => {
                write!(f, "key attribute `{k}` is missing from the image")
            }
            SanitizeError::BadKeyType { name, found } => {
                write!(
                    f,
                    "key attribute `{name}` has type {found}; keys are S, N or B"
                )
            }
        }
    }
}

impl std::error::Error for SanitizeError {}

impl From<ItemError> for SanitizeError {
    fn from(e: ItemError) -> Self {
        SanitizeError::Item(e)
    }
}

/// The compiled policy plus detectors. Build once (cold start), share by reference.
#[derive(Debug, Clone)]
pub struct Sanitizer {
    policy: Policy,
    detectors: Detectors,
    names: NameRules,
    drop_names: HashSet<String>,
    keep_names: HashSet<String>,
    card_rule: Option<String>,
    fingerprint: String,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Name(&'a str),
    Index(usize),
}

fn render(path: &[Seg<'_>]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Name(n) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(n);
            }
            Seg::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

impl Sanitizer {
    /// Compiles a policy with the built-in detectors.
    pub fn new(policy: Policy) -> Result<Self, RulesError> {
        let disabled: HashSet<String> = policy.detectors.disable.iter().cloned().collect();
        let detectors = Detectors::from_toml(crate::detect::BUILTIN_RULES, &disabled)?;
        let card_rule = detectors
            .rules()
            .iter()
            .find(|r| r.spec.id == "pii.card_number")
            .map(|r| r.spec.id.clone());
        Ok(Sanitizer {
            drop_names: policy
                .names
                .drop
                .iter()
                .map(|n| names::normalize(n))
                .collect(),
            keep_names: policy
                .names
                .keep
                .iter()
                .map(|n| names::normalize(n))
                .collect(),
            fingerprint: policy.fingerprint(),
            names: NameRules::new(),
            detectors,
            card_rule,
            policy,
        })
    }

    /// The built-in default policy.
    pub fn default_policy() -> Self {
        Self::new(Policy::default()).expect("built-in rules compile")
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn detectors(&self) -> &Detectors {
        &self.detectors
    }

    /// The policy fingerprint written on shadow items.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Sanitizes one item. Attributes named in `keys` are the table's key: kept verbatim.
    pub fn sanitize(&self, item: &Item, keys: &[&str]) -> Result<(Item, Report), SanitizeError> {
        let mut report = Report::default();
        let mut out = Item::with_capacity(item.len());
        for &k in keys {
            match item.get(k) {
                None => return Err(SanitizeError::MissingKey(k.to_string())),
                Some(v @ (AttributeValue::S(_) | AttributeValue::B(_))) => {
                    out.insert(k.to_string(), v.clone());
                }
                Some(AttributeValue::N(n)) => {
                    validate_number(n).map_err(|r| ItemError {
                        path: k.to_string(),
                        reason: r,
                    })?;
                    out.insert(k.to_string(), AttributeValue::N(n.clone()));
                }
                Some(other) => {
                    return Err(SanitizeError::BadKeyType {
                        name: k.to_string(),
                        found: crate::item::type_tag(other),
                    })
                }
            }
        }
        let mut path = Vec::with_capacity(8);
        for (name, value) in item {
            if keys.contains(&name.as_str()) {
                continue;
            }
            path.push(Seg::Name(name));
            if name.starts_with(RESERVED_PREFIX) {
                self.note(
                    &mut report,
                    &path,
                    "reserved",
                    Category::Secret,
                    Action::Drop,
                );
            } else if let Some(rule) = self.name_rule(name) {
                self.note(&mut report, &path, &rule.0, rule.1, Action::Drop);
            } else if let Some(v) = self.value(value, &mut path, 1, &mut report)? {
                out.insert(name.clone(), v);
            }
            path.pop();
        }
        validate_item(&out)?;
        Ok((out, report))
    }

    /// Is this attribute (or map key) name dropped for its name? Returns (rule id, category).
    fn name_rule(&self, name: &str) -> Option<(String, Category)> {
        let normalized = names::normalize(name);
        if self.keep_names.contains(&normalized) {
            return None;
        }
        if self.drop_names.contains(&normalized) {
            return Some(("policy:names.drop".to_string(), Category::Secret));
        }
        self.names.check(name).map(|m| {
            let cat = if m.category == "pii" {
                Category::Pii
            } else {
                Category::Secret
            };
            (format!("name:{}", m.phrase.replace(' ', "_")), cat)
        })
    }

    fn note(
        &self,
        report: &mut Report,
        path: &[Seg<'_>],
        rule: &str,
        cat: Category,
        action: Action,
    ) {
        *report.by_rule.entry(rule.to_string()).or_default() += 1;
        *report.by_category.entry(cat.as_str()).or_default() += 1;
        report.decisions.push(Decision {
            path: render(path),
            rule: rule.to_string(),
            action,
        });
    }

    fn text(&self, s: &str, path: &[Seg<'_>], report: &mut Report) -> Option<String> {
        let mut hits: Vec<(String, Category)> = Vec::new();
        let out = self
            .detectors
            .redact(s, |r| hits.push((r.spec.id.clone(), r.spec.category)));
        for (id, cat) in hits {
            self.note(report, path, &id, cat, Action::Redact);
        }
        out
    }

    fn card_in_number(&self, n: &str, path: &[Seg<'_>], report: &mut Report) -> bool {
        match &self.card_rule {
            Some(id) if n.bytes().all(|b| b.is_ascii_digit()) && is_card_number(n) => {
                self.note(report, path, id, Category::Pii, Action::Redact);
                true
            }
            _ => false,
        }
    }

    fn binary(&self, b: &[u8], path: &[Seg<'_>], report: &mut Report) -> Option<Vec<u8>> {
        match std::str::from_utf8(b) {
            Ok(s) => Some(match self.text(s, path, report) {
                Some(r) => r.into_bytes(),
                None => b.to_vec(),
            }),
            Err(_) => match self.policy.binary {
                BinaryMode::Keep => Some(b.to_vec()),
                BinaryMode::Drop => {
                    self.note(
                        report,
                        path,
                        "binary:not_text",
                        Category::Secret,
                        Action::Drop,
                    );
                    None
                }
            },
        }
    }

    /// Sanitizes one value; `None` means the value is dropped.
    fn value<'a>(
        &self,
        v: &'a AttributeValue,
        path: &mut Vec<Seg<'a>>,
        depth: usize,
        report: &mut Report,
    ) -> Result<Option<AttributeValue>, SanitizeError> {
        let here = |path: &[Seg<'_>]| render(path);
        Ok(match v {
            AttributeValue::S(s) => Some(AttributeValue::S(
                self.text(s, path, report).unwrap_or_else(|| s.clone()),
            )),
            AttributeValue::N(n) => {
                validate_number(n).map_err(|r| ItemError {
                    path: here(path),
                    reason: r,
                })?;
                if self.card_in_number(n, path, report) {
                    Some(AttributeValue::S(
                        self.detectors
                            .rules()
                            .iter()
                            .find(|r| r.spec.id == "pii.card_number")
                            .map(|r| r.placeholder.clone())
                            .unwrap_or_default(),
                    ))
                } else {
                    Some(AttributeValue::N(n.clone()))
                }
            }
            AttributeValue::B(b) => self.binary(b, path, report).map(AttributeValue::B),
            AttributeValue::Bool(b) => Some(AttributeValue::Bool(*b)),
            AttributeValue::Null(n) => Some(AttributeValue::Null(*n)),
            AttributeValue::Ss(set) => {
                let mut out = Vec::with_capacity(set.len());
                for s in set {
                    out.push(self.text(s, path, report).unwrap_or_else(|| s.clone()));
                }
                non_empty_set(out).map(AttributeValue::Ss)
            }
            AttributeValue::Ns(set) => {
                let mut out = Vec::with_capacity(set.len());
                for n in set {
                    validate_number(n).map_err(|r| ItemError {
                        path: here(path),
                        reason: r,
                    })?;
                    // A card number cannot become a placeholder inside a number set: drop it.
                    if !self.card_in_number(n, path, report) {
                        out.push(n.clone());
                    }
                }
                non_empty_set(out).map(AttributeValue::Ns)
            }
            AttributeValue::Bs(set) => {
                let mut out = Vec::with_capacity(set.len());
                for b in set {
                    if let Some(b) = self.binary(b, path, report) {
                        out.push(b);
                    }
                }
                non_empty_set(out).map(AttributeValue::Bs)
            }
            AttributeValue::M(m) => {
                if depth >= MAX_DEPTH {
                    return Err(ItemError {
                        path: here(path),
                        reason: format!("nested deeper than DynamoDB's {MAX_DEPTH} levels"),
                    }
                    .into());
                }
                // Sorted, so numbered placeholders for redacted keys are deterministic.
                let mut names: Vec<&'a String> = m.keys().collect();
                names.sort();
                let mut out: HashMap<String, AttributeValue> = HashMap::with_capacity(m.len());
                let mut renamed: Vec<(String, AttributeValue)> = Vec::new();
                for name in names {
                    path.push(Seg::Name(name));
                    if let Some((rule, cat)) = self.name_rule(name) {
                        self.note(report, path, &rule, cat, Action::Drop);
                    } else if let Some(v) = self.value(&m[name], path, depth + 1, report)? {
                        // Map keys are data too: an email used as a key is redacted like a value.
                        match self.text(name, path, report) {
                            Some(new_name) => renamed.push((new_name, v)),
                            None => {
                                out.insert(name.clone(), v);
                            }
                        }
                    }
                    path.pop();
                }
                for (base, v) in renamed {
                    let mut key = base.clone();
                    let mut n = 2;
                    while out.contains_key(&key) {
                        key = format!("{base}#{n}");
                        n += 1;
                    }
                    out.insert(key, v);
                }
                Some(AttributeValue::M(out))
            }
            AttributeValue::L(l) => {
                if depth >= MAX_DEPTH {
                    return Err(ItemError {
                        path: here(path),
                        reason: format!("nested deeper than DynamoDB's {MAX_DEPTH} levels"),
                    }
                    .into());
                }
                let mut out = Vec::with_capacity(l.len());
                for (i, e) in l.iter().enumerate() {
                    path.push(Seg::Index(i));
                    if let Some(v) = self.value(e, path, depth + 1, report)? {
                        out.push(v);
                    }
                    path.pop();
                }
                Some(AttributeValue::L(out))
            }
        })
    }
}

/// Deduplicates (redaction can make two elements equal) keeping first occurrences; an
/// empty set is dropped because DynamoDB rejects empty sets.
fn non_empty_set<T: Eq + std::hash::Hash + Clone>(v: Vec<T>) -> Option<Vec<T>> {
    let mut seen = HashSet::with_capacity(v.len());
    let out: Vec<T> = v.into_iter().filter(|e| seen.insert(e.clone())).collect();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::parse_item;
    use serde_json::json;

    fn s() -> Sanitizer {
        Sanitizer::default_policy()
    }

    fn run(j: serde_json::Value) -> (Item, Report) {
        s().sanitize(&parse_item(&j).unwrap(), &["pk"]).unwrap()
    }

    #[test]
    fn drops_sensitive_names_at_any_depth_and_keeps_the_rest() {
        let (out, report) = run(json!({
            "pk": {"S": "user#1"},
            "name": {"S": "Alice"},
            "api_key": {"S": "whatever"},
            "sessionToken": {"S": "abc"},
            "profile": {"M": {"X-Api-Key": {"S": "k"}, "city": {"S": "Berlin"}, "debug_log": {"S": "x"}}},
            "token_count": {"N": "1234"},
            "password_updated_at": {"S": "2024-05-01T10:00:00Z"}
        }));
        assert!(!out.contains_key("api_key") && !out.contains_key("sessionToken"));
        let AttributeValue::M(p) = &out["profile"] else {
            panic!()
        };
        assert_eq!(p.len(), 1);
        assert_eq!(p["city"], AttributeValue::S("Berlin".into()));
        assert_eq!(out["token_count"], AttributeValue::N("1234".into()));
        assert_eq!(
            out["password_updated_at"],
            AttributeValue::S("2024-05-01T10:00:00Z".into())
        );
        assert_eq!(report.by_rule["name:api_key"], 2);
        let paths: Vec<&str> = report.decisions.iter().map(|d| d.path.as_str()).collect();
        assert!(paths.contains(&"profile.X-Api-Key") && paths.contains(&"profile.debug_log"));
    }

    #[test]
    fn redacts_inside_text_and_keeps_surrounding_words() {
        let (out, report) = run(json!({
            "pk": {"S": "t#1"},
            "body": {"S": "Card 4111 1111 1111 1111, reach me at alice@example.com. Thanks!"}
        }));
        assert_eq!(
            out["body"],
            AttributeValue::S(
                "Card [REDACTED:CARD_NUMBER], reach me at [REDACTED:EMAIL]. Thanks!".into()
            )
        );
        assert_eq!(report.by_category["pii"], 2);
    }

    #[test]
    fn every_attribute_type_and_edge() {
        let item = parse_item(&json!({
            "pk": {"N": "12345678901234567890123456789012345678"},
            "n": {"N": "12345678901234567890123456789012345678"},
            "card_as_number": {"N": "4111111111111111"},
            "tracking": {"N": "1234567812345678"},
            "flag": {"BOOL": false},
            "nothing": {"NULL": true},
            "emails": {"SS": ["a@example.com", "b@example.com", "plain"]},
            "only_emails": {"SS": ["a@example.com"]},
            "nums": {"NS": ["4111111111111111", "7"]},
            "cards": {"NS": ["4111111111111111"]},
            "text_bin": {"B": "aGkgYWxpY2VAZXhhbXBsZS5jb20="},
            "raw_bin": {"B": "/wD+"},
            "bins": {"BS": ["/wD+", "aGVsbG8="]},
            "thread": {"L": [{"M": {"body": {"S": "mail bob@example.com"}, "password": {"S": "x"}}}, {"B": "/wD+"}, {"N": "3"}]},
            "by_email": {"M": {"carol@example.com": {"N": "1"}, "dave@example.com": {"N": "2"}, "[REDACTED:EMAIL]": {"N": "0"}}}
        }))
        .unwrap();
        let (out, _) = s().sanitize(&item, &["pk"]).unwrap();
        use AttributeValue::*;
        assert_eq!(
            out["pk"],
            N("12345678901234567890123456789012345678".into())
        );
        assert_eq!(out["n"], N("12345678901234567890123456789012345678".into()));
        assert_eq!(out["card_as_number"], S("[REDACTED:CARD_NUMBER]".into()));
        assert_eq!(out["tracking"], N("1234567812345678".into()));
        assert_eq!(out["flag"], Bool(false));
        assert_eq!(out["nothing"], Null(true));
        // Two emails collapse to one placeholder: the set is deduplicated.
        assert_eq!(
            out["emails"],
            Ss(vec!["[REDACTED:EMAIL]".into(), "plain".into()])
        );
        assert_eq!(out["only_emails"], Ss(vec!["[REDACTED:EMAIL]".into()]));
        assert_eq!(out["nums"], Ns(vec!["7".into()]));
        assert!(
            !out.contains_key("cards"),
            "a set emptied by redaction is dropped"
        );
        assert_eq!(out["text_bin"], B(b"hi [REDACTED:EMAIL]".to_vec()));
        assert!(
            !out.contains_key("raw_bin"),
            "non-text binary is dropped by default"
        );
        assert_eq!(out["bins"], Bs(vec![b"hello".to_vec()]));
        let L(thread) = &out["thread"] else { panic!() };
        assert_eq!(
            thread.len(),
            2,
            "the binary element is dropped from the list"
        );
        let M(msg) = &thread[0] else { panic!() };
        assert_eq!(msg["body"], S("mail [REDACTED:EMAIL]".into()));
        assert!(!msg.contains_key("password"));
        assert_eq!(thread[1], N("3".into()));
        let M(by_email) = &out["by_email"] else {
            panic!()
        };
        let mut keys: Vec<&String> = by_email.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "[REDACTED:EMAIL]",
                "[REDACTED:EMAIL]#2",
                "[REDACTED:EMAIL]#3"
            ]
        );
        crate::item::validate_item(&out).unwrap();
    }

    #[test]
    fn sanitize_is_deterministic() {
        let item = parse_item(&json!({"pk": {"S": "k"}, "m": {"M": {"x@example.com": {"N": "1"}, "y@example.com": {"N": "2"}}}})).unwrap();
        let a = s().sanitize(&item, &["pk"]).unwrap().0;
        for _ in 0..20 {
            assert_eq!(s().sanitize(&item.clone(), &["pk"]).unwrap().0, a);
        }
    }

    #[test]
    fn keys_are_kept_and_must_exist() {
        let item =
            parse_item(&json!({"email": {"S": "alice@example.com"}, "sk": {"S": "profile"}}))
                .unwrap();
        let (out, _) = s().sanitize(&item, &["email", "sk"]).unwrap();
        assert_eq!(out["email"], AttributeValue::S("alice@example.com".into()));
        assert_eq!(
            s().sanitize(&item, &["pk"]).unwrap_err(),
            SanitizeError::MissingKey("pk".into())
        );
        let bad = parse_item(&json!({"pk": {"L": []}})).unwrap();
        assert!(matches!(
            s().sanitize(&bad, &["pk"]),
            Err(SanitizeError::BadKeyType { .. })
        ));
    }

    #[test]
    fn fails_closed_on_what_it_cannot_process() {
        // Too deep for DynamoDB.
        let mut deep = AttributeValue::S("x".into());
        for _ in 0..40 {
            deep = AttributeValue::M(HashMap::from([("a".to_string(), deep)]));
        }
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S("k".into())),
            ("d".to_string(), deep),
        ]);
        assert!(s()
            .sanitize(&item, &["pk"])
            .unwrap_err()
            .to_string()
            .contains("deeper"));
        // A number DynamoDB would never produce.
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S("k".into())),
            ("n".to_string(), AttributeValue::N("12abc".into())),
        ]);
        let e = s().sanitize(&item, &["pk"]).unwrap_err().to_string();
        assert!(e.contains("`n`") && !e.contains("12abc"), "{e}");
        // Placeholders that push an item over 400 KB: refused, never truncated.
        let many = "a@b.io ".repeat(50_000);
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S("k".into())),
            ("t".to_string(), AttributeValue::S(many)),
        ]);
        assert!(s()
            .sanitize(&item, &["pk"])
            .unwrap_err()
            .to_string()
            .contains("400"));
    }

    #[test]
    fn reserved_metadata_names_never_come_from_the_source() {
        let (out, report) = run(json!({"pk": {"S": "k"}, "_shadow_deleted": {"BOOL": true}}));
        assert!(!out.contains_key("_shadow_deleted"));
        assert_eq!(report.by_rule["reserved"], 1);
    }

    #[test]
    fn policy_names_and_binary_mode_apply() {
        let p = Policy::parse("version = 1\nbinary = \"keep\"\n[names]\ndrop = [\"internal notes\"]\nkeep = [\"session_token\"]\n", "t").unwrap();
        let s = Sanitizer::new(p).unwrap();
        let item = parse_item(&json!({"pk": {"S": "k"}, "internalNotes": {"S": "x"}, "session_token": {"S": "plain"}, "raw": {"B": "/wD+"}})).unwrap();
        let (out, _) = s.sanitize(&item, &["pk"]).unwrap();
        assert!(!out.contains_key("internalNotes"));
        assert_eq!(out["session_token"], AttributeValue::S("plain".into()));
        assert_eq!(out["raw"], AttributeValue::B(vec![0xff, 0, 0xfe]));
        assert_ne!(s.fingerprint(), Sanitizer::default_policy().fingerprint());
    }
}
