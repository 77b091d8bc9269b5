//! Crafted hostile inputs (the complexity test's shapes) at 400 KB each, timed on one core:
//! the engine's worst case is an attacker's best case. Prints figures; the target is every
//! case under 50 ms. Run: `cargo bench --bench hostile`.

use std::time::Instant;

use dynamo_shadow_core::item::item_size;
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_testkit::hostile::shapes;

const SIZE: usize = 400 * 1000;

fn main() {
    let s = Sanitizer::default_policy();
    println!("{:<28} {:>9} {:>10} {:>12} {:>10}", "shape (400 KB)", "ms", "MB/s", "work/byte", "unscanned");
    let mut slowest = (0.0f64, "");
    // `HOSTILE_ONLY=email` runs the shapes whose name contains it (for a profiler).
    let only = std::env::var("HOSTILE_ONLY").unwrap_or_default();
    for shape in shapes().into_iter().filter(|s| s.name.contains(only.as_str())) {
        let item = (shape.build)(SIZE);
        let bytes = item_size(&item);
        // Best of three: the machine is shared.
        let mut best = f64::MAX;
        let mut report = None;
        for _ in 0..3 {
            let copy = item.clone();
            let t = Instant::now();
            let r = s.sanitize_owned(copy, &["pk"]);
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            report = Some(r.map(|(_, r)| r));
        }
        let outcome = match report.expect("ran") {
            Ok(r) => format!("{:>12.1} {:>10}", r.work.total() as f64 / bytes as f64, r.count("budget:unscanned")),
            // Refused (the sanitized item would exceed 400 KB): quarantined, nothing written.
            Err(e) => format!("{:>12} refused: {e}", "-"),
        };
        println!("{:<28} {best:>9.1} {:>10.1} {outcome}", shape.name, bytes as f64 / best / 1000.0);
        if best > slowest.0 {
            slowest = (best, shape.name);
        }
    }
    println!("slowest: {} at {:.1} ms (target: every case under 50 ms)", slowest.1, slowest.0);
}
