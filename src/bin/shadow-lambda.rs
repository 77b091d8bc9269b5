//! `shadow-lambda`: the DynamoDB Streams-triggered function. Everything is built once here
//! (settings, policy, detectors, SDK client) and lent to the handler for every invocation.

use std::time::{SystemTime, UNIX_EPOCH};

use dynamo_shadow::engine::token_key_from_env;
use dynamo_shadow::lambda::{BatchSummary, Config, Routes};
use dynamo_shadow::{backfill, DynamoStore, Policy, StreamHandler};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;
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

/// EMF metric lines on stdout, unless `SHADOW_METRICS=off`.
struct Metrics {
    namespace: Option<String>,
    function: String,
}

impl Metrics {
    fn from_env() -> Self {
        let off = std::env::var("SHADOW_METRICS").is_ok_and(|v| v.eq_ignore_ascii_case("off"));
        let namespace = std::env::var("SHADOW_METRICS_NAMESPACE")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| dynamo_shadow::metrics::DEFAULT_NAMESPACE.into());
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "shadow-lambda".into());
        Metrics { namespace: (!off).then_some(namespace), function }
    }

    fn emit(&self, s: &BatchSummary) {
        if let Some(ns) = &self.namespace {
            let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
            // Its own line on stdout: CloudWatch Logs extracts the metrics from it.
            println!("{}", dynamo_shadow::metrics::batch_line(s, ns, &self.function, ms));
        }
    }
}

/// One backfill segment (Step Functions fans segments out): scans from the request's cursor
/// until the segment is complete or the invocation nears its deadline, and returns the
/// cursor to continue from.
async fn backfill_segment(
    handler: &StreamHandler<DynamoStore>,
    req: &Value,
    deadline_ms: u64,
) -> Result<Value, FunctionError> {
    let bad = |m: String| FunctionError { kind: "InvalidBackfillRequest", message: format!("backfill request: {m}") };
    // serde's messages quote the offending value: name the expected shape instead.
    let mut req: backfill::SegmentRequest = serde_json::from_value(req.clone()).map_err(|_| {
        bad("a field is missing or has the wrong type (expected sourceTable: string, segment and totalSegments: \
             integers, cursor: a DynamoDB JSON key or null, policyChanged and dryRun: booleans, maxWcu: number or null)"
            .into())
    })?;
    let route = handler
        .routes()
        .for_table(&req.source_table)
        .ok_or_else(|| bad(format!("no policy section for source table `{}`", req.source_table)))?;
    if req.shadow_table.is_empty() {
        req.shadow_table = route.shadow_table.clone();
    } else if req.shadow_table != route.shadow_table {
        return Err(bad(format!("this function writes `{}`, not `{}`", route.shadow_table, req.shadow_table)));
    }
    // Stop a minute before the deadline (a page's writes must finish), or at a third of a short budget.
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let left = deadline_ms.saturating_sub(now_ms);
    let budget = if left > 90_000 { left - 60_000 } else { left / 3 };
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(budget);
    let resp = backfill::run_segment_request(handler.store().client(), &route.sanitizer, req, Some(deadline))
        .await
        .map_err(|e| FunctionError { kind: "BackfillFailed", message: e.to_string() })?;
    tracing::info!(
        segment = resp.segment,
        done = resp.done,
        scanned = resp.summary.scanned,
        written = resp.summary.written,
        skipped_newer = resp.summary.skipped_newer,
        failed = resp.summary.unsanitizable,
        "backfill segment"
    );
    serde_json::to_value(&resp).map_err(|_| FunctionError { kind: "Internal", message: "response encoding".into() })
}

/// A failed invocation: a fixed error type and a message that never holds values.
#[derive(Debug)]
struct FunctionError {
    kind: &'static str,
    message: String,
}

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(e: FunctionError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind.into(), error_message: e.message }
    }
}

/// Parses the raw payload ourselves: the runtime's own parse errors print the JSON path,
/// which can run through map keys that hold data.
fn parse_event(raw: &RawValue) -> Result<Value, FunctionError> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let what = if e.to_string().starts_with("recursion limit") {
            "nested deeper than 128 levels"
        } else {
            match e.classify() {
                serde_json::error::Category::Eof => "truncated",
                _ => "not valid JSON",
            }
        };
        FunctionError {
            kind: "InvalidEvent",
            message: format!("event is {what} (line {}, column {})", e.line(), e.column()),
        }
    })
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
    let sdk = dynamo_shadow::store::sdk_config(config.max_attempts, dynamo_shadow::store::Timeouts::FUNCTION).await;
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
    let metrics = Metrics::from_env();
    let handler = StreamHandler::new(routes, store, config);
    let handler = &handler;
    let metrics = &metrics;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let payload = parse_event(&event.payload)?;
        if let Some(req) = payload.get("backfill") {
            return backfill_segment(handler, req, event.context.deadline).await;
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        match handler.handle(&payload, now).await {
            Ok(result) => {
                log_summary(&result.summary);
                metrics.emit(&result.summary);
                serde_json::to_value(&result.response)
                    .map_err(|_| FunctionError { kind: "Internal", message: "response encoding".into() })
            }
            Err(e) => {
                tracing::error!(error = %e, "event rejected");
                Err(FunctionError { kind: "InvalidEvent", message: e.to_string() })
            }
        }
    }))
    .await
}
