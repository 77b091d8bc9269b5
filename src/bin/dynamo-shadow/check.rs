//! `dynamo-shadow check`: policy files, every mistake as FILE:LINE:COLUMN: problem.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::common::load_policy;

pub fn run(files: Vec<PathBuf>) -> ExitCode {
    let mut ok = true;
    for f in files {
        match load_policy(Some(&f)) {
            Ok(p) => println!("ok: {} (fingerprint {})", f.display(), p.fingerprint()),
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
