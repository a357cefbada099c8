"""A Cognito token, verified as API Gateway's Cognito authorizer verifies one, for both kinds:
RS256 signature by a key of the pool's JWKS, `iss` the pool, not expired (nor issued in the
future, beyond a minute of clock skew), `token_use` id or access; an ID token's `aud` an app
client for people (the console's), an access token's `client_id` an app client (whether it is a
registered API client is decision.py's question)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from goodwill.errors import UnauthorizedError
from goodwill.identity import jwks
from goodwill.settings import get_settings

ALGORITHMS = ["RS256"]  # Cognito's; never a symmetric one (a public key is no secret)
# Cognito's clock and this function's are two clocks, and `iat` is whole seconds: a token used the
# second it is issued may carry an `iat` one second ahead of ours. `iat` (and `nbf`) may be this far
# ahead; `exp` is exact (checked again below without the allowance).
CLOCK_SKEW_SECONDS = 60


def _header(token: str) -> dict[str, Any]:
    try:
        encoded = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise UnauthorizedError("the token is not a JWT") from exc
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS or not isinstance(header.get("kid"), str):
        raise UnauthorizedError("the token is not signed the way Cognito signs")
    return header


def verify(token: str, now: int | None = None) -> dict[str, Any]:
    """The token's claims, or UnauthorizedError (API Gateway's 401) naming what failed."""
    if token.count(".") != 2 or len(token) > 8192:
        raise UnauthorizedError("the token is not a JWT")
    settings = get_settings()
    header = _header(token)
    now = int(time.time()) if now is None else now
    try:
        decoded = jwt.decode(token, jwks.key_set(header["kid"]), algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=now,
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": jwks.issuer(settings.user_pool_id)},
            exp={"essential": True},
            sub={"essential": True},
            token_use={"essential": True, "values": ["id", "access"]},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise UnauthorizedError(f"the token was refused: {type(exc).__name__}") from exc
    claims = dict(decoded.claims)
    if claims["exp"] <= now:  # a number: the registry checked it
        raise UnauthorizedError("the token was refused: ExpiredTokenError")
    audiences = {settings.console_client_id, *settings.person_app_client_ids.split(",")} - {""}
    _check_audience(claims, audiences if settings.console_client_id else None)
    return claims


def _check_audience(claims: dict[str, Any], audiences: set[str] | None) -> None:
    if claims["token_use"] == "id":
        # Without a known console app client (a pool the stack did not create, no ConsoleClientId)
        # any app client of the pool may have signed the person in.
        if not isinstance(claims.get("aud"), str) or (audiences is not None and claims["aud"] not in audiences):
            raise UnauthorizedError("the ID token was issued to another app client")
        return
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id or claims.get("aud", client_id) != client_id:
        raise UnauthorizedError("the access token names no app client")
