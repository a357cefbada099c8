"""The lot arithmetic: soonest-expiring first, a reversed credit's own lot first, the bound on lots."""

from __future__ import annotations

from goodwill.lots import model
from goodwill.lots.model import Lot


def lot(day: int, points: int, lot_id: str | None = None) -> Lot:
    return Lot(f"2027-01-{day:02d}T00:00:00.000Z", lot_id or f"L{day:02d}", points)


def test_consume_takes_soonest_first_and_reports_the_soonest_expiry_taken() -> None:
    taken = model.consume([lot(20, 10), lot(5, 10), lot(9, 10)], 15)
    assert taken.lots == (lot(9, 5), lot(20, 10)) and taken.taken == 15
    assert taken.soonest == lot(5, 0).expires_at


def test_consume_takes_the_named_lot_first() -> None:
    taken = model.consume([lot(5, 10), lot(9, 10)], 12, first="L09")
    assert taken.lots == (lot(5, 8),)


def test_consume_beyond_the_lots_takes_only_what_they_hold() -> None:
    assert model.consume([lot(5, 10)], 25).taken == 10


def test_a_full_balance_merges_the_two_closest_lots_into_the_later_one() -> None:
    lots = tuple(lot(1 + i % 28, 1, f"L{i:03d}") for i in range(model.MAX_LOTS))
    merged = model.add(lots, Lot("2027-03-01T00:00:00.000Z", "NEW", 5))
    assert len(merged) == model.MAX_LOTS and model.total(merged) == model.MAX_LOTS + 5
    # nothing expires earlier than it was promised: every expiry is one of the originals
    assert {m.expires_at for m in merged} <= {x.expires_at for x in (*lots, merged[-1])}


def test_reminders_are_due_before_expiry_and_never_inside_the_window() -> None:
    fresh = model.new_lot("L", 10, "2027-01-31T00:00:00Z", 7, now="2027-01-01T00:00:00.000Z")
    assert fresh.remind_at == "2027-01-24T00:00:00.000Z"
    late = model.new_lot("L", 10, "2027-01-05T00:00:00Z", 7, now="2027-01-01T00:00:00.000Z")
    assert late.remind_at is None
    assert model.due_at([fresh]) == fresh.remind_at


def test_a_merged_lot_answers_for_the_credits_merged_into_it() -> None:
    lots = tuple(lot(1 + i % 28, 1, f"L{i:03d}") for i in range(model.MAX_LOTS))
    merged = model.add(lots, Lot("2027-03-01T00:00:00.000Z", "NEW", 5))
    gone = {x.lot_id for x in lots} - {m.lot_id for m in merged}
    assert len(gone) == 1
    (lost,) = gone
    assert model.remainder_of(merged, lost) >= 1
    assert model.from_item(model.to_item(merged)) == merged  # the merged ids are stored
    taken = model.consume(merged, 1, first=lost)
    assert model.total(taken.lots) == model.total(merged) - 1
    assert taken.parts[0].lot_id != lost and lost in next(m.merged for m in merged if m.lot_id == taken.parts[0].lot_id)
