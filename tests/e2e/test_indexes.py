"""Shadow indexes end to end: the real function under the Runtime Interface Emulator writes
a shadow table with a GSI on moto; a Query by a tokenized customer id returns that customer's
sanitized tickets and never a tombstone, and the Python reader gives the same. Run through
`make test` (which also installs the `dynamo_shadow` wheel)."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

TOKEN_KEY = "0123456789abcdef0123456789abcdef-gsi-key"
S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": str(n)}  # noqa: E731
EMAIL = "maria.k@example.org"

POLICY = (local_aws.ROOT / "policies" / "tickets.toml").read_text()


def shadow_with_index(ddb, shadow: str) -> None:
    ddb.create_table(
        TableName=shadow,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "customer_id", "created_at")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by_customer",
            "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"}, {"AttributeName": "created_at", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
    )


def test_query_a_shadow_index_by_tokenized_customer_id(aws, endpoint, tmp_path):
    ds = pytest.importorskip("dynamo_shadow", reason="run through `make test`, which installs the wheel")
    ddb, streams = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"tickets-{name}", f"tickets-{name}-shadow"
    src = ddb.create_table(
        TableName=source,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = src["TableDescription"]["LatestStreamArn"]
    shadow_with_index(ddb, shadow)

    def ticket(n, customer, created, body):
        return {"pk": S(f"TICKET#{n}"), "sk": S("META"), "customer_id": S(customer), "created_at": created,
                "status": S("open"), "body": S(body)}

    ddb.put_item(TableName=source, Item=ticket(1, "c-42", S("2026-11-01"), f"Printer jammed, call me at {EMAIL}"))
    ddb.put_item(TableName=source, Item=ticket(2, "c-42", S("2026-11-02"), "Duplicate of ticket 1"))
    ddb.put_item(TableName=source, Item=ticket(3, "c-42", S("2026-11-03"), "Toner is low"))
    # created_at as a number: the index declares S, so the shadow item is written without it.
    ddb.put_item(TableName=source, Item=ticket(4, "c-42", N(20261104), "Legacy import"))
    ddb.put_item(TableName=source, Item=ticket(5, "c-7", S("2026-11-05"), "Another customer"))
    ddb.delete_item(TableName=source, Key={"pk": S("TICKET#2"), "sk": S("META")})
    records = local_aws.read_stream(streams, arn, source)

    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_POLICY": POLICY, "SHADOW_TOKEN_KEY": TOKEN_KEY}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke(local_aws.event(records))
        logs = emu.logs()
    assert (status, resp) == (200, {"batchItemFailures": []}), logs[-2000:]
    emf = [json.loads(l) for l in logs.splitlines() if l.startswith("{") and "CloudWatchMetrics" in l]
    assert sum(m["SparseIndexKeys"] for m in emf) == 1, emf

    sanitizer = ds.Sanitizer.from_policy_str(POLICY, token_key=TOKEN_KEY)
    token = sanitizer.shadow_value("customer_id", "c-42")
    assert token.startswith("tok_")

    # The raw Query, as boto3 users would write it.
    got = ddb.query(TableName=shadow, IndexName="by_customer", KeyConditionExpression="customer_id = :c",
                    ExpressionAttributeValues={":c": S(token)})["Items"]
    assert sorted(i["pk"]["S"] for i in got) == ["TICKET#1", "TICKET#3"], got
    assert not any("_shadow_deleted" in i or "_shadow_quarantined" in i for i in got), "no tombstone in the index"
    dump = json.dumps(got)
    assert EMAIL not in dump and "c-42" not in dump and TOKEN_KEY not in dump
    assert "[REDACTED:EMAIL]" in dump

    # The tombstone and the sparse item are in the table, not in the index.
    tomb = ddb.get_item(TableName=shadow, Key={"pk": S("TICKET#2"), "sk": S("META")})["Item"]
    assert tomb["_shadow_deleted"] == {"BOOL": True} and "customer_id" not in tomb
    sparse = ddb.get_item(TableName=shadow, Key={"pk": S("TICKET#4"), "sk": S("META")})["Item"]
    assert "created_at" not in sparse and sparse["customer_id"] == S(token) and sparse["body"] == S("Legacy import")

    # The reader helper: same items, no metadata, tombstones skipped everywhere.
    table = ds.ShadowTable(shadow, endpoint_url=endpoint, region_name="us-east-1")
    mine = list(table.query(index="by_customer", key={"customer_id": token}))
    assert sorted(i["pk"] for i in mine) == ["TICKET#1", "TICKET#3"]
    assert all(not k.startswith("_shadow_") for i in mine for k in i)
    assert mine[0]["body"] == "Printer jammed, call me at [REDACTED:EMAIL]"
    assert table.get({"pk": "TICKET#2", "sk": "META"}) is None
    assert table.get({"pk": "TICKET#4", "sk": "META"})["body"] == "Legacy import"
    assert sorted(i["pk"] for i in table.scan()) == ["TICKET#1", "TICKET#3", "TICKET#4", "TICKET#5"]
    assert sorted(i["pk"] for i in table.scan(index="by_customer")) == ["TICKET#1", "TICKET#3", "TICKET#5"]


def test_a_policy_that_redacts_an_index_key_fails_init(endpoint, tmp_path):
    policy = POLICY.replace('action = "tokenize"', 'action = "redact"')
    env = {"SHADOW_TABLE": "t-shadow", "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_POLICY": policy}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke({"Records": []}, timeout=30)
        logs = emu.logs()
    assert status != 200 or "errorType" in json.dumps(resp), resp
    assert "index `by_customer`: the policy redacts key attribute `customer_id`" in logs, logs[-2000:]


def test_check_refuses_what_the_function_refuses(tmp_path):
    import os
    import subprocess

    cli = os.environ.get("DYNAMO_SHADOW_CLI", str(local_aws.ROOT / "target" / "debug" / "dynamo-shadow"))
    f = tmp_path / "policy.toml"
    # Masked, then dropped by name, then fine.
    cases = [
        (POLICY.replace('action = "tokenize"', 'action = "mask"\nkeep_last = 2'), "masks key attribute `customer_id`"),
        (POLICY + '\n[names]\ndrop = ["created_at"]\n', "drops key attribute `created_at`"),
    ]
    for text, needle in cases:
        f.write_text(text)
        r = subprocess.run([cli, "check", str(f)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and needle in r.stderr, r.stderr
    f.write_text(POLICY)
    r = subprocess.run([cli, "check", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("ok: "), r.stderr
