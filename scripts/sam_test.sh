#!/usr/bin/env bash
# `make sam-test`: proves `sam build` (x86_64 and arm64) and `sam local invoke` of ShadowFunction
# with every file in events/, on a machine with no Docker engine and no container registry.
#
#   1. deps    podman + runc (+ iptables, which podman's CNI plugins call) from Debian if missing;
#              cargo-lambda (PyPI, brings Zig) via scripts/bootstrap.sh; rust-std for aarch64.
#   2. build   `sam build` per architecture into .work/sam/build-ARCH, from a snapshot of the working
#              tree (.work/sam/src), compiling in its own CARGO_TARGET_DIR (.work/sam/target) at
#              nice 19, so it never waits on ./target's lock; checks each bootstrap is an ELF for the
#              right machine.
#   3. image   podman with a private config, storage and socket under .work/sam/podman (no file in
#              /etc is edited); the Lambda base image `public.ecr.aws/lambda/provided:al2023-x86_64`
#              is made here from the host's own libraries (what `bootstrap` links, plus /bin/sh, mv
#              and chmod for the RUN step of SAM's Dockerfile): no pull.
#   4. invoke  in private network, PID and mount namespaces (unshare): podman's Docker API, the
#              container bridge with its iptables rules, moto's server and the containers exist only
#              there and vanish with them.
#              tests/sam/run_sam_local.py invokes each event and checks the response, the shadow
#              table and that no planted value appears in the table or in anything printed.
#
# Idempotent; stops everything it started, even on failure. Logs: .work/sam/logs/.
# Environment: SAM_TEST_ARCHS (default "x86_64 arm64"), SAM_TEST_BUILD_TIMEOUT (s, per build),
# SAM_TEST_INVOKE_TIMEOUT (s, all invokes), SAM_TEST_SKIP_BUILD=1 (reuse .work/sam/build-ARCH from
# an earlier run: image and invokes only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
W=$ROOT/.work/sam
VENV=$ROOT/.venv
LOGS=$W/logs
ARCHS=${SAM_TEST_ARCHS:-x86_64 arm64}
BUILD_TIMEOUT=${SAM_TEST_BUILD_TIMEOUT:-2400}
BASE_IMAGE=public.ecr.aws/lambda/provided:al2023-x86_64
RAPID_IMAGE=public.ecr.aws/lambda/provided:al2023-rapid-x86_64   # SAM builds it on top of BASE_IMAGE
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
mkdir -p "$LOGS"

say() { echo "sam-test: $*"; }
fail() { echo "sam-test: FAILED: $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
T_ALL=$EPOCHREALTIME
phase_start() { PHASE=$1; T_PHASE=$EPOCHREALTIME; }
phase_end() { say "$(printf '%-26s %7ss' "$PHASE" "$(since "$T_PHASE")")"; }

# --- teardown: whatever this run started, on any exit -------------------------------------------------
INNER_PID=    # the `unshare` holding the invokes' namespaces
CHILD=        # a long step running in a process group of its own (see bounded)
exec 3>&1 4>&2   # the script's own output, for cleanup (a trap can fire inside a redirected step)
cleanup() {
  local rc=$? i
  exec 1>&3 2>&4
  if [ -n "$CHILD" ]; then
    kill -TERM -- "-$CHILD" 2>/dev/null || true    # the step's whole group: sam, cargo-lambda, cargo, rustc
    for i in $(seq 50); do kill -0 -- "-$CHILD" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  if [ -n "$INNER_PID" ] && kill -0 "$INNER_PID" 2>/dev/null; then
    # unshare ignores SIGTERM; SIGKILL takes its child (the namespaces' PID 1, by --kill-child) and
    # so every process in them along. A few seconds first for the driver's own teardown (Ctrl-C).
    for i in $(seq 50); do kill -0 "$INNER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$INNER_PID" 2>/dev/null || true
    wait "$INNER_PID" 2>/dev/null || true
  fi
  [ -z "${WATCHDOG_PID:-}" ] || kill "$WATCHDOG_PID" 2>/dev/null || true
  if type -P podman >/dev/null && [ -f "$W/podman/containers.conf" ]; then
    podman_env
    podman rm -af -t 2 >/dev/null 2>&1 || true   # containers of an interrupted invoke
  fi
  say "total $(since "$T_ALL")s, exit $rc"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# SECONDS CMD...: runs CMD bounded in time, in a process group of its own (so that teardown can end
# it with all its children), while this shell waits interruptibly (a trap runs at once on Ctrl-C).
bounded() {
  local secs=$1 rc=0; shift
  setsid timeout "$secs" "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=
  return $rc
}

podman_env() {
  export CONTAINERS_CONF=$W/podman/containers.conf
  export CONTAINERS_STORAGE_CONF=$W/podman/storage.conf
  export CONTAINERS_REGISTRIES_CONF=$W/podman/registries.conf
}
# podman's overlay driver bind-mounts its storage directory on itself: in a mount namespace of its
# own, that mount ends with the command instead of staying in the host's mount table.
podman() { unshare --mount -- podman "$@"; }

# --- 1. deps ------------------------------------------------------------------------------------------------
phase_start "apt (podman, runc)"
missing=()
type -P podman >/dev/null || missing+=(podman)
type -P runc >/dev/null || missing+=(runc)
type -P iptables >/dev/null || missing+=(iptables)    # podman's CNI plugins (portmap, firewall) call it
type -P ip >/dev/null || missing+=(iproute2)
type -P unshare >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  # runc named together with podman so apt does not pick crun for podman's `crun | runc`.
  bounded 600 apt-get update -qq >"$LOGS/apt.log" 2>&1 || { tail -20 "$LOGS/apt.log"; fail "apt-get update"; }
  DEBIAN_FRONTEND=noninteractive bounded 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >>"$LOGS/apt.log" 2>&1 || { tail -20 "$LOGS/apt.log"; fail "apt-get install ${missing[*]}"; }
fi
phase_end

phase_start "pip (.venv, cargo-lambda)"
bounded 900 scripts/bootstrap.sh
[ -x "$VENV/bin/cargo-lambda" ] || fail "cargo-lambda missing from .venv: is it in tests/requirements.txt?"
phase_end

phase_start "rust-std aarch64"
if [[ " $ARCHS " == *" arm64 "* ]] && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  bounded 600 rustup target add aarch64-unknown-linux-gnu >"$LOGS/rustup.log" 2>&1 \
    || { tail -5 "$LOGS/rustup.log"; fail "rustup target add aarch64-unknown-linux-gnu (needs the Rust dist server; SAM_TEST_ARCHS=x86_64 skips arm64)"; }
fi
phase_end

# --- 2. sam build per architecture ------------------------------------------------------------------------------
elf_machine() {  # prints x86_64 / arm64 / other for an ELF file
  "$VENV/bin/python" - "$1" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(20)
if h[:4] != b"\x7fELF":
    print("not-elf"); sys.exit()
(m,) = struct.unpack("<H" if h[5] == 1 else ">H", h[18:20])
print({0x3E: "x86_64", 0xB7: "arm64"}.get(m, f"machine-{m:#x}"))
PY
}
# SAM's cargo-lambda workflow compiles in the source tree (and cargo may rewrite Cargo.lock there):
# build a snapshot of the working tree instead (tracked and untracked files, not ignored ones; mtimes
# kept, so cargo stays incremental), so both architectures come from one set of sources and nothing
# is written into the tree a developer is editing.
snapshot_sources() {
  rm -rf "$W/src.new"; mkdir -p "$W/src.new"
  "$VENV/bin/python" - "$W/src.new" <<'PY'
import os, shutil, subprocess, sys
dst = sys.argv[1]
listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], capture_output=True, check=True).stdout
def in_build_dir(path):  # cargo target directories (fuzz/target, ...), ignored or not
    d = os.path.dirname(path)
    while d:
        if os.path.basename(d) == "target" or os.path.exists(os.path.join(d, "CACHEDIR.TAG")):
            return True
        d = os.path.dirname(d)
    return False
for f in filter(None, listed.decode().split("\0")):
    if os.path.isfile(f) and not in_build_dir(f):
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(f, os.path.join(dst, f))  # keeps mtimes: cargo stays incremental
PY
  rm -rf "$W/src"; mv "$W/src.new" "$W/src"
}
sam_build() {  # ARCH OUT. CARGO_TARGET_DIR: SAM asks `cargo metadata` where the target directory is,
  # so this one is used, and ./target and its lock stay the developer's.
  PATH="$VENV/bin:$PATH" CARGO_TARGET_DIR="$W/target" bounded "$BUILD_TIMEOUT" nice -n 19 \
    "$VENV/bin/sam" build --template "$W/src/template.yaml" --build-dir "$2" --parameter-overrides "Architecture=$1" \
    >"$LOGS/build-$1.log" 2>&1 || { tail -30 "$LOGS/build-$1.log"; fail "sam build ($1): see .work/sam/logs/build-$1.log"; }
}
[ "${SAM_TEST_SKIP_BUILD:-}" = 1 ] || snapshot_sources
for arch in $ARCHS; do
  phase_start "sam build $arch"
  out=$W/build-$arch
  bin=$out/ShadowFunction/bootstrap
  if [ "${SAM_TEST_SKIP_BUILD:-}" = 1 ] && [ -f "$bin" ]; then
    say "reusing $out (SAM_TEST_SKIP_BUILD=1)"
  else
    sam_build "$arch" "$out"
  fi
  for fn in ShadowFunction BackfillFunction; do  # each function is its own binary
    fbin=$out/$fn/bootstrap
    [ -f "$fbin" ] || fail "sam build ($arch) wrote no $fn/bootstrap"
    got=$(elf_machine "$fbin")
    [ "$got" = "$arch" ] || fail "$fbin is $got, not $arch"
    say "$arch $fn bootstrap: ELF $got, $(stat -c %s "$fbin") bytes, needs: $(readelf -d "$fbin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
  done
  phase_end
done
[[ " $ARCHS " == *" x86_64 "* ]] || { say "x86_64 not built: no invoke (this host runs x86_64 containers only)"; exit 0; }

# --- 3. podman, private to this repo, and the base image made locally ---------------------------------------------------
phase_start "image (base, local)"
P=$W/podman
mkdir -p "$P/networks" "$P/cni"
# Lambda's own limits (1024 files); the sandbox's root cannot raise rlimits (no CAP_SYS_RESOURCE),
# and podman's defaults for root exceed its hard limits, so runc fails without these.
cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$P/tmp"
[network]
network_backend = "cni"
network_config_dir = "$P/networks"
EOF
cat >"$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/storage"
runroot = "$P/run"
EOF
# Short names never resolve to a registry: nothing can be pulled by accident.
echo 'unqualified-search-registries = []' >"$P/registries.conf"
# The default network, as Debian's podman ships it, but with its address leases kept here.
cat >"$P/networks/87-podman-bridge.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "podman", "plugins": [
  {"type": "bridge", "bridge": "cni-podman0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$P/cni", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]]}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "firewall"}, {"type": "tuning"}]}
EOF
rm -rf "$P/cni"/* # leases of containers from an interrupted run (their namespace is gone)
podman_env
podman rm -af -t 2 >/dev/null 2>&1 || true   # containers of an interrupted run (their namespaces are gone)

bin=$W/build-x86_64/ShadowFunction/bootstrap
rootfs=$W/image/rootfs
rm -rf "$rootfs"; mkdir -p "$rootfs"/{var/task,var/runtime,opt,tmp,etc/pki/tls/certs,bin}
chmod 1777 "$rootfs/tmp"
copy_libs() {  # every shared library a host program loads, at the same path (static: none)
  local lib
  for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
    [ -e "$rootfs$lib" ] || cp -L --parents "$lib" "$rootfs/"
  done
}
copy_libs "$bin"   # the function itself comes from /var/task at invoke time
for prog in sh mv chmod; do
  src=$(readlink -f "$(command -v $prog)")
  cp -L "$src" "$rootfs/bin/$prog"
  copy_libs "$src"
done
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/pki/tls/certs/ca-bundle.crt"   # where AL2023 keeps it
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$W/image/base.tar" .
# SAM builds RAPID_IMAGE (its Runtime Interface Emulator added) only when missing: drop it so this
# run's base is used and SAM's image build goes through podman's Docker API every time.
podman rmi -f "$RAPID_IMAGE" "$BASE_IMAGE" >/dev/null 2>&1 || true
podman import -q \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' --change 'ENV TZ=:/etc/localtime' \
  --change 'ENV LAMBDA_TASK_ROOT=/var/task' --change 'ENV LAMBDA_RUNTIME_DIR=/var/runtime' \
  --change 'WORKDIR /var/task' \
  "$W/image/base.tar" "$BASE_IMAGE" >/dev/null
podman image prune -f >/dev/null
say "base image: $(du -sh "$rootfs" | cut -f1) from host libraries: $(cd "$rootfs" && find . -name '*.so*' | sort | tr '\n' ' ')"
phase_end

# --- 4. invokes, in private namespaces ---------------------------------------------------------------------------
phase_start "invoke all events"
# New network, PID and mount namespaces: the driver is their PID 1, so when it ends, however it ends,
# the kernel ends every process started in them (podman's service, conmon, containers, moto, SAM),
# and the bridge, its iptables rules and the containers' mounts go with the namespaces.
# /run/netns gets a tmpfs of its own: podman's per-container netns files stay in the namespace too.
mkdir -p /run/netns
unshare --net --pid --mount --fork --kill-child --mount-proc -- \
  bash -c 'ip link set lo up && mount -t tmpfs -o mode=755 tmpfs /run/netns && exec "$@"' _ \
  "$VENV/bin/python" tests/sam/run_sam_local.py --template "$W/build-x86_64/template.yaml" --work "$W" &
INNER_PID=$!
# Bounded: each invoke has its own timeout in the driver; this bounds the whole phase.
( trap 'kill "$sp" 2>/dev/null; exit 0' TERM; sleep "${SAM_TEST_INVOKE_TIMEOUT:-1200}" & sp=$!; wait "$sp"
  echo "sam-test: invokes timed out" >&2; kill -KILL "$INNER_PID" ) 2>/dev/null &
WATCHDOG_PID=$!
wait "$INNER_PID"
INNER_PID=
phase_end
