"""Lots as values: credit, consume soonest-expiring first, expire, and the next time a balance is due.

Pure functions over tuples of Lot; the ledger stores them on the balance item (`lots`), compactly as
lists `[lot_id, expires_at, remaining, remind_at]` (and, on a merged lot, the ids merged into it).
A balance keeps at most MAX_LOTS lots: a credit that would make one more merges the two lots that
expire closest together into the later one, so no point ever expires earlier than promised (the
merged lot expires with the later id, and answers for the credits merged into it, up to
MAX_MERGED of them, so they stay reversible), and the balance item stays a few KB whatever the
customer's history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from itertools import pairwise
from typing import Any, Final, NamedTuple

from goodwill.clock import iso, parse_iso

MAX_LOTS: Final = 50
MAX_MERGED: Final = 20  # ids a merged lot remembers (the latest): 50 x 20 ids stays under ~40 KB
EXPIRING_SHOWN: Final = 5


class Lot(NamedTuple):
    expires_at: str  # ISO 8601 UTC, the same format everywhere, so strings sort as times
    lot_id: str  # the transaction id of the credit that made it
    remaining: int
    remind_at: str | None = None  # when to send POINTS_EXPIRING; None once sent (or never)
    merged: tuple[str, ...] = ()  # the credits whose lots were merged into this one

    def holds(self, lot_id: str) -> bool:
        return self.lot_id == lot_id or lot_id in self.merged


def from_item(raw: Any) -> tuple[Lot, ...]:
    """The lots stored on a balance item (absent on balances older than lots: none)."""
    if not raw:
        return ()
    lots = [
        Lot(
            str(r[1]),
            str(r[0]),
            int(r[2]),
            str(r[3]) if len(r) > 3 and r[3] else None,
            tuple(str(m) for m in r[4]) if len(r) > 4 else (),
        )
        for r in raw
    ]
    return tuple(sorted(lots))


def to_item(lots: Iterable[Lot]) -> list[list[Any]]:
    return [
        [lot.lot_id, lot.expires_at, lot.remaining, lot.remind_at, *([list(lot.merged)] if lot.merged else [])]
        for lot in lots
    ]


def total(lots: Iterable[Lot]) -> int:
    return sum(lot.remaining for lot in lots)


def normal_time(value: str) -> str:
    """Every stored expiry in one format (milliseconds, Z), so that lots sort by string."""
    return iso(parse_iso(value))


def new_lot(lot_id: str, points: int, expires_at: str, reminder_days: int | None, now: str) -> Lot:
    expires_at = normal_time(expires_at)
    remind_at = None
    if reminder_days is not None:
        remind = iso(parse_iso(expires_at) - timedelta(days=reminder_days))
        # A lot that is already inside its reminder window when credited is not reminded: the credit's
        # own message is the news.
        remind_at = remind if remind > now else None
    return Lot(expires_at, lot_id, points, remind_at)


def add(lots: Sequence[Lot], lot: Lot) -> tuple[Lot, ...]:
    merged = sorted([*lots, lot])
    while len(merged) > MAX_LOTS:
        gaps = [(parse_iso(b.expires_at) - parse_iso(a.expires_at), i) for i, (a, b) in enumerate(pairwise(merged))]
        _, i = min(gaps)
        first, second = merged[i], merged[i + 1]
        reminders = [r for r in (first.remind_at, second.remind_at) if r]
        ids = sorted({*first.merged, first.lot_id, *second.merged} - {second.lot_id})[-MAX_MERGED:]
        joined = second._replace(
            remaining=first.remaining + second.remaining,
            remind_at=max(reminders, default=None),
            merged=tuple(ids),
        )
        merged[i : i + 2] = [joined]
    return tuple(merged)


def give_back(lots: Sequence[Lot], parts: Iterable[Lot]) -> tuple[Lot, ...]:
    """`lots` with `parts` (what a debit took, lot by lot) returned to the lots they came from: a
    lot still held grows again (keeping its reminder state), a lot emptied since comes back."""
    result = tuple(lots)
    for part in parts:
        held = [i for i, lot in enumerate(result) if lot.holds(part.lot_id) and lot.expires_at == part.expires_at]
        if held:
            i = held[0]
            result = (*result[:i], result[i]._replace(remaining=result[i].remaining + part.remaining), *result[i + 1 :])
        else:
            result = add(result, part)
    return result


def parts_to_item(parts: Iterable[Lot]) -> list[list[Any]]:
    """What a debit's ledger entry remembers of the lots it took from: [lot_id, expires_at, taken]
    and, from a merged lot, the credits merged into it (so they stay reversible once it is back)."""
    return [
        [part.lot_id, part.expires_at, part.remaining, *([list(part.merged)] if part.merged else [])] for part in parts
    ]


def parts_from_item(raw: Any) -> tuple[Lot, ...]:
    return tuple(
        Lot(str(r[1]), str(r[0]), int(r[2]), merged=tuple(str(m) for m in r[3]) if len(r) > 3 else ())
        for r in raw or ()
    )


class Consumed(NamedTuple):
    lots: tuple[Lot, ...]  # what is left
    taken: int  # points taken from lots (the rest of the debit comes from the open lot)
    soonest: str | None  # the soonest expiry among the lots taken from
    parts: tuple[Lot, ...] = ()  # what was taken, lot by lot (remaining: the points taken)


def consume(lots: Sequence[Lot], points: int, first: str | None = None) -> Consumed:
    """Take up to `points` from the lots: lot `first` (a reversal's own credit) before the others,
    then soonest-expiring first. Emptied lots are dropped."""
    ordered = sorted(lots, key=lambda lot: (first is None or not lot.holds(first), lot))
    left: list[Lot] = []
    parts: list[Lot] = []
    need, soonest = points, None
    for lot in ordered:
        take = min(need, lot.remaining)
        if take > 0:
            need -= take
            soonest = min(soonest or lot.expires_at, lot.expires_at)
            parts.append(Lot(lot.expires_at, lot.lot_id, take, merged=lot.merged))
        if lot.remaining - take > 0:
            left.append(lot._replace(remaining=lot.remaining - take))
    return Consumed(tuple(sorted(left)), points - need, soonest, tuple(parts))


def remainder_of(lots: Iterable[Lot], lot_id: str) -> int:
    return sum(lot.remaining for lot in lots if lot.holds(lot_id))


def due_at(lots: Iterable[Lot]) -> str | None:
    """When the balance next needs the expiry run: the soonest reminder or expiry; None: never."""
    times = [t for lot in lots for t in (lot.remind_at, lot.expires_at) if t]
    return min(times, default=None)


def expired(lots: Sequence[Lot], now: str) -> tuple[list[Lot], tuple[Lot, ...]]:
    """(lots whose time has come, the lots that stay)."""
    gone = [lot for lot in lots if lot.expires_at <= now]
    return gone, tuple(lot for lot in lots if lot.expires_at > now)


def to_remind(lots: Sequence[Lot], now: str) -> tuple[list[Lot], tuple[Lot, ...]]:
    """(lots whose reminder is due now and that do not expire in this run, the lots with those
    reminders marked sent)."""
    due = [lot for lot in lots if lot.remind_at and lot.remind_at <= now < lot.expires_at]
    ids = {lot.lot_id for lot in due}
    return due, tuple(lot._replace(remind_at=None) if lot.lot_id in ids else lot for lot in lots)


def expiring_view(lots: Iterable[Lot]) -> list[dict[str, Any]]:
    return [{"points": lot.remaining, "expires_at": lot.expires_at} for lot in sorted(lots)[:EXPIRING_SHOWN]]


def credit_terms(
    points: int, expires_at: str | None, default_days: int | None, reminder_days: int | None, now: str
) -> tuple[str | None, str | None]:
    """(expires_at, remind_at) of a credit: its own expiry, else the org's default_expiry_days."""
    if points <= 0:
        return expires_at, None
    if expires_at is None and default_days is not None:
        expires_at = iso(parse_iso(now) + timedelta(days=default_days))
    if expires_at is None:
        return None, None
    lot = new_lot("", points, expires_at, reminder_days, now)
    return lot.expires_at, lot.remind_at
