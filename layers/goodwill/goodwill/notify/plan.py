"""Telling the customer: which channels to try, in which order, with which message.

The plan is computed here; the walk through it (falling through, retrying) is the notification
state machine's (statemachine/notify.asl.json), which passes only ids, indexes and statuses: each
attempt is sent and recorded by notify/send.py inside the function, so no contact or
message body ever enters execution history.
"""

from __future__ import annotations

from typing import Any

from goodwill.approvals import records
from goodwill.clock import now_iso
from goodwill.models.config import OrgConfig
from goodwill.models.vocabulary import Channel
from goodwill.observability import logger, mask_email, mask_phone
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item
from goodwill.services.config import get_config

SUBJECTS = {
    "POINTS_CREDITED": "Points added to your account",
    "POINTS_DEBITED": "Points removed from your account",
    "COUPON_ISSUED": "A coupon for you",
    "POINTS_EXPIRING": "Your points expire soon",
    "POINTS_EXPIRED": "Some of your points have expired",
    "POINTS_REVERSED": "A correction to your points",
}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def event_of(record: Item) -> str:
    if record.get("event") in SUBJECTS:  # a notice about lots (goodwill.lots.notices)
        return str(record["event"])
    if record.get("type") == "COUPON":
        return "COUPON_ISSUED"
    if record.get("type") == "REVERSAL":
        return "POINTS_REVERSED"
    points = int(record.get("approved_points") or record.get("points") or 0)
    return "POINTS_CREDITED" if points > 0 else "POINTS_DEBITED"


def placeholders(record: Item, customer: Item, entry: Item | None, series: Item | None = None) -> dict[str, str]:
    points = int(record.get("approved_points") or record.get("points") or 0)
    coupon = record.get("coupon") or {}
    discount = coupon.get("discount") or {}
    discount_label = ""
    if discount:
        discount_label = (
            f"{discount['value']}% off" if discount.get("type") == "PERCENT" else f"{discount['value']} off"
        )
    values = {
        "customer_name": customer.get("name") or "there",
        "points": str(points),
        "abs_points": str(abs(points)),
        "balance": str(entry["current_after"]) if entry else str(record.get("balance", "")),
        "lifetime": str(entry["lifetime_after"]) if entry else "",
        "program_id": str(record.get("program_id") or ""),
        "reason": str(record.get("reason") or ""),
        "customer_message": str(record.get("customer_message") or ""),
        "coupon_code": str(coupon.get("code") or ""),
        "coupon_expires_at": str(coupon.get("expires_at") or "")[:10],
        "coupon_discount": discount_label,
        "series_name": str((series or {}).get("name") or record.get("series_id") or ""),
        "expires_at": str(record.get("expires_at") or "")[:10],
        "expiring_points": str(record.get("expiring_points") or ""),
    }
    return values


def render(template: str, values: dict[str, str]) -> str:
    # Templates were validated when the config was saved: only known placeholders, no format specs.
    return " ".join(template.format_map(_Blank(values)).split())


def _contact(channel: Channel, customer: Item) -> str | None:
    field = {Channel.SMS: "phone", Channel.EMAIL: "email", Channel.PUSH: "push_endpoint_arn"}[channel]
    value = customer.get(field)
    return str(value) if value else None


def build_plan(config: OrgConfig, customer: Item, subject: str, body: str) -> list[dict[str, Any]]:
    """Mandatory channels first (all of them), then the priority channels in order (first success
    wins). A channel the customer cannot be reached on stays in the list with the reason in `skip`,
    so the workflow records it as SKIPPED when (and only when) its turn comes."""
    opted_out = set(customer.get("opted_out_channels") or [])
    attempts: list[dict[str, Any]] = []
    used: set[str] = set()
    for mandatory, channels in ((True, config.channels.mandatory), (False, config.channels.priority)):
        for channel in channels:
            if channel.value in used:
                continue
            used.add(channel.value)
            to = _contact(channel, customer)
            skip = "opted out" if channel.value in opted_out else ("no contact" if not to else None)
            attempts.append(
                {
                    "channel": channel.value,
                    "to": to or "",
                    "subject": subject,
                    "body": body,
                    "mandatory": mandatory,
                    "skip": skip,
                }
            )
    return attempts


def planned(org_id: str, request_id: str) -> list[dict[str, Any]]:
    """Every attempt of the request's notification, with its contact and message (never leaves the
    notification function: the workflow sees only counts and statuses, see notify/send.py)."""
    record = records.get(org_id, request_id)
    if record is None or record.get("status") != "FULFILLED" or not record.get("notify", True):
        return []
    customer = table.get(keys.customer(org_id, record["customer_id"])) or {}
    entry = None
    if record.get("transaction_id"):
        entry = table.get(keys.ledger(org_id, record["customer_id"], record["transaction_id"]))
    series = table.get(keys.series(org_id, str(record["series_id"]))) if record.get("series_id") else None
    config = get_config(org_id)
    event = event_of(record)
    body = render(getattr(config.templates, event), placeholders(record, customer, entry, series))
    return build_plan(config, customer, SUBJECTS[event], body)


def plan(org_id: str, request_id: str) -> dict[str, Any]:
    """How many attempts the workflow walks through; nothing about whom or what."""
    attempts = planned(org_id, request_id)
    logger.info(
        "notification plan",
        extra={
            "request_id": request_id,
            "attempts": [
                {"channel": a["channel"], "to": _mask(a["channel"], a["to"]), "skip": a["skip"]} for a in attempts
            ],
        },
    )
    return {"count": len(attempts)}


def _mask(channel: str, to: str | None) -> str:
    if channel == "SMS":
        return mask_phone(to)
    if channel == "EMAIL":
        return mask_email(to)
    return (to or "")[-8:]


def record_attempts(org_id: str, request_id: str, attempts: list[dict[str, Any]]) -> None:
    at = now_iso()
    entries = [{**a, "at": a.get("at", at)} for a in attempts]
    history = [
        records.history_entry(
            "notification", "system", e["at"], channel=e["channel"], status=e["status"], error=e.get("error")
        )
        for e in entries
    ]
    table.transact(
        [
            table.update_op(
                keys.request(org_id, request_id),
                "SET notifications = list_append(if_not_exists(notifications, :empty), :n), #h = list_append(#h, :h)",
                {"#h": "history"},
                {":n": entries, ":h": history, ":empty": []},
                condition="attribute_exists(PK)",
            )
        ]
    )
