"""Lambda figures under the Runtime Interface Emulator against moto: init duration (the
emulator's `INIT REPORT`), peak RSS of the function process for a 1,000-record batch
(VmHWM from /proc), invoke duration, and release binary size. Prints figures; asserts nothing.

    cargo build --release --bin shadow-lambda
    .venv/bin/python scripts/measure_lambda.py [--runs 5] [--records 1000]
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


def batch(n: int) -> dict:
    """n records over n/2 keys: realistic images taken from events/mixed-batch.json."""
    base = json.loads((EVENTS / "mixed-batch.json").read_text())["Records"]
    records = []
    for i in range(n):
        r = json.loads(json.dumps(base[i % len(base)]))
        key = f"K#{i // 2}"
        d = r["dynamodb"]
        d["Keys"]["pk"] = {"S": key}
        for img in ("NewImage", "OldImage"):
            if img in d:
                d[img]["pk"] = {"S": key}
        d["SequenceNumber"] = str(300000000000000000000 + i)
        records.append(r)
    return {"Records": records}


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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--binary", default=str(local_aws.ROOT / "target" / "release" / "shadow-lambda"))
    args = ap.parse_args()
    os.environ["SHADOW_LAMBDA_BIN"] = args.binary
    binary = Path(args.binary)
    if not binary.exists():
        print(f"{binary} missing: cargo build --release --bin shadow-lambda", file=sys.stderr)
        return 1
    ev = batch(args.records)
    inits, rss, durations = [], [], []
    work = Path(tempfile.mkdtemp(prefix="measure-"))
    with local_aws.moto_server(work / "moto.log") as endpoint:
        ddb, _ = local_aws.clients(endpoint)
        for run in range(args.runs):
            local_aws.create_tables(ddb, f"src-{run}", f"shadow-{run}")
            env = {"SHADOW_TABLE": f"shadow-{run}", "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
            with local_aws.Emulator(env, work / f"rie-{run}.log") as emu:
                t0 = time.monotonic()
                status, resp = emu.invoke(ev)
                wall = time.monotonic() - t0
                assert status == 200 and resp == {"batchItemFailures": []}, resp
                pid = child_pid(emu.proc.pid)
                rss.append(vm_hwm_kb(pid) / 1024 if pid else float("nan"))
                logs = emu.logs()
            m = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", logs)
            inits.append(float(m.group(1)) if m else float("nan"))
            d = re.search(r"INVOKE RTDONE\(status: success, produced bytes: \d+, duration: ([0-9.]+)ms\)", logs)
            durations.append(float(d.group(1)) if d else wall * 1000)
            items = len(local_aws.scan_all(ddb, f"shadow-{run}"))
            keys = {json.dumps(r["dynamodb"]["Keys"], sort_keys=True) for r in ev["Records"]}
            assert items == len(keys), (items, len(keys))
    size_mb = binary.stat().st_size / 1e6
    print(f"binary            {binary} {size_mb:.1f} MB")
    print(f"init (INIT REPORT) median {statistics.median(inits):.1f} ms  (runs: {', '.join(f'{x:.1f}' for x in inits)})")
    print(f"peak RSS           max {max(rss):.1f} MB for a {args.records}-record batch (runs: {', '.join(f'{x:.1f}' for x in rss)})")
    print(f"invoke duration    median {statistics.median(durations):.0f} ms for {args.records} records over {len(keys)} keys (moto on loopback)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
