"""Telling the actor that an import ended: the import events topic, and an e-mail when the actor's
address is known. A message that cannot be sent is logged; it never changes the import's outcome."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from goodwill.clock import now_iso
from goodwill.links import console_link
from goodwill.observability import logger, mask_email
from goodwill.repositories import imports_records, messages
from goodwill.repositories.table import Item
from goodwill.settings import get_settings

EVENT = "BULK_IMPORT_FINISHED"


REVERT_ENDS = frozenset({"REVERTED", "REVERTED_WITH_ERRORS"})


def _ended_at(record: Item) -> Any:
    """When this ending happened: a revert's end, or the import's."""
    return record.get("reverted_at") if record.get("status") in REVERT_ENDS else record.get("finished_at")


def summary(record: Item) -> str:
    totals = record.get("totals") or {}
    how = f"program {record['program_id']}, mode {record['mode']}" + (", dry run" if record.get("dry_run") else "")
    if record.get("status") in REVERT_ENDS:
        done = record.get("revert_totals") or {}
        counts = ", ".join(f"{k}: {done.get(k, 0)}" for k in ("reversed", "failed", "skipped"))
        return f"The revert of bulk import {record['import_id']} ({how}) ended {record['status']}. " + (
            f"Rows the import applied: {done.get('rows', 0)}, {counts}."
        )
    text = (
        f"Bulk import {record['import_id']} ({how}) ended {record['status']}. "
        f"Rows: {totals.get('rows', 0)}, applied: {totals.get('applied', 0)}, failed: {totals.get('failed', 0)}"
    )
    if record.get("dry_run"):
        text += f", valid: {totals.get('valid', 0)}"
    text += "."
    if record.get("error"):
        text += f" Error: {record['error']}"
    return text


def message(record: Item) -> dict[str, Any]:
    totals = record.get("totals") or {}
    return {
        "event": EVENT,
        "org_id": record["org_id"],
        "import_id": record["import_id"],
        "status": record["status"],
        "program_id": record.get("program_id"),
        "mode": record.get("mode"),
        "dry_run": bool(record.get("dry_run")),
        "totals": {k: int(v) for k, v in totals.items()},
        "error": record.get("error"),
        "created_by": record.get("created_by"),
        "finished_at": record.get("finished_at"),
        "report_key": record.get("report_key"),
        "revert_totals": {k: int(v) for k, v in (record.get("revert_totals") or {}).items()} or None,
        "reverted_at": record.get("reverted_at"),
        "revert_report_key": record.get("revert_report_key"),
    }


def tell_actor(record: Item) -> None:
    """Publish the outcome and e-mail the actor, once per ending (a retried task sends again only
    if the first try did not get as far as recording that it sent)."""
    if record.get("notified_at") == _ended_at(record):
        return
    settings = get_settings()
    text = summary(record)
    # The console has one bulk import screen (no page per import): the id rides along for it.
    link = console_link("imports", import_id=record["import_id"])
    url = "revert_report_url" if record.get("status") in REVERT_ENDS else "report_url"
    body = f"{text}\n\nThe report: GET /goodwill/bulk-imports/{record['import_id']} ({url}), or {link}\n"
    subject = f"Goodwill bulk import {record['status'].replace('_', ' ').lower()}"
    try:
        if settings.import_events_topic_arn:
            attributes = {"org_id": record["org_id"], "status": record["status"]}
            messages.publish(
                settings.import_events_topic_arn, subject, json.dumps(message(record), default=str), attributes
            )
        if record.get("actor_email"):
            messages.send_email(record["actor_email"], subject, body)
    except (ClientError, BotoCoreError) as exc:
        logger.warning(
            "the import's outcome could not be sent",
            extra={"import_id": record["import_id"], "to": mask_email(record.get("actor_email")), "error": str(exc)},
        )
    imports_records.update(
        record["org_id"],
        record["import_id"],
        {"notified_at": _ended_at(record) or now_iso()},
        {"status": record["status"]},
    )
