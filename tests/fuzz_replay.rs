//! Replays the fuzz target's property (`tests/common/fuzz_property.rs`) on stable, in
//! `cargo test`: the seed events, then deterministic mutations of them (byte flips, cuts,
//! splices, duplicated spans, type-tag swaps). The coverage-guided run is `cargo fuzz` (see
//! `fuzz/fuzz_targets/event.rs`).

#[path = "common/fuzz_property.rs"]
mod fuzz_property;

use dynamo_shadow_testkit::Rng;
use fuzz_property::check_event;

fn seeds() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds");
    let mut out: Vec<Vec<u8>> =
        std::fs::read_dir(dir).expect("fuzz/seeds exists").map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    out.sort();
    assert!(out.len() >= 5, "the seed corpus holds the events/ files");
    out
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if d.is_empty() {
            break;
        }
        let i = rng.below(d.len());
        match rng.below(6) {
            0 => d[i] = rng.below(256) as u8,
            1 => d.truncate(i),
            2 => {
                let j = (i + rng.below(64)).min(d.len());
                let span = d[i..j].to_vec();
                d.splice(i..i, span);
            }
            3 => {
                let j = rng.below(other.len().max(1));
                let k = (j + rng.below(200)).min(other.len());
                d.splice(i..i, other[j..k].iter().copied());
            }
            4 => {
                // Swap a DynamoDB type tag for another: "S" -> "N", "M" -> "L", ...
                let tags: [&[u8]; 10] = [
                    b"\"S\"",
                    b"\"N\"",
                    b"\"B\"",
                    b"\"M\"",
                    b"\"L\"",
                    b"\"SS\"",
                    b"\"NS\"",
                    b"\"BS\"",
                    b"\"BOOL\"",
                    b"\"NULL\"",
                ];
                let from = tags[rng.below(tags.len())];
                if let Some(pos) = d.windows(from.len()).position(|w| w == from) {
                    let to = tags[rng.below(tags.len())];
                    d.splice(pos..pos + from.len(), to.iter().copied());
                }
            }
            _ => {
                let j = (i + rng.below(32)).min(d.len());
                d.drain(i..j);
            }
        }
    }
    d
}

/// A structure-aware mutation: one random node of the event's JSON tree replaced.
fn mutate_json(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    use serde_json::{json, Value};
    let mut v: Value = serde_json::from_slice(seed).expect("seeds are JSON");
    let mut nodes = 0;
    count(&v, &mut nodes);
    let target = rng.below(nodes);
    let replacements = [
        json!(null),
        json!("x"),
        json!(""),
        json!(-1),
        json!(1e300),
        json!("1E+126"),
        json!("12345678901234567890123456789012345678"),
        json!([]),
        json!({}),
        json!({"S": "4929 1308 7752 6389"}),
        json!({"N": "0x10"}),
        json!({"B": "////"}),
        json!({"SS": []}),
        json!({"NS": ["1", "1.0"]}),
        json!({"M": {"a@b.co": {"S": "x"}}}),
        json!({"L": [{"Q": "?"}]}),
        json!("9".repeat(41)),
        json!("REMOVE"),
    ];
    let mut i = 0;
    replace(&mut v, target, &mut i, &replacements[rng.below(replacements.len())]);
    serde_json::to_vec(&v).unwrap()
}

fn count(v: &serde_json::Value, n: &mut usize) {
    *n += 1;
    match v {
        serde_json::Value::Object(m) => m.values().for_each(|c| count(c, n)),
        serde_json::Value::Array(a) => a.iter().for_each(|c| count(c, n)),
        _ => {}
    }
}

fn replace(v: &mut serde_json::Value, target: usize, i: &mut usize, with: &serde_json::Value) -> bool {
    if *i == target {
        *v = with.clone();
        return true;
    }
    *i += 1;
    match v {
        serde_json::Value::Object(m) => m.values_mut().any(|c| replace(c, target, i, with)),
        serde_json::Value::Array(a) => a.iter_mut().any(|c| replace(c, target, i, with)),
        _ => false,
    }
}

#[test]
fn seeds_and_mutations_never_break_the_handler() {
    let seeds = seeds();
    for s in &seeds {
        check_event(s);
    }
    let mut rng = Rng::new(0x5eed);
    let mut valid_json = 0;
    for n in 0..3000 {
        let a = &seeds[n % seeds.len()];
        let b = &seeds[rng.below(seeds.len())];
        let m = if n % 2 == 0 { mutate_json(&mut rng, a) } else { mutate(&mut rng, a, b) };
        valid_json += serde_json::from_slice::<serde_json::Value>(&m).is_ok() as usize;
        check_event(&m);
    }
    // The mutations must reach the handler, not only the JSON parser.
    assert!(valid_json > 1500, "only {valid_json} of 3000 mutations were JSON");
}
