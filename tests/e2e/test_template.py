"""The failure paths of template.yaml that no local emulator runs: a record that keeps
failing reaches the dead-letter queue after bounded retries, the function may send there,
the alarms watch the right things, and both functions build from one definition.

`sam validate` and `--lint` check the syntax (in `make test`); these check the meaning."""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_state_machine import TEMPLATE, _CfnLoader  # noqa: E402

import yaml  # noqa: E402

T = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
R = T["Resources"]


def test_a_poison_record_ends_in_the_dead_letter_queue_after_bounded_retries():
    fn = R["ShadowFunction"]["Properties"]
    ev = fn["Events"]["SourceStream"]["Properties"]
    # Partial failures are reported per record, and a failing batch is split to isolate it.
    assert ev["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert ev["BisectBatchOnFunctionError"] is True
    # Bounded: retries and record age, then the batch metadata goes to the queue.
    assert ev["MaximumRetryAttempts"] == {"Ref": "MaximumRetryAttempts"}
    retry = T["Parameters"]["MaximumRetryAttempts"]
    assert retry["MinValue"] >= 0 and retry["MaxValue"] <= 10000 and retry["Default"] <= 100
    assert 0 < ev["MaximumRecordAgeInSeconds"] < 86400, "leave time to redrive within the stream's 24 h"
    dest = ev["DestinationConfig"]["OnFailure"]
    assert dest["Type"] == "SQS" and dest["Destination"] == {"GetAtt": "ShadowDeadLetterQueue.Arn"}
    assert R["ShadowDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 1209600
    # The function's role may send to exactly that queue.
    stmts = fn["Policies"][0]["Statement"]
    send = [s for s in stmts if s.get("Action") == ["sqs:SendMessage"]]
    assert send and send[0]["Effect"] == "Allow" and send[0]["Resource"] == {"GetAtt": "ShadowDeadLetterQueue.Arn"}


def test_the_stream_function_can_write_the_shadow_table_and_never_read_the_source():
    stmts = R["ShadowFunction"]["Properties"]["Policies"][0]["Statement"]
    by_sid = {s["Sid"]: s for s in stmts if "Sid" in s}
    assert by_sid["WriteTheShadowTable"]["Action"] == ["dynamodb:PutItem"]
    deny = by_sid["NeverReadSourceItems"]
    assert deny["Effect"] == "Deny" and {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query"} <= set(deny["Action"])
    # The deny covers the source table's indexes too, in both branches.
    for branch in deny["Resource"]["If"][1:]:
        assert len(branch) == 2 and "/index/*" in json.dumps(branch[1]), branch
    # The backfill function reads the source (it has to) and writes only the shadow table.
    bf = {s["Sid"]: s for s in R["BackfillFunction"]["Properties"]["Policies"][0]["Statement"] if "Sid" in s}
    assert "dynamodb:Scan" in bf["ScanTheSource"]["Action"]
    assert bf["FillTheShadowTable"]["Resource"] == {"GetAtt": "ShadowTable.Arn"}
    assert "dynamodb:PutItem" in bf["FillTheShadowTable"]["Action"]


def test_alarms_watch_lag_errors_the_queue_and_failed_records():
    alarms = {k: v["Properties"] for k, v in R.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    want = {
        "IteratorAgeAlarm": ("AWS/Lambda", "IteratorAge"),
        "FunctionErrorsAlarm": ("AWS/Lambda", "Errors"),
        "DeadLetterQueueAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        "FailedRecordsAlarm": ({"Ref": "MetricsNamespace"}, "FailedRecords"),
        "QuarantinedRecordsAlarm": ({"Ref": "MetricsNamespace"}, "QuarantinedRecords"),
    }
    assert set(alarms) == set(want)
    for name, (ns, metric) in want.items():
        a = alarms[name]
        assert (a["Namespace"], a["MetricName"]) == (ns, metric), name
        assert a["AlarmActions"] == {"If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
        assert a["TreatMissingData"] == "notBreaching"
    # The EMF metric's dimension is the function name the function itself reports.
    assert alarms["FailedRecordsAlarm"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ShadowFunction"}}]
    env = R["ShadowFunction"]["Properties"]["Environment"]["Variables"]
    assert env["SHADOW_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}


def test_each_function_runs_its_own_binary():
    # The stream function carries no Scan path; the backfill function is its own binary.
    a, b = R["ShadowFunction"], R["BackfillFunction"]
    assert a["Metadata"] == {"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "shadow-lambda"}}
    assert b["Metadata"] == {"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": "shadow-backfill"}}
    for k in ("CodeUri", "Handler", "Runtime", "Architectures"):
        assert a["Properties"][k] == b["Properties"][k], k


def test_the_token_key_is_never_in_a_functions_configuration():
    for name in ("ShadowFunction", "BackfillFunction"):
        fn = R[name]["Properties"]
        env = fn["Environment"]["Variables"]
        assert "SHADOW_TOKEN_KEY" not in env and "resolve:secretsmanager" not in json.dumps(env), name
        assert env["SHADOW_TOKEN_KEY_SECRET_ARN"] == {"If": ["HasTokenKey", {"Ref": "TokenKeySecretArn"}, {"Ref": "AWS::NoValue"}]}
        # Its role may read exactly that secret.
        reads = [s for s in fn["Policies"][0]["Statement"] if "If" in s]
        assert reads and reads[0]["If"][1] == {"Sid": "ReadTheTokenKey", "Effect": "Allow",
                                                "Action": "secretsmanager:GetSecretValue",
                                                "Resource": {"Ref": "TokenKeySecretArn"}}, name


def test_the_state_machine_may_invoke_exactly_the_backfill_function():
    [stmt] = R["BackfillStateMachine"]["Properties"]["Policies"][0]["Statement"]
    assert stmt["Action"] == "lambda:InvokeFunction"
    assert stmt["Resource"] == {"GetAtt": "BackfillFunction.Arn"}, "an exact ARN, no wildcard"


# ---------------------------------------------------------------------------------------------
# The dashboard and the optional stream filter

ROOT = TEMPLATE.parent
EVENTS = ROOT / "events"
FILTER_EXAMPLE = ROOT / "filters" / "read-entity-types.json"
RUNBOOK = ROOT / "docs" / "operations.md"
METRICS_RS = ROOT / "crates" / "lambda" / "src" / "metrics.rs"

# The function's embedded metrics (crates/lambda/src/metrics.rs), SparseIndexKeys included.
EMF_METRICS = {
    "Records", "Written", "Deleted", "Coalesced", "StaleSkipped", "UnchangedSkipped",
    "FailedRecords", "QuarantinedRecords", "WriteRequests",
    "RedactedSecrets", "RedactedPii", "RedactedPersons", "SanitizeTime", "SparseIndexKeys",
}  # fmt: skip
NO_VALUE = object()


def _param(n, params: dict):
    if isinstance(n, dict) and list(n) == ["Ref"] and n["Ref"] in T["Parameters"]:
        return params.get(n["Ref"], T["Parameters"][n["Ref"]].get("Default"))
    return n


def holds(cond, params: dict) -> bool:
    """A condition (by name, or a condition or rule function: `Equals`, `Not`, `And`, `Or`,
    `Condition`) decided for `params`, the others taking their defaults."""
    if isinstance(cond, str):
        return holds(T["Conditions"][cond], params)
    [(fn, args)] = cond.items()
    if fn == "Equals":
        return _param(args[0], params) == _param(args[1], params)
    if fn == "Not":
        return not holds(args[0], params)
    if fn == "And":
        return all(holds(a, params) for a in args)
    if fn == "Or":
        return any(holds(a, params) for a in args)
    if fn == "Condition":
        return holds(args, params)
    raise AssertionError(f"condition function {fn} is not resolved here")


def resolve(node, params: dict):
    """`node` with the template's conditions decided for `params` (parameter values; the others
    take their defaults): `If`, `Equals`, `Not`, `And`, `Or`, `Condition`, `Ref` to a
    parameter, and `AWS::NoValue`, which removes the key or list item holding it. Everything
    else is left as it is."""

    def value(n):
        return _param(n, params)

    if isinstance(node, list):
        return [v for v in (resolve(x, params) for x in node) if v is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": "AWS::NoValue"}:
        return NO_VALUE
    if list(node) == ["If"]:
        cond, then, other = node["If"]
        return resolve(then if holds(cond, params) else other, params)
    if list(node) == ["Ref"]:
        return value(node)
    return {k: v for k, v in ((k, resolve(v, params)) for k, v in node.items()) if v is not NO_VALUE}


def _emf_names_in_metrics_rs() -> set:
    src = METRICS_RS.read_text().split("#[cfg(test)]")[0]
    names = set(re.findall(r'\("([A-Z]\w+)",\s*s\.', src))  # ("Records", s.records)
    names |= set(re.findall(r'Category::\w+,\s*"([A-Z]\w+)"', src))  # (Category::Pii, "RedactedPii")
    names |= set(re.findall(r'"Name":\s*"([A-Z]\w+)"', src))  # {"Name": "SanitizeTime", ...}
    assert {"Records", "RedactedPii", "SanitizeTime"} <= names, "metrics.rs changed shape: update this parser"
    return names


def test_the_dashboard_graphs_every_embedded_metric_with_the_alarms_namespace_and_dimension():
    body = R["ShadowDashboard"]["Properties"]["DashboardBody"]["Sub"]
    sample = {
        "AWS::Region": "eu-west-1",
        "AWS::StackName": "shadow-test",
        "MetricsNamespace": "Shadow/Test",
        "ShadowFunction": "shadow-test-ShadowFunction-AbC123",
        "ShadowDeadLetterQueue.QueueName": "shadow-test-ShadowDeadLetterQueue-XyZ789",
    }
    # Every ${...} is a pseudo parameter, a parameter, a resource or a resource attribute.
    used = set(re.findall(r"\$\{([^}!][^}]*)\}", body))
    assert used == set(sample), used
    for name in used:
        assert name.startswith("AWS::") or name in T["Parameters"] or name.split(".")[0] in R, name
    dash = json.loads(re.sub(r"\$\{([^}]+)\}", lambda m: sample[m.group(1)], body))

    graphs = [w["properties"] for w in dash["widgets"] if w["type"] == "metric"]
    series = {}  # (namespace, metric) -> [(dimensions, stat, widget title)]
    for g in graphs:
        assert g["region"] == "eu-west-1", g["title"]
        for row in g["metrics"]:
            opts = row[-1] if isinstance(row[-1], dict) else {}
            ns, metric, *dims = row[:-1] if opts else row
            series.setdefault((ns, metric), []).append((tuple(dims), opts.get("stat", g.get("stat")), g["title"]))

    fn = ("FunctionName", sample["ShadowFunction"])
    expected = EMF_METRICS | _emf_names_in_metrics_rs()
    graphed = {m for (ns, m) in series if ns == sample["MetricsNamespace"]}
    assert graphed == expected, (expected - graphed, graphed - expected)
    for m in expected:
        for dims, stat, _ in series[(sample["MetricsNamespace"], m)]:
            assert dims == fn, m
            assert stat in (("p50", "p99") if m == "SanitizeTime" else ("Sum",)), (m, stat)
    assert {s for _, s, _ in series[(sample["MetricsNamespace"], "SanitizeTime")]} == {"p50", "p99"}
    assert [(d, s) for d, s, _ in series[("AWS/Lambda", "IteratorAge")]] == [(fn, "Maximum")]
    dlq = ("QueueName", sample["ShadowDeadLetterQueue.QueueName"])
    assert [(d, s) for d, s, _ in series[("AWS/SQS", "ApproximateNumberOfMessagesVisible")]] == [(dlq, "Maximum")]

    # Grouped: throughput, skips, failures with the DLQ, redactions.
    def widget(ns, m):
        [(_, _, title)] = series[(ns, m)]
        return title

    ns = sample["MetricsNamespace"]
    for group in (["Records", "Written", "Deleted"], ["StaleSkipped", "UnchangedSkipped", "Coalesced"],
                  ["RedactedSecrets", "RedactedPii", "RedactedPersons"]):
        assert len({widget(ns, m) for m in group}) == 1, group
    dlq_widget = widget("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert widget(ns, "FailedRecords") == widget(ns, "QuarantinedRecords") == dlq_widget

    out = T["Outputs"]
    assert out["ShadowDashboardName"]["Value"] == {"Ref": "ShadowDashboard"}
    assert "#dashboards/dashboard/${ShadowDashboard}" in out["ShadowDashboardUrl"]["Value"]["Sub"]


def test_the_stream_filter_is_only_set_when_a_pattern_is_given():
    param = T["Parameters"]["StreamFilterPattern"]
    assert param["Type"] == "String" and param["Default"] == ""
    assert param["MaxLength"] == 4096, "Lambda's limit on one pattern"
    for warning in ("never copied", "nobody reads", "dynamodb.Keys", "REMOVE", "NewImage"):
        assert warning in param["Description"], warning

    def event(params):
        return resolve(R["ShadowFunction"]["Properties"]["Events"]["SourceStream"]["Properties"], params)

    default = event({})
    assert "FilterCriteria" not in default, "by default every record reaches the function"
    assert event({"StreamFilterPattern": ""}) == default
    pattern = json.dumps(json.loads(FILTER_EXAMPLE.read_text()), separators=(",", ":"))
    filtered = event({"StreamFilterPattern": pattern})
    assert filtered.pop("FilterCriteria") == {"Filters": [{"Pattern": pattern}]}
    assert filtered == default, "the filter changes nothing else"


# Lambda's filter rule table (docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html,
# "Filter rule syntax"). moto's matcher is EventBridge's, which takes more (`anything-but` with
# `prefix`, which EventBridge documents as unsupported by Pipes) and counts an operator it does
# not know as a match, so the example is held to Lambda's table before moto evaluates it.
LAMBDA_RULES = {"prefix": str, "anything-but": list, "numeric": list, "exists": bool}


def _leaf_rules(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaf_rules(v, (*path, k))
    else:
        assert isinstance(node, list) and node, f"{'.'.join(path)}: a leaf is a non-empty list of rules"
        yield path, node


def test_the_example_filter_skips_audit_records_and_passes_every_event_of_the_types_it_lists():
    from moto.events.models import EventPattern

    pattern = json.loads(FILTER_EXAMPLE.read_text())
    for path, rules in _leaf_rules(pattern):
        assert path[:2] == ("dynamodb", "Keys"), f"{'.'.join(path)}: filter on keys only (every REMOVE has them)"
        for rule in rules:
            if isinstance(rule, dict):
                [(op, arg)] = rule.items()
                assert op in LAMBDA_RULES and isinstance(arg, LAMBDA_RULES[op]), f"{'.'.join(path)}: {op}"
                assert op != "anything-but" or all(not isinstance(a, (dict, list)) for a in arg), "exact values only"
            else:
                assert rule is None or isinstance(rule, (str, int, float, bool)), ".".join(path)
    matcher = EventPattern.load(json.dumps(pattern))

    def record(event_name, pk, sk):
        keys = {"pk": {"S": pk}, "sk": {"S": sk}}
        image = {**keys, "note": {"S": "sample"}}
        d = {"Keys": keys, "SequenceNumber": "111100000000000000000001", "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if event_name != "REMOVE":
            d["NewImage"] = image
        if event_name != "INSERT":
            d["OldImage"] = image
        return {"eventName": event_name, "eventSource": "aws:dynamodb", "eventVersion": "1.1", "dynamodb": d}

    items = {  # label -> (pk, sk, copied?)
        "audit": ("USER#1001", "AUDIT#2026-11-25T09:00:00Z#login", False),
        "profile": ("USER#1001", "PROFILE", True),
        "ticket": ("TICKET#5521", "META", True),
        "unlisted type": ("INTEGRATION#stripe", "CONFIG", False),  # an allow-list skips it too
    }
    got = {(label, ev): matcher.matches_event(record(ev, pk, sk))
           for label, (pk, sk, _) in items.items() for ev in ("INSERT", "MODIFY", "REMOVE")}
    want = {(label, ev): copied for label, (_, _, copied) in items.items() for ev in ("INSERT", "MODIFY", "REMOVE")}
    assert got == want

    # The sample events (real record shapes, a TTL delete among them): the sort key alone decides.
    decided = {}
    for f in sorted(EVENTS.glob("*.json")):
        ev = json.loads(f.read_text())
        for r in ev.get("Records", []) if isinstance(ev, dict) else []:
            copied = r["dynamodb"]["Keys"]["sk"]["S"].startswith(("PROFILE", "META"))
            decided[(f.name, r["eventID"])] = (matcher.matches_event(r), copied)
    assert len(decided) >= 10 and all(m == c for m, c in decided.values()), decided


def test_the_runbook_shows_the_example_filter_and_a_deploy_command_that_keeps_it_intact():
    from samcli.cli.types import CfnParameterOverridesType

    doc = RUNBOOK.read_text()
    rel = str(FILTER_EXAMPLE.relative_to(ROOT))
    shown = re.search(r"```json\n(.*?)```", doc[doc.index(f"`{rel}`"):], re.S).group(1)
    assert json.loads(shown) == json.loads(FILTER_EXAMPLE.read_text()), "the runbook's copy drifted"

    # The shell turns the documented argument into StreamFilterPattern='<jq -c output>'; SAM CLI's
    # parser must hand CloudFormation the pattern unchanged.
    [(arg, path)] = re.findall(r"--parameter-overrides \"(StreamFilterPattern='\$\(jq -c \. (\S+)\)')\"", doc)
    assert path == rel
    compact = json.dumps(json.loads(FILTER_EXAMPLE.read_text()), separators=(",", ":"))
    expanded = arg.replace(f"$(jq -c . {path})", compact)
    assert CfnParameterOverridesType().convert((expanded,), None, None) == {"StreamFilterPattern": compact}


# ---------------------------------------------------------------------------------------------
# Shadow indexes: up to two optional GSIs on the shadow table, which the policy declares too

INDEX_PARAMS = [f"ShadowIndex{n}{p}" for n in (1, 2)
                for p in ("Name", "PartitionKey", "PartitionKeyType", "SortKey", "SortKeyType")]  # fmt: skip
BOTH = {
    "ShadowIndex1Name": "by_customer", "ShadowIndex1PartitionKey": "customer_id", "ShadowIndex1SortKey": "created_at",
    "ShadowIndex2Name": "by_amount", "ShadowIndex2PartitionKey": "amount_cents", "ShadowIndex2PartitionKeyType": "N",
}  # fmt: skip
ONLY_1 = {k: v for k, v in BOTH.items() if k.startswith("ShadowIndex1")}
ONLY_2 = {k: v for k, v in BOTH.items() if k.startswith("ShadowIndex2")}


def shadow_table(params: dict) -> dict:
    return resolve(R["ShadowTable"]["Properties"], params)


def rule_failures(params: dict) -> list:
    """The AssertDescription of each `Rules` assertion that fails for `params`: CloudFormation
    refuses the deploy if there is any."""
    failed = []
    for rule in T.get("Rules", {}).values():
        if "RuleCondition" in rule and not holds(rule["RuleCondition"], params):
            continue
        failed += [a["AssertDescription"] for a in rule["Assertions"] if not holds(a["Assert"], params)]
    return failed


def key_attribute_types(table: dict) -> dict:
    """What CreateTable insists on: each key attribute (table and indexes) defined exactly once,
    and no definition that no key schema uses. Returns attribute -> type."""
    names = [d["AttributeName"] for d in table["AttributeDefinitions"]]
    assert len(names) == len(set(names)), f"duplicate AttributeDefinitions: {names}"
    used = [k["AttributeName"] for k in table["KeySchema"]]
    for ix in table.get("GlobalSecondaryIndexes", []):
        used += [k["AttributeName"] for k in ix["KeySchema"]]
    assert set(names) == set(used), (names, used)
    return {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}


def index_names_output(params: dict):
    out = T["Outputs"]["ShadowIndexNames"]
    if not holds(out["Condition"], params):
        return None
    value = resolve(out["Value"], params)
    if isinstance(value, dict):
        [(fn, text)] = value.items()
        assert fn == "Sub", value
        value = re.sub(r"\$\{(\w+)\}", lambda m: _param({"Ref": m.group(1)}, params), text)
    return value


def test_without_index_parameters_the_shadow_table_has_no_index_and_only_its_key_definitions():
    for p in INDEX_PARAMS:
        assert T["Parameters"][p]["Default"] == ("S" if p.endswith("Type") else ""), p
    assert shadow_table({})["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]  # fmt: skip
    for params in ({}, {"SortKeyName": ""}, {"PartitionKeyName": "id", "PartitionKeyType": "N", "SortKeyType": "B"}):
        table = shadow_table(params)
        assert "GlobalSecondaryIndexes" not in table, params
        # The same key and definitions as the (unchanged) demo source table's.
        source = resolve(R["DemoSourceTable"]["Properties"], params)
        assert table["AttributeDefinitions"] == source["AttributeDefinitions"], params
        assert table["KeySchema"] == source["KeySchema"], params
        key_attribute_types(table)
        assert rule_failures(params) == [], params
    assert index_names_output({}) is None


def test_two_shadow_indexes_resolve_to_gsis_with_their_keys_projection_all_and_one_definition_per_key():
    assert rule_failures(BOTH) == []
    table = shadow_table(BOTH)
    # On-demand like the table: a GSI of a PROVISIONED table would need ProvisionedThroughput.
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["GlobalSecondaryIndexes"] == [
        {"IndexName": "by_customer",
         "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"}, {"AttributeName": "created_at", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "ALL"}},
        {"IndexName": "by_amount",
         "KeySchema": [{"AttributeName": "amount_cents", "KeyType": "HASH"}],
         "Projection": {"ProjectionType": "ALL"}},
    ]  # fmt: skip
    assert key_attribute_types(table) == {"pk": "S", "sk": "S", "customer_id": "S", "created_at": "S", "amount_cents": "N"}
    # Nothing else of the table changes.
    base = shadow_table({})
    changed = ("AttributeDefinitions", "GlobalSecondaryIndexes")
    assert {k: v for k, v in table.items() if k not in changed} == {k: v for k, v in base.items() if k not in changed}

    # Either slot alone; the types follow their parameters.
    assert [ix["IndexName"] for ix in shadow_table(ONLY_1)["GlobalSecondaryIndexes"]] == ["by_customer"]
    only_2 = {**ONLY_2, "ShadowIndex2SortKey": "updated_at", "ShadowIndex2SortKeyType": "B", "SortKeyName": ""}
    assert rule_failures(only_2) == []
    table = shadow_table(only_2)
    assert [ix["IndexName"] for ix in table["GlobalSecondaryIndexes"]] == ["by_amount"]
    assert key_attribute_types(table) == {"pk": "S", "amount_cents": "N", "updated_at": "B"}

    assert index_names_output(BOTH) == "by_customer,by_amount"
    assert index_names_output(ONLY_1) == "by_customer"
    assert index_names_output(only_2) == "by_amount"


def test_the_rules_refuse_index_keys_that_would_duplicate_an_attribute_definition():
    refused = {
        "index partition key = table partition key": {**BOTH, "ShadowIndex1PartitionKey": "pk"},
        "index partition key = table sort key": {**BOTH, "ShadowIndex2PartitionKey": "sk"},
        "index sort key = table sort key": {**BOTH, "ShadowIndex1SortKey": "sk"},
        "index sort key = its partition key": {**BOTH, "ShadowIndex1SortKey": "customer_id"},
        "shared partition key": {**BOTH, "ShadowIndex2PartitionKey": "customer_id"},
        "partition key = the other's sort key": {**BOTH, "ShadowIndex2PartitionKey": "created_at"},
        "shared sort key": {**BOTH, "ShadowIndex2SortKey": "created_at"},
        "sort key = the other's partition key": {**BOTH, "ShadowIndex2SortKey": "customer_id"},
        "same name twice": {**BOTH, "ShadowIndex2Name": "by_customer"},
        "a name without a partition key": {"ShadowIndex1Name": "by_customer"},
        "keys without a name": {"ShadowIndex2PartitionKey": "status"},
    }
    for case, params in refused.items():
        assert rule_failures(params), case
    # No table sort key and no index sort key: both empty is not a clash.
    assert rule_failures({**ONLY_1, "ShadowIndex1SortKey": "", "SortKeyName": ""}) == []

    # Exhaustively over a small domain: whatever the Rules let through resolves to a table that
    # CreateTable accepts, with exactly the named indexes.
    attrs = ("", "pk", "sk", "a", "b")
    shapes = set()  # (number of indexes, number of index key attributes)
    for sk, n1, n2, p1, s1, p2, s2 in itertools.product(("sk", ""), ("", "one"), ("", "two", "one"), attrs, attrs, attrs, attrs):
        params = {"SortKeyName": sk, "ShadowIndex1Name": n1, "ShadowIndex2Name": n2, "ShadowIndex1PartitionKey": p1,
                  "ShadowIndex1SortKey": s1, "ShadowIndex2PartitionKey": p2, "ShadowIndex2SortKey": s2}  # fmt: skip
        if rule_failures(params):
            continue
        table = shadow_table(params)
        types = key_attribute_types(table)
        assert [ix["IndexName"] for ix in table.get("GlobalSecondaryIndexes", [])] == [n for n in (n1, n2) if n], params
        shapes.add((len(table.get("GlobalSecondaryIndexes", [])), len(types) - len(table["KeySchema"])))
    # Every shape got through: no index, one with or without a sort key, two with 2 or 3 keys.
    assert shapes == {(0, 0), (1, 1), (1, 2), (2, 2), (2, 3)}, shapes


def test_the_index_parameters_say_the_policy_must_declare_the_same_index():
    p = T["Parameters"]
    for n in (1, 2):
        name = p[f"ShadowIndex{n}Name"]["Description"]
        for phrase in ("[[index]]", "same name", "partition_key", "sort_key", "same types", "rejects", "one index per deploy"):
            assert phrase in name, (n, phrase)
        assert re.fullmatch(p[f"ShadowIndex{n}Name"]["AllowedPattern"], "")
        assert re.fullmatch(p[f"ShadowIndex{n}Name"]["AllowedPattern"], "by_customer.v2-a")
        assert not re.fullmatch(p[f"ShadowIndex{n}Name"]["AllowedPattern"], "ab")
        for key in ("PartitionKey", "SortKey"):
            text = p[f"ShadowIndex{n}{key}"]["Description"]
            assert "table key attribute" in text and "other shadow index" in text, (n, key)
            assert p[f"ShadowIndex{n}{key}Type"]["AllowedValues"] == ["S", "N", "B"]
        assert "tokenize" in p[f"ShadowIndex{n}PartitionKey"]["Description"]
        assert "S" in p[f"ShadowIndex{n}PartitionKeyType"]["Description"]


def test_llm_readers_may_query_and_scan_the_shadow_indexes_and_the_stream_function_reads_none():
    stmts = {s["Sid"]: s for s in R["LlmReaderPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    read = stmts["ReadShadow"]
    assert read["Effect"] == "Allow" and {"dynamodb:Query", "dynamodb:Scan"} <= set(read["Action"])
    assert set(read["Action"]) <= {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
                                   "dynamodb:DescribeTable"}, "read-only"  # fmt: skip
    assert {"GetAtt": "ShadowTable.Arn"} in read["Resource"]
    assert {"Sub": "${ShadowTable.Arn}/index/*"} in read["Resource"]
    # Still nothing of the source, its indexes included.
    deny = stmts["NeverTheSource"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "dynamodb:*"
    for branch in deny["Resource"]["If"][1:]:
        assert len(branch) == 2 and "/*" in json.dumps(branch[1]), branch
    # The stream function's role, with indexes: it writes the table and reads no index.
    for params in ({}, BOTH):
        fn = resolve(R["ShadowFunction"]["Properties"]["Policies"][0]["Statement"], params)
        for s in (s for s in fn if s["Effect"] == "Allow"):
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            assert "/index/" not in json.dumps(s["Resource"]), s
            assert not {"dynamodb:Query", "dynamodb:Scan", "dynamodb:GetItem"} & set(actions), s


def test_the_runbook_declares_its_example_index_alike_in_the_policy_and_the_parameters():
    import tomllib

    from samcli.cli.types import CfnParameterOverridesType

    doc = RUNBOOK.read_text()
    section = doc[doc.index("## Shadow indexes"):]
    section = section[: section.index("\n## ")]
    policy = tomllib.loads(re.search(r"```toml\n(.*?)```", section, re.S).group(1))
    [arg] = re.findall(r'sam deploy --parameter-overrides "([^"]+)"', section)
    params = CfnParameterOverridesType().convert((arg,), None, None)
    assert set(params) <= set(INDEX_PARAMS), params
    assert rule_failures(params) == []
    table = shadow_table(params)
    types = key_attribute_types(table)
    [ix] = policy["index"]
    [gsi] = table["GlobalSecondaryIndexes"]
    want = [(ix["partition_key"], ix.get("partition_key_type", "S"), "HASH")]
    if "sort_key" in ix:
        want.append((ix["sort_key"], ix.get("sort_key_type", "S"), "RANGE"))
    assert gsi["IndexName"] == ix["name"]
    assert [(k["AttributeName"], types[k["AttributeName"]], k["KeyType"]) for k in gsi["KeySchema"]] == want
    # Its partition key is tokenized, so it is a string, as the function requires.
    tokenized = {r["path"] for r in policy.get("rule", []) if r.get("action") == "tokenize"}
    assert ix["partition_key"] in tokenized and types[ix["partition_key"]] == "S"
    for phrase in ("same token in every item and every table", "same key", "one index per deploy", "SparseIndexKeys"):
        assert phrase in " ".join(section.split()), phrase
