"""Lots (CONTRACT.md section 12): every expiring credit is a lot; debits of every kind take from the
lots soonest-expiring first, then from the points without expiry; the customer view shows them."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from goodwill import clock
from goodwill.approvals import fulfilment
from goodwill.repositories import keys, table
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import HEADER, run_import
from tests.support import APPROVER, Api


def days(n: float) -> str:
    return clock.iso(clock.now() + timedelta(days=n))


def lots_of(api: Api, customer_id: str = "c-1") -> list[tuple[int, str]]:
    return [(e["points"], e["expires_at"][:10]) for e in api.expiring(customer_id)]


def test_debits_consume_lots_soonest_expiring_first_then_points_without_expiry(api: Api) -> None:
    # Given a lot expiring in 30 days, one in 10 days, and points without expiry
    api.customer("c-1")
    assert api.grant(points=100, expires_at=days(30)).status == 201
    assert api.grant(points=50, expires_at=days(10)).status == 201
    assert api.grant(points=70).status == 201
    assert lots_of(api) == [(50, days(10)[:10]), (100, days(30)[:10])]
    # When 80 points are taken: the 10-day lot goes, then 30 of the 30-day lot
    assert api.grant(points=-80).status == 201
    assert lots_of(api) == [(70, days(30)[:10])]
    # When 100 more are taken: the rest of the lot, then 30 of the open points
    reply = api.grant(points=-100)
    assert reply.status == 201, reply.body
    assert reply.body["balance"]["current"] == 40
    assert lots_of(api) == []
    # And the debit remembers the soonest expiry it took from (its reversal gives the points back so)
    entry = table.get(keys.ledger("acme", "c-1", reply.body["transaction"]["transaction_id"]))
    assert entry is not None and entry["spent_expires_at"][:10] == days(30)[:10]


def test_default_expiry_days_gives_credits_without_expiry_a_lot(api: Api) -> None:
    assert api.put("/config", {"points": {"default_expiry_days": 30}}).status == 200
    api.customer("c-1")
    reply = api.grant(points=100)
    assert reply.status == 201, reply.body
    assert reply.body["transaction"]["expires_at"][:10] == days(30)[:10]
    assert lots_of(api) == [(100, days(30)[:10])]
    # A debit is never a lot
    assert api.grant(points=-40).status == 201
    assert lots_of(api) == [(60, days(30)[:10])]


def test_a_balance_written_before_lots_existed_is_all_open_points(api: Api, stack: Stack) -> None:
    # Given a balance item as the previous version wrote it (no lots attribute)
    api.customer("c-1")
    table.put({**keys.balance("acme", "c-1", "default"), "current": 500, "lifetime": 500, "version": 3})
    # When a lot is credited and points are taken
    assert api.grant(points=100, expires_at=days(5)).status == 201
    assert api.grant(points=-150).status == 201
    # Then the lot went first, the old points after it
    assert api.balance() == {"current": 450, "lifetime": 450}
    assert lots_of(api) == []


def test_a_credit_on_a_negative_balance_makes_a_lot_of_what_is_left(api: Api) -> None:
    assert api.put("/config", {"points": {"allow_negative_balance": True}}).status == 200
    api.customer("c-1")
    assert api.grant(points=-30).status == 201
    assert api.grant(points=100, expires_at=days(5)).status == 201
    # 30 paid the debt back; only 70 can expire
    assert api.balance()["current"] == 70
    assert lots_of(api) == [(70, days(5)[:10])]


def test_an_approved_debit_consumes_lots_when_the_workflow_fulfils_it(api: Api) -> None:
    assert api.put("/config", {"points": {"approval_threshold": 100}}).status == 200
    api.customer("c-1")
    assert api.grant(points=90, expires_at=days(20)).status == 201
    assert api.grant(points=90, expires_at=days(3)).status == 201
    pending = api.grant(points=-150)
    assert pending.status == 202, pending.body
    request_id = pending.body["request"]["request_id"]
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    assert fulfilment.fulfil("acme", request_id) == {"status": "FULFILLED"}
    assert lots_of(api) == [(30, days(20)[:10])]


def test_bulk_rows_make_lots_and_take_from_them_soonest_first(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.customer("c-2")
    assert api.grant(points=100, expires_at=days(40)).status == 201
    assert api.grant(points=100, expires_at=days(40), customer_id="c-2").status == 201
    text = HEADER + (
        f"c-1,,50,,,{days(10)},\n"  # a lot
        "c-1,,-120,,,,\n"  # takes the 10-day lot, then 70 of the 40-day lot
        f"c-2,,60,,,{days(10)},\n"
    )
    _, view = run_import(api, stack, text)
    assert view["totals"] == {"rows": 3, "applied": 3, "failed": 0}, view
    assert lots_of(api) == [(30, days(40)[:10])]
    # SET takes what it removes from the lots too
    _, view = run_import(api, stack, HEADER + "c-2,,90,,,,\n", mode="SET")
    assert view["totals"]["applied"] == 1, view
    assert lots_of(api, "c-2") == [(90, days(40)[:10])]


def balance_item(customer_id: str = "c-1") -> dict[str, Any]:
    found = table.get(keys.balance("acme", customer_id, "default"))
    assert found is not None
    return found


def test_the_balance_is_in_the_due_index_only_while_it_has_lots(api: Api) -> None:
    api.customer("c-1")
    assert api.grant(points=100).status == 201
    assert "GSI4PK" not in balance_item()
    assert api.grant(points=50, expires_at=days(30)).status == 201
    item = balance_item()
    # due at the reminder, 7 days before the expiry (the default expiry_reminder_days)
    assert item["GSI4PK"].startswith("DUE#") and item["GSI4SK"].startswith(days(23)[:10])
    assert api.grant(points=-60).status == 201
    assert "GSI4PK" not in balance_item() and balance_item()["lots"] == []


def test_the_default_expiry_counts_from_the_credit_not_from_the_request_that_waited(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.points import changes

    # Credits expire a day after they are made; grants over 1000 points wait for an approver
    config = {"points": {"approval_threshold": 1000, "default_expiry_days": 1, "notify_on_expiry": False}}
    assert api.put("/config", config).status == 200
    api.customer("c-1")
    # A grant asked two days ago (its terms computed then) and one with an expires_at that passes
    with monkeypatch.context() as then:
        then.setattr(changes, "now_iso", lambda: days(-2))
        waited = api.grant("c-1", 1500).body["request"]["request_id"]
    assert api.get(f"/goodwill/requests/{waited}").body["expires_at"] < clock.now_iso()
    lapsing = api.grant("c-1", 1200, expires_at=days(1 / 86400 * 2)).body["request"]["request_id"]
    stack.settle()
    time.sleep(2.5)  # the second one's expires_at passes while it waits
    for request_id in (waited, lapsing):
        assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    # Then the first is credited with a day from now (before: a lot already past its expiry)
    credited = api.get(f"/goodwill/requests/{waited}").body
    assert credited["status"] == "FULFILLED", credited
    [entry] = [e for e in api.ledger() if e["type"] == "GOODWILL_CREDIT"]
    assert entry["expires_at"] > entry["created_at"] and credited["expires_at"] == entry["expires_at"]
    assert api.expiring() == [{"points": 1500, "expires_at": entry["expires_at"]}]
    # and the second ends FAILED on its expires_at, crediting nothing (not a lot dead on arrival)
    failed = api.get(f"/goodwill/requests/{lapsing}").body
    assert failed["status"] == "FAILED" and failed["history"][-1]["error"] == "VALIDATION_ERROR", failed
    assert "passed while the request waited" in failed["history"][-1]["reason"] and api.balance()["current"] == 1500
