"""`make demo`: a real DynamoDB stream turned into a redacted shadow table on this machine.

Starts moto's DynamoDB server, creates a source table with a stream and a shadow table,
writes a few realistic items (a user profile with an API key, a support ticket with a card
number and an email, a debug log with a bearer token), drives the stream through the real
shadow-lambda binary under the AWS Lambda Runtime Interface Emulator, prints source and
shadow side by side, and stops everything it started."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "harness"))
import local_aws  # noqa: E402

S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": n}  # noqa: E731

ITEMS = [
    {"pk": S("USER#1001"), "sk": S("PROFILE"), "name": S("Alice Jones"), "email": S("alice.jones@example.com"),
     "api_key": S("sk_live_4eC39HqLyjWDarjtT1zdp7dc"), "session_token": S("c2Vzc2lvbi0xMjM0NTY3ODkw"),
     "plan": S("pro"), "login_count": N("42"), "tags": {"SS": ["beta", "admin"]},
     "profile": {"M": {"city": S("Berlin"), "phone": S("+49 30 12345678")}}},
    {"pk": S("TICKET#5521"), "sk": S("META"), "subject": S("Charged twice for order ORD-2026-000123"),
     "body": S("My card 4929 1308 7752 6389 was charged twice. Email me at bob.smith@example.org."),
     "status": S("open"), "amount": N("149.99"), "request_id": S("7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c47")},
    {"pk": S("LOG#web-1"), "sk": S("2026-11-25T09:00:00Z"), "level": S("ERROR"),
     "message": S("GET /api/v1/orders 500 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEwMDEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"),
     "debug_log": S("connecting to postgres://app:S3cr3tPa55w0rd@db.internal:5432/prod"), "duration_ms": N("1834")},
    {"pk": S("SESSION#77"), "sk": S("META"), "user": S("USER#1001"), "cookie": S("sessionid=8f14e45fceea167a5a36dedd4bea2543")},
]


def plain(v: dict):
    (t, x), = v.items()
    if t == "M":
        return {k: plain(e) for k, e in x.items()}
    if t == "L":
        return [plain(e) for e in x]
    return x


def show(v) -> str:
    s = json.dumps(plain(v) if v is not None else None, ensure_ascii=False) if v is not None else "(dropped)"
    return s if len(s) <= 62 else s[:59] + "..."


def main() -> int:
    binary = local_aws.lambda_binary()
    if not binary.exists():
        print(f"{binary} is missing: run `cargo build --bins` (make demo does)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="dynamo-shadow-demo-"))
    try:
        print("starting moto's DynamoDB server on a free loopback port ...")
        with local_aws.moto_server(work / "moto.log") as endpoint:
            ddb, streams = local_aws.clients(endpoint)
            stream_arn = local_aws.create_tables(ddb, "app-main", "app-main-shadow")
            print(f"created source table app-main (stream NEW_AND_OLD_IMAGES) and shadow table app-main-shadow at {endpoint}")
            for item in ITEMS:
                ddb.put_item(TableName="app-main", Item=item)
            ddb.update_item(TableName="app-main", Key={"pk": S("TICKET#5521"), "sk": S("META")},
                            UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":s": S("resolved")})
            ddb.delete_item(TableName="app-main", Key={"pk": S("SESSION#77"), "sk": S("META")})
            records = local_aws.read_stream(streams, stream_arn, "app-main")
            kinds = ", ".join(f"{sum(r['eventName'] == k for r in records)} {k}" for k in ("INSERT", "MODIFY", "REMOVE"))
            print(f"wrote {len(ITEMS)} items, updated 1, deleted 1: the stream holds {len(records)} records ({kinds})")

            env = {"SHADOW_TABLE": "app-main-shadow", "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
            with local_aws.Emulator(env, work / "lambda.log") as emu:
                print(f"invoking {binary.name} under the Lambda Runtime Interface Emulator ...")
                status, resp = emu.invoke(local_aws.event(records))
                logs = emu.logs()
            print(f"response (HTTP {status}): {json.dumps(resp)}")
            for line in logs.splitlines():
                if "batch" in line and "records=" in line:
                    print("function log:", line.split("}: ", 1)[-1].strip())

            source = {(i["pk"]["S"], i["sk"]["S"]): i for i in local_aws.scan_all(ddb, "app-main")}
            shadow = {(i["pk"]["S"], i["sk"]["S"]): i for i in local_aws.scan_all(ddb, "app-main-shadow")}
            width = 28
            for key in sorted(set(source) | set(shadow)):
                src, sh = source.get(key), shadow.get(key)
                print()
                print(f"== {key[0]} / {key[1]} " + "=" * 60)
                print(f"{'attribute':<{width}} {'source':<64} shadow")
                if sh and "_shadow_deleted" in sh:
                    print(f"{'(item)':<{width}} {'(deleted)':<64} tombstone until {sh['_shadow_expires_at']['N']} (TTL)")
                    continue
                names = sorted(set(src or {}) | set(sh or {}))
                for n in names:
                    if n.startswith("_shadow_"):
                        continue
                    print(f"{n:<{width}} {show((src or {}).get(n)):<64} {show((sh or {}).get(n))}")
            planted = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4929 1308 7752 6389", "bob.smith@example.org", "S3cr3tPa55w0rd",
                       "alice.jones@example.com", "eyJhbGciOiJIUzI1NiJ9", "8f14e45fceea167a5a36dedd4bea2543"]
            dump = json.dumps(list(shadow.values()))
            leaked = [p for p in planted if p in dump]
            print()
            print(f"shadow table: {len(shadow)} items, {len(leaked)} of {len(planted)} planted secrets present")
            if status != 200 or resp.get("batchItemFailures") or leaked:
                print("demo FAILED", file=sys.stderr)
                return 1
        print("stopped moto and the emulator; done.")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
