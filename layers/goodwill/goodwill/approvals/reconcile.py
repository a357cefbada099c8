"""Requests their workflow left behind: found on a schedule, then restarted or ended.

A request waits (`PENDING_APPROVAL`) or is being fulfilled (`APPROVED`) only while its workflow
execution `req-{request_id}` runs. It can be left without one: the stream dispatcher gave up
starting it (Step Functions down for hours), the execution failed and could not even record the
failure, someone stopped it, or an approval's hand-over met a finished execution
(`TaskDoesNotExist`). The reconciler (an EventBridge Scheduler schedule, RequestReconcilerFunction)
walks the org listing and each org's `PENDING_APPROVAL` and `APPROVED` requests on the by-status
index (GSI2; never a Scan) older than GRACE, and for each one without a running execution:

- waiting, its approval time over (counted from when it was asked): EXPIRED, as the workflow
  would have, whether or not an execution was ever started;
- never started: starts it (the very start the dispatcher makes), waiting only for what is left;
- waiting, its execution ended early: FAILED, with the execution's status as the reason (never
  an approved one: the request is read again first, and only a waiting one is failed);
- approved: fulfilled here, by the same code the workflow runs (a business failure ends it FAILED;
  a transient one is raised and the next run tries again).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from goodwill.approvals import dispatch, fulfilment, records
from goodwill.clock import now, ulid
from goodwill.models.vocabulary import RequestStatus
from goodwill.observability import logger
from goodwill.repositories import keys, orgs, pages, table, workflows
from goodwill.repositories.table import Item
from goodwill.settings import get_settings

# A request younger than this is left to the normal path (its stream record may be on its way).
GRACE = timedelta(minutes=10)
OPEN = (RequestStatus.PENDING_APPROVAL.value, RequestStatus.APPROVED.value)
WORKFLOW_ENDED = "WORKFLOW_ENDED"


def run(at: datetime | None = None) -> dict[str, int]:
    """One pass over every org; how many requests ended up how (for the log)."""
    at = at or now()
    before = ulid(at_ms=int((at - GRACE).timestamp() * 1000))[:10]
    outcomes: Counter[str] = Counter()
    for org_id in orgs.list_orgs():
        for status in OPEN:
            for record in _older(org_id, status, before):
                outcome = reconcile(record, at)
                outcomes[outcome] += 1
                if outcome != "running":
                    logger.info("request reconciled", extra={"request_id": record["request_id"], "outcome": outcome})
    return dict(outcomes)


def _older(org_id: str, status: str, before: str) -> list[Item]:
    """The org's requests in `status` whose id (a ULID: their creation time) is before `before`."""
    query = {
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK < :before",
        "ExpressionAttributeValues": table.values({":pk": keys.requests_by_status(org_id, status), ":before": before}),
    }
    return [item for page in pages.all_pages("query", query) for item in page]


def reconcile(record: Item, at: datetime) -> str:
    """Bring one request whose workflow may be gone to a live workflow or a final status. The
    listing is a page of an eventually consistent index read before any request was handled: the
    request is read again, so an approval landing meanwhile is fulfilled, never failed."""
    org_id, request_id = record["org_id"], record["request_id"]
    execution = _execution_status(request_id)
    if execution == "RUNNING":
        return "running"
    current = records.get(org_id, request_id)
    if current is None or current["status"] not in OPEN:
        return str(current["status"]).lower() if current else "gone"
    if current["status"] == RequestStatus.APPROVED.value:
        return str(fulfilment.fulfil(org_id, request_id)["status"]).lower()
    if at >= dispatch.approval_deadline(current):  # started or not, its time is over
        return str(fulfilment.expire(org_id, request_id)["status"]).lower()
    if execution is None:
        dispatch.start("approval", current)
        return "started"
    reason = f"the approval workflow ended ({execution}) before a decision; send the request again"
    ended = fulfilment.mark_failed(org_id, request_id, WORKFLOW_ENDED, reason, waiting_only=True)
    return "failed" if ended else "ended"


def _execution_status(request_id: str) -> str | None:
    """The status of the request's workflow execution; None when it was never started."""
    return workflows.status(get_settings().request_state_machine_arn, f"req-{request_id}")
