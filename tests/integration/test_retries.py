"""One retry helper: only what is retryable is retried, a bounded number of times, with jittered
back-off, then a clean 503 with nothing written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from goodwill import aws, retry
from goodwill.errors import ServiceUnavailableError
from goodwill.repositories import imports_records, keys, table
from local.aws.stack import Stack
from tests.integration.test_faults import failing
from tests.support import Api, table_items


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every back-off slept, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(retry, "time", SimpleNamespace(sleep=slept.append))
    return slept


def _cancelled(*reasons: str) -> dict[str, Any]:
    return {
        "Code": "TransactionCanceledException",
        "Message": f"Transaction cancelled [{', '.join(reasons)}]",
        "extra": {"CancellationReasons": [{"Code": r} for r in reasons]},
    }


class _Ok:
    status_code = 200
    headers: dict[str, str] = {}  # noqa: RUF012


@contextmanager
def unprocessed(operation: str, times: int = 10**6) -> Iterator[list[int]]:
    """BatchGetItem / BatchWriteItem answer 'all of it unprocessed' for their next `times` calls."""
    client = aws.dynamodb()
    calls = [0]

    def hook(params: dict[str, Any], **_: Any) -> Any:
        if calls[0] >= times:
            return None
        calls[0] += 1
        field = "UnprocessedKeys" if operation == "BatchGetItem" else "UnprocessedItems"
        sent = json.loads(params["body"])["RequestItems"]
        return _Ok(), {field: sent, "ResponseMetadata": {"HTTPStatusCode": 200}}

    event = f"before-call.dynamodb.{operation}"
    client.meta.events.register(event, hook)
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, hook)


def test_a_cancellation_that_is_not_retryable_is_tried_once(api: Api, stack: Stack, sleeps: list[float]) -> None:
    api.customer("c-1")
    before = table_items(stack)
    with failing(aws.dynamodb(), "TransactWriteItems", _cancelled("ValidationError", "None", "None")) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == 1
    assert reply.status == 500
    assert table_items(stack) == before


def test_a_lasting_conflict_is_retried_a_bounded_number_of_times_with_jittered_backoff(
    api: Api, stack: Stack, sleeps: list[float]
) -> None:
    api.customer("c-1")
    before = table_items(stack)
    with failing(aws.dynamodb(), "TransactWriteItems", _cancelled("TransactionConflict", "None", "None")) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == retry.CONTENTION.attempts
    assert (reply.status, reply.error_code) == (503, "SERVICE_UNAVAILABLE")
    assert table_items(stack) == before
    waits = sleeps[-(retry.CONTENTION.attempts - 1) :]
    assert len(set(waits)) == len(waits)  # jittered: no two waits alike
    assert all(0 <= w <= min(retry.CONTENTION.cap, retry.CONTENTION.base * 2**n) for n, w in enumerate(waits, 1))


def test_unprocessed_keys_of_a_grant_read_are_bounded_then_503(api: Api, sleeps: list[float]) -> None:
    api.customer("c-1")
    with unprocessed("BatchGetItem", times=100) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == retry.UNPROCESSED.attempts
    assert reply.status == 503
    assert api.ledger("c-1") == []


def test_unprocessed_keys_come_back_once_dynamodb_catches_up(api: Api, sleeps: list[float]) -> None:
    api.customer("c-1")
    with unprocessed("BatchGetItem", times=2) as calls:
        reply = api.grant("c-1", 10)
    assert calls[0] == 2
    assert reply.status == 201
    assert len(sleeps) == 2


def test_unprocessed_keys_of_an_import_read_are_bounded(api: Api, sleeps: list[float]) -> None:
    api.customer("c-1")
    wanted = [keys.customer("acme", "c-1")]
    with unprocessed("BatchGetItem", times=100) as calls, pytest.raises(ServiceUnavailableError):
        imports_records.batch_get(wanted, ["customer_id"])
    assert calls[0] == retry.UNPROCESSED.attempts
    with unprocessed("BatchGetItem", times=1):
        assert list(imports_records.batch_get(wanted, ["customer_id"])) == [(wanted[0]["PK"], "PROFILE")]
    assert table.batch_get(wanted)[0]["customer_id"] == "c-1"
