"""The revert's scan (reverts.files.write_chunks): the rows an import applied cut into chunks by
customer through bulk.partition's segments, one segment held at a time; each chunk reads its rows
back (chunk_rows) from its byte range of every segment."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from goodwill.repositories import import_files
from goodwill.reverts import files
from goodwill.reverts.apply import RevertRow

ROWS = 3_000
SEGMENT_ROWS = 200


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The import bucket, in memory."""
    stored: dict[str, bytes] = {}
    monkeypatch.setattr(import_files, "put_bytes", lambda key, body: stored.__setitem__(key, body))
    monkeypatch.setattr(import_files, "put_text", lambda key, text, *_: stored.__setitem__(key, text.encode()))
    monkeypatch.setattr(import_files, "get_ranges", lambda wanted: [stored[k][a:b] for k, a, b in wanted])
    monkeypatch.setattr(import_files, "get_text", lambda key: stored[key].decode() if key in stored else None)
    return stored


def _applied(read: list[int]) -> Iterator[RevertRow]:
    for n in range(1, ROWS + 1):
        read.append(n)
        email = '"odd, quoted"@x.org' if n % 50 == 0 else None  # a cell the CSV must quote
        yield RevertRow(n, f"c-{n % 700}", email, f"T{n:06d}")


def test_the_scan_holds_one_segment_and_every_row_lands_in_its_customers_chunk_once(
    bucket: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 3,000 applied rows of 700 customers, read as a stream, their segments' writes watched
    read: list[int] = []
    written_after: list[int] = []  # rows read from the stream when each segment was written
    put = import_files.put_bytes

    def watched(key: str, body: bytes) -> None:
        written_after.append(len(read))
        put(key, body)

    monkeypatch.setattr(import_files, "put_bytes", watched)

    # When the scan cuts them into chunks of about 500 rows
    count = files.write_chunks("acme", "imp", _applied(read), 500, SEGMENT_ROWS)

    # Then each segment was written as soon as it was full: never more than one held
    assert written_after == [SEGMENT_ROWS * (k + 1) for k in range(ROWS // SEGMENT_ROWS)]
    # ... and the chunks hold every row once, all of a customer's rows in one chunk
    specs: list[dict[str, Any]] = json.loads(bucket[files.chunks_key("acme", "imp")])
    assert count == len(specs) == 6
    chunks = [files.chunk_rows("acme", "imp", spec) for spec in specs]
    assert [len(c) for c in chunks] == [spec["rows"] for spec in specs]
    rows = [row for chunk in chunks for row in chunk]
    assert sorted(rows, key=lambda r: r.row) == list(_applied([]))
    homes = Counter(customer for chunk in chunks for customer in {r.customer_id for r in chunk})
    assert len(homes) == 700
    assert set(homes.values()) == {1}  # no customer in two chunks


def test_nothing_applied_is_no_chunk(bucket: dict[str, bytes]) -> None:
    assert files.write_chunks("acme", "imp", iter(()), 500, SEGMENT_ROWS) == 0
    assert bucket[files.chunks_key("acme", "imp")] == b"[]"


def test_a_chunk_list_written_before_segments_is_still_read(bucket: dict[str, bytes]) -> None:
    # A revert under way when the scan changed: its chunk list names one file per chunk
    bucket["work/acme/imp/revert/0000003.csv"] = b'7,c-1,,T7\n9,c-1,"a,b@x.org",T9\n'
    spec = {"index": 3, "key": "work/acme/imp/revert/0000003.csv", "rows": 2}
    assert files.chunk_rows("acme", "imp", spec) == [
        RevertRow(7, "c-1", None, "T7"),
        RevertRow(9, "c-1", "a,b@x.org", "T9"),
    ]
