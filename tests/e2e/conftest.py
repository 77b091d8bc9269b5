"""Shared fixtures: the moto endpoint `make test` starts (tests/harness/local_aws.py)."""

import os

import pytest


@pytest.fixture(scope="session")
def endpoint() -> str:
    ep = os.environ.get("DYNAMO_SHADOW_TEST_ENDPOINT")
    if not ep:
        pytest.fail("DYNAMO_SHADOW_TEST_ENDPOINT is not set: run these tests through `make test`")
    return ep
