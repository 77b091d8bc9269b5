//! The write path against a real DynamoDB-compatible endpoint (moto's server, started by
//! `make test`, which sets DYNAMO_SHADOW_TEST_ENDPOINT). Without the variable these tests
//! say so and pass only if DYNAMO_SHADOW_REQUIRE_ENDPOINT is unset; `make test` sets it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_dynamodb::Client;
use dynamo_shadow::item::{parse_item, AttributeValue, Item};
use dynamo_shadow::lambda::{Config, Status};
use dynamo_shadow::store::{from_sdk, pad_sequence, to_sdk, ShadowWrite, WriteOutcome, DELETED_ATTR, SEQ_ATTR};
use dynamo_shadow::{DynamoStore, Sanitizer, ShadowStore, StreamHandler};
use serde_json::json;

async fn client() -> Option<Client> {
    let Ok(endpoint) = std::env::var("DYNAMO_SHADOW_TEST_ENDPOINT") else {
        if std::env::var_os("DYNAMO_SHADOW_REQUIRE_ENDPOINT").is_some() {
            panic!("DYNAMO_SHADOW_TEST_ENDPOINT is not set but DYNAMO_SHADOW_REQUIRE_ENDPOINT is");
        }
        eprintln!("skipped: DYNAMO_SHADOW_TEST_ENDPOINT not set (run `make test`)");
        return None;
    };
    Some(dynamo_shadow::store::local_client(&endpoint).await)
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
    let store = DynamoStore::new(c.clone());
    let item = parse_item(&json!({
        "pk": {"S": "u#1"}, "sk": {"S": "p"},
        "n": {"N": "12345678901234567890123456789012345678"}, "tiny": {"N": "1E-130"},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.50"]}, "bs": {"BS": ["AAE=", "AgM="]},
        "m": {"M": {"l": {"L": [{"NULL": true}, {"BOOL": false}, {"B": "/wA="}]}}}
    }))
    .unwrap();
    let keys = vec!["pk".to_string(), "sk".to_string()];
    let w = |seq: &str| ShadowWrite::upsert(item.clone(), keys.clone(), pad_sequence(seq).unwrap(), "fp");

    assert_eq!(store.put(&table, &w("200000000000000000000")).await.unwrap(), WriteOutcome::Applied);
    let stored = get(&c, &table, "u#1", "p").await.unwrap();
    let mut expected = item.clone();
    expected.insert(SEQ_ATTR.into(), AttributeValue::S(pad_sequence("200000000000000000000").unwrap()));
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

    assert_eq!(store.put(&table, &w("200000000000000000000")).await.unwrap(), WriteOutcome::Stale, "replay");
    assert_eq!(store.put(&table, &w("199999999999999999999")).await.unwrap(), WriteOutcome::Stale, "older");
    let tomb = ShadowWrite::tombstone(
        HashMap::from([
            ("pk".to_string(), AttributeValue::S("u#1".into())),
            ("sk".to_string(), AttributeValue::S("p".into())),
        ]),
        pad_sequence("1000000000000000000000").unwrap(),
        4_000_000_000,
        "fp",
    );
    assert_eq!(store.put(&table, &tomb).await.unwrap(), WriteOutcome::Applied);
    assert_eq!(
        store.put(&table, &w("300000000000000000000")).await.unwrap(),
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
    let h = StreamHandler::single(Sanitizer::default_policy(), DynamoStore::new(c.clone()), config);
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

    // A record whose image DynamoDB would reject (a table key of the wrong type) fails
    // alone: the write is refused by the service, other keys are applied.
    let bad = json!({"Records": [
        {"eventID": "1", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"Keys": {"pk": {"N": "1"}, "sk": {"S": "x"}}, "NewImage": {"pk": {"N": "1"}, "sk": {"S": "x"}},
                      "SequenceNumber": "900000000000000000001", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}},
        {"eventID": "2", "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
         "dynamodb": {"Keys": {"pk": {"S": "OK#1"}, "sk": {"S": "x"}}, "NewImage": {"pk": {"S": "OK#1"}, "sk": {"S": "x"}, "v": {"S": "fine"}},
                      "SequenceNumber": "900000000000000000002", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    ]});
    let r = h.handle(&bad, 0).await.unwrap();
    let failed: Vec<_> = r.response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
    assert_eq!(failed, ["900000000000000000001"]);
    assert!(
        matches!(&r.statuses[0].1, Status::Failed(reason) if reason.contains("ValidationException")),
        "{:?}",
        r.statuses[0]
    );
    assert_eq!(get(&c, &table, "OK#1", "x").await.unwrap()["v"], AttributeValue::S("fine".into()));
}
