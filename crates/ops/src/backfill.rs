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

use dynamo_shadow_core::item::{item_size, item_to_json, key_attributes, key_fingerprint, parse_item, Item};
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_store::{
    Describer, Guard, ScanRequest, Seq, ShadowMeta, ShadowWrite, StoreError, Tables, UnknownType, WriteOutcome,
};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use crate::batch::{batch_chunks, get_many, put_chunk};
use crate::error::OpsError;

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
    pub page_size: Option<u32>,
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
    /// Quarantine markers found (re-sanitized; healed ones are also in `resanitized`).
    pub quarantined: AtomicU64,
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
            quarantined: g(&self.quarantined),
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
    #[serde(default)]
    pub quarantined: u64,
    pub write_requests: u64,
    pub read_requests: u64,
    pub wcu: f64,
    pub sanitize_secs: f64,
    pub segments_done: u64,
}

/// What to do with one scanned item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Missing from the shadow table: write with sequence 0 if it still is.
    Fill,
    /// Written under another policy, or a quarantine marker: re-read, re-sanitize, write if
    /// the sequence is unchanged.
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
        // A record that could not be shadowed: the item may sanitize now (a fixed policy, a
        // fixed stream view type); if not, the marker stays and the item is counted.
        Some(m) if m.quarantined.is_some() => Plan::Resanitize { seq: m.seq.clone().expect("checked") },
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

/// Why a checkpoint does not belong to this run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointMismatch {
    #[error("the checkpoint is for other tables")]
    Tables,
    #[error("the checkpoint has {checkpoint} segments, this run {run}")]
    Segments { checkpoint: u32, run: u32 },
    #[error("the checkpoint was written under another policy")]
    Policy,
    #[error(
        "the checkpoint is for another table of the same name (re-created, or on another endpoint, account or region)"
    )]
    Identity,
    #[error("the checkpoint does not record which tables it is for (written by an older version)")]
    NoIdentity,
}

/// Which tables a checkpoint is for, beyond their names: a table deleted and re-created, or
/// one of the same name on another endpoint, account or region, is another table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableIdentity {
    /// The DynamoDB endpoint URL when one is set (local endpoints), else empty.
    pub endpoint: String,
    pub region: String,
    pub source_arn: Option<String>,
    pub source_table_id: Option<String>,
    pub source_created: Option<i64>,
    pub shadow_arn: Option<String>,
    pub shadow_table_id: Option<String>,
    pub shadow_created: Option<i64>,
}

impl TableIdentity {
    /// Reads both tables' descriptions; `endpoint` and `region` as the caller resolved them.
    pub async fn read<D: Describer>(
        store: &D,
        opts: &Options,
        endpoint: String,
        region: String,
    ) -> Result<TableIdentity, OpsError> {
        let d = |t: &str| {
            let t = t.to_string();
            async move { store.describe(&t).await.map_err(|error| OpsError::Store { table: t, error }) }
        };
        let (src, sh) = (d(&opts.source_table).await?, d(&opts.shadow_table).await?);
        Ok(TableIdentity {
            endpoint,
            region,
            source_arn: src.arn,
            source_table_id: src.table_id,
            source_created: src.created,
            shadow_arn: sh.arn,
            shadow_table_id: sh.table_id,
            shadow_created: sh.created,
        })
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
    /// The tables' identity when the run started (absent in checkpoints of older versions).
    #[serde(default)]
    pub identity: Option<TableIdentity>,
    pub segments: Vec<SegmentState>,
}

impl Checkpoint {
    pub fn new(opts: &Options, policy: &str) -> Self {
        Checkpoint {
            source_table: opts.source_table.clone(),
            shadow_table: opts.shadow_table.clone(),
            total_segments: opts.total_segments,
            policy: policy.to_string(),
            identity: None,
            segments: vec![SegmentState::default(); opts.total_segments as usize],
        }
    }

    /// Whether this checkpoint belongs to the same run (the same tables, by name and
    /// identity, segments and policy).
    pub fn matches_tables(
        &self,
        opts: &Options,
        policy: &str,
        identity: &TableIdentity,
    ) -> Result<(), CheckpointMismatch> {
        self.matches(opts, policy)?;
        match &self.identity {
            None => Err(CheckpointMismatch::NoIdentity),
            Some(i) if i != identity => Err(CheckpointMismatch::Identity),
            Some(_) => Ok(()),
        }
    }

    /// Whether this checkpoint belongs to the same run by names, segments and policy.
    pub fn matches(&self, opts: &Options, policy: &str) -> Result<(), CheckpointMismatch> {
        if self.source_table != opts.source_table || self.shadow_table != opts.shadow_table {
            return Err(CheckpointMismatch::Tables);
        }
        if self.total_segments != opts.total_segments || self.segments.len() != opts.total_segments as usize {
            return Err(CheckpointMismatch::Segments { checkpoint: self.total_segments, run: opts.total_segments });
        }
        if self.policy != policy {
            return Err(CheckpointMismatch::Policy);
        }
        Ok(())
    }

    pub fn is_complete(&self) -> bool {
        self.segments.iter().all(|s| s.done)
    }
}

/// A scan cursor as JSON (for checkpoints and Step Functions state) and back, exactly.
pub fn cursor_to_json(key: &Item) -> serde_json::Value {
    item_to_json(key)
}

pub fn cursor_from_json(v: &serde_json::Value) -> Result<Item, OpsError> {
    parse_item(v).map_err(OpsError::BadCursor)
}

/// The key attribute names of a table (partition key first).
pub async fn key_schema<D: Describer>(store: &D, table: &str) -> Result<Vec<String>, OpsError> {
    let d = store.describe(table).await.map_err(|error| OpsError::Store { table: table.into(), error })?;
    if d.key_names.is_empty() {
        return Err(OpsError::NoKeySchema(table.to_string()));
    }
    Ok(d.key_names)
}

/// The source table's key attribute names, after checking the shadow table has the same key.
pub async fn same_key_schema<D: Describer>(store: &D, source: &str, shadow: &str) -> Result<Vec<String>, OpsError> {
    let keys = key_schema(store, source).await?;
    let shadow_keys = key_schema(store, shadow).await?;
    if keys != shadow_keys {
        return Err(OpsError::KeySchemasDiffer {
            source_table: source.to_string(),
            source_keys: keys.join(", "),
            shadow_table: shadow.to_string(),
            shadow_keys: shadow_keys.join(", "),
        });
    }
    Ok(keys)
}

/// How one segment invocation ended.
/// When a segment run stops: it starts no new page after `pages`, and no write after
/// `writes` (later: the invocation's end, less the time to answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub pages: Instant,
    pub writes: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEnd {
    /// Where to continue; `None` when the segment is complete (or, with `done` false, when
    /// the first page was interrupted: continue from the start).
    pub cursor: Option<Item>,
    pub done: bool,
    pub scanned: u64,
}

/// One backfill: the compiled sanitizer, the store and the budget, shared by its segments.
pub struct Backfill<'a, T> {
    store: &'a T,
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

impl<'a, T: Tables> Backfill<'a, T> {
    /// Reads the source table's key schema and checks the shadow table has the same key.
    pub async fn new(store: &'a T, sanitizer: &'a Sanitizer, opts: Options) -> Result<Self, OpsError> {
        if opts.total_segments == 0 || opts.total_segments > 1_000_000 {
            return Err(OpsError::Segments);
        }
        let keys = same_key_schema(store, &opts.source_table, &opts.shadow_table).await?;
        Ok(Backfill {
            store,
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

    fn store_err(&self, table: &str) -> impl Fn(StoreError) -> OpsError {
        let table = table.to_string();
        move |error| OpsError::Store { table: table.clone(), error }
    }

    /// Scans one segment from `cursor`, page by page. After each page is fully written,
    /// `on_page` gets the new cursor (`None`: the segment is complete) so the caller can
    /// checkpoint. Stops early, returning the cursor, when `deadline` passes: between pages,
    /// and between the writes of a page (no write starts after it), so a slow write budget
    /// cannot carry a page past the invocation's end. An interrupted page is done again from
    /// its start next time; what it wrote is then current and skipped.
    pub async fn run_segment(
        &self,
        segment: u32,
        mut cursor: Option<Item>,
        deadline: Option<Deadline>,
        mut on_page: impl FnMut(Option<&Item>, u64),
    ) -> Result<SegmentEnd, OpsError> {
        let mut scanned = 0;
        loop {
            let page_start = cursor.clone();
            let page = self
                .store
                .scan(ScanRequest {
                    table: &self.opts.source_table,
                    segment,
                    total_segments: self.opts.total_segments,
                    start: cursor.take(),
                    limit: self.opts.page_size,
                })
                .await
                .map_err(self.store_err(&self.opts.source_table))?;
            self.counters.read_requests.fetch_add(1, Ordering::Relaxed);
            let n = page.items.len() as u64;
            scanned += n;
            self.counters.scanned.fetch_add(n, Ordering::Relaxed);
            if !self.process_page(segment, page.items, deadline.map(|d| d.writes)).await? {
                return Ok(SegmentEnd { cursor: page_start, done: false, scanned });
            }
            cursor = page.next;
            on_page(cursor.as_ref(), n);
            if cursor.is_none() {
                self.counters.segments_done.fetch_add(1, Ordering::Relaxed);
                return Ok(SegmentEnd { cursor: None, done: true, scanned });
            }
            if deadline.is_some_and(|d| Instant::now() >= d.pages) {
                return Ok(SegmentEnd { cursor, done: false, scanned });
            }
        }
    }

    /// Decides, sanitizes and writes one scan page; `false` if the deadline interrupted it.
    async fn process_page(
        &self,
        segment: u32,
        raw: Vec<Result<Item, UnknownType>>,
        deadline: Option<Instant>,
    ) -> Result<bool, OpsError> {
        let c = &self.counters;
        let key_refs: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        // Source items and their shadow keys.
        let mut items: Vec<(Item, Item)> = Vec::with_capacity(raw.len());
        for r in raw {
            let Ok(item) = r else {
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
            let m = meta.get(&key_fingerprint(&shadow_key));
            if m.is_some_and(|m| m.quarantined.is_some() && !m.deleted) {
                c.quarantined.fetch_add(1, Ordering::Relaxed);
            }
            match plan(m, fp, self.opts.policy_changed) {
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
            let (fresh, unknown) =
                get_many(self.store, &self.opts.source_table, &source_keys, &self.keys, None, true, &c.read_requests)
                    .await?;
            c.unsanitizable.fetch_add(unknown, Ordering::Relaxed);
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
        let tagged = fills
            .into_iter()
            .map(|i| (i, Seq::backfill(), None))
            .chain(reread.into_iter().map(|(i, s)| (i, Seq::from_stored(&s).unwrap_or_else(Seq::backfill), Some(s))));
        for (item, seq, held) in tagged {
            // Sanitized and within DynamoDB's item limits with the metadata, or why not.
            let write = match self.sanitizer.sanitize(&item, &key_refs) {
                Ok((clean, _)) => {
                    let w = ShadowWrite::upsert(clean, self.keys.clone(), seq.clone(), fp);
                    w.check_limits().map(|()| w).map_err(|e| ("too_large", e.to_string()))
                }
                Err(e) => Err((e.code(), e.to_string())),
            };
            match write {
                Ok(w) => pending.push((Pending { write: w, fill: held.is_none() }, held)),
                Err((code, reason)) => {
                    c.unsanitizable.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(segment, code, reason = %reason, "item cannot be shadowed");
                    // A fill writes nothing; a re-sanitize replaces the old version with a
                    // quarantine marker, so nothing sanitized under the old policy stays.
                    let keys = self.sanitizer.sanitize_keys(&key_attributes(&item, &self.keys));
                    if let (Some(_), Ok(k)) = (&held, keys) {
                        let marker = ShadowWrite::quarantine(k, seq, code, fp);
                        pending.push((Pending { write: marker, fill: false }, held));
                    }
                }
            }
        }
        c.sanitize_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);

        if self.opts.dry_run {
            for (p, _) in &pending {
                c.written.fetch_add(1, Ordering::Relaxed);
                if !p.fill {
                    c.resanitized.fetch_add(1, Ordering::Relaxed);
                }
            }
            return Ok(true);
        }
        if self.opts.exclusive {
            self.batch_write(pending.into_iter().map(|(p, _)| p).collect()).await.map(|()| true)
        } else {
            self.conditional_writes(segment, pending, deadline).await
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

    async fn conditional_writes(
        &self,
        segment: u32,
        pending: Vec<(Pending, Option<String>)>,
        deadline: Option<Instant>,
    ) -> Result<bool, OpsError> {
        let interrupted = std::sync::atomic::AtomicBool::new(false);
        let interrupted = &interrupted;
        let results: Vec<Result<(), StoreError>> = stream::iter(pending)
            .map(|(p, held)| async move {
                // Checked before taking write budget (no reservation piles up behind the
                // deadline) and after waiting for it.
                let past = || deadline.is_some_and(|d| Instant::now() >= d);
                if !past() {
                    self.budget(&p.write.item).await;
                }
                if past() {
                    interrupted.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                let guard = match held {
                    None => Guard::Absent,
                    Some(seq) => Guard::Holds(seq),
                };
                let outcome = self.store.put(&self.opts.shadow_table, &p.write, guard).await;
                self.counters.write_requests.fetch_add(1, Ordering::Relaxed);
                match outcome? {
                    WriteOutcome::Applied => {
                        self.counters.written.fetch_add(1, Ordering::Relaxed);
                        if !p.fill {
                            self.counters.resanitized.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    WriteOutcome::Stale => drop(self.counters.skipped_newer.fetch_add(1, Ordering::Relaxed)),
                }
                Ok(())
            })
            .buffer_unordered(self.opts.concurrency.max(1))
            .collect()
            .await;
        let failed: Vec<StoreError> = results.into_iter().filter_map(Result::err).collect();
        match failed.first() {
            None => Ok(!interrupted.load(Ordering::Relaxed)),
            Some(error) => Err(OpsError::Writes { segment, count: failed.len(), error: error.clone() }),
        }
    }

    /// Unconditional BatchWriteItem in chunks within DynamoDB's limits (25 items, 16 MB, no
    /// duplicate keys), retrying unprocessed items with backoff.
    async fn batch_write(&self, pending: Vec<Pending>) -> Result<(), OpsError> {
        for chunk in batch_chunks(pending.into_iter().map(|p| p.write).collect()) {
            for w in &chunk {
                self.budget(&w.item).await;
            }
            let total = chunk.len() as u64;
            let requests = put_chunk(self.store, &self.opts.shadow_table, chunk).await?;
            self.counters.write_requests.fetch_add(requests, Ordering::Relaxed);
            self.counters.written.fetch_add(total, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Shadow metadata for these shadow keys (BatchGetItem, 100 keys a call).
    async fn read_meta(&self, keys: &[Item]) -> Result<HashMap<String, ShadowMeta>, OpsError> {
        let mut names: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        names.extend(ShadowMeta::ATTRS);
        let (found, _) = get_many(
            self.store,
            &self.opts.shadow_table,
            keys,
            &self.keys,
            Some(&names),
            false,
            &self.counters.read_requests,
        )
        .await?;
        Ok(found.into_iter().map(|(k, item)| (k, ShadowMeta::of(&item))).collect())
    }
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
pub async fn run_segment_request<T: Tables>(
    store: &T,
    sanitizer: &Sanitizer,
    req: SegmentRequest,
    deadline: Option<Deadline>,
) -> Result<SegmentResponse, OpsError> {
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
        return Err(OpsError::SegmentOutOfRange { segment: req.segment, total: req.total_segments });
    }
    let cursor = req.cursor.as_ref().map(cursor_from_json).transpose()?;
    let bf = Backfill::new(store, sanitizer, opts).await?;
    let end = bf.run_segment(req.segment, cursor, deadline, |_, _| {}).await?;
    Ok(SegmentResponse {
        done: end.done,
        cursor: end.cursor.as_ref().map(cursor_to_json),
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
    use dynamo_shadow_core::AttributeValue;

    fn meta(seq: Option<&str>, policy: Option<&str>, deleted: bool) -> ShadowMeta {
        ShadowMeta { seq: seq.map(String::from), policy: policy.map(String::from), deleted, quarantined: None }
    }

    #[test]
    fn plans_never_touch_newer_or_deleted_items() {
        assert_eq!(plan(None, "fp", false), Plan::Fill);
        assert_eq!(plan(Some(&meta(None, None, false)), "fp", false), Plan::Fill);
        assert_eq!(plan(Some(&meta(Some("5"), Some("fp"), false)), "fp", true), Plan::Current);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), true)), "fp", true), Plan::Tombstone);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), false)), "fp", false), Plan::OldPolicy);
        assert_eq!(plan(Some(&meta(Some("5"), Some("old"), false)), "fp", true), Plan::Resanitize { seq: "5".into() });
        // A quarantine marker is re-tried under any policy, with or without policy_changed.
        let q = ShadowMeta { quarantined: Some("too_large".into()), ..meta(Some("5"), Some("fp"), false) };
        assert_eq!(plan(Some(&q), "fp", false), Plan::Resanitize { seq: "5".into() });
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
        let key = Item::from([
            ("pk".to_string(), AttributeValue::S("user#1".into())),
            ("sk".to_string(), AttributeValue::N("12345678901234567890123456789012345678".into())),
        ]);
        let json = cursor_to_json(&key);
        assert_eq!(cursor_from_json(&json).unwrap(), key);
        assert!(cursor_from_json(&serde_json::json!({"pk": {"Q": "x"}})).is_err());
    }
}
