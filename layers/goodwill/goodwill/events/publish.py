"""Publish the events of a batch of stream records, in order, each once where possible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from goodwill.clock import parse_iso
from goodwill.events.shapes import SOURCE, Event
from goodwill.jsonutil import dumps
from goodwill.repositories import bus
from goodwill.settings import get_settings


@dataclass(frozen=True)
class Published:
    events: list[Event]
    failed: set[int]  # indices into the records of the events that could not be published


def entry(event: Event) -> dict[str, object]:
    return {
        "Source": SOURCE,
        "DetailType": event.detail_type,
        "Detail": dumps(event.detail),
        "EventBusName": get_settings().event_bus_name,
        "Time": parse_iso(str(event.detail["occurred_at"])),
    }


def publish(per_record: Sequence[list[Event]]) -> Published:
    """Publish every record's events; `failed` holds the records one of whose events failed."""
    owners = [i for i, events in enumerate(per_record) for _ in events]
    flat = [e for events in per_record for e in events]
    if not flat or not get_settings().event_bus_name:
        return Published(flat, set())
    failed = bus.put([entry(e) for e in flat])
    return Published(flat, {owners[i] for i in failed})
