//! Randomized model test of the write path (in-memory store, many seeds): random puts,
//! updates (many touching only dropped attributes), deletes and poison images (a number
//! DynamoDB cannot hold: a permanent failure) over a few keys become a stream: a parent
//! shard, its split into two child shards (keys stay in one child; children interleave), and
//! for a third of the seeds a new stream (the table re-created) whose sequence numbers restart
//! below the old one's. Batches are delivered with Lambda's semantics (partial failures
//! retried from the lowest failed sequence number, whole-batch duplicates, old batches, old
//! streams included, redriven at the end) while the store injects faults, including writes
//! that land but report failure. Some seeds also change the policy, run a backfill or
//! `verify --fix` while the stream lags behind the source.
//!
//! Invariants: the shadow table converges to sanitize(final source), a quarantine marker
//! where that is impossible, deleted keys are tombstones; after every delivery, each key's
//! last record reported successful is reflected in the shadow table (nothing reported done
//! without being applied); a redrive changes nothing.
//! The real-endpoint version of these faults lives in the e2e suite.

use std::collections::HashMap;

use dynamo_shadow_core::item::{item_to_json, AttributeValue, Item};
use dynamo_shadow_core::{Policy, Sanitizer};
use dynamo_shadow_lambda::{Config, Status, StreamHandler};
use dynamo_shadow_ops::backfill::{Backfill, Options};
use dynamo_shadow_ops::verify::{verify, VerifyOptions};
use dynamo_shadow_store::layout::{DELETED_ATTR, EXPIRES_ATTR, POLICY_ATTR, QUARANTINE_ATTR, SEQ_ATTR};
use dynamo_shadow_store::Seq;
use dynamo_shadow_testkit::{MemoryStore, Rng};
use serde_json::{json, Value};

const TABLE: &str = "shadow";
const TABLE_VAR: &str = "SHADOW_TABLE";
const SRC: &str = "src";
/// Failed deliveries of a batch before the mapping gives up on it (the template allows 10).
const MAX_RETRIES: usize = 3;

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
    /// The position the shadow table stores for it (stream label, then sequence).
    pos: Seq,
    key: usize,
    json: Value,
    /// The source state right after this record (None after a REMOVE).
    after: Option<Item>,
    /// Which shard delivers it: 0 the parent, 1 and 2 its children after a split, 3 the
    /// new stream's shard after the table was re-created.
    shard: usize,
}

const OLD_STREAM: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/src/stream/2026-01-01T00:00:00.000";
const NEW_STREAM: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/src/stream/2026-02-01T00:00:00.000";

/// A random history: the parent shard, a split into two children (keys stay in one child),
/// and for some seeds a new stream (the table re-created) whose sequence numbers restart
/// below the old stream's. Some images hold a number DynamoDB could never store: those
/// records can never be sanitized (a permanent failure).
fn stream(rng: &mut Rng, keys: usize, n: usize) -> (Vec<Record>, HashMap<usize, Option<Item>>, usize) {
    let mut state: HashMap<usize, Option<Item>> = HashMap::new();
    let mut out = Vec::new();
    let mut seq: u128 = 100_000_000_000_000_000_000;
    let mut version = 0;
    let split = n / 4 + rng.below(n / 2);
    let new_stream = if rng.below(3) == 0 { split + rng.below(n - split) } else { n };
    let mut poisoned = 0;
    for i in 0..n {
        let k = rng.below(keys);
        if i == new_stream {
            seq = 100_000_000_000_000_000_000;
        }
        seq += 1 + rng.below(3) as u128;
        version += 1;
        let old = state.get(&k).cloned().flatten();
        let roll = rng.below(100);
        let (name, mut new) = match &old {
            None => ("INSERT", Some(image(k, version, rng))),
            Some(o) if roll < 50 => {
                let mut n = o.clone();
                n.insert("session_token".into(), s(rng.chars(16, "abcdef0123456789")));
                n.remove("bad");
                ("MODIFY", Some(n))
            }
            Some(_) if roll < 85 => ("MODIFY", Some(image(k, version, rng))),
            Some(_) => ("REMOVE", None),
        };
        if let Some(n) = new.as_mut().filter(|_| rng.below(12) == 0) {
            n.insert("bad".into(), AttributeValue::N("1E+126".into()));
            poisoned += 1;
        }
        let mut d = json!({"Keys": item_to_json(&key(k)), "SequenceNumber": seq.to_string(), "SizeBytes": 100,
                           "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1_764_000_000});
        if let Some(n) = &new {
            d["NewImage"] = item_to_json(n);
        }
        if let Some(o) = &old {
            d["OldImage"] = item_to_json(o);
        }
        let arn = if i >= new_stream { NEW_STREAM } else { OLD_STREAM };
        let json = json!({"eventID": format!("{i}"), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                          "awsRegion": "us-east-1", "eventSourceARN": arn, "dynamodb": d});
        let shard = if i >= new_stream {
            3
        } else if i >= split {
            1 + k % 2
        } else {
            0
        };
        state.insert(k, new.clone());
        let pos = Seq::of_record(Some(arn), &seq.to_string()).unwrap();
        out.push(Record { seq: seq.to_string(), pos, key: k, json, after: new, shard });
    }
    (out, state, poisoned)
}

/// What the model compares: the item without its metadata. A quarantine marker's reason code
/// depends on where the failure was found (the stream record's decoding says
/// `malformed_image`, a backfill's sanitize `invalid_value`), so only its presence counts here;
/// the codes are pinned by the handler's and the e2e tests.
fn content(mut item: Item) -> Item {
    for a in [SEQ_ATTR, POLICY_ATTR, EXPIRES_ATTR] {
        item.remove(a);
    }
    if let Some(code) = item.get_mut(QUARANTINE_ATTR) {
        *code = s("quarantined");
    }
    item
}

#[derive(Default)]
struct Figures {
    records: usize,
    deliveries: usize,
    faults: usize,
    poisoned: usize,
    quarantined: u64,
    new_streams: usize,
    splits: usize,
    tokenized: usize,
    policy_changes: usize,
    dlq_batches: usize,
    backfills: usize,
    verifies: usize,
    repaired: usize,
    expired: usize,
}

/// The policies of a seed: before and after a policy change mid-stream (the second also
/// drops `tags`), both tokenizing the partition key for half of the seeds.
fn policies(tokenized: bool) -> (Sanitizer, Sanitizer) {
    let head = if tokenized {
        "version = 1\nkeys = [\"pk\"]\n[[rule]]\npath = \"pk\"\naction = \"tokenize\"\n"
    } else {
        "version = 1\n"
    };
    let a = Policy::parse(head, "a.toml").unwrap();
    let b = Policy::parse(&format!("{head}[[rule]]\npath = \"tags\"\naction = \"drop\"\n"), "b.toml").unwrap();
    let key = tokenized.then(|| b"model-key-0123456789abcdef0123456789".to_vec());
    (Sanitizer::build(&a, &a.default, key.clone()).unwrap(), Sanitizer::build(&b, &b.default, key).unwrap())
}

async fn run_seed(seed: u64, fig: &mut Figures) {
    let mut rng = Rng::new(seed);
    let keys = 2 + rng.below(6);
    let n = 40 + rng.below(160);
    let (records, final_state, poisoned) = stream(&mut rng, keys, n);
    fig.records += records.len();
    fig.poisoned += poisoned;
    fig.new_streams += records.iter().any(|r| r.shard == 3) as usize;
    fig.splits += records.iter().any(|r| r.shard == 1 || r.shard == 2) as usize;
    let tokenized = seed % 2 == 1;
    let (before_change, after_change) = policies(tokenized);
    // For a third of the seeds the policy changes after a random number of deliveries.
    let change_at = (seed % 3 == 0).then(|| 1 + rng.below(40));
    fig.tokenized += tokenized as usize;
    fig.policy_changes += change_at.is_some() as usize;
    let by_fp: HashMap<String, Sanitizer> =
        [before_change.clone(), after_change.clone()].into_iter().map(|s| (s.fingerprint().to_string(), s)).collect();
    let store = MemoryStore::default();
    // The source table already holds the final state: the stream lags behind it.
    store.create_table(SRC, &["pk"]);
    store.create_table(TABLE, &["pk"]);
    for item in final_state.values().flatten() {
        store.insert(SRC, item.clone());
    }
    *store.random_faults.lock().unwrap() = Some((Rng::new(seed ^ 0xfau64), 150));
    // For a fifth of the seeds a backfill runs while the stream is being delivered.
    let backfill_at = (seed % 5 == 2).then(|| rng.below(30));
    fig.backfills += backfill_at.is_some() as usize;
    // For a seventh of the seeds `verify --fix` runs while the stream is being delivered (its
    // own RNG, so the other seeds' histories stay as they were).
    let verify_at = (seed % 7 == 4).then(|| Rng::new(seed ^ 0x7e41f).below(30));
    // Shadow items as `verify --fix` left them: the source's current state under the held
    // position, so until the stream writes the key again its position says nothing.
    let mut repaired: HashMap<usize, Item> = HashMap::new();
    let config = Config::from_env(|k| (k == TABLE_VAR).then(|| TABLE.to_string())).unwrap();
    let mut h = StreamHandler::single(before_change.clone(), store, config.clone());
    // The shadow key of a source key (a token where the policy tokenizes it).
    let skey = |k: usize| before_change.sanitize_keys(&key(k)).unwrap();
    // What the shadow item holds for a source state under a sanitizer: the sanitized image,
    // a quarantine marker where it cannot be sanitized, or a tombstone.
    let state_of = |k: usize, after: &Option<Item>, san: &Sanitizer| match after {
        Some(i) => san.sanitize(i, &["pk"]).map(|(c, _)| c).unwrap_or_else(|_| {
            let mut t = skey(k);
            t.insert(QUARANTINE_ATTR.to_string(), s("quarantined"));
            t
        }),
        None => {
            let mut t = skey(k);
            t.insert(DELETED_ATTR.to_string(), AttributeValue::Bool(true));
            t
        }
    };
    // The sanitizer an item was written under, from its fingerprint.
    let san_of = |item: &Item| -> &Sanitizer {
        let AttributeValue::S(fp) = &item[POLICY_ATTR] else { panic!("no fingerprint") };
        &by_fp[fp]
    };
    let by_pos: HashMap<&str, usize> = records.iter().enumerate().map(|(i, r)| (r.pos.as_str(), i)).collect();
    // Each shard's records, in order; a cursor per shard.
    let shards: Vec<Vec<usize>> =
        (0..4).map(|sh| (0..records.len()).filter(|&i| records[i].shard == sh).collect()).collect();
    let mut cursor = [0usize; 4];
    // Failed deliveries in a row per shard: after MAX_RETRIES the mapping gives up on the
    // batch (its coordinates go to the DLQ) and moves on.
    let mut attempts = [0usize; 4];
    let mut dlq: Vec<Vec<usize>> = Vec::new();
    let mut in_dlq: std::collections::HashSet<usize> = Default::default();

    let mut delivered_batches: Vec<Vec<usize>> = Vec::new();
    let mut deliveries = 0;
    loop {
        // Lambda reads the parent to its end before its children, and the children in any
        // interleaving; the new stream's mapping starts after the old stream is done.
        let open = |sh: usize, cursor: &[usize; 4]| cursor[sh] < shards[sh].len();
        let phase: Vec<usize> = if open(0, &cursor) {
            vec![0]
        } else if open(1, &cursor) || open(2, &cursor) {
            [1, 2].into_iter().filter(|&sh| open(sh, &cursor)).collect()
        } else if open(3, &cursor) {
            vec![3]
        } else {
            break;
        };
        if change_at == Some(deliveries) {
            // A new policy deployed mid-stream: the next invocations run under it.
            h = StreamHandler::single(after_change.clone(), h.into_store(), config.clone());
        }
        if backfill_at == Some(deliveries) {
            // Under the policy the function runs now, with write faults still injected (a
            // segment that stops on one is run again, as the CLI's resume would).
            let san = if change_at.is_some_and(|c| c <= deliveries) { &after_change } else { &before_change };
            let bf = Backfill::new(h.store(), san, backfill_options(false)).await.unwrap();
            for seg in 0..2 {
                let mut cur = None;
                loop {
                    let mut last = cur.clone();
                    match bf.run_segment(seg, cur.take(), None, |next, _| last = next.cloned()).await {
                        Ok(end) if end.done => break,
                        Ok(_) => unreachable!("no deadline"),
                        Err(_) => cur = last,
                    }
                }
            }
        }
        if verify_at == Some(deliveries) {
            // Faults still injected: a repair that fails leaves the item as it was; a whole
            // run can stop on one (or on a poison source item it cannot sanitize).
            fig.verifies += 1;
            let san = if change_at.is_some_and(|c| c <= deliveries) { &after_change } else { &before_change };
            let before: Vec<Option<Item>> = (0..keys).map(|k| h.store().get(TABLE, &skey(k))).collect();
            let opts = VerifyOptions {
                source_table: SRC.into(),
                shadow_table: TABLE.into(),
                total_segments: 2,
                fix: true,
                tombstone_ttl_secs: 72 * 3600,
            };
            let _ = verify(h.store(), san, &opts).await;
            for k in 0..keys {
                let after = h.store().get(TABLE, &skey(k));
                if after == before[k] {
                    continue;
                }
                let got = after.unwrap_or_else(|| panic!("seed {seed}: verify removed key {k}"));
                // A repair writes what the source holds now (its final state, under the
                // policy verify ran with), keeping the sequence guard's position.
                assert_eq!(
                    content(got.clone()),
                    state_of(k, &final_state[&k], san),
                    "seed {seed}: verify repaired key {k} wrong"
                );
                let held = before[k].as_ref().map_or_else(|| s(Seq::backfill().as_str()), |b| b[SEQ_ATTR].clone());
                assert_eq!(got[SEQ_ATTR], held, "seed {seed}: verify moved key {k}'s position");
                fig.repaired += 1;
                repaired.insert(k, got);
            }
        }
        let sh = phase[rng.below(phase.len())];
        deliveries += 1;
        assert!(deliveries < 10_000, "seed {seed}: no progress");
        let size = 1 + rng.below(12);
        let idx: Vec<usize> = shards[sh][cursor[sh]..(cursor[sh] + size).min(shards[sh].len())].to_vec();
        let batch: Vec<&Value> = idx.iter().map(|&i| &records[i].json).collect();
        let times = if rng.below(10) == 0 { 2 } else { 1 }; // whole-batch duplicate delivery
        let mut result = None;
        for _ in 0..times {
            result = Some(h.handle(&json!({"Records": batch}), 1_764_000_000).await.unwrap());
        }
        let result = result.unwrap();
        fig.quarantined += result.summary.quarantined;
        delivered_batches.push(idx.clone());
        // Nothing reported successful without being applied: for each key, the last record
        // reported done is what the shadow table holds (or a later record of the same key
        // in this batch that was also done).
        let mut last_ok: HashMap<usize, &Record> = HashMap::new();
        for (&i, (seq, st)) in idx.iter().zip(&result.statuses) {
            let r = &records[i];
            assert_eq!(&r.seq, seq);
            if !matches!(st, Status::Failed(_)) {
                last_ok.insert(r.key, r);
            }
        }
        for (k, r) in &last_ok {
            let got = h
                .store()
                .get(TABLE, &skey(*k))
                .unwrap_or_else(|| panic!("seed {seed}: key {k} reported done, never written"));
            if repaired.get(k) == Some(&got) {
                continue; // untouched since verify repaired it (checked there)
            }
            let AttributeValue::S(shadow_pos) = &got[SEQ_ATTR] else { panic!() };
            let san = san_of(&got);
            if shadow_pos.as_str() == Seq::backfill().as_str() {
                // Backfilled and not yet overwritten: the table's (final) state; any record
                // reported done since was a no-op for the shadow item or is older.
                assert_eq!(
                    content(got.clone()),
                    state_of(*k, &final_state[k], san),
                    "seed {seed}: key {k} backfilled wrong"
                );
                continue;
            }
            let at = &records[by_pos[shadow_pos.as_str()]];
            // The shadow item is exactly the state of the record it claims...
            assert_eq!(
                content(got.clone()),
                state_of(*k, &at.after, san),
                "seed {seed}: key {k} inconsistent with its position"
            );
            // ...and is that record or newer, unless this record was a no-op for the shadow
            // (a MODIFY whose sanitized image equals its old one's). That holds only while
            // the old image was applied: not for keys with records waiting in the DLQ.
            if at.pos < r.pos && !in_dlq.contains(k) {
                assert_eq!(
                    content(got.clone()),
                    state_of(*k, &r.after, san),
                    "seed {seed}: key {k} reported done at {} but not applied",
                    r.seq
                );
            }
        }
        let failed: Vec<&String> =
            result.response.batch_item_failures.iter().filter_map(|f| f.item_identifier.as_ref()).collect();
        if failed.is_empty() {
            cursor[sh] += idx.len();
            attempts[sh] = 0;
        } else {
            fig.faults += failed.len();
            // Lambda retries from the lowest failed sequence number in the batch...
            let lowest = failed.iter().map(|s| s.parse::<u128>().unwrap()).min().unwrap();
            let at = idx.iter().position(|&i| records[i].seq.parse::<u128>().unwrap() == lowest).unwrap();
            attempts[sh] += 1;
            if attempts[sh] > MAX_RETRIES {
                // ...until its retries run out: the rest of the batch goes to the DLQ.
                dlq.push(idx[at..].to_vec());
                in_dlq.extend(idx[at..].iter().map(|&i| records[i].key));
                cursor[sh] += idx.len();
                attempts[sh] = 0;
            } else {
                cursor[sh] += at;
            }
        }
    }
    fig.deliveries += deliveries;
    fig.dlq_batches += dlq.len();
    *h.store().random_faults.lock().unwrap() = None;
    // The operator redrives the DLQ (dynamo-shadow redrive reads the same records back).
    for idx in &dlq {
        let batch: Vec<&Value> = idx.iter().map(|&i| &records[i].json).collect();
        let r = h.handle(&json!({"Records": batch}), 1_764_000_000).await.unwrap();
        assert!(r.response.batch_item_failures.is_empty(), "seed {seed}: a DLQ redrive failed");
    }
    // Redrive a few old batches after everything newer (old shards, the old stream after
    // the new one): never changes anything. Content, not positions: a redriven batch may
    // carry a record whose write was skipped as unchanged the first time (README, "Fewer
    // writes"); it lands with the same content.
    let snapshot = || -> Vec<Option<Item>> { (0..keys).map(|k| h.store().get(TABLE, &skey(k)).map(content)).collect() };
    let before = snapshot();
    for _ in 0..3 {
        let idx = &delivered_batches[rng.below(delivered_batches.len())];
        let batch: Vec<&Value> = idx.iter().map(|&i| &records[i].json).collect();
        let r = h.handle(&json!({"Records": batch}), 1_764_000_000).await.unwrap();
        assert!(r.response.batch_item_failures.is_empty());
    }
    assert_eq!(before, snapshot(), "seed {seed}: a redrive changed the shadow table");
    // Converged to sanitize(final source) under the policy that wrote it, a marker where
    // that is impossible, or a tombstone.
    for (k, state) in &final_state {
        let got = h.store().get(TABLE, &skey(*k)).expect("every key was written at least once");
        assert_eq!(content(got.clone()), state_of(*k, state, san_of(&got)), "seed {seed}: key {k} diverged");
        if state.is_none() {
            assert_eq!(content(got).len(), 2, "seed {seed}: key {k}: a tombstone holds only the key and the marker");
        }
    }
    assert_eq!(h.store().len(TABLE), final_state.len());
    // After a policy change, `backfill --policy-changed` brings every live item to the new
    // policy (markers stay where the item still cannot be sanitized; tombstones are not
    // touched).
    let store = h.into_store();
    if change_at.is_some() {
        let bf = Backfill::new(&store, &after_change, backfill_options(true)).await.unwrap();
        for seg in 0..2 {
            bf.run_segment(seg, None, None, |_, _| {}).await.unwrap();
        }
        for (k, state) in &final_state {
            let got = store.get(TABLE, &skey(*k)).unwrap();
            assert_eq!(content(got), state_of(*k, state, &after_change), "seed {seed}: key {k} not re-sanitized");
        }
    }
    // Tombstones expire (DynamoDB's TTL, at least 48 h later: past the stream's 24 h, so no
    // older record of the key can arrive after). A later INSERT of the key is written.
    let current = if change_at.is_some() { after_change.clone() } else { before_change.clone() };
    let h = StreamHandler::single(current, store, config);
    // Above every sequence number seen, on the newest stream.
    let mut seq = records.iter().map(|r| r.seq.parse::<u128>().unwrap()).max().unwrap();
    for (k, state) in &final_state {
        if state.is_some() {
            continue;
        }
        h.store().remove(TABLE, &skey(*k));
        fig.expired += 1;
        seq += 1;
        let item = image(*k, 9_999, &mut rng);
        let rec = json!({"eventID": "late", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                         "awsRegion": "us-east-1", "eventSourceARN": NEW_STREAM,
                         "dynamodb": {"Keys": item_to_json(&key(*k)), "NewImage": item_to_json(&item), "SequenceNumber": seq.to_string(),
                                      "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
        let r = h.handle(&json!({"Records": [rec]}), 1_764_000_000).await.unwrap();
        assert_eq!(r.statuses[0].1, Status::Written, "seed {seed}: key {k} after its tombstone expired");
        assert_eq!(
            content(h.store().get(TABLE, &skey(*k)).unwrap()),
            h.routes().get(0).sanitizer.sanitize(&item, &["pk"]).unwrap().0
        );
    }
}

fn backfill_options(policy_changed: bool) -> Options {
    Options {
        source_table: SRC.into(),
        shadow_table: TABLE.into(),
        total_segments: 2,
        policy_changed,
        dry_run: false,
        exclusive: false,
        max_wcu: None,
        rate: None,
        concurrency: 4,
        page_size: Some(3),
    }
}

#[tokio::test]
async fn shadow_converges_under_faults_duplicates_and_redrives() {
    let seeds: u64 = std::env::var("MODEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let mut f = Figures::default();
    for seed in 0..seeds {
        run_seed(seed, &mut f).await;
    }
    eprintln!(
        "model: {seeds} seeds, {} records, {} deliveries, {} failed records retried, {} batches to the DLQ and redriven, {} poison images, {} records quarantined, {} seeds with a shard split, {} with a new stream, {} with tokenized keys, {} with a policy change, {} with a backfill during the stream, {} with verify --fix during the stream ({} items repaired), {} tombstones expired, 0 divergences",
        f.records, f.deliveries, f.faults, f.dlq_batches, f.poisoned, f.quarantined, f.splits, f.new_streams, f.tokenized, f.policy_changes, f.backfills, f.verifies, f.repaired, f.expired
    );
    assert!(f.faults > 0, "the fault injector never fired");
    assert!(
        f.quarantined > 0
            && f.new_streams > 0
            && f.splits > 0
            && f.dlq_batches > 0
            && f.tokenized > 0
            && f.policy_changes > 0
            && f.backfills > 0
            && f.repaired > 0
            && f.expired > 0,
        "every case was exercised"
    );
}
