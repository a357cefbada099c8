"""Org records and configuration items."""

from __future__ import annotations

from typing import Any

from goodwill.clock import now_iso
from goodwill.repositories import keys, table


def get_config(org_id: str) -> dict[str, Any] | None:
    item = table.get(keys.config(org_id))
    return item.get("config") if item else None


def put_config(org_id: str, config: dict[str, Any], actor: str) -> bool:
    """Replace the config; True when the org had none before."""
    existed = table.get(keys.config(org_id)) is not None
    stamp = now_iso()
    table.transact(
        [
            table.put_op(
                {
                    **keys.config(org_id),
                    "org_id": org_id,
                    "config": config,
                    "updated_by": actor,
                    "updated_at": stamp,
                }
            ),
            table.put_op(
                {**keys.org(org_id), "org_id": org_id, "created_at": stamp},
                condition="attribute_not_exists(PK)",
            )
            if not existed
            else table.update_op(keys.org(org_id), "SET updated_at = :t", vals={":t": stamp}),
        ]
    )
    return not existed


def org_exists(org_id: str) -> bool:
    return table.get(keys.org(org_id)) is not None


def org_marker_op(org_id: str) -> dict[str, Any]:
    """Make sure the org is registered, as part of another transaction (idempotent)."""
    return table.update_op(
        keys.org(org_id),
        "SET org_id = :o, created_at = if_not_exists(created_at, :t)",
        vals={":o": org_id, ":t": now_iso()},
    )
