//! The write path against a real DynamoDB-compatible endpoint (moto's server, started by
//! `make test`, which sets DYNAMO_SHADOW_TEST_ENDPOINT). Without the variable these tests
//! say so and pass only if DYNAMO_SHADOW_REQUIRE_ENDPOINT is unset; `make test` sets it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_dynamodb::Client;
use dynamo_shadow_core::item::{parse_item, AttributeValue, Item};
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_lambda::{Config, RecordError, Status, StreamHandler};
use dynamo_shadow_store::layout::{DELETED_ATTR, SEQ_ATTR};
use dynamo_shadow_store::sdk::{from_sdk, to_sdk};
use dynamo_shadow_store::{
    Describer, DynamoSdk, Guard, ItemReader, ScanRequest, Scanner, Seq, ShadowWrite, ShadowWriter, WriteOutcome,
};
use dynamo_shadow_testkit::local::{local_client, test_endpoint};
use serde_json::json;

async fn client() -> Option<Client> {
    Some(local_client(&test_endpoint()?).await)
}

async fn create_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name("sk").attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("sk").key_type(KeyType::Range).build().unwrap())
        .send()
        .await
        .expect("create table");
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{nanos}")
}

async fn get(c: &Client, table: &str, pk: &str, sk: &str) -> Option<Item> {
    let key: Item = HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("sk".to_string(), AttributeValue::S(sk.into())),
    ]);
    let out = c.get_item().table_name(table).set_key(Some(to_sdk(&key))).consistent_read(true).send().await.unwrap();
    out.item().map(|i| from_sdk(i).expect("known types"))
}

#[tokio::test]
async fn conditional_writes_are_idempotent_and_stale_proof() {
    let Some(c) = client().await else { return };
    let table = unique("store");
    create_table(&c, &table).await;
    let store = DynamoSdk::new(c.clone());
    let item = parse_item(&json!({
        "pk": {"S": "u#1"}, "sk": {"S": "p"},
        "n": {"N": "12345678901234567890123456789012345678"}, "tiny": {"N": "1E-130"},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.50"]}, "bs": {"BS": ["AAE=", "AgM="]},
        "m": {"M": {"l": {"L": [{"NULL": true}, {"BOOL": false}, {"B": "/wA="}]}}}
    }))
    .unwrap();
    let keys = vec!["pk".to_string(), "sk".to_string()];
    let w = |seq: &str| ShadowWrite::upsert(item.clone(), keys.clone(), Seq::parse(seq).unwrap(), "fp");

    assert_eq!(store.put(&table, &w("200000000000000000000"), Guard::Newer).await.unwrap(), WriteOutcome::Applied);
    let stored = get(&c, &table, "u#1", "p").await.unwrap();
    let mut expected = item.clone();
    expected.insert(SEQ_ATTR.into(), AttributeValue::S(Seq::parse("200000000000000000000").unwrap().to_string()));
    expected.insert("_shadow_policy".into(), AttributeValue::S("fp".into()));
    // Sets come back in any order: compare them sorted; everything else exactly.
    let norm = |mut i: Item| {
        for v in i.values_mut() {
            match v {
                AttributeValue::Ss(s) | AttributeValue::Ns(s) => s.sort(),
                AttributeValue::Bs(s) => s.sort(),
                _ => {}
            }
        }
        i
    };
    assert_eq!(norm(stored), norm(expected), "values round-trip exactly (numbers as written, sets as sets)");

    assert_eq!(
        store.put(&table, &w("200000000000000000000"), Guard::Newer).await.unwrap(),
        WriteOutcome::Stale,
        "replay"
    );
    assert_eq!(
        store.put(&table, &w("199999999999999999999"), Guard::Newer).await.unwrap(),
        WriteOutcome::Stale,
        "older"
    );
    let tomb = ShadowWrite::tombstone(
        HashMap::from([
            ("pk".to_string(), AttributeValue::S("u#1".into())),
            ("sk".to_string(), AttributeValue::S("p".into())),
        ]),
        Seq::parse("1000000000000000000000").unwrap(),
        4_000_000_000,
        "fp",
    );
    assert_eq!(store.put(&table, &tomb, Guard::Newer).await.unwrap(), WriteOutcome::Applied);
    assert_eq!(
        store.put(&table, &w("300000000000000000000"), Guard::Newer).await.unwrap(),
        WriteOutcome::Stale,
        "a numerically smaller sequence with more digits padding"
    );
    let after = get(&c, &table, "u#1", "p").await.unwrap();
    assert_eq!(after[DELETED_ATTR], AttributeValue::Bool(true), "no resurrection");
    assert_eq!(after.len(), 6);
    assert_eq!(store.requests(), 5);
}

#[tokio::test]
async fn handler_applies_a_real_batch_and_failures_stay_per_key() {
    let Some(c) = client().await else { return };
    let table = unique("handler");
    create_table(&c, &table).await;
    let config = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| table.clone())).unwrap();
    let h = StreamHandler::single(Sanitizer::default_policy(), DynamoSdk::new(c.clone()), config);
    let event: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("events/mixed-batch.json").unwrap()).unwrap();
    let r = h.handle(&event, 1_700_000_000).await.unwrap();
    assert!(r.response.batch_item_failures.is_empty());
    assert_eq!(r.summary.write_requests, 4, "7 records over 4 keys: one write per key");
    let user = get(&c, &table, "USER#1001", "PROFILE").await.unwrap();
    assert_eq!(user["plan"], AttributeValue::S("enterprise".into()));
    assert!(!user.contains_key("api_key") && !user.contains_key("session_token"));
    let planted: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string("events/planted-secrets.json").unwrap()).unwrap();
    let dump = format!("{user:?}");
    assert!(planted.iter().all(|p| !dump.contains(p.as_str())));

    // A record whose image DynamoDB rejects (a table key of the wrong type): a permanent
    // failure. Even its marker is refused, so no shadow item can exist for that key: it is
    // quarantined without a marker, not retried; other keys are applied.
    let bad = json!({"Records": [
        {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"Keys": {"pk": {"N": "1"}, "sk": {"S": "x"}}, "NewImage": {"pk": {"N": "1"}, "sk": {"S": "x"}},
                      "SequenceNumber": "900000000000000000001", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}},
        {"eventID": "2", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"Keys": {"pk": {"S": "OK#1"}, "sk": {"S": "x"}}, "NewImage": {"pk": {"S": "OK#1"}, "sk": {"S": "x"}, "v": {"S": "fine"}},
                      "SequenceNumber": "900000000000000000002", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    ]});
    let r = h.handle(&bad, 0).await.unwrap();
    assert!(r.response.batch_item_failures.is_empty(), "{:?}", r.response);
    assert_eq!(r.summary.quarantined, 1);
    assert!(
        matches!(&r.statuses[0].1, Status::Quarantined(RecordError::Write(e)) if e.code() == Some("ValidationException")),
        "{:?}",
        r.statuses[0]
    );
    assert_eq!(get(&c, &table, "OK#1", "x").await.unwrap()["v"], AttributeValue::S("fine".into()));
}

/// Every other store call against the real endpoint: the same semantics the in-memory store
/// gives the unit tests of backfill and verify.
#[tokio::test]
async fn scans_batches_gets_and_guards_behave_as_the_memory_store_does() {
    let Some(c) = client().await else { return };
    let table = unique("calls");
    create_table(&c, &table).await;
    let store = DynamoSdk::new(c.clone());
    let d = store.describe(&table).await.unwrap();
    assert_eq!(d.key_names, ["pk", "sk"]);
    assert!(d.arn.as_deref().is_some_and(|a| a.ends_with(&table)));
    let keys = vec!["pk".to_string(), "sk".to_string()];
    let item = |i: usize| -> Item {
        Item::from([
            ("pk".to_string(), AttributeValue::S(format!("K#{i}"))),
            ("sk".to_string(), AttributeValue::S("v".into())),
            ("n".to_string(), AttributeValue::N(format!("{i}.50"))),
        ])
    };
    // 60 items in batches of 25 (DynamoDB's limit, which moto does not enforce).
    for chunk in (0..60).collect::<Vec<_>>().chunks(25) {
        let writes = chunk.iter().map(|&i| ShadowWrite::upsert(item(i), keys.clone(), Seq::backfill(), "fp")).collect();
        assert!(store.batch_put(&table, writes).await.unwrap().is_empty());
    }
    // Two segments, pages of 7: every item exactly once.
    let mut seen = std::collections::HashSet::new();
    for segment in 0..2 {
        let mut start = None;
        loop {
            let page = store
                .scan(ScanRequest { table: &table, segment, total_segments: 2, start, limit: Some(7) })
                .await
                .unwrap();
            for i in page.items {
                let i = i.unwrap();
                assert!(seen.insert(format!("{:?}", i["pk"])));
            }
            match page.next {
                Some(n) => start = Some(n),
                None => break,
            }
        }
    }
    assert_eq!(seen.len(), 60);
    // BatchGetItem with a projection; GetItem consistent.
    let wanted: Vec<Item> = (0..5).map(|i| dynamo_shadow_core::item::key_attributes(&item(i), &keys)).collect();
    let got = store.batch_get(&table, wanted, Some(&["pk", "sk", SEQ_ATTR]), false).await.unwrap();
    assert_eq!(got.items.len(), 5);
    assert!(got.items.iter().all(|i| i.as_ref().unwrap().len() == 3), "projected to three attributes");
    let one = store.get(&table, &dynamo_shadow_core::item::key_attributes(&item(7), &keys), true).await.unwrap();
    assert_eq!(one.unwrap().unwrap()["n"], AttributeValue::N("7.50".into()));
    // Absent and Holds guards.
    let w = ShadowWrite::upsert(item(7), keys.clone(), Seq::parse("5").unwrap(), "fp2");
    assert_eq!(store.put(&table, &w, Guard::Absent).await.unwrap(), WriteOutcome::Stale);
    assert_eq!(store.put(&table, &w, Guard::Holds("nope".into())).await.unwrap(), WriteOutcome::Stale);
    assert_eq!(store.put(&table, &w, Guard::Holds(Seq::backfill().to_string())).await.unwrap(), WriteOutcome::Applied);
    let _ = (from_sdk, to_sdk, HashMap::<String, String>::new());
}
