"""The request lifecycle shared by every kind of goodwill request (points, coupons, reversals):
the outcome a caller gets, a new request queued for an approver (202), a request fulfilled at once
(201) with its history."""

from __future__ import annotations

from typing import Any, NamedTuple

from goodwill.approvals import records
from goodwill.jsonutil import RawJson
from goodwill.models.vocabulary import RequestStatus
from goodwill.repositories import table
from goodwill.repositories.extra_ops import ExtraOpFailed
from goodwill.repositories.table import Item
from goodwill.services import idempotency
from goodwill.services.idempotency import IdempotencyKey


class Outcome(NamedTuple):
    status_code: int
    body: dict[str, Any] | RawJson  # RawJson: encoded already (a replayed or stored answer)


def queue_request(ikey: IdempotencyKey | None, record: Item) -> Outcome:
    body = {"request": records.view(record)}
    ops = [records.put_new_op(record["org_id"], record)]
    if ikey:
        ops.append(idempotency.record_op(ikey, 202, body, record["request_id"]))
    cancelled = table.transact(ops)
    if cancelled is not None:
        raise ExtraOpFailed(cancelled)
    return Outcome(202, body)


def fulfilled_record(record: Item, entry: Item, approver: str) -> Item:
    at = entry["created_at"]
    history = list(record.get("history", []))
    if approver == "auto":
        history.append(records.history_entry("approved", "system", at, detail="auto-approved"))
    history.append(records.history_entry("fulfilled", "system", at, transaction_id=entry["transaction_id"]))
    fulfilled = {
        **record,
        "status": RequestStatus.FULFILLED.value,
        "transaction_id": entry["transaction_id"],
        "fulfilled_at": at,
        "history": history,
    }
    fulfilled.update(
        records.index_attrs(
            record["org_id"],
            record["request_id"],
            record["customer_id"],
            RequestStatus.FULFILLED.value,
        )
    )
    if approver == "auto":
        fulfilled.update({"decided_by": "system", "decided_at": at})
    return fulfilled
