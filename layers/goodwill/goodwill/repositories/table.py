"""The DynamoDB boundary: (de)serialisation, pagination tokens and transaction outcomes.

The domain sees plain Python values with ints; Decimals and attribute-value JSON stop here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from goodwill import aws, retry
from goodwill.errors import ValidationFailedError
from goodwill.settings import get_settings

_SER = TypeSerializer()
_DES = TypeDeserializer()

Item = dict[str, Any]


def _to_python(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _to_python(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_to_python(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in item.items() if v is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    return dict(_SER.serialize(value))


def deserialize(item: Mapping[str, Any]) -> Item:
    return {k: _to_python(_DES.deserialize(v)) for k, v in item.items()}


def values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in mapping.items()}


def table_name() -> str:
    return get_settings().table_name


def get(key: Mapping[str, str], consistent: bool = True) -> Item | None:
    resp = aws.dynamodb().get_item(TableName=table_name(), Key=serialize(key), ConsistentRead=consistent)
    raw = resp.get("Item")
    return deserialize(raw) if raw else None


def batch_get(keys: Sequence[Mapping[str, str]], consistent: bool = True) -> list[Item]:
    """All items found for `keys` (up to 100), retrying unprocessed keys."""
    found: list[Item] = []

    def send(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resp = aws.dynamodb().batch_get_item(
            RequestItems={table_name(): {"Keys": pending, "ConsistentRead": consistent}}
        )
        found.extend(deserialize(i) for i in resp.get("Responses", {}).get(table_name(), []))
        unprocessed: Any = resp.get("UnprocessedKeys") or {}
        return list(unprocessed.get(table_name(), {}).get("Keys", []))

    retry.drain(send, [serialize(k) for k in keys], what="read")
    return found


def put(item: Mapping[str, Any], condition: str | None = None, **kwargs: Any) -> None:
    args: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item), **kwargs}
    if condition:
        args["ConditionExpression"] = condition
    aws.dynamodb().put_item(**args)


def update_returning(operation: Mapping[str, Any]) -> Item | None:
    """Run one `update_op` on its own (not in a transaction: half the write units) and return the
    item as it is after the update; None when its condition failed."""
    args = {**operation["Update"], "ReturnValues": "ALL_NEW"}
    try:
        resp = aws.dynamodb().update_item(**args)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return None
        raise
    return deserialize(resp["Attributes"])


def encode_token(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    plain = {k: _DES.deserialize(v) for k, v in last_key.items()}
    raw = json.dumps(plain, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# DynamoDB's limits on key values: a longer (or empty) one in an ExclusiveStartKey is refused.
_MAX_KEY_BYTES = {"partition": 2048, "sort": 1024}


def _key_attributes(partition_name: str, index: str | None) -> tuple[str, ...]:
    """The attributes of a start key for a listing: the table's key, plus the index's when it is
    an index (whose key attributes are named `{index}PK` / `{index}SK` on this table)."""
    base = ("PK", "SK")
    return base if index is None else (*base, partition_name, partition_name[:-2] + "SK")


def decode_token(
    token: str | None,
    partition: tuple[str, str],
    *,
    index: str | None = None,
    sort_prefix: tuple[str, str] | None = None,
) -> dict[str, Any] | None:
    """The ExclusiveStartKey in `token`, checked fully against the listing it claims to continue:
    exactly the key attributes of the table (and index), non-empty strings within DynamoDB's key
    sizes, the listing's partition and sort prefix. A token that fails any check, edited or from
    another listing, is a 422 on next_token; none reaches DynamoDB (which would refuse it)."""
    if not token:
        return None
    wanted = _key_attributes(partition[0], index)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        plain = json.loads(raw)
        if not isinstance(plain, dict) or sorted(plain) != sorted(wanted):
            raise ValueError("not the key of this listing")
        for name, value in plain.items():
            limit = _MAX_KEY_BYTES["partition" if name.endswith("PK") else "sort"]
            if not isinstance(value, str) or not 0 < len(value.encode()) <= limit:
                raise ValueError("not a key value")
        if plain[partition[0]] != partition[1]:
            raise ValueError("token of another listing")
        if sort_prefix and not plain[sort_prefix[0]].startswith(sort_prefix[1]):
            raise ValueError("token outside this listing")
        return {k: _SER.serialize(v) for k, v in plain.items()}
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise _bad_token() from exc


def _bad_token() -> ValidationFailedError:
    return ValidationFailedError.field("next_token", "not a token issued by this listing")


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_token: str | None


def query_page(
    partition: tuple[str, str],
    *,
    index: str | None = None,
    sort_prefix: tuple[str, str] | None = None,
    limit: int = 25,
    next_token: str | None = None,
    newest_first: bool = True,
    filter_expression: str | None = None,
    filter_values: Mapping[str, Any] | None = None,
    filter_names: Mapping[str, str] | None = None,
) -> Page:
    """One page of a partition, newest first, with an opaque token scoped to that partition."""
    names = {"#pk": partition[0], **(filter_names or {})}
    vals: dict[str, Any] = {":pk": partition[1], **(filter_values or {})}
    condition = "#pk = :pk"
    if sort_prefix:
        names["#sk"] = sort_prefix[0]
        vals[":sk"] = sort_prefix[1]
        condition += " AND begins_with(#sk, :sk)"
    args: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values(vals),
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    if index:
        args["IndexName"] = index
    if filter_expression:
        args["FilterExpression"] = filter_expression
    start = decode_token(next_token, partition, index=index, sort_prefix=sort_prefix)
    if start:
        args["ExclusiveStartKey"] = start
    items: list[Item] = []
    # A filter may empty a page; keep reading until the page has items or the partition ends.
    while True:
        resp = _query(args, from_caller=start is not None and args.get("ExclusiveStartKey") is start)
        items.extend(deserialize(i) for i in resp.get("Items", []))
        last = resp.get("LastEvaluatedKey")
        if not last or len(items) >= limit:
            break
        args["ExclusiveStartKey"] = last
        args["Limit"] = limit - len(items)
    return Page(items=items, next_token=encode_token(last))


def _query(args: Mapping[str, Any], from_caller: bool) -> Any:
    """One Query; a start key DynamoDB refuses is the caller's token at fault when it came from
    one (a 422, never a 500), our bug otherwise."""
    try:
        return aws.dynamodb().query(**args)
    except ClientError as exc:
        if from_caller and exc.response.get("Error", {}).get("Code") == "ValidationException":
            raise _bad_token() from exc
        raise


@dataclass(frozen=True)
class Cancelled:
    """Why a TransactWriteItems was cancelled: one reason code per item ('None' when fine)."""

    reasons: list[str]

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"

    @property
    def retryable(self) -> bool:
        """Cancelled by contention or throttling (worth another attempt), not by a bad request."""
        return any(r in retry.RETRYABLE_REASONS for r in self.reasons)

    def refused(self) -> TransactionRefusedError:
        return TransactionRefusedError(f"transaction refused: {self.reasons}")


class TransactionRefusedError(Exception):
    """DynamoDB cancelled a transaction for a reason no retry fixes (e.g. ValidationError): a bug,
    reported as such (500), never retried."""


# A one-item "transaction" of these runs as the plain conditional write: just as atomic, half the
# write units. (A lone ConditionCheck has no plain form and stays a transaction.)
_SINGLE_WRITES = {"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}


def transact(operations: Sequence[Mapping[str, Any]]) -> Cancelled | None:
    """Run one transaction; None when it committed, the cancellation reasons when it did not."""
    if len(operations) == 1 and (kind := next(iter(operations[0]))) in _SINGLE_WRITES:
        return _single_write(_SINGLE_WRITES[kind], operations[0][kind])
    try:
        aws.dynamodb().transact_write_items(TransactItems=list(operations))  # type: ignore[arg-type]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        raw: Any = exc.response
        reasons = [r.get("Code", "None") for r in raw.get("CancellationReasons", [])]
        if not reasons:
            reasons = _reasons_from_message(str(exc))
        return Cancelled(reasons=reasons)
    return None


def _single_write(method: str, args: Mapping[str, Any]) -> Cancelled | None:
    try:
        getattr(aws.dynamodb(), method)(**args)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            return Cancelled(reasons=["ConditionalCheckFailed"])
        if code == "TransactionConflictException":  # the item is in another transaction right now
            return Cancelled(reasons=["TransactionConflict"])
        raise
    return None


def _reasons_from_message(message: str) -> list[str]:
    # "... cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    if "[" not in message:
        return []
    inner = message[message.rfind("[") + 1 : message.rfind("]")]
    return [part.strip() for part in inner.split(",")]


def _operation(
    kind: str,
    target: dict[str, Any],
    condition: str | None,
    names: Mapping[str, str] | None,
    vals: Mapping[str, Any] | None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table_name(), **target}
    if condition:
        op["ConditionExpression"] = condition
    if names:
        op["ExpressionAttributeNames"] = dict(names)
    if vals:
        op["ExpressionAttributeValues"] = values(vals)
    return {kind: op}


def put_op(
    item: Mapping[str, Any],
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    vals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return _operation("Put", {"Item": serialize(item)}, condition, names, vals)


def update_op(
    key: Mapping[str, str],
    update: str,
    names: Mapping[str, str] | None = None,
    vals: Mapping[str, Any] | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    return _operation("Update", {"Key": serialize(key), "UpdateExpression": update}, condition, names, vals)


def delete_op(
    key: Mapping[str, str], condition: str | None = None, vals: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return _operation("Delete", {"Key": serialize(key)}, condition, None, vals)


def check_op(
    key: Mapping[str, str],
    condition: str,
    names: Mapping[str, str] | None = None,
    vals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return _operation("ConditionCheck", {"Key": serialize(key)}, condition, names, vals)


def strip_keys(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in ("PK", "SK") and not k.startswith("GSI") and k != "ttl"}
