"""Reversing one ledger entry (CONTRACT.md section 13): lot effects, approval, idempotency, conflicts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from goodwill import clock
from goodwill.approvals import fulfilment
from goodwill.lots import reversal
from goodwill.lots.model import MAX_LOTS
from goodwill.repositories import keys, table
from local.aws.stack import Stack
from tests.integration.test_expiry import run
from tests.support import AGENT, APPROVER, Api, Reply, claims


def days(n: float) -> str:
    return clock.iso(clock.now() + timedelta(days=n))


def reverse(
    api: Api, txn: str, customer_id: str = "c-1", key: str | None = None, as_: dict[str, str] = AGENT, **body: Any
) -> Reply:
    return api.post(
        f"/customers/{customer_id}/transactions/{txn}/reverse",
        {"reason": "CORRECTION", **body},
        as_=as_,
        headers={"Idempotency-Key": key} if key else None,
    )


def entry(api: Api, txn: str) -> dict[str, Any]:
    return next(e for e in api.ledger() if e["transaction_id"] == txn)


def credited(api: Api, points: int, **fields: Any) -> str:
    reply = api.grant(points=points, **fields)
    assert reply.status == 201, reply.body
    return str(reply.body["transaction"]["transaction_id"])


def test_reversing_a_credit_takes_back_its_lot_and_links_both_entries(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100, expires_at=days(30))
    credited(api, 40, expires_at=days(10))
    reply = reverse(api, txn, comment="granted twice")
    assert reply.status == 201, reply.body
    reversal = reply.body["transaction"]
    assert (reversal["type"], reversal["points"], reversal["reverses"]) == ("REVERSAL", -100, txn)
    assert reply.body["request"]["type"] == "REVERSAL" and reply.body["request"]["status"] == "FULFILLED"
    assert reply.body["balance"] == {"current": 40, "lifetime": 40}
    assert entry(api, txn)["reversed_by"] == reversal["transaction_id"]
    # the 30-day lot is gone; the other lot is untouched
    assert [e["points"] for e in api.expiring()] == [40]


def test_reversing_a_debit_gives_the_points_back_to_the_lots_it_took_them_from(api: Api) -> None:
    api.customer("c-1")
    credited(api, 50, expires_at=days(5))
    credited(api, 50, expires_at=days(20))
    credited(api, 10)  # open points
    debit = api.grant(points=-80)
    assert [(e["points"], e["expires_at"][:10]) for e in api.expiring()] == [(20, days(20)[:10])]
    reply = reverse(api, debit.body["transaction"]["transaction_id"])
    assert reply.status == 201, reply.body
    assert reply.body["transaction"]["points"] == 80
    # each lot as it was before the debit, each with its own expiry; the open points open again
    assert [(e["points"], e["expires_at"][:10]) for e in api.expiring()] == [(50, days(5)[:10]), (50, days(20)[:10])]
    assert api.balance() == {"current": 110, "lifetime": 110}


def test_a_credit_stays_reversible_after_the_debit_that_spent_it_is_reversed(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100, expires_at=days(30))
    debit = api.grant(points=-50)
    assert reverse(api, debit.body["transaction"]["transaction_id"]).status == 201
    reply = reverse(api, txn)
    assert reply.status == 201, reply.body
    assert api.balance() == {"current": 0, "lifetime": 0} and api.expiring() == []


def test_reversing_a_debit_gives_back_only_the_tier_points_it_took(api: Api) -> None:
    # Given 100 points that do not count for the tier, and a tier debit that found no tier points
    api.customer("c-1")
    credited(api, 100, affects_tier=False)
    credited(api, 20)
    debit = api.grant(points=-50)
    assert debit.body["balance"] == {"current": 70, "lifetime": 0}
    # When the debit is reversed, the tier gets back the 20 it lost, not 50
    reply = reverse(api, debit.body["transaction"]["transaction_id"])
    assert reply.status == 201, reply.body
    assert reply.body["balance"] == {"current": 120, "lifetime": 20}


def test_reversing_a_partly_spent_credit_is_refused_unless_negative_balances_are_allowed(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100, expires_at=days(30))
    assert api.grant(points=-30).status == 201
    refused = reverse(api, txn)
    assert (refused.status, refused.error_code) == (409, "INSUFFICIENT_BALANCE"), refused.body
    assert api.balance()["current"] == 70
    assert api.put("/config", {"points": {"allow_negative_balance": True}}).status == 200
    reply = reverse(api, txn)
    assert reply.status == 201, reply.body
    assert api.balance()["current"] == -30 and api.expiring() == []


def test_a_reversal_or_an_already_reversed_entry_cannot_be_reversed(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100)
    first = reverse(api, txn)
    assert first.status == 201
    again = reverse(api, txn)
    assert (again.status, again.error_code) == (409, "ALREADY_REVERSED")
    of_reversal = reverse(api, first.body["transaction"]["transaction_id"])
    assert (of_reversal.status, of_reversal.error_code) == (409, "NOT_REVERSIBLE")
    assert api.balance()["current"] == 0


def test_bad_input_is_refused_and_changes_nothing(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100)
    other = reverse(api, txn, as_=claims(org="globex", roles="agent"))
    assert (other.status, other.error_code) == (404, "NOT_FOUND")
    assert reverse(api, "01JUNKNOWNTRANSACTION00000").status == 404
    assert reverse(api, txn, customer_id="c-404").status == 404
    unknown_reason = reverse(api, txn, reason="NOT_A_REASON")
    assert unknown_reason.status == 422 and unknown_reason.fields() == {"reason"}
    bad_path = reverse(api, "bad id!")
    assert bad_path.status == 422
    assert api.post(f"/customers/c-1/transactions/{txn}/reverse", {"comment": "x"}, as_=AGENT).status == 422
    assert api.balance()["current"] == 100 and entry(api, txn)["reversed_by"] is None


def test_a_large_reversal_waits_for_an_approver_and_blocks_a_second_one(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 90)
    big = api.grant(points=500)
    assert api.put("/config", {"points": {"approval_threshold": 100}}).status == 200
    pending = reverse(api, big.body["transaction"]["transaction_id"])
    assert pending.status == 202, pending.body
    request = pending.body["request"]
    assert (request["type"], request["status"], request["points"]) == ("REVERSAL", "PENDING_APPROVAL", -500)
    blocked = reverse(api, big.body["transaction"]["transaction_id"])
    assert (blocked.status, blocked.error_code) == (409, "ALREADY_REVERSED")
    assert api.post(f"/goodwill/requests/{request['request_id']}/approve", {}, as_=APPROVER).status == 200
    assert fulfilment.fulfil("acme", request["request_id"]) == {"status": "FULFILLED"}
    assert api.balance()["current"] == 90
    assert entry(api, big.body["transaction"]["transaction_id"])["reversed_by"]
    assert reverse(api, txn).status == 201


def test_a_rejected_reversal_leaves_the_entry_reversible(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 50)
    assert api.put("/config", {"points": {"auto_approve": False}}).status == 200
    pending = reverse(api, txn)
    assert pending.status == 202
    rid = pending.body["request"]["request_id"]
    assert api.post(f"/goodwill/requests/{rid}/reject", {"comment": "no"}, as_=APPROVER).status == 200
    assert reverse(api, txn).status == 202


def test_an_idempotency_key_replays_the_first_reversal(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100)
    first = reverse(api, txn, key="undo-1")
    again = reverse(api, txn, key="undo-1")
    assert first.status == again.status == 201 and first.body == again.body
    other = reverse(api, txn, key="undo-1", comment="another body")
    assert (other.status, other.error_code) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert api.balance()["current"] == 0 and len(api.ledger()) == 2


def test_concurrent_reversals_of_one_entry_apply_once(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100)
    credited(api, 1000)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: reverse(api, txn), range(8)))
    assert sorted(r.status for r in replies) == [201] + [409] * 7, [r.body for r in replies]
    assert {r.error_code for r in replies if r.status == 409} == {"ALREADY_REVERSED"}
    assert api.balance()["current"] == 1000
    assert [e["type"] for e in api.ledger()].count("REVERSAL") == 1


def test_the_approval_workflow_fulfils_an_approved_reversal(api: Api) -> None:
    # Given a credit, and every points request needing an approver from now on
    api.customer("c-1")
    txn = credited(api, 80, expires_at=days(9))
    assert api.put("/config", {"points": {"auto_approve": False}}).status == 200
    pending = reverse(api, txn)
    assert pending.status == 202, pending.body
    rid = pending.body["request"]["request_id"]
    api.stack.settle()  # the stream starts the request workflow, which waits for a decision
    # When an approver approves it, and the workflow runs
    assert api.post(f"/goodwill/requests/{rid}/approve", {}, as_=APPROVER).status == 200
    api.stack.settle()
    # Then the real state machine fulfilled it: the entry is reversed, the lot gone
    done = api.get(f"/goodwill/requests/{rid}", as_=AGENT).body
    assert done["status"] == "FULFILLED", done["history"]
    assert entry(api, txn)["reversed_by"] == done["transaction_id"]
    assert api.balance()["current"] == 0 and api.expiring() == []


def test_the_customer_is_told_of_a_reversal_like_a_grant_unless_notify_is_false(api: Api, stack: Stack) -> None:
    from tests.integration.test_expiry import _sent_texts

    # Given two customers granted 100 points without being told
    api.customer("c-1")
    api.customer("c-2", phone="+15555550199")
    first = credited(api, 100, notify=False)
    second = credited(api, 100, notify=False, customer_id="c-2")
    stack.settle()
    assert _sent_texts(stack) == []

    # When an agent reverses the first (the default: tell the customer) and the second with notify false
    told = reverse(api, first, comment="granted by mistake")
    untold = reverse(api, second, customer_id="c-2", notify=False)
    stack.settle()

    # Then only the first customer got the safe default message (no comment, no reason code), by SMS
    # as the org's channel rules say, recorded on the reversal's request
    assert (told.status, untold.status) == (201, 201)
    assert _sent_texts(stack) == [
        "Hi Ada Lovelace, we have corrected an earlier change to your points. Your balance is now 0 points."
    ]
    request = api.get(f"/goodwill/requests/{told.body['request']['request_id']}").body
    assert [(n["channel"], n["status"]) for n in request["notifications"]] == [("SMS", "SENT")]
    assert api.get(f"/goodwill/requests/{untold.body['request']['request_id']}").body["notifications"] == []


def test_an_orgs_own_reversal_template_is_used(api: Api, stack: Stack) -> None:
    from tests.integration.test_expiry import _sent_texts

    api.put("/config", {"templates": {"POINTS_REVERSED": "Sorry {customer_name}: fixed. Balance {balance}."}})
    api.customer("c-1")
    credited(api, 30, notify=False)
    txn = credited(api, 100, notify=False)
    assert reverse(api, txn).status == 201
    stack.settle()
    assert _sent_texts(stack) == ["Sorry Ada Lovelace: fixed. Balance 30."]


def test_a_credit_whose_lot_was_merged_into_another_stays_reversible(api: Api) -> None:
    # Given a balance full of lots, one day apart, and a credit that makes one lot too many: it
    # merges into the lot of day 31 (the closest later one; the clock moved on since day 30's)
    api.customer("c-1")
    ids = {day: credited(api, 10, expires_at=days(day)) for day in range(10, 10 + MAX_LOTS)}
    late = credited(api, 7, expires_at=days(30.5))
    stored = table.get(keys.balance("acme", "c-1", "default"))
    assert stored is not None
    assert len(stored["lots"]) == MAX_LOTS and late not in {lot[0] for lot in stored["lots"]}
    # When that credit, whose lot now sits inside day 31's, is reversed
    reply = reverse(api, late)
    # Then its points leave the merged lot, and day 31's credit is still whole and reversible
    assert reply.status == 201, reply.body
    assert api.balance()["current"] == 10 * MAX_LOTS
    again = reverse(api, ids[31])
    assert again.status == 201, again.body
    assert api.balance()["current"] == 10 * MAX_LOTS - 10


def test_a_merged_credit_stays_reversible_after_the_debit_that_emptied_its_lot_is_reversed(api: Api) -> None:
    api.customer("c-1")
    for day in range(10, 10 + MAX_LOTS):
        credited(api, 10, expires_at=days(day), notify=False)
    late = credited(api, 7, expires_at=days(30.5), notify=False)  # merged into the day-31 lot
    stored = table.get(keys.balance("acme", "c-1", "default"))
    assert stored is not None and late not in {lot[0] for lot in stored["lots"]}
    debit = api.grant(points=-(10 * MAX_LOTS + 7), notify=False)  # every lot emptied
    assert debit.status == 201, debit.body
    assert reverse(api, debit.body["transaction"]["transaction_id"], notify=False).status == 201
    assert api.balance()["current"] == 10 * MAX_LOTS + 7
    # the merged lot came back answering for the credits merged into it
    reply = reverse(api, late, notify=False)
    assert reply.status == 201, reply.body
    assert reply.body["balance"]["current"] == 10 * MAX_LOTS


def test_a_credit_recorded_with_expires_at_before_lots_existed_is_reversed_from_the_open_points(api: Api) -> None:
    api.customer("c-1")
    txn = credited(api, 100, notify=False)
    key = keys.ledger("acme", "c-1", txn)
    stored = table.get(key)
    assert stored is not None and "own_lot" not in stored  # a credit without expiry has no lot
    # the entry as round 1 wrote it: expires_at recorded, no lot made
    table.put({**stored, "expires_at": days(30), "created_at": "2026-11-20T10:00:00.000Z"})
    assert api.expiring() == [] and api.balance()["current"] == 100
    reply = reverse(api, txn, notify=False)
    assert reply.status == 201, reply.body
    assert api.balance()["current"] == 0
    # a credit of today with an expiry is marked as having its lot
    lot = credited(api, 5, expires_at=days(30), notify=False)
    assert (table.get(keys.ledger("acme", "c-1", lot)) or {}).get("own_lot") is True


def test_a_debit_reversed_after_its_lot_expired_does_not_expire_that_lot_twice(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert api.put("/config", {"points": {"notify_on_expiry": False}}).status == 200
    api.customer("c-1")
    lot = credited(api, 100, expires_at=days(1), notify=False)
    debit = api.grant(points=-30, notify=False)
    assert debit.status == 201
    assert run(days(2))["expired"] == 1  # the lot's 70 unspent points
    monkeypatch.setattr(reversal, "now_iso", lambda: days(2))  # the reversal two days later
    assert reverse(api, debit.body["transaction"]["transaction_id"], notify=False).status == 201
    assert api.balance()["current"] == 30
    assert run(days(2))["expired"] == 1  # the 30 given back, past their lot's expiry
    expiries = [(e["points"], e["expired_lot"]) for e in api.ledger() if e["type"] == "EXPIRY"]
    assert sorted(expiries) == [(-70, lot), (-30, debit_reversal(api, debit))], expiries
    assert api.balance()["current"] == 0


def debit_reversal(api: Api, debit: Reply) -> str:
    return str(entry(api, debit.body["transaction"]["transaction_id"])["reversed_by"])
