"""The import report: one CSV line per data row, safe to open in a spreadsheet.

Cells that a spreadsheet would run as a formula (OWASP "CSV injection": a leading =, +, -, @,
tab or carriage return) get a leading apostrophe, which spreadsheets show as text. Plain
numbers such as -50 are left alone. Lines end with CRLF (RFC 4180, what Excel writes).
"""

from __future__ import annotations

import csv
import heapq
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from typing import Any, Final, Literal, NamedTuple

from goodwill.bulk.csvfile import InvalidRow, ValidRow

Status = Literal["APPLIED", "FAILED", "VALID"]

REPORT_HEADER: Final = [
    "row",
    "customer_id",
    "email",
    "points",
    "status",
    "error",
    "transaction_id",
]

# ASCII triggers from OWASP, plus their full-width forms, which some spreadsheets also accept.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
PARALLEL_READS: Final = 16  # report slices the finish fetches at once


class ReportLine(NamedTuple):
    row: int
    customer_id: str | None
    email: str | None
    points: int | str | None  # the raw cell when it was not a number
    status: Status
    error: str | None = None
    transaction_id: str | None = None


def failed_line(row: InvalidRow) -> ReportLine:
    """The line of a row that did not pass validation."""
    return ReportLine(row.row, row.customer_id, row.email, row.points_raw, "FAILED", row.error)


def valid_line(
    row: ValidRow,
    status: Status,
    *,
    error: str | None = None,
    transaction_id: str | None = None,
) -> ReportLine:
    """The line of a valid row: VALID (dry run), APPLIED, or FAILED when applying it failed."""
    cells = (row.row, row.customer_id, row.email, row.points)
    return ReportLine(*cells, status, error, transaction_id)


def escape_cell(value: object) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would take it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) and _PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


def format_lines(lines: Iterable[Sequence[object]], *, header: bool = False) -> str:
    """CSV text (CRLF line ends) for report lines, each cell escaped; with the header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(REPORT_HEADER)
    writer.writerows([escape_cell(cell) for cell in line] for line in lines)
    return buffer.getvalue()


def merge_runs(runs: Iterable[bytes]) -> bytes:
    """Report lines of several runs (format_lines output, each in row order) as one run in row
    order: the lines of one stretch of the file, gathered from the partitions that applied them."""
    present = [run for run in runs if run]
    if len(present) <= 1:
        return b"".join(present)
    readers = [csv.reader(io.StringIO(run.decode(), newline="")) for run in present]
    buffer = io.StringIO()
    # The cells are escaped already; the writer only quotes them again as CSV needs.
    merged = heapq.merge(*readers, key=_row_number)
    csv.writer(buffer, lineterminator="\r\n").writerows(merged)
    return buffer.getvalue().encode()


def _row_number(cells: list[str]) -> int:
    return int(cells[0])


def report_part(lines: Iterable[tuple[int, Sequence[object]]]) -> tuple[bytes, list[list[int]]]:
    """A chunk's report part from its lines, each with its segment (a stretch of the file; the
    lines in row order), and where each segment's lines are in it: [segment, start, end]."""
    blocks: list[bytes] = []
    slices: list[list[int]] = []
    at = 0
    for segment, group in groupby(lines, key=lambda pair: pair[0]):
        block = format_lines([line for _, line in group]).encode()
        blocks.append(block)
        slices.append([segment, at, at + len(block)])
        at += len(block)
    return b"".join(blocks), slices


Fetch = Callable[[str, int, int], bytes]  # bytes [start, end) of a part


def slices_text(slices: Iterable[Sequence[int]]) -> str:
    """A part's slices as its checkpoint stores them: "segment:start:end ...", in segment order.
    One string attribute, not a list of numbers: at 1M rows the finish reads 200 checkpoints of
    ~200 slices, which as lists were 120,000 attribute values (~30 MiB while their page was read)."""
    return " ".join(f"{s}:{a}:{b}" for s, a, b in sorted(slices, key=lambda one: one[0]))


_SLICE = re.compile(r"(\d+):(\d+):(\d+)")


def slices_of(checkpoint: Mapping[str, Any]) -> Iterator[tuple[int, int, int]]:
    """A checkpoint's slices in segment order, read as needed (a checkpoint written before
    slices_text holds a list of [segment, start, end])."""
    raw = checkpoint.get("slices") or ""
    if isinstance(raw, str):
        return ((int(m[1]), int(m[2]), int(m[3])) for m in _SLICE.finditer(raw))
    return iter(sorted(((int(s), int(a), int(b)) for s, a, b in raw), key=lambda one: one[0]))


class _Cursor:
    """One part's slices, taken segment by segment (they come in segment order)."""

    def __init__(self, checkpoint: Mapping[str, Any]) -> None:
        self.part = str(checkpoint["part_key"])
        self._slices = slices_of(checkpoint)
        self._head = next(self._slices, None)

    def take(self, segment: int) -> list[tuple[str, int, int]]:
        taken = []
        while self._head is not None and self._head[0] <= segment:
            if self._head[0] == segment:
                taken.append((self.part, self._head[1], self._head[2]))
            self._head = next(self._slices, None)
        return taken


def segment_runs(done: Sequence[Mapping[str, Any]], segments: int, fetch: Fetch) -> Iterator[bytes]:
    """The report's lines segment by segment, in row order, merged from the chunks' parts (each
    checkpoint in `done` names its `part_key` and `slices`): memory holds one segment's lines,
    not the file's, however many chunks and rows there are. Each part's slices are walked once
    (a cursor a part), not every part's for every segment."""
    cursors = [_Cursor(c) for c in done]
    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        for segment in range(segments):
            wanted = [w for cursor in cursors for w in cursor.take(segment)]
            yield merge_runs(pool.map(lambda w: fetch(*w), wanted))
