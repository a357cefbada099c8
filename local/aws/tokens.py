"""The local run's Cognito token endpoint (client-credentials grant) and the user pool's signing keys.

moto's Cognito keeps the pool's app clients (and their secrets) but has no /oauth2/token: here
`POST /_local/oauth2/token` checks the client's id and secret against moto's Cognito as Cognito
would, and issues an access token shaped like Cognito's (sub, client_id, token_use, scope, iss, exp,
iat, jti), signed RS256 as Cognito signs, with an RSA key made for this run. The key's public half
is the pool's JWKS (a file, `jwks_url()`), which the API's Lambda authorizer (functions/authorizer,
goodwill.identity) is pointed at: the local API verifies these tokens with the deployed code.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from botocore.exceptions import ParamValidationError
from joserfc import jwt
from joserfc.jwk import RSAKey

from local.aws.template import REGION

TOKEN_PATH = "/_local/oauth2/token"
JWKS_PATH = "/_local/.well-known/jwks.json"
TOKEN_SECONDS = 3600
KEY_ID = "goodwill-local"

OAuthReply = tuple[int, dict[str, Any]]


def issuer(user_pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key(kid: str = KEY_ID) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


@functools.cache
def signing_key() -> RSAKey:
    """This run's key: tokens of an earlier run are refused."""
    return new_key()


def jwks() -> dict[str, Any]:
    return {"keys": [signing_key().as_dict(private=False)]}


@functools.cache
def jwks_url() -> str:
    """A file:// address of this run's JWKS (the authorizer's JWKS_URL in the local run)."""
    path = Path(tempfile.mkdtemp(prefix="goodwill-jwks-")) / "jwks.json"
    path.write_text(json.dumps(jwks()))
    return path.as_uri()


def sign(claims: dict[str, Any], key: RSAKey | None = None) -> str:
    used = key or signing_key()
    return jwt.encode({"alg": "RS256", "kid": used.kid or KEY_ID}, claims, used, algorithms=["RS256"])


def access_token_claims(client_id: str, scopes: list[str], user_pool_id: str, now: int | None = None) -> dict[str, Any]:
    at = int(time.time()) if now is None else now
    return {
        "sub": client_id,
        "client_id": client_id,
        "token_use": "access",
        "scope": " ".join(scopes),
        "auth_time": at,
        "iss": issuer(user_pool_id),
        "exp": at + TOKEN_SECONDS,
        "iat": at,
        "jti": str(uuid.uuid4()),
        "version": 2,
    }


def id_token_claims(
    person: dict[str, str], console_client_id: str, user_pool_id: str, now: int | None = None
) -> dict[str, Any]:
    """A person's ID token as Cognito issues it to the console app client (claims of section 1)."""
    at = int(time.time()) if now is None else now
    return {
        **person,
        "aud": console_client_id,
        "token_use": "id",
        "cognito:username": person.get("sub", ""),
        "auth_time": at,
        "iss": issuer(user_pool_id),
        "exp": at + TOKEN_SECONDS,
        "iat": at,
        "jti": str(uuid.uuid4()),
    }


def _credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str] | None:
    if authorization and authorization[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        client_id, secret = unquote(client_id), unquote(secret)
        return (client_id, secret) if client_id and secret else None
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


def token_endpoint(idp: Any, user_pool_id: str, body: bytes, headers: dict[str, str]) -> OAuthReply:
    """POST /oauth2/token, grant_type=client_credentials, answered as Cognito answers it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if not lowered.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        return 400, {"error": "invalid_request", "error_description": "send application/x-www-form-urlencoded"}
    try:  # bytes that are not UTF-8, sent raw or %-encoded: refused, not read as U+FFFD
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), errors="strict").items()}
    except UnicodeDecodeError:
        return 400, {"error": "invalid_request", "error_description": "the form is not UTF-8"}
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    credentials = _credentials(form, lowered.get("authorization"))
    if credentials is None:
        return 401, {"error": "invalid_client"}
    client_id, secret = credentials
    try:
        app_client = idp.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"]
    except (idp.exceptions.ResourceNotFoundException, ParamValidationError):  # an id Cognito cannot hold
        return 401, {"error": "invalid_client"}
    if not hmac.compare_digest(str(app_client.get("ClientSecret", "")).encode(), secret.encode()):
        return 401, {"error": "invalid_client"}
    if "client_credentials" not in app_client.get("AllowedOAuthFlows", []):
        return 400, {"error": "unauthorized_client"}
    allowed = list(app_client.get("AllowedOAuthScopes", []))
    wanted = form["scope"].split() if form.get("scope") else allowed
    if not wanted or not set(wanted) <= set(allowed):
        return 400, {"error": "invalid_scope"}
    token = sign(access_token_claims(client_id, wanted, user_pool_id))
    return 200, {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS}
