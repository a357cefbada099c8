"""The org every warm benchmark works in: its configuration, a coupon series and customers."""

from __future__ import annotations

from typing import Any

from bench.harness import ADMIN, AGENT, Client

CUSTOMERS = 50
APPROVAL_THRESHOLD = 1000  # grants above it wait for an approver
CONFIG = {"points": {"approval_threshold": APPROVAL_THRESHOLD}, "coupons": {"auto_approve": True}}
SERIES = {"name": "Sorry voucher", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30}


def grant_body(customer_id: str, points: int = 100) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "program_id": "default",
        "points": points,
        "reason": "SERVICE_RECOVERY",
        "comment": "parcel arrived late",
    }


def customer_body(n: int) -> dict[str, Any]:
    return {"name": f"Customer {n}", "email": f"c-{n}@bench.test", "phone": "+15555550100"}


def seed(client: Client, customers: int = CUSTOMERS, grants: int = 30) -> None:
    """The org's config, a coupon series, customers, and a page's worth of fulfilled requests."""
    client.call("PUT", "/config", CONFIG, expect=200, who=ADMIN)
    client.call("PUT", "/coupon-series/gen", SERIES, expect=201, who=ADMIN)
    for n in range(customers):
        client.call("PUT", f"/customers/c-{n}", customer_body(n), expect=201, who=ADMIN)
    for n in range(grants):
        body = {**grant_body(f"c-{n % customers}"), "notify": False}
        client.call("POST", "/goodwill/points", body, expect=201, who=AGENT)
