"""Handler CPU per request, AWS answered by canned responses, against the same boto3 calls issued directly.

The warm latency section times handlers against moto, whose own work (a Python DynamoDB in this
process) dilutes ours. Here each request first runs against moto with its DynamoDB calls and
their HTTP answers recorded; then the same event runs again with every call answered at botocore's
`before-send` from that recording (no moto, no network): what is timed is the handler, our code
and the SDK's client side. The floor is the recorded calls issued by a client built exactly as
goodwill/aws.py builds the handler's (same session kind, configuration and event hooks) and
answered the same way: the SDK's share alone. The skeleton is the floor inside what every
validating Powertools handler runs per request (a resolver with `enable_validation=True`, the same
route and parameters, under `inject_lambda_context` and `log_metrics`), none of our code: the
handler minus the skeleton is ours, the skeleton minus the floor is Powertools'.

The goal (issue 12, re-based 2026-12-07 as the issue re-based its cold-start goal): the handler
≤ 1.25x the skeleton, i.e. our code adds at most a quarter to what any validating Powertools
handler making the same calls costs. Against the SDK calls alone (the goal as first written) the
skeleton by itself is 1.1x - 1.3x (the replayed key's: one GetItem against Powertools' routing,
validation, logger and metrics), so no handler built on the validating resolver the project
standardises on could meet it there; that ratio is still reported. Each event carries
the caller as deployed requests do, the Lambda authorizer's context (not the local run's claims).
CPU is the calling thread's (`time.thread_time`), so moto's background threads do not count.

What it means in money: CPU-bound work costs 1.769 GB-s per vCPU-second at any memory size
(Lambda gives 1 vCPU per 1,769 MB), so GB-s per million requests = CPU seconds per request x
1.769 x 10^6, priced at arm64's $0.0000133334 per GB-s.
"""

from __future__ import annotations

import gc
import inspect
import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from bench.harness import Call, Client, moto_stack, quiet
from bench.latency import Route, routes
from bench.scenario import seed

GOAL_RATIO = 1.25
GB_S_PER_VCPU_S = 1.769
USD_PER_GB_S_ARM64 = 0.0000133334


class Canned:
    """Records a client's calls with their HTTP answers; then answers the same sequence from them."""

    def __init__(self, *clients: BaseClient) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._answers: Iterator[dict[str, Any]] | None = None
        self._clients = clients
        for client in clients:
            events = client.meta.events
            events.register("provide-client-params.dynamodb", self._params)
            events.register("response-received.dynamodb", self._received)
            events.register_first("before-send.dynamodb", self._answer)  # type: ignore[arg-type]

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._answers is None:
            self._pending.append((model.name, dict(params)))

    def _received(self, response_dict: dict[str, Any] | None, **_: Any) -> None:
        if self._answers is None and response_dict is not None and self._pending:
            operation, params = self._pending.pop(0)
            self.calls.append((operation, params, dict(response_dict)))

    def _answer(self, request: Any, **_: Any) -> AWSResponse | None:
        if self._answers is None:
            return None  # recording: moto answers
        answer = next(self._answers, None)
        if answer is None:
            raise RuntimeError(f"a call beyond the recording: {request.url}")
        raw = _RawBody(answer["body"])
        headers: Any = dict(answer["headers"])  # AWSResponse copies any mapping into its HeadersDict
        return AWSResponse(request.url, answer["status_code"], headers, raw)

    def start_recording(self) -> None:
        self.calls.clear()
        self._pending.clear()
        self._answers = None

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Answer from the recording. botocore runs every before-send handler and takes the first
        answer, so moto's stub would still serve each call (and its CPU be counted): it is taken off
        these clients meanwhile (other clients, e.g. the stack's background threads, keep it)."""
        from moto.core.models import botocore_stubber

        self._answers = iter([answer for _, _, answer in self.calls])
        for client in self._clients:
            client.meta.events.unregister("before-send", botocore_stubber)  # type: ignore[arg-type]
        try:
            yield
        finally:
            self._answers = None
            for client in self._clients:
                client.meta.events.register("before-send", botocore_stubber)  # type: ignore[arg-type]


class _RawBody:
    """A consumed-once HTTP body, as urllib3 hands botocore."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = self._data, b""
        return data

    def stream(self, amt: int = 1 << 16, decode_content: bool = True) -> Iterator[bytes]:
        if self._data:
            yield self.read()


def _issue(client: BaseClient, canned: Canned) -> Callable[[], None]:
    """The recorded calls, issued by `client` (answered by `canned` while it is answering)."""
    methods = {api: py for py, api in client.meta.method_to_api_mapping.items()}
    calls = [(getattr(client, methods[op]), params) for op, params, _ in canned.calls]

    def issue() -> None:
        for method, params in calls:
            with suppress(ClientError):  # the handler met the same error at the same point
                method(**params)

    return issue


def _floor(client: BaseClient, canned: Canned) -> float:
    issue = _issue(client, canned)
    with canned.answering():
        started = time.thread_time()
        issue()
        return time.thread_time() - started


class Skeleton:
    """Per route, a Powertools handler with validation, logger and metrics that only issues the
    recorded calls and answers the route's status: what any validating Powertools handler costs.
    Its view takes the route's own parameters (path ids, body model, headers: `_signature`), so
    Powertools validates the same request as in the handler; until 2026-12-07 it took the path
    ids only, and Powertools' validation of the body and headers was counted as ours."""

    def __init__(self, client: BaseClient) -> None:
        from aws_lambda_powertools import Logger, Metrics
        from aws_lambda_powertools.event_handler import APIGatewayRestResolver
        from aws_lambda_powertools.logging import correlation_paths

        self.client = client
        self.logger, self.metrics = Logger(service="skeleton"), Metrics(namespace="Skeleton")
        self.path = correlation_paths.API_GATEWAY_REST
        self.resolver = APIGatewayRestResolver
        self._handlers: dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]] = {}
        self._issue: Callable[[], None] = lambda: None

    def handler(self, call: Call, status: int) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        event = call.event
        key = f"{event['httpMethod']} {event['resource']}"
        if key not in self._handlers:
            path = re.sub(r"\{(\w+)\}", r"<\1>", event["resource"])

            def view(**_: Any) -> tuple[dict[str, bool], int]:
                self._issue()
                return {"ok": True}, status

            view.__signature__ = _signature(call, event["httpMethod"], path)  # type: ignore[attr-defined]
            app = self.resolver(enable_validation=True)
            app.route(path, method=event["httpMethod"])(view)

            @self.logger.inject_lambda_context(correlation_id_path=self.path)
            @self.metrics.log_metrics
            def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
                return app.resolve(event, context)

            self._handlers[key] = lambda_handler
        return self._handlers[key]

    def time(self, call: Call, canned: Canned, status: int) -> float:
        handler = self.handler(call, status)
        self._issue = _issue(self.client, canned)
        with quiet(), canned.answering():
            started = time.thread_time()
            answer = handler(call.event, call.context)
            spent = time.thread_time() - started
        if answer["statusCode"] != status:
            raise RuntimeError(f"skeleton {call.event['resource']}: {answer['statusCode']} {answer.get('body')}")
        return spent


def _signature(call: Call, method: str, path: str) -> inspect.Signature:
    """The parameters (names, types, Powertools' Body/Path/Query/Header markers) of the handler's
    view of this route, its annotations evaluated (the skeleton's view lives in another module)."""
    call.function.load()
    app = call.function._module.app  # type: ignore[union-attr]  # every API function's resolver is `app`
    for route in app._static_routes + app._dynamic_routes:
        if route.method == method and route.path == path:
            return inspect.signature(route.func, eval_str=True)
    raise LookupError(f"the handler has no route {method} {path}")


def as_deployed(call: Call) -> Call:
    """The event as API Gateway hands it on AWS: the caller in the Lambda authorizer's context
    (goodwill.identity), not the claims the local run and the tests pass."""
    from goodwill import auth

    context = call.event["requestContext"]
    claims = (context.get("authorizer") or {}).get("claims")
    if claims:
        principal = auth.person_from_claims(claims)
        far = int(time.time()) + 86400
        context["authorizer"] = {**auth.principal_context(principal, far), "principalId": principal.actor}
    return call


def _handler(call: Call, canned: Canned, expect: int) -> float:
    with quiet(), canned.answering():
        started = time.thread_time()
        again = call.run()
        spent = time.thread_time() - started
    if again["statusCode"] != expect:
        raise RuntimeError(f"{call.event['resource']} (canned): {again['statusCode']} {again.get('body')}")
    return spent


def measure(
    route: Route, client: Client, canned: Canned, clients: tuple[BaseClient, Skeleton], calls: int
) -> dict[str, Any]:
    """Per request: record it against moto, replay it once untimed, then time the handler, the
    floor and the skeleton in rotating order. Whatever runs first after moto pays for the CPU
    caches moto's work evicted (0.4-0.8 ms here): always the handler until 2026-12-05."""
    floor_client, skeleton = clients
    calls = min(calls, route.max_calls or calls)
    warmup = 3
    if route.prepare:
        route.prepare(warmup + calls)
    spent: dict[str, list[float]] = {"handler": [], "floor": [], "skeleton": []}
    sides: dict[str, Callable[[Call], float]] = {
        "handler": lambda call: _handler(call, canned, route.expect),
        "floor": lambda call: _floor(floor_client, canned),
        "skeleton": lambda call: skeleton.time(call, canned, route.expect),
    }
    order = list(sides)
    requests = 0
    for i in range(warmup + calls):
        call = as_deployed(route.make(i))
        canned.start_recording()
        with quiet():
            real = call.run()  # against moto: the answers to replay
        if real["statusCode"] != route.expect:
            raise RuntimeError(f"{route.name}: {real['statusCode']} {real.get('body')}")
        gc.collect()
        _handler(call, canned, route.expect)  # untimed: the caches as after any earlier request
        shift = i % len(order)
        timed = {name: sides[name](call) for name in order[shift:] + order[:shift]}
        requests = len(canned.calls)
        if i >= warmup:
            for name, seconds in timed.items():
                spent[name].append(seconds)
    h50, f50, s50 = (statistics.median(spent[name]) for name in ("handler", "floor", "skeleton"))
    return {
        "route": route.name,
        "calls": calls,
        "dynamodb_requests": requests,
        "handler_cpu_ms": round(h50 * 1e3, 2),
        "floor_cpu_ms": round(f50 * 1e3, 2),
        "skeleton_cpu_ms": round(s50 * 1e3, 2),
        "ours_cpu_ms": round((h50 - s50) * 1e3, 2),
        "ratio": round(h50 / s50, 2) if s50 else None,  # the goal's: handler / skeleton
        "sdk_ratio": round(h50 / f50, 2) if f50 else None,  # handler / the SDK calls alone
        "skeleton_ratio": round(s50 / f50, 2) if f50 else None,
        "gb_s_per_million": round(h50 * GB_S_PER_VCPU_S * 1e6),
        "usd_per_million": round(h50 * GB_S_PER_VCPU_S * 1e6 * USD_PER_GB_S_ARM64, 3),
        "goal_ratio": GOAL_RATIO,
        "meets_goal": bool(s50) and h50 / s50 <= GOAL_RATIO,
    }


def run(quick: bool = False) -> dict[str, Any]:
    calls = 15 if quick else 80
    import os

    from goodwill import aws
    from goodwill.settings import get_settings

    with moto_stack() as stack:
        # A warm Lambda serves most requests from its cached org config; a recorded request and its
        # canned twin must see the same cache state, so it does not expire during the run.
        os.environ["CONFIG_CACHE_SECONDS"] = "86400"
        get_settings.cache_clear()
        client = Client(stack)
        seed(client)
        # Built by goodwill/aws.py's own code (the cached factory's undecorated function), not cached.
        floor_client, skeleton_client = aws.dynamodb.__wrapped__(), aws.dynamodb.__wrapped__()
        canned = Canned(aws.dynamodb(), floor_client, skeleton_client)
        clients = (floor_client, Skeleton(skeleton_client))
        results = [measure(route, client, canned, clients, calls) for route in routes(client)]
    return {"benchmark": "cpu", "calls_per_route": calls, "routes": results}
