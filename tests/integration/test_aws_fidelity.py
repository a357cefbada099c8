"""The local AWS raises what AWS raises (docs/aws-fidelity.md): one test per behaviour that
local/aws/moto_patches.py adds to moto. Each fails on moto alone."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.aws import moto_conflicts
from local.aws.stack import Stack


def _key(pk: str, sk: str = "S") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _update(table: str, pk: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": _key(pk),
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


class Held:
    """One transaction kept in flight on a thread of its own until `finish()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, ddb: Any, items: list[dict[str, Any]]) -> None:
        self.entered, self.go = threading.Event(), threading.Event()
        self.error: BaseException | None = None
        real = moto_conflicts.pause

        def pause() -> None:
            if threading.current_thread() is self.thread:
                self.entered.set()
                assert self.go.wait(10)
            else:
                real()

        monkeypatch.setattr(moto_conflicts, "pause", pause)
        self.thread = threading.Thread(target=self._run, args=(ddb, items))
        self.thread.start()
        assert self.entered.wait(10), "the held transaction never reached its window"

    def _run(self, ddb: Any, items: list[dict[str, Any]]) -> None:
        try:
            ddb.transact_write_items(TransactItems=items)
        except BaseException as exc:
            self.error = exc

    def finish(self) -> None:
        self.go.set()
        self.thread.join(10)
        assert self.error is None, self.error


@pytest.fixture
def table(stack: Stack) -> str:
    return stack.ref("GoodwillTable")


@pytest.fixture
def held(stack: Stack, table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    ddb = stack.client("dynamodb")
    ddb.put_item(TableName=table, Item={**_key("A"), "n": {"N": "0"}})
    found = Held(monkeypatch, ddb, [_update(table, "A"), _update(table, "B")])
    try:
        yield found
    finally:
        found.finish()


# ------------------------------------------------------------------- transaction conflicts


def test_transaction_on_an_item_in_another_transaction_is_cancelled_with_transaction_conflict(
    stack: Stack, table: str, held: Held
) -> None:
    ddb = stack.client("dynamodb")
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[_update(table, "C"), _update(table, "A")])
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"]
    held.finish()
    # Nothing of the cancelled transaction was applied; the held one was, once.
    assert ddb.get_item(TableName=table, Key=_key("A"))["Item"]["n"] == {"N": "1"}
    assert "Item" not in ddb.get_item(TableName=table, Key=_key("C"))


def test_plain_write_on_an_item_in_a_transaction_fails_with_transaction_conflict_exception(
    stack: Stack, table: str, held: Held
) -> None:
    ddb = stack.client("dynamodb")
    with pytest.raises(ClientError) as caught:
        ddb.update_item(
            TableName=table, Key=_key("A"), UpdateExpression="SET x = :x", ExpressionAttributeValues={":x": {"S": "y"}}
        )
    assert caught.value.response["Error"]["Code"] == "TransactionConflictException"
    # Other items are free, and the item is free again once the transaction committed.
    ddb.put_item(TableName=table, Item=_key("D"))
    held.finish()
    ddb.put_item(TableName=table, Item={**_key("A"), "n": {"N": "5"}})


def test_transactional_read_of_an_item_in_a_transaction_is_cancelled(stack: Stack, table: str, held: Held) -> None:
    ddb = stack.client("dynamodb")
    with pytest.raises(ClientError) as caught:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": _key("B")}}])
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "TransactionConflict" in str(caught.value)


# ------------------------------------------------------------------- ExclusiveStartKey


@pytest.fixture
def filled(stack: Stack, table: str) -> Any:
    ddb = stack.client("dynamodb")
    for i in range(3):
        ddb.put_item(TableName=table, Item={**_key("P", f"TXN#{i}"), "GSI1PK": {"S": "G"}, "GSI1SK": {"S": f"{i}"}})
    return ddb


def _query(ddb: Any, table: str, start: dict[str, Any], **extra: Any) -> Any:
    return ddb.query(
        TableName=table,
        KeyConditionExpression="PK = :p AND begins_with(SK, :s)",
        ExpressionAttributeValues={":p": {"S": "P"}, ":s": {"S": "TXN#"}},
        ExclusiveStartKey=start,
        **extra,
    )


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"PK": {"S": "P"}}, "does not match the schema"),  # the sort key dropped
        ({**_key("P", "TXN#0"), "x": {"S": "1"}}, "does not match the schema"),  # an attribute added
        ({"PK": {"S": "P"}, "SK": {"N": "1"}}, "does not match the schema"),  # the wrong type
        (_key("Q", "TXN#0"), "outside query boundaries"),  # another partition
        (_key("P", "ZZZ#0"), "range key predicate"),  # outside the sort key condition
    ],
)
def test_query_with_a_start_key_that_does_not_fit_is_a_validation_exception(
    filled: Any, table: str, start: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        _query(filled, table, start)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert message in caught.value.response["Error"]["Message"]


def test_start_keys_dynamodb_returned_page_on(filled: Any, table: str) -> None:
    first = _query(filled, table, _key("P", "TXN#0"), Limit=1)
    assert [i["SK"]["S"] for i in first["Items"]] == ["TXN#1"]
    page = filled.query(
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        Limit=1,
    )
    rest = filled.query(
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :g",
        ExpressionAttributeValues={":g": {"S": "G"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    assert [i["GSI1SK"]["S"] for i in rest["Items"]] == ["1", "2"]
    with pytest.raises(ClientError, match="does not match the schema"):  # an index key needs the table's key too
        filled.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :g",
            ExpressionAttributeValues={":g": {"S": "G"}},
            ExclusiveStartKey={"GSI1PK": {"S": "G"}, "GSI1SK": {"S": "0"}},
        )


def test_scan_with_a_start_key_that_does_not_fit_is_a_validation_exception(filled: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        filled.scan(TableName=table, ExclusiveStartKey={"PK": {"S": "P"}})
    assert caught.value.response["Error"]["Code"] == "ValidationException"


# ------------------------------------------------------------------- S3 without ListBucket


def test_missing_key_outside_the_listable_prefixes_answers_403_not_404(stack: Stack) -> None:
    s3, bucket = stack.client("s3"), stack.ref("ImportBucket")
    for key in ("imports/acme/gone.csv", "reports/acme/gone.csv"):
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket=bucket, Key=key)
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        with pytest.raises(ClientError) as head:
            s3.head_object(Bucket=bucket, Key=key)
        assert head.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_missing_key_under_a_listable_prefix_answers_404_and_present_keys_read(stack: Stack) -> None:
    s3, bucket = stack.client("s3"), stack.ref("ImportBucket")
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=bucket, Key="work/acme/i-1/chunks.json")  # the import function lists work/*
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="imports/acme/here.csv", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="imports/acme/here.csv")["Body"].read() == b"x"


# ------------------------------------------------------------------- Query reads its partition


def test_gsi_query_sees_every_write_after_its_partition_map_is_built(filled: Any, table: str) -> None:
    def gsi(value: str) -> list[str]:
        got = filled.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :g",
            ExpressionAttributeValues={":g": {"S": value}},
        )
        return [i["SK"]["S"] for i in got["Items"]]

    assert gsi("G") == ["TXN#0", "TXN#1", "TXN#2"]  # builds the map
    filled.update_item(
        TableName=table,
        Key=_key("P", "TXN#0"),
        UpdateExpression="SET GSI1PK = :h",
        ExpressionAttributeValues={":h": {"S": "H"}},
    )
    filled.delete_item(TableName=table, Key=_key("P", "TXN#1"))
    filled.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": {**_key("P", "TXN#3"), "GSI1PK": {"S": "G"}, "GSI1SK": {"S": "3"}}}}]
        }
    )
    filled.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**_key("Q", "X"), "GSI1PK": {"S": "G"}, "GSI1SK": {"S": "4"}}}}
        ]
    )
    assert gsi("G") == ["TXN#2", "TXN#3", "X"]
    assert gsi("H") == ["TXN#0"]
    assert gsi("none") == []
