"""Bulk import records and their chunk checkpoints (DynamoDB only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from goodwill.repositories import keys, pages, table
from goodwill.repositories.table import Item


def get(org_id: str, import_id: str) -> Item | None:
    return table.get(keys.bulk_import(org_id, import_id))


def create(org_id: str, record: Mapping[str, Any]) -> bool:
    """Store a new import record; False when one with its id exists already."""
    op = table.put_op({**keys.bulk_import(org_id, record["import_id"]), **record}, "attribute_not_exists(PK)")
    return table.transact([op]) is None


def update(org_id: str, import_id: str, fields: Mapping[str, Any], expect: Mapping[str, Any]) -> bool:
    """Set `fields` (None removes one) when every attribute in `expect` has its value; False if not."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    sets, removes, checks = [], [], ["attribute_exists(PK)"]
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            vals[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
    for i, (name, value) in enumerate(expect.items()):
        names[f"#e{i}"] = name
        vals[f":e{i}"] = value
        checks.append(f"#e{i} = :e{i}")
    expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
    op = table.update_op(keys.bulk_import(org_id, import_id), expression.strip(), names, vals, " AND ".join(checks))
    return table.transact([op]) is None


def record_ignored_upload(org_id: str, import_id: str, upload: Mapping[str, Any]) -> None:
    """Note an upload that came after the import had its file (never applied): the last one, and how many."""
    shown = {k: v for k, v in upload.items() if v is not None}
    op = table.update_op(
        keys.bulk_import(org_id, import_id),
        "SET last_ignored_upload = :u ADD ignored_uploads :one",
        vals={":u": shown, ":one": 1},
        condition="attribute_exists(PK)",
    )
    table.update_returning(op)


def get_checkpoint(org_id: str, import_id: str, chunk: int) -> Item | None:
    return table.get(keys.import_chunk(org_id, import_id, chunk))


def put_checkpoint(org_id: str, import_id: str, chunk: int, data: Mapping[str, Any]) -> None:
    table.put({**keys.import_chunk(org_id, import_id, chunk), **data})


def checkpoints(org_id: str, import_id: str) -> list[Item]:
    """Every finished chunk of an import, in chunk order."""
    partition = ("PK", keys.bulk_import(org_id, import_id)["PK"])
    found: list[Item] = []
    token: str | None = None
    while True:
        page = pages.query_page(
            partition, sort_prefix=("SK", "CHUNK#"), limit=500, next_token=token, newest_first=False
        )
        found.extend(page.items)
        token = page.next_token
        if not token:
            return found


def batch_get(item_keys: Iterable[Mapping[str, str]], attributes: Sequence[str]) -> dict[tuple[str, str], Item]:
    """The `attributes` of every item found for `item_keys`, by (PK, SK) (table.batch_get_map)."""
    return table.batch_get_map(item_keys, attributes)
