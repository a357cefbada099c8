"""One batch of table stream records: publish its events, then report what must be retried.

The event source retries a stream from the lowest sequence number reported: every record from
the first one that failed is reported, so the records before it are never sent again and the
ones after it are sent again only with the same event ids (consumers drop duplicates by id).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from goodwill.events import publish
from goodwill.events.shapes import Event, events_of
from goodwill.observability import logger
from goodwill.reports import aggregates
from goodwill.repositories.table import Item, deserialize


def parse(record: Mapping[str, Any]) -> tuple[Item, Item | None, Item | None] | None:
    """(key, old image, new image) of one stream record; None for a record that is not an item change."""
    change = record.get("dynamodb")
    if not isinstance(change, Mapping) or not isinstance(change.get("Keys"), Mapping):
        return None
    try:
        key = deserialize(change["Keys"])
        old = deserialize(change["OldImage"]) if change.get("OldImage") else None
        new = deserialize(change["NewImage"]) if change.get("NewImage") else None
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    if not isinstance(key.get("PK"), str) or not isinstance(key.get("SK"), str):
        return None
    return key, old, new


def events_of_records(records: Sequence[Mapping[str, Any]]) -> list[list[Event]]:
    found: list[list[Event]] = []
    for record in records:
        parsed = parse(record)
        if parsed is None:
            logger.warning("stream record without an item change skipped", extra={"event_id": record.get("eventID")})
            found.append([])
            continue
        try:
            found.append(events_of(*parsed))
        except (KeyError, TypeError, ValueError, IndexError):
            # An item this code cannot read (written by hand, or by a later version) is skipped,
            # not retried for 24 hours: it would hold back its whole shard.
            logger.exception("stream record of an unreadable item skipped", extra={"sk": parsed[0]["SK"]})
            found.append([])
    return found


def failures(records: Sequence[Mapping[str, Any]], failed: set[int]) -> dict[str, Any]:
    if not failed:
        return {"batchItemFailures": []}
    first = min(failed)
    ids = [str((r.get("dynamodb") or {}).get("SequenceNumber", "")) for r in records[first:]]
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


def count(records: Sequence[Mapping[str, Any]]) -> set[int]:
    """Add the records' changes to the report aggregates; the records whose counts failed."""
    counts: list[tuple[int, aggregates.Count]] = []
    for i, record in enumerate(records):
        parsed = parse(record)
        try:
            found = aggregates.count_of(*parsed) if parsed else None
        except (KeyError, TypeError, ValueError):
            logger.exception("stream record of an unreadable item not counted")
            continue
        if found:
            counts.append((i, found))
    if not counts:
        return set()
    try:
        aggregates.apply([c for _, c in counts])
    except (ClientError, RuntimeError):
        # Counted changes are marked: the retry adds only what this attempt did not.
        logger.exception("report aggregates not written; the records will be retried")
        return {i for i, _ in counts}
    return set()


def handle(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    per_record = events_of_records(records)
    published = publish.publish(per_record)
    if published.failed:
        logger.warning("events not published; their records will be retried", extra={"records": len(published.failed)})
    return failures(records, published.failed | count(records))
