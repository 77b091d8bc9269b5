//! Engine throughput on realistic items, as MB/s of DynamoDB JSON on one core, beside the
//! floor (parse and re-serialize the same items with no sanitizing). Prints figures; it
//! asserts nothing. Run: `cargo bench --bench engine`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dynamo_shadow_core::detect::Detectors;
use dynamo_shadow_core::item::{item_to_line, parse_item_str};
use dynamo_shadow_core::{Policy, Sanitizer};
use dynamo_shadow_testkit::corpus::corpus;

fn measure(name: &str, lines: &[String], bytes: usize, mut f: impl FnMut(&str)) -> f64 {
    // Warm up, then run whole passes for at least two seconds.
    for l in lines.iter().take(200) {
        f(l);
    }
    let start = Instant::now();
    let mut passes = 0;
    while start.elapsed() < Duration::from_secs(2) {
        for l in lines {
            f(l);
        }
        passes += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let mbps = (bytes * passes) as f64 / secs / 1e6;
    let items_per_s = (lines.len() * passes) as f64 / secs;
    println!("{name:<34} {mbps:>8.1} MB/s  {items_per_s:>10.0} items/s");
    mbps
}

fn main() {
    let items = corpus(42, 2_000);
    let lines: Vec<String> = items.iter().map(|l| item_to_line(&l.item)).collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    println!(
        "corpus: {} items, {:.2} MB of DynamoDB JSON, {} bytes/item on average",
        lines.len(),
        bytes as f64 / 1e6,
        bytes / lines.len()
    );

    let floor = measure("floor (parse + serialize)", &lines, bytes, |l| {
        black_box(item_to_line(&parse_item_str(l).unwrap()));
    });
    let full = Sanitizer::default_policy();
    let with = measure("sanitize, all detectors", &lines, bytes, |l| {
        let item = parse_item_str(l).unwrap();
        black_box(item_to_line(&full.sanitize(&item, &["pk", "sk"]).unwrap().0));
    });
    let mut names_only = Policy::default();
    names_only.default.disable = Detectors::builtin_ids().into_iter().collect();
    let names_only = Sanitizer::new(names_only).unwrap();
    let without = measure("sanitize, name rules only", &lines, bytes, |l| {
        let item = parse_item_str(l).unwrap();
        black_box(item_to_line(&names_only.sanitize(&item, &["pk", "sk"]).unwrap().0));
    });
    println!(
        "rules: {}; floor / with detectors = {:.2}x; floor / names only = {:.2}x",
        full.detectors().rules().len(),
        floor / with,
        floor / without
    );
}
