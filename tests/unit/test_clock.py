"""ULIDs: time-sortable, monotonic within a process, deterministic when seeded."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

from goodwill import clock


def test_fresh_ulids_made_in_one_millisecond_still_sort_in_the_order_they_were_made() -> None:
    made = [clock.ulid() for _ in range(2000)]  # thousands per millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    # The case the monotonic mode exists for really happened: some millisecond holds several. (Not
    # necessarily the first one's: made at the end of its millisecond, or preempted, it may be alone.)
    per_ms = Counter(clock.ulid_ms(u) for u in made)
    assert max(per_ms.values()) > 1


def test_fresh_ulids_from_many_threads_are_unique_and_carry_the_time() -> None:
    made: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [clock.ulid() for _ in range(500)]
        assert mine == sorted(mine)
        with lock:
            made.extend(mine)

    before = int(time.time() * 1000)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 2000
    assert all(before <= clock.ulid_ms(u) <= int(time.time() * 1000) + 1 for u in made)


def test_a_seeded_ulid_is_the_same_for_the_same_cause() -> None:
    at = clock.ulid_ms(clock.ulid())
    assert clock.ulid(at_ms=at, seed="imp#7") == clock.ulid(at_ms=at, seed="imp#7")
    assert clock.ulid(at_ms=at, seed="imp#7") != clock.ulid(at_ms=at, seed="imp#8")
    assert clock.ulid_ms(clock.ulid(at_ms=at, seed="imp#7")) == at


def test_iso_is_utc_with_milliseconds_and_a_z_whatever_the_zone_given() -> None:
    at = datetime(2026, 12, 5, 13, 4, 5, 123987, tzinfo=UTC)
    assert clock.iso(at) == "2026-12-05T13:04:05.123Z"  # truncated, as strftime's %f[:-3] was
    assert clock.iso(at.astimezone(timezone(timedelta(hours=-5)))) == "2026-12-05T13:04:05.123Z"
    assert clock.iso(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00.000Z"
    assert clock.parse_iso(clock.iso(at)) == at.replace(microsecond=123000)
