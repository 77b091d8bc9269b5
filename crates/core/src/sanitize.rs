//! The sanitizer: one pure recursive walk over an item's `AttributeValue` tree.
//!
//! Everything is decided at build time ([`Sanitizer::new`] compiles the policy, rules and
//! path patterns); at run time the walk either returns a complete sanitized item or an
//! error. It never returns a half-sanitized item: the Lambda writes what this returns or
//! nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::detect::{is_card_number, Category, Detectors, RulesError, BUILTIN_RULES};
use crate::item::{validate_item, validate_number, AttributeValue, Item, ItemError, ItemErrorKind, MAX_DEPTH};
use crate::names::{self, NameRules};
use crate::path::{Path, Segment};
use crate::policy::{
    match_path, Action, BinaryMode, MaskSpec, Mode, PathMatch, PathRule, Policy, Selector, Step, TablePolicy,
};

/// Attribute names starting with this are the shadow table's own metadata.
pub const RESERVED_PREFIX: &str = "_shadow_";
/// Minimum HMAC key length for `tokenize`.
pub const MIN_TOKEN_KEY_BYTES: usize = 32;

/// Which rule made a decision. `Display` gives the id that logs, `--explain` and audit
/// findings print: `pii.email`, `name:api_key`, `path:profile.email`, `mode:allow`, ...
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleRef {
    /// A detector rule, by id (`pii.email`).
    Detector(Arc<str>),
    /// The built-in sensitive-name dictionary: the phrase the name ends with (`name:api_key`).
    Name(&'static str),
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
    /// Audit only: the shadow item could not be read at all (`audit:unreadable`).
    Unreadable,
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
            RuleRef::Unreadable => f.write_str("audit:unreadable"),
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
    }

    /// Count for a rule by its printed id (tests and summaries).
    pub fn count(&self, rule: &str) -> u64 {
        self.by_rule.iter().filter(|(r, _)| r.to_string() == rule).map(|(_, n)| n).sum()
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
    /// The policy would drop or change a key attribute other than by tokenizing it.
    KeyRule { name: String, action: &'static str },
}

impl fmt::Display for SanitizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SanitizeError::Item(e) => write!(f, "{e}"),
            SanitizeError::MissingKey(k) => write!(f, "key attribute `{k}` is missing from the image"),
            SanitizeError::BadKeyType { name, found } => {
                write!(
                    f,
                    "key attribute `{name}` has type {found}; a key is S, N or B, and only S or B can be tokenized"
                )
            }
            SanitizeError::KeyRule { name, action } => {
                write!(f, "the policy would {action} key attribute `{name}`; keys can only be kept or tokenized")
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

#[derive(Clone, Copy)]
enum Seg<'a> {
    Name(&'a str),
    Index(usize),
}

fn render(path: &[Seg<'_>]) -> Path {
    path.iter()
        .map(|seg| match seg {
            Seg::Name(n) => Segment::Name(n.to_string()),
            Seg::Index(i) => Segment::Index(*i),
        })
        .collect()
}

/// Where the walk is: the printable path and, when the policy has path rules, the
/// normalised steps they match against.
struct Cursor<'a> {
    segs: Vec<Seg<'a>>,
    steps: Vec<Step>,
    track: bool,
}

impl<'a> Cursor<'a> {
    fn push_name(&mut self, n: &'a str) {
        self.segs.push(Seg::Name(n));
        if self.track {
            self.steps.push(Step::Name(names::normalize(n)));
        }
    }
    fn push_index(&mut self, i: usize) {
        self.segs.push(Seg::Index(i));
        if self.track {
            self.steps.push(Step::Index);
        }
    }
    fn pop(&mut self) {
        self.segs.pop();
        if self.track {
            self.steps.pop();
        }
    }
}

/// How the walk treats a subtree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Normal: name rules and detectors apply; in allow mode only listed paths survive.
    Normal,
    /// Inside a path listed by an allow-mode `allow` rule: everything below is listed.
    Listed,
}

/// What detectors did to one string.
enum Text {
    /// No finding.
    Clean,
    /// Findings replaced (placeholders, masks, tokens).
    Redacted(String),
    /// A finding's action is `drop`: the whole value goes.
    Dropped,
}

/// The compiled policy plus detectors for one table. Build once (cold start), share by reference.
#[derive(Clone)]
pub struct Sanitizer {
    table: TablePolicy,
    detectors: Detectors,
    names: NameRules,
    /// Per detector rule index: what to do with its findings.
    finding_actions: Vec<(Action, MaskSpec)>,
    card_rule: Option<usize>,
    token_key: Option<Vec<u8>>,
    fingerprint: String,
    /// Name-rule verdicts by attribute name: items of one table repeat the same names.
    name_cache: Arc<Mutex<HashMap<String, NameVerdict>>>,
}

/// Why a name is dropped for itself: (rule id, category), or `None` if it is not.
type NameVerdict = Option<(RuleRef, Category)>;

/// Names cached per sanitizer, at most (map keys can be data, so the set is not bounded).
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
        let disabled: HashSet<String> = table.disable.iter().cloned().collect();
        let mut specs = crate::detect::parse_rules(BUILTIN_RULES)?;
        specs.extend(policy.detectors.iter().cloned());
        specs.retain(|r| !disabled.contains(&r.id));
        let detectors = Detectors::compile(specs)?;
        let finding_actions = detectors
            .rules()
            .iter()
            .map(|r| {
                let by_rule = table.findings.iter().find(|f| f.selector == Selector::Rule(r.spec.id.clone()));
                let by_cat = table.findings.iter().find(|f| f.selector == Selector::Category(r.spec.category));
                by_rule.or(by_cat).map_or((Action::Redact, MaskSpec::Last(4)), |f| (f.action, f.mask))
            })
            .collect();
        let card_rule = detectors.rules().iter().position(|r| r.spec.id == "pii.card_number");
        // A new tokenization key changes every token: it must change the fingerprint too, so
        // `backfill --policy-changed` and `verify` see items tokenized under the old key.
        let fingerprint = match &token_key {
            None => policy.fingerprint(),
            Some(key) => {
                use sha2::Digest;
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
                mac.update(b"dynamo-shadow:key-id");
                let mut h = Sha256::new();
                h.update(policy.fingerprint().as_bytes());
                h.update(mac.finalize().into_bytes());
                h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
            }
        };
        Ok(Sanitizer {
            fingerprint,
            names: NameRules::new(),
            table: table.clone(),
            detectors,
            finding_actions,
            card_rule,
            token_key,
            name_cache: Default::default(),
        })
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
        if self.table.paths.is_empty() {
            return None;
        }
        let step = [Step::Name(names::normalize(name))];
        self.table.paths.iter().find(|r| match_path(&r.pattern, &step) == PathMatch::Full)
    }

    /// The key attributes as written to the shadow table (tokenized where the policy says
    /// so). REMOVE records use this too, so a tombstone lands on the right shadow item.
    pub fn sanitize_keys(&self, keys: &Item) -> Result<Item, SanitizeError> {
        let mut out = Item::with_capacity(keys.len());
        for (k, v) in keys {
            let action = self.key_rule(k).map(|r| r.action);
            let kept = match (action, v) {
                (None | Some(Action::Keep | Action::Allow), AttributeValue::S(_) | AttributeValue::B(_)) => v.clone(),
                (None | Some(Action::Keep | Action::Allow), AttributeValue::N(n)) => {
                    validate_number(n)
                        .map_err(|r| ItemError { path: Path::attr(k), kind: ItemErrorKind::Number(r) })?;
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

    /// Sanitizes one item. Attributes named in `keys` are the table's key: kept verbatim
    /// (or tokenized, if the policy says so).
    pub fn sanitize(&self, item: &Item, keys: &[&str]) -> Result<(Item, Report), SanitizeError> {
        let mut key_item = Item::with_capacity(keys.len());
        for &k in keys {
            match item.get(k) {
                None => return Err(SanitizeError::MissingKey(k.to_string())),
                Some(v) => key_item.insert(k.to_string(), v.clone()),
            };
        }
        let mut out = self.sanitize_keys(&key_item)?;
        let mut report = Report::default();
        let mut cur = Cursor { segs: Vec::with_capacity(8), steps: Vec::new(), track: !self.table.paths.is_empty() };
        let mut renamed = Vec::new();
        for name in item.keys().filter(|n| !keys.contains(&n.as_str())) {
            cur.push_name(name);
            if name.starts_with(RESERVED_PREFIX) {
                self.note(&mut report, &cur, RuleRef::Reserved, Category::Secret, Action::Drop);
            } else {
                // Attribute names are data too in a schema-less table: scanned like map keys.
                self.named(name, &item[name], &mut cur, 1, Scope::Normal, &mut report, &mut out, &mut renamed)?;
            }
            cur.pop();
        }
        insert_renamed(&mut out, renamed);
        validate_item(&out)?;
        Ok((out, report))
    }

    /// A sanitizer for auditing shadow items (`verify`): path rules that rewrite a value on
    /// purpose (redact, mask, tokenize) become `keep`, so their output is not reported again;
    /// everything else must already be a fixed point.
    pub fn auditor(&self) -> Sanitizer {
        let mut a = self.clone();
        for r in &mut a.table.paths {
            if matches!(r.action, Action::Redact | Action::Mask | Action::Tokenize) {
                r.action = Action::Keep;
            }
        }
        a.name_cache = Default::default();
        a
    }

    /// Leak audit of one shadow item (call it on [`Sanitizer::auditor`]): every detector and
    /// name rule over every attribute, value and map key, metadata aside. Key values are
    /// scanned too unless the policy names the key (keep or tokenize). Each finding is a
    /// path and a rule id, never a value; an empty result means the item is clean.
    pub fn audit(&self, item: &Item, keys: &[&str]) -> Result<Vec<Decision>, SanitizeError> {
        let body: Item =
            item.iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let (_, report) = self.sanitize(&body, keys)?;
        let mut findings = report.decisions;
        for &k in keys {
            if self.key_rule(k).is_some() {
                continue;
            }
            let mut cur = Cursor { segs: Vec::new(), steps: Vec::new(), track: false };
            cur.push_name(k);
            let mut r = Report::default();
            match &body[k] {
                AttributeValue::S(s) => {
                    let _ = self.text(s, &cur, &mut r);
                }
                AttributeValue::B(b) => {
                    let _ = self.binary(b, &cur, &mut r);
                }
                AttributeValue::N(n) => {
                    let _ = self.number(n, &cur, &mut r);
                }
                _ => {}
            }
            findings.extend(r.decisions);
        }
        findings.sort_by(|a, b| (&a.path, &a.rule).cmp(&(&b.path, &b.rule)));
        findings.dedup();
        Ok(findings)
    }

    /// Is this attribute (or map key) name dropped for its name? Returns (rule id, category).
    fn name_rule(&self, name: &str) -> NameVerdict {
        if let Some(hit) = self.name_cache.lock().expect("not poisoned").get(name) {
            return hit.clone();
        }
        let verdict = self.name_rule_uncached(name);
        let mut cache = self.name_cache.lock().expect("not poisoned");
        if cache.len() < NAME_CACHE_MAX {
            cache.insert(name.to_string(), verdict.clone());
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
        self.names.check(name).map(|m| (RuleRef::Name(m.phrase), m.category))
    }

    fn note(&self, report: &mut Report, cur: &Cursor<'_>, rule: RuleRef, cat: Category, action: Action) {
        *report.by_rule.entry(rule.clone()).or_default() += 1;
        *report.by_category.entry(cat).or_default() += 1;
        report.decisions.push(Decision { path: render(&cur.segs), rule, action });
    }

    /// An attribute or map entry or list element at `cur`: path rules, allow mode and name
    /// rules first, then the value itself. `None` drops it.
    fn entry<'a>(
        &self,
        v: &'a AttributeValue,
        cur: &mut Cursor<'a>,
        depth: usize,
        scope: Scope,
        report: &mut Report,
    ) -> Result<Option<AttributeValue>, SanitizeError> {
        let name = match cur.segs.last() {
            Some(Seg::Name(n)) => Some(*n),
            _ => None,
        };
        let rule = if cur.track {
            self.table.paths.iter().find(|r| match_path(&r.pattern, &cur.steps) == PathMatch::Full)
        } else {
            None
        };
        if let Some(rule) = rule {
            let id = RuleRef::Path(rule.source.as_str().into());
            return Ok(match rule.action {
                Action::Drop => {
                    self.note(report, cur, id, Category::Secret, Action::Drop);
                    None
                }
                Action::Keep => Some(v.clone()),
                Action::Allow => {
                    let inner = if self.table.mode == Mode::Allow { Scope::Listed } else { scope };
                    self.value(v, cur, depth, inner, report)?
                }
                Action::Redact => {
                    self.note(report, cur, id, Category::Secret, Action::Redact);
                    let label = rule.label.clone().unwrap_or_else(|| {
                        name.map(|n| names::normalize(n).to_ascii_uppercase()).unwrap_or_else(|| "VALUE".into())
                    });
                    Some(AttributeValue::S(format!("[REDACTED:{label}]")))
                }
                Action::Mask => {
                    self.note(report, cur, id, Category::Secret, Action::Mask);
                    Some(match v {
                        AttributeValue::S(s) | AttributeValue::N(s) => AttributeValue::S(mask(s, rule.mask)),
                        AttributeValue::B(b) => match std::str::from_utf8(b) {
                            Ok(s) => AttributeValue::S(mask(s, rule.mask)),
                            Err(_) => AttributeValue::S("[REDACTED:BINARY]".into()),
                        },
                        // Masking needs text: anything else is redacted whole.
                        _ => AttributeValue::S("[REDACTED:VALUE]".into()),
                    })
                }
                Action::Tokenize => {
                    self.note(report, cur, id, Category::Secret, Action::Tokenize);
                    Some(AttributeValue::S(match v {
                        AttributeValue::S(s) | AttributeValue::N(s) => self.token(s.as_bytes()),
                        AttributeValue::B(b) => self.token(b),
                        other => self
                            .token(crate::item::item_to_line(&Item::from([(String::new(), other.clone())])).as_bytes()),
                    }))
                }
            });
        }
        if self.table.mode == Mode::Allow && scope == Scope::Normal {
            // Unlisted: kept only as a container on the way to a listed path.
            let on_the_way = matches!(v, AttributeValue::M(_) | AttributeValue::L(_))
                && self
                    .table
                    .paths
                    .iter()
                    .any(|r| r.action != Action::Drop && match_path(&r.pattern, &cur.steps) == PathMatch::Prefix);
            if !on_the_way {
                self.note(report, cur, RuleRef::NotListed, Category::Secret, Action::Drop);
                return Ok(None);
            }
        } else if let Some(name) = name {
            if let Some((rule, cat)) = self.name_rule(name) {
                self.note(report, cur, rule, cat, Action::Drop);
                return Ok(None);
            }
        }
        self.value(v, cur, depth, scope, report)
    }

    /// One named entry (an attribute or a map entry, already pushed on `cur`): its value goes
    /// into `out` under its name, or into `renamed` when detectors redact the name itself.
    #[allow(clippy::too_many_arguments)]
    fn named<'a>(
        &self,
        name: &'a String,
        v: &'a AttributeValue,
        cur: &mut Cursor<'a>,
        depth: usize,
        scope: Scope,
        report: &mut Report,
        out: &mut Item,
        renamed: &mut Vec<(&'a String, String, AttributeValue)>,
    ) -> Result<(), SanitizeError> {
        if let Some(v) = self.entry(v, cur, depth, scope, report)? {
            match self.text(name, cur, report) {
                Text::Redacted(new_name) => renamed.push((name, new_name, v)),
                Text::Clean => {
                    out.insert(name.clone(), v);
                }
                Text::Dropped => {}
            }
        }
        Ok(())
    }

    /// Applies detector findings to `s`.
    fn text(&self, s: &str, cur: &Cursor<'_>, report: &mut Report) -> Text {
        let findings = self.detectors.find(s);
        if findings.is_empty() {
            return Text::Clean;
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for f in findings {
            let rule = &self.detectors.rules()[f.rule];
            let (action, spec) = self.finding_actions[f.rule];
            self.note(report, cur, RuleRef::Detector(rule.id.clone()), rule.spec.category, action);
            let span = &s[f.start..f.end];
            out.push_str(&s[last..f.start]);
            match action {
                Action::Drop => return Text::Dropped,
                Action::Mask => out.push_str(&mask(span, spec)),
                Action::Tokenize => {
                    out.push('[');
                    out.push_str(&rule.spec.label);
                    out.push(':');
                    out.push_str(&self.token(span.as_bytes()));
                    out.push(']');
                }
                _ => out.push_str(&rule.placeholder),
            }
            last = f.end;
        }
        out.push_str(&s[last..]);
        Text::Redacted(out)
    }

    /// A string after detectors: `None` if a finding's action drops the value.
    fn string(&self, s: &str, cur: &Cursor<'_>, report: &mut Report) -> Option<String> {
        match self.text(s, cur, report) {
            Text::Redacted(r) => Some(r),
            Text::Clean => Some(s.to_string()),
            Text::Dropped => None,
        }
    }

    /// A number that is a card number becomes the card rule's replacement (a string).
    fn number(&self, n: &str, cur: &Cursor<'_>, report: &mut Report) -> Option<AttributeValue> {
        match self.card_rule {
            Some(idx) if n.bytes().all(|b| b.is_ascii_digit()) && is_card_number(n) => {
                let rule = &self.detectors.rules()[idx];
                let (action, spec) = self.finding_actions[idx];
                self.note(report, cur, RuleRef::Detector(rule.id.clone()), Category::Pii, action);
                match action {
                    Action::Drop => None,
                    Action::Mask => Some(AttributeValue::S(mask(n, spec))),
                    Action::Tokenize => {
                        Some(AttributeValue::S(format!("[{}:{}]", rule.spec.label, self.token(n.as_bytes()))))
                    }
                    _ => Some(AttributeValue::S(rule.placeholder.clone())),
                }
            }
            _ => Some(AttributeValue::N(n.to_string())),
        }
    }

    fn binary(&self, b: &[u8], cur: &Cursor<'_>, report: &mut Report) -> Option<Vec<u8>> {
        match std::str::from_utf8(b) {
            Ok(s) => self.string(s, cur, report).map(String::into_bytes),
            Err(_) => match self.table.binary {
                BinaryMode::Keep => Some(b.to_vec()),
                BinaryMode::Drop => {
                    self.note(report, cur, RuleRef::BinaryNotText, Category::Secret, Action::Drop);
                    None
                }
            },
        }
    }

    /// Sanitizes one value; `None` means the value is dropped.
    fn value<'a>(
        &self,
        v: &'a AttributeValue,
        cur: &mut Cursor<'a>,
        depth: usize,
        scope: Scope,
        report: &mut Report,
    ) -> Result<Option<AttributeValue>, SanitizeError> {
        let too_deep = |cur: &Cursor<'_>| -> SanitizeError {
            ItemError { path: render(&cur.segs), kind: ItemErrorKind::TooDeep }.into()
        };
        Ok(match v {
            AttributeValue::S(s) => self.string(s, cur, report).map(AttributeValue::S),
            AttributeValue::N(n) => {
                validate_number(n)
                    .map_err(|r| ItemError { path: render(&cur.segs), kind: ItemErrorKind::Number(r) })?;
                self.number(n, cur, report)
            }
            AttributeValue::B(b) => self.binary(b, cur, report).map(AttributeValue::B),
            AttributeValue::Bool(b) => Some(AttributeValue::Bool(*b)),
            AttributeValue::Null(n) => Some(AttributeValue::Null(*n)),
            AttributeValue::Ss(set) => {
                let out: Vec<String> = set.iter().filter_map(|s| self.string(s, cur, report)).collect();
                non_empty_set(out).map(AttributeValue::Ss)
            }
            AttributeValue::Ns(set) => {
                let mut out = Vec::with_capacity(set.len());
                for n in set {
                    validate_number(n)
                        .map_err(|r| ItemError { path: render(&cur.segs), kind: ItemErrorKind::NumberInSet(r) })?;
                    // A card number cannot become a placeholder inside a number set: drop it.
                    if let Some(AttributeValue::N(n)) = self.number(n, cur, report) {
                        out.push(n);
                    }
                }
                non_empty_set(out).map(AttributeValue::Ns)
            }
            AttributeValue::Bs(set) => {
                let out: Vec<Vec<u8>> = set.iter().filter_map(|b| self.binary(b, cur, report)).collect();
                non_empty_set(out).map(AttributeValue::Bs)
            }
            AttributeValue::M(m) => {
                if depth >= MAX_DEPTH {
                    return Err(too_deep(cur));
                }
                let mut out: HashMap<String, AttributeValue> = HashMap::with_capacity(m.len());
                let mut renamed: Vec<(&'a String, String, AttributeValue)> = Vec::new();
                for k in m.keys() {
                    cur.push_name(k);
                    // Map keys are data too: an email used as a key is redacted like a value.
                    self.named(k, &m[k], cur, depth + 1, scope, report, &mut out, &mut renamed)?;
                    cur.pop();
                }
                insert_renamed(&mut out, renamed);
                Some(AttributeValue::M(out))
            }
            AttributeValue::L(l) => {
                if depth >= MAX_DEPTH {
                    return Err(too_deep(cur));
                }
                let mut out = Vec::with_capacity(l.len());
                for (i, e) in l.iter().enumerate() {
                    cur.push_index(i);
                    if let Some(v) = self.entry(e, cur, depth + 1, scope, report)? {
                        out.push(v);
                    }
                    cur.pop();
                }
                Some(AttributeValue::L(out))
            }
        })
    }
}

/// Inserts entries whose names were redacted, numbering placeholders that collide
/// (`[REDACTED:EMAIL]`, `[REDACTED:EMAIL]#2`, ...) in the order of the original names, so the
/// result is deterministic and the names stay unique.
fn insert_renamed(out: &mut Item, mut renamed: Vec<(&String, String, AttributeValue)>) {
    renamed.sort_by(|a, b| a.0.cmp(b.0));
    for (_, base, v) in renamed {
        let mut key = base.clone();
        let mut n = 2;
        while out.contains_key(&key) {
            key = format!("{base}#{n}");
            n += 1;
        }
        out.insert(key, v);
    }
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
            "body": {"S": "Card 4111 1111 1111 1111, reach me at alice@example.com. Thanks!"}
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
        assert!(!out.contains_key("raw_bin"), "non-text binary is dropped by default");
        assert_eq!(out["bins"], Bs(vec![b"hello".to_vec()]));
        let L(thread) = &out["thread"] else { panic!() };
        assert_eq!(thread.len(), 2, "the binary element is dropped from the list");
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
        let item = parse_item(&json!({"email": {"S": "alice@example.com"}, "sk": {"S": "profile"}})).unwrap();
        let (out, _) = s().sanitize(&item, &["email", "sk"]).unwrap();
        assert_eq!(out["email"], AttributeValue::S("alice@example.com".into()));
        assert_eq!(s().sanitize(&item, &["pk"]).unwrap_err(), SanitizeError::MissingKey("pk".into()));
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
        let many = "a@b.io ".repeat(50_000);
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
                    "profile": {"M": {"city": {"S": "Berlin"}, "ssn": {"S": "123-45-6789"}}},
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
                    "card": {"S": "paid with 4111 1111 1111 1111"}, "card_n": {"N": "4111111111111111"},
                    "log": {"S": "push with ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"}, "ok": {"S": "fine"}
                })),
                &["pk"],
            )
            .unwrap();
        use AttributeValue::*;
        let S(a) = &out["a"] else { panic!() };
        let S(b) = &out["b"] else { panic!() };
        assert!(a.starts_with("mail [EMAIL:tok_") && a.ends_with(']'), "{a}");
        assert_eq!(a.trim_start_matches("mail "), b.trim_start_matches("again "), "same email, same token");
        assert_eq!(out["card"], S("paid with **** **** **** 1111".into()));
        assert_eq!(out["card_n"], S("************1111".into()));
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
