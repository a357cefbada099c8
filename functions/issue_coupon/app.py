"""POST /goodwill/coupons - hand out a goodwill coupon (approval by default)."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.auth import Role
from goodwill.coupons import grants
from goodwill.handler import Api, Body, IdempotencyKey, granted
from goodwill.models.coupon_grants import CouponGrantRequest

app = Api("Goodwill requests")


@app.endpoint(
    "POST /goodwill/coupons",
    {
        201: ("CouponGrantResponse", "Auto-approved: the coupon is issued"),
        202: ("PendingResponse", "Waiting for an approver"),
    },
    not_found="no such customer or coupon series",
    conflict="SERIES_EXHAUSTED: the pool has no codes left; IDEMPOTENCY_KEY_REUSED: the key was used with another body",
    role=Role.AGENT,
)
def issue_coupon(body: Annotated[CouponGrantRequest, Body()], idempotency_key: IdempotencyKey = None) -> Any:
    """Hand out a goodwill coupon

    Role: agent. Waits for an approver (202) unless the org auto-approves coupons (201). A repeat
    with the same Idempotency-Key and body returns the first response and changes nothing."""
    principal = app.caller()
    return granted(grants.grant(principal, body, idempotency_key, principal.source.value), "CouponRequests")


lambda_handler = app.entry_point()
