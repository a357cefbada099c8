"""goodwill/retry.py: bounded attempts, full-jitter back-off, a 503 at the end; no real sleeping."""

from __future__ import annotations

import random

import pytest

from goodwill import retry
from goodwill.errors import ServiceUnavailableError

POLICY = retry.Policy(attempts=5, base=0.01, cap=0.05)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(retry.time, "sleep", waits.append)
    return waits


def test_attempts_are_bounded_and_the_first_try_does_not_wait(slept: list[float]) -> None:
    assert list(retry.attempts(POLICY)) == [0, 1, 2, 3, 4]
    assert len(slept) == POLICY.attempts - 1  # one wait before each retry, none before the first


def test_each_wait_is_within_the_doubling_capped_bound(slept: list[float]) -> None:
    for _ in range(50):
        list(retry.attempts(POLICY))
    by_attempt = [slept[i :: POLICY.attempts - 1] for i in range(POLICY.attempts - 1)]
    for attempt, waits in enumerate(by_attempt, start=1):
        bound = min(POLICY.cap, POLICY.base * 2**attempt)
        assert all(0 <= w <= bound for w in waits), attempt
    # jittered: the waits of one attempt are spread over [0, bound], not one fixed value
    assert len(set(by_attempt[0])) > 10 and max(by_attempt[0]) > POLICY.base


def test_the_bound_doubles_per_attempt_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert [POLICY.delay(n) for n in (1, 2, 3, 4)] == [0.02, 0.04, 0.05, 0.05]
    assert retry.CONTENTION.delay(10_000) == retry.CONTENTION.cap  # huge attempt numbers stay capped


def test_drain_sends_the_unprocessed_rest_until_none_is_left(slept: list[float]) -> None:
    sent: list[list[int]] = []

    def send(batch: list[int]) -> list[int]:
        sent.append(batch)
        return batch[1:]

    retry.drain(send, [1, 2, 3], POLICY)
    assert sent == [[1, 2, 3], [2, 3], [3]]


def test_drain_that_never_finishes_ends_in_a_503_after_the_bound(slept: list[float]) -> None:
    calls: list[list[int]] = []

    def send(batch: list[int]) -> list[int]:
        calls.append(batch)
        return batch

    with pytest.raises(ServiceUnavailableError):
        retry.drain(send, [1], POLICY, what="write")
    assert len(calls) == POLICY.attempts


def test_only_contention_and_throttling_reasons_are_retryable() -> None:
    assert {"TransactionConflict", "ThrottlingError"} <= retry.RETRYABLE_REASONS
    for reason in ("ConditionalCheckFailed", "ValidationError", "ItemCollectionSizeLimitExceeded", "None"):
        assert reason not in retry.RETRYABLE_REASONS
