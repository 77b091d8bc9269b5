//! `dynamo-shadow verify`: reconcile and leak audit, with optional repairs. The work is in
//! `dynamo_shadow_ops::verify`.

use std::process::ExitCode;

use dynamo_shadow_ops::verify::{self, VerifyOptions, VerifyReport};

use crate::common::{runtime, store, table_sanitizer, TableArgs};

fn print_report(r: &VerifyReport, fix: bool) {
    println!("verify: policy {}", r.policy);
    println!("  source items {} | shadow items {} ({} tombstones)", r.source_items, r.shadow_items, r.tombstones);
    if r.drift.is_empty() {
        println!("  reconcile: in sync");
    }
    for (kind, n) in &r.drift {
        println!("  {kind}: {n}");
        for k in r.drifted.get(kind).into_iter().flatten().take(20) {
            println!("    {k}");
        }
    }
    if r.leaking_items == 0 {
        println!("  leak audit: no findings");
    } else {
        println!("  leak audit: {} items with findings", r.leaking_items);
        for l in r.leaks.iter().take(50) {
            let path = if l.path.is_root() { "<item>".to_string() } else { l.path.to_string() };
            println!("    {}  {}  {}", l.key, path, l.rule);
        }
    }
    if fix {
        println!(
            "  fixed {} | fix failed {} | still leaking under the current policy {}",
            r.fixed, r.fix_failed, r.leaks_remaining
        );
    }
}

pub fn run(t: &TableArgs, fix: bool, json: bool, ttl_hours: u64) -> ExitCode {
    let sanitizer = match table_sanitizer(t) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let opts = VerifyOptions {
        source_table: t.source_table.clone(),
        shadow_table: t.shadow_table.clone(),
        total_segments: t.segments.max(1),
        fix,
        tombstone_ttl_secs: ttl_hours * 3600,
    };
    runtime().block_on(async {
        let store = store(t.max_attempts).await;
        match verify::verify(&store, &sanitizer, &opts).await {
            Ok(r) => {
                if json {
                    let mut v = serde_json::to_value(&r).expect("serializable");
                    v["ok"] = r.ok(fix).into();
                    println!("{v}");
                } else {
                    print_report(&r, fix);
                }
                if r.ok(fix) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("verify: {e}");
                ExitCode::from(2)
            }
        }
    })
}
