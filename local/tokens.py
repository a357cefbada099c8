"""The local run's Cognito token endpoint (client-credentials grant) and the API Gateway Cognito
authorizer's check of the tokens it issues.

moto's Cognito keeps the pool's app clients (and their secrets) but has no /oauth2/token: here
`POST /_local/oauth2/token` checks the client's id and secret against moto's Cognito as Cognito
would, and issues an access token shaped like Cognito's (sub, client_id, token_use, scope, iss, exp,
iat, jti), signed HS256 with a key made for this run (Cognito signs RS256 with the pool's keys).
The local API verifies it the way the deployed authorizer verifies Cognito's: the signature, the
expiry, the issuer, an access token of an app client (an `aud`, when present, must name that
client); Goodwill's own identity decision (goodwill/auth.py) then finds the client in its registry.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote

from local.template import REGION

TOKEN_PATH = "/_local/oauth2/token"
TOKEN_SECONDS = 3600
KEY_ID = "goodwill-local"
_KEY = secrets.token_bytes(32)  # per run: tokens of an earlier run are refused

OAuthReply = tuple[int, dict[str, Any]]


def issuer(user_pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], key: bytes | None = None) -> str:
    header = _b64(json.dumps({"alg": "HS256", "kid": KEY_ID, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key or _KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


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


def verify(token: str, user_pool_id: str, now: float | None = None) -> dict[str, Any] | None:
    """The token's claims when API Gateway's Cognito authorizer would let it through, else None."""
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_unb64(header_b64))
        claims = json.loads(_unb64(payload_b64))
        signature = _unb64(signature_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or header.get("kid") != KEY_ID:
        return None
    expected = hmac.new(_KEY, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature) or not isinstance(claims, dict):
        return None
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= (time.time() if now is None else now):
        return None
    if claims.get("iss") != issuer(user_pool_id) or claims.get("token_use") != "access":
        return None
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id or claims.get("aud", client_id) != client_id:
        return None
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}


def _credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str] | None:
    if authorization and authorization[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return unquote(client_id), unquote(secret)
    if form.get("client_id") and form.get("client_secret"):
        return form["client_id"], form["client_secret"]
    return None


def token_endpoint(idp: Any, user_pool_id: str, body: bytes, headers: dict[str, str]) -> OAuthReply:
    """POST /oauth2/token, grant_type=client_credentials, answered as Cognito answers it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if not lowered.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        return 400, {"error": "invalid_request", "error_description": "send application/x-www-form-urlencoded"}
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return 400, {"error": "unsupported_grant_type"}
    credentials = _credentials(form, lowered.get("authorization"))
    if credentials is None:
        return 401, {"error": "invalid_client"}
    client_id, secret = credentials
    try:
        app_client = idp.describe_user_pool_client(UserPoolId=user_pool_id, ClientId=client_id)["UserPoolClient"]
    except idp.exceptions.ResourceNotFoundException:
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
