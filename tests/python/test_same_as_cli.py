"""The package and `dynamo-shadow sanitize` give identical output: the same engine, rules and
policy file. Checked on the blind evaluation corpus (3,000 items written by people who had
not read our rules), under the default policy and the shipped example policy."""

import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "blind" / "corpus.jsonl"
TOKEN_KEY = "0123456789abcdef0123456789abcdef-py-key"


def client_style(v):
    """DynamoDB JSON as boto3's client gives it: B and BS as bytes, not base64."""
    from base64 import b64decode

    (tag, x), = v.items()
    if tag == "B":
        return {"B": b64decode(x)}
    if tag == "BS":
        return {"BS": [b64decode(b) for b in x]}
    if tag == "M":
        return {"M": {k: client_style(e) for k, e in x.items()}}
    if tag == "L":
        return {"L": [client_style(e) for e in x]}
    return v


def corpus_by_keys():
    groups = defaultdict(list)
    for line in CORPUS.read_text().splitlines():
        row = json.loads(line)
        groups[tuple(row["keys"])].append(row["item"])
    return groups


def cli_sanitize(cli, items, keys, policy=None):
    args = [str(cli), "sanitize"] + [a for k in keys for a in ("--key", k)]
    if policy:
        args += ["--policy", str(policy)]
    stdin = "".join(json.dumps(i) + "\n" for i in items)
    r = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "SHADOW_TOKEN_KEY": TOKEN_KEY})
    assert r.returncode == 0, r.stderr[-2000:]
    return [json.loads(l) for l in r.stdout.splitlines()]


@pytest.mark.parametrize("policy", [None, ROOT / "policies" / "app-main.toml"], ids=["default", "app-main"])
def test_identical_to_the_cli_on_the_evaluation_corpus(ds, cli, policy):
    from boto3.dynamodb.types import TypeDeserializer

    s = ds.Sanitizer.from_policy_file(policy, token_key=TOKEN_KEY) if policy else ds.Sanitizer.default()
    des = TypeDeserializer()
    compared = changed = 0
    for keys, items in corpus_by_keys().items():
        want = cli_sanitize(cli, items, keys, policy)
        assert len(want) == len(items)
        for item, expected in zip(items, want):
            got = s.sanitize_item(item, keys=list(keys))
            assert got == expected, f"item {compared}: the package and the CLI differ"
            # Resource-style values give the same item too.
            py = lambda it: {k: des.deserialize(client_style(v)) for k, v in it.items()}  # noqa: E731
            assert s.sanitize_item(py(item), keys=list(keys)) == py(expected)
            compared += 1
            changed += got != item
    assert compared == 3000
    assert changed > 500, "the corpus exercises redaction (else the comparison proves little)"
