//! `shadow-lambda`: the DynamoDB Streams-triggered function. Everything is built once here
//! (settings, policy, detectors, SDK client) and lent to the handler for every invocation.

use dynamo_shadow_lambda::metrics::{batch_line, DEFAULT_NAMESPACE};
use dynamo_shadow_lambda::runtime::{
    check_event, init_logging, now_millis, now_secs, policy_from_env, token_key, FunctionError,
};
use dynamo_shadow_lambda::{BatchSummary, Config, Routes, StreamHandler};
use dynamo_shadow_store::{sdk_config, DynamoSdk, Timeouts};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

fn log_summary(s: &BatchSummary) {
    let redactions = serde_json::to_string(&s.redactions.by_rule).unwrap_or_default();
    tracing::info!(
        records = s.records,
        written = s.written,
        deleted = s.deleted,
        coalesced = s.coalesced,
        quarantined = s.quarantined,
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
            .unwrap_or_else(|| DEFAULT_NAMESPACE.into());
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "shadow-lambda".into());
        Metrics { namespace: (!off).then_some(namespace), function }
    }

    fn emit(&self, s: &BatchSummary) {
        if let Some(ns) = &self.namespace {
            // Its own line on stdout: CloudWatch Logs extracts the metrics from it.
            println!("{}", batch_line(s, ns, &self.function, now_millis()));
        }
    }
}

/// `{"backfill": ...}` at the top level (without building a tree of a large event).
fn is_backfill_request(payload: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        backfill: Option<&'a RawValue>,
    }
    serde_json::from_str::<Probe<'_>>(payload).is_ok_and(|p| p.backfill.is_some())
}

// One thread: Lambda gives a function one or two vCPUs, writes are I/O-bound and run
// concurrently as futures, and a single-threaded runtime starts faster in less memory.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging(&["shadow_lambda"]);
    let env = |k: &str| std::env::var(k).ok();
    let init = async || -> Result<(Config, Routes, dynamo_shadow_store::SdkConfig), String> {
        let config = Config::from_env(env).map_err(|e| e.to_string())?;
        let policy = policy_from_env(env).map_err(|e| e.to_string())?;
        let sdk = sdk_config(config.max_attempts, Timeouts::FUNCTION).await;
        let (key, previous) = token_key(&policy, &sdk, env).await?;
        let routes = Routes::from_policy(&policy, &config, key).map_err(|e| e.to_string())?.with_previous_key(previous);
        Ok((config, routes, sdk))
    };
    let (config, routes, sdk) = match init().await {
        Ok(v) => v,
        Err(e) => {
            // A bad setting or policy fails the init: never run with a half-applied policy.
            tracing::error!(error = %e, "init failed");
            return Err(e.into());
        }
    };
    let store = DynamoSdk::new(aws_sdk_dynamodb::Client::new(&sdk));
    for r in routes.all() {
        tracing::info!(
            policy = r.sanitizer.fingerprint(),
            rules = r.sanitizer.detectors().rules().len(),
            source = r.source_table.as_deref().unwrap_or("*"),
            shadow = %r.shadow_table,
            "ready"
        );
        if let Some(w) = r.sanitizer.key_warning() {
            tracing::warn!(source = r.source_table.as_deref().unwrap_or("*"), "{w}");
        }
    }
    let metrics = Metrics::from_env();
    let handler = StreamHandler::new(routes, store, config);
    let (handler, metrics) = (&handler, &metrics);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let payload = check_event(&event.payload)?;
        if is_backfill_request(payload) {
            return Err(FunctionError::new(
                "InvalidEvent",
                "a backfill request: this is the stream function; invoke the backfill function (shadow-backfill)",
            ));
        }
        let deadline = handler.config().checked_write_deadline(event.context.deadline, now_millis());
        if deadline.is_none() {
            tracing::warn!("the runtime's deadline is not a point in time (`cargo lambda watch` sends a duration): no write deadline for this invocation");
        }
        match handler.handle_json_until(payload, now_secs(), deadline).await {
            Ok(result) => {
                log_summary(&result.summary);
                metrics.emit(&result.summary);
                serde_json::to_value(&result.response).map_err(|_| FunctionError::new("Internal", "response encoding"))
            }
            Err(e) => {
                tracing::error!(error = %e, "event rejected");
                Err(FunctionError::new("InvalidEvent", e.to_string()))
            }
        }
    }))
    .await
}
