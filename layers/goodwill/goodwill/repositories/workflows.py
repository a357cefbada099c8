"""Step Functions access: start an execution under a name that makes a repeat harmless, read an
execution's status, resume a task waiting for its token. The workflows' rules live with their
domains (approvals, bulk, reverts); this module only talks to the service."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from goodwill import aws


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def start(state_machine_arn: str, name: str, payload: dict[str, Any]) -> bool:
    """Start `name`; False when an execution of that name exists already (the start is a repeat)."""
    try:
        aws.stepfunctions().start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    except ClientError as exc:
        if _code(exc) != "ExecutionAlreadyExists":
            raise
        return False
    return True


def status(state_machine_arn: str, name: str) -> str | None:
    """The status of execution `name` of the state machine; None when it was never started."""
    arn = state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name
    try:
        return str(aws.stepfunctions().describe_execution(executionArn=arn)["status"])
    except ClientError as exc:
        if _code(exc) == "ExecutionDoesNotExist":
            return None
        raise


def resume(task_token: str, output: dict[str, Any], done: frozenset[str]) -> str | None:
    """Hand `output` to the task waiting for `task_token`; the error code when it is in `done`
    (the wait ended or the token was used), any other error raised."""
    try:
        aws.stepfunctions().send_task_success(taskToken=task_token, output=json.dumps(output))
    except ClientError as exc:
        if _code(exc) not in done:
            raise
        return _code(exc)
    return None
