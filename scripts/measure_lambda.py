"""Lambda figures under the Runtime Interface Emulator against moto: init duration (the
emulator's `INIT REPORT`), peak RSS of the function process (VmHWM from /proc) for a
1,000-record batch and for a batch just under Lambda's 6 MB payload limit, both of realistic
~2 KB records built from the blind corpus, invoke duration, and release binary size. Prints
figures; asserts nothing.

    cargo build --release --bin shadow-lambda
    .venv/bin/python scripts/measure_lambda.py [--runs 3] [--records 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "harness"))
import local_aws  # noqa: E402

EVENTS = local_aws.ROOT / "events"


CORPUS = local_aws.ROOT / "tests" / "corpus" / "blind" / "corpus.jsonl"


def corpus_items() -> list[dict]:
    """Realistic Django-style items (profiles, tickets, logs, configs ...), ~1.6 KB each."""
    return [json.loads(line)["item"] for line in CORPUS.read_text().splitlines() if line.strip()]


def batch(n: int, items: list[dict]) -> dict:
    """n records over n/2 keys, every other one a MODIFY with both images: about 2 KB a record."""
    records = []
    for i in range(n):
        key = {"pk": {"S": f"K#{i // 2}"}, "sk": {"S": "S"}}
        new = {**items[i % len(items)], **key}
        d = {"Keys": key, "NewImage": new, "SequenceNumber": str(300000000000000000000 + i),
             "SizeBytes": len(json.dumps(new)), "StreamViewType": "NEW_AND_OLD_IMAGES",
             "ApproximateCreationDateTime": 1764000000}
        name = "INSERT"
        if i % 2:
            name = "MODIFY"
            d["OldImage"] = {**items[(i + 7) % len(items)], **key}
        records.append({"eventID": f"e{i}", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
                        "awsRegion": "us-east-1", "dynamodb": d,
                        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/src/stream/2026-01-01T00:00:00.000"})
    return {"Records": records}


def batch_of_bytes(target: int, items: list[dict]) -> dict:
    """The largest batch under `target` bytes of JSON (Lambda's payload limit is 6 MB)."""
    n = 1000
    per = len(json.dumps(batch(n, items))) / n
    n = int(target / per)
    while len(json.dumps(batch(n, items))) > target:
        n -= 10
    return batch(n, items)


def child_pid(rie_pid: int) -> int | None:
    for task in Path(f"/proc/{rie_pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        if kids:
            return int(kids[0])
    return None


def vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def run(ev: dict, runs: int, work: Path, endpoint: str, ddb, tag: str) -> tuple[list, list, list, int]:
    inits, rss, durations = [], [], []
    keys = {json.dumps(r["dynamodb"]["Keys"], sort_keys=True) for r in ev["Records"]}
    for run in range(runs):
        src, shadow = f"src-{tag}-{run}", f"shadow-{tag}-{run}"
        local_aws.create_tables(ddb, src, shadow)
        env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
        with local_aws.Emulator(env, work / f"rie-{tag}-{run}.log") as emu:
            t0 = time.monotonic()
            status, resp = emu.invoke(ev, timeout=300)
            wall = time.monotonic() - t0
            assert status == 200 and resp == {"batchItemFailures": []}, str(resp)[:300]
            pid = child_pid(emu.proc.pid)
            rss.append(vm_hwm_kb(pid) / 1024 if pid else float("nan"))
            logs = emu.logs()
        m = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", logs)
        inits.append(float(m.group(1)) if m else float("nan"))
        d = re.search(r"INVOKE RTDONE\(status: success, produced bytes: \d+, duration: ([0-9.]+)ms\)", logs)
        durations.append(float(d.group(1)) if d else wall * 1000)
        items = len(local_aws.scan_all(ddb, shadow))
        assert items == len(keys), (items, len(keys))
    return inits, rss, durations, len(keys)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--binary", default=str(local_aws.ROOT / "target" / "release" / "shadow-lambda"))
    args = ap.parse_args()
    os.environ["SHADOW_LAMBDA_BIN"] = args.binary
    binary = Path(args.binary)
    if not binary.exists():
        print(f"{binary} missing: cargo build --release --bin shadow-lambda", file=sys.stderr)
        return 1
    items = corpus_items()
    events = [(f"{args.records} records", batch(args.records, items)), ("6 MB event", batch_of_bytes(6_000_000, items))]
    work = Path(tempfile.mkdtemp(prefix="measure-"))
    size_mb = binary.stat().st_size / 1e6
    print(f"binary             {binary} {size_mb:.1f} MB")
    with local_aws.moto_server(work / "moto.log") as endpoint:
        ddb, _ = local_aws.clients(endpoint)
        for i, (name, ev) in enumerate(events):
            event_mb = len(json.dumps(ev)) / 1e6
            inits, rss, durations, keys = run(ev, args.runs, work, endpoint, ddb, str(i))
            n = len(ev["Records"])
            target = 4 * event_mb + 20
            print(f"{name}: {n} records, {event_mb:.2f} MB of event, {keys} keys")
            print(f"  init (INIT REPORT) median {statistics.median(inits):.1f} ms  (runs: {', '.join(f'{x:.1f}' for x in inits)})")
            print(f"  peak RSS           max {max(rss):.1f} MB  (target 4 x event + 20 MB = {target:.1f} MB; "
                  f"{max(rss) / event_mb:.1f} MB per event MB)")
            print(f"  invoke duration    median {statistics.median(durations):.0f} ms (moto on loopback)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
