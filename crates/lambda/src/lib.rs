//! # dynamo-shadow-lambda
//!
//! The Lambda adapter: a DynamoDB Streams batch in, ordered shadow writes out, and the
//! `batchItemFailures` response that keeps Lambda's retries ordered. The handler is generic
//! over the store's [`ShadowWriter`](dynamo_shadow_store::ShadowWriter), so it is tested
//! without the runtime or AWS; the `shadow-lambda` binary builds the SDK client once and
//! lends it to the handler.
//!
//! | module | what it is |
//! |---|---|
//! | [`config`] | settings from the environment, validated at cold start |
//! | [`routes`] | source table -> shadow table and sanitizer |
//! | [`handler`] | [`StreamHandler`]: decode, sanitize, group by key, write, report |
//! | [`metrics`] | CloudWatch Embedded Metric Format lines (counts only, never values) |
//! | [`runtime`] | what both function binaries share: policy from the environment, logging, errors |

pub mod config;
pub mod handler;
pub mod metrics;
pub mod routes;
pub mod runtime;

pub use config::{Config, ConfigError};
pub use handler::{BatchResult, BatchSummary, EventError, RecordError, Status, StreamHandler};
pub use routes::{Route, RouteError, Routes};
