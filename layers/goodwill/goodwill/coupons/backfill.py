"""Give the codes of pools uploaded before codes had owners their owner item (a one-off migration).

    TABLE_NAME=<the stack's TableName output> python -m goodwill.coupons.backfill

Scans the table once for pool markers (`POOLED#{code}` under a series) and puts each code's owner
item (`keys.code_owner`) where it has none, so a later PUT of that code to another series is
refused. A code found in two pools (possible only before owners existed) is reported, never
changed: the admin decides which pool keeps it (the other still skips it once it is issued). Safe to
stop and to run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item


class Shared(NamedTuple):
    org_id: str
    code: str
    series_id: str  # the pool whose marker was read
    owner: str  # the pool that owns the code


class Outcome(NamedTuple):
    owned: int  # codes whose owner is their pool (given now, or already)
    shared: list[Shared]


def pool_markers() -> Iterator[list[Item]]:
    """Pages of pool markers, as they are stored."""
    scan = {
        "FilterExpression": "begins_with(SK, :pooled)",
        "ExpressionAttributeValues": table.values({":pooled": "POOLED#"}),
    }
    return pages.all_pages("scan", scan)


def own(marker: Item) -> Shared | None:
    """Make the marker's pool the owner of its code, unless another pool owns it (returned)."""
    _, org, _, series_id = str(marker["PK"]).split("#", 3)  # ORG#{org}#SERIES#{series}: ids hold no '#'
    code = str(marker["code"])
    owner = keys.code_owner(org, code)
    condition = "attribute_not_exists(PK) OR series_id = :sid"
    if table.put(
        {**owner, "series_id": series_id}, condition, ExpressionAttributeValues=table.values({":sid": series_id})
    ):
        return None
    return Shared(org, code, series_id, str((table.get(owner) or {}).get("series_id")))


def backfill() -> Outcome:
    owned, shared = 0, []
    for page in pool_markers():
        for marker in page:
            found = own(marker)
            if found is None:
                owned += 1
            else:
                shared.append(found)
    return Outcome(owned, shared)


if __name__ == "__main__":
    outcome = backfill()
    print(f"{outcome.owned} pool codes have their owner")
    for s in outcome.shared:
        print(f"org {s.org_id}: code {s.code} is in pools {s.owner} (owner) and {s.series_id}: keep it in one")
