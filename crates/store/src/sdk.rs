//! The AWS SDK implementation of every store trait, the SDK configuration the binaries use,
//! and the one converter between SDK attribute values and items.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue as SdkValue, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, Select, WriteRequest,
};
use dynamo_shadow_core::item::{key_attributes, AttributeValue, Item};

use crate::api::{
    BatchGot, Describer, ItemReader, Op, RecordPage, ScanPage, ScanRequest, Scanner, ShadowWriter, StoreError,
    StoreErrorKind, StreamReader, StreamRecord, TableDescription, UnknownType,
};
use crate::layout::{Guard, ShadowWrite, WriteOutcome, SEQ_ATTR};

/// One converter between items and an SDK's attribute values. DynamoDB and DynamoDB Streams
/// have distinct (identical) SDK types, so it is written once and instantiated for both.
/// SDK -> item is fallible: an attribute type this build does not know fails closed.
macro_rules! converter {
    ($module:ident, $sdk:ty) => {
        pub mod $module {
            use super::*;
            type V = $sdk;

            pub fn value_to_sdk(v: AttributeValue) -> V {
                match v {
                    AttributeValue::S(s) => V::S(s),
                    AttributeValue::N(n) => V::N(n),
                    AttributeValue::B(b) => V::B(aws_smithy_types::Blob::new(b)),
                    AttributeValue::Bool(b) => V::Bool(b),
                    AttributeValue::Null(n) => V::Null(n),
                    AttributeValue::Ss(s) => V::Ss(s),
                    AttributeValue::Ns(s) => V::Ns(s),
                    AttributeValue::Bs(s) => V::Bs(s.into_iter().map(aws_smithy_types::Blob::new).collect()),
                    AttributeValue::M(m) => V::M(m.into_iter().map(|(k, v)| (k, value_to_sdk(v))).collect()),
                    AttributeValue::L(l) => V::L(l.into_iter().map(value_to_sdk).collect()),
                }
            }

            pub fn to_sdk(item: &Item) -> HashMap<String, V> {
                item.iter().map(|(k, v)| (k.clone(), value_to_sdk(v.clone()))).collect()
            }

            pub fn value_from_sdk(v: &V) -> Result<AttributeValue, UnknownType> {
                Ok(match v {
                    V::S(s) => AttributeValue::S(s.clone()),
                    V::N(n) => AttributeValue::N(n.clone()),
                    V::B(b) => AttributeValue::B(b.as_ref().to_vec()),
                    V::Bool(b) => AttributeValue::Bool(*b),
                    V::Null(n) => AttributeValue::Null(*n),
                    V::Ss(s) => AttributeValue::Ss(s.clone()),
                    V::Ns(s) => AttributeValue::Ns(s.clone()),
                    V::Bs(s) => AttributeValue::Bs(s.iter().map(|b| b.as_ref().to_vec()).collect()),
                    V::M(m) => AttributeValue::M(from_sdk(m)?),
                    V::L(l) => AttributeValue::L(l.iter().map(value_from_sdk).collect::<Result<_, _>>()?),
                    _ => return Err(UnknownType),
                })
            }

            pub fn from_sdk(item: &HashMap<String, V>) -> Result<Item, UnknownType> {
                item.iter().map(|(k, v)| Ok((k.clone(), value_from_sdk(v)?))).collect()
            }
        }
    };
}

converter!(dynamodb, aws_sdk_dynamodb::types::AttributeValue);
converter!(streams, aws_sdk_dynamodbstreams::types::AttributeValue);

pub use dynamodb::{from_sdk, to_sdk};

/// Per-request time bounds. The SDK sets no read timeout by default: a stalled request
/// would hold a batch until the function's own timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One attempt (a request and its response).
    pub attempt: Duration,
    /// A whole call, retries and backoff included.
    pub operation: Duration,
}

impl Timeouts {
    /// The stream function's: single-item writes, well inside its 60 s timeout.
    pub const FUNCTION: Timeouts = Timeouts { attempt: Duration::from_secs(10), operation: Duration::from_secs(30) };
    /// The CLI's and the backfill function's: 1 MB Scan pages and batch calls on a busy
    /// table or a slow local endpoint.
    pub const CLI: Timeouts = Timeouts { attempt: Duration::from_secs(60), operation: Duration::from_secs(300) };
}

/// The SDK configuration every binary and test uses: rustls on ring for HTTPS, the standard
/// retry mode (exponential backoff with jitter for throttling, 5xx and timeouts) with
/// `max_attempts`, bounded attempts and calls, and the usual environment (region,
/// credentials, `AWS_ENDPOINT_URL*`).
pub async fn sdk_config(max_attempts: u32, timeouts: Timeouts) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(max_attempts))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        )
        .load()
        .await
}

/// A value-free description of an SDK error: the service's error code or the failure kind.
pub fn error_kind<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> StoreErrorKind {
    match e {
        SdkError::ServiceError(s) => {
            StoreErrorKind::Service(s.err().code().unwrap_or("UnknownServiceError").to_string())
        }
        SdkError::TimeoutError(_) => StoreErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => StoreErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_io() => StoreErrorKind::Connection,
        SdkError::DispatchFailure(_) => StoreErrorKind::Dispatch,
        SdkError::ResponseError(_) => StoreErrorKind::Response,
        SdkError::ConstructionFailure(_) => StoreErrorKind::Construction,
        _ => StoreErrorKind::Unknown,
    }
}

fn fail<E: ProvideErrorMetadata, R>(op: Op) -> impl Fn(SdkError<E, R>) -> StoreError {
    move |e| StoreError::new(op, error_kind(&e))
}

/// DynamoDB (and, when given a Streams client, DynamoDB Streams) via the AWS SDK. Retries
/// (throttling, 5xx, timeouts) are the SDK's, with backoff, configured on the client in `main`.
#[derive(Debug, Clone)]
pub struct DynamoSdk {
    client: aws_sdk_dynamodb::Client,
    streams: Option<aws_sdk_dynamodbstreams::Client>,
    requests: Arc<AtomicU64>,
    /// Write capacity consumed by PutItem, in thousandths of a unit (as DynamoDB reports it).
    milli_wcu: Arc<AtomicU64>,
}

impl DynamoSdk {
    pub fn new(client: aws_sdk_dynamodb::Client) -> Self {
        DynamoSdk { client, streams: None, requests: Default::default(), milli_wcu: Default::default() }
    }

    /// With a Streams client too (for `redrive`).
    pub fn with_streams(mut self, streams: aws_sdk_dynamodbstreams::Client) -> Self {
        self.streams = Some(streams);
        self
    }

    /// Both clients from one configuration.
    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_dynamodb::Client::new(conf)).with_streams(aws_sdk_dynamodbstreams::Client::new(conf))
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// Calls issued so far (for metrics and benchmarks).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Write capacity units consumed by PutItem so far, as reported by DynamoDB.
    pub fn consumed_wcu(&self) -> f64 {
        self.milli_wcu.load(Ordering::Relaxed) as f64 / 1000.0
    }

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn streams(&self, op: Op) -> Result<&aws_sdk_dynamodbstreams::Client, StoreError> {
        // A programming error, not a service one: say so without a panic in a long run.
        self.streams.as_ref().ok_or(StoreError::new(op, StoreErrorKind::Construction))
    }
}

impl ShadowWriter for DynamoSdk {
    async fn put(&self, table: &str, write: &ShadowWrite, guard: Guard) -> Result<WriteOutcome, StoreError> {
        self.count();
        let req = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(to_sdk(&write.item)))
            .expression_attribute_names("#seq", SEQ_ATTR)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let req = match guard {
            Guard::Newer => req
                .condition_expression("attribute_not_exists(#seq) OR #seq < :seq")
                .expression_attribute_values(":seq", SdkValue::S(write.seq.as_str().to_string())),
            Guard::Absent => req.condition_expression("attribute_not_exists(#seq)"),
            Guard::Holds(seq) => {
                req.condition_expression("#seq = :seq").expression_attribute_values(":seq", SdkValue::S(seq))
            }
        };
        match req.send().await {
            Ok(out) => {
                if let Some(units) = out.consumed_capacity().and_then(|c| c.capacity_units()) {
                    self.milli_wcu.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
                }
                Ok(WriteOutcome::Applied)
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                // DynamoDB bills a failed condition as a write; the error does not say how much.
                self.milli_wcu.fetch_add(1000, Ordering::Relaxed);
                Ok(WriteOutcome::Stale)
            }
            Err(e) => Err(StoreError::new(Op::PutItem, error_kind(&e))),
        }
    }

    async fn batch_put(&self, table: &str, writes: Vec<ShadowWrite>) -> Result<Vec<ShadowWrite>, StoreError> {
        if writes.is_empty() {
            return Ok(writes);
        }
        self.count();
        let requests: Vec<WriteRequest> = writes
            .iter()
            .map(|w| {
                let put = PutRequest::builder().set_item(Some(to_sdk(&w.item))).build().expect("item is set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let out = self
            .client
            .batch_write_item()
            .request_items(table, requests)
            .return_consumed_capacity(ReturnConsumedCapacity::None)
            .send()
            .await
            .map_err(fail(Op::BatchWriteItem))?;
        let unprocessed = out.unprocessed_items().and_then(|u| u.get(table)).map(Vec::as_slice).unwrap_or_default();
        if unprocessed.is_empty() {
            return Ok(Vec::new());
        }
        // Match unprocessed requests back to our writes by key.
        let key_names = writes.first().map(|w| w.key_names.clone()).unwrap_or_default();
        let mut left = Vec::with_capacity(unprocessed.len());
        let keys: Vec<Item> = unprocessed
            .iter()
            .filter_map(|r| r.put_request().map(|p| p.item()))
            .filter_map(|i| from_sdk(i).ok())
            .map(|i| key_attributes(&i, &key_names))
            .collect();
        for w in writes {
            if keys.contains(&w.keys()) {
                left.push(w);
            }
        }
        Ok(left)
    }
}

impl ItemReader for DynamoSdk {
    async fn get(
        &self,
        table: &str,
        key: &Item,
        consistent: bool,
    ) -> Result<Option<Result<Item, UnknownType>>, StoreError> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(to_sdk(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(fail(Op::GetItem))?;
        Ok(out.item().map(from_sdk))
    }

    async fn batch_get(
        &self,
        table: &str,
        keys: Vec<Item>,
        projection: Option<&[&str]>,
        consistent: bool,
    ) -> Result<BatchGot, StoreError> {
        if keys.is_empty() {
            return Ok(BatchGot::default());
        }
        self.count();
        let mut req =
            KeysAndAttributes::builder().set_keys(Some(keys.iter().map(to_sdk).collect())).consistent_read(consistent);
        if let Some(p) = projection {
            let expr: Vec<String> = (0..p.len()).map(|i| format!("#a{i}")).collect();
            req = req.projection_expression(expr.join(", "));
            for (i, n) in p.iter().enumerate() {
                req = req.expression_attribute_names(format!("#a{i}"), *n);
            }
        }
        let out = self
            .client
            .batch_get_item()
            .request_items(table, req.build().expect("keys are set"))
            .send()
            .await
            .map_err(fail(Op::BatchGetItem))?;
        let items = out.responses().and_then(|r| r.get(table)).map(Vec::as_slice).unwrap_or_default();
        let unprocessed = out
            .unprocessed_keys()
            .and_then(|u| u.get(table))
            .map(|k| k.keys().iter().filter_map(|k| from_sdk(k).ok()).collect())
            .unwrap_or_default();
        Ok(BatchGot { items: items.iter().map(from_sdk).collect(), unprocessed })
    }
}

impl Scanner for DynamoSdk {
    async fn scan(&self, req: ScanRequest<'_>) -> Result<ScanPage, StoreError> {
        self.count();
        let out = self
            .client
            .scan()
            .table_name(req.table)
            .segment(req.segment as i32)
            .total_segments(req.total_segments as i32)
            .select(Select::AllAttributes)
            .set_exclusive_start_key(req.start.as_ref().map(to_sdk))
            .set_limit(req.limit.map(|l| l.min(i32::MAX as u32) as i32))
            .send()
            .await
            .map_err(fail(Op::Scan))?;
        let next = match out.last_evaluated_key() {
            None => None,
            Some(k) => Some(from_sdk(k).map_err(|_| StoreError::new(Op::Scan, StoreErrorKind::UnknownType))?),
        };
        Ok(ScanPage { items: out.items().iter().map(from_sdk).collect(), next })
    }
}

impl Describer for DynamoSdk {
    async fn describe(&self, table: &str) -> Result<TableDescription, StoreError> {
        self.count();
        let out = self.client.describe_table().table_name(table).send().await.map_err(fail(Op::DescribeTable))?;
        let Some(t) = out.table() else { return Ok(TableDescription::default()) };
        let mut keys: Vec<(bool, String)> =
            t.key_schema().iter().map(|k| (k.key_type().as_str() != "HASH", k.attribute_name().to_string())).collect();
        keys.sort();
        Ok(TableDescription {
            key_names: keys.into_iter().map(|(_, n)| n).collect(),
            item_count: t.item_count().map(|n| n.max(0) as u64),
            arn: t.table_arn().map(String::from),
            table_id: t.table_id().map(String::from),
            created: t.creation_date_time().map(|d| d.secs()),
            latest_stream_arn: t.latest_stream_arn().map(String::from),
        })
    }
}

impl StreamReader for DynamoSdk {
    async fn shard_iterator(
        &self,
        stream_arn: &str,
        shard_id: &str,
        sequence: &str,
    ) -> Result<Option<String>, StoreError> {
        use aws_sdk_dynamodbstreams::types::ShardIteratorType;
        self.count();
        let out = self
            .streams(Op::GetShardIterator)?
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard_id)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(sequence)
            .send()
            .await
            .map_err(fail(Op::GetShardIterator))?;
        Ok(out.shard_iterator().map(String::from))
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<RecordPage, StoreError> {
        self.count();
        let out = self
            .streams(Op::GetRecords)?
            .get_records()
            .shard_iterator(iterator)
            .limit(limit.min(1000) as i32)
            .send()
            .await
            .map_err(fail(Op::GetRecords))?;
        let records = out
            .records()
            .iter()
            .map(|r| {
                let d = r.dynamodb();
                StreamRecord {
                    event_id: r.event_id().map(String::from),
                    event_name: r.event_name().map(|n| n.as_str().to_string()),
                    event_version: r.event_version().map(String::from),
                    aws_region: r.aws_region().map(String::from),
                    sequence_number: d.and_then(|d| d.sequence_number()).map(String::from),
                    size_bytes: d.and_then(|d| d.size_bytes()),
                    stream_view_type: d.and_then(|d| d.stream_view_type()).map(|v| v.as_str().to_string()),
                    approximate_creation: d.and_then(|d| d.approximate_creation_date_time()).map(|t| t.as_secs_f64()),
                    keys: d.and_then(|d| d.keys()).map(streams::from_sdk),
                    new_image: d.and_then(|d| d.new_image()).map(streams::from_sdk),
                    old_image: d.and_then(|d| d.old_image()).map(streams::from_sdk),
                }
            })
            .collect();
        Ok(RecordPage { records, next_iterator: out.next_shard_iterator().map(String::from) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_round_trips_every_type_exactly() {
        let item = Item::from([
            ("s".to_string(), AttributeValue::S("x".into())),
            ("n".to_string(), AttributeValue::N("12345678901234567890123456789012345678".into())),
            ("b".to_string(), AttributeValue::B(vec![0, 255])),
            ("t".to_string(), AttributeValue::Bool(true)),
            ("z".to_string(), AttributeValue::Null(true)),
            ("ss".to_string(), AttributeValue::Ss(vec!["a".into(), "b".into()])),
            ("ns".to_string(), AttributeValue::Ns(vec!["1".into(), "1E+125".into()])),
            ("bs".to_string(), AttributeValue::Bs(vec![vec![1], vec![2]])),
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([(
                    "l".to_string(),
                    AttributeValue::L(vec![AttributeValue::N("3".into())]),
                )])),
            ),
        ]);
        assert_eq!(from_sdk(&to_sdk(&item)).unwrap(), item);
        assert_eq!(streams::from_sdk(&streams::to_sdk(&item)).unwrap(), item);
    }
}
