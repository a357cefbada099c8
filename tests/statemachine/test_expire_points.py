"""The expiry run's state machine (statemachine/expire_points.asl.json) executed by moto: a backlog
fans out over the due-date index's shards, each looping over its pages; a second run does nothing."""

from __future__ import annotations

from typing import Any

import pytest

from goodwill import clock
from goodwill.lots import expiry
from goodwill.lots.model import Lot, to_item
from goodwill.repositories import imports_records, keys, table
from local.aws.stack import Stack
from tests.support import Api

BALANCES = 400
LOTS_EACH = 50  # 20,000 lots due


def _seed(stack: Stack, past: str) -> None:
    """Balances with their lots due, written with batch writes (what credits would have left)."""
    ddb = stack.client("dynamodb")
    items = []
    for b in range(BALANCES):
        customer_id = f"c-{b:04d}"
        lots = [Lot(past, clock.ulid(), 5 + i) for i in range(LOTS_EACH)]
        total = sum(lot.remaining for lot in lots)
        item = {
            **keys.balance("acme", customer_id, "default"),
            "customer_id": customer_id,
            "program_id": "default",
            "current": total + 7,
            "lifetime": total + 7,
            "version": 1,
            "lots": to_item(sorted(lots)),
            **keys.due_index("acme", customer_id, "default", past),
        }
        items.append({"PutRequest": {"Item": table.serialize(item)}})
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={stack.ref("GoodwillTable"): items[start : start + 25]})


def _run(stack: Stack, name: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = stack.ref("ExpirePointsStateMachine")
    started = sfn.start_execution(stateMachineArn=arn, name=name, input="{}")
    return stack.wait_for(started["executionArn"], timeout=600)


def _balances(stack: Stack) -> dict[str, dict[str, Any]]:
    found = imports_records.batch_get(
        (keys.balance("acme", f"c-{b:04d}", "default") for b in range(BALANCES)), ("current", "version", "lots")
    )
    return {pk: item for (pk, _), item in found.items()}


def _expiries(stack: Stack, customer_id: str) -> list[dict[str, Any]]:
    resp = stack.client("dynamodb").query(
        TableName=stack.ref("GoodwillTable"),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :t)",
        ExpressionAttributeValues={":pk": {"S": keys.customer_pk("acme", customer_id)}, ":t": {"S": "TXN#"}},
    )
    return [e for e in map(table.deserialize, resp["Items"]) if e["type"] == "EXPIRY"]


def test_twenty_thousand_due_lots_expire_through_the_fan_out_once(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 20,000 lots due on 400 balances, and tasks that hand back a cursor every 2 pages
    assert api.put("/config", {"points": {"notify_on_expiry": False}}).status == 200
    _seed(stack, clock.iso(clock.parse_iso("2026-01-01T00:00:00Z")))
    monkeypatch.setattr(expiry, "PAGES_PER_TASK", 2)
    # When the state machine runs
    first = _run(stack, "run-1")
    # Then it succeeded, every lot expired in its own entry, every balance kept what had no expiry
    if first["status"] != "SUCCEEDED":
        events = stack.client("stepfunctions").get_execution_history(executionArn=first["executionArn"])["events"]
        raise AssertionError([e for e in events if "Failed" in e["type"]])
    after = _balances(stack)
    assert len(after) == BALANCES
    assert all(b["current"] == 7 and b["lots"] == [] and b["version"] == 2 for b in after.values())
    for customer_id in ("c-0000", "c-0217", "c-0399"):
        gone = _expiries(stack, customer_id)
        assert len(gone) == LOTS_EACH and len({e["expired_lot"] for e in gone}) == LOTS_EACH
        assert sorted(-e["points"] for e in gone) == [5 + i for i in range(LOTS_EACH)]
    # And a second run finds nothing due and writes nothing
    second = _run(stack, "run-2")
    assert second["status"] == "SUCCEEDED", second
    assert _balances(stack) == after
    assert len(_expiries(stack, "c-0217")) == LOTS_EACH
