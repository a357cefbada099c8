"""The real request workflow ASL, executed by moto, with the real handlers as its tasks."""

from __future__ import annotations

import json
from typing import Any

from local.aws.stack import Stack
from tests.support import ADMIN, AGENT, APPROVER, APPROVER2, Api, approvals_topic_messages


def _pending(api: Api, points: int = 500, customer_id: str = "c-1") -> str:
    reply = api.grant(customer_id, points)
    assert reply.status == 202, reply.body
    return str(reply.body["request"]["request_id"])


def _request(api: Api, request_id: str) -> dict[str, Any]:
    reply = api.get(f"/goodwill/requests/{request_id}", as_=AGENT)
    assert reply.status == 200, reply.body
    return reply.body  # type: ignore[no-any-return]


def _setup(api: Api, balance: int = 0) -> None:
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    if balance:
        assert api.grant("c-1", balance).status == 201 or balance > 100


def _execution(stack: Stack, request_id: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{request_id}"
    return sfn.describe_execution(executionArn=arn)  # type: ignore[no-any-return]


def _states_entered(stack: Stack, request_id: str) -> list[str]:
    sfn = stack.client("stepfunctions")
    arn = _execution(stack, request_id)["executionArn"]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_approved_points_request_is_fulfilled_by_the_workflow(api: Api, stack: Stack) -> None:
    _setup(api)
    request_id = _pending(api, 500)
    stack.settle()
    assert any(request_id in m and "/requests/" in m for m in approvals_topic_messages(stack))

    reply = api.post(f"/goodwill/requests/{request_id}/approve", {"comment": "ok"}, as_=APPROVER)
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "APPROVED"
    stack.settle()

    request = _request(api, request_id)
    assert request["status"] == "FULFILLED"
    assert request["decided_by"] == APPROVER["sub"]
    assert [h["event"] for h in request["history"] if h["event"] != "notification"] == [
        "created",
        "approved",
        "fulfilled",
    ]
    assert api.balance("c-1") == {"current": 500, "lifetime": 500}
    assert [(e["points"], e["request_id"]) for e in api.ledger("c-1")] == [(500, request_id)]
    assert request["transaction_id"] == api.ledger("c-1")[0]["transaction_id"]
    assert _execution(stack, request_id)["status"] == "SUCCEEDED"
    assert "Fulfil request" in _states_entered(stack, request_id)


def test_approval_before_the_token_is_stored_is_still_fulfilled(api: Api, stack: Stack) -> None:
    _setup(api)
    request_id = _pending(api, 300)
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    assert _request(api, request_id)["status"] == "FULFILLED"
    assert "Read decision" in _states_entered(stack, request_id)
    assert api.balance("c-1")["current"] == 300


def test_rejected_request_changes_nothing(api: Api, stack: Stack) -> None:
    _setup(api)
    request_id = _pending(api, 500)
    stack.settle()
    assert api.post(f"/goodwill/requests/{request_id}/reject", {}, as_=APPROVER).status == 422
    reply = api.post(f"/goodwill/requests/{request_id}/reject", {"comment": "not justified"}, as_=APPROVER)
    assert reply.status == 200
    stack.settle()
    request = _request(api, request_id)
    assert request["status"] == "REJECTED"
    assert request["decision_comment"] == "not justified"
    assert api.ledger("c-1") == []
    assert _execution(stack, request_id)["status"] == "SUCCEEDED"
    assert "Fulfil request" not in _states_entered(stack, request_id)


def test_request_not_decided_in_time_expires(api: Api, stack: Stack) -> None:
    from goodwill.approvals.dispatch import approval_input
    from goodwill.approvals.records import get

    _setup(api)
    request_id = _pending(api, 500)
    # Start the workflow as the dispatcher would, with a one-second timeout instead of 72 hours.
    payload = {**approval_input(get("acme", request_id) or {}), "timeout_seconds": 1}
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("RequestStateMachine"), name=f"req-{request_id}", input=json.dumps(payload)
    )
    stack.wait_for(started["executionArn"])
    stack.settle()
    request = _request(api, request_id)
    assert request["status"] == "EXPIRED"
    assert request["history"][-1]["event"] == "expired"
    assert "Expire request" in _states_entered(stack, request_id)
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 409


def test_approval_that_would_overdraw_ends_failed_with_the_reason(api: Api, stack: Stack) -> None:
    _setup(api)
    for _ in range(3):
        api.grant("c-1", 100)
    request_id = _pending(api, -250)
    stack.settle()
    api.grant("c-1", -100)
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    request = _request(api, request_id)
    assert request["status"] == "FAILED"
    assert request["history"][-1]["event"] == "failed"
    assert request["history"][-1]["error"] == "INSUFFICIENT_BALANCE"
    assert api.balance("c-1")["current"] == 200


def test_approver_may_change_the_points(api: Api, stack: Stack) -> None:
    _setup(api)
    request_id = _pending(api, 500)
    stack.settle()
    assert api.post(f"/goodwill/requests/{request_id}/approve", {"points": -5}, as_=APPROVER).status == 422
    reply = api.post(f"/goodwill/requests/{request_id}/approve", {"points": 300}, as_=APPROVER)
    assert reply.status == 200
    stack.settle()
    request = _request(api, request_id)
    assert (request["points"], request["approved_points"], request["status"]) == (500, 300, "FULFILLED")
    assert api.balance("c-1")["current"] == 300


def test_requester_cannot_decide_their_own_request(api: Api, stack: Stack) -> None:
    _setup(api)
    request_id = _pending(api, 500)
    reply = api.post(f"/goodwill/requests/{request_id}/approve", {}, as_={**ADMIN, "sub": AGENT["sub"]})
    assert reply.status == 403
    assert reply.error_code == "SELF_APPROVAL_FORBIDDEN"


def test_agent_cannot_decide(api: Api) -> None:
    _setup(api)
    request_id = _pending(api, 500)
    other_agent = {**AGENT, "sub": "zoe"}
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=other_agent).status == 403


def test_two_approvers_racing_one_wins_and_the_ledger_has_one_entry(api: Api, stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    _setup(api)
    request_id = _pending(api, 500)
    stack.settle()
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(
            pool.map(
                lambda who: api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=who), [APPROVER, APPROVER2]
            )
        )
    assert sorted(r.status for r in replies) == [200, 409]
    assert [r.error_code for r in replies if r.status == 409] == ["NOT_PENDING"]
    stack.settle()
    assert len(api.ledger("c-1")) == 1
    assert api.balance("c-1")["current"] == 500


def test_unknown_request_is_404_and_lists_filter_by_status_and_customer(api: Api, stack: Stack) -> None:
    _setup(api)
    api.customer("c-2")
    first = _pending(api, 500)
    second = _pending(api, 600, customer_id="c-2")
    api.grant("c-1", 5)
    assert api.get("/goodwill/requests/01NOPE", as_=AGENT).status == 404
    pending = api.get("/goodwill/requests", as_=AGENT, query={"status": "PENDING_APPROVAL"}).body["items"]
    assert [r["request_id"] for r in pending] == [second, first]
    mine = api.get("/goodwill/requests", as_=AGENT, query={"customer_id": "c-2"}).body["items"]
    assert [r["request_id"] for r in mine] == [second]
    everything = api.get("/goodwill/requests", as_=AGENT, query={"limit": 2}).body
    assert len(everything["items"]) == 2 and everything["next_token"]
    assert api.get("/goodwill/requests", as_=AGENT, query={"status": "BOGUS"}).status == 422
