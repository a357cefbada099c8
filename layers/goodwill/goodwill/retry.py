"""Retrying what is worth retrying: one policy object, bounded attempts, full-jitter back-off.

Every loop in Goodwill that tries a write again (a lost optimistic race, a transaction cancelled
by a conflict, unprocessed keys of a batch) goes through here, so each is bounded, spreads its
retries out (AWS's "exponential back-off and jitter": a random wait up to a cap that doubles per
attempt) and ends in ServiceUnavailableError (503) when it is still not through. What is not
retryable (a validation error, a failed business condition) is never retried: callers decide
that with `RETRYABLE_REASONS` / `Cancelled.retryable` before asking for another attempt.
Throttled calls themselves are retried by the SDK (standard mode, see aws.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

from goodwill.errors import ServiceUnavailableError

# Transaction cancellation reasons that say "try again": another transaction held an item, or
# the table was throttled. Everything else (ValidationError, ItemCollectionSizeLimitExceeded...)
# is a bug or a business rule, and retrying it only repeats it.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# AWS error codes that mean "busy, try again shortly" once the SDK's own retries are spent: the API
# answers them 503 SERVICE_UNAVAILABLE (api.py), a batch answers them for the one item they hit.
BUSY_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
        "TooManyRequestsException",  # Cognito's throttling (POST /api-clients)
    }
)


class Policy(NamedTuple):
    """At most `attempts` tries; before try n (n >= 1) a random wait in [0, min(cap, base * 2**n)]."""

    attempts: int
    base: float
    cap: float

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** min(attempt, 30)))


# Optimistic races on one item (a balance, a series counter, a profile): many quick tries.
CONTENTION = Policy(attempts=20, base=0.004, cap=0.25)
# Unprocessed batch keys / items: DynamoDB asks us to slow down; fewer, longer waits.
UNPROCESSED = Policy(attempts=8, base=0.05, cap=2.0)


def pause(attempt: int, policy: Policy = CONTENTION) -> None:
    """Wait before retry number `attempt` (1 is the first retry)."""
    if attempt > 0:
        time.sleep(policy.delay(attempt))


def attempts(policy: Policy = CONTENTION) -> Iterator[int]:
    """0, 1, ... up to policy.attempts - 1, with the back-off slept before each retry. A caller
    that is still not through when this ends raises ServiceUnavailableError itself."""
    for attempt in range(policy.attempts):
        pause(attempt, policy)
        yield attempt


def drain[T](send: Callable[[T], T | None], pending: T, policy: Policy = UNPROCESSED, what: str = "request") -> None:
    """Send `pending`, then whatever `send` hands back as unprocessed, until nothing is left;
    bounded by `policy`, then a 503 (nothing the caller wrote is lost: the batch was idempotent)."""
    left = pending
    for _ in attempts(policy):
        rest = send(left)
        if not rest:
            return
        left = rest
    raise ServiceUnavailableError(f"DynamoDB left part of a {what} unprocessed; retry")
