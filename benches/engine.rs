//! Engine throughput as a ratio to the floor, in one run on one core.
//!
//! The floor is what any tool must at least do: parse each line of DynamoDB JSON into a
//! `serde_json::Value` and write it back. Sanitize is the whole path the function and the CLI
//! take: the one decoder (into a checked item), the sanitizer with every built-in rule, and
//! the writer. Both run over the same realistic mixed items: the blind corpus (Django-style
//! profiles, tickets, chats, tracebacks, configs, orders, audit logs; written by someone who
//! had not read our rules) and our own corpus. Prints figures; asserts nothing.
//! Run: `cargo bench --bench engine`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use dynamo_shadow_core::detect::Detectors;
use dynamo_shadow_core::item::{decode_item, item_to_line};
use dynamo_shadow_core::{Policy, Sanitizer};
use dynamo_shadow_testkit::corpus::corpus;

/// Best of three timed passes of at least one second each: MB/s.
fn measure(lines: &[String], bytes: usize, mut f: impl FnMut(&str)) -> f64 {
    for l in lines.iter().take(200) {
        f(l);
    }
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        let mut passes = 0;
        while start.elapsed() < Duration::from_secs(1) {
            for l in lines {
                f(l);
            }
            passes += 1;
        }
        best = best.max((bytes * passes) as f64 / start.elapsed().as_secs_f64() / 1e6);
    }
    best
}

fn blind_lines() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/blind/corpus.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("item").map(|i| i.to_string()))
        .collect()
}

fn report(name: &str, lines: &[String], sanitizers: &[(&str, &Sanitizer)]) {
    let bytes: usize = lines.iter().map(String::len).sum();
    println!("{name}: {} items, {:.2} MB, {} bytes/item", lines.len(), bytes as f64 / 1e6, bytes / lines.len().max(1));
    let floor = measure(lines, bytes, |l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        black_box(serde_json::to_string(&v).unwrap());
    });
    println!("  {:<36} {floor:>7.1} MB/s", "floor (serde_json Value in and out)");
    for (label, s) in sanitizers {
        let mbps = measure(lines, bytes, |l| {
            let item = decode_item(l).unwrap();
            let (out, _) = s.sanitize_checked(item, &["pk", "sk"]).unwrap();
            black_box(item_to_line(&out));
        });
        println!("  {label:<36} {mbps:>7.1} MB/s   {:.2}x the floor", floor / mbps);
    }
}

fn main() {
    let t = Instant::now();
    let full = Sanitizer::default_policy();
    let build = t.elapsed();
    let t = Instant::now();
    // The first value compiles the rules it touches; all of them, to time the worst case.
    for r in full.detectors().rules() {
        let _ = r.prepare();
    }
    let compile_all = t.elapsed();
    println!(
        "rules: {}; sanitizer built in {:.1} ms; every rule's regex compiled in {:.1} ms (lazily, on first use)",
        full.detectors().rules().len(),
        build.as_secs_f64() * 1e3,
        compile_all.as_secs_f64() * 1e3
    );
    let mut names_only = Policy::default();
    names_only.default.disable = Detectors::builtin_ids().into_iter().collect();
    let names_only = Sanitizer::new(names_only).unwrap();
    let sanitizers = [("sanitize, every built-in rule", &full), ("sanitize, name rules only", &names_only)];

    let blind = blind_lines();
    if blind.is_empty() {
        println!("blind corpus: tests/corpus/blind/corpus.jsonl missing, skipped");
    } else {
        report("blind corpus", &blind, &sanitizers);
    }
    let own: Vec<String> = corpus(42, 2_000).iter().map(|l| item_to_line(&l.item)).collect();
    report("own corpus", &own, &sanitizers);
}
