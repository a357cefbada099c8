"""auth.py: claims -> Principal for people and API clients, roles by rank, scopes, source."""

from __future__ import annotations

from typing import Any

import pytest

from goodwill import auth
from goodwill.auth import Principal, Role
from goodwill.clients import rate, registry
from goodwill.errors import ForbiddenError, UnauthorizedError
from goodwill.models.common import Source

CONSOLE = "console-app-client"


def person(**extra: Any) -> dict[str, Any]:
    return {"custom:org_id": "acme", "sub": "alice", "cognito:groups": "agent", **extra}


def client_token(**extra: Any) -> dict[str, Any]:
    return {"token_use": "access", "client_id": "store1", "sub": "store1", "scope": "goodwill/points.write", **extra}


def test_person_claims_give_org_actor_roles_and_email() -> None:
    who = auth.person_from_claims(person(email="a@acme.test", **{"cognito:groups": "agent,approver"}))
    assert (who.org_id, who.actor, who.email) == ("acme", "alice", "a@acme.test")
    assert who.roles == {Role.AGENT, Role.APPROVER} and not who.is_client


@pytest.mark.parametrize("groups", ["agent,admin", "[agent admin]", ["agent", "admin"], "Admin, agent"])
def test_groups_in_every_spelling_are_read(groups: Any) -> None:
    assert auth.person_from_claims(person(**{"cognito:groups": groups})).roles == {Role.AGENT, Role.ADMIN}


def test_unknown_groups_give_no_role() -> None:
    assert auth.person_from_claims(person(**{"cognito:groups": "superuser,root"})).roles == frozenset()


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "alice"},  # no org claim
        person(**{"custom:org_id": "acme#other"}),  # an org id that could forge keys
        person(**{"custom:org_id": ""}),
        person(sub=""),
        person(sub="x" * 129),
        person(sub=42),  # claims are strings
        person(**{"custom:org_id": ["acme"]}),
        person(email="a" * 250 + "@x.io"),
        person(email=7),
        person(token_use="refresh"),
    ],
)
def test_malformed_person_claims_are_401(claims: dict[str, Any]) -> None:
    with pytest.raises(UnauthorizedError):
        auth.person_from_claims(claims)


def test_roles_rank_admin_over_approver_over_agent() -> None:
    approver = Principal(org_id="acme", actor="b", roles=frozenset({Role.APPROVER}))
    assert approver.has(Role.AGENT) and approver.has(Role.APPROVER) and not approver.has(Role.ADMIN)
    assert approver.require(Role.AGENT) is approver
    with pytest.raises(ForbiddenError, match="admin"):
        approver.require(Role.ADMIN)
    with pytest.raises(ForbiddenError):
        Principal(org_id="acme", actor="n").require(Role.AGENT)  # no role at all


def test_source_is_console_only_for_the_console_app_client() -> None:
    assert auth.person_source(person(aud=CONSOLE), CONSOLE) is Source.CONSOLE
    assert auth.person_source(person(aud="other"), CONSOLE) is Source.API
    assert auth.person_source(person(token_use="access", client_id=CONSOLE), CONSOLE) is Source.CONSOLE
    # An access token's aud is not its app client; without a known console nothing is CONSOLE.
    assert auth.person_source(person(token_use="access", aud=CONSOLE), CONSOLE) is Source.API
    assert auth.person_source(person(aud=""), "") is Source.API


def test_a_client_token_is_an_access_token_without_a_person_or_the_console() -> None:
    assert auth.is_client_token(client_token(), CONSOLE)
    assert not auth.is_client_token(client_token(token_use="id"), CONSOLE)
    assert not auth.is_client_token(client_token(username="alice"), CONSOLE)
    assert not auth.is_client_token(client_token(client_id=CONSOLE), CONSOLE)


def test_client_needs_the_route_scope_and_no_role_helps_it() -> None:
    store = Principal(org_id="acme", actor="client:s", scopes=frozenset({"goodwill/points.write"}))
    assert store.allow(Role.AGENT, "goodwill/points.write") is store
    with pytest.raises(ForbiddenError, match="scope"):
        store.allow(Role.AGENT, "goodwill/coupons.write")
    with pytest.raises(ForbiddenError):
        store.allow(Role.AGENT, None)  # a route without a scope is closed to clients
    with pytest.raises(ForbiddenError):
        store.require(Role.AGENT)


def test_person_on_a_scoped_route_still_needs_the_role() -> None:
    with pytest.raises(ForbiddenError):
        auth.principal_for_route(person(), "", Role.APPROVER, "goodwill/points.write")
    assert auth.principal_for_route(person(), "", Role.AGENT, "goodwill/points.write").actor == "alice"


def test_no_claims_is_401() -> None:
    with pytest.raises(UnauthorizedError):
        auth.principal_for_route(None, "", Role.AGENT, None)
    with pytest.raises(UnauthorizedError):
        auth.principal_for_route({}, "", Role.AGENT, None)


def test_client_on_a_closed_route_is_refused_before_the_registry_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_read(client_id: str) -> None:
        raise AssertionError("the registry was read")

    monkeypatch.setattr(registry, "lookup", no_read)
    with pytest.raises(ForbiddenError):
        auth.principal_for_route(client_token(), CONSOLE, Role.AGENT, None)


def registry_of(monkeypatch: pytest.MonkeyPatch, entry: registry.Entry | None, admit: bool = True) -> None:
    monkeypatch.setattr(registry, "lookup", lambda client_id: entry)
    monkeypatch.setattr(rate, "admit", lambda client_id, limit: admit)


def entry(status: str = registry.ACTIVE) -> registry.Entry:
    scopes = frozenset({"goodwill/points.write", "goodwill/customers.read"})
    return registry.Entry("store1", "acme", scopes, 10, status)


def test_client_gets_its_org_from_the_registry_and_only_scopes_both_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    registry_of(monkeypatch, entry())
    token = client_token(scope="goodwill/points.write goodwill/coupons.write", **{"custom:org_id": "evil"})
    who = auth.principal_for_route(token, CONSOLE, Role.AGENT, "goodwill/points.write")
    assert (who.org_id, who.actor, who.source) == ("acme", "client:store1", Source.API)
    assert who.scopes == {"goodwill/points.write"}  # coupons.write: in the token, not granted


@pytest.mark.parametrize(
    ("found", "admit"),
    [(None, True), (entry(registry.REVOKED), True), (entry(), False)],
    ids=["unknown", "revoked", "rate-window-gone"],
)
def test_unknown_or_revoked_client_is_401(
    monkeypatch: pytest.MonkeyPatch, found: registry.Entry | None, admit: bool
) -> None:
    registry_of(monkeypatch, found, admit)
    with pytest.raises(UnauthorizedError):
        auth.principal_for_route(client_token(), CONSOLE, Role.AGENT, "goodwill/points.write")


def test_client_token_whose_sub_is_another_client_is_401(monkeypatch: pytest.MonkeyPatch) -> None:
    registry_of(monkeypatch, entry())
    with pytest.raises(UnauthorizedError):
        auth.principal_for_route(client_token(sub="store2"), CONSOLE, Role.AGENT, "goodwill/points.write")


def test_every_route_scope_is_a_declared_scope() -> None:
    assert set(auth.ROUTE_SCOPES.values()) <= set(auth.SCOPES)


# ------------------------------------------------------------------ the Lambda authorizer's context


def _context(principal: Principal, exp: int = 4_102_444_800) -> dict[str, Any]:
    return {**auth.principal_context(principal, exp), "principalId": principal.actor, "integrationLatency": 0}


def test_person_context_round_trips_to_the_same_principal() -> None:
    person = Principal(
        org_id="acme", actor="alice", roles=frozenset({Role.APPROVER}), source=Source.CONSOLE, email="a@acme.test"
    )
    assert auth.principal_for_request(_context(person), CONSOLE, Role.AGENT, None) == person
    with pytest.raises(ForbiddenError):
        auth.principal_for_request(_context(person), CONSOLE, Role.ADMIN, None)


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"principal": "robot", "org_id": "acme", "actor": "x", "exp": "4102444800"},
        {"principal": "person", "actor": "alice", "exp": "4102444800"},
        {"principal": "person", "org_id": "acme", "actor": "alice", "source": "CONSOLE", "exp": "soon"},
        {"principal": "person", "org_id": "acme", "actor": "alice", "source": "CONSOLE", "exp": "1"},
    ],
)
def test_context_without_a_whole_unexpired_principal_is_401(broken: dict[str, Any]) -> None:
    with pytest.raises(UnauthorizedError):
        auth.principal_for_request(broken or None, CONSOLE, Role.AGENT, None)


def test_client_context_is_closed_outside_scoped_routes_before_the_registry_is_read() -> None:
    client = Principal(org_id="acme", actor="client:store1", scopes=frozenset({"goodwill/points.write"}))
    with pytest.raises(ForbiddenError):  # no table in this test: reading the registry would fail otherwise
        auth.principal_for_request(_context(client), CONSOLE, Role.AGENT, None)
