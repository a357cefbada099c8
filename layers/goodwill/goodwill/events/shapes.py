"""Stream record -> domain events (CONTRACT.md section 15), with ids stable across redeliveries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from goodwill.approvals.records import view as request_view
from goodwill.customers.profiles import ledger_view
from goodwill.models.imports import FINAL_STATUSES, ImportStatus
from goodwill.models.vocabulary import RequestStatus
from goodwill.repositories import keys
from goodwill.repositories.table import Item
from goodwill.reverts.start import view_fields as revert_view

SOURCE = "goodwill"
POINTS_CHANGED = "Points Changed"
REQUEST_DECIDED = "Request Decided"
COUPON_ISSUED = "Coupon Issued"
IMPORT_FINISHED = "Import Finished"
POINTS_EXPIRING = "Points Expiring"
TYPES = (POINTS_CHANGED, REQUEST_DECIDED, COUPON_ISSUED, IMPORT_FINISHED, POINTS_EXPIRING)

# A fixed namespace: the same (type, key, change) gives the same id in every process, forever.
_NAMESPACE = uuid.UUID("6f1c3a52-6d0b-4b1e-9a53-2b8f0c9e7d41")
_DECIDED = {RequestStatus.APPROVED.value, RequestStatus.REJECTED.value, RequestStatus.EXPIRED.value}
_REVERT_ENDS = {ImportStatus.REVERTED.value, ImportStatus.REVERTED_WITH_ERRORS.value}
_IMPORT_ENDS = {*FINAL_STATUSES, *_REVERT_ENDS}
_IMPORT_SHOWN = (
    *("import_id", "status", "program_id", "mode", "dry_run", "notify_customers", "source"),
    *("created_by", "created_at", "started_at", "finished_at", "error"),
)


@dataclass(frozen=True)
class Event:
    detail_type: str
    detail: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.detail["event_id"])

    @property
    def org_id(self) -> str:
        return str(self.detail["org_id"])


def event_id(detail_type: str, key: Item, change: str = "") -> str:
    """The id of the event a change of the item at `key` stands for: a UUID derived from them."""
    return str(uuid.uuid5(_NAMESPACE, f"{detail_type}|{key['PK']}|{key['SK']}|{change}"))


def _event(detail_type: str, key: Item, change: str, org_id: str, at: str, resource: dict[str, Any]) -> Event:
    head = {"event_id": event_id(detail_type, key, change), "org_id": org_id, "occurred_at": at}
    return Event(detail_type, {**head, **resource})


def org_of(key: Item) -> str:
    return str(key["PK"]).split("#", 2)[1]


def events_of(key: Item, old: Item | None, new: Item | None) -> list[Event]:
    """The events one change of one item stands for (none for most changes)."""
    if not new:
        return []
    sk = str(key["SK"])
    if sk.startswith(keys.LEDGER_PREFIX) and not old:
        resource = {"customer_id": new["customer_id"], **ledger_view(new)}
        return [_event(POINTS_CHANGED, key, "", org_of(key), new["created_at"], resource)]
    if sk.startswith(keys.COUPON_PREFIX) and not old:
        resource = {k: new.get(k) for k in ("code", "series_id", "customer_id", "issued_at", "expires_at")}
        resource.update({"request_id": new.get("request_id"), "discount": new.get("discount")})
        return [_event(COUPON_ISSUED, key, "", org_of(key), new["issued_at"], resource)]
    if sk == "REQ" and not old and new.get("event") == "POINTS_EXPIRING":
        return [_expiring(key, new)]
    status, before = new.get("status"), (old or {}).get("status")
    if sk == "REQ" and status in _DECIDED and before == RequestStatus.PENDING_APPROVAL.value:
        at = new.get("decided_at") or new.get("expired_at") or new["history"][-1]["at"]
        return [_event(REQUEST_DECIDED, key, str(status), org_of(key), at, request_view(new))]
    if sk == "IMPORT" and status in _IMPORT_ENDS and before != status:
        resource = {k: new[k] for k in _IMPORT_SHOWN if new.get(k) is not None}
        totals = new.get("totals") or {}
        resource["totals"] = {k: int(totals.get(k, 0)) for k in ("rows", "applied", "failed")}
        at = new.get("finished_at") or new.get("updated_at") or new["created_at"]
        if status in _REVERT_ENDS:  # a revert ended: the same event type, its status and totals
            resource.update(revert_view(new))
            at = new.get("reverted_at") or at
        return [_event(IMPORT_FINISHED, key, str(status), org_of(key), at, resource)]
    return []


def _expiring(key: Item, notice: Item) -> Event:
    """The reminder notice of one lot (goodwill.lots.notices): written once per lot, in the transaction
    that marks the lot reminded, whether or not the customer can be reached. The id derives from the
    balance and the lot, so even a second notice for the same lot would carry the same id."""
    org_id, customer_id, program_id = org_of(key), str(notice["customer_id"]), str(notice["program_id"])
    lot = keys.balance(org_id, customer_id, program_id)
    resource = {
        "customer_id": customer_id,
        "program_id": program_id,
        "transaction_id": notice["lot_id"],
        "points": int(notice["expiring_points"]),
        "expires_at": notice["expires_at"],
    }
    return _event(POINTS_EXPIRING, lot, str(notice["lot_id"]), org_id, notice["created_at"], resource)
