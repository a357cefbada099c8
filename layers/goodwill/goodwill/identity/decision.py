"""A verified token -> the caller's principal, as the authorizer's answer to API Gateway.

People: org, actor, roles and source from their ID token (auth.person_from_claims). API clients:
the org of their registry entry (an unknown or revoked client is 401 here already), their scopes
those of the token that the registry still grants. The answer allows the whole API (API Gateway
caches it per token for every method): each handler still checks the route's role or scope, the
client's revocation and rate (auth.principal_for_request), so a cached answer never outlives a
revocation; nor a token's expiry, which travels in the context and is checked again.
"""

from __future__ import annotations

from dataclasses import dataclass

from goodwill import auth
from goodwill.auth import Principal
from goodwill.clients import registry
from goodwill.errors import UnauthorizedError
from goodwill.identity import tokens
from goodwill.models.vocabulary import Source
from goodwill.settings import get_settings


@dataclass(frozen=True)
class Decision:
    principal_id: str
    context: dict[str, str]


def bearer_token(authorization: str | None) -> str:
    """`Bearer <token>`, or the token alone (as API Gateway's Cognito authorizer also takes it)."""
    scheme, _, rest = (authorization or "").strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else scheme
    if not token:
        raise UnauthorizedError("no token in the Authorization header")
    return token


def decide(authorization: str | None) -> Decision:
    """Who calls with this Authorization header; UnauthorizedError when nobody we know does."""
    claims = tokens.verify(bearer_token(authorization))
    console_client_id = get_settings().console_client_id
    principal = (
        _client(claims)
        if auth.is_client_token(claims, console_client_id)
        else auth.person_from_claims(claims, console_client_id)
    )
    return Decision(principal.actor, auth.principal_context(principal, int(claims["exp"])))


def _client(claims: dict[str, object]) -> Principal:
    client_id = str(claims.get("client_id") or "")
    if claims.get("sub", client_id) != client_id:
        raise UnauthorizedError("the token names no API client")
    entry = registry.active(client_id)
    granted = frozenset(str(claims.get("scope") or "").split()) & entry.scopes
    return Principal(org_id=entry.org_id, actor=f"client:{client_id}", scopes=granted, source=Source.API)
