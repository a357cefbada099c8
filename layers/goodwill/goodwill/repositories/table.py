"""The DynamoDB boundary: (de)serialisation, reads, writes and transaction outcomes (listing
page by page is repositories.pages).

The domain sees plain Python values with ints; Decimals and attribute-value JSON stop here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from goodwill import aws, retry
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


_MAX_N = 10**38  # DynamoDB's precision; TypeSerializer refuses more digits, so beyond it goes there


def _attr(value: Any) -> dict[str, Any]:
    """`TypeSerializer().serialize(value)`, with a short way for what our items hold."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_MAX_N < value < _MAX_N:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is dict:
        return {"M": {k: _attr(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [_attr(v) for v in value]}
    return dict(_SER.serialize(value))


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _attr(v) for k, v in item.items() if v is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    return _attr(value)


def _number(text: str) -> int | float:
    try:
        return int(text)  # nearly every number here is an integer written as one
    except ValueError:
        exact = _DES.deserialize({"N": text})
        return int(exact) if exact == exact.to_integral_value() else float(exact)


def _plain(value: dict[str, Any]) -> Any:
    """One attribute value as plain Python, as `_to_python(TypeDeserializer().deserialize(value))`
    gives it (sets as lists, in the order DynamoDB sent them), without the Decimal detour: a page
    of items is thousands of values, and this is most of what our code spends on a read."""
    ((tag, raw),) = value.items()
    if tag == "S" or tag == "BOOL":
        return raw
    if tag == "N":
        return _number(raw)
    if tag == "M":
        return {k: _plain(v) for k, v in raw.items()}
    if tag == "L":
        return [_plain(v) for v in raw]
    if tag == "NS":
        return [_number(v) for v in raw]
    if tag == "SS":
        return list(raw)
    return _to_python(_DES.deserialize(value))  # type: ignore[arg-type]  # NULL, B, BS


def deserialize(item: Mapping[str, Any]) -> Item:
    return {k: _plain(v) for k, v in item.items()}


def values(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _attr(v) for k, v in mapping.items()}


def table_name() -> str:
    return get_settings().table_name


def get(key: Mapping[str, str], consistent: bool = True) -> Item | None:
    resp = aws.dynamodb().get_item(TableName=table_name(), Key=serialize(key), ConsistentRead=consistent)
    raw = resp.get("Item")
    return deserialize(raw) if raw else None


BATCH_GET_KEYS = 100  # BatchGetItem's limit


def batch_get(
    keys: Iterable[Mapping[str, str]], consistent: bool = True, attributes: Sequence[str] | None = None
) -> list[Item]:
    """All items found for `keys` (each once), BATCH_GET_KEYS keys a request, unprocessed keys
    retried (bounded, see retry.py). `attributes`: read only those (and the key), which keeps
    responses small (and moto, which serialises every attribute value slowly, fast)."""
    unique = {(k["PK"], k["SK"]): k for k in keys}
    request: dict[str, Any] = {"ConsistentRead": consistent}
    if attributes is not None:
        names = {f"#a{i}": name for i, name in enumerate(dict.fromkeys(["PK", "SK", *attributes]))}
        request.update({"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names})
    found: list[Item] = []

    def send(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: Any = {table_name(): {**request, "Keys": pending}}
        resp = aws.dynamodb().batch_get_item(RequestItems=items)
        found.extend(deserialize(i) for i in resp.get("Responses", {}).get(table_name(), []))
        unprocessed: Any = resp.get("UnprocessedKeys") or {}
        return list(unprocessed.get(table_name(), {}).get("Keys", []))

    wanted = [serialize(k) for k in unique.values()]
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        retry.drain(send, wanted[start : start + BATCH_GET_KEYS], what="read")
    return found


def batch_get_map(
    keys: Iterable[Mapping[str, str]], attributes: Sequence[str] | None = None
) -> dict[tuple[str, str], Item]:
    """batch_get (consistent), by (PK, SK)."""
    return {(i["PK"], i["SK"]): i for i in batch_get(keys, attributes=attributes)}


def put(item: Mapping[str, Any], condition: str | None = None, **kwargs: Any) -> bool:
    """Write `item`; False (nothing written) when `condition` does not hold."""
    cond: dict[str, Any] = {"ConditionExpression": condition} if condition else {}
    try:
        aws.dynamodb().put_item(TableName=table_name(), Item=serialize(item), **cond, **kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


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


def update_or_old(operation: Mapping[str, Any]) -> Item | None:
    """Run one `update_op` on its own; None when it applied, else the item as it was when its
    condition failed (an empty dict when there was no item)."""
    args = {**operation["Update"], "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    try:
        aws.dynamodb().update_item(**args)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        old: Any = exc.response.get("Item")
        return deserialize(old) if old else {}
    return None


class Cancelled(NamedTuple):
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
