"""Every route x (another org, no org claim, no role): 404 / 401 / 403, and nothing written."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.apigw import Router
from local.stack import Stack
from local.template import load
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api, claims, table_items


def _routes() -> list[tuple[str, str]]:
    found = []
    for res in load()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                found.append((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return sorted(found)


ROUTES = _routes()
IDS = {
    "customer_id": "c-1",
    "series_id": "pool",
    "import_id": "IMPORT",
    "request_id": "REQUEST",
    "transaction_id": "TXN",
}
BODIES: dict[tuple[str, str], Any] = {
    ("PUT", "/config"): {},
    ("PUT", "/customers/{customer_id}"): {"name": "Mallory"},
    ("POST", "/goodwill/points"): {"customer_id": "c-1", "program_id": "default", "points": 5, "reason": "REWARD"},
    ("POST", "/goodwill/coupons"): {"customer_id": "c-1", "series_id": "pool", "reason": "REWARD"},
    ("PUT", "/coupon-series/{series_id}"): {"name": "x", "discount": {"type": "AMOUNT", "value": 1}, "valid_days": 1},
    ("POST", "/goodwill/requests/{request_id}/approve"): {},
    ("POST", "/goodwill/requests/{request_id}/reject"): {"comment": "no"},
    ("POST", "/goodwill/bulk-imports"): {"program_id": "default"},
    ("POST", "/goodwill/request-decisions"): {"decision": "REJECT", "request_ids": ["REQUEST"], "comment": "no"},
    ("POST", "/customers/{customer_id}/transactions/{transaction_id}/reverse"): {"reason": "CORRECTION"},
}
# Query parameters a route needs to reach its handler: searches of acme's customer by id and name.
QUERIES: dict[tuple[str, str], dict[str, str]] = {("GET", "/customers"): {"q": "c-1"}}
# Routes without a record of acme in the path: another org simply acts on its own (empty) data.
ORG_SCOPED_WRITES = {
    ("PUT", "/config"),
    ("PUT", "/customers/{customer_id}"),
    ("PUT", "/coupon-series/{series_id}"),
    ("POST", "/goodwill/bulk-imports"),
}


def _world(api: Api) -> dict[str, str]:
    """Records of org acme that every path id points at."""
    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    api.put(
        "/coupon-series/pool",
        {"name": "p", "discount": {"type": "AMOUNT", "value": 1}, "valid_days": 1, "codes": ["AAA-1"]},
    )
    request = api.grant("c-1", 50, as_=AGENT)
    ids = {**IDS, "request_id": request.body["request"]["request_id"]}
    created = api.post("/goodwill/bulk-imports", {"program_id": "default"})
    if created.status == 201:
        ids["import_id"] = created.body["import_id"]
    return ids


def _path(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


def test_the_matrix_covers_every_route_of_the_template(stack: Stack) -> None:
    assert len(ROUTES) == len(Router(stack.functions).routes) >= 15


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_refuses_callers_without_org_or_role_and_hides_other_orgs(
    api: Api, stack: Stack, method: str, template: str
) -> None:
    ids = _world(api)
    path = _path(template, ids)
    body = BODIES.get((method, template))
    query = QUERIES.get((method, template))
    before = table_items(stack)

    assert api.call(method, path, body, query=query, as_=claims(org=None)).status == 401
    assert api.call(method, path, body, query=query, as_=None).status == 401
    assert api.call(method, path, body, query=query, as_=claims(roles="")).status == 403
    assert api.call(method, path, body, query=query, as_=claims(roles="customer")).status == 403
    assert table_items(stack) == before

    if (method, template) not in ORG_SCOPED_WRITES and "{" in template:
        reply = api.call(method, path, body, query=query, as_=OTHER_ADMIN)
        assert reply.status == 404, (reply.status, reply.body)
        assert table_items(stack) == before
    if method == "GET" and "{" not in template:
        listing = api.call(method, path, query=query, as_=OTHER_ADMIN)
        assert listing.status == 200
        assert listing.body.get("items", []) == [] or template == "/config"
    assert api.call(method, path, body, query=query, as_=ADMIN).status < 500
