"""Deliver the events on the webhook queue: fan each out to the org's endpoints, POST, back off.

Two kinds of message share the queue. An **event** (put there by the bus's rule) is fanned out
into one **delivery** message per enabled webhook of the event's org that wants its type, so a
failing receiver only ever delays its own deliveries. A delivery that fails (no 2xx, a timeout,
an address that became private) is hidden again for 30 s, 1, 2, 4 ... minutes (at most an hour)
by changing its visibility, until 24 h after it was queued; then it moves to the dead-letter
queue. Every attempt is recorded (GET /webhooks/{id} shows the latest).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from goodwill.clock import now, now_iso, parse_iso
from goodwill.jsonutil import dumps
from goodwill.observability import logger
from goodwill.repositories import webhook_queue as queue
from goodwill.repositories import webhook_secrets as secrets
from goodwill.repositories import webhooks as repo
from goodwill.webhooks import sender

RETRY_FOR = timedelta(hours=24)
FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600


def delay(attempt: int) -> int:
    """Seconds to wait after the `attempt`-th failed try: 30 s doubling, at most an hour."""
    return int(min(FIRST_DELAY_SECONDS * 2 ** (attempt - 1), MAX_DELAY_SECONDS))


def handle(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """SQS batch -> the messages to keep (retried after their new visibility timeout)."""
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(records)))) as pool:
        done = list(pool.map(process, records))
    return {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r, ok in zip(records, done, strict=True) if not ok]
    }


def process(record: Mapping[str, Any]) -> bool:
    """True when the message is finished with (delete it), False to see it again later."""
    try:
        body = json.loads(record["body"])
    except (KeyError, TypeError, ValueError):
        logger.warning("webhook queue message that is not JSON dropped", extra={"message_id": record.get("messageId")})
        return True
    if isinstance(body, dict) and body.get("source") == "goodwill" and isinstance(body.get("detail"), dict):
        return fan_out(body)
    if isinstance(body, dict) and body.get("kind") == "delivery":
        return deliver(body, record)
    logger.warning("unknown webhook queue message dropped", extra={"message_id": record.get("messageId")})
    return True


def fan_out(event: Mapping[str, Any]) -> bool:
    detail, event_type = event["detail"], str(event.get("detail-type"))
    org_id, event_id = str(detail.get("org_id")), str(detail.get("event_id"))
    wanted = [
        str(w["webhook_id"])
        for w in repo.list_all(org_id)
        if w.get("enabled") and event_type in (w.get("event_types") or [])
    ]
    todo = [w for w in wanted if w not in repo.delivered(org_id, wanted, event_id)]
    payload = {"event_type": event_type, **detail}
    queued = now_iso()
    sent: list[str] = []
    message = {"kind": "delivery", "org_id": org_id, "event_id": event_id, "event_type": event_type}
    for start in range(0, len(todo), queue.BATCH):
        chunk = todo[start : start + queue.BATCH]
        bodies = [dumps({**message, "webhook_id": w, "queued_at": queued, "payload": payload}) for w in chunk]
        sent.extend(chunk[i] for i in queue.send_batch(bodies))
    repo.mark(org_id, sent, event_id)  # a redelivered event is not queued again for these
    return len(sent) == len(todo)


def deliver(message: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    org_id, webhook_id = str(message["org_id"]), str(message["webhook_id"])
    hook = repo.get(org_id, webhook_id)
    if hook is None:
        return True  # deleted since: its deliveries are dropped
    attempt = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
    entry = {"event_id": message["event_id"], "event_type": message["event_type"], "at": now_iso(), "attempt": attempt}
    if not hook.get("enabled"):
        repo.record_attempt(org_id, webhook_id, {**entry, **_outcome("DROPPED", None, "webhook disabled", 0)})
        return True
    started = time.monotonic()
    status, error = _post(hook, message)
    took = int((time.monotonic() - started) * 1000)
    if error is None:
        repo.record_attempt(org_id, webhook_id, {**entry, **_outcome("DELIVERED", status, None, took)})
        return True
    wait = delay(attempt)
    if now() + timedelta(seconds=wait) > parse_iso(str(message["queued_at"])) + RETRY_FOR:
        dead = {**message, "last_error": error, "last_status_code": status, "attempts": attempt}
        queue.dead_letter(dumps(dead))
        repo.record_attempt(org_id, webhook_id, {**entry, **_outcome("DEAD_LETTERED", status, error, took)})
        return True
    queue.hide(str(record["receiptHandle"]), wait)
    repo.record_attempt(org_id, webhook_id, {**entry, **_outcome("RETRYING", status, error, took)})
    return False


def _post(hook: Mapping[str, Any], message: Mapping[str, Any]) -> tuple[int | None, str | None]:
    try:
        secret = secrets.secret_of(dict(hook))
    except ClientError as exc:  # KMS refused or unavailable: nothing is sent unsigned; retried later
        return None, f"the signing secret could not be decrypted (KMS {exc.response['Error']['Code']})"
    return sender.post(str(hook["url"]), secret, message)


def _outcome(outcome: str, status: int | None, error: str | None, took: int) -> dict[str, Any]:
    return {"outcome": outcome, "status_code": status, "error": error, "duration_ms": took}
