//! `shadow-lambda`: the DynamoDB Streams-triggered function. Everything is built once here
//! (settings, policy, detectors, SDK client) and lent to the handler for every invocation.

use std::time::{SystemTime, UNIX_EPOCH};

use dynamo_shadow::engine::token_key_from_env;
use dynamo_shadow::lambda::{BatchSummary, Config, Routes};
use dynamo_shadow::{DynamoStore, Policy, StreamHandler};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

/// The policy: `SHADOW_POLICY_FILE` (a path bundled with the function), else
/// `SHADOW_POLICY` (inline TOML), else the built-in default.
fn load_policy() -> Result<Policy, String> {
    let file = std::env::var("SHADOW_POLICY_FILE").ok().filter(|s| !s.is_empty());
    let inline = std::env::var("SHADOW_POLICY").ok().filter(|s| !s.is_empty());
    match (file, inline) {
        (Some(_), Some(_)) => Err("SHADOW_POLICY_FILE and SHADOW_POLICY are both set: choose one".into()),
        (Some(path), None) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("SHADOW_POLICY_FILE: cannot read {path}: {e}"))?;
            Policy::parse(&text, &path).map_err(|e| e.to_string())
        }
        (None, Some(text)) => Policy::parse(&text, "$SHADOW_POLICY").map_err(|e| e.to_string()),
        (None, None) => Ok(Policy::default()),
    }
}

/// Logging as `lambda_runtime`'s default subscriber does it (`AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG`, `AWS_LAMBDA_LOG_FORMAT=JSON`), except that dependencies never log below DEBUG:
/// at TRACE the runtime logs each raw event and the SDK request bodies, which hold values.
fn init_logging() {
    use lambda_runtime::tracing::subscriber::{fmt, EnvFilter};
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let level = match level.to_ascii_lowercase().as_str() {
        l @ ("error" | "warn" | "info" | "debug") => l.to_string(),
        "trace" => "debug,dynamo_shadow=trace,shadow_lambda=trace".to_string(),
        _ => "info".to_string(),
    };
    let collector = fmt().with_target(false).without_time().with_ansi(false).with_env_filter(EnvFilter::new(level));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        collector.json().init()
    } else {
        collector.init()
    }
}

fn log_summary(s: &BatchSummary) {
    let redactions = serde_json::to_string(&s.redactions.by_rule).unwrap_or_default();
    tracing::info!(
        records = s.records,
        written = s.written,
        deleted = s.deleted,
        coalesced = s.coalesced,
        stale = s.stale,
        unchanged = s.unchanged,
        failed = s.failed,
        write_requests = s.write_requests,
        sanitize_us = s.sanitize_micros,
        redactions = %redactions,
        "batch"
    );
}

// One thread: Lambda gives a function one or two vCPUs, writes are I/O-bound and run
// concurrently as futures, and a single-threaded runtime starts faster in less memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging();
    let init = || -> Result<(Config, Routes), String> {
        let config = Config::from_env(|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
        let policy = load_policy()?;
        let key = token_key_from_env(&policy, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
        let routes = Routes::from_policy(&policy, &config, key).map_err(|e| e.to_string())?;
        Ok((config, routes))
    };
    let (config, routes) = match init() {
        Ok(v) => v,
        Err(e) => {
            // A bad setting or policy fails the init: never run with a half-applied policy.
            tracing::error!(error = %e, "init failed");
            return Err(e.into());
        }
    };
    let sdk = dynamo_shadow::store::sdk_config(config.max_attempts).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk));
    for r in routes.all() {
        tracing::info!(
            policy = r.sanitizer.fingerprint(),
            rules = r.sanitizer.detectors().rules().len(),
            source = r.source_table.as_deref().unwrap_or("*"),
            shadow = %r.shadow_table,
            "ready"
        );
    }
    let handler = StreamHandler::new(routes, store, config);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        match handler.handle(&event.payload, now).await {
            Ok(result) => {
                log_summary(&result.summary);
                Ok::<_, Error>(serde_json::to_value(&result.response)?)
            }
            Err(e) => {
                tracing::error!(error = %e, "event rejected");
                Err(e.into())
            }
        }
    }))
    .await
}
