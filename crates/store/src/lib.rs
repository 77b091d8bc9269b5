//! # dynamo-shadow-store
//!
//! The AWS side of dynamo-shadow, apart from the Lambda runtime:
//!
//! - [`layout`]: the shadow item (sanitized image plus `_shadow_*` metadata), the [`Seq`]
//!   newtype that orders writes, tombstones and the write [`Guard`]s;
//! - [`api`]: a trait for every DynamoDB and DynamoDB Streams call the stream function and
//!   the lifecycle commands make ([`ShadowWriter`], [`ItemReader`], [`Scanner`],
//!   [`Describer`], [`StreamReader`]);
//! - [`secrets`]: the tokenization key from Secrets Manager at cold start;
//! - [`sdk`]: their AWS SDK implementation ([`DynamoSdk`]), the SDK configuration, and the
//!   one converter between SDK attribute values and items.
//!
//! Every write is a conditional PutItem guarded by the source stream's sequence number, so
//! a replayed or redriven older record never overwrites newer state; a REMOVE writes a
//! tombstone (key, sequence, deleted marker, TTL expiry) so a replay cannot resurrect it.

pub mod api;
pub mod layout;
pub mod sdk;
pub mod secrets;

pub use api::{
    BatchGot, Describer, ItemReader, Op, RecordPage, ScanPage, ScanRequest, Scanner, ShadowWriter, StoreError,
    StoreErrorKind, StreamReader, StreamRecord, TableDescription, Tables, UnknownType,
};
pub use aws_config::SdkConfig;
pub use layout::{stream_label, Guard, LimitError, Seq, SeqError, ShadowMeta, ShadowWrite, WriteOutcome};
pub use sdk::{sdk_config, DynamoSdk, Timeouts};
