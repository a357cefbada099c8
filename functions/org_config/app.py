"""GET/PUT /config - the org's goodwill configuration (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from goodwill.api import json_response
from goodwill.auth import Role
from goodwill.handler import Api, Body
from goodwill.models.config import OrgConfig
from goodwill.services import config

app = Api("Configuration")


@app.endpoint("GET /config", {200: (OrgConfig, "The configuration")})
def get_config() -> Any:
    """Read the org's configuration

    Role: admin. Keys never set show their defaults."""
    principal = app.caller(Role.ADMIN)
    return json_response(200, config.get_config(principal.org_id).model_dump(mode="json"))


@app.endpoint("PUT /config", {200: (OrgConfig, "The configuration as stored")})
def put_config(body: Annotated[OrgConfig, Body()]) -> Any:
    """Replace the org's configuration

    Role: admin. A full replace: keys left out take their defaults. Templates are checked here."""
    principal = app.caller(Role.ADMIN)
    config.put_config(principal.org_id, body, principal.actor)
    return json_response(200, body.model_dump(mode="json"))


lambda_handler = app.entry_point()
