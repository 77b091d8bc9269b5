//! The reviewed policy: what reaches the shadow table.
//!
//! A policy is a small TOML file. With none, [`Policy::default`] applies: sensitive
//! attribute names are dropped at any depth, every value is scanned by every built-in
//! detector, and binary that is not text is dropped.
//!
//! ```toml
//! version = 1
//! binary = "drop"                 # non-UTF-8 binary: "drop" (default) or "keep"
//!
//! [names]
//! drop = ["internal_notes"]       # more names to drop at any depth (any naming style)
//! keep = ["token_budget"]         # names never dropped for their name (values still scanned)
//!
//! [detectors]
//! disable = ["pii.ipv4"]          # built-in rule ids to turn off
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::detect::{Detectors, BUILTIN_RULES};
use crate::names;

/// Bumped when the engine's output for the same policy changes, so fingerprints move too.
const ENGINE_REVISION: &str = "engine-1";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinaryMode {
    /// Binary values that are not UTF-8 text are dropped (they cannot be scanned).
    #[default]
    Drop,
    /// Binary values that are not UTF-8 text are kept as they are.
    Keep,
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
    #[serde(default)]
    pub disable: Vec<String>,
}

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: u32,
    #[serde(default)]
    pub binary: BinaryMode,
    #[serde(default)]
    pub names: NameLists,
    #[serde(default)]
    pub detectors: DetectorSettings,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            version: 1,
            binary: BinaryMode::Drop,
            names: NameLists::default(),
            detectors: DetectorSettings::default(),
        }
    }
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
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}

/// Finds the line of the first occurrence of `needle` in a policy, for errors about values.
fn locate(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|off| line_col(text, off).0)
}

impl Policy {
    /// Parses and validates a policy. `source` names it in errors (a path, or `$SHADOW_POLICY`).
    pub fn parse(text: &str, source: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let (l, c) = line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            PolicyError {
                source: source.to_string(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        policy.validate(text, source)?;
        Ok(policy)
    }

    fn validate(&self, text: &str, source: &str) -> Result<(), PolicyError> {
        let fail = |needle: &str, message: String| PolicyError {
            source: source.to_string(),
            line: locate(text, needle),
            column: None,
            message,
        };
        if self.version != 1 {
            return Err(fail(
                "version",
                format!(
                    "unsupported policy version {} (this build reads version 1)",
                    self.version
                ),
            ));
        }
        let known: HashSet<String> = Detectors::builtin_ids().into_iter().collect();
        for id in &self.detectors.disable {
            if !known.contains(id) {
                return Err(fail(
                    id,
                    format!(
                        "unknown rule id `{id}` in detectors.disable (see `dynamo-shadow rules`)"
                    ),
                ));
            }
        }
        let drop: HashSet<String> = self
            .names
            .drop
            .iter()
            .map(|n| names::normalize(n))
            .collect();
        for n in &self.names.keep {
            if drop.contains(&names::normalize(n)) {
                return Err(fail(
                    n,
                    format!("name `{n}` is in both names.drop and names.keep"),
                ));
            }
        }
        for n in self.names.drop.iter().chain(&self.names.keep) {
            if names::normalize(n).is_empty() {
                return Err(fail(n, format!("name `{n}` has no letters or digits")));
            }
        }
        Ok(())
    }

    /// A stable hash of the normalised policy and the rule set, written on every shadow
    /// item so drift after a policy change can be found.
    pub fn fingerprint(&self) -> String {
        let normalised = NormalisedPolicy {
            version: self.version,
            binary: self.binary,
            drop: self
                .names
                .drop
                .iter()
                .map(|n| names::normalize(n))
                .collect(),
            keep: self
                .names
                .keep
                .iter()
                .map(|n| names::normalize(n))
                .collect(),
            disable: self.detectors.disable.iter().cloned().collect(),
        };
        let mut h = Sha256::new();
        h.update(ENGINE_REVISION.as_bytes());
        h.update(serde_json::to_vec(&normalised).expect("serializes"));
        h.update(BUILTIN_RULES.as_bytes());
        let digest = h.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Serialize)]
struct NormalisedPolicy {
    version: u32,
    binary: BinaryMode,
    drop: BTreeSet<String>,
    keep: BTreeSet<String>,
    disable: BTreeSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_policy() {
        let p = Policy::parse(
            "version = 1\nbinary = \"keep\"\n[names]\ndrop = [\"internal_notes\"]\nkeep = [\"tokenBudget\"]\n[detectors]\ndisable = [\"pii.ipv4\"]\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(p.binary, BinaryMode::Keep);
        assert_eq!(p.detectors.disable, ["pii.ipv4"]);
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let e = Policy::parse("version = 1\n[names]\ndorp = [\"x\"]\n", "p.toml").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
        assert!(e.message.contains("dorp"), "{e}");

        let e = Policy::parse(
            "version = 1\n[detectors]\ndisable = [\"pii.nope\"]\n",
            "p.toml",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown rule id `pii.nope`"), "{e}");

        let e = Policy::parse(
            "version = 1\n[names]\ndrop = [\"x_y\"]\nkeep = [\"xY\"]\n",
            "p.toml",
        )
        .unwrap_err();
        assert!(e.message.contains("both"), "{e}");

        let e = Policy::parse("version = 2\n", "p.toml").unwrap_err();
        assert!(e.message.contains("version 2"), "{e}");

        assert!(Policy::parse("binary = \"maybe\"\nversion = 1\n", "p.toml").is_err());
    }

    #[test]
    fn fingerprint_is_stable_under_normalisation_and_moves_with_content() {
        let a = Policy::parse(
            "version = 1\n[names]\ndrop = [\"internalNotes\", \"b\"]\n",
            "a",
        )
        .unwrap();
        let b = Policy::parse(
            "version = 1\n[names]\ndrop = [\"b\", \"internal_notes\"]\n",
            "b",
        )
        .unwrap();
        let c = Policy::parse("version = 1\n[names]\ndrop = [\"c\"]\n", "c").unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
    }
}
