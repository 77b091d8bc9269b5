"""The package's API on its own: formats, exactness, errors without values, policies."""

from decimal import Decimal

import pytest

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # a Stripe-shaped key planted in inputs
EMAIL = "dora.marquez@example.net"
TOKEN_KEY = "k" * 40

TOKENIZING_POLICY = """
version = 1
keys = ["pk"]
[[rule]]
path = "customer_id"
action = "tokenize"
[[rule]]
detector = "pii.email"
action = "tokenize"
"""


def test_dynamodb_json_in_dynamodb_json_out(ds):
    s = ds.Sanitizer.default()
    out = s.sanitize_item(
        {"pk": {"S": "t#1"}, "api_key": {"S": SECRET}, "body": {"S": f"mail {EMAIL} now"}, "n": {"N": "7"}},
        keys=["pk"],
    )
    assert out == {"pk": {"S": "t#1"}, "body": {"S": "mail [REDACTED:EMAIL] now"}, "n": {"N": "7"}}


def test_resource_style_values_stay_exact(ds):
    from boto3.dynamodb.types import Binary

    s = ds.Sanitizer.default()
    item = {
        "pk": "t#1",
        "big": Decimal("123456789012345678901234567890.12345678"),
        "exp": Decimal("1E+125"),
        "int": 2**80,
        "flag": False,
        "nothing": None,
        "tags": {"a", "b"},
        "scores": {Decimal("0.1"), Decimal("2")},
        "blob": Binary(b"\x00\xffraw"),
        "blobs": {b"\x01", b"\x02"},
        "nested": {"list": [Decimal("1.10"), "x", {"deep": True}]},
    }
    out = s.sanitize_item(item, keys=["pk"])
    assert out["big"] == Decimal("123456789012345678901234567890.12345678")
    assert str(out["big"]) == "123456789012345678901234567890.12345678", "no float on the way"
    assert str(out["exp"]) == "1E+125"
    assert out["int"] == Decimal(2**80)
    assert out["flag"] is False and out["nothing"] is None
    assert out["tags"] == {"a", "b"} and isinstance(out["tags"], set)
    assert out["scores"] == {Decimal("0.1"), Decimal("2")}
    assert str(out["nested"]["list"][0]) == "1.10"
    assert out["blob"] == b"\x00\xffraw" and out["blobs"] == {b"\x01", b"\x02"}


def test_both_formats_give_the_same_item(ds):
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    s = ds.Sanitizer.default()
    item = {"pk": "u#1", "email": EMAIL, "bio": f"token {SECRET}", "age": Decimal(41), "tags": {"x", EMAIL}}
    wire = {k: TypeSerializer().serialize(v) for k, v in item.items()}
    via_json = s.sanitize_item(wire, keys=["pk"])
    via_python = s.sanitize_item(item, keys=["pk"])
    assert {k: TypeDeserializer().deserialize(v) for k, v in via_json.items()} == via_python
    assert EMAIL not in repr(via_python) and SECRET not in repr(via_python)


def test_low_level_client_bytes_are_accepted(ds):
    # boto3's client hands B as bytes: the same item as base64 DynamoDB JSON.
    s = ds.Sanitizer.default()
    a = s.sanitize_item({"pk": {"S": "x"}, "b": {"B": b"\x00\x01"}}, keys=["pk"])
    b = s.sanitize_item({"pk": {"S": "x"}, "b": {"B": "AAE="}}, keys=["pk"])
    assert a == b == {"pk": {"S": "x"}, "b": {"B": "AAE="}}


def test_format_can_be_forced(ds):
    s = ds.Sanitizer.default()
    # A resource-style map attribute that looks like a type tag.
    item = {"pk": "x", "grade": {"S": "excellent"}}
    assert ds.is_dynamodb_json({"grade": {"S": "excellent"}})
    assert s.sanitize_item(item, keys=["pk"], format="python") == item
    with pytest.raises(ValueError):
        s.sanitize_item(item, format="yaml")


@pytest.mark.parametrize(
    "item, where",
    [
        ({"pk": "x", "f": 1.5, "note": SECRET}, "attribute `f`"),
        ({"pk": "x", "m": {"inner": {SECRET: object()}}}, "attribute `m.inner.<key>`"),
        ({"pk": "x", "s": set()}, "attribute `s`"),
        ({"pk": "x", "s": {"a", Decimal(1)}}, "attribute `s`"),
        ({"pk": "x", "n": Decimal("NaN")}, "attribute `n`"),
        ({"pk": "x", "n": Decimal("1" * 39)}, "attribute `n`"),
        ({"pk": f"USER#{EMAIL}"}, "key attribute `pk`"),
    ],
)
def test_errors_name_the_place_never_the_value(ds, item, where):
    s = ds.Sanitizer.default()
    with pytest.raises(ds.SanitizeError) as e:
        s.sanitize_item(item, keys=["pk"])
    msg = str(e.value)
    assert where in msg, msg
    assert SECRET not in msg and EMAIL not in msg and "NaN" not in msg and "111111" not in msg


def test_dynamodb_json_errors_carry_no_values(ds):
    s = ds.Sanitizer.default()
    with pytest.raises(ds.ItemError) as e:
        s.sanitize_item({"pk": {"S": "x"}, "n": {"N": f"12{SECRET}"}}, keys=["pk"])
    assert "attribute `n`" in str(e.value) and SECRET not in str(e.value)
    with pytest.raises(ds.SanitizeError) as e:
        s.sanitize_item({"sk": {"S": "x"}}, keys=["pk"])
    assert "`pk`" in str(e.value)


def test_explain_lists_paths_and_rules_never_values(ds):
    s = ds.Sanitizer.default()
    rows = s.explain({"pk": "x", "password": SECRET, "notes": {EMAIL: f"write {EMAIL}"}}, keys=["pk"])
    assert {"path": "password", "rule": rows[-1]["rule"], "action": "drop"} in rows or any(
        r["path"] == "password" and r["action"] == "drop" for r in rows
    )
    assert any(r["rule"] == "pii.email" for r in rows), rows
    assert SECRET not in repr(rows) and EMAIL not in repr(rows)
    text_rows = s.explain(f"from {EMAIL} with {SECRET}")
    assert {r["rule"] for r in text_rows} >= {"pii.email"}
    assert all(set(r) == {"rule", "count"} for r in text_rows)


def test_sanitize_text_for_prompts_and_answers(ds):
    s = ds.Sanitizer.default()
    out = s.sanitize_text(f"Customer {EMAIL} pasted {SECRET} into the ticket.")
    assert EMAIL not in out and SECRET not in out
    assert out.startswith("Customer [REDACTED:EMAIL] pasted ")
    assert s.sanitize_text("Nothing to see here.") == "Nothing to see here."


def test_policy_file_tokenizes_with_the_given_key(ds, tmp_path, monkeypatch):
    p = tmp_path / "policy.toml"
    p.write_text(TOKENIZING_POLICY)
    monkeypatch.delenv("SHADOW_TOKEN_KEY", raising=False)
    with pytest.raises(ds.PolicyError) as e:
        ds.Sanitizer.from_policy_file(p)
    assert "SHADOW_TOKEN_KEY" in str(e.value)
    with pytest.raises(ds.PolicyError):
        ds.Sanitizer.from_policy_file(p, token_key="short")
    a = ds.Sanitizer.from_policy_file(p, token_key=TOKEN_KEY)
    monkeypatch.setenv("SHADOW_TOKEN_KEY", TOKEN_KEY)
    b = ds.Sanitizer.from_policy_file(str(p))
    c = ds.Sanitizer.from_policy_file(p, token_key=b"z" * 40)
    assert a.keys == ["pk"]
    item = {"pk": "t#1", "customer_id": "c-1001", "body": f"from {EMAIL}"}
    out_a, out_b, out_c = (x.sanitize_item(item) for x in (a, b, c))
    assert out_a == out_b, "the same key gives the same tokens"
    assert out_a["customer_id"].startswith("tok_") and out_a["customer_id"] != out_c["customer_id"]
    assert EMAIL not in out_a["body"] and "tok_" in out_a["body"]
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.shadow_value("customer_id", "c-1001") == out_a["customer_id"]
    with pytest.raises(ds.SanitizeError):
        a.shadow_value("password", "x")


def test_bad_policies_are_policy_errors(ds, tmp_path):
    with pytest.raises(ds.PolicyError) as e:
        ds.Sanitizer.from_policy_str('version = 1\n[[rule]]\npath = "a"\naction = "explode"\n', source="p.toml")
    assert str(e.value).startswith("p.toml:4:"), str(e.value)
    with pytest.raises(ds.PolicyError):
        ds.Sanitizer.from_policy_file(tmp_path / "missing.toml")
    multi = 'version = 1\n[tables.app]\nshadow = "app-shadow"\n'
    with pytest.raises(ds.PolicyError) as e:
        ds.Sanitizer.from_policy_str(multi)
    assert "table=" in str(e.value)
    assert ds.Sanitizer.from_policy_str(multi, table="app").sanitize_item({"x": "y"}) == {"x": "y"}
    assert issubclass(ds.PolicyError, ds.SanitizeError) and issubclass(ds.SanitizeError, ValueError)
