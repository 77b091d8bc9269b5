//! Value detectors: secrets and PII inside any string, in linear time.
//!
//! Rules are data (`rules/*.toml`, compiled into the binary). Every rule declares a
//! prefilter, proved sound from its pattern: literals one of which every match contains,
//! or the fewest digits a match has in one numeric run. Matching a string is
//!
//! 1. one pass of one Aho-Corasick automaton (all rules' literals) and, if any rule needs
//!    it, one pass finding numeric runs: these are the *anchors*;
//! 2. for each rule with anchors, its regex confirms in bounded windows around them (a
//!    match is at most the rule's bounded length, so it lies within that length of the
//!    anchor it contains); overlapping windows merge into regions that are searched in
//!    chunks, each byte examined a bounded number of times;
//! 3. candidates are confirmed by validators (checksums, randomness, bounded context) and
//!    optional context keywords; a rejected candidate resumes the search one byte later, in
//!    its chunk, never rescanning the rest of the string.
//!
//! The work (bytes the regexes may examine) is counted, and a value whose work passes a
//! fixed multiple of its length is refused ([`Exhausted`]): the sanitizer then redacts it
//! whole, so no input can make matching slow and nothing is passed through unscanned.

mod compile;
mod spec;
pub mod validators;

use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};

use compile::Compiled;
pub use compile::{is_run_byte, MAX_MATCH, MAX_MATCH_KEYS};
pub use spec::{builtin_rule_files, builtin_specs, parse_rules, RuleSpec};
pub use validators::common::{is_card_number, is_random as looks_random, is_test_card, luhn};
use validators::{ValidatorFn, CONTEXT};

pub use crate::Category;

/// Work allowed per rule and value: this many units per byte, plus a constant. A unit is one
/// byte a regex may examine (an upper bound: a search is charged up to its match's start plus
/// the rule's longest match, so dense matches of a long rule are charged far more than they
/// cost). A value that exceeds it for any rule is [`Exhausted`].
pub const BUDGET_PER_BYTE: u64 = 32;
pub const BUDGET_BASE: u64 = 1 << 20;
/// Units charged per byte of a capture pass (measured at about eight times a DFA scan).
const CAPTURE_COST: usize = 8;
/// Keywords must appear this close to the span.
pub const KEYWORD_WINDOW: usize = 80;

/// Errors loading rules. They name the rule, never any scanned data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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

/// A compiled rule. The regex compiles on first use (a cold start does not pay for rules
/// no value triggers); custom rules compile eagerly so a policy's mistakes show at load.
#[derive(Debug)]
pub struct Rule {
    /// The rule id, shared by every finding's [`RuleRef`](crate::RuleRef).
    pub id: Arc<str>,
    pub spec: RuleSpec,
    pub placeholder: String,
    validators: Vec<ValidatorFn>,
    keywords: Vec<Vec<u8>>,
    limit: usize,
    compiled: OnceLock<Result<compile::Compiled, String>>,
}

impl Rule {
    /// Whether the rule's `follows` gate (if any) matches at `at`: a bounded anchored match,
    /// charged as a search of its longest length.
    fn follows_at(&self, bytes: &[u8], at: usize, work: &mut Work) -> bool {
        if self.spec.follows.is_none() {
            return true;
        }
        // A rule that does not compile fails closed in the region search: keep the hit.
        let Ok(Compiled { follows: Some((gate, len)), .. }) = self.compiled() else { return true };
        let end = (at + len).min(bytes.len());
        work.searches += 1;
        work.bytes += (end - at) as u64;
        gate.is_match(Input::new(&bytes[at..end]).anchored(Anchored::Yes))
    }

    /// Compiles the rule's regex now rather than on first use (to warm a process or time it).
    pub fn prepare(&self) -> Result<(), &str> {
        self.compiled().map(|_| ())
    }

    fn compiled(&self) -> Result<&compile::Compiled, &str> {
        self.compiled
            .get_or_init(|| {
                compile::compile(&self.spec.pattern, self.limit, self.spec.window, self.spec.follows.as_deref())
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// A confirmed finding: byte span in the scanned text and the index of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
}

/// A value whose matching needed more work than its budget: it must not be passed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value needs more matching work than its budget allows")]
pub struct Exhausted;

/// What matching one value cost (for the complexity tests and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Bytes the regexes may have examined (an upper bound).
    pub bytes: u64,
    /// Regex searches.
    pub searches: u64,
    /// Anchors found by the literal and numeric-run passes.
    pub anchors: u64,
    /// Bytes the literal and numeric-run passes read.
    pub scanned: u64,
    /// Tree nodes the sanitizer's walk visited, plus its probes for unique map keys.
    pub nodes: u64,
}

impl Work {
    pub fn add(&mut self, other: &Work) {
        self.bytes += other.bytes;
        self.searches += other.searches;
        self.anchors += other.anchors;
        self.scanned += other.scanned;
        self.nodes += other.nodes;
    }

    /// One figure for growth comparisons: every unit of work above.
    pub fn total(&self) -> u64 {
        self.bytes + self.searches + self.anchors + self.scanned + self.nodes
    }
}

/// For one prefilter literal: the rules anchored on it and, when it is case-sensitive, its
/// exact bytes.
type LiteralOwners = (Vec<u32>, Option<Vec<u8>>);

struct Inner {
    rules: Vec<Rule>,
    /// Every rule's literals in one automaton (matching ASCII case-insensitively, one pass),
    /// with, per pattern, the rules that use it and, for a case-sensitive literal, the exact
    /// bytes a hit must have.
    literals: Option<(AhoCorasick, Vec<LiteralOwners>)>,
    /// Rules anchored on numeric runs: (rule, fewest digits).
    digit_rules: Vec<(u32, usize)>,
    /// Rules anchored on literals that also need a numeric run of this many digits somewhere.
    /// Per rule: the digits its literal anchors also need in one numeric run (0: none).
    digit_gates: Vec<usize>,
    /// Rules with no prefilter (custom detectors may have none): the whole value is their
    /// one region, still searched in bounded chunks.
    unanchored: Vec<u32>,
    needs_runs: bool,
}

/// All detectors, compiled once. Cloning shares them.
#[derive(Clone)]
pub struct Detectors(Arc<Inner>);

impl std::fmt::Debug for Detectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detectors").field("rules", &self.0.rules.len()).finish()
    }
}

fn invalid(id: &str, reason: impl Into<String>) -> RulesError {
    RulesError::Invalid { id: id.to_string(), reason: reason.into() }
}

/// Checks one rule and proves its prefilter (the pattern must compile too).
pub fn check_rule(spec: &RuleSpec) -> Result<(), RulesError> {
    let limit = if spec.family == "keys" { MAX_MATCH_KEYS } else { MAX_MATCH };
    compile::compile(&spec.pattern, limit, spec.window, spec.follows.as_deref())
        .map_err(|reason| RulesError::Pattern { id: spec.id.clone(), reason })?;
    if !spec.prefilter.is_empty() {
        let ok = compile::prove_literals(&spec.pattern, &spec.prefilter, spec.case_insensitive())
            .map_err(|reason| RulesError::Pattern { id: spec.id.clone(), reason })?;
        if !ok {
            return Err(invalid(
                &spec.id,
                "a match need not contain any of its prefilter literals: the prefilter would hide it",
            ));
        }
    }
    // `min_digits` needs no proof: the engine refuses any candidate whose match has fewer
    // digits in one numeric run, so anchoring on runs with that many digits is exact.
    if spec.min_digits == Some(0) {
        return Err(invalid(&spec.id, "min_digits must be at least 1"));
    }
    Ok(())
}

impl Detectors {
    /// The built-in rule set.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::build(builtin_specs().to_vec(), false)
    }

    /// The ids of every built-in rule (whether or not enabled).
    pub fn builtin_ids() -> Vec<String> {
        builtin_specs().iter().map(|r| r.id.clone()).collect()
    }

    /// Compiles rules, checking and proving each one now (custom detectors, tests).
    pub fn compile(specs: Vec<RuleSpec>) -> Result<Self, RulesError> {
        Self::build(specs, true)
    }

    /// Built-in rules plus custom ones: the built-ins were proved by the test suite and
    /// compile lazily; the custom ones are checked now.
    pub fn with_custom(builtin: Vec<RuleSpec>, custom: Vec<RuleSpec>) -> Result<Self, RulesError> {
        let n = builtin.len();
        let mut all = builtin;
        all.extend(custom);
        Self::build_with(all, |i| i >= n)
    }

    fn build(specs: Vec<RuleSpec>, eager: bool) -> Result<Self, RulesError> {
        Self::build_with(specs, |_| eager)
    }

    fn build_with(specs: Vec<RuleSpec>, eager: impl Fn(usize) -> bool) -> Result<Self, RulesError> {
        let mut seen = std::collections::HashSet::new();
        let mut rules = Vec::with_capacity(specs.len());
        // literal (as matched) -> rules, separately for each case mode
        let mut lits: [Vec<(Vec<u8>, Vec<u32>)>; 2] = [Vec::new(), Vec::new()];
        let mut index: [std::collections::HashMap<Vec<u8>, usize>; 2] = Default::default();
        let (mut digit_rules, mut digit_gates, mut unanchored) = (Vec::new(), Vec::new(), Vec::new());
        for (i, spec) in specs.into_iter().enumerate() {
            if !seen.insert(spec.id.clone()) {
                return Err(RulesError::Duplicate(spec.id));
            }
            if spec.label.is_empty()
                || !spec.label.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
            {
                return Err(invalid(&spec.id, "label must be UPPER_SNAKE_CASE"));
            }
            if spec.prefilter.iter().any(String::is_empty) {
                return Err(invalid(&spec.id, "prefilter literals are non-empty"));
            }
            let mut validators = Vec::with_capacity(spec.validators.len());
            for v in &spec.validators {
                validators
                    .push(validators::lookup(v).ok_or_else(|| invalid(&spec.id, format!("unknown validator `{v}`")))?);
            }
            if eager(i) {
                check_rule(&spec)?;
            }
            let idx = rules.len() as u32;
            let ci = spec.case_insensitive();
            let mode = ci as usize;
            for lit in &spec.prefilter {
                let key: Vec<u8> = if ci { lit.to_ascii_lowercase().into_bytes() } else { lit.clone().into_bytes() };
                let slot = *index[mode].entry(key.clone()).or_insert_with(|| {
                    lits[mode].push((key, Vec::new()));
                    lits[mode].len() - 1
                });
                if !lits[mode][slot].1.contains(&idx) {
                    lits[mode][slot].1.push(idx);
                }
            }
            match (spec.prefilter.is_empty(), spec.min_digits) {
                (true, Some(d)) => digit_rules.push((idx, d)),
                (false, Some(d)) => digit_gates.push((idx, d)),
                (true, None) => unanchored.push(idx),
                _ => {}
            }
            let limit = if spec.family == "keys" { MAX_MATCH_KEYS } else { MAX_MATCH };
            let rule = Rule {
                id: spec.id.as_str().into(),
                placeholder: format!("[REDACTED:{}]", spec.label),
                validators,
                keywords: spec.keywords.iter().map(|k| k.to_ascii_lowercase().into_bytes()).collect(),
                limit,
                compiled: OnceLock::new(),
                spec,
            };
            if eager(i) {
                let _ = rule.compiled();
            }
            rules.push(rule);
        }
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (mode, list) in lits.into_iter().enumerate() {
            for (lit, rules) in list {
                owners.push((rules, (mode == 0).then(|| lit.clone())));
                patterns.push(lit);
            }
        }
        let literals = if patterns.is_empty() {
            None
        } else {
            // A DFA: one table lookup per byte however many literals (a few thousand).
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&patterns)
                .map_err(|e| RulesError::Pattern { id: "(prefilter)".into(), reason: e.to_string() })?;
            Some((ac, owners))
        };
        let needs_runs = !digit_rules.is_empty() || !digit_gates.is_empty();
        let digit_gates = {
            let mut per_rule = vec![0; rules.len()];
            digit_gates.into_iter().for_each(|(r, d): (u32, usize)| per_rule[r as usize] = d);
            per_rule
        };
        Ok(Detectors(Arc::new(Inner { rules, literals, digit_rules, digit_gates, unanchored, needs_runs })))
    }

    pub fn rules(&self) -> &[Rule] {
        &self.0.rules
    }

    /// Confirmed findings in `text`, merged so that no two overlap, in order.
    pub fn find(&self, text: &str) -> Result<Vec<Finding>, Exhausted> {
        let mut work = Work::default();
        self.scan(text, "", None, true, &mut work)
    }

    /// [`find`](Self::find) with the name the value is stored under as context (`version`,
    /// `order_id`): validators and keywords near the start of the value see it as the text
    /// before the value, so `{"version": "10.2.0.1"}` reads like `version 10.2.0.1`. Also
    /// returns the work it took.
    pub fn find_counted(&self, text: &str, context: &str) -> (Result<Vec<Finding>, Exhausted>, Work) {
        let mut work = Work::default();
        let r = self.scan(text, context, None, true, &mut work);
        (r, work)
    }

    /// Findings of one rule alone, unmerged (the rule self-tests).
    pub fn find_rule(&self, idx: usize, text: &str) -> Result<Vec<Finding>, Exhausted> {
        let mut work = Work::default();
        self.scan(text, "", Some(idx), true, &mut work)
    }

    /// Findings of one rule alone and what they cost (for rule authors: `examples/rule_cost.rs`).
    pub fn find_rule_counted(&self, idx: usize, text: &str) -> (Result<Vec<Finding>, Exhausted>, Work) {
        let mut work = Work::default();
        let r = self.scan(text, "", Some(idx), true, &mut work);
        (r, work)
    }

    /// Findings of one rule alone with its `follows` gate off (the tests that check a gate
    /// only skips hits the rule's regex would reject anyway).
    pub fn find_rule_ungated(&self, idx: usize, text: &str) -> Result<Vec<Finding>, Exhausted> {
        let mut work = Work::default();
        self.scan(text, "", Some(idx), false, &mut work)
    }

    fn scan(
        &self,
        text: &str,
        context: &str,
        only: Option<usize>,
        gates: bool,
        work: &mut Work,
    ) -> Result<Vec<Finding>, Exhausted> {
        let inner = &*self.0;
        let bytes = text.as_bytes();
        let n = bytes.len();
        let budget = BUDGET_PER_BYTE * n as u64 + BUDGET_BASE;
        // Numeric runs first: a literal anchor of a rule that also needs more digits than any
        // run has is skipped at once.
        let runs = if inner.needs_runs {
            work.scanned += n as u64;
            numeric_runs(bytes)
        } else {
            Vec::new()
        };
        let max_run = runs.iter().map(|r| r.2).max().unwrap_or(0);
        // 1. Anchors: literal hits, bucketed by rule (hits arrive in order of their end).
        let mut hits: Vec<(u32, u32, u32)> = Vec::new();
        if let Some((ac, owners)) = &inner.literals {
            work.scanned += n as u64;
            for m in ac.find_overlapping_iter(bytes) {
                let (rules, exact) = &owners[m.pattern().as_usize()];
                if exact.as_ref().is_some_and(|e| bytes[m.start()..m.end()] != e[..]) {
                    continue;
                }
                for &r in rules {
                    if only.is_none_or(|o| o == r as usize)
                        && inner.digit_gates[r as usize] <= max_run
                        && (!gates || inner.rules[r as usize].follows_at(bytes, m.end(), work))
                    {
                        hits.push((r, m.start() as u32, m.end() as u32));
                    }
                }
            }
        }
        for &(r, d) in &inner.digit_rules {
            if only.is_none_or(|o| o == r as usize) && max_run >= d {
                hits.extend(runs.iter().filter(|run| run.2 >= d).map(|run| (r, run.0 as u32, run.1 as u32)));
            }
        }
        for &r in &inner.unanchored {
            if only.is_none_or(|o| o == r as usize) && n > 0 {
                hits.push((r, 0, n as u32));
            }
        }
        work.anchors += hits.len() as u64;
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        // Counting sort by rule keeps each rule's hits in their arrival order: linear, and
        // only the rules that have hits are visited (most values wake a handful of rules).
        let mut slots = vec![0u32; inner.rules.len()];
        let mut present: Vec<u32> = Vec::new();
        for h in &hits {
            let c = &mut slots[h.0 as usize];
            if *c == 0 {
                present.push(h.0);
            }
            *c += 1;
        }
        present.sort_unstable();
        let mut bounds = Vec::with_capacity(present.len());
        let mut offset = 0u32;
        for &r in &present {
            let c = slots[r as usize];
            bounds.push((r as usize, offset as usize, (offset + c) as usize));
            slots[r as usize] = offset;
            offset += c;
        }
        let mut sorted = vec![(0u32, 0u32); hits.len()];
        for h in &hits {
            let slot = &mut slots[h.0 as usize];
            sorted[*slot as usize] = (h.1, h.2);
            *slot += 1;
        }
        // 2-3. Per rule, regions around its anchors, searched in chunks.
        let mut found = Vec::new();
        for (r, a, b) in bounds {
            let rule = &inner.rules[r];
            let Ok(compiled) = rule.compiled() else {
                // A built-in rule that does not compile cannot happen (the test suite
                // compiles them all); fail closed rather than pass the value through.
                return Err(Exhausted);
            };
            let max_len = compiled.max_len;
            // Each rule gets the same budget: the bound on a value's work is then linear in
            // its length for a fixed rule set.
            let budget = work.bytes + budget;
            let mut region: Option<(usize, usize)> = None;
            for &(s, e) in &sorted[a..b] {
                let (ws, we) = ((s as usize).saturating_sub(max_len), (e as usize + max_len).min(n));
                region = match region {
                    Some((rs, re)) if ws <= re => Some((rs.min(ws), re.max(we))),
                    Some(done) => {
                        search_region(rule, compiled, r, text, context, done, &mut found, work, budget)?;
                        Some((ws, we))
                    }
                    None => Some((ws, we)),
                };
            }
            if let Some(done) = region {
                search_region(rule, compiled, r, text, context, done, &mut found, work, budget)?;
            }
        }
        Ok(if only.is_some() { found } else { merge(found) })
    }

    /// Replaces every finding with its rule's placeholder; `None` when nothing was found.
    pub fn redact(&self, text: &str) -> Result<Option<String>, Exhausted> {
        let findings = self.find(text)?;
        if findings.is_empty() {
            return Ok(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in findings {
            out.push_str(&text[last..f.start]);
            out.push_str(&self.0.rules[f.rule].placeholder);
            last = f.end;
        }
        out.push_str(&text[last..]);
        Ok(Some(out))
    }
}

/// Maximal numeric runs with at least one digit, trimmed to their first and last digit:
/// (start, end, digits).
fn numeric_runs(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let (mut last, mut digits) = (i, 0);
        while i < bytes.len() && is_run_byte(bytes[i]) {
            if bytes[i].is_ascii_digit() {
                digits += 1;
                last = i;
            }
            i += 1;
        }
        out.push((start, last + 1, digits));
    }
    out
}

/// The most digits in one numeric run of `bytes`.
fn run_digits(bytes: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for &b in bytes {
        if b.is_ascii_digit() {
            cur += 1;
        } else if !is_run_byte(b) {
            best = best.max(cur);
            cur = 0;
        }
    }
    best.max(cur)
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

fn has_keyword(bytes: &[u8], start: usize, end: usize, keywords: &[Vec<u8>]) -> bool {
    let window = &bytes[start.saturating_sub(KEYWORD_WINDOW)..(end + KEYWORD_WINDOW).min(bytes.len())];
    keywords.iter().any(|k| window.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k)))
}

/// Searches one region `[rs, re)` for the rule's matches: in chunks whose matches must start
/// in the first `step` bytes (a match is at most `max_len` long, so it ends inside the
/// chunk), resuming after each confirmed match or one byte after each rejected candidate.
#[allow(clippy::too_many_arguments)]
fn search_region(
    rule: &Rule,
    c: &compile::Compiled,
    idx: usize,
    text: &str,
    context: &str,
    (rs, re): (usize, usize),
    found: &mut Vec<Finding>,
    work: &mut Work,
    budget: u64,
) -> Result<(), Exhausted> {
    let bytes = text.as_bytes();
    let step = (4 * c.max_len).max(8192);
    let mut caps = c.span_group.map(|_| c.regex.create_captures());
    let mut pos = rs;
    let mut chunk = rs;
    while chunk < re {
        let limit = (chunk + step).min(re);
        let end = (limit + c.max_len).min(re);
        pos = pos.max(chunk);
        while pos < limit {
            work.searches += 1;
            let input = Input::new(bytes).range(pos..end);
            let m = match &mut caps {
                None => c.regex.search(&input),
                Some(caps) => {
                    c.regex.search_captures(&input, caps);
                    caps.get_match()
                }
            };
            let Some(m) = m else {
                work.bytes += (end - pos) as u64;
                pos = limit;
                break;
            };
            // Forward scan to the match's start plus its longest extension, reverse scan of
            // the match, and the capture pass over it, charged at CAPTURE_COST a byte (it
            // runs a slower engine than the DFA scans).
            let capture = if c.span_group.is_some() { CAPTURE_COST * m.len() } else { 0 };
            work.bytes += ((m.start() + c.max_len).min(end) - pos + m.len() + capture) as u64;
            if work.bytes > budget {
                return Err(Exhausted);
            }
            if m.start() >= limit {
                pos = limit;
                break;
            }
            // A windowed match cut by its window's end may run on: fail closed.
            if c.windowed && m.end() == end && end < bytes.len() {
                return Err(Exhausted);
            }
            let (s, e) = match (&caps, c.span_group) {
                (Some(caps), Some(g)) => span_of(caps, g).unwrap_or((m.start(), m.end())),
                _ => (m.start(), m.end()),
            };
            let (s, e) = (floor_char(text, s), ceil_char(text, e));
            let digits_ok = rule.spec.min_digits.is_none_or(|d| run_digits(&bytes[m.start()..m.end()]) >= d);
            let context = if rule.spec.name_context { context } else { "" };
            if s < e && digits_ok && confirm(rule, text, context, s, e) {
                found.push(Finding { start: s, end: e, rule: idx });
                pos = m.end().max(m.start() + 1);
            } else {
                // Every match starting before the rejected span's start shares that span
                // (the rule's text before its span leads into it), so none of them can
                // confirm: resume at the span, not one byte on.
                pos = (m.start() + 1).max(s);
            }
        }
        chunk = limit;
    }
    Ok(())
}

fn span_of(caps: &Captures, group: usize) -> Option<(usize, usize)> {
    caps.get_group(group).map(|s| (s.start, s.end))
}

fn confirm(rule: &Rule, text: &str, context: &str, s: usize, e: usize) -> bool {
    let near = &text[floor_char(text, s.saturating_sub(CONTEXT))..s];
    // Near the start of the value, the name it is stored under reads as the text before it.
    let joined;
    let before = if s < CONTEXT && !context.is_empty() {
        let room = CONTEXT - near.len();
        let tail = &context[floor_char(context, context.len().saturating_sub(room))..];
        joined = format!("{tail}{near}");
        joined.as_str()
    } else {
        near
    };
    let after = &text[e..ceil_char(text, (e + CONTEXT).min(text.len()))];
    let span = &text[s..e];
    rule.validators.iter().all(|v| v(span, before, after))
        && (rule.keywords.is_empty()
            || has_keyword(text.as_bytes(), s, e, &rule.keywords)
            || (s < KEYWORD_WINDOW && has_keyword(context.as_bytes(), context.len(), context.len(), &rule.keywords)))
}

fn merge(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
    // Earliest first; at the same start the longest wins.
    found.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    merged
}
