//! An in-memory store with DynamoDB's semantics for every store trait (conditional writes,
//! batch limits, segmented scans with cursors, projections, stream shards), and fault
//! injection: failing keys, random faults (some after the write was applied, like a lost
//! response), unprocessed batch items.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use dynamo_shadow_core::item::{key_attributes, key_fingerprint, AttributeValue, Item};
use dynamo_shadow_store::api::{BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_ITEMS};
use dynamo_shadow_store::layout::SEQ_ATTR;
use dynamo_shadow_store::{
    BatchGot, Describer, Guard, ItemReader, Op, RecordPage, ScanPage, ScanRequest, Scanner, ShadowWrite, ShadowWriter,
    StoreError, StoreErrorKind, StreamReader, StreamRecord, TableDescription, UnknownType, WriteOutcome,
};

use crate::rng::Rng;

#[derive(Debug, Default)]
struct Table {
    key_names: Vec<String>,
    /// By key fingerprint: a stable order for scans.
    items: BTreeMap<String, Item>,
    created: i64,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<HashMap<String, Table>>,
    /// Stream shards: (stream ARN, shard id) -> records in order.
    shards: Mutex<HashMap<(String, String), Vec<StreamRecord>>>,
    /// Key fingerprints whose writes fail (fault injection).
    pub failing_keys: Mutex<Vec<String>>,
    /// Random write faults: (seed state, failures per thousand writes). Half of them fail
    /// after the write was applied.
    pub random_faults: Mutex<Option<(Rng, u64)>>,
    /// Random read faults (Scan, GetItem, BatchGetItem): (seed state, per thousand calls).
    pub read_faults: Mutex<Option<(Rng, u64)>>,
    /// Batch items left unprocessed: (seed state, per thousand items).
    pub unprocessed: Mutex<Option<(Rng, u64)>>,
    /// PutItem refuses items holding this top-level attribute (or with it as a key), as
    /// DynamoDB refuses a value it cannot store: a ValidationException every time.
    pub reject_items_with: Mutex<Option<String>>,
    /// Every PutItem waits this long first (a slow endpoint).
    pub put_delay: Mutex<Option<std::time::Duration>>,
    /// (table, key fingerprint) pairs a Scan does not return (items written after the
    /// scan passed them).
    pub scan_hidden: Mutex<Vec<(String, String)>>,
    /// PutItem calls.
    pub puts: AtomicU64,
    /// Every call.
    pub calls: AtomicU64,
}

fn project(item: &Item, projection: Option<&[&str]>) -> Item {
    match projection {
        None => item.clone(),
        Some(names) => {
            item.iter().filter(|(k, _)| names.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
        }
    }
}

fn segment_of(fp: &str, total: u32) -> u32 {
    // FNV-1a: a stable spread of keys over segments.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in fp.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % total.max(1) as u64) as u32
}

fn roll(slot: &Mutex<Option<(Rng, u64)>>) -> Option<bool> {
    let mut g = slot.lock().unwrap();
    let (rng, per_mille) = g.as_mut()?;
    let per_mille = *per_mille;
    (rng.below(1000) < per_mille as usize).then(|| rng.below(2) == 0)
}

fn not_found(op: Op) -> StoreError {
    StoreError::new(op, StoreErrorKind::Service("ResourceNotFoundException".into()))
}

impl MemoryStore {
    /// Creates (or empties) a table with this key schema (partition key first).
    pub fn create_table(&self, name: &str, key_names: &[&str]) {
        let mut t = self.tables.lock().unwrap();
        let created = t.len() as i64 + 1_700_000_000;
        t.insert(
            name.to_string(),
            Table { key_names: key_names.iter().map(|k| k.to_string()).collect(), items: BTreeMap::new(), created },
        );
    }

    /// Deletes a table.
    pub fn delete_table(&self, name: &str) {
        self.tables.lock().unwrap().remove(name);
    }

    /// Writes an item unconditionally (a source table's own writes).
    pub fn insert(&self, table: &str, item: Item) {
        let mut t = self.tables.lock().unwrap();
        let t = t.get_mut(table).expect("create_table first");
        let fp = key_fingerprint(&key_attributes(&item, &t.key_names));
        t.items.insert(fp, item);
    }

    /// Deletes an item by key (a source table's own deletes).
    pub fn remove(&self, table: &str, keys: &Item) {
        if let Some(t) = self.tables.lock().unwrap().get_mut(table) {
            t.items.remove(&key_fingerprint(keys));
        }
    }

    pub fn get(&self, table: &str, keys: &Item) -> Option<Item> {
        self.tables.lock().unwrap().get(table)?.items.get(&key_fingerprint(keys)).cloned()
    }

    pub fn len(&self, table: &str) -> usize {
        self.tables.lock().unwrap().get(table).map_or(0, |t| t.items.len())
    }

    pub fn is_empty(&self, table: &str) -> bool {
        self.len(table) == 0
    }

    /// Every item of a table.
    pub fn items(&self, table: &str) -> Vec<Item> {
        self.tables.lock().unwrap().get(table).map(|t| t.items.values().cloned().collect()).unwrap_or_default()
    }

    /// Appends records to a stream shard (for redrive tests).
    pub fn push_records(&self, stream_arn: &str, shard_id: &str, records: Vec<StreamRecord>) {
        self.shards.lock().unwrap().entry((stream_arn.into(), shard_id.into())).or_default().extend(records);
    }

    fn call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn read_fault(&self, op: Op) -> Result<(), StoreError> {
        match roll(&self.read_faults) {
            Some(_) => Err(StoreError::new(op, StoreErrorKind::Injected)),
            None => Ok(()),
        }
    }

    fn apply(&self, table: &str, write: &ShadowWrite, guard: &Guard) -> WriteOutcome {
        let mut tables = self.tables.lock().unwrap();
        let t = tables
            .entry(table.to_string())
            .or_insert_with(|| Table { key_names: write.key_names.clone(), ..Default::default() });
        let fp = key_fingerprint(&write.keys());
        let current = t.items.get(&fp).and_then(|i| match i.get(SEQ_ATTR) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        });
        let ok = match (guard, &current) {
            (Guard::Newer, None) | (Guard::Absent, None) => true,
            (Guard::Newer, Some(cur)) => cur.as_str() < write.seq.as_str(),
            (Guard::Absent, Some(_)) => false,
            (Guard::Holds(seq), cur) => cur.as_deref() == Some(seq.as_str()),
        };
        if ok {
            t.items.insert(fp, write.item.clone());
            WriteOutcome::Applied
        } else {
            WriteOutcome::Stale
        }
    }
}

impl ShadowWriter for MemoryStore {
    async fn put(&self, table: &str, write: &ShadowWrite, guard: Guard) -> Result<WriteOutcome, StoreError> {
        self.call();
        self.puts.fetch_add(1, Ordering::Relaxed);
        let fp = key_fingerprint(&write.keys());
        if self.failing_keys.lock().unwrap().contains(&fp) {
            return Err(StoreError::new(Op::PutItem, StoreErrorKind::Injected));
        }
        let fault = roll(&self.random_faults);
        if fault == Some(false) {
            return Err(StoreError::new(Op::PutItem, StoreErrorKind::Injected));
        }
        let delay = *self.put_delay.lock().unwrap();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let rejected = self.reject_items_with.lock().unwrap().as_ref().is_some_and(|a| write.item.contains_key(a));
        if rejected {
            return Err(StoreError::new(Op::PutItem, StoreErrorKind::Service("ValidationException".into())));
        }
        // DynamoDB's item limit (moto's too), on the item as sent.
        if dynamo_shadow_core::item::item_size(&write.item) > dynamo_shadow_core::item::MAX_ITEM_BYTES {
            return Err(StoreError::new(Op::PutItem, StoreErrorKind::Service("ValidationException".into())));
        }
        let outcome = self.apply(table, write, &guard);
        if fault == Some(true) && outcome == WriteOutcome::Applied {
            return Err(StoreError::new(Op::PutItem, StoreErrorKind::InjectedAfterWrite));
        }
        Ok(outcome)
    }

    async fn batch_put(&self, table: &str, writes: Vec<ShadowWrite>) -> Result<Vec<ShadowWrite>, StoreError> {
        self.call();
        // DynamoDB's limits, which moto does not enforce.
        let mut keys: Vec<String> = writes.iter().map(|w| key_fingerprint(&w.keys())).collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        if n > BATCH_WRITE_MAX_ITEMS || keys.len() != n {
            return Err(StoreError::new(Op::BatchWriteItem, StoreErrorKind::Service("ValidationException".into())));
        }
        if roll(&self.random_faults) == Some(false) {
            return Err(StoreError::new(Op::BatchWriteItem, StoreErrorKind::Injected));
        }
        let mut left = Vec::new();
        for w in writes {
            if roll(&self.unprocessed).is_some() {
                left.push(w);
                continue;
            }
            let mut tables = self.tables.lock().unwrap();
            let t = tables
                .entry(table.to_string())
                .or_insert_with(|| Table { key_names: w.key_names.clone(), ..Default::default() });
            t.items.insert(key_fingerprint(&w.keys()), w.item.clone());
        }
        Ok(left)
    }
}

impl ItemReader for MemoryStore {
    async fn get(
        &self,
        table: &str,
        key: &Item,
        _consistent: bool,
    ) -> Result<Option<Result<Item, UnknownType>>, StoreError> {
        self.call();
        self.read_fault(Op::GetItem)?;
        let tables = self.tables.lock().unwrap();
        let t = tables.get(table).ok_or_else(|| not_found(Op::GetItem))?;
        Ok(t.items.get(&key_fingerprint(key)).cloned().map(Ok))
    }

    async fn batch_get(
        &self,
        table: &str,
        keys: Vec<Item>,
        projection: Option<&[&str]>,
        _consistent: bool,
    ) -> Result<BatchGot, StoreError> {
        self.call();
        let mut fps: Vec<String> = keys.iter().map(key_fingerprint).collect();
        let n = fps.len();
        fps.sort();
        fps.dedup();
        if n > BATCH_GET_MAX_KEYS || fps.len() != n {
            return Err(StoreError::new(Op::BatchGetItem, StoreErrorKind::Service("ValidationException".into())));
        }
        self.read_fault(Op::BatchGetItem)?;
        let mut got = BatchGot::default();
        for k in keys {
            if roll(&self.unprocessed).is_some() {
                got.unprocessed.push(k);
                continue;
            }
            let tables = self.tables.lock().unwrap();
            let t = tables.get(table).ok_or_else(|| not_found(Op::BatchGetItem))?;
            if let Some(item) = t.items.get(&key_fingerprint(&k)) {
                got.items.push(Ok(project(item, projection)));
            }
        }
        Ok(got)
    }
}

impl Scanner for MemoryStore {
    async fn scan(&self, req: ScanRequest<'_>) -> Result<ScanPage, StoreError> {
        self.call();
        self.read_fault(Op::Scan)?;
        let hidden = self.scan_hidden.lock().unwrap().clone();
        let tables = self.tables.lock().unwrap();
        let t = tables.get(req.table).ok_or_else(|| not_found(Op::Scan))?;
        let after = req.start.as_ref().map(key_fingerprint);
        let limit = req.limit.unwrap_or(100) as usize;
        let mut page = ScanPage::default();
        let mut last = None;
        for (fp, item) in &t.items {
            if after.as_ref().is_some_and(|a| fp <= a) || segment_of(fp, req.total_segments) != req.segment {
                continue;
            }
            if page.items.len() == limit {
                page.next = last.map(|i: &Item| key_attributes(i, &t.key_names));
                return Ok(page);
            }
            last = Some(item);
            if hidden.iter().any(|(t, k)| t == req.table && k == fp) {
                continue;
            }
            page.items.push(Ok(item.clone()));
            last = Some(item);
        }
        Ok(page)
    }
}

impl Describer for MemoryStore {
    async fn describe(&self, table: &str) -> Result<TableDescription, StoreError> {
        self.call();
        let tables = self.tables.lock().unwrap();
        let t = tables.get(table).ok_or_else(|| not_found(Op::DescribeTable))?;
        Ok(TableDescription {
            key_names: t.key_names.clone(),
            item_count: Some(t.items.len() as u64),
            arn: Some(format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}")),
            table_id: Some(format!("memory-{table}-{}", t.created)),
            created: Some(t.created),
            latest_stream_arn: None,
        })
    }
}

impl StreamReader for MemoryStore {
    async fn shard_iterator(
        &self,
        stream_arn: &str,
        shard_id: &str,
        sequence: &str,
    ) -> Result<Option<String>, StoreError> {
        self.call();
        let shards = self.shards.lock().unwrap();
        let records = shards
            .get(&(stream_arn.to_string(), shard_id.to_string()))
            .ok_or_else(|| not_found(Op::GetShardIterator))?;
        let at = records.iter().position(|r| r.sequence_number.as_deref() == Some(sequence));
        match at {
            Some(i) => Ok(Some(format!("{stream_arn}|{shard_id}|{i}"))),
            None => {
                Err(StoreError::new(Op::GetShardIterator, StoreErrorKind::Service("TrimmedDataAccessException".into())))
            }
        }
    }

    async fn records(&self, iterator: &str, limit: u32) -> Result<RecordPage, StoreError> {
        self.call();
        let mut parts = iterator.rsplitn(3, '|');
        let (Some(i), Some(shard), Some(arn)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(StoreError::new(Op::GetRecords, StoreErrorKind::Service("ValidationException".into())));
        };
        let i: usize = i
            .parse()
            .map_err(|_| StoreError::new(Op::GetRecords, StoreErrorKind::Service("ValidationException".into())))?;
        let shards = self.shards.lock().unwrap();
        let records = shards.get(&(arn.to_string(), shard.to_string())).ok_or_else(|| not_found(Op::GetRecords))?;
        let end = (i + limit as usize).min(records.len());
        // An open shard: the iterator goes on at its tip.
        Ok(RecordPage { records: records[i..end].to_vec(), next_iterator: Some(format!("{arn}|{shard}|{end}")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynamo_shadow_store::Seq;

    fn key(k: &str) -> Item {
        Item::from([("pk".to_string(), AttributeValue::S(k.into()))])
    }

    fn w(k: &str, seq: &str) -> ShadowWrite {
        ShadowWrite::upsert(key(k), vec!["pk".into()], Seq::parse(seq).unwrap(), "fp")
    }

    #[tokio::test]
    async fn guards_like_dynamodb() {
        let s = MemoryStore::default();
        assert_eq!(s.put("t", &w("k", "200"), Guard::Newer).await.unwrap(), WriteOutcome::Applied);
        assert_eq!(s.put("t", &w("k", "200"), Guard::Newer).await.unwrap(), WriteOutcome::Stale);
        assert_eq!(s.put("t", &w("k", "100"), Guard::Newer).await.unwrap(), WriteOutcome::Stale);
        let t = ShadowWrite::tombstone(key("k"), Seq::parse("300").unwrap(), 1, "fp");
        assert_eq!(s.put("t", &t, Guard::Newer).await.unwrap(), WriteOutcome::Applied);
        assert_eq!(s.put("t", &w("k", "250"), Guard::Newer).await.unwrap(), WriteOutcome::Stale, "no resurrection");
        assert_eq!(s.put("t", &w("k", "1"), Guard::Absent).await.unwrap(), WriteOutcome::Stale);
        assert_eq!(s.put("t", &w("j", "1"), Guard::Absent).await.unwrap(), WriteOutcome::Applied);
        let held = Seq::parse("300").unwrap().as_str().to_string();
        assert_eq!(s.put("t", &w("k", "5"), Guard::Holds(held)).await.unwrap(), WriteOutcome::Applied);
        assert_eq!(s.put("t", &w("k", "6"), Guard::Holds("x".into())).await.unwrap(), WriteOutcome::Stale);
    }

    #[tokio::test]
    async fn scans_cover_every_item_once_across_segments_and_pages() {
        let s = MemoryStore::default();
        s.create_table("src", &["pk"]);
        for i in 0..250 {
            s.insert("src", key(&format!("k{i}")));
        }
        let mut seen = 0;
        for seg in 0..4 {
            let mut start = None;
            loop {
                let page = s
                    .scan(ScanRequest { table: "src", segment: seg, total_segments: 4, start, limit: Some(7) })
                    .await
                    .unwrap();
                seen += page.items.len();
                match page.next {
                    Some(n) => start = Some(n),
                    None => break,
                }
            }
        }
        assert_eq!(seen, 250);
        let too_many = (0..26).map(|i| w(&format!("b{i}"), "1")).collect();
        assert!(s.batch_put("t", too_many).await.is_err(), "DynamoDB's 25-item limit");
    }
}
