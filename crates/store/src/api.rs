//! Every DynamoDB and DynamoDB Streams call the function and the lifecycle commands make,
//! as traits. The SDK implements them ([`crate::DynamoSdk`]); the test kit's in-memory
//! store implements them with DynamoDB's semantics and injected faults, so the handler,
//! backfill, verify and redrive are all unit-testable.

use std::fmt;
use std::future::Future;

use dynamo_shadow_core::Item;

use crate::layout::{Guard, ShadowWrite, WriteOutcome};

/// DynamoDB's BatchWriteItem limits.
pub const BATCH_WRITE_MAX_ITEMS: usize = 25;
pub const BATCH_WRITE_MAX_BYTES: usize = 16 * 1024 * 1024;
/// DynamoDB's BatchGetItem limit.
pub const BATCH_GET_MAX_KEYS: usize = 100;

/// The call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    PutItem,
    BatchWriteItem,
    GetItem,
    BatchGetItem,
    Scan,
    DescribeTable,
    GetShardIterator,
    GetRecords,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why a call failed after the client's own retries. Never a value: service messages can
/// echo request values, so only the error code is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreErrorKind {
    /// The service answered with an error code (`ProvisionedThroughputExceededException`,
    /// `ValidationException`, ...).
    #[error("{0}")]
    Service(String),
    #[error("Timeout")]
    Timeout,
    #[error("ConnectionError")]
    Connection,
    #[error("DispatchFailure")]
    Dispatch,
    #[error("ResponseError")]
    Response,
    #[error("RequestConstructionFailure")]
    Construction,
    /// The service returned an attribute type this build does not know.
    #[error("UnknownAttributeType")]
    UnknownType,
    #[error("UnknownError")]
    Unknown,
    /// Injected by a test store.
    #[error("InjectedFault")]
    Injected,
    /// Injected by a test store: the write landed, the caller sees a failure (a lost response).
    #[error("InjectedFaultAfterWrite")]
    InjectedAfterWrite,
}

/// A failed call: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{op} failed: {kind}")]
pub struct StoreError {
    pub op: Op,
    pub kind: StoreErrorKind,
}

impl StoreError {
    pub fn new(op: Op, kind: StoreErrorKind) -> Self {
        StoreError { op, kind }
    }

    /// The service's error code, if it gave one.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            StoreErrorKind::Service(c) => Some(c),
            _ => None,
        }
    }
}

/// What a table looks like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableDescription {
    /// Key attribute names, partition key first.
    pub key_names: Vec<String>,
    pub item_count: Option<u64>,
    pub arn: Option<String>,
    pub table_id: Option<String>,
    /// Creation time, epoch seconds (fraction dropped).
    pub created: Option<i64>,
    pub latest_stream_arn: Option<String>,
}

/// One Scan call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRequest<'a> {
    pub table: &'a str,
    pub segment: u32,
    pub total_segments: u32,
    /// The previous page's `next` (ExclusiveStartKey).
    pub start: Option<Item>,
    /// Page size in items (DynamoDB's 1 MB pages without it).
    pub limit: Option<u32>,
}

/// An item the store could not convert (an attribute type this build does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an attribute type this build does not know")]
pub struct UnknownType;

/// One page of a Scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScanPage {
    pub items: Vec<Result<Item, UnknownType>>,
    /// LastEvaluatedKey: where the next page starts; `None` when the segment is complete.
    pub next: Option<Item>,
}

/// The result of one BatchGetItem call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchGot {
    pub items: Vec<Result<Item, UnknownType>>,
    /// Keys the service did not process (throttling): retry them.
    pub unprocessed: Vec<Item>,
}

/// A DynamoDB Streams record, images converted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamRecord {
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub event_version: Option<String>,
    pub aws_region: Option<String>,
    pub sequence_number: Option<String>,
    pub size_bytes: Option<i64>,
    pub stream_view_type: Option<String>,
    /// Epoch seconds.
    pub approximate_creation: Option<f64>,
    pub keys: Option<Result<Item, UnknownType>>,
    pub new_image: Option<Result<Item, UnknownType>>,
    pub old_image: Option<Result<Item, UnknownType>>,
}

/// One GetRecords page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordPage {
    pub records: Vec<StreamRecord>,
    /// `None` when the shard is closed and read to its end.
    pub next_iterator: Option<String>,
}

/// Writes to the shadow table.
pub trait ShadowWriter: Send + Sync {
    /// A conditional PutItem of `write.item` under `guard`.
    fn put(
        &self,
        table: &str,
        write: &ShadowWrite,
        guard: Guard,
    ) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;

    /// One unconditional BatchWriteItem (at most [`BATCH_WRITE_MAX_ITEMS`] items, no key
    /// twice); returns the writes the service did not process, to be retried.
    fn batch_put(
        &self,
        table: &str,
        writes: Vec<ShadowWrite>,
    ) -> impl Future<Output = Result<Vec<ShadowWrite>, StoreError>> + Send;
}

/// Reads items by key.
pub trait ItemReader: Send + Sync {
    fn get(
        &self,
        table: &str,
        key: &Item,
        consistent: bool,
    ) -> impl Future<Output = Result<Option<Result<Item, UnknownType>>, StoreError>> + Send;

    /// One BatchGetItem (at most [`BATCH_GET_MAX_KEYS`] distinct keys), optionally
    /// projected to some attribute names.
    fn batch_get(
        &self,
        table: &str,
        keys: Vec<Item>,
        projection: Option<&[&str]>,
        consistent: bool,
    ) -> impl Future<Output = Result<BatchGot, StoreError>> + Send;
}

/// Scans a table segment by segment.
pub trait Scanner: Send + Sync {
    fn scan(&self, req: ScanRequest<'_>) -> impl Future<Output = Result<ScanPage, StoreError>> + Send;
}

/// Describes a table.
pub trait Describer: Send + Sync {
    fn describe(&self, table: &str) -> impl Future<Output = Result<TableDescription, StoreError>> + Send;
}

/// Reads a shard of a DynamoDB stream.
pub trait StreamReader: Send + Sync {
    /// An iterator at `sequence` (AT_SEQUENCE_NUMBER).
    fn shard_iterator(
        &self,
        stream_arn: &str,
        shard_id: &str,
        sequence: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    fn records(&self, iterator: &str, limit: u32) -> impl Future<Output = Result<RecordPage, StoreError>> + Send;
}

/// Everything backfill and verify need from the tables.
pub trait Tables: ShadowWriter + ItemReader + Scanner + Describer {}

impl<T: ShadowWriter + ItemReader + Scanner + Describer> Tables for T {}
