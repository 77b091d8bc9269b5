//! The property behind the fuzz target (`fuzz/`) and its replay test: any bytes given to the
//! stream handler as an event either are refused as a whole or come out as per-record
//! outcomes, and whatever was written is a valid DynamoDB item. Never a panic.

use serde_json::Value;

use dynamo_shadow_core::item::validate_item;
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_lambda::{Config, StreamHandler};
use dynamo_shadow_testkit::MemoryStore;

/// Runs `data` through JSON decoding and the stream handler with an in-memory store, and
/// panics if an invariant breaks.
pub fn check_event(data: &[u8]) {
    let Ok(event) = serde_json::from_slice::<Value>(data) else { return };
    let config = Config::from_env(|k| (k == "SHADOW_TABLE").then(|| "shadow".to_string())).expect("valid settings");
    // Compiling the rules once keeps the fuzzer's executions cheap.
    static SANITIZER: std::sync::OnceLock<Sanitizer> = std::sync::OnceLock::new();
    let sanitizer = SANITIZER.get_or_init(Sanitizer::default_policy).clone();
    let handler = StreamHandler::single(sanitizer, MemoryStore::default(), config);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let Ok(result) = rt.block_on(handler.handle(&event, 1_700_000_000)) else { return };
    let n = event["Records"].as_array().map_or(0, Vec::len);
    assert_eq!(result.statuses.len(), n, "one outcome per record");
    assert!(result.response.batch_item_failures.len() <= n);
    for item in handler.store().items("shadow") {
        assert!(validate_item(&item).is_ok(), "a written item is not a valid DynamoDB item");
    }
}
