"""Write units of DynamoDB writes, from the items themselves (issue 17: what a bulk row costs).

AWS's rules (DynamoDB developer guide, "Item sizes and formats" and "Read/write capacity mode"):
an item's size is the UTF-8 length of its attribute names plus their values (a string its UTF-8
length, a number about one byte per two digits plus one, a boolean or null one byte, a list or
map three bytes plus one per element and its elements); a write costs one unit per started KB, a
write inside TransactWriteItems two. Each global secondary index whose key attributes the item
has gets a copy: one more write of the projected item (every index here projects ALL).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from local.aws.template import resources


def gsi_keys() -> list[tuple[str, ...]]:
    """The key attributes of each global secondary index of the table, from template.yaml."""
    props = resources("AWS::DynamoDB::Table")["GoodwillTable"]["Properties"]
    return [tuple(k["AttributeName"] for k in index["KeySchema"]) for index in props.get("GlobalSecondaryIndexes", [])]


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in data)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def transaction_units(calls: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Write units of recorded TransactWriteItems calls (their Put items), by kind of item: the
    SK prefix (TXN#: a ledger entry, BAL#: a balance, ...), base (doubled) and GSI copies."""
    indexes = gsi_keys()
    kinds: dict[str, dict[str, int]] = {}
    for call in calls:
        for op in call["TransactItems"]:
            item = op.get("Put", {}).get("Item")
            if item is None:
                continue
            kind = item["SK"]["S"].split("#", 1)[0]
            size = item_size(item)
            found = kinds.setdefault(kind, {"items": 0, "bytes": 0, "base_units": 0, "gsi_units": 0})
            found["items"] += 1
            found["bytes"] += size
            found["base_units"] += 2 * units(size)
            found["gsi_units"] += sum(units(size) for keys in indexes if all(k in item for k in keys))
    return kinds
