//! `shadow-backfill`: one backfill segment per invocation (the template's state machine fans
//! segments out). It scans from the request's cursor until the segment is complete or the
//! invocation nears its deadline, and returns the cursor to continue from. Its role may read
//! the source table; the stream function's may not.

use dynamo_shadow_lambda::runtime::{init_logging, now_millis, parse_event, policy_from_env, token_key, FunctionError};
use dynamo_shadow_lambda::{Config, Routes};
use dynamo_shadow_ops::backfill::{run_segment_request, Deadline, SegmentRequest};
use dynamo_shadow_store::{sdk_config, DynamoSdk, Timeouts};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;

async fn segment(store: &DynamoSdk, routes: &Routes, req: &Value, deadline_ms: u64) -> Result<Value, FunctionError> {
    let bad = |m: String| FunctionError::new("InvalidBackfillRequest", format!("backfill request: {m}"));
    // serde's messages quote the offending value: name the expected shape instead.
    let mut req: SegmentRequest = serde_json::from_value(req.clone()).map_err(|_| {
        bad("a field is missing or has the wrong type (expected sourceTable: string, segment and totalSegments: \
             integers, cursor: a DynamoDB JSON key or null, policyChanged and dryRun: booleans, maxWcu: number or null)"
            .into())
    })?;
    let route = routes
        .for_table(&req.source_table)
        .ok_or_else(|| bad(format!("no policy section for source table `{}`", req.source_table)))?;
    if req.shadow_table.is_empty() {
        req.shadow_table = route.shadow_table.clone();
    } else if req.shadow_table != route.shadow_table {
        return Err(bad(format!("this function writes `{}`, not `{}`", route.shadow_table, req.shadow_table)));
    }
    // Start no page after a minute before the deadline (a page's writes should finish), or a
    // third of a short budget; start no write after the deadline less 10 s (a sixth of a short
    // budget), so a slow write budget never runs the invocation into its timeout.
    let left = deadline_ms.saturating_sub(now_millis());
    let pages = if left > 90_000 { left - 60_000 } else { left / 3 };
    let writes = left - (left / 6).min(10_000);
    let now = std::time::Instant::now();
    let ms = std::time::Duration::from_millis;
    let deadline = Deadline { pages: now + ms(pages), writes: now + ms(writes) };
    let resp = run_segment_request(store, &route.sanitizer, req, Some(deadline))
        .await
        .map_err(|e| FunctionError::new("BackfillFailed", e.to_string()))?;
    tracing::info!(
        segment = resp.segment,
        done = resp.done,
        scanned = resp.summary.scanned,
        written = resp.summary.written,
        skipped_newer = resp.summary.skipped_newer,
        failed = resp.summary.unsanitizable,
        "backfill segment"
    );
    serde_json::to_value(&resp).map_err(|_| FunctionError::new("Internal", "response encoding"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logging(&["shadow_backfill"]);
    let env = |k: &str| std::env::var(k).ok();
    let init = async || -> Result<(Config, Routes, dynamo_shadow_store::SdkConfig), String> {
        let config = Config::from_env(env).map_err(|e| e.to_string())?;
        let policy = policy_from_env(env).map_err(|e| e.to_string())?;
        let sdk = sdk_config(config.max_attempts, Timeouts::CLI).await;
        let (key, previous) = token_key(&policy, &sdk, env).await?;
        let routes = Routes::from_policy(&policy, &config, key).map_err(|e| e.to_string())?.with_previous_key(previous);
        Ok((config, routes, sdk))
    };
    let (_config, routes, sdk) = match init().await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "init failed");
            return Err(e.into());
        }
    };
    let store = DynamoSdk::new(aws_sdk_dynamodb::Client::new(&sdk));
    let (store, routes) = (&store, &routes);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let payload = parse_event(&event.payload)?;
        let Some(req) = payload.get("backfill") else {
            return Err(FunctionError::new("InvalidEvent", "expected {\"backfill\": {...}} (a segment request)"));
        };
        segment(store, routes, req, event.context.deadline).await
    }))
    .await
}
