"""GET/PUT /config - the org's goodwill configuration (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from goodwill.api import build_resolver, current_principal, json_response, resolve
from goodwill.auth import Role
from goodwill.models.config import OrgConfig
from goodwill.models.responses import route_responses
from goodwill.observability import logger, metrics
from goodwill.services import config

app = build_resolver()


@app.get(
    "/config",
    summary="Read the org's configuration",
    description="Role: admin. Keys never set show their defaults.",
    tags=["Configuration"],
    operation_id="getConfig",
    responses=route_responses({200: (OrgConfig, "The configuration")}),
)
def get_config() -> Any:
    principal = current_principal(app, Role.ADMIN)
    return json_response(200, config.get_config(principal.org_id).model_dump(mode="json"))


@app.put(
    "/config",
    summary="Replace the org's configuration",
    description="Role: admin. A full replace: keys left out take their defaults. Templates are checked here.",
    tags=["Configuration"],
    operation_id="putConfig",
    responses=route_responses({200: (OrgConfig, "The configuration as stored")}, body=True),
)
def put_config(body: Annotated[OrgConfig, Body()]) -> Any:
    principal = current_principal(app, Role.ADMIN)
    config.put_config(principal.org_id, body, principal.actor)
    return json_response(200, body.model_dump(mode="json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
