"""The bulk import CSV parser: file errors, row errors, chunking and exactly-repeatable rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodwill import clock
from goodwill.bulk import csvfile
from goodwill.bulk.csvfile import (
    DUPLICATE_CUSTOMER,
    ChunkSpec,
    CsvFileError,
    ImportRules,
    InvalidRow,
    ValidRow,
    count_rows_and_offsets,
    parse,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REASONS = frozenset({"BULK_ADJUSTMENT", "REWARD", "CORRECTION"})
Row = ValidRow | InvalidRow


def rules(**changes: Any) -> ImportRules:
    return ImportRules(**{"allowed_reasons": REASONS, "now": NOW, **changes})


def as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    return (data[at : at + size] for at in range(0, len(data), size))


def rows_of(text: str | bytes, *, chunk: int = 1 << 20, **changes: Any) -> list[Row]:
    return list(parse(pieces(as_bytes(text), chunk), rules(**changes)))


def file_error(text: str | bytes, **changes: Any) -> CsvFileError:
    with pytest.raises(CsvFileError) as caught:
        rows_of(text, **changes)
    return caught.value


def valid(row: int, customer_id: str | None, points: int, **fields: Any) -> ValidRow:
    base = ValidRow(row, customer_id, None, points, "BULK_ADJUSTMENT", None, None, True)
    return base._replace(**fields)


# ---- file errors ---------------------------------------------------------------------------


def test_parse_empty_file_raises_file_error() -> None:
    # Given a file without bytes, or with only a BOM and blank lines
    for data in (b"", b"\xef\xbb\xbf\r\n\n"):
        # When it is parsed / Then the file is refused
        assert file_error(data).message == "the file is empty"


def test_parse_header_only_raises_file_error() -> None:
    error = file_error("customer_id,points\r\n\r\n,\r\n")
    assert error.message == "the file has a header but no rows"


def test_parse_header_errors_raise_before_any_row_is_read() -> None:
    # Given a file whose header is wrong, followed by rows
    data = b"customer_id,points,bonus\nc1,5,x\n"
    # When parse is called (not even iterated) / Then it raises
    with pytest.raises(CsvFileError, match="unknown column 'bonus'"):
        parse([data], rules())


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("customer_id,points,bonus", "unknown column 'bonus'"),
        ("customer_id,points,Points", "column 'points' appears more than once"),
        ("customer_id,reason", "the points column is required"),
        ("points,reason", "a customer_id or email column is required"),
        ("customer_id,,points", "column 2 of the header has no name"),
        ("customer_id;points", "separated by ';'"),
    ],
)
def test_parse_bad_header_raises_file_error(header: str, message: str) -> None:
    error = file_error(f"{header}\nc1,5,x\n")
    assert message in error.message


def test_parse_no_reason_column_and_default_reason_not_allowed_raises_file_error() -> None:
    error = file_error("customer_id,points\nc1,5\n", allowed_reasons=frozenset({"REWARD"}))
    assert "a reason column is required" in error.message


def test_parse_latin1_bytes_raises_file_error_naming_the_line() -> None:
    # Given a file saved as Latin-1 with an accent on line 3
    data = "customer_id,points,comment\nc1,5,ok\nc2,6,café\n".encode("latin-1")
    # When it is parsed, even one byte at a time
    with pytest.raises(CsvFileError) as caught:
        list(parse(pieces(data, 1), rules()))
    # Then the error names the line and tells how to fix it
    assert caught.value.message == "the file is not UTF-8 (line 3): save it as CSV UTF-8"
    assert caught.value.line == 3


def test_parse_nul_byte_raises_file_error() -> None:
    error = file_error(b"customer_id,points\nc1,5\x00\n")
    assert "NUL" in error.message
    assert error.line == 2


def test_parse_utf16_file_raises_file_error() -> None:
    error = file_error("customer_id,points\nc1,5\n".encode("utf-16"))
    assert "save it as CSV UTF-8" in error.message


def test_parse_cr_only_line_breaks_raise_file_error() -> None:
    error = file_error("customer_id,points\rc1,5\rc2,6\r")
    assert "CR only" in error.message


def test_parse_unclosed_quote_raises_file_error() -> None:
    error = file_error('customer_id,points,comment\nc1,5,"oops\nc2,6,x\n')
    assert "quote is not closed" in error.message


def test_parse_text_after_closing_quote_raises_file_error() -> None:
    error = file_error('customer_id,points,comment\nc1,5,"a"b\n')
    assert error.line == 2


def test_parse_more_rows_than_the_limit_raises_when_the_extra_row_is_reached() -> None:
    # Given a limit of 3 rows and a file of 4
    data = b"customer_id,points\nc1,1\nc2,2\nc3,3\nc4,4\n"
    rows = parse([data], rules(max_rows=3))
    # When it is read / Then the 3 rows come, and the 4th row raises
    assert [next(rows).row for _ in range(3)] == [1, 2, 3]
    with pytest.raises(CsvFileError, match="more than 3 rows"):
        next(rows)


def test_parse_exactly_the_row_limit_is_accepted() -> None:
    assert len(rows_of("customer_id,points\nc1,1\nc2,2\n", max_rows=2)) == 2


# ---- header and encoding tolerance ----------------------------------------------------------


def test_parse_bom_is_ignored() -> None:
    rows = rows_of(b"\xef\xbb\xbfcustomer_id,points\r\nc1,5\r\n")
    assert rows == [valid(1, "c1", 5)]


def test_parse_headers_in_any_case_and_order_are_accepted() -> None:
    # Given trimmed, mixed-case names in an unusual order
    data = " Reason ,COMMENT,Points, Customer_ID ,Affects_Tier\nreward,hi,7,c1,no\n"
    # When parsed / Then each cell lands in its own field
    assert rows_of(data) == [valid(1, "c1", 7, reason="REWARD", comment="hi", affects_tier=False)]


def test_parse_blank_lines_are_skipped_and_not_counted() -> None:
    rows = rows_of("customer_id,points\n\nc1,1\n\r\n , \n,\nc2,2")
    assert [(row.row, row.customer_id) for row in rows] == [(1, "c1"), (2, "c2")]


def test_parse_quoted_fields_keep_commas_and_line_breaks() -> None:
    data = 'customer_id,points,comment\r\n"c1",5,"late, sorry\r\nsee ""ticket"" 42"\r\nc2,6,\r\n'
    rows = rows_of(data)
    assert rows == [valid(1, "c1", 5, comment='late, sorry\r\nsee "ticket" 42'), valid(2, "c2", 6)]


def test_parse_one_byte_chunks_give_the_same_rows_as_one_chunk() -> None:
    # Given multi-byte characters, CRLF, quoted line breaks and a BOM
    data = '\ufeffcustomer_id,points,comment\r\nc1,5,"café ✓ 😀\r\nnext line"\r\nc2,-3,Ünïcødé\r\n'
    # When it arrives one byte at a time / Then nothing changes
    assert rows_of(data, chunk=1) == rows_of(data)
    assert rows_of(data, chunk=1)[0].comment == "café ✓ 😀\r\nnext line"  # type: ignore[union-attr]


def test_parse_last_line_without_line_break_is_read() -> None:
    assert rows_of("customer_id,points\nc1,5") == [valid(1, "c1", 5)]


# ---- row errors -------------------------------------------------------------------------------


def test_parse_mixed_rows_reports_each_bad_row_on_its_own() -> None:
    # Given good and bad rows mixed
    data = (
        "customer_id,email,points,reason\n"
        "c1,,10,\n"
        ",Ann@Example.COM,-5,correction\n"
        "c3,,1.5,\n"
        "c4,c4@example.com,5,\n"
        ",,5,\n"
        "bad id!,,5,\n"
        "c7,,5,NOPE\n"
        "c8,,5\n"
        "c9,,20,REWARD\n"
    )
    # When parsed
    rows = rows_of(data)
    # Then each row is judged alone and keeps its number
    assert rows[0] == valid(1, "c1", 10)
    assert rows[1] == ValidRow(2, None, "ann@example.com", -5, "CORRECTION", None, None, True)
    errors = {row.row: row.error for row in rows if isinstance(row, InvalidRow)}
    assert errors[3].startswith("points: must be a whole number")
    assert errors[4] == "give customer_id or email, not both"
    assert errors[5] == "customer_id or email is required"
    assert errors[6].startswith("customer_id: 'bad id!' is not an id")
    assert errors[7].startswith("reason: 'NOPE'")
    assert errors[8] == "the row has 3 cells, the header 4"
    assert rows[8] == valid(9, "c9", 20, reason="REWARD")


def test_parse_invalid_row_keeps_its_raw_cells_for_the_report() -> None:
    rows = rows_of("customer_id,points\n c1 , 1.5 \n")
    assert rows == [InvalidRow(1, "c1", None, "1.5", rows[0].error)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ("1.5", "whole number"),
        ('"1,000"', "whole number"),
        ("1_000", "whole number"),
        ("1e3", "whole number"),
        ("٣", "whole number"),
        ("", "it is empty"),
        ("0", "must not be 0"),
        ("100001", "between -100000 and 100000"),
        ("-100001", "between -100000 and 100000"),
    ],
)
def test_parse_add_points_not_a_valid_change_is_a_row_error(cell: str, error: str) -> None:
    (row,) = rows_of(f"customer_id,points\nc1,{cell}\n")
    assert isinstance(row, InvalidRow)
    assert error in row.error


@pytest.mark.parametrize(("cell", "points"), [("+7", 7), ("-7", -7), (" 42 ", 42), ("007", 7)])
def test_parse_add_points_signed_integers_are_accepted(cell: str, points: int) -> None:
    assert rows_of(f"customer_id,points\nc1,{cell}\n") == [valid(1, "c1", points)]


def test_parse_set_points_are_a_balance_of_zero_or_more() -> None:
    rows = rows_of("customer_id,points\nc1,0\nc2,-1\nc3,1000000001\n", mode="SET")
    assert rows[0] == valid(1, "c1", 0)
    assert [row.error for row in rows[1:]] == [  # type: ignore[union-attr]
        "points: the new balance must be between 0 and 1000000000"
    ] * 2


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("", True), ("true", True), ("YES", True), ("1", True), ("False", False), ("no", False)],
)
def test_parse_affects_tier_words_are_read(cell: str, expected: bool) -> None:
    (row,) = rows_of(f"customer_id,points,affects_tier\nc1,5,{cell}\n")
    assert isinstance(row, ValidRow)
    assert row.affects_tier is expected


def test_parse_affects_tier_other_word_is_a_row_error() -> None:
    (row,) = rows_of("customer_id,points,affects_tier\nc1,5,maybe\n")
    assert isinstance(row, InvalidRow)
    assert row.error.startswith("affects_tier:")


def test_parse_expires_at_in_the_future_is_normalised_to_utc() -> None:
    (row,) = rows_of("customer_id,points,expires_at\nc1,5,2026-06-30T23:30:00+02:00\n")
    assert isinstance(row, ValidRow)
    assert row.expires_at == "2026-06-30T21:30:00.000Z"
    assert row.expires_at == clock.iso(datetime(2026, 6, 30, 21, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ("2025-12-31T23:59:59Z", "must be in the future"),
        ("2026-01-01T00:00:00Z", "must be in the future"),
        ("2026-06-30T10:00:00", "is not a time"),
        ("2026-06-30", "is not a time"),
        ("next week", "is not a time"),
        ("9999-12-31T23:59:59-05:00", "is not a time"),
    ],
)
def test_parse_expires_at_past_or_without_timezone_is_a_row_error(cell: str, error: str) -> None:
    (row,) = rows_of(f"customer_id,points,expires_at\nc1,5,{cell}\n")
    assert isinstance(row, InvalidRow)
    assert error in row.error


def test_parse_comment_over_500_characters_is_a_row_error() -> None:
    rows = rows_of(f"customer_id,points,comment\nc1,5,{'x' * 500}\nc2,5,{'x' * 501}\n")
    assert isinstance(rows[0], ValidRow)
    assert rows[1] == InvalidRow(2, "c2", None, "5", "comment: must be at most 500 characters")


def test_parse_cell_over_the_length_limit_is_a_row_error() -> None:
    (row,) = rows_of(f"customer_id,points,reason\nc1,5,{'R' * 1001}\n")
    assert row == InvalidRow(1, "c1", None, "5", "a cell is longer than 1000 characters")


def test_parse_reason_is_upper_cased_and_defaults_to_bulk_adjustment() -> None:
    rows = rows_of("customer_id,points,reason\nc1,5,reward\nc2,5, \n")
    assert [row.reason for row in rows] == ["REWARD", "BULK_ADJUSTMENT"]  # type: ignore[union-attr]


# ---- SET imports: one row per customer ---------------------------------------------------------


def test_parse_set_customer_id_seen_before_is_a_row_error() -> None:
    rows = rows_of("customer_id,points\nc1,5\nc2,5\nc1,7\n", mode="SET")
    assert [type(row) for row in rows] == [ValidRow, ValidRow, InvalidRow]
    assert rows[2].error == DUPLICATE_CUSTOMER  # type: ignore[union-attr]


def test_parse_set_email_seen_before_in_another_case_is_a_row_error() -> None:
    rows = rows_of("email,points\nann@example.com,5\nANN@Example.com,7\n", mode="SET")
    assert rows[1] == InvalidRow(2, None, "ANN@Example.com", "7", DUPLICATE_CUSTOMER)


def test_parse_add_same_customer_twice_is_allowed() -> None:
    rows = rows_of("customer_id,points\nc1,5\nc1,7\n")
    assert all(isinstance(row, ValidRow) for row in rows)


def test_parse_set_many_customers_are_all_remembered() -> None:
    # Given 20,000 distinct customers (the seen-table grows several times), then a repeat
    lines = "".join(f"c{n},{n}\n" for n in range(20_000))
    rows = rows_of(f"customer_id,points\n{lines}c17,1\n", mode="SET")
    # Then only the repeat is refused
    assert [row.row for row in rows if isinstance(row, InvalidRow)] == [20_001]


# ---- row ranges and chunks -------------------------------------------------------------------

SAMPLE = (
    "\ufeffCustomer_ID,points,comment,email\r\n"
    "c1,5,,\r\n"
    "\r\n"
    'c2,6,"two\r\nlines, quoted",\r\n'
    "c1,7,again,\r\n"
    ",8,,x@example.com\r\n"
    "c5,bad,,\r\n"
    ",9,é😀,X@EXAMPLE.COM\r\n"
    "c7,10,,\r\n"
    "\r\n"
)


def test_parse_row_range_gives_the_same_rows_as_a_full_parse() -> None:
    data = SAMPLE.encode()
    for mode in ("ADD", "SET"):
        whole = list(parse([data], rules(mode=mode)))
        part = list(parse(pieces(data, 3), rules(mode=mode), start_row=3, end_row=6))
        assert part == whole[2:6]


def test_parse_row_range_stops_reading_after_end_row() -> None:
    consumed: list[bytes] = []

    def tracked(data: bytes) -> Iterator[bytes]:
        for piece in pieces(data, 10):
            consumed.append(piece)
            yield piece

    data = ("customer_id,points\n" + "c1,1\n" * 1000).encode()
    assert [row.row for row in parse(tracked(data), rules(), end_row=2)] == [1, 2]
    assert sum(map(len, consumed)) < 100


def chunked_rows(data: bytes, size: int, rows_per_chunk: int, rules: ImportRules) -> list[Row]:
    """What the chunk workers together produce: each reads only its byte range."""
    scan = count_rows_and_offsets(pieces(data, size), rows_per_chunk, rules)
    rows: list[Row] = []
    for spec in scan.chunks:
        part = data[spec.start_byte : spec.end_byte]
        rows += parse(
            pieces(part, size),
            rules,
            header=scan.header,
            start_row=spec.start_row,
            end_row=spec.end_row,
            duplicate_rows=spec.duplicate_rows,
        )
    return rows


@pytest.mark.parametrize("rows_per_chunk", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("mode", ["ADD", "SET"])
def test_chunks_by_byte_range_give_the_same_rows_as_a_full_parse(
    rows_per_chunk: int,
    mode: str,
) -> None:
    data = SAMPLE.encode()
    whole = list(parse([data], rules(mode=mode)))
    assert chunked_rows(data, 5, rows_per_chunk, rules(mode=mode)) == whole


def test_count_rows_and_offsets_cuts_at_record_boundaries() -> None:
    # Given the sample file cut every 2 rows
    data = SAMPLE.encode()
    scan = count_rows_and_offsets([data], 2, rules(mode="SET"))
    # Then the chunks cover the file after the header, in order, without gaps
    assert scan.header == "customer_id,points,comment,email"
    assert (scan.rows, scan.size) == (7, len(data))
    assert [(c.start_row, c.end_row) for c in scan.chunks] == [(1, 2), (3, 4), (5, 6), (7, 7)]
    assert scan.chunks[0].start_byte == len(SAMPLE.splitlines(keepends=True)[0].encode())
    assert [c.end_byte for c in scan.chunks[:-1]] == [c.start_byte for c in scan.chunks[1:]]
    assert scan.chunks[-1].end_byte == len(data)
    # And each SET duplicate is flagged in its chunk
    assert [c.duplicate_rows for c in scan.chunks] == [(), (3,), (6,), ()]


def test_count_rows_and_offsets_refuses_what_parse_refuses() -> None:
    with pytest.raises(CsvFileError, match="header but no rows"):
        count_rows_and_offsets([b"customer_id,points\n"], 10, rules())
    with pytest.raises(CsvFileError, match="more than 1 rows"):
        count_rows_and_offsets([b"customer_id,points\nc1,1\nc2,2\n"], 10, rules(max_rows=1))


def test_chunk_spec_round_trips_through_json_and_names_its_byte_range() -> None:
    spec = ChunkSpec(3, 101, 200, 5000, 9000, (150,))
    assert ChunkSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["duplicate_rows"] == [150]
    assert spec.byte_range == "bytes=5000-8999"


CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\0"),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["c1", "c2", "c3", "", "x y"]), st.integers(-3, 3), CELL),
        min_size=1,
        max_size=25,
    ),
    size=st.integers(1, 64),
    rows_per_chunk=st.integers(1, 6),
    mode=st.sampled_from(["ADD", "SET"]),
)
def test_chunks_of_any_file_give_the_same_rows_as_a_full_parse(
    rows: list[tuple[str, int, str]], size: int, rows_per_chunk: int, mode: str
) -> None:
    # Given any file (comments with quotes, commas, line breaks, any characters)
    lines = [f'{cid},{points},"{comment.replace('"', '""')}"\r\n' for cid, points, comment in rows]
    text = "customer_id,points,comment\r\n" + "".join(lines)
    data = text.encode()
    whole = list(parse([data], rules(mode=mode)))
    # When it arrives in pieces of any size, or is cut into chunks
    # Then the rows are the same
    assert list(parse(pieces(data, size), rules(mode=mode))) == whole
    assert chunked_rows(data, size, rows_per_chunk, rules(mode=mode)) == whole


# ---- guards ---------------------------------------------------------------------------------


def test_patterns_match_the_api_models() -> None:
    from goodwill.models import common

    assert csvfile.ID_PATTERN == common.ID_PATTERN
    (constraints,) = get_args(common.EmailAddress)[1:]
    assert constraints.pattern == csvfile.EMAIL_PATTERN


def test_import_rules_without_timezone_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ImportRules(allowed_reasons=REASONS, now=datetime(2026, 1, 1))


def test_parse_bad_row_range_is_refused() -> None:
    with pytest.raises(ValueError, match="bad row range"):
        parse([b""], rules(), start_row=5, end_row=4)
