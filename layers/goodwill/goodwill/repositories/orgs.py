"""Org records and configuration items."""

from __future__ import annotations

from typing import Any

from goodwill import retry
from goodwill.clock import now_iso
from goodwill.errors import ServiceUnavailableError
from goodwill.repositories import keys, pages, table


def get_config(org_id: str) -> dict[str, Any] | None:
    item = table.get(keys.config(org_id))
    return item.get("config") if item else None


def put_config(org_id: str, config: dict[str, Any], actor: str) -> bool:
    """Replace the config; True when the org had none before. The ORG item is created or touched
    without a condition: a customer written first (`register`) has created it already, and a
    conditional create then cancelled the whole save. Raises ServiceUnavailableError (503) when a
    concurrent save holds the items for every try: never an answer without the write."""
    existed = table.get(keys.config(org_id)) is not None
    for _ in retry.attempts():
        stamp = now_iso()
        cancelled = table.transact(
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
                table.update_op(
                    keys.org(org_id),
                    "SET org_id = :org, created_at = if_not_exists(created_at, :t), updated_at = :t,"
                    " GSI1PK = :l, GSI1SK = :o",
                    vals={":org": org_id, ":t": stamp, **_listed_vals(org_id)},
                ),
            ]
        )
        if cancelled is None:
            return not existed
        if not cancelled.retryable:
            raise cancelled.refused()
    raise ServiceUnavailableError("the configuration is being saved concurrently; retry")


def org_exists(org_id: str) -> bool:
    return table.get(keys.org(org_id)) is not None


_registered: set[str] = set()


def register(org_id: str) -> None:
    """Make sure the org is registered (direct uploads are taken only for registered orgs): a read
    once per org and process, a conditional put only for a new org. Never part of a per-customer
    transaction: concurrent transactions on the one ORG item would cancel each other."""
    if org_id in _registered:
        return
    found = table.get(keys.org(org_id), consistent=False)
    if found is None:
        item = {**keys.org(org_id), **_listed(org_id), "org_id": org_id, "created_at": now_iso()}
        table.transact([table.put_op(item, "attribute_not_exists(PK)")])  # lost race: registered already
    elif "GSI1PK" not in found:  # registered by an earlier version: list it for the reconciler
        table.transact([table.update_op(keys.org(org_id), "SET GSI1PK = :l, GSI1SK = :o", vals=_listed_vals(org_id))])
    _registered.add(org_id)


def _listed(org_id: str) -> dict[str, str]:
    return {"GSI1PK": keys.org_list(), "GSI1SK": org_id}


def _listed_vals(org_id: str) -> dict[str, str]:
    return {":l": keys.org_list(), ":o": org_id}


def list_orgs() -> list[str]:
    """Every registered org, from the GSI1 listing of ORG items (never a Scan)."""
    found: list[str] = []
    token: str | None = None
    while True:
        page = pages.query_page(
            ("GSI1PK", keys.org_list()), index="GSI1", limit=500, next_token=token, newest_first=False
        )
        found.extend(str(i["org_id"]) for i in page.items)
        token = page.next_token
        if not token:
            return found


def forget_registrations() -> None:
    """Tests and the local run start over with an empty table."""
    _registered.clear()
