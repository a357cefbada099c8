"""Reverse the rows of one chunk of an import revert, each at most once.

A chunk holds every applied row of its customers; each customer's rows are reversed last row
first, with the single reversal's semantics and code (lots.reversal): a `REVERSAL` entry with
the opposite points and `reverses`, `reversed_by` on the original, a reversed credit taking back
its own lot's remainder (FAILED when spent and negative balances are not allowed).

The import's cost shape (bulk.apply): BatchGetItem reads of the originals and the
balances; a customer's rows share ONE balance Put (guarded by the version read); customers share
TransactWriteItems of at most 100 items (a row: its reversal entry and its original's update).

Exactly once: a reversal's id derives from the revert and the row, put with attribute_not_exists,
and the original is claimed with attribute_not_exists(reversed_by); a cancelled transaction
re-reads its customers: an original reversed by this revert is REVERSED, by anything else SKIPPED.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from goodwill import clock
from goodwill.bulk.apply import THROTTLED_CODES
from goodwill.errors import GoodwillError, InsufficientBalanceError, ServiceUnavailableError
from goodwill.lots import reversal
from goodwill.models.config import OrgConfig
from goodwill.points import ledger
from goodwill.repositories import imports_records, keys, table
from goodwill.repositories.table import Item
from goodwill.retry import Policy, pause

MAX_ITEMS: Final = 100  # TransactWriteItems' limit
MAX_ROWS_PER_GROUP: Final = (MAX_ITEMS - 1) // 2  # a balance, then two items a row
MAX_STALLED_ROUNDS: Final = 30
BACK_OFF: Final = Policy(attempts=MAX_STALLED_ROUNDS, base=0.01, cap=5.0)
REASON: Final = "IMPORT_REVERTED"
ORIGINAL_ATTRIBUTES: Final = (
    *("transaction_id", "customer_id", "program_id", "type", "points", "affects_tier", "expires_at"),
    *("spent_expires_at", "spent_lots", "lifetime_taken", "import_id", "reversed_by", "reversal_request"),
    *("own_lot", "created_at"),
)
BALANCE_ATTRIBUTES: Final = ("current", "lifetime", "version", "lots", "bulk_row")
OK_REASONS: Final = frozenset({"None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"})

# One line of the revert report: row, customer_id, email, points, status, error, transaction_id.
Line = tuple[int, str, str | None, int | None, str, str | None, str | None]


@dataclass(frozen=True)
class RevertRow:
    """A row the import applied: its number, customer, e-mail cell and ledger entry."""

    row: int
    customer_id: str
    email: str | None
    transaction_id: str


@dataclass(frozen=True)
class RevertJob:
    org_id: str
    import_id: str
    program_id: str
    revert_id: str  # a ULID made when the revert started: the time and seed of its entries
    actor: str
    comment: str | None
    allow_negative: bool
    config: OrgConfig

    def reversal_id(self, row: int) -> str:
        """The reversal entry id of a row: the same in every run of this revert."""
        return clock.ulid(at_ms=clock.ulid_ms(self.revert_id), seed=f"{self.revert_id}#{row}")

    def entry_key(self, row: RevertRow) -> dict[str, str]:
        return keys.ledger(self.org_id, row.customer_id, row.transaction_id)

    def balance_key(self, customer_id: str) -> dict[str, str]:
        return keys.balance(self.org_id, customer_id, self.program_id)


@dataclass
class Group:
    """One customer's next rows, planned against the balance last read."""

    customer_id: str
    rows: list[RevertRow]
    lines: dict[int, Line] = field(default_factory=dict)
    ops: list[dict[str, Any]] = field(default_factory=list)
    balance: Item | None = None


@dataclass
class _State:
    job: RevertJob
    originals: dict[tuple[str, str], Item] = field(default_factory=dict)
    balances: dict[str, Item | None] = field(default_factory=dict)
    lines: dict[int, Line] = field(default_factory=dict)


def revert_rows(job: RevertJob, rows: Sequence[RevertRow]) -> list[Line]:
    """One report line per row, in row order: REVERSED, SKIPPED or FAILED (with the reason)."""
    state = _State(job)
    queue: dict[str, list[RevertRow]] = {}
    for row in sorted(rows, key=lambda r: r.row, reverse=True):  # each customer's last row first
        queue.setdefault(row.customer_id, []).append(row)
    _read(state, queue)
    limit, stalled = MAX_ITEMS, 0
    while queue:
        groups = _next_groups(state, queue, limit)
        cancelled = _commit(state, queue, groups, limit)
        if not cancelled:
            stalled, limit = 0, MAX_ITEMS
            continue
        stalled += 1
        if stalled >= MAX_STALLED_ROUNDS:
            raise ServiceUnavailableError("the balances of this revert chunk stayed contended or throttled; retry")
        limit = max(1, limit // 2)  # smaller transactions, down to one customer, after a pause
        pause(stalled, BACK_OFF)
        _read(state, {c: queue[c] for c in cancelled})
    return [state.lines[row.row] for row in sorted(rows, key=lambda r: r.row)]


def _pair(key: dict[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


def _read(state: _State, queue: dict[str, list[RevertRow]]) -> None:
    """The original entries and balances of these customers, as they are now (BatchGetItem)."""
    job = state.job
    entries = [job.entry_key(r) for rows in queue.values() for r in rows]
    state.originals.update(imports_records.batch_get(entries, ORIGINAL_ATTRIBUTES))
    balances = imports_records.batch_get((job.balance_key(c) for c in queue), BALANCE_ATTRIBUTES)
    for customer_id in queue:
        state.balances[customer_id] = balances.get(_pair(job.balance_key(customer_id)))


def _next_groups(state: _State, queue: dict[str, list[RevertRow]], limit: int) -> list[Group]:
    """The next rows of as many customers as fit in `limit` items, planned. Customers whose rows
    need no write (all decided already) are settled and leave the queue at once."""
    groups: list[Group] = []
    items = 0
    for customer_id in list(queue):
        room = min(MAX_ROWS_PER_GROUP, (limit - items - 1) // 2)
        if room < 1 and groups:
            break
        group = plan(state.job, customer_id, state.balances.get(customer_id), queue[customer_id][: max(room, 1)], state)
        if group.ops:
            groups.append(group)
            items += len(group.ops)
            continue
        state.lines.update(group.lines)
        _drop(queue, customer_id, len(group.rows))
    return groups


def _drop(queue: dict[str, list[RevertRow]], customer_id: str, count: int) -> None:
    rest = queue[customer_id][count:]
    if rest:
        queue[customer_id] = rest
    else:
        del queue[customer_id]


def _commit(state: _State, queue: dict[str, list[RevertRow]], groups: list[Group], limit: int) -> set[str]:
    """Write the groups, `limit` items a transaction; the customers whose transaction was cancelled."""
    cancelled: set[str] = set()
    batch: list[Group] = []
    for group in [*groups, None]:
        if group is not None and sum(len(g.ops) for g in batch) + len(group.ops) <= limit:
            batch.append(group)
            continue
        if batch and not _transact(state, [op for g in batch for op in g.ops]):
            for done in batch:
                state.lines.update(done.lines)
                state.balances[done.customer_id] = done.balance
                for row in done.rows:
                    state.originals.pop(_pair(state.job.entry_key(row)), None)
                _drop(queue, done.customer_id, len(done.rows))
        elif batch:
            cancelled.update(g.customer_id for g in batch)
        batch = [group] if group is not None else []
    return cancelled


def _transact(state: _State, ops: list[dict[str, Any]]) -> bool:
    """True when the transaction was cancelled (contention, a condition, throttling)."""
    try:
        cancelled = table.transact(ops)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in THROTTLED_CODES:
            raise
        return True
    if cancelled is None:
        return False
    odd = set(cancelled.reasons) - OK_REASONS
    if odd:  # e.g. ValidationError: a bug, which a retry would only repeat
        raise RuntimeError(f"a revert transaction was cancelled for {sorted(odd)}")
    return True


def plan(job: RevertJob, customer_id: str, stored: Item | None, rows: list[RevertRow], state: _State) -> Group:
    """Each row (last first) against the balance the reversals before it leave."""
    group = Group(customer_id, rows)
    before = ledger.Balance.of(stored)
    after = before
    change: ledger.Change | None = None
    for row in rows:
        original = state.originals.get(_pair(job.entry_key(row)))
        decided = _decided(job, row, original)
        if decided is not None:
            group.lines[row.row] = decided
            continue
        assert original is not None
        try:
            held = reversal.reversible(job.org_id, original)
        except GoodwillError as exc:
            group.lines[row.row] = _line(row, -int(original["points"]), "FAILED", exc.message)
            continue
        change = _change(job, row, original)
        try:
            after = ledger.step(after, change, job.allow_negative)
        except InsufficientBalanceError as exc:
            group.lines[row.row] = _line(row, change.points, "FAILED", f"insufficient balance: {exc.message}")
            continue
        entry = ledger.ledger_entry(change, after, str(change.transaction_id))
        claim = reversal.claim_op(job.org_id, original, entry["transaction_id"], held, applied=entry["transaction_id"])
        group.ops += [ledger.ledger_op(change, entry), claim]
        group.lines[row.row] = _line(row, change.points, "REVERSED", None, entry["transaction_id"])
    if change is not None and group.ops:
        group.balance = _balance_item(job, customer_id, stored, before, after, change)
        group.ops.insert(0, _balance_op(group.balance, before))
    return group


def _decided(job: RevertJob, row: RevertRow, original: Item | None) -> Line | None:
    """The line of a row that needs no write: reversed by this revert already (an earlier run),
    reversed otherwise, nothing to reverse, or not found. None: the row is to be reversed."""
    if original is None or original.get("import_id") != job.import_id:
        return _line(row, None, "FAILED", f"the import's ledger entry {row.transaction_id} was not found")
    points = -int(original["points"])
    ours = job.reversal_id(row.row)
    if original.get("reversed_by") == ours:
        return _line(row, points, "REVERSED", None, ours)
    if original.get("reversed_by"):
        by = str(original["reversed_by"])
        return _line(row, points, "SKIPPED", f"already reversed by transaction {by}", by)
    if not points:
        return _line(row, 0, "SKIPPED", "nothing to reverse: the row changed no points")
    return None


def _line(row: RevertRow, points: int | None, status: str, error: str | None, txn: str | None = None) -> Line:
    return (row.row, row.customer_id, row.email, points, status, error, txn)


def _change(job: RevertJob, row: RevertRow, original: Item) -> ledger.Change:
    """The single reversal's change (lots.reversal), as this revert's entry for the row."""
    record = {
        "points": -int(original["points"]),
        "customer_id": row.customer_id,
        "program_id": original["program_id"],
        "reason": REASON,
        "requested_by": job.actor,
        "source": "BULK_IMPORT",
        "affects_tier": bool(original.get("affects_tier", True)),
        "comment": job.comment,
        "request_id": None,
    }
    change = reversal.reversal_change(job.org_id, record, original, job.config)
    return dataclasses.replace(change, transaction_id=job.reversal_id(row.row), import_id=job.import_id)


def _balance_item(
    job: RevertJob, customer_id: str, stored: Item | None, before: ledger.Balance, after: ledger.Balance, last: Any
) -> Item:
    """The balance after the group, as a Put of every attribute (bulk.plan does the same)."""
    item = {
        **job.balance_key(customer_id),
        "customer_id": customer_id,
        "program_id": job.program_id,
        "current": after.current,
        "lifetime": after.lifetime,
        "version": before.version + 1,
        "updated_at": clock.now_iso(),
        **ledger.lots_attrs(last, before, after)[0],
    }
    if stored and stored.get("bulk_row"):  # another import's mark of the rows it decided stays
        item["bulk_row"] = stored["bulk_row"]
    return item


def _balance_op(item: Item, before: ledger.Balance) -> dict[str, Any]:
    if before.version:
        return table.put_op(item, condition="#v = :v", names={"#v": "version"}, vals={":v": before.version})
    return table.put_op(item, condition="attribute_not_exists(#v)", names={"#v": "version"})
