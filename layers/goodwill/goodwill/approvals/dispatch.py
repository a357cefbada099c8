"""React to request changes on the table's stream: start the workflows they need, and hand an
approver's decision to the workflow waiting for it.

Starting executions from the stream (not from the API) means a request committed to DynamoDB
always gets its workflow, even if the API call that wrote it died right after the commit.
Execution names derive from the request id, so a redelivered record never starts a second one.
The same holds for decisions: the decision API only writes the request; the stream record of that
write sends the task token back, retried by the event source until Step Functions takes it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from goodwill.clock import now, parse_iso
from goodwill.links import console_link
from goodwill.models.vocabulary import RequestStatus
from goodwill.observability import logger
from goodwill.repositories import keys, workflows
from goodwill.services.config import get_config
from goodwill.settings import get_settings


def request_transition(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str | None:
    """Which workflow a change of a request item calls for, if any."""
    if not new or new.get("SK") != "REQ":
        return None
    before = (old or {}).get("status")
    after = new.get("status")
    if after == RequestStatus.PENDING_APPROVAL.value and before != after:
        return "approval"
    if after == RequestStatus.FULFILLED.value and before != after and new.get("notify", True):
        return "notify"
    decided = (RequestStatus.APPROVED.value, RequestStatus.REJECTED.value)
    if before == RequestStatus.PENDING_APPROVAL.value and after in decided and new.get("task_token"):
        return "decision"
    return None


# The token was used already (a redelivered record) or its wait ended (timed out, execution
# stopped): the workflow has what it needs, or reads the decision from the request itself.
_TOKEN_DONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def hand_over(record: dict[str, Any]) -> bool:
    """Resume the workflow waiting for this request's decision. Any other error is raised, so the
    stream record is retried (and, after the event source's retries, lands in its failure queue;
    the workflow then still reads the decision when its wait times out)."""
    code = workflows.resume(record["task_token"], {"status": record["status"]}, _TOKEN_DONE)
    if code:
        logger.info("decision already handed over", extra={"request_id": record.get("request_id"), "aws_error": code})
        return False
    return True


def approval_deadline(record: dict[str, Any]) -> datetime:
    """When a waiting request expires: `approval_timeout_hours` after it was asked (contract §6),
    however late its workflow starts."""
    hours = get_config(record["org_id"]).approval_timeout_hours
    asked = parse_iso(record["created_at"]) if record.get("created_at") else now()
    return asked + timedelta(hours=hours)


def approval_input(record: dict[str, Any]) -> dict[str, Any]:
    org, request_id = record["org_id"], record["request_id"]
    # A start made late (the dispatcher's retries, the reconciler) waits only for what is left.
    left = math.ceil((approval_deadline(record) - now()).total_seconds())
    what = (
        f"{record['points']} points"
        if record.get("type") in ("POINTS", "REVERSAL")
        else f"a coupon of series {record.get('series_id')}"
    )
    link = console_link("requests", request_id)
    summary = (
        f"Goodwill request {request_id} by {record.get('requested_by')} awaits approval: {what} for "
        f"customer {record.get('customer_id')} ({record.get('reason')}). {link}"
    )
    return {
        "org_id": org,
        "request_id": request_id,
        "pk": keys.request(org, request_id)["PK"],
        "timeout_seconds": max(1, left),
        "summary": summary,
        "link": link,
    }


def start(kind: str, record: dict[str, Any]) -> bool:
    settings = get_settings()
    if kind == "approval":
        arn, name, payload = settings.request_state_machine_arn, f"req-{record['request_id']}", approval_input(record)
    else:
        arn, name = settings.notify_state_machine_arn, f"notify-{record['request_id']}"
        payload = {"org_id": record["org_id"], "request_id": record["request_id"]}
    if not arn:
        logger.warning("no state machine configured", extra={"kind": kind})
        return False
    if not workflows.start(arn, name, payload):
        logger.info("execution already started", extra={"execution": name})
        return False
    return True
