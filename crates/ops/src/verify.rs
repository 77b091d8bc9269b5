//! Verify: reconcile the shadow table against the source table and audit it for leaks.
//!
//! Reconcile compares `sanitize(source item)` with each shadow item (metadata aside) and
//! sorts the differences into kinds: missing, orphan, old policy, behind (content drift),
//! bad metadata. The leak audit runs every detector and name rule over every shadow item
//! ([`Sanitizer::audit`]). Findings name a key, a path and a rule id, never a value; a key
//! that itself holds a finding is shown as a hash.
//!
//! `fix` repairs each difference through the same conditional writes as the backfill: it
//! re-reads the source item (consistent read), then writes the sanitized item, or a
//! tombstone if the source no longer has it, only if the shadow item still holds the
//! sequence it was verified at, so a concurrent stream write always wins.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use dynamo_shadow_core::item::{item_to_line, key_attributes, key_fingerprint, Item};
use dynamo_shadow_core::sanitize::RESERVED_PREFIX;
use dynamo_shadow_core::{Action, Decision, Path, RuleRef, Sanitizer};
use dynamo_shadow_store::{
    Guard, ScanRequest, Scanner, Seq, ShadowMeta, ShadowWrite, Tables, UnknownType, WriteOutcome,
};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backfill::same_key_schema;
use crate::error::OpsError;

/// Lists in a report are capped (counts are not).
pub const MAX_LISTED: usize = 1000;

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub source_items: u64,
    pub shadow_items: u64,
    pub tombstones: u64,
    pub policy: String,
    /// Counts per drift kind (`missing`, `orphan`, `old_policy`, `behind`, `bad_metadata`,
    /// `unsanitizable`).
    pub drift: BTreeMap<&'static str, u64>,
    /// Drifted keys (shadow key labels) per kind, up to [`MAX_LISTED`] each.
    pub drifted: BTreeMap<&'static str, Vec<String>>,
    pub leaks: Vec<Leak>,
    /// Shadow items with at least one finding.
    pub leaking_items: u64,
    pub fixed: u64,
    /// Repairs not needed after all: a stream write landed first.
    pub fix_superseded: u64,
    pub fix_failed: u64,
    /// Leaking items still leaking after `fix` (the current policy does not catch them).
    pub leaks_remaining: u64,
}

impl VerifyReport {
    pub fn drift_total(&self) -> u64 {
        self.drift.values().sum()
    }

    /// Clean: nothing drifted (or everything was fixed) and nothing leaks.
    pub fn ok(&self, fixed_run: bool) -> bool {
        let leaks_ok = if fixed_run { self.leaks_remaining == 0 } else { self.leaking_items == 0 };
        let drift_ok = if fixed_run { self.fix_failed == 0 } else { self.drift_total() == 0 };
        leaks_ok && drift_ok
    }
}

/// One leak-audit finding: where and which rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    pub key: String,
    pub path: Path,
    pub rule: RuleRef,
}

/// A shadow item as verify remembers it: metadata and a digest of its content.
#[derive(Debug, Clone)]
struct Entry {
    keys: Item,
    meta: ShadowMeta,
    digest: [u8; 32],
    leaking: bool,
    seen: bool,
}

/// How a source item compares with its shadow item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    Missing,
    /// A quarantine marker: the item could not be shadowed (`--fix` retries it).
    Quarantined,
    OldPolicy,
    Behind,
    BadMetadata,
}

impl Drift {
    pub fn as_str(self) -> &'static str {
        match self {
            Drift::Missing => "missing",
            Drift::Quarantined => "quarantined",
            Drift::OldPolicy => "old_policy",
            Drift::Behind => "behind",
            Drift::BadMetadata => "bad_metadata",
        }
    }
}

/// Classifies one source item against its shadow metadata (pure).
pub fn classify(shadow: Option<(&ShadowMeta, &[u8; 32])>, expected: &[u8; 32], fingerprint: &str) -> Option<Drift> {
    let (meta, digest) = match shadow {
        None => return Some(Drift::Missing),
        Some(s) => s,
    };
    if meta.deleted {
        return Some(Drift::Missing);
    }
    if meta.valid_seq().is_none() {
        return Some(Drift::BadMetadata);
    }
    if meta.quarantined.is_some() {
        return Some(Drift::Quarantined);
    }
    if meta.policy.as_deref() != Some(fingerprint) {
        return Some(Drift::OldPolicy);
    }
    (digest != expected).then_some(Drift::Behind)
}

/// SHA-256 of an item's content without the shadow metadata.
pub fn content_digest(item: &Item) -> [u8; 32] {
    let body: Item =
        item.iter().filter(|(k, _)| !k.starts_with(RESERVED_PREFIX)).map(|(k, v)| (k.clone(), v.clone())).collect();
    Sha256::digest(item_to_line(&body).as_bytes()).into()
}

/// A printable key: the shadow key as DynamoDB JSON, or a hash when it holds a finding.
pub fn key_label(keys: &Item, hide: bool) -> String {
    let line = item_to_line(keys);
    if hide {
        let h = Sha256::digest(line.as_bytes());
        format!("sha256:{}", h[..8].iter().map(|b| format!("{b:02x}")).collect::<String>())
    } else {
        line
    }
}

/// Options of one verify run.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub source_table: String,
    pub shadow_table: String,
    pub total_segments: u32,
    pub fix: bool,
    pub tombstone_ttl_secs: u64,
}

struct Shared {
    entries: HashMap<String, Entry>,
    report: VerifyReport,
    /// Shadow key fingerprint -> source key, for items to repair.
    to_fix: Vec<(String, Option<Item>)>,
}

type RawItem = Result<Item, UnknownType>;

/// Scans every segment of `table` in parallel, handing each page to `f`.
async fn scan_all<S: Scanner>(
    store: &S,
    table: &str,
    segments: u32,
    f: &(dyn Fn(&[RawItem]) + Sync),
) -> Result<(), OpsError> {
    let results: Vec<Result<(), OpsError>> = stream::iter(0..segments)
        .map(|segment| async move {
            let mut start = None;
            loop {
                let page = store
                    .scan(ScanRequest { table, segment, total_segments: segments, start, limit: None })
                    .await
                    .map_err(|error| OpsError::Store { table: table.into(), error })?;
                f(&page.items);
                start = page.next;
                if start.is_none() {
                    return Ok(());
                }
            }
        })
        .buffer_unordered(segments as usize)
        .collect()
        .await;
    results.into_iter().collect()
}

fn push_drift(report: &mut VerifyReport, kind: &'static str, label: String) {
    *report.drift.entry(kind).or_default() += 1;
    let list = report.drifted.entry(kind).or_default();
    if list.len() < MAX_LISTED {
        list.push(label);
    }
}

/// Runs reconcile and the leak audit (and repairs with `fix`).
pub async fn verify<T: Tables>(
    store: &T,
    sanitizer: &Sanitizer,
    opts: &VerifyOptions,
) -> Result<VerifyReport, OpsError> {
    let keys = same_key_schema(store, &opts.source_table, &opts.shadow_table).await?;
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let auditor = sanitizer;
    let fp = sanitizer.fingerprint().to_string();
    let shared = Mutex::new(Shared {
        entries: HashMap::new(),
        report: VerifyReport { policy: fp.clone(), ..Default::default() },
        to_fix: Vec::new(),
    });
    let key_of = |item: &Item| -> Item { key_attributes(item, &keys) };

    // 1. The shadow table: metadata, content digests, leak audit.
    scan_all(store, &opts.shadow_table, opts.total_segments, &|page| {
        let mut local = Vec::with_capacity(page.len());
        let mut leaks = Vec::new();
        let mut unknown = 0;
        for raw in page {
            let Ok(item) = raw else {
                unknown += 1;
                continue;
            };
            let meta = ShadowMeta::of(item);
            let k = key_of(item);
            let mut leaking = false;
            if !meta.deleted {
                let findings: Vec<Decision> = match auditor.audit(item, &key_refs) {
                    Ok(f) => f,
                    // An item the engine cannot even read is reported as a finding itself.
                    Err(_) => vec![Decision { path: Path::root(), rule: RuleRef::Unreadable, action: Action::Drop }],
                };
                if !findings.is_empty() {
                    leaking = true;
                    let hide = findings.iter().any(|f| f.path.top().is_some_and(|t| keys.iter().any(|k| k == t)));
                    let label = key_label(&k, hide);
                    leaks.extend(findings.into_iter().map(|f| Leak { key: label.clone(), path: f.path, rule: f.rule }));
                }
            }
            local.push((
                key_fingerprint(&k),
                Entry { keys: k, digest: content_digest(item), meta, leaking, seen: false },
            ));
        }
        let mut g = shared.lock().expect("not poisoned");
        g.report.shadow_items += page.len() as u64;
        for (kfp, e) in local {
            if e.meta.deleted {
                g.report.tombstones += 1;
            }
            if e.leaking {
                g.report.leaking_items += 1;
            }
            g.entries.insert(kfp, e);
        }
        for _ in 0..unknown {
            push_drift(&mut g.report, "unsanitizable", "<unknown attribute type>".into());
        }
        let room = MAX_LISTED.saturating_sub(g.report.leaks.len());
        g.report.leaks.extend(leaks.into_iter().take(room));
    })
    .await?;

    // 2. The source table: what the shadow table should hold.
    scan_all(store, &opts.source_table, opts.total_segments, &|page| {
        let mut results = Vec::with_capacity(page.len());
        for raw in page {
            let Ok(item) = raw else {
                results.push(Err((None, "<unknown attribute type>".to_string())));
                continue;
            };
            let source_key = key_of(item);
            let shadow_key = match sanitizer.sanitize_keys(&source_key) {
                Ok(k) => k,
                Err(_) => {
                    results.push(Err((None, key_label(&source_key, true))));
                    continue;
                }
            };
            match sanitizer.sanitize(item, &key_refs) {
                Ok((clean, _)) => results.push(Ok((source_key, shadow_key, content_digest(&clean)))),
                Err(_) => results.push(Err((Some(key_fingerprint(&shadow_key)), key_label(&shadow_key, true)))),
            }
        }
        let mut g = shared.lock().expect("not poisoned");
        let g = &mut *g;
        g.report.source_items += page.len() as u64;
        for r in results {
            let (source_key, shadow_key, digest) = match r {
                Ok(v) => v,
                Err((kfp, label)) => {
                    // Still unsanitizable: a quarantined key stays listed as quarantined.
                    let entry = kfp.and_then(|k| g.entries.get_mut(&k));
                    let quarantined = entry.as_ref().is_some_and(|e| e.meta.quarantined.is_some());
                    if let Some(e) = entry {
                        e.seen = true;
                    }
                    push_drift(&mut g.report, if quarantined { "quarantined" } else { "unsanitizable" }, label);
                    continue;
                }
            };
            let kfp = key_fingerprint(&shadow_key);
            let entry = g.entries.get_mut(&kfp);
            let drift = classify(entry.as_ref().map(|e| (&e.meta, &e.digest)), &digest, &fp);
            let leaking = entry.as_ref().is_some_and(|e| e.leaking);
            if let Some(e) = entry {
                e.seen = true;
            }
            if let Some(d) = drift {
                push_drift(&mut g.report, d.as_str(), key_label(&shadow_key, leaking));
            }
            if drift.is_some() || leaking {
                g.to_fix.push((kfp, Some(source_key)));
            }
        }
    })
    .await?;

    let Shared { entries, mut report, mut to_fix } = shared.into_inner().expect("not poisoned");
    // 3. Orphans: live shadow items with no source item.
    for (kfp, e) in &entries {
        if !e.seen && !e.meta.deleted {
            push_drift(&mut report, "orphan", key_label(&e.keys, e.leaking));
            // Where the shadow key is the source key (not tokenized), the repair re-reads
            // the source first: an item written since the scan is not tombstoned.
            let source_key = sanitizer.sanitize_keys(&e.keys).ok().filter(|k| k == &e.keys).map(|_| e.keys.clone());
            to_fix.push((kfp.clone(), source_key));
        }
    }

    if opts.fix {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let results: Vec<Result<(bool, bool), OpsError>> = stream::iter(to_fix)
            .map(|(kfp, source_key)| {
                let entry = entries.get(&kfp);
                let (auditor, key_refs, keys) = (&auditor, &key_refs, &keys);
                async move {
                    let outcome = repair(store, sanitizer, opts, entry, source_key, keys, now).await?;
                    // Still leaking after a rewrite under the current policy?
                    Ok(match outcome {
                        Repair::Written(Some(item)) => {
                            (true, auditor.audit(&item, key_refs).map_or(true, |f| !f.is_empty()))
                        }
                        Repair::Written(None) => (true, false),
                        Repair::Superseded | Repair::Nothing => (false, false),
                    })
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for r in results {
            match r {
                Ok((written, still_leaking)) => {
                    report.fixed += written as u64;
                    report.fix_superseded += !written as u64;
                    report.leaks_remaining += still_leaking as u64;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "repair failed");
                    report.fix_failed += 1;
                }
            }
        }
    }
    report.leaks.sort_by(|a, b| (&a.key, &a.path, &a.rule).cmp(&(&b.key, &b.path, &b.rule)));
    for list in report.drifted.values_mut() {
        list.sort();
    }
    Ok(report)
}

/// What one repair did.
enum Repair {
    /// Written: the item (`None` for a tombstone).
    Written(Option<Item>),
    /// A stream write landed first; nothing to do.
    Superseded,
    /// The source no longer has it and the shadow item is already a tombstone.
    Nothing,
}

/// Repairs one shadow item from a consistent read of its source item; `Err` if a write or
/// read failed.
async fn repair<T: Tables>(
    store: &T,
    sanitizer: &Sanitizer,
    opts: &VerifyOptions,
    entry: Option<&Entry>,
    source_key: Option<Item>,
    keys: &[String],
    now: u64,
) -> Result<Repair, OpsError> {
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    // The write keeps a well-formed sequence; a malformed one is replaced by the backfill
    // sequence, still guarded by the value that is there.
    let expect = entry.and_then(|e| e.meta.seq.clone());
    let seq = expect.as_deref().and_then(Seq::from_stored).unwrap_or_else(Seq::backfill);
    let fresh = match &source_key {
        Some(k) => store
            .get(&opts.source_table, k, true)
            .await
            .map_err(|error| OpsError::Store { table: opts.source_table.clone(), error })?
            .and_then(Result::ok),
        None => None,
    };
    let write = match fresh {
        Some(item) => {
            let (clean, _) = sanitizer.sanitize(&item, &key_refs).map_err(OpsError::Sanitize)?;
            ShadowWrite::upsert(clean, keys.to_vec(), seq, sanitizer.fingerprint())
        }
        None => {
            let Some(e) = entry.filter(|e| !e.meta.deleted) else { return Ok(Repair::Nothing) };
            ShadowWrite::tombstone(e.keys.clone(), seq, now + opts.tombstone_ttl_secs, sanitizer.fingerprint())
        }
    };
    let guard = match expect {
        None => Guard::Absent,
        Some(seq) => Guard::Holds(seq),
    };
    match store.put(&opts.shadow_table, &write, guard).await {
        Ok(WriteOutcome::Applied) => Ok(Repair::Written((!write.is_tombstone()).then_some(write.item))),
        // The stream wrote in between: its write is newer.
        Ok(WriteOutcome::Stale) => Ok(Repair::Superseded),
        Err(error) => Err(OpsError::Store { table: opts.shadow_table.clone(), error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dynamo_shadow_core::AttributeValue;

    #[test]
    fn classifies_each_kind_of_drift() {
        let d = [1u8; 32];
        let other = [2u8; 32];
        let seq = Seq::parse("7").unwrap().as_str().to_string();
        let meta = |seq: Option<&str>, policy: &str, deleted| ShadowMeta {
            seq: seq.map(String::from),
            policy: Some(policy.into()),
            deleted,
            quarantined: None,
        };
        assert_eq!(classify(None, &d, "fp"), Some(Drift::Missing));
        assert_eq!(classify(Some((&meta(Some(&seq), "fp", true), &d)), &d, "fp"), Some(Drift::Missing));
        assert_eq!(classify(Some((&meta(Some("7"), "fp", false), &d)), &d, "fp"), Some(Drift::BadMetadata));
        assert_eq!(classify(Some((&meta(None, "fp", false), &d)), &d, "fp"), Some(Drift::BadMetadata));
        assert_eq!(classify(Some((&meta(Some(&seq), "old", false), &d)), &d, "fp"), Some(Drift::OldPolicy));
        assert_eq!(classify(Some((&meta(Some(&seq), "fp", false), &other)), &d, "fp"), Some(Drift::Behind));
        assert_eq!(classify(Some((&meta(Some(&seq), "fp", false), &d)), &d, "fp"), None);
    }

    #[test]
    fn digests_ignore_metadata_and_labels_hide_leaky_keys() {
        let a = Item::from([("pk".to_string(), AttributeValue::S("u1".into()))]);
        let mut b = a.clone();
        b.insert("_shadow_seq".into(), AttributeValue::S("1".into()));
        assert_eq!(content_digest(&a), content_digest(&b));
        let k = Item::from([("pk".to_string(), AttributeValue::S("alice@example.com".into()))]);
        assert!(key_label(&k, false).contains("alice"));
        let hidden = key_label(&k, true);
        assert!(hidden.starts_with("sha256:") && !hidden.contains("alice"));
    }
}
