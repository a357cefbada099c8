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
from collections.abc import Iterable, Sequence
from typing import Final, Literal, NamedTuple

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
