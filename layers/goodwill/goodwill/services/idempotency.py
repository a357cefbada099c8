"""Idempotency-Key: the first response is stored in the same transaction as the change it made.

A repeat with the same key and body replays it; the same key with another body is a 409. Because
the key's record is written atomically with the grant, there is no window in which the change is
made but the key forgotten (or the reverse), and concurrent repeats cannot both apply.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple

from pydantic import BaseModel

from goodwill.clock import iso, now
from goodwill.errors import IdempotencyKeyReusedError, ValidationFailedError
from goodwill.jsonutil import RawJson, dumps
from goodwill.repositories import keys, table
from goodwill.repositories.table import Item
from goodwill.settings import get_settings

MAX_KEY_LENGTH = 128


class IdempotencyKey(NamedTuple):
    org_id: str
    scope: str
    key: str
    fingerprint: str

    @property
    def item_key(self) -> dict[str, str]:
        return keys.idempotency(self.org_id, self.scope, self.key)


class StoredResponse(NamedTuple):
    status_code: int
    body: RawJson  # the JSON text as first answered


def make_key(org_id: str, scope: str, key: str | None, body: BaseModel) -> IdempotencyKey | None:
    """The key's record, fingerprinting the validated request (`body`), not the JSON it came as:
    a default spelled out, another key order or another zone for the same instant is the same
    request."""
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailedError.field("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    return IdempotencyKey(org_id, scope, key, fingerprint(body))


def fingerprint(body: BaseModel) -> str:
    fields = {k: _canonical(v) for k, v in body.model_dump().items()}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value.astimezone(UTC)) if value.tzinfo else value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def replay(ikey: IdempotencyKey, item: Item | None) -> StoredResponse | None:
    """The stored response for a repeat, None for a first use, 409 for another body."""
    if item is None:
        return None
    if item.get("fingerprint") != ikey.fingerprint:
        raise IdempotencyKeyReusedError("this Idempotency-Key was used with a different request body")
    # Answered as stored: the JSON text is not decoded only to be encoded again.
    return StoredResponse(status_code=int(item["status_code"]), body=_stored_body(item))


def _stored_body(item: Item) -> RawJson:
    packed = item.get("response_z")
    if packed is None:
        return RawJson(item["response"])
    raw: Any = getattr(packed, "value", packed)  # boto3's Binary wraps the bytes
    return RawJson(zlib.decompress(raw).decode())


def load(ikey: IdempotencyKey) -> StoredResponse | None:
    return replay(ikey, table.get(ikey.item_key))


def pack(data: bytes) -> bytes:
    """zlib with a 4 KiB window and memLevel 4: the same size as zlib.compress for a response of a
    few KB, in a quarter of its time (~12 vs ~45 µs: the default state is ~256 KiB to set up for
    each call). zlib.decompress reads the window size from the header, so either kind unpacks."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 12, 4)
    return packer.compress(data) + packer.flush()


def record_op(ikey: IdempotencyKey, status_code: int, body: Any, request_id: str) -> dict[str, Any]:
    ttl_at = now() + timedelta(hours=get_settings().idempotency_ttl_hours)
    return table.put_op(
        {
            **ikey.item_key,
            "fingerprint": ikey.fingerprint,
            "status_code": status_code,
            # zlib-packed: a grant's response is ~1.3 KB of JSON, ~0.6 KB packed, so the record
            # stays under 1 KB and costs 2 instead of 4 write units in the transaction.
            "response_z": pack(dumps(body).encode()),
            "request_id": request_id,
            "created_at": iso(now()),
            "ttl": int(ttl_at.timestamp()),
        },
        condition="attribute_not_exists(PK)",
    )
