"""The tasks of an import revert: the import's own workflow (statemachine/bulk_import.asl.json)
runs them when its execution input says `job: revert`: scan, one chunk per Distributed Map item,
finish, fail.

The scan reads the import report once and cuts the rows it APPLIED into chunks by customer
(reverts.files). Each chunk reverses its rows (reverts.apply), writes its report lines, then a
checkpoint: a resumed revert skips finished chunks, a chunk run again (a crash, a twin execution)
reverses nothing twice. The finish merges the parts into the revert report one segment of rows
(IMPORT_SEGMENT_ROWS row numbers) at a time, as the import's finish does (bulk.report), sets
REVERTED or REVERTED_WITH_ERRORS with the totals, and tells the actor as an import's end does.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Final

from goodwill import clock
from goodwill.bulk.notify import tell_actor
from goodwill.bulk.report import format_lines, report_part, segment_runs, slices_of, slices_text
from goodwill.bulk.run import current, require
from goodwill.models.imports import ImportStatus
from goodwill.observability import logger
from goodwill.repositories import import_files, imports_records, keys, pages, table
from goodwill.repositories.table import Item
from goodwill.reverts import files
from goodwill.reverts.apply import RevertJob, revert_rows
from goodwill.services.config import get_config
from goodwill.settings import get_settings

BOM: Final = "\ufeff"
STATUSES: Final = ("REVERSED", "FAILED", "SKIPPED")


def _current(org_id: str, import_id: str, attempt: int) -> Item | None:
    """The record, if this attempt is the one running the revert (a stale one does nothing)."""
    return current(org_id, import_id, attempt, ImportStatus.REVERTING, "revert_attempt")


def scan(org_id: str, import_id: str, attempt: int) -> dict[str, Any]:
    record = _current(org_id, import_id, attempt)
    if record is None:
        return {"proceed": False}
    chunks_key = files.chunks_key(org_id, import_id)
    if record.get("revert_chunks") is not None and import_files.get_text(chunks_key) is not None:
        return {"proceed": True, "chunks_key": chunks_key, "header": "", "chunks": int(record["revert_chunks"])}
    settings = get_settings()
    try:
        rows = files.applied_rows(str(record["report_key"]))
        chunks = files.write_chunks(org_id, import_id, rows, settings.import_chunk_rows, settings.import_segment_rows)
    except files.ReportGoneError as exc:
        _give_back(record, str(exc))
        return {"proceed": False}
    expect = {"status": ImportStatus.REVERTING.value, "revert_attempt": attempt}
    fields = {"revert_chunks": chunks, "revert_segment_rows": settings.import_segment_rows}
    imports_records.update(org_id, import_id, fields, expect)
    logger.info("import revert scanned", extra={"import_id": import_id, "chunks": chunks})
    return {"proceed": True, "chunks_key": chunks_key, "header": "", "chunks": chunks}


def _give_back(record: Item, error: str) -> None:
    """The revert cannot run at all: the import is as it was, with the reason (and its attempt
    kept, so that a later revert starts the next one)."""
    fields = {"status": record["revert_from"], "revert_error": error}
    expect = {"status": ImportStatus.REVERTING.value, "revert_attempt": record["revert_attempt"]}
    imports_records.update(record["org_id"], record["import_id"], fields, expect)
    logger.info("import revert refused", extra={"import_id": record["import_id"], "error": error})


def process_chunk(org_id: str, import_id: str, spec: dict[str, Any]) -> dict[str, int]:
    index = int(spec["index"])
    done = table.get(keys.revert_chunk(org_id, import_id, index))
    if done is not None:
        return {k: int(done[k]) for k in ("rows", *STATUSES)}
    record = require(org_id, import_id)
    job = RevertJob(
        org_id=org_id,
        import_id=import_id,
        program_id=record["program_id"],
        revert_id=record["revert_id"],
        actor=record["revert_by"],
        comment=record.get("revert_comment"),
        allow_negative=bool(record["revert_rules"]["allow_negative"]),
        config=get_config(org_id),
    )
    lines = revert_rows(job, files.chunk_rows(org_id, import_id, spec))
    part = files.part_key(org_id, import_id, index, clock.ulid())
    per_segment = int(record.get("revert_segment_rows") or get_settings().import_segment_rows)
    body, slices = report_part((line[0] // per_segment, line) for line in lines)  # lines in row order
    import_files.put_bytes(part, body)
    statuses = Counter(line[4] for line in lines)
    counts = {"rows": len(lines), **{s: statuses[s] for s in STATUSES}}
    checkpoint = {**counts, "part_key": part, "slices": slices_text(slices), "at": clock.now_iso()}
    table.put({**keys.revert_chunk(org_id, import_id, index), **checkpoint})
    return counts


def _checkpoints(org_id: str, import_id: str) -> list[Item]:
    partition = ("PK", keys.bulk_import(org_id, import_id)["PK"])
    found: list[Item] = []
    token: str | None = None
    while True:
        page = pages.query_page(partition, sort_prefix=("SK", keys.REVERT_CHUNK_PREFIX), limit=500, next_token=token)
        found.extend(page.items)
        token = page.next_token
        if not token:
            return found


def finish(org_id: str, import_id: str, attempt: int) -> dict[str, Any]:
    record = require(org_id, import_id)
    if record["status"] in (ImportStatus.REVERTED.value, ImportStatus.REVERTED_WITH_ERRORS.value):
        tell_actor(record)  # a retried finish: only the message may be missing
        return {"status": record["status"]}
    if _current(org_id, import_id, attempt) is None:
        return {"status": record["status"]}
    done = _checkpoints(org_id, import_id)
    if len(done) != int(record["revert_chunks"]):
        raise RuntimeError(f"{len(done)} of {record['revert_chunks']} revert chunks are done")
    totals = {"rows": sum(int(c["rows"]) for c in done)}
    totals.update({s.lower(): sum(int(c[s]) for c in done) for s in STATUSES})
    report = files.report_key(org_id, import_id)
    # The import's merge (bulk.report): the report assembled one segment of rows at a time.
    segments = 1 + max((s[0] for c in done for s in slices_of(c)), default=-1)
    runs = segment_runs(done, segments, import_files.get_range)
    import_files.assemble(report, (BOM + format_lines([], header=True)).encode(), runs)
    ok = totals["failed"] == 0
    status = ImportStatus.REVERTED if ok else ImportStatus.REVERTED_WITH_ERRORS
    fields: dict[str, Any] = {"status": status.value, "revert_totals": totals, "revert_report_key": report}
    fields.update({"reverted_at": clock.now_iso(), "revert_error": None})
    expect = {"status": ImportStatus.REVERTING.value, "revert_attempt": attempt}
    if not imports_records.update(org_id, import_id, fields, expect):
        return {"status": require(org_id, import_id)["status"]}
    tell_actor({**record, **fields})
    import_files.delete_prefix(files.prefix(org_id, import_id))
    logger.info("import reverted", extra={"import_id": import_id, "status": status.value, "totals": totals})
    return {"status": status.value, "totals": totals}


def record_failure(org_id: str, import_id: str, attempt: int, error: dict[str, Any] | None) -> dict[str, Any]:
    """The workflow could not go on (a chunk kept failing): still REVERTING, with the reason; the
    rows reversed so far stay reversed, each once, and POST .../revert again resumes the revert."""
    record = _current(org_id, import_id, attempt)
    if record is None:
        return {"status": require(org_id, import_id)["status"]}
    cause = json.dumps(error or {}, default=str)[:300]
    message = f"the revert stopped ({cause}); POST the revert again to resume it where it stopped"
    imports_records.update(org_id, import_id, {"revert_error": message}, {"revert_attempt": attempt})
    logger.info("import revert stopped", extra={"import_id": import_id})
    return {"status": record["status"]}
