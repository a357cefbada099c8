"""Bulk imports from the upload's side: redelivered events, keys of other orgs or outside imports/,
direct uploads with their settings in metadata, the actor's message, customer notifications, and
how the rows reach DynamoDB (batched, counted, re-read when a balance moved)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import quote_plus

import pytest

from goodwill import aws, clock
from goodwill.bulk import csvfile
from goodwill.bulk.apply import Job, apply_rows
from goodwill.repositories import import_files, table
from local.aws.stack import Stack
from tests.integration.test_bulk_imports import (
    bucket,
    create_import,
    customers,
    ledger_rows,
    put_file,
    record,
    record_uploads,
    report,
    run_import,
    wait_until_done,
)
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api, claims, table_items


def s3_event(bucket_name: str, key: str, etag: str = "0" * 32, size: int = 20) -> dict[str, Any]:
    """An ObjectCreated event as S3 (and moto) delivers it."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T10:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "upload",
            "bucket": {"name": bucket_name, "arn": f"arn:aws:s3:::{bucket_name}"},
            "object": {"key": quote_plus(key), "size": size, "eTag": etag},
        },
    }
    return {"Records": [record]}


def outcomes(seen: list[dict[str, Any]]) -> list[str]:
    return [i["outcome"] for s in seen for i in s["result"]["imports"]]


def test_the_same_upload_event_three_times_applies_each_row_once(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers(api, "c-1", "c-2")
    seen = record_uploads(stack, monkeypatch)
    import_id = create_import(api)["import_id"]
    put_file(stack, f"imports/acme/{import_id}.csv", "customer_id,points\nc-1,10\nc-2,5\nc-1,1\n")
    function = stack.functions.by_id["BulkCsvImportFunction"]
    function.invoke(seen[0]["event"])  # S3 delivers again while the import runs (or just after)
    wait_until_done(stack, "acme", import_id)
    function.invoke(seen[0]["event"])  # and once more, long after

    assert outcomes(seen) == ["STARTED", "DUPLICATE", "DUPLICATE"]
    assert len(ledger_rows(stack)) == 3
    assert api.balance("c-1")["current"] == 11
    names = [e["name"] for e in stack.executions() if e["name"].startswith(import_id)]
    assert names == [f"{import_id}-1"]


def test_uploads_outside_an_orgs_prefix_or_for_another_orgs_import_are_never_applied_to_it(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers(api, "c-1")
    api.customer("g-1", as_=OTHER_ADMIN)
    acme_import = create_import(api)["import_id"]
    globex_import = create_import(api, as_=OTHER_ADMIN)["import_id"]
    seen = record_uploads(stack, monkeypatch)
    rows = "customer_id,points\nc-1,100\ng-1,100\n"

    # acme's import id under globex's prefix: a file of globex (applied to globex, if to anyone)
    put_file(stack, f"imports/globex/{acme_import}.csv", rows, {"program-id": "default"})
    # globex's import id under acme's prefix, without metadata: an acme upload with no settings
    put_file(stack, f"imports/acme/{globex_import}.csv", rows)
    # an org that does not exist, and keys that are not imports/{org_id}/{name}.csv
    put_file(stack, "imports/initech/bonus.csv", rows, {"program-id": "default"})
    put_file(stack, "imports/acme/nested/bonus.csv", rows, {"program-id": "default"})
    function = stack.functions.by_id["BulkCsvImportFunction"]
    for key in ("reports/acme/x.csv", "acme/x.csv", "imports/x.csv", "imports/acme/x.txt"):
        function.invoke(s3_event(bucket(stack), key))
    function.invoke(s3_event("someone-elses-bucket", "imports/acme/x.csv"))
    for found in seen:
        for outcome in found["result"]["imports"]:
            if "import_id" in outcome:
                wait_until_done(stack, outcome["org_id"], outcome["import_id"])

    assert outcomes(seen) == ["STARTED", "FAILED"] + ["IGNORED"] * 7
    assert record(stack, "acme", acme_import)["status"] == "AWAITING_UPLOAD"  # type: ignore[index]
    assert record(stack, "globex", globex_import)["status"] == "AWAITING_UPLOAD"  # type: ignore[index]
    assert api.balance("c-1") == {"current": 0, "lifetime": 0}
    assert api.balance("g-1", as_=OTHER_ADMIN)["current"] == 100
    acme_upload = seen[1]["result"]["imports"][0]
    assert acme_upload["import_id"] != globex_import
    failed = api.get(f"/goodwill/bulk-imports/{acme_upload['import_id']}").body
    assert failed["error"] == "the upload has no valid program-id metadata (x-amz-meta-program-id)"
    assert not [i for i in table_items(stack) if i["PK"]["S"].startswith("ORG#initech")]


def test_a_direct_upload_takes_its_settings_from_metadata(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers(api, "c-1")
    seen = record_uploads(stack, monkeypatch)
    metadata = {"program-id": "default", "mode": "SET", "dry-run": "false"}
    put_file(stack, "imports/acme/march bonus.csv", "email,points\nc-1@example.com,15\n", metadata)
    import_id = seen[0]["result"]["imports"][0]["import_id"]
    wait_until_done(stack, "acme", import_id)

    view = api.get(f"/goodwill/bulk-imports/{import_id}").body
    assert (view["status"], view["source"], view["mode"]) == ("COMPLETED", "S3", "SET")
    # moto's events name no principal; the actor of a direct upload is never taken from metadata
    assert api.ledger("c-1")[0]["actor"] == view["created_by"] == "s3-upload"


@pytest.mark.parametrize("how", ["metadata", "config-changed"])
def test_an_unknown_program_fails_the_import(api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    customers(api, "c-1")
    if how == "metadata":
        seen = record_uploads(stack, monkeypatch)
        put_file(stack, "imports/acme/x.csv", "customer_id,points\nc-1,1\n", {"program-id": "nope"})
        import_id = seen[0]["result"]["imports"][0]["import_id"]
        done = wait_until_done(stack, "acme", import_id)
        assert done["error"] == "program nope is not one of the org's programs (default)"
    else:
        import_id = create_import(api)["import_id"]
        assert api.put("/config", {"programs": ["gold"]}).status == 200
        put_file(stack, f"imports/acme/{import_id}.csv", "customer_id,points\nc-1,1\n")
        done = wait_until_done(stack, "acme", import_id)
        assert done["error"] == "program default is not one of the org's programs (gold)"
    assert done["status"] == "FAILED"
    assert ledger_rows(stack) == []


def _emails() -> list[Any]:
    from moto.ses.models import ses_backends

    return list(ses_backends["123456789012"]["us-east-1"].sent_messages)


def test_the_actor_hears_of_the_end_by_topic_and_email(api: Api, stack: Stack) -> None:
    from moto.sns.models import sns_backends

    customers(api, "c-1")
    import_id, _ = run_import(api, stack, "customer_id,points\nc-1,5\nc-2,5\n")

    topic = sns_backends["123456789012"]["us-east-1"].topics[stack.ref("ImportEventsTopic")]
    published = [json.loads(n[1]) for n in topic.sent_notifications]
    assert [(m["import_id"], m["status"], m["totals"]) for m in published] == [
        (import_id, "COMPLETED_WITH_ERRORS", {"rows": 2, "applied": 1, "failed": 1})
    ]
    mails = [m for m in _emails() if ADMIN["email"] in m.destinations["ToAddresses"]]
    assert len(mails) == 1
    assert import_id in mails[0].body
    assert "applied: 1, failed: 1" in mails[0].body


def test_notify_customers_runs_the_notification_workflow_for_each_applied_row(api: Api, stack: Stack) -> None:
    customers(api, "c-1", "c-2")
    import_id, view = run_import(api, stack, "customer_id,points\nc-1,40\nc-2,-5\n", notify_customers=True)
    assert view["totals"]["applied"] == 1
    stack.settle()

    request_id = report(stack, "acme", import_id)[0]["transaction_id"]
    request = api.get(f"/goodwill/requests/{request_id}", as_=AGENT).body
    assert (request["status"], request["source"], request["points"]) == ("FULFILLED", "BULK_IMPORT", 40)
    assert [n["status"] for n in request["notifications"]] == ["SENT"]
    assert api.get("/goodwill/requests", as_=AGENT, query={"customer_id": "c-2"}).body["items"] == []


def _seed_profiles(stack: Stack, count: int) -> None:
    """Org acme and `count` customers C00000..., written directly (fast)."""
    ddb, name = stack.client("dynamodb"), stack.ref("GoodwillTable")
    items = [{"PK": {"S": "ORG#acme"}, "SK": {"S": "ORG"}, "org_id": {"S": "acme"}}]
    items += [
        {"PK": {"S": f"ORG#acme#CUST#C{i:05d}"}, "SK": {"S": "PROFILE"}, "customer_id": {"S": f"C{i:05d}"}}
        for i in range(count)
    ]
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]})


def test_a_thousand_rows_cost_at_most_sixty_dynamodb_requests(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPORT_CHUNK_ROWS", "1000")
    customers(api, "c-1")
    _seed_profiles(stack, 2000)
    calls: Counter[str] = Counter()
    aws.dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))

    text = "customer_id,email,points\n" + "".join(f"C{i:05d},,{i % 90 + 1}\n" for i in range(1990))
    text += "".join(",c-1@example.com,1\n" for _ in range(10))
    _, view = run_import(api, stack, text)

    assert view["totals"] == {"rows": 2000, "applied": 2000, "failed": 0}
    per_thousand = sum(calls.values()) * 1000 / 2000
    assert per_thousand <= 60, calls
    # 40 transactions of 50 rows; c-1's ten rows need ten (one item is written once a transaction)
    assert calls["TransactWriteItems"] <= 40 + 10 + 5, calls
    assert calls["BatchGetItem"] <= 2 * 2 * 10 + 2, calls  # profiles and balances, per chunk of 1000


def test_a_balance_that_moves_between_read_and_write_is_read_again(api: Api, stack: Stack) -> None:
    customers(api, "c-1", "c-2", "c-3")
    for customer_id in ("c-1", "c-2"):
        api.grant(customer_id, 100)
    rows = list(
        csvfile.parse(
            [b"customer_id,points\nc-1,-60\nc-2,-50\nc-3,5\n"],
            csvfile.ImportRules(allowed_reasons=frozenset({"BULK_ADJUSTMENT"})),
        )
    )
    job = Job("acme", clock.ulid(), "default", "ADD", False, False, "alice", False)
    meddled: list[int] = []

    def meddle(**_: Any) -> None:  # an agent's debits land between the import's read and its write
        if not meddled:
            meddled.append(1)
            assert api.grant("c-1", -50).status == 201
            assert api.grant("c-2", -10).status == 201

    aws.dynamodb().meta.events.register("before-call.dynamodb.TransactWriteItems", meddle)
    lines = apply_rows(job, rows)

    assert [(line.status, line.error) for line in lines] == [
        ("FAILED", "insufficient balance: the balance (50) does not cover a debit of 60"),
        ("APPLIED", None),
        ("APPLIED", None),
    ]
    assert (api.balance("c-1")["current"], api.balance("c-2")["current"], api.balance("c-3")["current"]) == (50, 40, 5)
    # (a bulk entry's id carries the import's creation time, so it sorts before the agent's debit)
    assert sorted(e["current_after"] for e in api.ledger("c-2")) == [40, 90, 100]


def test_an_import_writes_balances_with_the_attributes_a_grant_writes(api: Api, stack: Stack) -> None:
    customers(api, "c-1", "c-2")
    api.grant("c-1", 10)
    run_import(api, stack, "customer_id,points\nc-2,10\n")
    balances = {
        i["customer_id"]: set(i) for i in (table.deserialize(r) for r in table_items(stack)) if i["SK"] == "BAL#default"
    }
    assert balances["c-2"] == balances["c-1"] | {"bulk_row"}  # and the last row of the import it decided


def test_a_large_report_is_assembled_by_multipart_upload(stack: Stack) -> None:
    s3 = stack.client("s3")
    parts = [bytes([65 + n]) * (3 << 20) for n in range(4)]  # 12 MiB in four 3 MiB blocks

    import_files.assemble("reports/acme/x.csv", b"head\r\n", iter(parts))

    got = s3.get_object(Bucket=bucket(stack), Key="reports/acme/x.csv")
    assert got["Body"].read() == b"head\r\n" + b"".join(parts)
    assert got["ETag"].strip('"').endswith("-2")  # an 8 MiB part and the rest


def test_a_chunk_run_again_after_a_commit_decides_no_row_differently(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a customer's rows +10, -15 (refused: the balance is 10 then), +10, applied in one
    # transaction by a run that dies right after it commits
    customers(api, "c-1")
    rows = list(
        csvfile.parse(
            [b"customer_id,points\nc-1,10\nc-1,-15\nc-1,10\n"],
            csvfile.ImportRules(allowed_reasons=frozenset({"BULK_ADJUSTMENT"})),
        )
    )
    job = Job("acme", clock.ulid(), "default", "ADD", False, False, "alice", False)
    real_transact = table.transact

    def crash(ops: Any) -> Any:
        real_transact(ops)
        raise RuntimeError("the Lambda died after the commit")

    monkeypatch.setattr(table, "transact", crash)
    with pytest.raises(RuntimeError):
        apply_rows(job, rows)
    monkeypatch.setattr(table, "transact", real_transact)

    # When the chunk runs again (now the balance, 20, would cover the debit)
    lines = apply_rows(job, rows)

    # Then it reports what the first run did and applies nothing more
    assert [line.status for line in lines] == ["APPLIED", "FAILED", "APPLIED"]
    assert api.balance("c-1") == {"current": 20, "lifetime": 20}
    assert sorted(e["current_after"] for e in api.ledger("c-1")) == [10, 20]


def test_an_api_import_is_the_first_act_of_a_new_org_and_runs(api: Api, stack: Stack) -> None:
    # Given an org with no customer and no config yet, whose admin creates an import (a migration)
    newco = claims(org="newco", actor="nina", email=None)
    created = api.post("/goodwill/bulk-imports", {"program_id": "default"}, as_=newco)
    assert created.status == 201, created.body
    import_id = created.body["import_id"]
    # When the file is uploaded
    put_file(stack, f"imports/newco/{import_id}.csv", "customer_id,points\nc-1,5\n")
    wait_until_done(stack, "newco", import_id, timeout=20)
    # Then it runs (its customer is not found: a row error); before, the upload was ignored as
    # "there is no org newco" and the import sat AWAITING_UPLOAD for ever
    view = api.get(f"/goodwill/bulk-imports/{import_id}", as_=newco).body
    assert (view["status"], view["totals"]) == ("COMPLETED_WITH_ERRORS", {"rows": 1, "applied": 0, "failed": 1})
    # while a direct upload for an org that does not exist is still ignored (the test above)
