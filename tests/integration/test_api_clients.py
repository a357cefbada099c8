"""API clients (CONTRACT.md section 14): created by admins, acting for their org only, within their
scopes and their rate, refused from the request after their revocation.

Calls here hand the handlers the claims API Gateway's Cognito authorizer passes for a verified
client-credentials access token; tests/integration/test_client_tokens.py covers the tokens.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from goodwill.auth import ROUTE_SCOPES, SCOPES
from goodwill.clients import rate
from local.aws.stack import Stack
from local.aws.template import load
from tests.support import ADMIN, AGENT, OTHER_ADMIN, Api, table_items

ALL_SCOPES = [
    "goodwill/points.write",
    "goodwill/coupons.write",
    "goodwill/customers.read",
    "goodwill/customers.write",
    "goodwill/requests.read",
]


def create_client(
    api: Api, scopes: list[str] | None = None, as_: dict[str, str] = ADMIN, **extra: Any
) -> dict[str, Any]:
    reply = api.post("/api-clients", {"name": "Web shop", "scopes": scopes or ALL_SCOPES, **extra}, as_=as_)
    assert reply.status == 201, reply.body
    return reply.body  # type: ignore[no-any-return]


def token_claims(client: dict[str, Any], scopes: list[str] | None = None) -> dict[str, str]:
    """What API Gateway's Cognito authorizer hands over for a client-credentials access token."""
    cid = client["client_id"]
    scope = " ".join(scopes if scopes is not None else client["scopes"])
    return {"sub": cid, "client_id": cid, "token_use": "access", "scope": scope, "iss": "cognito"}


def grant_body(customer_id: str = "c-1", points: int = 25, **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "program_id": "default", "points": points, "reason": "REWARD", **extra}


def without_windows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["SK"]["S"] != "RATE"]


def test_create_client_returns_the_secret_once_and_keeps_it_nowhere(api: Api, stack: Stack) -> None:
    created = create_client(api, ["goodwill/points.write"], rate_limit_per_second=5)
    assert created["client_secret"] and created["token_url"].endswith("/oauth2/token")
    assert created["scopes"] == ["goodwill/points.write"] and created["rate_limit_per_second"] == 5
    app_client = stack.client("cognito-idp").describe_user_pool_client(
        UserPoolId=stack.functions.merged_environment()["USER_POOL_ID"], ClientId=created["client_id"]
    )["UserPoolClient"]
    assert app_client["AllowedOAuthFlows"] == ["client_credentials"]
    assert app_client["AllowedOAuthScopes"] == ["goodwill/points.write"]
    assert created["client_secret"] not in json.dumps(table_items(stack))
    listed = api.get("/api-clients").body["items"]
    assert [c["client_id"] for c in listed] == [created["client_id"]]
    assert "client_secret" not in listed[0] and listed[0]["status"] == "ACTIVE"
    assert api.get("/api-clients", as_=OTHER_ADMIN).body["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": ["goodwill/config.write"]}, "scopes.0"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "", "scopes": ["goodwill/points.write"]}, "name"),
        ({"name": "x", "scopes": ["goodwill/points.write"], "rate_limit_per_second": 0}, "rate_limit_per_second"),
        ({"name": "x", "scopes": ["goodwill/points.write"], "org_id": "globex"}, "org_id"),
    ],
)
def test_create_client_with_a_bad_field_is_422_and_creates_nothing(
    api: Api, stack: Stack, body: dict[str, Any], field: str
) -> None:
    before = table_items(stack)
    reply = api.post("/api-clients", body)
    assert reply.status == 422 and field in reply.fields()
    assert table_items(stack) == before


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [("LimitExceededException", 409, "CONFLICT"), ("TooManyRequestsException", 503, "SERVICE_UNAVAILABLE")],
)
def test_cognito_refusing_the_app_client_is_a_clear_4xx_or_503_and_creates_nothing(
    api: Api, stack: Stack, code: str, status: int, error: str
) -> None:
    from goodwill import aws

    fired: list[str] = []

    def refuse(**_: Any) -> Any:  # once the SDK's retries are spent: the quota reached, or throttled
        fired.append(code)
        return _Http(), {"Error": {"Code": code, "Message": "refused"}, "ResponseMetadata": {"HTTPStatusCode": 400}}

    before = table_items(stack)
    client = aws.cognito_idp()
    client.meta.events.register("before-call.cognito-idp.CreateUserPoolClient", refuse)
    try:
        reply = api.post("/api-clients", {"name": "Web shop", "scopes": ["goodwill/points.write"]})
    finally:
        client.meta.events.unregister("before-call.cognito-idp.CreateUserPoolClient", refuse)
    assert fired == [code]
    assert (reply.status, reply.error_code) == (status, error), reply.body
    assert table_items(stack) == before and api.get("/api-clients").body["items"] == []


class _Http:
    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012


def test_only_admins_manage_clients(api: Api) -> None:
    assert api.post("/api-clients", {"name": "x", "scopes": ALL_SCOPES}, as_=AGENT).status == 403
    assert api.get("/api-clients", as_=AGENT).status == 403


def test_client_grant_is_recorded_as_the_client_with_source_api(api: Api) -> None:
    api.customer("c-1")
    client = create_client(api, ["goodwill/points.write", "goodwill/customers.read"])
    as_client = token_claims(client)
    reply = api.post("/goodwill/points", grant_body(), as_=as_client, headers={"X-Goodwill-Source": "CONSOLE"})
    assert reply.status == 201, reply.body
    actor = f"client:{client['client_id']}"
    assert reply.body["request"]["requested_by"] == actor
    assert reply.body["transaction"]["source"] == "API"
    entry = api.ledger("c-1")[0]
    assert (entry["actor"], entry["source"], entry["points"]) == (actor, "API", 25)
    assert api.get("/customers/c-1", as_=as_client).body["balances"]["default"]["current"] == 25


def test_client_sending_an_org_in_the_body_changes_nothing(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    api.customer("c-1", as_=OTHER_ADMIN)
    client = create_client(api)
    before = without_windows(table_items(stack))
    reply = api.post("/goodwill/points", grant_body(org_id="globex"), as_=token_claims(client))
    assert reply.status == 422 and "org_id" in reply.fields()
    assert without_windows(table_items(stack)) == before
    assert api.balance("c-1", as_=OTHER_ADMIN)["current"] == 0


def test_client_without_points_write_cannot_grant(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    client = create_client(api, ["goodwill/customers.read"])
    before = without_windows(table_items(stack))
    reply = api.post("/goodwill/points", grant_body(), as_=token_claims(client))
    assert reply.status == 403 and reply.error_code == "FORBIDDEN"
    assert without_windows(table_items(stack)) == before
    # A token asking for more than the client was given holds only what it was given.
    widened = token_claims(client, ["goodwill/customers.read", "goodwill/points.write"])
    assert api.post("/goodwill/points", grant_body(), as_=widened).status == 403
    assert api.balance("c-1")["current"] == 0


def test_client_of_one_org_reading_another_orgs_customer_is_404(api: Api) -> None:
    api.customer("c-1", as_=OTHER_ADMIN)
    client = create_client(api)
    assert api.get("/customers/c-1", as_=token_claims(client)).status == 404
    assert api.get("/customers/c-1/transactions", as_=token_claims(client)).status == 404
    assert api.post("/goodwill/points", grant_body(), as_=token_claims(client)).status == 404
    assert api.balance("c-1", as_=OTHER_ADMIN)["current"] == 0


def test_client_cannot_decide_configure_import_or_manage(api: Api, stack: Stack) -> None:
    api.put("/config", {"points": {"approval_threshold": 10}})
    api.customer("c-1")
    pending = api.grant("c-1", 50, as_=AGENT).body["request"]["request_id"]
    client = create_client(api)
    as_client = token_claims(client)
    before = without_windows(table_items(stack))
    for method, path, body in [
        ("POST", f"/goodwill/requests/{pending}/approve", {}),
        ("POST", f"/goodwill/requests/{pending}/reject", {"comment": "no"}),
        ("PUT", "/config", {}),
        ("GET", "/config", None),
        ("PUT", "/coupon-series/s", {"name": "x", "discount": {"type": "AMOUNT", "value": 1}, "valid_days": 1}),
        ("POST", "/goodwill/bulk-imports", {"program_id": "default"}),
        ("POST", "/api-clients", {"name": "x", "scopes": ALL_SCOPES}),
        ("DELETE", f"/api-clients/{client['client_id']}", None),
    ]:
        reply = api.call(method, path, body, as_=as_client)
        assert reply.status == 403, (method, path, reply.status, reply.body)
    assert without_windows(table_items(stack)) == before
    assert api.get(f"/goodwill/requests/{pending}", as_=as_client).body["status"] == "PENDING_APPROVAL"


def test_revoked_client_is_refused_on_its_next_request(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    client = create_client(api)
    as_client = token_claims(client)
    assert api.get("/customers/c-1", as_=as_client).status == 200  # the registry entry is now cached
    assert api.call("DELETE", f"/api-clients/{client['client_id']}", as_=OTHER_ADMIN).status == 404
    revoked = api.call("DELETE", f"/api-clients/{client['client_id']}")
    assert revoked.status == 200 and revoked.body["status"] == "REVOKED"
    assert api.get("/customers/c-1", as_=as_client).status == 401
    assert api.post("/goodwill/points", grant_body(), as_=as_client).status == 401
    assert api.balance("c-1")["current"] == 0
    idp = stack.client("cognito-idp")
    with pytest.raises(idp.exceptions.ResourceNotFoundException):
        idp.describe_user_pool_client(
            UserPoolId=stack.functions.merged_environment()["USER_POOL_ID"], ClientId=client["client_id"]
        )
    assert api.call("DELETE", f"/api-clients/{client['client_id']}").status == 200  # a repeat is harmless
    assert api.get("/api-clients").body["items"][0]["status"] == "REVOKED"


def test_unknown_client_is_401(api: Api) -> None:
    ghost = {"client_id": "ghost0000000000000000000000", "scopes": ALL_SCOPES}
    assert api.get("/goodwill/requests", as_=token_claims(ghost)).status == 401


def test_client_over_its_rate_gets_429_while_others_go_on(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.customer("c-1")
    busy = create_client(api, rate_limit_per_second=2)
    calm = create_client(api)
    elsewhere = create_client(api, as_=OTHER_ADMIN)
    second = [1_900_000_000]
    monkeypatch.setattr(rate, "now_second", lambda: second[0])
    assert [api.get("/customers/c-1", as_=token_claims(busy)).status for _ in range(2)] == [200, 200]
    refused = api.get("/customers/c-1", as_=token_claims(busy))
    assert refused.status == 429 and refused.headers.get("Retry-After") == "1"
    assert refused.error_code == "TOO_MANY_REQUESTS"
    assert api.post("/goodwill/points", grant_body(), as_=token_claims(busy)).status == 429
    assert api.balance("c-1")["current"] == 0
    assert api.get("/customers/c-1", as_=token_claims(calm)).status == 200
    assert api.get("/goodwill/requests", as_=token_claims(elsewhere)).status == 200
    assert api.get("/customers/c-1", as_=ADMIN).status == 200
    second[0] += 1
    assert api.get("/customers/c-1", as_=token_claims(busy)).status == 200


def test_openapi_document_shows_both_schemes_with_the_scope_of_each_operation() -> None:
    document = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
    schemes = document["components"]["securitySchemes"]
    assert set(schemes["ApiClient"]["flows"]["clientCredentials"]["scopes"]) == set(ALL_SCOPES)
    assert "CognitoAuthorizer" in schemes
    opened = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["security"][0] == {"CognitoAuthorizer": []}, (method, path)
            opened.update({(method.upper(), path): s["ApiClient"] for s in operation["security"][1:]})
    assert opened == {route: [scope] for route, scope in ROUTE_SCOPES.items()}
    assert ("POST", "/goodwill/requests/{request_id}/approve") not in opened


def test_template_resource_server_declares_exactly_the_scopes_of_the_api() -> None:
    server = load()["Resources"]["GoodwillResourceServer"]["Properties"]
    declared = {f"{server['Identifier']}/{s['ScopeName']}" for s in server["Scopes"]}
    assert declared == set(ALL_SCOPES) == set(SCOPES) == set(ROUTE_SCOPES.values())
