//! The sanitizer: one walk over an item's `AttributeValue` tree, in place.
//!
//! Everything is decided at build time ([`Sanitizer::build`] compiles the policy, rules and
//! path patterns into *filters* (path rules, name rules, detectors) that each yield a
//! [`Redactor`], and every action is applied by [`Redactor`] in one place. The walk checks
//! the item once, then cannot fail: it returns a complete sanitized item or an error about
//! the item's keys, never a half-sanitized item. The leak audit is the same walk with a flag.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::detect::{is_card_number, is_test_card, Detectors, Exhausted, RulesError, Work};
use crate::item::{item_size, AttributeValue, Checked, Item, ItemError, ItemErrorKind, MAX_ITEM_BYTES};
use crate::names::{self, NameRules};
use crate::path::{Path, Segment};
use crate::policy::{
    match_path, Action, BinaryMode, KeyType, MaskSpec, Mode, PathMatch, PathRule, Policy, Selector, Step, TablePolicy,
};
use crate::Category;

/// Attribute names starting with this are the shadow table's own metadata.
pub const RESERVED_PREFIX: &str = "_shadow_";
/// Minimum HMAC key length for `tokenize`.
pub const MIN_TOKEN_KEY_BYTES: usize = 32;
/// The placeholder of a value too costly to scan (it is redacted whole).
pub const UNSCANNED: &str = "[REDACTED:UNSCANNED]";

/// Which rule made a decision. `Display` gives the id that logs, `--explain` and audit
/// findings print: `pii.email`, `name:api_key`, `path:profile.email`, `mode:allow`, ...
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleRef {
    /// A detector rule, by id (`pii.email`).
    Detector(Arc<str>),
    /// The sensitive-name dictionary: the phrase the name ends with (`name:api_key`).
    Name(Arc<str>),
    /// The policy's `names.drop` list (`policy:names.drop`).
    PolicyName,
    /// A path rule, by its pattern as written (`path:profile.email`).
    Path(Arc<str>),
    /// Allow mode: the path is not listed (`mode:allow`).
    NotListed,
    /// An attribute named like the shadow table's metadata (`reserved`).
    Reserved,
    /// Binary that is not UTF-8 text, so it cannot be scanned (`binary:not_text`).
    BinaryNotText,
    /// Compressed or archived binary (gzip, zlib, zstd, bzip2, xz, zip, lz4): what it holds
    /// cannot be seen by a scan, so it is dropped (`binary:compressed`).
    BinaryCompressed,
    /// A value whose matching exceeded its work budget: redacted whole (`budget:unscanned`).
    Unscanned,
    /// Audit only: the shadow item could not be read at all (`audit:unreadable`).
    Unreadable,
    /// Audit only: a placeholder whose label the policy does not produce
    /// (`audit:unknown_label`): it may have been built from data.
    UnknownLabel,
    /// An index key attribute whose sanitized value does not fit the index's key type (or
    /// is empty): left out, so the item is written without it (`index:sparse`).
    IndexKey,
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleRef::Detector(id) => f.write_str(id),
            RuleRef::Name(phrase) => {
                f.write_str("name:")?;
                for (i, w) in phrase.split(' ').enumerate() {
                    if i > 0 {
                        f.write_str("_")?;
                    }
                    f.write_str(w)?;
                }
                Ok(())
            }
            RuleRef::PolicyName => f.write_str("policy:names.drop"),
            RuleRef::Path(p) => write!(f, "path:{p}"),
            RuleRef::NotListed => f.write_str("mode:allow"),
            RuleRef::Reserved => f.write_str("reserved"),
            RuleRef::BinaryNotText => f.write_str("binary:not_text"),
            RuleRef::BinaryCompressed => f.write_str("binary:compressed"),
            RuleRef::Unscanned => f.write_str("budget:unscanned"),
            RuleRef::Unreadable => f.write_str("audit:unreadable"),
            RuleRef::UnknownLabel => f.write_str("audit:unknown_label"),
            RuleRef::IndexKey => f.write_str("index:sparse"),
        }
    }
}

impl serde::Serialize for RuleRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One decision: path, rule, action. Never a value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    pub path: Path,
    pub rule: RuleRef,
    pub action: Action,
}

/// Counts of what one sanitize call changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub by_rule: BTreeMap<RuleRef, u64>,
    pub by_category: BTreeMap<Category, u64>,
    pub decisions: Vec<Decision>,
    /// What matching and walking cost (counted, for the complexity tests and benchmarks).
    pub work: Work,
    /// Index key attributes left out because they no longer fit the index (see
    /// [`RuleRef::IndexKey`]).
    pub sparse_index_keys: u64,
}

impl Report {
    /// Adds another report's counts (decisions are not carried over).
    pub fn absorb_counts(&mut self, other: &Report) {
        for (k, v) in &other.by_rule {
            *self.by_rule.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.by_category {
            *self.by_category.entry(*k).or_default() += v;
        }
        self.work.add(&other.work);
        self.sparse_index_keys += other.sparse_index_keys;
    }

    /// Count for a rule by its printed id (tests and summaries).
    pub fn count(&self, rule: &str) -> u64 {
        self.by_rule.iter().filter(|(r, _)| r.to_string() == rule).map(|(_, n)| n).sum()
    }
}

/// Why an item could not be sanitized with certainty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SanitizeError {
    /// The input or output breaks a DynamoDB rule (depth, size, number syntax).
    #[error(transparent)]
    Item(#[from] ItemError),
    /// A key attribute named by the stream record is missing from the image.
    #[error("key attribute `{0}` is missing from the image")]
    MissingKey(String),
    /// A key attribute is not a scalar S, N or B.
    #[error("key attribute `{name}` has type {found}; a key is S, N or B, and only S or B can be tokenized")]
    BadKeyType { name: String, found: &'static str },
    /// The policy would drop or change a key attribute other than by tokenizing it.
    #[error("the policy would {action} key attribute `{name}`; keys can only be kept or tokenized")]
    KeyRule { name: String, action: &'static str },
    /// A key kept verbatim holds a finding: it cannot be written without leaking, and a
    /// key cannot be redacted (it names the item). Tokenize that key in the policy.
    #[error("key attribute `{name}` holds a finding ({rule}) and the policy keeps it verbatim; tokenize it")]
    KeyFinding { name: String, rule: RuleRef },
}

impl SanitizeError {
    /// A short reason code for quarantine markers, logs and reports (never a value).
    pub fn code(&self) -> &'static str {
        match self {
            SanitizeError::Item(ItemError { kind: ItemErrorKind::TooLarge(_), .. }) => "too_large",
            SanitizeError::Item(_) => "invalid_value",
            SanitizeError::MissingKey(_) => "missing_key",
            SanitizeError::BadKeyType { .. } => "bad_key_type",
            SanitizeError::KeyRule { .. } => "key_rule",
            SanitizeError::KeyFinding { .. } => "key_finding",
        }
    }
}

/// Errors building a sanitizer (at cold start or in `check`).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(
        "{var}: the policy tokenizes, so this variable must hold the HMAC key (at least {MIN_TOKEN_KEY_BYTES} bytes)"
    )]
    MissingTokenKey { var: String },
    #[error("{var}: the HMAC key must be at least {MIN_TOKEN_KEY_BYTES} bytes")]
    ShortTokenKey { var: String },
    /// A shadow index whose key attribute the policy drops, redacts or masks (or tokenizes
    /// into a type the index does not declare).
    #[error("index `{index}`: the policy {problem} key attribute `{attribute}`; an index key can only be kept or tokenized{hint}")]
    Index { index: String, attribute: String, problem: &'static str, hint: &'static str },
}

/// Reads the tokenization key named by the policy, if the policy tokenizes.
pub fn token_key_from_env(
    policy: &Policy,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<Vec<u8>>, BuildError> {
    if !policy.uses_tokenize() {
        return Ok(None);
    }
    let var = policy.tokenize.key_env.clone();
    match get(&var) {
        None => Err(BuildError::MissingTokenKey { var }),
        Some(k) if k.len() < MIN_TOKEN_KEY_BYTES => Err(BuildError::ShortTokenKey { var }),
        Some(k) => Ok(Some(k.into_bytes())),
    }
}

/// What happens to a value or a span: the one place every action is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redactor {
    /// Removed (a whole value; for a finding, the value holding it).
    Drop,
    /// Replaced by a typed placeholder. `numbered` placeholders (person names, addresses)
    /// carry a per-item index instead, `[PERSON_2]`, so an LLM can still follow who is who.
    Redact { label: Arc<str>, numbered: bool },
    /// All but the first or last N letters and digits replaced with `*`.
    Mask(MaskSpec),
    /// A keyed HMAC-SHA256 token: the same value gives the same token everywhere.
    Tokenize { label: Arc<str> },
}

/// How the walk treats a subtree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Normal: name rules and detectors apply; in allow mode only listed paths survive.
    Normal,
    /// Inside a path listed by an allow-mode `allow` rule: everything below is listed.
    Listed,
}

/// The compiled policy plus detectors for one table. Build once (cold start), share by
/// reference; cloning is cheap (the detectors and the name cache are shared).
#[derive(Clone)]
pub struct Sanitizer {
    table: Arc<TablePolicy>,
    detectors: Detectors,
    names: Arc<NameRules>,
    /// Per detector rule index: what its findings become.
    finding: Arc<Vec<Redactor>>,
    /// Labels a placeholder written under this policy can carry (for the audit).
    labels: Arc<HashSet<String>>,
    card_rule: Option<usize>,
    token_key: Option<Arc<[u8]>>,
    fingerprint: String,
    /// The policy's own fingerprint (before the key is mixed in).
    policy_fingerprint: String,
    /// Name-rule verdicts by attribute name: items of one table repeat the same names.
    name_cache: Arc<Mutex<HashMap<String, NameVerdict>>>,
}

/// Why a name is dropped for itself: (rule, category), or `None` if it is not.
type NameVerdict = Option<(RuleRef, Category)>;

/// Names cached per sanitizer, at most. Only identifier-like names are cached: map keys can
/// be data (emails, ids), and they must neither fill the cache nor linger in memory.
const NAME_CACHE_MAX: usize = 4096;

impl fmt::Debug for Sanitizer {
    // Never print the token key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sanitizer")
            .field("fingerprint", &self.fingerprint)
            .field("rules", &self.detectors.rules().len())
            .finish()
    }
}

/// The placeholder label a redact path rule writes: the rule's `label`, else the last
/// literal name of its pattern, else `VALUE`. Never anything from the item.
pub fn path_label(rule: &PathRule) -> String {
    if let Some(l) = &rule.label {
        return l.clone();
    }
    rule.pattern
        .iter()
        .rev()
        .find_map(|p| match p {
            crate::policy::Pat::Name(n) => Some(n.to_ascii_uppercase()),
            _ => None,
        })
        .unwrap_or_else(|| "VALUE".into())
}

impl Sanitizer {
    /// Compiles a single-table policy, reading the tokenization key (if it tokenizes) from
    /// the environment variable the policy names.
    pub fn new(policy: Policy) -> Result<Self, BuildError> {
        let key = token_key_from_env(&policy, |k| std::env::var(k).ok())?;
        Self::build(&policy, &policy.default, key)
    }

    /// Compiles one table's policy with an explicit tokenization key.
    pub fn build(policy: &Policy, table: &TablePolicy, token_key: Option<Vec<u8>>) -> Result<Self, BuildError> {
        if table.uses_tokenize() && token_key.is_none() {
            return Err(BuildError::MissingTokenKey { var: policy.tokenize.key_env.clone() });
        }
        let off = |r: &crate::detect::RuleSpec| {
            table.disable.contains(&r.id) || table.disable_categories.contains(&r.category)
        };
        let builtin: Vec<_> = crate::detect::builtin_specs().iter().filter(|r| !off(r)).cloned().collect();
        let custom: Vec<_> = policy.detectors.iter().filter(|r| !off(r)).cloned().collect();
        let detectors = Detectors::with_custom(builtin, custom)?;
        let finding: Vec<Redactor> = detectors
            .rules()
            .iter()
            .map(|r| {
                let by_rule = table.findings.iter().find(|f| f.selector == Selector::Rule(r.spec.id.clone()));
                let by_cat = table.findings.iter().find(|f| f.selector == Selector::Category(r.spec.category));
                let label: Arc<str> = r.spec.label.as_str().into();
                match by_rule.or(by_cat).map(|f| (f.action, f.mask)) {
                    Some((Action::Drop, _)) => Redactor::Drop,
                    Some((Action::Mask, m)) => Redactor::Mask(m),
                    Some((Action::Tokenize, _)) => Redactor::Tokenize { label },
                    _ => Redactor::Redact { label, numbered: r.spec.category == Category::Person },
                }
            })
            .collect();
        let mut labels: HashSet<String> = detectors.rules().iter().map(|r| r.spec.label.clone()).collect();
        labels.extend(table.paths.iter().map(path_label));
        labels.extend(["VALUE", "BINARY", "UNSCANNED"].map(String::from));
        let card_rule = detectors.rules().iter().position(|r| r.spec.id == "pii.card_number");
        let policy_fingerprint = policy.fingerprint();
        let s = Sanitizer {
            fingerprint: keyed_fingerprint(&policy_fingerprint, token_key.as_deref()),
            policy_fingerprint,
            names: Arc::new(NameRules::builtin().clone()),
            table: Arc::new(table.clone()),
            detectors,
            finding: Arc::new(finding),
            labels: Arc::new(labels),
            card_rule,
            token_key: token_key.map(Arc::from),
            name_cache: Default::default(),
        };
        s.check_indexes()?;
        Ok(s)
    }

    /// The same policy and compiled detectors with another tokenization key (the previous
    /// key during a rotation): nothing is compiled again.
    pub fn with_token_key(&self, key: Vec<u8>) -> Sanitizer {
        let mut s = self.clone();
        s.fingerprint = keyed_fingerprint(&self.policy_fingerprint, Some(&key));
        s.token_key = Some(Arc::from(key));
        s
    }

    /// Whether this sanitizer tokenizes a key attribute (the shadow key then depends on the
    /// tokenization key).
    pub fn tokenizes_keys(&self, key_names: &[&str]) -> bool {
        key_names.iter().any(|k| matches!(self.key_rule(k).map(|r| r.action), Some(Action::Tokenize)))
    }

    /// The built-in default policy.
    pub fn default_policy() -> Self {
        Self::new(Policy::default()).expect("built-in rules compile")
    }

    pub fn table(&self) -> &TablePolicy {
        &self.table
    }

    pub fn detectors(&self) -> &Detectors {
        &self.detectors
    }

    /// The policy fingerprint written on shadow items.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Every placeholder label this policy can write.
    pub fn labels(&self) -> &HashSet<String> {
        &self.labels
    }

    fn token(&self, bytes: &[u8]) -> String {
        let key = self.token_key.as_deref().expect("checked at build");
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(b"dynamo-shadow:v1:");
        mac.update(bytes);
        let out = mac.finalize().into_bytes();
        let hex: String = out[..10].iter().map(|b| format!("{b:02x}")).collect();
        format!("tok_{hex}")
    }

    fn key_rule(&self, name: &str) -> Option<&PathRule> {
        key_rule(&self.table, name)
    }

    /// Keys are data too: a key kept verbatim is scanned by every detector, with its name
    /// as context. A finding (or a value too costly to scan) is an error, never a pass.
    fn scan_key(&self, name: &str, value: &str) -> Result<(), SanitizeError> {
        let (found, _) = self.detectors.find_counted(value, &format!("{name}: "));
        let rule = match found {
            Err(Exhausted) => RuleRef::Unscanned,
            Ok(f) => match f.first() {
                None => return Ok(()),
                Some(f) => RuleRef::Detector(self.detectors.rules()[f.rule].id.clone()),
            },
        };
        Err(SanitizeError::KeyFinding { name: name.to_string(), rule })
    }

    /// See [`key_warning`].
    pub fn key_warning(&self) -> Option<String> {
        key_warning(&self.table)
    }

    /// The key attributes as written to the shadow table (tokenized where the policy says
    /// so). REMOVE records use this too, so a tombstone lands on the right shadow item.
    pub fn sanitize_keys(&self, keys: &Item) -> Result<Item, SanitizeError> {
        let mut out = Item::with_capacity(keys.len());
        for (k, v) in keys {
            let action = self.key_rule(k).map(|r| r.action);
            let kept = match (action, v) {
                (None | Some(Action::Keep | Action::Allow), AttributeValue::S(s)) => {
                    self.scan_key(k, s)?;
                    v.clone()
                }
                (None | Some(Action::Keep | Action::Allow), AttributeValue::B(b)) => {
                    if let Ok(s) = std::str::from_utf8(b) {
                        self.scan_key(k, s)?;
                    }
                    v.clone()
                }
                (None | Some(Action::Keep | Action::Allow), AttributeValue::N(n)) => {
                    crate::item::validate_number(n)
                        .map_err(|r| ItemError { path: Path::attr(k), kind: ItemErrorKind::Number(r) })?;
                    self.scan_key(k, n)?;
                    v.clone()
                }
                (Some(Action::Tokenize), AttributeValue::S(s)) => AttributeValue::S(self.token(s.as_bytes())),
                (Some(Action::Tokenize), AttributeValue::B(b)) => AttributeValue::B(self.token(b).into_bytes()),
                (Some(Action::Tokenize), other) => {
                    return Err(SanitizeError::BadKeyType { name: k.clone(), found: crate::item::type_tag(other) })
                }
                (Some(a), AttributeValue::S(_) | AttributeValue::B(_) | AttributeValue::N(_)) => {
                    return Err(SanitizeError::KeyRule { name: k.clone(), action: a.as_str() })
                }
                (_, other) => {
                    return Err(SanitizeError::BadKeyType { name: k.clone(), found: crate::item::type_tag(other) })
                }
            };
            out.insert(k.clone(), kept);
        }
        Ok(out)
    }

    /// Sanitizes one item (a copy of it). Attributes named in `keys` are the table's key:
    /// kept verbatim (or tokenized, if the policy says so).
    pub fn sanitize(&self, item: &Item, keys: &[&str]) -> Result<(Item, Report), SanitizeError> {
        self.sanitize_owned(item.clone(), keys)
    }

    /// Sanitizes one item in place: values are moved, never copied.
    pub fn sanitize_owned(&self, item: Item, keys: &[&str]) -> Result<(Item, Report), SanitizeError> {
        self.sanitize_checked(Checked::new(item)?, keys)
    }

    /// Sanitizes a checked item in place; the walk itself cannot fail.
    pub fn sanitize_checked(&self, item: Checked, keys: &[&str]) -> Result<(Item, Report), SanitizeError> {
        let mut item = item.into_inner();
        let mut key_item = Item::with_capacity(keys.len());
        for &k in keys {
            match item.remove_entry(k) {
                None => return Err(SanitizeError::MissingKey(k.to_string())),
                Some((name, v)) => key_item.insert(name, v),
            };
        }
        let clean_keys = self.sanitize_keys(&key_item)?;
        let mut walk = Walk::new(self, false);
        walk.map(&mut item, 0, Scope::Normal, true);
        self.fit_index_keys(&mut item, &mut walk.report);
        item.extend(clean_keys);
        let size = item_size(&item);
        if size > MAX_ITEM_BYTES {
            return Err(ItemError { path: Path::root(), kind: ItemErrorKind::TooLarge(size) }.into());
        }
        Ok((item, walk.report))
    }

    /// DynamoDB refuses a write whose index key attribute has another type than the index
    /// declares, or is empty: such an attribute is left out (the item is written, absent
    /// from that index) and counted.
    fn fit_index_keys(&self, item: &mut Item, report: &mut Report) {
        for ix in &self.table.indexes {
            for (name, ty) in &ix.keys {
                let fits = match (item.get(name), ty) {
                    (None, _) => continue,
                    (Some(AttributeValue::S(s)), KeyType::S) => !s.is_empty(),
                    (Some(AttributeValue::N(_)), KeyType::N) => true,
                    (Some(AttributeValue::B(b)), KeyType::B) => !b.is_empty(),
                    _ => false,
                };
                if !fits {
                    item.remove(name);
                    report.sparse_index_keys += 1;
                    report.decisions.push(Decision {
                        path: Path::attr(name),
                        rule: RuleRef::IndexKey,
                        action: Action::Drop,
                    });
                }
            }
        }
    }

    /// Refuses a policy under which an index key attribute could not survive: probes each
    /// with a plain value of its declared type through the same walk every item takes.
    fn check_indexes(&self) -> Result<(), BuildError> {
        for ix in &self.table.indexes {
            for (name, ty) in &ix.keys {
                let probe = match ty {
                    KeyType::S => AttributeValue::S("probe".into()),
                    KeyType::N => AttributeValue::N("1".into()),
                    KeyType::B => AttributeValue::B(b"probe".to_vec()),
                };
                let mut item = Item::from([(name.clone(), probe)]);
                let mut walk = Walk::new(self, false);
                walk.map(&mut item, 0, Scope::Normal, true);
                let err = |problem, hint| BuildError::Index {
                    index: ix.name.clone(),
                    attribute: name.clone(),
                    problem,
                    hint,
                };
                let Some(v) = item.get(name) else { return Err(err("drops", "")) };
                if let Some(d) = walk
                    .report
                    .decisions
                    .iter()
                    .find(|d| matches!(d.action, Action::Redact | Action::Mask | Action::Drop))
                {
                    return Err(err(if d.action == Action::Mask { "masks" } else { "redacts" }, ""));
                }
                if !matches!(
                    (v, ty),
                    (AttributeValue::S(_), KeyType::S)
                        | (AttributeValue::N(_), KeyType::N)
                        | (AttributeValue::B(_), KeyType::B)
                ) {
                    return Err(err("tokenizes (a token is a string)", ": declare its type \"S\""));
                }
            }
        }
        Ok(())
    }

    /// Sanitizes free text (a prompt, a model's answer): every detector, nothing else.
    pub fn sanitize_text(&self, text: &str) -> (String, Report) {
        let mut walk = Walk::new(self, false);
        let s = match walk.redacted(text) {
            Redacted::Clean => text.to_string(),
            Redacted::To(s) => s,
            // A finding whose action drops its value: in free text, drop it all.
            Redacted::Dropped => String::new(),
        };
        (s, walk.report)
    }

    /// Leak audit of one shadow item: every detector and name rule over every attribute,
    /// value and map key, metadata aside; path rules that rewrite on purpose (redact, mask,
    /// tokenize) are not reported again, and a placeholder whose label this policy cannot
    /// write is reported (it may have been built from data). Key values are scanned too
    /// unless the policy names the key (keep or tokenize). Each finding is a path and a rule,
    /// never a value; an empty result means the item is clean.
    pub fn audit(&self, item: &Item, keys: &[&str]) -> Result<Vec<Decision>, SanitizeError> {
        let mut body: Item =
            item.iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
        crate::item::validate_input(&body)?;
        let mut walk = Walk::new(self, true);
        let mut key_item = Item::new();
        for &k in keys {
            if let Some((name, v)) = body.remove_entry(k) {
                key_item.insert(name, v);
            }
        }
        walk.map(&mut body, 0, Scope::Normal, true);
        for (k, v) in key_item.iter_mut() {
            if self.key_rule(k).is_some() {
                continue;
            }
            walk.path.push_name(k);
            walk.value(v, 1, Scope::Listed);
            walk.path.pop();
        }
        let mut findings = walk.report.decisions;
        findings.sort_by(|a, b| (&a.path, &a.rule).cmp(&(&b.path, &b.rule)));
        findings.dedup();
        Ok(findings)
    }

    /// Is this attribute (or map key) name dropped for its name?
    fn name_rule(&self, name: &str) -> NameVerdict {
        let cacheable = name.len() <= 64 && crate::path::shown_name(name) == name;
        if cacheable {
            if let Some(hit) = self.name_cache.lock().expect("not poisoned").get(name) {
                return hit.clone();
            }
        }
        let verdict = self.name_rule_uncached(name);
        if cacheable {
            let mut cache = self.name_cache.lock().expect("not poisoned");
            if cache.len() < NAME_CACHE_MAX {
                cache.insert(name.to_string(), verdict.clone());
            }
        }
        verdict
    }

    fn name_rule_uncached(&self, name: &str) -> NameVerdict {
        let normalized = names::normalize(name);
        if self.table.keep_names.contains(&normalized) {
            return None;
        }
        if self.table.drop_names.contains(&normalized) {
            return Some((RuleRef::PolicyName, Category::Secret));
        }
        self.names
            .check(name)
            .filter(|m| !self.table.disable_categories.contains(&m.category))
            .map(|m| (RuleRef::Name(m.phrase.clone()), m.category))
    }
}

/// What the walk did to a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Clean,
    Changed,
    /// A finding's action is `drop`, or the value could not be scanned within its budget
    /// under a policy that drops: the whole value goes.
    Dropped,
}

/// The fingerprint items carry: the policy's, with the tokenization key mixed in (a keyed
/// hash of it, never the key). A new key changes every token, so it must change the
/// fingerprint too: `backfill --policy-changed` and `verify` then see items tokenized under
/// the old key.
fn keyed_fingerprint(policy_fingerprint: &str, key: Option<&[u8]>) -> String {
    match key {
        None => policy_fingerprint.to_string(),
        Some(key) => {
            use sha2::Digest;
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(b"dynamo-shadow:key-id");
            let mut h = Sha256::new();
            h.update(policy_fingerprint.as_bytes());
            h.update(mac.finalize().into_bytes());
            h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// The path rule that names a key attribute, if any.
fn key_rule<'t>(table: &'t TablePolicy, name: &str) -> Option<&'t PathRule> {
    if table.paths.is_empty() {
        return None;
    }
    let step = [Step::Name(names::normalize(name))];
    table.paths.iter().find(|r| match_path(&r.pattern, &step) == PathMatch::Full)
}

/// The warning `check` and the function print when keys are kept verbatim without the
/// policy saying so: a key value holding a finding is then quarantined, not shadowed.
pub fn key_warning(table: &TablePolicy) -> Option<String> {
    let silent: Vec<&str> = table.keys.iter().filter(|k| key_rule(table, k).is_none()).map(String::as_str).collect();
    if table.keys.is_empty() {
        Some("the policy names no table keys (`keys = [...]`): key values are kept verbatim and scanned; a record whose key holds a finding is quarantined. Name the keys, and tokenize those that can hold data".into())
    } else if !silent.is_empty() {
        Some(format!(
                "key attributes {} are kept verbatim (no rule names them) and scanned; a record whose key holds a finding is quarantined. Say which: a `tokenize` rule (findings become tokens) or a `keep` rule (findings quarantine the record)",
                silent.join(", ")
            ))
    } else {
        None
    }
}

/// What detectors make of a string.
enum Redacted {
    Clean,
    To(String),
    Dropped,
}

/// One sanitize (or audit) call.
struct Walk<'s> {
    s: &'s Sanitizer,
    audit: bool,
    report: Report,
    path: Path,
    /// Normalised steps for path rules (only kept when the policy has path rules).
    steps: Vec<Step>,
    track: bool,
    /// Per-item numbering of person and address placeholders: (label, folded text) -> n.
    numbers: HashMap<(Arc<str>, String), usize>,
    next_number: HashMap<Arc<str>, usize>,
}

impl<'s> Walk<'s> {
    fn new(s: &'s Sanitizer, audit: bool) -> Self {
        Walk {
            s,
            audit,
            report: Report::default(),
            path: Path::root(),
            steps: Vec::new(),
            track: !s.table.paths.is_empty(),
            numbers: HashMap::new(),
            next_number: HashMap::new(),
        }
    }

    fn note(&mut self, rule: RuleRef, cat: Category, action: Action) {
        *self.report.by_rule.entry(rule.clone()).or_default() += 1;
        *self.report.by_category.entry(cat).or_default() += 1;
        self.report.decisions.push(Decision { path: self.path.clone(), rule, action });
    }

    fn push_name(&mut self, n: &str) {
        self.path.push_name(n);
        if self.track {
            self.steps.push(Step::Name(names::normalize(n)));
        }
    }

    fn push_index(&mut self, i: usize) {
        self.path.push_index(i);
        if self.track {
            self.steps.push(Step::Index);
        }
    }

    fn pop(&mut self) {
        self.path.pop();
        if self.track {
            self.steps.pop();
        }
    }

    /// A map (or the item's top level): every entry in sorted key order (so numbering and
    /// renames are deterministic), entries dropped in place, redacted names renamed.
    fn map(&mut self, m: &mut HashMap<String, AttributeValue>, depth: usize, scope: Scope, top: bool) {
        // Entries are moved out, walked in sorted order and moved back: no value is copied.
        let mut entries: Vec<(String, AttributeValue)> = std::mem::take(m).into_iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut out: HashMap<String, AttributeValue> = HashMap::with_capacity(entries.len());
        let mut renamed: Vec<(String, AttributeValue)> = Vec::new();
        for (name, mut v) in entries {
            self.push_name(&name);
            let keep = if top && name.starts_with(RESERVED_PREFIX) {
                self.note(RuleRef::Reserved, Category::Secret, Action::Drop);
                false
            } else {
                self.entry(&mut v, depth, scope)
            };
            if keep {
                // Names are data too in a schema-less table: an email used as a key is
                // redacted like a value.
                match self.redacted_as(&name, true) {
                    Redacted::Clean => {
                        out.insert(name, v);
                    }
                    Redacted::To(new_name) => renamed.push((new_name, v)),
                    Redacted::Dropped => {}
                }
            }
            self.pop();
        }
        // Unique names for placeholders that collide: `[REDACTED:EMAIL]`, `#2`, `#3`, ...
        // with one counter per base, so n renames cost O(n).
        let mut next: HashMap<String, usize> = HashMap::new();
        for (base, v) in renamed {
            let mut key = base.clone();
            let n = next.entry(base.clone()).or_insert(1);
            while out.contains_key(&key) {
                self.report.work.nodes += 1;
                *n += 1;
                key = format!("{base}#{n}");
            }
            out.insert(key, v);
        }
        *m = out;
    }

    /// An attribute, map entry or list element at `self.path`: path rules, allow mode and
    /// name rules first, then the value itself. `false` drops it.
    fn entry(&mut self, v: &mut AttributeValue, depth: usize, scope: Scope) -> bool {
        let rule = if self.track {
            self.s.table.paths.iter().find(|r| match_path(&r.pattern, &self.steps) == PathMatch::Full)
        } else {
            None
        };
        if let Some(rule) = rule {
            let id = RuleRef::Path(rule.source.as_str().into());
            return match rule.action {
                Action::Keep => true,
                Action::Allow => {
                    let inner = if self.s.table.mode == Mode::Allow { Scope::Listed } else { scope };
                    self.value(v, depth, inner)
                }
                // Rewrites the policy asks for are intended: the audit does not report them.
                _ if self.audit => true,
                Action::Drop => {
                    self.note(id, Category::Secret, Action::Drop);
                    false
                }
                Action::Redact => {
                    self.note(id, Category::Secret, Action::Redact);
                    let label: Arc<str> = path_label(rule).into();
                    self.apply_whole(&Redactor::Redact { label, numbered: false }, v)
                }
                Action::Mask => {
                    self.note(id, Category::Secret, Action::Mask);
                    self.apply_whole(&Redactor::Mask(rule.mask), v)
                }
                Action::Tokenize => {
                    self.note(id, Category::Secret, Action::Tokenize);
                    self.apply_whole(&Redactor::Tokenize { label: "".into() }, v)
                }
            };
        }
        let name = match self.path.segments().last() {
            Some(Segment::Name(n)) => Some(n.clone()),
            _ => None,
        };
        if self.s.table.mode == Mode::Allow && scope == Scope::Normal {
            // Unlisted: kept only as a container on the way to a listed path.
            let on_the_way = matches!(v, AttributeValue::M(_) | AttributeValue::L(_))
                && self
                    .s
                    .table
                    .paths
                    .iter()
                    .any(|r| r.action != Action::Drop && match_path(&r.pattern, &self.steps) == PathMatch::Prefix);
            if !on_the_way {
                self.note(RuleRef::NotListed, Category::Secret, Action::Drop);
                return false;
            }
        } else if let Some(name) = name {
            // A sensitive name drops its value, unless that value cannot hold a secret: a
            // boolean or null, an already-masked value, a local development default.
            if !carries_nothing(v) {
                if let Some((rule, cat)) = self.s.name_rule(&name) {
                    self.note(rule, cat, Action::Drop);
                    return false;
                }
            }
        }
        self.value(v, depth, scope)
    }

    /// Applies a redactor to a whole value (path rules). `false` drops it.
    fn apply_whole(&mut self, r: &Redactor, v: &mut AttributeValue) -> bool {
        let text = match v {
            AttributeValue::S(s) | AttributeValue::N(s) => Some(std::mem::take(s).into_bytes()),
            AttributeValue::B(b) => Some(std::mem::take(b)),
            _ => None,
        };
        *v = AttributeValue::S(match (r, text) {
            (Redactor::Drop, _) => return false,
            (Redactor::Redact { label, .. }, _) => format!("[REDACTED:{label}]"),
            (Redactor::Mask(spec), Some(t)) => match String::from_utf8(t) {
                Ok(s) => mask(&s, *spec),
                Err(_) => "[REDACTED:BINARY]".into(),
            },
            // Masking needs text: anything else is redacted whole.
            (Redactor::Mask(_), None) => "[REDACTED:VALUE]".into(),
            (Redactor::Tokenize { .. }, Some(t)) => self.s.token(&t),
            (Redactor::Tokenize { .. }, None) => {
                let line = crate::item::item_to_line(&Item::from([(
                    String::new(),
                    std::mem::replace(v, AttributeValue::Null(true)),
                )]));
                self.s.token(line.as_bytes())
            }
        });
        true
    }

    /// The replacement of one finding's span.
    fn replace_span(&mut self, r: &Redactor, span: &str, placeholder: &str, out: &mut String) {
        match r {
            Redactor::Drop => {}
            Redactor::Mask(spec) => out.push_str(&mask(span, *spec)),
            Redactor::Tokenize { label } => {
                out.push('[');
                out.push_str(label);
                out.push(':');
                out.push_str(&self.s.token(span.as_bytes()));
                out.push(']');
            }
            Redactor::Redact { label, numbered: true } => {
                let folded = fold_name(span);
                let n = match self.numbers.get(&(label.clone(), folded.clone())) {
                    Some(&n) => n,
                    None => {
                        let next = self.next_number.entry(label.clone()).or_insert(0);
                        *next += 1;
                        self.numbers.insert((label.clone(), folded), *next);
                        *next
                    }
                };
                out.push('[');
                out.push_str(label);
                out.push('_');
                out.push_str(&n.to_string());
                out.push(']');
            }
            Redactor::Redact { .. } => out.push_str(placeholder),
        }
    }

    /// Applies detector findings to a string in place.
    fn text(&mut self, s: &mut String) -> Outcome {
        match self.redacted(s) {
            Redacted::Clean => Outcome::Clean,
            Redacted::Dropped => Outcome::Dropped,
            Redacted::To(out) => {
                *s = out;
                Outcome::Changed
            }
        }
    }

    /// What detectors make of a string, without touching it.
    fn redacted(&mut self, s: &str) -> Redacted {
        self.redacted_as(s, false)
    }

    /// `is_name`: `s` is the map key at the end of the path (its context is its parent's).
    fn redacted_as(&mut self, s: &str, is_name: bool) -> Redacted {
        // The name the value is stored under (or, for a list element, the list's) is its
        // context: `"version": "10.2.0.1"` is a version, `"ip": "..."` an address.
        let segs = self.path.segments();
        let segs = if is_name { &segs[..segs.len().saturating_sub(1)] } else { segs };
        let context = segs.iter().rev().find_map(|seg| match seg {
            Segment::Name(n) => Some(n.as_str()),
            Segment::Index(_) => None,
        });
        let context = context.map(|n| format!("{n}: ")).unwrap_or_default();
        let (found, work) = self.s.detectors.find_counted(s, &context);
        self.report.work.add(&work);
        let findings = match found {
            Ok(f) => f,
            Err(Exhausted) => {
                // Too costly to scan with certainty: never passed through.
                self.note(RuleRef::Unscanned, Category::Secret, Action::Redact);
                return Redacted::To(UNSCANNED.to_string());
            }
        };
        if self.audit {
            self.unknown_labels(s);
        }
        if findings.is_empty() {
            return Redacted::Clean;
        }
        let sanitizer = self.s;
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for f in findings {
            let rule = &sanitizer.detectors.rules()[f.rule];
            let r = &sanitizer.finding[f.rule];
            let action = match r {
                Redactor::Drop => Action::Drop,
                Redactor::Mask(_) => Action::Mask,
                Redactor::Tokenize { .. } => Action::Tokenize,
                Redactor::Redact { .. } => Action::Redact,
            };
            self.note(RuleRef::Detector(rule.id.clone()), rule.spec.category, action);
            if *r == Redactor::Drop {
                return Redacted::Dropped;
            }
            out.push_str(&s[last..f.start]);
            self.replace_span(r, &s[f.start..f.end], &rule.placeholder, &mut out);
            last = f.end;
        }
        out.push_str(&s[last..]);
        Redacted::To(out)
    }

    /// Audit: a placeholder whose label this policy does not write.
    fn unknown_labels(&mut self, s: &str) {
        let mut rest = s;
        while let Some(i) = rest.find("[REDACTED:") {
            let tail = &rest[i + 10..];
            let len = tail.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
            if tail.as_bytes().get(len) == Some(&b']') && !self.s.labels.contains(&tail[..len]) {
                self.note(RuleRef::UnknownLabel, Category::Secret, Action::Redact);
            }
            rest = &tail[len..];
        }
    }

    /// A number that is a card number becomes the card rule's replacement (a string).
    fn number(&mut self, v: &mut AttributeValue) -> bool {
        let AttributeValue::N(n) = v else { return true };
        let card = n.bytes().all(|b| b.is_ascii_digit()) && is_card_number(n) && !is_test_card(n);
        let Some(idx) = self.s.card_rule.filter(|_| card) else {
            return true;
        };
        let rule = &self.s.detectors.rules()[idx];
        let r = self.s.finding[idx].clone();
        let (id, placeholder) = (rule.id.clone(), rule.placeholder.clone());
        let action = match r {
            Redactor::Drop => Action::Drop,
            Redactor::Mask(_) => Action::Mask,
            Redactor::Tokenize { .. } => Action::Tokenize,
            Redactor::Redact { .. } => Action::Redact,
        };
        self.note(RuleRef::Detector(id), Category::Pii, action);
        if r == Redactor::Drop {
            return false;
        }
        let digits = std::mem::take(n);
        let mut out = String::new();
        self.replace_span(&r, &digits, &placeholder, &mut out);
        *v = AttributeValue::S(out);
        true
    }

    /// Binary: scanned as text when it is UTF-8, else the policy's binary mode.
    fn binary(&mut self, b: &mut Vec<u8>) -> bool {
        match String::from_utf8(std::mem::take(b)) {
            Ok(mut s) => {
                let keep = self.text(&mut s) != Outcome::Dropped;
                *b = s.into_bytes();
                keep
            }
            Err(e) => {
                *b = e.into_bytes();
                match self.s.table.binary {
                    BinaryMode::Keep => true,
                    BinaryMode::Drop => {
                        self.note(RuleRef::BinaryNotText, Category::Secret, Action::Drop);
                        false
                    }
                    BinaryMode::Scan if is_compressed(b) => {
                        self.note(RuleRef::BinaryCompressed, Category::Secret, Action::Drop);
                        false
                    }
                    BinaryMode::Scan => {
                        // What a reader could decode from it; any finding drops the value.
                        let readable = String::from_utf8_lossy(b).into_owned();
                        match self.redacted(&readable) {
                            Redacted::Clean => true,
                            Redacted::To(_) | Redacted::Dropped => {
                                self.note(RuleRef::BinaryNotText, Category::Secret, Action::Drop);
                                false
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sanitizes one value in place; `false` means it is dropped.
    fn value(&mut self, v: &mut AttributeValue, depth: usize, scope: Scope) -> bool {
        self.report.work.nodes += 1;
        match v {
            AttributeValue::S(s) => self.text(s) != Outcome::Dropped,
            AttributeValue::N(_) => self.number(v),
            AttributeValue::B(b) => self.binary(b),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => true,
            AttributeValue::Ss(set) => {
                set.retain_mut(|s| self.text(s) != Outcome::Dropped);
                dedup_set(set)
            }
            AttributeValue::Ns(set) => {
                // A card number cannot become a placeholder inside a number set: drop it.
                set.retain(|n| {
                    let mut v = AttributeValue::N(n.clone());
                    self.number(&mut v) && matches!(v, AttributeValue::N(_))
                });
                dedup_set(set)
            }
            AttributeValue::Bs(set) => {
                set.retain_mut(|b| self.binary(b));
                dedup_set(set)
            }
            AttributeValue::M(m) => {
                self.map(m, depth + 1, scope, false);
                true
            }
            AttributeValue::L(l) => {
                let mut i = 0;
                let mut index = 0;
                while i < l.len() {
                    self.push_index(index);
                    let keep = self.entry(&mut l[i], depth + 1, scope);
                    self.pop();
                    if keep {
                        i += 1;
                    } else {
                        l.remove(i);
                    }
                    index += 1;
                }
                true
            }
        }
    }
}

/// A value that holds no secret whatever its attribute is called: a flag, null, empty, an
/// already-masked value (`[FILTERED]`, `***`, `Bearer ***`, `<redacted>`, a placeholder of
/// ours), or a connection string to a local development server with default credentials.
/// Strings are still scanned by the detectors.
pub fn carries_nothing(v: &AttributeValue) -> bool {
    match v {
        AttributeValue::Bool(_) | AttributeValue::Null(_) => true,
        AttributeValue::S(s) => is_masked_value(s) || is_local_default_dsn(s),
        _ => false,
    }
}

/// The whole value is a mask, not a secret.
pub fn is_masked_value(s: &str) -> bool {
    let t = s.trim();
    let t =
        ["Bearer ", "Basic ", "Token ", "bearer ", "token "].iter().find_map(|p| t.strip_prefix(p)).unwrap_or(t).trim();
    if t.is_empty() {
        return true;
    }
    if t.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '●' | '#' | '.' | '-' | '_' | '█' | ' '))
        && t.chars().count() >= 3
    {
        return true;
    }
    let bracketed = ((t.starts_with('[') && t.ends_with(']'))
        || (t.starts_with('(') && t.ends_with(')'))
        || (t.starts_with('<') && t.ends_with('>'))
        || (t.starts_with('{') && t.ends_with('}')))
        && t.len() <= 48;
    let inner = if bracketed { t[1..t.len() - 1].trim() } else { t };
    let word = inner.to_ascii_lowercase();
    let word = word.split(':').next().unwrap_or("").trim();
    const MASKS: &[&str] = &[
        "filtered",
        "redacted",
        "masked",
        "hidden",
        "removed",
        "omitted",
        "sensitive",
        "sensitive value",
        "secret",
        "scrubbed",
        "sanitized",
        "censored",
        "protected",
        "not shown",
        "withheld",
        "value hidden",
        "hidden value",
    ];
    (bracketed && MASKS.contains(&word))
        || (!bracketed && matches!(word, "redacted" | "[filtered]" | "filtered" | "masked"))
}

/// `scheme://[user[:password]@]localhost[:port][/db]` with no password or a well-known
/// default one: sample configuration, not a credential.
pub fn is_local_default_dsn(s: &str) -> bool {
    let Some((scheme, rest)) = s.trim().split_once("://") else { return false };
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+') {
        return false;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (creds, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0" | "db" | "postgres" | "redis" | "mysql");
    let password = creds.split_once(':').map_or("", |(_, p)| p);
    const DEFAULTS: &[&str] = &[
        "", "password", "pass", "postgres", "root", "secret", "guest", "admin", "test", "example", "changeme", "mysql",
    ];
    local && DEFAULTS.contains(&password)
}

/// A name as placeholders number it: lower case, single spaces, no honorific.
fn fold_name(s: &str) -> String {
    let lower = s.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .filter(|w| !matches!(*w, "mr" | "mr." | "mrs" | "mrs." | "ms" | "ms." | "dr" | "dr." | "prof" | "prof."))
        .collect();
    words.join(" ")
}

/// Replaces all but the kept letters and digits with `*`, keeping separators, so
/// `4111 1111 1111 1234` masks to `**** **** **** 1234`.
pub fn mask(s: &str, spec: MaskSpec) -> String {
    let total = s.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            let keep = match spec {
                MaskSpec::Last(n) => seen + n > total,
                MaskSpec::First(n) => seen <= n,
            };
            if keep {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Deduplicates a set in place (redaction can make two elements equal) keeping first
/// occurrences; `false` when it is empty (DynamoDB rejects empty sets, so it is dropped).
fn dedup_set<T: Eq + std::hash::Hash + Clone>(v: &mut Vec<T>) -> bool {
    let mut seen = HashSet::with_capacity(v.len());
    v.retain(|e| seen.insert(e.clone()));
    !v.is_empty()
}
/// Starts with the magic bytes of a compression or archive format: its content is not
/// visible to a scan of its bytes (a gzipped JSON blob is a common DynamoDB pattern).
fn is_compressed(b: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"\x1f\x8b",               // gzip
        b"\x28\xb5\x2f\xfd",       // zstd
        b"BZh",                    // bzip2
        b"\xfd7zXZ\x00",           // xz
        b"PK\x03\x04",             // zip
        b"\x04\x22\x4d\x18",       // lz4 frame
        b"\xff\x06\x00\x00sNaPpY", // snappy frame
        b"7z\xbc\xaf\x27\x1c",     // 7z
    ];
    // zlib: CMF 0x78 and a header checksum that is a multiple of 31.
    let zlib = b.len() >= 2 && b[0] == 0x78 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0;
    zlib || MAGIC.iter().any(|m| b.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scanned_and_common_key_shapes_stay_clean() {
        let san = Sanitizer::default_policy();
        let key = |pk: &str, sk: AttributeValue| {
            Item::from([("pk".to_string(), AttributeValue::S(pk.into())), ("sk".to_string(), sk)])
        };
        // Shapes apps use for keys: never a finding, or whole tables would be quarantined.
        let clean = [
            "USER#1001",
            "ORDER#2024-01-15T10:22:33Z",
            "TENANT#acme#TICKET#9912",
            "3f2b8c1e-6a7d-4e0b-9c55-0f1e2d3c4b5a",
            "01HQ3V7K9M2N4P6R8S0T1V3W5X",
            "c_9f8e7d6c5b4a",
            "PROFILE",
            "2026-12-01",
            "item-000123",
            "sess#v2#0042",
            "product:sku-88231",
            "a1b2c3d4e5f6",
            "1700000000000",
            "org/42/project/7",
        ];
        for pk in clean {
            let k = key(pk, AttributeValue::N("42".into()));
            assert_eq!(san.sanitize_keys(&k).map(|_| ()), Ok(()), "{pk}");
        }
        // Data in a key kept verbatim: refused, naming the key and the rule, never the value.
        for (pk, rule) in [("USER#jane.doe@example.org", "pii.email"), ("SSN#536-22-8726", "pii.us_ssn")] {
            let e = san.sanitize_keys(&key(pk, AttributeValue::S("x".into()))).unwrap_err();
            let SanitizeError::KeyFinding { name, rule: found } = &e else { panic!("{e:?}") };
            assert_eq!(name, "pk");
            assert!(found.to_string().starts_with(rule.split('.').next().unwrap()), "{pk}: {found}");
            assert!(!e.to_string().contains(pk.split('#').nth(1).unwrap()), "{e}");
        }
        let card = key("CARD", AttributeValue::N("4929130877526389".into()));
        assert!(matches!(san.sanitize_keys(&card), Err(SanitizeError::KeyFinding { .. })), "numeric keys are scanned");
        // Tokenized keys are not refused: the token is written instead.
        let p = Policy::parse(
            "version = 1\nkeys = [\"pk\", \"sk\"]\n[[rule]]\npath = \"pk\"\naction = \"tokenize\"\n",
            "t",
        )
        .unwrap();
        let tok = Sanitizer::build(&p, &p.default, Some(b"0123456789abcdef0123456789abcdef".to_vec())).unwrap();
        let out = tok.sanitize_keys(&key("USER#jane.doe@example.org", AttributeValue::S("x".into()))).unwrap();
        assert!(!format!("{out:?}").contains("jane.doe"));
        assert!(san.key_warning().is_some());
        assert!(tok.key_warning().unwrap().contains("sk"), "{:?}", tok.key_warning());
    }
    use crate::item::parse_item;
    use serde_json::json;

    #[test]
    fn a_new_token_key_changes_the_fingerprint() {
        let policy = Policy::parse("version = 1\n[[rule]]\npath = \"email\"\naction = \"tokenize\"\n", "p").unwrap();
        let a = Sanitizer::build(&policy, &policy.default, Some(vec![1; 32])).unwrap();
        let b = Sanitizer::build(&policy, &policy.default, Some(vec![2; 32])).unwrap();
        let a2 = Sanitizer::build(&policy, &policy.default, Some(vec![1; 32])).unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a2.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
        assert_ne!(a.fingerprint(), policy.fingerprint());
    }

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
        let AttributeValue::M(p) = &out["profile"] else { panic!() };
        assert_eq!(p.len(), 1);
        assert_eq!(p["city"], AttributeValue::S("Berlin".into()));
        assert_eq!(out["token_count"], AttributeValue::N("1234".into()));
        assert_eq!(out["password_updated_at"], AttributeValue::S("2024-05-01T10:00:00Z".into()));
        assert_eq!(report.count("name:api_key"), 2);
        let paths: Vec<String> = report.decisions.iter().map(|d| d.path.to_string()).collect();
        assert!(paths.iter().any(|p| p == "profile.X-Api-Key") && paths.iter().any(|p| p == "profile.debug_log"));
    }

    #[test]
    fn redacts_inside_text_and_keeps_surrounding_words() {
        let (out, report) = run(json!({
            "pk": {"S": "t#1"},
            "body": {"S": "Card 4929 1308 7752 6389, reach me at alice@example.com. Thanks!"}
        }));
        assert_eq!(
            out["body"],
            AttributeValue::S("Card [REDACTED:CARD_NUMBER], reach me at [REDACTED:EMAIL]. Thanks!".into())
        );
        assert_eq!(report.by_category[&Category::Pii], 2);
    }

    #[test]
    fn every_attribute_type_and_edge() {
        let item = parse_item(&json!({
            "pk": {"N": "12345678901234567890123456789012345678"},
            "n": {"N": "12345678901234567890123456789012345678"},
            "card_as_number": {"N": "4929130877526389"},
            "tracking": {"N": "1234567812345678"},
            "flag": {"BOOL": false},
            "nothing": {"NULL": true},
            "emails": {"SS": ["a@example.com", "b@example.com", "plain"]},
            "only_emails": {"SS": ["a@example.com"]},
            "nums": {"NS": ["4929130877526389", "7"]},
            "cards": {"NS": ["4929130877526389"]},
            "text_bin": {"B": "aGkgYWxpY2VAZXhhbXBsZS5jb20="},
            "raw_bin": {"B": "/wD+"},
            "bins": {"BS": ["/wD+", "aGVsbG8="]},
            "thread": {"L": [{"M": {"body": {"S": "mail bob@example.com"}, "password": {"S": "x"}}}, {"B": "//4gbWFpbCB6ZWRAZXhhbXBsZS5vcmc="}, {"N": "3"}]},
            "by_email": {"M": {"carol@example.com": {"N": "1"}, "dave@example.com": {"N": "2"}, "[REDACTED:EMAIL]": {"N": "0"}}}
        }))
        .unwrap();
        let (out, _) = s().sanitize(&item, &["pk"]).unwrap();
        use AttributeValue::*;
        assert_eq!(out["pk"], N("12345678901234567890123456789012345678".into()));
        assert_eq!(out["n"], N("12345678901234567890123456789012345678".into()));
        assert_eq!(out["card_as_number"], S("[REDACTED:CARD_NUMBER]".into()));
        assert_eq!(out["tracking"], N("1234567812345678".into()));
        assert_eq!(out["flag"], Bool(false));
        assert_eq!(out["nothing"], Null(true));
        // Two emails collapse to one placeholder: the set is deduplicated.
        assert_eq!(out["emails"], Ss(vec!["[REDACTED:EMAIL]".into(), "plain".into()]));
        assert_eq!(out["only_emails"], Ss(vec!["[REDACTED:EMAIL]".into()]));
        assert_eq!(out["nums"], Ns(vec!["7".into()]));
        assert!(!out.contains_key("cards"), "a set emptied by redaction is dropped");
        assert_eq!(out["text_bin"], B(b"hi [REDACTED:EMAIL]".to_vec()));
        assert_eq!(out["raw_bin"], B(vec![0xff, 0, 0xfe]), "binary with nothing readable in it is kept");
        assert_eq!(out["bins"], Bs(vec![vec![0xff, 0, 0xfe], b"hello".to_vec()]));
        let L(thread) = &out["thread"] else { panic!() };
        assert_eq!(thread.len(), 2, "binary whose readable text holds an email is dropped from the list");
        let M(msg) = &thread[0] else { panic!() };
        assert_eq!(msg["body"], S("mail [REDACTED:EMAIL]".into()));
        assert!(!msg.contains_key("password"));
        assert_eq!(thread[1], N("3".into()));
        let M(by_email) = &out["by_email"] else { panic!() };
        let mut keys: Vec<&String> = by_email.keys().collect();
        keys.sort();
        assert_eq!(keys, ["[REDACTED:EMAIL]", "[REDACTED:EMAIL]#2", "[REDACTED:EMAIL]#3"]);
        crate::item::validate_item(&out).unwrap();
    }

    #[test]
    fn sanitize_is_deterministic() {
        let item = parse_item(
            &json!({"pk": {"S": "k"}, "m": {"M": {"x@example.com": {"N": "1"}, "y@example.com": {"N": "2"}}}}),
        )
        .unwrap();
        let a = s().sanitize(&item, &["pk"]).unwrap().0;
        for _ in 0..20 {
            assert_eq!(s().sanitize(&item.clone(), &["pk"]).unwrap().0, a);
        }
    }

    #[test]
    fn keys_are_kept_and_must_exist() {
        let item = parse_item(&json!({"user": {"S": "USER#1001"}, "sk": {"S": "profile"}})).unwrap();
        let (out, _) = s().sanitize(&item, &["user", "sk"]).unwrap();
        assert_eq!(out["user"], AttributeValue::S("USER#1001".into()));
        assert_eq!(s().sanitize(&item, &["pk"]).unwrap_err(), SanitizeError::MissingKey("pk".into()));
        // A key kept verbatim that holds a finding is refused (it would be written as is).
        let email = parse_item(&json!({"email": {"S": "alice@example.com"}, "sk": {"S": "profile"}})).unwrap();
        assert!(matches!(s().sanitize(&email, &["email", "sk"]), Err(SanitizeError::KeyFinding { .. })));
        let bad = parse_item(&json!({"pk": {"L": []}})).unwrap();
        assert!(matches!(s().sanitize(&bad, &["pk"]), Err(SanitizeError::BadKeyType { .. })));
    }

    #[test]
    fn fails_closed_on_what_it_cannot_process() {
        // Too deep for DynamoDB.
        let mut deep = AttributeValue::S("x".into());
        for _ in 0..40 {
            deep = AttributeValue::M(HashMap::from([("a".to_string(), deep)]));
        }
        let item = Item::from([("pk".to_string(), AttributeValue::S("k".into())), ("d".to_string(), deep)]);
        assert!(s().sanitize(&item, &["pk"]).unwrap_err().to_string().contains("deeper"));
        // A number DynamoDB would never produce.
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S("k".into())),
            ("n".to_string(), AttributeValue::N("12abc".into())),
        ]);
        let e = s().sanitize(&item, &["pk"]).unwrap_err().to_string();
        assert!(e.contains("`n`") && !e.contains("12abc"), "{e}");
        // Placeholders that push an item over 400 KB: refused, never truncated.
        // (An email every 174 bytes: well inside the work budget.)
        let many = format!("mail a@b.io {}", "lorem ipsum dolor sit amet ".repeat(6)).repeat(2_300);
        assert!(many.len() < crate::item::MAX_ITEM_BYTES);
        let item =
            Item::from([("pk".to_string(), AttributeValue::S("k".into())), ("t".to_string(), AttributeValue::S(many))]);
        assert!(s().sanitize(&item, &["pk"]).unwrap_err().to_string().contains("400"));
    }

    #[test]
    fn reserved_metadata_names_never_come_from_the_source() {
        let (out, report) = run(json!({"pk": {"S": "k"}, "_shadow_deleted": {"BOOL": true}}));
        assert!(!out.contains_key("_shadow_deleted"));
        assert_eq!(report.count("reserved"), 1);
    }

    #[test]
    fn policy_names_and_binary_mode_apply() {
        let p = Policy::parse(
            "version = 1\nbinary = \"keep\"\n[names]\ndrop = [\"internal notes\"]\nkeep = [\"session_token\"]\n",
            "t",
        )
        .unwrap();
        let s = Sanitizer::new(p).unwrap();
        let item = parse_item(&json!({"pk": {"S": "k"}, "internalNotes": {"S": "x"}, "session_token": {"S": "plain"}, "raw": {"B": "/wD+"}})).unwrap();
        let (out, _) = s.sanitize(&item, &["pk"]).unwrap();
        assert!(!out.contains_key("internalNotes"));
        assert_eq!(out["session_token"], AttributeValue::S("plain".into()));
        assert_eq!(out["raw"], AttributeValue::B(vec![0xff, 0, 0xfe]));
        assert_ne!(s.fingerprint(), Sanitizer::default_policy().fingerprint());
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-key";

    fn with(policy: &str) -> Sanitizer {
        let p = Policy::parse(policy, "t.toml").unwrap();
        let key = p.uses_tokenize().then(|| KEY.to_vec());
        Sanitizer::build(&p, &p.default, key).unwrap()
    }

    fn item(j: serde_json::Value) -> Item {
        parse_item(&j).unwrap()
    }

    #[test]
    fn allow_mode_keeps_only_listed_paths_and_keys() {
        let s = with(
            r#"version = 1
mode = "allow"
[[rule]]
path = "name"
action = "allow"
[[rule]]
path = "profile.city"
action = "allow"
[[rule]]
path = "messages[*].body"
action = "allow"
[[rule]]
path = "notes"
action = "keep"
[[rule]]
path = "prefs"
action = "allow"
"#,
        );
        let (out, report) = s
            .sanitize(
                &item(json!({
                    "pk": {"S": "u#1"},
                    "name": {"S": "Alice, alice@example.com"},
                    "profile": {"M": {"city": {"S": "Berlin"}, "ssn": {"S": "536-22-8714"}}},
                    "messages": {"L": [{"M": {"body": {"S": "hi"}, "from": {"S": "x"}}}, {"M": {"body": {"S": "call +44 20 7946 0958"}}}]},
                    "notes": {"S": "trusted: bob@example.com"},
                    "prefs": {"M": {"theme": {"S": "dark"}, "api_key": {"S": "k"}}},
                    "added_later": {"S": "new attribute the app added"}
                })),
                &["pk"],
            )
            .unwrap();
        use AttributeValue::*;
        let mut names: Vec<&String> = out.keys().collect();
        names.sort();
        assert_eq!(names, ["messages", "name", "notes", "pk", "prefs", "profile"]);
        assert_eq!(out["name"], S("Alice, [REDACTED:EMAIL]".into()), "detectors still scan allowed paths");
        assert_eq!(out["profile"], M(HashMap::from([("city".to_string(), S("Berlin".into()))])));
        let L(msgs) = &out["messages"] else { panic!() };
        assert_eq!(msgs[0], M(HashMap::from([("body".to_string(), S("hi".into()))])));
        assert_eq!(msgs[1], M(HashMap::from([("body".to_string(), S("call [REDACTED:PHONE]".into()))])));
        assert_eq!(out["notes"], S("trusted: bob@example.com".into()), "keep is exempt from detectors");
        assert_eq!(
            out["prefs"],
            M(HashMap::from([("theme".to_string(), S("dark".into()))])),
            "name rules still apply below a listed path"
        );
        assert!(report.decisions.iter().any(|d| d.path.to_string() == "added_later" && d.rule == RuleRef::NotListed));
    }

    #[test]
    fn every_path_action() {
        let s = with(
            r#"version = 1
[[rule]]
path = "internal"
action = "drop"
[[rule]]
path = "profile.phone"
action = "redact"
[[rule]]
path = "card"
action = "mask"
keep_last = 4
[[rule]]
path = "customer_email"
action = "tokenize"
[[rule]]
path = "session_token"
action = "keep"
[[rule]]
path = "**.ssn"
action = "drop"
[[rule]]
path = "code"
action = "mask"
keep_first = 2
"#,
        );
        let one = item(json!({
            "pk": {"S": "a"}, "internal": {"S": "x"}, "profile": {"M": {"phone": {"S": "+1 555"}, "ssn": {"S": "1"}}},
            "card": {"S": "4111 1111 1111 1234"}, "customer_email": {"S": "alice@example.com"},
            "session_token": {"N": "500"}, "deep": {"L": [{"M": {"SSN": {"S": "2"}}}]}, "code": {"S": "AB-1234"}
        }));
        let (out, report) = s.sanitize(&one, &["pk"]).unwrap();
        use AttributeValue::*;
        assert!(!out.contains_key("internal"));
        assert_eq!(out["profile"], M(HashMap::from([("phone".to_string(), S("[REDACTED:PHONE]".into()))])));
        assert_eq!(out["card"], S("**** **** **** 1234".into()));
        assert_eq!(out["code"], S("AB-****".into()));
        let S(token) = &out["customer_email"] else { panic!() };
        assert!(token.starts_with("tok_") && token.len() == 24, "{token}");
        assert_eq!(out["session_token"], N("500".into()), "keep overrides the `token` name rule");
        assert_eq!(out["deep"], L(vec![M(HashMap::new())]), "`**.ssn` drops at any depth, names normalised");
        assert!(report.count("path:customer_email") > 0);
        // Deterministic and keyed: the same value gives the same token, another key another token.
        let two = item(json!({"pk": {"S": "b"}, "customer_email": {"S": "alice@example.com"}}));
        assert_eq!(s.sanitize(&two, &["pk"]).unwrap().0["customer_email"], S(token.clone()));
        let p =
            Policy::parse("version = 1\n[[rule]]\npath = \"customer_email\"\naction = \"tokenize\"\n", "t").unwrap();
        let other = Sanitizer::build(&p, &p.default, Some(b"another-key-another-key-another-key!!".to_vec())).unwrap();
        assert_ne!(other.sanitize(&two, &["pk"]).unwrap().0["customer_email"], S(token.clone()));
    }

    #[test]
    fn detector_actions_by_rule_and_category() {
        let s = with(
            r#"version = 1
[[rule]]
detector = "pii.email"
action = "tokenize"
[[rule]]
detector = "pii.card_number"
action = "mask"
keep_last = 4
[[rule]]
category = "secret"
action = "drop"
"#,
        );
        let (out, _) = s
            .sanitize(
                &item(json!({
                    "pk": {"S": "a"}, "a": {"S": "mail alice@example.com"}, "b": {"S": "again alice@example.com"},
                    "card": {"S": "paid with 4929 1308 7752 6389"}, "card_n": {"N": "4929130877526389"},
                    "log": {"S": "push with 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"}, "ok": {"S": "fine"}
                })),
                &["pk"],
            )
            .unwrap();
        use AttributeValue::*;
        let S(a) = &out["a"] else { panic!() };
        let S(b) = &out["b"] else { panic!() };
        assert!(a.starts_with("mail [EMAIL:tok_") && a.ends_with(']'), "{a}");
        assert_eq!(a.trim_start_matches("mail "), b.trim_start_matches("again "), "same email, same token");
        assert_eq!(out["card"], S("paid with **** **** **** 6389".into()));
        assert_eq!(out["card_n"], S("************6389".into()));
        assert!(!out.contains_key("log"), "category secret: drop the value");
        assert_eq!(out["ok"], S("fine".into()));
    }

    #[test]
    fn keys_can_be_tokenized_but_never_dropped() {
        let s = with("version = 1\n[[rule]]\npath = \"email\"\naction = \"tokenize\"\n");
        let it = item(json!({"email": {"S": "alice@example.com"}, "sk": {"S": "profile"}, "bio": {"S": "hi"}}));
        let (out, _) = s.sanitize(&it, &["email", "sk"]).unwrap();
        let keys = s
            .sanitize_keys(&Item::from([
                ("email".to_string(), AttributeValue::S("alice@example.com".into())),
                ("sk".to_string(), AttributeValue::S("profile".into())),
            ]))
            .unwrap();
        assert_eq!(out["email"], keys["email"], "a REMOVE maps to the same tokenized key");
        assert_ne!(out["email"], AttributeValue::S("alice@example.com".into()));
        assert_eq!(out["sk"], AttributeValue::S("profile".into()));
        // A policy that would mask a key (keys not declared, so check could not see it) fails closed.
        let bad = with("version = 1\n[[rule]]\npath = \"email\"\naction = \"mask\"\n");
        assert!(matches!(bad.sanitize(&it, &["email"]), Err(SanitizeError::KeyRule { .. })));
        // A number key cannot be tokenized without changing its type.
        let n = item(json!({"email": {"N": "1"}}));
        assert!(matches!(s.sanitize(&n, &["email"]), Err(SanitizeError::BadKeyType { .. })));
    }

    #[test]
    fn custom_detectors_and_missing_keys() {
        let s = with(
            r#"version = 1
[[detector]]
id = "custom.employee_id"
name = "Employee id"
category = "pii"
label = "EMPLOYEE_ID"
pattern = '\bEMP-[0-9]{6}\b'
examples = ["badge EMP-123456"]
"#,
        );
        let (out, _) =
            s.sanitize(&item(json!({"pk": {"S": "a"}, "t": {"S": "badge EMP-123456 ok"}})), &["pk"]).unwrap();
        assert_eq!(out["t"], AttributeValue::S("badge [REDACTED:EMPLOYEE_ID] ok".into()));
        let p = Policy::parse("version = 1\n[[rule]]\npath = \"x\"\naction = \"tokenize\"\n", "t").unwrap();
        let e = Sanitizer::build(&p, &p.default, None).unwrap_err().to_string();
        assert!(e.starts_with("SHADOW_TOKEN_KEY:"), "{e}");
        assert!(super::token_key_from_env(&p, |_| Some("short".into())).is_err());
    }
}

#[cfg(test)]
mod engine_tests {
    use super::*;
    use crate::item::parse_item;
    use serde_json::json;

    fn with(policy: &str) -> Sanitizer {
        let p = Policy::parse(policy, "t.toml").unwrap();
        Sanitizer::build(&p, &p.default, None).unwrap()
    }

    #[test]
    fn opaque_binary_is_scanned_and_compressed_binary_is_dropped() {
        let s = Sanitizer::default_policy();
        let item = |b: &[u8]| {
            let mut i = Item::new();
            i.insert("pk".into(), AttributeValue::S("k".into()));
            i.insert("blob".into(), AttributeValue::B(b.to_vec()));
            i
        };
        // A PNG header and random bytes: nothing readable is sensitive, kept byte for byte.
        for b in [&b"\x89PNG\r\n\x1a\n\x00\x00"[..], &[0xff, 0xfe, 0x00, 0x81, 0x42][..]] {
            let (out, _) = s.sanitize(&item(b), &["pk"]).unwrap();
            assert_eq!(out["blob"], AttributeValue::B(b.to_vec()));
        }
        // A secret readable between invalid bytes: dropped (it cannot be redacted in place).
        let mut b = vec![0xff, 0xfe];
        b.extend_from_slice(b"password=hunter2-Xq81!zz");
        let (out, report) = s.sanitize(&item(&b), &["pk"]).unwrap();
        assert!(!out.contains_key("blob"));
        assert!(report.by_rule.contains_key(&RuleRef::BinaryNotText));
        // gzip, zlib and zstd hide what they hold: dropped whatever they hold.
        for b in [&[0x1f, 0x8b, 0x08, 0x00][..], &[0x78, 0x9c, 0x4b, 0x4c][..], &[0x28, 0xb5, 0x2f, 0xfd, 0x00][..]] {
            let (out, report) = s.sanitize(&item(b), &["pk"]).unwrap();
            assert!(!out.contains_key("blob"), "{b:?}");
            assert!(report.by_rule.contains_key(&RuleRef::BinaryCompressed));
        }
    }

    #[test]
    fn a_dashed_ssn_after_another_number_is_still_found() {
        // Found by the property test: `010 536-22-8714` was read as one longer number.
        let item = parse_item(&json!({"pk": {"S": "0"}, "a": {"L": [{"S": "010 536-22-8714 "}]}})).unwrap();
        let (out, _) = Sanitizer::default_policy().sanitize(&item, &["pk"]).unwrap();
        assert!(!crate::item::item_to_line(&out).contains("8714"));
    }

    #[test]
    fn a_redact_path_rule_never_builds_its_placeholder_from_data() {
        let s = with("version = 1\n[[rule]]\npath = \"contacts.*\"\naction = \"redact\"\n");
        let item =
            parse_item(&json!({"pk": {"S": "k"}, "contacts": {"M": {"alice@example.com": {"S": "friend"}}}})).unwrap();
        let (out, _) = s.sanitize(&item, &["pk"]).unwrap();
        let line = crate::item::item_to_line(&out);
        assert!(!line.to_ascii_lowercase().contains("alice"), "{line}");
        assert_eq!(line, r#"{"contacts":{"M":{"[REDACTED:EMAIL]":{"S":"[REDACTED:CONTACTS]"}}},"pk":{"S":"k"}}"#);
        // The label comes from the rule when it names one, else a fixed word.
        let s = with("version = 1\n[[rule]]\npath = \"*.*\"\naction = \"redact\"\n");
        let item = parse_item(&json!({"pk": {"S": "k"}, "x": {"M": {"bob@example.com": {"S": "v"}}}})).unwrap();
        let (out, _) = s.sanitize(&item, &["pk"]).unwrap();
        assert_eq!(
            out["x"],
            AttributeValue::M(HashMap::from([(
                "[REDACTED:EMAIL]".to_string(),
                AttributeValue::S("[REDACTED:VALUE]".into())
            )]))
        );
    }

    #[test]
    fn the_audit_flags_placeholders_the_policy_cannot_write() {
        let s = Sanitizer::default_policy();
        let leaked = parse_item(&json!({"pk": {"S": "k"}, "c": {"S": "[REDACTED:ALICE_EXAMPLE_COM]"}})).unwrap();
        let findings = s.audit(&leaked, &["pk"]).unwrap();
        assert_eq!(findings.len(), 1);
        assert_eq!((findings[0].path.to_string(), findings[0].rule.clone()), ("c".to_string(), RuleRef::UnknownLabel));
        let fine = parse_item(&json!({"pk": {"S": "k"}, "c": {"S": "mail [REDACTED:EMAIL]"}})).unwrap();
        assert!(s.audit(&fine, &["pk"]).unwrap().is_empty());
    }

    #[test]
    fn the_name_cache_is_bounded_and_keeps_no_data_like_keys() {
        let s = Sanitizer::default_policy();
        let m: HashMap<String, AttributeValue> =
            (0..10_000).map(|i| (format!("user{i}@example.com"), AttributeValue::N("1".into()))).collect();
        let mut item =
            Item::from([("pk".to_string(), AttributeValue::S("k".into())), ("m".to_string(), AttributeValue::M(m))]);
        for i in 0..6_000 {
            item.insert(format!("field_{i}"), AttributeValue::S("x".into()));
        }
        let (out, _) = s.sanitize_owned(item, &["pk"]).unwrap();
        let cache = s.name_cache.lock().unwrap();
        assert!(cache.len() <= NAME_CACHE_MAX, "{}", cache.len());
        assert!(cache.keys().all(|k| !k.contains('@')), "no email-like key cached");
        let AttributeValue::M(m) = &out["m"] else { panic!() };
        assert_eq!(m.len(), 10_000, "10,000 unique placeholders");
        assert!(m.contains_key("[REDACTED:EMAIL]#10000"));
    }

    #[test]
    fn person_names_get_stable_numbered_placeholders_per_item() {
        let s = Sanitizer::default_policy();
        let item = parse_item(&json!({
            "pk": {"S": "t#1"},
            "a": {"S": "Dear Maria Gonzalez, thanks for writing."},
            "b": {"S": "Patient: Maria Gonzalez"},
            "c": {"S": "Patient: John Smith"}
        }))
        .unwrap();
        let (out, _) = s.sanitize(&item, &["pk"]).unwrap();
        let text = crate::item::item_to_line(&out);
        assert!(!text.contains("Maria") && !text.contains("Smith"), "{text}");
        // The same person keeps one number within the item; another gets another.
        let get = |k: &str| match &out[k] {
            AttributeValue::S(s) => s.clone(),
            _ => panic!(),
        };
        let n = |s: &str| s.split("[PERSON_").nth(1).map(|t| t.split(']').next().unwrap().to_string());
        assert_eq!(n(&get("a")), n(&get("b")), "{} / {}", get("a"), get("b"));
        assert_ne!(n(&get("b")), n(&get("c")));
        assert_eq!(s.sanitize(&item, &["pk"]).unwrap().0, out, "deterministic");
    }
}
