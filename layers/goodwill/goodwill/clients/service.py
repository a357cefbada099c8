"""Creating, listing and revoking API clients (admin).

A client is a Cognito app client of the stack's user pool (client-credentials grant, scopes of the
resource server `goodwill`); Goodwill keeps the registry item mapping it to its org and its window
item (goodwill.clients.rate), never its secret. Revoking deletes the window item first, so the
client's tokens are refused from the next request on, then deletes the app client so Cognito
issues no more tokens.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from goodwill.auth import Principal
from goodwill.clients import registry
from goodwill.clients.models import ApiClientCreateRequest
from goodwill.clock import now_iso
from goodwill.errors import NotFoundError, ServiceUnavailableError
from goodwill.observability import logger
from goodwill.repositories import app_clients, keys, pages, table
from goodwill.settings import get_settings

ACCESS_TOKEN_MINUTES = 60
_VIEW_FIELDS = (
    "client_id",
    "name",
    "scopes",
    "rate_limit_per_second",
    "status",
    "created_at",
    "created_by",
    "revoked_at",
    "revoked_by",
)


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in _VIEW_FIELDS if k in item}


def _app_client_name(org_id: str) -> str:
    # Cognito names allow [\w\s+=,.@-]; the admin's free-text name stays in the registry only.
    return re.sub(r"[^\w+=,.@-]", "-", f"goodwill-api-{org_id}")[:128]


def create(principal: Principal, body: ApiClientCreateRequest) -> dict[str, Any]:
    settings = get_settings()
    scopes = [s.value for s in body.scopes]
    client_id, secret = app_clients.create(_app_client_name(principal.org_id), scopes, ACCESS_TOKEN_MINUTES)
    at = now_iso()
    item = {
        **keys.api_client(client_id),
        "client_id": client_id,
        "org_id": principal.org_id,
        "name": body.name,
        "scopes": scopes,
        "rate_limit_per_second": body.rate_limit_per_second,
        "status": registry.ACTIVE,
        "created_at": at,
        "created_by": principal.actor,
        "GSI1PK": keys.api_clients_by_org(principal.org_id),
        "GSI1SK": f"{at}#{client_id}",
    }
    window = {**keys.api_client_rate(client_id), "win": 0, "hits": 0}
    try:
        cancelled = table.transact(
            [table.put_op(item, "attribute_not_exists(PK)"), table.put_op(window, "attribute_not_exists(PK)")]
        )
    except ClientError:
        app_clients.delete(client_id)  # no registry item: no app client left behind either
        raise
    if cancelled is not None:
        app_clients.delete(client_id)
        raise ServiceUnavailableError("the client could not be registered, retry")
    logger.info("API client created", extra={"client_id": client_id, "scopes": scopes})
    return {**view(item), "client_secret": secret, "token_url": settings.token_url}


def list_clients(principal: Principal, limit: int, next_token: str | None) -> dict[str, Any]:
    page = pages.query_page(
        ("GSI1PK", keys.api_clients_by_org(principal.org_id)), index="GSI1", limit=limit, next_token=next_token
    )
    return {"items": [view(i) for i in page.items], "next_token": page.next_token}


def revoke(principal: Principal, client_id: str) -> dict[str, Any]:
    item = table.get(keys.api_client(client_id))
    if item is None or item.get("org_id") != principal.org_id:
        raise NotFoundError("no such API client")
    if item.get("status") != registry.REVOKED:
        fields = {"status": registry.REVOKED, "revoked_at": now_iso(), "revoked_by": principal.actor}
        update = table.update_op(
            keys.api_client(client_id),
            "SET #s = :s, revoked_at = :at, revoked_by = :by",
            names={"#s": "status"},
            vals={":s": fields["status"], ":at": fields["revoked_at"], ":by": fields["revoked_by"]},
        )
        if table.transact([update, table.delete_op(keys.api_client_rate(client_id))]) is not None:
            raise ServiceUnavailableError("the client could not be revoked, retry")
        item.update(fields)
    registry.forget(client_id)
    # A repeat of the DELETE finishes what a failed one started.
    app_clients.delete(client_id)
    logger.info("API client revoked", extra={"client_id": client_id})
    return view(item)
