//! Linear time on hostile input, proved by counting, not timing: for every crafted shape
//! (repeated keywords, anchors and near misses, map keys, sets, nesting), the work the
//! sanitizer does (bytes the regexes may examine, searches, anchors, bytes the prefilter
//! passes read, tree nodes and key probes) for an input of size 8N is at most about eight
//! times its work for size N, and within a fixed multiple of the input's length. The bench
//! (`cargo bench --bench hostile`) times the same shapes at 400 KB.

use dynamo_shadow_core::item::item_size;
use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_testkit::hostile::shapes;

const N: usize = 16 * 1024;

#[test]
fn work_grows_linearly_for_every_crafted_shape() {
    let s = Sanitizer::default_policy();
    let shapes = shapes();
    assert!(shapes.len() >= 25, "{} shapes", shapes.len());
    let mut problems = Vec::new();
    println!(
        "{:<28} {:>12} {:>12} {:>7} {:>10} {:>9}",
        "shape", "work(N)", "work(8N)", "ratio", "per byte", "unscanned"
    );
    for shape in &shapes {
        let small = (shape.build)(N);
        let large = (shape.build)(8 * N);
        let run = |item| {
            let (out, report) =
                s.sanitize_owned(item, &["pk"]).map_or_else(|e| panic!("{}: {e}", shape.name), |(o, r)| (o, r));
            let unscanned = report.count("budget:unscanned");
            (report.work.total(), unscanned, out)
        };
        let (bytes_small, bytes_large) = (item_size(&small), item_size(&large));
        let (w1, u1, _) = run(small);
        let (w8, u8_, _) = run(large);
        let ratio = w8 as f64 / w1.max(1) as f64;
        let per_byte = w8 as f64 / bytes_large as f64;
        println!("{:<28} {w1:>12} {w8:>12} {ratio:>7.2} {per_byte:>10.1} {:>9}", shape.name, u1 + u8_);
        // Linear: 8x the input, at most ~8x the work (a constant part makes it smaller).
        let input_ratio = bytes_large as f64 / bytes_small as f64;
        if ratio > input_ratio * 1.15 {
            problems.push(format!("{}: work grew {ratio:.2}x for {input_ratio:.2}x the input", shape.name));
        }
        // And a bounded multiple of the input (whatever the shape), so a 400 KB item is cheap.
        if per_byte > 400.0 {
            problems.push(format!("{}: {per_byte:.0} units of work per byte", shape.name));
        }
    }
    assert!(problems.is_empty(), "super-linear or costly shapes:\n{}", problems.join("\n"));
}
