"""The index items that find a customer by name prefix or by phone.

Written in the same TransactWriteItems as the profile (repositories.customers.replace_profile):
an index entry never outlives or predates the profile state it describes. A profile carries
`search_index` (the index version it was indexed with); one written before the index existed has
none, and its next write (or the backfill) indexes it in full.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

INDEX_VERSION = 1
MARKER = "search_index"
MIN_PREFIX = 2
# Keeps the sort key far below DynamoDB's 1,024 bytes (4 bytes a character at worst, plus the id).
NAME_KEY_CHARS = 200


def name_key(name: str) -> str:
    """A name as it is indexed and searched: NFKC, case-folded, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())[:NAME_KEY_CHARS]


def shard(key: str) -> str:
    return key[:MIN_PREFIX]


def _entries(org_id: str, profile: Item) -> dict[tuple[str, str], Item]:
    cid = profile["customer_id"]
    found: list[Item] = []
    key = name_key(profile.get("name") or "")
    if len(key) >= MIN_PREFIX:
        found.append({**keys.customer_name_entry(org_id, shard(key), key, cid), "name_key": key})
    if phone := profile.get("phone"):
        found.append(keys.customer_phone_entry(org_id, phone, cid))
    return {(e["PK"], e["SK"]): {**e, "customer_id": cid, "org_id": org_id} for e in found}


def ops(org_id: str, profile: Item, previous: Item | None) -> list[dict[str, Any]]:
    """Puts of the entries `profile` needs and deletes of those only `previous` had."""
    indexed = previous is not None and previous.get(MARKER) == INDEX_VERSION
    old = _entries(org_id, previous) if previous is not None and indexed else {}
    new = _entries(org_id, profile)
    puts = [table.put_op(entry) for k, entry in new.items() if k not in old]
    deletes = [table.delete_op({"PK": k[0], "SK": k[1]}) for k in old if k not in new]
    return puts + deletes
