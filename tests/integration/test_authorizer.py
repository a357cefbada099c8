"""The API's Lambda REQUEST authorizer (functions/authorizer, goodwill.identity), run by the
emulated API Gateway (local/aws/authorizer.py) as the template configures it: people's ID tokens and API
clients' access tokens on the same methods, verified against the pool's JWKS (this run's RSA key,
local/aws/tokens.py), the answer cached per token, and every handler still deciding the route."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from joserfc.jwk import OctKey

from goodwill import auth
from goodwill.clients import rate
from goodwill.identity import jwks
from local.aws import tokens
from local.aws.stack import Stack
from tests.integration.test_api_clients import create_client, grant_body, without_windows
from tests.integration.test_client_tokens import bearer, claims_of, token_of
from tests.support import ADMIN, AGENT, OTHER_ADMIN, OTHER_ORG, Api, table_items


def env(stack: Stack) -> dict[str, str]:
    return stack.functions.merged_environment()


def id_token(stack: Stack, person: dict[str, str] = AGENT, **changes: Any) -> str:
    """A person's ID token as Cognito issues it to the console app client, with `changes`."""
    claims = tokens.id_token_claims(person, env(stack)["CONSOLE_CLIENT_ID"], env(stack)["USER_POOL_ID"])
    return tokens.sign({k: v for k, v in {**claims, **changes}.items() if v is not None})


def _tampered(token: str, **changes: Any) -> str:
    header, _, signature = token.split(".")
    return ".".join([header, tokens._b64(json.dumps({**claims_of(token), **changes}).encode()), signature])


def _symmetric(stack: Stack) -> str:
    """alg confusion: HS256 "signed" with the pool's public key as the shared secret."""
    public = json.dumps(tokens.jwks()).encode()
    claims = tokens.id_token_claims(AGENT, env(stack)["CONSOLE_CLIENT_ID"], env(stack)["USER_POOL_ID"])
    key = OctKey.import_key(public, {"kid": tokens.KEY_ID})
    from joserfc import jwt

    return jwt.encode({"alg": "HS256", "kid": tokens.KEY_ID}, claims, key, algorithms=["HS256"])


PERSON_CASES = {
    "expired": lambda s: id_token(s, exp=int(time.time()) - 1),
    "expired_within_the_clock_skew": lambda s: id_token(s, exp=int(time.time())),
    "issued_in_the_future": lambda s: id_token(s, iat=int(time.time()) + 120),
    "tampered": lambda s: _tampered(id_token(s), **{"custom:org_id": OTHER_ORG}),
    "wrong_audience": lambda s: id_token(s, aud="another-app-client"),
    "wrong_issuer": lambda s: id_token(s, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"),
    "refresh_token_use": lambda s: id_token(s, token_use="refresh"),
    "no_token_use": lambda s: id_token(s, token_use=None),
    "other_key": lambda s: tokens.sign(claims_of(id_token(s)), key=tokens.new_key()),
    "unknown_key_id": lambda s: tokens.sign(claims_of(id_token(s)), key=tokens.new_key("rotated-away")),
    "hs256_with_the_public_key": _symmetric,
    "unsigned": lambda s: ".".join(
        [tokens._b64(b'{"alg":"none","kid":"goodwill-local"}'), id_token(s).split(".")[1], ""]
    ),
    "not_a_jwt": lambda s: "Bearer-but-no-token",
}


def test_refused_id_tokens_are_401_before_any_handler(api: Api, stack: Stack) -> None:
    # One stack for every case (each would cost a stack of its own): each is refused on its own.
    api.customer("c-1")
    assert api.get("/customers/c-1", as_=None, headers=bearer(id_token(stack))).status == 200  # the genuine one
    before = without_windows(table_items(stack))
    refused = {}
    for case, make in PERSON_CASES.items():
        token = make(stack)
        reply = api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token))
        refused[case] = (
            reply.status,
            reply.error_code,
            api.get("/customers/c-1", as_=None, headers=bearer(token)).status,
        )
    assert refused == dict.fromkeys(PERSON_CASES, (401, "UNAUTHORIZED", 401))
    assert without_windows(table_items(stack)) == before


def test_a_token_issued_a_second_ahead_of_our_clock_is_served(api: Api, stack: Stack) -> None:
    """Cognito's clock is not ours and `iat` is whole seconds: a token used the second it is issued
    may be stamped ahead of us (up to CLOCK_SKEW_SECONDS; beyond it, refused above)."""
    api.customer("c-1")
    for ahead in (1, 30):
        token = id_token(stack, iat=int(time.time()) + ahead)
        assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 200, ahead


def test_access_token_with_the_wrong_token_use_or_a_person_behind_it_without_an_org_is_401(api: Api) -> None:
    stack = api.stack
    client = create_client(api, ["goodwill/customers.read"])
    api.customer("c-1")
    claims = tokens.access_token_claims(client["client_id"], client["scopes"], env(stack)["USER_POOL_ID"])
    assert api.get("/customers/c-1", as_=None, headers=bearer(tokens.sign(claims))).status == 200
    for changes in ({"token_use": "id"}, {"token_use": "refresh"}, {"username": "alice"}):
        token = tokens.sign({**claims, **changes})
        assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 401, changes


def test_person_id_token_and_client_access_token_both_work_on_the_same_methods(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")
    client = create_client(api, ["goodwill/points.write", "goodwill/customers.read"])
    person, shop = bearer(id_token(stack, AGENT)), bearer(token_of(stack, client))
    for who in (person, shop):
        assert api.get("/customers/c-1", as_=None, headers=who).status == 200
        assert api.post("/goodwill/points", grant_body(points=10), as_=None, headers=who).status == 201
    ledger = api.ledger("c-1")
    assert {(e["actor"], e["points"]) for e in ledger} == {("bob", 10), (f"client:{client['client_id']}", 10)}
    assert api.balance("c-1")["current"] == 20


def test_person_source_is_console_for_the_console_app_client_and_api_for_the_pools_other_one(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")
    tools = stack.ref("GoodwillUserPoolClient")
    assert tools and tools in env(stack)["PERSON_APP_CLIENT_IDS"].split(",")
    for aud, source in ((env(stack)["CONSOLE_CLIENT_ID"], "CONSOLE"), (tools, "API")):
        reply = api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(id_token(stack, AGENT, aud=aud)))
        assert reply.status == 201, reply.body
        assert reply.body["transaction"]["source"] == source


def test_console_sending_the_id_token_alone_is_served(api: Api) -> None:
    # console/js/auth.js sends `Authorization: <ID token>` (no "Bearer"), as the Cognito authorizer took it
    api.customer("c-1")
    assert api.get("/customers/c-1", as_=None, headers={"Authorization": id_token(api.stack)}).status == 200


def test_person_roles_come_from_the_token_and_still_decide_the_route(api: Api) -> None:
    stack = api.stack
    agent = bearer(id_token(stack, AGENT))
    assert api.put("/config", {"points": {"approval_threshold": 100}}, as_=None, headers=agent).status == 403
    admin = bearer(id_token(stack, ADMIN))
    assert api.put("/config", {"points": {"approval_threshold": 100}}, as_=None, headers=admin).status in (200, 201)


def test_client_of_one_org_reading_another_orgs_customer_is_404(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")  # org acme's
    api.customer("g-1", as_=OTHER_ADMIN)  # org globex's
    client = create_client(api, ["goodwill/customers.read"])  # acme's client
    shop = bearer(token_of(stack, client))
    assert api.get("/customers/c-1", as_=None, headers=shop).status == 200
    reply = api.get("/customers/g-1", as_=None, headers=shop)
    assert (reply.status, reply.error_code) == (404, "NOT_FOUND")
    # an org claim smuggled into the token changes nothing: the org is the registry's
    forged = tokens.sign({**claims_of(token_of(stack, client)), "custom:org_id": OTHER_ORG})
    assert api.get("/customers/g-1", as_=None, headers=bearer(forged)).status == 404


def test_client_without_points_write_is_403_and_grants_nothing(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")
    client = create_client(api, ["goodwill/customers.read"])
    reply = api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token_of(stack, client)))
    assert (reply.status, reply.error_code) == (403, "FORBIDDEN")
    assert api.balance("c-1")["current"] == 0


def test_revoked_client_is_401_on_the_next_call_despite_the_cached_answer(api: Api) -> None:
    stack = api.stack
    api.customer("c-1")
    client = create_client(api, ["goodwill/customers.read", "goodwill/points.write"])
    shop = bearer(token_of(stack, client))
    authorizer = api.router.authorizer
    assert authorizer is not None and authorizer.ttl_seconds == 300
    assert api.get("/customers/c-1", as_=None, headers=shop).status == 200
    runs = authorizer.invocations
    assert api.call("DELETE", f"/api-clients/{client['client_id']}").status == 200
    assert api.get("/customers/c-1", as_=None, headers=shop).status == 401
    assert api.post("/goodwill/points", grant_body(), as_=None, headers=shop).status == 401
    assert authorizer.invocations == runs, "the answers came from the authorizer's cache"
    assert api.balance("c-1")["current"] == 0


def test_cached_answer_serves_every_method_but_not_past_the_tokens_expiry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = api.stack
    api.customer("c-1")
    token = id_token(stack, AGENT)
    authorizer = api.router.authorizer
    assert authorizer is not None
    assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 200
    runs = authorizer.invocations
    assert api.post("/goodwill/points", grant_body(), as_=None, headers=bearer(token)).status == 201
    assert authorizer.invocations == runs  # one answer, for the whole API
    expires = claims_of(token)["exp"]
    monkeypatch.setattr(auth.time, "time", lambda: expires + 1.0)
    assert api.get("/customers/c-1", as_=None, headers=bearer(token)).status == 401
    assert authorizer.invocations == runs  # still the cached answer: the handler refused it


def test_jwks_is_fetched_once_per_instance_and_unknown_key_ids_do_not_refetch_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = api.stack
    api.customer("c-1")
    jwks.clear_cache()
    fetched: list[str] = []
    real = jwks._fetch
    monkeypatch.setattr(jwks, "_fetch", lambda url: fetched.append(url) or real(url))
    for person in (AGENT, ADMIN):  # two tokens: two authorizer runs
        assert api.get("/customers/c-1", as_=None, headers=bearer(id_token(stack, person))).status == 200
    stranger = tokens.sign(claims_of(id_token(stack)), key=tokens.new_key("stranger"))
    for _ in range(3):
        assert api.get("/customers/c-1", as_=None, headers=bearer(stranger)).status == 401
    assert fetched == [env(stack)["JWKS_URL"]]


def test_clients_sending_at_once_only_the_one_over_its_rate_gets_429(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two clients of acme (one allowed 3 requests a second) and one of globex, their answers
    # cached and their handlers loaded
    stack = api.stack
    api.customer("c-1")
    api.customer("g-1", as_=OTHER_ADMIN)
    busy = create_client(api, ["goodwill/customers.read"], rate_limit_per_second=3)
    calm = create_client(api, ["goodwill/customers.read"])
    elsewhere = create_client(api, ["goodwill/customers.read"], as_=OTHER_ADMIN)
    callers = {
        "busy": (bearer(token_of(stack, busy)), "/customers/c-1"),
        "calm": (bearer(token_of(stack, calm)), "/customers/c-1"),
        "elsewhere": (bearer(token_of(stack, elsewhere)), "/customers/g-1"),
    }
    for headers, path in callers.values():
        assert api.get(path, as_=None, headers=headers).status == 200
    # every request below falls in one (fresh) second: the behaviour, whatever the machine's speed
    monkeypatch.setattr(rate, "now_second", lambda: 1_900_000_000)
    jobs = [name for _ in range(10) for name in callers]
    start = threading.Barrier(len(jobs))

    def send(name: str) -> tuple[str, int, str | None]:
        headers, path = callers[name]
        start.wait()
        reply = api.get(path, as_=None, headers=headers)
        return name, reply.status, reply.headers.get("Retry-After")

    # When the three send 10 requests each, all at once
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        replies = list(pool.map(send, jobs))

    # Then only the busy client is refused, exactly past its rate, each refusal saying when to retry
    statuses = {name: Counter(status for who, status, _ in replies if who == name) for name in callers}
    assert statuses == {"busy": {200: 3, 429: 7}, "calm": {200: 10}, "elsewhere": {200: 10}}
    assert {retry for _, status, retry in replies if status == 429} == {"1"}
