"""GET /reports/goodwill: exact totals of a range of days, read from the daily aggregates.

A 92-day report is at most 92 queries of one small partition each (one per day: its items of the
group asked for), 8 at a time: its cost and time depend on the days and the keys, never on how
many ledger entries the org wrote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

from goodwill.auth import Principal
from goodwill.bulk.report import escape_cell
from goodwill.clock import now
from goodwill.errors import ValidationFailedError
from goodwill.repositories import keys, pages

MAX_DAYS = 92
DEFAULT_DAYS = 30
FIELDS = ("credited", "debited", "requests", "coupons")


def window(from_: date | None, to: date | None) -> tuple[date, date]:
    """The days asked for (default: the 30 days up to today, UTC); 422 when reversed or too long,
    or when the default 30 days from `from` (up to `to`) would run past year 9999 (before year 1)."""
    span = timedelta(days=DEFAULT_DAYS - 1)
    try:
        end = to or (from_ + span if from_ else now().date())
    except OverflowError:
        raise ValidationFailedError.field(
            "from", f"the {DEFAULT_DAYS} days from it run past 9999-12-31: give to as well"
        ) from None
    try:
        start = from_ or end - span
    except OverflowError:
        raise ValidationFailedError.field(
            "to", f"the {DEFAULT_DAYS} days up to it start before 0001-01-01: give from as well"
        ) from None
    if start > end:
        raise ValidationFailedError.field("from", "must not be after to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailedError.field("to", f"a report covers at most {MAX_DAYS} days")
    return start, end


def _days(start: date, end: date) -> Iterator[str]:
    for offset in range((end - start).days + 1):
        yield (start + timedelta(days=offset)).isoformat()


def _day_items(org_id: str, day: str, group: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = pages.query_page(
            ("PK", keys.report_day(org_id, day)), sort_prefix=("SK", f"{group}#"), limit=500, next_token=token
        )
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items


def report(principal: Principal, start: date, end: date, group_by: str) -> dict[str, Any]:
    days = list(_days(start, end))
    with ThreadPoolExecutor(max_workers=8) as pool:
        per_day = list(pool.map(lambda d: _day_items(principal.org_id, d, group_by), days))
    totals: dict[str, dict[str, int]] = {}
    for items in per_day:
        for item in items:
            key = str(item["SK"]).split("#", 1)[1].rsplit("#", 1)[0]  # {group}#{key}#{shard}
            row = totals.setdefault(key, dict.fromkeys(FIELDS, 0))
            for name in FIELDS:
                row[name] += int(item.get(name, 0))
    rows = [{"key": key, **values} for key, values in sorted(totals.items())]
    return {"items": rows, "from": start.isoformat(), "to": end.isoformat(), "group_by": group_by}


def to_csv(body: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["key", *FIELDS])
    for row in body["items"]:
        writer.writerow([escape_cell(row["key"]), *(row[name] for name in FIELDS)])
    return out.getvalue()
