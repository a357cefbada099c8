"""The tasks of the import workflow (statemachine/bulk_import.asl.json): scan the file, apply one
chunk, finish (report, totals, status, message), record a failure.

The scan reads the whole file once, before any row is applied: a bad header, bytes that are not
UTF-8, broken quoting or too many rows fail the import with nothing applied. It partitions the
rows by customer (imports.partition: e-mails resolved to customers first), about
IMPORT_CHUNK_ROWS rows a partition, and writes the partitions as a JSON list, which the
Distributed Map reads and fans out. Each chunk task applies one partition: every row of its
customers, in file order, so the file gives the result of applying it row by row. It writes its
part of the report, then a checkpoint: a resumed import skips finished chunks, and a chunk that
crashed half-way re-applies nothing (apply). The finish merges the parts back into file
order, one segment of the file at a time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from typing import Any, Final

from goodwill import clock
from goodwill.bulk import csvfile
from goodwill.bulk.apply import Job, apply_rows
from goodwill.bulk.csvfile import CsvFileError, ImportRules
from goodwill.bulk.notify import tell_actor
from goodwill.bulk.partition import Partition, parse_partition, partition_file
from goodwill.bulk.report import format_lines, report_part, segment_runs, slices_text
from goodwill.errors import GoodwillError
from goodwill.models.imports import FINAL_STATUSES, ImportStatus
from goodwill.observability import logger
from goodwill.repositories import import_files as files
from goodwill.repositories import imports_records, keys
from goodwill.repositories.table import Item
from goodwill.services.config import get_config
from goodwill.settings import get_settings

MAX_NOTIFY_ROWS: Final = 10_000  # notify_customers starts one notification workflow per row
BOM: Final = "\ufeff"  # the report opens as UTF-8 in spreadsheets, as "CSV UTF-8" files do


class ImportRefusedError(GoodwillError):
    """The import cannot run as asked (unknown program, too many rows to notify); nothing applied."""

    status_code = 422
    code = "IMPORT_REFUSED"


def require(org_id: str, import_id: str) -> Item:
    record = imports_records.get(org_id, import_id)
    if record is None:
        raise LookupError(f"import {import_id} of org {org_id} not found")
    return record


def fail(record: Item, error: str, *, resumable: bool = False, **extra: Any) -> Item:
    """End the import FAILED with `error` and tell the actor. A resumable failure (the workflow
    broke, not the file) keeps its checkpoints: a new delivery of the upload event resumes it."""
    finished = clock.now_iso()
    fields = {"status": ImportStatus.FAILED.value, "error": error, "finished_at": finished, "resumable": resumable}
    fields.update(extra)
    if not imports_records.update(record["org_id"], record["import_id"], fields, {"status": record["status"]}):
        return require(record["org_id"], record["import_id"])
    failed = {**record, **fields}
    logger.info("bulk import failed", extra={"import_id": record["import_id"], "error": error})
    tell_actor(failed)
    return failed


def current(
    org_id: str, import_id: str, attempt: int, status: ImportStatus = ImportStatus.RUNNING, counter: str = "attempt"
) -> Item | None:
    """The record, if this attempt (its number in `counter`) is the one running it in `status`: a
    stale attempt does nothing. A revert's attempts are `revert_attempt` in REVERTING."""
    record = require(org_id, import_id)
    if record["status"] != status.value or int(record.get(counter, 0)) != attempt:
        return None
    return record


def scan(org_id: str, import_id: str, attempt: int) -> dict[str, Any]:
    record = current(org_id, import_id, attempt)
    if record is None:
        return {"proceed": False}
    chunks_key = files.chunks_key(org_id, import_id)
    if record.get("chunks") and files.get_text(chunks_key) is not None:  # resumed: scanned before
        return {"proceed": True, "chunks_key": chunks_key, "header": record["header"], "chunks": record["chunks"]}
    try:
        config = get_config(org_id)
        if record["program_id"] not in config.programs:
            known = ", ".join(config.programs)
            raise ImportRefusedError(f"program {record['program_id']} is not one of the org's programs ({known})")
        snapshot = {
            "reasons": sorted(config.reason_codes()),
            "max_points": config.points.max_per_request,
            "allow_negative": config.points.allow_negative_balance,
            "now": clock.now_iso(),
        }
        body = files.read(record["upload_key"], record["etag"])
        found = partition_file(
            body,
            get_settings().import_chunk_rows,
            _rules(record, snapshot),
            lambda emails: _owners(org_id, emails),
            lambda segment, data: files.put_bytes(files.segment_key(org_id, import_id, segment), data),
            get_settings().import_segment_rows,
        )
        if record.get("notify_customers") and found.rows > MAX_NOTIFY_ROWS:
            raise ImportRefusedError(
                f"notify_customers is limited to {MAX_NOTIFY_ROWS} rows; the file has {found.rows}"
            )
    except (CsvFileError, ImportRefusedError, files.FileUnavailableError) as exc:
        fail(record, getattr(exc, "message", str(exc)))
        return {"proceed": False}
    files.put_text(chunks_key, json.dumps([p.to_dict() for p in found.partitions]), "application/json")
    fields = {
        "header": found.header,
        "chunks": len(found.partitions),
        "segments": found.segments,
        "rules": snapshot,
        "file_size": found.size,
        "totals": {"rows": found.rows, "applied": 0, "failed": 0},
    }
    imports_records.update(org_id, import_id, fields, {"status": ImportStatus.RUNNING.value, "attempt": attempt})
    chunks = len(found.partitions)
    logger.info("bulk import scanned", extra={"import_id": import_id, "rows": found.rows, "chunks": chunks})
    return {"proceed": True, "chunks_key": chunks_key, "header": found.header, "chunks": chunks}


def _owners(org_id: str, emails: Collection[str]) -> dict[str, str]:
    """The customer each e-mail names now (the org's e-mail claims), by e-mail."""
    claims = imports_records.batch_get((keys.email(org_id, e) for e in emails), ["customer_id"])
    owners = {}
    for address in emails:
        key = keys.email(org_id, address)
        claim = claims.get((key["PK"], key["SK"]))
        if claim:
            owners[address] = str(claim["customer_id"])
    return owners


def _rules(record: Item, snapshot: dict[str, Any]) -> ImportRules:
    """The rules every chunk checks rows against: those of the scan, so a retried chunk judges
    each row as the first run did (the org's reasons or limits may change meanwhile)."""
    return ImportRules(
        allowed_reasons=frozenset(snapshot["reasons"]),
        mode="SET" if record["mode"] == "SET" else "ADD",
        max_points=int(snapshot["max_points"]),
        max_rows=csvfile.MAX_ROWS,
        now=clock.parse_iso(snapshot["now"]),
    )


def process_chunk(org_id: str, import_id: str, header: str, spec_data: dict[str, Any]) -> dict[str, int]:
    spec = Partition.from_dict(spec_data)
    done = imports_records.get_checkpoint(org_id, import_id, spec.index)
    if done is not None:
        return {k: int(done[k]) for k in ("rows", "applied", "failed", "valid")}
    record = require(org_id, import_id)
    snapshot = record["rules"]
    job = Job(
        org_id=org_id,
        import_id=import_id,
        program_id=record["program_id"],
        mode=record["mode"],
        dry_run=bool(record.get("dry_run")),
        notify=bool(record.get("notify_customers")),
        actor=record["created_by"],
        allow_negative=bool(snapshot["allow_negative"]),
        expiry_days=get_config(org_id).points.default_expiry_days,
        reminder_days=get_config(org_id).points.expiry_reminder_days,
    )
    parsed = list(parse_partition(_segment_ranges(org_id, import_id, spec), _rules(record, snapshot), header))
    owners = {p.row.row: p.customer_id for p in parsed if p.customer_id}
    lines = apply_rows(job, [p.row for p in parsed], owners)
    part = files.part_key(org_id, import_id, spec.index)
    body, slices = report_part((p.segment, line) for p, line in zip(parsed, lines, strict=True))
    files.put_bytes(part, body)
    statuses = Counter(line.status for line in lines)
    counts = {
        "rows": len(lines),
        "applied": statuses["APPLIED"],
        "failed": statuses["FAILED"],
        "valid": statuses["VALID"],
    }
    checkpoint = {**counts, "part_key": part, "slices": slices_text(slices), "at": clock.now_iso()}
    imports_records.put_checkpoint(org_id, import_id, spec.index, checkpoint)
    return counts


def _segment_ranges(org_id: str, import_id: str, spec: Partition) -> list[tuple[int, list[bytes]]]:
    """The chunk's byte range of every segment (a small one each: fetched together)."""
    wanted = [(files.segment_key(org_id, import_id, segment), start, end) for segment, start, end in spec.ranges]
    return [(r[0], [body]) for r, body in zip(spec.ranges, files.get_ranges(wanted), strict=True)]


def finish(org_id: str, import_id: str, attempt: int) -> dict[str, Any]:
    record = require(org_id, import_id)
    if record["status"] in FINAL_STATUSES:  # a retried finish: only the message may be missing
        tell_actor(record)
        return {"status": record["status"]}
    if current(org_id, import_id, attempt) is None:
        return {"status": record["status"]}
    done = imports_records.checkpoints(org_id, import_id)
    if len(done) != int(record["chunks"]):
        raise RuntimeError(f"{len(done)} of {record['chunks']} chunks are done")
    totals = {k: sum(int(c[k]) for c in done) for k in ("rows", "applied", "failed")}
    if record.get("dry_run"):
        totals["valid"] = sum(int(c["valid"]) for c in done)
    report = files.report_key(org_id, import_id)
    first = (BOM + format_lines([], header=True)).encode()
    files.assemble(report, first, segment_runs(done, int(record.get("segments", 1)), files.get_range))
    status = ImportStatus.COMPLETED if totals["failed"] == 0 else ImportStatus.COMPLETED_WITH_ERRORS
    fields = {
        "status": status.value,
        "totals": totals,
        "report_key": report,
        "finished_at": clock.now_iso(),
        "error": None,
        "resumable": None,
    }
    if not imports_records.update(
        org_id, import_id, fields, {"status": ImportStatus.RUNNING.value, "attempt": attempt}
    ):
        return {"status": require(org_id, import_id)["status"]}
    tell_actor({**record, **fields})
    # A revert may have started since the record showed the import final: its files are its own.
    files.delete_prefix(files.work_prefix(org_id, import_id), keep=files.revert_prefix(org_id, import_id))
    logger.info("bulk import finished", extra={"import_id": import_id, "status": status.value, "totals": totals})
    return {"status": status.value, "totals": totals}


def record_failure(org_id: str, import_id: str, attempt: int, error: dict[str, Any] | None) -> dict[str, Any]:
    """The workflow could not go on (a chunk kept failing): FAILED, resumable."""
    record = current(org_id, import_id, attempt)
    if record is None:
        return {"status": require(org_id, import_id)["status"]}
    name, cause = _error_text(error or {})
    message = (
        f"the import stopped ({name}: {cause}); the rows applied so far stay applied, each once, "
        "and a new delivery of the upload event resumes the import where it stopped"
    )
    return {"status": fail(record, message, resumable=True)["status"]}


def _error_text(error: dict[str, Any]) -> tuple[str, str]:
    name = str(error.get("Error") or "States.TaskFailed")
    cause = str(error.get("Cause") or "")
    try:  # a Lambda error's cause is its JSON payload
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            cause = str(parsed.get("errorMessage") or cause)
    except ValueError:
        pass
    return name, cause[:300] or "no detail"
