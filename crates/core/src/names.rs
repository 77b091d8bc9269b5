//! Attribute-name rules: one normalisation for every naming style, and a dictionary of
//! sensitive name phrases.
//!
//! A name is sensitive when it *ends* with a sensitive phrase (optionally followed by a
//! "carrier" word such as `value` or `hash`): `stripeSecretKey`, `db_password`, `X-Api-Key`,
//! `refresh_token`. What a name ends with says what it holds, so benign neighbours that only
//! mention a phrase (`token_count`, `password_updated_at`, `api_key_last_rotated`) are not
//! dropped for their name alone; their values are still scanned by the detectors.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::Category;

/// Splits a name into lowercase word tokens: `stripeSecretKey`, `STRIPE_SECRET_KEY`,
/// `stripe-secret-key`, `X-Api-Key` and `APIKey` all tokenize by the same rules.
pub fn tokenize(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            // camelCase boundary, or the last capital of an acronym before a word: "APIKey" -> API|Key.
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
                || (prev.is_ascii_digit() != c.is_ascii_digit() && c.is_alphabetic() && prev.is_ascii_digit());
            if boundary {
                tokens.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}

/// The normalised form of a name: its tokens joined by `_` (`X-Api-Key` -> `x_api_key`).
pub fn normalize(name: &str) -> String {
    tokenize(name).join("_")
}

/// The sensitive-name dictionary, as data.
pub fn attribute_names() -> &'static str {
    crate::embedded::embedded!("attribute_names.toml")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamesFile {
    carriers: Vec<String>,
    compact_suffixes: Vec<(String, String)>,
    phrase: Vec<PhraseDef>,
    tests: NameTests,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhraseDef {
    phrase: String,
    category: Category,
}

/// Names the dictionary's own tests require to be dropped and kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameTests {
    pub sensitive: Vec<String>,
    pub benign: Vec<String>,
}

/// The compiled name dictionary.
#[derive(Debug, Clone)]
pub struct NameRules {
    /// phrase (tokens joined by " ", and also the compact form joined by "") -> (phrase, category)
    phrases: HashMap<String, (Arc<str>, Category)>,
    carriers: HashSet<String>,
    /// (ending, phrase reported, its category)
    compact: Vec<(String, Arc<str>, Category)>,
    listed: Vec<(Arc<str>, Category)>,
    tests: NameTests,
}

/// Why a name was judged sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatch {
    pub phrase: Arc<str>,
    pub category: Category,
}

impl NameRules {
    /// The built-in dictionary (`rules/attribute_names.toml`), parsed once per process.
    pub fn builtin() -> &'static NameRules {
        static RULES: OnceLock<NameRules> = OnceLock::new();
        RULES.get_or_init(|| Self::parse(attribute_names()).expect("rules/attribute_names.toml parses"))
    }

    /// Parses a dictionary file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: NamesFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let mut phrases = HashMap::new();
        let mut listed = Vec::new();
        for p in file.phrase {
            let phrase: Arc<str> = p.phrase.as_str().into();
            phrases.insert(p.phrase.clone(), (phrase.clone(), p.category));
            phrases.insert(p.phrase.replace(' ', ""), (phrase.clone(), p.category));
            listed.push((phrase, p.category));
        }
        let mut compact = Vec::new();
        for (ending, reported) in file.compact_suffixes {
            let (phrase, category) = phrases
                .get(&reported)
                .cloned()
                .ok_or_else(|| format!("compact suffix `{ending}` reports `{reported}`, which is not a phrase"))?;
            compact.push((ending, phrase, category));
        }
        Ok(NameRules { phrases, carriers: file.carriers.into_iter().collect(), compact, listed, tests: file.tests })
    }

    /// Every phrase (for `dynamo-shadow rules`).
    pub fn phrases(&self) -> impl Iterator<Item = (&str, Category)> {
        self.listed.iter().map(|(p, c)| (&**p, *c))
    }

    /// The dictionary's own test names.
    pub fn tests(&self) -> &NameTests {
        &self.tests
    }

    /// Is this attribute name sensitive on its own?
    pub fn check(&self, name: &str) -> Option<NameMatch> {
        let tokens = tokenize(name);
        self.check_tokens(&tokens)
    }

    pub fn check_tokens(&self, tokens: &[String]) -> Option<NameMatch> {
        let mut end = tokens.len();
        loop {
            if let Some(m) = self.suffix_match(&tokens[..end]) {
                return Some(m);
            }
            // Strip one trailing carrier word ("password_hash" -> "password") and try again.
            if end > 1 && self.carriers.contains(&tokens[end - 1]) {
                end -= 1;
            } else {
                return None;
            }
        }
    }

    fn suffix_match(&self, tokens: &[String]) -> Option<NameMatch> {
        // Single-word compounds: "csrftoken", "githubtoken", "dbpassword".
        let last = tokens.last()?;
        for (suffix, phrase, category) in &self.compact {
            if last.len() > suffix.len() && last.ends_with(suffix.as_str()) {
                return Some(NameMatch { phrase: phrase.clone(), category: *category });
            }
        }
        for k in (1..=tokens.len().min(4)).rev() {
            let tail = &tokens[tokens.len() - k..];
            for joined in [tail.join(" "), tail.concat()] {
                if let Some((phrase, category)) = self.phrases.get(&joined) {
                    return Some(NameMatch { phrase: phrase.clone(), category: *category });
                }
            }
        }
        None
    }
}

/// What a sensitive name says its value is: the kinds text rules are written for
/// (`{names:secret}` and the others in a rule's pattern, see `rules/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Secret,
    Pii,
    /// A person's name.
    Person,
    /// A postal address (person category, an address phrase).
    Address,
}

impl NameKind {
    pub const ALL: [NameKind; 4] = [NameKind::Secret, NameKind::Pii, NameKind::Person, NameKind::Address];

    pub fn tag(self) -> &'static str {
        match self {
            NameKind::Secret => "secret",
            NameKind::Pii => "pii",
            NameKind::Person => "person",
            NameKind::Address => "address",
        }
    }

    pub fn of(phrase: &str, category: Category) -> NameKind {
        match category {
            Category::Secret => NameKind::Secret,
            Category::Pii => NameKind::Pii,
            Category::Person if is_address_phrase(phrase) => NameKind::Address,
            Category::Person => NameKind::Person,
        }
    }
}

/// A phrase naming a postal address or part of one (`billing address`, `street`, `anschrift`).
pub fn is_address_phrase(phrase: &str) -> bool {
    const ROOTS: &[&str] =
        &["address", "street", "strasse", "straße", "anschrift", "hausnummer", "house number", "adresse", "postal"];
    ROOTS.iter().any(|r| phrase.contains(r))
}

impl NameRules {
    /// Literals for finding names of one kind inside text: of each phrase, its longest ASCII
    /// word of three or more letters (every name that ends with the phrase contains it, in any
    /// naming style), and the compact endings; none that contains another.
    pub fn anchor_words(&self, kind: NameKind) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        let ascii_word = |w: &str| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        for (phrase, category) in &self.listed {
            if NameKind::of(phrase, *category) != kind {
                continue;
            }
            let best = phrase.split(' ').filter(|w| ascii_word(w)).max_by_key(|w| w.len());
            let word = best.map(str::to_string).or_else(|| {
                // Non-ASCII words (`contraseña`): their longest ASCII run of four or more.
                phrase
                    .split(|c: char| !c.is_ascii_lowercase() && !c.is_ascii_digit())
                    .filter(|w| w.len() >= 4)
                    .max_by_key(|w| w.len())
                    .map(str::to_string)
            });
            words.extend(word);
        }
        for (ending, phrase, category) in &self.compact {
            if NameKind::of(phrase, *category) == kind && ascii_word(ending) {
                words.push(ending.clone());
            }
        }
        words.sort();
        words.dedup();
        let all = words.clone();
        words.retain(|w| !all.iter().any(|o| o != w && w.contains(o.as_str())));
        words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_every_naming_style_the_same() {
        for n in ["stripeSecretKey", "STRIPE_SECRET_KEY", "stripe-secret-key", "Stripe Secret Key", "stripe.secret.key"]
        {
            assert_eq!(tokenize(n), ["stripe", "secret", "key"], "{n}");
        }
        assert_eq!(tokenize("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(tokenize("APIKey"), ["api", "key"]);
        assert_eq!(tokenize("userID2FA"), ["user", "id2", "fa"]);
        assert_eq!(normalize("AWS_SECRET_ACCESS_KEY"), "aws_secret_access_key");
    }

    #[test]
    fn the_dictionary_drops_its_sensitive_names_and_keeps_its_benign_neighbours() {
        let r = NameRules::builtin();
        let t = r.tests();
        assert!(t.sensitive.len() > 300 && t.benign.len() > 100);
        let missed: Vec<&String> = t.sensitive.iter().filter(|n| r.check(n).is_none()).collect();
        assert!(missed.is_empty(), "should be sensitive: {missed:?}");
        let dropped: Vec<&String> = t.benign.iter().filter(|n| r.check(n).is_some()).collect();
        assert!(dropped.is_empty(), "should not be sensitive by name: {dropped:?}");
        // Every phrase is exercised by a sensitive test name.
        let untested: Vec<&str> = r
            .phrases()
            .map(|(p, _)| p)
            .filter(|p| !t.sensitive.iter().any(|n| r.check(n).is_some_and(|m| &*m.phrase == *p)))
            .collect();
        assert!(untested.is_empty(), "phrases with no sensitive test name: {untested:?}");
        assert_eq!(r.check("full_name").map(|m| m.category), Some(Category::Person));
    }
}
