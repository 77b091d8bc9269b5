#!/usr/bin/env bash
# Sets up what `make test` and `make demo` need on a fresh machine: a Python venv with
# moto's server (local DynamoDB + Streams), aws-sam-cli (template validation and the Lambda
# Runtime Interface Emulator) and pytest. Idempotent: a stamp records the installed set.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "bootstrap: cargo not found: install a Rust toolchain (rustup)" >&2; exit 1; }
req=tests/requirements.txt
stamp=".venv/.installed-$(sha256sum "$req" | cut -c1-16)"
[ -f "$stamp" ] && exit 0

if ! python3 -m venv .venv >/dev/null 2>&1; then
  echo "bootstrap: python3 venv support missing; installing python3-venv" >&2
  rm -rf .venv
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  python3 -m venv .venv
fi
echo "bootstrap: installing $(grep -cv '^#' "$req") Python packages into .venv" >&2
.venv/bin/pip install -q --disable-pip-version-check -r "$req"
rm -f .venv/.installed-*
touch "$stamp"
