"""One org never sees or changes another org's data: it is reported as 404, nothing written."""

from __future__ import annotations

from local.aws.stack import Stack
from tests.support import OTHER_ADMIN, Api, claims, table_items

OTHER_AGENT = claims(org="globex", roles="agent", actor="eve", email=None)


def test_other_org_cannot_read_customer(api: Api) -> None:
    api.customer("c-1")
    assert api.get("/customers/c-1", as_=OTHER_ADMIN).status == 404
    assert api.get("/customers/c-1/transactions", as_=OTHER_ADMIN).status == 404
    assert api.get("/customers/c-1/coupons", as_=OTHER_ADMIN).status == 404


def test_other_org_cannot_grant_to_customer(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.grant("c-1", 10)
    before = table_items(stack)
    reply = api.grant("c-1", 500, as_=OTHER_AGENT)
    assert reply.status == 404
    assert table_items(stack) == before
    assert api.balance("c-1")["current"] == 10


def test_same_customer_id_in_two_orgs_are_separate_customers(api: Api) -> None:
    api.customer("c-1")
    api.customer("c-1", as_=OTHER_ADMIN, name="Other Ada")
    api.grant("c-1", 10)
    api.grant("c-1", 99, as_=OTHER_AGENT)
    assert api.balance("c-1")["current"] == 10
    assert api.balance("c-1", as_=OTHER_ADMIN)["current"] == 99
    assert api.get("/customers/c-1").body["name"] == "Ada Lovelace"


def test_body_cannot_choose_the_org(api: Api) -> None:
    api.customer("c-1")
    reply = api.put("/customers/c-2", {"name": "x", "org_id": "globex"})
    assert reply.status == 422
    assert "org_id" in reply.fields()


def test_config_is_per_org(api: Api) -> None:
    api.put("/config", {"programs": ["default", "vip"]})
    assert api.get("/config").body["programs"] == ["default", "vip"]
    assert api.get("/config", as_=OTHER_ADMIN).body["programs"] == ["default"]


def test_next_token_of_another_org_is_rejected(api: Api) -> None:
    api.customer("c-1")
    for _ in range(3):
        api.grant("c-1", 1)
    page = api.get("/customers/c-1/transactions", query={"limit": 1}).body
    api.customer("c-1", as_=OTHER_ADMIN)
    reply = api.get("/customers/c-1/transactions", as_=OTHER_ADMIN, query={"next_token": page["next_token"]})
    assert reply.status == 422
