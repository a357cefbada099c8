"""A Query costs what it reads: its partition, not the table.

moto 5.2's `Table.query` starts from `all_items()`, which lists and sorts every item of the table,
then keeps the queried partition; a GSI query walks every item too. With 100,000 items one
`GET /customers/{id}` took seconds. DynamoDB reads one partition. Here a table query starts from
its partition's items, and a GSI query from a map of the index's partitions, built on the first
query of that index and kept current by every write (local/aws/moto_patches.py calls `written`).
moto's own filtering and ordering then run on those items only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_hint = threading.local()


class _IndexMap:
    """One table's GSIs: index -> hash value -> item key -> item."""

    def __init__(self, table: Any) -> None:
        self.hash_attr = {
            i.name: next(k["AttributeName"] for k in i.schema if k["KeyType"] == "HASH")
            for i in table.global_indexes or []
        }
        self.parts: dict[str, dict[Any, dict[Any, Any]]] = {name: {} for name in self.hash_attr}
        self.where: dict[Any, dict[str, Any]] = {}
        for item in _every_item(table):
            self.put(item)

    def put(self, item: Any) -> None:
        marker = (item.hash_key, item.range_key)
        for name, attr in self.hash_attr.items():
            value = item.attrs.get(attr)
            if value is not None:
                self.parts[name].setdefault(value, {})[marker] = item
                self.where.setdefault(marker, {})[name] = value

    def drop(self, marker: Any) -> None:
        for name, value in self.where.pop(marker, {}).items():
            part = self.parts[name].get(value)
            if part is not None:
                part.pop(marker, None)
                if not part:
                    del self.parts[name][value]


def _every_item(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for part in table.items.values() for item in part.values()]
    return list(table.items.values())


def _all_items(original: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    def all_items(self: Any) -> list[Any]:
        hint = getattr(_hint, "value", None)
        if hint is None:
            return original(self)
        index_name, hash_key = hint
        if index_name is None:
            part = self.items.get(hash_key)
            if part is None:
                return []
            return list(part.values()) if self.range_key_attr else [part]
        mapped: _IndexMap | None = getattr(self, "_goodwill_gsi", None)
        if mapped is None:
            mapped = self._goodwill_gsi = _IndexMap(self)
        if index_name not in mapped.parts:  # a local secondary index: every item, unsorted
            return _every_item(self)
        return list(mapped.parts[index_name].get(hash_key, {}).values())

    return all_items


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        _hint.value = (index_name, hash_key) if hash_key is not None else None
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _hint.value = None

    return query


def written(backend: Any, table_name: str, attrs: dict[str, Any]) -> None:
    """Keep a table's GSI map current after a write of the item with these key attributes."""
    table = backend.get_table(table_name)
    mapped: _IndexMap | None = getattr(table, "_goodwill_gsi", None)
    if mapped is None:
        return
    hash_value, range_value = backend.get_keys_value(table, attrs)
    mapped.drop((hash_value, range_value))
    item = table.get_item(hash_value, range_value)
    if item is not None:
        mapped.put(item)


def apply() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_goodwill_partition", False):
        return
    Table.all_items = _all_items(Table.all_items)  # type: ignore[method-assign,assignment]
    Table.query = _query(Table.query)  # type: ignore[method-assign]
    Table.query._goodwill_partition = True  # type: ignore[attr-defined]
