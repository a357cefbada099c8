"""Org configuration: defaults, validation and a short in-memory cache per warm Lambda."""

from __future__ import annotations

import time
from typing import Any

from goodwill.models.config import UPPER_BOUNDS, OrgConfig
from goodwill.repositories import orgs
from goodwill.settings import get_settings

_cache: dict[str, tuple[float, OrgConfig]] = {}


def get_config(org_id: str) -> OrgConfig:
    ttl = get_settings().config_cache_seconds
    hit = _cache.get(org_id)
    if hit and time.monotonic() - hit[0] < ttl:
        return hit[1]
    stored = orgs.get_config(org_id)
    config = OrgConfig.model_validate(_within_bounds(stored)) if stored else OrgConfig()
    _cache[org_id] = (time.monotonic(), config)
    return config


def _within_bounds(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored config as the model reads it: a points rule saved before its upper bound existed
    (PUT /config refuses it since) is read as the bound, never a 500 on every route of the org."""
    points = stored.get("points")
    if not isinstance(points, dict):
        return stored
    over = {
        name: bound
        for name, bound in UPPER_BOUNDS.items()
        if isinstance(points.get(name), int) and not isinstance(points[name], bool) and points[name] > bound
    }
    return {**stored, "points": {**points, **over}} if over else stored


def put_config(org_id: str, config: OrgConfig, actor: str) -> bool:
    created = orgs.put_config(org_id, config.model_dump(mode="json"), actor)
    _cache[org_id] = (time.monotonic(), config)
    return created


def clear_cache() -> None:
    _cache.clear()
    orgs.forget_registrations()
