"""DynamoDB's sizing and capacity rules, applied to items in attribute-value form ({"S": "x"}).

Item size: attribute names plus values; a number takes 1 byte per two significant digits plus 1;
a List or Map 3 bytes plus 1 per element; null and booleans 1 byte (AWS, "Item sizes and
formats"). Writes: 1 unit per started KB per item, 2 inside a transaction. Reads: 1 unit per
started 4 KB for a strongly consistent read, half for an eventually consistent one, 2 for a
transactional one; a missing item still costs the minimum; a Query rounds the sum of the items
it read, not each item. A global secondary index pays its own writes (not doubled by
transactions): one to add, update or remove an entry, two when the index key changes.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB

AttributeValue = Mapping[str, Any]
RawItem = Mapping[str, AttributeValue]
IndexKey = tuple[str, str | None]  # (hash key attribute, range key attribute or None)


def number_size(text: str) -> int:
    """Bytes DynamoDB stores for a number: 1 per two significant digits, plus 1."""
    significant = format(abs(Decimal(text)), "f").replace(".", "").strip("0")
    return math.ceil(len(significant) / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    return len(base64.b64decode(value))


def value_size(value: AttributeValue) -> int:
    """Bytes of one attribute value (without its name)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return _binary_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(number_size(v) for v in inner)
    if kind == "BS":
        return sum(_binary_size(v) for v in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: RawItem | None) -> int:
    """Bytes of an item: every attribute's name plus its value."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool = False) -> int:
    """WCU of writing an item of `size` bytes (the larger of before and after)."""
    units = max(1, math.ceil(size / KB))
    return units * 2 if transactional else units


def read_units(size: int, consistent: bool = True, transactional: bool = False) -> float:
    """RCU of reading `size` bytes in one item (or one Query page); never below the minimum."""
    units = float(max(1, math.ceil(size / READ_UNIT_BYTES)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def in_index(item: RawItem | None, key: IndexKey) -> bool:
    return item is not None and all(a in item for a in key if a)


def index_key(item: RawItem, key: IndexKey) -> list[AttributeValue]:
    return [item[a] for a in key if a]


def index_write_units(before: RawItem | None, after: RawItem | None, key: IndexKey) -> int:
    """WCU one index (projection ALL) pays for a table write that turned `before` into `after`."""
    was, now = in_index(before, key), in_index(after, key)
    if was and now:
        assert before is not None and after is not None
        if index_key(before, key) != index_key(after, key):
            return write_units(item_size(before)) + write_units(item_size(after))
        return 0 if before == after else write_units(max(item_size(before), item_size(after)))
    if now:
        return write_units(item_size(after))
    if was:
        return write_units(item_size(before))
    return 0


def gsi_write_units(before: RawItem | None, after: RawItem | None, keys: Sequence[IndexKey]) -> int:
    return sum(index_write_units(before, after, k) for k in keys)
