//! `dynamo-shadow`: the command line for the rest of the lifecycle.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dynamo_shadow::engine::token_key_from_env;
use dynamo_shadow::item::{item_to_line, parse_item_str};
use dynamo_shadow::names::NameRules;
use dynamo_shadow::{backfill, Policy, Sanitizer};

mod lifecycle;

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
        page_size: Option<i32>,
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
        /// Expiry of tombstones written by --fix, in hours.
        #[arg(long, default_value_t = 72)]
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
    /// Measure recall and decoys kept on the generated, labeled corpus (see src/eval.rs).
    ///
    /// Example:
    ///   dynamo-shadow eval --items 4000 --seed 20261125
    #[command(verbatim_doc_comment)]
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
    },
}

/// Tables, segments and policy: shared by backfill and verify.
#[derive(clap::Args)]
struct TableArgs {
    /// The source table.
    #[arg(long)]
    source_table: String,
    /// The shadow table (same key schema).
    #[arg(long)]
    shadow_table: String,
    /// Parallel scan segments (TotalSegments).
    #[arg(long, default_value_t = 4)]
    segments: u32,
    /// Policy file (TOML); the built-in default policy without it.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// With a policy that has [tables.NAME] sections: the section to use [default: the source table].
    #[arg(long)]
    table: Option<String>,
    /// SDK attempts per request (retries throttling, 5xx and timeouts with backoff).
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
}

fn load_policy(path: Option<&PathBuf>) -> Result<Policy, String> {
    match path {
        None => Ok(Policy::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Policy::parse(&text, &p.display().to_string()).map_err(|e| e.to_string())
        }
    }
}

/// The sanitizer the Lambda would use for `table` (the tokenization key from the same variable).
fn sanitizer_for(policy: Option<&PathBuf>, table: Option<&str>) -> Result<Sanitizer, String> {
    let policy = load_policy(policy)?;
    let key = token_key_from_env(&policy, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
    let section = match (table, policy.tables.is_empty()) {
        (None, true) => &policy.default,
        (Some(t), false) => policy.tables.get(t).ok_or_else(|| format!("the policy has no [tables.{t}] section"))?,
        (None, false) => return Err("the policy has [tables.NAME] sections: choose one with --table NAME".into()),
        (Some(_), true) => return Err("--table needs a policy with [tables.NAME] sections".into()),
    };
    Sanitizer::build(&policy, section, key).map_err(|e| e.to_string())
}

fn sanitize(policy: Option<PathBuf>, keys: Vec<String>, explain: bool, table: Option<String>) -> ExitCode {
    let sanitizer = match sanitizer_for(policy.as_ref(), table.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let stderr = std::io::stderr();
    for (i, line) in stdin.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(_) => {
                eprintln!("line {n}: not valid UTF-8 text");
                return ExitCode::from(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let item = match parse_item_str(&line) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("line {n}: {e}");
                return ExitCode::from(2);
            }
        };
        match sanitizer.sanitize(&item, &key_refs) {
            Ok((clean, report)) => {
                if writeln!(out, "{}", item_to_line(&clean)).is_err() {
                    return ExitCode::from(1);
                }
                if explain {
                    let mut err = stderr.lock();
                    let mut decisions = report.decisions.clone();
                    decisions.sort_by(|a, b| a.path.cmp(&b.path));
                    for d in &decisions {
                        let _ = writeln!(
                            err,
                            "{}",
                            serde_json::json!({"line": n, "path": d.path, "rule": d.rule, "action": d.action.as_str()})
                        );
                    }
                }
            }
            Err(e) => {
                eprintln!("line {n}: cannot sanitize: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn check(files: Vec<PathBuf>) -> ExitCode {
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

fn rules() -> ExitCode {
    let s = Sanitizer::default_policy();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let _ = writeln!(out, "{:<32} {:<8} NAME", "ID", "CATEGORY");
    for r in s.detectors().rules() {
        let _ = writeln!(out, "{:<32} {:<8} {}", r.spec.id, r.spec.category, r.spec.name);
    }
    for (phrase, cat) in NameRules::phrases() {
        let _ = writeln!(
            out,
            "{:<32} {:<8} attribute name ending in \"{phrase}\"",
            format!("name:{}", phrase.replace(' ', "_")),
            cat
        );
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}

fn eval(items: usize, seed: u64, policy: Option<PathBuf>) -> ExitCode {
    let sanitizer = match sanitizer_for(policy.as_ref(), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let corpus = dynamo_shadow::eval::corpus(seed, items);
    let start = std::time::Instant::now();
    let r = dynamo_shadow::eval::evaluate(&sanitizer, &corpus);
    let secs = start.elapsed().as_secs_f64();
    println!("{:<34} {:>8} {:>8} {:>8}", "planted kind", "caught", "planted", "recall");
    let mut by_cat: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (kind, (c, p)) in &r.secrets {
        println!("{kind:<34} {c:>8} {p:>8} {:>8.4}", *c as f64 / *p as f64);
        let cat = kind.split(':').next().unwrap_or("");
        let e = by_cat.entry(cat).or_default();
        e.0 += c;
        e.1 += p;
    }
    println!();
    println!("{:<34} {:>8} {:>8} {:>8}", "decoy kind", "kept", "planted", "kept");
    for (kind, (k, p)) in &r.decoys {
        println!("{kind:<34} {k:>8} {p:>8} {:>8.4}", *k as f64 / *p as f64);
    }
    println!();
    for (cat, (c, p)) in &by_cat {
        println!("recall {cat:<8} {:.4} ({c}/{p})", *c as f64 / *p as f64);
    }
    let kept: usize = r.decoys.values().map(|v| v.0).sum();
    let decoys: usize = r.decoys.values().map(|v| v.1).sum();
    println!("recall overall  {:.4} ({} planted)", r.recall(), r.planted());
    println!("decoys kept     {:.4} ({kept}/{decoys})", r.decoys_kept());
    println!(
        "invalid outputs {} of {} items; failed items {}; {:.0} items/s",
        r.invalid_outputs,
        r.items,
        r.failed_items,
        r.items as f64 / secs
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sanitize { policy, keys, explain, table } => sanitize(policy, keys, explain, table),
        Command::Check { files } => check(files),
        Command::Rules => rules(),
        Command::Eval { items, seed, policy } => eval(items, seed, policy),
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
            let opts = backfill::Options {
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
            lifecycle::backfill(&tables, opts, checkpoint, restart, json)
        }
        Command::Redrive { message_file, shadow_table, policy, max_attempts } => {
            lifecycle::redrive(&message_file, shadow_table, policy.as_ref(), max_attempts)
        }
        Command::Verify { tables, fix, json, tombstone_ttl_hours } => {
            lifecycle::verify(&tables, fix, json, tombstone_ttl_hours)
        }
    }
}
