"""Shared fixtures: the moto endpoint `make test` starts (tests/harness/local_aws.py) and
clients for it."""

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def endpoint() -> str:
    ep = os.environ.get("DYNAMO_SHADOW_TEST_ENDPOINT")
    if not ep:
        pytest.fail("DYNAMO_SHADOW_TEST_ENDPOINT is not set: run these tests through `make test`")
    return ep


@pytest.fixture(scope="session")
def aws(endpoint):
    """(DynamoDB client, DynamoDB Streams client) for the endpoint."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
    import local_aws

    return local_aws.clients(endpoint)
