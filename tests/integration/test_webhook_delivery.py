"""Webhook delivery, message by message: one message's failure never re-sends its neighbours, and
an event reaches each webhook once however often (or however concurrently) it is queued."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from goodwill import aws
from goodwill.clock import now_iso
from goodwill.repositories import webhook_queue, webhooks
from goodwill.webhooks import delivery
from local.aws.stack import Stack
from local.devserver.webhook_receiver import Receiver
from tests.integration.test_webhooks import _end_back_off, _hook
from tests.support import Api, function_for

THROTTLED = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}


@pytest.fixture
def receivers(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Receiver]]:
    """Two receivers on this machine (the local run's http://127.0.0.1), by webhook id."""
    monkeypatch.setenv("GOODWILL_LOCAL_WEBHOOKS", "true")
    aws.reset_clients()
    started = {name: Receiver().start() for name in ("a", "b")}
    yield started
    for receiver in started.values():
        receiver.stop()


@pytest.fixture
def hooks(api: Api, stack: Stack, receivers: dict[str, Receiver]) -> dict[str, Receiver]:
    for name, receiver in receivers.items():
        _hook(api, name, receiver.url)
    stack.settle()  # nothing else is on the queue
    return receivers


def _send(stack: Stack, *bodies: str) -> list[str]:
    """Put messages on the webhook queue; their ids."""
    sqs, url = stack.client("sqs"), stack.ref("WebhookQueue")
    return [sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for body in bodies]


def _poll(stack: Stack) -> list[str] | None:
    """One batch of the webhook queue to the delivery function, as Lambda's SQS event source does
    it: the messages it reports failed (None: it raised, and the whole batch) come back later."""
    sqs, url = stack.client("sqs"), stack.ref("WebhookQueue")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    if not got:
        return []
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
        }
        for m in got
    ]
    try:
        result = function_for(stack, "webhook_delivery").invoke({"Records": records})
    except Exception:  # a function error: Lambda leaves every message of the batch to come back
        return None
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    for record in records:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return failed


def _delivery(webhook_id: str, event_id: str = "e-1") -> str:
    return json.dumps(
        {
            "kind": "delivery",
            "org_id": "acme",
            "webhook_id": webhook_id,
            "event_id": event_id,
            "event_type": "Points Changed",
            "queued_at": now_iso(),
            "payload": {"event_type": "Points Changed", "event_id": event_id, "org_id": "acme"},
        }
    )


def _event(event_id: str = "e-1") -> str:
    """The event as the bus's rule puts it on the queue."""
    detail = {"org_id": "acme", "event_id": event_id, "customer_id": "c-1", "points": 5}
    return json.dumps({"source": "goodwill", "detail-type": "Points Changed", "detail": detail})


def _counts(receivers: dict[str, Receiver]) -> dict[str, int]:
    return {name: len(r.deliveries) for name, r in receivers.items()}


# ---------------------------------------------------------------- one message fails, not the batch


def test_a_fault_on_one_message_is_retried_alone_and_its_neighbours_are_posted_once(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given deliveries to a and b in one batch, and DynamoDB throttling the read of b's webhook once
    real, faults = webhooks.get, []

    def get(org_id: str, webhook_id: str) -> Any:
        if webhook_id == "b" and not faults:
            faults.append(webhook_id)
            raise ClientError(THROTTLED, "GetItem")  # type: ignore[arg-type]
        return real(org_id, webhook_id)

    monkeypatch.setattr(webhooks, "get", get)
    _, to_b = _send(stack, _delivery("a"), _delivery("b"))

    # When the batch is handled, and b's message comes back after its visibility timeout
    first = _poll(stack)
    _end_back_off(stack)
    second = _poll(stack)

    # Then only b's message was reported failed; each receiver got the event once
    assert (first, second) == ([to_b], [])
    assert faults == ["b"]
    assert _counts(hooks) == {"a": 1, "b": 1}


def test_poison_messages_fail_alone_logged_by_id_only_and_end_on_the_dead_letter_queue(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(delivery.logger, "warning", lambda msg, *a, **kw: logged.append((msg, kw)))
    # Given a batch with two good deliveries, a body that is not JSON, and a delivery missing its webhook
    not_json = '{"to": "https://ada.example.com/lovelace?email=ada@'
    incomplete = '{"kind": "delivery", "org_id": "acme"}'
    ids = _send(stack, _delivery("a"), not_json, incomplete, _delivery("b"))

    # When the batch is handled, and the poison keeps coming back (50 receives, the redrive policy's)
    first = _poll(stack)
    later = []
    while _end_back_off(stack):
        later.append(_poll(stack))

    # Then the good deliveries were posted once; the poison was reported failed every time, logged
    # by message id only, and SQS moved it, untouched, to the dead-letter queue
    assert first == ids[1:3]
    assert _counts(hooks) == {"a": 1, "b": 1}
    assert later == [ids[1:3]] * 49 + [[]]  # the 51st receive finds it moved
    dead = stack.client("sqs").receive_message(QueueUrl=stack.ref("WebhookDeadLetterQueue"), MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in dead["Messages"]) == sorted([not_json, incomplete])
    assert {kw["extra"]["message_id"] for _, kw in logged} == set(ids[1:3])
    assert "ada" not in json.dumps(logged) and "lovelace" not in json.dumps(logged)


def test_a_successful_post_whose_attempt_cannot_be_recorded_is_not_posted_again(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB refusing to record a's attempt once
    def record_attempt(org_id: str, webhook_id: str, attempt: dict[str, Any]) -> None:
        raise ClientError(THROTTLED, "PutItem")  # type: ignore[arg-type]

    monkeypatch.setattr(webhooks, "record_attempt", record_attempt)
    _send(stack, _delivery("a"))

    # When the delivery is made
    failed = _poll(stack)

    # Then the receiver has it, so the message is done: nothing comes back to post it again
    assert failed == []
    assert _end_back_off(stack) == 0
    assert _counts(hooks) == {"a": 1, "b": 0}


# ---------------------------------------------------------------- an event reaches a webhook once


def test_the_same_event_twice_in_one_batch_is_posted_once_per_webhook(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the bus put one event on the queue twice, and both copies fan out at the same moment
    both_read = threading.Barrier(2)
    real, calls = webhooks.list_all, []

    def list_all(org_id: str) -> Any:
        found = real(org_id)
        calls.append(org_id)
        if len(calls) <= 2:
            both_read.wait(timeout=5)  # neither queues anything before the other has looked
        return found

    monkeypatch.setattr(webhooks, "list_all", list_all)
    _send(stack, _event(), _event())

    # When the batch is handled, then the deliveries it queued
    assert _poll(stack) == []
    assert _poll(stack) == []

    # Then each webhook got the event once, and nothing else is queued
    assert len(calls) == 2
    assert _counts(hooks) == {"a": 1, "b": 1}
    assert _poll(stack) == [] and _counts(hooks) == {"a": 1, "b": 1}


def test_a_redelivered_event_batch_is_not_posted_again(stack: Stack, hooks: dict[str, Receiver]) -> None:
    # Given an event delivered to both webhooks
    _send(stack, _event())
    stack.settle()

    # When the same event comes again (SQS at least once, or the bus retrying its put)
    _send(stack, _event(), _event())
    stack.settle()

    # Then nothing more reached the receivers
    assert _counts(hooks) == {"a": 1, "b": 1}


def test_an_event_sqs_refused_to_fan_out_is_retried_and_posted_once(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SQS refusing b's delivery message once, then failing the whole send once
    real, sends = webhook_queue.send_batch, []

    def send_batch(bodies: list[str]) -> list[int]:
        sends.append(len(bodies))
        if len(sends) == 1:
            kept = [i for i, body in enumerate(bodies) if json.loads(body)["webhook_id"] != "b"]
            return [kept[i] for i in real([bodies[i] for i in kept])]
        if len(sends) == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "SendMessageBatch")  # type: ignore[arg-type]
        return real(bodies)

    monkeypatch.setattr(webhook_queue, "send_batch", send_batch)
    (event,) = _send(stack, _event())

    # When the event is fanned out, comes back (twice) after its visibility timeout, and is delivered
    assert _poll(stack) == [event]  # a queued; b's claim released
    _poll(stack)
    assert _end_back_off(stack) == 1
    assert _poll(stack) == [event]  # SQS down: b's claim released again
    assert _end_back_off(stack) == 1
    assert _poll(stack) == []
    assert _poll(stack) == []

    # Then a was queued once and b once, and each got the event once
    assert sends == [2, 1, 1]
    assert _counts(hooks) == {"a": 1, "b": 1}


@pytest.mark.parametrize(("claimed_seconds_ago", "posted"), [(5, 0), (600, 1)])
def test_a_claim_left_by_a_crashed_invocation_is_taken_over_only_once_it_is_stale(
    stack: Stack, hooks: dict[str, Receiver], claimed_seconds_ago: int, posted: int
) -> None:
    from goodwill.repositories import keys, table

    # Given a claim on (e-1, b) that was never queued: an invocation in flight, or one that died
    claim = {"PK": keys.webhook_log("acme", "b"), "SK": "EVENT#e-1", "webhook_id": "b", "state": "CLAIMED"}
    table.put({**claim, "claimed_at": int(time.time()) - claimed_seconds_ago})

    # When the event is handled
    _send(stack, _event())
    stack.settle()

    # Then a got it; b only when the claim is older than any invocation can live
    assert _counts(hooks) == {"a": 1, "b": posted}


def test_an_event_queued_again_after_its_mark_failed_is_still_posted_once(
    stack: Stack, hooks: dict[str, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given SQS accepting the deliveries but DynamoDB refusing the QUEUED mark after them, and the
    # event's retry coming back once the claims are stale (its visibility timeout, 180 s, is longer
    # than the 120 s after which a claim is taken over)
    real_queued, marks = webhooks.queued, []
    real_send, sends = webhook_queue.send_batch, []

    def queued(org_id: str, webhook_ids: list[str], event_id: str) -> None:
        marks.append(len(webhook_ids))
        if len(marks) == 1:
            raise ClientError(THROTTLED, "PutItem")  # type: ignore[arg-type]
        real_queued(org_id, webhook_ids, event_id)

    def send_batch(bodies: list[str]) -> list[int]:
        sends.append(len(bodies))
        return real_send(bodies)

    monkeypatch.setattr(webhooks, "queued", queued)
    monkeypatch.setattr(webhook_queue, "send_batch", send_batch)
    monkeypatch.setattr(webhooks, "CLAIM_STALE_SECONDS", -1)  # every claim is stale by the retry
    (event,) = _send(stack, _event())

    # When the event fails after queueing, its deliveries are made, and it comes back
    assert _poll(stack) == [event]
    stack.settle()
    assert _counts(hooks) == {"a": 1, "b": 1}
    assert _end_back_off(stack) == 1
    stack.settle()

    # Then it was queued twice for each webhook, and each receiver still got it once
    assert (marks, sends) == ([2, 2], [2, 2])
    assert _counts(hooks) == {"a": 1, "b": 1}
