//! Property tests over arbitrary `AttributeValue` trees: the sanitizer never panics, every
//! item it returns is one DynamoDB accepts, output is deterministic, and known secrets and
//! PII planted anywhere in the tree (strings, set elements, binary, map keys, inside lists of
//! maps) never survive.

use std::collections::HashMap;

use dynamo_shadow_core::item::{validate_item, AttributeValue, Item};
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_testkit::corpus::{leaked, readable_text};
use proptest::prelude::*;

/// Values that must never reach the shadow table, whatever surrounds them.
const CANARIES: &[&str] = &[
    "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",
    "AKIAZ7QWERTY2UIOP3AS",
    "sk_live_9f8e7d6c5b4a3f2e1d0c9b8a",
    "canary.person@example.org",
    "4929 1308 7752 6389",
    "536-22-8714",
    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "GB17 WEST 2323 3211 3250 72",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{0,40}",
        1 => "\\PC{0,20}",
        2 => ("[ -~]{0,12}", 0..CANARIES.len(), "[ -~]{0,12}")
            .prop_map(|(a, i, b)| format!("{a} {} {b}", CANARIES[i])),
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-zA-Z_]{0,12}",
        1 => prop::sample::select(vec!["api_key", "sessionToken", "X-Api-Key", "password", "debug_log", "token_count"]).prop_map(str::to_string),
        1 => (0..CANARIES.len()).prop_map(|i| CANARIES[i].to_string()),
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[1-9][0-9]{0,37}",
        "-?[0-9]{1,10}\\.[0-9]{1,10}",
        "[1-9][0-9]{0,5}[eE][+-]?[0-9]{1,2}",
        Just("4929130877526389".to_string()),
    ]
}

fn value() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        text().prop_map(AttributeValue::S),
        number().prop_map(AttributeValue::N),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(AttributeValue::B),
        text().prop_map(|t| AttributeValue::B(t.into_bytes())),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null(true)),
        prop::collection::vec(text(), 1..4).prop_map(AttributeValue::Ss),
        prop::collection::vec(number(), 1..4).prop_map(AttributeValue::Ns),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..8), 1..3).prop_map(AttributeValue::Bs),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(AttributeValue::L),
            prop::collection::hash_map(name(), inner, 0..5).prop_map(AttributeValue::M),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    (prop::collection::hash_map(name(), value(), 0..8), "[a-z0-9#]{1,12}").prop_map(
        |(mut m, pk): (HashMap<String, AttributeValue>, String)| {
            m.insert("pk".into(), AttributeValue::S(pk));
            m
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn output_is_valid_deterministic_and_clean(it in item()) {
        let s = Sanitizer::default_policy();
        // Never panics; an error is a clean refusal (fail closed).
        if let Ok((out, _)) = s.sanitize(&it, &["pk"]) {
            prop_assert!(validate_item(&out).is_ok(), "invalid output item");
            prop_assert_eq!(&s.sanitize(&it, &["pk"]).unwrap().0, &out);
            let text = readable_text(&out);
            for c in CANARIES {
                prop_assert!(!leaked(c, &text), "a planted canary survived");
            }
        }
    }
}
