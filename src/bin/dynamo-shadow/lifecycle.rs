//! `backfill` and `verify`: the commands that talk to DynamoDB. The work is in the library
//! (`dynamo_shadow::backfill`, `dynamo_shadow::verify`); this is runtime, progress and output.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dynamo_shadow::backfill::{self, Backfill, Checkpoint, Counters, Options};
use dynamo_shadow::verify::{self, VerifyOptions, VerifyReport};
use dynamo_shadow::Sanitizer;

use crate::{sanitizer_for, TableArgs};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime")
}

/// The sanitizer for the source table: its `[tables.NAME]` section when the policy has them.
fn sanitizer(t: &TableArgs) -> Result<Sanitizer, String> {
    let has_tables = match &t.policy {
        Some(p) => !crate::load_policy(Some(p))?.tables.is_empty(),
        None => false,
    };
    let table = t.table.clone().or_else(|| has_tables.then(|| t.source_table.clone()));
    sanitizer_for(t.policy.as_ref(), table.as_deref())
}

async fn client(max_attempts: u32) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(
        &dynamo_shadow::store::sdk_config(max_attempts, dynamo_shadow::store::Timeouts::CLI).await,
    )
}

fn default_checkpoint(o: &Options) -> PathBuf {
    let clean = |s: &str| {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect::<String>()
    };
    PathBuf::from(".dynamo-shadow").join(format!("backfill-{}-{}.json", clean(&o.source_table), clean(&o.shadow_table)))
}

/// Writes the checkpoint atomically (temp file + rename), owner-only: it holds key values.
fn save_checkpoint(path: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    std::io::Write::write_all(&mut opts.open(&tmp)?, &serde_json::to_vec_pretty(cp)?)?;
    std::fs::rename(&tmp, path)
}

/// Progress: a bar on a terminal, a plain line every 10 s otherwise.
fn spawn_progress(counters: Arc<Counters>, estimate: Option<u64>, segments: u32) -> tokio::task::JoinHandle<()> {
    let started = Instant::now();
    tokio::spawn(async move {
        if std::io::stderr().is_terminal() {
            let bar = match estimate {
                Some(n) if n > 0 => indicatif::ProgressBar::new(n),
                _ => indicatif::ProgressBar::no_length(),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} scanned {per_sec} ETA {eta} {msg}",
                )
                .expect("a valid template"),
            );
            loop {
                let s = counters.snapshot();
                bar.set_position(s.scanned);
                bar.set_message(format!(
                    "written {} newer {} segments {}/{segments}",
                    s.written, s.skipped_newer, s.segments_done
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        } else {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let s = counters.snapshot();
                let secs = started.elapsed().as_secs_f64();
                let rate = s.scanned as f64 / secs.max(1e-9);
                let eta = estimate
                    .filter(|&n| n > s.scanned && rate > 0.0)
                    .map_or("?".to_string(), |n| format!("{:.0}s", (n - s.scanned) as f64 / rate));
                eprintln!(
                    "backfill: {:.0}s scanned {} written {} skipped(newer) {} failed {} {:.0} items/s segments {}/{segments} eta {eta}",
                    secs, s.scanned, s.written, s.skipped_newer, s.unsanitizable, rate, s.segments_done
                );
            }
        }
    })
}

pub fn backfill(t: &TableArgs, opts: Options, checkpoint: Option<PathBuf>, restart: bool, json: bool) -> ExitCode {
    let sanitizer = match sanitizer(t) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let path = checkpoint.unwrap_or_else(|| default_checkpoint(&opts));
    let fp = sanitizer.fingerprint().to_string();
    let mut cp = Checkpoint::new(&opts, &fp);
    if !restart && !opts.dry_run {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let old: Checkpoint = match serde_json::from_str(&text) {
                Ok(c) => c,
                // serde's message can quote the file's content (scan cursors hold key values).
                Err(e) => {
                    let at = format!("line {}, column {}", e.line(), e.column());
                    eprintln!("{}: not a backfill checkpoint ({at}); use --restart to start over", path.display());
                    return ExitCode::from(2);
                }
            };
            if let Err(why) = old.matches(&opts, &fp) {
                eprintln!("{}: {why}; use --restart to start over", path.display());
                return ExitCode::from(2);
            }
            if old.is_complete() {
                eprintln!("backfill: {} says this backfill is complete; use --restart to run it again", path.display());
                return ExitCode::SUCCESS;
            }
            let done = old.segments.iter().filter(|s| s.done).count();
            eprintln!("backfill: resuming from {} ({done}/{} segments complete)", path.display(), old.total_segments);
            cp = old;
        }
    }
    // The client and sanitizer live for the whole process; segments run as tasks on both cores.
    let sanitizer: &'static Sanitizer = Box::leak(Box::new(sanitizer));
    let rt = runtime();
    rt.block_on(async move {
        let client: &'static aws_sdk_dynamodb::Client = Box::leak(Box::new(client(t.max_attempts).await));
        let bf = match Backfill::new(client, sanitizer, opts.clone()).await {
            Ok(b) => Arc::new(b),
            Err(e) => {
                eprintln!("backfill: {e}");
                return ExitCode::from(2);
            }
        };
        let estimate = client
            .describe_table()
            .table_name(&opts.source_table)
            .send()
            .await
            .ok()
            .and_then(|d| d.table().and_then(|t| t.item_count()))
            .map(|n| n as u64);
        let started = Instant::now();
        let progress = spawn_progress(bf.counters.clone(), estimate, opts.total_segments);
        let cp = Arc::new(Mutex::new(cp));
        let save_failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for seg in 0..opts.total_segments {
            let state = cp.lock().expect("not poisoned").segments[seg as usize].clone();
            if state.done {
                continue;
            }
            let cursor = match state.cursor.as_ref().map(backfill::cursor_from_json).transpose() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{}: segment {seg}: {e}; use --restart", path.display());
                    return ExitCode::from(2);
                }
            };
            let (bf, cp, path, save_failed, dry_run) =
                (bf.clone(), cp.clone(), path.clone(), save_failed.clone(), opts.dry_run);
            tasks.push(tokio::spawn(async move {
                let res = bf
                    .run_segment(seg, cursor, None, |next, n| {
                        if dry_run {
                            return;
                        }
                        let mut g = cp.lock().expect("not poisoned");
                        let s = &mut g.segments[seg as usize];
                        s.scanned += n;
                        s.cursor = next.and_then(backfill::cursor_to_json);
                        s.done = next.is_none();
                        if save_checkpoint(&path, &g).is_err() {
                            save_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                    })
                    .await;
                (seg, res)
            }));
        }
        let mut failed_segments = Vec::new();
        for t in tasks {
            match t.await {
                Ok((_, Ok(_))) => {}
                Ok((seg, Err(e))) => {
                    eprintln!("backfill: segment {seg} stopped: {e}");
                    failed_segments.push(seg);
                }
                Err(e) => {
                    eprintln!("backfill: a segment task failed: {e}");
                    failed_segments.push(u32::MAX);
                }
            }
        }
        progress.abort();
        let s = bf.counters.snapshot();
        let secs = started.elapsed().as_secs_f64();
        if json {
            let out = serde_json::json!({
                "summary": s, "seconds": secs, "items_per_sec": s.scanned as f64 / secs.max(1e-9),
                "failed_segments": failed_segments.len(), "dry_run": opts.dry_run, "policy": sanitizer.fingerprint(),
            });
            println!("{out}");
        }
        let verb = if opts.dry_run { "would write" } else { "written" };
        eprintln!(
            "backfill: scanned {} | {verb} {} (re-sanitized {}) | already current {} | skipped as newer or deleted {} | old policy left {} | failed {} | {:.1}s, {:.0} items/s, sanitizing {:.1}s, {} write requests, ~{:.0} WCU",
            s.scanned,
            s.written,
            s.resanitized,
            s.current,
            s.skipped_newer,
            s.old_policy,
            s.unsanitizable,
            secs,
            s.scanned as f64 / secs.max(1e-9),
            s.sanitize_secs,
            s.write_requests,
            s.wcu
        );
        if save_failed.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!("backfill: could not write the checkpoint {}: a rerun starts over", path.display());
        }
        if !failed_segments.is_empty() {
            eprintln!("backfill: {} segments stopped early; run the same command again to resume", failed_segments.len());
            return ExitCode::from(1);
        }
        if s.unsanitizable > 0 {
            eprintln!("backfill: {} items could not be sanitized and were not written (see the warnings above)", s.unsanitizable);
            return ExitCode::from(1);
        }
        ExitCode::SUCCESS
    })
}

fn print_report(r: &VerifyReport, fix: bool) {
    println!("verify: policy {}", r.policy);
    println!("  source items {} | shadow items {} ({} tombstones)", r.source_items, r.shadow_items, r.tombstones);
    if r.drift.is_empty() {
        println!("  reconcile: in sync");
    }
    for (kind, n) in &r.drift {
        println!("  {kind}: {n}");
        for k in r.drifted.get(kind).into_iter().flatten().take(20) {
            println!("    {k}");
        }
    }
    if r.leaking_items == 0 {
        println!("  leak audit: no findings");
    } else {
        println!("  leak audit: {} items with findings", r.leaking_items);
        for l in r.leaks.iter().take(50) {
            println!("    {}  {}  {}", l.key, if l.path.is_empty() { "<item>" } else { &l.path }, l.rule);
        }
    }
    if fix {
        println!(
            "  fixed {} | fix failed {} | still leaking under the current policy {}",
            r.fixed, r.fix_failed, r.leaks_remaining
        );
    }
}

pub fn verify(t: &TableArgs, fix: bool, json: bool, ttl_hours: u64) -> ExitCode {
    let sanitizer = match sanitizer(t) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let opts = VerifyOptions {
        source_table: t.source_table.clone(),
        shadow_table: t.shadow_table.clone(),
        total_segments: t.segments.max(1),
        fix,
        tombstone_ttl_secs: ttl_hours * 3600,
    };
    runtime().block_on(async {
        let client = client(t.max_attempts).await;
        match verify::verify(&client, &sanitizer, &opts).await {
            Ok(r) => {
                if json {
                    let mut v = serde_json::to_value(&r).expect("serializable");
                    v["ok"] = r.ok(fix).into();
                    println!("{v}");
                } else {
                    print_report(&r, fix);
                }
                if r.ok(fix) {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("verify: {e}");
                ExitCode::from(2)
            }
        }
    })
}

pub fn redrive(file: &Path, shadow_table: Option<String>, policy: Option<&PathBuf>, max_attempts: u32) -> ExitCode {
    use dynamo_shadow::lambda::{Config, Routes};
    use dynamo_shadow::{redrive, DynamoStore, StreamHandler};
    let text = if file == Path::new("-") {
        let mut s = String::new();
        if std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).is_err() {
            eprintln!("redrive: stdin is not UTF-8 text");
            return ExitCode::from(2);
        }
        s
    } else {
        match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("redrive: {}: {e}", file.display());
                return ExitCode::from(2);
            }
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
        let policy = crate::load_policy(policy)?;
        let mut config = Config::from_env(|_| None).map_err(|e| e.to_string())?;
        config.shadow_table = shadow_table;
        config.max_attempts = max_attempts;
        let key =
            dynamo_shadow::engine::token_key_from_env(&policy, |k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
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
        let sdk = dynamo_shadow::store::sdk_config(max_attempts, dynamo_shadow::store::Timeouts::CLI).await;
        let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);
        let handler = StreamHandler::new(routes, DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk)), config);
        let mut ok = true;
        for (i, b) in batches.iter().enumerate() {
            let records = match redrive::read_batch(&streams, b).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("redrive: message {i}: {e}");
                    ok = false;
                    continue;
                }
            };
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            match handler.handle(&serde_json::json!({"Records": records}), now).await {
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
