"""Adding codes to a coupon pool: all or nothing per transaction, safe to repeat, never a gap.

A pool hands out the code in slot `next_index` while `next_index < total`. An append writes, in
one transaction per CODES_PER_TRANSACTION codes, each code's slot at `total + i`, a marker per
code (`POOLED#{code}`, put only if absent) and the move of `total` (conditional on the value
read). So a slot below `total` always holds its code: a PUT that dies between two transactions
leaves a shorter pool, never a hole, and the same PUT repeated adds only the codes not yet in
the pool. Concurrent appends serialise on the series item's `total` (a lost race re-reads it).

A code is in one series of an org: each code's owner item (`keys.code_owner`, put only if absent or
already this series') goes in the same transaction, and `check` refuses, before anything is
written, a code another series holds or has issued (a code in two pools would be counted in both
`available`s and handed out by one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from goodwill import retry
from goodwill.errors import ServiceUnavailableError, ValidationFailedError
from goodwill.repositories import keys, table

# Three items per code (slot, marker, owner) plus the series: TransactWriteItems' 100 items.
CODES_PER_TRANSACTION = 33


def marker(org: str, series_id: str, code: str) -> dict[str, str]:
    return {"PK": keys.series(org, series_id)["PK"], "SK": f"POOLED#{code}"}


def check(org: str, series_id: str, codes: Sequence[str]) -> None:
    """Refuse (422 naming each `codes.{i}`) codes held or issued by another series of the org."""
    held = [(keys.code_owner(org, code), keys.coupon_code(org, code)) for code in codes]  # owner, claim
    found = table.batch_get_map([key for pair in held for key in pair], attributes=["series_id"])
    details = []
    for i, (code, pair) in enumerate(zip(codes, held, strict=True)):
        others = {found.get((k["PK"], k["SK"]), {}).get("series_id") for k in pair} - {None, series_id}
        if others:
            details.append({"field": f"codes.{i}", "message": f"{code} is in coupon series {min(map(str, others))}"})
    if details:
        named = ", ".join(d["field"] for d in details)
        raise ValidationFailedError(f"codes in another coupon series: {named}", details)


def append(org: str, series_id: str, codes: Sequence[str]) -> None:
    """Add the codes not yet in the pool, in their order, after the codes already there."""
    for start in range(0, len(codes), CODES_PER_TRANSACTION):
        _append_chunk(org, series_id, list(codes[start : start + CODES_PER_TRANSACTION]))


def _append_chunk(org: str, series_id: str, codes: list[str]) -> None:
    for _ in retry.attempts(retry.CONTENTION):
        if not codes:
            return
        series = table.get(keys.series(org, series_id)) or {}
        total = int(series.get("total", 0))
        ops = _chunk_ops(org, series_id, codes, total)
        cancelled = table.transact(ops)
        if cancelled is None:
            return
        # Reasons line up with ops: (slot, marker, owner) per code, then the series.
        if any(cancelled.failed(3 * i + 2) for i in range(len(codes))):
            check(org, series_id, codes)  # another series took a code since the check: its 422
        pooled = {code for i, code in enumerate(codes) if cancelled.failed(3 * i + 1)}
        if pooled:
            codes = [c for c in codes if c not in pooled]  # already in the pool: leave them out
        elif not (cancelled.failed(len(ops) - 1) or cancelled.retryable):
            raise cancelled.refused()
    raise ServiceUnavailableError("the coupon pool is being extended concurrently; retry")


def _chunk_ops(org: str, series_id: str, codes: list[str], total: int) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        # Slots at or past `total` are not issuable, so one left by an older append is replaced.
        ops.append(table.put_op({**keys.pool_code(org, series_id, total + i), "code": code}))
        ops.append(table.put_op({**marker(org, series_id, code), "code": code}, "attribute_not_exists(PK)"))
        ops.append(
            table.put_op(
                {**keys.code_owner(org, code), "series_id": series_id},
                "attribute_not_exists(PK) OR series_id = :sid",
                vals={":sid": series_id},
            )
        )
    ops.append(
        table.update_op(
            keys.series(org, series_id),
            "SET #t = :end",
            names={"#t": "total"},
            vals={":end": total + len(codes), ":total": total},
            condition="attribute_exists(PK) AND #t = :total",
        )
    )
    return ops


def skip_op(org: str, series_id: str, index: int) -> dict[str, Any]:
    """Move the pool past slot `index` without issuing it (its code was issued elsewhere, or the
    slot is empty: left by the append of an earlier version, which reserved slots first)."""
    return table.update_op(
        keys.series(org, series_id),
        "SET next_index = :n",
        vals={":n": index + 1, ":i": index},
        condition="next_index = :i",
    )
