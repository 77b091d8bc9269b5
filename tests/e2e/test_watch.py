"""`make watch`, as the README tells a new user to run it: the script starts a local
endpoint and `cargo lambda watch`, the `cargo lambda invoke` line it prints works against
the demo tables, and Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

ROOT = local_aws.ROOT


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_watch_serves_the_function_and_stops_on_ctrl_c(tmp_path):
    log = open(tmp_path / "watch.log", "w+")
    proc = subprocess.Popen([str(local_aws.VENV / "bin" / "python"), "scripts/watch.py"], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        out = ""
        while "Ctrl-C stops" not in out:
            assert proc.poll() is None, out[-3000:]
            assert time.monotonic() < deadline, out[-3000:]
            time.sleep(0.5)
            out = (tmp_path / "watch.log").read_text()
        invoke = next(l.strip() for l in out.splitlines() if "cargo lambda invoke" in l)
        endpoint = re.search(r"local DynamoDB \(moto\) at (\S+):", out).group(1)
        moto_port = int(endpoint.rsplit(":", 1)[1])
        fn_port = int(re.search(r"--invoke-port (\d+)", invoke).group(1))
        # The printed line, as a user would paste it (PATH=.venv/bin:$PATH prefix included).
        env_prefix, cmd = invoke.split(" ", 1)
        assert env_prefix == "PATH=.venv/bin:$PATH"
        env = {**os.environ, "PATH": f"{local_aws.VENV / 'bin'}:{os.environ['PATH']}"}
        r = subprocess.run(shlex.split(cmd), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"batchItemFailures": []}
        scan = subprocess.run([str(local_aws.VENV / "bin" / "python"), "scripts/watch.py", "scan"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
        items = [json.loads(l) for l in scan.stdout.splitlines()]
        assert len(items) >= 3, scan.stderr
        assert "sk_live_" not in scan.stdout and "@example.com" not in scan.stdout
        assert listening(moto_port) and listening(fn_port)

        proc.send_signal(signal.SIGINT)  # what Ctrl-C delivers to the foreground process
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        assert not listening(moto_port), "moto still running"
        assert not listening(fn_port), "cargo lambda watch still running"
        assert "stopped cargo lambda watch and moto." in (tmp_path / "watch.log").read_text()
        assert not (ROOT / ".work" / "watch.json").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
