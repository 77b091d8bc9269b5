//! Why an operation stopped. Names operations, tables, segments and error codes; never a value.

use dynamo_shadow_core::{ItemError, SanitizeError};
use dynamo_shadow_store::{Op, StoreError};

/// Why backfill, verify or redrive stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpsError {
    #[error("table `{table}`: {error}")]
    Store { table: String, error: StoreError },
    #[error("segments must be 1 to 1000000 (DynamoDB's TotalSegments)")]
    Segments,
    #[error("segment {segment} is out of range for {total} segments")]
    SegmentOutOfRange { segment: u32, total: u32 },
    #[error("table `{0}` has no key schema")]
    NoKeySchema(String),
    #[error(
        "key schemas differ: source `{source_table}` has ({source_keys}), shadow `{shadow_table}` has ({shadow_keys})"
    )]
    KeySchemasDiffer { source_table: String, source_keys: String, shadow_table: String, shadow_keys: String },
    #[error("bad scan cursor: {0}")]
    BadCursor(ItemError),
    #[error("{op}: {count} items still unprocessed after {} retries (throttled)", crate::batch::MAX_BATCH_RETRIES)]
    Unprocessed { op: Op, count: usize },
    #[error("cannot sanitize the item: {0}")]
    Sanitize(SanitizeError),
    #[error("{count} writes failed in segment {segment} ({error}); its checkpoint stays before this page")]
    Writes { segment: u32, count: usize, error: StoreError },
}
