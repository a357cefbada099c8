"""Org configuration: defaults, validation and a short in-memory cache per warm Lambda."""

from __future__ import annotations

import time

from goodwill.models.config import OrgConfig
from goodwill.repositories import orgs
from goodwill.settings import get_settings

_cache: dict[str, tuple[float, OrgConfig]] = {}


def get_config(org_id: str) -> OrgConfig:
    ttl = get_settings().config_cache_seconds
    hit = _cache.get(org_id)
    if hit and time.monotonic() - hit[0] < ttl:
        return hit[1]
    stored = orgs.get_config(org_id)
    config = OrgConfig.model_validate(stored) if stored else OrgConfig()
    _cache[org_id] = (time.monotonic(), config)
    return config


def put_config(org_id: str, config: OrgConfig, actor: str) -> bool:
    created = orgs.put_config(org_id, config.model_dump(mode="json"), actor)
    _cache[org_id] = (time.monotonic(), config)
    return created


def clear_cache() -> None:
    _cache.clear()
    orgs.forget_registrations()
