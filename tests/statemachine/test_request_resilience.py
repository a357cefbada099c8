"""The request workflow retries what is transient and never leaves a request behind (issue 12,
defects 2 and 3): the real ASL executed by moto, the real handlers as its tasks."""

from __future__ import annotations

from typing import Any

import pytest

from goodwill import aws, retry
from local.stack import Stack
from tests.integration.test_faults import failing
from tests.support import AGENT, APPROVER, Api

CONFLICT = {
    "Code": "TransactionCanceledException",
    "Message": "Transaction cancelled [TransactionConflict, None, None]",
    "extra": {"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]},
}


def _pending(api: Api, points: int = 500) -> str:
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    reply = api.grant("c-1", points)
    assert reply.status == 202, reply.body
    return str(reply.body["request"]["request_id"])


def _request(api: Api, request_id: str) -> dict[str, Any]:
    reply = api.get(f"/goodwill/requests/{request_id}", as_=AGENT)
    assert reply.status == 200, reply.body
    return reply.body  # type: ignore[no-any-return]


def _history_types(stack: Stack, request_id: str) -> list[str]:
    sfn = stack.client("stepfunctions")
    arn = stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{request_id}"
    return [e["type"] for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]]


def test_a_transient_failure_of_fulfilment_is_retried_by_the_workflow(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an approved request whose first fulfilment loses every race it runs (a 503 inside)
    monkeypatch.setattr(retry, "CONTENTION", retry.Policy(attempts=2, base=0.001, cap=0.001))
    request_id = _pending(api)
    stack.settle()
    with failing(aws.dynamodb(), "TransactWriteItems", CONFLICT, times=2) as calls:
        assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
        stack.settle()
    # Then the workflow tried again (the fault fired, the task failed once) and the grant stands
    assert calls[0] == 2
    assert _history_types(stack, request_id).count("TaskFailed") == 1
    request = _request(api, request_id)
    assert request["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 500


def test_a_business_failure_is_not_retried_and_ends_failed(api: Api, stack: Stack) -> None:
    _pending(api, 200)
    assert api.grant("c-1", 100).status == api.grant("c-1", 100).status == 201
    request_id = api.grant("c-1", -150).body["request"]["request_id"]
    stack.settle()
    assert api.grant("c-1", -100).status == 201
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    request = _request(api, request_id)
    assert (request["status"], request["history"][-1]["error"]) == ("FAILED", "INSUFFICIENT_BALANCE")
    assert "TaskFailed" not in _history_types(stack, request_id)
