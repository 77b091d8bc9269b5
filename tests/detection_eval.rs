//! Recall and precision on the labeled corpus (src/eval.rs): the floors the README reports.

use dynamo_shadow_core::Sanitizer;
use dynamo_shadow_testkit::corpus::{corpus, evaluate};

#[test]
fn recall_and_decoys_kept_meet_the_floor() {
    let items = corpus(20_261_125, 4_000);
    let report = evaluate(&Sanitizer::default_policy(), &items);
    for (kind, (caught, planted)) in &report.secrets {
        eprintln!("{kind:<32} {caught}/{planted}");
    }
    for (kind, (kept, planted)) in &report.decoys {
        eprintln!("decoy:{kind:<26} {kept}/{planted}");
    }
    for m in report.misses.iter().take(40) {
        eprintln!("{m}");
    }
    assert_eq!(report.failed_items, 0);
    assert_eq!(report.invalid_outputs, 0, "every output is a valid DynamoDB item");
    assert!(report.planted() > 5_000, "{}", report.planted());
    assert!(report.recall() >= 0.999, "recall {:.4}", report.recall());
    assert!(report.decoys_kept() >= 0.98, "decoys kept {:.4}", report.decoys_kept());
}
