"""Bulk CSV import files: stream, parse and validate them (pure: no AWS in here).

The caller hands over the file as an iterable of byte chunks (an S3 body read in pieces) and
gets one `ValidRow` or `InvalidRow` per data row. A problem with the file as a whole (not
UTF-8, a bad header, too many rows, broken quoting) raises `CsvFileError`. CSV syntax is
read strictly (a quote left open, text after a closing quote): such a mistake could shift every
later row, so it fails the file rather than one row.

Row numbers count the non-blank data records from 1 (the header is row 0). They depend only on
the file's bytes, so "row N of import X" names a row for exactly-once processing.
`count_rows_and_offsets` cuts a big file into `ChunkSpec`s; `parse(..., header=...)` reads one
chunk from a byte range of the object, and the chunks together give exactly the rows of a
whole-file parse.

The work is done by csvlines (bytes to records, file errors), csvcolumns (one validator per
column) and csvrows (a row against its header); the names callers need are re-exported here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

from goodwill.bulk import MAX_FILE_BYTES
from goodwill.bulk.csvcolumns import EMAIL_PATTERN, ID_PATTERN, ImportRules, InvalidRow, Mode, ValidRow
from goodwill.bulk.csvlines import MAX_ROWS, CsvFileError, Lines, read_header, records
from goodwill.bulk.csvrows import DUPLICATE_CUSTOMER, Context, check_row, context, skip_row

__all__ = [
    "DUPLICATE_CUSTOMER",
    "EMAIL_PATTERN",
    "ID_PATTERN",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ChunkSpec",
    "CsvFileError",
    "FileScan",
    "ImportRules",
    "InvalidRow",
    "Mode",
    "ValidRow",
    "count_rows_and_offsets",
    "parse",
]


@dataclass(frozen=True, slots=True)
class ChunkSpec:
    """Rows [start_row, end_row] live in bytes [start_byte, end_byte) of the object."""

    index: int
    start_row: int
    end_row: int
    start_byte: int
    end_byte: int
    duplicate_rows: tuple[int, ...] = ()  # SET mode: rows repeating a customer of any chunk

    @property
    def byte_range(self) -> str:
        """The HTTP Range header value for an S3 GetObject of this chunk."""
        return f"bytes={self.start_byte}-{self.end_byte - 1}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, e.g. an item of a Step Functions Map."""
        return {**asdict(self), "duplicate_rows": list(self.duplicate_rows)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkSpec:
        return cls(**{**data, "duplicate_rows": tuple(data.get("duplicate_rows", ()))})


class FileScan(NamedTuple):
    header: str  # pass to parse(header=...) for the chunks
    rows: int
    size: int
    chunks: list[ChunkSpec]


def parse(
    chunks: Iterable[bytes],
    rules: ImportRules,
    *,
    start_row: int = 1,
    end_row: int | None = None,
    header: str | None = None,
    duplicate_rows: Iterable[int] = (),
) -> Iterator[ValidRow | InvalidRow]:
    """Validate the rows [start_row, end_row] of a CSV import file.

    Without `header`, `chunks` is the whole file: the header is read and checked right here
    (CsvFileError before any row), and the rows before start_row are only counted. With
    `header` (FileScan.header), `chunks` starts at a ChunkSpec's start_byte and its first
    record is row start_row; pass the spec's duplicate_rows in SET mode. Later file errors
    (bad UTF-8, too many rows, no rows at all) raise from the iterator.
    """
    if start_row < 1 or (end_row is not None and end_row < start_row):
        raise ValueError(f"bad row range {start_row}..{end_row}")
    source = Lines(chunks, at_file_start=header is None)
    reader = csv.reader(source, strict=True)
    cells = read_header(reader) if header is None else next(csv.reader([header]), [])
    ctx = context(cells, rules, duplicate_rows)
    numbered = records(reader, 1 if header is None else start_row, rules.max_rows)
    return _rows(numbered, ctx, start_row, end_row, whole_file=header is None)


def _rows(
    numbered: Iterator[tuple[int, list[str]]],
    ctx: Context,
    start_row: int,
    end_row: int | None,
    *,
    whole_file: bool,
) -> Iterator[ValidRow | InvalidRow]:
    row = 0
    for row, cells in numbered:
        if row < start_row:
            skip_row(cells, row, ctx)
            continue
        yield check_row(cells, row, ctx)
        if row == end_row:
            return
    if whole_file and row == 0:
        raise CsvFileError("the file has a header but no rows")


def count_rows_and_offsets(
    chunks: Iterable[bytes],
    rows_per_chunk: int,
    rules: ImportRules,
) -> FileScan:
    """Read the whole file once: check its header and structure, count its rows and cut it
    into chunks of rows_per_chunk rows, each starting at a record boundary (a line start outside
    quotes). In SET mode each chunk lists its rows that repeat an earlier customer."""
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    source = Lines(chunks, at_file_start=True)
    reader = csv.reader(source, strict=True)
    ctx = context(read_header(reader), rules, ())
    specs: list[ChunkSpec] = []
    start_row, start_byte, duplicates = 1, source.offset_after(reader.line_num), list[int]()
    row = 0
    for row, cells in records(reader, 1, rules.max_rows):
        if skip_row(cells, row, ctx):
            duplicates.append(row)
        if row - start_row + 1 == rows_per_chunk:
            end = source.offset_after(reader.line_num)
            specs.append(ChunkSpec(len(specs), start_row, row, start_byte, end, (*duplicates,)))
            start_row, start_byte, duplicates = row + 1, end, []
    if row == 0:
        raise CsvFileError("the file has a header but no rows")
    if start_row <= row:
        specs.append(ChunkSpec(len(specs), start_row, row, start_byte, 0, (*duplicates,)))
    # The last chunk runs to the end of the file (trailing blank lines included).
    specs[-1] = replace(specs[-1], end_byte=source.size)
    return FileScan(",".join(ctx.names), row, source.size, specs)
