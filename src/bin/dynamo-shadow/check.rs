//! `dynamo-shadow check`: policy files, every mistake as FILE:LINE:COLUMN: problem.

use std::path::PathBuf;
use std::process::ExitCode;

use dynamo_shadow_core::sanitize::key_warning;

use crate::common::load_policy;

pub fn run(files: Vec<PathBuf>) -> ExitCode {
    let mut ok = true;
    for f in files {
        match load_policy(Some(&f)) {
            Ok(p) => {
                println!("ok: {} (fingerprint {})", f.display(), p.fingerprint());
                let tables = std::iter::once(("", &p.default)).chain(p.tables.iter().map(|(n, t)| (n.as_str(), t)));
                for (name, t) in tables.filter(|(n, _)| p.tables.is_empty() || !n.is_empty()) {
                    if let Some(w) = key_warning(t) {
                        let at = if name.is_empty() { String::new() } else { format!(" [tables.{name}]") };
                        eprintln!("warning: {}{at}: {w}", f.display());
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
