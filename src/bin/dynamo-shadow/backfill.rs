//! `dynamo-shadow backfill`: runtime, checkpoints, progress and output. The work is in
//! `dynamo_shadow_ops::backfill`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dynamo_shadow_ops::backfill::{self, Backfill, Checkpoint, Counters, Options};
use dynamo_shadow_store::Describer;

use crate::common::{runtime, store, table_sanitizer, TableArgs};

fn default_checkpoint(o: &Options) -> PathBuf {
    let clean = |s: &str| {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect::<String>()
    };
    PathBuf::from(DEFAULT_DIR).join(format!("backfill-{}-{}.json", clean(&o.source_table), clean(&o.shadow_table)))
}

/// Writes the checkpoint atomically (temp file + rename), owner-only: it holds key values.
/// The mode is set on the open file too (an existing temp file keeps its mode otherwise),
/// and on the directory when this command created it or it is the default one.
fn save_checkpoint(path: &Path, cp: &Checkpoint) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let created = !dir.exists();
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        if created || dir.file_name().is_some_and(|n| n == DEFAULT_DIR) {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    std::io::Write::write_all(&mut f, &serde_json::to_vec_pretty(cp)?)?;
    std::fs::rename(&tmp, path)
}

/// The checkpoints' default directory (relative to the working directory).
const DEFAULT_DIR: &str = ".dynamo-shadow";

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

pub fn run(t: &TableArgs, opts: Options, checkpoint: Option<PathBuf>, restart: bool, json: bool) -> ExitCode {
    let sanitizer = match table_sanitizer(t) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let path = checkpoint.unwrap_or_else(|| default_checkpoint(&opts));
    let fp = sanitizer.fingerprint().to_string();
    let rt = runtime();
    rt.block_on(async move {
        let store = store(t.max_attempts).await;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let endpoint = env("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| env("AWS_ENDPOINT_URL")).unwrap_or_default();
        let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).unwrap_or_default();
        let identity = match backfill::TableIdentity::read(&store, &opts, endpoint, region).await {
            Ok(i) => i,
            Err(e) => {
                eprintln!("backfill: {e}");
                return ExitCode::from(2);
            }
        };
        let mut cp = Checkpoint::new(&opts, &fp);
        cp.identity = Some(identity.clone());
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
                if let Err(why) = old.matches_tables(&opts, &fp, &identity) {
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

        let bf = match Backfill::new(&store, &sanitizer, opts.clone()).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("backfill: {e}");
                return ExitCode::from(2);
            }
        };
        let bf = &bf;
        let estimate = store.describe(&opts.source_table).await.ok().and_then(|d| d.item_count);
        let started = Instant::now();
        let progress = spawn_progress(bf.counters.clone(), estimate, opts.total_segments);
        let cp = Arc::new(Mutex::new(cp));
        let save_failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = futures_util::stream::FuturesUnordered::new();
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
            let (cp, path, save_failed, dry_run) = (cp.clone(), path.clone(), save_failed.clone(), opts.dry_run);
            // Segments run concurrently on this task; the work is I/O, sanitizing is cheap.
            tasks.push(async move {
                let res = bf
                    .run_segment(seg, cursor, None, |next, n| {
                        if dry_run {
                            return;
                        }
                        let mut g = cp.lock().expect("not poisoned");
                        let s = &mut g.segments[seg as usize];
                        s.scanned += n;
                        s.cursor = next.map(backfill::cursor_to_json);
                        s.done = next.is_none();
                        if save_checkpoint(&path, &g).is_err() {
                            save_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                    })
                    .await;
                (seg, res)
            });
        }
        let mut failed_segments = Vec::new();
        while let Some((seg, res)) = futures_util::StreamExt::next(&mut tasks).await {
            if let Err(e) = res {
                eprintln!("backfill: segment {seg} stopped: {e}");
                failed_segments.push(seg);
            }
        }
        progress.abort();
        let s = bf.counters.snapshot();
        let secs = started.elapsed().as_secs_f64();
        if json {
            let out = serde_json::json!({
                "summary": s, "seconds": secs, "items_per_sec": s.scanned as f64 / secs.max(1e-9),
                "failed_segments": failed_segments.len(), "dry_run": opts.dry_run, "policy": fp,
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
