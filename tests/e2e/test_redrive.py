"""`dynamo-shadow redrive` against moto's DynamoDB Streams: OnFailure messages (batch metadata
only) are read back from the stream and re-applied through the ordered, stale-proof path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

CLI = Path(os.environ.get("DYNAMO_SHADOW_CLI", local_aws.ROOT / "target" / "debug" / "dynamo-shadow"))
S = lambda s: {"S": s}  # noqa: E731
SECRETS = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "dave@example.org"]


def message(stream_arn: str, shard: str, first: str, last: str, size: int) -> dict:
    # The shape Lambda sends to an OnFailure destination for a DynamoDB stream batch.
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:shadow",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-25T00:00:00.000Z",
        "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": first, "endSequenceNumber": last,
                               "approximateArrivalOfFirstRecord": "2026-11-25T00:00:00Z",
                               "approximateArrivalOfLastRecord": "2026-11-25T00:00:01Z", "batchSize": size,
                               "streamArn": stream_arn},
    }


def redrive(endpoint: str, shadow: str, payload: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **local_aws.CREDS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": endpoint}
    return subprocess.run([str(CLI), "redrive", "--shadow-table", shadow, "--message-file", "-", *extra], input=payload,
                          env=env, capture_output=True, text=True, timeout=120)


def test_redrive_reapplies_dead_lettered_batches(endpoint):
    ddb, streams = local_aws.clients(endpoint)
    name = uuid.uuid4().hex[:8]
    source, shadow = f"rsrc-{name}", f"rshadow-{name}"
    arn = local_aws.create_tables(ddb, source, shadow)
    for i in range(6):
        ddb.put_item(TableName=source, Item={"pk": S(f"U#{i}"), "sk": S("P"), "name": S(f"n{i}"), "api_key": S(SECRETS[0]),
                                             "bio": S(f"mail {SECRETS[1]}")})
    ddb.put_item(TableName=source, Item={"pk": S("U#1"), "sk": S("P"), "name": S("renamed")})
    ddb.delete_item(TableName=source, Key={"pk": S("U#2"), "sk": S("P")})
    records = local_aws.read_stream(streams, arn, source)
    assert len(records) == 8
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    # The whole range failed in the function (say, the shadow table was unreachable) and went to the DLQ.
    msg = message(arn, shard, seqs[0], seqs[-1], len(seqs))

    p = redrive(endpoint, shadow, json.dumps(msg))
    assert p.returncode == 0, p.stderr
    assert "8 records" in p.stdout and "failed 0" in p.stdout, p.stdout
    items = {i["pk"]["S"]: i for i in local_aws.scan_all(ddb, shadow)}
    assert set(items) == {f"U#{i}" for i in range(6)}
    assert items["U#1"]["name"] == S("renamed"), "records applied in stream order"
    assert items["U#2"]["_shadow_deleted"] == {"BOOL": True}
    assert items["U#0"]["bio"] == S("mail [REDACTED:EMAIL]") and "api_key" not in items["U#0"]
    assert items["U#0"]["_shadow_seq"]["S"].rsplit("/", 1)[1].lstrip("0") == seqs[0]
    assert not [s for s in SECRETS if s in json.dumps(list(items.values())) + p.stdout + p.stderr]

    # Redriving again, or an older part of the range after newer writes, changes nothing.
    sqs_output = json.dumps({"Messages": [{"MessageId": "1", "Body": json.dumps(msg)},
                                          {"MessageId": "2", "Body": json.dumps(message(arn, shard, seqs[0], seqs[2], 3))}]})
    p = redrive(endpoint, shadow, sqs_output)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("written 0") == 2 and "failed 0" in p.stdout, p.stdout
    assert {i["pk"]["S"]: i for i in local_aws.scan_all(ddb, shadow)} == items


@pytest.mark.parametrize("payload, want", [
    ('{"hello": 1}', "DDBStreamBatchInfo"),
    ("{not json\n", "line 1"),
])
def test_redrive_rejects_bad_messages_clearly(endpoint, payload, want):
    p = redrive(endpoint, "any", payload)
    assert p.returncode == 2 and want in p.stderr, p.stderr


def test_redrive_of_a_range_past_the_stream_is_reported(endpoint):
    ddb, streams = local_aws.clients(endpoint)
    name = uuid.uuid4().hex[:8]
    arn = local_aws.create_tables(ddb, f"rsrc-{name}", f"rshadow-{name}")
    ddb.put_item(TableName=f"rsrc-{name}", Item={"pk": S("U#1"), "sk": S("P")})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    rec = local_aws.read_stream(streams, arn, f"rsrc-{name}")[0]["dynamodb"]["SequenceNumber"]
    # The message claims 5 records; the stream has one: reported, exit 1.
    p = redrive(endpoint, f"rshadow-{name}", json.dumps(message(arn, shard, rec, rec, 5)))
    assert p.returncode == 1 and "the message says 5 records" in p.stderr, p.stderr
