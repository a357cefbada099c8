"""Listing a partition page by page: one Query page at a time, behind an opaque next_token that is
checked against the listing it claims to continue before it reaches DynamoDB; and every page of a
query or scan (`all_pages`), for the jobs that walk them all."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.errors import ValidationFailedError
from goodwill.repositories.table import Item, deserialize, serialize_value, table_name, values

_SER = TypeSerializer()
_DES = TypeDeserializer()
FILTERED_READ = 100  # items a filtered Query reads at a time


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


class Page(NamedTuple):
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
    if filter_expression:
        # DynamoDB filters after it reads `Limit` items: reading only as many as the page wants made
        # a rare status among a customer's thousands of requests one Query per request.
        args["Limit"] = max(limit, FILTERED_READ)
    items, last = _read(args, limit, start)
    if len(items) > limit:  # read past the page: it goes on after its last item
        items = items[:limit]
        last = {k: serialize_value(items[-1][k]) for k in _key_attributes(partition[0], index)}
    return Page(items=items, next_token=encode_token(last))


def _read(args: dict[str, Any], limit: int, start: Any) -> tuple[list[Item], Any]:
    """Items until there are `limit` (a filter may empty a page) or the partition ends; the last
    key read."""
    items: list[Item] = []
    while True:
        resp = _query(args, from_caller=start is not None and args.get("ExclusiveStartKey") is start)
        items.extend(deserialize(i) for i in resp.get("Items", []))
        last = resp.get("LastEvaluatedKey")
        if not last or len(items) >= limit:
            return items, last
        args["ExclusiveStartKey"] = last


def _query(args: Mapping[str, Any], from_caller: bool) -> Any:
    """One Query; a start key DynamoDB refuses is the caller's token at fault when it came from
    one (a 422, never a 500), our bug otherwise."""
    try:
        return aws.dynamodb().query(**args)
    except ClientError as exc:
        if from_caller and exc.response.get("Error", {}).get("Code") == "ValidationException":
            raise _bad_token() from exc
        raise


def all_pages(method: Literal["query", "scan"], args: Mapping[str, Any]) -> Iterator[list[Item]]:
    """Every page of a Query or a Scan of the table (`args` without TableName), deserialised."""
    request = {"TableName": table_name(), **args}
    while True:
        resp = getattr(aws.dynamodb(), method)(**request)
        yield [deserialize(i) for i in resp.get("Items", [])]
        if not resp.get("LastEvaluatedKey"):
            return
        request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
