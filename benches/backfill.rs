//! Backfill throughput against a real DynamoDB-compatible endpoint (moto's server) with 1,
//! 2, 4 and 8 scan segments, and the share of time spent sanitizing versus waiting on the
//! endpoint. Prints figures; asserts only that every item was written.
//!
//! Run: `make bench` (starts moto), or with DYNAMO_SHADOW_TEST_ENDPOINT set:
//! `cargo bench --bench backfill`. Items: the labeled evaluation corpus (about 530 bytes,
//! one to four planted secrets, PII values or decoys each), keyed by pk and sk.

use std::time::Instant;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PutRequest, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_ops::backfill::{Backfill, Options};
use dynamo_shadow_store::sdk::to_sdk;
use dynamo_shadow_testkit::local::{local_client, local_store};

const ITEMS: usize = 4_000;

async fn create_table(c: &Client, name: &str) {
    let attr =
        |n: &str| AttributeDefinition::builder().attribute_name(n).attribute_type(ScalarAttributeType::S).build();
    let key = |n: &str, t| KeySchemaElement::builder().attribute_name(n).key_type(t).build();
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk").unwrap())
        .attribute_definitions(attr("sk").unwrap())
        .key_schema(key("pk", KeyType::Hash).unwrap())
        .key_schema(key("sk", KeyType::Range).unwrap())
        .send()
        .await
        .expect("create table");
}

fn main() {
    let Ok(endpoint) = std::env::var("DYNAMO_SHADOW_TEST_ENDPOINT") else {
        eprintln!("backfill bench: set DYNAMO_SHADOW_TEST_ENDPOINT (or run `make bench`, which starts moto)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = &local_client(&endpoint).await;
        let store = local_store(&endpoint).await;
        let sanitizer = Sanitizer::default_policy();
        let run = format!("{}", std::process::id());
        let source = format!("bench-src-{run}");
        create_table(client, &source).await;
        let corpus = dynamo_shadow_testkit::corpus::corpus(20_261_125, ITEMS);
        let bytes: usize = corpus.iter().map(|l| dynamo_shadow_core::item::item_size(&l.item)).sum();
        for chunk in corpus.chunks(25) {
            let reqs: Vec<WriteRequest> = chunk
                .iter()
                .map(|l| {
                    let put = PutRequest::builder().set_item(Some(to_sdk(&l.item))).build().unwrap();
                    WriteRequest::builder().put_request(put).build()
                })
                .collect();
            client.batch_write_item().request_items(&source, reqs).send().await.expect("load");
        }
        println!(
            "backfill of {ITEMS} items ({:.0} bytes each) from moto's server, conditional PutItems",
            bytes as f64 / ITEMS as f64
        );
        println!(
            "{:>8} {:>10} {:>10} {:>12} {:>14} {:>10}",
            "segments", "seconds", "items/s", "requests", "sanitize s", "sanitize%"
        );
        let runs = [(1u32, false), (2, false), (4, false), (8, false), (1, true), (4, true)];
        println!("(exclusive: unconditional BatchWriteItem, 25 items a request)");
        for (segments, exclusive) in runs {
            let shadow = format!("bench-shadow-{run}-{segments}-{exclusive}");
            create_table(client, &shadow).await;
            let opts = Options {
                source_table: source.clone(),
                shadow_table: shadow.clone(),
                total_segments: segments,
                policy_changed: false,
                dry_run: false,
                exclusive,
                max_wcu: None,
                rate: None,
                concurrency: 16,
                page_size: None,
            };
            let bf = Backfill::new(&store, &sanitizer, opts).await.expect("backfill setup");
            let started = Instant::now();
            let segments_run = (0..segments).map(|seg| bf.run_segment(seg, None, None, |_, _| {}));
            for r in futures_util::future::join_all(segments_run).await {
                r.expect("segment");
            }
            let secs = started.elapsed().as_secs_f64();
            let s = bf.counters.snapshot();
            assert_eq!((s.scanned, s.written), (ITEMS as u64, ITEMS as u64), "every item written");
            println!(
                "{:>8} {secs:>10.2} {:>10.0} {:>12} {:>14.2} {:>9.1}%",
                if exclusive { format!("{segments} excl") } else { segments.to_string() },
                ITEMS as f64 / secs,
                s.write_requests + s.read_requests,
                s.sanitize_secs,
                100.0 * s.sanitize_secs / secs
            );
        }
    });
}
