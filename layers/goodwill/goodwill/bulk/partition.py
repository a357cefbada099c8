"""Cut a bulk import file into partitions by customer, so each customer's rows apply in file order.

Chunks of consecutive rows, applied in parallel, would apply a customer's row 5,004 before its row 4
when they fall in different chunks: the file's outcome would depend on scheduling (a debit refused
that row-by-row application accepts). Instead, every row goes to a partition chosen by a hash of
its customer, and one worker applies a partition's rows in file order: the file gives the result
of applying it row by row, whatever runs in parallel.

A customer named by e-mail in some rows and by id in others is one customer: e-mails are resolved
(`resolve`, the caller's lookup of the org's e-mail claims) while the file is scanned, and the row
is placed by the customer id found. An e-mail that names nobody is placed by the e-mail itself (its
rows fail the same way wherever they are). The customer an e-mail names is fixed at the scan.

The scan streams the file once, in segments of `segment_rows` rows (memory is bounded by a
segment). Each segment is written once (`write`) with its rows grouped by hash bucket, each line
`row,customer_id,<the record as uploaded>`; a partition is a run of consecutive buckets, hence one
byte range per segment. A worker reads its ranges segment by segment: its rows, in file order.
Pure: no AWS in here (csvrows validates the rows).
"""

from __future__ import annotations

import csv
import zlib
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, NamedTuple

from goodwill.bulk.csvcolumns import EMAIL, ImportRules, InvalidRow, ValidRow
from goodwill.bulk.csvlines import CsvFileError, Lines, malformed, read_header
from goodwill.bulk.csvrows import check_row, context

BUCKETS: Final = 4096  # hash buckets; partitions are runs of them, sized by their row counts
SEGMENT_ROWS: Final = 25_000  # about 1.5 MB of a typical file: what the scan holds at once

Resolve = Callable[[Collection[str]], Mapping[str, str]]  # e-mails (lower case) -> customer ids
Write = Callable[[int, bytes], None]  # segment number, its bytes


@dataclass(frozen=True, slots=True)
class Partition:
    """One item of the Distributed Map: `rows` rows in byte ranges (segment, start, end)."""

    index: int
    rows: int
    ranges: tuple[tuple[int, int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "rows": self.rows, "ranges": [list(r) for r in self.ranges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Partition:
        ranges = tuple((int(s), int(a), int(b)) for s, a, b in data["ranges"])
        return cls(int(data["index"]), int(data["rows"]), ranges)


class PartitionScan(NamedTuple):
    header: str
    rows: int
    size: int
    segments: int
    partitions: list[Partition]


class _Capture:
    """The physical lines the csv reader takes, so each record is copied as uploaded."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line


def _identity(cells: list[str], id_index: int | None, email_index: int | None) -> tuple[str, str]:
    """(customer_id, e-mail to resolve) as the row names them; e-mails only when well formed."""
    if id_index is not None and id_index < len(cells) and (customer_id := cells[id_index].strip()):
        return customer_id, ""
    if email_index is not None and email_index < len(cells):
        address = cells[email_index].strip().lower()
        if len(address) <= 254 and EMAIL.fullmatch(address):
            return "", address
    return "", ""


class Segments:
    """Rows held until a segment is full, then written grouped by bucket (the import's scan, and
    the revert's, which cuts the rows an import applied into chunks the same way)."""

    def __init__(self, resolve: Resolve, write: Write) -> None:
        self.resolve, self.write = resolve, write
        self.pending: list[tuple[int, str, str, str]] = []  # row, customer_id, e-mail, record
        self.counts = array("q", [0]) * BUCKETS
        self.offsets: list[array[int]] = []  # per segment: where each bucket starts, and the end

    def flush(self) -> None:
        if not self.pending:
            return
        owners = self.resolve({email for _, _, email, _ in self.pending if email})
        buckets: list[list[str]] = [[] for _ in range(BUCKETS)]
        for row, customer_id, email, record in self.pending:
            owner = customer_id or owners.get(email, "")
            key = owner or (f"@{email}" if email else f"#{row}")
            bucket = zlib.crc32(key.encode()) % BUCKETS
            buckets[bucket].append(f"{row},{'' if customer_id else owner},{record}")
        self.pending = []
        parts: list[bytes] = []
        offsets = array("q", [0]) * (BUCKETS + 1)
        at = 0
        for bucket, lines in enumerate(buckets):
            offsets[bucket] = at
            if lines:
                data = "".join(lines).encode()
                parts.append(data)
                at += len(data)
                self.counts[bucket] += len(lines)
        offsets[BUCKETS] = at
        self.write(len(self.offsets), b"".join(parts))
        self.offsets.append(offsets)

    def partitions(self, rows_per_partition: int) -> list[Partition]:
        """Runs of consecutive buckets of about rows_per_partition rows each."""
        total = sum(self.counts)
        wanted = max(1, -(-total // rows_per_partition))
        cuts, held = [0], 0
        for bucket, count in enumerate(self.counts):
            held += count
            if held * wanted >= total * len(cuts) and len(cuts) < wanted:
                cuts.append(bucket + 1)
        cuts.append(BUCKETS)
        found: list[Partition] = []
        for low, high in pairwise(cuts):
            rows = sum(self.counts[low:high])
            if not rows:
                continue
            ranges = tuple(
                (segment, offsets[low], offsets[high])
                for segment, offsets in enumerate(self.offsets)
                if offsets[high] > offsets[low]
            )
            found.append(Partition(len(found), rows, ranges))
        return found


def partition_file(
    chunks: Iterable[bytes],
    rows_per_partition: int,
    rules: ImportRules,
    resolve: Resolve,
    write: Write,
    segment_rows: int = SEGMENT_ROWS,
) -> PartitionScan:
    """Read the whole file once: check its header and structure, count its rows, write its
    segments and return its partitions. File errors raise CsvFileError (nothing is applied)."""
    if rows_per_partition < 1 or segment_rows < 1:
        raise ValueError("rows_per_partition and segment_rows must be at least 1")
    source = Lines(chunks, at_file_start=True)
    capture = _Capture(source)
    reader = csv.reader(capture, strict=True)
    ctx = context(read_header(reader), rules, ())
    segments = Segments(resolve, write)
    row = 0
    try:
        capture.taken.clear()
        for cells in reader:
            record = "".join(capture.taken)
            capture.taken.clear()
            if not "".join(cells).strip():
                continue
            row += 1
            if row > rules.max_rows:
                raise CsvFileError(f"the file has more than {rules.max_rows} rows", reader.line_num)
            customer_id, email = _identity(cells, ctx.id_index, ctx.email_index)
            segments.pending.append((row, customer_id, email, record if record.endswith("\n") else record + "\n"))
            if len(segments.pending) >= segment_rows:
                segments.flush()
    except csv.Error as exc:
        raise malformed(exc, reader.line_num) from None
    if row == 0:
        raise CsvFileError("the file has a header but no rows")
    segments.flush()
    parts = segments.partitions(rows_per_partition)
    return PartitionScan(",".join(ctx.names), row, source.size, len(segments.offsets), parts)


class PartitionRow(NamedTuple):
    row: ValidRow | InvalidRow
    segment: int
    customer_id: str | None  # the customer a valid row's e-mail named at the scan


def parse_partition(
    ranges: Iterable[tuple[int, Iterable[bytes]]], rules: ImportRules, header: str
) -> Iterator[PartitionRow]:
    """Validate a partition's rows, read from its segments' byte ranges (segment, bytes), in
    file order. In SET mode a customer repeated by the same id or e-mail fails after its first row."""
    ctx = context(next(csv.reader([header]), []), rules, ())
    for segment, chunks in ranges:
        reader = csv.reader(Lines(chunks, at_file_start=False), strict=True)
        try:  # a range holds several buckets: file order within each, so sort them together
            records = sorted(((int(cells[0]), cells) for cells in reader), key=_first)
        except csv.Error as exc:  # the segments are ours: a broken one is a bug, not the upload
            raise RuntimeError(f"segment {segment} is not what the scan wrote: {exc}") from None
        for row, cells in records:
            yield PartitionRow(check_row(cells[2:], row, ctx), segment, cells[1] or None)


def _first(pair: tuple[int, list[str]]) -> int:
    return pair[0]
