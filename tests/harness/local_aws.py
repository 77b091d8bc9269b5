"""Real local AWS parts for tests and the demo: moto's DynamoDB server, DynamoDB Streams
read back into Lambda events, and the shadow-lambda binary run under the AWS Lambda
Runtime Interface Emulator (the one inside the aws-sam-cli package, which `sam local
invoke` also uses). Every process started here is stopped here."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
REGION = "us-east-1"
CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early with code {proc.returncode}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def moto_server(log_path: Path | None = None):
    """Starts moto's server on a free loopback port; yields its endpoint URL."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_port(port, proc, 60, "moto_server")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        if log_path:
            log.close()


def clients(endpoint: str):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("dynamodb", **kw), boto3.client("dynamodbstreams", **kw)


def _key_schema(keys) -> tuple[list, list]:
    attrs = [{"AttributeName": k, "AttributeType": t} for k, t in keys]
    schema = [{"AttributeName": k, "KeyType": kt} for (k, _), kt in zip(keys, ("HASH", "RANGE"))]
    return attrs, schema


def create_source(ddb, source: str, keys=(("pk", "S"), ("sk", "S")), stream_view="NEW_AND_OLD_IMAGES") -> str:
    """Creates a source table with a stream; returns the stream ARN."""
    attrs, schema = _key_schema(keys)
    return ddb.create_table(
        TableName=source, AttributeDefinitions=attrs, KeySchema=schema, BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": stream_view},
    )["TableDescription"]["LatestStreamArn"]


def create_tables(ddb, source: str, shadow: str, keys=(("pk", "S"), ("sk", "S")), stream_view="NEW_AND_OLD_IMAGES") -> str:
    """Creates a source table with a stream and a shadow table with the same key; returns the stream ARN."""
    arn = create_source(ddb, source, keys, stream_view)
    attrs, schema = _key_schema(keys)
    ddb.create_table(TableName=shadow, AttributeDefinitions=attrs, KeySchema=schema, BillingMode="PAY_PER_REQUEST")
    return arn


def _jsonable(v):
    # boto3 returns Binary for B and sets for SS/NS/BS; Lambda events carry base64 and lists.
    import base64
    from boto3.dynamodb.types import Binary
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, Binary):
        return base64.b64encode(v.value).decode()
    return v


def read_stream(streams, stream_arn: str, table: str) -> list[dict]:
    """Every record of every shard, in stream order, shaped like Lambda's DynamoDB event records."""
    records = []
    desc = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in desc["Shards"]:
        it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            out = streams.get_records(ShardIterator=it, Limit=1000)
            for r in out["Records"]:
                r = _jsonable(r)
                d = r["dynamodb"]
                t = out["Records"] and d.get("ApproximateCreationDateTime")
                if hasattr(t, "timestamp"):
                    d["ApproximateCreationDateTime"] = t.timestamp()
                elif t is None:
                    d["ApproximateCreationDateTime"] = time.time()
                r["eventSourceARN"] = stream_arn
                r.setdefault("eventSource", "aws:dynamodb")
                r.setdefault("awsRegion", REGION)
                records.append(r)
            if not out["Records"]:
                break
            it = out.get("NextShardIterator")
    records.sort(key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    return records


def event(records: list[dict]) -> dict:
    return {"Records": records}


def rie_binary() -> str:
    arch = "arm64" if os.uname().machine in ("aarch64", "arm64") else "x86_64"
    found = glob.glob(str(VENV / "lib" / "python3*" / "site-packages" / "samcli" / "local" / "rapid" / f"aws-lambda-rie-{arch}"))
    if not found:
        raise RuntimeError("aws-lambda-rie not found in the venv: run `make bootstrap` (it installs aws-sam-cli)")
    return found[0]


def lambda_binary() -> Path:
    """The stream function."""
    return Path(os.environ.get("SHADOW_LAMBDA_BIN", ROOT / "target" / "debug" / "shadow-lambda"))


def backfill_binary() -> Path:
    """The backfill-segment function (the state machine's task)."""
    return Path(os.environ.get("SHADOW_BACKFILL_BIN", ROOT / "target" / "debug" / "shadow-backfill"))


class Emulator:
    """A function binary (the stream function by default) under the Runtime Interface
    Emulator, on a free loopback port."""

    def __init__(self, env: dict, log_path: Path, binary: Path | None = None):
        self.binary = binary or lambda_binary()
        self.port = free_port()
        # The Runtime API the function polls: a free port too, not the emulator's fixed 9001,
        # so that several emulators (parallel test runs) can live on one machine.
        self.runtime_api_port = free_port()
        self.log_path = log_path
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **CREDS, **env}
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [rie_binary(), "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
             "--runtime-api-address", f"127.0.0.1:{self.runtime_api_port}", str(self.binary)],
            env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_port(self.port, self.proc, 30, "aws-lambda-rie")

    def invoke(self, payload: dict, timeout: float = 120) -> tuple[int, dict | str]:
        return self.invoke_raw(json.dumps(payload).encode(), timeout)

    def invoke_raw(self, data: bytes, timeout: float = 120) -> tuple[int, dict | str]:
        """Invokes with exactly these bytes as the payload (malformed JSON included)."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
            data=data, method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read().decode()
                status = resp.status
        except urllib.error.HTTPError as e:
            body, status = e.read().decode(), e.code
        try:
            return status, json.loads(body)
        except json.JSONDecodeError:
            return status, body

    def logs(self) -> str:
        self._log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def runtime_pid(self) -> int | None:
        """The PID of the function process the emulator runs (it changes after a reset, e.g. a
        timeout), or None when none is running."""
        return child_pid(self.proc.pid, self.binary.name[:15])

    def close(self) -> None:
        stop(self.proc)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def child_pid(parent: int, comm: str) -> int | None:
    """A live child of `parent` whose command name is `comm` (Linux /proc)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        if name == comm and int(rest[1]) == parent and rest[0] != "Z":
            return int(d)
    return None


def proc_status_kb(pid: int, field: str = "VmHWM") -> int:
    """A memory figure from /proc/PID/status in kB (VmHWM = peak resident set size)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def scan_all(ddb, table: str) -> list[dict]:
    items, kw = [], {}
    while True:
        out = ddb.scan(TableName=table, **kw)
        items.extend(out["Items"])
        if "LastEvaluatedKey" not in out:
            return items
        kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def run_with_moto(cmd: list[str]) -> int:
    """`python local_aws.py CMD...`: runs CMD with a moto server's endpoint in its environment."""
    log = ROOT / ".work" / "moto.log"
    log.parent.mkdir(exist_ok=True)
    with moto_server(log) as endpoint:
        env = {**os.environ, **CREDS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "DYNAMO_SHADOW_TEST_ENDPOINT": endpoint}
        return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(run_with_moto(sys.argv[1:]))
