"""Warm request latency of each route, handler in-process against moto, side by side with its floor.

Every measured call is followed at once by the replay of its own DynamoDB calls (bench.floor), so
both see the same machine load; p50 and p99 of each, and their ratio. The event is built before
the clock starts (API Gateway's work); the handler's stdout (EMF metrics) goes to /dev/null.
moto keeps the table in this process, where a Lambda's heap would hold none of it: it is frozen
out of the garbage collector's way (gc.freeze) every 50 calls.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.floor import Mirror
from bench.harness import AGENT, APPROVER, Call, Client, moto_stack, quiet
from bench.scenario import CUSTOMERS, grant_body, seed

GOAL_RATIO = 1.25


@dataclass(frozen=True)
class Route:
    name: str
    make: Callable[[int], Call]
    expect: int
    prepare: Callable[[int], None] | None = None  # untimed, given how many calls will follow
    max_calls: int | None = None


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def routes(client: Client) -> list[Route]:
    pending: list[str] = []

    def queue(count: int) -> None:
        for i in range(count):
            body = grant_body(f"c-{i % CUSTOMERS}", 5000)
            pending.append(
                client.call("POST", "/goodwill/points", body, expect=202, who=AGENT)["request"]["request_id"]
            )

    def customer(i: int) -> str:
        return f"c-{i % CUSTOMERS}"

    person = {"name": "Grace Hopper", "phone": "+15555550123"}
    coupon = {"series_id": "gen", "reason": "SERVICE_RECOVERY"}
    return [
        # First, and fewer calls: moto answers a GSI query by going through the whole table (about
        # 0.5 ms an item here), so it slows as the table grows and 200 calls would eat the time budget.
        Route(
            "GET /goodwill/requests",
            lambda i: client.prepare("GET", "/goodwill/requests", who=AGENT),
            200,
            max_calls=60,
        ),
        Route(
            "PUT /customers/{id}",
            lambda i: client.prepare("PUT", f"/customers/n-{i}", {**person, "email": f"n-{i}@bench.test"}),
            201,
        ),
        Route("GET /customers/{id}", lambda i: client.prepare("GET", f"/customers/{customer(i)}", who=AGENT), 200),
        Route(
            "POST /goodwill/points",
            lambda i: client.prepare("POST", "/goodwill/points", grant_body(customer(i)), who=AGENT),
            201,
        ),
        Route(
            "POST /goodwill/points (Idempotency-Key)",
            lambda i: client.prepare(
                "POST", "/goodwill/points", grant_body(customer(i)), who=AGENT, headers={"Idempotency-Key": f"k{i}"}
            ),
            201,
        ),
        Route(
            "POST /goodwill/points (replayed key)",
            lambda i: client.prepare(
                "POST", "/goodwill/points", grant_body(customer(i)), who=AGENT, headers={"Idempotency-Key": f"k{i}"}
            ),
            201,
        ),
        Route(
            "POST /goodwill/coupons (auto-approved)",
            lambda i: client.prepare("POST", "/goodwill/coupons", {**coupon, "customer_id": customer(i)}, who=AGENT),
            201,
        ),
        Route(
            "GET /customers/{id}/transactions",
            lambda i: client.prepare("GET", f"/customers/{customer(i)}/transactions", who=AGENT),
            200,
        ),
        Route(
            "POST /goodwill/requests/{id}/approve",
            lambda i: client.prepare("POST", f"/goodwill/requests/{pending[i]}/approve", {}, who=APPROVER),
            200,
            prepare=queue,
        ),
    ]


def measure(route: Route, mirror: Mirror, calls: int, warmup: int) -> dict[str, Any]:
    calls = min(calls, route.max_calls or calls)
    if route.prepare:
        route.prepare(warmup + calls)
    mirror.replay()
    handler: list[float] = []
    floor: list[float] = []
    requests = 0
    for i in range(warmup + calls):
        if i % 50 == 0:
            # moto keeps the whole table in this process; a Lambda's heap holds none of it. Frozen, its
            # objects are not walked by the collections the handler's allocations set off.
            gc.collect()
            gc.freeze()
        call = route.make(i)
        with quiet():
            started = time.perf_counter()
            result = call.run()
            elapsed = time.perf_counter() - started
        if result["statusCode"] != route.expect:
            raise RuntimeError(f"{route.name}: {result['statusCode']} {result.get('body')}")
        requests = len(mirror.pending)
        replayed = mirror.replay()
        if i >= warmup:
            handler.append(elapsed)
            floor.append(replayed)
    h50, f50 = statistics.median(handler), statistics.median(floor)
    h99, f99 = percentile(handler, 99), percentile(floor, 99)
    return {
        "route": route.name,
        "calls": calls,
        "dynamodb_requests": requests,
        "handler_ms": {"p50": round(h50 * 1e3, 2), "p99": round(h99 * 1e3, 2)},
        "floor_ms": {"p50": round(f50 * 1e3, 2), "p99": round(f99 * 1e3, 2)},
        "ratio_p50": round(h50 / f50, 2),
        "ratio_p99": round(h99 / f99, 2),
        "goal_ratio": GOAL_RATIO,
        "meets_goal": h50 / f50 <= GOAL_RATIO,
    }


def run(quick: bool = False) -> dict[str, Any]:
    calls, warmup = (30, 3) if quick else (200, 15)
    from goodwill import aws

    with moto_stack() as stack:
        client = Client(stack)
        mirror = Mirror(stack, aws.dynamodb())
        seed(client)  # recorded too, and replayed untimed by the first measure(): the twin starts equal
        try:
            results = [measure(route, mirror, calls, warmup) for route in routes(client)]
        finally:
            gc.unfreeze()
    return {"benchmark": "latency", "calls_per_route": calls, "warmup": warmup, "routes": results}
