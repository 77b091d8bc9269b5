//! For rule authors: the rules that cost the most on a corpus of realistic items (the blind
//! corpus), one rule at a time, beyond the literal pass every rule shares. Prints rule ids
//! and milliseconds, never values. Run: `cargo run --release --example rule_cost`.

use std::time::Instant;

use dynamo_shadow_core::detect::Detectors;
use dynamo_shadow_core::item::parse_item;
use dynamo_shadow_core::AttributeValue;

fn strings(v: &AttributeValue, out: &mut Vec<String>) {
    match v {
        AttributeValue::S(s) => out.push(s.clone()),
        AttributeValue::Ss(set) => out.extend(set.iter().cloned()),
        AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings(v, out)
        }),
        AttributeValue::L(l) => l.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/blind/corpus.jsonl");
    let text = std::fs::read_to_string(path).expect("the blind corpus");
    let mut values = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let item = parse_item(&v["item"]).expect("item");
        item.values().for_each(|v| strings(v, &mut values));
    }
    let bytes: usize = values.iter().map(String::len).sum();
    let d = Detectors::builtin().expect("rules compile");
    for r in d.rules() {
        let _ = r.prepare();
    }
    let time = |f: &dyn Fn(&str)| {
        let t = Instant::now();
        for v in &values {
            f(v);
        }
        t.elapsed().as_secs_f64() * 1000.0
    };
    let all = time(&|v| {
        let _ = d.find(v);
    });
    println!(
        "{} strings, {:.2} MB; every rule together: {all:.1} ms ({:.1} MB/s)",
        values.len(),
        bytes as f64 / 1e6,
        bytes as f64 / all / 1e3
    );
    let mut per: Vec<(f64, &str, u64, u64)> = d
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let ms = time(&|v| {
                let _ = d.find_rule(i, v);
            });
            let (mut anchors, mut bytes) = (0, 0);
            for v in &values {
                let w = d.find_rule_counted(i, v).1;
                anchors += w.anchors;
                bytes += w.bytes;
            }
            (ms, &*r.spec.id, anchors, bytes)
        })
        .collect();
    per.sort_by(|a, b| a.0.total_cmp(&b.0));
    let base = per[per.len() / 4].0;
    println!("one rule alone costs at least {base:.1} ms (the shared literal pass); beyond that:");
    println!("  {:<44} {:>11} {:>9} {:>12}", "rule", "ms", "anchors", "regex bytes");
    for (ms, id, anchors, bytes) in per.iter().rev().take(25) {
        println!("  {id:<44} {:>8.1} ms {anchors:>9} {bytes:>12}", ms - base);
    }
    per.sort_by_key(|p| std::cmp::Reverse(p.2));
    println!("most anchors:");
    for (ms, id, anchors, bytes) in per.iter().take(12) {
        println!("  {id:<44} {:>8.1} ms {anchors:>9} {bytes:>12}", ms - base);
    }
}
