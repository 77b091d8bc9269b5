//! Backfill, verify and redrive against the in-memory store (DynamoDB's semantics, injected
//! faults). The same operations run against moto's server in the e2e suite.

use dynamo_shadow_core::item::{key_attributes, AttributeValue, Item};
use dynamo_shadow_core::{Policy, Sanitizer};
use dynamo_shadow_ops::backfill::{Backfill, Options};
use dynamo_shadow_ops::redrive::{parse_messages, read_batch, RedriveError};
use dynamo_shadow_ops::verify::{verify, VerifyOptions};
use dynamo_shadow_ops::OpsError;
use dynamo_shadow_store::layout::{DELETED_ATTR, POLICY_ATTR, QUARANTINE_ATTR, SEQ_ATTR};
use dynamo_shadow_store::{Guard, Seq, ShadowWrite, ShadowWriter, StreamRecord};
use dynamo_shadow_testkit::{MemoryStore, Rng};

const SRC: &str = "src";
const SHADOW: &str = "shadow";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn item(i: usize) -> Item {
    Item::from([
        ("pk".to_string(), s(&format!("U#{i}"))),
        ("sk".to_string(), s("PROFILE")),
        ("bio".to_string(), s(&format!("user {i}, mail u{i}@example.com"))),
        ("api_key".to_string(), s("sk_live_abcdefghijklmnop1234")),
    ])
}

fn keys(i: usize) -> Item {
    key_attributes(&item(i), &["pk", "sk"])
}

fn tables(n: usize) -> MemoryStore {
    let m = MemoryStore::default();
    m.create_table(SRC, &["pk", "sk"]);
    m.create_table(SHADOW, &["pk", "sk"]);
    for i in 0..n {
        m.insert(SRC, item(i));
    }
    m
}

fn opts(segments: u32) -> Options {
    Options {
        source_table: SRC.into(),
        shadow_table: SHADOW.into(),
        total_segments: segments,
        policy_changed: false,
        dry_run: false,
        exclusive: false,
        max_wcu: None,
        rate: None,
        concurrency: 4,
        page_size: Some(9),
    }
}

fn verify_opts(segments: u32, fix: bool) -> VerifyOptions {
    VerifyOptions {
        source_table: SRC.into(),
        shadow_table: SHADOW.into(),
        total_segments: segments,
        fix,
        tombstone_ttl_secs: 72 * 3600,
    }
}

async fn run_all<T: dynamo_shadow_store::Tables>(bf: &Backfill<'_, T>) {
    for seg in 0..bf.options().total_segments {
        bf.run_segment(seg, None, None, |_, _| {}).await.expect("segment");
    }
}

#[tokio::test]
async fn backfill_fills_every_item_once_and_never_overwrites_the_stream() {
    let m = tables(100);
    let sanitizer = Sanitizer::default_policy();
    // The stream got there first for item 3 (newer content) and deleted item 4.
    let newer = ShadowWrite::upsert(keys(3), vec!["pk".into(), "sk".into()], Seq::parse("500").unwrap(), "fp");
    m.put(SHADOW, &newer, Guard::Newer).await.unwrap();
    let tomb = ShadowWrite::tombstone(keys(4), Seq::parse("600").unwrap(), 1, "fp");
    m.put(SHADOW, &tomb, Guard::Newer).await.unwrap();
    let bf = Backfill::new(&m, &sanitizer, opts(3)).await.unwrap();
    run_all(&bf).await;
    let c = bf.counters.snapshot();
    assert_eq!(c.scanned, 100);
    assert_eq!(c.written, 98);
    assert_eq!(c.skipped_newer, 1, "the tombstone");
    assert_eq!(c.old_policy, 1, "the stream's item under another fingerprint, left alone without --policy-changed");
    assert_eq!(m.len(SHADOW), 100);
    let one = m.get(SHADOW, &keys(1)).unwrap();
    assert_eq!(one["bio"], s("user 1, mail [REDACTED:EMAIL]"));
    assert!(!one.contains_key("api_key"));
    assert_eq!(one[SEQ_ATTR], s(Seq::backfill().as_str()));
    assert_eq!(m.get(SHADOW, &keys(3)).unwrap()[SEQ_ATTR], s(Seq::parse("500").unwrap().as_str()));
    assert_eq!(m.get(SHADOW, &keys(4)).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));
    // A second run finds everything current.
    let again = Backfill::new(&m, &sanitizer, opts(2)).await.unwrap();
    run_all(&again).await;
    let c = again.counters.snapshot();
    assert_eq!((c.written, c.current), (0, 98));
}

#[tokio::test]
async fn policy_changed_resanitizes_under_the_held_sequence() {
    let m = tables(20);
    let old = Sanitizer::default_policy();
    run_all(&Backfill::new(&m, &old, opts(2)).await.unwrap()).await;
    let p = dynamo_shadow_core::Policy::parse("version = 1\n[names]\ndrop = [\"bio\"]\n", "p").unwrap();
    let new = Sanitizer::new(p).unwrap();
    let mut o = opts(2);
    o.policy_changed = true;
    let bf = Backfill::new(&m, &new, o).await.unwrap();
    run_all(&bf).await;
    let c = bf.counters.snapshot();
    assert_eq!((c.resanitized, c.written), (20, 20));
    let got = m.get(SHADOW, &keys(5)).unwrap();
    assert!(!got.contains_key("bio"));
    assert_eq!(got[POLICY_ATTR], s(new.fingerprint()));
}

#[tokio::test]
async fn exclusive_backfill_retries_unprocessed_items_within_batch_limits() {
    let m = tables(120);
    *m.unprocessed.lock().unwrap() = Some((Rng::new(5), 300));
    let sanitizer = Sanitizer::default_policy();
    let mut o = opts(1);
    o.exclusive = true;
    o.page_size = Some(60);
    let bf = Backfill::new(&m, &sanitizer, o).await.unwrap();
    run_all(&bf).await;
    assert_eq!(m.len(SHADOW), 120);
    let c = bf.counters.snapshot();
    assert!(c.write_requests > 120 / 25, "unprocessed items were retried: {} requests", c.write_requests);
}

#[tokio::test]
async fn read_faults_stop_a_segment_with_a_named_error_and_resume_from_the_cursor() {
    let m = tables(50);
    let sanitizer = Sanitizer::default_policy();
    let bf = Backfill::new(&m, &sanitizer, opts(1)).await.unwrap();
    // Fail reads after the first pages: the segment stops, its last cursor says where.
    let mut last = None;
    *m.read_faults.lock().unwrap() = Some((Rng::new(1), 400));
    let mut failures = 0;
    loop {
        match bf.run_segment(0, last.clone(), None, |next, _| last = next.cloned()).await {
            Ok(end) if end.done => break,
            Ok(_) => {}
            Err(OpsError::Store { table, error }) => {
                assert!(table == SRC || table == SHADOW);
                assert!(!error.to_string().contains('@'), "no values in errors: {error}");
                failures += 1;
                assert!(failures < 200, "made no progress");
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(failures > 0);
    assert_eq!(m.len(SHADOW), 50, "resumed until complete, every item written");
}

#[tokio::test]
async fn key_schemas_must_match() {
    let m = MemoryStore::default();
    m.create_table(SRC, &["pk", "sk"]);
    m.create_table(SHADOW, &["pk"]);
    let sanitizer = Sanitizer::default_policy();
    let e = Backfill::new(&m, &sanitizer, opts(1)).await.err().unwrap();
    assert!(matches!(e, OpsError::KeySchemasDiffer { .. }), "{e}");
}

#[tokio::test]
async fn verify_finds_each_kind_of_drift_and_planted_leaks_then_fixes_them() {
    let m = tables(30);
    let sanitizer = Sanitizer::default_policy();
    run_all(&Backfill::new(&m, &sanitizer, opts(2)).await.unwrap()).await;
    let vo = verify_opts(2, false);
    let clean = verify(&m, &sanitizer, &vo).await.unwrap();
    assert!(clean.ok(false), "{clean:?}");
    // Drift: one missing, one orphan, one behind, one planted leak.
    m.remove(SHADOW, &keys(0));
    let mut orphan = item(99);
    orphan.remove("api_key");
    orphan.insert("bio".into(), s("clean"));
    let ow =
        ShadowWrite::upsert(orphan, vec!["pk".into(), "sk".into()], Seq::parse("7").unwrap(), sanitizer.fingerprint());
    m.put(SHADOW, &ow, Guard::Newer).await.unwrap();
    let mut changed = item(1);
    changed.insert("bio".into(), s("edited"));
    m.insert(SRC, changed);
    let mut leaky = m.get(SHADOW, &keys(2)).unwrap();
    leaky.insert("note".into(), s("reach me at leak@example.org"));
    let lw =
        ShadowWrite::upsert(leaky, vec!["pk".into(), "sk".into()], Seq::parse("8").unwrap(), sanitizer.fingerprint());
    m.put(SHADOW, &lw, Guard::Newer).await.unwrap();
    let r = verify(&m, &sanitizer, &vo).await.unwrap();
    assert_eq!(r.drift.get("missing"), Some(&1));
    assert_eq!(r.drift.get("orphan"), Some(&1));
    assert_eq!(r.drift.get("behind"), Some(&2), "the edited item and the leaky one");
    assert_eq!(r.leaking_items, 1);
    assert_eq!(r.leaks[0].rule.to_string(), "pii.email");
    assert_eq!(r.leaks[0].path.to_string(), "note");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("leak@example.org"), "no values in the report");
    let fixed = verify(&m, &sanitizer, &VerifyOptions { fix: true, ..vo.clone() }).await.unwrap();
    assert!(fixed.ok(true), "{fixed:?}");
    assert_eq!(fixed.fixed, 4);
    assert_eq!(m.get(SHADOW, &keys(99)).unwrap()[DELETED_ATTR], AttributeValue::Bool(true), "orphan tombstoned");
    assert!(verify(&m, &sanitizer, &vo).await.unwrap().ok(false));
}

#[tokio::test]
async fn quarantined_keys_are_listed_by_verify_and_healed_by_fix_and_backfill() {
    let m = tables(6);
    let sanitizer = Sanitizer::default_policy();
    run_all(&Backfill::new(&m, &sanitizer, opts(1)).await.unwrap()).await;
    let q = |i: usize, seq: &str| {
        ShadowWrite::quarantine(keys(i), Seq::parse(seq).unwrap(), "no_new_image", sanitizer.fingerprint())
    };
    for (i, seq) in [(1, "11"), (2, "12")] {
        m.put(SHADOW, &q(i, seq), Guard::Newer).await.unwrap();
    }
    // Item 3 can never be shadowed: quarantined, and still unsanitizable at the source.
    let mut huge = item(3);
    huge.insert(
        "log".into(),
        s(&"https://a:b@h/ lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".repeat(4000)),
    );
    m.insert(SRC, huge);
    m.put(SHADOW, &q(3, "13"), Guard::Newer).await.unwrap();
    let vo = verify_opts(1, false);
    let r = verify(&m, &sanitizer, &vo).await.unwrap();
    assert_eq!(r.drift.get("quarantined"), Some(&3), "{:?}", r.drift);
    assert_eq!(r.drifted["quarantined"].len(), 3);
    assert_eq!(r.drift.get("unsanitizable"), None, "a quarantined key is listed once");
    assert_eq!(r.leaking_items, 0, "markers hold no data");
    let fixed = verify(&m, &sanitizer, &VerifyOptions { fix: true, ..vo.clone() }).await.unwrap();
    assert_eq!(fixed.fixed, 2, "{fixed:?}");
    assert_eq!(fixed.fix_failed, 0);
    let again = verify(&m, &sanitizer, &vo).await.unwrap();
    assert_eq!(again.drift.get("quarantined"), Some(&1), "item 3 still cannot be shadowed: still listed");
    for i in [1, 2] {
        let got = m.get(SHADOW, &keys(i)).unwrap();
        assert!(!got.contains_key(QUARANTINE_ATTR) && got.contains_key("bio"), "key {i} healed");
        assert_eq!(got[SEQ_ATTR], s(Seq::parse(&format!("1{i}")).unwrap().as_str()), "its position is kept");
    }
    assert!(m.get(SHADOW, &keys(3)).unwrap().contains_key(QUARANTINE_ATTR), "the marker stays");
    // Backfill heals markers too, without --policy-changed.
    m.put(SHADOW, &q(4, "14"), Guard::Newer).await.unwrap();
    let bf = Backfill::new(&m, &sanitizer, opts(1)).await.unwrap();
    run_all(&bf).await;
    let sum = bf.counters.snapshot();
    assert_eq!(sum.quarantined, 2, "{sum:?}");
    assert_eq!(sum.resanitized, 2, "item 4 healed, item 3's marker rewritten");
    assert_eq!(sum.unsanitizable, 1);
    assert!(m.get(SHADOW, &keys(4)).unwrap().contains_key("bio"));
    let three = m.get(SHADOW, &keys(3)).unwrap();
    assert_eq!(three[QUARANTINE_ATTR], s("too_large"), "the marker now says why");
}

#[tokio::test]
async fn a_resanitize_that_cannot_be_written_leaves_a_marker_not_the_old_version() {
    // Sanitized under the old policy (which drops `log`), the item fits; under the new one
    // (which keeps it) it grows past 400 KB once its URL credentials are redacted.
    let m = tables(3);
    let mut huge = item(1);
    huge.insert(
        "log".into(),
        s(&"https://a:b@h/ lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".repeat(4000)),
    );
    m.insert(SRC, huge);
    let drops = Policy::parse("version = 1\n[[rule]]\npath = \"log\"\naction = \"drop\"\n", "old.toml").unwrap();
    let old = Sanitizer::build(&drops, &drops.default, None).unwrap();
    run_all(&Backfill::new(&m, &old, opts(1)).await.unwrap()).await;
    assert!(m.get(SHADOW, &keys(1)).unwrap().contains_key("bio"));
    let new = Sanitizer::default_policy();
    let bf = Backfill::new(&m, &new, Options { policy_changed: true, ..opts(1) }).await.unwrap();
    run_all(&bf).await;
    let got = m.get(SHADOW, &keys(1)).unwrap();
    assert_eq!(got[QUARANTINE_ATTR], s("too_large"));
    assert!(!got.contains_key("bio"), "the old policy's version is gone");
    assert_eq!(bf.counters.snapshot().unsanitizable, 1);
}

#[tokio::test]
async fn verify_fix_re_reads_the_source_before_tombstoning_an_orphan() {
    let m = tables(3);
    let sanitizer = Sanitizer::default_policy();
    run_all(&Backfill::new(&m, &sanitizer, opts(1)).await.unwrap()).await;
    let vo = verify_opts(1, true);
    // Item 1 looks like an orphan (the source scan missed it: written after the scan
    // passed it); item 2 is one (deleted at the source).
    m.scan_hidden.lock().unwrap().push((SRC.into(), dynamo_shadow_core::item::key_fingerprint(&keys(1))));
    m.remove(SRC, &keys(2));
    let r = verify(&m, &sanitizer, &vo).await.unwrap();
    assert_eq!(r.drift.get("orphan"), Some(&2));
    assert!(!m.get(SHADOW, &keys(1)).unwrap().contains_key(DELETED_ATTR), "re-read: it exists, not tombstoned");
    assert!(m.get(SHADOW, &keys(1)).unwrap().contains_key("bio"));
    assert_eq!(m.get(SHADOW, &keys(2)).unwrap()[DELETED_ATTR], AttributeValue::Bool(true));
}

fn record(seq: &str, pk: &str) -> StreamRecord {
    let k = Item::from([("pk".to_string(), s(pk)), ("sk".to_string(), s("PROFILE"))]);
    let mut img = k.clone();
    img.insert("bio".into(), s("mail z@example.com"));
    StreamRecord {
        event_id: Some(seq.into()),
        event_name: Some("INSERT".into()),
        event_version: Some("1.1".into()),
        aws_region: Some("us-east-1".into()),
        sequence_number: Some(seq.into()),
        size_bytes: Some(10),
        stream_view_type: Some("NEW_AND_OLD_IMAGES".into()),
        approximate_creation: Some(1.7e9),
        keys: Some(Ok(k)),
        new_image: Some(Ok(img)),
        old_image: None,
    }
}

#[tokio::test]
async fn redrive_reads_exactly_the_failed_range_back_from_the_shard() {
    let m = MemoryStore::default();
    let arn = "arn:aws:dynamodb:us-east-1:1:table/src/stream/2026-01-01T00:00:00.000";
    let seqs: Vec<String> = (1..=9).map(|i| format!("10000000000000000000{i}")).collect();
    m.push_records(arn, "shard-1", seqs.iter().map(|q| record(q, &format!("K{q}"))).collect());
    let msg = serde_json::json!({"DDBStreamBatchInfo": {"shardId": "shard-1", "startSequenceNumber": seqs[2],
        "endSequenceNumber": seqs[5], "batchSize": 4, "streamArn": arn}})
    .to_string();
    let batches = parse_messages(&msg).unwrap();
    let records = read_batch(&m, &batches[0]).await.unwrap();
    let got: Vec<&str> = records.iter().map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap()).collect();
    assert_eq!(got, &seqs[2..6]);
    assert_eq!(records[0]["eventSourceARN"], arn);
    assert_eq!(records[0]["dynamodb"]["NewImage"]["bio"]["S"], "mail z@example.com");
    // A range no longer in the stream.
    let gone = msg.replace(&seqs[2], "100000000000000000077");
    let e = read_batch(&m, &parse_messages(&gone).unwrap()[0]).await.unwrap_err();
    assert!(matches!(e, RedriveError::Trimmed { .. }), "{e}");
}

#[tokio::test]
async fn a_segment_stops_writing_at_its_deadline_mid_page_and_resumes_from_the_page() {
    let m = tables(60);
    let sanitizer = Sanitizer::default_policy();
    // One page holds every item; the write budget (20 items/s) cannot write it in 0.4 s.
    let o = Options { rate: Some(20.0), page_size: Some(100), ..opts(1) };
    let (mut cursor, mut runs, mut done) = (None, 0, false);
    while !done {
        runs += 1;
        assert!(runs < 20, "no progress");
        let bf = Backfill::new(&m, &sanitizer, o.clone()).await.unwrap();
        let t0 = std::time::Instant::now();
        let at = t0 + std::time::Duration::from_millis(400);
        let deadline = dynamo_shadow_ops::backfill::Deadline { pages: at, writes: at };
        let end = bf.run_segment(0, cursor.take(), Some(deadline), |_, _| {}).await.unwrap();
        assert!(t0.elapsed() < std::time::Duration::from_millis(700), "returned near its deadline: {:?}", t0.elapsed());
        (cursor, done) = (end.cursor, end.done);
    }
    assert!(runs >= 2, "the page was interrupted at least once ({runs} runs)");
    assert_eq!(m.len(SHADOW), 60, "every item written in the end");
}
