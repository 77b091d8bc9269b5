//! Value detectors: secrets and PII inside any string.
//!
//! Rules are data (`rules/builtin.toml`, compiled into the binary). Every rule declares a
//! prefilter: literals one of which each match contains, and/or the fewest digits a match
//! has. All literals compile once into one Aho-Corasick automaton, so a clean string costs
//! one literal scan and one digit count whatever the number of rules; only the rules whose
//! prefilter passes run their regex, and candidates are then confirmed by validators (Luhn,
//! mod-97, address parsing, randomness) and optional context keywords.

use std::collections::HashSet;

use base64::Engine as _;
// Byte regexes in ASCII mode: every rule is ASCII, and ASCII classes compile and scan far
// faster than Unicode ones. Spans are widened to character boundaries before use.
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// The built-in rules file.
pub const BUILTIN_RULES: &str = include_str!("../../../../rules/builtin.toml");

pub use crate::Category;

/// A confirmation step run on a candidate span. Unknown names are rejected at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn checksum, a known card-brand prefix for the length, consistent grouping.
    Card,
    /// US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000.
    Ssn,
    /// IBAN: country length and mod-97 checksum.
    Iban,
    /// A real IPv4 address, not part of a longer dotted version string.
    Ipv4,
    /// A real IPv6 address.
    Ipv6,
    /// 8 to 15 digits, as E.164 allows.
    Phone,
    /// 9 to 11 digits for national numbers with a trunk 0.
    PhoneNational,
    /// Looks machine-generated: letters and digits mixed, many class changes, many distinct chars.
    LooksRandom,
    /// Looks like a credential rather than a word or a placeholder.
    LooksCredential,
    /// Base64 that decodes to `user:password`.
    BasicAuth,
    /// Has upper case, lower case and a digit.
    MixedCaseAndDigit,
    /// Not a reference to where the secret lives (`os.environ[...]`, `${VAR}`).
    NotCodeReference,
    /// Contains at least one digit.
    HasDigit,
    /// Not the user part of a URL (`https://user@host`): that is a login, not a mailbox.
    NotUrlUserinfo,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

/// One rule as written in the rules file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub name: String,
    pub category: Category,
    pub label: String,
    pub pattern: String,
    #[serde(default)]
    pub validators: Vec<Validator>,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Literals (ASCII case-insensitive), one of which every match contains.
    #[serde(default)]
    pub prefilter: Vec<String>,
    /// The fewest digits a match has in one run of digits and ` -.()/+` (with `prefilter`,
    /// both must pass).
    #[serde(default)]
    pub min_digits: Option<usize>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule id, shared by every finding's [`RuleRef`](crate::RuleRef).
    pub id: std::sync::Arc<str>,
    pub spec: RuleSpec,
    pub placeholder: String,
    regex: Regex,
    span_group: Option<usize>,
}

/// A confirmed finding: byte span in the scanned text and the index of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
}

/// Errors loading rules. They name the rule, never any scanned data.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("rules file: {0}")]
    Parse(String),
    #[error("rule `{id}`: bad pattern: {reason}")]
    Pattern { id: String, reason: String },
    #[error("rule `{0}` is defined twice")]
    Duplicate(String),
    #[error("rule `{id}`: {reason}")]
    Invalid { id: String, reason: String },
}

/// All detectors, compiled once.
#[derive(Debug, Clone)]
pub struct Detectors {
    rules: Vec<Rule>,
    /// Prefilter literals of case-insensitive rules (`(?i)` patterns), matched ignoring ASCII case.
    literals_ci: Option<AhoCorasick>,
    literal_rule_ci: Vec<usize>,
    /// Prefilter literals of case-sensitive rules, matched exactly.
    literals_cs: Option<AhoCorasick>,
    literal_rule_cs: Vec<usize>,
    /// (rule index, fewest digits, also gated by literals), for rules gated by digits.
    digit_rules: Vec<(usize, usize, bool)>,
    /// Rules without a prefilter (custom detectors may have none): always run.
    always: Vec<usize>,
}

const KEYWORD_WINDOW: usize = 80;
/// Regexes are linear-time; this bounds their compiled size, not their run time.
const SIZE_LIMIT: usize = 64 << 20;

/// Parses a rules file (the built-in one, or `[[detector]]` entries use the same shape).
pub fn parse_rules(text: &str) -> Result<Vec<RuleSpec>, RulesError> {
    let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::Parse(e.to_string()))?;
    Ok(file.rule)
}

impl Detectors {
    /// The built-in rule set.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::from_toml(BUILTIN_RULES, &HashSet::new())
    }

    /// Parses and compiles a rules file; rules whose ids are in `disabled` are left out.
    pub fn from_toml(text: &str, disabled: &HashSet<String>) -> Result<Self, RulesError> {
        Self::compile(parse_rules(text)?.into_iter().filter(|r| !disabled.contains(&r.id)).collect())
    }

    /// The ids of every rule in the built-in file (whether or not enabled).
    pub fn builtin_ids() -> Vec<String> {
        parse_rules(BUILTIN_RULES).expect("built-in rules parse").into_iter().map(|r| r.id).collect()
    }

    pub fn compile(specs: Vec<RuleSpec>) -> Result<Self, RulesError> {
        let mut seen = HashSet::new();
        let mut rules = Vec::with_capacity(specs.len());
        let (mut lits_ci, mut rule_ci, mut lits_cs, mut rule_cs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut digit_rules = Vec::new();
        let mut always = Vec::new();
        for spec in specs {
            if !seen.insert(spec.id.clone()) {
                return Err(RulesError::Duplicate(spec.id));
            }
            if spec.label.is_empty()
                || !spec.label.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
            {
                return Err(RulesError::Invalid { id: spec.id, reason: "label must be UPPER_SNAKE_CASE".into() });
            }
            let pattern = spec.pattern.clone();
            let regex = RegexBuilder::new(&pattern)
                .unicode(false)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|e| RulesError::Pattern { id: spec.id.clone(), reason: e.to_string() })?;
            let span_group = regex.capture_names().position(|n| n == Some("s"));
            let idx = rules.len();
            if spec.prefilter.iter().any(|l| l.is_empty() || !l.is_ascii()) {
                return Err(RulesError::Invalid {
                    id: spec.id,
                    reason: "prefilter literals are non-empty ASCII".into(),
                });
            }
            // Context keywords are matched ignoring case, so their rules' literals are too.
            let case_insensitive = spec.pattern.starts_with("(?i)") || !spec.keywords.is_empty();
            for lit in &spec.prefilter {
                if case_insensitive {
                    lits_ci.push(lit.clone());
                    rule_ci.push(idx);
                } else {
                    lits_cs.push(lit.clone());
                    rule_cs.push(idx);
                }
            }
            if let Some(d) = spec.min_digits {
                digit_rules.push((idx, d, !spec.prefilter.is_empty()));
            }
            if spec.prefilter.is_empty() && spec.min_digits.is_none() {
                always.push(idx);
            }
            rules.push(Rule {
                id: spec.id.as_str().into(),
                placeholder: format!("[REDACTED:{}]", spec.label),
                spec,
                regex,
                span_group,
            });
        }
        let automaton = |lits: &[String], ci: bool| -> Result<Option<AhoCorasick>, RulesError> {
            if lits.is_empty() {
                return Ok(None);
            }
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(ci)
                .match_kind(MatchKind::Standard)
                .build(lits)
                .map(Some)
                .map_err(|e| RulesError::Pattern { id: "(prefilter)".into(), reason: e.to_string() })
        };
        Ok(Detectors {
            literals_ci: automaton(&lits_ci, true)?,
            literal_rule_ci: rule_ci,
            literals_cs: automaton(&lits_cs, false)?,
            literal_rule_cs: rule_cs,
            rules,
            digit_rules,
            always,
        })
    }

    /// Indexes of the rules whose prefilter passes on `text`, in rule order.
    fn candidates(&self, text: &str) -> Vec<usize> {
        let bytes = text.as_bytes();
        let mut hit = Hits::new(self.rules.len());
        for (ac, rule_of) in [(&self.literals_ci, &self.literal_rule_ci), (&self.literals_cs, &self.literal_rule_cs)] {
            if let Some(ac) = ac {
                for m in ac.find_overlapping_iter(bytes) {
                    hit.set(rule_of[m.pattern().as_usize()]);
                }
            }
        }
        if !self.digit_rules.is_empty() {
            let digits = numeric_run_digits(bytes);
            for &(idx, min, with_literals) in &self.digit_rules {
                match (digits >= min, with_literals) {
                    (true, false) => hit.set(idx),
                    (false, true) => hit.unset(idx),
                    _ => {}
                }
            }
        }
        for &idx in &self.always {
            hit.set(idx);
        }
        hit.indexes()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Confirmed findings in `text`, merged so that no two overlap, in order.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        for idx in self.candidates(text) {
            self.find_rule(idx, text, &mut found);
        }
        merge(found)
    }

    /// Findings of one rule, unmerged (used by the rule self-tests).
    pub fn find_rule(&self, idx: usize, text: &str, out: &mut Vec<Finding>) {
        let rule = &self.rules[idx];
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos <= bytes.len() {
            let Some(caps) = rule.regex.captures_at(bytes, pos) else { break };
            let whole = caps.get(0).expect("group 0 always matches");
            let m = rule.span_group.and_then(|g| caps.get(g)).unwrap_or(whole);
            // A byte match can end inside a multi-byte character: widen to whole characters.
            let (start, end) = (floor_char(text, m.start()), ceil_char(text, m.end()));
            let confirmed = start < end
                && rule.spec.validators.iter().all(|v| validate(*v, text, start, end))
                && (rule.spec.keywords.is_empty() || has_keyword(text, start, end, &rule.spec.keywords));
            if confirmed {
                out.push(Finding { start, end, rule: idx });
                pos = whole.end().max(whole.start() + 1);
            } else {
                // A rejected candidate must not hide a real one inside it ("0 4111 1111 ...":
                // the 17-digit run fails Luhn, the card after the `0 ` does not): search again
                // from the next position instead of after the rejected match.
                pos = whole.start() + 1;
            }
        }
    }

    /// Replaces every finding with its rule's placeholder; `None` when nothing was found.
    /// `on_finding` is told the rule of each replaced span.
    pub fn redact(&self, text: &str, mut on_finding: impl FnMut(&Rule)) -> Option<String> {
        let findings = self.find(text);
        if findings.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in findings {
            let rule = &self.rules[f.rule];
            out.push_str(&text[last..f.start]);
            out.push_str(&rule.placeholder);
            on_finding(rule);
            last = f.end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

/// The most digits in one run of digits and number separators (` -.()/+`): a card, phone,
/// SSN or address cannot have more digits than the longest such run. Timestamps split at
/// `T` and `:` stay short.
fn numeric_run_digits(bytes: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for &b in bytes {
        if b.is_ascii_digit() {
            cur += 1;
        } else if !matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+') {
            best = best.max(cur);
            cur = 0;
        }
    }
    best.max(cur)
}

/// A set of rule indexes without allocating for the common small rule sets.
enum Hits {
    Small(u128),
    Large(Vec<bool>),
}

impl Hits {
    fn new(n: usize) -> Self {
        if n <= 128 {
            Hits::Small(0)
        } else {
            Hits::Large(vec![false; n])
        }
    }
    fn set(&mut self, i: usize) {
        match self {
            Hits::Small(bits) => *bits |= 1 << i,
            Hits::Large(v) => v[i] = true,
        }
    }
    fn unset(&mut self, i: usize) {
        match self {
            Hits::Small(bits) => *bits &= !(1 << i),
            Hits::Large(v) => v[i] = false,
        }
    }
    fn indexes(&self) -> Vec<usize> {
        match self {
            Hits::Small(0) => Vec::new(),
            Hits::Small(bits) => (0..128).filter(|i| bits & (1 << i) != 0).collect(),
            Hits::Large(v) => v.iter().enumerate().filter_map(|(i, h)| h.then_some(i)).collect(),
        }
    }
}

fn merge(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
    // Earliest first; at the same start the longest wins.
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    merged
}

fn has_keyword(text: &str, start: usize, end: usize, keywords: &[String]) -> bool {
    let lo = floor_char(text, start.saturating_sub(KEYWORD_WINDOW));
    let hi = ceil_char(text, (end + KEYWORD_WINDOW).min(text.len()));
    let window = text[lo..hi].to_ascii_lowercase();
    keywords.iter().any(|k| window.contains(&k.to_ascii_lowercase()))
}

fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn validate(v: Validator, text: &str, start: usize, end: usize) -> bool {
    let span = &text[start..end];
    match v {
        Validator::Card => is_card_number(span),
        Validator::Ssn => is_ssn(span),
        Validator::Iban => is_iban(span),
        Validator::Ipv4 => {
            let before = text[..start].chars().next_back();
            let after = &text[end..];
            // `Chrome/120.0.0.0` is a product version, not an address (`http://10.0.0.1` is).
            let product_version =
                text[..start].strip_suffix('/').is_some_and(|t| t.ends_with(|c: char| c.is_ascii_alphabetic()));
            // Part of a longer dotted number (`1.2.3.4.5`) is a version or OID, not an address.
            let dotted_tail = after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit());
            let dotted_head = matches!(before, Some('.') | Some('0'..='9'));
            span.parse::<std::net::Ipv4Addr>().is_ok() && !(dotted_head || dotted_tail || product_version)
        }
        Validator::Ipv6 => {
            let groups: Vec<&str> = span.split(':').filter(|g| !g.is_empty()).collect();
            span.parse::<std::net::Ipv6Addr>().is_ok()
                && span.bytes().any(|b| b.is_ascii_digit())
                && (groups.len() >= 3 || groups.iter().any(|g| g.len() >= 3))
        }
        Validator::Phone => {
            let d = digits(span);
            (8..=15).contains(&d.len()) && !all_same(&d)
        }
        Validator::PhoneNational => {
            let d = digits(span);
            (9..=11).contains(&d.len()) && !all_same(&d)
        }
        Validator::LooksRandom => looks_random(span),
        Validator::LooksCredential => looks_credential(span),
        Validator::BasicAuth => base64::engine::general_purpose::STANDARD
            .decode(span)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .is_some_and(|s| s.contains(':') && s.len() >= 3 && !s.chars().any(char::is_control)),
        Validator::MixedCaseAndDigit => {
            span.bytes().any(|b| b.is_ascii_uppercase())
                && span.bytes().any(|b| b.is_ascii_lowercase())
                && span.bytes().any(|b| b.is_ascii_digit())
        }
        Validator::NotCodeReference => {
            // `os.environ[`, `env(`, `settings.SECRET`: where the secret lives, not the secret.
            // The span stops at quotes and spaces, so a reference ends at its bracket.
            let ident = span.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).unwrap_or(span.len());
            let rest = &span[ident..];
            let reference = (ident > 0
                && (matches!(rest, "(" | "[" | "()") || (rest.is_empty() && span.contains('.'))))
                || ["${", "{{", "<", "%("].iter().any(|p| span.starts_with(p));
            !reference
        }
        Validator::HasDigit => span.bytes().any(|b| b.is_ascii_digit()),
        Validator::NotUrlUserinfo => {
            // `git@github.com:org/repo.git` is an scp-style remote, not a mailbox.
            let token_start = text[..start].rfind(char::is_whitespace).map_or(0, |i| i + 1);
            let after = &text[end..];
            let scp_remote = after.starts_with(':') && after[1..].starts_with(|c: char| !c.is_whitespace());
            !text[token_start..start].contains("://") && !scp_remote
        }
    }
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

fn all_same(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

/// The Luhn checksum over digit values (0-9).
pub fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = x as u32;
            match (i % 2 == 1, x * 2) {
                (true, y) if y > 9 => y - 9,
                (true, y) => y,
                (false, _) => x,
            }
        })
        .sum();
    sum % 10 == 0
}

/// A payment card number: 13-19 digits, Luhn-valid, a known brand prefix for its length,
/// separators (if any) all the same and in a card's grouping. Also used on N values.
pub fn is_card_number(s: &str) -> bool {
    let d = digits(s);
    if !(13..=19).contains(&d.len()) || all_same(&d) || !luhn(&d) {
        return false;
    }
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if let Some(&first) = seps.first() {
        if seps.iter().any(|&c| c != first) {
            return false;
        }
        let groups: Vec<usize> = s.split(first).map(str::len).collect();
        let ok = match groups.as_slice() {
            [4, 6, 5] | [4, 6, 4] => true,
            [init @ .., last] => init.iter().all(|&g| g == 4) && (1..=4).contains(last),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    let n = |k: usize| -> u32 { d[..k].iter().fold(0u32, |a, &x| a * 10 + x as u32) };
    let len = d.len();
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => (51..=55).contains(&n(2)) && len == 16,
        2 => (2221..=2720).contains(&n(4)) && len == 16,
        3 => {
            (matches!(n(2), 34 | 37) && len == 15)
                || ((3528..=3589).contains(&n(4)) && (16..=19).contains(&len))
                || ((matches!(n(2), 36 | 38 | 39) || (300..=305).contains(&n(3))) && (14..=19).contains(&len))
        }
        6 => (n(4) == 6011 || n(2) == 65 || (644..=649).contains(&n(3)) || n(2) == 62) && (16..=19).contains(&len),
        _ => false,
    }
}

fn is_ssn(s: &str) -> bool {
    let d = digits(s);
    if d.len() != 9 {
        return false;
    }
    let area = d[0] as u32 * 100 + d[1] as u32 * 10 + d[2] as u32;
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + x as u32);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "AD" => 24,
        "AE" => 23,
        "AL" => 28,
        "AT" => 20,
        "AZ" => 28,
        "BA" => 20,
        "BE" => 16,
        "BG" => 22,
        "BH" => 22,
        "BR" => 29,
        "CH" => 21,
        "CR" => 22,
        "CY" => 28,
        "CZ" => 24,
        "DE" => 22,
        "DK" => 18,
        "DO" => 28,
        "EE" => 20,
        "EG" => 29,
        "ES" => 24,
        "FI" => 18,
        "FO" => 18,
        "FR" => 27,
        "GB" => 22,
        "GE" => 22,
        "GI" => 23,
        "GL" => 18,
        "GR" => 27,
        "GT" => 28,
        "HR" => 21,
        "HU" => 28,
        "IE" => 22,
        "IL" => 23,
        "IS" => 26,
        "IT" => 27,
        "JO" => 30,
        "KW" => 30,
        "KZ" => 20,
        "LB" => 28,
        "LI" => 21,
        "LT" => 20,
        "LU" => 20,
        "LV" => 21,
        "MC" => 27,
        "MD" => 24,
        "ME" => 22,
        "MK" => 19,
        "MR" => 27,
        "MT" => 31,
        "MU" => 30,
        "NL" => 18,
        "NO" => 15,
        "PK" => 24,
        "PL" => 28,
        "PS" => 29,
        "PT" => 25,
        "QA" => 29,
        "RO" => 24,
        "RS" => 22,
        "SA" => 24,
        "SE" => 24,
        "SI" => 19,
        "SK" => 24,
        "SM" => 27,
        "TN" => 24,
        "TR" => 26,
        "UA" => 29,
        "VG" => 24,
        "XK" => 20,
        _ => return None,
    })
}

fn is_iban(s: &str) -> bool {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(len) = iban_length(&compact[..2.min(compact.len())]) else {
        return false;
    };
    if compact.len() != len {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn class(c: char) -> u8 {
    if c.is_ascii_lowercase() {
        0
    } else if c.is_ascii_uppercase() {
        1
    } else if c.is_ascii_digit() {
        2
    } else {
        3
    }
}

/// Machine-generated rather than written by a person: long enough, letters and digits
/// mixed, frequent character-class changes, and many distinct characters.
pub fn looks_random(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n < 12 {
        return false;
    }
    let has_letter = chars.iter().any(char::is_ascii_alphabetic);
    let has_digit = chars.iter().any(char::is_ascii_digit);
    let changes = chars.windows(2).filter(|w| class(w[0]) != class(w[1])).count();
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    let mixed_case = chars.iter().any(char::is_ascii_uppercase) && chars.iter().any(char::is_ascii_lowercase);
    has_letter && (has_digit || mixed_case) && changes * 5 >= n && distinct * 2 >= n.min(20)
}

fn looks_credential(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    let placeholder = s.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '•'))
        || l.starts_with('[')
        || l.starts_with('<')
        || l.starts_with("{{")
        || l.starts_with("${")
        || l.starts_with("%(")
        || matches!(l.as_str(), "null" | "none" | "nil" | "true" | "false" | "undefined" | "redacted");
    if placeholder {
        return false;
    }
    // A word in prose ("required", "click") is not a credential; a credential has a digit,
    // a symbol or mixed case.
    s.chars().any(|c| c.is_ascii_digit())
        || s.chars().any(|c| !c.is_alphanumeric())
        || (s.chars().any(|c| c.is_uppercase())
            && s.chars().skip(1).any(|c| c.is_uppercase())
            && s.chars().any(|c| c.is_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detectors() -> Detectors {
        Detectors::builtin().expect("built-in rules compile")
    }

    /// noseyparker-style self-test: every rule finds each of its examples and none of its
    /// negative examples (run alone and through the combined set).
    #[test]
    fn every_rule_matches_its_examples_and_none_of_its_negative_examples() {
        let d = detectors();
        let mut problems = Vec::new();
        for (i, rule) in d.rules().iter().enumerate() {
            if rule.spec.examples.is_empty() {
                problems.push(format!("{}: no examples", rule.spec.id));
            }
            for ex in &rule.spec.examples {
                let mut f = Vec::new();
                d.find_rule(i, ex, &mut f);
                if f.is_empty() {
                    problems.push(format!("{}: misses example {ex:?}", rule.spec.id));
                }
                if d.redact(ex, |_| {}).is_none() {
                    problems.push(format!("{}: combined set misses example {ex:?}", rule.spec.id));
                }
            }
            for ex in &rule.spec.negative_examples {
                let mut f = Vec::new();
                d.find_rule(i, ex, &mut f);
                if !f.is_empty() {
                    problems.push(format!("{}: matches negative example {ex:?}", rule.spec.id));
                }
            }
        }
        assert!(problems.is_empty(), "rule self-test failures:\n{}", problems.join("\n"));
    }

    #[test]
    fn rules_cover_what_the_default_policy_promises() {
        let ids: HashSet<String> = detectors().rules().iter().map(|r| r.spec.id.clone()).collect();
        for id in [
            "aws.access_key_id",
            "aws.secret_access_key",
            "gcp.api_key",
            "azure.storage_key",
            "github.token",
            "gitlab.token",
            "openai.api_key",
            "anthropic.api_key",
            "stripe.key",
            "slack.token",
            "slack.webhook",
            "private_key.block",
            "jwt",
            "http.authorization",
            "url.credentials",
            "pii.email",
            "pii.card_number",
            "pii.ssn",
            "pii.iban",
            "pii.ipv4",
            "pii.ipv6",
            "pii.phone.international",
        ] {
            assert!(ids.contains(id), "missing rule {id}");
        }
    }

    #[test]
    fn redaction_keeps_surrounding_text_and_only_the_secret_part_of_a_url() {
        let d = detectors();
        let out = d.redact("mail alice@example.com re order 42", |_| {}).unwrap();
        assert_eq!(out, "mail [REDACTED:EMAIL] re order 42");
        let out = d.redact("db at postgres://app:S3cr3tPa55@db.internal:5432/prod", |_| {}).unwrap();
        assert_eq!(out, "db at postgres://app:[REDACTED:PASSWORD]@db.internal:5432/prod");
        assert!(d.redact("nothing to see here, version 1.2.3", |_| {}).is_none());
    }

    #[test]
    fn validators() {
        assert!(is_card_number("4111111111111111"));
        assert!(is_card_number("4111-1111-1111-1111"));
        assert!(!is_card_number("4111-1111 1111-1111"));
        assert!(!is_card_number("4111111111111112"));
        assert!(!is_card_number("1234567812345670")); // Luhn-valid, no brand
        assert!(is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("GB82WEST12345698765433"));
        assert!(is_ssn("123-45-6789") && !is_ssn("666-45-6789") && !is_ssn("900-45-6789"));
        assert!(looks_random("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(!looks_random("engineering-2024"));
        assert!(!looks_random("123456789012"));
    }

    #[test]
    fn bad_rules_are_rejected_with_the_rule_id() {
        let bad = r#"[[rule]]
id = "x.bad"
name = "bad"
category = "secret"
label = "X"
pattern = '(unclosed'
"#;
        let e = Detectors::from_toml(bad, &HashSet::new()).unwrap_err().to_string();
        assert!(e.contains("x.bad"), "{e}");
        let unknown = bad.replace("'(unclosed'", "'x'\nvalidators = [\"nope\"]");
        assert!(Detectors::from_toml(&unknown, &HashSet::new()).is_err());
    }
}
