"""The index items that find a customer by name prefix or by phone.

Written in the same TransactWriteItems as the profile (repositories.customers.replace_profile):
an index entry never outlives or predates the profile state it describes. A profile carries
`search_index` (the index version it was indexed with); one written before the index existed has
none, and its next write (or the backfill) indexes it in full; one indexed by an older version is
moved to the current one the same way (its old entries deleted in the same transaction).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from goodwill.repositories import keys, table
from goodwill.repositories.table import Item

INDEX_VERSION = 2  # 2: the name entries' sort key separates name and id with NAME_ID_SEPARATOR
MARKER = "search_index"
_SEPARATORS = {1: "#", 2: keys.NAME_ID_SEPARATOR}  # each index version's name entries
MIN_PREFIX = 2
# Keeps the sort key far below DynamoDB's 1,024 bytes (4 bytes a character at worst, plus the id).
NAME_KEY_CHARS = 200


def name_key(name: str) -> str:
    """A name as it is indexed and searched: NFKC, case-folded, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())[:NAME_KEY_CHARS]


def shard(key: str) -> str:
    return key[:MIN_PREFIX]


def _entries(org_id: str, profile: Item, version: int = INDEX_VERSION) -> dict[tuple[str, str], Item]:
    cid = profile["customer_id"]
    found: list[Item] = []
    key = name_key(profile.get("name") or "")
    if len(key) >= MIN_PREFIX:
        entry = keys.customer_name_entry(org_id, shard(key), key, cid, _SEPARATORS[version])
        found.append({**entry, "name_key": key})
    if phone := profile.get("phone"):
        found.append(keys.customer_phone_entry(org_id, phone, cid))
    return {(e["PK"], e["SK"]): {**e, "customer_id": cid, "org_id": org_id} for e in found}


def unchanged_condition(profile: Item) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A write's condition that the stored profile is still `profile` as read: its version, and its
    index marker (the backfill marks a profile without changing its version). Names `#v`, `#m`;
    values `:v`, `:was`."""
    marker = profile.get(MARKER)
    names = {"#v": "version", "#m": MARKER}
    if marker is None:
        return "#v = :v AND attribute_not_exists(#m)", names, {":v": profile["version"]}
    return "#v = :v AND #m = :was", names, {":v": profile["version"], ":was": marker}


def ops(org_id: str, profile: Item, previous: Item | None) -> list[dict[str, Any]]:
    """Puts of the entries `profile` needs and deletes of those only `previous` had (as the index
    version it was indexed with wrote them)."""
    version = previous.get(MARKER) if previous is not None else None
    old = _entries(org_id, previous, int(version)) if previous is not None and version in _SEPARATORS else {}
    new = _entries(org_id, profile)
    puts = [table.put_op(entry) for k, entry in new.items() if k not in old]
    deletes = [table.delete_op({"PK": k[0], "SK": k[1]}) for k in old if k not in new]
    return puts + deletes
