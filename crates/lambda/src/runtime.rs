//! What both function binaries share: the policy from the environment, logging that never
//! prints event payloads, and invocation errors that carry no values.

use dynamo_shadow_core::sanitize::token_key_from_env;
use dynamo_shadow_core::{Policy, PolicyError};
use dynamo_shadow_store::secrets::{read_token_keys, SECRET_ARN_VAR};
use serde_json::value::RawValue;

/// Why the policy could not be loaded at cold start.
#[derive(Debug, thiserror::Error)]
pub enum PolicySourceError {
    #[error("SHADOW_POLICY_FILE and SHADOW_POLICY are both set: choose one")]
    Both,
    #[error("SHADOW_POLICY_FILE: cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error(transparent)]
    Parse(#[from] PolicyError),
}

/// The policy: `SHADOW_POLICY_FILE` (a path bundled with the function), else
/// `SHADOW_POLICY` (inline TOML), else the built-in default.
pub fn policy_from_env(get: impl Fn(&str) -> Option<String>) -> Result<Policy, PolicySourceError> {
    let file = get("SHADOW_POLICY_FILE").filter(|s| !s.is_empty());
    let inline = get("SHADOW_POLICY").filter(|s| !s.is_empty());
    match (file, inline) {
        (Some(_), Some(_)) => Err(PolicySourceError::Both),
        (Some(path), None) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|error| PolicySourceError::Read { path: path.clone(), error })?;
            Ok(Policy::parse(&text, &path)?)
        }
        (None, Some(text)) => Ok(Policy::parse(&text, "$SHADOW_POLICY")?),
        (None, None) => Ok(Policy::default()),
    }
}

/// The tokenization key and, during a rotation, the previous one, if the policy tokenizes:
/// from the Secrets Manager secret named by `SHADOW_TOKEN_KEY_SECRET_ARN` (one
/// GetSecretValue at cold start; what the template deploys), else from the policy's key
/// variable (local runs and tests; no previous key).
pub async fn token_key(
    policy: &Policy,
    sdk: &dynamo_shadow_store::SdkConfig,
    get: impl Fn(&str) -> Option<String>,
) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), String> {
    if !policy.uses_tokenize() {
        return Ok((None, None));
    }
    match get(SECRET_ARN_VAR).filter(|a| !a.is_empty()) {
        Some(arn) => {
            let keys = read_token_keys(sdk, &arn).await.map_err(|e| e.to_string())?;
            let check = |bytes: Vec<u8>, what: &str| -> Result<Option<Vec<u8>>, String> {
                let key =
                    String::from_utf8(bytes).map_err(|_| format!("{SECRET_ARN_VAR}: the {what} key is not UTF-8"))?;
                let var = policy.tokenize.key_env.clone();
                token_key_from_env(policy, |k| (k == var).then(|| key.clone()))
                    .map_err(|e| format!("{SECRET_ARN_VAR} ({what} key): {e}"))
            };
            let previous = keys.previous.map(|p| check(p, "previous")).transpose()?.flatten();
            Ok((check(keys.current, "current")?, previous))
        }
        None => token_key_from_env(policy, get).map(|k| (k, None)).map_err(|e| e.to_string()),
    }
}

/// Logging as `lambda_runtime`'s default subscriber does it (`AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG`, `AWS_LAMBDA_LOG_FORMAT=JSON`), except that dependencies never log below DEBUG:
/// at TRACE the runtime logs each raw event and the SDK request bodies, which hold values.
pub fn init_logging(own_crates: &[&str]) {
    use lambda_runtime::tracing::subscriber::{fmt, EnvFilter};
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let level = match level.to_ascii_lowercase().as_str() {
        l @ ("error" | "warn" | "info" | "debug") => l.to_string(),
        "trace" => {
            let mut l = "debug".to_string();
            for c in
                own_crates.iter().copied().chain(["dynamo_shadow_lambda", "dynamo_shadow_ops", "dynamo_shadow_store"])
            {
                l.push_str(&format!(",{c}=trace"));
            }
            l
        }
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

/// A failed invocation: a fixed error type and a message that never holds values.
#[derive(Debug)]
pub struct FunctionError {
    pub kind: &'static str,
    pub message: String,
}

impl FunctionError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        FunctionError { kind, message: message.into() }
    }
}

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(e: FunctionError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.kind.into(), error_message: e.message }
    }
}

/// Checks the raw payload is JSON within serde's nesting limit, without building a tree,
/// and says what is wrong ourselves: the runtime's own parse errors print the JSON path,
/// which can run through map keys that hold data.
pub fn check_event(raw: &RawValue) -> Result<&str, FunctionError> {
    match serde_json::from_str::<serde::de::IgnoredAny>(raw.get()) {
        Ok(_) => Ok(raw.get()),
        Err(e) => {
            let what = if e.to_string().starts_with("recursion limit") {
                "nested deeper than 128 levels"
            } else {
                match e.classify() {
                    serde_json::error::Category::Eof => "truncated",
                    _ => "not valid JSON",
                }
            };
            Err(FunctionError::new(
                "InvalidEvent",
                format!("event is {what} (line {}, column {})", e.line(), e.column()),
            ))
        }
    }
}

/// Parses the raw payload into a value (small requests such as a backfill segment's).
pub fn parse_event(raw: &RawValue) -> Result<serde_json::Value, FunctionError> {
    check_event(raw)?;
    serde_json::from_str(raw.get()).map_err(|_| FunctionError::new("InvalidEvent", "event is not valid JSON"))
}

/// Epoch seconds now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Epoch milliseconds now.
pub fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
