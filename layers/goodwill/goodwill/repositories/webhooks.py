"""Webhooks in the table: configuration, delivery attempts (kept 7 days), delivered-event marks."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.clock import ulid
from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item

ATTEMPTS_KEPT_SECONDS = 7 * 24 * 3600
MARKS_KEPT_SECONDS = 3 * 24 * 3600  # longer than a delivery is retried (24 h) and a stream record lives


def get(org_id: str, webhook_id: str) -> Item | None:
    return table.get(keys.webhook(org_id, webhook_id))


def put(org_id: str, item: Item) -> None:
    table.put({**keys.webhook(org_id, item["webhook_id"]), **item})


def create(org_id: str, item: Item) -> bool:
    """Write a new webhook; False when one with that id exists already."""
    try:
        table.put({**keys.webhook(org_id, item["webhook_id"]), **item}, condition="attribute_not_exists(PK)")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


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


def delivered(org_id: str, webhook_ids: list[str], event_id: str) -> set[str]:
    """Which of the webhooks have this event queued or delivered already (a redelivered event)."""
    if not webhook_ids:
        return set()
    found = table.batch_get([_mark(org_id, w, event_id) for w in webhook_ids])
    return {str(i["webhook_id"]) for i in found}


def mark(org_id: str, webhook_ids: list[str], event_id: str) -> None:
    expires = int(time.time()) + MARKS_KEPT_SECONDS
    for webhook_id in webhook_ids:
        table.put({**_mark(org_id, webhook_id, event_id), "webhook_id": webhook_id, "ttl": expires})


def _mark(org_id: str, webhook_id: str, event_id: str) -> dict[str, str]:
    return {"PK": keys.webhook_log(org_id, webhook_id), "SK": f"EVENT#{event_id}"}
