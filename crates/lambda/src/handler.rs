//! The Lambda adapter: a DynamoDB Streams batch in, shadow writes out, and the
//! `batchItemFailures` response that keeps Lambda's retries ordered.
//!
//! Records are grouped by item key. Within a key, records apply in stream order; records
//! after the first one that cannot be handled are reported failed too, so Lambda's
//! retry-from-the-lowest-failed-sequence never skips or reorders a change. Each key's
//! applicable prefix collapses to its newest state (one write, one in flight per key);
//! different keys are written concurrently, bounded by `SHADOW_CONCURRENCY`.
//!
//! Failures come in two kinds. A transient one (throttling, 5xx, a timeout, the invocation's
//! deadline) is reported in `batchItemFailures` and retried. A permanent one (a record that
//! can never be sanitized or written as it is: over the item limit once redacted, a value
//! DynamoDB would reject, an image of another key, an unknown event) is quarantined: the
//! key's shadow item becomes a marker holding no data from the item, the record counts as
//! done, and later records of the key proceed in order. Retrying it could only stall the
//! shard; the source table still holds the item, and `backfill --policy-changed` or
//! `verify --fix` heal the key once the policy handles it.

use std::collections::HashMap;
use std::time::Instant;

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::borrow::Cow;

use dynamo_shadow_core::item::{
    decode_item, key_fingerprint, key_hash, parse_item, path_segment, Checked, Item, ItemError,
};
use dynamo_shadow_core::{Report, SanitizeError, Sanitizer};
use dynamo_shadow_store::{Guard, LimitError, Seq, SeqError, ShadowWrite, ShadowWriter, StoreError, WriteOutcome};
use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::config::Config;
use crate::routes::{NoRoute, Routes};

/// An event that cannot be processed at all: Lambda retries the whole batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event has no `Records` array: not a DynamoDB Streams event")]
    NoRecords,
    #[error("record {index} has no dynamodb.SequenceNumber, so it cannot be reported alone; failing the whole batch")]
    Unidentifiable { index: usize },
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Its sanitized image (or tombstone) was written.
    Written,
    /// Its REMOVE tombstone was written.
    Deleted,
    /// A newer record for the same key in this batch carried its change.
    Coalesced,
    /// The shadow table already held this or a newer sequence.
    Stale,
    /// A MODIFY whose sanitized image did not change: nothing to write.
    Unchanged,
    /// A permanent failure: the key's shadow item is now a quarantine marker (or, when the
    /// key itself cannot be sanitized, no shadow item can exist for it). Not retried.
    Quarantined(RecordError),
    /// Reported in `batchItemFailures`; the reason never contains values.
    Failed(RecordError),
}

/// Why one record was reported failed. Messages name fields, paths, rule ids and codes,
/// never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record has no dynamodb.Keys")]
    NoKeys,
    #[error("malformed Keys: {0}")]
    MalformedKeys(ItemError),
    #[error("malformed {field}: {error}")]
    MalformedImage { field: &'static str, error: ItemError },
    #[error("malformed stream record: missing `{0}`")]
    MissingField(&'static str),
    #[error("malformed stream record: a field has the wrong type")]
    WrongField,
    #[error(transparent)]
    Sequence(#[from] SeqError),
    #[error(transparent)]
    Route(#[from] NoRoute),
    #[error(
        "{event} record has no NewImage (stream view type {view}); the stream must be NEW_IMAGE or NEW_AND_OLD_IMAGES"
    )]
    NoNewImage { event: String, view: String },
    /// The attribute name is shown as paths are: `<key>` when it looks like data.
    #[error("NewImage key attribute `{0}` does not match the record's Keys")]
    KeyMismatch(String),
    #[error("cannot sanitize NewImage: {0}")]
    Sanitize(SanitizeError),
    #[error("cannot sanitize Keys: {0}")]
    SanitizeKeys(SanitizeError),
    #[error("unknown eventName (expected INSERT, MODIFY or REMOVE)")]
    UnknownEvent,
    #[error("an earlier record for the same key failed; retried in order")]
    EarlierFailed,
    #[error(transparent)]
    Limit(#[from] LimitError),
    #[error("the invocation's deadline came before this record's write; retried")]
    Deadline,
    #[error(transparent)]
    Write(#[from] StoreError),
}

impl RecordError {
    /// The reason code of a permanent failure (the record can never be sanitized or
    /// written as it is), `None` for a transient one or one that cannot be tied to a key's
    /// shadow item (no keys, no sequence, no route): those are retried.
    pub fn permanent(&self) -> Option<&'static str> {
        Some(match self {
            RecordError::MalformedImage { .. } => "malformed_image",
            RecordError::NoNewImage { .. } => "no_new_image",
            RecordError::KeyMismatch(_) => "key_mismatch",
            RecordError::Sanitize(e) | RecordError::SanitizeKeys(e) => e.code(),
            RecordError::UnknownEvent => "unknown_event",
            RecordError::Limit(_) => "too_large",
            // DynamoDB refuses the item itself; the same request fails every time.
            RecordError::Write(e) if e.code() == Some("ValidationException") => "rejected",
            _ => return None,
        })
    }
}

/// Counts for the batch summary log line and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchSummary {
    pub records: u64,
    pub written: u64,
    pub deleted: u64,
    pub coalesced: u64,
    pub stale: u64,
    pub unchanged: u64,
    pub quarantined: u64,
    pub failed: u64,
    pub write_requests: u64,
    pub redactions: Report,
    pub sanitize_micros: u64,
}

/// The outcome of one batch.
#[derive(Debug, Clone)]
pub struct BatchResult {
    pub response: DynamoDbEventResponse,
    pub summary: BatchSummary,
    /// (sequence number, status) per record, in event order.
    pub statuses: Vec<(String, Status)>,
}

enum Plan {
    Put(Item),
    /// Applicable, but a newer record of the same key carries the change: its image is
    /// already dropped.
    Covered,
    /// The sanitized key of the removed item.
    Remove(Item),
    /// A permanent failure, with the sanitized key for its marker (`None` when the key
    /// itself cannot be sanitized: then no shadow item can exist for it).
    Quarantine(RecordError, Option<Item>),
    Failed(RecordError),
}

struct Planned {
    index: usize,
    seq: String,
    padded: Option<Seq>,
    keys: Item,
    route: usize,
    plan: Plan,
    unchanged: bool,
}

/// The stream handler: holds the compiled routes and the store, built once in `main`.
pub struct StreamHandler<S> {
    routes: Routes,
    store: S,
    config: Config,
}

impl<S: ShadowWriter> StreamHandler<S> {
    pub fn new(routes: Routes, store: S, config: Config) -> Self {
        StreamHandler { routes, store, config }
    }

    /// A single-table handler writing to `config.shadow_table`.
    pub fn single(sanitizer: Sanitizer, store: S, config: Config) -> Self {
        let table = config.shadow_table.clone().expect("single-table handler needs SHADOW_TABLE");
        Self::new(Routes::single(table, sanitizer), store, config)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store back (a new handler over the same store: a redeploy in tests).
    pub fn into_store(self) -> S {
        self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Handles one Lambda event given as a JSON value (tests, redrive).
    pub async fn handle(&self, event: &Value, now: u64) -> Result<BatchResult, EventError> {
        self.handle_json(&event.to_string(), now).await
    }

    /// Handles one Lambda event with no deadline.
    pub async fn handle_json(&self, event: &str, now: u64) -> Result<BatchResult, EventError> {
        self.handle_json_until(event, now, None).await
    }

    /// Handles one Lambda event, straight from its JSON text. Records are decoded one at a
    /// time from borrowed slices of the text (no tree of the whole event); each record's
    /// images are dropped once its write is planned, and a key's older planned images once a
    /// newer record of the key supersedes them, so memory follows distinct keys, not records.
    /// `now` is epoch seconds (tombstone expiry). From `deadline` on, no write starts and a
    /// write in flight is abandoned: what is not applied is reported failed (and retried),
    /// so a slow endpoint gives partial failures, never a function timeout.
    pub async fn handle_json_until(
        &self,
        event: &str,
        now: u64,
        deadline: Option<Instant>,
    ) -> Result<BatchResult, EventError> {
        #[derive(Deserialize)]
        struct EventIn<'a> {
            #[serde(rename = "Records", borrow, default)]
            records: Option<&'a RawValue>,
        }
        let ev: EventIn<'_> = serde_json::from_str(event).map_err(|_| EventError::NoRecords)?;
        let records: Vec<&RawValue> =
            ev.records.and_then(|r| serde_json::from_str(r.get()).ok()).ok_or(EventError::NoRecords)?;
        let started = std::time::Instant::now();
        let mut summary = BatchSummary { records: records.len() as u64, ..Default::default() };
        // Group by key as records are planned, keeping stream order inside each group and
        // first-seen order across.
        let mut groups: Vec<Vec<Planned>> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for (index, raw) in records.iter().enumerate() {
            let p = self.plan(index, raw, &mut summary.redactions)?;
            if p.keys.is_empty() {
                groups.push(vec![p]);
                continue;
            }
            let fp = format!("{}\u{0}{}", p.route, key_fingerprint(&p.keys));
            match by_key.get(&fp) {
                Some(&g) => {
                    let group = &mut groups[g];
                    let failed_before = group.iter().any(|q| matches!(q.plan, Plan::Failed(_)));
                    // A newer applicable record supersedes the image of the one before it.
                    if !failed_before && !matches!(p.plan, Plan::Failed(_)) {
                        if let Some(prev) = group.last_mut() {
                            prev.plan = Plan::Covered;
                        }
                    }
                    group.push(p);
                }
                None => {
                    by_key.insert(fp, groups.len());
                    groups.push(vec![p]);
                }
            }
        }
        summary.sanitize_micros = started.elapsed().as_micros() as u64;

        let results: Vec<Vec<(usize, String, Status, bool)>> = stream::iter(groups)
            .map(|g| self.apply_group(g, now, deadline))
            .buffer_unordered(self.config.concurrency)
            .collect()
            .await;

        let mut statuses: Vec<(usize, String, Status)> = Vec::with_capacity(records.len());
        for group in results {
            for (index, seq, status, wrote) in group {
                summary.write_requests += wrote as u64;
                statuses.push((index, seq, status));
            }
        }
        statuses.sort_by_key(|(i, _, _)| *i);
        let mut response = DynamoDbEventResponse::default();
        for (_, seq, status) in &statuses {
            match status {
                Status::Written => summary.written += 1,
                Status::Deleted => summary.deleted += 1,
                Status::Coalesced => summary.coalesced += 1,
                Status::Stale => summary.stale += 1,
                Status::Unchanged => summary.unchanged += 1,
                Status::Quarantined(_) => summary.quarantined += 1,
                Status::Failed(reason) => {
                    summary.failed += 1;
                    tracing::warn!(sequence_number = %seq, reason = %reason, "record failed");
                    let mut f = DynamoDbBatchItemFailure::default();
                    f.item_identifier = Some(seq.clone());
                    response.batch_item_failures.push(f);
                }
            }
        }
        Ok(BatchResult { response, summary, statuses: statuses.into_iter().map(|(_, s, st)| (s, st)).collect() })
    }

    /// Decodes and sanitizes one record. Only a record with no sequence number is fatal.
    fn plan(&self, index: usize, raw: &RawValue, redactions: &mut Report) -> Result<Planned, EventError> {
        // What every record must give to be reported alone, read leniently first.
        #[derive(Deserialize)]
        struct Head<'a> {
            #[serde(borrow)]
            dynamodb: Option<HeadChange<'a>>,
            #[serde(rename = "eventSourceARN", borrow, default)]
            arn: Option<&'a RawValue>,
        }
        #[derive(Deserialize)]
        struct HeadChange<'a> {
            #[serde(rename = "SequenceNumber", borrow)]
            seq: Option<Cow<'a, str>>,
            #[serde(rename = "Keys", borrow)]
            keys: Option<&'a RawValue>,
        }
        let head: Head<'_> = serde_json::from_str(raw.get()).map_err(|_| EventError::Unidentifiable { index })?;
        let change = head.dynamodb.ok_or(EventError::Unidentifiable { index })?;
        let raw_seq = change.seq.ok_or(EventError::Unidentifiable { index })?.into_owned();
        let mut p = Planned {
            index,
            seq: raw_seq.clone(),
            padded: None,
            keys: Item::new(),
            route: 0,
            plan: Plan::Failed(RecordError::NoKeys),
            unchanged: false,
        };
        // Keys first, so even a malformed record is grouped with its key.
        match change.keys.filter(|k| k.get() != "null").map(|k| decode_item(k.get())) {
            Some(Ok(k)) if !k.get().is_empty() => p.keys = k.into_inner(),
            Some(Err(e)) => {
                p.plan = Plan::Failed(RecordError::MalformedKeys(e));
                return Ok(p);
            }
            _ => return Ok(p),
        }
        // The stream label orders records across streams; a wrongly typed ARN fails the
        // strict parse below.
        let arn: Option<Cow<'_, str>> = head.arn.and_then(|a| serde_json::from_str(a.get()).ok());
        match Seq::of_record(arn.as_deref(), &raw_seq) {
            Ok(s) => p.padded = Some(s),
            Err(e) => {
                p.plan = Plan::Failed(e.into());
                return Ok(p);
            }
        }
        let record: Strict<'_> = match serde_json::from_str(raw.get()) {
            Ok(r) => r,
            Err(_) => {
                p.plan = Plan::Failed(describe_malformed(raw));
                return Ok(p);
            }
        };
        match self.routes.for_arn(record.source_arn.as_deref()) {
            Ok(r) => p.route = r,
            Err(e) => {
                p.plan = Plan::Failed(e.into());
                return Ok(p);
            }
        }
        let sanitizer = &self.routes.get(p.route).sanitizer;
        let key_names: Vec<&str> = p.keys.keys().map(String::as_str).collect();
        let image = |field: &'static str, v: Option<&RawValue>| -> Result<Option<Checked>, RecordError> {
            match v.filter(|v| v.get() != "null") {
                None => Ok(None),
                Some(v) => decode_item(v.get()).map(Some).map_err(|error| RecordError::MalformedImage { field, error }),
            }
        };
        p.plan = match &*record.event_name {
            "INSERT" | "MODIFY" => match image("NewImage", record.dynamodb.new_image) {
                Err(e) => Plan::Failed(e),
                Ok(None) => Plan::Failed(no_new_image(&record)),
                Ok(Some(new_image)) if new_image.get().is_empty() => Plan::Failed(no_new_image(&record)),
                Ok(Some(new_image)) => {
                    if let Some(k) = p.keys.iter().find(|(k, v)| new_image.get().get(*k) != Some(*v)).map(|(k, _)| k) {
                        // Grouping and ordering are by Keys: an image of another item would be
                        // written out of order. Fail closed.
                        Plan::Failed(RecordError::KeyMismatch(path_segment(k).to_string()))
                    } else {
                        match sanitizer.sanitize_checked(new_image, &key_names) {
                            Err(e) => Plan::Failed(RecordError::Sanitize(e)),
                            Ok((item, report)) => {
                                if &*record.event_name == "MODIFY" {
                                    // Skipped when the sanitized image did not change (only a
                                    // dropped attribute did); a bad OldImage just means a write.
                                    if let Ok(Some(old)) = image("OldImage", record.dynamodb.old_image) {
                                        p.unchanged = !old.get().is_empty()
                                            && sanitizer
                                                .sanitize_checked(old, &key_names)
                                                .is_ok_and(|(o, _)| o == item);
                                    }
                                }
                                redactions.absorb_counts(&report);
                                Plan::Put(item)
                            }
                        }
                    }
                }
            },
            // The tombstone's key goes through the policy too (a tokenized key maps to the
            // same shadow item its INSERT wrote).
            "REMOVE" => match sanitizer.sanitize_keys(&p.keys) {
                Ok(k) => Plan::Remove(k),
                Err(e) => Plan::Failed(RecordError::SanitizeKeys(e)),
            },
            _ => Plan::Failed(RecordError::UnknownEvent),
        };
        if let Plan::Failed(e) = &p.plan {
            if e.permanent().is_some() {
                let Plan::Failed(e) = std::mem::replace(&mut p.plan, Plan::Covered) else { unreachable!() };
                p.plan = Plan::Quarantine(e, sanitizer.sanitize_keys(&p.keys).ok());
            }
        }
        Ok(p)
    }

    async fn apply_group(
        &self,
        group: Vec<Planned>,
        now: u64,
        deadline: Option<Instant>,
    ) -> Vec<(usize, String, Status, bool)> {
        let first_bad = group.iter().position(|p| matches!(p.plan, Plan::Failed(_))).unwrap_or(group.len());
        let mut out = Vec::with_capacity(group.len());
        let mut group = group.into_iter();
        let applicable: Vec<Planned> = group.by_ref().take(first_bad).collect();
        if let Some(last) = applicable.last() {
            if applicable.iter().all(|p| p.unchanged) {
                out.extend(applicable.iter().map(|p| (p.index, p.seq.clone(), Status::Unchanged, false)));
            } else {
                let (last_status, wrote) = self.apply_last(last, now, deadline).await;
                let n = applicable.len();
                for (i, p) in applicable.iter().enumerate() {
                    let status = match &last_status {
                        // Applied: the older records' changes are carried by the last one.
                        Status::Written | Status::Deleted | Status::Quarantined(_) if i + 1 < n => Status::Coalesced,
                        s => s.clone(),
                    };
                    out.push((p.index, p.seq.clone(), status, i + 1 == n && wrote));
                }
            }
        }
        for (i, p) in group.enumerate() {
            let status = match (i, p.plan) {
                (0, Plan::Failed(reason)) => Status::Failed(reason),
                _ => Status::Failed(RecordError::EarlierFailed),
            };
            out.push((p.index, p.seq, status, false));
        }
        out
    }

    /// Writes the newest applicable state of a key: its image, its tombstone or its
    /// quarantine marker. Returns the record's status and whether a request was made.
    async fn apply_last(&self, last: &Planned, now: u64, deadline: Option<Instant>) -> (Status, bool) {
        let route = self.routes.get(last.route);
        let seq = last.padded.clone().expect("applicable records have a sequence");
        let fp = route.sanitizer.fingerprint();
        // A marker for the key, and the error it stands for.
        let marker = |error: RecordError, keys: &Item| {
            let w = ShadowWrite::quarantine(keys.clone(), seq.clone(), error.permanent().unwrap_or("rejected"), fp);
            (w, Some(error))
        };
        let (mut write, mut quarantined) = match &last.plan {
            Plan::Put(item) => {
                let w = ShadowWrite::upsert(item.clone(), last.keys.keys().cloned().collect(), seq.clone(), fp);
                match w.check_limits() {
                    Ok(()) => (w, None),
                    // The image was sanitized, so its key was too.
                    Err(e) => marker(e.into(), &w.keys()),
                }
            }
            Plan::Remove(keys) => {
                (ShadowWrite::tombstone(keys.clone(), seq.clone(), now + self.config.tombstone_ttl_secs, fp), None)
            }
            Plan::Quarantine(error, Some(keys)) => marker(error.clone(), keys),
            Plan::Quarantine(error, None) => return (self.quarantined(last, error.clone(), None), false),
            Plan::Failed(_) | Plan::Covered => unreachable!("the last applicable record holds its plan"),
        };
        let mut result = self.put(&route.shadow_table, &write, deadline).await;
        // DynamoDB refused the item itself: quarantine the key instead of retrying forever.
        if let Err(error) = &result {
            if error.permanent().is_some() && quarantined.is_none() && !write.is_tombstone() {
                (write, quarantined) = marker(error.clone(), &write.keys());
                result = self.put(&route.shadow_table, &write, deadline).await;
            }
        }
        let status = match result {
            Ok(WriteOutcome::Stale) => Status::Stale,
            Ok(WriteOutcome::Applied) => match quarantined {
                Some(e) => self.quarantined(last, e, Some(&write.keys())),
                None if write.is_tombstone() => Status::Deleted,
                None => Status::Written,
            },
            // Even the key and metadata alone are refused (a key of the wrong type for the
            // table, say): no shadow item can ever exist for this key, so nothing stale can
            // be served for it either.
            Err(e) if e.permanent().is_some() => self.quarantined(last, quarantined.unwrap_or(e), None),
            Err(e) => Status::Failed(e),
        };
        // During a key rotation a tokenized key has a second shadow item, under the previous
        // key's token: a delete tombstones it too (retried with the record if that fails).
        if let (Plan::Remove(keys), Some(prev), Status::Deleted | Status::Stale) =
            (&last.plan, &route.previous, &status)
        {
            let names: Vec<&str> = last.keys.keys().map(String::as_str).collect();
            let old = prev.tokenizes_keys(&names).then(|| prev.sanitize_keys(&last.keys).ok()).flatten();
            if let Some(old) = old.filter(|old| old != keys) {
                let t =
                    ShadowWrite::tombstone(old, seq.clone(), now + self.config.tombstone_ttl_secs, prev.fingerprint());
                if let Err(e) = self.put(&route.shadow_table, &t, deadline).await {
                    return (Status::Failed(e), true);
                }
            }
        }
        (status, true)
    }

    /// One conditional write, abandoned at the deadline.
    async fn put(
        &self,
        table: &str,
        write: &ShadowWrite,
        deadline: Option<Instant>,
    ) -> Result<WriteOutcome, RecordError> {
        let put = self.store.put(table, write, Guard::Newer);
        match deadline {
            None => put.await.map_err(RecordError::Write),
            Some(d) if Instant::now() >= d => Err(RecordError::Deadline),
            Some(d) => match tokio::time::timeout_at(d.into(), put).await {
                Ok(r) => r.map_err(RecordError::Write),
                Err(_) => Err(RecordError::Deadline),
            },
        }
    }

    /// The status of a quarantined record, and its log line: the key's hash (of the shadow
    /// key when there is one), the reason code and the error, which names paths and rule
    /// ids, never values.
    fn quarantined(&self, last: &Planned, error: RecordError, shadow_key: Option<&Item>) -> Status {
        let hash = key_hash(shadow_key.unwrap_or(&last.keys));
        tracing::warn!(
            key_hash = %hash,
            sequence_number = %last.seq,
            reason = error.permanent().unwrap_or("rejected"),
            error = %error,
            marker = shadow_key.is_some(),
            "record quarantined"
        );
        Status::Quarantined(error)
    }
}

/// A stream record with the field types Lambda's event format has (`aws_lambda_events`'s
/// `EventRecord`): a record that does not fit fails alone. Images stay raw slices.
#[derive(Deserialize)]
struct Strict<'a> {
    #[serde(rename = "awsRegion", borrow)]
    _aws_region: Cow<'a, str>,
    #[serde(rename = "eventID", borrow)]
    _event_id: Cow<'a, str>,
    #[serde(rename = "eventName", borrow)]
    event_name: Cow<'a, str>,
    #[serde(rename = "eventSource", borrow, default)]
    _event_source: Option<Cow<'a, str>>,
    #[serde(rename = "eventVersion", borrow, default)]
    _event_version: Option<Cow<'a, str>>,
    #[serde(rename = "eventSourceARN", borrow, default)]
    source_arn: Option<Cow<'a, str>>,
    #[serde(rename = "recordFormat", borrow, default)]
    _record_format: Option<Cow<'a, str>>,
    #[serde(rename = "tableName", borrow, default)]
    _table_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dynamodb: StrictChange<'a>,
}

#[derive(Deserialize)]
struct StrictChange<'a> {
    #[serde(rename = "ApproximateCreationDateTime", default)]
    _created: Option<f64>,
    #[serde(rename = "SizeBytes")]
    _size_bytes: i64,
    #[serde(rename = "StreamViewType", default)]
    view: Option<ViewType>,
    #[serde(rename = "NewImage", borrow, default)]
    new_image: Option<&'a RawValue>,
    #[serde(rename = "OldImage", borrow, default)]
    old_image: Option<&'a RawValue>,
}

#[derive(Deserialize, Clone, Copy)]
#[allow(clippy::enum_variant_names)]
enum ViewType {
    #[serde(rename = "KEYS_ONLY")]
    KeysOnly,
    #[serde(rename = "NEW_IMAGE")]
    NewImage,
    #[serde(rename = "OLD_IMAGE")]
    OldImage,
    #[serde(rename = "NEW_AND_OLD_IMAGES")]
    NewAndOldImages,
}

fn no_new_image(r: &Strict<'_>) -> RecordError {
    let view = match r.dynamodb.view {
        None => "unknown",
        Some(ViewType::KeysOnly) => "KEYS_ONLY",
        Some(ViewType::NewImage) => "NEW_IMAGE",
        Some(ViewType::OldImage) => "OLD_IMAGE",
        Some(ViewType::NewAndOldImages) => "NEW_AND_OLD_IMAGES",
    };
    RecordError::NoNewImage { event: r.event_name.to_string(), view: view.to_string() }
}

/// Says which part of a record is malformed without quoting it.
fn describe_malformed(raw: &RawValue) -> RecordError {
    let Ok(raw) = serde_json::from_str::<Value>(raw.get()) else { return RecordError::WrongField };
    for (field, pointer) in [("NewImage", "/dynamodb/NewImage"), ("OldImage", "/dynamodb/OldImage")] {
        if let Some(v) = raw.pointer(pointer) {
            if !v.is_null() {
                if let Err(error) = parse_item(v) {
                    return RecordError::MalformedImage { field, error };
                }
            }
        }
    }
    for field in ["eventName", "eventID", "awsRegion", "dynamodb"] {
        if raw.get(field).is_none() {
            return RecordError::MissingField(field);
        }
    }
    RecordError::WrongField
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::source_table_name;
    use dynamo_shadow_core::{AttributeValue, Policy};
    use dynamo_shadow_store::layout::{DELETED_ATTR, EXPIRES_ATTR, QUARANTINE_ATTR, SEQ_ATTR};
    use dynamo_shadow_testkit::MemoryStore;
    use serde_json::json;

    fn cfg() -> Config {
        Config::from_env(|k| (k == "SHADOW_TABLE").then(|| "shadow".to_string())).unwrap()
    }

    fn handler() -> StreamHandler<MemoryStore> {
        StreamHandler::single(Sanitizer::default_policy(), MemoryStore::default(), cfg())
    }

    fn rec(name: &str, seq: &str, pk: &str, new: Option<Value>, old: Option<Value>) -> Value {
        let mut d = json!({"Keys": {"pk": {"S": pk}}, "SequenceNumber": seq, "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1700000000});
        if let Some(n) = new {
            d["NewImage"] = n;
        }
        if let Some(o) = old {
            d["OldImage"] = o;
        }
        json!({"eventID": format!("e{seq}"), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
               "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/src/stream/2024-01-01T00:00:00.000", "dynamodb": d})
    }

    fn img(pk: &str, note: &str) -> Value {
        json!({"pk": {"S": pk}, "note": {"S": note}, "api_key": {"S": "sk_live_abcdefghijklmnop1234"}})
    }

    fn key(pk: &str) -> Item {
        Item::from([("pk".to_string(), AttributeValue::S(pk.into()))])
    }

    fn failures(r: &BatchResult) -> Vec<String> {
        r.response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect()
    }

    #[test]
    fn config_is_validated_naming_the_variable() {
        // Without SHADOW_TABLE a single-table policy has nowhere to write.
        let no_table = Config::from_env(|_| None).unwrap();
        let e = Routes::from_policy(&Policy::default(), &no_table, None).err().unwrap();
        assert!(e.to_string().starts_with("SHADOW_TABLE:"), "{e}");
        let e = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| "a b".to_string())).unwrap_err();
        assert_eq!(e.var, "SHADOW_TABLE");
        let e = Config::from_env(|k| match k {
            "SHADOW_TABLE" => Some("shadow".into()),
            "SHADOW_CONCURRENCY" => Some("0".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(e.var, "SHADOW_CONCURRENCY");
        let e = Config::from_env(|k| match k {
            "SHADOW_TABLE" => Some("shadow".into()),
            "SHADOW_TOMBSTONE_TTL_HOURS" => Some("24".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(e.var, "SHADOW_TOMBSTONE_TTL_HOURS");
        assert_eq!(cfg().concurrency, 16);
        assert_eq!(cfg().tombstone_ttl_secs, 72 * 3600);
        // The write deadline: the margin before the invocation's, at most half the time left.
        let c = cfg();
        let at = |deadline_ms: u64| c.write_deadline(deadline_ms, 1_000_000).duration_since(Instant::now()).as_millis();
        assert!((57_000..=58_000).contains(&at(1_060_000)), "{}", at(1_060_000));
        assert!((900..=1_000).contains(&at(1_002_000)), "a 2 s budget keeps 1 s: {}", at(1_002_000));
        assert_eq!(at(999_000), 0, "already past");
        // Epoch milliseconds are checked; a duration (`cargo lambda watch`) is no deadline.
        let now = 1_796_169_526_010;
        assert!(c.checked_write_deadline(now + 60_000, now).is_some());
        assert!(c.checked_write_deadline(600_000, now).is_none());
    }

    #[tokio::test]
    async fn insert_modify_remove_and_replay() {
        let h = handler();
        let ev = json!({"Records": [
            rec("INSERT", "100000000000000000001", "a", Some(img("a", "mail alice@example.com")), None),
            rec("INSERT", "100000000000000000002", "b", Some(img("b", "hi")), None),
            rec("REMOVE", "100000000000000000003", "b", None, Some(img("b", "hi"))),
        ]});
        let r = h.handle(&ev, 1_000).await.unwrap();
        assert!(failures(&r).is_empty());
        let a = h.store().get("shadow", &key("a")).unwrap();
        assert_eq!(a["note"], AttributeValue::S("mail [REDACTED:EMAIL]".into()));
        assert!(!a.contains_key("api_key"));
        assert_eq!(
            a[SEQ_ATTR],
            AttributeValue::S(format!("2024-01-01T00:00:00.000/{:0>40}", "100000000000000000001")),
            "the position is the stream label, then the padded sequence"
        );
        let b = h.store().get("shadow", &key("b")).unwrap();
        assert_eq!(b[DELETED_ATTR], AttributeValue::Bool(true));
        assert_eq!(b[EXPIRES_ATTR], AttributeValue::N((1_000 + 72 * 3600).to_string()));
        assert_eq!(r.summary.written, 1);
        assert_eq!(r.summary.deleted, 1);
        assert_eq!(r.summary.coalesced, 1, "b's insert was carried by its tombstone");
        assert_eq!(r.summary.write_requests, 2);
        // Replay: everything is stale, nothing changes, nothing fails.
        let r2 = h.handle(&ev, 2_000).await.unwrap();
        assert!(failures(&r2).is_empty());
        assert_eq!(r2.summary.stale, 3);
        assert_eq!(h.store().get("shadow", &key("a")).unwrap(), a);
        // An old record redriven after the delete does not resurrect b.
        let old = json!({"Records": [rec("INSERT", "100000000000000000002", "b", Some(img("b", "hi")), None)]});
        let r3 = h.handle(&old, 3_000).await.unwrap();
        assert_eq!(r3.statuses[0].1, Status::Stale);
        assert_eq!(h.store().get("shadow", &key("b")).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));
    }

    fn quarantine_of(h: &StreamHandler<MemoryStore>, pk: &str) -> Option<String> {
        let item = h.store().get("shadow", &key(pk))?;
        // A marker holds the key and metadata only.
        assert!(item.keys().all(|k| k == "pk" || k.starts_with("_shadow_")), "{:?}", item.keys());
        match item.get(QUARANTINE_ATTR) {
            Some(AttributeValue::S(code)) => Some(code.clone()),
            _ => None,
        }
    }

    #[tokio::test]
    async fn an_image_of_another_item_than_its_keys_is_quarantined() {
        let h = handler();
        let ev = json!({"Records": [
            rec("INSERT", "100000000000000000001", "a", Some(img("b", "hi")), None),
            rec("INSERT", "100000000000000000002", "c", Some(img("c", "ok")), None),
        ]});
        let r = h.handle(&ev, 1_000).await.unwrap();
        assert!(failures(&r).is_empty());
        assert!(matches!(&r.statuses[0].1, Status::Quarantined(RecordError::KeyMismatch(_))));
        assert_eq!(quarantine_of(&h, "a").as_deref(), Some("key_mismatch"));
        assert!(h.store().get("shadow", &key("b")).is_none());
        assert!(h.store().get("shadow", &key("c")).is_some());
        assert_eq!(r.summary.quarantined, 1);
    }

    /// A real item that grows past 400 KB once its URL credentials are redacted.
    fn growing_image(pk: &str) -> Value {
        let log =
            "https://a:b@h/ lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".repeat(4000);
        json!({"pk": {"S": pk}, "log": {"S": log}})
    }

    #[tokio::test]
    async fn a_permanent_failure_replaces_the_old_version_and_later_records_proceed() {
        let h = handler();
        let r = h
            .handle(&json!({"Records": [rec("INSERT", "200000000000000000001", "q1", Some(img("q1", "v1")), None)]}), 0)
            .await
            .unwrap();
        assert_eq!(r.statuses[0].1, Status::Written);
        // A MODIFY that can never be shadowed: quarantined, not retried, and the old
        // version is no longer readable.
        let poison =
            json!({"Records": [rec("MODIFY", "200000000000000000002", "q1", Some(growing_image("q1")), None)]});
        let r = h.handle(&poison, 0).await.unwrap();
        assert!(failures(&r).is_empty(), "a permanent failure is not retried");
        let Status::Quarantined(reason) = &r.statuses[0].1 else { panic!("{:?}", r.statuses) };
        assert!(reason.to_string().contains("400 KB"), "{reason}");
        assert!(!reason.to_string().contains("https://a:b@h"));
        assert_eq!(quarantine_of(&h, "q1").as_deref(), Some("too_large"));
        assert_eq!(r.summary.quarantined, 1);
        // A replay is stale; the REMOVE after it tombstones the key.
        assert_eq!(h.handle(&poison, 0).await.unwrap().statuses[0].1, Status::Stale);
        let r =
            h.handle(&json!({"Records": [rec("REMOVE", "200000000000000000003", "q1", None, None)]}), 0).await.unwrap();
        assert_eq!(r.statuses[0].1, Status::Deleted);
        assert_eq!(h.store().get("shadow", &key("q1")).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));

        // In one batch: a poison record then a good one of the same key, and a KEYS_ONLY
        // record last for another key.
        let keys_only = {
            let mut r = rec("MODIFY", "200000000000000000006", "b", None, None);
            r["dynamodb"]["StreamViewType"] = json!("KEYS_ONLY");
            r
        };
        let ev = json!({"Records": [
            rec("INSERT", "200000000000000000004", "a", Some(growing_image("a")), None),
            rec("MODIFY", "200000000000000000005", "a", Some(img("a", "v2")), None),
            rec("INSERT", "200000000000000000005", "b", Some(img("b", "v1")), None),
            keys_only,
        ]});
        let r = h.handle(&ev, 0).await.unwrap();
        assert!(failures(&r).is_empty());
        assert_eq!(r.statuses[0].1, Status::Coalesced, "the newer record carries the key's state");
        assert_eq!(h.store().get("shadow", &key("a")).unwrap()["note"], AttributeValue::S("v2".into()));
        let Status::Quarantined(reason) = &r.statuses[3].1 else { panic!() };
        assert!(reason.to_string().contains("KEYS_ONLY"), "{reason}");
        assert_eq!(quarantine_of(&h, "b").as_deref(), Some("no_new_image"));
    }

    #[tokio::test]
    async fn the_size_check_counts_the_metadata() {
        let h = handler();
        // Fits as an image; the shadow metadata pushes it over 400 KB.
        let body = "x".repeat(dynamo_shadow_core::item::MAX_ITEM_BYTES - 2 - 1 - 3 - 40);
        let ev = json!({"Records": [rec("INSERT", "210000000000000000001", "a", Some(json!({"pk": {"S": "a"}, "b": {"S": body}})), None)]});
        let r = h.handle(&ev, 0).await.unwrap();
        assert!(matches!(&r.statuses[0].1, Status::Quarantined(RecordError::Limit(_))), "{:?}", r.statuses[0].1);
        assert_eq!(quarantine_of(&h, "a").as_deref(), Some("too_large"));
    }

    #[tokio::test]
    async fn a_rejected_write_is_quarantined_and_a_rejected_key_has_no_marker() {
        let h = handler();
        // The store refuses the image (as DynamoDB does with a ValidationException).
        *h.store().reject_items_with.lock().unwrap() = Some("poison_attr".into());
        let mut image = img("a", "v1");
        image["poison_attr"] = json!({"S": "x"});
        let r = h
            .handle(&json!({"Records": [rec("INSERT", "220000000000000000001", "a", Some(image), None)]}), 0)
            .await
            .unwrap();
        assert!(failures(&r).is_empty());
        assert!(matches!(&r.statuses[0].1, Status::Quarantined(RecordError::Write(_))), "{:?}", r.statuses[0].1);
        assert_eq!(quarantine_of(&h, "a").as_deref(), Some("rejected"));
        // A key the table refuses: not even a marker can be written; counted, not retried.
        *h.store().reject_items_with.lock().unwrap() = Some("pk".into());
        let r = h
            .handle(&json!({"Records": [rec("INSERT", "220000000000000000002", "z", Some(img("z", "v1")), None)]}), 0)
            .await
            .unwrap();
        assert!(failures(&r).is_empty());
        assert!(matches!(&r.statuses[0].1, Status::Quarantined(_)));
        assert!(h.store().get("shadow", &key("z")).is_none());
        // A throttled write stays a retried failure.
        *h.store().reject_items_with.lock().unwrap() = None;
        h.store().failing_keys.lock().unwrap().push(key_fingerprint(&key("t")));
        let r = h
            .handle(&json!({"Records": [rec("INSERT", "220000000000000000003", "t", Some(img("t", "v1")), None)]}), 0)
            .await
            .unwrap();
        assert_eq!(failures(&r), ["220000000000000000003"]);
    }

    #[tokio::test]
    async fn during_a_key_rotation_a_delete_tombstones_both_tokens() {
        let policy = Policy::parse(
            "version = 1\nkeys = [\"pk\"]\n[[rule]]\npath = \"pk\"\naction = \"tokenize\"\n",
            "rotation.toml",
        )
        .unwrap();
        let (old_key, new_key) =
            (b"old-key-0123456789abcdef0123456789".to_vec(), b"new-key-0123456789abcdef0123456789".to_vec());
        let before = Routes::from_policy(&policy, &cfg(), Some(old_key.clone())).unwrap();
        let old = StreamHandler::new(before, MemoryStore::default(), cfg());
        let insert = json!({"Records": [rec("INSERT", "240000000000000000001", "jane@example.org", Some(json!({"pk": {"S": "jane@example.org"}, "n": {"S": "x"}})), None)]});
        old.handle(&insert, 0).await.unwrap();
        assert_eq!(old.store().len("shadow"), 1);
        // The rotated function shares the store: current key new, previous key old.
        let routes = Routes::from_policy(&policy, &cfg(), Some(new_key)).unwrap().with_previous_key(Some(old_key));
        let h = StreamHandler::new(routes, old.store, cfg());
        let remove = json!({"Records": [rec("REMOVE", "240000000000000000002", "jane@example.org", None, None)]});
        let r = h.handle(&remove, 0).await.unwrap();
        assert_eq!(r.statuses[0].1, Status::Deleted);
        // Two shadow items now, both tombstones: the new token's and the old token's.
        assert_eq!(h.store().len("shadow"), 2);
        let dump = format!("{:?}", h.store().items("shadow"));
        assert_eq!(dump.matches("_shadow_deleted").count(), 2, "{dump}");
        assert!(!dump.contains("\"n\""), "the old item's data is gone");
    }

    #[tokio::test]
    async fn at_the_deadline_no_write_starts_and_the_rest_is_reported_failed() {
        let h = handler();
        let ev = json!({"Records": [
            rec("INSERT", "230000000000000000001", "a", Some(img("a", "v1")), None),
            rec("INSERT", "230000000000000000002", "b", Some(img("b", "v1")), None),
        ]});
        let r = h.handle_json_until(&ev.to_string(), 0, Some(Instant::now())).await.unwrap();
        assert_eq!(failures(&r), ["230000000000000000001", "230000000000000000002"]);
        assert!(matches!(&r.statuses[0].1, Status::Failed(RecordError::Deadline)));
        assert_eq!(h.store().len("shadow"), 0);
        // A slow store: the write in flight is abandoned at the deadline.
        *h.store().put_delay.lock().unwrap() = Some(std::time::Duration::from_millis(300));
        let d = Instant::now() + std::time::Duration::from_millis(50);
        let r = h.handle_json_until(&ev.to_string(), 0, Some(d)).await.unwrap();
        assert_eq!(failures(&r).len(), 2);
        assert!(Instant::now() < d + std::time::Duration::from_millis(200), "returned at the deadline");
        *h.store().put_delay.lock().unwrap() = None;
        let r = h
            .handle_json_until(&ev.to_string(), 0, Some(Instant::now() + std::time::Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(failures(&r).is_empty());
    }

    #[tokio::test]
    async fn write_failures_report_every_unapplied_record_of_that_key() {
        let h = handler();
        h.store().failing_keys.lock().unwrap().push(key_fingerprint(&key("a")));
        let ev = json!({"Records": [
            rec("INSERT", "300000000000000000001", "a", Some(img("a", "v1")), None),
            rec("INSERT", "300000000000000000002", "b", Some(img("b", "v1")), None),
            rec("MODIFY", "300000000000000000003", "a", Some(img("a", "v2")), None),
        ]});
        let r = h.handle(&ev, 0).await.unwrap();
        assert_eq!(failures(&r), ["300000000000000000001", "300000000000000000003"]);
        assert!(h.store().get("shadow", &key("a")).is_none());
        assert!(h.store().get("shadow", &key("b")).is_some());
    }

    #[tokio::test]
    async fn malformed_records_are_quarantined_alone_and_without_values() {
        let h = handler();
        let mut bad_number = rec(
            "INSERT",
            "400000000000000000001",
            "a",
            Some(json!({"pk": {"S": "a"}, "n": {"N": "secret-123"}})),
            None,
        );
        bad_number["dynamodb"]["NewImage"]["n"] = json!({"N": "secret-123"});
        let mut wrong_type = rec("INSERT", "400000000000000000002", "b", None, None);
        wrong_type["dynamodb"]["NewImage"] = json!({"pk": {"S": "b"}, "flag": {"BOOL": "hunter2"}});
        let ev = json!({"Records": [bad_number, wrong_type, rec("INSERT", "400000000000000000003", "c", Some(img("c", "ok")), None)]});
        let r = h.handle(&ev, 0).await.unwrap();
        assert!(failures(&r).is_empty(), "bad values are permanent: quarantined");
        for (_, st) in &r.statuses[..2] {
            let Status::Quarantined(reason) = st else { panic!() };
            let reason = reason.to_string();
            assert!(!reason.contains("secret-123") && !reason.contains("hunter2"), "{reason}");
            assert!(reason.contains("`n`") || reason.contains("`flag`"), "{reason}");
        }
        assert!(h.store().get("shadow", &key("c")).is_some());
        // No sequence number: the batch as a whole is refused.
        let ev = json!({"Records": [{"eventName": "INSERT", "dynamodb": {}}]});
        assert!(matches!(h.handle(&ev, 0).await, Err(EventError::Unidentifiable { index: 0 })));
        assert_eq!(h.handle(&json!({"foo": 1}), 0).await.unwrap_err(), EventError::NoRecords);
    }

    #[tokio::test]
    async fn modify_that_changes_only_dropped_attributes_writes_nothing() {
        let h = handler();
        let v1 = json!({"pk": {"S": "a"}, "name": {"S": "Alice"}, "session_token": {"S": "t1"}});
        let v2 = json!({"pk": {"S": "a"}, "name": {"S": "Alice"}, "session_token": {"S": "t2"}});
        let v3 = json!({"pk": {"S": "a"}, "name": {"S": "Alicia"}, "session_token": {"S": "t2"}});
        h.handle(&json!({"Records": [rec("INSERT", "500000000000000000001", "a", Some(v1.clone()), None)]}), 0)
            .await
            .unwrap();
        let puts = h.store().puts.load(std::sync::atomic::Ordering::Relaxed);
        let r = h
            .handle(&json!({"Records": [rec("MODIFY", "500000000000000000002", "a", Some(v2.clone()), Some(v1))]}), 0)
            .await
            .unwrap();
        assert_eq!(r.statuses[0].1, Status::Unchanged);
        assert_eq!(h.store().puts.load(std::sync::atomic::Ordering::Relaxed), puts, "no write issued");
        let r = h
            .handle(&json!({"Records": [rec("MODIFY", "500000000000000000003", "a", Some(v3), Some(v2))]}), 0)
            .await
            .unwrap();
        assert_eq!(r.statuses[0].1, Status::Written);
        assert_eq!(h.store().get("shadow", &key("a")).unwrap()["name"], AttributeValue::S("Alicia".into()));
    }

    #[tokio::test]
    async fn a_remove_of_a_tokenized_key_tombstones_the_same_shadow_item() {
        let p = Policy::parse("version = 1\n[[rule]]\npath = \"pk\"\naction = \"tokenize\"\n", "t").unwrap();
        let hmac_key = Some(b"0123456789abcdef0123456789abcdef".to_vec());
        let routes = Routes::from_policy(&p, &cfg(), hmac_key).unwrap();
        let h = StreamHandler::new(routes, MemoryStore::default(), cfg());
        let email = "alice@example.com";
        let ins = rec("INSERT", "600000000000000000001", email, Some(img(email, "hello")), None);
        h.handle(&json!({"Records": [ins]}), 0).await.unwrap();
        assert_eq!(h.store().len("shadow"), 1);
        assert!(h.store().get("shadow", &key(email)).is_none(), "the raw email is not the shadow key");
        let r = h
            .handle(&json!({"Records": [rec("REMOVE", "600000000000000000002", email, None, None)]}), 0)
            .await
            .unwrap();
        assert_eq!(r.statuses[0].1, Status::Deleted);
        assert_eq!(h.store().len("shadow"), 1, "the tombstone replaced the tokenized item, no second item");
        let token = h.routes().all()[0].sanitizer.sanitize_keys(&key(email)).unwrap();
        assert_eq!(h.store().get("shadow", &token).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));
    }

    #[tokio::test]
    async fn several_tables_route_by_source_and_unknown_tables_fail_closed() {
        let p = Policy::parse(
            "version = 1\n[tables.users]\nshadow = \"users-shadow\"\n[tables.orders]\nshadow = \"orders-shadow\"\nmode = \"allow\"\n[[tables.orders.rule]]\npath = \"note\"\naction = \"allow\"\n",
            "t",
        )
        .unwrap();
        let config = Config::from_env(|_| None).unwrap();
        let h = StreamHandler::new(Routes::from_policy(&p, &config, None).unwrap(), MemoryStore::default(), config);
        let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:123456789012:table/{t}/stream/2026-01-01T00:00:00.000");
        let mut a = rec("INSERT", "700000000000000000001", "k", Some(img("k", "for users")), None);
        a["eventSourceARN"] = json!(arn("users"));
        let mut b = rec(
            "INSERT",
            "700000000000000000002",
            "k",
            Some(json!({"pk": {"S": "k"}, "note": {"S": "for orders"}, "extra": {"S": "x"}})),
            None,
        );
        b["eventSourceARN"] = json!(arn("orders"));
        let mut c = rec("INSERT", "700000000000000000003", "k", Some(img("k", "unknown")), None);
        c["eventSourceARN"] = json!(arn("payments"));
        let r = h.handle(&json!({"Records": [a, b, c]}), 0).await.unwrap();
        assert_eq!(failures(&r), ["700000000000000000003"]);
        let Status::Failed(reason) = &r.statuses[2].1 else { panic!() };
        assert!(reason.to_string().contains("`payments`"), "{reason}");
        assert_eq!(h.store().get("users-shadow", &key("k")).unwrap()["note"], AttributeValue::S("for users".into()));
        let o = h.store().get("orders-shadow", &key("k")).unwrap();
        assert_eq!(o["note"], AttributeValue::S("for orders".into()));
        assert!(!o.contains_key("extra"), "allow mode for orders");
        assert_eq!(h.store().len("payments-shadow"), 0);
        assert_eq!(source_table_name(&arn("a.b-c_d")), Some("a.b-c_d"));
    }
}
