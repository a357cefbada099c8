"""repositories/table.py: Decimals stop at the boundary, pagination tokens are checked, and a
cancelled transaction's reasons are read right (a fake client; no moto)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.errors import ValidationFailedError
from goodwill.repositories import pages, table
from goodwill.repositories.table import Cancelled

LISTING = ("PK", "ORG#acme#CUST#c1")
LEDGER = ("SK", "TXN#")


def test_numbers_come_back_as_ints_and_floats_never_decimals() -> None:
    raw = table.serialize({"current": 5, "rate": Decimal("1.5"), "lots": [[Decimal(3)]], "gone": None})
    assert "gone" not in raw  # None is not written
    item = table.deserialize(raw)
    assert item == {"current": 5, "rate": 1.5, "lots": [[3]]}
    assert type(item["current"]) is int and type(item["lots"][0][0]) is int


def token_of(plain: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


_EVERY_KIND: dict[str, Any] = {
    "s": "text",
    "empty": "",
    "n": 7,
    "negative": -3,
    "big": 10**37,
    "fraction": Decimal("1.5"),
    "exponent": Decimal("2E+3"),
    "yes": True,
    "nothing": None,
    "map": {"a": [1, "b", None, {"c": False}], "d": {}},
    "list": [],
    "strings": {"x"},
    "numbers": {Decimal("4.25")},
    "blob": b"ab",
}


@pytest.mark.parametrize("name", sorted(_EVERY_KIND))
def test_items_are_written_and_read_as_boto3s_own_serializers_would(name: str) -> None:
    # serialize/deserialize take a short way for strings, ints, maps and lists (most of what a
    # request spends in our code): the values must be exactly boto3's, Decimals turned to numbers.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    value = _EVERY_KIND[name]
    written = TypeSerializer().serialize(value)
    assert table.serialize_value(value) == written
    expected = table._to_python(TypeDeserializer().deserialize(written))
    read = table.deserialize({name: written})[name]
    assert read == expected and type(read) is type(expected)


def test_a_token_round_trips_to_the_start_key_it_was_made_from() -> None:
    last = {"PK": {"S": "ORG#acme#CUST#c1"}, "SK": {"S": "TXN#01J"}}
    token = pages.encode_token(last)
    assert token is not None and "=" not in token
    assert pages.decode_token(token, LISTING, sort_prefix=LEDGER) == last
    assert pages.encode_token(None) is None and pages.decode_token(None, LISTING) is None


@pytest.mark.parametrize(
    "plain",
    [
        {"PK": "ORG#other#CUST#c1", "SK": "TXN#01J"},  # another org's partition
        {"PK": "ORG#acme#CUST#c1", "SK": "CPN#01J"},  # outside the listing's sort prefix
        {"PK": "ORG#acme#CUST#c1"},  # missing key attribute
        {"PK": "ORG#acme#CUST#c1", "SK": "TXN#01J", "x": "y"},  # extra attribute
        {"PK": "ORG#acme#CUST#c1", "SK": 5},  # not a string
        {"PK": "ORG#acme#CUST#c1", "SK": "TXN#" + "x" * 1024},  # over DynamoDB's sort key size
        ["ORG#acme#CUST#c1", "TXN#01J"],  # not an object
    ],
)
def test_an_edited_or_foreign_token_is_a_422_on_next_token(plain: Any) -> None:
    with pytest.raises(ValidationFailedError) as refused:
        pages.decode_token(token_of(plain), LISTING, sort_prefix=LEDGER)
    assert refused.value.details[0]["field"] == "next_token"


@pytest.mark.parametrize("garbage", ["%%%", "bm90IGpzb24", "e30"])  # not base64, not JSON, {}
def test_a_token_that_is_not_one_is_a_422(garbage: str) -> None:
    with pytest.raises(ValidationFailedError):
        pages.decode_token(garbage, LISTING)


def test_an_index_token_needs_the_index_key_as_well() -> None:
    partition = ("GSI1PK", "ORG#acme#REQS")
    full = {"PK": "ORG#acme#REQ#r1", "SK": "REQ", "GSI1PK": "ORG#acme#REQS", "GSI1SK": "2027"}
    assert pages.decode_token(token_of(full), partition, index="GSI1") is not None
    with pytest.raises(ValidationFailedError):
        pages.decode_token(token_of({"PK": "ORG#acme#REQ#r1", "SK": "REQ"}), partition, index="GSI1")


def test_cancellation_reasons_say_which_item_failed_and_whether_to_retry() -> None:
    lost = Cancelled(["ConditionalCheckFailed", "None"])
    assert lost.failed(0) and not lost.failed(1) and not lost.failed(5) and not lost.retryable
    assert Cancelled(["None", "TransactionConflict"]).retryable
    assert not Cancelled(["ValidationError"]).retryable
    assert isinstance(Cancelled(["ValidationError"]).refused(), table.TransactionRefusedError)


class FakeClient:
    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error
        self.calls: list[str] = []

    def _fail(self, name: str, **_: Any) -> None:
        self.calls.append(name)
        raise ClientError(self.error, name)  # type: ignore[arg-type]

    def transact_write_items(self, **kwargs: Any) -> None:
        self._fail("TransactWriteItems", **kwargs)

    def update_item(self, **kwargs: Any) -> None:
        self._fail("UpdateItem", **kwargs)


def use(monkeypatch: pytest.MonkeyPatch, error: dict[str, Any]) -> FakeClient:
    client = FakeClient(error)
    monkeypatch.setattr(aws, "dynamodb", lambda: client)
    return client


def cancelled_error(reasons: list[str] | None, message: str = "Transaction cancelled") -> dict[str, Any]:
    error: dict[str, Any] = {"Error": {"Code": "TransactionCanceledException", "Message": message}}
    if reasons is not None:
        error["CancellationReasons"] = [{"Code": r} for r in reasons]
    return error


TWO_OPS = [table.update_op({"PK": "a", "SK": "b"}, "SET x = :x", vals={":x": 1}), {"ConditionCheck": {}}]


def test_transact_returns_the_reasons_of_a_cancelled_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, cancelled_error(["None", "ConditionalCheckFailed"]))
    assert table.transact(TWO_OPS) == Cancelled(["None", "ConditionalCheckFailed"])


def test_transact_reads_the_reasons_from_the_message_when_not_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    message = "Transaction cancelled, please refer cancellation reasons for specific reasons"
    message += " [None, TransactionConflict]"
    use(monkeypatch, cancelled_error(None, message))
    assert table.transact(TWO_OPS) == Cancelled(["None", "TransactionConflict"])


def test_a_one_write_transaction_runs_as_a_plain_conditional_write(monkeypatch: pytest.MonkeyPatch) -> None:
    client = use(monkeypatch, {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}})
    assert table.transact(TWO_OPS[:1]) == Cancelled(["ConditionalCheckFailed"])
    assert client.calls == ["UpdateItem"]


def test_other_errors_are_not_mistaken_for_a_cancellation(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, {"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}})
    with pytest.raises(ClientError):
        table.transact(TWO_OPS)


def test_update_or_old_gives_the_item_its_condition_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    old = table.serialize({"PK": "a", "SK": "b", "win": 7})
    use(monkeypatch, {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}, "Item": old})
    assert table.update_or_old(TWO_OPS[0]) == {"PK": "a", "SK": "b", "win": 7}


def test_update_or_old_gives_an_empty_item_when_there_was_none(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, {"Error": {"Code": "ConditionalCheckFailedException", "Message": "no"}})
    assert table.update_or_old(TWO_OPS[0]) == {}


def test_update_or_old_raises_what_is_not_a_condition(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}})
    with pytest.raises(ClientError):
        table.update_or_old(TWO_OPS[0])


class PagedClient:
    """Answers a Query or Scan with one page per call, each naming the next until the last."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.requests: list[dict[str, Any]] = []

    def _page(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        at = len(self.requests) - 1
        answer: dict[str, Any] = {"Items": [table.serialize(i) for i in self.pages[at]]}
        if at + 1 < len(self.pages):
            answer["LastEvaluatedKey"] = {"PK": {"S": f"after-{at}"}}
        return answer

    query = scan = _page


@pytest.mark.parametrize("method", ["query", "scan"])
def test_all_pages_follows_every_page_to_the_last(monkeypatch: pytest.MonkeyPatch, method: Any) -> None:
    client = PagedClient([[{"n": 1}, {"n": 2}], [], [{"n": 3}]])
    monkeypatch.setattr(aws, "dynamodb", lambda: client)
    found = list(pages.all_pages(method, {"IndexName": "GSI2"}))
    assert found == [[{"n": 1}, {"n": 2}], [], [{"n": 3}]]
    assert [r.get("ExclusiveStartKey") for r in client.requests] == [
        None,
        {"PK": {"S": "after-0"}},
        {"PK": {"S": "after-1"}},
    ]
    assert all(r["IndexName"] == "GSI2" and r["TableName"] == table.table_name() for r in client.requests)
