//! # dynamo-shadow
//!
//! Keeps a redacted **shadow copy** of a DynamoDB table so that LLM workloads are only ever
//! granted data with secrets and PII removed. A DynamoDB Streams-triggered Lambda
//! (`shadow-lambda`) sanitizes every changed item and writes it to the shadow table; the
//! `dynamo-shadow` CLI covers the rest of the lifecycle (dry runs, policy checks, backfill, verify).
//!
//! The crate is a core with no I/O plus thin adapters:
//!
//! | module | what it is |
//! |---|---|
//! | [`item`] | DynamoDB items: JSON codec with value-free errors, service limits |
//! | [`names`] | attribute-name normalisation and sensitive-name dictionary |
//! | [`detect`] | secret and PII detectors, compiled once from `rules/builtin.toml` |
//! | [`policy`] | the reviewed policy file and its fingerprint |
//! | [`engine`] | the sanitizer: one pure walk over an `AttributeValue` tree |
//! | [`store`] | the shadow table's layout and conditional, sequence-guarded writes |
//! | [`eval`] | the labeled evaluation corpus behind the recall and precision figures |
//! | [`lambda`] | the Lambda adapter: stream batch in, ordered writes, partial failures out |
//! | [`backfill`] | fill the shadow table from a parallel Scan, safely racing the stream |
//! | [`verify`] | reconcile shadow against source, and the leak audit |
//! | [`redrive`] | re-apply dead-lettered stream batches, read back from the stream |
//! | [`metrics`] | CloudWatch Embedded Metric Format lines (counts only, never values) |
//!
//! ```
//! use dynamo_shadow::{item::parse_item, Sanitizer};
//! let item = parse_item(&serde_json::json!({
//!     "pk": {"S": "user#1"},
//!     "api_key": {"S": "sk_live_0123456789abcdefghij"},
//!     "bio": {"S": "write to alice@example.com"}
//! })).unwrap();
//! let (clean, _report) = Sanitizer::default_policy().sanitize(&item, &["pk"]).unwrap();
//! assert!(!clean.contains_key("api_key"));
//! assert_eq!(clean["bio"], dynamo_shadow::AttributeValue::S("write to [REDACTED:EMAIL]".into()));
//! ```

pub mod backfill;
pub mod detect;
pub mod engine;
pub mod eval;
#[doc(hidden)]
pub mod fuzzing;
pub mod item;
pub mod lambda;
pub mod metrics;
pub mod names;
pub mod policy;
pub mod redrive;
pub mod store;
pub mod verify;

pub use detect::{Category, Detectors};
pub use engine::{Report, SanitizeError, Sanitizer};
pub use item::{AttributeValue, Item};
pub use lambda::{Config, StreamHandler};
pub use policy::Policy;
pub use store::{DynamoStore, ShadowStore};
