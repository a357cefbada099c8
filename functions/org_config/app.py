"""GET/PUT /config - the org's goodwill configuration (admin); GET /config/reasons (agent)."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.handler import Api, Body
from goodwill.models.config import OrgConfig, ReasonPage
from goodwill.services import config

app = Api("Configuration")


@app.endpoint("GET /config", {200: (OrgConfig, "The configuration")}, role=Role.ADMIN)
def get_config() -> Any:
    """Read the org's configuration

    Role: admin. Keys never set show their defaults."""
    principal = app.caller()
    return json_response(200, config.get_config(principal.org_id).model_dump(mode="json"))


@app.endpoint("GET /config/reasons", {200: (ReasonPage, "The org's reasons")}, role=Role.AGENT)
def list_reasons() -> Any:
    """List the org's reason codes

    Role: agent. The codes a goodwill request, reversal or import row may carry, with their
    labels, in the org's order (the defaults when it set none): what the console offers."""
    reasons = config.get_config(app.caller().org_id).reasons
    return json_response(200, {"items": [r.model_dump(mode="json") for r in reasons], "next_token": None})


@app.endpoint("PUT /config", {200: (OrgConfig, "The configuration as stored")}, role=Role.ADMIN)
def put_config(body: Annotated[OrgConfig, Body()]) -> Any:
    """Replace the org's configuration

    Role: admin. A full replace: keys left out take their defaults. Templates are checked here."""
    principal = app.caller()
    config.put_config(principal.org_id, body, principal.actor)
    return json_response(200, body.model_dump(mode="json"))


lambda_handler = app.entry_point()
