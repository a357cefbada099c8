"""The request workflow's tasks: fulfil an approved request (its ledger change or coupon), end a
request FAILED or EXPIRED. Apart from the deciding routes (decisions.py), which never need the
ledger, coupon series or reversal code these import; the reversal and coupon code is imported by
the fulfilments that need it."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.approvals.records import APPROVED, EXPIRED, FAILED, FULFILLED, PENDING
from goodwill.clock import now_iso
from goodwill.errors import GoodwillError, ValidationFailedError
from goodwill.models.vocabulary import RequestStatus, RequestType
from goodwill.points import ledger
from goodwill.points.changes import change_type, credit_terms
from goodwill.repositories import table
from goodwill.repositories.extra_ops import CouponExtraOpFailed, ExtraOpFailed
from goodwill.repositories.table import Item
from goodwill.services.config import get_config


def fulfil(org_id: str, request_id: str) -> dict[str, Any]:
    """Apply an approved request (called by the workflow; safe to call again)."""
    record = records.require(org_id, request_id)
    if record["status"] != RequestStatus.APPROVED.value:
        return {"status": record["status"]}
    try:
        if record["type"] == RequestType.POINTS.value:
            _fulfil_points(org_id, record)
        elif record["type"] == RequestType.REVERSAL.value:
            _fulfil_reversal(org_id, record)
        else:
            _fulfil_coupon(org_id, record)
    except (ExtraOpFailed, CouponExtraOpFailed):
        return {"status": records.require(org_id, request_id)["status"]}
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
    # The org's default expiry counts from the credit, not from the request that waited for it.
    asked = None if record.get("expiry_defaulted") else record.get("expires_at")
    expires_at, remind_at = credit_terms(config, points, asked)
    if points > 0 and expires_at and expires_at <= now_iso():
        raise ValidationFailedError.field("expires_at", f"{expires_at} passed while the request waited for approval")
    change = ledger.request_change(
        org_id, record, points, type=change_type(points), expires_at=expires_at, remind_at=remind_at
    )

    def ops(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        history = records.history_entry(
            "fulfilled", "system", entry["created_at"], transaction_id=entry["transaction_id"]
        )
        # The request shows the expiry its credit got (its lot's).
        return [_fulfilled_op(org_id, record, history, transaction_id=entry["transaction_id"], expires_at=expires_at)]

    ledger.apply(change, config.points.allow_negative_balance, ops)


def _fulfil_reversal(org_id: str, record: Item) -> None:
    # Imported by the requests that need it: most fulfilments are points (a cold start ~7 ms lighter).
    from goodwill.lots import reversal

    change, complete = reversal.fulfil_ops(org_id, record)

    def ops(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        history = records.history_entry(
            "fulfilled", "system", entry["created_at"], transaction_id=entry["transaction_id"]
        )
        return [_fulfilled_op(org_id, record, history, transaction_id=entry["transaction_id"]), complete(entry)]

    ledger.apply(change, get_config(org_id).points.allow_negative_balance, ops)


def _fulfil_coupon(org_id: str, record: Item) -> None:
    from goodwill.coupons import series  # as reversal above (~2.5 ms)

    def ops(coupon: Item) -> list[dict[str, Any]]:
        history = records.history_entry("fulfilled", "system", coupon["issued_at"], coupon_code=coupon["code"])
        return [_fulfilled_op(org_id, record, history, coupon=series.coupon_view(coupon))]

    series.allocate(org_id, record["series_id"], record["customer_id"], record["request_id"], ops)


def mark_failed(org_id: str, request_id: str, code: str, message: str, waiting_only: bool = False) -> bool:
    """End an approved request, or one still waiting (its workflow failed before a decision),
    FAILED with the reason; False when it had ended already (or, `waiting_only`, was approved)."""
    at = now_iso()
    history = records.history_entry("failed", "system", at, error=code, reason=message)
    failure = {"code": code, "message": message}
    for status in (PENDING,) if waiting_only else (APPROVED, PENDING):
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
    return {"status": records.require(org_id, request_id)["status"]}
