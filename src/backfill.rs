//! Backfill: fill the shadow table from a (parallel) Scan of the source table, with the same
//! sanitizer and policy as the Lambda, racing the live stream safely.
//!
//! A scanned item has no stream sequence number, so backfill writes can never win against
//! the stream:
//!
//! - an item missing from the shadow table is written with sequence 0 under
//!   `attribute_not_exists(_shadow_seq)`: any stream write (newer item or tombstone) that
//!   lands first makes the condition fail, and any stream write that lands later has a
//!   higher sequence and replaces it;
//! - an item written under another policy fingerprint (`--policy-changed`) is re-read with a
//!   consistent read *after* its shadow metadata was read, and rewritten under
//!   `_shadow_seq = <the sequence seen>`, keeping that sequence: the re-read image is at least
//!   as new as the one the sequence stands for, and a stream write in between fails it;
//! - tombstones and items already written under the current policy are left alone.
//!
//! `exclusive` mode (the shadow table has no other writer yet, e.g. before the event
//! source mapping is enabled) uses BatchWriteItem, which takes no conditions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeValue as SdkValue, KeysAndAttributes, PutRequest, ReturnConsumedCapacity, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::engine::Sanitizer;
use crate::item::{item_size, item_to_json, key_attributes, key_fingerprint, parse_item, AttributeValue, Item};
use crate::store::{error_code, from_sdk, to_sdk, ShadowWrite, DELETED_ATTR, POLICY_ATTR, SEQ_ATTR, SEQ_WIDTH};

/// DynamoDB's BatchWriteItem limits.
pub const BATCH_WRITE_MAX_ITEMS: usize = 25;
pub const BATCH_WRITE_MAX_BYTES: usize = 16 * 1024 * 1024;
/// DynamoDB's BatchGetItem limit.
pub const BATCH_GET_MAX_KEYS: usize = 100;
/// Retries of unprocessed batch items before the page is reported failed.
const MAX_BATCH_RETRIES: u32 = 10;

/// The sequence a backfilled item carries: below every stream sequence number.
pub fn backfill_sequence() -> String {
    "0".repeat(SEQ_WIDTH)
}

/// What a backfill run does.
#[derive(Debug, Clone)]
pub struct Options {
    pub source_table: String,
    pub shadow_table: String,
    pub total_segments: u32,
    /// Re-sanitize items whose policy fingerprint differs from the current one.
    pub policy_changed: bool,
    /// Count what would be written; write nothing.
    pub dry_run: bool,
    /// No other writer: unconditional BatchWriteItem instead of conditional PutItems.
    pub exclusive: bool,
    /// Write budget: write capacity units per second (estimated from item size).
    pub max_wcu: Option<f64>,
    /// Write budget: items per second.
    pub rate: Option<f64>,
    /// Conditional writes in flight per segment.
    pub concurrency: usize,
    /// Scan page size (items); DynamoDB's 1 MB pages without it.
    pub page_size: Option<i32>,
}

/// Running totals, shared by all segments (read by progress displays while they run).
#[derive(Debug, Default)]
pub struct Counters {
    pub scanned: AtomicU64,
    /// Written (or, in a dry run, would be written).
    pub written: AtomicU64,
    /// Already written under the current policy.
    pub current: AtomicU64,
    /// A stream write (newer item or tombstone) was there first, or won the race.
    pub skipped_newer: AtomicU64,
    /// Written under another policy and not re-sanitized (run with `policy_changed`).
    pub old_policy: AtomicU64,
    /// Re-sanitized under the current policy.
    pub resanitized: AtomicU64,
    /// Items that cannot be sanitized with certainty: not written, reported.
    pub unsanitizable: AtomicU64,
    pub write_requests: AtomicU64,
    pub read_requests: AtomicU64,
    /// Estimated write capacity units, in thousandths.
    pub milli_wcu: AtomicU64,
    /// Time spent sanitizing (all threads), in microseconds.
    pub sanitize_micros: AtomicU64,
    pub segments_done: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> Summary {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Summary {
            scanned: g(&self.scanned),
            written: g(&self.written),
            current: g(&self.current),
            skipped_newer: g(&self.skipped_newer),
            old_policy: g(&self.old_policy),
            resanitized: g(&self.resanitized),
            unsanitizable: g(&self.unsanitizable),
            write_requests: g(&self.write_requests),
            read_requests: g(&self.read_requests),
            wcu: g(&self.milli_wcu) as f64 / 1000.0,
            sanitize_secs: g(&self.sanitize_micros) as f64 / 1e6,
            segments_done: g(&self.segments_done),
        }
    }
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scanned: u64,
    pub written: u64,
    pub current: u64,
    pub skipped_newer: u64,
    pub old_policy: u64,
    pub resanitized: u64,
    pub unsanitizable: u64,
    pub write_requests: u64,
    pub read_requests: u64,
    pub wcu: f64,
    pub sanitize_secs: f64,
    pub segments_done: u64,
}

/// Why a backfill stopped. Names the operation and the service's error code, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackfillError {
    #[error("{op} on table `{table}` failed: {code}")]
    Service { op: &'static str, table: String, code: String },
    #[error("{0}")]
    Setup(String),
    #[error("{op}: {count} items still unprocessed after {MAX_BATCH_RETRIES} retries (throttled)")]
    Unprocessed { op: &'static str, count: usize },
    #[error("{count} writes failed in segment {segment} ({code}); its checkpoint stays before this page")]
    Writes { segment: u32, count: usize, code: String },
}

/// The shadow metadata of one item, as read before deciding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShadowMeta {
    pub seq: Option<String>,
    pub policy: Option<String>,
    pub deleted: bool,
}

impl ShadowMeta {
    pub fn of(item: &Item) -> Self {
        let s = |k: &str| match item.get(k) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        ShadowMeta {
            seq: s(SEQ_ATTR),
            policy: s(POLICY_ATTR),
            deleted: matches!(item.get(DELETED_ATTR), Some(AttributeValue::Bool(true))),
        }
    }
}

/// What to do with one scanned item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Missing from the shadow table: write with sequence 0 if it still is.
    Fill,
    /// Written under another policy: re-read, re-sanitize, write if the sequence is unchanged.
    Resanitize { seq: String },
    /// Already current.
    Current,
    /// A tombstone: the stream deleted it (or will re-insert it); not ours to touch.
    Tombstone,
    /// Another policy, but `policy_changed` is off.
    OldPolicy,
}

/// The decision for one item given its shadow metadata (pure; the race-safety is in the
/// write conditions, see the module docs).
pub fn plan(shadow: Option<&ShadowMeta>, fingerprint: &str, policy_changed: bool) -> Plan {
    match shadow {
        None => Plan::Fill,
        Some(m) if m.seq.is_none() => Plan::Fill,
        Some(m) if m.deleted => Plan::Tombstone,
        Some(m) if m.policy.as_deref() == Some(fingerprint) => Plan::Current,
        Some(m) if policy_changed => Plan::Resanitize { seq: m.seq.clone().expect("checked") },
        Some(_) => Plan::OldPolicy,
    }
}

/// Estimated write capacity units of one put (1 per started KB).
pub fn wcu(item: &Item) -> f64 {
    item_size(item).div_ceil(1024).max(1) as f64
}

/// A token bucket: callers reserve units and sleep off any debt, so the long-run rate holds
/// across all segments.
#[derive(Debug)]
pub struct RateLimiter {
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimiter {
    pub fn new(per_sec: f64) -> Self {
        RateLimiter { per_sec, state: Mutex::new((per_sec, Instant::now())) }
    }

    /// How long the caller must wait to spend `units` (reserved now).
    pub fn reserve(&self, units: f64) -> Duration {
        let mut g = self.state.lock().expect("not poisoned");
        let now = Instant::now();
        let (avail, last) = *g;
        let avail = (avail + now.duration_since(last).as_secs_f64() * self.per_sec).min(self.per_sec) - units;
        *g = (avail, now);
        if avail >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-avail / self.per_sec)
        }
    }

    pub async fn acquire(&self, units: f64) {
        let wait = self.reserve(units);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Per-segment resume state: where the scan stands after the last fully written page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentState {
    pub done: bool,
    /// The scan's LastEvaluatedKey (DynamoDB JSON). It holds key values: checkpoint files
    /// are written owner-only.
    pub cursor: Option<serde_json::Value>,
    pub scanned: u64,
}

/// A resumable run's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub source_table: String,
    pub shadow_table: String,
    pub total_segments: u32,
    pub policy: String,
    pub segments: Vec<SegmentState>,
}

impl Checkpoint {
    pub fn new(opts: &Options, policy: &str) -> Self {
        Checkpoint {
            source_table: opts.source_table.clone(),
            shadow_table: opts.shadow_table.clone(),
            total_segments: opts.total_segments,
            policy: policy.to_string(),
            segments: vec![SegmentState::default(); opts.total_segments as usize],
        }
    }

    /// Whether this checkpoint belongs to the same run (tables, segments and policy).
    pub fn matches(&self, opts: &Options, policy: &str) -> Result<(), String> {
        if self.source_table != opts.source_table || self.shadow_table != opts.shadow_table {
            return Err("the checkpoint is for other tables".into());
        }
        if self.total_segments != opts.total_segments || self.segments.len() != opts.total_segments as usize {
            return Err(format!(
                "the checkpoint has {} segments, this run {}",
                self.total_segments, opts.total_segments
            ));
        }
        if self.policy != policy {
            return Err("the checkpoint was written under another policy".into());
        }
        Ok(())
    }

    pub fn is_complete(&self) -> bool {
        self.segments.iter().all(|s| s.done)
    }
}

/// A scan cursor as JSON (for checkpoints and Step Functions state) and back.
pub fn cursor_to_json(key: &HashMap<String, SdkValue>) -> Option<serde_json::Value> {
    from_sdk(key).map(|k| item_to_json(&k))
}

pub fn cursor_from_json(v: &serde_json::Value) -> Result<HashMap<String, SdkValue>, String> {
    parse_item(v).map(|k| to_sdk(&k)).map_err(|e| format!("bad scan cursor: {e}"))
}

/// The key attribute names of a table (partition key first).
pub async fn key_schema(client: &Client, table: &str) -> Result<Vec<String>, BackfillError> {
    let out = client.describe_table().table_name(table).send().await.map_err(|e| BackfillError::Service {
        op: "DescribeTable",
        table: table.into(),
        code: error_code(&e),
    })?;
    let schema = out.table().map(|t| t.key_schema()).unwrap_or_default();
    let mut keys: Vec<(bool, String)> =
        schema.iter().map(|k| (k.key_type().as_str() != "HASH", k.attribute_name().to_string())).collect();
    keys.sort();
    if keys.is_empty() {
        return Err(BackfillError::Setup(format!("table `{table}` has no key schema")));
    }
    Ok(keys.into_iter().map(|(_, n)| n).collect())
}

/// The source table's key attribute names, after checking the shadow table has the same key.
pub async fn same_key_schema(client: &Client, source: &str, shadow: &str) -> Result<Vec<String>, BackfillError> {
    let keys = key_schema(client, source).await?;
    let shadow_keys = key_schema(client, shadow).await?;
    if keys != shadow_keys {
        return Err(BackfillError::Setup(format!(
            "key schemas differ: source `{source}` has ({}), shadow `{shadow}` has ({})",
            keys.join(", "),
            shadow_keys.join(", ")
        )));
    }
    Ok(keys)
}

/// How one segment invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEnd {
    /// Where to continue; `None` when the segment is complete.
    pub cursor: Option<HashMap<String, SdkValue>>,
    pub scanned: u64,
}

/// One backfill: the compiled sanitizer, the client and the budget, shared by its segments.
pub struct Backfill<'a> {
    client: &'a Client,
    sanitizer: &'a Sanitizer,
    opts: Options,
    keys: Vec<String>,
    wcu_limit: Option<RateLimiter>,
    item_limit: Option<RateLimiter>,
    pub counters: Arc<Counters>,
}

struct Pending {
    /// The sanitized item to write, metadata included.
    write: ShadowWrite,
    /// Sequence 0 fill (`attribute_not_exists`) or a re-sanitize (`#seq = :seq`).
    fill: bool,
}

impl<'a> Backfill<'a> {
    /// Reads the source table's key schema and checks the shadow table has the same key.
    pub async fn new(client: &'a Client, sanitizer: &'a Sanitizer, opts: Options) -> Result<Self, BackfillError> {
        if opts.total_segments == 0 || opts.total_segments > 1_000_000 {
            return Err(BackfillError::Setup("segments must be 1 to 1000000 (DynamoDB's TotalSegments)".into()));
        }
        let keys = same_key_schema(client, &opts.source_table, &opts.shadow_table).await?;
        Ok(Backfill {
            client,
            sanitizer,
            wcu_limit: opts.max_wcu.map(RateLimiter::new),
            item_limit: opts.rate.map(RateLimiter::new),
            opts,
            keys,
            counters: Arc::default(),
        })
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Scans one segment from `cursor`, page by page. After each page is fully written,
    /// `on_page` gets the new cursor (`None`: the segment is complete) so the caller can
    /// checkpoint. Stops early, returning the cursor, when `deadline` passes.
    pub async fn run_segment(
        &self,
        segment: u32,
        mut cursor: Option<HashMap<String, SdkValue>>,
        deadline: Option<Instant>,
        mut on_page: impl FnMut(Option<&HashMap<String, SdkValue>>, u64),
    ) -> Result<SegmentEnd, BackfillError> {
        let mut scanned = 0;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.opts.source_table)
                .segment(segment as i32)
                .total_segments(self.opts.total_segments as i32)
                .set_exclusive_start_key(cursor.clone())
                .set_limit(self.opts.page_size)
                .send()
                .await
                .map_err(|e| self.err("Scan", &self.opts.source_table, &e))?;
            self.counters.read_requests.fetch_add(1, Ordering::Relaxed);
            let items = out.items();
            scanned += items.len() as u64;
            self.counters.scanned.fetch_add(items.len() as u64, Ordering::Relaxed);
            self.process_page(segment, items).await?;
            cursor = out.last_evaluated_key().cloned();
            on_page(cursor.as_ref(), items.len() as u64);
            if cursor.is_none() {
                self.counters.segments_done.fetch_add(1, Ordering::Relaxed);
                return Ok(SegmentEnd { cursor: None, scanned });
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(SegmentEnd { cursor, scanned });
            }
        }
    }

    fn err<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(
        &self,
        op: &'static str,
        table: &str,
        e: &aws_sdk_dynamodb::error::SdkError<E, R>,
    ) -> BackfillError {
        BackfillError::Service { op, table: table.to_string(), code: error_code(e) }
    }

    /// Decides, sanitizes and writes one scan page.
    async fn process_page(&self, segment: u32, raw: &[HashMap<String, SdkValue>]) -> Result<(), BackfillError> {
        let c = &self.counters;
        let key_refs: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        // Source items and their shadow keys.
        let mut items: Vec<(Item, Item)> = Vec::with_capacity(raw.len());
        for r in raw {
            let Some(item) = from_sdk(r) else {
                c.unsanitizable.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(segment, "item with an attribute type this build does not know: not written");
                continue;
            };
            let keys = key_attributes(&item, &self.keys);
            match self.sanitizer.sanitize_keys(&keys) {
                Ok(shadow_key) => items.push((item, shadow_key)),
                Err(e) => {
                    c.unsanitizable.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(segment, reason = %e, "item key cannot be sanitized: not written");
                }
            }
        }
        let shadow_keys: Vec<Item> = items.iter().map(|(_, k)| k.clone()).collect();
        let meta = self.read_meta(&shadow_keys).await?;

        let fp = self.sanitizer.fingerprint();
        let mut fills: Vec<Item> = Vec::new();
        let mut resanitize: Vec<(Item, String)> = Vec::new();
        for (item, shadow_key) in items {
            match plan(meta.get(&key_fingerprint(&shadow_key)), fp, self.opts.policy_changed) {
                Plan::Fill => fills.push(item),
                Plan::Resanitize { seq } => {
                    let keys = key_attributes(&item, &self.keys);
                    resanitize.push((keys, seq));
                }
                Plan::Current => drop(c.current.fetch_add(1, Ordering::Relaxed)),
                Plan::Tombstone => drop(c.skipped_newer.fetch_add(1, Ordering::Relaxed)),
                Plan::OldPolicy => drop(c.old_policy.fetch_add(1, Ordering::Relaxed)),
            }
        }
        // Re-read items to re-sanitize, after their metadata (see the module docs).
        let mut reread: Vec<(Item, String)> = Vec::new();
        if !resanitize.is_empty() {
            let source_keys: Vec<Item> = resanitize.iter().map(|(k, _)| k.clone()).collect();
            let fresh = self.batch_get(&self.opts.source_table, &source_keys, None, true).await?;
            for (keys, seq) in resanitize {
                match fresh.get(&key_fingerprint(&keys)) {
                    Some(item) => reread.push((item.clone(), seq)),
                    // Deleted since the scan: the stream's tombstone takes care of it.
                    None => drop(c.skipped_newer.fetch_add(1, Ordering::Relaxed)),
                }
            }
        }

        let started = Instant::now();
        let mut pending = Vec::with_capacity(fills.len() + reread.len());
        let seq0 = backfill_sequence();
        let tagged =
            fills.into_iter().map(|i| (i, seq0.clone(), true)).chain(reread.into_iter().map(|(i, s)| (i, s, false)));
        for (item, seq, fill) in tagged {
            match self.sanitizer.sanitize(&item, &key_refs) {
                Ok((clean, _)) => {
                    pending.push(Pending { write: ShadowWrite::upsert(clean, self.keys.clone(), seq, fp), fill })
                }
                Err(e) => {
                    c.unsanitizable.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(segment, reason = %e, "item cannot be sanitized: not written");
                }
            }
        }
        c.sanitize_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);

        if self.opts.dry_run {
            for p in &pending {
                c.written.fetch_add(1, Ordering::Relaxed);
                if !p.fill {
                    c.resanitized.fetch_add(1, Ordering::Relaxed);
                }
            }
            return Ok(());
        }
        if self.opts.exclusive {
            self.batch_write(segment, pending).await
        } else {
            self.conditional_writes(segment, pending).await
        }
    }

    async fn budget(&self, item: &Item) {
        let units = wcu(item);
        self.counters.milli_wcu.fetch_add((units * 1000.0) as u64, Ordering::Relaxed);
        if let Some(l) = &self.wcu_limit {
            l.acquire(units).await;
        }
        if let Some(l) = &self.item_limit {
            l.acquire(1.0).await;
        }
    }

    async fn conditional_writes(&self, segment: u32, pending: Vec<Pending>) -> Result<(), BackfillError> {
        let results: Vec<Result<(), String>> = stream::iter(pending)
            .map(|p| async move {
                self.budget(&p.write.item).await;
                let expect = (!p.fill).then_some(p.write.seq.as_str());
                let outcome = put_conditional(self.client, &self.opts.shadow_table, &p.write, expect).await;
                self.counters.write_requests.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Ok(true) => {
                        self.counters.written.fetch_add(1, Ordering::Relaxed);
                        if !p.fill {
                            self.counters.resanitized.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(())
                    }
                    Ok(false) => {
                        self.counters.skipped_newer.fetch_add(1, Ordering::Relaxed);
                        Ok(())
                    }
                    Err(code) => Err(code),
                }
            })
            .buffer_unordered(self.opts.concurrency.max(1))
            .collect()
            .await;
        let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        match failed.first() {
            None => Ok(()),
            Some(code) => Err(BackfillError::Writes { segment, count: failed.len(), code: code.clone() }),
        }
    }

    /// Unconditional BatchWriteItem in chunks within DynamoDB's limits (25 items, 16 MB, no
    /// duplicate keys), retrying unprocessed items with backoff.
    async fn batch_write(&self, segment: u32, pending: Vec<Pending>) -> Result<(), BackfillError> {
        for chunk in batch_chunks(pending.into_iter().map(|p| p.write).collect()) {
            for w in &chunk {
                self.budget(&w.item).await;
            }
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|w| {
                    let put = PutRequest::builder().set_item(Some(to_sdk(&w.item))).build().expect("item is set");
                    WriteRequest::builder().put_request(put).build()
                })
                .collect();
            let total = requests.len() as u64;
            let mut attempt = 0;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.opts.shadow_table, requests)
                    .return_consumed_capacity(ReturnConsumedCapacity::None)
                    .send()
                    .await
                    .map_err(|e| BackfillError::Writes { segment, count: chunk.len(), code: error_code(&e) })?;
                self.counters.write_requests.fetch_add(1, Ordering::Relaxed);
                requests =
                    out.unprocessed_items().and_then(|u| u.get(&self.opts.shadow_table)).cloned().unwrap_or_default();
                if !requests.is_empty() {
                    attempt += 1;
                    if attempt > MAX_BATCH_RETRIES {
                        return Err(BackfillError::Unprocessed { op: "BatchWriteItem", count: requests.len() });
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
            self.counters.written.fetch_add(total, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Shadow metadata for these shadow keys (BatchGetItem, 100 keys a call).
    async fn read_meta(&self, keys: &[Item]) -> Result<HashMap<String, ShadowMeta>, BackfillError> {
        let mut names: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        names.extend([SEQ_ATTR, POLICY_ATTR, DELETED_ATTR]);
        let found = self.batch_get(&self.opts.shadow_table, keys, Some(&names), false).await?;
        Ok(found.into_iter().map(|(k, item)| (k, ShadowMeta::of(&item))).collect())
    }

    /// BatchGetItem for many keys, by key fingerprint, retrying unprocessed keys.
    async fn batch_get(
        &self,
        table: &str,
        keys: &[Item],
        projection: Option<&[&str]>,
        consistent: bool,
    ) -> Result<HashMap<String, Item>, BackfillError> {
        let mut found = HashMap::with_capacity(keys.len());
        let mut unique: Vec<&Item> = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            if seen.insert(key_fingerprint(k)) {
                unique.push(k);
            }
        }
        for chunk in unique.chunks(BATCH_GET_MAX_KEYS) {
            let mut req = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|k| to_sdk(k)).collect()))
                .consistent_read(consistent);
            if let Some(p) = projection {
                let expr: Vec<String> = (0..p.len()).map(|i| format!("#a{i}")).collect();
                req = req.projection_expression(expr.join(", "));
                for (i, n) in p.iter().enumerate() {
                    req = req.expression_attribute_names(format!("#a{i}"), *n);
                }
            }
            let mut req = Some(req.build().expect("keys are set"));
            let mut attempt = 0;
            while let Some(r) = req.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(table, r)
                    .send()
                    .await
                    .map_err(|e| self.err("BatchGetItem", table, &e))?;
                self.counters.read_requests.fetch_add(1, Ordering::Relaxed);
                for raw in out.responses().and_then(|r| r.get(table)).map(Vec::as_slice).unwrap_or_default() {
                    if let Some(item) = from_sdk(raw) {
                        let keys = key_attributes(&item, &self.keys);
                        found.insert(key_fingerprint(&keys), item);
                    }
                }
                req = out.unprocessed_keys().and_then(|u| u.get(table)).filter(|k| !k.keys().is_empty()).cloned();
                if req.is_some() {
                    attempt += 1;
                    if attempt > MAX_BATCH_RETRIES {
                        let count = req.map_or(0, |r| r.keys().len());
                        return Err(BackfillError::Unprocessed { op: "BatchGetItem", count });
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        Ok(found)
    }
}

/// A conditional PutItem for backfill and repairs: with `expect` `None`, only if the item
/// has no sequence; otherwise only if its sequence is still `expect`. `Ok(false)`: the
/// condition failed (a stream write got there first).
pub async fn put_conditional(
    client: &Client,
    table: &str,
    write: &ShadowWrite,
    expect: Option<&str>,
) -> Result<bool, String> {
    let req = client
        .put_item()
        .table_name(table)
        .set_item(Some(to_sdk(&write.item)))
        .expression_attribute_names("#seq", SEQ_ATTR);
    let req = match expect {
        None => req.condition_expression("attribute_not_exists(#seq)"),
        Some(seq) => {
            req.condition_expression("#seq = :seq").expression_attribute_values(":seq", SdkValue::S(seq.to_string()))
        }
    };
    match req.send().await {
        Ok(_) => Ok(true),
        Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
            Ok(false)
        }
        Err(e) => Err(error_code(&e)),
    }
}

/// Splits writes into BatchWriteItem requests: at most 25 items and 16 MB each, and no key
/// twice in one request (DynamoDB rejects that; the later write goes to a later request).
pub fn batch_chunks(writes: Vec<ShadowWrite>) -> Vec<Vec<ShadowWrite>> {
    let mut out: Vec<Vec<ShadowWrite>> = Vec::new();
    let mut cur: Vec<ShadowWrite> = Vec::new();
    let mut cur_keys = std::collections::HashSet::new();
    let mut cur_bytes = 0;
    for w in writes {
        let fp = key_fingerprint(&w.keys());
        let size = item_size(&w.item);
        if cur.len() == BATCH_WRITE_MAX_ITEMS || cur_bytes + size > BATCH_WRITE_MAX_BYTES || cur_keys.contains(&fp) {
            out.push(std::mem::take(&mut cur));
            cur_keys.clear();
            cur_bytes = 0;
        }
        cur_keys.insert(fp);
        cur_bytes += size;
        cur.push(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Exponential backoff with jitter for unprocessed batch items: 50 ms doubling, capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let base = 50u64.saturating_mul(1 << attempt.min(7)).min(5000);
    let jitter = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos()
        as u64)
        % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

/// The Lambda (Step Functions) form of a backfill: one segment, from a cursor, until done or
/// out of time. The cursor in the response goes into the next request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRequest {
    pub source_table: String,
    /// The function's own shadow table for this source when empty.
    #[serde(default)]
    pub shadow_table: String,
    pub segment: u32,
    pub total_segments: u32,
    #[serde(default)]
    pub cursor: Option<serde_json::Value>,
    #[serde(default)]
    pub policy_changed: bool,
    #[serde(default)]
    pub dry_run: bool,
    /// Write budget of this one invocation (WCU per second).
    #[serde(default)]
    pub max_wcu: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentResponse {
    pub source_table: String,
    pub shadow_table: String,
    pub segment: u32,
    pub total_segments: u32,
    pub cursor: Option<serde_json::Value>,
    pub policy_changed: bool,
    pub dry_run: bool,
    pub max_wcu: Option<f64>,
    pub done: bool,
    pub summary: Summary,
}

/// Runs one [`SegmentRequest`] until the segment is complete or `deadline` passes.
pub async fn run_segment_request(
    client: &Client,
    sanitizer: &Sanitizer,
    req: SegmentRequest,
    deadline: Option<Instant>,
) -> Result<SegmentResponse, BackfillError> {
    let opts = Options {
        source_table: req.source_table.clone(),
        shadow_table: req.shadow_table.clone(),
        total_segments: req.total_segments,
        policy_changed: req.policy_changed,
        dry_run: req.dry_run,
        exclusive: false,
        max_wcu: req.max_wcu,
        rate: None,
        concurrency: 16,
        page_size: None,
    };
    if req.segment >= req.total_segments {
        return Err(BackfillError::Setup(format!(
            "segment {} is out of range for {} segments",
            req.segment, req.total_segments
        )));
    }
    let cursor = req.cursor.as_ref().map(cursor_from_json).transpose().map_err(BackfillError::Setup)?;
    let bf = Backfill::new(client, sanitizer, opts).await?;
    let end = bf.run_segment(req.segment, cursor, deadline, |_, _| {}).await?;
    Ok(SegmentResponse {
        done: end.cursor.is_none(),
        cursor: end.cursor.as_ref().and_then(cursor_to_json),
        summary: bf.counters.snapshot(),
        source_table: req.source_table,
        shadow_table: req.shadow_table,
        segment: req.segment,
        total_segments: req.total_segments,
        policy_changed: req.policy_changed,
        dry_run: req.dry_run,
        max_wcu: req.max_wcu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(seq: Option<&str>, policy: Option<&str>, deleted: bool) -> ShadowMeta {
        ShadowMeta { seq: seq.map(String::from), policy: policy.map(String::from), deleted }
    }

    #[test]
    fn plans_never_touch_newer_or_deleted_items() {
        assert_eq!(plan(None, "fp", false), Plan::Fill);
        assert_eq!(plan(Some(&meta(None, None, false)), "fp", false), Plan::Fill);
        assert_eq!(plan(Some(&meta(Some("5"), Some("fp"), false)), "fp", true), Plan::Current);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), true)), "fp", true), Plan::Tombstone);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), false)), "fp", false), Plan::OldPolicy);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), false)), "fp", true), Plan::Resanitize { seq: "5".into() });
        assert!(backfill_sequence() < crate::store::pad_sequence("1").unwrap());
    }

    fn write(pk: &str, bytes: usize) -> ShadowWrite {
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S(pk.into())),
            ("body".to_string(), AttributeValue::S("x".repeat(bytes))),
        ]);
        ShadowWrite::upsert(item, vec!["pk".into()], backfill_sequence(), "fp")
    }

    #[test]
    fn batches_respect_dynamodb_limits() {
        let chunks = batch_chunks((0..60).map(|i| write(&format!("k{i}"), 10)).collect());
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), vec![25, 25, 10]);
        // A key twice starts a new batch.
        let chunks = batch_chunks(vec![write("a", 1), write("b", 1), write("a", 1)]);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);
        // 25 items of at most 400 KB stay under 16 MB; the byte rule is a guard.
        let big: Vec<ShadowWrite> = (0..50).map(|i| write(&format!("k{i}"), 390 * 1024)).collect();
        for c in batch_chunks(big) {
            assert!(c.len() <= 25);
            assert!(c.iter().map(|w| item_size(&w.item)).sum::<usize>() <= BATCH_WRITE_MAX_BYTES);
        }
    }

    #[test]
    fn rate_limiter_paces_reservations() {
        let l = RateLimiter::new(100.0);
        assert_eq!(l.reserve(100.0), Duration::ZERO, "a full bucket");
        let wait = l.reserve(50.0);
        assert!(wait >= Duration::from_millis(450) && wait <= Duration::from_millis(510), "{wait:?}");
    }

    #[test]
    fn cursors_round_trip_exactly() {
        let key = HashMap::from([
            ("pk".to_string(), SdkValue::S("user#1".into())),
            ("sk".to_string(), SdkValue::N("12345678901234567890123456789012345678".into())),
        ]);
        let json = cursor_to_json(&key).unwrap();
        assert_eq!(cursor_from_json(&json).unwrap(), key);
        assert!(cursor_from_json(&serde_json::json!({"pk": {"Q": "x"}})).is_err());
    }
}
