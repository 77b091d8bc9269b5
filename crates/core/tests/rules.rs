//! The built-in rules as data, enforced (noseyparker-style): every rule compiles within its
//! length bound, its prefilter is proved from its pattern, it finds each of its examples (alone
//! and through the combined matcher) and none of its negative examples, and the rule set
//! covers what the README promises.

use std::collections::{BTreeMap, HashSet};

use dynamo_shadow_core::detect::{builtin_rule_files, builtin_specs, check_rule, validators, Detectors};
use dynamo_shadow_core::Category;

fn detectors() -> Detectors {
    Detectors::builtin().expect("built-in rules compile")
}

#[test]
fn every_rule_is_bounded_proved_and_documented() {
    let mut problems = Vec::new();
    for spec in builtin_specs() {
        if let Err(e) = check_rule(spec) {
            problems.push(e.to_string());
        }
        if spec.prefilter.is_empty() && spec.min_digits.is_none() {
            problems.push(format!("{}: a built-in rule needs a prefilter or min_digits", spec.id));
        }
        if spec.examples.is_empty() || spec.negative_examples.is_empty() {
            problems.push(format!("{}: needs examples and negative examples", spec.id));
        }
        if spec.category == Category::Secret
            && !matches!(spec.family.as_str(), "generic" | "keys")
            && spec.source.as_deref().is_none_or(str::is_empty)
        {
            problems.push(format!("{}: a provider rule names where its format is documented (`source`)", spec.id));
        }
    }
    assert!(problems.is_empty(), "{} rule problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_rule_matches_its_examples_and_none_of_its_negative_examples() {
    let d = detectors();
    let mut problems = Vec::new();
    for (i, rule) in d.rules().iter().enumerate() {
        for ex in &rule.spec.examples {
            if d.find_rule(i, ex).map_or(true, |f| f.is_empty()) {
                problems.push(format!("{}: misses example {ex:?}", rule.spec.id));
            }
            if d.redact(ex).map_or(true, |r| r.is_none()) {
                problems.push(format!("{}: the combined set misses example {ex:?}", rule.spec.id));
            }
        }
        for ex in &rule.spec.negative_examples {
            if d.find_rule(i, ex).map_or(true, |f| !f.is_empty()) {
                problems.push(format!("{}: matches negative example {ex:?}", rule.spec.id));
            }
        }
    }
    assert!(problems.is_empty(), "{} rule self-test failures:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn at_least_two_hundred_secret_formats_across_the_families() {
    let mut by_family: BTreeMap<&str, usize> = BTreeMap::new();
    let mut secrets = 0;
    for s in builtin_specs() {
        *by_family.entry(s.family.as_str()).or_default() += 1;
        secrets += (s.category == Category::Secret) as usize;
    }
    eprintln!("{by_family:?}, {secrets} secret rules");
    assert!(secrets >= 200, "{secrets} secret rules");
    for family in ["cloud", "devtools", "observability", "comms", "payments", "saas", "ai", "keys", "generic"] {
        assert!(by_family.get(family).copied().unwrap_or(0) >= 5, "family {family}: {by_family:?}");
    }
    assert_eq!(builtin_rule_files().len(), 13);
}

#[test]
fn rules_cover_what_the_default_policy_promises() {
    let ids: HashSet<String> = Detectors::builtin_ids().into_iter().collect();
    for id in [
        "aws.access_key_id",
        "aws.secret_access_key",
        "gcp.api_key",
        "azure.storage_key",
        "github.token",
        "gitlab.token",
        "openai.api_key",
        "anthropic.api_key",
        "stripe.key",
        "slack.token",
        "slack.webhook",
        "private_key.block",
        "jwt",
        "http.authorization",
        "url.credentials",
        "pii.email",
        "pii.card_number",
        "pii.ssn",
        "pii.iban",
        "pii.ipv4",
        "pii.ipv6",
        "pii.phone.international",
    ] {
        assert!(ids.contains(id), "missing rule {id}");
    }
}

#[test]
fn every_validator_in_the_registry_is_used_by_a_rule() {
    let used: HashSet<&str> = builtin_specs().iter().flat_map(|s| s.validators.iter().map(String::as_str)).collect();
    let unused: Vec<&str> = validators::REGISTRY.iter().map(|(n, _)| *n).filter(|n| !used.contains(n)).collect();
    // A registered validator no rule uses is dead code or a forgotten wiring.
    assert!(unused.len() <= 3, "validators no rule uses: {unused:?}");
}

#[test]
fn redaction_keeps_surrounding_text_and_only_the_secret_part_of_a_url() {
    let d = detectors();
    assert_eq!(d.redact("mail alice@example.com re order 42").unwrap().unwrap(), "mail [REDACTED:EMAIL] re order 42");
    let out = d.redact("db at postgres://app:S3cr3tPa55@db.internal:5432/prod").unwrap().unwrap();
    assert!(out.starts_with("db at postgres://app:[REDACTED:") && out.ends_with("@db.internal:5432/prod"), "{out}");
    assert!(d.redact("nothing to see here, version 1.2.3").unwrap().is_none());
}

#[test]
fn bad_rules_are_rejected_with_the_rule_id() {
    let spec = |pattern: &str, prefilter: &[&str], validators: &[&str]| dynamo_shadow_core::detect::RuleSpec {
        id: "x.bad".into(),
        name: "bad".into(),
        family: "custom".into(),
        category: Category::Secret,
        label: "X".into(),
        pattern: pattern.into(),
        validators: validators.iter().map(|s| s.to_string()).collect(),
        keywords: vec![],
        prefilter: prefilter.iter().map(|s| s.to_string()).collect(),
        min_digits: None,
        examples: vec![],
        negative_examples: vec![],
        source: None,
        name_context: false,
        window: None,
        follows: None,
    };
    for (s, want) in [
        (spec("(unclosed", &["x"], &[]), "x.bad"),
        (spec("ab{0,3}c", &["x"], &[]), "prefilter"),
        (spec("ab+c", &["ab"], &[]), "unbounded"),
        (spec("abc", &["abc"], &["nope"]), "unknown validator `nope`"),
    ] {
        let e = Detectors::compile(vec![s]).unwrap_err().to_string();
        assert!(e.contains("x.bad") && e.contains(want), "{e}");
    }
}

#[test]
fn a_windowed_match_that_may_run_past_its_window_fails_closed() {
    let d = detectors();
    // A 3 KB key block: found and redacted in place.
    let body: String = (0..3000)
        .map(|i| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i * 7 % 64] as char)
        .collect();
    let short = format!(
        "key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{body}\n-----END PRIVATE KEY----- end"
    );
    assert_eq!(d.redact(&short).unwrap().unwrap(), "key: [REDACTED:PRIVATE_KEY] end");
    // A body longer than the rule's 16 KB window: the engine cannot see where it ends, so
    // the value is refused (redacted whole by the sanitizer), never redacted in part.
    let long = format!(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{}\n-----END PRIVATE KEY-----",
        body.repeat(7)
    );
    assert!(d.redact(&long).is_err());
}

/// Every string value in the blind corpus, and every example of every rule.
fn sample_texts() -> Vec<String> {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out)
            }),
            _ => {}
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/blind/corpus.jsonl");
    let mut out = Vec::new();
    for line in std::fs::read_to_string(path).expect("the blind corpus").lines() {
        strings(&serde_json::from_str(line).expect("corpus line is JSON"), &mut out);
    }
    for spec in builtin_specs() {
        out.extend(spec.examples.iter().chain(&spec.negative_examples).cloned());
    }
    out
}

#[test]
fn a_follows_gate_only_skips_hits_its_rule_would_reject() {
    // `follows` is a claim about the pattern that the prefilter proof does not cover: check
    // it on real text, the rule with and without its gate finding exactly the same spans.
    let d = detectors();
    let gated: Vec<usize> = (0..d.rules().len()).filter(|&i| d.rules()[i].spec.follows.is_some()).collect();
    assert!(gated.len() >= 5, "the named.* rules and generic.secret_assignment have gates");
    let texts = sample_texts();
    let mut problems = Vec::new();
    for &i in &gated {
        for t in &texts {
            if d.find_rule(i, t) != d.find_rule_ungated(i, t) {
                problems.push(format!(
                    "{}: the gate changes the findings in a text of {} bytes",
                    d.rules()[i].id,
                    t.len()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rules_file_is_embedded_exactly() {
    // The binaries carry rules/ deflated (build.rs): each file must come back byte for byte.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .expect("rules/")
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8 name"))
        .filter(|n| n.ends_with(".toml") && n != "attribute_names.toml")
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = builtin_rule_files().iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(embedded, on_disk, "every rules/*.toml is built in");
    for (name, text) in builtin_rule_files() {
        assert_eq!(*text, std::fs::read_to_string(format!("{dir}/{name}")).expect("read"), "{name}");
    }
    let names = std::fs::read_to_string(format!("{dir}/attribute_names.toml")).expect("read");
    assert_eq!(dynamo_shadow_core::names::attribute_names(), names);
}
