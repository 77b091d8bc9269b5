//! Randomized model test of the write path (in-memory store, many seeds): random puts,
//! updates (many touching only dropped attributes), and deletes over a few keys become a
//! stream, delivered in batches with Lambda's semantics (partial failures retried from the
//! lowest failed sequence number, whole-batch duplicates, old batches redriven at the end)
//! while the store injects faults, including writes that land but report failure.
//!
//! Invariants: the shadow table converges to sanitize(final source), deleted keys are
//! tombstones; and after every delivery, each key's last record reported successful is
//! reflected in the shadow table (nothing reported done without being applied).
//! The real-endpoint version of these faults lives in the e2e suite.

use std::collections::HashMap;

use dynamo_shadow_core::item::{item_to_json, AttributeValue, Item};
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_lambda::{Config, Status, StreamHandler};
use dynamo_shadow_store::layout::{DELETED_ATTR, EXPIRES_ATTR, POLICY_ATTR, SEQ_ATTR};
use dynamo_shadow_testkit::{MemoryStore, Rng};
use serde_json::{json, Value};

const TABLE: &str = "shadow";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn key(k: usize) -> Item {
    Item::from([("pk".to_string(), s(format!("K#{k}")))])
}

fn image(k: usize, version: u64, rng: &mut Rng) -> Item {
    let mut i = key(k);
    i.insert("v".into(), AttributeValue::N(version.to_string()));
    i.insert("note".into(), s(format!("v{version}: mail u{k}@example.com, card 4929 1308 7752 6389")));
    i.insert("session_token".into(), s(rng.chars(16, "abcdef0123456789")));
    if rng.below(2) == 0 {
        i.insert("tags".into(), AttributeValue::Ss(vec!["a".into(), format!("u{k}@example.com")]));
    }
    i
}

struct Record {
    seq: String,
    key: usize,
    json: Value,
    /// The source state right after this record (None after a REMOVE).
    after: Option<Item>,
}

fn stream(rng: &mut Rng, keys: usize, n: usize) -> (Vec<Record>, HashMap<usize, Option<Item>>) {
    let mut state: HashMap<usize, Option<Item>> = HashMap::new();
    let mut out = Vec::new();
    let mut seq: u128 = 100_000_000_000_000_000_000;
    let mut version = 0;
    for _ in 0..n {
        let k = rng.below(keys);
        seq += 1 + rng.below(3) as u128;
        version += 1;
        let old = state.get(&k).cloned().flatten();
        let roll = rng.below(100);
        let (name, new) = match &old {
            None => ("INSERT", Some(image(k, version, rng))),
            Some(o) if roll < 50 => {
                let mut n = o.clone();
                n.insert("session_token".into(), s(rng.chars(16, "abcdef0123456789")));
                ("MODIFY", Some(n))
            }
            Some(_) if roll < 85 => ("MODIFY", Some(image(k, version, rng))),
            Some(_) => ("REMOVE", None),
        };
        let mut d = json!({"Keys": item_to_json(&key(k)), "SequenceNumber": seq.to_string(), "SizeBytes": 100,
                           "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1_764_000_000});
        if let Some(n) = &new {
            d["NewImage"] = item_to_json(n);
        }
        if let Some(o) = &old {
            d["OldImage"] = item_to_json(o);
        }
        let json = json!({"eventID": seq.to_string(), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                          "awsRegion": "us-east-1", "dynamodb": d});
        state.insert(k, new.clone());
        out.push(Record { seq: seq.to_string(), key: k, json, after: new });
    }
    (out, state)
}

fn content(mut item: Item) -> Item {
    for a in [SEQ_ATTR, POLICY_ATTR, EXPIRES_ATTR] {
        item.remove(a);
    }
    item
}

async fn run_seed(seed: u64) -> (usize, usize, usize) {
    let mut rng = Rng::new(seed);
    let keys = 2 + rng.below(6);
    let n = 40 + rng.below(160);
    let (records, final_state) = stream(&mut rng, keys, n);
    let sanitizer = Sanitizer::default_policy();
    let store = MemoryStore::default();
    *store.random_faults.lock().unwrap() = Some((Rng::new(seed ^ 0xfau64), 150));
    let config = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| TABLE.to_string())).unwrap();
    let h = StreamHandler::single(sanitizer.clone(), store, config);
    let expect = |after: &Option<Item>| after.as_ref().map(|i| sanitizer.sanitize(i, &["pk"]).unwrap().0);
    // What the shadow item holds for a source state: the sanitized image, or a tombstone.
    let state_of = |k: usize, after: &Option<Item>| {
        expect(after).unwrap_or_else(|| {
            let mut t = key(k);
            t.insert(DELETED_ATTR.to_string(), AttributeValue::Bool(true));
            t
        })
    };
    let by_seq: HashMap<String, usize> = records.iter().enumerate().map(|(i, r)| (r.seq.clone(), i)).collect();

    let (mut pos, mut deliveries, mut faults) = (0, 0, 0);
    let mut delivered_batches: Vec<(usize, usize)> = Vec::new();
    while pos < records.len() {
        deliveries += 1;
        assert!(deliveries < 10_000, "seed {seed}: no progress");
        let size = 1 + rng.below(12);
        let end = (pos + size).min(records.len());
        let batch: Vec<&Value> = records[pos..end].iter().map(|r| &r.json).collect();
        let times = if rng.below(10) == 0 { 2 } else { 1 }; // whole-batch duplicate delivery
        let mut result = None;
        for _ in 0..times {
            result = Some(h.handle(&json!({"Records": batch}), 1_764_000_000).await.unwrap());
        }
        let result = result.unwrap();
        delivered_batches.push((pos, end));
        // Nothing reported successful without being applied: for each key, the last record
        // reported done is what the shadow table holds (or a later record of the same key
        // in this batch that was also done).
        let mut last_ok: HashMap<usize, &Record> = HashMap::new();
        for (r, (seq, st)) in records[pos..end].iter().zip(&result.statuses) {
            assert_eq!(&r.seq, seq);
            if !matches!(st, Status::Failed(_)) {
                last_ok.insert(r.key, r);
            }
        }
        for (k, r) in &last_ok {
            let got = h
                .store()
                .get(TABLE, &key(*k))
                .unwrap_or_else(|| panic!("seed {seed}: key {k} reported done, never written"));
            let AttributeValue::S(shadow_seq) = &got[SEQ_ATTR] else { panic!() };
            let at = &records[by_seq[shadow_seq.trim_start_matches('0')]];
            // The shadow item is exactly the sanitized state of the record it claims...
            assert_eq!(
                content(got.clone()),
                state_of(*k, &at.after),
                "seed {seed}: key {k} inconsistent with its sequence"
            );
            // ...and is that record or newer, unless this record was a no-op for the shadow.
            if shadow_seq.trim_start_matches('0').parse::<u128>().unwrap() < r.seq.parse::<u128>().unwrap() {
                assert_eq!(
                    content(got),
                    state_of(*k, &r.after),
                    "seed {seed}: key {k} reported done at {} but not applied",
                    r.seq
                );
            }
        }
        let failed: Vec<&String> =
            result.response.batch_item_failures.iter().filter_map(|f| f.item_identifier.as_ref()).collect();
        if failed.is_empty() {
            pos = end;
        } else {
            faults += failed.len();
            // Lambda retries from the lowest failed sequence number in the batch.
            let lowest = failed.iter().map(|s| s.parse::<u128>().unwrap()).min().unwrap();
            pos = records.iter().position(|r| r.seq.parse::<u128>().unwrap() == lowest).unwrap();
        }
    }
    // Redrive a few old batches after everything newer: never changes anything.
    *h.store().random_faults.lock().unwrap() = None;
    for _ in 0..3 {
        let (a, b) = delivered_batches[rng.below(delivered_batches.len())];
        let batch: Vec<&Value> = records[a..b].iter().map(|r| &r.json).collect();
        let r = h.handle(&json!({"Records": batch}), 1_764_000_000).await.unwrap();
        assert!(r.response.batch_item_failures.is_empty());
    }
    // Converged to sanitize(final source); deleted keys are tombstones.
    for (k, state) in &final_state {
        let got = h.store().get(TABLE, &key(*k)).expect("every key was written at least once");
        match expect(state) {
            Some(e) => assert_eq!(content(got), e, "seed {seed}: key {k} diverged"),
            None => {
                assert_eq!(
                    got.get(DELETED_ATTR),
                    Some(&AttributeValue::Bool(true)),
                    "seed {seed}: key {k} not a tombstone"
                );
                assert_eq!(content(got).len(), 2, "a tombstone holds only the key and the marker");
            }
        }
    }
    assert_eq!(h.store().len(TABLE), final_state.len());
    (records.len(), deliveries, faults)
}

#[tokio::test]
async fn shadow_converges_under_faults_duplicates_and_redrives() {
    let seeds: u64 = std::env::var("MODEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let (mut records, mut deliveries, mut faults) = (0, 0, 0);
    for seed in 0..seeds {
        let (r, d, f) = run_seed(seed).await;
        records += r;
        deliveries += d;
        faults += f;
    }
    eprintln!("model: {seeds} seeds, {records} records, {deliveries} deliveries, {faults} failed records retried, 0 divergences");
    assert!(faults > 0, "the fault injector never fired");
}
