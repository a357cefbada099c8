"""The request workflow retries what is transient and never leaves a request behind (issue 12,
defects 2 and 3): the real ASL executed by moto, the real handlers as its tasks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from goodwill import aws, retry
from local.aws.stack import Stack
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
    # (settle may see the execution still while it waits, jittered, to retry: wait for its end)
    arn = stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{request_id}"
    assert stack.wait_for(arn)["status"] == "SUCCEEDED"
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


# ---------------------------------------------------------------- stranded requests (defect 2)
@pytest.fixture
def reconciler(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the scheduled reconciler as its schedule would (no grace: every request is old enough)."""
    from goodwill.approvals import reconcile

    monkeypatch.setattr(reconcile, "GRACE", timedelta(0))
    function = stack.functions.by_id["RequestReconcilerFunction"]

    def run() -> dict[str, int]:
        outcomes: dict[str, int] = function.invoke({"source": "goodwill.schedule"})["outcomes"]
        stack.settle()
        return outcomes

    return run


def _strand(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    """A waiting request whose workflow failed and could not even record it (its "Record failure"
    task failing too): the execution has ended FAILED, the request still says PENDING_APPROVAL."""
    from goodwill.approvals import fulfilment
    from goodwill.approvals.records import get

    request_id = _pending(api)
    stack.settle()
    arn = stack.ref("RequestStateMachine").replace(":stateMachine:", ":execution:") + f":req-{request_id}"
    with monkeypatch.context() as patched:
        patched.setattr(fulfilment, "mark_failed", _raise)
        token = (get("acme", request_id) or {})["task_token"]
        stack.client("stepfunctions").send_task_failure(taskToken=token, error="Broken")
        assert stack.wait_for(arn)["status"] == "FAILED"
    assert _request(api, request_id)["status"] == "PENDING_APPROVAL"
    return request_id


def _raise(*_: Any) -> bool:
    raise RuntimeError("the task cannot reach DynamoDB")


def test_a_request_whose_workflow_never_started_is_started_by_the_reconciler(
    api: Api, stack: Stack, reconciler: Any
) -> None:
    # Given a request whose every workflow start failed (the stream gave up on its record)
    with failing(aws.stepfunctions(), "StartExecution", {"Code": "ServiceUnavailable", "Message": "down"}) as calls:
        request_id = _pending(api)
        stack.settle()
    assert calls[0] >= 1
    assert not [e for e in stack.executions() if e["name"] == f"req-{request_id}"]
    # When the reconciler runs, Then the workflow runs and a decision fulfils the request
    assert reconciler() == {"started": 1}
    assert reconciler() == {"running": 1}
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    assert _request(api, request_id)["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 500


def test_a_wait_that_fails_ends_the_request_failed_with_the_reason(api: Api, stack: Stack) -> None:
    from goodwill.approvals.dispatch import approval_input
    from goodwill.approvals.records import get

    request_id = _pending(api)
    # The workflow's wait task fails (DynamoDB refuses its write): its Catch records the failure.
    payload = {**approval_input(get("acme", request_id) or {}), "pk": ""}
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("RequestStateMachine"), name=f"req-{request_id}", input=json.dumps(payload)
    )
    assert stack.wait_for(started["executionArn"])["status"] == "FAILED"
    request = _request(api, request_id)
    assert request["status"] == "FAILED"
    assert request["history"][-1]["event"] == "failed"
    assert "TaskFailed" in _history_types(stack, request_id)


def test_a_failed_workflow_ends_its_waiting_request_failed(
    api: Api, stack: Stack, reconciler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = _strand(api, stack, monkeypatch)
    assert reconciler() == {"failed": 1}
    request = _request(api, request_id)
    assert (request["status"], request["failure"]["code"]) == ("FAILED", "WORKFLOW_ENDED")
    assert "(FAILED)" in request["failure"]["message"]
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 409


def test_an_approval_whose_workflow_is_gone_is_fulfilled_by_the_reconciler(
    api: Api, stack: Stack, reconciler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    request_id = _strand(api, stack, monkeypatch)
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()  # the hand-over finds no waiting task: nobody will fulfil it but the reconciler
    assert _request(api, request_id)["status"] == "APPROVED"
    assert reconciler() == {"fulfilled": 1}
    assert _request(api, request_id)["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 500
    assert reconciler() == {}


def test_a_waiting_request_past_its_time_without_a_workflow_expires(
    api: Api, stack: Stack, reconciler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.approvals import reconcile

    request_id = _strand(api, stack, monkeypatch)
    monkeypatch.setattr(reconcile, "now", lambda: datetime.now(UTC) + timedelta(hours=73))
    assert reconciler() == {"expired": 1}
    assert _request(api, request_id)["status"] == "EXPIRED"


def test_a_request_never_started_found_after_its_time_expires_and_cannot_be_approved(
    api: Api, stack: Stack, reconciler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.approvals import reconcile

    # Given a request whose workflow never started (the stream gave up on its record)
    with failing(aws.stepfunctions(), "StartExecution", {"Code": "ServiceUnavailable", "Message": "down"}) as calls:
        request_id = _pending(api)
        stack.settle()
    assert calls[0] >= 1
    # When the reconciler finds it after its approval time (72 hours by default)
    monkeypatch.setattr(reconcile, "now", lambda: datetime.now(UTC) + timedelta(hours=73))
    # Then it expires (no fresh 72-hour wait), and an approval is refused
    assert reconciler() == {"expired": 1}
    assert _request(api, request_id)["status"] == "EXPIRED"
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 409
    assert api.balance("c-1")["current"] == 0
    assert not [e for e in stack.executions() if e["name"] == f"req-{request_id}"]


def test_a_late_start_waits_only_for_what_is_left_of_the_approval_time(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.approvals import dispatch
    from goodwill.approvals.records import get

    request_id = _pending(api)
    record = get("acme", request_id) or {}
    assert 72 * 3600 - 60 <= dispatch.approval_input(record)["timeout_seconds"] <= 72 * 3600
    monkeypatch.setattr(dispatch, "now", lambda: datetime.now(UTC) + timedelta(hours=70))
    assert 2 * 3600 - 60 <= dispatch.approval_input(record)["timeout_seconds"] <= 2 * 3600
    monkeypatch.setattr(dispatch, "now", lambda: datetime.now(UTC) + timedelta(hours=80))
    assert dispatch.approval_input(record)["timeout_seconds"] == 1  # Step Functions' least wait


def test_a_request_approved_after_the_reconciler_listed_it_is_fulfilled_not_failed(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.approvals import reconcile

    # Given a stranded waiting request, in the page of waiting requests a reconciler run read
    monkeypatch.setattr(reconcile, "GRACE", timedelta(0))
    request_id = _strand(api, stack, monkeypatch)
    at = datetime.now(UTC)
    listed = reconcile._older("acme", "PENDING_APPROVAL", reconcile.ulid(at_ms=int(at.timestamp() * 1000))[:10])
    assert [r["request_id"] for r in listed] == [request_id]
    # When an approver approves it meanwhile (the hand-over finds no waiting task)
    assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
    stack.settle()
    # Then the run, reaching the listed (stale) record, fulfils it: the approval is not lost
    assert reconcile.reconcile(listed[0], at) == "fulfilled"
    assert _request(api, request_id)["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 500


def test_the_reconciler_is_scheduled_at_least_hourly() -> None:
    from local.aws.template import resources

    events = resources("AWS::Serverless::Function")["RequestReconcilerFunction"]["Properties"]["Events"]
    (schedule,) = [e["Properties"]["ScheduleExpression"] for e in events.values() if e["Type"] == "ScheduleV2"]
    assert schedule == "rate(15 minutes)"
