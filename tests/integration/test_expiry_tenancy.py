"""The due-date index is global (DUE#00..15), not per org: why that keeps tenancy and fairness.

Tenancy: a run reads keys of every org from a shard, but settles each balance alone, in its own
transaction, under its own org's config. Fairness: the index is ordered by due time, and a run
loops every shard until nothing due by its start is left, so another org's backlog can delay a lot
by at most that run's length and never to a later run (README, The due-date index).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import pytest

from goodwill.lots import expiry
from goodwill.repositories import due, keys, table
from local.aws.stack import Stack
from tests.integration.test_expiry import days, entries, notices, run
from tests.support import ADMIN, OTHER_ADMIN, Api

PROGRAM = "default"


def _shard(org_id: str, customer_id: str) -> str:
    return keys.due_index(org_id, customer_id, PROGRAM, "")["GSI4PK"]


def _ids_in_shard(org_id: str, prefix: str, shard: str, count: int) -> list[str]:
    """Customer ids of `org_id` whose balances land in `shard` of the due-date index."""
    found = (f"{prefix}-{i}" for i in range(10_000))
    return [c for c in found if _shard(org_id, c) == shard][:count]


def _pks(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if k == "PK" and isinstance(v, Mapping) and "S" in v:
                yield str(v["S"])
            else:
                yield from _pks(v)
    elif isinstance(value, list):
        for v in value:
            yield from _pks(v)


def _lot(api: Api, customer_id: str, points: int, expires_at: str, as_: dict[str, str]) -> None:
    api.customer(customer_id, as_=as_)
    reply = api.grant(customer_id, points, as_=as_, expires_at=expires_at, notify=False)
    assert reply.status == 201, reply.body


def test_a_shard_holding_two_orgs_settles_each_balance_alone_under_its_own_orgs_config(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given acme (customers told of expiries) and globex (not told), with due lots in one shard
    assert api.put("/config", {"points": {"notify_on_expiry": False}}, as_=OTHER_ADMIN).status in (200, 201)
    shard = _shard("acme", "a-0")
    at = days(1)
    for customer_id in _ids_in_shard("acme", "a", shard, 3):
        _lot(api, customer_id, 10, at, ADMIN)
    for customer_id in _ids_in_shard("globex", "g", shard, 3):
        _lot(api, customer_id, 20, at, OTHER_ADMIN)
    transactions: list[set[str]] = []
    real = table.transact

    def recorded(operations: Sequence[Mapping[str, Any]]) -> Any:
        transactions.append({pk.split("#")[1] for pk in _pks(list(operations))})
        return real(operations)

    monkeypatch.setattr(table, "transact", recorded)

    # When the run settles everything due
    assert run(days(2)) == {"expired": 6, "reminded": 0}

    # Then every transaction wrote one org's items only, and each org's lots expired under its config
    assert len(transactions) == 6 and all(len(orgs) == 1 for orgs in transactions)
    told = {n["customer_id"] for n in notices(stack, "POINTS_EXPIRED")}
    assert told == set(_ids_in_shard("acme", "a", shard, 3))
    assert [e["points"] for e in entries(api, "EXPIRY", _ids_in_shard("acme", "a", shard, 1)[0])] == [-10]


def test_another_orgs_backlog_never_holds_a_lot_past_the_run_nor_delays_an_earlier_one(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given pages of 5 balances, one page per task (a backlog is many tasks), and in one shard:
    # acme's "year-end" of 20 balances due at one instant, a globex lot due an hour before it and
    # one due at the same instant (its key sorts after acme's: "globex" > "acme")
    monkeypatch.setattr(expiry, "PAGES_PER_TASK", 1)
    monkeypatch.setattr(due, "page", partial(due.page, limit=5))
    shard = _shard("globex", "g-early")
    year_end, hour_before = days(1), days(1 - 1 / 24)
    for customer_id in _ids_in_shard("acme", "a", shard, 20):
        _lot(api, customer_id, 10, year_end, ADMIN)
    _lot(api, "g-early", 7, hour_before, OTHER_ADMIN)
    late = _ids_in_shard("globex", "g", shard, 1)[0]
    _lot(api, late, 9, year_end, OTHER_ADMIN)
    settled: list[tuple[int, str]] = []  # (task of the shard, customer) in the order settled
    task = 0
    real = expiry.settle

    def recorded(pk: str, sk: str, until: str, first_read: Any = None) -> Any:
        settled.append((task, pk.split("#")[3]))
        return real(pk, sk, until, first_read)

    monkeypatch.setattr(expiry, "settle", recorded)

    # When the run loops over the shard task by task, as the workflow does, until it is done
    cursor, until = None, days(2)
    while True:
        task += 1
        result = expiry.run_shard(int(shard.removeprefix("DUE#")), until, cursor)
        cursor = result["cursor"]
        if result["done"]:
            break

    # Then the earlier lot was settled first, in the first task, ahead of the whole backlog; the
    # one due with the backlog was settled by the same run; all 22 balances are done
    assert settled[0] == (1, "g-early")
    assert late in {c for _, c in settled}
    assert len({c for _, c in settled}) == 22 and task >= 5
    assert [e["points"] for e in api.ledger(late, as_=OTHER_ADMIN) if e["type"] == "EXPIRY"] == [-9]
