"""The local stack the warm benchmarks run on: moto in-process, the template's resources, the
real handlers, and a REST v1 client that builds the event before the clock starts.

Set up as the test fixtures do (tests/conftest.py), with Lambda's defaults where they matter for
speed: metrics on (their EMF line goes to a null stdout), tracing off (no X-Ray daemon here).
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from local.aws.apigw import Router, rest_event
from local.aws.functions import Function, LambdaContext
from local.aws.stack import Stack

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}
ORG = "bench"


def claims(role: str, actor: str) -> dict[str, str]:
    return {"sub": actor, "cognito:groups": role, "custom:org_id": ORG, "email": f"{actor}@bench.test"}


ADMIN = claims("admin", "ada")
AGENT = claims("agent", "bob")
APPROVER = claims("approver", "cy")


@contextlib.contextmanager
def moto_stack() -> Iterator[Stack]:
    """Moto with template.yaml's resources; the handlers' environment set as in the tests."""
    from moto import mock_aws

    from goodwill import aws
    from goodwill.services import config as config_service
    from local.aws import moto_patches
    from local.aws.stack import create

    saved = dict(os.environ)
    os.environ.update(ENVIRONMENT)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    try:
        with mock_aws(config=MOTO_CONFIG), warnings.catch_warnings():  # type: ignore[call-overload]
            warnings.simplefilter("ignore")
            moto_patches.apply()
            stack = create()
            os.environ.update(stack.functions.merged_environment())
            moto_patches.route_lambda(stack.functions)
            aws.reset_clients()
            config_service.clear_cache()
            yield stack
    finally:
        aws.reset_clients()
        config_service.clear_cache()
        os.environ.clear()
        os.environ.update(saved)


@dataclass(frozen=True)
class Call:
    """One API request, ready to hand to its handler: the event is built before timing."""

    function: Function
    event: dict[str, Any]
    context: LambdaContext

    def run(self) -> dict[str, Any]:
        result: dict[str, Any] = self.function.load()(self.event, self.context)
        return result


class Client:
    """Builds REST v1 events for the template's routes; call() runs one and checks its status."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.router = Router(stack.functions)

    def prepare(
        self,
        method: str,
        path: str,
        body: Any = None,
        who: dict[str, str] = ADMIN,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> Call:
        matched = self.router.match(method, path)
        if matched is None:
            raise LookupError(f"no route for {method} {path}")
        route, params = matched
        hdrs = {"content-type": "application/json", **(headers or {})}
        text = json.dumps(body) if body is not None else None
        event = rest_event(route, params, method, path, query, hdrs, text, who)
        return Call(route.function, event, LambdaContext(route.function.logical_id))

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None, **kw: Any) -> Any:
        with quiet():
            result = self.prepare(method, path, body, **kw).run()
        payload = json.loads(result["body"]) if result.get("body") else None
        if expect is not None and result["statusCode"] != expect:
            raise RuntimeError(f"{method} {path}: {result['statusCode']} {payload}")
        return payload


_DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - one sink for the whole run


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Powertools prints EMF metrics to stdout, as in Lambda (a write per call); send them nowhere."""
    with contextlib.redirect_stdout(_DEVNULL):
        yield
