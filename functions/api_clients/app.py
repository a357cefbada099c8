"""API clients (admin): POST /api-clients creates one (its secret shown once), GET lists them,
DELETE /api-clients/{client_id} revokes one (its tokens refused from the next request on)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.clients import service
from goodwill.clients.models import ApiClientCreatedResponse, ApiClientCreateRequest, ApiClientPage, ApiClientResponse
from goodwill.models.responses import route_responses
from goodwill.observability import logger, metrics

app = build_resolver()

ClientId = Annotated[str, Path(pattern=r"^[\w+]{1,128}$", max_length=128)]


@app.post(
    "/api-clients",
    summary="Create an API client (storefront or service credentials)",
    description=(
        "Role: admin. A Cognito app client with the client-credentials grant and the given scopes; "
        "`client_secret` is shown only in this answer. Get tokens at `token_url`."
    ),
    tags=["API clients"],
    operation_id="createApiClient",
    responses=route_responses({201: (ApiClientCreatedResponse, "Created")}, body=True),
)
def create_client(body: Annotated[ApiClientCreateRequest, Body()]) -> Any:
    created = service.create(current_principal(app, Role.ADMIN), body)
    metrics.add_metric(name="ApiClientsCreated", unit="Count", value=1)
    return json_response(201, created)


@app.get(
    "/api-clients",
    summary="List the org's API clients, newest first",
    description="Role: admin. Revoked clients stay listed, with `revoked_at`.",
    tags=["API clients"],
    operation_id="listApiClients",
    responses=route_responses({200: (ApiClientPage, "A page of API clients")}),
)
def list_clients(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> Any:
    return json_response(200, service.list_clients(current_principal(app, Role.ADMIN), limit, next_token))


@app.delete(
    "/api-clients/<client_id>",
    summary="Revoke an API client",
    description="Role: admin. Its tokens are refused (401) from the next request on; a repeat is harmless.",
    tags=["API clients"],
    operation_id="revokeApiClient",
    responses=route_responses({200: (ApiClientResponse, "Revoked")}, not_found="no such API client", ids_in_path=True),
)
def revoke_client(client_id: ClientId) -> Any:
    return json_response(200, service.revoke(current_principal(app, Role.ADMIN), client_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
