"""Domain events: what the table's stream publishes on the bus, read back through a rule and SQS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from goodwill import aws
from local.aws.stack import Stack
from local.tools import event_schemas
from tests.integration.test_bulk_imports import HEADER, run_import
from tests.support import AGENT, APPROVER, Api

SCHEMAS = {
    detail_type: json.loads((event_schemas.DIRECTORY / event_schemas.file_name(detail_type)).read_text())
    for detail_type in ("Points Changed", "Request Decided", "Coupon Issued", "Import Finished", "Points Expiring")
}


class Bus:
    """A rule on the Goodwill bus sending every event to an SQS queue, read back like a consumer."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        sqs = stack.client("sqs")
        self.queue = sqs.create_queue(QueueName="test-consumer")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = stack.client("events")
        bus = stack.ref("GoodwillEventBus")
        events.put_rule(Name="test-consumer", EventBusName=bus, EventPattern=json.dumps({"source": ["goodwill"]}))
        events.put_targets(Rule="test-consumer", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def read(self) -> list[dict[str, Any]]:
        """Every event delivered since the last read, schema-checked."""
        self.stack.settle()
        sqs = self.stack.client("sqs")
        found = []
        while messages := sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                event = json.loads(message["Body"])
                assert event["source"] == "goodwill"
                jsonschema.validate(event["detail"], SCHEMAS[event["detail-type"]])
                found.append(event)
                sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=message["ReceiptHandle"])
        return found


@pytest.fixture
def bus(stack: Stack) -> Bus:
    return Bus(stack)


def _types(events: list[dict[str, Any]]) -> list[str]:
    return sorted(e["detail-type"] for e in events)


def test_committed_schemas_are_what_the_models_say() -> None:
    for name, schema in event_schemas.schemas().items():
        committed = Path(event_schemas.DIRECTORY / name).read_text()
        assert committed == event_schemas.render(schema), f"run: python -m local.tools.event_schemas ({name})"


def test_grant_publishes_one_points_changed_with_the_ledger_entry(api: Api, bus: Bus) -> None:
    # Given a customer (creating one publishes nothing)
    api.customer("c-1")
    assert bus.read() == []

    # When an agent grants 100 points
    reply = api.grant("c-1", 100, comment="late parcel")

    # Then exactly one event says so, carrying the ledger entry as the API shows it
    (event,) = bus.read()
    detail = event["detail"]
    assert event["detail-type"] == "Points Changed"
    assert detail["org_id"] == "acme"
    assert detail["occurred_at"] == reply.body["transaction"]["created_at"]
    assert {k: v for k, v in detail.items() if k not in ("event_id", "org_id", "occurred_at", "customer_id")} == (
        reply.body["transaction"]
    )
    assert (detail["customer_id"], detail["actor"], detail["points"]) == ("c-1", "bob", 100)


def test_approval_publishes_the_decision_and_the_change(api: Api, bus: Bus) -> None:
    # Given a pending grant of 500 points (pending publishes nothing)
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    request_id = api.grant("c-1", 500).body["request"]["request_id"]
    assert bus.read() == []

    # When an approver approves it and the workflow fulfils it
    assert api.post(f"/goodwill/requests/{request_id}/approve", {"comment": "ok"}, as_=APPROVER).status == 200
    events = bus.read()

    # Then a Request Decided (APPROVED, by carol) and a Points Changed of 500 were published
    assert _types(events) == ["Points Changed", "Request Decided"]
    decided = next(e["detail"] for e in events if e["detail-type"] == "Request Decided")
    assert (decided["request_id"], decided["status"], decided["decided_by"]) == (request_id, "APPROVED", "carol")
    changed = next(e["detail"] for e in events if e["detail-type"] == "Points Changed")
    assert (changed["request_id"], changed["points"], changed["type"]) == (request_id, 500, "GOODWILL_CREDIT")


def test_rejection_publishes_only_the_decision(api: Api, bus: Bus) -> None:
    api.put("/config", {"points": {"approval_threshold": 100}})
    api.customer("c-1")
    request_id = api.grant("c-1", 500).body["request"]["request_id"]
    api.stack.settle()
    assert api.post(f"/goodwill/requests/{request_id}/reject", {"comment": "no"}, as_=APPROVER).status == 200
    (event,) = bus.read()
    assert (event["detail-type"], event["detail"]["status"]) == ("Request Decided", "REJECTED")


def test_coupon_publishes_coupon_issued(api: Api, bus: Bus) -> None:
    # Given a pool of one code and coupons auto-approved
    api.put("/config", {"coupons": {"auto_approve": True}})
    api.customer("c-1")
    series = {"name": "Ten", "discount": {"type": "PERCENT", "value": 10}, "valid_days": 30, "codes": ["TEN-1"]}
    assert api.put("/coupon-series/ten", series).status == 201

    # When an agent hands out a coupon
    reply = api.post("/goodwill/coupons", {"customer_id": "c-1", "series_id": "ten", "reason": "REWARD"}, as_=AGENT)

    # Then one Coupon Issued carries it
    (event,) = bus.read()
    assert event["detail-type"] == "Coupon Issued"
    assert {k: event["detail"][k] for k in reply.body["coupon"]} == reply.body["coupon"]


def test_import_publishes_each_row_and_the_end(api: Api, stack: Stack, bus: Bus) -> None:
    # Given two customers
    api.customer("c-1")
    api.customer("c-2")

    # When an import applies two rows and fails one
    text = HEADER + "c-1,,10,,,,\nc-2,,-5,,,,\nc-9,,5,,,,\n"
    api.grant("c-2", 50)
    bus.read()
    import_id, view = run_import(api, stack, text)

    # Then each applied row is a Points Changed of the import, and the end an Import Finished
    events = bus.read()
    assert _types(events) == ["Import Finished", "Points Changed", "Points Changed"]
    rows = sorted(
        (e["detail"]["customer_id"], e["detail"]["points"], e["detail"]["type"])
        for e in events
        if e["detail-type"] == "Points Changed"
    )
    assert rows == [("c-1", 10, "BULK_CREDIT"), ("c-2", -5, "BULK_DEBIT")]
    finished = next(e["detail"] for e in events if e["detail-type"] == "Import Finished")
    assert (finished["import_id"], finished["status"]) == (import_id, "COMPLETED_WITH_ERRORS")
    assert finished["totals"] == view["totals"] == {"rows": 3, "applied": 2, "failed": 1}


def _stream_records(stack: Stack) -> list[dict[str, Any]]:
    streams = stack.client("dynamodbstreams")
    arn = stack.attr("GoodwillTable", "StreamArn")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records.extend(streams.get_records(ShardIterator=it["ShardIterator"])["Records"])
    return json.loads(json.dumps(records, default=str))  # type: ignore[no-any-return]


def test_redelivered_records_publish_the_same_event_ids(api: Api, stack: Stack, bus: Bus) -> None:
    # Given a grant whose event was published
    api.customer("c-1")
    api.grant("c-1", 100)
    first = bus.read()

    # When the event source delivers the same stream records again
    result = stack.functions.by_id["StreamEventsFunction"].invoke({"Records": _stream_records(stack)})

    # Then what is published again carries the same ids: a consumer drops it as a duplicate
    again = bus.read()
    assert result == {"batchItemFailures": []}
    assert [e["detail"]["event_id"] for e in again] == [e["detail"]["event_id"] for e in first]
    assert [e["detail"] for e in again] == [e["detail"] for e in first]


def test_failed_entries_are_retried_and_only_a_lasting_failure_is_reported(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three grants whose records are in the stream
    api.customer("c-1")
    for points in (1, 2, 3):
        api.grant("c-1", points)
    records = [r for r in _stream_records(stack) if r["dynamodb"]["Keys"]["SK"]["S"].startswith("TXN#")]
    assert len(records) == 3
    calls: list[int] = []
    real = aws.events().put_events

    # When EventBridge fails the second entry once, then (second delivery) the second entry always
    def flaky(always: bool) -> Any:
        def put_events(Entries: list[dict[str, Any]]) -> Any:
            calls.append(len(Entries))
            resp = real(Entries=Entries)
            if len(Entries) == 3 and (always or len(calls) == 1):
                resp["FailedEntryCount"] = 1
                resp["Entries"][1] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            elif always and len(Entries) == 1:
                resp["FailedEntryCount"] = 1
                resp["Entries"][0] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return resp

        return put_events

    monkeypatch.setattr(aws.events(), "put_events", flaky(False))
    once = stack.functions.by_id["StreamEventsFunction"].invoke({"Records": records})
    retried = list(calls)
    calls.clear()
    monkeypatch.setattr(aws.events(), "put_events", flaky(True))
    lasting = stack.functions.by_id["StreamEventsFunction"].invoke({"Records": records})

    # Then a passing failure is retried alone (3 entries, then 1) and nothing is reported; a lasting
    # one reports its record and every record after it, never the one before
    assert (retried, once) == ([3, 1], {"batchItemFailures": []})
    assert calls[0] == 3 and set(calls[1:]) == {1}
    sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert lasting == {"batchItemFailures": [{"itemIdentifier": s} for s in sequence[1:]]}


def test_a_due_reminder_publishes_one_points_expiring_per_lot(api: Api, stack: Stack, bus: Bus) -> None:
    from tests.integration.test_expiry import days, run

    # Given a lot of 100 points expiring in 10 days (reminded 7 days ahead), 30 of them spent, and a
    # customer who cannot be reached at all
    api.customer("c-1", phone=None, email=None)
    credit = api.grant("c-1", 100, expires_at=days(10), notify=False).body["transaction"]
    api.grant("c-1", -30, notify=False)
    bus.read()

    # When the expiry run passes the reminder time, then runs again (and its records are redelivered)
    assert run(days(4))["reminded"] == 1
    first = bus.read()
    assert run(days(5))["reminded"] == 0
    stack.functions.by_id["StreamEventsFunction"].invoke({"Records": _stream_records(stack)})
    again = [e for e in bus.read() if e["detail-type"] == "Points Expiring"]

    # Then one Points Expiring says which lot, how many points and when (schema-checked by read), and
    # the redelivered record carries the same event id
    (event,) = first
    detail = event["detail"]
    assert event["detail-type"] == "Points Expiring"
    assert (detail["customer_id"], detail["program_id"], detail["transaction_id"]) == (
        "c-1",
        "default",
        credit["transaction_id"],
    )
    assert (detail["points"], detail["expires_at"]) == (70, credit["expires_at"])
    assert [e["detail"]["event_id"] for e in again] == [detail["event_id"]]
