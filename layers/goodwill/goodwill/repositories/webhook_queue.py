"""The webhook queue and its dead-letter queue (SQS): queue deliveries ten at a time, hide one
again for a while, put one aside for good. When to retry and what a delivery holds are
goodwill.webhooks.delivery's."""

from __future__ import annotations

from collections.abc import Sequence

from goodwill import aws
from goodwill.settings import get_settings

BATCH = 10  # SendMessageBatch takes at most 10 messages


def send_batch(bodies: Sequence[str]) -> list[int]:
    """Queue up to BATCH messages; the positions of those SQS accepted."""
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    resp = aws.sqs().send_message_batch(QueueUrl=get_settings().webhook_queue_url, Entries=entries)  # type: ignore[arg-type]
    return [int(ok["Id"]) for ok in resp.get("Successful", [])]


def hide(receipt_handle: str, seconds: int) -> None:
    """Show the received message again only after `seconds` (its next try)."""
    aws.sqs().change_message_visibility(
        QueueUrl=get_settings().webhook_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
    )


def dead_letter(body: str) -> None:
    """Put a message on the dead-letter queue (its retries are spent)."""
    aws.sqs().send_message(QueueUrl=get_settings().webhook_dead_letter_queue_url, MessageBody=body)
