//! Batch calls within DynamoDB's limits, with retries of what the service left unprocessed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use dynamo_shadow_core::item::{item_size, key_attributes, key_fingerprint, Item};
use dynamo_shadow_store::api::{BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_BYTES, BATCH_WRITE_MAX_ITEMS};
use dynamo_shadow_store::{ItemReader, Op, ShadowWrite, ShadowWriter};

use crate::error::OpsError;

/// Retries of unprocessed batch items before the call is reported failed.
pub const MAX_BATCH_RETRIES: u32 = 10;

/// Exponential backoff with jitter for unprocessed batch items: 50 ms doubling, capped at 5 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = 50u64.saturating_mul(1 << attempt.min(7)).min(5000);
    let jitter = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos()
        as u64)
        % (base / 2 + 1);
    Duration::from_millis(base / 2 + jitter)
}

/// BatchGetItem for any number of keys (100 distinct keys a call), by key fingerprint,
/// retrying unprocessed keys. Items of a type this build does not know are counted in the
/// second value and left out. `calls` counts requests.
pub async fn get_many<R: ItemReader>(
    store: &R,
    table: &str,
    keys: &[Item],
    key_names: &[String],
    projection: Option<&[&str]>,
    consistent: bool,
    calls: &std::sync::atomic::AtomicU64,
) -> Result<(HashMap<String, Item>, u64), OpsError> {
    let mut found = HashMap::with_capacity(keys.len());
    let mut unknown = 0;
    let mut seen = HashSet::new();
    let unique: Vec<&Item> = keys.iter().filter(|k| seen.insert(key_fingerprint(k))).collect();
    for chunk in unique.chunks(BATCH_GET_MAX_KEYS) {
        let mut todo: Vec<Item> = chunk.iter().map(|k| (*k).clone()).collect();
        let mut attempt = 0;
        while !todo.is_empty() {
            let got = store
                .batch_get(table, std::mem::take(&mut todo), projection, consistent)
                .await
                .map_err(|error| OpsError::Store { table: table.to_string(), error })?;
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for item in got.items {
                match item {
                    Ok(item) => {
                        let k = key_attributes(&item, key_names);
                        found.insert(key_fingerprint(&k), item);
                    }
                    Err(_) => unknown += 1,
                }
            }
            todo = got.unprocessed;
            if !todo.is_empty() {
                attempt += 1;
                if attempt > MAX_BATCH_RETRIES {
                    return Err(OpsError::Unprocessed { op: Op::BatchGetItem, count: todo.len() });
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
    }
    Ok((found, unknown))
}

/// Splits writes into BatchWriteItem requests: at most 25 items and 16 MB each, and no key
/// twice in one request (DynamoDB rejects that; the later write goes to a later request).
pub fn batch_chunks(writes: Vec<ShadowWrite>) -> Vec<Vec<ShadowWrite>> {
    let mut out: Vec<Vec<ShadowWrite>> = Vec::new();
    let mut cur: Vec<ShadowWrite> = Vec::new();
    let mut cur_keys = HashSet::new();
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

/// One chunk through BatchWriteItem, retrying unprocessed items with backoff. Returns the
/// number of requests made.
pub async fn put_chunk<W: ShadowWriter>(store: &W, table: &str, chunk: Vec<ShadowWrite>) -> Result<u64, OpsError> {
    let mut todo = chunk;
    let mut attempt = 0;
    let mut requests = 0;
    while !todo.is_empty() {
        todo =
            store.batch_put(table, todo).await.map_err(|error| OpsError::Store { table: table.to_string(), error })?;
        requests += 1;
        if !todo.is_empty() {
            attempt += 1;
            if attempt > MAX_BATCH_RETRIES {
                return Err(OpsError::Unprocessed { op: Op::BatchWriteItem, count: todo.len() });
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynamo_shadow_core::AttributeValue;
    use dynamo_shadow_store::Seq;

    fn write(pk: &str, bytes: usize) -> ShadowWrite {
        let item = Item::from([
            ("pk".to_string(), AttributeValue::S(pk.into())),
            ("body".to_string(), AttributeValue::S("x".repeat(bytes))),
        ]);
        ShadowWrite::upsert(item, vec!["pk".into()], Seq::backfill(), "fp")
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
}
