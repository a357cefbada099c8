"""Bulk CSV import files as bytes: UTF-8 lines, CSV records, and the errors of a file as a whole.

`Lines` turns the file's byte chunks into physical lines and knows the byte offset of each line
end (what a chunk's byte range needs); `read_header` and `records` read the csv module's records
from them, numbering the non-blank ones. A problem with the file as a whole (not UTF-8, a line
too long, too many rows, broken quoting) raises `CsvFileError`. Pure: no AWS in here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import TYPE_CHECKING, Final

from goodwill.errors import GoodwillError

if TYPE_CHECKING:
    from _csv import Reader

MAX_LINE_BYTES: Final = 1024 * 1024  # one physical line; bounds the memory of a broken file
MAX_ROWS: Final = 1_000_000
# A cell may be as long as its line: one past the csv module's default (128 Ki characters) reaches
# its row's own check (at most 1,000) and fails that row alone, not the file. A quote never closed
# still fails the file, once its cell passes this bound or the file ends. Every reader of the
# import's files (the upload, its segments, reports) imports this module.
csv.field_size_limit(MAX_LINE_BYTES)


class CsvFileError(GoodwillError, status_code=422, code="INVALID_FILE"):
    """The file as a whole cannot be imported; `line` is the physical line, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, [{"field": "file", "message": message}])
        self.line = line


_LINE = re.compile(r"[^\n]*\n|[^\n]+")


class Lines:
    """The physical lines of a UTF-8 byte stream, each with its LF (a CRLF line keeps its CR).

    Bytes are cut after the last LF received so far, so each block decodes on its own (an LF is
    never part of a multi-byte character): a decoding error names its line, and the byte offset
    of a line end is known, which is what ChunkSpec needs.
    """

    def __init__(self, chunks: Iterable[bytes], *, at_file_start: bool) -> None:
        self._chunks = chunks
        self._bom = at_file_start
        self.size = 0  # bytes decoded so far; the file size once the lines are exhausted
        self._lines = 0  # lines in the blocks before the current one
        self._block = b""
        self._block_start = 0
        self._block_lines = 0
        self._cursor = (0, 0)  # (lines, bytes) of the current block located by offset_after

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._decoded())

    def offset_after(self, line: int) -> int:
        """The byte offset just after physical line `line`, which must be in the current block."""
        lines, position = self._cursor
        while lines < line - self._lines:
            end = self._block.find(b"\n", position)
            position = len(self._block) if end < 0 else end + 1
            lines += 1
        self._cursor = (lines, position)
        return self._block_start + position

    def _decoded(self) -> Iterator[list[str]]:
        for block in self._blocks():
            lines = _LINE.findall(self._decode(block))
            start, self.size = self.size, self.size + len(block)
            if lines:
                self._lines += self._block_lines
                self._block, self._block_start, self._block_lines = block, start, len(lines)
                self._cursor = (0, 0)
                yield lines

    def _decode(self, block: bytes) -> str:
        before = self._lines + self._block_lines
        try:
            text = block.decode()
        except UnicodeDecodeError as exc:
            line = before + block.count(b"\n", 0, exc.start) + 1
            message = f"the file is not UTF-8 (line {line}): save it as CSV UTF-8"
            raise CsvFileError(message, line) from None
        if "\0" in text:  # e.g. a UTF-16 file
            line = before + block.count(b"\n", 0, block.index(b"\0")) + 1
            raise CsvFileError(f"the file has a NUL byte (line {line}): save it as CSV UTF-8", line)
        if self._bom:
            self._bom = False
            return text.removeprefix("\ufeff")
        return text

    def _blocks(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        waiting = 0
        for chunk in self._chunks:
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                pending.append(chunk)
                waiting += len(chunk)
                if waiting > MAX_LINE_BYTES:
                    raise self._too_long(pending)
                continue
            pending.append(chunk[:cut] if cut < len(chunk) else chunk)
            yield b"".join(pending)
            pending = [chunk[cut:]]
            waiting = len(chunk) - cut
        if waiting:
            yield b"".join(pending)

    def _too_long(self, pending: list[bytes]) -> CsvFileError:
        line = self._lines + self._block_lines + 1
        if any(b"\r" in part for part in pending):
            why = "its line breaks are CR only (old Mac format)"
        else:
            why = f"line {line} is longer than {MAX_LINE_BYTES} bytes"
        return CsvFileError(f"the file is not a CSV file: {why}; save it as CSV UTF-8", line)


# The csv module's complaints (strict mode), in the words of someone editing a spreadsheet.
_CSV_ERRORS: Final = {
    "new-line": "a line break is CR only (old Mac format); save the file as CSV UTF-8",
    "field larger": "a cell is far too long, or a quote is not closed",
    "unexpected end": "a quote is not closed by the end of the file",
    "expected after": 'a quoted cell goes on after its closing quote (write a quote as "")',
}


def malformed(exc: csv.Error, line: int) -> CsvFileError:
    """Broken CSV syntax fails the whole file: the rows after it could be misread."""
    text = str(exc)
    message = next((why for key, why in _CSV_ERRORS.items() if key in text), text)
    return CsvFileError(f"the file is not valid CSV near line {line}: {message}", line)


def read_header(reader: Reader) -> list[str]:
    try:
        for cells in reader:
            if "".join(cells).strip():
                return cells
    except csv.Error as exc:
        raise malformed(exc, reader.line_num) from None
    raise CsvFileError("the file is empty")


def records(reader: Reader, first_row: int, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records, numbered from first_row."""
    row = first_row - 1
    try:
        for cells in reader:
            if "".join(cells).strip():
                row += 1
                if row > max_rows:
                    raise CsvFileError(f"the file has more than {max_rows} rows", reader.line_num)
                yield row, cells
    except csv.Error as exc:
        raise malformed(exc, reader.line_num) from None
