"""Maker-checker decisions on pending requests, and their fulfilment by the workflow."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.auth import Principal, Role
from goodwill.clock import now_iso
from goodwill.coupons import series
from goodwill.errors import (
    GoodwillError,
    NotFoundError,
    NotPendingError,
    SelfApprovalForbiddenError,
    ValidationFailedError,
)
from goodwill.lots import reversal
from goodwill.models.requests import (
    ApproveRequest,
    Decision,
    RejectRequest,
    RequestDecisionsRequest,
    RequestStatus,
    RequestType,
)
from goodwill.points import ledger
from goodwill.points.changes import change_type, credit_terms
from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item
from goodwill.services.config import get_config

PENDING = RequestStatus.PENDING_APPROVAL.value
APPROVED = RequestStatus.APPROVED.value
FULFILLED = RequestStatus.FULFILLED.value
FAILED = RequestStatus.FAILED.value
EXPIRED = RequestStatus.EXPIRED.value


def require_request(org_id: str, request_id: str) -> Item:
    record = records.get(org_id, request_id)
    if record is None:
        raise NotFoundError(f"request {request_id} not found")
    return record


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
    nothing); a result per id, in the order sent."""
    principal.require(Role.APPROVER)
    single, approve = body.single(), body.decision is Decision.APPROVE
    results: list[dict[str, Any]] = []
    for request_id in body.request_ids:
        try:
            decided = decide(principal, request_id, approve, single)
        except GoodwillError as exc:
            error = {"code": exc.code, "message": exc.message, "details": exc.details}
            results.append({"request_id": request_id, "status": exc.status_code, "error": error})
        else:
            results.append({"request_id": request_id, "status": 200, "request": records.view(decided)})
    return results


def fulfil(org_id: str, request_id: str) -> dict[str, Any]:
    """Apply an approved request (called by the workflow; safe to call again)."""
    record = require_request(org_id, request_id)
    if record["status"] != RequestStatus.APPROVED.value:
        return {"status": record["status"]}
    try:
        if record["type"] == RequestType.POINTS.value:
            _fulfil_points(org_id, record)
        elif record["type"] == RequestType.REVERSAL.value:
            _fulfil_reversal(org_id, record)
        else:
            _fulfil_coupon(org_id, record)
    except (ledger.ExtraOpFailed, series.CouponExtraOpFailed):
        return {"status": require_request(org_id, request_id)["status"]}
    except GoodwillError as exc:
        if exc.status_code >= 500:
            # Transient (lost races, a busy table): raised, so the workflow retries the task with
            # back-off; only if it outlasts the retries does the workflow record a failure.
            raise
        mark_failed(org_id, request_id, exc.code, exc.message)
        return {"status": RequestStatus.FAILED.value, "error": exc.code}
    return {"status": RequestStatus.FULFILLED.value}


def _fulfilled_op(org_id: str, record: Item, history: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return records.transition_op(
        org_id, record["request_id"], APPROVED, FULFILLED, history, fulfilled_at=history["at"], **fields
    )


def _fulfil_points(org_id: str, record: Item) -> None:
    points = int(record.get("approved_points") or record["points"])
    config = get_config(org_id)
    change = records.ledger_change(
        org_id,
        record,
        points,
        type=change_type(points),
        expires_at=record.get("expires_at"),
        remind_at=credit_terms(config, points, record.get("expires_at"))[1],
    )

    def ops(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        history = records.history_entry(
            "fulfilled", "system", entry["created_at"], transaction_id=entry["transaction_id"]
        )
        return [_fulfilled_op(org_id, record, history, transaction_id=entry["transaction_id"])]

    ledger.apply(change, config.points.allow_negative_balance, ops)


def _fulfil_reversal(org_id: str, record: Item) -> None:
    change, complete = reversal.fulfil_ops(org_id, record)

    def ops(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        history = records.history_entry(
            "fulfilled", "system", entry["created_at"], transaction_id=entry["transaction_id"]
        )
        return [_fulfilled_op(org_id, record, history, transaction_id=entry["transaction_id"]), complete(entry)]

    ledger.apply(change, get_config(org_id).points.allow_negative_balance, ops)


def _fulfil_coupon(org_id: str, record: Item) -> None:
    def ops(coupon: Item) -> list[dict[str, Any]]:
        history = records.history_entry("fulfilled", "system", coupon["issued_at"], coupon_code=coupon["code"])
        return [_fulfilled_op(org_id, record, history, coupon=series.coupon_view(coupon))]

    series.allocate(org_id, record["series_id"], record["customer_id"], record["request_id"], ops)


def mark_failed(org_id: str, request_id: str, code: str, message: str) -> bool:
    """End an approved request, or one still waiting (its workflow failed before a decision),
    FAILED with the reason; False when it had ended already."""
    at = now_iso()
    history = records.history_entry("failed", "system", at, error=code, reason=message)
    failure = {"code": code, "message": message}
    for status in (APPROVED, PENDING):
        op = records.transition_op(
            org_id, request_id, status, FAILED, history, failed_at=at, failure=failure, task_token=None
        )
        if table.transact([op]) is None:
            return True
    return False


def expire(org_id: str, request_id: str) -> dict[str, Any]:
    at = now_iso()
    history = records.history_entry("expired", "system", at)
    op = records.transition_op(org_id, request_id, PENDING, EXPIRED, history, expired_at=at, task_token=None)
    if table.transact([op]) is None:
        return {"status": EXPIRED}
    return {"status": require_request(org_id, request_id)["status"]}


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
