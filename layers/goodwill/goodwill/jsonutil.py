"""JSON serialisation shared by responses and stored snapshots (ints stay ints)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class RawJson(str):
    """JSON text already encoded (a stored response replayed, an answer encoded once for both the
    idempotency record and the reply): `dumps` hands it on as it is."""

    __slots__ = ()


def dumps(value: Any) -> str:
    if type(value) is RawJson:
        return value
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
