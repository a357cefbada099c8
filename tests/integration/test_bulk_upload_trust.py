"""Bulk uploads meet S3 as it is: a file gone before the import reads it (S3 answers 403 without
s3:ListBucket) ends the import FAILED with a clear error; a direct upload's actor is the principal
S3 names in the event, never object metadata, and completion mail goes only to the principal of
an import record, never to an address from metadata."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.aws.stack import Stack
from tests.integration.test_bulk_imports import bucket, create_import, customers, put_file, wait_until_done
from tests.support import Api

UPLOADER = "AWS:AIDAUPLOADEREXAMPLE"


@pytest.fixture
def held_events(stack: Stack) -> Iterator[list[tuple[Any, ...]]]:
    """S3's notifications to the import function, held instead of delivered."""
    import moto.s3.notifications as s3_notifications

    held: list[tuple[Any, ...]] = []
    notify = s3_notifications._invoke_awslambda
    s3_notifications._invoke_awslambda = lambda *args: held.append(args)
    try:
        yield held
    finally:
        s3_notifications._invoke_awslambda = notify


def _deliver(stack: Stack, args: tuple[Any, ...], principal: str | None = None) -> Any:
    _account, event, function_arn, _region = args
    if principal:
        for record in event["Records"]:
            record["userIdentity"] = {"principalId": principal}
    return stack.functions.get(function_arn).invoke(event)


def test_an_upload_deleted_before_its_event_is_handled_fails_the_import_clearly(
    api: Api, stack: Stack, held_events: list[tuple[Any, ...]]
) -> None:
    customers(api, "c-1")
    import_id = create_import(api)["import_id"]
    key = f"imports/acme/{import_id}.csv"
    put_file(stack, key, "customer_id,points\nc-1,5\n")
    stack.client("s3").delete_object(Bucket=bucket(stack), Key=key)

    (event,) = held_events
    result = _deliver(stack, event)  # no exception: S3 would retry it into the failure queue
    done = wait_until_done(stack, "acme", import_id)

    assert result["imports"][0]["import_id"] == import_id
    assert done["status"] == "FAILED"
    assert "no longer exists" in done["error"]
    assert api.balance("c-1")["current"] == 0


def test_a_direct_upload_deleted_before_its_event_fails_its_import_clearly(
    api: Api, stack: Stack, held_events: list[tuple[Any, ...]]
) -> None:
    customers(api, "c-1")
    put_file(stack, "imports/acme/bonus.csv", "customer_id,points\nc-1,5\n", {"program-id": "default"})
    stack.client("s3").delete_object(Bucket=bucket(stack), Key="imports/acme/bonus.csv")

    (event,) = held_events
    outcome = _deliver(stack, event, UPLOADER)["imports"][0]
    done = wait_until_done(stack, "acme", outcome["import_id"])

    assert done["status"] == "FAILED"
    assert "no longer exists" in done["error"]


def test_a_direct_uploads_actor_is_the_uploading_principal_and_metadata_names_no_mail_recipient(
    api: Api, stack: Stack, held_events: list[tuple[Any, ...]]
) -> None:
    from moto.ses.models import ses_backends

    customers(api, "c-1")
    forged = {"program-id": "default", "actor": "the-ceo", "actor-email": "victim@elsewhere.test"}
    put_file(stack, "imports/acme/march bonus.csv", "customer_id,points\nc-1,15\n", forged)

    (event,) = held_events
    outcome = _deliver(stack, event, UPLOADER)["imports"][0]
    wait_until_done(stack, "acme", outcome["import_id"])

    view = api.get(f"/goodwill/bulk-imports/{outcome['import_id']}").body
    assert (view["status"], view["created_by"]) == ("COMPLETED", UPLOADER)
    assert api.ledger("c-1")[0]["actor"] == UPLOADER
    sent = ses_backends["123456789012"]["us-east-1"].sent_messages
    assert not [m for m in sent if "victim@elsewhere.test" in m.destinations["ToAddresses"]]


# ------------------------------------------------------------------- a second upload (defect 12)


def test_a_replayed_presigned_upload_is_refused_and_the_running_import_is_unaffected(api: Api, stack: Stack) -> None:
    import requests

    customers(api, "c-1")
    created = create_import(api)
    first = requests.put(created["upload_url"], data=b"customer_id,points\nc-1,25\n", headers=created["upload_headers"])
    assert first.status_code == 200, first.text
    # The same URL again, with another file, while the import runs (or after): S3 refuses it.
    again = requests.put(
        created["upload_url"], data=b"customer_id,points\nc-1,9000\n", headers=created["upload_headers"]
    )
    assert again.status_code == 412, again.text

    done = wait_until_done(stack, "acme", created["import_id"])
    assert done["status"] == "COMPLETED"
    assert api.balance("c-1")["current"] == 25
    stored = stack.client("s3").get_object(Bucket=bucket(stack), Key=f"imports/acme/{created['import_id']}.csv")
    assert stored["Body"].read() == b"customer_id,points\nc-1,25\n"


def test_a_second_upload_event_for_a_started_import_is_ignored_and_recorded(
    api: Api, stack: Stack, held_events: list[tuple[Any, ...]]
) -> None:
    from tests.integration.test_bulk_imports import record

    customers(api, "c-1")
    import_id = create_import(api)["import_id"]
    key = f"imports/acme/{import_id}.csv"
    put_file(stack, key, "customer_id,points\nc-1,25\n")
    first = held_events.pop()
    assert _deliver(stack, first)["imports"][0]["outcome"] == "STARTED"
    # A principal with write access replaces the object directly: S3 notifies a second time.
    put_file(stack, key, "customer_id,points\nc-1,9000\n")
    second = held_events.pop()
    outcome = _deliver(stack, second, UPLOADER)["imports"][0]

    done = wait_until_done(stack, "acme", import_id)
    assert outcome["outcome"] == "IGNORED"
    found = record(stack, "acme", import_id)
    assert found is not None
    assert found["ignored_uploads"] == 1
    assert found["last_ignored_upload"]["etag"] == second[1]["Records"][0]["s3"]["object"]["eTag"]
    assert found["last_ignored_upload"]["uploader"] == UPLOADER
    assert done["status"] in ("COMPLETED", "FAILED")  # never the second file's rows
    assert api.balance("c-1")["current"] in (0, 25)
