//! The reviewed policy: what reaches the shadow table.
//!
//! A policy is one TOML file a security team can read in a pull request. With none,
//! [`Policy::default`] applies: `deny` mode, sensitive attribute names dropped at any
//! depth, every value scanned by every built-in detector, binary that is not text dropped.
//! See the README for the complete format; in short:
//!
//! ```toml
//! version = 1
//! mode = "deny"                    # "deny" (default) or "allow" (only listed paths reach the shadow table)
//! keys = ["pk", "sk"]              # the table's key attributes, so `check` can protect them
//!
//! [[rule]]
//! path = "profile.email"           # dotted paths; `*` one level, `**` any depth, `[*]` list elements
//! action = "tokenize"              # allow | keep | drop | redact | mask | tokenize
//!
//! [[rule]]
//! detector = "pii.card_number"     # or category = "pii" / "secret"
//! action = "mask"
//! keep_last = 4
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::detect::{builtin_rule_files, Category, Detectors, RuleSpec};
use crate::names;

/// Bumped when the engine's output for the same policy changes, so fingerprints move too.
const ENGINE_REVISION: &str = "engine-3";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryMode {
    /// Binary values that are not UTF-8 text are scanned as the text a reader could decode
    /// from them (invalid bytes as U+FFFD): kept when nothing is found, dropped otherwise
    /// (a finding inside binary cannot be redacted in place).
    #[default]
    Scan,
    /// Binary values that are not UTF-8 text are dropped.
    Drop,
    /// Binary values that are not UTF-8 text are kept as they are, unscanned.
    Keep,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Everything reaches the shadow table except what rules remove.
    #[default]
    Deny,
    /// Only listed paths (and the table's keys) reach the shadow table.
    Allow,
}

/// What a rule does to the value (or, for detector rules, the finding) it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Reaches the shadow table; detectors still scan it (in allow mode: "listed").
    Allow,
    /// Reaches the shadow table exempt from detectors and name rules (trusted).
    Keep,
    /// Removed.
    Drop,
    /// Replaced by a typed placeholder such as `[REDACTED:EMAIL]`.
    Redact,
    /// All but the first or last N characters replaced with `*`.
    Mask,
    /// Replaced by a keyed HMAC-SHA256 token: deterministic, so the same value gives the
    /// same token across items and tables, and irreversible without the key.
    Tokenize,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::Redact => "redact",
            Action::Mask => "mask",
            Action::Tokenize => "tokenize",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameLists {
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSettings {
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Whole categories to turn off (`person` for names and addresses), name rules included.
    #[serde(default)]
    pub disable_categories: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenizeSettings {
    /// Environment variable holding the HMAC key (at least 32 bytes). Read once at start.
    #[serde(default = "default_key_env")]
    pub key_env: String,
}

fn default_key_env() -> String {
    "SHADOW_TOKEN_KEY".into()
}

impl Default for TokenizeSettings {
    fn default() -> Self {
        TokenizeSettings { key_env: default_key_env() }
    }
}

/// One `[[rule]]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    #[serde(default)]
    pub detector: Option<Spanned<String>>,
    #[serde(default)]
    pub category: Option<Spanned<Category>>,
    pub action: Spanned<Action>,
    #[serde(default)]
    pub keep_last: Option<usize>,
    #[serde(default)]
    pub keep_first: Option<usize>,
    /// Placeholder kind for `redact` on a path (default: the attribute's name).
    #[serde(default)]
    pub label: Option<String>,
}

/// A `[[detector]]`: a custom rule, same shape as the built-in rules file.
pub type DetectorDef = RuleSpec;

/// The type of an index key attribute, as the shadow table's key schema declares it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyType {
    #[default]
    S,
    N,
    B,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

/// One `[[index]]` as written: a secondary index of the shadow table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    pub name: Spanned<String>,
    pub partition_key: String,
    #[serde(default)]
    pub sort_key: Option<String>,
    #[serde(default)]
    pub partition_key_type: KeyType,
    #[serde(default)]
    pub sort_key_type: KeyType,
}

/// A validated shadow index: its name and key attributes with their types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexSpec {
    pub name: String,
    /// Partition key, then the sort key if there is one.
    pub keys: Vec<(String, KeyType)>,
}

/// One table's policy as written (the top level, or a `[tables.NAME]` section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    #[serde(default)]
    pub shadow: Option<String>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub binary: BinaryMode,
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub names: NameLists,
    #[serde(default)]
    pub detectors: DetectorSettings,
    #[serde(default)]
    pub rule: Vec<RuleDef>,
    #[serde(default)]
    pub index: Vec<IndexDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    version: Spanned<u32>,
    #[serde(default)]
    tokenize: TokenizeSettings,
    #[serde(default)]
    detector: Vec<DetectorDef>,
    #[serde(default)]
    tables: BTreeMap<String, TableDef>,
    // The single-table fields, spelled out: `flatten` would lose the spans errors point at.
    #[serde(default)]
    shadow: Option<String>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    binary: BinaryMode,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    names: NameLists,
    #[serde(default)]
    detectors: DetectorSettings,
    #[serde(default)]
    rule: Vec<RuleDef>,
    #[serde(default)]
    index: Vec<IndexDef>,
}

impl PolicyFile {
    fn top(&self) -> TableDef {
        TableDef {
            shadow: self.shadow.clone(),
            mode: self.mode,
            binary: self.binary,
            keys: self.keys.clone(),
            names: self.names.clone(),
            detectors: self.detectors.clone(),
            rule: self.rule.clone(),
            index: self.index.clone(),
        }
    }
}

/// One segment of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Pat {
    /// A name, normalised (`profileEmail` and `profile_email` are the same).
    Name(String),
    /// `*`: any one map key or list element.
    Any,
    /// `**`: any number of segments, including none.
    AnyDepth,
    /// `[*]`: any list element.
    Index,
}

/// A compiled path rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRule {
    pub source: String,
    pub pattern: Vec<Pat>,
    pub action: Action,
    pub mask: MaskSpec,
    pub label: Option<String>,
    #[serde(skip)]
    pub line: usize,
}

/// Which characters `mask` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MaskSpec {
    Last(usize),
    First(usize),
}

/// What a detector rule selects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Selector {
    Rule(String),
    Category(Category),
}

/// A compiled detector-action rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRule {
    pub selector: Selector,
    pub action: Action,
    pub mask: MaskSpec,
}

/// One table's validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TablePolicy {
    pub shadow: Option<String>,
    pub mode: Mode,
    pub binary: BinaryMode,
    pub keys: Vec<String>,
    pub drop_names: BTreeSet<String>,
    pub keep_names: BTreeSet<String>,
    pub disable: BTreeSet<String>,
    pub disable_categories: BTreeSet<Category>,
    pub paths: Vec<PathRule>,
    pub findings: Vec<FindingRule>,
    /// The shadow table's secondary indexes. Left out of the fingerprint when there are
    /// none, so adding the feature changed no existing policy's fingerprint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexSpec>,
}

impl Default for TablePolicy {
    fn default() -> Self {
        TablePolicy {
            shadow: None,
            mode: Mode::Deny,
            binary: BinaryMode::Scan,
            keys: Vec::new(),
            drop_names: BTreeSet::new(),
            keep_names: BTreeSet::new(),
            disable: BTreeSet::new(),
            disable_categories: BTreeSet::new(),
            paths: Vec::new(),
            findings: Vec::new(),
            indexes: Vec::new(),
        }
    }
}

impl TablePolicy {
    pub fn uses_tokenize(&self) -> bool {
        self.paths.iter().any(|p| p.action == Action::Tokenize)
            || self.findings.iter().any(|f| f.action == Action::Tokenize)
    }
}

/// A parsed, validated policy: one table policy, or one per source table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub version: u32,
    pub tokenize: TokenizeSettings,
    /// Custom detectors, compiled with the built-in ones.
    pub detectors: Vec<RuleSpec>,
    /// The single-table policy (used when `tables` is empty).
    pub default: TablePolicy,
    /// Per source table (by table name), with its shadow table.
    pub tables: BTreeMap<String, TablePolicy>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: 1,
            tokenize: TokenizeSettings::default(),
            detectors: Vec::new(),
            default: TablePolicy::default(),
            tables: BTreeMap::new(),
        }
    }
}

/// Why [`Policy::section`] found no table policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionError {
    /// A table was named, and the policy has no section for it.
    NoSuchTable(String),
    /// The policy has `[tables.NAME]` sections and no table was named.
    NeedsTable,
    /// A table was named, and the policy has no sections.
    NotSectioned,
}

/// A policy error, located in its source. Policies are configuration, not user data, so
/// quoting a policy's own text is allowed; item values never reach this type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub source: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.source, l, c, self.message),
            (Some(l), None) => write!(f, "{}:{}: {}", self.source, l, self.message),
            _ => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

impl std::error::Error for PolicyError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.len(), |p| before.len() - p - 1) + 1;
    (line, col)
}

/// Why a path pattern is refused (the pattern is policy text, so it may be quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("empty path")]
    Empty,
    #[error("bad segment `{0}`: list elements are written `name[*]`")]
    BadIndex(String),
    #[error("bad segment `{0}`: a path starts with an attribute name")]
    StartsWithIndex(String),
    #[error("empty segment in `{0}`")]
    EmptySegment(String),
    #[error("segment `{0}` has no letters or digits")]
    NoName(String),
}

/// Parses a path pattern: `profile.email`, `messages[*].body`, `**.ssn`, `*.secret`.
pub fn parse_path(path: &str) -> Result<Vec<Pat>, PatternError> {
    if path.trim().is_empty() {
        return Err(PatternError::Empty);
    }
    let mut out = Vec::new();
    for raw in path.split('.') {
        let mut seg = raw;
        let mut indexes = 0;
        while let Some(stripped) = seg.strip_suffix("[*]") {
            seg = stripped;
            indexes += 1;
        }
        if seg.contains('[') || seg.contains(']') {
            return Err(PatternError::BadIndex(raw.to_string()));
        }
        match seg {
            "" if indexes > 0 && out.is_empty() => return Err(PatternError::StartsWithIndex(raw.to_string())),
            "" if indexes == 0 => return Err(PatternError::EmptySegment(path.to_string())),
            "" => {}
            "*" => out.push(Pat::Any),
            "**" => out.push(Pat::AnyDepth),
            name => {
                let n = names::normalize(name);
                if n.is_empty() {
                    return Err(PatternError::NoName(raw.to_string()));
                }
                out.push(Pat::Name(n));
            }
        }
        out.extend(std::iter::repeat_n(Pat::Index, indexes));
    }
    Ok(out)
}

/// A concrete path segment during the walk: a normalised name, or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Name(String),
    Index,
}

/// How a pattern relates to a concrete path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMatch {
    No,
    /// The path is an ancestor of something the pattern can match.
    Prefix,
    Full,
}

/// Matches a pattern against a concrete path (`**` backtracks; paths are short).
pub fn match_path(pat: &[Pat], path: &[Step]) -> PathMatch {
    match (pat.first(), path.first()) {
        (None, None) => PathMatch::Full,
        (None, Some(_)) => PathMatch::No,
        (Some(Pat::AnyDepth), _) => {
            let zero = match_path(&pat[1..], path);
            if zero == PathMatch::Full || path.is_empty() {
                return if zero == PathMatch::Full { zero } else { PathMatch::Prefix };
            }
            match match_path(pat, &path[1..]) {
                PathMatch::Full => PathMatch::Full,
                _ => PathMatch::Prefix,
            }
        }
        (Some(_), None) => PathMatch::Prefix,
        (Some(p), Some(s)) => {
            let ok = match (p, s) {
                (Pat::Any, _) => true,
                (Pat::Index, Step::Index) => true,
                (Pat::Name(n), Step::Name(m)) => n == m,
                _ => false,
            };
            if ok {
                match_path(&pat[1..], &path[1..])
            } else {
                PathMatch::No
            }
        }
    }
}

impl Policy {
    /// Parses and validates a policy. `source` names it in errors (a path, or `$SHADOW_POLICY`).
    pub fn parse(text: &str, source: &str) -> Result<Policy, PolicyError> {
        let err_at = |offset: Option<usize>, message: String| {
            let (line, column) = match offset {
                Some(o) => {
                    let (l, c) = line_col(text, o);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            PolicyError { source: source.to_string(), line, column, message }
        };
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| err_at(e.span().map(|s| s.start), e.message().trim().to_string()))?;
        if *file.version.get_ref() != 1 {
            return Err(err_at(
                Some(file.version.span().start),
                format!("unsupported policy version {} (this build reads version 1)", file.version.get_ref()),
            ));
        }

        // Custom detectors: compiled and self-tested here, so `check` rejects a bad regex
        // or a custom rule that misses its own examples.
        let mut known: HashSet<String> = Detectors::builtin_ids().into_iter().collect();
        for d in &file.detector {
            let offset = text.find(&format!("\"{}\"", d.id));
            if !d.id.starts_with("custom.") {
                return Err(err_at(offset, format!("custom detector id `{}` must start with `custom.`", d.id)));
            }
            if !known.insert(d.id.clone()) {
                return Err(err_at(offset, format!("detector id `{}` is defined twice", d.id)));
            }
            let compiled = Detectors::compile(vec![d.clone()]).map_err(|e| err_at(offset, e.to_string()))?;
            for ex in &d.examples {
                if compiled.find(ex).map_or(true, |f| f.is_empty()) {
                    return Err(err_at(offset, format!("detector `{}` misses its example {ex:?}", d.id)));
                }
            }
            for ex in &d.negative_examples {
                if compiled.find(ex).map_or(true, |f| !f.is_empty()) {
                    return Err(err_at(offset, format!("detector `{}` matches its negative example {ex:?}", d.id)));
                }
            }
        }

        let top = file.top();
        let top_has_rules = !top.rule.is_empty()
            || top.shadow.is_some()
            || !top.keys.is_empty()
            || top.mode != Mode::Deny
            || !top.names.drop.is_empty()
            || !top.names.keep.is_empty()
            || !top.detectors.disable.is_empty()
            || !top.detectors.disable_categories.is_empty()
            || !top.index.is_empty();
        if !file.tables.is_empty() && top_has_rules {
            return Err(err_at(
                text.find("[tables"),
                "with [tables.NAME] sections, every rule lives in a table section (found table settings at the top level)"
                    .into(),
            ));
        }
        let default = compile_table(&top, text, &known, &err_at)?;
        let mut tables = BTreeMap::new();
        let mut shadows = HashMap::new();
        for (name, def) in &file.tables {
            let at = text.find(&format!("[tables.{name}")).or_else(|| text.find(&format!("[tables.\"{name}\"")));
            let t = compile_table(def, text, &known, &err_at)?;
            let Some(shadow) = &t.shadow else {
                return Err(err_at(at, format!("table `{name}` needs `shadow = \"<shadow table name>\"`")));
            };
            if shadow == name {
                return Err(err_at(at, format!("table `{name}` cannot be its own shadow table")));
            }
            if let Some(other) = shadows.insert(shadow.clone(), name.clone()) {
                return Err(err_at(
                    at,
                    format!("tables `{other}` and `{name}` write the same shadow table `{shadow}`"),
                ));
            }
            tables.insert(name.clone(), t);
        }
        Ok(Policy { version: 1, tokenize: file.tokenize, detectors: file.detector, default, tables })
    }

    /// The table policy a caller asked for: the single-table policy without `table`, the
    /// `[tables.NAME]` section with it. The caller names its own flag in the message.
    pub fn section(&self, table: Option<&str>) -> Result<&TablePolicy, SectionError> {
        match (table, self.tables.is_empty()) {
            (None, true) => Ok(&self.default),
            (Some(t), false) => self.tables.get(t).ok_or_else(|| SectionError::NoSuchTable(t.to_string())),
            (None, false) => Err(SectionError::NeedsTable),
            (Some(_), true) => Err(SectionError::NotSectioned),
        }
    }

    /// Whether any table tokenizes (then a key is required at start-up).
    pub fn uses_tokenize(&self) -> bool {
        self.default.uses_tokenize() || self.tables.values().any(TablePolicy::uses_tokenize)
    }

    /// A stable hash of the normalised policy and the rule set, written on every shadow
    /// item so drift after a policy change can be found.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(ENGINE_REVISION.as_bytes());
        h.update(serde_json::to_vec(self).expect("serializes"));
        for (_, text) in builtin_rule_files() {
            h.update(text.as_bytes());
        }
        h.update(crate::names::attribute_names().as_bytes());
        h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn compile_table(
    def: &TableDef,
    text: &str,
    known: &HashSet<String>,
    err_at: &dyn Fn(Option<usize>, String) -> PolicyError,
) -> Result<TablePolicy, PolicyError> {
    let locate = |needle: &str| text.find(needle);
    for id in &def.detectors.disable {
        if !known.contains(id) {
            return Err(err_at(
                locate(id),
                format!("unknown rule id `{id}` in detectors.disable (see `dynamo-shadow rules`)"),
            ));
        }
    }
    let drop_names: BTreeSet<String> = def.names.drop.iter().map(|n| names::normalize(n)).collect();
    let keep_names: BTreeSet<String> = def.names.keep.iter().map(|n| names::normalize(n)).collect();
    for n in def.names.drop.iter().chain(&def.names.keep) {
        if names::normalize(n).is_empty() {
            return Err(err_at(locate(n), format!("name `{n}` has no letters or digits")));
        }
    }
    if let Some(n) = def.names.keep.iter().find(|n| drop_names.contains(&names::normalize(n))) {
        return Err(err_at(locate(n), format!("name `{n}` is in both names.drop and names.keep")));
    }
    let keys: Vec<String> = def.keys.clone();
    let mut paths: Vec<PathRule> = Vec::new();
    let mut findings: Vec<FindingRule> = Vec::new();
    let mut seen_paths: HashMap<Vec<Pat>, (Action, usize)> = HashMap::new();
    let mut seen_sel: HashMap<Selector, Action> = HashMap::new();
    for r in &def.rule {
        let action = *r.action.get_ref();
        let at = r.action.span().start;
        let line = line_col(text, at).0;
        let mask = match (r.keep_last, r.keep_first) {
            (Some(_), Some(_)) => return Err(err_at(Some(at), "give keep_last or keep_first, not both".into())),
            (Some(n), None) => MaskSpec::Last(n),
            (None, Some(n)) => MaskSpec::First(n),
            (None, None) => MaskSpec::Last(4),
        };
        if (r.keep_last.is_some() || r.keep_first.is_some()) && action != Action::Mask {
            return Err(err_at(Some(at), "keep_last / keep_first only go with action = \"mask\"".into()));
        }
        let selectors = r.path.is_some() as u8 + r.detector.is_some() as u8 + r.category.is_some() as u8;
        if selectors != 1 {
            return Err(err_at(Some(at), "a rule selects exactly one of: path, detector, category".into()));
        }
        if let Some(p) = &r.path {
            let pattern =
                parse_path(p.get_ref()).map_err(|e| err_at(Some(p.span().start), format!("bad path: {e}")))?;
            if let Some((prev, prev_line)) = seen_paths.get(&pattern) {
                if *prev != action {
                    return Err(err_at(
                        Some(p.span().start),
                        format!(
                            "contradictory rules for path `{}`: `{}` here, `{}` on line {prev_line}",
                            p.get_ref(),
                            action.as_str(),
                            prev.as_str()
                        ),
                    ));
                }
            }
            seen_paths.insert(pattern.clone(), (action, line));
            // A key attribute is never dropped or changed, except by a consistent tokenize.
            if let [Pat::Name(n)] = pattern.as_slice() {
                if keys.iter().any(|k| &names::normalize(k) == n)
                    && matches!(action, Action::Drop | Action::Redact | Action::Mask)
                {
                    return Err(err_at(
                        Some(p.span().start),
                        format!(
                            "`{}` is a key attribute: it can be tokenized (consistently) but never {}",
                            p.get_ref(),
                            past(action)
                        ),
                    ));
                }
            }
            if matches!(pattern.first(), Some(Pat::AnyDepth | Pat::Any))
                && matches!(action, Action::Drop | Action::Redact | Action::Mask)
            {
                // `**.x` or `*` could reach a key; keys are protected at run time too, but say so now.
                if let Some(k) =
                    keys.iter().find(|k| match_path(&pattern, &[Step::Name(names::normalize(k))]) == PathMatch::Full)
                {
                    return Err(err_at(
                        Some(p.span().start),
                        format!("path `{}` would {} key attribute `{k}`", p.get_ref(), action.as_str()),
                    ));
                }
            }
            if let Some(n) = pattern.last().and_then(|p| match p {
                Pat::Name(n) => Some(n),
                _ => None,
            }) {
                if pattern.len() == 1 && drop_names.contains(n) && matches!(action, Action::Keep | Action::Allow) {
                    return Err(err_at(
                        Some(p.span().start),
                        format!("path `{}` is kept but also listed in names.drop", p.get_ref()),
                    ));
                }
            }
            paths.push(PathRule { source: p.get_ref().clone(), pattern, action, mask, label: r.label.clone(), line });
        } else {
            let selector = if let Some(d) = &r.detector {
                if !known.contains(d.get_ref()) {
                    return Err(err_at(
                        Some(d.span().start),
                        format!("unknown detector rule id `{}` (see `dynamo-shadow rules`)", d.get_ref()),
                    ));
                }
                if def.detectors.disable.contains(d.get_ref()) {
                    return Err(err_at(
                        Some(d.span().start),
                        format!("detector `{}` has an action but is disabled", d.get_ref()),
                    ));
                }
                Selector::Rule(d.get_ref().clone())
            } else {
                Selector::Category(*r.category.as_ref().expect("one selector").get_ref())
            };
            if matches!(action, Action::Allow | Action::Keep) {
                return Err(err_at(Some(at), format!("detector findings can be redact, mask, tokenize or drop; to ignore a detector, list it in detectors.disable (got `{}`)", action.as_str())));
            }
            if let Some(prev) = seen_sel.insert(selector.clone(), action) {
                if prev != action {
                    return Err(err_at(
                        Some(at),
                        format!(
                            "contradictory rules for the same detector selector: `{}` and `{}`",
                            prev.as_str(),
                            action.as_str()
                        ),
                    ));
                }
            }
            findings.push(FindingRule { selector, action, mask });
        }
    }
    if def.mode == Mode::Allow && paths.iter().all(|p| matches!(p.action, Action::Drop)) {
        return Err(err_at(
            locate("mode"),
            "mode = \"allow\" lists no path to allow: nothing but keys would reach the shadow table".into(),
        ));
    }
    Ok(TablePolicy {
        shadow: def.shadow.clone(),
        mode: def.mode,
        binary: def.binary,
        keys,
        drop_names,
        keep_names,
        disable: def.detectors.disable.iter().cloned().collect(),
        disable_categories: def.detectors.disable_categories.iter().copied().collect(),
        paths,
        findings,
        indexes: compile_indexes(def, err_at)?,
    })
}

/// `[[index]]`: names and key attributes of the shadow table's secondary indexes.
fn compile_indexes(
    def: &TableDef,
    err_at: &dyn Fn(Option<usize>, String) -> PolicyError,
) -> Result<Vec<IndexSpec>, PolicyError> {
    let mut out: Vec<IndexSpec> = Vec::new();
    for ix in &def.index {
        let name = ix.name.get_ref();
        let at = Some(ix.name.span().start);
        let valid_name = (3..=255).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !valid_name {
            return Err(err_at(
                at,
                format!("index name `{name}`: DynamoDB index names are 3 to 255 of a-z, A-Z, 0-9, `_`, `-` and `.`"),
            ));
        }
        if out.iter().any(|o| o.name == *name) {
            return Err(err_at(at, format!("index `{name}` is declared twice")));
        }
        let mut keys = vec![(ix.partition_key.clone(), ix.partition_key_type)];
        if let Some(sk) = &ix.sort_key {
            if *sk == ix.partition_key {
                return Err(err_at(at, format!("index `{name}`: partition_key and sort_key are the same attribute")));
            }
            keys.push((sk.clone(), ix.sort_key_type));
        }
        for (k, _) in &keys {
            if k.is_empty() || k.len() > 255 {
                return Err(err_at(at, format!("index `{name}`: a key attribute name is 1 to 255 bytes")));
            }
            if k.starts_with(crate::sanitize::RESERVED_PREFIX) {
                return Err(err_at(at, format!("index `{name}`: `{k}` is dynamo-shadow's metadata, not an index key")));
            }
            // Tombstones and quarantine markers carry the table's key attributes: an index
            // keyed on one would list them.
            if def.keys.contains(k) {
                return Err(err_at(
                    at,
                    format!("index `{name}`: `{k}` is a key attribute of the table, so tombstones and quarantine markers would appear in the index; index another attribute"),
                ));
            }
        }
        out.push(IndexSpec { name: name.clone(), keys });
    }
    Ok(out)
}

fn past(a: Action) -> &'static str {
    match a {
        Action::Drop => "dropped",
        Action::Redact => "redacted",
        Action::Mask => "masked",
        _ => "changed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> PolicyError {
        Policy::parse(text, "p.toml").unwrap_err()
    }

    #[test]
    fn parses_a_full_policy() {
        let p = Policy::parse(
            r#"
version = 1
mode = "allow"
binary = "keep"
keys = ["pk", "sk"]

[names]
drop = ["internal_notes"]
keep = ["tokenBudget"]

[detectors]
disable = ["pii.ipv4"]

[[rule]]
path = "profile.email"
action = "tokenize"

[[rule]]
path = "messages[*].body"
action = "allow"

[[rule]]
detector = "pii.card_number"
action = "mask"
keep_last = 4

[[rule]]
category = "secret"
action = "redact"

[[detector]]
id = "custom.employee_id"
name = "Employee id"
category = "pii"
label = "EMPLOYEE_ID"
pattern = '\bEMP-[0-9]{6}\b'
examples = ["badge EMP-123456"]
negative_examples = ["EMP-12"]
"#,
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.default.mode, Mode::Allow);
        assert_eq!(p.default.paths.len(), 2);
        assert_eq!(p.default.paths[1].pattern, [Pat::Name("messages".into()), Pat::Index, Pat::Name("body".into())]);
        assert_eq!(p.default.findings[0].mask, MaskSpec::Last(4));
        assert!(p.uses_tokenize());
        assert_eq!(p.detectors.len(), 1);
    }

    #[test]
    fn every_mistake_is_named_with_its_line() {
        let e = err("version = 1\n[names]\ndorp = [\"x\"]\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("p.toml:3:") && e.message.contains("dorp"), "{e}");

        let e = err("version = 1\n[detectors]\ndisable = [\"pii.nope\"]\n");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown rule id `pii.nope`"), "{e}");

        let e = err("version = 1\n[names]\ndrop = [\"x_y\"]\nkeep = [\"xY\"]\n");
        assert!(e.message.contains("both"), "{e}");

        let e = err("version = 2\n");
        assert!(e.message.contains("version 2") && e.line == Some(1), "{e}");

        let e = err("version = 1\n\n[[rule]]\npath = \"a..b\"\naction = \"drop\"\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("bad path"), "{e}");

        let e =
            err("version = 1\n[[rule]]\npath = \"a\"\naction = \"drop\"\n[[rule]]\npath = \"A\"\naction = \"keep\"\n");
        assert_eq!(e.line, Some(6), "{e}");
        assert!(e.message.contains("contradictory") && e.message.contains("line 4"), "{e}");

        let e = err("version = 1\nkeys = [\"email\"]\n[[rule]]\npath = \"email\"\naction = \"mask\"\n");
        assert!(e.message.contains("key attribute") && e.message.contains("tokenized"), "{e}");

        let e = err("version = 1\nkeys = [\"pk\"]\n[[rule]]\npath = \"*\"\naction = \"drop\"\n");
        assert!(e.message.contains("key attribute `pk`"), "{e}");

        let e = err("version = 1\n[[rule]]\ndetector = \"pii.nope\"\naction = \"redact\"\n");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown detector rule id"), "{e}");

        let e = err("version = 1\n[[rule]]\npath = \"x\"\ndetector = \"pii.email\"\naction = \"redact\"\n");
        assert!(e.message.contains("exactly one"), "{e}");

        let e = err("version = 1\n[[rule]]\npath = \"x\"\naction = \"shred\"\n");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("shred"), "{e}");

        let e = err("version = 1\n[[rule]]\npath = \"x\"\naction = \"drop\"\nkeep_last = 4\n");
        assert!(e.message.contains("only go with"), "{e}");

        let e = err("version = 1\n[[detector]]\nid = \"custom.bad\"\nname = \"b\"\ncategory = \"pii\"\nlabel = \"B\"\npattern = '(unclosed'\nexamples = [\"x\"]\n");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("custom.bad") && e.message.contains("pattern"), "{e}");

        let e = err("version = 1\n[[detector]]\nid = \"custom.emp\"\nname = \"b\"\ncategory = \"pii\"\nlabel = \"B\"\npattern = 'EMP-[0-9]{6}'\nexamples = [\"EMP-12\"]\n");
        assert!(e.message.contains("misses its example"), "{e}");

        let e = err("version = 1\nmode = \"allow\"\n");
        assert!(e.message.contains("lists no path"), "{e}");

        let e = err("version = 1\n[[rule]]\npath = \"x\"\naction = \"drop\"\n[tables.app]\nshadow = \"app-shadow\"\n");
        assert!(e.message.contains("table section"), "{e}");

        let e = err("version = 1\n[tables.app]\nmode = \"deny\"\n");
        assert!(e.message.contains("needs `shadow"), "{e}");

        let e = err("version = 1\n[tables.a]\nshadow = \"s\"\n[tables.b]\nshadow = \"s\"\n");
        assert!(e.message.contains("same shadow table"), "{e}");

        let e = err("version = 1\n[[rule]]\ncategory = \"pii\"\naction = \"keep\"\n");
        assert!(e.message.contains("detectors.disable"), "{e}");
    }

    #[test]
    fn paths_match_names_after_normalisation_and_wildcards() {
        let steps = |s: &[&str]| -> Vec<Step> {
            s.iter().map(|x| if *x == "[]" { Step::Index } else { Step::Name(names::normalize(x)) }).collect()
        };
        let p = parse_path("profile.email").unwrap();
        assert_eq!(match_path(&p, &steps(&["Profile", "EMAIL"])), PathMatch::Full);
        assert_eq!(match_path(&p, &steps(&["profile"])), PathMatch::Prefix);
        assert_eq!(match_path(&p, &steps(&["other"])), PathMatch::No);
        let p = parse_path("messages[*].body").unwrap();
        assert_eq!(match_path(&p, &steps(&["messages", "[]", "body"])), PathMatch::Full);
        assert_eq!(match_path(&p, &steps(&["messages", "[]"])), PathMatch::Prefix);
        assert_eq!(match_path(&p, &steps(&["messages", "body"])), PathMatch::No);
        let p = parse_path("**.ssn").unwrap();
        assert_eq!(match_path(&p, &steps(&["ssn"])), PathMatch::Full);
        assert_eq!(match_path(&p, &steps(&["a", "[]", "b", "SSN"])), PathMatch::Full);
        assert_eq!(match_path(&p, &steps(&["a", "b"])), PathMatch::Prefix);
        let p = parse_path("*.secret").unwrap();
        assert_eq!(match_path(&p, &steps(&["x", "secret"])), PathMatch::Full);
        assert_eq!(match_path(&p, &steps(&["x", "y", "secret"])), PathMatch::No);
        assert!(parse_path("[*].x").is_err());
        assert!(parse_path("a.b[0]").is_err());
    }

    #[test]
    fn fingerprint_is_stable_under_normalisation_and_moves_with_content() {
        let a = Policy::parse("version = 1\n[names]\ndrop = [\"internalNotes\", \"b\"]\n", "a").unwrap();
        let b = Policy::parse("version = 1\n[names]\ndrop = [\"b\", \"internal_notes\"]\n", "b").unwrap();
        let c = Policy::parse("version = 1\n[names]\ndrop = [\"c\"]\n", "c").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
    }

    #[test]
    fn several_tables() {
        let p = Policy::parse(
            "version = 1\n[tables.app-main]\nshadow = \"app-main-shadow\"\n[tables.orders]\nshadow = \"orders-shadow\"\nmode = \"allow\"\n[[tables.orders.rule]]\npath = \"total\"\naction = \"allow\"\n",
            "p",
        )
        .unwrap();
        assert_eq!(p.tables.len(), 2);
        assert_eq!(p.tables["orders"].mode, Mode::Allow);
        assert_eq!(p.tables["app-main"].shadow.as_deref(), Some("app-main-shadow"));
    }
}
