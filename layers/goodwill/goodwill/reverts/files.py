"""The files of an import revert, in the import bucket (repositories.import_files):

    reports/{org_id}/{import_id}.csv            the import's report: the rows it applied (read)
    work/{org_id}/{import_id}/revert/chunks.json     the chunk list the Distributed Map reads
    work/{org_id}/{import_id}/revert/NNNNNNN.csv     a chunk's rows: row, customer_id, email, transaction_id
    work/{org_id}/{import_id}/revert/parts/...       a chunk run's report lines
    reports/{org_id}/{import_id}-revert.csv     the revert report (the import report's columns)

The scan cuts the applied rows by customer (a hash of the customer id picks the chunk), so every
row of a customer is in one chunk, reading the import report once as a stream.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from goodwill.repositories import import_files
from goodwill.reverts.apply import RevertRow

PARALLEL: Final = 16


def prefix(org_id: str, import_id: str) -> str:
    return import_files.work_prefix(org_id, import_id) + "revert/"


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


def write_chunks(org_id: str, import_id: str, rows: Iterator[RevertRow], chunk_rows: int, expected: int) -> int:
    """Cut `rows` into about expected / chunk_rows chunks by customer, write them and their list;
    the number of chunks (0: nothing to revert)."""
    count = max(1, -(-expected // max(chunk_rows, 1)))
    buffers = [io.StringIO() for _ in range(count)]
    sizes = [0] * count
    writers = [csv.writer(b, lineterminator="\n") for b in buffers]
    for row in rows:
        index = zlib.crc32(row.customer_id.encode()) % count
        writers[index].writerow([row.row, row.customer_id, row.email or "", row.transaction_id])
        sizes[index] += 1
    chunks = [
        {"index": i, "key": prefix(org_id, import_id) + f"{i:07d}.csv", "rows": sizes[i]}
        for i in range(count)
        if sizes[i]
    ]

    def put(chunk: dict[str, Any]) -> None:
        import_files.put_bytes(chunk["key"], buffers[chunk["index"]].getvalue().encode())

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(put, chunks))
    import_files.put_text(chunks_key(org_id, import_id), json.dumps(chunks), "application/json")
    return len(chunks)


def chunk_rows(key: str) -> list[RevertRow]:
    text = import_files.get_text(key)
    if text is None:
        raise LookupError(f"the revert chunk {key} is gone")
    return [RevertRow(int(r), c, e or None, t) for r, c, e, t in csv.reader(io.StringIO(text, newline=""))]
