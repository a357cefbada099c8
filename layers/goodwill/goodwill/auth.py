"""Who is calling: the one identity decision of a request (claims -> Principal), roles and scopes.

Two kinds of caller reach the API, both through the API's Lambda authorizer (functions/authorizer,
goodwill.identity: it has checked the token's signature, issuer, expiry, token use and audience
before any function runs, and hands the caller's principal to the handler, `principal_for_request`;
the local run invokes the same authorizer for bearer tokens, and takes people's claims from headers):
- people, with a Cognito ID token (or an access token carrying the same claims): org from
  `custom:org_id`, actor from `sub`, roles from `cognito:groups`;
- API clients (storefronts, services), with an access token from the client-credentials grant:
  no person, no org claim; the org is the one that created the client (goodwill.clients registry),
  the actor `client:{client_id}`, the permissions the token's scopes.
`source` is derived here from who calls, never from anything the caller can set: people whose
token was issued to the console app client are CONSOLE, other people and API clients are API
(imports record BULK_IMPORT themselves).
"""

from __future__ import annotations

import re
import time
from enum import StrEnum
from typing import Any, NamedTuple

from goodwill.errors import ForbiddenError, UnauthorizedError
from goodwill.models.vocabulary import ORG_ID_PATTERN, Source


class Role(StrEnum):
    AGENT = "agent"
    APPROVER = "approver"
    ADMIN = "admin"


# A role includes every role below it: admin > approver > agent.
_RANK = {Role.AGENT: 1, Role.APPROVER: 2, Role.ADMIN: 3}

# The scopes of the resource server `goodwill` (CONTRACT.md section 14), and the only routes an API
# client may call: (method, API Gateway resource) -> the scope it needs. A route missing here is
# closed to every client (deciding, configuration, series, imports, clients, webhooks).
SCOPES: dict[str, str] = {
    "goodwill/points.write": "Give or take goodwill points (POST /goodwill/points)",
    "goodwill/coupons.write": "Hand out goodwill coupons (POST /goodwill/coupons)",
    "goodwill/customers.read": "Read and search customers, their ledger and coupons",
    "goodwill/customers.write": "Create or replace customers (PUT /customers/{customer_id})",
    "goodwill/requests.read": "Read goodwill requests (GET /goodwill/requests)",
}
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("POST", "/goodwill/points"): "goodwill/points.write",
    ("POST", "/goodwill/coupons"): "goodwill/coupons.write",
    ("GET", "/customers"): "goodwill/customers.read",
    ("GET", "/customers/{customer_id}"): "goodwill/customers.read",
    ("GET", "/customers/{customer_id}/transactions"): "goodwill/customers.read",
    ("GET", "/customers/{customer_id}/coupons"): "goodwill/customers.read",
    ("PUT", "/customers/{customer_id}"): "goodwill/customers.write",
    ("GET", "/goodwill/requests"): "goodwill/requests.read",
    ("GET", "/goodwill/requests/{request_id}"): "goodwill/requests.read",
}


# A person's Cognito token claims, checked by hand (no pydantic: the authorizer and every request's
# identity decision stay clear of its model machinery, ~40 ms of the authorizer's cold start).
_ORG_ID = re.compile(ORG_ID_PATTERN)
MAX_SUB = 128
MAX_EMAIL = 254


def _groups(value: Any) -> list[str]:
    # REST APIs pass "a,b"; HTTP APIs and some tools pass "[a b]" or a JSON list.
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [g for g in re.split(r"[,\s]+", str(value).strip("[]")) if g]


def _checked_claims(claims: dict[str, Any]) -> tuple[str, str, str | None, list[str]]:
    """org id, sub, e-mail and groups of a person's claims; UnauthorizedError names what is malformed."""
    org_id, sub, email = claims.get("custom:org_id"), claims.get("sub"), claims.get("email")
    bad = []
    if not isinstance(org_id, str) or not _ORG_ID.match(org_id):
        bad.append("custom:org_id")
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_SUB:
        bad.append("sub")
    if email is not None and (not isinstance(email, str) or len(email) > MAX_EMAIL):
        bad.append("email")
    if bad:
        raise UnauthorizedError(f"the caller's claims are malformed ({', '.join(bad)})")
    return str(org_id), str(sub), email, _groups(claims.get("cognito:groups"))


class Principal(NamedTuple):
    """The caller: a person (roles) or an API client (scopes), of exactly one org. Immutable."""

    org_id: str
    actor: str
    roles: frozenset[Role] = frozenset()
    # None for a person; the granted scopes for an API client.
    scopes: frozenset[str] | None = None
    source: Source = Source.API
    email: str | None = None

    @property
    def is_client(self) -> bool:
        return self.scopes is not None

    @property
    def rank(self) -> int:
        return max((_RANK[r] for r in self.roles), default=0)

    def require(self, role: Role) -> Principal:
        if self.rank < _RANK[role]:
            if self.is_client:
                raise ForbiddenError("API clients cannot do this")
            raise ForbiddenError(f"this action needs the {role.value} role")
        return self

    def has(self, role: Role) -> bool:
        return self.rank >= _RANK[role]

    def allow(self, role: Role, scope: str | None) -> Principal:
        """People need `role`; API clients need `scope` (a route without one is closed to them)."""
        if self.scopes is None:
            return self.require(role)
        if scope is None:
            raise ForbiddenError("API clients cannot call this route")
        if scope not in self.scopes:
            raise ForbiddenError(f"this route needs the scope {scope}")
        return self


def _token_use(claims: dict[str, Any]) -> str:
    # Cognito sets token_use on both kinds; a claims dict without it is an ID token's (tests, tools).
    token_use = str(claims.get("token_use") or "id")
    if token_use not in ("id", "access"):
        raise UnauthorizedError("the token is neither an ID nor an access token")
    return token_use


def is_client_token(claims: dict[str, Any], console_client_id: str = "") -> bool:
    """An access token with no person behind it: the client-credentials grant's."""
    if _token_use(claims) != "access" or claims.get("username") or claims.get("cognito:username"):
        return False
    return not (console_client_id and claims.get("client_id") == console_client_id)


def person_source(claims: dict[str, Any], console_client_id: str) -> Source:
    """CONSOLE when the token was issued to the console app client (aud of an ID token, client_id
    of an access token); API for anyone else. Without a known console client nothing is CONSOLE."""
    app_client = claims.get("aud") if _token_use(claims) == "id" else claims.get("client_id")
    return Source.CONSOLE if console_client_id and app_client == console_client_id else Source.API


def person_from_claims(claims: dict[str, Any], console_client_id: str = "") -> Principal:
    if not claims.get("custom:org_id"):
        raise UnauthorizedError("the caller has no organisation claim (custom:org_id)")
    org_id, sub, email, groups = _checked_claims(claims)
    roles = frozenset(Role(g.lower()) for g in groups if g.lower() in Role._value2member_map_)
    return Principal(
        org_id=org_id,
        actor=sub,
        roles=roles,
        email=email,
        source=person_source(claims, console_client_id),
    )


def principal_for_route(
    claims: dict[str, Any] | None, console_client_id: str, role: Role, scope: str | None
) -> Principal:
    """The one identity decision of a request: a person from their claims, holding `role`; an API
    client from the registry (active, within its rate: else 401 / 429), holding `scope`.

    A client on a route without a scope is refused before anything is read, so functions whose
    routes are closed to clients need no rights to the registry."""
    if not claims:
        raise UnauthorizedError("the caller has no verified identity")
    if not is_client_token(claims, console_client_id):
        return person_from_claims(claims, console_client_id).allow(role, scope)
    if scope is None:
        raise ForbiddenError("API clients cannot call this route")
    from goodwill.clients import registry  # only client requests pay for the import

    return registry.client_principal(claims).allow(role, scope)


# ------------------------------------------------------------------ the Lambda authorizer's answer
# On AWS the API's Lambda REQUEST authorizer (goodwill.identity) verifies the token and hands the
# principal to every handler in requestContext.authorizer, as flat strings (all API Gateway passes).
CONTEXT_KIND = "principal"


def principal_context(principal: Principal, exp: int) -> dict[str, str]:
    """The authorizer's context for `principal`, whose token expires at `exp` (epoch seconds)."""
    context = {
        CONTEXT_KIND: "client" if principal.is_client else "person",
        "org_id": principal.org_id,
        "actor": principal.actor,
        "source": principal.source.value,
        "exp": str(exp),
    }
    if principal.scopes is not None:
        context["client_id"] = principal.actor.removeprefix("client:")
        context["scopes"] = " ".join(sorted(principal.scopes))
    else:
        context["roles"] = ",".join(sorted(r.value for r in principal.roles))
        if principal.email:
            context["email"] = principal.email
    return context


def _from_context(context: dict[str, Any]) -> Principal:
    try:
        expired = int(str(context.get("exp"))) <= time.time()
    except ValueError as exc:
        raise UnauthorizedError("the authorizer's answer has no expiry") from exc
    if expired:  # an answer API Gateway cached past the token's life
        raise UnauthorizedError("the token has expired")
    roles = str(context.get("roles") or "").split(",")
    return Principal(
        org_id=str(context["org_id"]),
        actor=str(context["actor"]),
        roles=frozenset(Role(r) for r in roles if r in Role._value2member_map_),
        source=Source(str(context["source"])),
        email=str(context["email"]) if context.get("email") else None,
    )


def principal_for_request(
    authorizer: dict[str, Any] | None, console_client_id: str, role: Role, scope: str | None
) -> Principal:
    """The one identity decision of a request, from what the API's authorizer passed on: the Lambda
    authorizer's principal (deployed, and the local run's bearer tokens), or a person's claims (the
    local run's X-Goodwill-* headers and the tests). An API client is checked against the registry
    on every request (revoked: 401, over its rate: 429), whatever API Gateway cached."""
    if not authorizer:
        raise UnauthorizedError("the caller has no verified identity")
    if authorizer.get("claims"):
        return principal_for_route(authorizer["claims"], console_client_id, role, scope)
    kind = authorizer.get(CONTEXT_KIND)
    if kind not in ("person", "client") or not authorizer.get("org_id") or not authorizer.get("actor"):
        raise UnauthorizedError("the caller has no verified identity")
    principal = _from_context(authorizer)
    if kind == "person":
        return principal.allow(role, scope)
    if scope is None:
        raise ForbiddenError("API clients cannot call this route")
    from goodwill.clients import registry

    client_id = str(authorizer.get("client_id") or "")
    token = {"client_id": client_id, "sub": client_id, "scope": str(authorizer.get("scopes") or "")}
    return registry.client_principal(token).allow(role, scope)
