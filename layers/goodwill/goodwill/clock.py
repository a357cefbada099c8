"""Time and identifiers: ISO 8601 UTC strings and time-sortable ULIDs."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    # isoformat: the same text as strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", in half the time.
    return value.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


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


_RANDOM_BITS = 80
_monotonic_lock = threading.Lock()
_last: list[int] = [0, 0]  # the previous fresh ULID's (ms, random part)


def ulid(at_ms: int | None = None, seed: str | None = None) -> str:
    """A ULID; with `seed`, the random part derives from it (same cause -> same id).

    Fresh ULIDs (no `at_ms`, no `seed`) are monotonic within the process, as the ULID spec's
    monotonic mode: one made in the same millisecond as the previous one (or after the clock went
    back) increments the previous random part, so everything one Lambda instance records in a
    millisecond still lists in the order it happened (ledger entries, requests)."""
    if seed is not None:
        ms = int(time.time() * 1000) if at_ms is None else at_ms
        rand = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:10], "big")
        return _encode(ms, 10) + _encode(rand, 16)
    if at_ms is not None:
        return _encode(at_ms, 10) + _encode(int.from_bytes(os.urandom(10), "big"), 16)
    with _monotonic_lock:
        ms = int(time.time() * 1000)
        if ms <= _last[0] and _last[1] + 1 < 1 << _RANDOM_BITS:
            ms, rand = _last[0], _last[1] + 1
        else:
            ms, rand = max(ms, _last[0] + (ms <= _last[0])), int.from_bytes(os.urandom(10), "big") >> 1
        _last[0], _last[1] = ms, rand
    return _encode(ms, 10) + _encode(rand, 16)


def ulid_ms(value: str) -> int:
    number = 0
    for char in value[:10]:
        number = number * 32 + _CROCKFORD.index(char)
    return number
