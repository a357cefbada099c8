"""Coupon pools never jam: an append is all-or-nothing per transaction and safe to repeat,
allocation never stops at a gap, concurrent PUTs answer 200/201, and a pool of N hands out
exactly N codes whatever point a PUT died at (issue 12, defect 1)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from goodwill import aws
from goodwill.coupons import backfill, pools, series
from goodwill.errors import SeriesExhaustedError
from goodwill.repositories import keys, table
from tests.support import Api

SERIES = {"name": "Pool", "discount": {"type": "AMOUNT", "value": 5}, "valid_days": 30}
CODES = [f"CODE-{i:03d}" for i in range(12)]


class Crash(Exception):
    """The Lambda died here."""


@contextmanager
def crash_on_transaction(nth: int, after: bool) -> Iterator[list[int]]:
    """The `nth` TransactWriteItems of the domain layer dies before it is sent, or after it
    committed (its answer lost)."""
    client = aws.dynamodb()
    seen = [0]
    fired = [0]

    def before(**_: Any) -> None:
        seen[0] += 1
        if seen[0] == nth and not after:
            fired[0] += 1
            raise Crash(f"died before transaction {nth}")

    def after_call(**_: Any) -> None:
        if seen[0] == nth and after and not fired[0]:
            fired[0] += 1
            raise Crash(f"died after transaction {nth} committed")

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", before)
    client.meta.events.register("after-call.dynamodb.TransactWriteItems", after_call)
    try:
        yield fired
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", before)
        client.meta.events.unregister("after-call.dynamodb.TransactWriteItems", after_call)


def _drain(series_id: str = "pool") -> list[str]:
    """Issue coupons until the pool says it is exhausted; the codes handed out."""
    issued = []
    for n in range(100):
        try:
            coupon = series.allocate("acme", series_id, "c-1", f"req-{n}", lambda _: [])
        except SeriesExhaustedError:
            return issued
        issued.append(coupon["code"])
    raise AssertionError("the pool never ran out")


def _forget_owners(*codes: str) -> None:
    """As a pool uploaded before codes had owners."""
    for code in codes:
        aws.dynamodb().delete_item(TableName=table.table_name(), Key=table.serialize(keys.code_owner("acme", code)))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pools, "CODES_PER_TRANSACTION", 5)  # 12 codes: 3 transactions


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
@pytest.mark.parametrize("nth", [1, 2, 3])
def test_a_put_that_dies_mid_append_leaves_no_gap_and_a_retry_completes_it(
    api: Api, small_chunks: None, nth: int, after: bool
) -> None:
    api.customer("c-1")
    assert api.put("/coupon-series/pool", SERIES).status == 201
    with crash_on_transaction(nth, after) as fired:
        assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES}).status == 500
    assert fired[0] == 1
    # What the pool says it has is what it hands out: no slot without its code.
    available = api.get("/coupon-series/pool").body["available"]
    assert available == min(5 * (nth - 1 + after), 12)
    # The PUT repeated completes the pool without duplicating what the first one appended.
    reply = api.put("/coupon-series/pool", {**SERIES, "codes": CODES})
    assert (reply.status, reply.body["available"]) == (200, 12)
    assert sorted(_drain()) == CODES


def test_allocation_skips_a_slot_without_its_code(api: Api) -> None:
    # A pool written by the former append (slots reserved, one code never written) still serves.
    api.customer("c-1")
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[:3]}).status == 201
    aws.dynamodb().delete_item(TableName=table.table_name(), Key=table.serialize(keys.pool_code("acme", "pool", 1)))
    assert _drain() == [CODES[0], CODES[2]]


def test_concurrent_first_puts_of_one_series_answer_201_once_then_200(api: Api) -> None:
    batches = [CODES[i : i + 3] for i in range(0, 12, 3)] * 2  # every code sent twice
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda codes: api.put("/coupon-series/pool", {**SERIES, "codes": codes}), batches))
    assert sorted(r.status for r in replies) == [200] * 7 + [201]
    assert api.get("/coupon-series/pool").body["available"] == 12
    api.customer("c-1")
    assert sorted(_drain()) == CODES


def test_codes_already_in_the_pool_are_not_added_again(api: Api) -> None:
    api.customer("c-1")
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[:4]}).status == 201
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[2:6]}).body["available"] == 6
    assert sorted(_drain()) == CODES[:6]


def test_a_code_of_another_series_is_refused_naming_it_and_nothing_is_written(api: Api) -> None:
    api.customer("c-1")
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[:4]}).status == 201
    reply = api.put("/coupon-series/other", {**SERIES, "codes": ["NEW-001", CODES[2], "NEW-002"]})
    assert reply.status == 422
    assert reply.body["error"]["details"] == [{"field": "codes.1", "message": f"{CODES[2]} is in coupon series pool"}]
    assert api.get("/coupon-series/other").status == 404  # the series was not created either
    # Adding to an existing series is refused the same way, and its pool is unchanged.
    assert api.put("/coupon-series/pool2", {**SERIES, "codes": ["NEW-003"]}).status == 201
    assert api.put("/coupon-series/pool2", {**SERIES, "codes": ["NEW-004", CODES[0]]}).status == 422
    assert api.get("/coupon-series/pool2").body["available"] == 1
    # The series' own codes sent again are fine; each pool hands out exactly what it says.
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[:6]}).body["available"] == 6
    assert sorted(_drain()) == CODES[:6]
    assert _drain("pool2") == ["NEW-003"]


def test_a_code_issued_by_another_series_is_refused_even_without_its_owner_item(api: Api) -> None:
    # A pool uploaded before codes had owners: its issued code is known by its claim alone.
    api.customer("c-1")
    assert api.put("/coupon-series/pool", {**SERIES, "codes": CODES[:2]}).status == 201
    _forget_owners(*CODES[:2])
    assert series.allocate("acme", "pool", "c-1", "req-1", lambda _: [])["code"] == CODES[0]
    reply = api.put("/coupon-series/other", {**SERIES, "codes": [CODES[0]]})
    assert (reply.status, reply.body["error"]["details"][0]["field"]) == (422, "codes.0")
    assert api.put("/coupon-series/other", {**SERIES, "codes": [CODES[1]]}).status == 201  # not issued: free


def test_two_series_racing_for_the_same_codes_share_none(api: Api) -> None:
    api.customer("c-1")
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(
            pool.map(lambda sid: api.put(f"/coupon-series/{sid}", {**SERIES, "codes": CODES}), ["a", "b", "c", "d"])
        )
    assert sorted(r.status for r in replies).count(201) >= 1
    assert all(r.status in (201, 422) for r in replies), [r.status for r in replies]
    available = {sid: api.get(f"/coupon-series/{sid}").body.get("available", 0) for sid in "abcd"}
    assert sum(available.values()) == 12, available  # every code in exactly one pool
    handed_out = [code for sid in "abcd" if available[sid] for code in _drain(sid)]
    assert sorted(handed_out) == CODES


def test_a_code_taken_between_the_check_and_the_write_is_refused_by_the_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Series b checks its codes before series a writes them (simulated: b's first check is
    # skipped); the owner item's condition in b's transaction still refuses the code.
    api.customer("c-1")
    assert api.put("/coupon-series/a", {**SERIES, "codes": CODES[:3]}).status == 201
    real, calls = pools.check, []

    def check_late(org: str, series_id: str, codes: list[str]) -> None:
        calls.append(series_id)
        if len(calls) > 1:
            real(org, series_id, codes)

    monkeypatch.setattr(pools, "check", check_late)
    reply = api.put("/coupon-series/b", {**SERIES, "codes": ["NEW-001", CODES[1]]})
    assert calls == ["b", "b"]  # the first check let it through; the transaction's refusal asked again
    assert (reply.status, reply.body["error"]["details"][0]["field"]) == (422, "codes.1")
    assert api.get("/coupon-series/b").body["available"] == 0
    assert sorted(_drain("a")) == CODES[:3]


def test_the_backfill_gives_old_pools_codes_their_owner_and_reports_codes_in_two(api: Api) -> None:
    assert api.put("/coupon-series/a", {**SERIES, "codes": ["X-1", "Y-1"]}).status == 201
    _forget_owners("X-1", "Y-1")
    assert api.put("/coupon-series/b", {**SERIES, "codes": ["X-1", "Z-1"]}).status == 201  # the old gap
    _forget_owners("X-1", "Y-1", "Z-1")  # both pools from before owners, sharing X-1
    outcome = backfill.backfill()
    assert outcome.owned == 3
    [shared] = outcome.shared
    assert (shared.org_id, shared.code, {shared.series_id, shared.owner}) == ("acme", "X-1", {"a", "b"})
    # Every code has its owner now: no third series may take one.
    for i, code in enumerate(["X-1", "Y-1", "Z-1"]):
        reply = api.put(f"/coupon-series/c{i}", {**SERIES, "codes": [code]})
        assert reply.status == 422, code
    # Run again: the same report, nothing changed.
    again = backfill.backfill()
    assert (again.owned, [s.code for s in again.shared]) == (3, ["X-1"])
