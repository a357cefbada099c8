"""What lots cost (issue 13): a debit that consumes expiring lots, and the expiry run per 1,000 lots.

A debit that takes from any number of lots is still the balance write and its ledger entry (the
lots live on the balance item): the same 2 requests as before; what grows is the balance item's
size (each lot ~60 bytes) and, when the soonest due time changes, the due-date index (GSI4, keys
only). The expiry run is measured by settling every shard of the index, as its state machine's
tasks do, over balances seeded with due lots.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bench.harness import ADMIN, AGENT, Client
from bench.meter import Meter
from bench.scenario import customer_body, grant_body
from goodwill import clock
from goodwill.lots import expiry
from goodwill.lots.model import Lot, to_item
from goodwill.repositories import keys, table
from local.aws.stack import Stack

REPEAT = 5
PAST = "2026-01-01T00:00:00.000Z"


def _debit_over_lots(client: Client, meter: Meter, lots: int, tag: str) -> dict[str, Any]:
    soon = clock.now() + timedelta(days=30)
    for i in range(REPEAT):  # each customer gets `lots` lots of 10 points, unmetered
        client.call("PUT", f"/customers/{tag}-{i}", customer_body(100 * lots + i), expect=201, who=ADMIN)
        for n in range(lots):
            body = {**grant_body(f"{tag}-{i}", 10), "notify": False, "expires_at": clock.iso(soon + timedelta(hours=n))}
            client.call("POST", "/goodwill/points", body, expect=201, who=AGENT)
    meter.take()
    for i in range(REPEAT):  # one debit taking every lot
        client.call("POST", "/goodwill/points", {**grant_body(f"{tag}-{i}", -10 * lots), "notify": False}, who=AGENT)
    return meter.take().view(per=REPEAT)


def _seed_due(stack: Stack, balances: int, lots_each: int) -> None:
    ddb = stack.client("dynamodb")
    requests = []
    for b in range(balances):
        customer_id = f"due-{lots_each}-{b:05d}"
        lots = [Lot(PAST, clock.ulid(), 5) for _ in range(lots_each)]
        item = {
            **keys.balance("bench", customer_id, "default"),
            **keys.due_index("bench", customer_id, "default", PAST),
            "customer_id": customer_id,
            "program_id": "default",
            "current": 5 * lots_each,
            "lifetime": 5 * lots_each,
            "version": 1,
            "lots": to_item(sorted(lots)),
        }
        requests.append({"PutRequest": {"Item": table.serialize(item)}})
    for start in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={stack.ref("GoodwillTable"): requests[start : start + 25]})


def _expire_all(meter: Meter) -> dict[str, Any]:
    meter.take()
    plan = expiry.plan()
    for item in plan["shards"]:
        cursor = None
        while True:
            result = expiry.run_shard(item["shard"], item["until"], cursor)
            cursor = result["cursor"]
            if result["done"]:
                break
    return meter.take().view(per=1)


def operations(stack: Stack, client: Client, meter: Meter) -> dict[str, dict[str, Any]]:
    client.call("PUT", "/config", {"points": {"notify_on_expiry": False}}, expect=200, who=ADMIN)
    found: dict[str, dict[str, Any]] = {}
    for lots in (1, 5, 20):
        found[f"debit consuming {lots} lot(s)"] = _debit_over_lots(client, meter, lots, f"lots{lots}")
    runs: list[tuple[int, int]] = [(1_000, 1), (100, 10)]
    for balances, each in runs:
        _seed_due(stack, balances, each)
        found[f"expiry run: 1,000 lots on {balances:,} balances"] = _expire_all(meter)
    return found
