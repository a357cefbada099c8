"""The columns of a bulk CSV import row: one validator per column, and the rules they check.

A validator takes (raw cell, ImportRules) and returns the column's value or raises `RowError`,
whose message goes to the report. `SCHEMA` lists the columns in `ValidRow`'s field order; an
absent column takes its default (see csvrows). Pure: no AWS and no pydantic in here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, Literal, NamedTuple

from goodwill import clock
from goodwill.bulk.csvlines import MAX_ROWS

Mode = Literal["ADD", "SET"]

MAX_CELL_CHARS: Final = 1_000  # longer cells make the row invalid
DEFAULT_REASON: Final = "BULK_ADJUSTMENT"


# Same patterns as goodwill.models.common (a unit test keeps them equal); copied so that this
# module does not pull pydantic in.
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
EMAIL_PATTERN: Final = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
ID = re.compile(ID_PATTERN)
EMAIL = re.compile(EMAIL_PATTERN)
_BOOLEANS: Final = {"": True, "true": True, "yes": True, "1": True}
_BOOLEANS.update({"false": False, "no": False, "0": False})


class RowError(ValueError):
    """One row is invalid; the message is written to the report."""


class ValidRow(NamedTuple):
    row: int
    customer_id: str | None
    email: str | None
    points: int
    reason: str
    comment: str | None
    expires_at: str | None
    affects_tier: bool


class InvalidRow(NamedTuple):
    row: int
    customer_id: str | None
    email: str | None
    points_raw: str | None
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRules:
    allowed_reasons: Set[str]
    mode: Mode = "ADD"
    max_points: int = 100_000  # ADD: |points|
    max_balance: int = 1_000_000_000  # SET: the new balance
    max_rows: int = MAX_ROWS
    now: datetime = field(default_factory=clock.now)  # expires_at must be later

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("ImportRules.now needs a timezone")


# ---- the row schema: one validator per column, (raw cell, rules) -> value or RowError ----


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def check_customer_id(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if not value or (value.isalnum() and value.isascii() and len(value) <= 64):
        return value or None  # the common case, without the regex
    if ID.fullmatch(value) is None:
        raise RowError(f"customer_id: {_show(value)} is not an id (1-64 letters, digits, _.:@-)")
    return value


def check_email(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if value and (len(value) > 254 or EMAIL.fullmatch(value) is None):
        raise RowError(f"email: {_show(value)} is not a valid e-mail address")
    return value.lower() or None


def _points(raw: str, rules: ImportRules) -> int:
    try:
        if not raw.isascii() or "_" in raw:  # int() takes 1_000 and non-ASCII digits
            raise ValueError(raw)
        points = int(raw)  # ignores surrounding spaces
    except ValueError:
        what = f"got {_show(raw.strip())}" if raw.strip() else "it is empty"
        raise RowError(f"points: must be a whole number like 50 or -20 ({what})") from None
    if rules.mode == "ADD":
        if points == 0:
            raise RowError("points: must not be 0")
        if abs(points) > rules.max_points:
            raise RowError(f"points: must be between -{rules.max_points} and {rules.max_points}")
    elif not 0 <= points <= rules.max_balance:
        raise RowError(f"points: the new balance must be between 0 and {rules.max_balance}")
    return points


def _reason(raw: str, rules: ImportRules) -> str:
    value = raw.strip().upper() or DEFAULT_REASON
    if value not in rules.allowed_reasons:
        raise RowError(f"reason: {_show(value)} is not one of the org's reasons")
    return value


def _comment(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if len(value) > 500:
        raise RowError("comment: must be at most 500 characters")
    return value or None


def _expires_at(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if not value:
        return None
    moment = _utc(value)
    if moment is None:
        raise RowError(f"expires_at: {_show(value)} is not a time like 2026-11-23T10:00:00Z")
    if moment[0] <= rules.now:
        raise RowError("expires_at: must be in the future")
    return moment[1]


@lru_cache(maxsize=256)  # a file tends to repeat a few expiry times
def _utc(value: str) -> tuple[datetime, str] | None:
    """An ISO 8601 time with its UTC offset, in UTC (and as clock.iso writes it), else None."""
    try:
        moment = datetime.fromisoformat(value)
        utc = moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):  # OverflowError: near year 1 or 9999
        return None
    return None if utc is None else (utc, utc.isoformat(timespec="milliseconds")[:-6] + "Z")


def _affects_tier(raw: str, rules: ImportRules) -> bool:
    value = _BOOLEANS.get(raw.strip().lower())
    if value is None:
        raise RowError(f"affects_tier: {_show(raw.strip())} is not true/false/yes/no/1/0")
    return value


Check = Callable[[str, ImportRules], Any]

# Column -> validator; the order is ValidRow's field order. An absent column takes the default
# (see csvrows.check_row). Every validator refuses cells longer than MAX_CELL_CHARS.
SCHEMA: Final[dict[str, Check]] = {
    "customer_id": check_customer_id,
    "email": check_email,
    "points": _points,
    "reason": _reason,
    "comment": _comment,
    "expires_at": _expires_at,
    "affects_tier": _affects_tier,
}
IDENTIFIERS: Final = ("customer_id", "email")
# ValidRow field of each non-identifier column (customer_id and email are checked together).
FIELD = {name: at for at, name in enumerate(SCHEMA, start=1) if name not in IDENTIFIERS}
