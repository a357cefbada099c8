"""Client id -> the API client's org and scopes."""

from __future__ import annotations

from typing import Any

from goodwill.auth import Principal
from goodwill.errors import UnauthorizedError


def client_principal(claims: dict[str, Any]) -> Principal:
    raise UnauthorizedError("unknown API client")
