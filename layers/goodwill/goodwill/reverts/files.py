"""The files of an import revert, in the import bucket (repositories.import_files):

    reports/{org_id}/{import_id}.csv            the import's report: the rows it applied (read)
    work/{org_id}/{import_id}/revert/chunks.json     the chunk list the Distributed Map reads
    work/{org_id}/{import_id}/revert/segments/NNNNN.csv   the rows: row,,customer_id,email,transaction_id
    work/{org_id}/{import_id}/revert/parts/...       a chunk run's report lines
    reports/{org_id}/{import_id}-revert.csv     the revert report (the import report's columns)

The scan cuts the applied rows by customer (a hash of the customer id picks the chunk), so every
row of a customer is in one chunk, reading the import report once as a stream and holding one
segment of rows at a time (bulk.partition's Segments, as the import's scan does).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from goodwill.bulk.partition import Partition, Segments
from goodwill.repositories import import_files
from goodwill.reverts.apply import RevertRow


def prefix(org_id: str, import_id: str) -> str:
    return import_files.revert_prefix(org_id, import_id)


def chunks_key(org_id: str, import_id: str) -> str:
    return prefix(org_id, import_id) + "chunks.json"


def report_key(org_id: str, import_id: str) -> str:
    return f"reports/{org_id}/{import_id}-revert.csv"


def part_key(org_id: str, import_id: str, index: int, run: str) -> str:
    return prefix(org_id, import_id) + f"parts/{index:07d}-{run}.csv"


class ReportGoneError(Exception):
    """The import's report (the list of the rows it applied) is no longer there."""


def applied_rows(key: str) -> Iterator[RevertRow]:
    """The rows the import report lists as APPLIED, in row order, read as a stream."""
    lines = import_files.read_lines(key)
    if lines is None:
        raise ReportGoneError(f"the import's report {key} is gone (reports expire after 90 days)")
    text = (line.decode("utf-8-sig") for line in lines)
    for cells in csv.DictReader(text):
        if cells.get("status") == "APPLIED" and cells.get("transaction_id"):
            email = cells.get("email") or None
            yield RevertRow(int(cells["row"]), cells["customer_id"], email, cells["transaction_id"])


def segment_key(org_id: str, import_id: str, segment: int) -> str:
    return prefix(org_id, import_id) + f"segments/{segment:05d}.csv"


def write_chunks(org_id: str, import_id: str, rows: Iterator[RevertRow], chunk_rows: int, segment_rows: int) -> int:
    """Cut `rows` into chunks of about `chunk_rows` rows by customer, as the import's scan cuts its
    file (bulk.partition: segments of `segment_rows` rows, each written grouped by a hash of the
    customer; a chunk is a run of hash buckets, a byte range in each segment): memory holds one
    segment. Writes the segments and the chunk list; the number of chunks (0: nothing to revert)."""
    segments = Segments(
        lambda emails: {}, lambda n, data: import_files.put_bytes(segment_key(org_id, import_id, n), data)
    )
    for row in rows:
        record = io.StringIO()
        csv.writer(record, lineterminator="\n").writerow([row.customer_id, row.email or "", row.transaction_id])
        segments.pending.append((row.row, row.customer_id, "", record.getvalue()))
        if len(segments.pending) >= segment_rows:
            segments.flush()
    segments.flush()
    chunks = [p.to_dict() for p in segments.partitions(chunk_rows)] if segments.offsets else []
    import_files.put_text(chunks_key(org_id, import_id), json.dumps(chunks), "application/json")
    return len(chunks)


def chunk_rows(org_id: str, import_id: str, spec: dict[str, Any]) -> list[RevertRow]:
    """A chunk's rows, read from its byte range of each segment (lines `row,,customer_id,email,transaction_id`)."""
    if "key" in spec:  # a chunk list written before segments (a revert under way across the change)
        return _old_chunk(str(spec["key"]))
    chunk = Partition.from_dict(spec)
    bodies = import_files.get_ranges([(segment_key(org_id, import_id, s), a, b) for s, a, b in chunk.ranges])
    text = "".join(body.decode() for body in bodies)
    return [RevertRow(int(r), c, e or None, t) for r, _, c, e, t in csv.reader(io.StringIO(text, newline=""))]


def _old_chunk(key: str) -> list[RevertRow]:
    text = import_files.get_text(key)
    if text is None:
        raise LookupError(f"the revert chunk {key} is gone")
    return [RevertRow(int(r), c, e or None, t) for r, c, e, t in csv.reader(io.StringIO(text, newline=""))]
