"""The failure paths of template.yaml that no local emulator runs: a record that keeps
failing reaches the dead-letter queue after bounded retries, the function may send there,
the alarms watch the right things, and both functions build from one definition.

`sam validate` and `--lint` check the syntax (in `make test`); these check the meaning."""

from __future__ import annotations

import json
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
