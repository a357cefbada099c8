"""The points ledger: a balance change and its ledger entry, always in one transaction.

Optimistic concurrency: the balance carries a version; the write is conditional on the version
read (and, for debits, on the balance covering them), so concurrent adjustments never lose an
update and `current_after` on every ledger entry is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from goodwill import retry
from goodwill.clock import now_iso, ulid
from goodwill.errors import InsufficientBalanceError, ServiceUnavailableError
from goodwill.lots import model as lots_model
from goodwill.lots.model import Lot
from goodwill.repositories import keys, table
from goodwill.repositories.extra_ops import ExtraOpFailed
from goodwill.repositories.table import Item


class Balance(NamedTuple):
    current: int = 0
    lifetime: int = 0
    version: int = 0
    lots: tuple[Lot, ...] = ()  # expiring lots with an unspent remainder, soonest first
    spent_from: str | None = None  # the soonest expiry among the lots the change to it took from
    spent_lots: tuple[Lot, ...] = ()  # what the change to it took, lot by lot
    tier_taken: int = 0  # a debit: the tier points it took (less than its points when lifetime ran out)

    @classmethod
    def of(cls, item: Item | None) -> Balance:
        if not item:
            return cls()
        lots = lots_model.from_item(item.get("lots"))
        return cls(int(item["current"]), int(item["lifetime"]), int(item["version"]), lots)

    @property
    def open(self) -> int:
        """The open lot (points without expiry); negative when the balance is."""
        return self.current - lots_model.total(self.lots)

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
    remind_at: str | None = None  # a credit's lot: when to remind the customer (None: never)
    reverses: str | None = None  # a REVERSAL: the entry it reverses
    covered_by: str | None = None  # a reversed credit: its lot id, or OPEN; must cover the debit
    expired_lot: str | None = None  # an EXPIRY: the lot (credit) that expired
    give_back: tuple[Lot, ...] = ()  # a reversed debit: the points it took, back to their lots
    tier_points: int | None = None  # a reversed debit: the tier points it took (None: `points`)


def request_change(org_id: str, record: Item, points: int, **terms: Any) -> Change:
    """The ledger change a request makes: its customer, program, reason, requester, source, tier
    flag, comment and id, with `points` and the change's own terms (type, expiry, what it reverses)."""
    return Change(
        org_id=org_id,
        customer_id=record["customer_id"],
        program_id=record["program_id"],
        points=points,
        reason=record["reason"],
        actor=record["requested_by"],
        source=record["source"],
        affects_tier=bool(record.get("affects_tier", True)),
        comment=record.get("comment"),
        request_id=record["request_id"],
        **terms,
    )


OPEN = "OPEN"


def next_balance(
    before: Balance,
    points: int,
    affects_tier: bool,
    allow_negative: bool,
    lot: Lot | None = None,
    covered_by: str | None = None,
    give_back: Sequence[Lot] = (),
    tier_points: int | None = None,
) -> Balance:
    """The balance after `points`: a credit adds `lot` (its expiring remainder), or a reversed
    debit returns `give_back` to the lots it took them from; a debit takes from the lots
    soonest-expiring first, then from the open lot (a reversed credit: from its own lot)."""
    current = before.current + points
    if points < 0 and current < 0 and not allow_negative:
        raise InsufficientBalanceError(
            f"the balance ({before.current}) does not cover a debit of {-points}",
            [{"field": "points", "message": f"current balance is {before.current}"}],
        )
    lifetime = before.lifetime + (points if tier_points is None else tier_points) if affects_tier else before.lifetime
    lots, spent_from = before.lots, None
    spent_lots: tuple[Lot, ...] = ()
    returned = [lot] if lot is not None else list(give_back)
    if points > 0 and returned:
        lots = credit_lots(lots, returned, min(points, max(current, 0) - lots_model.total(lots)))
    elif points < 0:
        take = -points
        if covered_by is not None:
            available = before.open if covered_by == OPEN else lots_model.remainder_of(lots, covered_by)
            if take > available and not allow_negative:
                raise InsufficientBalanceError(
                    f"{take - max(available, 0)} of the {take} points to reverse are spent or expired",
                    [{"field": "transaction_id", "message": f"only {max(available, 0)} of its points are unspent"}],
                )
            if covered_by == OPEN:
                take -= max(min(before.open, take), 0)
        consumed = lots_model.consume(lots, take, first=covered_by)
        lots, spent_from, spent_lots = consumed.lots, consumed.soonest, consumed.parts
    # Tier-qualifying points never go below zero, even after debits that outgrow them.
    lifetime = max(lifetime, 0)
    tier_taken = before.lifetime - lifetime if points < 0 and affects_tier else 0
    return Balance(current, lifetime, before.version + 1, lots, spent_from, spent_lots, tier_taken)


def credit_lots(lots: tuple[Lot, ...], returned: Sequence[Lot], share: int) -> tuple[Lot, ...]:
    """A credit first pays back a negative balance; only its `share` left can expire (given back,
    the latest-expiring lots first)."""
    kept: list[Lot] = []
    for part in sorted(returned, reverse=True):
        if share <= 0:
            break
        kept.append(part._replace(remaining=min(part.remaining, share)))
        share -= kept[-1].remaining
    return lots_model.give_back(lots, reversed(kept))


def step(before: Balance, change: Change, allow_negative: bool, transaction_id: str | None = None) -> Balance:
    """The balance after `change` (its own lot, or what it gives back, or what it must cover); a
    part given back under lot id "" is the change's own lot."""
    own = transaction_id or str(change.transaction_id)
    back = tuple(part._replace(lot_id=part.lot_id or own) for part in change.give_back)
    lot, covered_by, tier_points = credit_lot(change, own), change.covered_by, change.tier_points
    return next_balance(before, change.points, change.affects_tier, allow_negative, lot, covered_by, back, tier_points)


def credit_lot(change: Change, transaction_id: str) -> Lot | None:
    if change.points <= 0 or not change.expires_at or change.give_back:
        return None
    return Lot(lots_model.normal_time(change.expires_at), transaction_id, change.points, change.remind_at)


def lots_attrs(change: Change, before: Balance, after: Balance) -> tuple[dict[str, Any], list[str]]:
    """What a balance write sets for its lots (and the due-date index), and what it removes."""
    if not before.lots and not after.lots:
        return {}, []  # nothing expiring, before or after: the item stays as it was (no index)
    due = lots_model.due_at(after.lots)
    sets: dict[str, Any] = {"lots": lots_model.to_item(after.lots)}
    if due is None:
        return sets, ["GSI4PK", "GSI4SK"]
    sets.update(keys.due_index(change.org_id, change.customer_id, change.program_id, due))
    return sets, []


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
    update = "SET #c = :c, #l = :l, #v = :nv, updated_at = :t, customer_id = :cid, program_id = :pid"
    sets, removes = lots_attrs(change, before, after)
    for i, (name, value) in enumerate(sets.items()):
        names[f"#x{i}"], vals[f":x{i}"] = name, value
        update += f", #x{i} = :x{i}"
    if removes:
        update += " REMOVE " + ", ".join(removes)
    return table.update_op(
        keys.balance(change.org_id, change.customer_id, change.program_id),
        update,
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
        "reverses": change.reverses,
        "expired_lot": change.expired_lot,
        # A debit: the soonest expiry of the lots it took from, what it took lot by lot (its
        # reversal gives them back there) and the tier points it took (its reversal returns those).
        "spent_expires_at": after.spent_from,
        **({"spent_lots": lots_model.parts_to_item(after.spent_lots)} if after.spent_lots else {}),
        **({"lifetime_taken": after.tier_taken} if change.points < 0 and change.affects_tier else {}),
        **({"own_lot": True} if credit_lot(change, transaction_id) else {}),  # its reversal takes from it
    }


def ledger_op(change: Change, entry: Item) -> dict[str, Any]:
    return table.put_op(
        {**keys.ledger(change.org_id, change.customer_id, entry["transaction_id"]), **entry},
        condition="attribute_not_exists(PK)",
    )


def read_balance(org_id: str, customer_id: str, program_id: str) -> Balance:
    return Balance.of(table.get(keys.balance(org_id, customer_id, program_id)))


class Applied(NamedTuple):
    entry: Item
    balance: Balance


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
        transaction_id = change.transaction_id or ulid()
        after = step(before, change, allow_negative, transaction_id)
        entry = ledger_entry(change, after, transaction_id)
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
