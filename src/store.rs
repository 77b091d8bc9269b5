//! The shadow table: item layout (metadata attributes), conditional writes, and the
//! [`ShadowStore`] seam with a DynamoDB implementation and an in-memory one for tests.
//!
//! Every write is a conditional PutItem guarded by the source stream's sequence number,
//! so a replayed or redriven older record never overwrites newer state. A REMOVE writes a
//! tombstone (key, sequence, deleted marker, TTL expiry) so a replay cannot resurrect it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue as SdkValue, ReturnConsumedCapacity};

use crate::item::{key_attributes, key_fingerprint, AttributeValue, Item};

/// Source stream sequence number, zero-padded to 40 digits so strings compare like numbers.
pub const SEQ_ATTR: &str = "_shadow_seq";
/// `true` on tombstones.
pub const DELETED_ATTR: &str = "_shadow_deleted";
/// Epoch seconds when a tombstone may be removed (the table's TTL attribute).
pub const EXPIRES_ATTR: &str = "_shadow_expires_at";
/// Fingerprint of the policy and rules the item was sanitized with.
pub const POLICY_ATTR: &str = "_shadow_policy";

/// Stream sequence numbers are 21 to 40 decimal digits.
pub const SEQ_WIDTH: usize = 40;

/// Pads a stream SequenceNumber to [`SEQ_WIDTH`] digits. It does not fit DynamoDB's
/// 38-digit numbers, so it is stored as a string that sorts like the number.
pub fn pad_sequence(seq: &str) -> Result<String, String> {
    if seq.is_empty() || seq.len() > SEQ_WIDTH || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("SequenceNumber must be 1 to {SEQ_WIDTH} decimal digits"));
    }
    Ok(format!("{seq:0>width$}", width = SEQ_WIDTH))
}

/// One conditional write to the shadow table.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowWrite {
    /// The full item to put, metadata included.
    pub item: Item,
    /// Padded sequence number (also in `item`), the write's guard.
    pub seq: String,
    /// Names of the key attributes (for stores that need to find the item).
    pub key_names: Vec<String>,
}

impl ShadowWrite {
    /// The sanitized image of an INSERT or MODIFY.
    pub fn upsert(mut sanitized: Item, key_names: Vec<String>, seq: String, fingerprint: &str) -> Self {
        sanitized.insert(SEQ_ATTR.into(), AttributeValue::S(seq.clone()));
        sanitized.insert(POLICY_ATTR.into(), AttributeValue::S(fingerprint.into()));
        ShadowWrite { item: sanitized, seq, key_names }
    }

    /// A tombstone for a REMOVE: the key and metadata only.
    pub fn tombstone(keys: Item, seq: String, expires_at: u64, fingerprint: &str) -> Self {
        let key_names = keys.keys().cloned().collect();
        let mut item = keys;
        item.insert(SEQ_ATTR.into(), AttributeValue::S(seq.clone()));
        item.insert(DELETED_ATTR.into(), AttributeValue::Bool(true));
        item.insert(EXPIRES_ATTR.into(), AttributeValue::N(expires_at.to_string()));
        item.insert(POLICY_ATTR.into(), AttributeValue::S(fingerprint.into()));
        ShadowWrite { item, seq, key_names }
    }

    pub fn is_tombstone(&self) -> bool {
        self.item.contains_key(DELETED_ATTR)
    }

    /// The key attributes of the item written.
    pub fn keys(&self) -> Item {
        key_attributes(&self.item, &self.key_names)
    }
}

/// Result of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The item now holds this write.
    Applied,
    /// The shadow table already holds this or a newer sequence: nothing to do.
    Stale,
}

/// A write that failed after the client's retries. Carries the service's error code and
/// never the message (service messages can echo request values).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shadow write failed: {code}")]
pub struct StoreError {
    pub code: String,
}

/// Where shadow items go.
pub trait ShadowStore: Send + Sync {
    /// Puts `write.item` unless the table holds the same or a newer sequence for that key.
    fn put(&self, table: &str, write: &ShadowWrite) -> impl Future<Output = Result<WriteOutcome, StoreError>> + Send;
}

/// The condition every shadow write carries.
pub const GUARD: &str = "attribute_not_exists(#seq) OR #seq < :seq";

/// Per-request time bounds. The SDK sets no read timeout by default: a stalled request
/// would hold a batch until the function's own timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One attempt (a request and its response).
    pub attempt: std::time::Duration,
    /// A whole call, retries and backoff included.
    pub operation: std::time::Duration,
}

impl Timeouts {
    /// The function's: single-item writes, well inside its 60 s timeout.
    pub const FUNCTION: Timeouts =
        Timeouts { attempt: std::time::Duration::from_secs(10), operation: std::time::Duration::from_secs(30) };
    /// The CLI's: 1 MB Scan pages and batch calls on a busy table or a slow local endpoint.
    pub const CLI: Timeouts =
        Timeouts { attempt: std::time::Duration::from_secs(60), operation: std::time::Duration::from_secs(300) };
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
                .connect_timeout(std::time::Duration::from_secs(3))
                .operation_attempt_timeout(timeouts.attempt)
                .operation_timeout(timeouts.operation)
                .build(),
        )
        .load()
        .await
}

/// A client for a local DynamoDB-compatible endpoint (moto's server in tests and
/// benchmarks): fixed region and dummy credentials, so no AWS account is involved.
pub async fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let base = sdk_config(3, Timeouts::CLI).await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&base)
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "local"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// DynamoDB via the AWS SDK. Retries (throttling, 5xx, timeouts) are the SDK's, with
/// backoff, configured on the client in `main`.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    requests: std::sync::Arc<AtomicU64>,
    /// Write capacity consumed, in thousandths of a unit (as DynamoDB reports it).
    milli_wcu: std::sync::Arc<AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client) -> Self {
        DynamoStore { client, requests: Default::default(), milli_wcu: Default::default() }
    }

    pub fn client(&self) -> &aws_sdk_dynamodb::Client {
        &self.client
    }

    /// PutItem calls issued so far (for metrics and benchmarks).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Write capacity units consumed so far, as reported by DynamoDB.
    pub fn consumed_wcu(&self) -> f64 {
        self.milli_wcu.load(Ordering::Relaxed) as f64 / 1000.0
    }

    fn add_capacity(&self, c: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>) {
        if let Some(units) = c.and_then(|c| c.capacity_units()) {
            self.milli_wcu.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        }
    }
}

/// Converts an item for the SDK.
pub fn to_sdk(item: &Item) -> HashMap<String, SdkValue> {
    item.iter().map(|(k, v)| (k.clone(), SdkValue::from(v.clone()))).collect()
}

/// Converts an SDK item back; `None` if the SDK reports a type this build does not know.
pub fn from_sdk(item: &HashMap<String, SdkValue>) -> Option<Item> {
    item.iter().map(|(k, v)| Some((k.clone(), from_sdk_value(v)?))).collect()
}

fn from_sdk_value(v: &SdkValue) -> Option<AttributeValue> {
    Some(match v {
        SdkValue::S(s) => AttributeValue::S(s.clone()),
        SdkValue::N(n) => AttributeValue::N(n.clone()),
        SdkValue::B(b) => AttributeValue::B(b.as_ref().to_vec()),
        SdkValue::Bool(b) => AttributeValue::Bool(*b),
        SdkValue::Null(n) => AttributeValue::Null(*n),
        SdkValue::Ss(s) => AttributeValue::Ss(s.clone()),
        SdkValue::Ns(s) => AttributeValue::Ns(s.clone()),
        SdkValue::Bs(s) => AttributeValue::Bs(s.iter().map(|b| b.as_ref().to_vec()).collect()),
        SdkValue::M(m) => AttributeValue::M(from_sdk(m)?),
        SdkValue::L(l) => AttributeValue::L(l.iter().map(from_sdk_value).collect::<Option<_>>()?),
        _ => return None,
    })
}

impl ShadowStore for DynamoStore {
    async fn put(&self, table: &str, write: &ShadowWrite) -> Result<WriteOutcome, StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let res = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(to_sdk(&write.item)))
            .condition_expression(GUARD)
            .expression_attribute_names("#seq", SEQ_ATTR)
            .expression_attribute_values(":seq", SdkValue::S(write.seq.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match res {
            Ok(out) => {
                self.add_capacity(out.consumed_capacity());
                Ok(WriteOutcome::Applied)
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                // DynamoDB bills a failed condition as a write; the error does not say how much.
                self.milli_wcu.fetch_add(1000, Ordering::Relaxed);
                Ok(WriteOutcome::Stale)
            }
            Err(e) => Err(StoreError { code: error_code(&e) }),
        }
    }
}

/// A value-free description of an SDK error: the service's error code or the failure kind.
pub fn error_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("UnknownServiceError").to_string(),
        SdkError::TimeoutError(_) => "Timeout".into(),
        SdkError::DispatchFailure(d) if d.is_timeout() => "Timeout".into(),
        SdkError::DispatchFailure(d) if d.is_io() => "ConnectionError".into(),
        SdkError::DispatchFailure(_) => "DispatchFailure".into(),
        SdkError::ResponseError(_) => "ResponseError".into(),
        SdkError::ConstructionFailure(_) => "RequestConstructionFailure".into(),
        _ => "UnknownError".into(),
    }
}

/// An in-memory store with DynamoDB's conditional semantics, for unit tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<HashMap<String, HashMap<String, Item>>>,
    /// Key fingerprints whose writes fail (fault injection).
    pub failing_keys: Mutex<Vec<String>>,
    /// Random faults: (seed state, failures per thousand writes). Some faults fail after
    /// the write was applied, like a timeout whose request still landed.
    pub random_faults: Mutex<Option<(crate::eval::Rng, u64)>>,
    pub puts: AtomicU64,
}

impl MemoryStore {
    pub fn get(&self, table: &str, keys: &Item) -> Option<Item> {
        self.tables.lock().unwrap().get(table)?.get(&key_fingerprint(keys)).cloned()
    }

    pub fn len(&self, table: &str) -> usize {
        self.tables.lock().unwrap().get(table).map_or(0, HashMap::len)
    }

    pub fn is_empty(&self, table: &str) -> bool {
        self.len(table) == 0
    }

    /// Every item of a table (for model tests).
    pub fn items(&self, table: &str) -> Vec<Item> {
        self.tables.lock().unwrap().get(table).map(|t| t.values().cloned().collect()).unwrap_or_default()
    }

    fn roll_fault(&self) -> Option<bool> {
        let mut g = self.random_faults.lock().unwrap();
        let (rng, per_mille) = g.as_mut()?;
        let per_mille = *per_mille;
        (rng.below(1000) < per_mille as usize).then(|| rng.below(2) == 0)
    }
}

impl ShadowStore for MemoryStore {
    async fn put(&self, table: &str, write: &ShadowWrite) -> Result<WriteOutcome, StoreError> {
        self.puts.fetch_add(1, Ordering::Relaxed);
        let fp = key_fingerprint(&write.keys());
        if self.failing_keys.lock().unwrap().contains(&fp) {
            return Err(StoreError { code: "InjectedFault".into() });
        }
        let fault = self.roll_fault();
        if fault == Some(false) {
            return Err(StoreError { code: "InjectedFault".into() });
        }
        let mut tables = self.tables.lock().unwrap();
        let t = tables.entry(table.to_string()).or_default();
        if let Some(existing) = t.get(&fp) {
            if let Some(AttributeValue::S(cur)) = existing.get(SEQ_ATTR) {
                if cur.as_str() >= write.seq.as_str() {
                    return Ok(WriteOutcome::Stale);
                }
            }
        }
        t.insert(fp, write.item.clone());
        if fault == Some(true) {
            // Applied, but the caller sees a failure (a lost response).
            return Err(StoreError { code: "InjectedFaultAfterWrite".into() });
        }
        Ok(WriteOutcome::Applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_sequences_compare_like_numbers() {
        let a = pad_sequence("999999999999999999999").unwrap();
        let b = pad_sequence("1000000000000000000000").unwrap();
        assert_eq!(a.len(), 40);
        assert!(a < b);
        assert!(pad_sequence("12a").is_err());
        assert!(pad_sequence(&"1".repeat(41)).is_err());
        assert!(pad_sequence("").is_err());
    }

    #[tokio::test]
    async fn memory_store_guards_like_dynamodb() {
        let s = MemoryStore::default();
        let keys = Item::from([("pk".to_string(), AttributeValue::S("k".into()))]);
        let w = |seq: &str| ShadowWrite::upsert(keys.clone(), vec!["pk".into()], pad_sequence(seq).unwrap(), "fp");
        assert_eq!(s.put("t", &w("200")).await.unwrap(), WriteOutcome::Applied);
        assert_eq!(s.put("t", &w("200")).await.unwrap(), WriteOutcome::Stale);
        assert_eq!(s.put("t", &w("100")).await.unwrap(), WriteOutcome::Stale);
        let t = ShadowWrite::tombstone(keys.clone(), pad_sequence("300").unwrap(), 1, "fp");
        assert_eq!(s.put("t", &t).await.unwrap(), WriteOutcome::Applied);
        assert_eq!(s.put("t", &w("250")).await.unwrap(), WriteOutcome::Stale, "no resurrection");
        assert_eq!(s.get("t", &keys).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));
    }
}
