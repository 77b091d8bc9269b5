//! CloudWatch Embedded Metric Format (EMF): one JSON line per batch on stdout, which
//! CloudWatch Logs turns into metrics without any API call from the function.
//!
//! Only counts and durations: no attribute value, no key, no sequence number. The only
//! dimension is the function name, so cardinality stays fixed.

use serde_json::{json, Map, Value};

use dynamo_shadow_core::Category;

use crate::handler::BatchSummary;

/// The metric namespace unless `SHADOW_METRICS_NAMESPACE` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "DynamoShadow";

/// Redaction categories reported as metrics (fixed, so the set of metric names is too).
pub const CATEGORIES: [(Category, &str); 3] =
    [(Category::Secret, "RedactedSecrets"), (Category::Pii, "RedactedPii"), (Category::Person, "RedactedPersons")];

/// The EMF line for one batch.
pub fn batch_line(s: &BatchSummary, namespace: &str, function: &str, timestamp_ms: u64) -> String {
    let counts: [(&str, u64); 10] = [
        ("Records", s.records),
        ("Written", s.written),
        ("Deleted", s.deleted),
        ("Coalesced", s.coalesced),
        ("StaleSkipped", s.stale),
        ("UnchangedSkipped", s.unchanged),
        ("FailedRecords", s.failed),
        ("QuarantinedRecords", s.quarantined),
        ("WriteRequests", s.write_requests),
        // Index key attributes left out of an item because they no longer fit the index.
        ("SparseIndexKeys", s.redactions.sparse_index_keys),
    ];
    let mut root = Map::new();
    let mut defs = Vec::new();
    for (name, v) in counts {
        defs.push(json!({"Name": name, "Unit": "Count"}));
        root.insert(name.into(), v.into());
    }
    for (cat, name) in CATEGORIES {
        defs.push(json!({"Name": name, "Unit": "Count"}));
        root.insert(name.into(), s.redactions.by_category.get(&cat).copied().unwrap_or(0).into());
    }
    defs.push(json!({"Name": "SanitizeTime", "Unit": "Milliseconds"}));
    root.insert("SanitizeTime".into(), json!(s.sanitize_micros as f64 / 1000.0));
    root.insert("FunctionName".into(), function.into());
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["FunctionName"]], "Metrics": defs}]
        }),
    );
    Value::Object(root).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_valid_emf_with_counts_only() {
        let mut s = BatchSummary { records: 5, written: 3, failed: 1, sanitize_micros: 1500, ..Default::default() };
        s.redactions.by_category.insert(Category::Pii, 4);
        s.redactions.sparse_index_keys = 2;
        s.redactions.by_rule.insert(dynamo_shadow_core::RuleRef::Detector("pii.email".into()), 4);
        let line = batch_line(&s, DEFAULT_NAMESPACE, "fn", 1_700_000_000_000);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], DEFAULT_NAMESPACE);
        assert_eq!(m["Dimensions"], json!([["FunctionName"]]));
        // Every declared metric is present as a number at the root, and nothing else is.
        let names: Vec<&str> = m["Metrics"].as_array().unwrap().iter().map(|d| d["Name"].as_str().unwrap()).collect();
        for n in &names {
            assert!(v[n].is_number(), "{n}");
        }
        let root: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(root.len(), names.len() + 2, "metrics, FunctionName and _aws only: {root:?}");
        assert_eq!(v["Records"], 5);
        assert_eq!(v["FailedRecords"], 1);
        assert_eq!(v["QuarantinedRecords"], 0);
        assert_eq!(v["SparseIndexKeys"], 2);
        assert_eq!(v["RedactedPii"], 4);
        assert_eq!(v["RedactedSecrets"], 0);
        assert_eq!(v["SanitizeTime"], 1.5);
        assert!(!line.contains("pii.email"), "rule ids are not metric names (cardinality)");
    }
}
