//! Shadow indexes (`[[index]]`): the policy refuses index keys it would destroy, and an
//! index key that no longer fits its index is left out of the item (sparse), counted.

use dynamo_shadow_core::item::parse_item;
use dynamo_shadow_core::{AttributeValue, Policy, RuleRef, Sanitizer};
use serde_json::json;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

fn build(text: &str) -> Result<Sanitizer, String> {
    let policy = Policy::parse(text, "p.toml").map_err(|e| e.to_string())?;
    let key = policy.uses_tokenize().then(|| KEY.to_vec());
    Sanitizer::build(&policy, &policy.default, key).map_err(|e| e.to_string())
}

/// The shipped example policy (customer_id tokenized, the by_customer index) plus an index
/// on a number.
fn tickets() -> String {
    let shipped = include_str!("../../../policies/tickets.toml");
    format!("{shipped}\n[[index]]\nname = \"by_priority\"\npartition_key = \"priority\"\npartition_key_type = \"N\"\n")
}

#[test]
fn parses_indexes_and_leaves_other_fingerprints_alone() {
    let p = Policy::parse(&tickets(), "p.toml").unwrap();
    let ix = &p.default.indexes;
    assert_eq!(ix.len(), 2);
    assert_eq!(ix[0].name, "by_customer");
    assert_eq!(ix[0].keys.len(), 2);
    assert_eq!(ix[1].keys[0].1.as_str(), "N");
    // No [[index]], no change to what the fingerprint hashes.
    let plain = serde_json::to_string(&Policy::parse("version = 1\n", "p").unwrap()).unwrap();
    assert!(!plain.contains("indexes"), "{plain}");
    assert!(serde_json::to_string(&p).unwrap().contains("by_customer"));
}

#[test]
fn refuses_bad_index_declarations() {
    let cases = [
        ("name = \"ab\"\npartition_key = \"c\"", "3 to 255"),
        ("name = \"by c\"\npartition_key = \"c\"", "3 to 255"),
        ("name = \"by_c\"\npartition_key = \"c\"\nsort_key = \"c\"", "the same attribute"),
        ("name = \"by_c\"\npartition_key = \"_shadow_seq\"", "metadata"),
        ("name = \"by_c\"\npartition_key = \"sk\"", "tombstones and quarantine markers would appear"),
        ("name = \"by_c\"\npartition_key = \"c\"\npartition_key_type = \"X\"", "unknown variant"),
        ("name = \"by_c\"\npartition_key = \"c\"\nprojection = \"ALL\"", "unknown field"),
    ];
    for (body, want) in cases {
        let text = format!("version = 1\nkeys = [\"pk\", \"sk\"]\n[[index]]\n{body}\n");
        let err = Policy::parse(&text, "p.toml").unwrap_err().to_string();
        assert!(err.contains(want), "{body}: {err}");
    }
    let twice = "version = 1\n[[index]]\nname = \"by_c\"\npartition_key = \"c\"\n[[index]]\nname = \"by_c\"\npartition_key = \"d\"\n";
    assert!(Policy::parse(twice, "p").unwrap_err().to_string().contains("declared twice"));
    let in_tables = "version = 1\n[[index]]\nname = \"by_c\"\npartition_key = \"c\"\n[tables.app]\nshadow = \"s\"\n";
    assert!(Policy::parse(in_tables, "p").unwrap_err().to_string().contains("table section"));
}

#[test]
fn refuses_policies_that_would_destroy_an_index_key() {
    let index = "[[index]]\nname = \"by_customer\"\npartition_key = \"customer_id\"\n";
    let cases = [
        ("[[rule]]\npath = \"customer_id\"\naction = \"drop\"\n", "drops"),
        ("[[rule]]\npath = \"customer_id\"\naction = \"redact\"\n", "redacts"),
        ("[[rule]]\npath = \"customer_id\"\naction = \"mask\"\nkeep_last = 4\n", "masks"),
        ("[[rule]]\npath = \"*\"\naction = \"redact\"\n", "redacts"),
        ("[names]\ndrop = [\"customer_id\"]\n", "drops"),
        ("mode = \"allow\"\n[[rule]]\npath = \"title\"\naction = \"allow\"\n", "drops"),
    ];
    for (rules, want) in cases {
        let err = build(&format!("version = 1\n{rules}{index}")).unwrap_err();
        assert!(err.contains(&format!("the policy {want} key attribute `customer_id`")), "{rules}: {err}");
        assert!(err.contains("index `by_customer`"), "{err}");
    }
    // A name from the sensitive-name dictionary is dropped by default.
    let err = build("version = 1\n[[index]]\nname = \"by_token\"\npartition_key = \"session_token\"\n").unwrap_err();
    assert!(err.contains("drops key attribute `session_token`"), "{err}");
    // A tokenized number becomes a string token: the index must say S.
    let n = "version = 1\n[[rule]]\npath = \"account\"\naction = \"tokenize\"\n[[index]]\nname = \"by_account\"\npartition_key = \"account\"\npartition_key_type = \"N\"\n";
    assert!(build(n).unwrap_err().contains("declare its type \"S\""));
    // Kept, tokenized, and allowed in allow mode: fine.
    build(&tickets()).unwrap();
    build("version = 1\n[[rule]]\npath = \"customer_id\"\naction = \"keep\"\n[[index]]\nname = \"by_customer\"\npartition_key = \"customer_id\"\n").unwrap();
    build("version = 1\nmode = \"allow\"\n[[rule]]\npath = \"customer_id\"\naction = \"allow\"\n[[index]]\nname = \"by_customer\"\npartition_key = \"customer_id\"\n").unwrap();
}

#[test]
fn index_keys_that_no_longer_fit_are_left_out_and_counted() {
    let s = build(&tickets()).unwrap();
    let keys = ["pk", "sk"];
    let item = |extra: serde_json::Value| {
        let mut base = json!({"pk": {"S": "T#1"}, "sk": {"S": "META"}, "title": {"S": "printer on fire"}});
        base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        parse_item(&base).unwrap()
    };

    // Fits: the tokenized customer id (a string) and a string sort key; priority is N.
    let (clean, report) = s
        .sanitize(
            &item(json!({"customer_id": {"S": "c-1001"}, "created_at": {"S": "2026-11-30"}, "priority": {"N": "2"}})),
            &keys,
        )
        .unwrap();
    assert!(matches!(&clean["customer_id"], AttributeValue::S(t) if t.starts_with("tok_")));
    assert_eq!(clean["created_at"], AttributeValue::S("2026-11-30".into()));
    assert_eq!(clean["priority"], AttributeValue::N("2".into()));
    assert_eq!(report.sparse_index_keys, 0);

    // Does not fit: created_at as a number (the index says S), an empty priority type
    // mismatch (S where N is declared), and an empty customer id.
    let (clean, report) = s
        .sanitize(
            &item(json!({"customer_id": {"S": "c-1"}, "created_at": {"N": "20261130"}, "priority": {"S": "high"}})),
            &keys,
        )
        .unwrap();
    assert!(!clean.contains_key("created_at") && !clean.contains_key("priority"));
    assert!(clean.contains_key("customer_id") && clean.contains_key("title"), "the item is still written");
    assert_eq!(report.sparse_index_keys, 2);
    assert_eq!(report.decisions.iter().filter(|d| d.rule == RuleRef::IndexKey).count(), 2);
    assert_eq!(RuleRef::IndexKey.to_string(), "index:sparse");

    let keep = build("version = 1\n[[rule]]\npath = \"customer_id\"\naction = \"keep\"\n[[index]]\nname = \"by_customer\"\npartition_key = \"customer_id\"\n").unwrap();
    let (clean, report) =
        keep.sanitize(&parse_item(&json!({"pk": {"S": "x"}, "customer_id": {"S": ""}})).unwrap(), &["pk"]).unwrap();
    assert!(!clean.contains_key("customer_id"), "DynamoDB refuses an empty string as an index key");
    assert_eq!(report.sparse_index_keys, 1);

    // Absent: nothing to do.
    let (_, report) = s.sanitize(&item(json!({})), &keys).unwrap();
    assert_eq!(report.sparse_index_keys, 0);
}
