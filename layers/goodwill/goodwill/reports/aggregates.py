"""Daily aggregates of the goodwill report, kept from the table's stream exactly once.

Each counted change (a ledger entry; a fulfilled coupon request) adds its credited / debited
points, its request and its coupon to four items of its org and UTC day: by reason, by actor, by
program and the day's total. Its **mark** (keyed by the change's event id) is written in the same
transaction, on the condition that it does not exist: a redelivered record finds its mark and
adds nothing. Up to 20 changes share a transaction (their increments summed per item), so a bulk
import costs ~2.6 write units per row rather than 10. Each transaction picks one of `SHARDS`
copies of the items at random: concurrent batches of one busy day (a million-row import) rarely
meet on one item, and the report sums the copies.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from goodwill.events.shapes import event_id
from goodwill.models.vocabulary import RequestStatus
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

SHARDS = 4
PER_TRANSACTION = 20
GROUPS = ("reason", "actor", "program", "day")
NO_PROGRAM = "-"  # coupons belong to no program
SEEN_KEPT_SECONDS = 3 * 24 * 3600  # longer than a stream record can be redelivered (24 h)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Count:
    org_id: str
    event_id: str
    day: str
    keys: dict[str, str]  # group -> key
    credited: int = 0
    debited: int = 0
    requests: int = 0
    coupons: int = 0


def count_of(key: Item, old: Item | None, new: Item | None) -> Count | None:
    """What one change of one item adds to the report, if anything."""
    if not new:
        return None
    sk, org = str(key["SK"]), str(key["PK"]).split("#", 2)[1]
    if sk.startswith(keys.LEDGER_PREFIX) and not old:
        points = int(new["points"])
        day = str(new["created_at"])[:10]
        groups = {"reason": new.get("reason"), "actor": new.get("actor"), "program": new.get("program_id"), "day": day}
        return Count(
            org, event_id("Points Changed", key), day, {g: str(v) for g, v in groups.items()},
            credited=max(points, 0), debited=max(-points, 0), requests=1 if new.get("request_id") else 0,
        )  # fmt: skip
    fulfilled = RequestStatus.FULFILLED.value
    if sk == "REQ" and new.get("type") == "COUPON" and new.get("status") == fulfilled:
        if (old or {}).get("status") == fulfilled:
            return None
        day = str(new.get("fulfilled_at") or new["created_at"])[:10]
        groups = {"reason": new.get("reason"), "actor": new.get("requested_by"), "program": NO_PROGRAM, "day": day}
        return Count(org, event_id("Coupon Counted", key), day, {g: str(v) for g, v in groups.items()}, 0, 0, 1, 1)
    return None


def _updates(counts: Sequence[Count], shard: int) -> list[dict[str, Any]]:
    sums: dict[tuple[str, str], list[int]] = {}
    for c in counts:
        for group in GROUPS:
            total = sums.setdefault(
                (keys.report_day(c.org_id, c.day), f"{group}#{c.keys[group]}#{shard}"), [0, 0, 0, 0]
            )
            for i, v in enumerate((c.credited, c.debited, c.requests, c.coupons)):
                total[i] += v
    return [
        table.update_op(
            {"PK": pk, "SK": sk},
            "ADD credited :c, debited :d, requests :r, coupons :n",
            vals={":c": v[0], ":d": v[1], ":r": v[2], ":n": v[3]},
        )
        for (pk, sk), v in sums.items()
    ]


def _marks(counts: Sequence[Count]) -> list[dict[str, Any]]:
    expires = int(time.time()) + SEEN_KEPT_SECONDS
    return [
        table.put_op({**keys.report_seen(c.org_id, c.event_id), "ttl": expires}, condition="attribute_not_exists(PK)")
        for c in counts
    ]


def apply(counts: Sequence[Count]) -> None:
    """Add every count exactly once (raises when DynamoDB keeps refusing: the records are retried)."""
    pending = list({c.event_id: c for c in counts}.values())
    for start in range(0, len(pending), PER_TRANSACTION):
        _apply_group(pending[start : start + PER_TRANSACTION])


def _apply_group(group: list[Count]) -> None:
    for attempt in range(MAX_ATTEMPTS):
        if not group:
            return
        cancelled = table.transact([*_marks(group), *_updates(group, random.randrange(SHARDS))])
        if cancelled is None:
            return
        counted = {i for i in range(len(group)) if cancelled.failed(i)}  # marked already: redelivered
        group = [c for i, c in enumerate(group) if i not in counted]
        if not counted:  # a conflict on a busy item: another shard, after a pause
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise RuntimeError("report aggregates kept conflicting; the stream records will be retried")
