"""The expiry run (CONTRACT.md section 12): lots past their time expire once, as EXPIRY entries;
reminders once per lot; the customer is told through the notification workflow."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from goodwill import clock
from goodwill.lots import expiry
from goodwill.repositories import keys, table
from local.aws.stack import Stack
from tests.support import Api, table_items


def days(n: float) -> str:
    return clock.iso(clock.now() + timedelta(days=n))


def run(until: str) -> dict[str, int]:
    """Every shard settled up to `until`, as the workflow does."""
    totals = {"expired": 0, "reminded": 0}
    for shard in range(keys.DUE_SHARDS):
        cursor = None
        while True:
            result = expiry.run_shard(shard, until, cursor)
            totals["expired"] += result["expired"]
            totals["reminded"] += result["reminded"]
            cursor = result["cursor"]
            if result["done"]:
                break
    return totals


def entries(api: Api, kind: str, customer_id: str = "c-1") -> list[dict[str, Any]]:
    return [e for e in api.ledger(customer_id) if e["type"] == kind]


def notices(stack: Stack, event: str) -> list[dict[str, Any]]:
    items = [table.deserialize(i) for i in table_items(stack)]
    return [i for i in items if i.get("type") == "NOTICE" and i.get("event") == event]


def test_a_lot_past_its_time_expires_its_remainder_once(api: Api) -> None:
    # Given 100 points expiring in 10 days (30 of them spent) and 50 without expiry
    assert api.put("/config", {"points": {"notify_on_expiry": False}}).status == 200
    api.customer("c-1")
    credit = api.grant(points=100, expires_at=days(10)).body["transaction"]["transaction_id"]
    assert api.grant(points=50).status == 201
    assert api.grant(points=-30).status == 201
    # When the run settles everything due 11 days from now
    assert run(days(11)) == {"expired": 1, "reminded": 0}
    # Then the 70 unspent points expired in one entry, lifetime untouched
    [gone] = entries(api, "EXPIRY")
    assert (gone["points"], gone["reason"], gone["expired_lot"], gone["current_after"]) == (-70, "EXPIRED", credit, 50)
    assert api.balance() == {"current": 50, "lifetime": 120}
    assert api.expiring() == []
    # And a second run (or a retried one) expires nothing more
    assert run(days(11)) == {"expired": 0, "reminded": 0}
    assert len(entries(api, "EXPIRY")) == 1


def test_nothing_expires_before_its_time(api: Api) -> None:
    api.customer("c-1")
    assert api.grant(points=100, expires_at=days(10)).status == 201
    assert run(days(9))["expired"] == 0
    assert api.balance()["current"] == 100 and entries(api, "EXPIRY") == []


def test_a_spent_lot_never_expires(api: Api) -> None:
    api.customer("c-1")
    assert api.grant(points=100, expires_at=days(10)).status == 201
    assert api.grant(points=-100).status == 201
    assert run(days(11))["expired"] == 0 and entries(api, "EXPIRY") == []


def test_a_reminder_is_sent_once_per_lot_before_it_expires(api: Api, stack: Stack) -> None:
    # Given a lot expiring in 10 days and reminders 7 days ahead (the default)
    api.customer("c-1")
    assert api.grant(points=100, expires_at=days(10), notify=False).status == 201
    assert run(days(2))["reminded"] == 0
    # When the run passes the reminder time, twice
    assert run(days(4))["reminded"] == 1
    assert run(days(5))["reminded"] == 0
    # Then one POINTS_EXPIRING went out through the notification workflow
    stack.settle()
    [notice] = notices(stack, "POINTS_EXPIRING")
    assert notice["notifications"][0]["status"] == "SENT"
    assert "100 of your points expire on" in _sent_texts(stack)[0]


def test_the_customer_is_told_when_points_expire_unless_the_org_says_not_to(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.customer("c-2")
    assert api.grant(points=40, expires_at=days(1), notify=False).status == 201
    assert run(days(2))["expired"] == 1
    assert api.put("/config", {"points": {"notify_on_expiry": False}}).status == 200
    assert api.grant(points=40, expires_at=days(1), notify=False, customer_id="c-2").status == 201
    assert run(days(2))["expired"] == 1
    stack.settle()
    [told] = notices(stack, "POINTS_EXPIRED")
    assert told["customer_id"] == "c-1"
    assert [t for t in _sent_texts(stack) if "40 of your points expired" in t]


def _sent_texts(stack: Stack) -> list[str]:
    from moto.sns.models import sns_backends

    return [m[1] for m in sns_backends["123456789012"]["us-east-1"].sms_messages.values()]


def test_debits_racing_the_expiry_never_spend_and_expire_the_same_points(api: Api) -> None:
    # Given 20 lots of 10 points, all due, and 100 points without expiry
    assert api.put("/config", {"points": {"notify_on_expiry": False}}).status == 200
    api.customer("c-1")
    for i in range(20):
        assert api.grant(points=10, expires_at=days(1 + i / 100), notify=False).status == 201
    assert api.grant(points=100, notify=False).status == 201

    # When 30 threads take 10 points each while the expiry runs for the same lots
    def debit(_: int) -> int:
        return api.grant(points=-10, notify=False).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        racing = [pool.submit(debit, i) for i in range(30)]
        expired = run(days(2))["expired"] + run(days(2))["expired"]
        statuses = [f.result() for f in racing]

    # Then every point was either spent or expired, never both, never lost
    assert set(statuses) <= {201, 409}
    spent = 10 * statuses.count(201)
    gone = -sum(e["points"] for e in entries(api, "EXPIRY"))
    assert spent + gone + api.balance()["current"] == 300
    assert api.balance()["current"] >= 0 and api.expiring() == []
    assert expired == len(entries(api, "EXPIRY")) == len({e["expired_lot"] for e in entries(api, "EXPIRY")})
    ledger = sorted(api.ledger(), key=lambda e: e["transaction_id"])
    running = 0
    for entry in ledger:
        running += entry["points"]
        assert entry["current_after"] == running, entry
