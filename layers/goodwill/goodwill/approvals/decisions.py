"""Maker-checker decisions on pending requests, and their fulfilment by the workflow."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from goodwill import retry
from goodwill.approvals import records
from goodwill.auth import Principal, Role
from goodwill.clock import now_iso
from goodwill.errors import (
    GoodwillError,
    NotPendingError,
    SelfApprovalForbiddenError,
    ValidationFailedError,
)
from goodwill.models.decisions import ApproveRequest, Decision, RejectRequest, RequestDecisionsRequest
from goodwill.models.vocabulary import RequestStatus, RequestType
from goodwill.observability import logger
from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item
from goodwill.services.config import get_config

PENDING = records.PENDING


def require_request(org_id: str, request_id: str) -> Item:
    return records.require(org_id, request_id)


def _check_decider(principal: Principal, record: Item) -> None:
    principal.require(Role.APPROVER)
    if record.get("requested_by") == principal.actor:
        raise SelfApprovalForbiddenError("the requester cannot decide their own request")
    if record.get("status") != PENDING:
        raise NotPendingError(f"the request is {record.get('status')}, not PENDING_APPROVAL")


def _approved_points(principal: Principal, record: Item, body: ApproveRequest) -> int | None:
    if body.points is None:
        return None
    if record["type"] != RequestType.POINTS.value:
        raise ValidationFailedError.field("points", "only a points request has points to change")
    limit = get_config(principal.org_id).points.max_per_request
    if body.points == 0 or (body.points > 0) != (record["points"] > 0) or abs(body.points) > limit:
        raise ValidationFailedError.field("points", f"must keep the sign of {record['points']} and be within {limit}")
    return body.points


def decide(principal: Principal, request_id: str, approve: bool, body: ApproveRequest | RejectRequest) -> Item:
    record = require_request(principal.org_id, request_id)
    _check_decider(principal, record)
    status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    at = now_iso()
    history = records.history_entry(status.value.lower(), principal.actor, at, comment=body.comment)
    fields: dict[str, Any] = {"decided_by": principal.actor, "decided_at": at, "decision_comment": body.comment}
    if isinstance(body, ApproveRequest) and (points := _approved_points(principal, record, body)) is not None:
        fields["approved_points"] = history["approved_points"] = points
    # One conditional UpdateItem that returns the decided request: a one-item transaction would cost
    # twice the write units and a re-read.
    op = records.transition_op(principal.org_id, request_id, PENDING, status.value, history, **fields)
    decided = table.update_returning(op)
    if decided is None:
        raise NotPendingError("the request was decided by someone else a moment ago")
    # The waiting workflow is resumed from the table's stream (approvals.dispatch.hand_over): a
    # decision, once written, reaches it even if this Lambda dies right after the write.
    return decided


def decide_many(principal: Principal, body: RequestDecisionsRequest) -> list[dict[str, Any]]:
    """POST /goodwill/request-decisions: each request decided by `decide`, exactly as its own
    route would decide it, one after the other and independently (one refused stops or undoes
    nothing); a result per id, in the order sent. AWS still busy for one id after the SDK's
    retries (throttled, a transaction in the way) is that id's 503, as its own route would answer:
    the ids before it are decided already, and the caller must learn which to send again."""
    principal.require(Role.APPROVER)
    single, approve = body.single(), body.decision is Decision.APPROVE
    results: list[dict[str, Any]] = []
    for request_id in body.request_ids:
        try:
            decided = decide(principal, request_id, approve, single)
        except GoodwillError as exc:
            error = {"code": exc.code, "message": exc.message, "details": exc.details}
            results.append({"request_id": request_id, "status": exc.status_code, "error": error})
        except ClientError as exc:
            if (code := exc.response.get("Error", {}).get("Code")) not in retry.BUSY_ERROR_CODES:
                raise
            logger.warning("AWS is throttling or busy", extra={"aws_error": code, "request_id": request_id})
            error = {"code": "SERVICE_UNAVAILABLE", "message": "the service is busy, retry shortly", "details": []}
            results.append({"request_id": request_id, "status": 503, "error": error})
        else:
            results.append({"request_id": request_id, "status": 200, "request": records.view(decided)})
    return results


def list_requests(
    principal: Principal, status: str | None, customer_id: str | None, limit: int, next_token: str | None
) -> dict[str, Any]:
    org = principal.org_id
    if customer_id:
        page = pages.query_page(
            ("GSI3PK", keys.requests_by_customer(org, customer_id)),
            index="GSI3",
            limit=limit,
            next_token=next_token,
            filter_expression="#s = :s" if status else None,
            filter_names={"#s": "status"} if status else None,
            filter_values={":s": status} if status else None,
        )
    elif status:
        page = pages.query_page(
            ("GSI2PK", keys.requests_by_status(org, status)), index="GSI2", limit=limit, next_token=next_token
        )
    else:
        page = pages.query_page(("GSI1PK", keys.requests_by_org(org)), index="GSI1", limit=limit, next_token=next_token)
    return {"items": [records.view(i) for i in page.items], "next_token": page.next_token}
