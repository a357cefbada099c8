"""Per-client request rate, one second at a time, on the client's own item (never an org-wide one).

The window item `APICLIENT#{id}` / `RATE` holds the current second (`win`) and the requests counted
in it (`hits`). One conditional UpdateItem counts a request; the first request of a second opens a
new window with a second one. The item exists exactly while the client is active: revocation
deletes it, so the same write that counts a request also refuses a revoked client, on every Lambda
instance at once, whatever their registry caches hold.
"""

from __future__ import annotations

import time
from typing import Any

from goodwill.errors import TooManyRequestsError
from goodwill.repositories import keys, table


def now_second() -> int:
    return int(time.time())


def _update(client_id: str, update: str, condition: str, vals: dict[str, Any]) -> dict[str, Any] | None:
    """None when the update applied; else the item as it was (an empty dict when there is none)."""
    names = {"#w": "win", "#h": "hits"}
    window = keys.api_client_rate(client_id)
    return table.update_or_old(table.update_op(window, update, names=names, vals=vals, condition=condition))


def admit(client_id: str, limit: int) -> bool:
    """Count one request of an active client. False when the client is revoked (no window item);
    TooManyRequestsError when this second already holds `limit` of its requests."""
    second = now_second()
    for _ in range(3):
        old = _update(
            client_id,
            "SET #h = #h + :one",
            "#w = :now AND #h < :limit",
            {":one": 1, ":now": second, ":limit": limit},
        )
        if old is None:
            return True
        if not old:
            return False
        if int(old.get("win", 0)) >= second:
            raise TooManyRequestsError(f"more than {limit} requests per second for this API client")
        # The first request of this second: open its window (unless another request just did).
        old = _update(
            client_id,
            "SET #w = :now, #h = :one",
            "attribute_exists(#w) AND #w < :now",
            {":one": 1, ":now": second},
        )
        if old is None:
            return True
        if not old:
            return False
    raise TooManyRequestsError(f"more than {limit} requests per second for this API client")
