"""What the event sources do with what they give up on: the on-failure queues of template.yaml."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.aws.stack import Stack
from local.aws.template import resources
from tests.support import Api

FUNCTIONS = resources("AWS::Serverless::Function")
QUEUES = resources("AWS::SQS::Queue")


def _queue_of(destination: dict[str, Any]) -> dict[str, Any]:
    ((_, (logical_id, attribute)),) = destination["Destination"].items()
    assert destination["Type"] == "SQS" and attribute == "Arn"
    return QUEUES[logical_id]["Properties"]


def test_the_stream_dispatcher_gives_up_on_a_record_into_an_encrypted_queue() -> None:
    (event,) = FUNCTIONS["StreamDispatchFunction"]["Properties"]["Events"].values()
    props = event["Properties"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 10
    assert 0 < props["MaximumRecordAgeInSeconds"] < 24 * 3600  # before the stream trims the record
    queue = _queue_of(props["DestinationConfig"]["OnFailure"])
    assert queue == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}


@pytest.mark.parametrize(
    "logical_id",
    [
        fn
        for fn, res in FUNCTIONS.items()
        if any(e["Type"] == "S3" for e in res["Properties"].get("Events", {}).values())
    ],
)
def test_every_asynchronously_invoked_function_has_an_on_failure_queue(logical_id: str) -> None:
    config = FUNCTIONS[logical_id]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    queue = _queue_of(config["DestinationConfig"]["OnFailure"])
    assert queue == {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 14 * 24 * 3600}


def test_locally_a_stream_record_that_keeps_failing_lands_in_the_queue(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    function = stack.functions.by_id["StreamDispatchFunction"]
    every_record_fails = lambda event: {  # noqa: E731
        "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]]
    }
    monkeypatch.setattr(function, "invoke", every_record_fails)
    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    assert api.grant("c-1", 50).status == 202
    stack.pump_streams()

    sqs = stack.client("sqs")
    queue = stack.on_failure_queue("StreamDispatchFunction", "DynamoDB")
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    infos = [json.loads(m["Body"])["DDBStreamBatchInfo"] for m in messages]
    assert len(infos) >= 1
    assert {i["streamArn"] for i in infos} == {stack.attr("GoodwillTable", "StreamArn")}
    assert all(i["shardId"] and i["startSequenceNumber"] for i in infos)
