#!/usr/bin/env python3
"""`make watch`: the function served by `cargo lambda watch`, writing to a local shadow table.

Starts moto's DynamoDB on a free loopback port with the demo tables (app-main with a stream,
app-main-shadow), serves shadow-lambda with `cargo lambda watch` (rebuilt on every save) and
the environment the template gives it (shadow table, endpoint, the example policy and a
development token key), prints the `cargo lambda invoke` line to try and how to look at the
shadow table, and on Ctrl-C (or SIGTERM) stops everything it started.

    make watch            # in one shell
    cargo lambda invoke shadow-lambda --invoke-address 127.0.0.1 --invoke-port PORT --data-file events/mixed-batch.json
    .venv/bin/python scripts/watch.py scan    # the shadow table, in another shell
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "harness"))
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
STATE = ROOT / ".work" / "watch.json"
# Development only: the key the example policy tokenizes with. Never a real key.
DEV_TOKEN_KEY = "dev-only-token-key-0123456789abcdef-watch"
POLICY = ROOT / "policies" / "app-main.toml"


def scan() -> int:
    if not STATE.exists():
        print("no `make watch` running (no .work/watch.json)", file=sys.stderr)
        return 1
    state = json.loads(STATE.read_text())
    ddb, _ = local_aws.clients(state["endpoint"])
    items = local_aws.scan_all(ddb, state["shadow"])
    for item in sorted(items, key=lambda i: json.dumps(i.get("pk"))):
        print(json.dumps(item))
    print(f"{len(items)} items in {state['shadow']}", file=sys.stderr)
    return 0


def serve() -> int:
    work = Path(tempfile.mkdtemp(prefix="dynamo-shadow-watch-"))
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    with local_aws.moto_server(work / "moto.log") as endpoint:
        ddb, _ = local_aws.clients(endpoint)
        local_aws.create_tables(ddb, "app-main", "app-main-shadow")
        port = local_aws.free_port()
        env_vars = {
            "SHADOW_TABLE": "app-main-shadow",
            "SHADOW_POLICY_FILE": str(POLICY),
            "SHADOW_TOKEN_KEY": DEV_TOKEN_KEY,
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL_STS": endpoint,
            **local_aws.CREDS,
        }
        env = {**os.environ, "PATH": f"{local_aws.VENV / 'bin'}:{os.environ.get('PATH', '')}"}
        cmd = ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1", "--invoke-port", str(port),
               "--env-vars", ",".join(f"{k}={v}" for k, v in env_vars.items())]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
        STATE.parent.mkdir(exist_ok=True)
        STATE.write_text(json.dumps({"endpoint": endpoint, "shadow": "app-main-shadow", "invoke_port": port,
                                     "pid": os.getpid()}))
        try:
            local_aws.wait_port(port, proc, 300, "cargo lambda watch")
            print(f"\nlocal DynamoDB (moto) at {endpoint}: tables app-main, app-main-shadow", flush=True)
            print(f"shadow-lambda served by cargo lambda watch on 127.0.0.1:{port} (policy {POLICY.relative_to(ROOT)})")
            print("try, in another shell:")
            print(f"  PATH=.venv/bin:$PATH cargo lambda invoke shadow-lambda --invoke-address 127.0.0.1 --invoke-port {port} --data-file events/mixed-batch.json")
            print("  .venv/bin/python scripts/watch.py scan")
            print("Ctrl-C stops the function and the local endpoint.", flush=True)
            proc.wait()
            return 0 if stopping else proc.returncode or 1
        except KeyboardInterrupt:
            return 0
        finally:
            local_aws.stop(proc)
            STATE.unlink(missing_ok=True)
            print("stopped cargo lambda watch and moto.", flush=True)


if __name__ == "__main__":
    sys.exit(scan() if sys.argv[1:] == ["scan"] else serve())
