"""The user pool's JSON Web Key Set: fetched once per Lambda instance, again when a token names a
key id the cached set lacks (Cognito rotating its keys), but at most once a minute, so a stream of
tokens with made-up key ids cannot make every request fetch it."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

from joserfc.jwk import KeySet

from goodwill.errors import UnauthorizedError
from goodwill.settings import get_settings

REFETCH_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 3.0

_lock = threading.Lock()
_cache: dict[str, tuple[float, KeySet]] = {}


def issuer(user_pool_id: str) -> str:
    """Cognito's `iss` for a pool; the pool id starts with its region (us-east-1_AbC...)."""
    region = user_pool_id.split("_", 1)[0]
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url() -> str:
    settings = get_settings()
    return settings.jwks_url or f"{issuer(settings.user_pool_id)}/.well-known/jwks.json"


def _fetch(url: str) -> KeySet:
    # https on AWS; file:// for the local run, whose key set is a file (local/aws/tokens.py).
    if not url.startswith(("https://", "file://")):
        raise UnauthorizedError("the key set address is neither https nor a local file")
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as answer:  # the scheme is checked above
        document: Any = json.load(answer)
    return KeySet.import_key_set(document)


def key_set(kid: str) -> KeySet:
    """The pool's keys, holding `kid` when the pool has it."""
    url = jwks_url()
    now = time.monotonic()
    with _lock:
        cached = _cache.get(url)
    if cached and (_has(cached[1], kid) or now - cached[0] < REFETCH_SECONDS):
        return cached[1]
    fresh = _fetch(url)
    with _lock:
        _cache[url] = (now, fresh)
    return fresh


def _has(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def fetched_at(url: str) -> float | None:
    """When this instance last fetched the set at `url` (tests: the cache is used)."""
    with _lock:
        cached = _cache.get(url)
    return cached[0] if cached else None
