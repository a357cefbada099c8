"""The bulk import workflow (statemachine/bulk_import.asl.json) as deployed, run by moto's
interpreter with the real handler as every task: the Distributed Map over chunks, crashes and
retries (each row applied once), resuming from checkpoints, and a 100,000-row file."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from goodwill.bulk import apply
from goodwill.repositories import keys, table
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import (
    create_import,
    ledger_rows,
    put_file,
    record,
    record_uploads,
    report,
    run_import,
    wait_until_done,
)
from tests.integration.test_bulk_uploads import _seed_profiles
from tests.support import Api, table_items


def _history(stack: Stack, import_id: str, attempt: int = 1) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    arn = stack.ref("BulkImportStateMachine").replace(":stateMachine:", ":execution:") + f":{import_id}-{attempt}"
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]  # type: ignore[no-any-return]


class Crashes:
    """Make the chunk task die right after a transaction, as a Lambda that times out would.

    `chunk`: only that chunk (partition index; None: any); `times`: how many crashes (None: every
    time, until `stop()`). Chunk tasks run on the Map's threads, so the state is per thread.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, chunk: int | None, times: int | None) -> None:
        self.chunk, self.left = chunk, times
        self.runs: list[int] = []  # the chunk of every run that applied rows
        self._local = threading.local()
        self._lock = threading.Lock()
        # imported here: Powertools reads its settings when goodwill.observability is first
        # imported, which must happen under the test's environment, not at collection
        from goodwill.bulk import run

        real_process, real_transact = run.process_chunk, apply.table.transact

        def process_chunk(org_id: str, import_id: str, header: str, spec: dict[str, Any]) -> dict[str, int]:
            self._local.index = int(spec["index"])
            with self._lock:
                if table.get(keys.import_chunk(org_id, import_id, self._local.index)) is None:
                    self.runs.append(self._local.index)
            try:
                return real_process(org_id, import_id, header, spec)
            finally:
                self._local.index = None

        def transact(ops: Sequence[dict[str, Any]]) -> table.Cancelled | None:
            outcome = real_transact(ops)
            index = getattr(self._local, "index", None)
            if index is not None and self.chunk in (None, index) and self._take():
                raise RuntimeError("injected crash after a transaction")
            return outcome

        monkeypatch.setattr(run, "process_chunk", process_chunk)
        monkeypatch.setattr(apply.table, "transact", transact)

    def _take(self) -> bool:
        with self._lock:
            if self.left is None:
                return True
            if self.left > 0:
                self.left -= 1
                return True
            return False

    def stop(self) -> None:
        with self._lock:
            self.left = 0


def _rows(count: int) -> str:
    return "customer_id,points\n" + "".join(f"C{i:05d},{i % 7 + 1}\n" for i in range(count))


def _expected_balances(count: int) -> dict[str, int]:
    return {f"C{i:05d}": i % 7 + 1 for i in range(count)}


def _balances(stack: Stack) -> dict[str, int]:
    items = (table.deserialize(i) for i in table_items(stack))
    return {i["customer_id"]: i["current"] for i in items if i["SK"] == "BAL#default"}


def test_chunks_fan_out_over_a_distributed_map_and_the_report_keeps_row_order(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "2")
    monkeypatch.setenv("IMPORT_SEGMENT_ROWS", "2")  # three segments: each chunk reads a range of each
    _seed_profiles(stack, 5)
    import_id, view = run_import(api, stack, _rows(5) + "C00000,zero\n")

    assert view["totals"] == {"rows": 6, "applied": 5, "failed": 1}
    events = _history(stack, import_id)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered == ["Scan file", "File accepted?", "Apply chunks", "Finish import"]
    assert any(e["type"] == "MapRunStarted" for e in events)
    assert [line["row"] for line in report(stack, "acme", import_id)] == [str(n) for n in range(1, 7)]
    checkpoints = [table.deserialize(i) for i in table_items(stack) if i["SK"]["S"].startswith("CHUNK#")]
    assert 1 < len(checkpoints) <= 3  # partitions of about two rows, by customer
    assert sum(c["rows"] for c in checkpoints) == 6
    assert _balances(stack) == _expected_balances(5)


def test_a_chunk_that_crashes_after_a_transaction_is_retried_and_applies_each_row_once(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "100")
    _seed_profiles(stack, 300)
    crashes = Crashes(monkeypatch, chunk=2, times=1)  # the last chunk dies after its first transaction

    import_id, view = run_import(api, stack, _rows(300))

    assert (view["status"], view["totals"]) == ("COMPLETED", {"rows": 300, "applied": 300, "failed": 0})
    assert sorted(crashes.runs) == [0, 1, 2, 2]  # run, crashed, retried by the workflow
    assert len(ledger_rows(stack)) == 300
    assert _balances(stack) == _expected_balances(300)
    lines = report(stack, "acme", import_id)
    assert {line["status"] for line in lines} == {"APPLIED"}
    assert {line["transaction_id"] for line in lines} == {e["SK"][4:] for e in ledger_rows(stack)}


def test_an_import_that_stopped_resumes_from_its_checkpoints_when_its_event_comes_again(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sns.models import sns_backends

    # Given chunks of about 200 rows (100 customers twice: four transactions of 33 customers'
    # rows), of which the last keeps crashing after each transaction, more often than it is retried
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "200")
    _seed_profiles(stack, 300)
    crashes = Crashes(monkeypatch, chunk=2, times=None)
    seen = record_uploads(stack, monkeypatch)
    import_id = create_import(api)["import_id"]
    put_file(stack, f"imports/acme/{import_id}.csv", _rows(300) + _rows(300).split("\n", 1)[1])
    stopped = wait_until_done(stack, "acme", import_id)
    assert (stopped["status"], stopped["resumable"]) == ("FAILED", True)
    assert stopped["error"].startswith("the import stopped (")
    finished = [table.deserialize(i) for i in table_items(stack) if i["SK"]["S"].startswith("CHUNK#")]
    assert sorted(c["SK"] for c in finished) == ["CHUNK#0000000", "CHUNK#0000001"]
    assert sum(c["applied"] for c in finished) < len(ledger_rows(stack)) < 600

    # When the fault is gone and S3 delivers the upload's event again
    crashes.stop()
    first_attempt = list(crashes.runs)
    stack.functions.by_id["BulkCsvImportFunction"].invoke(seen[0]["event"])
    done = wait_until_done(stack, "acme", import_id)

    # Then the import resumes: finished chunks are skipped, every row is applied exactly once
    assert seen[1]["result"]["imports"][0]["outcome"] == "RESUMED"
    assert (done["status"], done["attempt"], done["totals"]) == (
        "COMPLETED",
        2,
        {"rows": 600, "applied": 600, "failed": 0},
    )
    assert sorted(first_attempt) == [0, 1, 2, 2, 2]  # the last chunk: run and retried twice
    assert crashes.runs[len(first_attempt) :] == [2]  # the others are done: skipped
    assert len(ledger_rows(stack)) == 600
    assert _balances(stack) == {c: 2 * v for c, v in _expected_balances(300).items()}
    topic = sns_backends["123456789012"]["us-east-1"].topics[stack.ref("ImportEventsTopic")]
    assert [n[2] for n in topic.sent_notifications] == ["Goodwill bulk import failed", "Goodwill bulk import completed"]


# A dry run by default: it takes the same path (scan, twenty chunks read by byte range, customers
# read in batches, the report of 100,000 lines), but writing 200,000 items takes moto about three
# minutes on two cores, whatever the import does (see bench/bulk_import.py for the ratio to that
# floor). GOODWILL_BULK_100K_APPLY=1 applies every row instead.
APPLY_100K = os.environ.get("GOODWILL_BULK_100K_APPLY") == "1"


@pytest.mark.slow
def test_a_hundred_thousand_row_file_runs_through_the_distributed_map(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "5000")
    _seed_profiles(stack, 10_000)
    lines = [f"C{n // 10:05d},{'x' if n % 1000 == 999 else n % 9 + 1}\n" for n in range(100_000)]
    started = time.monotonic()

    text = "customer_id,points\n" + "".join(lines)
    import_id, view = run_import(api, stack, text, timeout=900, dry_run=not APPLY_100K)

    elapsed = time.monotonic() - started
    totals = record(stack, "acme", import_id)["totals"]  # type: ignore[index]
    assert (totals["rows"], totals["failed"]) == (100_000, 100)
    assert totals["applied" if APPLY_100K else "valid"] == 99_900
    assert view["status"] == "COMPLETED_WITH_ERRORS"
    chunks = [i for i in table_items(stack) if i["SK"]["S"].startswith("CHUNK#")]
    assert len(chunks) == 20
    got = report(stack, "acme", import_id)
    assert len(got) == 100_000
    assert [line["row"] for line in got[:3] + got[-2:]] == ["1", "2", "3", "99999", "100000"]
    assert (got[998]["status"], got[999]["status"]) == ("VALID" if not APPLY_100K else "APPLIED", "FAILED")
    assert len(ledger_rows(stack)) == (99_900 if APPLY_100K else 0)
    print(f"100,000 rows ({'applied' if APPLY_100K else 'dry run'}) in {elapsed:.1f} s")
