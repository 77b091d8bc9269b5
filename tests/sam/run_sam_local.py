"""`sam local invoke ShadowFunction` for every file in events/, against moto's DynamoDB server,
with podman serving SAM the Docker API. Run by scripts/sam_test.sh, which builds the function
(`sam build`), makes the base image locally and runs this as PID 1 of private network, PID and
mount namespaces (`unshare`): the container bridge, its iptables rules, moto's server and the
containers exist only there, and end with this process however it ends.

For each event: fresh source and shadow tables, one invoke, then checks on the response
(batchItemFailures), on the shadow table (image written and redacted, or a tombstone) and on
everything SAM and the function printed (no planted value from events/planted-secrets.json).
Failure messages name events, keys and attributes, never attribute values. Everything started
here is stopped here."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import local_aws  # noqa: E402

ROOT = local_aws.ROOT
EVENTS = ROOT / "events"
PLANTED = json.loads((EVENTS / "planted-secrets.json").read_text())
FUNCTION = "ShadowFunction"
# Variables the test sets that the template does not declare (SAM's --env-vars only overrides declared ones).
LOCAL_ONLY_VARS = ("AWS_ENDPOINT_URL_DYNAMODB",)
S = lambda s: {"S": s}  # noqa: E731


def log(msg: str) -> None:
    print(f"sam-test: {msg}", flush=True)


def redact(text: str) -> str:
    for p in PLANTED:
        text = text.replace(p, "[PLANTED VALUE]")
    return text


def tail(path: Path, n: int = 25) -> str:
    return redact("\n".join(path.read_text(errors="replace").splitlines()[-n:]))


class Failures(list):
    def check(self, cond: bool, msg: str) -> None:
        if not cond:
            self.append(msg)


# --- podman's Docker API ----------------------------------------------------------------------

@contextlib.contextmanager
def podman_service(sock: Path, log_path: Path):
    """`podman system service` on a unix socket (the config comes from CONTAINERS_* in the environment)."""
    with contextlib.suppress(FileNotFoundError):
        sock.unlink()
    logf = open(log_path, "wb")
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        import docker  # the SDK SAM itself uses
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"podman system service exited with {proc.returncode}: see {log_path}")
            if sock.exists():
                with contextlib.suppress(Exception):
                    if docker.DockerClient(base_url=f"unix://{sock}").ping():
                        break
            if time.monotonic() > deadline:
                raise RuntimeError("podman system service did not answer within 30 s")
            time.sleep(0.1)
        yield f"unix://{sock}"
    finally:
        # Containers SAM left behind (an interrupted invoke), then the service.
        subprocess.run(["podman", "rm", "-af", "-t", "2"], capture_output=True)
        local_aws.stop(proc)
        logf.close()
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()


def bridge_gateway() -> str:
    """The address of this namespace on podman's default bridge: where a container reaches moto."""
    out = subprocess.run(["podman", "network", "inspect", "podman"], capture_output=True, text=True, check=True).stdout
    net = json.loads(out)[0]
    return net["subnets"][0]["gateway"]


# --- moto ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def moto_on_all_interfaces(log_path: Path):
    """moto's server on every address of this (private) network namespace: loopback for the
    test, the bridge gateway for the container. local_aws.moto_server binds loopback only."""
    port = local_aws.free_port()
    logf = open(log_path, "wb")
    proc = subprocess.Popen([str(local_aws.VENV / "bin" / "moto_server"), "-H", "0.0.0.0", "-p", str(port)],
                            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        local_aws.wait_port(port, proc, 60, "moto_server")
        yield port
    finally:
        local_aws.stop(proc)
        logf.close()


# --- the template SAM runs -----------------------------------------------------------------------

def local_template(built: Path) -> Path:
    """The built template, with the local-endpoint variables declared on the function so that
    --env-vars can set them (SAM passes a function only the variables its template declares).
    Written to .work/sam/template.local.yaml with absolute CodeUris (a later `sam build` empties
    the build directory); the built one stays as `sam build` made it."""
    from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import IntrinsicResolver
    from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
    from samcli.yamlhelper import yaml_dump, yaml_parse

    tpl = yaml_parse(built.read_text())
    props = tpl["Resources"][FUNCTION]["Properties"]
    variables = props.setdefault("Environment", {}).setdefault("Variables", {})
    for name in LOCAL_ONLY_VARS:
        variables.setdefault(name, "")
    # `Layers: !If [Cond, [...], !Ref AWS::NoValue]`: SAM CLI's local resolver cannot pick the
    # AWS::NoValue branch ("Fn::If is an Invalid Layer Arn"), and it reads every function of the
    # template. Decide it here with the parameter defaults; `!If [Cond, [...], []]` in the template
    # makes this a no-op.
    resolver = IntrinsicResolver(template=tpl, symbol_resolver=IntrinsicsSymbolTable(template=tpl))
    for logical_id, res in tpl["Resources"].items():
        fprops = res.get("Properties") or {}
        layers = fprops.get("Layers")
        if res.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function") \
                or not (isinstance(layers, dict) and "Fn::If" in layers):
            continue
        cond, yes, no = layers["Fn::If"]
        chosen = yes if resolver.intrinsic_property_resolver({"Fn::If": [cond, True, False]}, ignore_errors=False) else no
        if chosen == {"Ref": "AWS::NoValue"}:
            del fprops["Layers"]
        else:
            fprops["Layers"] = chosen
        log(f"template: resolved {logical_id}'s `Layers: !If [{cond}, ..]` with the parameter defaults, for sam local")
    for res in tpl["Resources"].values():
        code = (res.get("Properties") or {}).get("CodeUri")
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(code, str):
            res["Properties"]["CodeUri"] = str((built.parent / code).resolve())
    out = built.parent.parent / "template.local.yaml"
    out.write_text(yaml_dump(tpl))
    return out


# --- expectations per event ----------------------------------------------------------------------

def key_of(r: dict) -> tuple[str, str]:
    k = r["dynamodb"]["Keys"]
    return k["pk"]["S"], k["sk"]["S"]


def expected_state(ev: dict) -> dict:
    """The newest record per key: what the shadow table must hold after the batch."""
    last: dict = {}
    for r in ev["Records"]:
        k = key_of(r)
        if k not in last or int(r["dynamodb"]["SequenceNumber"]) > int(last[k]["dynamodb"]["SequenceNumber"]):
            last[k] = r
    return last


# Attributes whose names the default policy drops, at any depth.
DROPPED_NAMES = {"api_key", "session_token", "debug_log", "clientSecret"}
# Harmless attributes that must arrive untouched (compared, never printed).
KEPT = ("name", "plan", "login_count", "tags", "last_seen_at", "order_id", "amount", "status", "attachment_sha256",
        "request_id", "subject", "level", "duration_ms", "expires_at", "provider", "webhook_url")
# Attributes that carry planted PII or secrets inside text: must arrive with typed placeholders.
REDACTED_INSIDE = ("email", "body", "message", "notes")
TOMBSTONE_ATTRS = {"pk", "sk", "_shadow_seq", "_shadow_deleted", "_shadow_expires_at", "_shadow_policy"}


def names_at_any_depth(av: dict) -> set[str]:
    out: set[str] = set()
    if "M" in av:
        for k, v in av["M"].items():
            out.add(k)
            out |= names_at_any_depth(v)
    elif "L" in av:
        for v in av["L"]:
            out |= names_at_any_depth(v)
    return out


def check_event(name: str, ev: dict, resp, items: dict, started: float, fails: Failures) -> dict:
    fails.check(resp == {"batchItemFailures": []}, f"{name}: response is not an empty batchItemFailures")
    want = expected_state(ev)
    fails.check(set(items) == set(want), f"{name}: shadow keys {sorted(items)} != expected {sorted(want)}")
    counts = {"written": 0, "tombstones": 0}
    for k, r in want.items():
        item = items.get(k)
        if item is None:
            continue
        # The position: the stream label (the end of eventSourceARN), "/", the sequence
        # number zero-padded to 40 digits.
        label, _, padded = item.get("_shadow_seq", {}).get("S", "").rpartition("/")
        fails.check(r.get("eventSourceARN", "").endswith(f"/stream/{label}") and len(padded) == 40
                    and padded.lstrip("0") == r["dynamodb"]["SequenceNumber"],
                    f"{name} {k}: _shadow_seq is not the newest record's stream label and sequence number")
        fails.check(len(item.get("_shadow_policy", {}).get("S", "")) == 16, f"{name} {k}: no _shadow_policy fingerprint")
        if r["eventName"] == "REMOVE":
            counts["tombstones"] += 1
            fails.check(item.get("_shadow_deleted") == {"BOOL": True}, f"{name} {k}: REMOVE did not leave a tombstone")
            fails.check(set(item) == TOMBSTONE_ATTRS, f"{name} {k}: tombstone attributes {sorted(item)}")
            exp = int(item.get("_shadow_expires_at", {}).get("N", "0"))
            fails.check(exp >= started + 48 * 3600, f"{name} {k}: tombstone expires less than 48 h out")
            continue
        counts["written"] += 1
        new = r["dynamodb"]["NewImage"]
        fails.check("_shadow_deleted" not in item, f"{name} {k}: an image was written as a tombstone")
        all_names = set(item) | set().union(*(names_at_any_depth(v) for v in item.values()))
        for dropped in DROPPED_NAMES & (set(new) | set().union(*(names_at_any_depth(v) for v in new.values()))):
            fails.check(dropped not in all_names, f"{name} {k}: sensitive attribute `{dropped}` reached the shadow table")
        for attr in KEPT:
            if attr in new:
                got, exp_v = item.get(attr), new[attr]
                if "SS" in exp_v and got and "SS" in got:
                    got, exp_v = sorted(got["SS"]), sorted(exp_v["SS"])
                fails.check(got == exp_v, f"{name} {k}: harmless attribute `{attr}` changed or missing")
        for attr in REDACTED_INSIDE:
            if attr in new:
                v = item.get(attr, {}).get("S", "")
                fails.check("[REDACTED:" in v, f"{name} {k}: `{attr}` carries no placeholder")
        if "profile" in new:
            prof = item.get("profile", {}).get("M", {})
            fails.check(prof.get("city") == S("Berlin"), f"{name} {k}: `profile.city` changed or missing")
            # `phone` is a sensitive name under the default policy: the attribute is dropped.
            fails.check("phone" not in prof, f"{name} {k}: `profile.phone` reached the shadow table")
            fails.check("[REDACTED:EMAIL]" in prof.get("bio", {}).get("S", ""), f"{name} {k}: `profile.bio` kept its email")
        if "settings" in new:
            st = item.get("settings", {}).get("M", {})
            fails.check(st.get("retries") == {"N": "3"} and "endpoints" in st, f"{name} {k}: `settings` lost harmless values")
    dump = json.dumps(list(items.values()), ensure_ascii=False)
    leaked = [p for p in PLANTED if p in dump]
    fails.check(not leaked, f"{name}: {len(leaked)} planted values in the shadow table")
    return counts


# --- main ----------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", required=True, type=Path, help="template.yaml written by `sam build` (x86_64)")
    ap.add_argument("--work", required=True, type=Path, help="scratch directory (.work/sam)")
    ap.add_argument("--timeout", type=float, default=240, help="seconds allowed per invoke")
    ap.add_argument("--events", nargs="*", help="event files (default: every file in events/)")
    ap.add_argument("--debug", action="store_true", help="pass --debug to sam (its log then holds the events, planted values included: the check fails)")
    args = ap.parse_args()
    args.work, args.template = args.work.resolve(), args.template.resolve()

    logs = args.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    events = [Path(e) for e in args.events] if args.events else sorted(
        p for p in EVENTS.glob("*.json") if p.name != "planted-secrets.json")
    template = local_template(args.template)
    sam = str(local_aws.VENV / "bin" / "sam")
    fails = Failures()
    failed_events: list[str] = []
    tmp = args.work / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    t = time.monotonic()
    with podman_service(args.work / "podman" / "podman.sock", logs / "podman-service.log") as docker_host, \
            moto_on_all_interfaces(logs / "moto.log") as port:
        log(f"podman service and moto's server up in {time.monotonic() - t:.1f}s")
        ddb, _ = local_aws.clients(f"http://127.0.0.1:{port}")
        # SAM hands the function the credentials and region of its own session: dummy ones, never a profile's.
        env = {k: v for k, v in os.environ.items() if k != "AWS_PROFILE"}
        env.update(local_aws.CREDS, DOCKER_HOST=docker_host, SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION=local_aws.REGION,
                   AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   # SAM asks STS for the account id before each invoke: ~10 s of retries without this.
                   AWS_ENDPOINT_URL_STS=f"http://127.0.0.1:{port}",
                   # SAM's image-build lock lives in the temp dir: a run killed mid-build would make the
                   # next one wait minutes for it. Ours is emptied each run.
                   TMPDIR=str(tmp))
        gateway = None
        for i, path in enumerate(events):
            name = path.stem
            ev = json.loads(path.read_text())
            source, shadow = f"app-main-{i}", f"app-main-shadow-{i}"
            local_aws.create_tables(ddb, source, shadow)
            if gateway is None:
                # The default network exists before its first container; its bridge comes up with it.
                gateway = bridge_gateway()
            endpoint = f"http://{gateway}:{port}"
            env_file = args.work / f"env-{name}.json"
            env_file.write_text(json.dumps({FUNCTION: {
                "SHADOW_TABLE": shadow,
                "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            }}, indent=2))
            out_path, err_path = logs / f"invoke-{name}.out", logs / f"invoke-{name}.err"
            cmd = [sam, "local", "invoke", FUNCTION, "--template", str(template), "--event", str(path),
                   "--env-vars", str(env_file), "--skip-pull-image", "--container-host", "127.0.0.1",
                   # The built template keeps the parameter, whose default is arm64; this host runs x86_64.
                   "--parameter-overrides", "Architecture=x86_64"] + (["--debug"] if args.debug else [])
            started = time.time()
            t = time.monotonic()
            with open(out_path, "wb") as o, open(err_path, "wb") as e:
                try:
                    rc = subprocess.run(cmd, stdout=o, stderr=e, env=env, timeout=args.timeout, cwd=ROOT).returncode
                except subprocess.TimeoutExpired:
                    rc = "timeout"
            took = time.monotonic() - t
            out, err = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
            resp = None
            lines = [ln for ln in out.splitlines() if ln.strip()]
            with contextlib.suppress(IndexError, json.JSONDecodeError):
                resp = json.loads(lines[-1])
            n0 = len(fails)
            fails.check(rc == 0, f"{name}: sam local invoke exited {rc}")
            fails.check(resp is not None, f"{name}: no JSON response on SAM's stdout")
            items = {(it["pk"]["S"], it["sk"]["S"]): it for it in local_aws.scan_all(ddb, shadow)}
            counts = check_event(name, ev, resp, items, started, fails)
            leaked = [p for p in PLANTED if p in out or p in err]
            fails.check(not leaked, f"{name}: {len(leaked)} planted values in what SAM and the function printed")
            fails.check("INIT REPORT" in err or "START RequestId" in err or "REPORT RequestId" in err,
                        f"{name}: no Lambda runtime lines in SAM's output")
            status = "ok" if len(fails) == n0 else "FAILED"
            if status != "ok":
                failed_events.append(name)
            log(f"invoke {name}: {took:.1f}s, {len(ev['Records'])} records -> {counts['written']} images, "
                f"{counts['tombstones']} tombstones, batchItemFailures={resp.get('batchItemFailures') if isinstance(resp, dict) else '?'}: {status}")
            if status != "ok":
                log(f"--- last lines of {err_path.relative_to(ROOT)} (planted values masked):")
                print(tail(err_path), flush=True)
    for f in fails:
        log(f"FAIL {f}")
    print(f"sam-test: {len(events) - len(failed_events)} passed, {len(failed_events)} failed", flush=True)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
