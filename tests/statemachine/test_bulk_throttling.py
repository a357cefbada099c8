"""Throttling is a steady state of a big import on a new table (issue 17): chunk workers back off
and go on, the import finishes, no row is lost or applied twice. DynamoDB throttles a third of the
import's transactions here, both ways it does: a TransactionCanceledException with
ThrottlingError reasons, and a ThrottlingException once the SDK's own retries are spent."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from goodwill import aws
from goodwill.repositories import table
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import ledger_rows, report, run_import
from tests.integration.test_bulk_uploads import _seed_profiles
from tests.support import Api, table_items


class Throttle:
    """Answer every third TransactWriteItems as throttled, before it reaches moto."""

    def __init__(self) -> None:
        self.calls = 0
        self.throttled: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        with self._lock:
            self.calls += 1
            if self.calls % 3:
                return None
            code = "ThrottlingException" if len(self.throttled) % 2 else "TransactionCanceledException"
            self.throttled.append(code)
        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]
        parsed = {
            "Error": {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        if code == "TransactionCanceledException":
            parsed["CancellationReasons"] = reasons * len(params["TransactItems"])
        return _Response(400), parsed


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def test_a_throttled_import_backs_off_and_applies_every_row_once(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 300 customers, two rows each, in chunks of about 200 rows, and a table that throttles
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "200")
    _seed_profiles(stack, 300)
    throttle = Throttle()
    aws.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", throttle)
    text = "customer_id,points\n" + "".join(f"C{i % 300:05d},{i % 5 + 1}\n" for i in range(600))

    # When the file is imported
    import_id, view = run_import(api, stack, text, timeout=300)

    # Then the throttling happened, both ways, and still every row applied exactly once
    assert {"TransactionCanceledException", "ThrottlingException"} <= set(throttle.throttled)
    assert (view["status"], view["totals"]) == ("COMPLETED", {"rows": 600, "applied": 600, "failed": 0})
    assert len(ledger_rows(stack)) == 600
    expected = {f"C{c:05d}": c % 5 + 1 + (c + 300) % 5 + 1 for c in range(300)}
    items = (table.deserialize(i) for i in table_items(stack))
    assert {i["customer_id"]: i["current"] for i in items if i["SK"] == "BAL#default"} == expected
    assert {line["status"] for line in report(stack, "acme", import_id)} == {"APPLIED"}
