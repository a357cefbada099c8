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
import os
import time
import traceback
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


class PoisonMessageError(ValueError):
    """A message no retry can handle (not JSON, not an event nor a delivery)."""


def handle(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """SQS batch -> the messages to see again (a partial batch response: ReportBatchItemFailures).

    Each message succeeds or fails alone, so a fault on one never brings its neighbours back to be
    POSTed again. They run side by side: one after another (as Powertools' BatchProcessor does),
    ten receivers timing out at 5 s each would outlast the function's 30 s, failing the batch."""
    with ThreadPoolExecutor(max_workers=max(1, min(10, len(records)))) as pool:
        done = list(pool.map(_one, records))
    return {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r, ok in zip(records, done, strict=True) if not ok]
    }


def _one(record: Mapping[str, Any]) -> bool:
    """process(record); an error is this message's failure alone. It comes back after its visibility
    timeout; one that always fails (a poison message) goes, untouched, to the dead-letter queue by
    the queue's redrive policy (maxReceiveCount), where it can be read, rather than being dropped.
    Logged by message id, error type and place only: bodies hold URLs and customers' data."""
    try:
        return process(record)
    except Exception as exc:
        logger.warning(
            "webhook queue message failed; it comes back later",
            extra={"message_id": record.get("messageId"), "error": type(exc).__name__, "at": _where(exc)},
        )
        return False


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}goodwill{os.sep}" in f.filename] or frames
    return f"{os.path.basename(ours[-1].filename)}:{ours[-1].lineno} {ours[-1].name}" if ours else ""


def process(record: Mapping[str, Any]) -> bool:
    """True when the message is finished with (delete it), False to see it again later."""
    try:
        body = json.loads(record["body"])
    except ValueError as exc:
        raise PoisonMessageError("not JSON") from exc
    if isinstance(body, dict) and body.get("source") == "goodwill" and isinstance(body.get("detail"), dict):
        return fan_out(body)
    if isinstance(body, dict) and body.get("kind") == "delivery":
        return deliver(body, record)
    raise PoisonMessageError("neither an event nor a delivery")


def fan_out(event: Mapping[str, Any]) -> bool:
    detail, event_type = event["detail"], str(event.get("detail-type"))
    org_id, event_id = str(detail.get("org_id")), str(detail.get("event_id"))
    wanted = [
        str(w["webhook_id"])
        for w in repo.list_all(org_id)
        if w.get("enabled") and event_type in (w.get("event_types") or [])
    ]
    # A conditional write per webhook, not a read then a write: the same event twice in a batch, or
    # in two invocations at once, is queued by whichever claims each webhook first, once.
    todo = [w for w in wanted if repo.claim(org_id, w, event_id)]
    payload = {"event_type": event_type, **detail}
    queued = now_iso()
    sent: list[str] = []
    message = {"kind": "delivery", "org_id": org_id, "event_id": event_id, "event_type": event_type}
    try:
        for start in range(0, len(todo), queue.BATCH):
            chunk = todo[start : start + queue.BATCH]
            bodies = [dumps({**message, "webhook_id": w, "queued_at": queued, "payload": payload}) for w in chunk]
            accepted = [chunk[i] for i in queue.send_batch(bodies)]
            sent.extend(accepted)
            repo.queued(org_id, accepted, event_id)  # a redelivered event is not queued again for these
    finally:
        repo.release(org_id, [w for w in todo if w not in sent], event_id)  # SQS refused them: the retry's
    return len(sent) == len(todo)


def deliver(message: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    org_id, webhook_id = str(message["org_id"]), str(message["webhook_id"])
    hook = repo.get(org_id, webhook_id)
    if hook is None:
        return True  # deleted since: its deliveries are dropped
    attempt = int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1))
    entry = {"event_id": message["event_id"], "event_type": message["event_type"], "at": now_iso(), "attempt": attempt}
    if not hook.get("enabled"):
        _record(org_id, webhook_id, {**entry, **_outcome("DROPPED", None, "webhook disabled", 0)}, record)
        return True
    if not repo.own_delivery(org_id, webhook_id, str(message["event_id"]), str(record["messageId"])):
        # The event was queued twice for this webhook (a stale claim taken over after its first
        # queueing had gone through): the other message delivers it; this one is dropped.
        logger.info("webhook delivery already owned by another message", extra={"message_id": record.get("messageId")})
        return True
    started = time.monotonic()
    status, error = _post(hook, message)
    took = int((time.monotonic() - started) * 1000)
    if error is None:
        _record(org_id, webhook_id, {**entry, **_outcome("DELIVERED", status, None, took)}, record)
        return True
    wait = delay(attempt)
    if now() + timedelta(seconds=wait) > parse_iso(str(message["queued_at"])) + RETRY_FOR:
        dead = {**message, "last_error": error, "last_status_code": status, "attempts": attempt}
        queue.dead_letter(dumps(dead))
        _disown(org_id, webhook_id, str(message["event_id"]), record)
        _record(org_id, webhook_id, {**entry, **_outcome("DEAD_LETTERED", status, error, took)}, record)
        return True
    queue.hide(str(record["receiptHandle"]), wait)
    _record(org_id, webhook_id, {**entry, **_outcome("RETRYING", status, error, took)}, record)
    return False


def _record(org_id: str, webhook_id: str, attempt: dict[str, Any], record: Mapping[str, Any]) -> None:
    """Log an attempt for GET /webhooks/{id}. What was done is done (a POST made, a message
    dead-lettered): a fault writing the log must not bring the message back to do it again."""
    try:
        repo.record_attempt(org_id, webhook_id, attempt)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        extra = {"message_id": record.get("messageId"), "outcome": attempt["outcome"], "error": code}
        logger.warning("webhook attempt not recorded", extra=extra)


def _disown(org_id: str, webhook_id: str, event_id: str, record: Mapping[str, Any]) -> None:
    """Let a message redriven from the dead-letter queue deliver the pair; like the attempt's log,
    a fault here must not bring the dead-lettered message back (it would be dead-lettered twice)."""
    try:
        repo.disown_delivery(org_id, webhook_id, event_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        logger.warning("webhook delivery not released", extra={"message_id": record.get("messageId"), "error": code})


def _post(hook: Mapping[str, Any], message: Mapping[str, Any]) -> tuple[int | None, str | None]:
    try:
        secret = secrets.secret_of(dict(hook))
    except ClientError as exc:  # KMS refused or unavailable: nothing is sent unsigned; retried later
        return None, f"the signing secret could not be decrypted (KMS {exc.response['Error']['Code']})"
    return sender.post(str(hook["url"]), secret, message)


def _outcome(outcome: str, status: int | None, error: str | None, took: int) -> dict[str, Any]:
    return {"outcome": outcome, "status_code": status, "error": error, "duration_ms": took}
