"""End to end with real parts: a source table with a stream on moto's DynamoDB server, the
stream read back through the Streams API, and the real shadow-lambda binary invoked under
the AWS Lambda Runtime Interface Emulator from the aws-sam-cli package.

Run through `make test` (it starts moto and passes DYNAMO_SHADOW_TEST_ENDPOINT)."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
EVENTS = ROOT / "events"
PLANTED = json.loads((EVENTS / "planted-secrets.json").read_text())
S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": n}  # noqa: E731

USER_SECRETS = ["sk_live_9a8b7c6d5e4f3g2h1i0jKLMN", "alice.jones@example.com", "+44 20 7946 0958", "tok-2f9d8a7c6b5e4d3c2b1a"]
TICKET_SECRETS = ["4929 1308 7752 6389", "bob@example.org", "536-22-8714"]
LOG_SECRETS = ["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", "S3cr3tPa55"]


@pytest.fixture
def tables(aws):
    ddb, _ = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"src-{name}", f"shadow-{name}"
    stream_arn = local_aws.create_tables(ddb, source, shadow)
    return source, shadow, stream_arn


@pytest.fixture
def emulator(endpoint, tmp_path, tables):
    _, shadow, _ = tables
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_LAMBDA_LOG_LEVEL": "trace", "RUST_LOG": "trace"}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        yield emu


def shadow_items(ddb, shadow) -> dict:
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in local_aws.scan_all(ddb, shadow)}


def assert_no_secret(blob: str, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s in blob]
    assert not leaked, f"{len(leaked)} planted values leaked"


def test_stream_to_shadow_end_to_end(aws, tables, emulator):
    ddb, streams = aws
    source, shadow, stream_arn = tables
    ddb.put_item(TableName=source, Item={
        "pk": S("USER#1"), "sk": S("PROFILE"), "name": S("Alice Jones"), "api_key": S(USER_SECRETS[0]),
        "bio": S(f"Mail {USER_SECRETS[1]} or call {USER_SECRETS[2]}"), "sessionToken": S(USER_SECRETS[3]),
        "login_count": N("12345678901234567890123456789012345678"), "tags": {"SS": ["beta", "admin"]},
        "scores": {"NS": ["1.5", "2"]}, "avatar": {"B": b"\x89PNG\r\n\x1a\n\x00\x00"},
        "prefs": {"M": {"theme": S("dark"), "langs": {"L": [S("en"), S("de")]}, "active": {"BOOL": True}, "nick": {"NULL": True}}},
    })
    ddb.put_item(TableName=source, Item={
        "pk": S("TICKET#9"), "sk": S("META"), "status": S("open"),
        "body": S(f"Card {TICKET_SECRETS[0]} charged twice, reply to {TICKET_SECRETS[1]}, SSN {TICKET_SECRETS[2]}"),
        "order_id": S("ORD-2026-000123"), "sha256": S("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        "request_id": S("7f3c9a2e-4b1d-4e8a-9c6f-2d5e8b1a0c47"), "tracking": N("1234567812345678"),
    })
    ddb.put_item(TableName=source, Item={
        "pk": S("LOG#1"), "sk": S("2026-11-25"), "message": S(f"push with {LOG_SECRETS[0]}"),
        "debug_log": S(f"postgres://app:{LOG_SECRETS[1]}@db:5432/x"),
    })
    ddb.update_item(TableName=source, Key={"pk": S("TICKET#9"), "sk": S("META")},
                    UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": S("closed")})
    ddb.delete_item(TableName=source, Key={"pk": S("LOG#1"), "sk": S("2026-11-25")})

    records = local_aws.read_stream(streams, stream_arn, source)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "INSERT", "MODIFY", "REMOVE"]
    before = time.time()
    status, resp = emulator.invoke(local_aws.event(records))
    assert status == 200, resp
    assert resp == {"batchItemFailures": []}

    items = shadow_items(ddb, shadow)
    assert set(items) == {("USER#1", "PROFILE"), ("TICKET#9", "META"), ("LOG#1", "2026-11-25")}
    user = items[("USER#1", "PROFILE")]
    assert user["name"] == S("Alice Jones")
    assert "api_key" not in user and "sessionToken" not in user
    assert user["bio"] == S("Mail [REDACTED:EMAIL] or call [REDACTED:PHONE]")
    assert user["login_count"] == N("12345678901234567890123456789012345678"), "numbers stay exact"
    assert sorted(user["tags"]["SS"]) == ["admin", "beta"] and sorted(user["scores"]["NS"]) == ["1.5", "2"]
    assert user["avatar"] == {"B": b"\x89PNG\r\n\x1a\n\x00\x00"}, "binary with nothing readable and sensitive is kept"
    assert user["prefs"] == {"M": {"theme": S("dark"), "langs": {"L": [S("en"), S("de")]}, "active": {"BOOL": True}, "nick": {"NULL": True}}}
    label, padded = user["_shadow_seq"]["S"].rsplit("/", 1)
    assert records[0]["eventSourceARN"].endswith(f"/stream/{label}"), "the position starts with the stream label"
    assert len(padded) == 40 and padded.lstrip("0") == records[0]["dynamodb"]["SequenceNumber"]
    assert len(user["_shadow_policy"]["S"]) == 16

    ticket = items[("TICKET#9", "META")]
    assert ticket["status"] == S("closed"), "the MODIFY was applied after its INSERT"
    assert ticket["body"] == S("Card [REDACTED:CARD_NUMBER] charged twice, reply to [REDACTED:EMAIL], SSN [REDACTED:SSN]")
    for harmless in ("order_id", "sha256", "request_id", "tracking"):
        assert harmless in ticket
    assert ticket["tracking"] == N("1234567812345678"), "a 16-digit number that fails Luhn survives"

    tomb = items[("LOG#1", "2026-11-25")]
    assert tomb["_shadow_deleted"] == {"BOOL": True}
    assert set(tomb) == {"pk", "sk", "_shadow_seq", "_shadow_deleted", "_shadow_expires_at", "_shadow_policy"}
    assert int(tomb["_shadow_expires_at"]["N"]) >= before + 48 * 3600

    dump = json.dumps(list(items.values()), default=repr)
    assert_no_secret(dump, USER_SECRETS + TICKET_SECRETS + LOG_SECRETS)

    # Replaying the same batch changes nothing and reports nothing failed.
    status, resp = emulator.invoke(local_aws.event(records))
    assert (status, resp) == (200, {"batchItemFailures": []})
    assert shadow_items(ddb, shadow) == items

    # An older record redriven after newer ones never overwrites newer state or resurrects a delete.
    status, resp = emulator.invoke(local_aws.event([records[1], records[2]]))
    assert (status, resp) == (200, {"batchItemFailures": []})
    after = shadow_items(ddb, shadow)
    assert after[("TICKET#9", "META")]["status"] == S("closed")
    assert after[("LOG#1", "2026-11-25")]["_shadow_deleted"] == {"BOOL": True}

    # One embedded-metric (EMF) line per batch: counts only, one low-cardinality dimension.
    logs = emulator.logs()
    emf = [json.loads(line) for line in logs.splitlines() if line.startswith('{"') and '"_aws"' in line]
    assert len(emf) == 3, f"{len(emf)} EMF lines for 3 batches"
    first = emf[0]
    spec = first["_aws"]["CloudWatchMetrics"][0]
    assert spec["Namespace"] == "DynamoShadow" and spec["Dimensions"] == [["FunctionName"]]
    names = [m["Name"] for m in spec["Metrics"]]
    assert set(first) == set(names) | {"_aws", "FunctionName"}, "nothing but declared metrics"
    assert all(isinstance(first[n], (int, float)) for n in names)
    assert (first["Records"], first["Written"], first["Deleted"], first["FailedRecords"]) == (5, 2, 1, 0)
    assert first["RedactedPii"] >= 5 and first["RedactedSecrets"] >= 3
    assert [e["StaleSkipped"] for e in emf[1:]] == [5, 2], "the replay and the redrive were stale"

    # Nothing the function printed carries a planted value.
    assert '"batch"' in logs or "batch" in logs
    assert_no_secret(logs, USER_SECRETS + TICKET_SECRETS + LOG_SECRETS)


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json") if p.name != "planted-secrets.json"))
def test_each_event_file(aws, tables, emulator, name):
    ddb, _ = aws
    _, shadow, _ = tables
    ev = json.loads((EVENTS / name).read_text())
    status, resp = emulator.invoke(ev)
    assert (status, resp) == (200, {"batchItemFailures": []})
    items = shadow_items(ddb, shadow)
    assert items, "every event writes something (an image or a tombstone)"
    last = {}
    for r in ev["Records"]:
        k = (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"])
        last[k] = r
    for k, r in last.items():
        if r["eventName"] == "REMOVE":
            assert items[k]["_shadow_deleted"] == {"BOOL": True}
        else:
            assert "_shadow_deleted" not in items[k]
            # Harmless attributes survive untouched.
            for attr, v in r["dynamodb"]["NewImage"].items():
                if attr in ("name", "plan", "order_id", "status", "level", "provider", "login_count", "amount"):
                    assert items[k][attr] == v
    assert_no_secret(json.dumps(list(items.values()), default=repr), PLANTED)
    assert_no_secret(emulator.logs(), PLANTED)


def test_keys_only_stream_is_quarantined_never_written(aws, endpoint, tmp_path):
    ddb, streams = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"src-{name}", f"shadow-{name}"
    arn = local_aws.create_tables(ddb, source, shadow, stream_view="KEYS_ONLY")
    ddb.put_item(TableName=source, Item={"pk": S("U#1"), "sk": S("P"), "api_key": S(USER_SECRETS[0])})
    records = local_aws.read_stream(streams, arn, source)
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke(local_aws.event(records))
        logs = emu.logs()
    assert status == 200
    # No image can ever come from a KEYS_ONLY stream: permanent, so not retried; the key's
    # shadow item is a marker with no data (backfill heals it once the stream is fixed).
    assert resp == {"batchItemFailures": []}
    [item] = local_aws.scan_all(ddb, shadow)
    assert item["_shadow_quarantined"] == S("no_new_image") and "api_key" not in item
    assert "KEYS_ONLY" in logs and "record quarantined" in logs


def test_bad_setting_fails_init_naming_the_variable(tables, endpoint, tmp_path):
    _, shadow, _ = tables
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_CONCURRENCY": "zero"}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke({"Records": []}, timeout=30)
        logs = emu.logs()
    assert status != 200 or "errorType" in json.dumps(resp), resp
    assert "SHADOW_CONCURRENCY" in logs


def test_unreachable_store_reports_every_record_failed(tables, tmp_path):
    _, shadow, _ = tables
    dead = f"http://127.0.0.1:{local_aws.free_port()}"
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": dead, "SHADOW_MAX_ATTEMPTS": "2"}
    ev = json.loads((EVENTS / "mixed-batch.json").read_text())
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke(ev)
        logs = emu.logs()
    assert status == 200
    failed = [f["itemIdentifier"] for f in resp["batchItemFailures"]]
    assert failed == [r["dynamodb"]["SequenceNumber"] for r in ev["Records"]]
    assert_no_secret(logs, PLANTED)
