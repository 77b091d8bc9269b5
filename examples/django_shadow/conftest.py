"""Runs the example against moto's DynamoDB (the endpoint `make test` starts)."""

import os

import django
import pytest
from django.conf import settings


def pytest_configure():
    import shadow_chat.settings as s

    settings.configure(**{k: getattr(s, k) for k in dir(s) if k.isupper()})
    django.setup()


@pytest.fixture(scope="session")
def endpoint() -> str:
    ep = os.environ.get("DYNAMO_SHADOW_TEST_ENDPOINT")
    if not ep:
        pytest.fail("DYNAMO_SHADOW_TEST_ENDPOINT is not set: run these tests through `make test`")
    return ep
