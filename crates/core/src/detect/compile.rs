//! Compiling one rule: its regex, its longest match, and the proof that its literal
//! prefilter is sound (every match contains a declared literal), so a rule can never be
//! silently disabled by a literal its pattern does not require. (`min_digits` needs no proof:
//! the matcher refuses candidates with fewer digits in one run, so it is exact by construction.)

use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_syntax::hir::{Class, Hir, HirKind};

/// The longest a match may be, in bytes: the engine confirms each anchor in a window of this
/// size, so it must be bounded.
pub const MAX_MATCH: usize = 1024;
/// Key material (PEM blocks, PuTTY files) is longer.
pub const MAX_MATCH_KEYS: usize = 16 * 1024;

/// The longest a `follows` gate may match: it runs at every hit of a rule's literals.
pub const FOLLOWS_MAX: usize = 64;

/// Bytes that make up a numeric run: digits and the separators phone, card and id numbers use.
pub fn is_run_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+')
}

/// A compiled pattern.
#[derive(Debug)]
pub struct Compiled {
    pub regex: Regex,
    /// The capture group named `s` (the span to redact), if any.
    pub span_group: Option<usize>,
    pub max_len: usize,
    /// `max_len` is the rule's declared window, not the pattern's own bound: a match that
    /// reaches the end of its search window may run on past it, so it fails closed.
    pub windowed: bool,
    /// The rule's `follows` gate and its longest match.
    pub follows: Option<(Regex, usize)>,
}

fn syntax_config() -> syntax::Config {
    // Bytes with Unicode off: ASCII classes compile and scan far faster, and the haystack
    // may be cut anywhere; spans are widened to character boundaries after matching.
    syntax::Config::new().unicode(false).utf8(false)
}

/// Parses a pattern to its HIR (for the proofs and the length bound).
pub fn hir(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern).map_err(|e| e.to_string())
}

/// Compiles a pattern whose longest match must be at most `limit` bytes, or, for a pattern
/// with unbounded repetitions (a key block between its armor lines), which is searched in
/// windows of the declared `window` bytes (at most `limit`). Large counted repetitions
/// (`[\s\S]{1,12000}`) are what make an automaton slow; `window` lets a rule say `+?` instead.
pub fn compile(pattern: &str, limit: usize, window: Option<usize>, follows: Option<&str>) -> Result<Compiled, String> {
    let h = hir(pattern)?;
    let props = h.properties();
    let (max_len, windowed) = match (props.maximum_len(), window) {
        (_, Some(w)) if w > limit => return Err(format!("its window is {w} bytes; the limit is {limit}")),
        (_, Some(w)) => (w, true),
        (Some(n), None) if n <= limit => (n, false),
        (Some(n), None) => {
            return Err(format!(
                "its longest match is {n} bytes; the limit is {limit} (bound every repetition, or declare a window)"
            ))
        }
        (None, None) => {
            return Err(format!(
                "its matches are unbounded; the limit is {limit} bytes (bound every repetition, or declare a window)"
            ))
        }
    };
    if props.minimum_len().unwrap_or(0) == 0 {
        return Err("it can match the empty string".into());
    }
    let regex = Regex::builder()
        .syntax(syntax_config())
        // No internal prefilter: the literal pass already found the anchors, and inside a
        // dense window (a run of digits for a digit rule) a prefilter hit at every other
        // byte costs six times a plain DFA scan.
        .configure(
            Regex::config()
                .utf8_empty(false)
                .nfa_size_limit(Some(64 << 20))
                .auto_prefilter(false)
                // No full or one-pass DFAs: with hundreds of rules they cost a third of the
                // compiled rules' memory and, on windows this short, were slower (measured:
                // 13.0 against 11.5 MB/s on the blind corpus) than the lazy DFA alone.
                .dfa(false)
                .onepass(false),
        )
        .build(pattern)
        .map_err(|e| e.to_string())?;
    let span_group = regex.group_info().to_index(regex_automata::PatternID::ZERO, "s");
    let follows = match follows {
        None => None,
        Some(f) => {
            let len = match hir(f).map_err(|e| format!("its `follows` pattern: {e}"))?.properties().maximum_len() {
                Some(n) if n <= FOLLOWS_MAX => n,
                _ => return Err(format!("its `follows` pattern must match at most {FOLLOWS_MAX} bytes")),
            };
            let gate = Regex::builder()
                .syntax(syntax_config())
                .configure(Regex::config().utf8_empty(false).auto_prefilter(false))
                .build(f)
                .map_err(|e| format!("its `follows` pattern: {e}"))?;
            Some((gate, len))
        }
    };
    Ok(Compiled { regex, span_group, max_len, windowed, follows })
}

const EXACT_CAP: usize = 512;

fn lower(b: u8, ci: bool) -> u8 {
    if ci {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// Every string `h` can match, when there are few (literals, small classes, short
/// concatenations and alternations of them). Lower-cased when literals match ignoring case.
fn exact(h: &Hir, ci: bool) -> Option<Vec<Vec<u8>>> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.iter().map(|&b| lower(b, ci)).collect()]),
        HirKind::Class(c) => {
            let mut bytes: Vec<u8> = match c {
                Class::Bytes(c) => c.ranges().iter().flat_map(|r| r.start()..=r.end()).map(|b| lower(b, ci)).collect(),
                Class::Unicode(c) => {
                    let mut out = Vec::new();
                    for r in c.ranges() {
                        if r.end() as u32 > 0x7f || (r.end() as u32 - r.start() as u32) > 64 {
                            return None;
                        }
                        out.extend((r.start() as u8..=r.end() as u8).map(|b| lower(b, ci)));
                    }
                    out
                }
            };
            bytes.sort_unstable();
            bytes.dedup();
            (bytes.len() <= 8).then(|| bytes.into_iter().map(|b| vec![b]).collect())
        }
        HirKind::Capture(c) => exact(&c.sub, ci),
        HirKind::Concat(v) => {
            let mut acc = vec![Vec::new()];
            for child in v {
                acc = cross(&acc, &exact(child, ci)?)?;
            }
            Some(acc)
        }
        HirKind::Alternation(v) => {
            let mut out = Vec::new();
            for child in v {
                out.extend(exact(child, ci)?);
                if out.len() > EXACT_CAP {
                    return None;
                }
            }
            out.sort();
            out.dedup();
            Some(out)
        }
        HirKind::Repetition(r) if r.max.is_some_and(|m| m <= 8 && (m == r.min || m <= 2)) => {
            let one = exact(&r.sub, ci)?;
            let mut acc = vec![Vec::new()];
            for _ in 0..r.min {
                acc = cross(&acc, &one)?;
            }
            let mut all = acc.clone();
            for _ in r.min..r.max.unwrap_or(r.min) {
                acc = cross(&acc, &one)?;
                all.extend(acc.iter().cloned());
                if all.len() > EXACT_CAP {
                    return None;
                }
            }
            all.sort();
            all.dedup();
            Some(all)
        }
        _ => None,
    }
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > EXACT_CAP {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.push(s);
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

fn contains_any(s: &[u8], lits: &[Vec<u8>]) -> bool {
    lits.iter().any(|l| !l.is_empty() && s.windows(l.len()).any(|w| w == l.as_slice()))
}

/// Does every match of `h` contain one of `lits` (already lower-cased when `ci`)? `budget`
/// bounds the work (alternatives are distributed over concatenations, which can multiply);
/// running out answers no, which refuses the rule rather than trusting it.
fn proves(h: &Hir, lits: &[Vec<u8>], ci: bool, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    if let Some(set) = exact(h, ci) {
        if !set.is_empty() && set.iter().all(|s| contains_any(s, lits)) {
            return true;
        }
    }
    match h.kind() {
        HirKind::Capture(c) => proves(&c.sub, lits, ci, budget),
        HirKind::Repetition(r) if r.min >= 1 => proves(&r.sub, lits, ci, budget),
        HirKind::Alternation(v) => v.iter().all(|c| proves(c, lits, ci, budget)),
        HirKind::Concat(v) => {
            if v.iter().any(|c| proves(c, lits, ci, budget)) {
                return true;
            }
            // A literal can straddle adjacent children: try each run of children with
            // small exact sets.
            for i in 0..v.len() {
                let mut acc = vec![Vec::new()];
                for child in &v[i..] {
                    let Some(set) = exact(child, ci) else { break };
                    let Some(next) = cross(&acc, &set) else { break };
                    acc = next;
                    if acc.iter().all(|s| contains_any(s, lits)) {
                        return true;
                    }
                }
            }
            // The parser factors alternatives' common prefixes out (`ssn|social` becomes
            // `s(?:sn|ocial)`) and optional parts split literals: distribute the first
            // alternation (or optional part) over the concatenation and prove each case.
            let split = v.iter().position(|c| match c.kind() {
                HirKind::Alternation(_) => true,
                HirKind::Repetition(r) => r.min == 0 && r.max == Some(1),
                HirKind::Capture(c) => matches!(c.sub.kind(), HirKind::Alternation(_)),
                _ => false,
            });
            let Some(i) = split else { return false };
            let cases: Vec<Hir> = match v[i].kind() {
                HirKind::Alternation(alts) => alts.clone(),
                HirKind::Capture(c) => match c.sub.kind() {
                    HirKind::Alternation(alts) => alts.clone(),
                    _ => return false,
                },
                HirKind::Repetition(r) => vec![Hir::empty(), (*r.sub).clone()],
                _ => return false,
            };
            cases.into_iter().all(|case| {
                let mut w = v.clone();
                w[i] = case;
                proves(&Hir::concat(w), lits, ci, budget)
            })
        }
        _ => false,
    }
}

/// Proves that every match of `pattern` contains one of `literals`.
pub fn prove_literals(pattern: &str, literals: &[String], ci: bool) -> Result<bool, String> {
    let h = hir(pattern)?;
    let lits: Vec<Vec<u8>> = literals.iter().map(|l| l.bytes().map(|b| lower(b, ci)).collect()).collect();
    Ok(proves(&h, &lits, ci, &mut 20_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pattern: &str, lits: &[&str]) -> bool {
        let lits: Vec<String> = lits.iter().map(|s| s.to_string()).collect();
        prove_literals(pattern, &lits, pattern.starts_with("(?i)")).unwrap()
    }

    #[test]
    fn literal_proofs_accept_what_every_match_contains_and_nothing_else() {
        assert!(p(r"\bghp_[A-Za-z0-9]{36}\b", &["ghp_"]));
        assert!(p(r"\b(?:ghp|gho|ghu)_[A-Za-z0-9]{36}", &["ghp_", "gho_", "ghu_"]));
        assert!(p(r"\bgh[pous]_[A-Za-z0-9]{36}", &["ghp_", "gho_", "ghu_", "ghs_"]));
        assert!(p(r"(?i)(?:password|passwd)\s{0,3}[:=]\s{0,3}\S{4,64}", &["passw"]));
        assert!(p(r"(?i)secret_?access_?key[=:]\S{40}", &["secret"]));
        assert!(p(r"[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}", &["@"]));
        // A literal the pattern does not require would disable the rule for some matches.
        assert!(!p(r"\b(?:ghp|gho)_[A-Za-z0-9]{36}", &["ghp_"]));
        assert!(!p(r"(?:sk|rk)_live_[0-9a-z]{24}", &["sk_live"]));
        assert!(!p(r"x{0,3}ghp_", &["xghp"]));
        assert!(!p(r"[A-Za-z0-9]{40}", &["a"]));
    }

    #[test]
    fn patterns_must_be_bounded_and_non_empty() {
        assert!(compile(r"ghp_[A-Za-z0-9]+", MAX_MATCH, None, None).unwrap_err().contains("unbounded"));
        assert!(compile(r"a{0,2000}b", MAX_MATCH, None, None).unwrap_err().contains("2001"));
        assert!(compile(r"a{0,3}", MAX_MATCH, None, None).unwrap_err().contains("empty"));
        let c = compile(r"key=(?P<s>[a-z]{4,8})", MAX_MATCH, None, None).unwrap();
        assert_eq!((c.span_group, c.max_len), (Some(1), 12));
        // A `follows` gate is bounded too, and short: it runs at every literal hit.
        assert!(compile("key=(?P<s>a)", MAX_MATCH, None, Some("x+")).unwrap_err().contains("follows"));
        assert!(compile("key=(?P<s>a)", MAX_MATCH, None, Some("x{65}")).unwrap_err().contains("64"));
        assert_eq!(compile("key=(?P<s>a)", MAX_MATCH, None, Some("[ =]{0,3}")).unwrap().follows.map(|f| f.1), Some(3));
    }
}
