"""PUT/GET/DELETE /webhooks - an org's endpoints for its domain events (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.handler import Api, Body, Path, PathId
from goodwill.models.webhooks import WebhookPage, WebhookRequest, WebhookResponse
from goodwill.webhooks import service

app = Api("Webhooks")
# A new webhook's id is an id like any other (PathId: letters, digits, `_.:@-`); reading and
# deleting take any id of up to 64 characters, so a webhook made before that rule stays reachable.
WebhookId = Annotated[str, Path(max_length=64)]


@app.endpoint(
    "PUT /webhooks/<webhook_id>",
    {201: (WebhookResponse, "Created (with its secret)"), 200: (WebhookResponse, "Replaced")},
    role=Role.ADMIN,
)
def put_webhook(webhook_id: PathId, body: Annotated[WebhookRequest, Body()]) -> Any:
    """Create or replace a webhook

    Role: admin. 201 with the `whsec_` secret when created (shown only then); 200 when replaced."""
    status, view = service.put(app.caller(), webhook_id, body)
    return json_response(status, view)


@app.endpoint("GET /webhooks", {200: (WebhookPage, "Every webhook of the org")}, role=Role.ADMIN)
def list_webhooks() -> Any:
    """List the org's webhooks

    Role: admin."""
    return json_response(200, service.list_webhooks(app.caller()))


@app.endpoint(
    "GET /webhooks/<webhook_id>", {200: (WebhookResponse, "The webhook")}, not_found="no such webhook", role=Role.ADMIN
)
def get_webhook(webhook_id: WebhookId) -> Any:
    """A webhook and its latest delivery attempts

    Role: admin. `last_attempts`: newest first (status code, time, error), kept 7 days."""
    return json_response(200, service.get(app.caller(), webhook_id))


@app.endpoint(
    "DELETE /webhooks/<webhook_id>",
    {200: (WebhookResponse, "Deleted: the webhook as it was")},
    not_found="no such webhook",
    role=Role.ADMIN,
)
def delete_webhook(webhook_id: WebhookId) -> Any:
    """Delete a webhook

    Role: admin. 200 with the webhook as it was; deliveries still queued for it are dropped."""
    return json_response(200, service.delete(app.caller(), webhook_id))


lambda_handler = app.entry_point()
