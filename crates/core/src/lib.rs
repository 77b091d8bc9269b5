//! # dynamo-shadow-core
//!
//! The sanitizer of [dynamo-shadow](https://github.com/dynamo-shadow/dynamo-shadow): given a
//! DynamoDB item and a reviewed policy, it returns the item with secrets and PII removed, or
//! an error saying (without quoting any value) why it cannot do so with certainty. No I/O,
//! no AWS, no async: the Lambda adapter, the CLI and the Python package all wrap this crate.
//!
//! | module | what it is |
//! |---|---|
//! | [`item`] | DynamoDB items: the one JSON codec (value-free errors), service limits |
//! | [`path`] | where a value is, with a `Display` that never shows a data-like map key |
//! | [`names`] | attribute-name normalisation and the sensitive-name dictionary |
//! | [`detect`] | secret and PII detectors, compiled once from `rules/*.toml` |
//! | [`policy`] | the reviewed policy file and its fingerprint |
//! | [`sanitize`] | the sanitizer: one walk over an item, its [`Report`] and the leak audit |
//!
//! ```
//! use dynamo_shadow_core::{item::parse_item, AttributeValue, Sanitizer};
//! let item = parse_item(&serde_json::json!({
//!     "pk": {"S": "user#1"},
//!     "api_key": {"S": "sk_live_0123456789abcdefghij"},
//!     "bio": {"S": "write to alice@example.com"}
//! })).unwrap();
//! let (clean, _report) = Sanitizer::default_policy().sanitize(&item, &["pk"]).unwrap();
//! assert!(!clean.contains_key("api_key"));
//! assert_eq!(clean["bio"], AttributeValue::S("write to [REDACTED:EMAIL]".into()));
//! ```

mod category;
pub mod detect;
mod embedded;
pub mod item;
pub mod names;
pub mod path;
pub mod policy;
pub mod sanitize;

pub use category::Category;
pub use detect::Detectors;
pub use item::{decode_item, AttributeValue, Checked, Item, ItemError, ItemErrorKind};
pub use path::Path;
pub use policy::{Action, IndexSpec, KeyType, Policy, PolicyError};
pub use sanitize::{BuildError, Decision, Redactor, Report, RuleRef, SanitizeError, Sanitizer};
