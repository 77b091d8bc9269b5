//! `dynamo-shadow sanitize`: the dry run. JSON Lines in, sanitized JSON Lines out.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use dynamo_shadow_core::item::{item_to_line, parse_item_str};

use crate::common::sanitizer_for;

pub fn run(policy: Option<PathBuf>, keys: Vec<String>, explain: bool, table: Option<String>) -> ExitCode {
    let sanitizer = match sanitizer_for(policy.as_ref(), table.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let stderr = std::io::stderr();
    for (i, line) in stdin.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(_) => {
                eprintln!("line {n}: not valid UTF-8 text");
                return ExitCode::from(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let item = match parse_item_str(&line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("line {n}: {e}");
                return ExitCode::from(2);
            }
        };
        match sanitizer.sanitize(&item, &key_refs) {
            Ok((clean, report)) => {
                if writeln!(out, "{}", item_to_line(&clean)).is_err() {
                    return ExitCode::from(1);
                }
                if explain {
                    let mut err = stderr.lock();
                    let mut decisions = report.decisions.clone();
                    decisions.sort_by(|a, b| a.path.cmp(&b.path));
                    for d in &decisions {
                        let _ = writeln!(
                            err,
                            "{}",
                            serde_json::json!({"line": n, "path": d.path, "rule": d.rule, "action": d.action.as_str()})
                        );
                    }
                }
            }
            Err(e) => {
                eprintln!("line {n}: cannot sanitize: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
