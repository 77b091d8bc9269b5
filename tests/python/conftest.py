"""Fixtures for the Python package's tests: the wheel `make wheel` installs into .venv, the
CLI binary for the same-output checks, and the moto endpoint `make test` starts."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def ds():
    try:
        import dynamo_shadow
    except ImportError:
        pytest.fail("dynamo_shadow is not installed in this venv: run `make wheel` (part of `make test`)")
    return dynamo_shadow


@pytest.fixture(scope="session")
def cli() -> Path:
    p = Path(os.environ.get("DYNAMO_SHADOW_BIN", ROOT / "target" / "debug" / "dynamo-shadow"))
    if not p.exists():
        pytest.fail(f"{p} is missing: run `cargo build --bins` (part of `make test`)")
    return p


@pytest.fixture(scope="session")
def endpoint() -> str:
    ep = os.environ.get("DYNAMO_SHADOW_TEST_ENDPOINT")
    if not ep:
        pytest.fail("DYNAMO_SHADOW_TEST_ENDPOINT is not set: run these tests through `make test`")
    return ep


@pytest.fixture(scope="session")
def dynamodb(endpoint):
    import boto3

    return boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
