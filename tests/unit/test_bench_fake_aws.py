"""The in-process AWS of the bulk scaling benchmark (bench/fake_aws.py), through real boto3 clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from bench.fake_aws import FakeAws

PK = "ORG#o#IMPORT#i"


@pytest.fixture
def fake(tmp_path: Path) -> FakeAws:
    return FakeAws(tmp_path)


def _client(fake: FakeAws, name: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    client = session.client(name)  # type: ignore[call-overload]
    fake.install(client)
    return client


def test_dynamodb_keeps_import_records_and_drops_customer_items(fake: FakeAws) -> None:
    ddb = _client(fake, "dynamodb")
    record = {"PK": {"S": PK}, "SK": {"S": "IMPORT"}, "status": {"S": "RUNNING"}, "error": {"S": "x"}}
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": record}},
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "ORG#o#CUST#c"}, "SK": {"S": "BAL#default"}}}},
        ]
    )
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"PK": {"S": PK}, "SK": {"S": "IMPORT"}},
                    "UpdateExpression": "SET #f0 = :f0, #f1 = :f1 REMOVE #f2",
                    "ExpressionAttributeNames": {"#f0": "status", "#f1": "totals", "#f2": "error"},
                    "ExpressionAttributeValues": {":f0": {"S": "COMPLETED"}, ":f1": {"M": {"rows": {"N": "3"}}}},
                }
            }
        ]
    )

    item = ddb.get_item(TableName="t", Key={"PK": {"S": PK}, "SK": {"S": "IMPORT"}})["Item"]
    assert item == {
        "PK": {"S": PK},
        "SK": {"S": "IMPORT"},
        "status": {"S": "COMPLETED"},
        "totals": {"M": {"rows": {"N": "3"}}},
    }
    assert list(fake.items) == [(PK, "IMPORT")]
    assert fake.requests == {"TransactWriteItems": 2, "GetItem": 1}


def test_dynamodb_batch_get_finds_every_profile_and_no_balance(fake: FakeAws) -> None:
    ddb = _client(fake, "dynamodb")
    profile = {"PK": {"S": "ORG#o#CUST#c"}, "SK": {"S": "PROFILE"}}
    balance = {"PK": {"S": "ORG#o#CUST#c"}, "SK": {"S": "BAL#default"}}

    found = ddb.batch_get_item(RequestItems={"t": {"Keys": [profile, balance]}})

    assert found["Responses"] == {"t": [profile]}


def test_dynamodb_query_pages_by_sort_key_prefix(fake: FakeAws) -> None:
    ddb = _client(fake, "dynamodb")
    for n in range(3):
        ddb.put_item(TableName="t", Item={"PK": {"S": PK}, "SK": {"S": f"CHUNK#{n:07d}"}})
    ddb.put_item(TableName="t", Item={"PK": {"S": PK}, "SK": {"S": "IMPORT"}})
    args: dict[str, Any] = {
        "TableName": "t",
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :sk)",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": {"S": PK}, ":sk": {"S": "CHUNK#"}},
        "Limit": 2,
    }

    first = ddb.query(**args)
    second = ddb.query(**args, ExclusiveStartKey=first["LastEvaluatedKey"])

    assert [i["SK"]["S"] for i in first["Items"] + second["Items"]] == [f"CHUNK#{n:07d}" for n in range(3)]
    assert "LastEvaluatedKey" not in second


def test_s3_serves_byte_ranges_of_a_linked_file_as_a_stream(fake: FakeAws, tmp_path: Path) -> None:
    s3 = _client(fake, "s3")
    upload = tmp_path / "upload.csv"
    upload.write_bytes(b"0123456789" * 1000)
    fake.link("imports/o/i.csv", upload)

    body = s3.get_object(Bucket="b", Key="imports/o/i.csv", Range="bytes=5-9004")["Body"]

    assert b"".join(body.iter_chunks(4096)) == (b"0123456789" * 1000)[5:9005]
    assert s3.head_object(Bucket="b", Key="imports/o/i.csv")["ContentLength"] == 10_000


def test_s3_multipart_upload_joins_its_parts_and_listing_and_deletion_follow(fake: FakeAws) -> None:
    s3 = _client(fake, "s3")
    s3.put_object(Bucket="b", Key="work/a", Body=b"a")
    upload = s3.create_multipart_upload(Bucket="b", Key="reports/r.csv")["UploadId"]
    parts = [
        s3.upload_part(Bucket="b", Key="reports/r.csv", UploadId=upload, PartNumber=n, Body=b"p%d" % n) for n in (1, 2)
    ]
    done = [{"ETag": p["ETag"], "PartNumber": n} for n, p in enumerate(parts, start=1)]
    s3.complete_multipart_upload(Bucket="b", Key="reports/r.csv", UploadId=upload, MultipartUpload={"Parts": done})

    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="b", Prefix="work/")["Contents"]]
    s3.delete_objects(Bucket="b", Delete={"Objects": [{"Key": k} for k in listed]})

    assert fake.read_object("reports/r.csv") == b"p1p2"
    assert listed == ["work/a"]
    assert "work/a" not in fake.objects


def test_an_operation_the_fake_does_not_know_fails_loudly(fake: FakeAws) -> None:
    ddb = _client(fake, "dynamodb")

    with pytest.raises(NotImplementedError, match="Scan"):
        ddb.scan(TableName="t")
