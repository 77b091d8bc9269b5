#!/usr/bin/env python3
"""Figures, not a test: the Python package's items/s against the Rust CLI on the same items
(the blind evaluation corpus, 3,000 items), one core. The CLI's figure is a whole process
(sanitizer built, regexes compiled and their caches warmed on the way); "cold sanitizer" is
the same for the package; the other Python rows reuse one warm sanitizer, as a Django process
would.

    make wheel && cargo build --release --bin dynamo-shadow && .venv/bin/python scripts/bench_python.py
"""

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "blind" / "corpus.jsonl"
CLI = Path(os.environ.get("DYNAMO_SHADOW_BIN", ROOT / "target" / "release" / "dynamo-shadow"))
ROUNDS = int(os.environ.get("ROUNDS", "5"))


def main() -> int:
    import dynamo_shadow
    from boto3.dynamodb.types import TypeDeserializer

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    from test_same_as_cli import client_style

    groups = defaultdict(list)
    for line in CORPUS.read_text().splitlines():
        row = json.loads(line)
        groups[tuple(row["keys"])].append(row["item"])
    n = sum(len(v) for v in groups.values())
    body = sum(len(json.dumps(i)) for v in groups.values() for i in v)
    des = TypeDeserializer()
    resource = {k: [{a: des.deserialize(client_style(x)) for a, x in i.items()} for i in v] for k, v in groups.items()}
    s = dynamo_shadow.Sanitizer.default()

    def best(f):
        times = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times)

    def py_json():
        for keys, items in groups.items():
            for i in items:
                s.sanitize_item(i, keys=keys, format="dynamodb")

    def py_resource():
        for keys, items in resource.items():
            for i in items:
                s.sanitize_item(i, keys=keys, format="python")

    def cli():
        for keys, items in groups.items():
            stdin = "".join(json.dumps(i) + "\n" for i in items)
            args = [str(CLI), "sanitize"] + [a for k in keys for a in ("--key", k)]
            subprocess.run(args, input=stdin, capture_output=True, text=True, check=True,
                           env={**os.environ, "TOKIO_WORKER_THREADS": "1"})

    def py_cold():
        # What the CLI pays per process: build the sanitizer, cold regex and DFA caches.
        nonlocal s
        s = dynamo_shadow.Sanitizer.default()
        py_json()

    rows = [("python, DynamoDB JSON, cold sanitizer", best(py_cold))]
    rows += [("python, DynamoDB JSON", best(py_json)), ("python, resource-style", best(py_resource))]
    if CLI.exists():
        rows.append((f"CLI ({CLI.relative_to(ROOT)})", best(cli)))
    wheels = sorted((ROOT / "target" / "wheels").glob("dynamo_shadow-*.whl"))
    print(f"{n} items, {body / 1e6:.2f} MB of DynamoDB JSON, best of {ROUNDS}")
    for name, t in rows:
        print(f"  {name:<40} {n / t:>9,.0f} items/s  {body / t / 1e6:6.1f} MB/s")
    if wheels:
        print(f"  wheel {wheels[-1].name}: {wheels[-1].stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
