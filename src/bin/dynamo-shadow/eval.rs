//! `dynamo-shadow eval` (feature `eval`): recall, decoys kept and harmless items altered, per
//! kind and per family, on the generated corpus or on a labeled JSON Lines corpus.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use dynamo_shadow_testkit::corpus::{corpus, evaluate, read_corpus, EvalReport};

use crate::common::sanitizer_for;

pub fn run(items: usize, seed: u64, policy: Option<PathBuf>, file: Option<PathBuf>, misses: bool) -> ExitCode {
    let sanitizer = match sanitizer_for(policy.as_ref(), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let corpus = match &file {
        None => corpus(seed, items),
        Some(path) => match read_corpus(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    let start = std::time::Instant::now();
    let r = evaluate(&sanitizer, &corpus);
    let secs = start.elapsed().as_secs_f64();
    print_report(&r, secs, misses);
    ExitCode::SUCCESS
}

fn print_report(r: &EvalReport, secs: f64, misses: bool) {
    println!("{:<48} {:>8} {:>8} {:>8}", "planted kind", "caught", "planted", "recall");
    let mut by_cat: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (kind, (c, p)) in &r.secrets {
        println!("{kind:<48} {c:>8} {p:>8} {:>8.4}", *c as f64 / *p as f64);
        let cat = kind.split(':').next().unwrap_or("");
        let e = by_cat.entry(cat).or_default();
        e.0 += c;
        e.1 += p;
    }
    println!();
    println!("{:<48} {:>8} {:>8} {:>8}", "decoy kind", "kept", "planted", "kept");
    for (kind, (k, p)) in &r.decoys {
        println!("{kind:<48} {k:>8} {p:>8} {:>8.4}", *k as f64 / *p as f64);
    }
    println!();
    println!("{:<24} {:>8} {:>8} {:>8}", "family", "caught", "planted", "recall");
    for (family, (c, p)) in r.by_family() {
        println!("{family:<24} {c:>8} {p:>8} {:>8.4}", c as f64 / p as f64);
    }
    println!();
    for (cat, (c, p)) in &by_cat {
        println!("recall {cat:<8} {:.4} ({c}/{p})", *c as f64 / *p as f64);
    }
    let kept: usize = r.decoys.values().map(|v| v.0).sum();
    let decoys: usize = r.decoys.values().map(|v| v.1).sum();
    println!("recall overall  {:.4} ({} planted)", r.recall(), r.planted());
    println!("decoys kept     {:.4} ({kept}/{decoys})", r.decoys_kept());
    println!("harmless items altered {:.4} ({}/{})", r.harmless_altered_share(), r.harmless_altered, r.harmless_items);
    println!(
        "invalid outputs {} of {} items; failed items {}; {:.0} items/s",
        r.invalid_outputs,
        r.items,
        r.failed_items,
        r.items as f64 / secs
    );
    if misses {
        for m in &r.misses {
            println!("miss: {m}");
        }
    }
}
