"""Customer profiles and what readers see of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from goodwill import retry
from goodwill.auth import Principal
from goodwill.clock import now_iso
from goodwill.errors import ConflictError, NotFoundError, PreconditionFailedError, ServiceUnavailableError
from goodwill.lots import model as lots_model
from goodwill.repositories import customers as repo
from goodwill.repositories import orgs
from goodwill.repositories.table import Item, strip_keys
from goodwill.services.config import get_config

if TYPE_CHECKING:  # the body is validated by the customers handler; ledger readers need no model
    from goodwill.models.customers import CustomerPutRequest

PROFILE_FIELDS = (
    "customer_id",
    "name",
    "email",
    "phone",
    "push_endpoint_arn",
    "opted_out_channels",
    "created_at",
    "updated_at",
)


class EmailInUseError(ConflictError, code="EMAIL_IN_USE"): ...


def profile_view(item: Item) -> dict[str, Any]:
    view = {k: item.get(k) for k in PROFILE_FIELDS}
    view["opted_out_channels"] = list(item.get("opted_out_channels") or [])
    return view


def put_customer(
    principal: Principal, customer_id: str, body: CustomerPutRequest, only_if_new: bool = False
) -> tuple[bool, dict[str, Any]]:
    """Create or fully replace a profile; (created, view). `only_if_new`: create only (an existing
    profile, also one created by a racing PUT since our read, is 412 and left as it is)."""
    # The org is registered once, on its own: never inside the customer's transaction, where
    # every customer write of the org would contend for the one ORG item.
    orgs.register(principal.org_id)
    for _ in retry.attempts(retry.CONTENTION):
        previous = repo.get_profile(principal.org_id, customer_id)
        if previous is not None and only_if_new:
            raise PreconditionFailedError(
                f"customer {customer_id} exists; nothing was changed",
                [{"field": "customer_id", "message": "a customer with this id exists"}],
            )
        stamp = now_iso()
        profile: Item = {
            "customer_id": customer_id,
            "org_id": principal.org_id,
            **body.model_dump(mode="json"),
            "created_at": previous["created_at"] if previous else stamp,
            "updated_at": stamp,
            "updated_by": principal.actor,
            "version": (previous["version"] + 1) if previous else 1,
        }
        cancelled = repo.replace_profile(principal.org_id, strip_keys(profile), previous)
        if cancelled is None:
            return previous is None, customer_view(principal.org_id, profile)
        # item 0 is the profile (a concurrent replace: read again); item 1 the e-mail claim.
        if len(cancelled.reasons) > 1 and cancelled.failed(1) and body.email:
            raise EmailInUseError(
                f"another customer of this org already uses {body.email}",
                [{"field": "email", "message": "already used by another customer"}],
            )
        if not (cancelled.failed(0) or cancelled.retryable):
            raise cancelled.refused()
    raise ServiceUnavailableError("the customer is being changed concurrently; retry")


def customer_view(org_id: str, profile: Item) -> dict[str, Any]:
    view = profile_view(profile)
    view["balances"] = balances_view(org_id, profile["customer_id"])
    return view


def balances_view(org_id: str, customer_id: str) -> dict[str, dict[str, Any]]:
    found = {
        b["program_id"]: {
            "current": b["current"],
            "lifetime": b["lifetime"],
            "expiring": lots_model.expiring_view(lots_model.from_item(b.get("lots"))),
        }
        for b in repo.balances(org_id, customer_id)
    }
    for program in get_config(org_id).programs:
        found.setdefault(program, {"current": 0, "lifetime": 0, "expiring": []})
    return dict(sorted(found.items()))


def get_customer(principal: Principal, customer_id: str) -> dict[str, Any]:
    return customer_view(principal.org_id, require_customer(principal.org_id, customer_id))


def require_customer(org_id: str, customer_id: str) -> Item:
    profile = repo.get_profile(org_id, customer_id)
    if profile is None:
        raise NotFoundError(f"customer {customer_id} not found")
    return profile


LEDGER_FIELDS = (
    "transaction_id",
    "program_id",
    "type",
    "points",
    "current_after",
    "lifetime_after",
    "reason",
    "comment",
    "source",
    "request_id",
    "import_id",
    "actor",
    "created_at",
    "expires_at",
    "affects_tier",
    "reverses",
    "reversed_by",
    "expired_lot",
)


def ledger_view(item: Item) -> dict[str, Any]:
    return {k: item.get(k) for k in LEDGER_FIELDS}


def list_transactions(
    principal: Principal,
    customer_id: str,
    program_id: str | None,
    limit: int,
    next_token: str | None,
) -> dict[str, Any]:
    require_customer(principal.org_id, customer_id)
    page = repo.ledger_page(principal.org_id, customer_id, program_id, limit, next_token)
    return {"items": [ledger_view(i) for i in page.items], "next_token": page.next_token}


COUPON_FIELDS = (
    "code",
    "series_id",
    "customer_id",
    "issued_at",
    "expires_at",
    "request_id",
    "discount",
)


def list_coupons(principal: Principal, customer_id: str, limit: int, next_token: str | None) -> dict[str, Any]:
    require_customer(principal.org_id, customer_id)
    page = repo.coupons_page(principal.org_id, customer_id, limit, next_token)
    return {
        "items": [{k: i.get(k) for k in COUPON_FIELDS} for i in page.items],
        "next_token": page.next_token,
    }
