//! `dynamo-shadow`: the command line for the rest of the lifecycle.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dynamo_shadow::item::{item_to_line, parse_item};
use dynamo_shadow::names::NameRules;
use dynamo_shadow::{Policy, Sanitizer};

#[derive(Parser)]
#[command(
    name = "dynamo-shadow",
    version,
    about = "Keep a redacted shadow copy of a DynamoDB table for LLM workloads"
)]
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

fn sanitize(policy: Option<PathBuf>, keys: Vec<String>, explain: bool) -> ExitCode {
    let sanitizer = match load_policy(policy.as_ref())
        .and_then(|p| Sanitizer::new(p).map_err(|e| e.to_string()))
    {
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
        // serde_json's syntax errors carry positions, not input text.
        let json: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("line {n}: invalid JSON at column {}", e.column());
                return ExitCode::from(2);
            }
        };
        let item = match parse_item(&json) {
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
                    for d in &report.decisions {
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
        let _ = writeln!(
            out,
            "{:<32} {:<8} {}",
            r.spec.id, r.spec.category, r.spec.name
        );
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

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sanitize {
            policy,
            keys,
            explain,
        } => sanitize(policy, keys, explain),
        Command::Check { files } => check(files),
        Command::Rules => rules(),
    }
}
