"""Sending one attempt of a notification, inside the notification function.

Step Functions keeps every state's input and every task's parameters in execution history (90
days, readable by anyone with states:GetExecutionHistory); a native SNS or SES task would put the
phone number, address or endpoint and the message body there. So the workflow hands this module
an attempt's index only: the contact and the message are resolved here, sent, and recorded on the
request; the workflow gets back the status and whether the channel was mandatory.

A transient SNS / SES error (throttling, an outage) raises ChannelUnavailableError: the workflow
retries the task with back-off, and when the retries are spent records the attempt FAILED (`fail`).
Any other refusal (a malformed number, an unverified sender) is recorded FAILED at once.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from goodwill.models.common import push_endpoint_allowed
from goodwill.notify import plan
from goodwill.repositories import messages

TRANSIENT = frozenset(
    {
        "InternalError",
        "InternalErrorException",
        "InternalFailure",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
    }
)


class ChannelUnavailableError(Exception):
    """The channel's service failed transiently; the workflow retries (its Retry names this class)."""


def send(org_id: str, request_id: str, index: int) -> dict[str, Any]:
    attempts = plan.planned(org_id, request_id)
    if index >= len(attempts):  # the plan changed since it was counted: nothing left to send
        return {"status": "SKIPPED", "mandatory": True}
    attempt = attempts[index]
    outcome = {"channel": attempt["channel"], "to": attempt["to"] or None}
    if attempt["skip"]:
        _record(org_id, request_id, {**outcome, "status": "SKIPPED", "error": attempt["skip"]})
        return {"status": "SKIPPED", "mandatory": attempt["mandatory"]}
    if attempt["channel"] == "PUSH" and not push_endpoint_allowed(attempt["to"]):  # stored before the check
        refused = "the endpoint is not of a platform application configured for this stack"
        _record(org_id, request_id, {**outcome, "status": "FAILED", "error": refused})
        return {"status": "FAILED", "mandatory": attempt["mandatory"]}
    try:
        message_id = _deliver(attempt)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Error"))
        if code in TRANSIENT:
            raise ChannelUnavailableError(f"{attempt['channel']}: {code}") from exc
        _record(org_id, request_id, {**outcome, "status": "FAILED", "error": f"{code}: {error.get('Message', '')}"})
        return {"status": "FAILED", "mandatory": attempt["mandatory"]}
    _record(org_id, request_id, {**outcome, "status": "SENT", "message_id": message_id})
    return {"status": "SENT", "mandatory": attempt["mandatory"]}


def fail(org_id: str, request_id: str, index: int, error: dict[str, Any]) -> dict[str, Any]:
    """The workflow's retries of attempt `index` are spent (or the task failed otherwise): record it."""
    attempts = plan.planned(org_id, request_id)
    channel = attempts[index]["channel"] if index < len(attempts) else "UNKNOWN"
    to = attempts[index]["to"] or None if index < len(attempts) else None
    text = ": ".join(str(error.get(k)) for k in ("Error", "Cause") if error.get(k))[:1000] or "failed"
    _record(org_id, request_id, {"channel": channel, "to": to, "status": "FAILED", "error": text})
    return {"status": "FAILED", "mandatory": True}


def _deliver(attempt: dict[str, Any]) -> str:
    channel, to, body = attempt["channel"], attempt["to"], attempt["body"]
    if channel == "SMS":
        return messages.send_sms(to, body)
    if channel == "PUSH":
        return messages.send_push(to, body)
    return messages.send_email(to, attempt["subject"], body, one_try=True)


def _record(org_id: str, request_id: str, attempt: dict[str, Any]) -> None:
    plan.record_attempts(org_id, request_id, [{k: v for k, v in attempt.items() if v is not None}])
