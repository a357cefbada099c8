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
"""

from __future__ import annotations

import csv
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from hashlib import blake2b
from itertools import chain
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from goodwill import clock
from goodwill.errors import GoodwillError

if TYPE_CHECKING:
    from _csv import Reader

Mode = Literal["ADD", "SET"]

MAX_FILE_BYTES: Final = 200 * 1024 * 1024  # checked by the caller (S3 object size)
MAX_LINE_BYTES: Final = 1024 * 1024  # one physical line; bounds the memory of a broken file
MAX_ROWS: Final = 1_000_000
MAX_CELL_CHARS: Final = 1_000  # longer cells make the row invalid
DEFAULT_REASON: Final = "BULK_ADJUSTMENT"
DUPLICATE_CUSTOMER: Final = "customer appears more than once in a SET import"

# Same patterns as goodwill.models.common (a unit test keeps them equal); copied so that this
# module does not pull pydantic in.
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
EMAIL_PATTERN: Final = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_ID = re.compile(ID_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_BOOLEANS: Final = {"": True, "true": True, "yes": True, "1": True}
_BOOLEANS.update({"false": False, "no": False, "0": False})


class CsvFileError(GoodwillError):
    """The file as a whole cannot be imported; `line` is the physical line, when known."""

    status_code = 422
    code = "INVALID_FILE"

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message, [{"field": "file", "message": message}])
        self.line = line


class _RowError(ValueError):
    """One row is invalid; the message is written to the report."""


class _DuplicateError(_RowError):
    pass


class ValidRow(NamedTuple):
    row: int
    customer_id: str | None
    email: str | None
    points: int
    reason: str
    comment: str | None
    expires_at: str | None
    affects_tier: bool


class InvalidRow(NamedTuple):
    row: int
    customer_id: str | None
    email: str | None
    points_raw: str | None
    error: str


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRules:
    allowed_reasons: Set[str]
    mode: Mode = "ADD"
    max_points: int = 100_000  # ADD: |points|
    max_balance: int = 1_000_000_000  # SET: the new balance
    max_rows: int = MAX_ROWS
    now: datetime = field(default_factory=clock.now)  # expires_at must be later

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("ImportRules.now needs a timezone")


# ---- the row schema: one validator per column, (raw cell, rules) -> value or _RowError ----


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _customer_id(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if not value or (value.isalnum() and value.isascii() and len(value) <= 64):
        return value or None  # the common case, without the regex
    if _ID.fullmatch(value) is None:
        raise _RowError(f"customer_id: {_show(value)} is not an id (1-64 letters, digits, _.:@-)")
    return value


def _email(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if value and (len(value) > 254 or _EMAIL.fullmatch(value) is None):
        raise _RowError(f"email: {_show(value)} is not a valid e-mail address")
    return value.lower() or None


def _points(raw: str, rules: ImportRules) -> int:
    try:
        if not raw.isascii() or "_" in raw:  # int() takes 1_000 and non-ASCII digits
            raise ValueError(raw)
        points = int(raw)  # ignores surrounding spaces
    except ValueError:
        what = f"got {_show(raw.strip())}" if raw.strip() else "it is empty"
        raise _RowError(f"points: must be a whole number like 50 or -20 ({what})") from None
    if rules.mode == "ADD":
        if points == 0:
            raise _RowError("points: must not be 0")
        if abs(points) > rules.max_points:
            raise _RowError(f"points: must be between -{rules.max_points} and {rules.max_points}")
    elif not 0 <= points <= rules.max_balance:
        raise _RowError(f"points: the new balance must be between 0 and {rules.max_balance}")
    return points


def _reason(raw: str, rules: ImportRules) -> str:
    value = raw.strip().upper() or DEFAULT_REASON
    if value not in rules.allowed_reasons:
        raise _RowError(f"reason: {_show(value)} is not one of the org's reasons")
    return value


def _comment(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if len(value) > 500:
        raise _RowError("comment: must be at most 500 characters")
    return value or None


def _expires_at(raw: str, rules: ImportRules) -> str | None:
    value = raw.strip()
    if not value:
        return None
    moment = _utc(value)
    if moment is None:
        raise _RowError(f"expires_at: {_show(value)} is not a time like 2026-11-23T10:00:00Z")
    if moment[0] <= rules.now:
        raise _RowError("expires_at: must be in the future")
    return moment[1]


@lru_cache(maxsize=256)  # a file tends to repeat a few expiry times
def _utc(value: str) -> tuple[datetime, str] | None:
    """An ISO 8601 time with its UTC offset, in UTC (and as clock.iso writes it), else None."""
    try:
        moment = datetime.fromisoformat(value)
        utc = moment.astimezone(UTC) if moment.tzinfo else None
    except (ValueError, OverflowError):  # OverflowError: near year 1 or 9999
        return None
    return None if utc is None else (utc, utc.isoformat(timespec="milliseconds")[:-6] + "Z")


def _affects_tier(raw: str, rules: ImportRules) -> bool:
    value = _BOOLEANS.get(raw.strip().lower())
    if value is None:
        raise _RowError(f"affects_tier: {_show(raw.strip())} is not true/false/yes/no/1/0")
    return value


Check = Callable[[str, ImportRules], Any]

# Column -> validator; the order is ValidRow's field order. An absent column takes the default
# (see _check_row). Every validator refuses cells longer than MAX_CELL_CHARS.
SCHEMA: Final[dict[str, Check]] = {
    "customer_id": _customer_id,
    "email": _email,
    "points": _points,
    "reason": _reason,
    "comment": _comment,
    "expires_at": _expires_at,
    "affects_tier": _affects_tier,
}
_IDENTIFIERS: Final = ("customer_id", "email")
# ValidRow field of each non-identifier column (customer_id and email are checked together).
_FIELD = {name: at for at, name in enumerate(SCHEMA, start=1) if name not in _IDENTIFIERS}


@dataclass(slots=True)
class _Context:
    """What the rows of one file are checked against: its header, the rules, what was seen."""

    names: tuple[str, ...]
    id_index: int | None
    email_index: int | None
    points_index: int
    checks: tuple[tuple[int, int, Check], ...]  # (cell, ValidRow field, validator), not ids
    rules: ImportRules
    seen: _DigestSet | None  # SET mode only
    duplicate_rows: Set[int]  # found by a whole-file scan, for chunk workers


def _context(header: list[str], rules: ImportRules, duplicate_rows: Iterable[int]) -> _Context:
    names = [cell.strip().lower() for cell in header]
    _check_names(names)
    if "points" not in names:
        raise CsvFileError("the points column is required")
    if not any(name in names for name in _IDENTIFIERS):
        raise CsvFileError("a customer_id or email column is required")
    if "reason" not in names and DEFAULT_REASON not in rules.allowed_reasons:
        raise CsvFileError(f"a reason column is required: {DEFAULT_REASON} is not an org reason")
    index = {name: position for position, name in enumerate(names)}
    checks = [(at, _FIELD[name], SCHEMA[name]) for name, at in index.items() if name in _FIELD]
    return _Context(
        tuple(names),
        index.get("customer_id"),
        index.get("email"),
        index["points"],
        tuple(checks),
        rules,
        _DigestSet() if rules.mode == "SET" else None,
        frozenset(duplicate_rows),
    )


def _check_names(names: list[str]) -> None:
    if any(";" in name for name in names):
        raise CsvFileError("the cells are separated by ';': save the file as CSV UTF-8 (commas)")
    for position, name in enumerate(names, start=1):
        if not name:
            raise CsvFileError(f"column {position} of the header has no name")
        if name not in SCHEMA:
            raise CsvFileError(f"unknown column {name!r} (allowed: {', '.join(SCHEMA)})")
        if names.count(name) > 1:
            raise CsvFileError(f"column {name!r} appears more than once")


class _DigestSet:
    """The customers seen so far in a SET import: 8-byte blake2b digests, open addressing.

    Memory is 16-32 bytes per customer (the table stays 25-50 % full; 48 for a moment while it
    doubles): 16-32 MB for a million rows, where a Python set of ints needs ~70 MB. Two
    customers are mistaken for one only on a 64-bit digest collision (~3e-8 for a million
    customers); the digest, unlike hash(), is the same in every process, so scans and chunk
    workers agree.
    """

    __slots__ = ("_mask", "_size", "_table")

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._table = array("Q", [0]) * capacity
        self._mask = capacity - 1
        self._size = 0

    def add(self, key: str) -> bool:
        """Store the key; False when it was there already."""
        digest = int.from_bytes(blake2b(key.encode(), digest_size=8).digest()) or 1
        if not self._insert(digest):
            return False
        self._size += 1
        if self._size * 2 > self._mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        self._table = array("Q", [0]) * (2 * len(old))
        self._mask = 2 * len(old) - 1
        for held in old:
            if held:
                self._insert(held)

    def _insert(self, digest: int) -> bool:
        table, mask = self._table, self._mask
        slot = digest & mask
        while (held := table[slot]) != digest:
            if not held:
                table[slot] = digest
                return True
            slot = (slot + 1) & mask
        return False


def _claim(cells: list[str], row: int, ctx: _Context) -> tuple[str | None, str | None]:
    """Check the row's shape and customer; in SET mode the row claims its customer."""
    if len(cells) != len(ctx.names):
        raise _RowError(f"the row has {len(cells)} cells, the header {len(ctx.names)}")
    id_index, email_index, rules = ctx.id_index, ctx.email_index, ctx.rules
    customer_id = None if id_index is None else _customer_id(cells[id_index], rules)
    email = None if email_index is None else _email(cells[email_index], rules)
    if customer_id and email:
        raise _RowError("give customer_id or email, not both")
    if not (customer_id or email):
        raise _RowError("customer_id or email is required")
    if ctx.seen is not None:
        fresh = ctx.seen.add(f"id:{customer_id}" if customer_id else f"email:{email}")
        if not fresh or row in ctx.duplicate_rows:
            raise _DuplicateError(DUPLICATE_CUSTOMER)
    return customer_id, email


_new_valid_row = partial(tuple.__new__, ValidRow)  # ValidRow._make without its overhead


def _check_row(cells: list[str], row: int, ctx: _Context) -> ValidRow | InvalidRow:
    try:
        customer_id, email = _claim(cells, row, ctx)
        # ValidRow with the defaults of absent columns (points is always present).
        values = [row, customer_id, email, 0, DEFAULT_REASON, None, None, True]
        rules = ctx.rules
        for index, position, check in ctx.checks:
            values[position] = check(cells[index], rules)
        return _new_valid_row(values)
    except _RowError as exc:
        return _invalid_row(cells, row, ctx, str(exc))


def _invalid_row(cells: list[str], row: int, ctx: _Context, error: str) -> InvalidRow:
    if max(map(len, cells)) > MAX_CELL_CHARS:  # no validator accepts such a cell: say why
        error = f"a cell is longer than {MAX_CELL_CHARS} characters"

    def raw(index: int | None) -> str | None:
        return None if index is None or index >= len(cells) else cells[index].strip()[:100] or None

    return InvalidRow(row, raw(ctx.id_index), raw(ctx.email_index), raw(ctx.points_index), error)


def _skip_row(cells: list[str], row: int, ctx: _Context) -> bool:
    """A row outside the wanted range: only a SET import must remember its customer.
    True when the row repeats a customer."""
    if ctx.seen is not None:
        try:
            _claim(cells, row, ctx)
        except _DuplicateError:
            return True
        except _RowError:
            pass
    return False


# ---- bytes -> lines -> records ---------------------------------------------------------------

_LINE = re.compile(r"[^\n]*\n|[^\n]+")


class _Lines:
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


def _malformed(exc: csv.Error, line: int) -> CsvFileError:
    """Broken CSV syntax fails the whole file: the rows after it could be misread."""
    text = str(exc)
    message = next((why for key, why in _CSV_ERRORS.items() if key in text), text)
    return CsvFileError(f"the file is not valid CSV near line {line}: {message}", line)


def _read_header(reader: Reader) -> list[str]:
    try:
        for cells in reader:
            if "".join(cells).strip():
                return cells
    except csv.Error as exc:
        raise _malformed(exc, reader.line_num) from None
    raise CsvFileError("the file is empty")


def _records(reader: Reader, first_row: int, max_rows: int) -> Iterator[tuple[int, list[str]]]:
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
        raise _malformed(exc, reader.line_num) from None


# ---- the public entry points -----------------------------------------------------------------


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
    source = _Lines(chunks, at_file_start=header is None)
    reader = csv.reader(source, strict=True)
    cells = _read_header(reader) if header is None else next(csv.reader([header]), [])
    ctx = _context(cells, rules, duplicate_rows)
    records = _records(reader, 1 if header is None else start_row, rules.max_rows)
    return _rows(records, ctx, start_row, end_row, whole_file=header is None)


def _rows(
    records: Iterator[tuple[int, list[str]]],
    ctx: _Context,
    start_row: int,
    end_row: int | None,
    *,
    whole_file: bool,
) -> Iterator[ValidRow | InvalidRow]:
    row = 0
    for row, cells in records:
        if row < start_row:
            _skip_row(cells, row, ctx)
            continue
        yield _check_row(cells, row, ctx)
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
    source = _Lines(chunks, at_file_start=True)
    reader = csv.reader(source, strict=True)
    ctx = _context(_read_header(reader), rules, ())
    specs: list[ChunkSpec] = []
    start_row, start_byte, duplicates = 1, source.offset_after(reader.line_num), list[int]()
    row = 0
    for row, cells in _records(reader, 1, rules.max_rows):
        if _skip_row(cells, row, ctx):
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
