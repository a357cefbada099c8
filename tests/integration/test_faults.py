"""Injected AWS faults: retried, or a clean 503/409 with nothing half-written; nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from goodwill import aws
from local.aws.stack import Stack
from tests.support import Api, table_items


class _Http:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012


@contextmanager
def failing(client: Any, operation: str, error: dict[str, Any], times: int = 10**6) -> Iterator[list[int]]:
    """Make `operation` on `client` answer `error` for its next `times` calls."""
    calls = [0]

    def hook(**_: Any) -> Any:
        if calls[0] >= times:
            return None
        calls[0] += 1
        return _Http(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}, **error.get("extra", {})}

    event = f"before-call.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, hook)
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, hook)


THROTTLED = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}


def test_throttled_grant_is_a_clean_503_and_writes_nothing(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    before = table_items(stack)
    with failing(aws.dynamodb(), "TransactWriteItems", THROTTLED) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == 1  # the fault fired (and a throttled transaction is not retried by us)
    assert reply.status == 503
    assert reply.error_code == "SERVICE_UNAVAILABLE"
    assert table_items(stack) == before


def test_transaction_conflict_is_retried_and_applied_once(api: Api) -> None:
    api.customer("c-1")
    conflict = {
        "Code": "TransactionCanceledException",
        "Message": "Transaction cancelled [TransactionConflict, None]",
        "extra": {"CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}]},
    }
    with failing(aws.dynamodb(), "TransactWriteItems", conflict, times=2) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == 2
    assert reply.status == 201
    assert [e["points"] for e in api.ledger("c-1")] == [10]


def test_throttled_read_is_a_clean_503(api: Api) -> None:
    api.customer("c-1")
    with failing(aws.dynamodb(), "BatchGetItem", THROTTLED) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == 1
    assert reply.status == 503
    assert api.ledger("c-1") == []


def test_grant_whose_workflow_start_fails_is_still_notified_afterwards(api: Api, stack: Stack) -> None:
    from moto.sns.models import sns_backends

    api.customer("c-1")
    # Step Functions refuses the first start: the stream record is reported failed and redelivered.
    down = {"Code": "ServiceUnavailable", "Message": "down"}
    with failing(aws.stepfunctions(), "StartExecution", down, times=1) as calls:
        assert api.grant("c-1", 10).status == 201
        stack.settle()
    assert calls[0] == 1
    stack.settle()
    sms = list(sns_backends["123456789012"]["us-east-1"].sms_messages.values())
    assert len(sms) == 1


def test_approval_whose_handover_fails_once_is_resumed_from_the_stream_at_once(api: Api, stack: Stack) -> None:
    from goodwill.approvals import dispatch
    from goodwill.approvals.records import get
    from tests.support import APPROVER

    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    request_id = api.grant("c-1", 50).body["request"]["request_id"]
    stack.settle()  # the dispatcher started req-<id>; it waits (72 hours) with its token on the request
    assert (get("acme", request_id) or {}).get("task_token")
    down = {"Code": "ServiceUnavailable", "Message": "down"}
    with failing(aws.stepfunctions(), "SendTaskSuccess", down, times=1) as calls:
        assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
        stack.settle()  # the decision's stream record fails once, is redelivered, hands the token over
    assert calls[0] == 1
    stack.settle()
    assert api.get(f"/goodwill/requests/{request_id}").body["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 50
    (execution,) = [e for e in stack.executions() if e["name"] == f"req-{request_id}"]
    assert execution["status"] == "SUCCEEDED"
    # A redelivered record finds the token used: nothing happens, nothing is raised.
    assert dispatch.hand_over(get("acme", request_id) or {}) is False
    assert api.balance("c-1")["current"] == 50


def test_approval_whose_handover_keeps_failing_is_fulfilled_when_the_wait_ends(api: Api, stack: Stack) -> None:
    import json

    from goodwill.approvals.dispatch import approval_input
    from goodwill.approvals.records import get
    from tests.support import APPROVER

    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    request_id = api.grant("c-1", 50).body["request"]["request_id"]
    # The workflow as the dispatcher starts it, with a 2-second wait instead of 72 hours.
    payload = {**approval_input(get("acme", request_id) or {}), "timeout_seconds": 2}
    started = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("RequestStateMachine"), name=f"req-{request_id}", input=json.dumps(payload)
    )
    stack.settle()
    down = {"Code": "ServiceUnavailable", "Message": "down"}
    with failing(aws.stepfunctions(), "SendTaskSuccess", down) as calls:
        assert api.post(f"/goodwill/requests/{request_id}/approve", {}, as_=APPROVER).status == 200
        stack.settle()  # the decision's stream record: every hand-over fails, the record is given up
    # The hand-over really failed, every time the stream delivered it, and the record was reported
    assert calls[0] == 3
    queue = stack.on_failure_queue("StreamDispatchFunction", "DynamoDB")
    assert stack.client("sqs").receive_message(QueueUrl=queue).get("Messages")
    # The decision stands on the request; when the wait times out the workflow reads it and fulfils.
    stack.wait_for(started["executionArn"])
    stack.settle()
    history = stack.client("stepfunctions").get_execution_history(executionArn=started["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "Expire request" in entered  # the wait ended by its timeout, not by a hand-over
    assert api.get(f"/goodwill/requests/{request_id}").body["status"] == "FULFILLED"
    assert api.balance("c-1")["current"] == 50
