"""The report merge of an import's or a revert's finish (bulk.report.segment_runs): many chunk
parts, each in row order, merged back into one file in row order while holding one segment's
lines at a time, never every part at once."""

from __future__ import annotations

import zlib
from typing import Any

from goodwill.bulk.report import format_lines, merge_runs, report_part, segment_runs, slices_of, slices_text

ROWS = 6_000
CHUNKS = 60
PER_SEGMENT = 250  # row numbers a segment: 24 segments
Line = tuple[int, str, str | None, int, str, str | None, str]


def _lines() -> list[Line]:
    # formula-like cells too: merging must not escape them twice, nor unescape them
    return [
        (n, f"c-{n % 1_500}", "=cmd@x.org" if n % 97 == 0 else None, -(n % 40), "REVERSED", None, f"T{n:08d}")
        for n in range(1, ROWS + 1)
    ]


def _parts() -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The chunk checkpoints and parts as the revert writes them: rows cut by customer, each
    part in row order."""
    by_chunk: dict[int, list[Line]] = {}
    for line in _lines():
        by_chunk.setdefault(zlib.crc32(line[1].encode()) % CHUNKS, []).append(line)
    done, bodies = [], {}
    for index, lines in sorted(by_chunk.items()):
        key = f"parts/{index:07d}.csv"
        bodies[key], slices = report_part((line[0] // PER_SEGMENT, line) for line in lines)
        done.append({"part_key": key, "slices": slices})
    return done, bodies


def test_the_merge_is_the_whole_merge_and_holds_one_segment_at_a_time() -> None:
    # Given 60 chunk parts of 6,000 report lines, 24 segments
    parts, bodies = _parts()
    segments = ROWS // PER_SEGMENT + 1
    read: list[tuple[str, int, int]] = []  # every range read since the last block came out
    held: list[int] = []  # slices read (and so in memory) for each block, when it came out
    bytes_held: list[int] = []

    def fetch(key: str, start: int, end: int) -> bytes:
        read.append((key, start, end))
        return bodies[key][start:end]

    # When the report is merged one block at a time, as the finish's assembler takes them
    blocks = []
    for block in segment_runs(parts, segments, fetch):
        held.append(len(read))
        bytes_held.append(sum(end - start for _, start, end in read))
        rows = {int(r.split(",", 1)[0]) // PER_SEGMENT for r in block.decode().splitlines()}
        assert len(rows) <= 1  # each block is one segment's lines
        read.clear()
        blocks.append(block)

    # Then the report is byte for byte the unbounded merge (every part read whole, merged at once)
    whole = merge_runs(bodies[p["part_key"]] for p in parts)
    assert b"".join(blocks) == whole
    assert whole == format_lines(_lines()).encode()
    # ... and the reader never held more than one slice of each part, all of one segment
    assert len(blocks) == segments
    assert max(held) <= CHUNKS
    assert sum(held) == sum(len(p["slices"]) for p in parts)
    largest = max(len(format_lines(s).encode()) for s in _segments())
    assert max(bytes_held) == largest
    assert largest * 10 < len(whole)


def _segments() -> list[list[Line]]:
    found: dict[int, list[Line]] = {}
    for line in _lines():
        found.setdefault(line[0] // PER_SEGMENT, []).append(line)
    return list(found.values())


def test_a_part_without_lines_in_a_segment_and_an_empty_report_merge_to_what_they_hold() -> None:
    one, slices = report_part([(3, (7, "c-1", None, 5, "REVERSED", None, "T1"))])
    assert slices == [[3, 0, len(one)]]
    parts = [{"part_key": "p", "slices": slices}]
    found = list(segment_runs(parts, 5, lambda key, start, end: one[start:end]))
    assert found == [b"", b"", b"", one, b""]
    assert list(segment_runs([], 2, lambda key, start, end: b"")) == [b"", b""]


def test_checkpoints_store_their_slices_as_one_string_and_merge_the_same() -> None:
    # Given the parts' checkpoints as the finish reads them now (slices as one string, the list of
    # numbers was ~30 MiB of attribute values at 1M rows) and as older chunks wrote them (lists)
    parts, bodies = _parts()
    as_text = [{**p, "slices": slices_text(p["slices"])} for p in parts]
    assert all(isinstance(p["slices"], str) for p in as_text)
    assert [list(slices_of(p)) for p in as_text] == [sorted(map(tuple, p["slices"])) for p in parts]
    segments = ROWS // PER_SEGMENT + 1

    def fetch(key: str, start: int, end: int) -> bytes:
        return bodies[key][start:end]

    # When both are merged, and a mix of both (an import upgraded between its chunks)
    mixed = [t if i % 2 else p for i, (p, t) in enumerate(zip(parts, as_text, strict=True))]
    merged = [b"".join(segment_runs(done, segments, fetch)) for done in (parts, as_text, mixed)]
    # Then each is the whole report, byte for byte
    assert merged == [format_lines(_lines()).encode()] * 3
    assert slices_text([[2, 10, 20], [0, 0, 10]]) == "0:0:10 2:10:20"  # in segment order
