"""Customer profiles, their e-mail claims, balances and the ledger."""

from __future__ import annotations

from typing import Any

from goodwill.repositories import customer_index as search_index
from goodwill.repositories import keys, pages, table
from goodwill.repositories.pages import Page
from goodwill.repositories.table import Cancelled, Item


def get_profile(org_id: str, customer_id: str) -> Item | None:
    return table.get(keys.customer(org_id, customer_id))


def customer_by_email(org_id: str, email: str) -> str | None:
    item = table.get(keys.email(org_id, email))
    return str(item["customer_id"]) if item else None


def balances(org_id: str, customer_id: str) -> list[Item]:
    page = pages.query_page(
        ("PK", keys.customer_pk(org_id, customer_id)),
        sort_prefix=("SK", keys.BALANCE_PREFIX),
        limit=100,
        newest_first=False,
    )
    return page.items


def replace_profile(org_id: str, profile: Item, previous: Item | None) -> Cancelled | None:
    """Write the profile, move its e-mail claim and its search entries, all or nothing."""
    profile = {**profile, search_index.MARKER: search_index.INDEX_VERSION}
    cid = profile["customer_id"]
    key = keys.customer(org_id, cid)
    ops: list[dict[str, Any]] = []
    if previous is None:
        ops.append(table.put_op({**key, **profile}, condition="attribute_not_exists(PK)"))
    else:
        # The search entries to delete follow from the previous profile's index marker.
        condition, names, vals = search_index.unchanged_condition(previous)
        ops.append(table.put_op({**key, **profile}, condition=condition, names=names, vals=vals))
    new_email, old_email = profile.get("email"), (previous or {}).get("email")
    if new_email and new_email != old_email:
        ops.append(
            table.put_op(
                {**keys.email(org_id, new_email), "customer_id": cid, "org_id": org_id},
                condition="attribute_not_exists(PK) OR customer_id = :c",
                vals={":c": cid},
            )
        )
    if old_email and old_email != new_email:
        ops.append(table.delete_op(keys.email(org_id, old_email), condition="customer_id = :c", vals={":c": cid}))
    ops.extend(search_index.ops(org_id, profile, previous))
    return table.transact(ops)


def ledger_page(org_id: str, customer_id: str, program_id: str | None, limit: int, next_token: str | None) -> Page:
    filter_expression = "#p = :p" if program_id else None
    return pages.query_page(
        ("PK", keys.customer_pk(org_id, customer_id)),
        sort_prefix=("SK", keys.LEDGER_PREFIX),
        limit=limit,
        next_token=next_token,
        filter_expression=filter_expression,
        filter_names={"#p": "program_id"} if program_id else None,
        filter_values={":p": program_id} if program_id else None,
    )


def coupons_page(org_id: str, customer_id: str, limit: int, next_token: str | None) -> Page:
    return pages.query_page(
        ("PK", keys.customer_pk(org_id, customer_id)),
        sort_prefix=("SK", keys.COUPON_PREFIX),
        limit=limit,
        next_token=next_token,
    )
