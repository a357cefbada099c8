"""`Goodwill-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Goodwill-Signature"
PREFIX = "whsec_"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    at = int(time.time()) if timestamp is None else timestamp
    return f"t={at},v1={signature(secret, at, body)}"


def verify(secret: str, body: bytes, value: str, now: float | None = None) -> bool:
    """What a receiver does (README shows the same in a few lines): check the HMAC and the age."""
    parts = dict(p.split("=", 1) for p in value.split(",") if "=" in p)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    fresh = abs((time.time() if now is None else now) - at) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(signature(secret, at, body), parts.get("v1", ""))
