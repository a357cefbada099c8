"""A bulk file gives the result of applying it row by row (issue 12, defect 14), at scale: 20,000
rows through the real Distributed Map (moto executes statemachine/bulk_import.asl.json), with the
upload event delivered twice and a chunk that crashes half-way, every balance and the ledger
count checked exactly."""

from __future__ import annotations

from collections import Counter

import pytest

from goodwill.repositories import table
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import (
    create_import,
    ledger_rows,
    put_file,
    record_uploads,
    report,
    wait_until_done,
)
from tests.integration.test_bulk_uploads import _seed_profiles
from tests.statemachine.test_bulk_import_workflow import Crashes
from tests.support import Api, table_items

CUSTOMERS = 1_000
ROUNDS = 20  # every customer appears every 1,000 rows


def _points(customer: int, round_: int) -> int:
    """Credits first, then debits that only a balance built in file order covers."""
    step = customer % 3 + 2
    if round_ < 10:
        return step
    if round_ < ROUNDS - 1:
        return -step
    return customer % 7 + 1


def _file() -> str:
    lines = (f"C{c:05d},{_points(c, r)}\n" for r in range(ROUNDS) for c in range(CUSTOMERS))
    return "customer_id,points\n" + "".join(lines)


def _row_by_row() -> dict[str, int]:
    """The balances the file gives when applied one row after another (and it never overdraws)."""
    balances: Counter[str] = Counter()
    for r in range(ROUNDS):
        for c in range(CUSTOMERS):
            balances[f"C{c:05d}"] += _points(c, r)
            assert balances[f"C{c:05d}"] >= 0
    return dict(balances)


@pytest.mark.slow
def test_a_20k_row_file_applies_each_customers_rows_in_file_order_once_despite_crash_and_redelivery(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1,000 customers and chunks of 5,000 rows, one of which dies after a transaction
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "5000")
    monkeypatch.setenv("IMPORT_SEGMENT_ROWS", "5000")  # each chunk reads a range of four segments
    _seed_profiles(stack, CUSTOMERS)
    crashes = Crashes(monkeypatch, chunk=None, times=1)
    seen = record_uploads(stack, monkeypatch)

    # When the file is uploaded and S3 delivers its event a second time while the import runs
    import_id = create_import(api)["import_id"]
    put_file(stack, f"imports/acme/{import_id}.csv", _file())
    stack.functions.by_id["BulkCsvImportFunction"].invoke(seen[0]["event"])
    done = wait_until_done(stack, "acme", import_id, timeout=600)

    # Then every row applied once, in each customer's file order: the result of row by row
    assert crashes.left == 0  # the crash happened
    assert [s["result"]["imports"][0]["outcome"] for s in seen] == ["STARTED", "DUPLICATE"]
    assert (done["status"], done["totals"]) == ("COMPLETED", {"rows": 20_000, "applied": 20_000, "failed": 0})
    assert len(ledger_rows(stack)) == 20_000
    items = (table.deserialize(i) for i in table_items(stack))
    balances = {i["customer_id"]: (i["current"], i["lifetime"]) for i in items if i["SK"] == "BAL#default"}
    assert balances == {c: (v, v) for c, v in _row_by_row().items()}
    lines = report(stack, "acme", import_id)
    assert [line["row"] for line in lines] == [str(n) for n in range(1, 20_001)]
    assert {line["status"] for line in lines} == {"APPLIED"}
