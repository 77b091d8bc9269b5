"""Policies end to end: `dynamo-shadow check` and `sanitize` as users run them, and the real
function under the Runtime Interface Emulator with a policy (tokenized keys, init failures).
Run through `make test`."""

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

ROOT = local_aws.ROOT
CLI = Path(os.environ.get("DYNAMO_SHADOW_CLI", ROOT / "target" / "debug" / "dynamo-shadow"))
TOKEN_KEY = "0123456789abcdef0123456789abcdef-e2e-key"
S = lambda s: {"S": s}  # noqa: E731


def cli(*args, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


BROKEN = {
    "unknown key": ("version = 1\n[names]\ndorp = [\"x\"]\n", 3, "unknown field `dorp`"),
    "bad regex": ("version = 1\n[[detector]]\nid = \"custom.x\"\nname = \"x\"\ncategory = \"pii\"\nlabel = \"X\"\npattern = '(unclosed'\nexamples = [\"x\"]\n", 3, "bad pattern"),
    "unknown rule id": ("version = 1\n[[rule]]\ndetector = \"pii.nope\"\naction = \"redact\"\n", 3, "unknown detector rule id `pii.nope`"),
    "key not tokenized": ("version = 1\nkeys = [\"pk\"]\n[[rule]]\npath = \"pk\"\naction = \"drop\"\n", 4, "key attribute"),
    "contradictory": ("version = 1\n[[rule]]\npath = \"a.b\"\naction = \"drop\"\n[[rule]]\npath = \"a.b\"\naction = \"keep\"\n", 6, "contradictory"),
    "bad path": ("version = 1\n[[rule]]\npath = \"a[0]\"\naction = \"drop\"\n", 3, "bad path"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_check_rejects_broken_policies_naming_file_and_line(tmp_path, case):
    text, line, needle = BROKEN[case]
    f = tmp_path / "policy.toml"
    f.write_text(text)
    r = cli("check", str(f))
    assert r.returncode == 1, r
    assert r.stderr.startswith(f"{f}:{line}:"), r.stderr
    assert needle in r.stderr, r.stderr


def test_check_accepts_the_shipped_example_policy():
    r = cli("check", str(ROOT / "policies" / "app-main.toml"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: ")


def test_sanitize_cli_is_a_faithful_dry_run():
    ev = json.loads((ROOT / "events" / "mixed-batch.json").read_text())
    lines = [json.dumps(r["dynamodb"]["NewImage"]) for r in ev["Records"] if "NewImage" in r["dynamodb"]]
    r = cli("sanitize", "--key", "pk", "--key", "sk", "--explain", stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["pk"] == S("USER#1001") and "api_key" not in out[0]
    decisions = [json.loads(x) for x in r.stderr.splitlines()]
    assert {"line": 1, "path": "api_key", "rule": "name:api_key", "action": "drop"} in decisions
    assert all(set(d) == {"line", "path", "rule", "action"} for d in decisions)
    planted = json.loads((ROOT / "events" / "planted-secrets.json").read_text())
    assert not [p for p in planted if p in r.stdout or p in r.stderr]
    # A malformed line stops the run: exit 2, `line N: reason`, no value echoed.
    r = cli("sanitize", stdin=lines[0] + "\n" + '{"pk": {"S": "x"}, "n": {"N": "hunter2-secret"}}\n')
    assert r.returncode == 2
    assert r.stderr.strip() == "line 2: attribute `n`: not a valid number"
    assert len(r.stdout.splitlines()) == 1


def test_tokenized_partition_key_end_to_end(endpoint, tmp_path):
    """An email used as the partition key becomes a token; its REMOVE tombstones the same item."""
    ddb, streams = local_aws.clients(endpoint)
    name = uuid.uuid4().hex[:8]
    source, shadow = f"users-{name}", f"users-{name}-shadow"
    arn = local_aws.create_tables(ddb, source, shadow, keys=(("email", "S"),))
    ddb.put_item(TableName=source, Item={"email": S("alice@example.com"), "plan": S("pro"), "api_key": S("sk_live_abcdefghijklmnop1234")})
    ddb.put_item(TableName=source, Item={"email": S("bob@example.com"), "plan": S("free")})
    ddb.delete_item(TableName=source, Key={"email": S("alice@example.com")})
    records = local_aws.read_stream(streams, arn, source)
    policy = "version = 1\nkeys = [\"email\"]\n[[rule]]\npath = \"email\"\naction = \"tokenize\"\n"
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_POLICY": policy, "SHADOW_TOKEN_KEY": TOKEN_KEY}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke(local_aws.event(records))
        logs = emu.logs()
    assert (status, resp) == (200, {"batchItemFailures": []})
    items = local_aws.scan_all(ddb, shadow)
    assert len(items) == 2, "one item per source key: the tombstone replaced alice's tokenized item"
    dump = json.dumps(items)
    assert "alice@example.com" not in dump and "bob@example.com" not in dump and TOKEN_KEY not in dump
    by_token = {i["email"]["S"]: i for i in items}
    assert all(t.startswith("tok_") for t in by_token)
    tombstones = [i for i in items if i.get("_shadow_deleted") == {"BOOL": True}]
    live = [i for i in items if "_shadow_deleted" not in i]
    assert len(tombstones) == 1 and len(live) == 1 and live[0]["plan"] == S("free")
    # The CLI gives the same token for the same key (the dry run matches the function).
    pf = tmp_path / "p.toml"
    pf.write_text(policy)
    r = cli("sanitize", "--key", "email", "--policy", str(pf), stdin='{"email": {"S": "bob@example.com"}}\n', env={"SHADOW_TOKEN_KEY": TOKEN_KEY})
    assert json.loads(r.stdout)["email"] == live[0]["email"]
    # `check` names the fingerprint the items carry (the policy's, combined with the key's id),
    # and only the policy's without the key.
    carried = live[0]["_shadow_policy"]["S"]
    r = cli("check", str(pf), env={"SHADOW_TOKEN_KEY": TOKEN_KEY})
    assert f"shadow items written with the key in $SHADOW_TOKEN_KEY carry {carried})" in r.stdout, r.stdout
    assert TOKEN_KEY not in r.stdout + r.stderr
    r = cli("check", str(pf))
    assert carried not in r.stdout and "fingerprint" in r.stdout
    assert TOKEN_KEY not in logs and "alice@example.com" not in logs


def test_bad_policy_fails_init_with_the_message_check_prints(endpoint, tmp_path):
    f = tmp_path / "policy.toml"
    f.write_text(BROKEN["unknown rule id"][0])
    expected = cli("check", str(f)).stderr.strip()
    env = {"SHADOW_TABLE": "t-shadow", "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_POLICY_FILE": str(f)}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke({"Records": []}, timeout=30)
        logs = emu.logs()
    assert status != 200 or "errorType" in json.dumps(resp), resp
    assert expected in logs, (expected, logs[-2000:])


def test_tokenizing_policy_without_a_key_fails_init(endpoint, tmp_path):
    env = {"SHADOW_TABLE": "t-shadow", "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
           "SHADOW_POLICY": "version = 1\n[[rule]]\ndetector = \"pii.email\"\naction = \"tokenize\"\n"}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        status, resp = emu.invoke({"Records": []}, timeout=30)
        logs = emu.logs()
    assert status != 200 or "errorType" in json.dumps(resp), resp
    assert "SHADOW_TOKEN_KEY" in logs


def test_the_token_key_comes_from_secrets_manager_at_cold_start(endpoint, tmp_path):
    """The template passes only the secret's ARN: the function reads the key with
    GetSecretValue (moto's Secrets Manager here), and tokens equal the CLI's with that key."""
    import boto3
    ddb, streams = local_aws.clients(endpoint)
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=local_aws.REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    secret_arn = sm.create_secret(Name=f"shadow-key-{uuid.uuid4().hex[:6]}", SecretString=TOKEN_KEY)["ARN"]
    name = uuid.uuid4().hex[:8]
    source, shadow = f"users-{name}", f"users-{name}-shadow"
    arn = local_aws.create_tables(ddb, source, shadow, keys=(("email", "S"),))
    ddb.put_item(TableName=source, Item={"email": S("carol@example.com"), "plan": S("pro")})
    records = local_aws.read_stream(streams, arn, source)
    policy = "version = 1\nkeys = [\"email\"]\n[[rule]]\npath = \"email\"\naction = \"tokenize\"\n"
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
           "SHADOW_POLICY": policy, "SHADOW_TOKEN_KEY_SECRET_ARN": secret_arn}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke(local_aws.event(records)) == (200, {"batchItemFailures": []})
        logs = emu.logs()
    [item] = local_aws.scan_all(ddb, shadow)
    pf = tmp_path / "p.toml"
    pf.write_text(policy)
    r = cli("sanitize", "--key", "email", "--policy", str(pf), stdin='{"email": {"S": "carol@example.com"}}\n',
            env={"SHADOW_TOKEN_KEY": TOKEN_KEY})
    assert json.loads(r.stdout)["email"] == item["email"], "the function used the secret's key"
    assert TOKEN_KEY not in logs
    # A secret that cannot be read fails the init, naming the variable and the error code.
    env["SHADOW_TOKEN_KEY_SECRET_ARN"] = secret_arn + "-missing"
    with local_aws.Emulator(env, tmp_path / "rie2.log") as emu:
        status, resp = emu.invoke({"Records": []}, timeout=30)
        logs = emu.logs()
    assert status != 200 or "errorType" in json.dumps(resp), resp
    assert "SHADOW_TOKEN_KEY_SECRET_ARN: GetSecretValue failed: ResourceNotFoundException" in logs, logs[-1500:]


def test_a_key_holding_pii_never_reaches_the_shadow_table_verbatim(endpoint, tmp_path):
    """Keys are data too: under the default policy (keys kept verbatim) a key holding an
    email is quarantined, items and tombstones alike, and the function warns at init."""
    ddb, streams = local_aws.clients(endpoint)
    name = uuid.uuid4().hex[:8]
    source, shadow = f"keys-{name}", f"keys-{name}-shadow"
    arn = local_aws.create_tables(ddb, source, shadow)
    ddb.put_item(TableName=source, Item={"pk": S("USER#jane.doe@example.org"), "sk": S("PROFILE"), "plan": S("pro")})
    ddb.put_item(TableName=source, Item={"pk": S("USER#1001"), "sk": S("PROFILE"), "plan": S("free")})
    ddb.delete_item(TableName=source, Key={"pk": S("USER#jane.doe@example.org"), "sk": S("PROFILE")})
    records = local_aws.read_stream(streams, arn, source)
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie.log") as emu:
        assert emu.invoke(local_aws.event(records)) == (200, {"batchItemFailures": []}), "quarantined, not retried"
        logs = emu.logs()
    items = local_aws.scan_all(ddb, shadow)
    assert [i["pk"]["S"] for i in items] == ["USER#1001"]
    assert "jane.doe" not in json.dumps(items) and "jane.doe" not in logs
    assert "record quarantined" in logs and "key_finding" in logs
    assert "key values are kept verbatim and scanned" in logs, "the init-time warning"


def test_during_a_key_rotation_a_delete_tombstones_both_tokens(endpoint, tmp_path):
    """The secret may hold {"current", "previous"}: items written under the previous key
    keep its token as their shadow key, so a REMOVE tombstones both."""
    import boto3
    ddb, streams = local_aws.clients(endpoint)
    sm = boto3.client("secretsmanager", endpoint_url=endpoint, region_name=local_aws.REGION,
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    new_key = "fedcba9876543210fedcba9876543210-rotated"
    secret_arn = sm.create_secret(Name=f"shadow-key-{uuid.uuid4().hex[:6]}",
                                  SecretString=json.dumps({"current": new_key, "previous": TOKEN_KEY}))["ARN"]
    name = uuid.uuid4().hex[:8]
    source, shadow = f"users-{name}", f"users-{name}-shadow"
    arn = local_aws.create_tables(ddb, source, shadow, keys=(("email", "S"),))
    ddb.put_item(TableName=source, Item={"email": S("dave@example.com"), "plan": S("pro")})
    ddb.delete_item(TableName=source, Key={"email": S("dave@example.com")})
    insert, remove = local_aws.read_stream(streams, arn, source)
    policy = "version = 1\nkeys = [\"email\"]\n[[rule]]\npath = \"email\"\naction = \"tokenize\"\n"
    base = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "SHADOW_POLICY": policy}
    with local_aws.Emulator({**base, "SHADOW_TOKEN_KEY": TOKEN_KEY}, tmp_path / "before.log") as emu:
        assert emu.invoke(local_aws.event([insert])) == (200, {"batchItemFailures": []})
    rotated = {**base, "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint, "SHADOW_TOKEN_KEY_SECRET_ARN": secret_arn}
    with local_aws.Emulator(rotated, tmp_path / "after.log") as emu:
        assert emu.invoke(local_aws.event([remove])) == (200, {"batchItemFailures": []})
        logs = emu.logs()
    items = local_aws.scan_all(ddb, shadow)
    assert len(items) == 2 and all(i.get("_shadow_deleted") == {"BOOL": True} for i in items), items
    assert "plan" not in json.dumps(items) and "dave@example.com" not in json.dumps(items)
    assert TOKEN_KEY not in logs and new_key not in logs
