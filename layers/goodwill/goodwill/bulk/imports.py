"""Bulk CSV imports: create one (presigned upload), read one, and react to an upload.

An upload starts (or resumes) the import workflow; which import it belongs to comes from its key
alone, imports/{org_id}/{name}.csv. The org is the key's and nothing else: a file elsewhere, or
for an org that does not exist, is ignored; a name that is an import id of the key's org is that
import (its settings were given to the API), any other name is a direct upload whose settings
are the object's metadata (x-amz-meta-program-id, -mode, -dry-run, -notify-customers, -actor,
-actor-email), one import per write of the key. An import takes the first file uploaded for it:
the same file again (a redelivered event, or the same bytes PUT again) never runs it twice but
resumes it if it stopped (FAILED with resumable: true), and a different file is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from goodwill import clock
from goodwill.auth import Principal
from goodwill.bulk import MAX_FILE_BYTES
from goodwill.errors import NotFoundError
from goodwill.models.imports import BulkImportCreateRequest, ImportMode, ImportSource, ImportStatus
from goodwill.models.vocabulary import ID_PATTERN
from goodwill.observability import logger
from goodwill.repositories import import_files as files
from goodwill.repositories import imports_records, orgs, workflows
from goodwill.repositories.table import Item, strip_keys
from goodwill.reverts.start import view_fields as revert_view
from goodwill.services.config import get_config
from goodwill.settings import get_settings

SHOWN: Final = (
    "import_id",
    "status",
    "program_id",
    "mode",
    "dry_run",
    "notify_customers",
    "source",
    "totals",
    "created_by",
    "created_at",
    "started_at",
    "finished_at",
    "error",
)
_PROGRAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_FLAGS: Final = {"": False, "false": False, "no": False, "0": False, "true": True, "yes": True, "1": True}


def create(principal: Principal, body: BulkImportCreateRequest) -> dict[str, Any]:
    if body.program_id not in get_config(principal.org_id).programs:
        raise NotFoundError(f"program {body.program_id} not found")
    import_id = clock.ulid()
    key = files.upload_key(principal.org_id, import_id)
    record = _new_record(principal.org_id, import_id, key, ImportSource.API)
    record.update(
        {
            "program_id": body.program_id,
            "mode": body.mode.value,
            "dry_run": body.dry_run,
            "notify_customers": body.notify_customers,
            "created_by": principal.actor,
            "actor_email": principal.email,
        }
    )
    imports_records.create(principal.org_id, record)
    expires = clock.iso(clock.now() + timedelta(seconds=files.URL_SECONDS))
    return {
        "import_id": import_id,
        "status": ImportStatus.AWAITING_UPLOAD.value,
        "upload_url": files.presign_upload(key),
        "upload_method": "PUT",
        "upload_headers": dict(files.UPLOAD_HEADERS),
        "upload_expires_at": expires,
    }


def _new_record(org_id: str, import_id: str, key: str, source: ImportSource) -> Item:
    return {
        "import_id": import_id,
        "org_id": org_id,
        "status": ImportStatus.AWAITING_UPLOAD.value,
        "source": source.value,
        "upload_key": key,
        "created_at": clock.iso(datetime.fromtimestamp(clock.ulid_ms(import_id) / 1000, tz=UTC)),
        "attempt": 0,
        "totals": {"rows": 0, "applied": 0, "failed": 0},
    }


def get(principal: Principal, import_id: str) -> dict[str, Any]:
    record = imports_records.get(principal.org_id, import_id) if re.fullmatch(ID_PATTERN, import_id) else None
    if record is None:
        raise NotFoundError(f"import {import_id} not found")
    return view(record)


def view(record: Item) -> dict[str, Any]:
    shown = {k: v for k, v in strip_keys(record).items() if k in SHOWN and v is not None}
    # rows, applied, failed (a dry run's valid rows are the rows that did not fail)
    shown["totals"] = {k: int((record.get("totals") or {}).get(k, 0)) for k in ("rows", "applied", "failed")}
    if record.get("report_key"):
        shown["report_url"] = files.presign_download(record["report_key"])
    shown.update(revert_view(record))
    if record.get("revert_report_key"):
        shown["revert_report_url"] = files.presign_download(record["revert_report_key"])
    return shown


# ---------------------------------------------------------------------------------- uploads


@dataclass(frozen=True)
class Upload:
    """One S3 ObjectCreated event record."""

    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_time: datetime
    uploader: str | None = None


def fail(record: Item, error: str, **extra: Any) -> Item:
    """bulk.run.fail, imported here on an upload only: the API's function (create, get) never runs
    the import, and bulk.run brings the whole pipeline (about a third of that function's cold start)."""
    from goodwill.bulk import run

    return run.fail(record, error, **extra)


def on_upload(upload: Upload) -> dict[str, Any]:
    """Start, resume or ignore the import an upload belongs to; what happened, for the log."""
    outcome: dict[str, Any] = {"key": upload.key}
    parsed = files.parse_upload_key(upload.key) if upload.bucket == files.bucket() else None
    if parsed is None:
        return {**outcome, "outcome": "IGNORED", "reason": "not an upload under imports/{org_id}/"}
    org_id, name = parsed
    record = imports_records.get(org_id, name) if re.fullmatch(ID_PATTERN, name) else None
    if record is None or record.get("upload_key") != upload.key:
        # A direct upload: taken only for an org that exists. An import created by the API is its
        # org's own (its first act may be an import: a migration before any customer or config).
        if not orgs.org_exists(org_id):
            return {**outcome, "outcome": "IGNORED", "reason": f"there is no org {org_id}"}
        record = _direct_upload(org_id, upload)
        if record["status"] == ImportStatus.FAILED.value and record.get("attempt") == 0:
            return {**outcome, "org_id": org_id, "import_id": record["import_id"], "outcome": "FAILED"}
    outcome.update({"org_id": org_id, "import_id": record["import_id"]})
    return {**outcome, **_start_or_resume(record, upload)}


def _direct_upload(org_id: str, upload: Upload) -> Item:
    """The import of a file put under imports/{org_id}/ without the API; one per upload event."""
    at_ms = int(upload.event_time.timestamp() * 1000)
    # S3 gives every write of a key its own sequencer, the same in a redelivered event (moto has
    # none: the ETag and the event time stand in for it)
    upload_id = upload.sequencer or f"{upload.etag}@{at_ms}"
    import_id = clock.ulid(at_ms=at_ms, seed=f"{upload.bucket}/{upload.key}#{upload_id}")
    found = imports_records.get(org_id, import_id)
    if found is not None:
        return found
    record = {**_new_record(org_id, import_id, upload.key, ImportSource.S3), "etag": upload.etag}
    try:
        meta, gone = files.head(upload.key, upload.etag)["metadata"], None
    except files.FileUnavailableError as exc:  # deleted or replaced before this event: fail, clearly
        meta, gone = {}, str(exc)
    settings, problems = _settings_from_metadata(meta, upload.uploader)
    problems = [gone] if gone else problems
    record.update(settings)
    if not imports_records.create(org_id, record):
        return imports_records.get(org_id, import_id) or record
    if problems:
        return fail(record, "; ".join(problems))
    return record


def _settings_from_metadata(meta: dict[str, str], uploader: str | None) -> tuple[dict[str, Any], list[str]]:
    def pick(*names: str) -> str:
        return next((meta[n].strip() for n in names if n in meta), "")

    problems = []
    program = pick("program-id", "program_id")
    if not _PROGRAM.fullmatch(program):
        problems.append("the upload has no valid program-id metadata (x-amz-meta-program-id)")
    mode = pick("mode").upper() or ImportMode.ADD.value
    if mode not in ImportMode.__members__:
        problems.append(f"mode metadata must be ADD or SET, not {mode[:20]!r}")
    flags = {}
    for field, names in (("dry_run", ("dry-run", "dry_run")), ("notify_customers", ("notify-customers",))):
        value = _FLAGS.get(pick(*names).lower())
        if value is None:
            problems.append(f"{names[0]} metadata must be true or false")
        flags[field] = bool(value)
    # Whoever may write the object writes its metadata: the actor is the principal S3 names in the
    # event, and no address from metadata is ever mailed (x-amz-meta-actor / -actor-email ignored).
    return (
        {
            "program_id": program[:40] or "-",
            "mode": mode if mode in ImportMode.__members__ else ImportMode.ADD.value,
            **flags,
            "created_by": (uploader or "s3-upload")[:128],
            "actor_email": None,
        },
        problems,
    )


def _start_or_resume(record: Item, upload: Upload) -> dict[str, Any]:
    org_id, import_id, status = record["org_id"], record["import_id"], record["status"]
    if status == ImportStatus.AWAITING_UPLOAD.value:
        if upload.size > MAX_FILE_BYTES:
            too_big = f"the file ({upload.size:,} bytes) is larger than the limit of {MAX_FILE_BYTES:,} bytes"
            fail(record, f"{too_big}: split it into several imports", etag=upload.etag)
            return {"outcome": "FAILED"}
        claim = {"status": ImportStatus.RUNNING.value, "etag": upload.etag, "attempt": 1, "started_at": clock.now_iso()}
        if imports_records.update(org_id, import_id, claim, {"status": status}):
            _start_execution(org_id, import_id, 1)
            return {"outcome": "STARTED"}
        record = imports_records.get(org_id, import_id) or record  # a twin delivery claimed it first
        status = record["status"]
    if record.get("etag") != upload.etag:
        seen = {"etag": upload.etag, "size": upload.size, "uploader": upload.uploader, "at": clock.now_iso()}
        imports_records.record_ignored_upload(org_id, import_id, seen)
        return {"outcome": "IGNORED", "reason": "the import already has its file; a different file came later"}
    attempt = int(record.get("attempt") or 0)
    if status == ImportStatus.RUNNING.value:
        running = _execution_status(import_id, attempt)
        if running in (None, "RUNNING", "SUCCEEDED"):
            started = running is None and _start_execution(org_id, import_id, attempt)
            return {"outcome": "STARTED" if started else "DUPLICATE"}
    elif not (status == ImportStatus.FAILED.value and record.get("resumable")):
        return {"outcome": "DUPLICATE"}
    fields = {"status": ImportStatus.RUNNING.value, "attempt": attempt + 1, "error": None, "finished_at": None}
    if not imports_records.update(org_id, import_id, fields, {"status": status, "attempt": attempt}):
        return {"outcome": "DUPLICATE"}
    _start_execution(org_id, import_id, attempt + 1)
    return {"outcome": "RESUMED"}


def execution_name(import_id: str, attempt: int) -> str:
    return f"{import_id}-{attempt}"


def _execution_status(import_id: str, attempt: int) -> str | None:
    return workflows.status(get_settings().import_state_machine_arn, execution_name(import_id, attempt))


def _start_execution(org_id: str, import_id: str, attempt: int) -> bool:
    payload = {"job": "import", "org_id": org_id, "import_id": import_id, "attempt": attempt}
    if not workflows.start(get_settings().import_state_machine_arn, execution_name(import_id, attempt), payload):
        return False
    logger.info("bulk import workflow started", extra=payload)
    return True
