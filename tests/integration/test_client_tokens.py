"""Client-credentials tokens in the local run: issued by POST /_local/oauth2/token as Cognito issues
them (RS256, this run's key), and checked by the API's Lambda authorizer (signature, expiry, issuer,
token use, client, registered) before any handler runs. A refused token is 401 and nothing runs."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from local.aws import tokens
from local.aws.stack import Stack
from tests.integration.test_api_clients import create_client, grant_body, without_windows
from tests.support import Api, table_items

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def pool_id(stack: Stack) -> str:
    return stack.functions.merged_environment()["USER_POOL_ID"]


def token_request(stack: Stack, form: dict[str, str], basic: tuple[str, str] | None = None) -> tuple[int, Any]:
    headers = dict(FORM)
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    return tokens.token_endpoint(stack.client("cognito-idp"), pool_id(stack), urlencode(form).encode(), headers)


def token_of(stack: Stack, client: dict[str, Any], scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    status, answer = token_request(stack, form, (client["client_id"], client["client_secret"]))
    assert status == 200, answer
    return str(answer["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_token_endpoint_answers_as_cognito_does(api: Api, stack: Stack) -> None:
    client = create_client(api, ["goodwill/points.write", "goodwill/customers.read"])
    status, answer = token_request(
        stack, {"grant_type": "client_credentials"}, (client["client_id"], client["client_secret"])
    )
    assert status == 200 and answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    claims = claims_of(answer["access_token"])
    assert claims["client_id"] == claims["sub"] == client["client_id"] and claims["token_use"] == "access"
    assert claims["scope"].split() == ["goodwill/points.write", "goodwill/customers.read"]
    by_form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    status, narrowed = token_request(stack, {**by_form, "scope": "goodwill/customers.read"})
    assert status == 200 and claims_of(narrowed["access_token"])["scope"] == "goodwill/customers.read"


@pytest.mark.parametrize(
    ("form", "secret", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "wrong-secret", 401, "invalid_client"),
        ({"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "goodwill/coupons.write"}, None, 400, "invalid_scope"),
    ],
)
def test_token_endpoint_refuses_bad_requests(
    api: Api, stack: Stack, form: dict[str, str], secret: str | None, status: int, error: str
) -> None:
    client = create_client(api, ["goodwill/points.write"])
    got = token_request(stack, form, (client["client_id"], secret or client["client_secret"]))
    assert got == (status, {"error": error})


@pytest.mark.parametrize("body", [b"grant_type=client_credentials&scope=\xff", b"grant_type=client_credentials&x=%FF"])
def test_token_endpoint_refuses_a_form_that_is_not_utf8(api: Api, stack: Stack, body: bytes) -> None:
    client = create_client(api, ["goodwill/points.write"])
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    headers = {**FORM, "Authorization": f"Basic {basic}"}
    got = tokens.token_endpoint(stack.client("cognito-idp"), pool_id(stack), body, headers)
    assert got == (400, {"error": "invalid_request", "error_description": "the form is not UTF-8"})


def test_token_endpoint_refuses_unknown_and_revoked_clients(api: Api, stack: Stack) -> None:
    client = create_client(api)
    assert token_request(stack, {"grant_type": "client_credentials"}, ("nobody", "x")) == (
        401,
        {"error": "invalid_client"},
    )
    assert api.call("DELETE", f"/api-clients/{client['client_id']}").status == 200
    got = token_request(stack, {"grant_type": "client_credentials"}, (client["client_id"], client["client_secret"]))
    assert got == (401, {"error": "invalid_client"})


@pytest.mark.parametrize(
    ("form", "basic"),
    [
        ({}, ("", "some-secret")),  # an empty id by Basic
        ({}, ("x", "")),  # an empty secret by Basic
        ({"client_id": "a" * 200, "client_secret": "s"}, None),  # longer than Cognito's 128
        ({"client_id": "bad id!", "client_secret": "s"}, None),
    ],
    ids=["empty-id", "empty-secret", "long-id", "odd-id"],
)
def test_token_endpoint_answers_invalid_client_for_ids_cognito_cannot_hold(
    api: Api, stack: Stack, form: dict[str, str], basic: tuple[str, str] | None
) -> None:
    create_client(api, ["goodwill/points.write"])
    got = token_request(stack, {"grant_type": "client_credentials", **form}, basic)
    assert got == (401, {"error": "invalid_client"})


def test_token_grants_points_as_the_client(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")
    client = create_client(api, ["goodwill/points.write"])
    reply = api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token_of(stack, client)))
    assert reply.status == 201, reply.body
    assert reply.body["transaction"]["actor"] == f"client:{client['client_id']}"
    assert api.balance("c-1")["current"] == 25


def _forged(stack: Stack, client: dict[str, Any], **changes: Any) -> str:
    claims = {**tokens.access_token_claims(client["client_id"], client["scopes"], pool_id(stack)), **changes}
    return tokens.sign({k: v for k, v in claims.items() if v is not None})


@pytest.mark.parametrize(
    "case",
    ["expired", "tampered", "wrong_audience", "unregistered_app_client", "wrong_issuer", "other_key", "id_token"],
)
def test_refused_token_is_401_and_changes_nothing(api: Api, stack: Stack, case: str) -> None:
    api.customer("c-1")
    client = create_client(api, ["goodwill/customers.read"])
    good = token_of(stack, client)
    console = stack.functions.merged_environment()["CONSOLE_CLIENT_ID"]
    token = {
        "expired": lambda: _forged(stack, client, exp=int(time.time()) - 1),
        "tampered": lambda: ".".join(
            [
                good.split(".")[0],
                tokens._b64(json.dumps({**claims_of(good), "scope": "goodwill/points.write"}).encode()),
                good.split(".")[2],
            ]
        ),
        "wrong_audience": lambda: _forged(stack, client, aud="another-app-client"),
        "unregistered_app_client": lambda: _forged(stack, {**client, "client_id": "x" + client["client_id"][1:]}),
        "wrong_issuer": lambda: _forged(
            stack, client, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"
        ),
        "other_key": lambda: tokens.sign(claims_of(good), key=tokens.new_key()),
        "id_token": lambda: _forged(stack, client, token_use="id", aud=console),
    }[case]()
    assert api.get("/customers/c-1", as_=None, headers=bearer(good)).status == 200  # the genuine one works
    before = without_windows(table_items(stack))
    assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 401
    reply = api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token))
    assert reply.status == 401 and reply.error_code == "UNAUTHORIZED"
    assert without_windows(table_items(stack)) == before


def test_revoked_clients_token_is_401_on_the_next_call(api: Api, stack: Stack) -> None:
    api.customer("c-1")
    client = create_client(api)
    token = token_of(stack, client)
    assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 200
    assert api.call("DELETE", f"/api-clients/{client['client_id']}").status == 200
    assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 401
    assert api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token)).status == 401
    assert api.balance("c-1")["current"] == 0
