"""The DynamoDB reads of a search: index partitions, page by page, and profiles by id."""

from __future__ import annotations

from collections.abc import Sequence

from goodwill.repositories import keys, pages, table
from goodwill.repositories.customer_index import shard
from goodwill.repositories.pages import Page
from goodwill.repositories.table import Item


def by_phone(org_id: str, phone: str, limit: int, next_token: str | None) -> Page:
    partition = ("PK", keys.customer_phone_partition(org_id, phone))
    return pages.query_page(partition, limit=limit, next_token=next_token, newest_first=False)


def by_name(org_id: str, key: str, limit: int, next_token: str | None, leave_out: str) -> Page:
    """Entries whose normalised name starts with `key` (at least two characters), by name,
    without customer `leave_out` (listed already as an exact match)."""
    partition = ("PK", keys.customer_name_partition(org_id, shard(key)))
    return pages.query_page(
        partition,
        sort_prefix=("SK", key),
        limit=limit,
        next_token=next_token,
        newest_first=False,
        # The entry's own name key guards against a `key` running on into the id part of the SK.
        filter_expression="begins_with(#n, :k) AND #c <> :c",
        filter_names={"#n": "name_key", "#c": "customer_id"},
        filter_values={":k": key, ":c": leave_out},
    )


def name_start_token(org_id: str, key: str) -> str | None:
    """A token for `by_name` that starts at the first entry: a first page filled by exact matches
    passes it on, so the names follow on the next page."""
    start = {"PK": keys.customer_name_partition(org_id, shard(key)), "SK": key}
    return pages.encode_token({k: table.serialize_value(v) for k, v in start.items()})


def profiles(org_id: str, customer_ids: Sequence[str]) -> dict[str, Item]:
    if not customer_ids:
        return {}
    found = table.batch_get([keys.customer(org_id, cid) for cid in dict.fromkeys(customer_ids)])
    return {item["customer_id"]: item for item in found}
