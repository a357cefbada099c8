"""Request records: how a goodwill request is stored, indexed and shown."""

from __future__ import annotations

from typing import Any

from goodwill.clock import now_iso
from goodwill.errors import NotFoundError
from goodwill.models.vocabulary import RequestStatus
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

HIDDEN = {"task_token", "org_id", "version", "expiry_defaulted"}
PENDING = RequestStatus.PENDING_APPROVAL.value
APPROVED = RequestStatus.APPROVED.value
FULFILLED = RequestStatus.FULFILLED.value
FAILED = RequestStatus.FAILED.value
EXPIRED = RequestStatus.EXPIRED.value


def history_entry(event: str, actor: str, at: str | None = None, **detail: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"event": event, "actor": actor, "at": at or now_iso()}
    entry.update({k: v for k, v in detail.items() if v is not None})
    return entry


def index_attrs(org_id: str, request_id: str, customer_id: str, status: str) -> dict[str, str]:
    return {
        "GSI1PK": keys.requests_by_org(org_id),
        "GSI1SK": request_id,
        "GSI2PK": keys.requests_by_status(org_id, status),
        "GSI2SK": request_id,
        "GSI3PK": keys.requests_by_customer(org_id, customer_id),
        "GSI3SK": request_id,
    }


def new_record(org_id: str, request_id: str, fields: dict[str, Any]) -> Item:
    record = {"request_id": request_id, "org_id": org_id, "notifications": [], **fields}
    record.update(index_attrs(org_id, request_id, record["customer_id"], record["status"]))
    return record


def put_new_op(org_id: str, record: Item) -> dict[str, Any]:
    return table.put_op(
        {**keys.request(org_id, record["request_id"]), **record},
        condition="attribute_not_exists(PK)",
    )


def view(record: Item) -> dict[str, Any]:
    shown = {k: v for k, v in table.strip_keys(record).items() if k not in HIDDEN}
    shown.setdefault("notifications", [])
    shown.setdefault("history", [])
    return shown


def require(org_id: str, request_id: str) -> Item:
    """The request, or NotFoundError (404)."""
    record = get(org_id, request_id)
    if record is None:
        raise NotFoundError(f"request {request_id} not found")
    return record


def get(org_id: str, request_id: str) -> Item | None:
    return table.get(keys.request(org_id, request_id))


def transition_op(
    org_id: str, request_id: str, from_status: str, to_status: str, history: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """The conditional update moving a request from one status to another: the status (and its index
    key), one history entry and `fields` (None removes the attribute). The condition on the previous
    status is what makes every decision and every fulfilment happen at most once."""
    names = {"#s": "status", "#h": "history"}
    vals: dict[str, Any] = {
        ":to": to_status,
        ":from": from_status,
        ":g2": keys.requests_by_status(org_id, to_status),
        ":h": [history],
    }
    sets = ["#s = :to", "GSI2PK = :g2", "#h = list_append(#h, :h)"]
    removes = []
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :f{i}")
            vals[f":f{i}"] = value
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return table.update_op(keys.request(org_id, request_id), update, names, vals, condition="#s = :from")
