"""Client id -> the API client's org, scopes and rate: read from the table, kept per Lambda
instance for at most API_CLIENT_CACHE_SECONDS (<= 60 s).

The cached entry is never the last word on revocation: every request of a client also passes its
rate window (goodwill.clients.rate), a conditional write on an item that revocation deletes, so a
revoked client is refused on its next request by every warm instance, whatever they cached.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from goodwill.auth import Principal
from goodwill.clients import rate
from goodwill.errors import UnauthorizedError
from goodwill.models.vocabulary import Source
from goodwill.repositories import keys, table
from goodwill.settings import get_settings

ACTIVE = "ACTIVE"
REVOKED = "REVOKED"
# Cognito app client ids: 1-128 word characters (the local run's are the same shape).
_CLIENT_ID = re.compile(r"^[\w+]{1,128}$")


@dataclass(frozen=True)
class Entry:
    client_id: str
    org_id: str
    scopes: frozenset[str]
    rate_limit_per_second: int
    status: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> Entry:
        return cls(
            client_id=str(item["client_id"]),
            org_id=str(item["org_id"]),
            scopes=frozenset(item.get("scopes") or ()),
            rate_limit_per_second=int(item["rate_limit_per_second"]),
            status=str(item.get("status", ACTIVE)),
        )


_cache: dict[str, tuple[float, Entry]] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def forget(client_id: str) -> None:
    with _lock:
        _cache.pop(client_id, None)


def lookup(client_id: str) -> Entry | None:
    """The registry entry, from this instance's memory when read less than the cache time ago."""
    ttl = min(get_settings().api_client_cache_seconds, 60.0)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(client_id)
    if cached and now - cached[0] < ttl:
        return cached[1]
    item = table.get(keys.api_client(client_id))
    if item is None:
        forget(client_id)  # unknown ids are not cached: nothing to gain from remembering them
        return None
    entry = Entry.of(item)
    with _lock:
        _cache[client_id] = (now, entry)
    return entry


def active(client_id: str) -> Entry:
    """The registry entry of an active API client (from this instance's cache), else 401."""
    if not _CLIENT_ID.match(client_id):
        raise UnauthorizedError("the token names no API client")
    entry = lookup(client_id)
    if entry is None or entry.status != ACTIVE:
        raise UnauthorizedError("unknown or revoked API client")
    return entry


def client_principal(claims: dict[str, Any]) -> Principal:
    """An API client's principal: its org from the registry (never from the token or the body), its
    scopes those of the token it was granted, within its rate (429) and not revoked (401)."""
    client_id = str(claims.get("client_id") or "")
    if claims.get("sub", client_id) != client_id:
        raise UnauthorizedError("the token names no API client")
    entry = active(client_id)
    if not rate.admit(client_id, entry.rate_limit_per_second):
        forget(client_id)
        raise UnauthorizedError("unknown or revoked API client")
    granted = frozenset(str(claims.get("scope") or "").split()) & entry.scopes
    return Principal(org_id=entry.org_id, actor=f"client:{client_id}", scopes=granted, source=Source.API)
