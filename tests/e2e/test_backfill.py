"""Backfill and verify against moto's server, as users run them: the `dynamo-shadow` CLI
(parallel Scan, checkpoints, conditional writes), racing the real stream function under the
Lambda Runtime Interface Emulator, and the backfill-segment event the Step Functions state
machine sends to the function."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
CLI = Path(os.environ.get("DYNAMO_SHADOW_CLI", ROOT / "target" / "debug" / "dynamo-shadow"))
S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": n}  # noqa: E731
SECRETS = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "carol.smith@example.net", "AKIAIOSFODNN7EXAMPLQ", "536-22-8714"]
META = ("_shadow_seq", "_shadow_policy", "_shadow_deleted", "_shadow_expires_at")


@pytest.fixture
def tables(aws):
    ddb, _ = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"bsrc-{name}", f"bshadow-{name}"
    arn = local_aws.create_tables(ddb, source, shadow)
    return source, shadow, arn


def env_for(endpoint: str) -> dict:
    return {**os.environ, **local_aws.CREDS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}


def run_cli(endpoint: str, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    p = subprocess.run([str(CLI), *args], env=env_for(endpoint), capture_output=True, text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, f"exit {p.returncode}: {p.stderr[-2000:]}"
    return p


def item(i: int, version: int = 0) -> dict:
    it = {"pk": S(f"USER#{i:05d}"), "sk": S("PROFILE"), "name": S(f"User {i}"), "version": N(str(version)),
          "plan": S(random.Random(i).choice(["free", "pro", "team"])), "score": N(f"{i}.{version}5")}
    if i % 3 == 0:
        it["api_key"] = S(SECRETS[0])
    if i % 4 == 0:
        it["bio"] = S(f"contact {SECRETS[1]} ssn {SECRETS[3]}")
    if i % 5 == 0:
        it["settings"] = {"M": {"aws": S(f"key {SECRETS[2]}"), "theme": S("dark"), "tags": {"SS": ["a", "b"]}}}
    return it


def put_many(ddb, table: str, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        reqs = [{"PutRequest": {"Item": it}} for it in items[start:start + 25]]
        ddb.batch_write_item(RequestItems={table: reqs})


def expected(endpoint: str, items: list[dict], *extra: str) -> dict:
    """What the shadow table must hold: the CLI's dry run of the current source items."""
    lines = "\n".join(json.dumps(local_aws._jsonable(i)) for i in items)
    out = subprocess.run([str(CLI), "sanitize", "--key", "pk", "--key", "sk", *extra], input=lines, capture_output=True,
                         text=True, env=env_for(endpoint), check=True).stdout
    want = {}
    for line in out.splitlines():
        d = json.loads(line)
        want[(d["pk"]["S"], d["sk"]["S"])] = d
    return want


def shadow_state(ddb, shadow: str) -> tuple[dict, set]:
    live, dead = {}, set()
    for it in local_aws.scan_all(ddb, shadow):
        k = (it["pk"]["S"], it["sk"]["S"])
        if it.get("_shadow_deleted") == {"BOOL": True}:
            dead.add(k)
        else:
            live[k] = {a: v for a, v in local_aws._jsonable(it).items() if a not in META}
    return live, dead


def normalize(d: dict) -> dict:
    # Sets compare as sets.
    def n(v):
        if isinstance(v, dict):
            return {k: (sorted(x) if k in ("SS", "NS", "BS") else n(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [n(x) for x in v]
        return v
    return {k: n(v) for k, v in d.items()}


def assert_shadow_matches(ddb, endpoint, source, shadow, deleted=frozenset()):
    src = local_aws.scan_all(ddb, source)
    want = expected(endpoint, src)
    live, dead = shadow_state(ddb, shadow)
    assert set(live) == set(want), f"{len(set(want) - set(live))} missing, {len(set(live) - set(want))} extra"
    bad = [k for k in want if normalize(live[k]) != normalize(want[k])]
    assert not bad, f"{len(bad)} items differ from sanitize(source), e.g. {bad[:3]}"
    assert set(deleted) <= dead, "deleted items stay tombstones"
    blob = json.dumps(list(live.values()))
    assert not [s for s in SECRETS if s in blob], "a planted secret reached the shadow table"


def test_backfill_several_segments_then_verify_clean(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(3000)])
    cp = tmp_path / "cp.json"
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "4",
                "--checkpoint", str(cp), "--json")
    summary = json.loads(p.stdout)["summary"]
    assert summary["scanned"] == 3000 and summary["written"] == 3000 and summary["unsanitizable"] == 0
    assert summary["segments_done"] == 4
    assert_shadow_matches(ddb, endpoint, source, shadow)
    assert oct(cp.stat().st_mode & 0o777) == "0o600", "the checkpoint holds key values: owner-only"
    state = json.loads(cp.read_text())
    assert all(s["done"] for s in state["segments"])
    # Every backfilled item carries the backfill sequence (below any stream sequence).
    seqs = {i["_shadow_seq"]["S"] for i in local_aws.scan_all(ddb, shadow)}
    assert seqs == {"0" * 40}

    # A second run is a no-op: the checkpoint says complete; with --restart, every item is current.
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "4",
                "--checkpoint", str(cp))
    assert "complete" in p.stderr
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "4",
                "--checkpoint", str(cp), "--restart", "--json")
    s = json.loads(p.stdout)["summary"]
    assert (s["written"], s["current"]) == (0, 3000)

    v = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--json")
    report = json.loads(v.stdout)
    assert report["ok"] is True and report["drift"] == {} and report["leaks"] == []
    assert (report["source_items"], report["shadow_items"]) == (3000, 3000)
    assert not [s for s in SECRETS if s in v.stdout + v.stderr]


def test_dry_run_writes_nothing(aws, endpoint, tables):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(120)])
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "2", "--dry-run",
                "--json")
    assert json.loads(p.stdout)["summary"]["written"] == 120
    assert local_aws.scan_all(ddb, shadow) == []


def test_exclusive_mode_uses_batches_of_25(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(260)])
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "1",
                "--exclusive", "--checkpoint", str(tmp_path / "cp.json"), "--json")
    s = json.loads(p.stdout)["summary"]
    assert s["written"] == 260
    # 260 items in one segment (one 1 MB page): 11 BatchWriteItem requests of at most 25.
    assert s["write_requests"] == 11
    assert_shadow_matches(ddb, endpoint, source, shadow)


def test_interrupted_backfill_resumes_where_it_stopped(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(2000)])
    cp = tmp_path / "cp.json"
    args = ["backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "4", "--page-size", "50",
            "--rate", "400", "--checkpoint", str(cp)]
    proc = subprocess.Popen([str(CLI), *args], env=env_for(endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (cp.exists() and sum(s["scanned"] for s in json.loads(cp.read_text())["segments"]) >= 400):
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    state = json.loads(cp.read_text())
    before = sum(s["scanned"] for s in state["segments"])
    assert 400 <= before < 2000 and not all(s["done"] for s in state["segments"])
    written_before = len(local_aws.scan_all(ddb, shadow))
    assert written_before >= before, "a checkpoint never runs ahead of the writes"

    p = run_cli(endpoint, *args[:-4], "--checkpoint", str(cp), "--json")
    assert "resuming" in p.stderr
    s = json.loads(p.stdout)["summary"]
    # It continued from the checkpoints: only the pages after them were scanned again.
    assert s["scanned"] == 2000 - before, (s["scanned"], before)
    assert all(x["done"] for x in json.loads(cp.read_text())["segments"])
    assert_shadow_matches(ddb, endpoint, source, shadow)


def test_backfill_racing_the_stream_converges(aws, endpoint, tables, tmp_path):
    """Writes, updates and deletes hit the source while the backfill runs and the real stream
    function applies the stream: the end state is sanitize(current source), deletes stay deleted."""
    ddb, streams = aws
    source, shadow, arn = tables
    n = 1500
    put_many(ddb, source, [item(i) for i in range(n)])
    # The stream function starts after the initial load (as when a stream is enabled on an
    # existing table): only the changes below reach it.
    start_records = len(local_aws.read_stream(streams, arn, source))
    rng = random.Random(7)
    deleted: set = set()
    stop = threading.Event()

    existing = {f"USER#{i:05d}" for i in range(n)}

    def churn():
        v = 1
        while not stop.is_set():
            i = rng.randrange(n + 200)
            k = {"pk": S(f"USER#{i:05d}"), "sk": S("PROFILE")}
            if rng.random() < 0.3:
                ddb.delete_item(TableName=source, Key=k)
                # Deleting an item that does not exist leaves no stream record.
                if k["pk"]["S"] in existing:
                    deleted.add((k["pk"]["S"], "PROFILE"))
                existing.discard(k["pk"]["S"])
            else:
                ddb.put_item(TableName=source, Item=item(i, v))
                deleted.discard((k["pk"]["S"], "PROFILE"))
                existing.add(k["pk"]["S"])
            v += 1

    t = threading.Thread(target=churn)
    t.start()
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        proc = subprocess.Popen([str(CLI), "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "3",
                                 "--page-size", "100", "--checkpoint", str(tmp_path / "cp.json")],
                                env=env_for(endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        delivered = start_records
        # Deliver the stream in batches while the backfill runs, then drain it.
        while True:
            running = proc.poll() is None
            records = local_aws.read_stream(streams, arn, source)[delivered:]
            for b in range(0, len(records), 100):
                status, resp = emu.invoke(local_aws.event(records[b:b + 100]))
                assert (status, resp) == (200, {"batchItemFailures": []}), resp
            delivered += len(records)
            if not running:
                break
            if delivered - start_records > 600:
                stop.set()
            time.sleep(0.2)
        stop.set()
        t.join()
        out, err = proc.communicate()
        assert proc.returncode == 0, err[-2000:]
        records = local_aws.read_stream(streams, arn, source)[delivered:]
        for b in range(0, len(records), 100):
            status, resp = emu.invoke(local_aws.event(records[b:b + 100]))
            assert (status, resp) == (200, {"batchItemFailures": []})
        delivered += len(records)
    assert delivered - start_records > 100, "the race had stream traffic"
    assert deleted, "the race deleted items"
    assert_shadow_matches(ddb, endpoint, source, shadow, deleted=deleted)
    v = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--json")
    assert json.loads(v.stdout)["ok"] is True


def test_verify_finds_each_kind_of_drift_and_a_planted_leak_then_fix_clears_them(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(40)])
    run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "2",
            "--checkpoint", str(tmp_path / "cp.json"))
    key = lambda i: {"pk": S(f"USER#{i:05d}"), "sk": S("PROFILE")}  # noqa: E731
    seq = "0" * 40
    # missing: deleted from the shadow table behind our back.
    ddb.delete_item(TableName=shadow, Key=key(1))
    # orphan: in the shadow table, not in the source.
    ddb.put_item(TableName=shadow, Item={**key(900), "name": S("ghost"), "_shadow_seq": S(seq), "_shadow_policy": S("x" * 16)})
    # behind: the source changed and the stream never delivered it.
    ddb.put_item(TableName=source, Item={**item(2), "name": S("Renamed")})
    # old policy: written under another fingerprint.
    ddb.update_item(TableName=shadow, Key=key(3), UpdateExpression="SET #p = :p",
                    ExpressionAttributeNames={"#p": "_shadow_policy"}, ExpressionAttributeValues={":p": S("0123456789abcdef")})
    # bad metadata: a sequence that is not 40 digits.
    ddb.update_item(TableName=shadow, Key=key(5), UpdateExpression="SET #s = :s",
                    ExpressionAttributeNames={"#s": "_shadow_seq"}, ExpressionAttributeValues={":s": S("12")})
    # planted leaks: a secret value, a sensitive attribute name, an email map key.
    ddb.update_item(TableName=shadow, Key=key(7), UpdateExpression="SET #n = :v, #t = :t, #m = :m",
                    ExpressionAttributeNames={"#n": "note", "#t": "session_token", "#m": "contacts"},
                    ExpressionAttributeValues={":v": S(f"reach me at {SECRETS[1]}"), ":t": S("opaque"),
                                               ":m": {"M": {SECRETS[1]: S("primary")}}})

    p = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--json", check=False)
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    assert r["ok"] is False
    assert r["drift"] == {"missing": 1, "orphan": 1, "behind": 2, "old_policy": 1, "bad_metadata": 1}, r["drift"]
    assert r["drifted"]["missing"] == [json.dumps({"pk": key(1)["pk"], "sk": key(1)["sk"]}, separators=(",", ":"))]
    leaks = {(l["path"], l["rule"]) for l in r["leaks"]}
    assert ("note", "pii.email") in leaks and ("session_token", "name:token") in leaks, leaks
    assert any(path.startswith("contacts.") and rule == "pii.email" for path, rule in leaks), leaks
    assert r["leaking_items"] == 1
    # Findings name keys, paths and rules: never the values.
    assert not [s for s in SECRETS if s in p.stdout + p.stderr]

    human = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, check=False)
    assert human.returncode == 1 and "missing: 1" in human.stdout and "pii.email" in human.stdout
    assert not [s for s in SECRETS if s in human.stdout + human.stderr]

    f = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--fix", "--json")
    fixed = json.loads(f.stdout)
    assert fixed["ok"] is True and fixed["fixed"] == 6 and fixed["fix_failed"] == 0, fixed
    after = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--json")
    clean = json.loads(after.stdout)
    assert clean["ok"] is True and clean["drift"] == {} and clean["leaks"] == []
    live, dead = shadow_state(ddb, shadow)
    assert ("USER#00900", "PROFILE") in dead, "the orphan became a tombstone"
    assert_shadow_matches(ddb, endpoint, source, shadow)


def test_policy_change_resanitizes_only_old_items(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(200)])
    run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--checkpoint", str(tmp_path / "a.json"))
    policy = tmp_path / "policy.toml"
    policy.write_text('version = 1\n\n[[rule]]\npath = "plan"\naction = "redact"\n')
    v = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--policy", str(policy), "--json",
                check=False)
    assert json.loads(v.stdout)["drift"] == {"old_policy": 200}
    # Without --policy-changed the items are left alone and counted.
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--policy", str(policy),
                "--checkpoint", str(tmp_path / "b.json"), "--json")
    s = json.loads(p.stdout)["summary"]
    assert (s["written"], s["old_policy"]) == (0, 200)
    p = run_cli(endpoint, "backfill", "--source-table", source, "--shadow-table", shadow, "--policy", str(policy),
                "--policy-changed", "--checkpoint", str(tmp_path / "c.json"), "--json")
    s = json.loads(p.stdout)["summary"]
    assert (s["written"], s["resanitized"]) == (200, 200)
    live, _ = shadow_state(ddb, shadow)
    assert all(v["plan"] == S("[REDACTED:PLAN]") for v in live.values())
    v = run_cli(endpoint, "verify", "--source-table", source, "--shadow-table", shadow, "--policy", str(policy), "--json")
    assert json.loads(v.stdout)["ok"] is True


def test_backfill_segment_event_under_the_emulator(aws, endpoint, tables, tmp_path):
    """The event the Step Functions Map state sends to the backfill function: one segment per
    invocation, a cursor carried from one invocation to the next until the segment is done.
    The stream function refuses it: it has no Scan path (and no right to read the source)."""
    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(300)])
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log", local_aws.backfill_binary()) as emu:
        total = 0
        for seg in range(2):
            req = {"backfill": {"sourceTable": source, "segment": seg, "totalSegments": 2}}
            status, resp = emu.invoke(req)
            assert status == 200, resp
            assert resp["done"] is True and resp["cursor"] is None and resp["shadowTable"] == shadow
            total += resp["summary"]["scanned"]
        assert total == 300
        status, resp = emu.invoke({"backfill": {"sourceTable": source, "shadowTable": "other", "segment": 0, "totalSegments": 2}})
        assert "errorMessage" in json.dumps(resp) and "other" in json.dumps(resp)
        status, resp = emu.invoke({"backfill": {"sourceTable": source, "segment": 2, "totalSegments": 2}})
        assert "out of range" in json.dumps(resp)
        status, resp = emu.invoke({"Records": []})
        assert "errorMessage" in json.dumps(resp) and "segment request" in json.dumps(resp)
        logs = emu.logs()
    with local_aws.Emulator(env, tmp_path / "rie-stream.log") as stream_fn:
        status, resp = stream_fn.invoke({"backfill": {"sourceTable": source, "segment": 0, "totalSegments": 2}})
        assert "errorMessage" in json.dumps(resp) and "shadow-backfill" in json.dumps(resp)
        logs += stream_fn.logs()
    assert_shadow_matches(ddb, endpoint, source, shadow)
    assert not [s for s in SECRETS if s in logs]


def test_backfill_through_throttling_and_partial_batches(aws, endpoint, tables, tmp_path):
    """Through our fault proxy: throttled and failing Scan, BatchGetItem and PutItem calls are
    retried with backoff; BatchWriteItem answers with UnprocessedItems (half of each request
    is applied), which are retried until written."""
    import fault_proxy

    ddb, _ = aws
    source, shadow, _ = tables
    put_many(ddb, source, [item(i) for i in range(300)])
    targets = tuple(f"DynamoDB_20120810.{op}" for op in ("Scan", "BatchGetItem", "PutItem"))
    with fault_proxy.FaultProxy(endpoint, seed=3, rates={"throttle": 0.15, "throttling": 0.05, "http500": 0.05},
                                targets=targets) as proxy:
        p = run_cli(proxy.url, "backfill", "--source-table", source, "--shadow-table", shadow, "--segments", "2",
                    "--page-size", "60", "--checkpoint", str(tmp_path / "a.json"), "--json")
        faults = proxy.counts()["faults"]
    assert json.loads(p.stdout)["summary"]["written"] == 300
    assert sum(faults.values()) >= 20, faults
    assert_shadow_matches(ddb, endpoint, source, shadow)

    shadow2 = f"{shadow}-x"
    local_aws.create_tables(ddb, f"{source}-unused", shadow2)
    with fault_proxy.FaultProxy(endpoint, seed=4, rates={"unprocessed": 0.6, "throttle": 0.1},
                                targets=("DynamoDB_20120810.BatchWriteItem",)) as proxy:
        p = run_cli(proxy.url, "backfill", "--source-table", source, "--shadow-table", shadow2, "--segments", "1",
                    "--exclusive", "--checkpoint", str(tmp_path / "b.json"), "--json")
        faults = proxy.counts()["faults"]
    s = json.loads(p.stdout)["summary"]
    assert s["written"] == 300 and faults.get("unprocessed", 0) >= 5, (s, faults)
    assert s["write_requests"] > 12, "unprocessed items were sent again"
    assert_shadow_matches(ddb, endpoint, source, shadow2)


def test_a_checkpoint_is_for_one_table_identity_and_stays_owner_only(aws, endpoint, tmp_path):
    """A checkpoint records the tables' identity: after the source table is re-created under
    the same name, a complete checkpoint is refused (never taken as "complete"); and the
    checkpoint is owner-only even when a readable temp file was there before."""
    ddb, _ = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"bsrc-{name}", f"bshadow-{name}"
    local_aws.create_tables(ddb, source, shadow)
    put_many(ddb, source, [item(i) for i in range(50)])
    cpdir = tmp_path / "cps"
    cp = cpdir / "cp.json"
    cpdir.mkdir(mode=0o755)
    stale_tmp = cp.with_suffix(".tmp")
    stale_tmp.write_text("{}")
    stale_tmp.chmod(0o644)
    args = ("backfill", "--source-table", source, "--shadow-table", shadow, "--checkpoint", str(cp))
    run_cli(endpoint, *args)
    assert oct(cp.stat().st_mode & 0o777) == "0o600", "owner-only, whatever the temp file's mode was"
    state = json.loads(cp.read_text())
    assert state["identity"]["source_arn"].endswith(f"table/{source}") and state["identity"]["endpoint"] == endpoint
    assert "complete" in run_cli(endpoint, *args).stderr
    # The source table deleted and re-created with the same name and other items.
    ddb.delete_table(TableName=source)
    time.sleep(1.1)
    local_aws.create_tables(ddb, source, f"unused-{name}")
    put_many(ddb, source, [item(i) for i in range(100, 120)])
    p = run_cli(endpoint, *args, check=False)
    assert p.returncode == 2, p.stderr
    assert "another table of the same name" in p.stderr and "--restart" in p.stderr
    p = run_cli(endpoint, *args, "--restart", "--json")
    assert json.loads(p.stdout)["summary"]["written"] == 20


def test_verify_fix_keeps_the_functions_tombstone_ttl_bounds(endpoint):
    for hours in ("1", "47", "8761"):
        p = run_cli(endpoint, "verify", "--source-table", "s", "--shadow-table", "t", "--fix",
                    "--tombstone-ttl-hours", hours, check=False)
        assert p.returncode == 2 and "48..=8760" in p.stderr, (hours, p.stderr)
