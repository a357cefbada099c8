"""The import report: formula-safe cells and CSV lines."""

from __future__ import annotations

import csv
import io

import pytest

from goodwill.bulk.csvfile import InvalidRow, ValidRow
from goodwill.bulk.report import (
    REPORT_HEADER,
    ReportLine,
    escape_cell,
    failed_line,
    format_lines,
    valid_line,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\uff1dHYPERLINK()", "'\uff1dHYPERLINK()"),
        ("-", "'-"),
        ("-50+cmd|' /C calc'!A0", "'-50+cmd|' /C calc'!A0"),
        ("-50\n=1", "'-50\n=1"),
    ],
)
def test_escape_cell_formula_start_gets_an_apostrophe(value: str, expected: str) -> None:
    assert escape_cell(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-50", "-50"),
        ("+50", "+50"),
        ("-1.5", "-1.5"),
        (-50, "-50"),
        (7, "7"),
        ("c1", "c1"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (True, "true"),
    ],
)
def test_escape_cell_plain_value_is_unchanged(value: object, expected: str) -> None:
    assert escape_cell(value) == expected


def test_format_lines_writes_header_and_escaped_cells_with_crlf() -> None:
    # Given a failed row whose cells try formula injection, and an applied row
    lines = [
        ReportLine(1, "=cmd()", None, "+5", "FAILED", 'points: bad, "quoted"'),
        ReportLine(2, "c2", "ann@example.com", -50, "APPLIED", None, "01TXN"),
    ]
    # When formatted with the header
    text = format_lines(lines, header=True)
    # Then each line is CRLF-terminated CSV, and reads back to the escaped cells
    assert text.count("\r\n") == 3
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        REPORT_HEADER,
        ["1", "'=cmd()", "", "+5", "FAILED", 'points: bad, "quoted"', ""],
        ["2", "c2", "ann@example.com", "-50", "APPLIED", "", "01TXN"],
    ]


def test_format_lines_without_header_writes_only_the_lines() -> None:
    assert format_lines([ReportLine(3, "c3", None, 5, "VALID")]) == "3,c3,,5,VALID,,\r\n"


def test_failed_line_keeps_the_raw_cells_and_the_error() -> None:
    line = failed_line(InvalidRow(4, "c4", None, "1.5", "points: must be a whole number"))
    assert line == ReportLine(4, "c4", None, "1.5", "FAILED", "points: must be a whole number")


def test_valid_line_carries_status_and_transaction() -> None:
    row = ValidRow(5, None, "ann@example.com", 10, "REWARD", None, None, True)
    line = valid_line(row, "APPLIED", transaction_id="01TXN")
    assert line == ReportLine(5, None, "ann@example.com", 10, "APPLIED", None, "01TXN")
