"""The due-date index (GSI4): balances with lots, by the time they next need the expiry run."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from goodwill import aws
from goodwill.repositories import keys, table

PAGE_SIZE = 100


@dataclass(frozen=True)
class DuePage:
    keys: list[tuple[str, str]]  # (PK, SK) of balances due
    cursor: str | None  # where the next page starts; None: the shard is done


def page(shard: int, until: str, cursor: str | None = None, limit: int = PAGE_SIZE) -> DuePage:
    """Balances of one shard due at or before `until` (the index holds keys only)."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "IndexName": "GSI4",
        "KeyConditionExpression": "GSI4PK = :p AND GSI4SK <= :u",
        # "~" sorts after every character of the key's tail: everything due at `until` is in.
        "ExpressionAttributeValues": table.values({":p": keys.due_shard_pk(shard), ":u": f"{until}#~"}),
        "Limit": limit,
    }
    if cursor:
        args["ExclusiveStartKey"] = json.loads(base64.urlsafe_b64decode(cursor))
    resp = aws.dynamodb().query(**args)
    found = [(i["PK"]["S"], i["SK"]["S"]) for i in resp.get("Items", [])]
    last = resp.get("LastEvaluatedKey")
    return DuePage(found, base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None)
