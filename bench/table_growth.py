"""Route latency as the local table grows: the same reads with 100,000 items in the table and
with an (almost) empty one. moto alone sorts the whole table on every Query and walks it on every
GSI query; local/aws/moto_query.py reads the queried partition only. Goal: <= 1.5x.

Run alone with `python -m bench --only table_growth`.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench.harness import AGENT, Client, moto_stack, quiet
from bench.scenario import seed

GOAL_RATIO = 1.5
ITEMS = 100_000
ROUTES = (
    ("GET /customers/{id}", "/customers/c-1"),
    ("GET /customers/{id}/transactions", "/customers/c-1/transactions"),
    ("GET /goodwill/requests", "/goodwill/requests"),
)


def _median_ms(client: Client, path: str, calls: int) -> float:
    samples = []
    for i in range(calls + 3):
        call = client.prepare("GET", path, who=AGENT)
        with quiet():
            started = time.perf_counter()
            result = call.run()
            elapsed = time.perf_counter() - started
        if result["statusCode"] != 200:
            raise RuntimeError(f"{path}: {result['statusCode']} {result.get('body')}")
        if i >= 3:
            samples.append(elapsed * 1e3)
    return statistics.median(samples)


def _fill(stack: Any, items: int) -> None:
    """Other partitions of the table (ledger-like items, some on the GSIs), written into moto directly."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends["123456789012"]["us-east-1"]
    name = stack.ref("GoodwillTable")
    for n in range(items):
        backend.put_item(
            name,
            {
                "PK": {"S": f"ORG#filler#CUST#f-{n % 5000}"},
                "SK": {"S": f"TXN#{n:08d}"},
                "GSI1PK": {"S": f"ORG#filler#REQ#{n % 50}"},
                "GSI1SK": {"S": f"{n:08d}"},
                "points": {"N": "5"},
            },
        )


def run(quick: bool = False) -> dict[str, Any]:
    calls, items = (20, 20_000) if quick else (60, ITEMS)
    with moto_stack() as stack:
        client = Client(stack)
        seed(client, customers=5, grants=10)
        empty = {name: _median_ms(client, path, calls) for name, path in ROUTES}
        began = time.perf_counter()
        _fill(stack, items)
        fill_s = time.perf_counter() - began
        full = {name: _median_ms(client, path, calls) for name, path in ROUTES}
    routes = [
        {
            "route": name,
            "empty_ms": round(empty[name], 2),
            "full_ms": round(full[name], 2),
            "ratio": round(full[name] / empty[name], 2),
            "meets_goal": full[name] / empty[name] <= GOAL_RATIO,
        }
        for name, _ in ROUTES
    ]
    return {
        "benchmark": "table_growth",
        "items": items,
        "calls_per_route": calls,
        "fill_s": round(fill_s, 1),
        "goal_ratio": GOAL_RATIO,
        "routes": routes,
    }
