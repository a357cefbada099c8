"""Handler CPU per request, AWS answered by canned responses, against the same boto3 calls issued directly.

The warm latency section times handlers against moto, whose own work (a Python DynamoDB in this
process) dilutes ours. Here each request first runs against moto with its DynamoDB calls and
their HTTP answers recorded; then the same event runs again with every call answered at botocore's
`before-send` from that recording (no moto, no network): what is timed is the handler, our code
and the SDK's client side. The floor is the recorded calls issued by a plain client of the same
configuration and answered the same way: the SDK's share alone. CPU is the calling thread's
(`time.thread_time`), so moto's background threads do not count.

What it means in money: CPU-bound work costs 1.769 GB-s per vCPU-second at any memory size
(Lambda gives 1 vCPU per 1,769 MB), so GB-s per million requests = CPU seconds per request x
1.769 x 10^6, priced at arm64's $0.0000133334 per GB-s.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from bench.floor import CLIENT_CONFIG
from bench.harness import Client, moto_stack, quiet
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


def _floor(client: BaseClient, canned: Canned) -> float:
    methods = {api: py for py, api in client.meta.method_to_api_mapping.items()}
    calls = [(getattr(client, methods[op]), params) for op, params, _ in canned.calls]
    with canned.answering():
        started = time.thread_time()
        for method, params in calls:
            with suppress(ClientError):  # the handler met the same error at the same point
                method(**params)
        return time.thread_time() - started


def measure(route: Route, client: Client, canned: Canned, floor_client: BaseClient, calls: int) -> dict[str, Any]:
    calls = min(calls, route.max_calls or calls)
    warmup = 3
    if route.prepare:
        route.prepare(warmup + calls)
    handler: list[float] = []
    floor: list[float] = []
    requests = 0
    for i in range(warmup + calls):
        call = route.make(i)
        canned.start_recording()
        with quiet():
            real = call.run()  # against moto: the answers to replay
        if real["statusCode"] != route.expect:
            raise RuntimeError(f"{route.name}: {real['statusCode']} {real.get('body')}")
        gc.collect()
        with quiet(), canned.answering():
            started = time.thread_time()
            again = call.run()
            spent = time.thread_time() - started
        if again["statusCode"] != route.expect:
            raise RuntimeError(f"{route.name} (canned): {again['statusCode']} {again.get('body')}")
        direct = _floor(floor_client, canned)
        requests = len(canned.calls)
        if i >= warmup:
            handler.append(spent)
            floor.append(direct)
    h50, f50 = statistics.median(handler), statistics.median(floor)
    return {
        "route": route.name,
        "calls": calls,
        "dynamodb_requests": requests,
        "handler_cpu_ms": round(h50 * 1e3, 2),
        "floor_cpu_ms": round(f50 * 1e3, 2),
        "ratio": round(h50 / f50, 2) if f50 else None,
        "gb_s_per_million": round(h50 * GB_S_PER_VCPU_S * 1e6),
        "usd_per_million": round(h50 * GB_S_PER_VCPU_S * 1e6 * USD_PER_GB_S_ARM64, 3),
        "goal_ratio": GOAL_RATIO,
        "meets_goal": bool(f50) and h50 / f50 <= GOAL_RATIO,
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
        floor_client = stack.session.client("dynamodb", config=CLIENT_CONFIG)
        canned = Canned(aws.dynamodb(), floor_client)
        results = [measure(route, client, canned, floor_client, calls) for route in routes(client)]
    return {"benchmark": "cpu", "calls_per_route": calls, "routes": results}
