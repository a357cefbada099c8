"""Fixtures: moto with the resources of template.yaml, the real handlers in-process."""
# ruff: noqa: E402  (the environment below must be set before the imports)

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

# Powertools reads these once, when goodwill.observability is first imported (by this module's
# imports or by any test module at collection), so they must be set before anything imports it.
for _name, _value in {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "goodwill",
    "POWERTOOLS_METRICS_NAMESPACE": "Goodwill",
}.items():
    os.environ.setdefault(_name, _value)

import pytest
from moto import mock_aws

from goodwill import aws
from goodwill.services import config as config_service
from local.aws import isolation, moto_patches
from local.aws.stack import Stack, create
from tests.support import Api


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist's file or scope scheduling keys the tests by id: tests sharing one id (schemathesis
    gives its operations one) would run once for all of them, so such a run is stopped."""
    dist = node.config.option.dist
    shared = sorted(nodeid for nodeid, n in Counter(ids).items() if n > 1)
    if shared and dist in ("loadfile", "loadscope", "loadgroup"):
        pytest.exit(f"--dist {dist} would run once the tests sharing an id: {shared[:3]}; use -n 2 alone", 4)


MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture(autouse=True)
def _aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
        moto_patches.apply()
        isolation.apply()
        created = create()
        for key, value in created.functions.merged_environment().items():
            if key != "POWERTOOLS_LOG_LEVEL":
                monkeypatch.setenv(key, value)
        moto_patches.route_lambda(created.functions)
        aws.reset_clients()
        config_service.clear_cache()
        yield created
    aws.reset_clients()
    config_service.clear_cache()


@pytest.fixture
def api(stack: Stack) -> Api:
    return Api(stack)
