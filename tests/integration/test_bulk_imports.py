"""Bulk CSV imports end to end: the API, an upload to the bucket, the real workflow in moto (the
S3 notification runs the real handler, which starts the state machine whose tasks run the real
handler again), the balances, the ledger and the report."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError, ParamValidationError

from goodwill import aws
from goodwill.repositories import table
from local.aws.stack import Stack
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api, table_items

FINAL = {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"}
HEADER = "customer_id,email,points,reason,comment,expires_at,affects_tier\n"


# ---------------------------------------------------------------------------------- helpers


def bucket(stack: Stack) -> str:
    return stack.ref("ImportBucket")


def create_import(api: Api, as_: dict[str, str] = ADMIN, **body: Any) -> dict[str, Any]:
    reply = api.post("/goodwill/bulk-imports", {"program_id": "default", **body}, as_=as_)
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


def put_file(stack: Stack, key: str, data: str | bytes, metadata: dict[str, str] | None = None) -> None:
    """Upload as a client would; the import function is notified (in-process) once the PUT is done
    (local.aws.moto_patches holds moto's notification until the object's metadata is stored)."""
    body = data.encode() if isinstance(data, str) else data
    stack.client("s3").put_object(Bucket=bucket(stack), Key=key, Body=body, Metadata=metadata or {})


def record(stack: Stack, org: str, import_id: str) -> dict[str, Any] | None:
    key = {"PK": {"S": f"ORG#{org}#IMPORT#{import_id}"}, "SK": {"S": "IMPORT"}}
    found = stack.client("dynamodb").get_item(TableName=stack.ref("GoodwillTable"), Key=key, ConsistentRead=True)
    return table.deserialize(found["Item"]) if "Item" in found else None


def wait_until_done(stack: Stack, org: str, import_id: str, timeout: float = 60) -> dict[str, Any]:
    """The import record once it is final and no workflow execution is running any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = record(stack, org, import_id)
        if found and found["status"] in FINAL and all(e["status"] != "RUNNING" for e in stack.executions()):
            return found
        time.sleep(0.05)
    raise TimeoutError(f"import {import_id} still running: {record(stack, org, import_id)}")


def run_import(
    api: Api, stack: Stack, text: str | bytes, timeout: float = 60, **body: Any
) -> tuple[str, dict[str, Any]]:
    """Create an import through the API, upload the file, wait; (import id, GET view)."""
    import_id = create_import(api, **body)["import_id"]
    put_file(stack, f"imports/acme/{import_id}.csv", text)
    wait_until_done(stack, "acme", import_id, timeout)
    reply = api.get(f"/goodwill/bulk-imports/{import_id}")
    assert reply.status == 200, reply.body
    return import_id, reply.body


def report(stack: Stack, org: str, import_id: str) -> list[dict[str, str]]:
    raw = stack.client("s3").get_object(Bucket=bucket(stack), Key=f"reports/{org}/{import_id}.csv")["Body"].read()
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def customers(api: Api, *ids: str, **fields: Any) -> None:
    for customer_id in ids:
        api.customer(customer_id, **fields)


def ledger_rows(stack: Stack) -> list[dict[str, Any]]:
    items = [table.deserialize(i) for i in table_items(stack)]
    return [i for i in items if i["SK"].startswith("TXN#")]


def record_uploads(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every event moto delivers to the import function, with what the function answered."""
    function = stack.functions.by_id["BulkCsvImportFunction"]
    original: Callable[[Any], Any] = function.invoke
    seen: list[dict[str, Any]] = []

    def invoke(event: Any) -> Any:
        result = original(event)
        if "Records" in event:
            seen.append({"event": event, "result": result})
        return result

    monkeypatch.setattr(function, "invoke", invoke)
    return seen


# ---------------------------------------------------------------------------------- API


def test_create_import_returns_a_presigned_put_for_the_orgs_key(api: Api) -> None:
    created = create_import(api, mode="SET", dry_run=True)
    import_id = created["import_id"]
    assert created["status"] == "AWAITING_UPLOAD"
    assert f"/imports/acme/{import_id}.csv?" in created["upload_url"]
    assert "X-Amz-Expires=900" in created["upload_url"]
    assert created["upload_headers"] == {"Content-Type": "text/csv", "If-None-Match": "*"}
    view = api.get(f"/goodwill/bulk-imports/{import_id}").body
    assert view["status"] == "AWAITING_UPLOAD"
    assert (view["program_id"], view["mode"], view["dry_run"]) == ("default", "SET", True)
    assert view["totals"] == {"rows": 0, "applied": 0, "failed": 0}
    assert view["created_by"] == ADMIN["sub"]
    assert "report_url" not in view


@pytest.mark.parametrize(
    ("body", "as_", "status"),
    [
        ({"program_id": "default"}, AGENT, 403),
        ({"program_id": "nope"}, ADMIN, 404),
        ({"program_id": "default", "mode": "REPLACE"}, ADMIN, 422),
        ({"program_id": "default", "dry_run": "yes"}, ADMIN, 422),
        ({"program_id": "default", "extra": 1}, ADMIN, 422),
        ({}, ADMIN, 422),
    ],
    ids=["agent", "unknown-program", "bad-mode", "string-flag", "unknown-field", "no-program"],
)
def test_create_import_refuses_bad_callers_and_bodies(
    api: Api, stack: Stack, body: dict[str, Any], as_: dict[str, str], status: int
) -> None:
    reply = api.post("/goodwill/bulk-imports", body, as_=as_)
    assert reply.status == status, reply.body
    assert not [i for i in table_items(stack) if "#IMPORT#" in i["PK"]["S"]]


def test_import_of_another_org_is_404(api: Api) -> None:
    import_id = create_import(api)["import_id"]
    assert api.get(f"/goodwill/bulk-imports/{import_id}", as_=OTHER_ADMIN).status == 404
    assert api.get("/goodwill/bulk-imports/01JNOSUCHIMPORT0000000000").status == 404


def test_presigned_url_accepts_the_upload_and_the_import_runs(api: Api, stack: Stack) -> None:
    customers(api, "c-1")
    created = create_import(api)
    reply = requests.put(created["upload_url"], data=b"customer_id,points\nc-1,25\n", headers=created["upload_headers"])
    assert reply.status_code == 200, reply.text
    done = wait_until_done(stack, "acme", created["import_id"])
    assert done["status"] == "COMPLETED"
    assert api.balance("c-1") == {"current": 25, "lifetime": 25}
    view = api.get(f"/goodwill/bulk-imports/{created['import_id']}").body
    downloaded = requests.get(view["report_url"], timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content.decode("utf-8-sig").splitlines()[1].startswith("1,c-1,,25,APPLIED,,")


# ---------------------------------------------------------------------------------- rows


@pytest.mark.parametrize("client_checks", ["true", "false"], ids=["botocore-checks", "as-deployed"])
def test_mixed_valid_and_invalid_rows_apply_the_valid_ones_and_report_every_row(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch, client_checks: str
) -> None:
    # "as-deployed": the import function's DynamoDB client skips botocore's parameter checks
    # (template.yaml), so every request it makes must be well-formed without them.
    monkeypatch.setenv("DYNAMODB_PARAM_VALIDATION", client_checks)
    aws.reset_clients()
    # botocore refuses a malformed request itself only when its checks are on.
    expected = ParamValidationError if client_checks == "true" else ClientError
    with pytest.raises(expected):
        aws.dynamodb().get_item(TableName="no-such-table", Key={"PK": {"S": 5}})  # type: ignore[dict-item]
    customers(api, "c-1", "c-2", "c-3")
    text = HEADER + (
        'c-1,,100,REWARD,"thanks, really",,\n'
        ",C-2@Example.com,50,,,2099-01-01T00:00:00Z,false\n"
        "c-3,,-10,,,,\n"
        "c-9,,5,,,,\n"
        ",nobody@example.com,5,,,,\n"
        "c-1,,abc,,,,\n"
        "c-1,,5,NOT_A_REASON,,,\n"
        "c-1,c-1@example.com,5,,,,\n"
        "c-1,,-30,,,,\n"
    )
    import_id, view = run_import(api, stack, text)

    assert view["status"] == "COMPLETED_WITH_ERRORS"
    assert view["totals"] == {"rows": 9, "applied": 3, "failed": 6}
    assert view["finished_at"] >= view["created_at"]
    assert api.balance("c-1") == {"current": 70, "lifetime": 70}
    assert api.balance("c-2") == {"current": 50, "lifetime": 0}
    assert api.balance("c-3") == {"current": 0, "lifetime": 0}
    lines = report(stack, "acme", import_id)
    assert [(r["row"], r["status"]) for r in lines] == [
        (str(n), s) for n, s in enumerate(["APPLIED", "APPLIED"] + ["FAILED"] * 6 + ["APPLIED"], start=1)
    ]
    errors = {int(r["row"]): r["error"] for r in lines}
    assert errors[3].startswith("insufficient balance")
    assert errors[4] == "customer c-9 not found"
    assert errors[5] == "no customer has the e-mail nobody@example.com"
    assert errors[6].startswith("points:")
    assert errors[7].startswith("reason:")
    assert errors[8] == "give customer_id or email, not both"
    assert lines[1]["customer_id"] == "c-2"  # resolved from the e-mail

    entries = {e["transaction_id"]: e for e in api.ledger("c-1") + api.ledger("c-2")}
    assert set(entries) == {r["transaction_id"] for r in lines if r["status"] == "APPLIED"}
    credit = entries[lines[0]["transaction_id"]]
    assert (credit["type"], credit["points"], credit["reason"], credit["comment"]) == (
        "BULK_CREDIT",
        100,
        "REWARD",
        "thanks, really",
    )
    assert (credit["source"], credit["import_id"], credit["actor"]) == ("BULK_IMPORT", import_id, ADMIN["sub"])
    debit = entries[lines[8]["transaction_id"]]
    assert (debit["type"], debit["points"], debit["current_after"]) == ("BULK_DEBIT", -30, 70)
    second = entries[lines[1]["transaction_id"]]
    assert (second["expires_at"], second["affects_tier"]) == ("2099-01-01T00:00:00.000Z", False)


def test_set_mode_sets_each_customer_once_even_when_named_by_id_and_by_email(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given customers with balances, and chunks of two rows, so that the by-e-mail duplicate of
    # c-1 lands in another chunk than its by-id row (only the import's claim on c-1 can catch it)
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "2")
    customers(api, "c-1", "c-2")
    api.grant("c-1", 300)
    api.grant("c-2", 40)
    text = "customer_id,email,points\nc-1,,500\nc-2,,10\n,c-1@example.com,900\nc-2,,70\n"

    import_id, view = run_import(api, stack, text, mode="SET")

    assert view["totals"] == {"rows": 4, "applied": 2, "failed": 2}
    lines = report(stack, "acme", import_id)
    c1 = [r for r in lines if r["customer_id"] == "c-1"]
    applied = [r for r in c1 if r["status"] == "APPLIED"]
    assert len(applied) == 1
    assert [r["error"] for r in c1 if r["status"] == "FAILED"] == ["customer appears more than once in a SET import"]
    assert api.balance("c-1")["current"] == int(applied[0]["points"])
    assert lines[3]["error"] == "customer appears more than once in a SET import"  # c-2 again, by id
    assert api.balance("c-2") == {"current": 10, "lifetime": 10}  # a SET down is a debit (affects_tier)
    entry = next(e for e in api.ledger("c-2") if e["type"] == "BULK_SET")
    assert (entry["points"], entry["current_after"]) == (-30, 10)


def test_dry_run_writes_nothing_but_the_report(api: Api, stack: Stack) -> None:
    customers(api, "c-1", "c-2")
    api.grant("c-1", 20)
    before = [i for i in table_items(stack) if "#IMPORT#" not in i["PK"]["S"]]
    text = "customer_id,points\nc-1,10\nc-1,-25\nc-2,-1\nc-2,x\nc-7,4\n"

    import_id, view = run_import(api, stack, text, dry_run=True)

    assert view["status"] == "COMPLETED_WITH_ERRORS"
    assert view["totals"] == {"rows": 5, "applied": 0, "failed": 3}
    assert record(stack, "acme", import_id)["totals"]["valid"] == 2  # type: ignore[index]
    after = [i for i in table_items(stack) if "#IMPORT#" not in i["PK"]["S"]]
    assert sorted(map(str, after)) == sorted(map(str, before))
    lines = report(stack, "acme", import_id)
    assert [r["status"] for r in lines] == ["VALID", "VALID", "FAILED", "FAILED", "FAILED"]
    assert all(r["transaction_id"] == "" for r in lines)


def test_report_escapes_cells_a_spreadsheet_would_run_as_formulas(api: Api, stack: Stack) -> None:
    customers(api, "c-1")
    text = 'customer_id,points\n"=HYPERLINK(""http://evil.test"")",5\n@SUM(A1),5\nc-1,=1+2\nc-1,-0\n+cmd,1\n'
    import_id, _ = run_import(api, stack, text)
    raw = stack.client("s3").get_object(Bucket=bucket(stack), Key=f"reports/acme/{import_id}.csv")["Body"].read()
    cells = [r for r in csv.reader(io.StringIO(raw.decode("utf-8-sig")))][1:]
    assert [c[1] for c in cells[:2]] == ['\'=HYPERLINK("http://evil.test")', "'@SUM(A1)"]
    assert cells[2][3] == "'=1+2"
    assert cells[3][3] == "-0"  # a plain number stays as it is
    assert cells[4][1] == "'+cmd"
    assert not any(cell.startswith(("=", "@", "+")) for line in cells for cell in line)


# ---------------------------------------------------------------------------------- the file


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"customer_id,points,bonus\nc-1,5,1\n", "unknown column 'bonus'"),
        (b"customer_id;points\nc-1;5\n", "separated by ';'"),
        (b"customer_id,points,comment\nc-1,5,ok\nc-1,5,caf\xe9\n", "not UTF-8 (line 3)"),
        ("customer_id,points\nc-1,5\n".encode("utf-16"), "not UTF-8"),
        (b"", "the file is empty"),
        (b"customer_id,points\r\n", "header but no rows"),
        (b'customer_id,points\nc-1,"5\n', "quote is not closed"),
    ],
    ids=["unknown-column", "semicolons", "latin-1", "utf-16", "empty", "header-only", "open-quote"],
)
def test_a_bad_file_fails_the_import_and_applies_nothing(api: Api, stack: Stack, data: bytes, message: str) -> None:
    customers(api, "c-1")
    _, view = run_import(api, stack, data)
    assert view["status"] == "FAILED"
    assert message in view["error"]
    assert "report_url" not in view
    assert ledger_rows(stack) == []


def test_a_utf8_file_with_a_bom_and_crlf_imports(api: Api, stack: Stack) -> None:
    customers(api, "c-1")
    _, view = run_import(api, stack, "\ufeffCustomer_ID,POINTS\r\nc-1,7\r\n".encode())
    assert view["status"] == "COMPLETED"
    assert api.balance("c-1")["current"] == 7


def test_limits_fail_clearly(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from goodwill.bulk import csvfile, imports, run

    customers(api, "c-1")
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 30)
    _, view = run_import(api, stack, "customer_id,points\nc-1,1\nc-1,2\nc-1,3\n")
    assert view["status"] == "FAILED"
    assert "is larger than the limit of 30 bytes" in view["error"]

    monkeypatch.setattr(csvfile, "MAX_ROWS", 2)
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 1 << 20)
    _, view = run_import(api, stack, "customer_id,points\nc-1,1\nc-1,2\nc-1,3\n")
    assert view["status"] == "FAILED"
    assert "more than 2 rows" in view["error"]

    monkeypatch.setattr(run, "MAX_NOTIFY_ROWS", 1)
    _, view = run_import(api, stack, "customer_id,points\nc-1,1\nc-1,2\n", notify_customers=True)
    assert view["error"] == "notify_customers is limited to 1 rows; the file has 2"

    import_id, view = run_import(api, stack, f"customer_id,points,comment\nc-1,1,{'x' * 1001}\nc-1,2,ok\n")
    assert (view["status"], view["totals"]["applied"]) == ("COMPLETED_WITH_ERRORS", 1)
    assert report(stack, "acme", import_id)[0]["error"] == "a cell is longer than 1000 characters"
    assert len(ledger_rows(stack)) == 1


def test_a_cell_past_the_csv_modules_default_bound_fails_its_row_only(api: Api, stack: Stack) -> None:
    # Given a file whose second row has a comment of 200,000 characters (the csv module's default
    # bound is 131,072; the line is still under the import's 1 MiB) and a quote never closed after
    customers(api, "c-1", "c-2", "c-3")
    text = "customer_id,points,comment\nc-1,5,ok\nc-2,7," + "x" * 200_000 + "\nc-3,3,fine\n"
    import_id, view = run_import(api, stack, text)
    # Then that row alone fails, with its own reason; before, the whole file FAILED
    assert (view["status"], view["totals"]) == ("COMPLETED_WITH_ERRORS", {"rows": 3, "applied": 2, "failed": 1})
    assert [api.balance(c)["current"] for c in ("c-1", "c-2", "c-3")] == [5, 0, 3]
    failed = [r for r in report(stack, "acme", import_id) if r["status"] == "FAILED"]
    assert [r["row"] for r in failed] == ["2"] and "1000" in failed[0]["error"].replace(",", "")
    # And a quote never closed still fails the whole file, once its cell passes the line bound
    _, broken = run_import(api, stack, 'customer_id,points,comment\nc-1,5,"never closed\n' + "y" * 100 + "\n" * 3)
    assert broken["status"] == "FAILED" and "quote" in broken["error"], broken
