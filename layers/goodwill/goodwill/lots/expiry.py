"""The expiry run: expire lots whose time has come, and remind customers before they do.

Started on a schedule (EventBridge Scheduler -> statemachine/expire_points.asl.json), it reads the
due-date index (GSI4), one shard at a time, up to the run's start time, and settles each balance
found: every lot past its expiry becomes one EXPIRY ledger entry (its remainder, never more than
`current`), the balance change and the entries in one transaction, conditional on the balance's
version. A retried run, two runs at once or a debit racing the run cannot expire a lot twice or
expire points that were spent: whoever writes second reads the balance again, and the lot is gone
(or smaller) by then. Reminders (POINTS_EXPIRING) are marked sent on the lot in the same
transaction that writes their notice, so each is sent at most once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

from goodwill import retry
from goodwill.clock import now_iso, ulid
from goodwill.errors import ServiceUnavailableError
from goodwill.lots import model as lots_model
from goodwill.lots import notices
from goodwill.lots.model import Lot
from goodwill.models.config import OrgConfig
from goodwill.points import ledger
from goodwill.repositories import due, keys, table
from goodwill.repositories.table import Item
from goodwill.services.config import get_config

REASON: Final = "EXPIRED"
PAGES_PER_TASK: Final = 50  # a task settles at most this many index pages, then hands back a cursor
SYSTEM: Final = "system"


@dataclass(frozen=True)
class Settled:
    expired: int = 0  # lots expired
    reminded: int = 0  # reminders written


def plan(now: str | None = None) -> dict[str, Any]:
    """One item per index shard, all settled up to the same moment: the run's start."""
    until = now or now_iso()
    return {"until": until, "shards": [{"shard": s, "until": until} for s in range(keys.DUE_SHARDS)]}


def run_shard(shard: int, until: str, cursor: str | None = None, seconds: float = 600.0) -> dict[str, Any]:
    """Settle the balances of one shard due by `until`, for up to `seconds`; the cursor says where
    to go on (the workflow loops until `done`)."""
    deadline = time.monotonic() + seconds
    expired = reminded = 0
    for _ in range(PAGES_PER_TASK):
        page = due.page(shard, until, cursor)
        # One BatchGetItem for the page's balances; a balance that moved since is read again.
        wanted = [{"PK": pk, "SK": sk} for pk, sk in page.keys]
        found = table.batch_get_map(wanted) if wanted else {}
        for pk, sk in page.keys:
            settled = settle(pk, sk, until, found.get((pk, sk)))
            expired, reminded = expired + settled.expired, reminded + settled.reminded
        cursor = page.cursor
        if cursor is None or time.monotonic() > deadline:
            break
    return {
        "shard": shard,
        "until": until,
        "cursor": cursor,
        "done": cursor is None,
        "expired": expired,
        "reminded": reminded,
    }


def settle(pk: str, sk: str, until: str, first_read: Item | None = None) -> Settled:
    """Expire and remind what is due on one balance by `until` (safe to repeat)."""
    item = first_read
    for _ in retry.attempts(retry.CONTENTION):
        if item is None:
            item = table.get({"PK": pk, "SK": sk})
        if item is None or not item.get("lots"):
            return Settled()
        before = ledger.Balance.of(item)
        org_id = pk.split("#")[1]
        config = get_config(org_id)
        gone, kept = lots_model.expired(before.lots, until)
        reminders, kept = lots_model.to_remind(kept, until)
        if not gone and not reminders:
            return Settled()  # the index lagged behind the item, or another run was first
        ops = _operations(org_id, item, before, gone, kept, reminders, config)
        cancelled = table.transact(ops)
        if cancelled is None:
            return Settled(len(gone), len(reminders) if config.points.expiry_reminder_days else 0)
        if not (cancelled.failed(0) or cancelled.retryable):
            raise cancelled.refused()
        item = None  # the balance moved under us: read it again
    raise ServiceUnavailableError("a balance is under heavy concurrent change; the next run settles it")


def _operations(
    org_id: str,
    item: Item,
    before: ledger.Balance,
    gone: list[Lot],
    kept: tuple[Lot, ...],
    reminders: list[Lot],
    config: OrgConfig,
) -> list[dict[str, Any]]:
    customer_id, program_id = str(item["customer_id"]), str(item["program_id"])
    current, entries = before.current, []
    for lot in gone:  # soonest first: each entry's current_after is exact
        amount = min(lot.remaining, max(current, 0))
        if amount <= 0:
            continue
        current -= amount
        change = _expiry_change(org_id, customer_id, program_id, lot, amount)
        entries.append((change, ledger.ledger_entry(change, ledger.Balance(current, before.lifetime), ulid())))
    after = ledger.Balance(current, before.lifetime, before.version + 1, kept)
    total = before.current - current
    summary = _expiry_change(org_id, customer_id, program_id, None, total)
    ops = [ledger.balance_op(summary, before, after, allow_negative=True)]
    ops += [ledger.ledger_op(change, entry) for change, entry in entries]
    if entries and config.points.notify_on_expiry:
        ops.append(notices.expired_op(org_id, customer_id, program_id, total, gone[0].expires_at, entries[-1][1]))
    if config.points.expiry_reminder_days:
        ops += [notices.expiring_op(org_id, customer_id, program_id, lot, current) for lot in reminders]
    return ops


def _expiry_change(org_id: str, customer_id: str, program_id: str, lot: Lot | None, amount: int) -> ledger.Change:
    return ledger.Change(
        org_id=org_id,
        customer_id=customer_id,
        program_id=program_id,
        points=-amount,
        type="EXPIRY",
        reason=REASON,
        actor=SYSTEM,
        source="SYSTEM",
        affects_tier=False,
        expires_at=lot.expires_at if lot else None,
        expired_lot=lot.lot_id if lot else None,
    )
