"""The backfill state machine in template.yaml, checked and executed.

`BackfillStateMachine`'s inline Definition is taken from the template, its
DefinitionSubstitutions are applied the way SAM and CloudFormation apply them (SAM serializes
the inline definition to JSON, CloudFormation replaces each `${Name}` in that text), and then:

- its structure is validated (start state, transitions within each scope, reachability,
  terminal states, the Map fields, the Retry shape, no placeholder left over, no value whose
  ASL type the substitution changed);
- it is executed by a small interpreter for exactly the subset of the Amazon States Language
  it uses, whose `arn:aws:states:::lambda:invoke` Task sends the payload to the real
  `shadow-backfill` binary under the Lambda Runtime Interface Emulator, against moto. Anything
  outside that subset raises `Unsupported` instead of being guessed.

The function runs with a short timeout (`AWS_LAMBDA_FUNCTION_TIMEOUT`, which the emulator
turns into the invocation deadline) and a proxy answers each Scan later than the budget that
deadline leaves, so that the deadline-based early stop in `backfill_segment` returns
`done: false` with a cursor after every page and the machine's loop carries it into the next
invocation.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import fault_proxy  # noqa: E402
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
CLI = Path(os.environ.get("DYNAMO_SHADOW_CLI", ROOT / "target" / "debug" / "dynamo-shadow"))
TEMPLATE = ROOT / "template.yaml"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:test-backfill"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
MAX_PAYLOAD = 256 * 1024  # Step Functions' limit on a state's input and output
SECRETS = ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "carol.smith@example.net"]
META = ("_shadow_seq", "_shadow_policy", "_shadow_deleted", "_shadow_expires_at")
S = lambda s: {"S": s}  # noqa: E731


# ---------------------------------------------------------------------------------------------
# The template and the definition


class _CfnLoader(yaml.SafeLoader):
    """PyYAML loader that accepts any CloudFormation tag (!Ref, !If, !Sub, !GetAtt, ...)."""


def _any_tag(loader: yaml.SafeLoader, tag: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {tag: value}


_CfnLoader.add_multi_constructor("!", _any_tag)


def state_machine_resource() -> dict:
    template = yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    res = template["Resources"]["BackfillStateMachine"]
    assert res["Type"] == "AWS::Serverless::StateMachine"
    return res["Properties"]


def substitute(text: str, declared: set, source_table: str) -> dict:
    """CloudFormation's DefinitionSubstitutions: each `${Name}` in the definition text is
    replaced by the value's text (the values are strings)."""
    values = {"SourceTable": source_table, "BackfillFunctionArn": FUNCTION_ARN}
    assert declared == set(values), f"DefinitionSubstitutions declares {sorted(declared)}; this test knows {sorted(values)}"
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    assert used == declared, f"placeholders used {sorted(used)}, declared {sorted(declared)}"
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return json.loads(text)


def substituted_definition(source_table: str) -> dict:
    """The definition as Step Functions receives it: the inline Definition as JSON text (SAM
    writes it with `json.dumps`), then the substitutions."""
    props = state_machine_resource()
    text = json.dumps(props["Definition"], sort_keys=True)
    return substitute(text, set(props["DefinitionSubstitutions"]), source_table)


def sam_translated_definition(source_table: str) -> dict:
    """The same through the SAM translator itself (what `sam deploy` sends CloudFormation)."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        def load(self):
            return {}

    template = yaml_parse(TEMPLATE.read_text())
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::Function":
            res["Properties"]["CodeUri"] = "s3://bucket/key"  # what `sam package` puts there
    out = transform(template, {}, NoManagedPolicies())
    [sm] = [r for r in out["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    props = sm["Properties"]
    sep, lines = props["DefinitionString"]["Fn::Join"]
    return substitute(sep.join(lines), set(props["DefinitionSubstitutions"]), source_table)


# ---------------------------------------------------------------------------------------------
# Structural validation

TERMINAL_TYPES = {"Succeed", "Fail"}


def transitions(state: dict) -> list[str]:
    out = []
    if "Next" in state:
        out.append(state["Next"])
    if "Default" in state:
        out.append(state["Default"])
    for rule in state.get("Choices", []):
        out.append(rule["Next"])
    return out


def validate(machine: dict, scope: str = "<root>") -> list[str]:
    """Problems with one (nested) state machine; an empty list when it is well formed."""
    problems = []
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        return [f"{scope}: no States"]
    start = machine.get("StartAt")
    if start not in states:
        problems.append(f"{scope}: StartAt {start!r} is not a state")
    terminal = []
    for name, st in states.items():
        where = f"{scope}/{name}"
        t = st.get("Type")
        if len(name) > 80:
            problems.append(f"{where}: state names are at most 80 characters")
        for target in transitions(st):
            if target not in states:
                problems.append(f"{where}: transition to {target!r}, which is not a state in {scope}")
        if t == "Choice":
            if "End" in st or "Next" in st:
                problems.append(f"{where}: a Choice has neither End nor Next")
            if not st.get("Choices"):
                problems.append(f"{where}: a Choice needs Choices")
        elif t in TERMINAL_TYPES:
            terminal.append(name)
            if "Next" in st or "End" in st:
                problems.append(f"{where}: a {t} state has neither Next nor End")
        else:
            if ("Next" in st) == (st.get("End") is True):
                problems.append(f"{where}: exactly one of Next and End: true")
            if st.get("End") is True:
                terminal.append(name)
        if t == "Map":
            for field in ("ItemsPath", "ItemSelector", "ItemProcessor"):
                if field not in st:
                    problems.append(f"{where}: a Map needs {field}")
            proc = st.get("ItemProcessor", {})
            if proc.get("ProcessorConfig", {}).get("Mode", "INLINE") != "INLINE":
                problems.append(f"{where}: only INLINE Map processors are understood here")
            problems += validate(proc, where)
        if t == "Task":
            for i, r in enumerate(st.get("Retry", [])):
                ok = (isinstance(r.get("ErrorEquals"), list) and r["ErrorEquals"]
                      and all(isinstance(e, str) for e in r["ErrorEquals"])
                      and all(isinstance(r.get(k, 1), int) and r.get(k, 1) >= 0 for k in ("IntervalSeconds", "MaxAttempts"))
                      and isinstance(r.get("BackoffRate", 2.0), (int, float)) and r.get("BackoffRate", 2.0) >= 1)
                if not ok:
                    problems.append(f"{where}: Retry[{i}] is malformed: {r}")
    if not terminal:
        problems.append(f"{scope}: no terminal state (End: true, Succeed or Fail)")
    seen, todo = set(), [start] if start in states else []
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo += [t for t in transitions(states[n]) if t in states]
    for name in states:
        if name not in seen:
            problems.append(f"{scope}/{name}: unreachable from {start!r}")
    if not any(n in seen for n in terminal):
        problems.append(f"{scope}: no terminal state is reachable")
    return problems


def walk_states(machine: dict, scope: str = "<root>"):
    for name, st in machine["States"].items():
        yield f"{scope}/{name}", st
        if st.get("Type") == "Map":
            yield from walk_states(st["ItemProcessor"], f"{scope}/{name}")


# ---------------------------------------------------------------------------------------------
# The interpreter: exactly the ASL subset the definition uses


class Unsupported(Exception):
    """The definition uses something this interpreter does not implement."""


class StatesError(Exception):
    """A runtime error Step Functions would raise (States.Runtime, States.TaskFailed, ...)."""

    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def json_path(path: str, data, context: dict):
    """`$`, `$.a.b` on the data; `$$.a.b` on the context object. Nothing else."""
    root = data
    if path.startswith("$$"):
        root, path = context, path[1:]
    if not _PATH.match(path):
        raise Unsupported(f"JSONPath {path!r}")
    value = root
    for part in path.split(".")[1:]:
        if not isinstance(value, dict) or part not in value:
            raise StatesError("States.Runtime", f"the JSONPath {path!r} could not be found in the input")
        value = value[part]
    return value


def _parse_intrinsic(text: str, i: int):
    """Parses one argument at text[i:]; returns (node, next index)."""
    while text[i] == " ":
        i += 1
    m = re.compile(r"States\.[A-Za-z]+\(").match(text, i)
    if m:
        name, i, args = m.group(0)[:-1], m.end(), []
        while True:
            while text[i] == " ":
                i += 1
            if text[i] == ")" and not args:
                return ("call", name, args), i + 1
            arg, i = _parse_intrinsic(text, i)
            args.append(arg)
            while text[i] == " ":
                i += 1
            if text[i] == ",":
                i += 1
            elif text[i] == ")":
                return ("call", name, args), i + 1
            else:
                raise Unsupported(f"intrinsic syntax at {text[i:]!r}")
    m = re.compile(r"\$\$?[A-Za-z0-9_.]*").match(text, i)
    if m:
        return ("path", m.group(0)), m.end()
    m = re.compile(r"-?[0-9]+(?![0-9.eE])").match(text, i)
    if m:
        return ("int", int(m.group(0))), m.end()
    raise Unsupported(f"intrinsic argument at {text[i:]!r} (only paths, integers and nested States.* calls)")


def _int_arg(fn: str, v) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise StatesError("States.IntrinsicFailure", f"{fn}: expected an integer, got {v!r}")
    return v


def _eval_intrinsic(node, data, context):
    kind = node[0]
    if kind == "int":
        return node[1]
    if kind == "path":
        return json_path(node[1], data, context)
    _, name, args = node
    vals = [_eval_intrinsic(a, data, context) for a in args]
    if name == "States.ArrayRange":
        if len(vals) != 3:
            raise StatesError("States.IntrinsicFailure", "States.ArrayRange takes 3 arguments")
        start, end, step = (_int_arg(name, v) for v in vals)
        if step == 0:
            raise StatesError("States.IntrinsicFailure", "States.ArrayRange: step 0")
        out = list(range(start, end + (1 if step > 0 else -1), step))
        if len(out) > 1000:
            raise StatesError("States.IntrinsicFailure", "States.ArrayRange: more than 1000 elements")
        return out
    if name == "States.MathAdd":
        if len(vals) != 2:
            raise StatesError("States.IntrinsicFailure", "States.MathAdd takes 2 arguments")
        a, b = (_int_arg(name, v) for v in vals)
        for v in (a, b):
            if not -111111111 <= v <= 111111111:
                raise StatesError("States.IntrinsicFailure", "States.MathAdd: argument out of range")
        return a + b
    if name == "States.ArrayLength":
        if len(vals) != 1 or not isinstance(vals[0], list):
            raise StatesError("States.IntrinsicFailure", "States.ArrayLength takes one array")
        return len(vals[0])
    raise Unsupported(f"intrinsic {name}")


def evaluate(expr: str, data, context):
    """The value of a `.$` field: an intrinsic function call or a JSONPath."""
    if not isinstance(expr, str):
        raise StatesError("States.Runtime", f"a `.$` field must be a string, got {expr!r}")
    if expr.startswith("States."):
        node, end = _parse_intrinsic(expr, 0)
        if expr[end:].strip():
            raise Unsupported(f"trailing text after intrinsic in {expr!r}")
        return _eval_intrinsic(node, data, context)
    if expr.startswith("$"):
        return json_path(expr, data, context)
    raise Unsupported(f"`.$` value {expr!r}")


def payload_template(tmpl, data, context):
    """Parameters / ItemSelector / ResultSelector: `.$` keys are evaluated, the rest copied."""
    if isinstance(tmpl, dict):
        out = {}
        for k, v in tmpl.items():
            if k.endswith(".$"):
                out[k[:-2]] = evaluate(v, data, context)
            else:
                out[k] = payload_template(v, data, context)
        return out
    if isinstance(tmpl, list):
        if any(isinstance(x, (dict, list)) for x in tmpl):
            raise Unsupported("objects inside arrays of a payload template")
        return list(tmpl)
    if isinstance(tmpl, str) and "${" in tmpl:
        raise StatesError("States.Runtime", f"unsubstituted placeholder {tmpl!r}")
    return tmpl


ALLOWED = {
    "Pass": {"Type", "Comment", "Parameters", "Next", "End"},
    "Map": {"Type", "Comment", "ItemsPath", "ItemSelector", "ItemProcessor", "MaxConcurrencyPath", "ResultSelector", "Next", "End"},
    "Task": {"Type", "Comment", "Resource", "Parameters", "ResultSelector", "Retry", "Next", "End"},
    "Choice": {"Type", "Comment", "Choices", "Default"},
    "Succeed": {"Type", "Comment"},
}


class Interpreter:
    """Runs a definition. `invoke(payload) -> response` is the Lambda function.

    Map iterations run one after another (MaxConcurrency only bounds parallelism, so the
    result is the same). Retry is validated, not exercised: a function error fails the run at
    once, since in a test a retried error is still an error."""

    def __init__(self, invoke, function_arn: str, max_transitions: int = 2000):
        self.invoke = invoke
        self.function_arn = function_arn
        self.transitions = 0
        self.max_transitions = max_transitions
        self.visits: dict[str, int] = {}

    def run(self, machine: dict, data, scope: str = ""):
        name = machine["StartAt"]
        while True:
            self.transitions += 1
            if self.transitions > self.max_transitions:
                raise StatesError("Test.Loop", f"more than {self.max_transitions} state transitions")
            st = machine["States"][name]
            where = f"{scope}/{name}"
            self.visits[where] = self.visits.get(where, 0) + 1
            t = st.get("Type")
            if t not in ALLOWED:
                raise Unsupported(f"{where}: state type {t!r}")
            extra = set(st) - ALLOWED[t]
            if extra:
                raise Unsupported(f"{where}: fields {sorted(extra)} on a {t} state")
            if t == "Succeed":
                return data
            if t == "Choice":
                name = self.choose(st, data, where)
                continue
            if t == "Pass":
                out = payload_template(st["Parameters"], data, {}) if "Parameters" in st else data
            elif t == "Map":
                out = self.map(st, data, where)
            else:
                out = self.task(st, data, where)
            if len(json.dumps(out)) > MAX_PAYLOAD:
                raise StatesError("States.DataLimitExceeded", f"{where}: output over 256 KB")
            if st.get("End") is True:
                return out
            data, name = out, st["Next"]

    def choose(self, st: dict, data, where: str) -> str:
        for rule in st["Choices"]:
            extra = set(rule) - {"Variable", "BooleanEquals", "Next"}
            if extra or "BooleanEquals" not in rule:
                raise Unsupported(f"{where}: choice rule fields {sorted(rule)}")
            value = json_path(rule["Variable"], data, {})
            # BooleanEquals compares booleans only; anything else never matches.
            if isinstance(value, bool) and value is rule["BooleanEquals"]:
                return rule["Next"]
        if "Default" not in st:
            raise StatesError("States.NoChoiceMatched", where)
        return st["Default"]

    def map(self, st: dict, data, where: str):
        proc = st["ItemProcessor"]
        if set(proc) - {"ProcessorConfig", "StartAt", "States", "Comment"}:
            raise Unsupported(f"{where}: ItemProcessor fields {sorted(proc)}")
        if proc.get("ProcessorConfig", {}) != {"Mode": "INLINE"}:
            raise Unsupported(f"{where}: ProcessorConfig {proc.get('ProcessorConfig')}")
        items = json_path(st["ItemsPath"], data, {})
        if not isinstance(items, list):
            raise StatesError("States.Runtime", f"{where}: ItemsPath is not an array")
        mc = json_path(st["MaxConcurrencyPath"], data, {}) if "MaxConcurrencyPath" in st else 0
        if not isinstance(mc, int) or isinstance(mc, bool) or mc < 0:
            raise StatesError("States.Runtime", f"{where}: MaxConcurrencyPath is not a non-negative integer: {mc!r}")
        results = []
        for index, value in enumerate(items):
            ctx = {"Map": {"Item": {"Index": index, "Value": value}}}
            item_input = payload_template(st["ItemSelector"], data, ctx) if "ItemSelector" in st else value
            results.append(self.run(proc, item_input, where))
        return payload_template(st["ResultSelector"], results, {}) if "ResultSelector" in st else results

    def task(self, st: dict, data, where: str):
        if st["Resource"] != LAMBDA_INVOKE:
            raise Unsupported(f"{where}: Resource {st['Resource']!r}")
        params = payload_template(st["Parameters"], data, {})
        if set(params) != {"FunctionName", "Payload"}:
            raise Unsupported(f"{where}: lambda:invoke parameters {sorted(params)}")
        if params["FunctionName"] != self.function_arn:
            raise StatesError("States.TaskFailed", f"{where}: FunctionName {params['FunctionName']!r}")
        if len(json.dumps(params["Payload"])) > MAX_PAYLOAD:
            raise StatesError("States.DataLimitExceeded", f"{where}: payload over 256 KB")
        response = self.invoke(params["Payload"])
        if isinstance(response, dict) and ("errorType" in response or "errorMessage" in response):
            raise StatesError(response.get("errorType") or "States.TaskFailed", str(response.get("errorMessage")))
        result = {"Payload": response}
        return payload_template(st["ResultSelector"], result, {}) if "ResultSelector" in st else result


# ---------------------------------------------------------------------------------------------
# Fixtures and data


@pytest.fixture
def tables(aws):
    ddb, _ = aws
    name = uuid.uuid4().hex[:8]
    source, shadow = f"smsrc-{name}", f"smshadow-{name}"
    local_aws.create_tables(ddb, source, shadow)
    return source, shadow


WORDS = ("alpha river stone garden window meadow lantern harbor orchard violet copper silver maple cedar breeze "
         "summit valley canyon").split()


def item(i: int) -> dict:
    """A profile with ~10 KB of benign notes (so each scan segment spans two 1 MB pages),
    an API key on every third item and an email in the bio of every fourth."""
    rng = random.Random(i)
    it = {"pk": S(f"USER#{i:05d}"), "sk": S("PROFILE"), "name": S(f"User {i}"), "version": {"N": str(i % 7)},
          "notes": S(" ".join(rng.choice(WORDS) for _ in range(1500)))}
    if i % 3 == 0:
        it["api_key"] = S(SECRETS[0])
    if i % 4 == 0:
        it["bio"] = S(f"likes hiking; write to {SECRETS[1]}")
    return it


def put_many(ddb, table: str, items: list[dict]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[start:start + 25]]})


def expected(endpoint: str, items: list[dict]) -> dict:
    """sanitize(source) by the CLI, the same engine and default policy as the function."""
    lines = "\n".join(json.dumps(local_aws._jsonable(i)) for i in items)
    env = {**os.environ, **local_aws.CREDS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    out = subprocess.run([str(CLI), "sanitize", "--key", "pk", "--key", "sk"], input=lines, capture_output=True,
                         text=True, env=env, check=True).stdout
    return {(d["pk"]["S"], d["sk"]["S"]): d for d in map(json.loads, out.splitlines())}


def run_machine(definition: dict, emu: local_aws.Emulator, machine_input: dict):
    """Executes the machine; returns its output and every (payload, response) of the function."""
    calls: list[tuple[dict, dict]] = []

    def invoke(payload: dict):
        status, resp = emu.invoke(payload, timeout=60)
        assert status == 200, (status, resp)
        calls.append((payload, resp))
        return resp

    interp = Interpreter(invoke, FUNCTION_ARN)
    return interp.run(definition, machine_input), calls, interp


def by_segment(calls) -> dict[int, list[tuple[dict, dict]]]:
    segs: dict[int, list] = {}
    for payload, resp in calls:
        segs.setdefault(payload["backfill"]["segment"], []).append((payload, resp))
    return segs


# ---------------------------------------------------------------------------------------------
# Tests


def test_definition_is_well_formed(monkeypatch):
    d = substituted_definition("source-table")
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_aws.REGION)
    assert sam_translated_definition("source-table") == d, "the SAM translator emits another definition"
    assert validate(d) == []
    # The shape the rest of this file relies on.
    assert d["StartAt"] == "Segments"
    seg = d["States"]["EachSegment"]
    assert seg["Type"] == "Map" and seg["ItemsPath"] == "$.segments"
    assert seg["ItemSelector"]["backfill"]["sourceTable"] == "source-table"
    task = seg["ItemProcessor"]["States"][seg["ItemProcessor"]["StartAt"]]
    assert task["Resource"] == LAMBDA_INVOKE and task["Parameters"]["FunctionName"] == FUNCTION_ARN
    assert "${" not in json.dumps(d), "a placeholder survived the substitution"
    # Every state type and field is one the interpreter implements (else it would raise).
    for where, st in walk_states(d):
        assert st["Type"] in ALLOWED, where
        assert set(st) <= ALLOWED[st["Type"]], (where, sorted(set(st) - ALLOWED[st["Type"]]))

    # The validator itself catches what it is meant to catch.
    broken = json.loads(json.dumps(d))
    inner = broken["States"]["EachSegment"]["ItemProcessor"]["States"]
    inner["SegmentDone?"]["Default"] = "Segments"  # a state of the outer scope
    broken["States"]["Orphan"] = {"Type": "Succeed"}
    problems = "\n".join(validate(broken))
    assert "not a state in <root>/EachSegment" in problems and "Orphan: unreachable" in problems


def test_substituted_values_keep_their_asl_types(monkeypatch):
    """DefinitionSubstitutions are text, so SAM emits a substituted number as a JSON string,
    which Step Functions rejects for MaxConcurrency: the definition substitutes only names
    (table, function ARN) and takes the concurrency from the execution input."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", local_aws.REGION)
    d = sam_translated_definition("source-table")
    m = d["States"]["EachSegment"]
    assert "MaxConcurrency" not in m and m["MaxConcurrencyPath"] == "$.maxConcurrency"
    assert m["ItemSelector"]["backfill"]["sourceTable"] == "source-table"
    assert d["States"]["EachSegment"]["ItemProcessor"]["States"]["ScanSegment"]["Parameters"]["FunctionName"] == FUNCTION_ARN


def test_interpreter_runs_the_definition_logic_without_aws():
    """The Pass, Map and Choice logic with a fake function: segment lists for 1 and 3
    segments, the loop on `done`, and the Map's ResultSelector."""
    d = substituted_definition("t")
    seen = []

    def fake(payload):
        b = payload["backfill"]
        seen.append((b["segment"], b.get("cursor")))
        n = (b.get("cursor") or 0) + 1
        return {**b, "cursor": None if n == b["segment"] + 1 else n, "done": n == b["segment"] + 1}

    out = Interpreter(fake, FUNCTION_ARN).run(d, {"totalSegments": 3, "maxConcurrency": 2, "maxWcuPerSegment": 50, "policyChanged": True})
    assert out == {"segments": 3}
    # Segment k takes k+1 invocations; each carries the previous response's cursor.
    assert seen == [(0, None), (1, None), (1, 1), (2, None), (2, 1), (2, 2)]
    seen.clear()
    assert Interpreter(fake, FUNCTION_ARN).run(d, {"totalSegments": 1, "maxConcurrency": 0, "maxWcuPerSegment": 50, "policyChanged": False}) == {"segments": 1}
    assert seen == [(0, None)]
    with pytest.raises(StatesError, match="could not be found"):
        Interpreter(fake, FUNCTION_ARN).run(d, {"totalSegments": 2, "maxConcurrency": 2, "maxWcuPerSegment": 5})
    with pytest.raises(Unsupported):
        Interpreter(fake, FUNCTION_ARN).run({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}, {})


def scan_pages(ddb, table: str, segment: int, total: int) -> list[int]:
    """Items per 1 MB Scan page of one segment (moto pages as DynamoDB does)."""
    pages, kw = [], {}
    while True:
        out = ddb.scan(TableName=table, Segment=segment, TotalSegments=total, **kw)
        pages.append(len(out["Items"]))
        if "LastEvaluatedKey" not in out:
            return pages
        kw["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def test_state_machine_backfills_through_the_real_function(aws, endpoint, tables, tmp_path):
    ddb, _ = aws
    source, shadow = tables
    n = 500
    put_many(ddb, source, [item(i) for i in range(n)])
    definition = substituted_definition(source)
    machine_input = {"totalSegments": 3, "maxConcurrency": 2, "maxWcuPerSegment": 1000, "policyChanged": False}
    pages = {seg: scan_pages(ddb, source, seg, 3) for seg in range(3)}
    assert all(len(p) >= 2 for p in pages.values()), f"each segment must span several pages: {pages}"

    # The function stops a segment early only at a page boundary after its budget (a third of
    # the time left when under 90 s) has passed, so a short timeout alone makes the early stop
    # depend on how fast this machine processes a page. With a 6 s timeout (budget ~2 s) and
    # every Scan answered 2.5 s late by a proxy, each invocation does exactly one page and
    # returns its cursor, on any machine.
    env = {"SHADOW_TABLE": shadow, "AWS_LAMBDA_FUNCTION_TIMEOUT": "6"}
    with fault_proxy.FaultProxy(endpoint, rates={"delay": 1.0}, delay=2.5,
                                targets=("DynamoDB_20120810.Scan",)) as proxy:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.url
        with local_aws.Emulator(env, tmp_path / "rie-short.log", local_aws.backfill_binary()) as emu:
            out, calls, interp = run_machine(definition, emu, machine_input)
            logs = emu.logs()
        scans = proxy.counts()["targets"].get("DynamoDB_20120810.Scan", 0)
    assert out == {"segments": 3}

    segs = by_segment(calls)
    assert sorted(segs) == [0, 1, 2]
    for seg, seq in segs.items():
        first = seq[0][0]["backfill"]
        assert first == {"sourceTable": source, "segment": seg, "totalSegments": 3, "policyChanged": False, "maxWcu": 1000}
        # One page per invocation: every invocation but the last stops early with a cursor.
        assert [r["summary"]["scanned"] for _, r in seq] == pages[seg], seg
        assert [r["done"] for _, r in seq] == [False] * (len(seq) - 1) + [True], seg
        assert seq[-1][1]["cursor"] is None
        for (_, prev), (nxt, _) in zip(seq, seq[1:]):
            # The machine loops on exactly the function's response.
            assert nxt == {"backfill": prev}
            assert prev["cursor"] and prev["shadowTable"] == shadow
        cursors = [json.dumps(r["cursor"], sort_keys=True) for _, r in seq[:-1]]
        assert len(set(cursors)) == len(cursors), "each invocation moves the cursor forward"
    total_pages = sum(len(p) for p in pages.values())
    assert len(calls) == total_pages and scans == total_pages
    assert sum(1 for _, r in calls if r["done"] is False) == total_pages - 3
    assert interp.visits["/EachSegment/ScanSegment"] == len(calls)
    assert interp.visits["/EachSegment/SegmentDone?"] == len(calls)
    assert interp.visits["/EachSegment/SegmentComplete"] == 3
    summaries = [r["summary"] for _, r in calls]
    assert sum(s["scanned"] for s in summaries) == n, "no page scanned twice, none skipped"
    assert sum(s["written"] for s in summaries) == n
    assert sum(s["unsanitizable"] for s in summaries) == 0
    assert sum(s["segments_done"] for s in summaries) == 3
    assert max(len(json.dumps(r)) for _, r in calls) < 4096, "responses stay small (Step Functions' 256 KB)"

    # Every source item is in the shadow table, exactly sanitize(source), secrets gone.
    src = local_aws.scan_all(ddb, source)
    want = expected(endpoint, src)
    got = {(i["pk"]["S"], i["sk"]["S"]): i for i in local_aws.scan_all(ddb, shadow)}
    assert len(src) == n and set(got) == set(want)
    for k, it in got.items():
        assert it["_shadow_seq"] == S("0" * 40), k
        assert {a: v for a, v in it.items() if a not in META} == want[k], k
        assert "api_key" not in it
    assert sum("[REDACTED:EMAIL]" in it.get("bio", {}).get("S", "") for it in got.values()) == n // 4
    blob = json.dumps(list(got.values()))
    assert not [s for s in SECRETS if s in blob], "a planted secret reached the shadow table"
    assert not [s for s in SECRETS if s in logs]

    # The same machine with the emulator's default timeout (300 s) and no delay: one
    # invocation per segment, and a rerun of a finished backfill writes nothing.
    env = {"SHADOW_TABLE": shadow, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    with local_aws.Emulator(env, tmp_path / "rie-default.log", local_aws.backfill_binary()) as emu:
        out, calls, _ = run_machine(definition, emu, machine_input)
    assert out == {"segments": 3}
    assert [(p["backfill"]["segment"], r["done"]) for p, r in calls] == [(0, True), (1, True), (2, True)]
    assert sum(r["summary"]["written"] for _, r in calls) == 0
    assert sum(r["summary"]["current"] for _, r in calls) == n
