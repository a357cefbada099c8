"""Make moto behave like DynamoDB where Goodwill's guarantees depend on it.

moto 5.2's TransactWriteItems deep-copies every table it touches (once per item) and, on a failed
condition, puts those copies back: under concurrency a cancelled transaction silently rolls back
writes other threads committed meanwhile, conditions are not checked atomically with the writes,
and each transaction costs O(table size). DynamoDB serialises conflicting writes and checks every
condition before applying anything. These patches give moto the same semantics: one lock around
item reads and writes, and a two-phase transaction (check all, then apply) with no table copies.
Applied by the test fixtures and by the local run; nothing here ships to AWS.
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_applied = False

_LOCKED_METHODS = (
    "get_item",
    "query",
    "scan",
    "batch_get_item",
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_get_items",
)


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        seen: set[tuple[str, str]] = set()
        planned: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
        errors: list[Any] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
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
            planned.append((op_type, op, table_name, key, copy.deepcopy(current)))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        done: list[tuple[str, dict[str, Any], Any]] = []
        try:
            for op_type, op, table_name, key, before in planned:
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

    for name in _LOCKED_METHODS:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _applied = True


_functions: Any = None
_s3_async = False


def route_lambda(functions: Any, s3_async: bool = False) -> None:
    """Lambda invokes (Step Functions tasks, S3 notifications) run the real handlers in-process."""
    global _functions, _s3_async
    _functions, _s3_async = functions, s3_async
    import moto.s3.notifications as s3n
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from local.functions import invoke_bytes

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
