//! `dynamo-shadow redrive`: read dead-lettered batches back from the stream
//! (`dynamo_shadow_ops::redrive`) and apply them through the function's own handler.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dynamo_shadow_core::sanitize::token_key_from_env;
use dynamo_shadow_lambda::{Config, Routes, StreamHandler};
use dynamo_shadow_ops::redrive;

use crate::common::{load_policy, now_secs, read_input, runtime, store};

pub fn run(file: &Path, shadow_table: Option<String>, policy: Option<&PathBuf>, max_attempts: u32) -> ExitCode {
    let text = match read_input(file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("redrive: {e}");
            return ExitCode::from(2);
        }
    };
    let batches = match redrive::parse_messages(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("redrive: {e}");
            return ExitCode::from(2);
        }
    };
    let routes = (|| -> Result<(Config, Routes), String> {
        let policy = load_policy(policy)?;
        let mut config = Config::from_env(|_| None).map_err(|e| e.to_string())?;
        config.shadow_table = shadow_table;
        config.max_attempts = max_attempts;
        let key = token_key_from_env(&policy, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
        let routes = Routes::from_policy(&policy, &config, key).map_err(|e| e.to_string())?;
        Ok((config, routes))
    })();
    let (config, routes) = match routes {
        Ok(v) => v,
        Err(e) => {
            eprintln!("redrive: {e}");
            return ExitCode::from(2);
        }
    };
    runtime().block_on(async move {
        let handler = StreamHandler::new(routes, store(max_attempts).await, config);
        let mut ok = true;
        for (i, b) in batches.iter().enumerate() {
            let records = match redrive::read_batch(handler.store(), b).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("redrive: message {i}: {e}");
                    ok = false;
                    continue;
                }
            };
            match handler.handle(&serde_json::json!({"Records": records}), now_secs()).await {
                Ok(r) => {
                    let s = &r.summary;
                    println!(
                        "message {i}: shard {} sequences {}..{}: {} records, written {}, deleted {}, coalesced {}, stale {}, unchanged {}, failed {}",
                        b.shard_id, b.start_sequence, b.end_sequence, s.records, s.written, s.deleted, s.coalesced, s.stale, s.unchanged, s.failed
                    );
                    if b.batch_size.is_some_and(|n| n != s.records) {
                        eprintln!("redrive: message {i}: the message says {} records, the stream returned {}", b.batch_size.unwrap_or(0), s.records);
                        ok = false;
                    }
                    ok &= s.failed == 0;
                }
                Err(e) => {
                    eprintln!("redrive: message {i}: {e}");
                    ok = false;
                }
            }
        }
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    })
}
