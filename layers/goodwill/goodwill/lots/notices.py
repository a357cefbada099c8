"""What the customer is told about their lots: POINTS_EXPIRING before, POINTS_EXPIRED after.

A notice is a fulfilled request record of type NOTICE, written in the transaction that expires the
lots (or marks the reminder sent): the table's stream starts the notification workflow for it,
with the org's templates and channel rules, exactly as for a grant. Notices carry no index keys,
so they never show in request listings.
"""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.clock import now_iso, ulid
from goodwill.lots.model import Lot
from goodwill.repositories.table import Item

NOTICE = "NOTICE"


def _record(org_id: str, notice_id: str, event: str, fields: dict[str, Any]) -> Item:
    at = now_iso()
    return {
        "request_id": notice_id,
        "org_id": org_id,
        "type": NOTICE,
        "event": event,
        "status": "FULFILLED",
        "notify": True,
        "reason": "EXPIRED",
        "source": "SYSTEM",
        "requested_by": "system",
        "created_at": at,
        "fulfilled_at": at,
        "notifications": [],
        "history": [records.history_entry("created", "system", at, notice=event)],
        **fields,
    }


def expired_op(org_id: str, customer_id: str, program_id: str, total: int, expires_at: str, entry: Item) -> Any:
    record = _record(
        org_id,
        ulid(),
        "POINTS_EXPIRED",
        {
            "customer_id": customer_id,
            "program_id": program_id,
            "points": -total,
            "expiring_points": total,
            "expires_at": expires_at,
            "transaction_id": entry["transaction_id"],
            "balance": entry["current_after"],
        },
    )
    return records.put_new_op(org_id, record)


def expiring_op(org_id: str, customer_id: str, program_id: str, lot: Lot, balance: int) -> Any:
    record = _record(
        org_id,
        ulid(),
        "POINTS_EXPIRING",
        {
            "customer_id": customer_id,
            "program_id": program_id,
            "points": lot.remaining,
            "expiring_points": lot.remaining,
            "expires_at": lot.expires_at,
            "lot_id": lot.lot_id,
            "balance": balance,
        },
    )
    return records.put_new_op(org_id, record)
