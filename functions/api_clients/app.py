"""API clients (admin): POST /api-clients creates one (its secret shown once), GET lists them,
DELETE /api-clients/{client_id} revokes one (its tokens refused from the next request on)."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.clients import service
from goodwill.clients.models import ApiClientCreatedResponse, ApiClientCreateRequest, ApiClientPage, ApiClientResponse
from goodwill.handler import Api, Body, NextToken, PageLimit, Path, count

app = Api("API clients")
ClientId = Annotated[str, Path(pattern=r"^[\w+]{1,128}$", max_length=128)]


@app.endpoint(
    "POST /api-clients",
    {201: (ApiClientCreatedResponse, "Created")},
    conflict="CONFLICT: the user pool holds as many app clients as its Cognito quota allows",
    role=Role.ADMIN,
)
def create_api_client(body: Annotated[ApiClientCreateRequest, Body()]) -> Any:
    """Create an API client (storefront or service credentials)

    Role: admin. A Cognito app client with the client-credentials grant and the given scopes;
    `client_secret` is shown only in this answer. Get tokens at `token_url`."""
    created = service.create(app.caller(), body)
    count("ApiClientsCreated")
    return json_response(201, created)


@app.endpoint("GET /api-clients", {200: (ApiClientPage, "A page of API clients")}, role=Role.ADMIN)
def list_api_clients(limit: PageLimit = 25, next_token: NextToken = None) -> Any:
    """List the org's API clients, newest first

    Role: admin. Revoked clients stay listed, with `revoked_at`."""
    return json_response(200, service.list_clients(app.caller(), limit, next_token))


@app.endpoint(
    "DELETE /api-clients/<client_id>",
    {200: (ApiClientResponse, "Revoked")},
    not_found="no such API client",
    role=Role.ADMIN,
)
def revoke_api_client(client_id: ClientId) -> Any:
    """Revoke an API client

    Role: admin. Its tokens are refused (401) from the next request on; a repeat is harmless."""
    return json_response(200, service.revoke(app.caller(), client_id))


lambda_handler = app.entry_point()
