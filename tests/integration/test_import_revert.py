"""Import revert end to end (CONTRACT.md section 13): POST .../revert, the import's own workflow
executed by moto (job: revert), the balances, the REVERSAL entries, the revert report, the 409s."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest

from local.aws.stack import Stack
from tests.integration.test_bulk_imports import (
    bucket,
    create_import,
    customers,
    ledger_rows,
    put_file,
    record,
    run_import,
)
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api

REVERT_ENDS = {"REVERTED", "REVERTED_WITH_ERRORS"}


def revert(api: Api, import_id: str, as_: dict[str, str] = ADMIN, **body: Any) -> Any:
    return api.post(f"/goodwill/bulk-imports/{import_id}/revert", body, as_=as_)


def wait_reverted(stack: Stack, import_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = record(stack, "acme", import_id) or {}
        if found.get("status") in REVERT_ENDS and all(e["status"] != "RUNNING" for e in stack.executions()):
            return found
        time.sleep(0.05)
    raise TimeoutError(f"revert of {import_id} still running: {record(stack, 'acme', import_id)}")


def run_revert(api: Api, stack: Stack, import_id: str, **body: Any) -> dict[str, Any]:
    reply = revert(api, import_id, **body)
    assert reply.status == 202, reply.body
    assert reply.body["status"] == "REVERTING"
    wait_reverted(stack, import_id)
    view = api.get(f"/goodwill/bulk-imports/{import_id}")
    assert view.status == 200, view.body
    return view.body  # type: ignore[no-any-return]


def revert_report(stack: Stack, import_id: str) -> list[dict[str, str]]:
    import csv
    import io

    key = f"reports/acme/{import_id}-revert.csv"
    raw = stack.client("s3").get_object(Bucket=bucket(stack), Key=key)["Body"].read()
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def reversals(stack: Stack) -> Counter[str]:
    """How many REVERSAL entries reverse each entry."""
    return Counter(e["reverses"] for e in ledger_rows(stack) if e["type"] == "REVERSAL")


def applied_ids(stack: Stack, import_id: str) -> set[str]:
    return {
        e["transaction_id"] for e in ledger_rows(stack) if e.get("import_id") == import_id and e["type"] != "REVERSAL"
    }


# ---------------------------------------------------------------------------------- outcomes


def test_revert_restores_balances_and_reverses_each_applied_row_once(api: Api, stack: Stack) -> None:
    from moto.sns.models import sns_backends

    # Given balances, and an import that credited (one with expiry), debited and failed a row
    customers(api, "c-1", "c-2", "c-3")
    api.grant("c-3", 40)
    text = "customer_id,points,expires_at\nc-1,100,2099-01-01T00:00:00Z\nc-2,50,\nc-3,-10,\nc-9,5,\nc-1,20,\nc-2,-70,\n"
    import_id, done = run_import(api, stack, text)
    assert done["totals"] == {"rows": 6, "applied": 4, "failed": 2}
    assert api.balance("c-1")["current"] == 120

    # When the import is reverted
    view = run_revert(api, stack, import_id, comment="wrong file")

    # Then every balance is back, every applied row has exactly one REVERSAL, linked both ways
    assert api.balance("c-1") == {"current": 0, "lifetime": 0}
    assert api.balance("c-2") == {"current": 0, "lifetime": 0}
    assert api.balance("c-3") == {"current": 40, "lifetime": 40}
    assert api.expiring("c-1") == []  # the reversed credit's lot is gone with it
    applied = applied_ids(stack, import_id)
    assert len(applied) == 4
    assert reversals(stack) == Counter(dict.fromkeys(applied, 1))
    entries = {e["transaction_id"]: e for c in ("c-1", "c-2", "c-3") for e in api.ledger(c)}
    for txn in applied:
        back = entries[entries[txn]["reversed_by"]]
        assert (back["type"], back["reverses"], back["points"]) == ("REVERSAL", txn, -entries[txn]["points"])
        assert (back["reason"], back["comment"], back["actor"]) == ("IMPORT_REVERTED", "wrong file", ADMIN["sub"])
    assert view["status"] == "REVERTED"
    assert view["revert"]["totals"] == {"rows": 4, "reversed": 4, "failed": 0, "skipped": 0}
    assert view["revert"]["requested_by"] == ADMIN["sub"]
    assert "revert_report_url" in view
    lines = revert_report(stack, import_id)
    assert [(r["row"], r["customer_id"], r["points"], r["status"]) for r in lines] == [
        ("1", "c-1", "-100", "REVERSED"),
        ("2", "c-2", "-50", "REVERSED"),
        ("3", "c-3", "10", "REVERSED"),
        ("5", "c-1", "-20", "REVERSED"),
    ]
    assert {r["transaction_id"] for r in lines} == {entries[t]["reversed_by"] for t in applied}
    topic = sns_backends["123456789012"]["us-east-1"].topics[stack.ref("ImportEventsTopic")]
    told = [json.loads(n[1]) for n in topic.sent_notifications]
    assert [m["status"] for m in told] == ["COMPLETED_WITH_ERRORS", "REVERTED"]
    assert told[1]["revert_totals"] == {"rows": 4, "reversed": 4, "failed": 0, "skipped": 0}


def test_revert_of_a_set_import_restores_the_balances_it_set(api: Api, stack: Stack) -> None:
    customers(api, "c-1", "c-2")
    api.grant("c-1", 300)
    api.grant("c-2", 40)
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,500\nc-2,10\n", mode="SET")
    assert (api.balance("c-1")["current"], api.balance("c-2")["current"]) == (500, 10)

    view = run_revert(api, stack, import_id)

    assert view["status"] == "REVERTED"
    assert api.balance("c-1") == {"current": 300, "lifetime": 300}
    assert api.balance("c-2") == {"current": 40, "lifetime": 40}


def test_a_revert_undoes_a_credit_and_the_debit_that_spent_it_in_one_file(api: Api, stack: Stack) -> None:
    # Given an import whose second row spends the first row's expiring credit
    customers(api, "c-1")
    text = "customer_id,points,expires_at\nc-1,100,2099-01-01T00:00:00Z\nc-1,-50,\n"
    import_id, done = run_import(api, stack, text)
    assert done["totals"] == {"rows": 2, "applied": 2, "failed": 0}

    view = run_revert(api, stack, import_id)

    # Then both rows are reversed (the debit's points went back to the credit's lot first)
    assert view["status"] == "REVERTED", view
    assert view["revert"]["totals"] == {"rows": 2, "reversed": 2, "failed": 0, "skipped": 0}
    assert api.balance("c-1") == {"current": 0, "lifetime": 0}
    assert api.expiring("c-1") == []


def test_spent_points_fail_their_row_and_a_row_reversed_before_is_skipped(api: Api, stack: Stack) -> None:
    # Given an import whose credit to c-1 is partly spent and whose credit to c-2 was reversed alone
    customers(api, "c-1", "c-2", "c-3")
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,100\nc-2,30\nc-3,25\n")
    assert api.grant("c-1", -80, as_=ADMIN).status == 201
    by_row = {e["customer_id"]: e["transaction_id"] for e in ledger_rows(stack) if e.get("import_id") == import_id}
    single = api.post(f"/customers/c-2/transactions/{by_row['c-2']}/reverse", {"reason": "SERVICE_RECOVERY"}, as_=AGENT)
    assert single.status == 201, single.body

    view = run_revert(api, stack, import_id)

    assert view["status"] == "REVERTED_WITH_ERRORS"
    assert view["revert"]["totals"] == {"rows": 3, "reversed": 1, "failed": 1, "skipped": 1}
    lines = {r["customer_id"]: r for r in revert_report(stack, import_id)}
    assert lines["c-1"]["status"] == "FAILED"
    assert lines["c-1"]["error"] == "insufficient balance: the balance (20) does not cover a debit of 100"
    assert (lines["c-2"]["status"], lines["c-2"]["transaction_id"]) == (
        "SKIPPED",
        single.body["transaction"]["transaction_id"],
    )
    assert lines["c-3"]["status"] == "REVERSED"
    assert api.balance("c-1")["current"] == 20  # untouched
    assert api.balance("c-3")["current"] == 0
    assert reversals(stack) == Counter({by_row["c-2"]: 1, by_row["c-3"]: 1})


def test_a_revert_over_many_chunks_and_segments_reports_every_row_in_row_order(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.repositories import import_files

    # Given an import of 48 rows (12 customers, 4 rows each, one row failed) in chunks of 8 rows
    # and segments of 5 row numbers (the revert's report is merged a segment at a time)
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "8")
    monkeypatch.setenv("IMPORT_SEGMENT_ROWS", "5")
    names = [f"c-{n}" for n in range(1, 13)]
    customers(api, *names)
    text = "customer_id,points\n" + "".join(f"{c},{10 + r}\n" for r in range(4) for c in names)
    import_id, done = run_import(api, stack, text.replace("c-5,12\n", "c-99,12\n"))
    assert done["totals"] == {"rows": 48, "applied": 47, "failed": 1}
    # ... and the revert's reads of its report parts watched
    reads: list[bytes] = []
    get_range = import_files.get_range

    def watched(key: str, start: int, end: int) -> bytes:
        body = get_range(key, start, end)
        if "/revert/parts/" in key:
            reads.append(body)
        return body

    monkeypatch.setattr(import_files, "get_range", watched)

    # When it is reverted
    view = run_revert(api, stack, import_id)

    # Then the report has every applied row once, in row order, each with its own reversal
    assert view["revert"]["totals"] == {"rows": 47, "reversed": 47, "failed": 0, "skipped": 0}
    lines = revert_report(stack, import_id)
    applied = [n for n in range(1, 49) if n != 29]  # row 29 named c-99, who does not exist
    assert [int(r["row"]) for r in lines] == applied
    assert [(r["customer_id"], r["points"]) for r in lines] == [
        (names[(n - 1) % 12], str(-(10 + (n - 1) // 12))) for n in applied
    ]
    entries = {e["transaction_id"]: e for e in ledger_rows(stack)}
    assert all(entries[r["transaction_id"]]["type"] == "REVERSAL" for r in lines)
    assert all(api.balance(c) == {"current": 0, "lifetime": 0} for c in names)
    # ... and the finish read the parts a segment's slice at a time, never a part whole
    assert len(reads) >= 10  # 10 segments (rows 1-4, 5-9, ..., 45-48), each in several parts
    for body in reads:
        rows = {int(line.split(",", 1)[0]) // 5 for line in body.decode().splitlines()}
        assert len(rows) == 1


# ---------------------------------------------------------------------------------- exactly once


def test_a_crashed_chunk_and_a_redelivered_start_reverse_every_row_once(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.reverts import apply

    # Given an import over several chunks (two rows each) and customers with several rows
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "2")
    names = [f"c-{n}" for n in range(1, 7)]
    customers(api, *names)
    text = "customer_id,points\n" + "".join(f"{c},{10 * (i + 1)}\n{c},-{i + 1}\n" for i, c in enumerate(names))
    import_id, done = run_import(api, stack, text)
    assert done["totals"]["applied"] == 12
    # ... a chunk that crashes right after its first transaction committed (once)
    fired: list[int] = []
    original = apply._transact

    def crash_after_commit(state: Any, ops: list[dict[str, Any]]) -> bool:
        cancelled = original(state, ops)
        if not cancelled and not fired:
            fired.append(len(ops))
            raise RuntimeError("injected: the chunk dies after its commit")
        return cancelled

    monkeypatch.setattr(apply, "_transact", crash_after_commit)

    # When the revert starts, and its start is delivered again (a twin execution of the same attempt)
    assert revert(api, import_id).status == 202
    twin = {"job": "revert", "org_id": "acme", "import_id": import_id, "attempt": 1}
    stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.ref("BulkImportStateMachine"), name=f"{import_id}-twin", input=json.dumps(twin)
    )
    wait_reverted(stack, import_id)

    # Then the fault fired, and every applied row is reversed exactly once
    assert fired
    applied = applied_ids(stack, import_id)
    assert len(applied) == 12
    assert reversals(stack) == Counter(dict.fromkeys(applied, 1))
    assert all(api.balance(c) == {"current": 0, "lifetime": 0} for c in names)
    lines = revert_report(stack, import_id)
    assert [r["row"] for r in lines] == [str(n) for n in range(1, 13)]
    assert {r["status"] for r in lines} == {"REVERSED"}


def test_a_revert_started_the_moment_the_import_completes_keeps_its_work_files(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import's finish shows COMPLETED, tells the uploader, then removes its work files; a revert
    started in that window writes its own work files below the import's (work/.../revert/), which
    the clean-up must leave alone (it deleted them: the revert's chunk found no segment and the
    revert stopped, REVERTING for good)."""
    from goodwill.bulk import run
    from goodwill.reverts import files

    customers(api, "c-1", "c-2")
    s3 = stack.client("s3")
    started: list[dict[str, Any]] = []
    cleaned_up = threading.Event()
    tell, finish, chunk_rows = run.tell_actor, run.finish, files.chunk_rows

    def admin_reverts_at_once(record: dict[str, Any]) -> None:
        tell(record)
        if not started and record.get("status") == "COMPLETED":
            started.append(revert(api, record["import_id"]).body)
            scanned = files.chunks_key("acme", record["import_id"])  # the revert's scan wrote its chunks
            deadline = time.monotonic() + 30
            while not s3.list_objects_v2(Bucket=bucket(stack), Prefix=scanned).get("KeyCount"):
                assert time.monotonic() < deadline, "the revert's scan never wrote its chunks"
                time.sleep(0.05)

    def finish_then_signal(*args: Any) -> Any:
        try:
            return finish(*args)
        finally:
            cleaned_up.set()

    def rows_after_the_clean_up(*args: Any) -> Any:
        assert cleaned_up.wait(30), "the import's finish never ended"
        return chunk_rows(*args)

    monkeypatch.setattr(run, "tell_actor", admin_reverts_at_once)
    monkeypatch.setattr(run, "finish", finish_then_signal)
    monkeypatch.setattr(files, "chunk_rows", rows_after_the_clean_up)

    # Given an import whose admin reverts it as soon as it shows COMPLETED: the revert's scan is
    # done before the import's clean-up, its chunk runs after it
    import_id = create_import(api)["import_id"]
    put_file(stack, f"imports/acme/{import_id}.csv", "customer_id,points\nc-1,10\nc-2,20\n")

    # Then the revert started in that window, its chunk ran after the clean-up, and every row is reversed
    ended = wait_reverted(stack, import_id)
    assert started and started[0]["status"] == "REVERTING" and cleaned_up.is_set()
    assert ended["status"] == "REVERTED", ended.get("revert_error")
    assert ended["totals"]["applied"] == 2
    assert api.balance("c-1") == {"current": 0, "lifetime": 0} and api.balance("c-2") == {"current": 0, "lifetime": 0}
    assert reversals(stack) == Counter(dict.fromkeys(applied_ids(stack, import_id), 1))


# ---------------------------------------------------------------------------------- refusals


def test_revert_refuses_what_cannot_be_reverted(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from goodwill.reverts import run

    customers(api, "c-1")
    dry_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\n", dry_run=True)
    failed_id, _ = run_import(api, stack, b"")
    waiting = api.post("/goodwill/bulk-imports", {"program_id": "default"}).body["import_id"]
    for import_id in (dry_id, failed_id, waiting):
        reply = revert(api, import_id)
        assert (reply.status, reply.error_code) == (409, "NOT_REVERTIBLE"), reply.body
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\n")
    assert revert(api, import_id, as_=OTHER_ADMIN).status == 404
    assert revert(api, import_id, as_=AGENT).status == 403
    assert revert(api, import_id, comment=7).status == 422
    assert revert(api, "01JNOSUCHIMPORT0000000000").status == 404

    # While a revert runs (held in its scan), a second one is refused
    release, held = threading.Event(), threading.Event()
    scan = run.scan

    def held_scan(*args: Any) -> dict[str, Any]:
        held.set()
        assert release.wait(30)
        return scan(*args)

    monkeypatch.setattr(run, "scan", held_scan)
    assert revert(api, import_id).status == 202
    assert held.wait(30)
    second = revert(api, import_id)
    release.set()
    assert (second.status, second.error_code) == (409, "NOT_REVERTIBLE")
    wait_reverted(stack, import_id)
    third = revert(api, import_id)
    assert (third.status, third.error_code) == (409, "NOT_REVERTIBLE")
    assert api.balance("c-1")["current"] == 0
    assert len(reversals(stack)) == 1


def wait_settled(stack: Stack, import_id: str, timeout: float = 60) -> dict[str, Any]:
    """The record once no execution runs (a revert given back ends in its scan)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(e["status"] != "RUNNING" for e in stack.executions()):
            found = record(stack, "acme", import_id) or {}
            if found.get("status") != "REVERTING" or not found.get("revert_attempt"):
                return found
        time.sleep(0.05)
    raise TimeoutError(f"revert of {import_id} still running: {record(stack, 'acme', import_id)}")


def test_a_revert_given_back_can_be_asked_again_and_runs_as_its_next_attempt(api: Api, stack: Stack) -> None:
    # Given an import whose report is gone (reports expire): its revert is given back
    customers(api, "c-1")
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\n")
    report = {"Bucket": bucket(stack), "Key": f"reports/acme/{import_id}.csv"}
    kept = stack.client("s3").get_object(**report)["Body"].read()
    stack.client("s3").delete_object(**report)
    assert revert(api, import_id).status == 202
    given_back = wait_settled(stack, import_id)
    assert given_back["status"] == "COMPLETED" and "gone" in given_back["revert_error"]
    # When the report is back (say, restored from a copy) and the revert is asked again
    stack.client("s3").put_object(**report, Body=kept)
    again = revert(api, import_id)
    # Then it starts afresh (attempt 1's execution name is taken for 90 days), shows no old error,
    # and ends REVERTED; before, it answered 202 and sat REVERTING for ever, every later ask 409
    assert again.status == 202, again.body
    assert again.body["status"] == "REVERTING" and "error" not in again.body.get("revert", {})
    assert wait_reverted(stack, import_id)["status"] == "REVERTED"
    assert api.balance("c-1")["current"] == 0
    assert sorted(e["name"].rsplit("-", 1)[1] for e in stack.executions() if "-revert-" in e["name"]) == ["1", "2"]


def test_the_end_of_a_revert_is_an_import_finished_event_with_its_totals(api: Api, stack: Stack) -> None:
    from pathlib import Path

    import jsonschema

    from goodwill.events.shapes import IMPORT_FINISHED, events_of

    customers(api, "c-1")
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\n")
    before = record(stack, "acme", import_id)
    run_revert(api, stack, import_id)
    after = record(stack, "acme", import_id)
    assert before is not None and after is not None

    key = {"PK": after["PK"], "SK": after["SK"]}
    (event,) = events_of(key, {**before, "status": "REVERTING"}, after)

    assert (event.detail_type, event.detail["status"]) == (IMPORT_FINISHED, "REVERTED")
    assert event.detail["revert"]["totals"] == {"rows": 1, "reversed": 1, "failed": 0, "skipped": 0}
    assert event.detail["occurred_at"] == after["reverted_at"]
    schema = json.loads((Path(__file__).parents[2] / "docs/events/import-finished.schema.json").read_text())
    jsonschema.validate(event.detail, schema)
    assert events_of(key, after, after) == []  # a later change of the record is no new event
