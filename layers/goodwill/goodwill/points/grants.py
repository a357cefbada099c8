"""Goodwill points requests: validate against the org's rules, then grant or queue for approval."""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.approvals.lifecycle import Outcome, fulfilled_record, queue_request
from goodwill.auth import Principal
from goodwill.clock import iso, ulid
from goodwill.customers.profiles import ledger_view
from goodwill.errors import NotFoundError, ValidationFailedError
from goodwill.jsonutil import RawJson, dumps
from goodwill.models.config import OrgConfig
from goodwill.models.requests import PointsGrantRequest
from goodwill.models.vocabulary import RequestStatus, RequestType
from goodwill.points import ledger, limits
from goodwill.points.changes import change_type, credit_terms
from goodwill.repositories import keys, table
from goodwill.repositories.extra_ops import ExtraOpFailed
from goodwill.repositories.table import Item
from goodwill.services import idempotency
from goodwill.services.config import get_config
from goodwill.services.idempotency import IdempotencyKey

SCOPE = "points"


def check_rules(config: OrgConfig, body: PointsGrantRequest) -> None:
    details = []
    if abs(body.points) > config.points.max_per_request:
        details.append(
            {
                "field": "points",
                "message": f"at most {config.points.max_per_request} points per request",
            }
        )
    if body.reason not in config.reason_codes():
        details.append({"field": "reason", "message": f"{body.reason} is not a reason configured for this org"})
    if details:
        raise ValidationFailedError("invalid fields: " + ", ".join(d["field"] for d in details), details)
    if body.program_id not in config.programs:
        raise NotFoundError(f"program {body.program_id} not found")


def grant(principal: Principal, body: PointsGrantRequest, key: str | None, source: str) -> Outcome:
    config = get_config(principal.org_id)
    ikey = idempotency.make_key(principal.org_id, SCOPE, key, body)
    wanted = [
        keys.customer(principal.org_id, body.customer_id),
        keys.balance(principal.org_id, body.customer_id, body.program_id),
    ]
    if ikey:
        wanted.append(ikey.item_key)
    day = limits.today()
    counted = body.points > 0 and limits.limited(principal, config)
    if counted:
        wanted.append(keys.agent_day(principal.org_id, principal.actor, day))
    found = table.batch_get_map(wanted)
    if ikey:
        stored = idempotency.replay(ikey, found.get((ikey.item_key["PK"], ikey.item_key["SK"])))
        if stored:
            return Outcome(stored.status_code, stored.body)
    # After the replay: a retry of a grant made is answered as it was, whatever the rules say now.
    check_rules(config, body)
    if (wanted[0]["PK"], wanted[0]["SK"]) not in found:
        raise NotFoundError(f"customer {body.customer_id} not found")
    balance = ledger.Balance.of(found.get((wanted[1]["PK"], wanted[1]["SK"])))

    record = _new_record(principal, config, body, source)
    allowance = None
    if counted:
        counter = found.get((wanted[-1]["PK"], wanted[-1]["SK"]))
        allowance = limits.allowance(principal, config, counter, day)
    try:
        if config.needs_points_approval(body.points):
            # A debit the balance cannot cover is refused now, not after someone approved it.
            ledger.next_balance(balance, body.points, body.affects_tier, config.points.allow_negative_balance)
            return queue_request(ikey, record)
        if allowance and not allowance.allows(body.points):
            return queue_request(ikey, held_for_limit(record, allowance))
        return _apply_now(principal, config, ikey, record, body, balance, allowance)
    except ExtraOpFailed as exc:
        # A concurrent twin with the same key won: answer what it answered.
        if ikey and (stored := idempotency.load(ikey)):
            return Outcome(stored.status_code, stored.body)
        if allowance and exc.cancelled.failed(len(exc.cancelled.reasons) - 1):
            # The agent's other grants used up the day's limit since it was read: this one waits.
            fresh = limits.allowance(principal, config, table.get(allowance.key()), day)
            return queue_request(ikey, held_for_limit(record, fresh))
        raise


def _new_record(principal: Principal, config: OrgConfig, body: PointsGrantRequest, source: str) -> Item:
    """The request record of a grant, before it is queued or applied."""
    record = records.new_record(
        principal.org_id,
        ulid(),
        {
            "type": RequestType.POINTS.value,
            "customer_id": body.customer_id,
            "program_id": body.program_id,
            "points": body.points,
            "reason": body.reason,
            "comment": body.comment,
            "customer_message": body.customer_message,
            "expires_at": credit_terms(config, body.points, iso(body.expires_at) if body.expires_at else None)[0],
            "affects_tier": body.affects_tier,
            "notify": body.notify,
            "source": source,
            "requested_by": principal.actor,
            "status": RequestStatus.PENDING_APPROVAL.value,
        },
    )
    if body.expires_at is None and record.get("expires_at"):
        record["expiry_defaulted"] = True  # the org's default_expiry_days, counted again when credited
    record["created_at"] = record_time = records.history_entry("created", principal.actor)["at"]
    record["history"] = [records.history_entry("created", principal.actor, record_time)]
    return record


def held_for_limit(record: Item, allowance: limits.Allowance) -> Item:
    """The request, waiting for an approver because it would pass the agent's daily limit."""
    created = {**record["history"][0], "held_for_approval": limits.REASON, "detail": allowance.reason(record["points"])}
    return {**record, "history": [created, *record["history"][1:]]}


def _apply_now(
    principal: Principal,
    config: OrgConfig,
    ikey: IdempotencyKey | None,
    record: Item,
    body: PointsGrantRequest,
    balance: ledger.Balance,
    allowance: limits.Allowance | None = None,
) -> Outcome:
    change = ledger.Change(
        org_id=principal.org_id,
        customer_id=body.customer_id,
        program_id=body.program_id,
        points=body.points,
        type=change_type(body.points),
        reason=body.reason,
        actor=principal.actor,
        source=record["source"],
        affects_tier=body.affects_tier,
        comment=body.comment,
        request_id=record["request_id"],
        expires_at=record["expires_at"],
        remind_at=credit_terms(config, body.points, record["expires_at"])[1],
    )
    response: list[dict[str, Any] | RawJson] = [{}]

    def ride_along(entry: Item, after: ledger.Balance) -> list[dict[str, Any]]:
        fulfilled = fulfilled_record(record, entry, "auto")
        view = {"request": records.view(fulfilled), "transaction": ledger_view(entry), "balance": after.view()}
        response[0] = view
        ops = [records.put_new_op(principal.org_id, fulfilled)]
        if ikey:  # encoded once, for the key's record and for the reply
            response[0] = RawJson(dumps(view))
            ops.append(idempotency.record_op(ikey, 201, response[0], record["request_id"]))
        if allowance:  # last: grant() reads a refusal of the limit from the last reason
            ops.append(limits.count_op(allowance, body.points))
        return ops

    ledger.apply(change, config.points.allow_negative_balance, ride_along, first_read=balance)
    return Outcome(201, response[0])
