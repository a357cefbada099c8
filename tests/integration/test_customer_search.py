"""GET /customers?q=: exact id, e-mail, phone, name prefix; the index kept with the profile;
pagination, validation, roles, tenancy, and the backfill of profiles written before the index."""

from __future__ import annotations

from typing import Any

import pytest

from goodwill.customer_search import backfill
from local.aws.stack import Stack
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api, claims, table_items


def found(api: Api, q: str, as_: dict[str, str] = AGENT, **query: Any) -> list[str]:
    reply = api.get("/customers", as_=as_, query={"q": q, **query})
    assert reply.status == 200, reply.body
    return [c["customer_id"] for c in reply.body["items"]]


def every_page(api: Api, q: str, limit: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        body = api.get("/customers", as_=AGENT, query={"q": q, "limit": limit, "next_token": token}).body
        pages.append([c["customer_id"] for c in body["items"]])
        token = body["next_token"]
        if not token:
            return pages


@pytest.fixture
def people(api: Api) -> Api:
    api.customer("c-1", name="Ada Lovelace", email="Ada@Example.com", phone="+447700900123")
    api.customer("c-2", name="Adam Smith", email="adam@example.com", phone="+447700900999")
    api.customer("c-3", name="Grace Hopper", email="grace@example.com", phone="+447700900123")
    return api


def test_search_by_exact_id_returns_profile_with_balances_as_get_does(people: Api) -> None:
    people.grant("c-3", 40)
    reply = people.get("/customers", as_=AGENT, query={"q": "c-3"})
    assert reply.status == 200
    assert reply.body == {"items": [people.get("/customers/c-3", as_=AGENT).body], "next_token": None}
    balance = reply.body["items"][0]["balances"]["default"]
    assert (balance["current"], balance["lifetime"]) == (40, 40)


def test_search_by_email_ignores_case(people: Api) -> None:
    assert found(people, "ADA@example.COM") == ["c-1"]
    assert found(people, "nobody@example.com") == []


def test_search_by_phone_finds_everyone_with_it_and_ignores_separators(people: Api) -> None:
    assert sorted(found(people, "+447700900123")) == ["c-1", "c-3"]
    assert found(people, " +44 (7700) 900-999 ") == ["c-2"]


def test_search_by_name_prefix_ignores_case_and_orders_by_name(people: Api) -> None:
    assert found(people, "ad") == ["c-1", "c-2"]
    assert found(people, "ADA L") == ["c-1"]
    assert found(people, "grace  hopper") == ["c-3"]
    assert found(people, "lovelace") == []  # a prefix of the name, not of any word


def test_search_by_one_letter_matches_ids_only(people: Api) -> None:
    people.customer("a", name="Alan Turing")
    assert found(people, "a") == ["a"]
    assert found(people, "A") == []


def test_exact_id_comes_first_and_once(people: Api) -> None:
    people.customer("ada", name="Ada Byron", email=None)
    # "Ada Byron" by id first, not again by name
    assert found(people, "ada") == ["ada", "c-1", "c-2"]
    pages = every_page(people, "ada", limit=1)
    assert [c for page in pages for c in page] == ["ada", "c-1", "c-2"]
    assert all(pages[:3])


def test_exact_matches_beyond_the_limit_follow_on_the_next_page(people: Api) -> None:
    # Given one customer whose id is an e-mail address, and another whose e-mail it is
    people.customer("ada@example.com", name="Ada Byron", email=None)
    # When a page holds one customer, then each page holds one, with a token while more are found
    first = people.get("/customers", as_=AGENT, query={"q": "ada@example.com", "limit": 1}).body
    assert [c["customer_id"] for c in first["items"]] == ["ada@example.com"]
    assert first["next_token"]
    # And paging through lists each match exactly once, id first, then e-mail
    assert every_page(people, "ada@example.com", limit=1) == [["ada@example.com"], ["c-1"]]
    assert found(people, "ada@example.com", limit=2) == ["ada@example.com", "c-1"]
    # And the continuation belongs to that search only
    reply = people.get("/customers", as_=AGENT, query={"q": "adam@example.com", "next_token": first["next_token"]})
    assert (reply.status, reply.fields()) == (422, {"next_token"})


def test_every_page_of_a_search_holds_at_most_limit_and_every_match_once(people: Api) -> None:
    # Given an exact id match whose name matches too, and more names than a page holds
    people.customer("ad", name="Ada Byron", email=None)
    for n in range(4):
        people.customer(f"s-{n}", name=f"Adler {n}", email=None, phone=None)
    expected = ["ad", "c-1", "c-2", "s-0", "s-1", "s-2", "s-3"]
    for limit in (1, 2, 3, 6, 7, 8):
        pages = every_page(people, "ad", limit=limit)
        assert all(len(page) <= limit for page in pages), (limit, pages)
        assert [c for page in pages for c in page] == expected, limit
        assert all(pages[: -(-len(expected) // limit)]), (limit, pages)


def test_name_prefix_pages_through_every_match_once(api: Api) -> None:
    for n in range(7):
        api.customer(f"s-{n}", name=f"Smith {chr(ord('g') - n)}", email=None, phone=None)
    api.customer("t-1", name="Smyth", email=None, phone=None)
    pages = every_page(api, "smith", limit=3)
    assert [len(p) for p in pages[:3]] == [3, 3, 1]
    assert [c for p in pages for c in p] == [f"s-{n}" for n in reversed(range(7))]


def test_renamed_customer_is_found_by_the_new_name_only(people: Api, stack: Stack) -> None:
    people.put("/customers/c-1", {"name": "Augusta King", "phone": "+15555550111"})
    assert found(people, "ada") == ["c-2"]
    assert found(people, "augusta") == ["c-1"]
    assert found(people, "+447700900123") == ["c-3"]
    assert found(people, "+15555550111") == ["c-1"]
    # the old entries are gone, not just hidden
    pks = {i["PK"]["S"] for i in table_items(stack)}
    assert "ORG#acme#PHONE#+15555550111" in pks
    assert not any(pk.startswith("ORG#acme#NAME#") and i_sk.startswith("ada l") for pk, i_sk in _entries(stack))


def _entries(stack: Stack) -> list[tuple[str, str]]:
    return [(i["PK"]["S"], i["SK"]["S"]) for i in table_items(stack)]


def test_a_refused_profile_write_indexes_nothing(people: Api, stack: Stack) -> None:
    before = table_items(stack)
    reply = people.put("/customers/c-2", {"name": "Zelda", "email": "ada@example.com", "phone": "+15555550177"})
    assert (reply.status, reply.error_code) == (409, "EMAIL_IN_USE")
    assert table_items(stack) == before
    assert found(people, "zelda") == []
    assert found(people, "adam") == ["c-2"]


def test_another_orgs_customers_never_appear(people: Api) -> None:
    people.customer("g-1", as_=OTHER_ADMIN, name="Ada Other", email="ada@example.com", phone="+447700900123")
    people.customer("c-1", as_=OTHER_ADMIN, name="Adam Other", email="other@example.com")
    for q in ("c-1", "ada@example.com", "+447700900123", "ad", "g-1"):
        ours = people.get("/customers", as_=AGENT, query={"q": q}).body["items"]
        assert all(c["name"] in ("Ada Lovelace", "Adam Smith", "Grace Hopper") for c in ours), q
    assert found(people, "g-1") == []
    assert found(people, "ad", as_=OTHER_ADMIN) == ["g-1", "c-1"]


def test_search_needs_a_role(people: Api) -> None:
    assert people.get("/customers", as_=claims(roles=""), query={"q": "ada"}).status == 403
    assert people.get("/customers", as_=claims(org=None), query={"q": "ada"}).status == 401


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 255}, "q"),
    ({"q": "ada", "limit": 0}, "limit"),
    ({"q": "ada", "limit": 51}, "limit"),
    ({"q": "ada", "next_token": "not-a-token"}, "next_token"),
    ({"q": "ada@example.com", "next_token": "eyJQSyI6IngifQ"}, "next_token"),
]


def test_search_with_bad_query_is_422_naming_the_field(people: Api, stack: Stack) -> None:
    before = table_items(stack)
    for query, field in BAD_QUERIES:
        reply = people.get("/customers", as_=AGENT, query=query)
        assert (reply.status, reply.error_code, reply.fields()) == (422, "VALIDATION_ERROR", {field}), query
    assert table_items(stack) == before


def test_a_token_of_another_search_is_refused(api: Api) -> None:
    for n in range(3):
        api.customer(f"s-{n}", name=f"Smith {n}", email=None, phone=None)
    token = api.get("/customers", as_=AGENT, query={"q": "smith", "limit": 1}).body["next_token"]
    assert token
    reply = api.get("/customers", as_=AGENT, query={"q": "grace", "next_token": token})
    assert reply.status == 422 and reply.fields() == {"next_token"}
    assert api.get("/customers", as_=OTHER_ADMIN, query={"q": "smith", "next_token": token}).status == 422


def _as_written_before_the_index(stack: Stack, customer_id: str) -> None:
    """The profile as the previous release left it: no search entries, no marker."""
    ddb, name = stack.client("dynamodb"), stack.ref("GoodwillTable")
    for pk, sk in _entries(stack):
        if pk.startswith(("ORG#acme#NAME#", "ORG#acme#PHONE#")) and sk.endswith(customer_id):
            ddb.delete_item(TableName=name, Key={"PK": {"S": pk}, "SK": {"S": sk}})
    key = {"PK": {"S": f"ORG#acme#CUST#{customer_id}"}, "SK": {"S": "PROFILE"}}
    ddb.update_item(TableName=name, Key=key, UpdateExpression="REMOVE search_index")


def test_backfill_indexes_profiles_written_before_the_index(api: Api, stack: Stack) -> None:
    # Given a profile written before the index, and one written since
    api.customer("old", name="Olga Old", phone="+15555550188")
    api.customer("new", name="Olga New", phone="+15555550199")
    _as_written_before_the_index(stack, "old")
    assert found(api, "olga") == ["new"]
    assert found(api, "+15555550188") == []
    # When the backfill runs (twice)
    assert backfill.backfill() == 1
    assert backfill.backfill() == 0
    # Then name and phone find it, and the profile itself is unchanged
    assert found(api, "olga") == ["new", "old"]
    assert found(api, "+15555550188") == ["old"]
    assert api.get("/customers/old", as_=ADMIN).body["name"] == "Olga Old"


def test_a_profile_written_before_the_index_is_indexed_by_its_next_write(api: Api, stack: Stack) -> None:
    api.customer("old", name="Olga Old")
    _as_written_before_the_index(stack, "old")
    api.customer("old", name="Olga Old", email="olga@example.com")
    assert found(api, "olga") == ["old"]


def test_backfill_leaves_a_profile_changed_since_it_was_read_to_its_writer(api: Api, stack: Stack) -> None:
    # Given an unindexed profile the backfill has read
    api.customer("old", name="Olga Old")
    _as_written_before_the_index(stack, "old")
    (stale,) = [p for page in backfill.unindexed_profiles() for p in page]
    # When the customer is renamed before the backfill gets to it
    api.customer("old", name="Vera Renamed")
    # Then the backfill writes nothing for the stale copy: no entry under the old name
    assert backfill.index_profile(stale) is False
    assert found(api, "olga") == []
    assert found(api, "vera") == ["old"]


def test_a_rename_racing_the_backfill_leaves_no_entry_under_the_old_name_or_phone(
    api: Api, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from goodwill.repositories import customers as repo

    # Given an unindexed profile
    api.customer("old", name="Olga Old", phone="+15555550188", email=None)
    _as_written_before_the_index(stack, "old")
    real, ran = repo.get_profile, []

    def read_then_backfill(org_id: str, customer_id: str) -> Any:
        profile = real(org_id, customer_id)
        if not ran:  # the backfill indexes it between the PUT's read and its write
            ran.append(backfill.backfill())
        return profile

    # When the customer is renamed while the backfill indexes the old profile
    monkeypatch.setattr(repo, "get_profile", read_then_backfill)
    assert api.put("/customers/old", {"name": "Vera Renamed", "phone": "+15555550199"}).status == 200
    assert ran == [1]
    # Then the write, finding the profile indexed, removes what the backfill wrote: only the new values find her
    assert found(api, "vera") == ["old"]
    assert found(api, "olga") == []
    assert found(api, "+15555550188") == []
    assert found(api, "+15555550199") == ["old"]


def test_a_name_comes_before_the_longer_names_it_starts(api: Api) -> None:
    api.customer("c-1", name="Ada Lovelace")
    api.customer("c-2", name="Ada")
    api.customer("c-3", name="Ada-Marie")
    assert found(api, "ada") == ["c-2", "c-1", "c-3"]


def _as_indexed_by_version_1(stack: Stack, customer_id: str) -> None:
    """The profile's name entry as index version 1 wrote it ("name#id"), its marker 1."""
    ddb, name = stack.client("dynamodb"), stack.ref("GoodwillTable")
    for item in table_items(stack):
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if pk.startswith("ORG#acme#NAME#") and sk.endswith("\x1f" + customer_id):
            ddb.delete_item(TableName=name, Key={"PK": item["PK"], "SK": item["SK"]})
            old_sk = sk.replace("\x1f", "#")
            ddb.put_item(TableName=name, Item={**item, "SK": {"S": old_sk}})
    key = {"PK": {"S": f"ORG#acme#CUST#{customer_id}"}, "SK": {"S": "PROFILE"}}
    ddb.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET search_index = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def test_profiles_indexed_by_version_1_move_to_the_new_order_by_backfill_or_their_next_write(
    api: Api, stack: Stack
) -> None:
    # Given three customers indexed by version 1 (whose order put "Ada" after "Ada Lovelace")
    for cid, name in (("c-1", "Ada Lovelace"), ("c-2", "Ada"), ("c-3", "Adam")):
        api.customer(cid, name=name)
        _as_indexed_by_version_1(stack, cid)
    assert sorted(found(api, "ada")) == ["c-1", "c-2", "c-3"]  # still found meanwhile
    # When one is renamed, Then its version-1 entry goes with the old name
    assert api.put("/customers/c-3", {"name": "Zed"}).status == 200
    assert found(api, "adam") == [] and found(api, "zed") == ["c-3"]
    # When the backfill runs (twice), Then the others are moved: one entry each, in name order
    assert backfill.backfill() == 2
    assert backfill.backfill() == 0
    assert found(api, "ada") == ["c-2", "c-1"]
    names = sorted(sk for pk, sk in _entries(stack) if pk.startswith("ORG#acme#NAME#"))
    assert names == ["ada\x1fc-2", "ada lovelace\x1fc-1", "zed\x1fc-3"]
