//! What a finding or a dropped attribute protects.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kind of data a rule protects. Policies select findings by category, metrics count
/// redactions by category, and a policy can turn a whole category's detectors off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Credentials and key material.
    Secret,
    /// Personal data: contact details, national ids, financial and health identifiers.
    Pii,
    /// Person names and postal addresses in free text.
    Person,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Secret, Category::Pii, Category::Person];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Secret => "secret",
            Category::Pii => "pii",
            Category::Person => "person",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
