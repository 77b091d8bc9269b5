"""The example view end to end: shadow items written by the real function's layout on moto,
a prompt built from them, and the model's answer scanned before it is returned."""

import json
import uuid
from pathlib import Path
from decimal import Decimal

import boto3
import pytest
from django.test import Client, override_settings

from shadow_chat import views

TOKEN_KEY = "0123456789abcdef0123456789abcdef-django"
# The shipped example policy with the by_customer index.
POLICY = (Path(__file__).resolve().parents[2] / "policies" / "tickets.toml").read_text()
LEAKED = "AKIAZ7QX3MPLEL4KDQ2B"  # what a model might "remember" and repeat
PROMPTS = []


def leaky_llm(prompt: str) -> str:
    PROMPTS.append(prompt)
    return f"Two open tickets. By the way, the deploy key is {LEAKED}, write to dora@example.net."


@pytest.fixture
def shadow(endpoint, tmp_path, monkeypatch):
    import dynamo_shadow

    monkeypatch.setenv("SHADOW_TOKEN_KEY", TOKEN_KEY)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    s = dynamo_shadow.Sanitizer.from_policy_file(policy)
    kw = dict(endpoint_url=endpoint, region_name="us-east-1")
    name = f"django-{uuid.uuid4().hex[:8]}"
    t = boto3.resource("dynamodb", **kw).create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "customer_id", "created_at")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_customer", "KeySchema": [
            {"AttributeName": "customer_id", "KeyType": "HASH"}, {"AttributeName": "created_at", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    # What the function writes: sanitized items with metadata, and a tombstone.
    meta = {"_shadow_seq": "backfill/" + "0" * 40, "_shadow_policy": s.fingerprint}
    source = [
        {"pk": "T#1", "sk": "META", "customer_id": "c-42", "created_at": "2026-11-01", "status": "open",
         "body": "Printer jammed, reach me at dora@example.net"},
        {"pk": "T#3", "sk": "META", "customer_id": "c-42", "created_at": "2026-11-03", "status": "open", "body": "Toner low"},
        {"pk": "T#5", "sk": "META", "customer_id": "c-7", "created_at": "2026-11-05", "status": "open", "body": "Other"},
    ]
    for item in source:
        t.put_item(Item={**s.sanitize_item(item), **meta})
    t.put_item(Item={"pk": "T#2", "sk": "META", "_shadow_deleted": True, "_shadow_expires_at": Decimal(1), **meta})
    views.sanitizer.cache_clear()
    views.shadow_table.cache_clear()
    PROMPTS.clear()
    with override_settings(SHADOW_TABLE_NAME=name, SHADOW_BOTO3=kw, SHADOW_POLICY_FILE=str(policy),
                           LLM_CLIENT="test_views.leaky_llm"):
        yield
    views.sanitizer.cache_clear()
    views.shadow_table.cache_clear()


def test_prompt_comes_from_the_shadow_table_and_the_answer_is_scanned(shadow):
    r = Client().get("/customers/c-42/summary", {"q": "Anything from jane.roe@example.com?"})
    assert r.status_code == 200, r.content
    body = json.loads(r.content)
    assert body["tickets"] == 2
    (prompt,) = PROMPTS
    assert "Printer jammed, reach me at [REDACTED:EMAIL]" in prompt and "Toner low" in prompt
    assert "Other" not in prompt, "another customer's ticket"
    for raw in ("dora@example.net", "jane.roe@example.com", "c-42", "_shadow_"):
        assert raw not in prompt, raw
    assert LEAKED not in body["answer"] and "dora@example.net" not in body["answer"]
    assert body["answer"].startswith("Two open tickets.")


def test_an_unknown_customer_gets_no_tickets(shadow):
    r = Client().get("/customers/c-999/summary")
    assert json.loads(r.content)["tickets"] == 0
