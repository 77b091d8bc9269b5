//! What the subcommands share: loading the policy and the sanitizer exactly as the function
//! does, the table arguments, the runtime and the SDK store.

use std::path::PathBuf;

use dynamo_shadow_core::policy::SectionError;
use dynamo_shadow_core::sanitize::token_key_from_env;
use dynamo_shadow_core::{Policy, Sanitizer};
use dynamo_shadow_store::{sdk_config, DynamoSdk, Timeouts};

/// Tables, segments and policy: shared by backfill and verify.
#[derive(clap::Args)]
pub struct TableArgs {
    /// The source table.
    #[arg(long)]
    pub source_table: String,
    /// The shadow table (same key schema).
    #[arg(long)]
    pub shadow_table: String,
    /// Parallel scan segments (TotalSegments).
    #[arg(long, default_value_t = 4)]
    pub segments: u32,
    /// Policy file (TOML); the built-in default policy without it.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// With a policy that has [tables.NAME] sections: the section to use [default: the source table].
    #[arg(long)]
    pub table: Option<String>,
    /// SDK attempts per request (retries throttling, 5xx and timeouts with backoff).
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
}

/// Command-line glue reports a message and an exit code; the libraries' errors are typed.
pub type CliResult<T> = Result<T, String>;

pub fn load_policy(path: Option<&PathBuf>) -> CliResult<Policy> {
    match path {
        None => Ok(Policy::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Policy::parse(&text, &p.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// The sanitizer the Lambda would use for `table` (the tokenization key from the same variable).
pub fn sanitizer_for(policy: Option<&PathBuf>, table: Option<&str>) -> CliResult<Sanitizer> {
    let policy = load_policy(policy)?;
    let key = token_key_from_env(&policy, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let section = policy.section(table).map_err(|e| match e {
        SectionError::NoSuchTable(t) => format!("the policy has no [tables.{t}] section"),
        SectionError::NeedsTable => "the policy has [tables.NAME] sections: choose one with --table NAME".into(),
        SectionError::NotSectioned => "--table needs a policy with [tables.NAME] sections".to_string(),
    })?;
    Sanitizer::build(&policy, section, key).map_err(|e| e.to_string())
}

/// The sanitizer for the source table: its `[tables.NAME]` section when the policy has them.
pub fn table_sanitizer(t: &TableArgs) -> CliResult<Sanitizer> {
    let has_tables = match &t.policy {
        Some(p) => !load_policy(Some(p))?.tables.is_empty(),
        None => false,
    };
    let table = t.table.clone().or_else(|| has_tables.then(|| t.source_table.clone()));
    sanitizer_for(t.policy.as_ref(), table.as_deref())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime")
}

/// DynamoDB and DynamoDB Streams through the SDK, with the CLI's time bounds.
pub async fn store(max_attempts: u32) -> DynamoSdk {
    DynamoSdk::from_conf(&sdk_config(max_attempts, Timeouts::CLI).await)
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Reads a whole file, or stdin for `-`.
pub fn read_input(file: &std::path::Path) -> CliResult<String> {
    if file == std::path::Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|_| "stdin is not UTF-8 text".to_string())?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
    }
}
