"""repositories/keys.py: every item of an org under ORG#{org}, no two kinds of item sharing a key."""

from __future__ import annotations

import re

import pytest

from goodwill.models.common import ID_PATTERN, ORG_ID_PATTERN
from goodwill.repositories import keys


def every_key(org: str, cid: str = "c1", other: str = "x1") -> dict[str, dict[str, str]]:
    """One key of each kind for one org, ids shared between kinds on purpose."""
    return {
        "org": keys.org(org),
        "config": keys.config(org),
        "customer": keys.customer(org, cid),
        "email": keys.email(org, "a@b.test"),
        "balance": keys.balance(org, cid, "default"),
        "ledger": keys.ledger(org, cid, other),
        "customer_coupon": keys.customer_coupon(org, cid, other),
        "request": keys.request(org, other),
        "idempotency": keys.idempotency(org, "points", other),
        "series": keys.series(org, other),
        "pool_code": keys.pool_code(org, other, 1),
        "coupon_code": keys.coupon_code(org, other),
        "bulk_import": keys.bulk_import(org, other),
        "import_chunk": keys.import_chunk(org, other, 1),
        "import_customer": keys.import_customer(org, cid, other),
        "agent_day": keys.agent_day(org, other, "2027-01-01"),
        "name_entry": keys.customer_name_entry(org, "ab", "abc", cid),
        "phone_entry": keys.customer_phone_entry(org, "+4912345678", cid),
    }


def test_keys_of_different_kinds_never_collide() -> None:
    found = every_key("acme")
    pairs = {(k["PK"], k["SK"]) for k in found.values()}
    assert len(pairs) == len(found)


def test_every_org_key_lives_under_its_org_and_not_under_a_prefix_of_it() -> None:
    for kind, key in every_key("acme").items():
        assert key["PK"] == "ORG#acme" or key["PK"].startswith("ORG#acme#"), kind
    # "ac" is a prefix of "acme": a begins_with over org "ac" must not reach org "acme"'s items.
    for kind, key in every_key("acme").items():
        assert not key["PK"].startswith("ORG#ac#") and key["PK"] != "ORG#ac", kind


def test_no_two_orgs_share_a_key() -> None:
    first = {(k["PK"], k["SK"]) for k in every_key("acme").values()}
    second = {(k["PK"], k["SK"]) for k in every_key("acme2").values()}
    assert not first & second


@pytest.mark.parametrize("pattern", [ORG_ID_PATTERN, ID_PATTERN])
def test_validated_ids_cannot_carry_the_key_separator(pattern: str) -> None:
    # Keys join ids with '#': an id holding one could forge another kind's key ("c1#REQS").
    assert re.match(pattern, "c1") and not re.match(pattern, "c1#REQS")


def test_customer_items_share_the_customer_partition_with_distinct_sort_prefixes() -> None:
    pk = keys.customer_pk("acme", "c1")
    sks = [
        keys.customer("acme", "c1")["SK"],
        keys.balance("acme", "c1", "p")["SK"],
        keys.ledger("acme", "c1", "t")["SK"],
        keys.customer_coupon("acme", "c1", "k")["SK"],
        keys.import_customer("acme", "c1", "i")["SK"],
    ]
    assert {keys.balance("acme", "c1", "p")["PK"], keys.ledger("acme", "c1", "t")["PK"]} == {pk}
    assert sks[1].startswith(keys.BALANCE_PREFIX) and sks[2].startswith(keys.LEDGER_PREFIX)
    assert sks[3].startswith(keys.COUPON_PREFIX)
    # A ledger listing (begins_with TXN#) sees no balance, coupon or profile item.
    assert [sk for sk in sks if sk.startswith(keys.LEDGER_PREFIX)] == [sks[2]]


def test_email_key_ignores_case() -> None:
    assert keys.email("acme", "Alice@Example.TEST") == keys.email("acme", "alice@example.test")


def test_idempotency_key_hashes_the_caller_text() -> None:
    # The caller's key is hashed: whatever it holds ('#', length), it cannot shape the item's key.
    forged = keys.idempotency("acme", "points", "k#IDEM")
    assert forged["PK"].count("#") == 4 and "k#IDEM" not in forged["PK"]
    assert keys.idempotency("acme", "points", "k") != keys.idempotency("acme", "coupons", "k")
    assert keys.idempotency("acme", "points", "k") != keys.idempotency("acme", "points", "K")


def test_numbered_sort_keys_sort_in_number_order() -> None:
    codes = [keys.pool_code("acme", "s", i)["SK"] for i in (2, 10, 100, 9)]
    assert sorted(codes) == [keys.pool_code("acme", "s", i)["SK"] for i in (2, 9, 10, 100)]
    chunks = [keys.import_chunk("acme", "i", i)["SK"] for i in (11, 3)]
    assert sorted(chunks) == [keys.import_chunk("acme", "i", 3)["SK"], keys.import_chunk("acme", "i", 11)["SK"]]


def test_due_index_is_stable_per_customer_and_spread_over_the_shards() -> None:
    first = keys.due_index("acme", "c1", "p", "2027-01-01T00:00:00.000Z")
    assert first == keys.due_index("acme", "c1", "p", "2027-01-01T00:00:00.000Z")
    assert first["GSI4SK"].startswith("2027-01-01T00:00:00.000Z#acme#c1#")
    shards = {keys.due_index("acme", f"c{i}", "p", "d")["GSI4PK"] for i in range(400)}
    assert shards == {keys.due_shard_pk(s) for s in range(keys.DUE_SHARDS)}


def test_api_client_items_live_under_the_client_not_an_org() -> None:
    item, rate = keys.api_client("abc"), keys.api_client_rate("abc")
    assert item["PK"] == rate["PK"] == "APICLIENT#abc" and item["SK"] != rate["SK"]
    assert not item["PK"].startswith("ORG#")
