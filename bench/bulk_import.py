"""Benchmark: a bulk CSV import end to end against moto, and the DynamoDB requests it makes.

    PYTHONPATH=.:layers/goodwill .venv/bin/python -m bench.bulk_import [--quick]

The import runs as deployed: the upload's S3 event starts the real state machine, whose tasks
(scan, one per chunk through the Distributed Map, finish) run the real handler in-process. Every
customer appears twice, on consecutive rows, so half the rows wait for a later transaction (an
item is written at most once per transaction). A customer named in chunks that run at the same
time costs more: a transaction cancelled by the other chunk's change, and a re-read.

Measured: DynamoDB requests per 1,000 applied rows (botocore's before-call hook on the handlers'
client: every request the import makes, reads, writes and bookkeeping); rows/s end to end (upload
to final status); and the floor: the very TransactWriteItems calls the import made, replayed
directly on a twin table. moto is the bottleneck here (its DynamoDB does a few thousand items/s),
so the ratio import / floor is what says how much the import adds; no timing is asserted.
"""

from __future__ import annotations

import contextlib
import copy
import json
import sys
import time
from collections import Counter
from typing import Any

from bench import wcu
from bench.bulk_scale import csv_lines
from bench.floor import CLIENT_CONFIG, create_twin
from bench.harness import moto_stack
from local.aws.stack import Stack

ORG = "bench"
REQUESTS_GOAL = 60


def _seed(stack: Stack, customers: int) -> None:
    ddb, name = stack.client("dynamodb"), stack.ref("GoodwillTable")
    items = [{"PK": {"S": f"ORG#{ORG}"}, "SK": {"S": "ORG"}, "org_id": {"S": ORG}}]
    for n in range(customers):
        key = {"PK": {"S": f"ORG#{ORG}#CUST#B{n:06d}"}, "SK": {"S": "PROFILE"}}
        items.append({**key, "customer_id": {"S": f"B{n:06d}"}, "org_id": {"S": ORG}})
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]})


def _csv(rows: int) -> bytes:
    # each customer twice, on consecutive rows: the second row waits for a later transaction
    return "".join(csv_lines(rows)).encode()


def _wait(stack: Stack, import_id: str, timeout: float) -> dict[str, Any]:
    ddb, key = stack.client("dynamodb"), {"PK": {"S": f"ORG#{ORG}#IMPORT#{import_id}"}, "SK": {"S": "IMPORT"}}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = ddb.get_item(TableName=stack.ref("GoodwillTable"), Key=key, ConsistentRead=True)["Item"]
        if item["status"]["S"] not in ("AWAITING_UPLOAD", "RUNNING"):
            return {"status": item["status"]["S"], "totals": {k: int(v["N"]) for k, v in item["totals"]["M"].items()}}
        time.sleep(0.02)
    raise TimeoutError(f"import {import_id} did not finish in {timeout:.0f} s")


def _retarget(op: dict[str, Any], table: str) -> dict[str, Any]:
    return {kind: {**body, "TableName": table} for kind, body in op.items()}


def _replay(stack: Stack, calls: list[dict[str, Any]]) -> float:
    """Seconds to issue the recorded TransactWriteItems on a fresh twin table, in order."""
    table = stack.ref("GoodwillTable")
    twin = f"{table}-floor"
    create_twin(stack, table, twin)
    client = stack.session.client("dynamodb", config=CLIENT_CONFIG)
    renamed: list[list[Any]] = [[_retarget(op, twin) for op in c["TransactItems"]] for c in calls]
    started = time.perf_counter()
    for items in renamed:
        # the import's bookkeeping updates need its record, which the twin has not: they fail alike
        with contextlib.suppress(client.exceptions.ClientError):
            client.transact_write_items(TransactItems=items)
    return time.perf_counter() - started


def _one_per_customer(kinds: dict[str, dict[str, int]]) -> float:
    """Write units of a row whose customer has no other row in its chunk: its ledger entry and a
    balance write of its own, at the sizes measured."""
    per_item = [(k["base_units"] + k["gsi_units"]) / k["items"] for name, k in kinds.items() if name in ("TXN", "BAL")]
    return round(sum(per_item), 2)


def _revert(stack: Stack, import_id: str, admin: Any) -> dict[str, Any]:
    """Revert the import (POST .../revert, then the same workflow): DynamoDB requests per 1,000
    reverted rows and write units per reverted row, measured as for the import."""
    from goodwill import aws
    from goodwill.models.imports import RevertImportRequest
    from goodwill.reverts import start

    requests: Counter[str] = Counter()
    writes: list[dict[str, Any]] = []

    def count(model: Any, **_: Any) -> None:
        requests[model.name] += 1

    def record(params: dict[str, Any], **_: Any) -> None:
        writes.append(copy.deepcopy(params))

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb", count)
    events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    started = time.perf_counter()
    start.start(admin, import_id, RevertImportRequest())
    ddb, key = stack.client("dynamodb"), {"PK": {"S": f"ORG#{ORG}#IMPORT#{import_id}"}, "SK": {"S": "IMPORT"}}
    deadline = time.monotonic() + 1800
    while (item := ddb.get_item(TableName=stack.ref("GoodwillTable"), Key=key)["Item"])["status"]["S"] == "REVERTING":
        if time.monotonic() > deadline:
            raise TimeoutError("the revert did not finish")
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    events.unregister("before-call.dynamodb", count)
    events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)
    totals = {k: int(v["N"]) for k, v in item["revert_totals"]["M"].items()}
    kinds = wcu.transaction_units(writes)
    # The Update of each original entry (reversed_by) is not a Put: it costs what a ledger entry
    # of its shape costs, counted from the reversal entries' own sizes.
    entry = kinds.get("TXN", {"items": 0, "base_units": 0, "gsi_units": 0})
    updates = sum(1 for w in writes for op in w["TransactItems"] if "Update" in op)
    per_entry = (entry["base_units"] + entry["gsi_units"]) / max(entry["items"], 1)
    units = sum(k["base_units"] + k["gsi_units"] for k in kinds.values()) + updates * per_entry
    reverted = max(totals["reversed"], 1)
    return {
        "status": item["status"]["S"],
        "totals": totals,
        "seconds": round(seconds, 2),
        "dynamodb_requests": dict(requests),
        "requests_per_1000_reverted_rows": round(sum(requests.values()) * 1000 / reverted, 1),
        "items_written_per_reverted_row": round(sum(len(w["TransactItems"]) for w in writes) / reverted, 2),
        "wcu_per_reverted_row": round(units / reverted, 2),
        "write_units": kinds,
    }


def run(quick: bool = False) -> dict[str, Any]:
    from goodwill import aws
    from goodwill.auth import Principal, Role
    from goodwill.bulk import imports
    from goodwill.models.imports import BulkImportCreateRequest

    rows = 2_000 if quick else 10_000  # moto applies ~500 rows/s: bench/bulk_scale.py goes to 1M rows
    with moto_stack() as stack:  # the template's environment: IMPORT_CHUNK_ROWS included
        _seed(stack, rows // 2)
        requests: Counter[str] = Counter()
        writes: list[dict[str, Any]] = []

        def count(model: Any, **_: Any) -> None:
            requests[model.name] += 1

        def record(params: dict[str, Any], **_: Any) -> None:
            writes.append(copy.deepcopy(params))

        aws.dynamodb().meta.events.register("before-call.dynamodb", count)
        aws.dynamodb().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
        admin = Principal(org_id=ORG, actor="bench", roles=frozenset({Role.ADMIN}))
        created = imports.create(admin, BulkImportCreateRequest(program_id="default"))
        body = _csv(rows)
        started = time.perf_counter()
        key = f"imports/{ORG}/{created['import_id']}.csv"
        stack.client("s3").put_object(Bucket=stack.ref("ImportBucket"), Key=key, Body=body)
        outcome = _wait(stack, created["import_id"], timeout=1800)
        seconds = time.perf_counter() - started
        aws.dynamodb().meta.events.unregister("before-call.dynamodb", count)
        aws.dynamodb().meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", record)
        floor = _replay(stack, writes)
        reverted = _revert(stack, created["import_id"], admin)
        chunk_rows = int(stack.functions.by_id["BulkCsvImportFunction"].environment["IMPORT_CHUNK_ROWS"])

    applied = outcome["totals"]["applied"]
    total = sum(requests.values())
    per_1000 = round(total * 1000 / max(applied, 1), 1)
    items = sum(len(w["TransactItems"]) for w in writes)
    kinds = wcu.transaction_units(writes)
    units = sum(k["base_units"] + k["gsi_units"] for k in kinds.values())
    result = {
        "benchmark": "bulk_import",
        "rows": rows,
        "file_kib": round(len(body) / 1024, 1),
        "chunk_rows": chunk_rows,
        "status": outcome["status"],
        "totals": outcome["totals"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(applied / seconds),
        "dynamodb_requests": dict(requests),
        "requests_per_1000_rows": per_1000,
        "items_written_per_row": round(items / max(applied, 1), 2),
        # from the items written: their sizes, doubled in transactions, plus their GSI copies
        "wcu_per_row": round(units / max(applied, 1), 2),
        "wcu_per_row_one_per_customer": _one_per_customer(kinds),
        "write_units": kinds,
        "floor_seconds": round(floor, 2),
        "floor_rows_per_s": round(applied / floor) if floor else None,
        "ratio_to_floor": round(seconds / floor, 2) if floor else None,
        "revert": reverted,
    }
    result["table"] = [
        {
            "measure": f"import of {rows:,} rows against moto, end to end",
            "result": f"{result['seconds']} s, {result['rows_per_s']:,} rows/s",
            "goal": "",
            "met": None,
        },
        {
            "measure": "import time / its own TransactWriteItems replayed directly",
            "result": f"{result['ratio_to_floor']}x (floor {result['floor_seconds']} s)",
            "goal": "",
            "met": None,
        },
    ]
    return result


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
