"""Goodwill coupon requests: approval by default, or issued at once when the org auto-approves."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.approvals.lifecycle import Outcome, queue_request
from goodwill.auth import Principal
from goodwill.clock import ulid
from goodwill.coupons import series
from goodwill.errors import NotFoundError, SeriesExhaustedError, ValidationFailedError
from goodwill.models.coupon_grants import CouponGrantRequest
from goodwill.models.vocabulary import RequestStatus, RequestType
from goodwill.repositories import keys, table
from goodwill.repositories.extra_ops import CouponExtraOpFailed, ExtraOpFailed
from goodwill.repositories.table import Item
from goodwill.services import idempotency
from goodwill.services.config import get_config

SCOPE = "coupons"


def grant(principal: Principal, body: CouponGrantRequest, key: str | None, source: str) -> Outcome:
    org = principal.org_id
    config = get_config(org)
    ikey = idempotency.make_key(org, SCOPE, key, body)
    wanted = [keys.customer(org, body.customer_id), keys.series(org, body.series_id)]
    if ikey:
        wanted.append(ikey.item_key)
    found = table.batch_get_map(wanted)
    if ikey and (stored := idempotency.replay(ikey, found.get((ikey.item_key["PK"], "IDEM")))):
        return Outcome(stored.status_code, stored.body)
    # After the replay: a retry of a grant made is answered as it was, whatever the rules say now.
    if body.reason not in config.reason_codes():
        raise ValidationFailedError.field("reason", f"{body.reason} is not a reason configured for this org")
    if (wanted[0]["PK"], wanted[0]["SK"]) not in found:
        raise NotFoundError(f"customer {body.customer_id} not found")
    if (found_series := found.get((wanted[1]["PK"], wanted[1]["SK"]))) is None:
        raise NotFoundError(f"coupon series {body.series_id} not found")
    if (left := series.codes_left(found_series)) is not None and left <= 0:
        # An empty pool is refused now, not after someone approved it (like an uncovered debit); a
        # pool that runs out while a request waits still ends that request FAILED.
        raise SeriesExhaustedError(f"coupon series {body.series_id} has no codes left")
    request_id = ulid()
    record = records.new_record(
        org,
        request_id,
        {
            "type": RequestType.COUPON.value,
            "customer_id": body.customer_id,
            "series_id": body.series_id,
            "reason": body.reason,
            "comment": body.comment,
            "customer_message": body.customer_message,
            "notify": body.notify,
            "source": source,
            "requested_by": principal.actor,
            "status": RequestStatus.PENDING_APPROVAL.value,
        },
    )
    created = records.history_entry("created", principal.actor)
    record.update({"created_at": created["at"], "history": [created]})
    try:
        if not config.coupons.auto_approve:
            return queue_request(ikey, record)
        return _issue_now(ikey, record)
    except (CouponExtraOpFailed, ExtraOpFailed):
        # Only the idempotency record can fail here: a concurrent twin with the same key won.
        if ikey and (stored := idempotency.load(ikey)):
            return Outcome(stored.status_code, stored.body)
        raise


def _issue_now(ikey: idempotency.IdempotencyKey | None, record: Item) -> Outcome:
    org = record["org_id"]
    response: dict[str, Any] = {}

    def ride_along(coupon: Item) -> list[dict[str, Any]]:
        at = coupon["issued_at"]
        view = series.coupon_view(coupon)
        fulfilled = {
            **record,
            "status": RequestStatus.FULFILLED.value,
            "coupon": view,
            "fulfilled_at": at,
            "decided_by": "system",
            "decided_at": at,
            "history": [
                *record["history"],
                records.history_entry("approved", "system", at, detail="auto-approved"),
                records.history_entry("fulfilled", "system", at, coupon_code=coupon["code"]),
            ],
        }
        fulfilled.update(records.index_attrs(org, record["request_id"], record["customer_id"], "FULFILLED"))
        response.clear()
        response.update({"request": records.view(fulfilled), "coupon": view})
        ops = [records.put_new_op(org, fulfilled)]
        if ikey:
            ops.append(idempotency.record_op(ikey, 201, response, record["request_id"]))
        return ops

    series.allocate(org, record["series_id"], record["customer_id"], record["request_id"], ride_along)
    return Outcome(201, response)
