//! For rule authors: which rules cost the most on each crafted hostile shape (400 KB), one
//! rule at a time. Prints rule ids and milliseconds, never the input.
//! Run: `cargo run --release --example hostile_profile [-- shape-name-part ...]`.

use std::time::Instant;

use dynamo_shadow_core::detect::Detectors;
use dynamo_shadow_core::AttributeValue;
use dynamo_shadow_testkit::hostile::shapes;

fn main() {
    let d = Detectors::builtin().expect("built-in rules compile");
    let want: Vec<String> = std::env::args().skip(1).collect();
    for shape in shapes() {
        if !want.is_empty() && !want.iter().any(|w| shape.name.contains(w.as_str())) {
            continue;
        }
        let item = (shape.build)(400_000);
        let Some(AttributeValue::S(text)) = item.get("body") else { continue };
        let t = Instant::now();
        let _ = d.find(text);
        println!("{}: {:.1} ms with every rule", shape.name, t.elapsed().as_secs_f64() * 1000.0);
        // One rule alone still pays the literal pass over the whole value (a few ms).
        let mut per: Vec<(f64, &str, bool)> = d
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let t = Instant::now();
                let exhausted = d.find_rule(i, text).is_err();
                (t.elapsed().as_secs_f64() * 1000.0, &*r.spec.id, exhausted)
            })
            .collect();
        per.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, id, exhausted) in per.into_iter().take(5) {
            println!("  {id:<40} {ms:>8.1} ms{}", if exhausted { "  (work budget exhausted)" } else { "" });
        }
    }
}
