//! Our write path against a naive mirror, on the same workload, against a real
//! DynamoDB-compatible endpoint (moto's server). Prints figures; asserts only that both
//! paths end with the same shadow content.
//!
//! Run: `make bench` (starts moto), or with DYNAMO_SHADOW_TEST_ENDPOINT set:
//! `cargo bench --bench mirror`.
//!
//! Workload: 10,000 stream records over 1,000 keys. Each key starts with an INSERT; after
//! that 60% of all records are MODIFYs that only touch dropped attributes
//! (`session_token`, `debug_log`), the rest are real MODIFYs, REMOVEs and re-INSERTs.
//! Naive path: every record sanitized and written with one conditional PutItem, in order,
//! one at a time. Ours: the stream handler, batches of 100 records as Lambda delivers them.
//!
//! moto's server handles one request at a time (about 6 ms of Python each), so on it wall
//! time follows the request count and our concurrent writes cannot show. A second run
//! replays the same workload through an in-memory store that answers every write after a
//! fixed latency and serves writes concurrently, as DynamoDB does.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_dynamodb::Client;
use dynamo_shadow_core::item::{item_to_json, parse_item, AttributeValue, Item};
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_lambda::{Config, StreamHandler};
use dynamo_shadow_store::layout::SEQ_ATTR;
use dynamo_shadow_store::sdk::from_sdk;
use dynamo_shadow_store::{DynamoSdk, Guard, Seq, ShadowWrite, ShadowWriter, StoreError, WriteOutcome};
use dynamo_shadow_testkit::local::local_client;
use dynamo_shadow_testkit::{MemoryStore, Rng};
use serde_json::{json, Value};

const KEYS: usize = 1_000;
const RECORDS: usize = 10_000;
const BATCH: usize = 100;
const NOW: u64 = 1_764_000_000;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn image(key: usize, version: usize, token: usize, rng: &mut Rng) -> Item {
    Item::from([
        ("pk".to_string(), s(format!("USER#{key}"))),
        ("name".to_string(), s(format!("User {key}"))),
        ("email".to_string(), s(format!("user{key}@example.com"))),
        ("plan".to_string(), s(["free", "pro", "team"][version % 3])),
        ("bio".to_string(), s(format!("Profile version {version}; card 4929 1308 7752 6389 on file"))),
        ("login_count".to_string(), AttributeValue::N(version.to_string())),
        ("session_token".to_string(), s(format!("tok-{token}-{}", rng.chars(24, "abcdef0123456789")))),
        ("debug_log".to_string(), s(format!("request {token} from 10.0.{}.{}", token % 250, key % 250))),
    ])
}

fn record(name: &str, seq: u128, key: usize, new: Option<&Item>, old: Option<&Item>) -> Value {
    let mut d = json!({
        "Keys": {"pk": {"S": format!("USER#{key}")}},
        "SequenceNumber": seq.to_string(), "SizeBytes": 300, "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": NOW,
    });
    if let Some(n) = new {
        d["NewImage"] = item_to_json(n);
    }
    if let Some(o) = old {
        d["OldImage"] = item_to_json(o);
    }
    json!({"eventID": seq.to_string(), "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
           "awsRegion": "us-east-1", "dynamodb": d})
}

/// The deterministic workload and the share of records that only touch dropped attributes.
fn workload() -> (Vec<Value>, f64) {
    let mut rng = Rng::new(8);
    let mut state: Vec<Option<(Item, usize)>> = vec![None; KEYS];
    let mut records = Vec::with_capacity(RECORDS);
    // Stream sequence numbers have 21 or more digits.
    let mut seq: u128 = 100_000_000_000_000_000_000;
    let mut noop = 0;
    let next = |records: &mut Vec<Value>, v: Value| records.push(v);
    for (key, slot) in state.iter_mut().enumerate() {
        seq += 1;
        let img = image(key, 0, 0, &mut rng);
        next(&mut records, record("INSERT", seq, key, Some(&img), None));
        *slot = Some((img, 0));
    }
    while records.len() < RECORDS {
        let key = rng.below(KEYS);
        seq += 1;
        let roll = rng.below(1000);
        match state[key].clone() {
            None => {
                let img = image(key, 1, seq as usize, &mut rng);
                next(&mut records, record("INSERT", seq, key, Some(&img), None));
                state[key] = Some((img, 1));
            }
            Some((old, v)) if roll < 670 => {
                // Only dropped attributes change: the sanitized image is the same.
                let mut new = old.clone();
                new.insert("session_token".into(), s(format!("tok-{seq}-{}", rng.chars(24, "abcdef0123456789"))));
                new.insert("debug_log".into(), s(format!("request {seq}")));
                next(&mut records, record("MODIFY", seq, key, Some(&new), Some(&old)));
                state[key] = Some((new, v));
                noop += 1;
            }
            Some((old, v)) if roll < 960 => {
                let new = image(key, v + 1, seq as usize, &mut rng);
                next(&mut records, record("MODIFY", seq, key, Some(&new), Some(&old)));
                state[key] = Some((new, v + 1));
            }
            Some((old, _)) => {
                next(&mut records, record("REMOVE", seq, key, None, Some(&old)));
                state[key] = None;
            }
        }
    }
    (records, noop as f64 / RECORDS as f64)
}

async fn create_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .send()
        .await
        .expect("create table");
}

async fn scan(c: &Client, table: &str) -> HashMap<String, Item> {
    let mut out = HashMap::new();
    let mut start = None;
    loop {
        let page = c.scan().table_name(table).set_exclusive_start_key(start).send().await.unwrap();
        for i in page.items() {
            let mut item = from_sdk(i).unwrap();
            // Skipped records leave an older sequence number behind by design; compare content.
            item.remove(SEQ_ATTR);
            let AttributeValue::S(pk) = &item["pk"] else { panic!() };
            out.insert(pk.clone(), item);
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

/// An in-memory store that answers after a fixed latency and serves writes concurrently.
struct LatencyStore {
    inner: MemoryStore,
    latency: std::time::Duration,
}

impl ShadowWriter for LatencyStore {
    async fn put(&self, table: &str, write: &ShadowWrite, guard: Guard) -> Result<WriteOutcome, StoreError> {
        tokio::time::sleep(self.latency).await;
        self.inner.put(table, write, guard).await
    }

    async fn batch_put(&self, table: &str, writes: Vec<ShadowWrite>) -> Result<Vec<ShadowWrite>, StoreError> {
        tokio::time::sleep(self.latency).await;
        self.inner.batch_put(table, writes).await
    }
}

fn strip_seq(items: Vec<Item>) -> HashMap<String, Item> {
    items
        .into_iter()
        .map(|mut i| {
            i.remove(SEQ_ATTR);
            let AttributeValue::S(pk) = &i["pk"] else { panic!() };
            (pk.clone(), i)
        })
        .collect()
}

fn write_of(sanitizer: &Sanitizer, r: &Value) -> ShadowWrite {
    let d = &r["dynamodb"];
    let keys = parse_item(&d["Keys"]).unwrap();
    let seq = Seq::parse(d["SequenceNumber"].as_str().unwrap()).unwrap();
    if r["eventName"] == "REMOVE" {
        ShadowWrite::tombstone(keys, seq, NOW + 72 * 3600, sanitizer.fingerprint())
    } else {
        let img = parse_item(&d["NewImage"]).unwrap();
        let (clean, _) = sanitizer.sanitize(&img, &["pk"]).unwrap();
        ShadowWrite::upsert(clean, vec!["pk".into()], seq, sanitizer.fingerprint())
    }
}

fn report(name: &str, requests: u64, wcu: Option<f64>, secs: f64) -> f64 {
    let rps = RECORDS as f64 / secs;
    let wcu = wcu.map_or("       -".to_string(), |w| format!("{w:>8.1}"));
    println!("{name:<8} write requests {requests:>6}   WCU consumed {wcu}   wall {secs:>7.2} s   {rps:>8.0} records/s");
    rps
}

#[tokio::main]
async fn main() {
    let Ok(endpoint) = std::env::var("DYNAMO_SHADOW_TEST_ENDPOINT") else {
        println!("mirror benchmark skipped: DYNAMO_SHADOW_TEST_ENDPOINT not set (run `make bench`)");
        return;
    };
    let client = local_client(&endpoint).await;
    let (records, noop_share) = workload();
    println!(
        "workload: {} records over {KEYS} keys, {:.0}% only touch dropped attributes, batches of {BATCH}",
        records.len(),
        noop_share * 100.0
    );
    let sanitizer = Sanitizer::default_policy();

    // Naive mirror: one conditional write per record, in order, one at a time.
    create_table(&client, "mirror-naive").await;
    let naive = DynamoSdk::new(client.clone());
    let start = Instant::now();
    for r in &records {
        naive.put("mirror-naive", &write_of(&sanitizer, r), Guard::Newer).await.unwrap();
    }
    let naive_rps = report("naive", naive.requests(), Some(naive.consumed_wcu()), start.elapsed().as_secs_f64());

    // Ours: the stream handler, batch by batch.
    create_table(&client, "mirror-ours").await;
    let config = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| "mirror-ours".to_string())).unwrap();
    let handler = StreamHandler::single(sanitizer.clone(), DynamoSdk::new(client.clone()), config);
    let start = Instant::now();
    for batch in records.chunks(BATCH) {
        let r = handler.handle(&json!({"Records": batch}), NOW).await.unwrap();
        assert!(r.response.batch_item_failures.is_empty());
    }
    let ours_rps =
        report("ours", handler.store().requests(), Some(handler.store().consumed_wcu()), start.elapsed().as_secs_f64());

    let a = scan(&client, "mirror-naive").await;
    let b = scan(&client, "mirror-ours").await;
    let same = a == b;
    println!(
        "request ratio ours/naive {:.2}; records/s ratio {:.1}x; final shadow tables identical (content, {} items): {same}",
        handler.store().requests() as f64 / naive.requests() as f64,
        ours_rps / naive_rps,
        a.len()
    );
    assert!(same, "the two paths diverged");

    // The same workload against a store with DynamoDB-like latency that serves writes concurrently.
    let latency = std::time::Duration::from_millis(3);
    println!("\nsame workload, in-memory store answering each write after {latency:?}, concurrent writes served concurrently:");
    let naive = LatencyStore { inner: MemoryStore::default(), latency };
    let start = Instant::now();
    for r in &records {
        naive.put("mirror-latency", &write_of(&sanitizer, r), Guard::Newer).await.unwrap();
    }
    let naive_rps = report(
        "naive",
        naive.inner.puts.load(std::sync::atomic::Ordering::Relaxed),
        None,
        start.elapsed().as_secs_f64(),
    );
    let config = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| "mirror-latency".to_string())).unwrap();
    let handler =
        StreamHandler::single(sanitizer.clone(), LatencyStore { inner: MemoryStore::default(), latency }, config);
    let start = Instant::now();
    for batch in records.chunks(BATCH) {
        let r = handler.handle(&json!({"Records": batch}), NOW).await.unwrap();
        assert!(r.response.batch_item_failures.is_empty());
    }
    let ours_rps = report(
        "ours",
        handler.store().inner.puts.load(std::sync::atomic::Ordering::Relaxed),
        None,
        start.elapsed().as_secs_f64(),
    );
    let same =
        strip_seq(naive.inner.items("mirror-latency")) == strip_seq(handler.store().inner.items("mirror-latency"));
    println!("records/s ratio {:.1}x; final tables identical (content): {same}", ours_rps / naive_rps);
    assert!(same, "the two paths diverged");
}
