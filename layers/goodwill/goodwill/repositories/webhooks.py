"""Webhooks in the table: configuration, delivery attempts (kept 7 days), claims on (event, webhook)."""

from __future__ import annotations

import time
from typing import Any

from goodwill import aws
from goodwill.clock import ulid
from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item

ATTEMPTS_KEPT_SECONDS = 7 * 24 * 3600
MARKS_KEPT_SECONDS = 3 * 24 * 3600  # longer than a delivery is retried (24 h) and a stream record lives
# Longer than the delivery function's 30 s timeout (a younger claim's holder may still queue it),
# shorter than the queue's 180 s visibility timeout (the event's retry finds the claim stale).
CLAIM_STALE_SECONDS = 120
CLAIMED = "CLAIMED"


def get(org_id: str, webhook_id: str) -> Item | None:
    return table.get(keys.webhook(org_id, webhook_id))


def put(org_id: str, item: Item) -> None:
    table.put({**keys.webhook(org_id, item["webhook_id"]), **item})


def create(org_id: str, item: Item) -> bool:
    """Write a new webhook; False when one with that id exists already."""
    return table.put({**keys.webhook(org_id, item["webhook_id"]), **item}, "attribute_not_exists(PK)")


def delete(org_id: str, webhook_id: str) -> Item | None:
    """Delete a webhook; what it was, or None when there was none."""
    resp = aws.dynamodb().delete_item(
        TableName=table.table_name(), Key=table.serialize(keys.webhook(org_id, webhook_id)), ReturnValues="ALL_OLD"
    )
    old = resp.get("Attributes")
    return table.deserialize(old) if old else None


def list_all(org_id: str) -> list[Item]:
    """Every webhook of the org (a handful; paginated through to the end)."""
    items: list[Item] = []
    token = None
    while True:
        page = pages.query_page(("PK", keys.webhooks(org_id)), limit=100, next_token=token, newest_first=False)
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items


def attempts(org_id: str, webhook_id: str, limit: int = 20) -> list[Item]:
    page = pages.query_page(("PK", keys.webhook_log(org_id, webhook_id)), sort_prefix=("SK", "ATTEMPT#"), limit=limit)
    return page.items


def record_attempt(org_id: str, webhook_id: str, attempt: dict[str, Any]) -> None:
    key = {"PK": keys.webhook_log(org_id, webhook_id), "SK": f"ATTEMPT#{ulid()}"}
    table.put({**key, **attempt, "ttl": int(time.time()) + ATTEMPTS_KEPT_SECONDS})


def claim(org_id: str, webhook_id: str, event_id: str) -> bool:
    """Take (event, webhook) to queue its delivery; False when it is queued already or another
    invocation holds it. A claim left CLAIMED longer than any invocation lives (its holder died
    between claiming and queueing) is taken over, so a crash cannot lose the delivery."""
    at = int(time.time())
    item = {**_mark(org_id, webhook_id, event_id), "webhook_id": webhook_id, "state": CLAIMED, "claimed_at": at}
    return table.put(
        {**item, "ttl": at + MARKS_KEPT_SECONDS},
        "attribute_not_exists(PK) OR (#state = :claimed AND claimed_at < :stale)",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues=table.values({":claimed": CLAIMED, ":stale": at - CLAIM_STALE_SECONDS}),
    )


def queued(org_id: str, webhook_ids: list[str], event_id: str) -> None:
    """The claims' deliveries are on the queue: a redelivered event is not queued again for them."""
    expires = int(time.time()) + MARKS_KEPT_SECONDS
    for webhook_id in webhook_ids:
        table.put({**_mark(org_id, webhook_id, event_id), "webhook_id": webhook_id, "state": "QUEUED", "ttl": expires})


def release(org_id: str, webhook_ids: list[str], event_id: str) -> None:
    """Give up claims whose deliveries were not queued, so the event's retry queues them."""
    for webhook_id in webhook_ids:
        aws.dynamodb().delete_item(
            TableName=table.table_name(), Key=table.serialize(_mark(org_id, webhook_id, event_id))
        )


def own_delivery(org_id: str, webhook_id: str, event_id: str, message_id: str) -> bool:
    """The SQS message `message_id` delivers (event, webhook): True for the first message to ask
    and for the same message again (its retries); False for another message of the same pair (the
    event was queued twice: a claim taken over while its first queueing had gone through)."""
    item = {"PK": keys.webhook_log(org_id, webhook_id), "SK": f"DELIVERY#{event_id}", "message_id": message_id}
    return table.put(
        {**item, "ttl": int(time.time()) + MARKS_KEPT_SECONDS},
        "attribute_not_exists(PK) OR message_id = :m",
        ExpressionAttributeValues=table.values({":m": message_id}),
    )


def disown_delivery(org_id: str, webhook_id: str, event_id: str) -> None:
    """The pair's delivery ended on the dead-letter queue: a message redriven from there may own it."""
    key = {"PK": keys.webhook_log(org_id, webhook_id), "SK": f"DELIVERY#{event_id}"}
    aws.dynamodb().delete_item(TableName=table.table_name(), Key=table.serialize(key))


def _mark(org_id: str, webhook_id: str, event_id: str) -> dict[str, str]:
    return {"PK": keys.webhook_log(org_id, webhook_id), "SK": f"EVENT#{event_id}"}
