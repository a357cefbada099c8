"""points/ledger.py's rules without a table: balance arithmetic, affects_tier, no overdraw
unless allowed, the write's conditions, and what a cancelled transaction means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from goodwill import retry
from goodwill.errors import InsufficientBalanceError, ServiceUnavailableError
from goodwill.lots.model import Lot
from goodwill.points import ledger
from goodwill.points.ledger import Balance, Change
from goodwill.repositories import table as table_module
from goodwill.repositories.extra_ops import ExtraOpFailed
from goodwill.repositories.table import Cancelled, TransactionRefusedError

LOT = "2027-06-01T00:00:00.000Z"


def change(points: int, **extra: Any) -> Change:
    fields: dict[str, Any] = {"org_id": "acme", "customer_id": "c1", "program_id": "p", "points": points}
    fields |= {"type": "CREDIT" if points > 0 else "DEBIT", "reason": "R", "actor": "a", "source": "API"}
    return Change(**(fields | extra))


def test_credit_adds_to_current_and_lifetime_and_bumps_the_version() -> None:
    after = ledger.next_balance(Balance(10, 30, 4), 5, affects_tier=True, allow_negative=False)
    assert (after.current, after.lifetime, after.version) == (15, 35, 5)


def test_points_not_affecting_tier_leave_lifetime_alone() -> None:
    after = ledger.next_balance(Balance(10, 30, 1), 5, affects_tier=False, allow_negative=False)
    assert (after.current, after.lifetime) == (15, 30)


def test_debit_beyond_the_balance_is_refused_unless_allowed() -> None:
    with pytest.raises(InsufficientBalanceError) as refused:
        ledger.next_balance(Balance(10, 10, 1), -11, affects_tier=True, allow_negative=False)
    assert refused.value.details[0]["field"] == "points"
    assert ledger.next_balance(Balance(10, 10, 1), -10, True, False).current == 0
    assert ledger.next_balance(Balance(10, 10, 1), -11, True, allow_negative=True).current == -1


def test_lifetime_never_goes_below_zero() -> None:
    assert ledger.next_balance(Balance(10, 3, 1), -10, True, False).lifetime == 0


def test_a_credit_pays_back_a_negative_balance_before_anything_can_expire() -> None:
    after = ledger.next_balance(Balance(-4, 0, 1), 10, True, False, lot=Lot(LOT, "T1", 10))
    assert after.current == 6 and after.lots == (Lot(LOT, "T1", 6),)


def test_a_debit_takes_from_expiring_lots_before_the_open_points() -> None:
    before = Balance(15, 15, 1, (Lot(LOT, "T1", 10),))  # 10 expiring, 5 open
    after = ledger.next_balance(before, -7, True, False)
    assert after.lots == (Lot(LOT, "T1", 3),) and after.open == 5 and after.spent_from == LOT


def test_reversing_a_credit_needs_its_own_lot_to_cover_it() -> None:
    before = Balance(15, 15, 1, (Lot(LOT, "T1", 4),))
    with pytest.raises(InsufficientBalanceError) as refused:
        ledger.next_balance(before, -10, True, False, covered_by="T1")
    assert refused.value.details[0]["field"] == "transaction_id"
    assert ledger.next_balance(before, -4, True, False, covered_by="T1").lots == ()


def test_credit_lot_only_for_credits_with_an_expiry() -> None:
    assert ledger.credit_lot(change(5, expires_at="2027-06-01T00:00:00Z"), "T1") == Lot(LOT, "T1", 5)
    assert ledger.credit_lot(change(5), "T1") is None
    assert ledger.credit_lot(change(-5, expires_at="2027-06-01T00:00:00Z"), "T1") is None


def test_the_balance_write_is_conditional_on_the_version_read_and_on_covering_a_debit() -> None:
    debit, before = change(-3), Balance(10, 10, 7)
    after = ledger.next_balance(before, -3, True, False)
    update = ledger.balance_op(debit, before, after, allow_negative=False)["Update"]
    assert update["ConditionExpression"] == "#v = :v AND #c >= :need"
    assert update["ExpressionAttributeValues"][":v"] == {"N": "7"}
    assert update["ExpressionAttributeValues"][":need"] == {"N": "3"}
    allowed = ledger.balance_op(debit, before, after, allow_negative=True)["Update"]
    assert allowed["ConditionExpression"] == "#v = :v"
    first = ledger.balance_op(change(3), Balance(), ledger.next_balance(Balance(), 3, True, False), False)
    assert first["Update"]["ConditionExpression"] == "attribute_not_exists(#v)"


def test_the_entry_records_the_balance_after_and_is_written_once() -> None:
    after = ledger.next_balance(Balance(10, 20, 1), -4, affects_tier=False, allow_negative=False)
    entry = ledger.ledger_entry(change(-4, affects_tier=False), after, "T9")
    assert (entry["current_after"], entry["lifetime_after"], entry["affects_tier"]) == (6, 20, False)
    put = ledger.ledger_op(change(-4), entry)["Put"]
    assert put["ConditionExpression"] == "attribute_not_exists(PK)" and put["Item"]["SK"] == {"S": "TXN#T9"}


class FakeTable:
    """table.transact answering from a script; read_balance from a fixed balance."""

    def __init__(self, outcomes: Sequence[Cancelled | None]) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[list[dict[str, Any]]] = []

    def transact(self, ops: Sequence[dict[str, Any]]) -> Cancelled | None:
        self.sent.append(list(ops))
        return self.outcomes.pop(0)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(*outcomes: Cancelled | None) -> FakeTable:
        table = FakeTable(outcomes)
        monkeypatch.setattr(table_module, "transact", table.transact)
        monkeypatch.setattr(ledger, "read_balance", lambda *_: Balance(10, 10, 1))
        monkeypatch.setattr(retry, "pause", lambda attempt, policy: None)
        return table

    return install


def test_a_lost_race_is_read_again_and_retried(fake: Any) -> None:
    table = fake(Cancelled(["ConditionalCheckFailed", "None"]), Cancelled(["TransactionConflict", "None"]), None)
    applied = ledger.apply(change(5), allow_negative=False)
    assert applied.balance.current == 15 and len(table.sent) == 3


def test_a_cancellation_no_retry_fixes_is_raised_not_retried(fake: Any) -> None:
    table = fake(Cancelled(["ValidationError", "None"]))
    with pytest.raises(TransactionRefusedError):
        ledger.apply(change(5), allow_negative=False)
    assert len(table.sent) == 1


def test_a_failed_accompanying_write_cancels_the_change(fake: Any) -> None:
    fake(Cancelled(["None", "None", "ConditionalCheckFailed"]))
    with pytest.raises(ExtraOpFailed):
        ledger.apply(change(5), allow_negative=False, extra_ops=lambda entry, after: [{"Put": {}}])


def test_an_entry_of_the_same_cause_already_written_is_not_applied_again(fake: Any) -> None:
    fake(Cancelled(["None", "ConditionalCheckFailed"]))
    with pytest.raises(ExtraOpFailed):
        ledger.apply(change(5, transaction_id="REQ-1"), allow_negative=False)


def test_endless_races_end_in_a_503(fake: Any) -> None:
    table = fake(*[Cancelled(["ConditionalCheckFailed", "None"])] * retry.CONTENTION.attempts)
    with pytest.raises(ServiceUnavailableError):
        ledger.apply(change(5), allow_negative=False)
    assert len(table.sent) == retry.CONTENTION.attempts
