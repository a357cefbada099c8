"""Plan the writes of one customer's next rows of a bulk import: a ledger entry per row, each with
its exact current_after and lifetime_after, and ONE balance write for all of them, in one
transaction (contract §5). A customer's rows are applied by one chunk in file order
(imports.partition), so a run of them can share the balance write: n rows cost n + 1 items
instead of 2n, which is where a bulk row's write units go (README, "On paper").

The balance Put also records the last row of this import it decided (`bulk_row`): a chunk that
crashed after a commit and runs again knows that every earlier row of that customer was decided
then (an entry: applied; none: failed), so it does not apply a row that failed the first time
against a balance that has grown since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from goodwill import clock
from goodwill.approvals import records
from goodwill.bulk.csvfile import ValidRow
from goodwill.errors import InsufficientBalanceError
from goodwill.lots import model as lots_model
from goodwill.points import ledger
from goodwill.points.changes import change_type
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

MAX_ITEMS_PER_TRANSACTION: Final = 100
# What a row needs of a balance; its Put writes every attribute ledger.balance_op writes.
BALANCE_ATTRIBUTES: Final = ("current", "lifetime", "version", "lots", "bulk_row")


@dataclass(frozen=True)
class Job:
    """What applying a row needs to know about its import."""

    org_id: str
    import_id: str
    program_id: str
    mode: str  # ADD | SET
    dry_run: bool
    notify: bool
    actor: str
    allow_negative: bool
    expiry_days: int | None = None  # the org's points.default_expiry_days
    reminder_days: int | None = None  # the org's points.expiry_reminder_days

    def transaction_id(self, row: int) -> str:
        """The row's ledger entry id: the same for every run of this import."""
        return clock.ulid(at_ms=clock.ulid_ms(self.import_id), seed=f"{self.import_id}#{row}")

    @property
    def items_per_row(self) -> int:
        """The ledger entry; notify_customers: the request (plus one balance per customer)."""
        return 1 + self.notify

    def decided_row(self, balance: Item | None) -> int:
        """The last row of this import the balance's latest bulk write decided, 0 if none."""
        mark = str((balance or {}).get("bulk_row") or "")
        import_id, _, row = mark.rpartition("#")
        return int(row) if import_id == self.import_id and row.isdigit() else 0


@dataclass(frozen=True)
class Row:
    row: ValidRow
    customer_id: str


@dataclass
class Group:
    """One customer's next rows, planned against the balance last seen."""

    customer_id: str
    rows: list[Row]
    failures: dict[int, str] = field(default_factory=dict)  # row -> why it does not apply
    balance: Item | None = None  # the balance after the rows, when any row applies
    ops: list[dict[str, Any]] = field(default_factory=list)
    roles: list[tuple[str, int]] = field(default_factory=list)  # (balance | entry | request, row)


def balance_key(job: Job, customer_id: str) -> dict[str, str]:
    return keys.balance(job.org_id, customer_id, job.program_id)


def plan(job: Job, customer_id: str, stored: Item | None, rows: list[Row]) -> Group:
    """Each row in file order against the balance the rows before it leave."""
    group = Group(customer_id, rows)
    before = ledger.Balance.of(stored)
    state = before
    entries: list[dict[str, Any]] = []
    change: ledger.Change | None = None
    for item in rows:
        row = item.row
        points = row.points if job.mode == "ADD" else row.points - state.current
        change = _change(job, item, points)
        lot = ledger.credit_lot(change, str(change.transaction_id))
        try:
            allow_negative = job.allow_negative or job.mode == "SET"
            state = ledger.next_balance(state, points, row.affects_tier, allow_negative, lot)
        except InsufficientBalanceError as exc:
            group.failures[row.row] = f"insufficient balance: {exc.message}"
            continue
        entry = ledger.ledger_entry(change, state, str(change.transaction_id))
        entries.append(ledger.ledger_op(change, entry))
        group.roles.append(("entry", row.row))
        if job.notify and points:  # a SET to the balance it had already changes nothing to tell
            entries.append(records.put_new_op(job.org_id, _notification_request(job, item, entry)))
            group.roles.append(("request", row.row))
    if not entries or change is None:
        return group
    group.balance = {
        **balance_key(job, customer_id),
        "customer_id": customer_id,
        "program_id": job.program_id,
        "current": state.current,
        "lifetime": state.lifetime,
        "version": before.version + 1,
        "updated_at": clock.now_iso(),
        "bulk_row": f"{job.import_id}#{rows[-1].row.row}",
        # A Put: what it does not set is removed (the lots, and their due-date index, are set here).
        **ledger.lots_attrs(change, before, state)[0],
    }
    if before.version:
        guard: dict[str, Any] = {"condition": "#v = :v", "names": {"#v": "version"}, "vals": {":v": before.version}}
    else:
        guard = {"condition": "attribute_not_exists(#v)", "names": {"#v": "version"}}
    group.ops = [table.put_op(group.balance, **guard), *entries]
    group.roles.insert(0, ("balance", 0))
    return group


def _change(job: Job, item: Row, points: int) -> ledger.Change:
    row = item.row
    expires_at, remind_at = lots_model.credit_terms(
        points, row.expires_at, job.expiry_days, job.reminder_days, clock.now_iso()
    )
    return ledger.Change(
        org_id=job.org_id,
        customer_id=item.customer_id,
        program_id=job.program_id,
        points=points,
        type="BULK_SET" if job.mode == "SET" else change_type(points, bulk=True),
        reason=row.reason,
        actor=job.actor,
        source="BULK_IMPORT",
        affects_tier=row.affects_tier,
        comment=row.comment,
        import_id=job.import_id,
        expires_at=expires_at,
        transaction_id=job.transaction_id(row.row),
        remind_at=remind_at,
    )


def _notification_request(job: Job, item: Row, entry: Item) -> Item:
    """A fulfilled request for the row, so the stream dispatcher runs the notification workflow for
    it exactly as for a request made through the API (same templates, channels and records)."""
    at, request_id = entry["created_at"], entry["transaction_id"]
    history = [
        records.history_entry("created", job.actor, at, import_id=job.import_id),
        records.history_entry("fulfilled", "system", at, transaction_id=request_id),
    ]
    fields = {
        "type": "POINTS",
        "customer_id": item.customer_id,
        "program_id": job.program_id,
        "points": entry["points"],
        "reason": entry["reason"],
        "comment": entry["comment"],
        "expires_at": entry["expires_at"],
        "affects_tier": entry["affects_tier"],
        "notify": True,
        "source": "BULK_IMPORT",
        "import_id": job.import_id,
        "requested_by": job.actor,
        "status": "FULFILLED",
        "transaction_id": request_id,
        "created_at": at,
        "fulfilled_at": at,
        "decided_by": "system",
        "decided_at": at,
        "history": history,
    }
    return records.new_record(job.org_id, request_id, fields)
