"""Make moto behave like DynamoDB where Goodwill's guarantees depend on it.

moto 5.2's TransactWriteItems deep-copies every table it touches (once per item) and, on a failed
condition, puts those copies back: under concurrency a cancelled transaction silently rolls back
writes other threads committed meanwhile, conditions are not checked atomically with the writes,
and each transaction costs O(table size). DynamoDB serialises conflicting writes and checks every
condition before applying anything. These patches give moto the same semantics: one lock around
item reads and writes, and a two-phase transaction (check all, then apply) with no table copies.
It also raises what AWS raises where moto is kinder (docs/aws-fidelity.md): transaction conflicts
and ExclusiveStartKey checks (moto_conflicts), 403 for a missing key without s3:ListBucket
(moto_s3_access); and a Query reads its partition only (moto_query).
Applied by the test fixtures and by the local run; nothing here ships to AWS.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

from local.aws import moto_conflicts, moto_query, moto_s3_access

_LOCK = threading.RLock()
_applied = False

_LOCKED_METHODS = (
    "get_item",
    "batch_get_item",
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_get_items",
)


_WRITES = ("put_item", "update_item", "delete_item")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    checked = method.__name__ in _WRITES

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            if not checked:
                # moto returns its live items, serialised after the lock is released: a copy, or a
                # concurrent update changes the item mid-serialisation.
                return copy.deepcopy(method(self, *args, **kwargs))
            table_name, attrs = moto_conflicts.write_target(args, kwargs)
            moto_conflicts.checked_write(self, table_name, attrs)
            result = method(self, *args, **kwargs)
            moto_query.written(self, table_name, attrs)
            return copy.deepcopy(result)

    return wrapper


def _locked_start_key(method: Callable[..., Any], query: bool) -> Callable[..., Any]:
    """Query / Scan check their ExclusiveStartKey as DynamoDB does (moto_conflicts)."""

    @functools.wraps(method)
    def wrapper(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            table = self.get_table(table_name)
            index = kwargs.get("index_name")
            if query:
                hash_value, comparison, range_values, _limit, start = args[:5]
                moto_conflicts.check_query_start_key(table, index, start, hash_value, comparison, range_values)
            else:
                moto_conflicts.check_start_key(table, index, args[2])
            return method(self, table_name, *args, **kwargs)

    return wrapper


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import TooManyTransactionsException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        planned = _plan(self, transact_items)
        markers = [marker for *_, marker in planned]
        moto_conflicts.claim(markers)
        if not moto_conflicts.window_open():
            try:
                _check_and_apply(self, planned)
            finally:
                moto_conflicts.release(markers)
            return
    try:
        moto_conflicts.pause()  # in flight: other writers of these items meet TransactionConflict
        with _LOCK:
            _check_and_apply(self, planned)
    finally:
        with _LOCK:
            moto_conflicts.release(markers)


_Planned = tuple[str, dict[str, Any], str, dict[str, Any], tuple[str, str]]


def _plan(backend: Any, transact_items: list[dict[str, Any]]) -> list[_Planned]:
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactWriteSingleOpException

    seen: set[tuple[str, str]] = set()
    planned: list[_Planned] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        table_name = op["TableName"]
        table = backend.get_table(table_name)
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        marker = moto_conflicts.item_marker(table, key)
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        planned.append((op_type, op, table_name, key, marker))
    return planned


def _check_and_apply(self: Any, planned: list[_Planned]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import TransactionCanceledException

    befores: list[Any] = []
    errors: list[Any] = []
    for _op_type, op, table_name, key, _marker in planned:
        current = self.get_item(table_name, key)
        condition = op.get("ConditionExpression")
        ok = True
        original = None
        if condition is not None:
            expr = get_filter_expression(
                condition,
                op.get("ExpressionAttributeNames"),
                op.get("ExpressionAttributeValues"),
            )
            ok = bool(expr.expr(current))
            if not ok and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                original = current.to_json()["Attributes"]
        errors.append(
            ("ConditionalCheckFailed", "The conditional request failed", original) if not ok else (None, None, None)
        )
        befores.append(copy.deepcopy(current))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    done: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for (op_type, op, table_name, key, _marker), before in zip(planned, befores, strict=True):
            _apply_op(self, op_type, op, table_name, key)
            done.append((table_name, key, before))
    except Exception:
        for table_name, key, before in reversed(done):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


def _apply_op(backend: Any, op_type: str, op: dict[str, Any], table_name: str, key: dict[str, Any]) -> None:
    names = op.get("ExpressionAttributeNames")
    vals = op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(table_name, op["Item"])
    elif op_type == "Delete":
        backend.delete_item(table_name, key)
    elif op_type == "Update":
        backend.update_item(
            table_name,
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=vals,
        )


def apply() -> None:
    """Patch moto once per process (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for name in _LOCKED_METHODS:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.query = _locked_start_key(DynamoDBBackend.query, query=True)  # type: ignore[method-assign]
    DynamoDBBackend.scan = _locked_start_key(DynamoDBBackend.scan, query=False)  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    moto_query.apply()
    DynamoHandler.batch_write_item = moto_conflicts.batch_writes_unchecked(DynamoHandler.batch_write_item)  # type: ignore[method-assign]
    DynamoHandler.transact_get_items = moto_conflicts.transact_get_checked(DynamoHandler.transact_get_items)  # type: ignore[method-assign]
    _serial_asl_parser()
    _applied = True


def _serial_asl_parser() -> None:
    """moto's ASL Preprocessor keeps its query-language scope stack in a class attribute, shared by
    every instance: two executions starting at once corrupt it (IndexError in the execution thread,
    the execution never runs). Parse one definition at a time."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.parse
    lock = threading.Lock()

    def parse(definition: str) -> Any:
        with lock:
            return original(definition)

    AmazonStateLanguageParser.parse = staticmethod(parse)  # type: ignore[method-assign]


_functions: Any = None
_s3_async = False


def route_lambda(functions: Any, s3_async: bool = False) -> None:
    """Lambda invokes (Step Functions tasks, S3 notifications) run the real handlers in-process."""
    global _functions, _s3_async
    _functions, _s3_async = functions, s3_async
    import moto.s3.notifications as s3n
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from local.aws.functions import invoke_bytes

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        return invoke_bytes(_functions, function_name, body, response_headers)

    def s3_invoke(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        def run() -> None:
            _functions.get(fn_arn).invoke(event_body)

        pending = getattr(_put_in_progress, "notifications", None)
        if pending is not None:  # inside a PUT: S3 notifies once the object (and its metadata) is whole
            pending.append(run)
        elif _s3_async:
            threading.Thread(target=_log_errors(run), daemon=True).start()
        else:
            run()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    s3n._invoke_awslambda = s3_invoke
    moto_s3_access.apply(functions.resolver)
    _defer_notifications_until_put_completes()


_put_in_progress = threading.local()


def _defer_notifications_until_put_completes() -> None:
    """moto sends an object's S3 notification from inside PutObject, before it stores the object's
    metadata (x-amz-meta-*); S3 sends it once the object is complete. A bulk import started by a
    direct upload reads its settings from that metadata, so the notification is held until the
    PUT is done, then delivered (on a thread in the local run, as S3 is asynchronous)."""
    from moto.s3.responses import S3Response

    if getattr(S3Response.put_object, "_goodwill_deferred", False):
        return
    original = S3Response.put_object

    def put_object(self: Any) -> Any:
        outer = getattr(_put_in_progress, "notifications", None)
        _put_in_progress.notifications = pending = [] if outer is None else outer
        try:
            return original(self)
        finally:
            if outer is None:
                _put_in_progress.notifications = None
                for run in pending:
                    if _s3_async:
                        threading.Thread(target=_log_errors(run), daemon=True).start()
                    else:
                        run()

    put_object._goodwill_deferred = True  # type: ignore[attr-defined]
    S3Response.put_object = put_object  # type: ignore[method-assign]


def _log_errors(run: Callable[[], None]) -> Callable[[], None]:
    def wrapper() -> None:
        try:
            run()
        except Exception:  # the local run reports, as CloudWatch would, and keeps serving
            import logging

            logging.getLogger("goodwill.local").exception("S3-triggered function failed")

    return wrapper
