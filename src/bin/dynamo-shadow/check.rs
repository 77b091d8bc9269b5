//! `dynamo-shadow check`: policy files, every mistake as FILE:LINE:COLUMN: problem.

use std::path::PathBuf;
use std::process::ExitCode;

use dynamo_shadow_core::policy::TablePolicy;
use dynamo_shadow_core::sanitize::{key_warning, token_key_from_env, MIN_TOKEN_KEY_BYTES};
use dynamo_shadow_core::Sanitizer;

use crate::common::load_policy;

pub fn run(files: Vec<PathBuf>) -> ExitCode {
    let mut ok = true;
    for f in files {
        match load_policy(Some(&f)) {
            Ok(p) => {
                let tables: Vec<(&str, &TablePolicy)> = std::iter::once(("", &p.default))
                    .chain(p.tables.iter().map(|(n, t)| (n.as_str(), t)))
                    .filter(|(n, _)| p.tables.is_empty() || !n.is_empty())
                    .collect();
                let at = |name: &str| if name.is_empty() { String::new() } else { format!(" [tables.{name}]") };
                // Compile each table as the function would at cold start (what only the whole
                // policy can refuse: an index key its rules would destroy). The real key is not
                // needed for that: a placeholder stands in when the policy tokenizes and the
                // key's variable is not set.
                let real_key = match token_key_from_env(&p, |k| std::env::var(k).ok()) {
                    Ok(k) => k,
                    Err(e) => {
                        if std::env::var_os(&p.tokenize.key_env).is_some() {
                            eprintln!("warning: {}: {e}", f.display());
                        }
                        None
                    }
                };
                let with_real_key = real_key.is_some();
                let key = real_key.or_else(|| p.uses_tokenize().then(|| vec![0u8; MIN_TOKEN_KEY_BYTES]));
                let mut carried = None;
                let refused: Vec<String> = tables
                    .iter()
                    .filter_map(|(name, t)| match Sanitizer::build(&p, t, key.clone()) {
                        Ok(s) => {
                            carried.get_or_insert_with(|| s.fingerprint().to_string());
                            None
                        }
                        Err(e) => Some(format!("{}{}: {e}", f.display(), at(name))),
                    })
                    .collect();
                if !refused.is_empty() {
                    refused.iter().for_each(|e| eprintln!("{e}"));
                    ok = false;
                    continue;
                }
                match (with_real_key, carried) {
                    // Shadow items carry the policy's fingerprint combined with the key's id (a
                    // key rotation shows as drift): name the one they will carry.
                    (true, Some(keyed)) => println!(
                        "ok: {} (fingerprint {}; shadow items written with the key in ${} carry {keyed})",
                        f.display(),
                        p.fingerprint(),
                        p.tokenize.key_env
                    ),
                    _ => println!("ok: {} (fingerprint {})", f.display(), p.fingerprint()),
                }
                for (name, t) in &tables {
                    if let Some(w) = key_warning(t) {
                        eprintln!("warning: {}{}: {w}", f.display(), at(name));
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
