"""Apply the rows of one chunk of a bulk import: batched reads, batched transactions, each row once.

A chunk holds every row of its customers (imports.partition), applied in file order. Every
applied row is a ledger entry with its balance change in one transaction (contract §5); a
customer's next rows share one balance write (plan), and several customers share a
TransactWriteItems (at most 100 items). Exactly once: a row's ledger entry id derives from the
import and the row number and is put with attribute_not_exists, and the balance records the last
row of the import it decided, so a crashed, redelivered or retried chunk applies nothing twice
and decides no row differently. A balance that moved since it was read is read again.

Reads are batched too (BatchGetItem, 100 keys a request) and read only what a row needs: the
profile's key (does the customer exist?) and the balance's current, lifetime, version and mark.

The balance is written with a Put of every attribute ledger.balance_op sets, on condition that
its version is still the one read: the same optimistic concurrency (every writer bumps the
version, so an equal version means an unchanged item), and about six times cheaper than an
UpdateExpression in moto, which the local run and the tests execute.

Throttling is a steady state of a big import on a new table, not an error: a throttled
transaction (cancelled with ThrottlingError, or refused after the SDK's own retries) waits with
jittered back-off and goes again; only a chunk that settles nothing for MAX_STALLED_ROUNDS rounds
in a row gives up (the workflow retries it, and a resumed import continues it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.exceptions import ClientError

from goodwill.bulk.csvfile import DUPLICATE_CUSTOMER, InvalidRow, ValidRow
from goodwill.bulk.plan import (
    BALANCE_ATTRIBUTES,
    MAX_ITEMS_PER_TRANSACTION,
    Group,
    Job,
    Row,
    balance_key,
    plan,
)
from goodwill.bulk.report import ReportLine, Status, failed_line
from goodwill.errors import ServiceUnavailableError
from goodwill.repositories import imports_records, keys, table
from goodwill.repositories.table import Cancelled, Item
from goodwill.retry import Policy, pause

MAX_STALLED_ROUNDS: Final = 30  # transactions in a row that settle no row: give the chunk back
TAKEN: Final = "ConditionalCheckFailed"
THROTTLED_CODES: Final = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
RETRYABLE: Final = frozenset({"None", "TransactionConflict", "ThrottlingError"})  # cancellation reasons
# Waits between rounds that settle nothing: conflicts clear fast, throttling takes longer.
CONFLICT: Final = Policy(attempts=MAX_STALLED_ROUNDS, base=0.004, cap=0.25)
THROTTLED: Final = Policy(attempts=MAX_STALLED_ROUNDS, base=0.05, cap=5.0)

__all__ = ["Job", "apply_rows"]


@dataclass
class _Chunk:
    job: Job
    lines: dict[int, ReportLine] = field(default_factory=dict)
    balances: dict[str, Item | None] = field(default_factory=dict)  # as last read or written

    def settle(self, item: Row, status: Status, error: str | None = None, transaction_id: str | None = None) -> None:
        row = item.row
        customer_id = item.customer_id or row.customer_id
        self.lines[row.row] = ReportLine(row.row, customer_id, row.email, row.points, status, error, transaction_id)


def apply_rows(
    job: Job, rows: Sequence[ValidRow | InvalidRow], owners: Mapping[int, str] | None = None
) -> list[ReportLine]:
    """One report line per row, in row order; applied (or, in a dry run, checked) rows included.
    `owners`: the customer of each row given by e-mail, by row, as the scan resolved them (an
    e-mail row not in it names nobody); None: resolve the e-mails here."""
    chunk = _Chunk(job)
    valid: list[ValidRow] = []
    for row in rows:
        if isinstance(row, InvalidRow):
            chunk.lines[row.row] = failed_line(row)
        else:
            valid.append(row)
    pending = _resolve(chunk, valid, owners)
    if job.dry_run:
        _simulate(chunk, pending)
    else:
        _commit(chunk, pending)
    return [chunk.lines[row.row] for row in rows]


def _owners(job: Job, rows: list[ValidRow]) -> dict[int, str]:
    by_email = {row.email for row in rows if row.email and not row.customer_id}
    claims = imports_records.batch_get((keys.email(job.org_id, e) for e in by_email), ["customer_id"])
    found = {}
    for row in rows:
        claim = claims.get(_pair(keys.email(job.org_id, row.email))) if row.email and not row.customer_id else None
        if claim:
            found[row.row] = str(claim["customer_id"])
    return found


def _resolve(chunk: _Chunk, rows: list[ValidRow], owners: Mapping[int, str] | None) -> list[Row]:
    """Customers by id or e-mail, with their balances: BatchGetItem, 100 keys a request."""
    job = chunk.job
    owner = _owners(job, rows) if owners is None else owners
    ids = {row.customer_id or owner.get(row.row) for row in rows} - {None, ""}
    balances = imports_records.batch_get((balance_key(job, c) for c in ids if c), BALANCE_ATTRIBUTES)
    profiles = imports_records.batch_get((keys.customer(job.org_id, c) for c in ids if c), ())
    resolved: list[Row] = []
    seen: set[str] = set()
    for row in rows:
        customer_id = row.customer_id or owner.get(row.row)
        if not customer_id:
            chunk.settle(Row(row, ""), "FAILED", f"no customer has the e-mail {row.email}")
        elif _pair(keys.customer(job.org_id, customer_id)) not in profiles:
            chunk.settle(Row(row, customer_id), "FAILED", _not_found(customer_id))
        elif job.mode == "SET" and customer_id in seen:
            chunk.settle(Row(row, customer_id), "FAILED", DUPLICATE_CUSTOMER)
        else:
            seen.add(customer_id)
            resolved.append(Row(row, customer_id))
            chunk.balances[customer_id] = balances.get(_pair(balance_key(job, customer_id)))
    return _decided_before(chunk, resolved)


def _decided_before(chunk: _Chunk, rows: list[Row]) -> list[Row]:
    """Settle the rows an earlier run of this chunk decided (the balance's mark is at or after
    them): applied when their entry exists, failed when not. Returns the rows still to apply."""
    job = chunk.job
    done = [r for r in rows if r.row.row <= job.decided_row(chunk.balances.get(r.customer_id))]
    if not done or job.dry_run:
        return rows
    entry_keys = {r.row.row: keys.ledger(job.org_id, r.customer_id, job.transaction_id(r.row.row)) for r in done}
    found = imports_records.batch_get(entry_keys.values(), ())
    for item in done:
        if _pair(entry_keys[item.row.row]) in found:
            chunk.settle(item, "APPLIED", transaction_id=job.transaction_id(item.row.row))
        else:
            chunk.settle(item, "FAILED", "insufficient balance (decided when this chunk first ran)")
    settled = {r.row.row for r in done}
    return [r for r in rows if r.row.row not in settled]


def _not_found(customer_id: str) -> str:
    return f"customer {customer_id} not found"


def _pair(key: dict[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


def _simulate(chunk: _Chunk, rows: list[Row]) -> None:
    """Dry run: every check a real run makes, in row order, with nothing written."""
    for customer_id, mine in _by_customer(rows).items():
        group = plan(chunk.job, customer_id, chunk.balances.get(customer_id), mine)
        for item in mine:
            failure = group.failures.get(item.row.row)
            chunk.settle(item, "FAILED" if failure else "VALID", failure)


def _by_customer(rows: list[Row]) -> dict[str, list[Row]]:
    """Each customer's rows in file order, customers in the order of their first row."""
    queue: dict[str, list[Row]] = {}
    for item in rows:
        queue.setdefault(item.customer_id, []).append(item)
    return queue


def _next_groups(chunk: _Chunk, queue: dict[str, list[Row]], customers: int) -> list[Group]:
    """Up to `customers` customers' next rows, planned, as many as fit in one transaction. Rows
    that cannot apply and share no write with others are settled at once."""
    job = chunk.job
    groups: list[Group] = []
    items = 0
    for customer_id in list(queue):
        room = (MAX_ITEMS_PER_TRANSACTION - items - 1) // job.items_per_row
        if room < 1 or len(groups) >= customers:
            break
        group = plan(job, customer_id, chunk.balances.get(customer_id), queue[customer_id][:room])
        if group.ops:
            groups.append(group)
            items += len(group.ops)
            continue
        for item in group.rows:  # every row fails against this balance: nothing to write
            chunk.settle(item, "FAILED", group.failures[item.row.row])
        _drop(queue, customer_id, len(group.rows))
    return groups


def _drop(queue: dict[str, list[Row]], customer_id: str, count: int) -> None:
    rest = queue[customer_id][count:]
    if rest:
        queue[customer_id] = rest
    else:
        del queue[customer_id]


def _commit(chunk: _Chunk, pending: list[Row]) -> None:
    queue = _by_customer(pending)
    customers = MAX_ITEMS_PER_TRANSACTION
    stalled = 0
    while queue:
        groups = _next_groups(chunk, queue, customers)
        if not groups:
            continue
        cancelled = _transact([op for g in groups for op in g.ops])
        if cancelled is None:
            for group in groups:
                _settle(chunk, group)
                _drop(queue, group.customer_id, len(group.rows))
            stalled, customers = 0, min(customers * 2, MAX_ITEMS_PER_TRANSACTION)
            continue
        if _sort_out(chunk, queue, groups, cancelled):
            stalled = 0
            continue
        stalled += 1  # nothing settled: smaller transactions, down to one customer, after a pause
        customers = max(1, customers // 2)
        if stalled >= MAX_STALLED_ROUNDS:
            raise ServiceUnavailableError("the balances of this chunk stayed throttled or contended; retry")
        throttled = any(code == "ThrottlingError" for code in cancelled.reasons)
        pause(stalled, THROTTLED if throttled else CONFLICT)


def _transact(ops: list[dict[str, Any]]) -> Cancelled | None:
    """table.transact, with a throttled request (after the SDK's retries) as a cancellation."""
    try:
        return table.transact(ops)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in THROTTLED_CODES:
            raise
        return Cancelled(reasons=["ThrottlingError"] * len(ops))


def _settle(chunk: _Chunk, group: Group) -> None:
    chunk.balances[group.customer_id] = group.balance
    for item in group.rows:
        failure = group.failures.get(item.row.row)
        if failure:
            chunk.settle(item, "FAILED", failure)
        else:
            chunk.settle(item, "APPLIED", transaction_id=chunk.job.transaction_id(item.row.row))


def _sort_out(chunk: _Chunk, queue: dict[str, list[Row]], groups: list[Group], cancelled: Cancelled) -> bool:
    """Settle the rows the cancellation reasons decide (an entry that exists: applied by another
    run); re-read balances that moved. True when a row was settled or a stale balance found."""
    reasons = cancelled.reasons
    stale: set[str] = set()
    settled = False
    at = 0
    for group in groups:
        mine = list(zip(group.roles, reasons[at : at + len(group.ops)], strict=False))
        at += len(group.ops)
        codes = {code for _, code in mine} - RETRYABLE
        if codes - {TAKEN}:  # e.g. ValidationError: a bug, which a retry would only repeat
            raise RuntimeError(f"a bulk transaction was cancelled for {sorted(codes)}")
        if codes:
            stale.add(group.customer_id)
        taken = {row for (role, row), code in mine if role == "entry" and code == TAKEN}
        if taken:  # an earlier run applied these rows (a prefix of the customer's rows)
            for item in group.rows:
                if item.row.row in taken:
                    chunk.settle(item, "APPLIED", transaction_id=chunk.job.transaction_id(item.row.row))
            queue[group.customer_id] = [r for r in queue[group.customer_id] if r.row.row not in taken]
            if not queue[group.customer_id]:
                del queue[group.customer_id]
            settled = True
    if stale and any(_refresh(chunk, stale)):
        settled = True
    return settled


def _refresh(chunk: _Chunk, customers: set[str]) -> list[bool]:
    """Read the balances again; one flag per customer: did it change?"""
    job = chunk.job
    found = imports_records.batch_get((balance_key(job, c) for c in customers), BALANCE_ATTRIBUTES)
    changed = []
    for customer_id in customers:
        fresh = found.get(_pair(balance_key(job, customer_id)))
        before = chunk.balances.get(customer_id)
        changed.append((fresh or {}).get("version") != (before or {}).get("version"))
        chunk.balances[customer_id] = fresh
    return changed
