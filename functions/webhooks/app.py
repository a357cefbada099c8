"""PUT/GET/DELETE /webhooks - an org's endpoints for its domain events (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.models.responses import route_responses
from goodwill.models.webhooks import WebhookPage, WebhookRequest, WebhookResponse
from goodwill.observability import logger, metrics
from goodwill.webhooks import service

app = build_resolver()
WebhookId = Annotated[str, Path(max_length=64)]
TAGS = ["Webhooks"]


@app.put(
    "/webhooks/<webhook_id>",
    summary="Create or replace a webhook",
    description="Role: admin. 201 with the `whsec_` secret when created (shown only then); 200 when replaced.",
    tags=TAGS,
    operation_id="putWebhook",
    responses=route_responses(
        {201: (WebhookResponse, "Created (with its secret)"), 200: (WebhookResponse, "Replaced")},
        body=True,
        ids_in_path=True,
    ),
)
def put_webhook(webhook_id: WebhookId, body: Annotated[WebhookRequest, Body()]) -> Any:
    principal = current_principal(app, Role.ADMIN)
    status, view = service.put(principal, webhook_id, body)
    return json_response(status, view)


@app.get(
    "/webhooks",
    summary="List the org's webhooks",
    description="Role: admin.",
    tags=TAGS,
    operation_id="listWebhooks",
    responses=route_responses({200: (WebhookPage, "Every webhook of the org")}),
)
def list_webhooks() -> Any:
    return json_response(200, service.list_webhooks(current_principal(app, Role.ADMIN)))


@app.get(
    "/webhooks/<webhook_id>",
    summary="A webhook and its latest delivery attempts",
    description="Role: admin. `last_attempts`: newest first (status code, time, error), kept 7 days.",
    tags=TAGS,
    operation_id="getWebhook",
    responses=route_responses({200: (WebhookResponse, "The webhook")}, ids_in_path=True, not_found="no such webhook"),
)
def get_webhook(webhook_id: WebhookId) -> Any:
    return json_response(200, service.get(current_principal(app, Role.ADMIN), webhook_id))


@app.delete(
    "/webhooks/<webhook_id>",
    summary="Delete a webhook",
    description="Role: admin. 200 with the webhook as it was; deliveries still queued for it are dropped.",
    tags=TAGS,
    operation_id="deleteWebhook",
    responses=route_responses(
        {200: (WebhookResponse, "Deleted: the webhook as it was")}, ids_in_path=True, not_found="no such webhook"
    ),
)
def delete_webhook(webhook_id: WebhookId) -> Any:
    return json_response(200, service.delete(current_principal(app, Role.ADMIN), webhook_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
