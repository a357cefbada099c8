"""The points ledger: a balance change and its ledger entry, always in one transaction.

Optimistic concurrency: the balance carries a version; the write is conditional on the version
read (and, for debits, on the balance covering them), so concurrent adjustments never lose an
update and `current_after` on every ledger entry is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from goodwill import retry
from goodwill.clock import now_iso, ulid
from goodwill.errors import InsufficientBalanceError, ServiceUnavailableError
from goodwill.repositories import keys, table
from goodwill.repositories.table import Cancelled, Item


@dataclass(frozen=True)
class Balance:
    current: int = 0
    lifetime: int = 0
    version: int = 0

    @classmethod
    def of(cls, item: Item | None) -> Balance:
        if not item:
            return cls()
        return cls(int(item["current"]), int(item["lifetime"]), int(item["version"]))

    def view(self) -> dict[str, int]:
        return {"current": self.current, "lifetime": self.lifetime}


@dataclass(frozen=True)
class Change:
    """One adjustment of one balance, with everything its ledger entry records."""

    org_id: str
    customer_id: str
    program_id: str
    points: int
    type: str
    reason: str
    actor: str
    source: str
    affects_tier: bool = True
    comment: str | None = None
    request_id: str | None = None
    import_id: str | None = None
    expires_at: str | None = None
    transaction_id: str | None = None


def next_balance(before: Balance, points: int, affects_tier: bool, allow_negative: bool) -> Balance:
    current = before.current + points
    if points < 0 and current < 0 and not allow_negative:
        raise InsufficientBalanceError(
            f"the balance ({before.current}) does not cover a debit of {-points}",
            [{"field": "points", "message": f"current balance is {before.current}"}],
        )
    lifetime = before.lifetime + points if affects_tier else before.lifetime
    # Tier-qualifying points never go below zero, even after debits that outgrow them.
    return Balance(current, max(lifetime, 0), before.version + 1)


def balance_op(change: Change, before: Balance, after: Balance, allow_negative: bool) -> dict[str, Any]:
    names = {"#c": "current", "#l": "lifetime", "#v": "version"}
    vals: dict[str, Any] = {
        ":c": after.current,
        ":l": after.lifetime,
        ":nv": after.version,
        ":t": now_iso(),
        ":cid": change.customer_id,
        ":pid": change.program_id,
    }
    if before.version == 0:
        condition = "attribute_not_exists(#v)"
    else:
        condition = "#v = :v"
        vals[":v"] = before.version
        if change.points < 0 and not allow_negative:
            condition += " AND #c >= :need"
            vals[":need"] = -change.points
    return table.update_op(
        keys.balance(change.org_id, change.customer_id, change.program_id),
        "SET #c = :c, #l = :l, #v = :nv, updated_at = :t, customer_id = :cid, program_id = :pid",
        names=names,
        vals=vals,
        condition=condition,
    )


def ledger_entry(change: Change, after: Balance, transaction_id: str) -> Item:
    return {
        "transaction_id": transaction_id,
        "customer_id": change.customer_id,
        "program_id": change.program_id,
        "type": change.type,
        "points": change.points,
        "current_after": after.current,
        "lifetime_after": after.lifetime,
        "reason": change.reason,
        "comment": change.comment,
        "source": change.source,
        "request_id": change.request_id,
        "import_id": change.import_id,
        "actor": change.actor,
        "created_at": now_iso(),
        "expires_at": change.expires_at,
        "affects_tier": change.affects_tier,
    }


def ledger_op(change: Change, entry: Item) -> dict[str, Any]:
    return table.put_op(
        {**keys.ledger(change.org_id, change.customer_id, entry["transaction_id"]), **entry},
        condition="attribute_not_exists(PK)",
    )


def read_balance(org_id: str, customer_id: str, program_id: str) -> Balance:
    return Balance.of(table.get(keys.balance(org_id, customer_id, program_id)))


@dataclass(frozen=True)
class Applied:
    entry: Item
    balance: Balance


class ExtraOpFailed(Exception):
    """An operation riding along with the balance change failed its condition."""

    def __init__(self, cancelled: Cancelled) -> None:
        super().__init__("transaction cancelled by an accompanying write")
        self.cancelled = cancelled


ExtraOps = Callable[[Item, Balance], Sequence[dict[str, Any]]]


def apply(
    change: Change,
    allow_negative: bool,
    extra_ops: ExtraOps | None = None,
    first_read: Balance | None = None,
) -> Applied:
    """Apply `change` with its ledger entry and `extra_ops` atomically, retrying lost races.

    `extra_ops(entry, balance_after)` returns writes that must commit with the change (the request
    record, the idempotency record). If one of them fails its condition, ExtraOpFailed is raised
    and nothing was written.
    """
    before = first_read
    for _ in retry.attempts(retry.CONTENTION):
        if before is None:
            before = read_balance(change.org_id, change.customer_id, change.program_id)
        after = next_balance(before, change.points, change.affects_tier, allow_negative)
        entry = ledger_entry(change, after, change.transaction_id or ulid())
        extras = list(extra_ops(entry, after)) if extra_ops else []
        ops = [balance_op(change, before, after, allow_negative), ledger_op(change, entry), *extras]
        cancelled = table.transact(ops)
        if cancelled is None:
            return Applied(entry=entry, balance=after)
        if any(cancelled.failed(i) for i in range(2, len(ops))):
            raise ExtraOpFailed(cancelled)
        if cancelled.failed(1) and change.transaction_id:
            raise ExtraOpFailed(cancelled)  # this cause's entry exists already: applied before
        if not (cancelled.failed(0) or cancelled.retryable):
            raise cancelled.refused()
        # The balance moved under us (or a transient conflict): read it again and retry.
        before = None
    raise ServiceUnavailableError("the balance is under heavy concurrent change; retry")
