"""Reversing one ledger entry (section 13): a goodwill request of type REVERSAL.

The reversal is a new entry `type: REVERSAL` with the opposite points and `reverses`; the original
gets `reversed_by` in the same transaction. Reversing a credit takes back its own lot's remainder
(or, for points without expiry, the open lot's); what is spent already makes it 409
INSUFFICIENT_BALANCE unless the org allows negative balances. Reversing a debit gives each point
back to the lot it was taken from, with that lot's expiry (the debit's entry lists them), the rest
to the open lot, and the tier the points it took.

At most once: the original entry carries `reversal_request` (the request reversing it), claimed
with a condition in the transaction that writes the request, pending or applied. A claim whose
request was rejected, expired or failed is given up to the next reversal.
"""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.approvals.lifecycle import Outcome, fulfilled_record
from goodwill.auth import Principal
from goodwill.clock import now_iso, ulid
from goodwill.customers.profiles import ledger_view
from goodwill.errors import AlreadyReversedError, NotFoundError, NotReversibleError, ValidationFailedError
from goodwill.lots import model as lots_model
from goodwill.models.config import OrgConfig
from goodwill.models.requests import ReverseFingerprint, ReverseRequest
from goodwill.models.vocabulary import RequestStatus, RequestType
from goodwill.points import ledger, limits
from goodwill.points.grants import held_for_limit
from goodwill.repositories import keys, table
from goodwill.repositories.extra_ops import ExtraOpFailed
from goodwill.repositories.table import Item
from goodwill.services import idempotency
from goodwill.services.config import get_config
from goodwill.services.idempotency import IdempotencyKey

SCOPE = "reverse"
NOT_REVERSIBLE = {"REVERSAL", "EXPIRY"}
# A claim held by a request in one of these is given up: that reversal will never apply.
GIVEN_UP = {RequestStatus.REJECTED.value, RequestStatus.EXPIRED.value, RequestStatus.FAILED.value}
LOTS_SINCE = "2026-12-04T15:53:34.000Z"  # the release whose credits with an expiry made lots (cd028a8)


def reverse(
    principal: Principal, customer_id: str, transaction_id: str, body: ReverseRequest, key: str | None
) -> Outcome:
    org = principal.org_id
    config = get_config(org)
    named = ReverseFingerprint(customer_id=customer_id, transaction_id=transaction_id, **body.model_dump())
    ikey = idempotency.make_key(org, SCOPE, key, named)
    wanted = [keys.customer(org, customer_id), keys.ledger(org, customer_id, transaction_id)]
    if ikey:
        wanted.append(ikey.item_key)
    day = limits.today()
    if limits.limited(principal, config):  # a reversed debit gives points: it counts like a credit
        wanted.append(keys.agent_day(org, principal.actor, day))
    found = table.batch_get_map(wanted)
    if ikey and (stored := idempotency.replay(ikey, found.get((ikey.item_key["PK"], ikey.item_key["SK"])))):
        return Outcome(stored.status_code, stored.body)
    # After the replay: a retry of a reversal made is answered as it was, whatever the rules say now.
    if body.reason not in config.reason_codes():
        raise ValidationFailedError.field("reason", f"{body.reason} is not a reason configured for this org")
    if (wanted[0]["PK"], wanted[0]["SK"]) not in found:
        raise NotFoundError(f"customer {customer_id} not found")
    original = found.get((wanted[1]["PK"], wanted[1]["SK"]))
    if original is None:
        raise NotFoundError(f"transaction {transaction_id} not found")
    held = reversible(org, original)
    record = _new_record(principal, original, body)
    allowance = None
    if record["points"] > 0 and limits.limited(principal, config):
        allowance = limits.allowance(principal, config, found.get((wanted[-1]["PK"], wanted[-1]["SK"])), day)
    try:
        if config.needs_points_approval(record["points"]):
            balance = ledger.read_balance(org, customer_id, original["program_id"])
            change = reversal_change(org, record, original, config)
            allow = config.points.allow_negative_balance
            ledger.step(balance, change, allow)
            return _queue(ikey, record, claim_op(org, original, record["request_id"], held))
        if allowance and not allowance.allows(record["points"]):
            return _queue(ikey, held_for_limit(record, allowance), claim_op(org, original, record["request_id"], held))
        return _apply_now(org, config, ikey, record, original, held, allowance)
    except ExtraOpFailed as exc:
        if ikey and (stored := idempotency.load(ikey)):
            return Outcome(stored.status_code, stored.body)
        if allowance and exc.cancelled.failed(len(exc.cancelled.reasons) - 1):
            # The agent's other credits used up the day's limit since it was read: this one waits.
            fresh = limits.allowance(principal, config, table.get(allowance.key()), day)
            claim = claim_op(org, original, record["request_id"], held)
            return _queue(ikey, held_for_limit(record, fresh), claim)
        raise AlreadyReversedError(f"transaction {transaction_id} is being reversed by another request") from None


def reversible(org_id: str, original: Item) -> str | None:
    """Raise unless `original` may be reversed now; the given-up claim to replace, if any."""
    if original.get("type") in NOT_REVERSIBLE or not original.get("points"):
        raise NotReversibleError(f"a {original.get('type')} entry cannot be reversed")
    if original.get("reversed_by"):
        raise AlreadyReversedError(f"transaction {original['transaction_id']} is reversed by {original['reversed_by']}")
    claim = original.get("reversal_request")
    if claim is None:
        return None
    holder = records.get(org_id, str(claim))
    if holder is not None and holder.get("status") not in GIVEN_UP:
        raise AlreadyReversedError(f"transaction {original['transaction_id']} has a reversal waiting: {claim}")
    return str(claim)


def _new_record(principal: Principal, original: Item, body: ReverseRequest) -> Item:
    record = records.new_record(
        principal.org_id,
        ulid(),
        {
            "type": RequestType.REVERSAL.value,
            "customer_id": original["customer_id"],
            "program_id": original["program_id"],
            "points": -int(original["points"]),
            "reverses": original["transaction_id"],
            "reason": body.reason,
            "comment": body.comment,
            "affects_tier": bool(original.get("affects_tier", True)),
            "notify": body.notify,
            "source": principal.source.value,
            "requested_by": principal.actor,
            "status": RequestStatus.PENDING_APPROVAL.value,
        },
    )
    record["created_at"] = record_time = now_iso()
    record["history"] = [records.history_entry("created", principal.actor, record_time)]
    return record


def reversal_change(org_id: str, record: Item, original: Item, config: OrgConfig) -> ledger.Change:
    points = int(record["points"])
    expires_at = remind_at = covered_by = tier_points = None
    give_back: tuple[lots_model.Lot, ...] = ()
    days, now = config.points.expiry_reminder_days, now_iso()
    if points < 0:  # a credit reversed: its own lot (or the open one) must hold the points
        covered_by = original["transaction_id"] if has_lot(original) else ledger.OPEN
    elif "spent_lots" in original or "lifetime_taken" in original:
        # A debit reversed: each point back to the lot it was taken from, with that lot's expiry
        # (so the credit that made the lot stays reversible); the tier gets back what it lost.
        give_back = returned(lots_model.parts_from_item(original.get("spent_lots")), days, now)
        expires_at = min((p.expires_at for p in give_back), default=None)
        if "lifetime_taken" in original:
            tier_points = int(original["lifetime_taken"])
    else:  # a debit from before lots were remembered: back as a lot expiring with the soonest
        expires_at, remind_at = lots_model.credit_terms(points, original.get("spent_expires_at"), None, days, now)
    return ledger.request_change(
        org_id,
        record,
        points,
        type="REVERSAL",
        expires_at=expires_at,
        remind_at=remind_at,
        reverses=original["transaction_id"],
        covered_by=covered_by,
        give_back=give_back,
        tier_points=tier_points,
    )


def has_lot(credit: Item) -> bool:
    """Whether a credit's points are a lot of its own: marked `own_lot` since 2026-12-06; before,
    every credit with `expires_at` made one since lots came (LOTS_SINCE). One recorded before lots
    existed made none (its `expires_at` was only recorded): its points are open points."""
    if credit.get("own_lot"):
        return True
    return bool(credit.get("expires_at")) and str(credit.get("created_at", "")) >= LOTS_SINCE


def returned(taken: tuple[lots_model.Lot, ...], days: int | None, now: str) -> tuple[lots_model.Lot, ...]:
    """What a reversed debit gives back: each part to the lot it came from (a merged lot still
    answering for the credits merged into it). The parts whose lots have expired since come back as
    one lot of the reversal's own (lot id "": the ledger names it by the reversal's transaction),
    which the next run expires: an expired lot never comes back to expire a second time."""
    live = [p for p in taken if p.expires_at > now]
    back = [lots_model.new_lot(p.lot_id, p.remaining, p.expires_at, days, now)._replace(merged=p.merged) for p in live]
    if gone := [p for p in taken if p.expires_at <= now]:
        back.append(lots_model.Lot(min(p.expires_at for p in gone), "", sum(p.remaining for p in gone)))
    return tuple(back)


def claim_op(
    org_id: str, original: Item, request_id: str, held: str | None, applied: str | None = None
) -> dict[str, Any]:
    """The original entry names the request reversing it (and, once applied, the reversal)."""
    condition = "attribute_not_exists(reversed_by) AND "
    vals: dict[str, Any] = {":r": request_id}
    if held:
        condition += "(attribute_not_exists(reversal_request) OR reversal_request = :held OR reversal_request = :r)"
        vals[":held"] = held
    else:
        condition += "(attribute_not_exists(reversal_request) OR reversal_request = :r)"
    update = "SET reversal_request = :r"
    if applied:
        update += ", reversed_by = :t"
        vals[":t"] = applied
    key = keys.ledger(org_id, original["customer_id"], original["transaction_id"])
    return table.update_op(key, update, vals=vals, condition=condition)


def _queue(ikey: IdempotencyKey | None, record: Item, claim: dict[str, Any]) -> Outcome:
    body = {"request": records.view(record)}
    ops = [records.put_new_op(record["org_id"], record), claim]
    if ikey:
        ops.append(idempotency.record_op(ikey, 202, body, record["request_id"]))
    if table.transact(ops) is not None:
        # The request id is fresh: the claim (or a concurrent twin's key) is what failed.
        raise ExtraOpFailed(table.Cancelled(reasons=[]))
    return Outcome(202, body)


def _apply_now(
    org_id: str,
    config: OrgConfig,
    ikey: IdempotencyKey | None,
    record: Item,
    original: Item,
    held: str | None,
    allowance: limits.Allowance | None = None,
) -> Outcome:
    change = reversal_change(org_id, record, original, config)
    response: dict[str, Any] = {}

    def ride_along(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        fulfilled = fulfilled_record(record, entry, "auto")
        response.clear()
        response.update(
            {"request": records.view(fulfilled), "transaction": ledger_view(entry), "balance": after.view()}
        )
        ops = [
            records.put_new_op(org_id, fulfilled),
            claim_op(org_id, original, record["request_id"], held, applied=entry["transaction_id"]),
        ]
        if ikey:
            ops.append(idempotency.record_op(ikey, 201, response, record["request_id"]))
        if allowance:  # last: reverse() reads a refusal of the limit from the last reason
            ops.append(limits.count_op(allowance, int(record["points"])))
        return ops

    ledger.apply(change, config.points.allow_negative_balance, ride_along)
    return Outcome(201, response)


def fulfil_ops(org_id: str, record: Item) -> tuple[ledger.Change, Any]:
    """An approved reversal, for the workflow: its change and the claim to complete with it."""
    original = table.get(keys.ledger(org_id, record["customer_id"], record["reverses"]))
    if original is None:
        raise NotFoundError(f"transaction {record['reverses']} not found")
    change = reversal_change(org_id, record, original, get_config(org_id))

    def complete(entry: Item) -> dict[str, Any]:
        return claim_op(org_id, original, record["request_id"], None, applied=entry["transaction_id"])

    return change, complete
