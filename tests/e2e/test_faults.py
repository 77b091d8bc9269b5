"""Faults, hostile input and leaks against the real parts: the real shadow-lambda binary under
the Lambda Runtime Interface Emulator, moto's DynamoDB server (source stream and shadow
table), and our fault-injecting proxy (tests/harness/fault_proxy.py) between the function and
moto, returning throttling errors, 500/503, late answers and connection resets (before the
request is forwarded, and after it: the write landed but its answer is lost).

Run through `make test`, or alone:
    .venv/bin/python tests/harness/local_aws.py .venv/bin/pytest -q tests/e2e/test_faults.py

The model test's seeds also tokenize keys, split a shard, re-create the table (a new stream),
change the policy mid-stream, run a backfill beside the stream and `verify --fix` while it
lags, send batches to the DLQ when retries run out, and expire tombstones.
DYNAMO_SHADOW_FAULT_SEEDS (seeds per model configuration, default 8) and
DYNAMO_SHADOW_FAULT_SEED (the first seed) steer the model test; a failure names its seed.
The figures (records, faults by kind, divergences, time and peak memory on hostile input)
are printed at the end of the run and written to .work/fault-figures.json."""

from __future__ import annotations

import base64
import gzip
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import fault_proxy  # noqa: E402
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
CLI = Path(os.environ.get("DYNAMO_SHADOW_CLI", ROOT / "target" / "debug" / "dynamo-shadow"))
SEEDS = int(os.environ.get("DYNAMO_SHADOW_FAULT_SEEDS", "8"))
BASE_SEED = int(os.environ.get("DYNAMO_SHADOW_FAULT_SEED", "20261125"))
S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": n}  # noqa: E731
META = ("_shadow_seq", "_shadow_policy", "_shadow_deleted", "_shadow_expires_at")
FIGURES: dict[str, object] = {}

# Planted in the model's items where the default policy removes them (by attribute name or by
# a detector in free text); none may reach the shadow table.
EMAILS = ["alice.jones@example.com", "bob.smith@example.org"]
CARDS = ["4929 1308 7752 6389", "5413 7730 2951 8802"]
STRIPE = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_51HxYz2eZvKYlo2C9wQeRtY7uI8oP0aSdF"]
GITHUB = "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"
PLANTED = EMAILS + CARDS + STRIPE + [GITHUB, "536-22-8714", "S3cr3tPa55w0rd"]


@pytest.fixture(scope="module", autouse=True)
def figures(request):
    """Prints the measured figures after the module, whatever the outcome."""
    yield FIGURES
    if not FIGURES:
        return
    lines = ["", "test_faults figures:"] + [f"  {k}: {json.dumps(v, sort_keys=True)}" for k, v in FIGURES.items()]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print("\n".join(lines), flush=True)
    out = ROOT / ".work" / "fault-figures.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(FIGURES, indent=1, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def aws(endpoint):
    for binary in (local_aws.lambda_binary(), CLI):
        if not Path(binary).exists():
            pytest.fail(f"{binary} is missing: run `cargo build --bins` first")
    return local_aws.clients(endpoint)


@pytest.fixture(scope="module")
def proxy(endpoint):
    with fault_proxy.FaultProxy(endpoint, delay=1.0) as p:
        yield p


def new_tables(ddb, shadow: str | None = None) -> tuple[str, str, str]:
    """A fresh source table with a stream, and the shadow table (recreated empty if named)."""
    name = uuid.uuid4().hex[:8]
    source = f"src-{name}"
    shadow = shadow or f"shadow-{name}"
    if shadow in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=shadow)
    arn = local_aws.create_tables(ddb, source, shadow)
    return source, shadow, arn


def sanitize_lines(items: list[dict], policy: ModelPolicy | None = None) -> list[str]:
    """The CLI's sanitized image of each item (what the function writes, minus metadata),
    under the default policy or `policy`."""
    if not items:
        return []
    text = "".join(json.dumps(i) + "\n" for i in items)
    args = ["--policy", str(policy.path)] if policy else []
    r = subprocess.run([str(CLI), "sanitize", "--key", "pk", "--key", "sk", *args], input=text, capture_output=True,
                       text=True, timeout=120, env={**os.environ, **(policy.env if policy else {})})
    assert r.returncode == 0, f"dynamo-shadow sanitize failed: {r.stderr[:500]}"
    out = r.stdout.splitlines()
    assert len(out) == len(items)
    return out


def norm(v):
    """A comparable form of a DynamoDB JSON value (boto3's or the CLI's): base64 for binary,
    sets sorted."""
    if isinstance(v, dict) and len(v) == 1:
        (t, x), = v.items()
        if t == "B":
            return {"B": x if isinstance(x, str) else base64.b64encode(bytes(x)).decode()}
        if t == "BS":
            return {"BS": sorted(e if isinstance(e, str) else base64.b64encode(bytes(e)).decode() for e in x)}
        if t in ("SS", "NS"):
            return {t: sorted(x)}
        if t == "M":
            return {"M": {k: norm(e) for k, e in x.items()}}
        if t == "L":
            return {"L": [norm(e) for e in x]}
        return v
    raise AssertionError(f"not a typed value: {type(v)}")


def content(item: dict) -> dict:
    return {k: norm(v) for k, v in item.items() if k not in META}


def key_of(item: dict) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def shadow_items(ddb, shadow: str) -> dict:
    return {key_of(i): i for i in local_aws.scan_all(ddb, shadow)}


def pad(seq: str) -> str:
    return seq.rjust(40, "0")


def position(r: dict) -> str:
    """The `_shadow_seq` the function stores for a record: its stream's label (the end of
    eventSourceARN), then the sequence number padded to 40 digits."""
    arn = r.get("eventSourceARN") or ""
    label = arn.rsplit("/stream/", 1)[1] + "/" if "/stream/" in arn else ""
    return label + pad(r["dynamodb"]["SequenceNumber"])


def is_function_error(status: int, resp) -> bool:
    return status != 200 or not isinstance(resp, dict) or "batchItemFailures" not in resp or "errorType" in resp


# ---------------------------------------------------------------------------------------
# The model test: random histories, delivered with Lambda's semantics through faults.
# ---------------------------------------------------------------------------------------

FIRST = ["Alice", "Bob", "Chen", "Dana", "Eve"]
# 368 KB that DynamoDB accepts and that grows past 400 KB when its URL credentials are
# redacted (one every 92 bytes: denser text would exceed the matcher's work budget and be
# redacted whole instead).
POISON_LOG = "https://a:b@h/ lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 4000
QUARANTINED = {"quarantined": True}  # the expected content of a record that can never be shadowed
BACKFILL_SEQ = "0" * 40  # the position a backfilled (or verify-written) item carries
MODEL_TOKEN_KEY = "model-e2e-key-0123456789abcdef0123456789"
# The seed's policy: the default rules, with the partition key tokenized for half of the seeds
# (their keys hold an email: a finding in a key, which only a tokenize rule lets through).
MODEL_POLICIES = {
    False: "version = 1\n",
    True: 'version = 1\nkeys = ["pk", "sk"]\n[[rule]]\npath = "pk"\naction = "tokenize"\n'
          '[[rule]]\npath = "sk"\naction = "keep"\n',
}
# What a policy change mid-stream adds.
MODEL_CHANGE = '[[rule]]\npath = "tags"\naction = "drop"\n'


class ModelPolicy:
    """A policy file, its fingerprint (what `_shadow_policy` names) and the environment that
    gives the function and the CLI its tokenization key."""

    def __init__(self, path: Path, text: str):
        path.write_text(text)
        self.path, self.text = path, text
        self.env = {"SHADOW_TOKEN_KEY": MODEL_TOKEN_KEY} if "tokenize" in text else {}
        r = subprocess.run([str(CLI), "check", str(path)], capture_output=True, text=True, timeout=60,
                           env={**os.environ, **self.env})
        assert r.returncode == 0, f"dynamo-shadow check refused the model's policy: {r.stderr[:500]}"
        # What the items carry: with a tokenization key, the policy's fingerprint combined
        # with the key's id.
        self.fingerprint = re.search(r"(?:carry|^ok: .* \(fingerprint) (\w+)\)", r.stdout).group(1)

    def function_env(self) -> dict:
        return {"SHADOW_POLICY": self.text, **self.env}

    def cli(self, endpoint: str, *args: str, timeout: float = 300) -> subprocess.Popen:
        """The CLI against `endpoint` under this policy, started (not waited for)."""
        env = {**os.environ, **local_aws.CREDS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, **self.env}
        return subprocess.Popen([str(CLI), *args, "--policy", str(self.path)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def is_poison(image: dict) -> bool:
    return image.get("log", {}).get("S") == POISON_LOG


def expected_contents(images: list[dict], policy: ModelPolicy | None = None) -> list[dict]:
    """What the shadow item holds for each image: the CLI's sanitized image, or QUARANTINED."""
    lines = iter(sanitize_lines([i for i in images if not is_poison(i)], policy))
    return [QUARANTINED if is_poison(i) else content(json.loads(next(lines))) for i in images]


def matches(item: dict, expected: dict) -> bool:
    if expected is QUARANTINED:
        return set(content(item)) == {"pk", "sk", "_shadow_quarantined"}
    return "_shadow_deleted" not in item and "_shadow_quarantined" not in item and content(item) == expected


def random_item(rng: random.Random, pk: str, version: int) -> dict:
    item = {"pk": S(pk), "sk": S("v"), "name": S(rng.choice(FIRST)), "version": N(str(version))}
    if rng.random() < 0.6:
        item["api_key"] = S(rng.choice(STRIPE))
    if rng.random() < 0.6:
        item["bio"] = S(f"mail {rng.choice(EMAILS)} about ticket {rng.randint(1, 99)}")
    if rng.random() < 0.5:
        item["session_token"] = S(uuid.uuid4().hex)
    if rng.random() < 0.5:
        item["notes"] = S(f"card {rng.choice(CARDS)} charged twice; SSN 536-22-8714; push {GITHUB}")
    if rng.random() < 0.4:
        item["tags"] = {"SS": rng.sample(["a", "b", "beta", "admin", "x"], rng.randint(1, 3))}
    if rng.random() < 0.4:
        item["prefs"] = {"M": {"theme": S(rng.choice(["dark", "light"])), "password": S("S3cr3tPa55w0rd"),
                               "langs": {"L": [S("en"), S("de")]}, "on": {"BOOL": rng.random() < 0.5}}}
    if rng.random() < 0.3:
        item["big"] = N(str(rng.randrange(10**37, 10**38)))
    if rng.random() < 0.2:
        item["blob"] = {"B": rng.choice([b"\x89PNG\r\n\x1a\n\x00", f"reply to {EMAILS[0]}".encode()])}
    return item


def run_history(ddb, streams, source: str, arn: str, rng: random.Random, keys: list[str], n_ops: int,
                recreate_at: int | None = None) -> tuple[list[list[dict]], str]:
    """Random puts, updates and deletes on the source table (moto writes the stream). At op
    `recreate_at` the table is deleted and re-created with its items restored (a new stream,
    whose sequence numbers restart below the old one's). Returns each stream's records, oldest
    stream first, and the current stream's ARN."""
    out = []
    for v in range(n_ops):
        if v == recreate_at:
            out.append(local_aws.read_stream(streams, arn, source))
            items = local_aws.scan_all(ddb, source)
            ddb.delete_table(TableName=source)
            time.sleep(1.1)  # stream labels are timestamps
            arn = local_aws.create_source(ddb, source)
            for item in items:  # the restore (written on the new stream here)
                ddb.put_item(TableName=source, Item=item)
        pk = rng.choice(keys)
        key = {"pk": S(pk), "sk": S("v")}
        op = rng.random()
        if op < 0.35:
            ddb.put_item(TableName=source, Item=random_item(rng, pk, v))
        elif op < 0.50:
            # Only a dropped attribute changes: a MODIFY whose sanitized image is unchanged.
            ddb.update_item(TableName=source, Key=key, UpdateExpression="SET session_token = :t",
                            ExpressionAttributeValues={":t": S(uuid.uuid4().hex)})
        elif op < 0.65:
            ddb.update_item(TableName=source, Key=key, UpdateExpression="SET #n = :n, version = :v",
                            ExpressionAttributeNames={"#n": "name"},
                            ExpressionAttributeValues={":n": S(rng.choice(FIRST)), ":v": N(str(v))})
        elif op < 0.72:
            ddb.update_item(TableName=source, Key=key, UpdateExpression="REMOVE tags, bio")
        elif op < 0.78:
            ddb.update_item(TableName=source, Key=key, UpdateExpression="SET bio = :b",
                            ExpressionAttributeValues={":b": S(f"new mail {rng.choice(EMAILS)}")})
        elif op < 0.80:
            # A poison version: accepted by DynamoDB, never writable once redacted.
            ddb.put_item(TableName=source, Item={"pk": S(pk), "sk": S("v"), "log": S(POISON_LOG)})
        else:
            ddb.delete_item(TableName=source, Key=key)
    out.append(local_aws.read_stream(streams, arn, source))
    return out, arn


class Model:
    """One seed: the stream, what each record must leave in the shadow table under each of the
    seed's policies, and the checks run after every delivery."""

    def __init__(self, ddb, shadow: str, records: list[dict], seed: int, policies: list[ModelPolicy],
                 final: list[dict]):
        self.ddb, self.shadow, self.records, self.seed = ddb, shadow, records, seed
        self.policies = {p.fingerprint: p for p in policies}
        images = []
        for r in records:
            d = r["dynamodb"]
            images.append(d.get("NewImage") or d["Keys"])
            images.append(d.get("OldImage") or d["Keys"])
        expected = {fp: expected_contents(images, p) for fp, p in self.policies.items()}
        # The shadow key of each source key: a token where the policy tokenizes it (the same
        # under every policy of the seed).
        raw = sorted({key_of(r["dynamodb"]["Keys"]) for r in records})
        shadow_keys = [sanitize_lines([{"pk": S(pk), "sk": S(sk)} for pk, sk in raw], p) for p in policies]
        assert all(s == shadow_keys[0] for s in shadow_keys), "a policy change moved the shadow keys"
        self.skey = {k: key_of(json.loads(line)) for k, line in zip(raw, shadow_keys[0])}
        # The final source state (the stream lags behind it), by shadow key and fingerprint.
        final_expected = {fp: expected_contents(final, p) for fp, p in self.policies.items()}
        self.final = {self.skey[key_of(item)]: {fp: final_expected[fp][i] for fp in self.policies}
                      for i, item in enumerate(final)}
        self.by_seq: dict[str, tuple[dict, dict]] = {}  # position -> (record, {fingerprint: content})
        self.changing: dict[str, dict[str, bool]] = {}
        self.poisoned = sum(is_poison(r["dynamodb"].get("NewImage", {})) for r in records)
        for i, r in enumerate(records):
            seq = position(r)
            new = {fp: e[2 * i] for fp, e in expected.items()}
            old = {fp: e[2 * i + 1] for fp, e in expected.items()}
            self.by_seq[seq] = (r, new)
            # The function skips a MODIFY whose sanitized image equals its sanitized old image
            # (an image that cannot be sanitized never equals anything).
            modify = r["eventName"] == "MODIFY" and "OldImage" in r["dynamodb"]
            self.changing[seq] = {fp: not (modify and new[fp] == old[fp] and new[fp] is not QUARANTINED)
                                  for fp in self.policies}
        self.ok_max: dict[tuple, str] = {}  # key -> highest position reported successful
        self.ok_under: dict[str, set] = {}  # position -> fingerprints of the policies that reported it done
        self.in_dlq: set = set()  # keys with records in the dead-letter queue (not yet redriven)
        self.repaired: dict[tuple, dict] = {}  # shadow items as `verify --fix` left them
        self.divergences: list[str] = []
        # Keys whose newest successful record is an unchanged MODIFY the function skipped, so
        # the shadow item keeps an older _shadow_seq (by design: README, "Fewer writes").
        self.behind_by_design = 0

    def key(self, r) -> tuple[str, str]:
        return self.skey[key_of(r["dynamodb"]["Keys"])]

    def changes(self, seq: str) -> bool:
        """Whether the record changed the shadow item under a policy that reported it done."""
        return any(self.changing[seq][fp] for fp in self.ok_under.get(seq) or self.policies)

    def required(self, key, upto: str) -> str | None:
        """The newest content-changing record of `key` at or before `upto`."""
        best = None
        for seq, (r, _) in self.by_seq.items():
            if self.key(r) == key and seq <= upto and self.changes(seq) and (best is None or seq > best):
                best = seq
        return best

    def note_ok(self, records: list[dict], fingerprint: str) -> None:
        for r in records:
            k, seq = self.key(r), position(r)
            self.ok_under.setdefault(seq, set()).add(fingerprint)
            if seq > self.ok_max.get(k, ""):
                self.ok_max[k] = seq

    def check(self, when: str) -> None:
        """No record reported successful without being applied; every shadow item is exactly
        the sanitized image (or tombstone) of the record whose position it carries, under the
        policy whose fingerprint it carries; a backfilled item is the sanitized source item."""
        items = shadow_items(self.ddb, self.shadow)
        for k, item in items.items():
            if self.repaired.get(k) == item:
                continue  # untouched since verify --fix wrote it (checked there)
            seq = item.get("_shadow_seq", {}).get("S", "")
            fp = item.get("_shadow_policy", {}).get("S", "")
            if seq == BACKFILL_SEQ:
                if k not in self.final or fp not in self.policies or not matches(item, self.final[k][fp]):
                    self.divergences.append(f"{when}: a backfilled item differs from the sanitized source item")
                continue
            if seq not in self.by_seq:
                self.divergences.append(f"{when}: shadow item carries unknown _shadow_seq {seq!r}")
                continue
            r, expected = self.by_seq[seq]
            if self.key(r) != k:
                self.divergences.append(f"{when}: shadow item's seq {seq} belongs to another key")
            elif r["eventName"] == "REMOVE":
                if item.get("_shadow_deleted") != {"BOOL": True} or set(content(item)) != {"pk", "sk"}:
                    self.divergences.append(f"{when}: seq {seq} is a REMOVE but the shadow item is not a bare tombstone")
            elif fp not in expected:
                self.divergences.append(f"{when}: shadow item at seq {seq} names an unknown policy {fp!r}")
            elif not matches(item, expected[fp]):
                self.divergences.append(f"{when}: shadow content at seq {seq} differs from the sanitized image (or marker)")
        for k, upto in self.ok_max.items():
            if k in self.in_dlq or (k in self.repaired and self.repaired[k] == items.get(k)):
                # Behind until the DLQ is redriven; or holding the source's current state
                # under the position verify kept.
                continue
            need = self.required(k, upto)
            have = items.get(k, {}).get("_shadow_seq", {}).get("S", "")
            if have < upto and (not need or have >= need):
                self.behind_by_design += 1
            if need and have < need:
                self.divergences.append(
                    f"{when}: records up to seq {upto} of a key were reported successful, "
                    f"but the shadow holds seq {have or 'nothing'} < {need}")

    def note_verify(self, before: dict, after: dict, fingerprint: str) -> int:
        """What one `verify --fix` changed: each repaired item is the source's current state
        under the policy verify ran with, at the position the shadow item held (the sequence
        guard's, or a backfill's where there was none). Returns the number repaired."""
        repaired = 0
        for k in set(before) | set(after):
            if before.get(k) == after.get(k):
                continue
            got = after.get(k)
            if got is None:
                self.divergences.append("verify --fix removed a shadow item")
                continue
            if k in self.final:
                ok = got.get("_shadow_policy", {}).get("S") == fingerprint and matches(got, self.final[k][fingerprint])
            else:  # deleted in the source: a tombstone
                ok = got.get("_shadow_deleted") == {"BOOL": True} and set(content(got)) == {"pk", "sk"}
            held = before[k]["_shadow_seq"]["S"] if k in before else BACKFILL_SEQ
            if not ok:
                self.divergences.append("verify --fix repaired an item wrong")
            elif got.get("_shadow_seq", {}).get("S") != held:
                self.divergences.append("verify --fix moved an item's position")
            else:
                self.repaired[k] = got
                repaired += 1
        return repaired


class Lambda:
    """Delivers a stream to the function the way an event source mapping does:
    ReportBatchItemFailures (retry from the lowest failed sequence number),
    BisectBatchOnFunctionError, MaximumRetryAttempts (then the batch's coordinates go to the
    DLQ and the shard moves on), whole-batch duplicates and redrives of old batches; a parent
    shard before its children, the children interleaved, an old stream before a new one."""

    def __init__(self, emu, model: Model, rng: random.Random, stats: dict, timeout: float, max_retries: int,
                 fingerprint: str):
        self.emu, self.model, self.rng, self.stats, self.timeout = emu, model, rng, stats, timeout
        self.max_retries, self.fingerprint = max_retries, fingerprint
        self.dlq: list[list[dict]] = []
        self.done: list[list[dict]] = []
        self.deliveries = 0

    def invoke(self, batch: list[dict], why: str) -> set | None:
        """One invocation; the failed sequence numbers, or None on a function error."""
        self.stats["invocations"] += 1
        self.stats["records_delivered"] += len(batch)
        status, resp = self.emu.invoke(local_aws.event(batch), timeout=self.timeout)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in batch]
        if is_function_error(status, resp):
            self.stats["function_errors"] += 1
            self.model.check(f"after a function error ({why})")
            return None
        failed = {f.get("itemIdentifier") for f in resp["batchItemFailures"]}
        if not failed <= set(seqs):
            self.model.divergences.append(f"{why}: batchItemFailures names records not in the batch")
        self.stats["records_failed"] += len(failed)
        self.model.note_ok([r for r in batch if r["dynamodb"]["SequenceNumber"] not in failed], self.fingerprint)
        self.model.check(f"after {why} of {len(batch)} records")
        return failed

    def deliver(self, batch: list[dict]) -> int | None:
        """Index of the first record to retry, or None when the whole batch is done."""
        failed = self.invoke(batch, "a delivery")
        if failed is None:
            if len(batch) == 1:
                return 0
            self.stats["bisections"] += 1
            mid = len(batch) // 2
            r = self.deliver(batch[:mid])
            if r is not None:
                return r
            r = self.deliver(batch[mid:])
            return None if r is None else mid + r
        if not failed:
            return None
        return min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)

    def run(self, phases: list[list[list[dict]]], between) -> None:
        """Delivers each phase's shards to their ends (one delivery from a random open shard
        at a time), calling `between(deliveries)` before each delivery."""
        for shards in phases:
            cursor, attempts = [0] * len(shards), [0] * len(shards)
            while open_ := [i for i, s in enumerate(shards) if cursor[i] < len(s)]:
                between(self.deliveries)
                self.deliveries += 1
                sh = self.rng.choice(open_)
                size = self.rng.choice([1, 1, 2, 3, 4, 6, 10, 25])
                batch = shards[sh][cursor[sh]:cursor[sh] + size]
                r = self.deliver(batch)
                if r is None:
                    self.done.append(batch)
                    cursor[sh] += len(batch)
                    attempts[sh] = 0
                    if self.rng.random() < 0.15:
                        self.stats["duplicates"] += 1
                        self.invoke(batch, "a duplicate delivery")
                    if len(self.done) > 1 and self.rng.random() < 0.15:
                        self.stats["redrives"] += 1
                        self.invoke(self.rng.choice(self.done[:-1]), "a redrive of an old batch")
                    continue
                if r:
                    self.done.append(batch[:r])
                self.stats["retries"] += 1
                attempts[sh] += 1
                if attempts[sh] > self.max_retries:
                    # The retries ran out: the rest of the batch goes to the DLQ, the shard moves on.
                    self.dlq.append(batch[r:])
                    self.model.in_dlq |= {self.model.key(x) for x in batch[r:]}
                    cursor[sh] += len(batch)
                    attempts[sh] = 0
                else:
                    cursor[sh] += r


def rates(total: float, delay: float) -> dict[str, float]:
    """Fault rates per PutItem: `total` spread over the kinds, `delay` of it late answers."""
    share = {"throttle": 0.24, "throttling": 0.16, "http500": 0.14, "http503": 0.14, "reset_before": 0.16, "reset_after": 0.16}
    return {**{k: (total - delay) * v for k, v in share.items()}, "delay": delay}


MODEL_CONFIGS = {
    # Few SDK attempts: faults surface as failed records and Lambda's retries carry them, one
    # retry (MaximumRetryAttempts 1) before the rest of a batch goes to the DLQ. A write the proxy holds longer than the function's
    # write deadline (half of the 2 s timeout here) is abandoned: its records are reported
    # failed before the timeout, and the held write still lands afterwards (the guard keeps
    # that harmless).
    "max_attempts_2": dict(env={"SHADOW_MAX_ATTEMPTS": "2", "AWS_LAMBDA_FUNCTION_TIMEOUT": "2"},
                           rates=rates(0.25, 0.012), delay=2.5, max_retries=1),
    # The default (6 attempts) and the template's 10 retries: the SDK's retries with backoff
    # absorb the same faults; late answers (0.3 s) are waited out.
    "default_attempts": dict(env={}, rates=rates(0.15, 0.015), delay=0.3, max_retries=10),
}


def split_shard(rng: random.Random, records: list[dict], keys: list[str]) -> list[list[list[dict]]]:
    """A parent shard and its split into two children (each key stays in one child)."""
    at = rng.randint(len(records) // 4, 3 * len(records) // 4)
    child = lambda r: keys.index(r["dynamodb"]["Keys"]["pk"]["S"]) % 2  # noqa: E731
    children = [[r for r in records[at:] if child(r) == c] for c in (0, 1)]
    return [[records[:at]], [c for c in children if c]]


def finish(p: subprocess.Popen, what: str, timeout: float = 300) -> tuple[int, str]:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError(f"{what} did not finish in {timeout} s") from None
    assert p.returncode in (0, 1), f"{what} failed: {err[-800:]}"
    return p.returncode, out


@pytest.mark.parametrize("config", sorted(MODEL_CONFIGS))
def test_model_random_histories_through_faults(aws, endpoint, proxy, tmp_path, config):
    """Per seed, besides the faults: the partition key tokenized (odd seeds), a shard split
    (seed % 4 in 0, 1), the table re-created with a new stream (seed % 3 == 1), a policy change
    mid-stream (seed % 4 == 2), a backfill running beside the stream (seed % 4 == 3),
    `verify --fix` between deliveries (seed % 4 == 0); for all, retries running out into the DLQ
    and its redrive, poison versions, and tombstones expiring at the end."""
    ddb, streams = aws
    cfg = MODEL_CONFIGS[config]
    shadow = f"shadow-model-{uuid.uuid4().hex[:8]}"
    stats = dict.fromkeys(["seeds", "stream_records", "invocations", "records_delivered", "records_failed",
                           "function_errors", "bisections", "retries", "duplicates", "redrives", "poison_records",
                           "checks_behind_by_design", "dlq_batches", "tokenized", "splits", "new_streams",
                           "policy_changes", "backfills", "verifies", "repaired", "tombstones_expired",
                           "quarantine_markers"], 0)
    divergent: dict[int, list[str]] = {}
    proxy.clear()
    proxy.delay = cfg["delay"]
    proxy.reset_counts()
    started = time.monotonic()
    logs = []
    for seed in range(BASE_SEED, BASE_SEED + SEEDS):
        emu = None
        try:
            rng = random.Random(seed)
            proxy.clear()
            source, _, arn = new_tables(ddb, shadow)
            tokenized = seed % 2 == 1
            base = ModelPolicy(tmp_path / f"a-{seed}.toml", MODEL_POLICIES[tokenized])
            changed = ModelPolicy(tmp_path / f"b-{seed}.toml", MODEL_POLICIES[tokenized] + MODEL_CHANGE)
            key_names = [f"K#{i}#{EMAILS[i % 2]}" if tokenized else f"K#{i}" for i in range(rng.randint(3, 8))]
            recreate_at = rng.randint(10, 40) if seed % 3 == 1 else None
            per_stream, arn = run_history(ddb, streams, source, arn, rng, key_names, rng.randint(40, 70), recreate_at)
            records = [r for s in per_stream for r in s]
            split = seed % 4 in (0, 1)
            phases = (split_shard(rng, per_stream[0], key_names) if split else [[per_stream[0]]]) + \
                [[s] for s in per_stream[1:]]
            final = [local_aws._jsonable(i) for i in local_aws.scan_all(ddb, source)]
            model = Model(ddb, shadow, records, seed, [base, changed], final)
            change_at = rng.randint(1, 10) if seed % 4 == 2 else None
            backfill_at = rng.randint(0, 8) if seed % 4 == 3 else None
            verify_at = rng.randint(1, 8) if seed % 4 == 0 else None
            env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url, **cfg["env"]}
            emu = local_aws.Emulator({**env, **base.function_env()}, tmp_path / f"rie-{seed}-a.log")
            lam = Lambda(emu, model, rng, stats, timeout=120, max_retries=cfg["max_retries"], fingerprint=base.fingerprint)
            current = [base]
            backfill: list[subprocess.Popen] = []

            def run_backfill(policy: ModelPolicy, *extra: str) -> subprocess.Popen:
                return policy.cli(proxy.url, "backfill", "--source-table", source, "--shadow-table", shadow,
                                  "--segments", "2", "--page-size", "3", "--concurrency", "4",
                                  "--checkpoint", str(tmp_path / f"cp-{seed}-{len(extra)}.json"), *extra)

            def between(deliveries: int) -> None:
                nonlocal emu
                if deliveries == change_at:
                    # A new policy deployed mid-stream: the next invocations run under it.
                    logs.append(emu.logs())
                    emu.close()
                    emu = local_aws.Emulator({**env, **changed.function_env()}, tmp_path / f"rie-{seed}-b.log")
                    lam.emu, lam.fingerprint, current[0] = emu, changed.fingerprint, changed
                    stats["policy_changes"] += 1
                if deliveries == backfill_at:
                    # Runs beside the next deliveries, through the same faults (its Scan is not
                    # faulted, its conditional PutItems are).
                    backfill.append(run_backfill(current[0]))
                    stats["backfills"] += 1
                if backfill_at is not None and deliveries == backfill_at + 3:
                    wait_backfill()
                if deliveries == verify_at:
                    before = shadow_items(ddb, shadow)
                    finish(current[0].cli(proxy.url, "verify", "--source-table", source, "--shadow-table", shadow,
                                          "--segments", "2", "--fix"), "verify --fix")
                    stats["verifies"] += 1
                    stats["repaired"] += model.note_verify(before, shadow_items(ddb, shadow), current[0].fingerprint)

            def wait_backfill() -> None:
                # A run that stopped on a fault exits 1; running it again resumes it.
                for attempt in range(5):
                    if not backfill:
                        return
                    code, _ = finish(backfill.pop(), "backfill")
                    if code == 0:
                        return
                    backfill.append(run_backfill(current[0]))
                raise AssertionError("the backfill never completed")

            proxy.set_rates(cfg["rates"], seed=seed)
            lam.run(phases, between)
            wait_backfill()
            proxy.clear()
            assert proxy.wait_idle(30), "a delayed write never finished"
            # The operator redrives the DLQ (dynamo-shadow redrive reads the same records back).
            for batch in lam.dlq:
                assert lam.invoke(batch, "a DLQ redrive") == set(), "a DLQ redrive failed"
            model.in_dlq.clear()
            stats["dlq_batches"] += len(lam.dlq)
            model.check("at the end")
            # The end state: the sanitized final source items (under the policy that wrote each),
            # a marker where that is impossible, and tombstones for deleted keys.
            items = shadow_items(ddb, shadow)
            touched = {model.key(r) for r in records}
            if set(items) != touched:
                model.divergences.append(f"shadow keys differ from the stream's keys: {len(items)} vs {len(touched)}")
            for k in touched & set(items):
                fp = items[k].get("_shadow_policy", {}).get("S", "")
                if k in model.final:
                    if fp not in model.policies or not matches(items[k], model.final[k][fp]):
                        model.divergences.append("final shadow item differs from the sanitized final source item (or its marker)")
                elif items[k].get("_shadow_deleted") != {"BOOL": True}:
                    model.divergences.append("a deleted source item is not a tombstone in the shadow table")
            # After a policy change, `backfill --policy-changed` brings every live item to the
            # new policy (markers stay where the item still cannot be sanitized).
            if change_at is not None and lam.deliveries > change_at:
                code, _ = finish(run_backfill(changed, "--policy-changed"), "backfill --policy-changed")
                assert code == 0, "backfill --policy-changed failed without faults"
                items = shadow_items(ddb, shadow)
                for k in model.final:
                    if not matches(items[k], model.final[k][changed.fingerprint]):
                        model.divergences.append("an item was not re-sanitized under the new policy")
            dump = json.dumps(local_aws._jsonable(list(items.values())))
            leaked = [s for s in PLANTED if s in dump]
            if leaked:
                model.divergences.append(f"{len(leaked)} planted values reached the shadow table")
            stats["quarantine_markers"] += sum("_shadow_quarantined" in i for i in items.values())
            # Tombstones expire (DynamoDB's TTL, at least 48 h later: past the stream's 24 h, so
            # no older record of the key can arrive after). A later INSERT of the key is written.
            gone = [k for k, i in items.items() if "_shadow_deleted" in i]
            raw_of = {v: k for k, v in model.skey.items()}
            for k in gone:
                ddb.delete_item(TableName=shadow, Key={"pk": S(k[0]), "sk": S(k[1])})
                pk = raw_of[k][0]
                ddb.put_item(TableName=source, Item={"pk": S(pk), "sk": S("v"), "name": S("Back"), "bio": S(f"hi {EMAILS[1]}")})
            if gone:
                seen = {position(r) for r in records}
                late = [r for r in local_aws.read_stream(streams, arn, source) if position(r) not in seen]
                assert len(late) == len(gone)
                assert lam.emu.invoke(local_aws.event(late)) == (200, {"batchItemFailures": []})
                want = dict(zip((model.key(r) for r in late),
                                expected_contents([r["dynamodb"]["NewImage"] for r in late], current[0])))
                items = shadow_items(ddb, shadow)
                for k in gone:
                    if not matches(items.get(k, {}), want[k]):
                        model.divergences.append("a key whose tombstone expired was not written again")
                stats["tombstones_expired"] += len(gone)
            stats["seeds"] += 1
            stats["stream_records"] += len(records)
            stats["poison_records"] += model.poisoned
            stats["checks_behind_by_design"] += model.behind_by_design
            stats["tokenized"] += tokenized
            stats["splits"] += split and len(phases[1]) == 2  # both children have records
            stats["new_streams"] += len(per_stream) > 1
            if model.divergences:
                divergent[seed] = model.divergences
        except Exception as e:
            raise AssertionError(f"seed {seed} (DYNAMO_SHADOW_FAULT_SEED={seed} DYNAMO_SHADOW_FAULT_SEEDS=1 reruns it): {e}") from e
        finally:
            if emu is not None:
                alive = emu.proc.poll() is None
                logs.append(emu.logs())
                emu.close()
                assert alive, f"seed {seed}: the emulator died"
    counts = proxy.counts()
    FIGURES[f"model[{config}]"] = {
        **stats, "divergent_seeds": len(divergent), "seconds": round(time.monotonic() - started, 1),
        "first_seed": BASE_SEED, "write_requests": counts["matching"], "faults": counts["faults"],
        "proxy_statuses": counts["statuses"], "proxy_connections": counts["connections"],
        "chunked_requests": counts["chunked_requests"],
    }
    assert not divergent, "divergent seeds (DYNAMO_SHADOW_FAULT_SEED=<seed> DYNAMO_SHADOW_FAULT_SEEDS=1 reruns one): " + \
        "; ".join(f"seed {s}: {d[:3]}" for s, d in divergent.items())
    assert sum(counts["faults"].values()) > 0, "the proxy injected no faults"
    assert stats["records_delivered"] > stats["stream_records"]
    assert stats["poison_records"] > 0, "no seed had a poison version"
    if SEEDS >= 8:
        exercised = ("tokenized", "splits", "new_streams", "policy_changes", "backfills", "repaired", "tombstones_expired",
                     "quarantine_markers") + (("dlq_batches",) if cfg["max_retries"] < 3 else ())
        missing = [k for k in exercised if not stats[k]]
        assert not missing, f"no seed exercised {missing}"
    all_logs = "\n".join(logs)
    for s in PLANTED:
        assert s not in all_logs, "a planted value reached the function's log"


# ---------------------------------------------------------------------------------------
# A poison record is quarantined: not retried, nothing stale stays readable, later records
# of its key proceed, the other keys of its batch are applied.
# ---------------------------------------------------------------------------------------

def test_poison_records_are_quarantined_and_never_leave_stale_data(aws, endpoint, tmp_path):
    ddb, streams = aws
    source, shadow, arn = new_tables(ddb)
    ddb.put_item(TableName=source, Item={"pk": S("A"), "sk": S("1"), "note": S("fine"), "api_key": S(STRIPE[0])})
    ddb.put_item(TableName=source, Item={"pk": S("Q1"), "sk": S("1"), "note": S("the old version")})
    # A real item DynamoDB accepts (368 KB) that grows past 400 KB when its URL credentials
    # are redacted: it can never be shadowed. (One credential every 92 bytes: denser text
    # would exceed the matcher's work budget and be redacted whole instead.)
    log = "https://a:b@h/ lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " * 4000
    ddb.put_item(TableName=source, Item={"pk": S("Q1"), "sk": S("1"), "log": S(log)})
    ddb.put_item(TableName=source, Item={"pk": S("C"), "sk": S("1"), "note": S(f"mail {EMAILS[0]}")})
    ddb.put_item(TableName=source, Item={"pk": S("D"), "sk": S("1"), "note": S("ok")})
    ddb.update_item(TableName=source, Key={"pk": S("A"), "sk": S("1")}, UpdateExpression="SET note = :n",
                    ExpressionAttributeValues={":n": S("changed")})
    ddb.delete_item(TableName=source, Key={"pk": S("Q1"), "sk": S("1")})
    records = local_aws.read_stream(streams, arn, source)
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "A"), ("INSERT", "Q1"), ("MODIFY", "Q1"), ("INSERT", "C"), ("INSERT", "D"), ("MODIFY", "A"),
        ("REMOVE", "Q1")]
    # A second poison, not from DynamoDB: a number it could never hold, in D's record.
    records[4] = json.loads(json.dumps(records[4]))
    records[4]["dynamodb"]["NewImage"]["n"] = N("1E+126")
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_METRICS": "on"}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        # Q1's good version is shadowed first.
        assert emu.invoke(local_aws.event(records[:2])) == (200, {"batchItemFailures": []})
        assert shadow_items(ddb, shadow)[("Q1", "1")]["note"] == S("the old version")
        # Then the poison MODIFY, alone in its batch (the worst case: nothing newer carries the key).
        status, resp = emu.invoke(local_aws.event(records[2:6]))
        assert (status, resp) == (200, {"batchItemFailures": []}), "permanent failures are not retried"
        items = shadow_items(ddb, shadow)
        q1, d = items[("Q1", "1")], items[("D", "1")]
        assert "note" not in q1 and "log" not in q1, "the old version is no longer readable"
        assert q1["_shadow_quarantined"] == S("too_large") and d["_shadow_quarantined"] == S("malformed_image")
        assert set(q1) == {"pk", "sk", "_shadow_seq", "_shadow_quarantined", "_shadow_policy"}, "a marker holds no data"
        assert items[("A", "1")]["note"] == S("changed") and "api_key" not in items[("A", "1")]
        assert items[("C", "1")]["note"] == S("mail [REDACTED:EMAIL]")
        # The delete after it applies in order; a replay of the poison is stale.
        assert emu.invoke(local_aws.event(records[6:])) == (200, {"batchItemFailures": []})
        assert emu.invoke(local_aws.event(records[2:3])) == (200, {"batchItemFailures": []})
        assert shadow_items(ddb, shadow)[("Q1", "1")]["_shadow_deleted"] == {"BOOL": True}
        logs = emu.logs()
    assert "record quarantined" in logs and "over DynamoDB's 400 KB item limit" in logs
    assert "attribute `n`: outside DynamoDB's number range" in logs
    assert '"QuarantinedRecords":2' in logs, "the EMF metric counts them"
    assert "https://a:b@h" not in logs and "Q1" not in logs, "the log names a key hash, not the key"


# ---------------------------------------------------------------------------------------
# Malformed events: a clear error or a reported failure, never a partial write, and the
# function keeps serving.
# ---------------------------------------------------------------------------------------

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/src/stream/2026-01-01T00:00:00.000"
_seq = [300000000000000000000]


def rec(pk: str, new=..., event: str = "INSERT", keys=..., old=None, **dynamodb) -> dict:
    _seq[0] += 1
    d = {"Keys": {"pk": S(pk), "sk": S("x")} if keys is ... else keys, "SequenceNumber": str(_seq[0]),
         "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1700000000}
    if new is ...:
        new = {"pk": S(pk), "sk": S("x"), "v": S("value")}
    if new is not None:
        d["NewImage"] = new
    if old is not None:
        d["OldImage"] = old
    d.update(dynamodb)
    return {"eventID": uuid.uuid4().hex, "eventName": event, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "eventSourceARN": ARN, "dynamodb": d}


def img(pk: str, **attrs) -> dict:
    return {"pk": S(pk), "sk": S("x"), **attrs}


def nested(levels: int, key: str = "a") -> dict:
    v = S("leaf")
    for _ in range(levels):
        v = {"M": {key: v}}
    return v


def without(r: dict, *path: str) -> dict:
    r = json.loads(json.dumps(r))
    target = r
    for p in path[:-1]:
        target = target[p]
    del target[path[-1]]
    return r


def with_field(r: dict, value, *path: str) -> dict:
    r = json.loads(json.dumps(r))
    target = r
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return r


def malformed_cases() -> list[tuple[str, object, str, object]]:
    """(name, payload, expectation, detail): "error" (a function error whose message holds
    detail), "failed" (detail = indices of the records reported failed, the rest applied),
    "quarantined" (detail = indices of records that can never be applied: not reported failed,
    their key's shadow item a marker with no data, or none when the key itself is invalid), or
    "ok" (detail = a check on the shadow items)."""
    bad_utf8 = base64.b64encode(b"\xff\xfe\xfd\x80 not text").decode()
    c = []
    c.append(("no Records", {"foo": 1}, "error", "no `Records` array"))
    c.append(("Records not an array", {"Records": "x"}, "error", "no `Records` array"))
    c.append(("null record", {"Records": [None]}, "error", "no dynamodb.SequenceNumber"))
    c.append(("one record without SequenceNumber fails the batch",
              {"Records": [rec("e1"), without(rec("e2"), "dynamodb", "SequenceNumber")]}, "error", "record 1 has no dynamodb.SequenceNumber"))
    c.append(("SequenceNumber a JSON number", {"Records": [with_field(rec("e3"), 123, "dynamodb", "SequenceNumber")]},
              "error", "no dynamodb.SequenceNumber"))
    c.append(("SequenceNumber not digits", {"Records": [with_field(rec("f1"), "12ab", "dynamodb", "SequenceNumber"), rec("f1ok")]}, "failed", [0]))
    c.append(("SequenceNumber of 41 digits", {"Records": [with_field(rec("f2"), "1" * 41, "dynamodb", "SequenceNumber"), rec("f2ok")]}, "failed", [0]))
    c.append(("no Keys", {"Records": [without(rec("f3"), "dynamodb", "Keys"), rec("f3ok")]}, "failed", [0]))
    c.append(("Keys a string", {"Records": [rec("f4", keys="pk"), rec("f4ok")]}, "failed", [0]))
    c.append(("Keys of an unknown type", {"Records": [rec("f5", keys={"pk": {"Q": "f5"}, "sk": S("x")}), rec("f5ok")]}, "failed", [0]))
    c.append(("NewImage an array", {"Records": [rec("f6", new=[1, 2]), rec("f6ok")]}, "quarantined", [0]))
    c.append(("no eventName", {"Records": [without(rec("f7"), "eventName"), rec("f7ok")]}, "failed", [0]))
    c.append(("unknown eventName", {"Records": [rec("f8", event="UPSERT"), rec("f8ok")]}, "quarantined", [0]))
    c.append(("SizeBytes a string", {"Records": [with_field(rec("f9"), "big", "dynamodb", "SizeBytes"), rec("f9ok")]}, "failed", [0]))
    c.append(("INSERT without NewImage", {"Records": [rec("f10", new=None), rec("f10ok")]}, "quarantined", [0]))
    c.append(("key attribute missing from NewImage", {"Records": [rec("f11", new={"sk": S("x"), "v": S("1")}), rec("f11ok")]}, "quarantined", [0]))
    c.append(("unknown type", {"Records": [rec("f12", new=img("f12", x={"Q": "value"})), rec("f12ok")]}, "quarantined", [0]))
    c.append(("BOOL a string", {"Records": [rec("f13", new=img("f13", x={"BOOL": "yes"})), rec("f13ok")]}, "quarantined", [0]))
    c.append(("NULL false", {"Records": [rec("f14", new=img("f14", x={"NULL": False})), rec("f14ok")]}, "quarantined", [0]))
    c.append(("B not base64", {"Records": [rec("f15", new=img("f15", x={"B": "!!not base64!!"})), rec("f15ok")]}, "quarantined", [0]))
    c.append(("S a number", {"Records": [rec("f16", new=img("f16", x={"S": 5})), rec("f16ok")]}, "quarantined", [0]))
    c.append(("key of type M", {"Records": [rec("f17", keys={"pk": {"M": {}}, "sk": S("x")}, new={"pk": {"M": {}}, "sk": S("x")}), rec("f17ok")]}, "quarantined", [0]))
    # The later record of a key whose earlier record failed is failed too (ordering).
    c.append(("a permanent failure does not hold up its key",
              {"Records": [rec("f18", new=img("f18", x={"N": "12abc"})), rec("f18"), rec("f18b")]}, "quarantined", [0]))
    # Numbers: DynamoDB's 38 digits and -130..+125 exponents, exact strings kept.
    for n in ("12345678901234567890123456789012345678", "9.9E+125", "1E-130", "-0.00012345678901234567890123456789012345678",
              "1.2345678901234567890123456789012345678E+100"):
        c.append((f"number {n}", {"Records": [rec(f"n{n}", new=img(f"n{n}", x=N(n)))]}, "ok",
                  lambda items, n=n: items[(f"n{n}", "x")]["x"] == N(n)))
    for n in ("123456789012345678901234567890123456789", "1E+126", "1E-131", "NaN", "Infinity", "1e1000000", "-", "0x10", "1_000"):
        c.append((f"number {n}", {"Records": [rec(f"bad{n}", new=img(f"bad{n}", x=N(n))), rec(f"bad{n}ok")]}, "quarantined", [0]))
    c.append(("bad number inside an NS", {"Records": [rec("ns", new=img("ns", x={"NS": ["1", "1E+200"]})), rec("nsok")]}, "quarantined", [0]))
    # Nesting: DynamoDB takes 31 map levels below an attribute and refuses 32.
    c.append(("31 nested maps", {"Records": [rec("d31", new=img("d31", x=nested(31)))]}, "ok",
              lambda items: items[("d31", "x")]["x"] == nested(31)))
    c.append(("32 nested maps", {"Records": [rec("d32", new=img("d32", x=nested(32))), rec("d32ok")]}, "quarantined", [0]))
    c.append(("40 nested lists", {"Records": [rec("l40", new=img("l40", x=json.loads('{"L":[' * 40 + '{"S":"x"}' + ']}' * 40))), rec("l40ok")]}, "quarantined", [0]))
    # Deeper than serde_json goes (128 JSON levels): the record is failed, not the event.
    c.append(("70 nested maps", {"Records": [rec("d70ok"), rec("d70", new=img("d70", x=nested(70)))]}, "quarantined", [1]))
    # Binary that is not UTF-8 is scanned as the text a reader could decode from it: kept
    # byte for byte when nothing is found; compressed binary (gzip here) is dropped whole,
    # as a scan cannot see what it holds; the rest of the item is written.
    c.append(("invalid UTF-8 in B", {"Records": [rec("u8", new=img("u8", x={"B": bad_utf8}, y=S("kept")))]}, "ok",
              lambda items: items[("u8", "x")]["x"] == {"B": base64.b64decode(bad_utf8)} and items[("u8", "x")]["y"] == S("kept")))
    c.append(("invalid UTF-8 in a BS", {"Records": [rec("bs8", new=img("bs8", x={"BS": [bad_utf8]}, y=S("kept")))]}, "ok",
              lambda items: items[("bs8", "x")]["x"] == {"BS": [base64.b64decode(bad_utf8)]}))
    gz = base64.b64encode(gzip.compress(b'{"note": "nothing to see"}', mtime=0)).decode()
    c.append(("gzip in B", {"Records": [rec("gz", new=img("gz", x={"B": gz}, y=S("kept")))]}, "ok",
              lambda items: "x" not in items[("gz", "x")] and items[("gz", "x")]["y"] == S("kept")))
    # Item size: DynamoDB's 400 KB.
    c.append(("a 390 KB item", {"Records": [rec("z1", new=img("z1", s=S("hello world " * 33000)))]}, "ok",
              lambda items: len(items[("z1", "x")]["s"]["S"]) == 12 * 33000))
    c.append(("a 420 KB item", {"Records": [rec("z2", new=img("z2", s=S("hello world " * 35000))), rec("z2ok")]}, "quarantined", [0]))
    # Sets DynamoDB never emits: an empty set is dropped (DynamoDB rejects empty sets), a
    # duplicate element collapses; the rest of the item is written.
    c.append(("empty SS", {"Records": [rec("es", new=img("es", x={"SS": []}, y=S("kept")))]}, "ok",
              lambda items: "x" not in items[("es", "x")] and items[("es", "x")]["y"] == S("kept")))
    c.append(("duplicate SS elements", {"Records": [rec("ds", new=img("ds", x={"SS": ["a", "a", "b"]}))]}, "ok",
              lambda items: sorted(items[("ds", "x")]["x"]["SS"]) == ["a", "b"]))
    c.append(("empty Records", {"Records": []}, "ok", lambda items: True))
    return c


def test_malformed_events(aws, endpoint, tmp_path):
    ddb, _ = aws
    _, shadow, _ = new_tables(ddb)
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    problems = []
    timing = {}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke({"Records": []}) == (200, {"batchItemFailures": []})
        pid = emu.runtime_pid()
        for name, payload, expect, detail in malformed_cases():
            before = shadow_items(ddb, shadow)
            status, resp = emu.invoke(payload)
            after = shadow_items(ddb, shadow)
            recs = payload["Records"] if isinstance(payload.get("Records"), list) else []
            keys = [key_of(r["dynamodb"]["Keys"]) if isinstance(r, dict) and isinstance(r.get("dynamodb", {}).get("Keys"), dict)
                    and "S" in r["dynamodb"]["Keys"].get("pk", {}) else None for r in recs]
            if expect == "error":
                if not (status == 200 and isinstance(resp, dict) and "errorType" in resp and detail in resp.get("errorMessage", "")):
                    problems.append(f"{name}: expected a function error about {detail!r}, got {status} {str(resp)[:200]}")
                if after != before:
                    problems.append(f"{name}: a refused event wrote to the shadow table")
            else:
                if is_function_error(status, resp):
                    problems.append(f"{name}: function error {str(resp)[:300]}")
                    continue
                failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
                want = {recs[i]["dynamodb"]["SequenceNumber"] for i in (detail if expect == "failed" else [])}
                if failed != want:
                    problems.append(f"{name}: reported failed {sorted(failed)}, expected {sorted(want)}")
                for i in (detail if expect == "quarantined" else []):
                    last_of_key = all(keys[j] != keys[i] for j in range(i + 1, len(recs)))
                    item = after.get(keys[i]) if keys[i] is not None else None
                    if keys[i] is not None and last_of_key and (
                            item is None or "_shadow_quarantined" not in item or set(content(item)) != {"pk", "sk", "_shadow_quarantined"}):
                        problems.append(f"{name}: record {i} should have left a bare quarantine marker, found {str(item)[:200]}")
                for i, r in enumerate(recs):
                    if keys[i] is None:
                        continue
                    if r["dynamodb"]["SequenceNumber"] in failed and after.get(keys[i]) != before.get(keys[i]):
                        problems.append(f"{name}: record {i} was reported failed but its shadow item changed")
                    if r["dynamodb"]["SequenceNumber"] not in failed and keys[i] not in after:
                        problems.append(f"{name}: record {i} was reported successful but nothing was written")
                if expect == "ok" and not detail(after):
                    problems.append(f"{name}: the shadow item is not what was expected")
            # Still alive, same process, and serving.
            if emu.proc.poll() is not None or emu.runtime_pid() != pid:
                problems.append(f"{name}: the function process died or was replaced")
                pid = emu.runtime_pid()
            if emu.invoke({"Records": []}, timeout=30) != (200, {"batchItemFailures": []}):
                problems.append(f"{name}: the next invocation was not served")

        # 10,000 records in one batch (100 keys, 100 versions each), about 5 MB.
        ev = {"Records": [rec(f"m{i % 100}", new=img(f"m{i % 100}", v=S(f"version {i}"), note=S(f"mail {EMAILS[0]}")))
                          for i in range(10_000)]}
        t0 = time.monotonic()
        status, resp = emu.invoke(ev, timeout=300)
        timing["10000_records_s"] = round(time.monotonic() - t0, 2)
        assert (status, resp) == (200, {"batchItemFailures": []}), str(resp)[:300]
        items = shadow_items(ddb, shadow)
        last = {key_of(r["dynamodb"]["Keys"]): r for r in ev["Records"]}
        assert all(items[k]["_shadow_seq"]["S"] == position(r) and items[k]["v"] == r["dynamodb"]["NewImage"]["v"]
                   for k, r in last.items()), "each key holds its newest version"

        # Just under Lambda's 6 MB payload: fifteen 390 KB items.
        big = [rec(f"p{i}", new=img(f"p{i}", s=S("hello world " * 32500))) for i in range(15)]
        data = json.dumps({"Records": big}).encode()
        timing["payload_mb"] = round(len(data) / 2**20, 2)
        t0 = time.monotonic()
        status, resp = emu.invoke_raw(data, timeout=300)
        timing["payload_s"] = round(time.monotonic() - t0, 2)
        assert (status, resp) == (200, {"batchItemFailures": []}), str(resp)[:300]
        assert {("p%d" % i, "x") for i in range(15)} <= set(shadow_items(ddb, shadow))
        # Over 6 MB: Lambda refuses it before the function runs; the emulator truncates it at
        # 6 MB, so the function sees broken JSON and refuses the whole event.
        over = [rec(f"q{i}", new=img(f"q{i}", s=S("hello world " * 32500))) for i in range(17)]
        before = shadow_items(ddb, shadow)
        status, resp = emu.invoke_raw(json.dumps({"Records": over}).encode(), timeout=300)
        assert is_function_error(status, resp), str(resp)[:300]
        assert shadow_items(ddb, shadow) == before
        # Not JSON at all, and invalid UTF-8 inside a JSON string.
        for raw in (b"{not json", b"", b'{"Records": [{"eventName": "\xff\xfe"}]}'):
            status, resp = emu.invoke_raw(raw)
            msg = resp.get("errorMessage", "") if isinstance(resp, dict) else ""
            assert is_function_error(status, resp) and any(w in msg for w in ("deserialize", "not valid JSON", "truncated")), resp
        assert emu.invoke({"Records": []}) == (200, {"batchItemFailures": []})
        assert emu.proc.poll() is None and emu.runtime_pid() == pid, "the function process was replaced"
    FIGURES["malformed"] = {"cases": len(malformed_cases()), **timing}
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------
# Regex safety: 400 KB adversarial strings finish in bounded time and memory.
# ---------------------------------------------------------------------------------------

def adversarial() -> dict[str, dict]:
    n = 390_000

    def fill(unit: str) -> str:
        return (unit * (n // len(unit) + 1))[:n]

    cases = {name: {"text": S(fill(unit))} for name, unit in {
        "digits": "1", "digits and spaces": "4111 ", "digits and dashes": "12-", "a@a@": "a@", "AKIAAKIA": "AKIA",
        "sk_live_ repeated": "sk_live_", "dots": ".", "a.a.a.": "a.", "ghp_ repeated": "ghp_", "eyJ. repeated": "eyJ.",
        "-----BEGIN repeated": "-----BEGIN ", "password= repeated": "password=", "+1 repeated": "+1 ",
        "Bearer repeated": "Bearer ", "1.2.3. repeated": "1.2.3.", "a1@b2.c3- repeated": "a1@b2.c3-",
        "hex digest run": "0123456789abcdef", "xoxb- repeated": "xoxb-", "DE89 repeated": "DE89 ",
        "postgres://u:p@ repeated": "postgres://u:p@", "SSN 123-45- repeated": "SSN 123-45-",
    }.items()}
    cases["string set of near misses"] = {"set": {"SS": [f"AKIA{i:06d}x@" for i in range(20_000)]}}
    cases["20,000 map keys"] = {"m": {"M": {f"a{i}@b.c": S("v") for i in range(20_000)}}}
    cases["long number run in a list"] = {"l": {"L": [N("9" * 38)] * 8_000}}
    return cases


def test_regex_safety_on_adversarial_strings(aws, endpoint, tmp_path):
    ddb, _ = aws
    _, shadow, _ = new_tables(ddb)
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    per_case = {}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke({"Records": []}) == (200, {"batchItemFailures": []})
        pid = emu.runtime_pid()
        base_kb = last_hwm = local_aws.proc_status_kb(pid)
        grew = {}  # case -> MB the peak RSS grew by during it
        for i, (name, attrs) in enumerate(adversarial().items()):
            r = rec(f"adv{i}", new=img(f"adv{i}", **attrs))
            t0 = time.monotonic()
            status, resp = emu.invoke({"Records": [r]}, timeout=120)
            secs = time.monotonic() - t0
            assert not is_function_error(status, resp), f"{name}: {str(resp)[:300]}"
            failed = bool(resp["batchItemFailures"])
            written = "Item" in ddb.get_item(TableName=shadow, Key={"pk": S(f"adv{i}"), "sk": S("x")}, ProjectionExpression="pk")
            assert written != failed, f"{name}: reported {'failed' if failed else 'ok'} but written={written}"
            per_case[name] = (round(secs, 2), "failed" if failed else "written")
            hwm = local_aws.proc_status_kb(pid)
            if hwm > last_hwm:
                grew[name] = round((hwm - last_hwm) / 1024, 1)
                last_hwm = hwm
            assert secs < 20, f"{name}: took {secs:.1f} s"
        assert emu.runtime_pid() == pid, "the function process was replaced (killed?)"
        peak_kb = local_aws.proc_status_kb(pid)
        logs = emu.logs()
    slowest = max(per_case.items(), key=lambda kv: kv[1][0])
    FIGURES["adversarial"] = {"cases": len(per_case), "peak_rss_mb": round(peak_kb / 1024, 1),
                              "rss_before_mb": round(base_kb / 1024, 1), "slowest": f"{slowest[0]} {slowest[1][0]} s",
                              "total_s": round(sum(v[0] for v in per_case.values()), 1), "peak_grew_mb_in": grew,
                              "failed_closed": sorted(k for k, v in per_case.items() if v[1] == "failed")}
    assert peak_kb < 128 * 1024, f"peak RSS {peak_kb} kB"
    # A failed one says why, without its value.
    for name, (_, outcome) in per_case.items():
        if outcome == "failed":
            assert "over DynamoDB's 400 KB item limit" in logs


# ---------------------------------------------------------------------------------------
# Canaries: planted values never appear in anything the function emits but the shadow table.
# ---------------------------------------------------------------------------------------

LOG_CONFIGS = {
    "AWS_LAMBDA_LOG_LEVEL=trace": {"AWS_LAMBDA_LOG_LEVEL": "trace"},
    "AWS_LAMBDA_LOG_LEVEL=debug": {"AWS_LAMBDA_LOG_LEVEL": "debug"},
    "AWS_LAMBDA_LOG_LEVEL=info": {"AWS_LAMBDA_LOG_LEVEL": "info"},
    "RUST_LOG=trace": {"RUST_LOG": "trace"},
    "RUST_LOG=directives": {"RUST_LOG": "trace,lambda_runtime=trace,aws_smithy_runtime=trace,hyper=trace,aws_sdk_dynamodb=trace"},
    "JSON trace": {"AWS_LAMBDA_LOG_LEVEL": "TRACE", "AWS_LAMBDA_LOG_FORMAT": "JSON"},
    "JSON debug": {"AWS_LAMBDA_LOG_LEVEL": "debug", "AWS_LAMBDA_LOG_FORMAT": "json", "RUST_LOG": "trace"},
}


class Canaries:
    """Unique values planted everywhere a value can be: plain values, values dropped by name,
    detected secrets, key values, map keys, set elements, numbers, binary."""

    def __init__(self):
        h = uuid.uuid4().hex
        self.text = f"cnry{h[:14]}zq"
        self.key = f"cnrykey{h[14:26]}"
        self.mapkey = f"cnry.{h[4:16]}@map.example"
        self.number = "7" + str(int(h[:12], 16)).rjust(20, "3")[:20] + "1"
        self.secret = f"sk_live_{h[:24]}"
        self.binary = f"cnrybin{h[8:20]}"

    def all(self) -> list[str]:
        b64 = base64.b64encode(self.binary.encode()).decode()
        return [self.text, self.key, self.mapkey, self.number, self.secret, self.binary, b64.rstrip("=")]

    def item(self, pk: str) -> dict:
        return {
            "pk": S(f"{pk}#{self.key}"), "sk": S("1"),
            "note": S(f"plain {self.text}"), "api_key": S(self.secret), "session_token": S(self.text),
            "bio": S(f"my key is {self.secret}, text {self.text}"),
            "tags": {"SS": [self.text, "x"]}, "count": N(self.number),
            "data": {"M": {self.mapkey: S(self.text), "inner": {"L": [S(self.text), N(self.number)]}}},
            "blob": {"B": self.binary.encode()}, "raw": {"B": b"\xff" + self.binary.encode()},
        }


def canary_stream(ddb, streams, c: Canaries) -> tuple[str, list[dict]]:
    source, shadow, arn = new_tables(ddb)
    for i in range(3):
        ddb.put_item(TableName=source, Item=c.item(f"U{i}"))
    ddb.update_item(TableName=source, Key={"pk": S(f"U0#{c.key}"), "sk": S("1")}, UpdateExpression="SET note = :n",
                    ExpressionAttributeValues={":n": S(f"changed {c.text}")})
    ddb.delete_item(TableName=source, Key={"pk": S(f"U1#{c.key}"), "sk": S("1")})
    return shadow, local_aws.read_stream(streams, arn, source)


def poison_records(c: Canaries, template: dict) -> list[dict]:
    """Records that fail closed, each carrying canaries where the failure is."""
    def variant(pk: str, **image) -> dict:
        r = json.loads(json.dumps(template))
        r["dynamodb"]["SequenceNumber"] = str(int(r["dynamodb"]["SequenceNumber"]) + 1000 + int(pk[1:]))
        keys = {"pk": S(f"{pk}#{c.key}"), "sk": S("1")}
        r["dynamodb"]["Keys"] = keys
        r["dynamodb"]["NewImage"] = {**keys, **image}
        r["dynamodb"].pop("OldImage", None)
        r["eventName"] = "INSERT"
        return r
    return [
        variant("P1", n=N(f"{c.number}x")),
        variant("P2", flag={"BOOL": c.text}),
        variant("P3", x={"Q": c.text}),
        variant("P4", x={"NULL": c.text}),
        variant("P5", x={"B": f"{c.text}!!"}),
        variant("P6", x={"M": {c.mapkey: {"N": c.text}}}),
        variant("P7", x={"SS": c.text}),
        variant("P8", big=S(f"https://{c.text}:p@h/ " * 9000)),
        variant("P9", **{"_shadow_seq": S(c.text), "x": N("1E+200")}),
        with_field(variant("P10"), {"pk": {"S": c.key}, "sk": {"Q": c.text}}, "dynamodb", "Keys"),
        with_field(variant("P11"), c.text, "eventName"),
    ]


@pytest.mark.parametrize("levels", list(LOG_CONFIGS))
def test_canaries_never_leave_except_in_the_shadow_table(aws, proxy, tmp_path, levels):
    ddb, streams = aws
    c = Canaries()
    shadow, records = canary_stream(ddb, streams, c)
    proxy.clear()
    proxy.delay = 1.2
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url, "SHADOW_MAX_ATTEMPTS": "2", **LOG_CONFIGS[levels]}
    emitted = []
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        def call(payload) -> tuple[int, object]:
            status, resp = emu.invoke(payload) if not isinstance(payload, bytes) else emu.invoke_raw(payload)
            emitted.append(json.dumps(resp) if not isinstance(resp, str) else resp)
            return status, resp

        # Success.
        assert call(local_aws.event(records)) == (200, {"batchItemFailures": []})
        items = json.dumps(local_aws._jsonable(local_aws.scan_all(ddb, shadow)))
        assert items.count('"_shadow_seq"') == 3 and c.secret not in items and c.number in items
        # Failures: poison records, one each, next to a good record. All are quarantined but
        # the one whose Keys are malformed (it cannot name a shadow item): that one is retried.
        poison = poison_records(c, records[0])
        status, resp = call(local_aws.event(poison + [records[2]]))
        assert status == 200 and len(resp["batchItemFailures"]) == 1, resp
        markers = [i for i in local_aws.scan_all(ddb, shadow) if "_shadow_quarantined" in i]
        assert len(markers) == len(poison) - 1, markers
        # Refused events.
        for bad in ({"Records": c.text}, {c.text: 1}, {"Records": [{"dynamodb": {"NewImage": {"x": S(c.text)}}}]},
                    f'{{"Records": "{c.text}'.encode(),
                    {"Records": [{"dynamodb": {"SequenceNumber": {"x": c.text}, "Keys": {"pk": S(c.key)}}}]}):
            status, resp = call(bad)
            assert is_function_error(status, resp), resp
        # Faults on the way to the table, including a service error that echoes a value
        # (DynamoDB's ValidationException messages can quote request values).
        echo = {"status": 400, "type": "com.amazon.coral.validate#ValidationException",
                "message": f"One or more parameter values were invalid: {c.text} {c.secret}"}
        for script in (["throttle", "throttle"], ["http500", "http503"], ["reset_before", "reset_before"],
                       ["reset_after", "reset_after"], [echo], ["throttling", echo], ["delay"]):
            fresh = json.loads(json.dumps(records[0]))
            fresh["dynamodb"]["SequenceNumber"] = str(int(records[-1]["dynamodb"]["SequenceNumber"]) + 5000 + len(emitted))
            proxy.script(script)
            t0 = time.monotonic()
            status, resp = call(local_aws.event([fresh]))
            assert status == 200 and "batchItemFailures" in resp, resp
            if script == ["delay"]:
                # The SDK has no read/operation timeout: it waited for the late answer.
                assert resp == {"batchItemFailures": []} and time.monotonic() - t0 >= proxy.delay
                FIGURES["sdk_waits_out_a_late_answer_s"] = round(time.monotonic() - t0, 2)
            proxy.clear()
        assert proxy.wait_idle(10)
        logs = emu.logs()
        assert emu.proc.poll() is None
    hits = {name: [s for s in c.all() if s in blob] for name, blob in
            (("emulator log (stdout/stderr)", logs), ("responses and error bodies", "\n".join(emitted)))}
    assert "batch" in logs, "the function logged its batch summary"
    FIGURES.setdefault("canary_log_bytes", {})[levels] = len(logs)
    assert not any(hits.values()), f"canaries leaked at {levels}: " + json.dumps(hits)


def test_record_whose_new_image_key_differs_from_its_keys_is_quarantined(aws, endpoint, tmp_path):
    """A record is grouped (ordered) by `dynamodb.Keys`; one whose NewImage names another item
    cannot be applied with certainty: its key is quarantined and nothing of the image is written."""
    ddb, _ = aws
    _, shadow, _ = new_tables(ddb)
    r = rec("A", new=img("B", v=S("written by a record for A")))
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke({"Records": [r]})
    items = shadow_items(ddb, shadow)
    assert (status, resp, sorted(items)) == (200, {"batchItemFailures": []}, [("A", "x")]), \
        f"reported {resp}, shadow items written: {sorted(items)}"
    assert items[("A", "x")]["_shadow_quarantined"] == S("key_mismatch") and "v" not in items[("A", "x")]


def test_canary_in_a_map_key_does_not_leak_from_a_refused_event(aws, endpoint, tmp_path):
    """A record nested deeper than serde_json's 128 levels and an event with invalid UTF-8 must
    not echo the attribute names and map keys on the way to the error: map keys are data (an
    email used as a key)."""
    ddb, _ = aws
    _, shadow, _ = new_tables(ddb)
    c = Canaries()
    deep = S("x")
    for _ in range(70):
        deep = {"M": {c.mapkey: deep}}
    too_deep = json.dumps({"Records": [rec("deep", new=img("deep", x=deep))]}).encode()
    bad_utf8 = json.dumps({"Records": [rec("u", new=img("u", x={"M": {c.mapkey: S("PLACEHOLDER")}}))]}).encode()
    bad_utf8 = bad_utf8.replace(b"PLACEHOLDER", b"\xff\xfe")
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_LAMBDA_LOG_LEVEL": "info"}
    leaks = []
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        for name, raw in (("nesting over 128 JSON levels", too_deep), ("invalid UTF-8 in a value", bad_utf8)):
            status, resp = emu.invoke_raw(raw)
            # Refused whole, reported failed (the record's sequence number only) or quarantined
            # (a marker holding no data): the value is never written.
            assert is_function_error(status, resp) or [f["itemIdentifier"] for f in resp["batchItemFailures"]] \
                or all("_shadow_quarantined" in i for i in local_aws.scan_all(ddb, shadow)), resp
            if c.mapkey in json.dumps(resp):
                leaks.append(f"{name}: the error response names the map key")
        if c.mapkey in emu.logs():
            leaks.append("the function's log names the map key")
    assert not leaks, "; ".join(leaks)


def test_canary_in_a_malformed_backfill_request_does_not_leak(aws, endpoint, tmp_path):
    """The backfill function's entry point, `{"backfill": {...}}` (a Step Functions segment
    request), refuses a malformed request without quoting the values it was given."""
    ddb, _ = aws
    source, shadow, _ = new_tables(ddb)
    c = Canaries()
    bad = [
        {"backfill": {"sourceTable": source, "segment": c.text, "totalSegments": 1}},
        {"backfill": {"sourceTable": source, "segment": 0, "totalSegments": 1, "dryRun": c.secret}},
        {"backfill": {"sourceTable": source, "segment": 0, "totalSegments": 1, "cursor": {"pk": {"Q": c.key}}}},
    ]
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_LAMBDA_LOG_LEVEL": "info"}
    emitted = []
    with local_aws.Emulator(env, tmp_path / "rie.log", local_aws.backfill_binary()) as emu:
        for payload in bad:
            status, resp = emu.invoke(payload)
            assert is_function_error(status, resp), resp
            emitted.append(json.dumps(resp))
        logs = emu.logs()
    hits = {name: [s for s in c.all() if s in blob] for name, blob in
            (("emulator log (stdout/stderr)", logs), ("responses and error bodies", "\n".join(emitted)))}
    assert not any(hits.values()), "canaries leaked: " + json.dumps(hits)


# ---------------------------------------------------------------------------------------
# Stream identity: a re-created table's new stream restarts its sequence numbers below the
# old stream's; its writes must win, and a redrive of the old stream must not.
# ---------------------------------------------------------------------------------------

def test_a_new_stream_of_a_recreated_table_is_never_frozen_out(aws, endpoint, tmp_path):
    ddb, streams = aws
    source, shadow, old_arn = new_tables(ddb)
    ddb.put_item(TableName=source, Item={"pk": S("K"), "sk": S("1"), "note": S("before the restore")})
    for i in range(5):  # push the old stream's sequence numbers up
        ddb.put_item(TableName=source, Item={"pk": S(f"F{i}"), "sk": S("1"), "note": S("filler")})
    old = local_aws.read_stream(streams, old_arn, source)
    ddb.delete_table(TableName=source)
    time.sleep(1.1)  # stream labels are timestamps
    new_arn = local_aws.create_source(ddb, source)
    assert new_arn != old_arn
    ddb.put_item(TableName=source, Item={"pk": S("K"), "sk": S("1"), "note": S("after the restore")})
    new = local_aws.read_stream(streams, new_arn, source)
    old_k = [r for r in old if r["dynamodb"]["Keys"]["pk"]["S"] == "K"][-1]
    assert int(new[0]["dynamodb"]["SequenceNumber"]) < int(old[-1]["dynamodb"]["SequenceNumber"]), \
        "moto restarts a new stream's sequence numbers lower (the case under test)"
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke(local_aws.event(old)) == (200, {"batchItemFailures": []})
        assert shadow_items(ddb, shadow)[("K", "1")]["note"] == S("before the restore")
        assert emu.invoke(local_aws.event(new)) == (200, {"batchItemFailures": []})
        k = shadow_items(ddb, shadow)[("K", "1")]
        assert k["note"] == S("after the restore"), "the new stream's write won"
        assert k["_shadow_seq"]["S"].startswith(new_arn.rsplit("/stream/", 1)[1] + "/")
        # A redrive of the old stream after the new one: stale, nothing changes.
        assert emu.invoke(local_aws.event([old_k])) == (200, {"batchItemFailures": []})
        assert shadow_items(ddb, shadow)[("K", "1")] == k


# ---------------------------------------------------------------------------------------
# Deadlines: a slow endpoint gives partial failures before the function's timeout, never a
# timeout of the whole invocation.
# ---------------------------------------------------------------------------------------

def test_a_slow_endpoint_gives_partial_failures_not_a_timeout(aws, proxy, tmp_path):
    ddb, streams = aws
    source, shadow, arn = new_tables(ddb)
    for i in range(12):
        ddb.put_item(TableName=source, Item={"pk": S(f"K{i}"), "sk": S("1"), "note": S(f"v{i}")})
    records = local_aws.read_stream(streams, arn, source)
    proxy.clear()
    proxy.delay = 1.0
    proxy.script(["delay"] * 12)
    # 3 s timeout, 1 s margin, one write at a time, each answered after 1 s: about two land.
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url, "AWS_LAMBDA_FUNCTION_TIMEOUT": "3",
           "SHADOW_CONCURRENCY": "1", "SHADOW_DEADLINE_MARGIN_MS": "1000", "SHADOW_MAX_ATTEMPTS": "1"}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        t0 = time.monotonic()
        status, resp = emu.invoke(local_aws.event(records))
        took = time.monotonic() - t0
        assert status == 200 and isinstance(resp, dict), (status, resp)
        failed = [f["itemIdentifier"] for f in resp["batchItemFailures"]]
        assert 0 < len(failed) < len(records), resp
        assert took < 3.0, f"answered before the timeout ({took:.2f} s)"
        FIGURES["deadline_partial_failure"] = {"records": len(records), "failed": len(failed), "seconds": round(took, 2)}
        assert proxy.wait_idle(10)
        proxy.clear()
        # The retry from the lowest failed sequence number applies the rest.
        rest = [r for r in records if r["dynamodb"]["SequenceNumber"] in failed]
        assert emu.invoke(local_aws.event(rest)) == (200, {"batchItemFailures": []})
    assert len(shadow_items(ddb, shadow)) == len(records)


def test_an_item_that_fits_only_without_the_metadata_is_quarantined(aws, endpoint, tmp_path):
    """The item-size check counts the `_shadow_*` attributes: an image just under 400 KB
    would fail PutItem forever once they are added. It is quarantined instead."""
    ddb, _ = aws
    _, shadow, _ = new_tables(ddb)
    filler = 400 * 1024 - len("pk") - len("near") - len("sk") - len("x") - len("s") - 20
    body = ("hello world " * (filler // 12 + 1))[:filler]
    r = rec("near", new=img("near", s=S(body)))
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke({"Records": [r]}) == (200, {"batchItemFailures": []})
        logs = emu.logs()
    item = shadow_items(ddb, shadow)[("near", "x")]
    assert item["_shadow_quarantined"] == S("too_large") and "s" not in item
    assert "with its metadata" in logs
