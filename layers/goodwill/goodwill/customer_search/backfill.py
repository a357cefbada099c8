"""Index the profiles written before the search index existed (a one-off migration).

    TABLE_NAME=<the stack's TableName output> python -m goodwill.customer_search.backfill

Scans the table once for profiles without the `search_index` marker, or with an older index
version's (a migration may scan; a search never does), and indexes each in a transaction
conditional on the profile's version and marker, so a profile changed meanwhile is left to the
write that changed it (which indexed it). Safe to stop and to run again: an indexed profile is
skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from goodwill.repositories import customer_index as index
from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item


def unindexed_profiles() -> Iterator[list[Item]]:
    """Pages of profiles without the marker, as they are stored."""
    scan = {
        "FilterExpression": "SK = :profile AND (attribute_not_exists(#m) OR #m < :current)",
        "ExpressionAttributeNames": {"#m": index.MARKER},
        "ExpressionAttributeValues": table.values({":profile": "PROFILE", ":current": index.INDEX_VERSION}),
    }
    return pages.all_pages("scan", scan)


def index_profile(profile: Item) -> bool:
    """Index one profile (unindexed, or indexed by an older version: its old entries go); False
    when it changed since it was read (its writer indexed it)."""
    org, cid = profile["org_id"], profile["customer_id"]
    condition, names, vals = index.unchanged_condition(profile)
    mark = table.update_op(
        keys.customer(org, cid),
        "SET #m = :m",
        names=names,
        vals={**vals, ":m": index.INDEX_VERSION},
        condition=condition,
    )
    indexed_before = profile if profile.get(index.MARKER) is not None else None
    return table.transact([mark, *index.ops(org, profile, indexed_before)]) is None


def backfill() -> int:
    """Index every unindexed profile; how many were indexed."""
    return sum(index_profile(p) for page in unindexed_profiles() for p in page)


if __name__ == "__main__":
    print(f"indexed {backfill()} customer profiles")
