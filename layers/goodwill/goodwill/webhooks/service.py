"""PUT/GET/DELETE /webhooks: an org's endpoints (admin)."""

from __future__ import annotations

import re
from typing import Any

from goodwill.auth import Principal
from goodwill.clock import now_iso
from goodwill.errors import NotFoundError, ValidationFailedError
from goodwill.models.vocabulary import ID_PATTERN
from goodwill.models.webhooks import WebhookRequest
from goodwill.repositories import webhook_secrets as secrets
from goodwill.repositories import webhooks as repo
from goodwill.repositories.table import Item
from goodwill.webhooks import signing, urls

SHOWN = ("webhook_id", "url", "event_types", "enabled", "description", "created_at", "updated_at")
ATTEMPT_SHOWN = ("event_id", "event_type", "at", "attempt", "status_code", "error", "outcome", "duration_ms")
MAX_PER_ORG = 20


def view(item: Item) -> dict[str, Any]:
    return {k: item.get(k) for k in SHOWN if k != "description" or item.get(k) is not None}


def _checked_url(url: str) -> str:
    try:
        return urls.check(url)
    except urls.RefusedUrlError as exc:
        raise ValidationFailedError.field("url", str(exc)) from exc


def _require_id(webhook_id: str) -> None:
    if not re.fullmatch(ID_PATTERN, webhook_id):
        raise NotFoundError(f"webhook {webhook_id} not found")


def put(principal: Principal, webhook_id: str, body: WebhookRequest) -> tuple[int, dict[str, Any]]:
    """Create (201, with the secret: the only time it is shown) or replace (200, same secret)."""
    _require_id(webhook_id)
    url = _checked_url(body.url)
    org = principal.org_id
    at = now_iso()
    fields = {"url": url, "event_types": list(body.event_types), "enabled": body.enabled}
    fields["description"] = body.description
    existing = repo.get(org, webhook_id)
    if existing:
        item = secrets.sealed(org, webhook_id, {**existing, **fields, "updated_at": at, "updated_by": principal.actor})
        repo.put(org, item)
        return 200, view(item)
    if len(repo.list_all(org)) >= MAX_PER_ORG:
        raise ValidationFailedError.field("webhook_id", f"an org may have at most {MAX_PER_ORG} webhooks")
    secret = signing.new_secret()
    item = {
        "webhook_id": webhook_id,
        "org_id": org,
        **fields,
        "secret_ciphertext": secrets.encrypt(org, webhook_id, secret),  # never the secret itself
        "created_at": at,
        "updated_at": at,
        "created_by": principal.actor,
    }
    if not repo.create(org, item):  # created by a concurrent PUT a moment ago: replace it
        return put(principal, webhook_id, body)
    return 201, {**view(item), "secret": secret}


def get(principal: Principal, webhook_id: str) -> dict[str, Any]:
    _require_id(webhook_id)
    item = repo.get(principal.org_id, webhook_id)
    if item is None:
        raise NotFoundError(f"webhook {webhook_id} not found")
    attempts = repo.attempts(principal.org_id, webhook_id)
    return {**view(item), "last_attempts": [{k: a.get(k) for k in ATTEMPT_SHOWN} for a in attempts]}


def list_webhooks(principal: Principal) -> dict[str, Any]:
    return {"items": [view(i) for i in repo.list_all(principal.org_id)], "next_token": None}


def delete(principal: Principal, webhook_id: str) -> dict[str, Any]:
    _require_id(webhook_id)
    old = repo.delete(principal.org_id, webhook_id)
    if old is None:
        raise NotFoundError(f"webhook {webhook_id} not found")
    return view(old)
