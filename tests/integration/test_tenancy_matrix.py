"""Every route x (another org, no org claim, no role, a role below the route's): 404 / 401 / 403
and nothing written; and the route's least role of the org itself is served (the positive case)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from goodwill.auth import ROUTE_SCOPES, SCOPES, Role
from local.aws import tokens
from local.aws.apigw import Router
from local.aws.stack import Stack
from local.aws.template import load
from tests.support import ADMIN, AGENT, APPROVER, OTHER_ADMIN, Api, claims, table_items


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
    "client_id": "CLIENT",
    "webhook_id": "crm",
}
WEBHOOK = {"url": "https://93.184.215.14/hooks", "event_types": ["Points Changed"]}


@dataclass(frozen=True)
class Row:
    """One route of the matrix: the least role that may call it, and what that caller gets on the
    org's own records (the positive case). `org_scoped_write`: no record of acme in the path, so
    another org simply acts on its own (empty) data."""

    role: Role
    ok: int
    body: Any = None
    org_scoped_write: bool = False
    query: dict[str, str] | None = None  # what a route needs to reach its handler


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/config"): Row(Role.ADMIN, 200),
    ("GET", "/config/reasons"): Row(Role.AGENT, 200),
    ("PUT", "/config"): Row(Role.ADMIN, 200, {}, org_scoped_write=True),
    ("GET", "/customers/{customer_id}"): Row(Role.AGENT, 200),
    ("PUT", "/customers/{customer_id}"): Row(Role.ADMIN, 200, {"name": "Mallory"}, org_scoped_write=True),
    ("GET", "/customers/{customer_id}/transactions"): Row(Role.AGENT, 200),
    ("GET", "/customers/{customer_id}/coupons"): Row(Role.AGENT, 200),
    ("POST", "/goodwill/points"): Row(
        Role.AGENT, 201, {"customer_id": "c-1", "program_id": "default", "points": 5, "reason": "REWARD"}
    ),
    ("POST", "/goodwill/coupons"): Row(
        Role.AGENT, 201, {"customer_id": "c-1", "series_id": "pool", "reason": "REWARD"}
    ),
    ("GET", "/coupon-series"): Row(Role.AGENT, 200),
    ("GET", "/coupon-series/{series_id}"): Row(Role.AGENT, 200),
    ("PUT", "/coupon-series/{series_id}"): Row(
        Role.ADMIN,
        200,
        {"name": "x", "discount": {"type": "AMOUNT", "value": 1}, "valid_days": 1},
        org_scoped_write=True,
    ),
    ("GET", "/goodwill/requests"): Row(Role.AGENT, 200),
    ("GET", "/goodwill/requests/{request_id}"): Row(Role.AGENT, 200),
    ("POST", "/goodwill/requests/{request_id}/approve"): Row(Role.APPROVER, 200, {}),
    ("POST", "/goodwill/requests/{request_id}/reject"): Row(Role.APPROVER, 200, {"comment": "no"}),
    ("POST", "/goodwill/bulk-imports"): Row(Role.ADMIN, 201, {"program_id": "default"}, org_scoped_write=True),
    ("GET", "/goodwill/bulk-imports/{import_id}"): Row(Role.ADMIN, 200),
    # acme's import is still waiting for its file: found (not 404), and not revertible yet
    ("POST", "/goodwill/bulk-imports/{import_id}/revert"): Row(Role.ADMIN, 409, {}),
    ("POST", "/goodwill/request-decisions"): Row(
        Role.APPROVER, 200, {"decision": "REJECT", "request_ids": ["{request_id}"], "comment": "no"}
    ),
    ("GET", "/customers"): Row(Role.AGENT, 200, query={"q": "c-1"}),  # a search of acme's customer
    ("GET", "/me/limits"): Row(Role.AGENT, 200),
    ("PUT", "/webhooks/{webhook_id}"): Row(Role.ADMIN, 200, WEBHOOK, org_scoped_write=True),
    ("GET", "/webhooks"): Row(Role.ADMIN, 200),
    ("GET", "/reports/goodwill"): Row(Role.ADMIN, 200),
    ("GET", "/webhooks/{webhook_id}"): Row(Role.ADMIN, 200),
    ("DELETE", "/webhooks/{webhook_id}"): Row(Role.ADMIN, 200),
    ("POST", "/customers/{customer_id}/transactions/{transaction_id}/reverse"): Row(
        Role.AGENT, 201, {"reason": "CORRECTION"}
    ),
    ("POST", "/api-clients"): Row(
        Role.ADMIN, 201, {"name": "shop", "scopes": ["goodwill/points.write"]}, org_scoped_write=True
    ),
    ("GET", "/api-clients"): Row(Role.ADMIN, 200),
    ("DELETE", "/api-clients/{client_id}"): Row(Role.ADMIN, 200),
}
# Who calls as each role: the requester of the pending request is the agent, so the approver
# deciding it is someone else (deciding one's own request is refused for another reason).
AS_ROLE = {Role.AGENT: AGENT, Role.APPROVER: APPROVER, Role.ADMIN: ADMIN}
_RANKED = [Role.AGENT, Role.APPROVER, Role.ADMIN]


def _world(api: Api) -> dict[str, str]:
    """Records of org acme that every path id points at."""
    api.put("/config", {"points": {"approval_threshold": 10}, "coupons": {"auto_approve": True}})
    api.customer("c-1")
    api.put(
        "/coupon-series/pool",
        {"name": "p", "discount": {"type": "AMOUNT", "value": 1}, "valid_days": 1, "codes": ["AAA-1", "AAA-2"]},
    )
    assert api.put("/webhooks/crm", WEBHOOK).status == 201
    # c-1 has a ledger entry and a coupon, so its listings have something of its own to show.
    granted = api.grant("c-1", 5, as_=AGENT)
    assert granted.status == 201, granted.body
    coupon = {"customer_id": "c-1", "series_id": "pool", "reason": "REWARD"}
    assert api.post("/goodwill/coupons", coupon, as_=AGENT).status == 201
    request = api.grant("c-1", 50, as_=AGENT)
    ids = {**IDS, "request_id": request.body["request"]["request_id"]}
    ids["transaction_id"] = api.ledger("c-1")[0]["transaction_id"]
    created = api.post("/goodwill/bulk-imports", {"program_id": "default"})
    assert created.status == 201, created.body  # every path id names a real record of acme
    ids["import_id"] = created.body["import_id"]
    ids["client_id"] = _client(api, ADMIN, [])[0]
    return ids


def _client(api: Api, admin: dict[str, str], scopes: list[str]) -> tuple[str, dict[str, str]]:
    """An API client of `admin`'s org holding `scopes`: its id, and the Authorization header of an
    access token for them (signed as the pool signs; the API's Lambda authorizer verifies it)."""
    created = api.post("/api-clients", {"name": "m", "scopes": scopes or ["goodwill/requests.read"]}, as_=admin)
    cid = created.body["client_id"]
    pool = api.stack.functions.merged_environment()["USER_POOL_ID"]
    return cid, {"Authorization": f"Bearer {tokens.sign(tokens.access_token_claims(cid, scopes, pool))}"}


def _without_windows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["SK"]["S"] != "RATE"]  # an API client's request counter


def _path(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


def test_the_matrix_covers_every_route_of_the_template(stack: Stack) -> None:
    assert len(ROUTES) == len(Router(stack.functions).routes) >= 15
    assert set(MATRIX) == set(ROUTES), "every route needs its row (least role, positive status)"


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_refuses_callers_without_org_or_role_and_hides_other_orgs(
    api: Api, stack: Stack, method: str, template: str
) -> None:
    row = MATRIX[(method, template)]
    ids = _world(api)
    path = _path(template, ids)
    body = json.loads(_path(json.dumps(row.body), ids)) if row.body is not None else None
    query = row.query
    before = table_items(stack)

    assert api.call(method, path, body, query=query, as_=claims(org=None)).status == 401
    assert api.call(method, path, body, query=query, as_=None).status == 401
    assert api.call(method, path, body, query=query, as_=claims(roles="")).status == 403
    assert api.call(method, path, body, query=query, as_=claims(roles="customer")).status == 403
    assert table_items(stack) == before

    # The role tier: every role below the route's (an agent on admin routes, an agent deciding).
    for lower in _RANKED[: _RANKED.index(row.role)]:
        reply = api.call(method, path, body, query=query, as_=AS_ROLE[lower])
        assert (reply.status, reply.error_code) == (403, "FORBIDDEN"), (lower, reply.status, reply.body)
        assert table_items(stack) == before

    if not row.org_scoped_write and "{" in template:
        reply = api.call(method, path, body, query=query, as_=OTHER_ADMIN)
        assert reply.status == 404, (reply.status, reply.body)
        assert table_items(stack) == before
    if method == "GET" and "{" not in template:
        listing = api.call(method, path, query=query, as_=OTHER_ADMIN)
        assert listing.status == 200
        # The org's configuration: another org reads its own (the defaults), never acme's.
        assert listing.body.get("items", []) == [] or template.startswith("/config")

    # The positive case: the least role of the org itself is served, on the record the path names.
    reply = api.call(method, path, body, query=query, as_=AS_ROLE[row.role])
    assert reply.status == row.ok, (reply.status, reply.body)
    if method == "GET" and "{" in template:
        assert reply.body.get("items", [reply.body]), f"{path} showed nothing of the org's own records"
        if "items" not in reply.body:
            last_id = ids[re.findall(r"\{(\w+)\}", template)[-1]]
            assert last_id in json.dumps(reply.body), f"{path} did not answer with its own record"


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_holds_api_clients_to_their_scopes_and_their_org(
    api: Api, stack: Stack, method: str, template: str
) -> None:
    """The client column: another org's client holding every scope, and one of acme's own holding
    every scope but this route's: 403 outside the scopes, 404 on acme's records, nothing written."""
    row = MATRIX[(method, template)]
    ids = _world(api)
    path = _path(template, ids)
    body = json.loads(_path(json.dumps(row.body), ids)) if row.body is not None else None
    scope = ROUTE_SCOPES.get((method, template))
    foreign = _client(api, OTHER_ADMIN, list(SCOPES))[1]
    lacking = _client(api, ADMIN, [s for s in SCOPES if s != scope])[1]
    before = _without_windows(table_items(stack))

    assert api.call(method, path, body, query=row.query, as_=None, headers=lacking).status == 403
    reply = api.call(method, path, body, query=row.query, as_=None, headers=foreign)
    if scope is None:
        assert reply.status == 403, (reply.status, reply.body)
    elif row.org_scoped_write:
        assert reply.status in (200, 201), (reply.status, reply.body)  # it wrote its own org's record
    elif "{" in template or "customer_id" in (body or {}):
        assert reply.status == 404, (reply.status, reply.body)  # acme's record, by path or by body
    else:
        assert method == "GET" and reply.status == 200 and reply.body["items"] == []
    after = _without_windows(table_items(stack))
    if row.org_scoped_write:
        before, after = ([i for i in items if i["PK"]["S"].startswith("ORG#acme")] for items in (before, after))
    assert after == before
