//! Recall and precision on both labeled corpora: our own generator's (testkit::corpus) and the
//! blind corpus in tests/corpus/blind, written from format specifications by someone who had
//! not read our rules. The floors here are the ones the README reports.

use std::collections::BTreeMap;
use std::path::Path;

use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_testkit::corpus::{corpus, evaluate, read_corpus, EvalReport};

fn print(name: &str, r: &EvalReport) {
    eprintln!("{name}: {} items, {} planted", r.items, r.planted());
    let mut by_category: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (kind, (c, p)) in &r.secrets {
        let e = by_category.entry(kind.split(':').next().unwrap_or("")).or_default();
        *e = (e.0 + c, e.1 + p);
    }
    for (family, (c, p)) in r.by_family() {
        eprintln!("  family {family:<20} {c:>5}/{p:<5} {:.4}", c as f64 / p as f64);
    }
    for (cat, (c, p)) in by_category {
        eprintln!("  category {cat:<18} {c:>5}/{p:<5} {:.4}", c as f64 / p as f64);
    }
    for m in r.misses.iter().take(60) {
        eprintln!("  miss {m}");
    }
    eprintln!(
        "  recall {:.4}, decoys kept {:.4}, harmless items altered {}/{} ({:.2}%)",
        r.recall(),
        r.decoys_kept(),
        r.harmless_altered,
        r.harmless_items,
        100.0 * r.harmless_altered_share()
    );
}

#[test]
fn own_corpus_meets_its_floors() {
    let items = corpus(20_261_125, 4_000);
    let report = evaluate(&Sanitizer::default_policy(), &items);
    print("own corpus", &report);
    assert_eq!(report.failed_items, 0);
    assert_eq!(report.invalid_outputs, 0, "every output is a valid DynamoDB item");
    assert!(report.planted() > 5_000, "{}", report.planted());
    assert!(report.recall() >= 0.999, "recall {:.4}", report.recall());
    assert!(report.decoys_kept() >= 0.99, "decoys kept {:.4}", report.decoys_kept());
    assert!(report.harmless_altered_share() <= 0.02, "harmless altered {:.4}", report.harmless_altered_share());
}

#[test]
fn blind_corpus_meets_its_floors() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/blind/corpus.jsonl");
    let items = read_corpus(&path).expect("the blind corpus is part of the repository");
    assert!(items.len() >= 3_000, "{}", items.len());
    let report = evaluate(&Sanitizer::default_policy(), &items);
    print("blind corpus", &report);
    assert_eq!(report.failed_items, 0);
    assert_eq!(report.invalid_outputs, 0, "every output is a valid DynamoDB item");
    assert!(report.planted() > 1_000, "{}", report.planted());
    assert!(report.recall() >= BLIND_RECALL, "recall {:.4}", report.recall());
    assert!(report.decoys_kept() >= 0.99, "decoys kept {:.4}", report.decoys_kept());
    assert!(
        report.harmless_altered_share() <= BLIND_ALTERED,
        "harmless altered {:.4}",
        report.harmless_altered_share()
    );
}

// The floors: recall 0.99 (the blind corpus is at 0.991) and at most 2% of harmless
// items altered (0.5% here: the engine holds 0.22%). Floors only ever move up.
const BLIND_RECALL: f64 = 0.99;
const BLIND_ALTERED: f64 = 0.005;
