"""POST /goodwill/bulk-imports/{import_id}/revert: start (or resume) undoing a finished import.

Only a COMPLETED or COMPLETED_WITH_ERRORS import that was not a dry run can be reverted, once:
the record moves to REVERTING with a condition on the status it had, so of two concurrent
requests one starts the revert and the other is 409 NOT_REVERTIBLE, like every later request.
The revert runs as an execution of the import's own workflow (`job: revert`), named after the
import and the revert's attempt: a start that is repeated starts nothing twice. A revert whose
workflow stopped (or whose start was lost) is resumed by the same request, as the next attempt.
"""

from __future__ import annotations

import re
from typing import Any, Final

from goodwill import clock
from goodwill.auth import Principal
from goodwill.errors import ConflictError, NotFoundError
from goodwill.models.imports import ImportStatus, RevertImportRequest
from goodwill.models.vocabulary import ID_PATTERN
from goodwill.observability import logger
from goodwill.repositories import imports_records, workflows
from goodwill.repositories.table import Item
from goodwill.services.config import get_config
from goodwill.settings import get_settings

REVERTIBLE: Final = frozenset({ImportStatus.COMPLETED.value, ImportStatus.COMPLETED_WITH_ERRORS.value})
REVERTED: Final = frozenset({ImportStatus.REVERTED.value, ImportStatus.REVERTED_WITH_ERRORS.value})


class NotRevertibleError(ConflictError):
    code = "NOT_REVERTIBLE"


def start(principal: Principal, import_id: str, body: RevertImportRequest) -> Item:
    """The import record as the revert left it (REVERTING)."""
    org_id = principal.org_id
    record = imports_records.get(org_id, import_id) if re.fullmatch(ID_PATTERN, import_id) else None
    if record is None:
        raise NotFoundError(f"import {import_id} not found")
    status = record["status"]
    if status == ImportStatus.REVERTING.value:
        return _resume(record)
    if status in REVERTED:
        raise NotRevertibleError(f"import {import_id} is reverted already ({status})")
    if status not in REVERTIBLE or record.get("dry_run"):
        what = "a dry run" if record.get("dry_run") else f"{status}"
        raise NotRevertibleError(f"only a finished import that applied rows can be reverted; this one is {what}")
    # After a revert that was given back, the next attempt: Step Functions keeps an execution's
    # name (here: the import's and the attempt's) for 90 days, so attempt 1 could not start again.
    attempt = int(record.get("revert_attempt") or 0) + 1
    fields = {
        "status": ImportStatus.REVERTING.value,
        "revert_from": status,
        "revert_attempt": attempt,
        "revert_id": clock.ulid(),
        "revert_by": principal.actor,
        "revert_comment": body.comment,
        "revert_started_at": clock.now_iso(),
        "revert_rules": {"allow_negative": get_config(org_id).points.allow_negative_balance},
        "revert_error": None,
    }
    if not imports_records.update(org_id, import_id, fields, {"status": status}):
        raise NotRevertibleError(f"import {import_id} is being reverted by another request")
    _start_execution(org_id, import_id, attempt)
    return {k: v for k, v in {**record, **fields}.items() if v is not None}


def _resume(record: Item) -> Item:
    """REVERTING: 409 while its execution runs; otherwise start it again (next attempt)."""
    org_id, import_id = record["org_id"], record["import_id"]
    attempt = int(record.get("revert_attempt") or 1)
    running = _execution_status(import_id, attempt)
    if running is None:  # the start was lost (the request failed after the record moved)
        _start_execution(org_id, import_id, attempt)
        return record
    if running in ("RUNNING", "SUCCEEDED"):
        raise NotRevertibleError(f"import {import_id} is being reverted")
    fields = {"revert_attempt": attempt + 1, "revert_error": None}
    if not imports_records.update(org_id, import_id, fields, {"status": record["status"], "revert_attempt": attempt}):
        raise NotRevertibleError(f"import {import_id} is being reverted by another request")
    _start_execution(org_id, import_id, attempt + 1)
    return {**record, "revert_attempt": attempt + 1}


def execution_name(import_id: str, attempt: int) -> str:
    return f"{import_id}-revert-{attempt}"


def _execution_status(import_id: str, attempt: int) -> str | None:
    return workflows.status(get_settings().import_state_machine_arn, execution_name(import_id, attempt))


def _start_execution(org_id: str, import_id: str, attempt: int) -> None:
    payload = {"job": "revert", "org_id": org_id, "import_id": import_id, "attempt": attempt}
    workflows.start(get_settings().import_state_machine_arn, execution_name(import_id, attempt), payload)
    logger.info("import revert started", extra=payload)


def view_fields(record: Item) -> dict[str, Any]:
    """What the import view shows of a revert (nothing when none was asked for)."""
    if not record.get("revert_id") and not record.get("revert_error"):
        return {}
    totals = record.get("revert_totals") or {}
    revert = {
        "requested_by": record.get("revert_by"),
        "comment": record.get("revert_comment"),
        "started_at": record.get("revert_started_at"),
        "finished_at": record.get("reverted_at"),
        "totals": {k: int(totals.get(k, 0)) for k in ("rows", "reversed", "failed", "skipped")},
        "error": record.get("revert_error"),
    }
    return {"revert": {k: v for k, v in revert.items() if v is not None}}
