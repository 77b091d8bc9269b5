//! `dynamo-shadow eval` (feature `eval`): recall and decoys kept on the labeled corpus.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::sanitizer_for;

pub fn run(items: usize, seed: u64, policy: Option<PathBuf>) -> ExitCode {
    let sanitizer = match sanitizer_for(policy.as_ref(), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let corpus = dynamo_shadow_testkit::corpus::corpus(seed, items);
    let start = std::time::Instant::now();
    let r = dynamo_shadow_testkit::corpus::evaluate(&sanitizer, &corpus);
    let secs = start.elapsed().as_secs_f64();
    println!("{:<34} {:>8} {:>8} {:>8}", "planted kind", "caught", "planted", "recall");
    let mut by_cat: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (kind, (c, p)) in &r.secrets {
        println!("{kind:<34} {c:>8} {p:>8} {:>8.4}", *c as f64 / *p as f64);
        let cat = kind.split(':').next().unwrap_or("");
        let e = by_cat.entry(cat).or_default();
        e.0 += c;
        e.1 += p;
    }
    println!();
    println!("{:<34} {:>8} {:>8} {:>8}", "decoy kind", "kept", "planted", "kept");
    for (kind, (k, p)) in &r.decoys {
        println!("{kind:<34} {k:>8} {p:>8} {:>8.4}", *k as f64 / *p as f64);
    }
    println!();
    for (cat, (c, p)) in &by_cat {
        println!("recall {cat:<8} {:.4} ({c}/{p})", *c as f64 / *p as f64);
    }
    let kept: usize = r.decoys.values().map(|v| v.0).sum();
    let decoys: usize = r.decoys.values().map(|v| v.1).sum();
    println!("recall overall  {:.4} ({} planted)", r.recall(), r.planted());
    println!("decoys kept     {:.4} ({kept}/{decoys})", r.decoys_kept());
    println!(
        "invalid outputs {} of {} items; failed items {}; {:.0} items/s",
        r.invalid_outputs,
        r.items,
        r.failed_items,
        r.items as f64 / secs
    );
    ExitCode::SUCCESS
}
