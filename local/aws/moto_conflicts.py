"""DynamoDB's transaction conflicts and ExclusiveStartKey checks, which moto 5.2 does not make.

Transaction conflicts (docs/aws-fidelity.md): DynamoDB holds every item of a TransactWriteItems
while the transaction is in flight. Another transaction touching one of them is cancelled with
reason `TransactionConflict` on that item; a PutItem / UpdateItem / DeleteItem on it fails with
`TransactionConflictException`; a TransactGetItems reading it is cancelled with
`TransactionConflict`. moto applies a transaction in one step, so none of this ever happens.
Here a transaction claims its items, stays in flight for `pause()` (no wait by default;
`WINDOW_S` widens it, and tests replace `pause` to hold a transaction open), then checks its
conditions and applies. Items written by BatchWriteItem are not checked (DynamoDB reports those
per item, as unprocessed).

ExclusiveStartKey: DynamoDB answers `ValidationException` for a start key that does not carry
exactly the table's (and the index's) key attributes with their declared types, or that lies
outside the Query's partition or range condition; moto accepts some such keys and fails inside on
others (a 500 through the API).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

WINDOW_S = float(os.environ.get("GOODWILL_LOCAL_TRANSACTION_WINDOW_MS", "0")) / 1000
_IN_FLIGHT: dict[tuple[str, str], int] = {}  # item -> the thread whose transaction holds it
_local = threading.local()

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
BAD_START_KEY = "The provided starting key is invalid: The provided key element does not match the schema"
OUTSIDE_QUERY = "The provided starting key is outside query boundaries based on provided conditions"
OUTSIDE_RANGE = "The provided starting key does not match the range key predicate"


def pause() -> None:
    """A transaction's time in flight, between claiming its items and committing."""
    time.sleep(WINDOW_S)


_default_pause = pause


def window_open() -> bool:
    """Whether transactions stay in flight outside the lock: when WINDOW_S is set (the environment's
    GOODWILL_LOCAL_TRANSACTION_WINDOW_MS) or a test holds one open. By default a transaction runs
    whole under the lock, as if DynamoDB answered at once: on a loaded 2-core machine any window
    (the lock's own hand-over included) starved racing writers that DynamoDB would serve."""
    return WINDOW_S > 0 or pause is not _default_pause


def item_marker(table: Any, attrs: dict[str, Any]) -> tuple[str, str]:
    key = {table.hash_key_attr: attrs.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs.get(table.range_key_attr)
    return (str(table.name), json.dumps(key, sort_keys=True, default=str))


def held_by_other(marker: tuple[str, str]) -> bool:
    owner = _IN_FLIGHT.get(marker)
    return owner is not None and owner != threading.get_ident()


def claim(markers: list[tuple[str, str]]) -> None:
    """Hold these items for the calling thread's transaction, or cancel it (caller holds the lock)."""
    from moto.dynamodb.exceptions import TransactionCanceledException

    busy = [held_by_other(m) for m in markers]
    if any(busy):
        raise TransactionCanceledException(
            [("TransactionConflict", CONFLICT_MESSAGE, None) if b else (None, None, None) for b in busy]
        )
    me = threading.get_ident()
    for marker in markers:
        _IN_FLIGHT[marker] = me


def release(markers: Iterable[tuple[str, str]]) -> None:
    for marker in markers:
        _IN_FLIGHT.pop(marker, None)


def conflict_error() -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException("com.amazonaws.dynamodb.v20120810#TransactionConflictException", CONFLICT_MESSAGE)


def write_target(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(table name, item or key) of a backend put_item / update_item / delete_item call."""
    table_name = args[0] if args else kwargs["table_name"]
    attrs = args[1] if len(args) > 1 else (kwargs.get("item_attrs") or kwargs["key"])
    return table_name, attrs


def checked_write(backend: Any, table_name: str, attrs: dict[str, Any]) -> None:
    """Raise what DynamoDB raises for a plain write on an item a transaction holds."""
    if getattr(_local, "batch", False) or not _IN_FLIGHT:
        return
    table = backend.get_table(table_name)
    if held_by_other(item_marker(table, attrs)):
        raise conflict_error()


def batch_writes_unchecked(original: Callable[..., Any]) -> Callable[..., Any]:
    def batch_write_item(self: Any) -> Any:
        _local.batch = True
        try:
            return original(self)
        finally:
            _local.batch = False

    return batch_write_item


def transact_get_checked(original: Callable[..., Any]) -> Callable[..., Any]:
    def transact_get_items(self: Any) -> Any:
        if _IN_FLIGHT:
            from moto.dynamodb.exceptions import TransactionCanceledException

            body = self.body if isinstance(self.body, dict) else json.loads(self.body)
            busy = []
            for entry in body.get("TransactItems", []):
                get = entry["Get"]
                table = self.dynamodb_backend.get_table(get["TableName"])
                busy.append(held_by_other(item_marker(table, get["Key"])))
            if any(busy):
                raise TransactionCanceledException(
                    [("TransactionConflict", CONFLICT_MESSAGE, None) if b else (None, None, None) for b in busy]
                )
        return original(self)

    return transact_get_items


# --------------------------------------------------------------------------- ExclusiveStartKey


def _key_attrs(table: Any, index_name: str | None) -> list[str]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if index_name:
        index = table.get_index(index_name)
        names += [k["AttributeName"] for k in index.schema if k["AttributeName"] not in names]
    return names


def check_start_key(table: Any, index_name: str | None, start: dict[str, Any] | None) -> None:
    """ValidationException unless `start` has exactly the key attributes, with their types."""
    from moto.dynamodb.exceptions import MockValidationException

    if not start:
        return
    types = {a["AttributeName"]: a["AttributeType"] for a in table.attr}
    names = _key_attrs(table, index_name)
    if set(start) != set(names):
        raise MockValidationException(BAD_START_KEY)
    for name in names:
        value = start[name]
        if not isinstance(value, dict) or list(value) != [types.get(name)] or not isinstance(value[types[name]], str):
            raise MockValidationException(BAD_START_KEY)


def check_query_start_key(
    table: Any,
    index_name: str | None,
    start: dict[str, Any] | None,
    hash_value: dict[str, Any] | None,
    range_comparison: str | None,
    range_values: list[dict[str, Any]],
) -> None:
    """Also: the start key lies in the queried partition and satisfies the range condition."""
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models.dynamo_type import DynamoType

    check_start_key(table, index_name, start)
    if not start:
        return
    if index_name:
        schema = table.get_index(index_name).schema
        hash_name = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        range_name = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    else:
        hash_name, range_name = table.hash_key_attr, table.range_key_attr
    if hash_value is not None and start[hash_name] != hash_value:
        raise MockValidationException(OUTSIDE_QUERY)
    if range_comparison and range_name:
        wanted = [DynamoType(v) for v in range_values]
        if not DynamoType(start[range_name]).compare(range_comparison, wanted):
            raise MockValidationException(OUTSIDE_RANGE)
