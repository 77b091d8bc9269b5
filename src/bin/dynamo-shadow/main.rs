//! `dynamo-shadow`: the command line for the rest of the lifecycle. One file per subcommand;
//! the work is in the crates (`dynamo_shadow_core` for sanitize/check/rules,
//! `dynamo_shadow_ops` for backfill/verify/redrive).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::common::TableArgs;

mod backfill;
mod check;
mod common;
#[cfg(feature = "eval")]
mod eval;
mod redrive;
mod rules;
mod sanitize;
mod verify;

#[derive(Parser)]
#[command(name = "dynamo-shadow", version, about = "Keep a redacted shadow copy of a DynamoDB table for LLM workloads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Dry run: sanitize items exactly as the Lambda would (without its metadata attributes).
    ///
    /// Reads JSON Lines on stdin, one item per line in DynamoDB JSON (the shape of a stream
    /// NewImage), and writes one sanitized item per line on stdout, in the same order.
    /// A malformed line stops the run with exit code 2 and `line N: <reason>` on stderr.
    ///
    /// Example:
    ///   echo '{"pk":{"S":"u1"},"api_key":{"S":"x"},"bio":{"S":"mail a@example.com"}}' \
    ///     | dynamo-shadow sanitize --key pk
    #[command(verbatim_doc_comment)]
    Sanitize {
        /// Policy file (TOML); the built-in default policy without it.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// A key attribute of the table (repeat for a sort key): kept verbatim, as the Lambda does.
        #[arg(long = "key", value_name = "NAME")]
        keys: Vec<String>,
        /// Write each decision (line, path, rule id, action; never a value) to stderr as JSON Lines.
        #[arg(long)]
        explain: bool,
        /// With a policy that has [tables.NAME] sections: the source table whose section applies.
        #[arg(long)]
        table: Option<String>,
    },
    /// Check policy files: every mistake is reported as FILE:LINE:COLUMN: problem, exit code 1.
    ///
    /// Example:
    ///   dynamo-shadow check policy.toml
    #[command(verbatim_doc_comment)]
    Check {
        /// Policy files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the built-in detection rules (id, category, name) and sensitive-name phrases.
    ///
    /// Example:
    ///   dynamo-shadow rules
    #[command(verbatim_doc_comment)]
    Rules,
    /// Fill the shadow table from the source table (parallel Scan), racing the stream safely.
    ///
    /// Each item is sanitized by the same engine and policy as the Lambda. Items missing from
    /// the shadow table are written under `attribute_not_exists(_shadow_seq)`, so a stream
    /// write (newer item or tombstone) always wins; items written under an older policy are
    /// re-sanitized with --policy-changed. Progress is checkpointed per segment after every
    /// page: run the same command again to resume. Exit code 1 if any item failed.
    ///
    /// Example:
    ///   dynamo-shadow backfill --source-table app --shadow-table app-shadow --segments 8 --max-wcu 500
    #[command(verbatim_doc_comment)]
    Backfill {
        #[command(flatten)]
        tables: TableArgs,
        /// Re-sanitize items written under another policy fingerprint.
        #[arg(long)]
        policy_changed: bool,
        /// Report what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The shadow table has no other writer (the stream is not attached yet): write with
        /// unconditional BatchWriteItem (25 items a request) instead of conditional PutItems.
        #[arg(long)]
        exclusive: bool,
        /// Write budget in write capacity units per second (estimated from item sizes).
        #[arg(long, value_name = "WCU")]
        max_wcu: Option<f64>,
        /// Write budget in items per second.
        #[arg(long, value_name = "ITEMS")]
        rate: Option<f64>,
        /// Conditional writes in flight per segment.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Scan page size in items (DynamoDB's 1 MB pages without it).
        #[arg(long)]
        page_size: Option<u32>,
        /// Checkpoint file [default: .dynamo-shadow/backfill-SOURCE-SHADOW.json]. It holds scan
        /// cursors (key values) and is written owner-only.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Ignore an existing checkpoint and start over.
        #[arg(long)]
        restart: bool,
        /// Print the final summary as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Reconcile the shadow table with the source table and audit it for leaks.
    ///
    /// Reports items missing from the shadow table, orphans, items written under an old
    /// policy, items whose content is behind the source, bad metadata, and every leak-audit
    /// finding as (key, path, rule id), never a value. --fix repairs drift through the same
    /// conditional writes as backfill. Exit code 0 when clean, 1 when anything was found
    /// (after --fix: when a repair failed or a leak remains).
    ///
    /// Example:
    ///   dynamo-shadow verify --source-table app --shadow-table app-shadow --json
    #[command(verbatim_doc_comment)]
    Verify {
        #[command(flatten)]
        tables: TableArgs,
        /// Repair what was found (missing, orphans, old policy, behind, leaks).
        #[arg(long)]
        fix: bool,
        /// Print the report as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Expiry of tombstones written by --fix, in hours: 48 to 8760, the function's bounds
        /// (a tombstone must outlive the stream's 24-hour retention and any redrive).
        #[arg(long, default_value_t = 72, value_parser = clap::value_parser!(u64).range(48..=8760))]
        tombstone_ttl_hours: u64,
    },
    /// Re-apply stream batches that reached the dead-letter queue, from the stream itself.
    ///
    /// Reads Lambda OnFailure messages (batch metadata only: stream, shard, sequence range)
    /// from a file or stdin: one message, `aws sqs receive-message` output, or JSON Lines.
    /// Reads each range back from the stream (24-hour retention) and applies it through the
    /// same ordered, sequence-guarded path as the function: records already applied or
    /// superseded are skipped as stale. Exit code 1 if any record failed.
    ///
    /// Example:
    ///   aws sqs receive-message --queue-url "$DLQ" --max-number-of-messages 10 > dlq.json
    ///   dynamo-shadow redrive --shadow-table app-shadow --message-file dlq.json
    #[command(verbatim_doc_comment)]
    Redrive {
        /// OnFailure messages (`-` for stdin).
        #[arg(long, value_name = "FILE")]
        message_file: PathBuf,
        /// The shadow table (not needed with a policy that has [tables.NAME] sections).
        #[arg(long)]
        shadow_table: Option<String>,
        /// Policy file (TOML): the one the function runs with; the built-in default without it.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// SDK attempts per request.
        #[arg(long, default_value_t = 8)]
        max_attempts: u32,
    },
    /// Measure recall, decoys kept and harmless items altered on a labeled corpus: the test
    /// kit's generated one, or a JSON Lines corpus (`tests/corpus/blind/README.md`).
    ///
    /// Example:
    ///   dynamo-shadow eval --items 4000 --seed 20261125
    ///   dynamo-shadow eval --corpus .work/blind.jsonl --misses
    #[command(verbatim_doc_comment)]
    #[cfg(feature = "eval")]
    Eval {
        /// Number of items to generate.
        #[arg(long, default_value_t = 4000)]
        items: usize,
        /// Corpus seed.
        #[arg(long, default_value_t = 20_261_125)]
        seed: u64,
        /// Policy file (TOML); the built-in default policy without it.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// A labeled JSON Lines corpus instead of the generated one.
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Also list every miss (kind and item number, never a value).
        #[arg(long)]
        misses: bool,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sanitize { policy, keys, explain, table } => sanitize::run(policy, keys, explain, table),
        Command::Check { files } => check::run(files),
        Command::Rules => rules::run(),
        #[cfg(feature = "eval")]
        Command::Eval { items, seed, policy, corpus, misses } => eval::run(items, seed, policy, corpus, misses),
        Command::Backfill {
            tables,
            policy_changed,
            dry_run,
            exclusive,
            max_wcu,
            rate,
            concurrency,
            page_size,
            checkpoint,
            restart,
            json,
        } => {
            let opts = dynamo_shadow_ops::backfill::Options {
                source_table: tables.source_table.clone(),
                shadow_table: tables.shadow_table.clone(),
                total_segments: tables.segments,
                policy_changed,
                dry_run,
                exclusive,
                max_wcu,
                rate,
                concurrency,
                page_size,
            };
            backfill::run(&tables, opts, checkpoint, restart, json)
        }
        Command::Redrive { message_file, shadow_table, policy, max_attempts } => {
            redrive::run(&message_file, shadow_table, policy.as_ref(), max_attempts)
        }
        Command::Verify { tables, fix, json, tombstone_ttl_hours } => {
            verify::run(&tables, fix, json, tombstone_ttl_hours)
        }
    }
}
