"""DynamoDB requests and capacity units per business operation, counted while it really runs.

Every DynamoDB client is metered: the handlers' (goodwill.aws) and the ones moto's Step Functions
interpreter creates for its own service integrations (boto3's default session), so an approval
counts the task token the workflow stores as well as the decision API and the fulfilment.
Steady state: the org's configuration is already cached (a warm Lambda reads it once per 30 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3

from bench import lots_cost
from bench.harness import ADMIN, AGENT, APPROVER, Client, moto_stack
from bench.meter import Meter, Usage
from bench.scenario import CONFIG, grant_body, seed
from local.aws.stack import Stack

REPEAT = 5
# WCU goals are judged on the table's own units; GSI replication is shown beside them.
GOALS = {"grant, auto-approved, Idempotency-Key": {"requests": 4, "wcu": 10}}


def _per_call(meter: Meter, action: Callable[[int], Any], repeat: int = REPEAT) -> dict[str, Any]:
    meter.take()
    for i in range(repeat):
        action(i)
    return meter.take().view(per=repeat)


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the local workflow did not get there in time")
        time.sleep(0.02)


def _approval(stack: Stack, client: Client, meter: Meter) -> dict[str, dict[str, Any]]:
    """One approval end to end, in its three parts: queue, decide, fulfil (the workflow's)."""
    ddb = stack.client("dynamodb")
    table = stack.ref("GoodwillTable")
    parts = {"queue": Usage(), "token": Usage(), "decision": Usage(), "fulfilment": Usage()}
    for i in range(REPEAT):
        meter.take()
        body = {**grant_body(f"c-{i}", 5000), "notify": False}
        request_id = client.call("POST", "/goodwill/points", body, expect=202, who=AGENT)["request"]["request_id"]
        parts["queue"].add(meter.take())
        key = {"PK": {"S": f"ORG#bench#REQ#{request_id}"}, "SK": {"S": "REQ"}}

        def item(key: dict[str, Any] = key) -> dict[str, Any]:
            found: dict[str, Any] = ddb.get_item(TableName=table, Key=key).get("Item", {})
            return found

        while stack.pump_streams():  # the stream starts the workflow, which stores its task token
            pass
        _wait(lambda: "task_token" in item())
        _wait(lambda: meter.usage.wcu_table > 0)  # the workflow's thread prices its write just after
        parts["token"].add(meter.take())
        client.call("POST", f"/goodwill/requests/{request_id}/approve", {}, expect=200, who=APPROVER)
        parts["decision"].add(meter.take())
        # The decision's stream record hands it to the waiting workflow, which fulfils it.
        _wait(lambda: stack.pump_streams() >= 0 and item().get("status", {}).get("S") != "APPROVED")
        stack.settle()
        parts["fulfilment"].add(meter.take())
    return {name: usage.view(per=REPEAT) for name, usage in parts.items()}


def _sum(*views: dict[str, Any]) -> dict[str, Any]:
    total: dict[str, Any] = {k: round(sum(v[k] for v in views), 2) for k in ("requests", "rcu", "wcu_table", "wcu_gsi")}
    total["wcu_total"] = round(total["wcu_table"] + total["wcu_gsi"], 2)
    by_op: dict[str, float] = {}
    for view in views:
        for op, n in view["by_operation"].items():
            by_op[op] = round(by_op.get(op, 0) + n, 2)
    total["by_operation"] = by_op
    return total


def _limit_and_report(
    stack: Stack, client: Client, meter: Meter, grant: Callable[[int], None]
) -> dict[str, dict[str, Any]]:
    """What section 15 adds to a grant: the agent's limit counter (in the grant's own request and
    transaction), and the report's aggregates (the stream consumer's transaction, per grant)."""
    points: dict[str, Any] = {**CONFIG["points"]}  # type: ignore[dict-item]
    limited = {**CONFIG, "points": {**points, "agent_daily_limit": 1_000_000_000}}
    client.call("PUT", "/config", limited, expect=200, who=ADMIN)
    grant(0)  # the agent's counter of the day exists: the steady state
    stack.settle()
    meter.take()
    found = {"grant, auto-approved, agent daily limit on": _per_call(meter, grant)}
    stack.settle()  # the grants' stream records: events published and report aggregates counted
    # 5 grants in one stream batch: one aggregates transaction for all (a lone grant: 5 items,
    # 10 write units), and the webhook fan-out's query of the org's webhooks per event.
    found["stream consumers per grant (5 in a batch): report aggregates + webhook fan-out"] = meter.take().view(
        per=REPEAT
    )
    client.call("PUT", "/config", CONFIG, expect=200, who=ADMIN)
    stack.settle()
    meter.take()
    return found


def operations(stack: Stack, client: Client, meter: Meter) -> dict[str, dict[str, Any]]:
    def grant(i: int, key: str | None = None, points: int = 100) -> None:
        headers = {"Idempotency-Key": key} if key else None
        body = {**grant_body(f"c-{i}", points), "notify": False}
        client.call("POST", "/goodwill/points", body, who=AGENT, headers=headers)

    def coupon(i: int) -> None:
        body = {"customer_id": f"c-{i}", "series_id": "gen", "reason": "SERVICE_RECOVERY", "notify": False}
        client.call("POST", "/goodwill/coupons", body, expect=201, who=AGENT)

    for i in range(REPEAT):  # every customer has a balance already: the steady state
        grant(i)
    found = {
        "grant, auto-approved": _per_call(meter, grant),
        "grant, auto-approved, Idempotency-Key": _per_call(meter, lambda i: grant(i, f"cost-{i}")),
        "grant, replayed Idempotency-Key": _per_call(meter, lambda i: grant(i, f"cost-{i}")),
        "coupon, auto-approved": _per_call(meter, coupon),
    }
    stack.settle()  # deliver what came before and let it finish, unmetered
    found.update(_limit_and_report(stack, client, meter, grant))
    meter.take()
    parts = _approval(stack, client, meter)
    found["approval: request queued"] = parts["queue"]
    found["approval: token stored by the workflow"] = parts["token"]
    found["approval: decision API"] = parts["decision"]
    found["approval: fulfilment"] = parts["fulfilment"]
    found["approval: decision API + fulfilment"] = _sum(parts["decision"], parts["fulfilment"])
    return found


def run(quick: bool = False) -> dict[str, Any]:
    from goodwill import aws

    with moto_stack() as stack:
        meter = Meter()
        meter.attach(aws.dynamodb().meta.events)
        boto3.setup_default_session()  # Step Functions' integrations make their clients from it
        meter.attach(boto3.DEFAULT_SESSION.events)  # type: ignore[union-attr]
        client = Client(stack)
        seed(client)
        found = operations(stack, client, meter)
        found.update(lots_cost.operations(stack, client, meter))
    return {"benchmark": "cost", "repeat": REPEAT, "operations": found, "goals": GOALS}
