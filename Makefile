# The two commands that matter:
#   make demo   a real DynamoDB stream turned into a redacted shadow table, locally (no AWS account)
#   make test   every test, with real local parts (moto's server, the Lambda emulator, SAM validation)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo test bootstrap build wheel validate lint bench sam-test fuzz watch

bootstrap:
	@scripts/bootstrap.sh

build:
	cargo build --bins

# The Python package (crates/python: the core crate behind PyO3, one abi3 wheel), installed
# into the test venv for tests/python and the shadow-index e2e test.
WHEELS := target/wheels
wheel: bootstrap
	rm -f $(WHEELS)/dynamo_shadow-*.whl
	$(VENV)/bin/maturin build --release --quiet -m crates/python/Cargo.toml -o $(WHEELS)
	$(VENV)/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps $(WHEELS)/dynamo_shadow-*.whl

demo: bootstrap build
	$(PY) scripts/demo.py

# The function under `cargo lambda watch` (rebuilt on save) with a local DynamoDB and the demo
# tables; prints the `cargo lambda invoke` line to try. Ctrl-C stops all of it.
watch: bootstrap
	$(PY) scripts/watch.py

validate: bootstrap
	$(VENV)/bin/sam validate --template template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

# Starts moto's server on a free loopback port for the Rust and Python suites, stops it after.
test: bootstrap build wheel validate
	DYNAMO_SHADOW_REQUIRE_ENDPOINT=1 $(PY) tests/harness/local_aws.py \
	  bash -c 'cargo test --workspace && $(VENV)/bin/pytest -q tests/e2e tests/python examples/django_shadow'
	$(MAKE) --no-print-directory sam-test
	$(MAKE) --no-print-directory lint

# Figures, not tests: engine MB/s, our write path against a naive mirror (on moto), and the
# Lambda's init time, peak RSS and size under the Runtime Interface Emulator.
bench: bootstrap
	cargo bench --bench engine
	cargo bench --bench hostile
	$(PY) tests/harness/local_aws.py cargo bench --bench mirror
	$(PY) tests/harness/local_aws.py cargo bench --bench backfill
	cargo build --release --bin shadow-lambda
	$(PY) scripts/measure_lambda.py
	$(MAKE) --no-print-directory wheel
	cargo build --release --bin dynamo-shadow
	$(PY) scripts/bench_python.py

# `sam build` for x86_64 and arm64 and `sam local invoke` of every file in events/ against moto,
# with podman standing in for Docker and a base image made locally (no registry). See the script.
sam-test: bootstrap
	scripts/sam_test.sh

# Coverage-guided fuzzing of event decoding + sanitizing (needs a nightly toolchain; not part of
# `make test`, whose tests/fuzz_replay.rs replays the same property on seeds and mutations).
FUZZ_SECONDS ?= 300
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	mkdir -p .work/fuzz-corpus
	cargo +nightly fuzz run event .work/fuzz-corpus fuzz/seeds -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
