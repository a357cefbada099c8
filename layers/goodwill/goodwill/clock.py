"""Time and identifiers: ISO 8601 UTC strings and time-sortable ULIDs."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    return iso(now())


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        chars.append(_CROCKFORD[rem])
    return "".join(reversed(chars))


def ulid(at_ms: int | None = None, seed: str | None = None) -> str:
    """A ULID; with `seed`, the random part derives from it (same cause -> same id)."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    if seed is None:
        rand = int.from_bytes(os.urandom(10), "big")
    else:
        rand = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
    return _encode(ms, 10) + _encode(rand, 16)


def ulid_ms(value: str) -> int:
    number = 0
    for char in value[:10]:
        number = number * 32 + _CROCKFORD.index(char)
    return number
