"""GET /_local/events: every event published on the Goodwill bus, newest first.

A rule of the local run only (not in template.yaml) sends every event of the bus to a queue of
its own, which this log drains: what it shows went through EventBridge's matching, as a consumer
on AWS would see it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from local.aws.stack import Stack

NAME = "goodwill-local-events"
LIMIT = 1000


class EventLog:
    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        sqs = stack.client("sqs")
        self._queue = sqs.create_queue(QueueName=NAME)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = stack.client("events")
        bus = stack.ref("GoodwillEventBus")
        events.put_rule(Name=NAME, EventBusName=bus, EventPattern=json.dumps({"source": ["goodwill"]}))
        events.put_targets(Rule=NAME, EventBusName=bus, Targets=[{"Id": "local-log", "Arn": arn}])

    def observe(self) -> int:
        """Move what the queue holds into the log; how many events arrived."""
        sqs = self._stack.client("sqs")
        arrived = 0
        while messages := sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get("Messages", []):
            with self._lock:
                self._events.extend(json.loads(m["Body"]) for m in messages)
                del self._events[:-LIMIT]
            for message in messages:
                sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
            arrived += len(messages)
        return arrived

    def items(self, detail_type: str | None = None, org_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = list(reversed(self._events))
        if detail_type:
            found = [e for e in found if e.get("detail-type") == detail_type]
        if org_id:
            found = [e for e in found if e.get("detail", {}).get("org_id") == org_id]
        return found
